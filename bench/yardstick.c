/* bench/yardstick.c — the compute ceiling of a soft-min on this machine, and
 * otkit's soft-mins measured against it.
 *
 * A log-domain soft-min out_i = −ε log Σ_j exp(h_j − C_ij/ε) costs, per
 * entry, at least one exponential and one addition.  The ceiling is a loop
 * that does only that: it sums exp(v_t) over values v already in L1 (4 KiB,
 * reused), with no cost evaluation and no memory traffic.  Two ceilings:
 *
 *   otkit-exp  otkit's own exp-sum loop (sum_exp_shifted in
 *              solvers/core/kernels.c, the same source compiled with the flags
 *              of the library's widest kernel table): shift, clamp at −708,
 *              exponential, lane sums;
 *   fast-exp   the least work for the same accuracy written here: the
 *              exponential alone, with AVX-512's vrndscalepd / vscalefpd for
 *              the range reduction and the scaling, no shift and no clamp
 *              (vscalefpd underflows to 0 by itself).  Both errors against
 *              libm are measured and printed.
 *
 * Then otkit's soft-mins through the public otk_cost_softmin, on n = m
 * (default 4000): a dense cost (the matrix streamed from memory) and 3-D
 * point clouds (costs computed in registers), both axes, 1 and 2 threads.
 *
 * A dense soft-min reads its n·m matrix (128 MB at n = m = 4000, more than
 * the last-level cache of most machines) once per pass, so it has a second
 * ceiling: the memory roof, a loop that only sums the same matrix (8 bytes
 * per entry, vector adds, the threads splitting the rows as the soft-min
 * does).  Dense rows show the fraction of that roof too; the best a dense
 * soft-min can reach against the compute ceiling is ceiling / max(ceiling,
 * roof).
 * --only TEXT measures only the soft-mins whose name contains TEXT ("dense",
 * "columns", "float32"; the ceilings and the roof are always measured).
 * Each timing is the median of --repeats samples; each soft-min sample is
 * paired with ceiling (and memory-roof) samples taken just before it, and
 * the fractions are the medians of the pairs' ratios.
 * Output: one markdown table on stdout (bench/run_yardstick.sh keeps it in
 * bench/results/yardstick.md) and one JSON line per measurement on stderr.
 *
 * Build: bench/Makefile (`make yardstick`), against ../.libs/libotkit.a. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <otkit.h>

/* otkit's kernels, compiled into this program under a private table name so
 * that the static functions (the exponential, the lane sums) are reachable. */
#define OTK_KERNEL_TABLE yardstick_kernels
#define OTK_KERNEL_ISA "yardstick"
#include "../solvers/core/kernels.c"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define VLEN OTK_TILE /* 512 doubles = 4 KiB: stays in L1 */

/* --clock cpu: the process's CPU time divided by the thread count, the
 * figure to compare on a machine shared with other work (wall time then
 * measures the other work too). */
static int cpu_clock;

static double now(void)
{
    struct timespec ts;
    clock_gettime(cpu_clock ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Calls per timed sample, so that a sample lasts at least SAMPLE_S: the
 * process CPU clock takes in another thread's time only at that thread's
 * next tick or switch (a few ms late), which on a 20 ms soft-min with two
 * threads was a 20 % error. */
#define SAMPLE_S 0.3
static int calls_per_sample(double one_call_s)
{
    double k = one_call_s > 0.0 ? SAMPLE_S / one_call_s : 1000.0;
    return k < 1.0 ? 1 : k > 1000.0 ? 1000 : (int)ceil(k);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ------------------------------------------------------------ fast exp */

#ifdef __AVX512F__
/* e^x for 8 lanes: k = round(x/ln2), r = x − k·ln2 (two-part ln2), the
 * kernels' degree-8 polynomial for e^r, then 2^k by vscalefpd. */
static inline __m512d fast_exp8(__m512d x)
{
    const __m512d log2e = _mm512_set1_pd(1.4426950408889634);
    const __m512d ln2hi = _mm512_set1_pd(0.6931471805599453);
    const __m512d ln2lo = _mm512_set1_pd(2.3190468138462996e-17);
    __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(x, log2e),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(k, ln2hi, x);
    r = _mm512_fnmadd_pd(k, ln2lo, r);
    __m512d u = _mm512_set1_pd(2.761379555451986e-07);
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(2.7625102005388108e-06));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(2.4801536409064087e-05));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.0001984120875699232));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.0013888888905871347));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.008333333353717156));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.041666666666651364));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.16666666666648303));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.5));
    __m512d e = _mm512_add_pd(_mm512_fmadd_pd(_mm512_mul_pd(r, r), u, r), _mm512_set1_pd(1.0));
    return _mm512_scalef_pd(e, k);
}

/* T a multiple of 16 (VLEN is). */
static double fast_sum_exp(const double *v, size_t T)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    for (size_t t = 0; t + 16 <= T; t += 16) {
        a0 = _mm512_add_pd(a0, fast_exp8(_mm512_loadu_pd(v + t)));
        a1 = _mm512_add_pd(a1, fast_exp8(_mm512_loadu_pd(v + t + 8)));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

static double fast_exp1(double x)
{
    double in[8] = {x, x, x, x, x, x, x, x}, out[8];
    _mm512_storeu_pd(out, fast_exp8(_mm512_loadu_pd(in)));
    return out[0];
}
#define FAST_EXP_NAME "vscalefpd, AVX-512"
#else
/* Without AVX-512 the fastest exponential written here is otkit's own. */
static double fast_sum_exp(const double *v, size_t T) { return sum_exp_shifted(v, T, 0.0); }
static double fast_exp1(double x) { return otk_exp_nonpos(x); }
#define FAST_EXP_NAME "otkit's (no AVX-512 build)"
#endif

/* Largest relative error against libm on [lo, hi]. */
static double max_rel_error(double (*f)(double), double lo, double hi)
{
    double worst = 0.0;
    for (int i = 0; i <= 2000000; i++) {
        double x = lo + (hi - lo) * (double)i / 2000000.0;
        double ref = exp(x), err = fabs(f(x) - ref) / ref;
        if (err > worst)
            worst = err;
    }
    return worst;
}

#ifdef __AVX512F__
static double otk_exp1(double x)
{
    double in[8] = {x, x, x, x, x, x, x, x}, out[8];
    _mm512_storeu_pd(out, otk_exp8(_mm512_max_pd(_mm512_loadu_pd(in), _mm512_set1_pd(-708.0))));
    return out[0];
}
#else
static double otk_exp1(double x) { return otk_exp_nonpos(x); }
#endif

/* ns per exp of the ceiling loop, `threads` threads each summing its own
 * L1-resident vector `sweeps` times. */
static double ceiling_ns(int fast, int threads, long sweeps, double *sink)
{
    double total = 0.0;
    double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        double v[VLEN];
        for (int t = 0; t < VLEN; t++) /* shifted log-sum-exp terms: <= 0 */
            v[t] = -30.0 * (double)((t * 37 + omp_get_thread_num()) % VLEN) / VLEN;
        double acc = 0.0;
        for (long s = 0; s < sweeps; s++) {
            acc += fast ? fast_sum_exp(v, VLEN) : sum_exp_shifted(v, VLEN, 0.0);
            v[s % VLEN] -= 1e-300; /* keeps the loop from being hoisted */
        }
        total += acc;
    }
    double dt = (now() - t0) / (cpu_clock ? threads : 1);
    *sink += total;
    return 1e9 * dt / ((double)sweeps * VLEN * threads); /* ns per element, whole team */
}

/* ns per 8-byte entry to read the n·m matrix C, `threads` threads, the
 * mean of `sweeps` sweeps. */
static double memory_ns(const double *C, size_t n, size_t m, int threads, int sweeps,
                        double *sink)
{
    double total = 0.0;
    double t0 = now();
    for (int sw = 0; sw < sweeps; sw++) {
#pragma omp parallel for schedule(static) num_threads(threads) reduction(+ : total)
        for (size_t i = 0; i < n; i++) {
            const double *row = C + i * m;
            size_t t = 0;
#ifdef __AVX512F__
            __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
            for (; t + 32 <= m; t += 32) {
                a0 = _mm512_add_pd(a0, _mm512_loadu_pd(row + t));
                a1 = _mm512_add_pd(a1, _mm512_loadu_pd(row + t + 8));
                a2 = _mm512_add_pd(a2, _mm512_loadu_pd(row + t + 16));
                a3 = _mm512_add_pd(a3, _mm512_loadu_pd(row + t + 24));
            }
            total += _mm512_reduce_add_pd(
                _mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
#endif
            total += lanes_sum(row + t, m - t);
        }
    }
    double dt = (now() - t0) / (cpu_clock ? threads : 1);
    *sink += total;
    return 1e9 * dt / sweeps / ((double)n * (double)m);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(splitmix(s) >> 11) * 0x1.0p-53; }

int main(int argc, char **argv)
{
    size_t n = 4000;
    int repeats = 5;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--clock") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "cpu") || !strcmp(argv[i + 1], "wall")))
            cpu_clock = !strcmp(argv[++i], "cpu");
        else {
            fprintf(stderr,
                    "usage: yardstick [--n N] [--repeats R] [--clock wall|cpu] [--only TEXT]\n");
            return 2;
        }
    }
#ifdef __AVX512F__
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq")) {
        fprintf(stderr, "yardstick: built for AVX-512 (bench/Makefile YARDSTICK_ISA); this CPU "
                        "has none: rebuild with YARDSTICK_ISA='-mavx2 -mfma'\n");
        return 2;
    }
#endif
    if (n < 16 || repeats < 1 || repeats > 101) {
        fprintf(stderr, "yardstick: --n >= 16 and 1 <= --repeats <= 101\n");
        return 2;
    }
    const size_t m = n, d = 3;
    const double eps = 0.01;
    uint64_t seed = 1;
    double *x = malloc(n * d * sizeof *x), *y = malloc(m * d * sizeof *y);
    double *C = malloc(n * m * sizeof *C), *h = malloc((n > m ? n : m) * sizeof *h);
    double *out = malloc((n > m ? n : m) * sizeof *out);
    if (!x || !y || !C || !h || !out) {
        fprintf(stderr, "yardstick: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n * d; i++)
        x[i] = uniform(&seed);
    for (size_t i = 0; i < m * d; i++)
        y[i] = uniform(&seed);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++)
                s += (x[i * d + k] - y[j * d + k]) * (x[i * d + k] - y[j * d + k]);
            C[i * m + j] = s;
        }
    for (size_t j = 0; j < (n > m ? n : m); j++)
        h[j] = -log((double)m) + 0.1 * uniform(&seed);

    float *xf = malloc(n * d * sizeof *xf), *yf = malloc(m * d * sizeof *yf);
    if (!xf || !yf) {
        fprintf(stderr, "yardstick: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n * d; i++)
        xf[i] = (float)x[i];
    for (size_t i = 0; i < m * d; i++)
        yf[i] = (float)y[i];
    otk_cost *dense, *points, *points32;
    if (otk_cost_dense(&dense, n, m, C, m) < 0 ||
        otk_cost_points(&points, n, m, d, x, y, OTK_GROUND_SQEUCLIDEAN, 0) < 0 ||
        otk_cost_points_f32(&points32, n, m, d, xf, yf, OTK_GROUND_SQEUCLIDEAN, 0) < 0) {
        fprintf(stderr, "yardstick: %s\n", otk_last_error());
        return 1;
    }

    double sink = 0.0, err_otk = max_rel_error(otk_exp1, -700.0, 0.0),
           err_fast = max_rel_error(fast_exp1, -700.0, 0.0);
    const long sweeps = 600000; /* 0.3 s per thread and sample: see calls_per_sample */
    double ceil_otk[3], ceil_fast[3];
    double *samp = malloc((size_t)repeats * sizeof *samp);
    for (int th = 1; th <= 2; th++) {
        for (int r = 0; r < repeats; r++)
            samp[r] = ceiling_ns(0, th, sweeps, &sink);
        ceil_otk[th] = median(samp, repeats);
        for (int r = 0; r < repeats; r++)
            samp[r] = ceiling_ns(1, th, sweeps, &sink);
        ceil_fast[th] = median(samp, repeats);
        fprintf(stderr,
                "{\"what\": \"ceiling\", \"threads\": %d, \"otkit_exp_ns\": %.4f, "
                "\"fast_exp_ns\": %.4f}\n",
                th, ceil_otk[th], ceil_fast[th]);
    }

    double mem[3];
    int mem_sweeps[3] = {1, 1, 1};
    for (int th = 1; th <= 2; th++) {
        const double w0 = wall_now();
        memory_ns(C, n, m, th, 1, &sink); /* warm */
        const int inner = calls_per_sample(wall_now() - w0);
        mem_sweeps[th] = inner;
        for (int r = 0; r < repeats; r++)
            samp[r] = memory_ns(C, n, m, th, inner, &sink);
        mem[th] = median(samp, repeats);
        fprintf(stderr, "{\"what\": \"memory roof\", \"threads\": %d, \"ns_per_entry\": %.4f}\n",
                th, mem[th]);
    }

    double load[3] = {0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(la);
    }
    printf("Soft-min throughput against the ceiling (n = m = %zu, eps = %g, medians of %d; "
           "load average %.2f when it started; %s)\n\n",
           n, eps, repeats, load[0],
           cpu_clock ? "CPU time per thread (--clock cpu)" : "wall clock");
    printf("ceiling: Σ exp(v) over 4 KiB in L1; otkit's exp max rel. error on [-700, 0] "
           "%.1e, fast exp (%s) %.1e\n\n",
           err_otk, FAST_EXP_NAME, err_fast);
    printf("memory roof: Σ C_ij over the dense matrix, %.0f MB, read once (8 bytes per entry); "
           "a dense soft-min can reach at most ceiling / max(ceiling, roof) of the compute "
           "ceiling: %.2f on 1 thread, %.2f on 2\n\n",
           (double)n * (double)m * 8.0 / 1e6,
           ceil_otk[1] / (mem[1] > ceil_otk[1] ? mem[1] : ceil_otk[1]),
           ceil_otk[2] / (mem[2] > ceil_otk[2] ? mem[2] : ceil_otk[2]));
    printf("| soft-min | threads | ns/entry | ceiling otkit-exp ns | ceiling fast-exp ns | "
           "fraction of otkit-exp ceiling | fraction of fast-exp ceiling | fraction of memory "
           "roof |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    printf("| (ceiling loop itself) | 1 | %.3f | %.3f | %.3f | 1.00 | %.2f | |\n", ceil_otk[1],
           ceil_otk[1], ceil_fast[1], ceil_fast[1] / ceil_otk[1]);
    printf("| (ceiling loop itself) | 2 | %.3f | %.3f | %.3f | 1.00 | %.2f | |\n", ceil_otk[2],
           ceil_otk[2], ceil_fast[2], ceil_fast[2] / ceil_otk[2]);
    for (int th = 1; th <= 2; th++)
        printf("| (memory roof: reading the dense matrix) | %d | %.3f | %.3f | %.3f | %.2f | %.2f "
               "| 1.00 |\n",
               th, mem[th], ceil_otk[th], ceil_fast[th], ceil_otk[th] / mem[th],
               ceil_fast[th] / mem[th]);
    struct {
        const char *name;
        otk_cost *cost;
        int axis;
    } cases[] = {{"dense, rows", dense, 0},
                 {"dense, columns", dense, 1},
                 {"points 3-D, rows", points, 0},
                 {"points 3-D, columns", points, 1},
                 {"points 3-D float32, rows", points32, 0},
                 {"points 3-D float32, columns", points32, 1}};
    /* Each sample of a soft-min is paired with samples of the ceilings (and,
     * for a dense cost, of the memory roof) taken just before it, and the
     * fractions are medians of the pairs' ratios: this machine's speed may
     * drift within a run. */
    double *pc_otk = malloc(4 * (size_t)repeats * sizeof *pc_otk);
    double *pc_fast = pc_otk + repeats, *pmem = pc_otk + 2 * repeats, *ratio = pc_otk + 3 * repeats;
    if (!samp || !pc_otk) {
        fprintf(stderr, "yardstick: out of memory\n");
        return 1;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int th = 1; th <= 2; th++) {
            if (only && !strstr(cases[c].name, only))
                continue;
            const int is_dense = cases[c].cost == dense;
            const double w0 = wall_now();
            otk_cost_softmin(cases[c].cost, cases[c].axis, eps, h, out, th); /* warm */
            const int inner = calls_per_sample(wall_now() - w0);
            for (int r = 0; r < repeats; r++) {
                pc_otk[r] = ceiling_ns(0, th, sweeps, &sink);
                pc_fast[r] = ceiling_ns(1, th, sweeps, &sink);
                pmem[r] = is_dense ? memory_ns(C, n, m, th, mem_sweeps[th], &sink) : 0.0;
                double t0 = now();
                for (int k = 0; k < inner; k++)
                    if (otk_cost_softmin(cases[c].cost, cases[c].axis, eps, h, out, th) < 0) {
                        fprintf(stderr, "yardstick: %s\n", otk_last_error());
                        return 1;
                    }
                samp[r] = 1e9 * (now() - t0) / inner / (cpu_clock ? th : 1) /
                          ((double)n * (double)m);
                sink += out[0];
            }
            double f_otk, f_fast, f_mem = 0.0;
            for (int r = 0; r < repeats; r++)
                ratio[r] = pc_otk[r] / samp[r];
            f_otk = median(ratio, repeats);
            for (int r = 0; r < repeats; r++)
                ratio[r] = pc_fast[r] / samp[r];
            f_fast = median(ratio, repeats);
            if (is_dense) {
                for (int r = 0; r < repeats; r++)
                    ratio[r] = pmem[r] / samp[r];
                f_mem = median(ratio, repeats);
            }
            const double ns = median(samp, repeats), c_otk = median(pc_otk, repeats),
                         c_fast = median(pc_fast, repeats);
            char roof[32] = "";
            if (is_dense)
                snprintf(roof, sizeof roof, "%.2f", f_mem);
            printf("| %s | %d | %.3f | %.3f | %.3f | %.2f | %.2f | %s |\n", cases[c].name, th, ns,
                   c_otk, c_fast, f_otk, f_fast, roof);
            fprintf(stderr,
                    "{\"what\": \"%s\", \"threads\": %d, \"ns_per_entry\": %.4f, "
                    "\"ceiling_otkit_exp_ns\": %.4f, \"ceiling_fast_exp_ns\": %.4f, "
                    "\"fraction_otkit_exp\": %.4f, \"fraction_fast_exp\": %.4f%s%s}\n",
                    cases[c].name, th, ns, c_otk, c_fast, f_otk, f_fast,
                    roof[0] ? ", \"fraction_memory_roof\": " : "", roof);
        }
    if (sink == 42.0) /* never: keeps the sums alive */
        puts("");
    otk_cost_free(dense);
    otk_cost_free(points);
    otk_cost_free(points32);
    free(xf), free(yf);
    free(x), free(y), free(C), free(h), free(out), free(samp), free(pc_otk);
    return 0;
}
