/* Sparse costs (otkit/sparse.h): CSC as given plus a CSR copy built once, so
 * that both axes reduce over contiguous lists of stored entries. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/sparse.h"
#include "internal.h"

typedef struct {
    otk_cost base;
    size_t nnz;
    /* CSC: columns (axis 1) */
    size_t *cp, *ri;
    double *cv;
    /* CSR: rows (axis 0) */
    size_t *rp, *ci;
    double *rv;
} sparse_cost;

/* The lists of one output entry o along `axis`: indices into the other side and costs. */
static void line(const sparse_cost *sc, int axis, size_t o, const size_t **idx,
                 const double **val, size_t *len)
{
    if (axis == 0) {
        *idx = sc->ci + sc->rp[o];
        *val = sc->rv + sc->rp[o];
        *len = sc->rp[o + 1] - sc->rp[o];
    } else {
        *idx = sc->ri + sc->cp[o];
        *val = sc->cv + sc->cp[o];
        *len = sc->cp[o + 1] - sc->cp[o];
    }
}

static void sparse_softmin(const otk_cost *c, int axis, double eps, const double *h, double *out,
                           int threads)
{
    const sparse_cost *sc = (const sparse_cost *)c;
    const size_t nout = axis == 0 ? c->n : c->m;
    const double inv_eps = 1.0 / eps;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, sc->nnz, 1),
                     schedule(dynamic, 64) num_threads(threads),
    for (size_t o = 0; o < nout; o++) {
        const size_t *idx;
        const double *val;
        size_t len;
        line(sc, axis, o, &idx, &val, &len);
        double mx = -INFINITY;
        for (size_t k = 0; k < len; k++) {
            const double e = h[idx[k]] - val[k] * inv_eps;
            mx = e > mx ? e : mx;
        }
        if (mx == -INFINITY) { /* every stored partner has zero weight */
            out[o] = INFINITY;
            continue;
        }
        double s = 0.0;
        for (size_t k = 0; k < len; k++)
            s += exp(h[idx[k]] - val[k] * inv_eps - mx);
        out[o] = -eps * (mx + log(s));
    });
}

static void sparse_plan_reduce(const otk_cost *c, int axis, double eps, const double *u,
                               const double *v, otk_reduce what, size_t k, const double *Y,
                               double *out, int threads)
{
    const sparse_cost *sc = (const sparse_cost *)c;
    const size_t nout = axis == 0 ? c->n : c->m;
    const double *uo = axis == 0 ? u : v, *vi = axis == 0 ? v : u;
    const double inv_eps = 1.0 / eps;
    if (what == OTK_REDUCE_GRAD) {
        for (size_t o = 0; o < nout * k; o++)
            out[o] = NAN; /* no coordinates */
        return;
    }
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, sc->nnz, 1),
                     schedule(dynamic, 64) num_threads(threads),
    for (size_t o = 0; o < nout; o++) {
        const size_t *idx;
        const double *val;
        size_t len;
        line(sc, axis, o, &idx, &val, &len);
        double acc = 0.0;
        if (what == OTK_REDUCE_APPLY)
            memset(out + o * k, 0, k * sizeof *out);
        for (size_t q = 0; q < len; q++) {
            const double p = exp(uo[o] + vi[idx[q]] - val[q] * inv_eps);
            switch (what) {
            case OTK_REDUCE_MASS:
                acc += p;
                break;
            case OTK_REDUCE_COST:
                acc += p * val[q];
                break;
            case OTK_REDUCE_APPLY:
                for (size_t r = 0; r < k; r++)
                    out[o * k + r] += p * Y[idx[q] * k + r];
                break;
            case OTK_REDUCE_GRAD:
                break;
            }
        }
        if (what != OTK_REDUCE_APPLY)
            out[o] = acc;
    });
}

static double sparse_entry(const otk_cost *c, size_t i, size_t j)
{
    const sparse_cost *sc = (const sparse_cost *)c;
    size_t lo = sc->cp[j], hi = sc->cp[j + 1];
    while (lo < hi) { /* rows are strictly increasing within a column */
        const size_t mid = lo + (hi - lo) / 2;
        if (sc->ri[mid] == i)
            return sc->cv[mid];
        if (sc->ri[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return INFINITY;
}

static void sparse_destroy(otk_cost *c)
{
    sparse_cost *sc = (sparse_cost *)c;
    free(sc->cp);
    free(sc->ri);
    free(sc->cv);
    free(sc->rp);
    free(sc->ci);
    free(sc->rv);
    free(sc);
}

static const struct otk_cost_ops sparse_ops = {
    "sparse", sparse_softmin, sparse_plan_reduce, sparse_entry, sparse_destroy, NULL,
    NULL, NULL, NULL, /* single-level */
};

size_t otk_cost_sparse_nnz(const otk_cost *cost)
{
    return cost && cost->ops == &sparse_ops ? ((const sparse_cost *)cost)->nnz : 0;
}

otk_status otk_cost_sparse(otk_cost **out, size_t n, size_t m, const size_t *colptr,
                           const size_t *rowind, const double *values)
{
    static const char fn[] = "otk_cost_sparse";
    if (!out)
        return otk__fail(OTK_ENULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!colptr || !rowind || !values)
        return otk__fail(OTK_ENULL, "%s: %s is NULL", fn,
                         !colptr ? "colptr" : !rowind ? "rowind" : "values");
    if (n == 0 || m == 0)
        return otk__fail(OTK_ESIZE, "%s: n = %zu and m = %zu must be > 0", fn, n, m);
    if (otk__array_overflows(m + 1, 1, sizeof(size_t)) || m == SIZE_MAX)
        return otk__fail(OTK_ESIZE, "%s: m = %zu overflows size_t (colptr has m + 1 entries)", fn,
                         m);
    if (colptr[0] != 0)
        return otk__fail(OTK_ESIZE, "%s: colptr[0] = %zu must be 0", fn, colptr[0]);
    for (size_t j = 0; j < m; j++) {
        if (colptr[j + 1] < colptr[j])
            return otk__fail(OTK_ESIZE, "%s: colptr[%zu] = %zu < colptr[%zu] = %zu", fn, j + 1,
                             colptr[j + 1], j, colptr[j]);
        if (colptr[j + 1] == colptr[j])
            return otk__fail(OTK_EEMPTY, "%s: column %zu has no entry", fn, j);
    }
    const size_t nnz = colptr[m];
    double lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < m; j++)
        for (size_t q = colptr[j]; q < colptr[j + 1]; q++) {
            if (rowind[q] >= n)
                return otk__fail(OTK_ERANGE, "%s: rowind[%zu] = %zu (column %zu) is >= n = %zu", fn,
                                 q, rowind[q], j, n);
            if (q > colptr[j] && rowind[q] <= rowind[q - 1])
                return otk__fail(OTK_ERANGE,
                                 "%s: column %zu: rows must be strictly increasing, but "
                                 "rowind[%zu] = %zu follows %zu",
                                 fn, j, q, rowind[q], rowind[q - 1]);
            if (!isfinite(values[q]))
                return otk__fail(OTK_ENONFINITE, "%s: values[%zu] = %g (row %zu, column %zu) is "
                                                 "not finite",
                                 fn, q, values[q], rowind[q], j);
            lo = values[q] < lo ? values[q] : lo;
            hi = values[q] > hi ? values[q] : hi;
        }
    /* Every row needs an entry: n > nnz is refused before the O(n) arrays
     * are allocated (a huge n would otherwise wrap n + 1 around). */
    if (n > nnz)
        return otk__fail(OTK_EEMPTY, "%s: n = %zu rows but nnz = %zu entries: a row has no entry",
                         fn, n, nnz);
    if (otk__array_overflows(nnz, 1, sizeof(double)))
        return otk__fail(OTK_ESIZE, "%s: nnz = %zu overflows size_t", fn, nnz);
    sparse_cost *sc = calloc(1, sizeof *sc);
    if (!sc)
        return otk__fail(OTK_ENOMEM, "%s: out of memory", fn);
    sc->nnz = nnz;
    sc->cp = malloc((m + 1) * sizeof *sc->cp);
    sc->ri = malloc(nnz * sizeof *sc->ri);
    sc->cv = malloc(nnz * sizeof *sc->cv);
    sc->rp = calloc(n + 1, sizeof *sc->rp);
    sc->ci = malloc(nnz * sizeof *sc->ci);
    sc->rv = malloc(nnz * sizeof *sc->rv);
    if (!sc->cp || !sc->ri || !sc->cv || !sc->rp || !sc->ci || !sc->rv) {
        otk__cost_init(&sc->base, &sparse_ops, n, m, "sparse");
        sparse_destroy(&sc->base);
        return otk__fail(OTK_ENOMEM, "%s: out of memory for %zu entries", fn, nnz);
    }
    memcpy(sc->cp, colptr, (m + 1) * sizeof *sc->cp);
    memcpy(sc->ri, rowind, nnz * sizeof *sc->ri);
    memcpy(sc->cv, values, nnz * sizeof *sc->cv);
    /* The transpose by counting: columns visited in order, so each row's
     * columns come out increasing. */
    for (size_t q = 0; q < nnz; q++)
        sc->rp[rowind[q] + 1]++;
    for (size_t i = 0; i < n; i++) {
        if (sc->rp[i + 1] == 0) {
            otk__cost_init(&sc->base, &sparse_ops, n, m, "sparse");
            sparse_destroy(&sc->base);
            return otk__fail(OTK_EEMPTY, "%s: row %zu has no entry", fn, i);
        }
        sc->rp[i + 1] += sc->rp[i];
    }
    size_t *next = malloc(n * sizeof *next);
    if (!next) {
        otk__cost_init(&sc->base, &sparse_ops, n, m, "sparse");
        sparse_destroy(&sc->base);
        return otk__fail(OTK_ENOMEM, "%s: out of memory", fn);
    }
    memcpy(next, sc->rp, n * sizeof *next);
    for (size_t j = 0; j < m; j++)
        for (size_t q = colptr[j]; q < colptr[j + 1]; q++) {
            const size_t d = next[rowind[q]]++;
            sc->ci[d] = j;
            sc->rv[d] = values[q];
        }
    free(next);
    otk__cost_init(&sc->base, &sparse_ops, n, m, "sparse");
    sc->base.diameter = hi - lo;
    sc->base.exponent = 0.0; /* none: blur and reach need params.p */
    *out = &sc->base;
    return OTK_SUCCESS;
}
