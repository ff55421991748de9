/* What libotkit_mpi's solvers share: the resolved ε-schedule and the
 * parameter checks, both defined by the serial library (otkit/sinkhorn.h). */
#ifndef OTKIT_MPI_SOLVE_COMMON_H
#define OTKIT_MPI_SOLVE_COMMON_H

#include "ring.h"
#include "../core/guard.h" /* the annealing guard, shared with the serial driver */

/* The fields every Sinkhorn-type parameter block shares. */
typedef struct {
    double eps, blur;
    otk_schedule schedule;
    otk_update update;
    double scaling, diameter, p;
    otk_ground ground;
    double power;
} otk_mpi__common;

typedef struct {
    double eps, blur, p, diameter;
    otk_update update; /* AUTO resolved */
    double *list;      /* the ε-list, its last entry the target ε */
    int len;
} otk_mpi__schedule;

/* Resolve ε, p, the update and the ε-list as the serial solvers do, with the
 * diameter of all points of all ranks (collective). */
otk_status otk_mpi__schedule_build(otk_mpi__ring *R, const otk_mpi__common *c,
                                   otk_mpi__schedule *out);

/* Validate parameters with the serial library itself (on a one-point problem),
 * so that the checks and messages are the serial ones (local). */
otk_status otk_mpi__check_params_sinkhorn(int rank, size_t d, otk_ground ground, double power,
                                          const otk_sinkhorn_params *par);
otk_status otk_mpi__check_params_divergence(int rank, size_t d, otk_ground ground, double power,
                                            const otk_divergence_params *par);

/* Collective: OTK_EPARAM, the same on every rank, when the k values differ
 * between ranks (the first differing one named); the parameters of a
 * collective call must be the same everywhere. */
otk_status otk_mpi__same_everywhere(MPI_Comm comm, const double *values,
                                    const char *const *names, int k);

/* The parameters as values and names for otk_mpi__same_everywhere (at most
 * OTK_MPI_MAX_PARAMS). */
#define OTK_MPI_MAX_PARAMS 16
int otk_mpi__sinkhorn_param_values(const otk_sinkhorn_params *par, otk_ground ground,
                                   double power, double *values, const char **names);
int otk_mpi__divergence_param_values(const otk_divergence_params *par, otk_ground ground,
                                     double power, double *values, const char **names);

/* Σ_i w_i |exp((pot_i − soft_i)/ε) − target_i| over this rank's atoms (the
 * numerator of one side of the marginal error, otkit/sinkhorn.h). */
double otk_mpi__side_error(const double *w, const double *pot, const double *soft, size_t n,
                           double eps, double rho);

#endif
