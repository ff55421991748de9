/* The empirical Monge gap with OT_ent (docs/math.md C.2) and its envelope
 * gradients (C.4), on top of the point-cloud cost and the Sinkhorn solver. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/monge_gap.h"
#include "otkit/sinkhorn.h"
#include "internal.h"

struct otk_monge_gap {
    size_t n, d;
    otk_monge_gap_params par;
    int threads;
    otk_cost *cost;          /* x against tx, coordinates replaced at each evaluation */
    otk_backend backend;     /* resolved at alloc */
    otk_cost *ms;            /* multiscale: the clustered copy of cost, rebuilt per evaluation */
    otk_sinkhorn_params sp;  /* multiscale: the solver rebuilt with ms */
    otk_sinkhorn *sk;        /* borrows cost (or ms) */
    double *u, *v;           /* n each: plan scalings log w + f/ε, log w + g/ε */
    double *tmp;             /* n×d: plan-weighted gradient sums */
    double *warm_f, *warm_g; /* n each: the last evaluation's potentials (warm_start) */
    double warm_eps;         /* their ε; 0 = none yet */
};

void otk_monge_gap_params_default(otk_monge_gap_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->ground = OTK_GROUND_SQEUCLIDEAN;
    p->power = 0.0;
    p->eps = 0.0;
    p->relative_eps = 0.05;
    p->relative_to = OTK_RELATIVE_STD;
    p->tol = 1e-6;
    p->max_iter = 10000;
    p->threads = 0;
    p->warm_start = 0;
    p->backend = OTK_BACKEND_AUTO;
    p->truncate = 12.0;
}

static otk_status check_params(const otk_monge_gap_params *p)
{
    if (!otk_ground_name(p->ground))
        return otk__fail(OTK_EPARAM, "params.ground = %d is not a valid otk_ground",
                         (int)p->ground);
    if ((p->ground == OTK_GROUND_LP || p->ground == OTK_GROUND_LP_OVER_P) &&
        !(p->power > 0.0 && isfinite(p->power)))
        return otk__fail(OTK_EPARAM, "params.power = %g must be finite and > 0 for %s", p->power,
                         otk_ground_name(p->ground));
    if (!(p->eps >= 0.0 && isfinite(p->eps)))
        return otk__fail(OTK_EPARAM,
                         "params.eps = %g must be finite and > 0 (or 0 for a relative eps)",
                         p->eps);
    if (p->eps == 0.0 && !(p->relative_eps > 0.0 && isfinite(p->relative_eps)))
        return otk__fail(OTK_EPARAM,
                         "params.relative_eps = %g must be finite and > 0 when params.eps is 0",
                         p->relative_eps);
    if (!otk_relative_to_name(p->relative_to))
        return otk__fail(OTK_EPARAM, "params.relative_to = %d is not a valid otk_relative_to",
                         (int)p->relative_to);
    if (!(p->tol > 0.0 && isfinite(p->tol)))
        return otk__fail(OTK_EPARAM, "params.tol = %g must be finite and > 0", p->tol);
    if (p->max_iter < 1)
        return otk__fail(OTK_EPARAM, "params.max_iter = %d must be >= 1", p->max_iter);
    if (p->threads < 0)
        return otk__fail(OTK_EPARAM, "params.threads = %d must be >= 0", p->threads);
    if (p->warm_start != 0 && p->warm_start != 1)
        return otk__fail(OTK_EPARAM, "params.warm_start = %d must be 0 or 1", p->warm_start);
    if (!otk_backend_name(p->backend))
        return otk__fail(OTK_EPARAM, "params.backend = %d is not an otk_backend", (int)p->backend);
    if (!(p->truncate > 0.0))
        return otk__fail(OTK_EPARAM, "params.truncate = %g must be > 0 (INFINITY keeps every "
                                     "block)",
                         p->truncate);
    return OTK_SUCCESS;
}

otk_status otk_monge_gap_alloc(otk_monge_gap **out, size_t n, size_t d,
                               const otk_monge_gap_params *params)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_monge_gap_alloc: out is NULL");
    *out = NULL;
    if (n == 0 || d == 0)
        return otk__fail(OTK_ESIZE, "otk_monge_gap: n = %zu and d = %zu must be > 0", n, d);
    otk_monge_gap_params par;
    if (params)
        par = *params;
    else
        otk_monge_gap_params_default(&par);
    otk_status st = check_params(&par);
    if (st)
        return st;
    if (d > SIZE_MAX / sizeof(double) / 2 / n || n > SIZE_MAX / sizeof(double) / 8)
        return otk__fail(OTK_ENOMEM, "otk_monge_gap_alloc: n = %zu, d = %zu overflow size_t", n,
                         d);

    otk_monge_gap *mg = calloc(1, sizeof *mg);
    double *zeros = calloc(n * d, sizeof *zeros);
    double *block = malloc((n * d + 4 * n) * sizeof *block);
    if (!mg || !zeros || !block) {
        st = otk__fail(OTK_ENOMEM, "otk_monge_gap_alloc: out of memory for n = %zu, d = %zu", n,
                       d);
        goto fail;
    }
    mg->tmp = block;
    mg->u = block + n * d;
    mg->v = mg->u + n;
    mg->warm_f = mg->v + n;
    mg->warm_g = mg->warm_f + n;
    mg->warm_eps = 0.0;
    block = NULL;
    /* The coordinates are placeholders until the first evaluation. */
    if ((st = otk_cost_points(&mg->cost, n, n, d, zeros, zeros, par.ground, par.power)) ||
        (st = otk_cost_points_cache(mg->cost, par.cache_bytes)))
        goto fail;
    /* The backend is chosen here, on the sizes, as otk_sinkhorn chooses it
     * (auto: multiscale for d <= 3, n^2 >= OTK_BACKEND_AUTO_PAIRS).  The
     * copy it builds is of the placeholders: dense keeps the matrix in the
     * cost instead (refilled by otk_cost_points_set), multiscale clusters
     * the points of each evaluation anew. */
    {
        otk_cost *probe = NULL;
        if (par.backend == OTK_BACKEND_DENSE && (st = otk_cost_points_cache(mg->cost, SIZE_MAX)))
            goto fail;
        st = otk__backend_cost(par.backend, par.truncate, mg->cost, &mg->backend, &probe);
        otk_cost_free(probe);
        if (st)
            goto fail;
    }
    otk_sinkhorn_params sp;
    otk_sinkhorn_params_default(&sp);
    sp.eps = 1.0; /* replaced by the ε of each evaluation */
    sp.no_annealing = 1;
    /* Plain alternating updates: the ω controller of the accelerated ones
     * (docs/math.md A.9) needs 16 updates before it relaxes and, started
     * close to the solution (warm_start), reads rates near the tolerance
     * that make it lose the warm start's saving (measured: warm 96 vs cold
     * 92 updates in tests/test_monge_gap.c). */
    sp.update = OTK_UPDATE_ALTERNATING;
    /* The cost moves with every evaluation (otk_cost_points_set): the
     * solver runs on it (or on the multiscale copy of each evaluation),
     * never on a copy of its own. */
    sp.backend = OTK_BACKEND_ONLINE;
    sp.tol = par.tol;
    sp.max_iter = par.max_iter;
    sp.threads = par.threads;
    if (mg->backend == OTK_BACKEND_MULTISCALE)
        /* Multiscale truncates from the potentials of a coarser ε: it needs
         * the annealing, whose clusters carry the start to the target ε
         * (docs/math.md A.11).  The fixed point is the same. */
        sp.no_annealing = 0;
    mg->sp = sp;
    if (mg->backend != OTK_BACKEND_MULTISCALE && (st = otk_sinkhorn_alloc(&mg->sk, mg->cost, &sp)))
        goto fail;
    mg->n = n;
    mg->d = d;
    mg->par = par;
    mg->threads = otk__threads(par.threads);
    free(zeros);
    *out = mg;
    return OTK_SUCCESS;
fail:
    free(zeros);
    free(block);
    otk_monge_gap_free(mg);
    return st;
}

void otk_monge_gap_free(otk_monge_gap *mg)
{
    if (!mg)
        return;
    otk_sinkhorn_free(mg->sk);
    otk_cost_free(mg->ms);
    otk_cost_free(mg->cost);
    free(mg->tmp); /* the start of the workspace block */
    free(mg);
}

static double weight_entropy(const double *w, size_t n)
{
    if (!w)
        return log((double)n);
    double h = 0.0;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0.0)
            h -= w[i] * log(w[i]);
    return h;
}

otk_status otk_monge_gap_eval(otk_monge_gap *mg, const double *x, const double *tx,
                              const double *w, otk_monge_gap_result *res, double *grad_tx,
                              double *grad_x)
{
    otk_status st;
    if (!mg)
        return otk__fail(OTK_ENULL, "otk_monge_gap_eval: workspace is NULL");
    if (!x || !tx || !res)
        return otk__fail(OTK_ENULL, "otk_monge_gap: %s is NULL", !x ? "x" : !tx ? "tx" : "res");
    const size_t n = mg->n, d = mg->d;
    if ((st = otk__check_finite("x", x, n * d)) || (st = otk__check_finite("tx", tx, n * d)))
        return st;
    if (w) {
        double mass;
        if ((st = otk__check_weights("w", w, n, &mass)))
            return st;
        if (fabs(mass - 1.0) > 1e-9)
            return otk__fail(OTK_EMASS, "w sums to %.17g; the Monge gap needs weights summing "
                             "to 1", mass);
    }

    if ((st = otk_cost_points_set(mg->cost, x, tx)))
        return st;

    double eps = mg->par.eps;
    if (eps == 0.0) {
        /* The statistic of the entries the solver uses (a kept matrix). */
        double stat;
        if ((st = otk_cost_statistic(mg->cost, mg->par.relative_to, &stat, mg->threads)))
            return st;
        eps = mg->par.relative_eps * stat;
        if (!(eps > 0.0 && isfinite(eps)))
            return otk__fail(OTK_EPARAM,
                             "relative eps = %g x %s(C) = %g is not > 0 (all n^2 costs equal?); "
                             "give an absolute params.eps",
                             mg->par.relative_eps,
                             otk_relative_to_name(mg->par.relative_to), eps);
    }
    if (mg->backend == OTK_BACKEND_MULTISCALE) {
        /* The clusters are those of these points: a new copy and a solver
         * on it (an allocation per evaluation, O(n)). */
        otk_sinkhorn_free(mg->sk);
        otk_cost_free(mg->ms);
        mg->sk = NULL;
        mg->ms = NULL;
        mg->sp.eps = eps;
        if ((st = otk__cost_multiscale(&mg->ms, mg->cost, mg->par.truncate)) ||
            (st = otk_sinkhorn_alloc(&mg->sk, mg->ms, &mg->sp)))
            return st;
    } else if ((st = otk_sinkhorn_set_eps(mg->sk, eps))) {
        return st;
    }

    otk_sinkhorn_result sr;
    otk_status solved = otk_sinkhorn_set(mg->sk, w, w);
    if (solved == OTK_SUCCESS && mg->par.warm_start && mg->warm_eps == eps)
        solved = otk_sinkhorn_set_potentials(mg->sk, mg->warm_f, mg->warm_g);
    if (solved == OTK_SUCCESS)
        while ((solved = otk_sinkhorn_iterate(mg->sk)) == OTK_CONTINUE)
            ;
    if (solved < 0)
        return solved;
    if ((st = otk_sinkhorn_get_result(mg->sk, &sr)))
        return st;
    if (mg->par.warm_start) {
        memcpy(mg->warm_f, otk_sinkhorn_potential_f(mg->sk), n * sizeof(double));
        memcpy(mg->warm_g, otk_sinkhorn_potential_g(mg->sk), n * sizeof(double));
        mg->warm_eps = eps;
    }

    /* Σ_i w_i c(x_i, tx_i) from the cost itself, so that the diagonal
     * coupling's value uses the same arithmetic as the solver. */
    const otk_cost *c = mg->cost;
    /* The plan lives on the kept blocks of the multiscale copy. */
    const otk_cost *plan = mg->ms ? mg->ms : mg->cost;
    double disp = 0.0;
    for (size_t i = 0; i < n; i++)
        disp += (w ? w[i] : 1.0 / (double)n) * otk_cost_entry(c, i, i);

    if (grad_tx || grad_x) {
        const double *f = otk_sinkhorn_potential_f(mg->sk);
        const double *g = otk_sinkhorn_potential_g(mg->sk);
        const double lu = -log((double)n);
        for (size_t i = 0; i < n; i++) {
            const double lw = w ? (w[i] > 0.0 ? log(w[i]) : -INFINITY) : lu;
            mg->u[i] = lw + f[i] / sr.eps;
            mg->v[i] = lw + g[i] / sr.eps;
        }
        /* The entropies of the fixed weights and ε (stop-gradient) do not
         * move, so the envelope theorem leaves ∂/∂point of w·c(x, tx) − <P, C>. */
        if (grad_tx) {
            if ((st = otk_cost_plan_reduce(plan, 1, sr.eps, mg->u, mg->v, OTK_REDUCE_GRAD, d, NULL,
                                           mg->tmp, mg->threads)))
                return st;
            for (size_t j = 0; j < n; j++) {
                double *gr = grad_tx + j * d;
                for (size_t k = 0; k < d; k++)
                    gr[k] = -mg->tmp[j * d + k];
                otk__ground_grad(mg->par.ground, mg->par.power, d, tx + j * d, x + j * d,
                                 w ? w[j] : 1.0 / (double)n, gr);
            }
        }
        if (grad_x) {
            if ((st = otk_cost_plan_reduce(plan, 0, sr.eps, mg->u, mg->v, OTK_REDUCE_GRAD, d, NULL,
                                           mg->tmp, mg->threads)))
                return st;
            for (size_t i = 0; i < n; i++) {
                double *gr = grad_x + i * d;
                for (size_t k = 0; k < d; k++)
                    gr[k] = -mg->tmp[i * d + k];
                otk__ground_grad(mg->par.ground, mg->par.power, d, x + i * d, tx + i * d,
                                 w ? w[i] : 1.0 / (double)n, gr);
            }
        }
    }

    res->displacement = disp;
    res->ot_ent = sr.ot_ent;
    res->monge_gap = disp - sr.ot_ent;
    res->eps = sr.eps;
    res->lower_bound = sr.eps * weight_entropy(w, n);
    res->iterations = sr.iterations;
    res->marginal_error = sr.marginal_error;
    res->backend = mg->backend;
    res->truncation_bound = sr.truncation_bound;
    return solved;
}

otk_status otk_monge_gap_compute(size_t n, size_t d, const double *x, const double *tx,
                                 const double *w, const otk_monge_gap_params *params,
                                 otk_monge_gap_result *res, double *grad_tx, double *grad_x)
{
    if (!x || !tx || !res)
        return otk__fail(OTK_ENULL, "otk_monge_gap: %s is NULL", !x ? "x" : !tx ? "tx" : "res");
    otk_monge_gap *mg;
    otk_status st = otk_monge_gap_alloc(&mg, n, d, params);
    if (st)
        return st;
    st = otk_monge_gap_eval(mg, x, tx, w, res, grad_tx, grad_x);
    otk_monge_gap_free(mg);
    return st;
}
