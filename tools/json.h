/*
 * json.h — a tiny streaming JSON writer for otk's machine-readable output.
 *
 * Only what otk needs: nested objects, numbers, integers, strings, booleans,
 * null and flat arrays of numbers or integers.  Output is pretty-printed
 * (one member per line, two-space indent) so that a person can read it and
 * any JSON parser can load it.
 *
 * Numbers are printed with %.17g, which round-trips every double exactly; NaN
 * and ±Inf have no JSON spelling and are written as null (so "rho_a": null
 * means a balanced side, ρ = ∞).  Strings are escaped as RFC 8259 requires
 * (", \ and control characters); UTF-8 passes through unchanged.
 *
 * The writer records the first write error of the stream in the stream itself
 * (ferror); the caller checks it once at the end.
 */
#ifndef OTK_TOOLS_JSON_H
#define OTK_TOOLS_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Deep enough for any report otk prints; deeper nesting is a programming error. */
#define JSON_MAX_DEPTH 8

typedef struct {
    FILE *out;
    int depth;
    /* members_written[k]: how many members the object at depth k has so far,
     * to place the separating commas. */
    size_t members_written[JSON_MAX_DEPTH];
} json_writer;

/* Start writing to `out`; nothing is written yet. */
void json_init(json_writer *w, FILE *out);

/* Open an object: the top-level one (key == NULL) or a member of the current
 * object.  Every json_object_begin needs its json_object_end. */
void json_object_begin(json_writer *w, const char *key);
void json_object_end(json_writer *w);

/* Members of the current object. */
void json_number(json_writer *w, const char *key, double value); /* null when not finite */
void json_integer(json_writer *w, const char *key, long long value);
void json_string(json_writer *w, const char *key, const char *value); /* null when NULL */
void json_boolean(json_writer *w, const char *key, int value);
void json_null(json_writer *w, const char *key);
/* An array of `count` numbers (null when not finite) or integers, on one line
 * (the per-problem values of a batch). */
void json_numbers(json_writer *w, const char *key, const double *values, size_t count);
void json_integers(json_writer *w, const char *key, const long long *values, size_t count);

#endif /* OTK_TOOLS_JSON_H */
