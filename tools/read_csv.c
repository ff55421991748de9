/*
 * The text reader (read.h): one row per line, numbers separated by commas,
 * semicolons, tabs or blanks (detected on the first line that is neither
 * blank nor a '#' comment, or given with --delimiter); an optional header row
 * (recognised by content or forced with --header) and index column (named
 * by an empty first header field, as pandas writes it, or --index-col).
 * The rules are in otk.1, section INPUT FILES.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "read.h"

/* A growing array of the values read so far. */
typedef struct {
    double *values;
    size_t count, capacity;
} value_buffer;

static int value_buffer_push(value_buffer *buf, double value)
{
    if (buf->count == buf->capacity) {
        size_t capacity = buf->capacity ? 2 * buf->capacity : 1024;
        double *grown = capacity > SIZE_MAX / sizeof *grown
                            ? NULL
                            : realloc(buf->values, capacity * sizeof *grown);
        if (!grown)
            return -1;
        buf->values = grown;
        buf->capacity = capacity;
    }
    buf->values[buf->count++] = value;
    return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Copy the offending text for a message: printable ASCII as is, anything else
 * as \xNN (so a binary file does not garble the terminal), cut after 40. */
static void quote_token(const char *begin, const char *end, char *dst, size_t cap)
{
    size_t k = 0;
    const char *p = begin;
    for (; p < end && k + 5 < cap && p - begin < 40; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x7f && c != '"')
            dst[k++] = (char)c;
        else
            k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", c);
    }
    if (p < end && k + 4 < cap) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
}

/* How one file is being read. */
typedef struct {
    const char *name;
    char delim;     /* ',', ';', '\t' or ' ' (runs of blanks) */
    int index_col;  /* skip the first field of every row */
    long header_fields; /* fields of the header row (index included); 0: no header */
    size_t header_line;
} text_format;

/* Blanks that may surround a field: a tab is one only when it is not the
 * delimiter. */
static int is_padding(const text_format *f, char c) { return c == ' ' || (c == '\t' && f->delim != '\t'); }

/* The end of the field starting at p: the next delimiter (a blank for ' ')
 * or the end of the line, before trailing padding. */
static const char *field_end(const text_format *f, const char *p)
{
    const char *end = p;
    if (f->delim == ' ') {
        while (*end && !is_blank(*end))
            end++;
        return end;
    }
    while (*end && *end != f->delim)
        end++;
    while (end > p && is_padding(f, end[-1]))
        end--;
    return end;
}

static const char *delimiter_words(char delim)
{
    return delim == ',' ? "','" : delim == ';' ? "';'" : delim == '\t' ? "a tab" : "a blank";
}

/* Whether the field at p starts with a number as strtod reads it ("1.5",
 * also "1.5abc", a typo that is better reported than taken for a header). */
static int starts_with_number(const char *p)
{
    char *after;
    (void)strtod(p, &after);
    return after > p;
}

/* The number of fields of a row; double quotes protect delimiters (pandas
 * quotes a column name that contains one). */
static long count_fields(const text_format *f, const char *line)
{
    long fields = 0;
    const char *p = line;
    if (f->delim == ' ') {
        for (;;) {
            while (is_blank(*p))
                p++;
            if (!*p)
                return fields;
            fields++;
            int quoted = 0;
            while (*p && (quoted || !is_blank(*p)))
                quoted ^= *p++ == '"';
        }
    }
    int quoted = 0;
    for (fields = 1; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == f->delim && !quoted)
            fields++;
    }
    return fields;
}

/* Parse the numbers of one line into `buf`; returns the number of columns
 * (the index not counted), or -1 after reporting an error at
 * name:line:column. */
static long parse_row(const text_format *f, size_t line_no, const char *line, value_buffer *buf)
{
    char token[200];
    long cols = 0;
    int first = 1;
    const char *p = line;
    for (;; first = 0) {
        while (is_padding(f, *p))
            p++;
        const size_t column = (size_t)(p - line) + 1;
        if (first && f->index_col) {
            /* An index may hold anything (pandas writes labels too). */
            p = field_end(f, p);
            while (is_padding(f, *p))
                p++;
            if (*p == '\0') {
                cli_error("%s:%zu: the row has only its index column", f->name, line_no);
                return -1;
            }
            if (f->delim != ' ')
                p++;
            continue;
        }
        if (*p == '\0' || *p == f->delim) {
            cli_error("%s:%zu:%zu: expected a number, found %s", f->name, line_no, column,
                      *p == '\0' ? "end of line" : f->delim == '\t' ? "a tab" : *p == ',' ? "\",\"" : "\";\"");
            return -1;
        }
        char *after;
        /* Overflow gives ±HUGE_VAL, caught as non-finite below; underflow
         * to 0 or a subnormal is a fine reading of the text. */
        const double value = strtod(p, &after);
        const char *q = after;
        while (is_padding(f, *q))
            q++;
        if (after == p || (q == after && *q != f->delim && *q != '\0')) {
            /* Not a number, or a number glued to junk ("1.5abc"). */
            quote_token(p, field_end(f, p), token, sizeof token);
            cli_error("%s:%zu:%zu: expected a number, found \"%s\"", f->name, line_no, column,
                      token);
            return -1;
        }
        if (f->delim != ' ' && *q != f->delim && *q != '\0') {
            /* Two numbers separated by blanks only ("1 2") in a file that
             * uses another delimiter. */
            quote_token(q, field_end(f, q), token, sizeof token);
            cli_error("%s:%zu:%zu: expected %s or the end of the line, found \"%s\"", f->name,
                      line_no, (size_t)(q - line) + 1, delimiter_words(f->delim), token);
            return -1;
        }
        if (!isfinite(value)) {
            /* The solvers reject NaN and ±Inf anyway; saying where it is helps. */
            quote_token(p, after, token, sizeof token);
            cli_error("%s:%zu:%zu: \"%s\" is not a finite number", f->name, line_no, column,
                      token);
            return -1;
        }
        if (value_buffer_push(buf, value) < 0) {
            cli_error("%s:%zu: out of memory after %zu values", f->name, line_no, buf->count);
            return -1;
        }
        cols++;
        if (*q == '\0')
            return cols;
        p = f->delim == ' ' ? q : q + 1; /* past the delimiter: another number must follow */
    }
}

/* The first line that holds data decides what was not given: the delimiter
 * (',' then ';' then a tab, else blanks), and in CLI_HEADER_AUTO whether it
 * is a header (its first field empty or not starting with a number) and, for a header,
 * whether there is an index column (an empty first field). */
static void detect_format(text_format *f, const cli_read_options *opt, const char *line,
                          size_t line_no)
{
    if (!f->delim)
        f->delim = strchr(line, ',') ? ',' : strchr(line, ';') ? ';' : strchr(line, '\t') ? '\t' : ' ';
    const char *p = line;
    while (is_padding(f, *p))
        p++;
    const char *end = field_end(f, p);
    const int empty_first = f->delim != ' ' && p == end;
    if (opt->header == CLI_HEADER_YES || empty_first || !starts_with_number(p)) {
        f->header_fields = count_fields(f, line);
        f->header_line = line_no;
        if (empty_first)
            f->index_col = 1;
    }
}

int cli_parse_text(const char *name, const char *text, size_t len, const cli_read_options *opt,
                   cli_matrix *mat)
{
    static const cli_read_options defaults = {CLI_HEADER_AUTO, 0, 0};
    if (!opt)
        opt = &defaults;
    mat->rows = mat->cols = 0;
    mat->values = NULL;
    text_format f = {name, opt->delimiter, opt->index_col, 0, 0};
    int format_known = 0;
    value_buffer buf = {NULL, 0, 0};
    char *line = NULL;
    size_t line_cap = 0, line_no = 0, rows = 0;
    long cols = 0;
    size_t pos = 0;
    /* A UTF-8 byte-order mark, as spreadsheet exports write, is invisible. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len) {
        line_no++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *begin = text + pos;
        pos += line_len + (nl != NULL);
        /* Strip the line end, LF or CRLF. */
        while (line_len > 0 && begin[line_len - 1] == '\r')
            line_len--;
        if (memchr(begin, '\0', line_len)) {
            cli_error("%s:%zu: the line contains a NUL byte (is this a binary file?)", name,
                      line_no);
            goto fail;
        }
        if (line_len + 1 > line_cap) {
            char *grown = realloc(line, line_len + 1);
            if (!grown) {
                cli_error("%s:%zu: out of memory for a line of %zu bytes", name, line_no, line_len);
                goto fail;
            }
            line = grown;
            line_cap = line_len + 1;
        }
        memcpy(line, begin, line_len);
        line[line_len] = '\0';
        const char *start = line;
        while (is_blank(*start))
            start++;
        if (*start == '\0' || *start == '#')
            continue;
        if (!format_known) {
            format_known = 1;
            detect_format(&f, opt, line, line_no);
            if (f.header_fields)
                continue;
        }
        const long row_cols = parse_row(&f, line_no, line, &buf);
        if (row_cols < 0)
            goto fail;
        if (rows == 0) {
            cols = row_cols;
            const long fields = row_cols + (f.index_col ? 1 : 0);
            if (f.header_fields && f.header_fields != fields) {
                cli_error("%s:%zu: the header (line %zu) has %ld field%s, this row %ld", name,
                          line_no, f.header_line, f.header_fields,
                          f.header_fields == 1 ? "" : "s", fields);
                goto fail;
            }
        } else if (row_cols != cols) {
            cli_error("%s:%zu: row has %ld column%s, expected %ld", name, line_no, row_cols,
                      row_cols == 1 ? "" : "s", cols);
            goto fail;
        }
        rows++;
    }
    if (rows == 0) {
        cli_error("%s: no numbers found", name);
        goto fail;
    }
    free(line);
    mat->rows = rows;
    mat->cols = (size_t)cols;
    mat->values = buf.values;
    return 0;
fail:
    free(line);
    free(buf.values);
    return -1;
}
