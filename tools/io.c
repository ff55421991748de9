/* otk's readers (CSV, .npy) and atomic writers (see io.h). */
#define _POSIX_C_SOURCE 200809L /* getline, mkstemp, fsync, fchmod, umask */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "io.h"

/* ------------------------------------------------------------------ tables */

void cli_matrix_free(cli_matrix *mat)
{
    if (!mat)
        return;
    free(mat->values);
    mat->values = NULL;
    mat->rows = mat->cols = 0;
}

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

/* The name used in messages: "-" reads standard input. */
static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* ------------------------------------------------------------------ CSV */

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

/* The field starting at `p`: up to the next comma or the end of the line,
 * without trailing blanks. */
static const char *field_end(const char *p)
{
    const char *end = p;
    while (*end && *end != ',')
        end++;
    while (end > p && is_blank(end[-1]))
        end--;
    return end;
}

/* Parse the numbers of one line into `buf`; returns the number of columns, or
 * -1 after reporting an error at name:line:column. */
static long parse_csv_line(const char *name, size_t line_no, const char *line, int first_row,
                           value_buffer *buf)
{
    char token[200];
    long cols = 0;
    const char *p = line;
    for (;;) {
        while (is_blank(*p))
            p++;
        const size_t column = (size_t)(p - line) + 1;
        if (*p == '\0' || *p == ',') {
            cli_error("%s:%zu:%zu: expected a number, found %s", name, line_no, column,
                      *p ? "\",\"" : "end of line");
            return -1;
        }
        char *after;
        /* Overflow gives ±HUGE_VAL, caught as non-finite below; underflow
         * to 0 or a subnormal is a fine reading of the text. */
        const double value = strtod(p, &after);
        const char *q = after;
        while (is_blank(*q))
            q++;
        if (after == p || (*q != ',' && *q != '\0' && q == after)) {
            /* Not a number, or a number glued to junk ("1.5abc"). */
            quote_token(p, field_end(p), token, sizeof token);
            const int looks_like_header =
                first_row && cols == 0 && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
            cli_error("%s:%zu:%zu: expected a number, found \"%s\"%s", name, line_no, column, token,
                      looks_like_header ? " (a header line must start with '#')" : "");
            return -1;
        }
        if (*q != ',' && *q != '\0') {
            /* Two numbers separated by blanks only ("1 2"). */
            quote_token(q, field_end(q), token, sizeof token);
            cli_error("%s:%zu:%zu: expected ',' or the end of the line, found \"%s\"", name,
                      line_no, (size_t)(q - line) + 1, token);
            return -1;
        }
        if (!isfinite(value)) {
            /* The solvers reject NaN and ±Inf anyway; saying where it is helps. */
            quote_token(p, after, token, sizeof token);
            cli_error("%s:%zu:%zu: \"%s\" is not a finite number", name, line_no, column, token);
            return -1;
        }
        if (value_buffer_push(buf, value) < 0) {
            cli_error("%s:%zu: out of memory after %zu values", name, line_no, buf->count);
            return -1;
        }
        cols++;
        if (*q == '\0')
            return cols;
        p = q + 1; /* past the comma: another number must follow */
    }
}

static int read_csv(FILE *in, const char *name, cli_matrix *mat)
{
    value_buffer buf = {NULL, 0, 0};
    char *line = NULL;
    size_t line_cap = 0, line_no = 0, rows = 0;
    long cols = 0;
    ssize_t len;
    while ((len = getline(&line, &line_cap, in)) >= 0) {
        line_no++;
        /* Strip the line end, LF or CRLF. */
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        const char *text = line;
        /* A UTF-8 byte-order mark, as spreadsheet exports write, is invisible. */
        if (line_no == 1 && strncmp(text, "\xef\xbb\xbf", 3) == 0)
            text += 3;
        if (strlen(text) != (size_t)(len - (text - line))) {
            cli_error("%s:%zu: the line contains a NUL byte (is this a binary file?)", name,
                      line_no);
            goto fail;
        }
        const char *start = text;
        while (is_blank(*start))
            start++;
        if (*start == '\0' || *start == '#')
            continue;
        const long row_cols = parse_csv_line(name, line_no, text, rows == 0, &buf);
        if (row_cols < 0)
            goto fail;
        if (rows == 0) {
            cols = row_cols;
        } else if (row_cols != cols) {
            cli_error("%s:%zu: row has %ld column%s, expected %ld", name, line_no, row_cols,
                      row_cols == 1 ? "" : "s", cols);
            goto fail;
        }
        rows++;
    }
    if (ferror(in)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        goto fail;
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

/* ------------------------------------------------------------------ .npy */

/* The format: "\x93NUMPY", major and minor version bytes, the header length
 * (2 bytes little-endian in version 1, 4 in versions 2 and 3), then a Python
 * dict literal such as {'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }
 * padded with blanks, then the raw data. */
static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* Find the value of `key` in the header dict: a pointer just past its ':'. */
static const char *npy_header_value(const char *header, const char *key)
{
    const size_t key_len = strlen(key);
    for (const char *p = header; (p = strpbrk(p, "'\"")) != NULL; p++) {
        if (strncmp(p + 1, key, key_len) == 0 && p[1 + key_len] == p[0]) {
            const char *q = p + 2 + key_len;
            while (is_blank(*q))
                q++;
            return *q == ':' ? q + 1 : NULL;
        }
    }
    return NULL;
}

/* Check the header: dtype '<f8', C order, 1-D or 2-D; store the shape. */
static int npy_parse_header(const char *name, const char *header, size_t *rows, size_t *cols)
{
    const char *descr = npy_header_value(header, "descr");
    const char *order = npy_header_value(header, "fortran_order");
    const char *shape = npy_header_value(header, "shape");
    if (!descr || !order || !shape) {
        cli_error("%s: malformed .npy header (no %s)", name,
                  !descr   ? "'descr'"
                  : !order ? "'fortran_order'"
                           : "'shape'");
        return -1;
    }
    while (is_blank(*descr))
        descr++;
    if (*descr != '\'' && *descr != '"') {
        cli_error("%s: unsupported .npy dtype (a structured array?); otk reads float64 "
                  "little-endian '<f8'",
                  name);
        return -1;
    }
    const char quote = *descr++;
    const char *descr_end = strchr(descr, quote);
    if (!descr_end) {
        cli_error("%s: malformed .npy header ('descr')", name);
        return -1;
    }
    const int descr_len = (int)(descr_end - descr);
    if (!(descr_len == 3 && strncmp(descr, "<f8", 3) == 0)) {
        cli_error("%s: unsupported .npy dtype '%.*s'; otk reads float64 little-endian '<f8' "
                  "(convert with a.astype('<f8'))",
                  name, descr_len > 32 ? 32 : descr_len, descr);
        return -1;
    }
    while (is_blank(*order))
        order++;
    if (strncmp(order, "False", 5) != 0) {
        cli_error("%s: .npy array is in Fortran order; otk reads C order "
                  "(save numpy.ascontiguousarray(a))",
                  name);
        return -1;
    }
    while (is_blank(*shape))
        shape++;
    if (*shape != '(') {
        cli_error("%s: malformed .npy header ('shape')", name);
        return -1;
    }
    size_t dims[3];
    int ndim = 0;
    const char *p = shape + 1;
    for (;;) {
        while (is_blank(*p) || *p == ',')
            p++;
        if (*p == ')')
            break;
        if (*p < '0' || *p > '9' || ndim == 3) {
            cli_error("%s: malformed or unsupported .npy shape", name);
            return -1;
        }
        char *end;
        errno = 0;
        const unsigned long long dim = strtoull(p, &end, 10);
        if (errno == ERANGE || dim > SIZE_MAX) {
            cli_error("%s: .npy shape is too large", name);
            return -1;
        }
        dims[ndim++] = (size_t)dim;
        p = end;
    }
    if (ndim != 1 && ndim != 2) {
        cli_error("%s: .npy array has %d dimensions; otk reads 1-D or 2-D arrays", name, ndim);
        return -1;
    }
    *rows = dims[0];
    *cols = ndim == 2 ? dims[1] : 1;
    return 0;
}

/* A little-endian float64 from 8 bytes, whatever the host's byte order. */
static double npy_decode_f8(const unsigned char *bytes)
{
    uint64_t bits = 0;
    for (int k = 7; k >= 0; k--)
        bits = bits << 8 | bytes[k];
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Rows [first, first + count) of a .npy array: part `part` of `parts` nearly
 * equal row ranges (parts = 1: the whole array, which must then end the
 * file).  *first_row and *total_rows (may be NULL) get the range's first row
 * and the array's row count. */
static int read_npy_part(FILE *in, const char *name, size_t part, size_t parts, cli_matrix *mat,
                         size_t *first_row, size_t *total_rows)
{
    unsigned char preamble[12];
    char *header = NULL;
    double *values = NULL;
    if (fread(preamble, 1, 10, in) != 10 || memcmp(preamble, npy_magic, 6) != 0) {
        cli_error("%s: not a .npy file (bad magic string or truncated header)", name);
        goto fail;
    }
    const int major = preamble[6];
    size_t header_len;
    if (major == 1) {
        header_len = (size_t)preamble[8] | (size_t)preamble[9] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(preamble + 10, 1, 2, in) != 2) {
            cli_error("%s: truncated .npy header", name);
            goto fail;
        }
        header_len = (size_t)preamble[8] | (size_t)preamble[9] << 8 | (size_t)preamble[10] << 16 |
                     (size_t)preamble[11] << 24;
    } else {
        cli_error("%s: unsupported .npy format version %d", name, major);
        goto fail;
    }
    if (header_len > (1u << 20) || !(header = malloc(header_len + 1))) {
        cli_error("%s: .npy header too large (%zu bytes)", name, header_len);
        goto fail;
    }
    if (fread(header, 1, header_len, in) != header_len) {
        cli_error("%s: truncated .npy header", name);
        goto fail;
    }
    header[header_len] = '\0';
    size_t rows, cols;
    if (npy_parse_header(name, header, &rows, &cols) < 0)
        goto fail;
    if (rows == 0 || cols == 0) {
        cli_error("%s: .npy array is empty (shape %zu×%zu)", name, rows, cols);
        goto fail;
    }
    if (cols > SIZE_MAX / sizeof(double) / rows) {
        cli_error("%s: .npy shape %zu×%zu is too large", name, rows, cols);
        goto fail;
    }
    const size_t lo = rows / parts * part + rows % parts * part / parts;
    const size_t hi = rows / parts * (part + 1) + rows % parts * (part + 1) / parts;
    const off_t data_start = parts > 1 ? ftello(in) : 0;
    if (parts > 1 && (data_start < 0 || fseeko(in, (off_t)(lo * cols * 8), SEEK_CUR) != 0)) {
        cli_error("%s: cannot seek to row %zu: %s", name, lo, strerror(errno));
        goto fail;
    }
    if (!(values = malloc((hi - lo) * cols * sizeof *values + 1))) {
        cli_error("%s: out of memory for a %zu×%zu array", name, hi - lo, cols);
        goto fail;
    }
    const size_t count = (hi - lo) * cols;
    for (size_t k = 0; k < count;) {
        unsigned char block[8 * 512];
        const size_t want = count - k < 512 ? count - k : 512;
        const size_t got = fread(block, 8, want, in);
        for (size_t q = 0; q < got; q++, k++) {
            values[k] = npy_decode_f8(block + 8 * q);
            if (!isfinite(values[k])) {
                cli_error("%s: element [%zu, %zu] is %g, not a finite number", name,
                          lo + k / cols, k % cols, values[k]);
                goto fail;
            }
        }
        if (got < want) {
            cli_error("%s: truncated .npy data: %zu of %zu values present", name, k, count);
            goto fail;
        }
    }
    if (parts > 1) {
        if (fseeko(in, 0, SEEK_END) != 0 ||
            ftello(in) != data_start + (off_t)(rows * cols * 8)) {
            cli_error("%s: .npy file length does not match its header's %zu×%zu values", name,
                      rows, cols);
            goto fail;
        }
    } else if (fgetc(in) != EOF) {
        cli_error("%s: .npy file is longer than its header says", name);
        goto fail;
    }
    if (ferror(in)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        goto fail;
    }
    free(header);
    mat->rows = hi - lo;
    mat->cols = cols;
    mat->values = values;
    if (first_row)
        *first_row = lo;
    if (total_rows)
        *total_rows = rows;
    return 0;
fail:
    free(header);
    free(values);
    return -1;
}

static int read_npy(FILE *in, const char *name, cli_matrix *mat)
{
    return read_npy_part(in, name, 0, 1, mat, NULL, NULL);
}

/* ------------------------------------------------------------------ readers */

int cli_read_npy_part(const char *path, size_t part, size_t parts, cli_matrix *mat,
                      size_t *first_row, size_t *total_rows)
{
    const char *name = display_name(path);
    mat->rows = mat->cols = 0;
    mat->values = NULL;
    if (strcmp(path, "-") == 0) {
        cli_error("-: a share of standard input cannot be read; give a .npy file");
        return -1;
    }
    FILE *in = fopen(path, "rb");
    if (!in) {
        cli_error("%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    const int rc = read_npy_part(in, name, part, parts, mat, first_row, total_rows);
    fclose(in);
    return rc;
}

int cli_read_matrix(const char *path, cli_matrix *mat)
{
    const char *name = display_name(path);
    mat->rows = mat->cols = 0;
    mat->values = NULL;
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        cli_error("%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    /* The .npy magic starts with the byte 0x93, which no CSV file can start
     * with, so one byte of look-ahead decides (and works on a pipe). */
    const int first = fgetc(in);
    int rc;
    if (first == EOF && ferror(in)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        rc = -1;
    } else {
        if (first != EOF)
            ungetc(first, in);
        rc = first == (unsigned char)npy_magic[0] ? read_npy(in, name, mat)
                                                  : read_csv(in, name, mat);
    }
    if (in != stdin)
        fclose(in);
    return rc;
}

int cli_read_vector(const char *path, cli_matrix *vec)
{
    if (cli_read_matrix(path, vec) < 0)
        return -1;
    if (vec->rows != 1 && vec->cols != 1) {
        cli_error("%s: expected one column or one row of weights, found %zu rows of %zu "
                  "columns",
                  display_name(path), vec->rows, vec->cols);
        cli_matrix_free(vec);
        return -1;
    }
    vec->rows *= vec->cols;
    vec->cols = 1;
    return 0;
}

int cli_read_point_clouds(const char *x_path, const char *y_path, cli_matrix *x, cli_matrix *y)
{
    y->rows = y->cols = 0;
    y->values = NULL;
    if (cli_read_matrix(x_path, x) < 0 || cli_read_matrix(y_path, y) < 0)
        goto fail;
    if (x->cols != y->cols) {
        cli_error("dimension mismatch: the points of %s have %zu coordinates, those of %s have "
                  "%zu",
                  x_path, x->cols, y_path, y->cols);
        goto fail;
    }
    return 0;
fail:
    cli_matrix_free(x);
    cli_matrix_free(y);
    return -1;
}

int cli_read_weights(const char *path, const char *option, size_t expected, const char *owner,
                     const char *unit, cli_matrix *w)
{
    if (!path)
        return 0;
    if (cli_read_vector(path, w) < 0)
        return -1;
    if (w->rows != expected) {
        cli_error("%s (%s): %zu weight%s, but %s has %zu %s", path, option, w->rows,
                  w->rows == 1 ? "" : "s", owner, expected, unit);
        cli_matrix_free(w);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ CSV writer */

void cli_write_table(FILE *out, const char *header, const double *values, size_t rows,
                     size_t cols)
{
    if (header)
        fprintf(out, "# %s\n", header);
    for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < cols; k++)
            fprintf(out, "%.17g%c", values[i * cols + k], k + 1 < cols ? ',' : '\n');
}

/* ------------------------------------------------------------------ atomic writers */

/* Temporaries that exist right now, removed by the signal handler if otk is
 * interrupted while writing (or, since they are created before the solve,
 * while solving).  Pointer stores are atomic on every platform otk targets;
 * the handler only reads them and calls unlink, which is async-signal-safe. */
#define MAX_LIVE_TEMPORARIES 8
static char *volatile live_temporaries[MAX_LIVE_TEMPORARIES];

static void remove_temporaries_and_die(int sig)
{
    for (int k = 0; k < MAX_LIVE_TEMPORARIES; k++)
        if (live_temporaries[k])
            unlink(live_temporaries[k]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_cleanup_handlers(void)
{
    static int installed = 0;
    if (installed)
        return;
    installed = 1;
    const int signals[] = {
        SIGINT, SIGTERM, SIGHUP,
#ifdef SIGXFSZ
        SIGXFSZ, /* the file size limit (ulimit -f) was hit while writing */
#endif
    };
    for (size_t k = 0; k < sizeof signals / sizeof signals[0]; k++) {
        /* Leave a signal alone when it is ignored (nohup, or a test that
         * wants write errors instead of SIGXFSZ). */
        if (signal(signals[k], remove_temporaries_and_die) == SIG_IGN)
            signal(signals[k], SIG_IGN);
    }
}

static void track_temporary(char *path, int live)
{
    for (int k = 0; k < MAX_LIVE_TEMPORARIES; k++) {
        if (live && !live_temporaries[k]) {
            live_temporaries[k] = path;
            return;
        }
        if (!live && live_temporaries[k] == path) {
            live_temporaries[k] = NULL;
            return;
        }
    }
}

static char *copy_string(const char *s)
{
    char *copy = malloc(strlen(s) + 1);
    if (copy)
        strcpy(copy, s);
    return copy;
}

/* The mode a new file would get from open(2): 0666 minus the umask. */
static mode_t new_file_mode(void)
{
    const mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

static void close_output(cli_output *out)
{
    if (out->stream)
        fclose(out->stream);
    out->stream = NULL;
    if (out->temporary) {
        track_temporary(out->temporary, 0);
        free(out->temporary);
    }
    out->temporary = NULL;
    free(out->target);
    out->target = NULL;
}

int cli_output_open(cli_output *out, const char *target)
{
    out->target = out->temporary = NULL;
    out->stream = NULL;
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    struct stat existing;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
        (stat(target, &existing) == 0 && S_ISDIR(existing.st_mode))) {
        cli_error("%s: is a directory, not a file name", target);
        return -1;
    }
    /* The temporary is a hidden sibling, ".NAME.XXXXXX", in the target's own
     * directory: rename(2) is atomic only within one file system. */
    const size_t dir_len = (size_t)(base - target);
    const size_t len = dir_len + 1 + strlen(base) + 8;
    out->target = copy_string(target);
    out->temporary = malloc(len);
    if (!out->target || !out->temporary) {
        cli_error("%s: out of memory", target);
        goto fail;
    }
    snprintf(out->temporary, len, "%.*s.%s.XXXXXX", (int)dir_len, target, base);
    install_cleanup_handlers();
    const int fd = mkstemp(out->temporary);
    if (fd < 0) {
        cli_error("%s: cannot create the file: %s", target, strerror(errno));
        goto fail;
    }
    track_temporary(out->temporary, 1);
    /* mkstemp creates the file 0600; give it the mode any new file would get. */
    if (fchmod(fd, new_file_mode()) < 0 || !(out->stream = fdopen(fd, "w"))) {
        cli_error("%s: cannot write: %s", target, strerror(errno));
        if (!out->stream)
            close(fd);
        unlink(out->temporary);
        goto fail;
    }
    return 0;
fail:
    free(out->temporary);
    out->temporary = NULL;
    free(out->target);
    out->target = NULL;
    return -1;
}

int cli_output_commit(cli_output *out)
{
    if (!out->temporary)
        return -1;
    FILE *stream = out->stream;
    out->stream = NULL;
    /* A write error is sticky (ferror); fflush, fsync and fclose catch a
     * full disk discovered late.  Each failure is reported with its errno. */
    int failed = ferror(stream) != 0;
    /* The failed write was the last call on the stream: errno still says why. */
    int saved_errno = failed ? (errno ? errno : EIO) : 0;
    if (!failed && (fflush(stream) != 0 || fsync(fileno(stream)) != 0)) {
        failed = 1;
        saved_errno = errno;
    }
    if (fclose(stream) != 0 && !failed) {
        failed = 1;
        saved_errno = errno;
    }
    if (!failed && rename(out->temporary, out->target) != 0) {
        failed = 1;
        saved_errno = errno;
    }
    if (failed) {
        cli_error("%s: cannot write: %s", out->target, strerror(saved_errno));
        unlink(out->temporary);
    }
    close_output(out);
    return failed ? -1 : 0;
}

void cli_output_discard(cli_output *out)
{
    if (!out || !out->temporary)
        return;
    unlink(out->temporary);
    close_output(out);
}
