/*
 * otkit/mesh.h — triangle meshes and weighted graphs, and the heat-kernel cost
 * kind built on them (docs/math.md F.3, decision 7).
 *
 * STABILITY: stable (a cost kind): the meshes, graphs and the heat-kernel
 * cost change only with a major version.
 *
 * An otk_mesh holds the discrete operator data of a domain with V vertices:
 *   - a triangle mesh (vertices in R³ + faces): the cotangent Laplacian
 *       L_ij = −½(cot α_ij + cot β_ij) (i ≠ j, an edge),  L_ii = −Σ_{j≠i} L_ij,
 *     with α_ij, β_ij the angles opposite the edge (one on a boundary), taken
 *     positive semi-definite, and the lumped (barycentric) vertex areas
 *     a_i = ⅓ Σ_{faces f ∋ i} area(f);
 *   - a weighted graph (edge list): the graph Laplacian L = D − W
 *     (W_ij = the edge weight, D the weighted degrees) and unit vertex
 *     masses a_i = 1.
 *
 * The heat-kernel cost (otk_cost_mesh) is the otk_cost whose kernel
 * K = exp(−C/ε) is the implicit-Euler heat operator
 *
 *   K = c · [(diag a + h L)⁻¹ diag a]^s · diag(a)⁻¹,   h = t/s,
 *
 * i.e. s = `steps` backward-Euler steps of ∂_t u = −L u over the time t,
 * expressed as a density with respect to the vertex areas (K is symmetric,
 * K_ij ≈ the heat kernel p_t(x_i, x_j)).  Time step (docs/math.md decision 7):
 *   OTK_HEAT_OTKIT    t = ε/4 (OTT's convention): p_t ∝ exp(−d²/(4t)) =
 *                     exp(−d²/ε), so C ≈ d² (squared geodesic distance);
 *   OTK_HEAT_SOLOMON  t = ε/2 (Solomon et al. 2015, K_γ ≈ H_{γ/2} with γ = ε):
 *                     C ≈ d²/2.
 * On a triangle mesh (a surface) c = 4πt, the inverse of the leading factor
 * of the surface heat kernel, so that C_ii → 0 and C ≈ d² + O(ε) as t → 0
 * (Varadhan).  On a graph there is no such normalisation: c = 1.
 *
 * The matrix diag a + h L is factorised ONCE by CHOLMOD when the cost is
 * built; each kernel application is s pairs of triangular solves.  The cost
 * is built for one ε: the solvers (otkit/sinkhorn.h, otkit/divergence.h)
 * take that ε when params.eps is 0 (blur is then ignored), refuse a different
 * one with OTK_EPARAM, and run no ε-annealing (the schedule is [ε, ε]).
 *
 * Usable ε range (the values are stabilised by shifting the log-weights by
 * their maximum, but the kernel itself is applied linearly): the far entries
 * of K decay like exp(−d²/ε).  When the cotangent Laplacian is an M-matrix
 * (no obtuse angle sum over an edge above π: a Delaunay mesh; any graph),
 * every quantity in the triangular solves is a sum of non-negative terms, so
 * K is computed to componentwise relative accuracy down to underflow: roughly
 * diam²/ε < 700 (diam the diameter of the mesh in the metric of C).  Beyond
 * that, or with negative cotangent weights, an entry (K e^{h−max h})_i can
 * come out ≤ 0 or underflow: the soft-min then yields a non-finite value
 * and the solvers stop with OTK_ENUMERIC instead of returning NaN, and
 * otk_mesh_stats counts the entries in `underflows`.
 *
 * OWNERSHIP: otk_mesh objects own their arrays (inputs are copied); a mesh
 * cost copies what it needs, so the mesh may be freed after otk_cost_mesh.
 *
 * THREAD SAFETY: a mesh is read-only after construction.  A mesh cost may be
 * shared by solvers in several threads: its CHOLMOD solves and its
 * statistics are serialised by an internal mutex (the solves of one cost do
 * not run concurrently).
 */
#ifndef OTKIT_MESH_H
#define OTKIT_MESH_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otk_mesh otk_mesh;

/* A triangle mesh.
 *   nv, xyz    input: nv vertices, nv×3 row-major coordinates (finite).
 *   nf, faces  input: nf triangles, nf×3 row-major 0-based vertex indices.
 * Errors (the message names the face, edge or vertex):
 *   OTK_ENULL; OTK_ESIZE (nv or nf zero); OTK_ENONFINITE (a coordinate);
 *   OTK_ERANGE (an index >= nv);
 *   OTK_EDEGENERATE (a face repeating a vertex, or of zero area: twice its
 *     area <= 1e-12 × its longest edge squared);
 *   OTK_ENONMANIFOLD (an edge shared by more than two faces);
 *   OTK_EDISCONNECTED (a vertex referenced by no face, or more than one
 *     connected component: the heat kernel between components is zero, so
 *     the cost there would be +∞ and a balanced problem usually infeasible);
 *   OTK_ENOMEM. */
OTK_EXPORT otk_status otk_mesh_from_triangles(otk_mesh **out, size_t nv, const double *xyz,
                                              size_t nf, const size_t *faces);

/* A weighted undirected graph.
 *   nv           input: number of vertices.
 *   ne, edges    input: ne edges, ne×2 row-major 0-based vertex indices.
 *   weights      input: ne positive finite weights, or NULL for all 1.
 * Repeated edges add their weights.  Vertex masses are 1.
 * Errors: OTK_ENULL; OTK_ESIZE (nv or ne zero); OTK_ERANGE (an index);
 *   OTK_EDEGENERATE (a self-loop); OTK_ENONFINITE / OTK_ENEGATIVE (a weight,
 *   zero included); OTK_EDISCONNECTED (as above, naming a vertex not
 *   connected to vertex 0); OTK_ENOMEM. */
OTK_EXPORT otk_status otk_mesh_from_graph(otk_mesh **out, size_t nv, size_t ne,
                                          const size_t *edges, const double *weights);

/* Read a triangle mesh from an OFF or Wavefront OBJ file, chosen by the
 * extension (.off / .obj, any case).
 *   OFF: "OFF" header (optionally with the counts on the same line), then
 *        "nv nf ne", nv lines "x y z", nf lines "k i1 ... ik" (0-based);
 *   OBJ: "v x y z" and "f i j k ..." lines (1-based; "i/t/n", "i//n" and
 *        negative relative indices accepted); other lines are ignored.
 * Polygons with k > 3 vertices are split into a fan of k−2 triangles.  '#'
 * starts a comment in both formats.
 * Errors: OTK_ENULL; OTK_EIO (cannot open or read; the message has the path
 *   and the system's reason); OTK_EPARSE (malformed content: the message is
 *   "PATH:LINE: what is wrong"); OTK_EPARAM (unknown extension); then any
 *   error of otk_mesh_from_triangles, its message led by "PATH:LINE: " of
 *   the face or vertex at fault (face numbers there count the triangles
 *   after the fan split). */
OTK_EXPORT otk_status otk_mesh_read(otk_mesh **out, const char *path);

/* Generated meshes for tests and benchmarks (all well-shaped: their cotangent
 * Laplacians are M-matrices).
 *   OTK_MESH_SQUARE     the unit square [0,1]² (z = 0), res×res cells each
 *                       split along the same diagonal: (res+1)² vertices;
 *                       res >= 1.
 *   OTK_MESH_ICOSPHERE  the unit sphere: an icosahedron subdivided res times
 *                       (midpoints projected onto the sphere):
 *                       10·4^res + 2 vertices; 0 <= res <= 8.
 *   OTK_MESH_TORUS      the torus of radii R = 1, r = 0.4 around the z axis,
 *                       a grid of 2·res (around the axis) × res (around the
 *                       tube) quads, each split in two: 2·res² vertices;
 *                       res >= 3. */
#define OTK_MESH_SHAPE_MAP(X)                                                                \
    X(OTK_MESH_SQUARE, 0, "square")                                                          \
    X(OTK_MESH_ICOSPHERE, 1, "icosphere")                                                    \
    X(OTK_MESH_TORUS, 2, "torus")
typedef enum { OTK_MESH_SHAPE_MAP(OTK_ENUM_MEMBER_) } otk_mesh_shape;
/* Name table (otkit/names.h). */
OTK_EXPORT const char *otk_mesh_shape_name(otk_mesh_shape shape);
OTK_EXPORT otk_status otk_mesh_shape_from_name(const char *name, otk_mesh_shape *shape);
OTK_EXPORT otk_status otk_mesh_generate(otk_mesh **out, otk_mesh_shape shape, size_t res);

/* Free a mesh; NULL is accepted. */
OTK_EXPORT void otk_mesh_free(otk_mesh *mesh);

/* Accessors (NULL mesh: 0 / NULL / NAN).  Arrays are views owned by the mesh. */
OTK_EXPORT size_t otk_mesh_vertex_count(const otk_mesh *mesh);
OTK_EXPORT size_t otk_mesh_face_count(const otk_mesh *mesh);     /* 0 for a graph */
OTK_EXPORT const double *otk_mesh_coordinates(const otk_mesh *mesh); /* nv×3; NULL: graph */
OTK_EXPORT const size_t *otk_mesh_faces(const otk_mesh *mesh);   /* nf×3; NULL: graph */
OTK_EXPORT const double *otk_mesh_areas(const otk_mesh *mesh);   /* nv lumped areas (1 on a graph) */
OTK_EXPORT double otk_mesh_total_area(const otk_mesh *mesh);     /* Σ areas */
OTK_EXPORT int otk_mesh_is_graph(const otk_mesh *mesh);
/* The longest edge (Euclidean, meshes) — a length scale for ε. */
OTK_EXPORT double otk_mesh_max_edge(const otk_mesh *mesh);

/* The Laplacian L (positive semi-definite, symmetric, zero row sums):
 * entry L_ij (0 when (i, j) is no edge; NAN out of range), and y = L x
 * (x, y: nv entries, not aliased). */
OTK_EXPORT double otk_mesh_laplacian_entry(const otk_mesh *mesh, size_t i, size_t j);
OTK_EXPORT otk_status otk_mesh_laplacian_apply(const otk_mesh *mesh, const double *x, double *y);

/* ------------------------------------------------------------------ the heat-kernel cost */

#define OTK_HEAT_CONVENTION_MAP(X)                                                           \
    X(OTK_HEAT_OTKIT, 0, "otkit")     /* t = ε/4: C ≈ d² (default; OTT) */                    \
    X(OTK_HEAT_SOLOMON, 1, "solomon") /* t = ε/2: C ≈ d²/2 (Solomon et al. 2015) */
typedef enum { OTK_HEAT_CONVENTION_MAP(OTK_ENUM_MEMBER_) } otk_heat_convention;
/* Name table (otkit/names.h). */
OTK_EXPORT const char *otk_heat_convention_name(otk_heat_convention convention);
OTK_EXPORT otk_status otk_heat_convention_from_name(const char *name,
                                                    otk_heat_convention *convention);

typedef struct {
    double eps;                     /* ε, in units of squared length, > 0 (required) */
    int steps;                      /* implicit Euler steps s >= 1; default 10 */
    otk_heat_convention convention; /* default OTK_HEAT_OTKIT */
} otk_heat_params;

/* Defaults: eps 0 (must be set), steps 10, OTK_HEAT_OTKIT.  NULL is ignored. */
OTK_EXPORT void otk_heat_params_default(otk_heat_params *params);

/* The heat-kernel cost on `mesh` (n = m = nv), described at the top of this
 * file.  Kind "mesh"; name "heat"; exponent 1 and diameter ε (so that the
 * solvers' ε-schedule is the single value ε).
 * Operations: soft-min (one kernel application), plan reductions MASS and
 * APPLY (one application per column), COST (<P,C> row by row: it forms the
 * rows of K with nv kernel applications, in blocks — O(nv·steps) solves, by
 * far the most expensive operation, done once per otk_sinkhorn_get_result
 * for OT_lin: 7 s against 0.07 s for the whole Sinkhorn loop on a
 * 2562-vertex icosphere; the divergence does not use it),
 * entry (one row of K, cached for the last row asked for); C_ij = +∞ where
 * the computed K_ij <= 0.  Gradients with respect to points: NAN.
 * Errors: OTK_ENULL; OTK_EPARAM (eps <= 0 or not finite, steps < 1,
 *   convention); OTK_ENUMERIC (CHOLMOD found diag a + hL not positive
 *   definite); OTK_ENOMEM. */
OTK_EXPORT otk_status otk_cost_mesh(otk_cost **out, const otk_mesh *mesh,
                                    const otk_heat_params *params);

typedef struct {
    long factorisations;      /* numeric CHOLMOD factorisations (1 per cost) */
    long solves;              /* right-hand sides solved (each: 2 triangular solves) */
    long kernel_applications; /* applications of K to one vector */
    long underflows;          /* soft-min entries found <= 0 (see the ε range) */
    double eps, t, h;         /* ε, total time t and step h = t/steps */
    int steps;
} otk_mesh_stats;

/* The statistics of a mesh cost so far.  Errors: OTK_ENULL, OTK_EUNSUPPORTED
 * (not a mesh cost). */
OTK_EXPORT otk_status otk_mesh_cost_stats(const otk_cost *cost, otk_mesh_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_MESH_H */
