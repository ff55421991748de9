/* Fuzz targets of the otk tool's readers: text tables (cli_parse_text, the
 * header and index-column options drawn from the first byte), .npy
 * (cli_parse_npy), both in memory, and images, PGM and PNG (cli_read_image,
 * through a file). */
#include <stdlib.h>
#include "fuzz.h"
#include "image.h"
#include "read.h"

/* Sum every value the reader claims to have read: a table whose shape does
 * not match its buffer is caught by the sanitizers here. */
static double sum(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

int fuzz_csv(const uint8_t *data, size_t size)
{
    /* The first byte picks the reading options (as --header, --index-col,
     * --delimiter would), the rest is the file: every combination is
     * fuzzed, and an exact-size buffer catches a read past the end. */
    static const char delimiters[5] = {0, ',', ';', '\t', ' '};
    cli_read_options opt = {0, 0, 0};
    if (size > 0) {
        opt.header = data[0] & 1 ? CLI_HEADER_YES : CLI_HEADER_AUTO;
        opt.index_col = (data[0] >> 1) & 1;
        opt.delimiter = delimiters[(data[0] >> 2) % 5];
        data++;
        size--;
    }
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    for (size_t i = 0; i < size; i++)
        text[i] = (char)data[i];
    cli_matrix mat = {0, 0, NULL};
    if (cli_parse_text("fuzz.csv", text, size, &opt, &mat) == 0)
        (void)sum(mat.values, mat.rows * mat.cols);
    cli_matrix_free(&mat);
    free(text);
    return 0;
}

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
    size_t len = size + (has ? 0 : sizeof magic);
    unsigned char *bytes = malloc(len ? len : 1);
    if (!bytes)
        return 0;
    for (size_t i = 0; i < len; i++)
        bytes[i] = has ? data[i] : i < sizeof magic ? magic[i] : data[i - sizeof magic];
    cli_matrix mat = {0, 0, NULL};
    if (cli_parse_npy("fuzz.npy", bytes, len, &mat) == 0)
        (void)sum(mat.values, mat.rows * mat.cols);
    cli_matrix_free(&mat);
    free(bytes);
    return 0;
}

static int fuzz_image(const uint8_t *data, size_t size, const uint8_t *prefix,
                      size_t prefix_size)
{
    const char *path = fuzz_input_file(data, size, "img", prefix, prefix_size);
    cli_image img = {0, {0, 0}, NULL};
    if (path && cli_read_image(path, NULL, &img) == 0)
        (void)sum(img.values, img.shape[0] * (img.dim == 2 ? img.shape[1] : 1));
    cli_image_free(&img);
    return 0;
}

int fuzz_pgm(const uint8_t *data, size_t size) { return fuzz_image(data, size, NULL, 0); }

int fuzz_png(const uint8_t *data, size_t size)
{
    static const uint8_t magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int has = has_prefix(data, size, magic, sizeof magic);
    return fuzz_image(data, size, has ? NULL : magic, has ? 0 : sizeof magic);
}
