/*
 * tests/test_batch.c — batches of independent problems (otkit/batch.h):
 * each problem equals its own single solve (otk_sinkhorn, otk_divergence)
 * to 1e-12 relative, whatever the thread count; zero-weight padding gives
 * the unpadded problem's value, potentials and gradients; per-problem
 * statuses.  Bad input is in the matrix of tests/test_bad_input.c.
 */
#include "test_helpers.h"

enum { NB = 4, NN = 40, MM = 30, DD = 3 };

typedef struct {
    double x[NB * NN * DD], y[NB * MM * DD], a[NB * NN], b[NB * MM];
} clouds;

/* Problem k: Gaussian clouds whose separation grows with k, random weights
 * of unit mass. */
static void make_clouds(clouds *c, uint64_t seed)
{
    tk_rng r = tk_rng_seed(seed);
    for (int k = 0; k < NB; k++) {
        tk_points_gauss(&r, NN, DD, 0.0, 0.3, c->x + k * NN * DD);
        tk_points_gauss(&r, MM, DD, 0.2 * k, 0.25, c->y + k * MM * DD);
        tk_weights_random(&r, NN, 1.0, c->a + k * NN);
        tk_weights_random(&r, MM, 1.0, c->b + k * MM);
    }
}

static double rel(double u, double v)
{
    return fabs(u - v) / fmax(fabs(v), 1e-300);
}

/* Largest |u − v| over the entries, relative to the largest |v|. */
static double rel_vec(const double *u, const double *v, size_t len)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < len; i++) {
        diff = fmax(diff, fabs(u[i] - v[i]));
        scale = fmax(scale, fabs(v[i]));
    }
    return diff / fmax(scale, 1e-300);
}

/* One problem by the single-solve API: its values and potentials. */
static otk_status single_sinkhorn(size_t n, size_t m, const double *x, const double *y,
                                  const double *a, const double *b,
                                  const otk_sinkhorn_params *par, otk_sinkhorn_result *res,
                                  double *f, double *g)
{
    otk_cost *cost = NULL;
    otk_sinkhorn *s = NULL;
    otk_status st = otk_cost_points(&cost, n, m, DD, x, y, OTK_GROUND_SQEUCLIDEAN, 0);
    ck_assert_int_eq(st, OTK_SUCCESS);
    ck_assert_int_eq(otk_sinkhorn_alloc(&s, cost, par), OTK_SUCCESS);
    st = otk_sinkhorn_solve(s, a, b, res);
    memcpy(f, otk_sinkhorn_potential_f(s), n * sizeof *f);
    memcpy(g, otk_sinkhorn_potential_g(s), m * sizeof *g);
    otk_sinkhorn_free(s);
    otk_cost_free(cost);
    return st;
}

static otk_sinkhorn_params sinkhorn_params(otk_schedule schedule, int threads)
{
    otk_sinkhorn_params p;
    otk_sinkhorn_params_default(&p);
    p.blur = 0.1;
    p.schedule = schedule;
    p.tol = 1e-10;
    p.threads = threads;
    return p;
}

START_TEST(test_sinkhorn_batch_equals_single_solves)
{
    static clouds c;
    make_clouds(&c, 11);
    const otk_schedule schedules[2] = {OTK_SCHEDULE_CONVERGE, OTK_SCHEDULE_FIXED};
    for (int q = 0; q < 2; q++) {
        otk_sinkhorn_params par = sinkhorn_params(schedules[q], 2);
        otk_sinkhorn_result res[NB];
        static double f[NB * NN], g[NB * MM];
        otk_status st = otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                           OTK_GROUND_SQEUCLIDEAN, 0, &par, res, f, g);
        ck_assert_msg(st == OTK_SUCCESS, "%s", otk_last_error());
        for (int k = 0; k < NB; k++) {
            otk_sinkhorn_result r;
            double f1[NN], g1[MM];
            par.threads = 1;
            ck_assert_int_eq(single_sinkhorn(NN, MM, c.x + k * NN * DD, c.y + k * MM * DD,
                                             c.a + k * NN, c.b + k * MM, &par, &r, f1, g1),
                             OTK_SUCCESS);
            ck_assert_msg(rel(res[k].ot_kl, r.ot_kl) <= 1e-12 &&
                              rel(res[k].ot_ent, r.ot_ent) <= 1e-12 &&
                              rel(res[k].ot_lin, r.ot_lin) <= 1e-12,
                          "schedule %d, problem %d: %.17g vs %.17g", q, k, res[k].ot_kl, r.ot_kl);
            ck_assert_int_eq(res[k].iterations, r.iterations);
            ck_assert_int_eq(res[k].status, r.status);
            ck_assert_double_le(rel_vec(f + k * NN, f1, NN), 1e-12);
            ck_assert_double_le(rel_vec(g + k * MM, g1, MM), 1e-12);
        }
    }
}
END_TEST

START_TEST(test_sinkhorn_batch_does_not_depend_on_threads)
{
    static clouds c;
    make_clouds(&c, 12);
    otk_sinkhorn_result r1[NB], r3[NB];
    static double f1[NB * NN], g1[NB * MM], f3[NB * NN], g3[NB * MM];
    otk_sinkhorn_params par = sinkhorn_params(OTK_SCHEDULE_CONVERGE, 1);
    ck_assert_int_eq(otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                        OTK_GROUND_SQEUCLIDEAN, 0, &par, r1, f1, g1),
                     OTK_SUCCESS);
    par.threads = 3;
    ck_assert_int_eq(otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                        OTK_GROUND_SQEUCLIDEAN, 0, &par, r3, f3, g3),
                     OTK_SUCCESS);
    for (int k = 0; k < NB; k++) {
        ck_assert(r1[k].ot_kl == r3[k].ot_kl && r1[k].ot_lin == r3[k].ot_lin);
        ck_assert_int_eq(r1[k].iterations, r3[k].iterations);
    }
    ck_assert(memcmp(f1, f3, sizeof f1) == 0 && memcmp(g1, g3, sizeof g1) == 0);
}
END_TEST

/* A single divergence with all four gradients. */
static otk_status single_divergence(size_t n, size_t m, const double *x, const double *y,
                                    const double *a, const double *b,
                                    const otk_divergence_params *par, otk_divergence_result *res,
                                    double *gx, double *gy, double *ga, double *gb)
{
    otk_divergence *div = NULL;
    ck_assert_int_eq(otk_divergence_alloc_points(&div, n, m, DD, x, y,
                                                 OTK_GROUND_HALF_SQEUCLIDEAN, 0, par),
                     OTK_SUCCESS);
    otk_status st = otk_divergence_solve(div, a, b, res);
    ck_assert_int_eq(otk_divergence_grad_x(div, gx), OTK_SUCCESS);
    ck_assert_int_eq(otk_divergence_grad_y(div, gy), OTK_SUCCESS);
    ck_assert_int_eq(otk_divergence_grad_a(div, ga), OTK_SUCCESS);
    ck_assert_int_eq(otk_divergence_grad_b(div, gb), OTK_SUCCESS);
    otk_divergence_free(div);
    return st;
}

static otk_divergence_params divergence_params(otk_schedule schedule, double reach, int threads)
{
    otk_divergence_params p;
    otk_divergence_params_default(&p);
    p.blur = 0.1;
    p.reach = reach;
    p.schedule = schedule;
    p.tol = 1e-10;
    p.threads = threads;
    return p;
}

START_TEST(test_divergence_batch_equals_single_solves)
{
    static clouds c;
    make_clouds(&c, 13);
    static double gx[NB * NN * DD], gy[NB * MM * DD], ga[NB * NN], gb[NB * MM];
    static double gx1[NN * DD], gy1[MM * DD], ga1[NN], gb1[MM];
    const otk_schedule schedules[3] = {OTK_SCHEDULE_CONVERGE, OTK_SCHEDULE_FIXED,
                                       OTK_SCHEDULE_CONVERGE};
    const double reach[3] = {0.0, 0.0, 0.5};
    for (int q = 0; q < 3; q++) {
        otk_divergence_params par = divergence_params(schedules[q], reach[q], 2);
        otk_divergence_result res[NB];
        otk_status st = otk_divergence_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                             OTK_GROUND_HALF_SQEUCLIDEAN, 0, &par, res, gx, gy,
                                             ga, gb);
        ck_assert_msg(st == OTK_SUCCESS, "%s", otk_last_error());
        par.threads = 1;
        for (int k = 0; k < NB; k++) {
            otk_divergence_result r;
            ck_assert_int_eq(single_divergence(NN, MM, c.x + k * NN * DD, c.y + k * MM * DD,
                                               c.a + k * NN, c.b + k * MM, &par, &r, gx1, gy1,
                                               ga1, gb1),
                             OTK_SUCCESS);
            ck_assert_msg(rel(res[k].divergence, r.divergence) <= 1e-12,
                          "case %d, problem %d: %.17g vs %.17g", q, k, res[k].divergence,
                          r.divergence);
            ck_assert_int_eq(res[k].iterations, r.iterations);
            ck_assert_double_le(rel_vec(gx + k * NN * DD, gx1, NN * DD), 1e-12);
            ck_assert_double_le(rel_vec(gy + k * MM * DD, gy1, MM * DD), 1e-12);
            ck_assert_double_le(rel_vec(ga + k * NN, ga1, NN), 1e-12);
            ck_assert_double_le(rel_vec(gb + k * MM, gb1, MM), 1e-12);
        }
    }
}
END_TEST

/* Problem 1 of a batch holds the first `real` points of a problem of n
 * points: the others are padding of zero weight placed at `where` (0: at the
 * end, 1: interleaved, every other point), far away (`far`: they would move
 * the ε-schedule's diameter if they counted, and cost the expanded soft-min
 * digits, otkit/batch.h) or on the first real point. */
static int far;

static void pad(const double *x, const double *a, size_t real, size_t n, int where, double *xp,
                double *ap, size_t *slot)
{
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        const int is_real = r < real && (where == 0 ? i < real : (i % 2 == 0 || n - i <= real - r));
        if (is_real) {
            memcpy(xp + i * DD, x + r * DD, DD * sizeof *x);
            ap[i] = a[r];
            slot[r++] = i;
        } else {
            for (size_t k = 0; k < DD; k++)
                xp[i * DD + k] = far ? 7.0 + (double)i : x[k];
            ap[i] = 0.0;
        }
    }
}

START_TEST(test_divergence_batch_padding_is_exact)
{
    enum { NR = 25, MR = 18 }; /* real points of the padded problem */
    static clouds c;
    make_clouds(&c, 14);
    tk_rng rng = tk_rng_seed(15);
    static double xr[NR * DD], yr[MR * DD], ar[NR], br[MR];
    tk_points_gauss(&rng, NR, DD, 0.0, 0.3, xr);
    tk_points_gauss(&rng, MR, DD, 0.4, 0.3, yr);
    tk_weights_random(&rng, NR, 1.0, ar);
    tk_weights_random(&rng, MR, 1.0, br);
    static double gx[NB * NN * DD], gy[NB * MM * DD], ga[NB * NN], gb[NB * MM];
    static double gx1[NR * DD], gy1[MR * DD], ga1[NR], gb1[MR];
    const double reach[2] = {0.0, 0.5};
    for (int q = 0; q < 8; q++) {
        const int where = q & 1, u = (q >> 1) & 1;
        far = q >> 2;
        const double tol = far ? 1e-9 : 1e-12;
        size_t sx[NR], sy[MR];
        pad(xr, ar, NR, NN, where, c.x + NN * DD, c.a + NN, sx);
        pad(yr, br, MR, MM, where, c.y + MM * DD, c.b + MM, sy);
        otk_divergence_params par = divergence_params(OTK_SCHEDULE_FIXED, reach[u], 2);
        otk_divergence_result res[NB], r;
        ck_assert_int_eq(otk_divergence_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                              OTK_GROUND_HALF_SQEUCLIDEAN, 0, &par, res, gx,
                                              gy, ga, gb),
                         OTK_SUCCESS);
        par.threads = 1;
        ck_assert_int_eq(single_divergence(NR, MR, xr, yr, ar, br, &par, &r, gx1, gy1, ga1,
                                           gb1),
                         OTK_SUCCESS);
        ck_assert_msg(rel(res[1].divergence, r.divergence) <= tol,
                      "padding %d (far %d), reach %g: %.17g vs unpadded %.17g", where, far, reach[u],
                      res[1].divergence, r.divergence);
        ck_assert_int_eq(res[1].iterations, r.iterations);
        double gxp[NR * DD], gap[NR], gyp[MR * DD], gbp[MR];
        for (size_t i = 0; i < NR; i++) {
            memcpy(gxp + i * DD, gx + NN * DD + sx[i] * DD, DD * sizeof *gx);
            gap[i] = ga[NN + sx[i]];
        }
        for (size_t j = 0; j < MR; j++) {
            memcpy(gyp + j * DD, gy + MM * DD + sy[j] * DD, DD * sizeof *gy);
            gbp[j] = gb[MM + sy[j]];
        }
        ck_assert_double_le(rel_vec(gxp, gx1, NR * DD), tol);
        ck_assert_double_le(rel_vec(gyp, gy1, MR * DD), tol);
        ck_assert_double_le(rel_vec(gap, ga1, NR), tol);
        ck_assert_double_le(rel_vec(gbp, gb1, MR), tol);
        /* A padded point carries no mass: its point gradient vanishes. */
        for (size_t i = 0; i < NN; i++)
            if (c.a[NN + i] == 0.0)
                for (size_t k = 0; k < DD; k++)
                    ck_assert_double_le(fabs(gx[NN * DD + i * DD + k]), 1e-290);
    }
}
END_TEST

START_TEST(test_sinkhorn_batch_padding_is_exact)
{
    enum { NR = 33, MR = 21 };
    static clouds c;
    make_clouds(&c, 16);
    tk_rng rng = tk_rng_seed(17);
    static double xr[NR * DD], yr[MR * DD], ar[NR], br[MR];
    tk_points_uniform(&rng, NR, DD, xr);
    tk_points_uniform(&rng, MR, DD, yr);
    tk_weights_random(&rng, NR, 1.0, ar);
    tk_weights_random(&rng, MR, 1.0, br);
    size_t sx[NR], sy[MR];
    far = 0;
    pad(xr, ar, NR, NN, 1, c.x + 2 * NN * DD, c.a + 2 * NN, sx);
    pad(yr, br, MR, MM, 0, c.y + 2 * MM * DD, c.b + 2 * MM, sy);
    otk_sinkhorn_params par = sinkhorn_params(OTK_SCHEDULE_CONVERGE, 2);
    otk_sinkhorn_result res[NB], r;
    static double f[NB * NN], g[NB * MM];
    double f1[NR], g1[MR];
    ck_assert_int_eq(otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                        OTK_GROUND_SQEUCLIDEAN, 0, &par, res, f, g),
                     OTK_SUCCESS);
    ck_assert_int_eq(single_sinkhorn(NR, MR, xr, yr, ar, br, &par, &r, f1, g1), OTK_SUCCESS);
    ck_assert_double_le(rel(res[2].ot_kl, r.ot_kl), 1e-12);
    ck_assert_double_le(rel(res[2].ot_ent, r.ot_ent), 1e-12);
    ck_assert_double_le(rel(res[2].ot_lin, r.ot_lin), 1e-12);
    /* Rounding may move the converge schedule's last error across tol. */
    ck_assert_int_le(abs(res[2].iterations - r.iterations), 1);
    double fp[NR], gp[MR];
    for (size_t i = 0; i < NR; i++)
        fp[i] = f[2 * NN + sx[i]];
    for (size_t j = 0; j < MR; j++)
        gp[j] = g[2 * MM + sy[j]];
    ck_assert_double_le(rel_vec(fp, f1, NR), 1e-12);
    ck_assert_double_le(rel_vec(gp, g1, MR), 1e-12);
}
END_TEST

START_TEST(test_batch_reports_each_problems_status)
{
    /* Problem 0: both clouds one repeated point (converges at once);
     * problem 1: spread clouds, two updates allowed: not converged. */
    static clouds c;
    make_clouds(&c, 18);
    for (size_t i = 0; i < NN * DD; i++)
        c.x[i] = 0.5;
    for (size_t j = 0; j < MM * DD; j++)
        c.y[j] = 0.5;
    otk_sinkhorn_params par = sinkhorn_params(OTK_SCHEDULE_CONVERGE, 2);
    par.max_iter = 2;
    par.blur = 0.01;
    otk_sinkhorn_result res[NB];
    otk_status st = otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                       OTK_GROUND_SQEUCLIDEAN, 0, &par, res, NULL, NULL);
    ck_assert_int_eq(st, OTK_NOT_CONVERGED);
    ck_assert_int_eq(res[0].status, OTK_SUCCESS);
    ck_assert_int_eq(res[1].status, OTK_NOT_CONVERGED);
    ck_assert(isfinite(res[1].ot_kl));
}
END_TEST

START_TEST(test_batch_float32_equals_single_float32)
{
    static clouds c;
    make_clouds(&c, 19);
    static float xf[NB * NN * DD], yf[NB * MM * DD];
    for (size_t i = 0; i < NB * NN * DD; i++)
        xf[i] = (float)c.x[i];
    for (size_t j = 0; j < NB * MM * DD; j++)
        yf[j] = (float)c.y[j];
    otk_divergence_params par = divergence_params(OTK_SCHEDULE_FIXED, 0.0, 2);
    otk_divergence_result res[NB];
    static double gx[NB * NN * DD], gx1[NN * DD];
    ck_assert_int_eq(otk_divergence_batch_f32(NB, NN, MM, DD, xf, yf, c.a, c.b,
                                              OTK_GROUND_HALF_SQEUCLIDEAN, 0, &par, res, gx,
                                              NULL, NULL, NULL),
                     OTK_SUCCESS);
    par.threads = 1;
    for (int k = 0; k < NB; k++) {
        otk_divergence *div = NULL;
        otk_divergence_result r;
        ck_assert_int_eq(otk_divergence_alloc_points_f32(&div, NN, MM, DD, xf + k * NN * DD,
                                                         yf + k * MM * DD,
                                                         OTK_GROUND_HALF_SQEUCLIDEAN, 0, &par),
                         OTK_SUCCESS);
        ck_assert_int_eq(otk_divergence_solve(div, c.a + k * NN, c.b + k * MM, &r), OTK_SUCCESS);
        ck_assert_int_eq(otk_divergence_grad_x(div, gx1), OTK_SUCCESS);
        otk_divergence_free(div);
        ck_assert_double_le(rel(res[k].divergence, r.divergence), 1e-12);
        ck_assert_double_le(rel_vec(gx + k * NN * DD, gx1, NN * DD), 1e-12);
    }
}
END_TEST

/* ------------------------------------------------------------ progress */

/* What the batch's progress callback saw, per problem. */
typedef struct {
    int inside, overlaps;          /* serialisation: never two calls at once */
    int updates[NB], last_it[NB];  /* per-update reports and their last count */
    int ends[NB], end_it[NB];      /* end reports */
    otk_status end_status[NB];
    int done_seen[NB + 1];         /* each done count of an end report */
    int bad;                       /* a report out of order */
    int stop_at, stopped, after_stop;
} batch_log;

static int log_batch(const otk_progress *info, void *ctx)
{
    batch_log *lg = ctx;
    int stop = 0;
    if (__atomic_add_fetch(&lg->inside, 1, __ATOMIC_SEQ_CST) > 1)
        lg->overlaps++;
    if (lg->stopped)
        lg->after_stop++;
    const size_t k = info->problem;
    if (k >= NB || info->done > NB) {
        lg->bad++;
    } else if (info->status == OTK_CONTINUE) {
        lg->bad += info->iterations != lg->last_it[k] + 1 || lg->ends[k] > 0;
        lg->updates[k]++;
        lg->last_it[k] = info->iterations;
        if (lg->stop_at > 0 && info->iterations == lg->stop_at)
            stop = lg->stopped = 1;
    } else {
        lg->ends[k]++;
        lg->end_it[k] = info->iterations;
        lg->end_status[k] = info->status;
        lg->done_seen[info->done]++;
    }
    /* Give another thread time to enter if the lock did not hold it out. */
    for (volatile int spin = 0; spin < 20000; spin++)
        ;
    __atomic_sub_fetch(&lg->inside, 1, __ATOMIC_SEQ_CST);
    return stop;
}

/* Every update of every problem is reported once, in order, then its end
 * with its status; the end reports count the problems done 1, 2, ..., B;
 * the calls never overlap although the problems run on two threads. */
START_TEST(test_batch_progress_reports_every_problem)
{
    static clouds c;
    make_clouds(&c, 31);
    static batch_log lg;
    memset(&lg, 0, sizeof lg);
    otk_sinkhorn_params par = sinkhorn_params(OTK_SCHEDULE_CONVERGE, 2);
    par.progress = log_batch;
    par.progress_ctx = &lg;
    otk_sinkhorn_result res[NB];
    ck_assert_int_eq(otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                        OTK_GROUND_SQEUCLIDEAN, 0, &par, res, NULL, NULL),
                     OTK_SUCCESS);
    ck_assert_int_eq(lg.overlaps, 0);
    ck_assert_int_eq(lg.bad, 0);
    for (int k = 0; k < NB; k++) {
        ck_assert_int_eq(lg.updates[k], res[k].iterations);
        ck_assert_int_eq(lg.ends[k], 1);
        ck_assert_int_eq(lg.end_it[k], res[k].iterations);
        ck_assert_int_eq(lg.end_status[k], OTK_SUCCESS);
        ck_assert_int_eq(lg.done_seen[k + 1], 1);
    }
    /* The callback changes nothing. */
    otk_sinkhorn_result quiet[NB];
    par.progress = NULL;
    TK_ASSERT_OK(otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b, OTK_GROUND_SQEUCLIDEAN,
                                    0, &par, quiet, NULL, NULL));
    for (int k = 0; k < NB; k++)
        ck_assert(quiet[k].ot_kl == res[k].ot_kl && quiet[k].iterations == res[k].iterations);
}
END_TEST

/* A nonzero return stops the batch: no call after it, the running problems
 * stop at their next update with their values and potentials then, the
 * others are not started (NaN, outputs untouched); OTK_CONTINUE. */
START_TEST(test_batch_progress_stops_the_batch)
{
    static clouds c;
    make_clouds(&c, 32);
    for (int threads = 1; threads <= 2; threads++) {
        static batch_log lg;
        memset(&lg, 0, sizeof lg);
        lg.stop_at = 3;
        otk_sinkhorn_params par = sinkhorn_params(OTK_SCHEDULE_CONVERGE, threads);
        par.progress = log_batch;
        par.progress_ctx = &lg;
        otk_sinkhorn_result res[NB];
        static double f[NB * NN], g[NB * MM];
        for (size_t i = 0; i < NB * NN; i++)
            f[i] = 7.0;
        for (size_t j = 0; j < NB * MM; j++)
            g[j] = 7.0;
        ck_assert_int_eq(otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                            OTK_GROUND_SQEUCLIDEAN, 0, &par, res, f, g),
                         OTK_CONTINUE);
        ck_assert_int_eq(lg.after_stop, 0);
        ck_assert_int_eq(lg.bad, 0);
        int started = 0, at_3 = 0;
        for (int k = 0; k < NB; k++) {
            /* Every problem passes update 3 on its way to its end: none ended. */
            ck_assert_int_eq(lg.ends[k], 0);
            ck_assert_int_eq(res[k].status, OTK_CONTINUE);
            if (res[k].iterations == 0) {
                ck_assert(isnan(res[k].ot_kl));
                ck_assert(f[k * NN] == 7.0 && g[k * MM] == 7.0);
                continue;
            }
            started++;
            at_3 += res[k].iterations == 3;
            /* The stopping problem at update 3; one running beside it at
             * its next update (3 at most: it had not reached 3). */
            ck_assert_int_le(res[k].iterations, 3);
            ck_assert(isfinite(res[k].ot_kl) && f[k * NN] != 7.0);
        }
        /* One thread: problem 0 alone.  Two: the one that reached update 3
         * and the one running beside it, if any. */
        ck_assert_int_ge(started, 1);
        ck_assert_int_le(started, threads);
        ck_assert_int_ge(at_3, 1);
        if (threads == 1)
            ck_assert_int_eq(res[0].iterations, 3);
    }
}
END_TEST

/* The divergence batch: the same reports, and a stop gives the gradients of
 * the stopped potentials (finite) and leaves the unstarted ones untouched. */
START_TEST(test_divergence_batch_progress_stops)
{
    static clouds c;
    make_clouds(&c, 33);
    static batch_log lg;
    memset(&lg, 0, sizeof lg);
    otk_divergence_params par = divergence_params(OTK_SCHEDULE_CONVERGE, 0.0, 1);
    par.progress = log_batch;
    par.progress_ctx = &lg;
    otk_divergence_result res[NB];
    TK_ASSERT_OK(otk_divergence_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                      OTK_GROUND_HALF_SQEUCLIDEAN, 0, &par, res, NULL, NULL,
                                      NULL, NULL));
    for (int k = 0; k < NB; k++) {
        ck_assert_int_eq(lg.updates[k], res[k].iterations);
        ck_assert_int_eq(lg.ends[k], 1);
        ck_assert_int_eq(lg.done_seen[k + 1], 1);
    }
    memset(&lg, 0, sizeof lg);
    lg.stop_at = 4;
    static double gx[NB * NN * DD];
    for (size_t i = 0; i < NB * NN * DD; i++)
        gx[i] = 7.0;
    ck_assert_int_eq(otk_divergence_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                          OTK_GROUND_HALF_SQEUCLIDEAN, 0, &par, res, gx, NULL,
                                          NULL, NULL),
                     OTK_CONTINUE);
    ck_assert_int_eq(res[0].status, OTK_CONTINUE);
    ck_assert_int_eq(res[0].iterations, 4);
    ck_assert(isfinite(res[0].divergence));
    for (size_t i = 0; i < NN * DD; i++)
        ck_assert(isfinite(gx[i]) && gx[i] != 7.0);
    for (int k = 1; k < NB; k++) {
        ck_assert_int_eq(res[k].status, OTK_CONTINUE);
        ck_assert_int_eq(res[k].iterations, 0);
        ck_assert(isnan(res[k].divergence) && gx[k * NN * DD] == 7.0);
    }
}
END_TEST

/* A relative ε and scale_cost by a statistic (docs/math.md A.10), resolved
 * per problem: problem 0 (all weights positive) equals its single solve with
 * the same parameters; problem 1, padded, its unpadded single solve, whose
 * statistics count only the real points (the padded problem's would count
 * the padding's entries too: 0.25 of x's points sit on one real point). */
START_TEST(test_batch_scale_aware_eps_is_per_problem)
{
    enum { NR = 30, MR = 24 };
    static clouds c;
    make_clouds(&c, 18);
    tk_rng rng = tk_rng_seed(19);
    static double xr[NR * DD], yr[MR * DD], ar[NR], br[MR];
    tk_points_gauss(&rng, NR, DD, 0.0, 0.3, xr);
    tk_points_gauss(&rng, MR, DD, 0.5, 0.3, yr);
    tk_weights_random(&rng, NR, 1.0, ar);
    tk_weights_random(&rng, MR, 1.0, br);
    size_t sx[NR], sy[MR];
    far = 0;
    pad(xr, ar, NR, NN, 1, c.x + NN * DD, c.a + NN, sx);
    pad(yr, br, MR, MM, 0, c.y + MM * DD, c.b + MM, sy);
    /* relative_eps, relative_to, scale_cost, scale_cost_stat, eps */
    const struct {
        double rel;
        otk_relative_to to;
        double s;
        int stat;
        double eps;
    } cases[4] = {{0.1, OTK_RELATIVE_MEAN, 0.0, -1, 0.0},
                  {0.05, OTK_RELATIVE_MEDIAN, 0.0, OTK_RELATIVE_MAX_COST, 0.0},
                  {0.0, OTK_RELATIVE_MEAN, 0.0, OTK_RELATIVE_STD, 0.02},
                  {0.2, OTK_RELATIVE_STD, 2.5, -1, 0.0}};
    static double f[NB * NN], g[NB * MM], gx[NB * NN * DD], gy[NB * MM * DD];
    static double ga[NB * NN], gb[NB * MM];
    double f1[NN], g1[MM], gx1[NN * DD], gy1[MM * DD], ga1[NN], gb1[MM];
    for (int q = 0; q < 4; q++) {
        otk_sinkhorn_params sp = sinkhorn_params(OTK_SCHEDULE_CONVERGE, 2);
        otk_divergence_params dp = divergence_params(OTK_SCHEDULE_CONVERGE, 0.0, 2);
        sp.blur = dp.blur = 0.05;
        sp.eps = dp.eps = cases[q].eps;
        sp.relative_eps = dp.relative_eps = cases[q].rel;
        sp.relative_to = dp.relative_to = cases[q].to;
        sp.scale_cost = dp.scale_cost = cases[q].s;
        sp.scale_cost_stat = dp.scale_cost_stat = cases[q].stat;
        otk_sinkhorn_result sres[NB], sr;
        otk_divergence_result dres[NB], dr;
        ck_assert_int_eq(otk_sinkhorn_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                            OTK_GROUND_SQEUCLIDEAN, 0, &sp, sres, f, g),
                         OTK_SUCCESS);
        ck_assert_int_eq(otk_divergence_batch(NB, NN, MM, DD, c.x, c.y, c.a, c.b,
                                              OTK_GROUND_HALF_SQEUCLIDEAN, 0, &dp, dres, gx, gy,
                                              ga, gb),
                         OTK_SUCCESS);
        sp.threads = dp.threads = 1;
        /* Problem 0, unpadded: the single solve's own statistics. */
        ck_assert_int_eq(single_sinkhorn(NN, MM, c.x, c.y, c.a, c.b, &sp, &sr, f1, g1),
                         OTK_SUCCESS);
        ck_assert_double_le(rel(sres[0].ot_kl, sr.ot_kl), 1e-12);
        ck_assert_double_le(rel(sres[0].eps, sr.eps), 1e-12);
        ck_assert_double_le(rel(sres[0].scale_cost, sr.scale_cost), 1e-12);
        ck_assert_double_le(rel_vec(f, f1, NN), 1e-12);
        ck_assert_int_eq(single_divergence(NN, MM, c.x, c.y, c.a, c.b, &dp, &dr, gx1, gy1, ga1,
                                           gb1),
                         OTK_SUCCESS);
        ck_assert_double_le(rel(dres[0].divergence, dr.divergence), 1e-12);
        ck_assert_double_le(rel(dres[0].eps, dr.eps), 1e-12);
        ck_assert_double_le(rel_vec(gx, gx1, NN * DD), 1e-12);
        /* Problem 1, padded: its unpadded single solve. */
        ck_assert_int_eq(single_sinkhorn(NR, MR, xr, yr, ar, br, &sp, &sr, f1, g1),
                         OTK_SUCCESS);
        ck_assert_msg(rel(sres[1].ot_kl, sr.ot_kl) <= 1e-12, "case %d: %.17g vs unpadded %.17g",
                      q, sres[1].ot_kl, sr.ot_kl);
        ck_assert_double_le(rel(sres[1].eps, sr.eps), 1e-12);
        ck_assert_double_le(rel(sres[1].scale_cost, sr.scale_cost), 1e-12);
        double fp[NR], gxp[NR * DD];
        for (size_t i = 0; i < NR; i++) {
            fp[i] = f[NN + sx[i]];
            memcpy(gxp + i * DD, gx + NN * DD + sx[i] * DD, DD * sizeof *gx);
        }
        ck_assert_double_le(rel_vec(fp, f1, NR), 1e-12);
        ck_assert_int_eq(single_divergence(NR, MR, xr, yr, ar, br, &dp, &dr, gx1, gy1, ga1,
                                           gb1),
                         OTK_SUCCESS);
        ck_assert_msg(rel(dres[1].divergence, dr.divergence) <= 1e-12,
                      "case %d: %.17g vs unpadded %.17g", q, dres[1].divergence, dr.divergence);
        ck_assert_double_le(rel(dres[1].eps, dr.eps), 1e-12);
        ck_assert_double_le(rel_vec(gxp, gx1, NR * DD), 1e-12);
    }
}
END_TEST

Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_add_test(tc, test_sinkhorn_batch_equals_single_solves);
    tcase_add_test(tc, test_sinkhorn_batch_does_not_depend_on_threads);
    tcase_add_test(tc, test_divergence_batch_equals_single_solves);
    tcase_add_test(tc, test_divergence_batch_padding_is_exact);
    tcase_add_test(tc, test_sinkhorn_batch_padding_is_exact);
    tcase_add_test(tc, test_batch_reports_each_problems_status);
    tcase_add_test(tc, test_batch_float32_equals_single_float32);
    tcase_add_test(tc, test_batch_progress_reports_every_problem);
    tcase_add_test(tc, test_batch_progress_stops_the_batch);
    tcase_add_test(tc, test_divergence_batch_progress_stops);
    tcase_add_test(tc, test_batch_scale_aware_eps_is_per_problem);
    tk_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}
