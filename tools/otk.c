/*
 * otk — the otkit command-line tool: reads point clouds, weights and cost
 * matrices from CSV or .npy files, solves with otkit and prints one JSON
 * object on stdout (DESIGN.md, "The command-line tool"; the manual is otk.1).
 *
 * This file holds main, the subcommand table, --version and --help, and the
 * small helpers every subcommand uses: error messages, option parsing and the
 * clock.
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

/* ------------------------------------------------------------------ errors */

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("otk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("otk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "Try 'otk %s%s--help'.\n", command ? command : "", command ? " " : "");
    return -1;
}

/* ------------------------------------------------------------------ options */

void cli_args_init(cli_args *args, const char *command, const cli_option *options, int argc,
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

int cli_args_next(cli_args *args, const char **value)
{
    *value = NULL;
    if (args->next >= args->argc)
        return CLI_ARG_END;
    const char *arg = args->argv[args->next++];
    /* "-" alone is a file name (standard input), not an option. */
    if (args->options_ended || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return CLI_ARG_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        args->options_ended = 1;
        return cli_args_next(args, value);
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        return CLI_ARG_HELP;
    const char *equals = strchr(arg, '=');
    const size_t name_len = equals ? (size_t)(equals - arg) : strlen(arg);
    const cli_option *o = find_option(args->options, arg, name_len);
    if (!o) {
        cli_usage_error(args->command, "%s: unknown option '%.*s'", args->command, (int)name_len,
                        arg);
        return CLI_ARG_ERROR;
    }
    if (!o->value_name) {
        if (equals) {
            cli_usage_error(args->command, "option %s takes no value", o->name);
            return CLI_ARG_ERROR;
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
        return CLI_ARG_ERROR;
    }
    return o->id;
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
    {"demo", "solve a built-in 2-D problem and optionally draw it as SVG", cmd_demo},
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
        fprintf(out, "  %-11s %s\n", c->name, c->summary);
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
