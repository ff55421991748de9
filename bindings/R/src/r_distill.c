/*
 * r_distill.c — otkit::sinkd_loss(), sinkd_objective() and kd_loss()
 * (otkit/distill.h).  Logits are B x K R matrices (one sample per row).
 */
#include "otkr.h"

#define NUM(v) PROTECT(Rf_ScalarReal(v))

static void read_params(SEXP cost, SEXP opt, otk_sinkd_params *par)
{
    otk_sinkd_params_default(par);
    par->tau = otkr_opt_num(opt, "tau");
    par->eps = otkr_opt_num(opt, "eps");
    par->iters = otkr_opt_int(opt, "iters");
    par->ground = otkr_ground(cost, "cost");
    par->power = otkr_opt_num(opt, "power");
    par->weight = otkr_opt_num(opt, "weight");
    par->grad = (otk_sinkd_grad)otkr_opt_int(opt, "grad_mode");
    par->threads = otkr_opt_int(opt, "threads");
}

static void logits(SEXP zs, SEXP zt, const double **s, const double **t, size_t *B, size_t *K)
{
    size_t Bt, Kt;
    *s = otkr_rowmajor(zs, "z_s", B, K, 0);
    *t = otkr_rowmajor(zt, "z_t", &Bt, &Kt, 0);
    if (Bt != *B || Kt != *K)
        Rf_errorcall(R_NilValue, "otkit: z_t is %zu x %zu, z_s is %zu x %zu: they must match",
                     Bt, Kt, *B, *K);
}

SEXP otkr_sinkd_loss(SEXP zs, SEXP zt, SEXP cost, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    otk_sinkd_params par;
    const double *s, *t;
    size_t B, K;
    double loss, *gs = NULL, *gt = NULL;
    SEXP vals[3], out;
    const char *names[] = {"loss", "grad_s", "grad_t"};
    int nprot = 1;

    read_params(cost, opt, &par);
    logits(zs, zt, &s, &t, &B, &K);
    if (otkr_opt_int(opt, "grad"))
        gs = otkr_scratch(B * K);
    if (otkr_opt_int(opt, "grad_teacher"))
        gt = otkr_scratch(B * K);
    otkr_check(otk_sinkd_alloc(&h->sinkd, B, K, &par));
    otkr_check(otk_sinkd_loss(h->sinkd, s, t, &loss, gs, gt));
    otkr_holder_free(hp);
    vals[0] = NUM(loss);
    vals[1] = gs ? PROTECT(otkr_matrix_out(gs, B, K)) : R_NilValue;
    vals[2] = gt ? PROTECT(otkr_matrix_out(gt, B, K)) : R_NilValue;
    nprot += 1 + (gs != NULL) + (gt != NULL);
    out = otkr_named_list(3, names, vals);
    UNPROTECT(nprot);
    return out;
}

/* labels: B integers, already 0-based (the R side subtracts 1). */
SEXP otkr_sinkd_objective(SEXP zs, SEXP zt, SEXP labels, SEXP cost, SEXP opt)
{
    otkr_holder *h;
    SEXP hp = PROTECT(otkr_holder_new(&h));
    otk_sinkd_params par;
    otk_sinkd_objective_parts parts;
    const double *s, *t;
    size_t B, K;
    double *gs = NULL;
    SEXP vals[5], out;
    const char *names[] = {"total", "kd", "ce", "sinkd", "grad_s"};
    int nprot = 1;

    read_params(cost, opt, &par);
    logits(zs, zt, &s, &t, &B, &K);
    if (TYPEOF(labels) != INTSXP || (size_t)XLENGTH(labels) != B)
        Rf_errorcall(R_NilValue, "otkit: labels must be %zu integers (one per row of z_s)", B);
    if (otkr_opt_int(opt, "grad"))
        gs = otkr_scratch(B * K);
    otkr_check(otk_sinkd_alloc(&h->sinkd, B, K, &par));
    if (otkr_opt(opt, "kd_fdiv") != R_NilValue) { /* an f-divergence KD term (otkit/fdiv.h) */
        otk_fdiv_params kd;
        otk_fdiv_params_default(&kd);
        otkr_check(otk_fdiv_kind_from_name(CHAR(STRING_ELT(otkr_opt(opt, "kd_fdiv"), 0)),
                                           &kd.kind));
        kd.alpha = otkr_opt_num(opt, "kd_alpha");
        kd.tau = otkr_opt_num(opt, "kd_tau");
        kd.scale_tau2 = otkr_opt_int(opt, "kd_tau2");
        otkr_check(otk_sinkd_objective_fdiv(h->sinkd, s, t, INTEGER(labels),
                                            otkr_opt_num(opt, "alpha"), otkr_opt_num(opt, "beta"),
                                            &kd, &parts, gs));
    } else {
        otkr_check(otk_sinkd_objective(h->sinkd, s, t, INTEGER(labels),
                                       otkr_opt_num(opt, "alpha"), otkr_opt_num(opt, "beta"),
                                       (otk_kd_divergence)otkr_opt_int(opt, "kd"),
                                       otkr_opt_num(opt, "kd_tau"), &parts, gs));
    }
    otkr_holder_free(hp);
    vals[0] = NUM(parts.total);
    vals[1] = NUM(parts.kd);
    vals[2] = NUM(parts.ce);
    vals[3] = NUM(parts.sinkd);
    vals[4] = gs ? PROTECT(otkr_matrix_out(gs, B, K)) : R_NilValue;
    nprot += 4 + (gs != NULL);
    out = otkr_named_list(5, names, vals);
    UNPROTECT(nprot);
    return out;
}

SEXP otkr_kd_loss(SEXP kind, SEXP zs, SEXP zt, SEXP tau, SEXP grad)
{
    const double *s, *t;
    size_t B, K;
    double loss, *gs = NULL;
    SEXP vals[3], out;
    const char *names[] = {"loss", "grad_s", "grad_t"};
    int nprot = 1;

    logits(zs, zt, &s, &t, &B, &K);
    if (Rf_asLogical(grad) == TRUE)
        gs = otkr_scratch(B * K);
    otkr_check(otk_kd_loss((otk_kd_divergence)Rf_asInteger(kind), B, K, s, t, Rf_asReal(tau),
                           &loss, gs));
    vals[0] = NUM(loss);
    vals[1] = gs ? PROTECT(otkr_matrix_out(gs, B, K)) : R_NilValue;
    vals[2] = R_NilValue;
    nprot += (gs != NULL);
    out = otkr_named_list(3, names, vals);
    UNPROTECT(nprot);
    return out;
}
