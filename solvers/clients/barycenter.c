/* Entropic barycenters by log-domain iterative Bregman projections, generic
 * over the cost kinds (otkit/barycenter.h). */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "otkit/barycenter.h"

/* The error is measured every this many iterations (and after the last). */
#define OTK_BARYCENTER_CHECK 10

void otk_barycenter_params_default(otk_barycenter_params *params)
{
    if (!params)
        return;
    params->eps = 0.01;
    params->max_iter = 1000;
    params->tol = 1e-9;
    params->debias = 0;
    params->threads = 0;
}

/* out = log K e^x (axis 0) or log Kᵀ e^x (axis 1) = −softmin(x)/ε.  The
 * axes are kept apart although C is symmetric, so that a cost whose two
 * sides differ only in rounding still runs the textbook iteration. */
static void log_kernel(const otk_cost *C, int axis, double eps, const double *x, double *out,
                       int threads)
{
    C->ops->softmin(C, axis, eps, x, out, threads);
    const double s = -1.0 / eps;
    for (size_t i = 0; i < C->n; i++)
        out[i] *= s;
}

otk_status otk_barycenter(const otk_cost *C, size_t K, const double *A, const double *weights,
                          const otk_barycenter_params *params, double *out,
                          otk_barycenter_result *res)
{
    otk_barycenter_params par;
    otk_status st;
    if (!C || !A || !out)
        return otk__fail(OTK_ENULL, "otk_barycenter: %s is NULL", !C ? "C" : !A ? "A" : "out");
    otk_barycenter_params_default(&par);
    if (params)
        par = *params;
    if (!(par.eps > 0.0 && isfinite(par.eps)))
        return otk__fail(OTK_EPARAM, "otk_barycenter: params.eps = %g must be finite and > 0",
                         par.eps);
    /* A kernel built for one ε (the mesh heat kernel, otkit/mesh.h) cannot
     * be evaluated at another: refuse up front rather than fail with NaN. */
    if (C->fixed_eps > 0.0 && !(fabs(par.eps - C->fixed_eps) <= 1e-12 * C->fixed_eps))
        return otk__fail(OTK_EPARAM,
                         "otk_barycenter: params.eps = %g differs from the eps = %g this %s cost "
                         "was built for",
                         par.eps, C->fixed_eps, C->ops->kind);
    if (par.max_iter < 1)
        return otk__fail(OTK_EPARAM, "otk_barycenter: params.max_iter = %d must be >= 1",
                         par.max_iter);
    if (!(par.tol >= 0.0))
        return otk__fail(OTK_EPARAM, "otk_barycenter: params.tol = %g must be >= 0", par.tol);
    if (K == 0)
        return otk__fail(OTK_ESIZE, "otk_barycenter: K = 0 histograms");
    const size_t n = C->n;
    if (C->m != n)
        return otk__fail(OTK_ESIZE, "otk_barycenter: the cost is %zu×%zu, a barycenter needs a "
                                    "square cost on one support", n, C->m);
    if (otk__array_overflows(K, n, sizeof(double)))
        return otk__fail(OTK_ESIZE, "otk_barycenter: K = %zu histograms of n = %zu overflow size_t",
                         K, n);
    double mass = 0.0;
    for (size_t k = 0; k < K; k++) {
        char what[48];
        double mk;
        snprintf(what, sizeof what, "A[%zu]", k);
        if ((st = otk__check_weights(what, A + k * n, n, &mk)))
            return st;
        if (k == 0)
            mass = mk;
        else if (fabs(mk - mass) > 1e-9 * fmax(mk, mass))
            return otk__fail(OTK_EMASS, "otk_barycenter: A[%zu] has mass %.17g, A[0] has %.17g "
                                        "(the histograms need equal masses)", k, mk, mass);
    }
    double wsum = (double)K;
    if (weights && (st = otk__check_weights("weights", weights, K, &wsum)))
        return st;

    const int threads = otk__threads(par.threads);
    double *lv = malloc(K * n * sizeof *lv);
    double *lKu = malloc(K * n * sizeof *lKu);
    double *la = malloc(K * n * sizeof *la);
    double *t = malloc(n * sizeof *t), *lu = malloc(n * sizeof *lu);
    double *lbar = malloc(n * sizeof *lbar), *ld = calloc(n, sizeof *ld);
    double *prev = malloc(n * sizeof *prev), *best = malloc(n * sizeof *best);
    if (!lv || !lKu || !la || !t || !lu || !lbar || !ld || !prev || !best) {
        free(best);
        free(prev);
        free(lv);
        free(lKu);
        free(la);
        free(t);
        free(lu);
        free(lbar);
        free(ld);
        return otk__fail(OTK_ENOMEM, "otk_barycenter: out of memory for %zu × %zu", K, n);
    }
    for (size_t i = 0; i < K * n; i++) {
        lv[i] = 0.0;
        la[i] = A[i] > 0.0 ? log(A[i]) : -INFINITY;
    }

    st = OTK_NOT_CONVERGED;
    int it = 0;
    double err = INFINITY, best_err = INFINITY;
    while (it < par.max_iter) {
        it++;
        /* The error costs as many exponentials as an iteration's soft-mins
         * spend outside their kernel products: measure it every
         * OTK_BARYCENTER_CHECK iterations and after the last, as POT does. */
        const int check = it % OTK_BARYCENTER_CHECK == 0 || it == par.max_iter;
        const int keep = (it + 1) % OTK_BARYCENTER_CHECK == 0 || it + 1 == par.max_iter;
        for (size_t i = 0; i < n; i++)
            lbar[i] = 0.0;
        for (size_t k = 0; k < K; k++) {
            const double w = weights ? weights[k] / wsum : 1.0 / (double)K;
            if (w == 0.0)
                continue;
            const double *lak = la + k * n;
            double *lk = lKu + k * n;
            log_kernel(C, 0, par.eps, lv + k * n, t, threads);
            for (size_t i = 0; i < n; i++)
                lu[i] = lak[i] - t[i];
            log_kernel(C, 1, par.eps, lu, lk, threads);
            for (size_t i = 0; i < n; i++)
                lbar[i] += w * lk[i];
        }
        /* err: the plans' second marginals against the barycenter, the change
         * of the barycenter over the last iteration, and (debiased) the
         * residual of d ⊙ K d = bar.  The first term alone vanishes at the
         * first iteration for identical inputs, long before convergence. */
        err = 0.0;
        if (par.debias) {
            for (size_t i = 0; i < n; i++)
                lbar[i] += ld[i];
            log_kernel(C, 1, par.eps, ld, t, threads);
            double e = 0.0;
            for (size_t i = 0; i < n; i++) {
                if (check)
                    e += fabs(exp(ld[i] + t[i]) - exp(lbar[i]));
                ld[i] = 0.5 * (ld[i] + lbar[i] - t[i]);
            }
            err += e / mass;
        }
        if (check) {
            if (it == 1) {
                err = INFINITY;
            } else {
                double e = 0.0;
                for (size_t i = 0; i < n; i++)
                    e += fabs(exp(lbar[i]) - exp(prev[i]));
                err += e / mass;
            }
        }
        if (keep)
            memcpy(prev, lbar, n * sizeof *prev);
        for (size_t k = 0; k < K; k++) {
            const double w = weights ? weights[k] / wsum : 1.0 / (double)K;
            if (w == 0.0)
                continue;
            double *vk = lv + k * n;
            const double *lk = lKu + k * n;
            double e = 0.0;
            for (size_t i = 0; i < n; i++) {
                if (check)
                    e += fabs(exp(vk[i] + lk[i]) - exp(lbar[i]));
                vk[i] = lbar[i] - lk[i];
            }
            err += w * e / mass;
        }
        if (!otk__all_finite(lbar, n) || !(err >= 0.0)) {
            st = otk__fail(OTK_ENUMERIC, "otk_barycenter: a non-finite value appeared at "
                                         "iteration %d (eps = %g)", it, par.eps);
            break;
        }
        if (check && par.tol > 0.0 && err <= par.tol) {
            st = OTK_SUCCESS;
            break;
        }
        /* The best iterate (the smallest error at a check) is what max_iter
         * returns, as every Sinkhorn client does (otkit/sinkhorn.h). */
        if (check && err < best_err) {
            best_err = err;
            memcpy(best, lbar, n * sizeof *best);
        }
    }
    if (st == OTK_NOT_CONVERGED && best_err < err) {
        memcpy(lbar, best, n * sizeof *lbar);
        err = best_err;
    }
    if (st >= 0) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) {
            out[i] = exp(lbar[i]);
            s += out[i];
        }
        if (res) {
            res->iterations = it;
            res->error = err;
            res->mass = s;
        }
    }
    free(lv);
    free(lKu);
    free(la);
    free(t);
    free(lu);
    free(lbar);
    free(ld);
    free(prev);
    free(best);
    return st;
}
