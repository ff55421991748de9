/*
 * otkit/fdiv.h — f-divergences between discrete distributions, batch-wise over
 * B×K tables of probabilities or of logits with a temperature, with their
 * gradients; the population stability index and the information value of
 * binned data.  The formulas and conventions are in docs/fdiv.md.
 *
 * STABILITY: experimental (new in this release): may still change in a minor
 * version.
 *
 * Definition.  For rows p, q of K entries (p the first argument),
 *   D_f(p ‖ q) = Σ_k q_k f(p_k / q_k),
 * with the generators f of each member below.  Every member is the formula as
 * written, so its partial derivatives w.r.t. p and q are those of the formula
 * with p and q free positive vectors (not projected on the simplex):
 *   ∂D/∂p_k = f'(p_k/q_k),   ∂D/∂q_k = f(t) − t f'(t) at t = p_k/q_k.
 *
 *   kind                 D(p ‖ q)                              f(t)
 *   OTK_FDIV_KL          Σ p log(p/q)                          t log t
 *   OTK_FDIV_REVERSE_KL  Σ q log(q/p)                          −log t
 *   OTK_FDIV_JEFFREYS    Σ (p − q) log(p/q)                    (t − 1) log t
 *   OTK_FDIV_JS          ½Σ p log(p/m) + ½Σ q log(q/m),        ½[t log t − (1+t) log((1+t)/2)]
 *                        m = ½(p + q); in [0, ln 2]
 *   OTK_FDIV_TV          ½Σ |p − q|; in [0, 1]                 ½|t − 1|
 *   OTK_FDIV_HELLINGER   Σ (√p − √q)²  (no ½; in [0, 2])       (√t − 1)²
 *   OTK_FDIV_PEARSON     Σ (p − q)²/q                          (t − 1)²
 *   OTK_FDIV_NEYMAN      Σ (p − q)²/p                          (1 − t)²/t
 *   OTK_FDIV_ALPHA       Amari's α ∈ ℝ:                        4/(1−α²)·[(1−α)/2·t + (1+α)/2
 *                        4/(1−α²) Σ [(1−α)/2 p + (1+α)/2 q               − t^{(1−α)/2}]
 *                                    − p^{(1−α)/2} q^{(1+α)/2}]
 *                        α = −1 is exactly KL(p‖q) + Σ(q − p) and α = +1 exactly
 *                        KL(q‖p) + Σ(p − q) (the limits; the linear terms vanish for
 *                        rows of equal mass); α = 0 is 2·Σ(√p − √q)².  Evaluated
 *                        without cancellation near α = ±1, so the value and the
 *                        gradients are continuous in α through the KL ends.
 *   OTK_FDIV_CUSTOM      Σ q f(p/q) with a caller's generator (otk_fdiv_generator).
 *
 * Probabilities (otk_fdiv_probs).  Rows are used as given (not renormalised);
 * entries must be finite and >= 0.  With params.smoothing = s > 0 each row r
 * (of p and of q) is first replaced by (1 − s)·r + s·(Σ_k r_k)/K (mixing with
 * the uniform row of the same mass; gradients are returned w.r.t. the
 * unsmoothed rows).  With zeros the limits of q f(p/q) are used: p_k = q_k = 0
 * contributes 0; q_k = 0 < p_k contributes p_k·lim_{t→∞} f(t)/t; p_k = 0 < q_k
 * contributes q_k f(0).  Where that is infinite (KL, Jeffreys, Pearson, α ≤ −1
 * with q_k = 0 < p_k; reverse KL, Jeffreys, Neyman, α >= 1 with p_k = 0 < q_k)
 * the value is +∞ (SciPy's rel_entr convention).  A requested gradient entry
 * that is infinite or undefined (e.g. ∂KL/∂p_k = log(p_k/q_k) + 1 at p_k = 0)
 * makes the call fail with OTK_ENUMERIC naming the row and class: use
 * smoothing > 0 (or the logits interface).
 *
 * Logits (otk_fdiv_logits).  p = softmax(z_p/τ), q = softmax(z_q/τ) row-wise;
 * everything is computed from the log-probabilities (log-sum-exp), so logits
 * of any magnitude are safe and probabilities that underflow keep their exact
 * logarithms: the value is finite unless the true value exceeds DBL_MAX (only
 * possible for Pearson, Neyman and α outside (−1, 1), then OTK_ENUMERIC).
 * The gradients w.r.t. the logits are (1/τ)·(a − p Σ_k a_k) with a_k =
 * p_k ∂D/∂p_k (and the same for q), formed directly so that they stay finite.
 * With params.scale_tau2 the value and gradients are multiplied by τ² (Hinton
 * et al. 2015, which keeps the gradient scale independent of τ).
 * For distillation, pass the teacher as z_p and the student as z_q: KL is then
 * the usual KD loss KL(p_t ‖ p_s) (otkit/distill.h's OTK_KD_KL, computed here).
 *
 * Reductions: OTK_REDUCTION_MEAN (default) writes the mean over the B rows to
 * value[0] and scales the gradients by 1/B; SUM the sum; NONE writes the B
 * row values to value[0..B) (the gradients are then each row's, i.e. those
 * of the sum).  Row values are summed in row order, whatever the
 * thread count.
 *
 * OWNERSHIP: all arrays are the caller's; outputs have the stated sizes.  The
 * calls allocate scratch memory, freed before they return: otk_fdiv_probs and
 * otk_fdiv_logits B doubles, B×K more per gradient asked for and (probs with
 * smoothing) two B×K tables; otk_psi and otk_information_value 3·m doubles
 * and, for quantile bins, a sorted copy of the sample; otk_psi_counts
 * nothing.  Any of these failing is OTK_ENOMEM, with the outputs untouched.
 * THREAD SAFETY: all functions are reentrant (a custom generator must be, when
 * params.threads != 1: it is called from several OpenMP threads).
 */
#ifndef OTKIT_FDIV_H
#define OTKIT_FDIV_H

#include <stddef.h>
#include "otkit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTK_FDIV_KIND_MAP(X)                                                                 \
    X(OTK_FDIV_KL, 0, "kl")                                                                  \
    X(OTK_FDIV_REVERSE_KL, 1, "reverse-kl")                                                  \
    X(OTK_FDIV_JEFFREYS, 2, "jeffreys")                                                      \
    X(OTK_FDIV_JS, 3, "js")                                                                  \
    X(OTK_FDIV_TV, 4, "tv")                                                                  \
    X(OTK_FDIV_HELLINGER, 5, "hellinger") /* squared Hellinger */                            \
    X(OTK_FDIV_PEARSON, 6, "pearson")     /* Pearson χ² */                                   \
    X(OTK_FDIV_NEYMAN, 7, "neyman")       /* Neyman χ² */                                    \
    X(OTK_FDIV_ALPHA, 8, "alpha")         /* Amari α-divergence, params.alpha */             \
    X(OTK_FDIV_CUSTOM, 9, "custom")       /* params.generator */
typedef enum { OTK_FDIV_KIND_MAP(OTK_ENUM_MEMBER_) } otk_fdiv_kind;

/* Name table (otkit/names.h): the names above, NULL for an invalid value;
 * the parser returns OTK_SUCCESS, OTK_ENULL, or OTK_EPARAM listing the names. */
OTK_EXPORT const char *otk_fdiv_kind_name(otk_fdiv_kind kind);
OTK_EXPORT otk_status otk_fdiv_kind_from_name(const char *name, otk_fdiv_kind *kind);

#define OTK_REDUCTION_KIND_MAP(X)                                                            \
    X(OTK_REDUCTION_MEAN, 0, "mean") /* mean over the batch rows */                          \
    X(OTK_REDUCTION_SUM, 1, "sum")                                                           \
    X(OTK_REDUCTION_NONE, 2, "none") /* one value per row */
typedef enum { OTK_REDUCTION_KIND_MAP(OTK_ENUM_MEMBER_) } otk_reduction_kind;
/* Name table (otkit/names.h). */

OTK_EXPORT const char *otk_reduction_kind_name(otk_reduction_kind reduction);
OTK_EXPORT otk_status otk_reduction_kind_from_name(const char *name,
                                                   otk_reduction_kind *reduction);

/* A caller's generator: returns f(t) for t in [0, +∞] and writes f'(t) to
 * *df when df is not NULL.  f should be convex with f(1) = 0 for D_f to be a
 * divergence (not checked).  At a zero probability the call is made with the
 * limits: q_k = 0 < p_k uses f(t)/t at t = +∞ given by `slope_at_infinity`;
 * p_k = 0 < q_k calls fn(0).  A non-finite return where a finite one is
 * needed gives OTK_ENUMERIC. */
typedef struct {
    double (*fn)(double t, double *df, void *user);
    void *user;
    double slope_at_infinity; /* lim_{t→∞} f(t)/t (+INFINITY allowed) */
} otk_fdiv_generator;

typedef struct {
    otk_fdiv_kind kind;          /* default OTK_FDIV_KL */
    double alpha;                /* Amari α for OTK_FDIV_ALPHA, finite; default 0 */
    const otk_fdiv_generator *generator; /* for OTK_FDIV_CUSTOM; default NULL */
    double tau;                  /* temperature of the logits interface, > 0; default 1 */
    int scale_tau2;              /* multiply by τ² (logits interface); default 0 */
    double smoothing;            /* s in [0, 1) (probabilities interface); default 0 */
    otk_reduction_kind reduction; /* default OTK_REDUCTION_MEAN */
    int threads;                 /* OpenMP threads: 0 = OpenMP's default, 1 = serial */
} otk_fdiv_params;

/* Fill `params` with the defaults above.  NULL is ignored. */
OTK_EXPORT void otk_fdiv_params_default(otk_fdiv_params *params);

/* D_f(p ‖ q) row-wise for B×K row-major probability tables.
 *   params    input (NULL: the defaults, i.e. KL with mean reduction).
 *   value     output: 1 value (mean, sum) or B values (none).
 *   grad_p, grad_q  outputs, B×K, may be NULL: ∂value/∂p, ∂value/∂q.
 * Errors: OTK_ENULL, OTK_ESIZE (B or K zero, overflow), OTK_EPARAM (naming
 * the field), OTK_ENONFINITE / OTK_ENEGATIVE (naming the array, row and
 * class), OTK_ENUMERIC (an infinite requested gradient, see above),
 * OTK_ENOMEM. */
OTK_EXPORT otk_status otk_fdiv_probs(const otk_fdiv_params *params, size_t B, size_t K,
                                     const double *p, const double *q, double *value,
                                     double *grad_p, double *grad_q);

/* D_f(softmax(z_p/τ) ‖ softmax(z_q/τ)) row-wise (times τ² with scale_tau2).
 *   z_p, z_q  input: B×K finite logits.
 *   grad_zp, grad_zq  outputs, B×K, may be NULL.
 * Errors: as otk_fdiv_probs (OTK_ENONFINITE for a non-finite logit;
 * OTK_ENUMERIC for a value or gradient beyond DBL_MAX). */
OTK_EXPORT otk_status otk_fdiv_logits(const otk_fdiv_params *params, size_t B, size_t K,
                                      const double *z_p, const double *z_q, double *value,
                                      double *grad_zp, double *grad_zq);

/* ------------------------------------------------------ binned data */

/* "quantile": edges at the reference sample's quantiles k/bins (linear
 * interpolation, NumPy's default), tied edges merged; "equal-width": bins
 * equal parts of [min, max] of the reference sample; "edges": the caller's
 * interior edges. */
#define OTK_BINNING_MAP(X)                                                                   \
    X(OTK_BINNING_QUANTILE, 0, "quantile")                                                   \
    X(OTK_BINNING_EQUAL_WIDTH, 1, "equal-width")                                             \
    X(OTK_BINNING_EDGES, 2, "edges")
typedef enum { OTK_BINNING_MAP(OTK_ENUM_MEMBER_) } otk_binning;

/* Name table (otkit/names.h). */
OTK_EXPORT const char *otk_binning_name(otk_binning binning);
OTK_EXPORT otk_status otk_binning_from_name(const char *name, otk_binning *binning);

/* Bins are right-closed, (e_{i−1}, e_i], between interior edges
 * e_1 < … < e_{m−1}, and the outer bins reach −∞ and +∞ (values of the second
 * sample outside the reference's range fall in the outer bins).
 * Zero-bin convention: a bin share c_i/N that is 0 is replaced by `floor`
 * (default 1e-4, the usual practice in credit scoring; the other shares are
 * not renormalised).  With floor = 0 an empty bin on one side only gives +∞. */
typedef struct {
    otk_binning binning;  /* default OTK_BINNING_QUANTILE */
    size_t bins;          /* number of bins m, >= 1, for quantile / equal-width; default 10 */
    const double *edges;  /* for OTK_BINNING_EDGES: n_edges interior edges, strictly increasing */
    size_t n_edges;       /* then m = n_edges + 1 */
    double floor;         /* share given to an empty bin, in [0, 1); default 1e-4 */
} otk_bins_params;

OTK_EXPORT void otk_bins_params_default(otk_bins_params *params);

/* Population stability index between two binned distributions:
 *   PSI = Σ_i (a_i − e_i) ln(a_i / e_i),
 * with e_i, a_i the shares of the expected (reference) and actual counts in
 * bin i (the Jeffreys divergence of the two histograms), after the zero-bin
 * floor.  Counts are >= 0 and each side sums to > 0.
 *   per_bin   output, m values (may be NULL): the terms of the sum.
 * Errors: OTK_ENULL, OTK_ESIZE, OTK_ENONFINITE, OTK_ENEGATIVE, OTK_EZEROMASS,
 * OTK_EPARAM (floor). */
OTK_EXPORT otk_status otk_psi_counts(size_t m, const double *expected, const double *actual,
                                     double floor, double *psi, double *per_bin);

/* PSI between a reference sample (n_ref values) and an actual sample (n_act),
 * binned by `params` (NULL: the defaults) from the reference sample.
 *   psi       output.
 *   m_out     output (may be NULL): the number of bins used m (quantile bins
 *             with tied edges merged can be fewer than params.bins).
 *   edges_out output (may be NULL): m − 1 interior edges; room for
 *             params.bins − 1 (or n_edges) values.
 *   per_bin   output (may be NULL): m terms; room for params.bins (or n_edges + 1).
 * Errors: as otk_psi_counts, plus OTK_EPARAM (binning, bins = 0, edges not
 * increasing, naming the index), OTK_ESIZE (params.bins or params.n_edges so
 * large that 3·m doubles overflow size_t), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_psi(const otk_bins_params *params, const double *reference,
                              size_t n_ref, const double *actual, size_t n_act, double *psi,
                              size_t *m_out, double *edges_out, double *per_bin);

/* Information value of a feature x for a binary outcome y (1 = event, "bad";
 * 0 = non-event, "good"), with x binned by `params` over the whole sample:
 *   WoE_i = ln(g_i / b_i),  IV = Σ_i (g_i − b_i)·WoE_i,
 * g_i, b_i the shares of the goods and of the bads in bin i (after the floor).
 * (Some texts write WoE = ln(b_i/g_i); IV is the same.)
 *   woe       output (may be NULL): m values, room as per_bin in otk_psi.
 * Errors: as otk_psi, plus OTK_EPARAM for y[i] not 0 or 1 (naming i) and
 * OTK_EZEROMASS when there are no goods or no bads. */
OTK_EXPORT otk_status otk_information_value(const otk_bins_params *params, const double *x,
                                            const int *y, size_t n, double *iv, size_t *m_out,
                                            double *edges_out, double *woe);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_FDIV_H */
