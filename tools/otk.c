/*
 * otk — the otkit command-line tool: reads point clouds, weights and cost
 * matrices from text (CSV, whitespace- or tab-separated) or .npy files,
 * solves with otkit and prints one JSON object on stdout (docs/design.md, "The command-line tool";
 * the manual is otk.1).
 *
 * This file is the subcommand table, --version, --help and main.  The layers
 * below it: cli.c (errors, the argument loop, option values), options.c (the
 * option groups the solver commands share), the readers and writers
 * (read*.c, image.c, write.c), report.c and json.c; each cmd_*.c is one
 * subcommand and calls only those layers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "image.h"

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
    {"emd", "exact optimal transport (network simplex): value, sparse plan, dual potentials",
     cmd_emd},
    {"sliced", "sliced (and 1-D) Wasserstein distance by sorting, with gradients", cmd_sliced},
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
