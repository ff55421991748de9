/*
 * `otk sinkd`: the SinKD batch-wise Sinkhorn distillation loss between student
 * and teacher logits (otkit/distill.h), optionally inside the combined
 * objective α·KD + (1 − α)·CE(labels) + β·SinKD, with the gradient w.r.t. the
 * student logits on request.
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

static const char sinkd_usage[] =
    "Usage: otk sinkd S T [OPTIONS]\n"
    "\n"
    "The SinKD loss (Cui et al. 2024) between the student logits S and the\n"
    "teacher logits T, two B x K tables (B samples, K classes; CSV or NumPy .npy,\n"
    "as for otk sinkhorn), printed as one JSON object:\n"
    "  p_s = softmax(S/tau), p_t = softmax(T/tau) row-wise,\n"
    "  W_ij = cost(p_s_i, p_t_j) (B x B), P = exp(-W/eps) normalised ITERS times\n"
    "  by rows then columns (in the log domain), loss = weight * sum P.W\n"
    "With --labels, the combined objective of the SinKD code instead,\n"
    "  loss = alpha*KD + (1-alpha)*CE(labels) + beta*SinKD.\n"
    "\n"
    "SinKD:\n"
    "  --tau T          softmax temperature tau_S, > 0 (default 2)\n"
    "  --eps E          entropic regularisation in cost units, > 0 (default 0.1)\n"
    "  --iters N        row+column normalisations, >= 1 (default 20)\n"
    "  --cost NAME      batch cost between probability vectors (default l1):\n"
    "                   l1, sqeuclidean, half-sqeuclidean, euclidean, lp, lp-over-p\n"
    "  --power P        the exponent of lp and lp-over-p (required for them)\n"
    "  --weight W       c_w, >= 0 (default 1; the reference code uses 0.001)\n"
    "  --grad-mode M    unrolled (default): the exact adjoint of the iterations,\n"
    "                   as autograd computes it; envelope: the plan held fixed\n"
    "  --threads K      OpenMP threads, 0 = OpenMP's default (default 0)\n"
    "\n"
    "Combined objective:\n"
    "  --labels L       B integer class labels in [0, K), one per line\n"
    "  --alpha A        weight of KD, in [0, 1] (required with --labels)\n"
    "  --beta B         weight of SinKD, >= 0 (required with --labels)\n"
    "  --kd KIND        soft-ce (default, the SinKD code's DistillKL, no tau^2),\n"
    "                   kl (tau^2 KL(p_t||p_s)), reverse-kl, js\n"
    "  --kd-tau T       temperature of the KD term, > 0 (default 1)\n"
    "\n"
    "Output:\n"
    "  --grad F         d loss / d S, B rows of K values (CSV, written atomically)\n"
    CLI_INPUT_OPTIONS_HELP
    "  -h, --help       show this help\n"
    "\n"
    "The JSON object has the keys status (\"ok\"), loss, tau, eps, iters, cost,\n"
    "power, weight, B, K, grad_mode, threads, seconds, otkit_version, and with\n"
    "--labels also kd, ce, sinkd, alpha, beta, kd_kind, kd_tau.\n"
    "\n"
    "Exit status: 0 computed, 2 bad option, bad input or I/O error.\n";

enum {
    OPT_TAU,
    OPT_ITERS,
    OPT_WEIGHT,
    OPT_GRAD,
    OPT_GRAD_MODE,
    OPT_LABELS,
    OPT_ALPHA,
    OPT_BETA,
    OPT_KD,
    OPT_KD_TAU
};

/* Besides the groups: --eps --cost --power --threads and the input options. */
static const cli_option sinkd_options[] = {
    {"--tau", "T", OPT_TAU},
    {"--iters", "N", OPT_ITERS},
    {"--weight", "W", OPT_WEIGHT},
    {"--grad", "F", OPT_GRAD},
    {"--grad-mode", "M", OPT_GRAD_MODE},
    {"--labels", "L", OPT_LABELS},
    {"--alpha", "A", OPT_ALPHA},
    {"--beta", "B", OPT_BETA},
    {"--kd", "KIND", OPT_KD},
    {"--kd-tau", "T", OPT_KD_TAU},
    {NULL, NULL, 0},
};

static const unsigned sinkd_groups = CLI_GROUP_GROUND | CLI_GROUP_EPS | CLI_GROUP_THREADS |
                                     CLI_GROUP_INPUT;

typedef struct {
    cli_common common; /* S, T and the shared options */
    const char *s_path, *t_path;
    const char *grad_path, *labels_path;
    double power; /* NAN unless --power */
    double alpha, beta; /* NAN unless given */
    double kd_tau;
    otk_kd_divergence kd;
    int given_kd, given_kd_tau;
    otk_sinkd_params params;
} sinkd_request;

static int apply_argument(void *request, int id, const char *value)
{
    sinkd_request *req = request;
    otk_sinkd_params *par = &req->params;
    int v;
    switch (id) {
    case OPT_TAU:
        return cli_parse_positive("sinkd", "--tau", value, &par->tau);
    case OPT_ITERS:
        return cli_parse_int("sinkd", "--iters", value, 1, &par->iters);
    case OPT_WEIGHT:
        if (cli_parse_real("sinkd", "--weight", value, &par->weight) < 0)
            return -1;
        if (!(par->weight >= 0.0) || !isfinite(par->weight))
            return cli_usage_error("sinkd", "--weight: expected a finite number >= 0, found %s",
                                   value);
        return 0;
    case OPT_GRAD:
        req->grad_path = value;
        return 0;
    case OPT_GRAD_MODE:
        if (cli_parse_name("sinkd", "--grad-mode", "sinkd_grad", value, &v) < 0)
            return -1;
        par->grad = (otk_sinkd_grad)v;
        return 0;
    case OPT_LABELS:
        req->labels_path = value;
        return 0;
    case OPT_ALPHA:
        if (cli_parse_real("sinkd", "--alpha", value, &req->alpha) < 0)
            return -1;
        if (!(req->alpha >= 0.0 && req->alpha <= 1.0))
            return cli_usage_error("sinkd", "--alpha: expected a number in [0, 1], found %s",
                                   value);
        return 0;
    case OPT_BETA:
        if (cli_parse_real("sinkd", "--beta", value, &req->beta) < 0)
            return -1;
        if (!(req->beta >= 0.0) || !isfinite(req->beta))
            return cli_usage_error("sinkd", "--beta: expected a finite number >= 0, found %s",
                                   value);
        return 0;
    case OPT_KD:
        req->given_kd = 1;
        if (cli_parse_name("sinkd", "--kd", "kd_divergence", value, &v) < 0)
            return -1;
        req->kd = (otk_kd_divergence)v;
        return 0;
    case OPT_KD_TAU:
        req->given_kd_tau = 1;
        return cli_parse_positive("sinkd", "--kd-tau", value, &req->kd_tau);
    default:
        return -1;
    }
}

static int check_request(sinkd_request *req)
{
    const cli_common *c = &req->common;
    if (c->npaths < 2)
        return cli_usage_error("sinkd", "expected two logit files S (student) and T (teacher)");
    if (c->npaths > 2)
        return cli_usage_error("sinkd", "too many arguments: expected two logit files S and T");
    req->s_path = c->paths[0];
    req->t_path = c->paths[1];
    if (c->given_cost)
        req->params.ground = c->ground;
    if (cli_check_ground_power("sinkd", req->params.ground, c->power) < 0)
        return -1;
    if (!isnan(c->power))
        req->params.power = c->power;
    if (!isnan(c->eps))
        req->params.eps = c->eps;
    req->params.threads = c->threads;
    if (req->labels_path) {
        if (isnan(req->alpha) || isnan(req->beta))
            return cli_usage_error("sinkd", "--labels needs --alpha A and --beta B");
    } else {
        if (!isnan(req->alpha) || !isnan(req->beta) || req->given_kd || req->given_kd_tau)
            return cli_usage_error("sinkd", "--alpha, --beta, --kd and --kd-tau apply only with "
                                            "--labels");
    }
    return 0;
}

/* Returns 0 to go on, 1 when --help was printed, -1 on a usage error. */
static int parse_sinkd_options(int argc, char **argv, sinkd_request *req)
{
    memset(req, 0, sizeof *req);
    req->alpha = NAN;
    req->beta = NAN;
    req->kd_tau = 1.0;
    req->kd = OTK_KD_SOFT_CE;
    otk_sinkd_params_default(&req->params);
    const int parsed = cli_parse_command("sinkd", sinkd_usage, sinkd_options, apply_argument, req,
                                         sinkd_groups, &req->common, argc, argv);
    if (parsed != 0)
        return parsed;
    return check_request(req) < 0 ? -1 : 0;
}

/* Read the labels: B integers in [0, K).  Returns 0 or -1 (reported). */
static int read_labels(const char *path, const cli_read_options *opt, size_t B, size_t K, int **out)
{
    cli_matrix v = {0, 0, NULL};
    if (cli_read_vector(path, opt, &v) < 0)
        return -1;
    int status = -1;
    int *labels = NULL;
    if (v.rows != B) {
        cli_error("%s: expected %zu labels (one per row of the logits), found %zu", path, B,
                  v.rows);
        goto done;
    }
    if (!(labels = malloc(B * sizeof *labels))) {
        cli_error("out of memory for %zu labels", B);
        goto done;
    }
    for (size_t i = 0; i < B; i++) {
        const double y = v.values[i];
        if (y != floor(y)) {
            cli_error("%s: label %.17g (row %zu) is not an integer", path, y, i + 1);
            goto done;
        }
        if (y < 0.0 || y >= (double)K) {
            cli_error("%s: label %.17g (row %zu) is out of range: classes are 0 to %zu", path, y,
                      i + 1, K - 1);
            goto done;
        }
        labels[i] = (int)y;
    }
    status = 0;
done:
    cli_matrix_free(&v);
    if (status < 0)
        free(labels);
    else
        *out = labels;
    return status;
}

static void print_report(const sinkd_request *req, double loss,
                         const otk_sinkd_objective_parts *parts, size_t B, size_t K,
                         double seconds)
{
    const otk_sinkd_params *par = &req->params;
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w, NULL);
    json_string(&w, "status", "ok");
    json_number(&w, "loss", parts ? parts->total : loss);
    if (parts) {
        json_number(&w, "kd", parts->kd);
        json_number(&w, "ce", parts->ce);
        json_number(&w, "sinkd", parts->sinkd);
        json_number(&w, "alpha", req->alpha);
        json_number(&w, "beta", req->beta);
        json_string(&w, "kd_kind", otk_kd_divergence_name(req->kd));
        json_number(&w, "kd_tau", req->kd_tau);
    }
    json_number(&w, "tau", par->tau);
    json_number(&w, "eps", par->eps);
    json_integer(&w, "iters", par->iters);
    json_string(&w, "cost", otk_ground_name(par->ground));
    json_number(&w, "power", req->common.power); /* null unless lp / lp-over-p */
    json_number(&w, "weight", par->weight);
    json_integer(&w, "B", (long long)B);
    json_integer(&w, "K", (long long)K);
    json_string(&w, "grad_mode", otk_sinkd_grad_name(par->grad));
    json_integer(&w, "threads", par->threads);
    json_number(&w, "seconds", seconds);
    json_string(&w, "otkit_version", otk_version_string());
    json_object_end(&w);
}

int cmd_sinkd(int argc, char **argv)
{
    sinkd_request req;
    const int parsed = parse_sinkd_options(argc, argv, &req);
    if (parsed != 0)
        return parsed > 0 ? CLI_EXIT_SOLVED : CLI_EXIT_BAD_INPUT;

    int exit_status = CLI_EXIT_BAD_INPUT;
    cli_matrix s = {0, 0, NULL}, t = {0, 0, NULL};
    cli_output out;
    memset(&out, 0, sizeof out);
    otk_sinkd *sd = NULL;
    double *grad = NULL;
    int *labels = NULL;

    if (cli_read_matrix(req.s_path, &req.common.read, &s) < 0 ||
        cli_read_matrix(req.t_path, &req.common.read, &t) < 0)
        goto done;
    if (s.rows != t.rows || s.cols != t.cols) {
        cli_error("the logits must have the same shape: %s is %zu x %zu, %s is %zu x %zu",
                  req.s_path, s.rows, s.cols, req.t_path, t.rows, t.cols);
        goto done;
    }
    const size_t B = s.rows, K = s.cols;
    if (B == 0 || K == 0) {
        cli_error("%s: no logits (B = %zu, K = %zu)", req.s_path, B, K);
        goto done;
    }
    if (req.labels_path && read_labels(req.labels_path, &req.common.read, B, K, &labels) < 0)
        goto done;
    /* Open the output first: a bad path fails before the computation. */
    if (req.grad_path) {
        if (cli_output_open(&out, req.grad_path) < 0)
            goto done;
        if (!(grad = malloc(B * K * sizeof *grad))) {
            cli_error("out of memory for the gradient (%zu x %zu)", B, K);
            goto done;
        }
    }
    if (otk_sinkd_alloc(&sd, B, K, &req.params) < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    double loss = NAN;
    otk_sinkd_objective_parts parts;
    const double start = cli_monotonic_seconds();
    const otk_status st =
        labels ? otk_sinkd_objective(sd, s.values, t.values, labels, req.alpha, req.beta, req.kd,
                                     req.kd_tau, &parts, grad)
               : otk_sinkd_loss(sd, s.values, t.values, &loss, grad, NULL);
    const double seconds = cli_monotonic_seconds() - start;
    if (st < 0) {
        cli_error("%s", otk_last_error());
        goto done;
    }
    if (out.stream) {
        cli_write_table(out.stream,
                        labels ? "gradient of the combined objective w.r.t. the student logits S"
                               : "gradient of the SinKD loss w.r.t. the student logits S",
                        grad, B, K);
        if (cli_output_commit(&out) < 0)
            goto done;
    }
    print_report(&req, loss, labels ? &parts : NULL, B, K, seconds); /* main() checks stdout */
    exit_status = CLI_EXIT_SOLVED;
done:
    cli_output_discard(&out);
    otk_sinkd_free(sd);
    free(grad);
    free(labels);
    cli_matrix_free(&s);
    cli_matrix_free(&t);
    return exit_status;
}
