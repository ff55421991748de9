/*
 * tests/test_sliced.c — 1-D and sliced Wasserstein (otkit/sliced.h): values
 * against POT's ot.wasserstein_1d and ot.sliced_wasserstein_distance with
 * POT's own directions (tests/exact_reference.h) to 1e-12; the 1-D value
 * against the network simplex on |x − y|^p; every gradient (positions and
 * weights, 1-D and sliced) against central finite differences; the seeded
 * directions (reproducible, unit, Halton ones spread); the errors.
 */
#include "test_helpers.h"
#include "exact_reference.h"

START_TEST(test_w1d_matches_pot)
{
    for (size_t k = 0; k < 4; k++) {
        double value;
        TK_ASSERT_OK(otk_wasserstein_1d(9, w1d_x, w1d_a, 12, w1d_y, w1d_b, w1d_p[k], &value,
                                        NULL, NULL, NULL, NULL));
        TK_ASSERT_REL(value, w1d_value[k], 1e-12);
    }
    double value;
    TK_ASSERT_OK(otk_wasserstein_1d(9, w1d_x, NULL, 12, w1d_y, NULL, 2.0, &value, NULL, NULL,
                                    NULL, NULL));
    TK_ASSERT_REL(value, W1D_UNIFORM_P2, 1e-12);
    /* weights are normalised: scaling them changes nothing */
    double a3[9], value3;
    for (size_t i = 0; i < 9; i++)
        a3[i] = 3.0 * w1d_a[i];
    TK_ASSERT_OK(otk_wasserstein_1d(9, w1d_x, a3, 12, w1d_y, w1d_b, 2.0, &value3, NULL, NULL,
                                    NULL, NULL));
    TK_ASSERT_REL(value3, w1d_value[2], 1e-14);
}
END_TEST

/* In 1-D the monotone coupling is optimal for |x − y|^p, p >= 1: the
 * network simplex on the same problem gives the same value. */
START_TEST(test_w1d_equals_network_simplex)
{
    const double ps[] = {1.0, 1.5, 2.0, 3.0};
    for (size_t k = 0; k < 4; k++) {
        otk_cost *cost;
        TK_ASSERT_OK(otk_cost_points(&cost, 9, 12, 1, w1d_x, w1d_y, OTK_GROUND_LP, ps[k]));
        otk_emd *s;
        TK_ASSERT_OK(otk_emd_alloc(&s, cost, NULL));
        otk_emd_result res;
        TK_ASSERT_OK(otk_emd_solve(s, w1d_a, w1d_b, &res));
        double value;
        TK_ASSERT_OK(otk_wasserstein_1d(9, w1d_x, w1d_a, 12, w1d_y, w1d_b, ps[k], &value, NULL,
                                        NULL, NULL, NULL));
        TK_ASSERT_REL(value, res.value, 1e-12);
        otk_emd_free(s);
        otk_cost_free(cost);
    }
}
END_TEST

static double w1d_value_of(const double *x, const double *a, const double *y, const double *b,
                           double p)
{
    double v;
    TK_ASSERT_OK(otk_wasserstein_1d(9, x, a, 12, y, b, p, &v, NULL, NULL, NULL, NULL));
    return v;
}

/* Central differences, step h, of the 1-D value along each coordinate of
 * the argument `which` (0 x, 1 y, 2 a, 3 b), against the analytic gradient. */
static void check_w1d_gradient(int which, double p, const double *a, const double *b)
{
    double x[9], y[12], aa[9], bb[12], g[4][12];
    memcpy(x, w1d_x, sizeof x);
    memcpy(y, w1d_y, sizeof y);
    memcpy(aa, a, sizeof aa);
    memcpy(bb, b, sizeof bb);
    double value;
    TK_ASSERT_OK(otk_wasserstein_1d(9, x, aa, 12, y, bb, p, &value, g[0], g[1], g[2], g[3]));
    double *arg = which == 0 ? x : which == 1 ? y : which == 2 ? aa : bb;
    const size_t len = which % 2 == 0 ? 9 : 12;
    const double h = 1e-6;
    for (size_t k = 0; k < len; k++) {
        const double keep = arg[k];
        arg[k] = keep + h;
        const double up = w1d_value_of(x, aa, y, bb, p);
        arg[k] = keep - h;
        const double down = w1d_value_of(x, aa, y, bb, p);
        arg[k] = keep;
        const double fd = (up - down) / (2 * h);
        ck_assert_msg(fabs(fd - g[which][k]) <= 1e-7 * (1.0 + fabs(fd)),
                      "p = %g, argument %d, index %zu: analytic %.10g, finite differences %.10g",
                      p, which, k, g[which][k], fd);
    }
}

START_TEST(test_w1d_gradients_match_finite_differences)
{
    /* unnormalised weights, so that the normalisation is differentiated too */
    double a[9], b[12];
    for (size_t i = 0; i < 9; i++)
        a[i] = 2.0 * w1d_a[i];
    for (size_t j = 0; j < 12; j++)
        b[j] = 0.5 * w1d_b[j];
    const double ps[] = {1.0, 1.5, 2.0, 3.0};
    for (size_t k = 0; k < 4; k++)
        for (int which = 0; which < 4; which++)
            check_w1d_gradient(which, ps[k], a, b);
}
END_TEST

START_TEST(test_sliced_matches_pot)
{
    const double ps[] = {1.0, 2.0};
    for (size_t k = 0; k < 2; k++) {
        otk_sliced_params par;
        otk_sliced_params_default(&par);
        par.p = ps[k];
        par.n_projections = 7;
        otk_sliced *s;
        TK_ASSERT_OK(otk_sliced_alloc(&s, 10, 12, 3, &par, sliced_dirs));
        otk_sliced_result res;
        TK_ASSERT_OK(otk_sliced_eval(s, sliced_X, sliced_a, sliced_Y, sliced_b, &res, NULL,
                                     NULL, NULL, NULL));
        TK_ASSERT_REL(res.value, sliced_value[k], 1e-12);
        TK_ASSERT_REL(res.value_p, pow(sliced_value[k], ps[k]), 1e-12);
        /* the max over the directions is the largest projected value */
        const double *proj = otk_sliced_projected(s);
        double mx = 0.0;
        for (size_t l = 0; l < 7; l++)
            mx = fmax(mx, proj[l]);
        TK_ASSERT_REL(res.max_value, pow(mx, 1.0 / ps[k]), 1e-15);
        otk_sliced_free(s);
    }
}
END_TEST

START_TEST(test_sliced_gradients_match_finite_differences)
{
    const double ps[] = {1.0, 2.0, 3.0};
    for (size_t q = 0; q < 3; q++) {
        otk_sliced_params par;
        otk_sliced_params_default(&par);
        par.p = ps[q];
        par.n_projections = 7;
        otk_sliced *s;
        TK_ASSERT_OK(otk_sliced_alloc(&s, 10, 12, 3, &par, sliced_dirs));
        double X[30], Y[36], a[10], b[12], gX[30], gY[36], ga[10], gb[12];
        memcpy(X, sliced_X, sizeof X);
        memcpy(Y, sliced_Y, sizeof Y);
        for (size_t i = 0; i < 10; i++)
            a[i] = 1.5 * sliced_a[i];
        memcpy(b, sliced_b, sizeof b);
        otk_sliced_result res;
        TK_ASSERT_OK(otk_sliced_eval(s, X, a, Y, b, &res, gX, gY, ga, gb));
        double *args[4] = {X, Y, a, b}, *grads[4] = {gX, gY, ga, gb};
        const size_t lens[4] = {30, 36, 10, 12};
        const double h = 1e-6;
        for (int w = 0; w < 4; w++)
            for (size_t k = 0; k < lens[w]; k++) {
                const double keep = args[w][k];
                otk_sliced_result up, down;
                args[w][k] = keep + h;
                TK_ASSERT_OK(otk_sliced_eval(s, X, a, Y, b, &up, NULL, NULL, NULL, NULL));
                args[w][k] = keep - h;
                TK_ASSERT_OK(otk_sliced_eval(s, X, a, Y, b, &down, NULL, NULL, NULL, NULL));
                args[w][k] = keep;
                const double fd = (up.value_p - down.value_p) / (2 * h);
                ck_assert_msg(fabs(fd - grads[w][k]) <= 1e-7 * (1.0 + fabs(fd)),
                              "p = %g, argument %d, index %zu: analytic %.10g, finite "
                              "differences %.10g",
                              ps[q], w, k, grads[w][k], fd);
            }
        otk_sliced_free(s);
    }
}
END_TEST

/* The drawn directions: unit, reproducible from the seed, different for
 * another seed; Halton directions cover the circle more evenly than
 * Gaussian ones (largest angular gap between consecutive directions in 2-D,
 * folded to half-circle since ±θ give the same slice). */
static double largest_gap(const double *dirs, size_t L)
{
    double ang[256];
    for (size_t l = 0; l < L; l++) {
        double t = atan2(dirs[2 * l + 1], dirs[2 * l]);
        if (t < 0)
            t += M_PI;
        if (t >= M_PI)
            t -= M_PI;
        ang[l] = t;
    }
    for (size_t i = 1; i < L; i++)
        for (size_t j = i; j > 0 && ang[j - 1] > ang[j]; j--) {
            const double t = ang[j];
            ang[j] = ang[j - 1];
            ang[j - 1] = t;
        }
    double gap = ang[0] + M_PI - ang[L - 1];
    for (size_t l = 1; l < L; l++)
        gap = fmax(gap, ang[l] - ang[l - 1]);
    return gap;
}

START_TEST(test_directions)
{
    otk_sliced_params par;
    otk_sliced_params_default(&par);
    ck_assert(par.p == 2.0 && par.n_projections == 50 && par.seed == 0);
    par.n_projections = 64;
    par.seed = 42;
    otk_sliced *s1, *s2, *s3;
    TK_ASSERT_OK(otk_sliced_alloc(&s1, 3, 3, 2, &par, NULL));
    TK_ASSERT_OK(otk_sliced_alloc(&s2, 5, 4, 2, &par, NULL));
    par.seed = 43;
    TK_ASSERT_OK(otk_sliced_alloc(&s3, 3, 3, 2, &par, NULL));
    const double *d1 = otk_sliced_directions(s1), *d2 = otk_sliced_directions(s2),
                 *d3 = otk_sliced_directions(s3);
    ck_assert(memcmp(d1, d2, 128 * sizeof(double)) == 0);
    ck_assert(memcmp(d1, d3, 128 * sizeof(double)) != 0);
    for (size_t l = 0; l < 64; l++)
        TK_ASSERT_REL(hypot(d1[2 * l], d1[2 * l + 1]), 1.0, 1e-15);
    const double gauss_gap = largest_gap(d1, 64);
    par.directions = OTK_DIRECTIONS_HALTON;
    otk_sliced *h;
    TK_ASSERT_OK(otk_sliced_alloc(&h, 3, 3, 2, &par, NULL));
    const double halton_gap = largest_gap(otk_sliced_directions(h), 64);
    ck_assert_msg(halton_gap < gauss_gap, "Halton gap %g >= Gaussian gap %g", halton_gap,
                  gauss_gap);
    ck_assert_msg(halton_gap < 6.0 * M_PI / 64, "Halton gap %g", halton_gap);
    otk_directions kind;
    TK_ASSERT_OK(otk_directions_from_name("halton", &kind));
    ck_assert_int_eq(kind, OTK_DIRECTIONS_HALTON);
    ck_assert_str_eq(otk_directions_name(OTK_DIRECTIONS_GAUSSIAN), "gaussian");
    TK_ASSERT_FAILS(otk_directions_from_name("sobol", &kind), OTK_EPARAM, "sobol");
    otk_sliced_free(s1);
    otk_sliced_free(s2);
    otk_sliced_free(s3);
    otk_sliced_free(h);
}
END_TEST

START_TEST(test_errors)
{
    const double x[3] = {0, 1, 2}, w[3] = {1, 1, 1}, wneg[3] = {1, -1, 1}, xnan[3] = {0, NAN, 1};
    double v;
    TK_ASSERT_FAILS(otk_wasserstein_1d(3, x, w, 3, x, w, 0.5, &v, NULL, NULL, NULL, NULL),
                    OTK_EPARAM, "p = 0.5");
    TK_ASSERT_FAILS(otk_wasserstein_1d(3, x, w, 3, x, wneg, 1, &v, NULL, NULL, NULL, NULL),
                    OTK_ENEGATIVE, "b[1]");
    TK_ASSERT_FAILS(otk_wasserstein_1d(3, xnan, w, 3, x, w, 1, &v, NULL, NULL, NULL, NULL),
                    OTK_ENONFINITE, "x[1]");
    TK_ASSERT_FAILS(otk_wasserstein_1d(0, x, w, 3, x, w, 1, &v, NULL, NULL, NULL, NULL),
                    OTK_ESIZE, "n = 0");
    TK_ASSERT_FAILS(otk_wasserstein_1d(3, x, w, 3, NULL, w, 1, &v, NULL, NULL, NULL, NULL),
                    OTK_ENULL, "y");
    const double zero[3] = {0, 0, 0};
    TK_ASSERT_FAILS(otk_wasserstein_1d(3, x, zero, 3, x, w, 1, &v, NULL, NULL, NULL, NULL),
                    OTK_EZEROMASS, "a");
    otk_sliced *s;
    otk_sliced_params par;
    otk_sliced_params_default(&par);
    TK_ASSERT_FAILS(otk_sliced_alloc(&s, 3, 3, 0, &par, NULL), OTK_ESIZE, "d = 0");
    par.n_projections = 0;
    TK_ASSERT_FAILS(otk_sliced_alloc(&s, 3, 3, 2, &par, NULL), OTK_EPARAM, "n_projections");
    par.n_projections = 2;
    par.p = 0.0;
    TK_ASSERT_FAILS(otk_sliced_alloc(&s, 3, 3, 2, &par, NULL), OTK_EPARAM, "p = 0");
    par.p = 2.0;
    par.directions = OTK_DIRECTIONS_HALTON;
    TK_ASSERT_FAILS(otk_sliced_alloc(&s, 3, 3, 1001, &par, NULL), OTK_EPARAM, "d <= 1000");
    par.directions = (otk_directions)7;
    TK_ASSERT_FAILS(otk_sliced_alloc(&s, 3, 3, 2, &par, NULL), OTK_EPARAM, "directions");
    const double dz[4] = {1, 0, 0, 0}, dnan[4] = {1, 0, NAN, 0};
    TK_ASSERT_FAILS(otk_sliced_alloc(&s, 3, 3, 2, &par, dz), OTK_EDEGENERATE, "direction 1");
    TK_ASSERT_FAILS(otk_sliced_alloc(&s, 3, 3, 2, &par, dnan), OTK_ENONFINITE, "directions[2]");
    par.directions = OTK_DIRECTIONS_GAUSSIAN;
    TK_ASSERT_OK(otk_sliced_alloc(&s, 3, 3, 1, &par, NULL));
    TK_ASSERT_FAILS(otk_sliced_eval(s, x, wneg, x, w, NULL, NULL, NULL, NULL, NULL),
                    OTK_ENEGATIVE, "a[1]");
    TK_ASSERT_FAILS(otk_sliced_eval(s, x, w, xnan, w, NULL, NULL, NULL, NULL, NULL),
                    OTK_ENONFINITE, "Y[1]");
    TK_ASSERT_FAILS(otk_sliced_eval(s, NULL, w, x, w, NULL, NULL, NULL, NULL, NULL), OTK_ENULL,
                    "X");
    otk_sliced_result res;
    TK_ASSERT_OK(otk_sliced_eval(s, x, NULL, x, NULL, &res, NULL, NULL, NULL, NULL));
    TK_ASSERT_ABS(res.value, 0.0, 1e-15);
    otk_sliced_free(s);
    otk_sliced_free(NULL);
}
END_TEST

Suite *sliced_suite(void)
{
    Suite *s = suite_create("sliced");
    TCase *tc = tcase_create("sliced");
    tcase_add_test(tc, test_w1d_matches_pot);
    tcase_add_test(tc, test_w1d_equals_network_simplex);
    tcase_add_test(tc, test_w1d_gradients_match_finite_differences);
    tcase_add_test(tc, test_sliced_matches_pot);
    tcase_add_test(tc, test_sliced_gradients_match_finite_differences);
    tcase_add_test(tc, test_directions);
    tcase_add_test(tc, test_errors);
    tk_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
