/*
 * py_mapfit.c — otkit._otkit.Map: transport maps fitted with the Sinkhorn
 * divergence and the Monge gap (otkit/mapfit.h): affine, residual MLP and
 * entropic maps, their fit, apply, parameters and model files.
 */
#include "otkpy.h"

#include <string.h>

typedef struct {
    PyObject_HEAD
    otk_map *map;
    int busy; /* set during fit / set_params, which modify the map */
} MapObject;

static PyTypeObject MapType;

static void map_dealloc(MapObject *self)
{
    otk_map_free(self->map);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *map_wrap(otk_map *map, int st)
{
    MapObject *obj;

    if (st < 0)
        return otkpy_raise_status(st);
    obj = PyObject_New(MapObject, &MapType);
    if (obj == NULL) {
        otk_map_free(map);
        return NULL;
    }
    obj->map = map;
    obj->busy = 0;
    return (PyObject *)obj;
}

static PyObject *py_map_affine(PyObject *self, PyObject *args)
{
    Py_ssize_t d;
    otk_map *map = NULL;

    if (!PyArg_ParseTuple(args, "n", &d))
        return NULL;
    if (d <= 0) {
        PyErr_Format(PyExc_ValueError, "dim = %zd must be > 0", d);
        return NULL;
    }
    return map_wrap(map, otk_map_alloc_affine(&map, (size_t)d));
}

static PyObject *py_map_mlp(PyObject *self, PyObject *args)
{
    Py_ssize_t d, k, K;
    PyObject *hidden;
    const char *act_name;
    unsigned long seed;
    size_t widths[OTK_MAP_MAX_HIDDEN];
    otk_activation act;
    otk_map *map = NULL;

    if (!PyArg_ParseTuple(args, "nO!sk", &d, &PyTuple_Type, &hidden, &act_name, &seed))
        return NULL;
    if (d <= 0) {
        PyErr_Format(PyExc_ValueError, "dim = %zd must be > 0", d);
        return NULL;
    }
    K = PyTuple_GET_SIZE(hidden);
    if (K < 1 || K > OTK_MAP_MAX_HIDDEN) {
        PyErr_Format(PyExc_ValueError, "hidden has %zd layers, expected 1 to %d", K,
                     OTK_MAP_MAX_HIDDEN);
        return NULL;
    }
    for (k = 0; k < K; k++) {
        Py_ssize_t w = PyLong_AsSsize_t(PyTuple_GET_ITEM(hidden, k));
        if (w == -1 && PyErr_Occurred())
            return NULL;
        if (w <= 0) {
            PyErr_Format(PyExc_ValueError, "hidden[%zd] = %zd must be > 0", k, w);
            return NULL;
        }
        widths[k] = (size_t)w;
    }
    int v;
    if (otkpy_enum("activation", act_name, "activation", &v) < 0)
        return NULL;
    act = (otk_activation)v;
    return map_wrap(map, otk_map_alloc_mlp(&map, (size_t)d, (size_t)K, widths, act, seed));
}

/* map_fit_entropic(x, y, cost, power, eps, blur, tol, max_iter, threads) -> (Map, status) */
static PyObject *py_map_fit_entropic(PyObject *self, PyObject *args)
{
    PyObject *xobj, *yobj, *out;
    const char *cost_name;
    double power;
    otk_ground ground;
    otk_sinkhorn_params par;
    PyArrayObject *x, *y;
    otk_map *map = NULL;
    int st;

    otk_sinkhorn_params_default(&par);
    if (!PyArg_ParseTuple(args, "OOsddddii", &xobj, &yobj, &cost_name, &power, &par.eps,
                          &par.blur, &par.tol, &par.max_iter, &par.threads))
        return NULL;
    if (otkpy_ground(cost_name, "cost", &ground) < 0)
        return NULL;
    if (otkpy_points_in(xobj, yobj, &x, &y) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    st = otk_map_fit_entropic(&map, (size_t)PyArray_DIM(x, 0), (size_t)PyArray_DIM(y, 0),
                              (size_t)PyArray_DIM(x, 1), (const double *)PyArray_DATA(x),
                              (const double *)PyArray_DATA(y), ground, power, &par);
    Py_END_ALLOW_THREADS
    Py_DECREF(x);
    Py_DECREF(y);
    out = map_wrap(map, st);
    return out == NULL ? NULL : Py_BuildValue("(Ni)", out, st);
}

static PyObject *py_map_load(PyObject *self, PyObject *args)
{
    PyObject *pathobj;
    otk_map *map = NULL;
    int st;

    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &pathobj))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    st = otk_map_load(&map, PyBytes_AS_STRING(pathobj));
    Py_END_ALLOW_THREADS
    Py_DECREF(pathobj);
    return map_wrap(map, st);
}

static int map_free_for_read(MapObject *self)
{
    if (self->map == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Map object is not initialised");
        return -1;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this Map is being fitted by another thread (apply it after the fit)");
        return -1;
    }
    return 0;
}

static PyObject *map_apply(MapObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"z", "threads", NULL};
    PyObject *zobj;
    PyArrayObject *z, *tz;
    int threads = 0, st;
    npy_intp d;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|i", kwlist, &zobj, &threads))
        return NULL;
    if (map_free_for_read(self) < 0)
        return NULL;
    d = (npy_intp)otk_map_get_dim(self->map);
    z = otkpy_array_in(zobj, "z", 2, -1, d);
    if (z == NULL)
        return NULL;
    tz = otkpy_new_array(PyArray_DIM(z, 0), d);
    if (tz == NULL) {
        Py_DECREF(z);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_map_apply(self->map, (size_t)PyArray_DIM(z, 0), (const double *)PyArray_DATA(z),
                       (double *)PyArray_DATA(tz), threads);
    Py_END_ALLOW_THREADS
    Py_DECREF(z);
    if (st < 0) {
        Py_DECREF(tz);
        return otkpy_raise_status_arg(st, "z");
    }
    return (PyObject *)tz;
}

/* Fill the fit parameters from keywords (the Python layer passes them all). */
static int fit_params(PyObject *kwds, otk_map_fit_params *par, double *lam_out)
{
    static char *kwlist[] = {"lam",   "warmup", "optimizer", "iters",  "batch",  "lr",
                             "seed",  "grad_tol", "cost",    "power",  "eps",    "blur",
                             "scaling", "schedule", "tol",   "max_iter", "mg_cost",
                             "mg_power", "mg_eps", "mg_relative_eps", "mg_tol",
                             "mg_max_iter", "threads", "lr_schedule", "report_points", "cache_mb",
                             NULL};
    PyObject *noargs;
    const char *opt = "auto", *cost = "half-sqeuclidean", *mg_cost = "sqeuclidean";
    const char *lr_schedule = "constant";
    Py_ssize_t batch, report_points;
    double cache_mb = 0.0;
    int schedule, ok;

    otk_map_fit_params_default(par);
    batch = (Py_ssize_t)par->batch;
    report_points = (Py_ssize_t)par->report_points;
    schedule = (int)par->divergence.schedule;
    par->lambda_schedule = OTK_LAMBDA_SCHEDULE_CONSTANT;
    noargs = PyTuple_New(0);
    if (noargs == NULL)
        return -1;
    ok = PyArg_ParseTupleAndKeywords(
        noargs, kwds, "|$disindkdsddddidisddddiisnd", kwlist, &par->lambda, &par->warmup_steps,
        &opt, &par->iters, &batch, &par->lr, &par->seed, &par->grad_tol, &cost, &par->power,
        &par->divergence.eps, &par->divergence.blur, &par->divergence.scaling, &schedule,
        &par->divergence.tol, &par->divergence.max_iter, &mg_cost, &par->monge_gap.power,
        &par->monge_gap.eps, &par->monge_gap.relative_eps, &par->monge_gap.tol,
        &par->monge_gap.max_iter, &par->threads, &lr_schedule, &report_points, &cache_mb);
    Py_DECREF(noargs);
    if (!ok)
        return -1;
    if (batch < 0) {
        PyErr_Format(PyExc_ValueError, "batch = %zd is negative", batch);
        return -1;
    }
    par->batch = (size_t)batch;
    if (report_points < 0) {
        PyErr_Format(PyExc_ValueError, "report_points = %zd is negative", report_points);
        return -1;
    }
    par->report_points = (size_t)report_points;
    if (otkpy_cache_bytes(cache_mb, &par->divergence.cache_bytes) < 0)
        return -1;
    par->monge_gap.cache_bytes = par->divergence.cache_bytes;
    int v;
    if (otkpy_enum("lr_schedule", lr_schedule, "lr_schedule", &v) < 0)
        return -1;
    par->lr_schedule = (otk_lr_schedule)v;
    par->divergence.schedule = (otk_schedule)schedule;
    if (par->warmup_steps > 0)
        par->lambda_schedule = OTK_LAMBDA_SCHEDULE_WARMUP;
    if (otkpy_enum("optimizer", opt, "optimizer", &v) < 0)
        return -1;
    par->optimizer = (otk_optimizer)v;
    if (otkpy_ground(cost, "cost", &par->ground) < 0 ||
        otkpy_ground(mg_cost, "mg_cost", &par->monge_gap.ground) < 0)
        return -1;
    *lam_out = par->lambda;
    return 0;
}

static PyObject *fit_result_dict(const otk_map_fit_result *r)
{
    return Py_BuildValue("{s:d,s:d,s:d,s:d,s:i,s:i,s:i,s:i,s:d,s:i,s:d,s:d,s:d,s:d}", "loss",
                         r->loss, "divergence", r->divergence, "monge_gap", r->monge_gap,
                         "lambda", r->lambda, "iterations", r->iterations, "evaluations",
                         r->evaluations, "inner_not_converged", r->inner_not_converged,
                         "stopped", r->stopped, "grad_norm", r->grad_norm, "status",
                         (int)r->status, "blur", r->blur, "eps", r->eps, "monge_gap_eps",
                         r->monge_gap_eps, "lambda_target", r->lambda_target);
}

/* Convert x (n x d) and y (m x d) for the map's dimension. */
static int points_in(MapObject *self, PyObject *xobj, PyObject *yobj, PyArrayObject **x,
                     PyArrayObject **y)
{
    npy_intp d = (npy_intp)otk_map_get_dim(self->map);

    *x = otkpy_array_in(xobj, "x", 2, -1, d);
    if (*x == NULL)
        return -1;
    *y = otkpy_array_in(yobj, "y", 2, -1, d);
    if (*y == NULL) {
        Py_CLEAR(*x);
        return -1;
    }
    return 0;
}

/* The Python progress callback: called from the fitting thread, which does
 * not hold the GIL, so it takes it for the call.  A true return value stops
 * the fit; an exception stops it too and is re-raised after otk_map_fit. */
typedef struct {
    PyObject *fn;
    PyObject *exc_type, *exc_value, *exc_tb;
} progress_ctx;

static int progress_trampoline(const otk_map_progress *info, void *ctxp)
{
    progress_ctx *ctx = ctxp;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *d, *ret;
    int stop;

    d = Py_BuildValue("{s:i,s:d,s:d,s:d,s:d,s:d}", "iteration", info->iteration, "loss",
                      info->loss, "divergence", info->divergence, "monge_gap", info->monge_gap,
                      "lambda", info->lambda, "grad_norm", info->grad_norm);
    ret = d ? PyObject_CallOneArg(ctx->fn, d) : NULL;
    Py_XDECREF(d);
    stop = otkpy_callback_verdict(ret, &ctx->exc_type, &ctx->exc_value, &ctx->exc_tb);
    PyGILState_Release(gil);
    return stop;
}

/* fit(x, y, progress=None, **params) -> dict */
static PyObject *map_fit(MapObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *xobj, *yobj, *kw2, *fn;
    PyArrayObject *x, *y;
    otk_map_fit_params par;
    otk_map_fit_result r;
    progress_ctx ctx = {NULL, NULL, NULL, NULL};
    double lam;
    int st;

    if (!PyArg_ParseTuple(args, "OO", &xobj, &yobj))
        return NULL;
    kw2 = kwds ? PyDict_Copy(kwds) : PyDict_New();
    if (kw2 == NULL)
        return NULL;
    fn = PyDict_GetItemString(kw2, "progress"); /* borrowed */
    if (fn != NULL) {
        if (fn != Py_None && !PyCallable_Check(fn)) {
            PyErr_SetString(PyExc_ValueError, "progress must be callable (or None)");
            Py_DECREF(kw2);
            return NULL;
        }
        if (fn != Py_None) {
            Py_INCREF(fn);
            ctx.fn = fn;
        }
        PyDict_DelItemString(kw2, "progress");
    }
    st = fit_params(kw2, &par, &lam);
    Py_DECREF(kw2);
    if (st < 0 || map_free_for_read(self) < 0 || points_in(self, xobj, yobj, &x, &y) < 0) {
        Py_XDECREF(ctx.fn);
        return NULL;
    }
    if (ctx.fn != NULL) {
        par.progress = progress_trampoline;
        par.progress_ctx = &ctx;
    }
    self->busy = 1;
    memset(&r, 0, sizeof r);
    Py_BEGIN_ALLOW_THREADS
    st = otk_map_fit(self->map, (size_t)PyArray_DIM(x, 0), (size_t)PyArray_DIM(y, 0),
                     otk_map_get_dim(self->map), (const double *)PyArray_DATA(x),
                     (const double *)PyArray_DATA(y), &par, &r);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    Py_DECREF(x);
    Py_DECREF(y);
    Py_XDECREF(ctx.fn);
    if (ctx.exc_type != NULL) {
        PyErr_Restore(ctx.exc_type, ctx.exc_value, ctx.exc_tb);
        return NULL;
    }
    if (st < 0)
        return otkpy_raise_status(st);
    r.status = st;
    return fit_result_dict(&r);
}

/* objective(x, y, grad=False, **params) -> (value, grad_theta or None, dict) */
static PyObject *map_objective(MapObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *xobj, *yobj, *gradobj = Py_False, *kw2 = NULL, *out = NULL;
    PyArrayObject *x = NULL, *y = NULL, *gt = NULL;
    otk_map_fit_params par;
    otk_map_fit_result r;
    double lam, value;
    int st, grad;

    if (!PyArg_ParseTuple(args, "OO", &xobj, &yobj))
        return NULL;
    kw2 = kwds ? PyDict_Copy(kwds) : PyDict_New();
    if (kw2 == NULL)
        return NULL;
    if (PyDict_GetItemString(kw2, "grad") != NULL) {
        gradobj = PyDict_GetItemString(kw2, "grad");
        Py_INCREF(gradobj);
        PyDict_DelItemString(kw2, "grad");
    } else
        Py_INCREF(gradobj);
    grad = PyObject_IsTrue(gradobj);
    Py_DECREF(gradobj);
    if (grad < 0 || fit_params(kw2, &par, &lam) < 0)
        goto done;
    if (map_free_for_read(self) < 0 || points_in(self, xobj, yobj, &x, &y) < 0)
        goto done;
    if (grad) {
        if (otk_map_get_n_params(self->map) == 0) {
            PyErr_SetString(PyExc_ValueError,
                            "grad=True: an entropic map has no parameters to differentiate");
            goto done;
        }
        gt = otkpy_new_array((npy_intp)otk_map_get_n_params(self->map), -1);
        if (gt == NULL)
            goto done;
    }
    memset(&r, 0, sizeof r);
    Py_BEGIN_ALLOW_THREADS
    st = otk_map_objective(self->map, (size_t)PyArray_DIM(x, 0), (size_t)PyArray_DIM(y, 0),
                           otk_map_get_dim(self->map), (const double *)PyArray_DATA(x),
                           (const double *)PyArray_DATA(y), &par, lam, &value,
                           gt ? (double *)PyArray_DATA(gt) : NULL, &r);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    r.status = st;
    out = Py_BuildValue("(dON)", value, gt ? (PyObject *)gt : Py_None, fit_result_dict(&r));
done:
    Py_XDECREF(kw2);
    Py_XDECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(gt);
    return out;
}

static PyObject *map_get_params(MapObject *self, PyObject *noargs)
{
    PyArrayObject *theta;
    int st;

    if (map_free_for_read(self) < 0)
        return NULL;
    if (otk_map_get_n_params(self->map) == 0) {
        PyErr_SetString(PyExc_ValueError, "an entropic map has no parameter vector");
        return NULL;
    }
    theta = otkpy_new_array((npy_intp)otk_map_get_n_params(self->map), -1);
    if (theta == NULL)
        return NULL;
    st = otk_map_get_params(self->map, (double *)PyArray_DATA(theta));
    if (st < 0) {
        Py_DECREF(theta);
        return otkpy_raise_status(st);
    }
    return (PyObject *)theta;
}

static PyObject *map_set_params(MapObject *self, PyObject *arg)
{
    PyArrayObject *theta;
    int st;

    if (map_free_for_read(self) < 0)
        return NULL;
    if (otk_map_get_n_params(self->map) == 0) {
        PyErr_SetString(PyExc_ValueError, "an entropic map has no parameter vector");
        return NULL;
    }
    theta = otkpy_array_in(arg, "theta", 1, (npy_intp)otk_map_get_n_params(self->map), -1);
    if (theta == NULL)
        return NULL;
    st = otk_map_set_params(self->map, (const double *)PyArray_DATA(theta));
    Py_DECREF(theta);
    if (st < 0)
        return otkpy_raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *map_save(MapObject *self, PyObject *args)
{
    PyObject *pathobj;
    int st;

    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &pathobj))
        return NULL;
    if (map_free_for_read(self) < 0) {
        Py_DECREF(pathobj);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_map_save(self->map, PyBytes_AS_STRING(pathobj));
    Py_END_ALLOW_THREADS
    Py_DECREF(pathobj);
    if (st < 0)
        return otkpy_raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *map_info(MapObject *self, PyObject *noargs)
{
    size_t widths[OTK_MAP_MAX_HIDDEN], K, k;
    PyObject *hidden;
    otk_map_family fam;

    if (map_free_for_read(self) < 0)
        return NULL;
    fam = otk_map_get_family(self->map);
    K = otk_map_get_hidden(self->map, widths, OTK_MAP_MAX_HIDDEN);
    hidden = PyTuple_New((Py_ssize_t)K);
    if (hidden == NULL)
        return NULL;
    for (k = 0; k < K; k++) {
        PyObject *w = PyLong_FromSize_t(widths[k]);
        if (w == NULL) {
            Py_DECREF(hidden);
            return NULL;
        }
        PyTuple_SET_ITEM(hidden, (Py_ssize_t)k, w);
    }
    return Py_BuildValue("{s:s,s:n,s:n,s:N,s:s}", "family", otk_map_family_name(fam), "dim",
                         (Py_ssize_t)otk_map_get_dim(self->map), "n_params",
                         (Py_ssize_t)otk_map_get_n_params(self->map), "hidden", hidden,
                         "activation",
                         fam == OTK_MAP_FAMILY_MLP ? otk_activation_name(otk_map_get_activation(self->map))
                                            : "");
}

static PyMethodDef map_methods[] = {
    {"apply", (PyCFunction)(void (*)(void))map_apply, METH_VARARGS | METH_KEYWORDS,
     "apply(z, threads=0) -> T(z) (otk_map_apply)"},
    {"fit", (PyCFunction)(void (*)(void))map_fit, METH_VARARGS | METH_KEYWORDS,
     "fit(x, y, progress=None, **params) -> dict (otk_map_fit)"},
    {"objective", (PyCFunction)(void (*)(void))map_objective, METH_VARARGS | METH_KEYWORDS,
     "objective(x, y, grad=False, **params) -> (value, grad_theta, dict)"},
    {"get_params", (PyCFunction)map_get_params, METH_NOARGS, "get_params() -> theta"},
    {"set_params", (PyCFunction)map_set_params, METH_O, "set_params(theta)"},
    {"save", (PyCFunction)map_save, METH_VARARGS, "save(path) (otk_map_save, atomic)"},
    {"info", (PyCFunction)map_info, METH_NOARGS,
     "info() -> dict(family, dim, n_params, hidden, activation)"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject MapType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otkit._otkit.Map",
    .tp_basicsize = sizeof(MapObject),
    .tp_dealloc = (destructor)map_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A transport map (otkit/mapfit.h); use otkit.MapFit.",
    .tp_methods = map_methods,
};

static PyMethodDef functions[] = {
    {"map_affine", py_map_affine, METH_VARARGS, "map_affine(d) -> Map (the identity)"},
    {"map_mlp", py_map_mlp, METH_VARARGS, "map_mlp(d, hidden, activation, seed) -> Map"},
    {"map_fit_entropic", py_map_fit_entropic, METH_VARARGS,
     "map_fit_entropic(x, y, cost, power, eps, blur, tol, max_iter, threads) -> (Map, status)"},
    {"map_load", py_map_load, METH_VARARGS, "map_load(path) -> Map (otk_map_load)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_mapfit(PyObject *module)
{
    if (PyType_Ready(&MapType) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "Map", (PyObject *)&MapType) < 0)
        return -1;
    return PyModule_AddFunctions(module, functions);
}
