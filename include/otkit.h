/*
 * otkit.h — umbrella header for otkit, numerical optimal transport in C.
 *
 *   otkit/version.h   OTK_VERSION_MAJOR/MINOR/PATCH (compile-time version)
 *   otkit/status.h    status codes, error messages, run-time version
 *   otkit/names.h     the name table of every enum (otk_<enum>_name / _from_name)
 *   otkit/cost.h      the cost abstraction (dense, point clouds, callback)
 *                     and the cost operations (soft-min, plan reductions)
 *   otkit/grid.h      regular-grid costs (separable log-domain or FFT soft-min)
 *   otkit/mesh.h      triangle meshes and graphs, the heat-kernel cost
 *   otkit/sparse.h    costs given on a sparsity pattern
 *   otkit/sinkhorn.h  log-domain Sinkhorn (balanced/unbalanced, ε-scaling)
 *   otkit/divergence.h  the debiased Sinkhorn divergence and its gradients
 *   otkit/barycenter.h  convolutional Wasserstein barycenters (grids, meshes)
 *   otkit/monge_gap.h the empirical Monge gap and its gradients
 *   otkit/entropic_map.h  the entropic (barycentric) transport map estimator
 *   otkit/distill.h   SinKD and the KD losses (distillation)
 *   otkit/mapfit.h    fitting transport maps (affine, residual MLP, entropic)
 *   otkit/fdiv.h      f-divergences (KL, JS, χ², α, ...), PSI and information value
 *   otkit/batch.h     batches of independent Sinkhorn problems and divergences
 *   otkit/emd.h       exact optimal transport (network simplex)
 *   otkit/sliced.h    1-D and sliced Wasserstein distances and their gradients
 *   otkit/mpi.h       distributed Sinkhorn and divergences over MPI ranks: a
 *                     separate library (libotkit_mpi, `configure --with-mpi`),
 *                     not included here
 *
 * STABILITY: each header says whether its API is stable (status, version,
 * costs, Sinkhorn, divergence, exact OT) or experimental (map fitting,
 * distillation, f-divergences, sliced OT, the Monge gap, the entropic map,
 * barycenters, the cost operations, batches): see docs/design.md,
 * "Stability".  The mathematics is in docs/math.md.
 *
 * Link with `pkg-config --libs otkit`.
 */
#ifndef OTKIT_H
#define OTKIT_H

#include "otkit/version.h"
#include "otkit/status.h"
#include "otkit/names.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"
#include "otkit/divergence.h"
#include "otkit/batch.h"
#include "otkit/distill.h"
#include "otkit/monge_gap.h"
#include "otkit/entropic_map.h"
#include "otkit/grid.h"
#include "otkit/barycenter.h"
#include "otkit/mesh.h"
#include "otkit/sparse.h"
#include "otkit/mapfit.h"
#include "otkit/fdiv.h"
#include "otkit/emd.h"
#include "otkit/sliced.h"

#endif /* OTKIT_H */
