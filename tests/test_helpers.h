/*
 * tests/test_helpers.h — shared helpers for otkit's Check suites.
 *
 *   - a seeded splitmix64 generator: uniform and Gaussian point clouds, random
 *     positive weights, so every test draws the same data on every machine;
 *   - assertions on relative/absolute errors and on error messages;
 *   - brute-force dense references written independently of the library:
 *     ground costs by their textbook formulas, a plain double-loop
 *     log-sum-exp Sinkhorn, and the values <P,C>, the primal OT_kl and OT_ent
 *     computed from an explicit plan.
 *
 * Everything here is `static inline` so that each suite can include it.
 */
#ifndef OTKIT_TESTS_HELPERS_H
#define OTKIT_TESTS_HELPERS_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otkit.h"

/* The suites, assembled by tests/check_otkit.c. */
Suite *status_suite(void);
Suite *cost_suite(void);
Suite *sinkhorn_suite(void);
Suite *reference_suite(void);
Suite *divergence_suite(void);
Suite *batch_suite(void);
Suite *distill_suite(void);
Suite *monge_gap_suite(void);
Suite *grid_suite(void);
Suite *mesh_suite(void);
Suite *sparse_suite(void);
Suite *mapfit_suite(void);
Suite *fdiv_suite(void);
Suite *emd_suite(void);
Suite *sliced_suite(void);
Suite *multiscale_suite(void);
Suite *bad_input_suite(void); /* tests/test_bad_input.c */

/* ------------------------------------------------------------ environment */

/* OTK_TEST_QUICK=1 (e.g. under valgrind) skips the few large problems. */
static inline int tk_quick(void)
{
    const char *q = getenv("OTK_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* A per-test-case timeout of `seconds`, never below CK_DEFAULT_TIMEOUT when
 * the environment raises it (a slow machine or a sanitizer build). */
static inline void tk_set_timeout(TCase *tc, double seconds)
{
    const char *env = getenv("CK_DEFAULT_TIMEOUT");
    double dflt = env ? strtod(env, NULL) : 0.0;
    tcase_set_timeout(tc, seconds > dflt ? seconds : dflt);
}

/* ------------------------------------------------------------ random data */

typedef struct {
    uint64_t state;
} tk_rng;

static inline tk_rng tk_rng_seed(uint64_t seed)
{
    tk_rng r = {seed};
    return r;
}

/* splitmix64 (Steele, Lea, Flood 2014; the reference constants of Vigna). */
static inline uint64_t tk_next(tk_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 random bits. */
static inline double tk_uniform(tk_rng *r) { return (double)(tk_next(r) >> 11) * 0x1.0p-53; }

/* Standard normal by Box–Muller (one value per call; simple over fast). */
static inline double tk_gauss(tk_rng *r)
{
    double u1 = 1.0 - tk_uniform(r); /* (0, 1] */
    double u2 = tk_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* n points in [0,1)^d, row-major n×d. */
static inline void tk_points_uniform(tk_rng *r, size_t n, size_t d, double *x)
{
    for (size_t i = 0; i < n * d; i++)
        x[i] = tk_uniform(r);
}

/* n points ~ N(mean, sd²·I), row-major n×d. */
static inline void tk_points_gauss(tk_rng *r, size_t n, size_t d, double mean, double sd,
                                   double *x)
{
    for (size_t i = 0; i < n * d; i++)
        x[i] = mean + sd * tk_gauss(r);
}

/* n positive weights (each in [0.5, 1.5) before scaling) summing to `mass`. */
static inline void tk_weights_random(tk_rng *r, size_t n, double mass, double *w)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        w[i] = 0.5 + tk_uniform(r);
        s += w[i];
    }
    for (size_t i = 0; i < n; i++)
        w[i] *= mass / s;
}

static inline void tk_weights_uniform(size_t n, double mass, double *w)
{
    for (size_t i = 0; i < n; i++)
        w[i] = mass / (double)n;
}

static inline void *tk_alloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    ck_assert_msg(p != NULL, "test harness out of memory");
    return p;
}

/* ------------------------------------------------------------ assertions */

static inline double tk_rel_err(double actual, double expected)
{
    double scale = fabs(expected);
    if (scale == 0.0)
        return fabs(actual);
    return fabs(actual - expected) / scale;
}

/* |actual − expected| <= rtol·|expected| (absolute when expected is 0). */
#define TK_ASSERT_REL(actual, expected, rtol)                                                   \
    do {                                                                                        \
        const double tk_a_ = (actual), tk_e_ = (expected), tk_t_ = (rtol);                      \
        ck_assert_msg(isfinite(tk_a_) && tk_rel_err(tk_a_, tk_e_) <= tk_t_,                     \
                      "%s = %.17g, expected %s = %.17g: relative error %.3g > %.3g", #actual,   \
                      tk_a_, #expected, tk_e_, tk_rel_err(tk_a_, tk_e_), tk_t_);                \
    } while (0)

/* |actual − expected| <= atol. */
#define TK_ASSERT_ABS(actual, expected, atol)                                                   \
    do {                                                                                        \
        const double tk_a_ = (actual), tk_e_ = (expected), tk_t_ = (atol);                      \
        ck_assert_msg(isfinite(tk_a_) && fabs(tk_a_ - tk_e_) <= tk_t_,                          \
                      "%s = %.17g, expected %s = %.17g: absolute error %.3g > %.3g", #actual,   \
                      tk_a_, #expected, tk_e_, fabs(tk_a_ - tk_e_), tk_t_);                     \
    } while (0)

/* max_i |x_i − y_i| <= atol, reporting the worst index. */
#define TK_ASSERT_VEC_ABS(x, y, len, atol, what)                                                \
    do {                                                                                        \
        size_t tk_worst_ = 0;                                                                   \
        double tk_err_ = tk_max_abs_diff((x), (y), (len), &tk_worst_);                          \
        ck_assert_msg(tk_err_ <= (atol), "%s: max |%s − %s| = %.3g at [%zu] (%.17g vs %.17g) > %.3g", \
                      (what), #x, #y, tk_err_, tk_worst_, (x)[tk_worst_], (y)[tk_worst_],      \
                      (double)(atol));                                                          \
    } while (0)

/* `call` returns `status` and the message names `needle` ("b[3]"). */
#define TK_ASSERT_FAILS(call, status, needle)                                                   \
    do {                                                                                        \
        int tk_st_ = (int)(call);                                                               \
        const char *tk_msg_ = otk_last_error();                                                 \
        ck_assert_msg(tk_st_ == (int)(status), "%s returned %s (%d), expected %s", #call,      \
                      otk_status_name(tk_st_), tk_st_, otk_status_name((int)(status)));         \
        ck_assert_msg(tk_msg_ != NULL && strstr(tk_msg_, (needle)) != NULL,                     \
                      "%s: message \"%s\" does not name \"%s\"", #call,                         \
                      tk_msg_ ? tk_msg_ : "(null)", (needle));                                  \
    } while (0)

#define TK_ASSERT_OK(call)                                                                      \
    do {                                                                                        \
        int tk_st_ = (int)(call);                                                               \
        ck_assert_msg(tk_st_ == OTK_SUCCESS, "%s returned %s (%d): %s", #call,                  \
                      otk_status_name(tk_st_), tk_st_, otk_last_error());                       \
    } while (0)

static inline double tk_max_abs_diff(const double *x, const double *y, size_t n, size_t *worst)
{
    double e = 0.0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(x[i] - y[i]);
        if (!(d <= e)) { /* also catches NaN */
            e = isnan(d) ? INFINITY : d;
            w = i;
        }
    }
    if (worst)
        *worst = w;
    return e;
}

static inline double tk_max_abs(const double *x, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
        e = fabs(x[i]) > e ? fabs(x[i]) : e;
    return e;
}

static inline int tk_all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static inline double tk_sum(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

static inline double tk_dot(const double *x, const double *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* Shannon entropy H(w) = −Σ w log w (0 log 0 = 0), docs/math.md section 0. */
static inline double tk_entropy(const double *w, size_t n)
{
    double h = 0.0;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0.0)
            h -= w[i] * log(w[i]);
    return h;
}

/* Generalised KL(p | q) = Σ p log(p/q) − Σ p + Σ q (0 log 0 = 0). */
static inline double tk_kl(const double *p, const double *q, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] > 0.0)
            s += p[i] * log(p[i] / q[i]);
        s += q[i] - p[i];
    }
    return s;
}

/* The shift λ minimising Σ w_i (x_i + λ − y_i)²: the weighted mean of y − x.
 * Balanced potentials are defined up to (f + λ, g − λ). */
static inline double tk_gauge_shift(const double *x, const double *y, const double *w, size_t n)
{
    double s = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += w[i] * (y[i] - x[i]);
        m += w[i];
    }
    return s / m;
}

/* ------------------------------------------------------------ ground costs */

/* c(x, y) by its defining formula (cost.h comments), independent of the
 * library's tiled kernels. */
static inline double tk_ground_cost(otk_ground ground, double power, size_t d, const double *x,
                                    const double *y)
{
    double sq = 0.0, l1 = 0.0;
    for (size_t k = 0; k < d; k++) {
        double diff = x[k] - y[k];
        sq += diff * diff;
        l1 += fabs(diff);
    }
    double r = sqrt(sq);
    switch (ground) {
    case OTK_GROUND_SQEUCLIDEAN:
        return sq;
    case OTK_GROUND_HALF_SQEUCLIDEAN:
        return 0.5 * sq;
    case OTK_GROUND_EUCLIDEAN:
        return r;
    case OTK_GROUND_L1:
        return l1;
    case OTK_GROUND_LP:
        return pow(r, power);
    case OTK_GROUND_LP_OVER_P:
        return pow(r, power) / power;
    }
    return NAN;
}

/* The n×m matrix C_ij = c(x_i, y_j), row-major (caller frees). */
static inline double *tk_cost_matrix(otk_ground ground, double power, size_t n, size_t m,
                                     size_t d, const double *x, const double *y)
{
    double *C = tk_alloc(n * m, sizeof *C);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            C[i * m + j] = tk_ground_cost(ground, power, d, x + i * d, y + j * d);
    return C;
}

/* ------------------------------------------------- brute-force Sinkhorn */

/* −ε log Σ_k w_k exp((h_k − c_k)/ε) for one row/column, max-shifted, with
 * plain loops over a strided cost vector c_k = C[k*stride]. */
static inline double tk_softmin_line(size_t len, const double *C, size_t stride,
                                     const double *w, const double *h, double eps)
{
    double mx = -INFINITY;
    for (size_t k = 0; k < len; k++)
        if (w[k] > 0.0) {
            double v = log(w[k]) + (h[k] - C[k * stride]) / eps;
            mx = v > mx ? v : mx;
        }
    double s = 0.0;
    for (size_t k = 0; k < len; k++)
        if (w[k] > 0.0)
            s += exp(log(w[k]) + (h[k] - C[k * stride]) / eps - mx);
    return -eps * (mx + log(s));
}

/* The plan P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε) (GeomLoss gauge). */
static inline void tk_plan(size_t n, size_t m, const double *C, const double *a, const double *b,
                           double eps, const double *f, const double *g, double *P)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            P[i * m + j] = a[i] > 0.0 && b[j] > 0.0
                               ? a[i] * b[j] * exp((f[i] + g[j] - C[i * m + j]) / eps)
                               : 0.0;
}

/* Alternating log-domain Sinkhorn (docs/math.md A.2, A.6) on a dense C, from zero
 * potentials, without annealing: g ← κ_b smin^a(f), f ← κ_a smin^b(g) until
 * the relative L1 optimality error (sinkhorn.h) is <= tol.  Returns the
 * number of iterations, or −1 if max_iter was reached. */
static inline int tk_ref_sinkhorn(size_t n, size_t m, const double *C, const double *a,
                                  const double *b, double eps, double rho_a, double rho_b,
                                  double tol, int max_iter, double *f, double *g)
{
    const double ka = isinf(rho_a) ? 1.0 : rho_a / (rho_a + eps);
    const double kb = isinf(rho_b) ? 1.0 : rho_b / (rho_b + eps);
    const double ma = tk_sum(a, n), mb = tk_sum(b, m);
    double *P = tk_alloc(n * m, sizeof *P);
    memset(f, 0, n * sizeof *f);
    memset(g, 0, m * sizeof *g);
    int it;
    for (it = 1; it <= max_iter; it++) {
        for (size_t j = 0; j < m; j++)
            g[j] = kb * tk_softmin_line(n, C + j, m, a, f, eps);
        for (size_t i = 0; i < n; i++)
            f[i] = ka * tk_softmin_line(m, C + i * m, 1, b, g, eps);
        tk_plan(n, m, C, a, b, eps, f, g, P);
        double err = 0.0;
        for (size_t i = 0; i < n; i++) {
            double r = 0.0;
            for (size_t j = 0; j < m; j++)
                r += P[i * m + j];
            err += fabs(r - a[i] * (isinf(rho_a) ? 1.0 : exp(-f[i] / rho_a))) / ma;
        }
        for (size_t j = 0; j < m; j++) {
            double c = 0.0;
            for (size_t i = 0; i < n; i++)
                c += P[i * m + j];
            err += fabs(c - b[j] * (isinf(rho_b) ? 1.0 : exp(-g[j] / rho_b))) / mb;
        }
        if (err <= tol)
            break;
    }
    free(P);
    return it <= max_iter ? it : -1;
}

typedef struct {
    double ot_lin; /* <P,C> */
    double ot_kl;  /* primal: <P,C> + ε KL(P|a⊗b) + ρ_a KL(P1|a) + ρ_b KL(Pᵀ1|b) */
    double ot_ent; /* <P,C> − ε H(P) (the balanced OT_ent when the marginals are met) */
    double mass;   /* Σ P */
} tk_values;

/* The three values of an explicit plan P (sinkhorn.h, docs/math.md section 0),
 * with plain loops; balanced sides (ρ = ∞) contribute no penalty. */
static inline tk_values tk_plan_values(size_t n, size_t m, const double *C, const double *P,
                                       const double *a, const double *b, double eps,
                                       double rho_a, double rho_b)
{
    tk_values v = {0, 0, 0, 0};
    double kl = 0.0, negent = 0.0;
    double *r = tk_alloc(n, sizeof *r), *c = tk_alloc(m, sizeof *c);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            const double p = P[i * m + j];
            v.ot_lin += p * C[i * m + j];
            v.mass += p;
            r[i] += p;
            c[j] += p;
            if (p > 0.0) {
                kl += p * log(p / (a[i] * b[j]));
                negent += p * log(p);
            }
            kl += a[i] * b[j] - p;
        }
    double pen = 0.0;
    if (!isinf(rho_a))
        pen += rho_a * tk_kl(r, a, n);
    if (!isinf(rho_b))
        pen += rho_b * tk_kl(c, b, m);
    v.ot_kl = v.ot_lin + eps * kl + pen;
    v.ot_ent = v.ot_lin + eps * negent;
    free(r);
    free(c);
    return v;
}

#endif /* OTKIT_TESTS_HELPERS_H */
