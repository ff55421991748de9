/* Distributed batches of independent Sinkhorn problems (otkit/mpi.h): a
 * manager rank hands out one problem index at a time to whichever worker
 * asks, each problem is solved by the serial library alone, and the results
 * come back in input order. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"
#include "solve_common.h"

enum { TAG_WORK = 31, TAG_INDEX = 32 };

/* A result as doubles: [index, the result's fields, the rank]. */
enum { PACKED = 14 };

static void pack(double index, const otk_sinkhorn_result *r, int rank, double *p)
{
    p[0] = index;
    p[1] = r->ot_kl;
    p[2] = r->ot_ent;
    p[3] = r->ot_lin;
    p[4] = r->eps;
    p[5] = r->rho_a;
    p[6] = r->rho_b;
    p[7] = r->mass_a;
    p[8] = r->mass_b;
    p[9] = r->marginal_error;
    p[10] = r->iterations;
    p[11] = r->annealing_iterations;
    p[12] = r->status;
    p[13] = rank;
}

static void unpack(const double *p, otk_sinkhorn_result *r, int *rank)
{
    r->ot_kl = p[1];
    r->ot_ent = p[2];
    r->ot_lin = p[3];
    r->eps = p[4];
    r->rho_a = p[5];
    r->rho_b = p[6];
    r->mass_a = p[7];
    r->mass_b = p[8];
    r->marginal_error = p[9];
    r->iterations = (int)p[10];
    r->annealing_iterations = (int)p[11];
    r->status = (otk_status)(int)p[12];
    *rank = (int)p[13];
}

/* One problem with the serial library; failures become the result's status. */
static void solve_one(size_t index, otk_mpi_problem_fn fn, void *ctx,
                      const otk_sinkhorn_params *par, otk_sinkhorn_result *res)
{
    memset(res, 0, sizeof *res);
    res->ot_kl = res->ot_ent = res->ot_lin = res->eps = NAN;
    res->scale_cost = 1.0;
    res->rho_a = res->rho_b = res->mass_a = res->mass_b = res->marginal_error = NAN;
    otk_mpi_problem prob;
    memset(&prob, 0, sizeof prob);
    otk_cost *cost = NULL;
    otk_sinkhorn *s = NULL;
    otk_status st = fn(index, &prob, ctx);
    if (st >= 0)
        st = otk_cost_points(&cost, prob.n, prob.m, prob.d, prob.x, prob.y, prob.ground,
                             prob.power);
    if (st >= 0)
        st = otk_sinkhorn_alloc(&s, cost, par);
    if (st >= 0) {
        st = otk_sinkhorn_solve(s, prob.a, prob.b, res);
        if (st >= 0)
            st = res->status;
    }
    res->status = st < 0 ? st : res->status;
    otk_sinkhorn_free(s);
    otk_cost_free(cost);
}

static otk_status mpi_call(int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return OTK_SUCCESS;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return otk_mpi__fail(OTK_EIO, "%s failed: %s", what, text);
}

otk_status otk_mpi_sinkhorn_batch(MPI_Comm comm, size_t count, otk_mpi_problem_fn fn, void *ctx,
                                  const otk_sinkhorn_params *params, otk_sinkhorn_result *results,
                                  int *solved_by)
{
    otk_sinkhorn_params par;
    if (params)
        par = *params;
    else
        otk_sinkhorn_params_default(&par);
    /* Its context is the caller's rank's: not for the other ranks' solves. */
    par.progress = NULL;
    if (comm == MPI_COMM_NULL)
        return otk_mpi__fail(OTK_ENULL, "the communicator is MPI_COMM_NULL");
    MPI_Comm c;
    otk_status st = mpi_call(MPI_Comm_dup(comm, &c), "MPI_Comm_dup");
    if (st)
        return st;
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    int rank, P;
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &P);
    double *packed = NULL;
    if (!fn || (!results && count > 0))
        st = otk_mpi__fail(OTK_ENULL, "rank %d: otk_mpi_sinkhorn_batch: %s is NULL", rank,
                           !fn ? "fn" : "results");
    else if (count > (size_t)1 << 40)
        st = otk_mpi__fail(OTK_ESIZE, "rank %d: count = %zu is too large", rank, count);
    else if (!(st = otk_mpi__check_params_sinkhorn(rank, 1, OTK_GROUND_SQEUCLIDEAN, 0.0, &par)) &&
             !(packed = malloc((count + 1) * PACKED * sizeof *packed)))
        st = otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory for %zu results", rank, count);
    double values[OTK_MPI_MAX_PARAMS];
    const char *names[OTK_MPI_MAX_PARAMS];
    const int k = otk_mpi__sinkhorn_param_values(&par, OTK_GROUND_SQEUCLIDEAN, 0.0, values, names);
    values[k] = (double)count;
    names[k] = "count";
    if ((st = otk_mpi__agree(c, st)) || (st = otk_mpi__same_everywhere(c, values, names, k + 1)))
        goto done;

    otk_sinkhorn_result res;
    double msg[PACKED];
    if (P == 1) {
        for (size_t i = 0; i < count; i++) {
            solve_one(i, fn, ctx, &par, &res);
            pack((double)i, &res, 0, packed + i * PACKED);
        }
    } else if (rank == 0) {
        /* The manager: every message from a worker is a request for work,
         * carrying the result of its previous problem (index −1: none). */
        size_t next = 0;
        int working = P - 1;
        while (working > 0 && !st) {
            MPI_Status status;
            st = mpi_call(MPI_Recv(msg, PACKED, MPI_DOUBLE, MPI_ANY_SOURCE, TAG_WORK, c, &status),
                          "MPI_Recv");
            if (st)
                break;
            if (msg[0] >= 0.0)
                memcpy(packed + (size_t)msg[0] * PACKED, msg, sizeof msg);
            double index = next < count ? (double)next++ : -1.0;
            if (index < 0.0)
                working--;
            st = mpi_call(MPI_Send(&index, 1, MPI_DOUBLE, status.MPI_SOURCE, TAG_INDEX, c),
                          "MPI_Send");
        }
    } else {
        msg[0] = -1.0;
        for (;;) {
            double index;
            if ((st = mpi_call(MPI_Send(msg, PACKED, MPI_DOUBLE, 0, TAG_WORK, c), "MPI_Send")) ||
                (st = mpi_call(MPI_Recv(&index, 1, MPI_DOUBLE, 0, TAG_INDEX, c, MPI_STATUS_IGNORE),
                               "MPI_Recv")))
                break;
            if (index < 0.0)
                break;
            solve_one((size_t)index, fn, ctx, &par, &res);
            pack(index, &res, rank, msg);
        }
    }
    if ((st = otk_mpi__agree(c, st)))
        goto done;
    /* Everyone gets the results, in input order. */
    if (count > 0) {
        for (size_t off = 0; off < count * PACKED && !st; off += (size_t)1 << 28) {
            size_t len = count * PACKED - off < (size_t)1 << 28 ? count * PACKED - off
                                                                : (size_t)1 << 28;
            st = mpi_call(MPI_Bcast(packed + off, (int)len, MPI_DOUBLE, 0, c), "MPI_Bcast");
        }
        if ((st = otk_mpi__agree(c, st)))
            goto done;
        for (size_t i = 0; i < count; i++) {
            int by;
            unpack(packed + i * PACKED, &results[i], &by);
            if (solved_by)
                solved_by[i] = by;
        }
    }
done:
    free(packed);
    MPI_Comm_free(&c);
    return st;
}
