/*
 * tests/test_multiscale.c — the multiscale backend (docs/math.md A.11) against
 * the untruncated on-the-fly solve of the same problem, its truncation bound
 * against the dropped plan mass measured directly, and its refusals.
 *
 * Tolerances: both solves stop at a marginal error of 1e-9 (1e-10 for the
 * untruncated comparison), which fixes the potentials to about that
 * fraction of the cost scale; the truncation then moves the marginals by at
 * most 2·truncation_bound (asserted <= 1e-5 at the default truncate = 12:
 * each block is dropped with a bound of e^{-12} ≈ 6e-6 of its mass).
 * Values are compared to 1e-7 relative and gradients to 1e-5 of their
 * largest entry: both margins lie far above the solves' own errors
 * (measured: 1e-14 and 1e-13) and far below the size of the quantities.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test_helpers.h"
#include "otkit/divergence.h"

/* x uniform in the unit square/cube, y uniform in a shifted smaller box:
 * a transport with a real displacement, so that the blocks kept around the
 * transport image are few among all pairs. */
static void two_clouds(size_t n, size_t d, uint64_t seed, double *x, double *y)
{
    tk_rng r = tk_rng_seed(seed);
    for (size_t i = 0; i < n * d; i++)
        x[i] = tk_uniform(&r);
    for (size_t i = 0; i < n * d; i++)
        y[i] = 0.3 + 0.5 * tk_uniform(&r) + (i % d == 0 ? 0.2 : 0.0);
}

static otk_status solve(const otk_cost *c, otk_backend backend, double truncate, double blur,
                        double tol, otk_sinkhorn **out, otk_sinkhorn_result *res)
{
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.blur = blur;
    p.tol = tol;
    p.backend = backend;
    p.truncate = truncate;
    otk_status st = otk_sinkhorn_alloc(out, c, &p);
    if (st)
        return st;
    return otk_sinkhorn_solve(*out, NULL, NULL, res);
}

START_TEST(test_sinkhorn_multiscale_matches_online)
{
    const size_t n = tk_quick() ? 600 : 2000, d = 2;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    two_clouds(n, d, 11, x, y);
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, d, x, y, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0));
    otk_sinkhorn *s_on, *s_ms;
    otk_sinkhorn_result r_on, r_ms;
    TK_ASSERT_OK(solve(c, OTK_BACKEND_ONLINE, 12.0, 0.03, 1e-9, &s_on, &r_on));
    TK_ASSERT_OK(solve(c, OTK_BACKEND_MULTISCALE, 12.0, 0.03, 1e-9, &s_ms, &r_ms));
    ck_assert_int_eq(r_on.backend, OTK_BACKEND_ONLINE);
    ck_assert_int_eq(r_ms.backend, OTK_BACKEND_MULTISCALE);
    ck_assert_msg(r_ms.truncation_bound > 0.0 && r_ms.truncation_bound <= 1e-5,
                  "truncation_bound = %g: expected blocks dropped, bound <= 1e-5",
                  r_ms.truncation_bound);
    ck_assert(r_on.truncation_bound == 0.0);
    TK_ASSERT_REL(r_ms.ot_kl, r_on.ot_kl, 1e-7);
    TK_ASSERT_REL(r_ms.ot_lin, r_on.ot_lin, 1e-7);
    /* The potentials, up to the gauge constant of a balanced problem. */
    const double *f_on = otk_sinkhorn_potential_f(s_on), *f_ms = otk_sinkhorn_potential_f(s_ms);
    const double shift = f_ms[0] - f_on[0];
    double worst = 0.0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(f_ms[i] - shift - f_on[i]));
    ck_assert_msg(worst <= 1e-7 * r_on.ot_kl, "potentials differ by %g", worst);
    otk_sinkhorn_free(s_on);
    otk_sinkhorn_free(s_ms);
    otk_cost_free(c);
    free(x);
    free(y);
}
END_TEST

/* The reported bound holds: the plan mass of the dropped blocks, measured as
 * (full plan mass on the untruncated cost) − (kept mass), at the multiscale
 * solve's potentials, is at most truncation_bound·Σa (the bound is loose:
 * measured here, the dropped mass is below 1e-15 where the bound says 1e-3). */
START_TEST(test_truncation_bound_bounds_the_dropped_mass)
{
    /* d = 3 as well: there the cells split into sub-cells and the bound
     * sums dropped sub-cluster blocks inside kept cluster blocks. */
    const size_t n = tk_quick() ? 500 : 1500, d = (size_t)_i;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    double *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v), *row = malloc(n * sizeof *row);
    two_clouds(n, d, 12, x, y);
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, d, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0));
    for (int k = 0; k < 2; k++) {
        const double T = k == 0 ? 2.0 : 6.0;
        otk_sinkhorn *s;
        otk_sinkhorn_result r;
        otk_status st = solve(c, OTK_BACKEND_MULTISCALE, T, 0.03, 1e-8, &s, &r);
        ck_assert_msg(st == OTK_SUCCESS || st == OTK_NOT_CONVERGED, "%s", otk_last_error());
        const double *f = otk_sinkhorn_potential_f(s), *g = otk_sinkhorn_potential_g(s);
        for (size_t i = 0; i < n; i++) {
            u[i] = log(1.0 / (double)n) + f[i] / r.eps;
            v[i] = log(1.0 / (double)n) + g[i] / r.eps;
        }
        TK_ASSERT_OK(otk_cost_plan_reduce(c, 0, r.eps, u, v, OTK_REDUCE_MASS, 1, NULL, row, 1));
        double full = 0.0, kept = 0.0;
        for (size_t i = 0; i < n; i++)
            full += row[i];
        TK_ASSERT_OK(otk_sinkhorn_marginals(s, row, NULL));
        for (size_t i = 0; i < n; i++)
            kept += row[i];
        const double dropped = full - kept;
        ck_assert_msg(dropped >= -1e-12 && dropped <= r.truncation_bound * r.mass_a + 1e-12,
                      "truncate %g: dropped mass %g, bound %g", T, dropped, r.truncation_bound);
        ck_assert_msg(r.truncation_bound > 0.0, "truncate %g kept every block", T);
        otk_sinkhorn_free(s);
    }
    otk_cost_free(c);
    free(x);
    free(y);
    free(u);
    free(v);
    free(row);
}
END_TEST

/* truncate = INFINITY keeps every block: only the coarse-to-fine annealing
 * differs, so both solves converge to the same fixed point. */
START_TEST(test_untruncated_multiscale_equals_online)
{
    const size_t n = 800, d = 3;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    two_clouds(n, d, 13, x, y);
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, d, x, y, OTK_GROUND_EUCLIDEAN, 0.0));
    otk_sinkhorn *s_on, *s_ms;
    otk_sinkhorn_result r_on, r_ms;
    TK_ASSERT_OK(solve(c, OTK_BACKEND_ONLINE, 12.0, 0.05, 1e-10, &s_on, &r_on));
    TK_ASSERT_OK(solve(c, OTK_BACKEND_MULTISCALE, INFINITY, 0.05, 1e-10, &s_ms, &r_ms));
    ck_assert(r_ms.truncation_bound == 0.0);
    TK_ASSERT_REL(r_ms.ot_kl, r_on.ot_kl, 1e-9);
    TK_ASSERT_REL(r_ms.ot_lin, r_on.ot_lin, 1e-9);
    otk_sinkhorn_free(s_on);
    otk_sinkhorn_free(s_ms);
    otk_cost_free(c);
    free(x);
    free(y);
}
END_TEST

START_TEST(test_divergence_multiscale_value_and_gradients)
{
    const size_t n = tk_quick() ? 500 : 2000, d = 3;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    double *g[2][2];
    double val[2], bound = 0.0;
    two_clouds(n, d, 14, x, y);
    for (int k = 0; k < 2; k++) {
        otk_divergence_params p;
        otk_divergence_params_default(&p);
        p.blur = 0.05;
        p.tol = 1e-9;
        p.backend = k == 0 ? OTK_BACKEND_ONLINE : OTK_BACKEND_MULTISCALE;
        otk_divergence *div;
        TK_ASSERT_OK(otk_divergence_alloc_points(&div, n, n, d, x, y,
                                                 OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, &p));
        otk_divergence_result r;
        TK_ASSERT_OK(otk_divergence_solve(div, NULL, NULL, &r));
        ck_assert_int_eq(r.backend, p.backend);
        val[k] = r.divergence;
        if (k == 1)
            bound = r.truncation_bound;
        g[k][0] = malloc(n * d * sizeof(double));
        g[k][1] = malloc(n * d * sizeof(double));
        TK_ASSERT_OK(otk_divergence_grad_x(div, g[k][0]));
        TK_ASSERT_OK(otk_divergence_grad_y(div, g[k][1]));
        if (k == 1)
            TK_ASSERT_FAILS(otk_divergence_set_points(div, x, y), OTK_EUNSUPPORTED,
                            "multiscale");
        otk_divergence_free(div);
    }
    /* Quick mode's 500 points make a handful of clusters: every block kept. */
    ck_assert_msg((bound > 0.0 || tk_quick()) && bound >= 0.0 && bound <= 1e-5,
                  "truncation_bound = %g", bound);
    TK_ASSERT_REL(val[1], val[0], 1e-7);
    for (int s = 0; s < 2; s++) {
        double scale = 0.0;
        for (size_t i = 0; i < n * d; i++)
            scale = fmax(scale, fabs(g[0][s][i]));
        TK_ASSERT_VEC_ABS(g[1][s], g[0][s], n * d, 1e-5 * scale, s ? "grad_y" : "grad_x");
        free(g[0][s]);
        free(g[1][s]);
    }
    free(x);
    free(y);
}
END_TEST

/* auto resolves to today's path on every problem below 10^8 pairs: the
 * result is bitwise that of online. */
START_TEST(test_auto_is_online_below_the_threshold)
{
    const size_t n = 300, d = 2;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    two_clouds(n, d, 15, x, y);
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, d, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0));
    otk_sinkhorn *s_on, *s_auto;
    otk_sinkhorn_result r_on, r_auto;
    TK_ASSERT_OK(solve(c, OTK_BACKEND_ONLINE, 12.0, 0.05, 1e-8, &s_on, &r_on));
    TK_ASSERT_OK(solve(c, OTK_BACKEND_AUTO, 12.0, 0.05, 1e-8, &s_auto, &r_auto));
    ck_assert_int_eq(r_auto.backend, OTK_BACKEND_ONLINE);
    ck_assert(r_auto.ot_kl == r_on.ot_kl && r_auto.iterations == r_on.iterations);
    otk_sinkhorn_free(s_on);
    otk_sinkhorn_free(s_auto);
    otk_cost_free(c);
    free(x);
    free(y);
}
END_TEST

START_TEST(test_multiscale_refusals)
{
    double x4[4 * 5], y4[4 * 5], C[4] = {0.0, 1.0, 1.0, 0.0};
    for (int i = 0; i < 20; i++) {
        x4[i] = 0.1 * i;
        y4[i] = 0.05 * i;
    }
    otk_cost *c4, *c2, *cd, *c1;
    TK_ASSERT_OK(otk_cost_points(&c4, 5, 5, 4, x4, y4, OTK_GROUND_SQEUCLIDEAN, 0.0));
    TK_ASSERT_OK(otk_cost_points(&c2, 10, 10, 2, x4, y4, OTK_GROUND_SQEUCLIDEAN, 0.0));
    TK_ASSERT_OK(otk_cost_points(&c1, 10, 10, 2, x4, y4, OTK_GROUND_L1, 0.0));
    TK_ASSERT_OK(otk_cost_dense(&cd, 2, 2, C, 2));
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    otk_sinkhorn *s = NULL;
    p.backend = OTK_BACKEND_MULTISCALE;
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c4, &p), OTK_EUNSUPPORTED, "d = 4");
    ck_assert_ptr_null(s);
    p.eps = 0.5; /* a matrix has no exponent for blur */
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, cd, &p), OTK_EUNSUPPORTED, "dense");
    p.eps = 0.0;
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c1, &p), OTK_EUNSUPPORTED, "l1");
    const double bad[] = {0.0, -1.0, NAN, -INFINITY};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        p.truncate = bad[k];
        TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c2, &p), OTK_EPARAM, "truncate");
        p.backend = OTK_BACKEND_ONLINE; /* checked whatever the backend */
        TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c2, &p), OTK_EPARAM, "truncate");
        p.backend = OTK_BACKEND_MULTISCALE;
    }
    p.truncate = 12.0;
    p.backend = (otk_backend)7;
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c2, &p), OTK_EPARAM, "backend");
    otk_divergence_params dp;
    otk_divergence_params_default(&dp);
    dp.backend = OTK_BACKEND_MULTISCALE;
    otk_divergence *div;
    TK_ASSERT_FAILS(otk_divergence_alloc_points(&div, 5, 5, 4, x4, y4, OTK_GROUND_SQEUCLIDEAN,
                                                0.0, &dp),
                    OTK_EUNSUPPORTED, "d = 4");
    dp.truncate = -2.0;
    TK_ASSERT_FAILS(otk_divergence_alloc_points(&div, 10, 10, 2, x4, y4, OTK_GROUND_SQEUCLIDEAN,
                                                0.0, &dp),
                    OTK_EPARAM, "truncate");
    const char *name = otk_backend_name(OTK_BACKEND_MULTISCALE);
    ck_assert_str_eq(name, "multiscale");
    otk_backend b;
    TK_ASSERT_FAILS(otk_backend_from_name("gpu", &b), OTK_EPARAM, "multiscale");
    otk_cost_free(c4);
    otk_cost_free(c2);
    otk_cost_free(c1);
    otk_cost_free(cd);
}
END_TEST

/* float32 clouds: multiscale is float64 only, refused with a message naming
 * the backend and the precision; auto runs them online. */
START_TEST(test_multiscale_refuses_float32)
{
    const size_t n = 40, d = 2;
    float x[80], y[80];
    for (size_t i = 0; i < n * d; i++) {
        x[i] = (float)(0.01 * (double)i);
        y[i] = (float)(0.3 + 0.005 * (double)i);
    }
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points_f32(&c, n, n, d, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0));
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.backend = OTK_BACKEND_MULTISCALE;
    otk_sinkhorn *s = NULL;
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c, &p), OTK_EUNSUPPORTED,
                    "backend multiscale is float64 only: the cost is single precision");
    ck_assert_ptr_null(s);
    p.backend = OTK_BACKEND_AUTO;
    otk_sinkhorn_result r;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &p));
    TK_ASSERT_OK(otk_sinkhorn_solve(s, NULL, NULL, &r));
    ck_assert_int_eq(r.backend, OTK_BACKEND_ONLINE);
    otk_sinkhorn_free(s);
    otk_divergence_params dp;
    otk_divergence_params_default(&dp);
    dp.backend = OTK_BACKEND_MULTISCALE;
    otk_divergence *div = NULL;
    TK_ASSERT_FAILS(otk_divergence_alloc_points_f32(&div, n, n, d, x, y, OTK_GROUND_SQEUCLIDEAN,
                                                    0.0, &dp),
                    OTK_EUNSUPPORTED, "float64 only");
    ck_assert_ptr_null(div);
    otk_cost_free(c);
}
END_TEST

/* ------------------------------------------------------------ progress */

/* What a progress callback saw, and when it stops the solve. */
enum { LOG_CAP = 4096 };
typedef struct {
    int calls, stop_at, calls_after_stop;
    int stopped;
    int iterations[LOG_CAP];
    double eps[LOG_CAP], error[LOG_CAP];
    otk_stage stage[LOG_CAP];
} progress_log;

static int log_progress(const otk_progress *info, void *ctx)
{
    progress_log *lg = ctx;
    if (lg->stopped)
        lg->calls_after_stop++;
    if (lg->calls < LOG_CAP) {
        lg->iterations[lg->calls] = info->iterations;
        lg->eps[lg->calls] = info->eps;
        lg->error[lg->calls] = info->marginal_error;
        lg->stage[lg->calls] = info->stage;
    }
    lg->calls++;
    ck_assert(info->problem == 0 && info->done == 0 && info->status == OTK_CONTINUE);
    if (lg->stop_at > 0 && info->iterations == lg->stop_at) {
        lg->stopped = 1;
        return 1;
    }
    return 0;
}

/* The multiscale solve reports every update, the clusters' first, in stage
 * order, with the ε of each update and no error before the target ε; the
 * online solve of the same problem never reports clusters. */
START_TEST(test_progress_sees_every_multiscale_update)
{
    const size_t n = 600, d = 2;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    two_clouds(n, d, 21, x, y);
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, d, x, y, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0));
    static progress_log lg;
    const otk_backend backends[2] = {OTK_BACKEND_MULTISCALE, OTK_BACKEND_ONLINE};
    for (int q = 0; q < 2; q++) {
        memset(&lg, 0, sizeof lg);
        otk_sinkhorn_params p;
        otk_sinkhorn_params_default(&p);
        p.blur = 0.03;
        p.tol = 1e-9;
        p.backend = backends[q];
        p.progress = log_progress;
        p.progress_ctx = &lg;
        otk_sinkhorn *s;
        otk_sinkhorn_result r;
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &p));
        TK_ASSERT_OK(otk_sinkhorn_solve(s, NULL, NULL, &r));
        /* The converge schedule's last call measures and stops: every
         * update left the solve running. */
        ck_assert_int_eq(lg.calls, r.iterations);
        ck_assert_int_lt(r.iterations, LOG_CAP);
        int clusters = 0, annealing = 0;
        for (int k = 0; k < lg.calls; k++) {
            ck_assert_int_eq(lg.iterations[k], k + 1);
            if (k > 0) {
                ck_assert_int_ge(lg.stage[k], lg.stage[k - 1]);
                ck_assert_double_le(lg.eps[k], lg.eps[k - 1]);
            }
            clusters += lg.stage[k] == OTK_STAGE_CLUSTERS;
            annealing += lg.stage[k] == OTK_STAGE_ANNEALING;
            if (lg.stage[k] == OTK_STAGE_TARGET) {
                ck_assert(lg.eps[k] == r.eps);
                ck_assert(isfinite(lg.error[k]) && lg.error[k] > 0.0);
            } else {
                ck_assert(isnan(lg.error[k]) && lg.eps[k] > r.eps);
            }
        }
        ck_assert_int_eq(clusters + annealing, r.annealing_iterations);
        if (q == 0)
            ck_assert_msg(clusters >= 2 && annealing + clusters < lg.calls,
                          "multiscale: %d cluster updates of %d", clusters, lg.calls);
        else
            ck_assert_int_eq(clusters, 0);
        otk_progress info;
        otk_sinkhorn_progress_info(s, &info);
        ck_assert_int_eq(info.status, OTK_SUCCESS);
        ck_assert_int_eq(info.iterations, r.iterations);
        ck_assert_int_eq(info.stage, OTK_STAGE_TARGET);
        otk_sinkhorn_free(s);
    }
    otk_cost_free(c);
    free(x);
    free(y);
}
END_TEST

/* A nonzero return stops the solve at that update, on the clusters or at
 * the target ε: OTK_CONTINUE, the result of that update, no call after;
 * iterating on from there ends exactly where the unstopped solve ends. */
START_TEST(test_progress_stops_a_multiscale_solve)
{
    const size_t n = 600, d = 2;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    two_clouds(n, d, 22, x, y);
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points(&c, n, n, d, x, y, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0));
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.blur = 0.03;
    p.tol = 1e-9;
    p.backend = OTK_BACKEND_MULTISCALE;
    otk_sinkhorn *s;
    otk_sinkhorn_result full;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &p));
    TK_ASSERT_OK(otk_sinkhorn_solve(s, NULL, NULL, &full));
    otk_sinkhorn_free(s);
    static progress_log lg;
    /* Update 2 runs on the clusters, the last but one at the target ε. */
    const int stops[2] = {2, full.iterations - 1};
    for (int q = 0; q < 2; q++) {
        memset(&lg, 0, sizeof lg);
        lg.stop_at = stops[q];
        p.progress = log_progress;
        p.progress_ctx = &lg;
        otk_sinkhorn_result r;
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &p));
        ck_assert_int_eq(otk_sinkhorn_solve(s, NULL, NULL, &r), OTK_CONTINUE);
        ck_assert_int_eq(lg.calls, stops[q]);
        ck_assert_int_eq(lg.calls_after_stop, 0);
        ck_assert_int_eq(r.status, OTK_CONTINUE);
        ck_assert_int_eq(r.iterations, stops[q]);
        ck_assert(isfinite(r.ot_kl));
        const otk_stage expected = q == 0 ? OTK_STAGE_CLUSTERS : OTK_STAGE_TARGET;
        ck_assert_int_eq(lg.stage[stops[q] - 1], expected);
        if (q == 1)
            ck_assert(r.marginal_error == lg.error[stops[q] - 1] && r.marginal_error > p.tol);
        otk_status st;
        while ((st = otk_sinkhorn_iterate(s)) == OTK_CONTINUE)
            ;
        TK_ASSERT_OK(st);
        TK_ASSERT_OK(otk_sinkhorn_get_result(s, &r));
        ck_assert_int_eq(lg.calls, stops[q]); /* iterate calls no one back */
        ck_assert(r.ot_kl == full.ot_kl && r.iterations == full.iterations);
        otk_sinkhorn_free(s);
    }
    otk_cost_free(c);
    free(x);
    free(y);
}
END_TEST

/* The divergence reports its coupled updates the same way and stops with
 * OTK_CONTINUE, its value and gradients those of the stopped potentials. */
START_TEST(test_progress_of_a_multiscale_divergence)
{
    const size_t n = 400, d = 2;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * d * sizeof *y);
    double *gx = malloc(n * d * sizeof *gx);
    two_clouds(n, d, 23, x, y);
    static progress_log lg;
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.blur = 0.03;
    p.tol = 1e-8;
    p.backend = OTK_BACKEND_MULTISCALE;
    p.progress = log_progress;
    p.progress_ctx = &lg;
    otk_divergence *div;
    otk_divergence_result r;
    TK_ASSERT_OK(otk_divergence_alloc_points(&div, n, n, d, x, y, OTK_GROUND_HALF_SQEUCLIDEAN,
                                             0.0, &p));
    memset(&lg, 0, sizeof lg);
    TK_ASSERT_OK(otk_divergence_solve(div, NULL, NULL, &r));
    ck_assert_int_eq(lg.calls, r.iterations);
    ck_assert_int_eq(lg.stage[0], OTK_STAGE_CLUSTERS);
    ck_assert_int_eq(lg.stage[lg.calls - 1], OTK_STAGE_TARGET);
    memset(&lg, 0, sizeof lg);
    lg.stop_at = 3;
    ck_assert_int_eq(otk_divergence_solve(div, NULL, NULL, &r), OTK_CONTINUE);
    ck_assert_int_eq(r.status, OTK_CONTINUE);
    ck_assert_int_eq(r.iterations, 3);
    ck_assert_int_eq(lg.calls, 3);
    ck_assert(isfinite(r.divergence) && isnan(r.marginal_error));
    TK_ASSERT_OK(otk_divergence_grad_x(div, gx));
    for (size_t i = 0; i < n * d; i++)
        ck_assert(isfinite(gx[i]));
    otk_divergence_free(div);
    free(x);
    free(y);
    free(gx);
}
END_TEST

Suite *multiscale_suite(void)
{
    Suite *s = suite_create("multiscale");
    TCase *tc = tcase_create("multiscale");
    tcase_add_test(tc, test_sinkhorn_multiscale_matches_online);
    tcase_add_loop_test(tc, test_truncation_bound_bounds_the_dropped_mass, 2, 4);
    tcase_add_test(tc, test_untruncated_multiscale_equals_online);
    tcase_add_test(tc, test_divergence_multiscale_value_and_gradients);
    tcase_add_test(tc, test_auto_is_online_below_the_threshold);
    tcase_add_test(tc, test_multiscale_refusals);
    tcase_add_test(tc, test_multiscale_refuses_float32);
    tcase_add_test(tc, test_progress_sees_every_multiscale_update);
    tcase_add_test(tc, test_progress_stops_a_multiscale_solve);
    tcase_add_test(tc, test_progress_of_a_multiscale_divergence);
    tk_set_timeout(tc, 600);
    suite_add_tcase(s, tc);
    return s;
}
