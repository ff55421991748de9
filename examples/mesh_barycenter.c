/* mesh_barycenter.c -- a Wasserstein barycenter on a surface.
 *
 * On a generated icosphere (642 vertices), two bumps of mass sit around the
 * north pole (0, 0, 1) and the point (1, 0, 0) on the equator.  Their
 * entropic barycenter with the heat-kernel cost (squared geodesic distance)
 * sits halfway along the great circle, around (1, 0, 1)/sqrt 2.  Prints the
 * mass, the iterations and the direction of the barycenter's mean; checks the
 * mass and that the mean points within 5 degrees of the midpoint; then "ok".
 *
 *   cc mesh_barycenter.c $(pkg-config --cflags --libs otkit) -lm -o mesh_barycenter
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <otkit.h>

static int fail(const char *what)
{
    fprintf(stderr, "mesh_barycenter: %s: %s\n", what, otk_last_error());
    return 1;
}

/* A bump of unit mass around the unit vector c: weights exp(-d^2/(2 s^2)) times
 * the vertex areas, d the chord length (close to the geodesic one here). */
static void bump(const otk_mesh *mesh, const double c[3], double s, double *w)
{
    size_t nv = otk_mesh_vertex_count(mesh);
    const double *v = otk_mesh_coordinates(mesh), *area = otk_mesh_areas(mesh);
    double total = 0;
    for (size_t i = 0; i < nv; i++) {
        double dx = v[3 * i] - c[0], dy = v[3 * i + 1] - c[1], dz = v[3 * i + 2] - c[2];
        w[i] = area[i] * exp(-(dx * dx + dy * dy + dz * dz) / (2 * s * s));
        total += w[i];
    }
    for (size_t i = 0; i < nv; i++)
        w[i] /= total;
}

int main(void)
{
    otk_mesh *mesh;
    if (otk_mesh_generate(&mesh, OTK_MESH_ICOSPHERE, 3) < 0)
        return fail("otk_mesh_generate");
    size_t nv = otk_mesh_vertex_count(mesh);
    double *A = malloc(2 * nv * sizeof *A), *bar = malloc(nv * sizeof *bar);
    if (!A || !bar)
        return 1;
    const double north[3] = {0, 0, 1}, east[3] = {1, 0, 0};
    bump(mesh, north, 0.15, A);
    bump(mesh, east, 0.15, A + nv);

    double h = otk_mesh_max_edge(mesh);
    otk_heat_params hp;
    otk_heat_params_default(&hp); /* 10 implicit Euler steps, C ~ squared geodesic distance */
    hp.eps = 4 * h * h;          /* (2h)^2, the default of `otk mesh` */
    otk_cost *cost;
    if (otk_cost_mesh(&cost, mesh, &hp) < 0)
        return fail("otk_cost_mesh");
    otk_barycenter_params bp;
    otk_barycenter_params_default(&bp);
    bp.eps = hp.eps; /* a heat-kernel cost is built for one eps */
    otk_barycenter_result br;
    otk_status st = otk_barycenter(cost, 2, A, NULL, &bp, bar, &br);
    if (st < 0)
        return fail("otk_barycenter");

    const double *v = otk_mesh_coordinates(mesh);
    double mean[3] = {0, 0, 0};
    for (size_t i = 0; i < nv; i++)
        for (int k = 0; k < 3; k++)
            mean[k] += bar[i] * v[3 * i + k];
    double len = sqrt(mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]);
    double cosang = (mean[0] + mean[2]) / (len * sqrt(2.0));
    double angle = acos(fmin(1.0, cosang)) * 180 / 3.14159265358979323846;
    printf("icosphere: %zu vertices, eps = %.4g, %d iterations (%s), mass %.9f\n", nv, hp.eps,
           br.iterations, otk_status_name(st), br.mass);
    printf("barycenter mean direction (%.3f, %.3f, %.3f): %.2f degrees from (1,0,1)/sqrt 2\n",
           mean[0] / len, mean[1] / len, mean[2] / len, angle);

    int ok = st == OTK_SUCCESS && fabs(br.mass - 1) < 1e-6 && angle < 5;
    otk_cost_free(cost);
    otk_mesh_free(mesh);
    free(A);
    free(bar);
    puts(ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
