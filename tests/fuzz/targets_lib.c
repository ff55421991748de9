/* Fuzz targets of the library's file readers: OFF and OBJ meshes
 * (otk_mesh_read) and the map-model format (otk_map_load). */
#include <stdlib.h>
#include <otkit.h>
#include "fuzz.h"

/* Read a mesh; when it is accepted, use what it claims to hold (every
 * coordinate, area and Laplacian row), so that a reader that accepts an
 * inconsistent mesh is caught by the sanitizers here rather than later. */
static int fuzz_mesh(const uint8_t *data, size_t size, const char *suffix)
{
    const char *path = fuzz_input_file(data, size, suffix, NULL, 0);
    otk_mesh *mesh = NULL;
    if (!path || otk_mesh_read(&mesh, path) != OTK_SUCCESS)
        return 0;
    size_t nv = otk_mesh_vertex_count(mesh);
    double *x = malloc(nv * sizeof *x), *y = malloc(nv * sizeof *y);
    if (x && y) {
        for (size_t i = 0; i < nv; i++)
            x[i] = (double)(i % 7);
        (void)otk_mesh_laplacian_apply(mesh, x, y);
    }
    free(x);
    free(y);
    (void)otk_mesh_total_area(mesh);
    (void)otk_mesh_max_edge(mesh);
    otk_mesh_free(mesh);
    return 0;
}

int fuzz_mesh_off(const uint8_t *data, size_t size) { return fuzz_mesh(data, size, "off"); }
int fuzz_mesh_obj(const uint8_t *data, size_t size) { return fuzz_mesh(data, size, "obj"); }

/* Load a map model; when it is accepted, apply it to a few points and read
 * its parameters back, which touches every array the loader filled. */
int fuzz_map_model(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file(data, size, "txt", NULL, 0);
    otk_map *map = NULL;
    if (!path || otk_map_load(&map, path) != OTK_SUCCESS)
        return 0;
    size_t d = otk_map_dim(map), n = 3, p = otk_map_n_params(map);
    double *x = calloc(n * d, sizeof *x), *tx = calloc(n * d, sizeof *tx);
    double *theta = calloc(p ? p : 1, sizeof *theta);
    if (x && tx && theta) {
        for (size_t i = 0; i < n * d; i++)
            x[i] = (double)(i % 5) - 2.0;
        (void)otk_map_apply(map, n, x, tx, 1);
        if (otk_map_get_family(map) != OTK_MAP_ENTROPIC)
            (void)otk_map_get_params(map, theta);
    }
    free(x);
    free(tx);
    free(theta);
    otk_map_free(map);
    return 0;
}
