/*
 * bench_mpi.c — weak scaling of the distributed Sinkhorn (otkit/mpi.h):
 * every rank holds N source and N target points (d = 3, uniform in the unit
 * cube), and the ranks run K alternating Sinkhorn iterations at a fixed ε
 * (no annealing, tol 0 so that exactly K run).  Rank 0 prints one line of
 * JSON with the wall time per iteration and, per rank and iteration, the
 * measured kernel time, the time spent waiting for messages, the bytes sent
 * and the cost entries evaluated (the largest over the ranks).
 *
 *   mpirun -np P ./bench_mpi N [K]        (bench/mpi_scaling.sh runs the table)
 */
#include <stdio.h>
#include <stdlib.h>
#include <mpi.h>
#include "otkit.h"
#include "otkit/mpi.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const size_t N = argc > 1 ? (size_t)atol(argv[1]) : 1000, d = 3;
    const int K = argc > 2 ? atoi(argv[2]) : 10;
    double *x = malloc(N * d * sizeof *x), *y = malloc(N * d * sizeof *y);
    unsigned long long s = 0x9E3779B97F4A7C15ULL * (unsigned long long)(rank + 1);
    for (size_t k = 0; k < N * d; k++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[k] = (double)(s >> 11) * 0x1.0p-53;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        y[k] = (double)(s >> 11) * 0x1.0p-53;
    }
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 0.01;
    par.no_annealing = 1;
    par.max_iter = K;
    par.tol = 1e-300;
    par.threads = 1;
    otk_mpi_sinkhorn *solver;
    if (otk_mpi_sinkhorn_alloc(&solver, MPI_COMM_WORLD, N, N, d, x, y,
                               OTK_GROUND_SQEUCLIDEAN, 0.0, &par) < 0) {
        if (rank == 0)
            fprintf(stderr, "bench_mpi: %s\n", otk_mpi_last_error());
        MPI_Finalize();
        return 1;
    }
    otk_mpi_stats before, after;
    otk_mpi_sinkhorn_stats(solver, &before);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    otk_sinkhorn_result res;
    otk_status st = otk_mpi_sinkhorn_solve(solver, NULL, NULL, &res);
    const double wall = MPI_Wtime() - t0;
    otk_mpi_sinkhorn_stats(solver, &after);
    /* The solve also measures the values (one more pass): count per pass. */
    const double passes = (double)(after.passes - before.passes);
    double mine[4] = {after.compute_seconds - before.compute_seconds,
                      after.wait_seconds - before.wait_seconds,
                      (double)(after.bytes_sent - before.bytes_sent),
                      (double)(after.cost_entries - before.cost_entries)};
    double worst[4];
    MPI_Reduce(mine, worst, 4, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        /* An alternating iteration is two passes (g, then f); the first
         * target step measures the error with one more. */
        const double per_pass = 1.0 / passes, per_iter = 2.0 * per_pass;
        printf("{\"ranks\": %d, \"points_per_rank\": %zu, \"n\": %zu, \"d\": %zu, "
               "\"iterations\": %d, \"passes\": %.0f, \"status\": \"%s\", "
               "\"wall_s_per_iter\": %.6g, \"compute_s_per_iter\": %.6g, "
               "\"wait_s_per_iter\": %.6g, \"bytes_sent_per_iter\": %.6g, "
               "\"cost_entries_per_iter\": %.6g, \"entries_per_s_per_rank\": %.6g}\n",
               size, N, N * (size_t)size, d, res.iterations, passes,
               otk_status_name(st), wall * per_pass * 2.0, worst[0] * per_iter,
               worst[1] * per_iter, worst[2] * per_iter, worst[3] * per_iter,
               worst[3] / worst[0]);
    }
    otk_mpi_sinkhorn_free(solver);
    free(x);
    free(y);
    MPI_Finalize();
    return 0;
}
