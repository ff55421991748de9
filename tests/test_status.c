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
    tc = tcase_create("version");
    tcase_add_test(tc, test_version_string_is_x_y_z_and_matches_version_number);
    tcase_add_test(tc, test_version_macros_match_the_library);
    suite_add_tcase(s, tc);
    return s;
}
