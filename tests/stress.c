/*
 * tests/stress.c — numerical stress (docs/reliability.md).
 *
 *   tests/stress [COUNT [SEED [FIRST]]]   default 300 problems, seed 1, from 0
 *
 * Problem i is drawn from its own stream (SEED, i), so `tests/stress 1 SEED i`
 * reruns problem i alone.
 *
 * COUNT random problems, drawn so that every cost kind (point clouds with
 * each ground cost, dense, sparse, callback, 1-D and 2-D grids, heat kernels
 * on meshes) meets the extremes: ε from 1e-5 to 10 times the cost's
 * diameter (its largest entry, the squared diameter for squared costs), and
 * 1e-5 in absolute terms; coordinates scaled so that the costs span 1e-12 to
 * 1e12; duplicate points; single-point measures; zero weights; total masses
 * from 1e-8 to 1e8 and, for unbalanced problems (ρ finite), mass ratios up
 * to 1e6.  Each problem is solved with otk_sinkhorn_solve and, for point
 * clouds, with otk_divergence_solve (value and gradient).
 *
 * Every call must return OTK_SUCCESS or OTK_NOT_CONVERGED with every value
 * finite (values, potentials, marginals, plan, gradient): a NaN or an
 * infinity that escapes, or any other status, is a failure.  The documented
 * exceptions, where OTK_ENUMERIC is counted, not failed: the heat kernel on
 * meshes below its usable ε range (include/otkit/mesh.h: diam²/ε beyond
 * about 700), and sparse costs whose pattern cannot carry the marginals
 * (include/otkit/sparse.h): a balanced problem, or a point whose stored
 * entries all lead to points of zero mass (even a point of zero mass: its
 * potential is +inf, which the solver reports as OTK_ENUMERIC).  OTK_ENUMERIC
 * elsewhere (potentials that lost their precision: the fixed schedule on
 * strongly unbalanced masses, ε far below the cost's resolution) is reported
 * by the library, not a NaN: it is counted separately.  Prints the counts;
 * exit status 1 on any failure.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "otkit.h"

/* ------------------------------------------------------------ random */
static uint64_t rng_state;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; }
static int below(int k) { return (int)(next_u64() % (uint64_t)k); }
static double log_uniform(double lo, double hi)
{
    return exp(log(lo) + (log(hi) - log(lo)) * uniform());
}
static double gauss(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* ------------------------------------------------------------ counts */
enum {
    K_SQEUCLIDEAN, K_HALF_SQEUCLIDEAN, K_EUCLIDEAN, K_L1, K_LP, K_LP_OVER_P, K_DENSE, K_SPARSE,
    K_CALLBACK, K_GRID1, K_GRID2, K_MESH, N_KINDS
};
static const char *kind_names[N_KINDS] = {
    "sqeuclidean", "half-sqeuclidean", "euclidean", "l1",   "lp",   "lp-over-p",
    "dense",       "sparse",           "callback",  "grid-1d", "grid-2d", "mesh"};
static long solved[N_KINDS], not_converged[N_KINDS], documented[N_KINDS], failed[N_KINDS];
static long enumeric[N_KINDS];
static long div_solved, div_not_converged, div_failed;
static long f_single, f_duplicates, f_zero_weights, f_unbalanced, f_abs_eps;

static int finite_all(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static int verbose;
#define REPORT(...)                                                                         \
    do {                                                                                    \
        (void)verbose;                                                                      \
            fprintf(stderr, __VA_ARGS__);                                                   \
    } while (0)

/* ------------------------------------------------------------ problems */
typedef struct {
    size_t n, m, d;
    double *x, *y;
} clouds;

static double callback_entry(size_t i, size_t j, void *ctx)
{
    const clouds *c = ctx;
    double s = 0;
    for (size_t k = 0; k < c->d; k++) {
        double t = c->x[i * c->d + k] - c->y[j * c->d + k];
        s += t * t;
    }
    return s;
}

/* Weights of n points: random, some zero (never all), total `mass`. */
static void weights(double *w, size_t n, double mass, int zeros)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        w[i] = (zeros && n > 1 && below(3) == 0) ? 0.0 : log_uniform(1e-3, 1.0);
        s += w[i];
    }
    if (s == 0) {
        w[0] = 1.0;
        s = 1.0;
    }
    for (size_t i = 0; i < n; i++)
        w[i] *= mass / s;
}

static void points(double *p, size_t n, size_t d, double scale, int dup)
{
    double shift = gauss();
    for (size_t i = 0; i < n * d; i++)
        p[i] = scale * (gauss() + shift);
    if (dup && n > 1)
        for (size_t i = 1; i < n; i += 2)
            memcpy(p + i * d, p + (i - 1 - (size_t)below((int)i) / 2 * 0) * d, d * sizeof *p);
}

/* Solve one problem with the cost built; returns 0 or 1 (a failure). */
static int check_sinkhorn(int kind, long id, const otk_cost *cost, const double *a,
                          const double *b, double eps, double rho, int numeric_documented)
{
    size_t n = otk_cost_rows(cost), m = otk_cost_cols(cost);
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.eps = kind == K_MESH ? 0.0 : eps;
    p.rho_a = p.rho_b = rho;
    p.max_iter = 2000;
    p.threads = 1;
    if (below(4) == 0)
        p.update = below(2) ? OTK_UPDATE_SYMMETRIC : OTK_UPDATE_ALTERNATING;
    if (below(5) == 0)
        p.schedule = OTK_SCHEDULE_FIXED;
    otk_sinkhorn *s = NULL;
    otk_status st = otk_sinkhorn_alloc(&s, cost, &p);
    otk_sinkhorn_result r;
    if (st >= 0)
        st = otk_sinkhorn_solve(s, a, b, &r);
    int bad = 0;
    if (st == OTK_SUCCESS || st == OTK_NOT_CONVERGED) {
        double vals[4] = {r.ot_kl, r.ot_ent, r.ot_lin, r.marginal_error};
        double *P = malloc(n * m * sizeof *P), *row = malloc(n * sizeof *row),
               *col = malloc(m * sizeof *col);
        otk_status sp = otk_sinkhorn_plan(s, P), sm = otk_sinkhorn_marginals(s, row, col);
        /* OTK_ENUMERIC from the plan or the marginals: an overflow reported. */
        int reported = sp == OTK_ENUMERIC || sm == OTK_ENUMERIC;
        if (!finite_all(vals, 4) || !finite_all(otk_sinkhorn_potential_f(s), n) ||
            !finite_all(otk_sinkhorn_potential_g(s), m) || (sp != OTK_SUCCESS && !reported) ||
            (sm != OTK_SUCCESS && !reported) || (sp == OTK_SUCCESS && !finite_all(P, n * m)) ||
            (sm == OTK_SUCCESS && !(finite_all(row, n) && finite_all(col, m)))) {
            double fbig = 0, gbig = 0;
            for (size_t i = 0; i < n; i++)
                fbig = fmax(fbig, fabs(otk_sinkhorn_potential_f(s)[i]));
            for (size_t j = 0; j < m; j++)
                gbig = fmax(gbig, fabs(otk_sinkhorn_potential_g(s)[j]));
            REPORT("stress: problem %ld (%s, n %zu, m %zu, eps %g, rho %g, masses %g, %g, "
                   "schedule %d, update %d, %s): non-finite output (ot_kl %g, ot_ent %g, "
                   "ot_lin %g, err %g; max |f| %g, |g| %g; plan %s, marginals %s)\n",
                   id, kind_names[kind], n, m, eps, rho, r.mass_a, r.mass_b, (int)p.schedule,
                   (int)p.update, otk_status_name(st), vals[0], vals[1], vals[2], vals[3], fbig,
                   gbig, otk_status_name(sp), otk_status_name(sm));
            bad = 1;
        }
        free(P);
        free(row);
        free(col);
        if (!bad && reported)
            enumeric[kind]++;
        else if (!bad)
            (st == OTK_SUCCESS ? solved : not_converged)[kind]++;
    } else if (numeric_documented && st == OTK_ENUMERIC) {
        documented[kind]++;
    } else if (st == OTK_ENUMERIC) {
        enumeric[kind]++;
        if (verbose)
            REPORT("stress: problem %ld (%s, n %zu, m %zu, eps %g, rho %g, schedule %d): %s\n",
                   id, kind_names[kind], n, m, eps, rho, (int)p.schedule, otk_last_error());
    } else {
        REPORT("stress: problem %ld (%s, n %zu, m %zu, eps %g, rho %g): %s: %s\n", id,
               kind_names[kind], n, m, eps, rho, otk_status_name(st), otk_last_error());
        bad = 1;
    }
    if (bad)
        failed[kind]++;
    otk_sinkhorn_free(s);
    return bad;
}

static int check_divergence(long id, int kind, const clouds *c, otk_ground ground, double power,
                            const double *a, const double *b, double eps, double reach)
{
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.eps = eps;
    p.reach = reach;
    p.max_iter = 2000;
    p.threads = 1;
    otk_divergence *dv = NULL;
    otk_status st =
        otk_divergence_alloc_points(&dv, c->n, c->m, c->d, c->x, c->y, ground, power, &p);
    otk_divergence_result r;
    if (st >= 0)
        st = otk_divergence_solve(dv, a, b, &r);
    int bad = 0;
    if (st == OTK_SUCCESS || st == OTK_NOT_CONVERGED) {
        double *gx = malloc(c->n * c->d * sizeof *gx);
        otk_status sg = otk_divergence_grad_x(dv, gx);
        /* OTK_EUNSUPPORTED: costs that are not differentiable (l1). */
        if (!isfinite(r.divergence) || (sg != OTK_SUCCESS && sg != OTK_EUNSUPPORTED) ||
            (sg == OTK_SUCCESS && !finite_all(gx, c->n * c->d))) {
            REPORT("stress: problem %ld (divergence %s, n %zu, m %zu, eps %g, reach %g): "
                   "value %g, gradient %s\n",
                   id, kind_names[kind], c->n, c->m, eps, reach, r.divergence,
                   otk_status_name(sg));
            bad = 1;
        }
        free(gx);
        if (!bad)
            (st == OTK_SUCCESS ? div_solved++ : div_not_converged++);
    } else {
        REPORT("stress: problem %ld (divergence %s, n %zu, m %zu, eps %g, reach %g): %s: %s\n", id,
               kind_names[kind], c->n, c->m, eps, reach, otk_status_name(st), otk_last_error());
        bad = 1;
    }
    div_failed += bad;
    otk_divergence_free(dv);
    return bad;
}

static int one_problem(long id, uint64_t seed)
{
    rng_state = seed * 0x100000001b3ULL + (uint64_t)id * 0x9e3779b97f4a7c15ULL;
    (void)next_u64();
    int kind = (int)(id % N_KINDS);
    size_t n = 1 + (size_t)below(30), m = 1 + (size_t)below(30), d = 1 + (size_t)below(4);
    if (below(8) == 0)
        n = 1;
    if (below(8) == 0)
        m = 1;
    if (kind == K_GRID1 || kind == K_GRID2 || kind == K_MESH || kind == K_SPARSE)
        m = n = (n < 2 ? 2 : n);
    int dup = below(4) == 0, zeros = below(4) == 0, unbalanced = below(3) == 0;
    f_single += n == 1 || m == 1;
    f_duplicates += dup;
    f_zero_weights += zeros;
    f_unbalanced += unbalanced;
    /* Costs from 1e-12 to 1e12: coordinates of scale 1e-6 .. 1e6. */
    double scale = log_uniform(1e-6, 1e6);
    double mass = below(5) == 0 ? log_uniform(1e-8, 1e8) : 1.0;
    double *a = malloc(n * sizeof *a), *b = malloc(m * sizeof *b);
    weights(a, n, mass, zeros);
    weights(b, m, unbalanced ? mass * log_uniform(1e-6, 1e6) : mass, zeros);
    clouds c = {n, m, d, malloc(n * d * sizeof(double)), malloc(m * d * sizeof(double))};
    points(c.x, n, d, scale, dup);
    points(c.y, m, d, scale, dup);

    otk_cost *cost = NULL;
    otk_mesh *mesh = NULL;
    double *C = NULL;
    otk_ground ground = OTK_GROUND_SQEUCLIDEAN;
    double power = 0;
    otk_status st = OTK_SUCCESS;
    switch (kind) {
    case K_SQEUCLIDEAN: case K_HALF_SQEUCLIDEAN: case K_EUCLIDEAN: case K_L1: case K_LP:
    case K_LP_OVER_P: {
        static const otk_ground g[] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_HALF_SQEUCLIDEAN,
                                       OTK_GROUND_EUCLIDEAN,   OTK_GROUND_L1,
                                       OTK_GROUND_LP,          OTK_GROUND_LP_OVER_P};
        ground = g[kind];
        power = 0.5 + 2.5 * uniform();
        st = otk_cost_points(&cost, n, m, d, c.x, c.y, ground, power);
        break;
    }
    case K_DENSE:
        C = malloc(n * m * sizeof *C);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                C[i * m + j] = callback_entry(i, j, &c);
        st = otk_cost_dense(&cost, n, m, C, m);
        break;
    case K_CALLBACK: {
        double diam = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                diam = fmax(diam, callback_entry(i, j, &c));
        st = otk_cost_callback(&cost, n, m, callback_entry, &c, diam > 0 ? diam : 1.0);
        break;
    }
    case K_SPARSE: {
        /* Banded: |i − j| <= 1, entries the squared distances. */
        size_t *colptr = malloc((m + 1) * sizeof *colptr), *rowind = malloc(3 * m * sizeof *rowind);
        C = malloc(3 * m * sizeof *C);
        size_t q = 0;
        for (size_t j = 0; j < m; j++) {
            colptr[j] = q;
            for (size_t i = j > 0 ? j - 1 : 0; i <= j + 1 && i < n; i++) {
                rowind[q] = i;
                C[q++] = callback_entry(i, j, &c);
            }
        }
        colptr[m] = q;
        st = otk_cost_sparse(&cost, n, m, colptr, rowind, C);
        free(colptr);
        free(rowind);
        break;
    }
    case K_GRID1: case K_GRID2: {
        size_t shape[2] = {n, 2 + (size_t)below(6)};
        double h[2] = {scale, scale * log_uniform(0.5, 2)};
        size_t dim = kind == K_GRID1 ? 1 : 2;
        if (dim == 2) {
            n = m = shape[0] * shape[1];
            free(a);
            free(b);
            a = malloc(n * sizeof *a);
            b = malloc(m * sizeof *b);
            weights(a, n, mass, zeros);
            weights(b, m, unbalanced ? mass * log_uniform(1e-6, 1e6) : mass, zeros);
        }
        st = otk_cost_grid(&cost, dim, shape, h, below(2) ? OTK_GROUND_SQEUCLIDEAN : OTK_GROUND_L1,
                           NULL);
        break;
    }
    case K_MESH: {
        size_t res = 2 + (size_t)below(5);
        int square = below(2);
        st = otk_mesh_generate(&mesh, square ? OTK_MESH_SQUARE : OTK_MESH_ICOSPHERE,
                               square ? res : (size_t)below(3));
        if (st)
            break;
        n = m = otk_mesh_vertex_count(mesh);
        free(a);
        free(b);
        a = malloc(n * sizeof *a);
        b = malloc(m * sizeof *b);
        weights(a, n, mass, zeros);
        weights(b, m, unbalanced ? mass * log_uniform(1e-6, 1e6) : mass, zeros);
        break;
    }
    }
    int bad = 0;
    if (st) {
        REPORT("stress: problem %ld (%s): building the cost: %s: %s\n", id, kind_names[kind],
               otk_status_name(st), otk_last_error());
        failed[kind]++;
        bad = 1;
        goto done;
    }
    /* ε relative to the cost's diameter (for meshes: the squared diameter
     * of the surface, 2 for the unit square, 4 for the unit sphere), or
     * 1e-5 in absolute terms. */
    double diam = mesh ? 4.0 : otk_cost_diameter(cost);
    if (!(diam > 0))
        diam = 1.0;
    double eps = diam * log_uniform(1e-5, 10.0);
    if (!mesh && below(10) == 0) {
        eps = 1e-5;
        f_abs_eps++;
    }
    double rho = unbalanced ? diam * log_uniform(1e-3, 1e3) : INFINITY;
    if (mesh) {
        otk_heat_params hp;
        otk_heat_params_default(&hp);
        hp.eps = eps;
        hp.steps = 1 + below(10);
        st = otk_cost_mesh(&cost, mesh, &hp);
        if (st) {
            REPORT("stress: problem %ld (mesh): otk_cost_mesh: %s: %s\n", id, otk_status_name(st),
                   otk_last_error());
            failed[kind]++;
            bad = 1;
            goto done;
        }
    }
    int documented_numeric = mesh != NULL;
    if (kind == K_SPARSE) {
        /* The tridiagonal pattern: can every point of positive mass reach
         * one of positive mass on the other side? */
        int stranded = !isfinite(rho);
        for (size_t i = 0; i < n; i++) {
            double ra = 0, rb = 0;
            for (size_t j = i > 0 ? i - 1 : 0; j <= i + 1 && j < n; j++)
                ra += b[j], rb += a[j];
            /* Also a point of zero mass: its soft-min runs over no mass at
             * all and its potential is +inf, which the solver reports (a
             * limitation, docs/reliability.md). */
            stranded |= ra == 0 || rb == 0;
        }
        documented_numeric = stranded;
    }
    bad |= check_sinkhorn(kind, id, cost, a, b, eps, rho, documented_numeric);
    if (kind <= K_LP_OVER_P) {
        double p_exp = otk_cost_exponent(cost);
        double reach = unbalanced ? pow(rho, 1.0 / p_exp) : 0.0;
        bad |= check_divergence(id, kind, &c, ground, power, a, b, eps, reach);
    }
done:
    otk_cost_free(cost);
    otk_mesh_free(mesh);
    free(C);
    free(a);
    free(b);
    free(c.x);
    free(c.y);
    return bad;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 300;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    long first = argc > 3 ? atol(argv[3]) : 0;
    verbose = getenv("STRESS_VERBOSE") != NULL;
    int failures = 0;
    for (long id = first; id < first + count; id++)
        failures += one_problem(id, seed);
    printf("%-18s %7s %7s %7s %7s %7s\n", "cost kind", "solved", "not-cv", "enum*", "enum**",
           "FAILED");
    long tot[5] = {0};
    for (int k = 0; k < N_KINDS; k++) {
        printf("%-18s %7ld %7ld %7ld %7ld %7ld\n", kind_names[k], solved[k], not_converged[k],
               documented[k], enumeric[k], failed[k]);
        tot[0] += solved[k];
        tot[1] += not_converged[k];
        tot[2] += documented[k];
        tot[3] += failed[k];
        tot[4] += enumeric[k];
    }
    printf("%-18s %7ld %7ld %7ld %7ld %7ld\n", "divergence", div_solved, div_not_converged, 0L,
           0L, div_failed);
    printf("(* OTK_ENUMERIC where documented: heat kernel below its eps range, sparse pattern\n"
           "   that cannot carry the marginals; ** OTK_ENUMERIC reported by get_result, plan or\n"
           "   marginals: potentials that lost their precision.  STRESS_VERBOSE=1 lists them.)\n");
    printf("drawn: %ld single-point, %ld with duplicates, %ld with zero weights, %ld unbalanced, "
           "%ld at eps = 1e-5\n",
           f_single, f_duplicates, f_zero_weights, f_unbalanced, f_abs_eps);
    printf("%ld problems: %ld Sinkhorn solves (%ld converged, %ld not converged, %ld OTK_ENUMERIC "
           "documented, %ld OTK_ENUMERIC reported), %ld divergences; %d with a failure\n",
           count, tot[0] + tot[1] + tot[2] + tot[3] + tot[4], tot[0], tot[1], tot[2], tot[4],
           div_solved + div_not_converged + div_failed, failures);
    return failures ? 1 : 0;
}
