/* Multiscale point clouds (GeomLoss's multiscale mode after Schmitzer 2019;
 * docs/math.md A.11): the points of a cloud in dimension d <= 3 sorted into
 * the cells of a regular grid over its own bounding box ("clusters"), and
 * inside each cell into the
 * k^d sub-cells of a finer grid ("sub-clusters"), so that the points of a
 * cluster, and of a sub-cluster, are contiguous.  Two levels, chosen by the
 * driver (solvers/core/sinkhorn.c):
 *
 *   clusters  the soft-min of a cluster is the soft-min between centroids of
 *             the log-sum of its members' scalings, broadcast to its points:
 *             exactly the coarse problem on centroids with summed weights
 *             while the potentials are constant per cluster (they are: every
 *             coarse update broadcasts);
 *   points    soft-mins and plan reductions over the kept blocks (I', J') of
 *             sub-cluster pairs only.  A block is kept when an upper bound
 *             U of (f_i + g_j − C_ij) over its pairs is >= −truncate·ε, so
 *             every dropped entry of the plan is at most a_i b_j e^{−truncate}
 *             when the mask is drawn; the blocks are found hierarchically
 *             (cluster pairs, then a sub-cluster against a cluster, then
 *             sub-cluster pairs), each level's bound covering the next, and
 *             truncation_bound re-evaluates the bounds at the final
 *             potentials.
 *
 * The cost owns its workspace and its block lists: one call at a time, as a
 * grid cost. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* At most this many clusters per cloud: the cluster mask takes nx·ny bits
 * (32 MiB at the limit) and the truncation rule nx·ny bound evaluations. */
#define MS_MAX_CLUSTERS 16384
/* Points per cluster aimed at: blocks long enough for the tile kernels. */
#define MS_POINTS_PER_CLUSTER 64
/* Points per sub-cluster aimed at (on average over the cloud's bounding
 * box): small enough that a row's kept blocks hug the transport
 * (the band around it is a few sub-cluster radii wide), large enough that
 * the block lists stay short. */
#define MS_POINTS_PER_SUB 16
#define MS_MAX_SUB 8
/* Sub-cluster block lists longer than this many runs per point (summed
 * over both clouds; a run is one 4-byte word) are not built: at a broad ε,
 * where most blocks of a kept cluster block survive, they would cost
 * O(n·m/16) memory for little gain, and the cluster blocks serve instead. */
#define MS_LIST_PER_POINT 16
/* The cluster level runs while ε > (cell / MS_JUMP)^p: past GeomLoss's
 * jump at the cell scale, where the kept band around the transport is
 * still several cells wide and its point-level soft-mins cost most of a
 * solve (docs/math.md A.11). */
#define MS_JUMP 4.0

/* One cloud's two levels: clusters [s[I], s[I+1]) of sorted positions, each
 * made of the sub-clusters [cs[I], cs[I+1]), sub-cluster I' the positions
 * [fs[I'], fs[I'+1]) with parent cluster up[I']. */
typedef struct {
    double *z;               /* coordinates sorted by cell, d×len (squared grounds: centred) */
    size_t *perm, *inv;      /* sorted position → original index, and back */
    size_t nc, nf;           /* clusters, sub-clusters (non-empty cells) */
    size_t *s, *cs, *fs, *up;
    double *cent, *rad;      /* clusters: centroids d×nc, radii */
    double *fcent, *frad;    /* sub-clusters: centroids d×nf, radii */
    double *stat, *fstat;    /* (d + 3) rows of nc (nf): F, γ (d), e, F + e */
    double *fmass;           /* nf: log sub-cluster masses (truncation_bound) */
    /* Squared grounds: the squared norms of z, for the soft-min's expanded
     * form (as the point cost's; docs/math.md A.2).  NULL for other grounds. */
    double *nrm;
} ms_cloud;

/* Sub-cluster block lists: for each sub-cluster row I' (column J') the
 * kept sub-clusters of the other side, ascending, as runs of consecutive ids
 * (consecutive ids are contiguous sorted positions), one 32-bit word per run:
 * the first id in the low sbits bits, the length − 1 above.  The runs of the
 * sub-clusters of one cluster share a buffer (no list-wide copy: the lists
 * are the largest allocation of a solve, and building them never holds two
 * of them); off counts runs cumulatively over all sub-clusters. */
typedef struct {
    size_t *off;             /* nf + 1 */
    uint32_t **buf;          /* nc buffers, one per cluster */
    size_t nc;
} ms_lists;

typedef struct {
    otk_cost base;
    size_t d;
    otk_ground ground;
    double power, truncate, cell;
    ms_cloud X, Y;
    int fine;                /* level: 0 clusters, 1 points */
    int all_kept;            /* points level with every block */
    int lists;               /* points level over the sub-cluster lists (else the cluster blocks) */
    uint64_t *keep;          /* nx rows of wr words: bit J of row I when cluster block (I, J) survives */
    uint64_t *keep_c;        /* ny rows of wc words: the transpose */
    size_t wr, wc;
    ms_lists rows, cols;     /* the sub-cluster block lists, by row and by column */
    int cols_built;          /* the column lists follow the row lists on first use */
    unsigned sbits;          /* bits of a run's first id */
    /* Workspace (one call at a time). */
    double *hs;              /* max(n, m): an input gathered into sorted order */
    double *H;               /* nx + ny: cluster log-sums, masses, partial sums */
} ms_cost;

/* The quantities of one axis: "out" is the reduced side. */
typedef struct {
    const double *P, *Q, *CP, *CQ;
    const double *nP, *nQ; /* squared norms, or NULL */
    size_t nout, nin, cout, cin, fout;
    const size_t *pout, *pin, *sout, *sin, *fsout, *fsin, *csout, *off, *up;
    uint32_t *const *runs;
    unsigned sbits;
    const uint64_t *mask;
    size_t words;
    int lists;
} view;

static view make_view(const ms_cost *mc, int axis)
{
    view v;
    const ms_cloud *o = axis == 0 ? &mc->X : &mc->Y, *i = axis == 0 ? &mc->Y : &mc->X;
    v.P = o->z;
    v.Q = i->z;
    v.CP = o->cent;
    v.CQ = i->cent;
    v.nP = o->nrm;
    v.nQ = i->nrm;
    v.nout = axis == 0 ? mc->base.n : mc->base.m;
    v.nin = axis == 0 ? mc->base.m : mc->base.n;
    v.cout = o->nc;
    v.cin = i->nc;
    v.fout = o->nf;
    v.pout = o->perm;
    v.pin = i->perm;
    v.sout = o->s;
    v.sin = i->s;
    v.fsout = o->fs;
    v.fsin = i->fs;
    v.csout = o->cs;
    v.off = axis == 0 ? mc->rows.off : mc->cols.off;
    v.runs = axis == 0 ? mc->rows.buf : mc->cols.buf;
    v.sbits = mc->sbits;
    v.up = o->up;
    v.mask = axis == 0 ? mc->keep : mc->keep_c;
    v.words = axis == 0 ? mc->wr : mc->wc;
    v.lists = mc->lists;
    return v;
}

size_t otk__multiscale_dim(const otk_cost *c);

/* ------------------------------------------------------------ helpers */

/* s of the squared grounds C = (s/2)|x − y|², 0 for the others. */
static double sq_factor(const ms_cost *mc)
{
    return mc->ground == OTK_GROUND_SQEUCLIDEAN        ? 2.0
           : mc->ground == OTK_GROUND_HALF_SQEUCLIDEAN ? 1.0
                                                       : 0.0;
}


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

/* The ids [a, b) of one run word. */
static inline void run_span(uint32_t w, unsigned sbits, size_t *a, size_t *b)
{
    *a = w & (((uint32_t)1 << sbits) - 1);
    *b = *a + (w >> sbits) + 1;
}

/* The runs of sub-cluster If, in the buffer of its cluster. */
static inline const uint32_t *list_runs(uint32_t *const *buf, const size_t *off,
                                        const size_t *cs, const size_t *up, size_t If)
{
    const size_t c = up[If];
    return buf[c] + (off[If] - off[cs[c]]);
}

/* Run BODY on the kept blocks of sub-cluster row I, merged into maximal runs
 * of contiguous sorted positions [r0, r1) of the input side: one run (all),
 * the sub-clusters of its list (consecutive ids are contiguous positions),
 * or the clusters of its cluster's mask row. */
#define FOR_KEPT_RUNS(v, all, I, r0, r1, ...)                                                \
    do {                                                                                     \
        if (all) {                                                                           \
            const size_t r0 = 0, r1 = (v).nin;                                               \
            __VA_ARGS__;                                                                     \
            break;                                                                           \
        }                                                                                    \
        if ((v).lists) {                                                                     \
            const size_t len_ = (v).off[(I) + 1] - (v).off[I];                               \
            const uint32_t *runs_ = list_runs((v).runs, (v).off, (v).csout, (v).up, I);      \
            for (size_t t_ = 0; t_ < len_;) {                                                \
                size_t a_, b_;                                                               \
                run_span(runs_[t_++], (v).sbits, &a_, &b_);                                  \
                size_t c_, e_;                                                               \
                while (t_ < len_ && (run_span(runs_[t_], (v).sbits, &c_, &e_), c_ == b_)) { \
                    b_ = e_;                                                                 \
                    t_++;                                                                    \
                }                                                                            \
                const size_t r0 = (v).fsin[a_], r1 = (v).fsin[b_];                           \
                __VA_ARGS__;                                                                 \
            }                                                                                \
            break;                                                                           \
        }                                                                                    \
        const uint64_t *row_ = (v).mask + (v).up[I] * (v).words;                             \
        size_t a_ = 0, b_ = 0;                                                               \
        for (size_t w_ = 0; w_ <= (v).words; w_++) {                                         \
            uint64_t bits_ = w_ < (v).words ? row_[w_] : 0;                                  \
            while (bits_ || (w_ == (v).words && b_ > a_)) {                                  \
                size_t J_ = SIZE_MAX;                                                        \
                if (bits_) {                                                                 \
                    J_ = w_ * 64 + (size_t)__builtin_ctzll(bits_);                           \
                    bits_ &= bits_ - 1;                                                      \
                    if ((v).sin[J_] == b_ && b_ > a_) {                                      \
                        b_ = (v).sin[J_ + 1];                                                \
                        continue;                                                            \
                    }                                                                        \
                }                                                                            \
                if (b_ > a_) {                                                               \
                    const size_t r0 = a_, r1 = b_;                                           \
                    __VA_ARGS__;                                                             \
                }                                                                            \
                a_ = b_ = 0;                                                                 \
                if (J_ != SIZE_MAX) {                                                        \
                    a_ = (v).sin[J_];                                                        \
                    b_ = (v).sin[J_ + 1];                                                    \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    } while (0)

/* ------------------------------------------------------------ soft-min */

static void ensure_lists(const otk_cost *c, int axis);

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

/* The squared grounds' point-level soft-min in expanded form, as the point
 * cost's (points.c: sq_softmin), by blocks of up to OTK_SQ_ROWS rows of one
 * sub-cluster over the kept runs of that sub-cluster: the column terms
 * hq = h − scale·‖q‖² formed once per call for the whole input side, and
 * each block's runs walked once for its rows. */
static void ms_softmin_sq(const ms_cost *mc, const view *v, double eps, const double *h,
                          double *out, int threads)
{
    const otk_cost *c = &mc->base;
    const otk_kernels *kern = c->kern;
    const double scale = 0.5 * sq_factor(mc) / eps;
    const double two_scale = 2.0 * scale;
    double *hq = mc->hs;
    for (size_t k = 0; k < v->nin; k++)
        hq[k] = h[v->pin[k]] - scale * v->nQ[k];
    const int all = mc->all_kept;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads) if (otk__parallel_worth(threads, c->n, c->m))
    for (size_t I = 0; I < v->fout; I++) {
        for (size_t i0 = v->fsout[I]; i0 < v->fsout[I + 1]; i0 += OTK_SQ_ROWS) {
            const size_t R = v->fsout[I + 1] - i0 < OTK_SQ_ROWS ? v->fsout[I + 1] - i0
                                                                 : OTK_SQ_ROWS;
            double M[OTK_SQ_ROWS], S[OTK_SQ_ROWS], rowc[OTK_SQ_ROWS];
            for (size_t r = 0; r < R; r++) {
                M[r] = -INFINITY;
                S[r] = 0.0;
                rowc[r] = scale * v->nP[i0 + r];
            }
            FOR_KEPT_RUNS(*v, all, I, r0, r1, {
                for (size_t j0 = r0; j0 < r1; j0 += OTK_TILE) {
                    const size_t T = r1 - j0 < OTK_TILE ? r1 - j0 : OTK_TILE;
                    kern->points_sq_lse_rows(mc->d, R, v->P + i0, v->nout, rowc, two_scale,
                                             v->Q, v->nin, j0, T, hq + j0, M, S);
                }
            });
            for (size_t r = 0; r < R; r++)
                out[v->pout[i0 + r]] = -eps * (M[r] + log(S[r]));
        }
    }
}

static void ms_softmin(const otk_cost *c, int axis, double eps, const double *h, double *out,
                       int threads)
{
    ensure_lists(c, axis);
    const ms_cost *mc = (const ms_cost *)c;
    const view v = make_view(mc, axis);
    if (!mc->fine) {
        ms_softmin_clusters(mc, &v, eps, h, out, threads);
        return;
    }
    if (v.nP) {
        ms_softmin_sq(mc, &v, eps, h, out, threads);
        return;
    }
    const otk_kernels *kern = c->kern;
    const double inv_eps = 1.0 / eps;
    double *hs = mc->hs;
    gather(hs, h, v.pin, v.nin);
    const int all = mc->all_kept;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads) if (otk__parallel_worth(threads, c->n, c->m))
    for (size_t I = 0; I < v.fout; I++) {
        for (size_t i = v.fsout[I]; i < v.fsout[I + 1]; i++) {
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
    ensure_lists(c, axis);
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
    const double sq_scale = sq_factor(mc);
    const int fused = what == OTK_REDUCE_GRAD && sq_scale > 0.0;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads) if (otk__parallel_worth(threads, c->n, c->m))
    for (size_t I = 0; I < v.fout; I++) {
        double buf[OTK_TILE], w[OTK_TILE];
        for (size_t i = v.fsout[I]; i < v.fsout[I + 1]; i++) {
            double *o = out + v.pout[i] * kk;
            const double ui = uo[v.pout[i]];
            double acc = 0.0;
            for (size_t q = 0; q < kk; q++)
                o[q] = 0.0;
            if (fused) {
                /* Σ_t w_t (p − q_t) in one pass per tile, then scaled. */
                double g[3] = {0.0, 0.0, 0.0};
                FOR_KEPT_RUNS(v, all, I, r0, r1, {
                    for (size_t j0 = r0; j0 < r1; j0 += OTK_TILE) {
                        const size_t T = r1 - j0 < OTK_TILE ? r1 - j0 : OTK_TILE;
                        kern->points_sq_plan_grad(d, v.P + i, v.nout, v.Q, v.nin, j0, T,
                                                  hs + j0, ui, 0.5 * sq_scale * inv_eps, g);
                    }
                });
                for (size_t a = 0; a < d; a++)
                    o[a] = sq_scale * g[a];
                continue;
            }
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
    c->kern->points_cost_tile((int)mc->ground, mc->power, mc->d, mc->X.z + mc->X.inv[i], c->n,
                              mc->Y.z, c->m, mc->Y.inv[j], 1, buf);
    return buf[0];
}

static void free_cloud(ms_cloud *q)
{
    free(q->z);
    free(q->perm);
    free(q->inv);
    free(q->s);
    free(q->cs);
    free(q->fs);
    free(q->up);
    free(q->cent);
    free(q->rad);
    free(q->fcent);
    free(q->frad);
    free(q->stat);
    free(q->fstat);
    free(q->fmass);
    free(q->nrm);
}

static void free_list(ms_lists *L)
{
    if (L->buf)
        for (size_t c = 0; c < L->nc; c++)
            free(L->buf[c]);
    free(L->buf);
    free(L->off);
    L->buf = NULL;
    L->off = NULL;
    L->nc = 0;
}

static void free_lists(ms_cost *mc)
{
    free_list(&mc->rows);
    free_list(&mc->cols);
    mc->cols_built = 0;
}

static void ms_destroy(otk_cost *c)
{
    ms_cost *mc = (ms_cost *)c;
    free_cloud(&mc->X);
    free_cloud(&mc->Y);
    free(mc->keep);
    free(mc->keep_c);
    free_lists(mc);
    free(mc->hs);
    free(mc->H);
    free(mc);
}

/* ------------------------------------------------------------ truncation */

/* Per cluster I of one side (clusters [start[I], start[I+1]), centroids CZ):
 * F = the mean of the potential over its members, γ the least-squares slope
 * of pot ≈ F + γ·(z − Z_I) (0 for grounds the bound does not linearise; when
 * the members do not span R^d, the slope of the parent cluster: row up[I] of
 * parent, or 0 without one), and e = max over members of
 * pot − F − γ·(z − Z_I), so that pot_i <= F + γ·ξ_i + e holds for every
 * member whatever γ is: the bound needs only that. */
static void cluster_stats(const ms_cost *mc, const double *Z, const double *CZ, size_t nz,
                          const size_t *perm, const size_t *start, size_t nc, const double *pot,
                          int linear, const double *parent, size_t np, const size_t *up,
                          double *stat, int threads)
{
    const size_t d = mc->d;
    (void)threads;
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads) if (threads > 1 && nz >= 4096)
    for (size_t I = 0; I < nc; I++) {
        double *st = stat + I;
        const size_t k0 = start[I], k1 = start[I + 1];
        double F = 0.0;
        for (size_t k = k0; k < k1; k++)
            F += pot[perm[k]];
        F /= (double)(k1 - k0);
        double gam[3] = {0.0, 0.0, 0.0};
        int ok = 0;
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
             * matrix.  Members that do not spread in every direction (a
             * few points, or points near a plane) fit a slope that
             * amplifies the potential's curvature in their thin directions,
             * and the bound pays |γ − sD|·r for it: a pivot below 5 % of
             * the trace rejects the fit. */
            ok = 1;
            double trace = 0.0;
            for (size_t a = 0; a < d; a++)
                trace += A[a][a];
            for (size_t a = 0; a < d && ok; a++) {
                if (!(A[a][a] > 0.05 * trace)) {
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
        }
        if (!ok)
            for (size_t a = 0; a < d; a++)
                gam[a] = linear && parent ? parent[(1 + a) * np + up[I]] : 0.0;
        double e = -INFINITY;
        for (size_t k = k0; k < k1; k++) {
            double r = pot[perm[k]] - F;
            for (size_t a = 0; a < d; a++)
                r -= gam[a] * (Z[a * nz + k] - CZ[a * nc + I]);
            e = r > e ? r : e;
        }
        st[0] = F;
        for (size_t a = 0; a < d; a++)
            st[(1 + a) * nc] = gam[a];
        st[(1 + d) * nc] = e;
        st[(2 + d) * nc] = F + e;
    }
}

/* One side of a block, or the first of a range of consecutive ones: a
 * centroid (coordinate a at c[a·ld]), a radius r[0], the statistics of
 * cluster_stats (row k at st[k·ld]). */
typedef struct {
    const double *c, *r, *st;
    size_t ld;
} side;

static side cluster_side(const ms_cloud *q, size_t I)
{
    side s = {q->cent + I, q->rad + I, q->stat + I, q->nc};
    return s;
}

static side sub_side(const ms_cloud *q, size_t I)
{
    side s = {q->fcent + I, q->frad + I, q->fstat + I, q->nf};
    return s;
}

/* U >= max over i ∈ I, j ∈ J of f_i + g_j − C_ij (docs/math.md A.11), I
 * and J clusters or sub-clusters.  Squared grounds, C = (s/2)|x − y|²,
 * D = X_I − Y_J, ξ = x_i − X_I, η = y_j − Y_J:
 *   C_ij >= (s/2)|D|² + s D·ξ − s D·η, so
 *   f_i + g_j − C_ij <= F_I + G_J + e_I + e_J − (s/2)|D|² + |γ_I − sD| r_I + |γ_J + sD| r_J.
 * Other grounds c = φ(|x − y|), φ increasing: C_ij >= φ(max(0, |D| − r_I − r_J))
 * and f_i <= F_I + e_I (γ = 0). */
/* The bounds of the blocks (x, y + t), t < T, into U: the vector kernel for
 * the squared grounds. */
static void block_bounds(const ms_cost *mc, side x, side y, size_t T, double *U)
{
    const size_t d = mc->d;
    const double s = sq_factor(mc);
    if (s > 0.0) {
        double xc[3], xg[3];
        for (size_t a = 0; a < d; a++) {
            xc[a] = x.c[a * x.ld];
            xg[a] = x.st[(1 + a) * x.ld];
        }
        mc->base.kern->sq_block_bounds(d, s, xc, xg, x.st[(2 + d) * x.ld], x.r[0], y.c,
                                       y.st + y.ld, y.ld, y.st + (2 + d) * y.ld, y.r, T, U);
        return;
    }
    for (size_t t = 0; t < T; t++) {
        double D2 = 0.0;
        for (size_t a = 0; a < d; a++) {
            const double D = x.c[a * x.ld] - y.c[a * y.ld + t];
            D2 += D * D;
        }
        double dist = sqrt(D2) - x.r[0] - y.r[t];
        double cmin = dist > 0.0 ? dist * dist : 0.0;
        otk__ground_of_sums((int)mc->ground, mc->power, &cmin, 1);
        U[t] = x.st[(2 + d) * x.ld] + y.st[(2 + d) * y.ld + t] - cmin;
    }
}

static double block_bound(const ms_cost *mc, side x, side y)
{
    double U;
    block_bounds(mc, x, y, 1, &U);
    return U;
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
    const int linear = sq_factor(mc) > 0.0;
    const ms_cloud *q[2] = {&mc->X, &mc->Y};
    const double *pot[2] = {f, g};
    const size_t len[2] = {mc->base.n, mc->base.m};
    for (int k = 0; k < 2; k++) {
        cluster_stats(mc, q[k]->z, q[k]->cent, len[k], q[k]->perm, q[k]->s, q[k]->nc, pot[k],
                      linear, NULL, 0, NULL, q[k]->stat, threads);
        cluster_stats(mc, q[k]->z, q[k]->fcent, len[k], q[k]->perm, q[k]->fs, q[k]->nf, pot[k],
                      linear, q[k]->stat, q[k]->nc, q[k]->up, q[k]->fstat, threads);
    }
}

static void set_all_kept(ms_cost *mc)
{
    mc->all_kept = 1;
    mc->lists = 0;
    free_lists(mc);
}

static int kept_cluster(const ms_cost *mc, size_t I, size_t J)
{
    return (int)((mc->keep[I * mc->wr + J / 64] >> (J % 64)) & 1);
}

/* The most sub-clusters of one cluster of q. */
static size_t max_subs(const ms_cloud *q)
{
    size_t k = 1;
    for (size_t I = 0; I < q->nc; I++)
        k = q->cs[I + 1] - q->cs[I] > k ? q->cs[I + 1] - q->cs[I] : k;
    return k;
}

/* A growable buffer of run words. */
typedef struct {
    uint32_t *w;
    size_t len, cap;
} runbuf;

/* Appends id (ascending within a list that starts at word `from`) to the
 * runs of b, extending the last run when id follows it; 0 on allocation
 * failure. */
static int push_run(runbuf *b, size_t from, size_t id, unsigned sbits)
{
    if (b->len > from) {
        uint32_t *last = b->w + b->len - 1;
        size_t a, e;
        run_span(*last, sbits, &a, &e);
        if (e == id && e - a < ((size_t)1 << (32 - sbits))) {
            *last += (uint32_t)1 << sbits;
            return 1;
        }
    }
    if (b->len == b->cap) {
        const size_t nc = b->cap ? 2 * b->cap : 64;
        uint32_t *nw = realloc(b->w, nc * sizeof *nw);
        if (!nw)
            return 0;
        b->w = nw;
        b->cap = nc;
    }
    b->w[b->len++] = (uint32_t)id;
    return 1;
}

typedef struct {
    size_t I, J;
} pair_ij;

static int pair_cmp(const void *p, const void *q)
{
    const pair_ij *u = p, *v = q;
    if (u->I != v->I)
        return u->I < v->I ? -1 : 1;
    return u->J < v->J ? -1 : u->J > v->J;
}

/* For cluster row I: the clusters J of its kept blocks into cand (their
 * count returned), and for each sub-cluster J' of those the bound of the
 * block (I, J'), no larger than that of (I, J), into Ucol[J']: both cover
 * every block (I', J') inside, so a sub-cluster block is judged by the
 * smallest of the bounds that cover it (a few members fit looser statistics
 * than their cluster does). */
static size_t row_candidates(const ms_cost *mc, size_t I, size_t *cand, double *Ucol)
{
    const ms_cloud *X = &mc->X, *Y = &mc->Y;
    const side xs = cluster_side(X, I);
    size_t nc = 0;
    for (size_t J = 0; J < Y->nc; J++) {
        if (!kept_cluster(mc, I, J))
            continue;
        cand[nc++] = J;
        const double UJ = block_bound(mc, xs, cluster_side(Y, J));
        const size_t f0 = Y->cs[J], f1 = Y->cs[J + 1];
        block_bounds(mc, xs, sub_side(Y, f0), f1 - f0, Ucol + f0);
        for (size_t Jf = f0; Jf < f1; Jf++)
            Ucol[Jf] = fmin(UJ, Ucol[Jf]);
    }
    return nc;
}

/* Rebuilds the runs of the sub-cluster rows of cluster I with the extra
 * blocks ex[0..ne) (sorted, all in rows of I) merged in; counts per row in
 * cnt.  0 on allocation failure (the old buffer then stays). */
static int merge_extra(const ms_cost *mc, size_t I, const pair_ij *ex, size_t ne, size_t *cnt,
                       runbuf *rb)
{
    const ms_cloud *X = &mc->X;
    const uint32_t *old = rb->w;
    runbuf nb = {NULL, 0, 0};
    size_t r = 0, e = 0;
    for (size_t If = X->cs[I]; If < X->cs[I + 1]; If++) {
        const size_t from = nb.len, r1 = r + cnt[If];
        size_t a = 0, b = 0;
        for (;;) {
            if (a == b && r < r1)
                run_span(old[r++], mc->sbits, &a, &b);
            const int have_run = a < b, have_ex = e < ne && ex[e].I == If;
            if (!have_run && !have_ex)
                break;
            size_t id;
            if (have_ex && (!have_run || ex[e].J < a))
                id = ex[e++].J;
            else
                id = a++;
            if (!push_run(&nb, from, id, mc->sbits)) {
                free(nb.w);
                return 0;
            }
        }
        cnt[If] = nb.len - from;
    }
    free(rb->w);
    *rb = nb;
    return 1;
}

/* The sub-cluster block lists from the cluster mask and the current
 * statistics: within each kept cluster block (I, J), a sub-cluster I' of I
 * tests the whole cluster J first (its bound covers every sub-cluster of J)
 * and only then J's sub-clusters; each sub-cluster row keeps at least its
 * best block, and so does each column.  The row lists only: the column
 * lists are their transpose, built on first use (build_cols; the
 * symmetric problems of a divergence never reduce over columns).  Returns
 * 1, 0 on allocation failure, 2 when the lists exceed their budget. */
static int build_lists(ms_cost *mc, double floor_, int threads)
{
    const size_t budget = MS_LIST_PER_POINT * (mc->base.n + mc->base.m);
    size_t listed = 0;
    const ms_cloud *X = &mc->X, *Y = &mc->Y;
    const size_t nx = X->nc, ny = Y->nc, nfx = X->nf, nfy = Y->nf;
    free_lists(mc);
    unsigned sbits = 1;
    while (sbits < 32 && ((size_t)1 << sbits) < (nfx > nfy ? nfx : nfy))
        sbits++;
    if (sbits > 31)
        return 2;
    mc->sbits = sbits;
    runbuf *rbs = calloc(nx, sizeof *rbs);
    size_t *cnt = calloc(nfx + 1, sizeof *cnt);
    pair_ij *extra = NULL;
    size_t *cover = NULL;
    int fail = !rbs || !cnt, over = 0;
    if (!fail) {
#pragma omp parallel num_threads(threads) if (threads > 1 && nfx * 16 >= 65536)
        {
            double *Umix = malloc(ny * sizeof *Umix), *Ucol = malloc(nfy * sizeof *Ucol);
            double *Usub = malloc(max_subs(Y) * sizeof *Usub);
            size_t *cand = malloc(ny * sizeof *cand);
            if (!Umix || !Ucol || !Usub || !cand) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp for schedule(dynamic, 4)
            for (size_t I = 0; I < nx; I++) {
                int stop;
#pragma omp atomic read
                stop = over;
                if (!Umix || !Ucol || !Usub || !cand || stop)
                    continue;
                const size_t nc = row_candidates(mc, I, cand, Ucol);
                runbuf *rb = rbs + I;
                int ok = 1;
                for (size_t If = X->cs[I]; If < X->cs[I + 1] && ok; If++) {
                    const side xs = sub_side(X, If);
                    size_t tm = 0;
                    for (size_t t = 0; t < nc; t++) {
                        Umix[t] = block_bound(mc, xs, cluster_side(Y, cand[t]));
                        tm = Umix[t] > Umix[tm] ? t : tm;
                    }
                    double best = -INFINITY;
                    size_t arg = Y->cs[cand[tm]];
                    const size_t before = rb->len;
                    for (size_t t = 0; t < nc && ok; t++) {
                        if (!(Umix[t] >= floor_) && t != tm)
                            continue;
                        const size_t J = cand[t], f0 = Y->cs[J];
                        block_bounds(mc, xs, sub_side(Y, f0), Y->cs[J + 1] - f0, Usub);
                        for (size_t Jf = f0; Jf < Y->cs[J + 1] && ok; Jf++) {
                            const double U = fmin(fmin(Umix[t], Ucol[Jf]), Usub[Jf - f0]);
                            if (U > best) {
                                best = U;
                                arg = Jf;
                            }
                            if (U >= floor_)
                                ok = push_run(rb, before, Jf, sbits);
                        }
                    }
                    if (ok && rb->len == before)
                        ok = push_run(rb, before, arg, sbits);
                    cnt[If] = rb->len - before;
                }
                if (!ok) {
#pragma omp atomic write
                    fail = 1;
                }
                size_t sofar;
#pragma omp atomic capture
                sofar = listed += rb->len;
                if (sofar > budget) {
#pragma omp atomic write
                    over = 1;
                }
            }
            free(Umix);
            free(Ucol);
            free(Usub);
            free(cand);
        }
    }
    fail |= over;
    /* Columns no row kept: their best block among the rows of the clusters
     * whose block with the column's cluster survived (every cluster column
     * keeps one).  Coverage by a difference array over the runs. */
    size_t n_extra = 0;
    if (!fail) {
        cover = calloc(nfy + 1, sizeof *cover);
        fail = !cover;
    }
    if (!fail) {
        for (size_t I = 0; I < nx; I++)
            for (size_t t = 0; t < rbs[I].len; t++) {
                size_t a, b;
                run_span(rbs[I].w[t], sbits, &a, &b);
                cover[a]++;
                cover[b]--;
            }
        size_t run = 0;
        for (size_t Jf = 0; Jf < nfy; Jf++) {
            run += cover[Jf];
            cover[Jf] = run;
            n_extra += run == 0;
        }
    }
    if (!fail && n_extra) {
        extra = malloc(n_extra * sizeof *extra);
        fail = !extra;
        size_t q = 0;
        for (size_t Jf = 0; Jf < nfy && !fail; Jf++) {
            if (cover[Jf])
                continue;
            const side ys = sub_side(Y, Jf);
            const size_t J = Y->up[Jf];
            double best = -INFINITY;
            size_t arg = SIZE_MAX;
            for (size_t I = 0; I < nx; I++) {
                if (!kept_cluster(mc, I, J))
                    continue;
                for (size_t If = X->cs[I]; If < X->cs[I + 1]; If++) {
                    const double U = block_bound(mc, sub_side(X, If), ys);
                    if (U > best || arg == SIZE_MAX) {
                        best = U;
                        arg = If;
                    }
                }
            }
            extra[q].I = arg;
            extra[q].J = Jf;
            q++;
        }
        if (!fail) {
            qsort(extra, n_extra, sizeof *extra, pair_cmp);
            for (size_t e = 0; e < n_extra && !fail;) {
                const size_t I = X->up[extra[e].I];
                size_t e1 = e;
                while (e1 < n_extra && X->up[extra[e1].I] == I)
                    e1++;
                fail = !merge_extra(mc, I, extra + e, e1 - e, cnt, rbs + I);
                e = e1;
            }
        }
    }
    free(extra);
    free(cover);
    if (!fail) {
        mc->rows.buf = malloc(nx * sizeof *mc->rows.buf);
        fail = !mc->rows.buf;
    }
    if (fail) {
        if (rbs)
            for (size_t I = 0; I < nx; I++)
                free(rbs[I].w);
        free(rbs);
        free(cnt);
        return over ? 2 : 0;
    }
    /* The buffers become the lists, trimmed to their length (an empty one
     * freed; a failed shrink keeps the larger buffer). */
    for (size_t I = 0; I < nx; I++) {
        if (!rbs[I].len) {
            free(rbs[I].w);
            rbs[I].w = NULL;
        } else {
            uint32_t *w = realloc(rbs[I].w, rbs[I].len * sizeof *w);
            if (w)
                rbs[I].w = w;
        }
        mc->rows.buf[I] = rbs[I].w;
    }
    free(rbs);
    /* cnt becomes the cumulative offsets. */
    size_t runs = 0;
    for (size_t If = 0; If < nfx; If++) {
        const size_t c = cnt[If];
        cnt[If] = runs;
        runs += c;
    }
    cnt[nfx] = runs;
    mc->rows.off = cnt;
    mc->rows.nc = nx;
    mc->cols_built = 0;
    mc->all_kept = 0;
    mc->lists = 1;
    return 1;
}

/* The column lists: the transpose of the row lists, each column's rows
 * ascending, as runs.  Two passes over the row lists (count, then fill);
 * 0 on allocation failure. */
static int build_cols(ms_cost *mc)
{
    const ms_cloud *X = &mc->X, *Y = &mc->Y;
    const size_t nfx = X->nf, nfy = Y->nf, ny = Y->nc;
    const unsigned sbits = mc->sbits;
    const size_t maxlen = (size_t)1 << (32 - sbits);
    ms_lists *C = &mc->cols;
    size_t *last = malloc(nfy * sizeof *last), *len = malloc(nfy * sizeof *len);
    size_t *pos = malloc(nfy * sizeof *pos);
    C->off = calloc(nfy + 1, sizeof *C->off);
    C->buf = calloc(ny, sizeof *C->buf);
    int ok = last && len && pos && C->off && C->buf;
    if (ok)
        C->nc = ny;
    for (int pass = 0; pass < 2 && ok; pass++) {
        for (size_t Jf = 0; Jf < nfy; Jf++) {
            last[Jf] = SIZE_MAX;
            len[Jf] = 0;
        }
        for (size_t If = 0; If < nfx; If++) {
            const size_t nr = mc->rows.off[If + 1] - mc->rows.off[If];
            const uint32_t *runs = list_runs(mc->rows.buf, mc->rows.off, X->cs, X->up, If);
            for (size_t t = 0; t < nr; t++) {
                size_t a, b;
                run_span(runs[t], sbits, &a, &b);
                for (size_t Jf = a; Jf < b; Jf++) {
                    const int extend = last[Jf] != SIZE_MAX && last[Jf] + 1 == If &&
                                       len[Jf] < maxlen;
                    last[Jf] = If;
                    if (extend) {
                        len[Jf]++;
                        if (pass)
                            C->buf[Y->up[Jf]][pos[Jf] - 1] += (uint32_t)1 << sbits;
                        continue;
                    }
                    len[Jf] = 1;
                    if (pass)
                        C->buf[Y->up[Jf]][pos[Jf]++] = (uint32_t)If;
                    else
                        C->off[Jf + 1]++;
                }
            }
        }
        if (pass)
            break;
        for (size_t Jf = 0; Jf < nfy; Jf++)
            C->off[Jf + 1] += C->off[Jf];
        for (size_t J = 0; J < ny && ok; J++) {
            const size_t k = C->off[Y->cs[J + 1]] - C->off[Y->cs[J]];
            C->buf[J] = malloc((k ? k : 1) * sizeof **C->buf);
            ok = C->buf[J] != NULL;
        }
        /* Positions within each cluster's buffer. */
        for (size_t Jf = 0; Jf < nfy && ok; Jf++)
            pos[Jf] = C->off[Jf] - C->off[Y->cs[Y->up[Jf]]];
    }
    free(last);
    free(len);
    free(pos);
    if (!ok) {
        free_list(C);
        return 0;
    }
    mc->cols_built = 1;
    return 1;
}

/* The lists of an axis ready, or the cluster blocks instead (a superset of
 * the sub-cluster blocks: exact, slower) when the column lists cannot be
 * built. */
static void ensure_lists(const otk_cost *c, int axis)
{
    ms_cost *mc = (ms_cost *)c;
    if (axis == 0 || !mc->fine || mc->all_kept || !mc->lists || mc->cols_built)
        return;
    if (!build_cols(mc)) {
        free_lists(mc);
        mc->lists = 0;
    }
}

/* GeomLoss's jump: the damped soft-min at the points of cloud o of the
 * cluster scalings H of cloud q (its centroids).  Per cluster I of o, the
 * centroids that cannot matter are left out: with D the distance between
 * the centroids and r_I the radius of I, every member x of I has
 * H_J − φ(D + r_I)/ε <= v_J(x) <= H_J − φ(max(0, D − r_I))/ε; a J whose upper
 * bound is MS_EXT_DROP below the largest lower bound adds at most
 * e^{−MS_EXT_DROP} of the largest term, all such J together less than
 * nq·e^{−60} < 2e-22 of the sum (nq <= MS_MAX_CLUSTERS): below its
 * rounding.  At 10⁶ points this
 * leaves a few percent of the clusters. */
#define MS_EXT_DROP 60.0
static void extrapolate(const ms_cost *mc, const ms_cloud *o, size_t nz, const ms_cloud *q,
                        const double *H, double eps, double kappa, double *pot, int threads)
{
    const otk_kernels *kern = mc->base.kern;
    const double inv_eps = 1.0 / eps;
    const size_t d = mc->d, nq = q->nc;
#pragma omp parallel num_threads(threads) if (otk__parallel_worth(threads, nz, nq))
    {
        double *Qb = malloc((d + 2) * (nq ? nq : 1) * sizeof *Qb);
        double *Hb = Qb ? Qb + d * nq : NULL, *Ub = Qb ? Hb + nq : NULL;
        /* Without the workspace: every centroid (the same sum). */
#pragma omp for schedule(dynamic, 4)
        for (size_t I = 0; I < o->nc; I++) {
            const double *CQ = q->cent, *Hk = H;
            size_t nk = nq;
            if (Qb) {
                double Lmax = -INFINITY;
                for (size_t J = 0; J < nq; J++) {
                    double D2 = 0.0;
                    for (size_t a = 0; a < d; a++) {
                        const double t = o->cent[a * o->nc + I] - q->cent[a * nq + J];
                        D2 += t * t;
                    }
                    const double D = sqrt(D2), lo = D > o->rad[I] ? D - o->rad[I] : 0.0;
                    double c[2] = {lo * lo, (D + o->rad[I]) * (D + o->rad[I])};
                    otk__ground_of_sums((int)mc->ground, mc->power, c, 2);
                    Ub[J] = H[J] - c[0] * inv_eps;
                    const double L = H[J] - c[1] * inv_eps;
                    Lmax = L > Lmax ? L : Lmax;
                }
                nk = 0;
                for (size_t J = 0; J < nq; J++) {
                    if (!(Ub[J] >= Lmax - MS_EXT_DROP) && Lmax > -INFINITY)
                        continue;
                    for (size_t a = 0; a < d; a++)
                        Qb[a * nq + nk] = q->cent[a * nq + J];
                    Hb[nk++] = H[J];
                }
                CQ = Qb;
                Hk = Hb;
            }
            for (size_t k = o->s[I]; k < o->s[I + 1]; k++) {
                double M = -INFINITY, S = 0.0;
                for (size_t J0 = 0; J0 < nk; J0 += OTK_TILE) {
                    const size_t T = nk - J0 < OTK_TILE ? nk - J0 : OTK_TILE;
                    kern->points_lse_tile((int)mc->ground, mc->power, d, o->z + k, nz, CQ, nq,
                                          J0, T, Hk + J0, inv_eps, &M, &S);
                }
                pot[o->perm[k]] = kappa * (-eps * (M + log(S)));
            }
        }
        free(Qb);
    }
}

/* Cluster log-sums log Σ_{i∈I} w_i e^{pot_i/ε} of one cloud into H. */
static void cluster_scalings(const ms_cost *mc, const ms_cloud *q, const double *w,
                             const double *pot, double eps, double *H)
{
    for (size_t I = 0; I < q->nc; I++) {
        double M = -INFINITY, S = 0.0;
        for (size_t k = q->s[I]; k < q->s[I + 1]; k++) {
            const size_t i = q->perm[k];
            const double h = w[i] > 0.0 ? log(w[i]) + pot[i] / eps : -INFINITY;
            mc->hs[k] = h;
            M = h > M ? h : M;
        }
        if (M > -INFINITY)
            for (size_t k = q->s[I]; k < q->s[I + 1]; k++)
                S += exp(mc->hs[k] - M);
        H[I] = M > -INFINITY ? M + log(S) : -INFINITY;
    }
}

static void ms_refine(const otk_cost *c, double eps_ext, double eps, double *f, double *g,
                      const double *a, const double *b, double ka, double kb, int threads)
{
    ms_cost *mc = (ms_cost *)c;
    const size_t n = c->n, m = c->m, nx = mc->X.nc, ny = mc->Y.nc;
    const int self = f == g;
    mc->fine = 1;
    if (eps_ext > 0.0) {
        /* Cluster scalings of both sides first: with f == g the two sides
         * are one array. */
        double *Hx = mc->H, *Hy = mc->H + nx;
        cluster_scalings(mc, &mc->X, a, f, eps_ext, Hx);
        cluster_scalings(mc, &mc->Y, b, g, eps_ext, Hy);
        extrapolate(mc, &mc->X, n, &mc->Y, Hy, eps_ext, ka, f, threads);
        if (!self)
            extrapolate(mc, &mc->Y, m, &mc->X, Hx, eps_ext, kb, g, threads);
    }
    if (!(eps > 0.0) || isinf(mc->truncate)) {
        set_all_kept(mc);
        return;
    }
    compute_stats(mc, f, g, threads);
    const double floor_ = -mc->truncate * eps;
    memset(mc->keep, 0, nx * mc->wr * sizeof *mc->keep);
    /* Cluster blocks first.  Each row keeps at least its best block. */
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (threads > 1 && nx * ny >= 65536)
    for (size_t I = 0; I < nx; I++) {
        uint64_t *row = mc->keep + I * mc->wr;
        const side xs = cluster_side(&mc->X, I);
        double best = -INFINITY, U[OTK_TILE];
        size_t arg = 0;
        for (size_t J0 = 0; J0 < ny; J0 += OTK_TILE) {
            const size_t T = ny - J0 < OTK_TILE ? ny - J0 : OTK_TILE;
            block_bounds(mc, xs, cluster_side(&mc->Y, J0), T, U);
            for (size_t t = 0; t < T; t++) {
                const size_t J = J0 + t;
                if (U[t] > best || J == 0) {
                    best = U[t];
                    arg = J;
                }
                if (U[t] >= floor_)
                    row[J / 64] |= (uint64_t)1 << (J % 64);
            }
        }
        row[arg / 64] |= (uint64_t)1 << (arg % 64);
    }
    /* ... and so does each column. */
    for (size_t J = 0; J < ny; J++) {
        double best = -INFINITY;
        size_t arg = 0;
        int any = 0;
        for (size_t I = 0; I < nx && !any; I++)
            any = kept_cluster(mc, I, J);
        if (any)
            continue;
        const side ys = cluster_side(&mc->Y, J);
        for (size_t I = 0; I < nx; I++) {
            const double U = block_bound(mc, cluster_side(&mc->X, I), ys);
            if (U > best || I == 0) {
                best = U;
                arg = I;
            }
        }
        mc->keep[arg * mc->wr + J / 64] |= (uint64_t)1 << (J % 64);
    }
    memset(mc->keep_c, 0, ny * mc->wc * sizeof *mc->keep_c);
    for (size_t I = 0; I < nx; I++)
        for (size_t w = 0; w < mc->wr; w++) {
            uint64_t bits = mc->keep[I * mc->wr + w];
            while (bits) {
                const size_t J = w * 64 + (size_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                mc->keep_c[J * mc->wc + I / 64] |= (uint64_t)1 << (I % 64);
            }
        }
    /* Then the sub-cluster blocks inside, where their lists are short; else
     * the cluster blocks; without memory for the lists, every block (exact,
     * slower). */
    const int built = build_lists(mc, floor_, threads);
    if (built == 2) {
        free_lists(mc);
        mc->all_kept = 0;
        mc->lists = 0;
    } else if (!built)
        set_all_kept(mc);
}

static double ms_truncation_bound(const otk_cost *c, double eps, const double *f,
                                  const double *g, const double *a, const double *b,
                                  int threads)
{
    ms_cost *mc = (ms_cost *)c;
    if (!mc->fine || mc->all_kept)
        return 0.0;
    const ms_cloud *X = &mc->X, *Y = &mc->Y;
    const size_t nx = X->nc, ny = Y->nc;
    compute_stats(mc, f, g, threads);
    /* The masses as logs (−∞ for none), each term one exponential. */
    double *Ax = mc->H, *By = mc->H + nx;
    for (size_t I = 0; I < nx; I++)
        Ax[I] = log(sum_weights(a, X->perm, X->s[I], X->s[I + 1]));
    for (size_t J = 0; J < ny; J++)
        By[J] = log(sum_weights(b, Y->perm, Y->s[J], Y->s[J + 1]));
    for (size_t If = 0; If < X->nf; If++)
        X->fmass[If] = log(sum_weights(a, X->perm, X->fs[If], X->fs[If + 1]));
    for (size_t Jf = 0; Jf < Y->nf; Jf++)
        Y->fmass[Jf] = log(sum_weights(b, Y->perm, Y->fs[Jf], Y->fs[Jf + 1]));
    /* Row partial sums into hs (nx <= n), added in order: the bound does not
     * depend on the thread count.  A dropped cluster block counts whole; in
     * a kept one (with lists), each dropped sub-cluster block (I', J') under
     * the smallest of the bounds that cover it. */
    double *part = mc->hs;
    int fail = 0;
#pragma omp parallel num_threads(threads) if (threads > 1 && nx * ny >= 65536)
    {
    double *Ucol = malloc(Y->nf * sizeof *Ucol), *Usub = malloc(max_subs(Y) * sizeof *Usub);
    size_t *cand = malloc(ny * sizeof *cand);
    if (!Ucol || !Usub || !cand) {
#pragma omp atomic write
        fail = 1;
    }
#pragma omp for schedule(dynamic, 4)
    for (size_t I = 0; I < nx; I++) {
        double s = 0.0;
        if (Ax[I] > -INFINITY && Ucol && Usub && cand) {
            if (mc->lists)
                row_candidates(mc, I, cand, Ucol);
            const side xs = cluster_side(X, I);
            /* The dropped blocks' exponents, those above e^−745 (below,
             * a term is 0 in double), then their exponentials in one
             * vector call: clamped below at e^−708, never smaller than
             * the term, so the sum stays a bound. */
            double Ub[OTK_TILE], x[OTK_TILE], ex[OTK_TILE];
            for (size_t J0 = 0; J0 < ny; J0 += OTK_TILE) {
                const size_t T = ny - J0 < OTK_TILE ? ny - J0 : OTK_TILE;
                block_bounds(mc, xs, cluster_side(Y, J0), T, Ub);
                size_t k = 0;
                for (size_t t = 0; t < T; t++) {
                    const double e = Ax[I] + By[J0 + t] + Ub[t] / eps;
                    if (e > -745.0 && !kept_cluster(mc, I, J0 + t))
                        x[k++] = e;
                }
                mc->base.kern->exp_affine(x, k, 1.0, 0.0, ex);
                for (size_t t = 0; t < k; t++)
                    s += ex[t];
            }
            for (size_t If = X->cs[I]; If < X->cs[I + 1] && mc->lists; If++) {
                if (!(X->fmass[If] > -INFINITY))
                    continue;
                const side fs = sub_side(X, If);
                const size_t len = mc->rows.off[If + 1] - mc->rows.off[If];
                const uint32_t *runs = list_runs(mc->rows.buf, mc->rows.off, X->cs, X->up, If);
                /* The run [ra, rb) of index t, or [∞, ∞) past the last. */
                size_t t = 0, ra = SIZE_MAX, rb = SIZE_MAX;
                if (len)
                    run_span(runs[0], mc->sbits, &ra, &rb);
#define NEXT_RUN()                                                                           \
    do {                                                                                     \
        if (++t < len)                                                                       \
            run_span(runs[t], mc->sbits, &ra, &rb);                                          \
        else                                                                                 \
            ra = rb = SIZE_MAX;                                                              \
    } while (0)
                for (size_t J = 0; J < ny; J++) {
                    if (!kept_cluster(mc, I, J) || !(By[J] > -INFINITY))
                        continue;
                    while (rb <= Y->cs[J])
                        NEXT_RUN();
                    /* Each dropped sub-cluster block under the smallest of
                     * the bounds that cover it (row_candidates); all of
                     * (I', J) under its own bound when it keeps nothing
                     * there and that is smaller. */
                    const double Um = block_bound(mc, fs, cluster_side(Y, J));
                    const int none = !(ra < Y->cs[J + 1]);
                    const size_t f0 = Y->cs[J];
                    block_bounds(mc, fs, sub_side(Y, f0), Y->cs[J + 1] - f0, Usub);
                    double sj = 0.0;
                    for (size_t Jf = f0; Jf < Y->cs[J + 1]; Jf++) {
                        while (rb <= Jf)
                            NEXT_RUN();
                        if (ra <= Jf)
                            continue;
                        if (!(Y->fmass[Jf] > -INFINITY))
                            continue;
                        const double U = fmin(fmin(Um, Ucol[Jf]), Usub[Jf - f0]);
                        sj += exp(X->fmass[If] + Y->fmass[Jf] + U / eps);
                    }
                    if (none)
                        sj = fmin(sj, exp(X->fmass[If] + By[J] + Um / eps));
                    s += sj;
                }
#undef NEXT_RUN
            }
        }
        part[I] = s;
    }
    free(Ucol);
    free(Usub);
    free(cand);
    }
    /* Without memory for the bound, nothing is known of the dropped mass. */
    if (fail)
        return INFINITY;
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

/* ------------------------------------------------------------ construction */

typedef struct {
    size_t cell, sub, idx;
} keyed;

static int keyed_cmp(const void *p, const void *q)
{
    const keyed *u = p, *v = q;
    if (u->cell != v->cell)
        return u->cell < v->cell ? -1 : 1;
    if (u->sub != v->sub)
        return u->sub < v->sub ? -1 : 1;
    return u->idx < v->idx ? -1 : u->idx > v->idx;
}

/* Centroids and radii of the groups [start[J], start[J+1]) of sorted
 * coordinates zs (d×len). */
static void centroids(const double *zs, size_t len, size_t d, const size_t *start, size_t count,
                      double *cent, double *rad)
{
    for (size_t J = 0; J < count; J++) {
        const size_t k0 = start[J], k1 = start[J + 1];
        for (size_t a = 0; a < d; a++) {
            double s = 0.0;
            for (size_t k = k0; k < k1; k++)
                s += zs[a * len + k];
            cent[a * count + J] = s / (double)(k1 - k0);
        }
        double r2 = 0.0;
        for (size_t k = k0; k < k1; k++) {
            double q = 0.0;
            for (size_t a = 0; a < d; a++) {
                const double t = zs[a * len + k] - cent[a * count + J];
                q += t * t;
            }
            r2 = q > r2 ? q : r2;
        }
        /* A hair above the largest distance: the bound must hold for the
         * rounded coordinates too. */
        rad[J] = sqrt(r2) * (1.0 + 1e-12);
    }
}

/* A cloud's grid: cells of side `cell` from `lo`, dims[a] along axis a,
 * each split into sub^d sub-cells. */
typedef struct {
    double lo[3], cell;
    double scale; /* the cell side, 0 for a cloud of one location (its cell is arbitrary) */
    size_t dims[3], sub;
} cloud_grid;

/* The grid over the bounding box of the len points Zs: about
 * MS_POINTS_PER_CLUSTER points per cell on average over the box, at most
 * MS_MAX_CLUSTERS cells, and about MS_POINTS_PER_SUB points per sub-cell. */
static void grid_for(const double *Zs, size_t len, size_t d, cloud_grid *g)
{
    double width[3], wmax = 0.0;
    for (size_t a = 0; a < d; a++) {
        double l = INFINITY, h = -INFINITY;
        for (size_t i = 0; i < len; i++) {
            l = fmin(l, Zs[a * len + i]);
            h = fmax(h, Zs[a * len + i]);
        }
        g->lo[a] = l;
        width[a] = h - l;
        wmax = fmax(wmax, width[a]);
    }
    size_t target = len / MS_POINTS_PER_CLUSTER;
    target = target < 1 ? 1 : target > MS_MAX_CLUSTERS / 2 ? MS_MAX_CLUSTERS / 2 : target;
    double vol = 1.0;
    for (size_t a = 0; a < d; a++)
        vol *= fmax(width[a], 1e-3 * wmax);
    double cell = wmax > 0.0 ? pow(vol / (double)target, 1.0 / (double)d) : 1.0;
    size_t cells = 1;
    for (;;) {
        cells = 1;
        for (size_t a = 0; a < d; a++) {
            const double t = ceil(width[a] / cell);
            g->dims[a] = t >= 1.0 ? (size_t)t : 1;
            cells *= g->dims[a];
        }
        if (cells <= MS_MAX_CLUSTERS)
            break;
        cell *= 1.1;
    }
    g->cell = cell;
    g->scale = wmax > 0.0 ? cell : 0.0;
    const double per_cell = (double)len / (double)cells;
    double sk = floor(pow(per_cell / MS_POINTS_PER_SUB, 1.0 / (double)d) + 0.5);
    sk = sk < 1.0 ? 1.0 : sk > MS_MAX_SUB ? MS_MAX_SUB : sk;
    g->sub = (size_t)sk;
}

/* Sort one cloud (d×len coordinates Zs) into the grid of cell side `cell`
 * and, inside each cell, into its sub x ... x sub sub-cells: both levels of
 * *q.  Returns 0 on allocation failure. */
static int cluster_cloud(const double *Zs, size_t len, size_t d, const cloud_grid *g,
                         ms_cloud *q)
{
    const double *lo = g->lo, cell = g->cell;
    const size_t *dims = g->dims, sub = g->sub;
    keyed *key = malloc(len * sizeof *key);
    q->z = malloc(d * len * sizeof *q->z);
    q->perm = malloc(len * sizeof *q->perm);
    q->inv = malloc(len * sizeof *q->inv);
    if (!key || !q->z || !q->perm || !q->inv) {
        free(key);
        return 0;
    }
    const double fine = cell / (double)sub;
    for (size_t i = 0; i < len; i++) {
        size_t id = 0, sid = 0;
        for (size_t a = d; a-- > 0;) {
            const double u = Zs[a * len + i] - lo[a];
            const double t = floor(u / cell);
            size_t c = t > 0.0 ? (size_t)t : 0;
            c = c < dims[a] ? c : dims[a] - 1;
            const double tf = floor(u / fine) - (double)(c * sub);
            size_t cf = tf > 0.0 ? (size_t)tf : 0;
            cf = cf < sub ? cf : sub - 1;
            id = id * dims[a] + c;
            sid = sid * sub + cf;
        }
        key[i].cell = id;
        key[i].sub = sid;
        key[i].idx = i;
    }
    qsort(key, len, sizeof *key, keyed_cmp);
    size_t count = 0, fcount = 0;
    for (size_t k = 0; k < len; k++) {
        const int nc = k == 0 || key[k].cell != key[k - 1].cell;
        count += nc;
        fcount += nc || key[k].sub != key[k - 1].sub;
    }
    q->nc = count;
    q->nf = fcount;
    q->s = malloc((count + 1) * sizeof *q->s);
    q->cs = malloc((count + 1) * sizeof *q->cs);
    q->fs = malloc((fcount + 1) * sizeof *q->fs);
    q->up = malloc(fcount * sizeof *q->up);
    q->cent = calloc(d * count, sizeof *q->cent);
    q->rad = calloc(count, sizeof *q->rad);
    q->fcent = calloc(d * fcount, sizeof *q->fcent);
    q->frad = calloc(fcount, sizeof *q->frad);
    q->stat = malloc(count * (d + 3) * sizeof *q->stat);
    q->fstat = malloc(fcount * (d + 3) * sizeof *q->fstat);
    q->fmass = malloc(fcount * sizeof *q->fmass);
    if (!q->s || !q->cs || !q->fs || !q->up || !q->cent || !q->rad || !q->fcent || !q->frad ||
        !q->stat || !q->fstat || !q->fmass) {
        free(key);
        return 0;
    }
    size_t I = 0, If = 0;
    for (size_t k = 0; k < len; k++) {
        const int nc = k == 0 || key[k].cell != key[k - 1].cell;
        const int nf = nc || key[k].sub != key[k - 1].sub;
        if (k > 0 && nc)
            I++;
        if (k > 0 && nf)
            If++;
        if (nc) {
            q->s[I] = k;
            q->cs[I] = If;
        }
        if (nf) {
            q->fs[If] = k;
            q->up[If] = I;
        }
        const size_t i = key[k].idx;
        q->perm[k] = i;
        q->inv[i] = k;
        for (size_t a = 0; a < d; a++)
            q->z[a * len + k] = Zs[a * len + i];
    }
    q->s[count] = len;
    q->cs[count] = fcount;
    q->fs[fcount] = len;
    free(key);
    centroids(q->z, len, d, q->s, count, q->cent, q->rad);
    centroids(q->z, len, d, q->fs, fcount, q->fcent, q->frad);
    return 1;
}

/* Squared grounds: both clouds, their centroids included, moved to the
 * centre of their common bounding box (the costs do not change; the point
 * cost centres the same way, points.c: centre, which says why), and the
 * squared norms of the expanded form; 0 on allocation failure. */
static int centre_clouds(ms_cloud *X, size_t n, ms_cloud *Y, size_t m, size_t d)
{
    ms_cloud *q[2] = {X, Y};
    const size_t len[2] = {n, m};
    for (int k = 0; k < 2; k++) {
        q[k]->nrm = calloc(len[k], sizeof *q[k]->nrm);
        if (!q[k]->nrm)
            return 0;
    }
    for (size_t a = 0; a < d; a++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < len[k]; i++) {
                lo = fmin(lo, q[k]->z[a * len[k] + i]);
                hi = fmax(hi, q[k]->z[a * len[k] + i]);
            }
        const double mid = 0.5 * lo + 0.5 * hi;
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < len[k]; i++) {
                const double u = q[k]->z[a * len[k] + i] - mid;
                q[k]->z[a * len[k] + i] = u;
                q[k]->nrm[i] += u * u;
            }
            for (size_t I = 0; I < q[k]->nc; I++)
                q[k]->cent[a * q[k]->nc + I] -= mid;
            for (size_t I = 0; I < q[k]->nf; I++)
                q[k]->fcent[a * q[k]->nf + I] -= mid;
        }
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
    if (n > UINT32_MAX || m > UINT32_MAX)
        return otk__fail(OTK_EUNSUPPORTED, "backend multiscale: %zu x %zu points; at most "
                                           "%u per cloud",
                         n, m, (unsigned)UINT32_MAX);
    /* Each cloud its own grid, over its own bounding box: clusters of about
     * MS_POINTS_PER_CLUSTER of its points whatever the other cloud's
     * density, so that a concentrated cloud gets cells, and blocks, as
     * tight around the transport as a spread-out one. */
    cloud_grid gx, gy;
    grid_for(xs0, n, d, &gx);
    grid_for(ys0, m, d, &gy);
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
    /* The cluster level serves down to a quarter of the coarser grid's
     * cell (docs/math.md A.11). */
    mc->cell = fmax(gx.scale, gy.scale);
    mc->base.coarse_eps = pow(mc->cell / MS_JUMP, points->exponent);
    int ok = cluster_cloud(xs0, n, d, &gx, &mc->X) && cluster_cloud(ys0, m, d, &gy, &mc->Y);
    if (ok && (ground == OTK_GROUND_SQEUCLIDEAN || ground == OTK_GROUND_HALF_SQEUCLIDEAN))
        ok = centre_clouds(&mc->X, n, &mc->Y, m, d);
    if (ok) {
        mc->wr = (mc->Y.nc + 63) / 64;
        mc->wc = (mc->X.nc + 63) / 64;
        mc->keep = malloc(mc->X.nc * mc->wr * sizeof *mc->keep);
        mc->keep_c = malloc(mc->Y.nc * mc->wc * sizeof *mc->keep_c);
        mc->hs = malloc((n > m ? n : m) * sizeof *mc->hs);
        mc->H = malloc((mc->X.nc + mc->Y.nc) * sizeof *mc->H);
        ok = mc->keep && mc->keep_c && mc->hs && mc->H;
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
