/* The annealing guard's rule (docs/math.md A.5, "The annealing guard"), one
 * state machine for the serial driver (solvers/core/sinkhorn.c) and the
 * distributed ones (solvers/mpi): header-only, because libotkit_mpi is
 * built on libotkit's public API and cannot call its private functions.
 *
 * The guard WATCHes the annealed run at the target ε, PROBEs a cold start
 * at the target ε, or is OFF (decided; fixed schedule, no annealing, warm
 * start).  The errors at GUARD_FIRST·2^i target updates are kept; from the
 * third checkpoint k on, it fires when the error fell by less than
 * (error/tol)^(1/GUARD_SLOWNESS) since k/2, i.e. when that rate still needs
 * more than GUARD_SLOWNESS/2·k updates to reach tol.  The probe runs k/4
 * updates and is compared with the annealed error at k/4: it costs at most
 * a twentieth of such a solve.
 *
 * otk__guard_step is called at the target ε after the convergence and
 * max_iter tests, with k the target updates done so far and err the marginal
 * error just measured.  On OTK__GUARD_PROBE the caller saves its potentials
 * and starts from zero ones; on OTK__GUARD_RESTORE it puts the saved ones
 * back; after either, the soft-mins of the measurement are stale. */
#ifndef OTK_GUARD_H
#define OTK_GUARD_H

#include <math.h>
#include <string.h>

enum { OTK__GUARD_NONE, OTK__GUARD_PROBE, OTK__GUARD_RESTORE };

#define OTK__GUARD_FIRST 4
#define OTK__GUARD_SLOWNESS 8.0
#define OTK__GUARD_HIST 28 /* OTK__GUARD_FIRST << 27 = 2^29 still fits an int */

typedef struct {
    /* State (off, watch, probe), next checkpoint (index i:
     * OTK__GUARD_FIRST·2^i target updates), the errors at the checkpoints;
     * while probing, the target update count at its start, its length and
     * the annealed error after as many updates. */
    int state, next, start, len;
    double hist[OTK__GUARD_HIST], compare;
} otk__guard;

enum { OTK__GUARD_OFF_, OTK__GUARD_WATCH_, OTK__GUARD_PROBING_ };

static inline void otk__guard_init(otk__guard *g, int on)
{
    memset(g, 0, sizeof *g);
    g->state = on ? OTK__GUARD_WATCH_ : OTK__GUARD_OFF_;
}

static inline int otk__guard_step(otk__guard *g, int k, double err, double tol, int max_iter)
{
    if (g->state == OTK__GUARD_WATCH_) {
        const int i = g->next;
        if (i >= OTK__GUARD_HIST || k != OTK__GUARD_FIRST << i)
            return OTK__GUARD_NONE;
        g->hist[i] = err;
        g->next = i + 1;
        if (i < 2)
            return OTK__GUARD_NONE;
        /* err/tol > (mark/err)^SLOWNESS: the rate since k/2 needs more than
         * SLOWNESS/2·k more updates (or the error grew). */
        const double mark = g->hist[i - 1];
        const int fire = k + k / 4 < max_iter &&
                         (err >= mark || log(err / tol) > OTK__GUARD_SLOWNESS * log(mark / err));
        if (!fire)
            return OTK__GUARD_NONE;
        g->compare = g->hist[i - 2];
        g->start = k;
        g->len = k / 4;
        g->state = OTK__GUARD_PROBING_;
        return OTK__GUARD_PROBE;
    }
    if (g->state == OTK__GUARD_PROBING_ && k - g->start == g->len) {
        /* After equal numbers of target updates, keep the smaller error. */
        g->state = OTK__GUARD_OFF_;
        if (err >= g->compare)
            return OTK__GUARD_RESTORE;
    }
    return OTK__GUARD_NONE;
}

#endif
