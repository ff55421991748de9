/*
 * options.h — the option groups that the solver commands share, parsed once
 * into one struct with one meaning and one message for each option.  A
 * command names the groups it takes; its own options come in its own table,
 * looked up first.  Every positional argument (an input file) is collected
 * here too.
 */
#ifndef OTK_TOOLS_OPTIONS_H
#define OTK_TOOLS_OPTIONS_H

#include <stddef.h>
#include <otkit.h>
#include "cli.h"
#include "read.h"

/* The groups, to be or-ed together. */
enum {
    CLI_GROUP_WEIGHTS = 1 << 0,  /* --a A, --b B: weight files */
    CLI_GROUP_GROUND = 1 << 1,   /* --cost NAME, --power P */
    CLI_GROUP_EPS = 1 << 2,      /* --eps E > 0 */
    CLI_GROUP_BLUR = 1 << 3,     /* --blur B > 0 (with --eps: not both) */
    CLI_GROUP_STOP = 1 << 4,     /* --tol T > 0, --max-iter N >= 1 */
    CLI_GROUP_SCHEDULE = 1 << 5, /* --schedule converge|fixed, --scaling 0 < S < 1 */
    CLI_GROUP_THREADS = 1 << 6,  /* --threads K >= 0 */
    CLI_GROUP_CACHE = 1 << 7,    /* --cache-mb MB */
    CLI_GROUP_INPUT = 1 << 8,    /* --header, --index-col, --delimiter C: text files */
    CLI_GROUP_SCALE = 1 << 9,    /* --relative-eps F, --relative-to STAT, --scale-cost S|STAT */
    CLI_GROUP_BACKEND = 1 << 10  /* --backend auto|online|dense|multiscale, --truncate T */
};

/* The lines of a command's --help that present CLI_GROUP_SCALE. */
#define CLI_SCALE_OPTIONS_HELP                                                               \
    "  --relative-eps F eps = F x STAT(C) (OTT's relative_epsilon; not with --eps\n"        \
    "                   or --blur)\n"                                                      \
    "  --relative-to STAT  mean (default), std, max_cost or median of the cost\n"           \
    "  --scale-cost S   solve for C/S: a number or a STAT (OTT's scale_cost); eps,\n"       \
    "                   blur^p, rho, reach^p are in units of C/S, what is reported\n"      \
    "                   in units of C\n"

/* Copy the CLI_GROUP_SCALE values given into a solver's params (any struct
 * with relative_eps, relative_to, scale_cost, scale_cost_stat). */
#define CLI_APPLY_SCALE(common, par)                                                         \
    do {                                                                                     \
        if (!isnan((common)->relative_eps))                                                  \
            (par)->relative_eps = (common)->relative_eps;                                    \
        if ((common)->relative_to != -1)                                                     \
            (par)->relative_to = (otk_relative_to)(common)->relative_to;                     \
        if (!isnan((common)->scale_cost))                                                    \
            (par)->scale_cost = (common)->scale_cost;                                        \
        (par)->scale_cost_stat = (common)->scale_cost_stat;                                  \
    } while (0)

/* The lines of a command's --help that present CLI_GROUP_BACKEND. */
#define CLI_BACKEND_OPTIONS_HELP                                                             \
    "  --backend B      auto (default), online, dense or multiscale: how the soft-mins\n"     \
    "                   run (otk(1), BACKENDS); auto is multiscale for point files\n"         \
    "                   with d <= 3 and n*m >= 1e8, online otherwise\n"                       \
    "  --truncate T     multiscale: keep the blocks of cluster pairs whose bound of\n"        \
    "                   f + g - C is >= -T*eps (T > 0, or inf; default 12)\n"

/* The lines of a command's --help that present CLI_GROUP_INPUT. */
#define CLI_INPUT_OPTIONS_HELP                                                               \
    "  --header         the first line of each text input is a header row\n"                 \
    "  --index-col      skip the first column of each text input (an index)\n"               \
    "  --delimiter C    ',', ';', tab or space (default: detected; see otk(1),\n"            \
    "                   INPUT FILES: headers and pandas' index are detected too)\n"

/* The most positional arguments kept (more are counted in npaths). */
#define CLI_MAX_PATHS 64

/* What the shared options asked for.  A value not given keeps the "not
 * given" state noted beside it, so that each command applies its own
 * default. */
typedef struct {
    unsigned groups;
    const char *paths[CLI_MAX_PATHS]; /* positional arguments, in order */
    int npaths;                       /* all of them, also those past CLI_MAX_PATHS */
    const char *a_path, *b_path;      /* NULL: uniform weights */
    otk_ground ground;                /* OTK_GROUND_SQEUCLIDEAN unless --cost */
    int given_cost;
    double power;                     /* NAN unless --power */
    double eps, blur;                 /* NAN unless given */
    double tol;                       /* NAN unless given */
    int max_iter;                     /* 0 unless given */
    otk_schedule schedule;            /* OTK_SCHEDULE_CONVERGE unless --schedule */
    int given_schedule;
    double scaling;                   /* NAN unless given */
    int threads;                      /* 0 (OpenMP's default) unless given */
    size_t cache_bytes;               /* 0 unless given */
    int given_cache;
    double relative_eps, scale_cost;  /* NAN unless given */
    int relative_to, scale_cost_stat; /* -1 unless given (an otk_relative_to) */
    otk_backend backend;              /* OTK_BACKEND_AUTO unless --backend */
    double truncate;                  /* NAN unless --truncate (inf allowed) */
    cli_read_options read;            /* how text inputs are read */
} cli_common;

/* Parse argv (argv[0] is the subcommand) with the command's own `options`
 * (applied to `request` by `apply`; NULL options: none) and the shared
 * `groups` (into `common`, which this initialises).  Checks what the groups
 * alone can check (--eps with --blur).  Returns 0, 1 when --help was
 * printed, -1 on a usage error (reported). */
int cli_parse_command(const char *command, const char *usage, const cli_option *options,
                      cli_apply_fn apply, void *request, unsigned groups, cli_common *common,
                      int argc, char **argv);

/* Refuse anything but exactly `count` positional arguments, with the
 * message "expected WHAT" (and "too many arguments: expected WHAT").
 * Returns 0 or -1 (reported). */
int cli_expect_paths(const char *command, const cli_common *common, int count, const char *what);

/* The transport problem of a solver command: two point files (the first two
 * positional arguments) or the --cost-matrix file, and the weights --a/--b
 * (empty = uniform), whose counts are checked against the points or the
 * matrix's rows and columns with a message naming both.  A zero-initialised
 * cli_problem is empty and may be freed. */
typedef struct {
    cli_matrix x, y;        /* points, n×d and m×d */
    cli_matrix cost_matrix; /* n×m */
    cli_matrix a, b;        /* weights, n×1 and m×1; empty = uniform */
    size_t n, m, d;         /* d = 0 for a cost matrix */
    /* A batch (allow_batch): B problems of n and m points, x and y B·n and
     * B·m rows, a and b B×n and B×m tables (cli_read_point_cloud_batches,
     * cli_read_batch_weights); 0 for one problem. */
    size_t batch;
} cli_problem;

/* Read it; cost_matrix_path NULL reads point clouds, which may be 3-D .npy
 * batches when allow_batch is nonzero.  Returns 0, or -1 after cli_error. */
int cli_read_problem(const cli_common *common, const char *cost_matrix_path, int allow_batch,
                     cli_problem *pb);
void cli_problem_free(cli_problem *pb);

#endif /* OTK_TOOLS_OPTIONS_H */
