/*
 * otkit/emd.h — exact (unregularised) optimal transport by the network simplex.
 *
 * Given weights a (n atoms) and b (m atoms) of equal total mass and a cost
 * C (n×m, any otk_cost), solves the linear program
 *
 *   OT(a, b) = min_{P >= 0, P 1 = a, Pᵀ 1 = b}  <P, C>
 *
 * and its dual  max { <a, u> + <b, v> :  u_i + v_j <= C_ij for all i, j }.
 * The two are equal at the optimum; the dual potentials returned satisfy
 * complementary slackness: u_i + v_j <= C_ij everywhere (up to rounding) and
 * u_i + v_j = C_ij on the support of the plan.  This is POT's ot.emd / ot.emd2
 * (which call LEMON's network simplex); docs/exact.md has the conventions.
 *
 * The algorithm: the primal network simplex on the bipartite graph
 * (source i → target j, cost C_ij, no capacity) with an artificial root, in
 * the form of Ahuja, Magnanti & Orlin (Network Flows, 1993, ch. 11):
 *   - the initial basis joins every node to the root by an artificial arc
 *     (sources: cost 0, targets: cost 3·max|C|, enough that no optimal plan
 *     uses them — any path through the root costs more than a direct arc);
 *   - the basis is kept strongly feasible and the leaving arc is chosen by
 *     Cunningham's rule (the last blocking arc of the cycle, walked from its
 *     apex), which rules out cycling on degenerate problems (ties, duplicate
 *     points, zero weights) without perturbation;
 *   - the entering arc is found by block search (Grigoriadis 1986, LEMON's
 *     default, used by Bonneel et al. 2011): blocks of about sqrt(n·m) arcs
 *     are scanned cyclically and the most negative reduced cost of the first
 *     block holding one enters.
 * The plan has at most n + m − 1 nonzero entries (a basic solution).
 *
 * The cost is read through a dense n×m matrix: a dense cost (otkit/cost.h)
 * and a point-cloud cost whose matrix is kept (otk_cost_points_cache) are
 * read in place; any other cost is evaluated once into a matrix the solver
 * owns (8·n·m bytes), point clouds with the same kernel as their other
 * operations.  Costs may be negative; all must be finite.
 *
 * Typical use:
 *
 *   otk_emd_params par;
 *   otk_emd_params_default(&par);
 *   otk_emd *s;
 *   if (otk_emd_alloc(&s, cost, &par) < 0) ... otk_last_error() ...
 *   otk_emd_result res;
 *   otk_status st = otk_emd_solve(s, a, b, &res);
 *   size_t i[res.plan_size], j[res.plan_size]; double mass[res.plan_size];
 *   otk_emd_plan(s, i, j, mass);
 *   otk_emd_potentials(s, u, v);
 *   otk_emd_free(s);
 *
 * OWNERSHIP: the solver borrows the cost (keep it alive, and a dense matrix
 * unchanged, until the solver is freed) and owns its workspace: solve
 * allocates nothing.  The weights are copied.
 *
 * THREAD SAFETY: one solver per thread; solvers may share a cost.  The
 * solver runs on one thread: the simplex is sequential.
 *
 * STABILITY: the functions of this header are stable API.
 */
#ifndef OTKIT_EMD_H
#define OTKIT_EMD_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* Most simplex pivots per solve; 0 (the default) = no cap.  When the cap
     * is reached, solve returns OTK_NOT_CONVERGED and the current basis: the
     * plan then may still route mass through the artificial root (its
     * marginals are not met) and the potentials are not dual feasible. */
    long max_iter;
    /* The largest relative mass difference |Σa − Σb| / max(Σa, Σb) accepted
     * as equal (rounding of weights that should sum to the same value).
     * Default 1e-9, at most 1e-6 (POT's check is 1e-6 absolute): this is not
     * a way to transport unequal masses.  Above it solve fails with
     * OTK_EMASS. */
    double mass_tol;
    /* Arcs scanned per block of the pricing; 0 (the default) = ceil(sqrt(n·m)),
     * at least 10. */
    size_t block_size;
} otk_emd_params;

/* Fill `params` with the defaults documented above.  NULL is ignored. */
OTK_EXPORT void otk_emd_params_default(otk_emd_params *params);

typedef struct {
    double value;      /* <P, C>, in cost units */
    double dual_value; /* <a, u> + <b, v>; equals value at the optimum (rounding) */
    long iterations;   /* simplex pivots (degenerate ones included) */
    size_t plan_size;  /* nonzero entries of the plan, <= n + m − 1 */
    double mass_a, mass_b; /* Σa and Σb as given */
} otk_emd_result;

typedef struct otk_emd otk_emd;

/* Make a solver for a cost.
 *   out     output: the solver (NULL on failure).
 *   cost    input: borrowed; must outlive the solver.
 *   params  input: copied; NULL = defaults.
 * The cost matrix is read (or evaluated) here, once: solves that follow
 * reuse it.
 * Errors: OTK_ENULL, OTK_EPARAM (max_iter < 0, mass_tol outside [0, 1e-6]),
 * OTK_ENONFINITE (a cost entry, with its index), OTK_ENUMERIC (a cost entry
 * above DBL_MAX / (4(n + m + 4)) in magnitude, about 1e302 for a thousand
 * points, with its index: the potentials could overflow; rescale the cost),
 * OTK_ENOMEM. */
OTK_EXPORT otk_status otk_emd_alloc(otk_emd **out, const otk_cost *cost,
                                    const otk_emd_params *params);

/* Free a solver; NULL is accepted. */
OTK_EXPORT void otk_emd_free(otk_emd *s);

/* Solve for weights a (n entries) and b (m entries); NULL means uniform
 * weights 1/n (resp. 1/m).  Zero weights are allowed (their atoms get no
 * mass; their potentials are still dual feasible).  Masses need not be 1,
 * only equal (within params.mass_tol).
 *   res  output (may be NULL): value, dual value, pivots, plan size, masses.
 * Returns OTK_SUCCESS (optimal), OTK_NOT_CONVERGED (max_iter pivots done; the
 * result describes the last basis), or an error, after which the solver holds
 * no solution: OTK_ENULL, OTK_ENONFINITE, OTK_ENEGATIVE (with the index),
 * OTK_EZEROMASS, OTK_EMASS (the message gives both masses). */
OTK_EXPORT otk_status otk_emd_solve(otk_emd *s, const double *a, const double *b,
                                    otk_emd_result *res);

/* The plan of the last solve as triplets (rows[k], cols[k], mass[k]),
 * k < res.plan_size, sorted by row then column, every mass > 0.  Each array
 * must hold plan_size entries (n + m − 1 always suffice); any may be NULL.
 * Errors: OTK_ENULL (s), OTK_ESTATE (no solution yet). */
OTK_EXPORT otk_status otk_emd_plan(const otk_emd *s, size_t *rows, size_t *cols, double *mass);

/* The dual potentials of the last solve: u (n entries) and v (m entries),
 * either may be NULL, with u_i + v_j <= C_ij (up to rounding, about 1e-15
 * times max|C|) and equality on the plan's support.  They are defined up to
 * u + t, v − t; the one returned makes <a, u> = <b, v> (POT's
 * center_ot_dual).
 * Errors: OTK_ENULL (s), OTK_ESTATE (no solution yet). */
OTK_EXPORT otk_status otk_emd_potentials(const otk_emd *s, double *u, double *v);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_EMD_H */
