/* bench_divergence: time otkit's debiased Sinkhorn divergence and its gradient
 * w.r.t. x on point clouds read from raw little-endian float64 files, and print
 * one JSON line.  Used by compare_torch.py.
 *
 *   bench_divergence X.f64 Y.f64 N M D [--blur B] [--scaling S] [--p P]
 *                    [--schedule fixed|converge] [--threads K] [--repeats R]
 */
#include <otkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double *read_raw(const char *path, size_t count)
{
    FILE *f = fopen(path, "rb");
    double *v = malloc(count * sizeof *v);
    if (!f || !v || fread(v, sizeof *v, count, f) != count) {
        fprintf(stderr, "bench_divergence: cannot read %zu doubles from %s\n", count, path);
        exit(2);
    }
    fclose(f);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_divergence X.f64 Y.f64 N M D [options]\n");
        return 2;
    }
    const size_t n = strtoul(argv[3], NULL, 10), m = strtoul(argv[4], NULL, 10),
                 d = strtoul(argv[5], NULL, 10);
    otk_divergence_params par;
    otk_divergence_params_default(&par);
    par.schedule = OTK_SCHEDULE_FIXED;
    double p = 2.0;
    int repeats = 3;
    for (int k = 6; k + 1 < argc; k += 2) {
        if (!strcmp(argv[k], "--blur"))
            par.blur = atof(argv[k + 1]);
        else if (!strcmp(argv[k], "--scaling"))
            par.scaling = atof(argv[k + 1]);
        else if (!strcmp(argv[k], "--p"))
            p = atof(argv[k + 1]);
        else if (!strcmp(argv[k], "--threads"))
            par.threads = atoi(argv[k + 1]);
        else if (!strcmp(argv[k], "--repeats"))
            repeats = atoi(argv[k + 1]);
        else if (!strcmp(argv[k], "--schedule"))
            par.schedule = !strcmp(argv[k + 1], "fixed") ? OTK_SCHEDULE_FIXED
                                                         : OTK_SCHEDULE_CONVERGE;
        else {
            fprintf(stderr, "bench_divergence: unknown option %s\n", argv[k]);
            return 2;
        }
    }
    double *x = read_raw(argv[1], n * d), *y = read_raw(argv[2], m * d);
    double *gx = malloc(n * d * sizeof *gx);
    double *times = malloc((size_t)repeats * sizeof *times);
    otk_ground ground;
    double power;
    if (otk_divergence_geomloss_ground(p, &ground, &power) < 0) {
        fprintf(stderr, "bench_divergence: %s\n", otk_last_error());
        return 2;
    }
    otk_divergence *div = NULL;
    otk_divergence_result res;
    otk_status st = OTK_SUCCESS;
    for (int r = 0; r < repeats; r++) {
        /* Timed: everything a caller does for one value and gradient. */
        double t0 = now();
        st = otk_divergence_alloc_points(&div, n, m, d, x, y, ground, power, &par);
        if (st >= 0)
            st = otk_divergence_solve(div, NULL, NULL, &res);
        if (st >= 0)
            st = otk_divergence_grad_x(div, gx);
        times[r] = now() - t0;
        if (st < 0) {
            fprintf(stderr, "bench_divergence: %s\n", otk_last_error());
            return 1;
        }
        if (r + 1 < repeats)
            otk_divergence_free(div);
    }
    qsort(times, (size_t)repeats, sizeof *times, cmp_double);
    printf("{\"n\": %zu, \"m\": %zu, \"d\": %zu, \"divergence\": %.17g, \"iterations\": %d, "
           "\"grad_x_row0\": [",
           n, m, d, res.divergence, res.iterations);
    for (size_t k = 0; k < d; k++)
        printf("%s%.17g", k ? ", " : "", gx[k]);
    printf("], \"seconds_median\": %.6f, \"seconds_min\": %.6f, \"repeats\": %d, "
           "\"status\": \"%s\"}\n",
           times[repeats / 2], times[0], repeats, otk_status_name(st));
    otk_divergence_free(div);
    free(x);
    free(y);
    free(gx);
    free(times);
    return 0;
}
