/* The option groups the solver commands share (options.h). */
#include <math.h>
#include <string.h>
#include "options.h"

enum {
    OPT_A,
    OPT_B,
    OPT_COST,
    OPT_POWER,
    OPT_EPS,
    OPT_BLUR,
    OPT_TOL,
    OPT_MAX_ITER,
    OPT_SCHEDULE,
    OPT_SCALING,
    OPT_THREADS,
    OPT_CACHE_MB,
    OPT_HEADER,
    OPT_INDEX_COL,
    OPT_DELIMITER,
    OPT_RELATIVE_EPS,
    OPT_RELATIVE_TO,
    OPT_SCALE_COST,
    OPT_BACKEND,
    OPT_TRUNCATE,
    N_SHARED_OPTIONS
};

/* Every shared option and its group. */
static const struct {
    cli_option option;
    unsigned group;
} shared_options[N_SHARED_OPTIONS] = {
    {{"--a", "A", OPT_A}, CLI_GROUP_WEIGHTS},
    {{"--b", "B", OPT_B}, CLI_GROUP_WEIGHTS},
    {{"--cost", "NAME", OPT_COST}, CLI_GROUP_GROUND},
    {{"--power", "P", OPT_POWER}, CLI_GROUP_GROUND},
    {{"--eps", "E", OPT_EPS}, CLI_GROUP_EPS},
    {{"--blur", "B", OPT_BLUR}, CLI_GROUP_BLUR},
    {{"--tol", "T", OPT_TOL}, CLI_GROUP_STOP},
    {{"--max-iter", "N", OPT_MAX_ITER}, CLI_GROUP_STOP},
    {{"--schedule", "S", OPT_SCHEDULE}, CLI_GROUP_SCHEDULE},
    {{"--scaling", "S", OPT_SCALING}, CLI_GROUP_SCHEDULE},
    {{"--threads", "K", OPT_THREADS}, CLI_GROUP_THREADS},
    {{"--cache-mb", "MB", OPT_CACHE_MB}, CLI_GROUP_CACHE},
    {{"--header", NULL, OPT_HEADER}, CLI_GROUP_INPUT},
    {{"--index-col", NULL, OPT_INDEX_COL}, CLI_GROUP_INPUT},
    {{"--delimiter", "C", OPT_DELIMITER}, CLI_GROUP_INPUT},
    {{"--relative-eps", "F", OPT_RELATIVE_EPS}, CLI_GROUP_SCALE},
    {{"--relative-to", "STAT", OPT_RELATIVE_TO}, CLI_GROUP_SCALE},
    {{"--scale-cost", "S", OPT_SCALE_COST}, CLI_GROUP_SCALE},
    {{"--backend", "B", OPT_BACKEND}, CLI_GROUP_BACKEND},
    {{"--truncate", "T", OPT_TRUNCATE}, CLI_GROUP_BACKEND},
};

/* What the apply function of the shared table needs. */
typedef struct {
    const char *command;
    cli_common *common;
} shared_request;

static int parse_delimiter(const char *command, const char *text, char *delimiter)
{
    if (strcmp(text, ",") == 0 || strcmp(text, ";") == 0)
        *delimiter = text[0];
    else if (strcmp(text, "tab") == 0 || strcmp(text, "\t") == 0)
        *delimiter = '\t';
    else if (strcmp(text, "space") == 0 || strcmp(text, " ") == 0)
        *delimiter = ' ';
    else
        return cli_usage_error(command, "--delimiter: expected ',', ';', tab or space, found \"%s\"",
                               text);
    return 0;
}

static int apply_shared(void *request, int id, const char *value)
{
    const shared_request *r = request;
    const char *command = r->command;
    cli_common *c = r->common;
    switch (id) {
    case CLI_ARG_POSITIONAL:
        if (c->npaths < CLI_MAX_PATHS)
            c->paths[c->npaths] = value;
        c->npaths++;
        return 0;
    case OPT_A:
        c->a_path = value;
        return 0;
    case OPT_B:
        c->b_path = value;
        return 0;
    case OPT_COST:
        c->given_cost = 1;
        return cli_parse_ground(command, value, &c->ground);
    case OPT_POWER:
        return cli_parse_positive(command, "--power", value, &c->power);
    case OPT_EPS:
        return cli_parse_positive(command, "--eps", value, &c->eps);
    case OPT_BLUR:
        return cli_parse_positive(command, "--blur", value, &c->blur);
    case OPT_TOL:
        return cli_parse_positive(command, "--tol", value, &c->tol);
    case OPT_MAX_ITER:
        return cli_parse_int(command, "--max-iter", value, 1, &c->max_iter);
    case OPT_SCHEDULE:
        c->given_schedule = 1;
        return cli_parse_schedule(command, value, &c->schedule);
    case OPT_SCALING:
        return cli_parse_fraction(command, "--scaling", value, &c->scaling);
    case OPT_THREADS:
        return cli_parse_int(command, "--threads", value, 0, &c->threads);
    case OPT_CACHE_MB:
        c->given_cache = 1;
        return cli_parse_mib(command, "--cache-mb", value, &c->cache_bytes);
    case OPT_HEADER:
        c->read.header = CLI_HEADER_YES;
        return 0;
    case OPT_INDEX_COL:
        c->read.index_col = 1;
        return 0;
    case OPT_DELIMITER:
        return parse_delimiter(command, value, &c->read.delimiter);
    case OPT_RELATIVE_EPS:
        return cli_parse_positive(command, "--relative-eps", value, &c->relative_eps);
    case OPT_RELATIVE_TO:
        return cli_parse_name(command, "--relative-to", "relative_to", value, &c->relative_to);
    case OPT_SCALE_COST: {
        /* A number, or the name of a statistic. */
        const char *p = value;
        if ((*p >= '0' && *p <= '9') || *p == '.' || *p == '+' || *p == '-')
            return cli_parse_positive(command, "--scale-cost", value, &c->scale_cost);
        return cli_parse_name(command, "--scale-cost", "relative_to", value,
                              &c->scale_cost_stat);
    }
    case OPT_BACKEND: {
        int v;
        if (cli_parse_name(command, "--backend", "backend", value, &v) < 0)
            return -1;
        c->backend = (otk_backend)v;
        return 0;
    }
    case OPT_TRUNCATE:
        if (strcmp(value, "inf") == 0) {
            c->truncate = INFINITY;
            return 0;
        }
        return cli_parse_positive(command, "--truncate", value, &c->truncate);
    default:
        return -1;
    }
}

int cli_parse_command(const char *command, const char *usage, const cli_option *options,
                      cli_apply_fn apply, void *request, unsigned groups, cli_common *common,
                      int argc, char **argv)
{
    memset(common, 0, sizeof *common);
    common->groups = groups;
    common->ground = OTK_GROUND_SQEUCLIDEAN;
    common->power = common->eps = common->blur = common->tol = common->scaling = NAN;
    common->schedule = OTK_SCHEDULE_CONVERGE;
    common->relative_eps = common->scale_cost = NAN;
    common->relative_to = common->scale_cost_stat = -1;
    common->backend = OTK_BACKEND_AUTO;
    common->truncate = NAN;

    cli_option shared[N_SHARED_OPTIONS + 1];
    size_t count = 0;
    for (size_t k = 0; k < N_SHARED_OPTIONS; k++)
        if (shared_options[k].group & groups)
            shared[count++] = shared_options[k].option;
    shared[count] = (cli_option){NULL, NULL, 0};
    static const cli_option none[] = {{NULL, NULL, 0}};
    shared_request shared_req = {command, common};
    const cli_option_table tables[2] = {{options ? options : none, apply, request},
                                        {shared, apply_shared, &shared_req}};
    const int parsed = cli_args_parse(command, usage, tables, 2, 1, argc, argv);
    if (parsed != 0)
        return parsed;
    if (!isnan(common->eps) && !isnan(common->blur))
        return cli_usage_error(command, "give --eps or --blur, not both (--blur B sets eps = "
                                        "B^p)");
    if (!isnan(common->relative_eps) && (!isnan(common->eps) || !isnan(common->blur)))
        return cli_usage_error(command, "give --relative-eps or --%s, not both (--relative-eps "
                                        "F sets eps = F x stat(C))",
                               !isnan(common->eps) ? "eps" : "blur");
    if (common->relative_to != -1 && isnan(common->relative_eps))
        return cli_usage_error(command, "--relative-to needs --relative-eps");
    return 0;
}

int cli_expect_paths(const char *command, const cli_common *common, int count, const char *what)
{
    if (common->npaths < count)
        return cli_usage_error(command, "expected %s", what);
    if (common->npaths > count)
        return cli_usage_error(command, "too many arguments: expected %s", what);
    return 0;
}

void cli_problem_free(cli_problem *pb)
{
    cli_matrix_free(&pb->x);
    cli_matrix_free(&pb->y);
    cli_matrix_free(&pb->cost_matrix);
    cli_matrix_free(&pb->a);
    cli_matrix_free(&pb->b);
}

int cli_read_problem(const cli_common *c, const char *cost_matrix_path, int allow_batch,
                     cli_problem *pb)
{
    /* What the weights must match, for the message of a wrong count. */
    const char *owner[2] = {"X", "Y"}, *unit[2] = {"points", "points"};
    if (cost_matrix_path) {
        if (cli_read_matrix(cost_matrix_path, &c->read, &pb->cost_matrix) < 0)
            return -1;
        pb->n = pb->cost_matrix.rows;
        pb->m = pb->cost_matrix.cols;
        pb->d = 0;
        owner[0] = owner[1] = "the cost matrix";
        unit[0] = "rows";
        unit[1] = "columns";
    } else {
        pb->batch = 0;
        if ((allow_batch ? cli_read_point_cloud_batches(c->paths[0], c->paths[1], &c->read,
                                                        &pb->x, &pb->y, &pb->batch)
                         : cli_read_point_clouds(c->paths[0], c->paths[1], &c->read, &pb->x,
                                                 &pb->y)) < 0)
            return -1;
        pb->n = pb->x.rows;
        pb->m = pb->y.rows;
        pb->d = pb->x.cols;
        if (pb->batch) {
            pb->n /= pb->batch;
            pb->m /= pb->batch;
            if (cli_read_batch_weights(c->a_path, &c->read, "--a", pb->batch, pb->n, "X",
                                       &pb->a) < 0 ||
                cli_read_batch_weights(c->b_path, &c->read, "--b", pb->batch, pb->m, "Y",
                                       &pb->b) < 0)
                return -1;
            return 0;
        }
    }
    if (cli_read_weights(c->a_path, &c->read, "--a", pb->n, owner[0], unit[0], &pb->a) < 0 ||
        cli_read_weights(c->b_path, &c->read, "--b", pb->m, owner[1], unit[1], &pb->b) < 0)
        return -1;
    return 0;
}
