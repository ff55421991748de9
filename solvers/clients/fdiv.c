/* f-divergences between discrete distributions (docs/fdiv.md), from
 * probabilities or from logits, with their gradients; the population
 * stability index and the information value of binned data.  The KD baselines
 * of otkit/distill.h (KL, reverse KL, JS) are computed here too. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/fdiv.h"
#include "internal.h"

void otk_fdiv_params_default(otk_fdiv_params *params)
{
    if (!params)
        return;
    params->kind = OTK_FDIV_KL;
    params->alpha = 0.0;
    params->generator = NULL;
    params->tau = 1.0;
    params->scale_tau2 = 0;
    params->smoothing = 0.0;
    params->reduction = OTK_REDUCTION_MEAN;
    params->threads = 0;
}

/* ---------------------------------------------------- scalar primitives */

/* Beyond this |x|, e^x is formed in the log domain (e^300 squared still fits). */
#define OTK_FDIV_DIRECT 300.0

/* r·expm1(x) with r = e^{lr}, without overflow of expm1(x) alone. */
static double scaled_expm1(double r, double lr, double x)
{
    if (x < OTK_FDIV_DIRECT)
        return r * expm1(x);
    return exp(lr + x) - r;
}

/* r·expm1(x)² with r = e^{lr}. */
static double scaled_expm1_sq(double r, double lr, double x)
{
    if (fabs(x) < OTK_FDIV_DIRECT) {
        const double e = expm1(x);
        return r * e * e;
    }
    /* |x| large: |expm1(x)| = e^x (1 − e^{−x}) or 1 − e^x. */
    const double l = x > 0.0 ? x + log1p(-exp(-x)) : log1p(-exp(x));
    return exp(lr + 2.0 * l);
}

/* (e^x − 1 − x)/γ with x = −γu, accurate for small |x| (series) and exact
 * (= 0) at γ = 0; only called with |x| < 0.5. */
static double expm1mx_over(double x, double gamma, double u)
{
    if (gamma == 0.0)
        return 0.0;
    /* e^x − 1 − x = x² Σ_{n>=0} x^n/(n+2)!; divided by γ: −u·x·Σ. */
    double term = 0.5, sum = 0.0;
    for (int n = 0; n < 30; n++) {
        sum += term;
        term *= x / (double)(n + 3);
        if (fabs(term) < 1e-18 * fabs(sum))
            break;
    }
    return -u * x * sum;
}

/* The α-divergence term and its a = p ∂/∂p, b = q ∂/∂q, written with
 * γ = (1 + α)/2 <= ½ (the other half by symmetry):
 *   D = [βp + γq − p^β q^γ]/(βγ),  β = 1 − γ;
 *   ∂D/∂p = (1 − t^{−γ})/γ = −expm1(−γu)/γ,  ∂D/∂q = −expm1(βu)/β,  u = log(p/q).
 * Near γ = 0 (α → −1, the KL(p‖q) end) D is rewritten as
 *   [p u − p + q − p (e^{−γu} − 1 + γu)/γ]/β,
 * which is KL(p‖q) + q − p at γ = 0 and has no cancellation in between. */
static void alpha_term(double gamma, double p, double q, double lp, double lq, double u,
                       double *v, double *a, double *b)
{
    const double beta = 1.0 - gamma;
    const double x = -gamma * u;
    if (fabs(gamma) >= 0.05) {
        *v = (beta * p + gamma * q - exp(beta * lp + gamma * lq)) / (beta * gamma);
    } else if (fabs(x) < 0.5) {
        *v = (p * u - p + q - p * expm1mx_over(x, gamma, u)) / beta;
    } else { /* p u cancels between the two parts */
        *v = ((p - exp(lp + x)) / gamma - p + q) / beta;
    }
    *a = gamma == 0.0 ? p * u : -scaled_expm1(p, lp, x) / gamma;
    *b = -scaled_expm1(q, lq, beta * u) / beta;
}

typedef struct {
    otk_fdiv_kind kind;
    double alpha;
    const otk_fdiv_generator *gen;
} fdiv_member;

/* One class's term v of D(p‖q) with a = p ∂v/∂p and b = q ∂v/∂q, for p, q > 0
 * given with their logarithms (lp, lq finite; p or q may have underflowed to 0
 * in the logits interface, the logarithms stay exact).  u = lp − lq. */
static void fdiv_term(const fdiv_member *m, double p, double q, double lp, double lq,
                      double *v, double *a, double *b)
{
    const double u = lp - lq;
    switch (m->kind) {
    case OTK_FDIV_KL:
        *v = p * u;
        *a = p * (u + 1.0);
        *b = -p;
        break;
    case OTK_FDIV_REVERSE_KL:
        *v = -q * u;
        *a = -q;
        *b = q * (1.0 - u);
        break;
    case OTK_FDIV_JEFFREYS:
        *v = (p - q) * u;
        *a = p * (u + 1.0) - q;
        *b = q * (1.0 - u) - p;
        break;
    case OTK_FDIV_JS: { /* log m = logaddexp(lp, lq) − log 2 */
        const double hi = lp > lq ? lp : lq, lo = lp > lq ? lq : lp;
        const double lm = hi + log1p(exp(lo - hi)) - M_LN2;
        *a = 0.5 * p * (lp - lm);
        *b = 0.5 * q * (lq - lm);
        *v = *a + *b;
        break;
    }
    case OTK_FDIV_TV: {
        const double s = u > 0.0 ? 0.5 : u < 0.0 ? -0.5 : 0.0;
        *v = 0.5 * fabs(p - q);
        *a = s * p;
        *b = -s * q;
        break;
    }
    case OTK_FDIV_HELLINGER: /* (√p − √q)² = q expm1(u/2)² */
        *v = scaled_expm1_sq(q, lq, 0.5 * u);
        *a = -scaled_expm1(p, lp, -0.5 * u);
        *b = -scaled_expm1(q, lq, 0.5 * u);
        break;
    case OTK_FDIV_PEARSON: /* q (t − 1)²; ∂/∂p = 2(t − 1), ∂/∂q = 1 − t² */
        *v = scaled_expm1_sq(q, lq, u);
        *a = 2.0 * scaled_expm1(p, lp, u);
        *b = -scaled_expm1(q, lq, 2.0 * u);
        break;
    case OTK_FDIV_NEYMAN: /* Pearson with p and q exchanged */
        *v = scaled_expm1_sq(p, lp, -u);
        *a = -scaled_expm1(p, lp, -2.0 * u);
        *b = 2.0 * scaled_expm1(q, lq, -u);
        break;
    case OTK_FDIV_ALPHA:
        if (m->alpha <= 0.0)
            alpha_term(0.5 * (1.0 + m->alpha), p, q, lp, lq, u, v, a, b);
        else /* D_α(p‖q) = D_{−α}(q‖p) */
            alpha_term(0.5 * (1.0 - m->alpha), q, p, lq, lp, -u, v, b, a);
        break;
    case OTK_FDIV_CUSTOM: {
        double df = 0.0;
        const double f = m->gen->fn(exp(u), &df, m->gen->user);
        *v = q * f;
        *a = p * df;
        *b = q * f - p * df;
        break;
    }
    }
}

/* The term and its partial derivatives gp = ∂v/∂p, gq = ∂v/∂q where p or q
 * is 0 (the limits of q f(p/q), header comment).  Infinite values are ±∞;
 * an unavailable derivative is NaN. */
static void fdiv_term_at_zero(const fdiv_member *m, double p, double q, double *v, double *gp,
                              double *gq)
{
    if (p == 0.0 && q == 0.0) { /* v = 0, the derivatives along p = q (t = 1) */
        double a, b;
        fdiv_term(m, 1.0, 1.0, 0.0, 0.0, v, &a, &b);
        *v = 0.0;
        *gp = a;
        *gq = b;
        return;
    }
    if (p == 0.0) { /* exchange the roles: the reverse member at q' = 0 < p' */
        fdiv_member r = *m;
        switch (m->kind) {
        case OTK_FDIV_KL: r.kind = OTK_FDIV_REVERSE_KL; break;
        case OTK_FDIV_REVERSE_KL: r.kind = OTK_FDIV_KL; break;
        case OTK_FDIV_PEARSON: r.kind = OTK_FDIV_NEYMAN; break;
        case OTK_FDIV_NEYMAN: r.kind = OTK_FDIV_PEARSON; break;
        case OTK_FDIV_ALPHA: r.alpha = -m->alpha; break;
        case OTK_FDIV_CUSTOM: { /* q f(0); ∂/∂p = f'(0), ∂/∂q = f(0) */
            double df = 0.0;
            const double f = m->gen->fn(0.0, &df, m->gen->user);
            *v = q * f;
            *gp = df;
            *gq = f;
            return;
        }
        default: break; /* symmetric members */
        }
        fdiv_term_at_zero(&r, q, 0.0, v, gq, gp);
        return;
    }
    /* q = 0 < p: v = p·s with s = lim f(t)/t; ∂/∂p = s; ∂/∂q = lim f − t f'. */
    double s = INFINITY, dq = -INFINITY;
    switch (m->kind) {
    case OTK_FDIV_KL:
    case OTK_FDIV_JEFFREYS:
    case OTK_FDIV_PEARSON: break;
    case OTK_FDIV_REVERSE_KL: s = 0.0; break;
    case OTK_FDIV_JS: s = 0.5 * M_LN2; break;
    case OTK_FDIV_TV: s = 0.5; dq = -0.5; break;
    case OTK_FDIV_HELLINGER: s = 1.0; break;
    case OTK_FDIV_NEYMAN: s = 1.0; dq = -2.0; break;
    case OTK_FDIV_ALPHA: { /* β = (1 − α)/2 */
        const double beta = 0.5 * (1.0 - m->alpha);
        if (beta < 1.0)
            s = 1.0 / (1.0 - beta);
        if (beta < 0.0)
            dq = 1.0 / beta;
        break;
    }
    case OTK_FDIV_CUSTOM: s = m->gen->slope_at_infinity; dq = NAN; break;
    }
    *v = s == 0.0 ? 0.0 : p * s;
    *gp = s;
    *gq = dq;
}

/* ------------------------------------------------------------ validation */

static otk_status check_member(const otk_fdiv_params *par)
{
    if (!otk_fdiv_kind_name(par->kind))
        return otk__fail(OTK_EPARAM, "params.kind = %d is not an otk_fdiv_kind", (int)par->kind);
    if (par->kind == OTK_FDIV_ALPHA && !isfinite(par->alpha))
        return otk__fail(OTK_EPARAM, "params.alpha = %g must be finite", par->alpha);
    if (par->kind == OTK_FDIV_CUSTOM && (!par->generator || !par->generator->fn))
        return otk__fail(OTK_EPARAM, "params.generator%s is NULL for kind \"custom\"",
                         par->generator ? "->fn" : "");
    if (!otk_reduction_kind_name(par->reduction))
        return otk__fail(OTK_EPARAM, "params.reduction = %d is not an otk_reduction_kind",
                         (int)par->reduction);
    if (par->threads < 0)
        return otk__fail(OTK_EPARAM, "params.threads = %d must be >= 0", par->threads);
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

static otk_status check_table(const char *what, const double *x, size_t B, size_t K,
                              int nonnegative)
{
    for (size_t i = 0; i < B; i++)
        for (size_t k = 0; k < K; k++) {
            const double v = x[i * K + k];
            if (!isfinite(v))
                return otk__fail(OTK_ENONFINITE, "%s[%zu][%zu] = %g is not finite", what, i, k, v);
            if (nonnegative && v < 0.0)
                return otk__fail(OTK_ENEGATIVE, "%s[%zu][%zu] = %g is negative", what, i, k, v);
        }
    return OTK_SUCCESS;
}

/* ------------------------------------------------------------ the rows */

double otk__softmax_lse(const double *z, size_t K, double inv_tau)
{
    double mx = z[0];
    for (size_t k = 1; k < K; k++)
        mx = z[k] > mx ? z[k] : mx;
    mx *= inv_tau;
    double s = 0.0;
    for (size_t k = 0; k < K; k++)
        s += exp(z[k] * inv_tau - mx);
    return mx + log(s);
}

/* One row from logits: the value, and gscale·∂/∂z added to gp, gq (may be
 * NULL).  Returns 0, or 1 + the class of a non-finite term. */
static size_t logits_row(const fdiv_member *m, size_t K, const double *zp, const double *zq,
                         double tau, double gscale, double *gp, double *gq, double *value)
{
    const double it = 1.0 / tau;
    const double lse_p = otk__softmax_lse(zp, K, it), lse_q = otk__softmax_lse(zq, K, it);
    double sum = 0.0, sa = 0.0, sb = 0.0;
    for (size_t k = 0; k < K; k++) {
        const double lp = zp[k] * it - lse_p, lq = zq[k] * it - lse_q;
        double v, a, b;
        fdiv_term(m, exp(lp), exp(lq), lp, lq, &v, &a, &b);
        if (!isfinite(v) || !isfinite(a) || !isfinite(b))
            return k + 1;
        sum += v;
        sa += a;
        sb += b;
    }
    *value = sum;
    if (!gp && !gq)
        return 0;
    /* ∂/∂z_k = (1/τ)(a_k − p_k Σ_j a_j): the softmax chain rule with p∘g formed
     * per term, so that it stays finite where g alone is not.  At the most
     * likely class the difference cancels when p_k → 1; there it is formed as
     * a_k (1 − p_k) − p_k Σ_{j≠k} a_j with 1 − p_k = Σ_{j≠k} p_j. */
    const double c = gscale * it;
    size_t kp = 0, kq = 0;
    for (size_t k = 1; k < K; k++) {
        kp = zp[k] > zp[kp] ? k : kp;
        kq = zq[k] > zq[kq] ? k : kq;
    }
    double op = 0.0, oq = 0.0, ra = 0.0, rb = 0.0; /* Σ_{j≠k} p_j, q_j, a_j, b_j */
    for (size_t k = 0; k < K; k++) {
        const double lp = zp[k] * it - lse_p, lq = zq[k] * it - lse_q;
        const double p = exp(lp), q = exp(lq);
        double v, a, b;
        fdiv_term(m, p, q, lp, lq, &v, &a, &b);
        if (k != kp) {
            op += p;
            ra += a;
        }
        if (k != kq) {
            oq += q;
            rb += b;
        }
        if (gp)
            gp[k] += k == kp ? 0.0 : c * (a - p * sa);
        if (gq)
            gq[k] += k == kq ? 0.0 : c * (b - q * sb);
    }
    {
        const double lp = zp[kp] * it - lse_p, lq = zq[kp] * it - lse_q;
        const double p = exp(lp);
        double v, a, b;
        fdiv_term(m, p, exp(lq), lp, lq, &v, &a, &b);
        if (gp)
            gp[kp] += c * (a * op - p * ra);
    }
    {
        const double lp = zp[kq] * it - lse_p, lq = zq[kq] * it - lse_q;
        const double q = exp(lq);
        double v, a, b;
        fdiv_term(m, exp(lp), q, lp, lq, &v, &a, &b);
        if (gq)
            gq[kq] += c * (b * oq - q * rb);
    }
    return 0;
}

/* One row from probabilities (already smoothed): value and the partial
 * derivatives (written, not added, to gp, gq when not NULL).  Returns 0, or
 * 1 + the class of a requested non-finite derivative. */
static size_t probs_row(const fdiv_member *m, size_t K, const double *p, const double *q,
                        double *gp, double *gq, double *value)
{
    double sum = 0.0;
    for (size_t k = 0; k < K; k++) {
        double v, dp, dq;
        if (p[k] > 0.0 && q[k] > 0.0) {
            double a, b;
            fdiv_term(m, p[k], q[k], log(p[k]), log(q[k]), &v, &a, &b);
            dp = a / p[k];
            dq = b / q[k];
        } else {
            fdiv_term_at_zero(m, p[k], q[k], &v, &dp, &dq);
        }
        sum += v;
        if (gp) {
            if (!isfinite(dp))
                return k + 1;
            gp[k] = dp;
        }
        if (gq) {
            if (!isfinite(dq))
                return k + 1;
            gq[k] = dq;
        }
    }
    *value = sum;
    return 0;
}

/* Shared by otk_fdiv_logits and the KD losses of otkit/distill.h: the row
 * values times `scale` into rows[0..B), and gscale·scale·∂/∂z added to
 * grad_p, grad_q (may be NULL).  Inputs checked by the caller. */
otk_status otk__fdiv_logits_rows(const otk_fdiv_params *par, size_t B, size_t K,
                                 const double *z_p, const double *z_q, double scale,
                                 double gscale, double *rows, double *grad_p, double *grad_q,
                                 int threads)
{
    const fdiv_member m = {par->kind, par->alpha, par->generator};
    size_t bad_row = SIZE_MAX, bad_class = 0;
#pragma omp parallel for schedule(static) num_threads(threads) if (otk__parallel_worth(threads, B, K))
    for (size_t i = 0; i < B; i++) {
        const size_t bad = logits_row(&m, K, z_p + i * K, z_q + i * K, par->tau, gscale * scale,
                                      grad_p ? grad_p + i * K : NULL,
                                      grad_q ? grad_q + i * K : NULL, rows + i);
        if (bad) {
#pragma omp critical(otk_fdiv_bad)
            if (i < bad_row) {
                bad_row = i;
                bad_class = bad - 1;
            }
        } else {
            rows[i] *= scale;
        }
    }
    if (bad_row != SIZE_MAX)
        return otk__fail(OTK_ENUMERIC,
                         "the %s divergence of row %zu overflows at class %zu (a ratio of "
                         "probabilities beyond the double range)",
                         otk_fdiv_kind_name(par->kind), bad_row, bad_class);
    return OTK_SUCCESS;
}

/* The reduction of the row values into value[], in row order. */
static void reduce_rows(otk_reduction_kind red, const double *rows, size_t B, double *value)
{
    if (red == OTK_REDUCTION_NONE) {
        memcpy(value, rows, B * sizeof *value);
        return;
    }
    double s = 0.0;
    for (size_t i = 0; i < B; i++)
        s += rows[i];
    value[0] = red == OTK_REDUCTION_MEAN ? s / (double)B : s;
}

static otk_status check_common(const otk_fdiv_params *par, size_t B, size_t K)
{
    otk_status st = check_member(par);
    if (st == OTK_SUCCESS)
        st = check_sizes(B, K);
    return st;
}

otk_status otk__fdiv_check_kd(const otk_fdiv_params *par)
{
    otk_status st = check_member(par);
    if (st == OTK_SUCCESS && (!(par->tau > 0.0) || !isfinite(par->tau)))
        st = otk__fail(OTK_EPARAM, "kd->tau = %g must be finite and > 0", par->tau);
    if (st == OTK_SUCCESS && par->reduction != OTK_REDUCTION_MEAN)
        st = otk__fail(OTK_EPARAM, "kd->reduction = \"%s\": the objective takes the batch mean",
                       otk_reduction_kind_name(par->reduction) ? otk_reduction_kind_name(par->reduction) : "?");
    return st;
}

otk_status otk_fdiv_logits(const otk_fdiv_params *params, size_t B, size_t K, const double *z_p,
                           const double *z_q, double *value, double *grad_zp, double *grad_zq)
{
    if (!z_p || !z_q || !value)
        return otk__fail(OTK_ENULL, "%s is NULL", !z_p ? "z_p" : !z_q ? "z_q" : "value");
    otk_fdiv_params par;
    if (params)
        par = *params;
    else
        otk_fdiv_params_default(&par);
    otk_status st = check_common(&par, B, K);
    if (st == OTK_SUCCESS && (!(par.tau > 0.0) || !isfinite(par.tau)))
        st = otk__fail(OTK_EPARAM, "params.tau = %g must be finite and > 0", par.tau);
    if (st == OTK_SUCCESS)
        st = check_table("z_p", z_p, B, K, 0);
    if (st == OTK_SUCCESS)
        st = check_table("z_q", z_q, B, K, 0);
    if (st != OTK_SUCCESS)
        return st;
    double *rows = malloc(B * sizeof *rows);
    double *gp = grad_zp ? calloc(B * K, sizeof *gp) : NULL;
    double *gq = grad_zq ? calloc(B * K, sizeof *gq) : NULL;
    if (!rows || (grad_zp && !gp) || (grad_zq && !gq)) {
        free(rows);
        free(gp);
        free(gq);
        return otk__fail(OTK_ENOMEM, "out of memory for %zu×%zu values", B, K);
    }
    const double scale = par.scale_tau2 ? par.tau * par.tau : 1.0;
    const double gscale = par.reduction == OTK_REDUCTION_MEAN ? 1.0 / (double)B : 1.0;
    st = otk__fdiv_logits_rows(&par, B, K, z_p, z_q, scale, gscale, rows, gp, gq,
                               otk__threads(par.threads));
    if (st == OTK_SUCCESS) {
        reduce_rows(par.reduction, rows, B, value);
        if (gp)
            memcpy(grad_zp, gp, B * K * sizeof *gp);
        if (gq)
            memcpy(grad_zq, gq, B * K * sizeof *gq);
    }
    free(rows);
    free(gp);
    free(gq);
    return st;
}

/* (1 − s) r + s (Σ r)/K into out. */
static void smooth_row(const double *r, size_t K, double s, double *out)
{
    double mass = 0.0;
    for (size_t k = 0; k < K; k++)
        mass += r[k];
    const double add = s * mass / (double)K;
    for (size_t k = 0; k < K; k++)
        out[k] = (1.0 - s) * r[k] + add;
}

/* The chain rule of smooth_row in place: g ← (1 − s) g + (s/K) Σ g. */
static void smooth_backward(double *g, size_t K, double s)
{
    double sum = 0.0;
    for (size_t k = 0; k < K; k++)
        sum += g[k];
    const double add = s * sum / (double)K;
    for (size_t k = 0; k < K; k++)
        g[k] = (1.0 - s) * g[k] + add;
}

otk_status otk_fdiv_probs(const otk_fdiv_params *params, size_t B, size_t K, const double *p,
                          const double *q, double *value, double *grad_p, double *grad_q)
{
    if (!p || !q || !value)
        return otk__fail(OTK_ENULL, "%s is NULL", !p ? "p" : !q ? "q" : "value");
    otk_fdiv_params par;
    if (params)
        par = *params;
    else
        otk_fdiv_params_default(&par);
    otk_status st = check_common(&par, B, K);
    if (st == OTK_SUCCESS && !(par.smoothing >= 0.0 && par.smoothing < 1.0))
        st = otk__fail(OTK_EPARAM, "params.smoothing = %g must be in [0, 1)", par.smoothing);
    if (st == OTK_SUCCESS)
        st = check_table("p", p, B, K, 1);
    if (st == OTK_SUCCESS)
        st = check_table("q", q, B, K, 1);
    if (st != OTK_SUCCESS)
        return st;
    const int smooth = par.smoothing > 0.0;
    double *rows = malloc(B * sizeof *rows);
    double *gp = grad_p ? malloc(B * K * sizeof *gp) : NULL;
    double *gq = grad_q ? malloc(B * K * sizeof *gq) : NULL;
    double *sp = smooth ? malloc(B * K * sizeof *sp) : NULL;
    double *sq = smooth ? malloc(B * K * sizeof *sq) : NULL;
    if (!rows || (grad_p && !gp) || (grad_q && !gq) || (smooth && (!sp || !sq))) {
        free(rows);
        free(gp);
        free(gq);
        free(sp);
        free(sq);
        return otk__fail(OTK_ENOMEM, "out of memory for %zu×%zu values", B, K);
    }
    const fdiv_member m = {par.kind, par.alpha, par.generator};
    const int nt = otk__threads(par.threads);
    size_t bad_row = SIZE_MAX, bad_class = 0;
#pragma omp parallel for schedule(static) num_threads(nt) if (otk__parallel_worth(nt, B, K))
    for (size_t i = 0; i < B; i++) {
        const double *pi = p + i * K, *qi = q + i * K;
        if (smooth) {
            smooth_row(pi, K, par.smoothing, sp + i * K);
            smooth_row(qi, K, par.smoothing, sq + i * K);
            pi = sp + i * K;
            qi = sq + i * K;
        }
        double *gpi = gp ? gp + i * K : NULL, *gqi = gq ? gq + i * K : NULL;
        const size_t bad = probs_row(&m, K, pi, qi, gpi, gqi, rows + i);
        if (bad) {
#pragma omp critical(otk_fdiv_bad)
            if (i < bad_row) {
                bad_row = i;
                bad_class = bad - 1;
            }
            continue;
        }
        if (smooth) {
            if (gpi)
                smooth_backward(gpi, K, par.smoothing);
            if (gqi)
                smooth_backward(gqi, K, par.smoothing);
        }
    }
    if (bad_row != SIZE_MAX) {
        st = otk__fail(OTK_ENUMERIC,
                       "the gradient of the %s divergence is infinite or undefined at row %zu, "
                       "class %zu (p = %g, q = %g): use smoothing > 0 or the logits interface",
                       otk_fdiv_kind_name(par.kind), bad_row, bad_class,
                       p[bad_row * K + bad_class], q[bad_row * K + bad_class]);
    } else {
        reduce_rows(par.reduction, rows, B, value);
        const double gscale = par.reduction == OTK_REDUCTION_MEAN ? 1.0 / (double)B : 1.0;
        if (gp)
            for (size_t n = 0; n < B * K; n++)
                grad_p[n] = gscale * gp[n];
        if (gq)
            for (size_t n = 0; n < B * K; n++)
                grad_q[n] = gscale * gq[n];
    }
    free(rows);
    free(gp);
    free(gq);
    free(sp);
    free(sq);
    return st;
}

/* ------------------------------------------------------------ binned data */

void otk_bins_params_default(otk_bins_params *params)
{
    if (!params)
        return;
    params->binning = OTK_BINNING_QUANTILE;
    params->bins = 10;
    params->edges = NULL;
    params->n_edges = 0;
    params->floor = 1e-4;
}

/* Σ_i (a_i − e_i) ln(a_i/e_i) over shares with the zero-bin floor. */
otk_status otk_psi_counts(size_t m, const double *expected, const double *actual, double floor,
                          double *psi, double *per_bin)
{
    if (!expected || !actual || !psi)
        return otk__fail(OTK_ENULL, "%s is NULL",
                         !expected ? "expected" : !actual ? "actual" : "psi");
    if (m == 0)
        return otk__fail(OTK_ESIZE, "the number of bins must be > 0");
    if (!(floor >= 0.0 && floor < 1.0))
        return otk__fail(OTK_EPARAM, "floor = %g must be in [0, 1)", floor);
    double ne = 0.0, na = 0.0;
    otk_status st = otk__check_weights("expected", expected, m, &ne);
    if (st == OTK_SUCCESS)
        st = otk__check_weights("actual", actual, m, &na);
    if (st != OTK_SUCCESS)
        return st;
    double s = 0.0;
    for (size_t i = 0; i < m; i++) {
        double e = expected[i] / ne, a = actual[i] / na;
        e = e > 0.0 ? e : floor;
        a = a > 0.0 ? a : floor;
        double t;
        if (a == e)
            t = 0.0; /* also both floored to 0 */
        else if (a == 0.0 || e == 0.0)
            t = INFINITY;
        else
            t = (a - e) * log(a / e);
        if (per_bin)
            per_bin[i] = t;
        s += t;
    }
    *psi = s;
    return OTK_SUCCESS;
}

static int cmp_double(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The interior edges for `par` from the sample x (n values, finite), into
 * edges (room for bins − 1 or n_edges); returns their number (m − 1). */
static otk_status bin_edges(const otk_bins_params *par, const double *x, size_t n, double *edges,
                            size_t *n_out)
{
    if (par->binning == OTK_BINNING_EDGES) {
        for (size_t i = 0; i < par->n_edges; i++) {
            if (!isfinite(par->edges[i]))
                return otk__fail(OTK_ENONFINITE, "params.edges[%zu] = %g is not finite", i,
                                 par->edges[i]);
            if (i > 0 && !(par->edges[i] > par->edges[i - 1]))
                return otk__fail(OTK_EPARAM, "params.edges[%zu] = %g is not above edges[%zu] = %g",
                                 i, par->edges[i], i - 1, par->edges[i - 1]);
            edges[i] = par->edges[i];
        }
        *n_out = par->n_edges;
        return OTK_SUCCESS;
    }
    const size_t m = par->bins;
    double lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    size_t c = 0;
    if (par->binning == OTK_BINNING_EQUAL_WIDTH) {
        for (size_t k = 1; k < m; k++) {
            const double e = lo + (hi - lo) * (double)k / (double)m;
            if (c == 0 || e > edges[c - 1])
                edges[c++] = e;
        }
    } else {
        double *s = malloc(n * sizeof *s);
        if (!s)
            return otk__fail(OTK_ENOMEM, "out of memory for %zu sorted values", n);
        memcpy(s, x, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_double);
        for (size_t k = 1; k < m; k++) {
            /* NumPy's "linear" quantile: position h = (n − 1) k/m. */
            const double h = (double)(n - 1) * (double)k / (double)m;
            const size_t j = (size_t)floor(h);
            const double fr = h - (double)j;
            const double e = j + 1 < n ? s[j] + fr * (s[j + 1] - s[j]) : s[n - 1];
            if (c == 0 || e > edges[c - 1])
                edges[c++] = e;
        }
        free(s);
    }
    *n_out = c;
    return OTK_SUCCESS;
}

/* The bin of v: the number of edges strictly below v (right-closed bins). */
static size_t bin_of(const double *edges, size_t ne, double v)
{
    size_t lo = 0, hi = ne; /* edges[0..lo) < v <= edges[hi..) */
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (edges[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static otk_status check_bins_params(const otk_bins_params *par, size_t *room)
{
    if (!otk_binning_name(par->binning))
        return otk__fail(OTK_EPARAM, "params.binning = %d is not an otk_binning",
                         (int)par->binning);
    /* The calls hold edges and two count arrays of `room` doubles each: a
     * count whose 3·room doubles overflow size_t is refused before anything
     * is read or allocated. */
    if (par->binning == OTK_BINNING_EDGES) {
        if (par->n_edges > 0 && !par->edges)
            return otk__fail(OTK_ENULL, "params.edges is NULL with n_edges = %zu", par->n_edges);
        if (par->n_edges == SIZE_MAX || otk__array_overflows(par->n_edges + 1, 3, sizeof(double)))
            return otk__fail(OTK_ESIZE, "params.n_edges = %zu: the bins overflow size_t",
                             par->n_edges);
        *room = par->n_edges + 1;
    } else {
        if (par->bins < 1)
            return otk__fail(OTK_EPARAM, "params.bins = %zu must be >= 1", par->bins);
        if (otk__array_overflows(par->bins, 3, sizeof(double)))
            return otk__fail(OTK_ESIZE, "params.bins = %zu: the bins overflow size_t", par->bins);
        *room = par->bins;
    }
    if (!(par->floor >= 0.0 && par->floor < 1.0))
        return otk__fail(OTK_EPARAM, "params.floor = %g must be in [0, 1)", par->floor);
    return OTK_SUCCESS;
}

/* Edges from `from` (n values), then counts of x1 (weights 1) and, when x2
 * is not NULL, of x2, or split by the labels y of x1 (y != NULL). */
static otk_status binned_counts(const otk_bins_params *par, const double *from, size_t n_from,
                                const double *x1, const int *y, size_t n1, const double *x2,
                                size_t n2, double *edges, size_t *ne, double *c1, double *c2)
{
    otk_status st = bin_edges(par, from, n_from, edges, ne);
    if (st != OTK_SUCCESS)
        return st;
    memset(c1, 0, (*ne + 1) * sizeof *c1);
    memset(c2, 0, (*ne + 1) * sizeof *c2);
    for (size_t i = 0; i < n1; i++) {
        const size_t b = bin_of(edges, *ne, x1[i]);
        if (y && y[i] == 1)
            c2[b] += 1.0;
        else
            c1[b] += 1.0;
    }
    for (size_t i = 0; x2 && i < n2; i++)
        c2[bin_of(edges, *ne, x2[i])] += 1.0;
    return OTK_SUCCESS;
}

otk_status otk_psi(const otk_bins_params *params, const double *reference, size_t n_ref,
                   const double *actual, size_t n_act, double *psi, size_t *m_out,
                   double *edges_out, double *per_bin)
{
    if (!reference || !actual || !psi)
        return otk__fail(OTK_ENULL, "%s is NULL",
                         !reference ? "reference" : !actual ? "actual" : "psi");
    otk_bins_params par;
    if (params)
        par = *params;
    else
        otk_bins_params_default(&par);
    size_t room = 0;
    otk_status st = check_bins_params(&par, &room);
    if (st != OTK_SUCCESS)
        return st;
    if (n_ref == 0 || n_act == 0)
        return otk__fail(OTK_ESIZE, "n_ref = %zu and n_act = %zu must both be > 0", n_ref, n_act);
    st = otk__check_finite("reference", reference, n_ref);
    if (st == OTK_SUCCESS)
        st = otk__check_finite("actual", actual, n_act);
    if (st != OTK_SUCCESS)
        return st;
    double *buf = malloc(3 * room * sizeof *buf);
    if (!buf)
        return otk__fail(OTK_ENOMEM, "out of memory for %zu bins", room);
    double *edges = buf, *ce = buf + room, *ca = buf + 2 * room;
    size_t ne = 0;
    st = binned_counts(&par, reference, n_ref, reference, NULL, n_ref, actual, n_act, edges, &ne,
                       ce, ca);
    double value = 0.0;
    if (st == OTK_SUCCESS)
        st = otk_psi_counts(ne + 1, ce, ca, par.floor, &value, per_bin);
    if (st == OTK_SUCCESS) {
        *psi = value;
        if (m_out)
            *m_out = ne + 1;
        if (edges_out && ne)
            memcpy(edges_out, edges, ne * sizeof *edges);
    }
    free(buf);
    return st;
}

otk_status otk_information_value(const otk_bins_params *params, const double *x, const int *y,
                                 size_t n, double *iv, size_t *m_out, double *edges_out,
                                 double *woe)
{
    if (!x || !y || !iv)
        return otk__fail(OTK_ENULL, "%s is NULL", !x ? "x" : !y ? "y" : "iv");
    otk_bins_params par;
    if (params)
        par = *params;
    else
        otk_bins_params_default(&par);
    size_t room = 0;
    otk_status st = check_bins_params(&par, &room);
    if (st != OTK_SUCCESS)
        return st;
    if (n == 0)
        return otk__fail(OTK_ESIZE, "n must be > 0");
    st = otk__check_finite("x", x, n);
    if (st != OTK_SUCCESS)
        return st;
    size_t goods = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0 && y[i] != 1)
            return otk__fail(OTK_EPARAM, "y[%zu] = %d must be 0 (non-event) or 1 (event)", i,
                             y[i]);
        goods += y[i] == 0;
    }
    if (goods == 0 || goods == n)
        return otk__fail(OTK_EZEROMASS, "y has no %s: the information value needs both",
                         goods == 0 ? "non-events (0)" : "events (1)");
    double *buf = malloc(3 * room * sizeof *buf);
    if (!buf)
        return otk__fail(OTK_ENOMEM, "out of memory for %zu bins", room);
    double *edges = buf, *cg = buf + room, *cb = buf + 2 * room;
    size_t ne = 0;
    st = binned_counts(&par, x, n, x, y, n, NULL, 0, edges, &ne, cg, cb);
    double value = 0.0;
    /* IV is the PSI formula with goods as "actual" and bads as "expected". */
    if (st == OTK_SUCCESS)
        st = otk_psi_counts(ne + 1, cb, cg, par.floor, &value, NULL);
    if (st == OTK_SUCCESS) {
        *iv = value;
        if (m_out)
            *m_out = ne + 1;
        if (edges_out && ne)
            memcpy(edges_out, edges, ne * sizeof *edges);
        if (woe) {
            double ng = 0.0, nb = 0.0;
            for (size_t i = 0; i <= ne; i++) {
                ng += cg[i];
                nb += cb[i];
            }
            for (size_t i = 0; i <= ne; i++) {
                const double g = cg[i] > 0.0 ? cg[i] / ng : par.floor;
                const double b = cb[i] > 0.0 ? cb[i] / nb : par.floor;
                woe[i] = log(g / b);
            }
        }
    }
    free(buf);
    return st;
}
