/*
 * tests/test_bad_input.c — the bad-input matrix (docs/reliability.md).
 *
 * One row per (public function, bad argument): NULL pointers, zero and huge
 * sizes (n·m, n·d, B·K overflowing size_t), NaN and ±Inf entries, negative
 * weights, zero mass, mismatched shapes, ε <= 0, NaN, huge and tiny, ρ <= 0
 * and unknown names.  Each row's call must return the documented status with
 * a message (otk_last_error) naming the argument, and must not crash (each
 * row runs in its own forked process) or leak (valgrind/ASan runs of the
 * suite).  Rows marked OK are valid extremes (ε huge or tiny): the call must
 * succeed or report non-convergence, and every value it returns be finite.
 *
 * A huge size is paired with a small buffer: a function that read its input
 * before checking the size would read out of bounds, which the sanitizers
 * and the forked row catch.
 */
#include <stdint.h>
#include "test_helpers.h"

enum { N = 5, M = 4, D = 2 };
static double X[N * D], Y[M * D], A[N], B[M], C[N * M];
static float XF[N * D], YF[M * D]; /* X and Y in float32 */
static const size_t HUGE_N = SIZE_MAX / 2 + 1; /* HUGE_N·2 overflows */

static void fixture(void)
{
    for (int i = 0; i < N * D; i++)
        X[i] = 0.3 * (double)((i * 7) % 5);
    for (int j = 0; j < M * D; j++)
        Y[j] = 0.25 * (double)((j * 3) % 7) + 0.1;
    for (int i = 0; i < N * D; i++)
        XF[i] = (float)X[i];
    for (int j = 0; j < M * D; j++)
        YF[j] = (float)Y[j];
    for (int i = 0; i < N; i++)
        A[i] = 1.0 / N;
    for (int j = 0; j < M; j++)
        B[j] = 1.0 / M;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < M; j++)
            C[i * M + j] = (double)((i + 2 * j) % 5);
}

/* A copy of v with entry i set to x (static storage, one per call site). */
static const double *with(const double *v, size_t n, size_t i, double x)
{
    static double buf[8][64];
    static int next;
    double *b = buf[next++ % 8];
    memcpy(b, v, n * sizeof *v);
    b[i] = x;
    return b;
}

/* The same for float32 arrays. */
static const float *withf(const float *v, size_t n, size_t i, float x)
{
    static float buf[8][64];
    static int next;
    float *b = buf[next++ % 8];
    memcpy(b, v, n * sizeof *v);
    b[i] = x;
    return b;
}

#define OK 1000 /* expected: success or not converged, all outputs finite */

typedef struct {
    const char *fn;    /* the public function */
    const char *what;  /* the bad argument */
    int expect;        /* the status, or OK */
    const char *msg;   /* a substring of otk_last_error() (the argument's name) */
    otk_status (*call)(double *out); /* out: values to check when OK */
} bad_case;

/* ------------------------------------------------------------ helpers */

static otk_sinkhorn_params sk_params(void)
{
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.eps = 0.05; /* a dense cost has no exponent for blur (otkit/cost.h) */
    p.threads = 1;
    p.max_iter = 500;
    return p;
}

/* Solve OT on the dense cost C with params p; the values into out[0..2]. */
static otk_status sk_run(otk_sinkhorn_params p, const double *a, const double *b, double *out)
{
    otk_cost *c = NULL;
    otk_status st = otk_cost_dense(&c, N, M, C, M);
    if (st)
        return st;
    otk_sinkhorn *s = NULL;
    st = otk_sinkhorn_alloc(&s, c, &p);
    if (st >= 0) {
        otk_sinkhorn_result r;
        st = otk_sinkhorn_solve(s, a, b, &r);
        if (st >= 0 && out) {
            out[0] = r.ot_kl;
            out[1] = r.ot_ent;
            out[2] = r.ot_lin;
        }
    }
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
}

/* The body may hold commas: it is the variadic part. */
#define CASE(name, ...)                                                                     \
    static otk_status name(double *out)                                                    \
    {                                                                                       \
        (void)out;                                                                          \
        __VA_ARGS__                                                                         \
    }

/* ------------------------------------------------------------ costs */
static otk_cost *cost_out;
#define FREE_COST_RET(expr)                                                                 \
    otk_status st = (expr);                                                                 \
    if (cost_out)                                                                           \
        otk_cost_free(cost_out);                                                            \
    cost_out = NULL;                                                                        \
    return st;

CASE(cp_null_out, return otk_cost_points(NULL, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0);)
CASE(cp_null_x, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, NULL, Y, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_null_y, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, X, NULL, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_zero_n, FREE_COST_RET(otk_cost_points(&cost_out, 0, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_zero_d, FREE_COST_RET(otk_cost_points(&cost_out, N, M, 0, X, Y, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_huge_nd, FREE_COST_RET(otk_cost_points(&cost_out, HUGE_N, M, 2, X, Y, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_huge_md, FREE_COST_RET(otk_cost_points(&cost_out, N, HUGE_N, 2, X, Y, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_nan_x, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, with(X, N * D, 3, NAN), Y, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_inf_y, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, X, with(Y, M * D, 5, INFINITY), OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_ninf_x, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, with(X, N * D, 0, -INFINITY), Y, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cp_bad_ground, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, X, Y, (otk_ground)99, 0)))
CASE(cp_lp_power0, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, X, Y, OTK_GROUND_LP, 0)))
CASE(cp_lp_power_nan, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, X, Y, OTK_GROUND_LP, NAN)))
CASE(cp_lp_power_neg, FREE_COST_RET(otk_cost_points(&cost_out, N, M, D, X, Y, OTK_GROUND_LP_OVER_P, -1)))
CASE(cd_null_c, FREE_COST_RET(otk_cost_dense(&cost_out, N, M, NULL, M)))
CASE(cd_zero_m, FREE_COST_RET(otk_cost_dense(&cost_out, N, 0, C, M)))
CASE(cd_huge_nm, FREE_COST_RET(otk_cost_dense(&cost_out, HUGE_N, 4, C, 4)))
CASE(cd_small_ld, FREE_COST_RET(otk_cost_dense(&cost_out, N, M, C, M - 1)))
CASE(cd_nan, FREE_COST_RET(otk_cost_dense(&cost_out, N, M, with(C, N * M, 7, NAN), M)))
CASE(cd_inf, FREE_COST_RET(otk_cost_dense(&cost_out, N, M, with(C, N * M, 19, INFINITY), M)))
CASE(cc_null_fn, FREE_COST_RET(otk_cost_callback(&cost_out, N, M, NULL, NULL, 1.0)))
CASE(cg_null_shape, FREE_COST_RET(otk_cost_grid(&cost_out, 2, NULL, NULL, OTK_GROUND_SQEUCLIDEAN, NULL)))
CASE(cg_zero_dim, {
    const size_t shape[2] = {3, 3};
    FREE_COST_RET(otk_cost_grid(&cost_out, 0, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL))
})
CASE(cg_zero_extent, {
    const size_t shape[2] = {3, 0};
    FREE_COST_RET(otk_cost_grid(&cost_out, 2, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL))
})
CASE(cg_huge_extent, {
    const size_t shape[2] = {HUGE_N, 4};
    FREE_COST_RET(otk_cost_grid(&cost_out, 2, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL))
})
CASE(cg_neg_spacing, {
    const size_t shape[2] = {3, 3};
    const double h[2] = {1, -1};
    FREE_COST_RET(otk_cost_grid(&cost_out, 2, shape, h, OTK_GROUND_SQEUCLIDEAN, NULL))
})
CASE(cg_nan_spacing, {
    const size_t shape[2] = {3, 3};
    const double h[2] = {NAN, 1};
    FREE_COST_RET(otk_cost_grid(&cost_out, 2, shape, h, OTK_GROUND_SQEUCLIDEAN, NULL))
})
CASE(cs_null_colptr, {
    const size_t rowind[1] = {0};
    const double v[1] = {0};
    FREE_COST_RET(otk_cost_sparse(&cost_out, 1, 1, NULL, rowind, v))
})
CASE(cs_bad_row, {
    const size_t colptr[3] = {0, 1, 2}, rowind[2] = {0, 7};
    const double v[2] = {0, 1};
    FREE_COST_RET(otk_cost_sparse(&cost_out, 2, 2, colptr, rowind, v))
})
CASE(cs_nan, {
    const size_t colptr[3] = {0, 1, 2}, rowind[2] = {0, 1};
    const double v[2] = {NAN, 1};
    FREE_COST_RET(otk_cost_sparse(&cost_out, 2, 2, colptr, rowind, v))
})
CASE(cs_empty_col, {
    const size_t colptr[3] = {0, 2, 2}, rowind[2] = {0, 1};
    const double v[2] = {0, 1};
    FREE_COST_RET(otk_cost_sparse(&cost_out, 2, 2, colptr, rowind, v))
})
CASE(cs_huge, {
    const size_t colptr[3] = {0, 1, 2}, rowind[2] = {0, 1};
    const double v[2] = {0, 1};
    FREE_COST_RET(otk_cost_sparse(&cost_out, HUGE_N, 2, colptr, rowind, v))
})
CASE(cs_huge_m, {
    const size_t colptr[3] = {0, 1, 2}, rowind[2] = {0, 1};
    const double v[2] = {0, 1};
    FREE_COST_RET(otk_cost_sparse(&cost_out, 2, SIZE_MAX, colptr, rowind, v))
})
CASE(gr_unknown_name, {
    otk_ground g;
    return otk_ground_from_name("manhattan-ish", &g);
})
CASE(gr_null_name, {
    otk_ground g;
    return otk_ground_from_name(NULL, &g);
})
CASE(softmin_null_h, {
    otk_cost_dense(&cost_out, N, M, C, M);
    double o[N];
    FREE_COST_RET(otk_cost_softmin(cost_out, 0, 0.1, NULL, o, 1))
})
CASE(softmin_eps0, {
    otk_cost_dense(&cost_out, N, M, C, M);
    double h[M] = {0}, o[N];
    FREE_COST_RET(otk_cost_softmin(cost_out, 0, 0.0, h, o, 1))
})
CASE(softmin_axis, {
    otk_cost_dense(&cost_out, N, M, C, M);
    double h[M] = {0}, o[N];
    FREE_COST_RET(otk_cost_softmin(cost_out, 2, 0.1, h, o, 1))
})
CASE(softmin_nan_h, {
    otk_cost_dense(&cost_out, N, M, C, M);
    double h[M] = {0, NAN, 0, 0}, o[N];
    FREE_COST_RET(otk_cost_softmin(cost_out, 0, 0.1, h, o, 1))
})

/* ------------------------------------------------------------ Sinkhorn */
CASE(sk_alloc_null_cost, {
    otk_sinkhorn *s = NULL;
    otk_sinkhorn_params p = sk_params();
    return otk_sinkhorn_alloc(&s, NULL, &p);
})
CASE(sk_null_a, return sk_run(sk_params(), NULL, B, out);)
CASE(sk_nan_a, return sk_run(sk_params(), with(A, N, 2, NAN), B, out);)
CASE(sk_inf_b, return sk_run(sk_params(), A, with(B, M, 1, INFINITY), out);)
CASE(sk_neg_a, {
    double a[N] = {0.5, -0.1, 0.2, 0.2, 0.2};
    return sk_run(sk_params(), a, B, out);
})
CASE(sk_zero_mass, {
    double a[N] = {0};
    return sk_run(sk_params(), a, B, out);
})
CASE(sk_unequal_mass, {
    double b[M] = {0.5, 0.5, 0.5, 0.5};
    return sk_run(sk_params(), A, b, out);
})
CASE(sk_eps_neg, {
    otk_sinkhorn_params p = sk_params();
    p.eps = -1;
    return sk_run(p, A, B, out);
})
CASE(sk_eps_nan, {
    otk_sinkhorn_params p = sk_params();
    p.eps = NAN;
    return sk_run(p, A, B, out);
})
CASE(sk_eps_inf, {
    otk_sinkhorn_params p = sk_params();
    p.eps = INFINITY;
    return sk_run(p, A, B, out);
})
CASE(sk_blur_zero, {
    otk_sinkhorn_params p = sk_params();
    p.eps = 0;
    p.blur = 0;
    return sk_run(p, A, B, out);
})
CASE(sk_blur_dense_no_p, {
    otk_sinkhorn_params p = sk_params();
    p.eps = 0; /* blur 0.05, the default, on numbers without an exponent */
    return sk_run(p, A, B, out);
})
CASE(sk_reach_dense_no_p, {
    otk_sinkhorn_params p = sk_params();
    p.reach = 0.3;
    return sk_run(p, A, B, out);
})
CASE(sk_eps_huge, {
    otk_sinkhorn_params p = sk_params();
    p.eps = 1e12;
    return sk_run(p, A, B, out);
})
CASE(sk_eps_tiny, {
    otk_sinkhorn_params p = sk_params();
    p.eps = 1e-12;
    return sk_run(p, A, B, out);
})
CASE(sk_eps_tiny_unbalanced, {
    otk_sinkhorn_params p = sk_params();
    p.eps = 1e-9;
    p.rho_a = p.rho_b = 1.0;
    double b[M] = {1, 2, 3, 4};
    return sk_run(p, A, b, out);
})
CASE(sk_rho_zero, {
    otk_sinkhorn_params p = sk_params();
    p.rho_a = 0;
    return sk_run(p, A, B, out);
})
CASE(sk_rho_neg, {
    otk_sinkhorn_params p = sk_params();
    p.rho_b = -2;
    return sk_run(p, A, B, out);
})
CASE(sk_rho_nan, {
    otk_sinkhorn_params p = sk_params();
    p.rho_a = NAN;
    return sk_run(p, A, B, out);
})
CASE(sk_reach_neg, {
    otk_sinkhorn_params p = sk_params();
    p.reach = -1;
    return sk_run(p, A, B, out);
})
CASE(sk_scaling_one, {
    otk_sinkhorn_params p = sk_params();
    p.scaling = 1;
    return sk_run(p, A, B, out);
})
CASE(sk_tol_neg, {
    otk_sinkhorn_params p = sk_params();
    p.tol = -1;
    return sk_run(p, A, B, out);
})
CASE(sk_max_iter0, {
    otk_sinkhorn_params p = sk_params();
    p.max_iter = 0;
    return sk_run(p, A, B, out);
})
CASE(sk_bad_schedule, {
    otk_sinkhorn_params p = sk_params();
    p.schedule = (otk_schedule)7;
    return sk_run(p, A, B, out);
})
CASE(sk_bad_update, {
    otk_sinkhorn_params p = sk_params();
    p.update = (otk_update)-4;
    return sk_run(p, A, B, out);
})
CASE(sk_diameter_nan, {
    otk_sinkhorn_params p = sk_params();
    p.diameter = NAN;
    return sk_run(p, A, B, out);
})
CASE(sk_iterate_before_set, {
    otk_cost *c = NULL;
    otk_cost_dense(&c, N, M, C, M);
    otk_sinkhorn *s = NULL;
    otk_sinkhorn_params p = sk_params();
    otk_sinkhorn_alloc(&s, c, &p);
    otk_status st = otk_sinkhorn_iterate(s);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
})
CASE(sk_plan_before_set, {
    otk_cost *c = NULL;
    otk_cost_dense(&c, N, M, C, M);
    otk_sinkhorn *s = NULL;
    otk_sinkhorn_params p = sk_params();
    otk_sinkhorn_alloc(&s, c, &p);
    double P[N * M];
    otk_status st = otk_sinkhorn_plan(s, P);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
})
CASE(sk_set_pot_nan, {
    otk_cost *c = NULL;
    otk_cost_dense(&c, N, M, C, M);
    otk_sinkhorn *s = NULL;
    otk_sinkhorn_params p = sk_params();
    otk_sinkhorn_alloc(&s, c, &p);
    otk_sinkhorn_set(s, A, B);
    double f[N] = {0, 0, NAN, 0, 0}, g[M] = {0};
    otk_status st = otk_sinkhorn_set_potentials(s, f, g);
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
})
CASE(pc_eps0, {
    double in[N] = {0}, o[N];
    return otk_potential_convert(N, 0.0, A, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_POT, in, o);
})
CASE(pc_bad_gauge, {
    double in[N] = {0}, o[N];
    return otk_potential_convert(N, 0.1, A, (otk_gauge)9, OTK_GAUGE_POT, in, o);
})
CASE(pc_zero_n, {
    double in[N] = {0}, o[N];
    return otk_potential_convert(0, 0.1, A, OTK_GAUGE_GEOMLOSS, OTK_GAUGE_OTT, in, o);
})

/* float32 point clouds (otk_cost_points_f32, otk_cost_points_set_f32) */
CASE(cpf_null_out, return otk_cost_points_f32(NULL, N, M, D, XF, YF, OTK_GROUND_SQEUCLIDEAN, 0);)
CASE(cpf_null_y, FREE_COST_RET(otk_cost_points_f32(&cost_out, N, M, D, XF, NULL, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cpf_huge_nd, FREE_COST_RET(otk_cost_points_f32(&cost_out, HUGE_N, M, 2, XF, YF, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cpf_nan_x, FREE_COST_RET(otk_cost_points_f32(&cost_out, N, M, D, withf(XF, N * D, 3, NAN), YF, OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cpf_inf_y, FREE_COST_RET(otk_cost_points_f32(&cost_out, N, M, D, XF, withf(YF, M * D, 5, INFINITY), OTK_GROUND_SQEUCLIDEAN, 0)))
CASE(cpf_bad_ground, FREE_COST_RET(otk_cost_points_f32(&cost_out, N, M, D, XF, YF, (otk_ground)99, 0)))
CASE(cpf_set_null, return otk_cost_points_set_f32(NULL, XF, YF);)
CASE(cpf_set_double_cost, {
    otk_status made = otk_cost_points(&cost_out, N, M, D, X, Y, OTK_GROUND_SQEUCLIDEAN, 0);
    if (made)
        return made;
    FREE_COST_RET(otk_cost_points_set_f32(cost_out, XF, NULL))
})
CASE(cpf_set_inf_y, {
    otk_status made = otk_cost_points_f32(&cost_out, N, M, D, XF, YF, OTK_GROUND_SQEUCLIDEAN, 0);
    if (made)
        return made;
    FREE_COST_RET(otk_cost_points_set_f32(cost_out, NULL, withf(YF, M * D, 6, -INFINITY)))
})

/* ------------------------------------------------------------ divergence */
static otk_status dv_run(size_t n, size_t d, const double *x, const double *a, double blur,
                         double reach, double *out)
{
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.threads = 1;
    p.blur = blur;
    p.reach = reach;
    p.max_iter = 500;
    otk_divergence *dv = NULL;
    otk_status st = otk_divergence_alloc_points(&dv, n, M, d, x, Y, OTK_GROUND_HALF_SQEUCLIDEAN,
                                                0, &p);
    if (st >= 0) {
        otk_divergence_result r;
        st = otk_divergence_solve(dv, a, B, &r);
        if (st >= 0 && out) {
            out[0] = r.divergence;
            double g[N * D];
            otk_status sg = otk_divergence_grad_x(dv, g);
            if (sg < 0)
                st = sg;
            for (size_t i = 0; i < N * D && i + 1 < 16; i++)
                out[1 + i] = g[i];
        }
    }
    otk_divergence_free(dv);
    return st;
}
CASE(dv_null_x, return dv_run(N, D, NULL, A, 0.1, 0, out);)
CASE(dv_zero_d, return dv_run(N, 0, X, A, 0.1, 0, out);)
CASE(dv_huge_n, return dv_run(HUGE_N, D, X, A, 0.1, 0, out);)
CASE(dv_nan_x, return dv_run(N, D, with(X, N * D, 4, NAN), A, 0.1, 0, out);)
CASE(dv_neg_a, return dv_run(N, D, X, with(A, N, 0, -0.2), 0.1, 0, out);)
CASE(dv_zero_mass, {
    double a[N] = {0};
    return dv_run(N, D, X, a, 0.1, 0, out);
})
CASE(dv_blur_neg, return dv_run(N, D, X, A, -0.1, 0, out);)
CASE(dv_blur_nan, return dv_run(N, D, X, A, NAN, 0, out);)
CASE(dv_reach_neg, return dv_run(N, D, X, A, 0.1, -1, out);)
CASE(dv_blur_huge, return dv_run(N, D, X, A, 1e6, 0, out);)
CASE(dv_blur_tiny, return dv_run(N, D, X, A, 1e-6, 0, out);)
/* The same runs in single precision (otk_divergence_alloc_points_f32). */
static otk_status dvf_run(size_t n, size_t d, const float *x, double blur, double *out)
{
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.threads = 1;
    p.blur = blur;
    p.max_iter = 500;
    otk_divergence *dv = NULL;
    otk_status st = otk_divergence_alloc_points_f32(&dv, n, M, d, x, YF,
                                                    OTK_GROUND_HALF_SQEUCLIDEAN, 0, &p);
    if (st >= 0) {
        otk_divergence_result r;
        st = otk_divergence_solve(dv, A, B, &r);
        if (st >= 0 && out) {
            out[0] = r.divergence;
            double g[N * D];
            otk_status sg = otk_divergence_grad_x(dv, g);
            if (sg < 0)
                st = sg;
            for (size_t i = 0; i < N * D && i + 1 < 16; i++)
                out[1 + i] = g[i];
        }
    }
    otk_divergence_free(dv);
    return st;
}
CASE(dvf_null_x, return dvf_run(N, D, NULL, 0.1, out);)
CASE(dvf_zero_d, return dvf_run(N, 0, XF, 0.1, out);)
CASE(dvf_huge_n, return dvf_run(HUGE_N, D, XF, 0.1, out);)
CASE(dvf_nan_x, return dvf_run(N, D, withf(XF, N * D, 4, NAN), 0.1, out);)
CASE(dvf_blur_huge, return dvf_run(N, D, XF, 1e6, out);)
CASE(dvf_blur_tiny, return dvf_run(N, D, XF, 1e-6, out);)
CASE(dvf_set_null, return otk_divergence_set_points_f32(NULL, XF, NULL);)
CASE(dvf_set_double_object, {
    otk_divergence *dv = NULL;
    otk_status st = otk_divergence_alloc_points(&dv, N, M, D, X, Y, OTK_GROUND_HALF_SQEUCLIDEAN,
                                                0, NULL);
    if (st == OTK_SUCCESS)
        st = otk_divergence_set_points_f32(dv, XF, NULL);
    otk_divergence_free(dv);
    return st;
})
CASE(dvf_set_nan_y, {
    otk_divergence *dv = NULL;
    otk_status st = otk_divergence_alloc_points_f32(&dv, N, M, D, XF, YF,
                                                    OTK_GROUND_HALF_SQEUCLIDEAN, 0, NULL);
    if (st == OTK_SUCCESS)
        st = otk_divergence_set_points_f32(dv, NULL, withf(YF, M * D, 2, NAN));
    otk_divergence_free(dv);
    return st;
})
CASE(dv_geomloss_p3, {
    double v;
    return otk_divergence_geomloss(&v, N, M, D, X, Y, A, B, 3.5, 0.1, 0, 0.5, 0, 1, NULL);
})
CASE(dv_geomloss_p0, {
    double v;
    return otk_divergence_geomloss(&v, N, M, D, X, Y, A, B, 0, 0.1, 0, 0.5, 0, 1, NULL);
})

/* ------------------------------------------------------------ SinKD, KD */
CASE(sd_zero_K, {
    otk_sinkd *sd = NULL;
    otk_status st = otk_sinkd_alloc(&sd, 2, 0, NULL);
    otk_sinkd_free(sd);
    return st;
})
CASE(sd_huge_BK, {
    otk_sinkd *sd = NULL;
    otk_status st = otk_sinkd_alloc(&sd, HUGE_N, 4, NULL);
    otk_sinkd_free(sd);
    return st;
})
CASE(sd_huge_BB, {
    otk_sinkd *sd = NULL;
    otk_status st = otk_sinkd_alloc(&sd, (size_t)1 << 33, 1, NULL);
    otk_sinkd_free(sd);
    return st;
})
CASE(sd_tau0, {
    otk_sinkd_params p;
    otk_sinkd_params_default(&p);
    p.tau = 0;
    otk_sinkd *sd = NULL;
    otk_status st = otk_sinkd_alloc(&sd, 2, 3, &p);
    otk_sinkd_free(sd);
    return st;
})
CASE(sd_eps_neg, {
    otk_sinkd_params p;
    otk_sinkd_params_default(&p);
    p.eps = -0.1;
    otk_sinkd *sd = NULL;
    otk_status st = otk_sinkd_alloc(&sd, 2, 3, &p);
    otk_sinkd_free(sd);
    return st;
})
CASE(sd_nan_logit, {
    otk_sinkd_params p;
    otk_sinkd_params_default(&p);
    p.threads = 1;
    otk_sinkd *sd = NULL;
    otk_sinkd_alloc(&sd, 2, 3, &p);
    double zs[6] = {1, 2, NAN, 0, 1, 3}, zt[6] = {0}, loss;
    otk_status st = otk_sinkd_loss(sd, zs, zt, &loss, NULL, NULL);
    otk_sinkd_free(sd);
    return st;
})
CASE(sd_bad_label, {
    otk_sinkd *sd = NULL;
    otk_sinkd_alloc(&sd, 2, 3, NULL);
    double zs[6] = {0}, zt[6] = {0}, g[6];
    int labels[2] = {0, 3};
    otk_sinkd_objective_parts parts;
    otk_status st = otk_sinkd_objective(sd, zs, zt, labels, 0.5, 0.1, OTK_KD_KL, 2, &parts, g);
    otk_sinkd_free(sd);
    return st;
})
CASE(kd_tau_nan, {
    double zs[6] = {0}, zt[6] = {0}, loss;
    return otk_kd_loss(OTK_KD_KL, 2, 3, zs, zt, NAN, &loss, NULL);
})
CASE(kd_bad_kind, {
    double zs[6] = {0}, zt[6] = {0}, loss;
    return otk_kd_loss((otk_kd_divergence)42, 2, 3, zs, zt, 1, &loss, NULL);
})
CASE(kd_huge, {
    double zs[6] = {0}, zt[6] = {0}, loss;
    return otk_kd_loss(OTK_KD_KL, HUGE_N, 2, zs, zt, 1, &loss, NULL);
})

/* ------------------------------------------------------------ barycenter, grid */
static otk_status bary_run(size_t K, const double *H, const double *w, double eps)
{
    const size_t shape[1] = {4};
    otk_cost *c = NULL;
    otk_cost_grid(&c, 1, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL);
    otk_barycenter_params p;
    otk_barycenter_params_default(&p);
    p.eps = eps;
    p.threads = 1;
    double o[4];
    otk_status st = otk_barycenter(c, K, H, w, &p, o, NULL);
    otk_cost_free(c);
    return st;
}
static const double H2[8] = {0.5, 0.5, 0, 0, 0, 0, 0.5, 0.5}, W2[2] = {0.5, 0.5};
CASE(by_zero_K, return bary_run(0, H2, W2, 0.5);)
CASE(by_huge_K, return bary_run(HUGE_N, H2, W2, 0.5);)
CASE(by_neg_hist, return bary_run(2, with(H2, 8, 1, -0.5), W2, 0.5);)
CASE(by_nan_weight, return bary_run(2, H2, with(W2, 2, 0, NAN), 0.5);)
CASE(by_eps0, return bary_run(2, H2, W2, 0);)
CASE(by_unequal_mass, return bary_run(2, with(H2, 8, 0, 3.0), W2, 0.5);)
CASE(gs_eps_neg, {
    const size_t shape[1] = {4};
    otk_cost_grid(&cost_out, 1, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL);
    double h[4] = {0}, o[4];
    FREE_COST_RET(otk_grid_softmin(cost_out, -1, h, o, 1))
})
CASE(gs_not_grid, {
    otk_cost_dense(&cost_out, N, M, C, M);
    double h[M] = {0}, o[N];
    FREE_COST_RET(otk_grid_softmin(cost_out, 0.1, h, o, 1))
})
CASE(gp_unknown_name, {
    otk_grid_path p;
    return otk_grid_path_from_name("fastest", &p);
})
CASE(gc_shape_mismatch, {
    const size_t shape[2] = {3, 4}, other[2] = {4, 3};
    otk_cost_grid(&cost_out, 2, shape, NULL, OTK_GROUND_SQEUCLIDEAN, NULL);
    FREE_COST_RET(otk_grid_check_shape(cost_out, 2, other))
})

/* ------------------------------------------------------------ Monge gap, maps */
static otk_status mg_run(size_t n, const double *x, const double *tx, const double *w, double eps,
                         double *out)
{
    otk_monge_gap_params p;
    otk_monge_gap_params_default(&p);
    p.eps = eps;
    p.threads = 1;
    otk_monge_gap_result r;
    otk_status st = otk_monge_gap_compute(n, D, x, tx, w, &p, &r, NULL, NULL);
    if (st >= 0 && out)
        out[0] = r.monge_gap;
    return st;
}
CASE(mg_null_tx, return mg_run(N, X, NULL, NULL, 0.1, out);)
CASE(mg_zero_n, return mg_run(0, X, X, NULL, 0.1, out);)
CASE(mg_huge_n, return mg_run(HUGE_N, X, X, NULL, 0.1, out);)
CASE(mg_nan_tx, return mg_run(N, X, with(X, N * D, 9, NAN), NULL, 0.1, out);)
CASE(mg_neg_w, return mg_run(N, X, X, with(A, N, 3, -1), 0.1, out);)
CASE(mg_eps_neg, return mg_run(N, X, X, NULL, -0.1, out);)
CASE(mg_eps_huge, return mg_run(N, X, X, NULL, 1e10, out);)
CASE(mg_eps_tiny, return mg_run(N, X, X, NULL, 1e-10, out);)
CASE(em_null_y, {
    otk_entropic_map *T = NULL;
    otk_status st = otk_entropic_map_fit(&T, N, M, D, X, NULL, NULL, NULL, OTK_GROUND_SQEUCLIDEAN, 0, NULL);
    otk_entropic_map_free(T);
    return st;
})
CASE(em_from_pot_eps0, {
    otk_entropic_map *T = NULL;
    double g[M] = {0};
    otk_status st = otk_entropic_map_from_potential(&T, M, D, Y, B, g, 0.0, OTK_GROUND_SQEUCLIDEAN, 0);
    otk_entropic_map_free(T);
    return st;
})
CASE(em_apply_nan, {
    otk_entropic_map *T = NULL;
    double g[M] = {0}, tz[N * D];
    otk_entropic_map_from_potential(&T, M, D, Y, B, g, 0.1, OTK_GROUND_SQEUCLIDEAN, 0);
    otk_status st = otk_entropic_map_apply(T, N, with(X, N * D, 1, NAN), tz, 1);
    otk_entropic_map_free(T);
    return st;
})
CASE(map_affine_zero_d, {
    otk_map *m = NULL;
    otk_status st = otk_map_alloc_affine(&m, 0);
    otk_map_free(m);
    return st;
})
CASE(map_affine_huge_d, {
    otk_map *m = NULL;
    otk_status st = otk_map_alloc_affine(&m, (size_t)1 << 40);
    otk_map_free(m);
    return st;
})
CASE(map_mlp_zero_width, {
    otk_map *m = NULL;
    const size_t w[2] = {4, 0};
    otk_status st = otk_map_alloc_mlp(&m, D, 2, w, OTK_ACTIVATION_GELU, 1);
    otk_map_free(m);
    return st;
})
CASE(map_mlp_huge_width, {
    otk_map *m = NULL;
    const size_t w[1] = {HUGE_N};
    otk_status st = otk_map_alloc_mlp(&m, D, 1, w, OTK_ACTIVATION_GELU, 1);
    otk_map_free(m);
    return st;
})
CASE(map_mlp_bad_activation, {
    otk_map *m = NULL;
    const size_t w[1] = {3};
    otk_status st = otk_map_alloc_mlp(&m, D, 1, w, (otk_activation)5, 1);
    otk_map_free(m);
    return st;
})
CASE(map_family_unknown, {
    otk_map_family f;
    return otk_map_family_from_name("quadratic", &f);
})
CASE(map_optimizer_unknown, {
    otk_optimizer o;
    return otk_optimizer_from_name("sgd-nesterov", &o);
})
CASE(map_activation_unknown, {
    otk_activation a;
    return otk_activation_from_name("relu6", &a);
})
CASE(map_lr_unknown, {
    otk_lr_schedule s;
    return otk_lr_schedule_from_name("step", &s);
})
CASE(map_apply_nan, {
    otk_map *m = NULL;
    otk_map_alloc_affine(&m, D);
    double tx[N * D];
    otk_status st = otk_map_apply(m, N, with(X, N * D, 2, NAN), tx, 1);
    otk_map_free(m);
    return st;
})
CASE(map_load_missing, {
    otk_map *m = NULL;
    return otk_map_load(&m, "/nonexistent/otk-map.txt");
})
CASE(map_fit_lambda_neg, {
    otk_map *m = NULL;
    otk_map_alloc_affine(&m, D);
    otk_map_fit_params p;
    otk_map_fit_params_default(&p);
    p.lambda = -1;
    otk_status st = otk_map_fit(m, N, M, D, X, Y, &p, NULL);
    otk_map_free(m);
    return st;
})
CASE(map_fit_dim_mismatch, {
    otk_map *m = NULL;
    otk_map_alloc_affine(&m, 3);
    otk_status st = otk_map_fit(m, N, M, D, X, Y, NULL, NULL);
    otk_map_free(m);
    return st;
})

/* ------------------------------------------------------------ meshes */
CASE(mesh_null_xyz, {
    otk_mesh *m = NULL;
    const size_t F[3] = {0, 1, 2};
    return otk_mesh_from_triangles(&m, 3, NULL, 1, F);
})
CASE(mesh_bad_index, {
    otk_mesh *m = NULL;
    const double xyz[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    const size_t F[3] = {0, 1, 5};
    otk_status st = otk_mesh_from_triangles(&m, 3, xyz, 1, F);
    otk_mesh_free(m);
    return st;
})
CASE(mesh_nan_xyz, {
    otk_mesh *m = NULL;
    const double xyz[9] = {0, 0, 0, 1, NAN, 0, 0, 1, 0};
    const size_t F[3] = {0, 1, 2};
    otk_status st = otk_mesh_from_triangles(&m, 3, xyz, 1, F);
    otk_mesh_free(m);
    return st;
})
CASE(mesh_degenerate, {
    otk_mesh *m = NULL;
    const double xyz[9] = {0, 0, 0, 1, 0, 0, 2, 0, 0};
    const size_t F[3] = {0, 1, 2};
    otk_status st = otk_mesh_from_triangles(&m, 3, xyz, 1, F);
    otk_mesh_free(m);
    return st;
})
CASE(mesh_huge_nf, {
    otk_mesh *m = NULL;
    const double xyz[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    const size_t F[3] = {0, 1, 2};
    otk_status st = otk_mesh_from_triangles(&m, 3, xyz, HUGE_N, F);
    otk_mesh_free(m);
    return st;
})
CASE(mesh_huge_nv, {
    otk_mesh *m = NULL;
    const double xyz[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    const size_t F[3] = {0, 1, 2};
    otk_status st = otk_mesh_from_triangles(&m, SIZE_MAX / 2, xyz, 1, F);
    otk_mesh_free(m);
    return st;
})
CASE(mesh_generate_res, {
    otk_mesh *m = NULL;
    otk_status st = otk_mesh_generate(&m, OTK_MESH_ICOSPHERE, 40);
    otk_mesh_free(m);
    return st;
})
CASE(mesh_generate_huge_res, {
    otk_mesh *m = NULL;
    otk_status st = otk_mesh_generate(&m, OTK_MESH_SQUARE, SIZE_MAX / 4);
    otk_mesh_free(m);
    return st;
})
CASE(mesh_read_ext, {
    otk_mesh *m = NULL;
    return otk_mesh_read(&m, "mesh.stl");
})
CASE(mesh_heat_eps0, {
    otk_mesh *m = NULL;
    otk_mesh_generate(&m, OTK_MESH_SQUARE, 2);
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    otk_status st = otk_cost_mesh(&cost_out, m, &hp);
    otk_cost_free(cost_out);
    cost_out = NULL;
    otk_mesh_free(m);
    return st;
})
CASE(mesh_heat_steps0, {
    otk_mesh *m = NULL;
    otk_mesh_generate(&m, OTK_MESH_SQUARE, 2);
    otk_heat_params hp;
    otk_heat_params_default(&hp);
    hp.eps = 0.1;
    hp.steps = 0;
    otk_status st = otk_cost_mesh(&cost_out, m, &hp);
    otk_cost_free(cost_out);
    cost_out = NULL;
    otk_mesh_free(m);
    return st;
})

/* ------------------------------------------------------------ float32 points */
static float Xf[N * D], Yf[M * D];
static void fixture_f32(void)
{
    for (int i = 0; i < N * D; i++)
        Xf[i] = (float)X[i];
    for (int j = 0; j < M * D; j++)
        Yf[j] = (float)Y[j];
}
/* A copy of the float32 v with entry i set to x. */
static const float *with_f32(const float *v, size_t n, size_t i, float x)
{
    static float buf[4][64];
    static int next;
    float *b = buf[next++ % 4];
    memcpy(b, v, n * sizeof *v);
    b[i] = x;
    return b;
}
#define CP32(n, m, d, x, y, ground, power)                                                  \
    fixture_f32();                                                                          \
    FREE_COST_RET(otk_cost_points_f32(&cost_out, n, m, d, x, y, ground, power))
CASE(cp32_null_out, {
    fixture_f32();
    return otk_cost_points_f32(NULL, N, M, D, Xf, Yf, OTK_GROUND_SQEUCLIDEAN, 0);
})
CASE(cp32_null_y, CP32(N, M, D, Xf, NULL, OTK_GROUND_SQEUCLIDEAN, 0))
CASE(cp32_zero_m, CP32(N, 0, D, Xf, Yf, OTK_GROUND_SQEUCLIDEAN, 0))
CASE(cp32_huge_nd, CP32(HUGE_N, M, 2, Xf, Yf, OTK_GROUND_SQEUCLIDEAN, 0))
CASE(cp32_huge_md, CP32(N, HUGE_N, 2, Xf, Yf, OTK_GROUND_SQEUCLIDEAN, 0))
CASE(cp32_nan_x, CP32(N, M, D, with_f32(Xf, N * D, 7, NAN), Yf, OTK_GROUND_SQEUCLIDEAN, 0))
CASE(cp32_inf_y, CP32(N, M, D, Xf, with_f32(Yf, M * D, 2, -INFINITY), OTK_GROUND_SQEUCLIDEAN, 0))
CASE(cp32_bad_ground, CP32(N, M, D, Xf, Yf, (otk_ground)42, 0))
CASE(cp32_lp_power_nan, CP32(N, M, D, Xf, Yf, OTK_GROUND_LP, NAN))
/* |x − y|² of points 1e20 apart is 1e40 > FLT_MAX: the float32 costs would
 * be infinite (in float64 the same points are fine). */
CASE(cp32_overflow, CP32(N, M, D, with_f32(Xf, N * D, 0, 1e20f), Yf, OTK_GROUND_SQEUCLIDEAN, 0))
CASE(cp32_overflow_lp, CP32(N, M, D, with_f32(Xf, N * D, 0, 1e10f), Yf, OTK_GROUND_LP, 6.0))
/* The largest span whose squares fit: a solve with every value finite. */
CASE(cp32_span_1e18, {
    fixture_f32();
    otk_cost *c = NULL;
    otk_status st = otk_cost_points_f32(&c, N, M, D, with_f32(Xf, N * D, 0, 1e18f), Yf,
                                        OTK_GROUND_SQEUCLIDEAN, 0);
    if (st < 0)
        return st;
    otk_sinkhorn_params p = sk_params();
    p.blur = 1e17;
    otk_sinkhorn *s = NULL;
    st = otk_sinkhorn_alloc(&s, c, &p);
    if (st >= 0) {
        otk_sinkhorn_result r;
        st = otk_sinkhorn_solve(s, A, B, &r);
        out[0] = r.ot_kl;
        out[1] = r.ot_lin;
        out[2] = r.marginal_error;
    }
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    return st;
})

/* ------------------------------------------------------------ exact (emd) */
static otk_status emd_run(const otk_cost *c, const otk_emd_params *p, const double *a,
                          const double *b, double *out)
{
    otk_emd *s = NULL;
    otk_status st = otk_emd_alloc(&s, c, p);
    if (st >= 0) {
        otk_emd_result r;
        st = otk_emd_solve(s, a, b, &r);
        if (st >= 0 && out) {
            out[0] = r.value;
            out[1] = r.dual_value;
            st = otk_emd_potentials(s, out + 2, out + 2 + N);
        }
    }
    otk_emd_free(s);
    return st;
}
#define EMD_DENSE(Cm, p, a, b)                                                              \
    otk_cost *c = NULL;                                                                     \
    otk_cost_dense(&c, N, M, Cm, M);                                                        \
    otk_status st = emd_run(c, p, a, b, out);                                               \
    otk_cost_free(c);                                                                       \
    return st;
CASE(emd_null_out, {
    otk_cost_dense(&cost_out, N, M, C, M);
    FREE_COST_RET(otk_emd_alloc(NULL, cost_out, NULL))
})
CASE(emd_null_cost, {
    otk_emd *s = NULL;
    return otk_emd_alloc(&s, NULL, NULL);
})
CASE(emd_max_iter_neg, {
    otk_emd_params p;
    otk_emd_params_default(&p);
    p.max_iter = -1;
    EMD_DENSE(C, &p, A, B)
})
CASE(emd_mass_tol_nan, {
    otk_emd_params p;
    otk_emd_params_default(&p);
    p.mass_tol = NAN;
    EMD_DENSE(C, &p, A, B)
})
/* Points 1e200 apart: their squared distance overflows to +Inf. */
CASE(emd_cost_inf, {
    otk_cost *c = NULL;
    otk_cost_points(&c, N, M, D, with(X, N * D, 6, 1e200), Y, OTK_GROUND_SQEUCLIDEAN, 0);
    otk_status st = emd_run(c, NULL, A, B, out);
    otk_cost_free(c);
    return st;
})
/* Finite costs whose potentials could overflow (3·max|C| is the artificial
 * arcs' cost): the dual value came out NaN with OTK_SUCCESS. */
CASE(emd_cost_huge, EMD_DENSE(with(C, N * M, 9, 1e308), NULL, A, B))
CASE(emd_cost_1e150, EMD_DENSE(with(C, N * M, 9, 1e150), NULL, A, B))
CASE(emd_nan_a, EMD_DENSE(C, NULL, with(A, N, 2, NAN), B))
CASE(emd_neg_b, EMD_DENSE(C, NULL, A, with(B, M, 3, -0.25)))
CASE(emd_zero_mass, {
    const double a[N] = {0};
    EMD_DENSE(C, NULL, a, B)
})
CASE(emd_unequal_mass, EMD_DENSE(C, NULL, with(A, N, 0, 0.5), B))
CASE(emd_solve_null, {
    otk_emd_result r;
    return otk_emd_solve(NULL, A, B, &r);
})
CASE(emd_plan_before_solve, {
    otk_cost_dense(&cost_out, N, M, C, M);
    otk_emd *s = NULL;
    otk_emd_alloc(&s, cost_out, NULL);
    size_t i[N + M], j[N + M];
    double mass[N + M];
    otk_status r = otk_emd_plan(s, i, j, mass);
    otk_emd_free(s);
    FREE_COST_RET(r)
})
CASE(emd_potentials_before_solve, {
    otk_cost_dense(&cost_out, N, M, C, M);
    otk_emd *s = NULL;
    otk_emd_alloc(&s, cost_out, NULL);
    double u[N], v[M];
    otk_status r = otk_emd_potentials(s, u, v);
    otk_emd_free(s);
    FREE_COST_RET(r)
})
/* Degenerate: every weight on one atom, the others zero. */
CASE(emd_zero_weights, {
    const double a[N] = {0, 0, 1, 0, 0}, b[M] = {0, 1, 0, 0};
    EMD_DENSE(C, NULL, a, b)
})

/* ------------------------------------------------------------ 1-D and sliced */
static otk_status w1d_run(size_t n, const double *x, const double *a, const double *b, double p,
                          double *out)
{
    double v = NAN, gx[N], ga[N];
    otk_status st = otk_wasserstein_1d(n, x, a, M, Y, b, p, &v, gx, NULL, ga, NULL);
    if (st >= 0 && out) {
        out[0] = v;
        memcpy(out + 1, gx, N * sizeof *gx);
        memcpy(out + 1 + N, ga, N * sizeof *ga);
    }
    return st;
}
CASE(w1d_null_x, return w1d_run(N, NULL, A, B, 2, out);)
CASE(w1d_zero_n, return w1d_run(0, X, A, B, 2, out);)
/* n huge with a 10-entry x: refused before x is read. */
CASE(w1d_huge_n, return w1d_run(HUGE_N, X, NULL, B, 2, out);)
CASE(w1d_nan_x, return w1d_run(N, with(X, N, 3, NAN), A, B, 2, out);)
CASE(w1d_neg_a, return w1d_run(N, X, with(A, N, 1, -1e-3), B, 2, out);)
CASE(w1d_zero_mass_b, {
    const double b[M] = {0};
    return w1d_run(N, X, A, b, 2, out);
})
CASE(w1d_inf_b, return w1d_run(N, X, A, with(B, M, 2, INFINITY), 2, out);)
CASE(w1d_p_half, return w1d_run(N, X, A, B, 0.5, out);)
CASE(w1d_p_nan, return w1d_run(N, X, A, B, NAN, out);)
/* W_2^2 of positions 1e200 apart is 1e400: it was returned as +Inf. */
CASE(w1d_overflow, return w1d_run(N, with(X, N, 0, 1e200), A, B, 2, out);)
CASE(w1d_p_large, return w1d_run(N, X, A, B, 40, out);)

static otk_status sliced_run(size_t n, size_t d, const otk_sliced_params *p, const double *dirs,
                             const double *x, const double *a, double *out)
{
    otk_sliced *s = NULL;
    otk_status st = otk_sliced_alloc(&s, n, M, d, p, dirs);
    if (st >= 0) {
        otk_sliced_result r;
        double gX[N * D];
        st = otk_sliced_eval(s, x, a, Y, B, &r, gX, NULL, NULL, NULL);
        if (st >= 0 && out) {
            out[0] = r.value;
            out[1] = r.max_value;
            memcpy(out + 2, gX, N * D * sizeof *gX);
        }
    }
    otk_sliced_free(s);
    return st;
}
static otk_sliced_params sl_params(size_t L)
{
    otk_sliced_params p;
    otk_sliced_params_default(&p);
    p.n_projections = L;
    return p;
}
CASE(sl_zero_d, {
    otk_sliced_params p = sl_params(4);
    return sliced_run(N, 0, &p, NULL, X, A, out);
})
CASE(sl_huge_nd, {
    otk_sliced_params p = sl_params(4);
    return sliced_run(HUGE_N, D, &p, NULL, X, A, out);
})
/* L·d overflowing: L·d·8 wrapped to a small block written L·d times. */
CASE(sl_huge_Ld, {
    otk_sliced_params p = sl_params(HUGE_N);
    return sliced_run(N, D, &p, NULL, X, A, out);
})
CASE(sl_zero_L, {
    otk_sliced_params p = sl_params(0);
    return sliced_run(N, D, &p, NULL, X, A, out);
})
CASE(sl_p_below_1, {
    otk_sliced_params p = sl_params(4);
    p.p = 0.9;
    return sliced_run(N, D, &p, NULL, X, A, out);
})
CASE(sl_bad_kind, {
    otk_sliced_params p = sl_params(4);
    p.directions = (otk_directions)7;
    return sliced_run(N, D, &p, NULL, X, A, out);
})
CASE(sl_halton_big_d, {
    otk_sliced_params p = sl_params(4);
    p.directions = OTK_DIRECTIONS_HALTON;
    otk_sliced *s = NULL;
    otk_status st = otk_sliced_alloc(&s, N, M, 1001, &p, NULL);
    otk_sliced_free(s);
    return st;
})
CASE(sl_zero_direction, {
    otk_sliced_params p = sl_params(3);
    const double dirs[3 * D] = {1, 0, 0, 0, 0.6, 0.8};
    return sliced_run(N, D, &p, dirs, X, A, out);
})
CASE(sl_nan_direction, {
    otk_sliced_params p = sl_params(3);
    const double dirs[3 * D] = {1, 0, 0, 1, NAN, 0.8};
    return sliced_run(N, D, &p, dirs, X, A, out);
})
CASE(sl_eval_nan_x, {
    otk_sliced_params p = sl_params(4);
    return sliced_run(N, D, &p, NULL, with(X, N * D, 8, NAN), A, out);
})
CASE(sl_eval_neg_a, {
    otk_sliced_params p = sl_params(4);
    return sliced_run(N, D, &p, NULL, X, with(A, N, 4, -0.5), out);
})
CASE(sl_eval_null_y, {
    otk_sliced_params p = sl_params(4);
    otk_sliced *s = NULL;
    otk_sliced_alloc(&s, N, M, D, &p, NULL);
    otk_status st = otk_sliced_eval(s, X, A, NULL, B, NULL, NULL, NULL, NULL, NULL);
    otk_sliced_free(s);
    return st;
})
CASE(sl_eval_overflow, {
    otk_sliced_params p = sl_params(4);
    return sliced_run(N, D, &p, NULL, with(X, N * D, 2, 1e200), A, out);
})
CASE(sl_directions_unknown, {
    otk_directions k;
    return otk_directions_from_name("sobol", &k);
})
CASE(sl_one_projection, {
    otk_sliced_params p = sl_params(1);
    return sliced_run(N, D, &p, NULL, X, A, out);
})

/* ------------------------------------------------------------ f-divergences */
enum { FB = 2, FK = 3 };
static const double FP[FB * FK] = {0.2, 0.3, 0.5, 0.6, 0.3, 0.1};
static const double FQ[FB * FK] = {0.3, 0.3, 0.4, 0.1, 0.1, 0.8};
static otk_fdiv_params fd_params(otk_fdiv_kind kind)
{
    otk_fdiv_params p;
    otk_fdiv_params_default(&p);
    p.kind = kind;
    p.threads = 1;
    return p;
}
static otk_status fd_probs(const otk_fdiv_params *p, size_t B_, size_t K, const double *pp,
                           const double *qq, double *out)
{
    double v[FB], gp[FB * FK], gq[FB * FK];
    otk_status st = otk_fdiv_probs(p, B_, K, pp, qq, v, gp, gq);
    if (st >= 0 && out) {
        out[0] = v[0];
        memcpy(out + 1, gp, FB * FK * sizeof *gp);
    }
    return st;
}
static otk_status fd_logits(const otk_fdiv_params *p, const double *zp, const double *zq,
                            double *out)
{
    double v, gp[FB * FK], gq[FB * FK];
    otk_status st = otk_fdiv_logits(p, FB, FK, zp, zq, &v, gp, gq);
    if (st >= 0 && out) {
        out[0] = v;
        memcpy(out + 1, gp, FB * FK * sizeof *gp);
        memcpy(out + 1 + FB * FK, gq, FB * FK * sizeof *gq);
    }
    return st;
}
CASE(fd_null_q, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    return fd_probs(&p, FB, FK, FP, NULL, out);
})
CASE(fd_zero_K, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    return fd_probs(&p, FB, 0, FP, FQ, out);
})
CASE(fd_huge_BK, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    return fd_probs(&p, HUGE_N, 2, FP, FQ, out);
})
CASE(fd_nan_p, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    return fd_probs(&p, FB, FK, with(FP, FB * FK, 5, NAN), FQ, out);
})
CASE(fd_neg_q, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    return fd_probs(&p, FB, FK, FP, with(FQ, FB * FK, 4, -0.1), out);
})
CASE(fd_bad_kind, {
    otk_fdiv_params p = fd_params((otk_fdiv_kind)31);
    return fd_probs(&p, FB, FK, FP, FQ, out);
})
CASE(fd_alpha_inf, {
    otk_fdiv_params p = fd_params(OTK_FDIV_ALPHA);
    p.alpha = INFINITY;
    return fd_probs(&p, FB, FK, FP, FQ, out);
})
CASE(fd_custom_null, {
    otk_fdiv_params p = fd_params(OTK_FDIV_CUSTOM);
    return fd_probs(&p, FB, FK, FP, FQ, out);
})
CASE(fd_bad_reduction, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    p.reduction = (otk_reduction_kind)5;
    return fd_probs(&p, FB, FK, FP, FQ, out);
})
CASE(fd_smoothing_one, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    p.smoothing = 1.0;
    return fd_probs(&p, FB, FK, FP, FQ, out);
})
/* ∂KL/∂p at p = 0 is −∞: the row and the class are named. */
CASE(fd_kl_grad_zero_p, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    return fd_probs(&p, FB, FK, with(FP, FB * FK, 4, 0.0), FQ, out);
})
CASE(fd_kl_smoothed_zero_p, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    p.smoothing = 1e-6;
    return fd_probs(&p, FB, FK, with(FP, FB * FK, 4, 0.0), FQ, out);
})
CASE(fd_logits_tau0, {
    otk_fdiv_params p = fd_params(OTK_FDIV_JS);
    p.tau = 0.0;
    return fd_logits(&p, FP, FQ, out);
})
CASE(fd_logits_inf, {
    otk_fdiv_params p = fd_params(OTK_FDIV_KL);
    return fd_logits(&p, FP, with(FQ, FB * FK, 2, -INFINITY), out);
})
/* Logits of ±1e300 (probabilities that underflow to 0): the log-sum-exp
 * keeps every value and gradient finite (fdiv.h). */
CASE(fd_logits_huge, {
    otk_fdiv_params p = fd_params(OTK_FDIV_REVERSE_KL);
    const double zp[FB * FK] = {1e300, -1e300, 0, 5, 6, 7};
    return fd_logits(&p, zp, FQ, out);
})
CASE(fd_kind_unknown, {
    otk_fdiv_kind k;
    return otk_fdiv_kind_from_name("renyi", &k);
})
CASE(fd_reduction_unknown, {
    otk_reduction_kind r;
    return otk_reduction_kind_from_name("max", &r);
})

static otk_status psi_run(const otk_bins_params *p, const double *ref, size_t n_ref,
                          double *out)
{
    double psi = NAN, edges[4], per_bin[5];
    size_t m = 0;
    otk_status st = otk_psi(p, ref, n_ref, Y, M * D, &psi, &m, edges, per_bin);
    if (st >= 0 && out) {
        out[0] = psi;
        for (size_t i = 0; i < m; i++)
            out[1 + i] = per_bin[i];
    }
    return st;
}
static otk_bins_params bins(otk_binning binning, size_t n_bins)
{
    otk_bins_params p;
    otk_bins_params_default(&p);
    p.binning = binning;
    p.bins = n_bins;
    return p;
}
CASE(psi_counts_zero_m, {
    double psi;
    return otk_psi_counts(0, A, A, 1e-4, &psi, NULL);
})
CASE(psi_counts_neg, {
    double psi;
    return otk_psi_counts(N, with(A, N, 2, -1.0), A, 1e-4, &psi, NULL);
})
CASE(psi_counts_zero_actual, {
    const double a[N] = {0};
    double psi;
    return otk_psi_counts(N, A, a, 1e-4, &psi, NULL);
})
CASE(psi_counts_floor_one, {
    double psi;
    return otk_psi_counts(N, A, A, 1.0, &psi, NULL);
})
CASE(psi_null_actual, {
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 4);
    double psi;
    return otk_psi(&p, X, N * D, NULL, 3, &psi, NULL, NULL, NULL);
})
CASE(psi_zero_n_ref, {
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 4);
    return psi_run(&p, X, 0, out);
})
CASE(psi_nan_ref, {
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 4);
    return psi_run(&p, with(X, N * D, 6, NAN), N * D, out);
})
CASE(psi_bins0, {
    otk_bins_params p = bins(OTK_BINNING_EQUAL_WIDTH, 0);
    return psi_run(&p, X, N * D, out);
})
/* 3·bins doubles overflowing: 24·bins wrapped to 8 bytes and the edges
 * were written past them, bins − 1 times. */
CASE(psi_bins_huge, {
    otk_bins_params p = bins(OTK_BINNING_EQUAL_WIDTH, (SIZE_MAX / 24) + 1);
    return psi_run(&p, X, N * D, out);
})
CASE(psi_n_edges_huge, {
    const double e[2] = {0.1, 0.2};
    otk_bins_params p = bins(OTK_BINNING_EDGES, 0);
    p.edges = e;
    p.n_edges = SIZE_MAX;
    return psi_run(&p, X, N * D, out);
})
CASE(psi_edges_not_increasing, {
    const double e[3] = {0.1, 0.5, 0.5};
    otk_bins_params p = bins(OTK_BINNING_EDGES, 0);
    p.edges = e;
    p.n_edges = 3;
    return psi_run(&p, X, N * D, out);
})
CASE(psi_edges_nan, {
    const double e[3] = {0.1, NAN, 0.9};
    otk_bins_params p = bins(OTK_BINNING_EDGES, 0);
    p.edges = e;
    p.n_edges = 3;
    return psi_run(&p, X, N * D, out);
})
CASE(psi_edges_null, {
    otk_bins_params p = bins(OTK_BINNING_EDGES, 0);
    p.n_edges = 2;
    return psi_run(&p, X, N * D, out);
})
CASE(psi_bad_binning, {
    otk_bins_params p = bins((otk_binning)9, 4);
    return psi_run(&p, X, N * D, out);
})
CASE(psi_floor_neg, {
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 4);
    p.floor = -1e-4;
    return psi_run(&p, X, N * D, out);
})
/* One reference value: every quantile edge is the same, merged to one bin. */
CASE(psi_constant_ref, {
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 4);
    return psi_run(&p, X, 1, out);
})
CASE(iv_bad_label, {
    const int y[N] = {0, 1, 0, 2, 1};
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 2);
    double iv;
    return otk_information_value(&p, X, y, N, &iv, NULL, NULL, NULL);
})
CASE(iv_no_events, {
    const int y[N] = {0};
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 2);
    double iv;
    return otk_information_value(&p, X, y, N, &iv, NULL, NULL, NULL);
})
CASE(iv_nan_x, {
    const int y[N] = {0, 1, 0, 1, 1};
    otk_bins_params p = bins(OTK_BINNING_QUANTILE, 2);
    double iv;
    return otk_information_value(&p, with(X, N, 1, NAN), y, N, &iv, NULL, NULL, NULL);
})
CASE(binning_unknown, {
    otk_binning b;
    return otk_binning_from_name("kmeans", &b);
})

#define ROW(fn, what, expect, msg, call) {fn, what, expect, msg, call}
static const bad_case cases[] = {
    ROW("otk_cost_points", "out NULL", OTK_ENULL, "out", cp_null_out),
    ROW("otk_cost_points", "x NULL", OTK_ENULL, "x", cp_null_x),
    ROW("otk_cost_points", "y NULL", OTK_ENULL, "y", cp_null_y),
    ROW("otk_cost_points", "n = 0", OTK_ESIZE, "n", cp_zero_n),
    ROW("otk_cost_points", "d = 0", OTK_ESIZE, "d", cp_zero_d),
    ROW("otk_cost_points", "n·d overflows", OTK_ESIZE, "n", cp_huge_nd),
    ROW("otk_cost_points", "m·d overflows", OTK_ESIZE, "m", cp_huge_md),
    ROW("otk_cost_points", "x NaN", OTK_ENONFINITE, "x", cp_nan_x),
    ROW("otk_cost_points", "y +Inf", OTK_ENONFINITE, "y", cp_inf_y),
    ROW("otk_cost_points", "x -Inf", OTK_ENONFINITE, "x", cp_ninf_x),
    ROW("otk_cost_points", "ground unknown", OTK_EPARAM, "ground", cp_bad_ground),
    ROW("otk_cost_points", "power 0 (lp)", OTK_EPARAM, "power", cp_lp_power0),
    ROW("otk_cost_points", "power NaN (lp)", OTK_EPARAM, "power", cp_lp_power_nan),
    ROW("otk_cost_points", "power < 0 (lp-over-p)", OTK_EPARAM, "power", cp_lp_power_neg),
    ROW("otk_cost_points_f32", "out NULL", OTK_ENULL, "out", cpf_null_out),
    ROW("otk_cost_points_f32", "y NULL", OTK_ENULL, "y", cpf_null_y),
    ROW("otk_cost_points_f32", "n·d overflows", OTK_ESIZE, "n", cpf_huge_nd),
    ROW("otk_cost_points_f32", "x NaN", OTK_ENONFINITE, "x[3]", cpf_nan_x),
    ROW("otk_cost_points_f32", "y +Inf", OTK_ENONFINITE, "y[5]", cpf_inf_y),
    ROW("otk_cost_points_f32", "ground unknown", OTK_EPARAM, "ground", cpf_bad_ground),
    ROW("otk_cost_points_set_f32", "cost NULL", OTK_ENULL, "cost", cpf_set_null),
    ROW("otk_cost_points_set_f32", "float64 cost", OTK_EUNSUPPORTED, "otk_cost_points_f32",
        cpf_set_double_cost),
    ROW("otk_cost_points_set_f32", "y -Inf", OTK_ENONFINITE, "y[6]", cpf_set_inf_y),
    ROW("otk_cost_dense", "C NULL", OTK_ENULL, "C", cd_null_c),
    ROW("otk_cost_dense", "m = 0", OTK_ESIZE, "m", cd_zero_m),
    ROW("otk_cost_dense", "n·ld overflows", OTK_ESIZE, "n", cd_huge_nm),
    ROW("otk_cost_dense", "ld < m", OTK_ESIZE, "ld", cd_small_ld),
    ROW("otk_cost_dense", "C NaN", OTK_ENONFINITE, "C", cd_nan),
    ROW("otk_cost_dense", "C +Inf", OTK_ENONFINITE, "C", cd_inf),
    ROW("otk_cost_callback", "fn NULL", OTK_ENULL, "fn", cc_null_fn),
    ROW("otk_cost_grid", "shape NULL", OTK_ENULL, "shape", cg_null_shape),
    ROW("otk_cost_grid", "dim 0", OTK_EPARAM, "dim", cg_zero_dim),
    ROW("otk_cost_grid", "shape[1] = 0", OTK_ESIZE, "shape", cg_zero_extent),
    ROW("otk_cost_grid", "cells overflow", OTK_ESIZE, "shape", cg_huge_extent),
    ROW("otk_cost_grid", "spacing < 0", OTK_EPARAM, "spacing", cg_neg_spacing),
    ROW("otk_cost_grid", "spacing NaN", OTK_EPARAM, "spacing", cg_nan_spacing),
    ROW("otk_cost_sparse", "colptr NULL", OTK_ENULL, "colptr", cs_null_colptr),
    ROW("otk_cost_sparse", "row index out of range", OTK_ERANGE, "rowind", cs_bad_row),
    ROW("otk_cost_sparse", "value NaN", OTK_ENONFINITE, "values", cs_nan),
    ROW("otk_cost_sparse", "empty column", OTK_EEMPTY, "column", cs_empty_col),
    ROW("otk_cost_sparse", "n huge (> nnz)", OTK_EEMPTY, "n =", cs_huge),
    ROW("otk_cost_sparse", "m huge", OTK_ESIZE, "m =", cs_huge_m),
    ROW("otk_ground_from_name", "unknown name", OTK_EPARAM, "manhattan-ish", gr_unknown_name),
    ROW("otk_ground_from_name", "name NULL", OTK_ENULL, "name", gr_null_name),
    ROW("otk_cost_softmin", "h NULL", OTK_ENULL, "h", softmin_null_h),
    ROW("otk_cost_softmin", "eps 0", OTK_EPARAM, "eps", softmin_eps0),
    ROW("otk_cost_softmin", "axis 2", OTK_EPARAM, "axis", softmin_axis),
    ROW("otk_cost_softmin", "h NaN", OTK_ENONFINITE, "h", softmin_nan_h),
    ROW("otk_sinkhorn_alloc", "cost NULL", OTK_ENULL, "cost", sk_alloc_null_cost),
    ROW("otk_sinkhorn_solve", "a NULL (uniform)", OK, "", sk_null_a),
    ROW("otk_sinkhorn_solve", "a NaN", OTK_ENONFINITE, "a", sk_nan_a),
    ROW("otk_sinkhorn_solve", "b +Inf", OTK_ENONFINITE, "b", sk_inf_b),
    ROW("otk_sinkhorn_solve", "a negative", OTK_ENEGATIVE, "a", sk_neg_a),
    ROW("otk_sinkhorn_solve", "a zero mass", OTK_EZEROMASS, "a", sk_zero_mass),
    ROW("otk_sinkhorn_solve", "unequal masses", OTK_EMASS, "mass", sk_unequal_mass),
    ROW("otk_sinkhorn_alloc", "eps < 0", OTK_EPARAM, "eps", sk_eps_neg),
    ROW("otk_sinkhorn_alloc", "eps NaN", OTK_EPARAM, "eps", sk_eps_nan),
    ROW("otk_sinkhorn_alloc", "eps +Inf", OTK_EPARAM, "eps", sk_eps_inf),
    ROW("otk_sinkhorn_alloc", "blur 0 (eps 0)", OTK_EPARAM, "blur", sk_blur_zero),
    ROW("otk_sinkhorn_alloc", "blur on a dense cost, p unset", OTK_EPARAM, "params.p", sk_blur_dense_no_p),
    ROW("otk_sinkhorn_alloc", "reach on a dense cost, p unset", OTK_EPARAM, "params.p", sk_reach_dense_no_p),
    ROW("otk_sinkhorn_solve", "eps 1e12 (huge)", OK, "", sk_eps_huge),
    ROW("otk_sinkhorn_solve", "eps 1e-12 (tiny)", OK, "", sk_eps_tiny),
    ROW("otk_sinkhorn_solve", "eps 1e-9 unbalanced", OK, "", sk_eps_tiny_unbalanced),
    ROW("otk_sinkhorn_alloc", "rho_a 0", OTK_EPARAM, "rho_a", sk_rho_zero),
    ROW("otk_sinkhorn_alloc", "rho_b < 0", OTK_EPARAM, "rho_b", sk_rho_neg),
    ROW("otk_sinkhorn_alloc", "rho_a NaN", OTK_EPARAM, "rho_a", sk_rho_nan),
    ROW("otk_sinkhorn_alloc", "reach < 0", OTK_EPARAM, "reach", sk_reach_neg),
    ROW("otk_sinkhorn_alloc", "scaling 1", OTK_EPARAM, "scaling", sk_scaling_one),
    ROW("otk_sinkhorn_alloc", "tol < 0", OTK_EPARAM, "tol", sk_tol_neg),
    ROW("otk_sinkhorn_alloc", "max_iter 0", OTK_EPARAM, "max_iter", sk_max_iter0),
    ROW("otk_sinkhorn_alloc", "schedule unknown", OTK_EPARAM, "schedule", sk_bad_schedule),
    ROW("otk_sinkhorn_alloc", "update unknown", OTK_EPARAM, "update", sk_bad_update),
    ROW("otk_sinkhorn_alloc", "diameter NaN", OTK_EPARAM, "diameter", sk_diameter_nan),
    ROW("otk_sinkhorn_iterate", "before set", OTK_ESTATE, "set", sk_iterate_before_set),
    ROW("otk_sinkhorn_plan", "before set", OTK_ESTATE, "set", sk_plan_before_set),
    ROW("otk_sinkhorn_set_potentials", "f NaN", OTK_ENONFINITE, "f", sk_set_pot_nan),
    ROW("otk_potential_convert", "eps 0", OTK_EPARAM, "eps", pc_eps0),
    ROW("otk_potential_convert", "gauge unknown", OTK_EPARAM, "gauge", pc_bad_gauge),
    ROW("otk_potential_convert", "n = 0 (nothing to do)", OK, "", pc_zero_n),
    ROW("otk_divergence_alloc_points", "x NULL", OTK_ENULL, "x", dv_null_x),
    ROW("otk_divergence_alloc_points", "d = 0", OTK_ESIZE, "d", dv_zero_d),
    ROW("otk_divergence_alloc_points", "n·d overflows", OTK_ESIZE, "n", dv_huge_n),
    ROW("otk_divergence_alloc_points", "x NaN", OTK_ENONFINITE, "x", dv_nan_x),
    ROW("otk_divergence_solve", "a negative", OTK_ENEGATIVE, "a", dv_neg_a),
    ROW("otk_divergence_solve", "a zero mass", OTK_EZEROMASS, "a", dv_zero_mass),
    ROW("otk_divergence_alloc_points", "blur < 0", OTK_EPARAM, "blur", dv_blur_neg),
    ROW("otk_divergence_alloc_points", "blur NaN", OTK_EPARAM, "blur", dv_blur_nan),
    ROW("otk_divergence_alloc_points", "reach < 0", OTK_EPARAM, "reach", dv_reach_neg),
    ROW("otk_divergence_solve", "blur 1e6 (huge)", OK, "", dv_blur_huge),
    ROW("otk_divergence_solve", "blur 1e-6 (tiny)", OK, "", dv_blur_tiny),
    ROW("otk_divergence_alloc_points_f32", "x NULL", OTK_ENULL, "x", dvf_null_x),
    ROW("otk_divergence_alloc_points_f32", "d = 0", OTK_ESIZE, "d", dvf_zero_d),
    ROW("otk_divergence_alloc_points_f32", "n·d overflows", OTK_ESIZE, "n", dvf_huge_n),
    ROW("otk_divergence_alloc_points_f32", "x NaN", OTK_ENONFINITE, "x[4]", dvf_nan_x),
    ROW("otk_divergence_solve", "float32, blur 1e6 (huge)", OK, "", dvf_blur_huge),
    ROW("otk_divergence_solve", "float32, blur 1e-6 (tiny)", OK, "", dvf_blur_tiny),
    ROW("otk_divergence_set_points_f32", "div NULL", OTK_ENULL, "div", dvf_set_null),
    ROW("otk_divergence_set_points_f32", "float64 object", OTK_EUNSUPPORTED,
        "alloc_points_f32", dvf_set_double_object),
    ROW("otk_divergence_set_points_f32", "y NaN", OTK_ENONFINITE, "y[2]", dvf_set_nan_y),
    ROW("otk_divergence_geomloss", "p 3.5 (lp-over-p)", OK, "", dv_geomloss_p3),
    ROW("otk_divergence_geomloss", "p 0", OTK_EPARAM, "p", dv_geomloss_p0),
    ROW("otk_sinkd_alloc", "K = 0", OTK_ESIZE, "K", sd_zero_K),
    ROW("otk_sinkd_alloc", "B·K overflows", OTK_ESIZE, "B", sd_huge_BK),
    ROW("otk_sinkd_alloc", "B² overflows", OTK_ESIZE, "B", sd_huge_BB),
    ROW("otk_sinkd_alloc", "tau 0", OTK_EPARAM, "tau", sd_tau0),
    ROW("otk_sinkd_alloc", "eps < 0", OTK_EPARAM, "eps", sd_eps_neg),
    ROW("otk_sinkd_loss", "logit NaN", OTK_ENONFINITE, "z_s", sd_nan_logit),
    ROW("otk_sinkd_objective", "label out of range", OTK_ERANGE, "label", sd_bad_label),
    ROW("otk_kd_loss", "tau NaN", OTK_EPARAM, "tau", kd_tau_nan),
    ROW("otk_kd_loss", "kind unknown", OTK_EPARAM, "kind", kd_bad_kind),
    ROW("otk_kd_loss", "B·K overflows", OTK_ESIZE, "B", kd_huge),
    ROW("otk_barycenter", "K = 0", OTK_ESIZE, "K", by_zero_K),
    ROW("otk_barycenter", "K·n overflows", OTK_ESIZE, "K", by_huge_K),
    ROW("otk_barycenter", "histogram negative", OTK_ENEGATIVE, "A", by_neg_hist),
    ROW("otk_barycenter", "weight NaN", OTK_ENONFINITE, "weights", by_nan_weight),
    ROW("otk_barycenter", "eps 0", OTK_EPARAM, "eps", by_eps0),
    ROW("otk_barycenter", "unequal masses", OTK_EMASS, "mass", by_unequal_mass),
    ROW("otk_grid_softmin", "eps < 0", OTK_EPARAM, "eps", gs_eps_neg),
    ROW("otk_grid_softmin", "not a grid cost", OTK_EUNSUPPORTED, "grid", gs_not_grid),
    ROW("otk_grid_path_from_name", "unknown name", OTK_EPARAM, "fastest", gp_unknown_name),
    ROW("otk_grid_check_shape", "shape mismatch", OTK_ESHAPE, "shape", gc_shape_mismatch),
    ROW("otk_monge_gap_compute", "tx NULL", OTK_ENULL, "tx", mg_null_tx),
    ROW("otk_monge_gap_compute", "n = 0", OTK_ESIZE, "n", mg_zero_n),
    ROW("otk_monge_gap_compute", "n·d overflows", OTK_ENOMEM, "n =", mg_huge_n),
    ROW("otk_monge_gap_compute", "tx NaN", OTK_ENONFINITE, "tx", mg_nan_tx),
    ROW("otk_monge_gap_compute", "w negative", OTK_ENEGATIVE, "w", mg_neg_w),
    ROW("otk_monge_gap_compute", "eps < 0", OTK_EPARAM, "eps", mg_eps_neg),
    ROW("otk_monge_gap_compute", "eps 1e10 (huge)", OK, "", mg_eps_huge),
    ROW("otk_monge_gap_compute", "eps 1e-10 (tiny)", OK, "", mg_eps_tiny),
    ROW("otk_entropic_map_fit", "y NULL", OTK_ENULL, "y", em_null_y),
    ROW("otk_entropic_map_from_potential", "eps 0", OTK_EPARAM, "eps", em_from_pot_eps0),
    ROW("otk_entropic_map_apply", "z NaN", OTK_ENONFINITE, "z", em_apply_nan),
    ROW("otk_map_alloc_affine", "d = 0", OTK_ESIZE, "d", map_affine_zero_d),
    ROW("otk_map_alloc_affine", "d² overflows", OTK_ESIZE, "d", map_affine_huge_d),
    ROW("otk_map_alloc_mlp", "width 0", OTK_ESIZE, "width", map_mlp_zero_width),
    ROW("otk_map_alloc_mlp", "width huge", OTK_ESIZE, "width", map_mlp_huge_width),
    ROW("otk_map_alloc_mlp", "activation unknown", OTK_EUNSUPPORTED, "activation", map_mlp_bad_activation),
    ROW("otk_map_family_from_name", "unknown name", OTK_EPARAM, "quadratic", map_family_unknown),
    ROW("otk_optimizer_from_name", "unknown name", OTK_EPARAM, "sgd-nesterov", map_optimizer_unknown),
    ROW("otk_activation_from_name", "unknown name", OTK_EPARAM, "relu6", map_activation_unknown),
    ROW("otk_lr_schedule_from_name", "unknown name", OTK_EPARAM, "step", map_lr_unknown),
    ROW("otk_map_apply", "x NaN", OTK_ENONFINITE, "x", map_apply_nan),
    ROW("otk_map_load", "missing file", OTK_EIO, "otk-map.txt", map_load_missing),
    ROW("otk_map_fit", "lambda < 0", OTK_EPARAM, "lambda", map_fit_lambda_neg),
    ROW("otk_map_fit", "d differs from the map's", OTK_ESIZE, "d", map_fit_dim_mismatch),
    ROW("otk_mesh_from_triangles", "xyz NULL", OTK_ENULL, "xyz", mesh_null_xyz),
    ROW("otk_mesh_from_triangles", "face index out of range", OTK_ERANGE, "face", mesh_bad_index),
    ROW("otk_mesh_from_triangles", "xyz NaN", OTK_ENONFINITE, "vertex 1", mesh_nan_xyz),
    ROW("otk_mesh_from_triangles", "zero-area face", OTK_EDEGENERATE, "face", mesh_degenerate),
    ROW("otk_mesh_from_triangles", "nf huge", OTK_ESIZE, "nf", mesh_huge_nf),
    ROW("otk_mesh_from_triangles", "nv huge", OTK_ESIZE, "nv", mesh_huge_nv),
    ROW("otk_mesh_generate", "res 40 (icosphere)", OTK_EPARAM, "res", mesh_generate_res),
    ROW("otk_mesh_generate", "res huge (square)", OTK_EPARAM, "res", mesh_generate_huge_res),
    ROW("otk_mesh_read", "unknown extension", OTK_EPARAM, "extension", mesh_read_ext),
    ROW("otk_cost_mesh", "eps 0 (unset)", OTK_EPARAM, "eps", mesh_heat_eps0),
    ROW("otk_cost_mesh", "steps 0", OTK_EPARAM, "steps", mesh_heat_steps0),
    ROW("otk_cost_points_f32", "out NULL", OTK_ENULL, "out", cp32_null_out),
    ROW("otk_cost_points_f32", "y NULL", OTK_ENULL, "y", cp32_null_y),
    ROW("otk_cost_points_f32", "m = 0", OTK_ESIZE, "m", cp32_zero_m),
    ROW("otk_cost_points_f32", "n·d overflows", OTK_ESIZE, "n", cp32_huge_nd),
    ROW("otk_cost_points_f32", "m·d overflows", OTK_ESIZE, "m", cp32_huge_md),
    ROW("otk_cost_points_f32", "x NaN", OTK_ENONFINITE, "x[7]", cp32_nan_x),
    ROW("otk_cost_points_f32", "y -Inf", OTK_ENONFINITE, "y[2]", cp32_inf_y),
    ROW("otk_cost_points_f32", "ground unknown", OTK_EPARAM, "ground", cp32_bad_ground),
    ROW("otk_cost_points_f32", "power NaN (lp)", OTK_EPARAM, "power", cp32_lp_power_nan),
    ROW("otk_cost_points_f32", "costs beyond FLT_MAX", OTK_ENUMERIC, "float32", cp32_overflow),
    ROW("otk_cost_points_f32", "lp^6 beyond FLT_MAX", OTK_ENUMERIC, "float32", cp32_overflow_lp),
    ROW("otk_sinkhorn_solve", "float32 span 1e18", OK, "", cp32_span_1e18),
    ROW("otk_emd_alloc", "out NULL", OTK_ENULL, "out", emd_null_out),
    ROW("otk_emd_alloc", "cost NULL", OTK_ENULL, "cost", emd_null_cost),
    ROW("otk_emd_alloc", "max_iter < 0", OTK_EPARAM, "max_iter", emd_max_iter_neg),
    ROW("otk_emd_alloc", "mass_tol NaN", OTK_EPARAM, "mass_tol", emd_mass_tol_nan),
    ROW("otk_emd_alloc", "cost entry +Inf", OTK_ENONFINITE, "C[3][", emd_cost_inf),
    ROW("otk_emd_alloc", "cost entry 1e308", OTK_ENUMERIC, "C[2][1]", emd_cost_huge),
    ROW("otk_emd_solve", "cost entry 1e150", OK, "", emd_cost_1e150),
    ROW("otk_emd_solve", "a NaN", OTK_ENONFINITE, "a[2]", emd_nan_a),
    ROW("otk_emd_solve", "b negative", OTK_ENEGATIVE, "b[3]", emd_neg_b),
    ROW("otk_emd_solve", "a zero mass", OTK_EZEROMASS, "a", emd_zero_mass),
    ROW("otk_emd_solve", "unequal masses", OTK_EMASS, "mass", emd_unequal_mass),
    ROW("otk_emd_solve", "solver NULL", OTK_ENULL, "solver", emd_solve_null),
    ROW("otk_emd_plan", "before solve", OTK_ESTATE, "solve", emd_plan_before_solve),
    ROW("otk_emd_potentials", "before solve", OTK_ESTATE, "solve", emd_potentials_before_solve),
    ROW("otk_emd_solve", "one atom each (zero weights)", OK, "", emd_zero_weights),
    ROW("otk_wasserstein_1d", "x NULL", OTK_ENULL, "x", w1d_null_x),
    ROW("otk_wasserstein_1d", "n = 0", OTK_ESIZE, "n", w1d_zero_n),
    ROW("otk_wasserstein_1d", "n huge", OTK_ESIZE, "n =", w1d_huge_n),
    ROW("otk_wasserstein_1d", "x NaN", OTK_ENONFINITE, "x[3]", w1d_nan_x),
    ROW("otk_wasserstein_1d", "a negative", OTK_ENEGATIVE, "a[1]", w1d_neg_a),
    ROW("otk_wasserstein_1d", "b zero mass", OTK_EZEROMASS, "b", w1d_zero_mass_b),
    ROW("otk_wasserstein_1d", "b +Inf", OTK_ENONFINITE, "b[2]", w1d_inf_b),
    ROW("otk_wasserstein_1d", "p 0.5", OTK_EPARAM, "p =", w1d_p_half),
    ROW("otk_wasserstein_1d", "p NaN", OTK_EPARAM, "p =", w1d_p_nan),
    ROW("otk_wasserstein_1d", "W_2^2 beyond DBL_MAX", OTK_ENUMERIC, "overflows", w1d_overflow),
    ROW("otk_wasserstein_1d", "p 40", OK, "", w1d_p_large),
    ROW("otk_sliced_alloc", "d = 0", OTK_ESIZE, "d = 0", sl_zero_d),
    ROW("otk_sliced_alloc", "n·d overflows", OTK_ESIZE, "n·d", sl_huge_nd),
    ROW("otk_sliced_alloc", "n_projections·d overflows", OTK_ESIZE, "n_projections·d", sl_huge_Ld),
    ROW("otk_sliced_alloc", "n_projections 0", OTK_EPARAM, "n_projections", sl_zero_L),
    ROW("otk_sliced_alloc", "p 0.9", OTK_EPARAM, "p =", sl_p_below_1),
    ROW("otk_sliced_alloc", "directions kind unknown", OTK_EPARAM, "directions", sl_bad_kind),
    ROW("otk_sliced_alloc", "Halton, d = 1001", OTK_EPARAM, "1001", sl_halton_big_d),
    ROW("otk_sliced_alloc", "direction 1 zero", OTK_EDEGENERATE, "direction 1", sl_zero_direction),
    ROW("otk_sliced_alloc", "direction NaN", OTK_ENONFINITE, "directions[4]", sl_nan_direction),
    ROW("otk_sliced_eval", "X NaN", OTK_ENONFINITE, "X[8]", sl_eval_nan_x),
    ROW("otk_sliced_eval", "a negative", OTK_ENEGATIVE, "a[4]", sl_eval_neg_a),
    ROW("otk_sliced_eval", "Y NULL", OTK_ENULL, "Y", sl_eval_null_y),
    ROW("otk_sliced_eval", "SW beyond DBL_MAX", OTK_ENUMERIC, "overflows", sl_eval_overflow),
    ROW("otk_directions_from_name", "unknown name", OTK_EPARAM, "sobol", sl_directions_unknown),
    ROW("otk_sliced_eval", "one projection", OK, "", sl_one_projection),
    ROW("otk_fdiv_probs", "q NULL", OTK_ENULL, "q", fd_null_q),
    ROW("otk_fdiv_probs", "K = 0", OTK_ESIZE, "K", fd_zero_K),
    ROW("otk_fdiv_probs", "B·K overflows", OTK_ESIZE, "B·K", fd_huge_BK),
    ROW("otk_fdiv_probs", "p NaN", OTK_ENONFINITE, "p[1][2]", fd_nan_p),
    ROW("otk_fdiv_probs", "q negative", OTK_ENEGATIVE, "q[1][1]", fd_neg_q),
    ROW("otk_fdiv_probs", "kind unknown", OTK_EPARAM, "kind", fd_bad_kind),
    ROW("otk_fdiv_probs", "alpha +Inf", OTK_EPARAM, "alpha", fd_alpha_inf),
    ROW("otk_fdiv_probs", "custom without generator", OTK_EPARAM, "generator", fd_custom_null),
    ROW("otk_fdiv_probs", "reduction unknown", OTK_EPARAM, "reduction", fd_bad_reduction),
    ROW("otk_fdiv_probs", "smoothing 1", OTK_EPARAM, "smoothing", fd_smoothing_one),
    ROW("otk_fdiv_probs", "KL gradient at p = 0", OTK_ENUMERIC, "row 1, class 1", fd_kl_grad_zero_p),
    ROW("otk_fdiv_probs", "KL at p = 0, smoothing 1e-6", OK, "", fd_kl_smoothed_zero_p),
    ROW("otk_fdiv_logits", "tau 0", OTK_EPARAM, "tau", fd_logits_tau0),
    ROW("otk_fdiv_logits", "z_q -Inf", OTK_ENONFINITE, "z_q[0][2]", fd_logits_inf),
    ROW("otk_fdiv_logits", "logits ±1e300", OK, "", fd_logits_huge),
    ROW("otk_fdiv_kind_from_name", "unknown name", OTK_EPARAM, "renyi", fd_kind_unknown),
    ROW("otk_reduction_kind_from_name", "unknown name", OTK_EPARAM, "max", fd_reduction_unknown),
    ROW("otk_psi_counts", "m = 0", OTK_ESIZE, "bins", psi_counts_zero_m),
    ROW("otk_psi_counts", "expected negative", OTK_ENEGATIVE, "expected[2]", psi_counts_neg),
    ROW("otk_psi_counts", "actual zero mass", OTK_EZEROMASS, "actual", psi_counts_zero_actual),
    ROW("otk_psi_counts", "floor 1", OTK_EPARAM, "floor", psi_counts_floor_one),
    ROW("otk_psi", "actual NULL", OTK_ENULL, "actual", psi_null_actual),
    ROW("otk_psi", "n_ref = 0", OTK_ESIZE, "n_ref", psi_zero_n_ref),
    ROW("otk_psi", "reference NaN", OTK_ENONFINITE, "reference[6]", psi_nan_ref),
    ROW("otk_psi", "bins 0", OTK_EPARAM, "bins", psi_bins0),
    ROW("otk_psi", "3·bins overflows", OTK_ESIZE, "params.bins", psi_bins_huge),
    ROW("otk_psi", "n_edges SIZE_MAX", OTK_ESIZE, "params.n_edges", psi_n_edges_huge),
    ROW("otk_psi", "edges not increasing", OTK_EPARAM, "edges[2]", psi_edges_not_increasing),
    ROW("otk_psi", "edge NaN", OTK_ENONFINITE, "edges[1]", psi_edges_nan),
    ROW("otk_psi", "edges NULL", OTK_ENULL, "edges", psi_edges_null),
    ROW("otk_psi", "binning unknown", OTK_EPARAM, "binning", psi_bad_binning),
    ROW("otk_psi", "floor < 0", OTK_EPARAM, "floor", psi_floor_neg),
    ROW("otk_psi", "one reference value", OK, "", psi_constant_ref),
    ROW("otk_information_value", "label 2", OTK_EPARAM, "y[3]", iv_bad_label),
    ROW("otk_information_value", "no events", OTK_EZEROMASS, "events", iv_no_events),
    ROW("otk_information_value", "x NaN", OTK_ENONFINITE, "x[1]", iv_nan_x),
    ROW("otk_binning_from_name", "unknown name", OTK_EPARAM, "kmeans", binning_unknown),
};
enum { N_CASES = sizeof cases / sizeof *cases };

START_TEST(test_bad_input_row)
{
    fixture();
    const bad_case *c = &cases[_i];
    double out[16];
    for (int i = 0; i < 16; i++)
        out[i] = 0.0;
    otk_status st = c->call(out);
    if (c->expect == OK) {
        ck_assert_msg(st == OTK_SUCCESS || st == OTK_NOT_CONVERGED, "%s, %s: %s (%s)", c->fn,
                      c->what, otk_status_name(st), otk_last_error());
        for (int i = 0; i < 16; i++)
            ck_assert_msg(isfinite(out[i]), "%s, %s: output %d is %g", c->fn, c->what, i, out[i]);
        return;
    }
    ck_assert_msg(st == c->expect, "%s, %s: %s, expected %s (%s)", c->fn, c->what,
                  otk_status_name(st), otk_status_name(c->expect), otk_last_error());
    ck_assert_msg(strstr(otk_last_error(), c->msg) != NULL,
                  "%s, %s: the message \"%s\" does not name \"%s\"", c->fn, c->what,
                  otk_last_error(), c->msg);
}
END_TEST

Suite *bad_input_suite(void)
{
    Suite *s = suite_create("bad_input");
    TCase *tc = tcase_create("matrix");
    tcase_add_loop_test(tc, test_bad_input_row, 0, N_CASES);
    tk_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
