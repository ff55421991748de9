/* The otk_mesh structure, shared by the mesh construction (mesh.c), the
 * readers (mesh_io.c) and the heat-kernel cost (heat.c).  Not installed. */
#ifndef OTK_MESH_INTERNAL_H
#define OTK_MESH_INTERNAL_H

#include <stddef.h>

struct otk_mesh {
    size_t nv, nf;
    double *xyz;   /* nv×3; NULL for a graph */
    size_t *faces; /* nf×3; NULL for a graph */
    double *areas; /* nv lumped areas (1 on a graph) */
    /* The Laplacian, full symmetric storage, CSC with sorted rows. */
    size_t *Lp, *Li;
    double *Lx;
    double max_edge;
    int is_graph;
};

/* What otk__mesh_build found at fault (SIZE_MAX: nothing of that kind),
 * so that the readers can name the line of the face or vertex. */
typedef struct {
    size_t face, vertex;
} otk__mesh_culprit;

/* otk_mesh_from_triangles, also reporting the culprit. */
#include "otkit/mesh.h"
otk_status otk__mesh_build(otk_mesh **out, size_t nv, const double *xyz, size_t nf,
                           const size_t *faces, otk__mesh_culprit *culprit);

#endif
