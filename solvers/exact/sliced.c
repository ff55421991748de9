/* 1-D optimal transport by sorting, and the sliced Wasserstein distance
 * (otkit/sliced.h, docs/exact.md). */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "internal.h"
#include "otkit/sliced.h"

/* ------------------------------------------------------------ 1-D core */

typedef struct {
    double value;
    size_t index;
} keyed;

static int compare_keyed(const void *pa, const void *pb)
{
    const keyed *x = pa, *y = pb;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* Scratch memory of the 1-D core for n and m atoms. */
typedef struct {
    keyed *xs, *ys;
    double *break_x, *break_y; /* per sorted atom: ∂W/∂(cumulative weight) */
} w1d_work;

/* Leaves the pointers NULL: otk_sliced_free frees the work of a solver
 * whose w1d_work_alloc failed (and freed it) once more. */
static void w1d_work_free(w1d_work *w)
{
    free(w->xs);
    free(w->ys);
    free(w->break_x);
    free(w->break_y);
    w->xs = w->ys = NULL;
    w->break_x = w->break_y = NULL;
}

static int w1d_work_alloc(w1d_work *w, size_t n, size_t m)
{
    w->xs = malloc(n * sizeof *w->xs);
    w->ys = malloc(m * sizeof *w->ys);
    w->break_x = malloc(n * sizeof(double));
    w->break_y = malloc(m * sizeof(double));
    if (w->xs && w->ys && w->break_x && w->break_y)
        return 0;
    w1d_work_free(w);
    return -1;
}

static inline double ground(double d, double p)
{
    if (p == 1.0)
        return fabs(d);
    if (p == 2.0)
        return d * d;
    return pow(fabs(d), p);
}

/* d/dd |d|^p, with sign(0) = 0. */
static inline double ground_slope(double d, double p)
{
    const double sign = (double)((d > 0.0) - (d < 0.0));
    if (p == 1.0)
        return sign;
    if (p == 2.0)
        return 2.0 * d;
    return p * pow(fabs(d), p - 1.0) * sign;
}

/* W_p^p between (x, alpha) and (y, beta), probability weights in the
 * callers' order.  Optional outputs, overwritten: gx, gy the gradients with
 * respect to the positions; phi_a, phi_b the dual potentials of the text in
 * otkit/sliced.h (before the recentring of the normalisation).
 *
 * The monotone coupling walks the merged cumulative weights t (POT's
 * quantile construction): on each piece (t_prev, t] the atoms whose
 * cumulative weights first reach t are paired. */
static double w1d_core(size_t n, const double *x, const double *alpha, size_t m, const double *y,
                       const double *beta, double p, w1d_work *w, double *gx, double *gy,
                       double *phi_a, double *phi_b)
{
    for (size_t i = 0; i < n; i++)
        w->xs[i] = (keyed){x[i], i};
    for (size_t j = 0; j < m; j++)
        w->ys[j] = (keyed){y[j], j};
    qsort(w->xs, n, sizeof *w->xs, compare_keyed);
    qsort(w->ys, m, sizeof *w->ys, compare_keyed);
    if (gx)
        memset(gx, 0, n * sizeof *gx);
    if (gy)
        memset(gy, 0, m * sizeof *gy);
    memset(w->break_x, 0, n * sizeof(double));
    memset(w->break_y, 0, m * sizeof(double));

    size_t i = 0, j = 0;
    double U = alpha[w->xs[0].index], V = beta[w->ys[0].index], prev = 0.0, value = 0.0;
    for (;;) {
        const double xi = w->xs[i].value, yj = w->ys[j].value;
        const double t = U < V ? U : V, dt = t - prev;
        const double d = xi - yj;
        value += dt * ground(d, p);
        if (dt > 0.0 && (gx || gy)) {
            const double s = dt * ground_slope(d, p);
            if (gx)
                gx[w->xs[i].index] += s;
            if (gy)
                gy[w->ys[j].index] -= s;
        }
        prev = t;
        const int next_x = U <= t, next_y = V <= t;
        if ((next_x && i + 1 == n) || (next_y && j + 1 == m))
            break; /* one side is used up: what the other has left is rounding */
        /* moving the breakpoint t to the right lengthens the left piece and
         * shortens the right one: its derivative, with the other side's atom
         * active just left of t */
        if (next_x) {
            w->break_x[i] = ground(xi - yj, p) - ground(w->xs[i + 1].value - yj, p);
        }
        if (next_y) {
            w->break_y[j] = ground(xi - yj, p) - ground(xi - w->ys[j + 1].value, p);
        }
        if (next_x)
            U += alpha[w->xs[++i].index];
        if (next_y)
            V += beta[w->ys[++j].index];
    }
    /* φ of a sorted atom s: Σ_{r >= s} break_r (raising α_s moves every
     * later breakpoint) */
    if (phi_a) {
        double acc = 0.0;
        for (size_t s = n; s-- > 0;) {
            acc += w->break_x[s];
            phi_a[w->xs[s].index] = acc;
        }
    }
    if (phi_b) {
        double acc = 0.0;
        for (size_t s = m; s-- > 0;) {
            acc += w->break_y[s];
            phi_b[w->ys[s].index] = acc;
        }
    }
    return value;
}

/* Turn φ (for probability weights alpha) into the gradient w.r.t. the
 * unnormalised weights of mass `mass`, in place. */
static void recentre(double *phi, const double *alpha, size_t n, double mass)
{
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += alpha[i] * phi[i];
    for (size_t i = 0; i < n; i++)
        phi[i] = (phi[i] - mean) / mass;
}

/* Probability weights from w (NULL = uniform) into alpha; the mass into *mass. */
static otk_status normalise(const char *what, const double *w, size_t n, double *alpha,
                            double *mass)
{
    if (!w) {
        for (size_t i = 0; i < n; i++)
            alpha[i] = 1.0 / (double)n;
        *mass = 1.0;
        return OTK_SUCCESS;
    }
    otk_status st = otk__check_weights(what, w, n, mass);
    if (st < 0)
        return st;
    for (size_t i = 0; i < n; i++)
        alpha[i] = w[i] / *mass;
    return OTK_SUCCESS;
}

/* OTK_ENUMERIC when the value (W_p^p beyond DBL_MAX: positions far apart
 * for the exponent) or a requested gradient is not finite. */
static otk_status finite_outputs(const char *fn, const char *const names[4], double value,
                                 const double *g1, size_t n1, const double *g2, size_t n2,
                                 const double *g3, size_t n3, const double *g4, size_t n4)
{
    if (!isfinite(value))
        return otk__fail(OTK_ENUMERIC, "%s: the value %g overflows double (positions too far "
                                       "apart for p; rescale them)",
                         fn, value);
    const double *g[4] = {g1, g2, g3, g4};
    const size_t len[4] = {n1, n2, n3, n4};
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; g[k] && i < len[k]; i++)
            if (!isfinite(g[k][i]))
                return otk__fail(OTK_ENUMERIC, "%s: %s[%zu] = %g overflows double", fn,
                                 names[k], i, g[k][i]);
    return OTK_SUCCESS;
}

otk_status otk_wasserstein_1d(size_t n, const double *x, const double *a, size_t m,
                              const double *y, const double *b, double p, double *value,
                              double *grad_x, double *grad_y, double *grad_a, double *grad_b)
{
    if (!x || !y || !value)
        return otk__fail(OTK_ENULL, "otk_wasserstein_1d: %s is NULL",
                         !x ? "x" : !y ? "y" : "value");
    if (n == 0 || m == 0)
        return otk__fail(OTK_ESIZE, "otk_wasserstein_1d: n = %zu and m = %zu must be > 0", n, m);
    if (otk__array_overflows(n, 1, sizeof(keyed)) || otk__array_overflows(m, 1, sizeof(keyed)))
        return otk__fail(OTK_ESIZE, "otk_wasserstein_1d: %s = %zu atoms overflow size_t",
                         otk__array_overflows(n, 1, sizeof(keyed)) ? "n" : "m",
                         otk__array_overflows(n, 1, sizeof(keyed)) ? n : m);
    if (!(p >= 1.0) || !isfinite(p))
        return otk__fail(OTK_EPARAM, "otk_wasserstein_1d: p = %g must be a finite number >= 1",
                         p);
    otk_status st = otk__check_finite("x", x, n);
    if (st < 0)
        return st;
    if ((st = otk__check_finite("y", y, m)) < 0)
        return st;
    w1d_work w;
    double *alpha = malloc(n * sizeof(double)), *beta = malloc(m * sizeof(double));
    if (!alpha || !beta || w1d_work_alloc(&w, n, m) < 0) {
        free(alpha);
        free(beta);
        return otk__fail(OTK_ENOMEM, "otk_wasserstein_1d: out of memory");
    }
    double mass_a, mass_b;
    if ((st = normalise("a", a, n, alpha, &mass_a)) >= 0 &&
        (st = normalise("b", b, m, beta, &mass_b)) >= 0) {
        const double v = w1d_core(n, x, alpha, m, y, beta, p, &w, grad_x, grad_y, grad_a, grad_b);
        if (grad_a)
            recentre(grad_a, alpha, n, mass_a);
        if (grad_b)
            recentre(grad_b, beta, m, mass_b);
        static const char *const names[4] = {"grad_x", "grad_y", "grad_a", "grad_b"};
        st = finite_outputs("otk_wasserstein_1d", names, v, grad_x, n, grad_y, m, grad_a, n,
                            grad_b, m);
        if (st == OTK_SUCCESS)
            *value = v;
    }
    free(alpha);
    free(beta);
    w1d_work_free(&w);
    return st;
}

/* ------------------------------------------------------------ directions */

#define HALTON_MAX_DIM 1000

/* The radical inverse of index in base `base`: the Halton coordinate. */
static double radical_inverse(unsigned long index, unsigned base)
{
    double inv = 1.0 / base, f = inv, r = 0.0;
    while (index > 0) {
        r += f * (double)(index % base);
        index /= base;
        f *= inv;
    }
    return r;
}

/* The first d primes into primes[] (d <= HALTON_MAX_DIM: the largest is
 * 7919). */
static void first_primes(unsigned *primes, size_t d)
{
    size_t k = 0;
    for (unsigned c = 2; k < d; c++) {
        int is_prime = 1;
        for (size_t t = 0; t < k && primes[t] * primes[t] <= c; t++)
            if (c % primes[t] == 0) {
                is_prime = 0;
                break;
            }
        if (is_prime)
            primes[k++] = c;
    }
}

/* L×d directions into dirs (not yet normalised).  Returns 0, or −1 when
 * out of memory. */
static int draw_directions(double *dirs, size_t L, size_t d, otk_directions kind,
                           unsigned long seed)
{
    otk__gsl_never_abort();
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        return -1;
    gsl_rng_set(rng, seed);
    if (kind == OTK_DIRECTIONS_GAUSSIAN) {
        for (size_t k = 0; k < L * d; k++)
            dirs[k] = gsl_ran_gaussian_ziggurat(rng, 1.0);
    } else {
        unsigned *primes = malloc(d * sizeof *primes);
        double *shift = malloc(d * sizeof *shift);
        if (!primes || !shift) {
            free(primes);
            free(shift);
            gsl_rng_free(rng);
            return -1;
        }
        first_primes(primes, d);
        for (size_t k = 0; k < d; k++)
            shift[k] = gsl_rng_uniform(rng);
        for (size_t l = 0; l < L; l++)
            for (size_t k = 0; k < d; k++) {
                double t = radical_inverse((unsigned long)l + 1, primes[k]) + shift[k];
                t -= floor(t);
                if (t <= 0.0)
                    t = 0.5 / (double)(L + 1); /* the normal quantile of 0 is −∞ */
                dirs[l * d + k] = gsl_cdf_ugaussian_Pinv(t);
            }
        free(primes);
        free(shift);
    }
    gsl_rng_free(rng);
    return 0;
}

/* ------------------------------------------------------------ sliced */

struct otk_sliced {
    otk_sliced_params par;
    size_t n, m, d, L;
    double *dirs;      /* L×d unit rows */
    double *projected; /* L values of W_p^p */
    double *px, *py, *gx, *gy, *phi_a, *phi_b, *alpha, *beta;
    w1d_work work;
};

void otk_sliced_params_default(otk_sliced_params *params)
{
    if (!params)
        return;
    params->p = 2.0;
    params->n_projections = 50;
    params->directions = OTK_DIRECTIONS_GAUSSIAN;
    params->seed = 0;
}

void otk_sliced_free(otk_sliced *s)
{
    if (!s)
        return;
    free(s->dirs);
    free(s->projected);
    free(s->px);
    free(s->py);
    free(s->gx);
    free(s->gy);
    free(s->phi_a);
    free(s->phi_b);
    free(s->alpha);
    free(s->beta);
    w1d_work_free(&s->work);
    free(s);
}

otk_status otk_sliced_alloc(otk_sliced **out, size_t n, size_t m, size_t d,
                            const otk_sliced_params *params, const double *directions)
{
    if (!out)
        return otk__fail(OTK_ENULL, "otk_sliced_alloc: out is NULL");
    *out = NULL;
    otk_sliced_params par;
    if (params)
        par = *params;
    else
        otk_sliced_params_default(&par);
    if (n == 0 || m == 0 || d == 0)
        return otk__fail(OTK_ESIZE, "otk_sliced_alloc: n = %zu, m = %zu and d = %zu must be > 0",
                         n, m, d);
    if (!(par.p >= 1.0) || !isfinite(par.p))
        return otk__fail(OTK_EPARAM, "otk_sliced_alloc: p = %g must be a finite number >= 1",
                         par.p);
    if (par.n_projections == 0)
        return otk__fail(OTK_EPARAM, "otk_sliced_alloc: n_projections must be > 0");
    /* Sizes whose arrays cannot be addressed (the points X and Y of each
     * evaluation, n·d and m·d; the L·d directions) fail before a read. */
    if (otk__array_overflows(n, d, sizeof(double)) || otk__array_overflows(m, d, sizeof(double)))
        return otk__fail(OTK_ESIZE, "otk_sliced_alloc: %s·d = %zu·%zu overflows size_t",
                         otk__array_overflows(n, d, sizeof(double)) ? "n" : "m",
                         otk__array_overflows(n, d, sizeof(double)) ? n : m, d);
    if (otk__array_overflows(par.n_projections, d, sizeof(double)))
        return otk__fail(OTK_ESIZE, "otk_sliced_alloc: n_projections·d = %zu·%zu overflows "
                                    "size_t",
                         par.n_projections, d);
    if (!directions && !otk_directions_name(par.directions))
        return otk__fail(OTK_EPARAM, "otk_sliced_alloc: directions = %d is not a kind",
                         (int)par.directions);
    if (!directions && par.directions == OTK_DIRECTIONS_HALTON && d > HALTON_MAX_DIM)
        return otk__fail(OTK_EPARAM, "otk_sliced_alloc: Halton directions need d <= %d, not %zu",
                         HALTON_MAX_DIM, d);
    const size_t L = par.n_projections;
    if (directions) {
        otk_status st = otk__check_finite("directions", directions, L * d);
        if (st < 0)
            return st;
    }
    otk_sliced *s = calloc(1, sizeof *s);
    if (!s)
        return otk__fail(OTK_ENOMEM, "otk_sliced_alloc: out of memory");
    s->par = par;
    s->n = n;
    s->m = m;
    s->d = d;
    s->L = L;
    s->dirs = malloc(L * d * sizeof(double));
    s->projected = calloc(L, sizeof(double));
    s->px = malloc(n * sizeof(double));
    s->py = malloc(m * sizeof(double));
    s->gx = malloc(n * sizeof(double));
    s->gy = malloc(m * sizeof(double));
    s->phi_a = malloc(n * sizeof(double));
    s->phi_b = malloc(m * sizeof(double));
    s->alpha = malloc(n * sizeof(double));
    s->beta = malloc(m * sizeof(double));
    if (!s->dirs || !s->projected || !s->px || !s->py || !s->gx || !s->gy || !s->phi_a ||
        !s->phi_b || !s->alpha || !s->beta || w1d_work_alloc(&s->work, n, m) < 0 ||
        (!directions && draw_directions(s->dirs, L, d, par.directions, par.seed) < 0)) {
        otk_sliced_free(s);
        return otk__fail(OTK_ENOMEM, "otk_sliced_alloc: out of memory");
    }
    if (directions)
        memcpy(s->dirs, directions, L * d * sizeof(double));
    for (size_t l = 0; l < L; l++) {
        double *th = s->dirs + l * d, norm = 0.0;
        for (size_t k = 0; k < d; k++)
            norm += th[k] * th[k];
        norm = sqrt(norm);
        if (!(norm > 0.0)) {
            otk_sliced_free(s);
            return otk__fail(OTK_EDEGENERATE, "otk_sliced_alloc: direction %zu is zero", l);
        }
        for (size_t k = 0; k < d; k++)
            th[k] /= norm;
    }
    *out = s;
    return OTK_SUCCESS;
}

const double *otk_sliced_directions(const otk_sliced *s) { return s ? s->dirs : NULL; }
const double *otk_sliced_projected(const otk_sliced *s) { return s ? s->projected : NULL; }

static void project(const double *P, size_t n, size_t d, const double *th, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (size_t k = 0; k < d; k++)
            acc += P[i * d + k] * th[k];
        out[i] = acc;
    }
}

otk_status otk_sliced_eval(otk_sliced *s, const double *X, const double *a, const double *Y,
                           const double *b, otk_sliced_result *res, double *grad_X,
                           double *grad_Y, double *grad_a, double *grad_b)
{
    if (!s || !X || !Y)
        return otk__fail(OTK_ENULL, "otk_sliced_eval: %s is NULL",
                         !s ? "the solver" : !X ? "X" : "Y");
    const size_t n = s->n, m = s->m, d = s->d, L = s->L;
    otk_status st = otk__check_finite("X", X, n * d);
    if (st < 0)
        return st;
    if ((st = otk__check_finite("Y", Y, m * d)) < 0)
        return st;
    double mass_a, mass_b;
    if ((st = normalise("a", a, n, s->alpha, &mass_a)) < 0)
        return st;
    if ((st = normalise("b", b, m, s->beta, &mass_b)) < 0)
        return st;
    if (grad_X)
        memset(grad_X, 0, n * d * sizeof *grad_X);
    if (grad_Y)
        memset(grad_Y, 0, m * d * sizeof *grad_Y);
    if (grad_a)
        memset(grad_a, 0, n * sizeof *grad_a);
    if (grad_b)
        memset(grad_b, 0, m * sizeof *grad_b);
    const double p = s->par.p, inv_L = 1.0 / (double)L;
    double sum = 0.0, max_w = 0.0;
    for (size_t l = 0; l < L; l++) {
        const double *th = s->dirs + l * d;
        project(X, n, d, th, s->px);
        project(Y, m, d, th, s->py);
        const double w = w1d_core(n, s->px, s->alpha, m, s->py, s->beta, p, &s->work,
                                  grad_X ? s->gx : NULL, grad_Y ? s->gy : NULL,
                                  grad_a ? s->phi_a : NULL, grad_b ? s->phi_b : NULL);
        s->projected[l] = w;
        sum += w;
        max_w = w > max_w ? w : max_w;
        if (grad_X)
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < d; k++)
                    grad_X[i * d + k] += inv_L * s->gx[i] * th[k];
        if (grad_Y)
            for (size_t j = 0; j < m; j++)
                for (size_t k = 0; k < d; k++)
                    grad_Y[j * d + k] += inv_L * s->gy[j] * th[k];
        if (grad_a)
            for (size_t i = 0; i < n; i++)
                grad_a[i] += inv_L * s->phi_a[i];
        if (grad_b)
            for (size_t j = 0; j < m; j++)
                grad_b[j] += inv_L * s->phi_b[j];
    }
    if (grad_a)
        recentre(grad_a, s->alpha, n, mass_a);
    if (grad_b)
        recentre(grad_b, s->beta, m, mass_b);
    static const char *const names[4] = {"grad_X", "grad_Y", "grad_a", "grad_b"};
    st = finite_outputs("otk_sliced_eval", names, sum, grad_X, grad_X ? n * d : 0, grad_Y,
                        grad_Y ? m * d : 0, grad_a, n, grad_b, m);
    if (st < 0)
        return st;
    if (res) {
        res->value_p = sum * inv_L;
        res->value = pow(res->value_p, 1.0 / p);
        res->max_value = pow(max_w, 1.0 / p);
    }
    return OTK_SUCCESS;
}
