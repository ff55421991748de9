/*
 * `otk sinkhorn`: entropic optimal transport between two point clouds, or for
 * a cost matrix, with otkit's log-domain Sinkhorn (otkit/sinkhorn.h).
 *
 * The run and its JSON report are report.c's, which `otk demo` shares.
 */
#define _POSIX_C_SOURCE 200809L /* isatty */
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
#include "launch_mpi.h"
#include "report.h"
#include "write.h"

/* The dense plan is n·m doubles in memory and about 24 bytes per entry as
 * text; beyond this the plan is not something to write to a CSV file. */
#define MAX_PLAN_ENTRIES 1e8

static const char sinkhorn_usage[] =
    "Usage: otk sinkhorn X Y [OPTIONS]\n"
    "       otk sinkhorn --cost-matrix C (--eps E | --blur B --p P) [OPTIONS]\n"
    "\n"
    "Solve entropic optimal transport between the point clouds X (n points) and\n"
    "Y (m points) of the same dimension d, or for an n×m cost matrix C, with\n"
    "log-domain Sinkhorn and ε-scaling, and print the result as one JSON object.\n"
    "\n"
    "Files are text (one point, weight or matrix row per line, numbers separated\n"
    "by commas, semicolons, tabs or blanks; blank lines and lines starting with\n"
    "'#' are ignored; a header row and pandas' index column are recognised) or\n"
    "NumPy .npy (any float or integer dtype, 1-D or 2-D), told apart by content.\n"
    "'-' reads standard input.\n"
    "\n"
    "A batch of B independent problems: X and Y 3-D .npy arrays (B, n, d) and\n"
    "(B, m, d), --a and --b tables of B rows (unequal sizes: zero-weight\n"
    "padding, exact), each problem its own solve (otkit/batch.h); the JSON then\n"
    "has batch (B), arrays of B values for ot_kl, ot_ent, ot_lin, eps,\n"
    "scale_cost, rho_a, rho_b, marginal_error, iterations,\n"
    "annealing_iterations, mass_a, mass_b and truncation_bound, not_converged\n"
    "(the indices, from 0, of the problems stopped at --max-iter), no\n"
    "cache_bytes; --potentials writes f (B*n rows, problem k's after the first\n"
    "k*n) then g (B*m rows).  --plan, --init and --cache-mb are for one problem.\n"
    "\n"
    "Problem:\n"
    "  --a A            source weights: n non-negative values, one column or one\n"
    "                   row (default uniform, 1/n each)\n"
    "  --b B            target weights: m values (default uniform, 1/m each)\n"
    "  --cost NAME      ground cost c(x, y) and its exponent p (default sqeuclidean):\n"
    "                     sqeuclidean       |x-y|^2           p = 2\n"
    "                     half-sqeuclidean  |x-y|^2 / 2       p = 2\n"
    "                     euclidean         |x-y|             p = 1\n"
    "                     l1                sum_k |x_k-y_k|   p = 1\n"
    "                     lp                |x-y|^P           p = P\n"
    "                     lp-over-p         |x-y|^P / P       p = P\n"
    "  --power P        the exponent P of lp and lp-over-p, > 0 (required for them)\n"
    "  --cost-matrix C  use the n×m matrix C (cost units) as the cost; X and Y are\n"
    "                   then not given.  Numbers have no exponent: --eps is\n"
    "                   required, or --blur (and --reach) with --p\n"
    "\n"
    "Regularisation (ε and ρ in cost units; blur and reach are lengths):\n"
    "  --eps E          ε = E, the entropic regularisation, > 0\n"
    "  --blur B         ε = B^p, p the cost's exponent (default 0.05): the kernel\n"
    "                   exp(-|x-y|^2/B^2) for sqeuclidean, exp(-|x-y|^2/(2 B^2))\n"
    "                   for half-sqeuclidean, exp(-|x-y|/B) for euclidean\n"
    "  --p P            the exponent p used by --blur, --reach and the schedule,\n"
    "                   > 0 (default: the cost's own; required with --blur or\n"
    "                   --reach on --cost-matrix: 2 for squared distances)\n"
    "  --rho RHO        ρ = RHO on both sides: unbalanced transport with KL\n"
    "                   marginal penalties (default: balanced, ρ = ∞)\n"
    "  --reach R        ρ = R^p on both sides\n"
    "  --rho-a RHO      ρ on the source side only ('inf' = hard constraint)\n"
    "  --rho-b RHO      ρ on the target side only ('inf' = hard constraint)\n"
    "  (--eps and --blur exclude each other, and so do --rho, --reach and\n"
    "  --rho-a/--rho-b.  A balanced problem needs sum(a) = sum(b).)\n"
    "\n"
    "Solver:\n"
    "  --schedule S     converge: anneal ε, then iterate at the target ε until the\n"
    "                   marginal error <= tol (default); fixed: GeomLoss's fixed\n"
    "                   schedule, one update per ε, no tolerance test\n"
    "  --update U       auto (default: accelerated for converge, symmetric for\n"
    "                   fixed), symmetric (GeomLoss), alternating (Sinkhorn-Knopp),\n"
    "                   overrelaxed (alternating, adaptive ω), translated\n"
    "                   (alternating, translation-invariant unbalanced steps) or\n"
    "                   accelerated (both); see otk(1)\n"
    "  --scaling S      blur is multiplied by S per annealing step, 0 < S < 1\n"
    "                   (default 0.5)\n"
    "  --tol T          tolerance on the relative L1 marginal error (default 1e-6)\n"
    "  --max-iter N     maximum iterations at the target ε, annealing not counted\n"
    "                   (default 10000)\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    "  --cache-mb MB    point clouds: keep the n×m cost matrix in memory when it\n"
    "                   fits in MB MiB instead of recomputing it in every pass:\n"
    "                   same result, faster from d ~ 8 (default 0)\n"
    "\n"
    "Output (files are replaced atomically, never left half-written):\n"
    "  --potentials F   write the potentials as CSV: f (n lines) then g (m lines),\n"
    "                   GeomLoss gauge, P_ij = a_i b_j exp((f_i + g_j - C_ij)/ε)\n"
    "  --plan F         write the dense n×m plan P as CSV, one row per source point\n"
    "                   (refused when n·m > 1e8)\n"
    "\n"
    "Warm start:\n"
    "  --init F         start from the potentials in F, as --potentials writes them:\n"
    "                   f (n values) then g (m values), GeomLoss gauge; the\n"
    "                   annealing is skipped and the updates run at the target ε\n"
    "                   (a converged F re-solves in 0 iterations)\n"
    CLI_SCALE_OPTIONS_HELP
    CLI_BACKEND_OPTIONS_HELP
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "Distributed (otk built with --with-mpi; see otk(1) and docs/mpi.md):\n"
    "  --mpi            under `mpirun -np N otk sinkhorn --mpi X.npy Y.npy ...`:\n"
    "                   each rank reads its share of the rows of the .npy files\n"
    "                   (and of --a, --b), the ranks solve together, rank 0 prints\n"
    "                   the JSON (with \"ranks\": N) and writes --potentials\n"
    "\n"
    "The JSON object has the keys status (\"ok\" or \"not_converged\"), ot_kl,\n"
    "ot_ent, ot_lin, eps, rho_a, rho_b (null when balanced), marginal_error,\n"
    "iterations, annealing_iterations, cost, n, m, d, schedule, update, mass_a,\n"
    "mass_b, seconds, threads, cache_bytes (of the kept cost matrix, 0 when\n"
    "computed on the fly), backend, truncation_bound, otkit_version and more;\n"
    "see otk(1).\n"
    "\n"
    "Exit status: 0 solved, 2 bad option, bad input or I/O error, 3 stopped at\n"
    "--max-iter without reaching --tol (the JSON, of the best iterate: the one\n"
    "with the smallest marginal error at the target eps, is still printed).\n";

enum { OPT_COST_MATRIX, OPT_P, OPT_RHO, OPT_REACH, OPT_RHO_A, OPT_RHO_B, OPT_UPDATE, OPT_POTENTIALS, OPT_PLAN, OPT_INIT, OPT_MPI };

/* Besides the groups: --a --b --cost --power --eps --blur --tol --max-iter
 * --schedule --scaling --threads --cache-mb and the input options. */
static const cli_option sinkhorn_options[] = {
    {"--cost-matrix", "C", OPT_COST_MATRIX},
    {"--p", "P", OPT_P},
    {"--rho", "RHO", OPT_RHO},
    {"--reach", "R", OPT_REACH},
    {"--rho-a", "RHO", OPT_RHO_A},
    {"--rho-b", "RHO", OPT_RHO_B},
    {"--update", "U", OPT_UPDATE},
    {"--potentials", "F", OPT_POTENTIALS},
    {"--plan", "F", OPT_PLAN},
    {"--init", "F", OPT_INIT},
    {"--mpi", NULL, OPT_MPI},
    {NULL, NULL, 0},
};

static const unsigned sinkhorn_groups = CLI_GROUP_WEIGHTS | CLI_GROUP_GROUND | CLI_GROUP_EPS |
                                        CLI_GROUP_BLUR | CLI_GROUP_STOP | CLI_GROUP_SCHEDULE |
                                        CLI_GROUP_THREADS | CLI_GROUP_CACHE | CLI_GROUP_INPUT |
                                        CLI_GROUP_SCALE | CLI_GROUP_BACKEND;

/* What the command line asks for. */
typedef struct {
    cli_common common; /* X, Y and the shared options */
    const char *cost_matrix_path;
    const char *potentials_path, *plan_path;
    const char *init_path; /* --init: warm-start potentials */
    otk_sinkhorn_params params;
    /* Which mutually exclusive options were given, for the checks. */
    int given_rho, given_reach, given_rho_side;
    int mpi; /* --mpi: launch_mpi.c */
} sinkhorn_request;

/* ------------------------------------------------------------------ options */

/* A marginal penalty: > 0, where "inf" means that side is a hard constraint. */
static int parse_penalty(const char *option, const char *text, double *rho)
{
    if (cli_parse_real("sinkhorn", option, text, rho) < 0)
        return -1;
    if (!(*rho > 0.0)) {
        cli_usage_error("sinkhorn", "%s: expected a number > 0 or 'inf', found \"%s\"", option,
                        text);
        return -1;
    }
    return 0;
}

static int parse_update(const char *text, otk_update *update)
{
    int v;
    if (cli_parse_name("sinkhorn", "--update", "update", text, &v) < 0)
        return -1;
    *update = (otk_update)v;
    return 0;
}

/* Apply one of the command's own options (a cli_apply_fn); returns 0 or -1 (reported). */
static int apply_argument(void *request, int id, const char *value)
{
    sinkhorn_request *req = request;
    otk_sinkhorn_params *par = &req->params;
    switch (id) {
    case OPT_COST_MATRIX:
        req->cost_matrix_path = value;
        return 0;
    case OPT_P:
        return cli_parse_positive("sinkhorn", "--p", value, &par->p);
    case OPT_RHO:
        req->given_rho = 1;
        if (parse_penalty("--rho", value, &par->rho_a) < 0)
            return -1;
        par->rho_b = par->rho_a;
        return 0;
    case OPT_REACH:
        req->given_reach = 1;
        return cli_parse_positive("sinkhorn", "--reach", value, &par->reach);
    case OPT_RHO_A:
        req->given_rho_side = 1;
        return parse_penalty("--rho-a", value, &par->rho_a);
    case OPT_RHO_B:
        req->given_rho_side = 1;
        return parse_penalty("--rho-b", value, &par->rho_b);
    case OPT_UPDATE:
        return parse_update(value, &par->update);
    case OPT_POTENTIALS:
        req->potentials_path = value;
        return 0;
    case OPT_PLAN:
        req->plan_path = value;
        return 0;
    case OPT_INIT:
        req->init_path = value;
        return 0;
    case OPT_MPI:
        req->mpi = 1;
        return 0;
    default:
        return -1;
    }
}

/* The options that exclude or require each other; the shared values go into
 * the solver's parameters. */
static int check_request(sinkhorn_request *req)
{
    const cli_common *c = &req->common;
    otk_sinkhorn_params *par = &req->params;
    if (req->given_rho + req->given_reach + req->given_rho_side > 1)
        return cli_usage_error("sinkhorn", "give one of --rho, --reach or --rho-a/--rho-b "
                                           "(--reach R sets ρ = R^p on both sides)");
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
    if (req->cost_matrix_path) {
        if (c->npaths)
            return cli_usage_error("sinkhorn", "with --cost-matrix, X and Y are not given "
                                   "(found \"%s\")", c->paths[0]);
        if (c->given_cost || !isnan(c->power) || c->given_cache)
            return cli_usage_error("sinkhorn", "--%s does not apply to --cost-matrix",
                                   c->given_cost     ? "cost"
                                   : c->given_cache ? "cache-mb"
                                                    : "power");
        /* A matrix has no exponent (otkit/cost.h): blur and reach would
         * otherwise silently be ε and ρ. */
        if (!(par->p > 0.0) && !isnan(c->blur))
            return cli_usage_error("sinkhorn", "--blur with --cost-matrix needs --p P, the "
                                               "exponent (ε = B^P; 2 for squared distances), "
                                               "or give --eps E");
        if (!(par->p > 0.0) && req->given_reach)
            return cli_usage_error("sinkhorn", "--reach with --cost-matrix needs --p P, the "
                                               "exponent (ρ = R^P), or give --rho");
        if (isnan(c->eps) && isnan(c->blur) && isnan(c->relative_eps))
            return cli_usage_error("sinkhorn", "--cost-matrix needs --eps E (or --blur B "
                                               "with --p P, ε = B^P, or --relative-eps F)");
        return 0;
    }
    if (c->npaths < 2)
        return cli_usage_error("sinkhorn", "expected two point files X and Y, or --cost-matrix C");
    if (c->npaths > 2)
        return cli_usage_error("sinkhorn", "too many arguments: expected two point files X, Y");
    return cli_check_ground_power("sinkhorn", c->ground, c->power);
}

/* Returns 0 to go on, 1 when --help was printed, -1 on a usage error. */
static int parse_sinkhorn_options(int argc, char **argv, sinkhorn_request *req)
{
    memset(req, 0, sizeof *req);
    /* The library's defaults are the tool's: blur 0.05, converge, tol 1e-6,
     * max_iter 10000, balanced. */
    otk_sinkhorn_params_default(&req->params);
    const int parsed = cli_parse_command("sinkhorn", sinkhorn_usage, sinkhorn_options,
                                         apply_argument, req, sinkhorn_groups, &req->common,
                                         argc, argv);
    if (parsed != 0)
        return parsed;
    return check_request(req) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ inputs */

static int make_cost(const sinkhorn_request *req, const cli_problem *pb, otk_cost **cost)
{
    otk_status st;
    if (req->cost_matrix_path)
        st = otk_cost_dense(cost, pb->n, pb->m, pb->cost_matrix.values, pb->m);
    else
        st = otk_cost_points(cost, pb->n, pb->m, pb->d, pb->x.values, pb->y.values,
                             req->common.ground, isnan(req->common.power) ? 0.0 : req->common.power);
    if (st >= 0 && req->common.cache_bytes > 0) {
        st = otk_cost_points_cache(*cost, req->common.cache_bytes);
        if (st < 0) {
            otk_cost_free(*cost);
            *cost = NULL;
        }
    }
    if (st < 0) {
        cli_error("%s", otk_last_error());
        return -1;
    }
    return 0;
}

/* --init: the n + m values --potentials writes (f, then g) in one column. */
static int read_init(const sinkhorn_request *req, size_t n, size_t m, cli_matrix *init)
{
    if (cli_read_vector(req->init_path, &req->common.read, init) < 0)
        return -1;
    if (init->rows != n + m) {
        cli_error("--init %s: %zu values, expected n + m = %zu + %zu = %zu (f then g, as "
                  "--potentials writes them)",
                  req->init_path, init->rows, n, m, n + m);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ output files */

/* f (n lines) then g (m lines) under one header: the file reads back as a
 * single (n + m)×1 table. */
static void write_potentials(FILE *out, const otk_sinkhorn *solver, size_t n, size_t m)
{
    char header[96];
    snprintf(header, sizeof header, "f (%zu rows) then g (%zu rows), GeomLoss gauge", n, m);
    cli_write_table(out, header, otk_sinkhorn_potential_f(solver), n, 1);
    cli_write_table(out, NULL, otk_sinkhorn_potential_g(solver), m, 1);
}

static void write_plan(FILE *out, const double *plan, size_t n, size_t m)
{
    char header[128];
    snprintf(header, sizeof header,
             "transport plan P: %zu rows (source points), %zu columns (target points)", n, m);
    cli_write_table(out, header, plan, n, m);
}

/* Write the requested files; each output was opened before the solve, so a
 * bad path fails in a second, not after an hour of iterations. */
static int write_outputs(otk_sinkhorn *solver, size_t n, size_t m, double *plan,
                         cli_output *potentials_out, cli_output *plan_out)
{
    if (potentials_out->stream) {
        write_potentials(potentials_out->stream, solver, n, m);
        if (cli_output_commit(potentials_out) < 0)
            return -1;
    }
    if (plan_out->stream) {
        if (otk_sinkhorn_plan(solver, plan) < 0) {
            cli_error("%s", otk_last_error());
            return -1;
        }
        write_plan(plan_out->stream, plan, n, m);
        if (cli_output_commit(plan_out) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ command */

/* ------------------------------------------------------------------ batches */

static void gather(const otk_sinkhorn_result *res, size_t B, size_t off, double *out)
{
    for (size_t k = 0; k < B; k++)
        memcpy(&out[k], (const char *)&res[k] + off, sizeof out[k]);
}

static void print_batch_report(const sinkhorn_request *req, const cli_problem *pb,
                               const otk_sinkhorn_result *res, double seconds, double *buf,
                               long long *ibuf)
{
    const otk_sinkhorn_params *par = &req->params;
    const size_t B = pb->batch;
    const double power = isnan(req->common.power) ? 0.0 : req->common.power;
    size_t stopped = 0;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    for (size_t k = 0; k < B; k++)
        if (res[k].status == OTK_NOT_CONVERGED)
            ibuf[stopped++] = (long long)k;
    json_string(&w, "status", stopped ? "not_converged" : "ok");
    json_integer(&w, "batch", (long long)B);
#define FIELD_(field)                                                                          \
    gather(res, B, offsetof(otk_sinkhorn_result, field), buf);                                \
    json_numbers(&w, #field, buf, B)
    FIELD_(ot_kl);
    FIELD_(ot_ent);
    FIELD_(ot_lin);
    FIELD_(eps);
    FIELD_(scale_cost);
    FIELD_(rho_a);
    FIELD_(rho_b);
    FIELD_(marginal_error);
    json_integers(&w, "not_converged", ibuf, stopped);
    for (size_t k = 0; k < B; k++)
        ibuf[k] = res[k].iterations;
    json_integers(&w, "iterations", ibuf, B);
    for (size_t k = 0; k < B; k++)
        ibuf[k] = res[k].annealing_iterations;
    json_integers(&w, "annealing_iterations", ibuf, B);
    json_string(&w, "cost", otk_ground_name(req->common.ground));
    json_number(&w, "power", req->common.power);
    json_number(&w, "p", par->p > 0.0 ? par->p : otk_ground_exponent(req->common.ground, power));
    json_integer(&w, "n", (long long)pb->n);
    json_integer(&w, "m", (long long)pb->m);
    json_integer(&w, "d", (long long)pb->d);
    json_string(&w, "schedule", otk_schedule_name(par->schedule));
    json_string(&w, "update", otk_update_name(res[0].update)); /* shared: AUTO resolved */
    json_number(&w, "scaling", par->scaling);
    json_number(&w, "tol", par->tol);
    json_integer(&w, "max_iter", par->max_iter);
    FIELD_(mass_a);
    FIELD_(mass_b);
    json_number(&w, "seconds", seconds);
    json_integer(&w, "threads", par->threads);
    json_string(&w, "backend", otk_backend_name(res[0].backend)); /* shared */
    FIELD_(truncation_bound);
#undef FIELD_
    json_string(&w, "otkit_version", otk_version_string());
    json_boolean(&w, "warm_start", 0);
    json_object_end(&w);
}

/* B problems (otk_sinkhorn_batch). */
static int run_batch(const sinkhorn_request *req, const cli_problem *pb)
{
    const size_t B = pb->batch, n = pb->n, m = pb->m;
    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_output potentials_out = {NULL, NULL, NULL};
    otk_sinkhorn_result *res = NULL;
    double *f = NULL, *g = NULL, *buf = NULL;
    long long *ibuf = NULL;

    if (req->plan_path || req->init_path || req->common.given_cache) {
        cli_error("--%s is for one problem; %s is a batch of %zu (solve a problem alone for "
                  "it)",
                  req->plan_path   ? "plan"
                  : req->init_path ? "init"
                                   : "cache-mb",
                  cli_display_name(req->common.paths[0]), B);
        return CLI_EXIT_BAD_INPUT;
    }
    if (req->potentials_path && cli_output_open(&potentials_out, req->potentials_path) < 0)
        goto done;
    res = calloc(B, sizeof *res);
    buf = malloc(B * sizeof *buf);
    ibuf = malloc(B * sizeof *ibuf);
    if (potentials_out.stream) {
        f = malloc(B * n * sizeof *f);
        g = malloc(B * m * sizeof *g);
    }
    if (!res || !buf || !ibuf || (potentials_out.stream && (!f || !g))) {
        cli_error("out of memory for the results of %zu problems", B);
        goto done;
    }
    const double start = cli_monotonic_seconds();
    const otk_status st = otk_sinkhorn_batch(
        B, n, m, pb->d, pb->x.values, pb->y.values, pb->a.values, pb->b.values,
        req->common.ground, isnan(req->common.power) ? 0.0 : req->common.power, &req->params, res, f,
        g);
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (potentials_out.stream) {
        char header[128];
        snprintf(header, sizeof header,
                 "f (%zu rows: problem k's %zu after the first k*%zu) then g (%zu rows)", B * n,
                 n, n, B * m);
        cli_write_table(potentials_out.stream, header, f, B * n, 1);
        cli_write_table(potentials_out.stream, NULL, g, B * m, 1);
        if (cli_output_commit(&potentials_out) < 0)
            goto done;
    }
    print_batch_report(req, pb, res, seconds, buf, ibuf); /* main() checks stdout */
    exit_status = CLI_BATCH_EXIT(st, res, B, otk_sinkhorn_result, req->params.tol, req->params.max_iter);
done:
    cli_output_discard(&potentials_out);
    free(res);
    free(f);
    free(g);
    free(buf);
    free(ibuf);
    return exit_status;
}

int cmd_sinkhorn(int argc, char **argv)
{
    sinkhorn_request req;
    const int parsed = parse_sinkhorn_options(argc, argv, &req);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    if (req.mpi) {
        const cli_common *c = &req.common;
        if (req.cost_matrix_path || req.plan_path || c->given_cache || req.init_path) {
            cli_usage_error("sinkhorn", "--%s does not apply to --mpi",
                            req.cost_matrix_path ? "cost-matrix"
                            : req.plan_path      ? "plan"
                            : req.init_path      ? "init"
                                                 : "cache-mb");
            return CLI_EXIT_BAD_INPUT;
        }
        const cli_mpi_request mr = {c->paths[0], c->paths[1],      c->a_path,  c->b_path,
                                    req.potentials_path, c->ground, c->power, &req.params};
        return cli_sinkhorn_mpi(&mr);
    }

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_problem pb;
    memset(&pb, 0, sizeof pb);
    cli_output potentials_out = {NULL, NULL, NULL}, plan_out = {NULL, NULL, NULL};
    otk_cost *cost = NULL;
    otk_sinkhorn *solver = NULL;
    double *plan = NULL;
    cli_matrix init;
    memset(&init, 0, sizeof init);

    if (cli_read_problem(&req.common, req.cost_matrix_path, 1, &pb) < 0)
        goto done;
    if (pb.batch) {
        exit_status = run_batch(&req, &pb);
        goto done;
    }
    if (req.init_path && read_init(&req, pb.n, pb.m, &init) < 0)
        goto done;
    if (req.plan_path) {
        if ((double)pb.n * (double)pb.m > MAX_PLAN_ENTRIES) {
            cli_error("--plan: the plan would have %zu × %zu = %.3g entries (at most %.0e); "
                      "use --potentials and rebuild P_ij from them",
                      pb.n, pb.m, (double)pb.n * (double)pb.m, MAX_PLAN_ENTRIES);
            goto done;
        }
        if (!(plan = malloc(pb.n * pb.m * sizeof *plan))) {
            cli_error("--plan: out of memory for %zu × %zu doubles", pb.n, pb.m);
            goto done;
        }
        if (cli_output_open(&plan_out, req.plan_path) < 0)
            goto done;
    }
    if (req.potentials_path && cli_output_open(&potentials_out, req.potentials_path) < 0)
        goto done;
    if (make_cost(&req, &pb, &cost) < 0)
        goto done;
    if (otk_sinkhorn_alloc(&solver, cost, &req.params) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }

    otk_sinkhorn_result res;
    double seconds;
    const otk_status st =
        cli_sinkhorn_run(solver, pb.a.values, pb.b.values, init.values,
                         init.values ? init.values + pb.n : NULL, isatty(STDERR_FILENO), &res,
                         &seconds);
    if (st < 0)
        goto done;
    if (write_outputs(solver, pb.n, pb.m, plan, &potentials_out, &plan_out) < 0)
        goto done;
    const cli_sinkhorn_report report = {
        cost, pb.d, req.common.power, &req.params, &res, seconds, NULL, 0, 0, 0, 0,
        init.values != NULL};
    cli_sinkhorn_print_json(NULL, &report);
    if (st == OTK_NOT_CONVERGED) {
        cli_error_not_converged(res.marginal_error, req.params.tol, req.params.max_iter, res.eps);
        exit_status = CLI_EXIT_NOT_CONVERGED;
    } else {
        exit_status = CLI_EXIT_SOLVED;
    }
done:
    cli_output_discard(&potentials_out);
    cli_output_discard(&plan_out);
    otk_sinkhorn_free(solver);
    otk_cost_free(cost);
    free(plan);
    cli_matrix_free(&init);
    cli_problem_free(&pb);
    return exit_status;
}
