/*
 * tests/test_grid.c — grid costs (otkit/grid.h) and barycenters
 * (otkit/barycenter.h).
 *
 * References used, each independent of the code under test:
 *   - the dense cost matrix of the same cell centres, built here by the
 *     textbook formulas (tk_cost_matrix), with plain double-loop soft-mins;
 *   - otk_cost_points on the same cell centres for full Sinkhorn solves and
 *     divergences (a different code path: tiled SIMD kernels);
 *   - POT 0.8.2's convolutional_barycenter2d (tests/grid_reference.h, made
 *     by tests/data/gen_grid_reference.py);
 *   - invariants: mass conservation, identical inputs, one-hot weights.
 */
#include "test_helpers.h"
#include "grid_reference.h"

Suite *grid_suite(void);

static const otk_ground grounds[3] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_HALF_SQEUCLIDEAN,
                                      OTK_GROUND_L1};

/* Test grids: 1-D, 2-D, 3-D with unequal spacings. */
static const size_t shapes[3][3] = {{9, 0, 0}, {6, 5, 0}, {4, 3, 5}};
static const double spacings[3][3] = {{0.13, 0, 0}, {0.21, 0.17, 0}, {0.3, 0.23, 0.19}};

static size_t grid_size(size_t dim, const size_t *shape)
{
    size_t n = 1;
    for (size_t k = 0; k < dim; k++)
        n *= shape[k];
    return n;
}

/* Cell centres in row-major order (last axis fastest), n×dim. */
static double *grid_points(size_t dim, const size_t *shape, const double *h)
{
    const size_t n = grid_size(dim, shape);
    double *x = tk_alloc(n * dim, sizeof *x);
    for (size_t i = 0; i < n; i++) {
        size_t r = i;
        for (size_t k = dim; k-- > 0;) {
            x[i * dim + k] = h[k] * (double)(r % shape[k]);
            r /= shape[k];
        }
    }
    return x;
}

static otk_cost *make_grid(size_t dim, const size_t *shape, const double *h, otk_ground g,
                           otk_grid_path path)
{
    otk_grid_params gp;
    otk_grid_params_default(&gp);
    gp.path = path;
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_grid(&c, dim, shape, h, g, &gp));
    return c;
}

/* ------------------------------------------------ separable == dense */

START_TEST(test_grid_entries_and_softmin_match_dense)
{
    tk_rng rng = tk_rng_seed(11);
    for (size_t dim = 1; dim <= 3; dim++)
        for (int gi = 0; gi < 3; gi++) {
            const size_t *shape = shapes[dim - 1];
            const double *h = spacings[dim - 1];
            const size_t n = grid_size(dim, shape);
            double *x = grid_points(dim, shape, h);
            double *C = tk_cost_matrix(grounds[gi], 0.0, n, n, dim, x, x);
            otk_cost *g = make_grid(dim, shape, h, grounds[gi], OTK_GRID_PATH_SEPARABLE);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                    TK_ASSERT_ABS(otk_cost_entry(g, i, j), C[i * n + j], 1e-15);
            double *hv = tk_alloc(n, sizeof *hv), *out = tk_alloc(n, sizeof *out);
            double *ref = tk_alloc(n, sizeof *ref), *one = tk_alloc(n, sizeof *one);
            for (size_t i = 0; i < n; i++)
                one[i] = 1.0;
            /* Large ε (one global shift, C_max/ε <= 600), 1.5e-3 (C_max/ε >
             * 600 but some axes <= 600: per-line shifts) and 2e-4 (every
             * axis > 600: one exponential per term); one −∞ entry stands for
             * a zero weight. */
            const double epss[] = {3.0, 0.2, 0.01, 1.5e-3, 2e-4};
            for (size_t e = 0; e < 5; e++) {
                const double eps = epss[e];
                for (size_t i = 0; i < n; i++)
                    hv[i] = (tk_uniform(&rng) - 0.5) * 4.0;
                hv[n / 2] = -INFINITY;
                TK_ASSERT_OK(otk_grid_softmin(g, eps, hv, out, 1));
                /* tk_softmin_line computes −ε log Σ exp((h'_k − C)/ε): h' = εh. */
                double *hsc = tk_alloc(n, sizeof *hsc);
                for (size_t k = 0; k < n; k++)
                    hsc[k] = eps * hv[k];
                for (size_t i = 0; i < n; i++)
                    ref[i] = tk_softmin_line(n, C + i * n, 1, one, hsc, eps);
                free(hsc);
                /* Values are O(C) + O(ε): 1e-12 absolute is ~1e-13 relative. */
                char what[96];
                snprintf(what, sizeof what, "dim %zu %s eps %g", dim,
                         otk_ground_name(grounds[gi]), eps);
                TK_ASSERT_VEC_ABS(out, ref, n, 1e-12, what);
                /* Two threads give the same numbers (one under valgrind: the
                 * pool threads' TLS would read as "possibly lost"). */
                double *out2 = tk_alloc(n, sizeof *out2);
                TK_ASSERT_OK(otk_grid_softmin(g, eps, hv, out2, tk_quick() ? 1 : 2));
                TK_ASSERT_VEC_ABS(out2, out, n, 1e-13, what);
                free(out2);
            }
            otk_grid_stats st;
            TK_ASSERT_OK(otk_grid_get_stats(g, &st));
            ck_assert_uint_eq(st.fft_plans, 0);
            ck_assert_uint_eq(st.softmin_fft, 0);
            ck_assert_uint_eq(st.softmin_separable, 10);
            otk_cost_free(g);
            free(hv);
            free(out);
            free(ref);
            free(one);
            free(C);
            free(x);
        }
}
END_TEST

/* Full solves: potentials, the three values and the marginals equal those of
 * the point-cloud cost on the cell centres. */
START_TEST(test_grid_sinkhorn_matches_points)
{
    tk_rng rng = tk_rng_seed(12);
    for (size_t dim = 1; dim <= 3; dim++)
        for (int gi = 0; gi < 3; gi++) {
            const size_t *shape = shapes[dim - 1];
            const double *h = spacings[dim - 1];
            const size_t n = grid_size(dim, shape);
            double *x = grid_points(dim, shape, h);
            double *a = tk_alloc(n, sizeof *a), *b = tk_alloc(n, sizeof *b);
            tk_weights_random(&rng, n, 1.0, a);
            tk_weights_random(&rng, n, 1.0, b);
            a[1] = 0.0; /* a zero pixel */
            double s = tk_sum(a, n);
            for (size_t i = 0; i < n; i++)
                a[i] /= s;
            otk_cost *g = make_grid(dim, shape, h, grounds[gi], OTK_GRID_PATH_SEPARABLE);
            otk_cost *p = NULL;
            TK_ASSERT_OK(otk_cost_points(&p, n, n, dim, x, x, grounds[gi], 0.0));
            TK_ASSERT_REL(otk_cost_diameter(g), otk_cost_diameter(p), 1e-15);
            otk_sinkhorn_params par;
            otk_sinkhorn_params_default(&par);
            par.eps = grounds[gi] == OTK_GROUND_L1 ? 0.02 : 0.005;
            par.tol = 1e-11;
            par.threads = 1;
            otk_sinkhorn *sg, *sp;
            otk_sinkhorn_result rg, rp;
            TK_ASSERT_OK(otk_sinkhorn_alloc(&sg, g, &par));
            TK_ASSERT_OK(otk_sinkhorn_alloc(&sp, p, &par));
            TK_ASSERT_OK(otk_sinkhorn_solve(sg, a, b, &rg));
            TK_ASSERT_OK(otk_sinkhorn_solve(sp, a, b, &rp));
            ck_assert_int_eq(rg.iterations, rp.iterations);
            TK_ASSERT_VEC_ABS(otk_sinkhorn_potential_f(sg), otk_sinkhorn_potential_f(sp), n,
                              1e-12, "f");
            TK_ASSERT_VEC_ABS(otk_sinkhorn_potential_g(sg), otk_sinkhorn_potential_g(sp), n,
                              1e-12, "g");
            TK_ASSERT_REL(rg.ot_kl, rp.ot_kl, 1e-12);
            TK_ASSERT_REL(rg.ot_ent, rp.ot_ent, 1e-12);
            TK_ASSERT_REL(rg.ot_lin, rp.ot_lin, 1e-12);
            double *r1 = tk_alloc(n, sizeof *r1), *r2 = tk_alloc(n, sizeof *r2);
            double *c1 = tk_alloc(n, sizeof *c1), *c2 = tk_alloc(n, sizeof *c2);
            TK_ASSERT_OK(otk_sinkhorn_marginals(sg, r1, c1));
            TK_ASSERT_OK(otk_sinkhorn_marginals(sp, r2, c2));
            TK_ASSERT_VEC_ABS(r1, r2, n, 1e-14, "row marginal");
            TK_ASSERT_VEC_ABS(c1, c2, n, 1e-14, "column marginal");
            /* Plan application with a signed right-hand side (plan_reduce APPLY). */
            double *Y = tk_alloc(2 * n, sizeof *Y);
            double *o1 = tk_alloc(2 * n, sizeof *o1), *o2 = tk_alloc(2 * n, sizeof *o2);
            for (size_t i = 0; i < 2 * n; i++)
                Y[i] = tk_uniform(&rng) - 0.3;
            for (int axis = 0; axis < 2; axis++) {
                TK_ASSERT_OK(otk_sinkhorn_plan_apply(sg, axis, 2, Y, o1));
                TK_ASSERT_OK(otk_sinkhorn_plan_apply(sp, axis, 2, Y, o2));
                TK_ASSERT_VEC_ABS(o1, o2, 2 * n, 1e-14, "plan apply");
            }
            free(Y);
            free(o1);
            free(o2);
            free(r1);
            free(r2);
            free(c1);
            free(c2);
            otk_sinkhorn_free(sg);
            otk_sinkhorn_free(sp);
            otk_cost_free(g);
            otk_cost_free(p);
            free(a);
            free(b);
            free(x);
        }
}
END_TEST

/* The Sinkhorn divergence with C_xy = C_xx = C_yy = the grid, and its
 * weight gradients, equal those of the point clouds. */
START_TEST(test_grid_divergence_matches_points)
{
    tk_rng rng = tk_rng_seed(13);
    const size_t dim = 2, *shape = shapes[1];
    const double *h = spacings[1];
    const size_t n = grid_size(dim, shape);
    double *x = grid_points(dim, shape, h);
    double *a = tk_alloc(n, sizeof *a), *b = tk_alloc(n, sizeof *b);
    tk_weights_random(&rng, n, 1.0, a);
    tk_weights_random(&rng, n, 1.0, b);
    for (int gi = 0; gi < 3; gi++)
        for (int path = OTK_GRID_PATH_AUTO; path <= OTK_GRID_PATH_SEPARABLE; path++) {
            otk_cost *g = make_grid(dim, shape, h, grounds[gi], (otk_grid_path)path);
            otk_divergence_params par;
            otk_divergence_params_default(&par);
            par.eps = 0.01;
            par.tol = 1e-11;
            par.threads = 1;
            otk_divergence *dg, *dp;
            otk_divergence_result rg, rp;
            TK_ASSERT_OK(otk_divergence_alloc_costs(&dg, g, g, g, &par));
            TK_ASSERT_OK(
                otk_divergence_alloc_points(&dp, n, n, dim, x, x, grounds[gi], 0.0, &par));
            TK_ASSERT_OK(otk_divergence_solve(dg, a, b, &rg));
            TK_ASSERT_OK(otk_divergence_solve(dp, a, b, &rp));
            /* Separable: equal to rounding.  AUTO may run the first (large-ε)
             * annealing steps on FFT, within its bound: the converged values
             * then agree to the solve's tolerance. */
            const double tol = path == OTK_GRID_PATH_SEPARABLE ? 1e-12 : 1e-9;
            TK_ASSERT_REL(rg.divergence, rp.divergence, tol);
            double *g1 = tk_alloc(n, sizeof *g1), *g2 = tk_alloc(n, sizeof *g2);
            TK_ASSERT_OK(otk_divergence_grad_a(dg, g1));
            TK_ASSERT_OK(otk_divergence_grad_a(dp, g2));
            TK_ASSERT_VEC_ABS(g1, g2, n, tol, "grad_a");
            TK_ASSERT_OK(otk_divergence_grad_b(dg, g1));
            TK_ASSERT_OK(otk_divergence_grad_b(dp, g2));
            TK_ASSERT_VEC_ABS(g1, g2, n, tol, "grad_b");
            free(g1);
            free(g2);
            otk_divergence_free(dg);
            otk_divergence_free(dp);
            otk_cost_free(g);
        }
    free(a);
    free(b);
    free(x);
}
END_TEST

/* ------------------------------------------------ FFT path and selector */

/* Probe ε over four decades on 1-D/2-D/3-D grids: wherever AUTO picks FFT,
 * its soft-min is within ε·δ_fft (the documented bound, doubled for the log)
 * of the exact one, for random inputs and for the adversarial one-hot input
 * (all mass in one corner: the far corner's sum is e^{−C_max/ε}).  Forcing
 * FFT where AUTO refuses does break that accuracy, so the test can fail. */
START_TEST(test_grid_fft_accuracy_and_selector)
{
    tk_rng rng = tk_rng_seed(14);
    const size_t fshapes[3][3] = {{64, 0, 0}, {24, 20, 0}, {8, 9, 10}};
    const double fh[3] = {1.0 / 63, 1.0 / 23, 1.0 / 9};
    int picked_fft = 0, picked_sep = 0, forced_broke = 0;
    for (size_t dim = 1; dim <= 3; dim++)
        for (int gi = 0; gi < 3; gi++) {
            const size_t *shape = fshapes[dim - 1];
            double hh[3] = {fh[dim - 1], fh[dim - 1], fh[dim - 1]};
            const size_t n = grid_size(dim, shape);
            otk_cost *ga = make_grid(dim, shape, hh, grounds[gi], OTK_GRID_PATH_AUTO);
            otk_cost *gs = make_grid(dim, shape, hh, grounds[gi], OTK_GRID_PATH_SEPARABLE);
            otk_cost *gf = make_grid(dim, shape, hh, grounds[gi], OTK_GRID_PATH_FFT);
            double *hv = tk_alloc(n, sizeof *hv), *oa = tk_alloc(n, sizeof *oa);
            double *os = tk_alloc(n, sizeof *os), *of = tk_alloc(n, sizeof *of);
            for (int e = 0; e <= 40; e++) {
                const double eps = pow(10.0, 1.0 - 4.0 * e / 40.0);
                otk_grid_path path;
                TK_ASSERT_OK(otk_grid_select_path(ga, eps, &path));
                const double bound = otk_grid_fft_error_bound(ga, eps);
                ck_assert(path == (bound <= 1e-6 ? OTK_GRID_PATH_FFT : OTK_GRID_PATH_SEPARABLE));
                for (int input = 0; input < 2; input++) {
                    for (size_t i = 0; i < n; i++)
                        hv[i] = input == 0 ? 3.0 * tk_uniform(&rng) : -INFINITY;
                    hv[0] = 0.0;
                    TK_ASSERT_OK(otk_grid_softmin(ga, eps, hv, oa, 1));
                    TK_ASSERT_OK(otk_grid_softmin(gs, eps, hv, os, 1));
                    TK_ASSERT_OK(otk_grid_softmin(gf, eps, hv, of, 1));
                    double err_a = tk_max_abs_diff(oa, os, n, NULL);
                    double err_f = tk_max_abs_diff(of, os, n, NULL);
                    if (path == OTK_GRID_PATH_FFT) {
                        picked_fft++;
                        ck_assert_msg(err_a <= 2.0 * eps * bound + 1e-15 * eps,
                                      "dim %zu %s eps %g: FFT error %g > 2 eps delta = %g", dim,
                                      otk_ground_name(grounds[gi]), eps, err_a,
                                      2.0 * eps * bound);
                    } else {
                        picked_sep++;
                        ck_assert(err_a == 0.0);
                        if (input == 1 && !(err_f <= eps * 1e-6))
                            forced_broke++;
                    }
                }
            }
            otk_grid_stats st;
            TK_ASSERT_OK(otk_grid_get_stats(ga, &st));
            ck_assert_uint_eq(st.fft_plans, 2);
            ck_assert_uint_eq(st.softmin_calls, 82);
            ck_assert_uint_eq(st.softmin_fft + st.softmin_separable, 82);
            free(hv);
            free(oa);
            free(os);
            free(of);
            otk_cost_free(ga);
            otk_cost_free(gs);
            otk_cost_free(gf);
        }
    ck_assert_msg(picked_fft > 20 && picked_sep > 20, "fft %d, separable %d", picked_fft,
                  picked_sep);
    ck_assert_msg(forced_broke > 10, "forcing FFT below the threshold broke only %d cases",
                  forced_broke);
}
END_TEST

/* However many iterations run (and whatever ε the schedule visits), one FFTW
 * plan pair is made, at construction; the kernel is re-transformed once per
 * distinct ε only. */
START_TEST(test_grid_one_fft_plan_per_cost)
{
    const size_t shape[2] = {32, 32};
    const double h[2] = {1.0 / 31, 1.0 / 31};
    const size_t n = 1024;
    otk_cost *g = make_grid(2, shape, h, OTK_GROUND_SQEUCLIDEAN, OTK_GRID_PATH_AUTO);
    otk_grid_stats st;
    TK_ASSERT_OK(otk_grid_get_stats(g, &st));
    ck_assert_uint_eq(st.fft_plans, 2);
    ck_assert_uint_eq(st.softmin_calls, 0);
    double *a = tk_alloc(n, sizeof *a), *b = tk_alloc(n, sizeof *b);
    for (size_t i = 0; i < n; i++) {
        double y = (double)(i / 32) / 31, x = (double)(i % 32) / 31;
        a[i] = exp(-((x - 0.3) * (x - 0.3) + (y - 0.3) * (y - 0.3)) / 0.01);
        b[i] = exp(-((x - 0.7) * (x - 0.6) + (y - 0.7) * (y - 0.7)) / 0.02);
    }
    double sa = tk_sum(a, n), sb = tk_sum(b, n);
    for (size_t i = 0; i < n; i++) {
        a[i] /= sa;
        b[i] /= sb;
    }
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 0.02;
    par.tol = 1e-10;
    par.threads = 1;
    par.diameter = 20.0; /* a long schedule from large ε: FFT, then separable */
    otk_sinkhorn *s;
    otk_sinkhorn_result res;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, g, &par));
    for (int rep = 0; rep < 3; rep++)
        TK_ASSERT_OK(otk_sinkhorn_solve(s, a, b, &res));
    TK_ASSERT_OK(otk_grid_get_stats(g, &st));
    ck_assert_msg(res.iterations > 20, "only %d iterations", res.iterations);
    ck_assert_uint_eq(st.fft_plans, 2);
    ck_assert_uint_gt(st.softmin_fft, 0);
    ck_assert_uint_gt(st.softmin_separable, 0);
    ck_assert_uint_gt(st.softmin_calls, 3 * (size_t)res.iterations);
    ck_assert_uint_le(st.kernel_transforms, 3 * (size_t)res.annealing_iterations + 3);
    ck_assert_int_eq(st.last_path, OTK_GRID_PATH_SEPARABLE);
    otk_sinkhorn_free(s);
    otk_cost_free(g);
    free(a);
    free(b);
}
END_TEST

/* ------------------------------------------------ barycenters */

static otk_cost *pot_grid(otk_grid_path path)
{
    const size_t shape[2] = {GRIDREF_H, GRIDREF_W};
    const double h[2] = {1.0 / (GRIDREF_H - 1), 1.0 / (GRIDREF_W - 1)};
    return make_grid(2, shape, h, OTK_GROUND_SQEUCLIDEAN, path);
}

START_TEST(test_barycenter_matches_pot)
{
    const size_t n = GRIDREF_H * GRIDREF_W;
    for (int path = OTK_GRID_PATH_AUTO; path <= OTK_GRID_PATH_SEPARABLE; path++) {
        otk_cost *g = pot_grid((otk_grid_path)path);
        otk_barycenter_params par;
        otk_barycenter_params_default(&par);
        par.eps = gridref_reg;
        par.tol = 1e-13;
        par.max_iter = 20000;
        par.threads = 1;
        double *bar = tk_alloc(n, sizeof *bar);
        otk_barycenter_result res;
        TK_ASSERT_OK(otk_barycenter(g, GRIDREF_K, gridref_A, gridref_weights, &par, bar, &res));
        /* POT stops on its own criterion (std of the marginals < 1e-14). */
        TK_ASSERT_VEC_ABS(bar, gridref_bar, n, 1e-10 * tk_max_abs(gridref_bar, n), "barycenter");
        TK_ASSERT_REL(res.mass, 1.0, 1e-12);
        free(bar);
        otk_cost_free(g);
    }
}
END_TEST

START_TEST(test_barycenter_invariants)
{
    const size_t n = GRIDREF_H * GRIDREF_W;
    otk_cost *g = pot_grid(OTK_GRID_PATH_AUTO);
    otk_barycenter_params par;
    otk_barycenter_params_default(&par);
    par.eps = 0.01;
    par.tol = 1e-10;
    par.max_iter = 20000;
    par.threads = 1;
    double *bar = tk_alloc(n, sizeof *bar), *AA = tk_alloc(2 * n, sizeof *AA);
    otk_barycenter_result res;
    /* Mass: inputs of mass 2.5 give a barycenter of mass 2.5. */
    double *A3 = tk_alloc(3 * n, sizeof *A3);
    for (size_t i = 0; i < 3 * n; i++)
        A3[i] = 2.5 * gridref_A[i];
    for (int debias = 0; debias <= 1; debias++) {
        par.debias = debias;
        TK_ASSERT_OK(otk_barycenter(g, 3, A3, gridref_weights, &par, bar, &res));
        TK_ASSERT_REL(tk_sum(bar, n), 2.5, 1e-10);
        TK_ASSERT_REL(res.mass, 2.5, 1e-10);
    }
    /* Debiased: identical inputs give that input; weights (1, 0) the first.
     * (Inputs 0 and 1, positive everywhere.  Input 2 has zero pixels, which
     * the iteration reaches only as log d → −∞, i.e. sublinearly.) */
    par.debias = 1;
    for (int k = 0; k < 2; k++) {
        memcpy(AA, gridref_A + k * n, n * sizeof *AA);
        memcpy(AA + n, gridref_A + k * n, n * sizeof *AA);
        TK_ASSERT_OK(otk_barycenter(g, 2, AA, NULL, &par, bar, &res));
        TK_ASSERT_VEC_ABS(bar, gridref_A + k * n, n, 1e-6, "identical inputs");
        memcpy(AA + n, gridref_A + ((k + 1) % 3) * n, n * sizeof *AA);
        const double w10[2] = {1.0, 0.0};
        TK_ASSERT_OK(otk_barycenter(g, 2, AA, w10, &par, bar, &res));
        TK_ASSERT_VEC_ABS(bar, gridref_A + k * n, n, 1e-6, "weights (1, 0)");
    }
    /* Without debiasing the same input comes back blurred: the check above
     * is not vacuous. */
    par.debias = 0;
    memcpy(AA, gridref_A, n * sizeof *AA);
    memcpy(AA + n, gridref_A, n * sizeof *AA);
    TK_ASSERT_OK(otk_barycenter(g, 2, AA, NULL, &par, bar, &res));
    ck_assert(tk_max_abs_diff(bar, gridref_A, n, NULL) > 1e-3);
    free(A3);
    free(AA);
    free(bar);
    otk_cost_free(g);
}
END_TEST

/* The barycenter is generic: on the point-cloud cost of the same cells it
 * gives the grid's answer. */
START_TEST(test_barycenter_generic_over_costs)
{
    const size_t n = GRIDREF_H * GRIDREF_W;
    const size_t shape[2] = {GRIDREF_H, GRIDREF_W};
    const double h[2] = {1.0 / (GRIDREF_H - 1), 1.0 / (GRIDREF_W - 1)};
    double *x = grid_points(2, shape, h);
    otk_cost *p = NULL, *g = pot_grid(OTK_GRID_PATH_SEPARABLE);
    TK_ASSERT_OK(otk_cost_points(&p, n, n, 2, x, x, OTK_GROUND_SQEUCLIDEAN, 0.0));
    otk_barycenter_params par;
    otk_barycenter_params_default(&par);
    par.eps = 0.005;
    par.max_iter = 50;
    par.tol = 0.0;
    par.debias = 1;
    par.threads = 1;
    double *b1 = tk_alloc(n, sizeof *b1), *b2 = tk_alloc(n, sizeof *b2);
    ck_assert_int_eq(otk_barycenter(g, 3, gridref_A, NULL, &par, b1, NULL), OTK_NOT_CONVERGED);
    ck_assert_int_eq(otk_barycenter(p, 3, gridref_A, NULL, &par, b2, NULL), OTK_NOT_CONVERGED);
    TK_ASSERT_VEC_ABS(b1, b2, n, 1e-12, "grid vs points barycenter");
    free(b1);
    free(b2);
    free(x);
    otk_cost_free(p);
    otk_cost_free(g);
}
END_TEST

/* A symmetric cost that changes under the solver: the first `calm`
 * evaluations give C, later ones 4C, so the iterates after the switch are
 * worse than those before it (a non-monotone error on purpose). */
typedef struct {
    const double *C;
    size_t n;
    long calls, calm;
} bary_moving_cost;

static double bary_moving_entry(size_t i, size_t j, void *ctx)
{
    bary_moving_cost *mc = ctx;
    const double c = mc->C[i * mc->n + j];
    return mc->calls++ < mc->calm ? c : 4.0 * c;
}

/* max_iter returns the best iterate, as the Sinkhorn clients do: stopped
 * after the switch, the barycenter and its error are bitwise those of the
 * check before it.  (Returning the last iterate, they are those of a
 * barycenter for the changed cost.) */
START_TEST(test_barycenter_not_converged_returns_the_best_iterate)
{
    enum { N = 12, K = 2, CALM_ITERS = 20 };
    double C[N * N], A[K * N];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++)
            C[i * N + j] = (double)((i - j) * (i - j)) / ((N - 1) * (N - 1));
        A[i] = exp(-0.5 * (i - 2.5) * (i - 2.5));
        A[N + i] = exp(-0.5 * (i - 8.0) * (i - 8.0) / 2.0);
    }
    for (int k = 0; k < K; k++) {
        const double s = tk_sum(A + k * N, N);
        for (int i = 0; i < N; i++)
            A[k * N + i] /= s;
    }
    otk_barycenter_params par;
    otk_barycenter_params_default(&par);
    par.eps = 0.05;
    par.tol = 0.0; /* run max_iter iterations */
    par.threads = 1;
    double calm_bar[N], bar[N];
    otk_barycenter_result calm_res, res;
    for (int run = 0; run < 2; run++) {
        /* Two soft-mins of N² entries per histogram and iteration. */
        bary_moving_cost mc = {C, N, 0, (long)CALM_ITERS * K * 2 * N * N};
        otk_cost *c;
        TK_ASSERT_OK(otk_cost_callback(&c, N, N, bary_moving_entry, &mc, 1.0));
        par.max_iter = run == 0 ? CALM_ITERS : 2 * CALM_ITERS;
        ck_assert_int_eq(otk_barycenter(c, K, A, NULL, &par, run == 0 ? calm_bar : bar,
                                        run == 0 ? &calm_res : &res),
                         OTK_NOT_CONVERGED);
        ck_assert_int_eq(mc.calls, (long)par.max_iter * K * 2 * N * N);
        otk_cost_free(c);
    }
    ck_assert_int_eq(res.iterations, 2 * CALM_ITERS);
    ck_assert(isfinite(calm_res.error) && calm_res.error > 0.0);
    ck_assert_double_eq(res.error, calm_res.error);
    for (int i = 0; i < N; i++)
        ck_assert_double_eq(bar[i], calm_bar[i]);
}
END_TEST

/* ------------------------------------------------ bad input */

START_TEST(test_grid_bad_input)
{
    otk_cost *c = NULL;
    const size_t shape[2] = {4, 5}, zero[2] = {4, 0};
    const double h[2] = {0.1, 0.2}, hbad[2] = {0.1, -0.2}, hnan[2] = {NAN, 0.2};
    TK_ASSERT_FAILS(otk_cost_grid(NULL, 2, shape, h, OTK_GROUND_L1, NULL), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_cost_grid(&c, 2, NULL, h, OTK_GROUND_L1, NULL), OTK_ENULL, "shape");
    TK_ASSERT_FAILS(otk_cost_grid(&c, 4, shape, h, OTK_GROUND_L1, NULL), OTK_EPARAM, "dim = 4");
    TK_ASSERT_FAILS(otk_cost_grid(&c, 2, zero, h, OTK_GROUND_L1, NULL), OTK_ESIZE, "shape[1] = 0");
    TK_ASSERT_FAILS(otk_cost_grid(&c, 2, shape, hbad, OTK_GROUND_L1, NULL), OTK_EPARAM,
                    "spacing[1] = -0.2");
    TK_ASSERT_FAILS(otk_cost_grid(&c, 2, shape, hnan, OTK_GROUND_L1, NULL), OTK_EPARAM,
                    "spacing[0]");
    TK_ASSERT_FAILS(otk_cost_grid(&c, 2, shape, h, OTK_GROUND_EUCLIDEAN, NULL), OTK_EPARAM,
                    "euclidean");
    otk_grid_params gp;
    otk_grid_params_default(&gp);
    gp.fft_tol = 0.0;
    TK_ASSERT_FAILS(otk_cost_grid(&c, 2, shape, h, OTK_GROUND_L1, &gp), OTK_EPARAM, "fft_tol");
    ck_assert_ptr_null(c);
    otk_grid_path path;
    TK_ASSERT_FAILS(otk_grid_path_from_name("fast", &path), OTK_EPARAM, "fast");

    TK_ASSERT_OK(otk_cost_grid(&c, 2, shape, h, OTK_GROUND_L1, NULL));
    const size_t other[2] = {5, 4};
    TK_ASSERT_FAILS(otk_grid_check_shape(c, 2, other), OTK_ESHAPE, "shape[0] = 5");
    TK_ASSERT_FAILS(otk_grid_check_shape(c, 1, other), OTK_ESHAPE, "1 axes");
    TK_ASSERT_OK(otk_grid_check_shape(c, 2, shape));
    TK_ASSERT_FAILS(otk_grid_select_path(c, -1.0, &path), OTK_EPARAM, "eps");

    /* Pixels: negative, NaN, all zero, masses that differ. */
    const size_t n = 20;
    double A[40], out[20];
    for (size_t i = 0; i < 40; i++)
        A[i] = 0.05;
    A[20 + 7] = -0.01;
    TK_ASSERT_FAILS(otk_barycenter(c, 2, A, NULL, NULL, out, NULL), OTK_ENEGATIVE, "A[1][7]");
    A[20 + 7] = NAN;
    TK_ASSERT_FAILS(otk_barycenter(c, 2, A, NULL, NULL, out, NULL), OTK_ENONFINITE, "A[1][7]");
    A[20 + 7] = 0.06;
    TK_ASSERT_FAILS(otk_barycenter(c, 2, A, NULL, NULL, out, NULL), OTK_EMASS, "A[1]");
    A[20 + 7] = 0.05;
    const double wneg[2] = {1.0, -1.0};
    TK_ASSERT_FAILS(otk_barycenter(c, 2, A, wneg, NULL, out, NULL), OTK_ENEGATIVE, "weights[1]");
    TK_ASSERT_FAILS(otk_barycenter(c, 0, A, NULL, NULL, out, NULL), OTK_ESIZE, "K = 0");
    otk_barycenter_params bp;
    otk_barycenter_params_default(&bp);
    bp.eps = 0.0;
    TK_ASSERT_FAILS(otk_barycenter(c, 2, A, NULL, &bp, out, NULL), OTK_EPARAM, "eps");
    double hv[20];
    for (size_t i = 0; i < n; i++)
        hv[i] = 0.0;
    hv[3] = NAN;
    TK_ASSERT_FAILS(otk_grid_softmin(c, 0.1, hv, out, 1), OTK_ENONFINITE, "h[3]");
    /* Sinkhorn on the grid reports bad pixels with their index, as for any cost. */
    double a[20], b[20];
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] = 0.05;
    b[11] = -0.05;
    otk_sinkhorn *s;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, NULL));
    TK_ASSERT_FAILS(otk_sinkhorn_solve(s, a, b, NULL), OTK_ENEGATIVE, "b[11]");
    otk_sinkhorn_free(s);
    /* Not a grid. */
    otk_cost *p = NULL;
    double pts[4] = {0, 1, 2, 3};
    TK_ASSERT_OK(otk_cost_points(&p, 4, 4, 1, pts, pts, OTK_GROUND_L1, 0.0));
    otk_grid_stats st;
    TK_ASSERT_FAILS(otk_grid_get_stats(p, &st), OTK_EUNSUPPORTED, "points");
    otk_cost_free(p);
    otk_cost_free(c);
}
END_TEST

/* A larger grid, both paths, with two threads: the shifted-kernel separable
 * path agrees with the per-term one (forced by a tiny ε on a copy). */
START_TEST(test_grid_large_consistency)
{
    const size_t N = tk_quick() ? 48 : 160;
    const size_t shape[2] = {N, N};
    const double h[2] = {1.0 / (double)(N - 1), 1.0 / (double)(N - 1)};
    const size_t n = N * N;
    otk_cost *gs = make_grid(2, shape, h, OTK_GROUND_SQEUCLIDEAN, OTK_GRID_PATH_SEPARABLE);
    otk_cost *ga = make_grid(2, shape, h, OTK_GROUND_SQEUCLIDEAN, OTK_GRID_PATH_AUTO);
    tk_rng rng = tk_rng_seed(15);
    double *hv = tk_alloc(n, sizeof *hv), *o1 = tk_alloc(n, sizeof *o1);
    double *o2 = tk_alloc(n, sizeof *o2);
    for (size_t i = 0; i < n; i++)
        hv[i] = tk_uniform(&rng) < 0.3 ? -INFINITY : 5.0 * tk_uniform(&rng);
    hv[0] = 1.0;
    const double eps = 0.5; /* C_max/ε = 4: AUTO takes FFT */
    otk_grid_path path;
    TK_ASSERT_OK(otk_grid_select_path(ga, eps, &path));
    ck_assert_int_eq(path, OTK_GRID_PATH_FFT);
    const int threads = tk_quick() ? 1 : 2;
    TK_ASSERT_OK(otk_grid_softmin(gs, eps, hv, o1, threads));
    TK_ASSERT_OK(otk_grid_softmin(ga, eps, hv, o2, threads));
    TK_ASSERT_VEC_ABS(o1, o2, n, 2.0 * eps * otk_grid_fft_error_bound(ga, eps), "fft vs sep");
    free(hv);
    free(o1);
    free(o2);
    otk_cost_free(gs);
    otk_cost_free(ga);
}
END_TEST

Suite *grid_suite(void)
{
    Suite *s = suite_create("grid");
    TCase *tc = tcase_create("grid");
    tk_set_timeout(tc, 60);
    tcase_add_test(tc, test_grid_entries_and_softmin_match_dense);
    tcase_add_test(tc, test_grid_sinkhorn_matches_points);
    tcase_add_test(tc, test_grid_divergence_matches_points);
    tcase_add_test(tc, test_grid_fft_accuracy_and_selector);
    tcase_add_test(tc, test_grid_one_fft_plan_per_cost);
    tcase_add_test(tc, test_barycenter_matches_pot);
    tcase_add_test(tc, test_barycenter_invariants);
    tcase_add_test(tc, test_barycenter_generic_over_costs);
    tcase_add_test(tc, test_barycenter_not_converged_returns_the_best_iterate);
    tcase_add_test(tc, test_grid_bad_input);
    tcase_add_test(tc, test_grid_large_consistency);
    suite_add_tcase(s, tc);
    return s;
}
