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

/* exp(x), relative error below 6e−15 on [−40, 40] and 1e−13 on [−708, 709]
 * (measured against libm), branch-free so that it vectorises.  Range
 * reduction x = k ln2 + r with |r| <= ln2/2; 2^k is built directly in the
 * exponent bits with the "shifter" trick, so no float→int conversion is needed
 * (AVX2 has none for 64-bit integers); e^r = 1 + r + r²u(r) with u a degree-8
 * near-minimax polynomial (Chebyshev fit of (e^r − 1 − r)/r², relative error
 * 1.1e−15 on the interval).  ln2 is not split in two: its rounding adds about
 * |k|·2e−17 to r, which matters only for terms far below e^−40 times a
 * log-sum-exp's maximum, which do not count.
 * otk_exp_nonpos is for arguments <= 0 (shifted log-sum-exp terms): below −708
 * it returns e^−708 ≈ 3e−308, negligible next to the largest term, 1.
 * otk_exp_clamped also clamps above at 709 (plan entries of unconverged
 * potentials). */
__attribute__((always_inline)) static inline double otk_exp_reduced(double x)
{
    const double shifter = 0x1.8p52;
    const double log2e = 1.4426950408889634;
    const double ln2 = 0.6931471805599453;
    double t = x * log2e + shifter;
    double k = t - shifter;
    double r = x - k * ln2;
    double u = 2.761379555451986e-07;
    u = u * r + 2.7625102005388108e-06;
    u = u * r + 2.4801536409064087e-05;
    u = u * r + 0.0001984120875699232;
    u = u * r + 0.0013888888905871347;
    u = u * r + 0.008333333353717156;
    u = u * r + 0.041666666666651364;
    u = u * r + 0.16666666666648303;
    u = u * r + 0.5;
    double e = (r * r * u + r) + 1.0;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

__attribute__((always_inline)) static inline double otk_exp_nonpos(double x)
{
    return otk_exp_reduced(x > -708.0 ? x : -708.0);
}

__attribute__((always_inline)) static inline double otk_exp_clamped(double x)
{
    x = x > -708.0 ? x : -708.0;
    return otk_exp_reduced(x < 709.0 ? x : 709.0);
}

#if defined(__AVX512F__)
#include <immintrin.h>
/* e^x for 8 lanes, x in [−708, 709] (callers clamp).  The same reduction and
 * polynomial as otk_exp_reduced, but k = round(x/ln2) by vrndscalepd, ln2
 * split in two (r exact to an ulp whatever k), and 2^k applied by vscalefpd:
 * about half the time of the scalar form's vectorised code in the exp-sum
 * loops (bench/yardstick.c measures both) and 1.3e−15 relative error on
 * [−708, 0] instead of 8e−14. */
__attribute__((always_inline)) static inline __m512d otk_exp8(__m512d x)
{
    const __m512d log2e = _mm512_set1_pd(1.4426950408889634);
    const __m512d ln2hi = _mm512_set1_pd(0.6931471805599453);
    const __m512d ln2lo = _mm512_set1_pd(2.3190468138462996e-17);
    const __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(x, log2e),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(k, ln2hi, x);
    r = _mm512_fnmadd_pd(k, ln2lo, r);
    __m512d u = _mm512_set1_pd(2.761379555451986e-07);
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(2.7625102005388108e-06));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(2.4801536409064087e-05));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.0001984120875699232));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.0013888888905871347));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.008333333353717156));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.041666666666651364));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.16666666666648303));
    u = _mm512_fmadd_pd(u, r, _mm512_set1_pd(0.5));
    const __m512d e =
        _mm512_add_pd(_mm512_fmadd_pd(_mm512_mul_pd(r, r), u, r), _mm512_set1_pd(1.0));
    return _mm512_scalef_pd(e, k);
}

/* 2^t for 8 lanes, t >= −1021 (callers clamp; a NaN or +inf t gives NaN or
 * +inf).  Where the argument comes out of a fused cost evaluation, log2(e)
 * is folded into that evaluation's constants, so the exponential needs no
 * multiplication by it and no ln2 reduction: k = round(t), f = t − k exactly
 * (|f| <= ½), and 2^f = e^{f ln2} = 1 + f·(ln2 + f·w(f)) with w the
 * polynomial u of otk_exp_reduced in the variable f (w_i = u_i·ln2^{i+2}, the
 * same approximation, rounded to double once), 2^k by vscalefpd.  Two
 * operations fewer per lane than otk_exp8 after its own scaling, and the
 * same accuracy, 1.3e−15 relative (tests/check_kernels). */
__attribute__((always_inline)) static inline __m512d otk_exp2_8(__m512d t)
{
    const __m512d k = _mm512_roundscale_pd(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512d f = _mm512_sub_pd(t, k);
    __m512d w = _mm512_set1_pd(7.0693700489720866e-09);
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(1.0203121063391729e-07));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(1.3215459672143349e-06));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(1.5252686846267718e-05));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(0.00015403530412216076));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(0.0013333558179043109));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(0.009618129107624945));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(0.055504108664760424));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(0.24022650695910072));
    w = _mm512_fmadd_pd(w, f, _mm512_set1_pd(0.69314718055994529));
    return _mm512_scalef_pd(_mm512_fmadd_pd(w, f, _mm512_set1_pd(1.0)), k);
}

/* The lanes of a and b added pairwise, then combined in lanes_total's order. */
static inline double otk_lanes8_total(__m512d a)
{
    double l[8];
    _mm512_storeu_pd(l, a);
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}
#endif

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
    otk__ground_of_sums(ground, power, c, T);
}

/* Sums and maxima use OTK_LANES independent accumulators combined in a fixed
 * order: the vectoriser needs no reassociation (no -ffast-math) and every ISA
 * adds in the same order. */
#define OTK_LANES 8

/* The fixed pairwise order in which OTK_LANES partial sums are combined. */
static inline double lanes_total(const double *a)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* A NaN in v makes the result NaN (so that a NaN cost from a user callback
 * surfaces as a non-finite potential instead of being skipped). */
static double lanes_max(const double *v, size_t T)
{
    double mx[OTK_LANES];
    for (int l = 0; l < OTK_LANES; l++)
        mx[l] = -INFINITY;
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++)
            mx[l] = (v[t + l] > mx[l] || v[t + l] != v[t + l]) ? v[t + l] : mx[l];
    for (; t < T; t++)
        mx[0] = (v[t] > mx[0] || v[t] != v[t]) ? v[t] : mx[0];
    double r = mx[0];
    for (int l = 1; l < OTK_LANES; l++)
        r = (mx[l] > r || mx[l] != mx[l]) ? mx[l] : r;
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
    return lanes_total(acc);
}

/* Σ_t exp(v[t] − shift), exp and sum fused, in the fixed lane order. */
static double sum_exp_shifted(const double *v, size_t T, double shift)
{
#if defined(__AVX512F__)
    /* Two chains of 8 lanes (the exp's latency), tail masked; a fixed order. */
    const __m512d sh = _mm512_set1_pd(shift), lo = _mm512_set1_pd(-708.0);
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    size_t t = 0;
    for (; t + 16 <= T; t += 16) {
        a0 = _mm512_add_pd(a0, otk_exp8(_mm512_max_pd(_mm512_sub_pd(_mm512_loadu_pd(v + t), sh), lo)));
        a1 = _mm512_add_pd(a1,
                           otk_exp8(_mm512_max_pd(_mm512_sub_pd(_mm512_loadu_pd(v + t + 8), sh), lo)));
    }
    for (; t < T; t += 8) {
        const __mmask8 k = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        const __m512d x = _mm512_max_pd(_mm512_sub_pd(_mm512_maskz_loadu_pd(k, v + t), sh), lo);
        a0 = _mm512_mask_add_pd(a0, k, a0, otk_exp8(x));
    }
    return otk_lanes8_total(_mm512_add_pd(a0, a1));
#else
    double acc[OTK_LANES] = {0};
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++)
            acc[l] += otk_exp_nonpos(v[t + l] - shift);
    for (; t < T; t++)
        acc[0] += otk_exp_nonpos(v[t] - shift);
    return lanes_total(acc);
#endif
}

/* Fold a tile's (max, Σ exp(v − max)) into the running pair (M, S). */
static void lse_merge(double tmax, double s, double *M, double *S)
{
    if (tmax > *M) {
        *S = *S * (*M == -INFINITY ? 0.0 : exp(*M - tmax)) + s;
        *M = tmax;
    } else {
        *S += s * exp(tmax - *M);
    }
}

/* A row's running (M, S) is a safe shift for its later tiles: a tile is
 * summed in one pass, exp(v − M) with no maximum and no buffer, and only
 * where that sum could have lost precision (a term above 2^800 relative to M,
 * a NaN, an S grown past 2^900) is it summed again exactly with its own
 * maximum and merged (docs/math.md A.2). */
#define OTK_ONEPASS_MAX 0x1p800
/* Entries whose maximum shifts a row's first tile (points_sq_lse_rows). */
#define OTK_HEAD 64
#define OTK_ONEPASS_S_MAX 0x1p900

/* How far ahead (doubles) each row of a block is prefetched into L1: eight
 * cache lines, about one memory latency of the block's work.  Each row is a
 * short run (a strip's width) that the hardware prefetcher would only start
 * to follow after a few misses; with it the column soft-min at n = m = 4000
 * went from 0.74 to 0.86 of the ceiling, 32 and 96 slightly slower than 64,
 * 128 and more slower still (a one-thread copy of the column loop timed
 * against bench/yardstick.c's ceiling). */
#ifndef OTK_COL_PF
#define OTK_COL_PF 64
#endif

#if defined(__AVX512F__)
/* The one-pass dense sum of 8-lane vectors, Σ_t e(max(lo, h[t] − c[t]·ie −
 * sh)) with e = exp (base2 = 0) or 2^x (base2 = 1, the later tiles of dense
 * rows, which also prefetch each row's next tile into L2): one body for
 * dense_sum_onepass and dense_sum_onepass2. */
__attribute__((always_inline)) static inline double
dense_sum8(const double *c, const double *h, size_t T, double inv_eps, double shift, double lo_,
           int base2)
{
    const __m512d ie = _mm512_set1_pd(inv_eps), sh = _mm512_set1_pd(shift),
                  lo = _mm512_set1_pd(lo_);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    __m512d s2 = _mm512_setzero_pd(), s3 = _mm512_setzero_pd();
    size_t t = 0;
#define OTK_DENSE_X_(o_)                                                                   \
    _mm512_max_pd(lo, _mm512_sub_pd(_mm512_fnmadd_pd(_mm512_loadu_pd(c + t + (o_)), ie,     \
                                                     _mm512_loadu_pd(h + t + (o_))),       \
                                    sh))
#define OTK_DENSE_E_(x_) (base2 ? otk_exp2_8(x_) : otk_exp8(x_))
    for (; t + 32 <= T; t += 32) {
        if (base2)
            for (int l = 0; l < 4; l++)
                _mm_prefetch((const char *)(c + t + OTK_TILE + 8 * l), _MM_HINT_T1);
        s0 = _mm512_add_pd(s0, OTK_DENSE_E_(OTK_DENSE_X_(0)));
        s1 = _mm512_add_pd(s1, OTK_DENSE_E_(OTK_DENSE_X_(8)));
        s2 = _mm512_add_pd(s2, OTK_DENSE_E_(OTK_DENSE_X_(16)));
        s3 = _mm512_add_pd(s3, OTK_DENSE_E_(OTK_DENSE_X_(24)));
    }
#undef OTK_DENSE_X_
    s0 = _mm512_add_pd(s0, s2);
    s1 = _mm512_add_pd(s1, s3);
    for (; t < T; t += 8) {
        const __mmask8 m = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        const __m512d x = _mm512_sub_pd(
            _mm512_fnmadd_pd(_mm512_maskz_loadu_pd(m, c + t), ie, _mm512_maskz_loadu_pd(m, h + t)),
            sh);
        s0 = _mm512_mask_add_pd(s0, m, s0, OTK_DENSE_E_(_mm512_max_pd(lo, x)));
    }
#undef OTK_DENSE_E_
    return otk_lanes8_total(_mm512_add_pd(s0, s1));
}
#endif

/* Σ_t exp(h[t] − c[t]·inv_eps − shift) in one pass, the exponents clamped
 * below at −708 (a −inf h, a zero weight, counts as e^−708), a NaN kept, and
 * not clamped above where the exponential overflows to +inf by itself
 * (AVX-512); elsewhere clamped at 709, which the caller's bound catches. */
static double dense_sum_onepass(const double *c, const double *h, size_t T, double inv_eps,
                                double shift)
{
#if defined(__AVX512F__)
    return dense_sum8(c, h, T, inv_eps, shift, -708.0, 0);
#else
    double acc[OTK_LANES] = {0};
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++) {
            double x = h[t + l] - c[t + l] * inv_eps - shift;
            x = x < -708.0 ? -708.0 : x;
            acc[l] += otk_exp_reduced(x > 709.0 ? 709.0 : x);
        }
    for (; t < T; t++) {
        double x = h[t] - c[t] * inv_eps - shift;
        x = x < -708.0 ? -708.0 : x;
        acc[0] += otk_exp_reduced(x > 709.0 ? 709.0 : x);
    }
    return lanes_total(acc);
#endif
}

#if defined(__AVX512F__)
/* max_t h[t] − c[t]·inv_eps in registers (a row's first tile), NaNs
 * skipped: the one-pass sum that follows meets them and falls back. */
static double dense_max_onepass(const double *c, const double *h, size_t T, double inv_eps)
{
    const __m512d ie = _mm512_set1_pd(inv_eps);
    __m512d m0 = _mm512_set1_pd(-INFINITY), m1 = m0;
    size_t t = 0;
    for (; t + 16 <= T; t += 16) {
        m0 = _mm512_max_pd(_mm512_fnmadd_pd(_mm512_loadu_pd(c + t), ie, _mm512_loadu_pd(h + t)),
                           m0);
        m1 = _mm512_max_pd(
            _mm512_fnmadd_pd(_mm512_loadu_pd(c + t + 8), ie, _mm512_loadu_pd(h + t + 8)), m1);
    }
    for (; t < T; t += 8) {
        const __mmask8 m = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        const __m512d x =
            _mm512_fnmadd_pd(_mm512_maskz_loadu_pd(m, c + t), ie, _mm512_maskz_loadu_pd(m, h + t));
        m0 = _mm512_mask_max_pd(m0, m, x, m0);
    }
    return _mm512_reduce_max_pd(_mm512_max_pd(m0, m1));
}
#endif

/* The exact path of a dense tile: v = h − c·inv_eps, its own maximum as the
 * shift, merged into (M, S); an all −∞ tile leaves them. */
static void lse_merge_exact(const double *c, const double *h, size_t T, double inv_eps, double *M,
                            double *S)
{
    double v[OTK_TILE];
    for (size_t t = 0; t < T; t++)
        v[t] = h[t] - c[t] * inv_eps;
    const double tmax = lanes_max(v, T);
    if (tmax != -INFINITY)
        lse_merge(tmax, sum_exp_shifted(v, T, tmax), M, S);
}

static void lse_accumulate(const double *c, const double *h, size_t T, double inv_eps, double *M,
                           double *S)
{
    if (*M != -INFINITY && *S <= OTK_ONEPASS_S_MAX) {
        const double s = dense_sum_onepass(c, h, T, inv_eps, *M);
        if (s <= OTK_ONEPASS_MAX) {
            *S += s;
            return;
        }
    }
#if defined(__AVX512F__)
    else if (*M == -INFINITY) { /* the first tile: its maximum in registers */
        const double mx = dense_max_onepass(c, h, T, inv_eps);
        if (mx > -INFINITY && mx < INFINITY) {
            const double s = dense_sum_onepass(c, h, T, inv_eps, mx);
            if (s <= OTK_ONEPASS_MAX) {
                *M = mx;
                *S = s;
                return;
            }
        }
    }
#endif
    lse_merge_exact(c, h, T, inv_eps, M, S);
}

#if defined(__AVX512F__)
/* dense_sum_onepass in base 2: Σ_t 2^(h2[t] − c[t]·ie2 − base2), h2, ie2 and
 * base2 the natural quantities times log2(e), clamped below at 2^−1021 and
 * not above (as sq_sum_onepass2). */
static double dense_sum_onepass2(const double *c, const double *h2, size_t T, double ie2,
                                 double base2)
{
    return dense_sum8(c, h2, T, ie2, base2, -1021.0, 1);
}
#endif

#if defined(__AVX512F__)
/* dense_sum_onepass2 for OTK_SQ_ROWS rows at once (row r at C + r·ld, shift
 * sh2[r]): each chunk of 32 entries of h2 loaded once for the 8 rows, the
 * rows interleaved at that grain, so that a block of rows streams as 8
 * concurrent runs of a whole row each (the caller walks the tiles in order)
 * instead of one tile of one row after another; each row prefetched
 * OTK_COL_PF entries ahead as the column blocks (strip_sumexp_rows).  One
 * accumulator of 8 lanes per row. */
static void dense_sum8_rows8(const double *C, size_t ld, const double *h2, size_t T, double ie2_,
                             const double *sh2, double *out)
{
    const __m512d ie2 = _mm512_set1_pd(ie2_), lo = _mm512_set1_pd(-1021.0);
    __m512d s[OTK_SQ_ROWS];
    for (int r = 0; r < OTK_SQ_ROWS; r++)
        s[r] = _mm512_setzero_pd();
    size_t t = 0;
    for (; t + 32 <= T; t += 32) {
        const __m512d h0 = _mm512_loadu_pd(h2 + t), h1 = _mm512_loadu_pd(h2 + t + 8),
                      hh2 = _mm512_loadu_pd(h2 + t + 16), h3 = _mm512_loadu_pd(h2 + t + 24);
        for (int r = 0; r < OTK_SQ_ROWS; r++) {
            const double *c = C + (size_t)r * ld + t;
            for (int l = 0; l < 4; l++)
                _mm_prefetch((const char *)(c + OTK_COL_PF + 8 * l), _MM_HINT_T0);
            const __m512d sh = _mm512_set1_pd(sh2[r]);
#define OTK_ROW_E_(o_, h_)                                                                 \
    otk_exp2_8(_mm512_max_pd(                                                              \
        lo, _mm512_sub_pd(_mm512_fnmadd_pd(_mm512_loadu_pd(c + (o_)), ie2, h_), sh)))
            s[r] = _mm512_add_pd(s[r], _mm512_add_pd(OTK_ROW_E_(0, h0), OTK_ROW_E_(8, h1)));
            s[r] = _mm512_add_pd(s[r], _mm512_add_pd(OTK_ROW_E_(16, hh2), OTK_ROW_E_(24, h3)));
#undef OTK_ROW_E_
        }
    }
    for (; t < T; t += 8) {
        const __mmask8 k = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        const __m512d hv = _mm512_maskz_loadu_pd(k, h2 + t);
        for (int r = 0; r < OTK_SQ_ROWS; r++) {
            const __m512d x = _mm512_sub_pd(
                _mm512_fnmadd_pd(_mm512_maskz_loadu_pd(k, C + (size_t)r * ld + t), ie2, hv),
                _mm512_set1_pd(sh2[r]));
            s[r] = _mm512_mask_add_pd(s[r], k, s[r], otk_exp2_8(_mm512_max_pd(lo, x)));
        }
    }
    for (int r = 0; r < OTK_SQ_ROWS; r++)
        out[r] = otk_lanes8_total(s[r]);
}
#endif

/* lse_accumulate for R <= OTK_SQ_ROWS rows of a row-major matrix (row r at
 * C + r·ld, the tile at column j0) against one tile of h: with AVX-512 the
 * exponents in base 2 (h·log2(e) formed once for the block, two operations
 * fewer per entry, docs/math.md A.2), the rows' first tiles shifted by their
 * maxima found in registers; otherwise lse_accumulate row by row. */
static void dense_lse_rows(const double *C, size_t ld, size_t R, size_t j0, size_t T,
                           const double *h, double inv_eps, double *M, double *S)
{
#if defined(__AVX512F__)
    const double log2e = 1.4426950408889634, ie2 = inv_eps * log2e;
    double h2[OTK_TILE];
    for (size_t t = 0; t < T; t++)
        h2[t] = h[t] * log2e;
    if (R == OTK_SQ_ROWS) {
        /* The whole block at once where every row has a finite shift. */
        double Mr[OTK_SQ_ROWS], sh2[OTK_SQ_ROWS], s8[OTK_SQ_ROWS];
        int all = 1;
        for (size_t r = 0; r < R; r++) {
            const int onepass = M[r] != -INFINITY && S[r] <= OTK_ONEPASS_S_MAX;
            Mr[r] = onepass ? M[r]
                    : M[r] == -INFINITY ? dense_max_onepass(C + r * ld + j0, h, T, inv_eps)
                                        : NAN;
            all &= Mr[r] > -INFINITY && Mr[r] < INFINITY;
            sh2[r] = Mr[r] * log2e;
        }
        if (all) {
            dense_sum8_rows8(C + j0, ld, h2, T, ie2, sh2, s8);
            for (size_t r = 0; r < R; r++) {
                if (s8[r] <= OTK_ONEPASS_MAX) {
                    M[r] = Mr[r];
                    S[r] += s8[r];
                    continue;
                }
                lse_merge_exact(C + r * ld + j0, h, T, inv_eps, &M[r], &S[r]);
            }
            return;
        }
    }
    for (size_t r = 0; r < R; r++) {
        const double *c = C + r * ld + j0;
        const int onepass = M[r] != -INFINITY && S[r] <= OTK_ONEPASS_S_MAX;
        if (onepass || M[r] == -INFINITY) {
            const double Mr = onepass ? M[r] : dense_max_onepass(c, h, T, inv_eps);
            if (Mr > -INFINITY && Mr < INFINITY) {
                const double s = dense_sum_onepass2(c, h2, T, ie2, Mr * log2e);
                if (s <= OTK_ONEPASS_MAX) {
                    M[r] = Mr;
                    S[r] += s;
                    continue;
                }
            }
        }
        lse_merge_exact(c, h, T, inv_eps, &M[r], &S[r]);
    }
#else
    for (size_t r = 0; r < R; r++)
        lse_accumulate(C + r * ld + j0, h, T, inv_eps, &M[r], &S[r]);
#endif
}

/* v[t] = h[t] − c(p, q_{j0+t})·inv_eps for dimensions 1 to 4 and the
 * Euclidean-type grounds, the cost computed in registers: one pass over the
 * tile instead of d + 2 passes over a cost buffer.  Written out per term so
 * the vectoriser works along t (it would otherwise pair up the coordinates). */
__attribute__((always_inline)) static inline double ground_term(int ground, double diff)
{
    return ground == OTK_K_L1 ? fabs(diff) : diff * diff;
}

__attribute__((always_inline)) static inline double
points_v_one(int ground, size_t D, const double *p4, const double *const *q4, size_t t,
             double h, double scale)
{
    double acc = ground_term(ground, p4[0] - q4[0][t]);
    if (D > 1)
        acc += ground_term(ground, p4[1] - q4[1][t]);
    if (D > 2)
        acc += ground_term(ground, p4[2] - q4[2][t]);
    if (D > 3)
        acc += ground_term(ground, p4[3] - q4[3][t]);
    if (ground == OTK_K_EUCLID)
        acc = sqrt(acc);
    return h - acc * scale;
}

/* Also returns max_t v[t], folded into the same pass with OTK_LANES lanes. */
__attribute__((always_inline)) static inline double
points_v_small(int ground, size_t D, const double *p, size_t pstride, const double *Q,
               size_t ldq, size_t j0, size_t T, const double *restrict h, double inv_eps,
               double *restrict v)
{
    const double scale = (ground == OTK_K_HALFSQ ? 0.5 : 1.0) * inv_eps;
    const double p4[4] = {p[0], D > 1 ? p[pstride] : 0.0, D > 2 ? p[2 * pstride] : 0.0,
                          D > 3 ? p[3 * pstride] : 0.0};
    const double *const q4[4] = {Q + j0, Q + (D > 1 ? ldq : 0) + j0,
                                 Q + (D > 2 ? 2 * ldq : 0) + j0, Q + (D > 3 ? 3 * ldq : 0) + j0};
    double mx[OTK_LANES];
    for (int l = 0; l < OTK_LANES; l++)
        mx[l] = -INFINITY;
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++) {
            double vt = points_v_one(ground, D, p4, q4, t + l, h[t + l], scale);
            v[t + l] = vt;
            mx[l] = vt > mx[l] ? vt : mx[l];
        }
    for (; t < T; t++) {
        double vt = points_v_one(ground, D, p4, q4, t, h[t], scale);
        v[t] = vt;
        mx[0] = vt > mx[0] ? vt : mx[0];
    }
    double r = mx[0];
    for (int l = 1; l < OTK_LANES; l++)
        r = mx[l] > r ? mx[l] : r;
    return r;
}

static void points_lse_tile(int ground, double power, size_t d, const double *p, size_t pstride,
                            const double *Q, size_t ldq, size_t j0, size_t T, const double *h,
                            double inv_eps, double *M, double *S)
{
    double v[OTK_TILE];
    double tmax;
    if (d <= 4 && ground != OTK_K_LP && ground != OTK_K_LP_OVER_P) {
        /* Literal dimensions let the compiler unroll the coordinate loop. */
#define OTK_POINTS_V_(D_, G_)                                                              \
    tmax = points_v_small(G_, D_, p, pstride, Q, ldq, j0, T, h, inv_eps, v)
#define OTK_POINTS_V_DIM_(G_)                                                              \
    switch (d) {                                                                           \
    case 1: OTK_POINTS_V_(1, G_); break;                                                   \
    case 2: OTK_POINTS_V_(2, G_); break;                                                   \
    case 3: OTK_POINTS_V_(3, G_); break;                                                   \
    default: OTK_POINTS_V_(4, G_); break;                                                  \
    }
        switch (ground) {
        case OTK_K_SQ: OTK_POINTS_V_DIM_(OTK_K_SQ); break;
        case OTK_K_HALFSQ: OTK_POINTS_V_DIM_(OTK_K_HALFSQ); break;
        case OTK_K_EUCLID: OTK_POINTS_V_DIM_(OTK_K_EUCLID); break;
        default: OTK_POINTS_V_DIM_(OTK_K_L1); break;
        }
#undef OTK_POINTS_V_DIM_
#undef OTK_POINTS_V_
    } else {
        double c[OTK_TILE];
        points_cost_tile(ground, power, d, p, pstride, Q, ldq, j0, T, c);
        for (size_t t = 0; t < T; t++)
            v[t] = h[t] - c[t] * inv_eps;
        tmax = lanes_max(v, T);
    }
    if (tmax == -INFINITY)
        return;
    lse_merge(tmax, sum_exp_shifted(v, T, tmax), M, S);
}

/* ------------------------------------------- squared costs, expanded form */

/* The squared-Euclidean soft-min in expanded form (docs/math.md A.2): with
 * centred coordinates, ‖x − y‖² = ‖x‖² + ‖y‖² − 2⟨x, y⟩, so the exponent of
 * entry (r, t) is
 *     v = hq[t] − rowc + two_scale·⟨p_r, q_t⟩,
 * hq[t] = h[t] − scale·‖q_t‖² computed once per tile for a block of rows by
 * the caller, rowc = scale·‖p_r‖²: d fused multiply-adds per entry instead of
 * d subtractions and d multiply-adds.  After a row's first tile the running
 * maximum M[r] is a safe shift: the tile is summed in one pass, exp(v − M)
 * with no maximum and no buffer, and only where that sum could have lost
 * precision (a term above 2^800 relative to M, a NaN, an S grown past 2^900)
 * is the tile summed again exactly with its own maximum (OTK_ONEPASS_MAX,
 * OTK_ONEPASS_S_MAX, as lse_accumulate). */

/* v[t] = hq[t] − rowc + two_scale·Σ_k p_k q_k[t] over one tile, any d
 * (p_k = p[k·pstride], q_k = Q + k·ldq, already offset to the tile). */
static void sq_v_tile(size_t d, const double *p, size_t pstride, double two_scale,
                      const double *Q, size_t ldq, size_t T, const double *hq, double rowc,
                      double *v)
{
    for (size_t t = 0; t < T; t++)
        v[t] = hq[t] - rowc;
    for (size_t k = 0; k < d; k++) {
        const double ak = two_scale * p[k * pstride];
        const double *qk = Q + k * ldq;
        for (size_t t = 0; t < T; t++)
            v[t] += ak * qk[t];
    }
}

/* Σ_t exp(v[t] − shift), exponents clamped to [−708, 709] and a NaN kept
 * (the caller falls back on a NaN or a large sum). */
static double sum_exp_clamped(const double *v, size_t T, double shift)
{
#if defined(__AVX512F__)
    const __m512d sh = _mm512_set1_pd(shift), lo = _mm512_set1_pd(-708.0),
                  hi = _mm512_set1_pd(709.0);
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    size_t t = 0;
    /* max(lo, x), min(hi, x): a NaN x is returned (the second operand). */
    for (; t + 16 <= T; t += 16) {
        const __m512d x0 = _mm512_sub_pd(_mm512_loadu_pd(v + t), sh);
        const __m512d x1 = _mm512_sub_pd(_mm512_loadu_pd(v + t + 8), sh);
        a0 = _mm512_add_pd(a0, otk_exp8(_mm512_min_pd(hi, _mm512_max_pd(lo, x0))));
        a1 = _mm512_add_pd(a1, otk_exp8(_mm512_min_pd(hi, _mm512_max_pd(lo, x1))));
    }
    for (; t < T; t += 8) {
        const __mmask8 k = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        const __m512d x = _mm512_sub_pd(_mm512_maskz_loadu_pd(k, v + t), sh);
        a0 = _mm512_mask_add_pd(a0, k, a0, otk_exp8(_mm512_min_pd(hi, _mm512_max_pd(lo, x))));
    }
    return otk_lanes8_total(_mm512_add_pd(a0, a1));
#else
    double acc[OTK_LANES] = {0};
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++) {
            double x = v[t + l] - shift;
            x = x < -708.0 ? -708.0 : x;
            acc[l] += otk_exp_reduced(x > 709.0 ? 709.0 : x);
        }
    for (; t < T; t++) {
        double x = v[t] - shift;
        x = x < -708.0 ? -708.0 : x;
        acc[0] += otk_exp_reduced(x > 709.0 ? 709.0 : x);
    }
    return lanes_total(acc);
#endif
}

#if defined(__AVX512F__)
/* The one-pass sum for d <= 4 in base 2, the exponents in registers:
 * Σ_t 2^(hq2[t] − base2 + Σ_k a2_k q_k[t]) with hq2, base2 and a2 the
 * natural-log quantities times log2(e) (one rounding each, per tile or per
 * row), clamped below at 2^−1021 (a −inf exponent, a zero weight, counts as
 * 2^−1021) and not above: a term past 2^1024 is +inf, a NaN stays NaN, and
 * either sends the caller to the exact fallback.  A sum, three FMAs, a
 * maximum, the exponential and an add per lane: the cost evaluation costs
 * about what otk_exp8's own scaling and reduction would have. */
__attribute__((always_inline)) static inline double
sq_sum_onepass2(size_t D, const double *a2, const double *const *q, size_t T, const double *hq2,
                double base2)
{
    const __m512d lo = _mm512_set1_pd(-1021.0), b = _mm512_set1_pd(base2);
    __m512d av[4];
    for (size_t k = 0; k < D; k++)
        av[k] = _mm512_set1_pd(a2[k]);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    __m512d s2 = _mm512_setzero_pd(), s3 = _mm512_setzero_pd();
    size_t t = 0;
    for (; t + 32 <= T; t += 32) {
        __m512d x0 = _mm512_sub_pd(_mm512_loadu_pd(hq2 + t), b);
        __m512d x1 = _mm512_sub_pd(_mm512_loadu_pd(hq2 + t + 8), b);
        __m512d x2 = _mm512_sub_pd(_mm512_loadu_pd(hq2 + t + 16), b);
        __m512d x3 = _mm512_sub_pd(_mm512_loadu_pd(hq2 + t + 24), b);
#pragma GCC unroll 4
        for (size_t k = 0; k < D; k++) {
            x0 = _mm512_fmadd_pd(av[k], _mm512_loadu_pd(q[k] + t), x0);
            x1 = _mm512_fmadd_pd(av[k], _mm512_loadu_pd(q[k] + t + 8), x1);
            x2 = _mm512_fmadd_pd(av[k], _mm512_loadu_pd(q[k] + t + 16), x2);
            x3 = _mm512_fmadd_pd(av[k], _mm512_loadu_pd(q[k] + t + 24), x3);
        }
        /* max(lo, x): a NaN x is returned (the second operand). */
        s0 = _mm512_add_pd(s0, otk_exp2_8(_mm512_max_pd(lo, x0)));
        s1 = _mm512_add_pd(s1, otk_exp2_8(_mm512_max_pd(lo, x1)));
        s2 = _mm512_add_pd(s2, otk_exp2_8(_mm512_max_pd(lo, x2)));
        s3 = _mm512_add_pd(s3, otk_exp2_8(_mm512_max_pd(lo, x3)));
    }
    s0 = _mm512_add_pd(s0, s2);
    s1 = _mm512_add_pd(s1, s3);
    for (; t < T; t += 8) {
        const __mmask8 m = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        __m512d x = _mm512_sub_pd(_mm512_maskz_loadu_pd(m, hq2 + t), b);
#pragma GCC unroll 4
        for (size_t k = 0; k < D; k++)
            x = _mm512_fmadd_pd(av[k], _mm512_maskz_loadu_pd(m, q[k] + t), x);
        s0 = _mm512_mask_add_pd(s0, m, s0, otk_exp2_8(_mm512_max_pd(lo, x)));
    }
    return otk_lanes8_total(_mm512_add_pd(s0, s1));
}

/* max_t hq[t] + Σ_k a_k q_k[t] for d <= 4, the exponents in registers: the
 * shift of a row's first tile without storing the tile.  NaNs are skipped
 * here; the one-pass sum that follows meets them and falls back. */
__attribute__((always_inline)) static inline double
sq_max_onepass(size_t D, const double *a, const double *const *q, size_t T, const double *hq)
{
    __m512d av[4];
    for (size_t k = 0; k < D; k++)
        av[k] = _mm512_set1_pd(a[k]);
    __m512d m0 = _mm512_set1_pd(-INFINITY), m1 = m0;
    size_t t = 0;
    for (; t + 16 <= T; t += 16) {
        __m512d x0 = _mm512_loadu_pd(hq + t), x1 = _mm512_loadu_pd(hq + t + 8);
#pragma GCC unroll 4
        for (size_t k = 0; k < D; k++) {
            x0 = _mm512_fmadd_pd(av[k], _mm512_loadu_pd(q[k] + t), x0);
            x1 = _mm512_fmadd_pd(av[k], _mm512_loadu_pd(q[k] + t + 8), x1);
        }
        m0 = _mm512_max_pd(x0, m0);
        m1 = _mm512_max_pd(x1, m1);
    }
    for (; t < T; t += 8) {
        const __mmask8 m = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        __m512d x = _mm512_maskz_loadu_pd(m, hq + t);
#pragma GCC unroll 4
        for (size_t k = 0; k < D; k++)
            x = _mm512_fmadd_pd(av[k], _mm512_maskz_loadu_pd(m, q[k] + t), x);
        m0 = _mm512_mask_max_pd(m0, m, x, m0);
    }
    return _mm512_reduce_max_pd(_mm512_max_pd(m0, m1));
}
#else
/* The one-pass sum for d <= 4 with the exponents in registers: Σ_t
 * exp(hq[t] − base + Σ_k a_k q_k[t]), clamped as sum_exp_clamped. */
__attribute__((always_inline)) static inline double
sq_sum_onepass(size_t D, const double *a, const double *const *q, size_t T, const double *hq,
               double base)
{
    double acc[OTK_LANES] = {0};
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES)
        for (int l = 0; l < OTK_LANES; l++) {
            double x = hq[t + l] - base;
            for (size_t k = 0; k < D; k++)
                x += a[k] * q[k][t + l];
            x = x < -708.0 ? -708.0 : x;
            acc[l] += otk_exp_reduced(x > 709.0 ? 709.0 : x);
        }
    for (; t < T; t++) {
        double x = hq[t] - base;
        for (size_t k = 0; k < D; k++)
            x += a[k] * q[k][t];
        x = x < -708.0 ? -708.0 : x;
        acc[0] += otk_exp_reduced(x > 709.0 ? 709.0 : x);
    }
    return lanes_total(acc);
}
#endif

static void points_sq_lse_rows(size_t d, size_t R, const double *P, size_t pstride,
                               const double *rowc, double two_scale, const double *Q, size_t ldq,
                               size_t j0, size_t T, const double *hq, double *M, double *S)
{
#if defined(__AVX512F__)
    /* The column terms in base 2, once for the block of rows. */
    const double log2e = 1.4426950408889634;
    double hq2[OTK_TILE];
    if (d <= 4)
        for (size_t t = 0; t < T; t++)
            hq2[t] = hq[t] * log2e;
#endif
    for (size_t r = 0; r < R; r++) {
        const int onepass = M[r] != -INFINITY && S[r] <= OTK_ONEPASS_S_MAX;
#if defined(__AVX512F__)
        /* A row's first tile too: the maximum of its first OTK_HEAD entries,
         * in registers, is the shift (any shift at or below the tile's
         * maximum is exact: a sum past OTK_ONEPASS_MAX, a head of −∞ or a
         * NaN take the exact path below); the whole tile's maximum would
         * cost an eighth of a row's passes at n = 4000. */
        if (d <= 4 && (onepass || M[r] == -INFINITY)) {
            double a[4] = {0.0, 0.0, 0.0, 0.0}, a2[4] = {0.0, 0.0, 0.0, 0.0};
            const double *q[4] = {Q + j0, Q + j0, Q + j0, Q + j0};
            for (size_t k = 0; k < d; k++) {
                a[k] = two_scale * P[k * pstride + r];
                a2[k] = a[k] * log2e;
                q[k] = Q + k * ldq + j0;
            }
            double Mr = M[r];
            if (!onepass) {
                const size_t Th = T < OTK_HEAD ? T : OTK_HEAD;
                double mx;
                switch (d) {
                case 1: mx = sq_max_onepass(1, a, q, Th, hq); break;
                case 2: mx = sq_max_onepass(2, a, q, Th, hq); break;
                case 3: mx = sq_max_onepass(3, a, q, Th, hq); break;
                default: mx = sq_max_onepass(4, a, q, Th, hq); break;
                }
                Mr = mx - rowc[r];
            }
            if (Mr > -INFINITY && Mr < INFINITY) {
                const double base2 = (rowc[r] + Mr) * log2e;
                double s;
                switch (d) {
                case 1: s = sq_sum_onepass2(1, a2, q, T, hq2, base2); break;
                case 2: s = sq_sum_onepass2(2, a2, q, T, hq2, base2); break;
                case 3: s = sq_sum_onepass2(3, a2, q, T, hq2, base2); break;
                default: s = sq_sum_onepass2(4, a2, q, T, hq2, base2); break;
                }
                if (s <= OTK_ONEPASS_MAX) {
                    M[r] = Mr;
                    S[r] += s;
                    continue;
                }
            }
        }
#else
        if (onepass && d <= 4) {
            double a[4] = {0.0, 0.0, 0.0, 0.0};
            const double *q[4] = {Q + j0, Q + j0, Q + j0, Q + j0};
            for (size_t k = 0; k < d; k++) {
                a[k] = two_scale * P[k * pstride + r];
                q[k] = Q + k * ldq + j0;
            }
            const double base = rowc[r] + M[r];
            double s;
            switch (d) {
            case 1: s = sq_sum_onepass(1, a, q, T, hq, base); break;
            case 2: s = sq_sum_onepass(2, a, q, T, hq, base); break;
            case 3: s = sq_sum_onepass(3, a, q, T, hq, base); break;
            default: s = sq_sum_onepass(4, a, q, T, hq, base); break;
            }
            if (s <= OTK_ONEPASS_MAX) {
                S[r] += s;
                continue;
            }
        }
#endif
        double v[OTK_TILE];
        sq_v_tile(d, P + r, pstride, two_scale, Q + j0, ldq, T, hq, rowc[r], v);
        if (onepass && d > 4) {
            const double s = sum_exp_clamped(v, T, M[r]);
            if (s <= OTK_ONEPASS_MAX) {
                S[r] += s;
                continue;
            }
        }
        const double tmax = lanes_max(v, T);
        if (tmax == -INFINITY)
            continue;
        lse_merge(tmax, sum_exp_shifted(v, T, tmax), &M[r], &S[r]);
    }
}

/* ------------------------------------------------------------ float32 */

/* e^x in single precision for x in [−87, 0] (the shifted log-sum-exp terms;
 * callers clamp below): the reduction of otk_exp_reduced with ln2 in two
 * parts, e^r by its degree-6 Taylor polynomial (truncation 1.2e−7 relative
 * at |r| = ln2/2), 2^k in the exponent bits (k >= −126: a normal float).
 * About 2 ulp; checked against libm by tests/check_kernels. */
__attribute__((always_inline)) static inline float otk_expf_nonpos(float x)
{
    const float shifter = 0x1.8p23f;
    float t = x * 1.44269504f + shifter;
    float k = t - shifter;
    float r = x - k * 0.693145752f;
    r = r - k * 1.42860677e-6f;
    float u = 1.0f / 720.0f;
    u = u * r + 1.0f / 120.0f;
    u = u * r + 1.0f / 24.0f;
    u = u * r + 1.0f / 6.0f;
    u = u * r + 0.5f;
    float e = (r * r * u + r) + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

#define OTK_LANES_F32 16

/* points_lse_tile in single precision: costs, v = h − c/ε and the
 * exponentials in float32 (16 lanes), the tile's (max, Σ) folded into the
 * double pair (M, S).  h is rounded to float32 per tile; the error of a
 * term's exponent is about 6e−8·(|h| + c/ε), i.e. the soft-min is exact to
 * about 6e−8 of the cost scale (otkit/cost.h). */
static void points_lse_tile_f32(int ground, double power, size_t d, const float *p,
                                size_t pstride, const float *Q, size_t ldq, size_t j0, size_t T,
                                const double *h, double inv_eps, double *M, double *S)
{
    float c[OTK_TILE], v[OTK_TILE];
    for (size_t t = 0; t < T; t++)
        c[t] = 0.0f;
    if (ground == OTK_K_L1) {
        for (size_t k = 0; k < d; k++) {
            const float pk = p[k * pstride];
            const float *q = Q + k * ldq + j0;
            for (size_t t = 0; t < T; t++)
                c[t] += fabsf(pk - q[t]);
        }
    } else {
        for (size_t k = 0; k < d; k++) {
            const float pk = p[k * pstride];
            const float *q = Q + k * ldq + j0;
            for (size_t t = 0; t < T; t++) {
                const float diff = pk - q[t];
                c[t] += diff * diff;
            }
        }
        switch (ground) {
        case OTK_K_HALFSQ:
            for (size_t t = 0; t < T; t++)
                c[t] *= 0.5f;
            break;
        case OTK_K_EUCLID:
            for (size_t t = 0; t < T; t++)
                c[t] = sqrtf(c[t]);
            break;
        case OTK_K_LP:
            for (size_t t = 0; t < T; t++)
                c[t] = powf(c[t], (float)(0.5 * power));
            break;
        case OTK_K_LP_OVER_P:
            for (size_t t = 0; t < T; t++)
                c[t] = powf(c[t], (float)(0.5 * power)) / (float)power;
            break;
        default:
            break;
        }
    }
    const float fe = (float)inv_eps;
#if defined(__AVX512F__) && defined(__AVX512DQ__)
    /* The auto-vectoriser leaves the mixed float/double loops scalar: the
     * exponents, their maximum and the exponentials by hand, 16 lanes. */
    {
        const __m512 fev = _mm512_set1_ps(fe);
        __m512 vmax = _mm512_set1_ps(-INFINITY);
        __mmask16 nan = 0;
        size_t t = 0;
        for (; t < T; t += 16) {
            const __mmask16 k = (__mmask16)(T - t >= 16 ? 0xFFFF : (1u << (T - t)) - 1u);
            const __mmask8 klo = (__mmask8)(k & 0xFF), khi = (__mmask8)(k >> 8);
            const __m256 hlo = _mm512_cvtpd_ps(_mm512_maskz_loadu_pd(klo, h + t));
            const __m256 hhi = _mm512_cvtpd_ps(_mm512_maskz_loadu_pd(khi, h + t + 8));
            const __m512 hv = _mm512_insertf32x8(_mm512_castps256_ps512(hlo), hhi, 1);
            const __m512 vt = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(k, c + t), fev, hv);
            _mm512_mask_storeu_ps(v + t, k, vt);
            vmax = _mm512_mask_max_ps(vmax, k, vmax, vt);
            nan |= _mm512_mask_cmp_ps_mask(k, vt, vt, _CMP_UNORD_Q);
        }
        float lanes[16];
        _mm512_storeu_ps(lanes, vmax);
        float tmax = lanes[0];
        for (int l = 1; l < 16; l++)
            tmax = lanes[l] > tmax ? lanes[l] : tmax;
        if (nan) /* a NaN cost surfaces, as in float64 */
            tmax = NAN;
        if (tmax == -INFINITY)
            return;
        const __m512 sh = _mm512_set1_ps(tmax), lo = _mm512_set1_ps(-87.0f);
        const __m512 log2e = _mm512_set1_ps(1.44269504f), ln2hi = _mm512_set1_ps(0.693145752f),
                     ln2lo = _mm512_set1_ps(1.42860677e-6f);
        __m512 acc = _mm512_setzero_ps();
        for (t = 0; t < T; t += 16) {
            const __mmask16 k = (__mmask16)(T - t >= 16 ? 0xFFFF : (1u << (T - t)) - 1u);
            const __m512 x = _mm512_max_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, v + t), sh), lo);
            const __m512 kk = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e),
                                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m512 r = _mm512_fnmadd_ps(kk, ln2hi, x);
            r = _mm512_fnmadd_ps(kk, ln2lo, r);
            __m512 u = _mm512_set1_ps(1.0f / 720.0f);
            u = _mm512_fmadd_ps(u, r, _mm512_set1_ps(1.0f / 120.0f));
            u = _mm512_fmadd_ps(u, r, _mm512_set1_ps(1.0f / 24.0f));
            u = _mm512_fmadd_ps(u, r, _mm512_set1_ps(1.0f / 6.0f));
            u = _mm512_fmadd_ps(u, r, _mm512_set1_ps(0.5f));
            const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(r, r), u, r),
                                           _mm512_set1_ps(1.0f));
            acc = _mm512_mask_add_ps(acc, k, acc, _mm512_scalef_ps(e, kk));
        }
        _mm512_storeu_ps(lanes, acc);
        double total = 0.0;
        for (int l = 0; l < 16; l++)
            total += (double)lanes[l];
        lse_merge((double)tmax, total, M, S);
        return;
    }
#endif
    float mx[OTK_LANES_F32];
    for (int l = 0; l < OTK_LANES_F32; l++)
        mx[l] = -INFINITY;
    for (size_t t = 0; t < T; t++)
        v[t] = (float)h[t] - c[t] * fe;
    size_t t = 0;
    for (; t + OTK_LANES_F32 <= T; t += OTK_LANES_F32)
        for (int l = 0; l < OTK_LANES_F32; l++)
            mx[l] = (v[t + l] > mx[l] || v[t + l] != v[t + l]) ? v[t + l] : mx[l];
    for (; t < T; t++)
        mx[0] = (v[t] > mx[0] || v[t] != v[t]) ? v[t] : mx[0];
    float tmax = mx[0];
    for (int l = 1; l < OTK_LANES_F32; l++)
        tmax = (mx[l] > tmax || mx[l] != mx[l]) ? mx[l] : tmax;
    if (tmax == -INFINITY)
        return;
    float acc[OTK_LANES_F32] = {0};
    for (t = 0; t + OTK_LANES_F32 <= T; t += OTK_LANES_F32)
        for (int l = 0; l < OTK_LANES_F32; l++) {
            const float x = v[t + l] - tmax;
            acc[l] += otk_expf_nonpos(x > -87.0f ? x : -87.0f);
        }
    for (; t < T; t++) {
        const float x = v[t] - tmax;
        acc[0] += otk_expf_nonpos(x > -87.0f ? x : -87.0f);
    }
    double total = 0.0;
    for (int l = 0; l < OTK_LANES_F32; l++)
        total += (double)acc[l];
    lse_merge((double)tmax, total, M, S);
}

/* The squared grounds' soft-min in single precision (float32 point costs),
 * by blocks of rows as points_sq_lse_rows but in the direct form v[t] =
 * hf[t] − scale·Σ_k (p_k − q_k[t])²: in float32 the expanded form's
 * cancellation (terms of size scale·‖q‖² for exponents near 0) would cost
 * a factor of several in accuracy.  hf is h rounded to float32 once per tile
 * for the whole block (the per-element conversion is what made the tile
 * kernel slower), M[r] is a float32 maximum, hence an exact float32 shift for
 * the one-pass tiles. */
#define OTK_SQ_ONEPASS_MAX_F32 0x1p90

static void sq_v_tile_f32(size_t d, const float *p, size_t pstride, float scale, const float *Q,
                          size_t ldq, size_t T, const float *hf, float *v)
{
    float c[OTK_TILE];
    for (size_t t = 0; t < T; t++)
        c[t] = 0.0f;
    for (size_t k = 0; k < d; k++) {
        const float pk = p[k * pstride];
        const float *qk = Q + k * ldq;
        for (size_t t = 0; t < T; t++) {
            const float df = pk - qk[t];
            c[t] += df * df;
        }
    }
    for (size_t t = 0; t < T; t++)
        v[t] = hf[t] - scale * c[t];
}

/* Σ_t exp(v[t] − shift) in float32 lanes (clamped below at −87, NaN kept,
 * unclamped above: a large term overflows to inf and the caller falls back),
 * the lanes added in float64. */
static double sum_expf_shifted(const float *v, size_t T, float shift)
{
    float acc[OTK_LANES_F32] = {0};
    size_t t = 0;
    for (; t + OTK_LANES_F32 <= T; t += OTK_LANES_F32)
        for (int l = 0; l < OTK_LANES_F32; l++) {
            const float x = v[t + l] - shift;
            acc[l] += otk_expf_nonpos(x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x));
        }
    for (; t < T; t++) {
        const float x = v[t] - shift;
        acc[0] += otk_expf_nonpos(x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x));
    }
    double total = 0.0;
    for (int l = 0; l < OTK_LANES_F32; l++)
        total += (double)acc[l];
    return total;
}

static float lanes_max_f32(const float *v, size_t T)
{
    float mx[OTK_LANES_F32];
    for (int l = 0; l < OTK_LANES_F32; l++)
        mx[l] = -INFINITY;
    size_t t = 0;
    for (; t + OTK_LANES_F32 <= T; t += OTK_LANES_F32)
        for (int l = 0; l < OTK_LANES_F32; l++)
            mx[l] = (v[t + l] > mx[l] || v[t + l] != v[t + l]) ? v[t + l] : mx[l];
    for (; t < T; t++)
        mx[0] = (v[t] > mx[0] || v[t] != v[t]) ? v[t] : mx[0];
    float r = mx[0];
    for (int l = 1; l < OTK_LANES_F32; l++)
        r = (mx[l] > r || mx[l] != mx[l]) ? mx[l] : r;
    return r;
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
/* Σ_t 2^(hf2[t] − base − scale2·Σ_k (p_k − q_k[t])²) for d <= 4, 16 float32
 * lanes: the exponents in base 2 (hf2 = h·log2(e) and scale2 = scale·log2(e)
 * rounded once from float64, so no multiplication by log2(e) and no ln2
 * reduction per entry, and the same rounding of the exponent as in base e),
 * clamped below at 2^−125 (e^−86.6), k = round(x), 2^(x − k) by
 * otk_expf_nonpos's degree-6 polynomial in the variable (x − k)·ln2 (its
 * coefficients times powers of ln2), 2^k by vscalefps, which overflows to
 * inf instead of wrapping. */
__attribute__((always_inline)) static inline double
sq_sum_onepass_f32(size_t D, const float *p, const float *const *q, size_t T, const float *hf,
                   float scale, float base)
{
    const __m512 lo = _mm512_set1_ps(-125.0f), b = _mm512_set1_ps(base),
                 sc = _mm512_set1_ps(scale);
    __m512 pv[4];
    for (size_t k = 0; k < D; k++)
        pv[k] = _mm512_set1_ps(p[k]);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
#define OTK_EXPF16_(x_, out_)                                                              \
    do {                                                                                   \
        const __m512 kk_ =                                                                 \
            _mm512_roundscale_ps((x_), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);     \
        const __m512 f_ = _mm512_sub_ps((x_), kk_);                                        \
        __m512 w_ = _mm512_set1_ps(1.5403530393381606e-4f);                                \
        w_ = _mm512_fmadd_ps(w_, f_, _mm512_set1_ps(1.3333558146428443e-3f));              \
        w_ = _mm512_fmadd_ps(w_, f_, _mm512_set1_ps(9.6181291076284772e-3f));              \
        w_ = _mm512_fmadd_ps(w_, f_, _mm512_set1_ps(5.5504108664821580e-2f));              \
        w_ = _mm512_fmadd_ps(w_, f_, _mm512_set1_ps(0.24022650695910071f));                \
        w_ = _mm512_fmadd_ps(w_, f_, _mm512_set1_ps(0.69314718055994531f));                \
        (out_) = _mm512_scalef_ps(_mm512_fmadd_ps(w_, f_, _mm512_set1_ps(1.0f)), kk_);     \
    } while (0)
    size_t t = 0;
    /* 64 entries per step (four independent exponentials in flight: 10 to
     * 20 % faster than 32 at n = m = 4000), then 32, then masked 16. */
#define OTK_SQX_(c_, o_)                                                                   \
    _mm512_max_ps(lo, _mm512_sub_ps(_mm512_fnmadd_ps(sc, c_, _mm512_loadu_ps(hf + t + (o_))), b))
    for (; t + 64 <= T; t += 64) {
        __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        for (size_t k = 0; k < D; k++) {
            const __m512 d0 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t));
            const __m512 d1 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t + 16));
            const __m512 d2 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t + 32));
            const __m512 d3 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t + 48));
            c0 = _mm512_fmadd_ps(d0, d0, c0);
            c1 = _mm512_fmadd_ps(d1, d1, c1);
            c2 = _mm512_fmadd_ps(d2, d2, c2);
            c3 = _mm512_fmadd_ps(d3, d3, c3);
        }
        const __m512 x0 = OTK_SQX_(c0, 0), x1 = OTK_SQX_(c1, 16), x2 = OTK_SQX_(c2, 32),
                     x3 = OTK_SQX_(c3, 48);
        __m512 e0, e1, e2, e3;
        OTK_EXPF16_(x0, e0);
        OTK_EXPF16_(x1, e1);
        OTK_EXPF16_(x2, e2);
        OTK_EXPF16_(x3, e3);
        s0 = _mm512_add_ps(s0, _mm512_add_ps(e0, e2));
        s1 = _mm512_add_ps(s1, _mm512_add_ps(e1, e3));
    }
#undef OTK_SQX_
    for (; t + 32 <= T; t += 32) {
        __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
        for (size_t k = 0; k < D; k++) {
            const __m512 d0 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t));
            const __m512 d1 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t + 16));
            c0 = _mm512_fmadd_ps(d0, d0, c0);
            c1 = _mm512_fmadd_ps(d1, d1, c1);
        }
        __m512 x0 = _mm512_sub_ps(_mm512_fnmadd_ps(sc, c0, _mm512_loadu_ps(hf + t)), b);
        __m512 x1 = _mm512_sub_ps(_mm512_fnmadd_ps(sc, c1, _mm512_loadu_ps(hf + t + 16)), b);
        /* max(lo, x) keeps a NaN x (the second operand). */
        x0 = _mm512_max_ps(lo, x0);
        x1 = _mm512_max_ps(lo, x1);
        __m512 e0, e1;
        OTK_EXPF16_(x0, e0);
        OTK_EXPF16_(x1, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    for (; t < T; t += 16) {
        const __mmask16 m = (__mmask16)(T - t >= 16 ? 0xFFFF : (1u << (T - t)) - 1u);
        __m512 c = _mm512_setzero_ps();
        for (size_t k = 0; k < D; k++) {
            const __m512 df = _mm512_sub_ps(pv[k], _mm512_maskz_loadu_ps(m, q[k] + t));
            c = _mm512_fmadd_ps(df, df, c);
        }
        __m512 x = _mm512_sub_ps(_mm512_fnmadd_ps(sc, c, _mm512_maskz_loadu_ps(m, hf + t)), b);
        x = _mm512_max_ps(lo, x);
        __m512 e;
        OTK_EXPF16_(x, e);
        s0 = _mm512_mask_add_ps(s0, m, s0, e);
    }
#undef OTK_EXPF16_
    /* The 16 lanes in float64, by a tree (the running sum's order does not
     * matter at float32's accuracy; a chain of 16 scalar adds per row and
     * tile did). */
    const __m512 s = _mm512_add_ps(s0, s1);
    return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(s)),
                                              _mm512_cvtps_pd(_mm512_extractf32x8_ps(s, 1))));
}
#endif

#if defined(__AVX512F__) && defined(__AVX512DQ__)
/* max_t hf2[t] − scale2·Σ_k (p_k − q_k[t])², the base-2 exponents of
 * sq_sum_onepass_f32 formed by the same operations (a row's first tile: its
 * maximum, in registers, is the shift of the one-pass sum). */
__attribute__((always_inline)) static inline float
sq_max_onepass_f32(size_t D, const float *p, const float *const *q, size_t T, const float *hf,
                   float scale)
{
    const __m512 sc = _mm512_set1_ps(scale);
    __m512 pv[4];
    for (size_t k = 0; k < D; k++)
        pv[k] = _mm512_set1_ps(p[k]);
    __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0;
    size_t t = 0;
    for (; t + 32 <= T; t += 32) {
        __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
        for (size_t k = 0; k < D; k++) {
            const __m512 d0 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t));
            const __m512 d1 = _mm512_sub_ps(pv[k], _mm512_loadu_ps(q[k] + t + 16));
            c0 = _mm512_fmadd_ps(d0, d0, c0);
            c1 = _mm512_fmadd_ps(d1, d1, c1);
        }
        m0 = _mm512_max_ps(_mm512_fnmadd_ps(sc, c0, _mm512_loadu_ps(hf + t)), m0);
        m1 = _mm512_max_ps(_mm512_fnmadd_ps(sc, c1, _mm512_loadu_ps(hf + t + 16)), m1);
    }
    for (; t < T; t += 16) {
        const __mmask16 m = (__mmask16)(T - t >= 16 ? 0xFFFF : (1u << (T - t)) - 1u);
        __m512 c = _mm512_setzero_ps();
        for (size_t k = 0; k < D; k++) {
            const __m512 df = _mm512_sub_ps(pv[k], _mm512_maskz_loadu_ps(m, q[k] + t));
            c = _mm512_fmadd_ps(df, df, c);
        }
        m0 = _mm512_mask_max_ps(m0, m, _mm512_fnmadd_ps(sc, c, _mm512_maskz_loadu_ps(m, hf + t)),
                                m0);
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}
#endif

static void points_sq_lse_rows_f32(size_t d, size_t R, const float *P, size_t pstride,
                                   double scale, const float *Q, size_t ldq, size_t j0, size_t T,
                                   const float *hf, const float *hf2, double *M, double *S)
{
    const float sc = (float)scale;
#if defined(__AVX512F__) && defined(__AVX512DQ__)
    const double log2e = 1.4426950408889634, ln2 = 0.6931471805599453;
    const float sc2 = (float)(scale * log2e);
#else
    (void)hf2;
#endif
    for (size_t r = 0; r < R; r++) {
        const int onepass = M[r] != -INFINITY && S[r] <= OTK_ONEPASS_S_MAX;
#if defined(__AVX512F__) && defined(__AVX512DQ__)
        /* A row's first tile too: its maximum, in registers, is the shift
         * (a NaN or infinite maximum goes the general way below).  The
         * exponents in base 2: M[r] = base·ln2 for a float32 base, from
         * which (float)(M[r]·log2(e)) gives base back exactly (the product's
         * error, a few 2^−53, is far below float32's half ulp); an M[r] from
         * the exact path below is not of that form, and the tile's sum is
         * then corrected by e^(base·ln2 − M[r]) once, in float64. */
        if (d <= 4 && (onepass || M[r] == -INFINITY)) {
            float p[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            const float *q[4] = {Q + j0, Q + j0, Q + j0, Q + j0};
            for (size_t k = 0; k < d; k++) {
                p[k] = P[k * pstride + r];
                q[k] = Q + k * ldq + j0;
            }
            float base = (float)(M[r] * log2e);
            if (!onepass) {
                switch (d) {
                case 1: base = sq_max_onepass_f32(1, p, q, T, hf2, sc2); break;
                case 2: base = sq_max_onepass_f32(2, p, q, T, hf2, sc2); break;
                case 3: base = sq_max_onepass_f32(3, p, q, T, hf2, sc2); break;
                default: base = sq_max_onepass_f32(4, p, q, T, hf2, sc2); break;
                }
            }
            if (base > -INFINITY && base < INFINITY) {
                double s;
                switch (d) {
                case 1: s = sq_sum_onepass_f32(1, p, q, T, hf2, sc2, base); break;
                case 2: s = sq_sum_onepass_f32(2, p, q, T, hf2, sc2, base); break;
                case 3: s = sq_sum_onepass_f32(3, p, q, T, hf2, sc2, base); break;
                default: s = sq_sum_onepass_f32(4, p, q, T, hf2, sc2, base); break;
                }
                if (s <= OTK_SQ_ONEPASS_MAX_F32) {
                    const double shift = (double)base * ln2;
                    if (!onepass)
                        M[r] = shift;
                    else if (shift != M[r])
                        s *= exp(shift - M[r]);
                    S[r] += s;
                    continue;
                }
            }
        }
#endif
        float v[OTK_TILE];
        sq_v_tile_f32(d, P + r, pstride, sc, Q + j0, ldq, T, hf, v);
        if (onepass) {
            const double s = sum_expf_shifted(v, T, (float)M[r]);
            if (s <= OTK_SQ_ONEPASS_MAX_F32) {
                S[r] += s;
                continue;
            }
        }
        const float tmax = lanes_max_f32(v, T);
        if (tmax == -INFINITY)
            continue;
        lse_merge((double)tmax, sum_expf_shifted(v, T, tmax), &M[r], &S[r]);
    }
}


static void plan_weights(const double *c, const double *v, size_t T, double u, double inv_eps,
                         double *w)
{
    /* Exactly 0 below e^−708, so zero-weight atoms (u or v = −∞) get no mass. */
    size_t t = 0;
#if defined(__AVX512F__)
    const __m512d uv = _mm512_set1_pd(u), ie = _mm512_set1_pd(inv_eps),
                  lo = _mm512_set1_pd(-708.0), hi = _mm512_set1_pd(709.0);
    for (; t + 8 <= T; t += 8) {
        const __m512d x = _mm512_fnmadd_pd(_mm512_loadu_pd(c + t), ie,
                                           _mm512_add_pd(uv, _mm512_loadu_pd(v + t)));
        const __mmask8 live = _mm512_cmp_pd_mask(x, lo, _CMP_GT_OQ);
        _mm512_storeu_pd(w + t, _mm512_maskz_mov_pd(
                                    live, otk_exp8(_mm512_min_pd(_mm512_max_pd(x, lo), hi))));
    }
#endif
    for (; t < T; t++) {
        const double x = u + v[t] - c[t] * inv_eps;
        w[t] = x > -708.0 ? otk_exp_clamped(x) : 0.0;
    }
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
    size_t t = 0;
#if defined(__AVX512F__)
    const __m512d hv = _mm512_set1_pd(h), ie = _mm512_set1_pd(inv_eps),
                  lo = _mm512_set1_pd(-708.0);
    for (; t + 8 <= T; t += 8) {
        const __m512d x = _mm512_sub_pd(_mm512_fnmadd_pd(_mm512_loadu_pd(c + t), ie, hv),
                                        _mm512_loadu_pd(M + t));
        _mm512_storeu_pd(S + t, _mm512_add_pd(_mm512_loadu_pd(S + t),
                                              otk_exp8(_mm512_max_pd(lo, x))));
    }
#endif
    for (; t < T; t++) {
        double x = h - c[t] * inv_eps - M[t];
        x = x < -708.0 ? -708.0 : x;
        S[t] += otk_exp_reduced(x > 709.0 ? 709.0 : x);
    }
}

/* strip_sumexp for R <= OTK_SQ_ROWS rows at once, the rows added to each
 * column in order r = 0, 1, ... as R calls of strip_sumexp would.  With
 * AVX-512 the exponents are in base 2 (h·log2(e) and M·log2(e) formed once
 * per block, inv_eps·log2(e) once: two operations fewer per entry, as the
 * dense rows, docs/math.md A.2), clamped below at 2^−1021 and not above, and
 * 32 columns' sums stay in registers while the R rows stream past them (S
 * and M read and written once per block instead of once per row), each row
 * prefetched OTK_COL_PF entries ahead. */
static void strip_sumexp_rows(const double *const *rows, const double *h, size_t R, size_t T,
                              double inv_eps, const double *M, double *S)
{
#if defined(__AVX512F__)
    const double log2e = 1.4426950408889634;
    const __m512d l2e = _mm512_set1_pd(log2e), ie2 = _mm512_set1_pd(inv_eps * log2e),
                  lo = _mm512_set1_pd(-1021.0);
    double h2[OTK_SQ_ROWS];
    for (size_t r = 0; r < R; r++)
        h2[r] = h[r] * log2e;
    size_t t = 0;
#define OTK_COL_X_(o_, m_)                                                                 \
    _mm512_max_pd(lo, _mm512_fnmadd_pd(_mm512_loadu_pd(c + (o_)), ie2, _mm512_sub_pd(hr, m_)))
    for (; t + 32 <= T; t += 32) {
        const __m512d m0 = _mm512_mul_pd(_mm512_loadu_pd(M + t), l2e),
                      m1 = _mm512_mul_pd(_mm512_loadu_pd(M + t + 8), l2e),
                      m2 = _mm512_mul_pd(_mm512_loadu_pd(M + t + 16), l2e),
                      m3 = _mm512_mul_pd(_mm512_loadu_pd(M + t + 24), l2e);
        __m512d s0 = _mm512_loadu_pd(S + t), s1 = _mm512_loadu_pd(S + t + 8);
        __m512d s2 = _mm512_loadu_pd(S + t + 16), s3 = _mm512_loadu_pd(S + t + 24);
        for (size_t r = 0; r < R; r++) {
            const double *c = rows[r] + t;
            const __m512d hr = _mm512_set1_pd(h2[r]);
            if (OTK_COL_PF)
                for (int l = 0; l < 4; l++)
                    _mm_prefetch((const char *)(c + OTK_COL_PF + 8 * l), _MM_HINT_T0);
            s0 = _mm512_add_pd(s0, otk_exp2_8(OTK_COL_X_(0, m0)));
            s1 = _mm512_add_pd(s1, otk_exp2_8(OTK_COL_X_(8, m1)));
            s2 = _mm512_add_pd(s2, otk_exp2_8(OTK_COL_X_(16, m2)));
            s3 = _mm512_add_pd(s3, otk_exp2_8(OTK_COL_X_(24, m3)));
        }
        _mm512_storeu_pd(S + t, s0);
        _mm512_storeu_pd(S + t + 8, s1);
        _mm512_storeu_pd(S + t + 16, s2);
        _mm512_storeu_pd(S + t + 24, s3);
    }
#undef OTK_COL_X_
    for (; t < T; t += 8) {
        const __mmask8 k = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        const __m512d m0 = _mm512_mul_pd(_mm512_maskz_loadu_pd(k, M + t), l2e);
        __m512d s0 = _mm512_maskz_loadu_pd(k, S + t);
        for (size_t r = 0; r < R; r++) {
            const __m512d hr = _mm512_set1_pd(h2[r]);
            const __m512d x = _mm512_fnmadd_pd(_mm512_maskz_loadu_pd(k, rows[r] + t), ie2,
                                               _mm512_sub_pd(hr, m0));
            s0 = _mm512_add_pd(s0, otk_exp2_8(_mm512_max_pd(lo, x)));
        }
        _mm512_mask_storeu_pd(S + t, k, s0);
    }
#else
    for (size_t r = 0; r < R; r++)
        strip_sumexp(rows[r], h[r], T, inv_eps, M, S);
#endif
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
    return lanes_total(acc);
}

/* The batch costs of SinKD spend most of their time here, on chunks of a few
 * hundred entries: four vectors of independent accumulators, so that the adds
 * are not one dependency chain (the chain, not the arithmetic, bounds one
 * accumulator).  Combined in a fixed order, so results do not depend on the
 * thread count. */
#define OTK_DIST_ACC (4 * OTK_LANES)

static double combine_dist_acc(const double *acc)
{
    double s[OTK_LANES];
    for (int l = 0; l < OTK_LANES; l++)
        s[l] = (acc[l] + acc[OTK_LANES + l]) + (acc[2 * OTK_LANES + l] + acc[3 * OTK_LANES + l]);
    return lanes_total(s);
}

static double lanes_sq_dist(const double *x, const double *y, size_t T)
{
    double acc[OTK_DIST_ACC] = {0};
    size_t t = 0;
    for (; t + OTK_DIST_ACC <= T; t += OTK_DIST_ACC)
        for (int l = 0; l < OTK_DIST_ACC; l++) {
            const double d = x[t + l] - y[t + l];
            acc[l] += d * d;
        }
    for (; t < T; t++)
        acc[0] += (x[t] - y[t]) * (x[t] - y[t]);
    return combine_dist_acc(acc);
}

static void diff_axpy(double a, const double *restrict x, const double *restrict y, size_t T,
                      double *restrict g)
{
    for (size_t t = 0; t < T; t++)
        g[t] += a * (x[t] - y[t]);
}

/* Register blocking for the SinKD batch costs: one pass over x against eight
 * rows, with an accumulator vector per row, so x (and g) cross the memory
 * hierarchy once per eight rows and the eight add chains run side by side. */
static void sq_dist_multi(const double *x, const double *const *y, size_t T, double *out)
{
    double acc[OTK_MULTI][OTK_LANES] = {{0}};
    size_t t = 0;
    for (; t + OTK_LANES <= T; t += OTK_LANES) {
#pragma GCC unroll 8
        for (int o = 0; o < OTK_MULTI; o++)
            for (int l = 0; l < OTK_LANES; l++) {
                const double d = x[t + l] - y[o][t + l];
                acc[o][l] += d * d;
            }
    }
    for (int o = 0; o < OTK_MULTI; o++) {
        double r = 0.0;
        for (size_t u = t; u < T; u++)
            r += (x[u] - y[o][u]) * (x[u] - y[o][u]);
        out[o] += lanes_total(acc[o]) + r;
    }
}

static void diff_axpy_multi(const double *a, const double *restrict x, const double *const *y,
                            size_t T, double *restrict g)
{
    const double *restrict y0 = y[0], *restrict y1 = y[1], *restrict y2 = y[2],
                           *restrict y3 = y[3], *restrict y4 = y[4], *restrict y5 = y[5],
                           *restrict y6 = y[6], *restrict y7 = y[7];
    const double a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6],
                 a7 = a[7];
    for (size_t t = 0; t < T; t++) {
        double acc = g[t];
        acc += a0 * (x[t] - y0[t]);
        acc += a1 * (x[t] - y1[t]);
        acc += a2 * (x[t] - y2[t]);
        acc += a3 * (x[t] - y3[t]);
        acc += a4 * (x[t] - y4[t]);
        acc += a5 * (x[t] - y5[t]);
        acc += a6 * (x[t] - y6[t]);
        acc += a7 * (x[t] - y7[t]);
        g[t] = acc;
    }
}

static void sub_scaled(const double *restrict x, double a, const double *restrict y, size_t T,
                       double *restrict out)
{
    for (size_t t = 0; t < T; t++)
        out[t] = x[t] - a * y[t];
}

static void to_f32(const double *restrict x, double a, size_t T, float *restrict out)
{
    for (size_t t = 0; t < T; t++)
        out[t] = (float)(a * x[t]);
}

static void axpy(double a, const double *restrict x, size_t T, double *restrict y)
{
    for (size_t t = 0; t < T; t++)
        y[t] += a * x[t];
}

static void axpy_prod(double a, const double *restrict x, const double *restrict z, size_t T,
                      double *restrict y)
{
    for (size_t t = 0; t < T; t++)
        y[t] += a * x[t] * z[t];
}

static void exp_affine(const double *restrict x, size_t T, double scale, double shift,
                       double *restrict out)
{
    for (size_t t = 0; t < T; t++)
        out[t] = otk_exp_clamped(x[t] * scale - shift);
}

/* log(x) for positive normal x, branch-free so that it vectorises (the grid
 * soft-min takes one log per cell per axis pass).  x = 2^k·m with m in
 * [√½, √2): the exponent is found by subtracting the bits of √½, with a bias
 * that keeps the difference positive so that a logical shift suffices (AVX2
 * has no 64-bit arithmetic shift), and converted to double through the 2^52
 * trick (nor a 64-bit integer conversion).  log m = 2 atanh(s), s = (m−1)/(m+1),
 * |s| <= 0.1716: 2s + s·Σ_{i=1..11} 2s^{2i}/(2i+1), whose truncation is below
 * 1e−18 of the result; ln2 split in two so that k·ln2 is exact to 1 ulp.
 * Relative error about 2 ulp (measured against libm by the kernel tests). */
static inline double otk_log_normal(double x)
{
    const uint64_t sqrt_half = 0x3FE6A09E667F3BCDull, bias = (uint64_t)1023 << 52;
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    const uint64_t kb = (u - sqrt_half + bias) >> 52; /* k + 1023 */
    const uint64_t mb = u - (kb << 52) + bias;
    const uint64_t kbits = kb | 0x4330000000000000ull; /* 2^52 + kb as a double */
    double m, kd;
    memcpy(&m, &mb, sizeof m);
    memcpy(&kd, &kbits, sizeof kd);
    kd = (kd - 4503599627370496.0) - 1023.0;
    const double f = m - 1.0, sx = f / (m + 1.0), z = sx * sx;
    double r = 2.0 / 23.0;
    r = r * z + 2.0 / 21.0;
    r = r * z + 2.0 / 19.0;
    r = r * z + 2.0 / 17.0;
    r = r * z + 2.0 / 15.0;
    r = r * z + 2.0 / 13.0;
    r = r * z + 2.0 / 11.0;
    r = r * z + 2.0 / 9.0;
    r = r * z + 2.0 / 7.0;
    r = r * z + 2.0 / 5.0;
    r = r * z + 2.0 / 3.0;
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    return kd * ln2_hi + ((sx * (z * r) + kd * ln2_lo) + 2.0 * sx);
}

static void log_shift(const double *restrict x, size_t T, double shift, double *restrict out)
{
    for (size_t t = 0; t < T; t++)
        out[t] = shift + otk_log_normal(x[t]);
    /* Zero, subnormal, infinite and NaN arguments: libm's answer. */
    for (size_t t = 0; t < T; t++)
        if (!(x[t] >= 2.2250738585072014e-308 && x[t] <= 1.7976931348623157e308))
            out[t] = shift + log(x[t]);
}

/* The bounds of the multiscale truncation rule for the squared grounds
 * (solvers/cost/multiscale.c: block_bound, docs/math.md A.11), block (x, y_t)
 * for t < T: with D = x − y_t,
 *   U[t] = xb + yb[t] − (s/2)|D|² + xr·|xg − sD| + yr[t]·|yg_t + sD|.
 * Two square roots per block: vectorised, the cluster mask's nx·ny bounds
 * cost a few cycles each. */
static void sq_block_bounds(size_t d, double s, const double *xc, const double *xg, double xb,
                            double xr, const double *Yc, const double *Yg, size_t ldy,
                            const double *yb, const double *yr, size_t T, double *U)
{
    size_t t = 0;
#if defined(__AVX512F__)
    const __m512d sv = _mm512_set1_pd(s), hs = _mm512_set1_pd(0.5 * s),
                  xbv = _mm512_set1_pd(xb), xrv = _mm512_set1_pd(xr);
    for (; t < T; t += 8) {
        const __mmask8 m = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        __m512d D2 = _mm512_setzero_pd(), gx = D2, gy = D2;
        for (size_t a = 0; a < d; a++) {
            const __m512d D =
                _mm512_sub_pd(_mm512_set1_pd(xc[a]), _mm512_maskz_loadu_pd(m, Yc + a * ldy + t));
            D2 = _mm512_fmadd_pd(D, D, D2);
            const __m512d u = _mm512_fnmadd_pd(sv, D, _mm512_set1_pd(xg[a]));
            const __m512d w = _mm512_fmadd_pd(sv, D, _mm512_maskz_loadu_pd(m, Yg + a * ldy + t));
            gx = _mm512_fmadd_pd(u, u, gx);
            gy = _mm512_fmadd_pd(w, w, gy);
        }
        __m512d b = _mm512_fnmadd_pd(hs, D2, _mm512_add_pd(xbv, _mm512_maskz_loadu_pd(m, yb + t)));
        b = _mm512_fmadd_pd(_mm512_sqrt_pd(gx), xrv, b);
        b = _mm512_fmadd_pd(_mm512_sqrt_pd(gy), _mm512_maskz_loadu_pd(m, yr + t), b);
        _mm512_mask_storeu_pd(U + t, m, b);
    }
#endif
    for (; t < T; t++) {
        double D2 = 0.0, gx = 0.0, gy = 0.0;
        for (size_t a = 0; a < d; a++) {
            const double D = xc[a] - Yc[a * ldy + t];
            const double u = xg[a] - s * D, w = Yg[a * ldy + t] + s * D;
            D2 += D * D;
            gx += u * u;
            gy += w * w;
        }
        U[t] = xb + yb[t] - 0.5 * s * D2 + sqrt(gx) * xr + sqrt(gy) * yr[t];
    }
}

#if defined(__AVX512F__)
/* points_sq_plan_grad's loop for a literal D <= 3: the differences and the
 * accumulators in registers (with a variable d they live on the stack, and
 * each accumulator update waits on a store). */
__attribute__((always_inline)) static inline void
sq_plan_grad_d(size_t D, const double *p, size_t pstride, const double *Q, size_t ldq, size_t j0,
               size_t T, const double *v, double u, double cs, double *acc)
{
    const __m512d uv = _mm512_set1_pd(u), csv = _mm512_set1_pd(cs),
                  lo = _mm512_set1_pd(-708.0), hi = _mm512_set1_pd(709.0);
    __m512d pv[3], av[3];
#pragma GCC unroll 3
    for (size_t a = 0; a < D; a++) {
        pv[a] = _mm512_set1_pd(p[a * pstride]);
        av[a] = _mm512_setzero_pd();
    }
    for (size_t t = 0; t < T; t += 8) {
        const __mmask8 m = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
        __m512d Dv[3], c = _mm512_setzero_pd();
#pragma GCC unroll 3
        for (size_t a = 0; a < D; a++) {
            Dv[a] = _mm512_sub_pd(pv[a], _mm512_maskz_loadu_pd(m, Q + a * ldq + j0 + t));
            c = _mm512_fmadd_pd(Dv[a], Dv[a], c);
        }
        const __m512d x =
            _mm512_fnmadd_pd(c, csv, _mm512_add_pd(uv, _mm512_maskz_loadu_pd(m, v + t)));
        const __mmask8 live = _mm512_mask_cmp_pd_mask(m, x, lo, _CMP_GT_OQ);
        const __m512d w =
            _mm512_maskz_mov_pd(live, otk_exp8(_mm512_min_pd(_mm512_max_pd(x, lo), hi)));
#pragma GCC unroll 3
        for (size_t a = 0; a < D; a++)
            av[a] = _mm512_fmadd_pd(w, Dv[a], av[a]);
    }
#pragma GCC unroll 3
    for (size_t a = 0; a < D; a++)
        acc[a] += otk_lanes8_total(av[a]);
}
#endif

/* The gradient's plan reduction for the squared grounds, fused: with
 * D_t = p − q_t and w_t = exp(u + v[t] − cs·|D_t|²) (0 below e^−708, as
 * plan_weights), acc[k] += Σ_t w_t·D_{t,k}.  One pass: the cost, the weight
 * and the d products per entry, where plan_weights and a dot per
 * coordinate took d + 2 (solvers/cost/multiscale.c). */
static void points_sq_plan_grad(size_t d, const double *p, size_t pstride, const double *Q,
                                size_t ldq, size_t j0, size_t T, const double *v, double u,
                                double cs, double *acc)
{
#if defined(__AVX512F__)
    switch (d) {
    case 1: sq_plan_grad_d(1, p, pstride, Q, ldq, j0, T, v, u, cs, acc); return;
    case 2: sq_plan_grad_d(2, p, pstride, Q, ldq, j0, T, v, u, cs, acc); return;
    case 3: sq_plan_grad_d(3, p, pstride, Q, ldq, j0, T, v, u, cs, acc); return;
    default: break;
    }
#endif
    for (size_t t = 0; t < T; t++) {
        double c = 0.0;
        for (size_t a = 0; a < d; a++) {
            const double D = p[a * pstride] - Q[a * ldq + j0 + t];
            c += D * D;
        }
        const double x = u + v[t] - c * cs;
        if (!(x > -708.0))
            continue;
        const double w = otk_exp_clamped(x);
        for (size_t a = 0; a < d; a++)
            acc[a] += w * (p[a * pstride] - Q[a * ldq + j0 + t]);
    }
}

/* out[r] = Σ_t A[r·lda + t]·x[t] for r < R <= OTK_SQ_ROWS: the rows' sums
 * side by side, where one dot's single accumulator chain bounded it (the
 * kernel-domain steps of solvers/clients/distill.c).  Lanes by t mod 8,
 * combined as lanes_total, per row. */
static void dot_rows(const double *A, size_t lda, size_t R, const double *x, size_t T,
                     double *out)
{
#if defined(__AVX512F__)
    _Static_assert(OTK_SQ_ROWS == 8, "dot_rows names eight accumulators");
    if (R == OTK_SQ_ROWS) {
        /* Named registers: with an array, gcc kept some sums on the stack. */
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
                a7 = a0;
        for (size_t t = 0; t < T; t += 8) {
            const __mmask8 m = (__mmask8)(T - t >= 8 ? 0xFF : (1u << (T - t)) - 1u);
            const __m512d xv = _mm512_maskz_loadu_pd(m, x + t);
            const double *p = A + t;
            a0 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p), xv, a0);
            a1 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p + lda), xv, a1);
            a2 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p + 2 * lda), xv, a2);
            a3 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p + 3 * lda), xv, a3);
            a4 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p + 4 * lda), xv, a4);
            a5 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p + 5 * lda), xv, a5);
            a6 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p + 6 * lda), xv, a6);
            a7 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, p + 7 * lda), xv, a7);
        }
        const __m512d acc[OTK_SQ_ROWS] = {a0, a1, a2, a3, a4, a5, a6, a7};
        for (size_t r = 0; r < OTK_SQ_ROWS; r++)
            out[r] = otk_lanes8_total(acc[r]);
        return;
    }
#endif
    for (size_t r = 0; r < R; r++) {
        const double *a = A + r * lda;
        double acc[OTK_LANES] = {0};
        for (size_t t = 0; t < T; t++)
            acc[t % OTK_LANES] += a[t] * x[t];
        out[r] = lanes_total(acc);
    }
}

/* y[t] += Σ_{r<R} e[r]·A[r·lda + t] for t < T, each y[t]'s terms added in
 * increasing r: the column sums of the kernel-domain steps (solvers/
 * clients/distill.c), where one axpy per row loaded and stored y R times. */
static void axpy_rows(const double *A, size_t lda, size_t R, const double *e, size_t T,
                      double *y)
{
#if defined(__AVX512F__)
    /* Named registers: with arrays, gcc kept the sums on the stack. */
    size_t t0 = 0;
    for (; t0 + 32 <= T; t0 += 32) {
        __m512d a0 = _mm512_loadu_pd(y + t0), a1 = _mm512_loadu_pd(y + t0 + 8),
                a2 = _mm512_loadu_pd(y + t0 + 16), a3 = _mm512_loadu_pd(y + t0 + 24);
        for (size_t r = 0; r < R; r++) {
            const __m512d eb = _mm512_set1_pd(e[r]);
            const double *a = A + r * lda + t0;
            a0 = _mm512_fmadd_pd(eb, _mm512_loadu_pd(a), a0);
            a1 = _mm512_fmadd_pd(eb, _mm512_loadu_pd(a + 8), a1);
            a2 = _mm512_fmadd_pd(eb, _mm512_loadu_pd(a + 16), a2);
            a3 = _mm512_fmadd_pd(eb, _mm512_loadu_pd(a + 24), a3);
        }
        _mm512_storeu_pd(y + t0, a0);
        _mm512_storeu_pd(y + t0 + 8, a1);
        _mm512_storeu_pd(y + t0 + 16, a2);
        _mm512_storeu_pd(y + t0 + 24, a3);
    }
    for (; t0 < T; t0 += 8) {
        const __mmask8 m = (__mmask8)(T - t0 >= 8 ? 0xFF : (1u << (T - t0)) - 1u);
        __m512d a0 = _mm512_maskz_loadu_pd(m, y + t0);
        for (size_t r = 0; r < R; r++)
            a0 = _mm512_fmadd_pd(_mm512_set1_pd(e[r]), _mm512_maskz_loadu_pd(m, A + r * lda + t0),
                                 a0);
        _mm512_mask_storeu_pd(y + t0, m, a0);
    }
#else
    for (size_t r = 0; r < R; r++)
        for (size_t t = 0; t < T; t++)
            y[t] += e[r] * A[r * lda + t];
#endif
}

/* The l1 batch cost with the other side in panels (solvers/clients/
 * distill.c): y_c's class k at yt[(c/P)·ps + k·P + c%P], P = OTK_T_PANEL,
 * so that a panel's 32 columns of one class are one contiguous line (a
 * plain transpose put the classes B doubles apart, and at B = 256 or 1024
 * those rows fell in one or two sets of the L1 cache).  For r < R <=
 * OTK_T_ROWS and c < C,
 *   out[r·ldo + c] += Σ_{k<K} |x[r·ldx + k] − y_ck|,
 * each entry's terms added in increasing k, so every variant gives the same
 * sums.  Vectors run along c, so small K costs no tail: the row-against-
 * row kernels this replaces spent 2 of 8 lanes at K = 2.  A panel's columns
 * at and beyond C are read (they exist: the caller pads the last panel)
 * and not written. */
static void l1_cost_tile(const double *x, size_t ldx, size_t R, const double *yt, size_t ps,
                         size_t K, size_t C, double *out, size_t ldo)
{
#if defined(__AVX512F__)
    /* OTK_T_ROWS rows × one panel of sums in 16 registers across the whole
     * k loop; missing rows repeat row 0 and are not stored. */
    const double *xr[OTK_T_ROWS];
    for (size_t r = 0; r < OTK_T_ROWS; r++)
        xr[r] = x + (r < R ? r : 0) * ldx;
    for (size_t c0 = 0; c0 < C; c0 += OTK_T_PANEL) {
        const double *panel = yt + (c0 / OTK_T_PANEL) * ps;
        __mmask8 m[4];
        for (size_t q = 0; q < 4; q++) {
            const size_t c = c0 + 8 * q;
            m[q] = (__mmask8)(c >= C ? 0 : C - c >= 8 ? 0xFF : (1u << (C - c)) - 1u);
        }
        __m512d acc[OTK_T_ROWS][4];
        for (size_t r = 0; r < OTK_T_ROWS; r++)
            for (size_t q = 0; q < 4; q++)
                acc[r][q] = r < R ? _mm512_maskz_loadu_pd(m[q], out + r * ldo + c0 + 8 * q)
                                  : _mm512_setzero_pd();
        for (size_t k = 0; k < K; k++) {
            const double *yk = panel + k * OTK_T_PANEL;
            __m512d y[4];
#pragma GCC unroll 4
            for (size_t q = 0; q < 4; q++)
                y[q] = _mm512_loadu_pd(yk + 8 * q);
#pragma GCC unroll 4
            for (size_t r = 0; r < OTK_T_ROWS; r++) {
                const __m512d xb = _mm512_set1_pd(xr[r][k]);
#pragma GCC unroll 4
                for (size_t q = 0; q < 4; q++)
                    acc[r][q] = _mm512_add_pd(acc[r][q], _mm512_abs_pd(_mm512_sub_pd(xb, y[q])));
            }
        }
        for (size_t r = 0; r < R; r++)
            for (size_t q = 0; q < 4; q++)
                _mm512_mask_storeu_pd(out + r * ldo + c0 + 8 * q, m[q], acc[r][q]);
    }
#else
    for (size_t r = 0; r < R; r++)
        for (size_t c0 = 0; c0 < C; c0 += OTK_T_PANEL) {
            const double *panel = yt + (c0 / OTK_T_PANEL) * ps;
            const size_t W = C - c0 < OTK_T_PANEL ? C - c0 : OTK_T_PANEL;
            double *o = out + r * ldo + c0;
            for (size_t k = 0; k < K; k++) {
                const double xv = x[r * ldx + k], *yk = panel + k * OTK_T_PANEL;
                for (size_t c = 0; c < W; c++)
                    o[c] += fabs(xv - yk[c]);
            }
        }
#endif
}

#if defined(__AVX512F__)
/* l1_grad_tile's sums for OTK_T_ROWS rows (missing ones repeat row 0, not
 * stored) and KB classes from k, all C columns. */
__attribute__((always_inline)) static inline void
l1_grad_block(size_t KB, const double *const *xr, const double *const *ar, size_t R,
              const double *yt, size_t ps, size_t k, size_t C, double *g, size_t ldg)
{
    __m512d acc[OTK_T_ROWS][4];
    for (size_t r = 0; r < OTK_T_ROWS; r++)
        for (size_t q = 0; q < KB; q++)
            acc[r][q] = _mm512_setzero_pd();
    for (size_t c = 0; c < C; c += 8) {
        const __mmask8 m = (__mmask8)(C - c >= 8 ? 0xFF : (1u << (C - c)) - 1u);
        const double *yc = yt + (c / OTK_T_PANEL) * ps + c % OTK_T_PANEL;
        __m512d a[OTK_T_ROWS];
#pragma GCC unroll 4
        for (size_t r = 0; r < OTK_T_ROWS; r++)
            a[r] = _mm512_maskz_loadu_pd(m, ar[r] + c);
#pragma GCC unroll 4
        for (size_t q = 0; q < KB; q++) {
            const __m512d y = _mm512_loadu_pd(yc + (k + q) * OTK_T_PANEL);
#pragma GCC unroll 4
            for (size_t r = 0; r < OTK_T_ROWS; r++) {
                const __m512d xb = _mm512_set1_pd(xr[r][k + q]);
                const __mmask8 gt = _mm512_mask_cmp_pd_mask(m, xb, y, _CMP_GT_OQ);
                const __mmask8 lt = _mm512_mask_cmp_pd_mask(m, xb, y, _CMP_LT_OQ);
                acc[r][q] = _mm512_mask_add_pd(acc[r][q], gt, acc[r][q], a[r]);
                acc[r][q] = _mm512_mask_sub_pd(acc[r][q], lt, acc[r][q], a[r]);
            }
        }
    }
    /* Totals for all rows first (fixed bounds: the sums stay in registers
     * through the loop above), then the R rows stored. */
    double tot[OTK_T_ROWS][4];
#pragma GCC unroll 4
    for (size_t r = 0; r < OTK_T_ROWS; r++)
#pragma GCC unroll 4
        for (size_t q = 0; q < KB; q++)
            tot[r][q] = otk_lanes8_total(acc[r][q]);
    for (size_t r = 0; r < R; r++)
        for (size_t q = 0; q < KB; q++)
            g[r * ldg + k + q] += tot[r][q];
}
#endif

/* Its gradient, the other side in panels as above: for r < R <= OTK_T_ROWS
 * and k < K,
 *   g[r·ldg + k] += Σ_{c<C} a[r·lda + c]·sign(x[r·ldx + k] − y_ck),
 * sign(0) = 0: partial sums by c mod 8 in increasing c (a term added where
 * x > y, subtracted where x < y), combined as lanes_total, then added to g,
 * the same in every variant. */
static void l1_grad_tile(const double *x, size_t ldx, size_t R, const double *yt, size_t ps,
                         size_t K, size_t C, const double *a, size_t lda, double *g, size_t ldg)
{
#if defined(__AVX512F__)
    const double *xr[OTK_T_ROWS], *ar[OTK_T_ROWS];
    for (size_t r = 0; r < OTK_T_ROWS; r++) {
        xr[r] = x + (r < R ? r : 0) * ldx;
        ar[r] = a + (r < R ? r : 0) * lda;
    }
    size_t k = 0;
    for (; k + 4 <= K; k += 4)
        l1_grad_block(4, xr, ar, R, yt, ps, k, C, g, ldg);
    for (; k < K; k++)
        l1_grad_block(1, xr, ar, R, yt, ps, k, C, g, ldg);
#else
    for (size_t r = 0; r < R; r++)
        for (size_t k = 0; k < K; k++) {
            const double xv = x[r * ldx + k], *ar = a + r * lda;
            /* Adding 0 where x = y changes no partial sum: they start at +0
             * and never become −0 (x + (−x) = +0). */
            double acc[OTK_LANES] = {0};
            for (size_t c0 = 0; c0 < C; c0 += OTK_T_PANEL) {
                const double *yk = yt + (c0 / OTK_T_PANEL) * ps + k * OTK_T_PANEL;
                const size_t W = C - c0 < OTK_T_PANEL ? C - c0 : OTK_T_PANEL;
                for (size_t c = 0; c < W; c++) /* OTK_T_PANEL is a multiple of OTK_LANES */
                    acc[c % OTK_LANES] += xv > yk[c] ? ar[c0 + c] : xv < yk[c] ? -ar[c0 + c] : 0.0;
            }
            g[r * ldg + k] += lanes_total(acc);
        }
#endif
}

const otk_kernels OTK_KERNEL_TABLE = {
    OTK_KERNEL_ISA, points_cost_tile, points_lse_tile, lse_accumulate, plan_weights, strip_max, strip_sumexp,
    lanes_sum,      lanes_dot,       lanes_max,      lanes_sq_dist,
    diff_axpy,      axpy,            axpy_prod,      exp_affine,
    sq_dist_multi,  diff_axpy_multi, log_shift,
    points_lse_tile_f32, points_sq_lse_rows, points_sq_lse_rows_f32, sub_scaled, dense_lse_rows,
    to_f32,         strip_sumexp_rows, sq_block_bounds, points_sq_plan_grad, l1_cost_tile,
    l1_grad_tile,   dot_rows,        axpy_rows,
};
