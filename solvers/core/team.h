/* The thread count of each soft-min pass of the Sinkhorn driver (docs/
 * design.md, "Threads on a shared machine").  Header-only, so that
 * tests/test_team.c drives the rule with synthetic timings.
 *
 * An OpenMP team waits for all its members at the end of every pass.  When
 * other processes compete for the cores, a member is descheduled for a time
 * slice (milliseconds) while the others wait at the barrier, so a pass of
 * 100 µs costs milliseconds: on the 2-core machine with one CPU-bound
 * process beside it, a solve ran 40–70× slower with 2 threads than with 1
 * (bench/README.md, "Threads on a loaded machine").  The driver therefore
 * measures instead of trusting the core count: a probe times
 * OTK__TEAM_PROBE passes with the whole team and as many with one thread
 * (seconds per cost entry, the best of each), and the faster is used until
 * the next probe, OTK__TEAM_PERIOD passes and OTK__TEAM_SECONDS later; two
 * team passes in a row more than OTK__TEAM_ALARM times slower than the
 * probe's start a probe at once (load arrived).  A solve starts with a probe;
 * on an idle machine it costs OTK__TEAM_PROBE single-thread passes per
 * period, at most about 2 % of a 2-thread solve.  The choice is the whole
 * team or one thread: on many cores under partial load a team in between
 * may be faster, which the rule does not try.
 *
 * Values do not depend on it: every soft-min reduces each row with one
 * thread, so its result is bitwise the same whatever the thread count.
 * OTK_TEAM=fixed in the environment turns the rule off (every pass uses the
 * whole team), for comparisons. */
#ifndef OTK_TEAM_H
#define OTK_TEAM_H

#include <math.h>

#define OTK__TEAM_PROBE 2
#define OTK__TEAM_PERIOD 128
#define OTK__TEAM_SECONDS 2.0
#define OTK__TEAM_ALARM 4.0

typedef struct {
    int full;    /* the team asked for; <= 1, or 0 when off: nothing to decide */
    int use;     /* the threads of the next pass */
    int probe;   /* passes left in the running probe (0: settled) */
    int since;   /* passes since the last decision */
    int slow;    /* consecutive team passes slower than the alarm */
    double decided;             /* clock at the last decision (seconds) */
    double best_full, best_one; /* seconds per entry, the best of the probe */
    double chosen;              /* the probe's time of the choice */
} otk__team;

static inline void otk__team_start_probe(otk__team *t)
{
    t->probe = 2 * OTK__TEAM_PROBE;
    t->use = t->full;
    t->slow = 0;
    t->best_full = t->best_one = INFINITY;
}

/* threads: the resolved team size; enabled: 0 under OTK_TEAM=fixed. */
static inline void otk__team_init(otk__team *t, int threads, int enabled)
{
    t->full = enabled && threads > 1 ? threads : 0;
    t->use = threads;
    t->since = 0;
    t->decided = 0.0;
    t->chosen = INFINITY;
    t->probe = 0;
    if (t->full)
        otk__team_start_probe(t);
}

/* Record a pass that ran with t->use threads and took `per_entry` seconds
 * per cost entry, ending at clock `now`; sets the threads of the next. */
static inline void otk__team_record(otk__team *t, double per_entry, double now)
{
    if (!t->full || !(per_entry >= 0.0))
        return;
    if (t->probe > 0) {
        if (t->use == t->full)
            t->best_full = fmin(t->best_full, per_entry);
        else
            t->best_one = fmin(t->best_one, per_entry);
        if (--t->probe == OTK__TEAM_PROBE)
            t->use = 1;
        if (t->probe == 0) {
            t->use = t->best_full <= t->best_one ? t->full : 1;
            t->chosen = t->use == t->full ? t->best_full : t->best_one;
            t->since = 0;
            t->decided = now;
        }
        return;
    }
    t->since++;
    /* Only the team's passes raise the alarm, and two in a row: a single
     * slow pass is noise, and a slower single-thread pass means more load,
     * no reason to try the team before the period is over. */
    t->slow = t->use == t->full && per_entry > OTK__TEAM_ALARM * t->chosen ? t->slow + 1 : 0;
    if ((t->since >= OTK__TEAM_PERIOD && now - t->decided >= OTK__TEAM_SECONDS) || t->slow >= 2)
        otk__team_start_probe(t);
}

#endif /* OTK_TEAM_H */
