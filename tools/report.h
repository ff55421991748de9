/*
 * report.h — what the commands that solve a Sinkhorn problem share: the run
 * (with a progress line on a terminal) and the JSON report of its result.
 * `otk sinkhorn` and `otk demo` print it; the keys are listed in otk.1,
 * section OUTPUT.
 */
#ifndef OTK_TOOLS_REPORT_H
#define OTK_TOOLS_REPORT_H

#include <stddef.h>
#include <otkit.h>

/* The progress line on stderr (a terminal): one line redrawn in place with
 * '\r', at most every 0.1 s and at the first update of each stage
 * (otk_stage: the multiscale clusters show), erased by cli_progress_end.
 * cli_progress_report is an otk_progress_fn (params.progress, ctx the line)
 * that never stops the solve. */
typedef struct {
    double start, last_drawn;
    int width; /* of the text on screen, to blank it out */
    int stage; /* drawn last; -1 before the first */
} cli_progress_line;
void cli_progress_begin(cli_progress_line *line);
int cli_progress_report(const otk_progress *info, void *ctx);
void cli_progress_end(cli_progress_line *line);

/* set, iterate until done, get_result; with a progress line on stderr when
 * `show_progress` (stderr is a terminal).  init_f (n) and init_g (m), both
 * or neither, are a warm start (otk_sinkhorn_set_potentials, GeomLoss gauge).  Returns OTK_SUCCESS or
 * OTK_NOT_CONVERGED with `res` and `seconds` (wall time of the whole solve)
 * filled, or a negative status after printing "otk: " + otk_last_error(). */
otk_status cli_sinkhorn_run(otk_sinkhorn *solver, const double *a, const double *b,
                            const double *init_f, const double *init_g, int show_progress,
                            otk_sinkhorn_result *res, double *seconds);

/* Everything the JSON report of a solve says. */
typedef struct {
    const otk_cost *cost;
    size_t d;     /* dimension of the points; 0 for a cost matrix (printed as null) */
    double power; /* P of lp / lp-over-p; NAN otherwise (printed as null) */
    const otk_sinkhorn_params *params;
    const otk_sinkhorn_result *result;
    double seconds;
    /* A distributed solve (launch_mpi.c) has no cost object: with cost NULL
     * these give the cost's name, exponent p and sizes; ranks > 0 adds the
     * key "ranks". */
    const char *cost_name;
    double p;
    size_t n, m;
    int ranks;
    int warm_start; /* the solve started from --init's potentials */
} cli_sinkhorn_report;

/* Print the report as one JSON object on stdout, led by "problem": PROBLEM
 * unless `problem` is NULL.  Write errors on stdout are caught once, by main. */
void cli_sinkhorn_print_json(const char *problem, const cli_sinkhorn_report *report);

#endif /* OTK_TOOLS_REPORT_H */
