/*
 * cli.h — declarations shared by the parts of the otk command-line tool:
 * exit statuses, error reporting, option parsing, and the Sinkhorn run and
 * report that `otk sinkhorn` and `otk demo` have in common.
 *
 * The tool uses otkit's public API only (<otkit.h>), like any other program.
 */
#ifndef OTK_TOOLS_CLI_H
#define OTK_TOOLS_CLI_H

#include <stddef.h>
#include <otkit.h>

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* Exit statuses, documented in otk.1; scripts rely on them. */
enum {
    CLI_EXIT_SOLVED = 0,
    CLI_EXIT_BAD_INPUT = 2,    /* bad option or input file, library error, I/O error */
    CLI_EXIT_NOT_CONVERGED = 3 /* stopped at --max-iter; the JSON is still printed */
};

/* ------------------------------------------------------------------ errors */

/* Print "otk: MESSAGE" and a newline on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/* A usage error of `otk COMMAND` (NULL: of otk itself): the message, then a
 * hint to its --help.  Returns -1, so that a parser can
 * `return cli_usage_error(...);`. */
int cli_usage_error(const char *command, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ------------------------------------------------------------------ options */

/* One long option of a subcommand.  `value_name` is NULL for a flag. */
typedef struct {
    const char *name;       /* with the dashes: "--eps" */
    const char *value_name; /* "E", or NULL */
    int id;                 /* returned by cli_args_next */
} cli_option;

/* What cli_args_next returns besides an option id (ids are >= 0). */
enum {
    CLI_ARG_END = -1,        /* no more arguments */
    CLI_ARG_ERROR = -2,      /* reported on stderr */
    CLI_ARG_POSITIONAL = -3, /* *value is the argument */
    CLI_ARG_HELP = -4        /* -h or --help */
};

/* Options may come before, between or after the positional arguments, as
 * "--name VALUE" or "--name=VALUE"; "--" ends the options. */
typedef struct {
    int argc;
    char **argv;
    int next;
    int options_ended;
    const char *command;
    const cli_option *options; /* terminated by an entry with name NULL */
} cli_args;

void cli_args_init(cli_args *args, const char *command, const cli_option *options, int argc,
                   char **argv);
int cli_args_next(cli_args *args, const char **value);

/* Strict conversions of an option's value: the whole text must be the
 * number.  On failure they report "--option: expected ..., found TEXT" and
 * return -1. */
int cli_parse_real(const char *command, const char *option, const char *text, double *value);
int cli_parse_positive(const char *command, const char *option, const char *text,
                       double *value); /* finite and > 0 */
int cli_parse_int(const char *command, const char *option, const char *text, int lowest,
                  int *value);

/* ------------------------------------------------------------------ time */

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for durations only. */
double cli_monotonic_seconds(void);

/* ------------------------------------------------------------------ Sinkhorn run (cmd_sinkhorn.c)
 */

/* set, iterate until done, get_result; with a progress line on stderr when
 * `show_progress` (stderr is a terminal).  Returns OTK_SUCCESS or
 * OTK_NOT_CONVERGED with `res` and `seconds` (wall time of the whole solve)
 * filled, or a negative status after printing "otk: " + otk_last_error(). */
otk_status cli_sinkhorn_run(otk_sinkhorn *solver, const double *a, const double *b,
                            int show_progress, otk_sinkhorn_result *res, double *seconds);

/* Everything the JSON report of a solve says. */
typedef struct {
    const otk_cost *cost;
    size_t d;     /* dimension of the points; 0 for a cost matrix (printed as null) */
    double power; /* P of lp / lp-over-p; NAN otherwise (printed as null) */
    const otk_sinkhorn_params *params;
    const otk_sinkhorn_result *result;
    double seconds;
} cli_sinkhorn_report;

/* Print the report as one JSON object on stdout (the keys listed in otk.1,
 * section OUTPUT), led by "problem": PROBLEM unless `problem` is NULL.  Write
 * errors on stdout are caught once, by main. */
void cli_sinkhorn_print_json(const char *problem, const cli_sinkhorn_report *report);

/* ------------------------------------------------------------------ subcommands */

/* Each takes argv with argv[0] the subcommand's name and returns the exit status. */
int cmd_sinkhorn(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_divergence(int argc, char **argv);

#endif /* OTK_TOOLS_CLI_H */
