/*
 * tests/test_sinkhorn.c — the log-domain Sinkhorn solver (otkit/sinkhorn.h):
 * hand-derivable solutions, invariants that hold at convergence, agreement
 * between cost kinds, update forms and thread counts, the unbalanced problem,
 * the ε-schedules, and every error and warning status of the solver API.
 *
 * Unless a test says otherwise, solvers run with threads = 1 (the thread test
 * compares 1 and 2), so the suite is deterministic and clean under valgrind.
 */
#include "test_helpers.h"

/* ------------------------------------------------------------ fixtures */

typedef struct {
    size_t n, m, d;
    double *x, *y, *a, *b;
} problem;

/* Source points uniform in the unit square/cube, targets Gaussian around its
 * centre (so the two clouds differ), random positive weights of the given
 * masses. */
static problem problem_random(uint64_t seed, size_t n, size_t m, size_t d, double mass_a,
                              double mass_b)
{
    tk_rng r = tk_rng_seed(seed);
    problem p = {n, m, d, tk_alloc(n * d, sizeof(double)), tk_alloc(m * d, sizeof(double)),
                 tk_alloc(n, sizeof(double)), tk_alloc(m, sizeof(double))};
    tk_points_uniform(&r, n, d, p.x);
    tk_points_gauss(&r, m, d, 0.5, 0.3, p.y);
    tk_weights_random(&r, n, mass_a, p.a);
    tk_weights_random(&r, m, mass_b, p.b);
    return p;
}

static void problem_free(problem *p)
{
    free(p->x);
    free(p->y);
    free(p->a);
    free(p->b);
}

static otk_cost *points_cost(const problem *p, otk_ground g, double power)
{
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_points(&c, p->n, p->m, p->d, p->x, p->y, g, power));
    return c;
}

/* Converge schedule at ε to tolerance tol, serial, with room to converge. */
static otk_sinkhorn_params params_converge(double eps, double tol)
{
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = eps;
    par.tol = tol;
    par.max_iter = 100000;
    par.threads = 1;
    return par;
}

/* Solve and require OTK_SUCCESS; the caller frees the solver. */
static otk_sinkhorn *solve_ok(const otk_cost *c, const otk_sinkhorn_params *par, const double *a,
                              const double *b, otk_sinkhorn_result *res)
{
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, par));
    otk_status st = otk_sinkhorn_solve(s, a, b, res);
    ck_assert_msg(st == OTK_SUCCESS, "solve returned %s: %s (marginal error %.3g after %d)",
                  otk_status_name(st), otk_last_error(), res->marginal_error, res->iterations);
    ck_assert_int_eq(res->status, OTK_SUCCESS);
    return s;
}

/* Relative L1 errors ‖r − a‖₁/Σa and ‖c − b‖₁/Σb of the solver's plan. */
static void marginal_errors(otk_sinkhorn *s, size_t n, size_t m, const double *a, const double *b,
                            double *err_a, double *err_b)
{
    double *r = tk_alloc(n, sizeof *r), *c = tk_alloc(m, sizeof *c);
    TK_ASSERT_OK(otk_sinkhorn_marginals(s, r, c));
    double ea = 0.0, eb = 0.0;
    for (size_t i = 0; i < n; i++)
        ea += fabs(r[i] - a[i]);
    for (size_t j = 0; j < m; j++)
        eb += fabs(c[j] - b[j]);
    *err_a = ea / tk_sum(a, n);
    *err_b = eb / tk_sum(b, m);
    free(r);
    free(c);
}

/* Compare balanced potentials modulo the gauge (f + λ, g − λ): the λ that
 * best aligns f with f_ref is applied to both. */
static void assert_potentials_match_modulo_shift(const double *f, const double *g,
                                                 const double *f_ref, const double *g_ref,
                                                 const double *a, size_t n, size_t m, double atol,
                                                 const char *what)
{
    const double lambda = tk_gauge_shift(f, f_ref, a, n);
    double *fs = tk_alloc(n, sizeof *fs), *gs = tk_alloc(m, sizeof *gs);
    for (size_t i = 0; i < n; i++)
        fs[i] = f[i] + lambda;
    for (size_t j = 0; j < m; j++)
        gs[j] = g[j] - lambda;
    TK_ASSERT_VEC_ABS(fs, f_ref, n, atol, what);
    TK_ASSERT_VEC_ABS(gs, g_ref, m, atol, what);
    free(fs);
    free(gs);
}

/* ------------------------------------------------------------ closed forms */

START_TEST(test_one_by_one_problem_transports_all_mass_at_cost_c)
{
    /* n = m = 1, a = b = 1: the only plan is P = a·b = 1, so KL(P|a⊗b) = 0,
     * H(a) = H(b) = H(P) = 0 and OT_lin = OT_kl = OT_ent = C; the plan formula
     * P = a b e^{(f+g−C)/ε} = 1 forces f + g = C. */
    const double C = 2.75;
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 1, 1, &C, 1));
    const double eps_values[3] = {10.0, 0.1, 1e-3};
    for (int k = 0; k < 3; k++) {
        otk_sinkhorn_params par = params_converge(eps_values[k], 1e-14);
        otk_sinkhorn_result res;
        const double one = 1.0;
        otk_sinkhorn *s = solve_ok(c, &par, &one, &one, &res);
        /* 1e-14: a handful of roundings of numbers of size C. */
        TK_ASSERT_REL(res.ot_lin, C, 1e-14);
        TK_ASSERT_REL(res.ot_kl, C, 1e-14);
        TK_ASSERT_REL(res.ot_ent, C, 1e-14);
        TK_ASSERT_REL(otk_sinkhorn_potential_f(s)[0] + otk_sinkhorn_potential_g(s)[0], C, 1e-14);
        double P = NAN;
        TK_ASSERT_OK(otk_sinkhorn_plan(s, &P));
        TK_ASSERT_REL(P, 1.0, 1e-14);
        ck_assert_double_eq(res.eps, eps_values[k]);
        ck_assert_double_eq(res.mass_a, 1.0);
        ck_assert_double_eq(res.mass_b, 1.0);
        otk_sinkhorn_free(s);
    }
    otk_cost_free(c);
}
END_TEST

START_TEST(test_two_by_two_symmetric_cost_has_the_closed_form_plan)
{
    /* C = [[0, c], [c, 0]], a = b = (½, ½).  By symmetry the plan is
     * [[p, q], [q, p]]; the marginals give p + q = ½ and the Gibbs form
     * P = a b e^{(f⊕g − C)/ε} gives p/q = e^{c/ε}.  Hence
     *   q = 1 / (2(1 + e^{c/ε})),  OT_lin = 2qc,
     *   OT_kl  = OT_lin + ε·2[p log 4p + q log 4q]   (KL(P|a⊗b), a⊗b = ¼),
     *   OT_ent = OT_lin + ε·2[p log p + q log q]     (−ε H(P)),
     * so OT_kl − OT_ent = 2ε log 2 = ε(H(a) + H(b)). */
    const double cval = 1.0;
    const double C[4] = {0.0, cval, cval, 0.0};
    const double w[2] = {0.5, 0.5};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 2, C, 2));
    const double eps_values[3] = {2.0, 0.25, 0.05};
    for (int k = 0; k < 3; k++) {
        const double eps = eps_values[k];
        const double q = 0.5 / (1.0 + exp(cval / eps)), p = 0.5 - q;
        const double lin = 2.0 * q * cval;
        const double kl = lin + eps * 2.0 * (p * log(4.0 * p) + q * log(4.0 * q));
        const double ent = lin + eps * 2.0 * (p * log(p) + q * log(q));
        otk_sinkhorn_params par = params_converge(eps, 1e-14);
        otk_sinkhorn_result res;
        otk_sinkhorn *s = solve_ok(c, &par, w, w, &res);
        double P[4];
        TK_ASSERT_OK(otk_sinkhorn_plan(s, P));
        /* 1e-12 relative: the marginal error is <= 1e-14 and the plan entries
         * are exponentials of O(c/ε) <= 20 quantities, so a few hundred ulp. */
        TK_ASSERT_REL(P[0], p, 1e-12);
        TK_ASSERT_REL(P[3], p, 1e-12);
        TK_ASSERT_REL(P[1], q, 1e-12);
        TK_ASSERT_REL(P[2], q, 1e-12);
        TK_ASSERT_REL(res.ot_lin, lin, 1e-12);
        TK_ASSERT_REL(res.ot_kl, kl, 1e-12);
        TK_ASSERT_REL(res.ot_ent, ent, 1e-12);
        TK_ASSERT_REL(res.ot_kl - res.ot_ent, 2.0 * eps * log(2.0), 1e-12);
        /* The potentials reproduce the plan: f_i + g_j = C_ij + ε log(P_ij / a_i b_j). */
        const double *f = otk_sinkhorn_potential_f(s), *g = otk_sinkhorn_potential_g(s);
        TK_ASSERT_ABS(f[0] + g[0], eps * log(4.0 * p), 1e-12 * (1.0 + cval));
        TK_ASSERT_ABS(f[1] + g[0], cval + eps * log(4.0 * q), 1e-12 * (1.0 + cval));
        otk_sinkhorn_free(s);
    }
    otk_cost_free(c);
}
END_TEST

START_TEST(test_single_source_atom_sends_exactly_the_target_weights)
{
    /* n = 1: the column marginal forces P_0j = b_j for any ε, so
     * OT_lin = Σ_j b_j C_0j, KL(P|a⊗b) = 0 (a = 1), OT_kl = OT_lin and
     * OT_ent = OT_lin − ε H(b). */
    enum { m = 7 };
    tk_rng r = tk_rng_seed(5);
    double x[2] = {0.3, 0.7}, y[m * 2], b[m];
    tk_points_uniform(&r, m, 2, y);
    tk_weights_random(&r, m, 1.0, b);
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_points(&c, 1, m, 2, x, y, OTK_GROUND_EUCLIDEAN, 0.0));
    double lin = 0.0;
    for (size_t j = 0; j < m; j++)
        lin += b[j] * tk_ground_cost(OTK_GROUND_EUCLIDEAN, 0.0, 2, x, y + 2 * j);
    const double one = 1.0, eps = 0.02;
    otk_sinkhorn_params par = params_converge(eps, 1e-13);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, &one, b, &res);
    double P[m];
    TK_ASSERT_OK(otk_sinkhorn_plan(s, P));
    /* 1e-12: marginal error <= 1e-13 relative, plus rounding. */
    for (size_t j = 0; j < m; j++)
        TK_ASSERT_REL(P[j], b[j], 1e-12);
    TK_ASSERT_REL(res.ot_lin, lin, 1e-12);
    TK_ASSERT_REL(res.ot_kl, lin, 1e-12);
    TK_ASSERT_REL(res.ot_ent, lin - eps * tk_entropy(b, m), 1e-12);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_equal_measures_ot_lin_decreases_to_zero_below_eps_log_n)
{
    /* α = β (same 20 points, uniform weights).  The unregularised optimum is
     * the identity plan P0 = I/n with <P0,C> = 0 and H(P0) = log n.  P_ε
     * minimises <P,C> − εH(P) on the polytope, so
     *   <P_ε,C> − εH(P_ε) <= 0 − ε log n,  and H(P_ε) <= log n² gives
     *   0 <= OT_lin(ε) <= ε log n.
     * Checked for decreasing ε, with OT_lin strictly decreasing.
     *
     * Symmetric updates: for α = β the optimum has f = g (docs/math.md B.2) and the
     * averaged update keeps that symmetry, converging in ~10 updates.  The
     * alternating update must also settle the relative gauge of weakly
     * coupled clusters of points, which for ε = 1e-3 takes >1e5 updates to
     * reach 1e-10 (checked with tk_ref_sinkhorn as well), so it is not used
     * here. */
    enum { n = 20 };
    tk_rng r = tk_rng_seed(2024);
    double x[n * 2];
    tk_points_uniform(&r, n, 2, x);
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, 2, x, x, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0));
    const double eps_values[4] = {1e-1, 1e-2, 1e-3, 1e-4};
    double prev = INFINITY;
    for (int k = 0; k < 4; k++) {
        const double eps = eps_values[k];
        otk_sinkhorn_params par = params_converge(eps, 1e-10);
        par.update = OTK_UPDATE_SYMMETRIC;
        otk_sinkhorn_result res;
        otk_sinkhorn *s = solve_ok(c, &par, NULL, NULL, &res);
        /* Slack: a marginal error of 1e-10 moves <P,C> by at most
         * 1e-10·max C (max C <= 1 on the unit square with ½|x−y|²). */
        ck_assert_msg(res.ot_lin >= -1e-10 && res.ot_lin <= eps * log((double)n) + 1e-10,
                      "eps = %g: OT_lin = %.17g outside [0, eps log n = %.17g]", eps, res.ot_lin,
                      eps * log((double)n));
        ck_assert_msg(res.ot_lin < prev, "eps = %g: OT_lin = %.17g did not decrease (was %.17g)",
                      eps, res.ot_lin, prev);
        prev = res.ot_lin;
        otk_sinkhorn_free(s);
    }
    ck_assert_double_lt(prev, 1e-4 * log((double)n) + 1e-10);
    otk_cost_free(c);
}
END_TEST

/* ------------------------------------------------------------ invariants */

START_TEST(test_converged_marginals_match_the_weights)
{
    problem p = problem_random(1, 30, 40, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    const double tol = 1e-10;
    otk_sinkhorn_params par = params_converge(0.01, tol);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    double ea, eb;
    marginal_errors(s, p.n, p.m, p.a, p.b, &ea, &eb);
    /* sinkhorn.h: err = ‖r − a‖₁/m_a + ‖c − b‖₁/m_b <= tol at SUCCESS; the
     * recomputation from the marginals may differ by rounding (1e-13). */
    ck_assert_msg(ea + eb <= tol + 1e-13, "marginal error %.3g + %.3g > tol %.3g", ea, eb, tol);
    ck_assert_double_le(res.marginal_error, tol);
    TK_ASSERT_ABS(res.marginal_error, ea + eb, 1e-13);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_ot_kl_minus_ot_ent_is_eps_times_weight_entropies)
{
    /* sinkhorn.h: OT_ent = OT_kl − ε(H(a) + H(b)); H computed here. */
    problem p = problem_random(2, 17, 23, 3, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    const double eps = 0.07;
    otk_sinkhorn_params par = params_converge(eps, 1e-9);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    const double expect = eps * (tk_entropy(p.a, p.n) + tk_entropy(p.b, p.m));
    /* 1e-13 relative to |OT_kl| + ε(H(a)+H(b)): one subtraction. */
    TK_ASSERT_ABS(res.ot_kl - res.ot_ent, expect, 1e-13 * (fabs(res.ot_kl) + expect));
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_values_equal_those_of_the_dense_plan)
{
    /* With the plan P from otk_sinkhorn_plan and C built here:
     *   OT_lin = <P,C>,  OT_ent = <P,C> − εH(P),
     *   OT_kl = <P,C> + ε KL(P | a⊗b)  (unit masses).
     * At marginal error <= 1e-12 the dual and primal values differ by
     * O(1e-12·max|f|); 1e-9 relative leaves room.  OT_lin is the same sum as
     * the library's, so 1e-12. */
    problem p = problem_random(3, 30, 25, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    double *C = tk_cost_matrix(OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    const double eps = 0.02;
    otk_sinkhorn_params par = params_converge(eps, 1e-12);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    double *P = tk_alloc(p.n * p.m, sizeof *P);
    TK_ASSERT_OK(otk_sinkhorn_plan(s, P));
    tk_values v = tk_plan_values(p.n, p.m, C, P, p.a, p.b, eps, INFINITY, INFINITY);
    TK_ASSERT_REL(res.ot_lin, v.ot_lin, 1e-12);
    TK_ASSERT_REL(res.ot_ent, v.ot_ent, 1e-9);
    TK_ASSERT_REL(res.ot_kl, v.ot_kl, 1e-9);
    /* The plan itself is the Gibbs form of the returned potentials. */
    double *Pref = tk_alloc(p.n * p.m, sizeof *Pref);
    tk_plan(p.n, p.m, C, p.a, p.b, eps, otk_sinkhorn_potential_f(s), otk_sinkhorn_potential_g(s),
            Pref);
    TK_ASSERT_VEC_ABS(P, Pref, p.n * p.m, 1e-13 * tk_max_abs(Pref, p.n * p.m), "plan");
    free(Pref);
    free(P);
    free(C);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_balanced_values_for_non_unit_mass_match_the_primal_objective)
{
    /* sinkhorn.h defines OT_kl = min <P,C> + ε KL(P | a⊗b) over the balanced
     * polytope, for any common mass, and OT_ent = OT_kl − ε(H(a) + H(b)).
     * With Σa = Σb = 2, OT_kl is evaluated on the dense plan (1e-9 relative,
     * as for unit mass).  (The header's remark that OT_ent then equals
     * <P,C> − εH(P) holds for unit mass only: the two differ by ε(m² − m)
     * for mass m, so it is not asserted here.)  The same value is the
     * ρ → ∞ limit of the unbalanced OT_kl, which keeps the mass term
     * −ε(ΣP − m_a m_b) of the dual. */
    problem p = problem_random(4, 15, 20, 2, 2.0, 2.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    const double eps = 0.05;
    otk_sinkhorn_params par = params_converge(eps, 1e-12);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    double *P = tk_alloc(p.n * p.m, sizeof *P);
    TK_ASSERT_OK(otk_sinkhorn_plan(s, P));
    tk_values v = tk_plan_values(p.n, p.m, C, P, p.a, p.b, eps, INFINITY, INFINITY);
    TK_ASSERT_REL(res.mass_a, 2.0, 1e-15);
    TK_ASSERT_REL(res.ot_lin, v.ot_lin, 1e-12);
    TK_ASSERT_REL(res.ot_kl, v.ot_kl, 1e-9);
    TK_ASSERT_REL(res.ot_ent, res.ot_kl - eps * (tk_entropy(p.a, p.n) + tk_entropy(p.b, p.m)),
                  1e-12);
    free(P);
    free(C);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_solution_matches_the_brute_force_reference_sinkhorn)
{
    /* tk_ref_sinkhorn: plain double loops, no annealing, no SIMD.  Both run
     * to marginal error 1e-13, so the potentials agree modulo the gauge to
     * about ε·1e-13·(conditioning); 1e-9·(1 + max|f|) is a wide margin that
     * still catches any wrong update (errors of O(ε) or more). */
    problem p = problem_random(5, 12, 9, 2, 1.0, 1.0);
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    const double eps = 0.05;
    double f_ref[12], g_ref[9];
    ck_assert_int_gt(
        tk_ref_sinkhorn(p.n, p.m, C, p.a, p.b, eps, INFINITY, INFINITY, 1e-13, 100000, f_ref, g_ref),
        0);
    double *Pref = tk_alloc(p.n * p.m, sizeof *Pref);
    tk_plan(p.n, p.m, C, p.a, p.b, eps, f_ref, g_ref, Pref);
    tk_values v = tk_plan_values(p.n, p.m, C, Pref, p.a, p.b, eps, INFINITY, INFINITY);

    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(eps, 1e-13);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    TK_ASSERT_REL(res.ot_lin, v.ot_lin, 1e-10);
    TK_ASSERT_REL(res.ot_kl, v.ot_kl, 1e-10);
    TK_ASSERT_REL(res.ot_ent, v.ot_ent, 1e-10);
    assert_potentials_match_modulo_shift(otk_sinkhorn_potential_f(s), otk_sinkhorn_potential_g(s),
                                         f_ref, g_ref, p.a, p.n, p.m,
                                         1e-9 * (1.0 + tk_max_abs(f_ref, p.n)), "potentials");
    free(Pref);
    free(C);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

static const otk_ground every_ground[6] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_HALF_SQEUCLIDEAN,
                                           OTK_GROUND_EUCLIDEAN,   OTK_GROUND_L1,
                                           OTK_GROUND_LP,          OTK_GROUND_LP_OVER_P};
static double every_power(otk_ground g) { return g == OTK_GROUND_LP ? 1.5 : 3.0; }

/* Solve (a, b) on two costs with the same schedule (diameter and exponent
 * taken from `ref` and forced on both) and require the values and the
 * potentials to agree to `rtol`. */
static void assert_costs_agree(const otk_cost *ref, const otk_cost *other, const problem *p,
                               double eps, double rtol, const char *what)
{
    otk_sinkhorn_params par = params_converge(eps, 1e-13);
    par.diameter = otk_cost_diameter(ref);
    par.p = otk_cost_exponent(ref);
    otk_sinkhorn_result r1, r2;
    otk_sinkhorn *s1 = solve_ok(ref, &par, p->a, p->b, &r1);
    otk_sinkhorn *s2 = solve_ok(other, &par, p->a, p->b, &r2);
    ck_assert_msg(tk_rel_err(r2.ot_kl, r1.ot_kl) <= rtol &&
                      tk_rel_err(r2.ot_ent, r1.ot_ent) <= rtol &&
                      tk_rel_err(r2.ot_lin, r1.ot_lin) <= rtol,
                  "%s: values differ: kl %.17g vs %.17g, ent %.17g vs %.17g, lin %.17g vs %.17g",
                  what, r2.ot_kl, r1.ot_kl, r2.ot_ent, r1.ot_ent, r2.ot_lin, r1.ot_lin);
    const double *f1 = otk_sinkhorn_potential_f(s1), *f2 = otk_sinkhorn_potential_f(s2);
    const double *g1 = otk_sinkhorn_potential_g(s1), *g2 = otk_sinkhorn_potential_g(s2);
    const double scale = tk_max_abs(f1, p->n) + tk_max_abs(g1, p->m);
    TK_ASSERT_VEC_ABS(f2, f1, p->n, rtol * scale, what);
    TK_ASSERT_VEC_ABS(g2, g1, p->m, rtol * scale, what);
    otk_sinkhorn_free(s1);
    otk_sinkhorn_free(s2);
}

START_TEST(test_dense_and_points_costs_agree_for_every_ground)
{
    /* Same points, C built here by the defining formulas, same schedule: the
     * two kinds compute the same iteration, differing only by the rounding
     * of C (a few ulp) and of the summation order.  1e-12 relative. */
    problem p = problem_random(6, 25, 35, 2, 1.0, 1.0);
    for (int k = 0; k < 6; k++) {
        const otk_ground g = every_ground[k];
        otk_cost *pc = points_cost(&p, g, every_power(g));
        double *C = tk_cost_matrix(g, every_power(g), p.n, p.m, p.d, p.x, p.y);
        otk_cost *dc = NULL;
        TK_ASSERT_OK(otk_cost_dense(&dc, p.n, p.m, C, p.m));
        assert_costs_agree(pc, dc, &p, 0.05, 1e-12, otk_ground_name(g));
        otk_cost_free(dc);
        otk_cost_free(pc);
        free(C);
    }
    problem_free(&p);
}
END_TEST

typedef struct {
    const problem *p;
    otk_ground g;
    double power;
} points_ctx;

static double points_callback(size_t i, size_t j, void *ctx)
{
    const points_ctx *pc = ctx;
    return tk_ground_cost(pc->g, pc->power, pc->p->d, pc->p->x + i * pc->p->d,
                          pc->p->y + j * pc->p->d);
}

START_TEST(test_points_and_callback_costs_agree)
{
    problem p = problem_random(7, 33, 21, 3, 1.0, 1.0);
    const otk_ground grounds[2] = {OTK_GROUND_HALF_SQEUCLIDEAN, OTK_GROUND_LP};
    for (int k = 0; k < 2; k++) {
        otk_cost *pc = points_cost(&p, grounds[k], 1.5);
        points_ctx ctx = {&p, grounds[k], 1.5};
        otk_cost *cc = NULL;
        TK_ASSERT_OK(otk_cost_callback(&cc, p.n, p.m, points_callback, &ctx, 0.0));
        assert_costs_agree(pc, cc, &p, 0.03, 1e-12, otk_ground_name(grounds[k]));
        otk_cost_free(cc);
        otk_cost_free(pc);
    }
    problem_free(&p);
}
END_TEST

START_TEST(test_symmetric_and_alternating_updates_agree_at_convergence)
{
    /* Both forms have the same fixed point (docs/math.md A.2).  At marginal error
     * 1e-12 the values agree to 1e-9 relative and the potentials (modulo the
     * gauge) to 1e-8·max|f|. */
    problem p = problem_random(8, 28, 31, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_EUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(0.02, 1e-12);
    par.update = OTK_UPDATE_SYMMETRIC;
    otk_sinkhorn_result rs, ra;
    otk_sinkhorn *ss = solve_ok(c, &par, p.a, p.b, &rs);
    par.update = OTK_UPDATE_ALTERNATING;
    otk_sinkhorn *sa = solve_ok(c, &par, p.a, p.b, &ra);
    TK_ASSERT_REL(rs.ot_kl, ra.ot_kl, 1e-9);
    TK_ASSERT_REL(rs.ot_ent, ra.ot_ent, 1e-9);
    TK_ASSERT_REL(rs.ot_lin, ra.ot_lin, 1e-9);
    const double *fa = otk_sinkhorn_potential_f(sa);
    assert_potentials_match_modulo_shift(otk_sinkhorn_potential_f(ss), otk_sinkhorn_potential_g(ss),
                                         fa, otk_sinkhorn_potential_g(sa), p.a, p.n, p.m,
                                         1e-8 * (1.0 + tk_max_abs(fa, p.n)), "potentials");
    otk_sinkhorn_free(ss);
    otk_sinkhorn_free(sa);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

/* result.update names the rule run: AUTO resolves as sinkhorn.h says, and
 * the AUTO solve is bitwise the solve with that rule given explicitly. */
START_TEST(test_result_reports_the_update_rule_that_ran)
{
    problem p = problem_random(8, 12, 9, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    const otk_schedule schedules[2] = {OTK_SCHEDULE_CONVERGE, OTK_SCHEDULE_FIXED};
    const otk_update resolved[2] = {OTK_UPDATE_ALTERNATING, OTK_UPDATE_SYMMETRIC};
    for (int k = 0; k < 2; k++) {
        otk_sinkhorn_params par = params_converge(0.05, 1e-9);
        par.schedule = schedules[k];
        otk_sinkhorn_result r_auto, r_explicit;
        par.update = OTK_UPDATE_AUTO;
        otk_sinkhorn *s1 = solve_ok(c, &par, p.a, p.b, &r_auto);
        par.update = resolved[k];
        otk_sinkhorn *s2 = solve_ok(c, &par, p.a, p.b, &r_explicit);
        ck_assert_int_eq(r_auto.update, resolved[k]);
        ck_assert_int_eq(r_explicit.update, resolved[k]);
        ck_assert_int_eq(r_auto.iterations, r_explicit.iterations);
        ck_assert(r_auto.ot_kl == r_explicit.ot_kl);
        par.update = resolved[1 - k];
        otk_sinkhorn *s3 = solve_ok(c, &par, p.a, p.b, &r_explicit);
        ck_assert_int_eq(r_explicit.update, resolved[1 - k]);
        otk_sinkhorn_free(s1);
        otk_sinkhorn_free(s2);
        otk_sinkhorn_free(s3);
    }
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

static void assert_threads_bitwise_identical(const otk_cost *c, const problem *p,
                                             const char *what)
{
    otk_sinkhorn_params par = params_converge(0.02, 1e-7);
    otk_sinkhorn_result r1, r2;
    par.threads = 1;
    otk_sinkhorn *s1 = solve_ok(c, &par, p->a, p->b, &r1);
    par.threads = 2;
    otk_sinkhorn *s2 = solve_ok(c, &par, p->a, p->b, &r2);
    /* sinkhorn.h: "results do not depend on the thread count (they are
     * bitwise identical on the same machine)". */
    ck_assert_msg(r1.iterations == r2.iterations, "%s: iterations %d vs %d", what, r1.iterations,
                  r2.iterations);
    ck_assert_msg(r1.ot_kl == r2.ot_kl && r1.ot_ent == r2.ot_ent && r1.ot_lin == r2.ot_lin &&
                      r1.marginal_error == r2.marginal_error,
                  "%s: values differ: kl %.17g vs %.17g, lin %.17g vs %.17g", what, r1.ot_kl,
                  r2.ot_kl, r1.ot_lin, r2.ot_lin);
    ck_assert_msg(memcmp(otk_sinkhorn_potential_f(s1), otk_sinkhorn_potential_f(s2),
                         p->n * sizeof(double)) == 0 &&
                      memcmp(otk_sinkhorn_potential_g(s1), otk_sinkhorn_potential_g(s2),
                             p->m * sizeof(double)) == 0,
                  "%s: potentials differ between 1 and 2 threads", what);
    double *c1 = tk_alloc(p->m, sizeof *c1), *c2 = tk_alloc(p->m, sizeof *c2);
    TK_ASSERT_OK(otk_sinkhorn_marginals(s1, NULL, c1));
    TK_ASSERT_OK(otk_sinkhorn_marginals(s2, NULL, c2));
    ck_assert_msg(memcmp(c1, c2, p->m * sizeof(double)) == 0, "%s: column marginals differ", what);
    free(c1);
    free(c2);
    otk_sinkhorn_free(s1);
    otk_sinkhorn_free(s2);
}

START_TEST(test_thread_counts_give_bitwise_identical_results)
{
    /* n = 128 rows: several 16-row chunks of the parallel loops; m = 600 >
     * one 512-entry tile, so tiles are combined too; n·m = 76800 is above the
     * 65536 entries below which the kernels do not fork threads. */
    /* Skipped under OTK_TEST_QUICK (valgrind): valgrind serialises threads,
     * and libgomp's pool threads, alive at exit, show as "possibly lost". */
    if (tk_quick())
        return;
    problem p = problem_random(9, 128, 600, 2, 1.0, 1.0);
    otk_cost *pc = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    assert_threads_bitwise_identical(pc, &p, "points");
    double *C = tk_cost_matrix(OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    otk_cost *dc = NULL;
    TK_ASSERT_OK(otk_cost_dense(&dc, p.n, p.m, C, p.m));
    assert_threads_bitwise_identical(dc, &p, "dense");
    otk_cost_free(dc);
    otk_cost_free(pc);
    free(C);
    problem_free(&p);
}
END_TEST

/* Y (rows × k) = P · X (P rows×cols, X cols×k) with plain loops. */
static void matmul(const double *P, size_t rows, size_t cols, int transpose, const double *X,
                   size_t k, double *Y)
{
    memset(Y, 0, rows * k * sizeof *Y);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            const double pij = transpose ? P[j * rows + i] : P[i * cols + j];
            for (size_t q = 0; q < k; q++)
                Y[i * k + q] += pij * X[j * k + q];
        }
}

static void check_plan_reductions(const otk_cost *c, const problem *p, const double *C,
                                  const char *what)
{
    const double eps = 0.03;
    otk_sinkhorn_params par = params_converge(eps, 1e-8);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p->a, p->b, &res);
    const size_t n = p->n, m = p->m, k = 3;
    /* The reference plan: Gibbs form of the returned potentials, computed
     * here with libm's exp (not the library's kernels). */
    double *P = tk_alloc(n * m, sizeof *P);
    tk_plan(n, m, C, p->a, p->b, eps, otk_sinkhorn_potential_f(s), otk_sinkhorn_potential_g(s), P);
    tk_rng r = tk_rng_seed(99);
    double *Y = tk_alloc(m * k, sizeof *Y), *X = tk_alloc(n * k, sizeof *X);
    for (size_t t = 0; t < m * k; t++)
        Y[t] = tk_gauss(&r);
    for (size_t t = 0; t < n * k; t++)
        X[t] = tk_gauss(&r);
    double *PY = tk_alloc(n * k, sizeof *PY), *PtX = tk_alloc(m * k, sizeof *PtX);
    double *out0 = tk_alloc(n * k, sizeof *out0), *out1 = tk_alloc(m * k, sizeof *out1);
    matmul(P, n, m, 0, Y, k, PY);
    matmul(P, m, n, 1, X, k, PtX);
    TK_ASSERT_OK(otk_sinkhorn_plan_apply(s, 0, k, Y, out0));
    TK_ASSERT_OK(otk_sinkhorn_plan_apply(s, 1, k, X, out1));
    /* Tolerance 1e-12 of the typical magnitude (max|Y|·mass/n): entries are
     * sums of terms each within a few ulp (exp to ~1 ulp), with cancellation
     * between signs of Y. */
    const double sy = tk_max_abs(Y, m * k) * tk_sum(p->a, n) / (double)n;
    const double sx = tk_max_abs(X, n * k) * tk_sum(p->b, m) / (double)m;
    TK_ASSERT_VEC_ABS(out0, PY, n * k, 1e-12 * sy, what);
    TK_ASSERT_VEC_ABS(out1, PtX, m * k, 1e-12 * sx, what);
    /* Marginals are the plan's row and column sums. */
    double *row = tk_alloc(n, sizeof *row), *col = tk_alloc(m, sizeof *col);
    double *one_m = tk_alloc(m, sizeof *one_m), *one_n = tk_alloc(n, sizeof *one_n);
    double *row_ref = tk_alloc(n, sizeof *row_ref), *col_ref = tk_alloc(m, sizeof *col_ref);
    for (size_t j = 0; j < m; j++)
        one_m[j] = 1.0;
    for (size_t i = 0; i < n; i++)
        one_n[i] = 1.0;
    matmul(P, n, m, 0, one_m, 1, row_ref);
    matmul(P, m, n, 1, one_n, 1, col_ref);
    TK_ASSERT_OK(otk_sinkhorn_marginals(s, row, col));
    TK_ASSERT_VEC_ABS(row, row_ref, n, 1e-13 * tk_max_abs(row_ref, n), what);
    TK_ASSERT_VEC_ABS(col, col_ref, m, 1e-13 * tk_max_abs(col_ref, m), what);
    /* And the dense plan of the library is the same matrix. */
    double *Plib = tk_alloc(n * m, sizeof *Plib);
    TK_ASSERT_OK(otk_sinkhorn_plan(s, Plib));
    TK_ASSERT_VEC_ABS(Plib, P, n * m, 1e-13 * tk_max_abs(P, n * m), what);
    free(Plib);
    free(row), free(col), free(one_m), free(one_n), free(row_ref), free(col_ref);
    free(PY), free(PtX), free(out0), free(out1), free(X), free(Y), free(P);
    otk_sinkhorn_free(s);
}

START_TEST(test_plan_apply_and_marginals_match_the_dense_plan_products)
{
    problem p = problem_random(10, 20, 37, 2, 1.0, 1.0);
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    otk_cost *pc = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    check_plan_reductions(pc, &p, C, "points");
    otk_cost *dc = NULL;
    TK_ASSERT_OK(otk_cost_dense(&dc, p.n, p.m, C, p.m));
    check_plan_reductions(dc, &p, C, "dense");
    otk_cost_free(dc);
    otk_cost_free(pc);
    free(C);
    problem_free(&p);
}
END_TEST

START_TEST(test_barycentric_projection_is_the_plan_average_of_targets)
{
    /* out_i = Σ_j P_ij y_j / Σ_j P_ij, from the dense plan built here. */
    problem p = problem_random(11, 16, 24, 2, 1.0, 1.0);
    const double eps = 0.02;
    double *C = tk_cost_matrix(OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(eps, 1e-10);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    double *P = tk_alloc(p.n * p.m, sizeof *P);
    tk_plan(p.n, p.m, C, p.a, p.b, eps, otk_sinkhorn_potential_f(s), otk_sinkhorn_potential_g(s), P);
    double *out = tk_alloc(p.n * 2, sizeof *out), *ref = tk_alloc(p.n * 2, sizeof *ref);
    TK_ASSERT_OK(otk_sinkhorn_barycentric(s, 2, p.y, out));
    for (size_t i = 0; i < p.n; i++) {
        double r = 0.0, s0 = 0.0, s1 = 0.0;
        for (size_t j = 0; j < p.m; j++) {
            r += P[i * p.m + j];
            s0 += P[i * p.m + j] * p.y[2 * j];
            s1 += P[i * p.m + j] * p.y[2 * j + 1];
        }
        ref[2 * i] = s0 / r;
        ref[2 * i + 1] = s1 / r;
    }
    /* 1e-12 absolute on coordinates of size ~1: ratios of sums of exps. */
    TK_ASSERT_VEC_ABS(out, ref, p.n * 2, 1e-12, "barycentric");
    free(out), free(ref), free(P), free(C);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

/* Remove entry `skip` from a k-vector of `len` blocks of `width`. */
static double *without(const double *v, size_t len, size_t width, size_t skip)
{
    double *out = tk_alloc((len - 1) * width, sizeof *out);
    for (size_t i = 0, o = 0; i < len; i++)
        if (i != skip)
            memcpy(out + width * o++, v + width * i, width * sizeof *v);
    return out;
}

/* A random problem with a[2] = 0 and b[5] = 0, renormalised to unit mass. */
static problem problem_with_zero_weights(size_t *zi, size_t *zj)
{
    problem p = problem_random(12, 10, 12, 2, 1.0, 1.0);
    *zi = 2;
    *zj = 5;
    p.a[*zi] = 0.0;
    p.b[*zj] = 0.0;
    const double ma = tk_sum(p.a, p.n), mb = tk_sum(p.b, p.m);
    for (size_t i = 0; i < p.n; i++)
        p.a[i] /= ma;
    for (size_t j = 0; j < p.m; j++)
        p.b[j] /= mb;
    return p;
}

START_TEST(test_zero_weight_atoms_do_not_change_the_solution)
{
    /* sinkhorn.h: "Zero weights are allowed (their atoms get no mass)".  The
     * dense plan's row/column of a[2] = 0 and b[5] = 0 are exactly 0, and the
     * problem is the one without those atoms: values to 1e-10 relative and
     * the other potentials modulo the gauge (both solved to 1e-12). */
    size_t zi, zj;
    problem p = problem_with_zero_weights(&zi, &zj);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(0.03, 1e-12);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    ck_assert(tk_all_finite(otk_sinkhorn_potential_f(s), p.n));
    ck_assert(tk_all_finite(otk_sinkhorn_potential_g(s), p.m));
    double *P = tk_alloc(p.n * p.m, sizeof *P);
    TK_ASSERT_OK(otk_sinkhorn_plan(s, P));
    for (size_t j = 0; j < p.m; j++)
        ck_assert_msg(P[zi * p.m + j] == 0.0, "P[%zu][%zu] = %g for a zero source weight", zi, j,
                      P[zi * p.m + j]);
    for (size_t i = 0; i < p.n; i++)
        ck_assert_msg(P[i * p.m + zj] == 0.0, "P[%zu][%zu] = %g for a zero target weight", i, zj,
                      P[i * p.m + zj]);

    problem q = {p.n - 1, p.m - 1, p.d, without(p.x, p.n, p.d, zi), without(p.y, p.m, p.d, zj),
                 without(p.a, p.n, 1, zi), without(p.b, p.m, 1, zj)};
    otk_cost *cq = points_cost(&q, OTK_GROUND_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_result resq;
    otk_sinkhorn *sq = solve_ok(cq, &par, q.a, q.b, &resq);
    TK_ASSERT_REL(res.ot_kl, resq.ot_kl, 1e-10);
    TK_ASSERT_REL(res.ot_ent, resq.ot_ent, 1e-10);
    TK_ASSERT_REL(res.ot_lin, resq.ot_lin, 1e-10);
    double *f = without(otk_sinkhorn_potential_f(s), p.n, 1, zi);
    double *g = without(otk_sinkhorn_potential_g(s), p.m, 1, zj);
    assert_potentials_match_modulo_shift(f, g, otk_sinkhorn_potential_f(sq),
                                         otk_sinkhorn_potential_g(sq), q.a, q.n, q.m,
                                         1e-9 * (1.0 + tk_max_abs(f, q.n)), "potentials");
    free(f), free(g), free(P);
    otk_sinkhorn_free(sq);
    otk_cost_free(cq);
    problem_free(&q);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_zero_weight_atoms_have_exactly_zero_marginals)
{
    /* "their atoms get no mass": the plan reductions (marginals, plan_apply)
     * of a zero-weight atom are exactly 0, as the dense plan's are — for the
     * points cost and the dense cost (whose column reductions take another
     * code path). */
    size_t zi, zj;
    problem p = problem_with_zero_weights(&zi, &zj);
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    otk_cost *costs[2] = {points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0), NULL};
    TK_ASSERT_OK(otk_cost_dense(&costs[1], p.n, p.m, C, p.m));
    for (int k = 0; k < 2; k++) {
        otk_sinkhorn_params par = params_converge(0.03, 1e-12);
        otk_sinkhorn_result res;
        otk_sinkhorn *s = solve_ok(costs[k], &par, p.a, p.b, &res);
        double *row = tk_alloc(p.n, sizeof *row), *col = tk_alloc(p.m, sizeof *col);
        TK_ASSERT_OK(otk_sinkhorn_marginals(s, row, col));
        ck_assert_msg(row[zi] == 0.0 && col[zj] == 0.0,
                      "%s: marginals of the zero-weight atoms: row[%zu] = %g, col[%zu] = %g",
                      otk_cost_kind(costs[k]), zi, row[zi], zj, col[zj]);
        free(row), free(col);
        otk_sinkhorn_free(s);
    }
    otk_cost_free(costs[0]);
    otk_cost_free(costs[1]);
    free(C);
    problem_free(&p);
}
END_TEST

START_TEST(test_barycentric_projection_of_a_zero_weight_atom_is_nan)
{
    /* sinkhorn.h: "Rows with no mass are set to NAN"; the other rows are
     * finite. */
    size_t zi, zj;
    problem p = problem_with_zero_weights(&zi, &zj);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(0.03, 1e-10);
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    double *bary = tk_alloc(p.n * 2, sizeof *bary);
    TK_ASSERT_OK(otk_sinkhorn_barycentric(s, 2, p.y, bary));
    ck_assert_msg(isnan(bary[2 * zi]) && isnan(bary[2 * zi + 1]),
                  "barycentric row of a zero-weight atom = (%g, %g), expected NAN", bary[2 * zi],
                  bary[2 * zi + 1]);
    for (size_t i = 0; i < p.n; i++)
        if (i != zi)
            ck_assert(isfinite(bary[2 * i]) && isfinite(bary[2 * i + 1]));
    free(bary);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_warm_start_converges_in_fewer_iterations_than_a_cold_start)
{
    /* Solve (a, b), perturb b by ~1%, then solve (a, b') cold and warm-started
     * from the first potentials: the warm start must need fewer updates than
     * the cold start spends at the target ε alone, and reach the same values
     * (1e-8 relative at tolerance 1e-10). */
    problem p = problem_random(13, 40, 50, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(0.005, 1e-10);
    otk_sinkhorn_result r0, rcold, rwarm;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &r0);
    double *f0 = tk_alloc(p.n, sizeof *f0), *g0 = tk_alloc(p.m, sizeof *g0);
    memcpy(f0, otk_sinkhorn_potential_f(s), p.n * sizeof *f0);
    memcpy(g0, otk_sinkhorn_potential_g(s), p.m * sizeof *g0);

    tk_rng r = tk_rng_seed(77);
    double *b2 = tk_alloc(p.m, sizeof *b2);
    for (size_t j = 0; j < p.m; j++)
        b2[j] = p.b[j] * (1.0 + 0.01 * (tk_uniform(&r) - 0.5));
    const double mb = tk_sum(b2, p.m);
    for (size_t j = 0; j < p.m; j++)
        b2[j] /= mb;

    otk_sinkhorn *cold = solve_ok(c, &par, p.a, b2, &rcold);
    TK_ASSERT_OK(otk_sinkhorn_set(s, p.a, b2));
    TK_ASSERT_OK(otk_sinkhorn_set_potentials(s, f0, g0));
    otk_status st;
    while ((st = otk_sinkhorn_iterate(s)) == OTK_CONTINUE)
        ;
    ck_assert_int_eq(st, OTK_SUCCESS);
    TK_ASSERT_OK(otk_sinkhorn_get_result(s, &rwarm));
    ck_assert_int_eq(rwarm.annealing_iterations, 0); /* set_potentials skips the annealing */
    const int cold_target = rcold.iterations - rcold.annealing_iterations;
    ck_assert_msg(rwarm.iterations < cold_target,
                  "warm start took %d updates, cold start %d at the target eps (%d in all)",
                  rwarm.iterations, cold_target, rcold.iterations);
    TK_ASSERT_REL(rwarm.ot_kl, rcold.ot_kl, 1e-8);
    TK_ASSERT_REL(rwarm.ot_lin, rcold.ot_lin, 1e-8);
    free(f0), free(g0), free(b2);
    otk_sinkhorn_free(cold);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_iterate_loop_reports_progress_and_matches_solve)
{
    problem p = problem_random(14, 22, 18, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_EUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(0.01, 1e-9);
    otk_sinkhorn_result rsolve, rloop;
    otk_sinkhorn *s1 = solve_ok(c, &par, p.a, p.b, &rsolve);
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    TK_ASSERT_OK(otk_sinkhorn_set(s, p.a, p.b));
    double eps_now = 0.0, err = 0.0;
    int its = -1;
    otk_sinkhorn_progress(s, &eps_now, &its, &err);
    ck_assert_int_eq(its, 0);
    ck_assert_msg(isnan(err), "marginal error before the first measurement = %g", err);
    otk_sinkhorn_progress(s, NULL, NULL, NULL); /* any pointer may be NULL */
    int continues = 0;
    double prev_eps = INFINITY;
    otk_status st;
    while ((st = otk_sinkhorn_iterate(s)) == OTK_CONTINUE) {
        continues++;
        otk_sinkhorn_progress(s, &eps_now, &its, &err);
        ck_assert_int_eq(its, continues);
        ck_assert_msg(eps_now <= prev_eps, "eps went up: %g after %g", eps_now, prev_eps);
        ck_assert_double_ge(eps_now, 0.01);
        prev_eps = eps_now;
    }
    ck_assert_int_eq(st, OTK_SUCCESS);
    otk_sinkhorn_progress(s, &eps_now, &its, &err);
    ck_assert_double_eq(eps_now, 0.01);
    ck_assert_double_le(err, 1e-9);
    /* Calling iterate again returns the final status and does nothing. */
    ck_assert_int_eq(otk_sinkhorn_iterate(s), OTK_SUCCESS);
    int its2 = -1;
    otk_sinkhorn_progress(s, NULL, &its2, NULL);
    ck_assert_int_eq(its2, its);
    TK_ASSERT_OK(otk_sinkhorn_get_result(s, &rloop));
    ck_assert_int_eq(rloop.iterations, rsolve.iterations);
    ck_assert_int_eq(rloop.iterations, continues);
    ck_assert(rloop.ot_kl == rsolve.ot_kl && rloop.ot_lin == rsolve.ot_lin);
    /* Solving again with the same solver (plan once, execute many) repeats
     * the computation exactly. */
    otk_sinkhorn_result ragain;
    ck_assert_int_eq(otk_sinkhorn_solve(s, p.a, p.b, &ragain), OTK_SUCCESS);
    ck_assert(ragain.ot_kl == rsolve.ot_kl && ragain.iterations == rsolve.iterations);
    otk_sinkhorn_free(s);
    otk_sinkhorn_free(s1);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_null_weights_mean_uniform_weights)
{
    problem p = problem_random(15, 9, 13, 2, 1.0, 1.0);
    tk_weights_uniform(p.n, 1.0, p.a);
    tk_weights_uniform(p.m, 1.0, p.b);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(0.05, 1e-11);
    otk_sinkhorn_result r1, r2;
    otk_sinkhorn *s1 = solve_ok(c, &par, p.a, p.b, &r1);
    otk_sinkhorn *s2 = solve_ok(c, &par, NULL, NULL, &r2);
    /* 1e-14: 1/n computed twice, identical up to the last ulp of the sums. */
    TK_ASSERT_REL(r2.ot_kl, r1.ot_kl, 1e-14);
    TK_ASSERT_REL(r2.ot_lin, r1.ot_lin, 1e-14);
    TK_ASSERT_REL(r2.mass_a, 1.0, 1e-15);
    TK_ASSERT_REL(r2.mass_b, 1.0, 1e-15);
    otk_sinkhorn_free(s1);
    otk_sinkhorn_free(s2);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

/* ------------------------------------------------------------ unbalanced */

START_TEST(test_unbalanced_marginals_satisfy_the_optimality_conditions)
{
    /* docs/math.md A.6: at the optimum P1 = a∘e^{−f/ρ}, Pᵀ1 = b∘e^{−g/ρ}.  Masses
     * 1 and 1.4, ρ = 0.5, solved to 1e-12: 1e-11 relative L1. */
    problem p = problem_random(16, 25, 30, 2, 1.0, 1.4);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    const double rho = 0.5;
    otk_sinkhorn_params par = params_converge(0.05, 1e-12);
    par.rho_a = par.rho_b = rho;
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    ck_assert_double_eq(res.rho_a, rho);
    ck_assert_double_eq(res.rho_b, rho);
    const double *f = otk_sinkhorn_potential_f(s), *g = otk_sinkhorn_potential_g(s);
    double *row = tk_alloc(p.n, sizeof *row), *col = tk_alloc(p.m, sizeof *col);
    TK_ASSERT_OK(otk_sinkhorn_marginals(s, row, col));
    double ea = 0.0, eb = 0.0;
    for (size_t i = 0; i < p.n; i++)
        ea += fabs(row[i] - p.a[i] * exp(-f[i] / rho));
    for (size_t j = 0; j < p.m; j++)
        eb += fabs(col[j] - p.b[j] * exp(-g[j] / rho));
    ck_assert_msg(ea / 1.0 + eb / 1.4 <= 1e-11, "optimality violation %.3g + %.3g", ea, eb);
    /* The transported mass lies between the two masses' range (it is not
     * forced to either): a sanity check that the problem is unbalanced. */
    const double mass = tk_sum(row, p.n);
    ck_assert_msg(mass > 0.9 && mass < 1.4, "plan mass %g", mass);
    free(row), free(col);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_unbalanced_value_is_the_primal_objective_of_the_plan)
{
    /* OT_kl = <P,C> + ε KL(P|a⊗b) + ρ_a KL(P1|a) + ρ_b KL(Pᵀ1|b) (sinkhorn.h)
     * evaluated on the dense plan; strong duality makes it equal to the
     * library's dual value at the optimum (1e-9 relative at tol 1e-12).
     * Different penalties on the two sides, and one balanced side. */
    problem p = problem_random(17, 20, 15, 2, 1.2, 0.8);
    double *C = tk_cost_matrix(OTK_GROUND_EUCLIDEAN, 0.0, p.n, p.m, p.d, p.x, p.y);
    otk_cost *c = points_cost(&p, OTK_GROUND_EUCLIDEAN, 0.0);
    const double eps = 0.04;
    const double rhos[2][2] = {{0.3, 2.0}, {0.7, INFINITY}};
    for (int k = 0; k < 2; k++) {
        otk_sinkhorn_params par = params_converge(eps, 1e-12);
        par.rho_a = rhos[k][0];
        par.rho_b = rhos[k][1];
        otk_sinkhorn_result res;
        otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
        double *P = tk_alloc(p.n * p.m, sizeof *P);
        TK_ASSERT_OK(otk_sinkhorn_plan(s, P));
        tk_values v = tk_plan_values(p.n, p.m, C, P, p.a, p.b, eps, rhos[k][0], rhos[k][1]);
        TK_ASSERT_REL(res.ot_lin, v.ot_lin, 1e-12);
        TK_ASSERT_REL(res.ot_kl, v.ot_kl, 1e-9);
        TK_ASSERT_REL(res.ot_ent, v.ot_kl - eps * (tk_entropy(p.a, p.n) + tk_entropy(p.b, p.m)),
                      1e-9);
        free(P);
        otk_sinkhorn_free(s);
    }
    free(C);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_unbalanced_value_tends_to_the_balanced_one_as_rho_grows)
{
    /* Relaxing the marginal constraints can only lower the minimum, and the
     * gap closes like O(1/ρ): check 0 <= gap, gap(10ρ) <= gap(ρ)/5 and a
     * relative gap below 1e-3 at ρ = 100 (ε = 0.05, unit masses; measured
     * gap·ρ ≈ 0.0042 for ρ = 1 … 1e4, OT ≈ 0.096).  Tolerance 1e-9: the
     * damped updates need O(ρ/ε) iterations (κ = ρ/(ρ+ε)), ~15000 at ρ = 100,
     * and the errors it leaves (~1e-9·|f|) are far below the gaps (>= 4e-5). */
    problem p = problem_random(18, 20, 24, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(0.05, 1e-9);
    otk_sinkhorn_result rbal;
    otk_sinkhorn *sb = solve_ok(c, &par, p.a, p.b, &rbal);
    otk_sinkhorn_free(sb);
    const double rhos[3] = {1.0, 10.0, 100.0};
    double prev_gap = INFINITY;
    for (int k = 0; k < 3; k++) {
        par.rho_a = par.rho_b = rhos[k];
        otk_sinkhorn_result r;
        otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &r);
        const double gap = rbal.ot_kl - r.ot_kl;
        ck_assert_msg(gap >= -1e-12, "rho = %g: unbalanced value %.17g above balanced %.17g",
                      rhos[k], r.ot_kl, rbal.ot_kl);
        ck_assert_msg(gap <= prev_gap / 5.0, "rho = %g: gap %.3g did not shrink (was %.3g)",
                      rhos[k], gap, prev_gap);
        prev_gap = gap;
        otk_sinkhorn_free(s);
    }
    ck_assert_msg(prev_gap <= 1e-3 * fabs(rbal.ot_kl), "relative gap %.3g at rho = 100",
                  prev_gap / fabs(rbal.ot_kl));
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_blur_and_reach_set_eps_and_rho_as_powers_p)
{
    /* sinkhorn.h: eps = 0 means ε = blur^p; reach > 0 sets ρ = reach^p; p is
     * the cost's exponent unless params.p overrides it. */
    problem p = problem_random(19, 8, 9, 2, 1.0, 1.3);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.threads = 1;
    par.blur = 0.1;
    par.reach = 0.5;
    otk_sinkhorn *s = NULL;
    otk_sinkhorn_result res;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    ck_assert_int_ge(otk_sinkhorn_solve(s, p.a, p.b, &res), 0);
    TK_ASSERT_REL(res.eps, pow(0.1, 2.0), 1e-15);
    TK_ASSERT_REL(res.rho_a, 0.25, 1e-15);
    TK_ASSERT_REL(res.rho_b, 0.25, 1e-15);
    otk_sinkhorn_free(s);
    par.p = 3.0;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    ck_assert_int_ge(otk_sinkhorn_solve(s, p.a, p.b, &res), 0);
    TK_ASSERT_REL(res.eps, pow(0.1, 3.0), 1e-15);
    TK_ASSERT_REL(res.rho_a, 0.125, 1e-15);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

/* ------------------------------------------------------------ schedules */

START_TEST(test_epsilon_schedule_honours_cap_and_rejects_invalid_arguments)
{
    /* D = 1, p = 2, blur = .05, scaling = .5: 7 values (docs/math.md A.5). */
    ck_assert_int_eq(otk_epsilon_schedule(1.0, 2.0, 0.05, 0.5, NULL, 0), 7);
    double list[8];
    for (int k = 0; k < 8; k++)
        list[k] = -1.0;
    ck_assert_int_eq(otk_epsilon_schedule(1.0, 2.0, 0.05, 0.5, list, 3), 7);
    ck_assert_double_eq(list[0], 1.0);
    TK_ASSERT_REL(list[2], 0.25, 1e-15);
    ck_assert_double_eq(list[3], -1.0); /* nothing written past cap */
    /* Invalid: negative status (OTK_EPARAM) naming nothing out of range. */
    ck_assert_int_eq(otk_epsilon_schedule(1.0, 2.0, 0.05, 0.0, NULL, 0), OTK_EPARAM);
    ck_assert_int_eq(otk_epsilon_schedule(1.0, 2.0, 0.05, 1.0, NULL, 0), OTK_EPARAM);
    ck_assert_int_eq(otk_epsilon_schedule(1.0, 2.0, 0.0, 0.5, NULL, 0), OTK_EPARAM);
    ck_assert_int_eq(otk_epsilon_schedule(1.0, 0.0, 0.05, 0.5, NULL, 0), OTK_EPARAM);
    ck_assert_int_eq(otk_epsilon_schedule(-1.0, 2.0, 0.05, 0.5, NULL, 0), OTK_EPARAM);
    ck_assert_int_eq(otk_epsilon_schedule(NAN, 2.0, 0.05, 0.5, NULL, 0), OTK_EPARAM);
    ck_assert_int_eq(otk_epsilon_schedule(1.0, 2.0, NAN, 0.5, NULL, 0), OTK_EPARAM);
}
END_TEST

START_TEST(test_fixed_schedule_runs_one_update_per_listed_eps)
{
    /* Forcing D = 1 and half-sqeuclidean (p = 2), blur .05, scaling .5 gives
     * the ε-list [1, 1, .25, .0625, .015625, .00390625, .0025] (docs/math.md A.5):
     * 7 updates, 6 of them at an ε above the target (annealing), and
     * progress() walks through the list in order. */
    const double list[7] = {1, 1, .25, .0625, .015625, .00390625, .0025};
    problem p = problem_random(20, 12, 14, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.schedule = OTK_SCHEDULE_FIXED;
    par.diameter = 1.0;
    par.threads = 1;
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    TK_ASSERT_OK(otk_sinkhorn_set(s, p.a, p.b));
    double seen[16];
    int n_seen = 0;
    otk_status st;
    do {
        st = otk_sinkhorn_iterate(s);
        ck_assert_msg(st == OTK_CONTINUE || st == OTK_SUCCESS, "iterate returned %s",
                      otk_status_name(st));
        ck_assert_int_lt(n_seen, 16);
        otk_sinkhorn_progress(s, &seen[n_seen++], NULL, NULL);
    } while (st == OTK_CONTINUE);
    ck_assert_int_ge(n_seen, 7);
    for (int k = 0; k < n_seen; k++)
        TK_ASSERT_REL(seen[k], list[k < 7 ? k : 6], 1e-15);
    otk_sinkhorn_result res;
    TK_ASSERT_OK(otk_sinkhorn_get_result(s, &res));
    ck_assert_int_eq(res.iterations, 7);
    ck_assert_int_eq(res.status, OTK_SUCCESS);
    TK_ASSERT_REL(res.eps, 0.0025, 1e-15);
    ck_assert_msg(isfinite(res.marginal_error) && res.marginal_error >= 0.0,
                  "marginal error %g", res.marginal_error);
    /* sinkhorn.h: annealing_iterations counts the updates "at ε above the
     * target": the first six entries of the list. */
    ck_assert_int_eq(res.annealing_iterations, 6);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_converge_schedule_anneals_then_iterates_at_the_target)
{
    /* Same list as above: the converge schedule runs the 6 annealing updates
     * and then at most max_iter updates at ε = .0025; no_annealing skips
     * the annealing entirely. */
    problem p = problem_random(21, 12, 14, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.diameter = 1.0;
    par.threads = 1;
    par.tol = 1e-9;
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, p.a, p.b, &res);
    ck_assert_int_eq(res.annealing_iterations, 6);
    ck_assert_int_gt(res.iterations, 6);
    otk_sinkhorn_free(s);
    par.no_annealing = 1;
    s = solve_ok(c, &par, p.a, p.b, &res);
    ck_assert_int_eq(res.annealing_iterations, 0);
    otk_sinkhorn_free(s);
    /* max_iter bounds the updates at the target ε only. */
    par.no_annealing = 0;
    par.max_iter = 3;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    ck_assert_int_eq(otk_sinkhorn_solve(s, p.a, p.b, &res), OTK_NOT_CONVERGED);
    ck_assert_int_eq(res.annealing_iterations, 6);
    ck_assert_int_eq(res.iterations - res.annealing_iterations, 3);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

/* The annealing guard (docs/math.md A.5).  Both problems have a plan close
 * to the identity matching at the target ε, where the annealed alternating
 * run hands over a split of f_i + g_i that Sinkhorn corrects only like 1/k,
 * while zero potentials converge at once: without the guard the default
 * schedule lost to no annealing on both (before the guard: the line stopped
 * at max_iter = 1000 with error 1.2e-3, the 6-D map at max_iter = 10⁴ with
 * 1.2e-5, and 1.8e-6 after 10⁵; no annealing: 1 and 2417 updates). */

static otk_sinkhorn_result solve_line_of_ten(int no_annealing, otk_status expect)
{
    /* POT's test_empirical_sinkhorn: 10 points 0..9 on a line against
     * themselves, squared Euclidean cost, ε = 0.1, POT's stopThr and
     * numItermax. */
    double x[10];
    for (int i = 0; i < 10; i++)
        x[i] = i;
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_points(&c, 10, 10, 1, x, x, OTK_GROUND_SQEUCLIDEAN, 0.0));
    otk_sinkhorn_params par = params_converge(0.1, 1e-9);
    par.max_iter = 1000;
    par.no_annealing = no_annealing;
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    otk_sinkhorn_result res;
    otk_status st = otk_sinkhorn_solve(s, NULL, NULL, &res);
    ck_assert_msg(st == expect, "no_annealing = %d: %s after %d updates, error %.3g",
                  no_annealing, otk_status_name(st), res.iterations, res.marginal_error);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return res;
}

START_TEST(test_default_schedule_converges_on_ten_points_on_a_line)
{
    const otk_sinkhorn_result cold = solve_line_of_ten(1, OTK_SUCCESS);
    const otk_sinkhorn_result res = solve_line_of_ten(0, OTK_SUCCESS);
    ck_assert_double_le(res.marginal_error, 1e-9);
    /* 6 annealing updates, the annealed run to its third checkpoint (16),
     * then the probe, which is the cold solve update for update. */
    ck_assert_int_eq(res.annealing_iterations, 6);
    ck_assert_int_le(res.iterations, 6 + 16 + cold.iterations);
    ck_assert_double_eq(res.ot_kl, cold.ot_kl);
    ck_assert_double_eq(res.marginal_error, cold.marginal_error);
}
END_TEST

START_TEST(test_default_schedule_converges_on_a_smooth_map_in_6d)
{
    /* The Monge gap's use: 200 Gaussian points in 6-D and their images
     * under the smooth non-optimal map T(x)_k = x_k + 0.02 sin(3 x_{k+1}),
     * squared Euclidean cost, ε = 0.05, tol 1e-6, max_iter 10⁴. */
    const size_t n = 200, d = 6;
    tk_rng r = tk_rng_seed(15);
    double *x = tk_alloc(n * d, sizeof *x), *y = tk_alloc(n * d, sizeof *y);
    for (size_t i = 0; i < n * d; i++)
        x[i] = tk_gauss(&r);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++)
            y[i * d + k] = x[i * d + k] + 0.02 * sin(3.0 * x[i * d + (k + 1) % d]);
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, d, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0));
    otk_sinkhorn_params par = params_converge(0.05, 1e-6);
    par.max_iter = 10000;
    otk_sinkhorn_result res, cold;
    otk_sinkhorn *s = solve_ok(c, &par, NULL, NULL, &res);
    otk_sinkhorn_free(s);
    par.no_annealing = 1;
    s = solve_ok(c, &par, NULL, NULL, &cold);
    otk_sinkhorn_free(s);
    /* Never far behind no annealing: at most the annealed run up to the
     * checkpoint where the guard fired (a quarter of which the probe
     * repeats), bounded here by the cold solve's own length. */
    ck_assert_int_le(res.iterations - res.annealing_iterations, 2 * cold.iterations);
    /* The same solution: both within tol of it, so the values agree to about
     * tol times the cost scale. */
    ck_assert_double_le(fabs(res.ot_kl - cold.ot_kl), 1e-5 * fabs(cold.ot_kl));
    otk_cost_free(c);
    free(x);
    free(y);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(test_params_default_has_the_documented_values)
{
    otk_sinkhorn_params par;
    memset(&par, 0x5a, sizeof par);
    otk_sinkhorn_params_default(&par);
    ck_assert_double_eq(par.eps, 0.0);
    ck_assert_double_eq(par.blur, 0.05);
    ck_assert(isinf(par.rho_a) && par.rho_a > 0);
    ck_assert(isinf(par.rho_b) && par.rho_b > 0);
    ck_assert_double_eq(par.reach, 0.0);
    ck_assert_int_eq(par.schedule, OTK_SCHEDULE_CONVERGE);
    ck_assert_int_eq(par.update, OTK_UPDATE_AUTO);
    ck_assert_double_eq(par.scaling, 0.5);
    ck_assert_double_eq(par.diameter, 0.0);
    ck_assert_double_eq(par.p, 0.0);
    ck_assert_double_eq(par.tol, 1e-6);
    ck_assert_int_eq(par.max_iter, 10000);
    ck_assert_int_eq(par.no_annealing, 0);
    ck_assert_int_eq(par.threads, 0);
    otk_sinkhorn_params_default(NULL); /* ignored */
}
END_TEST

typedef struct {
    const char *field; /* the name the message must contain */
    void (*set)(otk_sinkhorn_params *, double);
    double value;
} bad_param;

/* Parameters for the small dense costs below: a dense cost has no exponent,
 * so ε is given in cost units (blur would be refused). */
static const otk_sinkhorn_params *dense_params(void)
{
    static otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 0.05;
    return &par;
}

static void set_eps(otk_sinkhorn_params *p, double v) { p->eps = v; }
static void set_blur(otk_sinkhorn_params *p, double v) { p->eps = 0.0, p->blur = v; }
static void set_rho_a(otk_sinkhorn_params *p, double v) { p->rho_a = v; }
static void set_rho_b(otk_sinkhorn_params *p, double v) { p->rho_b = v; }
static void set_reach(otk_sinkhorn_params *p, double v) { p->reach = v; }
static void set_schedule(otk_sinkhorn_params *p, double v) { p->schedule = (otk_schedule)(int)v; }
static void set_update(otk_sinkhorn_params *p, double v) { p->update = (otk_update)(int)v; }
static void set_scaling(otk_sinkhorn_params *p, double v) { p->scaling = v; }
static void set_diameter(otk_sinkhorn_params *p, double v) { p->diameter = v; }
static void set_p(otk_sinkhorn_params *p, double v) { p->p = v; }
static void set_tol(otk_sinkhorn_params *p, double v) { p->tol = v; }
static void set_max_iter(otk_sinkhorn_params *p, double v) { p->max_iter = (int)v; }
static void set_threads(otk_sinkhorn_params *p, double v) { p->threads = (int)v; }

START_TEST(test_alloc_rejects_each_invalid_params_field_by_name)
{
    const bad_param bad[] = {
        {"eps", set_eps, -1.0},          {"eps", set_eps, NAN},
        {"eps", set_eps, INFINITY},      {"blur", set_blur, 0.0},
        {"blur", set_blur, -0.1},        {"blur", set_blur, NAN},
        {"rho_a", set_rho_a, 0.0},       {"rho_a", set_rho_a, -1.0},
        {"rho_a", set_rho_a, NAN},       {"rho_b", set_rho_b, 0.0},
        {"rho_b", set_rho_b, -INFINITY}, {"reach", set_reach, -0.5},
        {"reach", set_reach, NAN},       {"reach", set_reach, INFINITY},
        {"schedule", set_schedule, 2},   {"schedule", set_schedule, -1},
        {"update", set_update, 3},       {"update", set_update, -1},
        {"scaling", set_scaling, 0.0},   {"scaling", set_scaling, 1.0},
        {"scaling", set_scaling, -0.5},  {"scaling", set_scaling, 1.5},
        {"scaling", set_scaling, NAN},   {"diameter", set_diameter, -1.0},
        {"diameter", set_diameter, NAN}, {"diameter", set_diameter, INFINITY},
        {"p", set_p, -2.0},              {"p", set_p, NAN},
        {"tol", set_tol, 0.0},           {"tol", set_tol, -1e-6},
        {"tol", set_tol, NAN},           {"max_iter", set_max_iter, 0},
        {"max_iter", set_max_iter, -5},  {"threads", set_threads, -1},
    };
    const double C[4] = {0, 1, 1, 0};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 2, C, 2));
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        otk_sinkhorn_params par = *dense_params();
        bad[k].set(&par, bad[k].value);
        otk_sinkhorn *s = (otk_sinkhorn *)(void *)&par; /* not NULL: must be cleared */
        const int st = otk_sinkhorn_alloc(&s, c, &par);
        ck_assert_msg(st == OTK_EPARAM, "%s = %g: alloc returned %s", bad[k].field, bad[k].value,
                      otk_status_name(st));
        ck_assert_msg(s == NULL, "%s = %g: *out not cleared on failure", bad[k].field,
                      bad[k].value);
        ck_assert_msg(strstr(otk_last_error(), bad[k].field) != NULL,
                      "%s = %g: message \"%s\" does not name the field", bad[k].field,
                      bad[k].value, otk_last_error());
    }
    otk_cost_free(c);
}
END_TEST

START_TEST(test_alloc_accepts_null_params_and_edge_values)
{
    const double C[4] = {0, 1, 1, 0};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 2, C, 2));
    otk_sinkhorn *s = NULL;
    /* NULL = defaults: blur 0.05, which a dense cost (no exponent) refuses
     * naming blur, eps and p, rather than reading it as ε = 0.05. */
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c, NULL), OTK_EPARAM, "params.blur");
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(otk_last_error(), "params.eps"));
    ck_assert_ptr_nonnull(strstr(otk_last_error(), "params.p"));
    const double xy[2] = {0.0, 1.0};
    otk_cost *pts = NULL;
    TK_ASSERT_OK(otk_cost_points(&pts, 2, 2, 1, xy, xy, OTK_GROUND_SQEUCLIDEAN, 0.0));
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, pts, NULL));
    ck_assert_ptr_nonnull(s);
    otk_sinkhorn_free(s);
    otk_cost_free(pts);
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 0.1;
    par.blur = 0.0; /* unused when eps > 0 */
    par.rho_a = INFINITY;
    par.rho_b = 3.0;
    par.max_iter = 1;
    par.threads = 1;
    par.scaling = 0.999;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

/* blur is one length: on a dense matrix of ‖x−y‖² with params.p = 2 it gives
 * the ε = blur² of the point-cloud cost it was computed from, so the two
 * solve the same problem (values to the tolerance); p = 2 also carries
 * reach to ρ = reach². */
START_TEST(test_blur_on_a_dense_cost_takes_params_p)
{
    problem pr = problem_random(41, 30, 25, 2, 1.0, 1.0);
    otk_cost *pts = points_cost(&pr, OTK_GROUND_SQEUCLIDEAN, 0.0);
    double *C = tk_alloc(pr.n * pr.m, sizeof(double));
    for (size_t i = 0; i < pr.n; i++)
        for (size_t j = 0; j < pr.m; j++)
            C[i * pr.m + j] = otk_cost_entry(pts, i, j);
    otk_cost *dense = NULL;
    TK_ASSERT_OK(otk_cost_dense(&dense, pr.n, pr.m, C, pr.m));
    ck_assert_double_eq(otk_cost_exponent(dense), 0.0);
    for (int unbalanced = 0; unbalanced <= 1; unbalanced++) {
        otk_sinkhorn_params par = params_converge(0.0, 1e-12);
        par.blur = 0.2;
        if (unbalanced)
            par.reach = 0.7;
        otk_sinkhorn_result rp, rd;
        otk_sinkhorn_free(solve_ok(pts, &par, pr.a, pr.b, &rp));
        par.p = 2.0;
        otk_sinkhorn_free(solve_ok(dense, &par, pr.a, pr.b, &rd));
        ck_assert_double_eq_tol(rd.eps, 0.04, 1e-15);
        ck_assert_double_eq_tol(rp.eps, 0.04, 1e-15);
        ck_assert_double_eq_tol(rd.ot_kl, rp.ot_kl, 1e-9 * fabs(rp.ot_kl));
        ck_assert_double_eq_tol(rd.ot_lin, rp.ot_lin, 1e-9 * fabs(rp.ot_lin));
    }
    otk_cost_free(dense);
    otk_cost_free(pts);
    free(C);
    problem_free(&pr);
}
END_TEST

START_TEST(test_set_rejects_bad_weights_naming_array_and_index)
{
    const double C[20] = {0};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 4, 5, C, 5));
    otk_sinkhorn_params par = params_converge(0.1, 1e-6);
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    double a[4] = {0.25, 0.25, 0.25, 0.25}, b[5] = {0.2, 0.2, 0.2, 0.2, 0.2};
    a[3] = NAN;
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, b), OTK_ENONFINITE, "a[3]");
    a[3] = 0.25;
    b[3] = INFINITY;
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, b), OTK_ENONFINITE, "b[3]");
    b[3] = -INFINITY;
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, b), OTK_ENONFINITE, "b[3]");
    b[3] = -0.25;
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, b), OTK_ENEGATIVE, "b[3]");
    b[3] = 0.2;
    a[1] = -1e-300;
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, b), OTK_ENEGATIVE, "a[1]");
    a[1] = 0.25;
    const double za[4] = {0, 0, 0, 0}, zb[5] = {0, 0, 0, 0, 0};
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, za, b), OTK_EZEROMASS, "a");
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, zb), OTK_EZEROMASS, "b");
    /* The failed set() left the solver unset. */
    TK_ASSERT_FAILS(otk_sinkhorn_iterate(s), OTK_ESTATE, "set");
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_balanced_problem_requires_equal_masses)
{
    /* sinkhorn.h: OTK_EMASS when |Σa − Σb| > 1e-9·max(Σa, Σb) and both sides
     * are balanced; accepted within the tolerance, and when unbalanced. */
    const double C[6] = {0, 1, 2, 1, 0, 1};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 3, C, 3));
    otk_sinkhorn_params par = params_converge(0.1, 1e-6);
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    const double a[2] = {0.5, 0.5}, b_heavy[3] = {0.4, 0.4, 0.4};
    const double b_close[3] = {0.3, 0.3, 0.4 + 1e-12}, b_off[3] = {0.3, 0.3, 0.4 + 1e-8};
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, b_heavy), OTK_EMASS, "1.2");
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, a, b_off), OTK_EMASS, "sum");
    TK_ASSERT_FAILS(otk_sinkhorn_set(s, NULL, b_heavy), OTK_EMASS, "1.2");
    TK_ASSERT_OK(otk_sinkhorn_set(s, a, b_close));
    otk_sinkhorn_free(s);
    par.rho_a = par.rho_b = 1.0;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    TK_ASSERT_OK(otk_sinkhorn_set(s, a, b_heavy));
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_calls_before_set_return_estate)
{
    const double C[4] = {0, 1, 1, 0};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 2, C, 2));
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, dense_params()));
    otk_sinkhorn_result res;
    double v2[2] = {0.5, 0.5}, out[4];
    TK_ASSERT_FAILS(otk_sinkhorn_iterate(s), OTK_ESTATE, "set");
    TK_ASSERT_FAILS(otk_sinkhorn_get_result(s, &res), OTK_ESTATE, "set");
    TK_ASSERT_FAILS(otk_sinkhorn_marginals(s, out, out + 2), OTK_ESTATE, "set");
    TK_ASSERT_FAILS(otk_sinkhorn_plan_apply(s, 0, 1, v2, out), OTK_ESTATE, "set");
    TK_ASSERT_FAILS(otk_sinkhorn_barycentric(s, 1, v2, out), OTK_ESTATE, "set");
    TK_ASSERT_FAILS(otk_sinkhorn_plan(s, out), OTK_ESTATE, "set");
    TK_ASSERT_FAILS(otk_sinkhorn_set_potentials(s, v2, v2), OTK_ESTATE, "set");
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_null_pointer_arguments_return_enull_naming_the_argument)
{
    const double C[4] = {0, 1, 1, 0};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 2, C, 2));
    otk_sinkhorn *s = (otk_sinkhorn *)(void *)&c;
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(NULL, c, NULL), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, NULL, NULL), OTK_ENULL, "cost");
    ck_assert_ptr_null(s);
    otk_sinkhorn_result res;
    double v2[2] = {0.5, 0.5}, out[4];
    TK_ASSERT_FAILS(otk_sinkhorn_set(NULL, v2, v2), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_set_potentials(NULL, v2, v2), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_iterate(NULL), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_get_result(NULL, &res), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_solve(NULL, v2, v2, &res), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_marginals(NULL, out, out), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_plan_apply(NULL, 0, 1, v2, out), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_barycentric(NULL, 1, v2, out), OTK_ENULL, "solver");
    TK_ASSERT_FAILS(otk_sinkhorn_plan(NULL, out), OTK_ENULL, "solver");

    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, dense_params()));
    TK_ASSERT_OK(otk_sinkhorn_solve(s, NULL, NULL, NULL)); /* res may be NULL */
    TK_ASSERT_FAILS(otk_sinkhorn_get_result(s, NULL), OTK_ENULL, "res");
    TK_ASSERT_FAILS(otk_sinkhorn_plan_apply(s, 0, 1, NULL, out), OTK_ENULL, "in");
    TK_ASSERT_FAILS(otk_sinkhorn_plan_apply(s, 0, 1, v2, NULL), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_sinkhorn_barycentric(s, 1, NULL, out), OTK_ENULL, "Y");
    TK_ASSERT_FAILS(otk_sinkhorn_barycentric(s, 1, v2, NULL), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_sinkhorn_plan(s, NULL), OTK_ENULL, "P");
    TK_ASSERT_OK(otk_sinkhorn_marginals(s, NULL, NULL)); /* either may be NULL */
    TK_ASSERT_OK(otk_sinkhorn_set_potentials(s, NULL, NULL)); /* NULL leaves a side as is */
    TK_ASSERT_FAILS(otk_potential_convert(2, 0.1, NULL, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_POT, v2, out),
                    OTK_ENULL, "w");
    TK_ASSERT_FAILS(otk_potential_convert(2, 0.1, v2, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_POT, NULL, out),
                    OTK_ENULL, "in");
    TK_ASSERT_FAILS(otk_potential_convert(2, 0.1, v2, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_POT, v2, NULL),
                    OTK_ENULL, "out");
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_plan_apply_rejects_bad_axis_and_zero_columns)
{
    const double C[4] = {0, 1, 1, 0};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 2, C, 2));
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, dense_params()));
    TK_ASSERT_OK(otk_sinkhorn_set(s, NULL, NULL));
    double in[2] = {1, 2}, out[2] = {-7, -7};
    TK_ASSERT_FAILS(otk_sinkhorn_plan_apply(s, 2, 1, in, out), OTK_EPARAM, "axis");
    TK_ASSERT_FAILS(otk_sinkhorn_plan_apply(s, -1, 1, in, out), OTK_EPARAM, "axis");
    TK_ASSERT_FAILS(otk_sinkhorn_plan_apply(s, 0, 0, in, out), OTK_ESIZE, "k");
    TK_ASSERT_FAILS(otk_sinkhorn_barycentric(s, 0, in, out), OTK_ESIZE, "k");
    /* Errors compute nothing: the output is untouched. */
    ck_assert_double_eq(out[0], -7.0);
    ck_assert_double_eq(out[1], -7.0);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_set_potentials_rejects_nonfinite_values_naming_the_index)
{
    const double C[6] = {0, 1, 2, 1, 0, 1};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 3, C, 3));
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, dense_params()));
    TK_ASSERT_OK(otk_sinkhorn_set(s, NULL, NULL));
    double f[2] = {0.1, NAN}, g[3] = {0, 0, INFINITY};
    TK_ASSERT_FAILS(otk_sinkhorn_set_potentials(s, f, NULL), OTK_ENONFINITE, "f[1]");
    TK_ASSERT_FAILS(otk_sinkhorn_set_potentials(s, NULL, g), OTK_ENONFINITE, "g[2]");
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_potential_convert_rejects_bad_eps_and_gauge)
{
    const double w[2] = {0.5, 0.5}, in[2] = {1, 2};
    double out[2] = {-7, -7};
    TK_ASSERT_FAILS(otk_potential_convert(2, 0.0, w, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_OTT, in, out),
                    OTK_EPARAM, "eps");
    TK_ASSERT_FAILS(otk_potential_convert(2, -1.0, w, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_OTT, in, out),
                    OTK_EPARAM, "eps");
    TK_ASSERT_FAILS(otk_potential_convert(2, NAN, w, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_OTT, in, out),
                    OTK_EPARAM, "eps");
    TK_ASSERT_FAILS(otk_potential_convert(2, 0.1, w, (otk_gauge)3, OTK_GAUGE_OTT, in, out),
                    OTK_EPARAM, "gauge");
    TK_ASSERT_FAILS(otk_potential_convert(2, 0.1, w, OTK_GAUGE_OTT, (otk_gauge)-1, in, out),
                    OTK_EPARAM, "gauge");
    ck_assert_double_eq(out[0], -7.0);
}
END_TEST

START_TEST(test_free_null_is_a_noop)
{
    otk_sinkhorn_free(NULL);
    otk_cost_free(NULL);
}
END_TEST

START_TEST(test_not_converged_is_a_positive_warning_with_the_best_finite_iterate)
{
    /* max_iter 1 and tol 1e-15: OTK_NOT_CONVERGED (a warning, > 0), the
     * result says so, the potentials are finite and the reported marginal
     * error is that of the returned potentials. */
    problem p = problem_random(22, 15, 11, 2, 1.0, 1.0);
    otk_cost *c = points_cost(&p, OTK_GROUND_SQEUCLIDEAN, 0.0);
    otk_sinkhorn_params par = params_converge(1e-3, 1e-15);
    par.max_iter = 1;
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    otk_sinkhorn_result res;
    const otk_status st = otk_sinkhorn_solve(s, p.a, p.b, &res);
    ck_assert_int_eq(st, OTK_NOT_CONVERGED);
    ck_assert_int_gt(st, 0);
    ck_assert_int_eq(res.status, OTK_NOT_CONVERGED);
    ck_assert(tk_all_finite(otk_sinkhorn_potential_f(s), p.n));
    ck_assert(tk_all_finite(otk_sinkhorn_potential_g(s), p.m));
    ck_assert(isfinite(res.ot_kl) && isfinite(res.ot_ent) && isfinite(res.ot_lin));
    ck_assert_double_gt(res.marginal_error, 1e-15);
    double ea, eb;
    marginal_errors(s, p.n, p.m, p.a, p.b, &ea, &eb);
    TK_ASSERT_REL(res.marginal_error, ea + eb, 1e-9);
    /* Iterating again returns the same warning and changes nothing. */
    int its = -1;
    ck_assert_int_eq(otk_sinkhorn_iterate(s), OTK_NOT_CONVERGED);
    otk_sinkhorn_progress(s, NULL, &its, NULL);
    ck_assert_int_eq(its, res.iterations);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    problem_free(&p);
}
END_TEST

START_TEST(test_overflowing_cost_over_eps_reports_enumeric)
{
    /* Finite input whose C/ε = 1e310 exceeds the double range: every kernel
     * entry underflows, the soft-min is +inf, and iterate must report
     * OTK_ENUMERIC instead of propagating non-finite potentials. */
    const double C[6] = {1e300, 1e300, 1e300, 1e300, 1e300, 1e300};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 3, C, 3));
    otk_sinkhorn_params par = params_converge(1e-10, 1e-6);
    otk_sinkhorn *s = NULL;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    const otk_status st = otk_sinkhorn_solve(s, NULL, NULL, NULL);
    ck_assert_msg(st == OTK_ENUMERIC, "solve returned %s", otk_status_name(st));
    ck_assert_msg(strlen(otk_last_error()) > 0, "no message for OTK_ENUMERIC");
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

static double nan_cost(size_t i, size_t j, void *ctx)
{
    (void)ctx;
    return i == 3 && j == 1 ? NAN : (double)(i + j);
}

START_TEST(test_nan_from_a_callback_cost_reports_enumeric)
{
    /* A callback that breaks its contract with one NaN (not caught at
     * construction: a diameter is given, so nothing is scanned).  The NaN
     * reaches the potentials, and iterate must report OTK_ENUMERIC rather
     * than return SUCCESS with the entry silently treated as +inf — for each
     * instruction set (the SIMD max/clamp must not swallow NaN). */
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_callback(&c, 5, 4, nan_cost, NULL, 10.0));
    const otk_update updates[2] = {OTK_UPDATE_ALTERNATING, OTK_UPDATE_SYMMETRIC};
    for (int k = 0; k < 2; k++) {
        otk_sinkhorn_params par = params_converge(0.5, 1e-6);
        par.update = updates[k];
        otk_sinkhorn *s = NULL;
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
        const otk_status st = otk_sinkhorn_solve(s, NULL, NULL, NULL);
        ck_assert_msg(st == OTK_ENUMERIC, "update %d: solve returned %s", (int)updates[k],
                      otk_status_name(st));
        otk_sinkhorn_free(s);
    }
    otk_cost_free(c);
}
END_TEST

static double zero_cost(size_t i, size_t j, void *ctx)
{
    (void)i, (void)j, (void)ctx;
    return 0.0;
}

START_TEST(test_alloc_reports_enomem_for_unallocatable_workspaces)
{
    /* A callback cost of 2^44 × 2^44 needs no memory itself; the solver's
     * O(n + m) workspace (2^48 doubles) cannot be allocated. */
    const size_t huge = (size_t)1 << 44;
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_callback(&c, huge, huge, zero_cost, NULL, 1.0));
    otk_sinkhorn *s = (otk_sinkhorn *)(void *)&c;
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c, dense_params()), OTK_ENOMEM, "memory");
    ck_assert_ptr_null(s);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_alloc_rejects_sizes_whose_workspace_size_overflows)
{
    /* n = m = 2^61: the workspace of (8n + 8m) doubles overflows size_t and
     * wraps to 0 bytes.  Returning success with a tiny buffer would corrupt
     * memory on the first set(); the only honest answer is OTK_ENOMEM. */
    const size_t huge = (size_t)1 << 61;
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_callback(&c, huge, huge, zero_cost, NULL, 1.0));
    otk_sinkhorn *s = NULL;
    const int st = otk_sinkhorn_alloc(&s, c, dense_params());
    if (st == OTK_SUCCESS)
        otk_sinkhorn_free(s); /* never set(): freeing the bogus workspace is safe */
    ck_assert_msg(st == OTK_ENOMEM, "alloc for n = m = 2^61 returned %s", otk_status_name(st));
    otk_cost_free(c);
}
END_TEST

/* ------------------------------------------------------------ small ε */

START_TEST(test_small_eps_500_points_converges_without_nan)
{
    /* half-sqeuclidean on the unit square, n = m = 500, ε = 1e-4 (C/ε up to
     * 1e4: far outside what a kernel-domain Sinkhorn survives, docs/math.md F.5).
     * Default tolerance 1e-6; max_iter raised to 20000 because this problem
     * needs ~10900 updates at the target ε (the default cap is 10000).
     * Serial: ~8 s on one core; OpenMP threads spinning on a loaded CI
     * machine made it several times slower. */
    if (tk_quick())
        return;
    enum { n = 500 };
    tk_rng r = tk_rng_seed(500);
    double *x = tk_alloc(n * 2, sizeof *x), *y = tk_alloc(n * 2, sizeof *y);
    tk_points_uniform(&r, n, 2, x);
    tk_points_uniform(&r, n, 2, y);
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, 2, x, y, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0));
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 1e-4;
    par.max_iter = 20000;
    par.threads = 1;
    otk_sinkhorn_result res;
    otk_sinkhorn *s = solve_ok(c, &par, NULL, NULL, &res);
    ck_assert(isfinite(res.ot_kl) && isfinite(res.ot_ent) && isfinite(res.ot_lin));
    ck_assert(tk_all_finite(otk_sinkhorn_potential_f(s), n));
    ck_assert(tk_all_finite(otk_sinkhorn_potential_g(s), n));
    double *a = tk_alloc(n, sizeof *a);
    tk_weights_uniform(n, 1.0, a);
    double ea, eb;
    marginal_errors(s, n, n, a, a, &ea, &eb);
    ck_assert_msg(ea + eb <= par.tol + 1e-12, "marginal error %.3g + %.3g", ea, eb);
    /* OT_lin between two uniform samples of the square is a small positive
     * number; OT_ent <= OT_lin since H(P) >= 0. */
    ck_assert_double_gt(res.ot_lin, 0.0);
    ck_assert_double_le(res.ot_ent, res.ot_lin + 1e-12);
    free(a), free(x), free(y);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
}
END_TEST

/* otk_sinkhorn_set_eps re-aims a solver: after it (and after moving the
 * points with otk_cost_points_set) a solve is bitwise that of a fresh solver
 * built for the new ε and points. */
START_TEST(test_set_eps_equals_a_fresh_solver)
{
    enum { N = 40, M = 33, D = 2 };
    tk_rng rng = tk_rng_seed(44);
    double x[N * D], y[M * D], y2[M * D];
    tk_points_uniform(&rng, N, D, x);
    tk_points_uniform(&rng, M, D, y);
    tk_points_gauss(&rng, M, D, 0.5, 3.0, y2);
    otk_cost *c, *c2;
    TK_ASSERT_OK(otk_cost_points(&c, N, M, D, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0));
    TK_ASSERT_OK(otk_cost_points(&c2, N, M, D, x, y2, OTK_GROUND_SQEUCLIDEAN, 0.0));
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 1.0;
    par.threads = 1;
    otk_sinkhorn *s, *fresh;
    otk_sinkhorn_result r, rf;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    TK_ASSERT_OK(otk_sinkhorn_solve(s, NULL, NULL, &r));
    TK_ASSERT_OK(otk_sinkhorn_set_eps(s, 0.01));
    TK_ASSERT_FAILS(otk_sinkhorn_iterate(s), OTK_ESTATE, "otk_sinkhorn_set");
    TK_ASSERT_OK(otk_cost_points_set(c, NULL, y2));
    TK_ASSERT_FAILS(otk_sinkhorn_set_eps(s, 0.0), OTK_EPARAM, "eps");
    TK_ASSERT_FAILS(otk_sinkhorn_set_eps(s, NAN), OTK_EPARAM, "eps");
    TK_ASSERT_FAILS(otk_sinkhorn_set_eps(NULL, 0.01), OTK_ENULL, "NULL");
    TK_ASSERT_OK(otk_sinkhorn_set_eps(s, 0.01));
    TK_ASSERT_OK(otk_sinkhorn_solve(s, NULL, NULL, &r));
    par.eps = 0.01;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&fresh, c2, &par));
    TK_ASSERT_OK(otk_sinkhorn_solve(fresh, NULL, NULL, &rf));
    ck_assert_double_eq(r.eps, 0.01);
    ck_assert_double_eq(r.ot_kl, rf.ot_kl);
    ck_assert_double_eq(r.marginal_error, rf.marginal_error);
    ck_assert_int_eq(r.iterations, rf.iterations);
    ck_assert_int_eq(r.annealing_iterations, rf.annealing_iterations);
    ck_assert(r.annealing_iterations > 5);
    otk_sinkhorn_free(s);
    otk_sinkhorn_free(fresh);
    otk_cost_free(c);
    otk_cost_free(c2);
}
END_TEST

Suite *sinkhorn_suite(void)
{
    Suite *s = suite_create("sinkhorn");
    TCase *tc = tcase_create("closed_form");
    tcase_add_test(tc, test_set_eps_equals_a_fresh_solver);
    tcase_add_test(tc, test_one_by_one_problem_transports_all_mass_at_cost_c);
    tcase_add_test(tc, test_two_by_two_symmetric_cost_has_the_closed_form_plan);
    tcase_add_test(tc, test_single_source_atom_sends_exactly_the_target_weights);
    tcase_add_test(tc, test_equal_measures_ot_lin_decreases_to_zero_below_eps_log_n);
    tk_set_timeout(tc, 20);
    suite_add_tcase(s, tc);

    tc = tcase_create("invariants");
    tcase_add_test(tc, test_converged_marginals_match_the_weights);
    tcase_add_test(tc, test_ot_kl_minus_ot_ent_is_eps_times_weight_entropies);
    tcase_add_test(tc, test_values_equal_those_of_the_dense_plan);
    tcase_add_test(tc, test_balanced_values_for_non_unit_mass_match_the_primal_objective);
    tcase_add_test(tc, test_solution_matches_the_brute_force_reference_sinkhorn);
    tcase_add_test(tc, test_dense_and_points_costs_agree_for_every_ground);
    tcase_add_test(tc, test_points_and_callback_costs_agree);
    tcase_add_test(tc, test_symmetric_and_alternating_updates_agree_at_convergence);
    tcase_add_test(tc, test_result_reports_the_update_rule_that_ran);
    tcase_add_test(tc, test_thread_counts_give_bitwise_identical_results);
    tcase_add_test(tc, test_plan_apply_and_marginals_match_the_dense_plan_products);
    tcase_add_test(tc, test_barycentric_projection_is_the_plan_average_of_targets);
    tcase_add_test(tc, test_zero_weight_atoms_do_not_change_the_solution);
    tcase_add_test(tc, test_zero_weight_atoms_have_exactly_zero_marginals);
    tcase_add_test(tc, test_barycentric_projection_of_a_zero_weight_atom_is_nan);
    tcase_add_test(tc, test_warm_start_converges_in_fewer_iterations_than_a_cold_start);
    tcase_add_test(tc, test_iterate_loop_reports_progress_and_matches_solve);
    tcase_add_test(tc, test_null_weights_mean_uniform_weights);
    tk_set_timeout(tc, 20);
    suite_add_tcase(s, tc);

    tc = tcase_create("unbalanced");
    tcase_add_test(tc, test_unbalanced_marginals_satisfy_the_optimality_conditions);
    tcase_add_test(tc, test_unbalanced_value_is_the_primal_objective_of_the_plan);
    tcase_add_test(tc, test_unbalanced_value_tends_to_the_balanced_one_as_rho_grows);
    tcase_add_test(tc, test_blur_and_reach_set_eps_and_rho_as_powers_p);
    tk_set_timeout(tc, 20);
    suite_add_tcase(s, tc);

    tc = tcase_create("schedule");
    tcase_add_test(tc, test_epsilon_schedule_honours_cap_and_rejects_invalid_arguments);
    tcase_add_test(tc, test_fixed_schedule_runs_one_update_per_listed_eps);
    tcase_add_test(tc, test_converge_schedule_anneals_then_iterates_at_the_target);
    tcase_add_test(tc, test_default_schedule_converges_on_ten_points_on_a_line);
    tcase_add_test(tc, test_default_schedule_converges_on_a_smooth_map_in_6d);
    tk_set_timeout(tc, 60); /* the 6-D map: about 5000 updates of 200×200 */
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_params_default_has_the_documented_values);
    tcase_add_test(tc, test_alloc_rejects_each_invalid_params_field_by_name);
    tcase_add_test(tc, test_alloc_accepts_null_params_and_edge_values);
    tcase_add_test(tc, test_blur_on_a_dense_cost_takes_params_p);
    tcase_add_test(tc, test_set_rejects_bad_weights_naming_array_and_index);
    tcase_add_test(tc, test_balanced_problem_requires_equal_masses);
    tcase_add_test(tc, test_calls_before_set_return_estate);
    tcase_add_test(tc, test_null_pointer_arguments_return_enull_naming_the_argument);
    tcase_add_test(tc, test_plan_apply_rejects_bad_axis_and_zero_columns);
    tcase_add_test(tc, test_set_potentials_rejects_nonfinite_values_naming_the_index);
    tcase_add_test(tc, test_potential_convert_rejects_bad_eps_and_gauge);
    tcase_add_test(tc, test_free_null_is_a_noop);
    tcase_add_test(tc, test_not_converged_is_a_positive_warning_with_the_best_finite_iterate);
    tcase_add_test(tc, test_overflowing_cost_over_eps_reports_enumeric);
    tcase_add_test(tc, test_nan_from_a_callback_cost_reports_enumeric);
    tcase_add_test(tc, test_alloc_reports_enomem_for_unallocatable_workspaces);
    tcase_add_test(tc, test_alloc_rejects_sizes_whose_workspace_size_overflows);
    suite_add_tcase(s, tc);

    tc = tcase_create("small_eps");
    tcase_add_test(tc, test_small_eps_500_points_converges_without_nan);
    tk_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
