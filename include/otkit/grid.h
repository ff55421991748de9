/*
 * otkit/grid.h — regular grids in 1, 2 and 3 dimensions as a cost kind
 * (docs/math.md F.2, F.4, F.5 and decision 8).
 *
 * STABILITY: stable (a cost kind): the grid costs and their parameters change
 * only with a major version; the reported statistics (otk_grid_stats) may
 * gain fields.
 *
 * A grid of shape N_0 × … × N_{D−1} (D = 1, 2, 3) with spacing h_k on axis k
 * holds n = N_0⋯N_{D−1} cells; cell i with multi-index (i_0, …, i_{D−1}) sits
 * at x_i = (i_0 h_0, …, i_{D−1} h_{D−1}).  Cells are numbered in row-major
 * ("C") order, the last axis fastest: i = (i_0 N_1 + i_1) N_2 + i_2 in 3-D —
 * the order of an image stored row by row.  Source and target are the same
 * grid (n = m); a histogram on the grid is an array of n weights.
 *
 * The ground costs are those of otkit/cost.h that separate over the axes:
 *   OTK_GROUND_SQEUCLIDEAN       C_ij = Σ_k (x_ik − x_jk)²
 *   OTK_GROUND_HALF_SQEUCLIDEAN  C_ij = ½ Σ_k (x_ik − x_jk)²
 *   OTK_GROUND_L1                C_ij = Σ_k |x_ik − x_jk|
 * Because C_ij is a sum of one term per axis, the soft-min
 *   −ε log Σ_j exp(h_j − C_ij/ε)
 * is D nested 1-D log-sum-exps (one per axis, O(n·N_k) work each) instead of
 * one n×n reduction, and the n×n matrix is never formed.  POT's and Solomon's
 * convolutional grid (linspace(0, 1, N), kernel exp(−(s_i−s_j)²/reg)) is the
 * sqeuclidean grid with spacing 1/(N−1) and ε = reg.
 *
 * Two soft-min paths:
 *
 *   SEPARABLE  exact at every ε, in three regimes chosen by how small the
 *              kernel entries K = exp(−c/ε) get (docs/math.md F.5.1):
 *              - C_max/ε <= 600: M = max h is taken out once, the D axes are
 *                applied as small dense products (K_k, N_k×N_k) to
 *                exp(h − M), and one log ends it.  Every sum is at least
 *                e^{−C_max/ε} times its largest term, so nothing that
 *                underflows (< e^{−708}) matters: exact to rounding;
 *              - c_k,max/ε <= 600 on an axis: the same per 1-D line of that
 *                axis (its own maximum), with a log between axes;
 *              - beyond: one exponential per term (n·N_k per axis, slower).
 *              Agrees with the dense point-cloud cost on the same points to
 *              rounding (tests: 1e-12).
 *
 *   FFT        Gaussian (or, for l1, Laplace) convolution of exp(h − max h)
 *              by a D-dimensional real-to-complex FFT of the grid zero-padded
 *              to at least 2N_k − 1 per axis (FFTW).  O(n log n) but with an
 *              ABSOLUTE error of about machine epsilon times the largest term
 *              (docs/math.md F.5.3): the relative error of a kernel sum can grow
 *              like u·e^{C_max/ε}, where C_max is the largest cost on the grid.
 *
 * Selection (OTK_GRID_PATH_AUTO), docs/math.md F.5 made quantitative: the FFT
 * path is used at a given ε only when its predicted relative error
 *
 *     δ_fft(ε) = 2⁻⁵² · √(n_pad) · e^{C_max/ε}        (n_pad = padded size)
 *
 * is at most params.fft_tol (default 1e-6); otherwise the separable path.
 * Every kernel sum on the FFT path is then accurate to δ_fft relative, so each
 * soft-min value is within ε·δ_fft·(1 + small) of the exact one.  With the
 * default tolerance this means C_max/ε below about 20 (10² cells) to 15 (10⁶
 * cells), inside the region where docs/math.md F.5 says FFT convolution is
 * trustworthy (< ~30).  The bound was checked numerically (tests/test_grid.c
 * probes ε over four decades on 1-D/2-D/3-D grids, with random and
 * adversarial one-hot inputs; `bench/bench_grid accuracy` prints the figures:
 * on a 64×64 grid the worst measured error is 2–3 orders of magnitude below
 * the bound, and forcing FFT where AUTO refuses loses up to all digits).  The choice is made per
 * call, so an ε-schedule may run its first (large-ε) steps on the FFT path and
 * the rest separably; otk_grid_select_path() tells which path an ε gets and
 * otk_grid_stats() counts the calls of each.
 *
 * FFTW: the plans (one r2c, one c2r: one forward/backward pair per cost) are
 * made once, in otk_cost_grid(), with FFTW_ESTIMATE; any wisdom the caller
 * imported beforehand (fftw_import_wisdom_from_filename) is used by the
 * planner; otkit never forgets or exports wisdom.  Every soft-min reuses them;
 * the kernel's transform is recomputed (one forward FFT, no new plan) only
 * when ε changes.  A cost made with OTK_GRID_PATH_SEPARABLE creates no plan.
 *
 * OWNERSHIP and THREAD SAFETY (differs from the other kinds): a grid cost owns
 * its workspace (O(n) doubles, O(n_pad) more with FFT plans), so its
 * operations must not run concurrently: use one grid cost per thread (a solver
 * and the divergence objects using it in one thread are fine; the threads
 * parameter of a call parallelises inside each soft-min).  otk_cost_grid()
 * calls the FFTW planner, which is not thread-safe: construct grid costs from
 * one thread at a time, or call fftw_make_planner_thread_safe() first.
 * otk_cost_free() destroys the plans.
 */
#ifndef OTKIT_GRID_H
#define OTKIT_GRID_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Soft-min path of a grid cost. */
#define OTK_GRID_PATH_MAP(X)                                                                 \
    X(OTK_GRID_PATH_AUTO, 0, "auto")           /* FFT where δ_fft(ε) <= fft_tol, else separable */ \
    X(OTK_GRID_PATH_SEPARABLE, 1, "separable") /* exact log-domain, always */                 \
    X(OTK_GRID_PATH_FFT, 2, "fft")             /* always FFT, even where inaccurate (testing) */
typedef enum { OTK_GRID_PATH_MAP(OTK_ENUM_MEMBER_) } otk_grid_path;

/* Name table (otkit/names.h): "auto", "separable", "fft"; NULL for an invalid
 * value; the parser fails with OTK_ENULL or OTK_EPARAM. */
OTK_EXPORT const char *otk_grid_path_name(otk_grid_path path);
OTK_EXPORT otk_status otk_grid_path_from_name(const char *name, otk_grid_path *path);

typedef struct {
    otk_grid_path path; /* default OTK_GRID_PATH_AUTO */
    double fft_tol;     /* relative accuracy the AUTO selector demands of the
                           FFT path, in (0, 1); default 1e-6 */
} otk_grid_params;

OTK_EXPORT void otk_grid_params_default(otk_grid_params *params);

/* A grid cost.
 *   out      output: the cost (NULL on failure).
 *   dim      input: D = 1, 2 or 3.
 *   shape    input: D cell counts N_k >= 1, product n.
 *   spacing  input: D cell sizes h_k > 0 (finite), in the units of the
 *            coordinates; NULL means 1 on every axis.
 *   ground   input: OTK_GROUND_SQEUCLIDEAN, _HALF_SQEUCLIDEAN or _L1.
 *   params   input: NULL = defaults.
 * The cost's diameter is the diagonal of the grid's bounding box (Euclidean,
 * or its l1 length for the l1 ground cost) and its exponent that of the ground
 * cost — the choices otk_cost_points() makes for the cell centres, so solvers
 * run the same ε-schedule on both.
 * Errors: OTK_ENULL; OTK_EPARAM (dim not 1..3, a ground cost that does not
 * separate, path or fft_tol out of range); OTK_ESIZE (an axis of 0 cells, or
 * n too large), OTK_EPARAM also for spacing[k] <= 0 or not finite, OTK_ENOMEM,
 * OTK_EUNSUPPORTED (FFTW could not make a plan).  Each message names the
 * argument and axis ("shape[1] = 0"). */
OTK_EXPORT otk_status otk_cost_grid(otk_cost **out, size_t dim, const size_t *shape,
                                    const double *spacing, otk_ground ground,
                                    const otk_grid_params *params);

/* Whether `cost` is a grid of exactly this shape.
 * Returns OTK_SUCCESS, OTK_ENULL, OTK_EUNSUPPORTED (not a grid cost) or
 * OTK_ESHAPE with a message naming the first axis that differs.  Used to check
 * that images read from files match before solving. */
OTK_EXPORT otk_status otk_grid_check_shape(const otk_cost *cost, size_t dim, const size_t *shape);

/* The path the cost uses for a soft-min at `eps` (> 0): SEPARABLE or FFT,
 * never AUTO.  Errors: OTK_ENULL, OTK_EUNSUPPORTED (not a grid), OTK_EPARAM. */
OTK_EXPORT otk_status otk_grid_select_path(const otk_cost *cost, double eps,
                                           otk_grid_path *path);

/* δ_fft(eps), the predicted relative error of the FFT path's kernel sums
 * (see above); NAN for a non-grid cost or eps <= 0. */
OTK_EXPORT double otk_grid_fft_error_bound(const otk_cost *cost, double eps);

/* The grid's soft-min, for callers writing their own iterations:
 *   out_i = −ε log Σ_j exp(h_j − C_ij/ε),   i, j = 0..n−1,
 * on the path otk_grid_select_path() gives for eps.
 *   h        input: n entries, finite or −∞ (a zero weight); not all −∞.
 *   out      output: n entries.
 *   threads  OpenMP threads (0: OpenMP's default).
 * Errors: OTK_ENULL, OTK_EUNSUPPORTED (not a grid), OTK_EPARAM (eps),
 * OTK_ENONFINITE (h[i] NaN or +∞, naming i), OTK_EZEROMASS (all −∞). */
OTK_EXPORT otk_status otk_grid_softmin(const otk_cost *cost, double eps, const double *h,
                                       double *out, int threads);

/* The library's own counters for a grid cost, since its construction. */
typedef struct {
    otk_grid_path path;           /* the path requested at construction */
    otk_grid_path last_path;      /* path of the last soft-min (AUTO before any) */
    size_t fft_plans;             /* FFTW plans created (2 = one r2c/c2r pair, or 0) */
    size_t kernel_transforms;     /* FFTs of the kernel (one per distinct ε on FFT) */
    size_t softmin_calls;         /* soft-min calls, all paths */
    size_t softmin_fft;           /* … of which on the FFT path */
    size_t softmin_separable;     /* … of which on the separable path */
    size_t reduce_calls;          /* plan_reduce calls (always separable) */
} otk_grid_stats;

/* Errors: OTK_ENULL, OTK_EUNSUPPORTED (not a grid cost). */
OTK_EXPORT otk_status otk_grid_get_stats(const otk_cost *cost, otk_grid_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_GRID_H */
