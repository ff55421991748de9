/*
 * tests/test_monge_gap.c — the Monge gap (otkit/monge_gap.h) and the entropic
 * map (otkit/entropic_map.h).
 *
 * References used, each independent of the code under test:
 *   - POT's ot.sinkhorn(w, w, C, reg, method='sinkhorn_log') on fixed data, the
 *     values OT_ent = <P,C> − εH(P), displacement and M̂ computed in numpy from
 *     its plan (tests/monge_gap_reference.h, tests/data/gen_monge_gap_reference.py);
 *   - the primal OT_kl of a plan from the brute-force Sinkhorn of
 *     tests/test_helpers.h, minus ε(H(a)+H(b));
 *   - the two bounds ε H(w) <= M̂ (the diagonal coupling is feasible) and,
 *     for a c-optimal map, M̂ <= 2ε H(w) (derived below);
 *   - central finite differences for every gradient;
 *   - the mean / std of the explicit n×n cost matrix, two-pass;
 *   - otk_sinkhorn_barycentric, and the closed-form OT map between Gaussians.
 */
#include "test_helpers.h"
#include "monge_gap_reference.h"

Suite *monge_gap_suite(void);

/* ------------------------------------------------------------ helpers */

static otk_monge_gap_params mg_params(otk_ground ground, double power, double eps, double tol)
{
    otk_monge_gap_params par;
    otk_monge_gap_params_default(&par);
    par.ground = ground;
    par.power = power;
    par.eps = eps;
    par.tol = tol;
    par.max_iter = 200000;
    par.threads = 1; /* small problems: OpenMP start-up would dominate */
    return par;
}

static otk_monge_gap_result mg_eval(size_t n, size_t d, const double *x, const double *tx,
                                    const double *w, const otk_monge_gap_params *par,
                                    double *grad_tx, double *grad_x)
{
    otk_monge_gap_result res;
    TK_ASSERT_OK(otk_monge_gap_compute(n, d, x, tx, w, par, &res, grad_tx, grad_x));
    return res;
}

/* tx_i = x_i A^T (+ shift), A d×d row-major. */
static void apply_linear(size_t n, size_t d, const double *A, const double *shift,
                         const double *x, double *tx)
{
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < d; r++) {
            double s = shift ? shift[r] : 0.0;
            for (size_t k = 0; k < d; k++)
                s += A[r * d + k] * x[i * d + k];
            tx[i * d + r] = s;
        }
}

/* A random symmetric positive definite d×d matrix B Bᵀ/d + ½ I. */
static void random_spd(tk_rng *r, size_t d, double *A)
{
    double *B = tk_alloc(d * d, sizeof *B);
    for (size_t i = 0; i < d * d; i++)
        B[i] = tk_gauss(r);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++)
                s += B[i * d + k] * B[j * d + k];
            A[i * d + j] = s / (double)d + (i == j ? 0.5 : 0.0);
        }
    free(B);
}

/* ------------------------------------------------------------ values */

START_TEST(test_monge_gap_matches_pot)
{
    for (int k = 0; k < MONGE_GAP_NCASES; k++) {
        const struct monge_gap_case *c = &monge_gap_cases[k];
        otk_ground ground;
        TK_ASSERT_OK(otk_ground_from_name(c->ground, &ground));
        otk_monge_gap_params par = mg_params(ground, 0.0, c->eps, 1e-12);
        if (c->eps == 0.0) {
            par.relative_eps = c->rel;
            par.relative_to = c->rel_mean ? OTK_RELATIVE_MEAN : OTK_RELATIVE_STD;
        }
        const otk_monge_gap_result r = mg_eval((size_t)c->n, (size_t)c->d, c->x, c->tx,
                                               c->uniform ? NULL : c->w, &par, NULL, NULL);
        TK_ASSERT_REL(r.eps, c->eps_used, 1e-12);
        TK_ASSERT_REL(r.displacement, c->displacement, 1e-13);
        TK_ASSERT_REL(r.lower_bound, c->lower_bound, 1e-13);
        /* POT's plan is converged to 1e-12 in L1, otkit's to 1e-12 relative:
         * the values agree to about 1e-11 of the cost scale. */
        const double scale = fabs(c->displacement) + fabs(c->ot_ent);
        TK_ASSERT_ABS(r.ot_ent, c->ot_ent, 1e-10 * scale);
        TK_ASSERT_ABS(r.monge_gap, c->monge_gap, 1e-10 * scale);
        TK_ASSERT_ABS(r.monge_gap, r.displacement - r.ot_ent, 0.0);
        ck_assert_msg(r.monge_gap >= r.lower_bound, "%s: M = %.17g < bound %.17g", c->name,
                      r.monge_gap, r.lower_bound);
    }
}
END_TEST

START_TEST(test_monge_gap_ot_ent_is_ot_kl_minus_entropies)
{
    tk_rng rng = tk_rng_seed(41);
    const size_t n = 15, d = 2;
    const otk_ground grounds[] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_EUCLIDEAN, OTK_GROUND_L1};
    double x[15 * 2], tx[15 * 2], w[15], f[15], g[15], P[15 * 15];
    for (int gi = 0; gi < 3; gi++)
        for (int weighted = 0; weighted < 2; weighted++) {
            tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
            tk_points_gauss(&rng, n, d, 0.5, 1.0, tx);
            if (weighted)
                tk_weights_random(&rng, n, 1.0, w);
            else
                tk_weights_uniform(n, 1.0, w);
            const double eps = 0.3;
            otk_monge_gap_params par = mg_params(grounds[gi], 0.0, eps, 1e-13);
            const otk_monge_gap_result r = mg_eval(n, d, x, tx, w, &par, NULL, NULL);
            double *C = tk_cost_matrix(grounds[gi], 0.0, n, n, d, x, tx);
            ck_assert_int_gt(tk_ref_sinkhorn(n, n, C, w, w, eps, INFINITY, INFINITY, 1e-14,
                                             100000, f, g),
                             0);
            tk_plan(n, n, C, w, w, eps, f, g, P);
            const tk_values v = tk_plan_values(n, n, C, P, w, w, eps, INFINITY, INFINITY);
            const double h = tk_entropy(w, n);
            TK_ASSERT_ABS(r.ot_ent, v.ot_kl - 2.0 * eps * h, 1e-11);
            TK_ASSERT_ABS(r.ot_ent, v.ot_ent, 1e-11);
            double disp = 0.0;
            for (size_t i = 0; i < n; i++)
                disp += w[i] * C[i * n + i];
            TK_ASSERT_REL(r.displacement, disp, 1e-14);
            TK_ASSERT_REL(r.lower_bound, eps * h, 1e-14);
            free(C);
        }
}
END_TEST

/* M̂ >= ε H(w) for every map, ground cost, weights and ε (docs/math.md C.2). */
START_TEST(test_monge_gap_lower_bound_random_maps)
{
    tk_rng rng = tk_rng_seed(7);
    const otk_ground grounds[] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_HALF_SQEUCLIDEAN,
                                  OTK_GROUND_EUCLIDEAN, OTK_GROUND_L1, OTK_GROUND_LP};
    const int trials = tk_quick() ? 1 : 12;
    double worst = INFINITY;
    int count = 0, unconverged = 0;
    for (int t = 0; t < trials; t++)
        for (int gi = 0; gi < 5; gi++)
            for (int mode = 0; mode < 4; mode++) {
                const size_t n = 5 + (size_t)(tk_uniform(&rng) * 40.0);
                const size_t d = 1 + (size_t)(tk_uniform(&rng) * 4.0);
                double *x = tk_alloc(n * d, sizeof *x), *tx = tk_alloc(n * d, sizeof *tx);
                double *A = tk_alloc(d * d, sizeof *A), *w = tk_alloc(n, sizeof *w);
                tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
                for (size_t i = 0; i < d * d; i++)
                    A[i] = tk_gauss(&rng);
                apply_linear(n, d, A, NULL, x, tx);
                for (size_t i = 0; i < n * d; i++)
                    tx[i] += 0.5 * tk_gauss(&rng);
                const int weighted = mode & 1, relative = mode & 2;
                if (weighted)
                    tk_weights_random(&rng, n, 1.0, w);
                otk_monge_gap_params par =
                    mg_params(grounds[gi], 1.5, relative ? 0.0 : 0.05 + tk_uniform(&rng), 1e-7);
                if (relative)
                    par.relative_eps = 0.03 + 0.2 * tk_uniform(&rng);
                par.max_iter = 20000;
                otk_monge_gap_result r;
                const otk_status st =
                    otk_monge_gap_compute(n, d, x, tx, weighted ? w : NULL, &par, &r, NULL, NULL);
                ck_assert_msg(st == OTK_SUCCESS || st == OTK_NOT_CONVERGED, "%s: %s",
                              otk_status_name(st), otk_last_error());
                unconverged += st == OTK_NOT_CONVERGED;
                if (!weighted)
                    TK_ASSERT_REL(r.lower_bound, r.eps * log((double)n), 1e-14);
                const double slack = (r.monge_gap - r.lower_bound) / r.lower_bound;
                /* The reported OT_kl is the dual value <w,f> + <w,g>, which is
                 * at most disp + εH(w) + ε|ΣP − 1| for any potentials (weak
                 * duality against the diagonal coupling), and |ΣP − 1| <=
                 * the marginal error: the bound holds up to ε·error even
                 * when Sinkhorn stops early. */
                ck_assert_msg(r.monge_gap >= r.lower_bound - r.eps * r.marginal_error,
                              "ground %d, n = %zu, d = %zu: M = %.17g < eps H(w) = %.17g",
                              (int)grounds[gi], n, d, r.monge_gap, r.lower_bound);
                worst = slack < worst ? slack : worst;
                count++;
                free(x);
                free(tx);
                free(A);
                free(w);
            }
    fprintf(stderr,
            "monge_gap lower bound: %d random maps (%d stopped at max_iter), "
            "min (M - eps H(w)) / eps H(w) = %.3g\n",
            count, unconverged, worst);
}
END_TEST

/* For a c-optimal map (the identity; gradients of convex functions for the
 * squared costs) the diagonal coupling is an optimal plan of the unregularised
 * problem, so OT_ent >= <diag, C> − ε max_P H(P) >= displacement − 2ε H(w)
 * (H(P) <= H(w) + H(w) for a coupling): ε H(w) <= M̂ <= 2 ε H(w).  A map that
 * is not optimal has M̂ >= M_0 + ε H(w) with M_0 the unregularised gap (the
 * optimal permutation coupling has entropy H(w) for uniform w), so a 90°
 * rotation, far from optimal, has M̂ many times the bound. */
START_TEST(test_monge_gap_optimal_maps_near_bound_rotation_far)
{
    tk_rng rng = tk_rng_seed(99);
    const size_t n = tk_quick() ? 64 : 200, d = 2;
    double *x = tk_alloc(n * d, sizeof *x), *tx = tk_alloc(n * d, sizeof *tx);
    double A[4];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    /* the defaults: ε = 0.05 std(C), tol 1e-6 */
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.0, 1e-6);

    /* identity */
    memcpy(tx, x, n * d * sizeof *x);
    otk_monge_gap_result r = mg_eval(n, d, x, tx, NULL, &par, NULL, NULL);
    const double ratio_id = r.monge_gap / r.lower_bound;
    TK_ASSERT_ABS(r.displacement, 0.0, 0.0);
    ck_assert(ratio_id >= 1.0 && ratio_id <= 2.0);

    /* x -> A x, A symmetric positive definite: the gradient of ½ xᵀA x */
    random_spd(&rng, d, A);
    apply_linear(n, d, A, NULL, x, tx);
    r = mg_eval(n, d, x, tx, NULL, &par, NULL, NULL);
    const double ratio_spd = r.monge_gap / r.lower_bound;
    ck_assert(ratio_spd >= 1.0 && ratio_spd <= 2.0);

    /* x -> x + tanh(x) (componentwise): the gradient of ½|x|² + Σ log cosh x_k */
    for (size_t i = 0; i < n * d; i++)
        tx[i] = x[i] + tanh(x[i]);
    r = mg_eval(n, d, x, tx, NULL, &par, NULL, NULL);
    const double ratio_cvx = r.monge_gap / r.lower_bound;
    ck_assert(ratio_cvx >= 1.0 && ratio_cvx <= 2.0);

    /* the same with half-sqeuclidean and weights: still within [1, 2] */
    double *w = tk_alloc(n, sizeof *w);
    tk_weights_random(&rng, n, 1.0, w);
    otk_monge_gap_params half = par;
    half.ground = OTK_GROUND_HALF_SQEUCLIDEAN;
    r = mg_eval(n, d, x, tx, w, &half, NULL, NULL);
    const double ratio_w = r.monge_gap / r.lower_bound;
    ck_assert(ratio_w >= 1.0 && ratio_w <= 2.0);

    /* rotation by 90 degrees */
    const double R[4] = {0.0, -1.0, 1.0, 0.0};
    apply_linear(n, d, R, NULL, x, tx);
    r = mg_eval(n, d, x, tx, NULL, &par, NULL, NULL);
    const double ratio_rot = r.monge_gap / r.lower_bound;
    fprintf(stderr,
            "monge_gap n = %zu, eps = 0.05 std(C): M / (eps log n): identity %.4f, SPD %.4f, "
            "x + tanh x %.4f, weighted half-sq %.4f, rotation 90deg %.1f (M = %.4g, "
            "displacement %.4g)\n",
            n, ratio_id, ratio_spd, ratio_cvx, ratio_w, ratio_rot, r.monge_gap, r.displacement);
    /* optimal maps: M − εlog n <= εlog n (measured 0.41–0.58 εlog n); the
     * rotation: M − εlog n >= M_0, which is most of its displacement (the
     * rotated cloud is close to the original one, so OT_0 is small) */
    ck_assert_msg(ratio_rot > 4.0, "rotation: M / bound = %g", ratio_rot);
    ck_assert_msg(r.monge_gap - r.lower_bound > 0.8 * r.displacement,
                  "rotation: M = %g, bound %g, displacement %g", r.monge_gap, r.lower_bound,
                  r.displacement);
    free(x);
    free(tx);
    free(w);
}
END_TEST

/* ε → 0 for the identity: M̂ / (ε log n) → 1 once ε is well below the
 * squared nearest-neighbour distance (0.04 on this grid): the plan becomes
 * diagonal, off-diagonal mass ~ e^{−0.04/ε}.  (Below ε ≈ 0.003 the annealed
 * Sinkhorn stalls on this near-permutation problem: the potentials left by
 * the annealing have a mode that contracts only by ~e^{−0.04/ε} per
 * iteration.) */
START_TEST(test_monge_gap_identity_tends_to_bound)
{
    const size_t n = 25, d = 2;
    double x[50];
    for (size_t i = 0; i < n; i++) {
        x[2 * i] = 0.2 * (double)(i % 5);
        x[2 * i + 1] = 0.2 * (double)(i / 5);
    }
    double prev = INFINITY;
    const double epss[] = {4e-2, 1e-2, 5e-3, 4e-3};
    for (int k = 0; k < 4; k++) {
        otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, epss[k], 1e-10);
        const otk_monge_gap_result r = mg_eval(n, d, x, x, NULL, &par, NULL, NULL);
        const double ratio = r.monge_gap / r.lower_bound;
        fprintf(stderr, "monge_gap identity, 5x5 grid, eps = %g: M / (eps log n) - 1 = %.3g\n",
                epss[k], ratio - 1.0);
        ck_assert(ratio >= 1.0 && ratio <= 2.0 && ratio <= prev);
        prev = ratio;
    }
    ck_assert_msg(prev - 1.0 < 1e-4, "identity at eps = 4e-3: M / bound - 1 = %g", prev - 1.0);
}
END_TEST

/* ------------------------------------------------------------ gradients */

static double gap_value(size_t n, size_t d, const double *x, const double *tx, const double *w,
                        const otk_monge_gap_params *par)
{
    return mg_eval(n, d, x, tx, w, par, NULL, NULL).monge_gap;
}

/* Central differences of M̂ in every coordinate of tx (which = 0) or x (1),
 * compared with the analytic gradient: max error <= rtol · max |gradient|. */
static void check_gradient_fd(otk_ground ground, double power, int weighted, double eps,
                              uint64_t seed)
{
    tk_rng rng = tk_rng_seed(seed);
    const size_t n = 8, d = 2;
    double x[16], tx[16], w[8], gtx[16], gx[16], fd[16];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_gauss(&rng, n, d, 0.3, 1.0, tx);
    tk_weights_random(&rng, n, 1.0, w);
    const double *wp = weighted ? w : NULL;
    otk_monge_gap_params par = mg_params(ground, power, eps, 1e-14);
    mg_eval(n, d, x, tx, wp, &par, gtx, gx);
    const double h = 1e-5;
    for (int which = 0; which < 2; which++) {
        double *pt = which ? x : tx;
        for (size_t k = 0; k < n * d; k++) {
            const double keep = pt[k];
            pt[k] = keep + h;
            const double up = gap_value(n, d, x, tx, wp, &par);
            pt[k] = keep - h;
            const double dn = gap_value(n, d, x, tx, wp, &par);
            pt[k] = keep;
            fd[k] = (up - dn) / (2.0 * h);
        }
        const double *g = which ? gx : gtx;
        const double scale = tk_max_abs(g, n * d);
        size_t worst;
        const double err = tk_max_abs_diff(g, fd, n * d, &worst);
        ck_assert_msg(err <= 1e-6 * scale,
                      "%s grad_%s (weighted %d): max |analytic - FD| = %.3g at [%zu] "
                      "(%.12g vs %.12g), relative %.3g > 1e-6",
                      otk_ground_name(ground), which ? "x" : "tx", weighted, err, worst,
                      g[worst], fd[worst], err / scale);
    }
}

START_TEST(test_monge_gap_gradients_finite_differences)
{
    check_gradient_fd(OTK_GROUND_SQEUCLIDEAN, 0.0, 0, 0.5, 11);
    check_gradient_fd(OTK_GROUND_SQEUCLIDEAN, 0.0, 1, 0.5, 12);
    check_gradient_fd(OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, 1, 0.5, 13);
    /* Gaussian data: no two points coincide and no coordinate ties, so
     * euclidean and l1 are smooth at every pair. */
    check_gradient_fd(OTK_GROUND_EUCLIDEAN, 0.0, 0, 0.5, 14);
    check_gradient_fd(OTK_GROUND_EUCLIDEAN, 0.0, 1, 0.5, 15);
    check_gradient_fd(OTK_GROUND_L1, 0.0, 1, 0.5, 16);
    check_gradient_fd(OTK_GROUND_LP, 3.0, 0, 5.0, 17); /* costs up to ~100 */
    check_gradient_fd(OTK_GROUND_LP_OVER_P, 1.5, 1, 0.5, 18);
}
END_TEST

/* C.4 for the squared cost and uniform weights: ∂M̂/∂y_i = (2/n)(x̄_i − x_i),
 * x̄_i = n Σ_k P_ki x_k the barycentric pre-image. */
START_TEST(test_monge_gap_gradient_is_barycentric_preimage)
{
    tk_rng rng = tk_rng_seed(21);
    const size_t n = 30, d = 3;
    double x[90], tx[90], g[90], f[30], gg[30], P[900];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_gauss(&rng, n, d, 1.0, 1.0, tx);
    const double eps = 0.4;
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, eps, 1e-13);
    mg_eval(n, d, x, tx, NULL, &par, g, NULL);
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0.0, n, n, d, x, tx);
    double w[30];
    tk_weights_uniform(n, 1.0, w);
    ck_assert_int_gt(tk_ref_sinkhorn(n, n, C, w, w, eps, INFINITY, INFINITY, 1e-14, 100000, f, gg),
                     0);
    tk_plan(n, n, C, w, w, eps, f, gg, P);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) {
            double xbar = 0.0;
            for (size_t j = 0; j < n; j++)
                xbar += (double)n * P[j * n + i] * x[j * d + k];
            TK_ASSERT_ABS(g[i * d + k], 2.0 / (double)n * (xbar - x[i * d + k]), 1e-12);
        }
    free(C);
}
END_TEST

/* With a relative ε the gradient is that of M̂ at the ε used, held fixed (as
 * OTT's stop_gradient): bitwise the gradient of the absolute-ε call with that
 * ε.  It is not the derivative of the composite y -> M̂(ε(y), y). */
START_TEST(test_monge_gap_relative_eps_gradient_is_stop_gradient)
{
    tk_rng rng = tk_rng_seed(31);
    const size_t n = 10, d = 2;
    double x[20], tx[20], g_rel[20], gx_rel[20], g_abs[20], gx_abs[20];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_gauss(&rng, n, d, 0.2, 1.5, tx);
    otk_monge_gap_params rel = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.0, 1e-13);
    rel.relative_eps = 0.1;
    const otk_monge_gap_result rr = mg_eval(n, d, x, tx, NULL, &rel, g_rel, gx_rel);
    otk_monge_gap_params abs_par = rel;
    abs_par.eps = rr.eps;
    const otk_monge_gap_result ra = mg_eval(n, d, x, tx, NULL, &abs_par, g_abs, gx_abs);
    ck_assert(ra.monge_gap == rr.monge_gap);
    ck_assert(memcmp(g_rel, g_abs, sizeof g_rel) == 0);
    ck_assert(memcmp(gx_rel, gx_abs, sizeof gx_rel) == 0);

    /* The composite derivative differs by ∂M̂/∂ε · ∂ε/∂y: measure both with
     * central differences on one coordinate and check the gradient matches
     * the fixed-ε one, not the composite one. */
    const double h = 1e-5;
    const double keep = tx[0];
    tx[0] = keep + h;
    const double up_fixed = gap_value(n, d, x, tx, NULL, &abs_par);
    const double up_comp = gap_value(n, d, x, tx, NULL, &rel);
    tx[0] = keep - h;
    const double dn_fixed = gap_value(n, d, x, tx, NULL, &abs_par);
    const double dn_comp = gap_value(n, d, x, tx, NULL, &rel);
    tx[0] = keep;
    const double fd_fixed = (up_fixed - dn_fixed) / (2 * h);
    const double fd_comp = (up_comp - dn_comp) / (2 * h);
    TK_ASSERT_ABS(g_rel[0], fd_fixed, 1e-6 * tk_max_abs(g_rel, n * d));
    ck_assert_msg(fabs(fd_comp - fd_fixed) > 1e-4 * fabs(fd_fixed),
                  "composite and fixed-eps derivatives coincide (%g, %g): the check is vacuous",
                  fd_comp, fd_fixed);
}
END_TEST

/* A zero weight removes its point: the same M as without it, and a zero
 * gradient for it. */
START_TEST(test_monge_gap_zero_weight_removes_the_point)
{
    tk_rng rng = tk_rng_seed(55);
    const size_t n = 12, d = 2;
    double x[24], tx[24], w[12], g[24], g_small[22];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_gauss(&rng, n, d, 0.5, 1.0, tx);
    tk_weights_random(&rng, n, 1.0, w);
    /* move the mass of point 4 to point 5, then drop point 4 */
    w[5] += w[4];
    w[4] = 0.0;
    otk_monge_gap_params par = mg_params(OTK_GROUND_EUCLIDEAN, 0.0, 0.3, 1e-12);
    const otk_monge_gap_result r = mg_eval(n, d, x, tx, w, &par, g, NULL);
    double xs[22], txs[22], ws[11];
    for (size_t i = 0, k = 0; i < n; i++) {
        if (i == 4)
            continue;
        memcpy(xs + 2 * k, x + 2 * i, 2 * sizeof *x);
        memcpy(txs + 2 * k, tx + 2 * i, 2 * sizeof *x);
        ws[k++] = w[i];
    }
    const otk_monge_gap_result rs = mg_eval(n - 1, d, xs, txs, ws, &par, g_small, NULL);
    TK_ASSERT_REL(r.monge_gap, rs.monge_gap, 1e-10);
    TK_ASSERT_REL(r.lower_bound, rs.lower_bound, 1e-14);
    ck_assert(g[8] == 0.0 && g[9] == 0.0);
    TK_ASSERT_VEC_ABS(g, g_small, 8, 1e-9, "gradients of points 0-3");
    TK_ASSERT_VEC_ABS(g + 10, g_small + 8, 14, 1e-9, "gradients of points 5-11");
}
END_TEST

/* ------------------------------------------------------------ ε */

static void check_relative_eps(size_t n, size_t d, double offset, otk_ground ground, double power,
                               otk_relative_to to, uint64_t seed)
{
    tk_rng rng = tk_rng_seed(seed);
    double *x = tk_alloc(n * d, sizeof *x), *tx = tk_alloc(n * d, sizeof *tx);
    tk_points_gauss(&rng, n, d, offset, 1.0, x);
    tk_points_gauss(&rng, n, d, offset, 2.0, tx);
    double *C = tk_cost_matrix(ground, power, n, n, d, x, tx);
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < n * n; i++)
        mean += C[i];
    mean /= (double)(n * n);
    for (size_t i = 0; i < n * n; i++)
        var += (C[i] - mean) * (C[i] - mean);
    const double sd = sqrt(var / (double)(n * n));
    otk_monge_gap_params par = mg_params(ground, power, 0.0, 1e-6);
    par.relative_eps = 0.07;
    par.relative_to = to;
    par.threads = 0;
    const otk_monge_gap_result r = mg_eval(n, d, x, tx, NULL, &par, NULL, NULL);
    TK_ASSERT_REL(r.eps, 0.07 * (to == OTK_RELATIVE_MEAN ? mean : sd), 1e-12);
    free(x);
    free(tx);
    free(C);
}

START_TEST(test_monge_gap_relative_eps_brute_force)
{
    check_relative_eps(17, 3, 0.0, OTK_GROUND_SQEUCLIDEAN, 0.0, OTK_RELATIVE_STD, 1);
    check_relative_eps(17, 3, 0.0, OTK_GROUND_SQEUCLIDEAN, 0.0, OTK_RELATIVE_MEAN, 2);
    check_relative_eps(23, 2, 0.0, OTK_GROUND_EUCLIDEAN, 0.0, OTK_RELATIVE_STD, 3);
    check_relative_eps(23, 2, 0.0, OTK_GROUND_L1, 0.0, OTK_RELATIVE_MEAN, 4);
    check_relative_eps(11, 4, 0.0, OTK_GROUND_LP_OVER_P, 3.0, OTK_RELATIVE_STD, 5);
    /* more than one tile per row (OTK_TILE = 512), and a large offset with a
     * small spread: the std survives the cancellation */
    check_relative_eps(tk_quick() ? 520 : 700, 2, 0.0, OTK_GROUND_SQEUCLIDEAN, 0.0,
                       OTK_RELATIVE_STD, 6);
    check_relative_eps(40, 2, 1e3, OTK_GROUND_EUCLIDEAN, 0.0, OTK_RELATIVE_STD, 7);
}
END_TEST

/* ------------------------------------------------------------ workspace */

/* Field by field (the struct has padding), bitwise for the doubles. */
static int same_result(const otk_monge_gap_result *a, const otk_monge_gap_result *b)
{
    return memcmp(&a->monge_gap, &b->monge_gap, sizeof(double)) == 0 &&
           memcmp(&a->displacement, &b->displacement, sizeof(double)) == 0 &&
           memcmp(&a->ot_ent, &b->ot_ent, sizeof(double)) == 0 &&
           memcmp(&a->eps, &b->eps, sizeof(double)) == 0 &&
           memcmp(&a->lower_bound, &b->lower_bound, sizeof(double)) == 0 &&
           memcmp(&a->marginal_error, &b->marginal_error, sizeof(double)) == 0 &&
           memcmp(&a->truncation_bound, &b->truncation_bound, sizeof(double)) == 0 &&
           a->iterations == b->iterations && a->backend == b->backend;
}

START_TEST(test_monge_gap_workspace_equals_one_shot)
{
    tk_rng rng = tk_rng_seed(77);
    const size_t n = 40, d = 3;
    double x[120], tx[120], x2[120], tx2[120], w[40];
    double g1[120], gx1[120], g2[120], gx2[120];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_gauss(&rng, n, d, 0.5, 1.0, tx);
    tk_points_gauss(&rng, n, d, 3.0, 0.5, x2);
    tk_points_gauss(&rng, n, d, -1.0, 4.0, tx2);
    tk_weights_random(&rng, n, 1.0, w);
    otk_monge_gap_params par = mg_params(OTK_GROUND_EUCLIDEAN, 0.0, 0.0, 1e-8);
    otk_monge_gap_result one, ws;
    TK_ASSERT_OK(otk_monge_gap_compute(n, d, x, tx, w, &par, &one, g1, gx1));
    otk_monge_gap *mg;
    TK_ASSERT_OK(otk_monge_gap_alloc(&mg, n, d, &par));
    /* an unrelated evaluation first (other points, larger diameter, uniform
     * weights): nothing of it may leak into the next one */
    TK_ASSERT_OK(otk_monge_gap_eval(mg, x2, tx2, NULL, &ws, g2, NULL));
    TK_ASSERT_OK(otk_monge_gap_eval(mg, x, tx, w, &ws, g2, gx2));
    ck_assert(same_result(&one, &ws));
    ck_assert(memcmp(g1, g2, sizeof g1) == 0);
    ck_assert(memcmp(gx1, gx2, sizeof gx1) == 0);
    otk_monge_gap_free(mg);
    otk_monge_gap_free(NULL);
}
END_TEST

/* cache_bytes: the workspace keeps C_ij = c(x_i, T(x_j)) and refills it at
 * each evaluation; values and both gradients equal the on-the-fly ones for a
 * sequence of different maps. */
START_TEST(test_monge_gap_cache_bytes_changes_memory_not_results)
{
    tk_rng rng = tk_rng_seed(78);
    enum { N = 60, D = 8 };
    double x[N * D], tx[3][N * D];
    tk_points_gauss(&rng, N, D, 0.0, 1.0, x);
    tk_points_gauss(&rng, N, D, 0.5, 1.0, tx[0]);
    tk_points_gauss(&rng, N, D, -1.0, 3.0, tx[1]);
    for (size_t k = 0; k < N * D; k++)
        tx[2][k] = 1.1 * x[k];
    for (int rel = 0; rel < 2; rel++) {
        otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, rel ? 0.0 : 4.0, 1e-10);
        par.relative_eps = 0.5;
        otk_monge_gap *lazy, *kept;
        TK_ASSERT_OK(otk_monge_gap_alloc(&lazy, N, D, &par));
        par.cache_bytes = 8 * N * N;
        TK_ASSERT_OK(otk_monge_gap_alloc(&kept, N, D, &par));
        for (int e = 0; e < 3; e++) {
            otk_monge_gap_result r1, r2;
            double g1[N * D], g2[N * D], gx1[N * D], gx2[N * D];
            TK_ASSERT_OK(otk_monge_gap_eval(lazy, x, tx[e], NULL, &r1, g1, gx1));
            TK_ASSERT_OK(otk_monge_gap_eval(kept, x, tx[e], NULL, &r2, g2, gx2));
            ck_assert_int_eq(r1.iterations, r2.iterations);
            ck_assert(r1.eps == r2.eps);
            TK_ASSERT_REL(r2.monge_gap, r1.monge_gap, 1e-11);
            TK_ASSERT_VEC_ABS(g2, g1, N * D, 1e-10, "grad_tx");
            TK_ASSERT_VEC_ABS(gx2, gx1, N * D, 1e-10, "grad_x");
            ck_assert(r1.monge_gap > r1.lower_bound);
        }
        otk_monge_gap_free(lazy);
        otk_monge_gap_free(kept);
    }
}
END_TEST

/* warm_start: the second of two nearby maps starts from the first one's
 * potentials; same value and gradient as a cold start to the tolerance, in
 * fewer iterations; a different ε starts cold. */
START_TEST(test_monge_gap_warm_start_saves_iterations_not_accuracy)
{
    tk_rng rng = tk_rng_seed(78);
    const size_t n = 120, d = 2;
    double x[240], tx[240], tx2[240], gc[240], gw[240];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    for (size_t k = 0; k < n * d; k++)
        tx[k] = 1.3 * x[k] + 0.2;
    for (size_t k = 0; k < n * d; k++)
        tx2[k] = tx[k] + 1e-3 * sin((double)k);
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.5, 1e-11);
    otk_monge_gap_result cold, warm, first;
    TK_ASSERT_OK(otk_monge_gap_compute(n, d, x, tx2, NULL, &par, &cold, gc, NULL));
    par.warm_start = 1;
    otk_monge_gap *mg;
    TK_ASSERT_OK(otk_monge_gap_alloc(&mg, n, d, &par));
    TK_ASSERT_OK(otk_monge_gap_eval(mg, x, tx, NULL, &first, NULL, NULL));
    TK_ASSERT_OK(otk_monge_gap_eval(mg, x, tx2, NULL, &warm, gw, NULL));
    TK_ASSERT_REL(warm.monge_gap, cold.monge_gap, 1e-10);
    TK_ASSERT_VEC_ABS(gw, gc, n * d, 1e-8 * tk_max_abs(gc, n * d), "warm vs cold gradient");
    ck_assert_msg(warm.iterations * 4 < cold.iterations * 3, "warm %d vs cold %d iterations",
                  warm.iterations, cold.iterations);
    otk_monge_gap_free(mg);
    /* A new ε: no warm start from potentials of another problem. */
    otk_monge_gap_params other = par;
    other.eps = 0.7;
    otk_monge_gap_result c2, w2;
    TK_ASSERT_OK(otk_monge_gap_alloc(&mg, n, d, &par));
    TK_ASSERT_OK(otk_monge_gap_eval(mg, x, tx, NULL, &first, NULL, NULL));
    otk_monge_gap_free(mg);
    other.warm_start = 0;
    TK_ASSERT_OK(otk_monge_gap_compute(n, d, x, tx2, NULL, &other, &c2, NULL, NULL));
    other.warm_start = 1;
    TK_ASSERT_OK(otk_monge_gap_alloc(&mg, n, d, &other));
    TK_ASSERT_OK(otk_monge_gap_eval(mg, x, tx2, NULL, &w2, NULL, NULL));
    ck_assert(same_result(&c2, &w2)); /* first evaluation: nothing to start from */
    otk_monge_gap_free(mg);
    par.warm_start = 2;
    TK_ASSERT_FAILS(otk_monge_gap_compute(n, d, x, tx, NULL, &par, &c2, NULL, NULL), OTK_EPARAM,
                    "warm_start = 2");
}
END_TEST

START_TEST(test_monge_gap_threads_do_not_change_results)
{
    if (tk_quick())
        return;
    tk_rng rng = tk_rng_seed(8);
    const size_t n = 300, d = 2;
    double *x = tk_alloc(n * d, sizeof *x), *tx = tk_alloc(n * d, sizeof *tx);
    double *g1 = tk_alloc(n * d, sizeof *g1), *g2 = tk_alloc(n * d, sizeof *g2);
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_gauss(&rng, n, d, 0.0, 1.0, tx);
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.0, 1e-6);
    otk_monge_gap_result r1, r2;
    TK_ASSERT_OK(otk_monge_gap_compute(n, d, x, tx, NULL, &par, &r1, g1, NULL));
    par.threads = 2;
    TK_ASSERT_OK(otk_monge_gap_compute(n, d, x, tx, NULL, &par, &r2, g2, NULL));
    ck_assert(same_result(&r1, &r2));
    ck_assert(memcmp(g1, g2, n * d * sizeof *g1) == 0);
    free(x);
    free(tx);
    free(g1);
    free(g2);
}
END_TEST

/* The multiscale backend (docs/math.md A.11, C.6) against the untruncated
 * on-the-fly solve of the same problem, with an absolute ε small against the
 * clouds.  In 2-D a contraction with a twist (x and T(x) fill different
 * boxes) on 1500 points makes about 23 clusters a side, and blocks are
 * dropped; in 3-D a shear of the unit cube (both clouds fill it: no sparse
 * cluster at the edge of a cloud, whose fitted slopes make the bound loose)
 * on 1000 points makes a 3×3×3 grid, where nearly every block is kept: the
 * coarse-to-fine path.  Both solves stop at a marginal error of 1e-9, which
 * fixes M̂ to about 1e-9 of the cost scale; the truncation moves it by an
 * amount of order ε·truncation_bound (monge_gap.h).  Asserted: |ΔM̂| <=
 * 2ε·bound + 1e-8·M̂, gradients to 1e-5 of their largest entry, bound in
 * [0, 1e-3] (measured: 2-D ΔM̂ 2e-16 where 2ε·bound = 1e-8, gradients 2e-12
 * of 3e-4; 3-D 7e-18 and 9e-18). */
static void smooth_map(size_t n, size_t d, const double *x, double *tx)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) {
            const double *p = x + i * d;
            tx[i * d + k] = d == 2 ? 0.2 + 0.7 * p[k] + 0.15 * sin(4.0 * p[(k + 1) % d])
                                   : p[k] + 0.08 * sin(2.0 * M_PI * p[(k + 1) % d]);
        }
}

START_TEST(test_monge_gap_multiscale_matches_online)
{
    const size_t d = (size_t)_i == 0 ? 2 : 3;
    const size_t n = tk_quick() ? 500 : d == 2 ? 1500 : 1000;
    tk_rng rng = tk_rng_seed(91 + (uint64_t)_i);
    double *x = tk_alloc(n * d, sizeof *x), *tx = tk_alloc(n * d, sizeof *tx);
    double *g[2], *gx[2];
    tk_points_uniform(&rng, n, d, x);
    smooth_map(n, d, x, tx);
    otk_monge_gap_result r[2];
    for (int k = 0; k < 2; k++) {
        otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, d == 2 ? 0.005 : 0.004,
                                             1e-9);
        par.threads = 0;
        par.backend = k ? OTK_BACKEND_MULTISCALE : OTK_BACKEND_ONLINE;
        g[k] = tk_alloc(n * d, sizeof(double));
        gx[k] = tk_alloc(n * d, sizeof(double));
        r[k] = mg_eval(n, d, x, tx, NULL, &par, g[k], gx[k]);
        ck_assert_int_eq(r[k].backend, par.backend);
    }
    ck_assert(r[0].truncation_bound == 0.0);
    ck_assert_msg(r[1].truncation_bound >= 0.0 && r[1].truncation_bound <= 1e-3,
                  "truncation_bound = %g", r[1].truncation_bound);
    ck_assert(r[1].eps == r[0].eps && r[1].displacement == r[0].displacement);
    const double slack = 2.0 * r[1].eps * r[1].truncation_bound + 1e-8 * r[0].monge_gap;
    ck_assert_msg(fabs(r[1].monge_gap - r[0].monge_gap) <= slack,
                  "multiscale %.17g vs online %.17g (slack %g)", r[1].monge_gap, r[0].monge_gap,
                  slack);
    ck_assert(r[1].monge_gap > r[1].lower_bound);
    TK_ASSERT_VEC_ABS(g[1], g[0], n * d, 1e-5 * tk_max_abs(g[0], n * d), "grad_tx");
    TK_ASSERT_VEC_ABS(gx[1], gx[0], n * d, 1e-5 * tk_max_abs(gx[0], n * d), "grad_x");
    /* The workspace rebuilds the clusters for each map: a second map (the
     * first with its coordinates swapped, far from optimal) evaluated after
     * the first gives bitwise what a fresh one-shot call gives. */
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.005, 1e-9);
    par.threads = 0;
    par.backend = OTK_BACKEND_MULTISCALE;
    if (d == 2) {
        otk_monge_gap *mg;
        otk_monge_gap_result ws, one;
        TK_ASSERT_OK(otk_monge_gap_alloc(&mg, n, d, &par));
        TK_ASSERT_OK(otk_monge_gap_eval(mg, x, tx, NULL, &ws, NULL, NULL));
        for (size_t i = 0; i < n; i++) {
            const double t = tx[i * d];
            tx[i * d] = tx[i * d + 1];
            tx[i * d + 1] = t;
        }
        TK_ASSERT_OK(otk_monge_gap_eval(mg, x, tx, NULL, &ws, g[0], NULL));
        TK_ASSERT_OK(otk_monge_gap_compute(n, d, x, tx, NULL, &par, &one, g[1], NULL));
        ck_assert(same_result(&ws, &one));
        ck_assert(memcmp(g[0], g[1], n * d * sizeof(double)) == 0);
        otk_monge_gap_free(mg);
    }
    for (int k = 0; k < 2; k++) {
        free(g[k]);
        free(gx[k]);
    }
    free(x);
    free(tx);
}
END_TEST

/* auto: multiscale from n² >= OTK_BACKEND_AUTO_PAIRS in d <= 3, online below
 * it, in d > 3 and with a kept matrix; dense keeps the matrix (the values of
 * the cache test).  max_iter = 1: only the choice is looked at. */
START_TEST(test_monge_gap_backend_auto_and_refusals)
{
    const size_t nbig = 10000;
    const struct {
        size_t n, d;
        size_t cache;
        otk_backend want;
    } cases[] = {
        {nbig, 2, 0, OTK_BACKEND_MULTISCALE},
        {nbig - 1, 2, 0, OTK_BACKEND_ONLINE},
        {200, 4, 0, OTK_BACKEND_ONLINE},
        {200, 2, 8 * 200 * 200, OTK_BACKEND_DENSE},
    };
    tk_rng rng = tk_rng_seed(92);
    double *x = tk_alloc(nbig * 4, sizeof *x), *tx = tk_alloc(nbig * 4, sizeof *tx);
    tk_points_uniform(&rng, nbig, 4, x);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        smooth_map(cases[c].n, cases[c].d, x, tx);
        otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.01, 1e-9);
        par.threads = 0;
        par.max_iter = 1;
        par.cache_bytes = cases[c].cache;
        otk_monge_gap_result r;
        const otk_status st =
            otk_monge_gap_compute(cases[c].n, cases[c].d, x, tx, NULL, &par, &r, NULL, NULL);
        ck_assert_msg(st == OTK_SUCCESS || st == OTK_NOT_CONVERGED, "case %zu: %s", c,
                      otk_last_error());
        ck_assert_msg(r.backend == cases[c].want, "case %zu: backend %s, expected %s", c,
                      otk_backend_name(r.backend), otk_backend_name(cases[c].want));
    }
    /* dense: the n×n matrix kept, the values of online. */
    smooth_map(300, 2, x, tx);
    otk_monge_gap_result ro, rd;
    double go[600], gd[600];
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.05, 1e-10);
    par.backend = OTK_BACKEND_ONLINE;
    ro = mg_eval(300, 2, x, tx, NULL, &par, go, NULL);
    par.backend = OTK_BACKEND_DENSE;
    rd = mg_eval(300, 2, x, tx, NULL, &par, gd, NULL);
    ck_assert_int_eq(rd.backend, OTK_BACKEND_DENSE);
    ck_assert_int_eq(ro.iterations, rd.iterations);
    TK_ASSERT_REL(rd.monge_gap, ro.monge_gap, 1e-11);
    TK_ASSERT_VEC_ABS(gd, go, 600, 1e-10, "dense grad_tx");
    /* Refusals, at alloc: named parameter, distinct status. */
    otk_monge_gap *mg = NULL;
    par.backend = OTK_BACKEND_MULTISCALE;
    TK_ASSERT_FAILS(otk_monge_gap_alloc(&mg, 50, 4, &par), OTK_EUNSUPPORTED, "d = 4");
    ck_assert_ptr_null(mg);
    par.ground = OTK_GROUND_L1;
    TK_ASSERT_FAILS(otk_monge_gap_alloc(&mg, 50, 2, &par), OTK_EUNSUPPORTED, "l1");
    par.ground = OTK_GROUND_SQEUCLIDEAN;
    par.truncate = 0.0;
    TK_ASSERT_FAILS(otk_monge_gap_alloc(&mg, 50, 2, &par), OTK_EPARAM, "truncate = 0");
    par.truncate = NAN;
    TK_ASSERT_FAILS(otk_monge_gap_compute(50, 2, x, tx, NULL, &par, &rd, NULL, NULL), OTK_EPARAM,
                    "truncate = nan");
    par.truncate = 12.0;
    par.backend = (otk_backend)9;
    TK_ASSERT_FAILS(otk_monge_gap_alloc(&mg, 50, 2, &par), OTK_EPARAM, "backend = 9");
    free(x);
    free(tx);
}
END_TEST

START_TEST(test_monge_gap_not_converged_is_a_warning)
{
    tk_rng rng = tk_rng_seed(3);
    double x[40], tx[40], g[40];
    tk_points_gauss(&rng, 20, 2, 0.0, 1.0, x);
    tk_points_gauss(&rng, 20, 2, 0.0, 1.0, tx);
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 1e-3, 1e-14);
    par.max_iter = 2;
    otk_monge_gap_result r;
    ck_assert_int_eq(otk_monge_gap_compute(20, 2, x, tx, NULL, &par, &r, g, NULL), OTK_NOT_CONVERGED);
    ck_assert(isfinite(r.monge_gap) && r.marginal_error > 1e-14 && tk_all_finite(g, 40));
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(test_monge_gap_bad_input)
{
    double x[6] = {0, 1, 2, 3, 4, 5}, tx[6] = {1, 1, 2, 2, 3, 3}, w[3] = {0.2, 0.3, 0.5};
    otk_monge_gap_params par = mg_params(OTK_GROUND_SQEUCLIDEAN, 0.0, 0.1, 1e-6);
    otk_monge_gap_result r;
    double nanx[6] = {0, 1, NAN, 3, 4, 5};
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, nanx, tx, NULL, &par, &r, NULL, NULL), OTK_ENONFINITE,
                    "x[2]");
    double inftx[6] = {0, 1, 2, 3, INFINITY, 5};
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, inftx, NULL, &par, &r, NULL, NULL), OTK_ENONFINITE,
                    "tx[4]");
    TK_ASSERT_FAILS(otk_monge_gap_compute(0, 2, x, tx, NULL, &par, &r, NULL, NULL), OTK_ESIZE, "n = 0");
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 0, x, tx, NULL, &par, &r, NULL, NULL), OTK_ESIZE, "d = 0");
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, NULL, tx, NULL, &par, &r, NULL, NULL), OTK_ENULL, "x");
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, NULL, &par, NULL, NULL, NULL), OTK_ENULL, "res");
    double negw[3] = {0.6, -0.1, 0.5};
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, negw, &par, &r, NULL, NULL), OTK_ENEGATIVE,
                    "w[1]");
    double nanw[3] = {0.6, NAN, 0.4};
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, nanw, &par, &r, NULL, NULL), OTK_ENONFINITE,
                    "w[1]");
    double zerow[3] = {0, 0, 0};
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, zerow, &par, &r, NULL, NULL), OTK_EZEROMASS, "w");
    double halfw[3] = {0.2, 0.2, 0.1};
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, halfw, &par, &r, NULL, NULL), OTK_EMASS,
                    "w sums to 0.5");
    otk_monge_gap_params bad = par;
    bad.eps = -1.0;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.eps = -1");
    bad.eps = NAN;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.eps");
    bad = par;
    bad.eps = 0.0;
    bad.relative_eps = 0.0;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.relative_eps = 0");
    bad.relative_eps = -0.5;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.relative_eps = -0.5");
    bad = par;
    bad.relative_to = (otk_relative_to)7;
    bad.eps = 0.0;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.relative_to = 7");
    bad = par;
    bad.ground = (otk_ground)42;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.ground = 42");
    bad = par;
    bad.ground = OTK_GROUND_LP;
    bad.power = 0.0;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.power = 0");
    bad = par;
    bad.tol = 0.0;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.tol");
    bad = par;
    bad.max_iter = 0;
    TK_ASSERT_FAILS(otk_monge_gap_compute(3, 2, x, tx, w, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "params.max_iter");
    otk_ground gr;
    TK_ASSERT_FAILS(otk_ground_from_name("sqeuclidian", &gr), OTK_EPARAM, "sqeuclidian");
    /* relative ε of a constant cost matrix: 0, refused (n = 1 always is) */
    bad = par;
    bad.eps = 0.0;
    TK_ASSERT_FAILS(otk_monge_gap_compute(1, 2, x, tx, NULL, &bad, &r, NULL, NULL), OTK_EPARAM,
                    "relative eps");
    /* outputs untouched on error */
    otk_monge_gap_result keep;
    memset(&keep, 0x5a, sizeof keep);
    r = keep;
    double g[6] = {7, 7, 7, 7, 7, 7};
    ck_assert(otk_monge_gap_compute(3, 2, nanx, tx, NULL, &par, &r, g, NULL) < 0);
    ck_assert(same_result(&r, &keep) && g[0] == 7.0);
    /* workspace */
    otk_monge_gap *mg;
    TK_ASSERT_FAILS(otk_monge_gap_alloc(NULL, 3, 2, &par), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_monge_gap_alloc(&mg, 0, 2, &par), OTK_ESIZE, "n = 0");
    ck_assert(mg == NULL);
    TK_ASSERT_FAILS(otk_monge_gap_eval(NULL, x, tx, NULL, &r, NULL, NULL), OTK_ENULL,
                    "workspace");
}
END_TEST

/* ------------------------------------------------------------ entropic map */

static otk_sinkhorn_params em_params(double eps, double tol)
{
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = eps;
    par.tol = tol;
    par.max_iter = 100000;
    par.threads = 1;
    return par;
}

START_TEST(test_entropic_map_on_training_points_is_barycentric)
{
    tk_rng rng = tk_rng_seed(101);
    const size_t n = 30, m = 45, d = 3;
    double x[90], y[135], a[30], b[45], t1[90], t2[90], py[90], row[30];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_gauss(&rng, m, d, 1.0, 0.7, y);
    tk_weights_random(&rng, n, 1.0, a);
    tk_weights_random(&rng, m, 1.0, b);
    const otk_ground grounds[] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_EUCLIDEAN, OTK_GROUND_L1};
    for (int gi = 0; gi < 3; gi++) {
        otk_sinkhorn_params par = em_params(0.2, 1e-12);
        otk_entropic_map *T;
        TK_ASSERT_OK(otk_entropic_map_fit(&T, n, m, d, x, y, a, b, grounds[gi], 0.0, &par));
        TK_ASSERT_OK(otk_entropic_map_apply(T, n, x, t1, 1));
        otk_cost *c;
        otk_sinkhorn *s;
        TK_ASSERT_OK(otk_cost_points(&c, n, m, d, x, y, grounds[gi], 0.0));
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
        TK_ASSERT_OK(otk_sinkhorn_solve(s, a, b, NULL));
        TK_ASSERT_OK(otk_sinkhorn_barycentric(s, d, y, t2));
        TK_ASSERT_VEC_ABS(t1, t2, n * d, 1e-12, "T(x_i) vs barycentric projection");
        /* Σ_j P_ij y_j / a_i: equal at convergence (row sums = a to 1e-12) */
        TK_ASSERT_OK(otk_sinkhorn_plan_apply(s, 0, d, y, py));
        TK_ASSERT_OK(otk_sinkhorn_marginals(s, row, NULL));
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < d; k++)
                py[i * d + k] /= a[i];
        TK_ASSERT_VEC_ABS(t1, py, n * d, 1e-10, "T(x_i) vs sum_j P_ij y_j / a_i");
        otk_sinkhorn_free(s);
        otk_cost_free(c);
        otk_entropic_map_free(T);
    }
}
END_TEST

START_TEST(test_entropic_map_round_trip_and_continuity)
{
    tk_rng rng = tk_rng_seed(202);
    const size_t n = 25, m = 35, d = 2, nz = 50;
    double x[50], y[70], z[100], t1[100], t2[100], zp[100], tp[100];
    tk_points_gauss(&rng, n, d, 0.0, 1.0, x);
    tk_points_uniform(&rng, m, d, y);
    tk_points_gauss(&rng, nz, d, 0.0, 3.0, z); /* also far outside the training cloud */
    otk_sinkhorn_params par = em_params(0.0, 1e-9);
    par.blur = 0.3;
    otk_entropic_map *T, *U;
    TK_ASSERT_OK(otk_entropic_map_fit(&T, n, m, d, x, y, NULL, NULL, OTK_GROUND_HALF_SQEUCLIDEAN,
                                      0.0, &par));
    size_t mm, dd;
    const double *yy, *bb, *gg;
    double eps, power;
    otk_ground ground;
    TK_ASSERT_OK(otk_entropic_map_data(T, &mm, &dd, &yy, &bb, &gg, &eps, &ground, &power));
    ck_assert(mm == m && dd == d && ground == OTK_GROUND_HALF_SQEUCLIDEAN);
    TK_ASSERT_REL(eps, 0.09, 1e-15); /* blur^p, p = 2 */
    ck_assert(memcmp(yy, y, sizeof y) == 0);
    TK_ASSERT_REL(bb[3], 1.0 / (double)m, 0.0);
    TK_ASSERT_OK(otk_entropic_map_from_potential(&U, mm, dd, yy, bb, gg, eps, ground, power));
    TK_ASSERT_OK(otk_entropic_map_apply(T, nz, z, t1, 1));
    TK_ASSERT_OK(otk_entropic_map_apply(U, nz, z, t2, 0));
    ck_assert(memcmp(t1, t2, sizeof t1) == 0);
    /* inside the bounding box of y (a convex combination of the y_j) */
    for (size_t i = 0; i < nz * d; i++)
        ck_assert(t1[i] >= -1e-12 && t1[i] <= 1.0 + 1e-12);
    /* continuity: a step of 1e-7 moves T by at most L·1e-7, L = diam²/ε here */
    for (size_t i = 0; i < nz * d; i++)
        zp[i] = z[i] + 1e-7 * tk_gauss(&rng);
    TK_ASSERT_OK(otk_entropic_map_apply(T, nz, zp, tp, 1));
    TK_ASSERT_VEC_ABS(t1, tp, nz * d, 2.0 / 0.09 * 1e-7 * 10.0, "T(z + dz) vs T(z)");
    otk_entropic_map_free(T);
    otk_entropic_map_free(U);
    otk_entropic_map_free(NULL);
}
END_TEST

/* The symmetric square root of a 2×2 SPD matrix: (M + √det I)/√(tr + 2√det). */
static void sqrtm2(const double *M, double *S)
{
    const double sd = sqrt(M[0] * M[3] - M[1] * M[2]);
    const double t = sqrt(M[0] + M[3] + 2.0 * sd);
    S[0] = (M[0] + sd) / t;
    S[1] = M[1] / t;
    S[2] = M[2] / t;
    S[3] = (M[3] + sd) / t;
}

static void mul2(const double *A, const double *B, double *C)
{
    double r[4] = {A[0] * B[0] + A[1] * B[2], A[0] * B[1] + A[1] * B[3],
                   A[2] * B[0] + A[3] * B[2], A[2] * B[1] + A[3] * B[3]};
    memcpy(C, r, sizeof r);
}

static void inv2(const double *A, double *B)
{
    const double det = A[0] * A[3] - A[1] * A[2];
    double r[4] = {A[3] / det, -A[1] / det, -A[2] / det, A[0] / det};
    memcpy(B, r, sizeof r);
}

/* Between N(m1, Σ1) and N(m2, Σ2) the quadratic-cost OT map is
 * T*(x) = m2 + A (x − m1), A = Σ1^{-1/2} (Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2} Σ1^{-1/2}.
 * The entropic map fitted on samples approaches it as n grows and ε shrinks;
 * both the sampling error and the entropic bias are a few percent here. */
START_TEST(test_entropic_map_gaussians_approach_closed_form)
{
    tk_rng rng = tk_rng_seed(303);
    const size_t n = tk_quick() ? 400 : 1500, d = 2, nz = 200;
    const double S1[4] = {1.0, 0.3, 0.3, 0.5}, S2[4] = {2.0, -0.6, -0.6, 1.0};
    const double m1[2] = {0.0, 0.0}, m2[2] = {2.0, -1.0};
    double L1[4], L2[4], r1[4], r1i[4], mid[4], smid[4], A[4];
    /* Cholesky-free sampling: x = m + Σ^{1/2} ξ */
    sqrtm2(S1, L1);
    sqrtm2(S2, L2);
    r1[0] = L1[0], r1[1] = L1[1], r1[2] = L1[2], r1[3] = L1[3];
    inv2(r1, r1i);
    mul2(r1, S2, mid);
    mul2(mid, r1, mid);
    sqrtm2(mid, smid);
    mul2(r1i, smid, A);
    mul2(A, r1i, A);
    double *x = tk_alloc(n * d, sizeof *x), *y = tk_alloc(n * d, sizeof *y);
    double *xi = tk_alloc(n * d, sizeof *xi);
    tk_points_gauss(&rng, n, d, 0.0, 1.0, xi);
    apply_linear(n, d, L1, m1, xi, x);
    tk_points_gauss(&rng, n, d, 0.0, 1.0, xi);
    apply_linear(n, d, L2, m2, xi, y);
    /* held-out points within ~1.5 standard deviations (the tails are where
     * a sample-based map has no data) */
    double z[400], tz[400], ts[400];
    size_t got = 0;
    while (got < nz) {
        double e[2] = {tk_gauss(&rng), tk_gauss(&rng)};
        if (e[0] * e[0] + e[1] * e[1] > 2.25)
            continue;
        apply_linear(1, d, L1, m1, e, z + got * d);
        got++;
    }
    apply_linear(nz, d, A, NULL, z, ts);
    for (size_t i = 0; i < nz; i++)
        for (size_t k = 0; k < d; k++)
            ts[i * d + k] += m2[k] - (A[k * 2] * m1[0] + A[k * 2 + 1] * m1[1]);
    const double var2 = S2[0] + S2[3];
    double prev = INFINITY;
    const double epss[] = {0.5, 0.05};
    for (int e = 0; e < 2; e++) {
        /* tol 1e-4: the map moves by ~1e-4 of its spread, far below the
         * errors measured here, and the solve is 5 times shorter than at 1e-6 */
        otk_sinkhorn_params par = em_params(epss[e], 1e-4);
        par.threads = 0;
        otk_entropic_map *T;
        TK_ASSERT_OK(otk_entropic_map_fit(&T, n, n, d, x, y, NULL, NULL, OTK_GROUND_SQEUCLIDEAN,
                                          0.0, &par));
        TK_ASSERT_OK(otk_entropic_map_apply(T, nz, z, tz, 0));
        double mse = 0.0;
        for (size_t i = 0; i < nz * d; i++)
            mse += (tz[i] - ts[i]) * (tz[i] - ts[i]);
        mse /= (double)nz;
        const double uvp = 100.0 * mse / var2;
        fprintf(stderr, "entropic map, Gaussians d = 2, n = %zu, eps = %g: L2-UVP = %.3f%%\n", n,
                epss[e], uvp);
        ck_assert_msg(uvp < prev, "UVP did not decrease with eps");
        prev = uvp;
        otk_entropic_map_free(T);
    }
    ck_assert_msg(prev < 2.0, "L2-UVP %.3f%% >= 2%% at eps = 0.05", prev);
    free(x);
    free(y);
    free(xi);
}
END_TEST

START_TEST(test_entropic_map_bad_input)
{
    double x[4] = {0, 1, 2, 3}, y[6] = {0, 0, 1, 1, 2, 2}, g[3] = {0, 0, 0}, z[2] = {0, 0};
    double tz[2], b[3] = {0.5, 0.5, 0.0};
    otk_entropic_map *T;
    otk_sinkhorn_params par = em_params(0.1, 1e-9);
    double nanx[4] = {0, NAN, 2, 3};
    TK_ASSERT_FAILS(otk_entropic_map_fit(&T, 2, 3, 2, nanx, y, NULL, NULL,
                                         OTK_GROUND_SQEUCLIDEAN, 0.0, &par),
                    OTK_ENONFINITE, "x[1]");
    ck_assert(T == NULL);
    TK_ASSERT_FAILS(otk_entropic_map_fit(&T, 0, 3, 2, x, y, NULL, NULL, OTK_GROUND_SQEUCLIDEAN,
                                         0.0, &par),
                    OTK_ESIZE, "n = 0");
    TK_ASSERT_FAILS(otk_entropic_map_fit(&T, 2, 3, 0, x, y, NULL, NULL, OTK_GROUND_SQEUCLIDEAN,
                                         0.0, &par),
                    OTK_ESIZE, "d = 0");
    double nega[2] = {1.5, -0.5};
    TK_ASSERT_FAILS(otk_entropic_map_fit(&T, 2, 3, 2, x, y, nega, NULL, OTK_GROUND_SQEUCLIDEAN,
                                         0.0, &par),
                    OTK_ENEGATIVE, "a[1]");
    TK_ASSERT_FAILS(otk_entropic_map_fit(&T, 2, 3, 2, x, y, NULL, NULL, (otk_ground)9, 0.0, &par),
                    OTK_EPARAM, "ground = 9");
    otk_sinkhorn_params badp = par;
    badp.eps = -1.0;
    TK_ASSERT_FAILS(otk_entropic_map_fit(&T, 2, 3, 2, x, y, NULL, NULL, OTK_GROUND_SQEUCLIDEAN,
                                         0.0, &badp),
                    OTK_EPARAM, "params.eps = -1");
    badp = par;
    badp.rho_a = 1.0;
    TK_ASSERT_FAILS(otk_entropic_map_fit(&T, 2, 3, 2, x, y, NULL, NULL, OTK_GROUND_SQEUCLIDEAN,
                                         0.0, &badp),
                    OTK_EPARAM, "balanced");
    TK_ASSERT_FAILS(otk_entropic_map_from_potential(&T, 3, 2, y, b, g, 0.0,
                                                    OTK_GROUND_SQEUCLIDEAN, 0.0),
                    OTK_EPARAM, "eps = 0");
    double nang[3] = {0, NAN, 0};
    TK_ASSERT_FAILS(otk_entropic_map_from_potential(&T, 3, 2, y, b, nang, 0.1,
                                                    OTK_GROUND_SQEUCLIDEAN, 0.0),
                    OTK_ENONFINITE, "g[1]");
    double negb[3] = {0.5, -0.5, 1.0};
    TK_ASSERT_FAILS(otk_entropic_map_from_potential(&T, 3, 2, y, negb, g, 0.1,
                                                    OTK_GROUND_SQEUCLIDEAN, 0.0),
                    OTK_ENEGATIVE, "b[1]");
    TK_ASSERT_FAILS(otk_entropic_map_from_potential(&T, 0, 2, y, b, g, 0.1,
                                                    OTK_GROUND_SQEUCLIDEAN, 0.0),
                    OTK_ESIZE, "m = 0");
    TK_ASSERT_FAILS(otk_entropic_map_from_potential(&T, 3, 2, y, b, g, 0.1, OTK_GROUND_LP, -1.0),
                    OTK_EPARAM, "power = -1");
    /* a zero weight is allowed: that atom is never a destination */
    TK_ASSERT_OK(otk_entropic_map_from_potential(&T, 3, 2, y, b, g, 0.1, OTK_GROUND_SQEUCLIDEAN,
                                                 0.0));
    double far[2] = {2, 2};
    TK_ASSERT_OK(otk_entropic_map_apply(T, 1, far, tz, 1));
    TK_ASSERT_ABS(tz[0], 1.0, 1e-12); /* y_2 has weight 0: the nearest live atom is y_1 */
    double nanz[2] = {0, NAN};
    TK_ASSERT_FAILS(otk_entropic_map_apply(T, 1, nanz, tz, 1), OTK_ENONFINITE, "z[1]");
    TK_ASSERT_FAILS(otk_entropic_map_apply(T, 0, z, tz, 1), OTK_ESIZE, "n must be > 0");
    TK_ASSERT_FAILS(otk_entropic_map_apply(NULL, 1, z, tz, 1), OTK_ENULL, "map");
    TK_ASSERT_FAILS(otk_entropic_map_data(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                    OTK_ENULL, "map");
    otk_entropic_map_free(T);
}
END_TEST

Suite *monge_gap_suite(void)
{
    Suite *s = suite_create("monge_gap");
    TCase *tc = tcase_create("values");
    tk_set_timeout(tc, 60);
    tcase_add_test(tc, test_monge_gap_matches_pot);
    tcase_add_test(tc, test_monge_gap_ot_ent_is_ot_kl_minus_entropies);
    tcase_add_test(tc, test_monge_gap_lower_bound_random_maps);
    tcase_add_test(tc, test_monge_gap_optimal_maps_near_bound_rotation_far);
    tcase_add_test(tc, test_monge_gap_identity_tends_to_bound);
    tcase_add_test(tc, test_monge_gap_relative_eps_brute_force);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tk_set_timeout(tc, 60);
    tcase_add_test(tc, test_monge_gap_gradients_finite_differences);
    tcase_add_test(tc, test_monge_gap_gradient_is_barycentric_preimage);
    tcase_add_test(tc, test_monge_gap_relative_eps_gradient_is_stop_gradient);
    tcase_add_test(tc, test_monge_gap_zero_weight_removes_the_point);
    suite_add_tcase(s, tc);
    tc = tcase_create("workspace");
    tk_set_timeout(tc, 60);
    tcase_add_test(tc, test_monge_gap_workspace_equals_one_shot);
    tcase_add_test(tc, test_monge_gap_cache_bytes_changes_memory_not_results);
    tcase_add_test(tc, test_monge_gap_warm_start_saves_iterations_not_accuracy);
    tcase_add_test(tc, test_monge_gap_threads_do_not_change_results);
    tcase_add_test(tc, test_monge_gap_not_converged_is_a_warning);
    tcase_add_test(tc, test_monge_gap_bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("multiscale");
    tk_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_monge_gap_multiscale_matches_online, 0, 2);
    tcase_add_test(tc, test_monge_gap_backend_auto_and_refusals);
    suite_add_tcase(s, tc);
    tc = tcase_create("entropic_map");
    tk_set_timeout(tc, 60);
    tcase_add_test(tc, test_entropic_map_on_training_points_is_barycentric);
    tcase_add_test(tc, test_entropic_map_round_trip_and_continuity);
    tcase_add_test(tc, test_entropic_map_bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("entropic_map_gaussians");
    tk_set_timeout(tc, 120);
    tcase_add_test(tc, test_entropic_map_gaussians_approach_closed_form);
    suite_add_tcase(s, tc);
    return s;
}
