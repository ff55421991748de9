/* libotkit_mpi's machinery: collective errors, the ring of point blocks and
 * fixed-order global sums (docs/mpi.md). */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ring.h"

#define MESSAGE_LEN 512

static _Thread_local char last_error[MESSAGE_LEN];

const char *otk_mpi_last_error(void) { return last_error; }

otk_status otk_mpi__fail(otk_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return st;
}

otk_status otk_mpi__fail_serial(otk_status st, int rank, const char *what)
{
    return otk_mpi__fail(st, "rank %d: %s: %s", rank, what, otk_last_error());
}

static otk_status mpi_failed(int rc, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", rc);
    return otk_mpi__fail(OTK_EIO, "%s failed: %s", call, text);
}

otk_status otk_mpi__agree(MPI_Comm comm, otk_status st)
{
    int rank, size, rc;
    if ((rc = MPI_Comm_rank(comm, &rank)) != MPI_SUCCESS ||
        (rc = MPI_Comm_size(comm, &size)) != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Comm_rank");
    int mine = st < 0 ? rank : size, first = size;
    if ((rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm)) != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Allreduce");
    if (first == size)
        return st;
    /* The first failing rank's status and message, so that every rank reports
     * the same error whatever its own state. */
    struct {
        int status;
        char message[MESSAGE_LEN];
    } packet;
    if (rank == first) {
        packet.status = (int)st;
        memcpy(packet.message, last_error, MESSAGE_LEN);
    }
    if ((rc = MPI_Bcast(&packet, (int)sizeof packet, MPI_BYTE, first, comm)) != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Bcast");
    packet.message[MESSAGE_LEN - 1] = '\0';
    memcpy(last_error, packet.message, MESSAGE_LEN);
    return (otk_status)packet.status;
}

void otk_mpi__ring_free(otk_mpi__ring *R)
{
    if (!R)
        return;
    if (R->comm != MPI_COMM_NULL)
        MPI_Comm_free(&R->comm);
    free(R->n_of);
    free(R->x);
    free(R->y);
    free(R->buf[0]);
    free(R->buf[1]);
    free(R->gather);
    free(R->work);
    memset(R, 0, sizeof *R);
    R->comm = MPI_COMM_NULL;
}

/* A local check of this rank's arguments (no communication). */
static otk_status check_block(int rank, const char *name, const double *v, size_t len, size_t d)
{
    if (len > 0 && !v)
        return otk_mpi__fail(OTK_ENULL, "rank %d: %s_local is NULL with %zu points", rank, name,
                             len);
    for (size_t i = 0; i < len; i++)
        for (size_t k = 0; k < d; k++)
            if (!isfinite(v[i * d + k]))
                return otk_mpi__fail(OTK_ENONFINITE,
                                     "rank %d: %s_local[%zu][%zu] = %g is not finite", rank, name,
                                     i, k, v[i * d + k]);
    return OTK_SUCCESS;
}

otk_status otk_mpi__ring_init(otk_mpi__ring *R, MPI_Comm comm, size_t n_local, size_t m_local,
                              size_t d, const double *x, const double *y, otk_ground ground,
                              double power, int threads, int max_slots)
{
    memset(R, 0, sizeof *R);
    R->comm = MPI_COMM_NULL;
    if (comm == MPI_COMM_NULL)
        return otk_mpi__fail(OTK_ENULL, "the communicator is MPI_COMM_NULL");
    int rc;
    if ((rc = MPI_Comm_dup(comm, &R->comm)) != MPI_SUCCESS) {
        R->comm = MPI_COMM_NULL;
        return mpi_failed(rc, "MPI_Comm_dup");
    }
    MPI_Comm_set_errhandler(R->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(R->comm, &R->rank);
    MPI_Comm_size(R->comm, &R->size);
    const int P = R->size, rank = R->rank;
    R->d = d;
    R->ground = ground;
    R->power = power;
    R->threads = threads;
    R->max_slots = max_slots;
    R->n_local = n_local;
    R->m_local = m_local;

    otk_status st = OTK_SUCCESS;
    if (d == 0)
        st = otk_mpi__fail(OTK_ESIZE, "rank %d: d must be > 0", rank);
    else if (!(st = check_block(rank, "x", x, n_local, d)))
        st = check_block(rank, "y", y, m_local, d);
    if ((st = otk_mpi__agree(R->comm, st)))
        goto fail;

    /* Every rank's block sizes and d, so that the ring can size its messages. */
    unsigned long long mine[3] = {n_local, m_local, d};
    unsigned long long *all = malloc((size_t)P * 3 * sizeof *all);
    R->n_of = malloc((size_t)P * 2 * sizeof *R->n_of);
    if (!all || !R->n_of)
        st = otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory for %d block sizes", rank, P);
    /* Agree before the collective, so that no rank waits in it alone. */
    if (!(st = otk_mpi__agree(R->comm, st)) &&
        (rc = MPI_Allgather(mine, 3, MPI_UNSIGNED_LONG_LONG, all, 3, MPI_UNSIGNED_LONG_LONG,
                            R->comm)) != MPI_SUCCESS)
        st = otk_mpi__agree(R->comm, mpi_failed(rc, "MPI_Allgather"));
    if (st) {
        free(all);
        goto fail;
    }
    R->m_of = R->n_of + P;
    size_t n_max = 0, m_max = 0;
    for (int q = 0; q < P; q++) {
        if (all[3 * q + 2] != all[2] && !st)
            st = otk_mpi__fail(OTK_ESIZE, "rank %d has d = %llu but rank 0 has d = %llu", q,
                               all[3 * q + 2], all[2]);
        R->n_of[q] = (size_t)all[3 * q];
        R->m_of[q] = (size_t)all[3 * q + 1];
        R->n += R->n_of[q];
        R->m += R->m_of[q];
        n_max = R->n_of[q] > n_max ? R->n_of[q] : n_max;
        m_max = R->m_of[q] > m_max ? R->m_of[q] : m_max;
    }
    free(all);
    /* Every rank sees the same sizes: the checks below agree by themselves. */
    if (st)
        goto fail;
    if (R->n == 0 || R->m == 0) {
        st = otk_mpi__fail(OTK_ESIZE, "no %s points on any rank (n = %zu, m = %zu)",
                           R->n == 0 ? "source" : "target", R->n, R->m);
        goto fail;
    }
    const double len = (double)(n_max + m_max) * (double)(d + (size_t)max_slots);
    if (len > (double)INT_MAX) {
        st = otk_mpi__fail(OTK_ESIZE,
                           "a block of %zu + %zu points in dimension %zu does not fit in one "
                           "MPI message of INT_MAX doubles: use more ranks",
                           n_max, m_max, d);
        goto fail;
    }
    R->buf_len = (n_max + m_max) * (d + (size_t)max_slots);
    const size_t L = n_local > m_local ? n_local : m_local;
    const size_t work = OTK_MPI_MAX_TASKS * L * (2 + d);
    R->x = malloc((n_local * d + 1) * sizeof *R->x);
    R->y = malloc((m_local * d + 1) * sizeof *R->y);
    R->buf[0] = malloc(R->buf_len * sizeof(double));
    R->buf[1] = malloc(R->buf_len * sizeof(double));
    R->gather = malloc((size_t)P * OTK_MPI_MAX_SUMS * sizeof *R->gather);
    R->work = malloc((work + 1) * sizeof *R->work);
    if (!R->x || !R->y || !R->buf[0] || !R->buf[1] || !R->gather || !R->work)
        st = otk_mpi__fail(OTK_ENOMEM,
                           "rank %d: out of memory for blocks of %zu and %zu points (d = %zu)",
                           rank, n_max, m_max, d);
    if ((st = otk_mpi__agree(R->comm, st)))
        goto fail;
    if (n_local)
        memcpy(R->x, x, n_local * d * sizeof *x);
    if (m_local)
        memcpy(R->y, y, m_local * d * sizeof *y);
    return OTK_SUCCESS;
fail:
    otk_mpi__ring_free(R);
    return st;
}

otk_status otk_mpi__ring_diameter(otk_mpi__ring *R, double *diameter)
{
    const size_t d = R->d;
    double *lo = malloc(4 * d * sizeof *lo);
    otk_status st = lo ? OTK_SUCCESS
                       : otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory (diameter)", R->rank);
    if ((st = otk_mpi__agree(R->comm, st)))
        return st;
    /* lo[k] = min, lo[d + k] = −max: one exact MIN reduction. */
    for (size_t k = 0; k < d; k++) {
        lo[k] = INFINITY;
        lo[d + k] = INFINITY;
        for (size_t i = 0; i < R->n_local; i++) {
            double v = R->x[i * d + k];
            lo[k] = v < lo[k] ? v : lo[k];
            lo[d + k] = -v < lo[d + k] ? -v : lo[d + k];
        }
        for (size_t j = 0; j < R->m_local; j++) {
            double v = R->y[j * d + k];
            lo[k] = v < lo[k] ? v : lo[k];
            lo[d + k] = -v < lo[d + k] ? -v : lo[d + k];
        }
    }
    int rc = MPI_Allreduce(lo, lo + 2 * d, (int)(2 * d), MPI_DOUBLE, MPI_MIN, R->comm);
    if (rc != MPI_SUCCESS) {
        free(lo);
        return otk_mpi__agree(R->comm, mpi_failed(rc, "MPI_Allreduce"));
    }
    const double *g = lo + 2 * d;
    double width2 = 0.0, width1 = 0.0;
    for (size_t k = 0; k < d; k++) {
        double w = -g[d + k] - g[k];
        width2 += w * w;
        width1 += w;
    }
    free(lo);
    *diameter = R->ground == OTK_GROUND_L1 ? width1 : sqrt(width2);
    return OTK_SUCCESS;
}

otk_status otk_mpi__global_sums(otk_mpi__ring *R, const double *partial, int k, double *out)
{
    double t0 = MPI_Wtime();
    int rc = MPI_Allgather(partial, k, MPI_DOUBLE, R->gather, k, MPI_DOUBLE, R->comm);
    R->stats.wait_seconds += MPI_Wtime() - t0;
    R->stats.bytes_sent += (long long)k * (long long)sizeof(double);
    if (rc != MPI_SUCCESS)
        return otk_mpi__agree(R->comm, mpi_failed(rc, "MPI_Allgather"));
    for (int q = 0; q < k; q++) {
        double s = 0.0;
        for (int r = 0; r < R->size; r++)
            s += R->gather[(size_t)r * (size_t)k + (size_t)q];
        out[q] = s;
    }
    return OTK_SUCCESS;
}

otk_status otk_mpi__all_finite(otk_mpi__ring *R, int *finite, const double *u, size_t nu,
                               const double *v, size_t nv)
{
    int mine = 1;
    for (size_t i = 0; i < nu && mine; i++)
        mine = isfinite(u[i]);
    for (size_t j = 0; j < nv && mine; j++)
        mine = isfinite(v[j]);
    int rc = MPI_Allreduce(&mine, finite, 1, MPI_INT, MPI_MIN, R->comm);
    if (rc != MPI_SUCCESS)
        return otk_mpi__agree(R->comm, mpi_failed(rc, "MPI_Allreduce"));
    return OTK_SUCCESS;
}

otk_status otk_mpi__set_weights(otk_mpi__ring *R, const char *name, const double *w_in,
                                size_t len_local, size_t len_global, double *w, double *log_w,
                                double *mass)
{
    /* NULL must mean the same thing on every rank. */
    int null_here = w_in == NULL && len_local > 0, null_any = 0, given_any = 0;
    int given_here = w_in != NULL;
    otk_status st = OTK_SUCCESS;
    int rc = MPI_Allreduce(&null_here, &null_any, 1, MPI_INT, MPI_MAX, R->comm);
    if (rc == MPI_SUCCESS)
        rc = MPI_Allreduce(&given_here, &given_any, 1, MPI_INT, MPI_MAX, R->comm);
    if (rc != MPI_SUCCESS)
        return otk_mpi__agree(R->comm, mpi_failed(rc, "MPI_Allreduce"));
    if (null_any && given_any && null_here)
        st = otk_mpi__fail(OTK_ENULL,
                           "rank %d: %s_local is NULL but other ranks give %s (NULL = uniform "
                           "must be passed on every rank)",
                           R->rank, name, name);
    /* The global index too: the concatenation in rank order. */
    const size_t *sizes = name[0] == 'a' ? R->n_of : R->m_of;
    size_t offset = 0;
    for (int q = 0; q < R->rank; q++)
        offset += sizes[q];
    double s = 0.0;
    for (size_t i = 0; i < len_local && !st; i++) {
        double v = w_in ? w_in[i] : 1.0 / (double)len_global;
        if (!isfinite(v))
            st = otk_mpi__fail(OTK_ENONFINITE,
                               "rank %d: %s_local[%zu] (%s[%zu] overall) = %g is not finite",
                               R->rank, name, i, name, offset + i, v);
        else if (v < 0.0)
            st = otk_mpi__fail(OTK_ENEGATIVE,
                               "rank %d: %s_local[%zu] (%s[%zu] overall) = %g is negative",
                               R->rank, name, i, name, offset + i, v);
        w[i] = v;
        log_w[i] = v > 0.0 ? log(v) : -INFINITY;
        s += v;
    }
    if ((st = otk_mpi__agree(R->comm, st)))
        return st;
    if ((st = otk_mpi__global_sums(R, &s, 1, mass)))
        return st;
    if (!w_in && !given_any)
        *mass = 1.0; /* as the serial solvers: uniform weights have unit mass */
    if (!(*mass > 0.0))
        return otk_mpi__fail(OTK_EZEROMASS, "%s sums to zero over all ranks (all %zu weights "
                                            "are 0)",
                             name, len_global);
    if (!isfinite(*mass))
        return otk_mpi__fail(OTK_ENONFINITE, "%s sums to %g over all ranks (overflow)", name,
                             *mass);
    return OTK_SUCCESS;
}

/* ------------------------------------------------------------ the ring pass */

/* Offsets of a packet holding block q: x, y, nhx x-side slots, nhy y-side slots. */
typedef struct {
    size_t x, y, hx, hy, len;
} layout;

static layout packet_layout(const otk_mpi__ring *R, int q, int nhx, int nhy)
{
    layout L;
    const size_t n = R->n_of[q], m = R->m_of[q];
    L.x = 0;
    L.y = n * R->d;
    L.hx = L.y + m * R->d;
    L.hy = L.hx + (size_t)nhx * n;
    L.len = L.hy + (size_t)nhy * m;
    return L;
}

/* Accumulate partial soft-mins (value −ε log S_b) as (max, sum) pairs of
 * log S: stable (the largest term is exp(0)) whatever the blocks' scales. */
static void accumulate_softmin(size_t len, double eps, const double *partial, double *M,
                               double *S)
{
    for (size_t i = 0; i < len; i++) {
        const double L = -partial[i] / eps;
        if (L == -INFINITY)
            continue;
        if (L > M[i]) {
            S[i] = S[i] * exp(M[i] - L) + 1.0;
            M[i] = L;
        } else {
            S[i] += exp(L - M[i]);
        }
    }
}

otk_status otk_mpi__ring_pass(otk_mpi__ring *R, double eps, const otk_mpi__task *tasks, int nt,
                              const double *hx, int nhx, const double *hy, int nhy)
{
    const int P = R->size, rank = R->rank;
    const size_t d = R->d;
    const size_t own_len[2] = {R->n_local, R->m_local};
    const double *own_pts[2] = {R->x, R->y};
    otk_status st = OTK_SUCCESS;
    double *acc[OTK_MPI_MAX_TASKS], *aux[OTK_MPI_MAX_TASKS], *part[OTK_MPI_MAX_TASKS];
    {
        const size_t L = R->n_local > R->m_local ? R->n_local : R->m_local;
        double *w = R->work;
        for (int t = 0; t < nt; t++) {
            const size_t len = own_len[tasks[t].own];
            acc[t] = w, w += L;
            aux[t] = w, w += L;
            part[t] = w, w += L * d;
            if (tasks[t].plan) {
                memset(tasks[t].out, 0, len * tasks[t].k * sizeof(double));
            } else {
                for (size_t i = 0; i < len; i++) {
                    acc[t][i] = -INFINITY; /* the running max of log S */
                    aux[t][i] = 0.0;       /* Σ exp(log S_b − max) */
                }
            }
        }
    }

    /* This rank's block into the first buffer. */
    layout own = packet_layout(R, rank, nhx, nhy);
    double *cur = R->buf[0], *next = R->buf[1];
    memcpy(cur + own.x, R->x, R->n_local * d * sizeof(double));
    memcpy(cur + own.y, R->y, R->m_local * d * sizeof(double));
    if (nhx)
        memcpy(cur + own.hx, hx, (size_t)nhx * R->n_local * sizeof(double));
    if (nhy)
        memcpy(cur + own.hy, hy, (size_t)nhy * R->m_local * sizeof(double));

    int block = rank;
    for (int step = 0; step < P; step++) {
        layout lay = packet_layout(R, block, nhx, nhy);
        MPI_Request req[2];
        int pending = step < P - 1;
        double t0 = MPI_Wtime();
        if (pending) {
            /* Pass the block on to the left while working on it: the next
             * rank computes on it in the next step. */
            int rc = MPI_Irecv(next, (int)R->buf_len, MPI_DOUBLE, (rank + 1) % P, 17, R->comm,
                               &req[0]);
            if (rc == MPI_SUCCESS)
                rc = MPI_Isend(cur, (int)lay.len, MPI_DOUBLE, (rank + P - 1) % P, 17, R->comm,
                               &req[1]);
            if (rc != MPI_SUCCESS)
                return otk_mpi__agree(R->comm, mpi_failed(rc, "MPI_Isend/Irecv"));
            R->stats.bytes_sent += (long long)(lay.len * sizeof(double));
            R->stats.messages++;
        }
        double t1 = MPI_Wtime();
        otk_cost *costs[2][2] = {{NULL, NULL}, {NULL, NULL}};
        const size_t vis_len[2] = {R->n_of[block], R->m_of[block]};
        const double *vis_pts[2] = {cur + lay.x, cur + lay.y};
        const double *vis_h[2] = {cur + lay.hx, cur + lay.hy};
        for (int t = 0; t < nt && !st; t++) {
            const otk_mpi__task *T = &tasks[t];
            const size_t nown = own_len[T->own], nvis = vis_len[T->vis];
            if (nown == 0 || nvis == 0)
                continue;
            otk_cost **c = &costs[T->own][T->vis];
            if (!*c) {
                otk_status cs = otk_cost_points(c, nown, nvis, d, own_pts[T->own],
                                                vis_pts[T->vis], R->ground, R->power);
                if (cs) {
                    st = otk_mpi__fail_serial(cs, rank, "otk_cost_points");
                    break;
                }
            }
            const double *h = vis_h[T->vis] + (size_t)T->slot * nvis;
            otk_status ks;
            if (T->plan) {
                ks = otk_cost_plan_reduce(*c, 0, eps, T->u, h, T->what, T->k, NULL, part[t],
                                          R->threads);
                if (!ks)
                    for (size_t i = 0; i < nown * T->k; i++)
                        T->out[i] += part[t][i];
            } else {
                ks = otk_cost_softmin(*c, 0, eps, h, part[t], R->threads);
                if (!ks)
                    accumulate_softmin(nown, eps, part[t], acc[t], aux[t]);
            }
            if (ks)
                st = otk_mpi__fail_serial(ks, rank, T->plan ? "otk_cost_plan_reduce"
                                                            : "otk_cost_softmin");
            R->stats.cost_entries += (long long)nown * (long long)nvis;
        }
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                otk_cost_free(costs[a][b]);
        double t2 = MPI_Wtime();
        R->stats.compute_seconds += t2 - t1;
        R->stats.wait_seconds += t1 - t0;
        if (pending) {
            /* Always complete the exchange, even after a local failure: the
             * neighbours are waiting for it. */
            int rc = MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
            if (rc != MPI_SUCCESS && !st)
                st = mpi_failed(rc, "MPI_Waitall");
            R->stats.wait_seconds += MPI_Wtime() - t2;
            double *swap = cur;
            cur = next;
            next = swap;
            block = (block + 1) % P;
        }
    }
    R->stats.passes++;
    if ((st = otk_mpi__agree(R->comm, st)))
        return st;
    for (int t = 0; t < nt; t++) {
        const otk_mpi__task *T = &tasks[t];
        if (T->plan)
            continue;
        for (size_t i = 0; i < own_len[T->own]; i++)
            T->out[i] = acc[t][i] == -INFINITY ? INFINITY
                                               : -eps * (acc[t][i] + log(aux[t][i]));
    }
    return OTK_SUCCESS;
}
