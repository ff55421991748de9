/*
 * otkit.h — umbrella header for otkit, numerical optimal transport in C.
 *
 *   otkit/status.h    status codes, error messages, version
 *   otkit/cost.h      the cost abstraction (dense, point clouds, callback)
 *   otkit/sinkhorn.h  log-domain Sinkhorn (balanced/unbalanced, ε-scaling)
 *
 * Link with `pkg-config --libs otkit`.
 */
#ifndef OTKIT_H
#define OTKIT_H

#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"

#endif /* OTKIT_H */
