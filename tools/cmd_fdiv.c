/*
 * `otk fdiv`: f-divergences between the rows of two B×K tables of
 * probabilities or logits (otkit/fdiv.h), with gradients on request; with
 * --psi the population stability index of two samples (or of two count
 * histograms), with --iv the information value of a feature for a binary
 * outcome.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "options.h"
#include "read.h"
#include "write.h"

static const char fdiv_usage[] =
    "Usage: otk fdiv P Q [OPTIONS]\n"
    "       otk fdiv --psi REFERENCE ACTUAL [BINNING OPTIONS]\n"
    "       otk fdiv --iv X Y [BINNING OPTIONS]\n"
    "\n"
    "The f-divergence D_f(p || q) = sum_k q_k f(p_k/q_k) between the rows of P and\n"
    "Q, two B x K tables (CSV or NumPy .npy, as for otk sinkhorn) of probabilities\n"
    "(rows used as given) or of logits (p = softmax(P/tau) row-wise), printed as\n"
    "one JSON object.  For distillation give the teacher as P, the student as Q.\n"
    "\n"
    "Divergence:\n"
    "  --kind NAME      kl (default), reverse-kl, jeffreys, js, tv, hellinger\n"
    "                   (sum (sqrt p - sqrt q)^2), pearson, neyman, alpha\n"
    "  --alpha A        Amari's alpha for --kind alpha (required there): -1 is\n"
    "                   KL(p||q), +1 is KL(q||p), 0 is 2 * hellinger\n"
    "  --logits         P and Q are logits (default: probabilities)\n"
    "  --tau T          softmax temperature with --logits, > 0 (default 1)\n"
    "  --tau2           multiply by tau^2 (Hinton's KD scaling), with --logits\n"
    "  --smoothing S    mix each probability row with the uniform row of the same\n"
    "                   mass: (1 - S) r + S sum(r)/K, S in [0, 1) (default 0);\n"
    "                   without it a support mismatch can give +infinity (null)\n"
    "  --reduction R    mean (default) over the rows, sum, or none\n"
    "  --rows F         the B row values (CSV, one per line)\n"
    "  --grad-p F       d value / d P, B rows of K values (CSV)\n"
    "  --grad-q F       d value / d Q\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    "  --header, --index-col, --delimiter C   how text inputs are read (otk.1,\n"
    "                   INPUT FILES)\n"
    "\n"
    "Binned data (--psi, --iv):\n"
    "  --psi            PSI = sum_i (a_i - e_i) ln(a_i/e_i) between the bin shares\n"
    "                   e of REFERENCE and a of ACTUAL (two samples, one value per\n"
    "                   line), binned from REFERENCE\n"
    "  --counts         with --psi: REFERENCE and ACTUAL are bin counts already\n"
    "  --iv             information value of the feature X for the outcome Y\n"
    "                   (0 = non-event/good, 1 = event/bad): WoE_i = ln(g_i/b_i),\n"
    "                   IV = sum_i (g_i - b_i) WoE_i, X binned over the whole sample\n"
    "  --bins M         number of bins, >= 1 (default 10)\n"
    "  --binning NAME   quantile (default; the reference's quantiles, NumPy's\n"
    "                   linear rule, tied edges merged), equal-width (over the\n"
    "                   reference's [min, max]), edges (with --edges)\n"
    "  --edges F        interior bin edges, strictly increasing (one per line);\n"
    "                   bins are right-closed (e_{i-1}, e_i], the outer ones reach\n"
    "                   -inf and +inf\n"
    "  --floor E        share given to an empty bin, in [0, 1) (default 1e-4)\n"
    "  --per-bin F      one row per bin: lower edge, upper edge, term (PSI) or\n"
    "                   WoE (IV) (CSV)\n"
    "\n"
    "  -h, --help       show this help\n"
    "\n"
    "JSON keys: status (\"ok\"), kind, value (null when infinite), reduction, input\n"
    "(probabilities or logits), tau, tau2, smoothing, alpha, B, K, threads;\n"
    "with --psi: psi, bins, binning, floor (and the count of each sample);\n"
    "with --iv: iv, bins, binning, floor, n, events; and seconds, otkit_version.\n"
    "\n"
    "Exit status: 0 computed, 2 bad option, bad input or I/O error.\n";

enum {
    OPT_KIND,
    OPT_ALPHA,
    OPT_LOGITS,
    OPT_TAU,
    OPT_TAU2,
    OPT_SMOOTHING,
    OPT_REDUCTION,
    OPT_ROWS,
    OPT_GRAD_P,
    OPT_GRAD_Q,
    OPT_PSI,
    OPT_COUNTS,
    OPT_IV,
    OPT_BINS,
    OPT_BINNING,
    OPT_EDGES,
    OPT_FLOOR,
    OPT_PER_BIN
};

static const cli_option fdiv_options[] = {
    {"--kind", "NAME", OPT_KIND},
    {"--alpha", "A", OPT_ALPHA},
    {"--logits", NULL, OPT_LOGITS},
    {"--tau", "T", OPT_TAU},
    {"--tau2", NULL, OPT_TAU2},
    {"--smoothing", "S", OPT_SMOOTHING},
    {"--reduction", "R", OPT_REDUCTION},
    {"--rows", "F", OPT_ROWS},
    {"--grad-p", "F", OPT_GRAD_P},
    {"--grad-q", "F", OPT_GRAD_Q},
    {"--psi", NULL, OPT_PSI},
    {"--counts", NULL, OPT_COUNTS},
    {"--iv", NULL, OPT_IV},
    {"--bins", "M", OPT_BINS},
    {"--binning", "NAME", OPT_BINNING},
    {"--edges", "F", OPT_EDGES},
    {"--floor", "E", OPT_FLOOR},
    {"--per-bin", "F", OPT_PER_BIN},
    {NULL, NULL, 0},
};

typedef struct {
    cli_common common;
    const char *p_path, *q_path;
    int logits, psi, counts, iv;
    int given_alpha, given_tau, given_tau2, given_smoothing, given_reduction, given_kind;
    int given_bins, given_binning, given_floor;
    const char *rows_path, *grad_p_path, *grad_q_path, *edges_path, *per_bin_path;
    otk_fdiv_params params;
    otk_bins_params bins;
} fdiv_request;

/* A library name table's parse, reported as a usage error of `option`. */
static int parse_named(const char *option, otk_status st)
{
    if (st != OTK_SUCCESS)
        return cli_usage_error("fdiv", "%s: %s", option, otk_last_error());
    return 0;
}

static int apply_argument(void *request, int id, const char *value)
{
    fdiv_request *req = request;
    otk_fdiv_params *par = &req->params;
    int bins = 0;
    switch (id) {
    case OPT_KIND:
        req->given_kind = 1;
        if (!strcmp(value, "custom"))
            return cli_usage_error("fdiv", "--kind custom needs a generator: use the C, Python "
                                           "or R interface");
        return parse_named("--kind", otk_fdiv_kind_from_name(value, &par->kind));
    case OPT_ALPHA:
        req->given_alpha = 1;
        if (cli_parse_real("fdiv", "--alpha", value, &par->alpha) < 0)
            return -1;
        if (!isfinite(par->alpha))
            return cli_usage_error("fdiv", "--alpha: expected a finite number, found %s", value);
        return 0;
    case OPT_LOGITS:
        req->logits = 1;
        return 0;
    case OPT_TAU:
        req->given_tau = 1;
        return cli_parse_positive("fdiv", "--tau", value, &par->tau);
    case OPT_TAU2:
        req->given_tau2 = 1;
        par->scale_tau2 = 1;
        return 0;
    case OPT_SMOOTHING:
        req->given_smoothing = 1;
        if (cli_parse_real("fdiv", "--smoothing", value, &par->smoothing) < 0)
            return -1;
        if (!(par->smoothing >= 0.0 && par->smoothing < 1.0))
            return cli_usage_error("fdiv", "--smoothing: expected a number in [0, 1), found %s",
                                   value);
        return 0;
    case OPT_REDUCTION:
        req->given_reduction = 1;
        return parse_named("--reduction", otk_reduction_kind_from_name(value, &par->reduction));
    case OPT_ROWS:
        req->rows_path = value;
        return 0;
    case OPT_GRAD_P:
        req->grad_p_path = value;
        return 0;
    case OPT_GRAD_Q:
        req->grad_q_path = value;
        return 0;
    case OPT_PSI:
        req->psi = 1;
        return 0;
    case OPT_COUNTS:
        req->counts = 1;
        return 0;
    case OPT_IV:
        req->iv = 1;
        return 0;
    case OPT_BINS:
        req->given_bins = 1;
        if (cli_parse_int("fdiv", "--bins", value, 1, &bins) < 0)
            return -1;
        req->bins.bins = (size_t)bins;
        return 0;
    case OPT_BINNING:
        req->given_binning = 1;
        return parse_named("--binning", otk_binning_from_name(value, &req->bins.binning));
    case OPT_EDGES:
        req->edges_path = value;
        return 0;
    case OPT_FLOOR:
        req->given_floor = 1;
        if (cli_parse_real("fdiv", "--floor", value, &req->bins.floor) < 0)
            return -1;
        if (!(req->bins.floor >= 0.0 && req->bins.floor < 1.0))
            return cli_usage_error("fdiv", "--floor: expected a number in [0, 1), found %s",
                                   value);
        return 0;
    case OPT_PER_BIN:
        req->per_bin_path = value;
        return 0;
    default:
        return -1;
    }
}

static int check_request(fdiv_request *req)
{
    if (req->psi && req->iv)
        return cli_usage_error("fdiv", "--psi and --iv exclude each other");
    const char *what = req->psi ? "two files REFERENCE and ACTUAL"
                       : req->iv ? "two files X and Y" : "two files P and Q";
    if (cli_expect_paths("fdiv", &req->common, 2, what) < 0)
        return -1;
    req->p_path = req->common.paths[0];
    req->q_path = req->common.paths[1];
    req->params.threads = req->common.threads;
    const int binned = req->psi || req->iv;
    if (binned) {
        if (req->given_kind || req->given_alpha || req->logits || req->given_tau ||
            req->given_tau2 || req->given_smoothing || req->given_reduction || req->rows_path ||
            req->grad_p_path || req->grad_q_path)
            return cli_usage_error("fdiv", "--kind, --alpha, --logits, --tau, --tau2, "
                                           "--smoothing, --reduction, --rows and --grad-p/q do "
                                           "not apply with --psi or --iv");
        if (req->counts && !req->psi)
            return cli_usage_error("fdiv", "--counts applies only with --psi");
        if (req->counts && (req->given_bins || req->given_binning || req->edges_path))
            return cli_usage_error("fdiv", "--bins, --binning and --edges do not apply with "
                                           "--counts (the counts are the bins)");
        if (req->bins.binning == OTK_BINNING_EDGES && !req->edges_path)
            return cli_usage_error("fdiv", "--binning edges needs --edges F");
        if (req->edges_path && !req->given_binning)
            req->bins.binning = OTK_BINNING_EDGES;
        if (req->edges_path && req->bins.binning != OTK_BINNING_EDGES)
            return cli_usage_error("fdiv", "--edges goes with --binning edges");
        if (req->edges_path && req->given_bins)
            return cli_usage_error("fdiv", "--bins and --edges exclude each other (the edges "
                                           "give the bins)");
        return 0;
    }
    if (req->counts || req->given_bins || req->given_binning || req->edges_path ||
        req->given_floor || req->per_bin_path)
        return cli_usage_error("fdiv", "--counts, --bins, --binning, --edges, --floor and "
                                       "--per-bin apply only with --psi or --iv");
    if (req->params.kind == OTK_FDIV_ALPHA && !req->given_alpha)
        return cli_usage_error("fdiv", "--kind alpha needs --alpha A");
    if (req->given_alpha && req->params.kind != OTK_FDIV_ALPHA)
        return cli_usage_error("fdiv", "--alpha applies only with --kind alpha");
    if (!req->logits && (req->given_tau || req->given_tau2))
        return cli_usage_error("fdiv", "--tau and --tau2 apply only with --logits");
    if (req->params.reduction == OTK_REDUCTION_NONE && !req->rows_path)
        return cli_usage_error("fdiv", "--reduction none needs --rows F (the row values)");
    if (req->logits && req->given_smoothing)
        return cli_usage_error("fdiv", "--smoothing applies to probabilities, not with "
                                       "--logits (logits give no zero probability)");
    return 0;
}

/* Write values as CSV to path atomically; 0 or -1 (reported). */
static int write_csv(const char *path, const char *header, const double *v, size_t rows,
                     size_t cols)
{
    cli_output out;
    memset(&out, 0, sizeof out);
    if (cli_output_open(&out, path) < 0)
        return -1;
    cli_write_table(out.stream, header, v, rows, cols);
    return cli_output_commit(&out);
}

static int run_divergence(const fdiv_request *req)
{
    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix p = {0, 0, NULL}, q = {0, 0, NULL};
    double *rows = NULL, *gp = NULL, *gq = NULL;
    if (cli_read_matrix(req->p_path, &req->common.read, &p) < 0 ||
        cli_read_matrix(req->q_path, &req->common.read, &q) < 0)
        goto done;
    if (p.rows != q.rows || p.cols != q.cols) {
        cli_error("P and Q must have the same shape: %s is %zu x %zu, %s is %zu x %zu",
                  req->p_path, p.rows, p.cols, req->q_path, q.rows, q.cols);
        goto done;
    }
    const size_t B = p.rows, K = p.cols;
    otk_fdiv_params par = req->params;
    const otk_reduction_kind red = par.reduction;
    par.reduction = OTK_REDUCTION_NONE; /* rows first, reduced below */
    rows = malloc((B ? B : 1) * sizeof *rows);
    gp = req->grad_p_path ? malloc(B * K * sizeof *gp) : NULL;
    gq = req->grad_q_path ? malloc(B * K * sizeof *gq) : NULL;
    if (!rows || (req->grad_p_path && !gp) || (req->grad_q_path && !gq)) {
        cli_error("out of memory for %zu x %zu values", B, K);
        goto done;
    }
    const double start = cli_monotonic_seconds();
    otk_status st = req->logits ? otk_fdiv_logits(&par, B, K, p.values, q.values, rows, NULL, NULL)
                                : otk_fdiv_probs(&par, B, K, p.values, q.values, rows, NULL, NULL);
    if (st == OTK_SUCCESS && (gp || gq)) {
        double v; /* one value: the rows' gradients are those of their sum */
        par.reduction = red == OTK_REDUCTION_NONE ? OTK_REDUCTION_SUM : red;
        st = req->logits ? otk_fdiv_logits(&par, B, K, p.values, q.values, &v, gp, gq)
                         : otk_fdiv_probs(&par, B, K, p.values, q.values, &v, gp, gq);
    }
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    double total = 0.0;
    for (size_t i = 0; i < B; i++)
        total += rows[i];
    if (red == OTK_REDUCTION_MEAN)
        total /= (double)B;
    if (req->rows_path && write_csv(req->rows_path, "the row values", rows, B, 1) < 0)
        goto done;
    if (gp && write_csv(req->grad_p_path, "gradient w.r.t. P", gp, B, K) < 0)
        goto done;
    if (gq && write_csv(req->grad_q_path, "gradient w.r.t. Q", gq, B, K) < 0)
        goto done;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", "ok");
    json_string(&w, "kind", otk_fdiv_kind_name(par.kind));
    if (red == OTK_REDUCTION_NONE)
        json_null(&w, "value"); /* the rows are in --rows */
    else
        json_number(&w, "value", total);
    json_string(&w, "reduction", otk_reduction_kind_name(red));
    json_string(&w, "input", req->logits ? "logits" : "probabilities");
    json_number(&w, "tau", req->logits ? par.tau : NAN);
    json_boolean(&w, "tau2", par.scale_tau2);
    json_number(&w, "smoothing", par.smoothing);
    json_number(&w, "alpha", par.kind == OTK_FDIV_ALPHA ? par.alpha : NAN);
    json_integer(&w, "B", (long long)B);
    json_integer(&w, "K", (long long)K);
    json_integer(&w, "threads", par.threads);
    json_number(&w, "seconds", seconds);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
    exit_status = CLI_EXIT_SOLVED;
done:
    free(rows);
    free(gp);
    free(gq);
    cli_matrix_free(&p);
    cli_matrix_free(&q);
    return exit_status;
}

/* The per-bin table: lower edge, upper edge, value. */
static int write_per_bin(const char *path, const char *header, const double *edges, size_t m,
                         const double *v)
{
    double *t = malloc(3 * m * sizeof *t);
    if (!t) {
        cli_error("out of memory for %zu bins", m);
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        t[3 * i] = i == 0 ? -INFINITY : edges[i - 1];
        t[3 * i + 1] = i + 1 == m ? INFINITY : edges[i];
        t[3 * i + 2] = v[i];
    }
    const int r = write_csv(path, header, t, m, 3);
    free(t);
    return r;
}

static int run_binned(fdiv_request *req)
{
    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix a = {0, 0, NULL}, b = {0, 0, NULL}, e = {0, 0, NULL};
    double *edges = NULL, *per = NULL;
    int *y = NULL;
    if (cli_read_vector(req->p_path, &req->common.read, &a) < 0 ||
        cli_read_vector(req->q_path, &req->common.read, &b) < 0)
        goto done;
    if (req->edges_path) {
        if (cli_read_vector(req->edges_path, &req->common.read, &e) < 0)
            goto done;
        req->bins.edges = e.values;
        req->bins.n_edges = e.rows;
    }
    const size_t room = req->counts ? a.rows
                        : req->bins.binning == OTK_BINNING_EDGES ? req->bins.n_edges + 1
                                                                 : req->bins.bins;
    edges = malloc(room * sizeof *edges);
    per = malloc(room * sizeof *per);
    if (!edges || !per) {
        cli_error("out of memory for %zu bins", room);
        goto done;
    }
    size_t m = 0, events = 0;
    double value = NAN;
    otk_status st;
    const double start = cli_monotonic_seconds();
    if (req->iv) {
        if (a.rows != b.rows) {
            cli_error("X and Y must have the same length: %s has %zu values, %s has %zu",
                      req->p_path, a.rows, req->q_path, b.rows);
            goto done;
        }
        if (!(y = malloc((b.rows ? b.rows : 1) * sizeof *y))) {
            cli_error("out of memory for %zu labels", b.rows);
            goto done;
        }
        for (size_t i = 0; i < b.rows; i++) {
            if (b.values[i] != 0.0 && b.values[i] != 1.0) {
                cli_error("%s: value %.17g (row %zu) is not 0 or 1", req->q_path, b.values[i],
                          i + 1);
                goto done;
            }
            y[i] = (int)b.values[i];
            events += (size_t)y[i];
        }
        st = otk_information_value(&req->bins, a.values, y, a.rows, &value, &m, edges, per);
    } else if (req->counts) {
        if (a.rows != b.rows) {
            cli_error("the count histograms must have the same number of bins: %s has %zu, %s "
                      "has %zu",
                      req->p_path, a.rows, req->q_path, b.rows);
            goto done;
        }
        m = a.rows;
        st = otk_psi_counts(m, a.values, b.values, req->bins.floor, &value, per);
    } else {
        st = otk_psi(&req->bins, a.values, a.rows, b.values, b.rows, &value, &m, edges, per);
    }
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (req->per_bin_path) {
        if (req->counts) /* no edges: bin numbers instead */
            for (size_t i = 0; i + 1 < m; i++)
                edges[i] = (double)i + 0.5;
        if (write_per_bin(req->per_bin_path,
                          req->iv ? "lower edge, upper edge, WoE = ln(g/b)"
                                  : "lower edge, upper edge, (a - e) ln(a/e)",
                          edges, m, per) < 0)
            goto done;
    }
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", "ok");
    json_number(&w, req->iv ? "iv" : "psi", value);
    json_integer(&w, "bins", (long long)m);
    json_string(&w, "binning", req->counts ? "counts" : otk_binning_name(req->bins.binning));
    json_number(&w, "floor", req->bins.floor);
    if (req->iv) {
        json_integer(&w, "n", (long long)a.rows);
        json_integer(&w, "events", (long long)events);
    } else if (!req->counts) {
        json_integer(&w, "n_reference", (long long)a.rows);
        json_integer(&w, "n_actual", (long long)b.rows);
    }
    json_number(&w, "seconds", seconds);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
    exit_status = CLI_EXIT_SOLVED;
done:
    free(edges);
    free(per);
    free(y);
    cli_matrix_free(&a);
    cli_matrix_free(&b);
    cli_matrix_free(&e);
    return exit_status;
}

int cmd_fdiv(int argc, char **argv)
{
    fdiv_request req;
    memset(&req, 0, sizeof req);
    otk_fdiv_params_default(&req.params);
    otk_bins_params_default(&req.bins);
    const int parsed = cli_parse_command("fdiv", fdiv_usage, fdiv_options, apply_argument, &req,
                                         CLI_GROUP_THREADS | CLI_GROUP_INPUT, &req.common, argc,
                                         argv);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;
    if (check_request(&req) < 0)
        return CLI_EXIT_BAD_INPUT;
    return req.psi || req.iv ? run_binned(&req) : run_divergence(&req);
}
