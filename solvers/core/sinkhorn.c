/* Log-domain Sinkhorn with ε-scaling, balanced and unbalanced (docs/math.md A). */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/sinkhorn.h"
#include "internal.h"

enum { STAGE_UNSET, STAGE_RUNNING, STAGE_DONE };

struct otk_sinkhorn {
    const otk_cost *cost;
    otk_sinkhorn_params par;
    size_t n, m;
    int threads;
    double eps, p, rho_a, rho_b;
    /* The ε-list of the schedule (docs/math.md A.5); its last entry is the target ε. */
    double *eps_list;
    int n_eps, eps_cap;
    /* Weights and workspace, all allocated once in alloc(). */
    double *a, *b, *log_a, *log_b;
    double *f, *g, *f_soft, *g_soft, *h_n, *h_m, *best_f, *best_g, *row, *col;
    double mass_a, mass_b;
    /* Progress. */
    int stage, started, step, f_fresh;
    int iterations, annealing_iterations, target_iterations;
    double last_eps, error, best_error;
    otk_status final_status;
    int values_valid;
    double ot_lin, plan_mass;
};

void otk_sinkhorn_params_default(otk_sinkhorn_params *params)
{
    if (!params)
        return;
    memset(params, 0, sizeof *params);
    OTK__COMMON_PARAMS_DEFAULT(params);
    params->rho_a = INFINITY;
    params->rho_b = INFINITY;
    params->no_annealing = 0;
}

otk_status otk_sinkhorn_alloc(otk_sinkhorn **out, const otk_cost *cost,
                              const otk_sinkhorn_params *params)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_alloc: out is NULL");
    *out = NULL;
    if (!cost)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_alloc: cost is NULL");
    otk_sinkhorn_params par;
    if (params)
        par = *params;
    else
        otk_sinkhorn_params_default(&par);
    const otk__common_params common = OTK__COMMON_PARAMS_OF(&par);
    otk__resolved_params rp;
    otk_status st = otk__resolve_common(&common, cost, &rp);
    if (st)
        return st;
    if (!(par.rho_a > 0.0))
        return otk__fail(OTK_EPARAM, "params.rho_a = %g must be > 0 (INFINITY = balanced)",
                         par.rho_a);
    if (!(par.rho_b > 0.0))
        return otk__fail(OTK_EPARAM, "params.rho_b = %g must be > 0 (INFINITY = balanced)",
                         par.rho_b);
    double rho_a = par.rho_a, rho_b = par.rho_b;
    if (par.reach > 0.0)
        rho_a = rho_b = pow(par.reach, rp.p);
    par.update = rp.update;

    const size_t n = cost->n, m = cost->m;
    const size_t limit = SIZE_MAX / 7 / sizeof(double);
    if (m > limit || n > limit - m)
        return otk__fail(OTK_ENOMEM, "otk_sinkhorn_alloc: workspace for n = %zu, m = %zu "
                         "overflows size_t", n, m);
    otk_sinkhorn *s = calloc(1, sizeof *s);
    if (!s)
        return otk__fail(OTK_ENOMEM, "otk_sinkhorn_alloc: out of memory");
    double *block = malloc((7 * n + 7 * m) * sizeof *block);
    int cap = 0;
    if (!block || (st = otk__build_eps_list(&rp, par.scaling, &s->eps_list, &s->n_eps, &cap))) {
        free(block);
        free(s);
        return block ? st
                     : otk__fail(OTK_ENOMEM,
                                 "otk_sinkhorn_alloc: out of memory for n = %zu, m = %zu", n, m);
    }
    double *w = block;
    s->a = w, w += n;
    s->log_a = w, w += n;
    s->f = w, w += n;
    s->f_soft = w, w += n;
    s->h_n = w, w += n;
    s->best_f = w, w += n;
    s->row = w, w += n;
    s->b = w, w += m;
    s->log_b = w, w += m;
    s->g = w, w += m;
    s->g_soft = w, w += m;
    s->h_m = w, w += m;
    s->best_g = w, w += m;
    s->col = w, w += m;
    s->cost = cost;
    s->par = par;
    s->n = n;
    s->m = m;
    s->threads = rp.threads;
    s->eps = rp.eps;
    s->p = rp.p;
    s->rho_a = rho_a;
    s->rho_b = rho_b;
    s->stage = STAGE_UNSET;
    s->eps_cap = cap;
    *out = s;
    return OTK_SUCCESS;
}

void otk_sinkhorn_free(otk_sinkhorn *s)
{
    if (!s)
        return;
    free(s->a); /* the start of the workspace block */
    free(s->eps_list);
    free(s);
}

static void copy_log(const double *w, double *logw, size_t n)
{
    for (size_t i = 0; i < n; i++)
        logw[i] = w[i] > 0.0 ? log(w[i]) : -INFINITY;
}

otk_status otk_sinkhorn_set(otk_sinkhorn *s, const double *a, const double *b)
{
    otk_status st;
    double ma, mb;
    if (!s)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_set: solver is NULL");
    if (a && (st = otk__check_weights("a", a, s->n, &ma)))
        return st;
    if (b && (st = otk__check_weights("b", b, s->m, &mb)))
        return st;
    if (!a)
        ma = 1.0;
    if (!b)
        mb = 1.0;
    if (isinf(s->rho_a) && isinf(s->rho_b) && fabs(ma - mb) > 1e-9 * fmax(ma, mb))
        return otk__fail(OTK_EMASS,
                         "balanced problem with unequal masses: sum(a) = %.17g, sum(b) = %.17g "
                         "(normalise the weights or set rho/reach)",
                         ma, mb);
    for (size_t i = 0; i < s->n; i++)
        s->a[i] = a ? a[i] : 1.0 / (double)s->n;
    for (size_t j = 0; j < s->m; j++)
        s->b[j] = b ? b[j] : 1.0 / (double)s->m;
    copy_log(s->a, s->log_a, s->n);
    copy_log(s->b, s->log_b, s->m);
    s->mass_a = ma;
    s->mass_b = mb;
    memset(s->f, 0, s->n * sizeof *s->f);
    memset(s->g, 0, s->m * sizeof *s->g);
    s->stage = STAGE_RUNNING;
    s->started = 0;
    s->step = 0;
    s->f_fresh = 0;
    s->iterations = s->annealing_iterations = s->target_iterations = 0;
    s->last_eps = NAN;
    s->error = NAN;
    s->best_error = INFINITY;
    s->final_status = OTK_CONTINUE;
    s->values_valid = 0;
    return OTK_SUCCESS;
}

otk_status otk_sinkhorn_set_potentials(otk_sinkhorn *s, const double *f, const double *g)
{
    otk_status st;
    if (!s)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_set_potentials: solver is NULL");
    if (s->stage == STAGE_UNSET)
        return otk__fail(OTK_ESTATE, "otk_sinkhorn_set_potentials: call otk_sinkhorn_set first");
    if ((f && (st = otk__check_finite("f", f, s->n))) ||
        (g && (st = otk__check_finite("g", g, s->m))))
        return st;
    if (f)
        memcpy(s->f, f, s->n * sizeof *f);
    if (g)
        memcpy(s->g, g, s->m * sizeof *g);
    s->stage = STAGE_RUNNING;
    s->started = 1;
    s->step = s->n_eps - 1; /* straight to the target ε */
    s->f_fresh = 0;
    s->error = NAN;
    s->best_error = INFINITY;
    s->final_status = OTK_CONTINUE;
    s->values_valid = 0;
    return OTK_SUCCESS;
}

/* f_soft = smin^b(g) = −ε log Σ_j b_j exp((g_j − C_ij)/ε), undamped. */
static void softmin_rows(otk_sinkhorn *s, double eps)
{
    for (size_t j = 0; j < s->m; j++)
        s->h_m[j] = s->log_b[j] + s->g[j] / eps;
    s->cost->ops->softmin(s->cost, 0, eps, s->h_m, s->f_soft, s->threads);
}

/* g_soft = smin^a(f), undamped. */
static void softmin_cols(otk_sinkhorn *s, double eps)
{
    for (size_t i = 0; i < s->n; i++)
        s->h_n[i] = s->log_a[i] + s->f[i] / eps;
    s->cost->ops->softmin(s->cost, 1, eps, s->h_n, s->g_soft, s->threads);
}

/* One update at `eps`, alternating or symmetric (averaged) as par.update
 * says (docs/math.md A.2).  `softmins_ready`: f_soft and g_soft already hold
 * the soft-mins of the current pair (the convergence test computed them).  The
 * fixed schedule's final un-averaged step is done by otk_sinkhorn_iterate. */
static void update(otk_sinkhorn *s, double eps, int softmins_ready)
{
    const double ka = otk__kappa(eps, s->rho_a), kb = otk__kappa(eps, s->rho_b);
    if (s->par.update == OTK_UPDATE_ALTERNATING) {
        if (!softmins_ready)
            softmin_cols(s, eps);
        for (size_t j = 0; j < s->m; j++)
            s->g[j] = kb * s->g_soft[j];
        softmin_rows(s, eps);
        for (size_t i = 0; i < s->n; i++)
            s->f[i] = ka * s->f_soft[i];
        s->f_fresh = 1;
        return;
    }
    if (!softmins_ready) {
        softmin_rows(s, eps);
        softmin_cols(s, eps);
    }
    for (size_t i = 0; i < s->n; i++)
        s->f[i] = 0.5 * (s->f[i] + ka * s->f_soft[i]);
    for (size_t j = 0; j < s->m; j++)
        s->g[j] = 0.5 * (s->g[j] + kb * s->g_soft[j]);
}

static otk_status finish(otk_sinkhorn *s, otk_status st)
{
    s->stage = STAGE_DONE;
    s->final_status = st;
    s->values_valid = 0;
    return st;
}

otk_status otk_sinkhorn_iterate(otk_sinkhorn *s)
{
    if (!s)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_iterate: solver is NULL");
    if (s->stage == STAGE_UNSET)
        return otk__fail(OTK_ESTATE, "otk_sinkhorn_iterate: call otk_sinkhorn_set first");
    if (s->stage == STAGE_DONE)
        return s->final_status;
    s->values_valid = 0;
    const int fixed = s->par.schedule == OTK_SCHEDULE_FIXED;
    const int last = s->n_eps - 1;

    if (!s->started) {
        s->started = 1;
        if (!fixed && s->par.no_annealing) {
            s->step = last;
        } else {
            /* GeomLoss initialisation: one parallel soft-min from zero
             * potentials at the first ε of the list. */
            const double e0 = s->eps_list[0];
            softmin_rows(s, e0);
            softmin_cols(s, e0);
            const double ka = otk__kappa(e0, s->rho_a), kb = otk__kappa(e0, s->rho_b);
            for (size_t i = 0; i < s->n; i++)
                s->f[i] = ka * s->f_soft[i];
            for (size_t j = 0; j < s->m; j++)
                s->g[j] = kb * s->g_soft[j];
        }
    }

    /* Annealing (and the whole fixed schedule): one update per listed ε. */
    if (fixed ? s->step <= last : s->step < last) {
        const double e = s->eps_list[s->step];
        update(s, e, 0);
        s->last_eps = e;
        s->step++;
        s->iterations++;
        if (s->step <= last)
            s->annealing_iterations++;
        if (!otk__all_finite(s->f, s->n) || !otk__all_finite(s->g, s->m))
            return finish(s, otk__fail(OTK_ENUMERIC, "non-finite potential at eps = %g", e));
        if (fixed && s->step > last) {
            /* GeomLoss's final extrapolation: parallel, not averaged. */
            const double ka = otk__kappa(e, s->rho_a), kb = otk__kappa(e, s->rho_b);
            softmin_rows(s, e);
            softmin_cols(s, e);
            for (size_t i = 0; i < s->n; i++)
                s->f[i] = ka * s->f_soft[i];
            for (size_t j = 0; j < s->m; j++)
                s->g[j] = kb * s->g_soft[j];
            s->error = NAN; /* measured on demand by get_result */
            if (!otk__all_finite(s->f, s->n) || !otk__all_finite(s->g, s->m))
                return finish(s, otk__fail(OTK_ENUMERIC, "non-finite potential at eps = %g", e));
            return finish(s, OTK_SUCCESS);
        }
        return OTK_CONTINUE;
    }

    /* At the target ε: measure the current pair with the soft-mins the next
     * update needs anyway, stop or update. */
    const double eps = s->eps;
    double err;
    if (s->par.update == OTK_UPDATE_ALTERNATING) {
        softmin_cols(s, eps);
        if (s->f_fresh) {
            err = otk__side_error(s->b, s->g, s->g_soft, s->m, eps, s->rho_b, s->mass_b);
        } else {
            softmin_rows(s, eps);
            err = otk__side_error(s->a, s->f, s->f_soft, s->n, eps, s->rho_a, s->mass_a) +
                  otk__side_error(s->b, s->g, s->g_soft, s->m, eps, s->rho_b, s->mass_b);
        }
    } else {
        softmin_rows(s, eps);
        softmin_cols(s, eps);
        err = otk__side_error(s->a, s->f, s->f_soft, s->n, eps, s->rho_a, s->mass_a) +
              otk__side_error(s->b, s->g, s->g_soft, s->m, eps, s->rho_b, s->mass_b);
    }
    if (isnan(err))
        return finish(s, otk__fail(OTK_ENUMERIC, "marginal error is NaN at eps = %g", eps));
    s->error = err;
    s->last_eps = eps;
    if (err < s->best_error) {
        s->best_error = err;
        memcpy(s->best_f, s->f, s->n * sizeof *s->f);
        memcpy(s->best_g, s->g, s->m * sizeof *s->g);
    }
    if (err <= s->par.tol)
        return finish(s, OTK_SUCCESS);
    if (s->target_iterations >= s->par.max_iter) {
        memcpy(s->f, s->best_f, s->n * sizeof *s->f);
        memcpy(s->g, s->best_g, s->m * sizeof *s->g);
        s->error = s->best_error;
        otk__fail(OTK_NOT_CONVERGED,
                  "marginal error %.3g > tol %.3g after max_iter = %d iterations at eps = %g",
                  s->best_error, s->par.tol, s->par.max_iter, eps);
        return finish(s, OTK_NOT_CONVERGED);
    }
    update(s, eps, 1);
    s->iterations++;
    s->target_iterations++;
    if (!otk__all_finite(s->f, s->n) || !otk__all_finite(s->g, s->m))
        return finish(s, otk__fail(OTK_ENUMERIC, "non-finite potential at eps = %g", eps));
    return OTK_CONTINUE;
}

void otk_sinkhorn_progress(const otk_sinkhorn *s, double *eps, int *iterations,
                           double *marginal_error)
{
    if (eps)
        *eps = s ? s->last_eps : NAN;
    if (iterations)
        *iterations = s ? s->iterations : 0;
    if (marginal_error)
        *marginal_error = s ? s->error : NAN;
}

/* u_i = log a_i + f_i/ε into h_n and v_j = log b_j + g_j/ε into h_m, so that
 * P_ij = exp(u_i + v_j − C_ij/ε). */
static void plan_scalings(otk_sinkhorn *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->h_n[i] = s->log_a[i] + s->f[i] / s->eps;
    for (size_t j = 0; j < s->m; j++)
        s->h_m[j] = s->log_b[j] + s->g[j] / s->eps;
}

static otk_status require_set(const otk_sinkhorn *s, const char *fn)
{
    if (!s)
        return otk__fail(OTK_ENULL, "%s: solver is NULL", fn);
    if (s->stage == STAGE_UNSET)
        return otk__fail(OTK_ESTATE, "%s: call otk_sinkhorn_set first", fn);
    return OTK_SUCCESS;
}

static double entropy(const double *w, size_t n)
{
    double h = 0.0;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0.0)
            h -= w[i] * log(w[i]);
    return h;
}

/* One side's term of the dual objective: <w, pot> when balanced, else
 * ρ<w, 1 − exp(−pot/ρ)> (docs/math.md A.6). */
static double dual_side(const double *w, const double *pot, size_t n, double rho)
{
    double v = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == 0.0)
            continue;
        v += isinf(rho) ? w[i] * pot[i] : w[i] * rho * -expm1(-pot[i] / rho);
    }
    return v;
}

otk_status otk_sinkhorn_get_result(otk_sinkhorn *s, otk_sinkhorn_result *res)
{
    otk_status st;
    if ((st = require_set(s, "otk_sinkhorn_get_result")))
        return st;
    if (!res)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_get_result: res is NULL");
    const otk_cost *c = s->cost;
    const double eps = s->eps;
    if (!s->values_valid) {
        plan_scalings(s);
        c->ops->plan_reduce(c, 0, eps, s->h_n, s->h_m, OTK_REDUCE_COST, 0, NULL, s->row,
                            s->threads);
        double lin = 0.0;
        for (size_t i = 0; i < s->n; i++)
            lin += s->row[i];
        c->ops->plan_reduce(c, 0, eps, s->h_n, s->h_m, OTK_REDUCE_MASS, 0, NULL, s->row,
                            s->threads);
        double mass = 0.0;
        for (size_t i = 0; i < s->n; i++)
            mass += s->row[i];
        if (isnan(s->error)) {
            c->ops->plan_reduce(c, 1, eps, s->h_n, s->h_m, OTK_REDUCE_MASS, 0, NULL, s->col,
                                s->threads);
            /* A point of zero weight has a zero target (its e^{−f/ρ} may
             * overflow: 0·∞ would make the error NaN), as otk__side_error. */
            double err_a = 0.0, err_b = 0.0;
            for (size_t i = 0; i < s->n; i++)
                err_a += fabs(s->row[i] - (s->a[i] == 0.0 ? 0.0
                                           : s->a[i] * (isinf(s->rho_a) ? 1.0
                                                        : exp(-s->f[i] / s->rho_a))));
            for (size_t j = 0; j < s->m; j++)
                err_b += fabs(s->col[j] - (s->b[j] == 0.0 ? 0.0
                                           : s->b[j] * (isinf(s->rho_b) ? 1.0
                                                        : exp(-s->g[j] / s->rho_b))));
            s->error = err_a / s->mass_a + err_b / s->mass_b;
        }
        s->ot_lin = lin;
        s->plan_mass = mass;
        s->values_valid = 1;
    }
    const int balanced = isinf(s->rho_a) && isinf(s->rho_b);
    double kl = dual_side(s->a, s->f, s->n, s->rho_a) + dual_side(s->b, s->g, s->m, s->rho_b);
    /* The dual's mass term −ε(ΣP − m_a m_b).  A balanced plan has ΣP = m_a, so
     * there the term is the constant −ε(m_a − m_a m_b): zero for unit masses,
     * where this is GeomLoss's <a,f> + <b,g> (Feydy eq. 3.207) to the last bit,
     * also on an unconverged fixed schedule. */
    kl -= eps * ((balanced ? s->mass_a : s->plan_mass) - s->mass_a * s->mass_b);
    res->ot_kl = kl;
    res->ot_ent = kl - eps * (entropy(s->a, s->n) + entropy(s->b, s->m));
    res->ot_lin = s->ot_lin;
    res->eps = eps;
    res->rho_a = s->rho_a;
    res->rho_b = s->rho_b;
    res->mass_a = s->mass_a;
    res->mass_b = s->mass_b;
    res->marginal_error = s->error;
    res->iterations = s->iterations;
    res->annealing_iterations = s->annealing_iterations;
    res->status = s->stage == STAGE_DONE ? s->final_status : OTK_CONTINUE;
    /* Finite potentials can still give infinite values when they have lost
     * their precision (|f|/ε beyond 2^53: the fixed schedule on strongly
     * unbalanced masses, ε below the cost's resolution): reported, never
     * returned as a result. */
    if (!isfinite(res->ot_kl) || !isfinite(res->ot_ent) || !isfinite(res->ot_lin) ||
        !isfinite(res->marginal_error))
        return otk__fail(OTK_ENUMERIC,
                         "otk_sinkhorn_get_result: non-finite value at eps = %g (OT_kl %g, "
                         "<P,C> %g, marginal error %g): the potentials lost their precision",
                         eps, res->ot_kl, res->ot_lin, res->marginal_error);
    return OTK_SUCCESS;
}

otk_status otk_sinkhorn_solve(otk_sinkhorn *s, const double *a, const double *b,
                              otk_sinkhorn_result *res)
{
    otk_status st = otk_sinkhorn_set(s, a, b);
    return st ? st : otk__sinkhorn_finish(s, res);
}

otk_status otk__sinkhorn_finish(otk_sinkhorn *s, otk_sinkhorn_result *res)
{
    otk_status st;
    while ((st = otk_sinkhorn_iterate(s)) == OTK_CONTINUE)
        ;
    if (st < 0)
        return st;
    if (res) {
        otk_status rs = otk_sinkhorn_get_result(s, res);
        if (rs)
            return rs;
    }
    return st;
}

const double *otk_sinkhorn_potential_f(const otk_sinkhorn *s) { return s ? s->f : NULL; }
const double *otk_sinkhorn_potential_g(const otk_sinkhorn *s) { return s ? s->g : NULL; }

otk_status otk_sinkhorn_marginals(otk_sinkhorn *s, double *row, double *col)
{
    otk_status st;
    if ((st = require_set(s, "otk_sinkhorn_marginals")))
        return st;
    plan_scalings(s);
    if (row)
        s->cost->ops->plan_reduce(s->cost, 0, s->eps, s->h_n, s->h_m, OTK_REDUCE_MASS, 0, NULL,
                                  row, s->threads);
    if (col)
        s->cost->ops->plan_reduce(s->cost, 1, s->eps, s->h_n, s->h_m, OTK_REDUCE_MASS, 0, NULL,
                                  col, s->threads);
    if ((row && !otk__all_finite(row, s->n)) || (col && !otk__all_finite(col, s->m)))
        return otk__fail(OTK_ENUMERIC, "otk_sinkhorn_marginals: a marginal overflows at eps = %g "
                                       "(the potentials lost their precision)", s->eps);
    return OTK_SUCCESS;
}

otk_status otk_sinkhorn_plan_apply(otk_sinkhorn *s, int axis, size_t k, const double *in,
                                   double *out)
{
    otk_status st;
    if ((st = require_set(s, "otk_sinkhorn_plan_apply")))
        return st;
    if (!in || !out)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_plan_apply: %s is NULL", !in ? "in" : "out");
    if (axis != 0 && axis != 1)
        return otk__fail(OTK_EPARAM, "otk_sinkhorn_plan_apply: axis = %d must be 0 or 1", axis);
    if (k == 0)
        return otk__fail(OTK_ESIZE, "otk_sinkhorn_plan_apply: k must be > 0");
    plan_scalings(s);
    s->cost->ops->plan_reduce(s->cost, axis, s->eps, s->h_n, s->h_m, OTK_REDUCE_APPLY, k, in, out,
                              s->threads);
    return OTK_SUCCESS;
}

otk_status otk_sinkhorn_barycentric(otk_sinkhorn *s, size_t k, const double *Y, double *out)
{
    if (s && (!Y || !out))
        return otk__fail(OTK_ENULL, "otk_sinkhorn_barycentric: %s is NULL", !Y ? "Y" : "out");
    otk_status st = otk_sinkhorn_plan_apply(s, 0, k, Y, out);
    if (st)
        return st;
    s->cost->ops->plan_reduce(s->cost, 0, s->eps, s->h_n, s->h_m, OTK_REDUCE_MASS, 0, NULL, s->row,
                              s->threads);
    for (size_t i = 0; i < s->n; i++)
        for (size_t q = 0; q < k; q++)
            out[i * k + q] = s->row[i] > 0.0 ? out[i * k + q] / s->row[i] : NAN;
    return OTK_SUCCESS;
}

otk_status otk_sinkhorn_plan(otk_sinkhorn *s, double *P)
{
    otk_status st;
    if ((st = require_set(s, "otk_sinkhorn_plan")))
        return st;
    if (!P)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_plan: P is NULL");
    plan_scalings(s);
    int finite = 1;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->m; j++) {
            double p = exp(s->h_n[i] + s->h_m[j] - s->cost->ops->entry(s->cost, i, j) / s->eps);
            finite &= isfinite(p);
            P[i * s->m + j] = p;
        }
    if (!finite)
        return otk__fail(OTK_ENUMERIC, "otk_sinkhorn_plan: a plan entry overflows at eps = %g "
                                       "(the potentials lost their precision)", s->eps);
    return OTK_SUCCESS;
}

otk_status otk_potential_convert(size_t n, double eps, const double *w, otk_gauge from,
                                 otk_gauge to, const double *in, double *out)
{
    if (!w || !in || !out)
        return otk__fail(OTK_ENULL, "otk_potential_convert: %s is NULL",
                         !w ? "w" : !in ? "in" : "out");
    if (!(eps > 0.0) || !isfinite(eps))
        return otk__fail(OTK_EPARAM, "otk_potential_convert: eps = %g must be > 0", eps);
    if ((unsigned)from > OTK_GAUGE_POT || (unsigned)to > OTK_GAUGE_POT)
        return otk__fail(OTK_EPARAM, "otk_potential_convert: invalid gauge");
    for (size_t i = 0; i < n; i++) {
        double logw = w[i] > 0.0 ? log(w[i]) : -INFINITY;
        double f; /* GeomLoss gauge */
        switch (from) {
        case OTK_GAUGE_OTT:
            f = in[i] - eps * logw;
            break;
        case OTK_GAUGE_POT:
            f = eps * (in[i] - logw);
            break;
        default:
            f = in[i];
            break;
        }
        switch (to) {
        case OTK_GAUGE_OTT:
            out[i] = f + eps * logw;
            break;
        case OTK_GAUGE_POT:
            out[i] = f / eps + logw;
            break;
        default:
            out[i] = f;
            break;
        }
    }
    return OTK_SUCCESS;
}

otk_status otk__sinkhorn_reserve(otk_sinkhorn *s, int cap)
{
    if (cap <= s->eps_cap)
        return OTK_SUCCESS;
    double *grown = realloc(s->eps_list, (size_t)cap * sizeof *grown);
    if (!grown)
        return otk__fail(OTK_ENOMEM, "out of memory for an epsilon list of %d values", cap);
    s->eps_list = grown;
    s->eps_cap = cap;
    return OTK_SUCCESS;
}

otk_status otk__sinkhorn_retarget(otk_sinkhorn *s, double eps)
{
    otk_sinkhorn_params par = s->par;
    par.eps = eps;
    const otk__common_params common = OTK__COMMON_PARAMS_OF(&par);
    otk__resolved_params rp;
    otk_status st = otk__resolve_common(&common, s->cost, &rp);
    if (st)
        return st;
    if ((st = otk__build_eps_list(&rp, par.scaling, &s->eps_list, &s->n_eps, &s->eps_cap)))
        return st;
    s->par.eps = eps;
    s->eps = rp.eps;
    s->stage = STAGE_UNSET;
    return OTK_SUCCESS;
}
