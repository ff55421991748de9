/* Transport-map fitting (otkit/mapfit.h, MATH.md C.5): the map families and
 * their backpropagation, the objective S_ε(T♯μ, ν) + λ M̂(T) through the
 * divergence and Monge-gap solvers, BFGS (GSL) and Adam, and the model files.
 * A client of the solver core: it only calls public otkit functions. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "otkit/mapfit.h"
#include "internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static void gsl_never_abort(void);

struct otk_map {
    otk_map_family family;
    size_t d;
    /* MLP: K hidden layers; width[0] = width[K+1] = d, width[k] = h_k. */
    otk_activation activation;
    size_t K;
    size_t width[OTK_MAP_MAX_HIDDEN + 2];
    /* Offsets into theta of W_k and c_k, k = 1..K+1 (index k−1). */
    size_t w_off[OTK_MAP_MAX_HIDDEN + 1], c_off[OTK_MAP_MAX_HIDDEN + 1];
    size_t n_params;
    double *theta;
    otk_entropic_map *entropic; /* OTK_MAP_ENTROPIC only */
};

/* ----------------------------------------------------------------- construction */

static otk_map *map_new(otk_map_family family, size_t d)
{
    otk_map *map = calloc(1, sizeof *map);
    if (map) {
        map->family = family;
        map->d = d;
    }
    return map;
}

static otk_status check_dim(size_t d)
{
    if (d == 0)
        return otk__fail(OTK_ESIZE, "dimension d = 0: must be > 0");
    if (d > 46340) /* d² must not overflow anything downstream */
        return otk__fail(OTK_ESIZE, "dimension d = %zu is too large", d);
    return OTK_SUCCESS;
}

otk_status otk_map_alloc_affine(otk_map **out, size_t d)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_map_alloc_affine: out is NULL");
    *out = NULL;
    otk_status st = check_dim(d);
    if (st < 0)
        return st;
    otk_map *map = map_new(OTK_MAP_AFFINE, d);
    if (!map || !(map->theta = calloc(d * d + d, sizeof *map->theta))) {
        free(map);
        return otk__fail(OTK_ENOMEM, "otk_map_alloc_affine: out of memory (d = %zu)", d);
    }
    map->n_params = d * d + d;
    for (size_t k = 0; k < d; k++)
        map->theta[k * d + k] = 1.0;
    *out = map;
    return OTK_SUCCESS;
}

/* Lay out the MLP's parameters (mlp section of mapfit.h) and allocate them. */
static otk_status mlp_layout(otk_map *map)
{
    size_t off = 0;
    for (size_t k = 0; k <= map->K; k++) {
        size_t in = map->width[k], outw = map->width[k + 1];
        if (in > SIZE_MAX / 8 / outw || off > SIZE_MAX / 8 - in * outw - outw)
            return otk__fail(OTK_ESIZE, "otk_map_alloc_mlp: the layer sizes overflow");
        map->w_off[k] = off;
        off += in * outw;
        map->c_off[k] = off;
        off += outw;
    }
    map->n_params = off;
    map->theta = calloc(off, sizeof *map->theta);
    return map->theta ? OTK_SUCCESS : otk__fail(OTK_ENOMEM, "otk_map_alloc_mlp: out of memory");
}

otk_status otk_map_alloc_mlp(otk_map **out, size_t d, size_t n_hidden, const size_t *widths,
                             otk_activation activation, unsigned long seed)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_map_alloc_mlp: out is NULL");
    *out = NULL;
    if (!widths)
        return otk__fail(OTK_ENULL, "otk_map_alloc_mlp: widths is NULL");
    otk_status st = check_dim(d);
    if (st < 0)
        return st;
    if (n_hidden == 0 || n_hidden > OTK_MAP_MAX_HIDDEN)
        return otk__fail(OTK_ESIZE, "n_hidden = %zu: an MLP map has 1 to %d hidden layers",
                         n_hidden, OTK_MAP_MAX_HIDDEN);
    for (size_t k = 0; k < n_hidden; k++)
        if (widths[k] == 0 || widths[k] > 1u << 20)
            return otk__fail(OTK_ESIZE, "widths[%zu] = %zu: a hidden width must be in 1..%u", k,
                             widths[k], 1u << 20);
    if ((unsigned)activation > OTK_ACTIVATION_TANH)
        return otk__fail(OTK_EUNSUPPORTED, "activation = %d is not an otk_activation",
                         (int)activation);
    otk_map *map = map_new(OTK_MAP_MLP, d);
    if (!map)
        return otk__fail(OTK_ENOMEM, "otk_map_alloc_mlp: out of memory");
    map->activation = activation;
    map->K = n_hidden;
    map->width[0] = map->width[n_hidden + 1] = d;
    for (size_t k = 0; k < n_hidden; k++)
        map->width[k + 1] = widths[k];
    if ((st = mlp_layout(map)) < 0) {
        otk_map_free(map);
        return st;
    }
    gsl_never_abort();
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) {
        otk_map_free(map);
        return otk__fail(OTK_ENOMEM, "otk_map_alloc_mlp: out of memory");
    }
    gsl_rng_set(rng, seed);
    for (size_t k = 0; k <= map->K; k++) {
        size_t in = map->width[k], outw = map->width[k + 1];
        /* N(0, 1/fan_in) keeps the hidden pre-activations O(1) for unit-scale
         * inputs; the small output layer starts the map next to the identity,
         * where an OT map between nearby clouds lives. */
        double sd = 1.0 / sqrt((double)in);
        if (k == map->K)
            sd *= 1e-2;
        double *W = map->theta + map->w_off[k];
        for (size_t i = 0; i < in * outw; i++)
            W[i] = gsl_ran_gaussian_ziggurat(rng, sd);
    }
    gsl_rng_free(rng);
    *out = map;
    return OTK_SUCCESS;
}

otk_status otk_map_fit_entropic(otk_map **out, size_t n, size_t m, size_t d, const double *x,
                                const double *y, otk_ground ground, double power,
                                const otk_sinkhorn_params *params)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_map_fit_entropic: out is NULL");
    *out = NULL;
    otk_status st = check_dim(d);
    if (st < 0)
        return st;
    otk_map *map = map_new(OTK_MAP_ENTROPIC, d);
    if (!map)
        return otk__fail(OTK_ENOMEM, "otk_map_fit_entropic: out of memory");
    st = otk_entropic_map_fit(&map->entropic, n, m, d, x, y, NULL, NULL, ground, power, params);
    if (st < 0) {
        free(map);
        return st;
    }
    *out = map;
    return st;
}

void otk_map_free(otk_map *map)
{
    if (!map)
        return;
    otk_entropic_map_free(map->entropic);
    free(map->theta);
    free(map);
}

otk_map_family otk_map_get_family(const otk_map *map) { return map->family; }
size_t otk_map_dim(const otk_map *map) { return map->d; }
size_t otk_map_n_params(const otk_map *map) { return map->n_params; }

otk_activation otk_map_activation(const otk_map *map)
{
    return map->family == OTK_MAP_MLP ? map->activation : OTK_ACTIVATION_GELU;
}

size_t otk_map_hidden(const otk_map *map, size_t *widths, size_t cap)
{
    if (map->family != OTK_MAP_MLP)
        return 0;
    for (size_t k = 0; widths && k < map->K && k < cap; k++)
        widths[k] = map->width[k + 1];
    return map->K;
}

otk_status otk_map_get_params(const otk_map *map, double *theta)
{
    if (!map || !theta)
        return otk__fail(OTK_ENULL, "otk_map_get_params: %s is NULL", map ? "theta" : "map");
    if (map->family == OTK_MAP_ENTROPIC)
        return otk__fail(OTK_EUNSUPPORTED, "otk_map_get_params: an entropic map has no parameters");
    memcpy(theta, map->theta, map->n_params * sizeof *theta);
    return OTK_SUCCESS;
}

otk_status otk_map_set_params(otk_map *map, const double *theta)
{
    if (!map || !theta)
        return otk__fail(OTK_ENULL, "otk_map_set_params: %s is NULL", map ? "theta" : "map");
    if (map->family == OTK_MAP_ENTROPIC)
        return otk__fail(OTK_EUNSUPPORTED, "otk_map_set_params: an entropic map has no parameters");
    otk_status st = otk__check_finite("theta", theta, map->n_params);
    if (st < 0)
        return st;
    memcpy(map->theta, theta, map->n_params * sizeof *theta);
    return OTK_SUCCESS;
}

/* ----------------------------------------------------------------- forward and backward */

/* GELU in its exact form z·Φ(z) and its derivative Φ(z) + z·φ(z). */
static inline double activate(otk_activation act, double z)
{
    return act == OTK_ACTIVATION_TANH ? tanh(z) : 0.5 * z * erfc(-z * M_SQRT1_2);
}

static inline double activate_slope(otk_activation act, double z)
{
    if (act == OTK_ACTIVATION_TANH) {
        double t = tanh(z);
        return 1.0 - t * t;
    }
    return 0.5 * erfc(-z * M_SQRT1_2) + z * exp(-0.5 * z * z) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
}

/* Doubles of scratch one point needs: z_k and u_k for each hidden layer, and
 * two back-propagated vectors of the widest layer. */
static size_t scratch_size(const otk_map *map)
{
    size_t s = 0, widest = map->d;
    for (size_t k = 1; k <= map->K; k++) {
        s += 2 * map->width[k];
        widest = map->width[k] > widest ? map->width[k] : widest;
    }
    return s + 2 * widest;
}

/* out = W v + c for one linear layer (W is rows×cols row-major). */
static void linear(const double *W, const double *c, size_t rows, size_t cols, const double *v,
                   double *out)
{
    for (size_t r = 0; r < rows; r++) {
        const double *w = W + r * cols;
        double s = c[r];
        for (size_t q = 0; q < cols; q++)
            s += w[q] * v[q];
        out[r] = s;
    }
}

/* T(x) for one point of an affine or MLP map; scratch keeps z_k, u_k for
 * the backward pass. */
static void forward_point(const otk_map *map, const double *x, double *tx, double *scratch)
{
    const size_t d = map->d;
    const double *th = map->theta;
    if (map->family == OTK_MAP_AFFINE) {
        linear(th, th + d * d, d, d, x, tx);
        return;
    }
    const double *in = x;
    double *zk = scratch;
    for (size_t k = 0; k < map->K; k++) {
        size_t rows = map->width[k + 1], cols = map->width[k];
        double *uk = zk + rows;
        linear(th + map->w_off[k], th + map->c_off[k], rows, cols, in, zk);
        for (size_t r = 0; r < rows; r++)
            uk[r] = activate(map->activation, zk[r]);
        in = uk;
        zk = uk + rows;
    }
    linear(th + map->w_off[map->K], th + map->c_off[map->K], d, map->width[map->K], in, tx);
    for (size_t r = 0; r < d; r++)
        tx[r] += x[r];
}

/* grad += J_θT(x)ᵀ g for one point, after forward_point filled scratch. */
static void backward_point(const otk_map *map, const double *x, const double *g, double *grad,
                           double *scratch)
{
    const size_t d = map->d;
    if (map->family == OTK_MAP_AFFINE) {
        for (size_t r = 0; r < d; r++) {
            double *gA = grad + r * d;
            for (size_t q = 0; q < d; q++)
                gA[q] += g[r] * x[q];
            grad[d * d + r] += g[r];
        }
        return;
    }
    const double *th = map->theta;
    /* Locate u_k (the input of layer k+1) in scratch. */
    const double *u[OTK_MAP_MAX_HIDDEN + 1];
    const double *z[OTK_MAP_MAX_HIDDEN + 1];
    size_t off = 0;
    u[0] = x;
    for (size_t k = 1; k <= map->K; k++) {
        z[k] = scratch + off;
        u[k] = scratch + off + map->width[k];
        off += 2 * map->width[k];
    }
    double *delta = scratch + off, *delta_in = delta + (scratch_size(map) - off) / 2;
    memcpy(delta, g, d * sizeof *delta); /* the residual's identity has no parameters */
    for (size_t k = map->K + 1; k-- > 0;) {
        size_t rows = map->width[k + 1], cols = map->width[k];
        const double *W = th + map->w_off[k];
        double *gW = grad + map->w_off[k], *gc = grad + map->c_off[k];
        for (size_t r = 0; r < rows; r++) {
            double dr = delta[r];
            const double *ui = u[k];
            double *gw = gW + r * cols;
            for (size_t q = 0; q < cols; q++)
                gw[q] += dr * ui[q];
            gc[r] += dr;
        }
        if (k == 0)
            break;
        for (size_t q = 0; q < cols; q++)
            delta_in[q] = 0.0;
        for (size_t r = 0; r < rows; r++) {
            const double *w = W + r * cols;
            double dr = delta[r];
            for (size_t q = 0; q < cols; q++)
                delta_in[q] += w[q] * dr;
        }
        for (size_t q = 0; q < cols; q++)
            delta[q] = delta_in[q] * activate_slope(map->activation, z[k][q]);
    }
}

/* Check the points of a public call: n > 0 and every coordinate finite,
 * naming the point ("x[3][1]"). */
static otk_status check_points(const char *what, const double *p, size_t n, size_t d)
{
    if (n == 0)
        return otk__fail(OTK_ESIZE, "%s has 0 points", what);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++)
            if (!isfinite(p[i * d + k]))
                return otk__fail(OTK_ENONFINITE, "%s[%zu][%zu] = %g is not finite", what, i, k,
                                 p[i * d + k]);
    return OTK_SUCCESS;
}

otk_status otk_map_apply(const otk_map *map, size_t n, const double *x, double *tx, int threads)
{
    if (!map || !x || !tx)
        return otk__fail(OTK_ENULL, "otk_map_apply: %s is NULL",
                         !map ? "map" : !x ? "x" : "tx");
    if (map->family == OTK_MAP_ENTROPIC)
        return otk_entropic_map_apply(map->entropic, n, x, tx, threads);
    otk_status st = check_points("x", x, n, map->d);
    if (st < 0)
        return st;
    const int nt = otk__threads(threads);
    const size_t ss = scratch_size(map);
    double *scratch = malloc((size_t)nt * ss * sizeof *scratch);
    if (!scratch)
        return otk__fail(OTK_ENOMEM, "otk_map_apply: out of memory");
    const size_t d = map->d;
#pragma omp parallel num_threads(nt) if (nt > 1 && n * map->n_params >= (size_t)1 << 16)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        double *s = scratch + (size_t)tid * ss;
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++)
            forward_point(map, x + i * d, tx + i * d, s);
    }
    free(scratch);
    return OTK_SUCCESS;
}

/* Σ_i J_θT(x_i)ᵀ g_i, serial in i so that the sum is bitwise reproducible. */
static void backprop(const otk_map *map, size_t n, const double *x, const double *g,
                     double *grad, double *scratch)
{
    const size_t d = map->d;
    memset(grad, 0, map->n_params * sizeof *grad);
    for (size_t i = 0; i < n; i++) {
        if (map->family == OTK_MAP_MLP) {
            /* The forward pass fills scratch; T(x) itself is not needed here,
             * so the output lands in the second back-propagation buffer. */
            double *out = scratch + scratch_size(map) - map->d;
            forward_point(map, x + i * d, out, scratch);
        }
        backward_point(map, x + i * d, g + i * d, grad, scratch);
    }
}

otk_status otk_map_backprop(const otk_map *map, size_t n, const double *x, const double *g,
                            double *grad_theta)
{
    if (!map || !x || !g || !grad_theta)
        return otk__fail(OTK_ENULL, "otk_map_backprop: %s is NULL",
                         !map ? "map" : !x ? "x" : !g ? "g" : "grad_theta");
    if (map->family == OTK_MAP_ENTROPIC)
        return otk__fail(OTK_EUNSUPPORTED, "otk_map_backprop: an entropic map has no parameters");
    otk_status st = check_points("x", x, n, map->d);
    if (st < 0 || (st = check_points("g", g, n, map->d)) < 0)
        return st;
    double *scratch = malloc(scratch_size(map) * sizeof *scratch);
    if (!scratch)
        return otk__fail(OTK_ENOMEM, "otk_map_backprop: out of memory");
    backprop(map, n, x, g, grad_theta, scratch);
    free(scratch);
    return OTK_SUCCESS;
}

/* ----------------------------------------------------------------- the objective */

/* GSL's default error handler aborts; the library never does.  Switch it off
 * unless the program installed its own handler (which is then kept). */
static void gsl_never_abort(void)
{
    gsl_error_handler_t *previous = gsl_set_error_handler_off();
    if (previous)
        gsl_set_error_handler(previous);
}

void otk_map_fit_params_default(otk_map_fit_params *params)
{
    if (!params)
        return;
    memset(params, 0, sizeof *params);
    params->lambda = 1.0;
    params->lambda_schedule = OTK_LAMBDA_CONSTANT;
    params->warmup_steps = 0;
    params->optimizer = OTK_OPT_AUTO;
    params->iters = 0;
    params->batch = 256;
    params->lr = 1e-3;
    params->lr_schedule = OTK_LR_CONSTANT;
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
    otk_monge_gap_params_default(&params->monge_gap);
    /* A regulariser inside a training loop: a tolerance that keeps each
     * evaluation to a few hundred updates. */
    params->monge_gap.tol = 1e-5;
    params->monge_gap.max_iter = 2000;
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
    FIT_PARAM_CHECK(isfinite(p->lambda) && p->lambda >= 0.0,
                    "lambda = %g: the Monge-gap weight must be finite and >= 0", p->lambda);
    FIT_PARAM_CHECK(p->lambda_schedule == OTK_LAMBDA_CONSTANT ||
                        p->lambda_schedule == OTK_LAMBDA_WARMUP,
                    "lambda_schedule = %d is not an otk_lambda_schedule", (int)p->lambda_schedule);
    FIT_PARAM_CHECK(p->lambda_schedule != OTK_LAMBDA_WARMUP || p->warmup_steps > 0,
                    "warmup_steps = %d: OTK_LAMBDA_WARMUP needs warmup_steps > 0",
                    p->warmup_steps);
    FIT_PARAM_CHECK(p->iters >= 0, "iters = %d must be >= 0", p->iters);
    FIT_PARAM_CHECK(isfinite(p->lr) && p->lr > 0.0, "lr = %g must be finite and > 0", p->lr);
    FIT_PARAM_CHECK(p->lr_schedule == OTK_LR_CONSTANT || p->lr_schedule == OTK_LR_COSINE,
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
    if ((unsigned)p->optimizer > OTK_OPT_ADAM)
        return otk__fail(OTK_EUNSUPPORTED, "optimizer = %d is not an otk_optimizer",
                         (int)p->optimizer);
    return OTK_SUCCESS;
}

/* The public checks shared by otk_map_fit and otk_map_objective. */
static otk_status check_fit_inputs(const char *fn, const otk_map *map, size_t n, size_t m,
                                   size_t d, const double *x, const double *y,
                                   const otk_map_fit_params *params)
{
    if (!map || !x || !y)
        return otk__fail(OTK_ENULL, "%s: %s is NULL", fn, !map ? "map" : !x ? "x" : "y");
    if (map->family == OTK_MAP_ENTROPIC)
        return otk__fail(OTK_EUNSUPPORTED,
                         "%s: an entropic map is not trained (otk_map_fit_entropic builds it)",
                         fn);
    if (d != map->d)
        return otk__fail(OTK_ESIZE, "%s: the points have d = %zu but the map has dimension %zu",
                         fn, d, map->d);
    otk_status st = check_points("x", x, n, d);
    if (st < 0 || (st = check_points("y", y, m, d)) < 0)
        return st;
    return params ? check_fit_params(params) : OTK_SUCCESS;
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
    if (p->lambda_schedule == OTK_LAMBDA_WARMUP && k + 1 < p->warmup_steps)
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
    /* Of the last evaluation: */
    double divergence, monge_gap;
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
    c->scratch = malloc(scratch_size(map) * sizeof(double));
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
        if (st < 0 && with_monge_gap == MONGE_GAP_REPORT) {
            /* Only wanted for the report: M̂ is then NAN, the fit goes on. */
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
        forward_point(c->map, c->xb + i * c->d, c->txb + i * c->d, c->scratch);
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
    if (grad && (st = otk_divergence_grad_x(c->div, c->g_div)) < 0)
        return st;
    c->monge_gap = lambda > 0.0 || want_mg ? NAN : 0.0;
    if (c->mg && (lambda > 0.0 || want_mg)) {
        otk_monge_gap_result mres;
        st = otk_monge_gap_eval(c->mg, c->xb, c->txb, NULL, &mres,
                                grad && lambda > 0.0 ? c->g_mg : NULL, NULL);
        if (st < 0 && lambda > 0.0)
            return st;
        c->inner_not_converged += st == OTK_NOT_CONVERGED;
        c->monge_gap = st < 0 ? NAN : mres.monge_gap;
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
    backprop(c->map, c->nb, c->xb, c->g, grad, c->scratch);
    if (!otk__all_finite(grad, c->map->n_params))
        return otk__fail(OTK_ENUMERIC, "otk_map_fit: the gradient is not finite");
    return OTK_SUCCESS;
}

otk_status otk_map_objective(const otk_map *map, size_t n, size_t m, size_t d, const double *x,
                             const double *y, const otk_map_fit_params *params, double lambda,
                             double *value, double *grad_theta, otk_map_fit_result *parts)
{
    otk_map_fit_params defaults;
    if (!params) {
        otk_map_fit_params_default(&defaults);
        params = &defaults;
    }
    otk_status st = check_fit_inputs("otk_map_objective", map, n, m, d, x, y, params);
    if (st < 0)
        return st;
    if (!value)
        return otk__fail(OTK_ENULL, "otk_map_objective: value is NULL");
    if (!(isfinite(lambda) && lambda >= 0.0))
        return otk__fail(OTK_EPARAM, "lambda = %g: the Monge-gap weight must be finite and >= 0",
                         lambda);
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
        const double lr = p->lr_schedule == OTK_LR_COSINE
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
    if (!params) {
        otk_map_fit_params_default(&defaults);
        params = &defaults;
    }
    otk_status st = check_fit_inputs("otk_map_fit", map, n, m, d, x, y, params);
    if (st < 0)
        return st;
    gsl_never_abort();
    otk_optimizer opt = params->optimizer;
    if (opt == OTK_OPT_AUTO)
        opt = map->family == OTK_MAP_AFFINE ? OTK_OPT_BFGS : OTK_OPT_ADAM;
    const int iters = params->iters > 0 ? params->iters : opt == OTK_OPT_BFGS ? 200 : 1000;
    size_t nb = n, mb = m;
    if (opt == OTK_OPT_ADAM && params->batch > 0) {
        nb = params->batch < n ? params->batch : n;
        mb = params->batch < m ? params->batch : m;
    }
    int uses_mg = params->lambda > 0.0 ? MONGE_GAP_LOSS : MONGE_GAP_NONE;
    /* One objective for the whole fit: a relative ε of M̂ is resolved once,
     * on the starting map and the first batch, and then held fixed (OTT
     * re-resolves it per batch as a stop-gradient constant, which makes the
     * loss a different function at each θ and breaks BFGS's line search). */
    otk_map_fit_params fixed = *params;
    if (uses_mg && fixed.monge_gap.eps == 0.0) {
        double *tx0 = malloc(nb * d * sizeof *tx0);
        if (!tx0)
            return otk__fail(OTK_ENOMEM, "otk_map_fit: out of memory");
        otk_monge_gap_params mp = fixed.monge_gap;
        mp.threads = fixed.threads;
        otk_monge_gap_result r0;
        st = otk_map_apply(map, nb, x, tx0, fixed.threads);
        if (st >= 0)
            st = otk_monge_gap_compute(nb, d, x, tx0, NULL, &mp, &r0, NULL, NULL);
        free(tx0);
        if (st < 0)
            return st;
        fixed.monge_gap.eps = r0.eps;
    }
    params = &fixed;
    otk_map_fit_result r;
    memset(&r, 0, sizeof r);
    fit_ctx c;
    if ((st = ctx_init(&c, map, params, nb, mb, x, y, uses_mg)) < 0)
        return st;
    st = opt == OTK_OPT_BFGS ? fit_bfgs(&c, iters, &r) : fit_adam(&c, n, m, x, y, iters, &r);
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
            r.evaluations += parts.evaluations;
            r.inner_not_converged += parts.inner_not_converged;
        }
    }
    r.status = st;
    if (res)
        *res = r;
    return st;
}

/* ----------------------------------------------------------------- model files */

static void write_map(FILE *f, const otk_map *map)
{
    fprintf(f, "otkit-map 1\nfamily %s\ndim %zu\n", otk_map_family_name(map->family), map->d);
    if (map->family == OTK_MAP_ENTROPIC) {
        size_t m, d;
        const double *y, *b, *g;
        double eps, power;
        otk_ground ground;
        otk_entropic_map_data(map->entropic, &m, &d, &y, &b, &g, &eps, &ground, &power);
        fprintf(f, "ground %s\npower %.17g\neps %.17g\natoms %zu\n", otk_ground_name(ground),
                power, eps, m);
        for (size_t j = 0; j < m; j++) {
            for (size_t k = 0; k < d; k++)
                fprintf(f, "%.17g ", y[j * d + k]);
            fprintf(f, "%.17g %.17g\n", b ? b[j] : 1.0 / (double)m, g[j]);
        }
    } else {
        if (map->family == OTK_MAP_MLP) {
            fprintf(f, "activation %s\nhidden %zu", otk_activation_name(map->activation), map->K);
            for (size_t k = 1; k <= map->K; k++)
                fprintf(f, " %zu", map->width[k]);
            fputc('\n', f);
        }
        fprintf(f, "params %zu\n", map->n_params);
        for (size_t k = 0; k < map->n_params; k++)
            fprintf(f, "%.17g\n", map->theta[k]);
    }
    fputs("end\n", f);
}

static otk_status io_fail(const char *what, const char *path)
{
    char reason[160] = "unknown error";
    int err = errno;
    if (strerror_r(err, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "error %d", err);
    return otk__fail(OTK_EIO, "%s %s: %s", what, path, reason);
}

otk_status otk_map_save(const otk_map *map, const char *path)
{
    if (!map || !path)
        return otk__fail(OTK_ENULL, "otk_map_save: %s is NULL", map ? "path" : "map");
    const size_t len = strlen(path);
    char *tmp = malloc(len + 12);
    if (!tmp)
        return otk__fail(OTK_ENOMEM, "otk_map_save: out of memory");
    /* A sibling of the target, so that rename(2) replaces it atomically. */
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmpXXXXXX", 11);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        otk_status st = io_fail("cannot create a temporary file next to", path);
        free(tmp);
        return st;
    }
    (void)fchmod(fd, 0644); /* mkstemp's 0600 would surprise whoever loads the model */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        otk_status st = io_fail("cannot write", tmp);
        close(fd);
        unlink(tmp);
        free(tmp);
        return st;
    }
    write_map(f, map);
    int failed = ferror(f) || fflush(f) != 0 || fsync(fd) != 0;
    otk_status st = OTK_SUCCESS;
    if (failed)
        st = io_fail("cannot write", tmp);
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        st = io_fail("cannot write", tmp);
    }
    if (!failed && rename(tmp, path) != 0) {
        failed = 1;
        st = io_fail("cannot rename the temporary file onto", path);
    }
    if (failed)
        unlink(tmp);
    free(tmp);
    return st;
}

/* The loader's position in the file, for messages "PATH:LINE: what". */
typedef struct {
    FILE *f;
    const char *path;
    char *line;
    size_t cap;
    long lineno;
} map_reader;

static otk_status format_error(const map_reader *r, const char *fmt, ...) OTK_PRINTF(2, 3);
static otk_status format_error(const map_reader *r, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return otk__fail(OTK_EPARSE, "%s:%ld: %s", r->path, r->lineno, what);
}

/* The next line that is not blank or a comment, trailing blanks removed;
 * NULL at the end of the file (or on a read error, told apart by ferror). */
static char *next_line(map_reader *r)
{
    ssize_t got;
    while ((got = getline(&r->line, &r->cap, r->f)) >= 0) {
        r->lineno++;
        if ((size_t)got != strlen(r->line))
            return r->line; /* an embedded NUL: let the parser reject the line */
        while (got > 0 && (r->line[got - 1] == '\n' || r->line[got - 1] == '\r' ||
                           r->line[got - 1] == ' ' || r->line[got - 1] == '\t'))
            r->line[--got] = '\0';
        char *s = r->line + strspn(r->line, " \t");
        if (*s && *s != '#')
            return s;
    }
    return NULL;
}

/* A line "KEY VALUE" where the whole value is stored in *value. */
static otk_status expect_key(map_reader *r, const char *key, char **value)
{
    char *s = next_line(r);
    if (!s) {
        if (ferror(r->f))
            return io_fail("cannot read", r->path);
        r->lineno++;
        return format_error(r, "unexpected end of file: expected \"%s\"", key);
    }
    size_t kl = strlen(key);
    if (strncmp(s, key, kl) != 0 || (s[kl] != ' ' && s[kl] != '\t' && s[kl] != '\0'))
        return format_error(r, "expected \"%s\", found \"%.40s\"", key, s);
    s += kl;
    *value = s + strspn(s, " \t");
    return OTK_SUCCESS;
}

/* Parse whitespace-separated numbers of `text` into out[0..count): all of
 * them finite, no more and no fewer. */
static otk_status parse_numbers(map_reader *r, const char *text, size_t count, double *out,
                                const char *what)
{
    const char *s = text;
    for (size_t k = 0; k < count; k++) {
        char *end;
        s += strspn(s, " \t");
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || (*end && *end != ' ' && *end != '\t'))
            return format_error(r, "%s: value %zu of %zu is not a number (\"%.20s\")", what, k + 1,
                                count, s);
        if (!isfinite(v))
            return format_error(r, "%s: value %zu = %g is not finite", what, k + 1, v);
        out[k] = v;
        s = end;
    }
    s += strspn(s, " \t");
    if (*s)
        return format_error(r, "%s: more than %zu values (\"%.20s\")", what, count, s);
    return OTK_SUCCESS;
}

/* A positive count within [1, limit]. */
static otk_status parse_count(map_reader *r, const char *text, size_t limit, size_t *out,
                              const char *what)
{
    char *end;
    errno = 0;
    if (!(*text >= '0' && *text <= '9'))
        return format_error(r, "%s: expected a positive integer, found \"%.20s\"", what, text);
    unsigned long long v = strtoull(text, &end, 10);
    end += strspn(end, " \t");
    if (errno || *end || v == 0 || v > limit)
        return format_error(r, "%s: expected an integer in 1..%zu, found \"%.20s\"", what, limit,
                            text);
    *out = (size_t)v;
    return OTK_SUCCESS;
}

static otk_status load_params(map_reader *r, otk_map *map)
{
    char *v;
    size_t count;
    otk_status st = expect_key(r, "params", &v);
    if (st < 0 || (st = parse_count(r, v, SIZE_MAX / 8, &count, "params")) < 0)
        return st;
    if (count != map->n_params)
        return format_error(r, "params %zu: a %s map of this shape has %zu parameters", count,
                            otk_map_family_name(map->family), map->n_params);
    for (size_t k = 0; k < count; k++) {
        char *s = next_line(r);
        if (!s) {
            r->lineno++;
            return format_error(r, "unexpected end of file: parameter %zu of %zu missing", k + 1,
                                count);
        }
        if ((st = parse_numbers(r, s, 1, map->theta + k, "parameter")) < 0)
            return st;
    }
    return OTK_SUCCESS;
}

static otk_status load_entropic(map_reader *r, size_t d, otk_map **out)
{
    char *v;
    otk_ground ground;
    double power, eps;
    size_t m;
    otk_status st = expect_key(r, "ground", &v);
    if (st < 0)
        return st;
    if (otk_ground_from_name(v, &ground) < 0)
        return format_error(r, "ground \"%.40s\" is not a ground cost name", v);
    if ((st = expect_key(r, "power", &v)) < 0 || (st = parse_numbers(r, v, 1, &power, "power")) < 0)
        return st;
    if ((st = expect_key(r, "eps", &v)) < 0 || (st = parse_numbers(r, v, 1, &eps, "eps")) < 0)
        return st;
    if (!(eps > 0.0))
        return format_error(r, "eps = %g must be > 0", eps);
    if ((st = expect_key(r, "atoms", &v)) < 0 ||
        (st = parse_count(r, v, SIZE_MAX / 8 / (d + 2), &m, "atoms")) < 0)
        return st;
    double *y = malloc(m * d * sizeof *y), *b = malloc(m * sizeof *b), *g = malloc(m * sizeof *g);
    double *row = malloc((d + 2) * sizeof *row);
    if (!y || !b || !g || !row) {
        st = otk__fail(OTK_ENOMEM, "otk_map_load: out of memory (%zu atoms)", m);
        goto done;
    }
    for (size_t j = 0; j < m; j++) {
        char *s = next_line(r);
        if (!s) {
            r->lineno++;
            st = format_error(r, "unexpected end of file: atom %zu of %zu missing", j + 1, m);
            goto done;
        }
        if ((st = parse_numbers(r, s, d + 2, row, "atom")) < 0)
            goto done;
        if (row[d] < 0.0) {
            st = format_error(r, "atom %zu: weight b = %g is negative", j + 1, row[d]);
            goto done;
        }
        memcpy(y + j * d, row, d * sizeof *y);
        b[j] = row[d];
        g[j] = row[d + 1];
    }
    otk_map *map = map_new(OTK_MAP_ENTROPIC, d);
    if (!map) {
        st = otk__fail(OTK_ENOMEM, "otk_map_load: out of memory");
        goto done;
    }
    st = otk_entropic_map_from_potential(&map->entropic, m, d, y, b, g, eps, ground, power);
    if (st < 0) {
        /* Say where the rejected data came from, then keep the solver's reason. */
        char why[256];
        snprintf(why, sizeof why, "%s", otk_last_error());
        free(map);
        st = format_error(r, "the entropic map data is invalid: %s", why);
        goto done;
    }
    *out = map;
done:
    free(y);
    free(b);
    free(g);
    free(row);
    return st;
}

static otk_status load_map(map_reader *r, otk_map **out)
{
    char *v;
    size_t d;
    otk_map_family family;
    otk_status st = expect_key(r, "otkit-map", &v);
    if (st < 0)
        return r->lineno <= 1 ? format_error(r, "not an otkit map file (no \"otkit-map 1\" line)")
                              : st;
    if (strcmp(v, "1") != 0)
        return format_error(r, "format version \"%.20s\" is not supported (this otkit reads 1)", v);
    if ((st = expect_key(r, "family", &v)) < 0)
        return st;
    if (otk_map_family_from_name(v, &family) < 0)
        return format_error(r, "%s", otk_last_error()); /* names the valid families */
    if ((st = expect_key(r, "dim", &v)) < 0 || (st = parse_count(r, v, 46340, &d, "dim")) < 0)
        return st;
    otk_map *map = NULL;
    if (family == OTK_MAP_ENTROPIC) {
        if ((st = load_entropic(r, d, &map)) < 0)
            return st;
    } else if (family == OTK_MAP_AFFINE) {
        if ((st = otk_map_alloc_affine(&map, d)) < 0)
            return st;
    } else {
        otk_activation act;
        size_t K, widths[OTK_MAP_MAX_HIDDEN];
        if ((st = expect_key(r, "activation", &v)) < 0)
            return st;
        if (otk_activation_from_name(v, &act) < 0)
            return format_error(r, "%s", otk_last_error()); /* names the valid activations */
        if ((st = expect_key(r, "hidden", &v)) < 0)
            return st;
        char *end;
        K = strtoul(v, &end, 10);
        if (end == v || K == 0 || K > OTK_MAP_MAX_HIDDEN || (*end && *end != ' ' && *end != '\t'))
            return format_error(r, "hidden: the layer count must be in 1..%d (\"%.20s\")",
                                OTK_MAP_MAX_HIDDEN, v);
        double wd[OTK_MAP_MAX_HIDDEN];
        if ((st = parse_numbers(r, end, K, wd, "hidden widths")) < 0)
            return st;
        for (size_t k = 0; k < K; k++) {
            if (wd[k] != floor(wd[k]) || wd[k] < 1 || wd[k] > (double)(1u << 20))
                return format_error(r, "hidden width %zu = %g is not an integer in 1..%u", k + 1,
                                    wd[k], 1u << 20);
            widths[k] = (size_t)wd[k];
        }
        if ((st = otk_map_alloc_mlp(&map, d, K, widths, act, 0)) < 0)
            return st;
    }
    if (family != OTK_MAP_ENTROPIC && (st = load_params(r, map)) < 0) {
        otk_map_free(map);
        return st;
    }
    if ((st = expect_key(r, "end", &v)) < 0 || (*v && (st = format_error(r, "text after \"end\""))))
        goto fail;
    if (next_line(r)) {
        st = format_error(r, "content after the \"end\" line");
        goto fail;
    }
    if (ferror(r->f)) {
        st = io_fail("cannot read", r->path);
        goto fail;
    }
    *out = map;
    return OTK_SUCCESS;
fail:
    otk_map_free(map);
    return st;
}

otk_status otk_map_load(otk_map **out, const char *path)
{
    if (!out || !path)
        return otk__fail(OTK_ENULL, "otk_map_load: %s is NULL", out ? "path" : "out");
    *out = NULL;
    map_reader r = {NULL, path, NULL, 0, 0};
    if (!(r.f = fopen(path, "r")))
        return io_fail("cannot open", path);
    gsl_never_abort(); /* the MLP's allocation seeds a GSL generator */
    otk_status st = load_map(&r, out);
    free(r.line);
    fclose(r.f);
    return st;
}
