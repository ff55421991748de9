/*
 * report.c — the Sinkhorn run with its progress line and the JSON report of
 * a Sinkhorn result, which every command that solves one prints (report.h).
 */
#include <math.h>
#include <stdio.h>
#include "cli.h"
#include "json.h"
#include "report.h"

/* ------------------------------------------------------------------ the run */

static void progress_draw(cli_progress_line *line, const otk_progress *info, double now)
{
    char text[160];
    int len;
    /* No marginal error is measured while annealing; the multiscale
     * backend anneals on its clusters first. */
    if (isnan(info->marginal_error))
        len = snprintf(text, sizeof text, "otk: %s, iteration %d, eps %.3g, %.1f s",
                       info->stage == OTK_STAGE_CLUSTERS ? "annealing on clusters" : "annealing",
                       info->iterations, info->eps, now - line->start);
    else
        len =
            snprintf(text, sizeof text, "otk: iteration %d, eps %.3g, marginal error %.3g, %.1f s",
                     info->iterations, info->eps, info->marginal_error, now - line->start);
    if (len < 0)
        return;
    /* ASCII only, so that bytes = columns and the padding blanks the rest. */
    fprintf(stderr, "\r%s%*s", text, line->width > len ? line->width - len : 0, "");
    fflush(stderr);
    line->width = len > line->width ? len : line->width;
    line->last_drawn = now;
    line->stage = (int)info->stage;
}

void cli_progress_begin(cli_progress_line *line)
{
    line->start = line->last_drawn = cli_monotonic_seconds();
    line->width = 0;
    line->stage = -1;
}

int cli_progress_report(const otk_progress *info, void *ctx)
{
    cli_progress_line *line = ctx;
    const double now = cli_monotonic_seconds();
    if (now - line->last_drawn >= 0.1 || (int)info->stage != line->stage)
        progress_draw(line, info, now);
    return 0;
}

void cli_progress_end(cli_progress_line *line)
{
    if (line->width > 0) {
        fprintf(stderr, "\r%*s\r", line->width, "");
        fflush(stderr);
    }
}

otk_status cli_sinkhorn_run(otk_sinkhorn *solver, const double *a, const double *b,
                            const double *init_f, const double *init_g, int show_progress,
                            otk_sinkhorn_result *res, double *seconds)
{
    cli_progress_line line;
    cli_progress_begin(&line);
    otk_status st = otk_sinkhorn_set(solver, a, b);
    if (st >= 0 && (init_f || init_g))
        st = otk_sinkhorn_set_potentials(solver, init_f, init_g);
    if (st < 0) {
        cli_error("%s", otk_last_error());
        return st;
    }
    while ((st = otk_sinkhorn_iterate(solver)) == OTK_CONTINUE) {
        if (show_progress) {
            otk_progress info;
            otk_sinkhorn_progress_info(solver, &info);
            cli_progress_report(&info, &line);
        }
    }
    cli_progress_end(&line);
    if (st < 0) {
        cli_error("%s", otk_last_error());
        return st;
    }
    const otk_status result_status = otk_sinkhorn_get_result(solver, res);
    *seconds = cli_monotonic_seconds() - line.start;
    if (result_status < 0) {
        cli_error("%s", otk_last_error());
        return result_status;
    }
    return st;
}

/* ------------------------------------------------------------------ report */

static void report_members(json_writer *w, const cli_sinkhorn_report *report)
{
    const otk_sinkhorn_result *res = report->result;
    const otk_sinkhorn_params *par = report->params;
    json_string(w, "status", res->status == OTK_SUCCESS ? "ok" : "not_converged");
    json_number(w, "ot_kl", res->ot_kl);
    json_number(w, "ot_ent", res->ot_ent);
    json_number(w, "ot_lin", res->ot_lin);
    json_number(w, "eps", res->eps);
    json_number(w, "scale_cost", res->scale_cost);
    json_number(w, "rho_a", res->rho_a); /* ρ = ∞ (balanced) prints as null */
    json_number(w, "rho_b", res->rho_b);
    json_number(w, "marginal_error", res->marginal_error);
    json_integer(w, "iterations", res->iterations);
    json_integer(w, "annealing_iterations", res->annealing_iterations);
    const otk_cost *c = report->cost;
    json_string(w, "cost", c ? otk_cost_name(c) : report->cost_name);
    json_number(w, "power", report->power);
    json_number(w, "p", c ? otk_cost_exponent(c) : report->p);
    json_integer(w, "n", (long long)(c ? otk_cost_rows(c) : report->n));
    json_integer(w, "m", (long long)(c ? otk_cost_cols(c) : report->m));
    if (report->d > 0)
        json_integer(w, "d", (long long)report->d);
    else
        json_null(w, "d");
    json_string(w, "schedule", otk_schedule_name(par->schedule));
    json_string(w, "update", otk_update_name(res->update)); /* AUTO resolved */
    json_number(w, "scaling", par->scaling);
    json_number(w, "tol", par->tol);
    json_integer(w, "max_iter", par->max_iter);
    json_number(w, "mass_a", res->mass_a);
    json_number(w, "mass_b", res->mass_b);
    json_number(w, "seconds", report->seconds);
    json_integer(w, "threads", par->threads);
    json_integer(w, "cache_bytes", (long long)otk_cost_cache_bytes(c));
    json_string(w, "backend", otk_backend_name(res->backend)); /* AUTO resolved */
    json_number(w, "truncation_bound", res->truncation_bound);
    json_string(w, "otkit_version", otk_version_string());
    if (report->ranks > 0)
        json_integer(w, "ranks", report->ranks);
    json_boolean(w, "warm_start", report->warm_start);
}

void cli_sinkhorn_print_json(const char *problem, const cli_sinkhorn_report *report)
{
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    if (problem)
        json_string(&w, "problem", problem);
    report_members(&w, report);
    json_object_end(&w);
}

