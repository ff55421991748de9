/* Transport maps (otkit/mapfit.h, docs/math.md C.5): the affine,
 * residual-MLP and entropic families, their parameters, the forward pass and
 * the hand-written backpropagation. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "mapfit_internal.h"
#include "internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* ----------------------------------------------------------------- construction */

otk_map *otk__map_new(otk_map_family family, size_t d)
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
    otk_map *map = otk__map_new(OTK_MAP_FAMILY_AFFINE, d);
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

size_t otk__mlp_param_count(size_t d, size_t n_hidden, const size_t *widths)
{
    size_t count = 0, in = d;
    for (size_t k = 0; k <= n_hidden; k++) {
        size_t outw = k < n_hidden ? widths[k] : d;
        if (outw == 0 || in > SIZE_MAX / 8 / outw || count > SIZE_MAX / 8 - in * outw - outw)
            return SIZE_MAX;
        count += in * outw + outw;
        in = outw;
    }
    return count;
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
    otk_map *map = otk__map_new(OTK_MAP_FAMILY_MLP, d);
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
    otk__gsl_never_abort();
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
    otk_map *map = otk__map_new(OTK_MAP_FAMILY_ENTROPIC, d);
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
size_t otk_map_get_dim(const otk_map *map) { return map->d; }
size_t otk_map_get_n_params(const otk_map *map) { return map->n_params; }

otk_activation otk_map_get_activation(const otk_map *map)
{
    return map->family == OTK_MAP_FAMILY_MLP ? map->activation : OTK_ACTIVATION_GELU;
}

size_t otk_map_get_hidden(const otk_map *map, size_t *widths, size_t cap)
{
    if (map->family != OTK_MAP_FAMILY_MLP)
        return 0;
    for (size_t k = 0; widths && k < map->K && k < cap; k++)
        widths[k] = map->width[k + 1];
    return map->K;
}

otk_status otk_map_get_params(const otk_map *map, double *theta)
{
    if (!map || !theta)
        return otk__fail(OTK_ENULL, "otk_map_get_params: %s is NULL", map ? "theta" : "map");
    if (map->family == OTK_MAP_FAMILY_ENTROPIC)
        return otk__fail(OTK_EUNSUPPORTED, "otk_map_get_params: an entropic map has no parameters");
    memcpy(theta, map->theta, map->n_params * sizeof *theta);
    return OTK_SUCCESS;
}

otk_status otk_map_set_params(otk_map *map, const double *theta)
{
    if (!map || !theta)
        return otk__fail(OTK_ENULL, "otk_map_set_params: %s is NULL", map ? "theta" : "map");
    if (map->family == OTK_MAP_FAMILY_ENTROPIC)
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

/* z_k and u_k for each hidden layer, and two back-propagated vectors of the
 * widest layer. */
size_t otk__map_scratch_size(const otk_map *map)
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

/* scratch keeps z_k, u_k for the backward pass. */
void otk__map_forward_point(const otk_map *map, const double *x, double *tx, double *scratch)
{
    const size_t d = map->d;
    const double *th = map->theta;
    if (map->family == OTK_MAP_FAMILY_AFFINE) {
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
    if (map->family == OTK_MAP_FAMILY_AFFINE) {
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
    double *delta = scratch + off, *delta_in = delta + (otk__map_scratch_size(map) - off) / 2;
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

otk_status otk__map_check_points(const char *what, const double *p, size_t n, size_t d)
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
    if (map->family == OTK_MAP_FAMILY_ENTROPIC)
        return otk_entropic_map_apply(map->entropic, n, x, tx, threads);
    otk_status st = otk__map_check_points("x", x, n, map->d);
    if (st < 0)
        return st;
    const int nt = otk__threads(threads);
    const size_t ss = otk__map_scratch_size(map);
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
            otk__map_forward_point(map, x + i * d, tx + i * d, s);
    }
    free(scratch);
    return OTK_SUCCESS;
}

void otk__map_backprop(const otk_map *map, size_t n, const double *x, const double *g,
                       double *grad, double *scratch)
{
    const size_t d = map->d;
    memset(grad, 0, map->n_params * sizeof *grad);
    for (size_t i = 0; i < n; i++) {
        if (map->family == OTK_MAP_FAMILY_MLP) {
            /* The forward pass fills scratch; T(x) itself is not needed here,
             * so the output lands in the second back-propagation buffer. */
            double *out = scratch + otk__map_scratch_size(map) - map->d;
            otk__map_forward_point(map, x + i * d, out, scratch);
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
    if (map->family == OTK_MAP_FAMILY_ENTROPIC)
        return otk__fail(OTK_EUNSUPPORTED, "otk_map_backprop: an entropic map has no parameters");
    otk_status st = otk__map_check_points("x", x, n, map->d);
    if (st < 0 || (st = otk__map_check_points("g", g, n, map->d)) < 0)
        return st;
    double *scratch = malloc(otk__map_scratch_size(map) * sizeof *scratch);
    if (!scratch)
        return otk__fail(OTK_ENOMEM, "otk_map_backprop: out of memory");
    otk__map_backprop(map, n, x, g, grad_theta, scratch);
    free(scratch);
    return OTK_SUCCESS;
}
