/*
 * tests/test_threads.c — thread safety (docs/reliability.md).
 *
 * The same problems solved serially and then concurrently from 8 threads
 * (pthreads), each thread with its own solver objects on costs shared
 * read-only between all threads, each thread visiting the problems in its
 * own order: every value and potential must be bitwise identical to the
 * serial solve.  Grid costs are the documented exception (otkit/grid.h: they
 * own their FFT buffers, one thread at a time): each thread has its own,
 * built before the threads start (the FFTW planner is not thread-safe).  Solvers run with threads = 1 inside (OpenMP's reductions
 * are deterministic for a fixed team, but one team per caller thread is
 * what an application does).  `make tsan` builds this test under
 * ThreadSanitizer.
 *
 * Problems: Sinkhorn on point clouds (balanced and unbalanced), on a dense
 * cost, on a 2-D grid and on a mesh's heat kernel; Sinkhorn divergences with
 * gradients; a SinKD loss.  Exit status 1 on any difference.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "otkit.h"

enum { N = 40, M = 30, D = 3, THREADS = 8, ROUNDS = 3 };
enum { P_POINTS, P_UNBALANCED, P_DENSE, P_GRID, P_MESH, P_DIVERGENCE, P_SINKD, N_PROBLEMS };
static const char *names[N_PROBLEMS] = {"points",     "unbalanced", "dense", "grid",
                                        "mesh",       "divergence", "sinkd"};

static double X[N * D], Y[M * D], A[N], B[M], C[N * M];
static double GA[64], GB[64];
static double *MA, *MB;
static size_t mesh_n;
static otk_cost *c_points, *c_dense, *c_mesh;
static otk_cost *c_grid[THREADS + 1]; /* one per thread, the last for the serial solves */

/* What one solve produced: every value and potential, for memcmp. */
enum { OUT_MAX = 512 };
typedef struct {
    double v[OUT_MAX];
    size_t len;
    otk_status st;
} outcome;

static outcome serial[N_PROBLEMS];

static void append(outcome *o, const double *v, size_t n)
{
    for (size_t i = 0; i < n && o->len < OUT_MAX; i++)
        o->v[o->len++] = v[i];
}

static void sinkhorn(const otk_cost *c, const double *a, const double *b, double rho,
                     outcome *o)
{
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.threads = 1;
    p.rho_a = p.rho_b = rho;
    if (c == c_mesh)
        p.eps = 0;
    else if (c == c_dense)
        p.eps = 0.1; /* a dense cost has no exponent for blur */
    else
        p.blur = 0.1;
    otk_sinkhorn *s = NULL;
    o->st = otk_sinkhorn_alloc(&s, c, &p);
    otk_sinkhorn_result r;
    if (o->st >= 0)
        o->st = otk_sinkhorn_solve(s, a, b, &r);
    if (o->st >= 0) {
        double vals[4] = {r.ot_kl, r.ot_ent, r.ot_lin, r.marginal_error};
        append(o, vals, 4);
        append(o, otk_sinkhorn_potential_f(s), otk_cost_rows(c));
        append(o, otk_sinkhorn_potential_g(s), otk_cost_cols(c));
    }
    otk_sinkhorn_free(s);
}

static void solve(int problem, int t, outcome *o)
{
    memset(o, 0, sizeof *o);
    switch (problem) {
    case P_POINTS: sinkhorn(c_points, A, B, INFINITY, o); break;
    case P_UNBALANCED: sinkhorn(c_points, A, B, 0.5, o); break;
    case P_DENSE: sinkhorn(c_dense, A, B, INFINITY, o); break;
    case P_GRID: sinkhorn(c_grid[t], GA, GB, INFINITY, o); break;
    case P_MESH: sinkhorn(c_mesh, MA, MB, INFINITY, o); break;
    case P_DIVERGENCE: {
        otk_divergence_params p;
        otk_divergence_params_default(&p);
        p.threads = 1;
        p.blur = 0.1;
        otk_divergence *dv = NULL;
        o->st = otk_divergence_alloc_points(&dv, N, M, D, X, Y, OTK_GROUND_HALF_SQEUCLIDEAN, 0,
                                            &p);
        otk_divergence_result r;
        if (o->st >= 0)
            o->st = otk_divergence_solve(dv, A, B, &r);
        if (o->st >= 0) {
            double g[N * D];
            append(o, &r.divergence, 1);
            if (otk_divergence_grad_x(dv, g) == OTK_SUCCESS)
                append(o, g, N * D);
        }
        otk_divergence_free(dv);
        break;
    }
    case P_SINKD: {
        otk_sinkd_params p;
        otk_sinkd_params_default(&p);
        p.threads = 1;
        otk_sinkd *sd = NULL;
        o->st = otk_sinkd_alloc(&sd, 8, 5, &p);
        double loss, gs[40], gt[40];
        if (o->st >= 0)
            o->st = otk_sinkd_loss(sd, X, Y, &loss, gs, gt);
        if (o->st >= 0) {
            append(o, &loss, 1);
            append(o, gs, 40);
            append(o, gt, 40);
        }
        otk_sinkd_free(sd);
        break;
    }
    }
}

static int mismatches;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int round = 0; round < ROUNDS; round++)
        for (int k = 0; k < N_PROBLEMS; k++) {
            int problem = (k * 3 + t + round) % N_PROBLEMS; /* each thread its own order */
            outcome o;
            solve(problem, t, &o);
            if (o.st != serial[problem].st || o.len != serial[problem].len ||
                memcmp(o.v, serial[problem].v, o.len * sizeof *o.v) != 0) {
                pthread_mutex_lock(&lock);
                mismatches++;
                fprintf(stderr, "test_threads: thread %d, %s differs from the serial solve\n", t,
                        names[problem]);
                pthread_mutex_unlock(&lock);
            }
        }
    return NULL;
}

int main(void)
{
    uint64_t z = 7;
    for (int i = 0; i < N * D; i++)
        X[i] = (double)((z = z * 6364136223846793005ULL + 1442695040888963407ULL) >> 11) * 0x1p-53;
    for (int i = 0; i < M * D; i++)
        Y[i] = 0.5 + (double)((z = z * 6364136223846793005ULL + 1442695040888963407ULL) >> 11) *
                         0x1p-53;
    for (int i = 0; i < N; i++)
        A[i] = 1.0 / N;
    for (int j = 0; j < M; j++)
        B[j] = 1.0 / M;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < M; j++)
            C[i * M + j] = fabs(X[i * D] - Y[j * D]);
    for (int i = 0; i < 64; i++) {
        GA[i] = (i % 8 < 3) ? 1.0 / 24 : 0.0;
        GB[i] = (i % 8 > 4) ? 1.0 / 24 : 0.0;
    }
    const size_t shape[2] = {8, 8};
    otk_mesh *mesh = NULL;
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    hp.eps = 0.05;
    if (otk_cost_points(&c_points, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0) ||
        otk_cost_dense(&c_dense, N, M, C, M) ||
        otk_mesh_generate(&mesh, OTK_MESH_SQUARE, 4) || otk_cost_mesh(&c_mesh, mesh, &hp)) {
        fprintf(stderr, "test_threads: setup: %s\n", otk_last_error());
        return 1;
    }
    for (int t = 0; t <= THREADS; t++)
        if (otk_cost_grid(&c_grid[t], 2, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL)) {
            fprintf(stderr, "test_threads: grid: %s\n", otk_last_error());
            return 1;
        }
    mesh_n = otk_mesh_vertex_count(mesh);
    MA = malloc(mesh_n * sizeof *MA);
    MB = malloc(mesh_n * sizeof *MB);
    for (size_t i = 0; i < mesh_n; i++) {
        MA[i] = i < mesh_n / 2 ? 2.0 / (double)mesh_n : 0.0;
        MB[i] = i >= mesh_n / 2 ? 2.0 / (double)(mesh_n + (mesh_n % 2)) : 0.0;
    }
    double sa = 0, sb = 0;
    for (size_t i = 0; i < mesh_n; i++)
        sa += MA[i], sb += MB[i];
    for (size_t i = 0; i < mesh_n; i++)
        MB[i] *= sa / sb;

    for (int k = 0; k < N_PROBLEMS; k++) {
        solve(k, THREADS, &serial[k]);
        if (serial[k].st < 0 || serial[k].len == 0) {
            fprintf(stderr, "test_threads: serial %s: %s (%s)\n", names[k],
                    otk_status_name(serial[k].st), otk_last_error());
            return 1;
        }
    }
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
            return 1;
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    printf("%d threads x %d rounds x %d problems: %d solves, %d differ from the serial ones\n",
           THREADS, ROUNDS, N_PROBLEMS, THREADS * ROUNDS * N_PROBLEMS, mismatches);
    otk_cost_free(c_points);
    otk_cost_free(c_dense);
    for (int t = 0; t <= THREADS; t++)
        otk_cost_free(c_grid[t]);
    otk_cost_free(c_mesh);
    otk_mesh_free(mesh);
    free(MA);
    free(MB);
    return mismatches ? 1 : 0;
}
