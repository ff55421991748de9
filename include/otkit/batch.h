/*
 * otkit/batch.h — batches of independent problems: B Sinkhorn solves or B
 * Sinkhorn divergences (with their gradients) between point clouds in one
 * call, GeomLoss's (B, N, D) tensors, threaded across the problems.
 *
 * STABILITY: experimental (new in this release): the functions and the
 * handling of failed problems may still change in a minor version.
 *
 * Layout.  Problem k (0 <= k < B) has the row-major clouds
 *   x_k = x + k·n·d  (n×d),   y_k = y + k·m·d  (m×d),
 * weights a_k = a + k·n and b_k = b + k·m (a or b NULL: uniform 1/n, 1/m for
 * every problem), and every output is laid out the same way (f + k·n,
 * grad_x + k·n·d, ...).  All problems share n, m, d, the ground cost and the
 * parameters.
 *
 * Each problem is its own single solve: otk_sinkhorn_batch gives for problem
 * k what otk_cost_points + otk_sinkhorn_solve give for (x_k, y_k, a_k, b_k)
 * (otkit/sinkhorn.h), otk_divergence_batch what otk_divergence_alloc_points
 * + otk_divergence_solve and the gradients give (otkit/divergence.h): the
 * same driver, schedule and updates, bitwise the same results on the same
 * machine, whatever params.threads.
 *
 * Unequal sizes: pad with points of zero weight.  Padding is exact: a
 * problem padded with zero-weight points (anywhere, at any coordinates)
 * gives the value, potentials on its real points and gradients of the
 * problem without them, to rounding (1e-12 relative is tested).  Padded
 * points far outside the real ones cost digits: the soft-mins of the squared
 * grounds centre the coordinates on the bounding box of all the points
 * (otkit/cost.h), so pad with coordinates inside the real points' box (zeros
 * for centred data, or copies of a real point).
 * For that, when params.diameter is 0 the diameter that starts the
 * ε-schedule is the bounding-box diagonal of the points with positive weight
 * (a single solve counts every point of its cost, as GeomLoss does), and on
 * the converge schedule the balanced weight gradients (defined up to a
 * constant) of a problem with zero weights are centred on its atoms of
 * positive weight (a single solve centres them on all atoms,
 * otkit/divergence.h; the fixed schedule's are GeomLoss's partials, not
 * centred); both agree with the single solve whenever all weights are
 * positive (docs/math.md B.5).  Likewise a relative ε (params.relative_eps)
 * and scale_cost by a statistic (params.scale_cost_stat), statistics of all
 * the cost's entries (docs/math.md A.10), are computed for a problem with
 * zero weights on the cost of its points with positive weight: each problem
 * gets the ε, ρ and s of its unpadded single solve (res[k].eps,
 * res[k].scale_cost), to rounding.  params.backend and params.truncate
 * apply to each problem as to its single solve; the multiscale backend's
 * clustering sees the padded points, so a padded problem agrees with its
 * unpadded solve to the tolerance of the solves there, not to rounding.
 * At a padded point the
 * potentials are the soft-min extension the driver computes, the point
 * gradients are (to within 1e-300) zero and the weight gradients are the
 * derivative of the value w.r.t. adding mass there.
 *
 * Failures.  The whole input is checked before anything is solved, and any
 * bad input refuses the whole call (nothing is written to the outputs):
 * OTK_ENULL (x, y or res NULL), OTK_ESIZE (B, n, m or d zero, or B·n·d,
 * B·m·d overflowing), OTK_ENONFINITE (a coordinate or weight; the message
 * names the problem and the index, "x[3][17] = nan is not finite" is entry
 * 17 of x_3), OTK_ENEGATIVE, OTK_EZEROMASS ("a[3] sums to zero"), OTK_EMASS
 * (a balanced problem with unequal masses, naming the problem), OTK_EPARAM
 * (naming the field), OTK_ENOMEM.  Then every problem is solved; res[k].status
 * is its status: OTK_SUCCESS, OTK_NOT_CONVERGED (a positive warning, as for a
 * single solve: the best iterate), or an error met while solving it
 * (OTK_ENUMERIC, OTK_ENOMEM; OTK_EPARAM when a statistic of its points of
 * positive weight is 0, as for its single solve: "eps = params.relative_eps
 * x mean(C) = ... is not > 0"), in which case its values are NaN and its
 * outputs are left as they were; the other problems are still solved.  The
 * call returns the status of the lowest-index failed problem (its message,
 * prefixed with "problem k: ", is otk_last_error()), else OTK_CONTINUE when
 * the progress callback stopped the batch (see "Progress"), else
 * OTK_NOT_CONVERGED when any problem stopped at max_iter, else OTK_SUCCESS.
 *
 * Threads.  params.threads (0 = OpenMP's default) threads in all: with B >=
 * 2 the problems are shared among min(threads, B) threads, each solving one
 * problem at a time serially; with B = 1 the problem's soft-mins use all the
 * threads.  Which thread solves a problem does not change its result.
 *
 * Progress.  params.progress (otkit/sinkhorn.h), when set, is called for
 * every problem: after each of its updates that leaves it running (info:
 * the problem's index, its iterations, ε, marginal error and stage, status
 * OTK_CONTINUE), and once when it ends (status: its final status, stage
 * target, the values of res[k]), info.done counting the problems ended so
 * far, that one included.  The calls are serialised (a lock held around
 * each: never two at once, in no fixed order across problems) and come
 * from whichever thread solves the problem, the caller's or an OpenMP
 * worker's: a callback that touches state of the caller's thread (an
 * interpreter, a GUI) must make itself safe there.  A nonzero return stops
 * the batch: the callback is not called again, each running problem stops
 * at its next update (res[k].status OTK_CONTINUE, its values and outputs
 * those of its potentials then, as a stopped single solve), the problems
 * not started are not (status OTK_CONTINUE, iterations 0, values NaN,
 * outputs untouched), the ended ones keep their results, and the call
 * returns OTK_CONTINUE unless a problem failed (its error, as below).
 *
 * OWNERSHIP: the inputs are read during the call only; the outputs are the
 * caller's arrays.  Each problem's workspace (O((n+m)·d)) is allocated and
 * freed inside the call.
 *
 * THREAD SAFETY: the functions are reentrant (they share no state between
 * calls); error messages are thread-local (otk_last_error).  The progress
 * callback: see "Progress". 
 */
#ifndef OTKIT_BATCH_H
#define OTKIT_BATCH_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"
#include "otkit/divergence.h"

#ifdef __cplusplus
extern "C" {
#endif

/* B Sinkhorn problems between point clouds (otkit/sinkhorn.h).
 *   B, n, m, d  input: problems, points per cloud and dimension (all > 0).
 *   x, y        input: B×n×d and B×m×d row-major coordinates, finite.
 *   a, b        input: B×n and B×m weights, or NULL (uniform).
 *   ground, power  the ground cost (otk_cost_points).
 *   params      input: NULL = defaults; params.diameter 0 = per problem,
 *               over the points with positive weight (see above).
 *   res         output: B results (values, iterations, status per problem).
 *   f, g        output, may be NULL: the potentials (GeomLoss gauge), B×n
 *               and B×m.
 * Returns as described under "Failures". */
OTK_EXPORT otk_status otk_sinkhorn_batch(size_t B, size_t n, size_t m, size_t d,
                                         const double *x, const double *y, const double *a,
                                         const double *b, otk_ground ground, double power,
                                         const otk_sinkhorn_params *params,
                                         otk_sinkhorn_result *res, double *f, double *g);

/* The same with float32 coordinates: each problem's cost is
 * otk_cost_points_f32 (float32 soft-mins; otkit/cost.h states the accuracy).
 * Outputs are float64. */
OTK_EXPORT otk_status otk_sinkhorn_batch_f32(size_t B, size_t n, size_t m, size_t d,
                                             const float *x, const float *y, const double *a,
                                             const double *b, otk_ground ground, double power,
                                             const otk_sinkhorn_params *params,
                                             otk_sinkhorn_result *res, double *f, double *g);

/* B Sinkhorn divergences between point clouds (otkit/divergence.h), with
 * their gradients.
 *   B, n, m, d, x, y, a, b, ground, power  as otk_sinkhorn_batch.
 *   params    input: NULL = defaults (params.cache_bytes is per problem).
 *   res       output: B results (res[k].divergence the value).
 *   grad_x, grad_y  output, may be NULL: B×n×d and B×m×d.
 *   grad_a, grad_b  output, may be NULL: B×n and B×m.
 * Returns as described under "Failures". */
OTK_EXPORT otk_status otk_divergence_batch(size_t B, size_t n, size_t m, size_t d,
                                           const double *x, const double *y, const double *a,
                                           const double *b, otk_ground ground, double power,
                                           const otk_divergence_params *params,
                                           otk_divergence_result *res, double *grad_x,
                                           double *grad_y, double *grad_a, double *grad_b);

/* The same with float32 coordinates (otk_divergence_alloc_points_f32);
 * gradients are float64. */
OTK_EXPORT otk_status otk_divergence_batch_f32(size_t B, size_t n, size_t m, size_t d,
                                               const float *x, const float *y, const double *a,
                                               const double *b, otk_ground ground, double power,
                                               const otk_divergence_params *params,
                                               otk_divergence_result *res, double *grad_x,
                                               double *grad_y, double *grad_a, double *grad_b);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_BATCH_H */
