/*
 * The .npy reader (read.h).  The format: "\x93NUMPY", major and minor version
 * bytes, the header length (2 bytes little-endian in version 1, 4 in versions
 * 2 and 3), then a Python dict literal such as
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }
 * padded with blanks, then the raw data.  Any float (f2, f4, f8) or integer
 * (i1..i8, u1..u8) dtype in either byte order is converted to double (integers
 * beyond 2^53 are rounded); Fortran-order arrays are transposed back.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "read.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

int cli_is_npy(const unsigned char *bytes, size_t len)
{
    return len >= 6 && memcmp(bytes, npy_magic, 6) == 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

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

/* An element type: kind 'f', 'i' or 'u', size in bytes, byte order. */
typedef struct {
    char kind;
    size_t size;
    int big_endian;
} npy_dtype;

static int npy_parse_dtype(const char *name, const char *descr, npy_dtype *dt)
{
    while (is_blank(*descr))
        descr++;
    if (*descr != '\'' && *descr != '"') {
        cli_error("%s: unsupported .npy dtype (a structured array?); otk reads float and "
                  "integer arrays",
                  name);
        return -1;
    }
    const char quote = *descr++;
    const char *end = strchr(descr, quote);
    if (!end) {
        cli_error("%s: malformed .npy header ('descr')", name);
        return -1;
    }
    const int len = (int)(end - descr);
    /* '<f8': byte order ('<' little, '>' big, '|' not applicable, '='
     * native, which numpy never writes to a file), kind, size. */
    if (len >= 3 && strchr("<>|=", descr[0]) && strchr("fiu", descr[1])) {
        char *size_end;
        const unsigned long size = strtoul(descr + 2, &size_end, 10);
        const int known = descr[1] == 'f' ? (size == 2 || size == 4 || size == 8)
                                          : (size == 1 || size == 2 || size == 4 || size == 8);
        if (size_end == end && known) {
            dt->kind = descr[1];
            dt->size = size;
            dt->big_endian = descr[0] == '>';
            return 0;
        }
    }
    cli_error("%s: unsupported .npy dtype '%.*s'; otk reads float16/32/64 and 8- to 64-bit "
              "integers (convert with a.astype('<f8'))",
              name, len > 32 ? 32 : len, descr);
    return -1;
}

/* Check the header and store the dtype, the order and the shape. */
static int npy_parse_header(const char *name, const char *header, npy_dtype *dt, int *fortran,
                            size_t *rows, size_t *cols, size_t *batch)
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
    if (npy_parse_dtype(name, descr, dt) < 0)
        return -1;
    while (is_blank(*order))
        order++;
    if (strncmp(order, "False", 5) == 0) {
        *fortran = 0;
    } else if (strncmp(order, "True", 4) == 0) {
        *fortran = 1;
    } else {
        cli_error("%s: malformed .npy header ('fortran_order')", name);
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
    if (ndim == 0) {
        cli_error("%s: .npy array has 0 dimensions; otk reads 1-D or 2-D arrays (3-D: "
                  "batches)", name);
        return -1;
    }
    /* A 3-D (B, n, d) array is B·n rows of d values, problem k's n rows
     * after the first k·n (cli_parse_npy_batch). */
    *batch = ndim == 3 ? dims[0] : 0;
    if (ndim == 3 && dims[1] > 0 && dims[0] > SIZE_MAX / dims[1]) {
        cli_error("%s: .npy shape is too large", name);
        return -1;
    }
    *rows = ndim == 3 ? dims[0] * dims[1] : dims[0];
    *cols = ndim == 1 ? 1 : dims[ndim - 1];
    if (ndim == 3 && *fortran) {
        cli_error("%s: a Fortran-order 3-D array; save it in C order "
                  "(numpy.ascontiguousarray)", name);
        return -1;
    }
    return 0;
}

/* IEEE half precision to double. */
static double half_to_double(uint16_t h)
{
    const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    double v;
    if (exponent == 0)
        v = ldexp((double)mantissa, -24); /* subnormal */
    else if (exponent == 31)
        v = mantissa ? NAN : INFINITY;
    else
        v = ldexp((double)(mantissa | 0x400), exponent - 25);
    return sign ? -v : v;
}

/* One element, whatever the host's byte order. */
static double npy_decode(const npy_dtype *dt, const unsigned char *bytes)
{
    uint64_t bits = 0;
    for (size_t k = 0; k < dt->size; k++)
        bits = bits << 8 | bytes[dt->big_endian ? k : dt->size - 1 - k];
    if (dt->kind == 'u')
        return (double)bits;
    if (dt->kind == 'i') {
        const unsigned shift = (unsigned)(64 - 8 * dt->size);
        /* Sign-extend through the top bits. */
        const int64_t v = (int64_t)(bits << shift) >> shift;
        return (double)v;
    }
    if (dt->size == 2)
        return half_to_double((uint16_t)bits);
    if (dt->size == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        return (double)f;
    }
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

int cli_parse_npy_layout(const char *name, const unsigned char *bytes, size_t len,
                         cli_npy_layout *lay)
{
    char *header = NULL;
    if (len < 10 || !cli_is_npy(bytes, len)) {
        cli_error("%s: not a .npy file (bad magic string or truncated header)", name);
        return -1;
    }
    const int major = bytes[6];
    size_t header_len, offset;
    if (major == 1) {
        header_len = (size_t)bytes[8] | (size_t)bytes[9] << 8;
        offset = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) {
            cli_error("%s: truncated .npy header", name);
            return -1;
        }
        header_len = (size_t)bytes[8] | (size_t)bytes[9] << 8 | (size_t)bytes[10] << 16 |
                     (size_t)bytes[11] << 24;
        offset = 12;
    } else {
        cli_error("%s: unsupported .npy format version %d", name, major);
        return -1;
    }
    if (header_len > CLI_NPY_MAX_HEADER) {
        cli_error("%s: .npy header too large (%zu bytes)", name, header_len);
        return -1;
    }
    if (len - offset < header_len) {
        cli_error("%s: truncated .npy header", name);
        return -1;
    }
    if (!(header = malloc(header_len + 1))) {
        cli_error("%s: out of memory for the .npy header", name);
        return -1;
    }
    memcpy(header, bytes + offset, header_len);
    header[header_len] = '\0';
    npy_dtype dt;
    int fortran;
    size_t rows, cols, batch;
    const int rc = npy_parse_header(name, header, &dt, &fortran, &rows, &cols, &batch);
    free(header);
    if (rc < 0)
        return -1;
    if (rows == 0 || cols == 0) {
        cli_error("%s: .npy array is empty (shape %zu×%zu)", name, rows, cols);
        return -1;
    }
    if (cols > SIZE_MAX / sizeof(double) / rows) {
        cli_error("%s: .npy shape %zu×%zu is too large", name, rows, cols);
        return -1;
    }
    lay->data_offset = offset + header_len;
    lay->rows = rows;
    lay->cols = cols;
    lay->item_size = dt.size;
    lay->kind = dt.kind;
    lay->big_endian = dt.big_endian;
    lay->fortran = fortran;
    lay->batch = batch;
    return 0;
}

int cli_decode_npy_rows(const char *name, const cli_npy_layout *lay, const unsigned char *data,
                        size_t first_row, size_t rows, double *values)
{
    const npy_dtype dt = {lay->kind, lay->item_size, lay->big_endian};
    const size_t cols = lay->cols, count = rows * cols;
    for (size_t k = 0; k < count; k++) {
        /* Element k of the data is [k / cols, k % cols] in C order and
         * [k % rows, k / rows] in Fortran order (a whole array only). */
        const size_t i = lay->fortran ? k % rows : k / cols, j = lay->fortran ? k / rows : k % cols;
        const double v = npy_decode(&dt, data + k * dt.size);
        if (!isfinite(v)) {
            const size_t row = first_row + i, n = lay->batch ? lay->rows / lay->batch : 0;
            if (lay->batch)
                cli_error("%s: element [%zu, %zu, %zu] is %g, not a finite number", name,
                          row / n, row % n, j, v);
            else
                cli_error("%s: element [%zu, %zu] is %g, not a finite number", name, row, j, v);
            return -1;
        }
        values[i * cols + j] = v;
    }
    return 0;
}

int cli_parse_npy(const char *name, const unsigned char *bytes, size_t len, cli_matrix *mat)
{
    size_t batch;
    if (cli_parse_npy_batch(name, bytes, len, mat, &batch) < 0)
        return -1;
    if (batch) {
        cli_error("%s: .npy array has 3 dimensions (%zu×%zu×%zu); otk reads 1-D or 2-D arrays "
                  "here (3-D (B, n, d) batches: the point files of otk divergence and "
                  "sinkhorn)",
                  name, batch, mat->rows / batch, mat->cols);
        free(mat->values);
        mat->values = NULL;
        mat->rows = mat->cols = 0;
        return -1;
    }
    return 0;
}

int cli_parse_npy_batch(const char *name, const unsigned char *bytes, size_t len,
                        cli_matrix *mat, size_t *batch)
{
    mat->rows = mat->cols = 0;
    mat->values = NULL;
    *batch = 0;
    cli_npy_layout lay;
    if (cli_parse_npy_layout(name, bytes, len, &lay) < 0)
        return -1;
    const size_t count = lay.rows * lay.cols, offset = lay.data_offset;
    const size_t present = (len - offset) / lay.item_size;
    if (present < count) {
        cli_error("%s: truncated .npy data: %zu of %zu values present", name, present, count);
        return -1;
    }
    if (len - offset > count * lay.item_size) {
        cli_error("%s: .npy file is longer than its header says", name);
        return -1;
    }
    double *values = malloc(count * sizeof *values);
    if (!values) {
        cli_error("%s: out of memory for a %zu×%zu array", name, lay.rows, lay.cols);
        return -1;
    }
    if (cli_decode_npy_rows(name, &lay, bytes + offset, 0, lay.rows, values) < 0) {
        free(values);
        return -1;
    }
    mat->rows = lay.rows;
    mat->cols = lay.cols;
    mat->values = values;
    *batch = lay.batch;
    return 0;
}
