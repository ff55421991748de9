/* Fuzz targets of the otk tool's readers: CSV and .npy tables
 * (cli_read_matrix) and images, PGM and PNG (cli_read_image). */
#include <stdlib.h>
#include "fuzz.h"
#include "image.h"
#include "io.h"

/* Sum every value the reader claims to have read: a table whose shape does
 * not match its buffer is caught by the sanitizers here. */
static double sum(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static int fuzz_matrix(const uint8_t *data, size_t size, const uint8_t *prefix,
                       size_t prefix_size)
{
    const char *path = fuzz_input_file(data, size, "dat", prefix, prefix_size);
    cli_matrix mat = {0, 0, NULL};
    if (path && cli_read_matrix(path, &mat) == 0)
        (void)sum(mat.values, mat.rows * mat.cols);
    cli_matrix_free(&mat);
    return 0;
}

static int fuzz_image(const uint8_t *data, size_t size, const uint8_t *prefix,
                      size_t prefix_size)
{
    const char *path = fuzz_input_file(data, size, "img", prefix, prefix_size);
    cli_image img = {0, {0, 0}, NULL};
    if (path && cli_read_image(path, &img) == 0)
        (void)sum(img.values, img.shape[0] * (img.dim == 2 ? img.shape[1] : 1));
    cli_image_free(&img);
    return 0;
}

int fuzz_csv(const uint8_t *data, size_t size) { return fuzz_matrix(data, size, NULL, 0); }

/* The .npy and PNG targets put the format's magic bytes in front of the input
 * unless it has them, so that the fuzzer spends its time in that reader. */
static int has_prefix(const uint8_t *data, size_t size, const uint8_t *magic, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (i >= size || data[i] != magic[i])
            return 0;
    return 1;
}

int fuzz_npy(const uint8_t *data, size_t size)
{
    static const uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    int has = has_prefix(data, size, magic, sizeof magic);
    return fuzz_matrix(data, size, has ? NULL : magic, has ? 0 : sizeof magic);
}

int fuzz_pgm(const uint8_t *data, size_t size) { return fuzz_image(data, size, NULL, 0); }

int fuzz_png(const uint8_t *data, size_t size)
{
    static const uint8_t magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int has = has_prefix(data, size, magic, sizeof magic);
    return fuzz_image(data, size, has ? NULL : magic, has ? 0 : sizeof magic);
}
