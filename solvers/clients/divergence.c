/* The debiased Sinkhorn divergence: four potentials on one ε-schedule
 * (GeomLoss's sinkhorn_loop, docs/math.md B.2); envelope gradients after the
 * converge schedule, the gradient of the final extrapolation step after the
 * fixed one (B.3). */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/divergence.h"
#include "internal.h"

struct otk_divergence {
    const otk_cost *c_xy, *c_xx, *c_yy; /* C_xx, C_yy NULL when debias is off */
    otk_cost *owned[3];                 /* built by alloc_points, freed by free */
    otk_cost *backend_cost[3];          /* the backend's copies (dense, multiscale) */
    otk_backend backend;                /* resolved */
    otk_sinkhorn *sk;                   /* the coupled problems (solvers/core/sinkhorn.c) */
    otk_update update;                  /* the rule the coupled problems run (resolved) */
    int from_points;                    /* made by alloc_points */
    int have_coordinates;               /* the costs are point clouds: gradients */
    otk_divergence_params par;
    size_t n, m, d;
    int threads, debias;
    double eps, rho, p;
    double scale; /* scale_cost's s */
    /* The potentials of the last solve: views into sk. */
    const double *f_ba, *g_ab, *f_aa, *g_bb;
    /* Fixed schedule: the potentials the final extrapolation started from
     * (views into sk), whose step the gradients differentiate. */
    int last_step;
    const double *f_ba_prev, *g_ab_prev, *f_aa_prev, *g_bb_prev;
    /* Weights and read-out workspace, allocated once. */
    double *a, *b, *log_a, *log_b;
    double *h_n, *h_m, *hs_n, *hs_m, *row; /* plan scalings, row sums */
    double *grad_tmp;                      /* max(n, m)·d, point clouds only */
    /* The last solve. */
    int solved;
    otk_divergence_result res;
};

void otk_divergence_params_default(otk_divergence_params *params)
{
    if (!params)
        return;
    memset(params, 0, sizeof *params);
    OTK__COMMON_PARAMS_DEFAULT(params);
    params->rho = INFINITY;
    params->debias = 1;
    params->backend = OTK_BACKEND_AUTO;
    params->truncate = 12.0;
}

static int is_points(const otk_cost *c) { return c && otk__cost_points_dim(c) > 0; }

/* Everything after the costs are known: parameters, the coupled solver,
 * workspace. */
static otk_status setup(otk_divergence *div, const otk_divergence_params *params)
{
    otk_divergence_params par;
    if (params)
        par = *params;
    else
        otk_divergence_params_default(&par);
    const otk_cost *c = div->c_xy;
    const otk__common_params common = OTK__COMMON_PARAMS_OF(&par);
    otk__resolved_params rp;
    otk_status st = otk__resolve_common(&common, c, &rp);
    if (st)
        return st;
    if (!(par.rho > 0.0))
        return otk__fail(OTK_EPARAM, "params.rho = %g must be > 0 (INFINITY = balanced)",
                         par.rho);
    if (par.debias != 0 && par.debias != 1)
        return otk__fail(OTK_EPARAM, "params.debias = %d must be 0 or 1", par.debias);
    /* The backend is chosen on C_xy and then applied to all three costs. */
    if ((st = otk__backend_cost(par.backend, par.truncate, c, &div->backend,
                                &div->backend_cost[0])))
        return st;
    for (int k = 1; k < 3 && div->backend_cost[0]; k++) {
        const otk_cost *ck = k == 1 ? div->c_xx : div->c_yy;
        if (ck && (st = otk__backend_cost(div->backend, par.truncate, ck, &div->backend,
                                          &div->backend_cost[k])))
            return st;
    }
    if (div->backend_cost[0]) {
        div->c_xy = c = div->backend_cost[0];
        if (div->backend_cost[1])
            div->c_xx = div->backend_cost[1];
        if (div->backend_cost[2])
            div->c_yy = div->backend_cost[2];
    }
    div->par = par;
    div->debias = par.debias;
    div->p = rp.p;
    div->eps = rp.eps;
    div->rho = rp.scale * (par.reach > 0.0 ? pow(par.reach, rp.p) : par.rho);
    div->scale = rp.scale;
    div->threads = rp.threads;
    div->n = c->n;
    div->m = c->m;
    div->have_coordinates = is_points(c) && (!div->debias || (is_points(div->c_xx) &&
                                                              is_points(div->c_yy)));
    div->d = div->have_coordinates ? otk__cost_points_dim(c) : 0;

    /* The solver sees the resolved ε, p and ρ; the α→β problem keeps the
     * averaged (GeomLoss) form throughout the fixed schedule. */
    otk_sinkhorn_params sp;
    otk_sinkhorn_params_default(&sp);
    sp.eps = rp.eps;
    sp.p = rp.p;
    sp.rho_a = sp.rho_b = div->rho;
    sp.schedule = par.schedule;
    sp.update = par.schedule == OTK_SCHEDULE_FIXED ? OTK_UPDATE_SYMMETRIC : rp.update;
    div->update = sp.update;
    sp.scaling = par.scaling;
    sp.diameter = par.diameter;
    sp.tol = par.tol;
    sp.max_iter = par.max_iter;
    sp.threads = rp.threads;
    sp.backend = OTK_BACKEND_ONLINE; /* the costs above are the backend's */
    sp.progress = par.progress;
    sp.progress_ctx = par.progress_ctx;
    if ((st = otk__sinkhorn_alloc_coupled(&div->sk, c, div->c_xx, div->c_yy, &sp)))
        return st;

    const size_t n = div->n, m = div->m;
    const size_t limit = SIZE_MAX / 8 / sizeof(double);
    if (m > limit || n > limit - m)
        return otk__fail(OTK_ENOMEM, "otk_divergence: workspace for n = %zu, m = %zu overflows "
                         "size_t", n, m);
    double *w = malloc((5 * n + 4 * m) * sizeof *w);
    if (!w)
        return otk__fail(OTK_ENOMEM, "otk_divergence: out of memory for n = %zu, m = %zu", n, m);
    div->a = w, w += n;
    div->log_a = w, w += n;
    div->h_n = w, w += n;
    div->hs_n = w, w += n;
    div->row = w, w += n;
    div->b = w, w += m;
    div->log_b = w, w += m;
    div->h_m = w, w += m;
    div->hs_m = w, w += m;
    if (div->have_coordinates) {
        div->grad_tmp = malloc((n > m ? n : m) * div->d * sizeof *div->grad_tmp);
        if (!div->grad_tmp)
            return otk__fail(OTK_ENOMEM, "otk_divergence: out of memory for the gradients");
    }
    div->solved = 0;
    return OTK_SUCCESS;
}

void otk_divergence_free(otk_divergence *div)
{
    if (!div)
        return;
    otk_sinkhorn_free(div->sk);
    free(div->a); /* the start of the workspace block */
    free(div->grad_tmp);
    for (int k = 0; k < 3; k++) {
        otk_cost_free(div->owned[k]);
        otk_cost_free(div->backend_cost[k]);
    }
    free(div);
}

size_t otk_divergence_cache_bytes(const otk_divergence *div)
{
    size_t bytes = 0;
    if (div)
        for (int k = 0; k < 3; k++)
            bytes += otk_cost_cache_bytes(div->owned[k]);
    return bytes;
}

otk_status otk_divergence_alloc_costs(otk_divergence **out, const otk_cost *C_xy,
                                      const otk_cost *C_xx, const otk_cost *C_yy,
                                      const otk_divergence_params *params)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_divergence_alloc_costs: out is NULL");
    *out = NULL;
    if (!C_xy)
        return otk__fail(OTK_ENULL, "otk_divergence_alloc_costs: C_xy is NULL");
    const int debias = params ? params->debias : 1;
    if (debias && (!C_xx || !C_yy))
        return otk__fail(OTK_ENULL, "otk_divergence_alloc_costs: %s is NULL (needed when "
                                    "params.debias is on)",
                         !C_xx ? "C_xx" : "C_yy");
    const size_t n = C_xy->n, m = C_xy->m;
    if (debias && (C_xx->n != n || C_xx->m != n))
        return otk__fail(OTK_ESIZE, "otk_divergence_alloc_costs: C_xx is %zu×%zu, expected "
                                    "%zu×%zu (C_xy is %zu×%zu)",
                         C_xx->n, C_xx->m, n, n, n, m);
    if (debias && (C_yy->n != m || C_yy->m != m))
        return otk__fail(OTK_ESIZE, "otk_divergence_alloc_costs: C_yy is %zu×%zu, expected "
                                    "%zu×%zu (C_xy is %zu×%zu)",
                         C_yy->n, C_yy->m, m, m, n, m);
    otk_divergence *div = calloc(1, sizeof *div);
    if (!div)
        return otk__fail(OTK_ENOMEM, "otk_divergence_alloc_costs: out of memory");
    div->c_xy = C_xy;
    div->c_xx = debias ? C_xx : NULL;
    div->c_yy = debias ? C_yy : NULL;
    otk_status st = setup(div, params);
    if (st) {
        otk_divergence_free(div);
        return st;
    }
    *out = div;
    return OTK_SUCCESS;
}

/* The three point costs of alloc_points / alloc_points_f32: x and y are
 * double or float coordinates as `single` says. */
static otk_status alloc_points_common(const char *fn, otk_divergence **out, size_t n, size_t m,
                                      size_t d, const void *x, const void *y, int single,
                                      otk_ground ground, double power,
                                      const otk_divergence_params *params)
{
    otk_status st;
    if (!out)
        return otk__fail(OTK_ENULL, "%s: out is NULL", fn);
    *out = NULL;
    /* Parameters are validated by setup(); only debias is needed before. */
    const int debias = params ? params->debias != 0 : 1;
    otk_divergence *div = calloc(1, sizeof *div);
    if (!div)
        return otk__fail(OTK_ENOMEM, "%s: out of memory", fn);
    /* C_xy on (x, y), C_xx on (x, x), C_yy on (y, y). */
    const void *pts[3][2] = {{x, y}, {x, x}, {y, y}};
    const size_t rows[3] = {n, n, m}, cols[3] = {m, n, m};
    for (int k = 0; k < (debias ? 3 : 1); k++) {
        st = single ? otk_cost_points_f32(&div->owned[k], rows[k], cols[k], d, pts[k][0],
                                          pts[k][1], ground, power)
                    : otk_cost_points(&div->owned[k], rows[k], cols[k], d, pts[k][0], pts[k][1],
                                      ground, power);
        if (st) {
            otk_divergence_free(div);
            return st;
        }
    }
    /* The budget goes to C_xy first: it serves every update of the α↔β
     * problem, while C_xx and C_yy only serve the debiasing terms. */
    size_t budget = params ? params->cache_bytes : 0;
    for (int k = 0; k < 3 && budget > 0; k++) {
        if (!div->owned[k])
            continue;
        if ((st = otk_cost_points_cache(div->owned[k], budget))) {
            otk_divergence_free(div);
            return st;
        }
        budget -= otk_cost_cache_bytes(div->owned[k]);
    }
    div->c_xy = div->owned[0];
    div->c_xx = div->owned[1];
    div->c_yy = div->owned[2];
    div->from_points = 1;
    if ((st = setup(div, params))) {
        otk_divergence_free(div);
        return st;
    }
    *out = div;
    return OTK_SUCCESS;
}

otk_status otk_divergence_alloc_points(otk_divergence **out, size_t n, size_t m, size_t d,
                                       const double *x, const double *y, otk_ground ground,
                                       double power, const otk_divergence_params *params)
{
    return alloc_points_common("otk_divergence_alloc_points", out, n, m, d, x, y, 0, ground,
                               power, params);
}

otk_status otk_divergence_alloc_points_f32(otk_divergence **out, size_t n, size_t m, size_t d,
                                           const float *x, const float *y, otk_ground ground,
                                           double power, const otk_divergence_params *params)
{
    return alloc_points_common("otk_divergence_alloc_points_f32", out, n, m, d, x, y, 1,
                               ground, power, params);
}

otk_status otk_divergence_set_points(otk_divergence *div, const double *x, const double *y)
{
    otk_status st;
    if (!div)
        return otk__fail(OTK_ENULL, "otk_divergence_set_points: div is NULL");
    if (!div->from_points)
        return otk__fail(OTK_EUNSUPPORTED, "otk_divergence_set_points: the object was made by "
                                           "otk_divergence_alloc_costs; only alloc_points "
                                           "objects own their points");
    if (div->backend_cost[0])
        return otk__fail(OTK_EUNSUPPORTED, "otk_divergence_set_points: backend %s keeps its own "
                                           "copy of the points; allocate a new object",
                         otk_backend_name(div->backend));
    if ((x && (st = otk__check_finite("x", x, div->n * div->d))) ||
        (y && (st = otk__check_finite("y", y, div->m * div->d))))
        return st;
    div->solved = 0;
    if ((st = otk_cost_points_set(div->owned[0], x, y)) ||
        (div->owned[1] && x && (st = otk_cost_points_set(div->owned[1], x, x))) ||
        (div->owned[2] && y && (st = otk_cost_points_set(div->owned[2], y, y))))
        return st;
    /* The ε-list starts from the new diameter. */
    return otk_sinkhorn_set_eps(div->sk, div->eps);
}

otk_status otk_divergence_set_points_f32(otk_divergence *div, const float *x, const float *y)
{
    otk_status st;
    if (!div)
        return otk__fail(OTK_ENULL, "otk_divergence_set_points_f32: div is NULL");
    if (!div->from_points || !otk_cost_single_precision(div->owned[0]) || div->backend_cost[0])
        return otk__fail(OTK_EUNSUPPORTED, "otk_divergence_set_points_f32: the object was not "
                                           "made by otk_divergence_alloc_points_f32");
    /* C_xy checks both arrays before storing either; the symmetric costs then
     * cannot fail. */
    if ((st = otk_cost_points_set_f32(div->owned[0], x, y)))
        return st;
    div->solved = 0;
    if ((div->owned[1] && x && (st = otk_cost_points_set_f32(div->owned[1], x, x))) ||
        (div->owned[2] && y && (st = otk_cost_points_set_f32(div->owned[2], y, y))))
        return st;
    return otk_sinkhorn_set_eps(div->sk, div->eps);
}

/* ----------------------------------------------------------------- solve */

static void copy_log(const double *w, double *log_w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        log_w[i] = w[i] > 0.0 ? log(w[i]) : -INFINITY;
}

/* <w, v> over the atoms with positive weight. */
static double wdot(const double *w, const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0.0)
            s += w[i] * v[i];
    return s;
}

/* <w, e^{−u/ρ} − e^{−v/ρ}> (u NULL: e^0 = 1), written with expm1 to keep the
 * digits of the small differences. */
static double wdiff_exp(const double *w, const double *u, const double *v, size_t n, double rho)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(w[i] > 0.0))
            continue;
        double eu = u ? expm1(-u[i] / rho) : 0.0;
        s += w[i] * (eu - expm1(-v[i] / rho));
    }
    return s;
}

/* The value of the current potentials (see otkit/divergence.h). */
static double divergence_value(const otk_divergence *div)
{
    const size_t n = div->n, m = div->m;
    const double rho = div->rho, eps = div->eps;
    if (isinf(rho)) {
        double v = wdot(div->a, div->f_ba, n) + wdot(div->b, div->g_ab, m);
        if (div->debias)
            v -= wdot(div->a, div->f_aa, n) + wdot(div->b, div->g_bb, m);
        return v;
    }
    if (div->debias)
        return (rho + 0.5 * eps) * (wdiff_exp(div->a, div->f_aa, div->f_ba, n, rho) +
                                    wdiff_exp(div->b, div->g_bb, div->g_ab, m, rho));
    return (rho + 0.5 * eps) *
           (wdiff_exp(div->a, NULL, div->f_ba, n, rho) + wdiff_exp(div->b, NULL, div->g_ab, m, rho));
}

otk_status otk_divergence_solve(otk_divergence *div, const double *a, const double *b,
                                otk_divergence_result *res)
{
    otk_status st;
    double ma = 1.0, mb = 1.0;
    if (!div)
        return otk__fail(OTK_ENULL, "otk_divergence_solve: div is NULL");
    if ((a && (st = otk__check_weights("a", a, div->n, &ma))) ||
        (b && (st = otk__check_weights("b", b, div->m, &mb))))
        return st;
    if (isinf(div->rho) && fabs(ma - mb) > 1e-9 * fmax(ma, mb))
        return otk__fail(OTK_EMASS,
                         "balanced divergence with unequal masses: sum(a) = %.17g, sum(b) = "
                         "%.17g (normalise the weights or set rho/reach)",
                         ma, mb);
    const size_t n = div->n, m = div->m;
    for (size_t i = 0; i < n; i++)
        div->a[i] = a ? a[i] : 1.0 / (double)n;
    for (size_t j = 0; j < m; j++)
        div->b[j] = b ? b[j] : 1.0 / (double)m;
    copy_log(div->a, div->log_a, n);
    copy_log(div->b, div->log_b, m);
    div->solved = 0;

    /* The one driver: GeomLoss's initialisation, annealing and (fixed)
     * extrapolation, or the convergence loop with its best iterate. */
    if ((st = otk_sinkhorn_set(div->sk, a, b)))
        return st;
    if ((st = otk__sinkhorn_run(div->sk)) < 0)
        return st;
    const double *unused;
    otk__sinkhorn_problem(div->sk, 0, &div->f_ba, &div->g_ab);
    div->f_aa = div->g_bb = NULL;
    if (div->debias) {
        otk__sinkhorn_problem(div->sk, 1, &div->f_aa, &unused);
        otk__sinkhorn_problem(div->sk, 2, &div->g_bb, &unused);
    }
    /* A fixed schedule stopped early never took its extrapolation step. */
    div->last_step = div->par.schedule == OTK_SCHEDULE_FIXED && st != OTK_CONTINUE;
    div->f_ba_prev = div->g_ab_prev = div->f_aa_prev = div->g_bb_prev = NULL;
    if (div->last_step) {
        otk__sinkhorn_previous(div->sk, 0, &div->f_ba_prev, &div->g_ab_prev);
        if (div->debias) {
            otk__sinkhorn_previous(div->sk, 1, &div->f_aa_prev, &unused);
            otk__sinkhorn_previous(div->sk, 2, &div->g_bb_prev, &unused);
        }
    }
    div->res.divergence = divergence_value(div);
    div->res.eps = div->eps;
    div->res.rho = div->rho;
    div->res.scale_cost = div->scale;
    div->res.mass_a = ma;
    div->res.mass_b = mb;
    otk__sinkhorn_counts(div->sk, &div->res.iterations, &div->res.annealing_iterations,
                         &div->res.marginal_error);
    div->res.status = st;
    div->res.update = div->update;
    div->res.backend = div->backend;
    div->res.truncation_bound = otk__sinkhorn_truncation(div->sk);
    div->solved = 1;
    if (res)
        *res = div->res;
    return st;
}

/* ------------------------------------------------------------ read-outs */

static otk_status require_solved(const otk_divergence *div, const void *out, const char *fn)
{
    if (!div)
        return otk__fail(OTK_ENULL, "%s: div is NULL", fn);
    if (!out)
        return otk__fail(OTK_ENULL, "%s: the output pointer is NULL", fn);
    if (!div->solved)
        return otk__fail(OTK_ESTATE, "%s: call otk_divergence_solve first", fn);
    return OTK_SUCCESS;
}

otk_status otk_divergence_marginal_error(otk_divergence *div, double *err)
{
    otk_status st;
    if ((st = require_solved(div, err, "otk_divergence_marginal_error")))
        return st;
    *err = otk__sinkhorn_measure(div->sk);
    return OTK_SUCCESS;
}

/* h = log w + pot/ε (the plan scaling of one side); with_log 0 drops log w
 * (conditional plans π_ij / w_i). */
static void scaling(const double *log_w, const double *pot, size_t len, double eps, int with_log,
                    double *h)
{
    for (size_t k = 0; k < len; k++)
        h[k] = with_log ? log_w[k] + pot[k] / eps : pot[k] / eps;
}

otk_status otk_divergence_transport_cost(otk_divergence *div, double *value)
{
    otk_status st;
    if ((st = require_solved(div, value, "otk_divergence_transport_cost")))
        return st;
    const double eps = div->eps;
    scaling(div->log_a, div->f_ba, div->n, eps, 1, div->h_n);
    scaling(div->log_b, div->g_ab, div->m, eps, 1, div->h_m);
    div->c_xy->ops->plan_reduce(div->c_xy, 0, eps, div->h_n, div->h_m, OTK_REDUCE_COST, 0, NULL,
                                div->row, div->threads);
    double s = 0.0;
    for (size_t i = 0; i < div->n; i++)
        s += div->row[i];
    *value = s;
    return OTK_SUCCESS;
}

/* The scalings of π^{ab} into h_n, h_m. */
static void cross_scalings(otk_divergence *div)
{
    scaling(div->log_a, div->f_ba, div->n, div->eps, 1, div->h_n);
    scaling(div->log_b, div->g_ab, div->m, div->eps, 1, div->h_m);
}

otk_status otk_divergence_plan_apply(otk_divergence *div, int axis, size_t k, const double *in,
                                     double *out)
{
    otk_status st;
    if ((st = require_solved(div, out, "otk_divergence_plan_apply")))
        return st;
    if (!in)
        return otk__fail(OTK_ENULL, "otk_divergence_plan_apply: in is NULL");
    if (axis != 0 && axis != 1)
        return otk__fail(OTK_EPARAM, "otk_divergence_plan_apply: axis = %d must be 0 or 1",
                         axis);
    if (k == 0)
        return otk__fail(OTK_ESIZE, "otk_divergence_plan_apply: k must be > 0");
    cross_scalings(div);
    div->c_xy->ops->plan_reduce(div->c_xy, axis, div->eps, div->h_n, div->h_m, OTK_REDUCE_APPLY,
                                k, in, out, div->threads);
    return OTK_SUCCESS;
}

otk_status otk_divergence_barycentric(otk_divergence *div, size_t k, const double *Y,
                                      double *out)
{
    otk_status st;
    if (div && !Y)
        return otk__fail(OTK_ENULL, "otk_divergence_barycentric: Y is NULL");
    if ((st = otk_divergence_plan_apply(div, 0, k, Y, out)))
        return st;
    div->c_xy->ops->plan_reduce(div->c_xy, 0, div->eps, div->h_n, div->h_m, OTK_REDUCE_MASS, 0,
                                NULL, div->row, div->threads);
    for (size_t i = 0; i < div->n; i++)
        for (size_t q = 0; q < k; q++)
            out[i * k + q] = div->row[i] > 0.0 ? out[i * k + q] / div->row[i] : NAN;
    return OTK_SUCCESS;
}

otk_status otk_divergence_plan(otk_divergence *div, double *P)
{
    otk_status st;
    if ((st = require_solved(div, P, "otk_divergence_plan")))
        return st;
    cross_scalings(div);
    const otk_cost *c = div->c_xy;
    int finite = 1;
    for (size_t i = 0; i < div->n; i++)
        for (size_t j = 0; j < div->m; j++) {
            const double p = exp(div->h_n[i] + div->h_m[j] - c->ops->entry(c, i, j) / div->eps);
            finite &= isfinite(p);
            P[i * div->m + j] = p;
        }
    if (!finite)
        return otk__fail(OTK_ENUMERIC, "otk_divergence_plan: a plan entry overflows at eps = %g",
                         div->eps);
    return OTK_SUCCESS;
}

otk_status otk_divergence_potentials(const otk_divergence *div, const double **f_ba,
                                     const double **g_ab, const double **f_aa,
                                     const double **g_bb)
{
    if (!div)
        return otk__fail(OTK_ENULL, "otk_divergence_potentials: div is NULL");
    if (!div->solved)
        return otk__fail(OTK_ESTATE, "otk_divergence_potentials: call otk_divergence_solve "
                                     "first");
    if (f_ba)
        *f_ba = div->f_ba;
    if (g_ab)
        *g_ab = div->g_ab;
    if (f_aa)
        *f_aa = div->debias ? div->f_aa : NULL;
    if (g_bb)
        *g_bb = div->debias ? div->g_bb : NULL;
    return OTK_SUCCESS;
}

/* ∇_w of the value for one side: w the weights, pot the cross potential
 * (f_ba or g_ab), self the symmetric one (f_aa or g_bb, unused without
 * debias).  Formulas in otkit/divergence.h. */
static void weight_gradient(const otk_divergence *div, const double *pot, const double *self,
                            size_t len, double *grad)
{
    const double rho = div->rho, eps = div->eps;
    if (div->last_step) {
        /* The partial derivative of the value's formula: the weights enter
         * the final step's soft-mins only through the detached arguments. */
        for (size_t i = 0; i < len; i++) {
            if (isinf(rho))
                grad[i] = div->debias ? pot[i] - self[i] : pot[i];
            else if (div->debias) /* (ρ+ε/2)(e^{−self/ρ} − e^{−pot/ρ}) */
                grad[i] = (rho + 0.5 * eps) * (expm1(-self[i] / rho) - expm1(-pot[i] / rho));
            else /* (ρ+ε/2)(1 − e^{−pot/ρ}) */
                grad[i] = -(rho + 0.5 * eps) * expm1(-pot[i] / rho);
        }
        return;
    }
    if (isinf(rho)) {
        double mean = 0.0;
        for (size_t i = 0; i < len; i++) {
            grad[i] = div->debias ? pot[i] - self[i] : pot[i];
            mean += grad[i];
        }
        mean /= (double)len;
        for (size_t i = 0; i < len; i++)
            grad[i] -= mean;
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (div->debias) /* (ρ+ε)(e^{−self/ρ} − e^{−pot/ρ}) */
            grad[i] = (rho + eps) * (expm1(-self[i] / rho) - expm1(-pot[i] / rho));
        else /* (ρ + ε/2) − (ρ+ε) e^{−pot/ρ} */
            grad[i] = -0.5 * eps - (rho + eps) * expm1(-pot[i] / rho);
    }
}

otk_status otk_divergence_grad_a(otk_divergence *div, double *grad_a)
{
    otk_status st;
    if ((st = require_solved(div, grad_a, "otk_divergence_grad_a")))
        return st;
    weight_gradient(div, div->f_ba, div->f_aa, div->n, grad_a);
    return OTK_SUCCESS;
}

otk_status otk_divergence_grad_b(otk_divergence *div, double *grad_b)
{
    otk_status st;
    if ((st = require_solved(div, grad_b, "otk_divergence_grad_b")))
        return st;
    weight_gradient(div, div->g_ab, div->g_bb, div->m, grad_b);
    return OTK_SUCCESS;
}

/* The fixed schedule's point gradient (docs/math.md B.3): the derivative of
 * the value through the final extrapolation step alone, the potentials it
 * starts from held fixed, as GeomLoss's autograd computes it (its iterates
 * are detached, and its costs C(x, y.detach()) and C(y, x.detach()) carry
 * the gradient of one side each).  Side 0: Σ_j P_ij ∇₁c(x_i, y_j) with P the
 * plan of f_ba's last soft-mins (columns at g_ab_prev), minus the same on
 * C_xx for f_aa; side 1 likewise with g_ab and g_bb. */
static otk_status last_step_gradient(otk_divergence *div, int side, int own, double *out)
{
    const double eps = div->eps;
    const size_t n = div->n, m = div->m, d = div->d;
    if (side == 0) {
        otk__last_step_scaling(eps, div->rho, div->log_a, div->f_ba, n, own, div->h_n);
        scaling(div->log_b, div->g_ab_prev, m, eps, 1, div->h_m);
    } else {
        scaling(div->log_a, div->f_ba_prev, n, eps, 1, div->h_n);
        otk__last_step_scaling(eps, div->rho, div->log_b, div->g_ab, m, own, div->h_m);
    }
    div->c_xy->ops->plan_reduce(div->c_xy, side, eps, div->h_n, div->h_m, OTK_REDUCE_GRAD, d,
                                NULL, out, div->threads);
    if (!div->debias)
        return OTK_SUCCESS;
    const otk_cost *cs = side == 0 ? div->c_xx : div->c_yy;
    const double *log_w = side == 0 ? div->log_a : div->log_b;
    const size_t len = side == 0 ? n : m;
    double *hr = side == 0 ? div->h_n : div->h_m, *hs = side == 0 ? div->hs_n : div->hs_m;
    otk__last_step_scaling(eps, div->rho, log_w, side == 0 ? div->f_aa : div->g_bb, len, own,
                           hr);
    scaling(log_w, side == 0 ? div->f_aa_prev : div->g_bb_prev, len, eps, 1, hs);
    cs->ops->plan_reduce(cs, 0, eps, hr, hs, OTK_REDUCE_GRAD, d, NULL, div->grad_tmp,
                         div->threads);
    for (size_t k = 0; k < len * d; k++)
        out[k] -= div->grad_tmp[k];
    return OTK_SUCCESS;
}

/* The point gradient of side x (side 0) or y (side 1); `conditional` divides
 * each row by its weight (displacement field) by leaving log w out of that
 * side's plan scaling. */
static otk_status point_gradient(otk_divergence *div, int side, int conditional, double *out,
                                 const char *fn)
{
    otk_status st;
    if ((st = require_solved(div, out, fn)))
        return st;
    if (!div->have_coordinates)
        return otk__fail(OTK_EUNSUPPORTED, "%s: gradients w.r.t. the points need point-cloud "
                                           "costs (the costs given are \"%s\")",
                         fn, div->c_xy->ops->kind);
    const double eps = div->eps;
    const size_t n = div->n, m = div->m, d = div->d;
    const int own = !conditional; /* log w on the reduced side */
    if (div->last_step)
        return last_step_gradient(div, side, own, out);
    /* Cross term Σ π^{ab} ∇c: plan_reduce axis 0 (rows, x) or 1 (columns, y). */
    scaling(div->log_a, div->f_ba, n, eps, side == 0 ? own : 1, div->h_n);
    scaling(div->log_b, div->g_ab, m, eps, side == 1 ? own : 1, div->h_m);
    div->c_xy->ops->plan_reduce(div->c_xy, side, eps, div->h_n, div->h_m, OTK_REDUCE_GRAD, d,
                                NULL, out, div->threads);
    if (!div->debias)
        return OTK_SUCCESS;
    /* Symmetric term Σ_k π^{aa}_ik ∇₁c(x_i, x_k) (rows of C_xx), likewise y. */
    const otk_cost *cs = side == 0 ? div->c_xx : div->c_yy;
    const double *log_w = side == 0 ? div->log_a : div->log_b;
    const double *pot = side == 0 ? div->f_aa : div->g_bb;
    const size_t len = side == 0 ? n : m;
    double *hs = side == 0 ? div->hs_n : div->hs_m;
    double *hr = side == 0 ? div->h_n : div->h_m; /* free again after the cross term */
    scaling(log_w, pot, len, eps, 1, hs);
    scaling(log_w, pot, len, eps, own, hr);
    cs->ops->plan_reduce(cs, 0, eps, hr, hs, OTK_REDUCE_GRAD, d, NULL, div->grad_tmp,
                         div->threads);
    for (size_t k = 0; k < len * d; k++)
        out[k] -= div->grad_tmp[k];
    return OTK_SUCCESS;
}

otk_status otk_divergence_grad_x(otk_divergence *div, double *grad_x)
{
    return point_gradient(div, 0, 0, grad_x, "otk_divergence_grad_x");
}

otk_status otk_divergence_grad_y(otk_divergence *div, double *grad_y)
{
    return point_gradient(div, 1, 0, grad_y, "otk_divergence_grad_y");
}

otk_status otk_divergence_displacement_x(otk_divergence *div, double *disp_x)
{
    return point_gradient(div, 0, 1, disp_x, "otk_divergence_displacement_x");
}

otk_status otk_divergence_displacement_y(otk_divergence *div, double *disp_y)
{
    return point_gradient(div, 1, 1, disp_y, "otk_divergence_displacement_y");
}

/* ------------------------------------------------------------ front door */

otk_status otk_divergence_geomloss_ground(double p, otk_ground *ground, double *power)
{
    if (!ground || !power)
        return otk__fail(OTK_ENULL, "otk_divergence_geomloss_ground: %s is NULL",
                         !ground ? "ground" : "power");
    if (!(p > 0.0) || !isfinite(p))
        return otk__fail(OTK_EPARAM, "otk_divergence_geomloss_ground: p = %g must be finite "
                                     "and > 0",
                         p);
    *power = p;
    *ground = p == 2.0 ? OTK_GROUND_HALF_SQEUCLIDEAN
              : p == 1.0 ? OTK_GROUND_EUCLIDEAN
                         : OTK_GROUND_LP_OVER_P;
    return OTK_SUCCESS;
}

otk_status otk_divergence_geomloss(double *value, size_t n, size_t m, size_t d, const double *x,
                                   const double *y, const double *a, const double *b, double p,
                                   double blur, double reach, double scaling_factor,
                                   double diameter, int debias, otk_divergence_result *res)
{
    otk_status st;
    otk_ground ground;
    double power;
    if (!value)
        return otk__fail(OTK_ENULL, "otk_divergence_geomloss: value is NULL");
    if ((st = otk_divergence_geomloss_ground(p, &ground, &power)))
        return st;
    otk_divergence_params par;
    otk_divergence_params_default(&par);
    par.schedule = OTK_SCHEDULE_FIXED;
    par.p = p;
    par.blur = blur;
    par.reach = reach;
    par.scaling = scaling_factor;
    par.diameter = diameter;
    par.debias = debias;
    otk_divergence *div;
    if ((st = otk_divergence_alloc_points(&div, n, m, d, x, y, ground, power, &par)))
        return st;
    otk_divergence_result r;
    st = otk_divergence_solve(div, a, b, &r);
    otk_divergence_free(div);
    if (st < 0)
        return st;
    *value = r.divergence;
    if (res)
        *res = r;
    return st;
}
