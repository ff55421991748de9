/* Mesh readers: OFF and Wavefront OBJ (otkit/mesh.h, otk_mesh_read).  Every
 * complaint about the content is "PATH:LINE: what", status OTK_EPARSE. */
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
#include <strings.h>
#include "otkit/mesh.h"
#include "internal.h"
#include "mesh_internal.h"

/* Growable arrays of coordinates and triangle indices. */
/* Growable arrays of coordinates and triangle indices, with the line each
 * came from (so that geometric errors found later can name it). */
typedef struct {
    double *xyz;
    size_t *vline;
    size_t nv, cap_v;
    size_t *F;
    size_t *fline;
    size_t nf, cap_f;
} mesh_buf;

static int push_vertex(mesh_buf *b, const double *p, size_t line)
{
    if (b->nv == b->cap_v) {
        size_t cap = b->cap_v ? 2 * b->cap_v : 256;
        double *g = realloc(b->xyz, 3 * cap * sizeof *g);
        if (!g)
            return -1;
        b->xyz = g;
        size_t *gl = realloc(b->vline, cap * sizeof *gl);
        if (!gl)
            return -1;
        b->vline = gl;
        b->cap_v = cap;
    }
    b->vline[b->nv] = line;
    memcpy(b->xyz + 3 * b->nv++, p, 3 * sizeof *p);
    return 0;
}

static int push_face(mesh_buf *b, size_t i, size_t j, size_t k, size_t line)
{
    if (b->nf == b->cap_f) {
        size_t cap = b->cap_f ? 2 * b->cap_f : 256;
        size_t *g = realloc(b->F, 3 * cap * sizeof *g);
        if (!g)
            return -1;
        b->F = g;
        size_t *gl = realloc(b->fline, cap * sizeof *gl);
        if (!gl)
            return -1;
        b->fline = gl;
        b->cap_f = cap;
    }
    b->fline[b->nf] = line;
    size_t *t = b->F + 3 * b->nf++;
    t[0] = i;
    t[1] = j;
    t[2] = k;
    return 0;
}

/* A whole line, however long (grown with realloc); NULL at end of file. */
static char *read_line(FILE *f, char **buf, size_t *cap, int *err)
{
    size_t len = 0;
    *err = 0;
    for (;;) {
        if (len + 2 > *cap) {
            size_t c = *cap ? 2 * *cap : 256;
            char *g = realloc(*buf, c);
            if (!g) {
                *err = 1;
                return NULL;
            }
            *buf = g;
            *cap = c;
        }
        int ch = getc(f);
        if (ch == EOF) {
            if (len == 0)
                return NULL;
            break;
        }
        if (ch == '\n')
            break;
        (*buf)[len++] = (char)ch;
    }
    (*buf)[len] = '\0';
    char *hash = strchr(*buf, '#');
    if (hash)
        *hash = '\0';
    return *buf;
}

static int blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

/* Strict reals: the whole token must be a finite number. */
static int parse_real(const char **s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(*s, &end);
    if (end == *s || errno == ERANGE || !isfinite(*v) ||
        (*end && !isspace((unsigned char)*end)))
        return -1;
    *s = end;
    return 0;
}

static int parse_count(const char **s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(*s, &end, 10);
    if (end == *s || errno == ERANGE || (*end && !isspace((unsigned char)*end)))
        return -1;
    *s = end;
    return 0;
}

#define PARSE_FAIL(...) (st = otk__fail(OTK_EPARSE, __VA_ARGS__))

static otk_status read_off(FILE *f, const char *path, mesh_buf *b)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int err;
    otk_status st = OTK_SUCCESS;
    long long counts[3];
    int have_header = 0, have = 0;
    long long vseen = 0, fseen = 0;
    const char *s;
    while ((s = read_line(f, &line, &cap, &err)) != NULL) {
        lineno++;
        if (blank(s))
            continue;
        while (isspace((unsigned char)*s))
            s++;
        if (!have_header) {
            if (strncmp(s, "OFF", 3) != 0 || (s[3] && !isspace((unsigned char)s[3]))) {
                PARSE_FAIL("%s:%zu: expected the header \"OFF\"", path, lineno);
                break;
            }
            have_header = 1;
            s += 3;
            if (blank(s))
                continue;
        }
        if (have < 3) {
            while (have < 3 && !blank(s)) {
                while (isspace((unsigned char)*s))
                    s++;
                if (parse_count(&s, &counts[have]) || counts[have] < 0) {
                    PARSE_FAIL("%s:%zu: expected the counts \"nv nf ne\" (non-negative integers)",
                               path, lineno);
                    break;
                }
                have++;
            }
            if (st)
                break;
            if (have == 3 && (counts[0] == 0 || counts[1] == 0)) {
                PARSE_FAIL("%s:%zu: the mesh has %lld vertices and %lld faces; both must be > 0",
                           path, lineno, counts[0], counts[1]);
                break;
            }
            continue;
        }
        if (vseen < counts[0]) {
            double p[3];
            for (int k = 0; k < 3; k++) {
                while (isspace((unsigned char)*s))
                    s++;
                if (parse_real(&s, &p[k])) {
                    PARSE_FAIL("%s:%zu: vertex %lld: coordinate %d is missing or not a finite "
                               "number",
                               path, lineno, vseen, k);
                    break;
                }
            }
            if (st)
                break;
            if (push_vertex(b, p, lineno)) {
                st = otk__fail(OTK_ENOMEM, "otk_mesh_read: out of memory");
                break;
            }
            vseen++;
            continue;
        }
        if (fseen < counts[1]) {
            long long k, idx[3], first = 0, prev = 0;
            if (parse_count(&s, &k) || k < 3) {
                PARSE_FAIL("%s:%zu: face %lld: expected a vertex count >= 3", path, lineno, fseen);
                break;
            }
            for (long long q = 0; q < k; q++) {
                long long v;
                while (isspace((unsigned char)*s))
                    s++;
                if (parse_count(&s, &v)) {
                    PARSE_FAIL("%s:%zu: face %lld: vertex index %lld of %lld is missing or not an "
                               "integer",
                               path, lineno, fseen, q, k);
                    break;
                }
                if (v < 0 || v >= counts[0]) {
                    PARSE_FAIL("%s:%zu: face %lld: vertex index %lld is out of range [0, %lld)",
                               path, lineno, fseen, v, counts[0]);
                    break;
                }
                if (q == 0)
                    first = v;
                else if (q >= 2) {
                    idx[0] = first;
                    idx[1] = prev;
                    idx[2] = v;
                    if (push_face(b, (size_t)idx[0], (size_t)idx[1], (size_t)idx[2], lineno)) {
                        st = otk__fail(OTK_ENOMEM, "otk_mesh_read: out of memory");
                        break;
                    }
                }
                prev = v;
            }
            if (st)
                break;
            fseen++;
            continue;
        }
        /* Edges or trailing data after the faces: the counts promised none. */
        PARSE_FAIL("%s:%zu: unexpected data after the %lld faces", path, lineno, counts[1]);
        break;
    }
    if (!st && err)
        st = otk__fail(OTK_ENOMEM, "otk_mesh_read: out of memory");
    if (!st && ferror(f))
        st = otk__fail(OTK_EIO, "otk_mesh_read: %s: read error", path);
    if (!st && (!have_header || have < 3))
        PARSE_FAIL("%s:%zu: end of file before the %s", path, lineno,
                   !have_header ? "header \"OFF\"" : "counts \"nv nf ne\"");
    if (!st && (vseen < counts[0] || fseen < counts[1]))
        PARSE_FAIL("%s:%zu: end of file after %lld of %lld vertices and %lld of %lld faces", path,
                   lineno, vseen, counts[0], fseen, counts[1]);
    free(line);
    return st;
}

/* One OBJ face corner "i", "i/t", "i//n" or "i/t/n": the vertex index only.
 * 1-based; negative = relative to the vertices read so far. */
static int obj_index(const char **s, size_t nv, size_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(*s, &end, 10);
    if (end == *s || errno == ERANGE)
        return -1;
    while (*end && !isspace((unsigned char)*end)) {
        if (*end != '/' && !isdigit((unsigned char)*end) && *end != '-')
            return -1;
        end++;
    }
    *s = end;
    if (v > 0 && (size_t)v <= nv) {
        *out = (size_t)v - 1;
        return 0;
    }
    if (v < 0 && (size_t)(-v) <= nv) {
        *out = nv - (size_t)(-v);
        return 0;
    }
    return -2;
}

static otk_status read_obj(FILE *f, const char *path, mesh_buf *b)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int err;
    otk_status st = OTK_SUCCESS;
    const char *s;
    while ((s = read_line(f, &line, &cap, &err)) != NULL) {
        lineno++;
        while (isspace((unsigned char)*s))
            s++;
        if (s[0] == 'v' && isspace((unsigned char)s[1])) {
            s++;
            double p[3];
            for (int k = 0; k < 3; k++) {
                while (isspace((unsigned char)*s))
                    s++;
                if (parse_real(&s, &p[k])) {
                    PARSE_FAIL("%s:%zu: vertex %zu: coordinate %d is missing or not a finite number",
                               path, lineno, b->nv + 1, k);
                    break;
                }
            }
            if (st)
                break;
            if (push_vertex(b, p, lineno)) {
                st = otk__fail(OTK_ENOMEM, "otk_mesh_read: out of memory");
                break;
            }
        } else if (s[0] == 'f' && isspace((unsigned char)s[1])) {
            s++;
            size_t first = 0, prev = 0, q = 0;
            for (;;) {
                while (isspace((unsigned char)*s))
                    s++;
                if (!*s)
                    break;
                size_t v;
                int r = obj_index(&s, b->nv, &v);
                if (r == -1) {
                    PARSE_FAIL("%s:%zu: face corner %zu is not a vertex index", path, lineno, q + 1);
                    break;
                }
                if (r == -2) {
                    PARSE_FAIL("%s:%zu: face corner %zu refers to a vertex not defined before it "
                               "(%zu defined)",
                               path, lineno, q + 1, b->nv);
                    break;
                }
                if (q == 0)
                    first = v;
                else if (q >= 2 && push_face(b, first, prev, v, lineno)) {
                    st = otk__fail(OTK_ENOMEM, "otk_mesh_read: out of memory");
                    break;
                }
                prev = v;
                q++;
            }
            if (st)
                break;
            if (q < 3) {
                PARSE_FAIL("%s:%zu: a face needs at least 3 vertices, found %zu", path, lineno, q);
                break;
            }
        }
        /* vt, vn, g, o, s, usemtl, mtllib...: not needed for the Laplacian. */
    }
    if (!st && err)
        st = otk__fail(OTK_ENOMEM, "otk_mesh_read: out of memory");
    if (!st && ferror(f))
        st = otk__fail(OTK_EIO, "otk_mesh_read: %s: read error", path);
    if (!st && (b->nv == 0 || b->nf == 0))
        PARSE_FAIL("%s:%zu: the file defines %zu vertices and %zu faces; both must be > 0", path,
                   lineno, b->nv, b->nf);
    free(line);
    return st;
}

otk_status otk_mesh_read(otk_mesh **out, const char *path)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_mesh_read: out is NULL");
    *out = NULL;
    if (!path)
        return otk__fail(OTK_ENULL, "otk_mesh_read: path is NULL");
    const char *dot = strrchr(path, '.');
    int is_off = dot && strcasecmp(dot, ".off") == 0;
    int is_obj = dot && strcasecmp(dot, ".obj") == 0;
    if (!is_off && !is_obj)
        return otk__fail(OTK_EPARAM, "otk_mesh_read: %s: unknown extension (expected .off or .obj)",
                         path);
    FILE *f = fopen(path, "r");
    if (!f)
        return otk__fail(OTK_EIO, "otk_mesh_read: cannot open %s: %s", path, strerror(errno));
    mesh_buf b = {NULL, NULL, 0, 0, NULL, NULL, 0, 0};
    otk_status st = is_off ? read_off(f, path, &b) : read_obj(f, path, &b);
    fclose(f);
    if (!st) {
        otk__mesh_culprit culprit;
        st = otk__mesh_build(out, b.nv, b.xyz, b.nf, b.F, &culprit);
        /* Name the line of the face (or vertex) at fault; face indices in
         * the message count triangles after the fan split. */
        size_t line = culprit.face != SIZE_MAX     ? b.fline[culprit.face]
                      : culprit.vertex != SIZE_MAX ? b.vline[culprit.vertex]
                                                   : 0;
        if (st && line) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", otk_last_error());
            st = otk__fail(st, "%s:%zu: %s", path, line, msg);
        }
    }
    free(b.xyz);
    free(b.vline);
    free(b.F);
    free(b.fline);
    return st;
}
