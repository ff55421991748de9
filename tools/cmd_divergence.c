/*
 * `otk divergence`: the debiased Sinkhorn divergence S_ε between two weighted
 * point clouds (otkit/divergence.h), with its gradients on request.
 */
#define _POSIX_C_SOURCE 200809L /* isatty */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "options.h"
#include "read.h"
#include "report.h"
#include "write.h"

static const char divergence_usage[] =
    "Usage: otk divergence X Y [OPTIONS]\n"
    "\n"
    "The debiased Sinkhorn divergence between the point clouds X (n points) and\n"
    "Y (m points) of the same dimension d,\n"
    "  S = OT(a,b) - OT(a,a)/2 - OT(b,b)/2 + eps/2 (sum a - sum b)^2,\n"
    "with OT the entropic value in the KL convention (GeomLoss's\n"
    "SamplesLoss(\"sinkhorn\")), printed as one JSON object.  Files are CSV or\n"
    "NumPy .npy, as for otk sinkhorn.\n"
    "\n"
    "A batch of B independent problems: X and Y 3-D .npy arrays (B, n, d) and\n"
    "(B, m, d) (GeomLoss's layout), --a and --b tables of B rows of n and m\n"
    "weights (unequal sizes: pad with zero weights, which is exact).  Each\n"
    "problem is its own solve (otkit/batch.h, threaded across the problems);\n"
    "the JSON then has batch (B) and arrays of B values for divergence, eps,\n"
    "scale_cost, rho, marginal_error, iterations, annealing_iterations, mass_a,\n"
    "mass_b and truncation_bound, not_converged the indices (from 0) of the\n"
    "problems stopped at --max-iter, status \"ok\" when there are none; no\n"
    "cache_bytes.  The gradient files have problem k's rows after the first\n"
    "k*n (k*m for Y, b): B*n rows of d values for --grad-x, B*n values for --grad-a.\n"
    "\n"
    "Problem:\n"
    "  --a A            source weights, n values (default uniform, 1/n each)\n"
    "  --b B            target weights, m values (default uniform, 1/m each)\n"
    "  --p P            GeomLoss's exponent: cost |x-y|^P / P (P = 2: half-sqeuclidean,\n"
    "                   P = 1: euclidean), eps = blur^P (default 2); with --cost,\n"
    "                   only the exponent used by --blur, --reach and the schedule\n"
    "  --cost NAME      a named ground cost instead (see otk sinkhorn --help):\n"
    "                   sqeuclidean, half-sqeuclidean, euclidean, l1, lp, lp-over-p\n"
    "  --power P        the exponent of lp and lp-over-p (required for them)\n"
    "\n"
    "Regularisation (eps and rho in cost units; blur and reach are lengths):\n"
    "  --blur B         eps = B^p (default 0.05)\n"
    "  --eps E          eps = E (excludes --blur)\n"
    "  --reach R        unbalanced: rho = R^p (default: balanced; a balanced\n"
    "                   problem needs sum(a) = sum(b))\n"
    "  --no-debias      print OT(a,b) alone (GeomLoss's debias=False)\n"
    "\n"
    "Solver:\n"
    "  --schedule S     converge (default): anneal, then iterate to --tol;\n"
    "                   fixed: exactly GeomLoss's iterations\n"
    "  --scaling S      blur multiplied by S per annealing step, 0 < S < 1 (default 0.5)\n"
    "  --diameter D     start the schedule at D^p (default: bounding-box diagonal)\n"
    "  --tol T          marginal tolerance of the converge schedule (default 1e-6)\n"
    "  --max-iter N     iterations at the target eps (default 10000)\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    "  --cache-mb MB    keep the cost matrices (C_xy, then C_xx, C_yy) in memory\n"
    "                   while they fit in MB MiB instead of recomputing them in\n"
    "                   every pass: same result, faster from d ~ 8 (default 0)\n"
    "\n"
    "Gradients (CSV, written atomically; a batch: B*n or B*m rows):\n"
    "  --grad-x F       dS/dx, n rows of d values\n"
    "  --grad-y F       dS/dy, m rows of d values\n"
    "  --grad-a F       dS/da, n values (balanced: projected to zero sum)\n"
    "  --grad-b F       dS/db, m values\n"
    CLI_SCALE_OPTIONS_HELP
    CLI_BACKEND_OPTIONS_HELP
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "The JSON object has the keys status (\"ok\" or \"not_converged\"), divergence,\n"
    "debias, eps, rho (null when balanced), marginal_error (null for the fixed\n"
    "schedule), iterations, annealing_iterations, cost, power, p, n, m, d,\n"
    "schedule, scaling, mass_a, mass_b, seconds, threads, cache_bytes (of the\n"
    "kept cost matrices, 0 when computed on the fly), backend (the one run),\n"
    "truncation_bound (multiscale: the bound on the dropped plan mass relative to\n"
    "the mass, 0 otherwise), otkit_version.\n"
    "Progress goes to stderr when stderr is a terminal.\n"
    "\n"
    "Exit status: 0 solved, 2 bad option, bad input or I/O error, 3 stopped at\n"
    "--max-iter without reaching --tol (the JSON, of the best iterate: the one\n"
    "with the smallest marginal error at the target eps, is still printed).\n";

enum { OPT_P, OPT_REACH, OPT_NO_DEBIAS, OPT_DIAMETER, OPT_GRAD_X, OPT_GRAD_Y, OPT_GRAD_A, OPT_GRAD_B };
#define N_GRADS 4

/* Besides the groups: --a --b --cost --power --eps --blur --tol --max-iter
 * --schedule --scaling --threads --cache-mb and the input options. */
static const cli_option divergence_options[] = {
    {"--p", "P", OPT_P},
    {"--reach", "R", OPT_REACH},
    {"--no-debias", NULL, OPT_NO_DEBIAS},
    {"--diameter", "D", OPT_DIAMETER},
    {"--grad-x", "F", OPT_GRAD_X},
    {"--grad-y", "F", OPT_GRAD_Y},
    {"--grad-a", "F", OPT_GRAD_A},
    {"--grad-b", "F", OPT_GRAD_B},
    {NULL, NULL, 0},
};

static const unsigned divergence_groups = CLI_GROUP_WEIGHTS | CLI_GROUP_GROUND | CLI_GROUP_EPS |
                                          CLI_GROUP_BLUR | CLI_GROUP_STOP | CLI_GROUP_SCHEDULE |
                                          CLI_GROUP_THREADS | CLI_GROUP_CACHE | CLI_GROUP_INPUT |
                                          CLI_GROUP_SCALE | CLI_GROUP_BACKEND;

typedef struct {
    cli_common common; /* X, Y and the shared options */
    const char *grad_path[N_GRADS]; /* x, y, a, b */
    otk_ground ground; /* resolved from --cost or --p */
    double power;      /* NAN unless lp / lp-over-p */
    double p;          /* NAN unless --p */
    otk_divergence_params params;
} divergence_request;

/* Apply one of the command's own options (a cli_apply_fn); returns 0 or -1 (reported). */
static int apply_argument(void *request, int id, const char *value)
{
    divergence_request *req = request;
    otk_divergence_params *par = &req->params;
    switch (id) {
    case OPT_P:
        return cli_parse_positive("divergence", "--p", value, &req->p);
    case OPT_REACH:
        return cli_parse_positive("divergence", "--reach", value, &par->reach);
    case OPT_NO_DEBIAS:
        par->debias = 0;
        return 0;
    case OPT_DIAMETER:
        return cli_parse_positive("divergence", "--diameter", value, &par->diameter);
    case OPT_GRAD_X:
    case OPT_GRAD_Y:
    case OPT_GRAD_A:
    case OPT_GRAD_B:
        req->grad_path[id - OPT_GRAD_X] = value;
        return 0;
    default:
        return -1;
    }
}

/* Resolve the cost: --cost NAME [--power P], or GeomLoss's |x−y|^p / p. */
static int check_request(divergence_request *req)
{
    const cli_common *c = &req->common;
    otk_divergence_params *par = &req->params;
    if (cli_expect_paths("divergence", c, 2, "two point files X and Y") < 0)
        return -1;
    if (!isnan(c->eps))
        par->eps = c->eps;
    if (!isnan(c->blur))
        par->blur = c->blur;
    if (!isnan(c->tol))
        par->tol = c->tol;
    if (c->max_iter)
        par->max_iter = c->max_iter;
    if (!isnan(c->scaling))
        par->scaling = c->scaling;
    par->schedule = c->schedule;
    par->threads = c->threads;
    CLI_APPLY_SCALE(c, par);
    par->backend = c->backend;
    if (!isnan(c->truncate))
        par->truncate = c->truncate;
    par->cache_bytes = c->cache_bytes;
    req->ground = c->ground;
    req->power = c->power;
    if (c->given_cost) {
        if (cli_check_ground_power("divergence", req->ground, req->power) < 0)
            return -1;
        if (!isnan(req->p))
            req->params.p = req->p;
        return 0;
    }
    if (!isnan(req->power))
        return cli_usage_error("divergence", "--power needs --cost lp or lp-over-p (for "
                                             "GeomLoss's |x-y|^p/p use --p)");
    const double p = isnan(req->p) ? 2.0 : req->p;
    if (otk_divergence_geomloss_ground(p, &req->ground, &req->power) != OTK_SUCCESS)
        return cli_usage_error("divergence", "--p: %s", otk_last_error());
    if (req->ground != OTK_GROUND_LP_OVER_P)
        req->power = NAN;
    req->params.p = p;
    return 0;
}

/* Returns 0 to go on, 1 when --help was printed, -1 on a usage error. */
static int parse_divergence_options(int argc, char **argv, divergence_request *req)
{
    memset(req, 0, sizeof *req);
    req->p = NAN;
    otk_divergence_params_default(&req->params);
    const int parsed = cli_parse_command("divergence", divergence_usage, divergence_options,
                                         apply_argument, req, divergence_groups, &req->common,
                                         argc, argv);
    if (parsed != 0)
        return parsed;
    return check_request(req) < 0 ? -1 : 0;
}

static void print_report(const divergence_request *req, const otk_divergence *div,
                         const otk_divergence_result *res, size_t n, size_t m, size_t d,
                         double seconds)
{
    const otk_divergence_params *par = &req->params;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", res->status == OTK_SUCCESS ? "ok" : "not_converged");
    json_number(&w, "divergence", res->divergence);
    json_boolean(&w, "debias", par->debias);
    json_number(&w, "eps", res->eps);
    json_number(&w, "scale_cost", res->scale_cost);
    json_number(&w, "rho", res->rho); /* ρ = ∞ (balanced) prints as null */
    json_number(&w, "marginal_error", res->marginal_error);
    json_integer(&w, "iterations", res->iterations);
    json_integer(&w, "annealing_iterations", res->annealing_iterations);
    json_string(&w, "cost", otk_ground_name(req->ground));
    json_number(&w, "power", req->power);
    json_number(&w, "p", par->p > 0.0 ? par->p : otk_ground_exponent(req->ground, req->power));
    json_integer(&w, "n", (long long)n);
    json_integer(&w, "m", (long long)m);
    json_integer(&w, "d", (long long)d);
    json_string(&w, "schedule", otk_schedule_name(par->schedule));
    json_string(&w, "update", otk_update_name(res->update)); /* AUTO resolved */
    json_number(&w, "scaling", par->scaling);
    json_number(&w, "mass_a", res->mass_a);
    json_number(&w, "mass_b", res->mass_b);
    json_number(&w, "seconds", seconds);
    json_integer(&w, "threads", par->threads);
    json_integer(&w, "cache_bytes", (long long)otk_divergence_cache_bytes(div));
    json_string(&w, "backend", otk_backend_name(res->backend)); /* AUTO resolved */
    json_number(&w, "truncation_bound", res->truncation_bound);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
}

/* The per-problem field at byte offset `off` of B results, as doubles. */
static void gather(const otk_divergence_result *res, size_t B, size_t off, double *out)
{
    for (size_t k = 0; k < B; k++)
        memcpy(&out[k], (const char *)&res[k] + off, sizeof out[k]);
}

static void print_batch_report(const divergence_request *req, const otk_divergence_result *res,
                               size_t B, size_t n, size_t m, size_t d, double seconds,
                               double *buf, long long *ibuf)
{
    const otk_divergence_params *par = &req->params;
    size_t stopped = 0;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    for (size_t k = 0; k < B; k++)
        if (res[k].status == OTK_NOT_CONVERGED)
            ibuf[stopped++] = (long long)k;
    json_string(&w, "status", stopped ? "not_converged" : "ok");
    json_integer(&w, "batch", (long long)B);
#define FIELD_(key, field)                                                                     \
    gather(res, B, offsetof(otk_divergence_result, field), buf);                              \
    json_numbers(&w, key, buf, B)
    FIELD_("divergence", divergence);
    json_boolean(&w, "debias", par->debias);
    FIELD_("eps", eps);
    FIELD_("scale_cost", scale_cost);
    FIELD_("rho", rho);
    FIELD_("marginal_error", marginal_error);
    json_integers(&w, "not_converged", ibuf, stopped);
    for (size_t k = 0; k < B; k++)
        ibuf[k] = res[k].iterations;
    json_integers(&w, "iterations", ibuf, B);
    for (size_t k = 0; k < B; k++)
        ibuf[k] = res[k].annealing_iterations;
    json_integers(&w, "annealing_iterations", ibuf, B);
    json_string(&w, "cost", otk_ground_name(req->ground));
    json_number(&w, "power", req->power);
    json_number(&w, "p", par->p > 0.0 ? par->p : otk_ground_exponent(req->ground, req->power));
    json_integer(&w, "n", (long long)n);
    json_integer(&w, "m", (long long)m);
    json_integer(&w, "d", (long long)d);
    json_string(&w, "schedule", otk_schedule_name(par->schedule));
    json_string(&w, "update", otk_update_name(res[0].update)); /* shared: AUTO resolved */
    json_number(&w, "scaling", par->scaling);
    FIELD_("mass_a", mass_a);
    FIELD_("mass_b", mass_b);
    json_number(&w, "seconds", seconds);
    json_integer(&w, "threads", par->threads);
    json_string(&w, "backend", otk_backend_name(res[0].backend)); /* shared */
    FIELD_("truncation_bound", truncation_bound);
#undef FIELD_
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
}

/* B problems (otk_divergence_batch): x and y are B·n and B·m rows. */
static int run_batch(const divergence_request *req, size_t B, const cli_matrix *x,
                     const cli_matrix *y)
{
    const cli_common *c = &req->common;
    const size_t n = x->rows / B, m = y->rows / B, d = x->cols;
    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix a = {0, 0, NULL}, b = {0, 0, NULL};
    cli_output outs[N_GRADS];
    memset(outs, 0, sizeof outs);
    double *grad[N_GRADS] = {NULL, NULL, NULL, NULL}, *buf = NULL;
    long long *ibuf = NULL;
    otk_divergence_result *res = NULL;
    const size_t glen[N_GRADS] = {n * d, m * d, n, m};

    if (cli_read_batch_weights(c->a_path, &c->read, "--a", B, n, "X", &a) < 0 ||
        cli_read_batch_weights(c->b_path, &c->read, "--b", B, m, "Y", &b) < 0)
        goto done;
    for (int k = 0; k < N_GRADS; k++)
        if (req->grad_path[k] && cli_output_open(&outs[k], req->grad_path[k]) < 0)
            goto done;
    res = calloc(B, sizeof *res);
    buf = malloc(B * sizeof *buf);
    ibuf = malloc(B * sizeof *ibuf);
    if (!res || !buf || !ibuf) {
        cli_error("out of memory for the results of %zu problems", B);
        goto done;
    }
    for (int k = 0; k < N_GRADS; k++)
        if (outs[k].stream && !(grad[k] = malloc(B * glen[k] * sizeof *grad[k]))) {
            cli_error("out of memory for the gradients (%zu × %zu)", B, glen[k]);
            goto done;
        }
    const double start = cli_monotonic_seconds();
    const otk_status st = otk_divergence_batch(B, n, m, d, x->values, y->values, a.values,
                                               b.values, req->ground,
                                               isnan(req->power) ? 0.0 : req->power,
                                               &req->params, res, grad[0], grad[1], grad[2],
                                               grad[3]);
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    static const char *const headers[N_GRADS] = {
        "gradient of the divergence w.r.t. x: problem k's n rows after the first k*n",
        "gradient of the divergence w.r.t. y: problem k's m rows after the first k*m",
        "gradient of the divergence w.r.t. the weights a: problem k's n after the first k*n",
        "gradient of the divergence w.r.t. the weights b: problem k's m after the first k*m"};
    for (int k = 0; k < N_GRADS; k++) {
        if (!outs[k].stream)
            continue;
        cli_write_table(outs[k].stream, headers[k], grad[k], k == 0 || k == 2 ? B * n : B * m,
                        k < 2 ? d : 1);
        if (cli_output_commit(&outs[k]) < 0)
            goto done;
    }
    print_batch_report(req, res, B, n, m, d, seconds, buf, ibuf); /* main() checks stdout */
    exit_status = CLI_BATCH_EXIT(st, res, B, otk_divergence_result, req->params.tol, req->params.max_iter);
done:
    for (int k = 0; k < N_GRADS; k++) {
        cli_output_discard(&outs[k]);
        free(grad[k]);
    }
    free(res);
    free(buf);
    free(ibuf);
    cli_matrix_free(&a);
    cli_matrix_free(&b);
    return exit_status;
}

int cmd_divergence(int argc, char **argv)
{
    divergence_request req;
    const int parsed = parse_divergence_options(argc, argv, &req);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix x = {0, 0, NULL}, y = {0, 0, NULL}, a = {0, 0, NULL}, b = {0, 0, NULL};
    cli_output outs[N_GRADS];
    memset(outs, 0, sizeof outs);
    otk_divergence *div = NULL;
    double *grad = NULL;
    size_t n = 0, m = 0, d = 0;

    const cli_common *c = &req.common;
    size_t batch = 0;
    if (cli_read_point_cloud_batches(c->paths[0], c->paths[1], &c->read, &x, &y, &batch) < 0)
        goto done;
    if (batch) {
        exit_status = run_batch(&req, batch, &x, &y);
        goto done;
    }
    n = x.rows, m = y.rows, d = x.cols;
    if (cli_read_weights(c->a_path, &c->read, "--a", n, "X", "points", &a) < 0 ||
        cli_read_weights(c->b_path, &c->read, "--b", m, "Y", "points", &b) < 0)
        goto done;
    /* Open the outputs first: a bad path fails before the solve. */
    for (int k = 0; k < N_GRADS; k++)
        if (req.grad_path[k] && cli_output_open(&outs[k], req.grad_path[k]) < 0)
            goto done;
    if (!(grad = malloc((n > m ? n : m) * d * sizeof *grad))) {
        cli_error("out of memory for the gradients (%zu × %zu)", n > m ? n : m, d);
        goto done;
    }
    cli_progress_line line;
    cli_progress_begin(&line);
    if (isatty(STDERR_FILENO)) {
        req.params.progress = cli_progress_report;
        req.params.progress_ctx = &line;
    }
    if (otk_divergence_alloc_points(&div, n, m, d, x.values, y.values, req.ground,
                                    isnan(req.power) ? 0.0 : req.power, &req.params) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    otk_divergence_result res;
    const double start = cli_monotonic_seconds();
    const otk_status st = otk_divergence_solve(div, a.values, b.values, &res);
    const double seconds = cli_monotonic_seconds() - start;
    cli_progress_end(&line);
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    static const char *const headers[N_GRADS] = {
        "gradient of the divergence w.r.t. x, one row per point of X",
        "gradient of the divergence w.r.t. y, one row per point of Y",
        "gradient of the divergence w.r.t. the weights a",
        "gradient of the divergence w.r.t. the weights b"};
    for (int k = 0; k < N_GRADS; k++) {
        if (!outs[k].stream)
            continue;
        otk_status gs = k == 0   ? otk_divergence_grad_x(div, grad)
                        : k == 1 ? otk_divergence_grad_y(div, grad)
                        : k == 2 ? otk_divergence_grad_a(div, grad)
                                 : otk_divergence_grad_b(div, grad);
        if (gs < 0) {
            cli_error("%s", otk_last_error());
            goto done;
        }
        cli_write_table(outs[k].stream, headers[k], grad, k == 0 || k == 2 ? n : m, k < 2 ? d : 1);
        if (cli_output_commit(&outs[k]) < 0)
            goto done;
    }
    print_report(&req, div, &res, n, m, d, seconds); /* main() checks stdout */
    if (st == OTK_NOT_CONVERGED) {
        cli_error_not_converged(res.marginal_error, req.params.tol, req.params.max_iter, res.eps);
        exit_status = CLI_EXIT_NOT_CONVERGED;
    } else {
        exit_status = CLI_EXIT_SOLVED;
    }
done:
    for (int k = 0; k < N_GRADS; k++)
        cli_output_discard(&outs[k]);
    otk_divergence_free(div);
    free(grad);
    cli_matrix_free(&x);
    cli_matrix_free(&y);
    cli_matrix_free(&a);
    cli_matrix_free(&b);
    return exit_status;
}
