/* Batches of independent problems (otkit/batch.h): the input of all B
 * problems is checked first, then each problem is one single solve by the
 * one driver (otk_sinkhorn, otk_divergence), the problems shared among the
 * threads.  Zero-weight padding is exact because every reduction of the
 * driver skips (or multiplies by) the zero weights, and the ε-schedule's
 * diameter is taken over the points with positive weight. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/batch.h"
#include "internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* What the two kinds of batch share: the problem layout and the outputs. */
typedef struct {
    const char *fn;
    size_t B, n, m, d;
    const void *x, *y; /* double, or float when `single` */
    int single;
    const double *a, *b;
    otk_ground ground;
    double power;
    int balanced; /* the masses must be equal */
} batch;

/* Problem k's clouds and weights. */
static const void *cloud(const batch *bt, const void *base, size_t k, size_t len)
{
    const size_t off = k * len * bt->d;
    return bt->single ? (const void *)((const float *)base + off)
                      : (const void *)((const double *)base + off);
}

static const double *weights(const double *w, size_t k, size_t len)
{
    return w ? w + k * len : NULL;
}

static otk_status check_cloud_f32(const char *what, const float *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isfinite(v[i]))
            return otk__fail(OTK_ENONFINITE, "%s[%zu] = %g is not finite", what, i, (double)v[i]);
    return OTK_SUCCESS;
}

/* Every check that does not depend on the parameters, problem by problem,
 * before anything is solved: a bad problem refuses the whole call. */
static otk_status check_batch(const batch *bt, const void *res)
{
    const char *fn = bt->fn;
    if (!bt->x || !bt->y || !res)
        return otk__fail(OTK_ENULL, "%s: %s is NULL", fn, !bt->x ? "x" : !bt->y ? "y" : "res");
    if (bt->B == 0 || bt->n == 0 || bt->m == 0 || bt->d == 0)
        return otk__fail(OTK_ESIZE, "%s: B = %zu, n = %zu, m = %zu, d = %zu must be > 0", fn,
                         bt->B, bt->n, bt->m, bt->d);
    const size_t elem = bt->single ? sizeof(float) : sizeof(double);
    if (otk__array_overflows(bt->B, bt->n, sizeof(double)) ||
        otk__array_overflows(bt->B * bt->n, bt->d, elem))
        return otk__fail(OTK_ESIZE, "%s: x of B·n·d = %zu·%zu·%zu entries overflows", fn, bt->B,
                         bt->n, bt->d);
    if (otk__array_overflows(bt->B, bt->m, sizeof(double)) ||
        otk__array_overflows(bt->B * bt->m, bt->d, elem))
        return otk__fail(OTK_ESIZE, "%s: y of B·m·d = %zu·%zu·%zu entries overflows", fn, bt->B,
                         bt->m, bt->d);
    for (size_t k = 0; k < bt->B; k++) {
        char what[48];
        otk_status st;
        double ma = 1.0, mb = 1.0;
        const struct {
            const char *name;
            const void *v;
            size_t len;
        } clouds[2] = {{"x", bt->x, bt->n}, {"y", bt->y, bt->m}};
        for (int s = 0; s < 2; s++) {
            snprintf(what, sizeof what, "%s[%zu]", clouds[s].name, k);
            const void *v = cloud(bt, clouds[s].v, k, clouds[s].len);
            const size_t len = clouds[s].len * bt->d;
            st = bt->single ? check_cloud_f32(what, v, len) : otk__check_finite(what, v, len);
            if (st)
                return st;
        }
        snprintf(what, sizeof what, "a[%zu]", k);
        if (bt->a && (st = otk__check_weights(what, weights(bt->a, k, bt->n), bt->n, &ma)))
            return st;
        snprintf(what, sizeof what, "b[%zu]", k);
        if (bt->b && (st = otk__check_weights(what, weights(bt->b, k, bt->m), bt->m, &mb)))
            return st;
        if (bt->balanced && fabs(ma - mb) > 1e-9 * fmax(ma, mb))
            return otk__fail(OTK_EMASS,
                             "%s: problem %zu is balanced with unequal masses: sum(a[%zu]) = "
                             "%.17g, sum(b[%zu]) = %.17g (normalise the weights or set "
                             "rho/reach)",
                             fn, k, k, ma, k, mb);
    }
    return OTK_SUCCESS;
}

/* The diameter override of problem k: the caller's, or the bounding box of
 * its points with positive weight. */
static double problem_diameter(const batch *bt, size_t k, double given)
{
    if (given > 0.0)
        return given;
    /* 0 would mean "the cost's own" (all points); any diameter below blur
     * starts the schedule at blur, as a zero diameter does. */
    const double diam = otk__points_diameter(bt->ground, bt->n, bt->m, bt->d,
                                             cloud(bt, bt->x, k, bt->n),
                                             cloud(bt, bt->y, k, bt->m), bt->single,
                                             weights(bt->a, k, bt->n), weights(bt->b, k, bt->m));
    return fmax(DBL_MIN, diam);
}

/* A relative ε and scale_cost by a statistic are statistics of all n·m
 * entries of the cost (docs/math.md A.10), the padded ones included: a
 * problem with zero weights gets them from the cost of its points with
 * positive weight, the numbers its unpadded single solve computes, passed
 * on as a plain eps and scale_cost.  Without zero weights nothing changes
 * (the single solve's own computation).  The fields are those of
 * otk_sinkhorn_params and otk_divergence_params. */
typedef struct {
    double *eps, *relative_eps, *scale_cost;
    int *scale_cost_stat;
    otk_relative_to relative_to;
} scale_fields;

static size_t positive_count(const double *w, size_t len)
{
    size_t c = 0;
    for (size_t i = 0; i < len; i++)
        c += !w || w[i] > 0.0;
    return c;
}

/* The rows of cloud k with positive weight, into `out` (same element type). */
static void compact_cloud(const batch *bt, const void *base, const double *w, size_t k,
                          size_t len, void *out)
{
    const size_t elem = bt->single ? sizeof(float) : sizeof(double), row = bt->d * elem;
    const char *src = cloud(bt, base, k, len);
    char *dst = out;
    for (size_t i = 0; i < len; i++)
        if (!w || w[i] > 0.0) {
            memcpy(dst, src + i * row, row);
            dst += row;
        }
}

static otk_status problem_scale(const batch *bt, size_t k, const scale_fields *sf)
{
    if (!(*sf->relative_eps > 0.0) && *sf->scale_cost_stat == -1)
        return OTK_SUCCESS;
    const double *a = weights(bt->a, k, bt->n), *b = weights(bt->b, k, bt->m);
    const size_t na = positive_count(a, bt->n), nb = positive_count(b, bt->m);
    if (na == bt->n && nb == bt->m)
        return OTK_SUCCESS;
    const size_t elem = bt->single ? sizeof(float) : sizeof(double);
    void *xs = malloc(na * bt->d * elem), *ys = malloc(nb * bt->d * elem);
    otk_cost *cost = NULL;
    otk_status st = OTK_SUCCESS;
    if (!xs || !ys)
        st = otk__fail(OTK_ENOMEM, "out of memory for the %zu + %zu points with positive "
                                   "weight", na, nb);
    if (st >= 0) {
        compact_cloud(bt, bt->x, a, k, bt->n, xs);
        compact_cloud(bt, bt->y, b, k, bt->m, ys);
        st = bt->single ? otk_cost_points_f32(&cost, na, nb, bt->d, xs, ys, bt->ground,
                                              bt->power)
                        : otk_cost_points(&cost, na, nb, bt->d, xs, ys, bt->ground, bt->power);
    }
    double scale = *sf->scale_cost > 0.0 ? *sf->scale_cost : 1.0;
    if (st >= 0 && *sf->scale_cost_stat != -1) {
        const otk_relative_to stat = (otk_relative_to)*sf->scale_cost_stat;
        st = otk_cost_statistic(cost, stat, &scale, 1);
        if (st >= 0 && !(scale > 0.0 && isfinite(scale)))
            st = otk__fail(OTK_EPARAM, "scale_cost = %s(C) = %g is not > 0; give a number",
                           otk_relative_to_name(stat), scale);
        if (st >= 0) {
            *sf->scale_cost = scale;
            *sf->scale_cost_stat = -1;
        }
    }
    if (st >= 0 && *sf->relative_eps > 0.0) {
        double stat;
        st = otk_cost_statistic(cost, sf->relative_to, &stat, 1);
        const double eps = *sf->relative_eps * stat;
        if (st >= 0 && !(eps > 0.0 && isfinite(eps)))
            st = otk__fail(OTK_EPARAM,
                           "eps = params.relative_eps x %s(C) = %g x %g is not > 0; give "
                           "params.eps",
                           otk_relative_to_name(sf->relative_to), *sf->relative_eps, stat);
        if (st >= 0) {
            /* The driver multiplies a plain eps by s (eps in units of C/s). */
            *sf->eps = eps / scale;
            *sf->relative_eps = 0.0;
        }
    }
    otk_cost_free(cost);
    free(xs);
    free(ys);
    return st;
}

/* Threads across the problems, and inside each problem's calls. */
static void split_threads(size_t B, int threads, int *outer, int *inner)
{
    const int total = otk__threads(threads);
    *outer = (size_t)total < B ? total : (int)B;
    *inner = *outer > 1 ? 1 : total;
}

/* The first failure (lowest problem index) and its message, recorded by
 * whichever thread met it and reported by the calling thread. */
typedef struct {
    size_t index;
    otk_status status;
    char message[512];
} failure;

static void record_failure(failure *fl, size_t k, otk_status st)
{
#pragma omp critical(otk_batch_failure)
    if (fl->status >= 0 || k < fl->index) {
        fl->index = k;
        fl->status = st;
        snprintf(fl->message, sizeof fl->message, "%s", otk_last_error());
    }
}

static otk_status batch_status(const batch *bt, const failure *fl, int stop, int not_converged)
{
    if (fl->status < 0)
        return otk__fail(fl->status, "%s: problem %zu: %s", bt->fn, fl->index, fl->message);
    return stop ? OTK_CONTINUE : not_converged ? OTK_NOT_CONVERGED : OTK_SUCCESS;
}

/* The caller's progress callback, shared by the problems: every report goes
 * through `lock`, so the callback is never entered twice at once, and the
 * first nonzero return stops every problem (each at its next update, the
 * ones not started are not started) and silences the callback. */
typedef struct {
    otk_progress_fn fn;
    void *ctx;
    size_t done; /* problems finished */
    int stop;
#ifdef _OPENMP
    omp_lock_t lock;
#endif
} observer;

static void observer_init(observer *ob, otk_progress_fn fn, void *ctx)
{
    ob->fn = fn;
    ob->ctx = ctx;
    ob->done = 0;
    ob->stop = 0;
#ifdef _OPENMP
    omp_init_lock(&ob->lock);
#endif
}

static void observer_destroy(observer *ob)
{
#ifdef _OPENMP
    omp_destroy_lock(&ob->lock);
#else
    (void)ob;
#endif
}

/* Report `info` (a finished problem when info->status is not OTK_CONTINUE);
 * returns whether the batch stops. */
static int observe(observer *ob, otk_progress *info)
{
#ifdef _OPENMP
    omp_set_lock(&ob->lock);
#endif
    if (info->status != OTK_CONTINUE)
        ob->done++;
    if (!ob->stop && ob->fn) {
        info->done = ob->done;
        ob->stop = ob->fn(info, ob->ctx) != 0;
    }
    const int stop = ob->stop;
#ifdef _OPENMP
    omp_unset_lock(&ob->lock);
#endif
    return stop;
}

static int stopped(observer *ob)
{
    int stop;
#ifdef _OPENMP
    omp_set_lock(&ob->lock);
#endif
    stop = ob->stop;
#ifdef _OPENMP
    omp_unset_lock(&ob->lock);
#endif
    return stop;
}

/* One problem's progress callback (its params.progress): the batch's
 * callback with the problem's index. */
typedef struct {
    observer *ob;
    size_t problem;
} problem_observer;

static int problem_progress(const otk_progress *info, void *ctx)
{
    const problem_observer *po = ctx;
    otk_progress copy = *info;
    copy.problem = po->problem;
    return observe(po->ob, &copy);
}

/* The report of a finished problem, from its result. */
static void observe_end(observer *ob, size_t k, int iterations, double eps, double error,
                        otk_status status)
{
    otk_progress info = {0};
    info.iterations = iterations;
    info.eps = eps;
    info.marginal_error = error;
    info.stage = OTK_STAGE_TARGET;
    info.problem = k;
    info.status = status;
    observe(ob, &info);
}

/* ---------------------------------------------------------------- the loop */

/* Problem k as the loop hands it to its kind: the parameters' threads,
 * diameter and progress to use in place of the batch's, and whether it is
 * started at all (not when the batch was stopped before it). */
typedef struct {
    size_t k;
    int started;
    int threads;
    double diameter;
    otk_progress_fn progress; /* NULL when the batch has no callback */
    void *progress_ctx;
} problem;

/* What the loop reads of a problem's result (res[k]): fields both kinds'
 * results have. */
typedef struct {
    otk_status status;
    int iterations;
    double eps, marginal_error;
} problem_end;

/* The fields of a problem's parameters that differ from the batch's;
 * PROBLEM_FIELDS(pk) points at them in an otk_sinkhorn_params or an
 * otk_divergence_params (the same names in both). */
typedef struct {
    int *threads;
    double *diameter;
    otk_progress_fn *progress;
    void **progress_ctx;
    scale_fields scale;
} problem_fields;

#define PROBLEM_FIELDS(pk)                                                                     \
    {&(pk).threads, &(pk).diameter, &(pk).progress, &(pk).progress_ctx,                       \
     {&(pk).eps, &(pk).relative_eps, &(pk).scale_cost, &(pk).scale_cost_stat, (pk).relative_to}}

/* Problem p's parameters, in a copy of the batch's: OTK_CONTINUE when it
 * is not started, else OTK_SUCCESS or problem_scale's failure. */
static otk_status problem_start(const batch *bt, const problem *p, const problem_fields *pf)
{
    *pf->threads = p->threads;
    *pf->diameter = p->diameter;
    *pf->progress = p->progress;
    *pf->progress_ctx = p->progress_ctx;
    if (!p->started)
        return OTK_CONTINUE;
    const otk_status st = problem_scale(bt, p->k, &pf->scale);
    return st < 0 ? st : OTK_SUCCESS;
}

/* One kind of batch: its parameters' threads, diameter and progress, and
 * `job` (its parameters and outputs) for its two functions.  `probe`
 * allocates a solver of problem 0 with the parameters and frees it, so that
 * a bad field (or ground cost) refuses the call before any solve.  `solve`
 * runs problem p->k with the batch's parameters but p's fields, its relative
 * ε and scale_cost resolved (problem_start), and stores its result in
 * res[k] (a failed one with the failure's status, an unstarted one with
 * OTK_CONTINUE) and in *end; it returns the status of the step that failed
 * (< 0), else >= 0.  `solve` runs on several threads at once, for distinct
 * problems: it writes only res[k] and problem k's outputs. */
typedef struct {
    const void *job;
    const void *res;
    int threads;
    double diameter;
    otk_progress_fn progress;
    void *progress_ctx;
    otk_status (*probe)(const batch *bt, const void *job);
    otk_status (*solve)(const batch *bt, const void *job, const problem *p, problem_end *end);
} batch_kind;

/* The input checked, the parameters probed, then the problems shared among
 * the threads; returns as otkit/batch.h's "Failures" says. */
static otk_status run_batch(const batch *bt, const batch_kind *kind)
{
    otk_status st = check_batch(bt, kind->res);
    if (st)
        return st;
    st = kind->probe(bt, kind->job);
    if (st < 0)
        return st;
    int outer, inner;
    split_threads(bt->B, kind->threads, &outer, &inner);
    failure fl = {0, OTK_SUCCESS, ""};
    observer ob;
    observer_init(&ob, kind->progress, kind->progress_ctx);
    int not_converged = 0;
    const long long B = (long long)bt->B;
#pragma omp parallel for schedule(dynamic, 1) num_threads(outer) if (outer > 1) reduction(|| : not_converged)
    for (long long kk = 0; kk < B; kk++) {
        const size_t k = (size_t)kk;
        problem_observer po = {&ob, k};
        problem p = {k, 1, inner, problem_diameter(bt, k, kind->diameter),
                     kind->progress ? problem_progress : NULL, &po};
        problem_end end;
        if (kind->progress && stopped(&ob)) {
            p.started = 0;
            kind->solve(bt, kind->job, &p, &end);
        } else {
            const otk_status sk = kind->solve(bt, kind->job, &p, &end);
            if (sk < 0)
                record_failure(&fl, k, sk);
            if (kind->progress && end.status != OTK_CONTINUE)
                observe_end(&ob, k, end.iterations, end.eps, end.marginal_error, end.status);
        }
        not_converged = not_converged || end.status == OTK_NOT_CONVERGED;
    }
    observer_destroy(&ob);
    return batch_status(bt, &fl, ob.stop, not_converged);
}

/* ---------------------------------------------------------------- Sinkhorn */

typedef struct {
    const otk_sinkhorn_params *par;
    otk_sinkhorn_result *res;
    double *f, *g;
} sinkhorn_job;

static void sinkhorn_failed(otk_sinkhorn_result *r, otk_status st)
{
    memset(r, 0, sizeof *r);
    r->ot_kl = r->ot_ent = r->ot_lin = r->eps = NAN;
    r->rho_a = r->rho_b = r->mass_a = r->mass_b = r->marginal_error = NAN;
    r->status = st;
}

/* The cost of problem k's clouds. */
static otk_status problem_cost(const batch *bt, size_t k, otk_cost **cost)
{
    const void *x = cloud(bt, bt->x, k, bt->n), *y = cloud(bt, bt->y, k, bt->m);
    return bt->single ? otk_cost_points_f32(cost, bt->n, bt->m, bt->d, x, y, bt->ground,
                                            bt->power)
                      : otk_cost_points(cost, bt->n, bt->m, bt->d, x, y, bt->ground, bt->power);
}

static otk_status sinkhorn_one(const batch *bt, size_t k, const otk_sinkhorn_params *par,
                               otk_sinkhorn_result *res, double *f, double *g)
{
    otk_cost *cost = NULL;
    otk_sinkhorn *s = NULL;
    otk_status st = problem_cost(bt, k, &cost);
    if (st >= 0)
        st = otk_sinkhorn_alloc(&s, cost, par);
    if (st >= 0)
        st = otk_sinkhorn_solve(s, weights(bt->a, k, bt->n), weights(bt->b, k, bt->m), res);
    if (st >= 0) {
        if (f)
            memcpy(f + k * bt->n, otk_sinkhorn_potential_f(s), bt->n * sizeof *f);
        if (g)
            memcpy(g + k * bt->m, otk_sinkhorn_potential_g(s), bt->m * sizeof *g);
    }
    otk_sinkhorn_free(s);
    otk_cost_free(cost);
    return st;
}

static otk_status sinkhorn_probe(const batch *bt, const void *job)
{
    const sinkhorn_job *jb = job;
    otk_cost *cost = NULL;
    otk_sinkhorn *s = NULL;
    otk_status st = problem_cost(bt, 0, &cost);
    if (st >= 0)
        st = otk_sinkhorn_alloc(&s, cost, jb->par);
    otk_sinkhorn_free(s);
    otk_cost_free(cost);
    return st;
}

static otk_status sinkhorn_k(const batch *bt, const void *job, const problem *p,
                             problem_end *end)
{
    const sinkhorn_job *jb = job;
    otk_sinkhorn_params pk = *jb->par;
    const problem_fields pf = PROBLEM_FIELDS(pk);
    otk_sinkhorn_result r;
    otk_status sk = problem_start(bt, p, &pf);
    if (sk == OTK_SUCCESS)
        sk = sinkhorn_one(bt, p->k, &pk, &r, jb->f, jb->g);
    if (sk < 0 || !p->started)
        sinkhorn_failed(&r, sk);
    *end = (problem_end){r.status, r.iterations, r.eps, r.marginal_error};
    jb->res[p->k] = r;
    return sk;
}

static otk_status sinkhorn_batch(batch *bt, const otk_sinkhorn_params *params,
                                 otk_sinkhorn_result *res, double *f, double *g)
{
    otk_sinkhorn_params par;
    if (params)
        par = *params;
    else
        otk_sinkhorn_params_default(&par);
    bt->balanced = isinf(par.rho_a) && isinf(par.rho_b) && !(par.reach > 0.0);
    const sinkhorn_job job = {&par, res, f, g};
    const batch_kind kind = {&job,         res,          par.threads,    par.diameter,
                             par.progress, par.progress_ctx, sinkhorn_probe, sinkhorn_k};
    return run_batch(bt, &kind);
}

otk_status otk_sinkhorn_batch(size_t B, size_t n, size_t m, size_t d, const double *x,
                              const double *y, const double *a, const double *b,
                              otk_ground ground, double power, const otk_sinkhorn_params *params,
                              otk_sinkhorn_result *res, double *f, double *g)
{
    batch bt = {"otk_sinkhorn_batch", B, n, m, d, x, y, 0, a, b, ground, power, 1};
    return sinkhorn_batch(&bt, params, res, f, g);
}

otk_status otk_sinkhorn_batch_f32(size_t B, size_t n, size_t m, size_t d, const float *x,
                                  const float *y, const double *a, const double *b,
                                  otk_ground ground, double power,
                                  const otk_sinkhorn_params *params, otk_sinkhorn_result *res,
                                  double *f, double *g)
{
    batch bt = {"otk_sinkhorn_batch_f32", B, n, m, d, x, y, 1, a, b, ground, power, 1};
    return sinkhorn_batch(&bt, params, res, f, g);
}

/* -------------------------------------------------------------- divergence */

typedef struct {
    double *x, *y, *a, *b;
} gradients;

typedef struct {
    const otk_divergence_params *par;
    otk_divergence_result *res;
    const gradients *gr;
} divergence_job;

static void divergence_failed(otk_divergence_result *r, otk_status st)
{
    memset(r, 0, sizeof *r);
    r->divergence = r->eps = r->rho = r->mass_a = r->mass_b = r->marginal_error = NAN;
    r->status = st;
}

static otk_status divergence_alloc(const batch *bt, size_t k, const otk_divergence_params *par,
                                   otk_divergence **div)
{
    const void *x = cloud(bt, bt->x, k, bt->n), *y = cloud(bt, bt->y, k, bt->m);
    return bt->single ? otk_divergence_alloc_points_f32(div, bt->n, bt->m, bt->d, x, y,
                                                        bt->ground, bt->power, par)
                      : otk_divergence_alloc_points(div, bt->n, bt->m, bt->d, x, y, bt->ground,
                                                    bt->power, par);
}

/* The balanced weight gradient of the converge schedule is defined up to a
 * constant; a single solve centres it on all the atoms (otkit/divergence.h).
 * A problem with atoms of zero weight is centred on the others instead, so
 * that its padding changes no entry: the gradient of its unpadded problem
 * (docs/math.md B.5).  Without zero weights the single solve's gradient is
 * kept as it is; the fixed schedule's (GeomLoss's partial derivatives) is
 * not centred at all. */
static void centre_on_support(double *grad, const double *w, size_t len)
{
    size_t support = 0;
    double mean = 0.0;
    for (size_t i = 0; w && i < len; i++)
        if (w[i] > 0.0) {
            mean += grad[i];
            support++;
        }
    if (!w || support == len)
        return;
    mean /= (double)support;
    for (size_t i = 0; i < len; i++)
        grad[i] -= mean;
}

static otk_status divergence_one(const batch *bt, size_t k, const otk_divergence_params *par,
                                 otk_divergence_result *res, const gradients *gr)
{
    otk_divergence *div = NULL;
    const size_t n = bt->n, m = bt->m, d = bt->d;
    otk_status st = divergence_alloc(bt, k, par, &div);
    if (st >= 0)
        st = otk_divergence_solve(div, weights(bt->a, k, n), weights(bt->b, k, m), res);
    otk_status sg = OTK_SUCCESS;
    if (st >= 0 && gr->x)
        sg = otk_divergence_grad_x(div, gr->x + k * n * d);
    if (st >= 0 && sg >= 0 && gr->y)
        sg = otk_divergence_grad_y(div, gr->y + k * m * d);
    if (st >= 0 && sg >= 0 && gr->a)
        sg = otk_divergence_grad_a(div, gr->a + k * n);
    if (st >= 0 && sg >= 0 && gr->b)
        sg = otk_divergence_grad_b(div, gr->b + k * m);
    otk_divergence_free(div);
    if (st >= 0 && sg >= 0 && bt->balanced && par->schedule != OTK_SCHEDULE_FIXED) {
        if (gr->a)
            centre_on_support(gr->a + k * n, weights(bt->a, k, n), n);
        if (gr->b)
            centre_on_support(gr->b + k * m, weights(bt->b, k, m), m);
    }
    return sg < 0 ? sg : st;
}

static otk_status divergence_probe(const batch *bt, const void *job)
{
    const divergence_job *jb = job;
    otk_divergence *div = NULL;
    const otk_status st = divergence_alloc(bt, 0, jb->par, &div);
    otk_divergence_free(div);
    return st;
}

static otk_status divergence_k(const batch *bt, const void *job, const problem *p,
                               problem_end *end)
{
    const divergence_job *jb = job;
    otk_divergence_params pk = *jb->par;
    const problem_fields pf = PROBLEM_FIELDS(pk);
    otk_divergence_result r;
    otk_status sk = problem_start(bt, p, &pf);
    if (sk == OTK_SUCCESS)
        sk = divergence_one(bt, p->k, &pk, &r, jb->gr);
    if (sk < 0 || !p->started)
        divergence_failed(&r, sk);
    *end = (problem_end){r.status, r.iterations, r.eps, r.marginal_error};
    jb->res[p->k] = r;
    return sk;
}

static otk_status divergence_batch(batch *bt, const otk_divergence_params *params,
                                   otk_divergence_result *res, const gradients *gr)
{
    otk_divergence_params par;
    if (params)
        par = *params;
    else
        otk_divergence_params_default(&par);
    bt->balanced = isinf(par.rho) && !(par.reach > 0.0);
    const divergence_job job = {&par, res, gr};
    const batch_kind kind = {&job,         res,          par.threads,      par.diameter,
                             par.progress, par.progress_ctx, divergence_probe, divergence_k};
    return run_batch(bt, &kind);
}

otk_status otk_divergence_batch(size_t B, size_t n, size_t m, size_t d, const double *x,
                                const double *y, const double *a, const double *b,
                                otk_ground ground, double power,
                                const otk_divergence_params *params, otk_divergence_result *res,
                                double *grad_x, double *grad_y, double *grad_a, double *grad_b)
{
    batch bt = {"otk_divergence_batch", B, n, m, d, x, y, 0, a, b, ground, power, 1};
    const gradients gr = {grad_x, grad_y, grad_a, grad_b};
    return divergence_batch(&bt, params, res, &gr);
}

otk_status otk_divergence_batch_f32(size_t B, size_t n, size_t m, size_t d, const float *x,
                                    const float *y, const double *a, const double *b,
                                    otk_ground ground, double power,
                                    const otk_divergence_params *params,
                                    otk_divergence_result *res, double *grad_x, double *grad_y,
                                    double *grad_a, double *grad_b)
{
    batch bt = {"otk_divergence_batch_f32", B, n, m, d, x, y, 1, a, b, ground, power, 1};
    const gradients gr = {grad_x, grad_y, grad_a, grad_b};
    return divergence_batch(&bt, params, res, &gr);
}
