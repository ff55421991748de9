/*
 * otkit/entropic_map.h — the entropic map estimator (Pooladian & Niles-Weed
 * 2021): the barycentric projection of an entropic OT plan, extended out of
 * sample through the target potential.  The non-parametric baseline of the
 * map-fitting module (docs/math.md C.5).
 *
 * STABILITY: experimental: may still change in a minor version.
 *
 * Definition.  Solve the balanced entropic OT problem between α = Σ a_i δ_{x_i}
 * and β = Σ b_j δ_{y_j} (otkit/sinkhorn.h, GeomLoss gauge: P_ij =
 * a_i b_j e^{(f_i + g_j − C_ij)/ε}) and keep y, b, g and ε.  For any z in R^d,
 *
 *   T(z) = Σ_j b_j e^{(g_j − c(z, y_j))/ε} y_j  /  Σ_j b_j e^{(g_j − c(z, y_j))/ε}.
 *
 * On a training point x_i this is Σ_j P_ij y_j / Σ_j P_ij (the factor
 * a_i e^{f_i/ε} cancels), = Σ_j P_ij y_j / a_i at convergence.  T is smooth in
 * z for the smooth ground costs and continuous for all of them; T(z) lies in
 * the convex hull of the y's.  For the squared costs and small ε it approaches
 * the optimal (Brenier) map between the underlying measures.  The sums are
 * evaluated with a max-shift (log-sum-exp) so that no exponential overflows.
 *
 * OWNERSHIP: a map owns copies of y, b and g; free it with
 * otk_entropic_map_free().
 *
 * THREAD SAFETY: a fitted map is read-only: otk_entropic_map_apply and
 * otk_entropic_map_data may be called concurrently on a shared map.
 */
#ifndef OTKIT_ENTROPIC_MAP_H
#define OTKIT_ENTROPIC_MAP_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otk_entropic_map otk_entropic_map;

/* Fit.
 *   out     output: the map (NULL on error).
 *   n, m, d input: numbers of source / target points and the dimension, > 0.
 *   x, y    input: n×d and m×d row-major, finite.
 *   a, b    input: weights (n, m), non-negative, equal sums; NULL = uniform.
 *   ground, power: the ground cost (otkit/cost.h).
 *   params  input: Sinkhorn parameters (eps or blur, schedule, tol, ...); NULL
 *           = defaults.  Must be balanced (rho_a, rho_b infinite, reach 0).
 * Solve entropic OT between (x, a) and (y, b) (a/b NULL = uniform) with the
 * ground cost and the sinkhorn params (eps or blur etc.), keep y, b, g, eps.
 * T(z) = sum_j b_j e^{(g_j - c(z,y_j))/eps} y_j / sum_j b_j e^{(g_j - c(z,y_j))/eps};
 * on the training points this equals sum_j P_ij y_j / a_i.
 * Returns OTK_SUCCESS, OTK_NOT_CONVERGED (max_iter reached, a positive
 * warning: *out is built from the best iterate, the one with the smallest
 * marginal error measured at the target ε) or an error (*out = NULL): OTK_ENULL, OTK_ESIZE, OTK_ENONFINITE,
 * OTK_ENEGATIVE, OTK_EZEROMASS, OTK_EMASS, OTK_EPARAM (ground, power, params,
 * unbalanced params), OTK_ENOMEM, OTK_ENUMERIC. */
OTK_EXPORT otk_status otk_entropic_map_fit(otk_entropic_map **out, size_t n, size_t m, size_t d,
                                           const double *x, const double *y, const double *a,
                                           const double *b, otk_ground ground, double power,
                                           const otk_sinkhorn_params *params);

/* Rebuild from stored data (for loading a saved map): copies y (m x d), b (m;
 * NULL = uniform 1/m), g (m; GeomLoss gauge, cost units).  eps > 0 in cost
 * units.  The rebuilt map applies bitwise like the one the data came from.
 * Errors: OTK_ENULL, OTK_ESIZE, OTK_ENONFINITE (y, b, g), OTK_ENEGATIVE,
 * OTK_EZEROMASS (b), OTK_EPARAM (eps, ground, power), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_entropic_map_from_potential(otk_entropic_map **out, size_t m, size_t d,
                                                      const double *y, const double *b,
                                                      const double *g, double eps,
                                                      otk_ground ground, double power);

/* Apply to n new points z (n x d) -> tz (n x d), row-major; z and tz must
 * not overlap.  threads: OpenMP threads (0 = default, 1 = serial); the result does
 * not depend on it.  Thread-safe on a shared map.  O(n·m·d) time, no
 * allocation.  Errors: OTK_ENULL, OTK_ESIZE (n = 0), OTK_ENONFINITE (z, with
 * the index; tz untouched). */
OTK_EXPORT otk_status otk_entropic_map_apply(const otk_entropic_map *T, size_t n, const double *z,
                                             double *tz, int threads);

/* Read back what defines the map (pointers owned by T, valid until it is
 * freed).  Any output pointer may be NULL.  Errors: OTK_ENULL (T). */
OTK_EXPORT otk_status otk_entropic_map_data(const otk_entropic_map *T, size_t *m, size_t *d,
                                            const double **y, const double **b,
                                            const double **g, double *eps,
                                            otk_ground *ground, double *power);

/* Free a map; NULL is accepted. */
OTK_EXPORT void otk_entropic_map_free(otk_entropic_map *T);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_ENTROPIC_MAP_H */
