/*
 * `otk mesh`: entropic OT (or the Sinkhorn divergence) between two densities
 * on the vertices of a triangle mesh, with the heat-kernel cost of
 * otkit/mesh.h.
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

static const char mesh_usage[] =
    "Usage: otk mesh MESH A B [OPTIONS]\n"
    "\n"
    "Entropic optimal transport between the vertex weights A and B (one value\n"
    "per vertex, CSV or .npy) on the triangle mesh MESH (.off or .obj), with the\n"
    "heat-kernel cost: K = exp(-C/eps) is `steps` implicit Euler steps of the\n"
    "heat equation (cotangent Laplacian, lumped areas) over the time t, and\n"
    "C ~ squared geodesic distance.  One CHOLMOD factorisation serves the whole\n"
    "solve.  Prints one JSON object.\n"
    "\n"
    "Options:\n"
    "  --eps E              eps in squared length units (default (2h)^2, h the\n"
    "                       longest edge)\n"
    "  --steps S            implicit Euler steps, S >= 1 (default 10)\n"
    "  --t-convention C     otkit (default): t = eps/4, C ~ d^2;\n"
    "                       solomon: t = eps/2 (Solomon et al. 2015), C ~ d^2/2\n"
    "  --divergence         the debiased Sinkhorn divergence instead of OT\n"
    "  --tol T              marginal tolerance (default 1e-6)\n"
    "  --max-iter N         iteration limit (default 10000)\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help           show this help\n"
    "\n"
    "A and B need equal sums (balanced problem).  The JSON object has the keys\n"
    "status, ot_kl, ot_ent, ot_lin (OT) or divergence (--divergence), eps, t,\n"
    "steps, t_convention, iterations, marginal_error, factorisations, solves,\n"
    "vertices, faces, total_area, seconds, otkit_version.\n"
    "\n"
    "Exit status: 0 solved, 2 bad option, bad input or I/O error, 3 stopped at\n"
    "--max-iter without reaching --tol (the JSON is still printed).\n";

enum { OPT_STEPS, OPT_CONVENTION, OPT_DIVERGENCE };

/* Besides the groups: --eps --tol --max-iter and the input options. */
static const cli_option mesh_options[] = {
    {"--steps", "S", OPT_STEPS},
    {"--t-convention", "C", OPT_CONVENTION},
    {"--divergence", NULL, OPT_DIVERGENCE},
    {NULL, NULL, 0},
};

static const unsigned mesh_groups = CLI_GROUP_EPS | CLI_GROUP_STOP | CLI_GROUP_INPUT;

typedef struct {
    cli_common common; /* MESH, A, B and the shared options */
    const char *const *paths;
    otk_heat_params heat;
    int divergence, max_iter;
    double tol;
} mesh_request;

static int apply_argument(void *request, int id, const char *value)
{
    mesh_request *req = request;
    int v;
    switch (id) {
    case OPT_STEPS:
        return cli_parse_int("mesh", "--steps", value, 1, &req->heat.steps);
    case OPT_CONVENTION:
        if (cli_parse_name("mesh", "--t-convention", "heat_convention", value, &v) < 0)
            return -1;
        req->heat.convention = (otk_heat_convention)v;
        return 0;
    case OPT_DIVERGENCE:
        req->divergence = 1;
        return 0;
    default:
        return -1;
    }
}

/* The solver's message, and when the heat kernel underflowed (the soft-min
 * met entries <= 0: eps below the usable range, otkit/mesh.h) what to do. */
static void report_failure(const otk_cost *cost)
{
    cli_error("%s", otk_last_error());
    otk_mesh_stats ms;
    if (otk_mesh_cost_stats(cost, &ms) == OTK_SUCCESS && ms.underflows > 0)
        cli_error("the heat kernel underflowed in %ld soft-min entries: eps = %g is below the "
                  "usable range for this mesh (about diameter^2/eps < 700); use a larger --eps",
                  ms.underflows, ms.eps);
}

int cmd_mesh(int argc, char **argv)
{
    mesh_request req;
    memset(&req, 0, sizeof req);
    otk_heat_params_default(&req.heat);
    req.tol = 1e-6;
    req.max_iter = 10000;
    const int parsed = cli_parse_command("mesh", mesh_usage, mesh_options, apply_argument, &req,
                                         mesh_groups, &req.common, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    const cli_common *c = &req.common;
    if (c->npaths != 3) {
        cli_usage_error("mesh", "expected three files MESH A B, found %d", c->npaths);
        return CLI_EXIT_BAD_INPUT;
    }
    req.paths = c->paths;
    if (!isnan(c->eps))
        req.heat.eps = c->eps;
    if (!isnan(c->tol))
        req.tol = c->tol;
    if (c->max_iter)
        req.max_iter = c->max_iter;

    int exit_status = CLI_EXIT_BAD_INPUT;
    otk_mesh *mesh = NULL;
    otk_cost *cost = NULL;
    otk_sinkhorn *solver = NULL;
    otk_divergence *div = NULL;
    cli_matrix a = {0, 0, NULL}, b = {0, 0, NULL};
    cli_note_input(req.paths[0]);
    if (otk_mesh_read(&mesh, req.paths[0]) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    const size_t nv = otk_mesh_vertex_count(mesh);
    if (cli_read_weights(req.paths[1], &c->read, "A", nv, "MESH", "vertices", &a) < 0 ||
        cli_read_weights(req.paths[2], &c->read, "B", nv, "MESH", "vertices", &b) < 0)
        goto done;
    if (req.heat.eps == 0.0) {
        const double h = otk_mesh_max_edge(mesh);
        req.heat.eps = 4.0 * h * h;
    }
    if (otk_cost_mesh(&cost, mesh, &req.heat) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    otk_status st;
    double values[3] = {NAN, NAN, NAN}, marginal_error, eps;
    int iterations;
    const double start = cli_monotonic_seconds();
    if (req.divergence) {
        otk_divergence_params dp;
        otk_divergence_params_default(&dp);
        dp.tol = req.tol;
        dp.max_iter = req.max_iter;
        otk_divergence_result r;
        if (otk_divergence_alloc_costs(&div, cost, cost, cost, &dp) < 0 ||
            (st = otk_divergence_solve(div, a.values, b.values, &r)) < 0) {
            report_failure(cost);
            goto done;
        }
        values[0] = r.divergence;
        marginal_error = r.marginal_error;
        iterations = r.iterations;
        eps = r.eps;
    } else {
        otk_sinkhorn_params sp;
        otk_sinkhorn_params_default(&sp);
        sp.tol = req.tol;
        sp.max_iter = req.max_iter;
        otk_sinkhorn_result r;
        if (otk_sinkhorn_alloc(&solver, cost, &sp) < 0 ||
            (st = otk_sinkhorn_solve(solver, a.values, b.values, &r)) < 0) {
            report_failure(cost);
            goto done;
        }
        values[0] = r.ot_kl;
        values[1] = r.ot_ent;
        values[2] = r.ot_lin;
        marginal_error = r.marginal_error;
        iterations = r.iterations;
        eps = r.eps;
    }
    const double seconds = cli_monotonic_seconds() - start;
    otk_mesh_stats ms;
    otk_mesh_cost_stats(cost, &ms);

    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", st == OTK_SUCCESS ? "ok" : "not_converged");
    if (req.divergence) {
        json_number(&w, "divergence", values[0]);
    } else {
        json_number(&w, "ot_kl", values[0]);
        json_number(&w, "ot_ent", values[1]);
        json_number(&w, "ot_lin", values[2]);
    }
    json_number(&w, "eps", eps);
    json_number(&w, "t", ms.t);
    json_integer(&w, "steps", ms.steps);
    json_string(&w, "t_convention", otk_heat_convention_name(req.heat.convention));
    json_integer(&w, "iterations", iterations);
    json_number(&w, "marginal_error", marginal_error);
    json_integer(&w, "factorisations", ms.factorisations);
    json_integer(&w, "solves", ms.solves);
    json_integer(&w, "vertices", (long long)nv);
    json_integer(&w, "faces", (long long)otk_mesh_face_count(mesh));
    json_number(&w, "total_area", otk_mesh_total_area(mesh));
    json_number(&w, "seconds", seconds);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
    if (st == OTK_NOT_CONVERGED) {
        cli_error_not_converged(marginal_error, req.tol, req.max_iter, eps);
        exit_status = CLI_EXIT_NOT_CONVERGED;
    } else {
        exit_status = CLI_EXIT_SOLVED;
    }
done:
    otk_sinkhorn_free(solver);
    otk_divergence_free(div);
    otk_cost_free(cost);
    otk_mesh_free(mesh);
    cli_matrix_free(&a);
    cli_matrix_free(&b);
    return exit_status;
}
