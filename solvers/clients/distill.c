/* Knowledge-distillation losses: SinKD in the log domain with the exact
 * adjoint of its unrolled Sinkhorn–Knopp iterations (docs/math.md D, decision 5),
 * and the KL / reverse-KL / JS / soft-CE baselines (docs/math.md E). */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/distill.h"
#include "otkit/fdiv.h"
#include "internal.h"

struct otk_sinkd {
    size_t B, K;
    otk_sinkd_params par;
    int threads;
    double *p_s, *p_t;    /* B×K softened probabilities softmax(Z/τ) */
    double *W, *Wt;       /* B×B batch cost and its transpose (column steps read rows of Wt);
                           * in the kernel domain Wt holds K = exp(−W/ε) instead; the
                           * teacher's gradient (l1) reuses it for W̄ᵀ */
    double *pT;           /* one side's probabilities in panels (l1 ground: to_panels), else NULL */
    int kdom;             /* this call runs in the kernel domain (kernel_domain) */
    double *sq;           /* B×B ‖p_s,i − p_t,j‖² where the ground's slope needs it, else NULL */
    double *W_bar;        /* B×B, ∂L/∂W */
    double *uv;           /* iters × 2B: u^(k) then v^(k), k = 1..iters (log scalings) */
    double *lr;           /* iters × 4B: the kernel-domain adjoint's vectors of W̄'s
                           * low-rank part (kernel_adjoint_steps); unrolled gradients only */
    double *u_bar, *v_bar; /* B each: adjoints of the current u^(k), v^(k) */
    double *row_loss;     /* B: per-row terms, summed in a fixed order */
    double *zeros;        /* B zeros: v^(0); then 2B of scratch (kernel domain) */
    const otk_kernels *kern;
};

void otk_sinkd_params_default(otk_sinkd_params *params)
{
    if (!params)
        return;
    params->tau = 2.0;
    params->eps = 0.1;
    params->iters = 20;
    params->ground = OTK_GROUND_L1;
    params->power = 2.0;
    params->weight = 1.0;
    params->grad = OTK_SINKD_GRAD_UNROLLED;
    params->threads = 0;
}

/* ----------------------------------------------------------- validation */

static otk_status check_logits(const char *what, const double *z, size_t B, size_t K)
{
    for (size_t i = 0; i < B; i++)
        for (size_t k = 0; k < K; k++)
            if (!isfinite(z[i * K + k]))
                return otk__fail(OTK_ENONFINITE, "%s[%zu][%zu] = %g is not finite", what, i, k,
                                 z[i * K + k]);
    return OTK_SUCCESS;
}

static otk_status check_sizes(size_t B, size_t K)
{
    if (B == 0 || K == 0)
        return otk__fail(OTK_ESIZE, "B = %zu and K = %zu must both be > 0", B, K);
    if (K > SIZE_MAX / sizeof(double) / B)
        return otk__fail(OTK_ESIZE, "B·K = %zu·%zu overflows", B, K);
    return OTK_SUCCESS;
}

static otk_status check_tau(const char *what, double tau)
{
    if (!(tau > 0.0) || !isfinite(tau))
        return otk__fail(OTK_EPARAM, "%s = %g must be finite and > 0", what, tau);
    return OTK_SUCCESS;
}

static otk_status check_kind(otk_kd_divergence kind)
{
    if ((int)kind < (int)OTK_KD_KL || (int)kind > (int)OTK_KD_SOFT_CE)
        return otk__fail(OTK_EPARAM, "kind = %d is not an otk_kd_divergence", (int)kind);
    return OTK_SUCCESS;
}

static otk_status check_params(const otk_sinkd_params *p)
{
    otk_status st = check_tau("params.tau", p->tau);
    if (st != OTK_SUCCESS)
        return st;
    if (!(p->eps > 0.0) || !isfinite(p->eps))
        return otk__fail(OTK_EPARAM, "params.eps = %g must be finite and > 0", p->eps);
    if (p->iters < 1)
        return otk__fail(OTK_EPARAM, "params.iters = %d must be >= 1", p->iters);
    if (!(p->weight >= 0.0) || !isfinite(p->weight))
        return otk__fail(OTK_EPARAM, "params.weight = %g must be finite and >= 0", p->weight);
    if ((int)p->ground < (int)OTK_GROUND_SQEUCLIDEAN || (int)p->ground > (int)OTK_GROUND_LP_OVER_P)
        return otk__fail(OTK_EPARAM, "params.ground = %d is not an otk_ground", (int)p->ground);
    if ((p->ground == OTK_GROUND_LP || p->ground == OTK_GROUND_LP_OVER_P) &&
        (!(p->power > 0.0) || !isfinite(p->power)))
        return otk__fail(OTK_EPARAM, "params.power = %g must be finite and > 0 for ground \"%s\"",
                         p->power, otk_ground_name(p->ground));
    if (p->grad != OTK_SINKD_GRAD_UNROLLED && p->grad != OTK_SINKD_GRAD_ENVELOPE)
        return otk__fail(OTK_EPARAM, "params.grad = %d is not an otk_sinkd_grad", (int)p->grad);
    if (p->threads < 0)
        return otk__fail(OTK_EPARAM, "params.threads = %d must be >= 0", p->threads);
    return OTK_SUCCESS;
}

/* ------------------------------------------------------- row primitives */

/* Softmax chain rule in place: g ← (1/τ) p ∘ (g − <p, g>). */
static void softmax_backward(const double *p, size_t K, double inv_tau, double *g)
{
    double dot = 0.0;
    for (size_t k = 0; k < K; k++)
        dot += p[k] * g[k];
    for (size_t k = 0; k < K; k++)
        g[k] = inv_tau * p[k] * (g[k] - dot);
}

/* The batch mean of a baseline over the B rows, the per-row values summed in
 * row order (thread-count independent); `grad` (may be NULL) receives
 * gscale·∂/∂Z_s added to its contents.  KL, reverse KL and JS are the
 * f-divergences D(p_t ‖ p_s) of otkit/fdiv.h (computed there; finite for any
 * finite logits, so that call cannot fail); the soft cross-entropy (KL plus
 * the teacher's entropy, not an f-divergence) is computed here. */
static double kd_batch(otk_kd_divergence kind, size_t B, size_t K, const double *z_s,
                       const double *z_t, double tau, double gscale, double *grad,
                       double *row_loss, int threads)
{
    const double inv_B = 1.0 / (double)B;
    if (kind != OTK_KD_SOFT_CE) {
        otk_fdiv_params par;
        otk_fdiv_params_default(&par);
        par.kind = kind == OTK_KD_KL ? OTK_FDIV_KL
                   : kind == OTK_KD_REVERSE_KL ? OTK_FDIV_REVERSE_KL : OTK_FDIV_JS;
        par.tau = tau;
        (void)otk__fdiv_logits_rows(&par, B, K, z_t, z_s, kind == OTK_KD_KL ? tau * tau : 1.0,
                                    gscale * inv_B, row_loss, NULL, grad, threads);
    } else {
        const double it = 1.0 / tau, gs = gscale * inv_B;
        OTK_PARALLEL_FOR(otk__parallel_worth(threads, B, K),
                         schedule(static) num_threads(threads),
        for (size_t i = 0; i < B; i++) { /* −Σ p_t log p_s; ∂/∂z_s = (p_s − p_t)/τ */
            const double *zs = z_s + i * K, *zt = z_t + i * K;
            const double lse_s = otk__softmax_lse(zs, K, it);
            const double lse_t = otk__softmax_lse(zt, K, it);
            double value = 0.0;
            for (size_t k = 0; k < K; k++) {
                const double ls = zs[k] * it - lse_s, pt = exp(zt[k] * it - lse_t);
                if (pt > 0.0)
                    value -= pt * ls;
            }
            row_loss[i] = value;
            if (grad)
                for (size_t k = 0; k < K; k++)
                    grad[i * K + k] +=
                        gs * it * (exp(zs[k] * it - lse_s) - exp(zt[k] * it - lse_t));
        });
    }
    double s = 0.0;
    for (size_t i = 0; i < B; i++)
        s += row_loss[i];
    return s * inv_B;
}

otk_status otk_kd_loss(otk_kd_divergence kind, size_t B, size_t K, const double *z_s,
                       const double *z_t, double tau, double *loss, double *grad_s)
{
    if (!z_s || !z_t || !loss)
        return otk__fail(OTK_ENULL, "%s is NULL", !z_s ? "z_s" : !z_t ? "z_t" : "loss");
    otk_status st = check_sizes(B, K);
    if (st == OTK_SUCCESS)
        st = check_kind(kind);
    if (st == OTK_SUCCESS)
        st = check_tau("tau", tau);
    if (st == OTK_SUCCESS)
        st = check_logits("z_s", z_s, B, K);
    if (st == OTK_SUCCESS)
        st = check_logits("z_t", z_t, B, K);
    if (st != OTK_SUCCESS)
        return st;
    double *row_loss = malloc(B * sizeof *row_loss);
    if (!row_loss)
        return otk__fail(OTK_ENOMEM, "out of memory for %zu row values", B);
    if (grad_s)
        memset(grad_s, 0, B * K * sizeof *grad_s);
    *loss = kd_batch(kind, B, K, z_s, z_t, tau, 1.0, grad_s, row_loss, otk__threads(0));
    free(row_loss);
    return OTK_SUCCESS;
}

/* ----------------------------------------------------------- SinKD plan */

/* Whether the ground's slope (otk__ground_slope) depends on s = ‖x − y‖²:
 * then the backward pass keeps s next to the cost (one more B×B array). */
static int slope_needs_sq(otk_ground g)
{
    return g == OTK_GROUND_EUCLIDEAN || g == OTK_GROUND_LP || g == OTK_GROUND_LP_OVER_P;
}

/* The l1 tiles' panels of B rows (to_panels). */
static size_t panel_count(size_t B) { return (B + OTK_T_PANEL - 1) / OTK_T_PANEL; }

void otk_sinkd_free(otk_sinkd *sd)
{
    if (!sd)
        return;
    free(sd->p_s);
    free(sd->p_t);
    free(sd->W);
    free(sd->Wt);
    free(sd->pT);
    free(sd->sq);
    free(sd->W_bar);
    free(sd->uv);
    free(sd->lr);
    free(sd->u_bar);
    free(sd->v_bar);
    free(sd->row_loss);
    free(sd->zeros);
    free(sd);
}

otk_status otk_sinkd_alloc(otk_sinkd **out, size_t B, size_t K, const otk_sinkd_params *params)
{
    if (!out)
        return otk__fail(OTK_ENULL, "out is NULL");
    *out = NULL;
    otk_sinkd_params par;
    if (params)
        par = *params;
    else
        otk_sinkd_params_default(&par);
    otk_status st = check_sizes(B, K);
    if (st != OTK_SUCCESS)
        return st;
    if (B > SIZE_MAX / sizeof(double) / B)
        return otk__fail(OTK_ESIZE, "B² = %zu² overflows", B);
    st = check_params(&par);
    if (st != OTK_SUCCESS)
        return st;
    if (par.ground == OTK_GROUND_L1 &&
        K > SIZE_MAX / sizeof(double) / OTK_T_PANEL / panel_count(B))
        return otk__fail(OTK_ESIZE, "the l1 panels of B·K = %zu·%zu overflow", B, K);
    if ((size_t)par.iters > SIZE_MAX / sizeof(double) / 4 / B)
        return otk__fail(OTK_ESIZE, "iters·4B = %d·4·%zu overflows", par.iters, B);
    otk_sinkd *sd = calloc(1, sizeof *sd);
    if (!sd)
        return otk__fail(OTK_ENOMEM, "out of memory for the SinKD plan");
    sd->B = B;
    sd->K = K;
    sd->par = par;
    sd->threads = otk__threads(par.threads);
    sd->p_s = malloc(B * K * sizeof(double));
    sd->p_t = malloc(B * K * sizeof(double));
    sd->W = malloc(B * B * sizeof(double));
    sd->Wt = malloc(B * B * sizeof(double));
    sd->W_bar = malloc(B * B * sizeof(double));
    if (slope_needs_sq(par.ground))
        sd->sq = malloc(B * B * sizeof(double));
    if (par.ground == OTK_GROUND_L1)
        sd->pT = malloc(panel_count(B) * OTK_T_PANEL * K * sizeof(double));
    sd->uv = malloc((size_t)par.iters * 2 * B * sizeof(double));
    if (par.grad == OTK_SINKD_GRAD_UNROLLED)
        sd->lr = malloc((size_t)par.iters * 4 * B * sizeof(double));
    sd->u_bar = malloc(B * sizeof(double));
    sd->v_bar = malloc(B * sizeof(double));
    sd->row_loss = malloc(B * sizeof(double));
    /* B zeros, then 2B of scratch for the kernel domain's final scalings. */
    sd->zeros = calloc(3 * B, sizeof(double));
    sd->kern = otk__kernels();
    if (!sd->p_s || !sd->p_t || !sd->W || !sd->Wt || !sd->W_bar ||
        (slope_needs_sq(par.ground) && !sd->sq) || (par.ground == OTK_GROUND_L1 && !sd->pT) ||
        !sd->uv || (par.grad == OTK_SINKD_GRAD_UNROLLED && !sd->lr) || !sd->u_bar || !sd->v_bar ||
        !sd->row_loss || !sd->zeros) {
        otk_sinkd_free(sd);
        return otk__fail(OTK_ENOMEM, "out of memory for a SinKD plan with B = %zu, K = %zu", B, K);
    }
    *out = sd;
    return OTK_SUCCESS;
}

/* ------------------------------------------------------- batch cost W */

/* The B²K terms of the batch cost and of its gradient are computed in tiles.
 * The squared grounds: OTK_ROW_BLOCK rows of one side × OTK_COL_BLOCK rows
 * of the other × OTK_K_BLOCK classes (≈ 200 KiB, resident in L2 while they
 * are combined), and inside a tile one row against OTK_MULTI rows of the
 * other side at a time (kernels.h).  Each side is then read from memory
 * B/OTK_ROW_BLOCK times instead of B times, and the work per load is eight
 * times larger.  A thread owns whole row blocks, and every sum runs in the
 * same order whatever the thread count.
 *
 * The l1 ground (the default) takes the other side in panels instead
 * (sd->pT, to_panels): its tiles (kernels.h, l1_cost_tile and l1_grad_tile)
 * run their vectors along the other side's rows, OTK_T_ROWS rows of this
 * side at a time, so that K = 2 wastes no lanes and each loaded vector
 * serves four rows; blocks of OTK_T_KBLOCK classes × OTK_T_CBLOCK rows of
 * the other side (256 KiB) stay in L2 while a row block passes over them. */
#define OTK_ROW_BLOCK 32
#define OTK_COL_BLOCK 64
#define OTK_K_BLOCK 256
#define OTK_T_KBLOCK 128
#define OTK_T_CBLOCK 256

/* yt = yᵀ for the B×K row-major y (K×B), by square blocks. */
static void transpose(const double *y, size_t B, size_t K, double *yt, int threads)
{
    const size_t nb = (B + 31) / 32;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, B, K),
                     schedule(static) num_threads(threads),
    for (size_t b = 0; b < nb; b++) {
        const size_t i1 = (b + 1) * 32 < B ? (b + 1) * 32 : B;
        for (size_t k0 = 0; k0 < K; k0 += 32) {
            const size_t k1 = k0 + 32 < K ? k0 + 32 : K;
            for (size_t i = b * 32; i < i1; i++)
                for (size_t k = k0; k < k1; k++)
                    yt[k * B + i] = y[i * K + k];
        }
    });
}

/* The B×K row-major y in the l1 tiles' panels (kernels.h): row c's class k
 * at yt[(c/OTK_T_PANEL)·K·OTK_T_PANEL + k·OTK_T_PANEL + c%OTK_T_PANEL], the
 * last panel's missing rows 0. */
static void to_panels(const double *y, size_t B, size_t K, double *yt, int threads)
{
    const size_t np = panel_count(B);
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, B, K),
                     schedule(static) num_threads(threads),
    for (size_t p = 0; p < np; p++) {
        double *panel = yt + p * K * OTK_T_PANEL;
        const size_t c0 = p * OTK_T_PANEL, W = B - c0 < OTK_T_PANEL ? B - c0 : OTK_T_PANEL;
        if (W < OTK_T_PANEL)
            memset(panel, 0, K * OTK_T_PANEL * sizeof(double));
        for (size_t c = 0; c < W; c++)
            for (size_t k = 0; k < K; k++)
                panel[k * OTK_T_PANEL + c] = y[(c0 + c) * K + k];
    });
}

/* p = softmax(z/τ) row-wise: e^{z/τ − max} with the vectorised exp, then
 * normalised (τ > 0, so the maximum of z/τ is max(z)/τ). */
static void softmax_rows(const otk_kernels *kern, const double *z, size_t B, size_t K, double tau,
                         double *p, int threads)
{
    const double it = 1.0 / tau;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, B, K),
                     schedule(static) num_threads(threads),
    for (size_t i = 0; i < B; i++) {
        double *pi = p + i * K;
        kern->exp_affine(z + i * K, K, it, kern->max(z + i * K, K) * it, pi);
        const double inv = 1.0 / kern->sum(pi, K);
        for (size_t k = 0; k < K; k++)
            pi[k] *= inv;
    });
}

/* The iterations run in the kernel domain when the cost layer spans at
 * most SINKD_KERNEL_RANGE in units of ε (the usual case: probabilities'
 * l1 costs are <= 2, so W/ε <= 20 at the default ε = 0.1).  Then
 * K = exp(−W/ε) is formed once, each soft-min is a product with K,
 * −LSE_j(h_j − W_ij/ε) = −(m + log Σ_j K_ij e^{h_j − m}), m = max h, and each
 * plan entry of the adjoint is r_i K_ij c_j with per-row and per-column
 * exponentials: B² exponentials per call instead of B² per step.  Exact
 * to rounding: with the range at most 300 no row sum falls below e^−300
 * (its largest term has e^{h_j − m} = 1 and K_ij >= e^−300), no scaling
 * below overflows (docs/math.md D.1), and a term that underflows is below
 * e^−700 of its sum.  Wider ranges keep the log-domain steps. */
#define SINKD_KERNEL_RANGE 300.0

static int kernel_domain(const otk_sinkd *sd)
{
    const size_t BB = sd->B * sd->B;
    const double lim = SINKD_KERNEL_RANGE * sd->par.eps;
    for (size_t k = 0; k < BB; k++)
        if (!(sd->W[k] >= 0.0 && sd->W[k] <= lim))
            return 0;
    return 1;
}

/* The l1 tiles of rows r0..r1 of x (B×K) against the other side's panels
 * in sd->pT, by blocks of OTK_T_KBLOCK classes × OTK_T_CBLOCK columns: the
 * costs added into the rows of out (B×B) when A is NULL, else the gradient
 * with coefficients the rows of A (B×B) added into the rows of out (B×K). */
static void l1_tiles(const otk_sinkd *sd, const double *x, size_t r0, size_t r1, const double *A,
                     double *out)
{
    const size_t B = sd->B, K = sd->K;
    const otk_kernels *kern = sd->kern;
    for (size_t k0 = 0; k0 < K; k0 += OTK_T_KBLOCK) {
        const size_t T = K - k0 < OTK_T_KBLOCK ? K - k0 : OTK_T_KBLOCK;
        for (size_t c0 = 0; c0 < B; c0 += OTK_T_CBLOCK) {
            const size_t C = B - c0 < OTK_T_CBLOCK ? B - c0 : OTK_T_CBLOCK;
            const double *panels = sd->pT + c0 * K + k0 * OTK_T_PANEL;
            for (size_t i = r0; i < r1; i += OTK_T_ROWS) {
                const size_t R = r1 - i < OTK_T_ROWS ? r1 - i : OTK_T_ROWS;
                if (A)
                    kern->l1_grad_tile(x + i * K + k0, K, R, panels, K * OTK_T_PANEL, T, C,
                                       A + i * B + c0, B, out + i * K + k0, K);
                else
                    kern->l1_cost_tile(x + i * K + k0, K, R, panels, K * OTK_T_PANEL, T, C,
                                       out + i * B + c0, B);
            }
        }
    }
}

static void batch_cost(otk_sinkd *sd)
{
    const size_t B = sd->B, K = sd->K;
    const int nt = sd->threads;
    const otk_ground g = sd->par.ground;
    const double P = sd->par.power;
    const size_t nblocks = (B + OTK_ROW_BLOCK - 1) / OTK_ROW_BLOCK;
    const int l1 = g == OTK_GROUND_L1;
    const otk_kernels *kern = sd->kern;
    if (l1)
        to_panels(sd->p_t, B, K, sd->pT, nt);
    OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B * K),
                     schedule(dynamic, 1) num_threads(nt),
    for (size_t rb = 0; rb < nblocks; rb++) {
        const size_t r0 = rb * OTK_ROW_BLOCK;
        const size_t r1 = r0 + OTK_ROW_BLOCK < B ? r0 + OTK_ROW_BLOCK : B;
        const double *ys[OTK_MULTI];
        for (size_t i = r0; i < r1; i++)
            memset(sd->W + i * B, 0, B * sizeof(double));
        /* Raw sums Σ|x − y| or Σ(x − y)² first, the ground's transform after. */
        if (l1)
            l1_tiles(sd, sd->p_s, r0, r1, NULL, sd->W);
        for (size_t k0 = 0; k0 < K && !l1; k0 += OTK_K_BLOCK) {
            const size_t T = K - k0 < OTK_K_BLOCK ? K - k0 : OTK_K_BLOCK;
            for (size_t c0 = 0; c0 < B; c0 += OTK_COL_BLOCK) {
                const size_t c1 = c0 + OTK_COL_BLOCK < B ? c0 + OTK_COL_BLOCK : B;
                for (size_t i = r0; i < r1; i++) {
                    const double *x = sd->p_s + i * K + k0;
                    double *w = sd->W + i * B;
                    size_t j = c0;
                    for (; j + OTK_MULTI <= c1; j += OTK_MULTI) {
                        for (int o = 0; o < OTK_MULTI; o++)
                            ys[o] = sd->p_t + (j + (size_t)o) * K + k0;
                        kern->sq_dist_multi(x, ys, T, w + j);
                    }
                    for (; j < c1; j++)
                        w[j] += kern->sq_dist(x, sd->p_t + j * K + k0, T);
                }
            }
        }
        for (size_t i = r0; i < r1; i++) {
            if (sd->sq)
                memcpy(sd->sq + i * B, sd->W + i * B, B * sizeof(double));
            otk__ground_of_sums((int)g, P, sd->W + i * B, B);
        }
    });
    sd->kdom = kernel_domain(sd);
    if (sd->kdom) {
        const double ie = 1.0 / sd->par.eps;
        OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B),
                         schedule(static) num_threads(nt),
        for (size_t i = 0; i < B; i++)
            kern->exp_affine(sd->W + i * B, B, -ie, 0.0, sd->Wt + i * B);
        );
        return;
    }
    transpose(sd->W, B, B, sd->Wt, nt);
}

/* ---------------------------------------------------- forward iterations */

/* e[i] = exp(x[i] − max x), the max returned. */
static double exp_shifted(const otk_kernels *kern, const double *x, size_t n, double *e)
{
    const double m = kern->max(x, n);
    kern->exp_affine(x, n, 1.0, m, e);
    return m;
}

/* The kernel domain's steps are O(B²) each, 40 of them per call: at B = 32
 * a step takes a few microseconds, and so does an OpenMP region, even one
 * whose `if` clause keeps it serial (libgomp still builds a team of one and
 * ends each of its barriers with a futex call, ~1.4 µs on a virtual
 * machine).  So a pass over the iterations is one function whose steps are
 * orphaned worksharing loops, the O(B) parts in `single` blocks: run inside
 * one region when the team is worth it, called directly otherwise, where
 * those constructs cost nothing.  A step has four barriers (~1.8 µs each
 * between the two virtual CPUs of the 2-core machine): the team lost to one
 * thread at B = 256 (2.0–2.1 against 1.5–1.7 ms for a whole 256 × 2 call),
 * tied at 512 and won from 768 on (12.8–15.6 against 15.8–18.8 ms at
 * 768 × 10, 25 against 33–39 at 1024 × 10), so it starts at B² = 2^18. */
static int team_worth(const otk_sinkd *sd)
{
    return sd->threads > 1 && sd->B * sd->B >= (size_t)1 << 18;
}

/* out_j = Σ_i e_i A_ij (× Z_ij when Z is given) over the B rows of the
 * row-major B×B A: column strips walked down all rows, each column summed
 * in row order whatever the strips, so the sums do not depend on the
 * thread count; strips narrower than a tile when there are fewer tiles
 * than threads.  A worksharing loop: called inside a region (or outside
 * any, then serial); ends with the loop's barrier. */
static void col_products(const otk_sinkd *sd, const double *A, const double *Z, const double *e,
                         double *out)
{
    const size_t B = sd->B;
    const otk_kernels *kern = sd->kern;
    const int nt = sd->threads;
    size_t W = OTK_TILE;
    if (nt > 1 && (B + W - 1) / W < (size_t)nt)
        W = ((B + (size_t)nt - 1) / (size_t)nt + 7) / 8 * 8;
    const size_t nstrips = (B + W - 1) / W;
#pragma omp for schedule(static)
    for (size_t sidx = 0; sidx < nstrips; sidx++) {
        const size_t j0 = sidx * W, T = B - j0 < W ? B - j0 : W;
        double *o = out + j0;
        memset(o, 0, T * sizeof *o);
        if (!Z)
            kern->axpy_rows(A + j0, B, B, e, T, o);
        else
            for (size_t i = 0; i < B; i++)
                kern->axpy_prod(e[i], A + i * B + j0, Z + i * B + j0, T, o);
    }
}

/* out = −(m + log x), the vectorised logarithm (about 2 ulp). */
static void neg_log_shift(const otk_kernels *kern, const double *x, size_t n, double m,
                          double *out)
{
    kern->log_shift(x, n, m, out);
    for (size_t i = 0; i < n; i++)
        out[i] = -out[i];
}

/* The forward steps in the kernel domain (K in sd->Wt); see team_worth.
 * The column step's logarithms are taken with the next step's
 * exponentials, in one `single` block; `shift` (shared) holds the two
 * exponentials' shifts. */
static void kernel_forward_steps(otk_sinkd *sd, double *shift)
{
    const size_t B = sd->B;
    const int iters = sd->par.iters;
    const otk_kernels *kern = sd->kern;
    const double *K = sd->Wt;
    double *e = sd->v_bar, *s = sd->u_bar; /* scratch before the adjoint */
    for (int k = 0; k < iters; k++) {
        double *u = sd->uv + (size_t)k * 2 * B;
        double *h = k == 0 ? sd->zeros : u - B;
#pragma omp single
        {
            if (k > 0) /* v^(k−1) from its column sums */
                neg_log_shift(kern, s, B, shift[1], h);
            shift[0] = exp_shifted(kern, h, B, e);
        }
#pragma omp for schedule(static)
        for (size_t i0 = 0; i0 < B; i0 += OTK_SQ_ROWS) {
            const size_t R = B - i0 < OTK_SQ_ROWS ? B - i0 : OTK_SQ_ROWS;
            double d[OTK_SQ_ROWS];
            kern->dot_rows(K + i0 * B, B, R, e, B, d);
            neg_log_shift(kern, d, R, shift[0], u + i0);
        }
#pragma omp single
        shift[1] = exp_shifted(kern, u, B, e);
        col_products(sd, K, NULL, e, s);
    }
}

static void kernel_forward(otk_sinkd *sd)
{
    const size_t B = sd->B;
    double shift[2];
    if (team_worth(sd)) {
#pragma omp parallel num_threads(sd->threads)
        kernel_forward_steps(sd, shift);
    } else {
        kernel_forward_steps(sd, shift);
    }
    double *v = sd->uv + (size_t)(sd->par.iters - 1) * 2 * B + B; /* the last v, from its sums */
    neg_log_shift(sd->kern, sd->u_bar, B, shift[1], v);
}

/* The reference algorithm in the log domain: u^(k) normalises the rows of
 * exp(v^(k−1) − W/ε), v^(k) the columns of exp(u^(k) − W/ε), v^(0) = 0.
 * Each step is the dense row soft-min of the cost layer in units of ε
 * (u_i = −LSE_j(v_j − W_ij/ε)); the column step reads rows of Wt. */
static void sinkhorn_forward(otk_sinkd *sd)
{
    const size_t B = sd->B;
    const double eps = sd->par.eps;
    if (sd->kdom) {
        kernel_forward(sd);
        return;
    }
    for (int k = 0; k < sd->par.iters; k++) {
        double *u = sd->uv + (size_t)k * 2 * B, *v = u + B;
        otk__dense_softmin_rows(sd->kern, sd->W, B, B, B, eps, 1.0, k == 0 ? sd->zeros : u - B,
                                u, sd->threads);
        otk__dense_softmin_rows(sd->kern, sd->Wt, B, B, B, eps, 1.0, u, v, sd->threads);
    }
}

/* Σ_j exp(shift + h_j − C_j/ε)·w_j along one row C of length n (the plan
 * weights of that row against a weight vector), tile by tile. */
static double plan_row_dot(const otk_kernels *kern, const double *C, const double *h, size_t n,
                           double shift, double inv_eps, const double *w)
{
    double p[OTK_TILE];
    double s = 0.0;
    for (size_t j0 = 0; j0 < n; j0 += OTK_TILE) {
        const size_t T = n - j0 < OTK_TILE ? n - j0 : OTK_TILE;
        kern->plan_weights(C + j0, h + j0, T, shift, inv_eps, p);
        s += kern->dot(p, w + j0, T);
    }
    return s;
}

/* The scalings of a kernel-domain plan P_ij = r_i K_ij c_j =
 * exp(u_i + h_j − W_ij/ε): r_i = e^{u_i − α}, c_j = e^{h_j + α}, α = max u
 * (returned, for another plan of the same u).  r <= 1; c_j is at most
 * 1/K_{i*j} <= e^300 (i* the row of u's maximum, whose entries are at most
 * 1 after either step), so neither overflows. */
static double kernel_scalings(const otk_sinkd *sd, const double *u, const double *h, double *r,
                              double *c)
{
    const double a = exp_shifted(sd->kern, u, sd->B, r);
    sd->kern->exp_affine(h, sd->B, 1.0, -a, c);
    return a;
}

/* L = c_w Σ_ij P_ij W_ij with P = exp(u + v − W/ε) from the last iterate
 * (in the kernel domain r_i K_ij c_j, kernel_scalings).
 * Also the loss adjoints: ū_i = c_w Σ_j P_ij W_ij, v̄_j = c_w Σ_i P_ij W_ij,
 * and W̄ = c_w P (1 − W/ε) (unrolled) or c_w P (envelope). */
static double sinkhorn_value_and_seed(otk_sinkd *sd, int want_grad)
{
    const size_t B = sd->B;
    const int nt = sd->threads;
    const otk_kernels *kern = sd->kern;
    const double inv_eps = 1.0 / sd->par.eps, cw = sd->par.weight;
    const double *u = sd->uv + (size_t)(sd->par.iters - 1) * 2 * B, *v = u + B;
    const int envelope = sd->par.grad == OTK_SINKD_GRAD_ENVELOPE;
    /* The kernel domain's plan: r_i K_ij c_j (K in Wt; scratch, see
     * otk_sinkd_alloc). */
    const double *K = sd->Wt;
    double *r = sd->zeros + 2 * B, *c = sd->zeros + B;
    if (sd->kdom)
        kernel_scalings(sd, u, v, r, c);
    OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B),
                     schedule(static) num_threads(nt),
    for (size_t i = 0; i < B; i++) {
        double p[OTK_TILE];
        double s = 0.0;
        for (size_t j0 = 0; j0 < B; j0 += OTK_TILE) {
            const size_t T = B - j0 < OTK_TILE ? B - j0 : OTK_TILE;
            const double *w = sd->W + i * B + j0;
            if (sd->kdom)
                for (size_t t = 0; t < T; t++)
                    p[t] = r[i] * K[i * B + j0 + t] * c[j0 + t];
            else
                kern->plan_weights(w, v + j0, T, u[i], inv_eps, p);
            s += kern->dot(p, w, T);
            if (want_grad) {
                double *wb = sd->W_bar + i * B + j0;
                for (size_t t = 0; t < T; t++)
                    wb[t] = envelope ? cw * p[t] : cw * p[t] * (1.0 - w[t] * inv_eps);
            }
        }
        sd->u_bar[i] = cw * s;
    });
    double L = 0.0;
    for (size_t i = 0; i < B; i++)
        L += sd->u_bar[i];
    if (want_grad && !envelope && sd->kdom) {
        if (team_worth(sd)) {
#pragma omp parallel num_threads(nt)
            col_products(sd, K, sd->W, r, sd->v_bar);
        } else {
            col_products(sd, K, sd->W, r, sd->v_bar);
        }
        for (size_t j = 0; j < B; j++)
            sd->v_bar[j] *= cw * c[j];
    } else if (want_grad && !envelope) {
        OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B),
                         schedule(static) num_threads(nt),
        for (size_t j = 0; j < B; j++)
            sd->v_bar[j] = cw * plan_row_dot(kern, sd->Wt + j * B, u, B, v[j], inv_eps,
                                             sd->Wt + j * B);
        );
    }
    return L;
}

/* The reverse mode of sinkhorn_adjoint (below) in the kernel domain:
 * Q_ij = r_i K_ij cq_j, R_ij = r_i K_ij cr_j
 * (kernel_scalings of u^k against v^k and v^{k−1}), so that
 *   Σ_j v̄_j Q_ij = r_i Σ_j K_ij y_j,  y = cq∘v̄,   W̄_i += (r_i/ε) y∘K_i,
 *   W̄_i += (ū_i r_i/ε) cr∘K_i,   v̄^{k−1}_j = −cr_j Σ_i ū_i r_i K_ij.
 * K is the same in every step, so W̄'s updates add up to
 *   W̄ += (K/ε) ∘ Σ_k (r^k y^kᵀ + (ū^k∘r^k) cr^kᵀ),
 * a rank-2·iters matrix formed once at the end (per row, by tiles), where
 * adding each step's two terms read and wrote all of W̄ 2·iters times.  The
 * step's vectors r, y, ū∘r and cr are kept in sd->lr (slot k).
 * One pass over the iterations, see team_worth. */
static void kernel_adjoint_steps(otk_sinkd *sd)
{
    const size_t B = sd->B;
    const int iters = sd->par.iters;
    const otk_kernels *kern = sd->kern;
    const double inv_eps = 1.0 / sd->par.eps;
    const double *K = sd->Wt;
    double *u_bar = sd->u_bar, *v_bar = sd->v_bar;
    for (int k = iters - 1; k >= 0; k--) {
        const double *u = sd->uv + (size_t)k * 2 * B, *v = u + B;
        const double *v_prev = k > 0 ? u - B : sd->zeros;
        double *r = sd->lr + (size_t)k * 4 * B, *y = r + B, *ru = r + 2 * B, *cr = r + 3 * B;
#pragma omp single
        {
            if (k < iters - 1) { /* finish v̄^k from the previous pass's column sums */
                const double *cr_next = cr + 4 * B;
                for (size_t j = 0; j < B; j++)
                    v_bar[j] *= -cr_next[j];
                memset(u_bar, 0, B * sizeof(double));
            }
            const double a = kernel_scalings(sd, u, v, r, y); /* y = cq for now */
            kern->exp_affine(v_prev, B, 1.0, -a, cr);
            for (size_t j = 0; j < B; j++)
                y[j] *= v_bar[j];
        }
#pragma omp for schedule(static)
        for (size_t i0 = 0; i0 < B; i0 += OTK_SQ_ROWS) {
            const size_t R = B - i0 < OTK_SQ_ROWS ? B - i0 : OTK_SQ_ROWS;
            double d[OTK_SQ_ROWS];
            kern->dot_rows(K + i0 * B, B, R, y, B, d);
            for (size_t q = 0; q < R; q++) {
                const size_t i = i0 + q;
                u_bar[i] -= r[i] * d[q];
                ru[i] = u_bar[i] * r[i];
            }
        }
        if (k == 0)
            break; /* v^(0) is a constant */
        col_products(sd, K, NULL, ru, v_bar);
    }
#pragma omp for schedule(static)
    for (size_t i = 0; i < B; i++) {
        double t[OTK_TILE], c[64];
        double *wb = sd->W_bar + i * B;
        for (size_t j0 = 0; j0 < B; j0 += OTK_TILE) {
            const size_t T = B - j0 < OTK_TILE ? B - j0 : OTK_TILE;
            memset(t, 0, T * sizeof *t);
            for (size_t k0 = 0; k0 < (size_t)iters; k0 += 32) { /* Σ_k r_i y_j + (ū r)_i cr_j */
                const size_t kn = (size_t)iters - k0 < 32 ? (size_t)iters - k0 : 32;
                const double *slot = sd->lr + k0 * 4 * B;
                for (size_t q = 0; q < kn; q++) {
                    c[q] = slot[q * 4 * B + i];
                    c[32 + q] = slot[q * 4 * B + 2 * B + i];
                }
                kern->axpy_rows(slot + B + j0, 4 * B, kn, c, T, t);
                kern->axpy_rows(slot + 3 * B + j0, 4 * B, kn, c + 32, T, t);
            }
            kern->axpy_prod(inv_eps, K + i * B + j0, t, T, wb + j0);
        }
    }
}

static void kernel_adjoint(otk_sinkd *sd)
{
    if (team_worth(sd)) {
#pragma omp parallel num_threads(sd->threads)
        kernel_adjoint_steps(sd);
    } else {
        kernel_adjoint_steps(sd);
    }
}

/* Reverse mode through the unrolled iterations (docs/math.md D.1, decision 5).
 * Iteration k: u^k = −LSE_j(v^{k−1}_j − W_ij/ε) (row step), then
 * v^k = −LSE_i(u^k_i − W_ij/ε) (column step).  With ū, v̄ the adjoints of
 * u^k, v^k:
 *   column step, Q_ij = exp(u^k_i + v^k_j − W_ij/ε):
 *     ū_i −= Σ_j v̄_j Q_ij,          W̄_ij += v̄_j Q_ij/ε;
 *   row step, R_ij = exp(u^k_i + v^{k−1}_j − W_ij/ε):
 *     v̄^{k−1}_j = −Σ_i ū_i R_ij,    W̄_ij += ū_i R_ij/ε;
 * u^{k−1} feeds only column step k−1, so its adjoint restarts at 0.  The row
 * pass updates ū and W̄ (rows of W); the column pass forms v̄^{k−1} from Wt. */
static void sinkhorn_adjoint(otk_sinkd *sd)
{
    const size_t B = sd->B;
    const int nt = sd->threads;
    const otk_kernels *kern = sd->kern;
    const double inv_eps = 1.0 / sd->par.eps;
    double *u_bar = sd->u_bar, *v_bar = sd->v_bar;
    if (sd->kdom) {
        kernel_adjoint(sd);
        return;
    }
    for (int k = sd->par.iters - 1; k >= 0; k--) {
        const double *u = sd->uv + (size_t)k * 2 * B, *v = u + B;
        const double *v_prev = k > 0 ? u - B : sd->zeros; /* v^(0) = 0 */
        OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B),
                         schedule(static) num_threads(nt),
        for (size_t i = 0; i < B; i++) {
            double q[OTK_TILE];
            double s = 0.0;
            for (size_t j0 = 0; j0 < B; j0 += OTK_TILE) {
                const size_t T = B - j0 < OTK_TILE ? B - j0 : OTK_TILE;
                kern->plan_weights(sd->W + i * B + j0, v + j0, T, u[i], inv_eps, q);
                s += kern->dot(v_bar + j0, q, T);
                kern->axpy_prod(inv_eps, v_bar + j0, q, T, sd->W_bar + i * B + j0);
            }
            const double ub = u_bar[i] - s;
            u_bar[i] = ub;
            for (size_t j0 = 0; j0 < B; j0 += OTK_TILE) {
                const size_t T = B - j0 < OTK_TILE ? B - j0 : OTK_TILE;
                kern->plan_weights(sd->W + i * B + j0, v_prev + j0, T, u[i], inv_eps, q);
                kern->axpy(ub * inv_eps, q, T, sd->W_bar + i * B + j0);
            }
        });
        if (k == 0)
            break; /* v^(0) is a constant */
        OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B),
                         schedule(static) num_threads(nt),
        for (size_t j = 0; j < B; j++)
            v_bar[j] = -plan_row_dot(kern, sd->Wt + j * B, u, B, v_prev[j], inv_eps, u_bar);
        );
        memset(u_bar, 0, B * sizeof(double));
    }
}

/* W̄ ← W̄·2φ'(s), the coefficient of (x − y) in ∂L/∂x for the euclidean-family
 * grounds (otk__ground_slope; l1's coefficient of sign(x − y) is W̄ itself):
 * once, not per tile. */
static void cost_coefficients(otk_sinkd *sd)
{
    const size_t B = sd->B;
    const otk_ground g = sd->par.ground;
    const double P = sd->par.power;
    if (g == OTK_GROUND_L1)
        return;
    const int nt = sd->threads;
    /* The squared grounds' slopes are constants: no s is kept for them. */
    OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B),
                     schedule(static) num_threads(nt),
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < B; j++)
            sd->W_bar[i * B + j] *=
                otk__ground_slope(g, P, sd->sq ? sd->sq[i * B + j] : 0.0);
    );
}

/* ∂L/∂Z from W̄ (after cost_coefficients): p̄ = Σ W̄ ∂c/∂p, then through the softmax at τ.
 * side 0: the student rows i (reduce over j); side 1: the teacher rows j. */
static void cost_backward(otk_sinkd *sd, int side, double *grad)
{
    const size_t B = sd->B, K = sd->K;
    const int nt = sd->threads;
    const double inv_tau = 1.0 / sd->par.tau;
    const double *mine = side == 0 ? sd->p_s : sd->p_t, *other = side == 0 ? sd->p_t : sd->p_s;
    const int l1 = sd->par.ground == OTK_GROUND_L1;
    /* l1: the other side in panels in sd->pT (p_t's since batch_cost), the
     * coefficients by rows of A (W̄; for the teacher W̄ᵀ, formed in sd->Wt,
     * no longer needed by then). */
    const double *A = sd->W_bar;
    if (l1 && side == 1) {
        to_panels(sd->p_s, B, K, sd->pT, nt);
        transpose(sd->W_bar, B, B, sd->Wt, nt);
        A = sd->Wt;
    }
    /* The grounds are symmetric functions of x − y, so with x the row's own
     * vector and y the other side's, ∂c/∂x = sign(x − y) (l1, 0 at
     * equality) or slope·(x − y) on both sides.  The squared grounds' tiles
     * as in batch_cost: zero coefficients (plan entries that underflowed)
     * are skipped, the others taken eight at a time, in increasing order of
     * the other side's row. */
    const size_t nblocks = (B + OTK_ROW_BLOCK - 1) / OTK_ROW_BLOCK;
    const otk_kernels *kern = sd->kern;
    OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, B * K),
                     schedule(dynamic, 1) num_threads(nt),
    for (size_t rb = 0; rb < nblocks; rb++) {
        const size_t r0 = rb * OTK_ROW_BLOCK;
        const size_t r1 = r0 + OTK_ROW_BLOCK < B ? r0 + OTK_ROW_BLOCK : B;
        double coef[OTK_ROW_BLOCK][OTK_COL_BLOCK];
        size_t who[OTK_ROW_BLOCK][OTK_COL_BLOCK], cnt[OTK_ROW_BLOCK];
        const double *ys[OTK_MULTI];
        double as[OTK_MULTI];
        memset(grad + r0 * K, 0, (r1 - r0) * K * sizeof(double));
        if (l1)
            l1_tiles(sd, mine, r0, r1, A, grad);
        for (size_t k0 = 0; k0 < K && !l1; k0 += OTK_K_BLOCK) {
            const size_t T = K - k0 < OTK_K_BLOCK ? K - k0 : OTK_K_BLOCK;
            for (size_t c0 = 0; c0 < B; c0 += OTK_COL_BLOCK) {
            const size_t c1 = c0 + OTK_COL_BLOCK < B ? c0 + OTK_COL_BLOCK : B;
            for (size_t r = r0; r < r1; r++) {
                size_t nz = 0;
                for (size_t o = c0; o < c1; o++) {
                    const size_t ij = side == 0 ? r * B + o : o * B + r;
                    const double cf = sd->W_bar[ij];
                    if (cf != 0.0) {
                        coef[r - r0][nz] = cf;
                        who[r - r0][nz++] = o;
                    }
                }
                cnt[r - r0] = nz;
            }
                for (size_t r = r0; r < r1; r++) {
                    const double *x = mine + r * K + k0;
                    double *gr = grad + r * K + k0;
                    const double *cf = coef[r - r0];
                    const size_t *w = who[r - r0], nz = cnt[r - r0];
                    size_t q = 0;
                    for (; q + OTK_MULTI <= nz; q += OTK_MULTI) {
                        for (int o = 0; o < OTK_MULTI; o++) {
                            ys[o] = other + w[q + (size_t)o] * K + k0;
                            as[o] = cf[q + (size_t)o];
                        }
                        kern->diff_axpy_multi(as, x, ys, T, gr);
                    }
                    for (; q < nz; q++)
                        kern->diff_axpy(cf[q], x, other + w[q] * K + k0, T, gr);
                }
            }
        }
        for (size_t r = r0; r < r1; r++)
            softmax_backward(mine + r * K, K, inv_tau, grad + r * K);
    });
}

/* ----------------------------------------------------------- entry points */

static otk_status sinkd_check_inputs(const otk_sinkd *sd, const double *z_s, const double *z_t)
{
    otk_status st = check_logits("z_s", z_s, sd->B, sd->K);
    if (st == OTK_SUCCESS)
        st = check_logits("z_t", z_t, sd->B, sd->K);
    return st;
}

/* The SinKD value, and its gradients when asked (inputs already checked). */
static double sinkd_run(otk_sinkd *sd, const double *z_s, const double *z_t, double *grad_s,
                        double *grad_t)
{
    const int want_grad = grad_s || grad_t;
    softmax_rows(sd->kern, z_s, sd->B, sd->K, sd->par.tau, sd->p_s, sd->threads);
    softmax_rows(sd->kern, z_t, sd->B, sd->K, sd->par.tau, sd->p_t, sd->threads);
    batch_cost(sd);
    sinkhorn_forward(sd);
    const double L = sinkhorn_value_and_seed(sd, want_grad);
    if (!want_grad)
        return L;
    if (sd->par.grad == OTK_SINKD_GRAD_UNROLLED)
        sinkhorn_adjoint(sd);
    cost_coefficients(sd);
    if (grad_s)
        cost_backward(sd, 0, grad_s);
    if (grad_t)
        cost_backward(sd, 1, grad_t);
    return L;
}

otk_status otk_sinkd_loss(otk_sinkd *sd, const double *z_s, const double *z_t, double *loss,
                          double *grad_s, double *grad_t)
{
    if (!sd || !z_s || !z_t || !loss)
        return otk__fail(OTK_ENULL, "%s is NULL",
                         !sd ? "sd" : !z_s ? "z_s" : !z_t ? "z_t" : "loss");
    otk_status st = sinkd_check_inputs(sd, z_s, z_t);
    if (st != OTK_SUCCESS)
        return st;
    *loss = sinkd_run(sd, z_s, z_t, grad_s, grad_t);
    return OTK_SUCCESS;
}

/* The combined objective with the KD term either a baseline (fkd NULL: kind
 * kd at kd_tau) or the f-divergence D_f(p_t ‖ p_s) of `fkd` (otkit/fdiv.h). */
static otk_status sinkd_objective(otk_sinkd *sd, const double *z_s, const double *z_t,
                                  const int *labels, double alpha, double beta,
                                  otk_kd_divergence kd, double kd_tau,
                                  const otk_fdiv_params *fkd,
                                  otk_sinkd_objective_parts *parts, double *grad_s)
{
    if (!sd || !z_s || !z_t || !labels)
        return otk__fail(OTK_ENULL, "%s is NULL",
                         !sd ? "sd" : !z_s ? "z_s" : !z_t ? "z_t" : "labels");
    if (!(alpha >= 0.0 && alpha <= 1.0))
        return otk__fail(OTK_EPARAM, "alpha = %g must be in [0, 1]", alpha);
    if (!(beta >= 0.0) || !isfinite(beta))
        return otk__fail(OTK_EPARAM, "beta = %g must be finite and >= 0", beta);
    otk_status st = fkd ? otk__fdiv_check_kd(fkd) : check_kind(kd);
    if (st == OTK_SUCCESS && !fkd)
        st = check_tau("kd_tau", kd_tau);
    if (st != OTK_SUCCESS)
        return st;
    const size_t B = sd->B, K = sd->K;
    for (size_t i = 0; i < B; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= K)
            return otk__fail(OTK_ERANGE, "labels[%zu] = %d is not in [0, %zu)", i, labels[i], K);
    st = sinkd_check_inputs(sd, z_s, z_t);
    if (st != OTK_SUCCESS)
        return st;

    const int nt = sd->threads;
    double kd_value;
    if (fkd) { /* first, so that an overflow leaves grad_s untouched */
        const double scale = fkd->scale_tau2 ? fkd->tau * fkd->tau : 1.0;
        st = otk__fdiv_logits_rows(fkd, B, K, z_t, z_s, scale, 0.0, sd->row_loss, NULL, NULL,
                                   nt);
        if (st != OTK_SUCCESS)
            return st;
    }
    const double sinkd = sinkd_run(sd, z_s, z_t, grad_s, NULL);
    if (grad_s)
        for (size_t n = 0; n < B * K; n++)
            grad_s[n] *= beta;
    if (fkd) {
        const double scale = fkd->scale_tau2 ? fkd->tau * fkd->tau : 1.0;
        if (grad_s) /* the same values again, now with the gradient */
            (void)otk__fdiv_logits_rows(fkd, B, K, z_t, z_s, scale, alpha / (double)B,
                                        sd->row_loss, NULL, grad_s, nt);
        double s = 0.0;
        for (size_t i = 0; i < B; i++)
            s += sd->row_loss[i];
        kd_value = s / (double)B;
    } else {
        kd_value = kd_batch(kd, B, K, z_s, z_t, kd_tau, alpha, grad_s, sd->row_loss, nt);
    }
    /* CE = (1/B) Σ_i [LSE(z_s,i) − z_s,i[y_i]]; ∂/∂z = (softmax(z_s,i) − e_y)/B. */
    const double inv_B = 1.0 / (double)B, gce = (1.0 - alpha) * inv_B;
    OTK_PARALLEL_FOR(otk__parallel_worth(nt, B, K),
                     schedule(static) num_threads(nt),
    for (size_t i = 0; i < B; i++) {
        const double *z = z_s + i * K;
        const double lse = otk__softmax_lse(z, K, 1.0);
        sd->row_loss[i] = lse - z[labels[i]];
        if (grad_s) {
            double *g = grad_s + i * K;
            for (size_t k = 0; k < K; k++)
                g[k] += gce * exp(z[k] - lse);
            g[labels[i]] -= gce;
        }
    });
    double ce = 0.0;
    for (size_t i = 0; i < B; i++)
        ce += sd->row_loss[i];
    ce *= inv_B;
    if (parts) {
        parts->kd = kd_value;
        parts->ce = ce;
        parts->sinkd = sinkd;
        parts->total = alpha * kd_value + (1.0 - alpha) * ce + beta * sinkd;
    }
    return OTK_SUCCESS;
}

otk_status otk_sinkd_objective(otk_sinkd *sd, const double *z_s, const double *z_t,
                               const int *labels, double alpha, double beta,
                               otk_kd_divergence kd, double kd_tau,
                               otk_sinkd_objective_parts *parts, double *grad_s)
{
    return sinkd_objective(sd, z_s, z_t, labels, alpha, beta, kd, kd_tau, NULL, parts, grad_s);
}

otk_status otk_sinkd_objective_fdiv(otk_sinkd *sd, const double *z_s, const double *z_t,
                                    const int *labels, double alpha, double beta,
                                    const otk_fdiv_params *kd,
                                    otk_sinkd_objective_parts *parts, double *grad_s)
{
    if (!kd)
        return otk__fail(OTK_ENULL, "kd is NULL");
    return sinkd_objective(sd, z_s, z_t, labels, alpha, beta, OTK_KD_KL, 1.0, kd, parts, grad_s);
}

/* ------------------------------------------------ regression (STS-B) form */

otk_status otk_sinkd_regression_objective(size_t B, const double *s, const double *t,
                                          const double *y, double alpha, double tau,
                                          otk_sinkd_objective_parts *parts, double *grad_s)
{
    if (!s || !t || !y)
        return otk__fail(OTK_ENULL, "%s is NULL", !s ? "s" : !t ? "t" : "y");
    if (B == 0)
        return otk__fail(OTK_ESIZE, "B must be > 0");
    if (!(alpha >= 0.0 && alpha <= 1.0))
        return otk__fail(OTK_EPARAM, "alpha = %g must be in [0, 1]", alpha);
    otk_status st = check_tau("tau", tau);
    if (st == OTK_SUCCESS)
        st = otk__check_finite("s", s, B);
    if (st == OTK_SUCCESS)
        st = otk__check_finite("t", t, B);
    if (st == OTK_SUCCESS)
        st = otk__check_finite("y", y, B);
    if (st != OTK_SUCCESS)
        return st;
    const double inv_B = 1.0 / (double)B, it2 = 1.0 / (tau * tau);
    double kd = 0.0, mse = 0.0;
    for (size_t i = 0; i < B; i++) {
        const double d = s[i] - t[i], e = s[i] - y[i];
        kd += d * d;
        mse += e * e;
        if (grad_s)
            grad_s[i] = 2.0 * inv_B * (alpha * it2 * d + (1.0 - alpha) * e);
    }
    kd *= it2 * inv_B;
    mse *= inv_B;
    if (parts) {
        parts->kd = kd;
        parts->ce = mse;
        parts->sinkd = 0.0;
        parts->total = alpha * kd + (1.0 - alpha) * mse;
    }
    return OTK_SUCCESS;
}
