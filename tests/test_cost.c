/*
 * tests/test_cost.c — the cost abstraction (otkit/cost.h): named ground costs,
 * the three kinds (points, dense, callback), their accessors, diameters and
 * argument validation.
 */
#include "test_helpers.h"

static const otk_ground all_grounds[] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_HALF_SQEUCLIDEAN,
                                         OTK_GROUND_EUCLIDEAN,   OTK_GROUND_L1,
                                         OTK_GROUND_LP,          OTK_GROUND_LP_OVER_P};
static const char *const all_names[] = {"sqeuclidean", "half-sqeuclidean", "euclidean",
                                        "l1",          "lp",               "lp-over-p"};
#define N_GROUNDS 6

/* A pointer that is not NULL and not a cost: constructors must overwrite it. */
#define SENTINEL_COST ((otk_cost *)(void *)&sentinel_storage)
static double sentinel_storage;

/* The message names `a` or `b` (two accepted spellings of one index). */
#define ASSERT_MESSAGE_NAMES_EITHER(a, b)                                                    \
    ck_assert_msg(strstr(otk_last_error(), (a)) || strstr(otk_last_error(), (b)),            \
                  "message \"%s\" names neither \"%s\" nor \"%s\"", otk_last_error(), (a), (b))

START_TEST(test_ground_names_round_trip)
{
    for (int k = 0; k < N_GROUNDS; k++) {
        otk_ground g = (otk_ground)-1;
        TK_ASSERT_OK(otk_ground_from_name(all_names[k], &g));
        ck_assert_int_eq(g, all_grounds[k]);
        ck_assert_str_eq(otk_ground_name(all_grounds[k]), all_names[k]);
    }
}
END_TEST

START_TEST(test_ground_from_name_rejects_unknown_names_and_null)
{
    otk_ground g = OTK_GROUND_L1;
    TK_ASSERT_FAILS(otk_ground_from_name("manhattan", &g), OTK_EPARAM, "manhattan");
    ck_assert_int_eq(g, OTK_GROUND_L1); /* untouched on error */
    TK_ASSERT_FAILS(otk_ground_from_name("SQEUCLIDEAN", &g), OTK_EPARAM, "SQEUCLIDEAN");
    TK_ASSERT_FAILS(otk_ground_from_name("", &g), OTK_EPARAM, "\"\"");
    TK_ASSERT_FAILS(otk_ground_from_name(NULL, &g), OTK_ENULL, "name");
    TK_ASSERT_FAILS(otk_ground_from_name("l1", NULL), OTK_ENULL, "ground");
    ck_assert_ptr_null(otk_ground_name((otk_ground)6));
    ck_assert_ptr_null(otk_ground_name((otk_ground)-1));
}
END_TEST

START_TEST(test_ground_exponent_is_the_p_of_each_ground)
{
    /* cost.h: 2 for the squared costs, 1 for euclidean and l1, `power` for lp. */
    ck_assert_double_eq(otk_ground_exponent(OTK_GROUND_SQEUCLIDEAN, 7.0), 2.0);
    ck_assert_double_eq(otk_ground_exponent(OTK_GROUND_HALF_SQEUCLIDEAN, 7.0), 2.0);
    ck_assert_double_eq(otk_ground_exponent(OTK_GROUND_EUCLIDEAN, 7.0), 1.0);
    ck_assert_double_eq(otk_ground_exponent(OTK_GROUND_L1, 7.0), 1.0);
    ck_assert_double_eq(otk_ground_exponent(OTK_GROUND_LP, 1.5), 1.5);
    ck_assert_double_eq(otk_ground_exponent(OTK_GROUND_LP_OVER_P, 3.0), 3.0);
    ck_assert_double_eq(otk_ground_exponent((otk_ground)6, 3.0), 0.0);
    ck_assert_double_eq(otk_ground_exponent((otk_ground)-3, 3.0), 0.0);
}
END_TEST

/* P for lp is 1.5 and for lp-over-p 3: non-integer and odd powers. */
static double power_of(otk_ground g) { return g == OTK_GROUND_LP ? 1.5 : 3.0; }

START_TEST(test_points_entries_match_the_defining_formula_for_every_ground)
{
    /* 13 and 29 points: more than one kernel lane block, fewer than a tile;
     * d = 3 exercises the coordinate loop.  Tolerance 1e-14 relative: sums of
     * three squares and one sqrt/pow, a few ulp apart in evaluation order. */
    enum { n = 13, m = 29, d = 3 };
    tk_rng r = tk_rng_seed(11);
    double x[n * d], y[m * d];
    tk_points_gauss(&r, n, d, 0.0, 1.0, x);
    tk_points_gauss(&r, m, d, 0.5, 2.0, y);
    for (int k = 0; k < N_GROUNDS; k++) {
        const otk_ground g = all_grounds[k];
        otk_cost *c = NULL;
        TK_ASSERT_OK(otk_cost_points(&c, n, m, d, x, y, g, power_of(g)));
        ck_assert_str_eq(otk_cost_kind(c), "points");
        ck_assert_str_eq(otk_cost_name(c), all_names[k]);
        ck_assert_uint_eq(otk_cost_rows(c), n);
        ck_assert_uint_eq(otk_cost_cols(c), m);
        ck_assert_double_eq(otk_cost_exponent(c), otk_ground_exponent(g, power_of(g)));
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                TK_ASSERT_REL(otk_cost_entry(c, i, j),
                              tk_ground_cost(g, power_of(g), d, x + i * d, y + j * d), 1e-14);
        otk_cost_free(c);
    }
}
END_TEST

START_TEST(test_points_hand_computed_entries)
{
    /* x = (0,0), y = (3,4): |x−y|² = 25, ½·25, 5, l1 = 7, 5^1.5, 5³/3. */
    const double x[2] = {0.0, 0.0}, y[2] = {3.0, 4.0};
    const double expect[N_GROUNDS] = {25.0, 12.5, 5.0, 7.0, 5.0 * sqrt(5.0), 125.0 / 3.0};
    for (int k = 0; k < N_GROUNDS; k++) {
        otk_cost *c = NULL;
        TK_ASSERT_OK(otk_cost_points(&c, 1, 1, 2, x, y, all_grounds[k], power_of(all_grounds[k])));
        TK_ASSERT_REL(otk_cost_entry(c, 0, 0), expect[k], 1e-15);
        otk_cost_free(c);
    }
}
END_TEST

START_TEST(test_points_coordinates_are_copied)
{
    /* cost.h: "The coordinates are copied ... x and y may be freed". */
    double *x = tk_alloc(4, sizeof *x), *y = tk_alloc(2, sizeof *y);
    x[0] = 0.0, x[1] = 0.0, x[2] = 1.0, x[3] = 1.0;
    y[0] = 2.0, y[1] = 0.0;
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_points(&c, 2, 1, 2, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0));
    x[0] = 100.0;
    y[0] = -100.0;
    free(x);
    free(y);
    ck_assert_double_eq(otk_cost_entry(c, 0, 0), 4.0);
    ck_assert_double_eq(otk_cost_entry(c, 1, 0), 2.0);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_entry_out_of_range_is_nan)
{
    const double C[6] = {1, 2, 3, 4, 5, 6};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 3, C, 3));
    ck_assert(isnan(otk_cost_entry(c, 2, 0)));
    ck_assert(isnan(otk_cost_entry(c, 0, 3)));
    ck_assert(isnan(otk_cost_entry(NULL, 0, 0)));
    ck_assert_double_eq(otk_cost_entry(c, 1, 2), 6.0);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_points_diameter_is_the_bounding_box_diagonal)
{
    /* x ∪ y spans [−1, 2] × [0, 4]: diagonal √(3² + 4²) = 5 (Euclidean), 7 in
     * the l1 norm (cost.h, GeomLoss's max_diameter).  Exact in binary. */
    const double x[4] = {-1.0, 1.0, 0.5, 0.0}, y[4] = {2.0, 4.0, 0.0, 2.0};
    for (int k = 0; k < N_GROUNDS; k++) {
        otk_cost *c = NULL;
        TK_ASSERT_OK(otk_cost_points(&c, 2, 2, 2, x, y, all_grounds[k], power_of(all_grounds[k])));
        ck_assert_double_eq(otk_cost_diameter(c), all_grounds[k] == OTK_GROUND_L1 ? 7.0 : 5.0);
        otk_cost_free(c);
    }
}
END_TEST

START_TEST(test_dense_cost_respects_leading_dimension_and_reports_range)
{
    /* 2×3 matrix stored with ld = 5; the padding holds values that would
     * change the range (and a NaN that must never be read). */
    const double C[10] = {1.0, -2.0, 3.0, 99.0, NAN, 0.5, 4.0, 2.5, -99.0, NAN};
    otk_cost *c = NULL;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 3, C, 5));
    ck_assert_str_eq(otk_cost_kind(c), "dense");
    ck_assert_str_eq(otk_cost_name(c), "dense");
    ck_assert_uint_eq(otk_cost_rows(c), 2);
    ck_assert_uint_eq(otk_cost_cols(c), 3);
    ck_assert_double_eq(otk_cost_entry(c, 0, 1), -2.0);
    ck_assert_double_eq(otk_cost_entry(c, 1, 0), 0.5);
    ck_assert_double_eq(otk_cost_entry(c, 1, 2), 2.5);
    /* cost.h: diameter = max C − min C = 4 − (−2), no exponent (0). */
    ck_assert_double_eq(otk_cost_diameter(c), 6.0);
    ck_assert_double_eq(otk_cost_exponent(c), 0.0);
    otk_cost_free(c);
}
END_TEST

typedef struct {
    int calls;
    double scale;
} callback_ctx;

static double product_cost(size_t i, size_t j, void *ctx)
{
    callback_ctx *cc = ctx;
    __atomic_add_fetch(&cc->calls, 1, __ATOMIC_RELAXED);
    return cc->scale * (double)(i + 1) * (double)(j + 2);
}

START_TEST(test_callback_cost_scans_its_range_or_takes_the_given_diameter)
{
    callback_ctx ctx = {0, 0.5};
    otk_cost *c = NULL;
    /* diameter 0: one scan of all 3·4 entries; C ranges over 0.5·[1·2, 3·5]. */
    TK_ASSERT_OK(otk_cost_callback(&c, 3, 4, product_cost, &ctx, 0.0));
    ck_assert_int_eq(ctx.calls, 12);
    ck_assert_double_eq(otk_cost_diameter(c), 0.5 * (15.0 - 2.0));
    ck_assert_double_eq(otk_cost_exponent(c), 0.0);
    ck_assert_str_eq(otk_cost_kind(c), "callback");
    ck_assert_str_eq(otk_cost_name(c), "callback");
    ck_assert_double_eq(otk_cost_entry(c, 2, 1), 0.5 * 3.0 * 3.0);
    otk_cost_free(c);
    /* A given diameter is used as is, without a scan. */
    ctx.calls = 0;
    TK_ASSERT_OK(otk_cost_callback(&c, 3, 4, product_cost, &ctx, 42.0));
    ck_assert_int_eq(ctx.calls, 0);
    ck_assert_double_eq(otk_cost_diameter(c), 42.0);
    otk_cost_free(c);
}
END_TEST

START_TEST(test_points_rejects_null_pointers_and_clears_out)
{
    const double x[2] = {0, 1}, y[2] = {1, 0};
    otk_cost *c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points(NULL, 1, 1, 2, x, y, OTK_GROUND_L1, 0.0), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 2, NULL, y, OTK_GROUND_L1, 0.0), OTK_ENULL, "x");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 2, x, NULL, OTK_GROUND_L1, 0.0), OTK_ENULL, "y");
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_points_rejects_zero_sizes)
{
    const double x[2] = {0, 1}, y[2] = {1, 0};
    otk_cost *c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points(&c, 0, 1, 2, x, y, OTK_GROUND_L1, 0.0), OTK_ESIZE, "n = 0");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points(&c, 1, 0, 2, x, y, OTK_GROUND_L1, 0.0), OTK_ESIZE, "m = 0");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 0, x, y, OTK_GROUND_L1, 0.0), OTK_ESIZE, "d = 0");
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_points_rejects_nonfinite_coordinates_naming_the_index)
{
    /* 3 points in d = 3: the bad value is point 2, coordinate 1 (flat 7). */
    double x[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2}, y[9] = {0, 1, 0, 1, 0, 1, 0, 1, 0};
    otk_cost *c = SENTINEL_COST;
    const double bad[3] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        x[7] = bad[k];
        c = SENTINEL_COST;
        ck_assert_int_eq(otk_cost_points(&c, 3, 3, 3, x, y, OTK_GROUND_EUCLIDEAN, 0.0),
                         OTK_ENONFINITE);
        ck_assert_ptr_null(c);
        ASSERT_MESSAGE_NAMES_EITHER("x[7]", "x[2][1]");
        x[7] = 2.0;
        y[7] = bad[k];
        c = SENTINEL_COST;
        ck_assert_int_eq(otk_cost_points(&c, 3, 3, 3, x, y, OTK_GROUND_EUCLIDEAN, 0.0),
                         OTK_ENONFINITE);
        ck_assert_ptr_null(c);
        ASSERT_MESSAGE_NAMES_EITHER("y[7]", "y[2][1]");
        y[7] = 1.0;
    }
}
END_TEST

START_TEST(test_points_rejects_invalid_ground_and_power)
{
    const double x[2] = {0, 1}, y[2] = {1, 0};
    otk_cost *c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 2, x, y, (otk_ground)6, 0.0), OTK_EPARAM, "ground");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 2, x, y, (otk_ground)-1, 0.0), OTK_EPARAM, "ground");
    ck_assert_ptr_null(c);
    /* lp and lp-over-p need a power P > 0, finite. */
    const double bad_power[4] = {0.0, -1.0, NAN, INFINITY};
    for (int k = 0; k < 4; k++) {
        c = SENTINEL_COST;
        TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 2, x, y, OTK_GROUND_LP, bad_power[k]),
                        OTK_EPARAM, "power");
        ck_assert_ptr_null(c);
        c = SENTINEL_COST;
        TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 2, x, y, OTK_GROUND_LP_OVER_P, bad_power[k]),
                        OTK_EPARAM, "power");
        ck_assert_ptr_null(c);
    }
    /* The power is ignored by the other grounds. */
    TK_ASSERT_OK(otk_cost_points(&c, 1, 1, 2, x, y, OTK_GROUND_EUCLIDEAN, NAN));
    otk_cost_free(c);
}
END_TEST

START_TEST(test_dense_rejects_bad_arguments)
{
    double C[6] = {0, 1, 2, 3, 4, 5};
    otk_cost *c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_dense(NULL, 2, 3, C, 3), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_cost_dense(&c, 2, 3, NULL, 3), OTK_ENULL, "C");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_dense(&c, 0, 3, C, 3), OTK_ESIZE, "n = 0");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_dense(&c, 2, 0, C, 3), OTK_ESIZE, "m = 0");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_dense(&c, 2, 3, C, 2), OTK_ESIZE, "ld = 2");
    ck_assert_ptr_null(c);
    /* Non-finite entry (1, 2), flat index 5, named in the message. */
    const double bad[3] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        C[5] = bad[k];
        c = SENTINEL_COST;
        ck_assert_int_eq(otk_cost_dense(&c, 2, 3, C, 3), OTK_ENONFINITE);
        ck_assert_ptr_null(c);
        ASSERT_MESSAGE_NAMES_EITHER("C[1][2]", "C[5]");
    }
}
END_TEST

static double nan_at_1_2(size_t i, size_t j, void *ctx)
{
    (void)ctx;
    return i == 1 && j == 2 ? NAN : (double)(i + j);
}

START_TEST(test_callback_rejects_bad_arguments)
{
    callback_ctx ctx = {0, 1.0};
    otk_cost *c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_callback(NULL, 2, 3, product_cost, &ctx, 0.0), OTK_ENULL, "out");
    TK_ASSERT_FAILS(otk_cost_callback(&c, 2, 3, NULL, &ctx, 0.0), OTK_ENULL, "fn");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_callback(&c, 0, 3, product_cost, &ctx, 0.0), OTK_ESIZE, "n = 0");
    ck_assert_ptr_null(c);
    c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_callback(&c, 2, 0, product_cost, &ctx, 0.0), OTK_ESIZE, "m = 0");
    ck_assert_ptr_null(c);
    const double bad_diameter[3] = {-1.0, NAN, INFINITY};
    for (int k = 0; k < 3; k++) {
        c = SENTINEL_COST;
        TK_ASSERT_FAILS(otk_cost_callback(&c, 2, 3, product_cost, &ctx, bad_diameter[k]),
                        OTK_EPARAM, "diameter");
        ck_assert_ptr_null(c);
    }
    /* A non-finite value found by the diameter scan, naming (i, j). */
    c = SENTINEL_COST;
    ck_assert_int_eq(otk_cost_callback(&c, 3, 4, nan_at_1_2, NULL, 0.0), OTK_ENONFINITE);
    ck_assert_ptr_null(c);
    ASSERT_MESSAGE_NAMES_EITHER("(1, 2)", "[1][2]");
}
END_TEST

START_TEST(test_cost_free_null_is_a_noop)
{
    otk_cost_free(NULL);
    /* Accessors on NULL do not crash either. */
    ck_assert_uint_eq(otk_cost_rows(NULL), 0);
    ck_assert_uint_eq(otk_cost_cols(NULL), 0);
}
END_TEST

/* A kept matrix holds bitwise the on-the-fly entries, for every ground; the
 * budget decides whether it is kept; only point clouds have one. */
START_TEST(test_points_cache_keeps_the_exact_entries_within_its_budget)
{
    const size_t n = 37, m = 53, d = 5; /* not multiples of the tile */
    tk_rng r = tk_rng_seed(11);
    double x[37 * 5], y[53 * 5];
    tk_points_gauss(&r, n, d, 0.0, 1.0, x);
    tk_points_gauss(&r, m, d, 0.5, 2.0, y);
    for (int g = 0; g < N_GROUNDS; g++) {
        otk_cost *lazy = NULL, *kept = NULL;
        TK_ASSERT_OK(otk_cost_points(&lazy, n, m, d, x, y, all_grounds[g], 1.5));
        TK_ASSERT_OK(otk_cost_points(&kept, n, m, d, x, y, all_grounds[g], 1.5));
        ck_assert_uint_eq(otk_cost_cache_bytes(kept), 0);
        TK_ASSERT_OK(otk_cost_points_cache(kept, n * m * sizeof(double)));
        ck_assert_uint_eq(otk_cost_cache_bytes(kept), n * m * sizeof(double));
        TK_ASSERT_OK(otk_cost_points_cache(kept, SIZE_MAX)); /* already kept */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                ck_assert_msg(otk_cost_entry(kept, i, j) == otk_cost_entry(lazy, i, j),
                              "%s: C[%zu][%zu] kept %.17g, on the fly %.17g", all_names[g], i,
                              j, otk_cost_entry(kept, i, j), otk_cost_entry(lazy, i, j));
        ck_assert(isnan(otk_cost_entry(kept, n, 0)));
        ck_assert_double_eq(otk_cost_diameter(kept), otk_cost_diameter(lazy));
        /* One byte short of the matrix: dropped, entries still right. */
        TK_ASSERT_OK(otk_cost_points_cache(kept, n * m * sizeof(double) - 1));
        ck_assert_uint_eq(otk_cost_cache_bytes(kept), 0);
        ck_assert(otk_cost_entry(kept, 3, 7) == otk_cost_entry(lazy, 3, 7));
        TK_ASSERT_OK(otk_cost_points_cache(kept, 0));
        ck_assert_uint_eq(otk_cost_cache_bytes(kept), 0);
        otk_cost_free(lazy);
        otk_cost_free(kept);
    }
    otk_cost *dense = NULL;
    double C[6] = {0, 1, 2, 3, 4, 5};
    TK_ASSERT_OK(otk_cost_dense(&dense, 2, 3, C, 3));
    TK_ASSERT_FAILS(otk_cost_points_cache(dense, SIZE_MAX), OTK_EUNSUPPORTED, "\"dense\"");
    ck_assert_uint_eq(otk_cost_cache_bytes(dense), 0);
    otk_cost_free(dense);
    TK_ASSERT_FAILS(otk_cost_points_cache(NULL, 1), OTK_ENULL, "cost");
    ck_assert_uint_eq(otk_cost_cache_bytes(NULL), 0);
}
END_TEST

/* Every solver operation on a kept matrix equals the on-the-fly one: the
 * Sinkhorn solution, the plan and its reductions along both axes. */
START_TEST(test_points_cache_gives_the_on_the_fly_solution)
{
    const size_t n = 150, m = 131, d = 3;
    tk_rng r = tk_rng_seed(12);
    double *x = tk_alloc(n * d, sizeof *x), *y = tk_alloc(m * d, sizeof *y);
    double *a = tk_alloc(n, sizeof *a), *b = tk_alloc(m, sizeof *b);
    tk_points_gauss(&r, n, d, 0.0, 1.0, x);
    tk_points_uniform(&r, m, d, y);
    tk_weights_random(&r, n, 1.0, a);
    tk_weights_random(&r, m, 1.0, b);
    const otk_ground grounds[2] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_L1};
    for (int g = 0; g < 2; g++) {
        otk_cost *c[2];
        otk_sinkhorn *s[2];
        otk_sinkhorn_result res[2];
        double *P[2], *row[2], *col[2], *PY[2], *PtX[2], *bar[2];
        otk_sinkhorn_params par;
        otk_sinkhorn_params_default(&par);
        par.blur = 0.1;
        par.tol = 1e-9;
        for (int k = 0; k < 2; k++) {
            TK_ASSERT_OK(otk_cost_points(&c[k], n, m, d, x, y, grounds[g], 0.0));
            if (k == 1)
                TK_ASSERT_OK(otk_cost_points_cache(c[k], SIZE_MAX));
            TK_ASSERT_OK(otk_sinkhorn_alloc(&s[k], c[k], &par));
            TK_ASSERT_OK(otk_sinkhorn_solve(s[k], a, b, &res[k]));
            P[k] = tk_alloc(n * m, sizeof(double));
            row[k] = tk_alloc(n, sizeof(double));
            col[k] = tk_alloc(m, sizeof(double));
            PY[k] = tk_alloc(n * d, sizeof(double));
            PtX[k] = tk_alloc(m * d, sizeof(double));
            bar[k] = tk_alloc(n * d, sizeof(double));
            TK_ASSERT_OK(otk_sinkhorn_plan(s[k], P[k]));
            TK_ASSERT_OK(otk_sinkhorn_marginals(s[k], row[k], col[k]));
            TK_ASSERT_OK(otk_sinkhorn_plan_apply(s[k], 0, d, y, PY[k]));
            TK_ASSERT_OK(otk_sinkhorn_plan_apply(s[k], 1, d, x, PtX[k]));
            TK_ASSERT_OK(otk_sinkhorn_barycentric(s[k], d, y, bar[k]));
        }
        ck_assert_uint_gt(otk_cost_cache_bytes(c[1]), 0);
        ck_assert_int_eq(res[0].iterations, res[1].iterations);
        TK_ASSERT_REL(res[1].ot_ent, res[0].ot_ent, 1e-12);
        TK_ASSERT_REL(res[1].ot_lin, res[0].ot_lin, 1e-12);
        TK_ASSERT_VEC_ABS(otk_sinkhorn_potential_f(s[1]), otk_sinkhorn_potential_f(s[0]), n,
                          1e-11, "f");
        TK_ASSERT_VEC_ABS(otk_sinkhorn_potential_g(s[1]), otk_sinkhorn_potential_g(s[0]), m,
                          1e-11, "g");
        TK_ASSERT_VEC_ABS(P[1], P[0], n * m, 1e-14, "plan");
        TK_ASSERT_VEC_ABS(row[1], row[0], n, 1e-14, "row marginal");
        TK_ASSERT_VEC_ABS(col[1], col[0], m, 1e-14, "column marginal");
        TK_ASSERT_VEC_ABS(PY[1], PY[0], n * d, 1e-13, "P Y");
        TK_ASSERT_VEC_ABS(PtX[1], PtX[0], m * d, 1e-13, "P^T X");
        TK_ASSERT_VEC_ABS(bar[1], bar[0], n * d, 1e-11, "barycentric");
        for (int k = 0; k < 2; k++) {
            otk_sinkhorn_free(s[k]);
            otk_cost_free(c[k]);
            free(P[k]);
            free(row[k]);
            free(col[k]);
            free(PY[k]);
            free(PtX[k]);
            free(bar[k]);
        }
    }
    free(x);
    free(y);
    free(a);
    free(b);
}
END_TEST

/* The public operations against their definitions, computed here by a plain
 * double loop over the entries (no shift: the values are moderate). */
START_TEST(test_cost_operations_match_their_definitions)
{
    const size_t n = 5, m = 4, d = 2;
    const double x[] = {0.1, 0.2, 0.5, -0.3, 0.9, 0.4, -0.2, 0.0, 0.3, 0.7};
    const double y[] = {0.0, 0.1, 0.6, 0.6, -0.4, 0.2, 0.2, -0.5};
    const double eps = 0.3;
    double u[5], v[4], out[5 * 3], ref[5 * 3], Y[5 * 3];
    for (size_t i = 0; i < n; i++)
        u[i] = 0.1 * (double)i - 0.2;
    for (size_t j = 0; j < m; j++)
        v[j] = -0.15 * (double)j;
    for (size_t t = 0; t < 15; t++)
        Y[t] = sin((double)t);
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_points(&c, n, m, d, x, y, OTK_GROUND_SQEUCLIDEAN, 0));
    for (int axis = 0; axis < 2; axis++) {
        const size_t nout = axis == 0 ? n : m, nin = axis == 0 ? m : n;
        const double *h = axis == 0 ? v : u;
        TK_ASSERT_OK(otk_cost_softmin(c, axis, eps, h, out, 1));
        for (size_t o = 0; o < nout; o++) {
            double s = 0.0;
            for (size_t t = 0; t < nin; t++) {
                size_t i = axis == 0 ? o : t, j = axis == 0 ? t : o;
                s += exp(h[t] - otk_cost_entry(c, i, j) / eps);
            }
            /* The soft-min is exact relative to the exponents' scale (here
             * eps·max|h − C/eps| < 1), not to a result near zero. */
            TK_ASSERT_ABS(out[o], -eps * log(s), 1e-15);
        }
        for (int what = OTK_REDUCE_MASS; what <= OTK_REDUCE_GRAD; what++) {
            size_t k = what == OTK_REDUCE_APPLY ? 3 : what == OTK_REDUCE_GRAD ? d : 1;
            TK_ASSERT_OK(otk_cost_plan_reduce(c, axis, eps, u, v, (otk_reduce)what, k, Y, out, 1));
            memset(ref, 0, sizeof ref);
            for (size_t o = 0; o < nout; o++)
                for (size_t t = 0; t < nin; t++) {
                    size_t i = axis == 0 ? o : t, j = axis == 0 ? t : o;
                    double C = otk_cost_entry(c, i, j), P = exp(u[i] + v[j] - C / eps);
                    if (what == OTK_REDUCE_MASS)
                        ref[o] += P;
                    else if (what == OTK_REDUCE_COST)
                        ref[o] += P * C;
                    else if (what == OTK_REDUCE_APPLY)
                        for (size_t q = 0; q < k; q++)
                            ref[o * k + q] += P * Y[t * k + q];
                    else /* ∇ of |x − y|²: ±2(x − y) */
                        for (size_t q = 0; q < k; q++)
                            ref[o * k + q] += P * 2.0 * (x[i * d + q] - y[j * d + q]) *
                                              (axis == 0 ? 1.0 : -1.0);
                }
            for (size_t t = 0; t < nout * k; t++)
                ck_assert_msg(fabs(out[t] - ref[t]) <= 1e-14, "axis %d what %d [%zu]: %.17g vs %.17g", axis, what, t, out[t], ref[t]);
        }
    }
    otk_cost_free(c);
}
END_TEST

/* The dense soft-mins sum a row's later tiles, and a column's rows after the
 * first 64, in one pass shifted by the maximum found so far (docs/math.md
 * A.2), with an exact fallback.  Against a long-double two-pass evaluation,
 * on a 1200 x 1300 matrix (ld = 1303; the rows after the first 64 in two
 * chunks of 512 and a rest, which two threads sum apart): plain; with terms
 * e^800 above that shift (the rows' last tile, and every second column from
 * row 150: the one-pass sum overflows and the fallback must take over, for
 * those only); and with the first tile or the first 64 rows at zero weight
 * (h = -inf: no shift yet).  Columns are the same with 1 and 2 threads (the
 * chunks of rows are summed by one thread in order, or shared). */
START_TEST(test_dense_softmin_one_pass_matches_long_double)
{
    enum { N = 1200, M = 1300, LD = 1303 };
    const double eps = 0.05;
    double *C = malloc(sizeof(double) * N * LD), *hr = malloc(sizeof(double) * M),
           *hc = malloc(sizeof(double) * N), *out = malloc(sizeof(double) * M),
           *out2 = malloc(sizeof(double) * M);
    ck_assert(C && hr && hc && out && out2);
    tk_rng st = tk_rng_seed(11);
    for (int variant = 0; variant < 3; variant++) {
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < LD; j++)
                C[i * LD + j] = 3.0 * tk_uniform(&st);
        for (size_t j = 0; j < M; j++)
            hr[j] = -tk_uniform(&st) - (variant == 2 && j < 512 ? INFINITY : 0.0);
        for (size_t i = 0; i < N; i++)
            hc[i] = -tk_uniform(&st) - (variant == 2 && i < 64 ? INFINITY : 0.0);
        if (variant == 1) {
            for (size_t j = 1024; j < M; j++)
                hr[j] += 800.0;
            for (size_t j = 1; j < M; j += 2)
                C[150 * LD + j] = -40.0; /* exponent +800: e^800 overflows */
        }
        otk_cost *c;
        TK_ASSERT_OK(otk_cost_dense(&c, N, M, C, LD));
        for (int axis = 0; axis < 2; axis++) {
            const size_t nout = axis == 0 ? N : M, nin = axis == 0 ? M : N;
            const double *h = axis == 0 ? hr : hc;
            TK_ASSERT_OK(otk_cost_softmin(c, axis, eps, h, out, 1));
            double worst = 0.0;
            for (size_t o = 0; o < nout; o++) {
                long double mx = -INFINITY, s = 0.0L, scale = 0.0L;
                for (size_t t = 0; t < nin; t++) {
                    const size_t i = axis == 0 ? o : t, j = axis == 0 ? t : o;
                    const long double v = h[t] - (long double)C[i * LD + j] / eps;
                    mx = v > mx ? v : mx;
                    scale = h[t] != -INFINITY && fabsl(v) > scale ? fabsl(v) : scale;
                }
                for (size_t t = 0; t < nin; t++) {
                    const size_t i = axis == 0 ? o : t, j = axis == 0 ? t : o;
                    s += expl(h[t] - (long double)C[i * LD + j] / eps - mx);
                }
                const double ref = (double)(-(long double)eps * (mx + logl(s)));
                /* exact relative to the exponents' scale, eps·max|v| */
                const double err = fabs(out[o] - ref) / (eps * (double)scale);
                worst = err > worst ? err : worst;
            }
            ck_assert_msg(worst <= 2e-15, "variant %d axis %d: error %.3g of the exponents' scale",
                          variant, axis, worst);
        }
        TK_ASSERT_OK(otk_cost_softmin(c, 1, eps, hc, out2, 2));
        ck_assert_msg(memcmp(out, out2, sizeof(double) * M) == 0,
                      "variant %d: columns differ between 1 and 2 threads", variant);
        otk_cost_free(c);
    }
    free(C), free(hr), free(hc), free(out), free(out2);
}
END_TEST

START_TEST(test_cost_operations_reject_bad_arguments)
{
    const double C[] = {0.0, 1.0, 1.0, 0.0};
    double h[2] = {0.0, 0.0}, out[4];
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_dense(&c, 2, 2, C, 2));
    TK_ASSERT_FAILS(otk_cost_softmin(NULL, 0, 1.0, h, out, 1), OTK_ENULL, "cost");
    TK_ASSERT_FAILS(otk_cost_softmin(c, 0, 1.0, NULL, out, 1), OTK_ENULL, "h");
    TK_ASSERT_FAILS(otk_cost_softmin(c, 2, 1.0, h, out, 1), OTK_EPARAM, "axis");
    TK_ASSERT_FAILS(otk_cost_softmin(c, 0, 0.0, h, out, 1), OTK_EPARAM, "eps");
    TK_ASSERT_FAILS(otk_cost_softmin(c, 0, NAN, h, out, 1), OTK_EPARAM, "eps");
    h[1] = NAN;
    TK_ASSERT_FAILS(otk_cost_softmin(c, 0, 1.0, h, out, 1), OTK_ENONFINITE, "h[1]");
    h[1] = -INFINITY; /* a zero weight is allowed */
    TK_ASSERT_OK(otk_cost_softmin(c, 0, 1.0, h, out, 1));
    TK_ASSERT_REL(out[0], 0.0, 0.0);
    TK_ASSERT_FAILS(otk_cost_plan_reduce(c, 0, 1.0, h, h, OTK_REDUCE_GRAD, 1, NULL, out, 1),
                    OTK_EUNSUPPORTED, "coordinates");
    TK_ASSERT_FAILS(otk_cost_plan_reduce(c, 0, 1.0, h, h, OTK_REDUCE_APPLY, 0, h, out, 1),
                    OTK_EPARAM, "k");
    TK_ASSERT_FAILS(otk_cost_plan_reduce(c, 0, 1.0, h, h, (otk_reduce)9, 1, NULL, out, 1),
                    OTK_EPARAM, "what");
    h[0] = INFINITY;
    TK_ASSERT_FAILS(otk_cost_plan_reduce(c, 1, 1.0, h, h, OTK_REDUCE_MASS, 1, NULL, out, 1),
                    OTK_ENONFINITE, "u[0]");
    otk_cost_free(c);
}
END_TEST

/* otk_cost_points_set gives the cost a fresh otk_cost_points would build
 * (entries bitwise, diameter, a kept matrix refreshed); bad input leaves it
 * unchanged. */
START_TEST(test_points_set_equals_a_fresh_cost)
{
    enum { N = 37, M = 29, D = 3 };
    tk_rng rng = tk_rng_seed(5);
    double x[N * D], y[M * D], x2[N * D], y2[M * D];
    tk_points_uniform(&rng, N, D, x);
    tk_points_uniform(&rng, M, D, y);
    tk_points_gauss(&rng, N, D, 0.3, 2.0, x2);
    tk_points_gauss(&rng, M, D, -0.2, 1.5, y2);
    for (int kept = 0; kept < 2; kept++) {
        otk_cost *c, *fresh;
        TK_ASSERT_OK(otk_cost_points(&c, N, M, D, x, y, OTK_GROUND_EUCLIDEAN, 0.0));
        TK_ASSERT_OK(otk_cost_points(&fresh, N, M, D, x2, y2, OTK_GROUND_EUCLIDEAN, 0.0));
        if (kept)
            TK_ASSERT_OK(otk_cost_points_cache(c, (size_t)1 << 20));
        TK_ASSERT_OK(otk_cost_points_set(c, x2, NULL));
        TK_ASSERT_OK(otk_cost_points_set(c, NULL, y2));
        ck_assert_uint_eq(otk_cost_cache_bytes(c), kept ? N * M * sizeof(double) : 0);
        ck_assert_double_eq(otk_cost_diameter(c), otk_cost_diameter(fresh));
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < M; j++)
                ck_assert_double_eq(otk_cost_entry(c, i, j), otk_cost_entry(fresh, i, j));
        x2[7 * D + 1] = NAN;
        TK_ASSERT_FAILS(otk_cost_points_set(c, x2, NULL), OTK_ENONFINITE, "x[22]");
        ck_assert_double_eq(otk_cost_entry(c, 7, 0), otk_cost_entry(fresh, 7, 0));
        x2[7 * D + 1] = 0.5;
        otk_cost_free(c);
        otk_cost_free(fresh);
    }
    double C[4] = {1, 2, 3, 4};
    otk_cost *dense;
    TK_ASSERT_OK(otk_cost_dense(&dense, 2, 2, C, 2));
    TK_ASSERT_FAILS(otk_cost_points_set(dense, C, NULL), OTK_EUNSUPPORTED, "dense");
    TK_ASSERT_FAILS(otk_cost_points_set(NULL, C, NULL), OTK_ENULL, "cost");
    otk_cost_free(dense);
}
END_TEST

/* otk_cost_moments against the two-pass definition over all entries, for a
 * point cloud (on the fly and kept), a dense matrix and a callback; the
 * thread count does not change a bit. */
static double shifted_entry(size_t i, size_t j, void *ctx)
{
    return *(const double *)ctx + (double)((i * 7 + j * 3) % 11);
}

START_TEST(test_cost_moments_match_their_definition)
{
    enum { N = 300, M = 70, D = 2 };
    tk_rng rng = tk_rng_seed(8);
    double x[N * D], y[M * D];
    tk_points_uniform(&rng, N, D, x);
    tk_points_gauss(&rng, M, D, 1e3, 0.1, y); /* mean ≫ spread */
    double *C = tk_alloc(N * M, sizeof *C);
    otk_cost *pc, *dc, *cc;
    TK_ASSERT_OK(otk_cost_points(&pc, N, M, D, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0));
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < M; j++)
            C[i * M + j] = otk_cost_entry(pc, i, j);
    const double shift = 1e6;
    TK_ASSERT_OK(otk_cost_dense(&dc, N, M, C, M));
    TK_ASSERT_OK(otk_cost_callback(&cc, N, M, shifted_entry, (void *)&shift, 1.0));
    for (int k = 0; k < 4; k++) {
        otk_cost *c = k == 2 ? dc : k == 3 ? cc : pc;
        if (k == 1)
            TK_ASSERT_OK(otk_cost_points_cache(pc, (size_t)1 << 20));
        long double s = 0.0L, s2 = 0.0L;
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < M; j++)
                s += otk_cost_entry(c, i, j);
        const long double mu = s / (N * M);
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < M; j++)
                s2 += (otk_cost_entry(c, i, j) - mu) * (otk_cost_entry(c, i, j) - mu);
        const double sd = (double)sqrtl(s2 / (N * M));
        double mean, std, mean1, std1;
        TK_ASSERT_OK(otk_cost_moments(c, &mean, &std, 2));
        TK_ASSERT_OK(otk_cost_moments(c, &mean1, NULL, 1));
        TK_ASSERT_OK(otk_cost_moments(c, NULL, &std1, 1));
        ck_assert_msg(fabs(mean - (double)mu) <= 1e-14 * fabs((double)mu), "kind %d: mean %.17g vs %.17g",
                      k, mean, (double)mu);
        ck_assert_msg(fabs(std - sd) <= 1e-11 * sd, "kind %d: std %.17g vs %.17g", k, std, sd);
        ck_assert_double_eq(mean, mean1);
        ck_assert_double_eq(std, std1);
    }
    TK_ASSERT_FAILS(otk_cost_moments(NULL, NULL, NULL, 0), OTK_ENULL, "cost");
    TK_ASSERT_FAILS(otk_cost_moments(pc, NULL, NULL, 0), OTK_ENULL, "mean and std");
    otk_cost_free(pc);
    otk_cost_free(dc);
    otk_cost_free(cc);
    free(C);
}
END_TEST

/* Points that float32 represents exactly, so that the float32 and float64
 * costs describe the same problem and only the arithmetic differs. */
static void float_points(size_t len, uint64_t seed, float *f, double *dbl)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        f[i] = (float)((double)(seed >> 40) / (double)(1ull << 24));
        dbl[i] = (double)f[i];
    }
}

START_TEST(test_float32_points_solve_close_to_float64)
{
    enum { n = 200, m = 150, d = 3 };
    float xf[n * d], yf[m * d];
    double x[n * d], y[m * d];
    float_points(n * d, 1, xf, x);
    float_points(m * d, 2, yf, y);
    const otk_ground grounds[] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_EUCLIDEAN, OTK_GROUND_L1};
    for (size_t g = 0; g < 3; g++) {
        otk_cost *c64, *c32;
        TK_ASSERT_OK(otk_cost_points(&c64, n, m, d, x, y, grounds[g], 0));
        TK_ASSERT_OK(otk_cost_points_f32(&c32, n, m, d, xf, yf, grounds[g], 0));
        ck_assert_int_eq(otk_cost_single_precision(c32), 1);
        ck_assert_int_eq(otk_cost_single_precision(c64), 0);
        TK_ASSERT_REL(otk_cost_diameter(c32), otk_cost_diameter(c64), 0.0);
        /* One soft-min: within 2e-7 of the cost scale (the documented 1e-7
         * with room for the sum's rounding). */
        double h[m], o64[n], o32[n];
        for (size_t j = 0; j < m; j++)
            h[j] = -log((double)m) + 0.3 * sin((double)j);
        const double eps = 0.05 * pow(otk_cost_diameter(c64), otk_cost_exponent(c64));
        TK_ASSERT_OK(otk_cost_softmin(c64, 0, eps, h, o64, 1));
        TK_ASSERT_OK(otk_cost_softmin(c32, 0, eps, h, o32, 1));
        for (size_t i = 0; i < n; i++)
            TK_ASSERT_ABS(o32[i], o64[i], 2e-7 * otk_cost_diameter(c64));
        /* A whole solve: values within 1e-6 relative. */
        otk_sinkhorn_params par;
        otk_sinkhorn_params_default(&par);
        par.eps = eps;
        par.tol = 1e-5;
        par.threads = 1;
        otk_sinkhorn_result r64, r32;
        otk_sinkhorn *s64, *s32;
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s64, c64, &par));
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s32, c32, &par));
        TK_ASSERT_OK(otk_sinkhorn_solve(s64, NULL, NULL, &r64));
        TK_ASSERT_OK(otk_sinkhorn_solve(s32, NULL, NULL, &r32));
        TK_ASSERT_REL(r32.ot_kl, r64.ot_kl, 1e-6);
        TK_ASSERT_REL(r32.ot_lin, r64.ot_lin, 1e-6);
        otk_sinkhorn_free(s64);
        otk_sinkhorn_free(s32);
        otk_cost_free(c64);
        otk_cost_free(c32);
    }
}
END_TEST

/* otk_cost_points_set_f32 gives the soft-min of a fresh float32 cost bitwise;
 * a non-finite coordinate is named and leaves the cost unchanged. */
START_TEST(test_float32_points_set_equals_a_fresh_cost)
{
    enum { n = 40, m = 30, d = 2 };
    float xf[n * d], yf[m * d], x2f[n * d];
    double x[n * d], y[m * d], x2[n * d], h[m], o1[n], o2[n], o3[n];
    float_points(n * d, 3, xf, x);
    float_points(m * d, 4, yf, y);
    float_points(n * d, 5, x2f, x2);
    for (size_t i = 0; i < n * d; i++)
        x2f[i] *= 2.0f; /* a larger diameter */
    for (size_t j = 0; j < m; j++)
        h[j] = -log((double)m) + 0.2 * cos((double)j);
    otk_cost *c, *fresh, *c64;
    TK_ASSERT_OK(otk_cost_points_f32(&c, n, m, d, xf, yf, OTK_GROUND_SQEUCLIDEAN, 0));
    TK_ASSERT_OK(otk_cost_points_f32(&fresh, n, m, d, x2f, yf, OTK_GROUND_SQEUCLIDEAN, 0));
    TK_ASSERT_OK(otk_cost_points_set_f32(c, x2f, NULL));
    TK_ASSERT_REL(otk_cost_diameter(c), otk_cost_diameter(fresh), 0.0);
    TK_ASSERT_OK(otk_cost_softmin(c, 0, 0.05, h, o1, 1));
    TK_ASSERT_OK(otk_cost_softmin(fresh, 0, 0.05, h, o2, 1));
    TK_ASSERT_VEC_ABS(o1, o2, n, 0.0, "softmin after set_f32");
    const float keep = yf[5];
    yf[5] = INFINITY;
    TK_ASSERT_FAILS(otk_cost_points_set_f32(c, xf, yf), OTK_ENONFINITE, "y[5]");
    yf[5] = keep;
    TK_ASSERT_OK(otk_cost_softmin(c, 0, 0.05, h, o3, 1));
    TK_ASSERT_VEC_ABS(o3, o2, n, 0.0, "softmin after a failed set_f32");
    TK_ASSERT_OK(otk_cost_points(&c64, n, m, d, x, y, OTK_GROUND_SQEUCLIDEAN, 0));
    TK_ASSERT_FAILS(otk_cost_points_set_f32(c64, xf, NULL), OTK_EUNSUPPORTED, "f32");
    TK_ASSERT_FAILS(otk_cost_points_set_f32(NULL, xf, NULL), OTK_ENULL, "cost");
    otk_cost_free(c);
    otk_cost_free(fresh);
    otk_cost_free(c64);
}
END_TEST

START_TEST(test_float32_points_reject_bad_arguments)
{
    float x[6] = {0, 1, 2, 3, 4, 5}, y[4] = {0, 1, 2, 3};
    otk_cost *c = SENTINEL_COST;
    TK_ASSERT_FAILS(otk_cost_points_f32(&c, 3, 2, 2, NULL, y, OTK_GROUND_SQEUCLIDEAN, 0),
                    OTK_ENULL, "x");
    ck_assert_ptr_null(c);
    TK_ASSERT_FAILS(otk_cost_points_f32(&c, 3, 2, 0, x, y, OTK_GROUND_SQEUCLIDEAN, 0), OTK_ESIZE,
                    "d = 0");
    TK_ASSERT_FAILS(otk_cost_points_f32(&c, (size_t)1 << 62, 2, 4, x, y, OTK_GROUND_SQEUCLIDEAN, 0),
                    OTK_ESIZE, "overflows");
    TK_ASSERT_FAILS(otk_cost_points_f32(&c, 3, 2, 2, x, y, OTK_GROUND_LP, -1.0), OTK_EPARAM,
                    "power");
    y[3] = NAN;
    TK_ASSERT_FAILS(otk_cost_points_f32(&c, 3, 2, 2, x, y, OTK_GROUND_SQEUCLIDEAN, 0),
                    OTK_ENONFINITE, "y[3]");
    ck_assert_ptr_null(c);
    ck_assert_int_eq(otk_cost_single_precision(NULL), 0);
}
END_TEST

Suite *cost_suite(void)
{
    Suite *s = suite_create("cost");
    TCase *tc = tcase_create("grounds");
    tcase_add_test(tc, test_ground_names_round_trip);
    tcase_add_test(tc, test_ground_from_name_rejects_unknown_names_and_null);
    tcase_add_test(tc, test_ground_exponent_is_the_p_of_each_ground);
    suite_add_tcase(s, tc);

    tc = tcase_create("kinds");
    tcase_add_test(tc, test_points_entries_match_the_defining_formula_for_every_ground);
    tcase_add_test(tc, test_points_hand_computed_entries);
    tcase_add_test(tc, test_points_coordinates_are_copied);
    tcase_add_test(tc, test_entry_out_of_range_is_nan);
    tcase_add_test(tc, test_points_diameter_is_the_bounding_box_diagonal);
    tcase_add_test(tc, test_dense_cost_respects_leading_dimension_and_reports_range);
    tcase_add_test(tc, test_callback_cost_scans_its_range_or_takes_the_given_diameter);
    tcase_add_test(tc, test_points_cache_keeps_the_exact_entries_within_its_budget);
    tcase_add_test(tc, test_points_cache_gives_the_on_the_fly_solution);
    tcase_add_test(tc, test_cost_operations_match_their_definitions);
    tcase_add_test(tc, test_dense_softmin_one_pass_matches_long_double);
    tcase_add_test(tc, test_points_set_equals_a_fresh_cost);
    tcase_add_test(tc, test_cost_moments_match_their_definition);
    tcase_add_test(tc, test_float32_points_solve_close_to_float64);
    tcase_add_test(tc, test_float32_points_set_equals_a_fresh_cost);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_points_rejects_null_pointers_and_clears_out);
    tcase_add_test(tc, test_points_rejects_zero_sizes);
    tcase_add_test(tc, test_points_rejects_nonfinite_coordinates_naming_the_index);
    tcase_add_test(tc, test_points_rejects_invalid_ground_and_power);
    tcase_add_test(tc, test_dense_rejects_bad_arguments);
    tcase_add_test(tc, test_callback_rejects_bad_arguments);
    tcase_add_test(tc, test_cost_free_null_is_a_noop);
    tcase_add_test(tc, test_cost_operations_reject_bad_arguments);
    tcase_add_test(tc, test_float32_points_reject_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}
