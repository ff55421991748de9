/*
 * r_sinkhorn.c — otkit::sinkhorn() (otkit/sinkhorn.h) on a dense cost matrix
 * or on two point clouds, and potential_convert().
 */
#include "otkr.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define NUM(v) PROTECT(Rf_ScalarReal(v))
#define INT(v) PROTECT(Rf_ScalarInteger(v))

static double *uniform(size_t n)
{
    double *w = otkr_scratch(n);
    size_t i;
    for (i = 0; i < n; i++)
        w[i] = 1.0 / (double)n;
    return w;
}

static void read_params(SEXP opt, otk_sinkhorn_params *par)
{
    otk_sinkhorn_params_default(par);
    OTKR_READ_SOLVER(opt, par);
    par->rho_a = otkr_opt_num(opt, "rho_a");
    par->rho_b = otkr_opt_num(opt, "rho_b");
    par->no_annealing = otkr_opt_int(opt, "no_annealing");
}

/* A batch (otkit/batch.h), laid out as in otkr_divergence_batch: row-major
 * x, y, a, b as plain double vectors, dims = c(B, n, m, d); f and g come back
 * row-major (B, n) and (B, m). */
SEXP otkr_sinkhorn_batch(SEXP x, SEXP y, SEXP a, SEXP b, SEXP dims, SEXP cost, SEXP opt)
{
    otk_sinkhorn_params par;
    const size_t B = (size_t)INTEGER(dims)[0], n = (size_t)INTEGER(dims)[1];
    const size_t m = (size_t)INTEGER(dims)[2], d = (size_t)INTEGER(dims)[3];
    const otk_ground ground = otkr_ground(cost, "cost");
    otk_sinkhorn_result *res = (otk_sinkhorn_result *)R_alloc(B, sizeof *res);
    SEXP f = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)(B * n)));
    SEXP g = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)(B * m)));
    const char *names[] = {"ot_kl", "ot_ent", "ot_lin", "eps", "rho_a", "rho_b", "mass_a",
                           "mass_b", "marginal_error", "scale_cost", "iterations",
                           "annealing_iterations", "status", "update", "f", "g"};
    SEXP vals[16], out;
    size_t q;
    int k;

    read_params(opt, &par);
    otkr_check(otk_sinkhorn_batch(B, n, m, d, REAL(x), REAL(y), a == R_NilValue ? NULL : REAL(a),
                                  b == R_NilValue ? NULL : REAL(b), ground,
                                  otkr_opt_num(opt, "power"), &par, res, REAL(f), REAL(g)));
    for (k = 0; k < 10; k++)
        vals[k] = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)B));
    for (k = 10; k < 13; k++)
        vals[k] = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)B));
    for (q = 0; q < B; q++) {
        const otk_sinkhorn_result *r = &res[q];
        const double v[10] = {r->ot_kl, r->ot_ent, r->ot_lin, r->eps, r->rho_a,
                              r->rho_b, r->mass_a, r->mass_b, r->marginal_error, r->scale_cost};
        for (k = 0; k < 10; k++)
            REAL(vals[k])[q] = v[k];
        INTEGER(vals[10])[q] = r->iterations;
        INTEGER(vals[11])[q] = r->annealing_iterations;
        INTEGER(vals[12])[q] = (int)r->status;
    }
    vals[13] = PROTECT(Rf_mkString(otk_update_name(res[0].update))); /* shared */
    vals[14] = f;
    vals[15] = g;
    out = otkr_named_list(16, names, vals);
    UNPROTECT(16);
    return out;
}

SEXP otkr_sinkhorn(SEXP C, SEXP x, SEXP y, SEXP a, SEXP b, SEXP cost, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    otk_sinkhorn_params par;
    otk_sinkhorn_result res;
    size_t n, m, d = 0, dy;
    const double *wa, *wb;
    double *f, *g, *row, *col;
    int st, gauge, nprot = 1;
    long k;
    SEXP plan = R_NilValue, bary = R_NilValue, callback, history = R_NilValue;
    int want_history, stopped = 0;
    double *hist = NULL;
    size_t hlen = 0, hcap = 0;
    const double *yrow = NULL;

    read_params(opt, &par);
    gauge = otkr_opt_int(opt, "gauge");

    if (C != R_NilValue) {
        /* Row-major copy in R_alloc memory: lives until this call returns,
         * longer than the cost that borrows it (freed below). */
        const double *Crm = otkr_rowmajor(C, "C", &n, &m, 0);
        otkr_check(otk_cost_dense(&h->cost[0], n, m, Crm, m));
    } else {
        const double *xr = otkr_rowmajor(x, "x", &n, &d, 0);
        const double *yr = otkr_rowmajor(y, "y", &m, &dy, d);
        yrow = yr;
        otk_ground ground = otkr_ground(cost, "cost");
        otkr_check(otk_cost_points(&h->cost[0], n, m, d, xr, yr, ground,
                                   otkr_opt_num(opt, "power")));
    }
    wa = otkr_vector_opt(a, "a", n);
    wb = otkr_vector_opt(b, "b", m);
    otkr_check(otk_sinkhorn_alloc(&h->sinkhorn, h->cost[0], &par));
    /* solve() spelled out (set, iterate, get_result: the same iterations),
     * so that a long solve can be interrupted from R.  An interrupt unwinds
     * through R_CheckUserInterrupt; the holder's finalizer frees the solver. */
    otkr_check(otk_sinkhorn_set(h->sinkhorn, wa, wb));
    {
        const double *f0 = otkr_vector_opt(otkr_opt(opt, "init_f"), "init[[1]] (f)", n);
        const double *g0 = otkr_vector_opt(otkr_opt(opt, "init_g"), "init[[2]] (g)", m);
        if (f0 || g0)
            otkr_check(otk_sinkhorn_set_potentials(h->sinkhorn, f0, g0));
    }
    callback = otkr_opt(opt, "callback");
    want_history = otkr_opt_int(opt, "history");
    for (k = 1;; k++) {
        st = otk_sinkhorn_iterate(h->sinkhorn);
        if (st < 0)
            break;
        if (want_history || callback != R_NilValue) {
            otk_progress info;
            otk_sinkhorn_progress_info(h->sinkhorn, &info);
            const double err = info.marginal_error;
            /* NaN until the first measurement at the target eps; from then
             * on every update measures once. */
            if (want_history && !isnan(err)) {
                if (hlen == hcap) {
                    double *grown = otkr_scratch(hcap = hcap ? 2 * hcap : 64);
                    if (hlen > 0)
                        memcpy(grown, hist, hlen * sizeof(double));
                    hist = grown;
                }
                hist[hlen++] = err;
            }
            if (st == OTK_CONTINUE && callback != R_NilValue) {
                /* An error in the callback unwinds; the holder's finalizer
                 * frees the solver. */
                if (otkr_progress_call(callback, &info)) {
                    stopped = 1;
                    break;
                }
            }
        }
        if (st != OTK_CONTINUE)
            break;
        if (k % 16 == 0) /* a few microseconds, against an O(nm) update */
            R_CheckUserInterrupt();
    }
    otkr_check(st);
    otkr_check(otk_sinkhorn_get_result(h->sinkhorn, &res));

    f = otkr_scratch(n);
    g = otkr_scratch(m);
    memcpy(f, otk_sinkhorn_potential_f(h->sinkhorn), n * sizeof(double));
    memcpy(g, otk_sinkhorn_potential_g(h->sinkhorn), m * sizeof(double));
    row = otkr_scratch(n);
    col = otkr_scratch(m);
    otkr_check(otk_sinkhorn_marginals(h->sinkhorn, row, col));
    if (otkr_opt_int(opt, "plan")) {
        double *P;
        if (n > SIZE_MAX / m)
            Rf_errorcall(R_NilValue, "otkit: the plan (%zu x %zu) is too large", n, m);
        P = otkr_scratch(n * m);
        otkr_check(otk_sinkhorn_plan(h->sinkhorn, P));
        plan = PROTECT(otkr_matrix_out(P, n, m));
        nprot++;
    }
    if (otkr_opt_int(opt, "barycentric")) {
        /* Points only (the R side checks): the entropic map estimate
         * sum_j P_ij y_j / sum_j P_ij at each source point. */
        double *B = otkr_scratch(n * d);
        otkr_check(otk_sinkhorn_barycentric(h->sinkhorn, d, yrow, B));
        bary = PROTECT(otkr_matrix_out(B, n, d));
        nprot++;
    }
    if (want_history) {
        history = PROTECT(otkr_vector_out(hist, hlen));
        nprot++;
    }
    otkr_holder_free(hp);
    if (gauge != OTK_GAUGE_GEOMLOSS) {
        otkr_check(otk_potential_convert(n, res.eps, wa ? wa : uniform(n), OTK_GAUGE_GEOMLOSS,
                                         (otk_gauge)gauge, f, f));
        otkr_check(otk_potential_convert(m, res.eps, wb ? wb : uniform(m), OTK_GAUGE_GEOMLOSS,
                                         (otk_gauge)gauge, g, g));
    }
    {
        const char *names[] = {"ot_kl", "ot_ent", "ot_lin", "eps", "rho_a", "rho_b",
                               "mass_a", "mass_b", "marginal_error", "iterations",
                               "annealing_iterations", "status", "f", "g",
                               "row_marginal", "col_marginal", "plan", "barycentric", "update",
                               "stopped", "history", "scale_cost", "backend",
                               "truncation_bound"};
        SEXP vals[24];
        SEXP out;
        vals[0] = NUM(res.ot_kl);
        vals[1] = NUM(res.ot_ent);
        vals[2] = NUM(res.ot_lin);
        vals[3] = NUM(res.eps);
        vals[4] = NUM(res.rho_a);
        vals[5] = NUM(res.rho_b);
        vals[6] = NUM(res.mass_a);
        vals[7] = NUM(res.mass_b);
        vals[8] = NUM(res.marginal_error);
        vals[9] = INT(res.iterations);
        vals[10] = INT(res.annealing_iterations);
        vals[11] = INT((int)res.status);
        vals[12] = PROTECT(otkr_vector_out(f, n));
        vals[13] = PROTECT(otkr_vector_out(g, m));
        vals[14] = PROTECT(otkr_vector_out(row, n));
        vals[15] = PROTECT(otkr_vector_out(col, m));
        vals[16] = plan;
        vals[17] = bary;
        vals[18] = PROTECT(Rf_mkString(otk_update_name(res.update))); /* AUTO resolved */
        vals[19] = PROTECT(Rf_ScalarLogical(stopped));
        vals[20] = history;
        vals[21] = NUM(res.scale_cost);
        vals[22] = PROTECT(Rf_mkString(otk_backend_name(res.backend))); /* AUTO resolved */
        vals[23] = NUM(res.truncation_bound);
        out = otkr_named_list(24, names, vals);
        UNPROTECT(21 + nprot);
        return out;
    }
}

SEXP otkr_potential_convert(SEXP v, SEXP w, SEXP eps, SEXP from, SEXP to)
{
    size_t n;
    SEXP out;
    if (TYPEOF(v) != REALSXP || TYPEOF(w) != REALSXP)
        Rf_errorcall(R_NilValue, "otkit: the potential and the weights must be numeric");
    n = (size_t)XLENGTH(v);
    if ((size_t)XLENGTH(w) != n)
        Rf_errorcall(R_NilValue, "otkit: w has length %lld, the potential %zu",
                     (long long)XLENGTH(w), n);
    out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)n));
    otkr_check(otk_potential_convert(n, Rf_asReal(eps), REAL(w), (otk_gauge)Rf_asInteger(from),
                                     (otk_gauge)Rf_asInteger(to), REAL(v), REAL(out)));
    UNPROTECT(1);
    return out;
}
