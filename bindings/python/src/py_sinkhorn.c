/*
 * py_sinkhorn.c — otkit._otkit.Sinkhorn: a planned solver (otkit/sinkhorn.h)
 * on a dense cost matrix or on two point clouds, plus potential_convert() and
 * epsilon_schedule().
 */
#include "otkpy.h"

#include <math.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    otk_cost *cost;
    otk_sinkhorn *solver;
    /* The dense matrix the cost borrows (no copy was made when the caller's
     * array was C-contiguous float64): kept alive for the cost's lifetime. */
    PyArrayObject *matrix;
    npy_intp n, m, d;
    /* Point clouds in single precision (otk_cost_points_f32): outputs are
     * float32 too.  converted: whether x, y had to be converted (copied)
     * before the library read them. */
    int single;
    int converted[2];
    int solved;
    int busy;
} SinkhornObject;

static void sinkhorn_dealloc(SinkhornObject *self)
{
    otk_sinkhorn_free(self->solver);
    otk_cost_free(self->cost);
    Py_XDECREF(self->matrix);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int sinkhorn_init(SinkhornObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"C", "x", "y", "cost", "power", "eps", "blur", "rho_a", "rho_b",
                             "reach", "schedule", "update", "scaling", "diameter", "p", "tol",
                             "max_iter", "no_annealing", "threads", "single", "relative_eps",
                             "relative_to", "scale_cost", "scale_cost_stat", "backend",
                             "truncate", NULL};
    PyObject *Cobj = Py_None, *xobj = Py_None, *yobj = Py_None;
    const char *cost_name = "sqeuclidean";
    double power = 0.0;
    otk_sinkhorn_params par;
    int schedule, update, backend, st, single = 0, relative_to;
    PyArrayObject *x = NULL, *y = NULL;
    otk_cost *cost = NULL;
    otk_sinkhorn *solver = NULL;

    if (self->solver != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Sinkhorn.__init__ called twice");
        return -1;
    }
    /* A previous __init__ that failed after converting C may have left it. */
    Py_CLEAR(self->matrix);
    otk_sinkhorn_params_default(&par);
    schedule = (int)par.schedule;
    update = (int)par.update;
    relative_to = (int)par.relative_to;
    backend = (int)par.backend;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOOsddddddiiddddiiipdidiid", kwlist, &Cobj,
                                     &xobj, &yobj, &cost_name, &power, &par.eps, &par.blur,
                                     &par.rho_a, &par.rho_b, &par.reach, &schedule, &update,
                                     &par.scaling, &par.diameter, &par.p, &par.tol,
                                     &par.max_iter, &par.no_annealing, &par.threads, &single,
                                     &par.relative_eps, &relative_to, &par.scale_cost,
                                     &par.scale_cost_stat, &backend, &par.truncate))
        return -1;
    par.relative_to = (otk_relative_to)relative_to;
    par.schedule = (otk_schedule)schedule;
    par.update = (otk_update)update;
    par.backend = (otk_backend)backend;

    if (Cobj != Py_None) {
        if (xobj != Py_None || yobj != Py_None) {
            PyErr_SetString(PyExc_ValueError, "give either C or both x and y, not both");
            return -1;
        }
        if (single) {
            PyErr_SetString(PyExc_ValueError,
                            "single precision needs point clouds x and y (a cost matrix C "
                            "is float64)");
            return -1;
        }
        self->matrix = otkpy_array_in(Cobj, "C", 2, -1, -1);
        if (self->matrix == NULL)
            return -1;
        self->n = PyArray_DIM(self->matrix, 0);
        self->m = PyArray_DIM(self->matrix, 1);
        self->d = 0;
        Py_BEGIN_ALLOW_THREADS
        st = otk_cost_dense(&cost, (size_t)self->n, (size_t)self->m,
                            (const double *)PyArray_DATA(self->matrix), (size_t)self->m);
        Py_END_ALLOW_THREADS
        if (st < 0) {
            otkpy_raise_status(st);
            return -1;
        }
    } else {
        otk_ground ground;
        if (xobj == Py_None || yobj == Py_None) {
            PyErr_SetString(PyExc_ValueError, xobj == Py_None
                                                  ? "x is required (or give the cost matrix C)"
                                                  : "y is required (or give the cost matrix C)");
            return -1;
        }
        if (otkpy_ground(cost_name, "cost", &ground) < 0)
            return -1;
        if (otkpy_points_in_prec(xobj, yobj, single, &x, &y, self->converted) < 0)
            return -1;
        self->n = PyArray_DIM(x, 0);
        self->m = PyArray_DIM(y, 0);
        self->d = PyArray_DIM(x, 1);
        self->single = single;
        Py_BEGIN_ALLOW_THREADS
        if (single)
            st = otk_cost_points_f32(&cost, (size_t)self->n, (size_t)self->m, (size_t)self->d,
                                     (const float *)PyArray_DATA(x),
                                     (const float *)PyArray_DATA(y), ground, power);
        else
            st = otk_cost_points(&cost, (size_t)self->n, (size_t)self->m, (size_t)self->d,
                                 (const double *)PyArray_DATA(x),
                                 (const double *)PyArray_DATA(y), ground, power);
        Py_END_ALLOW_THREADS
        Py_DECREF(x);
        Py_DECREF(y);
        if (st < 0) {
            otkpy_raise_status(st);
            return -1;
        }
    }
    st = otk_sinkhorn_alloc(&solver, cost, &par);
    if (st < 0) {
        otk_cost_free(cost);
        otkpy_raise_status(st);
        return -1;
    }
    self->cost = cost;
    self->solver = solver;
    return 0;
}

static int sinkhorn_ready(SinkhornObject *self, int need_solved)
{
    if (self->solver == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Sinkhorn object is not initialised");
        return -1;
    }
    if (need_solved && !self->solved) {
        PyErr_SetString(PyExc_RuntimeError, "call solve() first");
        return -1;
    }
    return otkpy_acquire(&self->busy, "Sinkhorn");
}

static PyObject *result_dict(const otk_sinkhorn_result *r)
{
    return Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:i,s:i,s:i,s:s,s:d,s:s,s:d}",
                         "ot_kl", r->ot_kl, "ot_ent", r->ot_ent, "ot_lin", r->ot_lin, "eps",
                         r->eps, "rho_a", r->rho_a, "rho_b", r->rho_b, "mass_a", r->mass_a,
                         "mass_b", r->mass_b, "marginal_error", r->marginal_error, "iterations",
                         r->iterations, "annealing_iterations", r->annealing_iterations,
                         "status", (int)r->status, "update", otk_update_name(r->update),
                         "scale_cost", r->scale_cost, "backend", otk_backend_name(r->backend),
                         "truncation_bound", r->truncation_bound);
}

/* Iterate one update at a time (the GIL released around each), calling
 * callback(iteration, eps, error, stage) after every update that leaves the solve
 * running and appending each marginal error measured at the target ε to
 * `history`.  A true return from the callback stops the solve: *stopped = 1
 * and OTK_CONTINUE comes back.  Returns the last status of iterate, or
 * OTK_CONTINUE with a Python exception set (*raised = 1). */
static otk_status iterate_observed(SinkhornObject *self, PyObject *callback, PyObject *history,
                                   int *stopped, int *raised)
{
    otk_status st;
    for (;;) {
        otk_progress info;
        double err;
        Py_BEGIN_ALLOW_THREADS
        st = otk_sinkhorn_iterate(self->solver);
        Py_END_ALLOW_THREADS
        if (st < 0)
            return st;
        otk_sinkhorn_progress_info(self->solver, &info);
        err = info.marginal_error;
        /* The error is NaN until the first measurement at the target ε;
         * from then on every call measures once. */
        if (history != NULL && !isnan(err)) {
            PyObject *v = PyFloat_FromDouble(err);
            if (v == NULL || PyList_Append(history, v) < 0) {
                Py_XDECREF(v);
                *raised = 1;
                return OTK_CONTINUE;
            }
            Py_DECREF(v);
        }
        if (st != OTK_CONTINUE)
            return st;
        if (callback != NULL) {
            PyObject *r = PyObject_CallFunction(callback, "idds", info.iterations, info.eps, err,
                                                otk_stage_name(info.stage));
            int stop;
            if (r == NULL) {
                *raised = 1;
                return OTK_CONTINUE;
            }
            stop = PyObject_IsTrue(r);
            Py_DECREF(r);
            if (stop < 0) {
                *raised = 1;
                return OTK_CONTINUE;
            }
            if (stop) {
                *stopped = 1;
                return OTK_CONTINUE;
            }
        } else if (PyErr_CheckSignals() < 0) {
            *raised = 1;
            return OTK_CONTINUE;
        }
    }
}

static PyObject *sinkhorn_solve(SinkhornObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"a", "b", "f0", "g0", "callback", "history", NULL};
    PyObject *aobj = Py_None, *bobj = Py_None, *fobj = Py_None, *gobj = Py_None;
    PyObject *callback = Py_None, *history = NULL, *info;
    PyArrayObject *a = NULL, *b = NULL, *f0 = NULL, *g0 = NULL;
    otk_sinkhorn_result res;
    int err, st, want_history = 0, stopped = 0, raised = 0, warm;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOOOOp", kwlist, &aobj, &bobj, &fobj, &gobj,
                                     &callback, &want_history))
        return NULL;
    if (callback != Py_None && !PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable (or None)");
        return NULL;
    }
    if (sinkhorn_ready(self, 0) < 0)
        return NULL;
    a = otkpy_array_opt(aobj, "a", 1, self->n, -1, &err);
    if (err)
        goto fail;
    b = otkpy_array_opt(bobj, "b", 1, self->m, -1, &err);
    if (err)
        goto fail;
    f0 = otkpy_array_opt(fobj, "init[0] (f)", 1, self->n, -1, &err);
    if (err)
        goto fail;
    g0 = otkpy_array_opt(gobj, "init[1] (g)", 1, self->m, -1, &err);
    if (err)
        goto fail;
    if (want_history && (history = PyList_New(0)) == NULL)
        goto fail;
    warm = f0 != NULL || g0 != NULL;
    self->solved = 0;
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkhorn_set(self->solver, a ? (const double *)PyArray_DATA(a) : NULL,
                          b ? (const double *)PyArray_DATA(b) : NULL);
    if (st >= 0 && (f0 || g0))
        st = otk_sinkhorn_set_potentials(self->solver,
                                         f0 ? (const double *)PyArray_DATA(f0) : NULL,
                                         g0 ? (const double *)PyArray_DATA(g0) : NULL);
    if (st >= 0 && callback == Py_None && history == NULL)
        while ((st = otk_sinkhorn_iterate(self->solver)) == OTK_CONTINUE)
            ;
    Py_END_ALLOW_THREADS
    if (st >= 0 && (callback != Py_None || history != NULL))
        st = iterate_observed(self, callback == Py_None ? NULL : callback, history, &stopped,
                              &raised);
    if (raised)
        goto fail;
    if (st >= 0) {
        otk_status rs;
        Py_BEGIN_ALLOW_THREADS
        rs = otk_sinkhorn_get_result(self->solver, &res);
        Py_END_ALLOW_THREADS
        if (rs < 0)
            st = rs;
    }
    Py_CLEAR(a);
    Py_CLEAR(b);
    Py_CLEAR(f0);
    Py_CLEAR(g0);
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_XDECREF(history);
        return otkpy_raise_status(st);
    }
    self->solved = 1;
    info = result_dict(&res);
    if (info == NULL || PyDict_SetItemString(info, "stopped", stopped ? Py_True : Py_False) < 0 ||
        PyDict_SetItemString(info, "warm_start", warm ? Py_True : Py_False) < 0 ||
        (history != NULL && PyDict_SetItemString(info, "history", history) < 0)) {
        Py_XDECREF(info);
        Py_XDECREF(history);
        return NULL;
    }
    Py_XDECREF(history);
    return info;
fail:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(f0);
    Py_XDECREF(g0);
    Py_XDECREF(history);
    otkpy_release(&self->busy);
    return NULL;
}

static PyObject *sinkhorn_potentials(SinkhornObject *self, PyObject *noargs)
{
    PyObject *f, *g;

    if (sinkhorn_ready(self, 1) < 0)
        return NULL;
    f = otkpy_vector_out(otk_sinkhorn_potential_f(self->solver), self->n, self->single);
    g = otkpy_vector_out(otk_sinkhorn_potential_g(self->solver), self->m, self->single);
    otkpy_release(&self->busy);
    if (f == NULL || g == NULL) {
        Py_XDECREF(f);
        Py_XDECREF(g);
        return NULL;
    }
    return Py_BuildValue("(NN)", f, g);
}

static PyObject *sinkhorn_marginals(SinkhornObject *self, PyObject *noargs)
{
    PyArrayObject *row, *col;
    int st;

    if (sinkhorn_ready(self, 1) < 0)
        return NULL;
    row = otkpy_new_array(self->n, -1);
    col = otkpy_new_array(self->m, -1);
    if (row == NULL || col == NULL) {
        st = OTK_SUCCESS;
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkhorn_marginals(self->solver, (double *)PyArray_DATA(row),
                                (double *)PyArray_DATA(col));
    Py_END_ALLOW_THREADS
done:
    otkpy_release(&self->busy);
    if (row == NULL || col == NULL || st < 0) {
        Py_XDECREF(row);
        Py_XDECREF(col);
        return st < 0 ? otkpy_raise_status(st) : NULL;
    }
    return Py_BuildValue("(NN)", otkpy_out(row, self->single), otkpy_out(col, self->single));
}

static PyObject *sinkhorn_plan(SinkhornObject *self, PyObject *noargs)
{
    PyArrayObject *P;
    int st;

    if (sinkhorn_ready(self, 1) < 0)
        return NULL;
    P = otkpy_new_array(self->n, self->m);
    if (P == NULL) {
        otkpy_release(&self->busy);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkhorn_plan(self->solver, (double *)PyArray_DATA(P));
    Py_END_ALLOW_THREADS
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_DECREF(P);
        return otkpy_raise_status(st);
    }
    return otkpy_out(P, self->single);
}

static PyObject *sinkhorn_plan_apply(SinkhornObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"M", "axis", NULL};
    PyObject *mobj;
    int axis = 0, st;
    PyArrayObject *M, *out;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|i", kwlist, &mobj, &axis))
        return NULL;
    if (axis != 0 && axis != 1) {
        PyErr_Format(PyExc_ValueError, "axis = %d must be 0 (P @ M) or 1 (P.T @ M)", axis);
        return NULL;
    }
    if (sinkhorn_ready(self, 1) < 0)
        return NULL;
    M = otkpy_array_in(mobj, "M", 2, axis == 0 ? self->m : self->n, -1);
    if (M == NULL) {
        otkpy_release(&self->busy);
        return NULL;
    }
    out = otkpy_new_array(axis == 0 ? self->n : self->m, PyArray_DIM(M, 1));
    if (out == NULL) {
        Py_DECREF(M);
        otkpy_release(&self->busy);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkhorn_plan_apply(self->solver, axis, (size_t)PyArray_DIM(M, 1),
                                 (const double *)PyArray_DATA(M), (double *)PyArray_DATA(out));
    Py_END_ALLOW_THREADS
    Py_DECREF(M);
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_DECREF(out);
        return otkpy_raise_status(st);
    }
    return otkpy_out(out, self->single);
}

static PyObject *sinkhorn_barycentric(SinkhornObject *self, PyObject *arg)
{
    PyArrayObject *Y, *out;
    int st;

    if (sinkhorn_ready(self, 1) < 0)
        return NULL;
    Y = otkpy_array_in(arg, "Y", 2, self->m, -1);
    if (Y == NULL) {
        otkpy_release(&self->busy);
        return NULL;
    }
    out = otkpy_new_array(self->n, PyArray_DIM(Y, 1));
    if (out == NULL) {
        Py_DECREF(Y);
        otkpy_release(&self->busy);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkhorn_barycentric(self->solver, (size_t)PyArray_DIM(Y, 1),
                                  (const double *)PyArray_DATA(Y), (double *)PyArray_DATA(out));
    Py_END_ALLOW_THREADS
    Py_DECREF(Y);
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_DECREF(out);
        return otkpy_raise_status(st);
    }
    return otkpy_out(out, self->single);
}

static PyObject *sinkhorn_get_matrix(SinkhornObject *self, void *closure)
{
    if (self->matrix == NULL)
        Py_RETURN_NONE;
    Py_INCREF(self->matrix);
    return (PyObject *)self->matrix;
}

static PyObject *sinkhorn_get_shape(SinkhornObject *self, void *closure)
{
    return Py_BuildValue("(nn)", (Py_ssize_t)self->n, (Py_ssize_t)self->m);
}

static PyObject *sinkhorn_get_cost_name(SinkhornObject *self, void *closure)
{
    if (self->cost == NULL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(otk_cost_name(self->cost));
}

static PyObject *sinkhorn_get_diameter(SinkhornObject *self, void *closure)
{
    if (self->cost == NULL)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(otk_cost_diameter(self->cost));
}

static PyObject *sinkhorn_get_exponent(SinkhornObject *self, void *closure)
{
    if (self->cost == NULL)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(otk_cost_exponent(self->cost));
}

static PyObject *sinkhorn_get_single(SinkhornObject *self, void *closure)
{
    return PyBool_FromLong(otk_cost_single_precision(self->cost));
}

static PyObject *sinkhorn_get_converted(SinkhornObject *self, void *closure)
{
    if (self->cost == NULL || self->matrix != NULL)
        Py_RETURN_NONE;
    return Py_BuildValue("(OO)", self->converted[0] ? Py_True : Py_False,
                         self->converted[1] ? Py_True : Py_False);
}

static PyGetSetDef sinkhorn_getset[] = {
    {"cost_matrix", (getter)sinkhorn_get_matrix, NULL,
     "The float64 array the dense cost borrows (the caller's own when no conversion was "
     "needed), or None for point clouds.",
     NULL},
    {"shape", (getter)sinkhorn_get_shape, NULL, "(n, m)", NULL},
    {"single_precision", (getter)sinkhorn_get_single, NULL,
     "True for float32 point clouds (otk_cost_single_precision)", NULL},
    {"points_converted", (getter)sinkhorn_get_converted, NULL,
     "(x, y): whether each cloud was converted (copied) before the library read it; None "
     "for a cost matrix",
     NULL},
    {"cost_name", (getter)sinkhorn_get_cost_name, NULL, "otk_cost_name of the cost", NULL},
    {"diameter", (getter)sinkhorn_get_diameter, NULL, "otk_cost_diameter of the cost", NULL},
    {"exponent", (getter)sinkhorn_get_exponent, NULL, "otk_cost_exponent of the cost", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef sinkhorn_methods[] = {
    {"solve", (PyCFunction)(void (*)(void))sinkhorn_solve, METH_VARARGS | METH_KEYWORDS,
     "solve(a=None, b=None, f0=None, g0=None, callback=None, history=False) -> dict "
     "(otk_sinkhorn_set, set_potentials when f0 or g0 (GeomLoss gauge), iterate; GIL "
     "released during the updates)"},
    {"potentials", (PyCFunction)sinkhorn_potentials, METH_NOARGS,
     "potentials() -> (f, g), GeomLoss gauge, copies"},
    {"marginals", (PyCFunction)sinkhorn_marginals, METH_NOARGS, "marginals() -> (P 1, P.T 1)"},
    {"plan", (PyCFunction)sinkhorn_plan, METH_NOARGS, "plan() -> dense n x m plan"},
    {"plan_apply", (PyCFunction)(void (*)(void))sinkhorn_plan_apply,
     METH_VARARGS | METH_KEYWORDS, "plan_apply(M, axis=0) -> P @ M (axis 0) or P.T @ M (axis 1)"},
    {"barycentric", (PyCFunction)sinkhorn_barycentric, METH_O,
     "barycentric(Y) -> (P @ Y) / (P 1), rows without mass NaN"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject SinkhornType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otkit._otkit.Sinkhorn",
    .tp_basicsize = sizeof(SinkhornObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Sinkhorn(*, C=None, x=None, y=None, cost='sqeuclidean', power=0, eps=0, "
              "blur=0.05, rho_a=inf, rho_b=inf, reach=0, schedule=0, update=0, scaling=0.5, "
              "diameter=0, p=0, tol=1e-6, max_iter=10000, no_annealing=0, threads=0, "
              "single=False): "
              "a planned otk_sinkhorn solver (fields as otk_sinkhorn_params).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)sinkhorn_init,
    .tp_dealloc = (destructor)sinkhorn_dealloc,
    .tp_methods = sinkhorn_methods,
    .tp_getset = sinkhorn_getset,
};

static PyObject *py_potential_convert(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"values", "w", "eps", "source", "target", NULL};
    PyObject *vobj, *wobj;
    double eps;
    int from, to, st;
    PyArrayObject *v, *w, *out;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOdii", kwlist, &vobj, &wobj, &eps, &from,
                                     &to))
        return NULL;
    v = otkpy_array_in(vobj, "values", 1, -1, -1);
    if (v == NULL)
        return NULL;
    w = otkpy_array_in(wobj, "w", 1, PyArray_DIM(v, 0), -1);
    if (w == NULL) {
        Py_DECREF(v);
        return NULL;
    }
    out = otkpy_new_array(PyArray_DIM(v, 0), -1);
    st = out == NULL ? OTK_SUCCESS
                     : otk_potential_convert((size_t)PyArray_DIM(v, 0), eps,
                                             (const double *)PyArray_DATA(w), (otk_gauge)from,
                                             (otk_gauge)to, (const double *)PyArray_DATA(v),
                                             (double *)PyArray_DATA(out));
    Py_DECREF(v);
    Py_DECREF(w);
    if (out == NULL)
        return NULL;
    if (st < 0) {
        Py_DECREF(out);
        return otkpy_raise_status(st);
    }
    return (PyObject *)out;
}

static PyObject *py_epsilon_schedule(PyObject *self, PyObject *args)
{
    double diameter, p, blur, scaling;
    int len, st;
    PyArrayObject *out;

    if (!PyArg_ParseTuple(args, "dddd", &diameter, &p, &blur, &scaling))
        return NULL;
    len = otk_epsilon_schedule(diameter, p, blur, scaling, NULL, 0);
    if (len < 0)
        return otkpy_raise_status(len);
    out = otkpy_new_array(len, -1);
    if (out == NULL)
        return NULL;
    st = otk_epsilon_schedule(diameter, p, blur, scaling, (double *)PyArray_DATA(out), len);
    if (st < 0) {
        Py_DECREF(out);
        return otkpy_raise_status(st);
    }
    return (PyObject *)out;
}

static PyMethodDef functions[] = {
    {"potential_convert", (PyCFunction)(void (*)(void))py_potential_convert,
     METH_VARARGS | METH_KEYWORDS,
     "potential_convert(values, w, eps, source, target) -> array (otk_potential_convert)"},
    {"epsilon_schedule", py_epsilon_schedule, METH_VARARGS,
     "epsilon_schedule(diameter, p, blur, scaling) -> array (otk_epsilon_schedule)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_sinkhorn(PyObject *module)
{
    if (PyType_Ready(&SinkhornType) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "Sinkhorn", (PyObject *)&SinkhornType) < 0)
        return -1;
    return PyModule_AddFunctions(module, functions);
}
