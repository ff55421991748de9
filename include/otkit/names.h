/*
 * otkit/names.h — the names of every enum's values, one table per enum.
 *
 * STABILITY: stable: these functions and the convention of the typed pairs
 * change only with a major version.  A name is as stable as its enum's
 * header (the tables of experimental modules may still change).
 *
 * Each enum otk_<kind> is generated from one list OTK_<KIND>_MAP in its
 * header (see status.h), and so is its name table, in solvers/core/names.c.
 * Beside each enum its header declares the typed pair, all with the same
 * convention:
 *
 *   const char *otk_<kind>_name(otk_<kind> value);
 *       the name ("converge"), a static string; NULL for an invalid value.
 *   otk_status otk_<kind>_from_name(const char *name, otk_<kind> *value);
 *       OTK_SUCCESS; OTK_ENULL (name or value NULL); OTK_EPARAM for an
 *       unknown name, with the message (otk_last_error)
 *       `unknown schedule "conv"; valid: converge, fixed`.  Names are
 *       case-sensitive; on failure *value is untouched.
 *
 * The kinds: ground, reduce (cost.h); grid_path (grid.h); schedule, update,
 * gauge, backend, stage (sinkhorn.h); mesh_shape, heat_convention (mesh.h); relative_to
 * (monge_gap.h); sinkd_grad, kd_divergence (distill.h); map_family,
 * activation, optimizer, lambda_schedule, lr_schedule (mapfit.h); fdiv_kind,
 * reduction_kind, binning (fdiv.h); directions (sliced.h).
 *
 * The functions below reach the same tables by the kind's name, for front
 * ends that take names from their users (the otk tool, the Python and R
 * packages) and must not keep lists of their own.  Values run from 0 to
 * count − 1 without gaps.
 *
 * THREAD SAFETY: all functions here are thread-safe (the tables are
 * constant; the message is thread-local, as every otkit message).
 */
#ifndef OTKIT_NAMES_H
#define OTKIT_NAMES_H

#include <stddef.h>
#include "otkit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The names of the values of the enum `kind` ("schedule"), in value order:
 * a static array of *count strings, or NULL (and *count = 0) for an unknown
 * kind or NULL argument.  `count` may be NULL. */
OTK_EXPORT const char *const *otk_enum_names(const char *kind, size_t *count);

/* What a value of `kind` is called in messages ("update rule"), or NULL. */
OTK_EXPORT const char *otk_enum_what(const char *kind);

/* The name of `value` in the enum `kind`, or NULL (unknown kind or value). */
OTK_EXPORT const char *otk_enum_name(const char *kind, int value);

/* Parse a name of the enum `kind`.  Returns OTK_SUCCESS with *value set;
 * OTK_ENULL; OTK_EPARAM for an unknown kind or name (the message lists the
 * valid ones). */
OTK_EXPORT otk_status otk_enum_from_name(const char *kind, const char *name, int *value);

/* The kinds, in a static NULL-terminated array. */
OTK_EXPORT const char *const *otk_enum_kinds(void);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_NAMES_H */
