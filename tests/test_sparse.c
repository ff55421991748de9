/*
 * tests/test_sparse.c — the sparse cost kind (otkit/sparse.h): a full
 * pattern reproduces the dense solver to 1e-12; a truncated pattern behaves
 * as +∞ off the pattern (checked against the brute-force reference of
 * test_helpers.h run on a matrix holding INFINITY there, and against a dense
 * matrix holding a cost so large that its kernel underflows to 0); every
 * plan reduction; and the construction errors, each naming its index.
 */
#include "test_helpers.h"

/* CSC of the entries of the n×m row-major C where keep(i, j) (all when NULL). */
typedef struct {
    size_t *cp, *ri;
    double *v;
} csc;

static csc csc_from_dense(size_t n, size_t m, const double *C, const unsigned char *keep)
{
    csc s = {tk_alloc(m + 1, sizeof(size_t)), tk_alloc(n * m, sizeof(size_t)),
             tk_alloc(n * m, sizeof(double))};
    size_t q = 0;
    for (size_t j = 0; j < m; j++) {
        s.cp[j] = q;
        for (size_t i = 0; i < n; i++)
            if (!keep || keep[i * m + j]) {
                s.ri[q] = i;
                s.v[q++] = C[i * m + j];
            }
    }
    s.cp[m] = q;
    return s;
}

static void csc_free(csc *s)
{
    free(s->cp);
    free(s->ri);
    free(s->v);
}

static otk_sinkhorn *solve(const otk_cost *c, double eps, const double *a, const double *b,
                           otk_sinkhorn_result *res)
{
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.eps = eps;
    par.tol = 1e-13;
    par.threads = 1;
    otk_sinkhorn *s;
    TK_ASSERT_OK(otk_sinkhorn_alloc(&s, c, &par));
    TK_ASSERT_OK(otk_sinkhorn_solve(s, a, b, res));
    return s;
}

START_TEST(test_full_pattern_equals_dense)
{
    const size_t n = 7, m = 9, d = 2;
    tk_rng r = tk_rng_seed(61);
    double x[14], y[18], a[7], b[9];
    tk_points_uniform(&r, n, d, x);
    tk_points_uniform(&r, m, d, y);
    tk_weights_random(&r, n, 1.0, a);
    tk_weights_random(&r, m, 1.0, b);
    double *C = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0, n, m, d, x, y);
    csc S = csc_from_dense(n, m, C, NULL);
    otk_cost *cd, *cs;
    TK_ASSERT_OK(otk_cost_dense(&cd, n, m, C, m));
    TK_ASSERT_OK(otk_cost_sparse(&cs, n, m, S.cp, S.ri, S.v));
    ck_assert_str_eq(otk_cost_kind(cs), "sparse");
    ck_assert_uint_eq(otk_cost_sparse_nnz(cs), n * m);
    TK_ASSERT_REL(otk_cost_diameter(cs), otk_cost_diameter(cd), 0.0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            ck_assert(otk_cost_entry(cs, i, j) == C[i * m + j]);
    otk_sinkhorn_result rd, rs;
    otk_sinkhorn *sd = solve(cd, 0.05, a, b, &rd), *ss = solve(cs, 0.05, a, b, &rs);
    ck_assert_int_eq(rd.iterations, rs.iterations);
    TK_ASSERT_VEC_ABS(otk_sinkhorn_potential_f(ss), otk_sinkhorn_potential_f(sd), n, 1e-12, "f");
    TK_ASSERT_VEC_ABS(otk_sinkhorn_potential_g(ss), otk_sinkhorn_potential_g(sd), m, 1e-12, "g");
    TK_ASSERT_REL(rs.ot_kl, rd.ot_kl, 1e-12);
    TK_ASSERT_REL(rs.ot_lin, rd.ot_lin, 1e-12);
    TK_ASSERT_REL(rs.ot_ent, rd.ot_ent, 1e-12);
    /* APPLY along both axes, and the marginals. */
    double Y[9 * 3], X[7 * 3], od[7 * 3], os[7 * 3], pd[9 * 3], ps[9 * 3];
    tk_points_uniform(&r, m, 3, Y);
    tk_points_uniform(&r, n, 3, X);
    TK_ASSERT_OK(otk_sinkhorn_plan_apply(sd, 0, 3, Y, od));
    TK_ASSERT_OK(otk_sinkhorn_plan_apply(ss, 0, 3, Y, os));
    TK_ASSERT_VEC_ABS(os, od, n * 3, 1e-14, "P Y");
    TK_ASSERT_OK(otk_sinkhorn_plan_apply(sd, 1, 3, X, pd));
    TK_ASSERT_OK(otk_sinkhorn_plan_apply(ss, 1, 3, X, ps));
    TK_ASSERT_VEC_ABS(ps, pd, m * 3, 1e-14, "P^T X");
    otk_sinkhorn_free(sd);
    otk_sinkhorn_free(ss);

    /* The divergence on the same costs (C_xx and C_yy dense and sparse too). */
    double *Cxx = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0, n, n, d, x, x);
    double *Cyy = tk_cost_matrix(OTK_GROUND_SQEUCLIDEAN, 0, m, m, d, y, y);
    csc Sxx = csc_from_dense(n, n, Cxx, NULL), Syy = csc_from_dense(m, m, Cyy, NULL);
    otk_cost *dxx, *dyy, *sxx, *syy;
    TK_ASSERT_OK(otk_cost_dense(&dxx, n, n, Cxx, n));
    TK_ASSERT_OK(otk_cost_dense(&dyy, m, m, Cyy, m));
    TK_ASSERT_OK(otk_cost_sparse(&sxx, n, n, Sxx.cp, Sxx.ri, Sxx.v));
    TK_ASSERT_OK(otk_cost_sparse(&syy, m, m, Syy.cp, Syy.ri, Syy.v));
    otk_divergence_params dp;
    otk_divergence_params_default(&dp);
    dp.eps = 0.05;
    dp.threads = 1;
    otk_divergence *vd, *vs;
    TK_ASSERT_OK(otk_divergence_alloc_costs(&vd, cd, dxx, dyy, &dp));
    TK_ASSERT_OK(otk_divergence_alloc_costs(&vs, cs, sxx, syy, &dp));
    otk_divergence_result dr, sr;
    TK_ASSERT_OK(otk_divergence_solve(vd, a, b, &dr));
    TK_ASSERT_OK(otk_divergence_solve(vs, a, b, &sr));
    TK_ASSERT_REL(sr.divergence, dr.divergence, 1e-12);
    ck_assert(sr.divergence > 0.0);
    otk_divergence_free(vd);
    otk_divergence_free(vs);
    otk_cost_free(dxx);
    otk_cost_free(dyy);
    otk_cost_free(sxx);
    otk_cost_free(syy);
    csc_free(&Sxx);
    csc_free(&Syy);
    free(Cxx);
    free(Cyy);
    otk_cost_free(cd);
    otk_cost_free(cs);
    csc_free(&S);
    free(C);
}
END_TEST

/* A banded pattern |i − j| <= 2 on 8×8: off the band the cost is +∞. */
START_TEST(test_truncated_pattern)
{
    const size_t n = 8, m = 8;
    tk_rng r = tk_rng_seed(62);
    double C[64], Cinf[64], Cbig[64], a[8], b[8];
    unsigned char keep[64];
    tk_weights_random(&r, n, 1.0, a);
    tk_weights_random(&r, m, 1.0, b);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            const double c = ((double)i - (double)j) * ((double)i - (double)j) / 16.0 +
                             0.1 * tk_uniform(&r);
            const int in = (i > j ? i - j : j - i) <= 2;
            keep[i * m + j] = (unsigned char)in;
            C[i * m + j] = c;
            Cinf[i * m + j] = in ? c : INFINITY;
            /* 1e4/ε = 1e5: exp(−1e5) is exactly 0 in double precision. */
            Cbig[i * m + j] = in ? c : 1e4;
        }
    csc S = csc_from_dense(n, m, C, keep);
    otk_cost *cs, *cb;
    TK_ASSERT_OK(otk_cost_sparse(&cs, n, m, S.cp, S.ri, S.v));
    ck_assert_uint_eq(otk_cost_sparse_nnz(cs), 8 + 2 * 7 + 2 * 6);
    ck_assert(isinf(otk_cost_entry(cs, 0, 5)) && otk_cost_entry(cs, 0, 5) > 0);
    ck_assert(otk_cost_entry(cs, 3, 5) == C[3 * m + 5]);
    TK_ASSERT_OK(otk_cost_dense(&cb, n, m, Cbig, m));
    const double eps = 0.1;
    otk_sinkhorn_result rs, rb;
    otk_sinkhorn *ss = solve(cs, eps, a, b, &rs), *sb = solve(cb, eps, a, b, &rb);

    /* Independent reference: the brute-force loop on the matrix with +∞. */
    double f[8], g[8], P[64], Ps[64];
    ck_assert_int_gt(tk_ref_sinkhorn(n, m, Cinf, a, b, eps, INFINITY, INFINITY, 1e-13, 100000, f, g), 0);
    const double *fs = otk_sinkhorn_potential_f(ss), *gs = otk_sinkhorn_potential_g(ss);
    const double lam = tk_gauge_shift(fs, f, a, n);
    double fs2[8], gs2[8];
    for (size_t i = 0; i < n; i++) {
        fs2[i] = fs[i] + lam;
        gs2[i] = gs[i] - lam;
    }
    TK_ASSERT_VEC_ABS(fs2, f, n, 1e-10, "f vs reference");
    TK_ASSERT_VEC_ABS(gs2, g, m, 1e-10, "g vs reference");
    tk_plan(n, m, Cinf, a, b, eps, f, g, P);
    double lin = 0.0;
    for (size_t k = 0; k < 64; k++)
        lin += keep[k] ? P[k] * C[k] : 0.0;
    TK_ASSERT_REL(rs.ot_lin, lin, 1e-10);
    /* The plan is zero off the pattern and meets the marginals. */
    TK_ASSERT_OK(otk_sinkhorn_plan(ss, Ps));
    for (size_t k = 0; k < 64; k++)
        if (!keep[k])
            ck_assert_msg(Ps[k] == 0.0, "P[%zu] = %g off the pattern", k, Ps[k]);
    double row[8], col[8];
    TK_ASSERT_OK(otk_sinkhorn_marginals(ss, row, col));
    TK_ASSERT_VEC_ABS(row, a, n, 1e-12, "row marginal");
    TK_ASSERT_VEC_ABS(col, b, m, 1e-12, "column marginal");
    /* Dense with an underflowing cost off the band: the same problem. */
    /* (Its schedule starts at the range 1e4, so the gauge differs.) */
    const double *fb = otk_sinkhorn_potential_f(sb);
    const double lb = tk_gauge_shift(fb, fs, a, n);
    double fb2[8];
    for (size_t i = 0; i < n; i++)
        fb2[i] = fb[i] + lb;
    TK_ASSERT_VEC_ABS(fb2, fs, n, 1e-11, "f vs dense +big");
    /* Both stop at tol 1e-13 after different schedules: agreement to ~1e-12. */
    TK_ASSERT_REL(rb.ot_lin, rs.ot_lin, 1e-11);
    TK_ASSERT_REL(rb.ot_kl, rs.ot_kl, 1e-11);
    otk_sinkhorn_free(ss);
    otk_sinkhorn_free(sb);
    otk_cost_free(cs);
    otk_cost_free(cb);
    csc_free(&S);
}
END_TEST

START_TEST(test_errors)
{
    otk_cost *c = (otk_cost *)&c;
    /* 3×3 with row 1 empty: columns {0}, {0, 2}, {2}. */
    const size_t cp[] = {0, 1, 3, 4}, ri[] = {0, 0, 2, 2};
    const double v[] = {1, 2, 3, 4};
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 3, 3, cp, ri, v), OTK_EEMPTY, "row 1 has no entry");
    ck_assert_ptr_null(c);
    const size_t cp2[] = {0, 1, 1, 3};
    const size_t ri2[] = {0, 1, 2};
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 3, 3, cp2, ri2, v), OTK_EEMPTY, "column 1 has no entry");
    const size_t cp3[] = {0, 2, 3, 4}, ri3[] = {1, 0, 1, 2};
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 3, 3, cp3, ri3, v), OTK_ERANGE, "column 0");
    const size_t ri4[] = {0, 1, 7, 2};
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 3, 3, cp3, ri4, v), OTK_ERANGE, "rowind[2] = 7");
    const size_t ri5[] = {0, 1, 1, 2};
    const double v5[] = {1, NAN, 3, 4};
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 3, 3, cp3, ri5, v5), OTK_ENONFINITE, "values[1]");
    const size_t cp6[] = {1, 2, 3, 4};
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 3, 3, cp6, ri5, v), OTK_ESIZE, "colptr[0]");
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 0, 3, cp3, ri5, v), OTK_ESIZE, "n = 0");
    TK_ASSERT_FAILS(otk_cost_sparse(&c, 3, 3, NULL, ri5, v), OTK_ENULL, "colptr");
    TK_ASSERT_OK(otk_cost_sparse(&c, 3, 3, cp3, ri5, v));
    ck_assert_uint_eq(otk_cost_sparse_nnz(c), 4);
    otk_cost_free(c);
}
END_TEST

Suite *sparse_suite(void)
{
    Suite *s = suite_create("sparse");
    TCase *tc = tcase_create("sparse");
    tcase_add_test(tc, test_full_pattern_equals_dense);
    tcase_add_test(tc, test_truncated_pattern);
    tcase_add_test(tc, test_errors);
    tk_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
