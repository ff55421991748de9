/* Internal: the SIMD kernel table.  kernels.c is compiled once per instruction
 * set (baseline, AVX2/FMA, AVX-512); otk__kernels() picks the best one the CPU
 * supports, once, at run time.  All kernels work on one tile of at most
 * OTK_TILE entries, so their buffers live on the stack and stay in L1. */
#ifndef OTK_KERNELS_H
#define OTK_KERNELS_H

#include <math.h>
#include <stddef.h>

#define OTK_TILE 512

/* Ground-cost codes understood by the point kernels (same values as otk_ground). */
enum { OTK_K_SQ = 0, OTK_K_HALFSQ, OTK_K_EUCLID, OTK_K_L1, OTK_K_LP, OTK_K_LP_OVER_P };

/* The ground costs from the sums over coordinates, in place on T values: the
 * sum s = Σ_k |x_k − y_k| is the l1 cost itself, and the other grounds are
 * functions of s = ‖x − y‖² (s, s/2, √s, s^{P/2}, s^{P/2}/P; otkit/cost.h).
 * The one place for these formulas: the point-cloud kernels (kernels.c) and
 * the batch costs of SinKD (solvers/clients/distill.c) both finish their
 * sums here, so both see bitwise the same costs for the same sums. */
static inline void otk__ground_of_sums(int ground, double power, double *c, size_t T)
{
    switch (ground) {
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
    default: /* OTK_K_SQ, OTK_K_L1: the sum is the cost */
        break;
    }
}

typedef struct {
    const char *isa;
    /* c[t] = ground(p, q_{j0+t}) for t < T.  p_k = p[k*pstride]; q_{j,k} = Q[k*ldq + j]. */
    void (*points_cost_tile)(int ground, double power, size_t d, const double *p, size_t pstride,
                             const double *Q, size_t ldq, size_t j0, size_t T, double *c);
    /* Fused points_cost_tile + lse_accumulate with h (T entries, already offset). */
    void (*points_lse_tile)(int ground, double power, size_t d, const double *p, size_t pstride,
                            const double *Q, size_t ldq, size_t j0, size_t T, const double *h,
                            double inv_eps, double *M, double *S);
    /* Streaming log-sum-exp of v_t = h[t] − c[t]·inv_eps into the running pair
     * (M, S) with LSE = M + log S.  M = −INFINITY, S = 0 initially. */
    void (*lse_accumulate)(const double *c, const double *h, size_t T, double inv_eps,
                           double *M, double *S);
    /* w[t] = exp(u + v[t] − c[t]·inv_eps). */
    void (*plan_weights)(const double *c, const double *v, size_t T, double u, double inv_eps,
                         double *w);
    /* Column strips of a row-major matrix (any T: no buffer):
     * M[t] = max(M[t], h − c[t]·inv_eps) ... */
    void (*strip_max)(const double *c, double h, size_t T, double inv_eps, double *M);
    /* ... then S[t] += exp(h − c[t]·inv_eps − M[t]), the exponent clamped
     * below at −708 and a NaN kept; above e^709 the term is +inf (AVX-512)
     * or e^709, so that a shift M below the column's maximum is safe for a
     * caller that checks S (otk__dense_softmin_cols). */
    void (*strip_sumexp)(const double *c, double h, size_t T, double inv_eps, const double *M,
                         double *S);
    /* Σ v[t] and Σ x[t]·y[t], in a fixed order. */
    double (*sum)(const double *v, size_t T);
    double (*dot)(const double *x, const double *y, size_t T);
    /* max_t v[t] (NaN-propagating), any T. */
    double (*max)(const double *v, size_t T);
    /* Dense-vector primitives for the batch costs of distill.c, any T:
     * Σ(x − y)², g += a(x − y), y += a·x, y += a·x∘z, and
     * out = exp(x·scale − shift) (clamped as above). */
    double (*sq_dist)(const double *x, const double *y, size_t T);
    void (*diff_axpy)(double a, const double *x, const double *y, size_t T, double *g);
    void (*axpy)(double a, const double *x, size_t T, double *y);
    void (*axpy_prod)(double a, const double *x, const double *z, size_t T, double *y);
    void (*exp_affine)(const double *x, size_t T, double scale, double shift, double *out);
    /* The same against OTK_MULTI rows y[0..7] at once (x and g read and
     * written once for all of them):
     *   sq_dist_multi:   out[o] += Σ_t (x[t] − y[o][t])²;
     *   diff_axpy_multi: g[t] += Σ_o a[o](x[t] − y[o][t]), summed over o in
     *   increasing order.  (The l1 ground has its own tiles, below.) */
    void (*sq_dist_multi)(const double *x, const double *const *y, size_t T, double *out);
    void (*diff_axpy_multi)(const double *a, const double *x, const double *const *y, size_t T,
                            double *g);
    /* out[t] = shift + log(x[t]), about 2 ulp; any x (libm's answer where x
     * is not positive, normal and finite). */
    void (*log_shift)(const double *x, size_t T, double shift, double *out);
    /* points_lse_tile in single precision (float32 point-cloud costs): p and
     * Q in float32, costs, v and exponentials in float32, the tile's
     * (max, sum) folded into the double pair (M, S). */
    void (*points_lse_tile_f32)(int ground, double power, size_t d, const float *p,
                                size_t pstride, const float *Q, size_t ldq, size_t j0, size_t T,
                                const double *h, double inv_eps, double *M, double *S);
    /* The squared-Euclidean soft-min in expanded form for R rows against one
     * tile (kernels.c, docs/math.md A.2): v_rt = hq[t] − rowc[r] +
     * two_scale·Σ_k P[k·pstride + r]·Q[k·ldq + j0 + t], folded into the
     * running pairs (M[r], S[r]) of the R rows.  P and Q are centred
     * coordinates; hq[t] = h[j0 + t] − scale·‖q_{j0+t}‖² (T entries). */
    void (*points_sq_lse_rows)(size_t d, size_t R, const double *P, size_t pstride,
                               const double *rowc, double two_scale, const double *Q,
                               size_t ldq, size_t j0, size_t T, const double *hq, double *M,
                               double *S);
    /* The same for float32 point costs in the direct form (kernels.c):
     * v_rt = hf[t] − scale·Σ_k (P[k·pstride + r] − Q[k·ldq + j0 + t])², P, Q
     * and hf (h rounded, T entries) in float32; hf2 the same entries of
     * h·log2(e) rounded to float32 (the AVX-512 kernel's base-2 exponents). */
    void (*points_sq_lse_rows_f32)(size_t d, size_t R, const float *P, size_t pstride,
                                   double scale, const float *Q, size_t ldq, size_t j0,
                                   size_t T, const float *hf, const float *hf2, double *M,
                                   double *S);
    /* out[t] = x[t] − a·y[t] (the column terms hq of points_sq_lse_rows). */
    void (*sub_scaled)(const double *x, double a, const double *y, size_t T, double *out);
    /* lse_accumulate for R <= OTK_SQ_ROWS rows of a row-major matrix against
     * one tile: row r's entries at C + r·ld + j0, h the tile's T entries,
     * (M[r], S[r]) the rows' running pairs. */
    void (*dense_lse_rows)(const double *C, size_t ld, size_t R, size_t j0, size_t T,
                           const double *h, double inv_eps, double *M, double *S);
    /* out[t] = a·x[t] rounded to float32 (the column terms hf and hf2 of
     * points_sq_lse_rows_f32). */
    void (*to_f32)(const double *x, double a, size_t T, float *out);
    /* strip_sumexp for R <= OTK_SQ_ROWS rows: S[t] += exp(h[r] −
     * rows[r][t]·inv_eps − M[t]) for r = 0 .. R−1 in that order (rows[r]
     * already at the strip's first column).  The exponent is clamped below
     * at −708 or, with AVX-512 (base 2), at 2^−1021, a NaN kept, and not
     * clamped above (+inf) with AVX-512, e^709 otherwise, as strip_sumexp. */
    void (*strip_sumexp_rows)(const double *const *rows, const double *h, size_t R, size_t T,
                              double inv_eps, const double *M, double *S);
    /* The multiscale truncation rule's bounds, squared grounds
     * (multiscale.c: block_bound): for t < T, with D = xc − y_t,
     *   U[t] = xb + yb[t] − (s/2)|D|² + xr·|xg − sD| + yr[t]·|g_t + sD|,
     * y_t's coordinate k at Yc[k·ldy + t] and its slope g_t's at
     * Yg[k·ldy + t] (xg: x's slope). */
    void (*sq_block_bounds)(size_t d, double s, const double *xc, const double *xg, double xb,
                            double xr, const double *Yc, const double *Yg, size_t ldy,
                            const double *yb, const double *yr, size_t T, double *U);
    /* The squared grounds' gradient reduction of one row against one tile:
     * acc[k] += Σ_t w_t·(p_k − q_{j0+t,k}), w_t = exp(u + v[t] − cs·|p − q_{j0+t}|²),
     * 0 below e^−708 (p_k = p[k·pstride], q as points_cost_tile; v: T entries). */
    void (*points_sq_plan_grad)(size_t d, const double *p, size_t pstride, const double *Q,
                                size_t ldq, size_t j0, size_t T, const double *v, double u,
                                double cs, double *acc);
    /* The l1 batch cost of R <= OTK_T_ROWS rows x (row r at x + r·ldx)
     * against C rows y of the other side stored in panels of OTK_T_PANEL
     * columns (y_c's class k at yt[(c/OTK_T_PANEL)·ps + k·OTK_T_PANEL +
     * c%OTK_T_PANEL]; the last panel padded, its columns beyond C read, not
     * used), K classes:
     *   l1_cost_tile: out[r·ldo + c] += Σ_k |x_rk − y_ck|, terms in increasing k;
     *   l1_grad_tile: g[r·ldg + k] += Σ_c a[r·lda + c]·sign(x_rk − y_ck),
     *   sign(0) = 0, the sum over c in lanes (c mod 8) combined as lanes_total.
     * Each variant gives the same sums. */
    void (*l1_cost_tile)(const double *x, size_t ldx, size_t R, const double *yt, size_t ps,
                         size_t K, size_t C, double *out, size_t ldo);
    void (*l1_grad_tile)(const double *x, size_t ldx, size_t R, const double *yt, size_t ps,
                         size_t K, size_t C, const double *a, size_t lda, double *g,
                         size_t ldg);
    /* out[r] = Σ_t A[r·lda + t]·x[t] for R <= OTK_SQ_ROWS rows at once,
     * each row's sum in lanes (t mod 8) combined as lanes_total. */
    void (*dot_rows)(const double *A, size_t lda, size_t R, const double *x, size_t T,
                     double *out);
    /* y[t] += Σ_r e[r]·A[r·lda + t], any R, each y[t]'s terms in increasing r. */
    void (*axpy_rows)(const double *A, size_t lda, size_t R, const double *e, size_t T,
                      double *y);
} otk_kernels;

/* Rows per block of the expanded squared-Euclidean soft-min. */
#define OTK_SQ_ROWS 8

#define OTK_MULTI 8

/* Rows per call of l1_cost_tile and l1_grad_tile, and the columns of
 * their panels (a multiple of 8). */
#define OTK_T_ROWS 4
#define OTK_T_PANEL 32

const otk_kernels *otk__kernels(void);

extern const otk_kernels otk__kernels_generic;
#ifdef OTK_HAVE_AVX2
extern const otk_kernels otk__kernels_avx2;
#endif
#ifdef OTK_HAVE_AVX512
extern const otk_kernels otk__kernels_avx512;
#endif

#endif
