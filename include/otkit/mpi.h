/*
 * otkit/mpi.h — distributed Sinkhorn, Sinkhorn divergences and batches over
 * MPI (libotkit_mpi, built by `./configure --with-mpi`; link with
 * -lotkit_mpi -lotkit and your MPI).
 *
 * STABILITY: experimental (new in this release): the functions, parameters
 * and results here may still change in a minor version; the values they
 * compute are those of the stable serial API (sinkhorn.h, divergence.h).
 *
 * One large problem across ranks.  Every rank of the communicator holds a
 * block of the source points (n_r points x_r) and a block of the target
 * points (m_r points y_r), with their weights; the global clouds are the
 * concatenations in rank order (rank 0's block first), n = Σ n_r, m = Σ m_r.
 * A block may be empty on some ranks (n_r = 0 or m_r = 0), not globally.
 * Each rank owns the potentials of its own points (f on x_r, g on y_r) and
 * receives the gradients w.r.t. its own points; no rank ever holds the plan,
 * nor the other ranks' points beyond the block visiting it (and the one in
 * flight).
 *
 * Algorithm (docs/mpi.md).  The soft-min of rank r's rows against all the
 * columns, smin^b(g)_i = −ε log Σ_j b_j exp((g_j − C_ij)/ε), is computed by a
 * ring: the P blocks (coordinates and the log-weights-plus-potentials
 * h = log w + pot/ε) travel around the ranks, and each rank reduces its own
 * points against the visiting block with the serial library's point-cloud
 * kernels (otk_cost_softmin, otk_cost_plan_reduce).  The per-block partial
 * soft-mins are combined as (max, sum) pairs, max first: stable, and in a
 * fixed order (the ring order, which depends only on the rank and the rank
 * count).  So results are bitwise reproducible for a given rank count and
 * thread count, and differ between rank counts, and from the serial
 * library, only by rounding (the tests check 1e-12 relative).  Sums over all
 * points (masses, marginal errors, values) are reduced as one partial sum per
 * rank, added in rank order.
 *
 * The iterations are those of the serial solvers, which the tests check
 * count for count: the ε-schedule (otk_epsilon_schedule, diameter = the
 * bounding-box diagonal of all points as in otk_cost_diameter), GeomLoss's
 * initialisation and final extrapolation, the symmetric and alternating
 * updates, balanced and unbalanced (ρ) sides, the best-iterate rule on
 * OTK_NOT_CONVERGED, and the global marginal error.
 *
 * Costs: the named point-cloud ground costs of otkit/cost.h (all of them are
 * symmetric, c(x, y) = c(y, x), which the column pass relies on).
 *
 * Errors are collective.  Every function here is collective over the
 * communicator (call it on every rank, with the same parameters).  When the
 * input of any rank is invalid (a negative weight, a non-finite coordinate,
 * mismatched dimensions, an unbalanced mass ...), every rank returns the same
 * status, and otk_mpi_last_error() gives every rank the same message, which
 * names the rank and the local index (e.g. "rank 2: b[5] = -1 is negative").
 * The library never aborts the job and never leaves a rank waiting: all ranks
 * agree on the status before and after each collective phase.  A failure of
 * MPI itself (the library sets MPI_ERRORS_RETURN on its own duplicate of the
 * communicator) is reported as OTK_EIO with MPI's error string.
 *
 * OWNERSHIP: the coordinates and weights are copied; the objects own their
 * workspace; potentials and gradients are returned in caller-owned arrays
 * (n_r, m_r, n_r·d, m_r·d entries) or as read-only views.
 *
 * THREAD SAFETY: one object per thread and per communicator; MPI must be
 * initialised (MPI_THREAD_FUNNELED is enough: the library calls MPI from the
 * calling thread only).  params.threads OpenMP threads run the kernels inside
 * each rank.
 */
#ifndef OTKIT_MPI_H
#define OTKIT_MPI_H

#include <stddef.h>
#include <mpi.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"
#include "otkit/divergence.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The message of the last failing otk_mpi_* call in this thread (the same on
 * every rank for a collective error), "" when none.  Messages of the serial
 * library's own calls stay in otk_last_error(). */
OTK_EXPORT const char *otk_mpi_last_error(void);

/* Measured traffic and work of one object, summed over its calls since alloc
 * (this rank's share): for benchmarks and capacity planning. */
typedef struct {
    long long passes;        /* ring passes run (one pass = the P blocks, P−1 messages) */
    long long bytes_sent;    /* bytes this rank sent (ring messages and collectives' payloads) */
    long long messages;      /* point-to-point messages this rank sent */
    long long cost_entries;  /* c(x_i, y_j) evaluations by this rank's kernels */
    double compute_seconds;  /* wall time inside the kernels */
    double wait_seconds;     /* wall time waiting for messages and collectives */
} otk_mpi_stats;

/* ------------------------------------------------------------ Sinkhorn */

typedef struct otk_mpi_sinkhorn otk_mpi_sinkhorn;

/* Plan a distributed Sinkhorn solver between point clouds (collective).
 *   out        output: the solver (NULL on failure, on every rank).
 *   comm       input: the communicator (duplicated; the caller keeps its own).
 *   n_local    input: this rank's source points n_r (may be 0 on some ranks).
 *   m_local    input: this rank's target points m_r (may be 0 on some ranks).
 *   d          input: dimension, > 0, the same on every rank.
 *   x_local    input: n_r×d row-major (may be NULL when n_r = 0), finite; copied.
 *   y_local    input: m_r×d row-major, finite; copied.
 *   ground, power  input: the ground cost (otkit/cost.h), the same everywhere.
 *   params     input: as otk_sinkhorn_params (NULL = defaults), the same on
 *              every rank; `diameter` 0 means the bounding-box diagonal of all
 *              points of all ranks.
 * Errors (collective): OTK_ENULL, OTK_ESIZE (d = 0 or differing, n or m zero
 * globally), OTK_ENONFINITE (naming the rank and the point), OTK_EPARAM (the
 * serial library's checks, or a parameter that differs between ranks; the
 * thread count may differ), OTK_ENOMEM, OTK_EIO (MPI failed). */
OTK_EXPORT otk_status otk_mpi_sinkhorn_alloc(otk_mpi_sinkhorn **out, MPI_Comm comm,
                                             size_t n_local, size_t m_local, size_t d,
                                             const double *x_local, const double *y_local,
                                             otk_ground ground, double power,
                                             const otk_sinkhorn_params *params);

/* Free a solver (local, not collective); NULL is accepted. */
OTK_EXPORT void otk_mpi_sinkhorn_free(otk_mpi_sinkhorn *s);

/* Solve with this rank's weights a_local (n_r) and b_local (m_r), copied; NULL
 * means uniform weights 1/n (resp. 1/m) with the global n, m — pass NULL on
 * every rank or on none.  Runs the whole schedule (otkit/sinkhorn.h) and fills
 * `res` (may be NULL) with the same global values on every rank.  Returns
 * OTK_SUCCESS or OTK_NOT_CONVERGED (the best iterate is kept, as the serial
 * solver), or an error (collective): OTK_ENONFINITE, OTK_ENEGATIVE,
 * OTK_EZEROMASS (naming the rank and index where they apply), OTK_EMASS,
 * OTK_ENUMERIC, OTK_ENULL, OTK_ENOMEM, OTK_EIO. */
OTK_EXPORT otk_status otk_mpi_sinkhorn_solve(otk_mpi_sinkhorn *s, const double *a_local,
                                             const double *b_local, otk_sinkhorn_result *res);

/* This rank's potentials (GeomLoss gauge): f on its n_r source points, g on
 * its m_r target points.  Read-only views, valid until the next solve/free;
 * NULL for a NULL solver. */
OTK_EXPORT const double *otk_mpi_sinkhorn_potential_f(const otk_mpi_sinkhorn *s);
OTK_EXPORT const double *otk_mpi_sinkhorn_potential_g(const otk_mpi_sinkhorn *s);

/* This rank's traffic and work so far (local).  Errors: OTK_ENULL. */
OTK_EXPORT otk_status otk_mpi_sinkhorn_stats(const otk_mpi_sinkhorn *s, otk_mpi_stats *stats);

/* ------------------------------------------------------------ divergence */

typedef struct otk_mpi_divergence otk_mpi_divergence;

/* Plan a distributed Sinkhorn divergence S_ε between point clouds (collective);
 * the definition, value and gradients are those of otkit/divergence.h (the four
 * potentials f_ba, g_ab, f_aa, g_bb on one ε-schedule).  Arguments as
 * otk_mpi_sinkhorn_alloc; params as otk_divergence_params (cache_bytes is
 * ignored: the blocks change in every ring step).  Errors as there. */
OTK_EXPORT otk_status otk_mpi_divergence_alloc(otk_mpi_divergence **out, MPI_Comm comm,
                                               size_t n_local, size_t m_local, size_t d,
                                               const double *x_local, const double *y_local,
                                               otk_ground ground, double power,
                                               const otk_divergence_params *params);

/* Free (local); NULL is accepted. */
OTK_EXPORT void otk_mpi_divergence_free(otk_mpi_divergence *div);

/* Solve with this rank's weights (NULL on every rank = uniform); `res` gets the
 * global result on every rank.  Returns and errors as otk_mpi_sinkhorn_solve;
 * on OTK_NOT_CONVERGED the potentials, value and gradients are those of the
 * best iterate, as in otk_divergence_solve. */
OTK_EXPORT otk_status otk_mpi_divergence_solve(otk_mpi_divergence *div, const double *a_local,
                                               const double *b_local,
                                               otk_divergence_result *res);

/* Gradients of S_ε for this rank's own points and weights, those of the
 * serial object (otkit/divergence.h) to rounding: the envelope-theorem
 * gradients after the converge schedule; after the fixed schedule
 * GeomLoss's, the derivative of the value through the final extrapolation
 * step at the potentials it started from (docs/math.md B.3), whose balanced
 * weight gradients are not projected.  grad_x n_r×d, grad_y m_r×d, grad_a
 * n_r, grad_b m_r (caller-owned; may be NULL when the block is empty).
 * grad_x and grad_y are collective (one ring pass each); grad_a and grad_b
 * are collective too (the balanced converge case subtracts the global
 * mean; every rank must call them).  Errors: OTK_ENULL, OTK_ESTATE (no
 * successful solve), OTK_EIO. */
OTK_EXPORT otk_status otk_mpi_divergence_grad_x(otk_mpi_divergence *div, double *grad_x);
OTK_EXPORT otk_status otk_mpi_divergence_grad_y(otk_mpi_divergence *div, double *grad_y);
OTK_EXPORT otk_status otk_mpi_divergence_grad_a(otk_mpi_divergence *div, double *grad_a);
OTK_EXPORT otk_status otk_mpi_divergence_grad_b(otk_mpi_divergence *div, double *grad_b);

/* This rank's traffic and work so far (local).  Errors: OTK_ENULL. */
OTK_EXPORT otk_status otk_mpi_divergence_stats(const otk_mpi_divergence *div,
                                               otk_mpi_stats *stats);

/* ------------------------------------------------------------ batches */

/* One problem of a batch: point clouds and weights (NULL = uniform), owned by
 * the caller's callback and valid until the callback is called again on that
 * rank or the batch returns. */
typedef struct {
    size_t n, m, d;
    const double *x, *y; /* n×d and m×d row-major */
    const double *a, *b; /* n and m weights, or NULL */
    otk_ground ground;
    double power;
} otk_mpi_problem;

/* Fill `problem` with problem `index` (0 <= index < count).  Called on the
 * rank that solves it, any number of times per rank; it must be able to
 * produce any index on any rank (e.g. read it from a shared file or generate
 * it).  A negative return marks that problem as failed with that status. */
typedef otk_status (*otk_mpi_problem_fn)(size_t index, otk_mpi_problem *problem, void *ctx);

/* Solve `count` independent Sinkhorn problems with the serial solver, spread
 * over the ranks with dynamic load balancing: with P > 1 ranks, rank 0 is a
 * manager that hands out the next index to whichever worker asks (one index
 * per message, so a slow problem does not hold up the others); with P = 1 the
 * only rank solves them all in order.
 *   results  output: `count` results in input order, on every rank.  Each
 *            result's `status` is that problem's outcome: OTK_SUCCESS,
 *            OTK_NOT_CONVERGED, or the error of its callback or solver (the
 *            other fields are then NAN / 0).
 *   solved_by  output (may be NULL): `count` ints, the rank that solved each.
 * The results do not depend on the rank count nor on which rank solved which
 * problem: each problem is solved by the serial library alone.
 * Returns OTK_SUCCESS when the batch ran (look at each result's status), or a
 * collective error: OTK_ENULL, OTK_EPARAM (params), OTK_ENOMEM, OTK_EIO. */
OTK_EXPORT otk_status otk_mpi_sinkhorn_batch(MPI_Comm comm, size_t count, otk_mpi_problem_fn fn,
                                             void *ctx, const otk_sinkhorn_params *params,
                                             otk_sinkhorn_result *results, int *solved_by);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_MPI_H */
