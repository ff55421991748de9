/* The debiased Sinkhorn divergence: four potentials on one ε-schedule
 * (GeomLoss's sinkhorn_loop, docs/math.md B.2) and envelope gradients (B.3). */
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
    int from_points;                    /* made by alloc_points */
    int have_coordinates;               /* the costs are point clouds: gradients */
    otk_divergence_params par;
    otk__resolved_params resolved; /* ε, p, blur, diameter, threads */
    otk_update xy_update;          /* AUTO resolved */
    size_t n, m, d;
    int threads, debias;
    double eps, rho, p, blur;
    /* The ε-list (docs/math.md A.5), its last entry the target ε. */
    double *eps_list;
    int n_eps, eps_cap;
    /* Weights, potentials and workspace, allocated once. */
    double *a, *b, *log_a, *log_b;
    double *f_ba, *g_ab, *f_aa, *g_bb;
    double *f_soft, *g_soft, *faa_soft, *gbb_soft; /* soft-mins of the current potentials */
    double *h_n, *h_m, *hs_n, *hs_m;               /* soft-min inputs / plan scalings */
    double *grad_tmp;                              /* max(n, m)·d, point clouds only */
    double mass_a, mass_b;
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
}

/* (Re)compute the ε-list for the current diameter; grows the list only when
 * the new schedule is longer than any before. */
static otk_status build_schedule(otk_divergence *div)
{
    div->resolved.diameter =
        div->par.diameter > 0.0 ? div->par.diameter : div->c_xy->diameter;
    return otk__build_eps_list(&div->resolved, div->par.scaling, &div->eps_list, &div->n_eps,
                               &div->eps_cap);
}

static int is_points(const otk_cost *c) { return c && strcmp(c->ops->kind, "points") == 0; }

/* Everything after the costs are known: parameters, schedule, workspace. */
static otk_status setup(otk_divergence *div, const otk_divergence_params *params)
{
    otk_divergence_params par;
    if (params)
        par = *params;
    else
        otk_divergence_params_default(&par);
    const otk_cost *c = div->c_xy;
    const otk__common_params common = OTK__COMMON_PARAMS_OF(&par);
    otk_status st = otk__resolve_common(&common, c, &div->resolved);
    if (st)
        return st;
    if (!(par.rho > 0.0))
        return otk__fail(OTK_EPARAM, "params.rho = %g must be > 0 (INFINITY = balanced)",
                         par.rho);
    if (par.debias != 0 && par.debias != 1)
        return otk__fail(OTK_EPARAM, "params.debias = %d must be 0 or 1", par.debias);
    const double p = div->resolved.p;
    div->par = par;
    div->debias = par.debias;
    div->p = p;
    div->eps = div->resolved.eps;
    div->blur = div->resolved.blur;
    div->rho = par.reach > 0.0 ? pow(par.reach, p) : par.rho;
    div->xy_update = div->resolved.update;
    div->threads = div->resolved.threads;
    div->n = c->n;
    div->m = c->m;
    div->have_coordinates = is_points(c) && (!div->debias || (is_points(div->c_xx) &&
                                                              is_points(div->c_yy)));
    div->d = div->have_coordinates ? otk__cost_points_dim(c) : 0;
    if ((st = build_schedule(div)))
        return st;

    const size_t n = div->n, m = div->m;
    const size_t limit = SIZE_MAX / 8 / sizeof(double);
    if (m > limit || n > limit - m)
        return otk__fail(OTK_ENOMEM, "otk_divergence: workspace for n = %zu, m = %zu overflows "
                         "size_t", n, m);
    double *w = malloc((8 * n + 8 * m) * sizeof *w);
    if (!w)
        return otk__fail(OTK_ENOMEM, "otk_divergence: out of memory for n = %zu, m = %zu", n, m);
    div->a = w, w += n;
    div->log_a = w, w += n;
    div->f_ba = w, w += n;
    div->f_aa = w, w += n;
    div->f_soft = w, w += n;
    div->faa_soft = w, w += n;
    div->h_n = w, w += n;
    div->hs_n = w, w += n;
    div->b = w, w += m;
    div->log_b = w, w += m;
    div->g_ab = w, w += m;
    div->g_bb = w, w += m;
    div->g_soft = w, w += m;
    div->gbb_soft = w, w += m;
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
    free(div->a); /* the start of the workspace block */
    free(div->grad_tmp);
    free(div->eps_list);
    for (int k = 0; k < 3; k++)
        otk_cost_free(div->owned[k]);
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

otk_status otk_divergence_alloc_points(otk_divergence **out, size_t n, size_t m, size_t d,
                                       const double *x, const double *y, otk_ground ground,
                                       double power, const otk_divergence_params *params)
{
    otk_status st;
    if (!out)
        return otk__fail(OTK_ENULL, "otk_divergence_alloc_points: out is NULL");
    *out = NULL;
    /* Parameters are validated by setup(); only debias is needed before. */
    const int debias = params ? params->debias != 0 : 1;
    otk_divergence *div = calloc(1, sizeof *div);
    if (!div)
        return otk__fail(OTK_ENOMEM, "otk_divergence_alloc_points: out of memory");
    if ((st = otk_cost_points(&div->owned[0], n, m, d, x, y, ground, power)) ||
        (debias && (st = otk_cost_points(&div->owned[1], n, n, d, x, x, ground, power))) ||
        (debias && (st = otk_cost_points(&div->owned[2], m, m, d, y, y, ground, power)))) {
        otk_divergence_free(div);
        return st;
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

otk_status otk_divergence_set_points(otk_divergence *div, const double *x, const double *y)
{
    otk_status st;
    if (!div)
        return otk__fail(OTK_ENULL, "otk_divergence_set_points: div is NULL");
    if (!div->from_points)
        return otk__fail(OTK_EUNSUPPORTED, "otk_divergence_set_points: the object was made by "
                                           "otk_divergence_alloc_costs; only alloc_points "
                                           "objects own their points");
    if ((x && (st = otk__check_finite("x", x, div->n * div->d))) ||
        (y && (st = otk__check_finite("y", y, div->m * div->d))))
        return st;
    div->solved = 0;
    otk__cost_points_update(div->owned[0], x, y);
    if (div->owned[1] && x)
        otk__cost_points_update(div->owned[1], x, x);
    if (div->owned[2] && y)
        otk__cost_points_update(div->owned[2], y, y);
    return build_schedule(div);
}

/* ------------------------------------------------------------------ loop */

/* out = smin^w_C(pot) along `axis` of C: h = log w + pot/ε (pot NULL = 0). */
static void softmin(const otk_divergence *div, const otk_cost *c, int axis, double eps,
                    const double *log_w, const double *pot, size_t len, double *h, double *out)
{
    for (size_t k = 0; k < len; k++)
        h[k] = pot ? log_w[k] + pot[k] / eps : log_w[k];
    c->ops->softmin(c, axis, eps, h, out, div->threads);
}

/* The soft-mins of the current potentials: f_soft = smin^b_{C_xy}(g_ab) (when
 * `rows`), g_soft = smin^a_{C_yx}(f_ba), and for the debiased problems
 * faa_soft = smin^a_{C_xx}(f_aa), gbb_soft = smin^b_{C_yy}(g_bb).  `zero`
 * evaluates them at zero potentials (GeomLoss's initialisation). */
static void softmins(otk_divergence *div, double eps, int rows, int zero)
{
    const size_t n = div->n, m = div->m;
    if (rows)
        softmin(div, div->c_xy, 0, eps, div->log_b, zero ? NULL : div->g_ab, m, div->h_m,
                div->f_soft);
    softmin(div, div->c_xy, 1, eps, div->log_a, zero ? NULL : div->f_ba, n, div->h_n,
            div->g_soft);
    if (div->debias) {
        softmin(div, div->c_xx, 0, eps, div->log_a, zero ? NULL : div->f_aa, n, div->hs_n,
                div->faa_soft);
        softmin(div, div->c_yy, 0, eps, div->log_b, zero ? NULL : div->g_bb, m, div->hs_m,
                div->gbb_soft);
    }
}

/* pot ← κ·soft (average = 0) or ½(pot + κ·soft) (average = 1). */
static void relax(double *pot, const double *soft, size_t len, double k, int average)
{
    if (average)
        for (size_t i = 0; i < len; i++)
            pot[i] = 0.5 * (pot[i] + k * soft[i]);
    else
        for (size_t i = 0; i < len; i++)
            pot[i] = k * soft[i];
}

/* One update of all four potentials at ε from the soft-mins already computed
 * (all from the previous potentials).  The α→β pair is averaged
 * (`average`), replaced (the final extrapolation), or, for the alternating
 * form, g_ab is replaced and f_ba recomputed from the new g_ab. */
static void update(otk_divergence *div, double eps, int average, int alternating)
{
    const double k = otk__kappa(eps, div->rho);
    if (alternating) {
        relax(div->g_ab, div->g_soft, div->m, k, 0);
        softmin(div, div->c_xy, 0, eps, div->log_b, div->g_ab, div->m, div->h_m, div->f_soft);
        relax(div->f_ba, div->f_soft, div->n, k, 0);
    } else {
        relax(div->f_ba, div->f_soft, div->n, k, average);
        relax(div->g_ab, div->g_soft, div->m, k, average);
    }
    if (div->debias) {
        relax(div->f_aa, div->faa_soft, div->n, k, average);
        relax(div->g_bb, div->gbb_soft, div->m, k, average);
    }
}

static otk_status check_potentials(const otk_divergence *div, double eps)
{
    if (!otk__all_finite(div->f_ba, div->n) || !otk__all_finite(div->g_ab, div->m) ||
        (div->debias &&
         (!otk__all_finite(div->f_aa, div->n) || !otk__all_finite(div->g_bb, div->m))))
        return otk__fail(OTK_ENUMERIC, "otk_divergence_solve: non-finite potential at eps = %g",
                         eps);
    return OTK_SUCCESS;
}

/* The largest marginal error of the solved problems, from the soft-mins of
 * the current potentials; `f_exact` says f_ba = κ·smin^b(g_ab) holds exactly
 * (after an alternating update), so its side needs no measurement. */
static double marginal_error(const otk_divergence *div, double eps, int f_exact)
{
    const double rho = div->rho;
    double err = otk__side_error(div->b, div->g_ab, div->g_soft, div->m, eps, rho, div->mass_b);
    if (!f_exact)
        err += otk__side_error(div->a, div->f_ba, div->f_soft, div->n, eps, rho, div->mass_a);
    if (div->debias) {
        /* The symmetric plans have equal row and column marginals. */
        double e_aa = 2.0 * otk__side_error(div->a, div->f_aa, div->faa_soft, div->n, eps, rho,
                                       div->mass_a);
        double e_bb = 2.0 * otk__side_error(div->b, div->g_bb, div->gbb_soft, div->m, eps, rho,
                                       div->mass_b);
        err = fmax(err, fmax(e_aa, e_bb));
    }
    return err;
}

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
    div->mass_a = ma;
    div->mass_b = mb;
    div->solved = 0;

    const int fixed = div->par.schedule == OTK_SCHEDULE_FIXED;
    const int alternating = div->xy_update == OTK_UPDATE_ALTERNATING;
    const int last = div->n_eps - 1;
    int iterations = 0, annealing = 0;
    otk_status final = OTK_SUCCESS;
    double err = NAN;

    /* GeomLoss's initialisation: one soft-min from zero potentials at ε₀. */
    const double e0 = div->eps_list[0];
    softmins(div, e0, 1, 1);
    update(div, e0, 0, 0);

    /* One update per listed ε (fixed: the whole list; converge: the annealing
     * part, the list without its target entry). */
    const int listed = fixed ? last + 1 : last;
    for (int s = 0; s < listed; s++) {
        const double e = div->eps_list[s];
        softmins(div, e, !alternating || fixed, 0);
        update(div, e, 1, alternating && !fixed);
        iterations++;
        if (s < last)
            annealing++;
        if ((st = check_potentials(div, e)))
            return st;
    }

    if (fixed) {
        /* The final extrapolation: all four from the previous values, not
         * averaged, at the last ε. */
        const double e = div->eps_list[last];
        softmins(div, e, 1, 0);
        update(div, e, 0, 0);
        if ((st = check_potentials(div, e)))
            return st;
    } else {
        const double eps = div->eps;
        int f_exact = 0, target_iterations = 0;
        for (;;) {
            softmins(div, eps, !(alternating && f_exact), 0);
            err = marginal_error(div, eps, alternating && f_exact);
            if (isnan(err))
                return otk__fail(OTK_ENUMERIC, "otk_divergence_solve: marginal error is NaN "
                                               "at eps = %g",
                                 eps);
            if (err <= div->par.tol)
                break;
            if (target_iterations >= div->par.max_iter) {
                otk__fail(OTK_NOT_CONVERGED,
                          "otk_divergence_solve: marginal error %.3g > tol %.3g after "
                          "max_iter = %d iterations at eps = %g",
                          err, div->par.tol, div->par.max_iter, eps);
                final = OTK_NOT_CONVERGED;
                break;
            }
            update(div, eps, 1, alternating);
            f_exact = 1;
            iterations++;
            target_iterations++;
            if ((st = check_potentials(div, eps)))
                return st;
        }
    }

    div->res.divergence = divergence_value(div);
    div->res.eps = div->eps;
    div->res.rho = div->rho;
    div->res.mass_a = ma;
    div->res.mass_b = mb;
    div->res.marginal_error = err;
    div->res.iterations = iterations;
    div->res.annealing_iterations = annealing;
    div->res.status = final;
    div->solved = 1;
    if (res)
        *res = div->res;
    return final;
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
    softmins(div, div->eps, 1, 0);
    *err = marginal_error(div, div->eps, 0);
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
                                div->f_soft, div->threads);
    double s = 0.0;
    for (size_t i = 0; i < div->n; i++)
        s += div->f_soft[i];
    *value = s;
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
