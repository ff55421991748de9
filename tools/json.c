/* A tiny streaming JSON writer (see json.h). */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include "json.h"

void json_init(json_writer *w, FILE *out)
{
    w->out = out;
    w->depth = 0;
    for (int k = 0; k < JSON_MAX_DEPTH; k++)
        w->members_written[k] = 0;
}

static void write_escaped(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        switch (*c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            /* Other control characters have no short escape; bytes >= 0x80
             * are UTF-8 and pass through. */
            if (*c < 0x20)
                fprintf(out, "\\u%04x", (unsigned)*c);
            else
                fputc(*c, out);
        }
    }
    fputc('"', out);
}

/* The separator, newline and indentation before a member, then its key. */
static void begin_member(json_writer *w, const char *key)
{
    if (w->depth > 0) {
        if (w->members_written[w->depth - 1]++ > 0)
            fputc(',', w->out);
        fputc('\n', w->out);
        for (int k = 0; k < w->depth; k++)
            fputs("  ", w->out);
    }
    if (key) {
        write_escaped(w->out, key);
        fputs(": ", w->out);
    }
}

void json_object_begin(json_writer *w, const char *key)
{
    assert(w->depth < JSON_MAX_DEPTH);
    begin_member(w, key);
    fputc('{', w->out);
    w->members_written[w->depth] = 0;
    w->depth++;
}

void json_object_end(json_writer *w)
{
    const int had_members = w->depth > 0 && w->members_written[w->depth - 1] > 0;
    w->depth--;
    if (had_members) {
        fputc('\n', w->out);
        for (int k = 0; k < w->depth; k++)
            fputs("  ", w->out);
    }
    fputc('}', w->out);
    if (w->depth == 0)
        fputc('\n', w->out);
}

void json_number(json_writer *w, const char *key, double value)
{
    begin_member(w, key);
    if (isfinite(value))
        fprintf(w->out, "%.17g", value);
    else
        fputs("null", w->out);
}

void json_integer(json_writer *w, const char *key, long long value)
{
    begin_member(w, key);
    fprintf(w->out, "%lld", value);
}

void json_string(json_writer *w, const char *key, const char *value)
{
    begin_member(w, key);
    if (value)
        write_escaped(w->out, value);
    else
        fputs("null", w->out);
}

void json_boolean(json_writer *w, const char *key, int value)
{
    begin_member(w, key);
    fputs(value ? "true" : "false", w->out);
}

void json_null(json_writer *w, const char *key)
{
    begin_member(w, key);
    fputs("null", w->out);
}

void json_numbers(json_writer *w, const char *key, const double *values, size_t count)
{
    begin_member(w, key);
    fputc('[', w->out);
    for (size_t k = 0; k < count; k++) {
        if (k)
            fputs(", ", w->out);
        if (isfinite(values[k]))
            fprintf(w->out, "%.17g", values[k]);
        else
            fputs("null", w->out);
    }
    fputc(']', w->out);
}

void json_integers(json_writer *w, const char *key, const long long *values, size_t count)
{
    begin_member(w, key);
    fputc('[', w->out);
    for (size_t k = 0; k < count; k++)
        fprintf(w->out, k ? ", %lld" : "%lld", values[k]);
    fputc(']', w->out);
}
