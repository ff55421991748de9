/*
 * otkit/cost.h — the cost abstraction shared by every otkit solver.
 *
 * STABILITY: stable, except the section marked EXPERIMENTAL below
 * (otk_cost_softmin, otk_cost_plan_reduce, otk_reduce), which may still
 * change in a minor version.
 *
 * A cost describes the n×m matrix C_ij = c(x_i, y_j) between a source measure
 * (n atoms, "rows", index i) and a target measure (m atoms, "columns", index j)
 * without necessarily storing it.  Each kind computes what the solvers need
 * (soft-min reductions, plan reductions) in its own fast way:
 *
 *   otk_cost_dense     a caller-owned row-major matrix (borrowed, not copied);
 *   otk_cost_points    two point clouds and a named ground cost; C is computed
 *                      on the fly in cache-sized tiles and never stored, so the
 *                      memory is O((n+m)·d);
 *   otk_cost_callback  a user function c(i, j, ctx);
 *   otk_cost_grid      a regular 1-, 2- or 3-D grid (otkit/grid.h): separable
 *                      log-domain or FFT soft-mins, never an n×n array;
 *   otk_cost_mesh      the heat kernel of a triangle mesh or a graph
 *                      (otkit/mesh.h), built for one ε, CHOLMOD solves;
 *   otk_cost_sparse    entries on a CSC pattern, +∞ elsewhere (otkit/sparse.h).
 *
 * Costs are in the units of the ground cost.  The entropic regularisation ε of
 * the solvers is in the same units (ε = blur^p for a cost of exponent p, see
 * otk_ground_exponent).
 *
 * OWNERSHIP: a cost owns only what its constructor says it copies; free it with
 * otk_cost_free() after every solver that uses it has been freed.
 *
 * THREAD SAFETY: a constructed cost is read-only and may be shared by several
 * solvers in several threads — except a grid cost, which owns its FFT and
 * pass buffers: one thread at a time (otkit/grid.h).  Constructors and
 * otk_cost_free are reentrant (grid costs: see the FFTW planner note there).
 */
#ifndef OTKIT_COST_H
#define OTKIT_COST_H

#include <stddef.h>
#include "otkit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otk_cost otk_cost;

/* Named ground costs between points x, y in R^d (docs/math.md decision 3).  ‖·‖ is
 * the Euclidean norm.  The "exponent" p is what turns blur into ε = blur^p and
 * reach into ρ = reach^p (GeomLoss's convention). */
#define OTK_GROUND_MAP(X)                                                                    \
    X(OTK_GROUND_SQEUCLIDEAN, 0, "sqeuclidean")           /* ‖x−y‖²    p = 2 (OTT, POT)   */ \
    X(OTK_GROUND_HALF_SQEUCLIDEAN, 1, "half-sqeuclidean") /* ½‖x−y‖²   p = 2 (GeomLoss)   */ \
    X(OTK_GROUND_EUCLIDEAN, 2, "euclidean")               /* ‖x−y‖     p = 1 (GeomLoss)   */ \
    X(OTK_GROUND_L1, 3, "l1")                             /* Σ|x_k−y_k| p = 1 (SinKD)     */ \
    X(OTK_GROUND_LP, 4, "lp")                             /* ‖x−y‖^P   p = P (power arg.) */ \
    X(OTK_GROUND_LP_OVER_P, 5, "lp-over-p")               /* ‖x−y‖^P/P p = P (GeomLoss)   */
typedef enum { OTK_GROUND_MAP(OTK_ENUM_MEMBER_) } otk_ground;

/* The name table (otkit/names.h): the name above ("half-sqeuclidean"), NULL
 * for an invalid value; the parser returns OTK_SUCCESS, OTK_ENULL, or
 * OTK_EPARAM with a message listing the names. */
OTK_EXPORT const char *otk_ground_name(otk_ground ground);
OTK_EXPORT otk_status otk_ground_from_name(const char *name, otk_ground *ground);

/* The exponent p of a ground cost: 2 for the squared costs, 1 for euclidean
 * and l1, `power` for lp and lp-over-p.  Returns 0 for an invalid ground. */
OTK_EXPORT double otk_ground_exponent(otk_ground ground, double power);

/* Point clouds.
 *   out    output: the new cost (NULL on failure).
 *   n, m   input: numbers of source and target points, both > 0.
 *   d      input: dimension, > 0.
 *   x      input: n×d row-major source points (finite).
 *   y      input: m×d row-major target points (finite).
 *   ground input: the ground cost.
 *   power  input: P for OTK_GROUND_LP and OTK_GROUND_LP_OVER_P (P > 0); ignored
 *          otherwise.
 * The coordinates are copied (into a structure-of-arrays layout), so x and y
 * may be freed after the call.  Memory is 8·(n+m)·d bytes, and for the
 * squared grounds 8·(n+m)·(2d+1): their soft-mins use a second, centred copy
 * and the squared norms (the expanded form, docs/math.md A.2).  No n×m array
 * is ever allocated by any operation on this cost unless
 * otk_cost_points_cache asks for one.
 * Errors: OTK_ENULL, OTK_ESIZE (n, m or d zero), OTK_ENONFINITE (x or y),
 * OTK_EPARAM (ground or power), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_cost_points(otk_cost **out, size_t n, size_t m, size_t d,
                                      const double *x, const double *y,
                                      otk_ground ground, double power);

/* Point clouds in single precision: float32 storage and arithmetic.
 * Arguments as otk_cost_points, with x and y row-major float32 arrays.
 * The soft-mins — every Sinkhorn iteration — compute the costs, the
 * exponents h_j − C_ij/ε and the exponentials in float32 (twice the SIMD
 * lanes of float64), folding each tile's partial sum into float64; the plan
 * reductions (values, marginals, gradients, barycentric maps) and
 * otk_cost_entry use the same coordinates widened to float64.
 * ACCURACY: a soft-min is exact to about 1e−7 of the cost scale
 * (|h|·ε + C): the exponents carry float32's 6e−8 relative error.  Values
 * (OT_kl, OT_lin, S_ε) and potentials are then typically within 1e−6
 * relative of the float64 solve on the same (float32) points; a marginal
 * tolerance below about 1e−6 may not be reachable (the solver then reports
 * OTK_NOT_CONVERGED with its best iterate).  Plans, marginals and gradients
 * (exponentials of (f + g − C)/ε) carry about 6e−8·C_max/ε relative error.
 * Potentials, values and gradients are returned in float64.  docs/math.md
 * A.7 lists what runs in float32 and measured errors.
 * Memory: 12·(n+m)·d bytes (both copies).  otk_cost_points_cache keeps a
 * float64 matrix, computed from the widened coordinates (the soft-mins then
 * run in float64).
 * RANGE: the squared distances (l1: the distances) and the costs must fit in
 * float32: points whose bounding box makes them exceed FLT_MAX (3.4e38; for
 * |x−y|², a span above about 1.8e19) are refused.
 * Errors: as otk_cost_points, and OTK_ENUMERIC (costs beyond float32, naming
 * x and y and the span). */
OTK_EXPORT otk_status otk_cost_points_f32(otk_cost **out, size_t n, size_t m, size_t d,
                                          const float *x, const float *y,
                                          otk_ground ground, double power);

/* Replace the coordinates of a cost made by otk_cost_points_f32 with float32
 * ones, as otk_cost_points_set does with float64 ones (which such a cost also
 * accepts, rounding them to float32).
 *   x, y  input: n×d and m×d row-major float32 points, or NULL to keep them.
 * Allocates nothing.  Not thread-safe with respect to solvers using the cost.
 * Errors: OTK_ENULL (cost), OTK_EUNSUPPORTED (not a single-precision cost),
 * OTK_ENONFINITE (naming x or y and the index; the cost is unchanged). */
OTK_EXPORT otk_status otk_cost_points_set_f32(otk_cost *cost, const float *x, const float *y);

/* 1 for a cost made by otk_cost_points_f32, 0 otherwise (and for NULL). */
OTK_EXPORT int otk_cost_single_precision(const otk_cost *cost);

/* Keep the n×m cost matrix of a point-cloud cost in memory (8·n·m bytes)
 * when that fits in max_bytes; otherwise (and for max_bytes = 0) drop any
 * kept matrix and compute entries on the fly again.
 *   cost       input/output: a cost made by otk_cost_points.
 *   max_bytes  input: the most memory the matrix may take.
 * A kept matrix holds bitwise the entries the on-the-fly path computes, so
 * results only change by the order of floating-point sums (last bits).  It is
 * worth it when a cost serves many passes and c is not trivial to evaluate:
 * the soft-min then streams 8 bytes per entry instead of computing d
 * differences.  bench/compare_cache.py measures the trade (Sinkhorn time per
 * iteration, on the fly / kept, n = m = 2048, one thread): 0.61 at d = 2,
 * 0.88 at d = 4, 1.8 at d = 8, 2.7 at d = 16, 8.3 at d = 64 — in low
 * dimension the fused on-the-fly kernel beats reading 8 bytes per entry.
 * Solvers that own their point-cloud costs take a `cache_bytes` budget in
 * their parameters (otkit/divergence.h, otkit/monge_gap.h).
 * Not thread-safe with respect to solvers using the cost: call it before.
 * Returns OTK_SUCCESS (use otk_cost_cache_bytes to see whether the matrix is
 * kept), OTK_ENULL, OTK_EUNSUPPORTED (not a point-cloud cost), OTK_ENOMEM
 * (the cost stays as it was). */
OTK_EXPORT otk_status otk_cost_points_cache(otk_cost *cost, size_t max_bytes);

/* Replace the coordinates of a point-cloud cost, keeping its sizes, ground
 * and any kept matrix (recomputed): for solvers re-run on moving points
 * (training loops, otkit/monge_gap.h, otk_divergence_set_points).
 *   cost  input/output: a cost made by otk_cost_points.
 *   x     input: n×d row-major new source points, or NULL to keep them.
 *   y     input: m×d row-major new target points, or NULL to keep them.
 * The diameter (otk_cost_diameter) is recomputed; a solver using the cost
 * builds its ε-list from the diameter at alloc, so re-aim it with
 * otk_sinkhorn_set_eps after moving the points.  Allocates nothing.
 * Not thread-safe with respect to solvers using the cost: call it between
 * their calls.
 * Errors: OTK_ENULL (cost), OTK_EUNSUPPORTED (not a point-cloud cost),
 * OTK_ENONFINITE (naming x or y and the index; the cost is unchanged). */
OTK_EXPORT otk_status otk_cost_points_set(otk_cost *cost, const double *x, const double *y);

/* Bytes held by a kept cost matrix (otk_cost_points_cache); 0 when entries
 * are computed on the fly, for other kinds and for NULL. */
OTK_EXPORT size_t otk_cost_cache_bytes(const otk_cost *cost);

/* A dense cost matrix, borrowed.
 *   C      input: row-major, entry (i, j) at C[i*ld + j]; all entries finite.
 *          The caller keeps C alive and unchanged for the life of the cost.
 *   ld     input: leading dimension, ld >= m (ld = m for a packed matrix).
 * The entries are scanned once (validation and diameter).
 * Errors: OTK_ENULL, OTK_ESIZE (n or m zero, ld < m), OTK_ENONFINITE (with the
 * index), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_cost_dense(otk_cost **out, size_t n, size_t m,
                                     const double *C, size_t ld);

/* A user-supplied cost c(i, j, ctx), 0 <= i < n, 0 <= j < m.
 * The function must return finite values and must be safe to call
 * concurrently from several threads when solvers run with threads != 1.  It is
 * called O(n·m) times per Sinkhorn iteration; prefer the other kinds when they
 * fit.  `diameter` is an upper bound on max C (used to start the ε-schedule);
 * pass 0 to have it computed by one scan of all n·m entries.
 * Errors: OTK_ENULL, OTK_ESIZE, OTK_EPARAM (diameter < 0 or NaN), OTK_ENONFINITE
 * (found during the scan), OTK_ENOMEM. */
typedef double (*otk_cost_fn)(size_t i, size_t j, void *ctx);
OTK_EXPORT otk_status otk_cost_callback(otk_cost **out, size_t n, size_t m,
                                        otk_cost_fn fn, void *ctx, double diameter);

/* Free a cost; NULL is accepted. */
OTK_EXPORT void otk_cost_free(otk_cost *cost);

/* Sizes. */
OTK_EXPORT size_t otk_cost_rows(const otk_cost *cost);
OTK_EXPORT size_t otk_cost_cols(const otk_cost *cost);

/* One entry C_ij (no bounds check beyond returning NAN when out of range). */
OTK_EXPORT double otk_cost_entry(const otk_cost *cost, size_t i, size_t j);

/* The kind's name: "dense", "points", "callback", "grid", "mesh", "sparse". */
OTK_EXPORT const char *otk_cost_kind(const otk_cost *cost);

/* A short description of the cost for reports, e.g. "half-sqeuclidean" for a
 * point cloud, "dense" or "callback" otherwise. */
OTK_EXPORT const char *otk_cost_name(const otk_cost *cost);

/* The scale from which the ε-schedule starts: ε₀ = diameter^exponent.
 *   points:   diameter = the diagonal of the bounding box of x ∪ y (measured in
 *             the l1 norm for the l1 ground cost, Euclidean otherwise), exponent
 *             = otk_ground_exponent — exactly GeomLoss's choice;
 *   dense, sparse: diameter = max C − min C (the range of the entries);
 *   callback: the diameter given, or the range found by a scan.
 * Numbers given as a matrix or a function have no exponent: otk_cost_exponent
 * returns 0 for dense, sparse and callback costs, and the solvers then refuse
 * blur and reach (OTK_EPARAM naming params.blur or params.reach, params.eps
 * and params.p) unless params.p supplies one (p = 2 for a matrix of squared
 * distances: ε = blur², the kernel the point cloud gives); with params.eps
 * the annealing runs in ε (p = 1).  The mesh heat cost has exponent 1 and
 * its own ε.  Before 0.2.0 these kinds had exponent 1, so blur silently
 * meant ε. */
OTK_EXPORT double otk_cost_diameter(const otk_cost *cost);
OTK_EXPORT double otk_cost_exponent(const otk_cost *cost);

/* ------------------------------------------------------------------------
 * EXPERIMENTAL: the cost's own operations, for clients built outside the
 * library (distributed solvers, custom iterations).  These are what every
 * otkit solver calls; their signatures may still change.
 *
 * "Axis 0" reduces over j for each row i (n outputs), "axis 1" over i for
 * each column j (m outputs).
 * ------------------------------------------------------------------------ */

/* The soft-min along an axis:
 *   axis 0: out_i = −ε log Σ_j exp(h_j − C_ij/ε)   (h has m entries)
 *   axis 1: out_j = −ε log Σ_i exp(h_i − C_ij/ε)   (h has n entries)
 * computed with a max shift (no overflow, no underflow of the largest term).
 * A Sinkhorn update with weights b and potential g is h_j = log b_j + g_j/ε.
 *   eps      input: ε > 0, in cost units; a cost built for one ε (the heat
 *            kernel, otkit/mesh.h) accepts only that ε.
 *   h        input: finite or −∞ (a zero weight); not NaN, not +∞.
 *   out      output: n (axis 0) or m (axis 1) entries; +∞ where every term
 *            of the sum is zero (h all −∞).
 *   threads  input: OpenMP threads (0 = OpenMP's default); the result does
 *            not depend on it.
 * Errors: OTK_ENULL, OTK_EPARAM (axis, eps), OTK_ENONFINITE (h, with the index).
 * THREAD SAFETY: as the cost (a grid cost: one thread at a time). */
OTK_EXPORT otk_status otk_cost_softmin(const otk_cost *cost, int axis, double eps,
                                       const double *h, double *out, int threads);

/* What otk_cost_plan_reduce sums along an axis of P_ij = exp(u_i + v_j − C_ij/ε):
 *   OTK_REDUCE_MASS   Σ P                       (1 value per output)
 *   OTK_REDUCE_COST   Σ P·C                     (1 value per output)
 *   OTK_REDUCE_APPLY  Σ P·Y                     (k values per output; Y has k
 *                                               columns, one row per input index)
 *   OTK_REDUCE_GRAD   the envelope gradient of ⟨P, C⟩ w.r.t. the points,
 *                     k = d values per output: axis 0: Σ_j P_ij ∇_x c(x_i, y_j);
 *                     axis 1: Σ_i P_ij ∇_y c(x_i, y_j).  Point clouds only: the
 *                     other kinds fill the output with NaN.  Non-differentiable
 *                     grounds contribute 0 where x = y. */
#define OTK_REDUCE_MAP(X)                                                                    \
    X(OTK_REDUCE_MASS, 0, "mass")                                                            \
    X(OTK_REDUCE_COST, 1, "cost")                                                            \
    X(OTK_REDUCE_APPLY, 2, "apply")                                                          \
    X(OTK_REDUCE_GRAD, 3, "grad")
typedef enum { OTK_REDUCE_MAP(OTK_ENUM_MEMBER_) } otk_reduce;
/* Name table (otkit/names.h). */
OTK_EXPORT const char *otk_reduce_name(otk_reduce reduce);
OTK_EXPORT otk_status otk_reduce_from_name(const char *name, otk_reduce *reduce);

/* Reductions of the plan P_ij = exp(u_i + v_j − C_ij/ε) along an axis,
 * never forming P.  With GeomLoss-gauge potentials f, g and weights a, b:
 * u_i = log a_i + f_i/ε, v_j = log b_j + g_j/ε.
 *   u, v     input: n and m entries, finite or −∞.
 *   k, Y     input: for OTK_REDUCE_APPLY, Y is (m×k for axis 0, n×k for
 *            axis 1) row-major; for OTK_REDUCE_GRAD k must be the points'
 *            dimension and Y is ignored; otherwise k is ignored (use 1).
 *   out      output: (n or m) × k entries.
 * Errors: OTK_ENULL, OTK_EPARAM (axis, eps, what, k), OTK_ENONFINITE (u, v),
 * OTK_EUNSUPPORTED (OTK_REDUCE_GRAD on a cost without coordinates). */
OTK_EXPORT otk_status otk_cost_plan_reduce(const otk_cost *cost, int axis, double eps,
                                           const double *u, const double *v, otk_reduce what,
                                           size_t k, const double *Y, double *out,
                                           int threads);

/* The mean and the population standard deviation (numpy's mean and std) of
 * all n·m entries of C, from the kept matrix or the tiles the soft-min uses
 * (so the statistic of a point cloud is that of the entries the solvers
 * see; for a single-precision cost, of its float64 entries), with Chan et al.'s pairwise merge (no cancellation when the mean is
 * large compared to the spread).  O(n·m) time, no allocation; the result does
 * not depend on `threads` (0 = OpenMP's default).  Used for ε relative to the
 * cost scale (OTT's relative_epsilon, otkit/monge_gap.h).
 *   mean, std  output: either may be NULL, not both.
 * Errors: OTK_ENULL, OTK_ENONFINITE (an infinite entry, e.g. a sparse cost). */
OTK_EXPORT otk_status otk_cost_moments(const otk_cost *cost, double *mean, double *std,
                                       int threads);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_COST_H */
