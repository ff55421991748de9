/* The entropic map: barycentric projection through the target potential
 * (Pooladian & Niles-Weed 2021), fitted with the Sinkhorn solver. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "otkit/entropic_map.h"
#include "internal.h"

struct otk_entropic_map {
    size_t m, d;
    otk_ground ground;
    double power, eps;
    double *y;  /* m×d row-major, as given */
    double *ys; /* d×m, by coordinate, for the cost tiles */
    double *b, *g;
    double *h; /* log b_j + g_j/ε: the log-weights of the soft assignment */
    const otk_kernels *kern;
};

void otk_entropic_map_free(otk_entropic_map *T)
{
    if (!T)
        return;
    free(T->y);
    free(T);
}

/* Build from validated data. */
static otk_status build(otk_entropic_map **out, size_t m, size_t d, const double *y,
                        const double *b, const double *g, double eps, otk_ground ground,
                        double power)
{
    if ((double)m * (2.0 * (double)d + 3.0) > (double)(SIZE_MAX / sizeof(double)))
        return otk__fail(OTK_ENOMEM, "entropic map: m = %zu, d = %zu overflow size_t", m, d);
    otk_entropic_map *T = calloc(1, sizeof *T);
    double *block = malloc((2 * m * d + 3 * m) * sizeof *block);
    if (!T || !block) {
        free(T);
        free(block);
        return otk__fail(OTK_ENOMEM, "entropic map: out of memory for m = %zu, d = %zu", m, d);
    }
    T->y = block;
    T->ys = block + m * d;
    T->b = T->ys + m * d;
    T->g = T->b + m;
    T->h = T->g + m;
    memcpy(T->y, y, m * d * sizeof *y);
    for (size_t k = 0; k < d; k++)
        for (size_t j = 0; j < m; j++)
            T->ys[k * m + j] = y[j * d + k];
    for (size_t j = 0; j < m; j++) {
        T->b[j] = b ? b[j] : 1.0 / (double)m;
        T->g[j] = g[j];
        T->h[j] = (T->b[j] > 0.0 ? log(T->b[j]) : -INFINITY) + g[j] / eps;
    }
    T->m = m;
    T->d = d;
    T->ground = ground;
    T->power = (ground == OTK_GROUND_LP || ground == OTK_GROUND_LP_OVER_P) ? power : 0.0;
    T->eps = eps;
    T->kern = otk__kernels();
    *out = T;
    return OTK_SUCCESS;
}

static otk_status check_ground(otk_ground ground, double power)
{
    if (!otk_ground_name(ground))
        return otk__fail(OTK_EPARAM, "ground = %d is not a valid otk_ground", (int)ground);
    if ((ground == OTK_GROUND_LP || ground == OTK_GROUND_LP_OVER_P) &&
        !(power > 0.0 && isfinite(power)))
        return otk__fail(OTK_EPARAM, "power = %g must be finite and > 0 for %s", power,
                         otk_ground_name(ground));
    return OTK_SUCCESS;
}

otk_status otk_entropic_map_from_potential(otk_entropic_map **out, size_t m, size_t d,
                                           const double *y, const double *b, const double *g,
                                           double eps, otk_ground ground, double power)
{
    otk_status st;
    if (!out)
        return otk__fail(OTK_ENULL, "otk_entropic_map_from_potential: out is NULL");
    *out = NULL;
    if (!y || !g)
        return otk__fail(OTK_ENULL, "otk_entropic_map_from_potential: %s is NULL",
                         !y ? "y" : "g");
    if (m == 0 || d == 0)
        return otk__fail(OTK_ESIZE, "otk_entropic_map_from_potential: m = %zu and d = %zu must "
                         "be > 0", m, d);
    if ((st = check_ground(ground, power)))
        return st;
    if (!(eps > 0.0 && isfinite(eps)))
        return otk__fail(OTK_EPARAM, "eps = %g must be finite and > 0", eps);
    double mass;
    if ((st = otk__check_finite("y", y, m * d)) || (st = otk__check_finite("g", g, m)) ||
        (b && (st = otk__check_weights("b", b, m, &mass))))
        return st;
    return build(out, m, d, y, b, g, eps, ground, power);
}

otk_status otk_entropic_map_fit(otk_entropic_map **out, size_t n, size_t m, size_t d,
                                const double *x, const double *y, const double *a,
                                const double *b, otk_ground ground, double power,
                                const otk_sinkhorn_params *params)
{
    otk_status st;
    if (!out)
        return otk__fail(OTK_ENULL, "otk_entropic_map_fit: out is NULL");
    *out = NULL;
    if (params && (!isinf(params->rho_a) || !isinf(params->rho_b) || params->reach != 0.0))
        return otk__fail(OTK_EPARAM, "otk_entropic_map_fit: the entropic map needs a balanced "
                         "problem (params.rho_a = %g, rho_b = %g, reach = %g; use INFINITY, "
                         "INFINITY, 0)", params->rho_a, params->rho_b, params->reach);
    if ((st = check_ground(ground, power)))
        return st;
    otk_cost *cost;
    /* otk_cost_points checks NULL pointers, sizes and finiteness of x and y. */
    if ((st = otk_cost_points(&cost, n, m, d, x, y, ground, power)))
        return st;
    otk_sinkhorn *s;
    if ((st = otk_sinkhorn_alloc(&s, cost, params))) {
        otk_cost_free(cost);
        return st;
    }
    otk_sinkhorn_result res;
    const otk_status solved = otk_sinkhorn_solve(s, a, b, &res);
    if (solved >= 0) {
        st = build(out, m, d, y, b, otk_sinkhorn_potential_g(s), res.eps, ground, power);
        if (st == OTK_SUCCESS && solved == OTK_NOT_CONVERGED)
            otk__fail(OTK_NOT_CONVERGED,
                      "otk_entropic_map_fit: Sinkhorn stopped at marginal error %.3g after %d "
                      "iterations; the map uses the best iterate", res.marginal_error,
                      res.iterations);
    }
    otk_sinkhorn_free(s);
    otk_cost_free(cost);
    return solved < 0 ? solved : st ? st : solved;
}

otk_status otk_entropic_map_apply(const otk_entropic_map *T, size_t n, const double *z,
                                  double *tz, int threads)
{
    otk_status st;
    if (!T || !z || !tz)
        return otk__fail(OTK_ENULL, "otk_entropic_map_apply: %s is NULL",
                         !T ? "map" : !z ? "z" : "tz");
    if (n == 0)
        return otk__fail(OTK_ESIZE, "otk_entropic_map_apply: n must be > 0");
    if (threads < 0)
        return otk__fail(OTK_EPARAM, "otk_entropic_map_apply: threads = %d must be >= 0",
                         threads);
    const size_t m = T->m, d = T->d;
    if ((st = otk__check_finite("z", z, n * d)))
        return st;
    const int nt = otk__threads(threads);
    const otk_kernels *kern = T->kern;
    const double inv_eps = 1.0 / T->eps;
    /* One pass per point: a streaming soft-max whose running maximum M rescales
     * the partial sums when it grows, so no exponential overflows and nothing
     * but a stack tile is needed; tz's row is the accumulator. */
#pragma omp parallel for schedule(dynamic, 16) num_threads(nt) if (otk__parallel_worth(nt, n, m))
    for (size_t i = 0; i < n; i++) {
        double buf[OTK_TILE];
        const double *zi = z + i * d;
        double *o = tz + i * d;
        double M = -INFINITY, S = 0.0;
        for (size_t k = 0; k < d; k++)
            o[k] = 0.0;
        for (size_t j0 = 0; j0 < m; j0 += OTK_TILE) {
            const size_t Tn = m - j0 < OTK_TILE ? m - j0 : OTK_TILE;
            kern->points_cost_tile((int)T->ground, T->power, d, zi, 1, T->ys, m, j0, Tn, buf);
            double tmax = -INFINITY;
            for (size_t t = 0; t < Tn; t++) {
                buf[t] = T->h[j0 + t] - buf[t] * inv_eps;
                tmax = buf[t] > tmax ? buf[t] : tmax;
            }
            if (tmax > M) {
                const double scale = exp(M - tmax); /* 0 on the first tile */
                S *= scale;
                for (size_t k = 0; k < d; k++)
                    o[k] *= scale;
                M = tmax;
            }
            for (size_t t = 0; t < Tn; t++) {
                const double wt = exp(buf[t] - M);
                if (wt == 0.0)
                    continue;
                S += wt;
                const double *yj = T->y + (j0 + t) * d;
                for (size_t k = 0; k < d; k++)
                    o[k] += wt * yj[k];
            }
        }
        for (size_t k = 0; k < d; k++)
            o[k] /= S;
    }
    return OTK_SUCCESS;
}

otk_status otk_entropic_map_data(const otk_entropic_map *T, size_t *m, size_t *d,
                                 const double **y, const double **b, const double **g,
                                 double *eps, otk_ground *ground, double *power)
{
    if (!T)
        return otk__fail(OTK_ENULL, "otk_entropic_map_data: map is NULL");
    if (m)
        *m = T->m;
    if (d)
        *d = T->d;
    if (y)
        *y = T->y;
    if (b)
        *b = T->b;
    if (g)
        *g = T->g;
    if (eps)
        *eps = T->eps;
    if (ground)
        *ground = T->ground;
    if (power)
        *power = T->power;
    return OTK_SUCCESS;
}
