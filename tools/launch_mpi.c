/*
 * `otk sinkhorn --mpi`: the MPI launch mode (cmd_mpi.h).  Under
 * `mpirun -np N otk sinkhorn --mpi X.npy Y.npy ...` every rank reads its own
 * share of rows of each .npy file (a byte range, cli_read_npy_part), the
 * ranks solve together with libotkit_mpi (otkit/mpi.h), and rank 0 prints
 * the JSON report and writes --potentials.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "launch_mpi.h"

#ifndef OTK_HAVE_MPI

int cli_sinkhorn_mpi(const cli_mpi_request *req)
{
    (void)req;
    cli_error("--mpi: this otk was built without MPI; configure otkit with --with-mpi "
              "(Debian: apt-get install libopenmpi-dev openmpi-bin) and run it under mpirun");
    return CLI_EXIT_BAD_INPUT;
}

#else

#include <mpi.h>
#include <otkit/mpi.h>
#include "read.h"
#include "report.h"
#include "write.h"

/* Every rank's `ok` combined: 1 when all are 1. */
static int all_ok(int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

/* This rank's share of a weight file: a column of `total` values split as
 * the points are.  Returns 0 or -1 (reported). */
static int read_weights_share(const char *path, const char *option, size_t total,
                              const char *owner, int rank, int size, cli_matrix *w)
{
    size_t rows = 0;
    if (cli_read_npy_part(path, (size_t)rank, (size_t)size, w, NULL, &rows) < 0)
        return -1;
    if (w->cols != 1 || rows != total) {
        cli_error("%s: %s has %zu rows of %zu columns; with --mpi it must be one column of %zu "
                  "values (%s has %zu points)",
                  option, path, rows, w->cols, total, owner, total);
        cli_matrix_free(w);
        return -1;
    }
    return 0;
}

/* Rank 0 gathers one potential (this rank's `len` values) into `all`. */
static int gather_potential(const double *local, size_t len, double *all, int rank, int size)
{
    int count = (int)len;
    int *counts = NULL, *displs = NULL;
    if (rank == 0) {
        counts = malloc((size_t)size * sizeof *counts);
        displs = malloc((size_t)size * sizeof *displs);
    }
    int ok = rank != 0 || (counts && displs);
    if (!all_ok(ok)) {
        free(counts);
        free(displs);
        return -1;
    }
    MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (int q = 0, at = 0; q < size; at += counts[q], q++)
            displs[q] = at;
    int rc = MPI_Gatherv(local, count, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0,
                         MPI_COMM_WORLD);
    free(counts);
    free(displs);
    return rc == MPI_SUCCESS ? 0 : -1;
}

static int run(const cli_mpi_request *req, int rank, int size)
{
    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix x = {0, 0, NULL}, y = {0, 0, NULL}, a = {0, 0, NULL}, b = {0, 0, NULL};
    cli_output potentials_out = {NULL, NULL, NULL};
    otk_mpi_sinkhorn *solver = NULL;
    double *f_all = NULL, *g_all = NULL;
    size_t n = 0, m = 0;

    /* Each rank reports its own read errors; all stop together. */
    int ok = cli_read_npy_part(req->x_path, (size_t)rank, (size_t)size, &x, NULL, &n) == 0 &&
             cli_read_npy_part(req->y_path, (size_t)rank, (size_t)size, &y, NULL, &m) == 0;
    if (ok && x.cols != y.cols) {
        if (rank == 0)
            cli_error("X has %zu columns but Y has %zu: the points must have the same dimension",
                      x.cols, y.cols);
        ok = 0;
    }
    if (ok && req->a_path)
        ok = read_weights_share(req->a_path, "--a", n, "X", rank, size, &a) == 0;
    if (ok && req->b_path)
        ok = read_weights_share(req->b_path, "--b", m, "Y", rank, size, &b) == 0;
    if (ok && rank == 0 && req->potentials_path)
        ok = cli_output_open(&potentials_out, req->potentials_path) == 0;
    if (!all_ok(ok))
        goto done;

    const double power = isnan(req->power) ? 0.0 : req->power;
    double t0 = MPI_Wtime();
    otk_status st = otk_mpi_sinkhorn_alloc(&solver, MPI_COMM_WORLD, x.rows, y.rows, x.cols,
                                           x.values, y.values, req->ground, power, req->params);
    otk_sinkhorn_result res;
    if (st >= 0)
        st = otk_mpi_sinkhorn_solve(solver, a.values, b.values, &res);
    double seconds = MPI_Wtime() - t0;
    if (st < 0) {
        /* The same status and message on every rank: rank 0 says it. */
        if (rank == 0)
            cli_error("%s", otk_mpi_last_error());
        goto done;
    }
    if (req->potentials_path) {
        ok = rank != 0 || ((f_all = malloc(n * sizeof *f_all)) && (g_all = malloc(m * sizeof *g_all)));
        if (!ok)
            cli_error("--potentials: out of memory for %zu + %zu values", n, m);
        if (!all_ok(ok) ||
            gather_potential(otk_mpi_sinkhorn_potential_f(solver), x.rows, f_all, rank, size) ||
            gather_potential(otk_mpi_sinkhorn_potential_g(solver), y.rows, g_all, rank, size))
            goto done;
        if (rank == 0) {
            char header[96];
            snprintf(header, sizeof header, "f (%zu rows) then g (%zu rows), GeomLoss gauge", n,
                     m);
            cli_write_table(potentials_out.stream, header, f_all, n, 1);
            cli_write_table(potentials_out.stream, NULL, g_all, m, 1);
            ok = cli_output_commit(&potentials_out) == 0;
        }
        if (!all_ok(ok))
            goto done;
    }
    if (rank == 0) {
        const double p = req->params->p > 0.0 ? req->params->p
                                              : otk_ground_exponent(req->ground, power);
        const cli_sinkhorn_report report = {NULL, x.cols, req->power, req->params, &res,
                                            seconds, otk_ground_name(req->ground), p, n, m,
                                            size, 0};
        cli_sinkhorn_print_json(NULL, &report);
        if (st == OTK_NOT_CONVERGED)
            cli_error_not_converged(res.marginal_error, req->params->tol,
                                    req->params->max_iter, res.eps);
    }
    exit_status = st == OTK_NOT_CONVERGED ? CLI_EXIT_NOT_CONVERGED : CLI_EXIT_SOLVED;
done:
    cli_output_discard(&potentials_out);
    otk_mpi_sinkhorn_free(solver);
    cli_matrix_free(&x);
    cli_matrix_free(&y);
    cli_matrix_free(&a);
    cli_matrix_free(&b);
    free(f_all);
    free(g_all);
    return exit_status;
}

int cli_sinkhorn_mpi(const cli_mpi_request *req)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        cli_error("--mpi: MPI_Init failed");
        return CLI_EXIT_BAD_INPUT;
    }
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int exit_status = run(req, rank, size);
    /* Rank 0's JSON must be out before MPI tears the job down. */
    fflush(stdout);
    if (!initialized)
        MPI_Finalize();
    return exit_status;
}

#endif /* OTK_HAVE_MPI */
