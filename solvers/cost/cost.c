/* The cost abstraction: common entry points and the generic tiled operations
 * that every kind able to produce a tile of costs reuses. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "internal.h"

void otk__cost_init(otk_cost *c, const struct otk_cost_ops *ops, size_t n, size_t m,
                    const char *name)
{
    c->ops = ops;
    c->kern = otk__kernels();
    c->n = n;
    c->m = m;
    c->diameter = 0.0;
    c->exponent = 1.0;
    c->fixed_eps = 0.0;
    c->coarse_eps = 0.0;
    c->name = name;
}

void otk_cost_free(otk_cost *cost)
{
    if (cost)
        cost->ops->destroy(cost);
}

size_t otk_cost_rows(const otk_cost *cost) { return cost ? cost->n : 0; }
size_t otk_cost_cols(const otk_cost *cost) { return cost ? cost->m : 0; }
const char *otk_cost_kind(const otk_cost *cost) { return cost ? cost->ops->kind : NULL; }
const char *otk_cost_name(const otk_cost *cost) { return cost ? cost->name : NULL; }
double otk_cost_diameter(const otk_cost *cost) { return cost ? cost->diameter : NAN; }
double otk_cost_exponent(const otk_cost *cost) { return cost ? cost->exponent : NAN; }

double otk_cost_entry(const otk_cost *cost, size_t i, size_t j)
{
    if (!cost || i >= cost->n || j >= cost->m)
        return NAN;
    return cost->ops->entry(cost, i, j);
}

const double *otk__cost_matrix_view(const otk_cost *c, size_t *ld)
{
    const double *M = otk__dense_matrix_view(c, ld);
    if (M)
        return M;
    M = otk__points_matrix_view(c);
    if (M)
        *ld = c->m;
    return M;
}

void otk__cost_fill_matrix(const otk_cost *c, double *C)
{
    if (otk__points_fill_matrix(c, C))
        return;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->m; j++)
            C[i * c->m + j] = c->ops->entry(c, i, j);
}

/* Each output entry is reduced by one thread, tile after tile in a fixed
 * order: results are bitwise independent of the number of threads. */
void otk__softmin_tiled(const otk_cost *c, otk_tile_fn tile, int axis, double eps,
                        const double *h, double *out, int threads)
{
    const size_t nout = axis == 0 ? c->n : c->m;
    const size_t nin = axis == 0 ? c->m : c->n;
    const double inv_eps = 1.0 / eps;
    const otk_kernels *kern = c->kern;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                     schedule(dynamic, 16) num_threads(threads),
    for (size_t i = 0; i < nout; i++) {
        double buf[OTK_TILE];
        double M = -INFINITY, S = 0.0;
        for (size_t j0 = 0; j0 < nin; j0 += OTK_TILE) {
            size_t T = nin - j0 < OTK_TILE ? nin - j0 : OTK_TILE;
            const double *ct = tile(c, axis, i, j0, T, buf);
            kern->lse_accumulate(ct, h + j0, T, inv_eps, &M, &S);
        }
        out[i] = -eps * (M + log(S));
    });
}

void otk__plan_reduce_tiled(const otk_cost *c, otk_tile_fn tile, int axis, double eps,
                            const double *u, const double *v, otk_reduce what, size_t k,
                            const double *Y, double *out, int threads)
{
    const size_t nout = axis == 0 ? c->n : c->m;
    const size_t nin = axis == 0 ? c->m : c->n;
    const double *uo = axis == 0 ? u : v;
    const double *vi = axis == 0 ? v : u;
    const double inv_eps = 1.0 / eps;
    const otk_kernels *kern = c->kern;
    if (what == OTK_REDUCE_GRAD) {
        /* No coordinates here: only point clouds provide gradients. */
        for (size_t i = 0; i < nout * k; i++)
            out[i] = NAN;
        return;
    }
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, c->n, c->m),
                     schedule(dynamic, 16) num_threads(threads),
    for (size_t i = 0; i < nout; i++) {
        double buf[OTK_TILE], w[OTK_TILE];
        double acc = 0.0;
        if (what == OTK_REDUCE_APPLY)
            memset(out + i * k, 0, k * sizeof *out);
        for (size_t j0 = 0; j0 < nin; j0 += OTK_TILE) {
            size_t T = nin - j0 < OTK_TILE ? nin - j0 : OTK_TILE;
            const double *ct = tile(c, axis, i, j0, T, buf);
            kern->plan_weights(ct, vi + j0, T, uo[i], inv_eps, w);
            switch (what) {
            case OTK_REDUCE_MASS:
                acc += kern->sum(w, T);
                break;
            case OTK_REDUCE_COST:
                acc += kern->dot(w, ct, T);
                break;
            case OTK_REDUCE_APPLY:
                for (size_t t = 0; t < T; t++) {
                    const double *yr = Y + (j0 + t) * k;
                    double *o = out + i * k;
                    for (size_t q = 0; q < k; q++)
                        o[q] += w[t] * yr[q];
                }
                break;
            case OTK_REDUCE_GRAD: /* handled above */
                break;
            }
        }
        if (what != OTK_REDUCE_APPLY)
            out[i] = acc;
    });
}

static otk_status check_potential(const char *what, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]) || v[i] == (double)INFINITY)
            return otk__fail(OTK_ENONFINITE, "%s[%zu] = %g is not finite or -inf", what, i, v[i]);
    return OTK_SUCCESS;
}

static otk_status check_axis_eps(const otk_cost *cost, int axis, double eps)
{
    if (axis != 0 && axis != 1)
        return otk__fail(OTK_EPARAM, "axis = %d must be 0 (rows) or 1 (columns)", axis);
    if (!(eps > 0.0) || !isfinite(eps))
        return otk__fail(OTK_EPARAM, "eps = %g must be finite and > 0", eps);
    if (cost->fixed_eps > 0.0 && eps != cost->fixed_eps)
        return otk__fail(OTK_EPARAM, "eps = %g: this %s cost was built for eps = %g", eps,
                         cost->ops->kind, cost->fixed_eps);
    return OTK_SUCCESS;
}

otk_status otk_cost_softmin(const otk_cost *cost, int axis, double eps, const double *h,
                            double *out, int threads)
{
    if (!cost || !h || !out)
        return otk__fail(OTK_ENULL, "%s is NULL", !cost ? "cost" : !h ? "h" : "out");
    otk_status st = check_axis_eps(cost, axis, eps);
    if (st != OTK_SUCCESS)
        return st;
    if ((st = check_potential("h", h, axis == 0 ? cost->m : cost->n)) != OTK_SUCCESS)
        return st;
    cost->ops->softmin(cost, axis, eps, h, out, otk__threads(threads));
    return OTK_SUCCESS;
}

otk_status otk_cost_plan_reduce(const otk_cost *cost, int axis, double eps, const double *u,
                                const double *v, otk_reduce what, size_t k, const double *Y,
                                double *out, int threads)
{
    if (!cost || !u || !v || !out)
        return otk__fail(OTK_ENULL, "%s is NULL", !cost ? "cost" : !u ? "u" : !v ? "v" : "out");
    otk_status st = check_axis_eps(cost, axis, eps);
    if (st != OTK_SUCCESS)
        return st;
    switch (what) {
    case OTK_REDUCE_MASS:
    case OTK_REDUCE_COST:
        k = 1;
        break;
    case OTK_REDUCE_APPLY:
        if (k == 0)
            return otk__fail(OTK_EPARAM, "k = 0: OTK_REDUCE_APPLY needs k >= 1 columns");
        if (!Y)
            return otk__fail(OTK_ENULL, "Y is NULL");
        if ((st = otk__check_finite("Y", Y, (axis == 0 ? cost->m : cost->n) * k)) != OTK_SUCCESS)
            return st;
        break;
    case OTK_REDUCE_GRAD:
        if (otk__cost_points_dim(cost) == 0)
            return otk__fail(OTK_EUNSUPPORTED, "OTK_REDUCE_GRAD: a %s cost has no coordinates",
                             cost->ops->kind);
        if (k != otk__cost_points_dim(cost))
            return otk__fail(OTK_EPARAM, "k = %zu must be the points' dimension %zu", k,
                             otk__cost_points_dim(cost));
        break;
    default:
        return otk__fail(OTK_EPARAM, "what = %d is not an otk_reduce", (int)what);
    }
    if ((st = check_potential("u", u, cost->n)) != OTK_SUCCESS ||
        (st = check_potential("v", v, cost->m)) != OTK_SUCCESS)
        return st;
    cost->ops->plan_reduce(cost, axis, eps, u, v, what, k, Y, out, otk__threads(threads));
    return OTK_SUCCESS;
}

/* Entries (i, j0 .. j0+T) of C as the soft-min sees them, in buf or the
 * kept matrix. */
static const double *row_tile(const otk_cost *cost, size_t i, size_t j0, size_t T, double *buf)
{
    if (cost->ops->tile)
        return cost->ops->tile(cost, 0, i, j0, T, buf);
    for (size_t k = 0; k < T; k++)
        buf[k] = cost->ops->entry(cost, i, j0 + k);
    return buf;
}

/* Merge (nb, mean_b, m2_b) into (na, mean_a, m2_a): Chan et al.'s pairwise
 * update, which keeps the sum of squared deviations accurate when the mean is
 * large compared to the spread (a single Σc² − (Σc)²/N would cancel). */
static void merge_moments(double *na, double *mean_a, double *m2_a, double nb, double mean_b,
                          double m2_b)
{
    if (*na == 0.0) {
        *na = nb;
        *mean_a = mean_b;
        *m2_a = m2_b;
        return;
    }
    const double nt = *na + nb;
    const double delta = mean_b - *mean_a;
    *mean_a += delta * (nb / nt);
    *m2_a += m2_b + delta * delta * (*na * nb / nt);
    *na = nt;
}

/* Rows are reduced in OTK_MOMENT_CHUNKS fixed chunks (one thread each, rows in
 * index order, tile by tile), then the chunks merged in order: the result does
 * not depend on the thread count and nothing is allocated. */
#define OTK_MOMENT_CHUNKS 64

otk_status otk_cost_moments(const otk_cost *cost, double *mean, double *std, int threads)
{
    if (!cost || (!mean && !std))
        return otk__fail(OTK_ENULL, "otk_cost_moments: %s is NULL",
                         !cost ? "cost" : "mean and std");
    const size_t n = cost->n, m = cost->m;
    const int nt = otk__threads(threads);
    double cnt[OTK_MOMENT_CHUNKS], mu[OTK_MOMENT_CHUNKS], m2[OTK_MOMENT_CHUNKS];
    const size_t rows = (n + OTK_MOMENT_CHUNKS - 1) / OTK_MOMENT_CHUNKS;
    OTK_PARALLEL_FOR(otk__parallel_worth(nt, n, m),
                     schedule(dynamic, 1) num_threads(nt),
    for (size_t ch = 0; ch < OTK_MOMENT_CHUNKS; ch++) {
        double buf[OTK_TILE];
        double c_cnt = 0.0, c_mu = 0.0, c_m2 = 0.0;
        const size_t i1 = (ch + 1) * rows < n ? (ch + 1) * rows : n;
        for (size_t i = ch * rows; i < i1; i++) {
            for (size_t j0 = 0; j0 < m; j0 += OTK_TILE) {
                const size_t T = m - j0 < OTK_TILE ? m - j0 : OTK_TILE;
                const double *t = row_tile(cost, i, j0, T, buf);
                const double tm = cost->kern->sum(t, T) / (double)T;
                double tm2 = 0.0;
                for (size_t k = 0; k < T; k++)
                    tm2 += (t[k] - tm) * (t[k] - tm);
                merge_moments(&c_cnt, &c_mu, &c_m2, (double)T, tm, tm2);
            }
        }
        cnt[ch] = c_cnt;
        mu[ch] = c_mu;
        m2[ch] = c_m2;
    });
    double total = 0.0, tmu = 0.0, tm2 = 0.0;
    for (size_t ch = 0; ch < OTK_MOMENT_CHUNKS; ch++)
        if (cnt[ch] > 0.0)
            merge_moments(&total, &tmu, &tm2, cnt[ch], mu[ch], m2[ch]);
    if (!isfinite(tmu) || !isfinite(tm2))
        return otk__fail(OTK_ENONFINITE, "otk_cost_moments: the entries of the %s cost are not "
                                         "all finite", cost->ops->kind);
    if (mean)
        *mean = tmu;
    if (std)
        *std = sqrt(tm2 / total);
    return OTK_SUCCESS;
}

/* A key whose unsigned order is the order of the doubles (−0 below +0, which
 * the median then averages as equal values). */
static uint64_t order_key(double x)
{
    uint64_t k;
    memcpy(&k, &x, sizeof k);
    return (k >> 63) ? ~k : k | ((uint64_t)1 << 63);
}

static double key_value(uint64_t k)
{
    k = (k >> 63) ? k & ~((uint64_t)1 << 63) : ~k;
    double x;
    memcpy(&x, &k, sizeof x);
    return x;
}

static otk_status cost_max(const otk_cost *cost, double *out, int nt)
{
    const size_t n = cost->n, m = cost->m;
    double mx = -INFINITY;
    int bad = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (otk__parallel_worth(nt, n, m)) \
    reduction(max : mx) reduction(| : bad)
    for (size_t i = 0; i < n; i++) {
        double buf[OTK_TILE];
        for (size_t j0 = 0; j0 < m; j0 += OTK_TILE) {
            const size_t T = m - j0 < OTK_TILE ? m - j0 : OTK_TILE;
            const double *t = row_tile(cost, i, j0, T, buf);
            for (size_t k = 0; k < T; k++) {
                bad |= !isfinite(t[k]);
                mx = t[k] > mx ? t[k] : mx;
            }
        }
    }
    if (bad)
        return otk__fail(OTK_ENONFINITE, "otk_cost_statistic: the entries of the %s cost are "
                                         "not all finite", cost->ops->kind);
    *out = mx;
    return OTK_SUCCESS;
}

/* The entry of rank `rank` (0-based, ascending) by radix selection on
 * order_key, 8 bits a pass; *below and *equal count the entries under it and
 * equal to it. */
static otk_status cost_select(const otk_cost *cost, uint64_t rank, int nt, uint64_t *key,
                              uint64_t *below, uint64_t *equal)
{
    const size_t n = cost->n, m = cost->m;
    uint64_t prefix = 0, under = 0;
    for (int shift = 56; shift >= 0; shift -= 8) {
        uint64_t hist[256] = {0};
        int bad = 0;
        const int top = 56 - shift + 8; /* bits fixed so far, after this pass */
        const uint64_t mask = top - 8 == 0 ? 0 : ~(uint64_t)0 << (64 - (top - 8));
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (otk__parallel_worth(nt, n, m)) \
    reduction(+ : hist[:256]) reduction(| : bad)
        for (size_t i = 0; i < n; i++) {
            double buf[OTK_TILE];
            for (size_t j0 = 0; j0 < m; j0 += OTK_TILE) {
                const size_t T = m - j0 < OTK_TILE ? m - j0 : OTK_TILE;
                const double *t = row_tile(cost, i, j0, T, buf);
                for (size_t k = 0; k < T; k++) {
                    bad |= !isfinite(t[k]);
                    const uint64_t kk = order_key(t[k]);
                    if ((kk & mask) == prefix)
                        hist[(kk >> shift) & 255]++;
                }
            }
        }
        if (bad)
            return otk__fail(OTK_ENONFINITE, "otk_cost_statistic: the entries of the %s cost "
                                             "are not all finite", cost->ops->kind);
        unsigned b = 0;
        while (under + hist[b] <= rank)
            under += hist[b++];
        prefix |= (uint64_t)b << shift;
        if (shift == 0)
            *equal = hist[b];
    }
    *key = prefix;
    *below = under;
    return OTK_SUCCESS;
}

static otk_status cost_median(const otk_cost *cost, double *out, int nt)
{
    const size_t n = cost->n, m = cost->m;
    const uint64_t total = (uint64_t)n * (uint64_t)m;
    const uint64_t lo_rank = (total - 1) / 2, hi_rank = total / 2;
    uint64_t key, below, equal;
    otk_status st = cost_select(cost, lo_rank, nt, &key, &below, &equal);
    if (st)
        return st;
    const double lo = key_value(key);
    if (below + equal > hi_rank) {
        *out = lo;
        return OTK_SUCCESS;
    }
    /* total even and the upper middle entry is the smallest one above lo. */
    double hi = INFINITY;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (otk__parallel_worth(nt, n, m)) \
    reduction(min : hi)
    for (size_t i = 0; i < n; i++) {
        double buf[OTK_TILE];
        for (size_t j0 = 0; j0 < m; j0 += OTK_TILE) {
            const size_t T = m - j0 < OTK_TILE ? m - j0 : OTK_TILE;
            const double *t = row_tile(cost, i, j0, T, buf);
            for (size_t k = 0; k < T; k++)
                if (order_key(t[k]) > key && t[k] < hi)
                    hi = t[k];
        }
    }
    *out = (lo + hi) / 2.0; /* numpy.median's mean of the two */
    return OTK_SUCCESS;
}

otk_status otk_cost_statistic(const otk_cost *cost, otk_relative_to stat, double *out,
                              int threads)
{
    if (!cost || !out)
        return otk__fail(OTK_ENULL, "otk_cost_statistic: %s is NULL", !cost ? "cost" : "out");
    const int nt = otk__threads(threads);
    switch (stat) {
    case OTK_RELATIVE_MEAN:
        return otk_cost_moments(cost, out, NULL, threads);
    case OTK_RELATIVE_STD:
        return otk_cost_moments(cost, NULL, out, threads);
    case OTK_RELATIVE_MAX_COST:
        return cost_max(cost, out, nt);
    case OTK_RELATIVE_MEDIAN:
        return cost_median(cost, out, nt);
    }
    return otk__fail(OTK_EPARAM, "otk_cost_statistic: stat = %d is not a valid otk_relative_to",
                     (int)stat);
}
