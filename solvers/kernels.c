/* SIMD kernels, compiled once per instruction set: the build defines
 * OTK_KERNEL_TABLE (otk__kernels_generic, _avx2, _avx512) and the matching
 * -m flags.  The loops are written for the auto-vectoriser: no branches in the
 * tile loops, and exp() is replaced by a branch-free version that vectorises. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kernels.h"

#ifndef OTK_KERNEL_TABLE
#define OTK_KERNEL_TABLE otk__kernels_generic
#define OTK_KERNEL_ISA "generic"
#endif

/* exp(x), accurate to about 1 ulp on [−708, 709]; arguments are clamped to
 * that range, so below it the result is e^−708 ≈ 3e−308, negligible next to the
 * maximum term 1 of every shifted log-sum-exp.  Range reduction x = k ln2 + r with |r| <= ln2/2; 2^k is built in
 * the exponent bits from the "shifter" trick so no float→int conversion is
 * needed (AVX2 has none for 64-bit integers); e^r by its Taylor series to
 * degree 13 (truncation error < 2e−17 relative). */
static inline double otk_exp_clamped(double x)
{
    const double shifter = 0x1.8p52;
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
    double t = x * log2e + shifter;
    double k = t - shifter;
    double r = (x - k * ln2_hi) - k * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static void points_cost_tile(int ground, double power, size_t d, const double *p, size_t pstride,
                             const double *Q, size_t ldq, size_t j0, size_t T, double *c)
{
    for (size_t t = 0; t < T; t++)
        c[t] = 0.0;
    if (ground == OTK_K_L1) {
        for (size_t k = 0; k < d; k++) {
            const double pk = p[k * pstride];
            const double *q = Q + k * ldq + j0;
            for (size_t t = 0; t < T; t++)
                c[t] += fabs(pk - q[t]);
        }
        return;
    }
    for (size_t k = 0; k < d; k++) {
        const double pk = p[k * pstride];
        const double *q = Q + k * ldq + j0;
        for (size_t t = 0; t < T; t++) {
            double diff = pk - q[t];
            c[t] += diff * diff;
        }
    }
    switch (ground) {
    case OTK_K_SQ:
        break;
    case OTK_K_HALFSQ:
        for (size_t t = 0; t < T; t++)
            c[t] *= 0.5;
        break;
    case OTK_K_EUCLID:
        for (size_t t = 0; t < T; t++)
            c[t] = sqrt(c[t]);
        break;
    case OTK_K_LP:
        for (size_t t = 0; t < T; t++)
            c[t] = pow(c[t], 0.5 * power);
        break;
    case OTK_K_LP_OVER_P:
        for (size_t t = 0; t < T; t++)
            c[t] = pow(c[t], 0.5 * power) / power;
        break;
    default:
        break;
    }
}

/* Sums and maxima use OTK_LANES independent accumulators combined in a fixed
 * order: the vectoriser needs no reassociation (no -ffast-math) and every ISA
 * adds in the same order. */
#define OTK_LANES 8

static double lanes_max(const double *v, size_t T)
{
    double mx[OTK_LANES];
    for (int l = 0; l < OTK_LANES; l++)
        mx[l] = -INFINITY;
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++)
            mx[l] = v[t + l] > mx[l] ? v[t + l] : mx[l];
    for (; t < T; t++)
        mx[0] = v[t] > mx[0] ? v[t] : mx[0];
    double r = mx[0];
    for (int l = 1; l < OTK_LANES; l++)
        r = mx[l] > r ? mx[l] : r;
    return r;
}

static double lanes_sum(const double *v, size_t T)
{
    double acc[OTK_LANES] = {0};
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++)
            acc[l] += v[t + l];
    for (; t < T; t++)
        acc[0] += v[t];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void lse_accumulate(const double *c, const double *h, size_t T, double inv_eps, double *M,
                           double *S)
{
    double v[OTK_TILE];
    for (size_t t = 0; t < T; t++)
        v[t] = h[t] - c[t] * inv_eps;
    const double tmax = lanes_max(v, T);
    if (tmax == -INFINITY)
        return;
    for (size_t t = 0; t < T; t++)
        v[t] = otk_exp_clamped(v[t] - tmax);
    const double s = lanes_sum(v, T);
    if (tmax > *M) {
        *S = *S * (*M == -INFINITY ? 0.0 : exp(*M - tmax)) + s;
        *M = tmax;
    } else {
        *S += s * exp(tmax - *M);
    }
}

static void plan_weights(const double *c, const double *v, size_t T, double u, double inv_eps,
                         double *w)
{
    for (size_t t = 0; t < T; t++)
        w[t] = otk_exp_clamped(u + v[t] - c[t] * inv_eps);
}

static void strip_max(const double *c, double h, size_t T, double inv_eps, double *M)
{
    for (size_t t = 0; t < T; t++) {
        double v = h - c[t] * inv_eps;
        M[t] = v > M[t] ? v : M[t];
    }
}

static void strip_sumexp(const double *c, double h, size_t T, double inv_eps, const double *M,
                         double *S)
{
    for (size_t t = 0; t < T; t++)
        S[t] += otk_exp_clamped(h - c[t] * inv_eps - M[t]);
}

static double lanes_dot(const double *x, const double *y, size_t T)
{
    double acc[OTK_LANES] = {0};
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++)
            acc[l] += x[t + l] * y[t + l];
    for (; t < T; t++)
        acc[0] += x[t] * y[t];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

const otk_kernels OTK_KERNEL_TABLE = {
    OTK_KERNEL_ISA, points_cost_tile, lse_accumulate, plan_weights, strip_max, strip_sumexp,
    lanes_sum,      lanes_dot,
};
