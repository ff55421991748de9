/* sinkhorn_solve.c -- entropic OT between two point clouds with otkit.
 *
 * The target cloud is the source translated by s = (0.5, 0): for the cost
 * |x-y|^2 the translation is the optimal map, so the exact OT cost is
 * |s|^2 = 0.25 and the entropic plan concentrates on i -> i as eps -> 0.
 * Prints the three entropic values, the iterations and the marginal error,
 * checks them against that answer and against the weights, then "ok".
 *
 *   cc sinkhorn_solve.c $(pkg-config --cflags --libs otkit) -o sinkhorn_solve
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <otkit.h>

#define N 40
#define D 2

static double uniform01(unsigned long *state)
{
    *state = *state * 6364136223846793005UL + 1442695040888963407UL;
    return (double)(*state >> 11) / 9007199254740992.0;
}

static int fail(const char *what)
{
    fprintf(stderr, "sinkhorn_solve: %s: %s\n", what, otk_last_error());
    return 1;
}

int main(void)
{
    double x[N * D], y[N * D], row[N], col[N];
    unsigned long state = 42;
    for (int i = 0; i < N; i++) {
        x[i * D] = uniform01(&state);
        x[i * D + 1] = uniform01(&state);
        y[i * D] = x[i * D] + 0.5;
        y[i * D + 1] = x[i * D + 1];
    }

    otk_cost *cost;
    if (otk_cost_points(&cost, N, N, D, x, y, OTK_GROUND_SQEUCLIDEAN, 0) < 0)
        return fail("otk_cost_points");
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 2e-2; /* cost units (POT's reg) */
    par.tol = 1e-8;
    otk_sinkhorn *solver;
    if (otk_sinkhorn_alloc(&solver, cost, &par) < 0)
        return fail("otk_sinkhorn_alloc");

    otk_sinkhorn_result res;
    otk_status st = otk_sinkhorn_solve(solver, NULL, NULL, &res); /* uniform weights */
    if (st < 0)
        return fail("otk_sinkhorn_solve");
    printf("n = m = %d, cost |x-y|^2, eps = %g\n", N, res.eps);
    printf("OT_kl  = %.6f\nOT_ent = %.6f\nOT_lin = %.6f   (exact OT: 0.25)\n", res.ot_kl,
           res.ot_ent, res.ot_lin);
    printf("iterations = %d, marginal error = %.2e, status = %s\n", res.iterations,
           res.marginal_error, otk_status_name(st));

    /* The plan's marginals, reduced without forming the plan. */
    if (otk_sinkhorn_marginals(solver, row, col) < 0)
        return fail("otk_sinkhorn_marginals");
    double err = 0;
    for (int i = 0; i < N; i++)
        err += fabs(row[i] - 1.0 / N) + fabs(col[i] - 1.0 / N);
    printf("|P 1 - a|_1 + |P^T 1 - b|_1 = %.2e\n", err);

    int ok = st == OTK_SUCCESS && err < 1e-7 && fabs(res.ot_lin - 0.25) < 0.025 &&
             res.ot_lin >= 0.25 - 1e-9; /* OT_lin >= exact OT: the plan is feasible */
    otk_sinkhorn_free(solver);
    otk_cost_free(cost);
    puts(ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
