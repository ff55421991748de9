/*
 * image.h — otk grid's inputs and outputs: greyscale PGM images (Netpbm P2
 * and P5) and 1-D/2-D arrays read as text or .npy (read.h).
 *
 * Every function reports its own failures on stderr ("otk: FILE: what") and
 * returns -1; the caller exits with status 2.
 */
#ifndef OTK_TOOLS_IMAGE_H
#define OTK_TOOLS_IMAGE_H

#include <stddef.h>
#include "read.h"

/* A grid histogram as read from a file: dim 1 or 2, shape[0] rows (× shape[1]
 * columns), values row-major, owned by the struct. */
typedef struct {
    size_t dim;
    size_t shape[2];
    double *values;
} cli_image;

/* Read `path`: a PNG image (when otk is built with libpng; 8-bit greyscale
 * as libpng converts it: colour to luminance, alpha composited on black), a PGM image (content starting "P2" or "P5": width, height,
 * maxval 1..65535, comments '#'; pixels 1 or 2 bytes big-endian in P5) gives
 * a 2-D grid of height × width pixels; anything else is read by
 * cli_read_matrix with `opt` (text or .npy): one row or one column is a 1-D grid, r × c
 * (r, c > 1) a 2-D grid of r rows.  Pixel values are taken as they are (not
 * divided by maxval).  Returns 0 or -1 (reported; img is then empty). */
int cli_read_image(const char *path, const cli_read_options *opt, cli_image *img);

void cli_image_free(cli_image *img);

/* Write values (shape as img) to the open stream `out` as a binary 16-bit
 * PGM (P5, maxval 65535), scaled so that the largest value is 65535 (a
 * barycenter's shape, not its mass; use CSV for the numbers). */
void cli_write_pgm(void *out, size_t rows, size_t cols, const double *values);

/* Write values as an 8-bit greyscale PNG scaled so that the largest value is
 * 255 (as cli_write_pgm; libpng builds only).  Returns 0 or -1 (reported). */
int cli_write_png(void *stream, size_t rows, size_t cols, const double *values);

/* Whether this otk reads and writes PNG. */
int cli_have_png(void);

#endif
