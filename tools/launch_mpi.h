/*
 * launch_mpi.h — `otk sinkhorn --mpi` (launch_mpi.c): the distributed solve of
 * libotkit_mpi (otkit/mpi.h) behind the sinkhorn command's own options.
 */
#ifndef OTK_TOOLS_LAUNCH_MPI_H
#define OTK_TOOLS_LAUNCH_MPI_H

#include <otkit.h>

/* What `otk sinkhorn` parsed and checked, for the MPI launch mode. */
typedef struct {
    const char *x_path, *y_path;    /* .npy point files */
    const char *a_path, *b_path;    /* .npy weight files, or NULL (uniform) */
    const char *potentials_path;    /* CSV written by rank 0, or NULL */
    otk_ground ground;
    double power;                   /* NAN unless --power */
    const otk_sinkhorn_params *params;
} cli_mpi_request;

/* Initialise MPI, read this rank's share of the files, solve across the
 * ranks, print the JSON on rank 0, finalise MPI.  Returns the exit status
 * (the same on every rank).  Without MPI (otk built without --with-mpi) it
 * says so and returns CLI_EXIT_BAD_INPUT. */
int cli_sinkhorn_mpi(const cli_mpi_request *req);

#endif
