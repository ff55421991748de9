/*
 * tests/check_kernels.c — accuracy of the branch-free exp and log of the SIMD
 * kernels against libm, on one build of solvers/core/kernels.c (included here:
 * the kernel tables are internal to the library).  tests/check_kernels is the
 * baseline build; tests/check_kernels_avx512 is the same file compiled with
 * the AVX-512 table's flags, whose exp-sum loops use their own vector
 * exponential (skipped, status 77, on a CPU without AVX-512).  The solver
 * suites run the widest table the CPU has through the library.
 *
 * Exit status 0 when every check passes; the last line is "N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.c"

static int passed, failed;

static void check(int ok, const char *what, double worst, double where)
{
    printf("%s: %s (worst relative error %.3g at x = %.17g)\n", ok ? "PASS" : "FAIL", what, worst,
           where);
    if (ok)
        passed++;
    else
        failed++;
}

/* Deterministic uniform in [0, 1) (splitmix64). */
static double uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* The largest relative error of exp_affine against libm over N uniform
 * points of [lo, hi] (x and out: N entries of scratch), and where. */
static double exp_worst(double *x, double *out, size_t N, double lo, double hi, uint64_t *st,
                        double *where)
{
    for (size_t i = 0; i < N; i++)
        x[i] = (hi - lo) * uniform(st) + lo;
    OTK_KERNEL_TABLE.exp_affine(x, N, 1.0, 0.0, out);
    double worst = 0.0;
    for (size_t i = 0; i < N; i++) {
        const double err = fabs(out[i] - exp(x[i])) / exp(x[i]);
        if (err > worst) {
            worst = err;
            *where = x[i];
        }
    }
    return worst;
}

/* The exp-sum loops of the soft-mins and plan reductions against libm: each
 * result's relative error over random tiles of every length up to OTK_TILE. */
static void check_exp_loops(uint64_t *st)
{
    double v[OTK_TILE], c[OTK_TILE], M[OTK_TILE], S[OTK_TILE], w[OTK_TILE];
    double worst_sum = 0.0, worst_strip = 0.0, worst_plan = 0.0;
    int zero_below = 1;
    for (size_t T = 1; T <= OTK_TILE; T += (T < 40 ? 1 : 37)) {
        double ref = 0.0;
        const double shift = 3.0 * uniform(st) - 1.0;
        for (size_t t = 0; t < T; t++) {
            v[t] = shift - 60.0 * uniform(st);
            ref += exp(v[t] - shift);
        }
        worst_sum = fmax(worst_sum, fabs(sum_exp_shifted(v, T, shift) - ref) / ref);
        const double h = 0.5, inv_eps = 7.0;
        for (size_t t = 0; t < T; t++) {
            c[t] = 5.0 * uniform(st);
            M[t] = h - c[t] * inv_eps + 40.0 * uniform(st);
            S[t] = 0.0;
        }
        strip_sumexp(c, h, T, inv_eps, M, S);
        for (size_t t = 0; t < T; t++) {
            const double e = exp(h - c[t] * inv_eps - M[t]);
            worst_strip = fmax(worst_strip, fabs(S[t] - e) / e);
        }
        for (size_t t = 0; t < T; t++)
            v[t] = 2.0 * uniform(st) - 1.0;
        v[T - 1] = -INFINITY; /* a zero weight gets exactly no mass */
        plan_weights(c, v, T, -1.0, inv_eps, w);
        for (size_t t = 0; t + 1 < T; t++) {
            const double e = exp(-1.0 + v[t] - c[t] * inv_eps);
            worst_plan = fmax(worst_plan, fabs(w[t] - e) / e);
        }
        zero_below &= w[T - 1] == 0.0;
    }
    check(worst_sum <= 1e-14, "sum_exp_shifted: relative error <= 1e-14 (T = 1..512)", worst_sum, 0.0);
    check(worst_strip <= 6e-15, "strip_sumexp: relative error of each term <= 6e-15", worst_strip, 0.0);
    check(worst_plan <= 6e-15 && zero_below,
          "plan_weights: relative error <= 6e-15, exactly 0 for a zero weight", worst_plan, 0.0);
}

/* strip_sumexp_rows (the column soft-mins' one-pass blocks of rows) against
 * a long-double sum of the same terms, R = 1..OTK_SQ_ROWS rows and strips of
 * every width class (the 32-column body and the masked tail): each column's
 * sum within 3e-15 plus the rounding of the exponent's parts,
 * 2^-52·(|h| + |c·inv_eps| + |M|) relative (the base-2 form rounds h·log2(e)
 * and M·log2(e); the polynomial is good to 1.5e-15).  Then the two exits the
 * caller relies on: a term above 2^1024 relative to M makes the sum +inf (or
 * at least e^709: not a silent finite value below the caller's 2^900 bound),
 * and a NaN h makes it NaN. */
static void check_strip_rows(uint64_t *st)
{
    enum { W = 2 * OTK_TILE + 13, R = OTK_SQ_ROWS };
    static double C[R * W], M[W], S[W];
    double h[R], worst = 0.0;
    const double *rows[R];
    for (size_t T = 1; T <= W; T += (T < 70 ? 1 : 97))
        for (size_t nr = 1; nr <= R; nr++) {
            const double inv_eps = 3.0 + 40.0 * uniform(st);
            for (size_t r = 0; r < nr; r++) {
                h[r] = 2.0 * uniform(st) - 1.0;
                rows[r] = C + r * W + (W - T) / 2; /* unaligned starts too */
                for (size_t t = 0; t < T; t++)
                    C[r * W + (W - T) / 2 + t] = uniform(st);
            }
            for (size_t t = 0; t < T; t++) {
                M[t] = 1.0 - 0.5 * inv_eps * uniform(st);
                S[t] = uniform(st);
            }
            double S0[W];
            memcpy(S0, S, T * sizeof *S);
            strip_sumexp_rows(rows, h, nr, T, inv_eps, M, S);
            for (size_t t = 0; t < T; t++) {
                long double ref = S0[t], scale = 0.0L;
                for (size_t r = 0; r < nr; r++) {
                    const long double a = (long double)rows[r][t] * inv_eps;
                    ref += expl(h[r] - a - M[t]);
                    scale = fmaxl(scale, fabsl(h[r]) + a + fabsl(M[t]));
                }
                const double bound = 3e-15 + 0x1p-52 * (double)scale;
                worst = fmax(worst, (double)(fabsl(S[t] - ref) / ref) / bound);
            }
        }
    check(worst <= 1.0,
          "strip_sumexp_rows: within 3e-15 + 2^-52 (|h| + |c/eps| + |M|) relative, R = 1..8 "
          "(worst: the fraction of that bound)",
          worst, 0.0);
    for (size_t t = 0; t < 40; t++)
        M[t] = 0.0, S[t] = 1.0;
    h[0] = 0.0, h[1] = 800.0, h[2] = NAN;
    rows[0] = rows[1] = rows[2] = C;
    strip_sumexp_rows(rows, h, 2, 40, 1.0, M, S); /* e^(800 - c) */
    int exits = 1;
    for (size_t t = 0; t < 40; t++)
        exits &= S[t] >= 8e307;
    for (size_t t = 0; t < 40; t++)
        S[t] = 1.0;
    strip_sumexp_rows(rows, h, 3, 40, 1.0, M, S);
    for (size_t t = 0; t < 40; t++)
        exits &= isnan(S[t]);
    check(exits, "strip_sumexp_rows: an overflowing term is +inf or e^709, a NaN h is NaN", 0.0,
          0.0);
}

/* dense_lse_rows (the dense row soft-mins: blocks of OTK_SQ_ROWS rows summed
 * together in one pass, R < OTK_SQ_ROWS row by row) against a long-double
 * two-pass log-sum-exp, over three tiles: random exponents; rows 2 and 5 with
 * a last tile raised by 700 (their one-pass sums overflow the shift: the
 * exact fallback for those rows only); a first tile of zero weights (h =
 * -inf: no shift yet); each also with R = 5.  Within 1e-15 of the exponents'
 * range; then a NaN in a later tile surfaces. */
static void check_dense_rows(uint64_t *st)
{
    enum { NQ = 2 * OTK_TILE + 100, LD = NQ + 3, R = OTK_SQ_ROWS };
    static double C[R * LD], h[NQ];
    double worst = 0.0;
    for (int variant = 0; variant < 3; variant++)
        for (size_t nr = 5; nr <= R; nr += R - 5)
            for (int trial = 0; trial < 3; trial++) {
                const double inv_eps = 5.0 + 100.0 * uniform(st);
                for (size_t j = 0; j < NQ; j++)
                    h[j] = -5.0 + uniform(st) - (variant == 2 && j < OTK_TILE ? INFINITY : 0.0);
                for (size_t r = 0; r < R; r++)
                    for (size_t j = 0; j < LD; j++)
                        C[r * LD + j] = uniform(st) -
                                        (variant == 1 && (r == 2 || r == 5) && j >= 2 * OTK_TILE
                                             ? 700.0 / inv_eps
                                             : 0.0);
                double M[R], S[R];
                for (size_t r = 0; r < R; r++)
                    M[r] = -INFINITY, S[r] = 0.0;
                for (size_t j0 = 0; j0 < NQ; j0 += OTK_TILE) {
                    const size_t T = NQ - j0 < OTK_TILE ? NQ - j0 : OTK_TILE;
                    dense_lse_rows(C, LD, nr, j0, T, h + j0, inv_eps, M, S);
                }
                for (size_t r = 0; r < nr; r++) {
                    long double mx = -INFINITY, sum = 0.0L;
                    for (size_t j = 0; j < NQ; j++) {
                        const long double v = h[j] - (long double)C[r * LD + j] * inv_eps;
                        mx = v > mx ? v : mx;
                    }
                    for (size_t j = 0; j < NQ; j++)
                        sum += expl(h[j] - (long double)C[r * LD + j] * inv_eps - mx);
                    const double ref = (double)(mx + logl(sum));
                    const double range = 6.0 + inv_eps + (variant == 1 ? 700.0 : 0.0);
                    worst = fmax(worst, fabs(M[r] + log(S[r]) - ref) / range);
                }
            }
    check(worst <= 1e-15, "dense_lse_rows: within 1e-15 of the exponents' range (blocks of 8 and "
                          "5, one-pass fallback of single rows, -inf tiles)",
          worst, 0.0);
    double M[R], S[R];
    for (size_t r = 0; r < R; r++)
        M[r] = -INFINITY, S[r] = 0.0;
    for (size_t j = 0; j < NQ; j++)
        h[j] = -1.0;
    h[OTK_TILE + 7] = NAN;
    dense_lse_rows(C, LD, R, 0, OTK_TILE, h, 1.0, M, S);
    dense_lse_rows(C, LD, R, OTK_TILE, OTK_TILE, h + OTK_TILE, 1.0, M, S);
    int nan_surfaces = 1;
    for (size_t r = 0; r < R; r++)
        nan_surfaces &= isnan(M[r] + log(S[r]));
    check(nan_surfaces, "dense_lse_rows: a NaN in a one-pass tile surfaces", 0.0, 0.0);
}

/* The float32 point soft-min tile against the float64 one on the same
 * (float32) points: the log-sum-exp within 2e-7 of the exponents' scale. */
static void check_f32_tile(uint64_t *st)
{
    enum { D = 3, NQ = 700 };
    static double Q[D * NQ], h[NQ];
    static float Qf[D * NQ];
    double worst = 0.0;
    int nan_surfaces;
    for (int trial = 0; trial < 50; trial++) {
        double p[D];
        float pf[D];
        for (int k = 0; k < D; k++)
            pf[k] = (float)uniform(st), p[k] = pf[k];
        for (int i = 0; i < D * NQ; i++)
            Qf[i] = (float)uniform(st), Q[i] = Qf[i];
        const double inv_eps = 10.0 + 200.0 * uniform(st);
        for (int j = 0; j < NQ; j++)
            h[j] = -5.0 + uniform(st);
        for (int g = 0; g < 4; g++) {
            double M = -INFINITY, S = 0.0, M32 = -INFINITY, S32 = 0.0;
            for (size_t j0 = 0; j0 < NQ; j0 += OTK_TILE) {
                size_t T = NQ - j0 < OTK_TILE ? NQ - j0 : OTK_TILE;
                points_lse_tile(g, 0.0, D, p, 1, Q, NQ, j0, T, h + j0, inv_eps, &M, &S);
                points_lse_tile_f32(g, 0.0, D, pf, 1, Qf, NQ, j0, T, h + j0, inv_eps, &M32, &S32);
            }
            const double scale = 5.0 + 3.0 * inv_eps; /* |h| + max c/eps */
            worst = fmax(worst, fabs((M32 + log(S32)) - (M + log(S))) / scale);
        }
    }
    check(worst <= 2e-7, "points_lse_tile_f32: within 2e-7 of the exponents' scale", worst, 0.0);
    h[5] = NAN;
    double M = -INFINITY, S = 0.0;
    points_lse_tile_f32(0, 0.0, D, Qf, 1, Qf, NQ, 0, 64, h, 1.0, &M, &S);
    nan_surfaces = isnan(M + log(S));
    check(nan_surfaces, "points_lse_tile_f32: a NaN exponent makes the result NaN", 0.0, 0.0);
}

/* The expanded squared-Euclidean soft-min (points_sq_lse_rows and its
 * float32 form) against a long-double log-sum-exp of the direct formula
 * h − ‖p − q‖²·scale, over OTK_SQ_ROWS rows and three tiles, in dimensions
 * 1 to 6: random exponents; a last tile raised by 700 (the one-pass sum would
 * overflow: its exact fallback must take over); the middle tile raised by 700
 * (then a one-pass tile after the exact one: the float32 kernel's base-2
 * shift corrected to the exact path's M); a first tile of zero weights
 * (h = −inf: no maximum, the next tile starts); and a NaN. */
static void check_sq_rows(uint64_t *st)
{
    enum { NQ = 2 * OTK_TILE + 100, R = OTK_SQ_ROWS, DMAX = 6 };
    static double Q[DMAX * NQ], h[NQ], P[DMAX * R], hq[NQ], qn[NQ];
    static float Qf[DMAX * NQ], Pf[DMAX * R], hf[NQ], hf2[NQ];
    double worst = 0.0, worst32 = 0.0;
    for (size_t d = 1; d <= DMAX; d++)
        for (int variant = 0; variant < 5; variant++)
            for (int trial = 0; trial < 4; trial++) {
                const double scale = 5.0 + 200.0 * uniform(st), two_scale = 2.0 * scale;
                for (size_t i = 0; i < d * NQ; i++)
                    Qf[i] = (float)(uniform(st) - 0.5), Q[i] = Qf[i];
                for (size_t i = 0; i < d * R; i++)
                    Pf[i] = (float)(uniform(st) - 0.5), P[i] = Pf[i];
                for (size_t j = 0; j < NQ; j++) {
                    h[j] = -5.0 + uniform(st);
                    if (variant == 1 && j >= 2 * OTK_TILE)
                        h[j] += 700.0;
                    if (variant == 2 && j < OTK_TILE)
                        h[j] = -INFINITY;
                    if (variant == 3 && j >= OTK_TILE && j < 2 * OTK_TILE)
                        h[j] += 700.0;
                    /* The first tile's head (the OTK_HEAD entries whose
                     * maximum is its shift) far below the rest: that shift
                     * overflows the one-pass sum, the exact path takes over. */
                    if (variant == 4 && j < OTK_HEAD + 3)
                        h[j] -= 900.0;
                    qn[j] = 0.0;
                    for (size_t k = 0; k < d; k++)
                        qn[j] += Q[k * NQ + j] * Q[k * NQ + j];
                    hq[j] = h[j] - scale * qn[j];
                    hf[j] = (float)h[j];
                    hf2[j] = (float)(h[j] * 1.4426950408889634);
                }
                double M[R], S[R], M32[R], S32[R], rowc[R];
                for (size_t r = 0; r < R; r++) {
                    double pn = 0.0;
                    for (size_t k = 0; k < d; k++)
                        pn += P[k * R + r] * P[k * R + r];
                    rowc[r] = scale * pn;
                    M[r] = M32[r] = -INFINITY;
                    S[r] = S32[r] = 0.0;
                }
                for (size_t j0 = 0; j0 < NQ; j0 += OTK_TILE) {
                    size_t T = NQ - j0 < OTK_TILE ? NQ - j0 : OTK_TILE;
                    points_sq_lse_rows(d, R, P, R, rowc, two_scale, Q, NQ, j0, T, hq + j0, M, S);
                    points_sq_lse_rows_f32(d, R, Pf, R, scale, Qf, NQ, j0, T, hf + j0, hf2 + j0,
                                           M32, S32);
                }
                for (size_t r = 0; r < R; r++) {
                    long double mx = -INFINITY, s = 0.0L;
                    for (size_t j = 0; j < NQ; j++) {
                        long double c = 0.0L;
                        for (size_t k = 0; k < d; k++) {
                            long double df = (long double)P[k * R + r] - Q[k * NQ + j];
                            c += df * df;
                        }
                        long double v = h[j] - c * scale;
                        mx = v > mx ? v : mx;
                    }
                    for (size_t j = 0; j < NQ; j++) {
                        long double c = 0.0L;
                        for (size_t k = 0; k < d; k++) {
                            long double df = (long double)P[k * R + r] - Q[k * NQ + j];
                            c += df * df;
                        }
                        s += expl(h[j] - c * scale - mx);
                    }
                    const double ref = (double)(mx + logl(s));
                    const double range = 6.0 + scale * (double)d +
                                         (variant == 1 || variant == 3 ? 700.0 : 0.0) +
                                         (variant == 4 ? 900.0 : 0.0);
                    worst = fmax(worst, fabs(M[r] + log(S[r]) - ref) / range);
                    worst32 = fmax(worst32, fabs(M32[r] + log(S32[r]) - ref) / range);
                }
            }
    check(worst <= 1e-15, "points_sq_lse_rows: within 1e-15 of the exponents' range (d = 1..6, "
                          "one-pass fallback, -inf tiles, a low head)",
          worst, 0.0);
    check(worst32 <= 2e-7, "points_sq_lse_rows_f32: within 2e-7 of the exponents' range",
          worst32, 0.0);
    double M[R], S[R], rowc[R] = {0};
    for (size_t r = 0; r < R; r++)
        M[r] = -INFINITY, S[r] = 0.0;
    for (size_t j = 0; j < NQ; j++)
        hq[j] = -1.0, hf[j] = -1.0f;
    for (size_t j = 0; j < NQ; j++)
        hf2[j] = (float)(-1.4426950408889634);
    hq[OTK_TILE + 7] = NAN;
    hf[OTK_TILE + 7] = NAN;
    hf2[OTK_TILE + 7] = NAN;
    points_sq_lse_rows(3, R, P, R, rowc, 1.0, Q, NQ, 0, OTK_TILE, hq, M, S);
    points_sq_lse_rows(3, R, P, R, rowc, 1.0, Q, NQ, OTK_TILE, OTK_TILE, hq + OTK_TILE, M, S);
    int nan_surfaces = isnan(M[0] + log(S[0]));
    for (size_t r = 0; r < R; r++)
        M[r] = -INFINITY, S[r] = 0.0;
    points_sq_lse_rows_f32(3, R, Pf, R, 1.0, Qf, NQ, 0, OTK_TILE, hf, hf2, M, S);
    points_sq_lse_rows_f32(3, R, Pf, R, 1.0, Qf, NQ, OTK_TILE, OTK_TILE, hf + OTK_TILE,
                           hf2 + OTK_TILE, M, S);
    nan_surfaces &= isnan(M[0] + log(S[0]));
    check(nan_surfaces, "points_sq_lse_rows (and _f32): a NaN in a one-pass tile surfaces", 0.0,
          0.0);
}

/* The multiscale kernels against long-double references of their formulas:
 * the truncation rule's block bounds (d = 1..3, every tail length) and the
 * fused gradient reduction (d = 1..4: d = 4 is the loop that serves any d),
 * with −∞ and NaN column terms (weight 0, as plan_weights). */
static void check_multiscale_kernels(uint64_t *st)
{
    enum { NB = 37, NQ = OTK_TILE };
    static double Yc[3 * NB], Yg[3 * NB], yb[NB], yr[NB], U[NB];
    double worst = 0.0;
    for (size_t d = 1; d <= 3; d++)
        for (size_t T = 1; T <= NB; T++) {
            const double s = T % 2 ? 2.0 : 1.0;
            double xc[3], xg[3];
            for (size_t a = 0; a < d; a++) {
                xc[a] = uniform(st);
                xg[a] = uniform(st) - 0.5;
            }
            const double xb = uniform(st) - 0.5, xr = 0.1 * uniform(st);
            for (size_t t = 0; t < T; t++) {
                for (size_t a = 0; a < d; a++) {
                    Yc[a * NB + t] = uniform(st);
                    Yg[a * NB + t] = uniform(st) - 0.5;
                }
                yb[t] = uniform(st) - 0.5;
                yr[t] = 0.1 * uniform(st);
            }
            U[T - 1 < NB - 1 ? T : NB - 1] = 12345.0;
            sq_block_bounds(d, s, xc, xg, xb, xr, Yc, Yg, NB, yb, yr, T, U);
            for (size_t t = 0; t < T; t++) {
                long double D2 = 0.0L, gx = 0.0L, gy = 0.0L;
                for (size_t a = 0; a < d; a++) {
                    const long double D = (long double)xc[a] - Yc[a * NB + t];
                    D2 += D * D;
                    gx += (xg[a] - s * D) * (xg[a] - s * D);
                    gy += (Yg[a * NB + t] + s * D) * (Yg[a * NB + t] + s * D);
                }
                const long double ref = (long double)xb + yb[t] - 0.5L * s * D2 +
                                        sqrtl(gx) * xr + sqrtl(gy) * yr[t];
                worst = fmax(worst, (double)fabsl(U[t] - ref));
            }
            if (T < NB && U[T] != 12345.0)
                worst = INFINITY; /* wrote past T */
        }
    check(worst <= 1e-14, "sq_block_bounds: within 1e-14 of the formula (d = 1..3, T = 1..37)",
          worst, 0.0);

    static double P[4], Q[4 * NQ], v[NQ];
    double wg = 0.0;
    int zero_ok = 1;
    for (size_t d = 1; d <= 4; d++)
        for (int trial = 0; trial < 6; trial++) {
            const size_t T = trial == 0 ? NQ : 1 + (size_t)(uniform(st) * (NQ - 1));
            const double cs = 10.0 + 300.0 * uniform(st), u = -2.0 + uniform(st);
            for (size_t a = 0; a < d; a++)
                P[a] = uniform(st) - 0.5;
            for (size_t t = 0; t < T; t++) {
                for (size_t a = 0; a < d; a++)
                    Q[a * NQ + t] = uniform(st) - 0.5;
                v[t] = -3.0 + 2.0 * uniform(st);
                if (t % 11 == 3)
                    v[t] = -INFINITY;
                if (t % 13 == 5)
                    v[t] = NAN;
            }
            /* Added to acc: from 0, and again from the first sum. */
            double acc[4] = {0.0, 0.0, 0.0, 0.0}, acc2[4];
            points_sq_plan_grad(d, P, 1, Q, NQ, 0, T, v, u, cs, acc);
            memcpy(acc2, acc, sizeof acc);
            points_sq_plan_grad(d, P, 1, Q, NQ, 0, T, v, u, cs, acc2);
            long double ref[4] = {0.0L, 0.0L, 0.0L, 0.0L}, scale = 0.0L;
            for (size_t t = 0; t < T; t++) {
                long double c = 0.0L;
                for (size_t a = 0; a < d; a++)
                    c += ((long double)P[a] - Q[a * NQ + t]) * ((long double)P[a] - Q[a * NQ + t]);
                const long double x = u + (long double)v[t] - c * cs;
                if (!(x > -708.0L))
                    continue;
                const long double w = expl(x);
                for (size_t a = 0; a < d; a++) {
                    ref[a] += w * ((long double)P[a] - Q[a * NQ + t]);
                    scale += w * fabsl((long double)P[a] - Q[a * NQ + t]);
                }
            }
            for (size_t a = 0; a < d; a++) {
                wg = fmax(wg, (double)(fabsl(acc[a] - ref[a]) / (scale + 1e-300L)));
                zero_ok &= fabsl(acc2[a] - 2.0L * acc[a]) <= 1e-13L * scale;
            }
        }
    check(wg <= 1e-13 && zero_ok,
          "points_sq_plan_grad: within 1e-13 of sum w|D| (d = 1..4; -inf, NaN terms weigh 0; added to acc)",
          wg, 0.0);
}

/* The l1 batch-cost tiles against the order their contract fixes (every
 * variant must give these sums bit for bit: the generic build and the
 * AVX-512 build of this file both run it), over row counts 1..4, column
 * counts off the vector and panel widths, class counts off the block of 4,
 * ties x = y (sign 0), negative and zero coefficients, and guards around
 * what may be written; the other side in panels, the padding of the last
 * panel filled with NaN (read, never used).  And against long-double sums
 * (the recursive sum's bound). */
static void check_l1_tiles(uint64_t *st)
{
    enum { MR = OTK_T_ROWS, MC = 75, MK = 103, LD = 80, LDK = 110,
           NP = (MC + OTK_T_PANEL - 1) / OTK_T_PANEL };
    static double x[MR * LDK], y[MC * MK], pan[NP * OTK_T_PANEL * MK], a[MR * LD],
        out[(MR + 1) * LD], ref[(MR + 1) * LD], g[(MR + 1) * LDK], gref[(MR + 1) * LDK];
    const size_t Cs[] = {1, 5, 8, 13, 32, 37, 64, 75}, Ks[] = {1, 2, 3, 4, 5, 9, 100, 103};
    int exact = 1, guards = 1;
    double worst = 0.0;
    for (size_t R = 1; R <= MR; R++)
        for (size_t ci = 0; ci < sizeof Cs / sizeof *Cs; ci++)
            for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++) {
                const size_t C = Cs[ci], K = Ks[ki], ps = K * OTK_T_PANEL;
                for (size_t i = 0; i < MR * LDK; i++)
                    x[i] = uniform(st);
                for (size_t i = 0; i < MC * MK; i++)
                    y[i] = uniform(st);
                for (size_t i = 0; i < MR * LD; i++)
                    a[i] = i % 7 == 3 ? 0.0 : uniform(st) - 0.5;
                for (size_t r = 0; r < R; r++) /* ties */
                    for (size_t k = 0; k < K; k += 3)
                        y[((r + k) % C) * MK + k] = x[r * LDK + k];
                for (size_t i = 0; i < NP * OTK_T_PANEL * MK; i++)
                    pan[i] = NAN;
                for (size_t c = 0; c < C; c++)
                    for (size_t k = 0; k < K; k++)
                        pan[(c / OTK_T_PANEL) * ps + k * OTK_T_PANEL + c % OTK_T_PANEL] =
                            y[c * MK + k];
                for (size_t i = 0; i < (MR + 1) * LD; i++)
                    out[i] = ref[i] = i % LD < C && i / LD < R ? uniform(st) : 777.0;
                for (size_t i = 0; i < (MR + 1) * LDK; i++)
                    g[i] = gref[i] = i % LDK < K && i / LDK < R ? uniform(st) : 555.0;
                OTK_KERNEL_TABLE.l1_cost_tile(x, LDK, R, pan, ps, K, C, out, LD);
                OTK_KERNEL_TABLE.l1_grad_tile(x, LDK, R, pan, ps, K, C, a, LD, g, LDK);
                for (size_t r = 0; r < R; r++) {
                    for (size_t c = 0; c < C; c++) {
                        long double l = ref[r * LD + c];
                        for (size_t k = 0; k < K; k++) {
                            ref[r * LD + c] += fabs(x[r * LDK + k] - y[c * MK + k]);
                            l += fabsl((long double)x[r * LDK + k] - y[c * MK + k]);
                        }
                        worst = fmax(worst, (double)(fabsl(out[r * LD + c] - l) / l));
                    }
                    for (size_t k = 0; k < K; k++) {
                        double lanes[8] = {0};
                        long double l = 0.0L, scale = 0.0L;
                        const double xv = x[r * LDK + k];
                        for (size_t c = 0; c < C; c++) {
                            const double yv = y[c * MK + k], w = a[r * LD + c];
                            if (xv > yv)
                                lanes[c % 8] += w;
                            else if (xv < yv)
                                lanes[c % 8] -= w;
                            l += xv > yv ? w : xv < yv ? -w : 0.0;
                            scale += fabs(w);
                        }
                        const double tot = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                                           ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
                        const long double before = gref[r * LDK + k];
                        gref[r * LDK + k] += tot;
                        worst = fmax(worst, (double)(fabsl(g[r * LDK + k] - before - l) /
                                                     (scale + fabsl(before))));
                    }
                }
                for (size_t i = 0; i < (MR + 1) * LD; i++) {
                    exact &= out[i] == ref[i];
                    guards &= i % LD < C && i / LD < R ? 1 : out[i] == 777.0;
                }
                for (size_t i = 0; i < (MR + 1) * LDK; i++) {
                    exact &= g[i] == gref[i];
                    guards &= i % LDK < K && i / LDK < R ? 1 : g[i] == 555.0;
                }
            }
    check(exact && guards,
          "l1_cost_tile, l1_grad_tile: the contract's sums bit for bit, nothing written outside "
          "R x C (K) (R = 1..4, C = 1..75, K = 1..103, ties, NaN padding)", 0.0, 0.0);
    /* A recursive sum of n terms is within (n − 1)·u of its value relative to
     * the sum of magnitudes (u = 2^−53): n <= 104 here. */
    check(worst <= 103 * 0x1p-53,
          "l1_cost_tile, l1_grad_tile: within 103 u of the long-double sums (relative to the "
          "sums of magnitudes)", worst, 0.0);
}

/* dot_rows and axpy_rows (the kernel-domain steps of SinKD) against
 * long-double sums: R = 1..8 rows (any R for axpy_rows), T = 1..75 off the
 * vector widths, nothing written beyond R outputs or T entries.  A sum of n
 * products is within n·u of the sum of magnitudes (u = 2^−53). */
static void check_row_products(uint64_t *st)
{
    enum { MR = 40, MT = 75, LD = 80 };
    static double A[MR * LD], x[LD], y[LD], y0[LD], e[MR];
    double worst = 0.0;
    int guards = 1;
    for (size_t R = 1; R <= MR; R += R < 8 ? 1 : 13)
        for (size_t T = 1; T <= MT; T += T < 20 ? 1 : 11) {
            for (size_t i = 0; i < MR * LD; i++)
                A[i] = uniform(st) - 0.5;
            for (size_t t = 0; t < LD; t++) {
                x[t] = uniform(st) - 0.5;
                y[t] = y0[t] = uniform(st) - 0.5;
            }
            for (size_t r = 0; r < MR; r++)
                e[r] = uniform(st) - 0.5;
            if (R <= OTK_SQ_ROWS) {
                double out[OTK_SQ_ROWS + 1];
                for (size_t r = 0; r <= OTK_SQ_ROWS; r++)
                    out[r] = 99.0;
                OTK_KERNEL_TABLE.dot_rows(A, LD, R, x, T, out);
                for (size_t r = 0; r < R; r++) {
                    long double ref = 0.0L, mag = 0.0L;
                    for (size_t t = 0; t < T; t++) {
                        ref += (long double)A[r * LD + t] * x[t];
                        mag += fabsl((long double)A[r * LD + t] * x[t]);
                    }
                    worst = fmax(worst, (double)(fabsl(out[r] - ref) / mag / (long double)T));
                }
                for (size_t r = R; r <= OTK_SQ_ROWS; r++)
                    guards &= out[r] == 99.0;
            }
            OTK_KERNEL_TABLE.axpy_rows(A, LD, R, e, T, y);
            for (size_t t = 0; t < T; t++) {
                long double ref = y0[t], mag = fabs(y0[t]);
                for (size_t r = 0; r < R; r++) {
                    ref += (long double)e[r] * A[r * LD + t];
                    mag += fabsl((long double)e[r] * A[r * LD + t]);
                }
                worst = fmax(worst, (double)(fabsl(y[t] - ref) / mag / (long double)(R + 1)));
            }
            for (size_t t = T; t < LD; t++)
                guards &= y[t] == y0[t];
        }
    check(worst <= 0x1p-53 && guards,
          "dot_rows, axpy_rows: within n u of long double (n terms, relative to the sum of "
          "magnitudes), nothing written past R outputs / T entries", worst * 0x1p53, 0.0);
}

int main(void)
{
#if defined(__AVX512F__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq")) {
        puts("SKIP: this CPU has no AVX-512F/DQ");
        return 77;
    }
#endif
    enum { N = 1 << 20 };
    double *x = malloc(N * sizeof *x), *out = malloc(N * sizeof *out);
    if (!x || !out)
        return 2;
    uint64_t st = 42;

    /* log: positive normal numbers over the whole exponent range, the
     * breakpoints √½ and √2 and their neighbours, then the special values. */
    for (size_t i = 0; i < N; i++)
        x[i] = exp(1416.0 * uniform(&st) - 708.0);
    const double special[] = {1.0, 0x1.fffffffffffffp-1, 0x1.0000000000001p+0,
                              0.70710678118654746, 0.70710678118654757, 1.4142135623730949,
                              1.4142135623730951, 2.2250738585072014e-308, 1.7976931348623157e308,
                              4e-320, 0.0, -1.0, INFINITY, NAN, 2.0, 0.5};
    const size_t ns = sizeof special / sizeof *special;
    for (size_t i = 0; i < ns; i++)
        x[i] = special[i];
    double worst = 0.0, where = 0.0;
    int exact_special = 1;
    OTK_KERNEL_TABLE.log_shift(x, N, 0.0, out);
    for (size_t i = 0; i < N; i++) {
        const double ref = log(x[i]);
        if (i >= 9 && i < 14) { /* subnormal, zero, negative, inf, NaN: libm's */
            exact_special &= (isnan(ref) && isnan(out[i])) || ref == out[i];
            continue;
        }
        const double err = fabs(out[i] - ref) / (ref != 0.0 ? fabs(ref) : 1.0);
        if (err > worst) {
            worst = err;
            where = x[i];
        }
    }
    check(worst <= 4.5e-16, "log_shift on (0, DBL_MAX]: within 2 ulp of libm", worst, where);
    check(exact_special && out[0] == 0.0, "log_shift: log 1 = 0; subnormal, 0, < 0, inf, NaN as libm",
          0.0, 0.0);
    OTK_KERNEL_TABLE.log_shift(x + ns, 1000, -3.5, out);
    double wshift = 0.0;
    for (size_t i = 0; i < 1000; i++)
        wshift = fmax(wshift, fabs(out[i] - (-3.5 + log(x[ns + i]))) / fabs(-3.5 + log(x[ns + i])));
    check(wshift <= 1e-15, "log_shift: the shift is added", wshift, 0.0);

    /* exp: the documented bounds, 6e-15 on [-40, 40] and 1e-13 on [-708, 709]. */
    worst = exp_worst(x, out, N, -40.0, 40.0, &st, &where);
    check(worst <= 6e-15, "exp_affine on [-40, 40]: relative error <= 6e-15", worst, where);
    worst = exp_worst(x, out, N, -708.0, 709.0, &st, &where);
    check(worst <= 1e-13, "exp_affine on [-708, 709]: relative error <= 1e-13", worst, where);

#if defined(__AVX512F__)
    /* The base-2 exponential of the fused point kernels, over its whole
     * clamped range and near 0, where the largest terms of a sum lie: the
     * accuracy of otk_exp8 (1.3e-15 on [-708, 0], bench/yardstick.c), the
     * polynomial's own error at |f| = 1/2 being most of it. */
    double worst2 = 0.0, where2 = 0.0;
    for (size_t i = 0; i < N; i += 8) {
        double in[8], e2[8];
        for (int l = 0; l < 8; l++)
            in[l] = i < N / 2 ? -1021.0 * uniform(&st) : 2.0 * uniform(&st) - 1.0;
        _mm512_storeu_pd(e2, otk_exp2_8(_mm512_loadu_pd(in)));
        for (int l = 0; l < 8; l++) {
            const double err = fabs(e2[l] - exp2(in[l])) / exp2(in[l]);
            if (err > worst2) {
                worst2 = err;
                where2 = in[l];
            }
        }
    }
    check(worst2 <= 1.5e-15, "otk_exp2_8 on [-1021, 1]: relative error <= 1.5e-15", worst2, where2);
#endif
    check_exp_loops(&st);
    check_strip_rows(&st);
    check_dense_rows(&st);
    check_f32_tile(&st);
    check_sq_rows(&st);
    check_multiscale_kernels(&st);
    check_l1_tiles(&st);
    check_row_products(&st);

    free(x);
    free(out);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
