/* Distributed log-domain Sinkhorn (otkit/mpi.h): the serial driver's
 * iteration (solvers/core/sinkhorn.c, otkit/sinkhorn.h), with the soft-mins
 * and plan reductions done by ring passes and every sum over points reduced
 * in rank order.  tests/mpi/test_mpi.c checks it against the serial solver
 * iteration for iteration. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"
#include "solve_common.h"

struct otk_mpi_sinkhorn {
    otk_mpi__ring R;
    otk_sinkhorn_params par;
    otk_mpi__schedule sch;
    double rho_a, rho_b;
    /* This rank's weights, potentials and workspace. */
    double *a, *log_a, *f, *f_soft, *hx, *best_f, *saved_f, *row;
    double *b, *log_b, *g, *g_soft, *hy, *best_g, *saved_g, *col;
    double mass_a, mass_b;
};

otk_status otk_mpi_sinkhorn_alloc(otk_mpi_sinkhorn **out, MPI_Comm comm, size_t n_local,
                                  size_t m_local, size_t d, const double *x_local,
                                  const double *y_local, otk_ground ground, double power,
                                  const otk_sinkhorn_params *params)
{
    otk_sinkhorn_params par;
    if (params)
        par = *params;
    else
        otk_sinkhorn_params_default(&par);
    otk_mpi_sinkhorn *s = calloc(1, sizeof *s);
    if (out)
        *out = NULL;
    otk_mpi__ring R;
    otk_status st = otk_mpi__ring_init(&R, comm, n_local, m_local, d, x_local, y_local, ground,
                                       power, par.threads, 1);
    if (st) {
        free(s);
        return st;
    }
    if (!out)
        st = otk_mpi__fail(OTK_ENULL, "rank %d: out is NULL", R.rank);
    else if (!s)
        st = otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory", R.rank);
    else
        st = otk_mpi__check_params_sinkhorn(R.rank, d, ground, power, &par);
    if ((st = otk_mpi__agree(R.comm, st)))
        goto fail;
    double values[OTK_MPI_MAX_PARAMS];
    const char *names[OTK_MPI_MAX_PARAMS];
    const int k = otk_mpi__sinkhorn_param_values(&par, ground, power, values, names);
    if ((st = otk_mpi__same_everywhere(R.comm, values, names, k)))
        goto fail;
    s->R = R;
    s->par = par;
    const otk_mpi__common common = {par.eps,      par.blur,     par.schedule, par.update,
                                    par.scaling,  par.diameter, par.p,        ground,
                                    power};
    if ((st = otk_mpi__schedule_build(&s->R, &common, &s->sch)))
        goto fail_s;
    s->rho_a = par.rho_a;
    s->rho_b = par.rho_b;
    if (par.reach > 0.0)
        s->rho_a = s->rho_b = pow(par.reach, s->sch.p);

    const size_t n = n_local, m = m_local;
    double *w = malloc((8 * n + 8 * m + 1) * sizeof *w);
    st = w ? OTK_SUCCESS
           : otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory for n_local = %zu, m_local = %zu",
                           R.rank, n, m);
    if ((st = otk_mpi__agree(s->R.comm, st)))
        goto fail_s;
    s->a = w, w += n;
    s->log_a = w, w += n;
    s->f = w, w += n;
    s->f_soft = w, w += n;
    s->hx = w, w += n;
    s->best_f = w, w += n;
    s->saved_f = w, w += n;
    s->row = w, w += n;
    s->b = w, w += m;
    s->log_b = w, w += m;
    s->g = w, w += m;
    s->g_soft = w, w += m;
    s->hy = w, w += m;
    s->best_g = w, w += m;
    s->saved_g = w, w += m;
    s->col = w, w += m;
    *out = s;
    return OTK_SUCCESS;
fail:
    otk_mpi__ring_free(&R);
    free(s);
    return st;
fail_s:
    otk_mpi_sinkhorn_free(s);
    return st;
}

void otk_mpi_sinkhorn_free(otk_mpi_sinkhorn *s)
{
    if (!s)
        return;
    otk_mpi__ring_free(&s->R);
    free(s->sch.list);
    free(s->a);
    free(s);
}

const double *otk_mpi_sinkhorn_potential_f(const otk_mpi_sinkhorn *s) { return s ? s->f : NULL; }
const double *otk_mpi_sinkhorn_potential_g(const otk_mpi_sinkhorn *s) { return s ? s->g : NULL; }

otk_status otk_mpi_sinkhorn_stats(const otk_mpi_sinkhorn *s, otk_mpi_stats *stats)
{
    if (!s || !stats)
        return otk_mpi__fail(OTK_ENULL, "otk_mpi_sinkhorn_stats: %s is NULL",
                             !s ? "solver" : "stats");
    *stats = s->R.stats;
    return OTK_SUCCESS;
}

/* h = log w + pot/ε (the soft-min's input for Σ w exp((pot − C)/ε)). */
static void log_scaling(const double *log_w, const double *pot, size_t len, double eps,
                        double *h)
{
    for (size_t i = 0; i < len; i++)
        h[i] = log_w[i] + pot[i] / eps;
}

/* f_soft = smin^b(g) on this rank's rows (`rows`) and g_soft = smin^a(f) on
 * its columns (`cols`), both from the current pair, in one ring pass. */
static otk_status softmins(otk_mpi_sinkhorn *s, double eps, int rows, int cols)
{
    otk_mpi__task t[2];
    int nt = 0;
    if (rows)
        t[nt++] = (otk_mpi__task){OTK_MPI_SIDE_X, OTK_MPI_SIDE_Y, 0, 0, OTK_REDUCE_MASS, 1, NULL,
                                  s->f_soft};
    if (cols)
        t[nt++] = (otk_mpi__task){OTK_MPI_SIDE_Y, OTK_MPI_SIDE_X, 0, 0, OTK_REDUCE_MASS, 1, NULL,
                                  s->g_soft};
    if (rows)
        log_scaling(s->log_b, s->g, s->R.m_local, eps, s->hy);
    if (cols)
        log_scaling(s->log_a, s->f, s->R.n_local, eps, s->hx);
    return otk_mpi__ring_pass(&s->R, eps, t, nt, s->hx, cols, s->hy, rows);
}

static void relax(double *pot, const double *soft, size_t len, double k, int average)
{
    if (average)
        for (size_t i = 0; i < len; i++)
            pot[i] = 0.5 * (pot[i] + k * soft[i]);
    else
        for (size_t i = 0; i < len; i++)
            pot[i] = k * soft[i];
}

/* One update at eps (otkit/sinkhorn.h); `ready`: the soft-mins of the current
 * pair are already computed.  Sets *f_fresh after an alternating update. */
static otk_status update(otk_mpi_sinkhorn *s, double eps, int ready, int *f_fresh)
{
    otk_status st;
    const double ka = otk__kappa(eps, s->rho_a), kb = otk__kappa(eps, s->rho_b);
    if (s->sch.update == OTK_UPDATE_ALTERNATING) {
        if (!ready && (st = softmins(s, eps, 0, 1)))
            return st;
        relax(s->g, s->g_soft, s->R.m_local, kb, 0);
        if ((st = softmins(s, eps, 1, 0)))
            return st;
        relax(s->f, s->f_soft, s->R.n_local, ka, 0);
        *f_fresh = 1;
        return OTK_SUCCESS;
    }
    if (!ready && (st = softmins(s, eps, 1, 1)))
        return st;
    relax(s->f, s->f_soft, s->R.n_local, ka, 1);
    relax(s->g, s->g_soft, s->R.m_local, kb, 1);
    return OTK_SUCCESS;
}

static otk_status check_finite(otk_mpi_sinkhorn *s, double eps)
{
    int finite = 0;
    otk_status st = otk_mpi__all_finite(&s->R, &finite, s->f, s->R.n_local, s->g, s->R.m_local);
    if (st)
        return st;
    return finite ? OTK_SUCCESS
                  : otk_mpi__fail(OTK_ENUMERIC, "non-finite potential at eps = %g", eps);
}

/* The marginal error (otkit/sinkhorn.h) from the soft-mins of the current
 * pair; `b_only`: f = κ smin(g) holds exactly, its side is 0. */
static otk_status marginal_error(otk_mpi_sinkhorn *s, double eps, int b_only, double *err)
{
    double part[2], sum[2];
    part[0] = b_only ? 0.0
                     : otk_mpi__side_error(s->a, s->f, s->f_soft, s->R.n_local, eps, s->rho_a);
    part[1] = otk_mpi__side_error(s->b, s->g, s->g_soft, s->R.m_local, eps, s->rho_b);
    otk_status st = otk_mpi__global_sums(&s->R, part, 2, sum);
    if (st)
        return st;
    *err = b_only ? sum[1] / s->mass_b : sum[0] / s->mass_a + sum[1] / s->mass_b;
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

/* The three values and, after the fixed schedule, the marginal error, as
 * otk_sinkhorn_get_result computes them. */
static otk_status values(otk_mpi_sinkhorn *s, double error, otk_sinkhorn_result *res)
{
    const double eps = s->sch.eps;
    const size_t n = s->R.n_local, m = s->R.m_local;
    const int measure = isnan(error);
    log_scaling(s->log_a, s->f, n, eps, s->hx);
    log_scaling(s->log_b, s->g, m, eps, s->hy);
    double *row_cost = s->f_soft; /* free now: the iteration is over */
    otk_mpi__task t[3] = {
        {OTK_MPI_SIDE_X, OTK_MPI_SIDE_Y, 0, 1, OTK_REDUCE_COST, 1, s->hx, row_cost},
        {OTK_MPI_SIDE_X, OTK_MPI_SIDE_Y, 0, 1, OTK_REDUCE_MASS, 1, s->hx, s->row},
        {OTK_MPI_SIDE_Y, OTK_MPI_SIDE_X, 0, 1, OTK_REDUCE_MASS, 1, s->hy, s->col}};
    otk_status st = otk_mpi__ring_pass(&s->R, eps, t, measure ? 3 : 2, s->hx, 1, s->hy, 1);
    if (st)
        return st;
    double part[8] = {0}, sum[8];
    for (size_t i = 0; i < n; i++)
        part[0] += row_cost[i];
    for (size_t i = 0; i < n; i++)
        part[1] += s->row[i];
    if (measure) {
        for (size_t i = 0; i < n; i++)
            part[2] += fabs(s->row[i] -
                            s->a[i] * (isinf(s->rho_a) ? 1.0 : exp(-s->f[i] / s->rho_a)));
        for (size_t j = 0; j < m; j++)
            part[3] += fabs(s->col[j] -
                            s->b[j] * (isinf(s->rho_b) ? 1.0 : exp(-s->g[j] / s->rho_b)));
    }
    part[4] = dual_side(s->a, s->f, n, s->rho_a);
    part[5] = dual_side(s->b, s->g, m, s->rho_b);
    part[6] = entropy(s->a, n);
    part[7] = entropy(s->b, m);
    if ((st = otk_mpi__global_sums(&s->R, part, 8, sum)))
        return st;
    if (measure)
        error = sum[2] / s->mass_a + sum[3] / s->mass_b;
    const int balanced = isinf(s->rho_a) && isinf(s->rho_b);
    double kl = sum[4] + sum[5];
    kl -= eps * ((balanced ? s->mass_a : sum[1]) - s->mass_a * s->mass_b);
    res->ot_kl = kl;
    res->ot_ent = kl - eps * (sum[6] + sum[7]);
    res->ot_lin = sum[0];
    res->eps = eps;
    res->scale_cost = 1.0; /* scale_cost is refused here */
    res->rho_a = s->rho_a;
    res->rho_b = s->rho_b;
    res->mass_a = s->mass_a;
    res->mass_b = s->mass_b;
    res->marginal_error = error;
    return OTK_SUCCESS;
}

otk_status otk_mpi_sinkhorn_solve(otk_mpi_sinkhorn *s, const double *a_local,
                                  const double *b_local, otk_sinkhorn_result *res)
{
    otk_status st;
    if (!s)
        return otk_mpi__fail(OTK_ENULL, "otk_mpi_sinkhorn_solve: solver is NULL");
    otk_mpi__ring *R = &s->R;
    if ((st = otk_mpi__set_weights(R, "a", a_local, R->n_local, R->n, s->a, s->log_a,
                                   &s->mass_a)) ||
        (st = otk_mpi__set_weights(R, "b", b_local, R->m_local, R->m, s->b, s->log_b,
                                   &s->mass_b)))
        return st;
    const double ma = s->mass_a, mb = s->mass_b;
    if (isinf(s->rho_a) && isinf(s->rho_b) && fabs(ma - mb) > 1e-9 * fmax(ma, mb))
        return otk_mpi__fail(OTK_EMASS,
                             "balanced problem with unequal masses: sum(a) = %.17g, sum(b) = "
                             "%.17g over all ranks (normalise the weights or set rho/reach)",
                             ma, mb);
    const size_t n = R->n_local, m = R->m_local;
    memset(s->f, 0, n * sizeof *s->f);
    memset(s->g, 0, m * sizeof *s->g);

    const int fixed = s->par.schedule == OTK_SCHEDULE_FIXED;
    const double *list = s->sch.list;
    const int last = s->sch.len - 1;
    int step = 0, f_fresh = 0, iterations = 0, annealing = 0, target = 0;
    double error = NAN, best = INFINITY;
    otk_status final = OTK_SUCCESS;
    otk__guard guard;
    otk__guard_init(&guard, !fixed && !s->par.no_annealing);

    if (!fixed && s->par.no_annealing) {
        step = last;
    } else {
        /* GeomLoss's initialisation: one parallel soft-min from zero
         * potentials at the first ε. */
        const double e0 = list[0];
        if ((st = softmins(s, e0, 1, 1)))
            return st;
        relax(s->f, s->f_soft, n, otk__kappa(e0, s->rho_a), 0);
        relax(s->g, s->g_soft, m, otk__kappa(e0, s->rho_b), 0);
    }
    for (;;) {
        if (fixed ? step <= last : step < last) {
            const double e = list[step];
            if ((st = update(s, e, 0, &f_fresh)))
                return st;
            step++;
            iterations++;
            if (step <= last)
                annealing++;
            if ((st = check_finite(s, e)))
                return st;
            if (fixed && step > last) {
                /* GeomLoss's final extrapolation: parallel, not averaged. */
                if ((st = softmins(s, e, 1, 1)))
                    return st;
                relax(s->f, s->f_soft, n, otk__kappa(e, s->rho_a), 0);
                relax(s->g, s->g_soft, m, otk__kappa(e, s->rho_b), 0);
                if ((st = check_finite(s, e)))
                    return st;
                break;
            }
            continue;
        }
        /* At the target ε: measure the current pair with the soft-mins the
         * next update needs anyway, stop or update. */
        const double eps = s->sch.eps;
        const int b_only = s->sch.update == OTK_UPDATE_ALTERNATING && f_fresh;
        double err;
        if ((st = softmins(s, eps, !b_only, 1)) || (st = marginal_error(s, eps, b_only, &err)))
            return st;
        if (isnan(err))
            return otk_mpi__fail(OTK_ENUMERIC, "marginal error is NaN at eps = %g", eps);
        error = err;
        if (err < best) {
            best = err;
            memcpy(s->best_f, s->f, n * sizeof *s->f);
            memcpy(s->best_g, s->g, m * sizeof *s->g);
        }
        if (err <= s->par.tol)
            break;
        if (target >= s->par.max_iter) {
            memcpy(s->f, s->best_f, n * sizeof *s->f);
            memcpy(s->g, s->best_g, m * sizeof *s->g);
            error = best;
            otk_mpi__fail(OTK_NOT_CONVERGED,
                          "marginal error %.3g > tol %.3g after max_iter = %d iterations at "
                          "eps = %g",
                          best, s->par.tol, s->par.max_iter, eps);
            final = OTK_NOT_CONVERGED;
            break;
        }
        const int act = otk__guard_step(&guard, target, err, s->par.tol, s->par.max_iter);
        if (act == OTK__GUARD_PROBE) {
            memcpy(s->saved_f, s->f, n * sizeof *s->f);
            memcpy(s->saved_g, s->g, m * sizeof *s->g);
            memset(s->f, 0, n * sizeof *s->f);
            memset(s->g, 0, m * sizeof *s->g);
        } else if (act == OTK__GUARD_RESTORE) {
            memcpy(s->f, s->saved_f, n * sizeof *s->f);
            memcpy(s->g, s->saved_g, m * sizeof *s->g);
        }
        if (act != OTK__GUARD_NONE)
            f_fresh = 0;
        if ((st = update(s, eps, act == OTK__GUARD_NONE, &f_fresh)))
            return st;
        iterations++;
        target++;
        if ((st = check_finite(s, eps)))
            return st;
    }
    if (res) {
        if ((st = values(s, error, res)))
            return st;
        res->iterations = iterations;
        res->annealing_iterations = annealing;
        res->status = final;
    }
    return final;
}
