/*
 * `otk monge-gap`: the empirical Monge gap of a map given by samples
 * (x_i, T(x_i)) (otkit/monge_gap.h), with its gradients on request.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "options.h"
#include "read.h"
#include "write.h"

static const char monge_gap_usage[] =
    "Usage: otk monge-gap X TX [OPTIONS]\n"
    "\n"
    "The empirical Monge gap of the map that sends row i of X to row i of TX\n"
    "(n points of dimension d each),\n"
    "  M = sum_i w_i c(x_i, T(x_i)) - OT_ent(w on X, w on TX),\n"
    "with OT_ent = <P,C> - eps H(P) the entropic OT value of OTT's ent_reg_cost,\n"
    "printed as one JSON object.  M >= eps H(w) (= eps log n for uniform\n"
    "weights), and M is close to that bound when the map is c-optimal (for the\n"
    "squared costs: the gradient of a convex function).  Files are CSV or NumPy\n"
    ".npy, as for otk sinkhorn.\n"
    "\n"
    "Problem:\n"
    "  --cost NAME      ground cost (default sqeuclidean, |x-y|^2 as OTT):\n"
    "                   sqeuclidean, half-sqeuclidean, euclidean, l1, lp, lp-over-p\n"
    "  --power P        the exponent of lp and lp-over-p (required for them)\n"
    "  --w W            the weights w of the n points, summing to 1 (default\n"
    "                   uniform; w as in otkit/monge_gap.h and the bindings)\n"
    "  --weights W      the former name of --w (otk grid --weights are\n"
    "                   barycentric coefficients)\n"
    "\n"
    "Regularisation (eps in cost units):\n"
    "  --eps E          absolute eps\n"
    "  --relative-eps F eps = F * stat(C) over the n^2 costs C_ij = c(x_i, T(x_j))\n"
    "                   (default 0.05, OTT's default; excludes --eps)\n"
    "  --relative-to S  stat = std (default) or mean\n"
    "\n"
    "Solver:\n"
    "  --tol T          marginal tolerance (default 1e-6)\n"
    "  --max-iter N     iterations at the target eps (default 10000)\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    "  --cache-mb MB    keep the n×n cost matrix in memory when it fits in MB MiB\n"
    "                   instead of recomputing it in every pass: same result,\n"
    "                   faster from d ~ 8 (default 0)\n"
    CLI_BACKEND_OPTIONS_HELP
    "                   (multiscale anneals eps on the clusters, monge_gap.h)\n"
    "\n"
    "Gradients (CSV, written atomically; eps held fixed):\n"
    "  --grad F         dM/dTX, n rows of d values\n"
    "  --grad-x F       dM/dX, n rows of d values\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "The JSON object has the keys status (\"ok\" or \"not_converged\"), monge_gap,\n"
    "eps, displacement, ot_ent, lower_bound, iterations, marginal_error, cost,\n"
    "power, relative_eps (null for an absolute eps), relative_to, n, d, seconds,\n"
    "threads, cache_mb, backend (the one run), truncation_bound (multiscale: the\n"
    "bound on the dropped plan mass, 0 otherwise), otkit_version.\n"
    "\n"
    "Exit status: 0 solved, 2 bad option, bad input or I/O error, 3 stopped at\n"
    "--max-iter without reaching --tol (the JSON, of the best iterate: the one\n"
    "with the smallest marginal error at the target eps, is still printed).\n";

enum { OPT_WEIGHTS, OPT_RELATIVE_EPS, OPT_RELATIVE_TO, OPT_GRAD, OPT_GRAD_X };

/* Besides the groups: --cost --power --eps --tol --max-iter --threads
 * --cache-mb and the input options. */
static const cli_option monge_gap_options[] = {
    {"--w", "W", OPT_WEIGHTS},
    {"--weights", "W", OPT_WEIGHTS},
    {"--relative-eps", "F", OPT_RELATIVE_EPS},
    {"--relative-to", "S", OPT_RELATIVE_TO},
    {"--grad", "F", OPT_GRAD},
    {"--grad-x", "F", OPT_GRAD_X},
    {NULL, NULL, 0},
};

static const unsigned monge_gap_groups = CLI_GROUP_GROUND | CLI_GROUP_EPS | CLI_GROUP_STOP |
                                         CLI_GROUP_THREADS | CLI_GROUP_CACHE | CLI_GROUP_INPUT |
                                         CLI_GROUP_BACKEND;

typedef struct {
    cli_common common; /* X, TX and the shared options */
    const char *w_path, *grad_path, *grad_x_path;
    otk_monge_gap_params params;
    int given_relative;
} monge_gap_request;

static int apply_argument(void *request, int id, const char *value)
{
    monge_gap_request *req = request;
    otk_monge_gap_params *par = &req->params;
    int v;
    switch (id) {
    case OPT_WEIGHTS:
        req->w_path = value;
        return 0;
    case OPT_RELATIVE_EPS:
        req->given_relative = 1;
        return cli_parse_positive("monge-gap", "--relative-eps", value, &par->relative_eps);
    case OPT_RELATIVE_TO:
        if (cli_parse_name("monge-gap", "--relative-to", "relative_to", value, &v) < 0)
            return -1;
        par->relative_to = (otk_relative_to)v;
        req->given_relative = 1;
        return 0;
    case OPT_GRAD:
        req->grad_path = value;
        return 0;
    case OPT_GRAD_X:
        req->grad_x_path = value;
        return 0;
    default:
        return -1;
    }
}

/* Returns 0 to go on, 1 when --help was printed, -1 on a usage error. */
static int parse_options(int argc, char **argv, monge_gap_request *req)
{
    memset(req, 0, sizeof *req);
    otk_monge_gap_params_default(&req->params);
    const int parsed = cli_parse_command("monge-gap", monge_gap_usage, monge_gap_options,
                                         apply_argument, req, monge_gap_groups, &req->common,
                                         argc, argv);
    if (parsed != 0)
        return parsed;
    const cli_common *c = &req->common;
    otk_monge_gap_params *par = &req->params;
    if (cli_expect_paths("monge-gap", c, 2, "two point files X and TX") < 0)
        return -1;
    if (!isnan(c->eps) && req->given_relative)
        return cli_usage_error("monge-gap", "give --eps or --relative-eps/--relative-to, not "
                                            "both");
    if (cli_check_ground_power("monge-gap", c->ground, c->power) < 0)
        return -1;
    if (c->given_cost)
        par->ground = c->ground;
    par->power = isnan(c->power) ? 0.0 : c->power;
    if (!isnan(c->eps))
        par->eps = c->eps;
    if (!isnan(c->tol))
        par->tol = c->tol;
    if (c->max_iter)
        par->max_iter = c->max_iter;
    par->threads = c->threads;
    par->cache_bytes = c->cache_bytes;
    par->backend = c->backend;
    if (!isnan(c->truncate))
        par->truncate = c->truncate;
    return 0;
}

static void print_report(const monge_gap_request *req, const otk_monge_gap_result *res,
                         otk_status st, size_t n, size_t d, double seconds)
{
    const otk_monge_gap_params *par = &req->params;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", st == OTK_SUCCESS ? "ok" : "not_converged");
    json_number(&w, "monge_gap", res->monge_gap);
    json_number(&w, "eps", res->eps);
    json_number(&w, "displacement", res->displacement);
    json_number(&w, "ot_ent", res->ot_ent);
    json_number(&w, "lower_bound", res->lower_bound);
    json_integer(&w, "iterations", res->iterations);
    json_number(&w, "marginal_error", res->marginal_error);
    json_string(&w, "cost", otk_ground_name(par->ground));
    json_number(&w, "power", req->common.power);
    if (par->eps > 0.0) {
        json_null(&w, "relative_eps");
        json_null(&w, "relative_to");
    } else {
        json_number(&w, "relative_eps", par->relative_eps);
        json_string(&w, "relative_to", otk_relative_to_name(par->relative_to));
    }
    json_integer(&w, "n", (long long)n);
    json_integer(&w, "d", (long long)d);
    json_number(&w, "seconds", seconds);
    json_integer(&w, "threads", par->threads);
    json_number(&w, "cache_mb", (double)par->cache_bytes / 1048576.0);
    json_string(&w, "backend", otk_backend_name(res->backend)); /* AUTO resolved */
    json_number(&w, "truncation_bound", res->truncation_bound);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
}

int cmd_monge_gap(int argc, char **argv)
{
    monge_gap_request req;
    const int parsed = parse_options(argc, argv, &req);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix x = {0, 0, NULL}, tx = {0, 0, NULL}, w = {0, 0, NULL};
    cli_output out_g = {NULL, NULL, NULL}, out_gx = {NULL, NULL, NULL};
    double *grad = NULL, *grad_x = NULL;
    size_t n = 0, d = 0;

    const cli_common *c = &req.common;
    if (cli_read_point_clouds(c->paths[0], c->paths[1], &c->read, &x, &tx) < 0)
        goto done;
    if (x.rows != tx.rows) {
        cli_error("%s has %zu points but %s has %zu: TX must hold T(x_i) for each row of X",
                  c->paths[0], x.rows, c->paths[1], tx.rows);
        goto done;
    }
    n = x.rows, d = x.cols;
    if (cli_read_weights(req.w_path, &c->read, "--w", n, "X", "points", &w) < 0)
        goto done;
    if ((req.grad_path && cli_output_open(&out_g, req.grad_path) < 0) ||
        (req.grad_x_path && cli_output_open(&out_gx, req.grad_x_path) < 0))
        goto done;
    if ((req.grad_path && !(grad = malloc(n * d * sizeof *grad))) ||
        (req.grad_x_path && !(grad_x = malloc(n * d * sizeof *grad_x)))) {
        cli_error("out of memory for the gradients (%zu x %zu)", n, d);
        goto done;
    }
    otk_monge_gap_result res;
    const double start = cli_monotonic_seconds();
    const otk_status st = otk_monge_gap_compute(n, d, x.values, tx.values, w.values, &req.params, &res,
                                        grad, grad_x);
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (grad) {
        cli_write_table(out_g.stream, "gradient of the Monge gap w.r.t. TX, one row per point",
                        grad, n, d);
        if (cli_output_commit(&out_g) < 0)
            goto done;
    }
    if (grad_x) {
        cli_write_table(out_gx.stream, "gradient of the Monge gap w.r.t. X, one row per point",
                        grad_x, n, d);
        if (cli_output_commit(&out_gx) < 0)
            goto done;
    }
    print_report(&req, &res, st, n, d, seconds); /* main() checks stdout */
    if (st == OTK_NOT_CONVERGED) {
        cli_error_not_converged(res.marginal_error, req.params.tol, req.params.max_iter, res.eps);
        exit_status = CLI_EXIT_NOT_CONVERGED;
    } else {
        exit_status = CLI_EXIT_SOLVED;
    }
done:
    cli_output_discard(&out_g);
    cli_output_discard(&out_gx);
    free(grad);
    free(grad_x);
    cli_matrix_free(&x);
    cli_matrix_free(&tx);
    cli_matrix_free(&w);
    return exit_status;
}
