/* Triangle meshes and weighted graphs: validation, the cotangent / graph
 * Laplacian and lumped areas (otkit/mesh.h), and the generated shapes. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/mesh.h"
#include "internal.h"
#include "mesh_internal.h"

/* ------------------------------------------------------------------ sparse assembly */

typedef struct {
    size_t i, j;
    double v;
} triplet;

static int triplet_cmp(const void *pa, const void *pb)
{
    const triplet *a = pa, *b = pb;
    if (a->j != b->j)
        return a->j < b->j ? -1 : 1;
    if (a->i != b->i)
        return a->i < b->i ? -1 : 1;
    return 0;
}

/* CSC of the nv×nv sum of the triplets (duplicates added), rows sorted.
 * The sort keeps the result independent of the input order of duplicates
 * up to the order of the additions, which qsort leaves unspecified; the
 * entries summed are few (<= a vertex's valence) and of one sign. */
static otk_status assemble(otk_mesh *m, triplet *t, size_t nt)
{
    qsort(t, nt, sizeof *t, triplet_cmp);
    m->Lp = calloc(m->nv + 1, sizeof *m->Lp);
    m->Li = malloc((nt ? nt : 1) * sizeof *m->Li);
    m->Lx = malloc((nt ? nt : 1) * sizeof *m->Lx);
    if (!m->Lp || !m->Li || !m->Lx)
        return otk__fail(OTK_ENOMEM, "mesh: out of memory for the Laplacian (%zu entries)", nt);
    size_t nz = 0;
    for (size_t k = 0; k < nt; k++) {
        if (nz > 0 && k > 0 && t[k].i == t[k - 1].i && t[k].j == t[k - 1].j) {
            m->Lx[nz - 1] += t[k].v;
            continue;
        }
        m->Li[nz] = t[k].i;
        m->Lx[nz] = t[k].v;
        m->Lp[t[k].j + 1]++;
        nz++;
    }
    for (size_t j = 0; j < m->nv; j++)
        m->Lp[j + 1] += m->Lp[j];
    return OTK_SUCCESS;
}

/* ------------------------------------------------------------------ connectivity */

static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* OTK_EDISCONNECTED when the Laplacian's graph has more than one component. */
static otk_status check_connected(const otk_mesh *m, const char *what, size_t *bad_vertex)
{
    size_t *parent = malloc(m->nv * sizeof *parent);
    if (!parent)
        return otk__fail(OTK_ENOMEM, "%s: out of memory", what);
    for (size_t v = 0; v < m->nv; v++)
        parent[v] = v;
    for (size_t j = 0; j < m->nv; j++)
        for (size_t k = m->Lp[j]; k < m->Lp[j + 1]; k++) {
            size_t a = uf_find(parent, m->Li[k]), b = uf_find(parent, j);
            if (a != b)
                parent[a < b ? b : a] = a < b ? a : b;
        }
    size_t comps = 0, first_out = SIZE_MAX;
    for (size_t v = 0; v < m->nv; v++) {
        size_t r = uf_find(parent, v);
        if (r == v)
            comps++;
        if (r != uf_find(parent, 0) && first_out == SIZE_MAX)
            first_out = v;
    }
    free(parent);
    if (comps > 1 && bad_vertex)
        *bad_vertex = first_out;
    if (comps > 1)
        return otk__fail(OTK_EDISCONNECTED,
                         "%s: %zu connected components: vertex %zu is not connected to vertex 0",
                         what, comps, first_out);
    return OTK_SUCCESS;
}

/* ------------------------------------------------------------------ triangle meshes */

static void sub3(const double *a, const double *b, double *r)
{
    r[0] = a[0] - b[0];
    r[1] = a[1] - b[1];
    r[2] = a[2] - b[2];
}
static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static void cross3(const double *a, const double *b, double *r)
{
    r[0] = a[1] * b[2] - a[2] * b[1];
    r[1] = a[2] * b[0] - a[0] * b[2];
    r[2] = a[0] * b[1] - a[1] * b[0];
}

typedef struct {
    size_t lo, hi, face;
} edge_ref;

static int edge_cmp(const void *pa, const void *pb)
{
    const edge_ref *a = pa, *b = pb;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    return a->face < b->face ? -1 : a->face > b->face;
}

static otk_status check_manifold(size_t nf, const size_t *F, size_t *bad_face)
{
    edge_ref *e = malloc(3 * nf * sizeof *e);
    if (!e)
        return otk__fail(OTK_ENOMEM, "otk_mesh_from_triangles: out of memory");
    for (size_t f = 0; f < nf; f++)
        for (int k = 0; k < 3; k++) {
            size_t a = F[3 * f + k], b = F[3 * f + (k + 1) % 3];
            e[3 * f + k] = (edge_ref){a < b ? a : b, a < b ? b : a, f};
        }
    qsort(e, 3 * nf, sizeof *e, edge_cmp);
    otk_status st = OTK_SUCCESS;
    for (size_t k = 0; k + 2 < 3 * nf; k++)
        if (e[k].lo == e[k + 2].lo && e[k].hi == e[k + 2].hi) {
            *bad_face = e[k + 2].face;
            st = otk__fail(OTK_ENONMANIFOLD,
                           "otk_mesh_from_triangles: edge (%zu, %zu) is shared by more than two "
                           "faces (faces %zu, %zu, %zu, ...)",
                           e[k].lo, e[k].hi, e[k].face, e[k + 1].face, e[k + 2].face);
            break;
        }
    free(e);
    return st;
}

static otk_mesh *mesh_new(size_t nv)
{
    otk_mesh *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nv = nv;
    m->areas = calloc(nv, sizeof *m->areas);
    if (!m->areas) {
        free(m);
        return NULL;
    }
    return m;
}

otk_status otk_mesh_from_triangles(otk_mesh **out, size_t nv, const double *xyz, size_t nf,
                                   const size_t *faces)
{
    otk__mesh_culprit culprit;
    return otk__mesh_build(out, nv, xyz, nf, faces, &culprit);
}

otk_status otk__mesh_build(otk_mesh **out, size_t nv, const double *xyz, size_t nf,
                           const size_t *faces, otk__mesh_culprit *culprit)
{
    static const char fn[] = "otk_mesh_from_triangles";
    culprit->face = culprit->vertex = SIZE_MAX;
    if (!out)
        return otk__fail(OTK_ENULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!xyz || !faces)
        return otk__fail(OTK_ENULL, "%s: %s is NULL", fn, !xyz ? "xyz" : "faces");
    if (nv == 0 || nf == 0)
        return otk__fail(OTK_ESIZE, "%s: nv = %zu and nf = %zu must be > 0", fn, nv, nf);
    if (otk__array_overflows(nv, 3, sizeof(double)) || otk__array_overflows(nf, 3, sizeof(size_t)))
        return otk__fail(OTK_ESIZE, "%s: %s = %zu overflows size_t", fn,
                         otk__array_overflows(nv, 3, sizeof(double)) ? "nv" : "nf",
                         otk__array_overflows(nv, 3, sizeof(double)) ? nv : nf);
    for (size_t v = 0; v < nv; v++)
        for (int k = 0; k < 3; k++)
            if (!isfinite(xyz[3 * v + k])) {
                culprit->vertex = v;
                return otk__fail(OTK_ENONFINITE, "%s: vertex %zu coordinate %d = %g is not finite",
                                 fn, v, k, xyz[3 * v + k]);
            }
    for (size_t f = 0; f < nf; f++) {
        const size_t *t = faces + 3 * f;
        for (int k = 0; k < 3; k++)
            if (t[k] >= nv) {
                culprit->face = f;
                return otk__fail(OTK_ERANGE, "%s: face %zu vertex %d = %zu is out of range (nv = %zu)",
                                 fn, f, k, t[k], nv);
            }
        if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) {
            culprit->face = f;
            return otk__fail(OTK_EDEGENERATE, "%s: face %zu (%zu, %zu, %zu) repeats a vertex", fn,
                             f, t[0], t[1], t[2]);
        }
        double e0[3], e1[3], e2[3], c[3];
        sub3(xyz + 3 * t[1], xyz + 3 * t[0], e0);
        sub3(xyz + 3 * t[2], xyz + 3 * t[1], e1);
        sub3(xyz + 3 * t[0], xyz + 3 * t[2], e2);
        cross3(e0, e1, c);
        double longest = fmax(dot3(e0, e0), fmax(dot3(e1, e1), dot3(e2, e2)));
        /* Relative to the face's own size, so that the test is scale-free. */
        if (!(sqrt(dot3(c, c)) > 1e-12 * longest)) {
            culprit->face = f;
            return otk__fail(OTK_EDEGENERATE, "%s: face %zu (%zu, %zu, %zu) has zero area", fn, f,
                             t[0], t[1], t[2]);
        }
    }
    otk_status st = check_manifold(nf, faces, &culprit->face);
    if (st)
        return st;

    otk_mesh *m = mesh_new(nv);
    triplet *T = malloc(12 * nf * sizeof *T);
    if (!m || !T || !(m->xyz = malloc(3 * nv * sizeof *m->xyz)) ||
        !(m->faces = malloc(3 * nf * sizeof *m->faces))) {
        free(T);
        otk_mesh_free(m);
        return otk__fail(OTK_ENOMEM, "%s: out of memory", fn);
    }
    m->nf = nf;
    memcpy(m->xyz, xyz, 3 * nv * sizeof *xyz);
    memcpy(m->faces, faces, 3 * nf * sizeof *faces);
    size_t nt = 0;
    for (size_t f = 0; f < nf; f++) {
        const size_t *t = faces + 3 * f;
        double area2 = 0.0;
        for (int k = 0; k < 3; k++) {
            /* The angle at corner k is opposite the edge (k+1, k+2). */
            const size_t o = t[k], p = t[(k + 1) % 3], q = t[(k + 2) % 3];
            double u[3], w[3], c[3];
            sub3(xyz + 3 * p, xyz + 3 * o, u);
            sub3(xyz + 3 * q, xyz + 3 * o, w);
            cross3(u, w, c);
            const double s = sqrt(dot3(c, c));
            const double half_cot = 0.5 * dot3(u, w) / s;
            area2 = s;
            T[nt++] = (triplet){p, q, -half_cot};
            T[nt++] = (triplet){q, p, -half_cot};
            T[nt++] = (triplet){p, p, half_cot};
            T[nt++] = (triplet){q, q, half_cot};
            double len = sqrt(dot3(u, u));
            m->max_edge = len > m->max_edge ? len : m->max_edge;
        }
        for (int k = 0; k < 3; k++)
            m->areas[t[k]] += area2 / 6.0;
    }
    st = assemble(m, T, nt);
    free(T);
    if (!st)
        for (size_t v = 0; v < nv; v++)
            if (m->areas[v] == 0.0) {
                culprit->vertex = v;
                st = otk__fail(OTK_EDISCONNECTED, "%s: vertex %zu is referenced by no face", fn, v);
                break;
            }
    if (!st)
        st = check_connected(m, fn, &culprit->vertex);
    if (st) {
        otk_mesh_free(m);
        return st;
    }
    *out = m;
    return OTK_SUCCESS;
}

/* ------------------------------------------------------------------ graphs */

otk_status otk_mesh_from_graph(otk_mesh **out, size_t nv, size_t ne, const size_t *edges,
                               const double *weights)
{
    static const char fn[] = "otk_mesh_from_graph";
    if (!out)
        return otk__fail(OTK_ENULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!edges)
        return otk__fail(OTK_ENULL, "%s: edges is NULL", fn);
    if (nv == 0 || ne == 0)
        return otk__fail(OTK_ESIZE, "%s: nv = %zu and ne = %zu must be > 0", fn, nv, ne);
    if (otk__array_overflows(nv, 3, sizeof(double)) || otk__array_overflows(ne, 2, sizeof(size_t)))
        return otk__fail(OTK_ESIZE, "%s: %s = %zu overflows size_t", fn,
                         otk__array_overflows(nv, 3, sizeof(double)) ? "nv" : "ne",
                         otk__array_overflows(nv, 3, sizeof(double)) ? nv : ne);
    for (size_t e = 0; e < ne; e++) {
        const size_t u = edges[2 * e], v = edges[2 * e + 1];
        if (u >= nv || v >= nv)
            return otk__fail(OTK_ERANGE, "%s: edge %zu (%zu, %zu) has a vertex out of range (nv = %zu)",
                             fn, e, u, v, nv);
        if (u == v)
            return otk__fail(OTK_EDEGENERATE, "%s: edge %zu is a self-loop at vertex %zu", fn, e, u);
        if (weights) {
            if (!isfinite(weights[e]))
                return otk__fail(OTK_ENONFINITE, "%s: weights[%zu] = %g is not finite", fn, e,
                                 weights[e]);
            if (!(weights[e] > 0.0))
                return otk__fail(OTK_ENEGATIVE, "%s: weights[%zu] = %g must be > 0", fn, e,
                                 weights[e]);
        }
    }
    otk_mesh *m = mesh_new(nv);
    triplet *T = malloc(4 * ne * sizeof *T);
    if (!m || !T) {
        free(T);
        otk_mesh_free(m);
        return otk__fail(OTK_ENOMEM, "%s: out of memory", fn);
    }
    m->is_graph = 1;
    size_t nt = 0;
    for (size_t e = 0; e < ne; e++) {
        const size_t u = edges[2 * e], v = edges[2 * e + 1];
        const double w = weights ? weights[e] : 1.0;
        T[nt++] = (triplet){u, v, -w};
        T[nt++] = (triplet){v, u, -w};
        T[nt++] = (triplet){u, u, w};
        T[nt++] = (triplet){v, v, w};
    }
    for (size_t v = 0; v < nv; v++)
        m->areas[v] = 1.0;
    otk_status st = assemble(m, T, nt);
    free(T);
    if (!st)
        st = check_connected(m, fn, NULL);
    if (st) {
        otk_mesh_free(m);
        return st;
    }
    *out = m;
    return OTK_SUCCESS;
}

void otk_mesh_free(otk_mesh *m)
{
    if (!m)
        return;
    free(m->xyz);
    free(m->faces);
    free(m->areas);
    free(m->Lp);
    free(m->Li);
    free(m->Lx);
    free(m);
}

size_t otk_mesh_vertex_count(const otk_mesh *m) { return m ? m->nv : 0; }
size_t otk_mesh_face_count(const otk_mesh *m) { return m ? m->nf : 0; }
const double *otk_mesh_coordinates(const otk_mesh *m) { return m ? m->xyz : NULL; }
const size_t *otk_mesh_faces(const otk_mesh *m) { return m ? m->faces : NULL; }
const double *otk_mesh_areas(const otk_mesh *m) { return m ? m->areas : NULL; }
int otk_mesh_is_graph(const otk_mesh *m) { return m ? m->is_graph : 0; }
double otk_mesh_max_edge(const otk_mesh *m) { return m ? m->max_edge : NAN; }

double otk_mesh_total_area(const otk_mesh *m)
{
    if (!m)
        return NAN;
    double s = 0.0;
    for (size_t v = 0; v < m->nv; v++)
        s += m->areas[v];
    return s;
}

double otk_mesh_laplacian_entry(const otk_mesh *m, size_t i, size_t j)
{
    if (!m || i >= m->nv || j >= m->nv)
        return NAN;
    for (size_t k = m->Lp[j]; k < m->Lp[j + 1]; k++)
        if (m->Li[k] == i)
            return m->Lx[k];
    return 0.0;
}

otk_status otk_mesh_laplacian_apply(const otk_mesh *m, const double *x, double *y)
{
    if (!m || !x || !y)
        return otk__fail(OTK_ENULL, "otk_mesh_laplacian_apply: %s is NULL",
                         !m ? "mesh" : !x ? "x" : "y");
    /* L is symmetric, so the CSC columns serve as rows. */
    for (size_t j = 0; j < m->nv; j++) {
        double s = 0.0;
        for (size_t k = m->Lp[j]; k < m->Lp[j + 1]; k++)
            s += m->Lx[k] * x[m->Li[k]];
        y[j] = s;
    }
    return OTK_SUCCESS;
}

/* ------------------------------------------------------------------ generated shapes */

/* Midpoint lookup for the icosphere: open addressing on the edge key. */
typedef struct {
    size_t cap;
    size_t *lo, *hi, *mid;
} edge_map;

static size_t edge_map_get(edge_map *em, size_t a, size_t b, double *xyz, size_t *nv)
{
    const size_t lo = a < b ? a : b, hi = a < b ? b : a;
    size_t h = (lo * 0x9E3779B97F4A7C15ull ^ hi * 0xC2B2AE3D27D4EB4Full) % em->cap;
    while (em->lo[h] != SIZE_MAX) {
        if (em->lo[h] == lo && em->hi[h] == hi)
            return em->mid[h];
        h = (h + 1) % em->cap;
    }
    double *p = xyz + 3 * *nv;
    for (int k = 0; k < 3; k++)
        p[k] = 0.5 * (xyz[3 * lo + k] + xyz[3 * hi + k]);
    const double r = sqrt(dot3(p, p));
    for (int k = 0; k < 3; k++)
        p[k] /= r;
    em->lo[h] = lo;
    em->hi[h] = hi;
    em->mid[h] = (*nv)++;
    return em->mid[h];
}

static otk_status icosphere(otk_mesh **out, size_t res)
{
    const double g = (1.0 + sqrt(5.0)) / 2.0;
    const double base[12][3] = {{-1, g, 0}, {1, g, 0}, {-1, -g, 0}, {1, -g, 0},
                                {0, -1, g}, {0, 1, g}, {0, -1, -g}, {0, 1, -g},
                                {g, 0, -1}, {g, 0, 1}, {-g, 0, -1}, {-g, 0, 1}};
    const size_t bf[20][3] = {{0, 11, 5}, {0, 5, 1},  {0, 1, 7},   {0, 7, 10}, {0, 10, 11},
                              {1, 5, 9},  {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
                              {3, 9, 4},  {3, 4, 2},  {3, 2, 6},   {3, 6, 8},  {3, 8, 9},
                              {4, 9, 5},  {2, 4, 11}, {6, 2, 10},  {8, 6, 7},  {9, 8, 1}};
    const size_t nv_final = 10 * ((size_t)1 << (2 * res)) + 2;
    const size_t nf_final = 20 * ((size_t)1 << (2 * res));
    double *xyz = malloc(3 * nv_final * sizeof *xyz);
    size_t *F = malloc(3 * nf_final * sizeof *F), *G = malloc(3 * nf_final * sizeof *G);
    edge_map em = {0, NULL, NULL, NULL};
    em.cap = 4 * nf_final + 7;
    em.lo = malloc(em.cap * sizeof(size_t));
    em.hi = malloc(em.cap * sizeof(size_t));
    em.mid = malloc(em.cap * sizeof(size_t));
    otk_status st = OTK_SUCCESS;
    if (!xyz || !F || !G || !em.lo || !em.hi || !em.mid) {
        st = otk__fail(OTK_ENOMEM, "otk_mesh_generate: out of memory for an icosphere");
        goto done;
    }
    for (int v = 0; v < 12; v++) {
        const double r = sqrt(dot3(base[v], base[v]));
        for (int k = 0; k < 3; k++)
            xyz[3 * v + k] = base[v][k] / r;
    }
    memcpy(F, bf, sizeof bf);
    size_t nv = 12, nf = 20;
    for (size_t level = 0; level < res; level++) {
        for (size_t h = 0; h < em.cap; h++)
            em.lo[h] = SIZE_MAX;
        for (size_t f = 0; f < nf; f++) {
            const size_t a = F[3 * f], b = F[3 * f + 1], c = F[3 * f + 2];
            const size_t ab = edge_map_get(&em, a, b, xyz, &nv);
            const size_t bc = edge_map_get(&em, b, c, xyz, &nv);
            const size_t ca = edge_map_get(&em, c, a, xyz, &nv);
            const size_t q[4][3] = {{a, ab, ca}, {b, bc, ab}, {c, ca, bc}, {ab, bc, ca}};
            memcpy(G + 12 * f, q, sizeof q);
        }
        nf *= 4;
        size_t *tmp = F;
        F = G;
        G = tmp;
    }
    st = otk_mesh_from_triangles(out, nv, xyz, nf, F);
done:
    free(xyz);
    free(F);
    free(G);
    free(em.lo);
    free(em.hi);
    free(em.mid);
    return st;
}

static otk_status grid_mesh(otk_mesh **out, size_t nu, size_t nw, int torus)
{
    /* Square: (nu+1)×(nw+1) vertices; torus: nu×nw, indices wrapping. */
    const size_t vu = torus ? nu : nu + 1, vw = torus ? nw : nw + 1;
    const size_t nv = vu * vw, nf = 2 * nu * nw;
    double *xyz = malloc(3 * nv * sizeof *xyz);
    size_t *F = malloc(3 * nf * sizeof *F);
    otk_status st;
    if (!xyz || !F) {
        st = otk__fail(OTK_ENOMEM, "otk_mesh_generate: out of memory");
        goto done;
    }
    for (size_t i = 0; i < vu; i++)
        for (size_t j = 0; j < vw; j++) {
            double *p = xyz + 3 * (i * vw + j);
            if (torus) {
                const double R = 1.0, r = 0.4;
                const double th = 2.0 * M_PI * (double)i / (double)nu;
                const double ph = 2.0 * M_PI * (double)j / (double)nw;
                p[0] = (R + r * cos(ph)) * cos(th);
                p[1] = (R + r * cos(ph)) * sin(th);
                p[2] = r * sin(ph);
            } else {
                p[0] = (double)i / (double)nu;
                p[1] = (double)j / (double)nw;
                p[2] = 0.0;
            }
        }
    size_t f = 0;
    for (size_t i = 0; i < nu; i++)
        for (size_t j = 0; j < nw; j++) {
            const size_t i1 = torus ? (i + 1) % nu : i + 1, j1 = torus ? (j + 1) % nw : j + 1;
            const size_t v00 = i * vw + j, v10 = i1 * vw + j, v01 = i * vw + j1,
                         v11 = i1 * vw + j1;
            const size_t q[6] = {v00, v10, v11, v00, v11, v01};
            memcpy(F + 3 * f, q, sizeof q);
            f += 2;
        }
    st = otk_mesh_from_triangles(out, nv, xyz, nf, F);
done:
    free(xyz);
    free(F);
    return st;
}

otk_status otk_mesh_generate(otk_mesh **out, otk_mesh_shape shape, size_t res)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_mesh_generate: out is NULL");
    *out = NULL;
    switch (shape) {
    case OTK_MESH_SQUARE:
        if (res < 1 || res > 4096)
            return otk__fail(OTK_EPARAM, "otk_mesh_generate: square res = %zu must be in [1, 4096]", res);
        return grid_mesh(out, res, res, 0);
    case OTK_MESH_ICOSPHERE:
        if (res > 8)
            return otk__fail(OTK_EPARAM, "otk_mesh_generate: icosphere res = %zu must be <= 8", res);
        return icosphere(out, res);
    case OTK_MESH_TORUS:
        if (res < 3 || res > 2048)
            return otk__fail(OTK_EPARAM, "otk_mesh_generate: torus res = %zu must be in [3, 2048]", res);
        return grid_mesh(out, 2 * res, res, 1);
    }
    return otk__fail(OTK_EPARAM, "otk_mesh_generate: shape = %d is not an otk_mesh_shape", (int)shape);
}
