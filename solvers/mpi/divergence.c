/* Distributed Sinkhorn divergence (otkit/mpi.h): the serial iteration of
 * solvers/clients/divergence.c (otkit/divergence.h) with ring passes for the
 * soft-mins and plan reductions, and its gradients: the envelope gradients
 * after the converge schedule, the gradient of the final extrapolation step
 * after the fixed one (docs/math.md B.3); tests/mpi/check_mpi.c checks it
 * against the serial object, value, iterations and gradients. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"
#include "solve_common.h"

struct otk_mpi_divergence {
    otk_mpi__ring R;
    otk_divergence_params par;
    otk_mpi__schedule sch;
    double rho, eps;
    int debias, solved;
    /* This rank's weights, the four potentials, soft-mins and h slots. */
    double *a, *log_a, *f_ba, *f_aa, *f_soft, *faa_soft, *hx; /* hx: 2 slots */
    double *b, *log_b, *g_ab, *g_bb, *g_soft, *gbb_soft, *hy; /* hy: 2 slots */
    double *tmp;                                              /* max(n, m)·d */
    double *u;                                                /* 2·max(n, m) */
    double *best_f_ba, *best_f_aa, *best_g_ab, *best_g_bb;    /* the best iterate */
    /* The guard's store on the converge schedule; on the fixed one (which
     * has no guard) the potentials the final extrapolation started from,
     * whose step the gradients differentiate, as in the serial driver. */
    double *saved_f_ba, *saved_f_aa, *saved_g_ab, *saved_g_bb;
    int last_step; /* the last solve ran the fixed schedule */
    double mass_a, mass_b;
};

otk_status otk_mpi_divergence_alloc(otk_mpi_divergence **out, MPI_Comm comm, size_t n_local,
                                    size_t m_local, size_t d, const double *x_local,
                                    const double *y_local, otk_ground ground, double power,
                                    const otk_divergence_params *params)
{
    otk_divergence_params par;
    if (params)
        par = *params;
    else
        otk_divergence_params_default(&par);
    if (out)
        *out = NULL;
    otk_mpi_divergence *div = calloc(1, sizeof *div);
    otk_mpi__ring R;
    otk_status st = otk_mpi__ring_init(&R, comm, n_local, m_local, d, x_local, y_local, ground,
                                       power, par.threads, 2);
    if (st) {
        free(div);
        return st;
    }
    if (!out)
        st = otk_mpi__fail(OTK_ENULL, "rank %d: out is NULL", R.rank);
    else if (!div)
        st = otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory", R.rank);
    else
        st = otk_mpi__check_params_divergence(R.rank, d, ground, power, &par);
    double values[OTK_MPI_MAX_PARAMS];
    const char *names[OTK_MPI_MAX_PARAMS];
    const int k = otk_mpi__divergence_param_values(&par, ground, power, values, names);
    if ((st = otk_mpi__agree(R.comm, st)) ||
        (st = otk_mpi__same_everywhere(R.comm, values, names, k))) {
        otk_mpi__ring_free(&R);
        free(div);
        return st;
    }
    div->R = R;
    div->par = par;
    div->debias = par.debias;
    const otk_mpi__common common = {par.eps,      par.blur,     par.schedule, par.update,
                                    par.scaling,  par.diameter, par.p,        ground,
                                    power};
    if ((st = otk_mpi__schedule_build(&div->R, &common, &div->sch))) {
        otk_mpi_divergence_free(div);
        return st;
    }
    div->eps = div->sch.eps;
    div->rho = par.reach > 0.0 ? pow(par.reach, div->sch.p) : par.rho;
    const size_t n = n_local, m = m_local, L = n > m ? n : m;
    double *w = malloc((12 * n + 12 * m + L * d + 2 * L + 1) * sizeof *w);
    st = w ? OTK_SUCCESS
           : otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory for n_local = %zu, m_local = %zu",
                           R.rank, n, m);
    if ((st = otk_mpi__agree(div->R.comm, st))) {
        otk_mpi_divergence_free(div);
        return st;
    }
    div->a = w, w += n;
    div->log_a = w, w += n;
    div->f_ba = w, w += n;
    div->f_aa = w, w += n;
    div->f_soft = w, w += n;
    div->faa_soft = w, w += n;
    div->hx = w, w += 2 * n;
    div->b = w, w += m;
    div->log_b = w, w += m;
    div->g_ab = w, w += m;
    div->g_bb = w, w += m;
    div->g_soft = w, w += m;
    div->gbb_soft = w, w += m;
    div->hy = w, w += 2 * m;
    div->best_f_ba = w, w += n;
    div->best_f_aa = w, w += n;
    div->best_g_ab = w, w += m;
    div->best_g_bb = w, w += m;
    div->saved_f_ba = w, w += n;
    div->saved_f_aa = w, w += n;
    div->saved_g_ab = w, w += m;
    div->saved_g_bb = w, w += m;
    div->tmp = w, w += L * d;
    div->u = w;
    *out = div;
    return OTK_SUCCESS;
}

void otk_mpi_divergence_free(otk_mpi_divergence *div)
{
    if (!div)
        return;
    otk_mpi__ring_free(&div->R);
    free(div->sch.list);
    free(div->a);
    free(div);
}

otk_status otk_mpi_divergence_stats(const otk_mpi_divergence *div, otk_mpi_stats *stats)
{
    if (!div || !stats)
        return otk_mpi__fail(OTK_ENULL, "otk_mpi_divergence_stats: %s is NULL",
                             !div ? "div" : "stats");
    *stats = div->R.stats;
    return OTK_SUCCESS;
}

/* h = log w (+ pot/ε unless pot is NULL). */
static void log_scaling(const double *log_w, const double *pot, size_t len, double eps,
                        double *h)
{
    for (size_t i = 0; i < len; i++)
        h[i] = pot ? log_w[i] + pot[i] / eps : log_w[i];
}

/* The soft-mins of the current potentials (see solvers/clients/divergence.c):
 * f_soft (when `rows`), g_soft, and with debias faa_soft, gbb_soft, in one
 * ring pass.  x-side slots: 0 = f_ba, 1 = f_aa; y-side: 0 = g_ab, 1 = g_bb. */
static otk_status softmins(otk_mpi_divergence *div, double eps, int rows, int zero)
{
    const size_t n = div->R.n_local, m = div->R.m_local;
    log_scaling(div->log_a, zero ? NULL : div->f_ba, n, eps, div->hx);
    log_scaling(div->log_b, zero ? NULL : div->g_ab, m, eps, div->hy);
    if (div->debias) {
        log_scaling(div->log_a, zero ? NULL : div->f_aa, n, eps, div->hx + n);
        log_scaling(div->log_b, zero ? NULL : div->g_bb, m, eps, div->hy + m);
    }
    otk_mpi__task t[4];
    int nt = 0;
    if (rows)
        t[nt++] = (otk_mpi__task){OTK_MPI_SIDE_X, OTK_MPI_SIDE_Y, 0, 0, OTK_REDUCE_MASS, 1, NULL,
                                  div->f_soft};
    t[nt++] = (otk_mpi__task){OTK_MPI_SIDE_Y, OTK_MPI_SIDE_X, 0, 0, OTK_REDUCE_MASS, 1, NULL,
                              div->g_soft};
    if (div->debias) {
        t[nt++] = (otk_mpi__task){OTK_MPI_SIDE_X, OTK_MPI_SIDE_X, 1, 0, OTK_REDUCE_MASS, 1, NULL,
                                  div->faa_soft};
        t[nt++] = (otk_mpi__task){OTK_MPI_SIDE_Y, OTK_MPI_SIDE_Y, 1, 0, OTK_REDUCE_MASS, 1, NULL,
                                  div->gbb_soft};
    }
    const int slots = div->debias ? 2 : 1;
    return otk_mpi__ring_pass(&div->R, eps, t, nt, div->hx, slots, div->hy, slots);
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

static otk_status update(otk_mpi_divergence *div, double eps, int average, int alternating)
{
    const double k = otk__kappa(eps, div->rho);
    const size_t n = div->R.n_local, m = div->R.m_local;
    if (alternating) {
        relax(div->g_ab, div->g_soft, m, k, 0);
        log_scaling(div->log_b, div->g_ab, m, eps, div->hy);
        otk_mpi__task t = {OTK_MPI_SIDE_X, OTK_MPI_SIDE_Y, 0, 0, OTK_REDUCE_MASS, 1, NULL,
                           div->f_soft};
        otk_status st = otk_mpi__ring_pass(&div->R, eps, &t, 1, div->hx, 0, div->hy, 1);
        if (st)
            return st;
        relax(div->f_ba, div->f_soft, n, k, 0);
    } else {
        relax(div->f_ba, div->f_soft, n, k, average);
        relax(div->g_ab, div->g_soft, m, k, average);
    }
    if (div->debias) {
        relax(div->f_aa, div->faa_soft, n, k, average);
        relax(div->g_bb, div->gbb_soft, m, k, average);
    }
    return OTK_SUCCESS;
}

static otk_status check_potentials(otk_mpi_divergence *div, double eps)
{
    const size_t n = div->R.n_local, m = div->R.m_local;
    int f1 = 1, f2 = 1;
    otk_status st = otk_mpi__all_finite(&div->R, &f1, div->f_ba, n, div->g_ab, m);
    if (!st && div->debias)
        st = otk_mpi__all_finite(&div->R, &f2, div->f_aa, n, div->g_bb, m);
    if (st)
        return st;
    return f1 && f2 ? OTK_SUCCESS
                    : otk_mpi__fail(OTK_ENUMERIC,
                                    "otk_mpi_divergence_solve: non-finite potential at eps = %g",
                                    eps);
}

/* The largest marginal error of the solved problems (solvers/clients/divergence.c). */
static otk_status marginal_error(otk_mpi_divergence *div, double eps, int f_exact, double *err)
{
    const double rho = div->rho;
    const size_t n = div->R.n_local, m = div->R.m_local;
    double part[4] = {0}, sum[4];
    part[0] = otk_mpi__side_error(div->b, div->g_ab, div->g_soft, m, eps, rho);
    if (!f_exact)
        part[1] = otk_mpi__side_error(div->a, div->f_ba, div->f_soft, n, eps, rho);
    if (div->debias) {
        part[2] = otk_mpi__side_error(div->a, div->f_aa, div->faa_soft, n, eps, rho);
        part[3] = otk_mpi__side_error(div->b, div->g_bb, div->gbb_soft, m, eps, rho);
    }
    otk_status st = otk_mpi__global_sums(&div->R, part, 4, sum);
    if (st)
        return st;
    double e = sum[0] / div->mass_b;
    if (!f_exact)
        e += sum[1] / div->mass_a;
    if (div->debias) {
        /* The symmetric plans have equal row and column marginals. */
        double e_aa = 2.0 * (sum[2] / div->mass_a), e_bb = 2.0 * (sum[3] / div->mass_b);
        e = fmax(e, fmax(e_aa, e_bb));
    }
    *err = e;
    return OTK_SUCCESS;
}

static double wdot(const double *w, const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0.0)
            s += w[i] * v[i];
    return s;
}

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

/* The value of the current potentials (otkit/divergence.h), each sum over
 * points reduced in rank order. */
static otk_status divergence_value(otk_mpi_divergence *div, double *value)
{
    const size_t n = div->R.n_local, m = div->R.m_local;
    const double rho = div->rho, eps = div->eps;
    double part[4] = {0}, sum[4];
    if (isinf(rho)) {
        part[0] = wdot(div->a, div->f_ba, n);
        part[1] = wdot(div->b, div->g_ab, m);
        if (div->debias) {
            part[2] = wdot(div->a, div->f_aa, n);
            part[3] = wdot(div->b, div->g_bb, m);
        }
    } else {
        part[0] = wdiff_exp(div->a, div->debias ? div->f_aa : NULL, div->f_ba, n, rho);
        part[1] = wdiff_exp(div->b, div->debias ? div->g_bb : NULL, div->g_ab, m, rho);
    }
    otk_status st = otk_mpi__global_sums(&div->R, part, 4, sum);
    if (st)
        return st;
    if (isinf(rho))
        *value = sum[0] + sum[1] - (div->debias ? sum[2] + sum[3] : 0.0);
    else
        *value = (rho + 0.5 * eps) * (sum[0] + sum[1]);
    return OTK_SUCCESS;
}

/* Save (to_best) or restore the best iterate of the four potentials. */
static void keep_best(otk_mpi_divergence *div, size_t n, size_t m, int to_best)
{
    double *cur[4] = {div->f_ba, div->f_aa, div->g_ab, div->g_bb};
    double *best[4] = {div->best_f_ba, div->best_f_aa, div->best_g_ab, div->best_g_bb};
    const size_t len[4] = {n, n, m, m};
    for (int k = 0; k < 4; k++)
        memcpy(to_best ? best[k] : cur[k], to_best ? cur[k] : best[k], len[k] * sizeof(double));
}

/* The annealing guard's probe (solvers/core/guard.h): save the four potentials and
 * start from zero, or put the saved ones back. */
static void guard_act(otk_mpi_divergence *div, size_t n, size_t m, int act)
{
    double *cur[4] = {div->f_ba, div->f_aa, div->g_ab, div->g_bb};
    double *saved[4] = {div->saved_f_ba, div->saved_f_aa, div->saved_g_ab, div->saved_g_bb};
    const size_t len[4] = {n, n, m, m};
    for (int k = 0; k < 4; k++) {
        if (act == OTK__GUARD_PROBE) {
            memcpy(saved[k], cur[k], len[k] * sizeof(double));
            memset(cur[k], 0, len[k] * sizeof(double));
        } else {
            memcpy(cur[k], saved[k], len[k] * sizeof(double));
        }
    }
}

/* Before the fixed schedule's final extrapolation: keep the pairs it starts
 * from (in the guard's store, unused on that schedule), as the serial
 * driver does (solvers/core/sinkhorn.c). */
static void keep_previous(otk_mpi_divergence *div, size_t n, size_t m)
{
    const double *cur[4] = {div->f_ba, div->f_aa, div->g_ab, div->g_bb};
    double *saved[4] = {div->saved_f_ba, div->saved_f_aa, div->saved_g_ab, div->saved_g_bb};
    const size_t len[4] = {n, n, m, m};
    for (int k = 0; k < 4; k++)
        memcpy(saved[k], cur[k], len[k] * sizeof(double));
}

otk_status otk_mpi_divergence_solve(otk_mpi_divergence *div, const double *a_local,
                                    const double *b_local, otk_divergence_result *res)
{
    otk_status st;
    if (!div)
        return otk_mpi__fail(OTK_ENULL, "otk_mpi_divergence_solve: div is NULL");
    otk_mpi__ring *R = &div->R;
    div->solved = 0;
    if ((st = otk_mpi__set_weights(R, "a", a_local, R->n_local, R->n, div->a, div->log_a,
                                   &div->mass_a)) ||
        (st = otk_mpi__set_weights(R, "b", b_local, R->m_local, R->m, div->b, div->log_b,
                                   &div->mass_b)))
        return st;
    const double ma = div->mass_a, mb = div->mass_b;
    if (isinf(div->rho) && fabs(ma - mb) > 1e-9 * fmax(ma, mb))
        return otk_mpi__fail(OTK_EMASS,
                             "balanced divergence with unequal masses: sum(a) = %.17g, sum(b) = "
                             "%.17g over all ranks (normalise the weights or set rho/reach)",
                             ma, mb);
    const int fixed = div->par.schedule == OTK_SCHEDULE_FIXED;
    const int alternating = div->sch.update == OTK_UPDATE_ALTERNATING;
    const int last = div->sch.len - 1;
    const double *list = div->sch.list;
    int iterations = 0, annealing = 0;
    otk_status final = OTK_SUCCESS;
    double err = NAN;

    /* GeomLoss's initialisation: one soft-min from zero potentials at ε₀. */
    if ((st = softmins(div, list[0], 1, 1)) || (st = update(div, list[0], 0, 0)))
        return st;
    const int listed = fixed ? last + 1 : last;
    for (int s = 0; s < listed; s++) {
        const double e = list[s];
        if ((st = softmins(div, e, !alternating || fixed, 0)) ||
            (st = update(div, e, 1, alternating && !fixed)))
            return st;
        iterations++;
        if (s < last)
            annealing++;
        if ((st = check_potentials(div, e)))
            return st;
    }
    if (fixed) {
        const double e = list[last];
        keep_previous(div, R->n_local, R->m_local);
        if ((st = softmins(div, e, 1, 0)) || (st = update(div, e, 0, 0)) ||
            (st = check_potentials(div, e)))
            return st;
    } else {
        const double eps = div->eps;
        const size_t n = R->n_local, m = R->m_local;
        /* The annealing's alternating updates left f_ba exact (the serial
         * driver's f_fresh); the symmetric problems are always measured. */
        int f_exact = alternating, target = 0;
        double best = INFINITY;
        otk__guard guard;
        otk__guard_init(&guard, 1);
        for (;;) {
            if ((st = softmins(div, eps, !(alternating && f_exact), 0)) ||
                (st = marginal_error(div, eps, alternating && f_exact, &err)))
                return st;
            if (isnan(err))
                return otk_mpi__fail(OTK_ENUMERIC,
                                     "otk_mpi_divergence_solve: marginal error is NaN at eps = %g",
                                     eps);
            if (err < best) {
                best = err;
                keep_best(div, n, m, 1);
            }
            if (err <= div->par.tol)
                break;
            if (target >= div->par.max_iter) {
                /* As the serial solver: the best iterate, its error. */
                keep_best(div, n, m, 0);
                err = best;
                otk_mpi__fail(OTK_NOT_CONVERGED,
                              "otk_mpi_divergence_solve: marginal error %.3g > tol %.3g after "
                              "max_iter = %d iterations at eps = %g",
                              err, div->par.tol, div->par.max_iter, eps);
                final = OTK_NOT_CONVERGED;
                break;
            }
            const int act =
                otk__guard_step(&guard, target, err, div->par.tol, div->par.max_iter);
            if (act != OTK__GUARD_NONE) {
                /* New potentials: their soft-mins, as the loop's first
                 * measurement computes them. */
                guard_act(div, n, m, act);
                if ((st = softmins(div, eps, !alternating, 0)))
                    return st;
            }
            if ((st = update(div, eps, 1, alternating)))
                return st;
            f_exact = 1;
            iterations++;
            target++;
            if ((st = check_potentials(div, eps)))
                return st;
        }
    }
    double value;
    if ((st = divergence_value(div, &value)))
        return st;
    div->last_step = fixed;
    div->solved = 1;
    if (res) {
        res->divergence = value;
        res->eps = div->eps;
        res->scale_cost = 1.0;
        res->rho = div->rho;
        res->mass_a = ma;
        res->mass_b = mb;
        res->marginal_error = err;
        res->iterations = iterations;
        res->annealing_iterations = annealing;
        res->status = final;
    }
    return final;
}

/* ------------------------------------------------------------ gradients */

/* Every rank must take the same path: a NULL output where the block is not
 * empty, or an unsolved object, fails on every rank together. */
static otk_status require_solved(otk_mpi_divergence *div, const void *out, size_t len,
                                 const char *fn)
{
    if (!div)
        return otk_mpi__fail(OTK_ENULL, "%s: div is NULL", fn);
    otk_status st = OTK_SUCCESS;
    if (!div->solved)
        st = otk_mpi__fail(OTK_ESTATE, "%s: call otk_mpi_divergence_solve first (successfully)",
                           fn);
    else if (!out && len > 0)
        st = otk_mpi__fail(OTK_ENULL, "rank %d: %s: the output is NULL", div->R.rank, fn);
    return otk_mpi__agree(div->R.comm, st);
}

/* Σ_j π^{ab}_ij ∇₁c(own_i, other_j) − Σ_k π^{self}_ik ∇₁c(own_i, own_k) for this
 * rank's points of one side (otkit/divergence.h), in one ring pass.  After
 * the converge schedule π are the plans of the potentials (the envelope
 * gradient); after the fixed one (docs/math.md B.3) the visiting side's
 * scalings are the potentials the final extrapolation started from and the
 * own side's the final step's (otk__last_step_scaling), as the serial object's
 * last_step_gradient. */
static otk_status point_gradient(otk_mpi_divergence *div, int side, double *out, const char *fn)
{
    const size_t n = div->R.n_local, m = div->R.m_local, d = div->R.d;
    const size_t len = side == OTK_MPI_SIDE_X ? n : m;
    otk_status st = require_solved(div, out, len * d, fn);
    if (st)
        return st;
    const double eps = div->eps;
    const int last = div->last_step;
    /* hx slots: 0 = log a + f_ba/ε, 1 = log a + f_aa/ε; hy likewise (the
     * previous potentials after the fixed schedule). */
    log_scaling(div->log_a, last ? div->saved_f_ba : div->f_ba, n, eps, div->hx);
    log_scaling(div->log_b, last ? div->saved_g_ab : div->g_ab, m, eps, div->hy);
    if (div->debias) {
        log_scaling(div->log_a, last ? div->saved_f_aa : div->f_aa, n, eps, div->hx + n);
        log_scaling(div->log_b, last ? div->saved_g_bb : div->g_bb, m, eps, div->hy + m);
    }
    const int other = side == OTK_MPI_SIDE_X ? OTK_MPI_SIDE_Y : OTK_MPI_SIDE_X;
    const double *own_h = side == OTK_MPI_SIDE_X ? div->hx : div->hy;
    if (last) {
        const double *log_w = side == OTK_MPI_SIDE_X ? div->log_a : div->log_b;
        otk__last_step_scaling(eps, div->rho, log_w,
                               side == OTK_MPI_SIDE_X ? div->f_ba : div->g_ab, len, 1, div->u);
        if (div->debias)
            otk__last_step_scaling(eps, div->rho, log_w,
                                   side == OTK_MPI_SIDE_X ? div->f_aa : div->g_bb, len, 1,
                                   div->u + len);
        own_h = div->u;
    }
    otk_mpi__task t[2] = {{side, other, 0, 1, OTK_REDUCE_GRAD, d, own_h, out},
                          {side, side, 1, 1, OTK_REDUCE_GRAD, d, own_h + len, div->tmp}};
    const int slots = div->debias ? 2 : 1;
    if ((st = otk_mpi__ring_pass(&div->R, eps, t, div->debias ? 2 : 1, div->hx, slots, div->hy,
                                 slots)))
        return st;
    if (div->debias)
        for (size_t k = 0; k < len * d; k++)
            out[k] -= div->tmp[k];
    return OTK_SUCCESS;
}

otk_status otk_mpi_divergence_grad_x(otk_mpi_divergence *div, double *grad_x)
{
    return point_gradient(div, OTK_MPI_SIDE_X, grad_x, "otk_mpi_divergence_grad_x");
}

otk_status otk_mpi_divergence_grad_y(otk_mpi_divergence *div, double *grad_y)
{
    return point_gradient(div, OTK_MPI_SIDE_Y, grad_y, "otk_mpi_divergence_grad_y");
}

/* ∇_w of the value for one side (otkit/divergence.h); the balanced envelope
 * form subtracts the global mean.  After the fixed schedule: the partial
 * derivative of the value's formula (the weights enter the final step's
 * soft-mins only through the detached arguments), as the serial object. */
static otk_status weight_gradient(otk_mpi_divergence *div, const double *pot, const double *self,
                                  size_t len, size_t len_global, double *grad, const char *fn)
{
    otk_status st = require_solved(div, grad, len, fn);
    if (st)
        return st;
    const double rho = div->rho, eps = div->eps;
    if (div->last_step) {
        for (size_t i = 0; i < len; i++) {
            if (isinf(rho))
                grad[i] = div->debias ? pot[i] - self[i] : pot[i];
            else if (div->debias) /* (ρ+ε/2)(e^{−self/ρ} − e^{−pot/ρ}) */
                grad[i] = (rho + 0.5 * eps) * (expm1(-self[i] / rho) - expm1(-pot[i] / rho));
            else /* (ρ+ε/2)(1 − e^{−pot/ρ}) */
                grad[i] = -(rho + 0.5 * eps) * expm1(-pot[i] / rho);
        }
        return OTK_SUCCESS;
    }
    if (isinf(rho)) {
        double mean = 0.0;
        for (size_t i = 0; i < len; i++) {
            grad[i] = div->debias ? pot[i] - self[i] : pot[i];
            mean += grad[i];
        }
        if ((st = otk_mpi__global_sums(&div->R, &mean, 1, &mean)))
            return st;
        mean /= (double)len_global;
        for (size_t i = 0; i < len; i++)
            grad[i] -= mean;
        return OTK_SUCCESS;
    }
    for (size_t i = 0; i < len; i++) {
        if (div->debias)
            grad[i] = (rho + eps) * (expm1(-self[i] / rho) - expm1(-pot[i] / rho));
        else
            grad[i] = -0.5 * eps - (rho + eps) * expm1(-pot[i] / rho);
    }
    return OTK_SUCCESS;
}

otk_status otk_mpi_divergence_grad_a(otk_mpi_divergence *div, double *grad_a)
{
    return weight_gradient(div, div ? div->f_ba : NULL, div ? div->f_aa : NULL,
                           div ? div->R.n_local : 0, div ? div->R.n : 0, grad_a,
                           "otk_mpi_divergence_grad_a");
}

otk_status otk_mpi_divergence_grad_b(otk_mpi_divergence *div, double *grad_b)
{
    return weight_gradient(div, div ? div->g_ab : NULL, div ? div->g_bb : NULL,
                           div ? div->R.m_local : 0, div ? div->R.m : 0, grad_b,
                           "otk_mpi_divergence_grad_b");
}
