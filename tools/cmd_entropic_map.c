/*
 * `otk entropic-map`: fit the entropic map between two point clouds
 * (otkit/entropic_map.h) and apply it to a third one, CSV on stdout.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "options.h"
#include "read.h"
#include "write.h"

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
    CLI_SCALE_OPTIONS_HELP
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 done, 2 bad option, bad input or I/O error, 3 Sinkhorn\n"
    "stopped at --max-iter without reaching --tol (the map of the best iterate\n"
    "is still applied and printed).\n";

/* The options: --cost --power --a --b --blur --eps --tol --max-iter --threads
 * and the input options, all from the shared groups. */
static const unsigned entropic_map_groups = CLI_GROUP_WEIGHTS | CLI_GROUP_GROUND |
                                            CLI_GROUP_EPS | CLI_GROUP_BLUR | CLI_GROUP_STOP |
                                            CLI_GROUP_THREADS | CLI_GROUP_INPUT | CLI_GROUP_SCALE;

int cmd_entropic_map(int argc, char **argv)
{
    cli_common common;
    const int parsed = cli_parse_command("entropic-map", entropic_map_usage, NULL, NULL, NULL,
                                         entropic_map_groups, &common, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    const cli_common *c = &common;
    if (c->npaths != 3) {
        cli_usage_error("entropic-map", "expected three point files X, Y and Z (found %d)",
                        c->npaths);
        return CLI_EXIT_BAD_INPUT;
    }
    if (cli_check_ground_power("entropic-map", c->ground, c->power) < 0)
        return CLI_EXIT_BAD_INPUT;
    const double power = isnan(c->power) ? 0.0 : c->power;
    otk_sinkhorn_params params;
    otk_sinkhorn_params_default(&params);
    if (!isnan(c->eps))
        params.eps = c->eps;
    if (!isnan(c->blur))
        params.blur = c->blur;
    if (!isnan(c->tol))
        params.tol = c->tol;
    if (c->max_iter)
        params.max_iter = c->max_iter;
    params.threads = c->threads;
    CLI_APPLY_SCALE(c, &params);

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix x = {0, 0, NULL}, y = {0, 0, NULL}, z = {0, 0, NULL};
    cli_matrix a = {0, 0, NULL}, b = {0, 0, NULL};
    otk_entropic_map *T = NULL;
    double *tz = NULL;
    if (cli_read_point_clouds(c->paths[0], c->paths[1], &c->read, &x, &y) < 0 ||
        cli_read_matrix(c->paths[2], &c->read, &z) < 0)
        goto done;
    if (z.cols != x.cols) {
        cli_error("dimension mismatch: the points of %s have %zu coordinates, those of %s have "
                  "%zu",
                  c->paths[2], z.cols, c->paths[0], x.cols);
        goto done;
    }
    if (cli_read_weights(c->a_path, &c->read, "--a", x.rows, "X", "points", &a) < 0 ||
        cli_read_weights(c->b_path, &c->read, "--b", y.rows, "Y", "points", &b) < 0)
        goto done;
    if (!(tz = malloc(z.rows * z.cols * sizeof *tz))) {
        cli_error("out of memory for %zu x %zu mapped points", z.rows, z.cols);
        goto done;
    }
    const otk_status st = otk_entropic_map_fit(&T, x.rows, y.rows, x.cols, x.values, y.values,
                                               a.values, b.values, c->ground, power, &params);
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (st == OTK_NOT_CONVERGED)
        cli_error("%s", otk_last_error());
    if (otk_entropic_map_apply(T, z.rows, z.values, tz, params.threads) < 0) {
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
