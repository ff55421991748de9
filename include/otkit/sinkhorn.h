/*
 * otkit/sinkhorn.h — log-domain Sinkhorn, balanced and unbalanced, with
 * ε-scaling (docs/math.md section A and "Decisions").
 *
 * STABILITY: stable: the parameters, results, statuses and conventions here
 * change only with a major version.
 *
 * Problem.  Given weights a (n), b (m) and a cost C (otkit/cost.h), solve
 *
 *   OT_kl = min_{P >= 0} <P,C> + ε KL(P | a⊗b) + ρ_a KL(P1 | a) + ρ_b KL(Pᵀ1 | b)
 *
 * where ρ = +∞ (the default) turns a side into a hard constraint (balanced
 * problem: P1 = a, Pᵀ1 = b).  KL is the generalised Kullback–Leibler divergence.
 *
 * Potentials are stored in the GeomLoss gauge:
 *   P_ij = a_i b_j exp((f_i + g_j − C_ij) / ε).
 * otk_potential_convert() gives the POT (log u, log v) and OTT (f', g') gauges.
 *
 * Updates (log domain, docs/math.md A.2), with the soft-min
 *   smin^b(g)_i = −ε log Σ_j b_j exp((g_j − C_ij)/ε)
 * and the damping κ = ρ/(ρ+ε) (κ = 1 when balanced):
 *   symmetric (GeomLoss):           f ← ½(f + κ_a smin^b(g)),  g ← ½(g + κ_b smin^a(f)),
 *                                   both from the previous pair;
 *   alternating (Sinkhorn–Knopp):   g ← κ_b smin^a(f), then f ← κ_a smin^b(g).
 * By default (OTK_UPDATE_AUTO) the fixed schedule uses the symmetric form and
 * the converge schedule the accelerated alternating one (below), for
 * annealing and target alike.
 *
 * Accelerated updates (docs/math.md A.9), alternating updates that reach the
 * same fixed point in fewer iterations:
 *   overrelaxed   at the target ε, g ← (1−ω) g + ω κ_b smin^a(f), then
 *                 f ← (1−ω) f + ω κ_a smin^b(g), with ω chosen from the
 *                 measured rate of the marginal error (windows of 8 updates;
 *                 ω = 1 until two windows agree, then the optimal SOR ω of
 *                 that rate, at most 1.98).  Safeguard: a window in which the
 *                 error did not fall sets ω back to 1 and halves ω's excess
 *                 over 1 for the rest of the solve.  The annealing steps run
 *                 ω = 1.
 *   translated    unbalanced problems: each half step also moves the other
 *                 potential by the translation (f + λ, g − λ) that maximises
 *                 the dual, in closed form (translation-invariant Sinkhorn,
 *                 Séjourné, Vialard & Peyré 2022), so the iteration count no
 *                 longer grows with ρ/ε.  Balanced problems: bitwise the
 *                 alternating update.
 *   accelerated   both (the converge schedule's default).
 * The symmetric problems of the debiased divergence keep the symmetric form.
 *
 * Schedules (docs/math.md decision 4, A.5):
 *   OTK_SCHEDULE_FIXED     legacy GeomLoss: ε runs through
 *                          [D^p] ++ exp(arange(p ln D, p ln blur, p ln scaling)) ++ [blur^p]
 *                          with one symmetric update per value, then one final
 *                          "extrapolation" update from the previous pair without
 *                          averaging.  Exactly the iterations GeomLoss runs.  D is
 *                          the cost's diameter, p its exponent, blur = ε^(1/p).
 *   OTK_SCHEDULE_CONVERGE  (default) the same annealing, then updates at the
 *                          target ε until the marginal error <= tol or max_iter.
 *                          A guard (docs/math.md A.5) watches the annealed run:
 *                          when its rate at the target ε predicts more than 4k
 *                          further updates after k = 16, 32, ... updates, it
 *                          runs the no_annealing solve for k/4 updates and
 *                          continues whichever pair has the smaller error after
 *                          equally many (the probe ends the solve if it meets
 *                          tol).
 *                          Where it does not fire the solve is bitwise the
 *                          annealed one.
 *
 * Marginal error (reported and used to stop): with r = P1 and c = Pᵀ1,
 *   err = ‖r − a∘exp(−f/ρ_a)‖₁ / m_a + ‖c − b∘exp(−g/ρ_b)‖₁ / m_b
 * (the exponentials are 1 on a balanced side), i.e. the relative L1 violation of
 * the optimality conditions.  It is computed from the soft-mins the update needs
 * anyway, so checking it every iteration costs nothing.
 *
 * Values (all three are reported, docs/math.md decision 2):
 *   OT_kl   the dual objective at the current potentials,
 *             ρ_a<a, 1 − e^{−f/ρ_a}> + ρ_b<b, 1 − e^{−g/ρ_b}> − ε(ΣP − m_a m_b),
 *           where a balanced side contributes <a,f> (resp. <b,g>) instead; it
 *           equals the primal <P,C> + ε KL(P|a⊗b) (+ the ρ terms) at convergence.
 *           Balanced problems use ΣP = m_a, so for unit masses OT_kl = <a,f> +
 *           <b,g>, GeomLoss's value (Feydy eq. 3.207) also on an unconverged
 *           fixed schedule; for other masses it adds −ε(m_a − m_a m_b), which
 *           GeomLoss omits.
 *   OT_ent  OT_kl − ε (H(a) + H(b)), H(a) = −Σ a log a (OTT's ent_reg_cost).
 *           When the marginals are met it equals <P,C> − ε H(P) + ε m_a (m_b − 1),
 *           i.e. exactly <P,C> − ε H(P) for unit masses.
 *   OT_lin  <P,C>, the "sharp" transport cost of the entropic plan (POT
 *           sinkhorn2's value).
 *
 * Usage (plan once, execute many times):
 *
 *   otk_sinkhorn_params par;
 *   otk_sinkhorn_params_default(&par);
 *   par.eps = 1e-2;
 *   otk_sinkhorn *s;
 *   if (otk_sinkhorn_alloc(&s, cost, &par) < 0) ... otk_last_error() ...
 *   otk_sinkhorn_result res;
 *   otk_status st = otk_sinkhorn_solve(s, a, b, &res);   // or set / iterate loop
 *   otk_sinkhorn_free(s);
 *
 * OWNERSHIP: the solver borrows the cost (keep it alive until the solver is
 * freed) and owns its workspace: after alloc, set/iterate/solve/result allocate
 * nothing.  Weights passed to set() are copied.
 *
 * THREAD SAFETY: one solver per thread.  Different solvers may share a cost.
 * Inside a call, kernels run on params.threads OpenMP threads; each output entry
 * is reduced by a single thread in a fixed order, so results do not depend on
 * the thread count (they are bitwise identical on the same machine).
 */
#ifndef OTKIT_SINKHORN_H
#define OTKIT_SINKHORN_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTK_SCHEDULE_MAP(X)                                                                  \
    X(OTK_SCHEDULE_CONVERGE, 0, "converge") /* anneal, then iterate to tolerance (default) */ \
    X(OTK_SCHEDULE_FIXED, 1, "fixed")       /* legacy GeomLoss schedule, no tolerance test */
typedef enum { OTK_SCHEDULE_MAP(OTK_ENUM_MEMBER_) } otk_schedule;

/* OTK_UPDATE_AUTO, the default, is SYMMETRIC for the fixed schedule (as
 * GeomLoss) and ACCELERATED for converge (chosen by measurement,
 * bench/results/accel.md); otk_sinkhorn_result.update says which ran.
 * OVERRELAXED, TRANSLATED and ACCELERATED are ALTERNATING updates with the
 * accelerations described under "Accelerated updates" above; each reaches
 * the same fixed point. */
#define OTK_UPDATE_MAP(X)                                                                    \
    X(OTK_UPDATE_AUTO, 0, "auto")                                                            \
    X(OTK_UPDATE_SYMMETRIC, 1, "symmetric")     /* averaged parallel updates (GeomLoss) */   \
    X(OTK_UPDATE_ALTERNATING, 2, "alternating") /* g then f: Sinkhorn–Knopp, POT, OTT */     \
    X(OTK_UPDATE_OVERRELAXED, 3, "overrelaxed") /* alternating, adaptive ω at the target ε */ \
    X(OTK_UPDATE_TRANSLATED, 4, "translated")   /* alternating, translation-invariant */     \
    X(OTK_UPDATE_ACCELERATED, 5, "accelerated") /* overrelaxed and translated */
typedef enum { OTK_UPDATE_MAP(OTK_ENUM_MEMBER_) } otk_update;

/* How the soft-mins of a point-cloud cost are evaluated (docs/math.md A.11):
 *   online      the cost as given: C_ij computed on the fly in tiles (or
 *               read from a matrix the caller kept);
 *   dense       the n×m cost matrix kept in memory (8·n·m bytes; OTK_ENOMEM
 *               when it cannot be allocated);
 *   multiscale  clouds in d <= 3 clustered on a regular grid: the annealing
 *               runs on the clusters (centroids, summed weights) while ε is
 *               above the cell size (ε > cell^p), the potentials are then
 *               extrapolated to the points (GeomLoss's jump), and from there
 *               every soft-min runs only over the blocks of cluster pairs
 *               kept by the truncation rule (params.truncate): O(n + m +
 *               kept pairs) per pass instead of O(n·m);
 *   auto        (default) multiscale for float64 point clouds with d <= 3,
 *               a ground other than l1 and n·m >= 10^8 (OTK_BACKEND_AUTO_PAIRS);
 *               online otherwise, so every smaller problem solves exactly as
 *               without the parameter.
 * Costs that are not point clouds run as given (online; a dense cost is
 * dense); forcing multiscale on them, on float32 clouds (otk_cost_points_f32:
 * the clusters, bounds and block kernels are float64 only; auto runs float32
 * clouds online), on d > 3 or on the l1 ground is OTK_EUNSUPPORTED. */
#define OTK_BACKEND_MAP(X)                                                                   \
    X(OTK_BACKEND_AUTO, 0, "auto")                                                           \
    X(OTK_BACKEND_ONLINE, 1, "online")                                                       \
    X(OTK_BACKEND_DENSE, 2, "dense")                                                         \
    X(OTK_BACKEND_MULTISCALE, 3, "multiscale")
typedef enum { OTK_BACKEND_MAP(OTK_ENUM_MEMBER_) } otk_backend;
/* The size n·m from which OTK_BACKEND_AUTO chooses multiscale. */
#define OTK_BACKEND_AUTO_PAIRS 1e8

/* The stages of a solve, in the order they run (otk_progress.stage):
 *   clusters   an annealing update on the clusters of the multiscale backend
 *              (ε above (cell/4)^p, the coarser cloud's cell side:
 *              centroids and summed weights; docs/math.md A.11);
 *   annealing  an annealing update on the points (every annealing update of
 *              the other backends);
 *   target     an update at the target ε: the converge schedule's updates
 *              after the annealing (the guard's probe included), and the
 *              fixed schedule's last listed ε. */
#define OTK_STAGE_MAP(X)                                                                     \
    X(OTK_STAGE_CLUSTERS, 0, "clusters")                                                     \
    X(OTK_STAGE_ANNEALING, 1, "annealing")                                                   \
    X(OTK_STAGE_TARGET, 2, "target")
typedef enum { OTK_STAGE_MAP(OTK_ENUM_MEMBER_) } otk_stage;

/* What a progress callback sees (otk_progress_fn below), and what
 * otk_sinkhorn_progress_info reads while a caller iterates. */
typedef struct {
    int iterations;        /* updates run so far, annealing and the guard's probe
                              included (otk_sinkhorn_result.iterations) */
    double eps;            /* the ε of the last update, cost units */
    double marginal_error; /* measured at the last update at the target ε;
                              NAN while annealing */
    otk_stage stage;       /* the stage of the last update (before the first:
                              annealing, or target for a solve that starts
                              there) */
    /* Batches (otkit/batch.h): the problem this report is about, the number
     * of problems finished so far, and OTK_CONTINUE while the problem runs
     * or its final status in the one report made when it ends.  A single
     * solve reports problem 0, done 0 and OTK_CONTINUE. */
    size_t problem, done;
    otk_status status;
} otk_progress;

/* A progress callback: called with `ctx` after every update that leaves the
 * solve running (never after the last one).  Return 0 to go on, nonzero to
 * stop the solve there (see params.progress).  `info` is valid during the
 * call only. */
typedef int (*otk_progress_fn)(const otk_progress *info, void *ctx);

/* Name tables (otkit/names.h): the names above, NULL for an invalid value;
 * the parsers return OTK_SUCCESS, OTK_ENULL, or OTK_EPARAM with a message
 * listing the names. */
OTK_EXPORT const char *otk_backend_name(otk_backend backend);
OTK_EXPORT otk_status otk_backend_from_name(const char *name, otk_backend *backend);
OTK_EXPORT const char *otk_schedule_name(otk_schedule schedule);
OTK_EXPORT otk_status otk_schedule_from_name(const char *name, otk_schedule *schedule);
OTK_EXPORT const char *otk_update_name(otk_update update);
OTK_EXPORT otk_status otk_update_from_name(const char *name, otk_update *update);
OTK_EXPORT const char *otk_stage_name(otk_stage stage);
OTK_EXPORT otk_status otk_stage_from_name(const char *name, otk_stage *stage);

typedef struct {
    /* Target regularisation ε, in cost units.  0 (the default) means "use blur":
     * ε = blur^p with p the cost's exponent. */
    double eps;
    /* GeomLoss's blur (a length): ε = blur^p when eps is 0.  Default 0.05.
     * Needs an exponent: a dense, sparse or callback cost has none
     * (otk_cost_exponent 0), so there set eps, or p. */
    double blur;
    /* Marginal penalties ρ (cost units) on the source and target sides;
     * INFINITY (the default) = balanced side. */
    double rho_a, rho_b;
    /* GeomLoss's reach (a length): when > 0, sets rho_a = rho_b = reach^p.
     * Default 0 (unused). */
    double reach;
    otk_schedule schedule; /* default OTK_SCHEDULE_CONVERGE */
    otk_update update;     /* default OTK_UPDATE_AUTO */
    /* ε-scaling: blur is multiplied by `scaling` per annealing step (ε by
     * scaling^p).  In (0, 1); default 0.5 (GeomLoss). */
    double scaling;
    /* Override the cost's diameter D (> 0); 0 = otk_cost_diameter(). */
    double diameter;
    /* Override the cost's exponent p used by blur/reach and the schedule (> 0);
     * 0 = otk_cost_exponent() (for a cost without one, blur and reach are
     * refused and the annealing runs in ε). */
    double p;
    /* CONVERGE only: relative L1 marginal tolerance (see above).  Default 1e-6. */
    double tol;
    /* CONVERGE only: maximum number of updates at the target ε (the annealing
     * steps are not counted; the guard's probe updates are).  Default 10000. */
    int max_iter;
    /* Skip the annealing and start at the target ε from zero potentials
     * (CONVERGE only).  Default 0. */
    int no_annealing;
    /* OpenMP threads used inside each call: 0 = OpenMP's default, 1 = serial. */
    int threads;
    /* Scale-aware ε, OTT's relative_epsilon (docs/math.md A.10): when > 0,
     * ε = relative_eps × stat(C), stat = relative_to (otk_cost_statistic,
     * otkit/cost.h) of the cost, computed once by alloc.  blur is then unused;
     * eps and relative_eps both set is OTK_EPARAM.  0 (default): not set. */
    double relative_eps;
    otk_relative_to relative_to; /* default OTK_RELATIVE_MEAN (OTT's choice) */
    /* OTT's scale_cost: solve for C/s, s = scale_cost (> 0) or the statistic
     * scale_cost_stat (an otk_relative_to) of the cost.  Not set:
     * scale_cost 0 and scale_cost_stat -1 (the defaults); both set is
     * OTK_EPARAM.  eps, blur^p, rho_a, rho_b and reach^p are then in units
     * of C/s (a relative ε is relative_eps × stat(C)); diameter stays in
     * units of C.  Everything reported (values, potentials, eps, rho) is in
     * units of C, s times what OTT reports for C/s; result.scale_cost is s. */
    double scale_cost;
    int scale_cost_stat;
    /* The evaluation of the soft-mins (otk_backend above); default AUTO. */
    otk_backend backend;
    /* Multiscale only: the truncation threshold T > 0 (docs/math.md A.11).
     * Each time ε drops at the point level a block of cluster pairs (I, J)
     * is kept when an upper bound of (f_i + g_j − C_ij) over its pairs,
     * from the cluster radii and the current potentials, is >= −T·ε; every
     * dropped plan entry is then at most a_i b_j e^{−T}.  INFINITY keeps
     * every block (coarse-to-fine only).  Default 12 (e^{−12} ≈ 6e-6). */
    double truncate;
    /* Progress: otk_sinkhorn_solve calls progress(info, progress_ctx) after
     * every update that leaves the solve running, at every stage (the
     * multiscale clusters included), from the calling thread.  A nonzero
     * return stops the solve there: solve returns OTK_CONTINUE and the
     * result (status OTK_CONTINUE) and potentials are those of that update;
     * otk_sinkhorn_iterate would resume it.  A caller that runs iterate
     * itself is not called back: it reads otk_sinkhorn_progress_info.  The
     * distributed solvers (otkit/mpi.h) ignore it.  Default NULL (none). */
    otk_progress_fn progress;
    void *progress_ctx;
} otk_sinkhorn_params;

/* Fill `params` with the defaults documented above.  NULL is ignored. */
OTK_EXPORT void otk_sinkhorn_params_default(otk_sinkhorn_params *params);

typedef struct {
    double ot_kl, ot_ent, ot_lin; /* the three values (see above), cost units */
    double eps;                   /* target ε actually used */
    double rho_a, rho_b;          /* penalties actually used (INFINITY = balanced) */
    double mass_a, mass_b;        /* Σa, Σb */
    double marginal_error;        /* relative L1 error of the returned potentials */
    int iterations;               /* all updates run, annealing and the guard's
                                     probe included */
    int annealing_iterations;     /* of which before the target ε (all but the
                                     last listed ε of the fixed schedule) */
    otk_status status;            /* OTK_SUCCESS or OTK_NOT_CONVERGED;
                                     OTK_CONTINUE for a solve not run to its
                                     end (stopped by params.progress, or read
                                     between iterate calls) */
    otk_update update;            /* the update rule run: OTK_UPDATE_AUTO resolved
                                     (SYMMETRIC, or ACCELERATED for converge) */
    double scale_cost;            /* scale_cost's s (1 when not set) */
    otk_backend backend;          /* the backend run: OTK_BACKEND_AUTO resolved */
    /* Multiscale: an upper bound on the plan mass of the dropped blocks at
     * the returned potentials, Σ_dropped a_i b_j e^{(f_i+g_j−C_ij)/ε}, relative
     * to Σa (docs/math.md A.11): the untruncated problem's marginal error at
     * these potentials is at most marginal_error + 2·truncation_bound, and
     * its dual value differs from ot_kl by at most ε·Σa·truncation_bound.
     * 0 for the other backends and when every block is kept. */
    double truncation_bound;
} otk_sinkhorn_result;

typedef struct otk_sinkhorn otk_sinkhorn;

/* Plan a solver for `cost`.
 *   out     output: the solver (NULL on failure).
 *   cost    input: borrowed; must outlive the solver.  With the dense or
 *           multiscale backend (params.backend) the solver builds and owns
 *           its own copy of a point-cloud cost (the kept matrix, or the
 *           clustered points: O(n + m) memory plus two bit masks of at most
 *           32 MiB); every read-out then uses that copy.
 *   params  input: copied; NULL = defaults.
 * Allocates the whole workspace (O(n+m) doubles) and an ε-list of at least
 * 128 entries (otk_sinkhorn_set_eps below); any of these failing is OTK_ENOMEM.
 * Errors: OTK_ENULL, OTK_EPARAM (naming the field), OTK_EUNSUPPORTED (a
 * backend the cost does not allow, see otk_backend), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_sinkhorn_alloc(otk_sinkhorn **out, const otk_cost *cost,
                                         const otk_sinkhorn_params *params);

/* Free a solver; NULL is accepted. */
OTK_EXPORT void otk_sinkhorn_free(otk_sinkhorn *s);

/* Start a new problem with weights a (n) and b (m), copied.  NULL means uniform
 * weights 1/n (resp. 1/m).  Zero weights are allowed (their atoms get no
 * mass); at least one must be positive.  Potentials restart from zero and the
 * ε-schedule from its first value.
 * Errors: OTK_ENULL (solver), OTK_ENONFINITE, OTK_ENEGATIVE, OTK_EZEROMASS
 * (each naming the array and index), OTK_EMASS (balanced problem with
 * |Σa − Σb| > 1e-9·max(Σa, Σb)). */
OTK_EXPORT otk_status otk_sinkhorn_set(otk_sinkhorn *s, const double *a, const double *b);

/* Re-aim the solver at a new target ε (cost units, finite, > 0), for a
 * series of solves whose scale changes (otkit/monge_gap.h re-aims at an ε
 * relative to each evaluation's costs): params.eps becomes `eps` (blur and
 * relative_eps are no longer used; with scale_cost, eps is in units of C/s,
 * s as computed by alloc) and the ε-list is rebuilt from the cost's current diameter
 * (after otk_cost_points_set) or params.diameter.  The solver is then unset:
 * call otk_sinkhorn_set before iterating.  Allocates only when the new list
 * is longer than 128 entries and any list before.
 * Errors: OTK_ENULL, OTK_EPARAM (eps, or another ε than a heat-kernel cost
 * was built for), OTK_ENOMEM (the solver keeps its previous list). */
OTK_EXPORT otk_status otk_sinkhorn_set_eps(otk_sinkhorn *s, double eps);

/* Warm start: replace the potentials (GeomLoss gauge) after set(); the
 * annealing is skipped and iterations continue at the target ε.  NULL leaves
 * that side unchanged.  Errors: OTK_ENULL, OTK_ESTATE, OTK_ENONFINITE. */
OTK_EXPORT otk_status otk_sinkhorn_set_potentials(otk_sinkhorn *s, const double *f,
                                                  const double *g);

/* One update.  Returns
 *   OTK_CONTINUE       call again;
 *   OTK_SUCCESS        done (tolerance reached, or the fixed schedule ended);
 *   OTK_NOT_CONVERGED  max_iter reached (a positive warning): the potentials
 *                      are the best iterate, the one with the smallest
 *                      marginal error measured at the target ε;
 *   OTK_ESTATE         set() was not called;
 *   OTK_ENUMERIC       a non-finite potential appeared (should not happen for
 *                      valid input; reported rather than propagated).
 * Calling iterate after it returned SUCCESS or NOT_CONVERGED returns that
 * status again and does nothing. */
OTK_EXPORT otk_status otk_sinkhorn_iterate(otk_sinkhorn *s);

/* Progress while iterating: the ε of the last update, the updates run so far
 * and the marginal error measured at the last update (NAN before the first
 * measurement).  Any pointer may be NULL. */
OTK_EXPORT void otk_sinkhorn_progress(const otk_sinkhorn *s, double *eps, int *iterations,
                                      double *marginal_error);

/* The same and the stage of the last update (otk_progress; problem, done 0
 * and status OTK_CONTINUE until iterate returned a final status, then that
 * status).  NULL arguments are ignored. */
OTK_EXPORT void otk_sinkhorn_progress_info(const otk_sinkhorn *s, otk_progress *info);

/* The values and statistics of the current potentials.  Computes <P,C> with one
 * pass over the cost (cached until the potentials change).
 * Errors: OTK_ENULL, OTK_ESTATE (no set()), OTK_ENUMERIC (a value is not
 * finite: potentials that lost their precision, e.g. the fixed schedule on
 * strongly unbalanced masses; `res` is filled, for inspection). */
OTK_EXPORT otk_status otk_sinkhorn_get_result(otk_sinkhorn *s, otk_sinkhorn_result *res);

/* set(), iterate until done, get_result().  Returns the final status of
 * iterate (OTK_SUCCESS or OTK_NOT_CONVERGED), OTK_CONTINUE when
 * params.progress stopped the solve, or an error.  `res` may be NULL. */
OTK_EXPORT otk_status otk_sinkhorn_solve(otk_sinkhorn *s, const double *a, const double *b,
                                         otk_sinkhorn_result *res);

/* Potentials in the GeomLoss gauge: f (n) and g (m) are read-only views into
 * the solver, valid until the next call that changes them. */
OTK_EXPORT const double *otk_sinkhorn_potential_f(const otk_sinkhorn *s);
OTK_EXPORT const double *otk_sinkhorn_potential_g(const otk_sinkhorn *s);

/* Plan reductions, computed on the fly (no n×m storage):
 *   row (n):   r_i = Σ_j P_ij;  col (m): c_j = Σ_i P_ij.  Either may be NULL.
 * Errors: OTK_ESTATE, OTK_ENUMERIC (an entry overflows; as get_result). */
OTK_EXPORT otk_status otk_sinkhorn_marginals(otk_sinkhorn *s, double *row, double *col);

/* Apply the plan to a matrix:
 *   axis 0:  out (n×k) = P · Y,  Y m×k row-major;
 *   axis 1:  out (m×k) = Pᵀ · X, X n×k row-major.
 * For barycentric projections divide row i of P·Y by r_i (or use
 * otk_sinkhorn_barycentric).  Errors: OTK_ENULL, OTK_ESTATE, OTK_EPARAM (axis),
 * OTK_ESIZE (k = 0). */
OTK_EXPORT otk_status otk_sinkhorn_plan_apply(otk_sinkhorn *s, int axis, size_t k,
                                              const double *in, double *out);

/* Barycentric projection of the source atoms: out_i = Σ_j P_ij Y_j / Σ_j P_ij
 * (n×k), the entropic map estimate when Y holds the target points.  Rows with
 * no mass are set to NAN. */
OTK_EXPORT otk_status otk_sinkhorn_barycentric(otk_sinkhorn *s, size_t k, const double *Y,
                                               double *out);

/* The dense plan, written row-major into the caller's P (n×m doubles).  Only
 * for small problems: the caller decides by allocating P.  Errors: OTK_ENULL,
 * OTK_ESTATE, OTK_ENUMERIC (an entry overflows; as get_result). */
OTK_EXPORT otk_status otk_sinkhorn_plan(otk_sinkhorn *s, double *P);

/* Potential gauges. */
#define OTK_GAUGE_MAP(X)                                                                     \
    X(OTK_GAUGE_GEOMLOSS, 0, "geomloss") /* f with P = a b e^{(f+g−C)/ε} (otkit's own) */     \
    X(OTK_GAUGE_OTT, 1, "ott")           /* f' = f + ε log a, P = e^{(f'+g'−C)/ε}     */     \
    X(OTK_GAUGE_POT, 2, "pot")           /* log u = f'/ε,  P = diag(u) K diag(v)       */
typedef enum { OTK_GAUGE_MAP(OTK_ENUM_MEMBER_) } otk_gauge;
/* Name table (otkit/names.h). */
OTK_EXPORT const char *otk_gauge_name(otk_gauge gauge);
OTK_EXPORT otk_status otk_gauge_from_name(const char *name, otk_gauge *gauge);

/* Convert one potential (n entries, weights w) between gauges; in == out is
 * allowed.  Entries with w_i = 0 become −INFINITY in the OTT/POT gauges.
 * Errors: OTK_ENULL, OTK_EPARAM (eps or gauge). */
OTK_EXPORT otk_status otk_potential_convert(size_t n, double eps, const double *w,
                                            otk_gauge from, otk_gauge to,
                                            const double *in, double *out);

/* The ε-list of the GeomLoss legacy schedule for diameter D, exponent p, blur
 * and scaling (A.5): writes up to `cap` values into `list` (may be NULL) and
 * returns the full length, or a negative status for invalid arguments.  The
 * fixed schedule runs exactly this many symmetric updates, plus the final
 * extrapolation. */
OTK_EXPORT int otk_epsilon_schedule(double diameter, double p, double blur, double scaling,
                                    double *list, int cap);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_SINKHORN_H */
