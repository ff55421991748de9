/*
 * bench_sinkhorn — time one otkit Sinkhorn solve between two point clouds and
 * print the result as one JSON line.
 *
 * The points come from raw little-endian float64 files (n×d and m×d,
 * row-major, no header: what numpy's `x.astype('<f8').tofile(path)` writes),
 * or are drawn uniformly in the unit cube [0,1)^d from --seed.  The weights
 * are uniform.  Only the public API is used (<otkit.h>), as a user would.
 *
 * Timings (clock_gettime(CLOCK_MONOTONIC)):
 *   setup_seconds  otk_cost_points + otk_sinkhorn_alloc (copying the points
 *                  into the cost's layout, its diameter, the workspace; with
 *                  --cache also filling the n×m matrix);
 *   seconds        otk_sinkhorn_solve alone (set, all iterations, and the one
 *                  extra pass for <P,C>) — the number to compare with a peer.
 *
 * Exit status: 0 solved, 3 stopped at --max-iter (the JSON is still printed),
 * 2 bad arguments, input or library error.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <otkit.h>

#define EXIT_BAD_INPUT 2
#define EXIT_NOT_CONVERGED 3

static const char usage[] =
    "Usage: bench_sinkhorn --n N --m M --d D [--x FILE --y FILE | --seed S] [OPTIONS]\n"
    "\n"
    "Time one otkit Sinkhorn solve between two point clouds (uniform weights) and\n"
    "print one JSON line.\n"
    "\n"
    "Points:\n"
    "  --n N, --m M, --d D  numbers of source and target points, dimension\n"
    "  --x FILE, --y FILE   raw little-endian float64, N×D and M×D, row-major\n"
    "  --seed S             otherwise: uniform points in [0,1)^D (default seed 0)\n"
    "Problem and solver (defaults are the library's):\n"
    "  --cost NAME          sqeuclidean (default), half-sqeuclidean, euclidean, l1,\n"
    "                       lp, lp-over-p\n"
    "  --power P            exponent of lp and lp-over-p\n"
    "  --eps E              target ε in cost units (default: blur^p)\n"
    "  --blur B             GeomLoss blur, ε = B^p when --eps is not given\n"
    "  --tol T              relative L1 marginal tolerance (converge schedule)\n"
    "  --max-iter N         iterations at the target ε (converge schedule)\n"
    "  --threads K          OpenMP threads inside each call (0 = OpenMP default)\n"
    "  --schedule S         converge | fixed\n"
    "  --update U           auto | symmetric | alternating | overrelaxed |\n"
    "                       translated | accelerated\n"
    "  --scaling S          ε-scaling factor on blur, in (0, 1)\n"
    "  --no-annealing       start at the target ε (converge schedule)\n"
    "  --cache              keep the n×m cost matrix in memory (otk_cost_points_cache;\n"
    "                       filled during setup) instead of computing it in every pass\n";

typedef struct {
    size_t n, m, d;
    const char *x_path, *y_path;
    uint64_t seed;
    otk_ground ground;
    double power;
    int cache;
    otk_sinkhorn_params params;
} bench_request;

/* ------------------------------------------------------------------ parsing */

static int bad_value(const char *option, const char *text, const char *expected)
{
    fprintf(stderr, "bench_sinkhorn: %s: expected %s, found \"%s\"\n", option, expected, text);
    return -1;
}

static int parse_size(const char *option, const char *text, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || v == 0 || text[0] == '-')
        return bad_value(option, text, "a positive integer");
    *out = (size_t)v;
    return 0;
}

static int parse_int(const char *option, const char *text, int min, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > 0x7fffffffL)
        return bad_value(option, text, min > 0 ? "a positive integer" : "an integer >= 0");
    *out = (int)v;
    return 0;
}

static int parse_positive(const char *option, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0.0) || !isfinite(v))
        return bad_value(option, text, "a finite number > 0");
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, bench_request *req)
{
    memset(req, 0, sizeof *req);
    req->ground = OTK_GROUND_SQEUCLIDEAN;
    req->power = 1.0;
    otk_sinkhorn_params_default(&req->params);
    otk_sinkhorn_params *par = &req->params;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (!strcmp(opt, "--no-annealing")) {
            par->no_annealing = 1;
            continue;
        }
        if (!strcmp(opt, "--cache")) {
            req->cache = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_sinkhorn: %s needs a value (or is unknown)\n%s", opt, usage);
            return -1;
        }
        const char *val = argv[++i];
        int rc = 0;
        if (!strcmp(opt, "--n"))
            rc = parse_size(opt, val, &req->n);
        else if (!strcmp(opt, "--m"))
            rc = parse_size(opt, val, &req->m);
        else if (!strcmp(opt, "--d"))
            rc = parse_size(opt, val, &req->d);
        else if (!strcmp(opt, "--x"))
            req->x_path = val;
        else if (!strcmp(opt, "--y"))
            req->y_path = val;
        else if (!strcmp(opt, "--seed")) {
            char *end;
            errno = 0;
            req->seed = strtoull(val, &end, 10);
            if (errno || end == val || *end)
                rc = bad_value(opt, val, "an integer >= 0");
        } else if (!strcmp(opt, "--cost")) {
            if (otk_ground_from_name(val, &req->ground) != OTK_SUCCESS)
                rc = bad_value(opt, val, "a ground cost name (see otkit/cost.h)");
        } else if (!strcmp(opt, "--power"))
            rc = parse_positive(opt, val, &req->power);
        else if (!strcmp(opt, "--eps"))
            rc = parse_positive(opt, val, &par->eps);
        else if (!strcmp(opt, "--blur"))
            rc = parse_positive(opt, val, &par->blur);
        else if (!strcmp(opt, "--tol"))
            rc = parse_positive(opt, val, &par->tol);
        else if (!strcmp(opt, "--max-iter"))
            rc = parse_int(opt, val, 1, &par->max_iter);
        else if (!strcmp(opt, "--threads"))
            rc = parse_int(opt, val, 0, &par->threads);
        else if (!strcmp(opt, "--scaling")) {
            rc = parse_positive(opt, val, &par->scaling);
            if (!rc && !(par->scaling < 1.0))
                rc = bad_value(opt, val, "a number in (0, 1)");
        } else if (!strcmp(opt, "--schedule")) {
            if (!strcmp(val, "converge"))
                par->schedule = OTK_SCHEDULE_CONVERGE;
            else if (!strcmp(val, "fixed"))
                par->schedule = OTK_SCHEDULE_FIXED;
            else
                rc = bad_value(opt, val, "converge or fixed");
        } else if (!strcmp(opt, "--update")) {
            if (!strcmp(val, "auto"))
                par->update = OTK_UPDATE_AUTO;
            else if (!strcmp(val, "symmetric"))
                par->update = OTK_UPDATE_SYMMETRIC;
            else if (!strcmp(val, "alternating"))
                par->update = OTK_UPDATE_ALTERNATING;
            else
                rc = bad_value(opt, val, "auto, symmetric or alternating");
        } else {
            fprintf(stderr, "bench_sinkhorn: unknown option %s\n%s", opt, usage);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (!req->n || !req->m || !req->d) {
        fprintf(stderr, "bench_sinkhorn: --n, --m and --d are required\n%s", usage);
        return -1;
    }
    if (!req->x_path != !req->y_path) {
        fprintf(stderr, "bench_sinkhorn: give both --x and --y, or neither (--seed)\n");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ points */

/* splitmix64 (Steele, Lea & Flood 2014): a tiny, well-mixed, seedable
 * generator, so that the drawn clouds are the same on every platform. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0,1): the top 53 bits. */
static void draw_uniform_cube(uint64_t *state, size_t count, double *out)
{
    for (size_t k = 0; k < count; k++)
        out[k] = (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

static int host_is_little_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/* Read exactly count float64 little-endian values; the file must hold no more. */
static int read_raw_points(const char *path, size_t count, double *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_sinkhorn: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t got = fread(out, sizeof(double), count, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != count || extra != EOF) {
        fprintf(stderr, "bench_sinkhorn: %s: expected exactly %zu float64 values (%zu bytes)\n",
                path, count, count * sizeof(double));
        return -1;
    }
    if (!host_is_little_endian()) {
        for (size_t k = 0; k < count; k++) {
            unsigned char b[8], r[8];
            memcpy(b, &out[k], 8);
            for (int t = 0; t < 8; t++)
                r[t] = b[7 - t];
            memcpy(&out[k], r, 8);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ timing */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *schedule_name(otk_schedule s)
{
    return s == OTK_SCHEDULE_FIXED ? "fixed" : "converge";
}

static const char *update_name(otk_update u)
{
    return u == OTK_UPDATE_SYMMETRIC ? "symmetric" : u == OTK_UPDATE_ALTERNATING ? "alternating"
                                                                                  : "auto";
}

static const char *status_word(otk_status st)
{
    return st == OTK_SUCCESS ? "ok" : st == OTK_NOT_CONVERGED ? "not_converged" : "error";
}

int main(int argc, char **argv)
{
    bench_request req;
    if (parse_args(argc, argv, &req) < 0)
        return EXIT_BAD_INPUT;

    double *x = malloc(req.n * req.d * sizeof *x);
    double *y = malloc(req.m * req.d * sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "bench_sinkhorn: out of memory for the points\n");
        return EXIT_BAD_INPUT;
    }
    if (req.x_path) {
        if (read_raw_points(req.x_path, req.n * req.d, x) < 0 ||
            read_raw_points(req.y_path, req.m * req.d, y) < 0)
            return EXIT_BAD_INPUT;
    } else {
        uint64_t state = req.seed;
        draw_uniform_cube(&state, req.n * req.d, x);
        draw_uniform_cube(&state, req.m * req.d, y);
    }

    otk_cost *cost = NULL;
    otk_sinkhorn *solver = NULL;
    const double t_setup = now_seconds();
    otk_status st = otk_cost_points(&cost, req.n, req.m, req.d, x, y, req.ground, req.power);
    if (st == OTK_SUCCESS && req.cache)
        st = otk_cost_points_cache(cost, SIZE_MAX);
    if (st == OTK_SUCCESS)
        st = otk_sinkhorn_alloc(&solver, cost, &req.params);
    const double setup_seconds = now_seconds() - t_setup;
    if (st != OTK_SUCCESS) {
        fprintf(stderr, "bench_sinkhorn: %s: %s\n", otk_status_name(st), otk_last_error());
        return EXIT_BAD_INPUT;
    }
    /* The cost copied the points. */
    free(x);
    free(y);

    otk_sinkhorn_result res;
    const double t_solve = now_seconds();
    st = otk_sinkhorn_solve(solver, NULL, NULL, &res);
    const double seconds = now_seconds() - t_solve;
    if (st != OTK_SUCCESS && st != OTK_NOT_CONVERGED) {
        fprintf(stderr, "bench_sinkhorn: %s: %s\n", otk_status_name(st), otk_last_error());
        return EXIT_BAD_INPUT;
    }

    printf("{\"n\": %zu, \"m\": %zu, \"d\": %zu, \"cost\": \"%s\", \"eps\": %.17g, "
           "\"tol\": %.17g, \"max_iter\": %d, \"threads\": %d, \"schedule\": \"%s\", "
           "\"update\": \"%s\", \"scaling\": %.17g, \"iterations\": %d, "
           "\"annealing_iterations\": %d, \"ot_lin\": %.17g, \"ot_kl\": %.17g, "
           "\"ot_ent\": %.17g, \"marginal_error\": %.17g, \"status\": \"%s\", "
           "\"seconds\": %.6f, \"setup_seconds\": %.6f, \"cache_bytes\": %zu, "
           "\"otkit_version\": \"%s\"}\n",
           req.n, req.m, req.d, otk_ground_name(req.ground), res.eps, req.params.tol,
           req.params.max_iter, req.params.threads, schedule_name(req.params.schedule),
           update_name(req.params.update), req.params.scaling, res.iterations,
           res.annealing_iterations, res.ot_lin, res.ot_kl, res.ot_ent, res.marginal_error,
           status_word(st), seconds, setup_seconds, otk_cost_cache_bytes(cost),
           otk_version_string());

    otk_sinkhorn_free(solver);
    otk_cost_free(cost);
    return st == OTK_SUCCESS ? 0 : EXIT_NOT_CONVERGED;
}
