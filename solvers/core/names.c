/* The name table of every enum (otkit/names.h), each generated from the list
 * OTK_<KIND>_MAP that also generates the enum itself. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "otkit/distill.h"
#include "otkit/fdiv.h"
#include "otkit/sliced.h"
#include "otkit/grid.h"
#include "otkit/mapfit.h"
#include "otkit/mesh.h"
#include "otkit/monge_gap.h"
#include "otkit/names.h"

/* kind, C type, the list, what a value is called in messages. */
#define OTK_ENUM_LIST(X)                                                                     \
    X(ground, otk_ground, OTK_GROUND_MAP, "ground cost")                                     \
    X(reduce, otk_reduce, OTK_REDUCE_MAP, "plan reduction")                                  \
    X(grid_path, otk_grid_path, OTK_GRID_PATH_MAP, "grid path")                              \
    X(schedule, otk_schedule, OTK_SCHEDULE_MAP, "schedule")                                  \
    X(update, otk_update, OTK_UPDATE_MAP, "update rule")                                     \
    X(gauge, otk_gauge, OTK_GAUGE_MAP, "potential gauge")                                    \
    X(backend, otk_backend, OTK_BACKEND_MAP, "backend")                                      \
    X(stage, otk_stage, OTK_STAGE_MAP, "solve stage")                                         \
    X(mesh_shape, otk_mesh_shape, OTK_MESH_SHAPE_MAP, "mesh shape")                          \
    X(heat_convention, otk_heat_convention, OTK_HEAT_CONVENTION_MAP, "heat-kernel convention") \
    X(relative_to, otk_relative_to, OTK_RELATIVE_TO_MAP, "relative-eps statistic")           \
    X(sinkd_grad, otk_sinkd_grad, OTK_SINKD_GRAD_MAP, "SinKD gradient mode")                 \
    X(kd_divergence, otk_kd_divergence, OTK_KD_DIVERGENCE_MAP, "KD divergence")              \
    X(map_family, otk_map_family, OTK_MAP_FAMILY_MAP, "map family")                          \
    X(activation, otk_activation, OTK_ACTIVATION_MAP, "activation")                          \
    X(optimizer, otk_optimizer, OTK_OPTIMIZER_MAP, "optimizer")                              \
    X(lambda_schedule, otk_lambda_schedule, OTK_LAMBDA_SCHEDULE_MAP, "lambda schedule")      \
    X(lr_schedule, otk_lr_schedule, OTK_LR_SCHEDULE_MAP, "learning-rate schedule")           \
    X(fdiv_kind, otk_fdiv_kind, OTK_FDIV_KIND_MAP, "f-divergence")                           \
    X(reduction_kind, otk_reduction_kind, OTK_REDUCTION_KIND_MAP, "reduction")               \
    X(binning, otk_binning, OTK_BINNING_MAP, "binning")                                      \
    X(directions, otk_directions, OTK_DIRECTIONS_MAP, "directions")

/* The names of each enum, indexed by value. */
#define NAME_AT_VALUE_(member, value, text) [value] = text,
#define NAMES_ARRAY_(kind, type, MAP, what) \
    static const char *const kind##_names[] = {MAP(NAME_AT_VALUE_)};
OTK_ENUM_LIST(NAMES_ARRAY_)

typedef struct {
    const char *kind, *what;
    const char *const *names;
    size_t count;
} name_table;

#define TABLE_ENTRY_(kind, type, MAP, what) \
    {#kind, what, kind##_names, sizeof kind##_names / sizeof kind##_names[0]},
static const name_table tables[] = {OTK_ENUM_LIST(TABLE_ENTRY_)};
#define N_TABLES (sizeof tables / sizeof tables[0])

#define TABLE_INDEX_(kind, type, MAP, what) TABLE_##kind,
enum { OTK_ENUM_LIST(TABLE_INDEX_) };

#define KIND_NAME_(kind, type, MAP, what) #kind,
static const char *const kinds[] = {OTK_ENUM_LIST(KIND_NAME_) NULL};

static const char *table_name(const name_table *t, int value)
{
    return value >= 0 && (size_t)value < t->count ? t->names[value] : NULL;
}

/* "converge, fixed" into buf. */
static void list_names(const name_table *t, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < t->count && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", k ? ", " : "", t->names[k]);
}

/* The value of `name` in t, or OTK_EPARAM with the valid names. */
static otk_status table_lookup(const name_table *t, const char *name, int *value)
{
    for (size_t k = 0; k < t->count; k++)
        if (strcmp(name, t->names[k]) == 0) {
            *value = (int)k;
            return OTK_SUCCESS;
        }
    char valid[256];
    list_names(t, valid, sizeof valid);
    return otk__fail(OTK_EPARAM, "unknown %s \"%.60s\"; valid: %s", t->what, name, valid);
}

#define NAME_FUNCTIONS_(kind, type, MAP, what)                                               \
    const char *otk_##kind##_name(type value)                                                \
    {                                                                                        \
        return table_name(&tables[TABLE_##kind], (int)value);                                \
    }                                                                                        \
    otk_status otk_##kind##_from_name(const char *name, type *value)                         \
    {                                                                                        \
        if (!name || !value)                                                                 \
            return otk__fail(OTK_ENULL, "otk_" #kind "_from_name: %s is NULL",               \
                             name ? #kind : "name");                                         \
        int v;                                                                               \
        const otk_status st = table_lookup(&tables[TABLE_##kind], name, &v);                 \
        if (st == OTK_SUCCESS)                                                               \
            *value = (type)v;                                                                \
        return st;                                                                           \
    }
OTK_ENUM_LIST(NAME_FUNCTIONS_)

static const name_table *find_table(const char *kind)
{
    if (kind)
        for (size_t k = 0; k < N_TABLES; k++)
            if (strcmp(kind, tables[k].kind) == 0)
                return &tables[k];
    return NULL;
}

const char *const *otk_enum_names(const char *kind, size_t *count)
{
    const name_table *t = find_table(kind);
    if (count)
        *count = t ? t->count : 0;
    return t ? t->names : NULL;
}

const char *otk_enum_what(const char *kind)
{
    const name_table *t = find_table(kind);
    return t ? t->what : NULL;
}

const char *otk_enum_name(const char *kind, int value)
{
    const name_table *t = find_table(kind);
    return t ? table_name(t, value) : NULL;
}

otk_status otk_enum_from_name(const char *kind, const char *name, int *value)
{
    if (!kind || !name || !value)
        return otk__fail(OTK_ENULL, "otk_enum_from_name: %s is NULL",
                         !kind ? "kind" : !name ? "name" : "value");
    const name_table *t = find_table(kind);
    if (!t) {
        char valid[512];
        size_t len = 0;
        for (size_t k = 0; k < N_TABLES && len < sizeof valid; k++)
            len += (size_t)snprintf(valid + len, sizeof valid - len, "%s%s", k ? ", " : "",
                                    tables[k].kind);
        return otk__fail(OTK_EPARAM, "unknown enum kind \"%.60s\"; valid: %s", kind, valid);
    }
    return table_lookup(t, name, value);
}

const char *const *otk_enum_kinds(void) { return kinds; }
