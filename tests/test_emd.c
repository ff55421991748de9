/*
 * tests/test_emd.c — exact optimal transport (otkit/emd.h): values against
 * POT's ot.emd (LEMON's network simplex, tests/exact_reference.h) to 1e-12
 * relative on dense, point-cloud and degenerate problems; every solution
 * checked as an optimality certificate (the plan meets the marginals, has at
 * most n + m − 1 entries, the potentials are dual feasible with equality on
 * the support, and the dual value equals the primal one); the ε → 0 limit of
 * Sinkhorn; the iteration cap and every error status.
 */
#include "test_helpers.h"
#include "exact_reference.h"

typedef struct {
    otk_emd_result res;
    size_t *rows, *cols;
    double *mass, *u, *v;
} emd_solution;

static otk_status solve_emd(const otk_cost *cost, const double *a, const double *b,
                            const otk_emd_params *par, emd_solution *sol)
{
    const size_t n = otk_cost_rows(cost), m = otk_cost_cols(cost);
    otk_emd *s = NULL;
    TK_ASSERT_OK(otk_emd_alloc(&s, cost, par));
    otk_status st = otk_emd_solve(s, a, b, &sol->res);
    sol->rows = tk_alloc(n + m, sizeof(size_t));
    sol->cols = tk_alloc(n + m, sizeof(size_t));
    sol->mass = tk_alloc(n + m, sizeof(double));
    sol->u = tk_alloc(n, sizeof(double));
    sol->v = tk_alloc(m, sizeof(double));
    if (st >= 0) {
        TK_ASSERT_OK(otk_emd_plan(s, sol->rows, sol->cols, sol->mass));
        TK_ASSERT_OK(otk_emd_potentials(s, sol->u, sol->v));
    }
    otk_emd_free(s);
    return st;
}

static void solution_free(emd_solution *sol)
{
    free(sol->rows);
    free(sol->cols);
    free(sol->mass);
    free(sol->u);
    free(sol->v);
}

/* The optimality certificate, read against the n×m matrix C: primal
 * feasibility (marginals to `mtol` relative to the mass), complementary
 * slackness (u_i + v_j <= C_ij + tol·max|C| everywhere, |u_i + v_j − C_ij|
 * <= tol·max|C| on the support), the value and the dual value equal to <P, C>
 * (tol relative), the plan sorted, positive and of at most n + m − 1 entries. */
static void check_certificate(size_t n, size_t m, const double *C, const double *a,
                              const double *b, const emd_solution *sol, double tol)
{
    const size_t k = sol->res.plan_size;
    ck_assert_msg(k <= n + m - 1, "plan has %zu > n + m - 1 = %zu entries", k, n + m - 1);
    double cmax = tk_max_abs(C, n * m), mass = 0.0;
    double *row = tk_alloc(n, sizeof(double)), *col = tk_alloc(m, sizeof(double));
    double value = 0.0;
    for (size_t t = 0; t < k; t++) {
        const size_t i = sol->rows[t], j = sol->cols[t];
        ck_assert(i < n && j < m);
        ck_assert_msg(sol->mass[t] > 0.0, "plan entry %zu has mass %g", t, sol->mass[t]);
        if (t > 0)
            ck_assert_msg(sol->rows[t - 1] < i || (sol->rows[t - 1] == i && sol->cols[t - 1] < j),
                          "plan not sorted at %zu", t);
        row[i] += sol->mass[t];
        col[j] += sol->mass[t];
        value += sol->mass[t] * C[i * m + j];
        const double slack = C[i * m + j] - sol->u[i] - sol->v[j];
        ck_assert_msg(fabs(slack) <= tol * cmax, "support (%zu, %zu): C - u - v = %g", i, j,
                      slack);
    }
    const double *aa = a, *bb = b;
    double *ua = NULL, *ub = NULL;
    if (!a) {
        ua = tk_alloc(n, sizeof(double));
        tk_weights_uniform(n, 1.0, ua);
        aa = ua;
    }
    if (!b) {
        ub = tk_alloc(m, sizeof(double));
        tk_weights_uniform(m, 1.0, ub);
        bb = ub;
    }
    mass = tk_sum(aa, n);
    TK_ASSERT_VEC_ABS(row, aa, n, 1e-14 * mass, "row marginal");
    TK_ASSERT_VEC_ABS(col, bb, m, 1e-14 * mass, "column marginal");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            ck_assert_msg(sol->u[i] + sol->v[j] <= C[i * m + j] + tol * cmax,
                          "dual infeasible at (%zu, %zu): u + v - C = %g", i, j,
                          sol->u[i] + sol->v[j] - C[i * m + j]);
    TK_ASSERT_REL(sol->res.value, value, 1e-14);
    TK_ASSERT_ABS(sol->res.dual_value, value, tol * cmax * mass);
    TK_ASSERT_ABS(tk_dot(aa, sol->u, n), tk_dot(bb, sol->v, m), 1e-13 * (cmax + 1) * mass);
    free(ua);
    free(ub);
    free(row);
    free(col);
}

START_TEST(test_dense_matches_pot)
{
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_dense(&cost, 9, 13, exact_dense_C, 13));
    emd_solution sol;
    TK_ASSERT_OK(solve_emd(cost, exact_dense_a, exact_dense_b, NULL, &sol));
    TK_ASSERT_REL(sol.res.value, EXACT_DENSE_VALUE, 1e-12);
    check_certificate(9, 13, exact_dense_C, exact_dense_a, exact_dense_b, &sol, 1e-12);
    solution_free(&sol);
    otk_cost_free(cost);
}
END_TEST

START_TEST(test_points_match_pot)
{
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_points(&cost, 11, 8, 2, exact_points_x, exact_points_y,
                                 OTK_GROUND_SQEUCLIDEAN, 0.0));
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0.0, 11, 8, 2, exact_points_x,
                               exact_points_y);
    emd_solution sol;
    TK_ASSERT_OK(solve_emd(cost, NULL, NULL, NULL, &sol));
    TK_ASSERT_REL(sol.res.value, EXACT_POINTS_VALUE, 1e-12);
    check_certificate(11, 8, C, NULL, NULL, &sol, 1e-12);
    /* the kept matrix is read in place: the same solution */
    TK_ASSERT_OK(otk_cost_points_cache(cost, 1 << 20));
    emd_solution kept;
    TK_ASSERT_OK(solve_emd(cost, NULL, NULL, NULL, &kept));
    TK_ASSERT_REL(kept.res.value, sol.res.value, 1e-15);
    solution_free(&kept);
    solution_free(&sol);
    free(C);
    otk_cost_free(cost);
}
END_TEST

/* Integer costs with many ties, a duplicated row, zero weights on both
 * sides and masses that are not 1: the strongly feasible basis must neither
 * cycle nor stall, and the potentials must still certify optimality. */
START_TEST(test_degenerate_problem)
{
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_dense(&cost, 10, 10, exact_degen_C, 10));
    emd_solution sol;
    TK_ASSERT_OK(solve_emd(cost, exact_degen_a, exact_degen_b, NULL, &sol));
    TK_ASSERT_REL(sol.res.value, EXACT_DEGEN_VALUE, 1e-12);
    check_certificate(10, 10, exact_degen_C, exact_degen_a, exact_degen_b, &sol, 1e-12);
    for (size_t t = 0; t < sol.res.plan_size; t++)
        ck_assert_msg(sol.rows[t] != 0, "row 0 has zero weight but gets mass");
    solution_free(&sol);
    otk_cost_free(cost);
}
END_TEST

/* A measure against itself (duplicate points, all distances tied in
 * pairs): the value is 0 and every mass stays in place. */
START_TEST(test_identical_measures_cost_zero)
{
    tk_rng r = tk_rng_seed(11);
    const size_t n = 30;
    double x[60], w[30];
    tk_points_uniform(&r, n, 2, x);
    tk_weights_random(&r, n, 1.0, w);
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_points(&cost, n, n, 2, x, x, OTK_GROUND_EUCLIDEAN, 0.0));
    double *C = tk_cost_matrix(OTK_GROUND_EUCLIDEAN, 0.0, n, n, 2, x, x);
    emd_solution sol;
    TK_ASSERT_OK(solve_emd(cost, w, w, NULL, &sol));
    TK_ASSERT_ABS(sol.res.value, 0.0, 1e-15);
    check_certificate(n, n, C, w, w, &sol, 1e-12);
    for (size_t t = 0; t < sol.res.plan_size; t++)
        ck_assert_uint_eq(sol.rows[t], sol.cols[t]);
    solution_free(&sol);
    free(C);
    otk_cost_free(cost);
}
END_TEST

/* Larger random problems, certified by duality alone (no peer needed):
 * rectangular, negative costs, every cost kind read the same way. */
START_TEST(test_random_problems_certified)
{
    tk_rng r = tk_rng_seed(12);
    const size_t n = 70, m = 55;
    double *C = tk_alloc(n * m, sizeof(double)), *a = tk_alloc(n, sizeof(double)),
           *b = tk_alloc(m, sizeof(double));
    for (size_t k = 0; k < n * m; k++)
        C[k] = 4.0 * tk_uniform(&r) - 1.0;
    tk_weights_random(&r, n, 3.0, a);
    tk_weights_random(&r, m, 3.0, b);
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_dense(&cost, n, m, C, m));
    emd_solution sol;
    TK_ASSERT_OK(solve_emd(cost, a, b, NULL, &sol));
    check_certificate(n, m, C, a, b, &sol, 1e-12);
    ck_assert(sol.res.iterations > 0);
    /* a small pricing block reaches the same optimum */
    otk_emd_params par;
    otk_emd_params_default(&par);
    par.block_size = 1;
    emd_solution small;
    TK_ASSERT_OK(solve_emd(cost, a, b, &par, &small));
    TK_ASSERT_REL(small.res.value, sol.res.value, 1e-13);
    solution_free(&small);
    solution_free(&sol);
    otk_cost_free(cost);
    free(C);
    free(a);
    free(b);
}
END_TEST

static double callback_cost(size_t i, size_t j, void *ctx)
{
    const double *C = ctx;
    return C[i * 13 + j];
}

START_TEST(test_callback_cost_equals_dense)
{
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_callback(&cost, 9, 13, callback_cost, (void *)exact_dense_C, 0.0));
    emd_solution sol;
    TK_ASSERT_OK(solve_emd(cost, exact_dense_a, exact_dense_b, NULL, &sol));
    TK_ASSERT_REL(sol.res.value, EXACT_DENSE_VALUE, 1e-12);
    solution_free(&sol);
    otk_cost_free(cost);
}
END_TEST

START_TEST(test_iteration_cap)
{
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_dense(&cost, 9, 13, exact_dense_C, 13));
    otk_emd_params par;
    otk_emd_params_default(&par);
    par.max_iter = 3;
    emd_solution sol;
    ck_assert_int_eq(solve_emd(cost, exact_dense_a, exact_dense_b, &par, &sol),
                     OTK_NOT_CONVERGED);
    ck_assert_int_eq(sol.res.iterations, 3);
    solution_free(&sol);
    otk_cost_free(cost);
}
END_TEST

static double callback_nan(size_t i, size_t j, void *ctx)
{
    (void)ctx;
    return i == 1 && j == 2 ? NAN : 1.0;
}

START_TEST(test_errors)
{
    const double C[6] = {0, 1, 2, 3, 4, 5};
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_dense(&cost, 2, 3, C, 3));
    otk_emd *s;
    TK_ASSERT_FAILS(otk_emd_alloc(NULL, cost, NULL), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_emd_alloc(&s, NULL, NULL), OTK_ENULL, "cost");
    otk_emd_params par;
    otk_emd_params_default(&par);
    par.max_iter = -1;
    TK_ASSERT_FAILS(otk_emd_alloc(&s, cost, &par), OTK_EPARAM, "max_iter");
    par.max_iter = 0;
    par.mass_tol = NAN;
    TK_ASSERT_FAILS(otk_emd_alloc(&s, cost, &par), OTK_EPARAM, "mass_tol");
    par.mass_tol = 0.7; /* not a way to pass unequal masses */
    TK_ASSERT_FAILS(otk_emd_alloc(&s, cost, &par), OTK_EPARAM, "mass_tol = 0.7");
    TK_ASSERT_OK(otk_emd_alloc(&s, cost, NULL));
    size_t rows[4];
    double u[2];
    TK_ASSERT_FAILS(otk_emd_plan(s, rows, NULL, NULL), OTK_ESTATE, "no solution");
    TK_ASSERT_FAILS(otk_emd_potentials(s, u, NULL), OTK_ESTATE, "no solution");
    const double a[2] = {0.5, 0.5}, b[3] = {0.2, 0.3, 0.5};
    const double b_more[3] = {0.2, 0.3, 0.6}, b_neg[3] = {0.7, 0.5, -0.2},
                 b_nan[3] = {0.2, NAN, 0.5}, b_zero[3] = {0, 0, 0};
    TK_ASSERT_FAILS(otk_emd_solve(s, a, b_more, NULL), OTK_EMASS, "sum(b) = 1.1");
    TK_ASSERT_FAILS(otk_emd_solve(s, a, b_more, NULL), OTK_EMASS, "sum(a) = 1,");
    TK_ASSERT_FAILS(otk_emd_solve(s, a, b_neg, NULL), OTK_ENEGATIVE, "b[2]");
    TK_ASSERT_FAILS(otk_emd_solve(s, a, b_nan, NULL), OTK_ENONFINITE, "b[1]");
    TK_ASSERT_FAILS(otk_emd_solve(s, a, b_zero, NULL), OTK_EZEROMASS, "b");
    TK_ASSERT_FAILS(otk_emd_solve(NULL, a, b, NULL), OTK_ENULL, "solver");
    /* a failed solve leaves no solution behind */
    TK_ASSERT_FAILS(otk_emd_plan(s, rows, NULL, NULL), OTK_ESTATE, "no solution");
    otk_emd_result res;
    TK_ASSERT_OK(otk_emd_solve(s, a, b, &res));
    /* 0.5 to column 0 (0.2) and 1 (0.3) from row 0: 0.2·0 + 0.3·1; row 1 to column 2 */
    TK_ASSERT_REL(res.value, 0.3 + 0.5 * 5.0, 1e-15);
    /* within mass_tol, masses are accepted */
    const double b_close[3] = {0.2, 0.3, 0.5 + 1e-12};
    TK_ASSERT_OK(otk_emd_solve(s, a, b_close, &res));
    TK_ASSERT_FAILS(otk_emd_plan(NULL, rows, NULL, NULL), OTK_ENULL, "solver");
    otk_emd_free(s);
    otk_emd_free(NULL);
    otk_cost_free(cost);
    /* a callback returning NaN is caught when the matrix is evaluated */
    TK_ASSERT_OK(otk_cost_callback(&cost, 2, 3, callback_nan, NULL, 1.0));
    TK_ASSERT_FAILS(otk_emd_alloc(&s, cost, NULL), OTK_ENONFINITE, "C[1][2]");
    otk_cost_free(cost);
}
END_TEST

/* ε → 0: the entropic plan's sharp cost <P_ε, C> approaches the exact value
 * from above, within the bound 0 <= <P_ε,C> − OT <= ε (H(P_ε) − H(P*)) <=
 * ε min(H(a), H(b)) (P_ε minimises <P,C> − ε H(P), P* is feasible; H(P_ε)
 * <= H(a) + H(b) and H(P*) >= max(H(a), H(b))), and the plans converge. A
 * wrong exact value breaks the lower bound at small ε (or the upper one at
 * every ε); a wrong Sinkhorn breaks either.  Observed rate (docs/exact.md):
 * the gap divided by ε falls as ε shrinks, then the gap collapses
 * exponentially once ε is below the optimal basis' reduced-cost gap. */
START_TEST(test_sinkhorn_approaches_exact)
{
    tk_rng r = tk_rng_seed(14);
    const size_t n = 12, m = 10;
    double x[24], y[20], a[12], b[10];
    tk_points_uniform(&r, n, 2, x);
    tk_points_uniform(&r, m, 2, y);
    tk_weights_random(&r, n, 1.0, a);
    tk_weights_random(&r, m, 1.0, b);
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0.0, n, m, 2, x, y);
    otk_cost *cost;
    TK_ASSERT_OK(otk_cost_dense(&cost, n, m, C, m));
    emd_solution sol;
    TK_ASSERT_OK(solve_emd(cost, a, b, NULL, &sol));
    const double exact = sol.res.value;
    double *Pstar = tk_alloc(n * m, sizeof(double)), *P = tk_alloc(n * m, sizeof(double));
    for (size_t t = 0; t < sol.res.plan_size; t++)
        Pstar[sol.rows[t] * m + sol.cols[t]] = sol.mass[t];
    const double hmin = fmin(tk_entropy(a, n), tk_entropy(b, m));
    const double eps_list[] = {1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4};
    const size_t neps = sizeof eps_list / sizeof eps_list[0];
    double gap[6], dist[6];
    for (size_t e = 0; e < neps; e++) {
        otk_sinkhorn_params par;
        otk_sinkhorn_params_default(&par);
        par.eps = eps_list[e];
        par.tol = 1e-13;
        par.max_iter = 200000;
        otk_sinkhorn *s;
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s, cost, &par));
        otk_sinkhorn_result res;
        TK_ASSERT_OK(otk_sinkhorn_solve(s, a, b, &res));
        TK_ASSERT_OK(otk_sinkhorn_plan(s, P));
        otk_sinkhorn_free(s);
        gap[e] = res.ot_lin - exact;
        dist[e] = 0.0;
        for (size_t k = 0; k < n * m; k++)
            dist[e] += fabs(P[k] - Pstar[k]);
        ck_assert_msg(gap[e] >= -1e-12 && gap[e] <= eps_list[e] * hmin,
                      "eps %g: <P_eps,C> - OT = %.3g outside [0, eps min H = %.3g]", eps_list[e],
                      gap[e], eps_list[e] * hmin);
        if (e > 0 && gap[e - 1] > 1e-12) { /* until rounding is reached */
            ck_assert_msg(gap[e] < gap[e - 1], "gap did not shrink at eps %g", eps_list[e]);
            ck_assert_msg(dist[e] < dist[e - 1], "plan distance did not shrink at eps %g",
                          eps_list[e]);
        }
    }
    /* the rate: linear in ε at first (gap/ε from 0.44 to 0.15 over ε = 0.1 ..
     * 0.01 on this problem), then exp(−δ/ε) once ε is below the reduced-cost
     * gap δ ≈ 0.014 of the optimal basis: 5e-5 at ε = 3e-3, 5e-9 at 1e-3,
     * rounding (1e-14) at 3e-4, where the plans agree to 1e-12. */
    ck_assert_msg(gap[2] / eps_list[2] < 0.5 * gap[0] / eps_list[0],
                  "gap/eps went from %.3g to only %.3g", gap[0] / eps_list[0],
                  gap[2] / eps_list[2]);
    ck_assert_msg(gap[4] < 1e-7 && dist[4] < 1e-5, "eps 1e-3: gap %.3g, plan distance %.3g",
                  gap[4], dist[4]);
    ck_assert_msg(fabs(gap[5]) < 1e-12 && dist[5] < 1e-10,
                  "eps 3e-4: gap %.3g, plan distance %.3g", gap[5], dist[5]);
    free(P);
    free(Pstar);
    solution_free(&sol);
    otk_cost_free(cost);
    free(C);
}
END_TEST

Suite *emd_suite(void)
{
    Suite *s = suite_create("emd");
    TCase *tc = tcase_create("emd");
    tcase_add_test(tc, test_dense_matches_pot);
    tcase_add_test(tc, test_points_match_pot);
    tcase_add_test(tc, test_degenerate_problem);
    tcase_add_test(tc, test_identical_measures_cost_zero);
    tcase_add_test(tc, test_random_problems_certified);
    tcase_add_test(tc, test_callback_cost_equals_dense);
    tcase_add_test(tc, test_iteration_cap);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_sinkhorn_approaches_exact);
    tk_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
