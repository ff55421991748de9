/*
 * tests/test_mesh.c — meshes, graphs and the heat-kernel cost
 * (otkit/mesh.h): the cotangent Laplacian on known meshes (symmetric, zero
 * row sums, PSD, the 5-point stencil on a flat grid), the area of a sphere,
 * the kernel against a dense computation written here from the Laplacian,
 * heat-kernel OT against squared-Euclidean OT on a flat square, Sinkhorn on a
 * sphere and a torus (convergence, mass conservation, one factorisation),
 * the readers, and every bad input.
 */
#include <unistd.h>
#include "test_helpers.h"

/* ------------------------------------------------------------ helpers */

/* Two normalised Gaussian bumps on the vertices of `m`, weighted by area:
 * a around c0, b around c1 (3-D centres, width s). */
static void bumps(const otk_mesh *m, const double *c0, const double *c1, double s, double *a,
                  double *b)
{
    const size_t n = otk_mesh_vertex_count(m);
    const double *X = otk_mesh_coordinates(m), *A = otk_mesh_areas(m);
    for (size_t i = 0; i < n; i++) {
        double d0 = 0.0, d1 = 0.0;
        for (int k = 0; k < 3; k++) {
            d0 += (X[3 * i + k] - c0[k]) * (X[3 * i + k] - c0[k]);
            d1 += (X[3 * i + k] - c1[k]) * (X[3 * i + k] - c1[k]);
        }
        a[i] = A[i] * exp(-d0 / (2 * s * s));
        b[i] = A[i] * exp(-d1 / (2 * s * s));
    }
    const double sa = tk_sum(a, n), sb = tk_sum(b, n);
    for (size_t i = 0; i < n; i++) {
        a[i] /= sa;
        b[i] /= sb;
    }
}

/* Solve the dense n×n system M X = B (k right-hand sides, row-major) by
 * Gaussian elimination with partial pivoting; M and B are overwritten. */
static void dense_solve(size_t n, double *M, double *B, size_t k)
{
    for (size_t c = 0; c < n; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(M[r * n + c]) > fabs(M[p * n + c]))
                p = r;
        for (size_t q = 0; q < n; q++) {
            double t = M[c * n + q];
            M[c * n + q] = M[p * n + q];
            M[p * n + q] = t;
        }
        for (size_t q = 0; q < k; q++) {
            double t = B[c * k + q];
            B[c * k + q] = B[p * k + q];
            B[p * k + q] = t;
        }
        for (size_t r = c + 1; r < n; r++) {
            const double f = M[r * n + c] / M[c * n + c];
            for (size_t q = c; q < n; q++)
                M[r * n + q] -= f * M[c * n + q];
            for (size_t q = 0; q < k; q++)
                B[r * k + q] -= f * B[c * k + q];
        }
    }
    for (size_t c = n; c-- > 0;)
        for (size_t q = 0; q < k; q++) {
            double s = B[c * k + q];
            for (size_t r = c + 1; r < n; r++)
                s -= M[c * n + r] * B[r * k + q];
            B[c * k + q] = s / M[c * n + c];
        }
}

/* The dense kernel K = c·[(A + hL)⁻¹A]^s A⁻¹ from the mesh's Laplacian and
 * areas, by plain elimination (row-major n×n). */
static double *dense_heat_kernel(const otk_mesh *m, double h, int steps, double c)
{
    const size_t n = otk_mesh_vertex_count(m);
    const double *A = otk_mesh_areas(m);
    double *S = tk_alloc(n * n, sizeof *S), *K = tk_alloc(n * n, sizeof *K);
    for (size_t i = 0; i < n; i++)
        K[i * n + i] = 1.0 / A[i];
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                K[i * n + j] *= A[i];
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                S[i * n + j] = h * otk_mesh_laplacian_entry(m, i, j) + (i == j ? A[i] : 0.0);
        dense_solve(n, S, K, n);
    }
    for (size_t i = 0; i < n * n; i++)
        K[i] *= c;
    free(S);
    return K;
}

static void check_laplacian(const otk_mesh *m, uint64_t seed)
{
    const size_t n = otk_mesh_vertex_count(m);
    double *one = tk_alloc(n, sizeof(double)), *y = tk_alloc(n, sizeof(double)),
           *x = tk_alloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++)
        one[i] = 1.0;
    TK_ASSERT_OK(otk_mesh_laplacian_apply(m, one, y));
    double scale = 0.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(otk_mesh_laplacian_entry(m, i, i)));
    ck_assert_msg(tk_max_abs(y, n) <= 1e-13 * scale, "row sums: max |L 1| = %g", tk_max_abs(y, n));
    for (size_t i = 0; i < n; i += 7)
        for (size_t j = 0; j < n; j++)
            ck_assert(otk_mesh_laplacian_entry(m, i, j) == otk_mesh_laplacian_entry(m, j, i));
    tk_rng r = tk_rng_seed(seed);
    for (int t = 0; t < 20; t++) {
        for (size_t i = 0; i < n; i++)
            x[i] = tk_gauss(&r);
        TK_ASSERT_OK(otk_mesh_laplacian_apply(m, x, y));
        const double q = tk_dot(x, y, n);
        ck_assert_msg(q >= -1e-12 * scale * tk_dot(x, x, n), "x^T L x = %g < 0", q);
    }
    free(one);
    free(x);
    free(y);
}

/* ------------------------------------------------------------ Laplacian and areas */

START_TEST(test_square_laplacian_stencil)
{
    const size_t res = 8, V = res + 1;
    otk_mesh *m;
    TK_ASSERT_OK(otk_mesh_generate(&m, OTK_MESH_SQUARE, res));
    ck_assert_uint_eq(otk_mesh_vertex_count(m), V * V);
    ck_assert_uint_eq(otk_mesh_face_count(m), 2 * res * res);
    check_laplacian(m, 71);
    TK_ASSERT_REL(otk_mesh_total_area(m), 1.0, 1e-14);
    /* Interior vertices: the 5-point stencil (4 on the diagonal, −1 to the
     * four axis neighbours, 0 across the diagonals: the right angles opposite
     * them have cotangent 0), and area h², so L/area = −Δ_h. */
    const double hh = 1.0 / ((double)res * (double)res);
    for (size_t i = 1; i < res; i++)
        for (size_t j = 1; j < res; j++) {
            const size_t v = i * V + j;
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v), 4.0, 1e-14);
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v + 1), -1.0, 1e-14);
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v - 1), -1.0, 1e-14);
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v + V), -1.0, 1e-14);
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v - V), -1.0, 1e-14);
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v + V + 1), 0.0, 1e-14);
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v - V - 1), 0.0, 1e-14);
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(m, v, v + 2), 0.0, 0.0);
            TK_ASSERT_REL(otk_mesh_areas(m)[v], hh, 1e-13);
        }
    /* −Δ of x² + y² is −4: L u / area = −4 exactly at interior vertices. */
    const double *X = otk_mesh_coordinates(m);
    double u[81], Lu[81];
    for (size_t v = 0; v < V * V; v++)
        u[v] = X[3 * v] * X[3 * v] + X[3 * v + 1] * X[3 * v + 1];
    TK_ASSERT_OK(otk_mesh_laplacian_apply(m, u, Lu));
    for (size_t i = 1; i < res; i++)
        for (size_t j = 1; j < res; j++)
            TK_ASSERT_ABS(Lu[i * V + j] / otk_mesh_areas(m)[i * V + j], -4.0, 1e-11);
    otk_mesh_free(m);
}
END_TEST

START_TEST(test_sphere_and_torus_geometry)
{
    /* Icospheres are inscribed: the area error is O(h²), about 4 times
     * smaller per subdivision; at 4 subdivisions it is 0.12 %. */
    double err_prev = INFINITY;
    for (size_t res = 2; res <= 4; res++) {
        otk_mesh *m;
        TK_ASSERT_OK(otk_mesh_generate(&m, OTK_MESH_ICOSPHERE, res));
        ck_assert_uint_eq(otk_mesh_vertex_count(m), 10 * ((size_t)1 << (2 * res)) + 2);
        const double err = tk_rel_err(otk_mesh_total_area(m), 4.0 * M_PI);
        ck_assert_msg(err < err_prev / 3.5, "area error %g does not shrink (was %g)", err, err_prev);
        err_prev = err;
        if (res == 3)
            check_laplacian(m, 72);
        otk_mesh_free(m);
    }
    ck_assert_msg(err_prev < 2e-3, "icosphere(4) area error %g", err_prev);
    otk_mesh *t;
    TK_ASSERT_OK(otk_mesh_generate(&t, OTK_MESH_TORUS, 24));
    ck_assert_uint_eq(otk_mesh_vertex_count(t), 2 * 24 * 24);
    /* Torus area 4π²Rr = 4π²·0.4; the polygonal torus is within 1 %. */
    TK_ASSERT_REL(otk_mesh_total_area(t), 4.0 * M_PI * M_PI * 0.4, 1e-2);
    check_laplacian(t, 73);
    otk_mesh_free(t);
}
END_TEST

/* ------------------------------------------------------------ the kernel */

START_TEST(test_kernel_matches_dense)
{
    /* A small square mesh and a graph: entries of K from the cost (CHOLMOD)
     * against the kernel formed here by dense elimination. */
    otk_mesh *m;
    TK_ASSERT_OK(otk_mesh_generate(&m, OTK_MESH_SQUARE, 3));
    const size_t n = otk_mesh_vertex_count(m);
    for (int conv = 0; conv < 2; conv++) {
        otk_heat_params hp;
        otk_heat_params_default(&hp);
        hp.eps = 0.05;
        hp.steps = 3;
        hp.convention = (otk_heat_convention)conv;
        otk_cost *c;
        TK_ASSERT_OK(otk_cost_mesh(&c, m, &hp));
        ck_assert_str_eq(otk_cost_kind(c), "mesh");
        otk_mesh_stats st;
        TK_ASSERT_OK(otk_mesh_cost_stats(c, &st));
        const double t = conv == 0 ? 0.05 / 4 : 0.05 / 2;
        TK_ASSERT_REL(st.t, t, 1e-15);
        TK_ASSERT_REL(st.h, t / 3, 1e-15);
        double *K = dense_heat_kernel(m, t / 3, 3, 4.0 * M_PI * t);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                TK_ASSERT_REL(otk_cost_entry(c, i, j), -0.05 * log(K[i * n + j]), 1e-10);
                TK_ASSERT_REL(K[i * n + j], K[j * n + i], 1e-12);
            }
        free(K);
        otk_cost_free(c);
    }
    otk_mesh_free(m);

    /* A weighted path 0–1–2–3–4 plus a chord 0–4: graph Laplacian, masses 1, c = 1. */
    const size_t E[] = {0, 1, 1, 2, 2, 3, 3, 4, 0, 4};
    const double W[] = {1.0, 2.0, 0.5, 1.5, 0.25};
    otk_mesh *g;
    TK_ASSERT_OK(otk_mesh_from_graph(&g, 5, 5, E, W));
    ck_assert(otk_mesh_is_graph(g));
    ck_assert_ptr_null(otk_mesh_coordinates(g));
    TK_ASSERT_ABS(otk_mesh_laplacian_entry(g, 1, 1), 3.0, 0.0);
    TK_ASSERT_ABS(otk_mesh_laplacian_entry(g, 0, 4), -0.25, 0.0);
    check_laplacian(g, 74);
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    hp.eps = 2.0;
    hp.steps = 4;
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_mesh(&c, g, &hp));
    double *K = dense_heat_kernel(g, 0.5 / 4, 4, 1.0);
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++)
            TK_ASSERT_REL(otk_cost_entry(c, i, j), -2.0 * log(K[i * 5 + j]), 1e-12);
    free(K);
    otk_cost_free(c);
    otk_mesh_free(g);
}
END_TEST

/* ------------------------------------------------------------ OT on meshes */

/* On a flat square the heat kernel with t = ε/4 approaches exp(−|x−y|²/ε),
 * so heat-kernel OT between two bumps approaches sqeuclidean point-cloud OT
 * on the same vertices.  What remains is (i) the implicit-Euler bias: s
 * backward steps have the symbol (1 + t|k|²/s)^−s instead of exp(−t|k|²),
 * an O(1/s) error; (ii) the discretisation (h = 1/16 against √t = 0.1);
 * (iii) the reflecting (Neumann) boundary.  Measured: 3.3 % on OT_lin and
 * 4.5 % on OT_kl at s = 40 (6.9 % and 8.4 % at s = 10; 2.1 % and 3.1 % at
 * s = 160, what (ii) and (iii) leave), hence 8 % at s = 40; and the gap must
 * shrink with s.  A wrong convention (t = ε/2, or a missing 4πt) would be
 * off by tens of percent. */
START_TEST(test_square_heat_vs_euclidean)
{
    otk_mesh *m;
    TK_ASSERT_OK(otk_mesh_generate(&m, OTK_MESH_SQUARE, 16));
    const size_t n = otk_mesh_vertex_count(m);
    double *a = tk_alloc(n, sizeof(double)), *b = tk_alloc(n, sizeof(double)),
           *P2 = tk_alloc(2 * n, sizeof(double));
    const double c0[3] = {0.3, 0.35, 0}, c1[3] = {0.65, 0.6, 0};
    bumps(m, c0, c1, 0.09, a, b);
    for (size_t i = 0; i < n; i++) {
        P2[2 * i] = otk_mesh_coordinates(m)[3 * i];
        P2[2 * i + 1] = otk_mesh_coordinates(m)[3 * i + 1];
    }
    const double eps = 0.04;
    otk_sinkhorn_params sp;
    otk_sinkhorn_params_default(&sp);
    sp.eps = eps;
    sp.tol = 1e-9;
    sp.threads = 1;
    otk_cost *pc;
    TK_ASSERT_OK(otk_cost_points(&pc, n, n, 2, P2, P2, OTK_GROUND_SQEUCLIDEAN, 0));
    otk_sinkhorn *sref;
    otk_sinkhorn_result ref;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&sref, pc, &sp));
    TK_ASSERT_OK(otk_sinkhorn_solve(sref, a, b, &ref));
    double gap_prev = INFINITY;
    const int steps[2] = {10, 40};
    for (int k = 0; k < 2; k++) {
        otk_heat_params hp;
        otk_heat_params_default(&hp);
        hp.eps = eps;
        hp.steps = steps[k];
        otk_cost *c;
        TK_ASSERT_OK(otk_cost_mesh(&c, m, &hp));
        otk_sinkhorn *s;
        otk_sinkhorn_result r;
        sp.eps = 0.0; /* the cost's own ε */
        TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &sp));
        sp.eps = eps;
        TK_ASSERT_OK(otk_sinkhorn_solve(s, a, b, &r));
        TK_ASSERT_REL(r.eps, eps, 0.0);
        ck_assert_int_eq(r.annealing_iterations, 1); /* the schedule is [ε, ε] */
        const double gap = tk_rel_err(r.ot_lin, ref.ot_lin);
        ck_assert_msg(gap < gap_prev, "steps %d: gap %g did not shrink (%g)", steps[k], gap,
                      gap_prev);
        gap_prev = gap;
        if (k == 1) {
            TK_ASSERT_REL(r.ot_lin, ref.ot_lin, 0.08);
            TK_ASSERT_REL(r.ot_kl, ref.ot_kl, 0.08);
        }
        otk_sinkhorn_free(s);
        otk_cost_free(c);
    }
    otk_sinkhorn_free(sref);
    otk_cost_free(pc);
    free(a);
    free(b);
    free(P2);
    otk_mesh_free(m);
}
END_TEST

static void closed_surface_solve(otk_mesh_shape shape, size_t res, double eps, const double *c0,
                                 const double *c1)
{
    otk_mesh *m;
    TK_ASSERT_OK(otk_mesh_generate(&m, shape, res));
    const size_t n = otk_mesh_vertex_count(m);
    double *a = tk_alloc(n, sizeof(double)), *b = tk_alloc(n, sizeof(double)),
           *row = tk_alloc(n, sizeof(double)), *col = tk_alloc(n, sizeof(double));
    bumps(m, c0, c1, 0.3, a, b);
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    hp.eps = eps;
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_mesh(&c, m, &hp));
    otk_sinkhorn_params sp;
    otk_sinkhorn_params_default(&sp);
    sp.tol = 1e-8;
    sp.threads = 1;
    otk_sinkhorn *s;
    otk_sinkhorn_result r;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &sp));
    TK_ASSERT_OK(otk_sinkhorn_solve(s, a, b, &r));
    ck_assert_int_gt(r.iterations, 3);
    ck_assert(r.marginal_error <= 1e-8);
    TK_ASSERT_OK(otk_sinkhorn_marginals(s, row, col));
    TK_ASSERT_REL(tk_sum(row, n), 1.0, 1e-9);
    TK_ASSERT_REL(tk_sum(col, n), 1.0, 1e-9);
    TK_ASSERT_VEC_ABS(row, a, n, 1e-8, "row marginal");
    TK_ASSERT_VEC_ABS(col, b, n, 1e-8, "column marginal");
    ck_assert(r.ot_lin > 0.0 && isfinite(r.ot_kl));
    /* One factorisation, however many iterations: a second solve adds none. */
    otk_mesh_stats st0, st1;
    TK_ASSERT_OK(otk_mesh_cost_stats(c, &st0));
    ck_assert_int_eq(st0.factorisations, 1);
    ck_assert_int_ge(st0.kernel_applications, 2 * r.iterations);
    ck_assert_int_eq(st0.solves, st0.kernel_applications * 10);
    TK_ASSERT_OK(otk_sinkhorn_solve(s, b, a, &r));
    TK_ASSERT_OK(otk_mesh_cost_stats(c, &st1));
    ck_assert_int_eq(st1.factorisations, 1);
    ck_assert_int_gt(st1.solves, st0.solves);
    ck_assert_int_eq(st1.underflows, 0);
    otk_sinkhorn_free(s);

    /* The divergence on the same cost (three roles, one factorisation). */
    otk_divergence_params dp;
    otk_divergence_params_default(&dp);
    dp.threads = 1;
    otk_divergence *div;
    otk_divergence_result dr;
    TK_ASSERT_OK(otk_divergence_alloc_costs(&div, c, c, c, &dp));
    TK_ASSERT_OK(otk_divergence_solve(div, a, b, &dr));
    ck_assert(dr.divergence > 0.0 && isfinite(dr.divergence));
    TK_ASSERT_OK(otk_divergence_solve(div, a, a, &dr));
    TK_ASSERT_ABS(dr.divergence, 0.0, 1e-9);
    TK_ASSERT_OK(otk_mesh_cost_stats(c, &st1));
    ck_assert_int_eq(st1.factorisations, 1);
    otk_divergence_free(div);
    otk_cost_free(c);
    free(a);
    free(b);
    free(row);
    free(col);
    otk_mesh_free(m);
}

START_TEST(test_sphere_sinkhorn)
{
    const double north[3] = {0, 0, 1}, east[3] = {1, 0, 0};
    closed_surface_solve(OTK_MESH_ICOSPHERE, tk_quick() ? 2 : 3, 0.1, north, east);
}
END_TEST

START_TEST(test_torus_sinkhorn)
{
    const double p0[3] = {1.4, 0, 0}, p1[3] = {-0.6, 0, 0};
    closed_surface_solve(OTK_MESH_TORUS, tk_quick() ? 8 : 14, 0.1, p0, p1);
}
END_TEST

START_TEST(test_eps_handling)
{
    otk_mesh *m;
    TK_ASSERT_OK(otk_mesh_generate(&m, OTK_MESH_ICOSPHERE, 2));
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    hp.eps = 0.1;
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_mesh(&c, m, &hp));
    otk_sinkhorn_params sp;
    otk_sinkhorn_params_default(&sp);
    otk_sinkhorn *s = (otk_sinkhorn *)&s;
    sp.eps = 0.2;
    TK_ASSERT_FAILS(otk_sinkhorn_alloc(&s, c, &sp), OTK_EPARAM, "built for");
    otk_divergence_params dp;
    otk_divergence_params_default(&dp);
    dp.eps = 0.05;
    otk_divergence *div;
    TK_ASSERT_FAILS(otk_divergence_alloc_costs(&div, c, c, c, &dp), OTK_EPARAM, "built for");
    otk_cost_free(c);

    /* Far below the usable range: a path of 400 vertices, where one
     * implicit step gives K_{0,399} ≈ h^399 = 1e-798, far below the smallest
     * double.  Point masses at the two ends: the soft-min underflows and the
     * solver stops with a status instead of returning NaN. */
    const size_t n = 400;
    size_t *E = tk_alloc(2 * (n - 1), sizeof(size_t));
    for (size_t e = 0; e + 1 < n; e++) {
        E[2 * e] = e;
        E[2 * e + 1] = e + 1;
    }
    otk_mesh *path;
    TK_ASSERT_OK(otk_mesh_from_graph(&path, n, n - 1, E, NULL));
    hp.eps = 0.04;
    hp.steps = 1;
    TK_ASSERT_OK(otk_cost_mesh(&c, path, &hp));
    double *a = tk_alloc(n, sizeof(double)), *b = tk_alloc(n, sizeof(double));
    a[0] = 1.0;
    b[n - 1] = 1.0;
    sp.eps = 0.0;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &sp));
    otk_sinkhorn_result r;
    const int st = otk_sinkhorn_solve(s, a, b, &r);
    ck_assert_msg(st == OTK_ENUMERIC, "solve returned %s", otk_status_name(st));
    otk_mesh_stats ms;
    TK_ASSERT_OK(otk_mesh_cost_stats(c, &ms));
    ck_assert_int_gt(ms.underflows, 0);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    otk_mesh_free(path);
    free(E);
    free(a);
    free(b);

    otk_cost *pc;
    const double pt[3] = {0, 0, 0};
    TK_ASSERT_OK(otk_cost_points(&pc, 1, 1, 3, pt, pt, OTK_GROUND_SQEUCLIDEAN, 0));
    TK_ASSERT_FAILS(otk_mesh_cost_stats(pc, &ms), OTK_EUNSUPPORTED, "points");
    otk_cost_free(pc);
    hp.eps = -1.0;
    TK_ASSERT_FAILS(otk_cost_mesh(&c, m, &hp), OTK_EPARAM, "params.eps");
    hp.eps = 0.1;
    hp.steps = 0;
    TK_ASSERT_FAILS(otk_cost_mesh(&c, m, &hp), OTK_EPARAM, "params.steps");
    hp.steps = 1;
    hp.convention = (otk_heat_convention)7;
    TK_ASSERT_FAILS(otk_cost_mesh(&c, m, &hp), OTK_EPARAM, "params.convention");
    otk_mesh_free(m);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(test_bad_meshes)
{
    otk_mesh *m = (otk_mesh *)&m;
    /* A unit square as two triangles; variations below break it. */
    double X[] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 5, 5, 5};
    size_t F[] = {0, 1, 2, 0, 2, 3};
    TK_ASSERT_OK(otk_mesh_from_triangles(&m, 4, X, 2, F));
    TK_ASSERT_REL(otk_mesh_total_area(m), 1.0, 1e-15);
    otk_mesh_free(m);
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 5, X, 2, F), OTK_EDISCONNECTED,
                    "vertex 4 is referenced by no face");
    ck_assert_ptr_null(m);
    size_t Fbad[] = {0, 1, 2, 0, 2, 9};
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 4, X, 2, Fbad), OTK_ERANGE, "face 1 vertex 2 = 9");
    size_t Frep[] = {0, 1, 2, 0, 2, 2};
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 4, X, 2, Frep), OTK_EDEGENERATE,
                    "face 1 (0, 2, 2) repeats a vertex");
    double Xcol[] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 2, 2, 0};
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 4, Xcol, 2, F), OTK_EDEGENERATE,
                    "face 1 (0, 2, 3) has zero area");
    X[4] = NAN;
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 4, X, 2, F), OTK_ENONFINITE,
                    "vertex 1 coordinate 1");
    X[4] = 0.0;
    /* Three triangles on the edge (0, 2). */
    double X5[] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0.5, 0.5, 1};
    size_t F3[] = {0, 1, 2, 0, 2, 3, 0, 2, 4};
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 5, X5, 3, F3), OTK_ENONMANIFOLD, "edge (0, 2)");
    /* Two separate triangles. */
    double X6[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 5, 0, 0, 6, 0, 0, 5, 1, 0};
    size_t F6[] = {0, 1, 2, 3, 4, 5};
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 6, X6, 2, F6), OTK_EDISCONNECTED,
                    "2 connected components: vertex 3");
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 0, X, 2, F), OTK_ESIZE, "nv = 0");
    TK_ASSERT_FAILS(otk_mesh_from_triangles(&m, 4, NULL, 2, F), OTK_ENULL, "xyz");

    /* Graphs. */
    const size_t E[] = {0, 1, 1, 2, 3, 4};
    TK_ASSERT_FAILS(otk_mesh_from_graph(&m, 5, 3, E, NULL), OTK_EDISCONNECTED,
                    "vertex 3 is not connected to vertex 0");
    TK_ASSERT_FAILS(otk_mesh_from_graph(&m, 4, 2, E, NULL), OTK_EDISCONNECTED, "vertex 3");
    const size_t Eloop[] = {0, 1, 1, 1};
    TK_ASSERT_FAILS(otk_mesh_from_graph(&m, 2, 2, Eloop, NULL), OTK_EDEGENERATE,
                    "edge 1 is a self-loop");
    const size_t Eout[] = {0, 1, 1, 7};
    TK_ASSERT_FAILS(otk_mesh_from_graph(&m, 3, 2, Eout, NULL), OTK_ERANGE, "edge 1 (1, 7)");
    const double Wneg[] = {1.0, -2.0, 1.0}, Wnan[] = {NAN, 1.0, 1.0}, Wzero[] = {1, 0, 1};
    const size_t E3[] = {0, 1, 1, 2, 2, 0};
    TK_ASSERT_FAILS(otk_mesh_from_graph(&m, 3, 3, E3, Wneg), OTK_ENEGATIVE, "weights[1]");
    TK_ASSERT_FAILS(otk_mesh_from_graph(&m, 3, 3, E3, Wzero), OTK_ENEGATIVE, "weights[1]");
    TK_ASSERT_FAILS(otk_mesh_from_graph(&m, 3, 3, E3, Wnan), OTK_ENONFINITE, "weights[0]");
    TK_ASSERT_FAILS(otk_mesh_generate(&m, OTK_MESH_ICOSPHERE, 9), OTK_EPARAM, "res = 9");
    TK_ASSERT_FAILS(otk_mesh_generate(&m, OTK_MESH_TORUS, 2), OTK_EPARAM, "res = 2");
}
END_TEST

/* ------------------------------------------------------------ readers */

static char *write_temp(const char *name, const char *text)
{
    char *path = tk_alloc(256, 1);
    snprintf(path, 256, "/tmp/otk_test_mesh_%ld_%s", (long)getpid(), name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void read_fails(const char *name, const char *text, otk_status status, const char *needle)
{
    char *path = write_temp(name, text);
    otk_mesh *m = (otk_mesh *)&m;
    TK_ASSERT_FAILS(otk_mesh_read(&m, path), status, needle);
    ck_assert_ptr_null(m);
    unlink(path);
    free(path);
}

START_TEST(test_readers)
{
    /* The same square as a quad (OFF, split into a fan) and in OBJ with
     * slashes and a negative index; both give the two-triangle mesh. */
    char *off = write_temp("sq.off", "OFF\n# a comment\n4 1 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n"
                                     "4 0 1 2 3\n");
    char *obj = write_temp("sq.OBJ", "# square\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\n"
                                     "vn 0 0 1\nf 1//1 2//1 3//1\nf 1/1/1 3/1/1 -1\n");
    otk_mesh *a, *b;
    TK_ASSERT_OK(otk_mesh_read(&a, off));
    TK_ASSERT_OK(otk_mesh_read(&b, obj));
    ck_assert_uint_eq(otk_mesh_face_count(a), 2);
    ck_assert_uint_eq(otk_mesh_face_count(b), 2);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            TK_ASSERT_ABS(otk_mesh_laplacian_entry(a, i, j), otk_mesh_laplacian_entry(b, i, j),
                          1e-15);
    TK_ASSERT_REL(otk_mesh_total_area(a), 1.0, 1e-15);
    otk_mesh_free(a);
    otk_mesh_free(b);
    unlink(off);
    unlink(obj);
    free(off);
    free(obj);

    read_fails("h.off", "OFX\n", OTK_EPARSE, "h.off:1: expected the header");
    read_fails("c.off", "OFF\n4 x 0\n", OTK_EPARSE, "c.off:2: expected the counts");
    read_fails("v.off", "OFF\n3 1 0\n0 0 0\n1 0 nan\n0 1 0\n3 0 1 2\n", OTK_EPARSE,
               "v.off:4: vertex 1: coordinate 2");
    read_fails("i.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n\n3 0 1 5\n", OTK_EPARSE,
               "i.off:7: face 0: vertex index 5 is out of range");
    read_fails("t.off", "OFF\n3 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", OTK_EPARSE,
               "t.off:6: end of file after 3 of 3 vertices and 1 of 2 faces");
    read_fails("d.off", "OFF 3 1 0\n0 0 0\n1 0 0\n2 0 0\n3 0 1 2\n", OTK_EDEGENERATE,
               "d.off:5: otk_mesh_from_triangles: face 0 (0, 1, 2) has zero area");
    read_fails("u.obj", "v 0 0 0\nv 1 0 0\n# unused:\nv 5 5 5\nv 0 1 0\nf 1 2 4\n",
               OTK_EDISCONNECTED, "u.obj:4: otk_mesh_from_triangles: vertex 2 is referenced by no face");
    read_fails("m.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 -1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 2 1 5\n",
               OTK_ENONMANIFOLD, "m.obj:8: otk_mesh_from_triangles: edge (0, 1)");
    read_fails("f.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2\n", OTK_EPARSE,
               "f.obj:4: a face needs at least 3 vertices");
    read_fails("g.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n\nf 1 2 4\n", OTK_EPARSE,
               "g.obj:5: face corner 3 refers to a vertex not defined");
    read_fails("n.obj", "v 0 0 0\nv 1 zero 0\n", OTK_EPARSE, "n.obj:2: vertex 2: coordinate 1");
    read_fails("e.obj", "# nothing\n", OTK_EPARSE, "defines 0 vertices");
    read_fails("x.stl", "solid\n", OTK_EPARAM, "unknown extension");
    otk_mesh *m;
    TK_ASSERT_FAILS(otk_mesh_read(&m, "/nonexistent/dir/mesh.off"), OTK_EIO, "cannot open");
}
END_TEST

/* ------------------------------------------------------------ barycenter */

/* The generic barycenter (otkit/barycenter.h) on the heat kernel of a
 * sphere: runs, conserves mass, and puts the barycenter of bumps at the
 * north pole and on the equator around their geodesic midpoint. */
START_TEST(test_sphere_barycenter)
{
    otk_mesh *m;
    TK_ASSERT_OK(otk_mesh_generate(&m, OTK_MESH_ICOSPHERE, tk_quick() ? 2 : 3));
    const size_t n = otk_mesh_vertex_count(m);
    double *A = tk_alloc(2 * n, sizeof(double)), *bar = tk_alloc(n, sizeof(double));
    const double north[3] = {0, 0, 1}, east[3] = {1, 0, 0};
    bumps(m, north, east, 0.25, A, A + n);
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    hp.eps = 0.1;
    otk_cost *c;
    TK_ASSERT_OK(otk_cost_mesh(&c, m, &hp));
    otk_barycenter_params bp;
    otk_barycenter_params_default(&bp);
    bp.threads = 1;
    TK_ASSERT_FAILS(otk_barycenter(c, 2, A, NULL, &bp, bar, NULL), OTK_EPARAM, "built for");
    bp.eps = 0.1;
    const double *X = otk_mesh_coordinates(m);
    for (int debias = 0; debias < 2; debias++) {
        /* IBP reaches 1e-8 in ~16 iterations here; the debiased iteration's
         * damped update of d converges slowly (2e-4 after 1000 iterations),
         * so it is run to 1e-3 only, and its mass is checked to that: the
         * stopping error bounds the marginal violation. */
        bp.debias = debias;
        bp.tol = debias ? 1e-3 : 1e-8;
        otk_barycenter_result br;
        TK_ASSERT_OK(otk_barycenter(c, 2, A, NULL, &bp, bar, &br));
        ck_assert_int_gt(br.iterations, 1);
        TK_ASSERT_REL(tk_sum(bar, n), 1.0, debias ? 1e-3 : 1e-9);
        TK_ASSERT_REL(br.mass, tk_sum(bar, n), 1e-12);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(bar[i] >= 0.0 && isfinite(bar[i]), "bar[%zu] = %g", i, bar[i]);
        double mean[3] = {0, 0, 0};
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < 3; k++)
                mean[k] += bar[i] * X[3 * i + k];
        const double r = sqrt(mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]);
        const double cosang = (mean[0] + mean[2]) / (sqrt(2.0) * r);
        ck_assert_msg(cosang > 0.99 && fabs(mean[1]) < 1e-6,
                      "debias %d: barycenter mean (%g, %g, %g) is not toward (1, 0, 1)", debias,
                      mean[0], mean[1], mean[2]);
    }
    otk_mesh_stats st;
    TK_ASSERT_OK(otk_mesh_cost_stats(c, &st));
    ck_assert_int_eq(st.factorisations, 1);
    otk_cost_free(c);
    free(A);
    free(bar);
    otk_mesh_free(m);
}
END_TEST

Suite *mesh_suite(void)
{
    Suite *s = suite_create("mesh");
    TCase *tc = tcase_create("geometry");
    tcase_add_test(tc, test_square_laplacian_stencil);
    tcase_add_test(tc, test_sphere_and_torus_geometry);
    tcase_add_test(tc, test_bad_meshes);
    tcase_add_test(tc, test_readers);
    tk_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    tc = tcase_create("heat");
    tcase_add_test(tc, test_kernel_matches_dense);
    tcase_add_test(tc, test_square_heat_vs_euclidean);
    tcase_add_test(tc, test_sphere_sinkhorn);
    tcase_add_test(tc, test_torus_sinkhorn);
    tcase_add_test(tc, test_eps_handling);
    tcase_add_test(tc, test_sphere_barycenter);
    tk_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
