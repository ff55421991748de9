/*
 * `otk demo`: a built-in problem that needs no input file — 200 points on a
 * noisy ring transported onto 150 points in two Gaussian blobs, half squared
 * Euclidean cost, blur 0.05.  Prints the same JSON as `otk sinkhorn`, a short
 * summary on stderr and, with --svg, draws the point clouds and the strongest
 * couplings of the plan.
 *
 * The points come from a fixed-seed generator written here (splitmix64 and
 * Box–Muller), so every run solves the same problem on every machine.
 */
#define _POSIX_C_SOURCE 200809L /* isatty */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "report.h"
#include "write.h"

#define DEMO_SOURCE_POINTS 200
#define DEMO_TARGET_POINTS 150
#define DEMO_BLUR 0.05
#define DEMO_SEED 20240601u
#define TWO_PI 6.283185307179586476925286766559 /* C11 has no M_PI */

static const char demo_usage[] =
    "Usage: otk demo [--svg FILE]\n"
    "\n"
    "Solve a built-in problem: 200 source points on a noisy ring and 150 target\n"
    "points in two Gaussian blobs in the plane (generated from a fixed seed, so\n"
    "always the same), half-sqeuclidean cost |x-y|^2 / 2, blur 0.05 (ε = 0.0025),\n"
    "converge schedule, tol 1e-6.\n"
    "\n"
    "Prints the JSON object of 'otk sinkhorn' with \"problem\": \"demo\" on standard\n"
    "output and a short summary on standard error.\n"
    "\n"
    "  --svg FILE   also draw the problem as an SVG picture: source points, target\n"
    "               points, and for each source point a segment to the target\n"
    "               point it sends most mass to (opacity ∝ that plan entry)\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 solved, 2 bad option or I/O error, 3 not converged.\n";

enum { OPT_SVG };

static const cli_option demo_options[] = {
    {"--svg", "FILE", OPT_SVG},
    {NULL, NULL, 0},
};

/* ------------------------------------------------------------------ the problem */

/* splitmix64 (Steele, Lea and Flood 2014): tiny, and good enough for
 * scattering demo points. */
static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so that log() below is finite. */
static double uniform_open_closed(uint64_t *state)
{
    return ((double)(splitmix64_next(state) >> 11) + 1.0) * 0x1.0p-53;
}

/* A standard normal deviate (Box–Muller, one of the pair). */
static double standard_normal(uint64_t *state)
{
    const double radius = sqrt(-2.0 * log(uniform_open_closed(state)));
    const double angle = TWO_PI * uniform_open_closed(state);
    return radius * cos(angle);
}

/* Source: a ring of radius 0.22 around (0.3, 0.5), radial noise σ = 0.015. */
static void make_ring(double *x, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) {
        const double angle = TWO_PI * uniform_open_closed(state);
        const double radius = 0.22 + 0.015 * standard_normal(state);
        x[2 * i] = 0.3 + radius * cos(angle);
        x[2 * i + 1] = 0.5 + radius * sin(angle);
    }
}

/* Target: two isotropic Gaussian blobs, σ = 0.06, at (0.8, 0.25) and (0.8, 0.75),
 * half of the points each. */
static void make_blobs(double *y, size_t m, uint64_t *state)
{
    for (size_t j = 0; j < m; j++) {
        const double centre_y = j < m / 2 ? 0.25 : 0.75;
        y[2 * j] = 0.8 + 0.06 * standard_normal(state);
        y[2 * j + 1] = centre_y + 0.06 * standard_normal(state);
    }
}

/* ------------------------------------------------------------------ the picture */

/* Data coordinates → SVG user units: equal scales on both axes (so distances
 * look like distances), y pointing up as in a plot. */
typedef struct {
    double x_min, y_min, scale, left, top, size;
} svg_frame;

static svg_frame fit_frame(const double *x, size_t n, const double *y, size_t m, double left,
                           double top, double size)
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t k = 0; k < n + m; k++) {
        const double *point = k < n ? x + 2 * k : y + 2 * (k - n);
        for (int c = 0; c < 2; c++) {
            lo[c] = fmin(lo[c], point[c]);
            hi[c] = fmax(hi[c], point[c]);
        }
    }
    const double span = fmax(hi[0] - lo[0], hi[1] - lo[1]) * 1.08; /* 4% margin each side */
    svg_frame frame = {0.5 * (lo[0] + hi[0]) - 0.5 * span,
                       0.5 * (lo[1] + hi[1]) - 0.5 * span,
                       size / span,
                       left,
                       top,
                       size};
    return frame;
}

static double svg_x(const svg_frame *f, double x) { return f->left + (x - f->x_min) * f->scale; }
static double svg_y(const svg_frame *f, double y)
{
    return f->top + f->size - (y - f->y_min) * f->scale;
}

/* For each source point, a segment to the target point that receives most of
 * its mass, with opacity = P_ij / max P: the picture of where the mass goes. */
static void draw_couplings(FILE *out, const svg_frame *f, const double *x, size_t n,
                           const double *y, size_t m, const double *plan)
{
    double plan_max = 0.0;
    for (size_t k = 0; k < n * m; k++)
        plan_max = fmax(plan_max, plan[k]);
    if (!(plan_max > 0.0))
        return;
    fputs("  <g stroke=\"#404040\" stroke-width=\"1\">\n", out);
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t j = 1; j < m; j++)
            if (plan[i * m + j] > plan[i * m + best])
                best = j;
        fprintf(out,
                "    <line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                "stroke-opacity=\"%.3f\"/>\n",
                svg_x(f, x[2 * i]), svg_y(f, x[2 * i + 1]), svg_x(f, y[2 * best]),
                svg_y(f, y[2 * best + 1]), plan[i * m + best] / plan_max);
    }
    fputs("  </g>\n", out);
}

static void draw_points(FILE *out, const svg_frame *f, const double *points, size_t count,
                        const char *colour)
{
    fprintf(out, "  <g fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"0.6\">\n", colour);
    for (size_t k = 0; k < count; k++)
        fprintf(out, "    <circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.2\"/>\n", svg_x(f, points[2 * k]),
                svg_y(f, points[2 * k + 1]));
    fputs("  </g>\n", out);
}

/* "OT" with a subscript ε; the text that follows must be in the tspan that
 * returns to the baseline. */
#define OT_EPS "OT<tspan dy=\"4\" font-size=\"10\">\xce\xb5</tspan><tspan dy=\"-4\">"
#define SOURCE_COLOUR "#1f77b4"
#define TARGET_COLOUR "#d62728"

static void write_svg(FILE *out, const double *x, size_t n, const double *y, size_t m,
                      const double *plan, const otk_sinkhorn_result *res)
{
    const double width = 800, height = 600, plot = 500, left = 30, top = 75;
    const svg_frame frame = fit_frame(x, n, y, m, left, top, plot);
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, "
            "sans-serif\">\n"
            "  <title>otk demo: entropic optimal transport from a ring to two blobs</title>\n"
            "  <rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
            "  <text x=\"%.0f\" y=\"34\" font-size=\"20\" font-weight=\"bold\">"
            "Entropic optimal transport: ring \xe2\x86\x92 two blobs</text>\n"
            "  <text x=\"%.0f\" y=\"58\" font-size=\"13\" fill=\"#444444\">"
            "otk demo (otkit %s): half squared Euclidean cost, blur 0.05, "
            "\xce\xb5 = %.4g, %d Sinkhorn iterations</text>\n"
            "  <rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
            "stroke=\"#cccccc\"/>\n",
            width, height, width, height, left, left, otk_version_string(), res->eps,
            res->iterations, left, top, plot, plot);
    draw_couplings(out, &frame, x, n, y, m, plan);
    draw_points(out, &frame, y, m, TARGET_COLOUR);
    draw_points(out, &frame, x, n, SOURCE_COLOUR);

    /* The legend, right of the plot. */
    const double lx = left + plot + 30;
    fprintf(out,
            "  <g font-size=\"14\">\n"
            "    <circle cx=\"%.0f\" cy=\"%.0f\" r=\"5\" fill=\"" SOURCE_COLOUR "\"/>\n"
            "    <text x=\"%.0f\" y=\"%.0f\">source: %zu points, noisy ring</text>\n"
            "    <circle cx=\"%.0f\" cy=\"%.0f\" r=\"5\" fill=\"" TARGET_COLOUR "\"/>\n"
            "    <text x=\"%.0f\" y=\"%.0f\">target: %zu points, 2 blobs</text>\n"
            "    <line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#404040\" "
            "stroke-width=\"1.5\"/>\n"
            "    <text x=\"%.0f\" y=\"%.0f\">strongest coupling</text>\n"
            "    <text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" fill=\"#444444\">of each source "
            "point;</text>\n"
            "    <text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" fill=\"#444444\">opacity "
            "\xe2\x88\x9d plan entry</text>\n"
            "  </g>\n",
            lx, top + 20, lx + 14, top + 25, n, lx, top + 48, lx + 14, top + 53, m, lx - 6,
            top + 76, lx + 6, top + 76, lx + 14, top + 81, lx + 14, top + 99, lx + 14, top + 115);
    fprintf(out,
            "  <g font-size=\"13\" fill=\"#222222\">\n"
            "    <text x=\"%.0f\" y=\"%.0f\">" OT_EPS " (KL) = %.6g</tspan></text>\n"
            "    <text x=\"%.0f\" y=\"%.0f\">" OT_EPS " (entropy) = %.6g</tspan></text>\n"
            "    <text x=\"%.0f\" y=\"%.0f\">&lt;P, C&gt; = %.6g</text>\n"
            "    <text x=\"%.0f\" y=\"%.0f\">marginal error = %.2g</text>\n"
            "  </g>\n"
            "</svg>\n",
            lx - 6, top + 170, res->ot_kl, lx - 6, top + 192, res->ot_ent, lx - 6, top + 214,
            res->ot_lin, lx - 6, top + 236, res->marginal_error);
}

/* ------------------------------------------------------------------ the command */

static void print_summary(const otk_sinkhorn_result *res, double seconds)
{
    fprintf(stderr,
            "otk demo: %d points on a noisy ring -> %d points in two Gaussian blobs (2-D)\n"
            "  half-sqeuclidean cost, blur %g, eps = %g\n"
            "  %s after %d iterations (%d annealing), marginal error %.2g\n"
            "  OT_kl = %.6g, OT_ent = %.6g, OT_lin = <P,C> = %.6g\n"
            "  solved in %.3g s\n",
            DEMO_SOURCE_POINTS, DEMO_TARGET_POINTS, DEMO_BLUR, res->eps,
            res->status == OTK_SUCCESS ? "converged" : "NOT converged", res->iterations,
            res->annealing_iterations, res->marginal_error, res->ot_kl, res->ot_ent, res->ot_lin,
            seconds);
}

/* Apply one argument (a cli_apply_fn); `request` is the --svg path. */
static int apply_argument(void *request, int id, const char *value)
{
    if (id == CLI_ARG_POSITIONAL)
        return cli_usage_error("demo", "unexpected argument \"%s\"", value);
    *(const char **)request = value; /* OPT_SVG, the only option */
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    const char *svg_path = NULL;
    const cli_option_table table = {demo_options, apply_argument, &svg_path};
    const int parsed = cli_args_parse("demo", demo_usage, &table, 1, 0, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;

    const size_t n = DEMO_SOURCE_POINTS, m = DEMO_TARGET_POINTS;
    int exit_status = CLI_EXIT_BAD_INPUT;
    double *x = malloc(2 * n * sizeof *x), *y = malloc(2 * m * sizeof *y);
    double *plan = svg_path ? malloc(n * m * sizeof *plan) : NULL;
    cli_output svg_out = {NULL, NULL, NULL};
    otk_cost *cost = NULL;
    otk_sinkhorn *solver = NULL;
    if (!x || !y || (svg_path && !plan)) {
        cli_error("demo: out of memory");
        goto done;
    }
    if (svg_path && cli_output_open(&svg_out, svg_path) < 0)
        goto done;
    uint64_t state = DEMO_SEED;
    make_ring(x, n, &state);
    make_blobs(y, m, &state);

    otk_sinkhorn_params params;
    otk_sinkhorn_params_default(&params);
    params.blur = DEMO_BLUR;
    if (otk_cost_points(&cost, n, m, 2, x, y, OTK_GROUND_HALF_SQEUCLIDEAN, 0.0) < 0 ||
        otk_sinkhorn_alloc(&solver, cost, &params) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    otk_sinkhorn_result res;
    double seconds;
    const otk_status st =
        cli_sinkhorn_run(solver, NULL, NULL, NULL, NULL, isatty(STDERR_FILENO), &res, &seconds);
    if (st < 0)
        goto done;
    if (svg_path) {
        if (otk_sinkhorn_plan(solver, plan) < 0) {
            cli_error("%s", otk_last_error());
            goto done;
        }
        write_svg(svg_out.stream, x, n, y, m, plan, &res);
        if (cli_output_commit(&svg_out) < 0)
            goto done;
    }

    const cli_sinkhorn_report report = {cost, 2, NAN, &params, &res, seconds, NULL, 0, 0, 0, 0, 0};
    cli_sinkhorn_print_json("demo", &report);
    print_summary(&res, seconds);
    exit_status = st == OTK_SUCCESS ? CLI_EXIT_SOLVED : CLI_EXIT_NOT_CONVERGED;
done:
    cli_output_discard(&svg_out);
    otk_sinkhorn_free(solver);
    otk_cost_free(cost);
    free(plan);
    free(x);
    free(y);
    return exit_status;
}
