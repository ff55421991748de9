/*
 * common.c — conversions, option access, errors and the holder of otkit
 * objects for the R package (see otkr.h).
 */
#include "otkr.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void holder_release(otkr_holder *h)
{
    int k;
    if (h == NULL)
        return;
    /* Solvers borrow the costs: free them first. */
    otk_sinkhorn_free(h->sinkhorn);
    otk_divergence_free(h->divergence);
    otk_sinkd_free(h->sinkd);
    otk_emd_free(h->emd);
    otk_sliced_free(h->sliced);
    for (k = 0; k < 3; k++)
        otk_cost_free(h->cost[k]);
    free(h);
}

static void holder_finalize(SEXP ptr)
{
    holder_release((otkr_holder *)R_ExternalPtrAddr(ptr));
    R_ClearExternalPtr(ptr);
}

SEXP otkr_holder_new(otkr_holder **out)
{
    otkr_holder *h = calloc(1, sizeof *h);
    SEXP ptr;
    if (h == NULL)
        Rf_error("otkit: out of memory");
    /* If making the pointer fails, R unwinds and h leaks its 40 bytes only
     * in that out-of-memory case; no otkit object is attached yet. */
    ptr = PROTECT(R_MakeExternalPtr(h, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(ptr, holder_finalize, TRUE);
    UNPROTECT(1);
    *out = h;
    return ptr;
}

void otkr_holder_free(SEXP ptr)
{
    holder_finalize(ptr);
}

/* stop() with a condition of class c("otkit_error", "error", "condition")
 * carrying the status name, so that R code can catch library errors by
 * class and branch on `status`. */
static void raise_status(const char *msg, int st)
{
    SEXP cond = PROTECT(Rf_allocVector(VECSXP, 3));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 3));
    SEXP cls = PROTECT(Rf_allocVector(STRSXP, 3));
    SEXP call;
    SET_VECTOR_ELT(cond, 0, Rf_mkString(msg));
    SET_VECTOR_ELT(cond, 1, R_NilValue);
    SET_VECTOR_ELT(cond, 2, Rf_mkString(otk_status_name(st)));
    SET_STRING_ELT(names, 0, Rf_mkChar("message"));
    SET_STRING_ELT(names, 1, Rf_mkChar("call"));
    SET_STRING_ELT(names, 2, Rf_mkChar("status"));
    Rf_setAttrib(cond, R_NamesSymbol, names);
    SET_STRING_ELT(cls, 0, Rf_mkChar("otkit_error"));
    SET_STRING_ELT(cls, 1, Rf_mkChar("error"));
    SET_STRING_ELT(cls, 2, Rf_mkChar("condition"));
    Rf_setAttrib(cond, R_ClassSymbol, cls);
    call = PROTECT(Rf_lang2(Rf_install("stop"), cond));
    Rf_eval(call, R_BaseEnv); /* does not return */
    UNPROTECT(4);
}

void otkr_check_arg(int st, const char *lead)
{
    const char *msg;
    char buf[1024];
    if (st >= 0)
        return;
    msg = otk_last_error();
    if (msg == NULL || msg[0] == '\0')
        msg = otk_strerror(st);
    /* The library counts from 0 (C); say so when its message has an index. */
    snprintf(buf, sizeof buf, "otkit: %s%s%s (%s%s)", lead ? lead : "", lead ? ": " : "", msg,
             otk_status_name(st), strchr(msg, '[') != NULL ? "; indices count from 0" : "");
    raise_status(buf, st);
}

void otkr_check(int st)
{
    otkr_check_arg(st, NULL);
}

int otkr_progress_call(SEXP callback, const otk_progress *info)
{
    SEXP ai = PROTECT(Rf_ScalarInteger(info->iterations));
    SEXP ae = PROTECT(Rf_ScalarReal(info->eps));
    SEXP ar = PROTECT(Rf_ScalarReal(info->marginal_error));
    SEXP as = PROTECT(Rf_mkString(otk_stage_name(info->stage)));
    SEXP call = PROTECT(Rf_lang5(callback, ai, ae, ar, as));
    SEXP r = PROTECT(Rf_eval(call, R_GlobalEnv));
    int stop = TYPEOF(r) == LGLSXP && XLENGTH(r) == 1 && LOGICAL(r)[0] == TRUE;
    UNPROTECT(6);
    return stop;
}

static SEXP progress_eval(void *data)
{
    otkr_progress *pr = data;
    pr->stopped = otkr_progress_call(pr->callback, pr->info);
    return R_NilValue;
}

/* R is unwinding out of the callback: jump back to otkr_progress_fn (past
 * R_UnwindProtect's frame only), which stops the solve. */
static void progress_cleanup(void *data, Rboolean jump)
{
    if (jump)
        longjmp(((otkr_progress *)data)->jump, 1);
}

SEXP otkr_progress_init(otkr_progress *pr, SEXP callback, otk_progress_fn *fn, void **ctx)
{
    memset(pr, 0, sizeof *pr);
    pr->callback = callback;
    pr->token = R_MakeUnwindCont();
    if (callback != R_NilValue) {
        *fn = otkr_progress_fn;
        *ctx = pr;
    }
    return pr->token;
}

int otkr_progress_fn(const otk_progress *info, void *ctx)
{
    otkr_progress *pr = ctx;
    pr->info = info;
    if (setjmp(pr->jump)) {
        pr->unwinding = 1;
        return 1;
    }
    R_UnwindProtect(progress_eval, pr, progress_cleanup, pr, pr->token);
    return pr->stopped;
}

void otkr_progress_end(otkr_progress *pr)
{
    if (pr->unwinding)
        R_ContinueUnwind(pr->token);
}

SEXP otkr_opt(SEXP opt, const char *name)
{
    SEXP names = Rf_getAttrib(opt, R_NamesSymbol);
    R_xlen_t k, len = Rf_xlength(opt);
    for (k = 0; k < len; k++)
        if (strcmp(CHAR(STRING_ELT(names, k)), name) == 0)
            return VECTOR_ELT(opt, k);
    Rf_error("otkit internal error: option '%s' missing", name);
    return R_NilValue; /* not reached */
}

double otkr_opt_num(SEXP opt, const char *name)
{
    return Rf_asReal(otkr_opt(opt, name));
}

int otkr_opt_int(SEXP opt, const char *name)
{
    return Rf_asInteger(otkr_opt(opt, name));
}

double *otkr_scratch(size_t count)
{
    if (count > SIZE_MAX / sizeof(double))
        Rf_error("otkit: array too large");
    return (double *)R_alloc(count == 0 ? 1 : count, sizeof(double));
}

const double *otkr_rowmajor(SEXP mat, const char *name, size_t *n, size_t *d, size_t d_expect)
{
    SEXP dim;
    size_t i, j, nr, nc;
    const double *src;
    double *rm;

    if (TYPEOF(mat) != REALSXP)
        Rf_errorcall(R_NilValue, "otkit: %s must be a numeric (double) matrix", name);
    dim = Rf_getAttrib(mat, R_DimSymbol);
    if (dim == R_NilValue) {
        nr = (size_t)XLENGTH(mat);
        nc = 1;
    } else {
        if (LENGTH(dim) != 2)
            Rf_errorcall(R_NilValue, "otkit: %s must be a matrix (2 dimensions)", name);
        nr = (size_t)INTEGER(dim)[0];
        nc = (size_t)INTEGER(dim)[1];
    }
    if (nr == 0 || nc == 0)
        Rf_errorcall(R_NilValue, "otkit: %s is empty (%zu x %zu)", name, nr, nc);
    if (d_expect > 0 && nc != d_expect)
        Rf_errorcall(R_NilValue, "otkit: %s has %zu columns, expected %zu", name, nc, d_expect);
    src = REAL(mat);
    rm = otkr_scratch(nr * nc);
    /* Column-major (R) to row-major (otkit): entry (i, j) is src[i + j nr]. */
    for (i = 0; i < nr; i++)
        for (j = 0; j < nc; j++)
            rm[i * nc + j] = src[i + j * nr];
    *n = nr;
    *d = nc;
    return rm;
}

const double *otkr_vector_opt(SEXP v, const char *name, size_t n_expect)
{
    if (v == R_NilValue)
        return NULL;
    if (TYPEOF(v) != REALSXP)
        Rf_errorcall(R_NilValue, "otkit: %s must be a numeric vector", name);
    if ((size_t)XLENGTH(v) != n_expect)
        Rf_errorcall(R_NilValue, "otkit: %s has length %lld, expected %zu", name,
                     (long long)XLENGTH(v), n_expect);
    return REAL(v);
}

SEXP otkr_matrix_out(const double *rm, size_t n, size_t d)
{
    SEXP out;
    double *dst;
    size_t i, j;
    if (n > INT_MAX || d > INT_MAX)
        Rf_error("otkit: result too large for an R matrix");
    out = Rf_allocMatrix(REALSXP, (int)n, (int)d);
    dst = REAL(out);
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++)
            dst[i + j * n] = rm[i * d + j];
    return out;
}

SEXP otkr_vector_out(const double *v, size_t n)
{
    SEXP out = Rf_allocVector(REALSXP, (R_xlen_t)n);
    if (n > 0)
        memcpy(REAL(out), v, n * sizeof(double));
    return out;
}

otk_ground otkr_ground(SEXP name, const char *argname)
{
    otk_ground g;
    if (!Rf_isString(name) || XLENGTH(name) != 1 || STRING_ELT(name, 0) == NA_STRING)
        Rf_errorcall(R_NilValue, "otkit: %s must be one string", argname);
    if (otk_ground_from_name(CHAR(STRING_ELT(name, 0)), &g) != OTK_SUCCESS)
        Rf_errorcall(R_NilValue, "otkit: %s = \"%s\": %s", argname, CHAR(STRING_ELT(name, 0)),
                     otk_last_error()); /* the library's message lists the names */
    return g;
}

SEXP otkr_named_list(int count, const char **names, SEXP *values)
{
    SEXP out = PROTECT(Rf_allocVector(VECSXP, count));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, count));
    int k;
    for (k = 0; k < count; k++) {
        SET_VECTOR_ELT(out, k, values[k]);
        SET_STRING_ELT(nm, k, Rf_mkChar(names[k]));
    }
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
}

SEXP otkr_version(void)
{
    return Rf_mkString(otk_version_string());
}

SEXP otkr_names(SEXP kind)
{
    if (!Rf_isString(kind) || XLENGTH(kind) != 1 || STRING_ELT(kind, 0) == NA_STRING)
        Rf_errorcall(R_NilValue, "otkit: kind must be one string");
    const char *k = CHAR(STRING_ELT(kind, 0));
    size_t count = 0;
    const char *const *names = otk_enum_names(k, &count);
    if (!names) {
        int unused;
        otk_enum_from_name(k, "", &unused); /* the message lists the kinds */
        Rf_errorcall(R_NilValue, "otkit: kind = \"%s\": %s", k, otk_last_error());
    }
    SEXP out = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)count));
    for (size_t i = 0; i < count; i++)
        SET_STRING_ELT(out, (R_xlen_t)i, Rf_mkChar(names[i]));
    UNPROTECT(1);
    return out;
}
