/*
 * mapfit_uvp — the acceptance experiment of otkit's map fitting: Gaussian to
 * Gaussian, where the squared-Euclidean OT map is known in closed form,
 *
 *   T*(x) = m2 + A (x − m1),  A = Σ1^{-1/2} (Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2} Σ1^{-1/2},
 *
 * (matrix square roots from GSL's symmetric eigensolver).  A map is fitted on
 * n samples of μ = N(m1, Σ1) and n independent samples of ν = N(m2, Σ2) and
 * scored on FRESH samples of μ by
 *
 *   L2-UVP = 100 · E‖T̂(x) − T*(x)‖² / Var(ν),  Var(ν) = trace Σ2.
 *
 * --rotation: the case where a family can match ν without being optimal:
 * μ = ν = N(0, I_d); the affine map starts at a rotation by 90° in the first
 * two coordinates, which already pushes μ onto ν (so S_ε gives no signal),
 * while the OT map is the identity.  Run with and without --lambda to see
 * what the Monge gap does.
 *
 * Prints one JSON object per run on stdout.
 *
 * Usage: mapfit_uvp --d D --family affine|mlp|entropic [--lambda L] [--n N]
 *        [--ntest N] [--blur B] [--iters N] [--lr LR] [--batch B]
 *        [--hidden W,W] [--seed S] [--threads K] [--rotation]
 *        [--tol T]   (the entropic map's Sinkhorn tolerance, default 1e-6)
 *        [--optimizer auto|bfgs|adam] [--cosine] (Adam's cosine lr schedule)
 *        [--mg-eps E | --mg-relative-eps F] [--mg-tol T] (the Monge gap's ε and
 *        Sinkhorn tolerance; T also lifts its max_iter to 10^5)
 *        [--div-tol T] (the divergence on the converge schedule at tol T
 *        instead of the fixed ε-list: exact envelope gradients for BFGS)
 *        [--report-points N] [--start-at-ot-map] (affine: start the fit at T*)
 *        [--cache-mb MB] (keep the divergence's and the Monge gap's cost
 *        matrices within MB MiB each: otk_cost_points_cache)
 *        [--progress K] (every K-th iteration/step to stderr, with the time)
 *        [--mg-warm-start] (the Monge gap's Sinkhorn starts from the previous
 *        evaluation's potentials: otk_monge_gap_params.warm_start)
 *        [--compare-ot-map] (print the loss at T* and at the fit on the first
 *        1024 training points to stderr and into the JSON)
 *        [--init MODEL] (start from a saved map of the same family and
 *        dimension, e.g. a fit on fewer points; an mlp keeps its architecture) [--save MODEL] (save the fit)
 *        [--test-mg-points N] (the held-out Monge gap on N points, default
 *        1000; 0 skips it: in d = 64 its default ε makes it slow)
 *        [--defaults] (the library's defaults for lambda, the blur and the
 *        Monge gap: the settings derived from the data, otk_map_fit_resolve;
 *        the JSON then reports the values used.  Without it the unset ones
 *        are those of the runs before the derived defaults: lambda 0, blur
 *        0.05·sqrt(d), Monge-gap eps 0.05·std at tol 1e-5, 2000 iterations)
 *
 * For the affine family the error is also split in closed form (population
 * moments, no test samples) into the part due to the target and the part due
 * to optimality: with Σ̂ = Â Σ1 Âᵀ the covariance the fitted map pushes μ to
 * and Â_t = Σ1^{-1/2} (Σ1^{1/2} Σ̂ Σ1^{1/2})^{1/2} Σ1^{-1/2} the OT map onto
 * that push-forward,
 *   uvp_target     = 100 [tr((Â_t − A) Σ1 (Â_t − A)ᵀ) + ‖Â m1 + b̂ − m2‖²] / tr Σ2,
 *   uvp_optimality = 100 tr((Â − Â_t) Σ1 (Â − Â_t)ᵀ) / tr Σ2:
 * the first is what S_ε's sampling noise leaves, the second what the Monge
 * gap failed to remove (it vanishes exactly when Â is symmetric positive
 * definite in Σ1's metric, i.e. when the fit is an OT map onto something).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <otkit.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* out = S^{power} for a symmetric positive definite d×d S (power ±1/2). */
static void spd_power(size_t d, const double *S, double power, double *out)
{
    gsl_matrix *a = gsl_matrix_alloc(d, d), *v = gsl_matrix_alloc(d, d);
    gsl_vector *e = gsl_vector_alloc(d);
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(d);
    memcpy(a->data, S, d * d * sizeof(double));
    gsl_eigen_symmv(a, e, v, w);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++)
                s += gsl_matrix_get(v, i, k) * pow(gsl_vector_get(e, k), power) *
                     gsl_matrix_get(v, j, k);
            out[i * d + j] = s;
        }
    gsl_eigen_symmv_free(w);
    gsl_vector_free(e);
    gsl_matrix_free(v);
    gsl_matrix_free(a);
}

static double t_start;

/* The 1-minute load average (the machine is shared: it goes with the timings). */
static double load_average(void)
{
    double load = NAN;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1)
            load = NAN;
        fclose(f);
    }
    return load;
}

/* tr(E Σ Eᵀ) for d×d E and Σ. */
static double quad_trace(size_t d, const double *E, const double *S)
{
    double t = 0.0;
    for (size_t r = 0; r < d; r++)
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++)
                t += E[r * d + i] * S[i * d + j] * E[r * d + j];
    return t;
}

static int print_progress(const otk_map_progress *p, void *ctx)
{
    const int every = *(const int *)ctx;
    if (p->iteration % every == 0)
        fprintf(stderr, "mapfit_uvp: %6.0f s  it %d  loss %.6g  S %.6g  M %.6g  |g| %.3g\n",
                now() - t_start, p->iteration, p->loss, p->divergence, p->monge_gap,
                p->grad_norm);
    return 0;
}

static void matmul(size_t d, const double *A, const double *B, double *C)
{
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++)
                s += A[i * d + k] * B[k * d + j];
            C[i * d + j] = s;
        }
}

/* A random covariance with eigenvalues spread over [0.5, 2]ish:
 * Σ = G Gᵀ / d + 0.5 I with G standard Gaussian. */
static void random_covariance(gsl_rng *rng, size_t d, double *S)
{
    double *G = malloc(d * d * sizeof *G);
    for (size_t k = 0; k < d * d; k++)
        G[k] = gsl_ran_gaussian(rng, 1.0);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++)
                s += G[i * d + k] * G[j * d + k];
            S[i * d + j] = s / (double)d + (i == j ? 0.5 : 0.0);
        }
    free(G);
}

/* n samples of N(m, S) with S^{1/2} given: x = m + S^{1/2} z. */
static void sample(gsl_rng *rng, size_t n, size_t d, const double *m, const double *root,
                   double *x)
{
    double *z = malloc(d * sizeof *z);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < d; k++)
            z[k] = gsl_ran_gaussian(rng, 1.0);
        for (size_t r = 0; r < d; r++) {
            double s = m[r];
            for (size_t k = 0; k < d; k++)
                s += root[r * d + k] * z[k];
            x[i * d + r] = s;
        }
    }
    free(z);
}

int main(int argc, char **argv)
{
    size_t d = 2, n = 512, ntest = 10000, hidden[OTK_MAP_MAX_HIDDEN] = {64, 64}, nh = 2;
    double lambda = 0.0, blur = 0.0, lr = NAN, tol = 1e-6;
    double mg_rel = 0.0, mg_eps = 0.0, mg_tol = 0.0, div_tol = 0.0, cache_mb = 0.0;
    int progress_every = 0, mg_warm = 0, defaults = 0, budget = 0;
    const char *optimizer = "auto";
    int iters = 0, threads = 0, rotation = 0, cosine = 0, start_at_ot = 0, compare = 0;
    size_t batch = 256, report_points = 4096;
    unsigned long seed = 1;
    size_t test_mg_points = 1000;
    const char *init_path = NULL, *save_path = NULL;
    const char *family = "affine";
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : "";
        if (!strcmp(a, "--d")) d = strtoul(v, NULL, 10), k++;
        else if (!strcmp(a, "--family")) family = v, k++;
        else if (!strcmp(a, "--lambda")) lambda = atof(v), k++;
        else if (!strcmp(a, "--n")) n = strtoul(v, NULL, 10), k++;
        else if (!strcmp(a, "--ntest")) ntest = strtoul(v, NULL, 10), k++;
        else if (!strcmp(a, "--blur")) blur = atof(v), k++;
        else if (!strcmp(a, "--iters")) iters = atoi(v), k++;
        else if (!strcmp(a, "--lr")) lr = atof(v), k++;
        else if (!strcmp(a, "--tol")) tol = atof(v), k++;
        else if (!strcmp(a, "--batch")) batch = strtoul(v, NULL, 10), k++;
        else if (!strcmp(a, "--seed")) seed = strtoul(v, NULL, 10), k++;
        else if (!strcmp(a, "--threads")) threads = atoi(v), k++;
        else if (!strcmp(a, "--rotation")) rotation = 1;
        else if (!strcmp(a, "--optimizer")) optimizer = v, k++;
        else if (!strcmp(a, "--mg-relative-eps")) mg_rel = atof(v), k++;
        else if (!strcmp(a, "--mg-eps")) mg_eps = atof(v), k++;
        else if (!strcmp(a, "--mg-tol")) mg_tol = atof(v), k++;
        else if (!strcmp(a, "--div-tol")) div_tol = atof(v), k++;
        else if (!strcmp(a, "--cosine")) cosine = 1;
        else if (!strcmp(a, "--report-points")) report_points = strtoul(v, NULL, 10), k++;
        else if (!strcmp(a, "--cache-mb")) cache_mb = atof(v), k++;
        else if (!strcmp(a, "--progress")) progress_every = atoi(v), k++;
        else if (!strcmp(a, "--mg-warm-start")) mg_warm = 1;
        else if (!strcmp(a, "--defaults")) defaults = 1;
        else if (!strcmp(a, "--start-at-ot-map")) start_at_ot = 1;
        else if (!strcmp(a, "--compare-ot-map")) compare = 1;
        else if (!strcmp(a, "--init")) init_path = v, k++;
        else if (!strcmp(a, "--save")) save_path = v, k++;
        else if (!strcmp(a, "--test-mg-points")) test_mg_points = strtoul(v, NULL, 10), k++;
        else if (!strcmp(a, "--hidden")) {
            nh = 0;
            for (char *s = argv[++k]; *s && nh < OTK_MAP_MAX_HIDDEN; s += *s == ',')
                hidden[nh++] = strtoul(s, &s, 10);
        } else {
            fprintf(stderr, "mapfit_uvp: unknown argument %s\n", a);
            return 2;
        }
    }
    if (blur <= 0.0) /* about the nearest-neighbour spacing of n points in d dimensions */
        blur = 0.05 * sqrt((double)d);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    const size_t dd = d * d;
    double *S1 = calloc(dd, sizeof(double)), *S2 = calloc(dd, sizeof(double));
    double *m1 = calloc(d, sizeof(double)), *m2 = calloc(d, sizeof(double));
    double *r1 = malloc(dd * sizeof(double)), *r1i = malloc(dd * sizeof(double));
    double *r2 = malloc(dd * sizeof(double)), *M = malloc(dd * sizeof(double));
    double *T1 = malloc(dd * sizeof(double)), *A = malloc(dd * sizeof(double));
    if (rotation) {
        for (size_t k = 0; k < d; k++)
            S1[k * d + k] = S2[k * d + k] = 1.0;
    } else {
        random_covariance(rng, d, S1);
        random_covariance(rng, d, S2);
        for (size_t k = 0; k < d; k++)
            m2[k] = gsl_ran_gaussian(rng, 1.0);
    }
    spd_power(d, S1, 0.5, r1);
    spd_power(d, S1, -0.5, r1i);
    spd_power(d, S2, 0.5, r2);
    matmul(d, r1, S2, T1);
    matmul(d, T1, r1, M);
    spd_power(d, M, 0.5, T1); /* (Σ1^½ Σ2 Σ1^½)^½ */
    matmul(d, r1i, T1, M);
    matmul(d, M, r1i, A);
    /* T* as an affine map's θ: A row-major, then b = m2 − A m1. */
    double *theta_ot = malloc((dd + d) * sizeof(double));
    memcpy(theta_ot, A, dd * sizeof(double));
    for (size_t r = 0; r < d; r++) {
        double t = m2[r];
        for (size_t k = 0; k < d; k++)
            t -= A[r * d + k] * m1[k];
        theta_ot[dd + r] = t;
    }
    double var_nu = 0.0;
    for (size_t k = 0; k < d; k++)
        var_nu += S2[k * d + k];

    double *x = malloc(n * d * sizeof(double)), *y = malloc(n * d * sizeof(double));
    double *xt = malloc(ntest * d * sizeof(double)), *tt = malloc(ntest * d * sizeof(double));
    sample(rng, n, d, m1, r1, x);
    sample(rng, n, d, m2, r2, y);
    sample(rng, ntest, d, m1, r1, xt); /* fresh, held out */

    otk_map *map = NULL;
    double loss_ot = NAN, loss_fit = NAN;
    otk_map_fit_result res;
    memset(&res, 0, sizeof res);
    res.monge_gap = res.divergence = NAN;
    otk_status st;
    const double t0 = now();
    if (!strcmp(family, "entropic")) {
        otk_sinkhorn_params sp;
        otk_sinkhorn_params_default(&sp);
        sp.blur = blur;
        sp.tol = tol;
        sp.threads = threads;
        st = otk_map_fit_entropic(&map, n, n, d, x, y, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, &sp);
    } else {
        st = !strcmp(family, "mlp")
                 ? otk_map_alloc_mlp(&map, d, nh, hidden, OTK_ACTIVATION_GELU, seed)
                 : otk_map_alloc_affine(&map, d);
        if (st >= 0 && init_path) { /* the saved map itself (an mlp keeps its architecture) */
            otk_map *start = NULL;
            if (otk_map_load(&start, init_path) < 0 ||
                otk_map_get_family(start) != otk_map_get_family(map) || otk_map_get_dim(start) != d) {
                fprintf(stderr, "mapfit_uvp: %s: %s\n", init_path,
                        start ? "not a map of this family and dimension" : otk_last_error());
                return 2;
            }
            otk_map_free(map);
            map = start;
        }
        if (st >= 0 && start_at_ot && !strcmp(family, "affine"))
            otk_map_set_params(map, theta_ot);
        if (st >= 0 && rotation) {
            double *theta = calloc(otk_map_get_n_params(map), sizeof(double));
            otk_map_get_params(map, theta);
            /* A rotation by 90° in the plane of the first two coordinates. */
            theta[0] = 0.0, theta[1] = -1.0, theta[d] = 1.0, theta[d + 1] = 0.0;
            otk_map_set_params(map, theta);
            free(theta);
        }
        otk_map_fit_params par;
        otk_map_fit_params_default(&par);
        if (!defaults) {
            par.lambda = lambda;
            par.divergence.blur = blur;
            par.monge_gap.relative_eps = 0.05;
            par.monge_gap.tol = 1e-5;
            par.monge_gap.max_iter = 2000;
            par.monge_gap.warm_start = mg_warm;
        }
        par.iters = iters;
        if (!isnan(lr) || !defaults)
            par.lr = isnan(lr) ? 1e-3 : lr;
        par.batch = batch;
        par.seed = seed;
        par.threads = threads;
        par.optimizer = !strcmp(optimizer, "adam")   ? OTK_OPTIMIZER_ADAM
                        : !strcmp(optimizer, "bfgs") ? OTK_OPTIMIZER_BFGS
                                                     : OTK_OPTIMIZER_AUTO;
        par.report_points = report_points;
        par.lr_schedule = cosine ? OTK_LR_SCHEDULE_COSINE : OTK_LR_SCHEDULE_CONSTANT;
        if (mg_rel > 0.0)
            par.monge_gap.relative_eps = mg_rel;
        if (div_tol > 0.0) {
            par.divergence.schedule = OTK_SCHEDULE_CONVERGE;
            par.divergence.tol = div_tol;
            par.divergence.max_iter = 100000;
        }
        if (mg_tol > 0.0) {
            par.monge_gap.tol = mg_tol;
            par.monge_gap.max_iter = 100000;
        }
        if (mg_eps > 0.0)
            par.monge_gap.eps = mg_eps;
        if (progress_every > 0) {
            t_start = now();
            par.progress = print_progress;
            par.progress_ctx = &progress_every;
        }
        par.divergence.cache_bytes = (size_t)(cache_mb * 1048576.0);
        par.monge_gap.cache_bytes = (size_t)(cache_mb * 1048576.0);
        /* The settings the library derives, resolved here so that the loss
         * comparison below and the JSON use the very values of the fit. */
        budget = iters;
        if (st >= 0 && defaults && (st = otk_map_fit_resolve(map, n, n, d, x, y, &par, &par)) >= 0) {
            lambda = par.lambda;
            blur = par.divergence.blur;
            mg_eps = par.monge_gap.eps;
            mg_tol = par.monge_gap.tol;
            mg_warm = par.monge_gap.warm_start;
            lr = par.lr;
            if (!iters)
                iters = par.iters;
        }
        if (st >= 0)
            st = otk_map_fit(map, n, n, d, x, y, &par, &res);
        if (st >= 0 && compare) {
            /* The loss at T* and at the fit on the same training points: a
             * fit below T* means the sample loss prefers the wrong map. */
            otk_map *tm = NULL;
            otk_map_alloc_affine(&tm, d);
            otk_map_set_params(tm, theta_ot);
            size_t nr = n < 1024 ? n : 1024;
            otk_map_fit_result p1, p2;
            if (otk_map_objective(tm, nr, nr, d, x, y, &par, lambda, &loss_ot, NULL, &p1) >= 0 &&
                otk_map_objective(map, nr, nr, d, x, y, &par, lambda, &loss_fit, NULL, &p2) >= 0)
                fprintf(stderr, "mapfit_uvp: on %zu training points: T* S %g M %g L %g | fit S %g "
                                "M %g L %g\n",
                        nr, p1.divergence, p1.monge_gap, loss_ot, p2.divergence, p2.monge_gap,
                        loss_fit);
            otk_map_free(tm);
        }
    }
    const double seconds = now() - t0;
    if (st >= 0 && save_path && otk_map_save(map, save_path) < 0)
        fprintf(stderr, "mapfit_uvp: %s\n", otk_last_error());
    if (st < 0) {
        fprintf(stderr, "mapfit_uvp: %s: %s\n", otk_status_name(st), otk_last_error());
        return 1;
    }
    otk_map_apply(map, ntest, xt, tt, threads);
    double err = 0.0;
    for (size_t i = 0; i < ntest; i++)
        for (size_t r = 0; r < d; r++) {
            double t = m2[r];
            for (size_t k = 0; k < d; k++)
                t += A[r * d + k] * (xt[i * d + k] - m1[k]);
            double e = tt[i * d + r] - t;
            err += e * e;
        }
    const double uvp = 100.0 * err / (double)ntest / var_nu;
    double uvp_target = NAN, uvp_opt = NAN;
    if (!strcmp(family, "affine")) {
        double *th = malloc((dd + d) * sizeof(double)), *P = malloc(dd * sizeof(double));
        double *Sh = malloc(dd * sizeof(double)), *At = malloc(dd * sizeof(double));
        otk_map_get_params(map, th);
        matmul(d, th, S1, P);
        for (size_t i = 0; i < d; i++) /* Σ̂ = (Â Σ1) Âᵀ */
            for (size_t j = 0; j < d; j++) {
                double t = 0.0;
                for (size_t k = 0; k < d; k++)
                    t += P[i * d + k] * th[j * d + k];
                Sh[i * d + j] = t;
            }
        matmul(d, r1, Sh, P);
        matmul(d, P, r1, Sh);
        for (size_t i = 0; i < d; i++) /* symmetric up to rounding; make it exact */
            for (size_t j = 0; j < i; j++)
                Sh[i * d + j] = Sh[j * d + i] = 0.5 * (Sh[i * d + j] + Sh[j * d + i]);
        spd_power(d, Sh, 0.5, At);
        matmul(d, r1i, At, P);
        matmul(d, P, r1i, At);
        double mean_err = 0.0;
        for (size_t r = 0; r < d; r++) {
            double t = th[dd + r] - m2[r];
            for (size_t k = 0; k < d; k++)
                t += th[r * d + k] * m1[k];
            mean_err += t * t;
        }
        for (size_t k = 0; k < dd; k++) {
            P[k] = At[k] - A[k];
            Sh[k] = th[k] - At[k];
        }
        uvp_target = 100.0 * (quad_trace(d, P, S1) + mean_err) / var_nu;
        uvp_opt = 100.0 * quad_trace(d, Sh, S1) / var_nu;
        free(th), free(P), free(Sh), free(At);
    }
    /* JSON has no NaN: the entropic map has no training loss. */
    char div_text[32] = "null", mg_text[32] = "null", lot_text[32] = "null", lfit_text[32] = "null";
    if (isfinite(loss_ot))
        snprintf(lot_text, sizeof lot_text, "%.6g", loss_ot);
    if (isfinite(loss_fit))
        snprintf(lfit_text, sizeof lfit_text, "%.6g", loss_fit);
    if (isfinite(res.divergence))
        snprintf(div_text, sizeof div_text, "%.6g", res.divergence);
    if (isfinite(res.monge_gap))
        snprintf(mg_text, sizeof mg_text, "%.6g", res.monge_gap);
    fprintf(stderr, "mapfit_uvp: L2-UVP %.6g %%\n", uvp); /* before the slow part below */
    /* The Monge gap of the fitted map on the held-out points (first 1000),
     * with the default estimator (|x−y|², ε = 0.05·std of the costs). */
    size_t nm = ntest < test_mg_points ? ntest : test_mg_points;
    otk_monge_gap_params mp;
    otk_monge_gap_params_default(&mp);
    mp.threads = threads;
    otk_monge_gap_result mres;
    double mg_test = NAN, mg_lb = NAN;
    if (nm > 1 && otk_monge_gap_compute(nm, d, xt, tt, NULL, &mp, &mres, NULL, NULL) >= 0) {
        mg_test = mres.monge_gap;
        mg_lb = mres.lower_bound;
    }
    char mgt_text[32] = "null", mgl_text[32] = "null", ut_text[32] = "null", uo_text[32] = "null";
    if (isfinite(mg_test))
        snprintf(mgt_text, sizeof mgt_text, "%.6g", mg_test);
    if (isfinite(mg_lb))
        snprintf(mgl_text, sizeof mgl_text, "%.6g", mg_lb);
    if (isfinite(uvp_target))
        snprintf(ut_text, sizeof ut_text, "%.6g", uvp_target);
    if (isfinite(uvp_opt))
        snprintf(uo_text, sizeof uo_text, "%.6g", uvp_opt);
    printf("{\"case\": \"%s\", \"d\": %zu, \"family\": \"%s\", \"lambda\": %g, \"n\": %zu, "
           "\"ntest\": %zu, \"blur\": %g, \"iters\": %d, \"lr\": %g, \"batch\": %zu, "
           "\"seed\": %lu, \"status\": \"%s\", \"uvp\": %.6g, \"divergence\": %s, "
           "\"monge_gap_train\": %s, \"monge_gap_test\": %s, \"monge_gap_test_lower_bound\": %s, "
           "\"iterations\": %d, \"evaluations\": %d, \"inner_not_converged\": %d, "
           "\"seconds\": %.2f, \"threads\": %d, \"optimizer\": \"%s\", \"lr_schedule\": \"%s\", "
           "\"mg_eps\": %g, \"mg_relative_eps\": %g, \"mg_tol\": %g, \"div_tol\": %g, "
           "\"start\": \"%s\", \"loss_ot_map_train\": %s, \"loss_fit_train\": %s, "
           "\"cache_mb\": %g, \"mg_warm_start\": %d, \"uvp_target\": %s, \"uvp_optimality\": %s, "
           "\"defaults\": %d, \"budget\": %d, \"load\": %.2f}\n",
           rotation ? "rotation" : "gaussian", d, family, lambda, n, ntest, blur, res.iterations,
           lr, batch, seed, otk_status_name(st), uvp, div_text, mg_text, mgt_text,
           mgl_text, res.iterations, res.evaluations, res.inner_not_converged, seconds, threads, optimizer,
           cosine ? "cosine" : "constant", mg_eps, mg_rel, mg_tol, div_tol,
           init_path ? init_path : start_at_ot ? "ot-map" : rotation ? "rotation" : "identity", lot_text, lfit_text,
           cache_mb, mg_warm, ut_text, uo_text, defaults, budget, load_average());
    otk_map_free(map);
    gsl_rng_free(rng);
    free(S1), free(S2), free(m1), free(m2), free(r1), free(r1i), free(r2), free(M), free(T1);
    free(A), free(theta_ot), free(x), free(y), free(xt), free(tt);
    return 0;
}
