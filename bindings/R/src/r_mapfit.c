/*
 * r_mapfit.c — otkit::monge_gap() (otkit/monge_gap.h) and the transport maps
 * of otkit/mapfit.h: fit_map(), predict(), save_map(), load_map().
 *
 * A fitted map lives in an external pointer of its own (tag "otkit_map")
 * with a finalizer, so the R object that holds it owns it.  Such a pointer
 * does not survive saveRDS()/load(): it comes back NULL and every entry
 * point refuses it with a message pointing to save_map()/load_map().
 */
#include "otkr.h"

#include <math.h>
#include <string.h>

#define NUM(v) PROTECT(Rf_ScalarReal(v))
#define INT(v) PROTECT(Rf_ScalarInteger(v))

static void map_finalize(SEXP ptr)
{
    otk_map_free((otk_map *)R_ExternalPtrAddr(ptr));
    R_ClearExternalPtr(ptr);
}

/* A new external pointer owning `map` (PROTECTed by the caller). */
static SEXP map_wrap(otk_map *map)
{
    SEXP ptr = PROTECT(R_MakeExternalPtr(map, Rf_install("otkit_map"), R_NilValue));
    R_RegisterCFinalizerEx(ptr, map_finalize, TRUE);
    UNPROTECT(1);
    return ptr;
}

static otk_map *map_get(SEXP ptr)
{
    otk_map *map;
    if (TYPEOF(ptr) != EXTPTRSXP || R_ExternalPtrTag(ptr) != Rf_install("otkit_map"))
        Rf_errorcall(R_NilValue, "otkit: map is not an otkit map");
    map = (otk_map *)R_ExternalPtrAddr(ptr);
    if (map == NULL)
        Rf_errorcall(R_NilValue,
                     "otkit: this map's C object is gone (maps restored by readRDS()/load() "
                     "lose it): use save_map() and load_map()");
    return map;
}

SEXP otkr_monge_gap(SEXP x, SEXP tx, SEXP w, SEXP cost, SEXP opt)
{
    otk_monge_gap_params par;
    otk_monge_gap_result res;
    size_t n, d, nt, dt;
    const double *xr = otkr_rowmajor(x, "x", &n, &d, 0);
    const double *tr = otkr_rowmajor(tx, "tx", &nt, &dt, d);
    const double *wv;
    double *gtx = NULL, *gx = NULL;
    int st;

    if (nt != n)
        Rf_errorcall(R_NilValue, "otkit: tx has %zu rows, x has %zu (tx holds T(x), row by row)",
                     nt, n);
    wv = otkr_vector_opt(w, "w", n);
    otk_monge_gap_params_default(&par);
    par.ground = otkr_ground(cost, "cost");
    par.power = otkr_opt_num(opt, "power");
    par.eps = otkr_opt_num(opt, "eps");
    par.relative_eps = otkr_opt_num(opt, "relative_eps");
    par.relative_to = (otk_relative_to)otkr_opt_int(opt, "relative_to");
    par.tol = otkr_opt_num(opt, "tol");
    par.max_iter = otkr_opt_int(opt, "max_iter");
    par.threads = otkr_opt_int(opt, "threads");
    par.cache_bytes = (size_t)(otkr_opt_num(opt, "cache_mb") * 1048576.0);
    par.backend = (otk_backend)otkr_opt_int(opt, "backend");
    par.truncate = otkr_opt_num(opt, "truncate");
    if (otkr_opt_int(opt, "grad_tx"))
        gtx = otkr_scratch(n * d);
    if (otkr_opt_int(opt, "grad_x"))
        gx = otkr_scratch(n * d);
    /* The one-shot form allocates and frees its own workspace inside the
     * call, and nothing here can longjmp while it runs. */
    st = otk_monge_gap_compute(n, d, xr, tr, wv, &par, &res, gtx, gx);
    otkr_check(st);
    {
        const char *names[] = {"value", "displacement", "ot_ent", "eps", "lower_bound",
                               "iterations", "marginal_error", "status", "grad_tx", "grad_x",
                               "backend", "truncation_bound"};
        SEXP vals[12], out;
        vals[0] = NUM(res.monge_gap);
        vals[1] = NUM(res.displacement);
        vals[2] = NUM(res.ot_ent);
        vals[3] = NUM(res.eps);
        vals[4] = NUM(res.lower_bound);
        vals[5] = INT(res.iterations);
        vals[6] = NUM(res.marginal_error);
        vals[7] = INT(st);
        vals[8] = gtx ? PROTECT(otkr_matrix_out(gtx, n, d)) : R_NilValue;
        vals[9] = gx ? PROTECT(otkr_matrix_out(gx, n, d)) : R_NilValue;
        vals[10] = PROTECT(Rf_mkString(otk_backend_name(res.backend))); /* AUTO resolved */
        vals[11] = NUM(res.truncation_bound);
        out = otkr_named_list(12, names, vals);
        UNPROTECT(10 + (gtx != NULL) + (gx != NULL));
        return out;
    }
}

static SEXP fit_result(const otk_map_fit_result *r, int entropic, int st)
{
    const char *names[] = {"loss",      "divergence", "monge_gap",     "lambda",
                           "iterations", "evaluations", "inner_not_converged", "grad_norm",
                           "status",    "blur",       "eps",           "monge_gap_eps",
                           "lambda_target"};
    SEXP vals[13], out;
    if (entropic) {
        /* The entropic map is not trained: only the status means something. */
        int k;
        for (k = 0; k < 8; k++)
            vals[k] = k < 4 || k == 7 ? NUM(NA_REAL) : INT(NA_INTEGER);
        for (k = 9; k < 13; k++)
            vals[k] = NUM(NA_REAL);
    } else {
        vals[0] = NUM(r->loss);
        vals[1] = NUM(r->divergence);
        vals[2] = NUM(r->monge_gap);
        vals[3] = NUM(r->lambda);
        vals[4] = INT(r->iterations);
        vals[5] = INT(r->evaluations);
        vals[6] = INT(r->inner_not_converged);
        vals[7] = NUM(r->grad_norm);
        /* The settings used, derived ones resolved (NA where not evaluated). */
        vals[9] = NUM(r->blur);
        vals[10] = NUM(isnan(r->eps) ? NA_REAL : r->eps);
        vals[11] = NUM(isnan(r->monge_gap_eps) ? NA_REAL : r->monge_gap_eps);
        vals[12] = NUM(r->lambda_target);
    }
    vals[8] = INT(st);
    out = otkr_named_list(13, names, vals);
    UNPROTECT(13);
    return out;
}

/* Returns list(ptr, fit).  family: 0 affine, 1 mlp, 2 entropic. */
SEXP otkr_fit_map(SEXP x, SEXP y, SEXP family, SEXP hidden, SEXP opt)
{
    size_t n, m, d, dy, k, nh;
    const double *xr = otkr_rowmajor(x, "x", &n, &d, 0);
    const double *yr = otkr_rowmajor(y, "y", &m, &dy, d);
    int fam = Rf_asInteger(family), st;
    otk_map *map = NULL;
    otk_map_fit_result res;
    otk_map_fit_params par;
    size_t widths[OTK_MAP_MAX_HIDDEN];
    SEXP ptr, fit, out;
    const char *names[] = {"ptr", "fit"};
    SEXP vals[2];

    memset(&res, 0, sizeof res);
    otk_map_fit_params_default(&par);
    par.threads = otkr_opt_int(opt, "threads");
    par.divergence.blur = otkr_opt_num(opt, "blur");
    if (fam == OTK_MAP_FAMILY_ENTROPIC) {
        otk_sinkhorn_params sp;
        otk_sinkhorn_params_default(&sp);
        if (par.divergence.blur > 0.0) /* else the Sinkhorn default */
            sp.blur = par.divergence.blur;
        sp.threads = par.threads;
        st = otk_map_fit_entropic(&map, n, m, d, xr, yr, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, &sp);
        otkr_check(st);
        ptr = PROTECT(map_wrap(map));
    } else {
        SEXP init = otkr_opt(opt, "init");
        const otk_map *src = init != R_NilValue ? map_get(init) : NULL;
        if (src && fam == OTK_MAP_FAMILY_MLP) { /* the architecture of the starting map */
            nh = otk_map_get_hidden(src, widths, OTK_MAP_MAX_HIDDEN);
            otkr_check(otk_map_alloc_mlp(&map, d, nh, widths, otk_map_get_activation(src), 0));
        } else if (fam == OTK_MAP_FAMILY_AFFINE) {
            otkr_check(otk_map_alloc_affine(&map, d));
        } else {
            otk_activation act = (otk_activation)otkr_opt_int(opt, "activation");
            nh = (size_t)XLENGTH(hidden);
            if (nh == 0 || nh > OTK_MAP_MAX_HIDDEN)
                Rf_errorcall(R_NilValue, "otkit: hidden has %zu layers, expected 1 to %d", nh,
                             OTK_MAP_MAX_HIDDEN);
            for (k = 0; k < nh; k++) {
                int wk = INTEGER(hidden)[k];
                if (wk <= 0)
                    Rf_errorcall(R_NilValue, "otkit: hidden[%zu] = %d must be > 0", k + 1, wk);
                widths[k] = (size_t)wk;
            }
            otkr_check(otk_map_alloc_mlp(&map, d, nh, widths, act,
                                         (unsigned long)otkr_opt_num(opt, "seed")));
        }
        /* Owned by R from here on, so an error below cannot leak it. */
        ptr = PROTECT(map_wrap(map));
        if (src) { /* start from a copy of it: fitting leaves `init` as it was */
            if (otk_map_get_family(src) != otk_map_get_family(map) || otk_map_get_dim(src) != d ||
                otk_map_get_n_params(src) != otk_map_get_n_params(map))
                Rf_errorcall(R_NilValue, "otkit: init is not a map of this family and dimension");
            double *theta = (double *)R_alloc(otk_map_get_n_params(src), sizeof(double));
            otkr_check(otk_map_get_params(src, theta));
            otkr_check(otk_map_set_params(map, theta));
        }
        par.seed = (unsigned long)otkr_opt_num(opt, "seed");
        par.lambda = otkr_opt_num(opt, "lambda");
        if (otkr_opt_int(opt, "warmup") > 0) {
            par.lambda_schedule = OTK_LAMBDA_SCHEDULE_WARMUP;
            par.warmup_steps = otkr_opt_int(opt, "warmup");
        }
        par.monge_gap.eps = otkr_opt_num(opt, "mg_eps");
        par.optimizer = (otk_optimizer)otkr_opt_int(opt, "optimizer");
        par.iters = otkr_opt_int(opt, "iters");
        par.batch = (size_t)otkr_opt_int(opt, "batch");
        par.lr = otkr_opt_num(opt, "lr");
        par.lr_schedule = (otk_lr_schedule)otkr_opt_int(opt, "lr_schedule");
        par.monge_gap.relative_eps = otkr_opt_num(opt, "mg_relative_eps");
        par.divergence.cache_bytes = (size_t)(otkr_opt_num(opt, "cache_mb") * 1048576.0);
        par.monge_gap.cache_bytes = par.divergence.cache_bytes;
        st = otk_map_fit(map, n, m, d, xr, yr, &par, &res);
        otkr_check(st);
    }
    fit = PROTECT(fit_result(&res, fam == OTK_MAP_FAMILY_ENTROPIC, st));
    vals[0] = ptr;
    vals[1] = fit;
    out = otkr_named_list(2, names, vals);
    UNPROTECT(2);
    return out;
}

SEXP otkr_map_apply(SEXP ptr, SEXP x, SEXP threads)
{
    otk_map *map = map_get(ptr);
    size_t n, d;
    const double *xr = otkr_rowmajor(x, "newdata", &n, &d, otk_map_get_dim(map));
    double *tx = otkr_scratch(n * d);
    otkr_check(otk_map_apply(map, n, xr, tx, Rf_asInteger(threads)));
    return otkr_matrix_out(tx, n, d);
}

/* list(family, dim, n_params, hidden, activation, params) */
SEXP otkr_map_info(SEXP ptr)
{
    otk_map *map = map_get(ptr);
    otk_map_family fam = otk_map_get_family(map);
    size_t np = otk_map_get_n_params(map), widths[OTK_MAP_MAX_HIDDEN], nh, k;
    const char *names[] = {"family", "dim", "n_params", "hidden", "activation", "params"};
    SEXP vals[6], out;
    int nprot = 0;

    vals[0] = PROTECT(Rf_mkString(otk_map_family_name(fam)));
    vals[1] = PROTECT(Rf_ScalarInteger((int)otk_map_get_dim(map)));
    vals[2] = PROTECT(Rf_ScalarReal((double)np));
    nprot = 3;
    vals[3] = R_NilValue;
    vals[4] = R_NilValue;
    vals[5] = R_NilValue;
    if (fam == OTK_MAP_FAMILY_MLP) {
        nh = otk_map_get_hidden(map, widths, OTK_MAP_MAX_HIDDEN);
        vals[3] = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)nh));
        for (k = 0; k < nh; k++)
            INTEGER(vals[3])[k] = (int)widths[k];
        vals[4] = PROTECT(Rf_mkString(otk_activation_name(otk_map_get_activation(map))));
        nprot += 2;
    }
    if (np > 0) {
        vals[5] = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)np));
        nprot++;
        otkr_check(otk_map_get_params(map, REAL(vals[5])));
    }
    out = otkr_named_list(6, names, vals);
    UNPROTECT(nprot);
    return out;
}

SEXP otkr_map_save(SEXP ptr, SEXP path)
{
    otk_map *map = map_get(ptr);
    otkr_check(otk_map_save(map, Rf_translateChar(STRING_ELT(path, 0))));
    return R_NilValue;
}

SEXP otkr_map_load(SEXP path)
{
    otk_map *map = NULL;
    otkr_check(otk_map_load(&map, Rf_translateChar(STRING_ELT(path, 0))));
    return map_wrap(map);
}
