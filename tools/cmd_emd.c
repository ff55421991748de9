/*
 * `otk emd`: exact (unregularised) optimal transport between two point clouds
 * or for a cost matrix, by the network simplex (otkit/emd.h): the optimal
 * value, the sparse optimal plan and the dual potentials.
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

static const char emd_usage[] =
    "Usage: otk emd X Y [OPTIONS]\n"
    "       otk emd --cost-matrix C [OPTIONS]\n"
    "\n"
    "Solve the exact optimal transport problem min <P, C> over the plans P >= 0\n"
    "with P 1 = a, P^T 1 = b (no regularisation) between the point clouds X (n\n"
    "points) and Y (m points) of the same dimension, or for an n x m cost matrix\n"
    "C, by the network simplex (POT's ot.emd / ot.emd2), and print the result as\n"
    "one JSON object.  The value is <P, C> in cost units: for --cost sqeuclidean\n"
    "it is W_2^2, not W_2.  Files are read as for otk sinkhorn (CSV or .npy).\n"
    "\n"
    "Problem:\n"
    "  --a A            source weights: n non-negative values (default 1/n each)\n"
    "  --b B            target weights: m values (default 1/m each); sum(a) must\n"
    "                   equal sum(b) (see --mass-tol); zero weights are allowed\n"
    "  --cost NAME      ground cost (default sqeuclidean): sqeuclidean,\n"
    "                   half-sqeuclidean, euclidean, l1, lp, lp-over-p (otk\n"
    "                   sinkhorn --help lists the formulas)\n"
    "  --power P        the exponent P of lp and lp-over-p, > 0 (required for them)\n"
    "  --cost-matrix C  use the n x m matrix C (cost units, finite, any sign);\n"
    "                   X and Y are then not given\n"
    "\n"
    "Solver:\n"
    "  --max-iter N     at most N simplex pivots, >= 1 (default: no cap); when\n"
    "                   reached, exit status 3 and the last basis is reported\n"
    "  --mass-tol T     largest relative difference |sum(a) - sum(b)| / max\n"
    "                   accepted as equal masses, in [0, 1e-6] (default 1e-9)\n"
    "\n"
    "Output (files are replaced atomically, never left half-written):\n"
    "  --plan F         the optimal plan as CSV triplets \"i, j, mass\" (0-based\n"
    "                   indices, sorted by i then j, at most n + m - 1 lines)\n"
    "  --potentials F   the dual potentials as CSV: u (n lines) then v (m lines),\n"
    "                   u_i + v_j <= C_ij with equality on the plan's support,\n"
    "                   centred so that <a, u> = <b, v>\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "JSON keys: status (\"ok\" or \"not_converged\"), value (<P, C>), dual_value\n"
    "(<a, u> + <b, v>), iterations (pivots), plan_size, n, m, d (null for a cost\n"
    "matrix), cost, power, mass_a, mass_b, seconds, otkit_version.\n"
    "\n"
    "Exit status: 0 solved, 2 bad option, bad input (unequal masses included) or\n"
    "I/O error, 3 stopped at --max-iter (the JSON of the last basis is printed).\n";

enum { OPT_COST_MATRIX, OPT_MAX_ITER, OPT_MASS_TOL, OPT_PLAN, OPT_POTENTIALS };

/* Besides the groups: --a --b --cost --power and the input options. */
static const cli_option emd_options[] = {
    {"--cost-matrix", "C", OPT_COST_MATRIX},
    {"--max-iter", "N", OPT_MAX_ITER},
    {"--mass-tol", "T", OPT_MASS_TOL},
    {"--plan", "F", OPT_PLAN},
    {"--potentials", "F", OPT_POTENTIALS},
    {NULL, NULL, 0},
};

typedef struct {
    cli_common common;
    const char *cost_matrix_path, *plan_path, *potentials_path;
    otk_emd_params params;
} emd_request;

static int apply_argument(void *request, int id, const char *value)
{
    emd_request *req = request;
    int iters = 0;
    switch (id) {
    case OPT_COST_MATRIX:
        req->cost_matrix_path = value;
        return 0;
    case OPT_MAX_ITER:
        if (cli_parse_int("emd", "--max-iter", value, 1, &iters) < 0)
            return -1;
        req->params.max_iter = iters;
        return 0;
    case OPT_MASS_TOL:
        if (cli_parse_real("emd", "--mass-tol", value, &req->params.mass_tol) < 0)
            return -1;
        if (!(req->params.mass_tol >= 0.0 && isfinite(req->params.mass_tol)))
            return cli_usage_error("emd", "--mass-tol: expected a finite number >= 0, found %s",
                                   value);
        return 0;
    case OPT_PLAN:
        req->plan_path = value;
        return 0;
    case OPT_POTENTIALS:
        req->potentials_path = value;
        return 0;
    default:
        return -1;
    }
}

static int check_request(const emd_request *req)
{
    const cli_common *c = &req->common;
    if (req->cost_matrix_path) {
        if (c->npaths)
            return cli_usage_error("emd", "with --cost-matrix, X and Y are not given (found "
                                          "\"%s\")",
                                   c->paths[0]);
        if (c->given_cost || !isnan(c->power))
            return cli_usage_error("emd", "--%s does not apply to --cost-matrix",
                                   c->given_cost ? "cost" : "power");
        return 0;
    }
    if (c->npaths < 2)
        return cli_usage_error("emd", "expected two point files X and Y, or --cost-matrix C");
    if (c->npaths > 2)
        return cli_usage_error("emd", "too many arguments: expected two point files X, Y");
    return cli_check_ground_power("emd", c->ground, c->power);
}

/* The plan's triplets as an k x 3 table. */
static int write_plan(cli_output *out, const otk_emd *s, size_t k)
{
    size_t *rows = malloc((k ? k : 1) * sizeof *rows), *cols = malloc((k ? k : 1) * sizeof *cols);
    double *mass = malloc((k ? k : 1) * sizeof *mass), *t = malloc((k ? k : 1) * 3 * sizeof *t);
    int r = -1;
    if (!rows || !cols || !mass || !t) {
        cli_error("--plan: out of memory for %zu entries", k);
        goto done;
    }
    if (otk_emd_plan(s, rows, cols, mass) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    for (size_t e = 0; e < k; e++) {
        t[3 * e] = (double)rows[e];
        t[3 * e + 1] = (double)cols[e];
        t[3 * e + 2] = mass[e];
    }
    cli_write_table(out->stream, "i, j, mass: the optimal plan's nonzero entries (0-based)", t, k,
                    3);
    r = cli_output_commit(out);
done:
    free(rows);
    free(cols);
    free(mass);
    free(t);
    return r;
}

static int write_potentials(cli_output *out, const otk_emd *s, size_t n, size_t m)
{
    double *u = malloc(n * sizeof *u), *v = malloc(m * sizeof *v);
    int r = -1;
    if (!u || !v) {
        cli_error("--potentials: out of memory for %zu values", n + m);
        goto done;
    }
    if (otk_emd_potentials(s, u, v) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    char header[96];
    snprintf(header, sizeof header, "u (%zu rows) then v (%zu rows), <a, u> = <b, v>", n, m);
    cli_write_table(out->stream, header, u, n, 1);
    cli_write_table(out->stream, NULL, v, m, 1);
    r = cli_output_commit(out);
done:
    free(u);
    free(v);
    return r;
}

int cmd_emd(int argc, char **argv)
{
    emd_request req;
    memset(&req, 0, sizeof req);
    otk_emd_params_default(&req.params);
    const int parsed = cli_parse_command("emd", emd_usage, emd_options, apply_argument, &req,
                                         CLI_GROUP_WEIGHTS | CLI_GROUP_GROUND | CLI_GROUP_INPUT,
                                         &req.common, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    if (check_request(&req) < 0)
        return CLI_EXIT_BAD_INPUT;

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_problem pb;
    memset(&pb, 0, sizeof pb);
    cli_output plan_out = {NULL, NULL, NULL}, potentials_out = {NULL, NULL, NULL};
    otk_cost *cost = NULL;
    otk_emd *solver = NULL;
    if (cli_read_problem(&req.common, req.cost_matrix_path, 0, &pb) < 0)
        goto done;
    if (req.plan_path && cli_output_open(&plan_out, req.plan_path) < 0)
        goto done;
    if (req.potentials_path && cli_output_open(&potentials_out, req.potentials_path) < 0)
        goto done;
    const double power = isnan(req.common.power) ? 0.0 : req.common.power;
    otk_status st = req.cost_matrix_path
                        ? otk_cost_dense(&cost, pb.n, pb.m, pb.cost_matrix.values, pb.m)
                        : otk_cost_points(&cost, pb.n, pb.m, pb.d, pb.x.values, pb.y.values,
                                          req.common.ground, power);
    const double start = cli_monotonic_seconds();
    if (st >= 0)
        st = otk_emd_alloc(&solver, cost, &req.params);
    otk_emd_result res;
    if (st >= 0)
        st = otk_emd_solve(solver, pb.a.values, pb.b.values, &res);
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (plan_out.stream && write_plan(&plan_out, solver, res.plan_size) < 0)
        goto done;
    if (potentials_out.stream && write_potentials(&potentials_out, solver, pb.n, pb.m) < 0)
        goto done;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", st == OTK_NOT_CONVERGED ? "not_converged" : "ok");
    json_number(&w, "value", res.value);
    json_number(&w, "dual_value", res.dual_value);
    json_integer(&w, "iterations", res.iterations);
    json_integer(&w, "plan_size", (long long)res.plan_size);
    json_integer(&w, "n", (long long)pb.n);
    json_integer(&w, "m", (long long)pb.m);
    if (req.cost_matrix_path) {
        json_null(&w, "d");
        json_string(&w, "cost", "matrix");
    } else {
        json_integer(&w, "d", (long long)pb.d);
        json_string(&w, "cost", otk_ground_name(req.common.ground));
    }
    json_number(&w, "power", req.common.power);
    json_number(&w, "mass_a", res.mass_a);
    json_number(&w, "mass_b", res.mass_b);
    json_number(&w, "seconds", seconds);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
    if (st == OTK_NOT_CONVERGED) {
        cli_error("the network simplex stopped at --max-iter %ld pivots before optimality: "
                  "the plan may not meet the marginals and the potentials are not dual "
                  "feasible",
                  req.params.max_iter);
        exit_status = CLI_EXIT_NOT_CONVERGED;
    } else {
        exit_status = CLI_EXIT_SOLVED;
    }
done:
    cli_output_discard(&plan_out);
    cli_output_discard(&potentials_out);
    otk_emd_free(solver);
    otk_cost_free(cost);
    cli_problem_free(&pb);
    return exit_status;
}
