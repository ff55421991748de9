/*
 * cli.h — the ground floor of the otk command-line tool: exit statuses, error
 * messages, the argument loop, strict conversions of option values and the
 * clock.  cli.c calls nothing else in tools/; every other file may call it.
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

/* The exit status of a batch solve that returned `st` (OTK_SUCCESS or
 * OTK_NOT_CONVERGED), after its JSON: at OTK_NOT_CONVERGED the message of
 * cli_error_not_converged for the problem with the largest marginal error
 * among those that stopped at --max-iter.  res: B results of `size` bytes
 * each, their status, marginal error and ε at the given offsets (one
 * function for otk_sinkhorn_result and otk_divergence_result: use
 * CLI_BATCH_EXIT). */
int cli_batch_exit(int st, const void *res, size_t B, size_t size, size_t status_off,
                   size_t error_off, size_t eps_off, double tol, int max_iter);
#define CLI_BATCH_EXIT(st, res, B, type, tol, max_iter)                                        \
    cli_batch_exit((st), (res), (B), sizeof(type), offsetof(type, status),                     \
                   offsetof(type, marginal_error), offsetof(type, eps), (tol), (max_iter))

/* ------------------------------------------------------------------ the argument loop */

/* One long option.  `value_name` is NULL for a flag. */
typedef struct {
    const char *name;       /* with the dashes: "--eps" */
    const char *value_name; /* "E", or NULL */
    int id;                 /* passed to the table's apply function */
} cli_option;

/* The id apply receives for a positional argument (option ids are >= 0). */
enum { CLI_ARG_POSITIONAL = -3 };

/* Called for each option, with its id and value (NULL for a flag), and for
 * each positional argument, with id CLI_ARG_POSITIONAL.  Returns 0, or -1
 * after reporting a usage error. */
typedef int (*cli_apply_fn)(void *request, int id, const char *value);

/* An option table (terminated by an entry with name NULL) and where its
 * options go. */
typedef struct {
    const cli_option *options;
    cli_apply_fn apply;
    void *request;
} cli_option_table;

/* The argument loop of every subcommand; argv[0] is the subcommand.  An option
 * is looked up in tables[0], then tables[1], ... (`count` tables); positional
 * arguments go to the apply function of tables[positional].  Options may come
 * before, between or after the positional arguments, as "--name VALUE" or
 * "--name=VALUE"; "--" ends the options, and "-" alone is a positional
 * argument (standard input).  -h or --help prints `usage` on stdout and stops.
 * Returns 0 when every argument was applied, 1 when the help was printed, -1
 * on a usage error (reported). */
int cli_args_parse(const char *command, const char *usage, const cli_option_table *tables,
                   size_t count, size_t positional, int argc, char **argv);

/* ------------------------------------------------------------------ option values */

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

/* A name of the enum `kind` (otkit/names.h: the library's table, the one
 * list of names); otherwise "OPTION: unknown ... (expected a, b or c, found
 * 'TEXT')" and -1. */
int cli_parse_name(const char *command, const char *option, const char *kind, const char *text,
                   int *value);
/* --schedule and --cost (a ground cost), typed.  Each returns 0 or -1. */
int cli_parse_schedule(const char *command, const char *text, otk_schedule *schedule);
int cli_parse_ground(const char *command, const char *text, otk_ground *ground);
/* --cost lp and lp-over-p need --power P, and the other costs take none;
 * `power` is NAN when --power was not given. */
int cli_check_ground_power(const char *command, otk_ground ground, double power);

/* ------------------------------------------------------------------ time */

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for durations only. */
double cli_monotonic_seconds(void);

#endif /* OTK_TOOLS_CLI_H */
