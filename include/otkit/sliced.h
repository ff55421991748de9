/*
 * otkit/sliced.h — 1-D Wasserstein distances (closed form by sorting) and the
 * sliced Wasserstein distance, with their gradients.
 *
 * 1-D.  For weighted atoms x (weights a) and y (weights b) on the line, with
 * the weights normalised to probability vectors α = a/Σa, β = b/Σb, and the
 * quantile functions F⁻¹, G⁻¹ (left-continuous),
 *
 *   W_p^p = ∫_0^1 |F⁻¹(t) − G⁻¹(t)|^p dt,   p >= 1,
 *
 * the optimal transport cost for the ground cost |x − y|^p: the monotone
 * (north-west corner) coupling of the sorted atoms is optimal.  Computed as
 * POT's ot.wasserstein_1d (which returns W_p^p, not W_p) on the merged
 * cumulative weights, in O((n + m) log(n + m)).
 *
 * Sliced.  For points X (n×d, weights a), Y (m×d, weights b) and L unit
 * directions θ_l,
 *
 *   SW_p^p = (1/L) Σ_l W_p^p(θ_l·X, θ_l·Y),   SW_p = (SW_p^p)^(1/p),
 *
 * POT's ot.sliced_wasserstein_distance (which returns SW_p) for the same
 * directions.  The directions are drawn once, when the solver is made:
 * Gaussian vectors normalised to the sphere (GSL's MT19937 seeded with
 * `seed`, its ziggurat Gaussian sampler), or quasi-random ones (a Halton
 * sequence shifted by a seeded random vector, modulo 1, mapped through the
 * inverse normal CDF and normalised), or supplied by the caller (e.g. POT's
 * own projections, for an exact comparison).
 *
 * Gradients.  All are of the values as defined above, with respect to the
 * arguments as given (unnormalised weights included: the normalisation is
 * differentiated too):
 *   positions  ∂W/∂x_i = Σ_k Δt_k p |x_i − y_j(k)|^(p−1) sign(x_i − y_j(k))
 *              over the pieces k of the monotone coupling where x_i is used
 *              (at x_i = y_j and p = 1 the sign is taken as 0);
 *   weights    the dual potential of the 1-D problem, recentred by the
 *              normalisation: ∂W/∂a_i = (φ_i − Σ_k α_k φ_k)/Σa, where
 *              φ_(s) = Σ_{r >= s} [c(x_(r), y) − c(x_(r+1), y)] at the
 *              breakpoint between the sorted atoms r and r+1 (y the atom of
 *              the other side active just left of it).  Where a breakpoint
 *              of one side coincides with one of the other (ties), W is not
 *              differentiable in the weights and this is its left derivative.
 * Sliced gradients are the directional ones pulled back: ∂SW_p^p/∂X_i =
 * (1/L) Σ_l ∂W_p^p/∂(θ_l·X_i) θ_l.  Note they are of SW_p^p, not SW_p.
 *
 * Weights: NULL means uniform; otherwise nonnegative with a positive sum.
 * Zero weights are allowed (such atoms take part in nothing; their position
 * gradient is 0).
 *
 * THREAD SAFETY: otk_wasserstein_1d is reentrant.  A sliced solver: one per
 * thread.
 *
 * STABILITY: experimental (the parameter struct may gain fields).
 */
#ifndef OTKIT_SLICED_H
#define OTKIT_SLICED_H

#include <stddef.h>
#include "otkit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* W_p^p between two weighted 1-D distributions, and its gradients.
 *   n, x, a   input: n > 0 positions (finite) and weights (NULL = 1/n);
 *   m, y, b   input: the same for the other distribution;
 *   p         input: the exponent, p >= 1;
 *   value     output: W_p^p;
 *   grad_x, grad_y, grad_a, grad_b  output (each may be NULL): n, m, n, m
 *             entries, the gradients described above.
 * Allocates O(n + m) scratch memory for the call.
 * Errors: OTK_ENULL, OTK_ESIZE (n or m zero, or too large to address),
 * OTK_ENONFINITE, OTK_ENEGATIVE, OTK_EZEROMASS
 * (each naming the argument and index), OTK_EPARAM (p < 1 or NaN),
 * OTK_ENUMERIC (W_p^p or a requested gradient entry beyond DBL_MAX, naming
 * it: positions too far apart for p; *value is then untouched, the gradients
 * unspecified), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_wasserstein_1d(size_t n, const double *x, const double *a, size_t m,
                                         const double *y, const double *b, double p,
                                         double *value, double *grad_x, double *grad_y,
                                         double *grad_a, double *grad_b);

/* "gaussian": normalised Gaussian vectors (default); "halton": shifted Halton
 * points through the normal inverse CDF, normalised; d <= 1000. */
#define OTK_DIRECTIONS_MAP(X)                                                                \
    X(OTK_DIRECTIONS_GAUSSIAN, 0, "gaussian")                                                \
    X(OTK_DIRECTIONS_HALTON, 1, "halton")
typedef enum { OTK_DIRECTIONS_MAP(OTK_ENUM_MEMBER_) } otk_directions;

/* Name table (otkit/names.h): NULL for an invalid value; the parser returns
 * OTK_SUCCESS, OTK_ENULL, or OTK_EPARAM listing the names. */
OTK_EXPORT otk_status otk_directions_from_name(const char *name, otk_directions *kind);
OTK_EXPORT const char *otk_directions_name(otk_directions kind);

typedef struct {
    double p;                  /* exponent, >= 1; default 2 (POT's default) */
    size_t n_projections;      /* L > 0; default 50 (POT's default) */
    otk_directions directions; /* default OTK_DIRECTIONS_GAUSSIAN */
    unsigned long seed;        /* seeds the directions; default 0 */
} otk_sliced_params;

/* Fill `params` with the defaults documented above.  NULL is ignored. */
OTK_EXPORT void otk_sliced_params_default(otk_sliced_params *params);

typedef struct {
    double value;     /* SW_p = (SW_p^p)^(1/p), POT's sliced_wasserstein_distance */
    double value_p;   /* SW_p^p, the mean of the projected W_p^p */
    double max_value; /* max_l W_p(θ_l·X, θ_l·Y): the max-sliced distance over the
                         solver's directions (not optimised over the sphere) */
} otk_sliced_result;

typedef struct otk_sliced otk_sliced;

/* Make a sliced solver for n source and m target points in dimension d.
 *   directions  input: L×d row-major nonzero directions, L =
 *               params.n_projections, copied and each row normalised; NULL =
 *               draw them as params.directions and params.seed say.
 * Errors: OTK_ENULL, OTK_ESIZE (n, m, d zero; n·d, m·d or n_projections·d
 * overflowing size_t, naming the size), OTK_EPARAM (p, n_projections,
 * directions kind, Halton with d > 1000), OTK_ENONFINITE or OTK_EDEGENERATE
 * (a given direction that is not finite or is zero, with its index),
 * OTK_ENOMEM. */
OTK_EXPORT otk_status otk_sliced_alloc(otk_sliced **out, size_t n, size_t m, size_t d,
                                       const otk_sliced_params *params,
                                       const double *directions);

/* Free a solver; NULL is accepted. */
OTK_EXPORT void otk_sliced_free(otk_sliced *s);

/* The solver's L×d unit directions (row-major), owned by the solver. */
OTK_EXPORT const double *otk_sliced_directions(const otk_sliced *s);

/* The L projected W_p^p of the last evaluation (owned by the solver;
 * undefined before the first). */
OTK_EXPORT const double *otk_sliced_projected(const otk_sliced *s);

/* Evaluate for points X (n×d), Y (m×d), row-major, and weights a, b (NULL =
 * uniform).
 *   res              output (may be NULL);
 *   grad_X, grad_Y   output (each may be NULL): n×d and m×d, the gradients
 *                    of SW_p^p (value_p) with respect to the points;
 *   grad_a, grad_b   output (each may be NULL): n and m, of SW_p^p with
 *                    respect to the weights.
 * Allocates nothing.
 * Errors: OTK_ENULL, OTK_ENONFINITE, OTK_ENEGATIVE, OTK_EZEROMASS,
 * OTK_ENUMERIC (as otk_wasserstein_1d; res is then untouched). */
OTK_EXPORT otk_status otk_sliced_eval(otk_sliced *s, const double *X, const double *a,
                                      const double *Y, const double *b, otk_sliced_result *res,
                                      double *grad_X, double *grad_Y, double *grad_a,
                                      double *grad_b);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_SLICED_H */
