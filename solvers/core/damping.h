/* The unbalanced damping and the fixed schedule's last-step scaling (docs/
 * math.md A.3 and B.3), one definition for the serial solvers (solvers/core,
 * solvers/clients) and the distributed ones (solvers/mpi): header-only,
 * because libotkit_mpi is built on libotkit's public API and cannot call its
 * private functions (as guard.h). */
#ifndef OTK_DAMPING_H
#define OTK_DAMPING_H

#include <math.h>
#include <stddef.h>

/* The damping κ = ρ/(ρ+ε) of the unbalanced soft-min updates (1 when ρ = ∞). */
static inline double otk__kappa(double eps, double rho)
{
    return rho == (double)INFINITY ? 1.0 : rho / (rho + eps);
}

/* The reduced side's scaling for the gradient of the fixed schedule's final
 * extrapolation step: pot = κ·smin(prev) is the new potential, so pot/κ is
 * the soft-min itself, whose row-stochastic plan w_k e^{(prev_k + pot_i/κ −
 * C_ik)/ε} is ∂smin_i/∂C_ik; the value's derivative w.r.t. pot_i (per unit
 * weight) is 1 when balanced and (ρ+ε/2)/ρ · e^{−pot_i/ρ} when not, times κ.
 * h_i = pot_i/(κε) [+ log((ρ+ε/2)/(ρ+ε)) − pot_i/ρ] [+ log w_i]. */
static inline void otk__last_step_scaling(double eps, double rho, const double *log_w,
                                          const double *pot, size_t len, int with_log,
                                          double *h)
{
    const double kappa = otk__kappa(eps, rho);
    const double log_scale = isinf(rho) ? 0.0 : log((rho + 0.5 * eps) / (rho + eps));
    for (size_t k = 0; k < len; k++) {
        h[k] = pot[k] / (kappa * eps);
        if (!isinf(rho))
            h[k] += log_scale - pot[k] / rho;
        if (with_log)
            h[k] += log_w[k];
    }
}

#endif /* OTK_DAMPING_H */
