/*
 * otkit/mapfit.h — fitting transport maps T_θ that push a source cloud μ onto
 * a target cloud ν while staying c-optimal (docs/math.md C.5):
 *
 *   L(θ) = S_ε(T_θ♯μ, ν) + λ · M̂(T_θ),
 *
 * with S_ε the debiased Sinkhorn divergence of otkit/divergence.h and M̂ the
 * empirical Monge gap of otkit/monge_gap.h on the source points
 * (M̂ = mean c(x_i, T(x_i)) − OT_ent).  The gradient w.r.t. θ is the chain rule
 * through the map: Σ_i J_θT(x_i)ᵀ (∂S/∂T(x_i) + λ ∂M̂/∂T(x_i)), with each
 * term's own gradient (the divergence's for its schedule, docs/math.md B.3;
 * the Monge gap's envelope gradient, C.4) and hand-written backpropagation
 * through the map.
 *
 * STABILITY: experimental.  The map families, the fitting parameters and
 * results, the enum and function names and the model-file format may still
 * change between minor versions (the file format keeps its version line, so
 * an old file is refused with a message, never misread).
 *
 * Map families.
 *   OTK_MAP_FAMILY_AFFINE
 *       T(x) = A x + b, A (d×d) and b (d); starts at the identity (A = I,
 *       b = 0).  d² + d parameters.
 *   OTK_MAP_FAMILY_MLP
 *       the residual network T(x) = x + MLP(x), with K hidden layers
 *       (1 <= K <= OTK_MAP_MAX_HIDDEN) of widths h_1..h_K:
 *         z_1 = W_1 x + c_1,  u_1 = σ(z_1),
 *         z_k = W_k u_{k−1} + c_k,  u_k = σ(z_k)  (k = 2..K),
 *         MLP(x) = W_{K+1} u_K + c_{K+1},
 *       σ = GELU (exact: z·Φ(z), Φ the standard normal CDF) or tanh.
 *       Initialisation from a seed (GSL's MT19937): hidden weights
 *       N(0, 1/fan_in), biases 0, and the output layer N(0, 10⁻⁴/fan_in), so
 *       the map starts close to the identity.
 *   OTK_MAP_FAMILY_ENTROPIC
 *       the entropic map of otkit/entropic_map.h (barycentric projection
 *       extended out of sample through the target potential): no
 *       parameters, no training; built by otk_map_fit_entropic.
 *
 * Parameter vector θ (otk_map_get_params / set_params, the order of the model
 * file and of the gradients):
 *   affine  A row-major (d² values), then b (d);
 *   mlp     for each linear layer k = 1..K+1 in turn: W_k row-major
 *           (out × in, i.e. h_k × h_{k−1} with h_0 = h_{K+1} = d), then c_k.
 *
 * Optimisers.
 *   OTK_OPTIMIZER_BFGS
 *       GSL's gsl_multimin_fdfminimizer_vector_bfgs2 on the full-batch
 *       objective (all n source and m target points); the default for the
 *       affine family.  One "iteration" is one gsl_multimin_fdfminimizer_iterate
 *       (line search included).  Stops when ‖∇L‖₂ <= grad_tol (OTK_SUCCESS),
 *       when the line search makes no progress right after a restart along
 *       the steepest descent (OTK_SUCCESS: the objective is known only to the
 *       accuracy of its Sinkhorn solves, so this is where it ends), or after
 *       `iters` iterations (OTK_NOT_CONVERGED).
 *   OTK_OPTIMIZER_ADAM
 *       Adam (Kingma & Ba 2015, with bias correction) on mini-batches: each
 *       step draws `batch` source points and `batch` target points without
 *       replacement (gsl_ran_choose on an MT19937 generator seeded with
 *       `seed`); batch 0 or >= n (m) uses all points.  The default for the
 *       MLP.  Runs exactly `iters` steps (OTK_SUCCESS) unless the callback
 *       stops it.
 *   OTK_OPTIMIZER_AUTO
 *       BFGS for the affine family, Adam for the MLP.
 *
 * λ schedule, as a function of the iteration/step k = 0, 1, ...:
 *   OTK_LAMBDA_SCHEDULE_CONSTANT  λ_k = lambda;
 *   OTK_LAMBDA_SCHEDULE_WARMUP    λ_k = lambda · min(1, (k + 1) / warmup_steps):
 *                                 a linear ramp reaching `lambda` at step
 *                                 warmup_steps−1.
 * Under BFGS a change of λ restarts the minimiser from the current θ (its
 * curvature model belongs to one objective), so a warm-up under BFGS spends
 * its first warmup_steps iterations as restarted line searches.
 *
 * Accuracy: the minimiser of L is not the OT map T* even with infinitely
 * many points: λ·M̂ pulls T off T♯μ = ν towards maps of smaller Monge gap,
 * by an amount that grows with λ and with the Monge gap's ε; among the maps
 * with T♯μ = ν, T* has the smallest Monge gap.  On samples, an S_ε blur well
 * below the spread of the data fits sampling noise, a Monge-gap ε below the
 * squared spacing of the points makes M̂ blind (the plan is the identity
 * coupling), and in high dimension a larger ε lowers M̂'s own sampling noise.
 * So for an accurate map take λ small (0.001–0.01 rather than OTT's 1), a
 * monge_gap.eps of the order of the std of its cost matrix, a blur of the
 * order of the data's spread, and enough points; fit on a subsample first
 * and continue from that map for large n.  The defaults derive these
 * settings from the data (below).  The measured effect of each setting
 * (L2-UVP against the closed-form Gaussian OT map, d = 2 to 64) is in
 * docs/math.md C.5 and bench/README.md (mapfit_uvp,
 * mapfit_population, mapfit_plugin).
 *
 * Derived settings.  Four parameters have a "not set" state, which is their
 * default, and are then derived from the data by otk_map_fit_resolve (the one
 * place of these rules: otk_map_fit and otk_map_objective call it, and the
 * CLI and the bindings leave the fields unset unless the user gives them):
 *   divergence.blur = 0 with divergence.eps = 0:
 *       blur = s · n_b^(−1/(d+4)),  s² = ½ (mean_i ‖x_i − x̄‖² + mean_j ‖y_j − ȳ‖²),
 *       s the RMS distance of the points to their cloud's centroid (both
 *       clouds averaged, all n and m points), n_b = min(n_batch, m_batch) the
 *       points one evaluation sees (n and m for BFGS, the mini-batch for
 *       Adam).  A blur of the order of the spread keeps S_ε off the sampling
 *       noise, which in dimension d sits at the spacing s·n^(−1/d); the
 *       exponent is that of a kernel-bandwidth rule (Silverman's).  A length:
 *       scaling x and y by c scales it by c.
 *   lambda = NAN:
 *       λ = 0.1 / d.  M̂ at the derived ε grows with the number of coordinates
 *       while the S_ε it is weighed against does not, and the population
 *       bias of λ·M̂ grows with λ (docs/math.md C.5); the constant is the
 *       Gaussian study's.  Dimensionless: unchanged by scaling the data.
 *   monge_gap.eps = 0 with monge_gap.relative_eps = 0:
 *       ε_M = 0.25 · mean_ij c(x_i, T_0(x_j)) on the starting map T_0 and the
 *       first n_b source points (for the identity and |x−y|², 0.25 · 2 ·
 *       mean ‖x_i − x̄‖² up to the i = j terms), held fixed for the whole fit.
 *       Far above the squared spacing of the points, so M̂ has signal and its
 *       Sinkhorn converges in tens of updates; in cost units: scaling by c
 *       scales it by c² for the squared costs.
 *   lr = NAN (Adam):
 *       lr = 10⁻³ · s.  Adam moves each parameter by about lr per step, and
 *       the output layer has to cover displacements of the data's size in
 *       `iters` steps (OTT's 1e-3 is this rule at s = 1).  Scales by c.
 * Any value given explicitly is used as given (a relative_eps > 0 keeps its
 * meaning: relative_eps · std (or mean) of the same costs, resolved once).
 * otk_map_fit_result reports the values used (blur, eps, monge_gap_eps,
 * lambda_target; the lr used is otk_map_fit_resolve's).
 *
 * Reproducibility: for a given seed, params and thread count the fitted
 * parameters are bitwise identical from run to run (the backpropagation is
 * serial in a fixed order; the Sinkhorn solvers reduce in a fixed order, so
 * in practice the result does not depend on the thread count either).
 *
 * Model files (otk_map_save / otk_map_load), a line-oriented text format:
 *   otkit-map 1                        magic and format version
 *   family affine|mlp|entropic
 *   dim D
 *   mlp only:       activation gelu|tanh
 *                   hidden K H_1 ... H_K
 *   affine, mlp:    params P            then P lines, one number each (θ above)
 *   entropic only:  ground NAME         an otk_ground_name
 *                   power P             (0 unless lp / lp-over-p)
 *                   eps E
 *                   atoms M             then M lines "y_1 ... y_D b g"
 *   end
 * Numbers are written with %.17g, so loading gives back the very doubles
 * saved.  Blank lines and lines starting with '#' are ignored.
 *
 * OWNERSHIP: an otk_map owns its parameters; every input array is borrowed
 * for the duration of the call only.  Outputs are caller-owned arrays.
 *
 * THREAD SAFETY: otk_map_apply and the getters may run concurrently on one
 * map; otk_map_fit and otk_map_set_params modify it (one thread at a time);
 * different maps may be fitted in different threads at once.  The library
 * never prints: progress goes to the optional callback.  Error messages are
 * thread-local (otk_last_error).
 * GSL's default error handler aborts the program.  The first call of
 * otk_map_alloc_mlp, otk_map_fit or otk_map_load (otk_map_load of an MLP)
 * switches it off, once per process and thread-safely (pthread_once), unless
 * the program has installed its own handler, which is then put back and
 * kept; otkit never touches the handler again.  A program that installs a
 * handler should do so before it fits maps (GSL's handler is one unlocked
 * global: setting it while another thread fits is a race in GSL itself).
 * otkit reads every GSL status from return values.
 */
#ifndef OTKIT_MAPFIT_H
#define OTKIT_MAPFIT_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"
#include "otkit/divergence.h"
#include "otkit/monge_gap.h"
#include "otkit/entropic_map.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each constant is OTK_ + its enum's name + the value (docs/conventions.md). */
#define OTK_MAP_FAMILY_MAP(X)                                                                \
    X(OTK_MAP_FAMILY_AFFINE, 0, "affine")                                                    \
    X(OTK_MAP_FAMILY_MLP, 1, "mlp")                                                          \
    X(OTK_MAP_FAMILY_ENTROPIC, 2, "entropic")
#define OTK_ACTIVATION_MAP(X) X(OTK_ACTIVATION_GELU, 0, "gelu") X(OTK_ACTIVATION_TANH, 1, "tanh")
#define OTK_OPTIMIZER_MAP(X)                                                                 \
    X(OTK_OPTIMIZER_AUTO, 0, "auto") X(OTK_OPTIMIZER_BFGS, 1, "bfgs")                         \
    X(OTK_OPTIMIZER_ADAM, 2, "adam")
#define OTK_LAMBDA_SCHEDULE_MAP(X)                                                           \
    X(OTK_LAMBDA_SCHEDULE_CONSTANT, 0, "constant") X(OTK_LAMBDA_SCHEDULE_WARMUP, 1, "warmup")
#define OTK_LR_SCHEDULE_MAP(X)                                                               \
    X(OTK_LR_SCHEDULE_CONSTANT, 0, "constant") X(OTK_LR_SCHEDULE_COSINE, 1, "cosine")
typedef enum { OTK_MAP_FAMILY_MAP(OTK_ENUM_MEMBER_) } otk_map_family;
typedef enum { OTK_ACTIVATION_MAP(OTK_ENUM_MEMBER_) } otk_activation;
typedef enum { OTK_OPTIMIZER_MAP(OTK_ENUM_MEMBER_) } otk_optimizer;
typedef enum { OTK_LAMBDA_SCHEDULE_MAP(OTK_ENUM_MEMBER_) } otk_lambda_schedule;
typedef enum { OTK_LR_SCHEDULE_MAP(OTK_ENUM_MEMBER_) } otk_lr_schedule;

/* The most hidden layers an MLP map may have. */
#define OTK_MAP_MAX_HIDDEN 8

typedef struct otk_map otk_map;

/* Name tables (otkit/names.h), used by the model files, the CLI and the
 * bindings: the names listed above; NULL for an invalid value; the parsers
 * return OTK_SUCCESS, OTK_ENULL, or OTK_EPARAM with a message listing the
 * names (the output is then untouched). */
OTK_EXPORT const char *otk_map_family_name(otk_map_family family);
OTK_EXPORT otk_status otk_map_family_from_name(const char *name, otk_map_family *family);
OTK_EXPORT const char *otk_activation_name(otk_activation activation);
OTK_EXPORT otk_status otk_activation_from_name(const char *name, otk_activation *activation);
OTK_EXPORT const char *otk_optimizer_name(otk_optimizer optimizer);
OTK_EXPORT otk_status otk_optimizer_from_name(const char *name, otk_optimizer *optimizer);
OTK_EXPORT const char *otk_lr_schedule_name(otk_lr_schedule schedule);
OTK_EXPORT otk_status otk_lr_schedule_from_name(const char *name, otk_lr_schedule *schedule);
OTK_EXPORT const char *otk_lambda_schedule_name(otk_lambda_schedule schedule);
OTK_EXPORT otk_status otk_lambda_schedule_from_name(const char *name,
                                                    otk_lambda_schedule *schedule);

/* ---------------------------------------------------------------- maps */

/* An affine map of dimension d (> 0), initialised to the identity.
 * Errors: OTK_ENULL, OTK_ESIZE, OTK_ENOMEM. */
OTK_EXPORT otk_status otk_map_alloc_affine(otk_map **out, size_t d);

/* A residual MLP map of dimension d with n_hidden (1..OTK_MAP_MAX_HIDDEN)
 * hidden layers of the given widths (each > 0), initialised from `seed` as
 * described above.  Errors: OTK_ENULL, OTK_ESIZE (d, n_hidden or a width,
 * naming it), OTK_EUNSUPPORTED (unknown activation), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_map_alloc_mlp(otk_map **out, size_t d, size_t n_hidden,
                                        const size_t *widths, otk_activation activation,
                                        unsigned long seed);

/* The entropic map between (x, uniform) and (y, uniform): otk_entropic_map_fit
 * with the ground cost and Sinkhorn params given (NULL = defaults), wrapped as
 * an otk_map.  Returns OTK_SUCCESS, OTK_NOT_CONVERGED (warning: the map is
 * built from the best iterate, as otk_entropic_map_fit's) or the errors of
 * otk_entropic_map_fit. */
OTK_EXPORT otk_status otk_map_fit_entropic(otk_map **out, size_t n, size_t m, size_t d,
                                           const double *x, const double *y, otk_ground ground,
                                           double power, const otk_sinkhorn_params *params);

/* Free a map; NULL is accepted. */
OTK_EXPORT void otk_map_free(otk_map *map);

/* What a map is.  All accept only a valid map (not NULL). */
OTK_EXPORT otk_map_family otk_map_get_family(const otk_map *map);
OTK_EXPORT size_t otk_map_get_dim(const otk_map *map);
/* Number of parameters θ (0 for the entropic family). */
OTK_EXPORT size_t otk_map_get_n_params(const otk_map *map);
/* MLP only: the activation, and the hidden widths (returns K; copies up to
 * `cap` widths into `widths`, which may be NULL).  0 for other families. */
OTK_EXPORT otk_activation otk_map_get_activation(const otk_map *map);
OTK_EXPORT size_t otk_map_get_hidden(const otk_map *map, size_t *widths, size_t cap);

/* Copy θ out of / into the map (otk_map_get_n_params values, order above).
 * Errors: OTK_ENULL, OTK_EUNSUPPORTED (entropic map), OTK_ENONFINITE
 * (set_params, naming theta and the index). */
OTK_EXPORT otk_status otk_map_get_params(const otk_map *map, double *theta);
OTK_EXPORT otk_status otk_map_set_params(otk_map *map, const double *theta);

/* tx = T(x) for n points (n×d row-major in and out; tx must not alias x).
 * threads: OpenMP threads, 0 = OpenMP's default; each point is computed by
 * one thread, so the result does not depend on it.
 * Errors: OTK_ENULL, OTK_ESIZE (n = 0), OTK_ENONFINITE (naming x and the
 * point), and for the entropic family those of otk_entropic_map_apply. */
OTK_EXPORT otk_status otk_map_apply(const otk_map *map, size_t n, const double *x, double *tx,
                                    int threads);

/* Backpropagation (vector–Jacobian product): grad_theta = Σ_i J_θT(x_i)ᵀ g_i
 * for n points x (n×d) and upstream gradients g = ∂L/∂T(x) (n×d), i.e. the
 * gradient w.r.t. θ of any loss L of the mapped points.  grad_theta has
 * otk_map_get_n_params entries and is overwritten.  Allocates a small scratch
 * buffer per call.  Errors: OTK_ENULL, OTK_ESIZE, OTK_EUNSUPPORTED
 * (entropic), OTK_ENONFINITE, OTK_ENOMEM. */
OTK_EXPORT otk_status otk_map_backprop(const otk_map *map, size_t n, const double *x,
                                       const double *g, double *grad_theta);

/* ---------------------------------------------------------------- fitting */

/* What the progress callback sees after each iteration/step: for Adam the
 * values on the step's batch before the update, for BFGS the values at the
 * new iterate (full batch; not at the line search's trial points). */
typedef struct {
    int iteration;     /* 0-based */
    double loss;       /* S + λ M on the batch of this step (BFGS: full batch) */
    double divergence; /* S_ε on that batch, cost units of params.ground */
    double monge_gap;  /* M̂ on that batch (0 when λ = 0: not evaluated) */
    double lambda;     /* λ of this step */
    double grad_norm;  /* ‖∇_θ L‖₂ */
} otk_map_progress;

/* Return 0 to continue, nonzero to stop the fit (the result then says
 * stopped = 1 and the status is OTK_SUCCESS). */
typedef int (*otk_map_progress_fn)(const otk_map_progress *info, void *ctx);

typedef struct {
    /* Weight λ >= 0 of the Monge gap (the value reached by the schedule).
     * Default NAN: derived, 0.1 / d ("Derived settings" above; OTT's
     * regularizer_strength is 1).  0 = fit S_ε alone (M̂ is then not part of
     * the loss). */
    double lambda;
    otk_lambda_schedule lambda_schedule; /* default OTK_LAMBDA_SCHEDULE_CONSTANT */
    int warmup_steps;                    /* OTK_LAMBDA_SCHEDULE_WARMUP: > 0; default 0 */
    otk_optimizer optimizer;             /* default AUTO: BFGS for affine, Adam for mlp */
    /* Iterations (BFGS) or steps (Adam); 0 (default) = 200 for BFGS, 1000
     * for Adam. */
    int iters;
    size_t batch;      /* Adam mini-batch size; default 256; 0 = full batch */
    /* Adam learning rate; default NAN: derived, 10⁻³·s ("Derived settings";
     * OTT's is 1e-3, the value for data of unit spread). */
    double lr;
    /* Adam's step size at step k of K = iters: OTK_LR_SCHEDULE_CONSTANT (default) lr;
     * OTK_LR_SCHEDULE_COSINE lr·½(1 + cos(πk/K)), optax's cosine_decay_schedule with
     * alpha = 0: the late steps average out the mini-batch noise. */
    otk_lr_schedule lr_schedule;
    double beta1;      /* default 0.9 */
    double beta2;      /* default 0.999 */
    double adam_eps;   /* default 1e-8 */
    double bfgs_step;  /* size of BFGS's first trial step, default 0.1 */
    double bfgs_tol;   /* BFGS line-search tolerance, default 0.1 (GSL's advice) */
    double grad_tol;   /* BFGS stops when ‖∇L‖₂ <= grad_tol; default 1e-7 */
    unsigned long seed; /* mini-batch sampling; default 0 */
    /* The fitting loss S_ε: its ground cost (default OTK_GROUND_HALF_SQEUCLIDEAN,
     * GeomLoss's p = 2) and parameters (blur, eps, ...): default
     * otk_divergence_params_default except blur = 0 (with eps = 0: derived
     * from the clouds, "Derived settings" above) and schedule =
     * OTK_SCHEDULE_FIXED with scaling = 0.8: GeomLoss's fixed ε-list as in GeomLoss-based training,
     * finer than its 0.5 so that the last step is near convergence.  A
     * bounded cost per evaluation and a smooth function of θ; the converge
     * schedule takes thousands of updates near T♯μ ≈ ν, where the debiased
     * problems converge slowly, and its tolerance-stopped values are too
     * noisy for BFGS's line search.  (The divergence's gradient is then the
     * derivative through the schedule's final extrapolation step, docs/
     * math.md B.3, as GeomLoss's autograd computes it, with the earlier
     * iterates held fixed; it tends to the exact gradient as the final step
     * converges: set OTK_SCHEDULE_CONVERGE with a small tol to compare, as
     * the tests do.)
     * threads is taken from `threads`.  divergence.cache_bytes (and
     * monge_gap.cache_bytes) keep each evaluation's cost matrices in memory
     * instead of recomputing them in every pass: the same fit to rounding,
     * faster from d ≈ 8 on, slower in low dimension (bench/README.md,
     * compare_cache.py); default 0. */
    otk_ground ground;
    double power;
    otk_divergence_params divergence;
    /* The regulariser M̂: default otk_monge_gap_params_default (|x−y|²)
     * except relative_eps = 0 (with eps = 0: derived from the costs,
     * "Derived settings" above), tol = 1e-8, max_iter = 10000 and
     * warm_start = 1 (the BFGS line search compares values: they must be
     * accurate, and consecutive evaluations are nearby maps).  A relative
     * eps (eps = 0, relative_eps > 0: relative_eps times the std or mean of
     * the costs, OTT's default is 0.05·std) is resolved ONCE, on the
     * starting map and the first batch, then held fixed in cost units for
     * the whole fit, so that the loss is one function of θ (OTT re-resolves
     * it per batch under a stop-gradient).  threads is taken from `threads`. */
    otk_monge_gap_params monge_gap;
    /* The final report (otk_map_fit_result's loss, divergence, monge_gap)
     * is one evaluation on the first min(n, report_points) source and
     * min(m, report_points) target points; default 4096, 0 = all points.
     * A bound, because a fit on a large pool of points by mini-batches
     * should not end with an n×m Sinkhorn problem. */
    size_t report_points;
    int threads;                 /* OpenMP threads for the solvers; 0 = default */
    otk_map_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} otk_map_fit_params;

/* Fill `params` with the defaults documented above.  NULL is ignored. */
OTK_EXPORT void otk_map_fit_params_default(otk_map_fit_params *params);

typedef struct {
    /* One evaluation at the fitted θ and the final λ on the first
     * report_points points of each cloud (all of them by default up to
     * 4096): */
    double loss;       /* S + λ M */
    double divergence; /* S_ε(T♯μ, ν) */
    double monge_gap;  /* M̂(T), evaluated even when λ = 0; NAN when λ = 0
                          and the Monge gap failed (an error other than
                          OTK_ENOMEM, which fails the call) */
    double lambda;
    int iterations;    /* BFGS iterations or Adam steps run */
    int evaluations;   /* objective + gradient evaluations */
    int inner_not_converged; /* Sinkhorn solves that ended OTK_NOT_CONVERGED */
    int stopped;       /* 1 when the callback stopped the fit */
    double grad_norm;  /* ‖∇_θ L‖₂ at the last evaluation */
    otk_status status; /* as returned */
    /* The settings used, derived ones resolved (otk_map_fit_resolve): */
    double blur;          /* divergence.blur (as given when divergence.eps was) */
    double eps;           /* the ε of S_ε, cost units of params.ground (blur^p) */
    double monge_gap_eps; /* the ε of M̂, cost units; NAN when not evaluated */
    double lambda_target; /* params.lambda, the value the schedule reaches */
} otk_map_fit_result;

/* The parameters a fit of `map` on (x, y) runs with: a copy of `params`
 * (NULL = defaults) with the derived settings resolved ("Derived settings"
 * above), the optimiser AUTO and iters 0 replaced by what they stand for.
 * otk_map_fit calls it once at its start; passing its output to otk_map_fit
 * gives the same fit, and to otk_map_objective the fit's own loss.  Reads the
 * map (the starting map T_0 of the Monge gap's ε) and the points.
 * Errors: as otk_map_fit's checks (OTK_ENULL also for resolved), OTK_EPARAM
 * when a derived value is not > 0 (all points equal), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_map_fit_resolve(const otk_map *map, size_t n, size_t m, size_t d,
                                          const double *x, const double *y,
                                          const otk_map_fit_params *params,
                                          otk_map_fit_params *resolved);

/* Fit an affine or MLP map, starting from its current parameters, to source
 * points x (n×d) and target points y (m×d) (uniform weights).
 *   res  output, may be NULL.
 * Returns OTK_SUCCESS, OTK_NOT_CONVERGED (BFGS: iters reached), or an error:
 * OTK_ENULL, OTK_ESIZE (n, m = 0, d != otk_map_get_dim), OTK_ENONFINITE (naming
 * x or y and the point), OTK_EPARAM (naming the field: lambda < 0, lr <= 0,
 * ...), OTK_EUNSUPPORTED (entropic map; unknown optimiser), OTK_ENOMEM,
 * OTK_ENUMERIC (a non-finite mapped point, loss or gradient), and the errors
 * of the divergence / Monge gap solvers.  On an error during the iterations
 * θ holds the last accepted iterate. */
OTK_EXPORT otk_status otk_map_fit(otk_map *map, size_t n, size_t m, size_t d, const double *x,
                                  const double *y, const otk_map_fit_params *params,
                                  otk_map_fit_result *res);

/* The objective L = S + λ M̂ of the map on (x, y) at the given λ (>= 0; NAN:
 * params.lambda, derived when unset), full batch, and optionally its gradient w.r.t. θ (grad_theta, otk_map_get_n_params
 * entries, NULL to skip).  Derived settings in params are resolved on these n
 * and m points and this map (pass otk_map_fit_resolve's output for a fit's own
 * loss).  parts (may be NULL) receives loss, divergence, monge_gap, lambda,
 * inner_not_converged and the settings used (blur, eps, monge_gap_eps).  For validation losses and for
 * checking the gradient.  Errors as otk_map_fit. */
OTK_EXPORT otk_status otk_map_objective(const otk_map *map, size_t n, size_t m, size_t d,
                                        const double *x, const double *y,
                                        const otk_map_fit_params *params, double lambda,
                                        double *value, double *grad_theta,
                                        otk_map_fit_result *parts);

/* ---------------------------------------------------------------- files */

/* Write the map to `path` in the format above.  The file is written to a
 * temporary sibling and renamed over `path`, so a failed save never leaves a
 * partial file (an existing file stays as it was).
 * Errors: OTK_ENULL, OTK_EIO (naming the path and the system's reason). */
OTK_EXPORT otk_status otk_map_save(const otk_map *map, const char *path);

/* Read a map saved by otk_map_save.  Everything is validated: magic and
 * version, family, dimensions, counts, every number (finite, and for the
 * entropic weights >= 0), the final "end" line and nothing after it.
 * Errors: OTK_ENULL, OTK_EIO (cannot open or read), OTK_EPARSE (naming the
 * path, the line number and what is wrong), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_map_load(otk_map **out, const char *path);

/* ---------------------------------------------------------------- deprecated */

/* The names of otkit 0.1.0, before the constants took the prefix of their
 * enum and every accessor the otk_map_get_ prefix.  Deprecated in 0.2.0,
 * they will be removed in 0.3; new code uses the names above. */
#define OTK_MAP_AFFINE OTK_MAP_FAMILY_AFFINE
#define OTK_MAP_MLP OTK_MAP_FAMILY_MLP
#define OTK_MAP_ENTROPIC OTK_MAP_FAMILY_ENTROPIC
#define OTK_OPT_AUTO OTK_OPTIMIZER_AUTO
#define OTK_OPT_BFGS OTK_OPTIMIZER_BFGS
#define OTK_OPT_ADAM OTK_OPTIMIZER_ADAM
#define OTK_LAMBDA_CONSTANT OTK_LAMBDA_SCHEDULE_CONSTANT
#define OTK_LAMBDA_WARMUP OTK_LAMBDA_SCHEDULE_WARMUP
#define OTK_LR_CONSTANT OTK_LR_SCHEDULE_CONSTANT
#define OTK_LR_COSINE OTK_LR_SCHEDULE_COSINE
#define otk_map_dim(map) otk_map_get_dim(map)
#define otk_map_n_params(map) otk_map_get_n_params(map)
#define otk_map_activation(map) otk_map_get_activation(map)
#define otk_map_hidden(map, widths, cap) otk_map_get_hidden((map), (widths), (cap))

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_MAPFIT_H */
