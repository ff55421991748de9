/*
 * tests/check_otkit.c — the single Check runner for otkit's unit tests.
 *
 *   ./tests/check_otkit                 all suites, CK_NORMAL output
 *   CK_RUN_SUITE=sinkhorn ./tests/...   one suite (Check's own variables:
 *                                       CK_RUN_CASE, CK_FORK=no, CK_VERBOSITY)
 *   OTK_TEST_QUICK=1 ./tests/...        skip the large problems, run serially
 *
 * Under valgrind (tests/check_otkit is a libtool wrapper script):
 *   CK_FORK=no OTK_TEST_QUICK=1 ./libtool --mode=execute \
 *       valgrind --leak-check=full --error-exitcode=1 ./tests/check_otkit
 *
 * Exit status 0 when every test passes, 1 otherwise.
 */
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "test_helpers.h"

int main(void)
{
#ifdef _OPENMP
    /* Quick mode is for valgrind: run the solvers' default thread count
     * (threads = 0) serially, so libgomp starts no pool threads, whose
     * thread-local blocks — alive at exit — valgrind reports as "possibly
     * lost".  (The test comparing 1 and 2 threads is skipped there.) */
    if (tk_quick())
        omp_set_num_threads(1);
#endif
    SRunner *sr = srunner_create(status_suite());
    srunner_add_suite(sr, cost_suite());
    srunner_add_suite(sr, sinkhorn_suite());
    srunner_add_suite(sr, reference_suite());
    srunner_add_suite(sr, divergence_suite());
    srunner_add_suite(sr, batch_suite());
    srunner_add_suite(sr, distill_suite());
    srunner_add_suite(sr, monge_gap_suite());
    srunner_add_suite(sr, grid_suite());
    srunner_add_suite(sr, mesh_suite());
    srunner_add_suite(sr, sparse_suite());
    srunner_add_suite(sr, mapfit_suite());
    srunner_add_suite(sr, fdiv_suite());
    srunner_add_suite(sr, emd_suite());
    srunner_add_suite(sr, sliced_suite());
    srunner_add_suite(sr, multiscale_suite());
    srunner_add_suite(sr, bad_input_suite());
    srunner_run_all(sr, CK_ENV); /* CK_NORMAL unless CK_VERBOSITY says otherwise */
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
