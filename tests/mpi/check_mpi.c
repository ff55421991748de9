/*
 * tests/mpi/check_mpi.c — libotkit_mpi (otkit/mpi.h) against the serial
 * library, run by tests/test_mpi.sh under `mpirun -np 1, 2, 4`.
 *
 * Every rank generates the same full problem, takes its block (uneven blocks;
 * with 4 ranks one rank has no target points), and compares its share of the
 * distributed result with the serial solver's on the whole problem:
 * values, potentials, divergence gradients and batch results to 1e-12
 * relative (max |distributed − serial| / max |serial| over all ranks), and
 * iteration counts exactly.  Then the collective errors: one bad input on the
 * last rank, every rank must return the same status and message.
 * Rank 0 prints one line per check and the summary "N passed, M failed".
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>
#include "otkit.h"
#include "otkit/mpi.h"

#define TOL 1e-12

static int rank, nranks, passed, failed;

/* ------------------------------------------------------------ data */

static unsigned long long rng_state;
static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

typedef struct {
    size_t n, m, d;
    double *x, *y, *a, *b;
    size_t n_lo, n_hi, m_lo, m_hi; /* this rank's block */
} problem;

/* Blocks of uneven sizes; with 4 ranks, rank 1 has no target points. */
static void block(size_t len, int r, int P, int empty_rank, size_t *lo, size_t *hi)
{
    size_t bounds[17];
    for (int q = 0; q <= P; q++)
        bounds[q] = (size_t)floor((double)len * pow((double)q / P, 1.3));
    bounds[P] = len;
    if (empty_rank >= 0 && empty_rank < P)
        bounds[empty_rank + 1] = bounds[empty_rank];
    *lo = bounds[r];
    *hi = bounds[r + 1];
}

static problem make_problem(size_t n, size_t m, size_t d, unsigned seed, double mass_b)
{
    problem p = {n, m, d, NULL, NULL, NULL, NULL, 0, 0, 0, 0};
    rng_state = seed;
    p.x = malloc(n * d * sizeof *p.x);
    p.y = malloc(m * d * sizeof *p.y);
    p.a = malloc(n * sizeof *p.a);
    p.b = malloc(m * sizeof *p.b);
    for (size_t k = 0; k < n * d; k++)
        p.x[k] = uniform();
    for (size_t k = 0; k < m * d; k++)
        p.y[k] = 0.3 + uniform() * 0.8;
    double sa = 0, sb = 0;
    for (size_t i = 0; i < n; i++)
        sa += p.a[i] = 0.2 + uniform();
    for (size_t j = 0; j < m; j++)
        sb += p.b[j] = 0.2 + uniform();
    for (size_t i = 0; i < n; i++)
        p.a[i] /= sa;
    for (size_t j = 0; j < m; j++)
        p.b[j] *= mass_b / sb;
    block(n, rank, nranks, -1, &p.n_lo, &p.n_hi);
    block(m, rank, nranks, nranks == 4 ? 1 : -1, &p.m_lo, &p.m_hi);
    return p;
}

static void free_problem(problem *p)
{
    free(p->x);
    free(p->y);
    free(p->a);
    free(p->b);
}

/* ------------------------------------------------------------ checks */

static void check(int ok, const char *fmt, ...)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rank == 0) {
        va_list ap;
        va_start(ap, fmt);
        printf("%s: np=%d ", all ? "PASS" : "FAIL", nranks);
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        fflush(stdout);
    }
    if (all)
        passed++;
    else
        failed++;
}

/* max |got − want| over this rank's slice, reduced over the ranks, divided by
 * max |want| over the whole array. */
static double rel_error(const double *got, const double *want_full, size_t lo, size_t hi,
                        size_t full_len, size_t stride)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = lo * stride; i < hi * stride; i++)
        diff = fmax(diff, fabs(got[i - lo * stride] - want_full[i]));
    for (size_t i = 0; i < full_len * stride; i++)
        scale = fmax(scale, fabs(want_full[i]));
    double g = 0.0;
    MPI_Allreduce(&diff, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return scale > 0.0 ? g / scale : g;
}

static double rel(double got, double want)
{
    return fabs(got - want) / fmax(fabs(want), 1e-300);
}

/* ------------------------------------------------------------ Sinkhorn */

static void sinkhorn_case(const char *name, otk_ground ground, double power, double mass_b,
                          const otk_sinkhorn_params *par, otk_status expect)
{
    problem p = make_problem(57, 43, 3, 11, mass_b);
    otk_cost *cost;
    otk_sinkhorn *ref;
    otk_sinkhorn_result want, got, again;
    if (otk_cost_points(&cost, p.n, p.m, p.d, p.x, p.y, ground, power) ||
        otk_sinkhorn_alloc(&ref, cost, par)) {
        check(0, "%s: serial setup: %s", name, otk_last_error());
        return;
    }
    otk_status st_ref = otk_sinkhorn_solve(ref, p.a, p.b, &want);

    otk_mpi_sinkhorn *s;
    otk_status st = otk_mpi_sinkhorn_alloc(&s, MPI_COMM_WORLD, p.n_hi - p.n_lo, p.m_hi - p.m_lo,
                                           p.d, p.x + p.n_lo * p.d, p.y + p.m_lo * p.d, ground,
                                           power, par);
    if (st) {
        check(0, "%s: alloc: %s", name, otk_mpi_last_error());
        return;
    }
    st = otk_mpi_sinkhorn_solve(s, p.a + p.n_lo, p.b + p.m_lo, &got);
    const double ef = rel_error(otk_mpi_sinkhorn_potential_f(s), otk_sinkhorn_potential_f(ref),
                                p.n_lo, p.n_hi, p.n, 1);
    const double eg = rel_error(otk_mpi_sinkhorn_potential_g(s), otk_sinkhorn_potential_g(ref),
                                p.m_lo, p.m_hi, p.m, 1);
    const double ev = fmax(rel(got.ot_kl, want.ot_kl),
                           fmax(rel(got.ot_ent, want.ot_ent), rel(got.ot_lin, want.ot_lin)));
    /* The marginal error is dimensionless: 1e-12 absolute. */
    const double ee = isnan(want.marginal_error) ? 0.0
                      : fabs(got.marginal_error - want.marginal_error);
    check(st == expect && st_ref == expect && got.status == want.status &&
              got.iterations == want.iterations &&
              got.annealing_iterations == want.annealing_iterations && ev <= TOL && ef <= TOL &&
              eg <= TOL && ee <= 1e-12,
          "sinkhorn %s: status %s/%s, iterations %d/%d (annealing %d/%d), OT_kl %.15g vs "
          "serial %.15g, values rel %.1e, f rel %.1e, g rel %.1e, marginal error %.3g/%.3g",
          name, otk_status_name(st), otk_status_name(st_ref), got.iterations, want.iterations,
          got.annealing_iterations, want.annealing_iterations, got.ot_kl, want.ot_kl, ev, ef, eg,
          got.marginal_error, want.marginal_error);

    /* Bitwise reproducible for a given rank count: solve again. */
    double *f1 = malloc((p.n_hi - p.n_lo + 1) * sizeof *f1);
    memcpy(f1, otk_mpi_sinkhorn_potential_f(s), (p.n_hi - p.n_lo) * sizeof *f1);
    otk_mpi_sinkhorn_solve(s, p.a + p.n_lo, p.b + p.m_lo, &again);
    check(memcmp(&again.ot_kl, &got.ot_kl, sizeof got.ot_kl) == 0 &&
              memcmp(f1, otk_mpi_sinkhorn_potential_f(s), (p.n_hi - p.n_lo) * sizeof *f1) == 0,
          "sinkhorn %s: a second solve gives the same bits", name);
    free(f1);
    otk_mpi_sinkhorn_free(s);
    otk_sinkhorn_free(ref);
    otk_cost_free(cost);
    free_problem(&p);
}

static void sinkhorn_uniform_case(void)
{
    /* NULL weights on every rank: uniform 1/n over the global n. */
    problem p = make_problem(40, 33, 2, 5, 1.0);
    otk_cost *cost;
    otk_sinkhorn *ref;
    otk_sinkhorn_result want, got;
    otk_cost_points(&cost, p.n, p.m, p.d, p.x, p.y, OTK_GROUND_EUCLIDEAN, 0.0);
    otk_sinkhorn_alloc(&ref, cost, NULL);
    otk_sinkhorn_solve(ref, NULL, NULL, &want);
    otk_mpi_sinkhorn *s;
    otk_mpi_sinkhorn_alloc(&s, MPI_COMM_WORLD, p.n_hi - p.n_lo, p.m_hi - p.m_lo, p.d,
                           p.x + p.n_lo * p.d, p.y + p.m_lo * p.d, OTK_GROUND_EUCLIDEAN, 0.0,
                           NULL);
    otk_status st = otk_mpi_sinkhorn_solve(s, NULL, NULL, &got);
    const double eg = rel_error(otk_mpi_sinkhorn_potential_g(s), otk_sinkhorn_potential_g(ref),
                                p.m_lo, p.m_hi, p.m, 1);
    check(st == OTK_SUCCESS && got.iterations == want.iterations &&
              rel(got.ot_kl, want.ot_kl) <= TOL && eg <= TOL && got.mass_a == 1.0,
          "sinkhorn euclidean, uniform weights (NULL): OT_kl %.15g vs %.15g, g rel %.1e",
          got.ot_kl, want.ot_kl, eg);
    otk_mpi_sinkhorn_free(s);
    otk_sinkhorn_free(ref);
    otk_cost_free(cost);
    free_problem(&p);
}

/* ------------------------------------------------------------ divergence */

static void divergence_case(const char *name, otk_ground ground, double mass_b,
                            const otk_divergence_params *par)
{
    problem p = make_problem(45, 38, 2, 23, mass_b);
    otk_divergence *ref;
    otk_divergence_result want, got;
    if (otk_divergence_alloc_points(&ref, p.n, p.m, p.d, p.x, p.y, ground, 0.0, par)) {
        check(0, "%s: serial setup: %s", name, otk_last_error());
        return;
    }
    otk_status st_ref = otk_divergence_solve(ref, p.a, p.b, &want);
    double *gx = malloc(p.n * p.d * sizeof *gx), *gy = malloc(p.m * p.d * sizeof *gy);
    double *ga = malloc(p.n * sizeof *ga), *gb = malloc(p.m * sizeof *gb);
    otk_divergence_grad_x(ref, gx);
    otk_divergence_grad_y(ref, gy);
    otk_divergence_grad_a(ref, ga);
    otk_divergence_grad_b(ref, gb);

    const size_t nl = p.n_hi - p.n_lo, ml = p.m_hi - p.m_lo;
    otk_mpi_divergence *div;
    otk_status st = otk_mpi_divergence_alloc(&div, MPI_COMM_WORLD, nl, ml, p.d,
                                             p.x + p.n_lo * p.d, p.y + p.m_lo * p.d, ground, 0.0,
                                             par);
    if (st) {
        check(0, "%s: alloc: %s", name, otk_mpi_last_error());
        return;
    }
    st = otk_mpi_divergence_solve(div, p.a + p.n_lo, p.b + p.m_lo, &got);
    double *lx = malloc((nl * p.d + 1) * sizeof *lx), *ly = malloc((ml * p.d + 1) * sizeof *ly);
    double *la = malloc((nl + 1) * sizeof *la), *lb = malloc((ml + 1) * sizeof *lb);
    otk_status sg = otk_mpi_divergence_grad_x(div, lx);
    if (!sg)
        sg = otk_mpi_divergence_grad_y(div, ly);
    if (!sg)
        sg = otk_mpi_divergence_grad_a(div, la);
    if (!sg)
        sg = otk_mpi_divergence_grad_b(div, lb);
    const double ex = rel_error(lx, gx, p.n_lo, p.n_hi, p.n, p.d);
    const double ey = rel_error(ly, gy, p.m_lo, p.m_hi, p.m, p.d);
    const double ea = rel_error(la, ga, p.n_lo, p.n_hi, p.n, 1);
    const double eb = rel_error(lb, gb, p.m_lo, p.m_hi, p.m, 1);
    const double ev = rel(got.divergence, want.divergence);
    /* The marginal errors (relative L1, dimensionless; NAN for the fixed
     * schedule) agree to rounding: 1e-12 absolute. */
    const double ee = isnan(want.marginal_error) && isnan(got.marginal_error)
                          ? 0.0
                          : fabs(got.marginal_error - want.marginal_error);
    check(st == st_ref && sg == OTK_SUCCESS && got.iterations == want.iterations && ee <= 1e-12 &&
              got.annealing_iterations == want.annealing_iterations && ev <= TOL && ex <= TOL &&
              ey <= TOL && ea <= TOL && eb <= TOL,
          "divergence %s: status %s/%s, iterations %d/%d, S %.15g vs serial %.15g (rel %.1e), "
          "grad_x rel %.1e, grad_y rel %.1e, grad_a rel %.1e, grad_b rel %.1e, marginal error "
          "%.6g/%.6g",
          name, otk_status_name(st), otk_status_name(st_ref), got.iterations, want.iterations,
          got.divergence, want.divergence, ev, ex, ey, ea, eb, got.marginal_error,
          want.marginal_error);
    free(lx);
    free(ly);
    free(la);
    free(lb);
    free(gx);
    free(gy);
    free(ga);
    free(gb);
    otk_mpi_divergence_free(div);
    otk_divergence_free(ref);
    free_problem(&p);
}

/* ------------------------------------------------------------ batch */

#define BATCH 9

typedef struct {
    problem probs[BATCH];
    int calls;
} batch_data;

static otk_status batch_problem(size_t index, otk_mpi_problem *prob, void *ctx)
{
    batch_data *bd = ctx;
    bd->calls++;
    if (index == 4)
        return OTK_EIO; /* a problem that cannot be read: its result says so */
    const problem *p = &bd->probs[index];
    *prob = (otk_mpi_problem){p->n, p->m, p->d, p->x, p->y, p->a, index % 2 ? NULL : p->b,
                              OTK_GROUND_SQEUCLIDEAN, 0.0};
    if (index % 2)
        prob->a = NULL;
    return OTK_SUCCESS;
}

static void batch_case(void)
{
    batch_data bd;
    bd.calls = 0;
    for (int k = 0; k < BATCH; k++)
        bd.probs[k] = make_problem(10 + 7 * (size_t)k, 12 + 3 * (size_t)k, 2, 100 + (unsigned)k, 1.0);
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.blur = 0.1;
    otk_sinkhorn_result res[BATCH];
    int by[BATCH];
    otk_status st = otk_mpi_sinkhorn_batch(MPI_COMM_WORLD, BATCH, batch_problem, &bd, &par, res,
                                           by);
    double worst = 0.0;
    int ok = st == OTK_SUCCESS, workers_ok = 1;
    for (int k = 0; k < BATCH; k++) {
        if (k == 4) {
            ok = ok && res[k].status == OTK_EIO;
            continue;
        }
        const problem *p = &bd.probs[k];
        otk_cost *cost;
        otk_sinkhorn *s;
        otk_sinkhorn_result want;
        otk_cost_points(&cost, p->n, p->m, p->d, p->x, p->y, OTK_GROUND_SQEUCLIDEAN, 0.0);
        otk_sinkhorn_alloc(&s, cost, &par);
        otk_sinkhorn_solve(s, k % 2 ? NULL : p->a, k % 2 ? NULL : p->b, &want);
        /* Solved by the same serial code: the same bits. */
        ok = ok && res[k].status == want.status && res[k].iterations == want.iterations;
        worst = fmax(worst, fmax(rel(res[k].ot_kl, want.ot_kl), rel(res[k].ot_lin, want.ot_lin)));
        if (nranks > 1 && by[k] == 0)
            workers_ok = 0; /* the manager hands out, does not solve */
        otk_sinkhorn_free(s);
        otk_cost_free(cost);
    }
    check(ok && worst <= TOL && workers_ok,
          "batch of %d problems (one failing in its callback): results in input order, worst "
          "rel %.1e vs serial, problem 0..3 solved by ranks %d %d %d %d",
          BATCH, worst, by[0], by[1], by[2], by[3]);
    for (int k = 0; k < BATCH; k++)
        free_problem(&bd.probs[k]);
}

/* ------------------------------------------------------------ collective errors */

/* Every rank got status `want` and rank 0's message, which contains `needle`. */
static void same_error(const char *what, otk_status st, otk_status want, const char *needle)
{
    char msg[512], root[512];
    snprintf(msg, sizeof msg, "%s", otk_mpi_last_error());
    memcpy(root, msg, sizeof msg);
    MPI_Bcast(root, sizeof root, MPI_CHAR, 0, MPI_COMM_WORLD);
    check(st == want && strcmp(msg, root) == 0 && strstr(msg, needle) != NULL,
          "bad input (%s): every rank returns %s with the message \"%s\"", what,
          otk_status_name(st), msg);
}

static void error_cases(void)
{
    problem p = make_problem(30, 26, 2, 7, 1.0);
    const size_t nl = p.n_hi - p.n_lo, ml = p.m_hi - p.m_lo;
    const int last = nranks - 1;
    char needle[128];

    /* A negative target weight on the last rank only. */
    otk_mpi_sinkhorn *s;
    otk_status st = otk_mpi_sinkhorn_alloc(&s, MPI_COMM_WORLD, nl, ml, p.d, p.x + p.n_lo * p.d,
                                           p.y + p.m_lo * p.d, OTK_GROUND_SQEUCLIDEAN, 0.0, NULL);
    double *b = malloc((ml + 1) * sizeof *b);
    memcpy(b, p.b + p.m_lo, ml * sizeof *b);
    if (rank == last && ml > 2)
        b[2] = -1.0;
    otk_sinkhorn_result res;
    st = otk_mpi_sinkhorn_solve(s, p.a + p.n_lo, b, &res);
    size_t last_lo, last_hi;
    block(p.m, last, nranks, nranks == 4 ? 1 : -1, &last_lo, &last_hi);
    snprintf(needle, sizeof needle, "rank %d: b_local[2] (b[%zu] overall) = -1 is negative",
             last, last_lo + 2);
    same_error("negative weight on the last rank", st, OTK_ENEGATIVE, needle);
    /* The solver is still usable: the next solve with good weights works. */
    st = otk_mpi_sinkhorn_solve(s, p.a + p.n_lo, p.b + p.m_lo, &res);
    check(st == OTK_SUCCESS, "after a collective error the solver solves again: %s",
          otk_status_name(st));
    otk_mpi_sinkhorn_free(s);
    free(b);

    /* A non-finite coordinate on the last rank, at alloc. */
    double *x = malloc((nl * p.d + 1) * sizeof *x);
    memcpy(x, p.x + p.n_lo * p.d, nl * p.d * sizeof *x);
    if (rank == last)
        x[1] = NAN;
    otk_mpi_divergence *div = (otk_mpi_divergence *)&p;
    st = otk_mpi_divergence_alloc(&div, MPI_COMM_WORLD, nl, ml, p.d, x, p.y + p.m_lo * p.d,
                                  OTK_GROUND_SQEUCLIDEAN, 0.0, NULL);
    snprintf(needle, sizeof needle, "rank %d: x_local[0][1] = nan is not finite", last);
    same_error("NaN coordinate on the last rank", st, OTK_ENONFINITE, needle);
    check(div == NULL, "a failed alloc leaves NULL on every rank");
    free(x);

    /* A dimension that differs on the last rank. */
    st = otk_mpi_sinkhorn_alloc(&s, MPI_COMM_WORLD, nl, ml, rank == last ? 1 : 2,
                                p.x + p.n_lo * p.d, p.y + p.m_lo * p.d, OTK_GROUND_SQEUCLIDEAN,
                                0.0, NULL);
    same_error("dimension differs on the last rank", st, nranks > 1 ? OTK_ESIZE : OTK_SUCCESS,
               nranks > 1 ? "has d = 1 but rank 0 has d = 2" : "");
    if (st == OTK_SUCCESS)
        otk_mpi_sinkhorn_free(s);

    /* Unequal masses of a balanced problem (a global condition). */
    otk_mpi_sinkhorn_alloc(&s, MPI_COMM_WORLD, nl, ml, p.d, p.x + p.n_lo * p.d,
                           p.y + p.m_lo * p.d, OTK_GROUND_SQEUCLIDEAN, 0.0, NULL);
    double *a2 = malloc((nl + 1) * sizeof *a2);
    for (size_t i = 0; i < nl; i++)
        a2[i] = 2.0 * p.a[p.n_lo + i];
    st = otk_mpi_sinkhorn_solve(s, a2, p.b + p.m_lo, &res);
    same_error("unequal masses", st, OTK_EMASS, "over all ranks");
    free(a2);
    otk_mpi_sinkhorn_free(s);

    /* A bad parameter is the serial library's message. */
    otk_sinkhorn_params par;
    otk_sinkhorn_params_default(&par);
    par.scaling = 1.5;
    st = otk_mpi_sinkhorn_alloc(&s, MPI_COMM_WORLD, nl, ml, p.d, p.x + p.n_lo * p.d,
                                p.y + p.m_lo * p.d, OTK_GROUND_SQEUCLIDEAN, 0.0, &par);
    same_error("scaling out of range", st, OTK_EPARAM, "params.scaling = 1.5");

    /* A parameter that differs on the last rank (a collective call needs the
     * same everywhere). */
    otk_divergence_params dpar;
    otk_divergence_params_default(&dpar);
    if (rank == last)
        dpar.blur = 0.07;
    otk_mpi_divergence *div2 = NULL;
    st = otk_mpi_divergence_alloc(&div2, MPI_COMM_WORLD, nl, ml, p.d, p.x + p.n_lo * p.d,
                                  p.y + p.m_lo * p.d, OTK_GROUND_SQEUCLIDEAN, 0.0, &dpar);
    same_error("blur differs on the last rank", st, nranks > 1 ? OTK_EPARAM : OTK_SUCCESS,
               nranks > 1 ? "params.blur differs between ranks" : "");
    otk_mpi_divergence_free(div2);
    free_problem(&p);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    otk_sinkhorn_params sp;
    otk_sinkhorn_params_default(&sp);
    sp.blur = 0.1;
    sp.threads = 1;
    sinkhorn_case("balanced, converge (alternating)", OTK_GROUND_SQEUCLIDEAN, 0.0, 1.0, &sp,
                  OTK_SUCCESS);
    sp.update = OTK_UPDATE_SYMMETRIC;
    sinkhorn_case("balanced, converge, symmetric", OTK_GROUND_SQEUCLIDEAN, 0.0, 1.0, &sp,
                  OTK_SUCCESS);
    otk_sinkhorn_params_default(&sp);
    sp.schedule = OTK_SCHEDULE_FIXED;
    sp.blur = 0.05;
    sinkhorn_case("balanced, fixed (GeomLoss)", OTK_GROUND_HALF_SQEUCLIDEAN, 0.0, 1.0, &sp,
                  OTK_SUCCESS);
    otk_sinkhorn_params_default(&sp);
    sp.eps = 0.02;
    sp.rho_a = 0.5;
    sp.rho_b = 2.0;
    sinkhorn_case("unbalanced rho_a 0.5 rho_b 2, converge, mass_b 1.3", OTK_GROUND_SQEUCLIDEAN,
                  0.0, 1.3, &sp, OTK_SUCCESS);
    otk_sinkhorn_params_default(&sp);
    sp.schedule = OTK_SCHEDULE_FIXED;
    sp.reach = 0.3;
    sinkhorn_case("unbalanced reach 0.3, fixed, lp P=1.5", OTK_GROUND_LP, 1.5, 0.8, &sp,
                  OTK_SUCCESS);
    otk_sinkhorn_params_default(&sp);
    sp.blur = 0.02;
    sp.max_iter = 3;
    sp.no_annealing = 1;
    sinkhorn_case("not converged (max_iter 3, no annealing): best iterate", OTK_GROUND_L1, 0.0,
                  1.0, &sp, OTK_NOT_CONVERGED);
    /* Unbalanced with a small ρ: the error rises at the second target
     * update, so the best iterate is an earlier one. */
    otk_sinkhorn_params_default(&sp);
    sp.blur = 0.05;
    sp.rho_a = sp.rho_b = 0.01;
    sp.max_iter = 2;
    sp.tol = 1e-15;
    sinkhorn_case("not converged, error rising (rho 0.01, max_iter 2): best iterate",
                  OTK_GROUND_SQEUCLIDEAN, 0.0, 1.0, &sp, OTK_NOT_CONVERGED);
    sinkhorn_uniform_case();

    otk_divergence_params dp;
    otk_divergence_params_default(&dp);
    dp.blur = 0.1;
    divergence_case("balanced, converge", OTK_GROUND_HALF_SQEUCLIDEAN, 1.0, &dp);
    otk_divergence_params_default(&dp);
    dp.schedule = OTK_SCHEDULE_FIXED;
    dp.reach = 0.5;
    divergence_case("unbalanced reach 0.5, fixed", OTK_GROUND_EUCLIDEAN, 1.4, &dp);
    /* The fixed schedule's balanced weight gradients are not projected (no
     * global mean), and without debias there is no symmetric term. */
    otk_divergence_params_default(&dp);
    dp.schedule = OTK_SCHEDULE_FIXED;
    dp.blur = 0.1;
    divergence_case("balanced, fixed", OTK_GROUND_HALF_SQEUCLIDEAN, 1.0, &dp);
    otk_divergence_params_default(&dp);
    dp.schedule = OTK_SCHEDULE_FIXED;
    dp.debias = 0;
    dp.rho = 1.0;
    divergence_case("debias off, unbalanced rho 1, fixed", OTK_GROUND_SQEUCLIDEAN, 0.7, &dp);
    otk_divergence_params_default(&dp);
    dp.debias = 0;
    dp.rho = 1.0;
    divergence_case("debias off, unbalanced rho 1, converge", OTK_GROUND_SQEUCLIDEAN, 0.7, &dp);
    otk_divergence_params_default(&dp);
    dp.blur = 0.02;
    dp.max_iter = 4;
    dp.tol = 1e-15;
    divergence_case("not converged (max_iter 4): best iterate", OTK_GROUND_SQEUCLIDEAN, 1.0, &dp);
    /* Here the error rises at the second target update: the best iterate is
     * the first (the serial solver keeps it; so must the distributed one). */
    otk_divergence_params_default(&dp);
    dp.blur = 0.02;
    dp.rho = 0.01;
    dp.debias = 0;
    dp.max_iter = 2;
    dp.tol = 1e-15;
    divergence_case("not converged, error rising (rho 0.01, max_iter 2): best iterate",
                    OTK_GROUND_SQEUCLIDEAN, 1.0, &dp);

    batch_case();
    error_cases();

    if (rank == 0)
        printf("%d passed, %d failed\n", passed, failed);
    MPI_Finalize();
    return failed ? 1 : 0;
}
