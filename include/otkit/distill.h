/*
 * otkit/distill.h — knowledge-distillation losses: SinKD (batch-wise Sinkhorn
 * distillation, Cui et al. 2024) and the KL / reverse-KL / JS baselines, with
 * gradients w.r.t. the student logits (docs/math.md D, E; decisions 5 and 6).
 *
 * STABILITY: experimental: the SinKD and distillation-loss parameters and
 * results may still change in a minor version.
 *
 * Shapes and conventions.  Logits are B×K row-major (B samples, K classes).
 * p^τ = softmax(z/τ) row-wise, computed stably (log-sum-exp), so logits of any
 * magnitude (±1e4 and beyond) are safe.  "s" is the student, "t" the teacher.
 *
 * SinKD (the reference code's algorithm; run in the kernel domain when the
 * batch cost W spans at most 300·ε — exact to rounding there, docs/math.md
 * D.1 — and in the log domain otherwise):
 *   1. p_s = softmax(Z_s/τ_S), p_t = softmax(Z_t/τ_S)            (τ_S default 2)
 *   2. W_ij = c(p_s^(i), p_t^(j)), a B×B batch cost: by default the l1 distance
 *      between the two class-probability vectors (any point-cloud ground cost
 *      of otkit/cost.h may be chosen, e.g. OTK_GROUND_SQEUCLIDEAN);
 *   3. log P = −W/ε, then `iters` times: normalise every row to sum 1, then
 *      every column to sum 1 (Sinkhorn–Knopp from K = e^{−W/ε}; ε default 0.1,
 *      iters default 20);
 *   4. L_SinKD = c_w Σ_ij P_ij W_ij (an OT_lin-type value; P ≈ B·π, so the
 *      value is about B times the transport cost; c_w default 1, the reference
 *      code uses 0.001).
 * The cost W and the iterations' soft-mins are those of the cost kinds
 * (the point-cloud grounds' formulas, the dense row soft-min).  The `iters`
 * iterations are the loss's definition, not a solve to a tolerance: every
 * one is kept for the adjoint, the loss is that of the last, and the SinKD
 * calls never return OTK_NOT_CONVERGED (the Sinkhorn clients that stop at
 * max_iter return their best iterate instead: otkit/sinkhorn.h).
 * Gradients w.r.t. Z_s (and optionally Z_t):
 *   OTK_SINKD_GRAD_UNROLLED (default): the exact adjoint of the unrolled
 *     iterations — what autograd through the reference algorithm computes;
 *   OTK_SINKD_GRAD_ENVELOPE: the plan P is held fixed (∂L/∂W = c_w P), the
 *     gradient an envelope argument gives at convergence; cheaper and smoother.
 * Where the ground cost is not differentiable (l1 at p_s,ik = p_t,jk; the
 * euclidean/lp grounds at p_s^(i) = p_t^(j)) the subgradient 0 is used.
 *
 * Baselines (otk_kd_loss), batch means over the B rows, with temperature τ:
 *   OTK_KD_KL          τ² · KL(p_t ‖ p_s)            (Hinton et al. 2015)
 *   OTK_KD_REVERSE_KL  KL(p_s ‖ p_t)
 *   OTK_KD_JS          ½KL(p_s ‖ m) + ½KL(p_t ‖ m), m = ½(p_s + p_t); in [0, ln 2]
 *   OTK_KD_SOFT_CE     −Σ_k p_t,k log p_s,k           (the SinKD code's DistillKL:
 *                                                    no τ², KL + teacher entropy)
 * KL, reverse KL and JS are computed by otkit/fdiv.h (D_f(p_t ‖ p_s)); every
 * f-divergence there can be the KD term of otk_sinkd_objective_fdiv.
 *
 * Combined objective (the SinKD GLUE code, docs/math.md D.2):
 *   L = α·KD + (1 − α)·CE(labels) + β·SinKD,
 * with CE the batch-mean cross-entropy of softmax(Z_s) (temperature 1) at the
 * integer labels.
 *
 * OWNERSHIP: otk_sinkd_alloc sizes every workspace for (B, K) once (O(B² +
 * B·K) doubles, plus iters·2B for the adjoint); the loss and objective calls
 * allocate nothing.  Inputs are read-only caller arrays; outputs are
 * caller-owned arrays of the stated sizes.
 *
 * THREAD SAFETY: one otk_sinkd object per thread; otk_kd_loss is reentrant.
 * Inside a call, work is spread over params.threads OpenMP threads by batch
 * rows; results do not depend on the thread count.
 */
#ifndef OTKIT_DISTILL_H
#define OTKIT_DISTILL_H

#include <stddef.h>
#include "otkit/status.h"
#include "otkit/cost.h"
#include "otkit/fdiv.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTK_SINKD_GRAD_MAP(X)                                                                \
    X(OTK_SINKD_GRAD_UNROLLED, 0, "unrolled") /* exact adjoint of the unrolled iterations */  \
    X(OTK_SINKD_GRAD_ENVELOPE, 1, "envelope") /* plan held fixed: ∂L/∂W = c_w P */
typedef enum { OTK_SINKD_GRAD_MAP(OTK_ENUM_MEMBER_) } otk_sinkd_grad;
/* Name table (otkit/names.h). */
OTK_EXPORT const char *otk_sinkd_grad_name(otk_sinkd_grad grad);
OTK_EXPORT otk_status otk_sinkd_grad_from_name(const char *name, otk_sinkd_grad *grad);

typedef struct {
    double tau;            /* τ_S, > 0; default 2 */
    double eps;            /* ε in units of the batch cost, > 0; default 0.1 */
    int iters;             /* row+column normalisations, >= 1; default 20 */
    otk_ground ground;     /* batch cost between probability vectors; default OTK_GROUND_L1 */
    double power;          /* P for OTK_GROUND_LP / LP_OVER_P; ignored otherwise */
    double weight;         /* c_w, >= 0; default 1 (the reference code: 0.001) */
    otk_sinkd_grad grad;   /* default OTK_SINKD_GRAD_UNROLLED */
    int threads;           /* OpenMP threads: 0 = OpenMP's default, 1 = serial */
} otk_sinkd_params;

/* Fill `params` with the defaults above.  NULL is ignored. */
OTK_EXPORT void otk_sinkd_params_default(otk_sinkd_params *params);

typedef struct otk_sinkd otk_sinkd;

/* Plan a SinKD loss for batches of B samples and K classes.
 * Errors: OTK_ENULL, OTK_ESIZE (B or K zero, or B·K / B² overflow),
 * OTK_EPARAM (naming the field), OTK_ENOMEM. */
OTK_EXPORT otk_status otk_sinkd_alloc(otk_sinkd **out, size_t B, size_t K,
                                      const otk_sinkd_params *params);

/* Free; NULL is accepted. */
OTK_EXPORT void otk_sinkd_free(otk_sinkd *sd);

/* The SinKD loss of one batch.
 *   z_s, z_t  input: B×K student and teacher logits (finite).
 *   loss      output: L_SinKD.
 *   grad_s    output, B×K, may be NULL: ∂L/∂Z_s.
 *   grad_t    output, B×K, may be NULL: ∂L/∂Z_t (the teacher is usually frozen).
 * Errors: OTK_ENULL, OTK_ENONFINITE (naming the array and index). */
OTK_EXPORT otk_status otk_sinkd_loss(otk_sinkd *sd, const double *z_s, const double *z_t,
                                     double *loss, double *grad_s, double *grad_t);

#define OTK_KD_DIVERGENCE_MAP(X)                                                             \
    X(OTK_KD_KL, 0, "kl")                 /* τ²·KL(p_t ‖ p_s) */                              \
    X(OTK_KD_REVERSE_KL, 1, "reverse-kl") /* KL(p_s ‖ p_t) */                                 \
    X(OTK_KD_JS, 2, "js")                 /* Jensen–Shannon, in [0, ln 2] */                  \
    X(OTK_KD_SOFT_CE, 3, "soft-ce")       /* −Σ p_t log p_s, no τ² (SinKD's DistillKL) */
typedef enum { OTK_KD_DIVERGENCE_MAP(OTK_ENUM_MEMBER_) } otk_kd_divergence;
/* Name table (otkit/names.h). */
OTK_EXPORT const char *otk_kd_divergence_name(otk_kd_divergence kind);
OTK_EXPORT otk_status otk_kd_divergence_from_name(const char *name, otk_kd_divergence *kind);

/* A baseline distillation loss, the batch mean over the B rows.
 *   kind      input: see above.
 *   tau       input: temperature τ > 0.
 *   grad_s    output, B×K, may be NULL: ∂L/∂Z_s.
 * Allocates (and frees) B doubles for the per-row values, summed in row order.
 * Errors: OTK_ENULL, OTK_ESIZE, OTK_EPARAM (kind or tau), OTK_ENONFINITE,
 * OTK_ENOMEM. */
OTK_EXPORT otk_status otk_kd_loss(otk_kd_divergence kind, size_t B, size_t K,
                                  const double *z_s, const double *z_t, double tau,
                                  double *loss, double *grad_s);

/* The parts of the combined objective. */
typedef struct {
    double total;  /* α·kd + (1 − α)·ce + β·sinkd */
    double kd;     /* the KD term (kind and temperature as given) */
    double ce;     /* batch-mean cross-entropy at the labels */
    double sinkd;  /* L_SinKD (with the object's c_w) */
} otk_sinkd_objective_parts;

/* L = α·KD + (1 − α)·CE(labels) + β·SinKD and its gradient w.r.t. Z_s.
 *   labels    input: B class indices in [0, K).
 *   alpha     input: in [0, 1];  beta: >= 0.
 *   kd, kd_tau input: the KD term's kind and temperature (the reference code:
 *             OTK_KD_SOFT_CE).
 *   parts     output (may be NULL); grad_s output B×K (may be NULL).
 * Errors: as otk_sinkd_loss and otk_kd_loss, plus OTK_ERANGE for a label out
 * of range (naming its index) and OTK_EPARAM for alpha/beta out of range. */
OTK_EXPORT otk_status otk_sinkd_objective(otk_sinkd *sd, const double *z_s, const double *z_t,
                                          const int *labels, double alpha, double beta,
                                          otk_kd_divergence kd, double kd_tau,
                                          otk_sinkd_objective_parts *parts, double *grad_s);

/* The combined objective with an f-divergence KD term (otkit/fdiv.h):
 *   L = α·D_f(softmax(Z_t/τ) ‖ softmax(Z_s/τ))·[τ² if kd->scale_tau2]
 *       + (1 − α)·CE(labels) + β·SinKD,
 * D_f the batch mean (kd->reduction must be OTK_REDUCTION_MEAN), τ = kd->tau;
 * with kd->kind = OTK_FDIV_KL and scale_tau2 = 1 the KD term is OTK_KD_KL's.
 * parts->kd is the KD term.  Errors: as otk_sinkd_objective, plus OTK_EPARAM
 * for kd's fields and OTK_ENUMERIC for an overflowing D_f (nothing written). */
OTK_EXPORT otk_status otk_sinkd_objective_fdiv(otk_sinkd *sd, const double *z_s,
                                               const double *z_t, const int *labels,
                                               double alpha, double beta,
                                               const otk_fdiv_params *kd,
                                               otk_sinkd_objective_parts *parts, double *grad_s);

/* The regression form of the SinKD GLUE code (its STS-B runs: one output per
 * sample, s, t, y of B values each):
 *   L = α·(1/B)Σ_i ((s_i − t_i)/τ)² + (1 − α)·(1/B)Σ_i (s_i − y_i)²,
 * i.e. the reference's DistillKL in mode "regression" (an MSE of the
 * temperature-divided outputs, no τ²) and, in place of the cross-entropy, the
 * student's own regression loss (the MSE to the labels that a one-output
 * sequence classifier computes).  The reference adds β·SinKD on softmax over
 * the one output, which is 1 for every sample: W ≡ 0 and the term is
 * identically 0 (otk_sinkd_loss with K = 1 gives the same 0), so it has no β.
 * The reference's defaults beside otkit's: α 0.8 (its scripts 0.9), KD
 * temperature 2, β 0.8 in its scripts, the SinKD term's own τ_S fixed at 2
 * and c_w = 0.001 (otkit: weight 1; its code of 2023 used 0.0008·20/8 = 0.002).
 *   parts     output (may be NULL): kd and, in the ce field, the MSE to the
 *             labels; sinkd = 0.
 *   grad_s    output, B values (may be NULL): ∂L/∂s.
 * Errors: OTK_ENULL, OTK_ESIZE (B = 0), OTK_EPARAM (alpha, tau),
 * OTK_ENONFINITE (naming the array and index). */
OTK_EXPORT otk_status otk_sinkd_regression_objective(size_t B, const double *s, const double *t,
                                                     const double *y, double alpha, double tau,
                                                     otk_sinkd_objective_parts *parts,
                                                     double *grad_s);

#ifdef __cplusplus
}
#endif

#endif /* OTKIT_DISTILL_H */
