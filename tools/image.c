/* PGM (Netpbm P2/P5) and PNG reading and writing, and arrays as grids, for
 * otk grid (image.h).  Calls cli.c and read.c only. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "image.h"
#include "read.h"
#include "write.h"
#ifdef OTK_HAVE_PNG
#include <png.h>
#endif

void cli_image_free(cli_image *img)
{
    free(img->values);
    memset(img, 0, sizeof *img);
}

/* The next header integer of a PGM file, skipping blanks and '#' comments. */
static int pgm_header_int(FILE *f, const char *path, const char *what, unsigned long *value)
{
    int c;
    for (;;) {
        c = getc(f);
        if (c == '#') {
            while (c != '\n' && c != EOF)
                c = getc(f);
        } else if (!isspace(c)) {
            break;
        }
    }
    if (!isdigit(c)) {
        cli_error("%s: PGM header: expected the %s, found %s", path, what,
                  c == EOF ? "the end of the file" : "a non-digit");
        return -1;
    }
    unsigned long v = 0;
    while (isdigit(c)) {
        if (v > 100000000ul) {
            cli_error("%s: PGM header: the %s is too large", path, what);
            return -1;
        }
        v = v * 10 + (unsigned long)(c - '0');
        c = getc(f);
    }
    /* Exactly one whitespace character ends the header's last number. */
    if (c != EOF && !isspace(c)) {
        cli_error("%s: PGM header: the %s is followed by '%c'", path, what, c);
        return -1;
    }
    *value = v;
    return 0;
}

static int read_pgm(FILE *f, const char *path, int binary, cli_image *img)
{
    unsigned long w, h, maxval;
    if (pgm_header_int(f, path, "width", &w) < 0 || pgm_header_int(f, path, "height", &h) < 0 ||
        pgm_header_int(f, path, "maxval", &maxval) < 0)
        return -1;
    if (w == 0 || h == 0) {
        cli_error("%s: the image is %lu x %lu pixels (zero-size axis)", path, w, h);
        return -1;
    }
    if (maxval == 0 || maxval > 65535) {
        cli_error("%s: PGM maxval %lu is not in 1..65535", path, maxval);
        return -1;
    }
    const size_t n = (size_t)w * (size_t)h;
    /* The header's size is a claim, not a fact: the buffer grows with the
     * pixels actually read, so a short file that claims 10^4 x 10^4 pixels
     * fails on its missing data, not on an allocation it never needed. */
    size_t cap = n < 65536 ? n : 65536;
    double *v = malloc(cap * sizeof *v);
    if (!v) {
        cli_error("%s: out of memory for %lu x %lu pixels", path, w, h);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned long p;
        if (i == cap) {
            size_t grown = cap > n / 2 ? n : 2 * cap;
            double *nv = realloc(v, grown * sizeof *v);
            if (!nv) {
                cli_error("%s: out of memory for %lu x %lu pixels", path, w, h);
                free(v);
                return -1;
            }
            v = nv;
            cap = grown;
        }
        if (binary) {
            int hi = maxval > 255 ? getc(f) : 0, lo = getc(f);
            if (hi == EOF || lo == EOF) {
                cli_error("%s: the file ends after %zu of %zu pixels", path, i, n);
                free(v);
                return -1;
            }
            p = ((unsigned long)hi << 8) | (unsigned long)lo;
        } else {
            char what[64];
            snprintf(what, sizeof what, "pixel (row %zu, column %zu)", i / w, i % w);
            if (pgm_header_int(f, path, what, &p) < 0) {
                free(v);
                return -1;
            }
        }
        if (p > maxval) {
            cli_error("%s: pixel (row %zu, column %zu) = %lu exceeds maxval %lu", path, i / w,
                      i % w, p, maxval);
            free(v);
            return -1;
        }
        v[i] = (double)p;
    }
    img->dim = 2;
    img->shape[0] = h;
    img->shape[1] = w;
    img->values = v;
    return 0;
}

/* PNG through libpng's simplified API: any colour type, converted by libpng
 * to 8-bit greyscale (colour: its luminance; alpha: composited on black, so
 * transparent pixels count as empty), values 0..255 as they are. */
static int read_png(FILE *f, const char *path, cli_image *img)
{
#ifdef OTK_HAVE_PNG
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    rewind(f);
    if (f == stdin || !png_image_begin_read_from_stdio(&im, f)) {
        cli_error("%s: not a readable PNG image (%s)", path,
                  f == stdin ? "standard input is not supported" : im.message);
        png_image_free(&im);
        return -1;
    }
    im.format = PNG_FORMAT_GRAY;
    const size_t rows = im.height, cols = im.width, n = rows * cols;
    /* Deflate expands at most 1032:1 and a 1-bit image packs 8 pixels per
     * byte, so a file of s bytes holds fewer than 8256 s pixels: a header
     * claiming more is refused before its pixels are allocated. */
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
        n / 8256 > (size_t)sb.st_size) {
        cli_error("%s: the PNG header claims %zu x %zu pixels, more than a %lld-byte file "
                  "can hold",
                  path, rows, cols, (long long)sb.st_size);
        png_image_free(&im);
        return -1;
    }
    unsigned char *buf = malloc(n ? n : 1);
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!buf || !v) {
        free(buf);
        free(v);
        png_image_free(&im);
        cli_error("%s: out of memory for a %zu x %zu image", path, rows, cols);
        return -1;
    }
    const png_color black = {0, 0, 0};
    if (!png_image_finish_read(&im, &black, buf, 0, NULL)) {
        cli_error("%s: %s", path, im.message);
        free(buf);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = buf[i];
    free(buf);
    img->dim = 2;
    img->shape[0] = rows;
    img->shape[1] = cols;
    img->values = v;
    return 0;
#else
    (void)f;
    (void)img;
    cli_error("%s: PNG images need an otk built with libpng (apt-get install libpng-dev, then "
              "configure again); use PGM or CSV",
              path);
    return -1;
#endif
}

int cli_read_image(const char *path, const cli_read_options *opt, cli_image *img)
{
    memset(img, 0, sizeof *img);
    cli_note_input(path);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    int c0 = getc(f), c1 = getc(f);
    if (c0 == 0x89 && c1 == 'P') {
        int r = read_png(f, path, img);
        if (f != stdin)
            fclose(f);
        return r;
    }
    if (c0 == 'P' && (c1 == '2' || c1 == '5')) {
        int r = read_pgm(f, path, c1 == '5', img);
        if (f != stdin)
            fclose(f);
        return r;
    }
    if (c0 == 'P' && c1 >= '1' && c1 <= '7') {
        cli_error("%s: Netpbm P%c images are not supported (greyscale PGM, P2 or P5, only)",
                  path, c1);
        if (f != stdin)
            fclose(f);
        return -1;
    }
    if (f == stdin) {
        cli_error("-: standard input must be a PGM image");
        return -1;
    }
    fclose(f);
    cli_matrix m = {0, 0, NULL};
    if (cli_read_matrix(path, opt, &m) < 0)
        return -1;
    if (m.rows == 1 || m.cols == 1) {
        img->dim = 1;
        img->shape[0] = m.rows * m.cols;
        img->shape[1] = 1;
    } else {
        img->dim = 2;
        img->shape[0] = m.rows;
        img->shape[1] = m.cols;
    }
    img->values = m.values;
    return 0;
}

void cli_write_pgm(void *stream, size_t rows, size_t cols, const double *values)
{
    FILE *out = stream;
    const size_t n = rows * cols;
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = values[i] > mx ? values[i] : mx;
    fprintf(out, "P5\n# otk grid barycenter, scaled to its maximum %.17g\n%zu %zu\n65535\n", mx,
            cols, rows);
    for (size_t i = 0; i < n; i++) {
        const double s = mx > 0.0 ? values[i] / mx * 65535.0 : 0.0;
        const unsigned p = s <= 0.0 ? 0u : s >= 65535.0 ? 65535u : (unsigned)lround(s);
        putc((int)(p >> 8), out);
        putc((int)(p & 255u), out);
    }
}

int cli_write_png(void *stream, size_t rows, size_t cols, const double *values)
{
#ifdef OTK_HAVE_PNG
    const size_t n = rows * cols;
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = values[i] > mx ? values[i] : mx;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        cli_error("out of memory for a %zu x %zu PNG image", rows, cols);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const double s = mx > 0.0 ? values[i] / mx * 255.0 : 0.0;
        buf[i] = (unsigned char)(s <= 0.0 ? 0 : s >= 255.0 ? 255 : lround(s));
    }
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)cols;
    im.height = (png_uint_32)rows;
    im.format = PNG_FORMAT_GRAY;
    const int ok = png_image_write_to_stdio(&im, stream, 0, buf, 0, NULL);
    free(buf);
    if (!ok) {
        cli_error("cannot encode the PNG image: %s", im.message);
        png_image_free(&im);
        return -1;
    }
    return 0;
#else
    (void)stream;
    (void)rows;
    (void)cols;
    (void)values;
    cli_error("PNG output needs an otk built with libpng (apt-get install libpng-dev, then "
              "configure again); use .pgm or CSV");
    return -1;
#endif
}

int cli_have_png(void)
{
#ifdef OTK_HAVE_PNG
    return 1;
#else
    return 0;
#endif
}
