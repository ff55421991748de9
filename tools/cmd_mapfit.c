/*
 * `otk fit-map` and `otk apply-map`: fit a transport map between two point
 * clouds and save it as a model file, then apply a saved map to new points
 * (otkit/mapfit.h).
 */
#define _POSIX_C_SOURCE 200809L /* isatty */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "options.h"
#include "read.h"
#include "write.h"

static const char fit_map_usage[] =
    "Usage: otk fit-map X Y --family affine|mlp|entropic --out MODEL [OPTIONS]\n"
    "\n"
    "Fit a map T that pushes the point cloud X (n points) onto Y (m points, same\n"
    "dimension d) by minimising  S_eps(T#X, Y) + lambda * MongeGap(T)  (the debiased\n"
    "Sinkhorn divergence on |x-y|^2/2 plus the Monge gap on |x-y|^2), save it to\n"
    "MODEL (a text file, see otk(1)) and print a JSON summary.  Files are CSV or\n"
    "NumPy .npy.\n"
    "\n"
    "Map:\n"
    "  --family F       affine (T(x) = Ax + b, from the identity), mlp (residual\n"
    "                   network T(x) = x + MLP(x)) or entropic (the entropic map:\n"
    "                   no training, no lambda)\n"
    "  --hidden W,...   mlp: hidden widths, 1 to 8 layers (default 64,64)\n"
    "  --activation A   mlp: gelu (default) or tanh\n"
    "  --seed S         mlp initialisation and mini-batch sampling (default 0)\n"
    "  --init MODEL     start from a saved map of the same family and dimension\n"
    "                   (e.g. a fit on a subsample) instead of the identity or a\n"
    "                   random initialisation; an mlp keeps MODEL's architecture\n"
    "                   (a derived or relative Monge-gap eps is resolved on\n"
    "                   MODEL's map: give --mg-eps to keep the first fit's\n"
    "                   objective)\n"
    "\n"
    "Loss:\n"
    "  --lambda L       Monge-gap weight, >= 0 (default: derived, 0.1/d)\n"
    "  --warmup N       raise lambda linearly over the first N steps (default 0: constant)\n"
    "  --blur B         eps = B^2 of the divergence (and of the entropic map),\n"
    "                   a length (default: derived from the clouds,\n"
    "                   s * nb^(-1/(d+4)) with s the RMS distance of the points\n"
    "                   to their centroid and nb the points per evaluation;\n"
    "                   entropic: 0.05)\n"
    "  --mg-eps E       eps of the Monge gap in cost units (default: derived,\n"
    "                   0.25 times the mean of its cost matrix on the starting\n"
    "                   map and the first batch, resolved once)\n"
    "  --mg-relative-eps F  eps = F times the std of that cost matrix instead\n"
    "                   (OTT's default is 0.05)\n"
    "\n"
    "Optimiser:\n"
    "  --optimizer O    bfgs (GSL BFGS, full batch; default for affine) or adam\n"
    "                   (mini-batches; default for mlp)\n"
    "  --iters N        BFGS iterations or Adam steps (default 200 / 1000)\n"
    "  --batch B        Adam mini-batch size, 0 = all points (default 256)\n"
    "  --lr LR          Adam learning rate (default: derived, 1e-3 times s)\n"
    "  --lr-schedule S  constant (default) or cosine (lr decays to 0 over --iters)\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    "  --cache-mb MB    keep each evaluation's cost matrices in memory, up to MB\n"
    "                   MiB for the divergence and MB for the Monge gap, instead\n"
    "                   of recomputing them in every Sinkhorn pass: same results,\n"
    "                   faster from d ~ 8 (default 0: computed on the fly)\n"
    "  --out MODEL      where to save the map (required; written atomically)\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "Progress goes to stderr when stderr is a terminal.  The JSON object has the\n"
    "keys status (\"ok\" or \"not_converged\"), family, model, n, m, d, n_params,\n"
    "lambda, loss, divergence, monge_gap, iterations, evaluations,\n"
    "inner_not_converged, optimizer, hidden, activation, blur, eps,\n"
    "monge_gap_eps, lr (Adam's), seed, init (the --init model, or null), seconds,\n"
    "otkit_version; lambda, blur, eps (the divergence's) and monge_gap_eps are\n"
    "the values used, derived ones included (null where they do not apply).\n"
    "\n"
    "Exit status: 0 fitted, 2 bad option, bad input or I/O error, 3 BFGS (or the\n"
    "entropic map's Sinkhorn) stopped at its iteration limit (the model is saved\n"
    "and the JSON printed).\n";

static const char apply_map_usage[] =
    "Usage: otk apply-map MODEL X [--threads K]\n"
    "\n"
    "Apply the map saved in MODEL (by otk fit-map) to the points of X (CSV or\n"
    "NumPy .npy, one point per row, the model's dimension) and print the mapped\n"
    "points as CSV on stdout, one row per point, with %.17g.\n"
    "\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 done, 2 bad option, bad model file, bad input or I/O error.\n";

enum {
    OPT_FAMILY,
    OPT_HIDDEN,
    OPT_ACTIVATION,
    OPT_SEED,
    OPT_LAMBDA,
    OPT_WARMUP,
    OPT_MG_EPS,
    OPT_MG_RELATIVE_EPS,
    OPT_OPTIMIZER,
    OPT_ITERS,
    OPT_BATCH,
    OPT_LR,
    OPT_LR_SCHEDULE,
    OPT_OUT,
    OPT_INIT
};

static const cli_option fit_map_options[] = {
    {"--family", "F", OPT_FAMILY},
    {"--hidden", "W,...", OPT_HIDDEN},
    {"--activation", "A", OPT_ACTIVATION},
    {"--seed", "S", OPT_SEED},
    {"--lambda", "L", OPT_LAMBDA},
    {"--warmup", "N", OPT_WARMUP},
    {"--mg-eps", "E", OPT_MG_EPS},
    {"--mg-relative-eps", "F", OPT_MG_RELATIVE_EPS},
    {"--optimizer", "O", OPT_OPTIMIZER},
    {"--iters", "N", OPT_ITERS},
    {"--batch", "B", OPT_BATCH},
    {"--lr", "LR", OPT_LR},
    {"--lr-schedule", "S", OPT_LR_SCHEDULE},
    {"--out", "MODEL", OPT_OUT},
    {"--init", "MODEL", OPT_INIT},
    {NULL, NULL, 0},
};

static const unsigned fit_map_groups = CLI_GROUP_BLUR | CLI_GROUP_THREADS | CLI_GROUP_CACHE |
                                      CLI_GROUP_INPUT;

typedef struct {
    cli_common common; /* X, Y, --blur, --threads, --cache-mb, the input options */
    const char *out_path, *init_path;
    int given_family, given_mlp_option, given_training_option;
    otk_map_family family;
    size_t hidden[OTK_MAP_MAX_HIDDEN];
    size_t n_hidden;
    otk_activation activation;
    unsigned long seed;
    otk_map_fit_params params;
} fit_map_request;

/* "64,64": 1 to OTK_MAP_MAX_HIDDEN positive widths. */
static int parse_hidden(const char *text, fit_map_request *req)
{
    const char *s = text;
    req->n_hidden = 0;
    for (;;) {
        char *end;
        errno = 0;
        if (!(*s >= '0' && *s <= '9'))
            break;
        unsigned long w = strtoul(s, &end, 10);
        if (errno || w == 0 || w > (1ul << 20) || req->n_hidden == OTK_MAP_MAX_HIDDEN)
            break;
        req->hidden[req->n_hidden++] = (size_t)w;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            break;
        s = end + 1;
    }
    return cli_usage_error("fit-map",
                           "--hidden: expected 1 to %d positive widths separated by commas "
                           "(e.g. 64,64), found '%s'",
                           OTK_MAP_MAX_HIDDEN, text);
}

static int apply_fit_argument(void *request, int id, const char *value)
{
    fit_map_request *req = request;
    otk_map_fit_params *par = &req->params;
    int iv;
    switch (id) {
    case OPT_FAMILY:
        if (cli_parse_name("fit-map", "--family", "map_family", value, &iv) < 0)
            return -1;
        req->family = (otk_map_family)iv;
        req->given_family = 1;
        return 0;
    case OPT_HIDDEN:
        req->given_mlp_option = 1;
        return parse_hidden(value, req);
    case OPT_ACTIVATION:
        req->given_mlp_option = 1;
        if (cli_parse_name("fit-map", "--activation", "activation", value, &iv) < 0)
            return -1;
        req->activation = (otk_activation)iv;
        return 0;
    case OPT_SEED:
        if (cli_parse_int("fit-map", "--seed", value, 0, &iv) < 0)
            return -1;
        req->seed = (unsigned long)iv;
        par->seed = (unsigned long)iv;
        return 0;
    case OPT_LAMBDA:
        req->given_training_option = 1;
        if (cli_parse_real("fit-map", "--lambda", value, &par->lambda) < 0)
            return -1;
        if (!(par->lambda >= 0.0 && isfinite(par->lambda)))
            return cli_usage_error("fit-map", "--lambda: expected a finite number >= 0, found "
                                              "'%s'",
                                   value);
        return 0;
    case OPT_WARMUP:
        req->given_training_option = 1;
        if (cli_parse_int("fit-map", "--warmup", value, 0, &par->warmup_steps) < 0)
            return -1;
        par->lambda_schedule = par->warmup_steps > 0 ? OTK_LAMBDA_SCHEDULE_WARMUP : OTK_LAMBDA_SCHEDULE_CONSTANT;
        return 0;
    case OPT_MG_EPS:
        req->given_training_option = 1;
        return cli_parse_positive("fit-map", "--mg-eps", value, &par->monge_gap.eps);
    case OPT_MG_RELATIVE_EPS:
        req->given_training_option = 1;
        return cli_parse_positive("fit-map", "--mg-relative-eps", value,
                                  &par->monge_gap.relative_eps);
    case OPT_OPTIMIZER:
        req->given_training_option = 1;
        if (cli_parse_name("fit-map", "--optimizer", "optimizer", value, &iv) < 0)
            return -1;
        par->optimizer = (otk_optimizer)iv;
        return 0;
    case OPT_ITERS:
        req->given_training_option = 1;
        return cli_parse_int("fit-map", "--iters", value, 1, &par->iters);
    case OPT_BATCH:
        req->given_training_option = 1;
        if (cli_parse_int("fit-map", "--batch", value, 0, &iv) < 0)
            return -1;
        par->batch = (size_t)iv;
        return 0;
    case OPT_LR:
        req->given_training_option = 1;
        return cli_parse_positive("fit-map", "--lr", value, &par->lr);
    case OPT_LR_SCHEDULE:
        req->given_training_option = 1;
        if (cli_parse_name("fit-map", "--lr-schedule", "lr_schedule", value, &iv) < 0)
            return -1;
        par->lr_schedule = (otk_lr_schedule)iv;
        return 0;
    case OPT_OUT:
        req->out_path = value;
        return 0;
    case OPT_INIT:
        req->init_path = value;
        req->given_training_option = 1;
        return 0;
    default:
        return -1;
    }
}

static int parse_fit_map_options(int argc, char **argv, fit_map_request *req)
{
    memset(req, 0, sizeof *req);
    otk_map_fit_params_default(&req->params);
    req->hidden[0] = req->hidden[1] = 64;
    req->n_hidden = 2;
    req->activation = OTK_ACTIVATION_GELU;
    const int parsed = cli_parse_command("fit-map", fit_map_usage, fit_map_options,
                                         apply_fit_argument, req, fit_map_groups, &req->common,
                                         argc, argv);
    if (parsed != 0)
        return parsed;
    const cli_common *c = &req->common;
    if (c->npaths != 2)
        return cli_usage_error("fit-map", "expected two point files X and Y");
    otk_map_fit_params *par = &req->params;
    if (!isnan(c->blur))
        par->divergence.blur = c->blur;
    par->threads = c->threads;
    if (c->given_cache)
        par->divergence.cache_bytes = par->monge_gap.cache_bytes = c->cache_bytes;
    if (!req->given_family)
        return cli_usage_error("fit-map", "--family is required (affine, mlp or entropic)");
    if (!req->out_path)
        return cli_usage_error("fit-map", "--out MODEL is required");
    if (req->family != OTK_MAP_FAMILY_MLP && req->given_mlp_option)
        return cli_usage_error("fit-map", "--hidden and --activation apply to --family mlp only");
    if (req->init_path && req->given_mlp_option)
        return cli_usage_error("fit-map", "--hidden and --activation do not go with --init: the "
                                          "model fixes the architecture");
    if (req->family == OTK_MAP_FAMILY_ENTROPIC && req->given_training_option)
        return cli_usage_error("fit-map", "the entropic map is not trained: it takes --blur and "
                                          "--threads only");
    return 0;
}

/* Progress on a terminal: one line rewritten in place, at most ~10 times a
 * second. */
typedef struct {
    int iters;
    double last;
} progress_state;

static int show_progress(const otk_map_progress *info, void *ctx)
{
    progress_state *p = ctx;
    const double now = cli_monotonic_seconds();
    if (now - p->last < 0.1 && info->iteration + 1 < p->iters)
        return 0;
    p->last = now;
    fprintf(stderr, "\rotk fit-map: step %d/%d  loss %.6g  S %.4g  M %.4g  lambda %.3g   ",
            info->iteration + 1, p->iters, info->loss, info->divergence, info->monge_gap,
            info->lambda);
    fflush(stderr);
    return 0;
}

/* par: the parameters the fit ran with (derived settings resolved); for the
 * entropic map, blur and eps are its Sinkhorn's. */
static void print_fit_report(const fit_map_request *req, const otk_map_fit_params *par,
                             const otk_map *map, const otk_map_fit_result *res, otk_status st,
                             size_t n, size_t m, size_t d, double blur, double eps,
                             double seconds)
{
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", st == OTK_SUCCESS ? "ok" : "not_converged");
    json_string(&w, "family", otk_map_family_name(req->family));
    json_string(&w, "model", req->out_path);
    json_integer(&w, "n", (long long)n);
    json_integer(&w, "m", (long long)m);
    json_integer(&w, "d", (long long)d);
    json_integer(&w, "n_params", (long long)otk_map_get_n_params(map));
    if (req->family == OTK_MAP_FAMILY_ENTROPIC) {
        json_null(&w, "lambda");
        json_null(&w, "loss");
        json_null(&w, "divergence");
        json_null(&w, "monge_gap");
        json_null(&w, "iterations");
        json_null(&w, "evaluations");
        json_null(&w, "inner_not_converged");
        json_null(&w, "optimizer");
    } else {
        json_number(&w, "lambda", res->lambda);
        json_number(&w, "loss", res->loss);
        json_number(&w, "divergence", res->divergence);
        json_number(&w, "monge_gap", res->monge_gap);
        json_integer(&w, "iterations", res->iterations);
        json_integer(&w, "evaluations", res->evaluations);
        json_integer(&w, "inner_not_converged", res->inner_not_converged);
        json_string(&w, "optimizer", otk_optimizer_name(par->optimizer));
    }
    if (req->family == OTK_MAP_FAMILY_MLP) {
        char text[16 * OTK_MAP_MAX_HIDDEN] = "";
        size_t len = 0;
        for (size_t k = 0; k < req->n_hidden; k++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%zu", k ? "," : "",
                                    req->hidden[k]);
        json_string(&w, "hidden", text);
        json_string(&w, "activation", otk_activation_name(req->activation));
    } else {
        json_null(&w, "hidden");
        json_null(&w, "activation");
    }
    json_number(&w, "blur", blur);
    json_number(&w, "eps", eps);
    json_number(&w, "monge_gap_eps",
                req->family == OTK_MAP_FAMILY_ENTROPIC ? NAN : res->monge_gap_eps);
    json_number(&w, "lr", req->family != OTK_MAP_FAMILY_ENTROPIC &&
                                  par->optimizer == OTK_OPTIMIZER_ADAM ? par->lr : NAN);
    json_integer(&w, "seed", (long long)req->seed);
    if (req->init_path)
        json_string(&w, "init", req->init_path);
    else
        json_null(&w, "init");
    json_number(&w, "seconds", seconds);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
}

int cmd_fit_map(int argc, char **argv)
{
    fit_map_request req;
    const int parsed = parse_fit_map_options(argc, argv, &req);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix x = {0, 0, NULL}, y = {0, 0, NULL};
    otk_map *map = NULL;
    otk_map_fit_result res;
    memset(&res, 0, sizeof res);
    if (cli_read_point_clouds(req.common.paths[0], req.common.paths[1], &req.common.read, &x, &y) < 0)
        goto done;
    const size_t n = x.rows, m = y.rows, d = x.cols;
    progress_state progress = {0, -1.0};
    const int on_terminal = isatty(STDERR_FILENO);
    const double start = cli_monotonic_seconds();
    otk_status st;
    otk_map_fit_params used = req.params; /* with the derived settings resolved */
    double blur = NAN, eps = NAN;
    if (req.family == OTK_MAP_FAMILY_ENTROPIC) {
        otk_sinkhorn_params sp;
        otk_sinkhorn_params_default(&sp);
        if (!isnan(req.common.blur))
            sp.blur = req.common.blur;
        sp.threads = req.params.threads;
        st = otk_map_fit_entropic(&map, n, m, d, x.values, y.values,
                                  OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, &sp);
        blur = sp.blur;
        eps = sp.blur * sp.blur; /* the half-squared cost: eps = blur^2 */
    } else {
        if (req.init_path) {
            cli_note_input(req.init_path);
            if (otk_map_load(&map, req.init_path) < 0) {
                cli_error("--init: %s", otk_last_error());
                goto done;
            }
            if (otk_map_get_family(map) != req.family || otk_map_get_dim(map) != d) {
                cli_error("--init: %s is a %s map of dimension %zu, not %s of dimension %zu "
                          "(the points' columns)",
                          req.init_path, otk_map_family_name(otk_map_get_family(map)),
                          otk_map_get_dim(map), otk_map_family_name(req.family), d);
                goto done;
            }
            if (req.family == OTK_MAP_FAMILY_MLP) { /* report the model's architecture */
                req.n_hidden = otk_map_get_hidden(map, req.hidden, OTK_MAP_MAX_HIDDEN);
                req.activation = otk_map_get_activation(map);
            }
            st = OTK_SUCCESS;
        } else {
            st = req.family == OTK_MAP_FAMILY_AFFINE ? otk_map_alloc_affine(&map, d)
                                              : otk_map_alloc_mlp(&map, d, req.n_hidden, req.hidden,
                                                                  req.activation, req.seed);
        }
        if (st >= 0)
            st = otk_map_fit_resolve(map, n, m, d, x.values, y.values, &req.params, &used);
        if (st >= 0) {
            if (on_terminal) {
                progress.iters = used.iters;
                used.progress = show_progress;
                used.progress_ctx = &progress;
            }
            st = otk_map_fit(map, n, m, d, x.values, y.values, &used, &res);
            if (on_terminal && progress.last >= 0.0)
                fputc('\n', stderr);
            blur = res.blur;
            eps = res.eps;
        }
    }
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (cli_check_not_input(req.out_path) < 0)
        goto done;
    if (otk_map_save(map, req.out_path) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    print_fit_report(&req, &used, map, &res, st, n, m, d, blur, eps, seconds); /* main() checks stdout */
    if (st == OTK_NOT_CONVERGED) {
        cli_error("not converged: the %s stopped at its iteration limit (exit status 3); "
                  "the model is saved",
                  req.family == OTK_MAP_FAMILY_ENTROPIC ? "entropic map's Sinkhorn solve"
                                                 : "BFGS fit");
        exit_status = CLI_EXIT_NOT_CONVERGED;
    } else {
        exit_status = CLI_EXIT_SOLVED;
    }
done:
    otk_map_free(map);
    cli_matrix_free(&x);
    cli_matrix_free(&y);
    return exit_status;
}

/* ------------------------------------------------------------------ apply-map */

int cmd_apply_map(int argc, char **argv)
{
    cli_common c;
    const int parsed = cli_parse_command("apply-map", apply_map_usage, NULL, NULL, NULL,
                                         CLI_GROUP_THREADS | CLI_GROUP_INPUT, &c, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    if (c.npaths != 2) {
        cli_usage_error("apply-map", "expected a model file and a point file X");
        return CLI_EXIT_BAD_INPUT;
    }
    int exit_status = CLI_EXIT_BAD_INPUT;
    otk_map *map = NULL;
    cli_matrix x = {0, 0, NULL};
    double *tx = NULL;
    cli_note_input(c.paths[0]);
    if (otk_map_load(&map, c.paths[0]) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (cli_read_matrix(c.paths[1], &c.read, &x) < 0)
        goto done;
    if (x.cols != otk_map_get_dim(map)) {
        cli_error("%s has %zu columns but the map in %s has dimension %zu", c.paths[1], x.cols,
                  c.paths[0], otk_map_get_dim(map));
        goto done;
    }
    if (!(tx = malloc(x.rows * x.cols * sizeof *tx))) {
        cli_error("out of memory for %zu mapped points", x.rows);
        goto done;
    }
    if (otk_map_apply(map, x.rows, x.values, tx, c.threads) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    cli_write_table(stdout, NULL, tx, x.rows, x.cols); /* main() checks stdout */
    exit_status = CLI_EXIT_SOLVED;
done:
    free(tx);
    otk_map_free(map);
    cli_matrix_free(&x);
    return exit_status;
}
