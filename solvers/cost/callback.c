/* Callback costs: C_ij = fn(i, j, ctx), evaluated tile by tile. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include "internal.h"

typedef struct {
    otk_cost base;
    otk_cost_fn fn;
    void *ctx;
} callback_cost;

static const double *callback_tile(const otk_cost *c, int axis, size_t i, size_t j0, size_t T,
                                   double *buf)
{
    const callback_cost *cc = (const callback_cost *)c;
    if (axis == 0)
        for (size_t t = 0; t < T; t++)
            buf[t] = cc->fn(i, j0 + t, cc->ctx);
    else
        for (size_t t = 0; t < T; t++)
            buf[t] = cc->fn(j0 + t, i, cc->ctx);
    return buf;
}

static void callback_softmin(const otk_cost *c, int axis, double eps, const double *h,
                             double *out, int threads)
{
    otk__softmin_tiled(c, callback_tile, axis, eps, h, out, threads);
}

static void callback_plan_reduce(const otk_cost *c, int axis, double eps, const double *u,
                                 const double *v, otk_reduce what, size_t k, const double *Y,
                                 double *out, int threads)
{
    otk__plan_reduce_tiled(c, callback_tile, axis, eps, u, v, what, k, Y, out, threads);
}

static double callback_entry(const otk_cost *c, size_t i, size_t j)
{
    const callback_cost *cc = (const callback_cost *)c;
    return cc->fn(i, j, cc->ctx);
}

static void callback_destroy(otk_cost *c) { free(c); }

static const struct otk_cost_ops callback_ops = {
    "callback", callback_softmin, callback_plan_reduce, callback_entry, callback_destroy,
    callback_tile,
    NULL, NULL, NULL, /* single-level */
};

otk_status otk_cost_callback(otk_cost **out, size_t n, size_t m, otk_cost_fn fn, void *ctx,
                             double diameter)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_cost_callback: out is NULL");
    *out = NULL;
    if (!fn)
        return otk__fail(OTK_ENULL, "otk_cost_callback: fn is NULL");
    if (n == 0 || m == 0)
        return otk__fail(OTK_ESIZE, "otk_cost_callback: n = %zu and m = %zu must be > 0", n, m);
    if (!(diameter >= 0.0) || !isfinite(diameter))
        return otk__fail(OTK_EPARAM, "otk_cost_callback: diameter = %g must be finite and >= 0",
                         diameter);
    if (diameter == 0.0) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++) {
                double v = fn(i, j, ctx);
                if (!isfinite(v))
                    return otk__fail(OTK_ENONFINITE, "callback cost c(%zu, %zu) = %g is not finite",
                                     i, j, v);
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        diameter = hi - lo;
    }
    callback_cost *cc = calloc(1, sizeof *cc);
    if (!cc)
        return otk__fail(OTK_ENOMEM, "otk_cost_callback: out of memory");
    otk__cost_init(&cc->base, &callback_ops, n, m, "callback");
    cc->fn = fn;
    cc->ctx = ctx;
    cc->base.diameter = diameter;
    cc->base.exponent = 0.0; /* none: blur and reach need params.p */
    *out = &cc->base;
    return OTK_SUCCESS;
}
