/* Reading a table from a file or standard input, .npy or text by content,
 * and the shapes the commands ask for: vectors, point clouds, weights (read.h). */
#define _POSIX_C_SOURCE 200809L /* fseeko, ftello */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "read.h"
#include "write.h"

void cli_matrix_free(cli_matrix *mat)
{
    if (!mat)
        return;
    free(mat->values);
    mat->values = NULL;
    mat->rows = mat->cols = 0;
}

const char *cli_display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* The whole content of `in` in a malloc'd buffer (*len bytes).  Returns 0,
 * or -1 (reported). */
static int read_all(FILE *in, const char *name, unsigned char **data, size_t *len)
{
    size_t cap = 1 << 16, used = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        cli_error("%s: out of memory", name);
        return -1;
    }
    for (;;) {
        if (used == cap) {
            unsigned char *grown = cap > SIZE_MAX / 2 ? NULL : realloc(buf, 2 * cap);
            if (!grown) {
                cli_error("%s: out of memory after %zu bytes", name, used);
                free(buf);
                return -1;
            }
            buf = grown;
            cap *= 2;
        }
        const size_t got = fread(buf + used, 1, cap - used, in);
        used += got;
        if (got == 0)
            break;
    }
    if (ferror(in)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        free(buf);
        return -1;
    }
    *data = buf;
    *len = used;
    return 0;
}

/* cli_read_matrix, with 3-D .npy batches when `batch` is not NULL. */
static int read_table(const char *path, const cli_read_options *opt, cli_matrix *mat,
                      size_t *batch)
{
    const char *name = cli_display_name(path);
    mat->rows = mat->cols = 0;
    mat->values = NULL;
    cli_note_input(path);
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        cli_error("%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    unsigned char *data = NULL;
    size_t len = 0;
    const int read_rc = read_all(in, name, &data, &len);
    if (in != stdin)
        fclose(in);
    if (read_rc < 0)
        return -1;
    /* The .npy magic starts with the byte 0x93, which no text file starts with. */
    if (batch)
        *batch = 0;
    const int rc = !cli_is_npy(data, len)
                       ? cli_parse_text(name, (const char *)data, len, opt, mat)
                   : batch ? cli_parse_npy_batch(name, data, len, mat, batch)
                           : cli_parse_npy(name, data, len, mat);
    free(data);
    return rc;
}

int cli_read_matrix(const char *path, const cli_read_options *opt, cli_matrix *mat)
{
    return read_table(path, opt, mat, NULL);
}

int cli_read_vector(const char *path, const cli_read_options *opt, cli_matrix *vec)
{
    if (cli_read_matrix(path, opt, vec) < 0)
        return -1;
    if (vec->rows != 1 && vec->cols != 1) {
        cli_error("%s: expected one column or one row of weights, found %zu rows of %zu "
                  "columns",
                  cli_display_name(path), vec->rows, vec->cols);
        cli_matrix_free(vec);
        return -1;
    }
    vec->rows *= vec->cols;
    vec->cols = 1;
    return 0;
}

static int same_dimension(const char *x_path, const cli_matrix *x, const char *y_path,
                          const cli_matrix *y)
{
    if (x->cols == y->cols)
        return 1;
    cli_error("dimension mismatch: the points of %s have %zu coordinates, those of %s have %zu",
              x_path, x->cols, y_path, y->cols);
    return 0;
}

int cli_read_point_clouds(const char *x_path, const char *y_path, const cli_read_options *opt,
                          cli_matrix *x, cli_matrix *y)
{
    y->rows = y->cols = 0;
    y->values = NULL;
    if (cli_read_matrix(x_path, opt, x) < 0 || cli_read_matrix(y_path, opt, y) < 0)
        goto fail;
    if (!same_dimension(x_path, x, y_path, y))
        goto fail;
    return 0;
fail:
    cli_matrix_free(x);
    cli_matrix_free(y);
    return -1;
}

int cli_read_point_cloud_batches(const char *x_path, const char *y_path,
                                 const cli_read_options *opt, cli_matrix *x, cli_matrix *y,
                                 size_t *batch)
{
    size_t bx = 0, by = 0;
    y->rows = y->cols = 0;
    y->values = NULL;
    *batch = 0;
    if (read_table(x_path, opt, x, &bx) < 0 || read_table(y_path, opt, y, &by) < 0)
        goto fail;
    if ((bx == 0) != (by == 0)) {
        const char *three = bx ? x_path : y_path, *two = bx ? y_path : x_path;
        const size_t b = bx ? bx : by;
        const cli_matrix *t = bx ? x : y;
        cli_error("%s (%s) is a batch of %zu problems (a %zu×%zu×%zu array) but %s (%s) is a "
                  "table: give both point files as 3-D .npy arrays, (B, n, d) and (B, m, d)",
                  cli_display_name(three), bx ? "X" : "Y", b, b, t->rows / b, t->cols,
                  cli_display_name(two), bx ? "Y" : "X");
        goto fail;
    }
    if (bx != by) {
        cli_error("%s (Y) is a batch of %zu problems, but %s (X) has %zu: the point files are "
                  "(B, n, d) and (B, m, d) with the same B",
                  cli_display_name(y_path), by, cli_display_name(x_path), bx);
        goto fail;
    }
    if (!same_dimension(x_path, x, y_path, y))
        goto fail;
    *batch = bx;
    return 0;
fail:
    cli_matrix_free(x);
    cli_matrix_free(y);
    return -1;
}

int cli_read_batch_weights(const char *path, const cli_read_options *opt, const char *option,
                           size_t batch, size_t per_problem, const char *owner, cli_matrix *w)
{
    if (!path)
        return 0;
    if (cli_read_matrix(path, opt, w) < 0)
        return -1;
    if (w->rows != batch || w->cols != per_problem) {
        cli_error("%s (%s): a table of %zu rows of %zu weights, but %s is a batch of %zu "
                  "problems of %zu points (give one row of weights per problem)",
                  cli_display_name(path), option, w->rows, w->cols, owner, batch, per_problem);
        cli_matrix_free(w);
        return -1;
    }
    return 0;
}

int cli_read_weights(const char *path, const cli_read_options *opt, const char *option,
                     size_t expected, const char *owner, const char *unit, cli_matrix *w)
{
    if (!path)
        return 0;
    if (cli_read_vector(path, opt, w) < 0)
        return -1;
    if (w->rows != expected) {
        cli_error("%s (%s): %zu weight%s, but %s has %zu %s", path, option, w->rows,
                  w->rows == 1 ? "" : "s", owner, expected, unit);
        cli_matrix_free(w);
        return -1;
    }
    return 0;
}

int cli_read_npy_part(const char *path, size_t part, size_t parts, cli_matrix *mat,
                      size_t *first_row, size_t *total_rows)
{
    const char *name = cli_display_name(path);
    mat->rows = mat->cols = 0;
    mat->values = NULL;
    if (strcmp(path, "-") == 0) {
        cli_error("<stdin>: a share of standard input cannot be read; give a .npy file");
        return -1;
    }
    cli_note_input(path);
    FILE *in = fopen(path, "rb");
    if (!in) {
        cli_error("%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    int rc = -1;
    unsigned char *head = malloc(12 + CLI_NPY_MAX_HEADER), *data = NULL;
    double *values = NULL;
    cli_npy_layout lay;
    if (!head) {
        cli_error("%s: out of memory", name);
        goto done;
    }
    const size_t got = fread(head, 1, 12 + CLI_NPY_MAX_HEADER, in);
    if (ferror(in)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        goto done;
    }
    if (!cli_is_npy(head, got)) {
        cli_error("%s: not a .npy file; the shares of a distributed run are read as byte "
                  "ranges of .npy files",
                  name);
        goto done;
    }
    if (cli_parse_npy_layout(name, head, got, &lay) < 0)
        goto done;
    if (lay.batch) {
        cli_error("%s: a 3-D array (a batch of %zu problems); a distributed run reads 1-D or "
                  "2-D arrays",
                  name, lay.batch);
        goto done;
    }
    if (lay.fortran && parts > 1) {
        cli_error("%s: a Fortran-order array cannot be split by rows; save it in C order "
                  "(numpy.ascontiguousarray)",
                  name);
        goto done;
    }
    const size_t rows = lay.rows, row_bytes = lay.cols * lay.item_size;
    const size_t lo = rows / parts * part + rows % parts * part / parts;
    const size_t hi = rows / parts * (part + 1) + rows % parts * (part + 1) / parts;
    if (fseeko(in, 0, SEEK_END) != 0 ||
        ftello(in) != (off_t)(lay.data_offset + rows * row_bytes)) {
        cli_error("%s: the file's length does not match its header's %zu×%zu values", name,
                  rows, lay.cols);
        goto done;
    }
    data = malloc((hi - lo) * row_bytes + 1);
    values = malloc((hi - lo) * lay.cols * sizeof *values + 1);
    if (!data || !values) {
        cli_error("%s: out of memory for rows %zu to %zu", name, lo, hi);
        goto done;
    }
    if (fseeko(in, (off_t)(lay.data_offset + lo * row_bytes), SEEK_SET) != 0 ||
        fread(data, 1, (hi - lo) * row_bytes, in) != (hi - lo) * row_bytes) {
        cli_error("%s: cannot read rows %zu to %zu: %s", name, lo, hi, strerror(errno));
        goto done;
    }
    if (cli_decode_npy_rows(name, &lay, data, lo, hi - lo, values) < 0)
        goto done;
    mat->rows = hi - lo;
    mat->cols = lay.cols;
    mat->values = values;
    values = NULL;
    if (first_row)
        *first_row = lo;
    if (total_rows)
        *total_rows = rows;
    rc = 0;
done:
    fclose(in);
    free(head);
    free(data);
    free(values);
    return rc;
}
