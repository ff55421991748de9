/*
 * The driver's thread rule (solvers/core/team.h) on synthetic timings: an
 * idle machine keeps the whole team, a loaded one falls back to one thread,
 * a change of load is noticed (by the alarm or the next period's probe),
 * and the rule is inert when off or with one thread.  Timings are seconds
 * per entry; `now` is the clock the driver passes.
 *
 * Exit status 0 when every check passes; the last line is "N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include "team.h"

static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

/* Run `passes` passes on a machine where the whole team takes t_full and
 * one thread t_one per entry, each pass `dt` seconds of clock; returns the
 * threads the last pass used and counts the single-thread passes. */
static int run(otk__team *t, int passes, double t_full, double t_one, double dt, double *now,
               int *single)
{
    int used = t->use;
    for (int k = 0; k < passes; k++) {
        used = t->use;
        *now += dt;
        if (used == 1)
            (*single)++;
        otk__team_record(t, used == 1 ? t_one : t_full, *now);
    }
    return used;
}

int main(void)
{
    otk__team t;
    double now = 0.0;
    int single = 0;

    /* Idle: two threads twice as fast; the probe's single passes are the
     * only ones, OTK__TEAM_PROBE per period. */
    otk__team_init(&t, 2, 1);
    check(t.use == 2 && t.probe == 2 * OTK__TEAM_PROBE, "a solve starts probing with the team");
    run(&t, 2 * OTK__TEAM_PROBE, 1.0, 2.0, 0.01, &now, &single);
    check(t.probe == 0 && t.use == 2, "idle: the probe keeps the team");
    check(single == OTK__TEAM_PROBE, "idle: the probe ran OTK__TEAM_PROBE single-thread passes");
    single = 0;
    run(&t, OTK__TEAM_PERIOD - 1, 1.0, 2.0, 0.01, &now, &single);
    check(single == 0 && t.probe == 0, "idle: no probe before the period (passes)");
    /* The period in passes is reached but not the one in seconds. */
    run(&t, 10, 1.0, 2.0, 0.01, &now, &single);
    check(single == 0 && t.probe == 0, "idle: no probe before the period (seconds)");
    now += OTK__TEAM_SECONDS;
    run(&t, 1, 1.0, 2.0, 0.01, &now, &single);
    check(t.probe == 2 * OTK__TEAM_PROBE && t.use == 2, "idle: the period starts a new probe");
    run(&t, 2 * OTK__TEAM_PROBE, 1.0, 2.0, 0.01, &now, &single);
    check(t.use == 2 && single == OTK__TEAM_PROBE, "idle: the second probe keeps the team");

    /* Load arrives: a team pass 50x slower than the probe's trips the alarm;
     * the probe then finds one thread faster. */
    single = 0;
    run(&t, 1, 50.0, 2.0, 0.01, &now, &single);
    check(t.probe == 0, "load arrives: one slow pass is taken for noise");
    run(&t, 1, 1.0, 2.0, 0.01, &now, &single);
    run(&t, 1, 50.0, 2.0, 0.01, &now, &single);
    check(t.probe == 0, "load arrives: slow passes not in a row are taken for noise");
    run(&t, 1, 50.0, 2.0, 0.01, &now, &single);
    check(t.probe == 2 * OTK__TEAM_PROBE, "load arrives: two slow passes start a probe at once");
    int used = run(&t, 2 * OTK__TEAM_PROBE, 50.0, 2.0, 0.01, &now, &single);
    check(t.use == 1 && used == 1, "loaded: the probe falls back to one thread");
    /* Slower single-thread passes (more load) change nothing. */
    single = 0;
    run(&t, 20, 50.0, 30.0, 0.01, &now, &single);
    check(t.use == 1 && t.probe == 0 && single == 20, "loaded: one thread until the period");

    /* Load leaves: the period's probe returns to the team. */
    now += OTK__TEAM_SECONDS;
    run(&t, OTK__TEAM_PERIOD, 1.0, 2.0, 0.01, &now, &single);
    check(t.probe > 0 || t.use == 2, "load leaves: the period's probe starts");
    run(&t, 2 * OTK__TEAM_PROBE, 1.0, 2.0, 0.01, &now, &single);
    check(t.use == 2 && t.probe == 0, "load leaves: back to the team");

    /* Ties go to the team; NaN timings are ignored. */
    otk__team_init(&t, 4, 1);
    otk__team_record(&t, NAN, 1.0);
    check(t.probe == 2 * OTK__TEAM_PROBE, "a NaN timing is not counted");
    run(&t, 2 * OTK__TEAM_PROBE, 1.0, 1.0, 0.01, &now, &single);
    check(t.use == 4, "a tie keeps the whole team (4 threads)");

    /* Off, or nothing to choose. */
    otk__team_init(&t, 2, 0);
    run(&t, 300, 50.0, 1.0, 1.0, &now, &single);
    check(t.full == 0 && t.use == 2, "OTK_TEAM=fixed: every pass uses the whole team");
    otk__team_init(&t, 1, 1);
    run(&t, 300, 50.0, 1.0, 1.0, &now, &single);
    check(t.full == 0 && t.use == 1, "one thread: nothing to decide");

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
