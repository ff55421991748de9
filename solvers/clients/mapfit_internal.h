/* What the map-fitting sources share (solvers/clients/mapfit_*.c): the map
 * itself and its forward and backward passes (GSL's error handler is switched
 * by otk__gsl_never_abort, solvers/internal.h).  Not installed; not part of the API. */
#ifndef OTKIT_MAPFIT_INTERNAL_H
#define OTKIT_MAPFIT_INTERNAL_H

#include <stddef.h>
#include "otkit/mapfit.h"

struct otk_map {
    otk_map_family family;
    size_t d;
    /* MLP: K hidden layers; width[0] = width[K+1] = d, width[k] = h_k. */
    otk_activation activation;
    size_t K;
    size_t width[OTK_MAP_MAX_HIDDEN + 2];
    /* Offsets into theta of W_k and c_k, k = 1..K+1 (index k−1). */
    size_t w_off[OTK_MAP_MAX_HIDDEN + 1], c_off[OTK_MAP_MAX_HIDDEN + 1];
    size_t n_params;
    double *theta;
    otk_entropic_map *entropic; /* OTK_MAP_FAMILY_ENTROPIC only */
};

/* A zeroed map of the family and dimension, or NULL (no message). */
otk_map *otk__map_new(otk_map_family family, size_t d);

/* The parameter count of an MLP map (d inputs and outputs, n_hidden layers
 * of the given widths), as mlp_layout lays it out; SIZE_MAX when it
 * overflows.  The loader checks a file's "params" line against it before
 * allocating anything. */
size_t otk__mlp_param_count(size_t d, size_t n_hidden, const size_t *widths);

/* Doubles of scratch one point's forward and backward pass needs. */
size_t otk__map_scratch_size(const otk_map *map);

/* T(x) for one point of an affine or MLP map; scratch (otk__map_scratch_size
 * doubles) keeps what the backward pass needs. */
void otk__map_forward_point(const otk_map *map, const double *x, double *tx, double *scratch);

/* grad = Σ_i J_θT(x_i)ᵀ g_i (overwritten), serial in i so that the sum is
 * bitwise reproducible. */
void otk__map_backprop(const otk_map *map, size_t n, const double *x, const double *g,
                       double *grad, double *scratch);

/* n > 0 points of dimension d, every coordinate finite; the message names
 * the point ("x[3][1]"). */
otk_status otk__map_check_points(const char *what, const double *p, size_t n, size_t d);

#endif /* OTKIT_MAPFIT_INTERNAL_H */
