/* Internal declarations shared by the library's modules (not installed). */
#ifndef OTK_INTERNAL_H
#define OTK_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/sinkhorn.h"
#include "otkit/fdiv.h"
#include "kernels.h"
#include "core/damping.h" /* otk__kappa, shared with solvers/mpi */

#if defined(__GNUC__)
#define OTK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OTK_PRINTF(f, a)
#endif

/* Record the thread-local message for a failure and return `status`. */
otk_status otk__fail(otk_status status, const char *fmt, ...) OTK_PRINTF(2, 3);
/* Clear the message (successful public calls need not call it). */
void otk__clear_error(void);

/* Validation helpers for public entry points; `what` names the argument. */
otk_status otk__check_finite(const char *what, const double *v, size_t n);
otk_status otk__check_weights(const char *what, const double *w, size_t n, double *mass);

/* GSL's default error handler aborts; the library never does.  Switch it
 * off, once per process, unless the program installed its own handler
 * (which is then kept).  Call before any GSL routine that may report an
 * error (solvers/core/status.c). */
void otk__gsl_never_abort(void);

/* Number of OpenMP threads for a call: `requested` (> 0) or OpenMP's default. */
int otk__threads(int requested);

/* Whether an n×m reduction is worth forking threads for: below ~64k entries
 * the fork/join costs more than it saves (10× slower on tiny problems). */
static inline int otk__parallel_worth(int threads, size_t n, size_t m)
{
    return threads > 1 && n * m >= (size_t)1 << 16;
}

/* A loop run by an OpenMP team when `worth`, and without any region
 * otherwise.  OpenMP's `if` clause does not make a region free: libgomp
 * still builds a team of one and ends it with a futex system call (~1.4 µs
 * on a virtual machine, where a soft-min of 10 × 10 points takes 0.1 µs:
 * 60 % of a small solve's time went there).  The loops that run once per
 * Sinkhorn iteration (the costs' soft-mins) use it:
 *     OTK_PARALLEL_FOR(otk__parallel_worth(threads, n, m),
 *                      schedule(dynamic, 2) num_threads(threads),
 *                      for (size_t b = 0; b < nblocks; b++) { ... });
 * The loop is compiled twice; it may not contain preprocessor directives. */
#define OTK__PRAGMA(x) _Pragma(#x)
#define OTK_PARALLEL_FOR(worth, clauses, ...)                                                      \
    do {                                                                                           \
        if (worth) {                                                                               \
            OTK__PRAGMA(omp parallel for clauses)                                                  \
            __VA_ARGS__                                                                            \
        } else {                                                                                   \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    } while (0)

/* The parameters the solvers share (otk_sinkhorn_params, otk_divergence_params,
 * ...), validated and resolved by otk__resolve_common (solvers/core/schedule.c). */
typedef struct {
    double eps, blur, reach, scaling, diameter, p, tol;
    otk_schedule schedule;
    otk_update update;
    int max_iter, threads;
    double relative_eps, scale_cost;
    otk_relative_to relative_to;
    int scale_cost_stat;
} otk__common_params;

typedef struct {
    double eps, p, blur, diameter; /* ε = blur^p; diameter starts the schedule */
    double scale;                  /* scale_cost's divisor s (1 = none): ε and ρ are s × theirs */
    otk_update update;             /* AUTO resolved */
    int threads;                   /* OpenMP threads, > 0 */
} otk__resolved_params;

/* The defaults of those shared fields, for any params struct that has them
 * (otk_sinkhorn_params, otk_divergence_params): one place for GeomLoss's
 * blur 0.05 and scaling 0.5, the converge schedule, tol 1e-6, 10000 iterations. */
#define OTK__COMMON_PARAMS_DEFAULT(par)              \
    do {                                             \
        (par)->eps = 0.0;                            \
        (par)->blur = 0.05;                          \
        (par)->reach = 0.0;                          \
        (par)->schedule = OTK_SCHEDULE_CONVERGE;     \
        (par)->update = OTK_UPDATE_AUTO;             \
        (par)->scaling = 0.5;                        \
        (par)->diameter = 0.0;                       \
        (par)->p = 0.0;                              \
        (par)->tol = 1e-6;                           \
        (par)->max_iter = 10000;                     \
        (par)->threads = 0;                          \
        (par)->relative_eps = 0.0;                   \
        (par)->relative_to = OTK_RELATIVE_MEAN;      \
        (par)->scale_cost = 0.0;                     \
        (par)->scale_cost_stat = -1;                 \
    } while (0)

/* The shared fields of any such params struct, gathered for otk__resolve_common. */
#define OTK__COMMON_PARAMS_OF(par)                                                        \
    ((otk__common_params){(par)->eps, (par)->blur, (par)->reach, (par)->scaling,           \
                          (par)->diameter, (par)->p, (par)->tol, (par)->schedule,          \
                          (par)->update, (par)->max_iter, (par)->threads,          \
                          (par)->relative_eps, (par)->scale_cost, (par)->relative_to,  \
                          (par)->scale_cost_stat})

/* What OTK_UPDATE_AUTO runs with the converge schedule, chosen by
 * measurement (bench/accel.py, bench/results/accel.md). */
#define OTK_UPDATE_CONVERGE_DEFAULT OTK_UPDATE_ACCELERATED

/* Whether `u` is one of the alternating updates (plain or accelerated). */
static inline int otk__update_alternates(otk_update u)
{
    return u == OTK_UPDATE_ALTERNATING || u == OTK_UPDATE_OVERRELAXED ||
           u == OTK_UPDATE_TRANSLATED || u == OTK_UPDATE_ACCELERATED;
}

/* Validate the shared fields (OTK_EPARAM naming the field) and resolve them
 * against `cost` (its exponent and diameter unless overridden; its statistics
 * for relative_eps and scale_cost, otk_cost_statistic). */
otk_status otk__resolve_common(const otk__common_params *c, const otk_cost *cost,
                               otk__resolved_params *out);

/* The GeomLoss ε-list for `rp` and `scaling`, its last entry exactly rp->eps,
 * into *list (grown with realloc when longer than *cap). */
otk_status otk__build_eps_list(const otk__resolved_params *rp, double scaling, double **list,
                               int *len, int *cap);

/* Whether all n values are finite. */
int otk__all_finite(const double *v, size_t n);

/* Σ_i w_i |exp((pot_i − soft_i)/ε) − exp(−pot_i/ρ)| / mass, with soft the
 * undamped soft-min of the other side: the relative L1 violation of one side's
 * optimality condition, otkit's marginal error (otkit/sinkhorn.h; docs/math.md A.4,
 * A.6).  Zero weights are skipped. */
double otk__side_error(const double *w, const double *pot, const double *soft, size_t n,
                       double eps, double rho, double mass);

/* What plan_reduce sums: otk_reduce (otkit/cost.h, otk_cost_plan_reduce). */

/* The table of operations every cost kind provides (docs/design.md).  "Axis 0"
 * reduces over j for each row i (out has n entries); "axis 1" over i for each
 * column j (out has m entries). */
struct otk_cost_ops {
    const char *kind;
    /* out = −ε·LSE(h − C/ε) along the axis:
     *   axis 0: out_i = −ε log Σ_j exp(h_j − C_ij/ε)   (h has m entries)
     *   axis 1: out_j = −ε log Σ_i exp(h_i − C_ij/ε)   (h has n entries) */
    void (*softmin)(const otk_cost *c, int axis, double eps, const double *h, double *out,
                    int threads);
    /* With P_ij = exp(u_i + v_j − C_ij/ε):
     *   axis 0: out_i (·k) = Σ_j P_ij F_ij;  axis 1: out_j (·k) = Σ_i P_ij F_ij. */
    void (*plan_reduce)(const otk_cost *c, int axis, double eps, const double *u, const double *v,
                        otk_reduce what, size_t k, const double *Y, double *out, int threads);
    double (*entry)(const otk_cost *c, size_t i, size_t j);
    void (*destroy)(otk_cost *c);
    /* Optional (NULL: entry() is used): T costs of row i (axis 0) or column
     * i (axis 1) from index j0, as otk_tile_fn below. */
    const double *(*tile)(const otk_cost *c, int axis, size_t i, size_t j0, size_t T,
                          double *buf);
    /* Multiscale costs only (solvers/cost/multiscale.c; NULL for every other
     * kind).  The driver (solvers/core/sinkhorn.c) moves such a cost between
     * its levels:
     *   coarsen(c)  back to the cluster level: soft-mins then reduce over
     *               clusters and broadcast, every block kept;
     *   refine(c, eps_ext, eps, f, g, a, b, ka, kb, threads)  to the point
     *               level: with eps_ext > 0 first replace f (n) and g (m) by
     *               the soft-mins at eps_ext, damped by ka and kb, of the
     *               cluster potentials at the points (GeomLoss's jump); then
     *               keep the blocks the truncation rule keeps at eps for f, g
     *               (eps = 0: every block).  f == g (and a == b) for a
     *               symmetric problem on one cloud;
     *   truncation_bound(c, eps, f, g, a, b)  an upper bound on the plan
     *               mass Σ a_i b_j e^{(f_i+g_j−C_ij)/ε} of the dropped blocks
     *               (0 when every block is kept). */
    void (*coarsen)(const otk_cost *c);
    void (*refine)(const otk_cost *c, double eps_ext, double eps, double *f, double *g,
                   const double *a, const double *b, double ka, double kb, int threads);
    double (*truncation_bound)(const otk_cost *c, double eps, const double *f, const double *g,
                               const double *a, const double *b, int threads);
};

struct otk_cost {
    const struct otk_cost_ops *ops;
    const otk_kernels *kern;
    size_t n, m;
    double diameter, exponent;
    /* > 0 for kinds whose kernel is built for one ε (the heat kernel of
     * otkit/mesh.h): the solvers then use that ε, refuse another and run no
     * annealing (otk__resolve_common).  0 for every other kind. */
    double fixed_eps;
    /* > 0 for multiscale costs: the ε at and below which the driver runs the
     * point level ((cell/4)^p for the coarser cloud's cell side,
     * docs/math.md A.11); 0 otherwise. */
    double coarse_eps;
    const char *name;
};

/* Initialise the common part of a cost. */
void otk__cost_init(otk_cost *c, const struct otk_cost_ops *ops, size_t n, size_t m,
                    const char *name);

/* Generic implementations for kinds that can produce a row of costs
 * c(i, j0..j0+T) ("tile") cheaply: `tile(c, axis, i, j0, T, buf)` returns a
 * pointer to the T costs (buf may be used as storage). */
typedef const double *(*otk_tile_fn)(const otk_cost *c, int axis, size_t i, size_t j0, size_t T,
                                      double *buf);
void otk__softmin_tiled(const otk_cost *c, otk_tile_fn tile, int axis, double eps,
                        const double *h, double *out, int threads);
void otk__plan_reduce_tiled(const otk_cost *c, otk_tile_fn tile, int axis, double eps,
                            const double *u, const double *v, otk_reduce what, size_t k,
                            const double *Y, double *out, int threads);

/* out_i = −s·LSE_j(h_j − C_ij/ε) over the n rows of a row-major n×m matrix
 * C with leading dimension ld (h has m entries), each row streamed OTK_TILE
 * entries at a time through the kernels' running LSE: the row soft-min
 * (axis 0) of dense costs and of kept point-cloud matrices (s = ε, the units
 * of otk_cost_softmin), and the batch iterations of SinKD (s = 1: potentials
 * in units of ε, solvers/clients/distill.c).  The result does not depend on
 * `threads`. */
void otk__dense_softmin_rows(const otk_kernels *kern, const double *C, size_t n, size_t m,
                             size_t ld, double eps, double s, const double *h, double *out,
                             int threads);

/* The column reductions (axis 1) of a row-major n×m matrix C with leading
 * dimension ld, for dense costs and for cached point clouds: column strips of
 * OTK_TILE entries walked down all rows (contiguous reads, one thread per
 * output).  plan_reduce_cols does not handle OTK_REDUCE_GRAD. */
void otk__dense_softmin_cols(const otk_cost *c, const double *C, size_t ld, double eps,
                             const double *h, double *out, int threads);
void otk__dense_plan_reduce_cols(const otk_cost *c, const double *C, size_t ld, double eps,
                                 const double *u, const double *v, otk_reduce what, size_t k,
                                 const double *Y, double *out, int threads);

/* The cost as a row-major matrix, entry (i, j) at M[i*ld + j], without a
 * copy: a dense cost's matrix, or a point cloud's kept matrix
 * (otk_cost_points_cache); NULL for every other cost. */
const double *otk__cost_matrix_view(const otk_cost *c, size_t *ld);
/* Evaluate every entry of the cost into C (n×m, row-major, ld = m): point
 * clouds with the kernel of their other operations (bitwise the same
 * entries), other kinds entry by entry. */
void otk__cost_fill_matrix(const otk_cost *c, double *C);
/* The kinds' parts of those two (NULL / 0 when `c` is not of that kind). */
const double *otk__dense_matrix_view(const otk_cost *c, size_t *ld);
const double *otk__points_matrix_view(const otk_cost *c);
int otk__points_fill_matrix(const otk_cost *c, double *C);

/* GeomLoss's diameter (the diagonal of the bounding box of x ∪ y; l1: the
 * l1 diagonal) of row-major clouds x (n×d) and y (m×d), double or float as
 * `single` says, over the points whose weight is positive (a, b NULL: all
 * points): the diameter of a point-cloud cost, and that of a batch problem
 * padded with zero weights (solvers/clients/batch.c). */
double otk__points_diameter(otk_ground ground, size_t n, size_t m, size_t d, const void *x,
                            const void *y, int single, const double *a, const double *b);

/* The dimension d of a point-cloud cost: kind "points" or "multiscale";
 * 0 for every other kind. */
size_t otk__cost_points_dim(const otk_cost *c);

/* The coordinates of a float64 point-cloud cost (kind "points", not
 * single precision): xs d×n and ys d×m (coordinate k of point i at
 * xs[k*n + i]), the ground and its power.  Returns 0 for any other cost. */
int otk__points_coordinates(const otk_cost *c, const double **xs, const double **ys,
                            size_t *d, otk_ground *ground, double *power);

/* A copy of a float64 point-cloud cost that keeps its n×m matrix (the
 * dense backend).  Errors: OTK_ENOMEM. */
otk_status otk__points_copy_kept(const otk_cost *c, otk_cost **out);

/* The backend a solver runs for `requested` on `cost` (otk_backend,
 * otkit/sinkhorn.h: AUTO resolved), and the cost it runs on: *owned is NULL
 * when that is `cost` itself, else a cost the caller frees (the kept matrix,
 * the clustered points).  Errors: OTK_EPARAM (backend, truncate),
 * OTK_EUNSUPPORTED, OTK_ENOMEM. */
otk_status otk__backend_cost(otk_backend requested, double truncate, const otk_cost *cost,
                             otk_backend *resolved, otk_cost **owned);
/* The largest truncation bound of the coupled problems (relative to each
 * problem's Σa), 0 without multiscale costs. */
double otk__sinkhorn_truncation(otk_sinkhorn *s);

/* The multiscale cost of a float64 point cloud in dimension d <= 3
 * (solvers/cost/multiscale.c, docs/math.md A.11): the points sorted into the
 * cells of a regular grid, soft-mins over clusters at coarse ε and over the
 * kept blocks at fine ε (sub-cluster pairs where their lists are short,
 * cluster pairs otherwise).  `truncate` > 0 (INFINITY: keep
 * every block).  Copies the coordinates.  Errors: OTK_EUNSUPPORTED (not a
 * float64 point cloud, d > 3, l1 ground), OTK_EPARAM (truncate), OTK_ENOMEM. */
otk_status otk__cost_multiscale(otk_cost **out, const otk_cost *points, double truncate);
/* The dimension of a multiscale cost; 0 for any other. */
size_t otk__multiscale_dim(const otk_cost *c);

/* The coupled solver of the debiased divergence (solvers/clients/divergence.c):
 * problem 0 is the pair on c_xy (n×m, weights a, b), problems 1 and 2 the
 * symmetric problems on c_xx (weights a) and c_yy (weights b), iterated with
 * GeomLoss's averaged updates, all on the one ε-list of c_xy.  c_xx = c_yy =
 * NULL gives the single pair.  params as otk_sinkhorn_alloc (rho_a = rho_b).
 * The marginal error is the largest of the problems' (a symmetric problem's
 * counts both its equal marginals).  set/iterate/set_eps work on all of them;
 * the read-outs of otkit/sinkhorn.h concern problem 0. */
otk_status otk__sinkhorn_alloc_coupled(otk_sinkhorn **out, const otk_cost *c_xy,
                                       const otk_cost *c_xx, const otk_cost *c_yy,
                                       const otk_sinkhorn_params *params);
/* Iterate until a final status, calling params.progress after every update
 * that leaves the solve running; its nonzero return stops there with
 * OTK_CONTINUE.  The run loop of otk_sinkhorn_solve and otk_divergence_solve. */
otk_status otk__sinkhorn_run(otk_sinkhorn *s);
/* Problem k's potentials (a symmetric problem: g = f). */
void otk__sinkhorn_problem(const otk_sinkhorn *s, int k, const double **f, const double **g);
/* After a fixed-schedule solve: problem k's pair before the final
 * extrapolation (the point it was taken at); g aliases f for a self problem.
 * Meaningless after a converge-schedule solve. */
void otk__sinkhorn_previous(const otk_sinkhorn *s, int k, const double **f, const double **g);
/* Updates run, of which annealing, and the last measured marginal error. */
void otk__sinkhorn_counts(const otk_sinkhorn *s, int *iterations, int *annealing,
                          double *error);
/* The marginal error of the current potentials, measured now on every side. */
double otk__sinkhorn_measure(otk_sinkhorn *s);

/* The euclidean-family grounds are c = φ(s) of s = ‖x − y‖², and
 * ∇_x c(x, y) = 2φ'(s)·(x − y): this returns 2φ'(s) (2, 1, 1/√s, P s^{P/2−1},
 * s^{P/2−1}).  At s = 0 the costs that are not differentiable there
 * (euclidean, lp and lp-over-p with P <= 1) take 0, the minimal-norm
 * subgradient; l1 (∇ = sign(x − y), not a multiple of x − y) gives 0.  The
 * one place for these slopes: the point-cloud gradients (solvers/cost/points.c)
 * and the SinKD backward pass (solvers/clients/distill.c). */
static inline double otk__ground_slope(otk_ground ground, double power, double sq)
{
    switch (ground) {
    case OTK_GROUND_SQEUCLIDEAN: return 2.0;
    case OTK_GROUND_HALF_SQEUCLIDEAN: return 1.0;
    case OTK_GROUND_EUCLIDEAN: return sq > 0.0 ? 1.0 / sqrt(sq) : 0.0;
    case OTK_GROUND_LP: return sq > 0.0 ? power * pow(sq, 0.5 * power - 1.0) : 0.0;
    case OTK_GROUND_LP_OVER_P: return sq > 0.0 ? pow(sq, 0.5 * power - 1.0) : 0.0;
    default: return 0.0;
    }
}

/* ∇_p c(p, q) of a ground cost, times w, added to grad (d entries); p, q are
 * row-major points.  The convention of OTK_REDUCE_GRAD (solvers/cost/points.c):
 * the non-differentiable costs contribute 0 at p = q. */
void otk__ground_grad(otk_ground ground, double power, size_t d, const double *p,
                      const double *q, double w, double *grad);

/* f-divergences from logits, row by row (solvers/clients/fdiv.c), shared with
 * the KD losses of distill.c: the row values D(softmax(z_p/τ) ‖ softmax(z_q/τ))
 * times `scale` into rows[0..B), and gscale·scale·∂/∂z added to grad_p,
 * grad_q (may be NULL).  Parameters and inputs are checked by the caller.
 * OTK_ENUMERIC when a row overflows (Pearson, Neyman, α outside (−1, 1)). */
otk_status otk__fdiv_logits_rows(const otk_fdiv_params *par, size_t B, size_t K,
                                 const double *z_p, const double *z_q, double scale,
                                 double gscale, double *rows, double *grad_p, double *grad_q,
                                 int threads);

/* log Σ_k exp(z_k/τ) of one row of K logits (inv_tau = 1/τ), shifted by the
 * row maximum so that any finite logits are safe: the normaliser of
 * softmax(z/τ) for the f-divergences from logits and the KD losses
 * (solvers/clients/fdiv.c). */
double otk__softmax_lse(const double *z, size_t K, double inv_tau);

/* Validate an otk_fdiv_params used as a KD term (the member, tau, and the
 * mean reduction the combined objective uses). */
otk_status otk__fdiv_check_kd(const otk_fdiv_params *par);

/* Whether an array of a·b elements of `size` bytes cannot be addressed
 * (a·b·size overflows size_t): public entry points check their sizes with it
 * before they read an input of a·b entries or allocate, so that a huge size
 * fails with OTK_ESIZE instead of wrapping around to a small buffer. */
static inline int otk__array_overflows(size_t a, size_t b, size_t size)
{
    return b != 0 && a > SIZE_MAX / size / b;
}

#endif
