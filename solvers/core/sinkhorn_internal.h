/* The Sinkhorn driver's state, shared by its two files: sinkhorn.c (the
 * allocation, the schedule, the updates and the guard) and sinkhorn_result.c
 * (what is read out of a solve: values, potentials, marginals, plans).
 * Private to solvers/core. */
#ifndef OTK_SINKHORN_INTERNAL_H
#define OTK_SINKHORN_INTERNAL_H

#include "otkit/sinkhorn.h"

enum { STAGE_UNSET, STAGE_RUNNING, STAGE_DONE };

/* The annealing guard (docs/math.md A.5, "The annealing guard"): WATCH the
 * annealed run at the target ε, PROBE a cold start at the target ε, or OFF
 * (decided; fixed schedule, no annealing, warm start).  The errors at
 * GUARD_FIRST·2^i target updates are kept; from the third checkpoint k on,
 * the guard fires when the error fell by less than
 * (error/tol)^(1/GUARD_SLOWNESS) since k/2, i.e. when that rate still needs
 * more than GUARD_SLOWNESS/2·k updates to reach tol.  The probe runs k/4
 * updates and is compared with the annealed error at k/4: it costs at most
 * a twentieth of such a solve. */
enum { GUARD_OFF, GUARD_WATCH, GUARD_PROBE };
#define GUARD_FIRST 4
#define GUARD_SLOWNESS 8.0
#define GUARD_HIST 28 /* GUARD_FIRST << 27 = 2^29 still fits an int */


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
} problem;

struct otk_sinkhorn {
    const otk_cost *cost; /* prob[0].cost */
    otk_sinkhorn_params par;
    size_t n, m;
    int threads;
    double eps, p, rho_a, rho_b;
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
    int iterations, annealing_iterations, target_iterations;
    double last_eps, error, best_error;
    /* The annealing guard: state, next checkpoint (index i: GUARD_FIRST·2^i
     * target updates), the errors at the checkpoints; while probing, the
     * target update count at its start, its length and the annealed error
     * after as many updates. */
    int guard, guard_next, guard_start, guard_len;
    double guard_hist[GUARD_HIST], guard_compare;
    otk_status final_status;
    int values_valid;
    double ot_lin, plan_mass;
};

#endif
