/* Fitting a map (otkit/mapfit.h, docs/math.md C.5): the objective
 * S_ε(T♯μ, ν) + λ M̂(T) through the divergence and Monge-gap solvers, and its
 * two optimisers, BFGS (GSL) and Adam.  A client of the solver core: it only
 * calls public otkit functions. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "mapfit_internal.h"
#include "internal.h"

/* ----------------------------------------------------------------- the objective */

void otk_map_fit_params_default(otk_map_fit_params *params)
{
    if (!params)
        return;
    memset(params, 0, sizeof *params);
    params->lambda = NAN; /* derived from the data: otk_map_fit_resolve */
    params->lambda_schedule = OTK_LAMBDA_SCHEDULE_CONSTANT;
    params->warmup_steps = 0;
    params->optimizer = OTK_OPTIMIZER_AUTO;
    params->iters = 0;
    params->batch = 256;
    params->lr = NAN; /* derived from the data: otk_map_fit_resolve */
    params->lr_schedule = OTK_LR_SCHEDULE_CONSTANT;
    params->beta1 = 0.9;
    params->beta2 = 0.999;
    params->adam_eps = 1e-8;
    params->bfgs_step = 0.1;
    params->bfgs_tol = 0.1;
    params->grad_tol = 1e-7;
    params->seed = 0;
    params->ground = OTK_GROUND_HALF_SQEUCLIDEAN;
    params->power = 0.0;
    otk_divergence_params_default(&params->divergence);
    /* GeomLoss's fixed ε-list, finer than its default 0.5 so that the final
     * extrapolation is near convergence: a bounded cost per evaluation and a
     * smooth function of θ.  The converge schedule is no match here: near
     * T♯μ ≈ ν the debiased problems take thousands of updates, and a
     * tolerance-stopped value is too noisy for BFGS's line search. */
    params->divergence.schedule = OTK_SCHEDULE_FIXED;
    params->divergence.scaling = 0.8;
    /* eps = blur = 0: the blur is derived from the clouds (otk_map_fit_resolve). */
    params->divergence.blur = 0.0;
    params->divergence.eps = 0.0;
    otk_monge_gap_params_default(&params->monge_gap);
    /* eps = relative_eps = 0: ε is derived from the costs (otk_map_fit_resolve). */
    params->monge_gap.relative_eps = 0.0;
    /* A regulariser inside a BFGS loop: the line search compares values, so
     * they must be accurate (a tight tolerance), and consecutive evaluations
     * are nearby maps on the same points (warm starts save most of the
     * updates a cold start spends getting close). */
    params->monge_gap.tol = 1e-8;
    params->monge_gap.max_iter = 10000;
    params->monge_gap.warm_start = 1;
    params->report_points = 4096;
    params->threads = 0;
    params->progress = NULL;
    params->progress_ctx = NULL;
}

static otk_status check_fit_params(const otk_map_fit_params *p)
{
#define FIT_PARAM_CHECK(cond, ...)                                \
    do {                                                          \
        if (!(cond))                                              \
            return otk__fail(OTK_EPARAM, __VA_ARGS__);            \
    } while (0)
    FIT_PARAM_CHECK(isnan(p->lambda) || (isfinite(p->lambda) && p->lambda >= 0.0),
                    "lambda = %g: the Monge-gap weight must be finite and >= 0 (NAN: derived)",
                    p->lambda);
    FIT_PARAM_CHECK(isfinite(p->divergence.blur) && p->divergence.blur >= 0.0,
                    "divergence.blur = %g must be finite and >= 0 (0: derived)",
                    p->divergence.blur);
    FIT_PARAM_CHECK(isfinite(p->monge_gap.relative_eps) && p->monge_gap.relative_eps >= 0.0,
                    "monge_gap.relative_eps = %g must be finite and >= 0 (0 with eps 0: derived)",
                    p->monge_gap.relative_eps);
    FIT_PARAM_CHECK(p->lambda_schedule == OTK_LAMBDA_SCHEDULE_CONSTANT ||
                        p->lambda_schedule == OTK_LAMBDA_SCHEDULE_WARMUP,
                    "lambda_schedule = %d is not an otk_lambda_schedule", (int)p->lambda_schedule);
    FIT_PARAM_CHECK(p->lambda_schedule != OTK_LAMBDA_SCHEDULE_WARMUP || p->warmup_steps > 0,
                    "warmup_steps = %d: OTK_LAMBDA_SCHEDULE_WARMUP needs warmup_steps > 0",
                    p->warmup_steps);
    FIT_PARAM_CHECK(p->iters >= 0, "iters = %d must be >= 0", p->iters);
    FIT_PARAM_CHECK(isnan(p->lr) || (isfinite(p->lr) && p->lr > 0.0),
                    "lr = %g must be finite and > 0 (NAN: derived)", p->lr);
    FIT_PARAM_CHECK(p->lr_schedule == OTK_LR_SCHEDULE_CONSTANT ||
                        p->lr_schedule == OTK_LR_SCHEDULE_COSINE,
                    "lr_schedule = %d is not an otk_lr_schedule", (int)p->lr_schedule);
    FIT_PARAM_CHECK(p->beta1 >= 0.0 && p->beta1 < 1.0, "beta1 = %g must be in [0, 1)", p->beta1);
    FIT_PARAM_CHECK(p->beta2 >= 0.0 && p->beta2 < 1.0, "beta2 = %g must be in [0, 1)", p->beta2);
    FIT_PARAM_CHECK(isfinite(p->adam_eps) && p->adam_eps > 0.0, "adam_eps = %g must be > 0",
                    p->adam_eps);
    FIT_PARAM_CHECK(isfinite(p->bfgs_step) && p->bfgs_step > 0.0, "bfgs_step = %g must be > 0",
                    p->bfgs_step);
    FIT_PARAM_CHECK(isfinite(p->bfgs_tol) && p->bfgs_tol > 0.0, "bfgs_tol = %g must be > 0",
                    p->bfgs_tol);
    FIT_PARAM_CHECK(p->grad_tol >= 0.0, "grad_tol = %g must be >= 0", p->grad_tol);
#undef FIT_PARAM_CHECK
    if ((unsigned)p->optimizer > OTK_OPTIMIZER_ADAM)
        return otk__fail(OTK_EUNSUPPORTED, "optimizer = %d is not an otk_optimizer",
                         (int)p->optimizer);
    return OTK_SUCCESS;
}

/* The public checks shared by otk_map_fit and otk_map_objective; NULL params
 * become the defaults, kept in *defaults. */
static otk_status check_fit_inputs(const char *fn, const otk_map *map, size_t n, size_t m,
                                   size_t d, const double *x, const double *y,
                                   const otk_map_fit_params **params,
                                   otk_map_fit_params *defaults)
{
    if (!*params) {
        otk_map_fit_params_default(defaults);
        *params = defaults;
    }
    if (!map || !x || !y)
        return otk__fail(OTK_ENULL, "%s: %s is NULL", fn, !map ? "map" : !x ? "x" : "y");
    if (map->family == OTK_MAP_FAMILY_ENTROPIC)
        return otk__fail(OTK_EUNSUPPORTED,
                         "%s: an entropic map is not trained (otk_map_fit_entropic builds it)",
                         fn);
    if (d != map->d)
        return otk__fail(OTK_ESIZE, "%s: the points have d = %zu but the map has dimension %zu",
                         fn, d, map->d);
    otk_status st = otk__map_check_points("x", x, n, d);
    if (st < 0 || (st = otk__map_check_points("y", y, m, d)) < 0)
        return st;
    return check_fit_params(*params);
}

/* ----------------------------------------------------------------- derived settings */

/* The rules of mapfit.h, "Derived settings", fitted to the Gaussian study
 * (bench/mapfit_uvp.c, docs/math.md C.5): one place, read by otk_map_fit,
 * otk_map_objective and every front end through otk_map_fit_resolve. */
#define DERIVED_BLUR_DIM_SHIFT 4.0   /* blur = s · n^(−1/(d + 4)) */
#define DERIVED_LAMBDA_PER_DIM 0.1   /* λ = 0.1 / d */
#define DERIVED_MG_EPS_OF_MEAN 0.25  /* ε_M = 0.25 · mean_ij c(x_i, T(x_j)) */
#define DERIVED_LR_PER_SPREAD 1e-3   /* Adam's lr = 10⁻³ · s */

/* Mean squared distance of the n points p (n×d) to their centroid. */
static double spread2(const double *p, size_t n, size_t d)
{
    double s = 0.0;
    for (size_t k = 0; k < d; k++) {
        double mean = 0.0;
        for (size_t i = 0; i < n; i++)
            mean += p[i * d + k];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) {
            const double t = p[i * d + k] - mean;
            s += t * t;
        }
    }
    return s / (double)n;
}

/* s: the RMS distance of the points to their cloud's centroid, both clouds averaged. */
static double derived_spread(size_t n, size_t m, size_t d, const double *x, const double *y)
{
    return sqrt(0.5 * (spread2(x, n, d) + spread2(y, m, d)));
}

static double derived_blur(double s, size_t d, size_t n_eff)
{
    return s * pow((double)n_eff, -1.0 / ((double)d + DERIVED_BLUR_DIM_SHIFT));
}

static double derived_lambda(size_t d)
{
    return d > 0 ? DERIVED_LAMBDA_PER_DIM / (double)d : NAN;
}

/* ε of M̂ on the starting map and the first nb source points: the derived
 * rule (relative_eps 0) or the caller's relative one, held fixed afterwards. */
static otk_status resolve_monge_gap_eps(const otk_map *map, size_t nb, size_t d, const double *x,
                                        otk_map_fit_params *p)
{
    double *tx0 = malloc(nb * d * sizeof *tx0);
    if (!tx0)
        return otk__fail(OTK_ENOMEM, "otk_map_fit: out of memory");
    otk_status st = otk_map_apply(map, nb, x, tx0, p->threads);
    otk_cost *cost = NULL;
    if (st >= 0)
        st = otk_cost_points(&cost, nb, nb, d, x, tx0, p->monge_gap.ground, p->monge_gap.power);
    double mean = NAN, std = NAN;
    if (st >= 0)
        st = otk_cost_moments(cost, &mean, &std, p->threads);
    otk_cost_free(cost);
    free(tx0);
    if (st < 0)
        return st;
    const double rel = p->monge_gap.relative_eps;
    const int derived = rel == 0.0;
    const double eps = derived ? DERIVED_MG_EPS_OF_MEAN * mean
                       : p->monge_gap.relative_to == OTK_RELATIVE_MEAN ? rel * mean
                                                                      : rel * std;
    if (!(eps > 0.0 && isfinite(eps)))
        return otk__fail(OTK_EPARAM,
                         "monge_gap.eps: %s = %g of the costs c(x_i, T(x_j)) gives eps = %g, "
                         "not > 0 (all points equal?); give an absolute monge_gap.eps",
                         derived || p->monge_gap.relative_to == OTK_RELATIVE_MEAN ? "mean" : "std",
                         derived || p->monge_gap.relative_to == OTK_RELATIVE_MEAN ? mean : std,
                         eps);
    p->monge_gap.eps = eps;
    return OTK_SUCCESS;
}

/* otk_map_fit_resolve with the batch sizes given (nb, mb: the points one
 * evaluation sees; the spread is that of all n and m points). */
static otk_status resolve_params(const otk_map *map, size_t n, size_t m, size_t nb, size_t mb,
                                 size_t d,
                                 const double *x, const double *y, const otk_map_fit_params *in,
                                 otk_map_fit_params *out)
{
    if (out != in)
        *out = *in;
    const double s = derived_spread(n, m, d, x, y);
    if (out->divergence.eps == 0.0 && out->divergence.blur == 0.0) {
        const double blur = derived_blur(s, d, nb < mb ? nb : mb);
        if (!(blur > 0.0 && isfinite(blur)))
            return otk__fail(OTK_EPARAM,
                             "divergence.blur: the derived blur is %g (x and y are each a "
                             "single point repeated?); give divergence.blur or eps",
                             blur);
        out->divergence.blur = blur;
    }
    if (isnan(out->lambda))
        out->lambda = derived_lambda(d);
    if (isnan(out->lr)) {
        /* Adam moves each parameter by about lr per step: the output layer
         * has to cover displacements of the data's size. */
        out->lr = DERIVED_LR_PER_SPREAD * s;
        if (!(out->lr > 0.0 && isfinite(out->lr)))
            return otk__fail(OTK_EPARAM, "lr: the derived learning rate is %g (all points "
                                         "equal?); give lr", out->lr);
    }
    /* A relative ε of the caller's is resolved once only where M̂ is part of
     * the loss (with λ = 0 the report resolves it on the fitted map, as
     * otk_monge_gap_eval does); the derived one always. */
    if (out->monge_gap.eps == 0.0 && (out->lambda > 0.0 || out->monge_gap.relative_eps == 0.0))
        return resolve_monge_gap_eps(map, nb, d, x, out);
    return OTK_SUCCESS;
}

static otk_status check_fit_inputs(const char *fn, const otk_map *map, size_t n, size_t m,
                                   size_t d, const double *x, const double *y,
                                   const otk_map_fit_params **params,
                                   otk_map_fit_params *defaults);

/* The optimiser, iteration count and batch sizes a fit runs with. */
static void resolve_optimizer(const otk_map *map, size_t n, size_t m, otk_map_fit_params *p,
                              size_t *nb, size_t *mb)
{
    if (p->optimizer == OTK_OPTIMIZER_AUTO)
        p->optimizer =
            map->family == OTK_MAP_FAMILY_AFFINE ? OTK_OPTIMIZER_BFGS : OTK_OPTIMIZER_ADAM;
    if (p->iters == 0)
        p->iters = p->optimizer == OTK_OPTIMIZER_BFGS ? 200 : 1000;
    *nb = n;
    *mb = m;
    if (p->optimizer == OTK_OPTIMIZER_ADAM && p->batch > 0) {
        *nb = p->batch < n ? p->batch : n;
        *mb = p->batch < m ? p->batch : m;
    }
}

otk_status otk_map_fit_resolve(const otk_map *map, size_t n, size_t m, size_t d,
                               const double *x, const double *y,
                               const otk_map_fit_params *params, otk_map_fit_params *resolved)
{
    otk_map_fit_params defaults;
    otk_status st =
        check_fit_inputs("otk_map_fit_resolve", map, n, m, d, x, y, &params, &defaults);
    if (st < 0)
        return st;
    if (!resolved)
        return otk__fail(OTK_ENULL, "otk_map_fit_resolve: resolved is NULL");
    otk_map_fit_params p = *params;
    size_t nb, mb;
    resolve_optimizer(map, n, m, &p, &nb, &mb);
    if ((st = resolve_params(map, n, m, nb, mb, d, x, y, &p, &p)) < 0)
        return st;
    *resolved = p;
    return OTK_SUCCESS;
}

static double norm2(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++)
        s += v[k] * v[k];
    return sqrt(s);
}

/* λ_k of the schedule (mapfit.h). */
static double lambda_at(const otk_map_fit_params *p, int k)
{
    if (p->lambda_schedule == OTK_LAMBDA_SCHEDULE_WARMUP && k + 1 < p->warmup_steps)
        return p->lambda * (double)(k + 1) / (double)p->warmup_steps;
    return p->lambda;
}

/* Everything one evaluation of L and ∇_θL needs, sized once for batches of
 * nb source and mb target points, so the training loop allocates nothing. */
typedef struct {
    otk_map *map;
    const otk_map_fit_params *par;
    size_t nb, mb, d;
    double *xb, *yb, *txb, *g_div, *g_mg, *g, *scratch;
    otk_divergence *div;
    otk_monge_gap *mg; /* NULL when M̂ is never needed */
    double lambda;
    /* Of the last evaluation (div_eps, mg_eps: the ε each solver used): */
    double divergence, monge_gap, div_eps, mg_eps;
    /* (L, S, M) of the last EVAL_HISTORY evaluations, newest at hist_next−1:
     * GSL's iterate is one of its recent evaluations (line-search trials come
     * after it), and the progress report wants that point's S and M. */
#define EVAL_HISTORY 32
    double hist[EVAL_HISTORY][3];
    int hist_next, hist_count;
    int evaluations, inner_not_converged;
    otk_status error; /* the first error met inside a GSL callback */
} fit_ctx;

static void ctx_free(fit_ctx *c)
{
    otk_divergence_free(c->div);
    otk_monge_gap_free(c->mg);
    free(c->xb);
    free(c->yb);
    free(c->txb);
    free(c->g_div);
    free(c->g_mg);
    free(c->g);
    free(c->scratch);
    memset(c, 0, sizeof *c);
}

/* Whether a context evaluates M̂: never, for the report only (a failure
 * leaves it NAN), or as part of the loss (λ > 0: a failure is an error). */
enum { MONGE_GAP_NONE = 0, MONGE_GAP_REPORT = 1, MONGE_GAP_LOSS = 2 };

/* Plan the solvers on the first nb rows of x and mb rows of y (the batches
 * are replaced before each evaluation). */
static otk_status ctx_init(fit_ctx *c, otk_map *map, const otk_map_fit_params *par, size_t nb,
                           size_t mb, const double *x, const double *y, int with_monge_gap)
{
    memset(c, 0, sizeof *c);
    const size_t d = map->d;
    c->map = map;
    c->par = par;
    c->nb = nb;
    c->mb = mb;
    c->d = d;
    c->xb = malloc(nb * d * sizeof(double));
    c->yb = malloc(mb * d * sizeof(double));
    c->txb = malloc(nb * d * sizeof(double));
    c->g_div = malloc(nb * d * sizeof(double));
    c->g_mg = malloc(nb * d * sizeof(double));
    c->g = malloc(nb * d * sizeof(double));
    c->scratch = malloc(otk__map_scratch_size(map) * sizeof(double));
    if (!c->xb || !c->yb || !c->txb || !c->g_div || !c->g_mg || !c->g || !c->scratch) {
        ctx_free(c);
        return otk__fail(OTK_ENOMEM, "otk_map_fit: out of memory (batch of %zu points)", nb);
    }
    memcpy(c->xb, x, nb * d * sizeof(double));
    memcpy(c->yb, y, mb * d * sizeof(double));
    otk_divergence_params dp = par->divergence;
    dp.threads = par->threads;
    otk_status st = otk_divergence_alloc_points(&c->div, nb, mb, d, c->xb, c->yb, par->ground,
                                                par->power, &dp);
    if (st >= 0 && with_monge_gap) {
        otk_monge_gap_params mp = par->monge_gap;
        mp.threads = par->threads;
        st = otk_monge_gap_alloc(&c->mg, nb, d, &mp);
        if (st < 0 && st != OTK_ENOMEM && with_monge_gap == MONGE_GAP_REPORT) {
            /* Only wanted for the report: M̂ is then NAN, the fit goes on.
             * Not for lack of memory: that is the call's OTK_ENOMEM, as
             * everywhere else (docs/reliability.md). */
            c->mg = NULL;
            otk__clear_error();
            st = OTK_SUCCESS;
        }
    }
    if (st < 0)
        ctx_free(c);
    return st < 0 ? st : OTK_SUCCESS;
}

/* L = S(T♯x_b, y_b) + λ M̂(x_b, T(x_b)) at the map's current θ, and ∇_θL
 * into grad (NULL: value only).  M̂ is evaluated when λ > 0 or `want_mg`
 * (reporting); a failure of M̂ only needed for reporting leaves it NAN. */
static otk_status ctx_eval(fit_ctx *c, double lambda, int want_mg, double *value, double *grad)
{
    const size_t nd = c->nb * c->d;
    for (size_t i = 0; i < c->nb; i++)
        otk__map_forward_point(c->map, c->xb + i * c->d, c->txb + i * c->d, c->scratch);
    if (!otk__all_finite(c->txb, nd))
        return otk__fail(OTK_ENUMERIC, "otk_map_fit: the map sent a point to a non-finite value "
                                       "(diverging parameters: lower lr or bfgs_step)");
    otk_status st = otk_divergence_set_points(c->div, c->txb, c->yb);
    otk_divergence_result dres;
    if (st >= 0)
        st = otk_divergence_solve(c->div, NULL, NULL, &dres);
    if (st < 0)
        return st;
    c->evaluations++;
    c->inner_not_converged += st == OTK_NOT_CONVERGED;
    c->divergence = dres.divergence;
    c->div_eps = dres.eps;
    if (grad && (st = otk_divergence_grad_x(c->div, c->g_div)) < 0)
        return st;
    c->monge_gap = lambda > 0.0 || want_mg ? NAN : 0.0;
    c->mg_eps = NAN;
    if (c->mg && (lambda > 0.0 || want_mg)) {
        otk_monge_gap_result mres;
        st = otk_monge_gap_eval(c->mg, c->xb, c->txb, NULL, &mres,
                                grad && lambda > 0.0 ? c->g_mg : NULL, NULL);
        if (st < 0 && (lambda > 0.0 || st == OTK_ENOMEM))
            return st;
        c->inner_not_converged += st == OTK_NOT_CONVERGED;
        c->monge_gap = st < 0 ? NAN : mres.monge_gap;
        c->mg_eps = st < 0 ? NAN : mres.eps;
        if (st < 0)
            otk__clear_error();
    }
    *value = c->divergence + (lambda > 0.0 ? lambda * c->monge_gap : 0.0);
    if (!isfinite(*value))
        return otk__fail(OTK_ENUMERIC, "otk_map_fit: the loss is not finite (S = %g, M = %g)",
                         c->divergence, c->monge_gap);
    c->hist[c->hist_next][0] = *value;
    c->hist[c->hist_next][1] = c->divergence;
    c->hist[c->hist_next][2] = c->monge_gap;
    c->hist_next = (c->hist_next + 1) % EVAL_HISTORY;
    c->hist_count += c->hist_count < EVAL_HISTORY;
    if (!grad)
        return OTK_SUCCESS;
    for (size_t k = 0; k < nd; k++)
        c->g[k] = lambda > 0.0 ? c->g_div[k] + lambda * c->g_mg[k] : c->g_div[k];
    otk__map_backprop(c->map, c->nb, c->xb, c->g, grad, c->scratch);
    if (!otk__all_finite(grad, c->map->n_params))
        return otk__fail(OTK_ENUMERIC, "otk_map_fit: the gradient is not finite");
    return OTK_SUCCESS;
}

otk_status otk_map_objective(const otk_map *map, size_t n, size_t m, size_t d, const double *x,
                             const double *y, const otk_map_fit_params *params, double lambda,
                             double *value, double *grad_theta, otk_map_fit_result *parts)
{
    otk_map_fit_params defaults;
    otk_status st =
        check_fit_inputs("otk_map_objective", map, n, m, d, x, y, &params, &defaults);
    if (st < 0)
        return st;
    if (!value)
        return otk__fail(OTK_ENULL, "otk_map_objective: value is NULL");
    if (!(isnan(lambda) || (isfinite(lambda) && lambda >= 0.0)))
        return otk__fail(OTK_EPARAM,
                         "lambda = %g: the Monge-gap weight must be finite and >= 0 (or NAN)",
                         lambda);
    /* Full batch: the derived blur is that of n and m points (pass the
     * params otk_map_fit_resolve gave to evaluate a fit's own loss). */
    otk_map_fit_params resolved;
    if ((st = resolve_params(map, n, m, n, m, d, x, y, params, &resolved)) < 0)
        return st;
    params = &resolved;
    if (isnan(lambda))
        lambda = resolved.lambda;
    fit_ctx c;
    const int want_mg = parts != NULL;
    /* The evaluation does not modify the map; the context only reads θ. */
    int mg_use = lambda > 0.0 ? MONGE_GAP_LOSS : want_mg ? MONGE_GAP_REPORT : MONGE_GAP_NONE;
    if ((st = ctx_init(&c, (otk_map *)map, params, n, m, x, y, mg_use)) < 0)
        return st;
    st = ctx_eval(&c, lambda, want_mg, value, grad_theta);
    if (st >= 0 && parts) {
        memset(parts, 0, sizeof *parts);
        parts->loss = *value;
        parts->divergence = c.divergence;
        parts->monge_gap = c.monge_gap;
        parts->lambda = lambda;
        parts->evaluations = c.evaluations;
        parts->inner_not_converged = c.inner_not_converged;
        parts->grad_norm = grad_theta ? norm2(grad_theta, map->n_params) : NAN;
        parts->blur = params->divergence.blur;
        parts->eps = c.div_eps;
        parts->monge_gap_eps = c.mg_eps;
        parts->lambda_target = params->lambda;
        parts->status = OTK_SUCCESS;
    }
    ctx_free(&c);
    return st < 0 ? st : OTK_SUCCESS;
}

/* ----------------------------------------------------------------- optimisers */

static int report(const fit_ctx *c, int iteration, double loss, double grad_norm)
{
    if (!c->par->progress)
        return 0;
    otk_map_progress info = {iteration, loss, c->divergence, c->monge_gap, c->lambda, grad_norm};
    return c->par->progress(&info, c->par->progress_ctx);
}

/* GSL's callbacks: θ from the minimiser into the map, then one evaluation.
 * Errors are kept in the context (GSL sees a NaN and stops). */
static double bfgs_f(const gsl_vector *theta, void *ctx)
{
    fit_ctx *c = ctx;
    double value = NAN;
    if (c->error < 0)
        return NAN;
    memcpy(c->map->theta, theta->data, c->map->n_params * sizeof(double));
    otk_status st = ctx_eval(c, c->lambda, 0, &value, NULL);
    if (st < 0)
        c->error = st;
    return st < 0 ? NAN : value;
}

static void bfgs_fdf(const gsl_vector *theta, void *ctx, double *f, gsl_vector *grad)
{
    fit_ctx *c = ctx;
    *f = NAN;
    if (c->error < 0)
        return;
    memcpy(c->map->theta, theta->data, c->map->n_params * sizeof(double));
    otk_status st = ctx_eval(c, c->lambda, 0, f, grad->data);
    if (st < 0) {
        c->error = st;
        *f = NAN;
    }
}

static void bfgs_df(const gsl_vector *theta, void *ctx, gsl_vector *grad)
{
    double f;
    bfgs_fdf(theta, ctx, &f, grad);
}

static otk_status fit_bfgs(fit_ctx *c, int iters, otk_map_fit_result *res)
{
    const otk_map_fit_params *p = c->par;
    const size_t P = c->map->n_params;
    gsl_multimin_function_fdf fdf = {bfgs_f, bfgs_df, bfgs_fdf, P, c};
    gsl_multimin_fdfminimizer *s =
        gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, P);
    gsl_vector *start = gsl_vector_alloc(P);
    if (!s || !start) {
        gsl_multimin_fdfminimizer_free(s);
        gsl_vector_free(start);
        return otk__fail(OTK_ENOMEM, "otk_map_fit: out of memory (BFGS on %zu parameters)", P);
    }
    memcpy(start->data, c->map->theta, P * sizeof(double));
    c->lambda = lambda_at(p, 0);
    gsl_multimin_fdfminimizer_set(s, &fdf, start, p->bfgs_step, p->bfgs_tol);
    otk_status st = c->error < 0 ? c->error : OTK_NOT_CONVERGED;
    int it = 0, restarted = 0;
    double iterate[3] = {NAN, NAN, NAN}; /* (L, S, M) at the last reported iterate */
    for (; st == OTK_NOT_CONVERGED && it < iters; it++) {
        double lam = lambda_at(p, it);
        if (lam != c->lambda) {
            /* A new objective: its curvature model starts afresh (mapfit.h). */
            c->lambda = lam;
            gsl_vector_memcpy(start, s->x);
            gsl_multimin_fdfminimizer_set(s, &fdf, start, p->bfgs_step, p->bfgs_tol);
            if (c->error < 0) {
                st = c->error;
                break;
            }
        }
        int gs = gsl_multimin_fdfminimizer_iterate(s);
        if (c->error < 0) {
            st = c->error;
            break;
        }
        if (gs == GSL_SUCCESS)
            restarted = 0;
        double gnorm = norm2(s->gradient->data, P);
        res->grad_norm = gnorm;
        /* S and M at the iterate, not at the last line-search trial: the
         * newest evaluation whose loss is bitwise GSL's f.  A failed line
         * search leaves the iterate where it was (its values are kept from
         * the previous report) after any number of trials; a successful one
         * takes a few, well inside the history.  NAN if neither matches. */
        c->divergence = c->monge_gap = NAN;
        if (it > 0 && s->f == iterate[0]) {
            c->divergence = iterate[1];
            c->monge_gap = iterate[2];
        }
        for (int k = 1; k <= c->hist_count && isnan(c->divergence); k++) {
            const double *h = c->hist[(c->hist_next - k + EVAL_HISTORY) % EVAL_HISTORY];
            if (h[0] == s->f) {
                c->divergence = h[1];
                c->monge_gap = h[2];
            }
        }
        iterate[0] = s->f;
        iterate[1] = c->divergence;
        iterate[2] = c->monge_gap;
        if (report(c, it, s->f, gnorm)) {
            res->stopped = 1;
            st = OTK_SUCCESS;
        } else if (gnorm <= p->grad_tol) {
            st = OTK_SUCCESS;
        } else if (gs == GSL_ENOPROG) {
            /* The line search found no decrease along the quasi-Newton
             * direction: restart once along the steepest descent; no
             * progress right after a restart is the end. */
            if (restarted) {
                st = OTK_SUCCESS;
            } else {
                gsl_vector_memcpy(start, s->x);
                gsl_multimin_fdfminimizer_set(s, &fdf, start, p->bfgs_step, p->bfgs_tol);
                if (c->error < 0)
                    st = c->error;
                restarted = 1;
                continue;
            }
        } else if (gs != GSL_SUCCESS) {
            st = otk__fail(OTK_ENUMERIC, "otk_map_fit: BFGS failed at iteration %d: %s", it,
                           gsl_strerror(gs));
        }
    }
    res->iterations = it;
    /* The minimiser's x is its best point; the callbacks left trial points. */
    memcpy(c->map->theta, s->x->data, P * sizeof(double));
    gsl_multimin_fdfminimizer_free(s);
    gsl_vector_free(start);
    return st;
}

/* Copy the rows `idx` (sorted, from gsl_ran_choose) of src into dst. */
static void gather_rows(const double *src, const size_t *idx, size_t count, size_t d, double *dst)
{
    for (size_t i = 0; i < count; i++)
        memcpy(dst + i * d, src + idx[i] * d, d * sizeof *dst);
}

static otk_status fit_adam(fit_ctx *c, size_t n, size_t m, const double *x, const double *y,
                           int iters, otk_map_fit_result *res)
{
    const otk_map_fit_params *p = c->par;
    const size_t P = c->map->n_params, d = c->d;
    double *mom = calloc(P, sizeof *mom), *vel = calloc(P, sizeof *vel);
    double *grad = malloc(P * sizeof *grad);
    size_t *all = malloc((n > m ? n : m) * sizeof *all);
    size_t *idx = malloc((n > m ? n : m) * sizeof *idx);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    otk_status st = OTK_SUCCESS;
    if (!mom || !vel || !grad || !all || !idx || !rng) {
        st = otk__fail(OTK_ENOMEM, "otk_map_fit: out of memory (Adam on %zu parameters)", P);
        goto done;
    }
    gsl_rng_set(rng, p->seed);
    for (size_t i = 0; i < (n > m ? n : m); i++)
        all[i] = i;
    double b1t = 1.0, b2t = 1.0;
    int it = 0;
    for (; it < iters; it++) {
        if (c->nb < n) {
            gsl_ran_choose(rng, idx, c->nb, all, n, sizeof *all);
            gather_rows(x, idx, c->nb, d, c->xb);
        }
        if (c->mb < m) {
            gsl_ran_choose(rng, idx, c->mb, all, m, sizeof *all);
            gather_rows(y, idx, c->mb, d, c->yb);
        }
        c->lambda = lambda_at(p, it);
        double loss;
        if ((st = ctx_eval(c, c->lambda, 0, &loss, grad)) < 0)
            break;
        res->grad_norm = norm2(grad, P);
        const double lr = p->lr_schedule == OTK_LR_SCHEDULE_COSINE
                              ? p->lr * 0.5 * (1.0 + cos(M_PI * (double)it / (double)iters))
                              : p->lr;
        b1t *= p->beta1;
        b2t *= p->beta2;
        for (size_t k = 0; k < P; k++) {
            mom[k] = p->beta1 * mom[k] + (1.0 - p->beta1) * grad[k];
            vel[k] = p->beta2 * vel[k] + (1.0 - p->beta2) * grad[k] * grad[k];
            double mhat = mom[k] / (1.0 - b1t), vhat = vel[k] / (1.0 - b2t);
            c->map->theta[k] -= lr * mhat / (sqrt(vhat) + p->adam_eps);
        }
        if (report(c, it, loss, res->grad_norm)) {
            res->stopped = 1;
            it++;
            break;
        }
    }
    res->iterations = it;
done:
    free(mom);
    free(vel);
    free(grad);
    free(all);
    free(idx);
    if (rng)
        gsl_rng_free(rng);
    return st;
}

otk_status otk_map_fit(otk_map *map, size_t n, size_t m, size_t d, const double *x,
                       const double *y, const otk_map_fit_params *params,
                       otk_map_fit_result *res)
{
    otk_map_fit_params defaults;
    otk_status st = check_fit_inputs("otk_map_fit", map, n, m, d, x, y, &params, &defaults);
    if (st < 0)
        return st;
    otk__gsl_never_abort();
    /* One objective for the whole fit: the derived settings and a relative ε
     * of M̂ are resolved once, on the starting map and the first batch, and
     * then held fixed (OTT re-resolves a relative ε per batch as a
     * stop-gradient constant, which makes the loss a different function at
     * each θ and breaks BFGS's line search). */
    otk_map_fit_params fixed = *params;
    size_t nb, mb;
    resolve_optimizer(map, n, m, &fixed, &nb, &mb);
    if ((st = resolve_params(map, n, m, nb, mb, d, x, y, &fixed, &fixed)) < 0)
        return st;
    const otk_optimizer opt = fixed.optimizer;
    const int iters = fixed.iters;
    int uses_mg = fixed.lambda > 0.0 ? MONGE_GAP_LOSS : MONGE_GAP_NONE;
    params = &fixed;
    otk_map_fit_result r;
    memset(&r, 0, sizeof r);
    r.eps = r.monge_gap_eps = NAN;
    fit_ctx c;
    if ((st = ctx_init(&c, map, params, nb, mb, x, y, uses_mg)) < 0)
        return st;
    st = opt == OTK_OPTIMIZER_BFGS ? fit_bfgs(&c, iters, &r) : fit_adam(&c, n, m, x, y, iters, &r);
    r.evaluations = c.evaluations;
    r.inner_not_converged = c.inner_not_converged;
    ctx_free(&c);
    if (st >= 0) {
        /* The report: one evaluation at the fitted θ (report_points). */
        r.lambda = lambda_at(params, r.iterations > 0 ? r.iterations - 1 : 0);
        otk_map_fit_result parts;
        const size_t cap = params->report_points;
        const size_t nr = cap > 0 && cap < n ? cap : n, mr = cap > 0 && cap < m ? cap : m;
        otk_status est =
            otk_map_objective(map, nr, mr, d, x, y, params, r.lambda, &r.loss, NULL, &parts);
        if (est < 0) {
            st = est;
        } else {
            r.divergence = parts.divergence;
            r.monge_gap = parts.monge_gap;
            r.eps = parts.eps;
            r.monge_gap_eps = params->monge_gap.eps > 0.0 ? params->monge_gap.eps : parts.monge_gap_eps;
            r.evaluations += parts.evaluations;
            r.inner_not_converged += parts.inner_not_converged;
        }
    }
    r.blur = params->divergence.blur;
    r.lambda_target = params->lambda;
    r.status = st;
    if (res)
        *res = r;
    return st;
}
