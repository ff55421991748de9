/*
 * r_divergence.c — otkit::sinkhorn_divergence() (otkit/divergence.h) on point
 * clouds or on three dense costs, with the analytic gradients.
 */
#include "otkr.h"

#include <math.h>
#include <stdint.h>

#define NUM(v) PROTECT(Rf_ScalarReal(v))
#define INT(v) PROTECT(Rf_ScalarInteger(v))

static void read_params(SEXP opt, otk_divergence_params *par)
{
    otk_divergence_params_default(par);
    OTKR_READ_SOLVER(opt, par);
    par->rho = otkr_opt_num(opt, "rho");
    par->debias = otkr_opt_int(opt, "debias");
    par->cache_bytes = (size_t)(otkr_opt_num(opt, "cache_mb") * 1048576.0);
}

/* pi_ab applied to the matrix opt$name (rows `rows`), axis 0 or 1, or its
 * barycentric projection; R_NilValue when the option is NULL. */
static SEXP plan_product(otk_divergence *div, SEXP opt, const char *name, int axis, int bary,
                         size_t rows, size_t out_rows)
{
    SEXP M = otkr_opt(opt, name);
    size_t r, k;
    const double *Mr;
    double *out;
    if (M == R_NilValue)
        return R_NilValue;
    Mr = otkr_rowmajor(M, name, &r, &k, 0);
    if (r != rows)
        Rf_errorcall(R_NilValue, "otkit: %s has %zu rows, expected %zu", name, r, rows);
    out = otkr_scratch(out_rows * k);
    if (bary)
        otkr_check(otk_divergence_barycentric(div, k, Mr, out));
    else
        otkr_check(otk_divergence_plan_apply(div, axis, k, Mr, out));
    return otkr_matrix_out(out, out_rows, k);
}

/* Solve, read the gradients asked for in opt$grad (logical a, b, x, y) and
 * build the result list.  d = 0 for dense costs (no point gradients).  pr:
 * the progress callback the object was allocated with, or NULL; slot: where the
 * planned object's trampoline looks for it (NULL for the one-shot calls),
 * cleared as soon as the solve returns, before anything can raise. */
static SEXP solve_and_collect(otk_divergence *div, SEXP a, SEXP b, size_t n, size_t m,
                              size_t d, SEXP gradflags, SEXP opt, otkr_progress *pr,
                              otkr_progress **slot)
{
    otk_divergence_result res;
    const double *wa = otkr_vector_opt(a, "a", n);
    const double *wb = otkr_vector_opt(b, "b", m);
    SEXP grad = PROTECT(Rf_coerceVector(gradflags, LGLSXP));
    SEXP gv[4] = {R_NilValue, R_NilValue, R_NilValue, R_NilValue};
    double *buf;
    int k, nprot = 1;

    SEXP pv[8] = {R_NilValue, R_NilValue, R_NilValue, R_NilValue,
                  R_NilValue, R_NilValue, R_NilValue, R_NilValue};
    const double *pot[4];
    int st;

    if (slot)
        *slot = pr;
    st = otk_divergence_solve(div, wa, wb, &res);
    if (slot)
        *slot = NULL;
    if (pr)
        otkr_progress_end(pr);
    otkr_check(st);
    /* The potentials (GeomLoss gauge), then what opt asks of the plan pi_ab. */
    otkr_check(otk_divergence_potentials(div, &pot[0], &pot[1], &pot[2], &pot[3]));
    for (k = 0; k < 4; k++)
        if (pot[k]) {
            pv[k] = PROTECT(otkr_vector_out(pot[k], (k == 0 || k == 2) ? n : m));
            nprot++;
        }
    if (opt != R_NilValue && otkr_opt_int(opt, "plan")) {
        double *P;
        if (n > SIZE_MAX / m)
            Rf_errorcall(R_NilValue, "otkit: the plan (%zu x %zu) is too large", n, m);
        P = otkr_scratch(n * m);
        otkr_check(otk_divergence_plan(div, P));
        pv[4] = PROTECT(otkr_matrix_out(P, n, m));
        nprot++;
    }
    if (opt != R_NilValue) {
        pv[5] = PROTECT(plan_product(div, opt, "plan_apply", 0, 0, m, n));
        pv[6] = PROTECT(plan_product(div, opt, "plan_apply_t", 1, 0, n, m));
        pv[7] = PROTECT(plan_product(div, opt, "barycentric_Y", 0, 1, m, n));
        nprot += 3;
    }
    for (k = 0; k < 4; k++) {
        size_t rows = (k == 0 || k == 2) ? n : m;
        if (!LOGICAL(grad)[k])
            continue;
        if (k >= 2 && d == 0)
            continue; /* the R side only asks for point gradients of point clouds */
        buf = otkr_scratch(k < 2 ? rows : rows * d);
        switch (k) {
        case 0: otkr_check(otk_divergence_grad_a(div, buf)); break;
        case 1: otkr_check(otk_divergence_grad_b(div, buf)); break;
        case 2: otkr_check(otk_divergence_grad_x(div, buf)); break;
        default: otkr_check(otk_divergence_grad_y(div, buf)); break;
        }
        gv[k] = PROTECT(k < 2 ? otkr_vector_out(buf, rows) : otkr_matrix_out(buf, rows, d));
        nprot++;
    }
    {
        const char *names[] = {"value", "eps", "rho", "mass_a", "mass_b", "marginal_error",
                               "iterations", "annealing_iterations", "status",
                               "grad_a", "grad_b", "grad_x", "grad_y", "update",
                               "scale_cost", "f_ba", "g_ab", "f_aa", "g_bb", "plan",
                               "plan_apply", "plan_apply_t", "barycentric", "backend",
                               "truncation_bound", "stopped"};
        SEXP vals[26];
        SEXP out;
        vals[0] = NUM(res.divergence);
        vals[1] = NUM(res.eps);
        vals[2] = NUM(res.rho);
        vals[3] = NUM(res.mass_a);
        vals[4] = NUM(res.mass_b);
        vals[5] = NUM(res.marginal_error);
        vals[6] = INT(res.iterations);
        vals[7] = INT(res.annealing_iterations);
        vals[8] = INT((int)res.status);
        for (k = 0; k < 4; k++)
            vals[9 + k] = gv[k];
        vals[13] = PROTECT(Rf_mkString(otk_update_name(res.update))); /* AUTO resolved */
        vals[14] = NUM(res.scale_cost);
        for (k = 0; k < 8; k++)
            vals[15 + k] = pv[k];
        vals[23] = PROTECT(Rf_mkString(otk_backend_name(res.backend))); /* AUTO resolved */
        vals[24] = NUM(res.truncation_bound);
        vals[25] = PROTECT(Rf_ScalarLogical(st == OTK_CONTINUE));
        out = otkr_named_list(26, names, vals);
        UNPROTECT(14 + nprot);
        return out;
    }
}

/* opt's first element is `grad` (see R/divergence.R). */
SEXP otkr_divergence(SEXP x, SEXP y, SEXP a, SEXP b, SEXP cost, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    otk_divergence_params par;
    size_t n, m, d, dy;
    const double *xr = otkr_rowmajor(x, "x", &n, &d, 0);
    const double *yr = otkr_rowmajor(y, "y", &m, &dy, d);
    otk_ground ground = otkr_ground(cost, "cost");
    otkr_progress pr;
    SEXP out;

    read_params(opt, &par);
    PROTECT(otkr_progress_init(&pr, otkr_opt(opt, "callback"), &par.progress,
                               &par.progress_ctx));
    otkr_check(otk_divergence_alloc_points(&h->divergence, n, m, d, xr, yr, ground,
                                           otkr_opt_num(opt, "power"), &par));
    out = PROTECT(
        solve_and_collect(h->divergence, a, b, n, m, d, otkr_opt(opt, "grad"), opt, &pr, NULL));
    otkr_holder_free(hp);
    UNPROTECT(3);
    return out;
}

SEXP otkr_divergence_matrix(SEXP Cxy, SEXP Cxx, SEXP Cyy, SEXP a, SEXP b, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    otk_divergence_params par;
    size_t n, m, r, c;
    const double *M;
    otkr_progress pr;
    SEXP out;

    read_params(opt, &par);
    PROTECT(otkr_progress_init(&pr, otkr_opt(opt, "callback"), &par.progress,
                               &par.progress_ctx));
    /* The row-major copies live in R_alloc memory until this call returns,
     * after the costs that borrow them are freed. */
    M = otkr_rowmajor(Cxy, "C_xy", &n, &m, 0);
    otkr_check(otk_cost_dense(&h->cost[0], n, m, M, m));
    if (Cxx != R_NilValue) {
        M = otkr_rowmajor(Cxx, "C_xx", &r, &c, 0);
        if (r != n || c != n)
            Rf_errorcall(R_NilValue, "otkit: C_xx is %zu x %zu, expected %zu x %zu (C_xy has %zu rows)",
                         r, c, n, n, n);
        otkr_check(otk_cost_dense(&h->cost[1], n, n, M, n));
    }
    if (Cyy != R_NilValue) {
        M = otkr_rowmajor(Cyy, "C_yy", &r, &c, 0);
        if (r != m || c != m)
            Rf_errorcall(R_NilValue, "otkit: C_yy is %zu x %zu, expected %zu x %zu (C_xy has %zu columns)",
                         r, c, m, m, m);
        otkr_check(otk_cost_dense(&h->cost[2], m, m, M, m));
    }
    otkr_check(otk_divergence_alloc_costs(&h->divergence, h->cost[0], h->cost[1], h->cost[2],
                                          &par));
    out = PROTECT(
        solve_and_collect(h->divergence, a, b, n, m, 0, otkr_opt(opt, "grad"), opt, &pr, NULL));
    otkr_holder_free(hp);
    UNPROTECT(3);
    return out;
}

/* ------------------------------------------------ the planned object */

/* The planned object: the divergence and the progress report of the solve
 * running, if it brought a callback.  The trampoline is installed at alloc
 * with the object as its context (as in the Python binding), so that each
 * divergence_solve may bring its own callback. */
typedef struct {
    otk_divergence *div;
    otkr_progress *current;
} div_object;

static int div_progress(const otk_progress *info, void *ctx)
{
    div_object *o = ctx;
    return o->current ? otkr_progress_fn(info, o->current) : 0;
}

static void div_finalize(SEXP ptr)
{
    div_object *o = R_ExternalPtrAddr(ptr);
    if (o) {
        otk_divergence_free(o->div);
        free(o);
    }
    R_ClearExternalPtr(ptr);
}

static div_object *object_of(SEXP ptr)
{
    div_object *o;
    if (TYPEOF(ptr) != EXTPTRSXP || (o = R_ExternalPtrAddr(ptr)) == NULL || o->div == NULL)
        Rf_errorcall(R_NilValue, "otkit: div is not a valid divergence object (made in this "
                                 "session by Divergence())");
    return o;
}

static otk_divergence *div_of(SEXP ptr)
{
    return object_of(ptr)->div;
}

/* Divergence(): the object made once (alloc_points copies the points and
 * builds its costs), in an external pointer freed by the garbage collector. */
SEXP otkr_divergence_new(SEXP x, SEXP y, SEXP cost, SEXP opt)
{
    otk_divergence_params par;
    otk_divergence *div = NULL;
    size_t n, m, d, dy;
    const double *xr = otkr_rowmajor(x, "x", &n, &d, 0);
    const double *yr = otkr_rowmajor(y, "y", &m, &dy, d);
    otk_ground ground = otkr_ground(cost, "cost");
    SEXP ptr = PROTECT(R_MakeExternalPtr(NULL, R_NilValue, R_NilValue));

    div_object *o = calloc(1, sizeof *o);

    if (!o)
        Rf_errorcall(R_NilValue, "otkit: out of memory for the divergence object");
    R_SetExternalPtrAddr(ptr, o);
    R_RegisterCFinalizerEx(ptr, div_finalize, TRUE);
    read_params(opt, &par);
    par.progress = div_progress;
    par.progress_ctx = o;
    otkr_check(otk_divergence_alloc_points(&div, n, m, d, xr, yr, ground,
                                           otkr_opt_num(opt, "power"), &par));
    o->div = div;
    UNPROTECT(1);
    return ptr;
}

SEXP otkr_divergence_set_points(SEXP ptr, SEXP x, SEXP y, SEXP shape)
{
    otk_divergence *div = div_of(ptr);
    size_t n = (size_t)INTEGER(shape)[0], m = (size_t)INTEGER(shape)[1];
    size_t d = (size_t)INTEGER(shape)[2], r, c;
    const double *xr = NULL, *yr = NULL;
    if (x != R_NilValue) {
        xr = otkr_rowmajor(x, "x", &r, &c, d);
        if (r != n)
            Rf_errorcall(R_NilValue, "otkit: x has %zu rows, expected %zu", r, n);
    }
    if (y != R_NilValue) {
        yr = otkr_rowmajor(y, "y", &r, &c, d);
        if (r != m)
            Rf_errorcall(R_NilValue, "otkit: y has %zu rows, expected %zu", r, m);
    }
    otkr_check(otk_divergence_set_points(div, xr, yr));
    return R_NilValue;
}

SEXP otkr_divergence_solve(SEXP ptr, SEXP a, SEXP b, SEXP shape, SEXP grad, SEXP callback)
{
    div_object *o = object_of(ptr);
    otkr_progress pr;
    otk_progress_fn fn = NULL;
    void *ctx = NULL;
    SEXP out;

    PROTECT(otkr_progress_init(&pr, callback, &fn, &ctx));
    out = PROTECT(solve_and_collect(o->div, a, b, (size_t)INTEGER(shape)[0],
                                    (size_t)INTEGER(shape)[1], (size_t)INTEGER(shape)[2], grad,
                                    R_NilValue, callback != R_NilValue ? &pr : NULL,
                                    callback != R_NilValue ? &o->current : NULL));
    UNPROTECT(2);
    return out;
}

/* what: 0 P M (M has m rows), 1 t(P) M (n rows), 2 the barycentric
 * projection of Y (m rows), for the cross problem's plan at the last solve. */
SEXP otkr_divergence_plan(SEXP ptr, SEXP M, SEXP what, SEXP shape)
{
    otk_divergence *div = div_of(ptr);
    size_t n = (size_t)INTEGER(shape)[0], m = (size_t)INTEGER(shape)[1], r, k;
    const int w = Rf_asInteger(what);
    const size_t rows = w == 1 ? n : m, out_rows = w == 1 ? m : n;
    const char *name = w == 2 ? "Y" : "M";
    const double *Mr = otkr_rowmajor(M, name, &r, &k, 0);
    double *out;
    if (r != rows)
        Rf_errorcall(R_NilValue, "otkit: %s has %zu rows, expected %zu", name, r, rows);
    out = otkr_scratch(out_rows * k);
    if (w == 2)
        otkr_check(otk_divergence_barycentric(div, k, Mr, out));
    else
        otkr_check(otk_divergence_plan_apply(div, w, k, Mr, out));
    return otkr_matrix_out(out, out_rows, k);
}

/* what: 0 potentials (list f_ba, g_ab, f_aa, g_bb), 1 the transport cost,
 * 2 displacement_x, 3 displacement_y. */
SEXP otkr_divergence_query(SEXP ptr, SEXP what, SEXP shape)
{
    otk_divergence *div = div_of(ptr);
    size_t n = (size_t)INTEGER(shape)[0], m = (size_t)INTEGER(shape)[1];
    size_t d = (size_t)INTEGER(shape)[2];
    int w = Rf_asInteger(what);
    if (w == 0) {
        const double *p[4];
        const char *names[] = {"f_ba", "g_ab", "f_aa", "g_bb"};
        SEXP vals[4], out;
        int k;
        otkr_check(otk_divergence_potentials(div, &p[0], &p[1], &p[2], &p[3]));
        for (k = 0; k < 4; k++)
            vals[k] = PROTECT(p[k] ? otkr_vector_out(p[k], (k % 2) ? m : n) : R_NilValue);
        out = otkr_named_list(4, names, vals);
        UNPROTECT(4);
        return out;
    }
    if (w == 1) {
        double v;
        otkr_check(otk_divergence_transport_cost(div, &v));
        return Rf_ScalarReal(v);
    }
    {
        size_t rows = w == 2 ? n : m;
        double *buf = otkr_scratch(rows * d);
        otkr_check(w == 2 ? otk_divergence_displacement_x(div, buf)
                          : otk_divergence_displacement_y(div, buf));
        return otkr_matrix_out(buf, rows, d);
    }
}

/* A batch (otkit/batch.h): x, y, a, b are the row-major (B, n, d), (B, m,
 * d), (B, n), (B, m) arrays as plain double vectors (R/divergence.R permutes
 * R's arrays), dims = c(B, n, m, d); the gradients come back the same way. */
SEXP otkr_divergence_batch(SEXP x, SEXP y, SEXP a, SEXP b, SEXP dims, SEXP cost, SEXP opt)
{
    otk_divergence_params par;
    const size_t B = (size_t)INTEGER(dims)[0], n = (size_t)INTEGER(dims)[1];
    const size_t m = (size_t)INTEGER(dims)[2], d = (size_t)INTEGER(dims)[3];
    const otk_ground ground = otkr_ground(cost, "cost");
    SEXP grad = PROTECT(Rf_coerceVector(otkr_opt(opt, "grad"), LGLSXP));
    const size_t glen[4] = {n, m, n * d, m * d}; /* a, b, x, y per problem */
    SEXP gv[4];
    double *gp[4];
    otk_divergence_result *res = (otk_divergence_result *)R_alloc(B, sizeof *res);
    int k, nprot = 1;
    size_t q;

    read_params(opt, &par);
    for (k = 0; k < 4; k++) {
        gv[k] = R_NilValue;
        gp[k] = NULL;
        if (LOGICAL(grad)[k]) {
            gv[k] = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)(B * glen[k])));
            gp[k] = REAL(gv[k]);
            nprot++;
        }
    }
    otkr_check(otk_divergence_batch(B, n, m, d, REAL(x), REAL(y),
                                    a == R_NilValue ? NULL : REAL(a),
                                    b == R_NilValue ? NULL : REAL(b), ground,
                                    otkr_opt_num(opt, "power"), &par, res, gp[2], gp[3], gp[0],
                                    gp[1]));
    {
        const char *names[] = {"value", "eps", "rho", "mass_a", "mass_b", "marginal_error",
                               "scale_cost", "iterations", "annealing_iterations", "status",
                               "update", "grad_a", "grad_b", "grad_x", "grad_y"};
        SEXP vals[15];
        SEXP out;
        for (k = 0; k < 7; k++)
            vals[k] = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)B));
        for (k = 7; k < 10; k++)
            vals[k] = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)B));
        for (q = 0; q < B; q++) {
            const otk_divergence_result *r = &res[q];
            REAL(vals[0])[q] = r->divergence;
            REAL(vals[1])[q] = r->eps;
            REAL(vals[2])[q] = r->rho;
            REAL(vals[3])[q] = r->mass_a;
            REAL(vals[4])[q] = r->mass_b;
            REAL(vals[5])[q] = r->marginal_error;
            REAL(vals[6])[q] = r->scale_cost;
            INTEGER(vals[7])[q] = r->iterations;
            INTEGER(vals[8])[q] = r->annealing_iterations;
            INTEGER(vals[9])[q] = (int)r->status;
        }
        vals[10] = PROTECT(Rf_mkString(otk_update_name(res[0].update))); /* shared */
        for (k = 0; k < 4; k++)
            vals[11 + k] = gv[k];
        out = otkr_named_list(15, names, vals);
        UNPROTECT(11 + nprot);
        return out;
    }
}

SEXP otkr_geomloss_ground(SEXP p)
{
    otk_ground g;
    double power = 0.0;
    SEXP out;
    otkr_check(otk_divergence_geomloss_ground(Rf_asReal(p), &g, &power));
    out = PROTECT(Rf_allocVector(VECSXP, 2));
    SET_VECTOR_ELT(out, 0, Rf_mkString(otk_ground_name(g)));
    SET_VECTOR_ELT(out, 1, Rf_ScalarReal(power));
    UNPROTECT(1);
    return out;
}
