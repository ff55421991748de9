/*
 * otkit.h — umbrella header for otkit, numerical optimal transport in C.
 *
 *   otkit/status.h    status codes, error messages, version
 *   otkit/names.h     the name table of every enum (otk_<enum>_name / _from_name)
 *   otkit/cost.h      the cost abstraction (dense, point clouds, callback)
 *   otkit/sinkhorn.h  log-domain Sinkhorn (balanced/unbalanced, ε-scaling)
 *   otkit/divergence.h  the debiased Sinkhorn divergence and its gradients
 *   otkit/distill.h   SinKD and the KL / reverse-KL / JS distillation losses
 *   otkit/monge_gap.h the empirical Monge gap and its gradients
 *   otkit/entropic_map.h  the entropic (barycentric) transport map estimator
 *   otkit/mapfit.h    fitting transport maps (affine, residual MLP, entropic)
 *
 * Link with `pkg-config --libs otkit`.
 */
#ifndef OTKIT_H
#define OTKIT_H

#include "otkit/status.h"
#include "otkit/names.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"
#include "otkit/divergence.h"
#include "otkit/distill.h"
#include "otkit/monge_gap.h"
#include "otkit/entropic_map.h"
#include "otkit/grid.h"
#include "otkit/barycenter.h"
#include "otkit/mesh.h"
#include "otkit/sparse.h"
#include "otkit/mapfit.h"

#endif /* OTKIT_H */
