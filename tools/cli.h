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

/* The message of exit status 3, after the JSON has been printed: the solve
 * stopped at --max-iter with the marginal error still above --tol. */
void cli_error_not_converged(double marginal_error, double tol, int max_iter, double eps);

/* ------------------------------------------------------------------ options */

/* One long option of a subcommand.  `value_name` is NULL for a flag. */
typedef struct {
    const char *name;       /* with the dashes: "--eps" */
    const char *value_name; /* "E", or NULL */
    int id;                 /* passed to apply (cli_args_parse) */
} cli_option;

/* The id apply receives for a positional argument (option ids are >= 0). */
enum { CLI_ARG_POSITIONAL = -3 };

/* Called by cli_args_parse for each option, with its id and value (NULL for a
 * flag), and for each positional argument, with id CLI_ARG_POSITIONAL.
 * Returns 0, or -1 after reporting a usage error. */
typedef int (*cli_apply_fn)(void *request, int id, const char *value);

/* The argument loop of every subcommand; argv[0] is the subcommand.  Options
 * may come before, between or after the positional arguments, as
 * "--name VALUE" or "--name=VALUE"; "--" ends the options, and "-" alone is a
 * positional argument (standard input).  -h or --help prints `usage` on
 * stdout and stops.  Returns 0 when every argument was applied, 1 when the
 * help was printed, -1 on a usage error (reported). */
int cli_args_parse(const char *command, const char *usage, const cli_option *options, int argc,
                   char **argv, cli_apply_fn apply, void *request);

/* The positional arguments of `otk sinkhorn` and `otk divergence`: the point
 * files X and Y.  More are counted, not refused at once, so that each
 * subcommand decides after the options which message fits (with --cost-matrix,
 * sinkhorn takes none). */
typedef struct {
    const char *x_path, *y_path; /* NULL until given */
    int extra;
} cli_point_paths;

void cli_point_paths_add(cli_point_paths *paths, const char *path);

/* Strict conversions of an option's value: the whole text must be the
 * number.  On failure they report "--option: expected ..., found TEXT" and
 * return -1. */
int cli_parse_real(const char *command, const char *option, const char *text, double *value);
int cli_parse_positive(const char *command, const char *option, const char *text,
                       double *value); /* finite and > 0 */
int cli_parse_int(const char *command, const char *option, const char *text, int lowest,
                  int *value);
/* A memory budget given in MiB, in [0, 1048576] (1 TiB), as bytes. */
int cli_parse_mib(const char *command, const char *option, const char *text, size_t *bytes);
int cli_parse_fraction(const char *command, const char *option, const char *text,
                       double *value); /* 0 < value < 1 */

/* The option values that sinkhorn and divergence share, with the same
 * messages in both.  Each returns 0, or -1 after a usage error. */
int cli_parse_schedule(const char *command, const char *text, otk_schedule *schedule);
int cli_parse_ground(const char *command, const char *text, otk_ground *ground); /* --cost */
/* --cost lp and lp-over-p need --power P, and the other costs take none;
 * `power` is NAN when --power was not given. */
int cli_check_ground_power(const char *command, otk_ground ground, double power);

/* The --schedule name of a schedule, for the JSON reports. */
const char *cli_schedule_name(otk_schedule schedule);

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
int cmd_grid(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_divergence(int argc, char **argv);
int cmd_sinkd(int argc, char **argv);
int cmd_monge_gap(int argc, char **argv);    /* cmd_monge_gap.c */
int cmd_entropic_map(int argc, char **argv); /* cmd_entropic_map.c */
int cmd_mesh(int argc, char **argv);
int cmd_fit_map(int argc, char **argv);   /* cmd_mapfit.c */
int cmd_apply_map(int argc, char **argv); /* cmd_mapfit.c */
int cmd_fdiv(int argc, char **argv);      /* cmd_fdiv.c */

#endif /* OTK_TOOLS_CLI_H */
