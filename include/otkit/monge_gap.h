/*
 * otkit/monge_gap.h — the empirical Monge gap (Uscidda & Cuturi, ICML 2023;
 * docs/math.md C) and its analytic gradients.
 *
 * STABILITY: experimental: the parameters and results may still change in a
 * minor version (the value convention, docs/math.md C.2, will not).
 *
 * Definition.  For source points x_1..x_n in R^d with weights w (Σw = 1), their
 * images y_i = T(x_i) under a map T, and a ground cost c,
 *
 *   M̂(T) = Σ_i w_i c(x_i, y_i) − OT_ent(Σ w_i δ_{x_i}, Σ w_j δ_{y_j}),
 *
 * where OT_ent = <P,C> − ε H(P) is the entropic OT value in the convention of
 * OTT's ent_reg_cost (docs/math.md decision 2, C.2; otkit/sinkhorn.h), computed on
 * the n×n cost C_ij = c(x_i, y_j) with the same weights w on both sides.  The
 * first term is `displacement`.  M̂ is not debiased.
 *
 * Lower bound.  The diagonal coupling diag(w) is feasible with entropy H(w), so
 * M̂ >= ε H(w) (= ε log n for uniform weights) up to the Sinkhorn tolerance.
 * This bound is reported as `lower_bound`; a map that is c-optimal between the
 * x's and its own images (the identity, the gradient of a convex function for
 * the squared costs) has M̂ close to it, and M̂ − lower_bound -> 0 as ε -> 0.
 *
 * ε.  Either absolute (params.eps > 0, in cost units), or relative
 * (params.eps == 0): ε = relative_eps · stat(C) with stat the population
 * standard deviation (default, OTT's epsilon=None: 0.05·std), the mean, the
 * largest or the median of the n² unweighted entries C_ij, i.e. exactly
 * jnp.std / jnp.mean / jnp.max / jnp.median of OTT's cost matrix
 * (otk_cost_statistic, otkit/cost.h; the n×n matrix is never formed).
 *
 * Gradients (docs/math.md C.4, envelope theorem at the final potentials; exact at
 * convergence).  With the optimal plan P of the OT_ent problem, ∇₁c / ∇₂c the
 * gradients of c in its first / second argument (see otkit/divergence.h for
 * each ground cost; the non-differentiable costs contribute 0 at x = y):
 *   grad_tx_i = ∂M̂/∂y_i = w_i ∇₂c(x_i, y_i) − Σ_k P_ki ∇₂c(x_k, y_i),
 *   grad_x_i  = ∂M̂/∂x_i = w_i ∇₁c(x_i, y_i) − Σ_j P_ij ∇₁c(x_i, y_j).
 * The weights are held fixed (their entropies are constants).  ε is held fixed
 * too, also when it is relative: the gradient is that of M̂ at the ε actually
 * used, as OTT's stop_gradient on the cost statistic; it is not the derivative
 * of the composite x, y -> M̂(ε(x, y)) (which would add
 * ∂M̂/∂ε · ∂ε/∂y, with ∂M̂/∂ε = H(P) − H(w) <= 0).
 *
 * Solver.  otk_sinkhorn (otkit/sinkhorn.h) with alternating updates, started
 * at the target ε from zero potentials (no ε-annealing, as OTT's default
 * Sinkhorn), stopped when the relative L1 marginal error is <= tol.  When
 * T is close to c-optimal and ε is small against the spread of C, the plan is
 * close to a permutation and Sinkhorn converges slowly (thousands of
 * iterations); OTK_NOT_CONVERGED then reports the best iterate, whose M̂ is
 * still >= ε H(w) − ε·marginal_error.
 *
 * Backends (params.backend, otk_backend in otkit/sinkhorn.h; docs/math.md
 * A.11 and C.6).  online and dense run as above (dense keeps the n×n matrix,
 * as cache_bytes = SIZE_MAX).  multiscale clusters x and T(x) (d <= 3, a
 * ground other than l1, float64) anew at each evaluation, anneals ε on the
 * clusters down to the target (the solve it truncates needs potentials from
 * a coarser ε; the fixed point is that of the other backends) and runs the
 * target iterations and the gradients over the kept blocks of cluster pairs
 * only.  The value then differs from the untruncated one by an amount of
 * the order of ε·truncation_bound (the dropped plan mass enters OT_ent
 * through −ε<P, 1> and the marginals) and each gradient row by the dropped
 * mass of its row times the largest |∇c| over the dropped pairs;
 * result.truncation_bound reports the bound.  auto (the
 * default) is multiscale for d <= 3, a ground other than l1 and
 * n² >= OTK_BACKEND_AUTO_PAIRS (n >= 10^4) with cache_bytes 0, online (or
 * dense with a kept matrix) otherwise, so smaller problems solve as before.
 * A relative ε still reads the n² entries once per evaluation (give an
 * absolute params.eps for large n).  With warm_start, a multiscale
 * evaluation skips the annealing and draws its blocks from the previous
 * potentials.
 *
 * Usage (training loop):
 *
 *   otk_monge_gap_params par;
 *   otk_monge_gap_params_default(&par);
 *   otk_monge_gap *mg;
 *   if (otk_monge_gap_alloc(&mg, n, d, &par) < 0) ... otk_last_error() ...
 *   for (...) {
 *       otk_monge_gap_result r;
 *       otk_status st = otk_monge_gap_eval(mg, x, tx, NULL, &r, grad_tx, NULL);
 *       if (st < 0) ...;
 *   }
 *   otk_monge_gap_free(mg);
 *
 * THREAD SAFETY: the one-shot otk_monge_gap_compute is reentrant.  A workspace is used by one
 * thread at a time; different workspaces may be used concurrently.  Inside a
 * call, kernels run on params.threads OpenMP threads, and results do not
 * depend on the thread count.
 */
#ifndef OTKIT_MONGE_GAP_H
#define OTKIT_MONGE_GAP_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* otk_relative_to, the statistic of the cost matrix that a relative ε
 * multiplies, is declared in otkit/cost.h (otk_cost_statistic). */

typedef struct {
    otk_ground ground;          /* default OTK_GROUND_SQEUCLIDEAN (OTT's default, |x-y|^2) */
    double power;               /* P for OTK_GROUND_LP / LP_OVER_P; default 0 (unused) */
    double eps;                 /* > 0: absolute eps in cost units; 0 (default): relative */
    double relative_eps;        /* used when eps == 0: eps = relative_eps * stat(C); default 0.05 */
    otk_relative_to relative_to;/* stat (otk_cost_statistic) of C_ij = c(x_i, T(x_j)); default std (OTT's epsilon=None) */
    double tol;                 /* Sinkhorn marginal tolerance (otkit convention), default 1e-6 */
    int max_iter;               /* default 10000 */
    int threads;                /* 0 = OpenMP default */
    /* Workspace form only: 1 = start each evaluation's Sinkhorn from the
     * potentials of the previous one at the same ε (default 0: from zero).
     * For sequences of nearby maps on the same points (a full-batch fit, a
     * line search): it saves the iterations a cold start spends getting
     * close (Sinkhorn converges linearly, so the saving is the share of
     * log(start error / tol); 309 instead of 450 updates for a 1e-3 change
     * of the map at tol 1e-11 in the tests).  The result then depends on
     * the previous evaluations within the tolerance, so use a tight tol
     * where values are compared (line searches). */
    int warm_start;
    /* Keep the n×n matrix C_ij = c(x_i, T(x_j)) (8·n² bytes) when it fits
     * in cache_bytes (the workspace refills it at each evaluation) instead
     * of recomputing it in every Sinkhorn pass (otk_cost_points_cache: pays
     * off in dimension d >= 8 or so).  Default 0: memory O(n·d). */
    size_t cache_bytes;
    /* The evaluation of the soft-mins (Backends above); default AUTO.
     * Forcing multiscale on d > 3 or the l1 ground is OTK_EUNSUPPORTED
     * (alloc); dense needs 8·n² bytes (OTK_ENOMEM). */
    otk_backend backend;
    /* Multiscale: the truncation threshold T > 0 (otk_sinkhorn_params.truncate;
     * INFINITY keeps every block); default 12. */
    double truncate;
} otk_monge_gap_params;

/* Fill `p` with the defaults documented above.  NULL is ignored. */
OTK_EXPORT void otk_monge_gap_params_default(otk_monge_gap_params *p);

typedef struct {
    double monge_gap;     /* M = sum_i w_i c(x_i, T(x_i)) - OT_ent(w, w) */
    double displacement;  /* sum_i w_i c(x_i, T(x_i)) */
    double ot_ent;        /* the entropic OT value, OT_ent convention (docs/math.md decision 2, C.2) */
    double eps;           /* the eps used, cost units */
    double lower_bound;   /* eps * H(w) (= eps log n for uniform w): M >= lower_bound */
    int iterations;       /* Sinkhorn updates run */
    double marginal_error;/* relative L1 marginal error of the final potentials */
    otk_backend backend;  /* the backend run, OTK_BACKEND_AUTO resolved */
    /* Multiscale: the bound on the plan mass of the dropped blocks at the
     * returned potentials (relative to Σw = 1; otk_sinkhorn_result
     * .truncation_bound).  0 for the other backends. */
    double truncation_bound;
} otk_monge_gap_result;

/* One-shot evaluation.
 *   n, d     input: number of points (> 0) and dimension (> 0).
 *   x, tx    input: n×d row-major source points and mapped points T(x_i); finite.
 *   w        input: n non-negative weights summing to 1 (within 1e-9), or NULL
 *            for uniform 1/n.  Copied; zero weights are allowed.
 *   params   input: NULL = defaults.
 *   res      output: the values above (required).
 *   grad_tx  output: n×d, ∂M̂/∂tx, or NULL.
 *   grad_x   output: n×d, ∂M̂/∂x, or NULL.
 * Allocates O(n·d) memory for the call; use the workspace form in loops.
 * Returns OTK_SUCCESS, OTK_NOT_CONVERGED (max_iter reached, a positive
 * warning: res and the gradients are those of the best iterate, the one with
 * the smallest marginal error measured at the target ε) or an error status, with a message naming
 * the argument/index: OTK_ENULL, OTK_ESIZE (n or d zero), OTK_ENONFINITE (x,
 * tx, w), OTK_ENEGATIVE (w), OTK_EZEROMASS / OTK_EMASS (w sums to 0 / not 1),
 * OTK_EPARAM (ground, power, eps < 0 or NaN, relative_eps <= 0 when eps == 0,
 * relative_to, tol, max_iter, backend, truncate; or a relative ε that is 0
 * because all C_ij are equal), OTK_EUNSUPPORTED (backend multiscale on d > 3
 * or the l1 ground), OTK_ENOMEM, OTK_ENUMERIC.  On error the outputs are untouched. */
OTK_EXPORT otk_status otk_monge_gap_compute(size_t n, size_t d, const double *x,
                                            const double *tx, const double *w,
                                            const otk_monge_gap_params *params,
                                            otk_monge_gap_result *res, double *grad_tx,
                                            double *grad_x);
/* Workspace form for training loops: sized once for (n, d), no allocation per
 * evaluation (O(n·d) memory, params copied).  otk_monge_gap_eval has the
 * arguments, results and statuses of otk_monge_gap_compute and gives bitwise the
 * same results.  Unless params.warm_start is set, each evaluation starts
 * Sinkhorn afresh, so an evaluation does not depend on the previous ones.
 * Errors of alloc: OTK_ENULL (out), OTK_ESIZE, OTK_EPARAM, OTK_EUNSUPPORTED
 * (backend), OTK_ENOMEM.  The multiscale backend allocates its clusters and
 * solver at each evaluation (O(n) memory; OTK_ENOMEM possible there). */
typedef struct otk_monge_gap otk_monge_gap;
OTK_EXPORT otk_status otk_monge_gap_alloc(otk_monge_gap **out, size_t n, size_t d,
                                          const otk_monge_gap_params *params);
OTK_EXPORT otk_status otk_monge_gap_eval(otk_monge_gap *mg, const double *x, const double *tx,
                                         const double *w, otk_monge_gap_result *res,
                                         double *grad_tx, double *grad_x);
/* Free a workspace; NULL is accepted. */
OTK_EXPORT void otk_monge_gap_free(otk_monge_gap *mg);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_MONGE_GAP_H */
