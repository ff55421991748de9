/*
 * tests/test_distill.c — SinKD and the KD baselines (otkit/distill.h).
 *
 * References used, each independent of the code under test:
 *   - the reference algorithm written plainly in the KERNEL domain (docs/math.md
 *     D.3: K = e^{−W/ε}, divide rows by their sums, then columns), at 1e-12
 *     relative for moderate ε (the log and kernel domains differ by rounding);
 *   - central finite differences (step 1e-5: truncation O(h²) ≈ 1e-10, rounding
 *     ≈ 1e-16/h ≈ 1e-11) for every gradient, at 1e-6 relative to the largest
 *     gradient entry;
 *   - the closed forms of docs/math.md E evaluated with plain loops;
 *   - properties: ε → 0 limit, shift invariance, batch permutation, threads.
 */
#include <limits.h>
#include <string.h>
#include "test_helpers.h"
#include "otkit/distill.h"

Suite *distill_suite(void);

/* ------------------------------------------------------------ helpers */

static void random_logits(tk_rng *r, size_t n, double scale, double *z)
{
    for (size_t i = 0; i < n; i++)
        z[i] = scale * tk_gauss(r);
}

static void plain_softmax(size_t B, size_t K, const double *z, double tau, double *p)
{
    for (size_t i = 0; i < B; i++) {
        double m = z[i * K];
        for (size_t k = 1; k < K; k++)
            m = fmax(m, z[i * K + k]);
        double s = 0.0;
        for (size_t k = 0; k < K; k++)
            s += exp((z[i * K + k] - m) / tau);
        for (size_t k = 0; k < K; k++)
            p[i * K + k] = exp((z[i * K + k] - m) / tau) / s;
    }
}

/* The reference algorithm, kernel domain; the plan P (B×B) is returned in P
 * when not NULL. */
static double ref_sinkd(size_t B, size_t K, const double *zs, const double *zt, double tau,
                        double eps, int iters, otk_ground ground, double cw, double *P_out)
{
    double *ps = tk_alloc(B * K, sizeof(double)), *pt = tk_alloc(B * K, sizeof(double));
    double *W = tk_alloc(B * B, sizeof(double)), *P = tk_alloc(B * B, sizeof(double));
    plain_softmax(B, K, zs, tau, ps);
    plain_softmax(B, K, zt, tau, pt);
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < B; j++) {
            W[i * B + j] = tk_ground_cost(ground, 2.0, K, ps + i * K, pt + j * K);
            P[i * B + j] = exp(-W[i * B + j] / eps);
        }
    for (int it = 0; it < iters; it++) {
        for (size_t i = 0; i < B; i++) {
            double s = 0.0;
            for (size_t j = 0; j < B; j++)
                s += P[i * B + j];
            for (size_t j = 0; j < B; j++)
                P[i * B + j] /= s;
        }
        for (size_t j = 0; j < B; j++) {
            double s = 0.0;
            for (size_t i = 0; i < B; i++)
                s += P[i * B + j];
            for (size_t i = 0; i < B; i++)
                P[i * B + j] /= s;
        }
    }
    double L = 0.0;
    for (size_t n = 0; n < B * B; n++)
        L += P[n] * W[n];
    if (P_out)
        memcpy(P_out, P, B * B * sizeof(double));
    free(ps);
    free(pt);
    free(W);
    free(P);
    return cw * L;
}

static otk_sinkd *make_sinkd(size_t B, size_t K, double tau, double eps, int iters,
                             otk_ground ground, otk_sinkd_grad grad, int threads)
{
    otk_sinkd_params par;
    otk_sinkd_params_default(&par);
    par.tau = tau;
    par.eps = eps;
    par.iters = iters;
    par.ground = ground;
    par.grad = grad;
    par.weight = 0.7;
    par.threads = threads;
    otk_sinkd *sd = NULL;
    TK_ASSERT_OK(otk_sinkd_alloc(&sd, B, K, &par));
    return sd;
}

static double sinkd_value(otk_sinkd *sd, const double *zs, const double *zt)
{
    double L = NAN;
    TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, NULL, NULL));
    return L;
}

/* Largest |g − fd| / max|g| over the entries, FD perturbing z (a copy is
 * modified) with `value(z)` the loss. */
typedef double (*tk_loss_fn)(void *ctx, const double *z);

static double fd_rel_error(tk_loss_fn value, void *ctx, double *z, size_t n, const double *g)
{
    const double h = 1e-5;
    double worst = 0.0, scale = tk_max_abs(g, n);
    for (size_t k = 0; k < n; k++) {
        const double z0 = z[k];
        z[k] = z0 + h;
        const double fp = value(ctx, z);
        z[k] = z0 - h;
        const double fm = value(ctx, z);
        z[k] = z0;
        const double fd = (fp - fm) / (2 * h);
        worst = fmax(worst, fabs(fd - g[k]));
    }
    return worst / scale;
}

typedef struct {
    otk_sinkd *sd;
    const double *zs, *zt;
    int side; /* 0: perturb z_s, 1: perturb z_t */
} sinkd_ctx;

static double sinkd_fd_value(void *ctx, const double *z)
{
    sinkd_ctx *c = ctx;
    return sinkd_value(c->sd, c->side == 0 ? z : c->zs, c->side == 1 ? z : c->zt);
}

/* ------------------------------------------------------------ SinKD */

START_TEST(test_sinkd_unrolled_gradient_matches_finite_differences)
{
    static const struct {
        size_t B, K;
        double tau, eps;
        int iters;
        otk_ground ground;
    } cfg[] = {
        {3, 4, 2.0, 0.1, 1, OTK_GROUND_L1},
        {5, 6, 2.0, 0.1, 20, OTK_GROUND_L1},
        {4, 7, 0.8, 0.05, 7, OTK_GROUND_L1},
        {6, 3, 1.5, 0.5, 20, OTK_GROUND_L1},
        {4, 5, 2.0, 0.02, 20, OTK_GROUND_SQEUCLIDEAN},
        {5, 4, 1.0, 0.1, 1, OTK_GROUND_SQEUCLIDEAN},
        {3, 5, 1.0, 0.1, 10, OTK_GROUND_EUCLIDEAN},
        {4, 4, 0.5, 0.2, 3, OTK_GROUND_HALF_SQEUCLIDEAN},
        /* Cost layers wider than 300·ε (the log-domain steps) and just
         * inside it (the kernel domain at its edge; distill.c). */
        {4, 5, 0.3, 0.004, 20, OTK_GROUND_L1},
        {4, 5, 0.3, 0.0068, 20, OTK_GROUND_L1},
    };
    tk_rng r = tk_rng_seed(11);
    double worst = 0.0;
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        const size_t B = cfg[c].B, K = cfg[c].K, n = B * K;
        double *zs = tk_alloc(n, sizeof(double)), *zt = tk_alloc(n, sizeof(double));
        double *gs = tk_alloc(n, sizeof(double)), *gt = tk_alloc(n, sizeof(double));
        random_logits(&r, n, 2.0, zs);
        random_logits(&r, n, 2.0, zt);
        otk_sinkd *sd = make_sinkd(B, K, cfg[c].tau, cfg[c].eps, cfg[c].iters, cfg[c].ground,
                                   OTK_SINKD_GRAD_UNROLLED, 1);
        double L;
        TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, gs, gt));
        sinkd_ctx ctx = {sd, zs, zt, 0};
        const double es = fd_rel_error(sinkd_fd_value, &ctx, zs, n, gs);
        ctx.side = 1;
        const double et = fd_rel_error(sinkd_fd_value, &ctx, zt, n, gt);
        /* Below ε = 0.01 the loss's third derivatives grow as ε^−2 and the
         * central difference's truncation error (h = 1e-5) with them: at
         * ε = 0.004 it reached 1.3e-6 (an -O1 build), and on a 4×5 problem
         * it fell as h² (3e-4, 3e-6, 3e-8 at h = 1e-4, 1e-5, 1e-6): 1e-5
         * there.  A wrong adjoint is off by O(1). */
        const double tol = cfg[c].eps < 0.01 ? 1e-5 : 1e-6;
        ck_assert_msg(es <= tol && et <= tol,
                      "config %zu: FD relative error grad_s %.3g, grad_t %.3g > %g", c, es, et,
                      tol);
        worst = fmax(worst, fmax(es, et));
        otk_sinkd_free(sd);
        free(zs);
        free(zt);
        free(gs);
        free(gt);
    }
    if (getenv("OTK_TEST_REPORT"))
        fprintf(stderr, "sinkd unrolled FD worst relative error %.3g\n", worst);
}
END_TEST

/* The envelope gradient is W̄ = c_w P chained through c and the softmax: the
 * test builds it from the kernel-domain plan with plain loops. */
START_TEST(test_sinkd_envelope_gradient_is_plan_times_cost_gradient)
{
    const size_t B = 5, K = 6, n = B * K;
    const double tau = 2.0, eps = 0.1, cw = 0.7;
    tk_rng r = tk_rng_seed(5);
    double *zs = tk_alloc(n, sizeof(double)), *zt = tk_alloc(n, sizeof(double));
    double *gs = tk_alloc(n, sizeof(double)), *gt = tk_alloc(n, sizeof(double));
    double *rs = tk_alloc(n, sizeof(double)), *rt = tk_alloc(n, sizeof(double));
    double *ps = tk_alloc(n, sizeof(double)), *pt = tk_alloc(n, sizeof(double));
    double *P = tk_alloc(B * B, sizeof(double));
    random_logits(&r, n, 2.0, zs);
    random_logits(&r, n, 2.0, zt);
    /* Rows 0 and 2 of the teacher equal rows 0 and 2 of the student: ties
     * p_s,ik = p_t,ik, where the l1 subgradient is taken as sign(0) = 0. */
    memcpy(zt, zs, K * sizeof(double));
    memcpy(zt + 2 * K, zs + 2 * K, K * sizeof(double));
    otk_sinkd *sd = make_sinkd(B, K, tau, eps, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_ENVELOPE, 1);
    double L;
    TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, gs, gt));
    ref_sinkd(B, K, zs, zt, tau, eps, 20, OTK_GROUND_L1, cw, P);
    plain_softmax(B, K, zs, tau, ps);
    plain_softmax(B, K, zt, tau, pt);
    memset(rs, 0, n * sizeof(double));
    memset(rt, 0, n * sizeof(double));
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < B; j++)
            for (size_t k = 0; k < K; k++) {
                const double d = ps[i * K + k] - pt[j * K + k];
                const double sgn = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
                rs[i * K + k] += cw * P[i * B + j] * sgn;
                rt[j * K + k] -= cw * P[i * B + j] * sgn;
            }
    for (size_t i = 0; i < B; i++) {
        double ds = 0.0, dt = 0.0;
        for (size_t k = 0; k < K; k++) {
            ds += ps[i * K + k] * rs[i * K + k];
            dt += pt[i * K + k] * rt[i * K + k];
        }
        for (size_t k = 0; k < K; k++) {
            rs[i * K + k] = ps[i * K + k] * (rs[i * K + k] - ds) / tau;
            rt[i * K + k] = pt[i * K + k] * (rt[i * K + k] - dt) / tau;
        }
    }
    TK_ASSERT_VEC_ABS(gs, rs, n, 1e-12 * tk_max_abs(rs, n), "envelope grad_s");
    TK_ASSERT_VEC_ABS(gt, rt, n, 1e-12 * tk_max_abs(rt, n), "envelope grad_t");
    otk_sinkd_free(sd);
    free(zs); free(zt); free(gs); free(gt); free(rs); free(rt); free(ps); free(pt); free(P);
}
END_TEST

START_TEST(test_sinkd_loss_matches_kernel_domain_reference)
{
    static const struct {
        size_t B, K;
        double tau, eps;
        int iters;
        otk_ground ground;
    } cfg[] = {
        {8, 5, 2.0, 0.1, 20, OTK_GROUND_L1},  {16, 3, 2.0, 0.1, 20, OTK_GROUND_L1},
        {7, 10, 1.0, 0.3, 1, OTK_GROUND_L1},  {12, 4, 3.0, 0.05, 20, OTK_GROUND_SQEUCLIDEAN},
        {5, 6, 2.0, 0.2, 5, OTK_GROUND_EUCLIDEAN},
        {8, 5, 0.3, 0.0068, 20, OTK_GROUND_L1}, /* W/ε up to ~290: the kernel domain's edge */
    };
    tk_rng r = tk_rng_seed(3);
    double worst = 0.0;
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        const size_t n = cfg[c].B * cfg[c].K;
        double *zs = tk_alloc(n, sizeof(double)), *zt = tk_alloc(n, sizeof(double));
        random_logits(&r, n, 2.0, zs);
        random_logits(&r, n, 2.0, zt);
        otk_sinkd *sd = make_sinkd(cfg[c].B, cfg[c].K, cfg[c].tau, cfg[c].eps, cfg[c].iters,
                                   cfg[c].ground, OTK_SINKD_GRAD_UNROLLED, 1);
        const double L = sinkd_value(sd, zs, zt);
        const double R = ref_sinkd(cfg[c].B, cfg[c].K, zs, zt, cfg[c].tau, cfg[c].eps,
                                   cfg[c].iters, cfg[c].ground, 0.7, NULL);
        TK_ASSERT_REL(L, R, 1e-12);
        worst = fmax(worst, tk_rel_err(L, R));
        otk_sinkd_free(sd);
        free(zs);
        free(zt);
    }
    if (getenv("OTK_TEST_REPORT"))
        fprintf(stderr, "sinkd vs kernel-domain reference worst relative error %.3g\n", worst);
}
END_TEST

START_TEST(test_sinkd_defaults_follow_the_reference_code)
{
    otk_sinkd_params par;
    otk_sinkd_params_default(&par);
    ck_assert(par.tau == 2.0 && par.eps == 0.1 && par.iters == 20);
    ck_assert(par.ground == OTK_GROUND_L1 && par.weight == 1.0);
    ck_assert(par.grad == OTK_SINKD_GRAD_UNROLLED && par.threads == 0);
    otk_sinkd_params_default(NULL); /* ignored */
    /* NULL params = the defaults. */
    const size_t B = 6, K = 4;
    double zs[24], zt[24], L;
    tk_rng r = tk_rng_seed(8);
    random_logits(&r, B * K, 1.0, zs);
    random_logits(&r, B * K, 1.0, zt);
    otk_sinkd *sd = NULL;
    TK_ASSERT_OK(otk_sinkd_alloc(&sd, B, K, NULL));
    TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, NULL, NULL));
    TK_ASSERT_REL(L, ref_sinkd(B, K, zs, zt, 2.0, 0.1, 20, OTK_GROUND_L1, 1.0, NULL), 1e-12);
    otk_sinkd_free(sd);
}
END_TEST

/* Identical logits: W_ii = 0 and W_ij > 0 off the diagonal, so as ε → 0 the
 * plan concentrates on the diagonal and c_w Σ P W → 0 (off-diagonal mass
 * ~ e^{−W_ij/ε}). */
START_TEST(test_sinkd_tends_to_zero_for_identical_logits)
{
    const size_t B = 6, K = 5, n = B * K;
    static const double eps[] = {1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001};
    double z[30];
    tk_rng r = tk_rng_seed(21);
    random_logits(&r, n, 3.0, z);
    double prev = INFINITY, L = NAN;
    for (size_t e = 0; e < sizeof eps / sizeof eps[0]; e++) {
        otk_sinkd *sd = make_sinkd(B, K, 2.0, eps[e], 50, OTK_GROUND_L1,
                                   OTK_SINKD_GRAD_UNROLLED, 1);
        L = sinkd_value(sd, z, z);
        ck_assert_msg(L >= 0.0 && L < prev, "eps = %g: loss %.17g not below %.17g", eps[e], L,
                      prev);
        prev = L;
        otk_sinkd_free(sd);
    }
    ck_assert_msg(L < 1e-10, "loss at eps = 1e-3 is %.3g", L);
}
END_TEST

START_TEST(test_sinkd_invariant_to_row_shifts_of_logits)
{
    const size_t B = 7, K = 5, n = B * K;
    double zs[35], zt[35], zs2[35], zt2[35], gs[35], gs2[35], L, L2;
    tk_rng r = tk_rng_seed(4);
    random_logits(&r, n, 2.0, zs);
    random_logits(&r, n, 2.0, zt);
    memcpy(zs2, zs, sizeof zs);
    memcpy(zt2, zt, sizeof zt);
    for (size_t k = 0; k < K; k++) {
        zs2[2 * K + k] += 3.25;
        zt2[5 * K + k] -= 17.5;
    }
    otk_sinkd *sd = make_sinkd(B, K, 2.0, 0.1, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 1);
    TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, gs, NULL));
    TK_ASSERT_OK(otk_sinkd_loss(sd, zs2, zt2, &L2, gs2, NULL));
    TK_ASSERT_REL(L2, L, 1e-12);
    TK_ASSERT_VEC_ABS(gs2, gs, n, 1e-12 * tk_max_abs(gs, n), "shifted gradient");
    otk_sinkd_free(sd);
}
END_TEST

START_TEST(test_sinkd_batch_permutation_permutes_gradient)
{
    const size_t B = 8, K = 4, n = B * K;
    static const size_t perm[8] = {3, 7, 0, 5, 1, 6, 2, 4};
    double zs[32], zt[32], zsp[32], ztp[32], gs[32], gt[32], gsp[32], gtp[32], ex_s[32], ex_t[32];
    double L, Lp;
    tk_rng r = tk_rng_seed(9);
    random_logits(&r, n, 2.0, zs);
    random_logits(&r, n, 2.0, zt);
    for (size_t i = 0; i < B; i++) {
        memcpy(zsp + i * K, zs + perm[i] * K, K * sizeof(double));
        memcpy(ztp + i * K, zt + perm[i] * K, K * sizeof(double));
    }
    otk_sinkd *sd = make_sinkd(B, K, 2.0, 0.1, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 1);
    TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, gs, gt));
    TK_ASSERT_OK(otk_sinkd_loss(sd, zsp, ztp, &Lp, gsp, gtp));
    TK_ASSERT_REL(Lp, L, 1e-12);
    for (size_t i = 0; i < B; i++) {
        memcpy(ex_s + i * K, gs + perm[i] * K, K * sizeof(double));
        memcpy(ex_t + i * K, gt + perm[i] * K, K * sizeof(double));
    }
    TK_ASSERT_VEC_ABS(gsp, ex_s, n, 1e-12 * tk_max_abs(gs, n), "permuted grad_s");
    TK_ASSERT_VEC_ABS(gtp, ex_t, n, 1e-12 * tk_max_abs(gt, n), "permuted grad_t");
    otk_sinkd_free(sd);
}
END_TEST

START_TEST(test_sinkd_extreme_logits_and_many_classes_are_finite)
{
    /* ±1e4 logits: one-hot probabilities, no overflow in the softmax. */
    {
        const size_t B = 6, K = 5, n = B * K;
        double zs[30], zt[30], gs[30], gt[30], L;
        tk_rng r = tk_rng_seed(13);
        for (size_t k = 0; k < n; k++) {
            zs[k] = tk_uniform(&r) < 0.5 ? -1e4 : 1e4;
            zt[k] = 1e4 * (2 * tk_uniform(&r) - 1);
        }
        otk_sinkd *sd = make_sinkd(B, K, 2.0, 0.1, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 1);
        TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, gs, gt));
        ck_assert(isfinite(L) && tk_all_finite(gs, n) && tk_all_finite(gt, n));
        TK_ASSERT_REL(L, ref_sinkd(B, K, zs, zt, 2.0, 0.1, 20, OTK_GROUND_L1, 0.7, NULL), 1e-12);
        otk_sinkd_free(sd);
    }
    /* K = 50 000 classes, B = 4. */
    {
        const size_t B = 4, K = 50000, n = B * K;
        double *zs = tk_alloc(n, sizeof(double)), *zt = tk_alloc(n, sizeof(double));
        double *gs = tk_alloc(n, sizeof(double)), *gt = tk_alloc(n, sizeof(double));
        tk_rng r = tk_rng_seed(17);
        random_logits(&r, n, 5.0, zs);
        random_logits(&r, n, 5.0, zt);
        zs[3] = 1e4;
        zt[K + 9] = -1e4;
        otk_sinkd *sd = make_sinkd(B, K, 2.0, 0.1, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 0);
        double L;
        TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &L, gs, gt));
        ck_assert(isfinite(L) && L >= 0.0 && tk_all_finite(gs, n) && tk_all_finite(gt, n));
        double kd;
        for (int kind = OTK_KD_KL; kind <= OTK_KD_SOFT_CE; kind++) {
            TK_ASSERT_OK(otk_kd_loss((otk_kd_divergence)kind, B, K, zs, zt, 2.0, &kd, gs));
            ck_assert(isfinite(kd) && tk_all_finite(gs, n));
        }
        otk_sinkd_free(sd);
        free(zs); free(zt); free(gs); free(gt);
    }
}
END_TEST

START_TEST(test_sinkd_results_do_not_depend_on_thread_count)
{
    if (tk_quick())
        return; /* valgrind: serial only */
    const size_t B = 300, K = 10, n = B * K;
    double *zs = tk_alloc(n, sizeof(double)), *zt = tk_alloc(n, sizeof(double));
    double *g1 = tk_alloc(n, sizeof(double)), *g2 = tk_alloc(n, sizeof(double));
    double *t1 = tk_alloc(n, sizeof(double)), *t2 = tk_alloc(n, sizeof(double));
    tk_rng r = tk_rng_seed(30);
    random_logits(&r, n, 2.0, zs);
    random_logits(&r, n, 2.0, zt);
    double L1, L2;
    otk_sinkd *s1 = make_sinkd(B, K, 2.0, 0.1, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 1);
    otk_sinkd *s2 = make_sinkd(B, K, 2.0, 0.1, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 2);
    TK_ASSERT_OK(otk_sinkd_loss(s1, zs, zt, &L1, g1, t1));
    TK_ASSERT_OK(otk_sinkd_loss(s2, zs, zt, &L2, g2, t2));
    ck_assert_msg(L1 == L2, "loss %.17g (1 thread) vs %.17g (2 threads)", L1, L2);
    ck_assert(memcmp(g1, g2, n * sizeof(double)) == 0);
    ck_assert(memcmp(t1, t2, n * sizeof(double)) == 0);
    otk_sinkd_free(s1);
    otk_sinkd_free(s2);
    free(zs); free(zt); free(g1); free(g2); free(t1); free(t2);
}
END_TEST

/* The l1 tiles' blocks (128 classes, 256 columns, 32-row blocks, 4-row
 * tiles, 32-column panels) and the kernel domain's team (B² >= 2^18) only
 * run on large batches: B = 301, K = 133 crosses every block edge with a
 * remainder, B = 520, K = 5 runs the team (loop index 1).  The loss against the
 * reference (kernel domain), both gradients against central differences
 * along random directions (ε = 0.1, kernel domain; ε = 0.001, where W/ε
 * reaches ~10³: log domain), and 1 vs 2 threads bitwise. */
START_TEST(test_sinkd_large_batch_matches_reference_directional_fd_and_threads)
{
    if (tk_quick())
        return; /* valgrind: the small configurations cover the code */
    const size_t B = _i == 0 ? 301 : 520, K = _i == 0 ? 133 : 5, n = B * K;
    double *zs = tk_alloc(n, sizeof(double)), *zt = tk_alloc(n, sizeof(double));
    double *gs = tk_alloc(n, sizeof(double)), *gt = tk_alloc(n, sizeof(double));
    double *gs2 = tk_alloc(n, sizeof(double)), *gt2 = tk_alloc(n, sizeof(double));
    double *dir = tk_alloc(n, sizeof(double)), *zp = tk_alloc(n, sizeof(double));
    /* No kinks of the l1 cost within the differences' steps: every student
     * probability lies in a band above or below (by (i + k) parity) the
     * teachers' band, 10 % apart at least, so the signs mix over (i, j, k)
     * but no |p_s − p_t| comes near 0 (random logits put some of the B²K
     * differences within 1e-5 of 0, and each crossing moves a central
     * difference by O(1) of its term). */
    tk_rng r = tk_rng_seed(41);
    for (size_t i = 0; i < B; i++)
        for (size_t k = 0; k < K; k++) {
            zs[i * K + k] = ((i + k) % 2 ? 4.0 : 0.0) + 0.1 * tk_gauss(&r);
            zt[i * K + k] = 2.0 + 0.1 * tk_gauss(&r);
        }
    random_logits(&r, n, 1.0, dir);
    const double eps[2] = {0.1, 0.001};
    for (int e = 0; e < 2; e++) {
        otk_sinkd *s1 = make_sinkd(B, K, 2.0, eps[e], 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 1);
        otk_sinkd *s2 = make_sinkd(B, K, 2.0, eps[e], 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 2);
        double L, L2;
        TK_ASSERT_OK(otk_sinkd_loss(s1, zs, zt, &L, gs, gt));
        TK_ASSERT_OK(otk_sinkd_loss(s2, zs, zt, &L2, gs2, gt2));
        ck_assert_msg(L == L2, "eps %g: loss %.17g (1 thread) vs %.17g (2 threads)", eps[e], L, L2);
        ck_assert(memcmp(gs, gs2, n * sizeof(double)) == 0);
        ck_assert(memcmp(gt, gt2, n * sizeof(double)) == 0);
        if (e == 0)
            TK_ASSERT_REL(L, ref_sinkd(B, K, zs, zt, 2.0, 0.1, 20, OTK_GROUND_L1, 0.7, NULL), 1e-12);
        for (int side = 0; side < 2; side++) {
            const double *z = side == 0 ? zs : zt, *g = side == 0 ? gs : gt;
            double dot = 0.0, fd[2];
            for (size_t k = 0; k < n; k++)
                dot += g[k] * dir[k];
            /* Richardson: (4 D(h/2) − D(h))/3 cancels the central
             * difference's h² term; what is left falls as h⁴ (B = 520,
             * ε = 0.001: 4.5e-4, 2.9e-5, 1.8e-6, 1.3e-7 at h = 4e-4 .. 5e-5)
             * down to the loss's rounding over 2h, ~1e-7 of the derivative
             * here (1.3e-7 the largest seen at h = 5e-5). */
            for (int q = 0; q < 2; q++) {
                const double h = q == 0 ? 5e-5 : 2.5e-5;
                double fp, fm;
                for (size_t k = 0; k < n; k++)
                    zp[k] = z[k] + h * dir[k];
                TK_ASSERT_OK(otk_sinkd_loss(s1, side == 0 ? zp : zs, side == 1 ? zp : zt, &fp,
                                            NULL, NULL));
                for (size_t k = 0; k < n; k++)
                    zp[k] = z[k] - h * dir[k];
                TK_ASSERT_OK(otk_sinkd_loss(s1, side == 0 ? zp : zs, side == 1 ? zp : zt, &fm,
                                            NULL, NULL));
                fd[q] = (fp - fm) / (2 * h);
            }
            const double rich = (4.0 * fd[1] - fd[0]) / 3.0;
            fprintf(stderr,
                    "sinkd B = %zu, K = %zu, eps %g, side %d: directional derivative vs "
                    "Richardson central differences, relative error %.3g\n",
                    B, K, eps[e], side, fabs(rich - dot) / fabs(dot));
            ck_assert_msg(fabs(rich - dot) <= 1e-6 * fabs(dot),
                          "eps %g side %d: directional derivative %.12g vs finite differences %.12g",
                          eps[e], side, dot, rich);
        }
        otk_sinkd_free(s1);
        otk_sinkd_free(s2);
    }
    free(zs); free(zt); free(gs); free(gt); free(gs2); free(gt2); free(dir); free(zp);
}
END_TEST

/* ------------------------------------------------------------ baselines */

/* Closed forms with plain loops on probabilities (moderate logits). */
static double ref_kd(otk_kd_divergence kind, size_t B, size_t K, const double *zs,
                     const double *zt, double tau)
{
    double *ps = tk_alloc(B * K, sizeof(double)), *pt = tk_alloc(B * K, sizeof(double));
    plain_softmax(B, K, zs, tau, ps);
    plain_softmax(B, K, zt, tau, pt);
    double total = 0.0;
    for (size_t i = 0; i < B; i++) {
        const double *s = ps + i * K, *t = pt + i * K;
        double v = 0.0;
        for (size_t k = 0; k < K; k++) {
            const double m = 0.5 * (s[k] + t[k]);
            switch (kind) {
            case OTK_KD_KL: v += tau * tau * t[k] * log(t[k] / s[k]); break;
            case OTK_KD_REVERSE_KL: v += s[k] * log(s[k] / t[k]); break;
            case OTK_KD_JS: v += 0.5 * s[k] * log(s[k] / m) + 0.5 * t[k] * log(t[k] / m); break;
            case OTK_KD_SOFT_CE: v -= t[k] * log(s[k]); break;
            }
        }
        total += v;
    }
    free(ps);
    free(pt);
    return total / (double)B;
}

typedef struct {
    otk_kd_divergence kind;
    size_t B, K;
    const double *zt;
    double tau;
} kd_ctx;

static double kd_fd_value(void *ctx, const double *z)
{
    kd_ctx *c = ctx;
    double L = NAN;
    TK_ASSERT_OK(otk_kd_loss(c->kind, c->B, c->K, z, c->zt, c->tau, &L, NULL));
    return L;
}

START_TEST(test_kd_values_match_closed_forms_and_gradients_match_fd)
{
    static const double taus[] = {1.0, 2.0, 4.0};
    const size_t B = 4, K = 6, n = B * K;
    double zs[24], zt[24], g[24];
    tk_rng r = tk_rng_seed(2);
    double worst_v = 0.0, worst_g = 0.0;
    for (int kind = OTK_KD_KL; kind <= OTK_KD_SOFT_CE; kind++)
        for (size_t t = 0; t < 3; t++) {
            random_logits(&r, n, 2.0, zs);
            random_logits(&r, n, 2.0, zt);
            double L;
            TK_ASSERT_OK(otk_kd_loss((otk_kd_divergence)kind, B, K, zs, zt, taus[t], &L, g));
            const double R = ref_kd((otk_kd_divergence)kind, B, K, zs, zt, taus[t]);
            TK_ASSERT_REL(L, R, 1e-12);
            worst_v = fmax(worst_v, tk_rel_err(L, R));
            kd_ctx ctx = {(otk_kd_divergence)kind, B, K, zt, taus[t]};
            const double e = fd_rel_error(kd_fd_value, &ctx, zs, n, g);
            ck_assert_msg(e <= 1e-6, "kind %d tau %g: FD relative error %.3g", kind, taus[t], e);
            worst_g = fmax(worst_g, e);
        }
    if (getenv("OTK_TEST_REPORT"))
        fprintf(stderr, "kd: closed-form worst %.3g, FD worst %.3g\n", worst_v, worst_g);
}
END_TEST

START_TEST(test_kd_gradients_follow_math_e_formulas)
{
    /* KL: τ(p_s − p_t)/B; soft CE: (p_s − p_t)/(τB). */
    const size_t B = 3, K = 5, n = B * K;
    const double tau = 3.0;
    double zs[15], zt[15], g[15], ps[15], pt[15], ex[15], L;
    tk_rng r = tk_rng_seed(6);
    random_logits(&r, n, 2.0, zs);
    random_logits(&r, n, 2.0, zt);
    plain_softmax(B, K, zs, tau, ps);
    plain_softmax(B, K, zt, tau, pt);
    TK_ASSERT_OK(otk_kd_loss(OTK_KD_KL, B, K, zs, zt, tau, &L, g));
    for (size_t k = 0; k < n; k++)
        ex[k] = tau * (ps[k] - pt[k]) / (double)B;
    TK_ASSERT_VEC_ABS(g, ex, n, 1e-14, "KL gradient");
    TK_ASSERT_OK(otk_kd_loss(OTK_KD_SOFT_CE, B, K, zs, zt, tau, &L, g));
    for (size_t k = 0; k < n; k++)
        ex[k] = (ps[k] - pt[k]) / (tau * (double)B);
    TK_ASSERT_VEC_ABS(g, ex, n, 1e-14, "soft-CE gradient");
}
END_TEST

START_TEST(test_kd_js_bounded_and_kl_nonnegative)
{
    const size_t B = 5, K = 8, n = B * K;
    double zs[40], zt[40], L;
    tk_rng r = tk_rng_seed(12);
    for (int trial = 0; trial < 20; trial++) {
        const double scale = trial < 10 ? 3.0 : 1e4;
        random_logits(&r, n, scale, zs);
        random_logits(&r, n, scale, zt);
        if (trial >= 10)
            for (size_t k = 0; k < n; k++) {
                zs[k] = zs[k] > 0 ? 1e4 : -1e4;
                zt[k] = zt[k] > 0 ? 1e4 : -1e4;
            }
        for (double tau = 0.5; tau <= 4.0; tau *= 2) {
            TK_ASSERT_OK(otk_kd_loss(OTK_KD_JS, B, K, zs, zt, tau, &L, NULL));
            ck_assert_msg(L >= -1e-15 && L <= M_LN2 + 1e-15, "JS = %.17g", L);
            TK_ASSERT_OK(otk_kd_loss(OTK_KD_KL, B, K, zs, zt, tau, &L, NULL));
            ck_assert_msg(isfinite(L) && L >= -1e-12, "KL = %.17g", L);
            TK_ASSERT_OK(otk_kd_loss(OTK_KD_REVERSE_KL, B, K, zs, zt, tau, &L, NULL));
            ck_assert_msg(isfinite(L) && L >= -1e-12, "reverse KL = %.17g", L);
        }
    }
    /* Disjoint one-hot rows: JS = ln 2 exactly in the limit. */
    double a[2] = {1e4, -1e4}, b[2] = {-1e4, 1e4};
    TK_ASSERT_OK(otk_kd_loss(OTK_KD_JS, 1, 2, a, b, 1.0, &L, NULL));
    TK_ASSERT_REL(L, M_LN2, 1e-14);
    TK_ASSERT_OK(otk_kd_loss(OTK_KD_JS, 1, 2, a, a, 1.0, &L, NULL));
    TK_ASSERT_ABS(L, 0.0, 1e-300);
}
END_TEST

/* ------------------------------------------------------------ objective */

typedef struct {
    otk_sinkd *sd;
    const double *zt;
    const int *labels;
    double alpha, beta, tau;
    otk_kd_divergence kd;
} obj_ctx;

static double obj_fd_value(void *ctx, const double *z)
{
    obj_ctx *c = ctx;
    otk_sinkd_objective_parts parts;
    TK_ASSERT_OK(otk_sinkd_objective(c->sd, z, c->zt, c->labels, c->alpha, c->beta, c->kd,
                                     c->tau, &parts, NULL));
    return parts.total;
}

START_TEST(test_objective_combines_parts_and_gradient_matches_fd)
{
    const size_t B = 5, K = 4, n = B * K;
    double zs[20], zt[20], g[20], gk[20], gsk[20], ps[20];
    int labels[5] = {0, 3, 1, 1, 2};
    tk_rng r = tk_rng_seed(40);
    random_logits(&r, n, 2.0, zs);
    random_logits(&r, n, 2.0, zt);
    otk_sinkd *sd = make_sinkd(B, K, 2.0, 0.1, 20, OTK_GROUND_L1, OTK_SINKD_GRAD_UNROLLED, 1);
    const double alpha = 0.8, beta = 0.8, tau = 3.0;
    otk_sinkd_objective_parts parts;
    TK_ASSERT_OK(otk_sinkd_objective(sd, zs, zt, labels, alpha, beta, OTK_KD_SOFT_CE, tau, &parts,
                                     g));
    double kd, sk;
    TK_ASSERT_OK(otk_kd_loss(OTK_KD_SOFT_CE, B, K, zs, zt, tau, &kd, gk));
    TK_ASSERT_OK(otk_sinkd_loss(sd, zs, zt, &sk, gsk, NULL));
    plain_softmax(B, K, zs, 1.0, ps);
    double ce = 0.0;
    for (size_t i = 0; i < B; i++)
        ce -= log(ps[i * K + (size_t)labels[i]]) / (double)B;
    TK_ASSERT_REL(parts.kd, kd, 1e-15);
    TK_ASSERT_REL(parts.sinkd, sk, 1e-15);
    TK_ASSERT_REL(parts.ce, ce, 1e-13);
    TK_ASSERT_REL(parts.total, alpha * kd + (1 - alpha) * ce + beta * sk, 1e-14);
    /* The gradient: α·∇KD + (1−α)·∇CE + β·∇SinKD. */
    double ex[20];
    for (size_t i = 0; i < B; i++)
        for (size_t k = 0; k < K; k++) {
            const double ce_g = (ps[i * K + k] - (k == (size_t)labels[i])) / (double)B;
            ex[i * K + k] = alpha * gk[i * K + k] + (1 - alpha) * ce_g + beta * gsk[i * K + k];
        }
    TK_ASSERT_VEC_ABS(g, ex, n, 1e-13, "objective gradient vs parts");
    obj_ctx ctx = {sd, zt, labels, alpha, beta, tau, OTK_KD_SOFT_CE};
    const double e = fd_rel_error(obj_fd_value, &ctx, zs, n, g);
    ck_assert_msg(e <= 1e-6, "objective FD relative error %.3g", e);
    ctx.kd = OTK_KD_JS;
    ctx.alpha = 0.3;
    TK_ASSERT_OK(otk_sinkd_objective(sd, zs, zt, labels, 0.3, beta, OTK_KD_JS, tau, NULL, g));
    const double e2 = fd_rel_error(obj_fd_value, &ctx, zs, n, g);
    ck_assert_msg(e2 <= 1e-6, "objective (JS) FD relative error %.3g", e2);
    if (getenv("OTK_TEST_REPORT"))
        fprintf(stderr, "objective FD relative errors %.3g, %.3g\n", e, e2);
    otk_sinkd_free(sd);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(test_distill_errors_are_reported)
{
    const size_t B = 3, K = 4;
    double zs[12] = {0}, zt[12] = {0}, L, g[12];
    int labels[3] = {0, 1, 2};
    otk_sinkd *sd = NULL;
    otk_sinkd_params par;
    otk_sinkd_params_default(&par);

    TK_ASSERT_FAILS(otk_sinkd_alloc(NULL, B, K, &par), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, 0, K, &par), OTK_ESIZE, "B = 0");
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, 0, &par), OTK_ESIZE, "K = 0");
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, SIZE_MAX / 4, 4, &par), OTK_ESIZE, "overflows");
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, (size_t)1 << 31, 1, &par), OTK_ESIZE, "B²");
    /* B·K fits, its l1 panels (32 columns each, B = 1 padded to 32) do not;
     * then the adjoint's iters·4B vectors. */
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, 1, (size_t)1 << 58, &par), OTK_ESIZE, "l1 panels");
    par.iters = INT_MAX;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, (size_t)1 << 29, 1, &par), OTK_ESIZE, "iters·4B");
    otk_sinkd_params_default(&par);
    par.tau = 0.0;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.tau");
    otk_sinkd_params_default(&par);
    par.eps = -1.0;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.eps");
    otk_sinkd_params_default(&par);
    par.iters = 0;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.iters");
    otk_sinkd_params_default(&par);
    par.weight = -0.5;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.weight");
    otk_sinkd_params_default(&par);
    par.ground = (otk_ground)42;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.ground");
    otk_sinkd_params_default(&par);
    par.ground = OTK_GROUND_LP;
    par.power = 0.0;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.power");
    otk_sinkd_params_default(&par);
    par.grad = (otk_sinkd_grad)7;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.grad");
    otk_sinkd_params_default(&par);
    par.threads = -1;
    TK_ASSERT_FAILS(otk_sinkd_alloc(&sd, B, K, &par), OTK_EPARAM, "params.threads");
    ck_assert(sd == NULL);

    otk_sinkd_params_default(&par);
    TK_ASSERT_OK(otk_sinkd_alloc(&sd, B, K, &par));
    TK_ASSERT_FAILS(otk_sinkd_loss(NULL, zs, zt, &L, g, NULL), OTK_ENULL, "sd");
    TK_ASSERT_FAILS(otk_sinkd_loss(sd, NULL, zt, &L, g, NULL), OTK_ENULL, "z_s");
    TK_ASSERT_FAILS(otk_sinkd_loss(sd, zs, NULL, &L, g, NULL), OTK_ENULL, "z_t");
    TK_ASSERT_FAILS(otk_sinkd_loss(sd, zs, zt, NULL, g, NULL), OTK_ENULL, "loss");
    zs[1 * K + 3] = NAN;
    TK_ASSERT_FAILS(otk_sinkd_loss(sd, zs, zt, &L, g, NULL), OTK_ENONFINITE, "z_s[1][3]");
    zs[1 * K + 3] = 0.0;
    zt[2 * K + 1] = INFINITY;
    TK_ASSERT_FAILS(otk_sinkd_loss(sd, zs, zt, &L, g, NULL), OTK_ENONFINITE, "z_t[2][1]");
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, 0.5, 0.5, OTK_KD_KL, 1.0, NULL, g),
                    OTK_ENONFINITE, "z_t[2][1]");
    zt[2 * K + 1] = 0.0;

    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, NULL, 0.5, 0.5, OTK_KD_KL, 1.0, NULL, g),
                    OTK_ENULL, "labels");
    labels[2] = 4;
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, 0.5, 0.5, OTK_KD_KL, 1.0, NULL, g),
                    OTK_ERANGE, "labels[2] = 4");
    labels[2] = -1;
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, 0.5, 0.5, OTK_KD_KL, 1.0, NULL, g),
                    OTK_ERANGE, "labels[2] = -1");
    labels[2] = 2;
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, 1.5, 0.5, OTK_KD_KL, 1.0, NULL, g),
                    OTK_EPARAM, "alpha");
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, NAN, 0.5, OTK_KD_KL, 1.0, NULL, g),
                    OTK_EPARAM, "alpha");
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, 0.5, -0.1, OTK_KD_KL, 1.0, NULL, g),
                    OTK_EPARAM, "beta");
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, 0.5, 0.5, (otk_kd_divergence)9, 1.0,
                                        NULL, g),
                    OTK_EPARAM, "kind");
    TK_ASSERT_FAILS(otk_sinkd_objective(sd, zs, zt, labels, 0.5, 0.5, OTK_KD_KL, 0.0, NULL, g),
                    OTK_EPARAM, "kd_tau");
    otk_sinkd_free(sd);
    otk_sinkd_free(NULL);

    TK_ASSERT_FAILS(otk_kd_loss(OTK_KD_KL, 0, K, zs, zt, 1.0, &L, g), OTK_ESIZE, "B = 0");
    TK_ASSERT_FAILS(otk_kd_loss(OTK_KD_KL, B, 0, zs, zt, 1.0, &L, g), OTK_ESIZE, "K = 0");
    TK_ASSERT_FAILS(otk_kd_loss(OTK_KD_KL, B, K, NULL, zt, 1.0, &L, g), OTK_ENULL, "z_s");
    TK_ASSERT_FAILS(otk_kd_loss(OTK_KD_KL, B, K, zs, zt, 1.0, NULL, g), OTK_ENULL, "loss");
    TK_ASSERT_FAILS(otk_kd_loss(OTK_KD_KL, B, K, zs, zt, -2.0, &L, g), OTK_EPARAM, "tau");
    TK_ASSERT_FAILS(otk_kd_loss((otk_kd_divergence)-1, B, K, zs, zt, 1.0, &L, g), OTK_EPARAM,
                    "kind");
    zs[5] = NAN;
    TK_ASSERT_FAILS(otk_kd_loss(OTK_KD_JS, B, K, zs, zt, 1.0, &L, g), OTK_ENONFINITE, "z_s[1][1]");
}
END_TEST

Suite *distill_suite(void)
{
    Suite *s = suite_create("distill");
    TCase *tc = tcase_create("sinkd");
    tk_set_timeout(tc, 60);
    tcase_add_test(tc, test_sinkd_unrolled_gradient_matches_finite_differences);
    tcase_add_test(tc, test_sinkd_envelope_gradient_is_plan_times_cost_gradient);
    tcase_add_test(tc, test_sinkd_loss_matches_kernel_domain_reference);
    tcase_add_test(tc, test_sinkd_defaults_follow_the_reference_code);
    tcase_add_test(tc, test_sinkd_tends_to_zero_for_identical_logits);
    tcase_add_test(tc, test_sinkd_invariant_to_row_shifts_of_logits);
    tcase_add_test(tc, test_sinkd_batch_permutation_permutes_gradient);
    tcase_add_test(tc, test_sinkd_extreme_logits_and_many_classes_are_finite);
    tcase_add_test(tc, test_sinkd_results_do_not_depend_on_thread_count);
    tcase_add_loop_test(tc, test_sinkd_large_batch_matches_reference_directional_fd_and_threads, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("baselines");
    tk_set_timeout(tc, 30);
    tcase_add_test(tc, test_kd_values_match_closed_forms_and_gradients_match_fd);
    tcase_add_test(tc, test_kd_gradients_follow_math_e_formulas);
    tcase_add_test(tc, test_kd_js_bounded_and_kl_nonnegative);
    suite_add_tcase(s, tc);
    tc = tcase_create("objective");
    tk_set_timeout(tc, 30);
    tcase_add_test(tc, test_objective_combines_parts_and_gradient_matches_fd);
    tcase_add_test(tc, test_distill_errors_are_reported);
    suite_add_tcase(s, tc);
    return s;
}
