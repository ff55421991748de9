/*
 * r_fdiv.c — otkit::fdiv(), psi() and information_value() (otkit/fdiv.h).
 * Names (kind, reduction, binning) are parsed by the library's name tables.
 * Tables are B x K R matrices (one distribution per row).
 */
#include "otkr.h"

#include <string.h>

static const char *str_arg(SEXP s, const char *argname)
{
    if (TYPEOF(s) != STRSXP || XLENGTH(s) != 1 || STRING_ELT(s, 0) == NA_STRING)
        Rf_errorcall(R_NilValue, "otkit: %s must be one string", argname);
    return CHAR(STRING_ELT(s, 0));
}

SEXP otkr_fdiv(SEXP p, SEXP q, SEXP kind, SEXP reduction, SEXP opt)
{
    otk_fdiv_params par;
    const double *pd, *qd;
    size_t B, K, Bq, Kq;
    double *val, *gp = NULL, *gq = NULL;
    SEXP vals[3], out;
    const char *names[] = {"value", "grad_p", "grad_q"};
    int nprot = 0, logits;

    otk_fdiv_params_default(&par);
    otkr_check(otk_fdiv_kind_from_name(str_arg(kind, "kind"), &par.kind));
    otkr_check(otk_reduction_kind_from_name(str_arg(reduction, "reduction"), &par.reduction));
    if (par.kind == OTK_FDIV_CUSTOM)
        Rf_errorcall(R_NilValue, "otkit: kind \"custom\" (a generator callback) is available "
                                 "from C and Python only");
    par.alpha = otkr_opt_num(opt, "alpha");
    par.tau = otkr_opt_num(opt, "tau");
    par.scale_tau2 = otkr_opt_int(opt, "tau2");
    par.smoothing = otkr_opt_num(opt, "smoothing");
    par.threads = otkr_opt_int(opt, "threads");
    logits = otkr_opt_int(opt, "logits");
    pd = otkr_rowmajor(p, "p", &B, &K, 0);
    qd = otkr_rowmajor(q, "q", &Bq, &Kq, 0);
    if (Bq != B || Kq != K)
        Rf_errorcall(R_NilValue, "otkit: q is %zu x %zu, p is %zu x %zu: they must match", Bq,
                     Kq, B, K);
    val = otkr_scratch(par.reduction == OTK_REDUCTION_NONE ? B : 1);
    if (otkr_opt_int(opt, "grad_p"))
        gp = otkr_scratch(B * K);
    if (otkr_opt_int(opt, "grad_q"))
        gq = otkr_scratch(B * K);
    otkr_check(logits ? otk_fdiv_logits(&par, B, K, pd, qd, val, gp, gq)
                      : otk_fdiv_probs(&par, B, K, pd, qd, val, gp, gq));
    vals[0] = PROTECT(par.reduction == OTK_REDUCTION_NONE ? otkr_vector_out(val, B)
                                                          : Rf_ScalarReal(val[0]));
    vals[1] = gp ? PROTECT(otkr_matrix_out(gp, B, K)) : R_NilValue;
    vals[2] = gq ? PROTECT(otkr_matrix_out(gq, B, K)) : R_NilValue;
    nprot = 1 + (gp != NULL) + (gq != NULL);
    out = otkr_named_list(3, names, vals);
    UNPROTECT(nprot);
    return out;
}

static size_t read_bins(SEXP binning, SEXP edges, SEXP opt, otk_bins_params *bp)
{
    otk_bins_params_default(bp);
    otkr_check(otk_binning_from_name(str_arg(binning, "binning"), &bp->binning));
    bp->floor = otkr_opt_num(opt, "floor");
    const int bins = otkr_opt_int(opt, "bins");
    if (bins < 1)
        Rf_errorcall(R_NilValue, "otkit: bins = %d must be >= 1", bins);
    bp->bins = (size_t)bins;
    if (edges != R_NilValue) {
        size_t n, d;
        bp->edges = otkr_rowmajor(edges, "edges", &n, &d, 1);
        bp->n_edges = n;
    }
    return bp->binning == OTK_BINNING_EDGES ? bp->n_edges + 1 : bp->bins;
}

static SEXP binned_out(const char *first, double value, size_t m, const double *edges,
                       const double *per, const char *last)
{
    SEXP vals[3], out;
    const char *names[3] = {first, "edges", last};
    vals[0] = PROTECT(Rf_ScalarReal(value));
    vals[1] = PROTECT(otkr_vector_out(edges, m - 1));
    vals[2] = PROTECT(otkr_vector_out(per, m));
    out = otkr_named_list(3, names, vals);
    UNPROTECT(3);
    return out;
}

SEXP otkr_psi(SEXP expected, SEXP actual, SEXP binning, SEXP edges, SEXP opt)
{
    otk_bins_params bp;
    size_t ne, na, d, m = 0;
    double psi, *buf;
    const size_t room = read_bins(binning, edges, opt, &bp);
    const double *e = otkr_rowmajor(expected, "expected", &ne, &d, 1);
    const double *a = otkr_rowmajor(actual, "actual", &na, &d, 1);
    if (otkr_opt_int(opt, "counts")) {
        if (na != ne)
            Rf_errorcall(R_NilValue, "otkit: actual has %zu bins, expected has %zu", na, ne);
        buf = otkr_scratch(ne + 1);
        otkr_check(otk_psi_counts(ne, e, a, bp.floor, &psi, buf + 1));
        return binned_out("psi", psi, ne, buf, buf + 1, "per_bin"); /* no edges */
    }
    buf = otkr_scratch(2 * room);
    otkr_check(otk_psi(&bp, e, ne, a, na, &psi, &m, buf, buf + room));
    return binned_out("psi", psi, m, buf, buf + room, "per_bin");
}

SEXP otkr_information_value(SEXP x, SEXP y, SEXP binning, SEXP edges, SEXP opt)
{
    otk_bins_params bp;
    size_t n, d, m = 0;
    double iv, *buf;
    const size_t room = read_bins(binning, edges, opt, &bp);
    const double *xd = otkr_rowmajor(x, "x", &n, &d, 1);
    if (TYPEOF(y) != INTSXP || (size_t)XLENGTH(y) != n)
        Rf_errorcall(R_NilValue, "otkit: y must be %zu integers 0/1 (one per value of x)", n);
    buf = otkr_scratch(2 * room);
    otkr_check(otk_information_value(&bp, xd, INTEGER(y), n, &iv, &m, buf, buf + room));
    return binned_out("iv", iv, m, buf, buf + room, "woe");
}

/* otk_sinkd_regression_objective (otkit/distill.h): s, t, y double vectors
 * of one length (checked on the R side). */
SEXP otkr_sinkd_regression_objective(SEXP s, SEXP t, SEXP y, SEXP alpha, SEXP tau, SEXP grad)
{
    const size_t B = (size_t)XLENGTH(s);
    otk_sinkd_objective_parts parts;
    double *g = Rf_asLogical(grad) ? otkr_scratch(B) : NULL;
    SEXP vals[5], out;
    const char *names[] = {"total", "kd", "mse", "sinkd", "grad_s"};
    if (TYPEOF(s) != REALSXP || TYPEOF(t) != REALSXP || TYPEOF(y) != REALSXP ||
        (size_t)XLENGTH(t) != B || (size_t)XLENGTH(y) != B)
        Rf_errorcall(R_NilValue, "otkit: s, t and y must be double vectors of one length");
    otkr_check(otk_sinkd_regression_objective(B, REAL(s), REAL(t), REAL(y), Rf_asReal(alpha),
                                              Rf_asReal(tau), &parts, g));
    vals[0] = PROTECT(Rf_ScalarReal(parts.total));
    vals[1] = PROTECT(Rf_ScalarReal(parts.kd));
    vals[2] = PROTECT(Rf_ScalarReal(parts.ce));
    vals[3] = PROTECT(Rf_ScalarReal(parts.sinkd));
    vals[4] = g ? PROTECT(otkr_vector_out(g, B)) : R_NilValue;
    out = otkr_named_list(5, names, vals);
    UNPROTECT(4 + (g != NULL));
    return out;
}
