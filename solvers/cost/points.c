/* Point-cloud costs: C_ij = c(x_i, y_j) computed tile by tile, never stored —
 * unless the user asks for the n×m matrix to be kept (otk_cost_points_cache),
 * which trades O(n·m) memory for not recomputing c in every pass. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

typedef struct {
    otk_cost base;
    size_t d;
    otk_ground ground;
    double power;
    double *xs; /* d×n, coordinate k of x_i at xs[k*n + i] */
    double *ys; /* d×m */
    double *cache; /* n×m row-major C, or NULL (computed on the fly) */
    /* Single precision (otk_cost_points_f32): the float32 coordinates, d×n and
     * d×m, for the soft-mins; xs and ys hold the same values widened, for the
     * plan reductions and entries.  NULL for a float64 cost. */
    float *xs32, *ys32;
    /* Squared grounds in float64: the coordinates centred on the bounding
     * box's centre (d×n, d×m) and their squared norms, for the soft-min's
     * expanded form ‖x − y‖² = ‖x‖² + ‖y‖² − 2⟨x, y⟩ (docs/math.md A.2).
     * NULL otherwise. */
    double *xc, *yc, *nx, *ny;
} points_cost;

double otk_ground_exponent(otk_ground ground, double power)
{
    switch (ground) {
    case OTK_GROUND_SQEUCLIDEAN:
    case OTK_GROUND_HALF_SQEUCLIDEAN:
        return 2.0;
    case OTK_GROUND_EUCLIDEAN:
    case OTK_GROUND_L1:
        return 1.0;
    case OTK_GROUND_LP:
    case OTK_GROUND_LP_OVER_P:
        return power;
    }
    return 0.0;
}

static const double *points_tile(const otk_cost *c, int axis, size_t i, size_t j0, size_t T,
                                 double *buf)
{
    const points_cost *pc = (const points_cost *)c;
    if (axis == 0 && pc->cache)
        return pc->cache + i * c->m + j0;
    if (axis == 0)
        c->kern->points_cost_tile((int)pc->ground, pc->power, pc->d, pc->xs + i, c->n, pc->ys,
                                  c->m, j0, T, buf);
    else
        c->kern->points_cost_tile((int)pc->ground, pc->power, pc->d, pc->ys + i, c->m, pc->xs,
                                  c->n, j0, T, buf);
    return buf;
}

/* The squared grounds' soft-min in expanded form, by blocks of OTK_SQ_ROWS
 * rows: the column terms hq = h − scale·‖q‖² are formed once per tile for
 * the whole block. */
static void sq_softmin(const points_cost *pc, int axis, double eps, const double *h, double *out,
                       int threads)
{
    const otk_cost *c = &pc->base;
    const size_t nout = axis == 0 ? c->n : c->m;
    const size_t nin = axis == 0 ? c->m : c->n;
    const double *P = axis == 0 ? pc->xc : pc->yc;
    const double *Q = axis == 0 ? pc->yc : pc->xc;
    const double *nP = axis == 0 ? pc->nx : pc->ny;
    const double *nQ = axis == 0 ? pc->ny : pc->nx;
    const double scale = (pc->ground == OTK_GROUND_HALF_SQEUCLIDEAN ? 0.5 : 1.0) / eps;
    const double two_scale = 2.0 * scale;
    const size_t nblocks = (nout + OTK_SQ_ROWS - 1) / OTK_SQ_ROWS;
    const otk_kernels *kern = c->kern;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                     schedule(dynamic, 2) num_threads(threads),
    for (size_t b = 0; b < nblocks; b++) {
        const size_t i0 = b * OTK_SQ_ROWS;
        const size_t R = nout - i0 < OTK_SQ_ROWS ? nout - i0 : OTK_SQ_ROWS;
        double M[OTK_SQ_ROWS], S[OTK_SQ_ROWS], rowc[OTK_SQ_ROWS], hq[OTK_TILE];
        for (size_t r = 0; r < R; r++) {
            M[r] = -INFINITY;
            S[r] = 0.0;
            rowc[r] = scale * nP[i0 + r];
        }
        for (size_t j0 = 0; j0 < nin; j0 += OTK_TILE) {
            const size_t T = nin - j0 < OTK_TILE ? nin - j0 : OTK_TILE;
            kern->sub_scaled(h + j0, scale, nQ + j0, T, hq);
            kern->points_sq_lse_rows(pc->d, R, P + i0, nout, rowc, two_scale, Q, nin, j0, T, hq,
                                     M, S);
        }
        for (size_t r = 0; r < R; r++)
            out[i0 + r] = -eps * (M[r] + log(S[r]));
    });
}

/* The squared grounds' soft-min of a float32 cost, by blocks of rows in
 * the direct form (kernels.c: points_sq_lse_rows_f32), h and h·log2(e)
 * rounded to float32 once per tile for the block. */
static void sq_softmin_f32(const points_cost *pc, int axis, double eps, const double *h,
                           double *out, int threads)
{
    const otk_cost *c = &pc->base;
    const size_t nout = axis == 0 ? c->n : c->m;
    const size_t nin = axis == 0 ? c->m : c->n;
    const float *P = axis == 0 ? pc->xs32 : pc->ys32;
    const float *Q = axis == 0 ? pc->ys32 : pc->xs32;
    const double scale = (pc->ground == OTK_GROUND_HALF_SQEUCLIDEAN ? 0.5 : 1.0) / eps;
    const size_t nblocks = (nout + OTK_SQ_ROWS - 1) / OTK_SQ_ROWS;
    const otk_kernels *kern = c->kern;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                     schedule(dynamic, 2) num_threads(threads),
    for (size_t b = 0; b < nblocks; b++) {
        const size_t i0 = b * OTK_SQ_ROWS;
        const size_t R = nout - i0 < OTK_SQ_ROWS ? nout - i0 : OTK_SQ_ROWS;
        double M[OTK_SQ_ROWS], S[OTK_SQ_ROWS];
        float hf[OTK_TILE], hf2[OTK_TILE];
        for (size_t r = 0; r < R; r++) {
            M[r] = -INFINITY;
            S[r] = 0.0;
        }
        for (size_t j0 = 0; j0 < nin; j0 += OTK_TILE) {
            const size_t T = nin - j0 < OTK_TILE ? nin - j0 : OTK_TILE;
            kern->to_f32(h + j0, 1.0, T, hf);
            kern->to_f32(h + j0, 1.4426950408889634, T, hf2); /* log2(e) */
            kern->points_sq_lse_rows_f32(pc->d, R, P + i0, nout, scale, Q, nin, j0, T, hf, hf2,
                                         M, S);
        }
        for (size_t r = 0; r < R; r++)
            out[i0 + r] = -eps * (M[r] + log(S[r]));
    });
}

/* Row-wise soft-min with the cost computed inside the log-sum-exp kernel. */
static void points_softmin(const otk_cost *c, int axis, double eps, const double *h, double *out,
                           int threads)
{
    const points_cost *pc = (const points_cost *)c;
    if (pc->cache) {
        if (axis == 0)
            otk__dense_softmin_rows(c->kern, pc->cache, c->n, c->m, c->m, eps, eps, h, out,
                                    threads);
        else
            otk__dense_softmin_cols(c, pc->cache, c->m, eps, h, out, threads);
        return;
    }
    const size_t nout = axis == 0 ? c->n : c->m;
    const size_t nin = axis == 0 ? c->m : c->n;
    const double *P = axis == 0 ? pc->xs : pc->ys;
    const double *Q = axis == 0 ? pc->ys : pc->xs;
    const float *P32 = axis == 0 ? pc->xs32 : pc->ys32;
    const float *Q32 = axis == 0 ? pc->ys32 : pc->xs32;
    const double inv_eps = 1.0 / eps;
    const otk_kernels *kern = c->kern;
    if (pc->nx) {
        sq_softmin(pc, axis, eps, h, out, threads);
        return;
    }
    if (P32 && (pc->ground == OTK_GROUND_SQEUCLIDEAN || pc->ground == OTK_GROUND_HALF_SQEUCLIDEAN)) {
        sq_softmin_f32(pc, axis, eps, h, out, threads);
        return;
    }
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                     schedule(dynamic, 16) num_threads(threads),
    for (size_t i = 0; i < nout; i++) {
        double M = -INFINITY, S = 0.0;
        for (size_t j0 = 0; j0 < nin; j0 += OTK_TILE) {
            size_t T = nin - j0 < OTK_TILE ? nin - j0 : OTK_TILE;
            if (P32)
                kern->points_lse_tile_f32((int)pc->ground, pc->power, pc->d, P32 + i, nout, Q32,
                                          nin, j0, T, h + j0, inv_eps, &M, &S);
            else
                kern->points_lse_tile((int)pc->ground, pc->power, pc->d, P + i, nout, Q, nin, j0,
                                      T, h + j0, inv_eps, &M, &S);
        }
        out[i] = -eps * (M + log(S));
    });
}

/* ∇_p c(p, q) of the ground cost, accumulated with weight w into grad (d
 * entries); diff = p − q (d entries), sq = ‖diff‖².  At p = q the costs that
 * are not differentiable there (euclidean, l1, lp with P <= 1) contribute 0,
 * their minimal-norm subgradient. */
static void ground_grad_acc(otk_ground ground, double power, size_t d, const double *diff,
                            double sq, double w, double *grad)
{
    if (ground == OTK_GROUND_L1) {
        for (size_t k = 0; k < d; k++)
            grad[k] += w * (double)((diff[k] > 0.0) - (diff[k] < 0.0));
        return;
    }
    const double scale = otk__ground_slope(ground, power, sq);
    for (size_t k = 0; k < d; k++)
        grad[k] += w * scale * diff[k];
}

/* OTK_REDUCE_GRAD: out_i (d entries) = Σ_j P_ij ∇_p c(p_i, q_j) where p are the
 * points of the reduced axis (x for axis 0, y for axis 1).  All ground costs
 * are symmetric, so ∇_y c(x, y) = ∇_1 c(y, x). */
static void points_grad_reduce(const otk_cost *c, int axis, double eps, const double *u,
                               const double *v, double *out, int threads)
{
    const points_cost *pc = (const points_cost *)c;
    const size_t nout = axis == 0 ? c->n : c->m;
    const size_t nin = axis == 0 ? c->m : c->n;
    const double *P = axis == 0 ? pc->xs : pc->ys;
    const double *Q = axis == 0 ? pc->ys : pc->xs;
    const double *uo = axis == 0 ? u : v;
    const double *vi = axis == 0 ? v : u;
    const size_t d = pc->d;
    const double inv_eps = 1.0 / eps;
    const otk_kernels *kern = c->kern;
    const double sq_scale = pc->ground == OTK_GROUND_SQEUCLIDEAN        ? 2.0
                            : pc->ground == OTK_GROUND_HALF_SQEUCLIDEAN ? 1.0
                                                                        : 0.0;
    /* The fused kernel for d <= 3 computed on the fly (beyond, the vector
     * loops below serve better; a cached cost has its costs already). */
    const int fused = sq_scale > 0.0 && d <= 3 && !(axis == 0 && pc->cache);
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                     schedule(dynamic, 16) num_threads(threads),
    for (size_t i = 0; i < nout; i++) {
        double buf[OTK_TILE], w[OTK_TILE];
        double *o = out + i * d;
        for (size_t k = 0; k < d; k++)
            o[k] = 0.0;
        if (fused) {
            /* Cost, weight and products in one pass per tile (kernels.c). */
            double g[3] = {0.0, 0.0, 0.0};
            for (size_t j0 = 0; j0 < nin; j0 += OTK_TILE) {
                const size_t T = nin - j0 < OTK_TILE ? nin - j0 : OTK_TILE;
                kern->points_sq_plan_grad(d, P + i, nout, Q, nin, j0, T, vi + j0, uo[i],
                                          0.5 * sq_scale * inv_eps, g);
            }
            for (size_t k = 0; k < d; k++)
                o[k] = sq_scale * g[k];
            continue;
        }
        for (size_t j0 = 0; j0 < nin; j0 += OTK_TILE) {
            size_t T = nin - j0 < OTK_TILE ? nin - j0 : OTK_TILE;
            const double *ct = buf;
            if (axis == 0 && pc->cache)
                ct = pc->cache + i * nin + j0;
            else
                kern->points_cost_tile((int)pc->ground, pc->power, d, P + i, nout, Q, nin, j0, T,
                                       buf);
            kern->plan_weights(ct, vi + j0, T, uo[i], inv_eps, w);
            if (sq_scale > 0.0) {
                /* ∇_p of (scale/2)·‖p−q‖² is scale·(p − q): one contiguous
                 * pass per coordinate over the tile (the coordinates are
                 * stored d×n), the same differences p_k − q_k as below. */
                for (size_t k = 0; k < d; k++) {
                    const double pk = P[k * nout + i];
                    const double *q = Q + k * nin + j0;
                    double s0 = 0.0, s1 = 0.0;
                    size_t t = 0;
                    for (; t + 1 < T; t += 2) {
                        s0 += w[t] * (pk - q[t]);
                        s1 += w[t + 1] * (pk - q[t + 1]);
                    }
                    if (t < T)
                        s0 += w[t] * (pk - q[t]);
                    o[k] += sq_scale * (s0 + s1);
                }
                continue;
            }
            for (size_t t = 0; t < T; t++) {
                if (w[t] == 0.0)
                    continue;
                double diff[64], sq = 0.0;
                /* d may exceed the stack buffer: go in chunks of 64 coordinates
                 * for the differences, after one pass for the norm. */
                for (size_t k = 0; k < d; k++) {
                    double dk = P[k * nout + i] - Q[k * nin + j0 + t];
                    sq += dk * dk;
                }
                for (size_t k0 = 0; k0 < d; k0 += 64) {
                    size_t K = d - k0 < 64 ? d - k0 : 64;
                    for (size_t k = 0; k < K; k++)
                        diff[k] = P[(k0 + k) * nout + i] - Q[(k0 + k) * nin + j0 + t];
                    ground_grad_acc(pc->ground, pc->power, K, diff, sq, w[t], o + k0);
                }
            }
        }
    });
}

static void points_plan_reduce(const otk_cost *c, int axis, double eps, const double *u,
                               const double *v, otk_reduce what, size_t k, const double *Y,
                               double *out, int threads)
{
    if (what == OTK_REDUCE_GRAD) {
        points_grad_reduce(c, axis, eps, u, v, out, threads);
        return;
    }
    const points_cost *pc = (const points_cost *)c;
    if (axis == 1 && pc->cache)
        otk__dense_plan_reduce_cols(c, pc->cache, c->m, eps, u, v, what, k, Y, out, threads);
    else
        otk__plan_reduce_tiled(c, points_tile, axis, eps, u, v, what, k, Y, out, threads);
}

static double points_entry(const otk_cost *c, size_t i, size_t j)
{
    double buf[1];
    const points_cost *pc = (const points_cost *)c;
    if (pc->cache)
        return pc->cache[i * c->m + j];
    c->kern->points_cost_tile((int)pc->ground, pc->power, pc->d, pc->xs + i, c->n, pc->ys, c->m,
                              j, 1, buf);
    return buf[0];
}

static void points_destroy(otk_cost *c)
{
    points_cost *pc = (points_cost *)c;
    free(pc->xs);
    free(pc->ys);
    free(pc->xs32);
    free(pc->ys32);
    free(pc->xc);
    free(pc->yc);
    free(pc->nx);
    free(pc->ny);
    free(pc->cache);
    free(pc);
}

/* Copy a row-major n×d array into the d×n layout. */
static void store_coordinates(double *dst, const double *src, size_t n, size_t d)
{
    for (size_t k = 0; k < d; k++)
        for (size_t i = 0; i < n; i++)
            dst[k * n + i] = src[i * d + k];
}

/* Lowest and highest coordinate k over the points of one cloud with positive
 * weight (w NULL: all), coordinate k of point i at v[i*ps + k*cs], double or
 * float as `single` says. */
static void coordinate_range(const void *v, int single, size_t len, size_t ps, size_t cs,
                             size_t k, const double *w, double *lo, double *hi)
{
    for (size_t i = 0; i < len; i++) {
        if (w && !(w[i] > 0.0))
            continue;
        const size_t at = i * ps + k * cs;
        const double x = single ? (double)((const float *)v)[at] : ((const double *)v)[at];
        *lo = x < *lo ? x : *lo;
        *hi = x > *hi ? x : *hi;
    }
}

/* The diameter GeomLoss uses: the diagonal of the bounding box of x ∪ y (l1
 * diagonal for the l1 ground cost), over the points with positive weight
 * when weights are given.  The one place for this rule: the costs' own
 * diameter (all points, stored d×n) and the batches' (otkit/batch.h). */
static double box_diameter(otk_ground ground, size_t d, const void *x, const void *y,
                           int single, size_t n, size_t m, size_t ps_x, size_t ps_y, size_t cs_x,
                           size_t cs_y, const double *a, const double *b)
{
    double width2 = 0.0, width1 = 0.0;
    for (size_t k = 0; k < d; k++) {
        double lo = INFINITY, hi = -INFINITY;
        coordinate_range(x, single, n, ps_x, cs_x, k, a, &lo, &hi);
        coordinate_range(y, single, m, ps_y, cs_y, k, b, &lo, &hi);
        if (!(hi >= lo))
            continue; /* no point with positive weight */
        width2 += (hi - lo) * (hi - lo);
        width1 += hi - lo;
    }
    return ground == OTK_GROUND_L1 ? width1 : sqrt(width2);
}

static double bounding_box_diameter(const points_cost *pc)
{
    const size_t n = pc->base.n, m = pc->base.m;
    return box_diameter(pc->ground, pc->d, pc->xs, pc->ys, 0, n, m, 1, 1, n, m, NULL, NULL);
}

double otk__points_diameter(otk_ground ground, size_t n, size_t m, size_t d, const void *x,
                            const void *y, int single, const double *a, const double *b)
{
    return box_diameter(ground, d, x, y, single, n, m, d, d, 1, 1, a, b);
}

/* The same kernel as the on-the-fly tiles, so a cached entry is bitwise the
 * entry the lazy path computes (otk__points_fill_matrix). */
static void fill_cache(points_cost *pc) { otk__points_fill_matrix(&pc->base, pc->cache); }

/* The float32 copies of a single-precision cost follow the float64 ones
 * (exact for coordinates that came in as float32). */
static void narrow_coordinates(float *dst, const double *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = (float)src[i];
}

/* The centred coordinates and squared norms of the expanded form.  Centring
 * on the bounding box keeps ‖x‖² + ‖y‖² within a few times the largest cost,
 * so the expansion's rounding, ~1e−16·(‖x‖² + ‖y‖²)/ε in an exponent, is of
 * the order of the direct form's, ~1e−16·|h| with |h| up to the cost scale
 * over ε. */
static void centre(points_cost *pc)
{
    const size_t n = pc->base.n, m = pc->base.m, d = pc->d;
    for (size_t i = 0; i < n; i++)
        pc->nx[i] = 0.0;
    for (size_t j = 0; j < m; j++)
        pc->ny[j] = 0.0;
    for (size_t k = 0; k < d; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            lo = fmin(lo, pc->xs[k * n + i]);
            hi = fmax(hi, pc->xs[k * n + i]);
        }
        for (size_t j = 0; j < m; j++) {
            lo = fmin(lo, pc->ys[k * m + j]);
            hi = fmax(hi, pc->ys[k * m + j]);
        }
        const double mid = 0.5 * lo + 0.5 * hi;
        for (size_t i = 0; i < n; i++) {
            const double v = pc->xs[k * n + i] - mid;
            pc->xc[k * n + i] = v;
            pc->nx[i] += v * v;
        }
        for (size_t j = 0; j < m; j++) {
            const double v = pc->ys[k * m + j] - mid;
            pc->yc[k * m + j] = v;
            pc->ny[j] += v * v;
        }
    }
}

static void place(points_cost *pc, const double *x, const double *y)
{
    otk_cost *c = &pc->base;
    if (x)
        store_coordinates(pc->xs, x, c->n, pc->d);
    if (y)
        store_coordinates(pc->ys, y, c->m, pc->d);
    if (pc->xs32 && x)
        narrow_coordinates(pc->xs32, pc->xs, c->n * pc->d);
    if (pc->ys32 && y)
        narrow_coordinates(pc->ys32, pc->ys, c->m * pc->d);
    c->diameter = bounding_box_diameter(pc);
    if (pc->nx)
        centre(pc);
    if (pc->cache)
        fill_cache(pc);
}

static const struct otk_cost_ops points_ops;
static points_cost *points_alloc(size_t n, size_t m, size_t d, otk_ground ground, double power,
                                 int single);

otk_status otk_cost_points_set(otk_cost *c, const double *x, const double *y)
{
    otk_status st;
    if (!c)
        return otk__fail(OTK_ENULL, "otk_cost_points_set: cost is NULL");
    if (c->ops != &points_ops)
        return otk__fail(OTK_EUNSUPPORTED,
                         "otk_cost_points_set: the cost is of kind \"%s\", not \"points\"",
                         c->ops->kind);
    points_cost *pc = (points_cost *)c;
    if ((x && (st = otk__check_finite("x", x, c->n * pc->d))) ||
        (y && (st = otk__check_finite("y", y, c->m * pc->d))))
        return st;
    place(pc, x, y);
    return OTK_SUCCESS;
}

size_t otk__cost_points_dim(const otk_cost *c)
{
    if (c->ops == &points_ops)
        return ((const points_cost *)c)->d;
    return otk__multiscale_dim(c);
}

otk_status otk__points_copy_kept(const otk_cost *c, otk_cost **out)
{
    const points_cost *src = (const points_cost *)c;
    *out = NULL;
    points_cost *pc = points_alloc(c->n, c->m, src->d, src->ground, src->power, 0);
    if (!pc)
        return otk__fail(OTK_ENOMEM, "backend dense: out of memory for %zu + %zu points", c->n,
                         c->m);
    memcpy(pc->xs, src->xs, c->n * src->d * sizeof *pc->xs);
    memcpy(pc->ys, src->ys, c->m * src->d * sizeof *pc->ys);
    pc->base.diameter = c->diameter;
    otk_status st;
    if (otk__array_overflows(c->n, c->m, sizeof(double)))
        st = otk__fail(OTK_ENOMEM, "backend dense: the %zu×%zu cost matrix overflows size_t",
                       c->n, c->m);
    else
        st = otk_cost_points_cache(&pc->base, SIZE_MAX);
    if (st) {
        points_destroy(&pc->base);
        return st;
    }
    *out = &pc->base;
    return OTK_SUCCESS;
}

int otk__points_coordinates(const otk_cost *c, const double **xs, const double **ys, size_t *d,
                            otk_ground *ground, double *power)
{
    if (!c || c->ops != &points_ops || ((const points_cost *)c)->xs32)
        return 0;
    const points_cost *pc = (const points_cost *)c;
    *xs = pc->xs;
    *ys = pc->ys;
    *d = pc->d;
    *ground = pc->ground;
    *power = pc->power;
    return 1;
}

static const struct otk_cost_ops points_ops = {
    "points", points_softmin, points_plan_reduce, points_entry, points_destroy, points_tile,
    NULL, NULL, NULL, /* single-level */
};

const double *otk__points_matrix_view(const otk_cost *c)
{
    return c->ops == &points_ops ? ((const points_cost *)c)->cache : NULL;
}

int otk__points_fill_matrix(const otk_cost *c, double *C)
{
    if (c->ops != &points_ops)
        return 0;
    const points_cost *pc = (const points_cost *)c;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j0 = 0; j0 < c->m; j0 += OTK_TILE) {
            size_t T = c->m - j0 < OTK_TILE ? c->m - j0 : OTK_TILE;
            c->kern->points_cost_tile((int)pc->ground, pc->power, pc->d, pc->xs + i, c->n,
                                      pc->ys, c->m, j0, T, C + i * c->m + j0);
        }
    return 1;
}

otk_status otk_cost_points_cache(otk_cost *cost, size_t max_bytes)
{
    if (!cost)
        return otk__fail(OTK_ENULL, "otk_cost_points_cache: cost is NULL");
    if (cost->ops != &points_ops)
        return otk__fail(OTK_EUNSUPPORTED,
                         "otk_cost_points_cache: the cost is of kind \"%s\", not \"points\"",
                         cost->ops->kind);
    points_cost *pc = (points_cost *)cost;
    const size_t n = cost->n, m = cost->m;
    const int fits = m <= SIZE_MAX / sizeof(double) / n && n * m * sizeof(double) <= max_bytes;
    if (!fits) {
        free(pc->cache);
        pc->cache = NULL;
        return OTK_SUCCESS;
    }
    if (pc->cache)
        return OTK_SUCCESS;
    pc->cache = malloc(n * m * sizeof(double));
    if (!pc->cache)
        return otk__fail(OTK_ENOMEM, "otk_cost_points_cache: out of memory for the %zu×%zu "
                                     "cost matrix",
                         n, m);
    fill_cache(pc);
    return OTK_SUCCESS;
}

size_t otk_cost_cache_bytes(const otk_cost *cost)
{
    if (!cost || cost->ops != &points_ops || !((const points_cost *)cost)->cache)
        return 0;
    return cost->n * cost->m * sizeof(double);
}

/* The checks both constructors share. */
static otk_status check_points_args(const char *fn, otk_cost **out, size_t n, size_t m, size_t d,
                                    const void *x, const void *y, otk_ground ground, double power)
{
    if (!out)
        return otk__fail(OTK_ENULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!x || !y)
        return otk__fail(OTK_ENULL, "%s: %s is NULL", fn, !x ? "x" : "y");
    if (n == 0 || m == 0 || d == 0)
        return otk__fail(OTK_ESIZE, "%s: n = %zu, m = %zu, d = %zu must be > 0", fn, n, m, d);
    if (n > SIZE_MAX / sizeof(double) / d || m > SIZE_MAX / sizeof(double) / d)
        return otk__fail(OTK_ESIZE, "%s: %s·d = %zu·%zu overflows", fn, n > m ? "n" : "m",
                         n > m ? n : m, d);
    if (!otk_ground_name(ground))
        return otk__fail(OTK_EPARAM, "%s: invalid ground cost %d", fn, (int)ground);
    if ((ground == OTK_GROUND_LP || ground == OTK_GROUND_LP_OVER_P) &&
        !(power > 0.0 && isfinite(power)))
        return otk__fail(OTK_EPARAM, "%s: power = %g must be finite and > 0 for %s", fn, power,
                         otk_ground_name(ground));
    return OTK_SUCCESS;
}

/* A cost with its coordinate arrays allocated (float32 copies when `single`),
 * before the coordinates are stored. */
static points_cost *points_alloc(size_t n, size_t m, size_t d, otk_ground ground, double power,
                                 int single)
{
    points_cost *pc = calloc(1, sizeof *pc);
    if (!pc)
        return NULL;
    pc->xs = malloc(n * d * sizeof *pc->xs);
    pc->ys = malloc(m * d * sizeof *pc->ys);
    if (single) {
        pc->xs32 = malloc(n * d * sizeof *pc->xs32);
        pc->ys32 = malloc(m * d * sizeof *pc->ys32);
    }
    const int expanded =
        !single && (ground == OTK_GROUND_SQEUCLIDEAN || ground == OTK_GROUND_HALF_SQEUCLIDEAN);
    if (expanded) {
        pc->xc = malloc(n * d * sizeof *pc->xc);
        pc->yc = malloc(m * d * sizeof *pc->yc);
        pc->nx = malloc(n * sizeof *pc->nx);
        pc->ny = malloc(m * sizeof *pc->ny);
    }
    if (!pc->xs || !pc->ys || (single && (!pc->xs32 || !pc->ys32)) ||
        (expanded && (!pc->xc || !pc->yc || !pc->nx || !pc->ny))) {
        free(pc->xs);
        free(pc->ys);
        free(pc->xs32);
        free(pc->ys32);
        free(pc->xc);
        free(pc->yc);
        free(pc->nx);
        free(pc->ny);
        free(pc);
        return NULL;
    }
    otk__cost_init(&pc->base, &points_ops, n, m, otk_ground_name(ground));
    pc->d = d;
    pc->ground = ground;
    pc->power = (ground == OTK_GROUND_LP || ground == OTK_GROUND_LP_OVER_P) ? power : 0.0;
    pc->base.exponent = otk_ground_exponent(ground, power);
    return pc;
}

otk_status otk_cost_points(otk_cost **out, size_t n, size_t m, size_t d, const double *x,
                           const double *y, otk_ground ground, double power)
{
    otk_status st = check_points_args("otk_cost_points", out, n, m, d, x, y, ground, power);
    if (st != OTK_SUCCESS)
        return st;
    if ((st = otk__check_finite("x", x, n * d)) || (st = otk__check_finite("y", y, m * d)))
        return st;
    points_cost *pc = points_alloc(n, m, d, ground, power, 0);
    if (!pc)
        return otk__fail(OTK_ENOMEM, "otk_cost_points: out of memory for %zu + %zu points", n, m);
    place(pc, x, y);
    *out = &pc->base;
    return OTK_SUCCESS;
}

/* Row-major float32 points into the d×n float64 layout, checking finiteness. */
static otk_status store_coordinates_f32(double *dst, const float *src, size_t n, size_t d,
                                        const char *what)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) {
            const float v = src[i * d + k];
            if (!isfinite(v))
                return otk__fail(OTK_ENONFINITE, "%s[%zu] = %g is not finite (point %zu, "
                                                 "coordinate %zu)",
                                 what, i * d + k, (double)v, i, k);
            dst[k * n + i] = (double)v;
        }
    return OTK_SUCCESS;
}

otk_status otk_cost_points_f32(otk_cost **out, size_t n, size_t m, size_t d, const float *x,
                               const float *y, otk_ground ground, double power)
{
    otk_status st = check_points_args("otk_cost_points_f32", out, n, m, d, x, y, ground, power);
    if (st != OTK_SUCCESS)
        return st;
    points_cost *pc = points_alloc(n, m, d, ground, power, 1);
    if (!pc)
        return otk__fail(OTK_ENOMEM, "otk_cost_points_f32: out of memory for %zu + %zu points",
                         n, m);
    if ((st = store_coordinates_f32(pc->xs, x, n, d, "x")) != OTK_SUCCESS ||
        (st = store_coordinates_f32(pc->ys, y, m, d, "y")) != OTK_SUCCESS) {
        points_destroy(&pc->base);
        return st;
    }
    /* The float32 kernels form Σ(x_k − y_k)² (l1: Σ|x_k − y_k|) and then its
     * power in float32: points whose bounding box makes either exceed
     * FLT_MAX would give infinite costs, refused here rather than as a
     * breakdown in the first soft-min. */
    const double diam = bounding_box_diameter(pc);
    const double e = otk_ground_exponent(ground, power);
    const double reach = ground == OTK_GROUND_L1 ? diam : fmax(diam * diam, pow(diam, e));
    if (!(reach <= FLT_MAX)) {
        points_destroy(&pc->base);
        return otk__fail(OTK_ENUMERIC, "otk_cost_points_f32: x and y span %g (bounding box): "
                                       "their costs reach %g, beyond float32 (FLT_MAX = %g); "
                                       "use otk_cost_points",
                         diam, reach, (double)FLT_MAX);
    }
    narrow_coordinates(pc->xs32, pc->xs, n * d);
    narrow_coordinates(pc->ys32, pc->ys, m * d);
    pc->base.diameter = diam;
    if (pc->nx)
        centre(pc);
    *out = &pc->base;
    return OTK_SUCCESS;
}

otk_status otk_cost_points_set_f32(otk_cost *c, const float *x, const float *y)
{
    if (!c)
        return otk__fail(OTK_ENULL, "otk_cost_points_set_f32: cost is NULL");
    if (!otk_cost_single_precision(c))
        return otk__fail(OTK_EUNSUPPORTED, "otk_cost_points_set_f32: the cost was not made by "
                                           "otk_cost_points_f32");
    points_cost *pc = (points_cost *)c;
    /* Check everything before storing anything: a failure leaves the cost as
     * it was. */
    const float *src[2] = {x, y};
    const size_t len[2] = {c->n * pc->d, c->m * pc->d};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; src[s] && i < len[s]; i++)
            if (!isfinite(src[s][i]))
                return otk__fail(OTK_ENONFINITE, "%s[%zu] = %g is not finite (point %zu, "
                                                 "coordinate %zu)",
                                 s == 0 ? "x" : "y", i, (double)src[s][i], i / pc->d,
                                 i % pc->d);
    if (x) {
        (void)store_coordinates_f32(pc->xs, x, c->n, pc->d, "x");
        narrow_coordinates(pc->xs32, pc->xs, c->n * pc->d);
    }
    if (y) {
        (void)store_coordinates_f32(pc->ys, y, c->m, pc->d, "y");
        narrow_coordinates(pc->ys32, pc->ys, c->m * pc->d);
    }
    c->diameter = bounding_box_diameter(pc);
    if (pc->nx)
        centre(pc);
    if (pc->cache)
        fill_cache(pc);
    return OTK_SUCCESS;
}

int otk_cost_single_precision(const otk_cost *cost)
{
    return cost && cost->ops == &points_ops && ((const points_cost *)cost)->xs32 != NULL;
}

void otk__ground_grad(otk_ground ground, double power, size_t d, const double *p,
                      const double *q, double w, double *grad)
{
    double sq = 0.0, diff[64];
    for (size_t k = 0; k < d; k++)
        sq += (p[k] - q[k]) * (p[k] - q[k]);
    for (size_t k0 = 0; k0 < d; k0 += 64) {
        size_t K = d - k0 < 64 ? d - k0 : 64;
        for (size_t k = 0; k < K; k++)
            diff[k] = p[k0 + k] - q[k0 + k];
        ground_grad_acc(ground, power, K, diff, sq, w, grad + k0);
    }
}
