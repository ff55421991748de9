/*
 * otk — the otkit command-line tool: reads point clouds, weights and cost
 * matrices from CSV or .npy files, solves with otkit and prints one JSON
 * object on stdout (DESIGN.md, "The command-line tool"; the manual is otk.1).
 *
 * This file holds main, the subcommand table, --version and --help, and the
 * small helpers every subcommand uses: error messages, the argument loop, the
 * parsers of option values (those sinkhorn and divergence share among them,
 * so that both say the same thing) and the clock.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "image.h"

/* ------------------------------------------------------------------ errors */

/* "otk: MESSAGE" and a newline on stderr: the one format of every message. */
static void print_error(const char *fmt, va_list ap)
{
    fputs("otk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'otk %s%s--help'.\n", command ? command : "", command ? " " : "");
    return -1;
}

void cli_error_not_converged(double marginal_error, double tol, int max_iter, double eps)
{
    cli_error("not converged: marginal error %.3g > --tol %.3g after --max-iter %d "
              "iterations at eps %.3g (exit status 3)",
              marginal_error, tol, max_iter, eps);
}

/* ------------------------------------------------------------------ options */

/* What args_next returns besides an option id (ids are >= 0) and
 * CLI_ARG_POSITIONAL (-3); cli_args_parse handles these itself. */
enum {
    ARG_END = -1,   /* no more arguments */
    ARG_ERROR = -2, /* reported on stderr */
    ARG_HELP = -4   /* -h or --help */
};

/* Where the argument loop stands (the syntax is in cli.h, cli_args_parse). */
typedef struct {
    int argc;
    char **argv;
    int next;
    int options_ended;
    const char *command;
    const cli_option *options; /* terminated by an entry with name NULL */
} cli_args;

static void args_init(cli_args *args, const char *command, const cli_option *options, int argc,
                      char **argv)
{
    args->argc = argc;
    args->argv = argv;
    args->next = 1; /* argv[0] is the subcommand */
    args->options_ended = 0;
    args->command = command;
    args->options = options;
}

static const cli_option *find_option(const cli_option *options, const char *name, size_t len)
{
    for (const cli_option *o = options; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static int args_next(cli_args *args, const char **value)
{
    *value = NULL;
    if (args->next >= args->argc)
        return ARG_END;
    const char *arg = args->argv[args->next++];
    /* "-" alone is a file name (standard input), not an option. */
    if (args->options_ended || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return CLI_ARG_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        args->options_ended = 1;
        return args_next(args, value);
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        return ARG_HELP;
    const char *equals = strchr(arg, '=');
    const size_t name_len = equals ? (size_t)(equals - arg) : strlen(arg);
    const cli_option *o = find_option(args->options, arg, name_len);
    if (!o) {
        cli_usage_error(args->command, "%s: unknown option '%.*s'", args->command, (int)name_len,
                        arg);
        return ARG_ERROR;
    }
    if (!o->value_name) {
        if (equals) {
            cli_usage_error(args->command, "option %s takes no value", o->name);
            return ARG_ERROR;
        }
        return o->id;
    }
    if (equals) {
        *value = equals + 1;
    } else if (args->next < args->argc) {
        *value = args->argv[args->next++];
    } else {
        cli_usage_error(args->command, "option %s needs a value (%s %s)", o->name, o->name,
                        o->value_name);
        return ARG_ERROR;
    }
    return o->id;
}

int cli_args_parse(const char *command, const char *usage, const cli_option *options, int argc,
                   char **argv, cli_apply_fn apply, void *request)
{
    cli_args args;
    args_init(&args, command, options, argc, argv);
    const char *value;
    int id;
    while ((id = args_next(&args, &value)) != ARG_END) {
        if (id == ARG_ERROR)
            return -1;
        if (id == ARG_HELP) {
            fputs(usage, stdout);
            return 1;
        }
        if (apply(request, id, value) < 0)
            return -1;
    }
    return 0;
}

void cli_point_paths_add(cli_point_paths *paths, const char *path)
{
    if (!paths->x_path)
        paths->x_path = path;
    else if (!paths->y_path)
        paths->y_path = path;
    else
        paths->extra++;
}

int cli_parse_real(const char *command, const char *option, const char *text, double *value)
{
    char *end;
    errno = 0;
    const double v = strtod(text, &end);
    if (end == text || *end != '\0' || isnan(v) || (errno == ERANGE && isinf(v))) {
        cli_usage_error(command, "%s: expected a number, found \"%s\"", option, text);
        return -1;
    }
    *value = v;
    return 0;
}

int cli_parse_mib(const char *command, const char *option, const char *text, size_t *bytes)
{
    double mb;
    if (cli_parse_real(command, option, text, &mb) < 0)
        return -1;
    if (!(mb >= 0.0 && mb <= 1048576.0)) {
        cli_usage_error(command, "%s: expected a number of MiB in [0, 1048576], found \"%s\"",
                        option, text);
        return -1;
    }
    *bytes = (size_t)(mb * 1048576.0);
    return 0;
}

int cli_parse_positive(const char *command, const char *option, const char *text, double *value)
{
    double v;
    if (cli_parse_real(command, option, text, &v) < 0)
        return -1;
    if (!(v > 0.0) || !isfinite(v)) {
        cli_usage_error(command, "%s: expected a finite number > 0, found \"%s\"", option, text);
        return -1;
    }
    *value = v;
    return 0;
}

int cli_parse_int(const char *command, const char *option, const char *text, int lowest, int *value)
{
    char *end;
    errno = 0;
    const long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < lowest || v > 2147483647L) {
        cli_usage_error(command, "%s: expected an integer >= %d, found \"%s\"", option, lowest,
                        text);
        return -1;
    }
    *value = (int)v;
    return 0;
}

int cli_parse_fraction(const char *command, const char *option, const char *text, double *value)
{
    double v;
    if (cli_parse_positive(command, option, text, &v) < 0)
        return -1;
    if (!(v < 1.0)) {
        cli_usage_error(command, "%s: expected a number in (0, 1), found \"%s\"", option, text);
        return -1;
    }
    *value = v;
    return 0;
}

int cli_parse_schedule(const char *command, const char *text, otk_schedule *schedule)
{
    if (strcmp(text, "converge") == 0)
        *schedule = OTK_SCHEDULE_CONVERGE;
    else if (strcmp(text, "fixed") == 0)
        *schedule = OTK_SCHEDULE_FIXED;
    else
        return cli_usage_error(command, "--schedule: expected converge or fixed, found \"%s\"",
                               text);
    return 0;
}

const char *cli_schedule_name(otk_schedule schedule)
{
    return schedule == OTK_SCHEDULE_FIXED ? "fixed" : "converge";
}

int cli_parse_ground(const char *command, const char *text, otk_ground *ground)
{
    if (otk_ground_from_name(text, ground) != OTK_SUCCESS)
        return cli_usage_error(command,
                               "--cost: unknown ground cost \"%s\" (expected sqeuclidean, "
                               "half-sqeuclidean, euclidean, l1, lp or lp-over-p)",
                               text);
    return 0;
}

int cli_check_ground_power(const char *command, otk_ground ground, double power)
{
    const int lp = ground == OTK_GROUND_LP || ground == OTK_GROUND_LP_OVER_P;
    if (lp && isnan(power))
        return cli_usage_error(command, "--cost %s needs --power P", otk_ground_name(ground));
    if (!lp && !isnan(power))
        return cli_usage_error(command, "--power applies only to --cost lp or lp-over-p");
    return 0;
}

/* ------------------------------------------------------------------ time */

double cli_monotonic_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ------------------------------------------------------------------ main */

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} subcommand;

static const subcommand subcommands[] = {
    {"sinkhorn", "entropic optimal transport between two point clouds or for a cost matrix",
     cmd_sinkhorn},
    {"divergence", "debiased Sinkhorn divergence between two point clouds, with gradients",
     cmd_divergence},
    {"sinkd",
     "SinKD batch-wise Sinkhorn distillation loss (and the KD/CE objective), with gradients",
     cmd_sinkd},
    {"monge-gap", "Monge gap of a map given by samples (x_i, T(x_i)), with gradients",
     cmd_monge_gap},
    {"entropic-map", "fit the entropic OT map from X to Y and apply it to Z (CSV)",
     cmd_entropic_map},
    {"mesh", "entropic OT or Sinkhorn divergence between densities on a triangle mesh (heat kernel)",
     cmd_mesh},
    {"fit-map", "fit a transport map (affine, MLP, entropic) with the Monge-gap regulariser",
     cmd_fit_map},
    {"apply-map", "apply a map saved by fit-map to new points (CSV on stdout)", cmd_apply_map},
    {"fdiv", "f-divergences (KL, JS, chi2, alpha, ...) with gradients; PSI and information value",
     cmd_fdiv},
    {"demo", "solve a built-in 2-D problem and optionally draw it as SVG", cmd_demo},
    {"grid", "OT, divergence or barycenter of images/arrays on a regular grid", cmd_grid},
    {NULL, NULL, NULL},
};

/* "sinkhorn, demo", from the table, for the hint after a typo. */
static const char *subcommand_names(void)
{
    static char names[256];
    size_t len = 0;
    for (const subcommand *c = subcommands; c->name && len < sizeof names; c++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                c == subcommands ? "" : ", ", c->name);
    return names;
}

static void print_help(FILE *out)
{
    fprintf(out, "Usage: otk SUBCOMMAND [OPTIONS] [FILES]\n"
                 "       otk SUBCOMMAND --help\n"
                 "       otk --version | --help\n"
                 "\n"
                 "Numerical optimal transport with otkit. Reads CSV or NumPy .npy files and\n"
                 "prints one JSON object on standard output.\n"
                 "\n"
                 "Subcommands:\n");
    for (const subcommand *c = subcommands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\n"
                 "Exit status: 0 solved, 2 bad option, bad input or I/O error,\n"
                 "3 not converged within --max-iter (the JSON is still printed).\n"
                 "See 'otk SUBCOMMAND --help' and otk(1).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_EXIT_BAD_INPUT;
    }
    const char *name = argv[1];
    int status = -1;
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("otk (otkit) %s\n", otk_version_string());
        printf("images: PGM%s\n", cli_have_png() ? ", PNG (libpng)" : "");
        status = CLI_EXIT_SOLVED;
    } else if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
               strcmp(name, "help") == 0) {
        print_help(stdout);
        status = CLI_EXIT_SOLVED;
    } else {
        for (const subcommand *c = subcommands; c->name && status < 0; c++)
            if (strcmp(name, c->name) == 0)
                status = c->run(argc - 1, argv + 1);
    }
    if (status < 0) {
        if (name[0] == '-')
            cli_usage_error(NULL, "unknown option '%s' (options follow a subcommand)", name);
        else
            cli_usage_error(NULL, "unknown subcommand '%s' (subcommands: %s)", name,
                            subcommand_names());
        return CLI_EXIT_BAD_INPUT;
    }
    /* A full disk or a closed pipe must not pass for success: the JSON (or
     * help text) is what the caller came for. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("standard output: %s", strerror(errno));
        return CLI_EXIT_BAD_INPUT;
    }
    return status;
}
