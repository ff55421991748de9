/* The distributed machinery shared by libotkit_mpi's solvers: collective
 * errors, the ring of point blocks, fixed-order global sums (docs/mpi.md).
 * libotkit_mpi uses only libotkit's public API. */
#ifndef OTKIT_MPI_RING_H
#define OTKIT_MPI_RING_H

#include <stddef.h>
#include "otkit/mpi.h"
#include "../core/damping.h" /* otk__kappa, otk__last_step_scaling */

/* Record a message for otk_mpi_last_error (printf-style) and return st. */
otk_status otk_mpi__fail(otk_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Record the serial library's last message, prefixed with "rank R: ". */
otk_status otk_mpi__fail_serial(otk_status st, int rank, const char *what);

/* Every rank adopts the status and message of the lowest rank whose `st` is
 * an error (< 0); returns `st` unchanged on every rank when none is.  A
 * failing MPI call is OTK_EIO. */
otk_status otk_mpi__agree(MPI_Comm comm, otk_status st);

/* The blocks of the two clouds over the ranks. */
typedef struct {
    MPI_Comm comm; /* the library's duplicate, MPI_ERRORS_RETURN */
    int rank, size;
    size_t d;
    otk_ground ground;
    double power;
    int threads;
    size_t *n_of, *m_of; /* block sizes of every rank */
    size_t n, m;         /* global sizes */
    size_t n_local, m_local;
    double *x, *y;     /* this rank's coordinates, row-major */
    double *buf[2];    /* the visiting block and the one in flight */
    size_t buf_len;    /* doubles per buffer */
    int max_slots;     /* potentials per side a packet may carry */
    double *gather;    /* size·OTK_MPI_MAX_SUMS doubles for global sums */
    double *work;      /* the tasks' accumulators and partial results */
    otk_mpi_stats stats;
} otk_mpi__ring;

#define OTK_MPI_MAX_SUMS 8

/* Duplicate `comm`, validate the local blocks and set up the ring
 * (collective; the status is agreed).  `max_slots`: potentials per side
 * that a pass may send.  On failure the ring is left freed. */
otk_status otk_mpi__ring_init(otk_mpi__ring *R, MPI_Comm comm, size_t n_local, size_t m_local,
                              size_t d, const double *x, const double *y, otk_ground ground,
                              double power, int threads, int max_slots);
void otk_mpi__ring_free(otk_mpi__ring *R);

/* The bounding-box diagonal of all points of all ranks, as otk_cost_diameter
 * computes it for one point cloud (collective). */
otk_status otk_mpi__ring_diameter(otk_mpi__ring *R, double *diameter);

enum { OTK_MPI_SIDE_X = 0, OTK_MPI_SIDE_Y = 1 };

/* One reduction of this rank's points (side `own`) against every block of
 * side `vis`, block by block along the ring:
 *   softmin (plan = 0): out_i = −ε log Σ_j exp(h_j − c(own_i, vis_j)/ε), h the
 *     visiting side's slot `slot`; the blocks' partial soft-mins are combined
 *     as (max, sum) pairs in ring order;
 *   plan reduction (plan = 1): out (own × k) = Σ_blocks otk_cost_plan_reduce
 *     axis 0 with u (own side, this rank) and v the visiting slot, in ring
 *     order. */
typedef struct {
    int own, vis, slot, plan;
    otk_reduce what;
    size_t k;
    const double *u;
    double *out;
} otk_mpi__task;

#define OTK_MPI_MAX_TASKS 4

/* Run up to OTK_MPI_MAX_TASKS tasks in one ring pass at `eps`.  hx: nhx slots
 * of n_local values (this rank's x side), hy: nhy slots of m_local values
 * (nhx, nhy <= max_slots).  Returns the agreed status. */
otk_status otk_mpi__ring_pass(otk_mpi__ring *R, double eps, const otk_mpi__task *tasks, int nt,
                              const double *hx, int nhx, const double *hy, int nhy);

/* out[q] = Σ_ranks partial[q] for q < k (k <= OTK_MPI_MAX_SUMS), added in rank
 * order on every rank, so the same bits everywhere.  Collective. */
otk_status otk_mpi__global_sums(otk_mpi__ring *R, const double *partial, int k, double *out);

/* Collective weight checks: finite, >= 0, global sum > 0 and finite; NULL on
 * every rank = uniform 1/(global len).  Fills w (len_local) and log w, and
 * the global mass.  `name` is "a" (x side) or "b" (y side). */
otk_status otk_mpi__set_weights(otk_mpi__ring *R, const char *name, const double *w_in,
                                size_t len_local, size_t len_global, double *w, double *log_w,
                                double *mass);

/* Collective: 1 when every entry of the given local arrays is finite on every rank. */
otk_status otk_mpi__all_finite(otk_mpi__ring *R, int *finite, const double *u, size_t nu,
                               const double *v, size_t nv);

#endif /* OTKIT_MPI_RING_H */
