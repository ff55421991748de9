/*
 * tests/test_fdiv.c — f-divergences, PSI and information value (otkit/fdiv.h).
 *
 * References: closed forms on a hand-computed pair of rows (the arithmetic is
 * in the comments), central finite differences for every gradient, the α
 * family's KL ends, and hand-counted histograms for PSI / IV.  SciPy's
 * rel_entr / jensenshannon are compared live in bindings/python/tests.
 */
#include "test_helpers.h"

/* The hand pair: p = (1/2, 1/4, 1/4), q = (1/8, 1/2, 3/8). */
static const double P3[3] = {0.5, 0.25, 0.25};
static const double Q3[3] = {0.125, 0.5, 0.375};

static double fdiv_value(otk_fdiv_kind kind, double alpha, const double *p, const double *q,
                         size_t K)
{
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    par.kind = kind;
    par.alpha = alpha;
    double v = NAN;
    TK_ASSERT_OK(otk_fdiv_probs(&par, 1, K, p, q, &v, NULL, NULL));
    return v;
}

/* The closed forms, each written out from the definitions of fdiv.h. */
static double hand_value(otk_fdiv_kind kind, double alpha)
{
    switch (kind) {
    case OTK_FDIV_KL: /* ½ ln(4) + ¼ ln(½) + ¼ ln(2/3) = ln 2 − ¼ ln 3 */
        return log(2.0) - 0.25 * log(3.0);
    case OTK_FDIV_REVERSE_KL: /* ⅛ ln(¼) + ½ ln 2 + ⅜ ln(3/2) = −⅛ ln 2 + ⅜ ln 3 */
        return -0.125 * log(2.0) + 0.375 * log(3.0);
    case OTK_FDIV_JEFFREYS: /* KL + reverse KL = ⅞ ln 2 + ⅛ ln 3 */
        return 0.875 * log(2.0) + 0.125 * log(3.0);
    case OTK_FDIV_JS: /* m = (5/16, 3/8, 5/16):
                       * ½[½ ln(8/5) + ¼ ln(2/3) + ¼ ln(4/5)] + ½[⅛ ln(2/5) + ½ ln(4/3) + ⅜ ln(6/5)] */
        return 0.5 * (0.5 * log(8.0 / 5) + 0.25 * log(2.0 / 3) + 0.25 * log(4.0 / 5)) +
               0.5 * (0.125 * log(2.0 / 5) + 0.5 * log(4.0 / 3) + 0.375 * log(6.0 / 5));
    case OTK_FDIV_TV: /* ½(3/8 + 1/4 + 1/8) = 3/8 */
        return 0.375;
    case OTK_FDIV_HELLINGER: /* (√½ − √⅛)² + (½ − √½)² + (½ − √⅜)²
                              * = ⅛ + (¾ − 1/√2) + (⅝ − √⅜) = 3/2 − 1/√2 − √(3/8) */
        return 1.5 - 1.0 / sqrt(2.0) - sqrt(0.375);
    case OTK_FDIV_PEARSON: /* (3/8)²/(1/8) + (1/4)²/(1/2) + (1/8)²/(3/8) = 9/8 + 1/8 + 1/24 = 31/24 */
        return 31.0 / 24.0;
    case OTK_FDIV_NEYMAN: /* (3/8)²/(1/2) + (1/4)²/(1/4) + (1/8)²/(1/4) = 9/32 + 8/32 + 2/32 = 19/32 */
        return 19.0 / 32.0;
    case OTK_FDIV_ALPHA:
        if (alpha == 0.0) /* 4 Σ [½p + ½q − √(pq)] = 2 Σ (√p − √q)² */
            return 2.0 * hand_value(OTK_FDIV_HELLINGER, 0.0);
        if (alpha == 0.5) /* 4/(1 − ¼) [¼ + ¾ − Σ p^¼ q^¾] = (16/3)(1 − Σ p^¼ q^¾) */
            return 16.0 / 3.0 *
                   (1.0 - (pow(0.5, 0.25) * pow(0.125, 0.75) + pow(0.25, 0.25) * pow(0.5, 0.75) +
                           pow(0.25, 0.25) * pow(0.375, 0.75)));
        if (alpha == 3.0) /* β = −1, γ = 2: −½[−1 + 2 − Σ q²/p] = ½ Σ (p − q)²/p = ½·19/32 */
            return 19.0 / 64.0;
        if (alpha == -3.0) /* β = 2, γ = −1: −½[2 − 1 − Σ p²/q] = ½ Σ (p − q)²/q = ½·31/24 */
            return 31.0 / 48.0;
        if (alpha == -1.0) /* the limit: KL(p‖q) (rows of equal mass) */
            return hand_value(OTK_FDIV_KL, 0.0);
        if (alpha == 1.0) /* KL(q‖p) */
            return hand_value(OTK_FDIV_REVERSE_KL, 0.0);
        return NAN;
    default:
        return NAN;
    }
}

START_TEST(test_fdiv_members_match_closed_forms)
{
    for (int kind = OTK_FDIV_KL; kind <= OTK_FDIV_NEYMAN; kind++)
        TK_ASSERT_REL(fdiv_value((otk_fdiv_kind)kind, 0.0, P3, Q3, 3),
                      hand_value((otk_fdiv_kind)kind, 0.0), 1e-14);
    const double alphas[] = {0.0, 0.5, 3.0, -3.0, -1.0, 1.0};
    for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++)
        TK_ASSERT_REL(fdiv_value(OTK_FDIV_ALPHA, alphas[a], P3, Q3, 3),
                      hand_value(OTK_FDIV_ALPHA, alphas[a]), 1e-13);
}
END_TEST

START_TEST(test_fdiv_logits_interface_matches_probabilities)
{
    /* z = τ log p + c: softmax(z/τ) = p; τ = 2, shifts c = 7 and −1000. */
    const double tau = 2.0;
    double zp[3], zq[3];
    for (int k = 0; k < 3; k++) {
        zp[k] = tau * log(P3[k]) + 7.0;
        zq[k] = tau * log(Q3[k]) - 1000.0;
    }
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    par.tau = tau;
    for (int kind = OTK_FDIV_KL; kind <= OTK_FDIV_ALPHA; kind++) {
        par.kind = (otk_fdiv_kind)kind;
        par.alpha = 0.5;
        par.scale_tau2 = 0;
        double v, v2;
        TK_ASSERT_OK(otk_fdiv_logits(&par, 1, 3, zp, zq, &v, NULL, NULL));
        const double ref = hand_value(par.kind, 0.5);
        TK_ASSERT_REL(v, ref, 1e-13);
        par.scale_tau2 = 1;
        TK_ASSERT_OK(otk_fdiv_logits(&par, 1, 3, zp, zq, &v2, NULL, NULL));
        TK_ASSERT_REL(v2, tau * tau * ref, 1e-13);
    }
}
END_TEST

/* Custom generators: f(t) = t log t is KL, f(t) = (t − 1)² is Pearson. */
static double gen_kl(double t, double *df, void *user)
{
    (void)user;
    if (df)
        *df = t > 0.0 ? log(t) + 1.0 : -INFINITY;
    return t > 0.0 ? t * log(t) : 0.0;
}

static double gen_pearson(double t, double *df, void *user)
{
    (void)user;
    if (df)
        *df = 2.0 * (t - 1.0);
    return (t - 1.0) * (t - 1.0);
}

START_TEST(test_fdiv_custom_generator_reproduces_members)
{
    otk_fdiv_generator g1 = {gen_kl, NULL, INFINITY}, g2 = {gen_pearson, NULL, INFINITY};
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    par.kind = OTK_FDIV_CUSTOM;
    par.generator = &g1;
    double v, gp[3], gq[3], rp[3], rq[3];
    TK_ASSERT_OK(otk_fdiv_probs(&par, 1, 3, P3, Q3, &v, gp, gq));
    TK_ASSERT_REL(v, hand_value(OTK_FDIV_KL, 0), 1e-14);
    par.kind = OTK_FDIV_KL;
    TK_ASSERT_OK(otk_fdiv_probs(&par, 1, 3, P3, Q3, &v, rp, rq));
    TK_ASSERT_VEC_ABS(gp, rp, 3, 1e-14, "custom KL grad_p");
    TK_ASSERT_VEC_ABS(gq, rq, 3, 1e-14, "custom KL grad_q");
    par.kind = OTK_FDIV_CUSTOM;
    par.generator = &g2;
    TK_ASSERT_OK(otk_fdiv_probs(&par, 1, 3, P3, Q3, &v, NULL, NULL));
    TK_ASSERT_REL(v, 31.0 / 24.0, 1e-14);
}
END_TEST

START_TEST(test_fdiv_alpha_is_continuous_through_the_kl_ends)
{
    /* D_α at α = ∓1 ± δ differs from KL by O(δ) (the derivative in α is
     * bounded); the tolerance 1e-5 admits that and nothing like the 1e-10
     * relative cancellation error of the plain formula... which we also bound
     * directly by comparing the two sides: |D(−1+δ) + D(−1−δ) − 2 KL| = O(δ²). */
    const double kl = hand_value(OTK_FDIV_KL, 0), rkl = hand_value(OTK_FDIV_REVERSE_KL, 0);
    const double d[] = {1e-6, 1e-9, 1e-12};
    for (int i = 0; i < 3; i++) {
        const double lo = fdiv_value(OTK_FDIV_ALPHA, -1.0 - d[i], P3, Q3, 3);
        const double hi = fdiv_value(OTK_FDIV_ALPHA, -1.0 + d[i], P3, Q3, 3);
        ck_assert_msg(fabs(lo - kl) <= 10 * d[i] * kl && fabs(hi - kl) <= 10 * d[i] * kl,
                      "alpha = -1 -+ %g: %.17g %.17g vs KL %.17g", d[i], lo, hi, kl);
        ck_assert_msg(fabs(lo + hi - 2.0 * kl) <= 1e-14 + 10 * d[i] * d[i],
                      "alpha = -1: symmetric difference %.3g", lo + hi - 2.0 * kl);
        const double lo1 = fdiv_value(OTK_FDIV_ALPHA, 1.0 - d[i], P3, Q3, 3);
        const double hi1 = fdiv_value(OTK_FDIV_ALPHA, 1.0 + d[i], P3, Q3, 3);
        ck_assert_msg(fabs(lo1 - rkl) <= 10 * d[i] * rkl && fabs(hi1 - rkl) <= 10 * d[i] * rkl,
                      "alpha = 1 -+ %g: %.17g %.17g vs reverse KL %.17g", d[i], lo1, hi1, rkl);
        ck_assert_msg(fabs(lo1 + hi1 - 2.0 * rkl) <= 1e-14 + 10 * d[i] * d[i],
                      "alpha = 1: symmetric difference %.3g", lo1 + hi1 - 2.0 * rkl);
    }
    /* Near (not at) the ends the rewritten form is used (|1 ± α| < 0.1): it
     * must equal the plain formula 4/(1−α²) Σ [(1−α)/2 p + (1+α)/2 q −
     * p^{(1−α)/2} q^{(1+α)/2}], which is still accurate to ~1e-13 here; the
     * second pair has ratios e^{±13.8} (|γ log t| > 0.5, the other branch). */
    const double P2[2] = {1.0 - 1e-6, 1e-6}, Q2[2] = {1e-6, 1.0 - 1e-6};
    const double near[] = {-0.95, -0.92, -1.06, 0.93, 1.08, -0.999};
    for (size_t a = 0; a < sizeof near / sizeof near[0]; a++)
        for (int pair = 0; pair < 2; pair++) {
            const double al = near[a], *pp = pair ? P2 : P3, *qq = pair ? Q2 : Q3;
            const size_t K = pair ? 2 : 3;
            double plain = 0.0;
            for (size_t k = 0; k < K; k++)
                plain += 0.5 * (1 - al) * pp[k] + 0.5 * (1 + al) * qq[k] -
                         pow(pp[k], 0.5 * (1 - al)) * pow(qq[k], 0.5 * (1 + al));
            plain *= 4.0 / (1.0 - al * al);
            TK_ASSERT_REL(fdiv_value(OTK_FDIV_ALPHA, al, pp, qq, K), plain, 2e-12);
        }
    /* Exactly at the ends: KL itself, with the gradients of KL + Σ(q − p). */
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    par.kind = OTK_FDIV_ALPHA;
    par.alpha = -1.0;
    double v, gp[3], gq[3];
    TK_ASSERT_OK(otk_fdiv_probs(&par, 1, 3, P3, Q3, &v, gp, gq));
    TK_ASSERT_REL(v, kl, 1e-15);
    for (int k = 0; k < 3; k++) { /* ∂/∂p = log(p/q), ∂/∂q = 1 − p/q */
        TK_ASSERT_ABS(gp[k], log(P3[k] / Q3[k]), 1e-15);
        TK_ASSERT_ABS(gq[k], 1.0 - P3[k] / Q3[k], 1e-15);
    }
}
END_TEST

/* ------------------------------------------------------ finite differences */

typedef struct {
    otk_fdiv_params par;
    size_t B, K;
    const double *x, *y;
    int side; /* 0: perturb the first argument, 1: the second */
    int logits;
} fd_ctx;

static double fd_value(fd_ctx *c, const double *z)
{
    const double *a = c->side == 0 ? z : c->x, *b = c->side == 1 ? z : c->y;
    double v = NAN;
    if (c->logits)
        TK_ASSERT_OK(otk_fdiv_logits(&c->par, c->B, c->K, a, b, &v, NULL, NULL));
    else
        TK_ASSERT_OK(otk_fdiv_probs(&c->par, c->B, c->K, a, b, &v, NULL, NULL));
    return v;
}

/* max_k |FD_k − g_k| / max_k |g_k|, central differences with a step relative
 * to each entry (probabilities stay positive). */
static double fd_error(fd_ctx *c, double *z, size_t n, const double *g)
{
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) {
        const double z0 = z[k], h = 1e-5 * (c->logits ? 1.0 : fabs(z0));
        z[k] = z0 + h;
        const double fp = fd_value(c, z);
        z[k] = z0 - h;
        const double fm = fd_value(c, z);
        z[k] = z0;
        worst = fmax(worst, fabs((fp - fm) / (2 * h) - g[k]));
    }
    return worst / tk_max_abs(g, n);
}

START_TEST(test_fdiv_gradients_match_finite_differences)
{
    enum { B = 3, K = 5 };
    tk_rng r = tk_rng_seed(19);
    double zp[B * K], zq[B * K], p[B * K], q[B * K], gp[B * K], gq[B * K];
    for (int i = 0; i < B * K; i++) {
        zp[i] = 2.0 * tk_gauss(&r);
        zq[i] = 2.0 * tk_gauss(&r);
        p[i] = 0.05 + tk_uniform(&r); /* positive, rows not normalised */
        q[i] = 0.05 + tk_uniform(&r);
    }
    const double alphas[] = {-3.0, -1.0, -1.0 + 1e-7, -0.4, 0.0, 0.7, 1.0, 2.5};
    otk_fdiv_generator gen = {gen_pearson, NULL, INFINITY};
    double worst = 0.0;
    for (int kind = OTK_FDIV_KL; kind <= OTK_FDIV_CUSTOM; kind++) {
        const size_t na = kind == OTK_FDIV_ALPHA ? sizeof alphas / sizeof alphas[0] : 1;
        for (size_t a = 0; a < na; a++)
            for (int mode = 0; mode < 4; mode++) { /* logits τ 0.7 / τ 2 + τ², probs s 0 / 0.1 */
                fd_ctx c;
                otk_fdiv_params_default(&c.par);
                c.par.kind = (otk_fdiv_kind)kind;
                c.par.alpha = alphas[a];
                c.par.generator = &gen;
                c.par.reduction = mode == 1 ? OTK_REDUCTION_SUM : OTK_REDUCTION_MEAN;
                c.logits = mode < 2;
                c.par.tau = mode == 0 ? 0.7 : 2.0;
                c.par.scale_tau2 = mode == 1;
                c.par.smoothing = mode == 3 ? 0.1 : 0.0;
                c.B = B;
                c.K = K;
                c.x = c.logits ? zp : p;
                c.y = c.logits ? zq : q;
                double v;
                if (c.logits)
                    TK_ASSERT_OK(otk_fdiv_logits(&c.par, B, K, zp, zq, &v, gp, gq));
                else
                    TK_ASSERT_OK(otk_fdiv_probs(&c.par, B, K, p, q, &v, gp, gq));
                c.side = 0;
                const double e0 = fd_error(&c, c.logits ? zp : p, B * K, gp);
                c.side = 1;
                const double e1 = fd_error(&c, c.logits ? zq : q, B * K, gq);
                ck_assert_msg(e0 <= 1e-7 && e1 <= 1e-7,
                              "%s alpha %g mode %d: FD relative error %.3g, %.3g > 1e-7",
                              otk_fdiv_kind_name(c.par.kind), alphas[a], mode, e0, e1);
                worst = fmax(worst, fmax(e0, e1));
            }
    }
    fprintf(stderr, "fdiv FD worst relative error %.3g\n", worst);
}
END_TEST

START_TEST(test_fdiv_extreme_logits_stay_finite_and_exact)
{
    /* Row 0: logits ±1e4 (probabilities underflow to 0 but their logarithms
     * are exact): KL(p‖q) with p = softmax(1e4, 0, −1e4), q = softmax(0, 1e4, 0):
     * p ≈ e_0, log q_0 = −1e4 − log(1 + 2e^{−1e4}) = −1e4, so KL = 0 − (−1e4) = 1e4;
     * TV = ½(1 + 1) = 1; JS = ln 2. */
    const double zp[3] = {1e4, 0.0, -1e4}, zq[3] = {0.0, 1e4, 0.0};
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    const struct {
        otk_fdiv_kind kind;
        double value;
    } cases[] = {{OTK_FDIV_KL, 1e4}, {OTK_FDIV_REVERSE_KL, 1e4}, {OTK_FDIV_JEFFREYS, 2e4},
                 {OTK_FDIV_TV, 1.0}, {OTK_FDIV_JS, M_LN2}, {OTK_FDIV_HELLINGER, 2.0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        par.kind = cases[c].kind;
        double v, gp[3], gq[3];
        TK_ASSERT_OK(otk_fdiv_logits(&par, 1, 3, zp, zq, &v, gp, gq));
        TK_ASSERT_REL(v, cases[c].value, 1e-12);
        ck_assert(tk_all_finite(gp, 3) && tk_all_finite(gq, 3));
    }
    /* Pearson's value is e^{1e4}: beyond the doubles, refused by name. */
    par.kind = OTK_FDIV_PEARSON;
    double v;
    TK_ASSERT_FAILS(otk_fdiv_logits(&par, 1, 3, zp, zq, &v, NULL, NULL), OTK_ENUMERIC, "row 0");
}
END_TEST

START_TEST(test_fdiv_zero_probabilities_follow_the_stated_limits)
{
    /* p = (½, ½, 0), q = (1, 0, 0)... q has a zero where p > 0. */
    const double p[3] = {0.5, 0.5, 0.0}, q[3] = {1.0, 0.0, 0.0};
    /* KL: ½ ln ½ + ½·∞ = ∞; reverse KL: 1·ln 2 + 0 + 0 = ln 2;
     * TV: ½(½ + ½) = ½; JS: ½[½ ln(2/3) + ½ ln 2] + ½[ln(4/3)] ; Hellinger:
     * (√½ − 1)² + ½ = 2 − √2; Neyman: (½)²/½ + (½)²/½ = 1 (q_1 = 0 < p_1
     * gives p_1·lim f(t)/t = ½). */
    ck_assert(isinf(fdiv_value(OTK_FDIV_KL, 0, p, q, 3)));
    TK_ASSERT_REL(fdiv_value(OTK_FDIV_REVERSE_KL, 0, p, q, 3), M_LN2, 1e-15);
    TK_ASSERT_REL(fdiv_value(OTK_FDIV_TV, 0, p, q, 3), 0.5, 1e-15);
    TK_ASSERT_REL(fdiv_value(OTK_FDIV_JS, 0, p, q, 3),
                  0.5 * (0.5 * log(2.0 / 3) + 0.5 * log(2.0)) + 0.5 * log(4.0 / 3), 1e-15);
    TK_ASSERT_REL(fdiv_value(OTK_FDIV_HELLINGER, 0, p, q, 3), 2.0 - sqrt(2.0), 1e-15);
    TK_ASSERT_REL(fdiv_value(OTK_FDIV_NEYMAN, 0, p, q, 3), 1.0, 1e-15);
    /* α = 0 (β = ½): q_1 = 0 < p_1 contributes p_1/(1 − β) = 1: 2 Σ(√p − √q)² */
    TK_ASSERT_REL(fdiv_value(OTK_FDIV_ALPHA, 0.0, p, q, 3), 2.0 * (2.0 - sqrt(2.0)), 1e-15);

    /* A requested infinite gradient fails by name; smoothing makes it finite
     * and equals the divergence of the smoothed rows. */
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    par.kind = OTK_FDIV_KL;
    double v, g[3];
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 1, 3, p, q, &v, g, NULL), OTK_ENUMERIC, "row 0, class 1");
    par.smoothing = 0.1;
    TK_ASSERT_OK(otk_fdiv_probs(&par, 1, 3, p, q, &v, g, NULL));
    double ps[3], qs[3];
    for (int k = 0; k < 3; k++) {
        ps[k] = 0.9 * p[k] + 0.1 / 3.0;
        qs[k] = 0.9 * q[k] + 0.1 / 3.0;
    }
    TK_ASSERT_REL(v, tk_kl(ps, qs, 3), 1e-14);
    ck_assert(tk_all_finite(g, 3));
}
END_TEST

START_TEST(test_fdiv_reductions_and_kd_routes_agree)
{
    enum { B = 4, K = 6 };
    tk_rng r = tk_rng_seed(7);
    double zs[B * K], zt[B * K], rows[B], sum, mean, g1[B * K], g2[B * K];
    for (int i = 0; i < B * K; i++) {
        zs[i] = 3.0 * tk_gauss(&r);
        zt[i] = 3.0 * tk_gauss(&r);
    }
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    par.kind = OTK_FDIV_KL;
    par.tau = 2.0;
    par.scale_tau2 = 1;
    par.reduction = OTK_REDUCTION_NONE;
    TK_ASSERT_OK(otk_fdiv_logits(&par, B, K, zt, zs, rows, NULL, NULL));
    par.reduction = OTK_REDUCTION_SUM;
    TK_ASSERT_OK(otk_fdiv_logits(&par, B, K, zt, zs, &sum, NULL, NULL));
    par.reduction = OTK_REDUCTION_MEAN;
    TK_ASSERT_OK(otk_fdiv_logits(&par, B, K, zt, zs, &mean, NULL, g1));
    TK_ASSERT_REL(sum, tk_sum(rows, B), 1e-15);
    TK_ASSERT_REL(mean, sum / B, 1e-15);
    /* otk_kd_loss(KL) is τ² KL(p_t ‖ p_s): the same numbers. */
    double kd;
    TK_ASSERT_OK(otk_kd_loss(OTK_KD_KL, B, K, zs, zt, 2.0, &kd, g2));
    TK_ASSERT_REL(kd, mean, 1e-15);
    TK_ASSERT_VEC_ABS(g1, g2, B * K, 1e-15 * tk_max_abs(g2, B * K), "KD KL gradient");

    /* The combined objective with an f-divergence KD term: KL with τ² is the
     * objective with OTK_KD_KL; Pearson's KD term is otk_fdiv_logits' value. */
    int labels[B] = {0, 3, 5, 1};
    otk_sinkd *sd = NULL;
    TK_ASSERT_OK(otk_sinkd_alloc(&sd, B, K, NULL));
    otk_sinkd_objective_parts a, b;
    TK_ASSERT_OK(otk_sinkd_objective(sd, zs, zt, labels, 0.4, 0.5, OTK_KD_KL, 2.0, &a, g1));
    TK_ASSERT_OK(otk_sinkd_objective_fdiv(sd, zs, zt, labels, 0.4, 0.5, &par, &b, g2));
    TK_ASSERT_REL(b.total, a.total, 1e-14);
    TK_ASSERT_VEC_ABS(g1, g2, B * K, 1e-14 * tk_max_abs(g1, B * K), "objective gradient");
    par.kind = OTK_FDIV_PEARSON;
    par.scale_tau2 = 0;
    TK_ASSERT_OK(otk_sinkd_objective_fdiv(sd, zs, zt, labels, 0.4, 0.5, &par, &b, g2));
    TK_ASSERT_OK(otk_fdiv_logits(&par, B, K, zt, zs, &mean, NULL, NULL));
    TK_ASSERT_REL(b.kd, mean, 1e-15);
    TK_ASSERT_REL(b.total, 0.4 * b.kd + 0.6 * b.ce + 0.5 * b.sinkd, 1e-15);
    par.reduction = OTK_REDUCTION_SUM;
    TK_ASSERT_FAILS(otk_sinkd_objective_fdiv(sd, zs, zt, labels, 0.4, 0.5, &par, &b, g2),
                    OTK_EPARAM, "reduction");
    TK_ASSERT_FAILS(otk_sinkd_objective_fdiv(sd, zs, zt, labels, 0.4, 0.5, NULL, &b, g2),
                    OTK_ENULL, "kd");
    otk_sinkd_free(sd);
}
END_TEST

/* The objective's gradient with an α KD term against finite differences. */
START_TEST(test_fdiv_objective_gradient_matches_finite_differences)
{
    enum { B = 3, K = 4 };
    tk_rng r = tk_rng_seed(11);
    double zs[B * K], zt[B * K], g[B * K];
    for (int i = 0; i < B * K; i++) {
        zs[i] = tk_gauss(&r);
        zt[i] = tk_gauss(&r);
    }
    int labels[B] = {1, 0, 3};
    otk_sinkd *sd = NULL;
    TK_ASSERT_OK(otk_sinkd_alloc(&sd, B, K, NULL));
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    par.kind = OTK_FDIV_ALPHA;
    par.alpha = 0.3;
    par.tau = 1.5;
    otk_sinkd_objective_parts parts;
    TK_ASSERT_OK(otk_sinkd_objective_fdiv(sd, zs, zt, labels, 0.6, 0.2, &par, &parts, g));
    double worst = 0.0;
    for (int k = 0; k < B * K; k++) {
        const double z0 = zs[k], h = 1e-5;
        otk_sinkd_objective_parts pp, pm;
        zs[k] = z0 + h;
        TK_ASSERT_OK(otk_sinkd_objective_fdiv(sd, zs, zt, labels, 0.6, 0.2, &par, &pp, NULL));
        zs[k] = z0 - h;
        TK_ASSERT_OK(otk_sinkd_objective_fdiv(sd, zs, zt, labels, 0.6, 0.2, &par, &pm, NULL));
        zs[k] = z0;
        worst = fmax(worst, fabs((pp.total - pm.total) / (2 * h) - g[k]));
    }
    ck_assert_msg(worst <= 1e-7 * tk_max_abs(g, B * K), "objective FD error %.3g", worst);
    otk_sinkd_free(sd);
}
END_TEST

/* The regression (STS-B) form of the SinKD code, otkit/distill.h. */
START_TEST(test_sinkd_regression_objective_matches_hand_computation)
{
    /* s = (1, 2, 3), t = (1, 4, 0), y = (2, 2, 2), α = 0.25, τ = 2:
     * KD = mean(((s − t)/2)²) = (0 + 1 + 2.25)/3 = 13/12;
     * MSE = mean((s − y)²) = (1 + 0 + 1)/3 = 2/3;
     * total = ¼·13/12 + ¾·2/3 = 13/48 + 1/2 = 37/48;
     * ∂/∂s_i = (2/3)[¼·(s_i − t_i)/4 + ¾(s_i − y_i)]. */
    const double s[3] = {1, 2, 3}, t[3] = {1, 4, 0}, y[3] = {2, 2, 2};
    otk_sinkd_objective_parts parts;
    double g[3];
    TK_ASSERT_OK(otk_sinkd_regression_objective(3, s, t, y, 0.25, 2.0, &parts, g));
    TK_ASSERT_REL(parts.kd, 13.0 / 12.0, 1e-15);
    TK_ASSERT_REL(parts.ce, 2.0 / 3.0, 1e-15);
    ck_assert(parts.sinkd == 0.0);
    TK_ASSERT_REL(parts.total, 37.0 / 48.0, 1e-15);
    for (int i = 0; i < 3; i++)
        TK_ASSERT_ABS(g[i], 2.0 / 3.0 * (0.25 * (s[i] - t[i]) / 4.0 + 0.75 * (s[i] - y[i])),
                      1e-15);
    /* The reference's SinKD term on one output: softmax is 1, the batch cost
     * 0, the loss 0 whatever the outputs; otk_sinkd_loss agrees. */
    otk_sinkd *sd = NULL;
    TK_ASSERT_OK(otk_sinkd_alloc(&sd, 3, 1, NULL));
    double L = -1.0, gs[3];
    TK_ASSERT_OK(otk_sinkd_loss(sd, s, t, &L, gs, NULL));
    ck_assert(L == 0.0 && gs[0] == 0.0 && gs[1] == 0.0 && gs[2] == 0.0);
    otk_sinkd_free(sd);
    TK_ASSERT_FAILS(otk_sinkd_regression_objective(3, s, t, NULL, 0.25, 2.0, &parts, g),
                    OTK_ENULL, "y");
    TK_ASSERT_FAILS(otk_sinkd_regression_objective(3, s, t, y, 1.5, 2.0, &parts, g), OTK_EPARAM,
                    "alpha");
    const double bad[3] = {1, NAN, 0};
    TK_ASSERT_FAILS(otk_sinkd_regression_objective(3, s, bad, y, 0.25, 2.0, &parts, g),
                    OTK_ENONFINITE, "t[1]");
}
END_TEST

/* ------------------------------------------------------------- PSI and IV */

START_TEST(test_psi_counts_matches_hand_computation)
{
    /* expected counts (10, 20, 30, 40) → e = (.1, .2, .3, .4);
     * actual (20, 20, 20, 40) → a = (.2, .2, .2, .4):
     * PSI = (.1) ln 2 + 0 + (−.1) ln(2/3) + 0 = .1 ln 2 + .1 ln 1.5 = .1 ln 3. */
    const double e[4] = {10, 20, 30, 40}, a[4] = {20, 20, 20, 40};
    double psi, per[4];
    TK_ASSERT_OK(otk_psi_counts(4, e, a, 1e-4, &psi, per));
    TK_ASSERT_REL(psi, 0.1 * log(3.0), 1e-14);
    TK_ASSERT_REL(per[0], 0.1 * log(2.0), 1e-14);
    /* An empty actual bin: a = (0, .5, .5) becomes (1e-4, .5, .5) (not
     * renormalised); e = (.25, .25, .5):
     * PSI = (1e-4 − .25) ln(1e-4/.25) + .25 ln 2 + 0. */
    const double e3[3] = {1, 1, 2}, a3[3] = {0, 3, 3};
    TK_ASSERT_OK(otk_psi_counts(3, e3, a3, 1e-4, &psi, NULL));
    TK_ASSERT_REL(psi, (1e-4 - 0.25) * log(1e-4 / 0.25) + 0.25 * log(2.0), 1e-14);
    TK_ASSERT_OK(otk_psi_counts(3, e3, a3, 0.0, &psi, NULL));
    ck_assert(isinf(psi) && psi > 0);
    /* PSI is the Jeffreys divergence of the shares. */
    const double es[4] = {.1, .2, .3, .4}, as[4] = {.2, .2, .2, .4};
    TK_ASSERT_REL(fdiv_value(OTK_FDIV_JEFFREYS, 0, as, es, 4), 0.1 * log(3.0), 1e-14);
    TK_ASSERT_FAILS(otk_psi_counts(3, e3, a3, 1.0, &psi, NULL), OTK_EPARAM, "floor");
    const double neg[3] = {1, -1, 2};
    TK_ASSERT_FAILS(otk_psi_counts(3, e3, neg, 1e-4, &psi, NULL), OTK_ENEGATIVE, "actual[1]");
}
END_TEST

START_TEST(test_psi_binning_rules)
{
    /* Reference 1..10, quantile bins m = 2: NumPy's linear median 5.5, bins
     * (−∞, 5.5], (5.5, ∞): reference 5 | 5; actual (1, 2, 3, 9, 9, 9, 9, 9):
     * 3 | 5 → a = (3/8, 5/8), e = (½, ½):
     * PSI = (3/8 − ½) ln(3/4) + (5/8 − ½) ln(5/4). */
    const double ref[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const double act[8] = {1, 2, 3, 9, 9, 9, 9, 9};
    otk_bins_params bp;
    otk_bins_params_default(&bp);
    bp.bins = 2;
    double psi, edges[4], per[5];
    size_t m = 0;
    TK_ASSERT_OK(otk_psi(&bp, ref, 10, act, 8, &psi, &m, edges, per));
    ck_assert_uint_eq(m, 2);
    TK_ASSERT_REL(edges[0], 5.5, 1e-15);
    TK_ASSERT_REL(psi, -0.125 * log(0.75) + 0.125 * log(1.25), 1e-14);
    /* Equal width, m = 3 over [1, 10]: edges 4, 7; right-closed bins:
     * reference 4 | 3 | 3, actual 3 | 0 | 5 → a_2 = 0 → floor 1e-4. */
    bp.binning = OTK_BINNING_EQUAL_WIDTH;
    bp.bins = 3;
    TK_ASSERT_OK(otk_psi(&bp, ref, 10, act, 8, &psi, &m, edges, per));
    ck_assert_uint_eq(m, 3);
    TK_ASSERT_REL(edges[0], 4.0, 1e-15);
    TK_ASSERT_REL(edges[1], 7.0, 1e-15);
    TK_ASSERT_REL(psi,
                  (0.375 - 0.4) * log(0.375 / 0.4) + (1e-4 - 0.3) * log(1e-4 / 0.3) +
                      (0.625 - 0.3) * log(0.625 / 0.3),
                  1e-14);
    /* User edges (2.5): reference 2 | 8, actual 2 | 6. */
    const double ue[1] = {2.5};
    bp.binning = OTK_BINNING_EDGES;
    bp.edges = ue;
    bp.n_edges = 1;
    TK_ASSERT_OK(otk_psi(&bp, ref, 10, act, 8, &psi, &m, NULL, NULL));
    TK_ASSERT_REL(psi, (0.25 - 0.2) * log(0.25 / 0.2) + (0.75 - 0.8) * log(0.75 / 0.8), 1e-14);
    /* Tied quantiles merge: reference all 1 except one 2, m = 4 → 1 edge at 1. */
    const double tied[5] = {1, 1, 1, 1, 2};
    bp.binning = OTK_BINNING_QUANTILE;
    bp.bins = 4;
    TK_ASSERT_OK(otk_psi(&bp, tied, 5, act, 8, &psi, &m, edges, NULL));
    ck_assert_uint_eq(m, 2);
    TK_ASSERT_REL(edges[0], 1.0, 1e-15);
    const double bad[2] = {3, 3};
    bp.binning = OTK_BINNING_EDGES;
    bp.edges = bad;
    bp.n_edges = 2;
    TK_ASSERT_FAILS(otk_psi(&bp, ref, 10, act, 8, &psi, &m, NULL, NULL), OTK_EPARAM, "edges[1]");
}
END_TEST

START_TEST(test_information_value_matches_hand_computation)
{
    /* x = 1..8, y = (0,0,0,1, 0,1,1,1), quantile m = 2 (edge 4.5):
     * bin 1: goods 3, bads 1; bin 2: goods 1, bads 3.  g = (¾, ¼), b = (¼, ¾):
     * WoE = (ln 3, −ln 3); IV = (½) ln 3 + (½) ln 3 = ln 3. */
    const double x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int y[8] = {0, 0, 0, 1, 0, 1, 1, 1};
    otk_bins_params bp;
    otk_bins_params_default(&bp);
    bp.bins = 2;
    double iv, woe[2];
    size_t m;
    TK_ASSERT_OK(otk_information_value(&bp, x, y, 8, &iv, &m, NULL, woe));
    ck_assert_uint_eq(m, 2);
    TK_ASSERT_REL(iv, log(3.0), 1e-14);
    TK_ASSERT_REL(woe[0], log(3.0), 1e-14);
    TK_ASSERT_REL(woe[1], -log(3.0), 1e-14);
    const int y2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    TK_ASSERT_FAILS(otk_information_value(&bp, x, y2, 8, &iv, &m, NULL, woe), OTK_EZEROMASS,
                    "events");
    const int y3[8] = {0, 2, 0, 0, 0, 0, 0, 1};
    TK_ASSERT_FAILS(otk_information_value(&bp, x, y3, 8, &iv, &m, NULL, woe), OTK_EPARAM, "y[1]");
}
END_TEST

/* ------------------------------------------------------------- names, errors */

START_TEST(test_fdiv_names_round_trip)
{
    for (int k = OTK_FDIV_KL; k <= OTK_FDIV_CUSTOM; k++) {
        otk_fdiv_kind back;
        TK_ASSERT_OK(otk_fdiv_kind_from_name(otk_fdiv_kind_name((otk_fdiv_kind)k), &back));
        ck_assert_int_eq(back, k);
    }
    ck_assert_ptr_null(otk_fdiv_kind_name((otk_fdiv_kind)10));
    otk_fdiv_kind kind;
    TK_ASSERT_FAILS(otk_fdiv_kind_from_name("chi2", &kind), OTK_EPARAM, "pearson");
    TK_ASSERT_FAILS(otk_fdiv_kind_from_name(NULL, &kind), OTK_ENULL, "name");
    for (int k = OTK_REDUCTION_MEAN; k <= OTK_REDUCTION_NONE; k++) {
        otk_reduction_kind back;
        TK_ASSERT_OK(otk_reduction_kind_from_name(otk_reduction_kind_name((otk_reduction_kind)k),
                                                  &back));
        ck_assert_int_eq(back, k);
    }
    ck_assert_ptr_null(otk_reduction_kind_name((otk_reduction_kind)3));
    otk_reduction_kind red;
    TK_ASSERT_FAILS(otk_reduction_kind_from_name("avg", &red), OTK_EPARAM, "mean, sum, none");
    for (int k = OTK_BINNING_QUANTILE; k <= OTK_BINNING_EDGES; k++) {
        otk_binning back;
        TK_ASSERT_OK(otk_binning_from_name(otk_binning_name((otk_binning)k), &back));
        ck_assert_int_eq(back, k);
    }
    ck_assert_ptr_null(otk_binning_name((otk_binning)3));
    otk_binning bn;
    TK_ASSERT_FAILS(otk_binning_from_name("width", &bn), OTK_EPARAM, "equal-width");
}
END_TEST

START_TEST(test_fdiv_bad_input_is_refused_by_name)
{
    const double p[4] = {0.5, 0.5, 0.25, 0.75}, q[4] = {0.5, 0.5, -0.1, 1.1};
    double v, z[4] = {0, 1, NAN, 0};
    otk_fdiv_params par;
    otk_fdiv_params_default(&par);
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 2, 2, NULL, q, &v, NULL, NULL), OTK_ENULL, "p");
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 2, 2, p, q, NULL, NULL, NULL), OTK_ENULL, "value");
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 0, 2, p, q, &v, NULL, NULL), OTK_ESIZE, "B = 0");
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 2, 2, p, q, &v, NULL, NULL), OTK_ENEGATIVE, "q[1][0]");
    TK_ASSERT_FAILS(otk_fdiv_logits(&par, 2, 2, p, z, &v, NULL, NULL), OTK_ENONFINITE,
                    "z_q[1][0]");
    par.kind = (otk_fdiv_kind)42;
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 1, 2, p, p, &v, NULL, NULL), OTK_EPARAM, "params.kind");
    par.kind = OTK_FDIV_CUSTOM;
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 1, 2, p, p, &v, NULL, NULL), OTK_EPARAM,
                    "params.generator");
    par.kind = OTK_FDIV_ALPHA;
    par.alpha = INFINITY;
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 1, 2, p, p, &v, NULL, NULL), OTK_EPARAM, "params.alpha");
    otk_fdiv_params_default(&par);
    par.smoothing = 1.0;
    TK_ASSERT_FAILS(otk_fdiv_probs(&par, 1, 2, p, p, &v, NULL, NULL), OTK_EPARAM,
                    "params.smoothing");
    otk_fdiv_params_default(&par);
    par.tau = 0.0;
    TK_ASSERT_FAILS(otk_fdiv_logits(&par, 1, 2, p, p, &v, NULL, NULL), OTK_EPARAM, "params.tau");
    otk_fdiv_params_default(&par);
    par.reduction = (otk_reduction_kind)5;
    TK_ASSERT_FAILS(otk_fdiv_logits(&par, 1, 2, p, p, &v, NULL, NULL), OTK_EPARAM,
                    "params.reduction");
    otk_bins_params bp;
    otk_bins_params_default(&bp);
    bp.bins = 0;
    TK_ASSERT_FAILS(otk_psi(&bp, p, 4, p, 4, &v, NULL, NULL, NULL), OTK_EPARAM, "params.bins");
    TK_ASSERT_FAILS(otk_psi(NULL, p, 0, p, 4, &v, NULL, NULL, NULL), OTK_ESIZE, "n_ref");
    TK_ASSERT_FAILS(otk_psi(NULL, p, 4, z, 4, &v, NULL, NULL, NULL), OTK_ENONFINITE, "actual[2]");
    otk_fdiv_params_default(NULL);
    otk_bins_params_default(NULL);
}
END_TEST

Suite *fdiv_suite(void)
{
    Suite *s = suite_create("fdiv");
    TCase *tc = tcase_create("fdiv");
    tcase_add_test(tc, test_fdiv_members_match_closed_forms);
    tcase_add_test(tc, test_fdiv_logits_interface_matches_probabilities);
    tcase_add_test(tc, test_fdiv_custom_generator_reproduces_members);
    tcase_add_test(tc, test_fdiv_alpha_is_continuous_through_the_kl_ends);
    tcase_add_test(tc, test_fdiv_gradients_match_finite_differences);
    tcase_add_test(tc, test_fdiv_extreme_logits_stay_finite_and_exact);
    tcase_add_test(tc, test_fdiv_zero_probabilities_follow_the_stated_limits);
    tcase_add_test(tc, test_fdiv_reductions_and_kd_routes_agree);
    tcase_add_test(tc, test_fdiv_objective_gradient_matches_finite_differences);
    tcase_add_test(tc, test_sinkd_regression_objective_matches_hand_computation);
    tcase_add_test(tc, test_psi_counts_matches_hand_computation);
    tcase_add_test(tc, test_psi_binning_rules);
    tcase_add_test(tc, test_information_value_matches_hand_computation);
    tcase_add_test(tc, test_fdiv_names_round_trip);
    tcase_add_test(tc, test_fdiv_bad_input_is_refused_by_name);
    suite_add_tcase(s, tc);
    return s;
}
