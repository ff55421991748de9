/*
 * init.c — registration of the .Call routines; dynamic symbol lookup is off,
 * so only these names are reachable from R.
 */
#include "otkr.h"

#include <R_ext/Rdynload.h>

/* The detour through void (*)(void), the generic function pointer type,
 * keeps -Wcast-function-type quiet about R's DL_FUNC. */
#define CALLDEF(name, n) {#name, (DL_FUNC)(void (*)(void))&name, n}

static const R_CallMethodDef call_methods[] = {
    CALLDEF(otkr_sinkhorn, 7),
    CALLDEF(otkr_potential_convert, 5),
    CALLDEF(otkr_divergence, 6),
    CALLDEF(otkr_divergence_batch, 7),
    CALLDEF(otkr_sinkhorn_batch, 7),
    CALLDEF(otkr_divergence_matrix, 6),
    CALLDEF(otkr_geomloss_ground, 1),
    CALLDEF(otkr_sinkd_loss, 4),
    CALLDEF(otkr_sinkd_objective, 5),
    CALLDEF(otkr_kd_loss, 5),
    CALLDEF(otkr_version, 0),
    CALLDEF(otkr_names, 1),
    CALLDEF(otkr_monge_gap, 5),
    CALLDEF(otkr_fit_map, 5),
    CALLDEF(otkr_map_apply, 3),
    CALLDEF(otkr_map_info, 1),
    CALLDEF(otkr_map_save, 2),
    CALLDEF(otkr_map_load, 1),
    CALLDEF(otkr_fdiv, 5),
    CALLDEF(otkr_psi, 5),
    CALLDEF(otkr_information_value, 5),
    CALLDEF(otkr_sinkd_regression_objective, 6),
    CALLDEF(otkr_emd, 7),
    CALLDEF(otkr_wasserstein_1d, 5),
    CALLDEF(otkr_sliced, 6),
    CALLDEF(otkr_mesh_from_triangles, 2),
    CALLDEF(otkr_mesh_from_graph, 3),
    CALLDEF(otkr_mesh_read, 1),
    CALLDEF(otkr_mesh_generate, 2),
    CALLDEF(otkr_cost_solve, 6),
    CALLDEF(otkr_cost_barycenter, 5),
    CALLDEF(otkr_divergence_new, 4),
    CALLDEF(otkr_divergence_set_points, 4),
    CALLDEF(otkr_divergence_solve, 6),
    CALLDEF(otkr_divergence_query, 3),
    CALLDEF(otkr_divergence_plan, 4),
    CALLDEF(otkr_entropic_map_new, 7),
    CALLDEF(otkr_entropic_map_apply, 3),
    CALLDEF(otkr_entropic_map_data, 1),
    {NULL, NULL, 0}};

void R_init_otkit(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
