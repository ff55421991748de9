/*
 * `otk sliced`: the sliced Wasserstein distance between two point clouds
 * (otkit/sliced.h), with its gradients on request.  In dimension 1 every
 * direction is ±1 and the value is the 1-D W_p, POT's wasserstein_1d to the
 * power 1/p.
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

static const char sliced_usage[] =
    "Usage: otk sliced X Y [OPTIONS]\n"
    "\n"
    "The sliced Wasserstein distance SW_p = ((1/L) sum_l W_p^p(theta_l.X,\n"
    "theta_l.Y))^(1/p) between the point clouds X (n points) and Y (m points) of\n"
    "the same dimension d, over L unit directions theta_l, each 1-D W_p^p computed\n"
    "exactly by sorting (POT's ot.sliced_wasserstein_distance for the same\n"
    "directions).  With d = 1 it is the 1-D W_p (POT's wasserstein_1d^(1/p)).\n"
    "Files are read as for otk sinkhorn (CSV or .npy).\n"
    "\n"
    "  --a A            source weights: n non-negative values (default 1/n each);\n"
    "                   normalised to mass 1, as are the target weights\n"
    "  --b B            target weights: m values (default 1/m each)\n"
    "  --p P            the exponent, >= 1 (default 2)\n"
    "  --projections L  number of directions L, >= 1 (default 50)\n"
    "  --directions K   gaussian (default: normalised Gaussian vectors) or halton\n"
    "                   (a seeded shifted Halton sequence, d <= 1000)\n"
    "  --seed S         seed of the directions, >= 0 (default 0)\n"
    "  --directions-file F  use the L x d directions in F (each row normalised;\n"
    "                   L is its row count) instead of drawing them\n"
    "  --write-directions F  write the L x d unit directions used (CSV)\n"
    "  --projected F    the L projected W_p^p values (CSV)\n"
    "  --grad-x F       d SW_p^p / d X, n x d (CSV); note: of SW_p^p, not SW_p\n"
    "  --grad-y F       d SW_p^p / d Y, m x d (CSV)\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "JSON keys: status (\"ok\"), value (SW_p), value_p (SW_p^p), max_value (the\n"
    "largest projected W_p over the directions used), p, projections, directions\n"
    "(gaussian, halton or file), seed, n, m, d, seconds, otkit_version.\n"
    "\n"
    "Exit status: 0 computed, 2 bad option, bad input or I/O error.\n";

enum {
    OPT_P,
    OPT_PROJECTIONS,
    OPT_DIRECTIONS,
    OPT_SEED,
    OPT_DIRECTIONS_FILE,
    OPT_WRITE_DIRECTIONS,
    OPT_PROJECTED,
    OPT_GRAD_X,
    OPT_GRAD_Y
};

static const cli_option sliced_options[] = {
    {"--p", "P", OPT_P},
    {"--projections", "L", OPT_PROJECTIONS},
    {"--directions", "K", OPT_DIRECTIONS},
    {"--seed", "S", OPT_SEED},
    {"--directions-file", "F", OPT_DIRECTIONS_FILE},
    {"--write-directions", "F", OPT_WRITE_DIRECTIONS},
    {"--projected", "F", OPT_PROJECTED},
    {"--grad-x", "F", OPT_GRAD_X},
    {"--grad-y", "F", OPT_GRAD_Y},
    {NULL, NULL, 0},
};

typedef struct {
    cli_common common;
    otk_sliced_params params;
    int given_projections, given_directions, given_seed;
    const char *directions_path, *write_directions_path, *projected_path, *grad_x_path,
        *grad_y_path;
} sliced_request;

static int apply_argument(void *request, int id, const char *value)
{
    sliced_request *req = request;
    int v = 0;
    switch (id) {
    case OPT_P:
        if (cli_parse_real("sliced", "--p", value, &req->params.p) < 0)
            return -1;
        if (!(req->params.p >= 1.0 && isfinite(req->params.p)))
            return cli_usage_error("sliced", "--p: expected a finite number >= 1, found %s",
                                   value);
        return 0;
    case OPT_PROJECTIONS:
        req->given_projections = 1;
        if (cli_parse_int("sliced", "--projections", value, 1, &v) < 0)
            return -1;
        req->params.n_projections = (size_t)v;
        return 0;
    case OPT_DIRECTIONS:
        req->given_directions = 1;
        if (cli_parse_name("sliced", "--directions", "directions", value, &v) < 0)
            return -1;
        req->params.directions = (otk_directions)v;
        return 0;
    case OPT_SEED:
        req->given_seed = 1;
        if (cli_parse_int("sliced", "--seed", value, 0, &v) < 0)
            return -1;
        req->params.seed = (unsigned long)v;
        return 0;
    case OPT_DIRECTIONS_FILE:
        req->directions_path = value;
        return 0;
    case OPT_WRITE_DIRECTIONS:
        req->write_directions_path = value;
        return 0;
    case OPT_PROJECTED:
        req->projected_path = value;
        return 0;
    case OPT_GRAD_X:
        req->grad_x_path = value;
        return 0;
    case OPT_GRAD_Y:
        req->grad_y_path = value;
        return 0;
    default:
        return -1;
    }
}

static int check_request(const sliced_request *req)
{
    if (cli_expect_paths("sliced", &req->common, 2, "two point files X and Y") < 0)
        return -1;
    if (req->directions_path &&
        (req->given_projections || req->given_directions || req->given_seed))
        return cli_usage_error("sliced", "--directions-file gives the directions: --projections, "
                                         "--directions and --seed do not apply");
    return 0;
}

/* Each output was opened before the computation; write and commit it. */
static int write_table(cli_output *out, const char *header, const double *v, size_t rows,
                       size_t cols)
{
    if (!out->stream)
        return 0;
    cli_write_table(out->stream, header, v, rows, cols);
    return cli_output_commit(out);
}

int cmd_sliced(int argc, char **argv)
{
    sliced_request req;
    memset(&req, 0, sizeof req);
    otk_sliced_params_default(&req.params);
    const int parsed =
        cli_parse_command("sliced", sliced_usage, sliced_options, apply_argument, &req,
                          CLI_GROUP_WEIGHTS | CLI_GROUP_INPUT, &req.common, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    if (check_request(&req) < 0)
        return CLI_EXIT_BAD_INPUT;

    enum { OUT_DIRS, OUT_PROJECTED, OUT_GX, OUT_GY, N_OUT };
    const char *paths[N_OUT] = {req.write_directions_path, req.projected_path, req.grad_x_path,
                                req.grad_y_path};
    cli_output out[N_OUT];
    memset(out, 0, sizeof out);
    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix x = {0, 0, NULL}, y = {0, 0, NULL}, a = {0, 0, NULL}, b = {0, 0, NULL},
               dirs = {0, 0, NULL};
    otk_sliced *solver = NULL;
    double *gx = NULL, *gy = NULL;
    const cli_common *c = &req.common;
    if (cli_read_point_clouds(c->paths[0], c->paths[1], &c->read, &x, &y) < 0 ||
        cli_read_weights(c->a_path, &c->read, "--a", x.rows, "X", "points", &a) < 0 ||
        cli_read_weights(c->b_path, &c->read, "--b", y.rows, "Y", "points", &b) < 0)
        goto done;
    const size_t n = x.rows, m = y.rows, d = x.cols;
    if (req.directions_path) {
        if (cli_read_matrix(req.directions_path, &c->read, &dirs) < 0)
            goto done;
        if (dirs.cols != d) {
            cli_error("%s: the directions have %zu columns, the points have dimension %zu",
                      cli_display_name(req.directions_path), dirs.cols, d);
            goto done;
        }
        req.params.n_projections = dirs.rows;
    }
    for (int k = 0; k < N_OUT; k++)
        if (paths[k] && cli_output_open(&out[k], paths[k]) < 0)
            goto done;
    if ((req.grad_x_path && !(gx = malloc(n * d * sizeof *gx))) ||
        (req.grad_y_path && !(gy = malloc(m * d * sizeof *gy)))) {
        cli_error("out of memory for the gradients (%zu x %zu and %zu x %zu)", n, d, m, d);
        goto done;
    }
    const double start = cli_monotonic_seconds();
    otk_sliced_result res;
    otk_status st = otk_sliced_alloc(&solver, n, m, d, &req.params, dirs.values);
    if (st >= 0)
        st = otk_sliced_eval(solver, x.values, a.values, y.values, b.values, &res, gx, gy, NULL,
                             NULL);
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    const size_t L = req.params.n_projections;
    if (write_table(&out[OUT_DIRS], "the unit directions, one per row",
                    otk_sliced_directions(solver), L, d) < 0 ||
        write_table(&out[OUT_PROJECTED], "W_p^p of each projection", otk_sliced_projected(solver),
                    L, 1) < 0 ||
        write_table(&out[OUT_GX], "d SW_p^p / d X", gx, n, d) < 0 ||
        write_table(&out[OUT_GY], "d SW_p^p / d Y", gy, m, d) < 0)
        goto done;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", "ok");
    json_number(&w, "value", res.value);
    json_number(&w, "value_p", res.value_p);
    json_number(&w, "max_value", res.max_value);
    json_number(&w, "p", req.params.p);
    json_integer(&w, "projections", (long long)L);
    json_string(&w, "directions",
                req.directions_path ? "file" : otk_directions_name(req.params.directions));
    if (req.directions_path)
        json_null(&w, "seed");
    else
        json_integer(&w, "seed", (long long)req.params.seed);
    json_integer(&w, "n", (long long)n);
    json_integer(&w, "m", (long long)m);
    json_integer(&w, "d", (long long)d);
    json_number(&w, "seconds", seconds);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
    exit_status = CLI_EXIT_SOLVED;
done:
    for (int k = 0; k < N_OUT; k++)
        cli_output_discard(&out[k]);
    otk_sliced_free(solver);
    free(gx);
    free(gy);
    cli_matrix_free(&x);
    cli_matrix_free(&y);
    cli_matrix_free(&a);
    cli_matrix_free(&b);
    cli_matrix_free(&dirs);
    return exit_status;
}
