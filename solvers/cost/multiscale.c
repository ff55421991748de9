/* Multiscale point clouds (GeomLoss's multiscale mode after Schmitzer 2019;
 * docs/math.md A.11): the points of a cloud in dimension d <= 3 sorted into the
 * cells of a regular grid, so that each cell's points ("a cluster") are
 * contiguous.  Two levels, chosen by the driver (solvers/core/sinkhorn.c):
 *
 *   clusters  the soft-min of a cluster is the soft-min between centroids of
 *             the log-sum of its members' scalings, broadcast to its points:
 *             exactly the coarse problem on centroids with summed weights
 *             while the potentials are constant per cluster (they are: every
 *             coarse update broadcasts);
 *   points    soft-mins and plan reductions over the kept blocks (I, J) of
 *             cluster pairs only.  A block is kept when an upper bound U_IJ
 *             of (f_i + g_j − C_ij) over its pairs is >= −truncate·ε, so every
 *             dropped entry of the plan is at most a_i b_j e^{−truncate} when
 *             the mask is drawn; truncation_bound re-evaluates the bound at
 *             the final potentials.
 *
 * The cost owns its workspace and its block masks: one call at a time, as a
 * grid cost. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* At most this many clusters per cloud: the masks take nx·ny bits each way
 * (2 × 32 MiB at the limit) and the truncation rule nx·ny bound evaluations. */
#define MS_MAX_CLUSTERS 16384
/* Points per cluster aimed at: blocks long enough for the tile kernels. */
#define MS_POINTS_PER_CLUSTER 64

typedef struct {
    otk_cost base;
    size_t d;
    otk_ground ground;
    double power, truncate, cell;
    double *xs, *ys;         /* coordinates sorted by cell, d×n and d×m */
    size_t *px, *py;         /* sorted position → original index */
    size_t *ix, *iy;         /* original index → sorted position */
    size_t nx, ny;           /* clusters (non-empty cells) */
    size_t *sx, *sy;         /* cluster starts, nx+1 and ny+1 sorted positions */
    double *cx, *cy;         /* centroids, d×nx and d×ny */
    double *rx, *ry;         /* radii: the largest distance of a member to its centroid */
    int fine;                /* level: 0 clusters, 1 points */
    int all_kept;            /* points level with every block */
    uint64_t *keep_r;        /* nx rows of wr words: bit J of row I when (I, J) is kept */
    uint64_t *keep_c;        /* ny rows of wc words: the transpose */
    size_t wr, wc, kept;
    /* Workspace (one call at a time). */
    double *hs;              /* max(n, m): an input gathered into sorted order */
    double *H;               /* nx + ny: cluster log-sums, partial sums */
    double *stat_x, *stat_y; /* (d + 2) per cluster: F, γ (d), e */
} ms_cost;

/* The quantities of one axis: "out" is the reduced side. */
typedef struct {
    const double *P, *Q, *CP, *CQ, *rP, *rQ;
    size_t nout, nin, cout, cin, words;
    const size_t *pout, *pin, *sout, *sin;
    const uint64_t *mask;
} view;

static view make_view(const ms_cost *mc, int axis)
{
    view v;
    const int r = axis == 0;
    v.P = r ? mc->xs : mc->ys;
    v.Q = r ? mc->ys : mc->xs;
    v.CP = r ? mc->cx : mc->cy;
    v.CQ = r ? mc->cy : mc->cx;
    v.rP = r ? mc->rx : mc->ry;
    v.rQ = r ? mc->ry : mc->rx;
    v.nout = r ? mc->base.n : mc->base.m;
    v.nin = r ? mc->base.m : mc->base.n;
    v.cout = r ? mc->nx : mc->ny;
    v.cin = r ? mc->ny : mc->nx;
    v.pout = r ? mc->px : mc->py;
    v.pin = r ? mc->py : mc->px;
    v.sout = r ? mc->sx : mc->sy;
    v.sin = r ? mc->sy : mc->sx;
    v.mask = r ? mc->keep_r : mc->keep_c;
    v.words = r ? mc->wr : mc->wc;
    return v;
}

size_t otk__multiscale_dim(const otk_cost *c);

/* ------------------------------------------------------------ helpers */

/* log Σ_k exp(v_k) over the sorted positions [k0, k1) of an input given in
 * original order through perm: −∞ when all are −∞. */
static double cluster_lse(const double *h, const size_t *perm, size_t k0, size_t k1)
{
    double M = -INFINITY;
    for (size_t k = k0; k < k1; k++)
        M = h[perm[k]] > M ? h[perm[k]] : M;
    if (M == -INFINITY)
        return -INFINITY;
    double S = 0.0;
    for (size_t k = k0; k < k1; k++)
        S += exp(h[perm[k]] - M);
    return M + log(S);
}

/* Run BODY on the kept blocks of cluster row I, merged into maximal runs of
 * contiguous sorted positions [r0, r1) of the input side (all: one run). */
#define FOR_KEPT_RUNS(v, all, I, r0, r1, ...)                                               \
    do {                                                                                     \
        if (all) {                                                                           \
            size_t r0 = 0, r1 = (v).nin;                                                     \
            __VA_ARGS__;                                                                            \
            break;                                                                           \
        }                                                                                    \
        const uint64_t *row_ = (v).mask + (I) * (v).words;                                   \
        size_t r0 = 0, r1 = 0;                                                               \
        for (size_t w_ = 0; w_ < (v).words; w_++) {                                          \
            uint64_t bits_ = row_[w_];                                                       \
            while (bits_) {                                                                  \
                const size_t J_ = w_ * 64 + (size_t)__builtin_ctzll(bits_);                  \
                bits_ &= bits_ - 1;                                                          \
                if ((v).sin[J_] == r1 && r1 > r0) {                                          \
                    r1 = (v).sin[J_ + 1];                                                    \
                    continue;                                                                \
                }                                                                            \
                if (r1 > r0) {                                                               \
                    __VA_ARGS__;                                                                    \
                }                                                                            \
                r0 = (v).sin[J_];                                                            \
                r1 = (v).sin[J_ + 1];                                                        \
            }                                                                                \
        }                                                                                    \
        if (r1 > r0) {                                                                       \
            __VA_ARGS__;                                                                            \
        }                                                                                    \
    } while (0)

/* ------------------------------------------------------------ soft-min */

static void ms_softmin_clusters(const ms_cost *mc, const view *v, double eps, const double *h,
                                double *out, int threads)
{
    const otk_kernels *kern = mc->base.kern;
    const double inv_eps = 1.0 / eps;
    double *H = mc->H;
    for (size_t J = 0; J < v->cin; J++)
        H[J] = cluster_lse(h, v->pin, v->sin[J], v->sin[J + 1]);
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads) if (otk__parallel_worth(threads, v->cout, v->cin))
    for (size_t I = 0; I < v->cout; I++) {
        double M = -INFINITY, S = 0.0;
        for (size_t J0 = 0; J0 < v->cin; J0 += OTK_TILE) {
            const size_t T = v->cin - J0 < OTK_TILE ? v->cin - J0 : OTK_TILE;
            kern->points_lse_tile((int)mc->ground, mc->power, mc->d, v->CP + I, v->cout, v->CQ,
                                  v->cin, J0, T, H + J0, inv_eps, &M, &S);
        }
        const double val = -eps * (M + log(S));
        for (size_t k = v->sout[I]; k < v->sout[I + 1]; k++)
            out[v->pout[k]] = val;
    }
}

static void gather(double *dst, const double *src, const size_t *perm, size_t n)
{
    for (size_t k = 0; k < n; k++)
        dst[k] = src[perm[k]];
}

static void ms_softmin(const otk_cost *c, int axis, double eps, const double *h, double *out,
                       int threads)
{
    const ms_cost *mc = (const ms_cost *)c;
    const view v = make_view(mc, axis);
    if (!mc->fine) {
        ms_softmin_clusters(mc, &v, eps, h, out, threads);
        return;
    }
    const otk_kernels *kern = c->kern;
    const double inv_eps = 1.0 / eps;
    double *hs = mc->hs;
    gather(hs, h, v.pin, v.nin);
    const int all = mc->all_kept;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (otk__parallel_worth(threads, c->n, c->m))
    for (size_t I = 0; I < v.cout; I++) {
        for (size_t i = v.sout[I]; i < v.sout[I + 1]; i++) {
            double M = -INFINITY, S = 0.0;
            FOR_KEPT_RUNS(v, all, I, r0, r1, {
                for (size_t j0 = r0; j0 < r1; j0 += OTK_TILE) {
                    const size_t T = r1 - j0 < OTK_TILE ? r1 - j0 : OTK_TILE;
                    kern->points_lse_tile((int)mc->ground, mc->power, mc->d, v.P + i, v.nout,
                                          v.Q, v.nin, j0, T, hs + j0, inv_eps, &M, &S);
                }
            });
            out[v.pout[i]] = -eps * (M + log(S));
        }
    }
}

/* ------------------------------------------------------------ plan reductions */

static void ms_plan_reduce(const otk_cost *c, int axis, double eps, const double *u,
                           const double *vv, otk_reduce what, size_t k, const double *Y,
                           double *out, int threads)
{
    const ms_cost *mc = (const ms_cost *)c;
    const view v = make_view(mc, axis);
    const double *uo = axis == 0 ? u : vv;
    const double *vi = axis == 0 ? vv : u;
    const otk_kernels *kern = c->kern;
    const double inv_eps = 1.0 / eps;
    const size_t d = mc->d;
    const size_t kk = what == OTK_REDUCE_APPLY ? k : what == OTK_REDUCE_GRAD ? d : 1;
    double *hs = mc->hs;
    gather(hs, vi, v.pin, v.nin);
    /* The cluster level has no blocks: its read-outs are those of every pair. */
    const int all = mc->all_kept || !mc->fine;
    const double sq_scale = mc->ground == OTK_GROUND_SQEUCLIDEAN        ? 2.0
                            : mc->ground == OTK_GROUND_HALF_SQEUCLIDEAN ? 1.0
                                                                        : 0.0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (otk__parallel_worth(threads, c->n, c->m))
    for (size_t I = 0; I < v.cout; I++) {
        double buf[OTK_TILE], w[OTK_TILE];
        for (size_t i = v.sout[I]; i < v.sout[I + 1]; i++) {
            double *o = out + v.pout[i] * kk;
            const double ui = uo[v.pout[i]];
            double acc = 0.0;
            for (size_t q = 0; q < kk; q++)
                o[q] = 0.0;
            FOR_KEPT_RUNS(v, all, I, r0, r1, {
                for (size_t j0 = r0; j0 < r1; j0 += OTK_TILE) {
                    const size_t T = r1 - j0 < OTK_TILE ? r1 - j0 : OTK_TILE;
                    kern->points_cost_tile((int)mc->ground, mc->power, d, v.P + i, v.nout, v.Q,
                                           v.nin, j0, T, buf);
                    kern->plan_weights(buf, hs + j0, T, ui, inv_eps, w);
                    switch (what) {
                    case OTK_REDUCE_MASS:
                        acc += kern->sum(w, T);
                        break;
                    case OTK_REDUCE_COST:
                        acc += kern->dot(w, buf, T);
                        break;
                    case OTK_REDUCE_APPLY:
                        for (size_t t = 0; t < T; t++) {
                            const double *yr = Y + v.pin[j0 + t] * k;
                            for (size_t q = 0; q < k; q++)
                                o[q] += w[t] * yr[q];
                        }
                        break;
                    case OTK_REDUCE_GRAD:
                        for (size_t t = 0; t < T; t++) {
                            if (w[t] == 0.0)
                                continue;
                            double p[3], qq[3];
                            for (size_t a = 0; a < d; a++) {
                                p[a] = v.P[a * v.nout + i];
                                qq[a] = v.Q[a * v.nin + j0 + t];
                            }
                            if (sq_scale > 0.0)
                                for (size_t a = 0; a < d; a++)
                                    o[a] += sq_scale * w[t] * (p[a] - qq[a]);
                            else
                                otk__ground_grad(mc->ground, mc->power, d, p, qq, w[t], o);
                        }
                        break;
                    }
                }
            });
            if (what == OTK_REDUCE_MASS || what == OTK_REDUCE_COST)
                o[0] = acc;
        }
    }
}

static double ms_entry(const otk_cost *c, size_t i, size_t j)
{
    const ms_cost *mc = (const ms_cost *)c;
    double buf[1];
    c->kern->points_cost_tile((int)mc->ground, mc->power, mc->d, mc->xs + mc->ix[i], c->n,
                              mc->ys, c->m, mc->iy[j], 1, buf);
    return buf[0];
}

static void ms_destroy(otk_cost *c)
{
    ms_cost *mc = (ms_cost *)c;
    free(mc->xs);
    free(mc->ys);
    free(mc->px);
    free(mc->py);
    free(mc->ix);
    free(mc->iy);
    free(mc->sx);
    free(mc->sy);
    free(mc->cx);
    free(mc->cy);
    free(mc->rx);
    free(mc->ry);
    free(mc->keep_r);
    free(mc->keep_c);
    free(mc->hs);
    free(mc->H);
    free(mc->stat_x);
    free(mc->stat_y);
    free(mc);
}

/* ------------------------------------------------------------ truncation */

/* Per cluster I of one side: F = the mean of the potential over its
 * members, γ the least-squares slope of pot ≈ F + γ·(z − Z_I) (0 when the
 * members do not span R^d, or for grounds the bound does not linearise), and
 * e = max over members of pot − F − γ·(z − Z_I), so that pot_i <= F + γ·ξ_i + e
 * holds for every member whatever γ is: the bound needs only that. */
static void cluster_stats(const ms_cost *mc, const double *Z, const double *CZ, size_t nz,
                          const size_t *perm, const size_t *start, size_t nc, const double *pot,
                          int linear, double *stat, int threads)
{
    const size_t d = mc->d, ld = d + 2;
    (void)threads;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (threads > 1 && nz >= 4096)
    for (size_t I = 0; I < nc; I++) {
        double *st = stat + I * ld;
        const size_t k0 = start[I], k1 = start[I + 1];
        double F = 0.0;
        for (size_t k = k0; k < k1; k++)
            F += pot[perm[k]];
        F /= (double)(k1 - k0);
        double gam[3] = {0.0, 0.0, 0.0};
        if (linear && k1 - k0 > d) {
            double A[3][3] = {{0}}, rhs[3] = {0};
            for (size_t k = k0; k < k1; k++) {
                double xi[3];
                for (size_t a = 0; a < d; a++)
                    xi[a] = Z[a * nz + k] - CZ[a * nc + I];
                const double r = pot[perm[k]] - F;
                for (size_t a = 0; a < d; a++) {
                    rhs[a] += xi[a] * r;
                    for (size_t b = 0; b < d; b++)
                        A[a][b] += xi[a] * xi[b];
                }
            }
            /* Gaussian elimination without pivoting on the SPD normal
             * matrix; a tiny pivot (members on a lower-dimensional set)
             * keeps γ = 0. */
            int ok = 1;
            double trace = 0.0;
            for (size_t a = 0; a < d; a++)
                trace += A[a][a];
            for (size_t a = 0; a < d && ok; a++) {
                if (!(A[a][a] > 1e-12 * trace)) {
                    ok = 0;
                    break;
                }
                for (size_t b = a + 1; b < d; b++) {
                    const double l = A[b][a] / A[a][a];
                    for (size_t q = a; q < d; q++)
                        A[b][q] -= l * A[a][q];
                    rhs[b] -= l * rhs[a];
                }
            }
            if (ok) {
                for (size_t a = d; a-- > 0;) {
                    double sacc = rhs[a];
                    for (size_t q = a + 1; q < d; q++)
                        sacc -= A[a][q] * gam[q];
                    gam[a] = sacc / A[a][a];
                }
                for (size_t a = 0; a < d; a++)
                    if (!isfinite(gam[a]))
                        ok = 0;
            }
            if (!ok)
                gam[0] = gam[1] = gam[2] = 0.0;
        }
        double e = -INFINITY;
        for (size_t k = k0; k < k1; k++) {
            double r = pot[perm[k]] - F;
            for (size_t a = 0; a < d; a++)
                r -= gam[a] * (Z[a * nz + k] - CZ[a * nc + I]);
            e = r > e ? r : e;
        }
        st[0] = F;
        for (size_t a = 0; a < d; a++)
            st[1 + a] = gam[a];
        st[1 + d] = e;
    }
}

/* U_IJ >= max over i ∈ I, j ∈ J of f_i + g_j − C_ij (docs/math.md A.11).
 * Squared grounds, C = (s/2)|x − y|², D = X_I − Y_J, ξ = x_i − X_I, η = y_j − Y_J:
 *   C_ij >= (s/2)|D|² + s D·ξ − s D·η, so
 *   f_i + g_j − C_ij <= F_I + G_J + e_I + e_J − (s/2)|D|² + |γ_I − sD| r_I + |γ_J + sD| r_J.
 * Other grounds c = φ(|x − y|), φ increasing: C_ij >= φ(max(0, |D| − r_I − r_J))
 * and f_i <= F_I + e_I (γ = 0). */
static double block_bound(const ms_cost *mc, size_t I, size_t J, const double *sx,
                          const double *sy)
{
    const size_t d = mc->d;
    double D[3], D2 = 0.0;
    for (size_t a = 0; a < d; a++) {
        D[a] = mc->cx[a * mc->nx + I] - mc->cy[a * mc->ny + J];
        D2 += D[a] * D[a];
    }
    const double base = sx[0] + sx[1 + d] + sy[0] + sy[1 + d];
    const double s = mc->ground == OTK_GROUND_SQEUCLIDEAN        ? 2.0
                     : mc->ground == OTK_GROUND_HALF_SQEUCLIDEAN ? 1.0
                                                                 : 0.0;
    if (s > 0.0) {
        double gx = 0.0, gy = 0.0;
        for (size_t a = 0; a < d; a++) {
            const double u = sx[1 + a] - s * D[a], w = sy[1 + a] + s * D[a];
            gx += u * u;
            gy += w * w;
        }
        return base - 0.5 * s * D2 + sqrt(gx) * mc->rx[I] + sqrt(gy) * mc->ry[J];
    }
    double dist = sqrt(D2) - mc->rx[I] - mc->ry[J];
    double cmin = dist > 0.0 ? dist * dist : 0.0;
    otk__ground_of_sums((int)mc->ground, mc->power, &cmin, 1);
    return base - cmin;
}

static double sum_weights(const double *w, const size_t *perm, size_t k0, size_t k1)
{
    double s = 0.0;
    for (size_t k = k0; k < k1; k++)
        s += w[perm[k]];
    return s;
}

static void compute_stats(const ms_cost *mc, const double *f, const double *g, int threads)
{
    const int linear = mc->ground == OTK_GROUND_SQEUCLIDEAN ||
                       mc->ground == OTK_GROUND_HALF_SQEUCLIDEAN;
    cluster_stats(mc, mc->xs, mc->cx, mc->base.n, mc->px, mc->sx, mc->nx, f, linear, mc->stat_x,
                  threads);
    cluster_stats(mc, mc->ys, mc->cy, mc->base.m, mc->py, mc->sy, mc->ny, g, linear, mc->stat_y,
                  threads);
}

static void set_all_kept(ms_cost *mc)
{
    mc->all_kept = 1;
    mc->kept = mc->nx * mc->ny;
}

/* GeomLoss's jump: the damped soft-min at the points of one side of the
 * cluster scalings H of the other side (centroids CQ). */
static void extrapolate(const ms_cost *mc, const double *Z, size_t nz, const size_t *perm,
                        const double *CQ, size_t nq, const double *H, double eps, double kappa,
                        double *pot, int threads)
{
    const otk_kernels *kern = mc->base.kern;
    const double inv_eps = 1.0 / eps;
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads) if (otk__parallel_worth(threads, nz, nq))
    for (size_t k = 0; k < nz; k++) {
        double M = -INFINITY, S = 0.0;
        for (size_t J0 = 0; J0 < nq; J0 += OTK_TILE) {
            const size_t T = nq - J0 < OTK_TILE ? nq - J0 : OTK_TILE;
            kern->points_lse_tile((int)mc->ground, mc->power, mc->d, Z + k, nz, CQ, nq, J0, T,
                                  H + J0, inv_eps, &M, &S);
        }
        pot[perm[k]] = kappa * (-eps * (M + log(S)));
    }
}

static void ms_refine(const otk_cost *c, double eps_ext, double eps, double *f, double *g,
                      const double *a, const double *b, double ka, double kb, int threads)
{
    ms_cost *mc = (ms_cost *)c;
    const size_t n = c->n, m = c->m, nx = mc->nx, ny = mc->ny, d = mc->d;
    const int self = f == g;
    mc->fine = 1;
    if (eps_ext > 0.0) {
        /* Cluster scalings log Σ_{i∈I} a_i e^{f_i/ε} of both sides first:
         * with f == g the two sides are one array. */
        double *Hx = mc->H, *Hy = mc->H + nx;
        for (size_t I = 0; I < nx; I++) {
            for (size_t k = mc->sx[I]; k < mc->sx[I + 1]; k++) {
                const size_t i = mc->px[k];
                mc->hs[k] = a[i] > 0.0 ? log(a[i]) + f[i] / eps_ext : -INFINITY;
            }
            double M = -INFINITY, S = 0.0;
            for (size_t k = mc->sx[I]; k < mc->sx[I + 1]; k++)
                M = mc->hs[k] > M ? mc->hs[k] : M;
            if (M > -INFINITY)
                for (size_t k = mc->sx[I]; k < mc->sx[I + 1]; k++)
                    S += exp(mc->hs[k] - M);
            Hx[I] = M > -INFINITY ? M + log(S) : -INFINITY;
        }
        for (size_t J = 0; J < ny; J++) {
            double M = -INFINITY, S = 0.0;
            for (size_t k = mc->sy[J]; k < mc->sy[J + 1]; k++) {
                const size_t j = mc->py[k];
                const double h = b[j] > 0.0 ? log(b[j]) + g[j] / eps_ext : -INFINITY;
                mc->hs[k] = h;
                M = h > M ? h : M;
            }
            if (M > -INFINITY)
                for (size_t k = mc->sy[J]; k < mc->sy[J + 1]; k++)
                    S += exp(mc->hs[k] - M);
            Hy[J] = M > -INFINITY ? M + log(S) : -INFINITY;
        }
        extrapolate(mc, mc->xs, n, mc->px, mc->cy, ny, Hy, eps_ext, ka, f, threads);
        if (!self)
            extrapolate(mc, mc->ys, m, mc->py, mc->cx, nx, Hx, eps_ext, kb, g, threads);
    }
    if (!(eps > 0.0) || isinf(mc->truncate)) {
        set_all_kept(mc);
        return;
    }
    compute_stats(mc, f, g, threads);
    const size_t ld = d + 2;
    const double floor_ = -mc->truncate * eps;
    memset(mc->keep_r, 0, nx * mc->wr * sizeof *mc->keep_r);
    memset(mc->keep_c, 0, ny * mc->wc * sizeof *mc->keep_c);
    /* Each row keeps at least its best block, so no soft-min is empty. */
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (threads > 1 && nx * ny >= 65536)
    for (size_t I = 0; I < nx; I++) {
        uint64_t *row = mc->keep_r + I * mc->wr;
        double best = -INFINITY;
        size_t arg = 0;
        for (size_t J = 0; J < ny; J++) {
            const double U = block_bound(mc, I, J, mc->stat_x + I * ld, mc->stat_y + J * ld);
            if (U > best || J == 0) {
                best = U;
                arg = J;
            }
            if (U >= floor_)
                row[J / 64] |= (uint64_t)1 << (J % 64);
        }
        row[arg / 64] |= (uint64_t)1 << (arg % 64);
    }
    /* ... and so does each column; then the transpose. */
    for (size_t J = 0; J < ny; J++) {
        double best = -INFINITY;
        size_t arg = 0;
        int any = 0;
        for (size_t I = 0; I < nx && !any; I++)
            any = (mc->keep_r[I * mc->wr + J / 64] >> (J % 64)) & 1;
        if (any)
            continue;
        for (size_t I = 0; I < nx; I++) {
            const double U = block_bound(mc, I, J, mc->stat_x + I * ld, mc->stat_y + J * ld);
            if (U > best || I == 0) {
                best = U;
                arg = I;
            }
        }
        mc->keep_r[arg * mc->wr + J / 64] |= (uint64_t)1 << (J % 64);
    }
    size_t kept = 0;
    for (size_t I = 0; I < nx; I++)
        for (size_t w = 0; w < mc->wr; w++) {
            uint64_t bits = mc->keep_r[I * mc->wr + w];
            kept += (size_t)__builtin_popcountll(bits);
            while (bits) {
                const size_t J = w * 64 + (size_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                mc->keep_c[J * mc->wc + I / 64] |= (uint64_t)1 << (I % 64);
            }
        }
    mc->kept = kept;
    mc->all_kept = kept == nx * ny;
}

static double ms_truncation_bound(const otk_cost *c, double eps, const double *f,
                                  const double *g, const double *a, const double *b,
                                  int threads)
{
    ms_cost *mc = (ms_cost *)c;
    if (!mc->fine || mc->all_kept)
        return 0.0;
    const size_t nx = mc->nx, ny = mc->ny, ld = mc->d + 2;
    compute_stats(mc, f, g, threads);
    double *Ax = mc->H, *By = mc->H + nx;
    for (size_t I = 0; I < nx; I++)
        Ax[I] = sum_weights(a, mc->px, mc->sx[I], mc->sx[I + 1]);
    for (size_t J = 0; J < ny; J++)
        By[J] = sum_weights(b, mc->py, mc->sy[J], mc->sy[J + 1]);
    /* Row partial sums into hs (nx <= n), added in order: the bound does not
     * depend on the thread count. */
    double *part = mc->hs;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (threads > 1 && nx * ny >= 65536)
    for (size_t I = 0; I < nx; I++) {
        const uint64_t *row = mc->keep_r + I * mc->wr;
        double s = 0.0;
        if (Ax[I] > 0.0)
            for (size_t J = 0; J < ny; J++) {
                if (((row[J / 64] >> (J % 64)) & 1) || !(By[J] > 0.0))
                    continue;
                const double U =
                    block_bound(mc, I, J, mc->stat_x + I * ld, mc->stat_y + J * ld);
                s += exp(log(Ax[I]) + log(By[J]) + U / eps);
            }
        part[I] = s;
    }
    double total = 0.0;
    for (size_t I = 0; I < nx; I++)
        total += part[I];
    return total;
}

static void ms_coarsen(const otk_cost *c)
{
    ms_cost *mc = (ms_cost *)c;
    mc->fine = 0;
    set_all_kept(mc);
}

static const struct otk_cost_ops ms_ops = {
    "multiscale", ms_softmin, ms_plan_reduce, ms_entry,           ms_destroy,
    NULL,         ms_coarsen, ms_refine,      ms_truncation_bound,
};

size_t otk__multiscale_dim(const otk_cost *c)
{
    return c && c->ops == &ms_ops ? ((const ms_cost *)c)->d : 0;
}

void otk__multiscale_blocks(const otk_cost *c, size_t *kept, size_t *total)
{
    const ms_cost *mc = (const ms_cost *)c;
    *kept = mc->kept;
    *total = mc->nx * mc->ny;
}

/* ------------------------------------------------------------ construction */

typedef struct {
    size_t cell, idx;
} keyed;

static int keyed_cmp(const void *p, const void *q)
{
    const keyed *u = p, *v = q;
    if (u->cell != v->cell)
        return u->cell < v->cell ? -1 : 1;
    return u->idx < v->idx ? -1 : u->idx > v->idx;
}

/* Sort one cloud (d×len coordinates Zs) into the grid: sorted coordinates,
 * permutations, cluster starts, centroids and radii.  Returns 0 on
 * allocation failure. */
static int cluster_cloud(const double *Zs, size_t len, size_t d, const double *lo, double cell,
                         const size_t *dims, double **zs, size_t **perm, size_t **inv,
                         size_t **start, size_t *nc, double **cent, double **rad)
{
    keyed *key = malloc(len * sizeof *key);
    *zs = malloc(d * len * sizeof **zs);
    *perm = malloc(len * sizeof **perm);
    *inv = malloc(len * sizeof **inv);
    if (!key || !*zs || !*perm || !*inv) {
        free(key);
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        size_t id = 0;
        for (size_t a = d; a-- > 0;) {
            double t = floor((Zs[a * len + i] - lo[a]) / cell);
            size_t c = t > 0.0 ? (size_t)t : 0;
            c = c < dims[a] ? c : dims[a] - 1;
            id = id * dims[a] + c;
        }
        key[i].cell = id;
        key[i].idx = i;
    }
    qsort(key, len, sizeof *key, keyed_cmp);
    size_t count = 0;
    for (size_t k = 0; k < len; k++)
        count += k == 0 || key[k].cell != key[k - 1].cell;
    *nc = count;
    *start = malloc((count + 1) * sizeof **start);
    *cent = calloc(d * count, sizeof **cent);
    *rad = calloc(count, sizeof **rad);
    if (!*start || !*cent || !*rad) {
        free(key);
        return 0;
    }
    size_t I = 0;
    for (size_t k = 0; k < len; k++) {
        if (k > 0 && key[k].cell != key[k - 1].cell)
            I++;
        if (k == 0 || key[k].cell != key[k - 1].cell)
            (*start)[I] = k;
        const size_t i = key[k].idx;
        (*perm)[k] = i;
        (*inv)[i] = k;
        for (size_t a = 0; a < d; a++)
            (*zs)[a * len + k] = Zs[a * len + i];
    }
    (*start)[count] = len;
    free(key);
    for (size_t J = 0; J < count; J++) {
        const size_t k0 = (*start)[J], k1 = (*start)[J + 1];
        for (size_t a = 0; a < d; a++) {
            double s = 0.0;
            for (size_t k = k0; k < k1; k++)
                s += (*zs)[a * len + k];
            (*cent)[a * count + J] = s / (double)(k1 - k0);
        }
        double r2 = 0.0;
        for (size_t k = k0; k < k1; k++) {
            double q = 0.0;
            for (size_t a = 0; a < d; a++) {
                const double t = (*zs)[a * len + k] - (*cent)[a * count + J];
                q += t * t;
            }
            r2 = q > r2 ? q : r2;
        }
        /* A hair above the largest distance: the bound must hold for the
         * rounded coordinates too. */
        (*rad)[J] = sqrt(r2) * (1.0 + 1e-12);
    }
    return 1;
}

otk_status otk__cost_multiscale(otk_cost **out, const otk_cost *points, double truncate)
{
    const double *xs0, *ys0;
    size_t d;
    otk_ground ground;
    double power;
    *out = NULL;
    if (!otk__points_coordinates(points, &xs0, &ys0, &d, &ground, &power))
        return otk__fail(OTK_EUNSUPPORTED, "backend multiscale: needs a float64 point-cloud "
                                           "cost (the cost is \"%s\"%s)",
                         points->ops->kind,
                         otk_cost_single_precision(points) ? ", single precision" : "");
    if (d > 3)
        return otk__fail(OTK_EUNSUPPORTED, "backend multiscale: the points have d = %zu "
                                           "coordinates; multiscale clusters d <= 3 (use "
                                           "online or dense)",
                         d);
    if (ground == OTK_GROUND_L1)
        return otk__fail(OTK_EUNSUPPORTED, "backend multiscale: the l1 ground is not supported "
                                           "(its truncation bound is not implemented)");
    if (!(truncate > 0.0))
        return otk__fail(OTK_EPARAM, "truncate = %g must be > 0 (INFINITY keeps every block)",
                         truncate);
    const size_t n = points->n, m = points->m;
    /* The grid: one cell size for both clouds, over their joint bounding
     * box, aiming at MS_POINTS_PER_CLUSTER points per cluster of the smaller
     * cloud and at most MS_MAX_CLUSTERS cells. */
    double lo[3], width[3], wmax = 0.0;
    for (size_t a = 0; a < d; a++) {
        double l = INFINITY, h = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            l = fmin(l, xs0[a * n + i]);
            h = fmax(h, xs0[a * n + i]);
        }
        for (size_t j = 0; j < m; j++) {
            l = fmin(l, ys0[a * m + j]);
            h = fmax(h, ys0[a * m + j]);
        }
        lo[a] = l;
        width[a] = h - l;
        wmax = fmax(wmax, width[a]);
    }
    size_t target = (n < m ? n : m) / MS_POINTS_PER_CLUSTER;
    target = target < 1 ? 1 : target > MS_MAX_CLUSTERS / 2 ? MS_MAX_CLUSTERS / 2 : target;
    double vol = 1.0;
    for (size_t a = 0; a < d; a++)
        vol *= fmax(width[a], 1e-3 * wmax);
    double cell = wmax > 0.0 ? pow(vol / (double)target, 1.0 / (double)d) : 1.0;
    size_t dims[3] = {1, 1, 1};
    for (;;) {
        size_t cells = 1;
        for (size_t a = 0; a < d; a++) {
            const double t = ceil(width[a] / cell);
            dims[a] = t >= 1.0 ? (size_t)t : 1;
            cells *= dims[a];
        }
        if (cells <= MS_MAX_CLUSTERS)
            break;
        cell *= 1.1;
    }
    ms_cost *mc = calloc(1, sizeof *mc);
    if (!mc)
        return otk__fail(OTK_ENOMEM, "backend multiscale: out of memory");
    otk__cost_init(&mc->base, &ms_ops, n, m, points->name);
    mc->base.diameter = points->diameter;
    mc->base.exponent = points->exponent;
    mc->d = d;
    mc->ground = ground;
    mc->power = power;
    mc->truncate = truncate;
    mc->cell = cell;
    mc->base.coarse_eps = pow(cell, points->exponent);
    int ok = cluster_cloud(xs0, n, d, lo, cell, dims, &mc->xs, &mc->px, &mc->ix, &mc->sx,
                           &mc->nx, &mc->cx, &mc->rx) &&
             cluster_cloud(ys0, m, d, lo, cell, dims, &mc->ys, &mc->py, &mc->iy, &mc->sy,
                           &mc->ny, &mc->cy, &mc->ry);
    if (ok) {
        mc->wr = (mc->ny + 63) / 64;
        mc->wc = (mc->nx + 63) / 64;
        mc->keep_r = malloc(mc->nx * mc->wr * sizeof *mc->keep_r);
        mc->keep_c = malloc(mc->ny * mc->wc * sizeof *mc->keep_c);
        mc->hs = malloc((n > m ? n : m) * sizeof *mc->hs);
        mc->H = malloc((mc->nx + mc->ny) * sizeof *mc->H);
        mc->stat_x = malloc(mc->nx * (d + 2) * sizeof *mc->stat_x);
        mc->stat_y = malloc(mc->ny * (d + 2) * sizeof *mc->stat_y);
        ok = mc->keep_r && mc->keep_c && mc->hs && mc->H && mc->stat_x && mc->stat_y;
    }
    if (!ok) {
        ms_destroy(&mc->base);
        return otk__fail(OTK_ENOMEM, "backend multiscale: out of memory for %zu + %zu points",
                         n, m);
    }
    set_all_kept(mc);
    *out = &mc->base;
    return OTK_SUCCESS;
}
