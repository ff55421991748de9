/* Log-domain Sinkhorn with ε-scaling, balanced and unbalanced (docs/math.md A):
 * the one driver of every Sinkhorn-type solver.  It advances k coupled
 * problems on one ε-list — one (x↔y) for otk_sinkhorn, three (x↔y, x↔x,
 * y↔y) for the debiased divergence — with one initialisation, one annealing,
 * one final extrapolation (fixed schedule), one convergence test and one
 * best-iterate policy. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "otkit/sinkhorn.h"
#include "internal.h"
#include "sinkhorn_internal.h"

/* ε-lists are about log(D/blur)/log(1/scaling) + 2 long; reserving 128
 * entries at alloc lets otk_sinkhorn_set_eps re-aim without allocating in
 * any common use. */
#define EPS_LIST_RESERVE 128

/* The ω controller (docs/math.md A.9): target updates per window, and the
 * largest ω it chooses before any window failed. */
#define RELAX_WINDOW 8
#define RELAX_OMEGA_MAX 1.98

void otk_sinkhorn_params_default(otk_sinkhorn_params *params)
{
    if (!params)
        return;
    memset(params, 0, sizeof *params);
    OTK__COMMON_PARAMS_DEFAULT(params);
    params->rho_a = INFINITY;
    params->rho_b = INFINITY;
    params->no_annealing = 0;
    params->backend = OTK_BACKEND_AUTO;
    params->truncate = 12.0;
}

otk_status otk__backend_cost(otk_backend requested, double truncate, const otk_cost *cost,
                             otk_backend *resolved, otk_cost **owned)
{
    *owned = NULL;
    if (!otk_backend_name(requested))
        return otk__fail(OTK_EPARAM, "params.backend = %d is not an otk_backend",
                         (int)requested);
    if (!(truncate > 0.0))
        return otk__fail(OTK_EPARAM, "params.truncate = %g must be > 0 (INFINITY keeps every "
                                     "block)",
                         truncate);
    const double *xs, *ys;
    size_t d;
    otk_ground ground;
    double power;
    const int points = otk__points_coordinates(cost, &xs, &ys, &d, &ground, &power);
    const int is_dense = strcmp(cost->ops->kind, "dense") == 0 || otk_cost_cache_bytes(cost);
    switch (requested) {
    case OTK_BACKEND_AUTO:
        /* Only where it pays: every smaller problem runs the cost as given. */
        if (points && d <= 3 && ground != OTK_GROUND_L1 && !otk_cost_cache_bytes(cost) &&
            (double)cost->n * (double)cost->m >= OTK_BACKEND_AUTO_PAIRS) {
            *resolved = OTK_BACKEND_MULTISCALE;
            return otk__cost_multiscale(owned, cost, truncate);
        }
        *resolved = is_dense ? OTK_BACKEND_DENSE : OTK_BACKEND_ONLINE;
        return OTK_SUCCESS;
    case OTK_BACKEND_ONLINE:
        *resolved = OTK_BACKEND_ONLINE;
        return OTK_SUCCESS;
    case OTK_BACKEND_DENSE:
        *resolved = OTK_BACKEND_DENSE;
        if (is_dense)
            return OTK_SUCCESS;
        if (!points)
            return otk__fail(OTK_EUNSUPPORTED, "backend dense: needs a dense cost or a float64 "
                                               "point-cloud cost (the cost is \"%s\")",
                             cost->ops->kind);
        return otk__points_copy_kept(cost, owned);
    case OTK_BACKEND_MULTISCALE:
        *resolved = OTK_BACKEND_MULTISCALE;
        /* The clusters, bounds and kept-block kernels are float64 only. */
        if (otk_cost_single_precision(cost))
            return otk__fail(OTK_EUNSUPPORTED,
                             "backend multiscale is float64 only: the cost is single precision "
                             "(float32 points); use backend online, dense or auto, or float64 "
                             "points");
        return otk__cost_multiscale(owned, cost, truncate);
    }
    return OTK_SUCCESS;
}

/* Carve a problem's arrays out of the workspace at *w. */
static void problem_layout(problem *pr, double **w)
{
    const size_t n = pr->n, m = pr->m;
    pr->f = *w, *w += n;
    pr->f_soft = *w, *w += n;
    pr->h_n = *w, *w += n;
    pr->best_f = *w, *w += n;
    pr->saved_f = *w, *w += n;
    if (pr->self) {
        pr->g = pr->f;
        pr->g_soft = pr->f_soft;
        pr->h_m = pr->h_n;
        pr->best_g = pr->best_f;
        pr->saved_g = pr->saved_f;
        return;
    }
    pr->g = *w, *w += m;
    pr->g_soft = *w, *w += m;
    pr->h_m = *w, *w += m;
    pr->best_g = *w, *w += m;
    pr->saved_g = *w, *w += m;
}

/* The solver for the problems on costs[0..k): costs[0] the n×m pair, the
 * others (coupled solvers) the n×n and m×m self problems. */
static otk_status alloc_problems(otk_sinkhorn **out, const otk_cost *const *costs, int k,
                                 const otk_sinkhorn_params *params, const char *fn)
{
    if (!out)
        return otk__fail(OTK_ENULL, "%s: out is NULL", fn);
    *out = NULL;
    const otk_cost *cost = costs[0];
    if (!cost)
        return otk__fail(OTK_ENULL, "%s: cost is NULL", fn);
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
    otk_backend backend = OTK_BACKEND_ONLINE;
    otk_cost *owned = NULL;
    const otk_cost *own_costs[1];
    /* The coupled solvers of the clients bring the costs their backend
     * chose (solvers/clients/divergence.c). */
    if (k == 1) {
        if ((st = otk__backend_cost(par.backend, par.truncate, cost, &backend, &owned)))
            return st;
        if (owned) {
            own_costs[0] = owned;
            costs = own_costs;
            cost = owned;
        }
    }
    double rho_a = par.rho_a, rho_b = par.rho_b;
    if (par.reach > 0.0)
        rho_a = rho_b = pow(par.reach, rp.p);
    rho_a *= rp.scale;
    rho_b *= rp.scale;
    par.update = rp.update;

    const size_t n = cost->n, m = cost->m;
    /* 6 arrays per side for the weights and read-outs, 5 per side for each
     * problem's potentials and workspace: at most 6 + 5·2 per side. */
    const size_t per_side = 6 + 5 * (size_t)(k > 1 ? 2 : 1);
    const size_t limit = SIZE_MAX / per_side / sizeof(double);
    if (m > limit || n > limit - m) {
        otk_cost_free(owned);
        return otk__fail(OTK_ENOMEM, "%s: workspace for n = %zu, m = %zu overflows size_t", fn, n,
                         m);
    }
    otk_sinkhorn *s = calloc(1, sizeof *s);
    if (!s) {
        otk_cost_free(owned);
        return otk__fail(OTK_ENOMEM, "%s: out of memory", fn);
    }
    s->owned_cost = owned;
    s->backend = backend;
    s->block = malloc(per_side * (n + m) * sizeof(double));
    /* The reserve is allocated with the solver, not grown afterwards: a
     * failure here is the caller's OTK_ENOMEM, and set_eps keeps its promise
     * of not allocating for lists of up to EPS_LIST_RESERVE entries. */
    s->eps_list = malloc(EPS_LIST_RESERVE * sizeof *s->eps_list);
    if (!s->block || !s->eps_list) {
        otk_sinkhorn_free(s);
        return otk__fail(OTK_ENOMEM, "%s: out of memory for n = %zu, m = %zu", fn, n, m);
    }
    s->eps_cap = EPS_LIST_RESERVE;
    if ((st = otk__build_eps_list(&rp, par.scaling, &s->eps_list, &s->n_eps, &s->eps_cap))) {
        otk_sinkhorn_free(s);
        return st;
    }
    double *w = s->block;
    s->a = w, w += n;
    s->log_a = w, w += n;
    s->row = w, w += n;
    s->b = w, w += m;
    s->log_b = w, w += m;
    s->col = w, w += m;
    s->n_prob = k;
    for (int q = 0; q < k; q++) {
        problem *pr = &s->prob[q];
        pr->cost = costs[q];
        pr->self = q > 0;
        pr->side = q == 2;
        pr->update = q > 0 ? OTK_UPDATE_SYMMETRIC : par.update;
        pr->n = q == 0 ? n : q == 1 ? n : m;
        pr->m = q == 0 ? m : pr->n;
        pr->rho_a = q == 2 ? rho_b : rho_a;
        pr->rho_b = q == 1 ? rho_a : rho_b;
        pr->omega = 1.0;
        pr->relax = pr->update == OTK_UPDATE_OVERRELAXED || pr->update == OTK_UPDATE_ACCELERATED;
        /* A balanced problem has no translation to optimise ((f + λ, g − λ)
         * leaves its dual unchanged): the translated update is then the
         * alternating one, bitwise. */
        pr->translate =
            (pr->update == OTK_UPDATE_TRANSLATED || pr->update == OTK_UPDATE_ACCELERATED) &&
            !(isinf(pr->rho_a) && isinf(pr->rho_b));
        problem_layout(pr, &w);
    }
    s->f = s->prob[0].f;
    s->g = s->prob[0].g;
    s->h_n = s->prob[0].h_n;
    s->h_m = s->prob[0].h_m;
    s->cost = cost;
    s->par = par;
    s->n = n;
    s->m = m;
    s->threads = rp.threads;
    const char *team = getenv("OTK_TEAM");
    otk__team_init(&s->team, s->threads, !(team && strcmp(team, "fixed") == 0));
    s->eps = rp.eps;
    s->p = rp.p;
    s->scale = rp.scale;
    s->rho_a = rho_a;
    s->rho_b = rho_b;
    s->stage = STAGE_UNSET;
    *out = s;
    return OTK_SUCCESS;
}

otk_status otk_sinkhorn_alloc(otk_sinkhorn **out, const otk_cost *cost,
                              const otk_sinkhorn_params *params)
{
    const otk_cost *costs[1] = {cost};
    return alloc_problems(out, costs, 1, params, "otk_sinkhorn_alloc");
}

otk_status otk__sinkhorn_alloc_coupled(otk_sinkhorn **out, const otk_cost *c_xy,
                                       const otk_cost *c_xx, const otk_cost *c_yy,
                                       const otk_sinkhorn_params *params)
{
    const otk_cost *costs[3] = {c_xy, c_xx, c_yy};
    return alloc_problems(out, costs, c_xx && c_yy ? 3 : 1, params, "otk_divergence");
}

void otk_sinkhorn_free(otk_sinkhorn *s)
{
    if (!s)
        return;
    free(s->block);
    free(s->eps_list);
    otk_cost_free(s->owned_cost);
    free(s);
}

otk_status otk_sinkhorn_set_eps(otk_sinkhorn *s, double eps)
{
    if (!s)
        return otk__fail(OTK_ENULL, "otk_sinkhorn_set_eps: solver is NULL");
    otk_sinkhorn_params par = s->par;
    /* The statistics were computed by alloc: s is kept, not recomputed. */
    par.eps = eps * s->scale;
    par.relative_eps = 0.0;
    par.scale_cost = 0.0;
    par.scale_cost_stat = -1;
    if (!(eps > 0.0) || !isfinite(eps))
        return otk__fail(OTK_EPARAM, "otk_sinkhorn_set_eps: eps = %g must be finite and > 0",
                         eps);
    const otk__common_params common = OTK__COMMON_PARAMS_OF(&par);
    otk__resolved_params rp;
    otk_status st = otk__resolve_common(&common, s->cost, &rp);
    if (st)
        return st;
    if ((st = otk__build_eps_list(&rp, par.scaling, &s->eps_list, &s->n_eps, &s->eps_cap)))
        return st;
    s->par.eps = eps;
    s->par.relative_eps = 0.0;
    s->eps = rp.eps;
    s->stage = STAGE_UNSET;
    return OTK_SUCCESS;
}

static void copy_log(const double *w, double *logw, size_t n)
{
    for (size_t i = 0; i < n; i++)
        logw[i] = w[i] > 0.0 ? log(w[i]) : -INFINITY;
}

/* Start measuring the convergence rate afresh with ω = 1 (a new solve, or
 * potentials the updates did not produce). */
static void relax_reset(otk_sinkhorn *s)
{
    s->omega = 1.0;
    s->win_err = NAN;
    s->win_q = NAN;
    s->win_start = 0;
}

/* Back to the first ε of the list, potentials zero. */
static void restart(otk_sinkhorn *s)
{
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = &s->prob[q];
        memset(pr->f, 0, pr->n * sizeof *pr->f);
        if (!pr->self)
            memset(pr->g, 0, pr->m * sizeof *pr->g);
        pr->f_fresh = 0;
        pr->rows_ready = 0;
        pr->omega = 1.0;
        pr->level = 0;
        pr->coarse_ran = 0;
        pr->mask_eps = INFINITY;
        if (pr->cost->ops->coarsen)
            pr->cost->ops->coarsen(pr->cost);
    }
    s->stage = STAGE_RUNNING;
    s->started = 0;
    s->step = 0;
    s->iterations = s->annealing_iterations = s->target_iterations = 0;
    s->last_eps = NAN;
    s->error = NAN;
    s->best_error = INFINITY;
    s->final_status = OTK_CONTINUE;
    s->values_valid = 0;
    s->last_stage = s->par.schedule != OTK_SCHEDULE_FIXED && s->par.no_annealing
                        ? OTK_STAGE_TARGET
                        : OTK_STAGE_ANNEALING;
    otk__guard_init(&s->guard, s->par.schedule != OTK_SCHEDULE_FIXED && !s->par.no_annealing);
    s->omega_cap = RELAX_OMEGA_MAX;
    relax_reset(s);
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
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = &s->prob[q];
        const int use_b = pr->self && pr->side == 1;
        pr->a = use_b ? s->b : s->a;
        pr->log_a = use_b ? s->log_b : s->log_a;
        pr->mass_a = use_b ? mb : ma;
        pr->b = pr->self ? pr->a : s->b;
        pr->log_b = pr->self ? pr->log_a : s->log_b;
        pr->mass_b = pr->self ? pr->mass_a : mb;
    }
    restart(s);
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
    s->last_stage = OTK_STAGE_TARGET;
    s->prob[0].f_fresh = 0;
    s->prob[0].rows_ready = 0;
    /* A multiscale cost truncates from the caller's potentials. */
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = &s->prob[q];
        if (!pr->cost->ops->refine)
            continue;
        pr->cost->ops->refine(pr->cost, 0.0, s->eps, pr->f, pr->g, pr->a, pr->b, 1.0, 1.0,
                              s->threads);
        pr->level = 1;
        pr->mask_eps = s->eps;
    }
    s->error = NAN;
    s->best_error = INFINITY;
    s->final_status = OTK_CONTINUE;
    s->values_valid = 0;
    otk__guard_init(&s->guard, 0); /* the caller chose the start */
    relax_reset(s);
    return OTK_SUCCESS;
}

/* ---------------------------------------------------------- the updates */

static double clock_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One soft-min pass with the threads the team rule chooses (team.h): timed
 * when the pass is large enough to run threaded at all. */
static void softmin_pass(otk_sinkhorn *s, problem *pr, int axis, double eps, const double *h,
                         double *out)
{
    if (!s->team.full || !otk__parallel_worth(s->threads, pr->n, pr->m)) {
        pr->cost->ops->softmin(pr->cost, axis, eps, h, out, s->threads);
        return;
    }
    const double t0 = clock_seconds();
    pr->cost->ops->softmin(pr->cost, axis, eps, h, out, s->team.use);
    const double t1 = clock_seconds();
    otk__team_record(&s->team, (t1 - t0) / ((double)pr->n * (double)pr->m), t1);
}

/* f_soft = smin^b(g) = −ε log Σ_j b_j exp((g_j − C_ij)/ε), undamped (a self
 * problem: smin^a(f)). */
static void softmin_rows(otk_sinkhorn *s, problem *pr, double eps)
{
    for (size_t j = 0; j < pr->m; j++)
        pr->h_m[j] = pr->log_b[j] + pr->g[j] / eps;
    softmin_pass(s, pr, 0, eps, pr->h_m, pr->f_soft);
}

/* g_soft = smin^a(f), undamped (pair problems). */
static void softmin_cols(otk_sinkhorn *s, problem *pr, double eps)
{
    for (size_t i = 0; i < pr->n; i++)
        pr->h_n[i] = pr->log_a[i] + pr->f[i] / eps;
    softmin_pass(s, pr, 1, eps, pr->h_n, pr->g_soft);
}

static void scale_into(double *pot, const double *soft, size_t len, double k)
{
    for (size_t i = 0; i < len; i++)
        pot[i] = k * soft[i];
}

static void average_into(double *pot, const double *soft, size_t len, double k)
{
    for (size_t i = 0; i < len; i++)
        pot[i] = 0.5 * (pot[i] + k * soft[i]);
}

/* Replace the potentials by the damped soft-mins of the current ones, both
 * from the previous values, without averaging: GeomLoss's initialisation
 * (from zero potentials at ε₀) and its final extrapolation. */
static void replace(otk_sinkhorn *s, problem *pr, double eps)
{
    const double ka = otk__kappa(eps, pr->rho_a), kb = otk__kappa(eps, pr->rho_b);
    softmin_rows(s, pr, eps);
    if (!pr->self)
        softmin_cols(s, pr, eps);
    scale_into(pr->f, pr->f_soft, pr->n, ka);
    if (!pr->self)
        scale_into(pr->g, pr->g_soft, pr->m, kb);
    pr->f_fresh = 0;
    pr->rows_ready = 0;
}

/* pot ← (1 − ω) pot + ω k soft: the relaxed update (ω = 1: scale_into). */
static void relax_into(double *pot, const double *soft, size_t len, double k, double omega)
{
    if (omega == 1.0) {
        scale_into(pot, soft, len, k);
        return;
    }
    for (size_t i = 0; i < len; i++)
        pot[i] = (1.0 - omega) * pot[i] + omega * (k * soft[i]);
}

/* log Σ_i w_i exp(−x_i / r) over the atoms with w_i > 0, a max-shifted sum
 * (r = ∞: log Σ w = log mass). */
static double log_mass(const double *log_w, const double *x, size_t n, double r, double mass)
{
    if (isinf(r))
        return log(mass);
    double mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (log_w[i] != -INFINITY)
            mx = fmax(mx, log_w[i] - x[i] / r);
    if (!isfinite(mx))
        return mx;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        if (log_w[i] != -INFINITY)
            sum += exp(log_w[i] - x[i] / r - mx);
    return mx + log(sum);
}

/* The translation of the translation-invariant half step (docs/math.md A.9):
 * updating the side u (weights w_u, penalty r_u) from the soft-min `soft`
 * of the other side v (potential v, weights w_v, penalty r_v), the shift λ
 * of v, v ← v − λ, that maximises the dual jointly with the new u =
 * κ_u (soft + λ):
 *   λ = r_v (r_u + ε) / (r_u + r_v + ε) · (log Σ w_u e^{−soft/(r_u+ε)}
 *                                          − log Σ w_v e^{−v/r_v}),
 * with the limits r_v (r_u = ∞) and r_u + ε (r_v = ∞). */
static double translation(const double *log_wu, const double *soft, size_t nu, double r_u,
                          double mass_u, const double *log_wv, const double *v, size_t nv,
                          double r_v, double mass_v, double eps)
{
    const double lu = log_mass(log_wu, soft, nu, isinf(r_u) ? r_u : r_u + eps, mass_u);
    const double lv = log_mass(log_wv, v, nv, r_v, mass_v);
    const double k = isinf(r_u)   ? r_v
                     : isinf(r_v) ? r_u + eps
                                  : r_v * (r_u + eps) / (r_u + r_v + eps);
    const double lambda = k * (lu - lv);
    return isfinite(lambda) ? lambda : 0.0;
}

static void shift(double *v, size_t len, double by)
{
    for (size_t i = 0; i < len; i++)
        v[i] += by;
}

/* One update at `eps` (docs/math.md A.2, A.9): symmetric (averaged, both
 * from the previous pair) or alternating (g, then f from the new g), the
 * latter relaxed by pr->omega and translated when asked.  With
 * `softmins_ready` the soft-mins of the current potentials are already
 * there (measured by the convergence test). */
static void update(otk_sinkhorn *s, problem *pr, double eps, int softmins_ready)
{
    const double ka = otk__kappa(eps, pr->rho_a), kb = otk__kappa(eps, pr->rho_b);
    if (otk__update_alternates(pr->update)) {
        const double w = pr->omega;
        if (!softmins_ready)
            softmin_cols(s, pr, eps);
        if (pr->translate) {
            /* g-half step: g from smin^a(f − μ) = g_soft + μ, f ← f − μ. */
            const double mu = translation(pr->log_b, pr->g_soft, pr->m, pr->rho_b, pr->mass_b,
                                          pr->log_a, pr->f, pr->n, pr->rho_a, pr->mass_a, eps);
            shift(pr->f, pr->n, -mu);
            shift(pr->g_soft, pr->m, mu);
        }
        relax_into(pr->g, pr->g_soft, pr->m, kb, w);
        softmin_rows(s, pr, eps);
        if (pr->translate) {
            /* f-half step: f from smin^b(g − λ) = f_soft + λ, g ← g − λ. */
            const double lambda =
                translation(pr->log_a, pr->f_soft, pr->n, pr->rho_a, pr->mass_a, pr->log_b,
                            pr->g, pr->m, pr->rho_b, pr->mass_b, eps);
            shift(pr->g, pr->m, -lambda);
            shift(pr->f_soft, pr->n, lambda);
        }
        relax_into(pr->f, pr->f_soft, pr->n, ka, w);
        pr->f_fresh = w == 1.0;
        pr->rows_ready = 1;
        return;
    }
    pr->rows_ready = 0;
    if (!softmins_ready) {
        softmin_rows(s, pr, eps);
        if (!pr->self)
            softmin_cols(s, pr, eps);
    }
    average_into(pr->f, pr->f_soft, pr->n, ka);
    if (!pr->self)
        average_into(pr->g, pr->g_soft, pr->m, kb);
}

/* The marginal error of one problem's current potentials, leaving in
 * f_soft/g_soft the soft-mins its next update needs.  `full` measures both
 * sides even where an alternating update made one side exact.  A symmetric
 * problem's plan has equal row and column marginals: twice one side. */
static double measure(otk_sinkhorn *s, problem *pr, double eps, int full)
{
    if (pr->self) {
        softmin_rows(s, pr, eps);
        return 2.0 * otk__side_error(pr->a, pr->f, pr->f_soft, pr->n, eps, pr->rho_a,
                                     pr->mass_a);
    }
    if (otk__update_alternates(pr->update)) {
        softmin_cols(s, pr, eps);
        if (pr->f_fresh && !full)
            return otk__side_error(pr->b, pr->g, pr->g_soft, pr->m, eps, pr->rho_b, pr->mass_b);
        if (!pr->rows_ready)
            softmin_rows(s, pr, eps);
    } else {
        softmin_rows(s, pr, eps);
        softmin_cols(s, pr, eps);
    }
    return otk__side_error(pr->a, pr->f, pr->f_soft, pr->n, eps, pr->rho_a, pr->mass_a) +
           otk__side_error(pr->b, pr->g, pr->g_soft, pr->m, eps, pr->rho_b, pr->mass_b);
}

/* The largest marginal error of the problems. */
static double measure_all(otk_sinkhorn *s, double eps, int full)
{
    double err = 0.0;
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = (problem *)&s->prob[q];
        const double e = measure(s, pr, eps, full);
        err = q == 0 ? e : fmax(err, e);
    }
    return err;
}

static int potentials_finite(const otk_sinkhorn *s)
{
    for (int q = 0; q < s->n_prob; q++) {
        const problem *pr = &s->prob[q];
        if (!otk__all_finite(pr->f, pr->n) || (!pr->self && !otk__all_finite(pr->g, pr->m)))
            return 0;
    }
    return 1;
}

/* Copy every problem's pair into one of its stores, the best iterate
 * (saved = 0) or the pair the guard set aside (saved = 1), or back
 * (to_store = 0).  A pair put back by the guard has no exact f. */
static void keep(otk_sinkhorn *s, int saved, int to_store)
{
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = &s->prob[q];
        double *sf = saved ? pr->saved_f : pr->best_f, *sg = saved ? pr->saved_g : pr->best_g;
        memcpy(to_store ? sf : pr->f, to_store ? pr->f : sf, pr->n * sizeof *pr->f);
        if (!pr->self)
            memcpy(to_store ? sg : pr->g, to_store ? pr->g : sg, pr->m * sizeof *pr->g);
        if (saved)
            pr->f_fresh = 0;
        if (!to_store)
            pr->rows_ready = 0;
    }
}

/* Zero potentials at the target ε: the start of a no-annealing solve. */
static void cold_start(otk_sinkhorn *s)
{
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = &s->prob[q];
        memset(pr->f, 0, pr->n * sizeof *pr->f);
        if (!pr->self)
            memset(pr->g, 0, pr->m * sizeof *pr->g);
        pr->f_fresh = 0;
        pr->rows_ready = 0;
    }
}

/* The annealing guard, called at the target ε after the convergence test
 * with the error `err` of the current pair.  Returns 1 when it replaced the
 * potentials (the soft-mins of the convergence test are then stale).
 *
 * Why (docs/math.md A.5): when ε is small against the gaps between the
 * costs of competing pairings, the plan is nearly a permutation σ and the
 * dual is nearly flat along (f + u, g − u∘σ⁻¹): moving the split of each
 * matched pair's f_i + g_σ(i) between its two sides changes only the
 * exponentially small entries off the matching, so Sinkhorn corrects an
 * error in that split at a sublinear rate (the marginal error then falls
 * like 1/k).  The annealing hands over the split of a coarser ε — with the
 * alternating update, one side a step ahead of the other — which can lie
 * far along those directions, while zero potentials split evenly and can
 * lie much closer (or the other way round: neither start wins everywhere).
 * So when the annealed run creeps, run the no-annealing solve (bitwise its
 * first updates) for a quarter of the updates the annealed run has had, and
 * continue whichever pair has the smaller error after equally many: a
 * probe that loses costs a twentieth of the predicted solve, the annealed
 * run then resumes bitwise where it stopped, and where the guard stays
 * quiet the solve is bitwise the annealed one. */
static int guard(otk_sinkhorn *s, double err)
{
    const int act =
        otk__guard_step(&s->guard, s->target_iterations, err, s->par.tol, s->par.max_iter);
    if (act == OTK__GUARD_PROBE) {
        keep(s, 1, 1);
        cold_start(s);
    } else if (act == OTK__GUARD_RESTORE) {
        keep(s, 1, 0);
    }
    return act != OTK__GUARD_NONE;
}

/* The ω controller of the overrelaxed updates (docs/math.md A.9), called at
 * the target ε after the guard with the error `err` of the current pair.
 * Over windows of RELAX_WINDOW target updates it measures the geometric
 * rate q of the error.  With ω = 1 it waits for two successive windows
 * whose rates agree (the linear regime, where q is the plain alternating
 * rate μ); from then on each window sets ω to the optimal SOR relaxation of
 * the μ its rate implies, μ = (q + ω − 1)² / (q ω²) (μ = q at ω = 1),
 * ω = 2 / (1 + √(1 − μ)), at most omega_cap (RELAX_OMEGA_MAX at first).
 * A window in which the error did not fall is the safeguard: ω returns to
 * 1 and its cap halves its excess over 1 for the rest of the solve.  (The
 * pair is kept: going back to the best iterate would undo the slow drift
 * by which a run leaves a plateau of nearly constant error.) */
static void relax_adapt(otk_sinkhorn *s, double err)
{
    if (!s->prob[0].relax)
        return;
    const int k = s->target_iterations;
    if (isnan(s->win_err)) {
        s->win_err = err;
        s->win_start = k;
        return;
    }
    const int len = k - s->win_start;
    if (len < RELAX_WINDOW)
        return;
    const double ratio = err / s->win_err, w = s->omega;
    if (ratio < 1.0) {
        /* ω = 1 waits for the linear regime: two windows, rates within 25 %. */
        const double q = pow(ratio, 1.0 / len);
        const int linear = w != 1.0 || fabs(log(q) - log(s->win_q)) <= 0.25 * fabs(log(q));
        /* SOR never contracts faster than ω − 1: a window that did is not
         * in the linear regime, and its q says nothing about μ (taken at
         * face value it sends ω towards 2, then the rate ω − 1 confirms it). */
        if (linear && q >= w - 1.0) {
            double mu = (q + w - 1.0) * (q + w - 1.0) / (q * w * w);
            mu = fmin(fmax(mu, 0.0), 1.0);
            /* Rounded down to a multiple of 1/256: errors that differ by
             * rounding (a mass summed or given as 1) then give the same ω,
             * and so the same iterates. */
            const double best = floor(256.0 * (2.0 / (1.0 + sqrt(1.0 - mu)))) / 256.0;
            s->omega = fmin(s->omega_cap, best);
        }
        s->win_q = q;
    } else {
        if (w != 1.0) {
            s->omega_cap = 1.0 + 0.5 * (w - 1.0);
            s->omega = 1.0;
        }
        s->win_q = NAN;
    }
    /* A pair relaxed by another ω has another error mix (the row error is 0
     * only at ω = 1): then the next window starts after one update. */
    s->win_err = s->omega != w ? NAN : err;
    s->win_start = k;
}

/* Multiscale costs (docs/math.md A.11), before the updates at `e`: stay at
 * the cluster level while e is above both the cost's coarse_eps and the
 * target ε; on the first e below, jump to the points — extrapolate the
 * cluster potentials of the last update (at s->last_eps) and keep the blocks
 * the truncation rule keeps at e — and at every later, smaller e draw the
 * blocks again from the current potentials.  Without a cluster-level update
 * to extrapolate from (no annealing, a start below coarse_eps) every
 * block is kept. */
static void set_levels(otk_sinkhorn *s, double e)
{
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = &s->prob[q];
        const otk_cost *c = pr->cost;
        if (!c->ops->refine)
            continue;
        if (pr->level == 0) {
            if (e > c->coarse_eps && e > s->eps)
                continue;
            const double ex = pr->coarse_ran ? s->last_eps : 0.0;
            c->ops->refine(c, ex, pr->coarse_ran ? e : 0.0, pr->f, pr->g, pr->a, pr->b,
                           otk__kappa(ex, pr->rho_a), otk__kappa(ex, pr->rho_b), s->threads);
            pr->level = 1;
            pr->mask_eps = e;
            pr->f_fresh = 0;
        } else if (e < pr->mask_eps && pr->coarse_ran) {
            c->ops->refine(c, 0.0, e, pr->f, pr->g, pr->a, pr->b, 1.0, 1.0, s->threads);
            pr->mask_eps = e;
        }
    }
}

/* After updates at the cluster level: there is something to extrapolate. */
static void note_coarse(otk_sinkhorn *s)
{
    for (int q = 0; q < s->n_prob; q++)
        if (s->prob[q].level == 0)
            s->prob[q].coarse_ran = 1;
}

double otk__sinkhorn_truncation(otk_sinkhorn *s)
{
    double worst = 0.0;
    for (int q = 0; q < s->n_prob; q++) {
        const problem *pr = &s->prob[q];
        if (!pr->cost->ops->truncation_bound || pr->level == 0)
            continue;
        const double t = pr->cost->ops->truncation_bound(pr->cost, s->eps, pr->f, pr->g, pr->a,
                                                         pr->b, s->threads) /
                         pr->mass_a;
        worst = t > worst || isnan(t) ? t : worst;
    }
    return worst;
}

static otk_status finish(otk_sinkhorn *s, otk_status st)
{
    s->stage = STAGE_DONE;
    s->final_status = st;
    s->values_valid = 0;
    return st;
}

static otk_status non_finite(otk_sinkhorn *s, double eps)
{
    return finish(s, otk__fail(OTK_ENUMERIC, "non-finite potential at eps = %g", eps));
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
            set_levels(s, s->eps_list[0]);
            for (int q = 0; q < s->n_prob; q++)
                replace(s, &s->prob[q], s->eps_list[0]);
            note_coarse(s);
            s->last_eps = s->eps_list[0];
        }
    }

    /* Annealing (and the whole fixed schedule): one update per listed ε. */
    if (fixed ? s->step <= last : s->step < last) {
        const double e = s->eps_list[s->step];
        set_levels(s, e);
        for (int q = 0; q < s->n_prob; q++) {
            s->prob[q].omega = 1.0; /* the relaxation is for the target ε */
            update(s, &s->prob[q], e, 0);
        }
        const problem *p0 = &s->prob[0];
        s->last_stage = fixed && s->step == last ? OTK_STAGE_TARGET
                        : p0->cost->ops->refine && p0->level == 0 ? OTK_STAGE_CLUSTERS
                                                                  : OTK_STAGE_ANNEALING;
        note_coarse(s);
        s->last_eps = e;
        s->step++;
        s->iterations++;
        if (s->step <= last)
            s->annealing_iterations++;
        if (!potentials_finite(s))
            return non_finite(s, e);
        if (fixed && s->step > last) {
            /* GeomLoss's final extrapolation: parallel, not averaged.  The
             * pairs it starts from are kept (in the guard's store, which the
             * fixed schedule does not use): the divergence's fixed-schedule
             * gradient differentiates this step at them. */
            keep(s, 1, 1);
            for (int q = 0; q < s->n_prob; q++)
                replace(s, &s->prob[q], e);
            s->error = NAN; /* measured on demand */
            if (!potentials_finite(s))
                return non_finite(s, e);
            return finish(s, OTK_SUCCESS);
        }
        return OTK_CONTINUE;
    }

    /* At the target ε: measure the current potentials with the soft-mins the
     * next update needs anyway, stop or update. */
    const double eps = s->eps;
    set_levels(s, eps);
    const double err = measure_all(s, eps, 0);
    if (isnan(err))
        return finish(s, otk__fail(OTK_ENUMERIC, "marginal error is NaN at eps = %g", eps));
    s->error = err;
    s->last_eps = eps;
    if (err < s->best_error) {
        s->best_error = err;
        keep(s, 0, 1);
    }
    if (err <= s->par.tol)
        return finish(s, OTK_SUCCESS);
    if (s->target_iterations >= s->par.max_iter) {
        keep(s, 0, 0);
        s->error = s->best_error;
        otk__fail(OTK_NOT_CONVERGED,
                  "marginal error %.3g > tol %.3g after max_iter = %d iterations at eps = %g",
                  s->best_error, s->par.tol, s->par.max_iter, eps);
        return finish(s, OTK_NOT_CONVERGED);
    }
    const int replaced = guard(s, err);
    if (replaced)
        relax_reset(s);
    else
        relax_adapt(s, err);
    for (int q = 0; q < s->n_prob; q++) {
        problem *pr = &s->prob[q];
        pr->omega = pr->relax ? s->omega : 1.0;
        update(s, pr, eps, !replaced);
    }
    s->iterations++;
    s->target_iterations++;
    s->last_stage = OTK_STAGE_TARGET;
    if (!potentials_finite(s))
        return non_finite(s, eps);
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

void otk_sinkhorn_progress_info(const otk_sinkhorn *s, otk_progress *info)
{
    if (!s || !info)
        return;
    memset(info, 0, sizeof *info);
    otk_sinkhorn_progress(s, &info->eps, &info->iterations, &info->marginal_error);
    info->stage = s->last_stage;
    info->status = s->stage == STAGE_DONE ? s->final_status : OTK_CONTINUE;
}

otk_status otk__sinkhorn_run(otk_sinkhorn *s)
{
    otk_status st;
    while ((st = otk_sinkhorn_iterate(s)) == OTK_CONTINUE) {
        if (!s->par.progress)
            continue;
        otk_progress info;
        otk_sinkhorn_progress_info(s, &info);
        if (s->par.progress(&info, s->par.progress_ctx))
            return OTK_CONTINUE;
    }
    return st;
}

void otk__sinkhorn_problem(const otk_sinkhorn *s, int k, const double **f, const double **g)
{
    *f = s->prob[k].f;
    *g = s->prob[k].g;
}

void otk__sinkhorn_previous(const otk_sinkhorn *s, int k, const double **f, const double **g)
{
    *f = s->prob[k].saved_f;
    *g = s->prob[k].saved_g;
}

void otk__sinkhorn_counts(const otk_sinkhorn *s, int *iterations, int *annealing,
                          double *error)
{
    *iterations = s->iterations;
    *annealing = s->annealing_iterations;
    *error = s->error;
}

double otk__sinkhorn_measure(otk_sinkhorn *s)
{
    return measure_all(s, s->eps, 1);
}
