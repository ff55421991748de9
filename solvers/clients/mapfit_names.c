/* The names of the map-fitting enums (otkit/mapfit.h): one table per enum,
 * one lookup.  Kept apart from the model, the fit and the files so that it can
 * move as one piece into the library's name tables. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <stdio.h>
#include <string.h>
#include "otkit/mapfit.h"
#include "internal.h"

static const char *const family_names[] = {"affine", "mlp", "entropic"};
static const char *const activation_names[] = {"gelu", "tanh"};
static const char *const optimizer_names[] = {"auto", "bfgs", "adam"};
static const char *const lr_schedule_names[] = {"constant", "cosine"};
#define N_NAMES(a) ((int)(sizeof(a) / sizeof(a)[0]))

/* One enum's names: the table, what an entry is called in messages, the
 * parser's name and its output argument's name. */
typedef struct {
    const char *const *names;
    int count;
    const char *what, *func, *out;
} name_table;

static const name_table family_table = {family_names, N_NAMES(family_names), "map family",
                                        "otk_map_family_from_name", "family"};
static const name_table activation_table = {activation_names, N_NAMES(activation_names),
                                            "activation", "otk_activation_from_name",
                                            "activation"};
static const name_table optimizer_table = {optimizer_names, N_NAMES(optimizer_names), "optimizer",
                                           "otk_optimizer_from_name", "optimizer"};
static const name_table lr_schedule_table = {lr_schedule_names, N_NAMES(lr_schedule_names),
                                             "learning-rate schedule",
                                             "otk_lr_schedule_from_name", "schedule"};

static const char *table_name(const name_table *t, int value)
{
    return value >= 0 && value < t->count ? t->names[value] : "unknown";
}

/* The index of `name` in the table (>= 0), or a negative status with the
 * message naming the NULL argument or listing the accepted names. */
static int table_lookup(const name_table *t, const char *name, const void *out)
{
    if (!name || !out)
        return otk__fail(OTK_ENULL, "%s: %s is NULL", t->func, name ? t->out : "name");
    for (int k = 0; k < t->count; k++)
        if (strcmp(name, t->names[k]) == 0)
            return k;
    char expected[96] = "";
    size_t len = 0;
    for (int k = 0; k < t->count; k++)
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s%s",
                                k == 0 ? "" : k + 1 < t->count ? ", " : " or ", t->names[k]);
    return otk__fail(OTK_EUNSUPPORTED, "unknown %s \"%s\" (expected %s)", t->what, name,
                     expected);
}

const char *otk_map_family_name(otk_map_family family)
{
    return table_name(&family_table, (int)family);
}

otk_status otk_map_family_from_name(const char *name, otk_map_family *family)
{
    int k = table_lookup(&family_table, name, family);
    if (k < 0)
        return (otk_status)k;
    *family = (otk_map_family)k;
    return OTK_SUCCESS;
}

const char *otk_activation_name(otk_activation activation)
{
    return table_name(&activation_table, (int)activation);
}

otk_status otk_activation_from_name(const char *name, otk_activation *activation)
{
    int k = table_lookup(&activation_table, name, activation);
    if (k < 0)
        return (otk_status)k;
    *activation = (otk_activation)k;
    return OTK_SUCCESS;
}

const char *otk_optimizer_name(otk_optimizer optimizer)
{
    return table_name(&optimizer_table, (int)optimizer);
}

otk_status otk_optimizer_from_name(const char *name, otk_optimizer *optimizer)
{
    int k = table_lookup(&optimizer_table, name, optimizer);
    if (k < 0)
        return (otk_status)k;
    *optimizer = (otk_optimizer)k;
    return OTK_SUCCESS;
}

const char *otk_lr_schedule_name(otk_lr_schedule schedule)
{
    return table_name(&lr_schedule_table, (int)schedule);
}

otk_status otk_lr_schedule_from_name(const char *name, otk_lr_schedule *schedule)
{
    int k = table_lookup(&lr_schedule_table, name, schedule);
    if (k < 0)
        return (otk_status)k;
    *schedule = (otk_lr_schedule)k;
    return OTK_SUCCESS;
}
