/*
 * r_exact.c — otkit::emd() / emd2() (otkit/emd.h: the network simplex on a
 * cost matrix or point clouds), wasserstein_1d() and sliced_wasserstein()
 * (otkit/sliced.h).  The solvers live in the holder, so an R error unwinding
 * out of these calls frees them.
 */
#include "otkr.h"

#define NUM(v) PROTECT(Rf_ScalarReal(v))
#define INT(v) PROTECT(Rf_ScalarInteger(v))

SEXP otkr_emd(SEXP C, SEXP x, SEXP y, SEXP a, SEXP b, SEXP cost, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    size_t n, m, d, dy;
    otk_emd_params par;
    otk_emd_params_default(&par);
    par.max_iter = (long)otkr_opt_num(opt, "max_iter");
    par.mass_tol = otkr_opt_num(opt, "mass_tol");
    if (C != R_NilValue) {
        /* R_alloc memory: lives until this call returns, longer than the cost. */
        const double *Crm = otkr_rowmajor(C, "C", &n, &m, 0);
        otkr_check(otk_cost_dense(&h->cost[0], n, m, Crm, m));
    } else {
        const double *xr = otkr_rowmajor(x, "x", &n, &d, 0);
        const double *yr = otkr_rowmajor(y, "y", &m, &dy, d);
        otkr_check(otk_cost_points(&h->cost[0], n, m, d, xr, yr, otkr_ground(cost, "cost"),
                                   otkr_opt_num(opt, "power")));
    }
    const double *wa = otkr_vector_opt(a, "a", n), *wb = otkr_vector_opt(b, "b", m);
    otk_emd_result res;
    otkr_check(otk_emd_alloc(&h->emd, h->cost[0], &par));
    const otk_status st = otk_emd_solve(h->emd, wa, wb, &res);
    otkr_check(st);
    const size_t k = res.plan_size;
    size_t *rows = (size_t *)R_alloc(k ? k : 1, sizeof(size_t));
    size_t *cols = (size_t *)R_alloc(k ? k : 1, sizeof(size_t));
    double *mass = otkr_scratch(k ? k : 1), *u = otkr_scratch(n), *v = otkr_scratch(m);
    otkr_check(otk_emd_plan(h->emd, rows, cols, mass));
    otkr_check(otk_emd_potentials(h->emd, u, v));
    SEXP plan = PROTECT(Rf_allocMatrix(REALSXP, (int)n, (int)m));
    SEXP ri = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)k));
    SEXP ci = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)k));
    SEXP mv = PROTECT(otkr_vector_out(mass, k));
    double *P = REAL(plan);
    for (size_t e = 0; e < n * m; e++)
        P[e] = 0.0;
    for (size_t e = 0; e < k; e++) {
        P[rows[e] + cols[e] * n] = mass[e];
        INTEGER(ri)[e] = (int)rows[e] + 1; /* R counts from 1 */
        INTEGER(ci)[e] = (int)cols[e] + 1;
    }
    SEXP vals[] = {NUM(res.value), NUM(res.dual_value), plan, PROTECT(otkr_vector_out(u, n)),
                   PROTECT(otkr_vector_out(v, m)), ri, ci, mv, NUM((double)res.iterations),
                   INT(st), NUM(res.mass_a), NUM(res.mass_b)};
    const char *names[] = {"value", "dual_value", "plan", "u", "v", "i", "j", "mass",
                           "iterations", "status", "mass_a", "mass_b"};
    SEXP out = otkr_named_list(12, names, vals);
    otkr_holder_free(hp);
    UNPROTECT(13);
    return out;
}

SEXP otkr_wasserstein_1d(SEXP x, SEXP y, SEXP a, SEXP b, SEXP opt)
{
    size_t n, m, one;
    const double *xr = otkr_rowmajor(x, "u_values", &n, &one, 1);
    const double *yr = otkr_rowmajor(y, "v_values", &m, &one, 1);
    const double *wa = otkr_vector_opt(a, "u_weights", n), *wb = otkr_vector_opt(b, "v_weights", m);
    const int grad = otkr_opt_int(opt, "grad");
    double value, *gx = NULL, *gy = NULL, *ga = NULL, *gb = NULL;
    if (grad) {
        gx = otkr_scratch(n);
        gy = otkr_scratch(m);
        ga = otkr_scratch(n);
        gb = otkr_scratch(m);
    }
    otkr_check(otk_wasserstein_1d(n, xr, wa, m, yr, wb, otkr_opt_num(opt, "p"), &value, gx, gy,
                                  ga, gb));
    if (!grad)
        return Rf_ScalarReal(value);
    SEXP vals[] = {NUM(value), PROTECT(otkr_vector_out(gx, n)), PROTECT(otkr_vector_out(gy, m)),
                   PROTECT(otkr_vector_out(ga, n)), PROTECT(otkr_vector_out(gb, m))};
    const char *names[] = {"value", "grad_u", "grad_v", "grad_u_weights", "grad_v_weights"};
    SEXP out = otkr_named_list(5, names, vals);
    UNPROTECT(5);
    return out;
}

SEXP otkr_sliced(SEXP x, SEXP y, SEXP a, SEXP b, SEXP projections, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    size_t n, m, d, dy, L, dd;
    const double *xr = otkr_rowmajor(x, "X", &n, &d, 0);
    const double *yr = otkr_rowmajor(y, "Y", &m, &dy, d);
    const double *wa = otkr_vector_opt(a, "a", n), *wb = otkr_vector_opt(b, "b", m);
    const double *dirs = NULL;
    otk_sliced_params par;
    otk_sliced_params_default(&par);
    par.p = otkr_opt_num(opt, "p");
    par.n_projections = (size_t)otkr_opt_int(opt, "n_projections");
    par.directions = (otk_directions)otkr_opt_int(opt, "directions");
    par.seed = (unsigned long)otkr_opt_num(opt, "seed");
    if (projections != R_NilValue) {
        dirs = otkr_rowmajor(projections, "projections", &L, &dd, d);
        par.n_projections = L;
    }
    L = par.n_projections;
    const int grad = otkr_opt_int(opt, "grad");
    double *gx = NULL, *gy = NULL, *ga = NULL, *gb = NULL;
    if (grad) {
        gx = otkr_scratch(n * d);
        gy = otkr_scratch(m * d);
        ga = otkr_scratch(n);
        gb = otkr_scratch(m);
    }
    otk_sliced_result res;
    otkr_check(otk_sliced_alloc(&h->sliced, n, m, d, &par, dirs));
    otkr_check(otk_sliced_eval(h->sliced, xr, wa, yr, wb, &res, gx, gy, ga, gb));
    SEXP vals[] = {NUM(res.value),
                   NUM(res.value_p),
                   NUM(res.max_value),
                   PROTECT(otkr_matrix_out(otk_sliced_directions(h->sliced), L, d)),
                   PROTECT(otkr_vector_out(otk_sliced_projected(h->sliced), L)),
                   grad ? PROTECT(otkr_matrix_out(gx, n, d)) : R_NilValue,
                   grad ? PROTECT(otkr_matrix_out(gy, m, d)) : R_NilValue,
                   grad ? PROTECT(otkr_vector_out(ga, n)) : R_NilValue,
                   grad ? PROTECT(otkr_vector_out(gb, m)) : R_NilValue};
    const char *names[] = {"value",   "value_p", "max_value", "directions", "projected",
                           "grad_X", "grad_Y",  "grad_a",    "grad_b"};
    SEXP out = otkr_named_list(9, names, vals);
    otkr_holder_free(hp);
    UNPROTECT(6 + (grad ? 4 : 0));
    return out;
}
