/*
 * otkr.h — shared helpers of the otkit R package's C layer (.Call entry
 * points over the installed libotkit).
 *
 * Memory: every otkit object lives in an otkr_holder wrapped in an R external
 * pointer with a finalizer, so an R error (Rf_error, or an allocation failure
 * inside allocVector) can longjmp out of an entry point at any time without
 * leaking it; the entry points still free the holder explicitly before they
 * return, so nothing waits for the garbage collector.  Scratch arrays come
 * from R_alloc, released by R when the .Call returns or unwinds.
 *
 * Layout: R matrices are column-major, otkit's are row-major; otkr_rowmajor
 * and otkr_matrix_out transpose.  Points are rows on both sides (an n x d R
 * matrix is n points).
 */
#ifndef OTKR_H
#define OTKR_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <setjmp.h>
#include <stddef.h>

#include <otkit.h>

typedef struct {
    otk_sinkhorn *sinkhorn;
    otk_divergence *divergence;
    otk_sinkd *sinkd;
    otk_emd *emd;
    otk_sliced *sliced;
    otk_cost *cost[3];
} otkr_holder;

/* A new, empty holder protected by the returned external pointer (the caller
 * PROTECTs it). */
SEXP otkr_holder_new(otkr_holder **out);
/* Free everything the holder owns (solvers before the costs they borrow). */
void otkr_holder_free(SEXP ptr);

/* Raise the library's error for status st < 0 (its message naming the
 * argument) as an R condition of class otkit_error with a `status` field
 * (the status name), without a call.  Returns for st >= 0. */
void otkr_check(int st);
/* otkr_check with `lead` (naming the argument) before the library's message. */
void otkr_check_arg(int st, const char *lead);

/* Named element of the option list (R side guarantees types). */
SEXP otkr_opt(SEXP opt, const char *name);
/* opt$relative_eps, relative_to, scale_cost, scale_cost_stat (R/util.R,
 * .otk_scale_opt) into any params struct that has those fields. */
#define OTKR_READ_SCALE(opt, par)                                                            \
    do {                                                                                     \
        (par)->relative_eps = otkr_opt_num(opt, "relative_eps");                             \
        (par)->relative_to = (otk_relative_to)otkr_opt_int(opt, "relative_to");              \
        (par)->scale_cost = otkr_opt_num(opt, "scale_cost");                                 \
        (par)->scale_cost_stat = otkr_opt_int(opt, "scale_cost_stat");                       \
    } while (0)
/* The fields otk_sinkhorn_params and otk_divergence_params share (their
 * options in R/util.R), then OTKR_READ_SCALE. */
#define OTKR_READ_SOLVER(opt, par)                                                           \
    do {                                                                                     \
        (par)->eps = otkr_opt_num(opt, "eps");                                               \
        (par)->blur = otkr_opt_num(opt, "blur");                                             \
        (par)->reach = otkr_opt_num(opt, "reach");                                           \
        (par)->schedule = (otk_schedule)otkr_opt_int(opt, "schedule");                       \
        (par)->update = (otk_update)otkr_opt_int(opt, "update");                             \
        (par)->scaling = otkr_opt_num(opt, "scaling");                                       \
        (par)->diameter = otkr_opt_num(opt, "diameter");                                     \
        (par)->p = otkr_opt_num(opt, "p");                                                   \
        (par)->tol = otkr_opt_num(opt, "tol");                                               \
        (par)->max_iter = otkr_opt_int(opt, "max_iter");                                     \
        (par)->threads = otkr_opt_int(opt, "threads");                                       \
        (par)->backend = (otk_backend)otkr_opt_int(opt, "backend");                          \
        (par)->truncate = otkr_opt_num(opt, "truncate");                                     \
        OTKR_READ_SCALE(opt, par);                                                           \
    } while (0)
double otkr_opt_num(SEXP opt, const char *name);
int otkr_opt_int(SEXP opt, const char *name);

/* An n x d double matrix (or a length-n vector as n x 1) copied to row-major
 * scratch memory.  name is used in error messages.  d_expect > 0 checks the
 * column count. */
const double *otkr_rowmajor(SEXP mat, const char *name, size_t *n, size_t *d, size_t d_expect);
/* An optional double vector of length n_expect: NULL for R's NULL. */
const double *otkr_vector_opt(SEXP v, const char *name, size_t n_expect);
/* A new R n x d matrix from row-major data (PROTECTed by the caller). */
SEXP otkr_matrix_out(const double *rm, size_t n, size_t d);
SEXP otkr_vector_out(const double *v, size_t n);
double *otkr_scratch(size_t count);
/* Parse a ground-cost name; errors name the argument. */
otk_ground otkr_ground(SEXP name, const char *argname);

/* Progress callbacks (R/sinkhorn.R, .otk_progress_callback: an R
 * function(iteration, eps, error, stage)).  otkr_progress_call evaluates it
 * for one otk_progress report and returns 1 when it returned TRUE (stop); an
 * R error in it unwinds from there, which is safe only where no library call
 * is on the C stack (between otk_sinkhorn_iterate calls). */
int otkr_progress_call(SEXP callback, const otk_progress *info);
/* Inside a library call (params.progress of otk_divergence_solve), the
 * callback must not unwind through the library: otkr_progress_fn evaluates
 * it under R_UnwindProtect, and an error or interrupt there stops the solve
 * instead (the fn returns nonzero) and is resumed by otkr_progress_end once
 * the library has returned.  Usage:
 *   otkr_progress pr;
 *   PROTECT(otkr_progress_init(&pr, callback, &par.progress, &par.progress_ctx));
 *   st = otk_divergence_solve(...);   (objects in an otkr_holder)
 *   otkr_progress_end(&pr);           (unwinds on the callback's error)
 * init sets par.progress only when callback is not R_NilValue; it returns
 * the unwind token, which the caller PROTECTs for the duration. */
typedef struct {
    SEXP callback, token;
    const otk_progress *info; /* the report being made */
    jmp_buf jump;
    int unwinding; /* the callback raised: resume the unwind at the end */
    int stopped;   /* the callback returned TRUE */
} otkr_progress;
SEXP otkr_progress_init(otkr_progress *pr, SEXP callback, otk_progress_fn *fn, void **ctx);
int otkr_progress_fn(const otk_progress *info, void *ctx);
void otkr_progress_end(otkr_progress *pr);

/* Build a named list from names and PROTECTed values (count entries). */
SEXP otkr_named_list(int count, const char **names, SEXP *values);

SEXP otkr_sinkhorn(SEXP C, SEXP x, SEXP y, SEXP a, SEXP b, SEXP cost, SEXP opt);
SEXP otkr_potential_convert(SEXP v, SEXP w, SEXP eps, SEXP from, SEXP to);
SEXP otkr_divergence(SEXP x, SEXP y, SEXP a, SEXP b, SEXP cost, SEXP opt);
SEXP otkr_divergence_batch(SEXP x, SEXP y, SEXP a, SEXP b, SEXP dims, SEXP cost, SEXP opt);
SEXP otkr_sinkhorn_batch(SEXP x, SEXP y, SEXP a, SEXP b, SEXP dims, SEXP cost, SEXP opt);
SEXP otkr_divergence_matrix(SEXP Cxy, SEXP Cxx, SEXP Cyy, SEXP a, SEXP b, SEXP opt);
SEXP otkr_geomloss_ground(SEXP p);
SEXP otkr_sinkd_loss(SEXP zs, SEXP zt, SEXP cost, SEXP opt);
SEXP otkr_sinkd_objective(SEXP zs, SEXP zt, SEXP labels, SEXP cost, SEXP opt);
SEXP otkr_kd_loss(SEXP kind, SEXP zs, SEXP zt, SEXP tau, SEXP grad);
SEXP otkr_version(void);
/* The library's names of the enum `kind` (otkit/names.h), in value order. */
SEXP otkr_names(SEXP kind);
SEXP otkr_monge_gap(SEXP x, SEXP tx, SEXP w, SEXP cost, SEXP opt);
SEXP otkr_fit_map(SEXP x, SEXP y, SEXP family, SEXP hidden, SEXP opt);
SEXP otkr_map_apply(SEXP ptr, SEXP x, SEXP threads);
SEXP otkr_map_info(SEXP ptr);
SEXP otkr_map_save(SEXP ptr, SEXP path);
SEXP otkr_map_load(SEXP path);
SEXP otkr_fdiv(SEXP p, SEXP q, SEXP kind, SEXP reduction, SEXP opt);
SEXP otkr_psi(SEXP expected, SEXP actual, SEXP binning, SEXP edges, SEXP opt);
SEXP otkr_information_value(SEXP x, SEXP y, SEXP binning, SEXP edges, SEXP opt);
SEXP otkr_sinkd_regression_objective(SEXP s, SEXP t, SEXP y, SEXP alpha, SEXP tau, SEXP grad);
SEXP otkr_emd(SEXP C, SEXP x, SEXP y, SEXP a, SEXP b, SEXP cost, SEXP opt);
SEXP otkr_wasserstein_1d(SEXP x, SEXP y, SEXP a, SEXP b, SEXP opt);
SEXP otkr_sliced(SEXP x, SEXP y, SEXP a, SEXP b, SEXP projections, SEXP opt);
SEXP otkr_mesh_from_triangles(SEXP V, SEXP F);
SEXP otkr_mesh_from_graph(SEXP n, SEXP E, SEXP w);
SEXP otkr_mesh_read(SEXP path);
SEXP otkr_mesh_generate(SEXP shape, SEXP res);
SEXP otkr_cost_solve(SEXP kind, SEXP spec, SEXP a, SEXP b, SEXP mode, SEXP opt);
SEXP otkr_cost_barycenter(SEXP kind, SEXP spec, SEXP A, SEXP weights, SEXP opt);
SEXP otkr_divergence_new(SEXP x, SEXP y, SEXP cost, SEXP opt);
SEXP otkr_divergence_set_points(SEXP ptr, SEXP x, SEXP y, SEXP shape);
SEXP otkr_divergence_solve(SEXP ptr, SEXP a, SEXP b, SEXP shape, SEXP grad, SEXP callback);
SEXP otkr_divergence_query(SEXP ptr, SEXP what, SEXP shape);
SEXP otkr_divergence_plan(SEXP ptr, SEXP M, SEXP what, SEXP shape);
SEXP otkr_entropic_map_new(SEXP x, SEXP y, SEXP a, SEXP b, SEXP g, SEXP cost, SEXP opt);
SEXP otkr_entropic_map_apply(SEXP ptr, SEXP z, SEXP threads);
SEXP otkr_entropic_map_data(SEXP ptr);

#endif /* OTKR_H */
