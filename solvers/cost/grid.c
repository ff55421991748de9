/* Regular grids (otkit/grid.h): separable log-domain soft-min and FFT
 * convolution, selected per ε by the accuracy bound of docs/math.md F.5. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fftw3.h>
#include "internal.h"
#include "otkit/grid.h"

/* Past this c/ε a kernel entry exp(−c/ε) approaches the subnormal range
 * (e^−708), where the shifted-kernel sum would lose terms: the separable path
 * switches to one exponential per term (docs/math.md F.5.1). */
#define SHIFT_MAX_RATIO 600.0

/* Internally every grid has three axes; missing leading axes have one cell. */
typedef struct {
    otk_cost base;
    size_t dim;
    size_t shape[3];  /* leading 1s for dim < 3 */
    double spacing[3];
    otk_ground ground;
    otk_grid_path path;
    double fft_tol;
    double cmax;      /* largest C_ij on the grid (opposite corners) */
    double cmax_ax[3];
    /* Per axis, the cost as a function of the offset d = a − b, stored for
     * d = −(N−1)..N−1 at cs[k][N−1+d]; so is the ε-dependent data. */
    double *cs[3];
    double *ls[3], *es[3];   /* −c/ε and exp(−c/ε) for ε = kern_eps */
    double *lcs[3], *ecs[3]; /* log c − c/ε and c·exp(−c/ε), same ε */
    double kern_eps;
    /* workspace, n doubles each */
    double *w0, *w1, *ebuf, *mbuf, *ibuf, *rbuf;
    /* FFT */
    size_t pad[3], npad, ncplx;
    double *fin, *khat;
    fftw_complex *fout;
    fftw_plan fwd, bwd;
    double khat_eps;
    otk_grid_stats stats;
} grid_cost;

void otk_grid_params_default(otk_grid_params *params)
{
    if (!params)
        return;
    params->path = OTK_GRID_PATH_AUTO;
    params->fft_tol = 1e-6;
}

static double axis_cost(otk_ground ground, double h, size_t d)
{
    double x = h * (double)d;
    switch (ground) {
    case OTK_GROUND_SQEUCLIDEAN:
        return x * x;
    case OTK_GROUND_HALF_SQEUCLIDEAN:
        return 0.5 * x * x;
    default: /* l1 */
        return x;
    }
}

/* (Re)compute the ε-dependent per-axis tables. */
static void grid_set_eps(grid_cost *g, double eps)
{
    if (g->kern_eps == eps)
        return;
    for (int k = 0; k < 3; k++) {
        const size_t len = 2 * g->shape[k] - 1;
        for (size_t t = 0; t < len; t++) {
            const double c = g->cs[k][t];
            g->ls[k][t] = -c / eps;
            g->es[k][t] = exp(-c / eps);
            g->lcs[k][t] = c > 0.0 ? log(c) - c / eps : -INFINITY;
            g->ecs[k][t] = c * exp(-c / eps);
        }
    }
    g->kern_eps = eps;
}

/* Where GCC can make an AVX2+FMA clone chosen at load time, the products
 * below run twice as wide as the SSE2 baseline the library is built for. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define OTK_GRID_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define OTK_GRID_CLONES
#endif

typedef double v4d __attribute__((vector_size(32), aligned(8)));

/* Unaligned loads and stores (macros: a function returning a 32-byte vector
 * would change the ABI of the SSE2 baseline). */
#define LOAD4(v, p) memcpy(&(v), (p), sizeof(v))
#define STORE4(p, v) memcpy((p), &(v), sizeof(v))

/* C[i][j] = Σ_{b<Kd} A(i, b) B(b, j), i < M, j < Nc, with A(i, b) =
 * A[i·ai + b·ab] and B(b, j) = B[b·bb + j] (rows of B contiguous; strides may
 * be negative: a Toeplitz kernel is its own offset table read backwards).
 * Blocks of 4 rows × 12 (8, 4) columns stay in registers over the whole sum.  Each
 * output is summed by one thread in a fixed order. */
OTK_GRID_CLONES
static void gemm_strided(size_t M, size_t Nc, size_t Kd, const double *A, ptrdiff_t ai,
                         ptrdiff_t ab, const double *B, ptrdiff_t bb, double *C, size_t ldc,
                         int threads)
{
    const size_t nblk = (M + 3) / 4;
    OTK_PARALLEL_FOR(otk__parallel_worth(threads, M * Kd, Nc),
                     schedule(static) num_threads(threads),
    for (size_t ib = 0; ib < nblk; ib++) {
        const size_t i0 = ib * 4, mr = M - i0 < 4 ? M - i0 : 4;
        const double *Ar[4];
        for (size_t r = 0; r < 4; r++)
            Ar[r] = A + (ptrdiff_t)(i0 + (r < mr ? r : 0)) * ai;
        size_t j = 0;
        /* 4 × 12: twelve accumulators, and 7 loads per 12 FMAs. */
        for (; j + 12 <= Nc; j += 12) {
            v4d c00 = {0, 0, 0, 0}, c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00,
                c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
            for (size_t b = 0; b < Kd; b++) {
                const double *bp = B + (ptrdiff_t)b * bb + (ptrdiff_t)j;
                v4d b0, b1, b2;
                LOAD4(b0, bp);
                LOAD4(b1, bp + 4);
                LOAD4(b2, bp + 8);
                const ptrdiff_t off = (ptrdiff_t)b * ab;
                const double a0 = Ar[0][off], a1 = Ar[1][off], a2 = Ar[2][off], a3 = Ar[3][off];
                c00 += a0 * b0;
                c01 += a0 * b1;
                c02 += a0 * b2;
                c10 += a1 * b0;
                c11 += a1 * b1;
                c12 += a1 * b2;
                c20 += a2 * b0;
                c21 += a2 * b1;
                c22 += a2 * b2;
                c30 += a3 * b0;
                c31 += a3 * b1;
                c32 += a3 * b2;
            }
            const v4d cc[4][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22},
                                  {c30, c31, c32}};
            for (size_t r = 0; r < mr; r++)
                for (size_t q = 0; q < 3; q++)
                    STORE4(C + (i0 + r) * ldc + j + 4 * q, cc[r][q]);
        }
        for (; j + 8 <= Nc; j += 8) {
            v4d c00 = {0, 0, 0, 0}, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00;
            for (size_t b = 0; b < Kd; b++) {
                const double *bp = B + (ptrdiff_t)b * bb + (ptrdiff_t)j;
                v4d b0, b1;
                LOAD4(b0, bp);
                LOAD4(b1, bp + 4);
                const ptrdiff_t off = (ptrdiff_t)b * ab;
                const double a0 = Ar[0][off], a1 = Ar[1][off], a2 = Ar[2][off], a3 = Ar[3][off];
                c00 += a0 * b0;
                c01 += a0 * b1;
                c10 += a1 * b0;
                c11 += a1 * b1;
                c20 += a2 * b0;
                c21 += a2 * b1;
                c30 += a3 * b0;
                c31 += a3 * b1;
            }
            const v4d cc[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
            for (size_t r = 0; r < mr; r++) {
                STORE4(C + (i0 + r) * ldc + j, cc[r][0]);
                STORE4(C + (i0 + r) * ldc + j + 4, cc[r][1]);
            }
        }
        for (; j + 4 <= Nc; j += 4) {
            v4d c0 = {0, 0, 0, 0}, c1 = c0, c2 = c0, c3 = c0;
            for (size_t b = 0; b < Kd; b++) {
                v4d b0;
                LOAD4(b0, B + (ptrdiff_t)b * bb + (ptrdiff_t)j);
                const ptrdiff_t off = (ptrdiff_t)b * ab;
                c0 += Ar[0][off] * b0;
                c1 += Ar[1][off] * b0;
                c2 += Ar[2][off] * b0;
                c3 += Ar[3][off] * b0;
            }
            const v4d cc[4] = {c0, c1, c2, c3};
            for (size_t r = 0; r < mr; r++)
                STORE4(C + (i0 + r) * ldc + j, cc[r]);
        }
        for (; j < Nc; j++)
            for (size_t r = 0; r < mr; r++) {
                double acc = 0.0;
                for (size_t b = 0; b < Kd; b++)
                    acc += Ar[r][(ptrdiff_t)b * ab] * B[(ptrdiff_t)b * bb + (ptrdiff_t)j];
                C[(i0 + r) * ldc + j] = acc;
            }
    });
}

/* dst[o][a][t] = Σ_b E(a − b) src[o][b][t] for an array viewed as [O][N][T];
 * Ec points at E(0) of the offset table (E is even). */
static void linear_axis(size_t O, size_t N, size_t T, const double *src, double *dst,
                        const double *Ec, int threads)
{
    if (T == 1) {
        gemm_strided(O, N, N, src, (ptrdiff_t)N, 1, Ec, -1, dst, N, threads);
        return;
    }
    for (size_t o = 0; o < O; o++)
        gemm_strided(N, T, N, Ec, 1, -1, src + o * N * T, (ptrdiff_t)T, dst + o * N * T, T,
                     threads);
}

/* One axis of the separable reduction on an array viewed as [O][N][T]:
 *   dst[o][a][t] = log Σ_b exp(src[o][b][t] + L(a − b))
 * with L = ls (log-kernel) and E = exp(L) given on offsets −(N−1)..N−1.
 * `shift` selects the shifted-kernel form M + log Σ_b E(a−b) exp(src − M),
 * M the line maximum (exact while E does not underflow); otherwise every term
 * gets its own exponential.  −∞ inputs (zero weights) are allowed; a line of
 * −∞ gives −∞. */
static void axis_reduce(grid_cost *g, size_t O, size_t N, size_t T, const double *src,
                        double *dst, const double *L, const double *E, int shift, int threads)
{
    const double *Lc = L + (N - 1);
    double *e = g->ebuf, *M = g->mbuf;
    const int par = otk__parallel_worth(threads, O * N * T, N);
    if (shift) {
        OTK_PARALLEL_FOR(par,
                         num_threads(threads),
        for (size_t o = 0; o < O; o++) {
            double *Mo = M + o * T;
            for (size_t t = 0; t < T; t++)
                Mo[t] = -INFINITY;
            for (size_t b = 0; b < N; b++) {
                const double *s = src + (o * N + b) * T;
                for (size_t t = 0; t < T; t++)
                    Mo[t] = s[t] > Mo[t] ? s[t] : Mo[t];
            }
            for (size_t b = 0; b < N; b++) {
                const double *s = src + (o * N + b) * T;
                double *eo = e + (o * N + b) * T;
                for (size_t t = 0; t < T; t++)
                    eo[t] = Mo[t] == -INFINITY ? 0.0 : exp(s[t] - Mo[t]);
            }
        });
        linear_axis(O, N, T, e, dst, E + (N - 1), threads);
        OTK_PARALLEL_FOR(par,
                         num_threads(threads),
        for (size_t o = 0; o < O; o++)
            for (size_t a = 0; a < N; a++) {
                double *d = dst + (o * N + a) * T;
                const double *Mo = M + o * T;
                for (size_t t = 0; t < T; t++)
                    d[t] = Mo[t] + log(d[t]);
            });
        return;
    }
    /* One exponential per term: max pass into dst, sum into ebuf. */
    OTK_PARALLEL_FOR(par,
                     collapse(2) num_threads(threads),
    for (size_t o = 0; o < O; o++)
        for (size_t a = 0; a < N; a++) {
            double *restrict d = dst + (o * N + a) * T;
            double *restrict S = e + (o * N + a) * T;
            for (size_t t = 0; t < T; t++) {
                d[t] = -INFINITY;
                S[t] = 0.0;
            }
            for (size_t b = 0; b < N; b++) {
                const double lab = Lc[(ptrdiff_t)a - (ptrdiff_t)b];
                const double *s = src + (o * N + b) * T;
                for (size_t t = 0; t < T; t++) {
                    const double v = s[t] + lab;
                    d[t] = v > d[t] ? v : d[t];
                }
            }
            for (size_t b = 0; b < N; b++) {
                const double lab = Lc[(ptrdiff_t)a - (ptrdiff_t)b];
                const double *s = src + (o * N + b) * T;
                for (size_t t = 0; t < T; t++)
                    if (d[t] > -INFINITY)
                        S[t] += exp(s[t] + lab - d[t]);
            }
            for (size_t t = 0; t < T; t++)
                if (d[t] > -INFINITY)
                    d[t] += log(S[t]);
        });
}

/* out_i = log Σ_j exp(in_j + Σ_k L_k(i_k − j_k)), axis by axis.  On axis
 * `special` (or none when −1) the cost-weighted kernel (lcs, ecs) replaces
 * (ls, es).  in and out may not alias the workspace.
 *
 * Three exact regimes, by how small the kernel entries get (docs/math.md F.5.1):
 *   C_max/ε <= 600: one global shift M = max in, then the D linear kernel
 *     passes on exp(in − M) and one log: the sum is at least e^{−C_max/ε}
 *     (the maximal term times the smallest kernel entry), so whatever
 *     underflows (< e^{−708}) is below its rounding error;
 *   c_k,max/ε <= 600 on an axis: the same per 1-D line, with logs between
 *     the axes;
 *   otherwise one exponential per term. */
static void separable_apply(grid_cost *g, const double *in, double *out, int special,
                            double eps, int threads)
{
    const size_t n = g->base.n;
    /* The axes that do anything: an axis of one cell has L = −c(0)/ε = 0,
     * unless it carries the cost weight (c(0) = 0: the sum is 0). */
    int axes[3], na = 0;
    for (int k = 0; k < 3; k++)
        if (g->shape[k] > 1 || k == special)
            axes[na++] = k;
    if (na == 0) {
        memcpy(out, in, n * sizeof *out);
        return;
    }
    if (g->cmax / eps <= SHIFT_MAX_RATIO) {
        double M = -INFINITY;
        for (size_t i = 0; i < n; i++)
            M = in[i] > M ? in[i] : M;
        if (M == -INFINITY) {
            for (size_t i = 0; i < n; i++)
                out[i] = -INFINITY;
            return;
        }
        double *src = g->w0;
        /* The kernels' vectorised exp, which clamps its argument at −708;
         * those terms (zero weights among them) are set to exactly 0 here:
         * they are below the sum's e^{−C_max/ε} by far more than the rounding
         * error (SHIFT_MAX_RATIO), and e^{−708} times the kernel entries
         * would be subnormal numbers, which make the products many times
         * slower. */
        const otk_kernels *kern = g->base.kern;
        OTK_PARALLEL_FOR(otk__parallel_worth(threads, n, 4),
                         num_threads(threads),
        for (size_t i0 = 0; i0 < n; i0 += OTK_TILE) {
            const size_t T = n - i0 < OTK_TILE ? n - i0 : OTK_TILE;
            kern->exp_affine(in + i0, T, 1.0, M, src + i0);
            for (size_t t = 0; t < T; t++)
                src[i0 + t] = in[i0 + t] - M < -700.0 ? 0.0 : src[i0 + t];
        });
        for (int q = 0; q < na; q++) {
            const int k = axes[q];
            const size_t N = g->shape[k];
            size_t T = 1;
            for (int l = k + 1; l < 3; l++)
                T *= g->shape[l];
            double *dst = src == g->w0 ? g->w1 : g->w0;
            const double *E = k == special ? g->ecs[k] : g->es[k];
            linear_axis(n / (N * T), N, T, src, dst, E + (N - 1), threads);
            src = dst;
        }
        OTK_PARALLEL_FOR(otk__parallel_worth(threads, n, 4),
                         num_threads(threads),
        for (size_t i0 = 0; i0 < n; i0 += OTK_TILE) {
            const size_t T = n - i0 < OTK_TILE ? n - i0 : OTK_TILE;
            kern->log_shift(src + i0, T, M, out + i0);
        });
        return;
    }
    const double *src = in;
    for (int q = 0; q < na; q++) {
        const int k = axes[q];
        const size_t N = g->shape[k];
        size_t T = 1;
        for (int l = k + 1; l < 3; l++)
            T *= g->shape[l];
        const size_t O = n / (N * T);
        double *dst = q == na - 1 ? out : (src == g->w0 ? g->w1 : g->w0);
        const double *L = k == special ? g->lcs[k] : g->ls[k];
        const double *E = k == special ? g->ecs[k] : g->es[k];
        const int shift = g->cmax_ax[k] / eps <= SHIFT_MAX_RATIO;
        axis_reduce(g, O, N, T, src, dst, L, E, shift, threads);
        src = dst;
    }
}

/* ---------------------------------------------------------------- FFT */

static double fft_bound(const grid_cost *g, double eps)
{
    return DBL_EPSILON * sqrt((double)g->npad) * exp(g->cmax / eps);
}

static otk_grid_path choose(const grid_cost *g, double eps)
{
    if (g->path == OTK_GRID_PATH_FFT)
        return OTK_GRID_PATH_FFT;
    if (g->path == OTK_GRID_PATH_SEPARABLE || !g->fwd)
        return OTK_GRID_PATH_SEPARABLE;
    return fft_bound(g, eps) <= g->fft_tol ? OTK_GRID_PATH_FFT : OTK_GRID_PATH_SEPARABLE;
}

/* Offset of padded index p on axis k as a kernel offset, or −1 if the
 * kernel is zero there (outside −(N−1)..N−1, wrapped circularly). */
static ptrdiff_t pad_offset(const grid_cost *g, int k, size_t p)
{
    const size_t N = g->shape[k], P = g->pad[k];
    if (p < N)
        return (ptrdiff_t)p;
    if (p >= P - (N - 1))
        return (ptrdiff_t)(P - p);
    return -1;
}

static void fft_set_kernel(grid_cost *g, double eps)
{
    if (g->khat_eps == eps)
        return;
    grid_set_eps(g, eps);
    size_t idx = 0;
    for (size_t p0 = 0; p0 < g->pad[0]; p0++) {
        ptrdiff_t d0 = pad_offset(g, 0, p0);
        for (size_t p1 = 0; p1 < g->pad[1]; p1++) {
            ptrdiff_t d1 = pad_offset(g, 1, p1);
            for (size_t p2 = 0; p2 < g->pad[2]; p2++, idx++) {
                ptrdiff_t d2 = pad_offset(g, 2, p2);
                g->fin[idx] = (d0 < 0 || d1 < 0 || d2 < 0)
                                  ? 0.0
                                  : g->es[0][g->shape[0] - 1 + (size_t)d0] *
                                        g->es[1][g->shape[1] - 1 + (size_t)d1] *
                                        g->es[2][g->shape[2] - 1 + (size_t)d2];
            }
        }
    }
    fftw_execute_dft_r2c(g->fwd, g->fin, g->fout);
    /* The kernel is even (circularly), so its transform is real; the
     * normalisation of the unnormalised inverse transform goes in here. */
    const double scale = 1.0 / (double)g->npad;
    for (size_t c = 0; c < g->ncplx; c++)
        g->khat[c] = creal(g->fout[c]) * scale;
    g->khat_eps = eps;
    g->stats.kernel_transforms++;
}

static void fft_softmin(grid_cost *g, double eps, const double *h, double *out)
{
    const size_t n = g->base.n;
    fft_set_kernel(g, eps);
    double M = -INFINITY;
    for (size_t i = 0; i < n; i++)
        M = h[i] > M ? h[i] : M;
    if (M == -INFINITY) {
        for (size_t i = 0; i < n; i++)
            out[i] = INFINITY;
        return;
    }
    memset(g->fin, 0, g->npad * sizeof *g->fin);
    size_t i = 0;
    for (size_t i0 = 0; i0 < g->shape[0]; i0++)
        for (size_t i1 = 0; i1 < g->shape[1]; i1++) {
            double *row = g->fin + (i0 * g->pad[1] + i1) * g->pad[2];
            for (size_t i2 = 0; i2 < g->shape[2]; i2++, i++)
                row[i2] = exp(h[i] - M);
        }
    fftw_execute_dft_r2c(g->fwd, g->fin, g->fout);
    for (size_t c = 0; c < g->ncplx; c++)
        g->fout[c] *= g->khat[c];
    fftw_execute_dft_c2r(g->bwd, g->fout, g->fin);
    i = 0;
    for (size_t i0 = 0; i0 < g->shape[0]; i0++)
        for (size_t i1 = 0; i1 < g->shape[1]; i1++) {
            const double *row = g->fin + (i0 * g->pad[1] + i1) * g->pad[2];
            /* Outside its accuracy range (forced FFT) a sum can come out
             * <= 0: log gives NaN or +∞ and the solver reports ENUMERIC. */
            for (size_t i2 = 0; i2 < g->shape[2]; i2++, i++)
                out[i] = -eps * (M + log(row[i2]));
        }
}

/* ---------------------------------------------------------------- ops */

static void grid_softmin(const otk_cost *c, int axis, double eps, const double *h, double *out,
                         int threads)
{
    grid_cost *g = (grid_cost *)(uintptr_t)c; /* workspace and counters: see grid.h */
    (void)axis; /* C is symmetric */
    const otk_grid_path p = choose(g, eps);
    g->stats.softmin_calls++;
    g->stats.last_path = p;
    if (p == OTK_GRID_PATH_FFT) {
        g->stats.softmin_fft++;
        fft_softmin(g, eps, h, out);
        return;
    }
    g->stats.softmin_separable++;
    grid_set_eps(g, eps);
    separable_apply(g, h, out, -1, eps, threads);
    for (size_t i = 0; i < c->n; i++)
        out[i] *= -eps;
}

static void grid_plan_reduce(const otk_cost *c, int axis, double eps, const double *u,
                             const double *v, otk_reduce what, size_t k, const double *Y,
                             double *out, int threads)
{
    grid_cost *g = (grid_cost *)(uintptr_t)c;
    const size_t n = c->n;
    const double *outer = axis == 0 ? u : v;
    const double *inner = axis == 0 ? v : u;
    g->stats.reduce_calls++;
    grid_set_eps(g, eps);
    switch (what) {
    case OTK_REDUCE_MASS:
        separable_apply(g, inner, g->rbuf, -1, eps, threads);
        for (size_t i = 0; i < n; i++)
            out[i] = exp(outer[i] + g->rbuf[i]);
        return;
    case OTK_REDUCE_COST:
        /* C = Σ_k c_k: one reduction per axis with c_k·K_k on that axis. */
        for (size_t i = 0; i < n; i++)
            out[i] = 0.0;
        for (int ax = 0; ax < 3; ax++) {
            if (g->shape[ax] == 1)
                continue;
            separable_apply(g, inner, g->rbuf, ax, eps, threads);
            for (size_t i = 0; i < n; i++)
                out[i] += exp(outer[i] + g->rbuf[i]);
        }
        return;
    case OTK_REDUCE_APPLY:
        /* Signed Y: the positive and negative parts separately. */
        for (size_t q = 0; q < k; q++) {
            for (int sgn = 1; sgn >= -1; sgn -= 2) {
                for (size_t j = 0; j < n; j++) {
                    const double y = sgn * Y[j * k + q];
                    g->ibuf[j] = y > 0.0 ? inner[j] + log(y) : -INFINITY;
                }
                separable_apply(g, g->ibuf, g->rbuf, -1, eps, threads);
                for (size_t i = 0; i < n; i++) {
                    const double t = exp(outer[i] + g->rbuf[i]);
                    out[i * k + q] = sgn > 0 ? t : out[i * k + q] - t;
                }
            }
        }
        return;
    case OTK_REDUCE_GRAD:
        /* Cell centres are not free variables: no gradient (internal.h). */
        for (size_t i = 0; i < n * k; i++)
            out[i] = NAN;
        return;
    }
}

static double grid_entry(const otk_cost *c, size_t i, size_t j)
{
    const grid_cost *g = (const grid_cost *)c;
    double s = 0.0;
    for (int k = 2; k >= 0; k--) {
        const size_t N = g->shape[k];
        const size_t a = i % N, b = j % N;
        i /= N;
        j /= N;
        s += g->cs[k][N - 1 + a - b];
    }
    return s;
}

static void grid_destroy(otk_cost *c)
{
    grid_cost *g = (grid_cost *)c;
    for (int k = 0; k < 3; k++) {
        free(g->cs[k]);
        free(g->ls[k]);
        free(g->es[k]);
        free(g->lcs[k]);
        free(g->ecs[k]);
    }
    free(g->w0);
    free(g->w1);
    free(g->ebuf);
    free(g->mbuf);
    free(g->ibuf);
    free(g->rbuf);
    if (g->fwd)
        fftw_destroy_plan(g->fwd);
    if (g->bwd)
        fftw_destroy_plan(g->bwd);
    fftw_free(g->fin);
    fftw_free(g->fout);
    free(g->khat);
    free(g);
}

static const struct otk_cost_ops grid_ops = {
    "grid", grid_softmin, grid_plan_reduce, grid_entry, grid_destroy, NULL,
    NULL, NULL, NULL, /* single-level */
};

/* The smallest 2^a 3^b 5^c 7^d >= x: sizes FFTW handles fastest. */
static size_t good_fft_size(size_t x)
{
    for (size_t s = x;; s++) {
        size_t r = s;
        const size_t primes[] = {2, 3, 5, 7};
        for (int p = 0; p < 4; p++)
            while (r % primes[p] == 0)
                r /= primes[p];
        if (r == 1)
            return s;
    }
}

static otk_status make_fft(grid_cost *g)
{
    int dims[3];
    size_t npad = 1, ncplx = 1;
    const int first = 3 - (int)g->dim;
    for (int k = 0; k < 3; k++) {
        g->pad[k] = g->shape[k] == 1 ? 1 : good_fft_size(2 * g->shape[k] - 1);
        if (g->pad[k] > (size_t)INT32_MAX || npad > SIZE_MAX / 2 / g->pad[k])
            return otk__fail(OTK_ESIZE, "otk_cost_grid: the padded FFT grid is too large");
        npad *= g->pad[k];
        ncplx *= k == 2 ? g->pad[k] / 2 + 1 : g->pad[k];
    }
    for (int k = first; k < 3; k++)
        dims[k - first] = (int)g->pad[k];
    g->npad = npad;
    g->ncplx = ncplx;
    g->fin = fftw_malloc(npad * sizeof *g->fin);
    g->fout = fftw_malloc(ncplx * sizeof *g->fout);
    g->khat = malloc(ncplx * sizeof *g->khat);
    if (!g->fin || !g->fout || !g->khat)
        return otk__fail(OTK_ENOMEM, "otk_cost_grid: out of memory for the %zu-point FFT grid",
                         npad);
    /* FFTW_ESTIMATE leaves the arrays alone and uses any imported wisdom. */
    g->fwd = fftw_plan_dft_r2c((int)g->dim, dims, g->fin, g->fout, FFTW_ESTIMATE);
    if (g->fwd)
        g->stats.fft_plans++;
    g->bwd = fftw_plan_dft_c2r((int)g->dim, dims, g->fout, g->fin, FFTW_ESTIMATE);
    if (g->bwd)
        g->stats.fft_plans++;
    if (!g->fwd || !g->bwd)
        return otk__fail(OTK_EUNSUPPORTED, "otk_cost_grid: FFTW could not plan a %zu-point "
                                           "transform", npad);
    return OTK_SUCCESS;
}

otk_status otk_cost_grid(otk_cost **out, size_t dim, const size_t *shape, const double *spacing,
                         otk_ground ground, const otk_grid_params *params)
{
    otk_grid_params par;
    if (!out)
        return otk__fail(OTK_ENULL, "otk_cost_grid: out is NULL");
    *out = NULL;
    if (!shape)
        return otk__fail(OTK_ENULL, "otk_cost_grid: shape is NULL");
    if (dim < 1 || dim > 3)
        return otk__fail(OTK_EPARAM, "otk_cost_grid: dim = %zu must be 1, 2 or 3", dim);
    otk_grid_params_default(&par);
    if (params)
        par = *params;
    if ((unsigned)par.path > OTK_GRID_PATH_FFT)
        return otk__fail(OTK_EPARAM, "otk_cost_grid: params.path = %d is not a grid path",
                         (int)par.path);
    if (!(par.fft_tol > 0.0 && par.fft_tol < 1.0))
        return otk__fail(OTK_EPARAM, "otk_cost_grid: params.fft_tol = %g must be in (0, 1)",
                         par.fft_tol);
    if (ground != OTK_GROUND_SQEUCLIDEAN && ground != OTK_GROUND_HALF_SQEUCLIDEAN &&
        ground != OTK_GROUND_L1)
        return otk__fail(OTK_EPARAM,
                         "otk_cost_grid: ground cost %s does not separate over the axes "
                         "(use sqeuclidean, half-sqeuclidean or l1)",
                         otk_ground_name(ground) ? otk_ground_name(ground) : "(invalid)");
    size_t n = 1;
    for (size_t k = 0; k < dim; k++) {
        if (shape[k] == 0)
            return otk__fail(OTK_ESIZE, "otk_cost_grid: shape[%zu] = 0: every axis needs at "
                                        "least one cell", k);
        if (shape[k] > SIZE_MAX / 8 / n)
            return otk__fail(OTK_ESIZE, "otk_cost_grid: shape[%zu] = %zu: the grid has too many "
                                        "cells", k, shape[k]);
        n *= shape[k];
    }
    if (spacing)
        for (size_t k = 0; k < dim; k++)
            if (!(spacing[k] > 0.0 && isfinite(spacing[k])))
                return otk__fail(OTK_EPARAM,
                                 "otk_cost_grid: spacing[%zu] = %g must be finite and > 0", k,
                                 spacing[k]);

    grid_cost *g = calloc(1, sizeof *g);
    if (!g)
        return otk__fail(OTK_ENOMEM, "otk_cost_grid: out of memory");
    otk__cost_init(&g->base, &grid_ops, n, n, otk_ground_name(ground));
    g->dim = dim;
    g->ground = ground;
    g->path = par.path;
    g->fft_tol = par.fft_tol;
    g->kern_eps = NAN;
    g->khat_eps = NAN;
    g->stats.path = par.path;
    g->stats.last_path = OTK_GRID_PATH_AUTO;
    double diam2 = 0.0, diam1 = 0.0;
    int fail = 0;
    for (int k = 0; k < 3; k++) {
        const int src = k - (3 - (int)dim);
        g->shape[k] = src >= 0 ? shape[src] : 1;
        g->spacing[k] = src >= 0 && spacing ? spacing[src] : 1.0;
        const size_t N = g->shape[k], len = 2 * N - 1;
        g->cs[k] = malloc(len * sizeof(double));
        g->ls[k] = malloc(len * sizeof(double));
        g->es[k] = malloc(len * sizeof(double));
        g->lcs[k] = malloc(len * sizeof(double));
        g->ecs[k] = malloc(len * sizeof(double));
        if (!g->cs[k] || !g->ls[k] || !g->es[k] || !g->lcs[k] || !g->ecs[k]) {
            fail = 1;
            continue;
        }
        for (size_t t = 0; t < len; t++) {
            const size_t d = t >= N - 1 ? t - (N - 1) : (N - 1) - t;
            g->cs[k][t] = axis_cost(ground, g->spacing[k], d);
        }
        g->cmax_ax[k] = g->cs[k][len - 1];
        g->cmax += g->cmax_ax[k];
        const double w = g->spacing[k] * (double)(N - 1);
        diam2 += w * w;
        diam1 += w;
    }
    g->w0 = malloc(n * sizeof(double));
    g->w1 = malloc(n * sizeof(double));
    g->ebuf = malloc(n * sizeof(double));
    g->mbuf = malloc(n * sizeof(double));
    g->ibuf = malloc(n * sizeof(double));
    g->rbuf = malloc(n * sizeof(double));
    if (fail || !g->w0 || !g->w1 || !g->ebuf || !g->mbuf || !g->ibuf || !g->rbuf) {
        grid_destroy(&g->base);
        return otk__fail(OTK_ENOMEM, "otk_cost_grid: out of memory for %zu cells", n);
    }
    g->base.diameter = ground == OTK_GROUND_L1 ? diam1 : sqrt(diam2);
    g->base.exponent = otk_ground_exponent(ground, 0.0);
    if (par.path != OTK_GRID_PATH_SEPARABLE) {
        otk_status st = make_fft(g);
        if (st != OTK_SUCCESS) {
            grid_destroy(&g->base);
            return st;
        }
    } else {
        g->npad = 1;
        for (int k = 0; k < 3; k++)
            g->npad *= g->shape[k] == 1 ? 1 : good_fft_size(2 * g->shape[k] - 1);
    }
    *out = &g->base;
    return OTK_SUCCESS;
}

static otk_status as_grid(const otk_cost *cost, const char *fn, const grid_cost **g)
{
    if (!cost)
        return otk__fail(OTK_ENULL, "%s: cost is NULL", fn);
    if (cost->ops != &grid_ops)
        return otk__fail(OTK_EUNSUPPORTED, "%s: the cost is of kind \"%s\", not a grid", fn,
                         cost->ops->kind);
    *g = (const grid_cost *)cost;
    return OTK_SUCCESS;
}

otk_status otk_grid_check_shape(const otk_cost *cost, size_t dim, const size_t *shape)
{
    const grid_cost *g = NULL;
    otk_status st = as_grid(cost, "otk_grid_check_shape", &g);
    if (st)
        return st;
    if (!shape)
        return otk__fail(OTK_ENULL, "otk_grid_check_shape: shape is NULL");
    if (dim != g->dim)
        return otk__fail(OTK_ESHAPE, "shape has %zu axes, the grid has %zu", dim, g->dim);
    for (size_t k = 0; k < dim; k++)
        if (shape[k] != g->shape[3 - dim + k])
            return otk__fail(OTK_ESHAPE, "shape[%zu] = %zu, the grid has %zu", k, shape[k],
                             g->shape[3 - dim + k]);
    return OTK_SUCCESS;
}

otk_status otk_grid_select_path(const otk_cost *cost, double eps, otk_grid_path *path)
{
    const grid_cost *g = NULL;
    otk_status st = as_grid(cost, "otk_grid_select_path", &g);
    if (st)
        return st;
    if (!path)
        return otk__fail(OTK_ENULL, "otk_grid_select_path: path is NULL");
    if (!(eps > 0.0 && isfinite(eps)))
        return otk__fail(OTK_EPARAM, "otk_grid_select_path: eps = %g must be finite and > 0",
                         eps);
    *path = choose(g, eps);
    return OTK_SUCCESS;
}

double otk_grid_fft_error_bound(const otk_cost *cost, double eps)
{
    if (!cost || cost->ops != &grid_ops || !(eps > 0.0))
        return NAN;
    return fft_bound((const grid_cost *)cost, eps);
}

otk_status otk_grid_get_stats(const otk_cost *cost, otk_grid_stats *stats)
{
    const grid_cost *g = NULL;
    otk_status st = as_grid(cost, "otk_grid_get_stats", &g);
    if (st)
        return st;
    if (!stats)
        return otk__fail(OTK_ENULL, "otk_grid_get_stats: stats is NULL");
    *stats = g->stats;
    return OTK_SUCCESS;
}

otk_status otk_grid_softmin(const otk_cost *cost, double eps, const double *h, double *out,
                            int threads)
{
    const grid_cost *g = NULL;
    otk_status st = as_grid(cost, "otk_grid_softmin", &g);
    if (st)
        return st;
    if (!h || !out)
        return otk__fail(OTK_ENULL, "otk_grid_softmin: %s is NULL", !h ? "h" : "out");
    if (!(eps > 0.0 && isfinite(eps)))
        return otk__fail(OTK_EPARAM, "otk_grid_softmin: eps = %g must be finite and > 0", eps);
    int any = 0;
    for (size_t i = 0; i < cost->n; i++) {
        if (isnan(h[i]) || h[i] == INFINITY)
            return otk__fail(OTK_ENONFINITE, "otk_grid_softmin: h[%zu] = %g (only finite "
                                             "values and -inf are allowed)", i, h[i]);
        any |= h[i] > -INFINITY;
    }
    if (!any)
        return otk__fail(OTK_EZEROMASS, "otk_grid_softmin: every h[i] is -inf");
    grid_softmin(cost, 0, eps, h, out, otk__threads(threads));
    return OTK_SUCCESS;
}
