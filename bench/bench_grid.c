/*
 * bench/bench_grid.c — timings of otkit's grid cost (otkit/grid.h) for
 * bench/compare_grid_pot.py.
 *
 *   bench_grid bary A.f64 K H W REG ITERS REPEATS THREADS OUT.f64
 *       the (non-debiased) barycenter of the K images in A.f64 (raw float64,
 *       K×H×W row-major) with uniform weights, on POT's grid (linspace(0, 1)
 *       per axis, kernel exp(−Δ²/reg): sqeuclidean, spacing 1/(N−1), ε = reg),
 *       exactly ITERS iterations (tol = 0), REPEATS times; the last result goes
 *       to OUT.f64.  Prints one JSON object: the times of each repeat (seconds,
 *       otk_barycenter alone), the path at ε, the grid statistics.
 *   bench_grid div N BLUR THREADS REPEATS
 *       the Sinkhorn divergence (otk_divergence_alloc_costs, C = the grid) of
 *       two N×N images on [0,1]² (half-sqeuclidean, GeomLoss's blur), default
 *       converge schedule and tolerance.  Prints one JSON object.
 *   bench_grid accuracy
 *       the acceptance figures of the grid cost, as text: the largest
 *       difference between the separable soft-min and a brute-force dense
 *       soft-min over the cell centres (three ground costs, 1-D/2-D/3-D, ε
 *       from 3 to 2e-4); over 41 ε from 10 to 1e-3, where AUTO picks FFT its
 *       error against the separable path next to the bound ε·δ_fft, and the
 *       error forced FFT makes where AUTO refuses; the plan count of a
 *       Sinkhorn solve.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "otkit.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const char *what, int st)
{
    fprintf(stderr, "bench_grid: %s: %s (%s)\n", what, otk_status_name(st), otk_last_error());
    return 1;
}

static void print_stats(const otk_cost *g)
{
    otk_grid_stats st;
    otk_grid_get_stats(g, &st);
    printf("\"fft_plans\": %zu, \"kernel_transforms\": %zu, \"softmin_calls\": %zu, "
           "\"softmin_fft\": %zu, \"softmin_separable\": %zu",
           st.fft_plans, st.kernel_transforms, st.softmin_calls, st.softmin_fft,
           st.softmin_separable);
}

static int bary(int argc, char **argv)
{
    if (argc != 11) {
        fprintf(stderr, "usage: bench_grid bary A.f64 K H W REG ITERS REPEATS THREADS OUT.f64\n");
        return 2;
    }
    const size_t K = strtoul(argv[3], NULL, 10), H = strtoul(argv[4], NULL, 10),
                 W = strtoul(argv[5], NULL, 10);
    const double reg = strtod(argv[6], NULL);
    const int iters = atoi(argv[7]), repeats = atoi(argv[8]), threads = atoi(argv[9]);
    const size_t n = H * W;
    double *A = malloc(K * n * sizeof *A), *bar = malloc(n * sizeof *bar);
    FILE *f = fopen(argv[2], "rb");
    if (!A || !bar || !f || fread(A, sizeof *A, K * n, f) != K * n) {
        fprintf(stderr, "bench_grid: cannot read %zu doubles from %s\n", K * n, argv[2]);
        return 1;
    }
    fclose(f);
    const size_t shape[2] = {H, W};
    const double h[2] = {1.0 / (double)(H - 1), 1.0 / (double)(W - 1)};
    otk_cost *g;
    int st = otk_cost_grid(&g, 2, shape, h, OTK_GROUND_SQEUCLIDEAN, NULL);
    if (st)
        return fail("otk_cost_grid", st);
    otk_barycenter_params par;
    otk_barycenter_params_default(&par);
    par.eps = reg;
    par.max_iter = iters;
    par.tol = 0.0;
    par.threads = threads;
    otk_grid_path path;
    otk_grid_select_path(g, reg, &path);
    printf("{\"K\": %zu, \"H\": %zu, \"W\": %zu, \"reg\": %.17g, \"iterations\": %d, "
           "\"threads\": %d, \"path\": \"%s\", \"seconds\": [",
           K, H, W, reg, iters, threads, otk_grid_path_name(path));
    otk_barycenter_result res;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        st = otk_barycenter(g, K, A, NULL, &par, bar, &res);
        double t1 = now();
        if (st < 0)
            return fail("otk_barycenter", st);
        printf("%s%.6f", r ? ", " : "", t1 - t0);
    }
    printf("], \"mass\": %.17g, \"error\": %.6g, ", res.mass, res.error);
    print_stats(g);
    printf("}\n");
    f = fopen(argv[10], "wb");
    if (!f || fwrite(bar, sizeof *bar, n, f) != n) {
        fprintf(stderr, "bench_grid: cannot write %s\n", argv[10]);
        return 1;
    }
    fclose(f);
    otk_cost_free(g);
    free(A);
    free(bar);
    return 0;
}

static int divergence(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_grid div N BLUR THREADS REPEATS\n");
        return 2;
    }
    const size_t N = strtoul(argv[2], NULL, 10);
    const double blur = strtod(argv[3], NULL);
    const int threads = atoi(argv[4]), repeats = atoi(argv[5]);
    const size_t n = N * N;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b)
        return 1;
    /* Two images: a ring and an off-centre blob on a faint background. */
    double sa = 0.0, sb = 0.0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            const double y = (double)i / (double)(N - 1), x = (double)j / (double)(N - 1);
            const double r = hypot(x - 0.4, y - 0.45);
            a[i * N + j] = exp(-pow((r - 0.25) / 0.04, 2)) + 1e-4;
            b[i * N + j] = exp(-(pow(x - 0.65, 2) + pow(y - 0.6, 2)) / 0.02) +
                           (fabs(x - 0.2) < 0.1 && fabs(y - 0.8) < 0.1 ? 0.5 : 0.0);
            sa += a[i * N + j];
            sb += b[i * N + j];
        }
    for (size_t i = 0; i < n; i++) {
        a[i] /= sa;
        b[i] /= sb;
    }
    const size_t shape[2] = {N, N};
    const double h[2] = {1.0 / (double)(N - 1), 1.0 / (double)(N - 1)};
    double t0 = now();
    otk_cost *g;
    int st = otk_cost_grid(&g, 2, shape, h, OTK_GROUND_HALF_SQEUCLIDEAN, NULL);
    if (st)
        return fail("otk_cost_grid", st);
    const double t_setup = now() - t0;
    otk_divergence_params par;
    otk_divergence_params_default(&par);
    par.blur = blur;
    par.threads = threads;
    otk_divergence *div;
    if ((st = otk_divergence_alloc_costs(&div, g, g, g, &par)))
        return fail("otk_divergence_alloc_costs", st);
    otk_grid_path path;
    otk_grid_select_path(g, pow(blur, 2.0), &path);
    printf("{\"N\": %zu, \"blur\": %.17g, \"eps\": %.17g, \"threads\": %d, "
           "\"path_at_eps\": \"%s\", \"setup_seconds\": %.6f, \"seconds\": [",
           N, blur, pow(blur, 2.0), threads, otk_grid_path_name(path), t_setup);
    otk_divergence_result res;
    for (int r = 0; r < repeats; r++) {
        t0 = now();
        st = otk_divergence_solve(div, a, b, &res);
        double t1 = now();
        if (st < 0)
            return fail("otk_divergence_solve", st);
        printf("%s%.6f", r ? ", " : "", t1 - t0);
    }
    printf("], \"divergence\": %.17g, \"iterations\": %d, \"status\": \"%s\", "
           "\"marginal_error\": %.3g, ",
           res.divergence, res.iterations, otk_status_name(res.status), res.marginal_error);
    print_stats(g);
    printf("}\n");
    otk_divergence_free(div);
    otk_cost_free(g);
    free(a);
    free(b);
    return 0;
}

static double cell_coord(size_t i, size_t dim, const size_t *shape, const double *h, size_t k)
{
    for (size_t q = dim; q-- > k + 1;)
        i /= shape[q];
    return h[k] * (double)(i % shape[k]);
}

/* −ε log Σ_j exp(hv_j − C_ij/ε) by the definition, C from the coordinates. */
static double dense_softmin(size_t i, size_t n, size_t dim, const size_t *shape, const double *h,
                            otk_ground g, double eps, const double *hv)
{
    double mx = -INFINITY, s = 0.0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < n; j++) {
            double c = 0.0;
            for (size_t k = 0; k < dim; k++) {
                double d = cell_coord(i, dim, shape, h, k) - cell_coord(j, dim, shape, h, k);
                c += g == OTK_GROUND_L1 ? fabs(d) : g == OTK_GROUND_SQEUCLIDEAN ? d * d : 0.5 * d * d;
            }
            double v = hv[j] - c / eps;
            if (pass == 0)
                mx = v > mx ? v : mx;
            else if (v > -INFINITY)
                s += exp(v - mx);
        }
    return -eps * (mx + log(s));
}

static int accuracy(void)
{
    const otk_ground grounds[3] = {OTK_GROUND_SQEUCLIDEAN, OTK_GROUND_HALF_SQEUCLIDEAN,
                                   OTK_GROUND_L1};
    const size_t shapes[3][3] = {{9, 1, 1}, {6, 5, 1}, {4, 3, 5}};
    const double hs[3][3] = {{0.13, 0, 0}, {0.21, 0.17, 0}, {0.3, 0.23, 0.19}};
    const double epss[] = {3.0, 0.2, 0.01, 1.5e-3, 2e-4};
    otk_grid_params sep;
    otk_grid_params_default(&sep);
    sep.path = OTK_GRID_PATH_SEPARABLE;
    printf("separable soft-min vs dense (max |difference| over cells and 5 eps in [2e-4, 3]):\n");
    for (size_t dim = 1; dim <= 3; dim++)
        for (int gi = 0; gi < 3; gi++) {
            const size_t *shape = shapes[dim - 1];
            size_t n = shape[0] * shape[1] * shape[2];
            otk_cost *g;
            otk_cost_grid(&g, dim, shape, hs[dim - 1], grounds[gi], &sep);
            double hv[100], out[100], worst = 0.0;
            for (size_t e = 0; e < 5; e++) {
                for (size_t i = 0; i < n; i++)
                    hv[i] = 2.0 * sin(1.7 * (double)i + (double)e);
                hv[n / 2] = -INFINITY;
                otk_grid_softmin(g, epss[e], hv, out, 1);
                for (size_t i = 0; i < n; i++) {
                    double d = fabs(out[i] - dense_softmin(i, n, dim, shape, hs[dim - 1],
                                                           grounds[gi], epss[e], hv));
                    worst = d > worst ? d : worst;
                }
            }
            printf("  %zu-D %-16s n = %3zu  %.2e\n", dim, otk_ground_name(grounds[gi]), n, worst);
            otk_cost_free(g);
        }
    printf("FFT where AUTO selects it (one-hot input at a corner, the worst case):\n");
    const size_t fshape[2] = {64, 64};
    const double fh[2] = {1.0 / 63, 1.0 / 63};
    otk_cost *ga, *gs, *gf;
    otk_grid_params fp;
    otk_grid_params_default(&fp);
    otk_cost_grid(&ga, 2, fshape, fh, OTK_GROUND_SQEUCLIDEAN, NULL);
    otk_cost_grid(&gs, 2, fshape, fh, OTK_GROUND_SQEUCLIDEAN, &sep);
    fp.path = OTK_GRID_PATH_FFT;
    otk_cost_grid(&gf, 2, fshape, fh, OTK_GROUND_SQEUCLIDEAN, &fp);
    const size_t n = 64 * 64;
    double *hv = malloc(n * sizeof *hv), *oa = malloc(n * sizeof *oa), *os = malloc(n * sizeof *os),
           *of = malloc(n * sizeof *of);
    for (size_t i = 0; i < n; i++)
        hv[i] = -INFINITY;
    hv[0] = 0.0;
    printf("  %-10s %-10s %-9s %-12s %-12s %s\n", "eps", "C_max/eps", "path", "|err|/eps",
           "bound delta", "forced-FFT |err|/eps");
    for (int e = 0; e <= 40; e += 2) {
        const double eps = pow(10.0, 1.0 - 4.0 * e / 40.0);
        otk_grid_path p;
        otk_grid_select_path(ga, eps, &p);
        otk_grid_softmin(ga, eps, hv, oa, 1);
        otk_grid_softmin(gs, eps, hv, os, 1);
        otk_grid_softmin(gf, eps, hv, of, 1);
        double ea = 0.0, ef = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs(oa[i] - os[i]), f = fabs(of[i] - os[i]);
            ea = d > ea ? d : ea;
            ef = !(f <= ef) ? f : ef;
        }
        printf("  %-10.3g %-10.3g %-9s %-12.2e %-12.2e %.2e\n", eps, 2.0 / eps,
               otk_grid_path_name(p), ea / eps, otk_grid_fft_error_bound(ga, eps), ef / eps);
    }
    /* One plan pair however many iterations. */
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        a[i] = 1.0 / (double)n;
        b[i] = (i % 64 < 32 ? 1.5 : 0.5) / (double)n;
    }
    otk_grid_stats st0, st1;
    otk_grid_get_stats(ga, &st0);
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = 0.01;
    par.diameter = 20.0;
    par.threads = 1;
    otk_sinkhorn *s;
    otk_sinkhorn_result res;
    otk_sinkhorn_alloc(&s, ga, &par);
    otk_sinkhorn_solve(s, a, b, &res);
    otk_grid_get_stats(ga, &st1);
    printf("Sinkhorn on the AUTO grid (eps 0.01 from diameter 20): %d iterations; FFTW plans "
           "%zu before, %zu after; soft-mins %zu (%zu FFT, %zu separable); kernel transforms "
           "%zu\n",
           res.iterations, st0.fft_plans, st1.fft_plans, st1.softmin_calls - st0.softmin_calls,
           st1.softmin_fft - st0.softmin_fft, st1.softmin_separable - st0.softmin_separable,
           st1.kernel_transforms);
    otk_sinkhorn_free(s);
    otk_cost_free(ga);
    otk_cost_free(gs);
    otk_cost_free(gf);
    free(hv);
    free(oa);
    free(os);
    free(of);
    free(a);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "accuracy") == 0)
        return accuracy();
    if (argc >= 2 && strcmp(argv[1], "bary") == 0)
        return bary(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "div") == 0)
        return divergence(argc, argv);
    fprintf(stderr, "usage: bench_grid bary ... | bench_grid div ...\n");
    return 2;
}
