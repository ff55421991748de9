/*
 * `otk grid`: optimal transport, Sinkhorn divergences and barycenters of
 * images and arrays on a regular grid (otkit/grid.h, otkit/barycenter.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "image.h"
#include "json.h"
#include "options.h"
#include "write.h"

static const char grid_usage[] =
    "Usage: otk grid A B [OPTIONS]\n"
    "       otk grid A B C ... --barycenter [--weights W1,W2,...] [--out OUT]\n"
    "\n"
    "Entropic optimal transport between two histograms on a regular grid (the\n"
    "default), their Sinkhorn divergence (--divergence), or the barycenter of\n"
    "all the inputs (--barycenter).  Inputs are greyscale PGM images (P2, P5),\n"
    "PNG images (read as 8-bit grey; in builds with libpng: see otk --version)\n"
    "or CSV/.npy arrays (one row or column: a 1-D grid; r x c: a 2-D grid of r\n"
    "rows); all must have the same shape.  Each is divided by its sum (pixel\n"
    "values >= 0, not all zero: pixel values are intensities, not masses).\n"
    "Cell (i, j) sits at (i h_r, j h_c), with h = 1/(N-1) on each axis of N\n"
    "cells (the image spans [0, 1] x [0, 1], as in POT's\n"
    "convolutional_barycenter2d) unless --spacing is given.\n"
    "\n"
    "Problem:\n"
    "  --cost NAME      ground cost: sqeuclidean (default), half-sqeuclidean, l1\n"
    "  --spacing H      cell size, the same on every axis (default above)\n"
    "  --blur B         eps = B^p, p = 2 (sqeuclidean costs) or 1 (l1); the\n"
    "                   default for transport and divergence is 0.05, as\n"
    "                   otk sinkhorn\n"
    "  --eps E          eps = E (excludes --blur); the default for --barycenter\n"
    "                   is 0.01, the library's (otk_barycenter_params)\n"
    "  --divergence     the debiased Sinkhorn divergence S_eps(A, B)\n"
    "  --barycenter     the barycenter of all inputs (two or more)\n"
    "  --weights LIST   barycentric weights, one per input, comma-separated,\n"
    "                   >= 0 (normalised to sum 1; default equal)\n"
    "  --debias         debiased barycenter (Janati et al. 2020)\n"
    "  --out OUT        write the barycenter: OUT ending in .pgm is a 16-bit PGM,\n"
    "                   .png an 8-bit PNG (libpng builds), both scaled to the\n"
    "                   maximum; anything else CSV (the values)\n"
    "\n"
    "Solver:\n"
    "  --path P         soft-min path: auto (default; FFT only where its accuracy\n"
    "                   bound allows, see otk.1), separable, fft\n"
    "  --tol T          tolerance (default 1e-6 for transport, 1e-9 barycenter)\n"
    "  --max-iter N     maximum iterations (default 10000 transport, 1000\n"
    "                   barycenter)\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "Prints one JSON object: status, mode (\"ot\", \"divergence\", \"barycenter\"),\n"
    "value (OT_kl, the divergence, or null), ot_kl/ot_ent/ot_lin (ot mode), eps,\n"
    "cost, path (the path chosen at eps), shape, spacing (rows; spacing_cols:\n"
    "columns, null for 1-D), iterations, error,\n"
    "mass (barycenter), fft_plans, softmin_calls, softmin_fft,\n"
    "softmin_separable, seconds_read, seconds, threads, otkit_version.\n"
    "\n"
    "Exit status: 0 solved, 2 bad option, bad input or I/O error, 3 stopped at\n"
    "--max-iter without reaching --tol (the JSON is still printed).\n";

enum { OPT_SPACING, OPT_DIVERGENCE, OPT_BARYCENTER, OPT_WEIGHTS, OPT_DEBIAS, OPT_OUT, OPT_PATH };

/* Besides the groups: --cost --eps --blur --tol --max-iter --threads and the
 * input options. */
static const cli_option grid_options[] = {
    {"--spacing", "H", OPT_SPACING},        {"--divergence", NULL, OPT_DIVERGENCE},
    {"--barycenter", NULL, OPT_BARYCENTER}, {"--weights", "LIST", OPT_WEIGHTS},
    {"--debias", NULL, OPT_DEBIAS},         {"--out", "OUT", OPT_OUT},
    {"--path", "P", OPT_PATH},              {NULL, NULL, 0},
};

static const unsigned grid_groups = CLI_GROUP_GROUND | CLI_GROUP_EPS | CLI_GROUP_BLUR |
                                    CLI_GROUP_STOP | CLI_GROUP_THREADS | CLI_GROUP_INPUT;

#define MAX_INPUTS CLI_MAX_PATHS

typedef struct {
    cli_common common; /* the inputs and the shared options */
    const char *const *inputs;
    size_t n_inputs;
    otk_ground ground;
    double spacing, eps, tol; /* eps resolved from --eps or --blur; tol 0: default */
    int max_iter, threads, divergence, barycenter, debias;
    const char *weights_text, *out_path;
    otk_grid_path path;
} grid_request;

static int apply_argument(void *request, int id, const char *value)
{
    grid_request *req = request;
    int v;
    switch (id) {
    case OPT_SPACING:
        return cli_parse_positive("grid", "--spacing", value, &req->spacing);
    case OPT_DIVERGENCE:
        req->divergence = 1;
        return 0;
    case OPT_BARYCENTER:
        req->barycenter = 1;
        return 0;
    case OPT_WEIGHTS:
        req->weights_text = value;
        return 0;
    case OPT_DEBIAS:
        req->debias = 1;
        return 0;
    case OPT_OUT:
        req->out_path = value;
        return 0;
    case OPT_PATH:
        if (cli_parse_name("grid", "--path", "grid_path", value, &v) < 0)
            return -1;
        req->path = (otk_grid_path)v;
        return 0;
    default:
        return -1;
    }
}

static int check_request(grid_request *req)
{
    const cli_common *c = &req->common;
    if (c->npaths > MAX_INPUTS)
        return cli_usage_error("grid", "more than %d inputs", MAX_INPUTS);
    req->inputs = c->paths;
    req->n_inputs = (size_t)c->npaths;
    req->ground = c->ground;
    if (req->ground != OTK_GROUND_SQEUCLIDEAN && req->ground != OTK_GROUND_HALF_SQEUCLIDEAN &&
        req->ground != OTK_GROUND_L1)
        return cli_usage_error("grid", "--cost %s: grids take sqeuclidean, "
                                       "half-sqeuclidean or l1", otk_ground_name(req->ground));
    if (!isnan(c->power))
        return cli_usage_error("grid", "--power applies only to --cost lp or lp-over-p");
    req->tol = isnan(c->tol) ? 0.0 : c->tol;
    req->max_iter = c->max_iter;
    req->threads = c->threads;
    if (req->divergence && req->barycenter)
        return cli_usage_error("grid", "give --divergence or --barycenter, not both");
    if (req->barycenter ? req->n_inputs < 2 : req->n_inputs != 2)
        return cli_usage_error("grid", req->barycenter ? "--barycenter needs at least two inputs"
                                                       : "expected two inputs A and B");
    if (!req->barycenter && (req->weights_text || req->out_path || req->debias))
        return cli_usage_error("grid", "--weights, --out and --debias need --barycenter");
    /* The library's defaults: blur 0.05 for transport (otk_sinkhorn_params),
     * eps 0.01 for barycenters (otk_barycenter_params). */
    if (!isnan(c->blur))
        req->eps = pow(c->blur, otk_ground_exponent(req->ground, 0.0));
    else if (!isnan(c->eps))
        req->eps = c->eps;
    else if (req->barycenter) {
        otk_barycenter_params bp;
        otk_barycenter_params_default(&bp);
        req->eps = bp.eps;
    } else {
        otk_sinkhorn_params sp;
        otk_sinkhorn_params_default(&sp);
        req->eps = pow(sp.blur, otk_ground_exponent(req->ground, 0.0));
    }
    return 0;
}

/* "0.5,0.25,0.25" into K weights. */
static int parse_weights(const char *text, size_t K, double *w)
{
    const char *p = text;
    for (size_t k = 0; k < K; k++) {
        char *end;
        errno = 0;
        w[k] = strtod(p, &end);
        if (end == p || errno || !isfinite(w[k]))
            return cli_usage_error("grid", "--weights %s: entry %zu is not a number", text,
                                   k + 1);
        if (w[k] < 0.0)
            return cli_usage_error("grid", "--weights %s: entry %zu = %g is negative", text,
                                   k + 1, w[k]);
        p = end;
        if (k + 1 < K) {
            if (*p != ',')
                return cli_usage_error("grid", "--weights %s: %zu values for %zu inputs", text,
                                       k + 1, K);
            p++;
        }
    }
    if (*p != '\0')
        return cli_usage_error("grid", "--weights %s: more values than the %zu inputs", text,
                               K);
    return 0;
}

/* Pixels >= 0 with a positive sum; divide by it. */
static int normalise(const char *path, const cli_image *img)
{
    const size_t n = img->shape[0] * img->shape[1];
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (img->values[i] < 0.0) {
            if (img->dim == 2)
                cli_error("%s: pixel (row %zu, column %zu) = %g is negative", path,
                          i / img->shape[1], i % img->shape[1], img->values[i]);
            else
                cli_error("%s: value %zu = %g is negative", path, i, img->values[i]);
            return -1;
        }
        s += img->values[i];
    }
    if (!(s > 0.0) || !isfinite(s)) {
        cli_error("%s: the values sum to %g (need a positive, finite mass)", path, s);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        img->values[i] /= s;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int cmd_grid(int argc, char **argv)
{
    grid_request req;
    memset(&req, 0, sizeof req);
    req.path = OTK_GRID_PATH_AUTO;
    const int parsed = cli_parse_command("grid", grid_usage, grid_options, apply_argument, &req,
                                         grid_groups, &req.common, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    if (check_request(&req) < 0)
        return CLI_EXIT_BAD_INPUT;

    int exit_status = CLI_EXIT_BAD_INPUT;
    const size_t K = req.n_inputs;
    cli_image imgs[MAX_INPUTS];
    memset(imgs, 0, sizeof imgs);
    double weights[MAX_INPUTS];
    otk_cost *cost = NULL;
    double *A = NULL, *bar = NULL;
    cli_output out = {NULL, NULL, NULL};
    if (req.weights_text && parse_weights(req.weights_text, K, weights) < 0)
        goto done;
    const double t_read = cli_monotonic_seconds();
    for (size_t k = 0; k < K; k++) {
        if (cli_read_image(req.inputs[k], &req.common.read, &imgs[k]) < 0 || normalise(req.inputs[k], &imgs[k]) < 0)
            goto done;
        if (k > 0 && (imgs[k].dim != imgs[0].dim || imgs[k].shape[0] != imgs[0].shape[0] ||
                      imgs[k].shape[1] != imgs[0].shape[1])) {
            cli_error("%s is %zu x %zu, %s is %zu x %zu: the grids must have the same shape",
                      req.inputs[k], imgs[k].shape[0], imgs[k].shape[1], req.inputs[0],
                      imgs[0].shape[0], imgs[0].shape[1]);
            goto done;
        }
    }
    const double seconds_read = cli_monotonic_seconds() - t_read;
    const size_t dim = imgs[0].dim, n = imgs[0].shape[0] * imgs[0].shape[1];
    /* POT's grid: linspace(0, 1, N) on each axis (a non-square image has
     * two spacings). */
    double spacing[2];
    for (int k = 0; k < 2; k++)
        spacing[k] = req.spacing > 0.0      ? req.spacing
                     : imgs[0].shape[k] > 1 ? 1.0 / (double)(imgs[0].shape[k] - 1)
                                            : 1.0;
    otk_grid_params gp;
    otk_grid_params_default(&gp);
    gp.path = req.path;
    if (otk_cost_grid(&cost, dim, imgs[0].shape, spacing, req.ground, &gp) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (req.out_path && cli_output_open(&out, req.out_path) < 0)
        goto done;

    otk_status st;
    double seconds, value = NAN, ot_kl = NAN, ot_ent = NAN, ot_lin = NAN, err = NAN, mass = NAN;
    int iterations = 0;
    const char *mode;
    double t0 = cli_monotonic_seconds();
    if (req.barycenter) {
        mode = "barycenter";
        if (!(A = malloc(K * n * sizeof *A)) || !(bar = malloc(n * sizeof *bar))) {
            cli_error("out of memory for %zu x %zu values", K, n);
            goto done;
        }
        for (size_t k = 0; k < K; k++)
            memcpy(A + k * n, imgs[k].values, n * sizeof *A);
        otk_barycenter_params bp;
        otk_barycenter_params_default(&bp);
        bp.eps = req.eps;
        bp.debias = req.debias;
        bp.threads = req.threads;
        if (req.tol > 0.0)
            bp.tol = req.tol;
        if (req.max_iter > 0)
            bp.max_iter = req.max_iter;
        otk_barycenter_result br;
        st = otk_barycenter(cost, K, A, req.weights_text ? weights : NULL, &bp, bar, &br);
        seconds = cli_monotonic_seconds() - t0;
        if (st < 0) {
            cli_error("%s", otk_last_error());
            goto done;
        }
        iterations = br.iterations;
        err = br.error;
        mass = br.mass;
        if (out.stream) {
            if (ends_with(req.out_path, ".pgm") && dim == 2)
                cli_write_pgm(out.stream, imgs[0].shape[0], imgs[0].shape[1], bar);
            else if (ends_with(req.out_path, ".png") && dim == 2) {
                if (cli_write_png(out.stream, imgs[0].shape[0], imgs[0].shape[1], bar) < 0)
                    goto done;
            } else
                cli_write_table(out.stream, "otk grid barycenter", bar, imgs[0].shape[0],
                                imgs[0].shape[1]);
            if (cli_output_commit(&out) < 0)
                goto done;
        }
    } else if (req.divergence) {
        mode = "divergence";
        otk_divergence_params dp;
        otk_divergence_params_default(&dp);
        dp.eps = req.eps;
        dp.threads = req.threads;
        if (req.tol > 0.0)
            dp.tol = req.tol;
        if (req.max_iter > 0)
            dp.max_iter = req.max_iter;
        otk_divergence *div;
        otk_divergence_result dr;
        if (otk_divergence_alloc_costs(&div, cost, cost, cost, &dp) < 0) {
            cli_error("%s", otk_last_error());
            goto done;
        }
        st = otk_divergence_solve(div, imgs[0].values, imgs[1].values, &dr);
        seconds = cli_monotonic_seconds() - t0;
        otk_divergence_free(div);
        if (st < 0) {
            cli_error("%s", otk_last_error());
            goto done;
        }
        value = dr.divergence;
        iterations = dr.iterations;
        err = dr.marginal_error;
    } else {
        mode = "ot";
        otk_sinkhorn_params sp;
        otk_sinkhorn_params_default(&sp);
        sp.eps = req.eps;
        sp.threads = req.threads;
        if (req.tol > 0.0)
            sp.tol = req.tol;
        if (req.max_iter > 0)
            sp.max_iter = req.max_iter;
        otk_sinkhorn *s;
        otk_sinkhorn_result sr;
        if (otk_sinkhorn_alloc(&s, cost, &sp) < 0) {
            cli_error("%s", otk_last_error());
            goto done;
        }
        st = otk_sinkhorn_solve(s, imgs[0].values, imgs[1].values, &sr);
        seconds = cli_monotonic_seconds() - t0;
        otk_sinkhorn_free(s);
        if (st < 0) {
            cli_error("%s", otk_last_error());
            goto done;
        }
        value = ot_kl = sr.ot_kl;
        ot_ent = sr.ot_ent;
        ot_lin = sr.ot_lin;
        iterations = sr.iterations;
        err = sr.marginal_error;
    }

    otk_grid_path chosen = OTK_GRID_PATH_SEPARABLE;
    otk_grid_select_path(cost, req.eps, &chosen);
    otk_grid_stats gs;
    otk_grid_get_stats(cost, &gs);
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", st == OTK_SUCCESS ? "ok" : "not_converged");
    json_string(&w, "mode", mode);
    json_number(&w, "value", value);
    json_number(&w, "ot_kl", ot_kl);
    json_number(&w, "ot_ent", ot_ent);
    json_number(&w, "ot_lin", ot_lin);
    json_number(&w, "eps", req.eps);
    json_string(&w, "cost", otk_ground_name(req.ground));
    json_string(&w, "path", otk_grid_path_name(chosen));
    json_string(&w, "path_requested", otk_grid_path_name(req.path));
    json_number(&w, "fft_error_bound", otk_grid_fft_error_bound(cost, req.eps));
    json_integer(&w, "dim", (long long)dim);
    json_integer(&w, "rows", (long long)imgs[0].shape[0]);
    json_integer(&w, "cols", (long long)(dim == 2 ? imgs[0].shape[1] : 1));
    json_number(&w, "spacing", spacing[0]);
    json_number(&w, "spacing_cols", dim == 2 ? spacing[1] : NAN);
    json_integer(&w, "inputs", (long long)K);
    json_integer(&w, "iterations", iterations);
    json_number(&w, "error", err);
    json_number(&w, "mass", mass);
    json_boolean(&w, "debias", req.barycenter ? req.debias : req.divergence);
    json_integer(&w, "fft_plans", (long long)gs.fft_plans);
    json_integer(&w, "softmin_calls", (long long)gs.softmin_calls);
    json_integer(&w, "softmin_fft", (long long)gs.softmin_fft);
    json_integer(&w, "softmin_separable", (long long)gs.softmin_separable);
    json_string(&w, "out", req.out_path);
    json_number(&w, "seconds_read", seconds_read);
    json_number(&w, "seconds", seconds);
    json_integer(&w, "threads", req.threads);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
    if (st == OTK_NOT_CONVERGED) {
        cli_error("not converged: error %g after %d iterations (--tol, --max-iter)", err,
                  iterations);
        exit_status = CLI_EXIT_NOT_CONVERGED;
    } else {
        exit_status = CLI_EXIT_SOLVED;
    }
done:
    cli_output_discard(&out);
    for (size_t k = 0; k < K; k++)
        cli_image_free(&imgs[k]);
    otk_cost_free(cost);
    free(A);
    free(bar);
    return exit_status;
}
