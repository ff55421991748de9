/*
 * r_entropic_map.c — the entropic map estimator (otkit/entropic_map.h):
 * fit, rebuild from stored data, apply, read back.  The map lives in an R
 * external pointer freed by the garbage collector; a fitted map is read-only.
 */
#include "otkr.h"

#define NUM(v) PROTECT(Rf_ScalarReal(v))

static void emap_finalize(SEXP ptr)
{
    otk_entropic_map_free((otk_entropic_map *)R_ExternalPtrAddr(ptr));
    R_ClearExternalPtr(ptr);
}

static const otk_entropic_map *emap_of(SEXP ptr)
{
    const otk_entropic_map *T;
    if (TYPEOF(ptr) != EXTPTRSXP || (T = R_ExternalPtrAddr(ptr)) == NULL)
        Rf_errorcall(R_NilValue, "otkit: map is not a valid entropic map (made in this "
                                 "session by entropic_map_fit() or entropic_map_from_data())");
    return T;
}

/* x = NULL and g given: rebuild; else fit.  Returns list(ptr, status). */
SEXP otkr_entropic_map_new(SEXP x, SEXP y, SEXP a, SEXP b, SEXP g, SEXP cost, SEXP opt)
{
    otk_sinkhorn_params par;
    otk_entropic_map *T = NULL;
    size_t n = 0, m, d = 0, dy;
    const double *xr = NULL, *yr;
    otk_ground ground = otkr_ground(cost, "cost");
    double power = otkr_opt_num(opt, "power");
    SEXP ptr, out;
    int st;

    if (x != R_NilValue)
        xr = otkr_rowmajor(x, "x", &n, &d, 0);
    yr = otkr_rowmajor(y, "y", &m, &dy, d);
    ptr = PROTECT(R_MakeExternalPtr(NULL, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(ptr, emap_finalize, TRUE);
    if (xr == NULL) {
        st = otk_entropic_map_from_potential(&T, m, dy, yr, otkr_vector_opt(b, "b", m),
                                             otkr_vector_opt(g, "g", m),
                                             otkr_opt_num(opt, "eps"), ground, power);
    } else {
        otk_sinkhorn_params_default(&par);
        par.eps = otkr_opt_num(opt, "eps");
        par.blur = otkr_opt_num(opt, "blur");
        par.schedule = (otk_schedule)otkr_opt_int(opt, "schedule");
        par.scaling = otkr_opt_num(opt, "scaling");
        par.tol = otkr_opt_num(opt, "tol");
        par.max_iter = otkr_opt_int(opt, "max_iter");
        par.threads = otkr_opt_int(opt, "threads");
        OTKR_READ_SCALE(opt, &par);
        st = otk_entropic_map_fit(&T, n, m, d, xr, yr, otkr_vector_opt(a, "a", n),
                                  otkr_vector_opt(b, "b", m), ground, power, &par);
    }
    otkr_check(st);
    R_SetExternalPtrAddr(ptr, T);
    {
        const char *names[] = {"ptr", "status"};
        SEXP vals[2];
        vals[0] = ptr;
        vals[1] = PROTECT(Rf_ScalarInteger(st));
        out = otkr_named_list(2, names, vals);
        UNPROTECT(2);
        return out;
    }
}

SEXP otkr_entropic_map_apply(SEXP ptr, SEXP z, SEXP threads)
{
    const otk_entropic_map *T = emap_of(ptr);
    size_t m, d, k, dz;
    const double *zr;
    double *tz;
    otkr_check(otk_entropic_map_data(T, &m, &d, NULL, NULL, NULL, NULL, NULL, NULL));
    zr = otkr_rowmajor(z, "z", &k, &dz, d);
    tz = otkr_scratch(k * d);
    otkr_check(otk_entropic_map_apply(T, k, zr, tz, Rf_asInteger(threads)));
    return otkr_matrix_out(tz, k, d);
}

SEXP otkr_entropic_map_data(SEXP ptr)
{
    const otk_entropic_map *T = emap_of(ptr);
    size_t m, d;
    const double *y, *b, *g;
    double eps, power;
    otk_ground ground;
    const char *names[] = {"y", "b", "g", "eps", "cost", "power"};
    SEXP vals[6], out;
    otkr_check(otk_entropic_map_data(T, &m, &d, &y, &b, &g, &eps, &ground, &power));
    vals[0] = PROTECT(otkr_matrix_out(y, m, d));
    vals[1] = PROTECT(otkr_vector_out(b, m));
    vals[2] = PROTECT(otkr_vector_out(g, m));
    vals[3] = NUM(eps);
    vals[4] = PROTECT(Rf_mkString(otk_ground_name(ground)));
    vals[5] = NUM(power);
    out = otkr_named_list(6, names, vals);
    UNPROTECT(6);
    return out;
}
