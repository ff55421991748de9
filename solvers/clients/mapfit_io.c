/* Model files (otkit/mapfit.h, "Model files"): otk_map_save writes a
 * line-oriented text file atomically, otk_map_load validates every line. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mapfit_internal.h"
#include "internal.h"

static void write_map(FILE *f, const otk_map *map)
{
    fprintf(f, "otkit-map 1\nfamily %s\ndim %zu\n", otk_map_family_name(map->family), map->d);
    if (map->family == OTK_MAP_FAMILY_ENTROPIC) {
        size_t m, d;
        const double *y, *b, *g;
        double eps, power;
        otk_ground ground;
        otk_entropic_map_data(map->entropic, &m, &d, &y, &b, &g, &eps, &ground, &power);
        fprintf(f, "ground %s\npower %.17g\neps %.17g\natoms %zu\n", otk_ground_name(ground),
                power, eps, m);
        for (size_t j = 0; j < m; j++) {
            for (size_t k = 0; k < d; k++)
                fprintf(f, "%.17g ", y[j * d + k]);
            fprintf(f, "%.17g %.17g\n", b ? b[j] : 1.0 / (double)m, g[j]);
        }
    } else {
        if (map->family == OTK_MAP_FAMILY_MLP) {
            fprintf(f, "activation %s\nhidden %zu", otk_activation_name(map->activation), map->K);
            for (size_t k = 1; k <= map->K; k++)
                fprintf(f, " %zu", map->width[k]);
            fputc('\n', f);
        }
        fprintf(f, "params %zu\n", map->n_params);
        for (size_t k = 0; k < map->n_params; k++)
            fprintf(f, "%.17g\n", map->theta[k]);
    }
    fputs("end\n", f);
}

static otk_status io_fail(const char *what, const char *path)
{
    char reason[160] = "unknown error";
    int err = errno;
    if (strerror_r(err, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "error %d", err);
    return otk__fail(OTK_EIO, "%s %s: %s", what, path, reason);
}

otk_status otk_map_save(const otk_map *map, const char *path)
{
    if (!map || !path)
        return otk__fail(OTK_ENULL, "otk_map_save: %s is NULL", map ? "path" : "map");
    const size_t len = strlen(path);
    char *tmp = malloc(len + 12);
    if (!tmp)
        return otk__fail(OTK_ENOMEM, "otk_map_save: out of memory");
    /* A sibling of the target, so that rename(2) replaces it atomically. */
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmpXXXXXX", 11);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        otk_status st = io_fail("cannot create a temporary file next to", path);
        free(tmp);
        return st;
    }
    (void)fchmod(fd, 0644); /* mkstemp's 0600 would surprise whoever loads the model */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        otk_status st = io_fail("cannot write", tmp);
        close(fd);
        unlink(tmp);
        free(tmp);
        return st;
    }
    write_map(f, map);
    int failed = ferror(f) || fflush(f) != 0 || fsync(fd) != 0;
    otk_status st = OTK_SUCCESS;
    if (failed)
        st = io_fail("cannot write", tmp);
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        st = io_fail("cannot write", tmp);
    }
    if (!failed && rename(tmp, path) != 0) {
        failed = 1;
        st = io_fail("cannot rename the temporary file onto", path);
    }
    if (failed)
        unlink(tmp);
    free(tmp);
    return st;
}

/* The loader's position in the file, for messages "PATH:LINE: what". */
typedef struct {
    FILE *f;
    const char *path;
    char *line;
    size_t cap;
    long lineno;
} map_reader;

static otk_status format_error(const map_reader *r, const char *fmt, ...) OTK_PRINTF(2, 3);
static otk_status format_error(const map_reader *r, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return otk__fail(OTK_EPARSE, "%s:%ld: %s", r->path, r->lineno, what);
}

/* The next line that is not blank or a comment, trailing blanks removed;
 * NULL at the end of the file (or on a read error, told apart by ferror). */
static char *next_line(map_reader *r)
{
    ssize_t got;
    while ((got = getline(&r->line, &r->cap, r->f)) >= 0) {
        r->lineno++;
        if ((size_t)got != strlen(r->line))
            return r->line; /* an embedded NUL: let the parser reject the line */
        while (got > 0 && (r->line[got - 1] == '\n' || r->line[got - 1] == '\r' ||
                           r->line[got - 1] == ' ' || r->line[got - 1] == '\t'))
            r->line[--got] = '\0';
        char *s = r->line + strspn(r->line, " \t");
        if (*s && *s != '#')
            return s;
    }
    return NULL;
}

/* A line "KEY VALUE" where the whole value is stored in *value. */
static otk_status expect_key(map_reader *r, const char *key, char **value)
{
    char *s = next_line(r);
    if (!s) {
        if (ferror(r->f))
            return io_fail("cannot read", r->path);
        r->lineno++;
        return format_error(r, "unexpected end of file: expected \"%s\"", key);
    }
    size_t kl = strlen(key);
    if (strncmp(s, key, kl) != 0 || (s[kl] != ' ' && s[kl] != '\t' && s[kl] != '\0'))
        return format_error(r, "expected \"%s\", found \"%.40s\"", key, s);
    s += kl;
    *value = s + strspn(s, " \t");
    return OTK_SUCCESS;
}

/* Parse whitespace-separated numbers of `text` into out[0..count): all of
 * them finite, no more and no fewer. */
static otk_status parse_numbers(map_reader *r, const char *text, size_t count, double *out,
                                const char *what)
{
    const char *s = text;
    for (size_t k = 0; k < count; k++) {
        char *end;
        s += strspn(s, " \t");
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || (*end && *end != ' ' && *end != '\t'))
            return format_error(r, "%s: value %zu of %zu is not a number (\"%.20s\")", what, k + 1,
                                count, s);
        if (!isfinite(v))
            return format_error(r, "%s: value %zu = %g is not finite", what, k + 1, v);
        out[k] = v;
        s = end;
    }
    s += strspn(s, " \t");
    if (*s)
        return format_error(r, "%s: more than %zu values (\"%.20s\")", what, count, s);
    return OTK_SUCCESS;
}

/* A positive count within [1, limit]. */
static otk_status parse_count(map_reader *r, const char *text, size_t limit, size_t *out,
                              const char *what)
{
    char *end;
    errno = 0;
    if (!(*text >= '0' && *text <= '9'))
        return format_error(r, "%s: expected a positive integer, found \"%.20s\"", what, text);
    unsigned long long v = strtoull(text, &end, 10);
    end += strspn(end, " \t");
    if (errno || *end || v == 0 || v > limit)
        return format_error(r, "%s: expected an integer in 1..%zu, found \"%.20s\"", what, limit,
                            text);
    *out = (size_t)v;
    return OTK_SUCCESS;
}

/* The "params" section of a map whose shape says it has `expect` parameters,
 * into a malloc'd array (*theta).  The array grows with the lines actually
 * read, and the map itself is allocated only afterwards: a short file whose
 * header claims a 46340-dimensional affine map or 2^20-wide layers fails on
 * its missing lines, not on a multi-gigabyte allocation. */
static otk_status load_params(map_reader *r, const char *family, size_t expect, double **theta)
{
    char *v;
    size_t count;
    *theta = NULL;
    otk_status st = expect_key(r, "params", &v);
    if (st < 0 || (st = parse_count(r, v, SIZE_MAX / 8, &count, "params")) < 0)
        return st;
    if (count != expect)
        return format_error(r, "params %zu: a %s map of this shape has %zu parameters", count,
                            family, expect);
    size_t cap = count < 1024 ? count : 1024;
    double *t = malloc(cap * sizeof *t);
    if (!t)
        return otk__fail(OTK_ENOMEM, "otk_map_load: out of memory (%zu parameters)", count);
    for (size_t k = 0; k < count; k++) {
        char *s = next_line(r);
        if (!s) {
            r->lineno++;
            st = format_error(r, "unexpected end of file: parameter %zu of %zu missing", k + 1,
                              count);
            goto fail;
        }
        if (k == cap) {
            size_t grown = cap > count / 2 ? count : 2 * cap;
            double *nt = realloc(t, grown * sizeof *t);
            if (!nt) {
                st = otk__fail(OTK_ENOMEM, "otk_map_load: out of memory (%zu parameters)",
                               count);
                goto fail;
            }
            t = nt;
            cap = grown;
        }
        if ((st = parse_numbers(r, s, 1, t + k, "parameter")) < 0)
            goto fail;
    }
    *theta = t;
    return OTK_SUCCESS;
fail:
    free(t);
    return st;
}

static otk_status load_entropic(map_reader *r, size_t d, otk_map **out)
{
    char *v;
    otk_ground ground;
    double power, eps;
    size_t m;
    otk_status st = expect_key(r, "ground", &v);
    if (st < 0)
        return st;
    if (otk_ground_from_name(v, &ground) < 0)
        return format_error(r, "ground \"%.40s\" is not a ground cost name", v);
    if ((st = expect_key(r, "power", &v)) < 0 || (st = parse_numbers(r, v, 1, &power, "power")) < 0)
        return st;
    if ((st = expect_key(r, "eps", &v)) < 0 || (st = parse_numbers(r, v, 1, &eps, "eps")) < 0)
        return st;
    if (!(eps > 0.0))
        return format_error(r, "eps = %g must be > 0", eps);
    if ((st = expect_key(r, "atoms", &v)) < 0 ||
        (st = parse_count(r, v, SIZE_MAX / 8 / (d + 2), &m, "atoms")) < 0)
        return st;
    /* The arrays grow with the atoms actually read: the count comes from the
     * file, and a short file declaring 10^9 atoms must fail on its missing
     * lines, not on a multi-gigabyte allocation. */
    size_t cap = m < 1024 ? m : 1024;
    double *y = malloc(cap * d * sizeof *y), *b = malloc(cap * sizeof *b),
           *g = malloc(cap * sizeof *g);
    double *row = malloc((d + 2) * sizeof *row);
    if (!y || !b || !g || !row) {
        st = otk__fail(OTK_ENOMEM, "otk_map_load: out of memory (%zu atoms)", m);
        goto done;
    }
    for (size_t j = 0; j < m; j++) {
        char *s = next_line(r);
        if (!s) {
            r->lineno++;
            st = format_error(r, "unexpected end of file: atom %zu of %zu missing", j + 1, m);
            goto done;
        }
        if (j == cap) {
            size_t grown = cap > m / 2 ? m : 2 * cap;
            double *ny = realloc(y, grown * d * sizeof *y);
            if (ny)
                y = ny;
            double *nb = ny ? realloc(b, grown * sizeof *b) : NULL;
            if (nb)
                b = nb;
            double *ng = nb ? realloc(g, grown * sizeof *g) : NULL;
            if (!ng) {
                st = otk__fail(OTK_ENOMEM, "otk_map_load: out of memory (%zu atoms)", m);
                goto done;
            }
            g = ng;
            cap = grown;
        }
        if ((st = parse_numbers(r, s, d + 2, row, "atom")) < 0)
            goto done;
        if (row[d] < 0.0) {
            st = format_error(r, "atom %zu: weight b = %g is negative", j + 1, row[d]);
            goto done;
        }
        memcpy(y + j * d, row, d * sizeof *y);
        b[j] = row[d];
        g[j] = row[d + 1];
    }
    otk_map *map = otk__map_new(OTK_MAP_FAMILY_ENTROPIC, d);
    if (!map) {
        st = otk__fail(OTK_ENOMEM, "otk_map_load: out of memory");
        goto done;
    }
    st = otk_entropic_map_from_potential(&map->entropic, m, d, y, b, g, eps, ground, power);
    if (st < 0) {
        /* Say where the rejected data came from, then keep the solver's reason. */
        char why[256];
        snprintf(why, sizeof why, "%s", otk_last_error());
        free(map);
        st = format_error(r, "the entropic map data is invalid: %s", why);
        goto done;
    }
    *out = map;
done:
    free(y);
    free(b);
    free(g);
    free(row);
    return st;
}

static otk_status load_map(map_reader *r, otk_map **out)
{
    char *v;
    size_t d;
    otk_map_family family;
    otk_status st = expect_key(r, "otkit-map", &v);
    if (st < 0)
        return r->lineno <= 1 ? format_error(r, "not an otkit map file (no \"otkit-map 1\" line)")
                              : st;
    if (strcmp(v, "1") != 0)
        return format_error(r, "format version \"%.20s\" is not supported (this otkit reads 1)", v);
    if ((st = expect_key(r, "family", &v)) < 0)
        return st;
    if (otk_map_family_from_name(v, &family) < 0)
        return format_error(r, "%s", otk_last_error()); /* names the valid families */
    if ((st = expect_key(r, "dim", &v)) < 0 || (st = parse_count(r, v, 46340, &d, "dim")) < 0)
        return st;
    otk_map *map = NULL;
    if (family == OTK_MAP_FAMILY_ENTROPIC) {
        if ((st = load_entropic(r, d, &map)) < 0)
            return st;
    } else {
        otk_activation act = OTK_ACTIVATION_GELU;
        size_t K = 0, widths[OTK_MAP_MAX_HIDDEN];
        if (family == OTK_MAP_FAMILY_MLP) {
            if ((st = expect_key(r, "activation", &v)) < 0)
                return st;
            if (otk_activation_from_name(v, &act) < 0)
                return format_error(r, "%s", otk_last_error()); /* names the valid activations */
            if ((st = expect_key(r, "hidden", &v)) < 0)
                return st;
            char *end;
            K = strtoul(v, &end, 10);
            if (end == v || K == 0 || K > OTK_MAP_MAX_HIDDEN ||
                (*end && *end != ' ' && *end != '\t'))
                return format_error(r, "hidden: the layer count must be in 1..%d (\"%.20s\")",
                                    OTK_MAP_MAX_HIDDEN, v);
            double wd[OTK_MAP_MAX_HIDDEN];
            if ((st = parse_numbers(r, end, K, wd, "hidden widths")) < 0)
                return st;
            for (size_t k = 0; k < K; k++) {
                if (wd[k] != floor(wd[k]) || wd[k] < 1 || wd[k] > (double)(1u << 20))
                    return format_error(r, "hidden width %zu = %g is not an integer in 1..%u",
                                        k + 1, wd[k], 1u << 20);
                widths[k] = (size_t)wd[k];
            }
        }
        double *theta;
        const size_t expect = family == OTK_MAP_FAMILY_AFFINE
                                  ? d * d + d
                                  : otk__mlp_param_count(d, K, widths);
        if ((st = load_params(r, otk_map_family_name(family), expect, &theta)) < 0)
            return st;
        st = family == OTK_MAP_FAMILY_AFFINE ? otk_map_alloc_affine(&map, d)
                                             : otk_map_alloc_mlp(&map, d, K, widths, act, 0);
        if (st < 0) {
            free(theta);
            return st;
        }
        memcpy(map->theta, theta, expect * sizeof *theta);
        free(theta);
    }
    if ((st = expect_key(r, "end", &v)) < 0 || (*v && (st = format_error(r, "text after \"end\""))))
        goto fail;
    if (next_line(r)) {
        st = format_error(r, "content after the \"end\" line");
        goto fail;
    }
    if (ferror(r->f)) {
        st = io_fail("cannot read", r->path);
        goto fail;
    }
    *out = map;
    return OTK_SUCCESS;
fail:
    otk_map_free(map);
    return st;
}

otk_status otk_map_load(otk_map **out, const char *path)
{
    if (!out || !path)
        return otk__fail(OTK_ENULL, "otk_map_load: %s is NULL", out ? "path" : "out");
    *out = NULL;
    map_reader r = {NULL, path, NULL, 0, 0};
    if (!(r.f = fopen(path, "r")))
        return io_fail("cannot open", path);
    otk_status st = load_map(&r, out);
    free(r.line);
    fclose(r.f);
    return st;
}
