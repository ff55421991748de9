/*
 * cli.c — errors, the argument loop, option values and the clock (cli.h).
 * Calls nothing else in tools/.
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

int cli_batch_exit(int st, const void *res, size_t B, size_t size, size_t status_off,
                   size_t error_off, size_t eps_off, double tol, int max_iter)
{
    if (st != OTK_NOT_CONVERGED)
        return CLI_EXIT_SOLVED;
    double worst = 0.0, eps = NAN;
    for (size_t k = 0; k < B; k++) {
        const unsigned char *r = (const unsigned char *)res + k * size;
        otk_status status;
        double error;
        memcpy(&status, r + status_off, sizeof status);
        memcpy(&error, r + error_off, sizeof error);
        if (status == OTK_NOT_CONVERGED && !(error <= worst)) {
            worst = error;
            memcpy(&eps, r + eps_off, sizeof eps);
        }
    }
    cli_error_not_converged(worst, tol, max_iter, eps);
    return CLI_EXIT_NOT_CONVERGED;
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
    const cli_option_table *tables;
    size_t count;
} cli_args;

static const cli_option *find_option(const cli_option *options, const char *name, size_t len)
{
    for (const cli_option *o = options; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

/* The next argument: an option id (>= 0) with *table set to the index of its
 * table, CLI_ARG_POSITIONAL, or one of ARG_END, ARG_ERROR, ARG_HELP. */
static int args_next(cli_args *args, const char **value, size_t *table)
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
        return args_next(args, value, table);
    }
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        return ARG_HELP;
    const char *equals = strchr(arg, '=');
    const size_t name_len = equals ? (size_t)(equals - arg) : strlen(arg);
    const cli_option *o = NULL;
    for (*table = 0; *table < args->count && !o; ++*table)
        o = find_option(args->tables[*table].options, arg, name_len);
    --*table;
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

int cli_args_parse(const char *command, const char *usage, const cli_option_table *tables,
                   size_t count, size_t positional, int argc, char **argv)
{
    cli_args args = {argc, argv, 1 /* argv[0] is the subcommand */, 0, command, tables, count};
    const char *value;
    size_t table = 0;
    int id;
    while ((id = args_next(&args, &value, &table)) != ARG_END) {
        if (id == ARG_ERROR)
            return -1;
        if (id == ARG_HELP) {
            fputs(usage, stdout);
            return 1;
        }
        const cli_option_table *t = &tables[id == CLI_ARG_POSITIONAL ? positional : table];
        if (t->apply(t->request, id, value) < 0)
            return -1;
    }
    return 0;
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

int cli_parse_name(const char *command, const char *option, const char *kind, const char *text,
                   int *value)
{
    if (otk_enum_from_name(kind, text, value) == OTK_SUCCESS)
        return 0;
    /* "a, b or c" from the library's table. */
    size_t count = 0;
    const char *const *names = otk_enum_names(kind, &count);
    char expected[256] = "";
    size_t len = 0;
    for (size_t k = 0; k < count && len < sizeof expected; k++)
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s%s",
                                k == 0 ? "" : k + 1 < count ? ", " : " or ", names[k]);
    return cli_usage_error(command, "%s: unknown %s '%s' (expected %s, found '%s')", option,
                           option + 2, text, expected, text);
}

int cli_parse_schedule(const char *command, const char *text, otk_schedule *schedule)
{
    int v;
    if (cli_parse_name(command, "--schedule", "schedule", text, &v) < 0)
        return -1;
    *schedule = (otk_schedule)v;
    return 0;
}

int cli_parse_ground(const char *command, const char *text, otk_ground *ground)
{
    int v;
    if (cli_parse_name(command, "--cost", "ground", text, &v) < 0)
        return -1;
    *ground = (otk_ground)v;
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

