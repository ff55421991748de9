/*
 * tests/test_status.c — status codes, their names and descriptions, the
 * thread-local error message, and version queries (otkit/status.h).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <pthread.h>

#include "test_helpers.h"

/* The statuses and values documented in otkit/status.h, written out by hand
 * (not through OTK_STATUS_MAP) so that a renumbered or renamed status fails. */
static const struct {
    int value;
    const char *name;
} documented[] = {
    {0, "OTK_SUCCESS"},   {1, "OTK_NOT_CONVERGED"}, {2, "OTK_CONTINUE"},
    {-1, "OTK_ENULL"},    {-2, "OTK_ENONFINITE"},   {-3, "OTK_ENEGATIVE"},
    {-4, "OTK_EZEROMASS"}, {-5, "OTK_ESIZE"},        {-6, "OTK_EPARAM"},
    {-7, "OTK_EMASS"},    {-8, "OTK_ENOMEM"},       {-9, "OTK_ESTATE"},
    {-10, "OTK_EUNSUPPORTED"}, {-11, "OTK_ENUMERIC"}, {-12, "OTK_ERANGE"},
    {-13, "OTK_ESHAPE"}, {-14, "OTK_EDEGENERATE"}, {-15, "OTK_ENONMANIFOLD"},
    {-16, "OTK_EDISCONNECTED"}, {-17, "OTK_EPARSE"}, {-18, "OTK_EIO"}, {-19, "OTK_EEMPTY"},
};
#define N_DOCUMENTED ((int)(sizeof documented / sizeof documented[0]))

START_TEST(test_status_values_follow_the_sign_convention)
{
    /* 0 success, > 0 warnings/progress, < 0 errors (status.h). */
    ck_assert_int_eq(OTK_SUCCESS, 0);
    ck_assert_int_eq(OTK_NOT_CONVERGED, 1);
    ck_assert_int_eq(OTK_CONTINUE, 2);
    const int errors[] = {OTK_ENULL,  OTK_ENONFINITE, OTK_ENEGATIVE, OTK_EZEROMASS,
                          OTK_ESIZE,  OTK_EPARAM,     OTK_EMASS,     OTK_ENOMEM,
                          OTK_ESTATE, OTK_EUNSUPPORTED, OTK_ENUMERIC, OTK_ERANGE,
                          OTK_ESHAPE, OTK_EDEGENERATE, OTK_ENONMANIFOLD, OTK_EDISCONNECTED,
                          OTK_EPARSE, OTK_EIO, OTK_EEMPTY};
    for (size_t k = 0; k < sizeof errors / sizeof errors[0]; k++)
        ck_assert_msg(errors[k] < 0, "%s = %d is not negative", otk_status_name(errors[k]),
                      errors[k]);
}
END_TEST

START_TEST(test_status_name_is_the_symbolic_name_of_every_status)
{
    for (int k = 0; k < N_DOCUMENTED; k++)
        ck_assert_str_eq(otk_status_name(documented[k].value), documented[k].name);
}
END_TEST

START_TEST(test_strerror_matches_the_status_list_and_is_distinct)
{
    /* The descriptions are those of OTK_STATUS_MAP, and no two statuses share
     * one (a copy-paste slip in the list would). */
#define EXPECT_TEXT_(name, value, text) ck_assert_str_eq(otk_strerror(value), text);
    OTK_STATUS_MAP(EXPECT_TEXT_)
#undef EXPECT_TEXT_
    for (int k = 0; k < N_DOCUMENTED; k++) {
        const char *t = otk_strerror(documented[k].value);
        ck_assert_ptr_nonnull(t);
        ck_assert_msg(strlen(t) > 0, "empty description for %s", documented[k].name);
        for (int l = 0; l < k; l++)
            ck_assert_msg(strcmp(t, otk_strerror(documented[l].value)) != 0,
                          "%s and %s share the description \"%s\"", documented[k].name,
                          documented[l].name, t);
    }
    ck_assert_str_eq(otk_strerror(OTK_EMASS), "a balanced problem needs equal total masses");
}
END_TEST

START_TEST(test_unknown_status_has_fixed_name_and_description)
{
    const int unknown[] = {3, 42, -99, -1000, 1 << 30};
    for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++) {
        ck_assert_str_eq(otk_strerror(unknown[k]), "unknown status");
        ck_assert_str_eq(otk_status_name(unknown[k]), "OTK_UNKNOWN");
    }
}
END_TEST

START_TEST(test_version_string_is_x_y_z_and_matches_version_number)
{
    const char *v = otk_version_string();
    ck_assert_ptr_nonnull(v);
    int major = -1, minor = -1, patch = -1, used = 0;
    ck_assert_msg(sscanf(v, "%d.%d.%d%n", &major, &minor, &patch, &used) == 3 &&
                      (size_t)used == strlen(v),
                  "version \"%s\" is not X.Y.Z", v);
    ck_assert_int_ge(major, 0);
    ck_assert_int_ge(minor, 0);
    ck_assert_int_ge(patch, 0);
    ck_assert_int_lt(minor, 100);
    ck_assert_int_lt(patch, 100);
    ck_assert_int_eq(otk_version_number(), major * 10000 + minor * 100 + patch);
#ifdef PACKAGE_VERSION
    /* The library linked is the one this tree configured. */
    ck_assert_str_eq(v, PACKAGE_VERSION);
#endif
}
END_TEST

/* The configure-time macros of otkit/version.h describe the library linked. */
START_TEST(test_version_macros_match_the_library)
{
    ck_assert_int_eq(OTK_VERSION_NUMBER, otk_version_number());
    ck_assert_int_eq(OTK_VERSION_NUMBER,
                     OTK_VERSION_MAJOR * 10000 + OTK_VERSION_MINOR * 100 + OTK_VERSION_PATCH);
    ck_assert_str_eq(OTK_VERSION_STRING, otk_version_string());
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", OTK_VERSION_MAJOR, OTK_VERSION_MINOR,
             OTK_VERSION_PATCH);
    ck_assert_str_eq(expect, otk_version_string());
}
END_TEST

START_TEST(test_last_error_names_argument_after_a_failure)
{
    otk_cost *c = NULL;
    /* A NaN in y at flat index 1 (point 0, coordinate 1). */
    const double x[2] = {0.0, 0.0}, y[2] = {0.5, NAN};
    TK_ASSERT_FAILS(otk_cost_points(&c, 1, 1, 2, x, y, OTK_GROUND_SQEUCLIDEAN, 0.0),
                    OTK_ENONFINITE, "y[1]");
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(otk_last_error());
}
END_TEST

static void *fail_in_thread(void *arg)
{
    (void)arg;
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.scaling = 7.0;
    otk_sinkhorn *s = NULL;
    double C = 1.0;
    otk_cost *c = NULL;
    if (otk_cost_dense(&c, 1, 1, &C, 1) != OTK_SUCCESS)
        return (void *)"cost";
    otk_status st = otk_sinkhorn_alloc(&s, c, &par);
    otk_cost_free(c);
    if (st != OTK_EPARAM || !strstr(otk_last_error(), "scaling"))
        return (void *)"thread's own message";
    return NULL;
}

START_TEST(test_last_error_is_thread_local)
{
    /* status.h: "The last-error message is thread-local". */
    TK_ASSERT_FAILS(otk_cost_dense(NULL, 1, 1, NULL, 1), OTK_ENULL, "out");
    char before[512];
    snprintf(before, sizeof before, "%s", otk_last_error());
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, fail_in_thread, NULL), 0);
    void *res = NULL;
    ck_assert_int_eq(pthread_join(th, &res), 0);
    ck_assert_msg(res == NULL, "failure in the other thread: %s", (const char *)res);
    ck_assert_str_eq(otk_last_error(), before);
}
END_TEST

/* ------------------------------------------------------------------ name tables */

/* Every enum's names as its header documents them, written out by hand (not
 * through OTK_<KIND>_MAP): a renamed, reordered or added value fails. */
static const struct {
    const char *kind, *what;
    const char *names[12];
} documented_names[] = {
    {"ground", "ground cost",
     {"sqeuclidean", "half-sqeuclidean", "euclidean", "l1", "lp", "lp-over-p"}},
    {"reduce", "plan reduction", {"mass", "cost", "apply", "grad"}},
    {"grid_path", "grid path", {"auto", "separable", "fft"}},
    {"schedule", "schedule", {"converge", "fixed"}},
    {"update", "update rule",
     {"auto", "symmetric", "alternating", "overrelaxed", "translated", "accelerated"}},
    {"gauge", "potential gauge", {"geomloss", "ott", "pot"}},
    {"backend", "backend", {"auto", "online", "dense", "multiscale"}},
    {"stage", "solve stage", {"clusters", "annealing", "target"}},
    {"mesh_shape", "mesh shape", {"square", "icosphere", "torus"}},
    {"heat_convention", "heat-kernel convention", {"otkit", "solomon"}},
    {"relative_to", "relative-eps statistic", {"std", "mean", "max_cost", "median"}},
    {"sinkd_grad", "SinKD gradient mode", {"unrolled", "envelope"}},
    {"kd_divergence", "KD divergence", {"kl", "reverse-kl", "js", "soft-ce"}},
    {"map_family", "map family", {"affine", "mlp", "entropic"}},
    {"activation", "activation", {"gelu", "tanh"}},
    {"optimizer", "optimizer", {"auto", "bfgs", "adam"}},
    {"lambda_schedule", "lambda schedule", {"constant", "warmup"}},
    {"lr_schedule", "learning-rate schedule", {"constant", "cosine"}},
    {"fdiv_kind", "f-divergence",
     {"kl", "reverse-kl", "jeffreys", "js", "tv", "hellinger", "pearson", "neyman", "alpha",
      "custom"}},
    {"reduction_kind", "reduction", {"mean", "sum", "none"}},
    {"binning", "binning", {"quantile", "equal-width", "edges"}},
    {"directions", "directions", {"gaussian", "halton"}},
};
#define N_DOCUMENTED_KINDS (sizeof documented_names / sizeof documented_names[0])

static size_t documented_count(size_t k)
{
    size_t n = 0;
    while (n < 12 && documented_names[k].names[n])
        n++;
    return n;
}

START_TEST(test_enum_tables_list_the_documented_names_in_value_order)
{
    const char *const *kinds = otk_enum_kinds();
    size_t n_kinds = 0;
    while (kinds[n_kinds])
        n_kinds++;
    ck_assert_uint_eq(n_kinds, N_DOCUMENTED_KINDS);
    for (size_t k = 0; k < N_DOCUMENTED_KINDS; k++) {
        const char *kind = documented_names[k].kind;
        ck_assert_str_eq(kinds[k], kind);
        ck_assert_str_eq(otk_enum_what(kind), documented_names[k].what);
        size_t count = 99;
        const char *const *names = otk_enum_names(kind, &count);
        ck_assert_ptr_nonnull(names);
        ck_assert_uint_eq(count, documented_count(k));
        for (size_t v = 0; v < count; v++) {
            ck_assert_str_eq(names[v], documented_names[k].names[v]);
            ck_assert_str_eq(otk_enum_name(kind, (int)v), names[v]);
            int value = -1;
            TK_ASSERT_OK(otk_enum_from_name(kind, names[v], &value));
            ck_assert_int_eq(value, (int)v);
        }
        ck_assert_ptr_null(otk_enum_name(kind, (int)count));
        ck_assert_ptr_null(otk_enum_name(kind, -1));
    }
    size_t count = 7;
    ck_assert_ptr_null(otk_enum_names("colour", &count));
    ck_assert_uint_eq(count, 0);
    ck_assert_ptr_null(otk_enum_names(NULL, NULL));
    ck_assert_ptr_null(otk_enum_what("colour"));
    ck_assert_ptr_null(otk_enum_name("colour", 0));
}
END_TEST

/* The typed pair of every enum agrees with the table and round-trips. */
#define TK_ROUND_TRIP(kind, type, count)                                                        \
    do {                                                                                        \
        for (int v_ = 0; v_ < (count); v_++) {                                                  \
            const char *name_ = otk_##kind##_name((type)v_);                                    \
            ck_assert_ptr_nonnull(name_);                                                       \
            ck_assert_str_eq(name_, otk_enum_name(#kind, v_));                                  \
            type back_ = (type)((v_ + 1) % (count));                                            \
            TK_ASSERT_OK(otk_##kind##_from_name(name_, &back_));                                \
            ck_assert_int_eq((int)back_, v_);                                                   \
        }                                                                                       \
        ck_assert_ptr_null(otk_##kind##_name((type)(count)));                                   \
        ck_assert_ptr_null(otk_##kind##_name((type)-1));                                        \
        type untouched_ = (type)((count) - 1);                                                  \
        TK_ASSERT_FAILS(otk_##kind##_from_name("no-such-name", &untouched_), OTK_EPARAM,        \
                        "\"no-such-name\"; valid: ");                                           \
        ck_assert_int_eq((int)untouched_, (count) - 1);                                         \
        TK_ASSERT_FAILS(otk_##kind##_from_name(NULL, &untouched_), OTK_ENULL, "name");          \
        TK_ASSERT_FAILS(otk_##kind##_from_name(otk_##kind##_name((type)0), NULL), OTK_ENULL,    \
                        #kind);                                                                 \
    } while (0)

START_TEST(test_every_enum_name_round_trips_through_its_typed_pair)
{
    TK_ROUND_TRIP(ground, otk_ground, 6);
    TK_ROUND_TRIP(reduce, otk_reduce, 4);
    TK_ROUND_TRIP(grid_path, otk_grid_path, 3);
    TK_ROUND_TRIP(schedule, otk_schedule, 2);
    TK_ROUND_TRIP(update, otk_update, 6);
    TK_ROUND_TRIP(gauge, otk_gauge, 3);
    TK_ROUND_TRIP(mesh_shape, otk_mesh_shape, 3);
    TK_ROUND_TRIP(heat_convention, otk_heat_convention, 2);
    TK_ROUND_TRIP(relative_to, otk_relative_to, 4);
    TK_ROUND_TRIP(sinkd_grad, otk_sinkd_grad, 2);
    TK_ROUND_TRIP(kd_divergence, otk_kd_divergence, 4);
    TK_ROUND_TRIP(map_family, otk_map_family, 3);
    TK_ROUND_TRIP(activation, otk_activation, 2);
    TK_ROUND_TRIP(optimizer, otk_optimizer, 3);
    TK_ROUND_TRIP(lambda_schedule, otk_lambda_schedule, 2);
    TK_ROUND_TRIP(lr_schedule, otk_lr_schedule, 2);
    TK_ROUND_TRIP(fdiv_kind, otk_fdiv_kind, 10);
    TK_ROUND_TRIP(reduction_kind, otk_reduction_kind, 3);
    TK_ROUND_TRIP(binning, otk_binning, 3);
    TK_ROUND_TRIP(directions, otk_directions, 2);
    /* The enumerators are the documented values. */
    ck_assert_int_eq(OTK_SCHEDULE_FIXED, 1);
    ck_assert_int_eq(OTK_UPDATE_ALTERNATING, 2);
    ck_assert_int_eq(OTK_GROUND_LP_OVER_P, 5);
    ck_assert_int_eq(OTK_KD_SOFT_CE, 3);
    ck_assert_int_eq(OTK_OPTIMIZER_ADAM, 2);
}
END_TEST

START_TEST(test_unknown_names_fail_with_a_message_listing_the_valid_ones)
{
    otk_schedule s = OTK_SCHEDULE_FIXED;
    TK_ASSERT_FAILS(otk_schedule_from_name("conv", &s), OTK_EPARAM,
                    "unknown schedule \"conv\"; valid: converge, fixed");
    ck_assert_int_eq(s, OTK_SCHEDULE_FIXED);
    otk_update u;
    TK_ASSERT_FAILS(otk_update_from_name("Alternating", &u), OTK_EPARAM,
                    "unknown update rule \"Alternating\"; valid: auto, symmetric, alternating");
    otk_ground g;
    TK_ASSERT_FAILS(otk_ground_from_name("", &g), OTK_EPARAM,
                    "unknown ground cost \"\"; valid: sqeuclidean, half-sqeuclidean, euclidean, "
                    "l1, lp, lp-over-p");
    int v = 5;
    TK_ASSERT_FAILS(otk_enum_from_name("kd_divergence", "rkl", &v), OTK_EPARAM,
                    "unknown KD divergence \"rkl\"; valid: kl, reverse-kl, js, soft-ce");
    ck_assert_int_eq(v, 5);
    TK_ASSERT_FAILS(otk_enum_from_name("colour", "red", &v), OTK_EPARAM,
                    "unknown enum kind \"colour\"; valid: ground, reduce, grid_path");
    TK_ASSERT_FAILS(otk_enum_from_name(NULL, "red", &v), OTK_ENULL, "kind");
    TK_ASSERT_FAILS(otk_enum_from_name("schedule", NULL, &v), OTK_ENULL, "name");
    TK_ASSERT_FAILS(otk_enum_from_name("schedule", "fixed", NULL), OTK_ENULL, "value");
}
END_TEST

Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("codes");
    tcase_add_test(tc, test_status_values_follow_the_sign_convention);
    tcase_add_test(tc, test_status_name_is_the_symbolic_name_of_every_status);
    tcase_add_test(tc, test_strerror_matches_the_status_list_and_is_distinct);
    tcase_add_test(tc, test_unknown_status_has_fixed_name_and_description);
    suite_add_tcase(s, tc);
    tc = tcase_create("messages");
    tcase_add_test(tc, test_last_error_names_argument_after_a_failure);
    tcase_add_test(tc, test_last_error_is_thread_local);
    suite_add_tcase(s, tc);
    tc = tcase_create("names");
    tcase_add_test(tc, test_enum_tables_list_the_documented_names_in_value_order);
    tcase_add_test(tc, test_every_enum_name_round_trips_through_its_typed_pair);
    tcase_add_test(tc, test_unknown_names_fail_with_a_message_listing_the_valid_ones);
    suite_add_tcase(s, tc);
    tc = tcase_create("version");
    tcase_add_test(tc, test_version_string_is_x_y_z_and_matches_version_number);
    tcase_add_test(tc, test_version_macros_match_the_library);
    suite_add_tcase(s, tc);
    return s;
}
