/* Dense costs: a borrowed row-major matrix.  Row reductions stream the rows;
 * column reductions walk column strips of OTK_TILE entries down all rows, so
 * every access is contiguous and each output is reduced by one thread. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct {
    otk_cost base;
    const double *C;
    size_t ld;
} dense_cost;

static const double *dense_row_tile(const otk_cost *c, int axis, size_t i, size_t j0, size_t T,
                                    double *buf)
{
    const dense_cost *dc = (const dense_cost *)c;
    if (axis == 0)
        return dc->C + i * dc->ld + j0;
    for (size_t t = 0; t < T; t++) /* a column: strided */
        buf[t] = dc->C[(j0 + t) * dc->ld + i];
    return buf;
}

static void dense_softmin(const otk_cost *c, int axis, double eps, const double *h, double *out,
                          int threads)
{
    const dense_cost *dc = (const dense_cost *)c;
    if (axis == 0)
        otk__dense_softmin_rows(c->kern, dc->C, c->n, c->m, dc->ld, eps, eps, h, out, threads);
    else
        otk__dense_softmin_cols(c, dc->C, dc->ld, eps, h, out, threads);
}

void otk__dense_softmin_rows(const otk_kernels *kern, const double *C, size_t n, size_t m,
                             size_t ld, double eps, double s, const double *h, double *out,
                             int threads)
{
    const double inv_eps = 1.0 / eps;
    const size_t nblocks = (n + OTK_SQ_ROWS - 1) / OTK_SQ_ROWS;
    /* Blocks of rows, so that the kernel prepares each tile of h once. */
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, n, m),
                     schedule(dynamic, 2) num_threads(threads),
    for (size_t b = 0; b < nblocks; b++) {
        const size_t i0 = b * OTK_SQ_ROWS;
        const size_t R = n - i0 < OTK_SQ_ROWS ? n - i0 : OTK_SQ_ROWS;
        double M[OTK_SQ_ROWS], S[OTK_SQ_ROWS];
        for (size_t r = 0; r < R; r++) {
            M[r] = -INFINITY;
            S[r] = 0.0;
        }
        for (size_t j0 = 0; j0 < m; j0 += OTK_TILE) {
            const size_t T = m - j0 < OTK_TILE ? m - j0 : OTK_TILE;
            kern->dense_lse_rows(C + i0 * ld, ld, R, j0, T, h + j0, inv_eps, M, S);
        }
        for (size_t r = 0; r < R; r++)
            out[i0 + r] = -s * (M[r] + log(S[r]));
    });
}

/* Column soft-mins in one pass over the matrix, as the rows do it (the
 * kernels' lse_accumulate, docs/math.md A.2): the first OTK_COL_HEAD rows of
 * a strip of columns are summed with their own column maxima, which are then
 * the shift for the remaining rows, summed in one pass (the matrix streamed
 * once, not twice).  The head's maximum is at most the column's, so S >= 1;
 * a column with a later term far above it (S past 2^900, or +inf), or a NaN,
 * takes the exact two-pass sum over all rows instead.  With n <= OTK_COL_HEAD
 * the exact sum is all there is.  The rows after the head go by blocks of
 * OTK_SQ_ROWS (kern->strip_sumexp_rows: the strip's sums in registers across
 * the block), in chunks of OTK_COL_CHUNK rows, each chunk's sums from zero
 * and added to the strip's in order: with several threads the chunks are
 * shared among them (then strips need not be split to keep threads busy),
 * with one they run in turn, and the sums are the same.  Strips are up to
 * OTK_COL_STRIP columns (32 KB of each row: long runs for the prefetchers;
 * on a 128 MB matrix 4 KB strips were 0.64, 8 KB 0.75, 16 KB 0.86 and 32 KB
 * 0.93 of the compute ceiling, in a one-thread copy of this loop timed
 * against bench/yardstick.c's ceiling; two threads on strips of 2000
 * columns reached 0.73, on shared chunks of 4000-column strips 0.83), the
 * same for any thread count, and each column's result depends on its own
 * sums only. */
#define OTK_COL_HEAD 64
#define OTK_COL_STRIP 4096
#define OTK_COL_S_MAX 0x1p900
#define OTK_COL_CHUNK 512

/* The exact column sums of rows 0 to i1 − 1 over one strip, from scratch. */
static void strip_exact(const otk_kernels *kern, const double *C, size_t ld, size_t j0, size_t T,
                        double inv_eps, const double *h, size_t i1, double *M, double *S)
{
    for (size_t t = 0; t < T; t++) {
        M[t] = -INFINITY;
        S[t] = 0.0;
    }
    for (size_t i = 0; i < i1; i++)
        if (h[i] != -INFINITY)
            kern->strip_max(C + i * ld + j0, h[i], T, inv_eps, M);
    for (size_t i = 0; i < i1; i++)
        if (h[i] != -INFINITY)
            kern->strip_sumexp(C + i * ld + j0, h[i], T, inv_eps, M, S);
}

/* The columns of a strip whose one-pass sum is unsafe, summed exactly over
 * all n rows (the others kept).  Its own frame: the strip's second pair of
 * arrays is on the stack only on this rare path. */
static __attribute__((noinline)) void strip_redo(const otk_kernels *kern, const double *C,
                                                 size_t ld, size_t j0, size_t T, double inv_eps,
                                                 const double *h, size_t n, double *M, double *S)
{
    double M2[OTK_COL_STRIP], S2[OTK_COL_STRIP];
    strip_exact(kern, C, ld, j0, T, inv_eps, h, n, M2, S2);
    for (size_t t = 0; t < T; t++)
        if (!(S[t] <= OTK_COL_S_MAX)) {
            M[t] = M2[t];
            S[t] = S2[t];
        }
}

/* Σ_i exp(h[i] − C[i][j0 + t]·inv_eps − M[t]) over the rows i0 <= i < i1 of
 * nonzero weight into P (from zero), by blocks of up to OTK_SQ_ROWS rows so
 * that the kernel keeps a run of columns' sums in registers across them. */
static void chunk_sum(const otk_kernels *kern, const double *C, size_t ld, size_t j0, size_t T,
                      double inv_eps, const double *h, size_t i0, size_t i1, const double *M,
                      double *P)
{
    for (size_t t = 0; t < T; t++)
        P[t] = 0.0;
    const double *rows[OTK_SQ_ROWS];
    double hb[OTK_SQ_ROWS];
    size_t R = 0;
    for (size_t i = i0; i < i1; i++) {
        if (h[i] == -INFINITY)
            continue;
        rows[R] = C + i * ld + j0;
        hb[R++] = h[i];
        if (R == OTK_SQ_ROWS) {
            kern->strip_sumexp_rows(rows, hb, R, T, inv_eps, M, P);
            R = 0;
        }
    }
    if (R)
        kern->strip_sumexp_rows(rows, hb, R, T, inv_eps, M, P);
}

/* A strip's columns from their sums: the unsafe ones summed again exactly. */
static void strip_finish(const otk_kernels *kern, const double *C, size_t ld, size_t j0, size_t T,
                         double eps, const double *h, size_t n, double *M, double *S, double *out)
{
    int safe = 1;
    for (size_t t = 0; t < T; t++)
        safe &= S[t] <= OTK_COL_S_MAX;
    if (!safe)
        strip_redo(kern, C, ld, j0, T, 1.0 / eps, h, n, M, S);
    for (size_t t = 0; t < T; t++)
        out[j0 + t] = -eps * (M[t] + log(S[t]));
}

void otk__dense_softmin_cols(const otk_cost *c, const double *C, size_t ld, double eps,
                             const double *h, double *out, int threads)
{
    const size_t n = c->n, m = c->m;
    const double inv_eps = 1.0 / eps;
    const otk_kernels *kern = c->kern;
    size_t W = (m + 63) / 64 * 64;
    W = W > OTK_COL_STRIP ? OTK_COL_STRIP : W;
    const size_t nstrips = (m + W - 1) / W;
    const size_t head = n < OTK_COL_HEAD ? n : OTK_COL_HEAD;
    const size_t nchunks = (n - head + OTK_COL_CHUNK - 1) / OTK_COL_CHUNK;
    const int par = threads > 1 && nchunks > 1 && otk__parallel_worth(threads, n, m);
    double *buf = par ? malloc(sizeof(double) * W * nstrips * (2 + nchunks)) : NULL;
    if (!buf) {
        /* One thread per strip (or no spare memory): the chunks in order. */
        OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                         schedule(dynamic, 1) num_threads(threads),
        for (size_t s = 0; s < nstrips; s++) {
            double M[OTK_COL_STRIP], S[OTK_COL_STRIP], P[OTK_COL_STRIP];
            const size_t j0 = s * W, T = m - j0 < W ? m - j0 : W;
            strip_exact(kern, C, ld, j0, T, inv_eps, h, head, M, S);
            for (size_t k = 0; k < nchunks; k++) {
                const size_t i0 = head + k * OTK_COL_CHUNK;
                chunk_sum(kern, C, ld, j0, T, inv_eps, h, i0,
                          n - i0 < OTK_COL_CHUNK ? n : i0 + OTK_COL_CHUNK, M, P);
                for (size_t t = 0; t < T; t++)
                    S[t] += P[t];
            }
            strip_finish(kern, C, ld, j0, T, eps, h, n, M, S, out);
        });
        return;
    }
    /* The same sums with the chunks of rows shared among the threads: each
     * chunk's partial sums kept apart, then added in the same order. */
    double *Ms = buf, *Ss = buf + W * nstrips, *Ps = buf + 2 * W * nstrips;
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(dynamic, 1)
        for (size_t s = 0; s < nstrips; s++) {
            const size_t j0 = s * W, T = m - j0 < W ? m - j0 : W;
            strip_exact(kern, C, ld, j0, T, inv_eps, h, head, Ms + s * W, Ss + s * W);
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t q = 0; q < nstrips * nchunks; q++) {
            const size_t s = q / nchunks, k = q % nchunks;
            const size_t j0 = s * W, T = m - j0 < W ? m - j0 : W;
            const size_t i0 = head + k * OTK_COL_CHUNK;
            chunk_sum(kern, C, ld, j0, T, inv_eps, h, i0,
                      n - i0 < OTK_COL_CHUNK ? n : i0 + OTK_COL_CHUNK, Ms + s * W, Ps + q * W);
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t s = 0; s < nstrips; s++) {
            const size_t j0 = s * W, T = m - j0 < W ? m - j0 : W;
            double *S = Ss + s * W;
            for (size_t k = 0; k < nchunks; k++)
                for (size_t t = 0; t < T; t++)
                    S[t] += Ps[(s * nchunks + k) * W + t];
            strip_finish(kern, C, ld, j0, T, eps, h, n, Ms + s * W, S, out);
        }
    }
    free(buf);
}

static void dense_plan_reduce(const otk_cost *c, int axis, double eps, const double *u,
                              const double *v, otk_reduce what, size_t k, const double *Y,
                              double *out, int threads)
{
    const dense_cost *dc = (const dense_cost *)c;
    if (what == OTK_REDUCE_GRAD) {
        /* No coordinates here: only point clouds provide gradients. */
        for (size_t j = 0; j < (axis == 0 ? c->n : c->m) * k; j++)
            out[j] = NAN;
        return;
    }
    if (axis == 0)
        otk__plan_reduce_tiled(c, dense_row_tile, 0, eps, u, v, what, k, Y, out, threads);
    else
        otk__dense_plan_reduce_cols(c, dc->C, dc->ld, eps, u, v, what, k, Y, out, threads);
}

void otk__dense_plan_reduce_cols(const otk_cost *c, const double *C, size_t ld, double eps,
                                 const double *u, const double *v, otk_reduce what, size_t k,
                                 const double *Y, double *out, int threads)
{
    const size_t n = c->n, m = c->m;
    const double inv_eps = 1.0 / eps;
    const otk_kernels *kern = c->kern;
    const size_t nstrips = (m + OTK_TILE - 1) / OTK_TILE;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                     schedule(dynamic, 1) num_threads(threads),
    for (size_t s = 0; s < nstrips; s++) {
        double w[OTK_TILE], acc[OTK_TILE];
        const size_t j0 = s * OTK_TILE;
        const size_t T = m - j0 < OTK_TILE ? m - j0 : OTK_TILE;
        for (size_t t = 0; t < T; t++)
            acc[t] = 0.0;
        if (what == OTK_REDUCE_APPLY)
            memset(out + j0 * k, 0, T * k * sizeof *out);
        for (size_t i = 0; i < n; i++) {
            const double *row = C + i * ld + j0;
            kern->plan_weights(row, v + j0, T, u[i], inv_eps, w);
            switch (what) {
            case OTK_REDUCE_MASS:
                for (size_t t = 0; t < T; t++)
                    acc[t] += w[t];
                break;
            case OTK_REDUCE_COST:
                for (size_t t = 0; t < T; t++)
                    acc[t] += w[t] * row[t];
                break;
            case OTK_REDUCE_APPLY:
                for (size_t t = 0; t < T; t++)
                    for (size_t q = 0; q < k; q++)
                        out[(j0 + t) * k + q] += w[t] * Y[i * k + q];
                break;
            case OTK_REDUCE_GRAD: /* the caller's business */
                break;
            }
        }
        if (what != OTK_REDUCE_APPLY)
            memcpy(out + j0, acc, T * sizeof *out);
    });
}

static double dense_entry(const otk_cost *c, size_t i, size_t j)
{
    const dense_cost *dc = (const dense_cost *)c;
    return dc->C[i * dc->ld + j];
}

static void dense_destroy(otk_cost *c) { free(c); }

static const struct otk_cost_ops dense_ops = {
    "dense", dense_softmin, dense_plan_reduce, dense_entry, dense_destroy, dense_row_tile,
    NULL, NULL, NULL, /* single-level */
};

const double *otk__dense_matrix_view(const otk_cost *c, size_t *ld)
{
    if (c->ops != &dense_ops)
        return NULL;
    const dense_cost *dc = (const dense_cost *)c;
    *ld = dc->ld;
    return dc->C;
}

otk_status otk_cost_dense(otk_cost **out, size_t n, size_t m, const double *C, size_t ld)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_cost_dense: out is NULL");
    *out = NULL;
    if (!C)
        return otk__fail(OTK_ENULL, "otk_cost_dense: C is NULL");
    if (n == 0 || m == 0)
        return otk__fail(OTK_ESIZE, "otk_cost_dense: n = %zu and m = %zu must be > 0", n, m);
    if (ld < m)
        return otk__fail(OTK_ESIZE, "otk_cost_dense: ld = %zu is smaller than m = %zu", ld, m);
    if (otk__array_overflows(n, ld, sizeof(double)))
        return otk__fail(OTK_ESIZE, "otk_cost_dense: n = %zu rows of ld = %zu overflow size_t", n,
                         ld);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double v = C[i * ld + j];
            if (!isfinite(v))
                return otk__fail(OTK_ENONFINITE, "C[%zu][%zu] = %g is not finite", i, j, v);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    dense_cost *dc = calloc(1, sizeof *dc);
    if (!dc)
        return otk__fail(OTK_ENOMEM, "otk_cost_dense: out of memory");
    otk__cost_init(&dc->base, &dense_ops, n, m, "dense");
    dc->C = C;
    dc->ld = ld;
    dc->base.diameter = hi - lo;
    dc->base.exponent = 0.0; /* none: blur and reach need params.p */
    *out = &dc->base;
    return OTK_SUCCESS;
}
