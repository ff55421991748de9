/*
 * `otk divergence`: the debiased Sinkhorn divergence S_ε between two weighted
 * point clouds (otkit/divergence.h), with its gradients on request.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "io.h"
#include "json.h"

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
    "\n"
    "Gradients (CSV, written atomically):\n"
    "  --grad-x F       dS/dx, n rows of d values\n"
    "  --grad-y F       dS/dy, m rows of d values\n"
    "  --grad-a F       dS/da, n values (balanced: projected to zero sum)\n"
    "  --grad-b F       dS/db, m values\n"
    "  -h, --help       show this help\n"
    "\n"
    "The JSON object has the keys status (\"ok\" or \"not_converged\"), divergence,\n"
    "debias, eps, rho (null when balanced), marginal_error (null for the fixed\n"
    "schedule), iterations, annealing_iterations, cost, power, p, n, m, d,\n"
    "schedule, scaling, mass_a, mass_b, seconds, threads, otkit_version.\n"
    "\n"
    "Exit status: 0 solved, 2 bad option, bad input or I/O error, 3 stopped at\n"
    "--max-iter without reaching --tol (the JSON is still printed).\n";

enum {
    OPT_A,
    OPT_B,
    OPT_P,
    OPT_COST,
    OPT_POWER,
    OPT_BLUR,
    OPT_EPS,
    OPT_REACH,
    OPT_NO_DEBIAS,
    OPT_SCHEDULE,
    OPT_SCALING,
    OPT_DIAMETER,
    OPT_TOL,
    OPT_MAX_ITER,
    OPT_THREADS,
    OPT_GRAD_X,
    OPT_GRAD_Y,
    OPT_GRAD_A,
    OPT_GRAD_B,
    N_GRADS = 4
};

static const cli_option divergence_options[] = {
    {"--a", "A", OPT_A},
    {"--b", "B", OPT_B},
    {"--p", "P", OPT_P},
    {"--cost", "NAME", OPT_COST},
    {"--power", "P", OPT_POWER},
    {"--blur", "B", OPT_BLUR},
    {"--eps", "E", OPT_EPS},
    {"--reach", "R", OPT_REACH},
    {"--no-debias", NULL, OPT_NO_DEBIAS},
    {"--schedule", "S", OPT_SCHEDULE},
    {"--scaling", "S", OPT_SCALING},
    {"--diameter", "D", OPT_DIAMETER},
    {"--tol", "T", OPT_TOL},
    {"--max-iter", "N", OPT_MAX_ITER},
    {"--threads", "K", OPT_THREADS},
    {"--grad-x", "F", OPT_GRAD_X},
    {"--grad-y", "F", OPT_GRAD_Y},
    {"--grad-a", "F", OPT_GRAD_A},
    {"--grad-b", "F", OPT_GRAD_B},
    {NULL, NULL, 0},
};

typedef struct {
    const char *x_path, *y_path, *a_path, *b_path;
    const char *grad_path[N_GRADS]; /* x, y, a, b */
    otk_ground ground;
    double power; /* NAN unless --power */
    double p;     /* NAN unless --p */
    otk_divergence_params params;
    int given_cost, given_eps, given_blur, extra_positionals;
} divergence_request;

static int apply_option(divergence_request *req, int id, const char *value)
{
    otk_divergence_params *par = &req->params;
    switch (id) {
    case OPT_A:
        req->a_path = value;
        return 0;
    case OPT_B:
        req->b_path = value;
        return 0;
    case OPT_P:
        return cli_parse_positive("divergence", "--p", value, &req->p);
    case OPT_COST:
        req->given_cost = 1;
        if (otk_ground_from_name(value, &req->ground) != OTK_SUCCESS)
            return cli_usage_error("divergence",
                                   "--cost: unknown ground cost \"%s\" (expected sqeuclidean, "
                                   "half-sqeuclidean, euclidean, l1, lp or lp-over-p)",
                                   value);
        return 0;
    case OPT_POWER:
        return cli_parse_positive("divergence", "--power", value, &req->power);
    case OPT_BLUR:
        req->given_blur = 1;
        return cli_parse_positive("divergence", "--blur", value, &par->blur);
    case OPT_EPS:
        req->given_eps = 1;
        return cli_parse_positive("divergence", "--eps", value, &par->eps);
    case OPT_REACH:
        return cli_parse_positive("divergence", "--reach", value, &par->reach);
    case OPT_NO_DEBIAS:
        par->debias = 0;
        return 0;
    case OPT_SCHEDULE:
        if (strcmp(value, "converge") == 0)
            par->schedule = OTK_SCHEDULE_CONVERGE;
        else if (strcmp(value, "fixed") == 0)
            par->schedule = OTK_SCHEDULE_FIXED;
        else
            return cli_usage_error("divergence",
                                   "--schedule: expected converge or fixed, found \"%s\"", value);
        return 0;
    case OPT_SCALING:
        if (cli_parse_positive("divergence", "--scaling", value, &par->scaling) < 0)
            return -1;
        if (!(par->scaling < 1.0))
            return cli_usage_error("divergence",
                                   "--scaling: expected a number in (0, 1), found \"%s\"", value);
        return 0;
    case OPT_DIAMETER:
        return cli_parse_positive("divergence", "--diameter", value, &par->diameter);
    case OPT_TOL:
        return cli_parse_positive("divergence", "--tol", value, &par->tol);
    case OPT_MAX_ITER:
        return cli_parse_int("divergence", "--max-iter", value, 1, &par->max_iter);
    case OPT_THREADS:
        return cli_parse_int("divergence", "--threads", value, 0, &par->threads);
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
    if (!req->x_path || !req->y_path)
        return cli_usage_error("divergence", "expected two point files X and Y");
    if (req->extra_positionals)
        return cli_usage_error("divergence", "too many arguments: expected two point files X "
                                             "and Y");
    if (req->given_eps && req->given_blur)
        return cli_usage_error("divergence", "give --eps or --blur, not both (--blur B sets "
                                             "eps = B^p)");
    if (req->given_cost) {
        const int lp = req->ground == OTK_GROUND_LP || req->ground == OTK_GROUND_LP_OVER_P;
        if (lp && isnan(req->power))
            return cli_usage_error("divergence", "--cost %s needs --power P",
                                   otk_ground_name(req->ground));
        if (!lp && !isnan(req->power))
            return cli_usage_error("divergence", "--power applies only to --cost lp or "
                                                 "lp-over-p");
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
    req->power = NAN;
    req->p = NAN;
    otk_divergence_params_default(&req->params);
    cli_args args;
    cli_args_init(&args, "divergence", divergence_options, argc, argv);
    const char *value;
    int id;
    while ((id = cli_args_next(&args, &value)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return -1;
        if (id == CLI_ARG_HELP) {
            fputs(divergence_usage, stdout);
            return 1;
        }
        if (id == CLI_ARG_POSITIONAL) {
            if (!req->x_path)
                req->x_path = value;
            else if (!req->y_path)
                req->y_path = value;
            else
                req->extra_positionals++;
        } else if (apply_option(req, id, value) < 0) {
            return -1;
        }
    }
    return check_request(req) < 0 ? -1 : 0;
}

static int read_weights(const char *path, const char *option, size_t expected, const char *what,
                        cli_matrix *w)
{
    if (!path)
        return 0;
    if (cli_read_vector(path, w) < 0)
        return -1;
    if (w->rows != expected) {
        cli_error("%s (%s): %zu weight%s, but %s has %zu points", path, option, w->rows,
                  w->rows == 1 ? "" : "s", what, expected);
        return -1;
    }
    return 0;
}

/* rows × cols values as CSV, one row per line. */
static void write_table(FILE *out, const char *header, const double *v, size_t rows, size_t cols)
{
    fprintf(out, "# %s\n", header);
    for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < cols; k++)
            fprintf(out, "%.17g%c", v[i * cols + k], k + 1 < cols ? ',' : '\n');
}

static void print_report(const divergence_request *req, const otk_divergence_result *res, size_t n,
                         size_t m, size_t d, double seconds)
{
    const otk_divergence_params *par = &req->params;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", res->status == OTK_SUCCESS ? "ok" : "not_converged");
    json_number(&w, "divergence", res->divergence);
    json_boolean(&w, "debias", par->debias);
    json_number(&w, "eps", res->eps);
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
    json_string(&w, "schedule", par->schedule == OTK_SCHEDULE_FIXED ? "fixed" : "converge");
    json_number(&w, "scaling", par->scaling);
    json_number(&w, "mass_a", res->mass_a);
    json_number(&w, "mass_b", res->mass_b);
    json_number(&w, "seconds", seconds);
    json_integer(&w, "threads", par->threads);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
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

    if (cli_read_matrix(req.x_path, &x) < 0 || cli_read_matrix(req.y_path, &y) < 0)
        goto done;
    if (x.cols != y.cols) {
        cli_error("dimension mismatch: the points of %s have %zu coordinates, those of %s have "
                  "%zu",
                  req.x_path, x.cols, req.y_path, y.cols);
        goto done;
    }
    n = x.rows, m = y.rows, d = x.cols;
    if (read_weights(req.a_path, "--a", n, "X", &a) < 0 ||
        read_weights(req.b_path, "--b", m, "Y", &b) < 0)
        goto done;
    /* Open the outputs first: a bad path fails before the solve. */
    for (int k = 0; k < N_GRADS; k++)
        if (req.grad_path[k] && cli_output_open(&outs[k], req.grad_path[k]) < 0)
            goto done;
    if (!(grad = malloc((n > m ? n : m) * d * sizeof *grad))) {
        cli_error("out of memory for the gradients (%zu × %zu)", n > m ? n : m, d);
        goto done;
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
        write_table(outs[k].stream, headers[k], grad, k == 0 || k == 2 ? n : m, k < 2 ? d : 1);
        if (cli_output_commit(&outs[k]) < 0)
            goto done;
    }
    print_report(&req, &res, n, m, d, seconds);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("standard output: %s", strerror(errno));
        goto done;
    }
    if (st == OTK_NOT_CONVERGED) {
        cli_error("not converged: marginal error %.3g > --tol %.3g after --max-iter %d "
                  "iterations at eps %.3g (exit status 3)",
                  res.marginal_error, req.params.tol, req.params.max_iter, res.eps);
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
