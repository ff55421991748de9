/* What is read out of a Sinkhorn solve (docs/math.md A.6, A.8): the values
 * (OT_kl, OT_ent, <P,C>, the dual), the potentials, the marginals, the plan
 * applied to vectors, the barycentric projection, the dense plan, and the
 * conversion between potential gauges.  The plan is never stored: every
 * read-out is a reduction of the cost against the scalings below. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/sinkhorn.h"
#include "internal.h"
#include "sinkhorn_internal.h"

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
    res->scale_cost = s->scale;
    res->rho_a = s->rho_a;
    res->rho_b = s->rho_b;
    res->mass_a = s->mass_a;
    res->mass_b = s->mass_b;
    res->marginal_error = s->error;
    res->iterations = s->iterations;
    res->annealing_iterations = s->annealing_iterations;
    res->status = s->stage == STAGE_DONE ? s->final_status : OTK_CONTINUE;
    res->update = s->par.update; /* resolved at alloc: never OTK_UPDATE_AUTO */
    res->backend = s->backend;
    res->truncation_bound = otk__sinkhorn_truncation(s);
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
    if (st)
        return st;
    if ((st = otk__sinkhorn_run(s)) < 0)
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
