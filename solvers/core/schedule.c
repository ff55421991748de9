/* What every Sinkhorn-type solver shares: the parameters, validated and
 * resolved (blur → ε, reach → ρ, AUTO update), the ε-list, and the marginal
 * error measure. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include "otkit/sinkhorn.h"
#include "internal.h"

int otk_epsilon_schedule(double diameter, double p, double blur, double scaling, double *list,
                         int cap)
{
    if (!(diameter >= 0.0) || !isfinite(diameter) || !(p > 0.0) || !isfinite(p) ||
        !(blur > 0.0) || !isfinite(blur) || !(scaling > 0.0 && scaling < 1.0))
        return otk__fail(OTK_EPARAM,
                         "otk_epsilon_schedule: need diameter >= 0, p > 0, blur > 0 and "
                         "0 < scaling < 1 (got %g, %g, %g, %g)",
                         diameter, p, blur, scaling);
    /* A diameter below blur would start the annealing below the target. */
    if (diameter < blur)
        diameter = blur;
    /* numpy.arange(start, stop, step): length ceil((stop − start)/step), values
     * start + i·delta with delta = (start + step) − start, as numpy computes them. */
    const double start = p * log(diameter), stop = p * log(blur), stepv = p * log(scaling);
    const double len_f = ceil((stop - start) / stepv);
    if (!(len_f < 1e6))
        return otk__fail(OTK_EPARAM, "otk_epsilon_schedule: the schedule would be too long");
    const int len = len_f > 0.0 ? (int)len_f : 0;
    const double delta = (start + stepv) - start;
    const int total = len + 2;
    if (list) {
        if (cap > 0)
            list[0] = pow(diameter, p);
        for (int i = 0; i < len && i + 1 < cap; i++)
            list[i + 1] = exp(i == 0 ? start : start + i * delta);
        if (total - 1 < cap)
            list[total - 1] = pow(blur, p);
    }
    return total;
}

otk_status otk__resolve_common(const otk__common_params *c, const otk_cost *cost,
                               otk__resolved_params *out)
{
#define OTK_REQUIRE_(cond, ...)                        \
    do {                                               \
        if (!(cond))                                   \
            return otk__fail(OTK_EPARAM, __VA_ARGS__); \
    } while (0)
    OTK_REQUIRE_(c->eps >= 0.0 && isfinite(c->eps),
                 "params.eps = %g must be finite and > 0 (or 0 to use blur)", c->eps);
    OTK_REQUIRE_(c->eps > 0.0 || (c->blur > 0.0 && isfinite(c->blur)),
                 "params.eps is 0 and params.blur = %g is not > 0: set one of them", c->blur);
    OTK_REQUIRE_(c->reach >= 0.0 && isfinite(c->reach), "params.reach = %g must be >= 0",
                 c->reach);
    OTK_REQUIRE_(c->schedule == OTK_SCHEDULE_CONVERGE || c->schedule == OTK_SCHEDULE_FIXED,
                 "params.schedule = %d is not a valid otk_schedule", (int)c->schedule);
    OTK_REQUIRE_(c->update == OTK_UPDATE_AUTO || c->update == OTK_UPDATE_SYMMETRIC ||
                     c->update == OTK_UPDATE_ALTERNATING,
                 "params.update = %d is not a valid otk_update", (int)c->update);
    OTK_REQUIRE_(c->scaling > 0.0 && c->scaling < 1.0, "params.scaling = %g must be in (0, 1)",
                 c->scaling);
    OTK_REQUIRE_(c->diameter >= 0.0 && isfinite(c->diameter),
                 "params.diameter = %g must be finite and >= 0", c->diameter);
    OTK_REQUIRE_(c->p >= 0.0 && isfinite(c->p), "params.p = %g must be finite and >= 0", c->p);
    OTK_REQUIRE_(c->tol > 0.0 && isfinite(c->tol), "params.tol = %g must be finite and > 0",
                 c->tol);
    OTK_REQUIRE_(c->max_iter >= 1, "params.max_iter = %d must be >= 1", c->max_iter);
    OTK_REQUIRE_(c->threads >= 0, "params.threads = %d must be >= 0", c->threads);
    /* Numbers given as a matrix (dense, sparse, callback) have no exponent:
     * blur and reach are lengths only with one, so they are refused rather
     * than read as ε and ρ (the annealing alone then runs in ε, p = 1). */
    const int no_exponent = !(c->p > 0.0) && !(cost->exponent > 0.0) && !(cost->fixed_eps > 0.0);
    OTK_REQUIRE_(!no_exponent || c->eps > 0.0,
                 "params.blur = %g needs the cost's exponent p (eps = blur^p) and a %s cost has "
                 "none: set params.eps (cost units) or params.p",
                 c->blur, cost->ops->kind);
    OTK_REQUIRE_(!no_exponent || c->reach == 0.0,
                 "params.reach = %g needs the cost's exponent p (rho = reach^p) and a %s cost "
                 "has none: set the rho (cost units) or params.p",
                 c->reach, cost->ops->kind);
    const double p = c->p > 0.0 ? c->p : cost->exponent > 0.0 ? cost->exponent : 1.0;
    double eps = c->eps > 0.0 ? c->eps : pow(c->blur, p);
    if (cost->fixed_eps > 0.0) {
        /* A kernel built for one ε (mesh heat kernel): blur cannot choose another. */
        OTK_REQUIRE_(c->eps == 0.0 || fabs(c->eps - cost->fixed_eps) <= 1e-12 * cost->fixed_eps,
                     "params.eps = %g differs from the eps = %g this %s cost was built for", c->eps,
                     cost->fixed_eps, cost->ops->kind);
        eps = cost->fixed_eps;
    }
    OTK_REQUIRE_(eps > 0.0 && isfinite(eps), "eps = blur^p = %g^%g = %g is not a positive number",
                 c->blur, p, eps);
#undef OTK_REQUIRE_
    out->p = p;
    out->eps = eps;
    out->blur = pow(eps, 1.0 / p);
    out->diameter = c->diameter > 0.0 ? c->diameter : cost->diameter;
    if (cost->fixed_eps > 0.0)
        out->diameter = out->blur; /* the ε-list is then [ε, ε]: no annealing */
    out->update = c->update != OTK_UPDATE_AUTO ? c->update
                  : c->schedule == OTK_SCHEDULE_FIXED ? OTK_UPDATE_SYMMETRIC
                                                      : OTK_UPDATE_ALTERNATING;
    out->threads = otk__threads(c->threads);
    return OTK_SUCCESS;
}

otk_status otk__build_eps_list(const otk__resolved_params *rp, double scaling, double **list,
                               int *len, int *cap)
{
    const int n = otk_epsilon_schedule(rp->diameter, rp->p, rp->blur, scaling, NULL, 0);
    if (n < 0)
        return (otk_status)n;
    if (n > *cap) {
        double *grown = realloc(*list, (size_t)n * sizeof *grown);
        if (!grown)
            return otk__fail(OTK_ENOMEM, "out of memory for an epsilon list of %d values", n);
        *list = grown;
        *cap = n;
    }
    otk_epsilon_schedule(rp->diameter, rp->p, rp->blur, scaling, *list, n);
    /* The last entry is blur^p; make it the target ε to the last bit. */
    (*list)[n - 1] = rp->eps;
    *len = n;
    return OTK_SUCCESS;
}

int otk__all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

double otk__side_error(const double *w, const double *pot, const double *soft, size_t n,
                       double eps, double rho, double mass)
{
    double err = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == 0.0)
            continue;
        double target = isinf(rho) ? 1.0 : exp(-pot[i] / rho);
        err += w[i] * fabs(exp((pot[i] - soft[i]) / eps) - target);
    }
    return err / mass;
}
