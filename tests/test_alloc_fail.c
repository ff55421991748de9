/*
 * tests/test_alloc_fail.c — allocation failures on every public function's
 * path (docs/reliability.md).
 *
 * The program is linked against the library's static objects with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (Makefile.am), so every
 * allocation the library makes goes through the wrappers below; the hook
 * lives in this test program only, never in the library.  For each scenario
 * (one public call on valid inputs) and k = 1, 2, ...: the k-th allocation
 * of the call fails; the call must return OTK_ENOMEM, leave its outputs as
 * they were (object pointers NULL, output arrays untouched) and free every
 * block it had allocated, until a k where the call makes fewer than k
 * allocations, which must then succeed.  Allocations made by the libraries
 * otkit calls (FFTW, CHOLMOD, GSL, libc's stdio) are not wrapped; ASan's
 * leak check (CI's sanitizer build) covers their frees.
 *
 * Prints the failure points tested per function; exit status 1 on any
 * violation.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "otkit.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);

/* A scenario's return after a failed allocation that took a documented
 * fallback and whose result it checked (not an otk_status). */
#define ALLOC_FALLBACK_OK ((otk_status)1000)

/* ------------------------------------------------------------ the hook */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int armed;
static long counter, fail_at, fired;

/* The blocks the wrappers handed out and not yet freed (a block libc
 * allocated itself, e.g. getline's buffer, is not counted when freed). */
enum { MAX_LIVE = 1 << 16 };
static void *live[MAX_LIVE];
static long n_live;

static void track(void *p)
{
    if (n_live == MAX_LIVE)
        abort();
    live[n_live++] = p;
}

static void untrack(void *p)
{
    for (long i = n_live - 1; i >= 0; i--)
        if (live[i] == p) {
            live[i] = live[--n_live];
            return;
        }
}

/* Whether this allocation is the one to fail. */
static int should_fail(void)
{
    if (!armed)
        return 0;
    if (++counter == fail_at) {
        fired = 1;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t size)
{
    pthread_mutex_lock(&lock);
    void *p = should_fail() ? NULL : __real_malloc(size);
    if (p)
        track(p);
    pthread_mutex_unlock(&lock);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    pthread_mutex_lock(&lock);
    void *p = should_fail() ? NULL : __real_calloc(n, size);
    if (p)
        track(p);
    pthread_mutex_unlock(&lock);
    return p;
}

void *__wrap_realloc(void *q, size_t size)
{
    pthread_mutex_lock(&lock);
    void *p = should_fail() ? NULL : __real_realloc(q, size);
    if (p) {
        if (q)
            untrack(q);
        track(p);
    }
    pthread_mutex_unlock(&lock);
    return p;
}

void __wrap_free(void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&lock);
    untrack(p);
    pthread_mutex_unlock(&lock);
    __real_free(p);
}

static void arm(long k)
{
    pthread_mutex_lock(&lock);
    counter = 0;
    fail_at = k;
    fired = 0;
    armed = 1;
    pthread_mutex_unlock(&lock);
}

static void disarm(void)
{
    pthread_mutex_lock(&lock);
    armed = 0;
    pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------ checks */

static int failures;

#define FAIL(...)                                                                   \
    do {                                                                            \
        fprintf(stderr, "test_alloc_fail: " __VA_ARGS__);                            \
        fputc('\n', stderr);                                                        \
        failures++;                                                                 \
    } while (0)

/* An output array filled with a sentinel before the call. */
#define SENTINEL 12345.678
static void fill(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = SENTINEL;
}

static int untouched(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != SENTINEL)
            return 0;
    return 1;
}

/* ------------------------------------------------------------ inputs */

enum { N = 6, M = 5, D = 2 };
static double X[N * D], Y[M * D], A[N], B[M], Cxy[N * M];
static float Xf[N * D], Yf[M * D]; /* X and Y in float32 */

static void make_inputs(void)
{
    for (int i = 0; i < N * D; i++)
        X[i] = 0.1 * (double)((i * 7) % 11);
    for (int j = 0; j < M * D; j++)
        Y[j] = 0.13 * (double)((j * 5) % 9) + 0.2;
    for (int i = 0; i < N; i++)
        A[i] = 1.0 / N;
    for (int j = 0; j < M; j++)
        B[j] = 1.0 / M;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < M; j++) {
            double s = 0;
            for (int k = 0; k < D; k++)
                s += (X[i * D + k] - Y[j * D + k]) * (X[i * D + k] - Y[j * D + k]);
            Cxy[i * M + j] = s;
        }
    for (int i = 0; i < N * D; i++)
        Xf[i] = (float)X[i];
    for (int j = 0; j < M * D; j++)
        Yf[j] = (float)Y[j];
}

static otk_sinkhorn_params sinkhorn_params(void)
{
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.blur = 0.2;
    p.threads = 1;
    return p;
}

/* ------------------------------------------------------------ scenarios
 *
 * Each scenario builds its inputs (unarmed), makes the one call under test
 * between ARM and DISARM, checks that a failed call left its outputs alone,
 * and frees everything.  It returns the call's status. */

#define ARM() arm(k)
#define DISARM() disarm()

static otk_status sc_cost_points(long k)
{
    otk_cost *c = (otk_cost *)&c;
    ARM();
    otk_status st = otk_cost_points(&c, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0);
    DISARM();
    if (st < 0 && c)
        FAIL("otk_cost_points: *out not NULL after %s", otk_status_name(st));
    if (st >= 0)
        otk_cost_free(c);
    return st;
}

static otk_status sc_cost_points_cache(long k)
{
    otk_cost *c = NULL;
    otk_cost_points(&c, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0);
    ARM();
    otk_status st = otk_cost_points_cache(c, (size_t)1 << 20);
    DISARM();
    otk_cost_free(c);
    return st;
}

static otk_status sc_cost_dense(long k)
{
    otk_cost *c = (otk_cost *)&c;
    ARM();
    otk_status st = otk_cost_dense(&c, N, M, Cxy, M);
    DISARM();
    if (st < 0 && c)
        FAIL("otk_cost_dense: *out not NULL");
    if (st >= 0)
        otk_cost_free(c);
    return st;
}

static otk_status sc_cost_sparse(long k)
{
    /* A 3×3 cost with the diagonal and the first row. */
    static const size_t colptr[4] = {0, 1, 3, 5}, rowind[5] = {0, 0, 1, 0, 2};
    static const double values[5] = {0, 1, 0, 2, 0};
    otk_cost *c = (otk_cost *)&c;
    ARM();
    otk_status st = otk_cost_sparse(&c, 3, 3, colptr, rowind, values);
    DISARM();
    if (st < 0 && c)
        FAIL("otk_cost_sparse: *out not NULL");
    if (st >= 0)
        otk_cost_free(c);
    return st;
}

static otk_status sc_cost_grid(long k)
{
    const size_t shape[2] = {4, 5};
    otk_cost *c = (otk_cost *)&c;
    ARM();
    otk_status st = otk_cost_grid(&c, 2, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL);
    DISARM();
    if (st < 0 && c)
        FAIL("otk_cost_grid: *out not NULL");
    if (st >= 0)
        otk_cost_free(c);
    return st;
}

static otk_status sc_sinkhorn_alloc(long k)
{
    otk_cost *c = NULL;
    otk_cost_points(&c, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0);
    otk_sinkhorn_params p = sinkhorn_params();
    otk_sinkhorn *s = (otk_sinkhorn *)&s;
    ARM();
    otk_status st = otk_sinkhorn_alloc(&s, c, &p);
    DISARM();
    if (st < 0 && s)
        FAIL("otk_sinkhorn_alloc: *out not NULL");
    if (st >= 0)
        otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
}

/* A solver on the dense cost, solved unless `solve` is 0. */
static otk_sinkhorn *solver(otk_cost **c, int solve)
{
    otk_sinkhorn_params p = sinkhorn_params();
    p.p = 2.0; /* Cxy holds squared distances; a dense cost has no exponent */
    otk_sinkhorn *s = NULL;
    otk_cost_dense(c, N, M, Cxy, M);
    otk_sinkhorn_alloc(&s, *c, &p);
    if (solve) {
        otk_sinkhorn_result r;
        otk_sinkhorn_solve(s, A, B, &r);
    }
    return s;
}

static otk_status sc_sinkhorn_solve(long k)
{
    otk_cost *c = NULL;
    otk_sinkhorn *s = solver(&c, 0);
    otk_sinkhorn_result r;
    fill((double *)&r, 3);
    ARM();
    otk_status st = otk_sinkhorn_solve(s, A, B, &r);
    DISARM();
    if (st < 0 && !untouched((double *)&r, 3))
        FAIL("otk_sinkhorn_solve: result written after %s", otk_status_name(st));
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
}

static otk_status sc_sinkhorn_plan(long k)
{
    otk_cost *c = NULL;
    otk_sinkhorn *s = solver(&c, 1);
    double P[N * M];
    fill(P, N * M);
    ARM();
    otk_status st = otk_sinkhorn_plan(s, P);
    DISARM();
    if (st < 0 && !untouched(P, N * M))
        FAIL("otk_sinkhorn_plan: plan written after %s", otk_status_name(st));
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
}

static otk_status sc_sinkhorn_barycentric(long k)
{
    otk_cost *c = NULL;
    otk_sinkhorn *s = solver(&c, 1);
    double out[N * D];
    fill(out, N * D);
    ARM();
    otk_status st = otk_sinkhorn_barycentric(s, D, Y, out);
    DISARM();
    if (st < 0 && !untouched(out, N * D))
        FAIL("otk_sinkhorn_barycentric: output written after %s", otk_status_name(st));
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
}

static otk_status sc_sinkhorn_marginals(long k)
{
    otk_cost *c = NULL;
    otk_sinkhorn *s = solver(&c, 1);
    double row[N], col[M];
    fill(row, N);
    fill(col, M);
    ARM();
    otk_status st = otk_sinkhorn_marginals(s, row, col);
    DISARM();
    if (st < 0 && !(untouched(row, N) && untouched(col, M)))
        FAIL("otk_sinkhorn_marginals: output written after %s", otk_status_name(st));
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
}

static otk_status sc_divergence_alloc_points(long k)
{
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.threads = 1;
    otk_divergence *dv = (otk_divergence *)&dv;
    ARM();
    otk_status st = otk_divergence_alloc_points(&dv, N, M, D, X, Y,
                                                OTK_GROUND_HALF_SQEUCLIDEAN, 0, &p);
    DISARM();
    if (st < 0 && dv)
        FAIL("otk_divergence_alloc_points: *out not NULL");
    if (st >= 0)
        otk_divergence_free(dv);
    return st;
}

static otk_divergence *divergence(void)
{
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.threads = 1;
    p.blur = 0.2;
    otk_divergence *dv = NULL;
    otk_divergence_alloc_points(&dv, N, M, D, X, Y, OTK_GROUND_HALF_SQEUCLIDEAN, 0, &p);
    return dv;
}

static otk_status sc_divergence_solve(long k)
{
    otk_divergence *dv = divergence();
    otk_divergence_result r;
    fill((double *)&r, 1);
    ARM();
    otk_status st = otk_divergence_solve(dv, A, B, &r);
    DISARM();
    if (st < 0 && !untouched((double *)&r, 1))
        FAIL("otk_divergence_solve: result written after %s", otk_status_name(st));
    otk_divergence_free(dv);
    return st;
}

static otk_status sc_divergence_grad_x(long k)
{
    otk_divergence *dv = divergence();
    otk_divergence_result r;
    otk_divergence_solve(dv, A, B, &r);
    double g[N * D];
    fill(g, N * D);
    ARM();
    otk_status st = otk_divergence_grad_x(dv, g);
    DISARM();
    if (st < 0 && !untouched(g, N * D))
        FAIL("otk_divergence_grad_x: output written after %s", otk_status_name(st));
    otk_divergence_free(dv);
    return st;
}

static otk_status sc_divergence_geomloss(long k)
{
    double v = SENTINEL;
    ARM();
    otk_status st = otk_divergence_geomloss(&v, N, M, D, X, Y, A, B, 2, 0.2, 0, 0.5, 0, 1, NULL);
    DISARM();
    if (st < 0 && v != SENTINEL)
        FAIL("otk_divergence_geomloss: value written after %s", otk_status_name(st));
    return st;
}

/* Batches of two problems (the inputs twice).  A failure before any solve
 * writes nothing; a failure inside problem k leaves that problem's outputs
 * alone, sets its status and is the call's status (otkit/batch.h). */
enum { NB = 2 };
static double XB[NB * N * D], YB[NB * M * D];

static void batch_inputs(void)
{
    for (int k = 0; k < NB; k++) {
        memcpy(XB + k * N * D, X, sizeof X);
        memcpy(YB + k * M * D, Y, sizeof Y);
    }
}

static void check_batch_outputs(const char *fn, otk_status st, const otk_status *status,
                                const double *value, size_t stride, const double *out,
                                size_t len)
{
    if (st >= 0)
        return;
    int failed = 0;
    for (int k = 0; k < NB; k++) {
        if (status[k] >= 0)
            continue;
        failed++;
        if (!untouched(out + k * len, len))
            FAIL("%s: problem %d's output written after %s", fn, k, otk_status_name(status[k]));
    }
    if (failed == 0)
        for (int k = 0; k < NB; k++)
            if (*(const double *)((const char *)value + k * stride) != SENTINEL ||
                !untouched(out + k * len, len))
                FAIL("%s: problem %d written although the call failed before solving (%s)", fn,
                     k, otk_status_name(st));
}

static otk_status sc_sinkhorn_batch(long k)
{
    batch_inputs();
    otk_sinkhorn_params p = sinkhorn_params();
    otk_sinkhorn_result r[NB];
    otk_status status[NB] = {0};
    double f[NB * N];
    for (int q = 0; q < NB; q++) {
        fill(&r[q].ot_kl, 1);
        r[q].status = 0;
    }
    fill(f, NB * N);
    ARM();
    otk_status st = otk_sinkhorn_batch(NB, N, M, D, XB, YB, NULL, NULL, OTK_GROUND_SQEUCLIDEAN, 0,
                                       &p, r, f, NULL);
    DISARM();
    for (int q = 0; q < NB; q++)
        status[q] = r[q].status;
    check_batch_outputs("otk_sinkhorn_batch", st, status, &r[0].ot_kl, sizeof r[0], f, N);
    return st;
}

static otk_status sc_divergence_batch(long k)
{
    batch_inputs();
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.blur = 0.2;
    p.threads = 1;
    otk_divergence_result r[NB];
    otk_status status[NB] = {0};
    double gx[NB * N * D];
    for (int q = 0; q < NB; q++) {
        fill(&r[q].divergence, 1);
        r[q].status = 0;
    }
    fill(gx, NB * N * D);
    ARM();
    otk_status st = otk_divergence_batch(NB, N, M, D, XB, YB, NULL, NULL,
                                         OTK_GROUND_HALF_SQEUCLIDEAN, 0, &p, r, gx, NULL, NULL,
                                         NULL);
    DISARM();
    for (int q = 0; q < NB; q++)
        status[q] = r[q].status;
    check_batch_outputs("otk_divergence_batch", st, status, &r[0].divergence, sizeof r[0], gx,
                        N * D);
    return st;
}

static otk_status sc_barycenter(long k)
{
    const size_t shape[1] = {8};
    otk_cost *c = NULL;
    otk_cost_grid(&c, 1, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL);
    double H[16], w[2] = {0.5, 0.5}, out[8];
    for (int i = 0; i < 8; i++) {
        H[i] = i < 4 ? 0.25 : 0.0;
        H[8 + i] = i >= 4 ? 0.25 : 0.0;
    }
    otk_barycenter_params p;
    otk_barycenter_params_default(&p);
    p.eps = 0.5;
    p.threads = 1;
    fill(out, 8);
    ARM();
    otk_status st = otk_barycenter(c, 2, H, w, &p, out, NULL);
    DISARM();
    if (st < 0 && !untouched(out, 8))
        FAIL("otk_barycenter: output written after %s", otk_status_name(st));
    otk_cost_free(c);
    return st;
}

static otk_status sc_sinkd_loss(long k)
{
    otk_sinkd_params p;
    otk_sinkd_params_default(&p);
    p.threads = 1;
    otk_sinkd *sd = (otk_sinkd *)&sd;
    double zs[6] = {1, 2, 0.5, 0, 1, 3}, zt[6] = {2, 1, 0, 1, 0, 2}, loss = SENTINEL;
    double gs[6], gt[6];
    fill(gs, 6);
    fill(gt, 6);
    ARM();
    otk_status st = otk_sinkd_alloc(&sd, 2, 3, &p);
    if (st >= 0)
        st = otk_sinkd_loss(sd, zs, zt, &loss, gs, gt);
    DISARM();
    if (st < 0 && !(loss == SENTINEL && untouched(gs, 6) && untouched(gt, 6)))
        FAIL("otk_sinkd_alloc/loss: outputs written after %s", otk_status_name(st));
    if (sd != (otk_sinkd *)&sd)
        otk_sinkd_free(sd);
    return st;
}

static otk_status sc_monge_gap_compute(long k)
{
    otk_monge_gap_params p;
    otk_monge_gap_params_default(&p);
    p.threads = 1;
    p.eps = 0.1;
    otk_monge_gap_result r;
    double gtx[N * D], gx[N * D];
    fill((double *)&r, 1);
    fill(gtx, N * D);
    fill(gx, N * D);
    ARM();
    otk_status st = otk_monge_gap_compute(N, D, X, X, NULL, &p, &r, gtx, gx);
    DISARM();
    if (st < 0 && !(untouched((double *)&r, 1) && untouched(gtx, N * D) && untouched(gx, N * D)))
        FAIL("otk_monge_gap_compute: outputs written after %s", otk_status_name(st));
    return st;
}

/* The multiscale workspace rebuilds its clusters and solver at each
 * evaluation: two evaluations, so that a failure in the second one frees
 * what the first one built.  The point level's sub-cluster block lists are
 * an optimisation with a documented fallback (solvers/cost/multiscale.c,
 * build_lists: without memory for them every block is kept, exact and
 * slower), so a failed allocation may also end in OTK_SUCCESS: then the
 * value and gradient must be those of the run without failures, to
 * rounding (ALLOC_FALLBACK_OK). */
static otk_status monge_gap_multiscale(otk_monge_gap_result *r, double *gtx, int armed_run, long k)
{
    otk_monge_gap_params p;
    otk_monge_gap_params_default(&p);
    p.threads = 1;
    p.eps = 0.1;
    p.backend = OTK_BACKEND_MULTISCALE;
    otk_monge_gap *mg = NULL;
    if (armed_run)
        ARM();
    otk_status st = otk_monge_gap_alloc(&mg, N, D, &p);
    if (st >= 0)
        st = otk_monge_gap_eval(mg, X, X, NULL, r, gtx, NULL);
    if (st >= 0)
        st = otk_monge_gap_eval(mg, X, X, NULL, r, gtx, NULL);
    if (armed_run)
        DISARM();
    otk_monge_gap_free(mg);
    return st;
}

static otk_status sc_monge_gap_multiscale(long k)
{
    static otk_monge_gap_result ref;
    static double ref_g[N * D];
    static int have_ref;
    if (!have_ref) {
        if (monge_gap_multiscale(&ref, ref_g, 0, 0) < 0)
            FAIL("otk_monge_gap multiscale: the run without failures failed");
        have_ref = 1;
    }
    otk_monge_gap_result r;
    double gtx[N * D];
    otk_status st = monge_gap_multiscale(&r, gtx, 1, k);
    if (st < 0 || !fired)
        return st;
    double gap = fabs(r.monge_gap - ref.monge_gap) / fmax(fabs(ref.monge_gap), 1e-300);
    for (size_t i = 0; i < N * D; i++)
        gap = fmax(gap, fabs(gtx[i] - ref_g[i]));
    if (!(gap <= 1e-12))
        FAIL("otk_monge_gap multiscale: allocation %ld failed, the fallback's result is %g "
             "off the run without failures",
             k, gap);
    return ALLOC_FALLBACK_OK;
}

static otk_status sc_entropic_map(long k)
{
    otk_sinkhorn_params p = sinkhorn_params();
    otk_entropic_map *T = (otk_entropic_map *)&T;
    double tz[N * D];
    fill(tz, N * D);
    ARM();
    otk_status st = otk_entropic_map_fit(&T, N, M, D, X, Y, NULL, NULL, OTK_GROUND_SQEUCLIDEAN,
                                         0, &p);
    if (st >= 0)
        st = otk_entropic_map_apply(T, N, X, tz, 1);
    DISARM();
    if (st < 0 && !untouched(tz, N * D))
        FAIL("otk_entropic_map_fit/apply: output written after %s", otk_status_name(st));
    if (T != (otk_entropic_map *)&T)
        otk_entropic_map_free(T);
    return st;
}

static otk_status sc_mesh_generate(long k)
{
    otk_mesh *mesh = (otk_mesh *)&mesh;
    ARM();
    otk_status st = otk_mesh_generate(&mesh, OTK_MESH_ICOSPHERE, 1);
    DISARM();
    if (st < 0 && mesh)
        FAIL("otk_mesh_generate: *out not NULL");
    if (st >= 0)
        otk_mesh_free(mesh);
    return st;
}

static otk_status sc_cost_mesh(long k)
{
    otk_mesh *mesh = NULL;
    otk_mesh_generate(&mesh, OTK_MESH_SQUARE, 3);
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    hp.eps = 0.05;
    otk_cost *c = (otk_cost *)&c;
    ARM();
    otk_status st = otk_cost_mesh(&c, mesh, &hp);
    DISARM();
    if (st < 0 && c)
        FAIL("otk_cost_mesh: *out not NULL");
    if (st >= 0)
        otk_cost_free(c);
    otk_mesh_free(mesh);
    return st;
}

static char mesh_path[4096], map_path[4096];

static otk_status sc_mesh_read(long k)
{
    otk_mesh *mesh = (otk_mesh *)&mesh;
    ARM();
    otk_status st = otk_mesh_read(&mesh, mesh_path);
    DISARM();
    if (st < 0 && mesh)
        FAIL("otk_mesh_read: *out not NULL");
    if (st >= 0)
        otk_mesh_free(mesh);
    return st;
}

static otk_status sc_map_mlp_apply(long k)
{
    const size_t widths[2] = {4, 3};
    otk_map *map = (otk_map *)&map;
    double tx[N * D];
    fill(tx, N * D);
    ARM();
    otk_status st = otk_map_alloc_mlp(&map, D, 2, widths, OTK_ACTIVATION_GELU, 1);
    if (st >= 0)
        st = otk_map_apply(map, N, X, tx, 1);
    DISARM();
    if (st < 0 && !untouched(tx, N * D))
        FAIL("otk_map_alloc_mlp/apply: output written after %s", otk_status_name(st));
    if (map != (otk_map *)&map)
        otk_map_free(map);
    return st;
}

static otk_status sc_map_fit(long k)
{
    otk_map *map = NULL;
    otk_map_alloc_affine(&map, D);
    otk_map_fit_params p;
    otk_map_fit_params_default(&p);
    p.threads = 1;
    p.iters = 2;
    p.divergence.blur = 0.3;
    p.divergence.max_iter = 100;
    p.monge_gap.max_iter = 100;
    p.monge_gap.eps = 0.2;
    otk_map_fit_result r;
    ARM();
    otk_status st = otk_map_fit(map, N, M, D, X, Y, &p, &r);
    DISARM();
    otk_map_free(map);
    return st;
}

/* λ = 0: M̂ is no part of the loss, only of the final report (mapfit.h),
 * a path of its own through the fit's context. */
static otk_status sc_map_fit_lambda0(long k)
{
    otk_map *map = NULL;
    otk_map_alloc_affine(&map, D);
    otk_map_fit_params p;
    otk_map_fit_params_default(&p);
    p.threads = 1;
    p.iters = 2;
    p.lambda = 0.0;
    p.divergence.blur = 0.3;
    p.divergence.max_iter = 100;
    p.monge_gap.max_iter = 100;
    p.monge_gap.eps = 0.2;
    otk_map_fit_result r;
    ARM();
    otk_status st = otk_map_fit(map, N, M, D, X, Y, &p, &r);
    DISARM();
    otk_map_free(map);
    return st;
}

static otk_status sc_map_save_load(long k)
{
    otk_map *map = NULL, *back = (otk_map *)&back;
    otk_map_alloc_affine(&map, D);
    ARM();
    otk_status st = otk_map_save(map, map_path);
    if (st >= 0)
        st = otk_map_load(&back, map_path);
    DISARM();
    if (back != (otk_map *)&back) {
        if (st < 0 && back)
            FAIL("otk_map_load: *out not NULL");
        otk_map_free(back);
    }
    otk_map_free(map);
    return st;
}

static otk_status sc_cost_softmin(long k)
{
    otk_cost *c = NULL;
    otk_cost_points(&c, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0);
    double h[M] = {0}, out[N];
    fill(out, N);
    ARM();
    otk_status st = otk_cost_softmin(c, 0, 0.1, h, out, 1);
    DISARM();
    if (st < 0 && !untouched(out, N))
        FAIL("otk_cost_softmin: output written after %s", otk_status_name(st));
    otk_cost_free(c);
    return st;
}

/* ---------------------------------------- float32 point clouds */

static otk_status sc_cost_points_f32(long k)
{
    otk_cost *c = (otk_cost *)&c;
    ARM();
    otk_status st = otk_cost_points_f32(&c, N, M, D, Xf, Yf, OTK_GROUND_SQEUCLIDEAN, 0);
    DISARM();
    if (st < 0 && c)
        FAIL("otk_cost_points_f32: *out not NULL after %s", otk_status_name(st));
    if (st >= 0)
        otk_cost_free(c);
    return st;
}

/* A float32 cost through a whole Sinkhorn solve: its soft-mins are the
 * float32 kernels, the read-outs widen the coordinates. */
static otk_status sc_sinkhorn_f32(long k)
{
    otk_cost *c = NULL;
    otk_cost_points_f32(&c, N, M, D, Xf, Yf, OTK_GROUND_SQEUCLIDEAN, 0);
    otk_sinkhorn_params p = sinkhorn_params();
    otk_sinkhorn *s = (otk_sinkhorn *)&s;
    otk_sinkhorn_result r;
    double P[N * M];
    fill((double *)&r, 3);
    fill(P, N * M);
    ARM();
    otk_status st = otk_sinkhorn_alloc(&s, c, &p);
    if (st >= 0)
        st = otk_sinkhorn_solve(s, A, B, &r);
    if (st >= 0)
        st = otk_sinkhorn_plan(s, P);
    DISARM();
    if (st < 0 && !(untouched((double *)&r, 3) && untouched(P, N * M)))
        FAIL("otk_sinkhorn_alloc/solve/plan (float32): outputs written after %s",
             otk_status_name(st));
    if (s != (otk_sinkhorn *)&s)
        otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
}

static otk_status sc_cost_points_f32_cache(long k)
{
    otk_cost *c = NULL;
    otk_cost_points_f32(&c, N, M, D, Xf, Yf, OTK_GROUND_SQEUCLIDEAN, 0);
    ARM();
    otk_status st = otk_cost_points_cache(c, (size_t)1 << 20);
    DISARM();
    otk_cost_free(c);
    return st;
}

/* ---------------------------------------- exact: network simplex, sliced */

/* A point-cloud cost without a cache: otk_emd_alloc evaluates it into a
 * matrix of its own (one more allocation than a dense cost). */
static otk_status sc_emd(long k)
{
    otk_cost *c = NULL;
    otk_cost_points(&c, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0);
    otk_emd *s = (otk_emd *)&s;
    otk_emd_result r;
    size_t rows[N + M], cols[N + M];
    double mass[N + M], u[N], v[M];
    fill((double *)&r, 2);
    fill(mass, N + M);
    fill(u, N);
    fill(v, M);
    ARM();
    otk_status st = otk_emd_alloc(&s, c, NULL);
    if (st >= 0)
        st = otk_emd_solve(s, A, B, &r);
    if (st >= 0)
        st = otk_emd_plan(s, rows, cols, mass);
    if (st >= 0)
        st = otk_emd_potentials(s, u, v);
    DISARM();
    if (st < 0 && s)
        FAIL("otk_emd_alloc: *out not NULL after %s", otk_status_name(st));
    if (st < 0 && !(untouched((double *)&r, 2) && untouched(mass, N + M) && untouched(u, N) &&
                    untouched(v, M)))
        FAIL("otk_emd_alloc/solve: outputs written after %s", otk_status_name(st));
    if (s != (otk_emd *)&s)
        otk_emd_free(s);
    otk_cost_free(c);
    return st;
}

static otk_status sc_emd_dense(long k)
{
    otk_cost *c = NULL;
    otk_cost_dense(&c, N, M, Cxy, M);
    otk_emd *s = (otk_emd *)&s;
    ARM();
    otk_status st = otk_emd_alloc(&s, c, NULL);
    DISARM();
    if (st < 0 && s)
        FAIL("otk_emd_alloc (dense): *out not NULL after %s", otk_status_name(st));
    if (st >= 0)
        otk_emd_free(s);
    otk_cost_free(c);
    return st;
}

static otk_status sc_wasserstein_1d(long k)
{
    double v = SENTINEL, gx[N], gy[M], ga[N], gb[M];
    fill(gx, N);
    fill(gy, M);
    fill(ga, N);
    fill(gb, M);
    ARM();
    otk_status st = otk_wasserstein_1d(N, X, A, M, Y, B, 2.0, &v, gx, gy, ga, gb);
    DISARM();
    if (st < 0 && !(v == SENTINEL && untouched(gx, N) && untouched(gy, M) && untouched(ga, N) &&
                    untouched(gb, M)))
        FAIL("otk_wasserstein_1d: outputs written after %s", otk_status_name(st));
    return st;
}

/* Drawn directions (Gaussian, or Halton with its own scratch) and one
 * evaluation with every gradient. */
static otk_status sliced(long k, otk_directions kind)
{
    otk_sliced_params p;
    otk_sliced_params_default(&p);
    p.n_projections = 7;
    p.directions = kind;
    otk_sliced *s = (otk_sliced *)&s;
    otk_sliced_result r;
    double gX[N * D], gY[M * D], ga[N], gb[M];
    fill((double *)&r, 3);
    fill(gX, N * D);
    fill(gY, M * D);
    fill(ga, N);
    fill(gb, M);
    ARM();
    otk_status st = otk_sliced_alloc(&s, N, M, D, &p, NULL);
    if (st >= 0)
        st = otk_sliced_eval(s, X, A, Y, B, &r, gX, gY, ga, gb);
    DISARM();
    if (st < 0 && s)
        FAIL("otk_sliced_alloc: *out not NULL after %s", otk_status_name(st));
    if (st < 0 && !(untouched((double *)&r, 3) && untouched(gX, N * D) && untouched(gY, M * D) &&
                    untouched(ga, N) && untouched(gb, M)))
        FAIL("otk_sliced_alloc/eval: outputs written after %s", otk_status_name(st));
    if (s != (otk_sliced *)&s)
        otk_sliced_free(s);
    return st;
}

static otk_status sc_sliced_gaussian(long k) { return sliced(k, OTK_DIRECTIONS_GAUSSIAN); }
static otk_status sc_sliced_halton(long k) { return sliced(k, OTK_DIRECTIONS_HALTON); }

/* ---------------------------------------- f-divergences, PSI, IV */

enum { FB = 3, FK = 4 };
static const double FP[FB * FK] = {0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25, 0.7, 0.1, 0.1, 0.1};
static const double FQ[FB * FK] = {0.4, 0.3, 0.2, 0.1, 0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25};

/* Both gradients and smoothing: every scratch table of the call. */
static otk_status sc_fdiv_probs(long k)
{
    otk_fdiv_params p;
    otk_fdiv_params_default(&p);
    p.threads = 1;
    p.smoothing = 0.01;
    p.reduction = OTK_REDUCTION_NONE;
    double v[FB], gp[FB * FK], gq[FB * FK];
    fill(v, FB);
    fill(gp, FB * FK);
    fill(gq, FB * FK);
    ARM();
    otk_status st = otk_fdiv_probs(&p, FB, FK, FP, FQ, v, gp, gq);
    DISARM();
    if (st < 0 && !(untouched(v, FB) && untouched(gp, FB * FK) && untouched(gq, FB * FK)))
        FAIL("otk_fdiv_probs: outputs written after %s", otk_status_name(st));
    return st;
}

static otk_status sc_fdiv_logits(long k)
{
    otk_fdiv_params p;
    otk_fdiv_params_default(&p);
    p.threads = 1;
    p.kind = OTK_FDIV_JS;
    p.tau = 2.0;
    double v = SENTINEL, gp[FB * FK], gq[FB * FK];
    fill(gp, FB * FK);
    fill(gq, FB * FK);
    ARM();
    otk_status st = otk_fdiv_logits(&p, FB, FK, FP, FQ, &v, gp, gq);
    DISARM();
    if (st < 0 && !(v == SENTINEL && untouched(gp, FB * FK) && untouched(gq, FB * FK)))
        FAIL("otk_fdiv_logits: outputs written after %s", otk_status_name(st));
    return st;
}

static otk_status sc_psi_counts(long k)
{
    const double e[4] = {10, 20, 30, 40}, a[4] = {12, 18, 0, 45};
    double psi = SENTINEL, per_bin[4];
    ARM();
    otk_status st = otk_psi_counts(4, e, a, 1e-4, &psi, per_bin);
    DISARM();
    if (st < 0 && psi != SENTINEL)
        FAIL("otk_psi_counts: psi written after %s", otk_status_name(st));
    return st;
}

/* Quantile bins: the reference sample is sorted in a scratch copy. */
static otk_status sc_psi(long k)
{
    otk_bins_params p;
    otk_bins_params_default(&p);
    p.bins = 4;
    double psi = SENTINEL, edges[3], per_bin[4];
    size_t m_out = 0;
    fill(edges, 3);
    fill(per_bin, 4);
    ARM();
    otk_status st = otk_psi(&p, X, N * D, Y, M * D, &psi, &m_out, edges, per_bin);
    DISARM();
    if (st < 0 && !(psi == SENTINEL && m_out == 0 && untouched(edges, 3) && untouched(per_bin, 4)))
        FAIL("otk_psi: outputs written after %s", otk_status_name(st));
    return st;
}

static otk_status sc_information_value(long k)
{
    otk_bins_params p;
    otk_bins_params_default(&p);
    p.bins = 3;
    const int y[N * D] = {0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0};
    double iv = SENTINEL, edges[2], woe[3];
    fill(edges, 2);
    fill(woe, 3);
    ARM();
    otk_status st = otk_information_value(&p, X, y, N * D, &iv, NULL, edges, woe);
    DISARM();
    if (st < 0 && !(iv == SENTINEL && untouched(edges, 2) && untouched(woe, 3)))
        FAIL("otk_information_value: outputs written after %s", otk_status_name(st));
    return st;
}

typedef struct {
    const char *name;
    otk_status (*run)(long k);
} scenario;

static const scenario scenarios[] = {
    {"otk_cost_points", sc_cost_points},
    {"otk_cost_points_cache", sc_cost_points_cache},
    {"otk_cost_dense", sc_cost_dense},
    {"otk_cost_sparse", sc_cost_sparse},
    {"otk_cost_grid", sc_cost_grid},
    {"otk_cost_softmin", sc_cost_softmin},
    {"otk_sinkhorn_alloc", sc_sinkhorn_alloc},
    {"otk_sinkhorn_solve", sc_sinkhorn_solve},
    {"otk_sinkhorn_plan", sc_sinkhorn_plan},
    {"otk_sinkhorn_barycentric", sc_sinkhorn_barycentric},
    {"otk_sinkhorn_marginals", sc_sinkhorn_marginals},
    {"otk_divergence_alloc_points", sc_divergence_alloc_points},
    {"otk_divergence_solve", sc_divergence_solve},
    {"otk_divergence_grad_x", sc_divergence_grad_x},
    {"otk_divergence_geomloss", sc_divergence_geomloss},
    {"otk_sinkhorn_batch", sc_sinkhorn_batch},
    {"otk_divergence_batch", sc_divergence_batch},
    {"otk_barycenter", sc_barycenter},
    {"otk_sinkd_alloc+loss", sc_sinkd_loss},
    {"otk_monge_gap_compute", sc_monge_gap_compute},
    {"otk_monge_gap multiscale", sc_monge_gap_multiscale},
    {"otk_entropic_map_fit+apply", sc_entropic_map},
    {"otk_mesh_generate", sc_mesh_generate},
    {"otk_mesh_read", sc_mesh_read},
    {"otk_cost_mesh", sc_cost_mesh},
    {"otk_map_alloc_mlp+apply", sc_map_mlp_apply},
    {"otk_map_fit", sc_map_fit},
    {"otk_map_fit (lambda 0)", sc_map_fit_lambda0},
    {"otk_map_save+load", sc_map_save_load},
    {"otk_cost_points_f32", sc_cost_points_f32},
    {"otk_cost_points_cache (f32)", sc_cost_points_f32_cache},
    {"otk_sinkhorn (f32 cost)", sc_sinkhorn_f32},
    {"otk_emd (points cost)", sc_emd},
    {"otk_emd_alloc (dense cost)", sc_emd_dense},
    {"otk_wasserstein_1d", sc_wasserstein_1d},
    {"otk_sliced (gaussian)", sc_sliced_gaussian},
    {"otk_sliced (halton)", sc_sliced_halton},
    {"otk_fdiv_probs", sc_fdiv_probs},
    {"otk_fdiv_logits", sc_fdiv_logits},
    {"otk_psi_counts", sc_psi_counts},
    {"otk_psi", sc_psi},
    {"otk_information_value", sc_information_value},
};

int main(void)
{
    make_inputs();
    char dir[] = "/tmp/otk-alloc-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(mesh_path, sizeof mesh_path, "%s/tetra.off", dir);
    snprintf(map_path, sizeof map_path, "%s/map.txt", dir);
    FILE *f = fopen(mesh_path, "w");
    if (!f)
        return 1;
    fputs("OFF\n4 4 6\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n", f);
    fclose(f);

    long total = 0;
    for (const scenario *s = scenarios; s < scenarios + sizeof scenarios / sizeof *scenarios; s++) {
        long k, n_fallback = 0;
        for (k = 1;; k++) {
            long before = n_live;
            otk_status st = s->run(k);
            int was_fired = (int)fired;
            if (n_live != before)
                FAIL("%s: %ld block(s) leaked with allocation %ld failing", s->name,
                     n_live - before, k);
            if (!was_fired) {
                if (st < 0)
                    FAIL("%s: %s without a failed allocation", s->name, otk_status_name(st));
                break;
            }
            if (st == ALLOC_FALLBACK_OK)
                n_fallback++;
            else if (st != OTK_ENOMEM)
                FAIL("%s: allocation %ld failed, returned %s (expected OTK_ENOMEM)", s->name, k,
                     otk_status_name(st));
            else if (!strstr(otk_last_error(), "memory"))
                FAIL("%s: OTK_ENOMEM message \"%s\" does not say out of memory", s->name,
                     otk_last_error());
        }
        if (k == 1)
            printf("%-28s allocates nothing\n", s->name);
        else
            printf("%-28s %4ld allocation failures tested%s\n", s->name, k - 1,
                   n_fallback ? " (some by the documented fallback, result checked)" : "");
        fflush(stdout);
        total += k - 1;
    }
    unlink(mesh_path);
    unlink(map_path);
    rmdir(dir);
    printf("%ld allocation failures in %zu scenarios, %d violation(s)\n", total,
           sizeof scenarios / sizeof *scenarios, failures);
    return failures ? 1 : 0;
}
