/* The Sinkhorn driver's state, shared by its two files: sinkhorn.c (the
 * allocation, the schedule, the updates and the guard) and sinkhorn_result.c
 * (what is read out of a solve: values, potentials, marginals, plans).
 * Private to solvers/core. */
#ifndef OTK_SINKHORN_INTERNAL_H
#define OTK_SINKHORN_INTERNAL_H

#include "otkit/sinkhorn.h"
#include "guard.h"
#include "team.h"

enum { STAGE_UNSET, STAGE_RUNNING, STAGE_DONE };

/* One of the coupled problems.  A pair problem has potentials f (n) and g
 * (m); a symmetric ("self") problem between a measure and itself (GeomLoss's
 * debiasing terms) iterates one potential f, and its g, g_soft, h_m, best_g
 * alias f, f_soft, h_n, best_f. */
typedef struct {
    const otk_cost *cost;
    int self;
    int side;          /* self problems: 0 = the a weights, 1 = the b weights */
    otk_update update; /* resolved; self problems: symmetric */
    size_t n, m;
    double rho_a, rho_b;
    const double *a, *log_a, *b, *log_b; /* set by otk_sinkhorn_set */
    double mass_a, mass_b;
    double *f, *g, *f_soft, *g_soft, *h_n, *h_m, *best_f, *best_g;
    double *saved_f, *saved_g; /* the annealed pair while the guard probes */
    int f_fresh; /* f = κ smin(g) holds exactly (after an alternating update) */
    /* f_soft = smin^b(g) of the current g (after an alternating update),
     * so the row error costs no soft-min when f_fresh does not hold. */
    int rows_ready;
    /* The alternating update's accelerations (docs/math.md A.9): the
     * relaxation ω of the next update (1 = none) and whether each half step
     * also takes the optimal translation of the unbalanced dual. */
    double omega;
    int relax, translate;
    /* Multiscale costs (docs/math.md A.11): the level (0 clusters, 1
     * points), whether a cluster-level update ran, and the ε of the blocks
     * kept (INFINITY before the point level). */
    int level, coarse_ran;
    double mask_eps;
} problem;

struct otk_sinkhorn {
    const otk_cost *cost; /* prob[0].cost */
    otk_cost *owned_cost; /* the backend's copy of the caller's cost, or NULL */
    otk_backend backend;  /* resolved */
    otk_sinkhorn_params par;
    size_t n, m;
    int threads;
    otk__team team; /* the threads of each soft-min pass (team.h) */
    double eps, p, rho_a, rho_b;
    double scale; /* scale_cost's s: eps and rho are in units of C */
    /* The ε-list of the schedule (docs/math.md A.5); its last entry is the target ε. */
    double *eps_list;
    int n_eps, eps_cap;
    problem prob[3];
    int n_prob;
    /* Weights (copied by set) and read-out workspace; f, g, h_n, h_m alias
     * prob[0]'s. */
    double *a, *b, *log_a, *log_b, *row, *col;
    double *f, *g, *h_n, *h_m;
    double mass_a, mass_b;
    double *block; /* the whole workspace */
    /* Progress. */
    int stage, started, step;
    otk_stage last_stage; /* of the last update (otk_progress.stage) */
    int iterations, annealing_iterations, target_iterations;
    double last_eps, error, best_error;
    otk__guard guard; /* guard.h */
    /* The ω controller of the overrelaxed updates (docs/math.md A.9): the
     * current ω, its cap (lowered each time a window fails), and the window
     * of target updates over which the rate is measured. */
    double omega, omega_cap, win_err, win_q;
    int win_start;
    otk_status final_status;
    int values_valid;
    double ot_lin, plan_mass;
};

#endif
