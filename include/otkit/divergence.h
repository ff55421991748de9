/*
 * otkit/divergence.h — the debiased Sinkhorn divergence and its analytic
 * gradients, balanced and unbalanced (docs/math.md B, A.5, A.6).
 *
 * STABILITY: stable: the parameters, results, statuses and conventions here
 * change only with a major version.
 *
 * Definition.  For weighted measures α = Σ a_i δ_{x_i} (n atoms) and
 * β = Σ b_j δ_{y_j} (m atoms), with masses m_α = Σa and m_β = Σb,
 *
 *   S_ε(α, β) = OT_kl(α,β) − ½ OT_kl(α,α) − ½ OT_kl(β,β) + (ε/2)(m_α − m_β)²,
 *
 * where OT_kl is the entropic OT value in the KL convention of otkit/sinkhorn.h
 * (optionally with the marginal penalty ρ KL on both sides, the same ρ for all
 * three problems).  S_ε ≥ 0, S_ε(α, α) = 0, and S_ε is symmetric.
 *
 * Costs and units.  Three costs are involved: C_xy (n×m), C_xx (n×n) and C_yy
 * (m×m).  ε and ρ are in cost units.  As in GeomLoss, they can be given as
 * lengths: ε = blur^p and ρ = reach^p, where p is the cost's exponent
 * (otk_cost_exponent: 2 for the squared ground costs, 1 for euclidean and l1,
 * P for lp and lp-over-p).  GeomLoss's own cost is |x−y|^p / p: p = 2 is
 * OTK_GROUND_HALF_SQEUCLIDEAN, p = 1 is OTK_GROUND_EUCLIDEAN
 * (otk_divergence_geomloss_ground below).
 *
 * Algorithm (GeomLoss's sinkhorn_loop, docs/math.md B.2).  The four potentials
 * f_ba, g_ab (problem α→β), f_aa (α→α) and g_bb (β→β) advance together on one
 * ε-schedule.  With the soft-min smin^w_C(h)_i = −ε log Σ_j w_j e^{(h_j − C_ij)/ε}
 * and κ = ρ/(ρ+ε) (1 when balanced):
 *   initialisation at ε₀ = D^p from zero potentials:
 *     f_ba = κ smin^b_{C_xy}(0), g_ab = κ smin^a_{C_yx}(0),
 *     f_aa = κ smin^a_{C_xx}(0), g_bb = κ smin^b_{C_yy}(0);
 *   one averaged update per ε of the list, all four from the previous values:
 *     f_ba ← ½(f_ba + κ smin^b_{C_xy}(g_ab)),  g_ab ← ½(g_ab + κ smin^a_{C_yx}(f_ba)),
 *     f_aa ← ½(f_aa + κ smin^a_{C_xx}(f_aa)),  g_bb ← ½(g_bb + κ smin^b_{C_yy}(g_bb))
 *     (the symmetric problems iterate a single potential);
 *   OTK_SCHEDULE_FIXED: after the list, the final "extrapolation" step, the same
 *     updates without averaging.  This is exactly GeomLoss's iteration (same
 *     ε-list as otk_epsilon_schedule, same count: `iterations` = its length).
 *   OTK_SCHEDULE_CONVERGE (default): after the annealing (the list without its
 *     last entry), iterate at the target ε until the marginal errors of all
 *     three problems are <= tol, or max_iter → OTK_NOT_CONVERGED.  By default
 *     (OTK_UPDATE_AUTO) the α→β problem then uses alternating updates
 *     (g_ab ← κ smin^a(f_ba), then f_ba ← κ smin^b(g_ab)), which converge
 *     several times faster; OTK_UPDATE_SYMMETRIC keeps the averaged form.  The
 *     symmetric problems always use the averaged form.
 * Potentials are in the GeomLoss gauge: π_ij = a_i b_j exp((f_i + g_j − C_ij)/ε),
 * with (f_ba, g_ab) for π^{ab}, (f_aa, f_aa) for π^{aa}, (g_bb, g_bb) for π^{bb}.
 *
 * Value returned (`divergence` in the result):
 *   debias on (default), balanced:
 *     S_ε = <a, f_ba − f_aa> + <b, g_ab − g_bb>                 (docs/math.md B.2)
 *   debias on, unbalanced:
 *     S_ε = (ρ + ε/2)[<a, e^{−f_aa/ρ} − e^{−f_ba/ρ}> + <b, e^{−g_bb/ρ} − e^{−g_ab/ρ}>]
 *   debias off, balanced: GeomLoss's <a, f_ba> + <b, g_ab>, which at the
 *     optimum equals OT_kl(α,β) − ε m(m − 1), m = m_α = m_β (so exactly
 *     OT_kl(α,β) when the masses are 1);
 *   debias off, unbalanced: GeomLoss's debias=False value
 *     (ρ + ε/2)[<a, 1 − e^{−f_ba/ρ}> + <b, 1 − e^{−g_ab/ρ}>],
 *     which at the optimum equals OT_kl(α,β) + ε(m_α + m_β)/2 − ε m_α m_β
 *     (so exactly OT_kl(α,β) when both masses are 1).  Only the α→β problem
 *     is solved when debias is off.
 * At convergence the debiased forms equal the definition above exactly (the
 * mass term and the constants cancel).  With the fixed schedule they are
 * GeomLoss's values, bit for bit up to rounding.
 *
 * Gradients (docs/math.md B.3).  Which gradient the functions below return
 * depends on the schedule of the solve:
 *   OTK_SCHEDULE_FIXED: GeomLoss's, the derivative of the value through the
 *     final extrapolation step alone, the potentials that step starts from
 *     held fixed (what SamplesLoss's autograd returns; agreement to 1e-10 is
 *     tested).  It is NOT the derivative of the value (the iterations before
 *     are not differentiated), so finite differences do not check it.  With
 *     f_ba = κ f̃ (f̃ the last soft-min, from g⁰_ab of the step before) and
 *     P^f_ij = b_j e^{(f̃_i + g⁰_ab,j − C_ij)/ε}:
 *       x_i: Σ_j κ w_i a_i P^f_ij ∇₁c(x_i, y_j) − (debias) the same on C_xx
 *            with f_aa; w_i = 1 balanced, ((ρ+ε/2)/ρ) e^{−f_ba,i/ρ} unbalanced;
 *       y_j: symmetric (g_ab from f⁰_ba; g_bb);
 *       a:   balanced f_ba − f_aa (debias off: f_ba), not projected;
 *            unbalanced (ρ+ε/2)(e^{−f_aa/ρ} − e^{−f_ba/ρ}) (debias off:
 *            (ρ+ε/2)(1 − e^{−f_ba/ρ}));  b: the same with g_ab, g_bb.
 *   OTK_SCHEDULE_CONVERGE: analytic by the envelope theorem from the final
 *     potentials (no differentiation through the iterations; exact at
 *     convergence, checked against finite differences):
 *   w.r.t. a: balanced: f_ba − f_aa minus its plain mean (Σ_i ∂_i = 0: the
 *               value is only defined for Σa = Σb, so the gradient is the
 *               projection onto the zero-sum hyperplane; debias off: f_ba
 *               minus its mean);
 *             unbalanced: (ρ+ε)(e^{−f_aa/ρ} − e^{−f_ba/ρ})
 *               (debias off: (ρ + ε/2) − (ρ+ε) e^{−f_ba/ρ}, the gradient of the
 *               debias-off value above);
 *   w.r.t. b: the same with g_ab, g_bb;
 *   w.r.t. x_i (point clouds): Σ_j π^{ab}_ij ∇₁c(x_i, y_j) − Σ_k π^{aa}_ik ∇₁c(x_i, x_k)
 *             (debias off: the first sum only), with ∇₁c = 2(x−y) for
 *             sqeuclidean, x−y for half-sqeuclidean, (x−y)/‖x−y‖ for
 *             euclidean, sign(x−y) for l1, P‖x−y‖^{P−2}(x−y) for lp,
 *             ‖x−y‖^{P−2}(x−y) for lp-over-p; the non-differentiable costs
 *             contribute 0 at x = y;
 *   w.r.t. y_j: symmetric, with π^{ab} by columns and π^{bb}.
 * The displacement fields below follow the same choice.
 *
 * Usage (plan once, execute many times):
 *
 *   otk_divergence_params par;
 *   otk_divergence_params_default(&par);
 *   par.blur = 0.05;
 *   otk_divergence *div;
 *   if (otk_divergence_alloc_points(&div, n, m, d, x, y, OTK_GROUND_HALF_SQEUCLIDEAN,
 *                                   0.0, &par) < 0) ... otk_last_error() ...
 *   otk_divergence_result res;
 *   otk_status st = otk_divergence_solve(div, a, b, &res);     // res.divergence
 *   otk_divergence_grad_x(div, gx);                            // n×d
 *   otk_divergence_set_points(div, x_new, NULL);               // gradient flow step
 *   ...
 *   otk_divergence_free(div);
 *
 * OWNERSHIP: alloc_points copies the coordinates (it builds the three point
 * costs itself and frees them with the object); alloc_costs borrows the three
 * costs, which must outlive the object.  All workspace is allocated by alloc:
 * set_points, solve, the gradients and the accessors allocate nothing.
 * Weights are copied by solve.  Outputs are caller-owned arrays.
 *
 * THREAD SAFETY: one object per thread; different objects may share borrowed
 * costs.  Inside a call, kernels run on params.threads OpenMP threads; each
 * output entry is reduced by one thread in a fixed order, so results do not
 * depend on the thread count.  Error messages are thread-local (otk_last_error).
 */
#ifndef OTKIT_DIVERGENCE_H
#define OTKIT_DIVERGENCE_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* Target regularisation ε in cost units; 0 (default) = blur^p. */
    double eps;
    /* GeomLoss's blur (a length): ε = blur^p when eps is 0.  Default 0.05. */
    double blur;
    /* Marginal penalty ρ (cost units), the same on every side of the three
     * problems; INFINITY (default) = balanced. */
    double rho;
    /* GeomLoss's reach (a length): when > 0, sets rho = reach^p.  Default 0. */
    double reach;
    otk_schedule schedule; /* default OTK_SCHEDULE_CONVERGE */
    otk_update update;     /* α→β problem at the target ε (see above); default AUTO */
    /* ε-scaling: blur multiplied by `scaling` per annealing step, in (0, 1).
     * Default 0.5 (GeomLoss). */
    double scaling;
    /* Override the diameter D that starts the schedule (> 0); 0 = the C_xy
     * cost's otk_cost_diameter (for point clouds: GeomLoss's bounding-box
     * diagonal of x ∪ y). */
    double diameter;
    /* Override the exponent p used by blur, reach and the schedule (> 0);
     * 0 = the C_xy cost's otk_cost_exponent (dense costs have none: there
     * blur and reach need p, or give eps and rho). */
    double p;
    /* 1 (default): the debiased S_ε; 0: OT_kl(α,β) only (see above). */
    int debias;
    /* CONVERGE only: stop when the relative L1 marginal error (otkit/sinkhorn.h)
     * of each solved problem is <= tol.  Default 1e-6. */
    double tol;
    /* CONVERGE only: maximum number of updates at the target ε.  Default 10000. */
    int max_iter;
    /* OpenMP threads inside each call: 0 = OpenMP's default, 1 = serial. */
    int threads;
    /* Scale-aware ε, OTT's relative_epsilon (docs/math.md A.10): when > 0,
     * ε = relative_eps × stat(C), stat = relative_to (otk_cost_statistic,
     * otkit/cost.h) of C_xy, computed once by alloc.  blur is then unused;
     * eps and relative_eps both set is OTK_EPARAM.  0 (default): not set. */
    double relative_eps;
    otk_relative_to relative_to; /* default OTK_RELATIVE_MEAN (OTT's choice) */
    /* OTT's scale_cost: solve for C/s, s = scale_cost (> 0) or the statistic
     * scale_cost_stat (an otk_relative_to) of C_xy; the same s and ε serve
     * the three problems.  Not set: scale_cost 0 and scale_cost_stat -1 (the
     * defaults); both set is OTK_EPARAM.  eps, blur^p, rho and reach^p are
     * then in units of C/s (a relative ε is relative_eps × stat(C));
     * diameter stays in units of C.  Everything reported (values, potentials, eps, rho) is in
     * units of C, s times what OTT reports for C/s; result.scale_cost is s. */
    double scale_cost;
    int scale_cost_stat;
    /* otk_divergence_alloc_points only: the most memory (bytes) the object
     * may spend on keeping its cost matrices (otk_cost_points_cache) instead
     * of recomputing c(x_i, y_j) in every pass; C_xy (8·n·m bytes) is kept
     * first, then C_xx (8·n²) and C_yy (8·m²) while the budget lasts, and
     * set_points refills them.  Pays off in dimension d >= 8 or so (see
     * otk_cost_points_cache).  Default 0: memory O((n+m)·d). */
    size_t cache_bytes;
    /* The evaluation of the soft-mins (otk_backend, otkit/sinkhorn.h),
     * chosen on C_xy (AUTO: multiscale for float64 clouds in d <= 3 with
     * n·m >= 10^8) and applied to all three costs; dense keeps all three
     * matrices whatever cache_bytes says.  Default AUTO.  An object with the
     * dense or multiscale backend keeps its own copies of the costs:
     * otk_divergence_set_points is then OTK_EUNSUPPORTED. */
    otk_backend backend;
    /* Multiscale: the truncation threshold (otk_sinkhorn_params.truncate,
     * docs/math.md A.11), > 0, INFINITY = keep every block.  Default 12. */
    double truncate;
    /* Progress (otk_sinkhorn_params.progress): otk_divergence_solve calls
     * progress(info, progress_ctx) after every update that leaves the solve
     * running (one update advances the three problems together; the marginal
     * error is their largest).  A nonzero return stops the solve there (see
     * otk_divergence_solve).  Default NULL. */
    otk_progress_fn progress;
    void *progress_ctx;
} otk_divergence_params;

/* Fill `params` with the defaults documented above.  NULL is ignored. */
OTK_EXPORT void otk_divergence_params_default(otk_divergence_params *params);

typedef struct {
    double divergence;     /* the value (see "Value returned"), cost units */
    double eps;            /* target ε used */
    double rho;            /* ρ used (INFINITY = balanced) */
    double mass_a, mass_b; /* Σa, Σb */
    /* CONVERGE: the largest relative L1 marginal error of the solved problems
     * at the returned potentials.  FIXED: NAN (GeomLoss does not measure it;
     * otk_divergence_marginal_error measures it on demand). */
    double marginal_error;
    int iterations;           /* updates run, annealing included; FIXED: the
                                 length of the ε-list, as GeomLoss counts */
    int annealing_iterations; /* of which before the target ε (all but the last listed ε of the fixed schedule) */
    otk_status status;        /* OTK_SUCCESS or OTK_NOT_CONVERGED (OTK_CONTINUE:
                                 stopped by params.progress) */
    otk_update update;        /* the update rule run, OTK_UPDATE_AUTO resolved (the fixed
                                 schedule always runs SYMMETRIC, as GeomLoss) */
    double scale_cost;        /* scale_cost's s (1 when not set) */
    otk_backend backend;      /* the backend run, OTK_BACKEND_AUTO resolved */
    /* Multiscale: the largest, over the solved problems, upper bound on the
     * plan mass of the dropped blocks at the returned potentials relative to
     * the problem's row mass (otk_sinkhorn_result.truncation_bound; docs/math.md
     * A.11).  The value then differs from that of the untruncated problems at
     * the same potentials by at most about 2ε·mass·truncation_bound per
     * problem, and each gradient row by at most the dropped mass times the
     * largest |∇c| over the dropped pairs.  0 for the other backends. */
    double truncation_bound;
} otk_divergence_result;

typedef struct otk_divergence otk_divergence;

/* Plan a divergence between two point clouds.
 *   out     output: the object (NULL on failure).
 *   n, m, d input: numbers of points (> 0) and dimension (> 0).
 *   x, y    input: n×d and m×d row-major coordinates, finite; copied.
 *   ground  input: the ground cost (otkit/cost.h), used for C_xy, C_xx, C_yy.
 *   power   input: P for OTK_GROUND_LP / OTK_GROUND_LP_OVER_P, else ignored.
 *   params  input: copied; NULL = defaults.
 * Memory O((n+m)·d): no n×m array is stored unless params.cache_bytes asks.
 * Errors: OTK_ENULL, OTK_ESIZE, OTK_ENONFINITE (naming x or y and the index),
 * OTK_EPARAM (naming the field), OTK_EUNSUPPORTED (params.backend multiscale
 * with d > 3 or the l1 ground), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_divergence_alloc_points(otk_divergence **out, size_t n, size_t m,
                                                  size_t d, const double *x, const double *y,
                                                  otk_ground ground, double power,
                                                  const otk_divergence_params *params);

/* The same with float32 coordinates: the three costs are otk_cost_points_f32
 * (otkit/cost.h: float32 soft-mins, float64 plan reductions, so potentials,
 * values and gradients come back in float64 within the accuracy stated there;
 * docs/math.md A.7 has measured errors).  A cache_bytes budget keeps float64
 * matrices, whose soft-mins then run in float64.  Each cost keeps float32 and
 * float64 copies of its points: 12 bytes per coordinate instead of 8.
 * Errors: as otk_divergence_alloc_points. */
OTK_EXPORT otk_status otk_divergence_alloc_points_f32(otk_divergence **out, size_t n, size_t m,
                                                      size_t d, const float *x, const float *y,
                                                      otk_ground ground, double power,
                                                      const otk_divergence_params *params);

/* Bytes of cost matrices the object keeps under params.cache_bytes (C_xy,
 * C_xx, C_yy as far as the budget went); 0 when all are computed on the fly,
 * for objects of otk_divergence_alloc_costs (their costs are the caller's)
 * and for NULL.  Reads only: safe while no other call uses `div`. */
OTK_EXPORT size_t otk_divergence_cache_bytes(const otk_divergence *div);

/* Plan a divergence on three user costs (any kind), borrowed.
 *   C_xy  input: n×m, the cost between the two measures.
 *   C_xx  input: n×n, the cost of α with itself, symmetric (C_xx = C_xxᵀ).
 *   C_yy  input: m×m, likewise for β.
 *   C_xx and C_yy may be NULL when params->debias is 0.
 * The schedule's diameter and exponent come from C_xy (or params).  Gradients
 * w.r.t. the points are OTK_EUNSUPPORTED unless all three are point clouds,
 * for which the caller guarantees C_xx is built on (x, x) and C_yy on (y, y).
 * Errors: OTK_ENULL, OTK_ESIZE (shapes do not match: naming the cost),
 * OTK_EPARAM, OTK_ENOMEM. */
OTK_EXPORT otk_status otk_divergence_alloc_costs(otk_divergence **out, const otk_cost *C_xy,
                                                 const otk_cost *C_xx, const otk_cost *C_yy,
                                                 const otk_divergence_params *params);

/* Free the object (and the costs alloc_points built); NULL is accepted. */
OTK_EXPORT void otk_divergence_free(otk_divergence *div);

/* Move the points of an object made by alloc_points (gradient flows): x (n×d)
 * and/or y (m×d), NULL = unchanged; copied; the diameter is recomputed unless
 * params.diameter fixed it.  The previous solution is discarded (solve again
 * before reading values or gradients).  Allocates nothing.
 * Errors: OTK_ENULL (div), OTK_EUNSUPPORTED (object made by alloc_costs),
 * OTK_ENONFINITE (naming x or y and the index), OTK_EPARAM (the new diameter
 * makes the schedule invalid). */
OTK_EXPORT otk_status otk_divergence_set_points(otk_divergence *div, const double *x,
                                                const double *y);

/* otk_divergence_set_points for an object of otk_divergence_alloc_points_f32,
 * with float32 coordinates (otk_divergence_set_points also accepts float64
 * ones, rounded to float32).  Errors: OTK_ENULL (div), OTK_EUNSUPPORTED (not
 * an alloc_points_f32 object), OTK_ENONFINITE (naming x or y and the index;
 * nothing is changed), OTK_EPARAM (as otk_divergence_set_points). */
OTK_EXPORT otk_status otk_divergence_set_points_f32(otk_divergence *div, const float *x,
                                                    const float *y);

/* Solve for weights a (n) and b (m), copied; NULL = uniform 1/n (1/m).  Zero
 * weights are allowed; each side needs positive mass.  Runs the whole schedule.
 *   res  output, may be NULL.
 * Returns OTK_SUCCESS, OTK_NOT_CONVERGED (CONVERGE reached max_iter, a
 * positive warning: the potentials, the result and the gradients are those of
 * the best iterate, the one with the smallest marginal error measured at the
 * target ε), or an error:
 * OTK_ENULL, OTK_ENONFINITE / OTK_ENEGATIVE / OTK_EZEROMASS (naming the array
 * and index), OTK_EMASS (balanced with |Σa − Σb| > 1e-9·max(Σa, Σb)),
 * OTK_ENUMERIC (non-finite potential).
 * OTK_CONTINUE (a positive status) when params.progress stopped the solve:
 * the value, result (status OTK_CONTINUE; marginal_error NAN when stopped
 * while annealing) and gradients are those of the potentials of that
 * update, with the formulas of the converge schedule (the gradients of
 * the divergence at converged potentials, approximate here). */
OTK_EXPORT otk_status otk_divergence_solve(otk_divergence *div, const double *a,
                                           const double *b, otk_divergence_result *res);

/* The marginal error of the current potentials, measured now (four soft-min
 * passes): the largest relative L1 error of the solved problems, as in
 * otkit/sinkhorn.h.  Errors: OTK_ENULL, OTK_ESTATE (no successful solve). */
OTK_EXPORT otk_status otk_divergence_marginal_error(otk_divergence *div, double *err);

/* The transport cost <π^{ab}, C_xy> (OT_lin of the α→β problem, cost units)
 * of the current potentials, in one pass over the cost.
 * Errors: OTK_ENULL, OTK_ESTATE. */
OTK_EXPORT otk_status otk_divergence_transport_cost(otk_divergence *div, double *value);

/* Read-only views of the potentials (GeomLoss gauge): f_ba (n), g_ab (m),
 * f_aa (n), g_bb (m); valid until the next solve/set_points/free.  Any pointer
 * may be NULL.  f_aa and g_bb are NULL when debias is off.
 * Errors: OTK_ENULL (div), OTK_ESTATE (no successful solve). */
OTK_EXPORT otk_status otk_divergence_potentials(const otk_divergence *div, const double **f_ba,
                                                const double **g_ab, const double **f_aa,
                                                const double **g_bb);

/* The plan of the α→β problem, π^{ab}_ij = a_i b_j exp((f_ba_i + g_ab_j −
 * C_xy_ij)/ε) (GeomLoss's, from the returned potentials; on the fixed
 * schedule its marginals are a and b only up to the unconverged error), never
 * formed for point clouds (otk_cost_plan_reduce):
 *   plan_apply   axis 0: out (n×k) = π·in, in m×k row-major;
 *                axis 1: out (m×k) = πᵀ·in, in n×k row-major;
 *   barycentric  out_i = Σ_j π_ij Y_j / Σ_j π_ij (n×k), the barycentric
 *                projection T(x_i) when Y holds the target points; rows
 *                without mass are NAN;
 *   plan         the dense n×m plan, row-major, into the caller's P (small
 *                problems: the caller decides by allocating P).
 * Each runs one or two passes over C_xy and allocates nothing; they use the
 * object's workspace, so calls on one object must not overlap.
 * Errors: OTK_ENULL, OTK_ESTATE (no successful solve), OTK_EPARAM (axis),
 * OTK_ESIZE (k = 0), OTK_ENUMERIC (plan: an entry overflows). */
OTK_EXPORT otk_status otk_divergence_plan_apply(otk_divergence *div, int axis, size_t k,
                                                const double *in, double *out);
OTK_EXPORT otk_status otk_divergence_barycentric(otk_divergence *div, size_t k, const double *Y,
                                                 double *out);
OTK_EXPORT otk_status otk_divergence_plan(otk_divergence *div, double *P);

/* Gradients of the returned value w.r.t. the weights: grad_a (n entries),
 * grad_b (m entries), formulas above.  Errors: OTK_ENULL, OTK_ESTATE. */
OTK_EXPORT otk_status otk_divergence_grad_a(otk_divergence *div, double *grad_a);
OTK_EXPORT otk_status otk_divergence_grad_b(otk_divergence *div, double *grad_b);

/* Gradients w.r.t. the points: grad_x (n×d row-major), grad_y (m×d), in one
 * pass over C_xy and one over C_xx (C_yy).  Point clouds only.
 * Errors: OTK_ENULL, OTK_ESTATE, OTK_EUNSUPPORTED (the costs are not point
 * clouds). */
OTK_EXPORT otk_status otk_divergence_grad_x(otk_divergence *div, double *grad_x);
OTK_EXPORT otk_status otk_divergence_grad_y(otk_divergence *div, double *grad_y);

/* Displacement fields for gradient flows: grad_x row i divided by a_i (n×d),
 * computed directly from the conditional plans π_ij / a_i, so rows with
 * a_i = 0 get their well-defined limit instead of 0/0.  For half-sqeuclidean
 * this is (barycentre of x under π^{aa}_{i·}/a_i) − (barycentre of y under
 * π^{ab}_{i·}/a_i); x_i − τ·displacement_i is the explicit Euler step of the
 * Wasserstein gradient flow of S_ε.  displacement_y likewise (m×d).
 * Errors: as for the gradients. */
OTK_EXPORT otk_status otk_divergence_displacement_x(otk_divergence *div, double *disp_x);
OTK_EXPORT otk_status otk_divergence_displacement_y(otk_divergence *div, double *disp_y);

/* GeomLoss's named cost for exponent p: p = 2 → OTK_GROUND_HALF_SQEUCLIDEAN,
 * p = 1 → OTK_GROUND_EUCLIDEAN, otherwise OTK_GROUND_LP_OVER_P with power p
 * (|x−y|^p / p).  Errors: OTK_ENULL, OTK_EPARAM (p not finite and > 0). */
OTK_EXPORT otk_status otk_divergence_geomloss_ground(double p, otk_ground *ground,
                                                     double *power);

/* The GeomLoss front door, one shot: the value of
 *   SamplesLoss("sinkhorn", p=p, blur=blur, reach=reach, diameter=diameter,
 *               scaling=scaling, debias=debias)(a, x, b, y)
 * on the cost |x−y|^p / p (otk_divergence_geomloss_ground), with the FIXED
 * schedule: the same ε-list and iterations as GeomLoss.
 *   value     output: the value (see "Value returned").
 *   a, b      input: weights, NULL = uniform.
 *   reach     0 = None (balanced); diameter 0 = None (bounding box).
 *   res       output, may be NULL: the full result.
 * Allocates and frees an object internally.  Errors: as alloc_points and
 * solve. */
OTK_EXPORT otk_status otk_divergence_geomloss(double *value, size_t n, size_t m, size_t d,
                                              const double *x, const double *y,
                                              const double *a, const double *b, double p,
                                              double blur, double reach, double scaling,
                                              double diameter, int debias,
                                              otk_divergence_result *res);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_DIVERGENCE_H */
