/*
 * `otk entropic-map`: fit the entropic map between two point clouds
 * (otkit/entropic_map.h) and apply it to a third one, CSV on stdout.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "io.h"

static const char entropic_map_usage[] =
    "Usage: otk entropic-map X Y Z [OPTIONS]\n"
    "\n"
    "Fit the entropic map from the point cloud X (n points) to Y (m points) by\n"
    "entropic OT, and print its values at the points of Z (all of dimension d)\n"
    "as CSV on stdout, one row per point of Z:\n"
    "  T(z) = sum_j b_j exp((g_j - c(z, y_j))/eps) y_j / sum_j b_j exp((g_j - c(z, y_j))/eps),\n"
    "g the target potential; at a point of X, T is its barycentric projection\n"
    "sum_j P_ij y_j / a_i.  Files are CSV or NumPy .npy, as for otk sinkhorn.\n"
    "\n"
    "  --cost NAME      ground cost (default sqeuclidean): sqeuclidean,\n"
    "                   half-sqeuclidean, euclidean, l1, lp, lp-over-p\n"
    "  --power P        the exponent of lp and lp-over-p (required for them)\n"
    "  --a A            weights of X (default uniform)\n"
    "  --b B            weights of Y (default uniform); sum(a) = sum(b)\n"
    "  --blur B         eps = B^p, p the cost's exponent (default 0.05)\n"
    "  --eps E          eps = E, cost units (excludes --blur)\n"
    "  --tol T          marginal tolerance (default 1e-6)\n"
    "  --max-iter N     iterations at the target eps (default 10000)\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 done, 2 bad option, bad input or I/O error, 3 Sinkhorn\n"
    "stopped at --max-iter without reaching --tol (the map of the best iterate\n"
    "is still applied and printed).\n";

enum {
    OPT_COST,
    OPT_POWER,
    OPT_A,
    OPT_B,
    OPT_BLUR,
    OPT_EPS,
    OPT_TOL,
    OPT_MAX_ITER,
    OPT_THREADS
};

static const cli_option entropic_map_options[] = {
    {"--cost", "NAME", OPT_COST},   {"--power", "P", OPT_POWER},
    {"--a", "A", OPT_A},            {"--b", "B", OPT_B},
    {"--blur", "B", OPT_BLUR},      {"--eps", "E", OPT_EPS},
    {"--tol", "T", OPT_TOL},        {"--max-iter", "N", OPT_MAX_ITER},
    {"--threads", "K", OPT_THREADS}, {NULL, NULL, 0},
};

typedef struct {
    const char *paths[3]; /* X, Y, Z */
    int n_paths;
    const char *a_path, *b_path;
    otk_ground ground;
    double power; /* NAN unless --power */
    otk_sinkhorn_params params;
    int given_eps, given_blur;
} entropic_map_request;

static int apply_argument(void *request, int id, const char *value)
{
    entropic_map_request *req = request;
    otk_sinkhorn_params *par = &req->params;
    switch (id) {
    case CLI_ARG_POSITIONAL:
        if (req->n_paths < 3)
            req->paths[req->n_paths] = value;
        req->n_paths++;
        return 0;
    case OPT_COST:
        return cli_parse_ground("entropic-map", value, &req->ground);
    case OPT_POWER:
        return cli_parse_positive("entropic-map", "--power", value, &req->power);
    case OPT_A:
        req->a_path = value;
        return 0;
    case OPT_B:
        req->b_path = value;
        return 0;
    case OPT_BLUR:
        req->given_blur = 1;
        return cli_parse_positive("entropic-map", "--blur", value, &par->blur);
    case OPT_EPS:
        req->given_eps = 1;
        return cli_parse_positive("entropic-map", "--eps", value, &par->eps);
    case OPT_TOL:
        return cli_parse_positive("entropic-map", "--tol", value, &par->tol);
    case OPT_MAX_ITER:
        return cli_parse_int("entropic-map", "--max-iter", value, 1, &par->max_iter);
    case OPT_THREADS:
        return cli_parse_int("entropic-map", "--threads", value, 0, &par->threads);
    default:
        return -1;
    }
}

int cmd_entropic_map(int argc, char **argv)
{
    entropic_map_request req;
    memset(&req, 0, sizeof req);
    req.power = NAN;
    req.ground = OTK_GROUND_SQEUCLIDEAN;
    otk_sinkhorn_params_default(&req.params);
    const int parsed = cli_args_parse("entropic-map", entropic_map_usage, entropic_map_options,
                                      argc, argv, apply_argument, &req);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    if (req.n_paths != 3) {
        cli_usage_error("entropic-map", "expected three point files X, Y and Z (found %d)",
                        req.n_paths);
        return CLI_EXIT_BAD_INPUT;
    }
    if (req.given_eps && req.given_blur) {
        cli_usage_error("entropic-map", "give --eps or --blur, not both (--blur B sets eps = "
                                        "B^p)");
        return CLI_EXIT_BAD_INPUT;
    }
    if (cli_check_ground_power("entropic-map", req.ground, req.power) < 0)
        return CLI_EXIT_BAD_INPUT;
    const double power = isnan(req.power) ? 0.0 : req.power;

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix x = {0, 0, NULL}, y = {0, 0, NULL}, z = {0, 0, NULL};
    cli_matrix a = {0, 0, NULL}, b = {0, 0, NULL};
    otk_entropic_map *T = NULL;
    double *tz = NULL;
    if (cli_read_point_clouds(req.paths[0], req.paths[1], &x, &y) < 0 ||
        cli_read_matrix(req.paths[2], &z) < 0)
        goto done;
    if (z.cols != x.cols) {
        cli_error("dimension mismatch: the points of %s have %zu coordinates, those of %s have "
                  "%zu",
                  req.paths[2], z.cols, req.paths[0], x.cols);
        goto done;
    }
    if (cli_read_weights(req.a_path, "--a", x.rows, "X", "points", &a) < 0 ||
        cli_read_weights(req.b_path, "--b", y.rows, "Y", "points", &b) < 0)
        goto done;
    if (!(tz = malloc(z.rows * z.cols * sizeof *tz))) {
        cli_error("out of memory for %zu x %zu mapped points", z.rows, z.cols);
        goto done;
    }
    const otk_status st = otk_entropic_map_fit(&T, x.rows, y.rows, x.cols, x.values, y.values,
                                               a.values, b.values, req.ground, power, &req.params);
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (st == OTK_NOT_CONVERGED)
        cli_error("%s", otk_last_error());
    if (otk_entropic_map_apply(T, z.rows, z.values, tz, req.params.threads) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    cli_write_table(stdout, NULL, tz, z.rows, z.cols); /* main() checks stdout */
    exit_status = st == OTK_NOT_CONVERGED ? CLI_EXIT_NOT_CONVERGED : CLI_EXIT_SOLVED;
done:
    otk_entropic_map_free(T);
    free(tz);
    cli_matrix_free(&x);
    cli_matrix_free(&y);
    cli_matrix_free(&z);
    cli_matrix_free(&a);
    cli_matrix_free(&b);
    return exit_status;
}
