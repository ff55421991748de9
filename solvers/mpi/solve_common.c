/* The schedule and parameter checks of libotkit_mpi's solvers. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "solve_common.h"

otk_status otk_mpi__schedule_build(otk_mpi__ring *R, const otk_mpi__common *c,
                                   otk_mpi__schedule *out)
{
    otk_status st;
    double D;
    out->list = NULL;
    if ((st = otk_mpi__ring_diameter(R, &D)))
        return st;
    const double p = c->p > 0.0 ? c->p : otk_ground_exponent(c->ground, c->power);
    out->p = p;
    out->eps = c->eps > 0.0 ? c->eps : pow(c->blur, p);
    out->blur = pow(out->eps, 1.0 / p);
    out->diameter = c->diameter > 0.0 ? c->diameter : D;
    /* The distributed solvers run the symmetric and the plain alternating
     * updates; AUTO is the alternating one here (the serial default's
     * accelerations are not distributed). */
    if (c->update != OTK_UPDATE_AUTO && c->update != OTK_UPDATE_SYMMETRIC &&
        c->update != OTK_UPDATE_ALTERNATING)
        return otk_mpi__fail(OTK_EPARAM,
                             "params.update = %s: the distributed solvers run only the "
                             "symmetric and alternating updates",
                             otk_update_name(c->update) ? otk_update_name(c->update) : "?");
    out->update = c->update != OTK_UPDATE_AUTO       ? c->update
                  : c->schedule == OTK_SCHEDULE_FIXED ? OTK_UPDATE_SYMMETRIC
                                                      : OTK_UPDATE_ALTERNATING;
    /* Every rank has the same numbers: the outcome is the same everywhere. */
    const int len = otk_epsilon_schedule(out->diameter, p, out->blur, c->scaling, NULL, 0);
    if (len < 0)
        return otk_mpi__fail((otk_status)len, "%s", otk_last_error());
    out->list = malloc((size_t)len * sizeof *out->list);
    st = out->list ? OTK_SUCCESS
                   : otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory for the eps-list", R->rank);
    if ((st = otk_mpi__agree(R->comm, st))) {
        free(out->list);
        out->list = NULL;
        return st;
    }
    otk_epsilon_schedule(out->diameter, p, out->blur, c->scaling, out->list, len);
    out->list[len - 1] = out->eps; /* the target ε to the last bit */
    out->len = len;
    return OTK_SUCCESS;
}

otk_status otk_mpi__check_params_sinkhorn(int rank, size_t d, otk_ground ground, double power,
                                          const otk_sinkhorn_params *par)
{
    double *origin = calloc(d, sizeof *origin);
    if (!origin)
        return otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory", rank);
    otk_cost *c = NULL;
    otk_sinkhorn *s = NULL;
    otk_status st = otk_cost_points(&c, 1, 1, d, origin, origin, ground, power);
    if (st)
        st = otk_mpi__fail_serial(st, rank, "ground cost");
    else if ((st = otk_sinkhorn_alloc(&s, c, par)))
        st = otk_mpi__fail_serial(st, rank, "params");
    otk_sinkhorn_free(s);
    otk_cost_free(c);
    free(origin);
    return st;
}

otk_status otk_mpi__check_params_divergence(int rank, size_t d, otk_ground ground, double power,
                                            const otk_divergence_params *par)
{
    double *origin = calloc(d, sizeof *origin);
    if (!origin)
        return otk_mpi__fail(OTK_ENOMEM, "rank %d: out of memory", rank);
    otk_divergence *div = NULL;
    otk_status st =
        otk_divergence_alloc_points(&div, 1, 1, d, origin, origin, ground, power, par);
    if (st)
        st = otk_mpi__fail_serial(st, rank, "params");
    otk_divergence_free(div);
    free(origin);
    return st;
}

double otk_mpi__side_error(const double *w, const double *pot, const double *soft, size_t n,
                           double eps, double rho)
{
    double err = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == 0.0)
            continue;
        double target = isinf(rho) ? 1.0 : exp(-pot[i] / rho);
        err += w[i] * fabs(exp((pot[i] - soft[i]) / eps) - target);
    }
    return err;
}

otk_status otk_mpi__same_everywhere(MPI_Comm comm, const double *values,
                                    const char *const *names, int k)
{
    double lo[OTK_MPI_MAX_PARAMS], hi[OTK_MPI_MAX_PARAMS];
    /* NaN compares false: map it to a value no parameter takes. */
    double v[OTK_MPI_MAX_PARAMS];
    for (int q = 0; q < k; q++)
        v[q] = isnan(values[q]) ? -HUGE_VAL : values[q];
    if (MPI_Allreduce(v, lo, k, MPI_DOUBLE, MPI_MIN, comm) != MPI_SUCCESS ||
        MPI_Allreduce(v, hi, k, MPI_DOUBLE, MPI_MAX, comm) != MPI_SUCCESS)
        return otk_mpi__agree(comm, otk_mpi__fail(OTK_EIO, "MPI_Allreduce failed"));
    for (int q = 0; q < k; q++)
        if (memcmp(&lo[q], &hi[q], sizeof lo[q]) != 0)
            return otk_mpi__fail(OTK_EPARAM,
                                 "%s differs between ranks (from %.17g to %.17g): a collective "
                                 "call needs the same parameters on every rank",
                                 names[q], lo[q], hi[q]);
    return OTK_SUCCESS;
}

int otk_mpi__sinkhorn_param_values(const otk_sinkhorn_params *par, otk_ground ground,
                                   double power, double *values, const char **names)
{
    int k = 0;
#define OTK_MPI_PARAM_(name, value) (names[k] = (name), values[k++] = (double)(value))
    OTK_MPI_PARAM_("params.eps", par->eps);
    OTK_MPI_PARAM_("params.blur", par->blur);
    OTK_MPI_PARAM_("params.rho_a", par->rho_a);
    OTK_MPI_PARAM_("params.rho_b", par->rho_b);
    OTK_MPI_PARAM_("params.reach", par->reach);
    OTK_MPI_PARAM_("params.schedule", par->schedule);
    OTK_MPI_PARAM_("params.update", par->update);
    OTK_MPI_PARAM_("params.scaling", par->scaling);
    OTK_MPI_PARAM_("params.diameter", par->diameter);
    OTK_MPI_PARAM_("params.p", par->p);
    OTK_MPI_PARAM_("params.tol", par->tol);
    OTK_MPI_PARAM_("params.max_iter", par->max_iter);
    OTK_MPI_PARAM_("params.no_annealing", par->no_annealing);
    OTK_MPI_PARAM_("ground", ground);
    OTK_MPI_PARAM_("power", power);
#undef OTK_MPI_PARAM_
    return k;
}

int otk_mpi__divergence_param_values(const otk_divergence_params *par, otk_ground ground,
                                     double power, double *values, const char **names)
{
    int k = 0;
#define OTK_MPI_PARAM_(name, value) (names[k] = (name), values[k++] = (double)(value))
    OTK_MPI_PARAM_("params.eps", par->eps);
    OTK_MPI_PARAM_("params.blur", par->blur);
    OTK_MPI_PARAM_("params.rho", par->rho);
    OTK_MPI_PARAM_("params.reach", par->reach);
    OTK_MPI_PARAM_("params.schedule", par->schedule);
    OTK_MPI_PARAM_("params.update", par->update);
    OTK_MPI_PARAM_("params.scaling", par->scaling);
    OTK_MPI_PARAM_("params.diameter", par->diameter);
    OTK_MPI_PARAM_("params.p", par->p);
    OTK_MPI_PARAM_("params.debias", par->debias);
    OTK_MPI_PARAM_("params.tol", par->tol);
    OTK_MPI_PARAM_("params.max_iter", par->max_iter);
    OTK_MPI_PARAM_("ground", ground);
    OTK_MPI_PARAM_("power", power);
#undef OTK_MPI_PARAM_
    return k;
}
