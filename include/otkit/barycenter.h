/*
 * otkit/barycenter.h — entropic Wasserstein barycenters of K histograms on a
 * common support, by iterative Bregman projections in the log domain.
 *
 * STABILITY: experimental: may still change in a minor version.
 *
 * Problem (Benamou et al., SIAM J. Sci. Comput. 2015; on grids Solomon et al.,
 * SIGGRAPH 2015, "convolutional Wasserstein barycenters", docs/math.md F):
 *
 *   bar = argmin_b Σ_k w_k OT_ε(a_k, b),   OT_ε(a, b) = min_{P1=a, Pᵀ1=b} <P,C> + ε KL(P | K)
 *
 * with K = exp(−C/ε).  Iterations (IBP), written for the log-scalings so that
 * nothing under- or overflows at small ε (S(x) = log K e^x = −softmin(x)/ε,
 * evaluated by the cost's own soft-min):
 *
 *   log u_k = log a_k − S(log v_k)
 *   log bar = Σ_k w_k S(log u_k)                       (+ log d when debiased)
 *   log v_k = log bar − S(log u_k)
 *
 * Debiased variant (Janati, Cuturi, Gramfort, ICML 2020, "Debiased Sinkhorn
 * barycenters", Algorithm 2; POT's convolutional_barycenter2d_debiased): it
 * minimises Σ_k w_k S_ε(a_k, b) with the Sinkhorn divergence S_ε, which removes
 * the entropic blur — the barycenter of identical inputs is that input, and
 * weights (1, 0, …) give the first input.  One extra soft-min per iteration:
 *
 *   log bar += log d,   log d ← ½ (log d + log bar − S(log d)).
 *
 * Generic: any cost with n = m and C symmetric works through its soft-min —
 * grids (otkit/grid.h: Solomon's convolutional barycenter), point clouds on a
 * shared support, dense matrices.  Only the cost's soft-min is called, one
 * call at a time (grid costs may be used).
 *
 * Stopping: every 10th iteration and after the last (as POT checks; the
 * measure costs as many exponentials as the soft-mins spend outside their
 * kernel products),
 *   err = Σ_k w_k ‖v_k ⊙ Kᵀu_k − bar‖₁ / m      (plans' second marginals)
 *       + ‖bar − bar_previous‖₁ / m              (change of the barycenter)
 *       + ‖d ⊙ K d − bar‖₁ / m                   (debiased only)
 * is compared with tol; m is the common mass (the first marginals are exact
 * after each u update).
 *
 * THREAD SAFETY: reentrant; the cost must not be used by another thread
 * during the call.  params.threads parallelises inside each soft-min.
 */
#ifndef OTKIT_BARYCENTER_H
#define OTKIT_BARYCENTER_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double eps;   /* regularisation ε > 0, in the units of the cost; default 0.01 */
    int max_iter; /* >= 1; default 1000 */
    double tol;   /* >= 0 (0: run max_iter iterations); default 1e-9 */
    int debias;   /* 0: IBP (Benamou/Solomon), 1: debiased (Janati); default 0 */
    int threads;  /* OpenMP threads inside the soft-mins (0: OpenMP's default) */
} otk_barycenter_params;

OTK_EXPORT void otk_barycenter_params_default(otk_barycenter_params *params);

typedef struct {
    int iterations; /* iterations run (a multiple of 10, or max_iter) */
    double error;   /* err (above) of the returned iterate, at its check */
    double mass;    /* Σ bar */
} otk_barycenter_result;

/* The barycenter of K histograms.
 *   C        input: a cost with n = m (rows and columns are the same support)
 *            and C_ij = C_ji; borrowed.
 *   K        input: number of histograms, >= 1.
 *   A        input: K×n row-major, histogram k at A[k*n .. k*n+n−1]; entries
 *            finite and >= 0, each row with positive mass, all masses equal
 *            (to 1e-9 relative): the balanced problem needs them equal.
 *   weights  input: K barycentric weights, finite, >= 0, positive sum; they
 *            are normalised to sum 1.  NULL means 1/K each.  Histograms with
 *            weight 0 are skipped.
 *   params   input: NULL = defaults.
 *   out      output: n entries, the barycenter (mass m at convergence).
 *   res      output, may be NULL.
 * Returns OTK_SUCCESS (err <= tol) or OTK_NOT_CONVERGED (max_iter reached, a
 * positive warning: out and res->error are those of the best iterate, the one
 * with the smallest err among the checks; res->iterations counts every
 * iteration run).
 * Errors: OTK_ENULL; OTK_ESIZE (K = 0, n != m); OTK_ENONFINITE, OTK_ENEGATIVE,
 * OTK_EZEROMASS (naming "A[k][i]" or "weights[k]"); OTK_EMASS (masses differ);
 * OTK_EPARAM (eps, max_iter, tol; for a cost built for one ε, such as the
 * mesh heat kernel of otkit/mesh.h, eps must be that ε); OTK_ENUMERIC (a non-finite value appeared,
 * e.g. a grid cost forced onto its FFT path outside its range); OTK_ENOMEM. */
OTK_EXPORT otk_status otk_barycenter(const otk_cost *C, size_t K, const double *A,
                                     const double *weights, const otk_barycenter_params *params,
                                     double *out, otk_barycenter_result *res);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_BARYCENTER_H */
