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
static const size_t HUGE_N = SIZE_MAX / 2 + 1; /* HUGE_N·2 overflows */

static void fixture(void)
{
    for (int i = 0; i < N * D; i++)
        X[i] = 0.3 * (double)((i * 7) % 5);
    for (int j = 0; j < M * D; j++)
        Y[j] = 0.25 * (double)((j * 3) % 7) + 0.1;
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
    p.blur = 0;
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
