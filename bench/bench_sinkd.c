/* bench_sinkd: time otkit's SinKD loss forward + backward (the gradient w.r.t.
 * the student logits only, as in training with a frozen teacher) and print one
 * JSON line.  Used by compare_sinkd_torch.py.
 *
 *   bench_sinkd --B B --K K [--zs ZS.f64 --zt ZT.f64 | --seed S [--scale A]]
 *               [--tau T] [--eps E] [--iters N] [--cost NAME] [--power P]
 *               [--weight W] [--grad-mode unrolled|envelope] [--threads K]
 *               [--repeats R] [--grad-out G.f64]
 *
 * ZS and ZT are raw little-endian float64, row-major B×K.  Without them the
 * logits are uniform in [-A, A) (A = --scale, default 5) from a splitmix64
 * stream seeded by --seed (default 1), student first.  The workspace is
 * allocated once (otk_sinkd_alloc, reported as alloc_seconds); each repeat
 * times one otk_sinkd_loss call with grad_s (CLOCK_MONOTONIC).  --grad-out
 * writes the gradient of the last repeat as raw float64.
 */
#include <otkit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_seconds(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* CPU time of all threads: on a machine shared with other work it moves far
 * less than the wall clock, so the peer comparison also reports it. */
static double cpu_now(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

static double *alloc_doubles(size_t count)
{
    double *v = malloc(count * sizeof *v);
    if (!v) {
        fprintf(stderr, "bench_sinkd: out of memory for %zu doubles\n", count);
        exit(2);
    }
    return v;
}

static double *read_raw(const char *path, size_t count)
{
    FILE *f = fopen(path, "rb");
    double *v = alloc_doubles(count);
    if (!f || fread(v, sizeof *v, count, f) != count) {
        fprintf(stderr, "bench_sinkd: cannot read %zu doubles from %s\n", count, path);
        exit(2);
    }
    fclose(f);
    return v;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_uniform(double *v, size_t count, double scale, uint64_t *state)
{
    for (size_t k = 0; k < count; k++)
        v[k] = scale * (2.0 * ((double)(splitmix64(state) >> 11) * 0x1.0p-53) - 1.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t B = 0, K = 0;
    const char *zs_path = NULL, *zt_path = NULL, *grad_out = NULL;
    uint64_t seed = 1;
    double scale = 5.0;
    int repeats = 5;
    otk_sinkd_params par;
    otk_sinkd_params_default(&par);
    for (int k = 1; k < argc; k += 2) {
        if (k + 1 >= argc) {
            fprintf(stderr, "bench_sinkd: %s needs a value\n", argv[k]);
            return 2;
        }
        const char *o = argv[k], *v = argv[k + 1];
        if (!strcmp(o, "--B"))
            B = strtoul(v, NULL, 10);
        else if (!strcmp(o, "--K"))
            K = strtoul(v, NULL, 10);
        else if (!strcmp(o, "--zs"))
            zs_path = v;
        else if (!strcmp(o, "--zt"))
            zt_path = v;
        else if (!strcmp(o, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--scale"))
            scale = atof(v);
        else if (!strcmp(o, "--tau"))
            par.tau = atof(v);
        else if (!strcmp(o, "--eps"))
            par.eps = atof(v);
        else if (!strcmp(o, "--iters"))
            par.iters = atoi(v);
        else if (!strcmp(o, "--cost")) {
            if (otk_ground_from_name(v, &par.ground) < 0) {
                fprintf(stderr, "bench_sinkd: %s\n", otk_last_error());
                return 2;
            }
        } else if (!strcmp(o, "--power"))
            par.power = atof(v);
        else if (!strcmp(o, "--weight"))
            par.weight = atof(v);
        else if (!strcmp(o, "--grad-mode"))
            par.grad = !strcmp(v, "envelope") ? OTK_SINKD_GRAD_ENVELOPE : OTK_SINKD_GRAD_UNROLLED;
        else if (!strcmp(o, "--threads"))
            par.threads = atoi(v);
        else if (!strcmp(o, "--repeats"))
            repeats = atoi(v);
        else if (!strcmp(o, "--grad-out"))
            grad_out = v;
        else {
            fprintf(stderr, "bench_sinkd: unknown option %s\n", o);
            return 2;
        }
    }
    if (B == 0 || K == 0 || repeats < 1 || (!zs_path != !zt_path)) {
        fprintf(stderr, "usage: bench_sinkd --B B --K K [--zs ZS.f64 --zt ZT.f64 | --seed S] "
                        "[options] (see the source)\n");
        return 2;
    }
    double *zs, *zt;
    if (zs_path) {
        zs = read_raw(zs_path, B * K);
        zt = read_raw(zt_path, B * K);
    } else {
        uint64_t state = seed;
        zs = alloc_doubles(B * K);
        zt = alloc_doubles(B * K);
        fill_uniform(zs, B * K, scale, &state);
        fill_uniform(zt, B * K, scale, &state);
    }
    double *gs = alloc_doubles(B * K);
    double *times = alloc_doubles((size_t)repeats), *cpu = alloc_doubles((size_t)repeats);

    otk_sinkd *sd = NULL;
    const double t_alloc = now();
    otk_status st = otk_sinkd_alloc(&sd, B, K, &par);
    const double alloc_seconds = now() - t_alloc;
    if (st < 0) {
        fprintf(stderr, "bench_sinkd: %s\n", otk_last_error());
        return 1;
    }
    double loss = 0.0;
    for (int r = 0; r < repeats; r++) {
        const double t0 = now(), c0 = cpu_now();
        st = otk_sinkd_loss(sd, zs, zt, &loss, gs, NULL);
        times[r] = now() - t0;
        cpu[r] = cpu_now() - c0;
        if (st < 0) {
            fprintf(stderr, "bench_sinkd: %s\n", otk_last_error());
            return 1;
        }
    }
    if (grad_out) {
        FILE *f = fopen(grad_out, "wb");
        if (!f || fwrite(gs, sizeof *gs, B * K, f) != B * K || fclose(f) != 0) {
            fprintf(stderr, "bench_sinkd: cannot write %s\n", grad_out);
            return 2;
        }
    }
    qsort(times, (size_t)repeats, sizeof *times, cmp_double);
    qsort(cpu, (size_t)repeats, sizeof *cpu, cmp_double);
    printf("{\"B\": %zu, \"K\": %zu, \"tau\": %.17g, \"eps\": %.17g, \"iters\": %d, "
           "\"cost\": \"%s\", \"weight\": %.17g, \"grad_mode\": \"%s\", \"threads\": %d, "
           "\"loss\": %.17g, \"grad_s_00\": %.17g, \"seconds_median\": %.6f, "
           "\"seconds_min\": %.6f, \"cpu_seconds_median\": %.6f, \"alloc_seconds\": %.6f, "
           "\"repeats\": %d, "
           "\"status\": \"%s\"}\n",
           B, K, par.tau, par.eps, par.iters, otk_ground_name(par.ground), par.weight,
           par.grad == OTK_SINKD_GRAD_ENVELOPE ? "envelope" : "unrolled", par.threads, loss,
           gs[0], repeats % 2 ? times[repeats / 2]
                              : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]),
           times[0],
           repeats % 2 ? cpu[repeats / 2] : 0.5 * (cpu[repeats / 2 - 1] + cpu[repeats / 2]),
           alloc_seconds, repeats, otk_status_name(st));
    otk_sinkd_free(sd);
    free(zs);
    free(zt);
    free(gs);
    free(times);
    return 0;
}
