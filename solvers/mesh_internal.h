/* The otk_mesh structure, shared by the mesh construction (mesh.c), the
 * readers (mesh_io.c) and the heat-kernel cost (cost_mesh.c).  Not installed. */
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

#endif
