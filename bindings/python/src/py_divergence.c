/*
 * py_divergence.c — otkit._otkit.Divergence: a planned Sinkhorn divergence
 * between two point clouds (otkit/divergence.h), with its gradients.
 */
#include "otkpy.h"

#include <string.h>

typedef struct {
    PyObject_HEAD
    otk_divergence *div;
    /* Dense costs (alloc_costs): the three borrowed matrices, kept alive with
     * the costs built on them; all NULL for point clouds. */
    otk_cost *costs[3];
    PyArrayObject *matrices[3];
    npy_intp n, m, d;
    /* Point clouds in single precision (otk_divergence_alloc_points_f32):
     * coordinates in and gradients, potentials out are float32.  converted:
     * whether x, y had to be converted (copied) before the library read them. */
    int single;
    int converted[2];
    int solved;
    int busy;
    /* solve(callback=): the callable during that solve (NULL otherwise) and
     * the exception it raised, kept until otk_divergence_solve returns. */
    PyObject *callback;
    PyObject *exc_type, *exc_value, *exc_traceback;
} DivergenceObject;

/* The object's progress callback (otk_divergence_params.progress), installed
 * at alloc with the object as its context, so that each solve may bring its
 * own Python callable: callback(iteration, eps, error, stage) after every
 * update that leaves the solve running.  The solve runs with the GIL
 * released, in the calling thread; the call takes the GIL.  A true return
 * stops the solve (OTK_CONTINUE); so does an exception, kept to be raised
 * once the library has returned. */
static int divergence_progress(const otk_progress *info, void *ctx)
{
    DivergenceObject *self = ctx;
    PyGILState_STATE gil;
    PyObject *r;
    int stop;

    if (self->callback == NULL)
        return 0;
    gil = PyGILState_Ensure();
    r = PyObject_CallFunction(self->callback, "idds", info->iterations, info->eps,
                              info->marginal_error, otk_stage_name(info->stage));
    stop = otkpy_callback_verdict(r, &self->exc_type, &self->exc_value, &self->exc_traceback);
    PyGILState_Release(gil);
    return stop;
}

static void divergence_clear_costs(DivergenceObject *self)
{
    int k;

    for (k = 0; k < 3; k++) {
        otk_cost_free(self->costs[k]);
        self->costs[k] = NULL;
        Py_CLEAR(self->matrices[k]);
    }
}

static void divergence_dealloc(DivergenceObject *self)
{
    otk_divergence_free(self->div); /* before the costs it borrows */
    divergence_clear_costs(self);
    Py_XDECREF(self->exc_type);
    Py_XDECREF(self->exc_value);
    Py_XDECREF(self->exc_traceback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Build the dense costs C_xy (n x m), C_xx (n x n), C_yy (m x m); the last two
 * may be None (debias off). */
static int divergence_dense_costs(DivergenceObject *self, PyObject *objs[3])
{
    static const char *names[3] = {"C_xy", "C_xx", "C_yy"};
    npy_intp rows[3], cols[3];
    int k, st;

    self->matrices[0] = otkpy_array_in(objs[0], names[0], 2, -1, -1);
    if (self->matrices[0] == NULL)
        return -1;
    self->n = PyArray_DIM(self->matrices[0], 0);
    self->m = PyArray_DIM(self->matrices[0], 1);
    self->d = 0;
    rows[1] = cols[1] = self->n;
    rows[2] = cols[2] = self->m;
    for (k = 1; k < 3; k++) {
        int err;
        self->matrices[k] = otkpy_array_opt(objs[k], names[k], 2, rows[k], cols[k], &err);
        if (err)
            return -1;
    }
    for (k = 0; k < 3; k++) {
        PyArrayObject *M = self->matrices[k];
        if (M == NULL)
            continue;
        Py_BEGIN_ALLOW_THREADS
        st = otk_cost_dense(&self->costs[k], (size_t)PyArray_DIM(M, 0),
                            (size_t)PyArray_DIM(M, 1), (const double *)PyArray_DATA(M),
                            (size_t)PyArray_DIM(M, 1));
        Py_END_ALLOW_THREADS
        if (st < 0) {
            otkpy_raise_status_arg(st, names[k]);
            return -1;
        }
    }
    return 0;
}

static int divergence_init(DivergenceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", "cost", "power", "eps", "blur", "rho", "reach",
                             "schedule", "update", "scaling", "diameter", "p", "debias", "tol",
                             "max_iter", "threads", "C_xy", "C_xx", "C_yy", "cache_mb", "single",
                             "relative_eps", "relative_to", "scale_cost", "scale_cost_stat",
                             "backend", "truncate", NULL};
    PyObject *xobj = Py_None, *yobj = Py_None, *cobjs[3] = {Py_None, Py_None, Py_None};
    const char *cost_name = "half-sqeuclidean";
    double power = 0.0, cache_mb = 0.0;
    otk_divergence_params par;
    int schedule, update, backend, st, single = 0, relative_to;
    otk_ground ground;
    PyArrayObject *x, *y;
    otk_divergence *div = NULL;

    if (self->div != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Divergence.__init__ called twice");
        return -1;
    }
    otk_divergence_params_default(&par);
    schedule = (int)par.schedule;
    update = (int)par.update;
    relative_to = (int)par.relative_to;
    backend = (int)par.backend;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO$sdddddiidddpdiiOOOdpdidiid", kwlist, &xobj,
                                     &yobj, &cost_name, &power, &par.eps, &par.blur, &par.rho,
                                     &par.reach, &schedule, &update, &par.scaling,
                                     &par.diameter, &par.p, &par.debias, &par.tol,
                                     &par.max_iter, &par.threads, &cobjs[0], &cobjs[1],
                                     &cobjs[2], &cache_mb, &single, &par.relative_eps,
                                     &relative_to, &par.scale_cost, &par.scale_cost_stat,
                                     &backend, &par.truncate))
        return -1;
    par.relative_to = (otk_relative_to)relative_to;
    par.backend = (otk_backend)backend;
    par.progress = divergence_progress;
    par.progress_ctx = self;
    if (otkpy_cache_bytes(cache_mb, &par.cache_bytes) < 0)
        return -1;
    par.schedule = (otk_schedule)schedule;
    par.update = (otk_update)update;
    divergence_clear_costs(self);
    if (cobjs[0] != Py_None) {
        if (xobj != Py_None || yobj != Py_None) {
            PyErr_SetString(PyExc_ValueError, "give either C_xy (with C_xx, C_yy) or x and y");
            return -1;
        }
        if (single) {
            PyErr_SetString(PyExc_ValueError, "single precision needs point clouds x and y "
                                              "(cost matrices are float64)");
            return -1;
        }
        if (par.debias && (cobjs[1] == Py_None || cobjs[2] == Py_None)) {
            PyErr_SetString(PyExc_ValueError, cobjs[1] == Py_None
                                                  ? "C_xx is required unless debias=False"
                                                  : "C_yy is required unless debias=False");
            return -1;
        }
        if (divergence_dense_costs(self, cobjs) < 0)
            return -1;
        st = otk_divergence_alloc_costs(&div, self->costs[0], self->costs[1], self->costs[2],
                                        &par);
        if (st < 0) {
            otkpy_raise_status(st);
            return -1;
        }
        self->div = div;
        return 0;
    }
    if (xobj == Py_None || yobj == Py_None) {
        PyErr_SetString(PyExc_ValueError, xobj == Py_None
                                              ? "x is required (or give the cost matrices)"
                                              : "y is required (or give the cost matrices)");
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
        st = otk_divergence_alloc_points_f32(&div, (size_t)self->n, (size_t)self->m,
                                             (size_t)self->d, (const float *)PyArray_DATA(x),
                                             (const float *)PyArray_DATA(y), ground, power,
                                             &par);
    else
        st = otk_divergence_alloc_points(&div, (size_t)self->n, (size_t)self->m,
                                         (size_t)self->d, (const double *)PyArray_DATA(x),
                                         (const double *)PyArray_DATA(y), ground, power, &par);
    Py_END_ALLOW_THREADS
    Py_DECREF(x);
    Py_DECREF(y);
    if (st < 0) {
        otkpy_raise_status(st);
        return -1;
    }
    self->div = div;
    return 0;
}

static int divergence_ready(DivergenceObject *self, int need_solved)
{
    if (self->div == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Divergence object is not initialised");
        return -1;
    }
    if (need_solved && !self->solved) {
        PyErr_SetString(PyExc_RuntimeError, "call solve() first");
        return -1;
    }
    return otkpy_acquire(&self->busy, "Divergence");
}

static PyObject *divergence_solve(DivergenceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"a", "b", "callback", NULL};
    PyObject *aobj = Py_None, *bobj = Py_None, *callback = Py_None;
    PyArrayObject *a = NULL, *b = NULL;
    otk_divergence_result r;
    int err, st;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOO", kwlist, &aobj, &bobj, &callback))
        return NULL;
    if (callback != Py_None && !PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable (or None)");
        return NULL;
    }
    if (divergence_ready(self, 0) < 0)
        return NULL;
    a = otkpy_array_opt(aobj, "a", 1, self->n, -1, &err);
    if (!err)
        b = otkpy_array_opt(bobj, "b", 1, self->m, -1, &err);
    if (err) {
        Py_XDECREF(a);
        otkpy_release(&self->busy);
        return NULL;
    }
    self->solved = 0;
    self->callback = callback == Py_None ? NULL : callback;
    Py_BEGIN_ALLOW_THREADS
    st = otk_divergence_solve(self->div, a ? (const double *)PyArray_DATA(a) : NULL,
                              b ? (const double *)PyArray_DATA(b) : NULL, &r);
    Py_END_ALLOW_THREADS
    self->callback = NULL;
    Py_XDECREF(a);
    Py_XDECREF(b);
    otkpy_release(&self->busy);
    if (self->exc_type != NULL) {
        /* The callback raised: the solve stopped there; the object is left
         * unsolved (solved 0) and the exception propagates. */
        PyErr_Restore(self->exc_type, self->exc_value, self->exc_traceback);
        self->exc_type = self->exc_value = self->exc_traceback = NULL;
        return NULL;
    }
    if (st < 0)
        return otkpy_raise_status(st);
    self->solved = 1;
    return Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:d,s:i,s:i,s:i,s:s,s:d,s:s,s:d,s:O}",
                         "divergence", r.divergence, "eps", r.eps, "rho", r.rho, "mass_a",
                         r.mass_a, "mass_b", r.mass_b, "marginal_error", r.marginal_error,
                         "iterations", r.iterations, "annealing_iterations",
                         r.annealing_iterations, "status", (int)r.status, "update",
                         otk_update_name(r.update), "scale_cost", r.scale_cost, "backend",
                         otk_backend_name(r.backend), "truncation_bound", r.truncation_bound,
                         "stopped", st == OTK_CONTINUE ? Py_True : Py_False);
}

typedef otk_status (*grad_fn)(otk_divergence *, double *);

static PyObject *divergence_gradient(DivergenceObject *self, grad_fn fn, npy_intp rows,
                                     npy_intp cols)
{
    PyArrayObject *out;
    int st;

    if (divergence_ready(self, 1) < 0)
        return NULL;
    out = otkpy_new_array(rows, cols);
    if (out == NULL) {
        otkpy_release(&self->busy);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = fn(self->div, (double *)PyArray_DATA(out));
    Py_END_ALLOW_THREADS
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_DECREF(out);
        return otkpy_raise_status(st);
    }
    return otkpy_out(out, self->single);
}

static PyObject *divergence_grad_a(DivergenceObject *self, PyObject *noargs)
{
    return divergence_gradient(self, otk_divergence_grad_a, self->n, -1);
}

static PyObject *divergence_grad_b(DivergenceObject *self, PyObject *noargs)
{
    return divergence_gradient(self, otk_divergence_grad_b, self->m, -1);
}

static PyObject *divergence_grad_x(DivergenceObject *self, PyObject *noargs)
{
    return divergence_gradient(self, otk_divergence_grad_x, self->n, self->d);
}

static PyObject *divergence_grad_y(DivergenceObject *self, PyObject *noargs)
{
    return divergence_gradient(self, otk_divergence_grad_y, self->m, self->d);
}

static PyObject *divergence_displacement_x(DivergenceObject *self, PyObject *noargs)
{
    return divergence_gradient(self, otk_divergence_displacement_x, self->n, self->d);
}

static PyObject *divergence_displacement_y(DivergenceObject *self, PyObject *noargs)
{
    return divergence_gradient(self, otk_divergence_displacement_y, self->m, self->d);
}

static PyObject *copy_or_none(const double *v, npy_intp n, int single)
{
    if (v == NULL)
        Py_RETURN_NONE;
    return otkpy_vector_out(v, n, single);
}

static PyObject *divergence_potentials(DivergenceObject *self, PyObject *noargs)
{
    const double *f_ba, *g_ab, *f_aa, *g_bb;
    int st;

    if (divergence_ready(self, 1) < 0)
        return NULL;
    st = otk_divergence_potentials(self->div, &f_ba, &g_ab, &f_aa, &g_bb);
    otkpy_release(&self->busy);
    if (st < 0)
        return otkpy_raise_status(st);
    return Py_BuildValue("(NNNN)", copy_or_none(f_ba, self->n, self->single),
                         copy_or_none(g_ab, self->m, self->single),
                         copy_or_none(f_aa, self->n, self->single),
                         copy_or_none(g_bb, self->m, self->single));
}

typedef otk_status (*scalar_fn)(otk_divergence *, double *);

static PyObject *divergence_scalar(DivergenceObject *self, scalar_fn fn)
{
    double v = 0.0;
    int st;

    if (divergence_ready(self, 1) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    st = fn(self->div, &v);
    Py_END_ALLOW_THREADS
    otkpy_release(&self->busy);
    if (st < 0)
        return otkpy_raise_status(st);
    return PyFloat_FromDouble(v);
}

static PyObject *divergence_transport_cost(DivergenceObject *self, PyObject *noargs)
{
    return divergence_scalar(self, otk_divergence_transport_cost);
}

static PyObject *divergence_marginal_error(DivergenceObject *self, PyObject *noargs)
{
    return divergence_scalar(self, otk_divergence_marginal_error);
}

static PyObject *divergence_set_points(DivergenceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", NULL};
    PyObject *xobj = Py_None, *yobj = Py_None;
    PyArrayObject *x = NULL, *y = NULL;
    int err, st;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO", kwlist, &xobj, &yobj))
        return NULL;
    if (self->matrices[0] != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "set_points needs an object built on point clouds");
        return NULL;
    }
    if (divergence_ready(self, 0) < 0)
        return NULL;
    /* The object's precision decides the coordinates' type. */
    err = 0;
    if (xobj != Py_None)
        err = (x = otkpy_coords_in(xobj, "x", self->n, self->d, self->single, NULL)) == NULL;
    if (!err && yobj != Py_None)
        err = (y = otkpy_coords_in(yobj, "y", self->m, self->d, self->single, NULL)) == NULL;
    if (err) {
        Py_XDECREF(x);
        otkpy_release(&self->busy);
        return NULL;
    }
    self->solved = 0;
    Py_BEGIN_ALLOW_THREADS
    if (self->single)
        st = otk_divergence_set_points_f32(self->div,
                                           x ? (const float *)PyArray_DATA(x) : NULL,
                                           y ? (const float *)PyArray_DATA(y) : NULL);
    else
        st = otk_divergence_set_points(self->div, x ? (const double *)PyArray_DATA(x) : NULL,
                                       y ? (const double *)PyArray_DATA(y) : NULL);
    Py_END_ALLOW_THREADS
    Py_XDECREF(x);
    Py_XDECREF(y);
    otkpy_release(&self->busy);
    if (st < 0)
        return otkpy_raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *divergence_get_shape(DivergenceObject *self, void *closure)
{
    return Py_BuildValue("(nnn)", (Py_ssize_t)self->n, (Py_ssize_t)self->m, (Py_ssize_t)self->d);
}

static PyObject *divergence_get_cache_bytes(DivergenceObject *self, void *closure)
{
    return PyLong_FromSize_t(otk_divergence_cache_bytes(self->div));
}

static PyObject *divergence_get_single(DivergenceObject *self, void *closure)
{
    return PyBool_FromLong(self->single);
}

static PyObject *divergence_get_converted(DivergenceObject *self, void *closure)
{
    if (self->div == NULL || self->matrices[0] != NULL)
        Py_RETURN_NONE;
    return Py_BuildValue("(OO)", self->converted[0] ? Py_True : Py_False,
                         self->converted[1] ? Py_True : Py_False);
}

static PyGetSetDef divergence_getset[] = {
    {"shape", (getter)divergence_get_shape, NULL, "(n, m, d)", NULL},
    {"single_precision", (getter)divergence_get_single, NULL,
     "True for float32 point clouds (otk_divergence_alloc_points_f32)", NULL},
    {"points_converted", (getter)divergence_get_converted, NULL,
     "(x, y): whether each cloud was converted (copied) before the library read it; None "
     "for cost matrices",
     NULL},
    {"cache_bytes", (getter)divergence_get_cache_bytes, NULL,
     "bytes of cost matrices kept (otk_divergence_cache_bytes)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

/* The plan of the α→β problem (otk_divergence_plan, _plan_apply,
 * _barycentric). */
static PyObject *divergence_plan(DivergenceObject *self, PyObject *noargs)
{
    PyArrayObject *P;
    int st;

    if (divergence_ready(self, 1) < 0)
        return NULL;
    P = otkpy_new_array(self->n, self->m);
    if (P == NULL) {
        otkpy_release(&self->busy);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_divergence_plan(self->div, (double *)PyArray_DATA(P));
    Py_END_ALLOW_THREADS
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_DECREF(P);
        return otkpy_raise_status(st);
    }
    return otkpy_out(P, self->single);
}

/* out = π·M (axis 0) or πᵀ·M (axis 1); barycentric: rows of π·M over row sums. */
static PyObject *divergence_apply(DivergenceObject *self, PyObject *mobj, int axis, int bary,
                                  const char *name)
{
    PyArrayObject *M, *out;
    int st;

    if (divergence_ready(self, 1) < 0)
        return NULL;
    M = otkpy_array_in(mobj, name, 2, axis == 0 ? self->m : self->n, -1);
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
    if (bary)
        st = otk_divergence_barycentric(self->div, (size_t)PyArray_DIM(M, 1),
                                        (const double *)PyArray_DATA(M),
                                        (double *)PyArray_DATA(out));
    else
        st = otk_divergence_plan_apply(self->div, axis, (size_t)PyArray_DIM(M, 1),
                                       (const double *)PyArray_DATA(M),
                                       (double *)PyArray_DATA(out));
    Py_END_ALLOW_THREADS
    Py_DECREF(M);
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_DECREF(out);
        return otkpy_raise_status(st);
    }
    return otkpy_out(out, self->single);
}

static PyObject *divergence_plan_apply(DivergenceObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"M", "axis", NULL};
    PyObject *mobj;
    int axis = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|i", kwlist, &mobj, &axis))
        return NULL;
    if (axis != 0 && axis != 1) {
        PyErr_Format(PyExc_ValueError, "axis = %d must be 0 (P @ M) or 1 (P.T @ M)", axis);
        return NULL;
    }
    return divergence_apply(self, mobj, axis, 0, "M");
}

static PyObject *divergence_barycentric(DivergenceObject *self, PyObject *arg)
{
    return divergence_apply(self, arg, 0, 1, "Y");
}

static PyMethodDef divergence_methods[] = {
    {"solve", (PyCFunction)(void (*)(void))divergence_solve, METH_VARARGS | METH_KEYWORDS,
     "solve(a=None, b=None, callback=None) -> dict (otk_divergence_solve; GIL released, "
     "taken for each callback(iteration, eps, error, stage))"},
    {"set_points", (PyCFunction)(void (*)(void))divergence_set_points,
     METH_VARARGS | METH_KEYWORDS, "set_points(x=None, y=None): move the points"},
    {"grad_a", (PyCFunction)divergence_grad_a, METH_NOARGS, "dS/da (n)"},
    {"grad_b", (PyCFunction)divergence_grad_b, METH_NOARGS, "dS/db (m)"},
    {"grad_x", (PyCFunction)divergence_grad_x, METH_NOARGS, "dS/dx (n x d)"},
    {"grad_y", (PyCFunction)divergence_grad_y, METH_NOARGS, "dS/dy (m x d)"},
    {"displacement_x", (PyCFunction)divergence_displacement_x, METH_NOARGS,
     "dS/dx row i divided by a_i (n x d)"},
    {"displacement_y", (PyCFunction)divergence_displacement_y, METH_NOARGS,
     "dS/dy row j divided by b_j (m x d)"},
    {"potentials", (PyCFunction)divergence_potentials, METH_NOARGS,
     "potentials() -> (f_ba, g_ab, f_aa, g_bb), copies; the last two None without debias"},
    {"plan", (PyCFunction)divergence_plan, METH_NOARGS,
     "plan() -> the dense plan pi_ab (n x m) of the last solve"},
    {"plan_apply", (PyCFunction)(void (*)(void))divergence_plan_apply,
     METH_VARARGS | METH_KEYWORDS,
     "plan_apply(M, axis=0) -> pi_ab @ M (axis 0) or pi_ab.T @ M (axis 1), no n x m array"},
    {"barycentric", (PyCFunction)divergence_barycentric, METH_O,
     "barycentric(Y) -> (pi_ab @ Y) / pi_ab.sum(1) (n x k)"},
    {"transport_cost", (PyCFunction)divergence_transport_cost, METH_NOARGS,
     "<pi_ab, C_xy> of the current potentials"},
    {"marginal_error", (PyCFunction)divergence_marginal_error, METH_NOARGS,
     "largest relative L1 marginal error, measured now"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject DivergenceType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otkit._otkit.Divergence",
    .tp_basicsize = sizeof(DivergenceObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Divergence(x, y, *, cost='half-sqeuclidean', power=0, eps=0, blur=0.05, "
              "rho=inf, reach=0, schedule=0, update=0, scaling=0.5, diameter=0, p=0, "
              "debias=True, tol=1e-6, max_iter=10000, threads=0, cache_mb=0, single=False) or "
              "Divergence(*, C_xy, C_xx, C_yy, ...): a planned otk_divergence on two point "
              "clouds (alloc_points) or three dense costs, borrowed (alloc_costs); fields as "
              "otk_divergence_params.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)divergence_init,
    .tp_dealloc = (destructor)divergence_dealloc,
    .tp_methods = divergence_methods,
    .tp_getset = divergence_getset,
};

static PyObject *py_geomloss_ground(PyObject *self, PyObject *arg)
{
    double p = PyFloat_AsDouble(arg), power = 0.0;
    otk_ground ground;
    int st;

    if (p == -1.0 && PyErr_Occurred())
        return NULL;
    st = otk_divergence_geomloss_ground(p, &ground, &power);
    if (st < 0)
        return otkpy_raise_status(st);
    return Py_BuildValue("(sd)", otk_ground_name(ground), power);
}

static PyMethodDef functions[] = {
    {"geomloss_ground", py_geomloss_ground, METH_O,
     "geomloss_ground(p) -> (cost name, power): GeomLoss's |x-y|^p / p as a named cost"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_divergence(PyObject *module)
{
    if (PyType_Ready(&DivergenceType) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "Divergence", (PyObject *)&DivergenceType) < 0)
        return -1;
    return PyModule_AddFunctions(module, functions);
}
