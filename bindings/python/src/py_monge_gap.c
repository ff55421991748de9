/*
 * py_monge_gap.c — otkit._otkit.monge_gap (otkit/monge_gap.h) and the
 * otkit._otkit.EntropicMap type (otkit/entropic_map.h).
 */
#include "otkpy.h"

#include <string.h>

static PyObject *py_monge_gap(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x",   "tx",       "w",       "cost",   "power", "eps",
                             "relative_eps", "relative_to", "tol", "max_iter", "threads",
                             "grad_tx", "grad_x", "cache_mb", "backend", "truncate", NULL};
    PyObject *xobj, *txobj, *wobj = Py_None;
    double cache_mb = 0.0;
    const char *cost_name = "sqeuclidean";
    otk_monge_gap_params par;
    otk_monge_gap_result r;
    int relative_to, backend, want_gtx = 0, want_gx = 0, err, st;
    PyArrayObject *x = NULL, *tx = NULL, *w = NULL, *gtx = NULL, *gx = NULL;
    PyObject *out = NULL;
    npy_intp n, d;

    otk_monge_gap_params_default(&par);
    relative_to = (int)par.relative_to;
    backend = (int)par.backend;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O$sdddidiippdid", kwlist, &xobj, &txobj,
                                     &wobj, &cost_name, &par.power, &par.eps,
                                     &par.relative_eps, &relative_to, &par.tol, &par.max_iter,
                                     &par.threads, &want_gtx, &want_gx, &cache_mb, &backend,
                                     &par.truncate))
        return NULL;
    par.backend = (otk_backend)backend;
    if (otkpy_cache_bytes(cache_mb, &par.cache_bytes) < 0)
        return NULL;
    par.relative_to = (otk_relative_to)relative_to;
    if (otkpy_ground(cost_name, "cost", &par.ground) < 0)
        return NULL;
    x = otkpy_array_in(xobj, "x", 2, -1, -1);
    if (x == NULL)
        return NULL;
    n = PyArray_DIM(x, 0);
    d = PyArray_DIM(x, 1);
    tx = otkpy_array_in(txobj, "tx", 2, n, d);
    if (tx == NULL)
        goto done;
    w = otkpy_array_opt(wobj, "w", 1, n, -1, &err);
    if (err)
        goto done;
    if ((want_gtx && (gtx = otkpy_new_array(n, d)) == NULL) ||
        (want_gx && (gx = otkpy_new_array(n, d)) == NULL))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    st = otk_monge_gap_compute((size_t)n, (size_t)d, (const double *)PyArray_DATA(x),
                               (const double *)PyArray_DATA(tx),
                               w ? (const double *)PyArray_DATA(w) : NULL, &par, &r,
                               gtx ? (double *)PyArray_DATA(gtx) : NULL,
                               gx ? (double *)PyArray_DATA(gx) : NULL);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    out = Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:i,s:d,s:i,s:s,s:d,s:O,s:O}", "monge_gap",
                        r.monge_gap, "displacement", r.displacement, "ot_ent", r.ot_ent, "eps",
                        r.eps, "lower_bound", r.lower_bound, "iterations", r.iterations,
                        "marginal_error", r.marginal_error, "status", (int)st, "backend",
                        otk_backend_name(r.backend), "truncation_bound", r.truncation_bound,
                        "grad_tx", gtx ? (PyObject *)gtx : Py_None, "grad_x",
                        gx ? (PyObject *)gx : Py_None);
done:
    Py_XDECREF(x);
    Py_XDECREF(tx);
    Py_XDECREF(w);
    Py_XDECREF(gtx);
    Py_XDECREF(gx);
    return out;
}

/* ------------------------------------------------------------------ EntropicMap */

typedef struct {
    PyObject_HEAD
    otk_entropic_map *map;
    npy_intp m, d;
    int status; /* of the fit: 0, or OTK_NOT_CONVERGED */
} EntropicMapObject;

static void emap_dealloc(EntropicMapObject *self)
{
    otk_entropic_map_free(self->map);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* EntropicMap(x=, y=, a=, b=, cost=, power=, eps=, blur=, ...) fits;
 * EntropicMap(y=, b=, g=, eps=, cost=, power=) rebuilds from stored data. */
static int emap_init(EntropicMapObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x",     "y",     "a",      "b",        "g",       "cost",
                             "power", "eps",   "blur",   "schedule", "scaling", "tol",
                             "max_iter", "threads", "relative_eps", "relative_to", "scale_cost",
                             "scale_cost_stat", NULL};
    PyObject *xobj = Py_None, *yobj = Py_None, *aobj = Py_None, *bobj = Py_None,
             *gobj = Py_None;
    const char *cost_name = "sqeuclidean";
    double power = 0.0;
    otk_sinkhorn_params par;
    otk_ground ground;
    int schedule, err, st;
    PyArrayObject *x = NULL, *y = NULL, *a = NULL, *b = NULL, *g = NULL;
    otk_entropic_map *map = NULL;

    if (self->map != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "EntropicMap.__init__ called twice");
        return -1;
    }
    otk_sinkhorn_params_default(&par);
    schedule = (int)par.schedule;
    int relative_to = (int)par.relative_to;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOOOOsdddiddiididi", kwlist, &xobj, &yobj,
                                     &aobj, &bobj, &gobj, &cost_name, &power, &par.eps,
                                     &par.blur, &schedule, &par.scaling, &par.tol,
                                     &par.max_iter, &par.threads, &par.relative_eps,
                                     &relative_to, &par.scale_cost, &par.scale_cost_stat))
        return -1;
    par.relative_to = (otk_relative_to)relative_to;
    par.schedule = (otk_schedule)schedule;
    if (otkpy_ground(cost_name, "cost", &ground) < 0)
        return -1;
    if (yobj == Py_None) {
        PyErr_SetString(PyExc_ValueError, "y is required");
        return -1;
    }
    /* When fitting, x fixes the dimension and y is checked against it. */
    if (gobj == Py_None && xobj != Py_None) {
        x = otkpy_array_in(xobj, "x", 2, -1, -1);
        if (x == NULL)
            return -1;
    }
    y = otkpy_array_in(yobj, "y", 2, -1, x ? PyArray_DIM(x, 1) : -1);
    if (y == NULL)
        goto fail;
    self->m = PyArray_DIM(y, 0);
    self->d = PyArray_DIM(y, 1);
    b = otkpy_array_opt(bobj, "b", 1, self->m, -1, &err);
    if (err)
        goto fail;
    if (gobj != Py_None) {
        if (xobj != Py_None || aobj != Py_None) {
            PyErr_SetString(PyExc_ValueError, "give either x (to fit) or g (to rebuild)");
            goto fail;
        }
        g = otkpy_array_in(gobj, "g", 1, self->m, -1);
        if (g == NULL)
            goto fail;
        Py_BEGIN_ALLOW_THREADS
        st = otk_entropic_map_from_potential(&map, (size_t)self->m, (size_t)self->d,
                                             (const double *)PyArray_DATA(y),
                                             b ? (const double *)PyArray_DATA(b) : NULL,
                                             (const double *)PyArray_DATA(g), par.eps, ground,
                                             power);
        Py_END_ALLOW_THREADS
    } else {
        npy_intp n;
        if (xobj == Py_None) {
            PyErr_SetString(PyExc_ValueError, "x is required (or g to rebuild a map)");
            goto fail;
        }
        n = PyArray_DIM(x, 0);
        a = otkpy_array_opt(aobj, "a", 1, n, -1, &err);
        if (err)
            goto fail;
        Py_BEGIN_ALLOW_THREADS
        st = otk_entropic_map_fit(&map, (size_t)n, (size_t)self->m, (size_t)self->d,
                                  (const double *)PyArray_DATA(x),
                                  (const double *)PyArray_DATA(y),
                                  a ? (const double *)PyArray_DATA(a) : NULL,
                                  b ? (const double *)PyArray_DATA(b) : NULL, ground, power,
                                  &par);
        Py_END_ALLOW_THREADS
    }
    if (st < 0) {
        otkpy_raise_status(st);
        goto fail;
    }
    self->map = map;
    self->status = st;
    Py_XDECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(g);
    return 0;
fail:
    Py_XDECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(g);
    return -1;
}

static int emap_ready(EntropicMapObject *self)
{
    if (self->map == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "EntropicMap object is not initialised");
        return -1;
    }
    return 0;
}

/* A fitted map is read-only in the library, so apply needs no busy flag. */
static PyObject *emap_apply(EntropicMapObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"z", "threads", NULL};
    PyObject *zobj;
    PyArrayObject *z, *tz;
    int threads = 0, st;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|i", kwlist, &zobj, &threads))
        return NULL;
    if (emap_ready(self) < 0)
        return NULL;
    z = otkpy_array_in(zobj, "z", 2, -1, self->d);
    if (z == NULL)
        return NULL;
    tz = otkpy_new_array(PyArray_DIM(z, 0), self->d);
    if (tz == NULL) {
        Py_DECREF(z);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_entropic_map_apply(self->map, (size_t)PyArray_DIM(z, 0),
                                (const double *)PyArray_DATA(z), (double *)PyArray_DATA(tz),
                                threads);
    Py_END_ALLOW_THREADS
    Py_DECREF(z);
    if (st < 0) {
        Py_DECREF(tz);
        return otkpy_raise_status_arg(st, "z");
    }
    return (PyObject *)tz;
}

static PyObject *emap_data(EntropicMapObject *self, PyObject *noargs)
{
    size_t m, d;
    const double *y, *b, *g;
    double eps, power;
    otk_ground ground;
    PyArrayObject *Y, *B, *G;
    int st;

    if (emap_ready(self) < 0)
        return NULL;
    st = otk_entropic_map_data(self->map, &m, &d, &y, &b, &g, &eps, &ground, &power);
    if (st < 0)
        return otkpy_raise_status(st);
    Y = otkpy_new_array((npy_intp)m, (npy_intp)d);
    B = otkpy_new_array((npy_intp)m, -1);
    G = otkpy_new_array((npy_intp)m, -1);
    if (Y == NULL || B == NULL || G == NULL) {
        Py_XDECREF(Y);
        Py_XDECREF(B);
        Py_XDECREF(G);
        return NULL;
    }
    memcpy(PyArray_DATA(Y), y, m * d * sizeof(double));
    memcpy(PyArray_DATA(B), b, m * sizeof(double));
    memcpy(PyArray_DATA(G), g, m * sizeof(double));
    return Py_BuildValue("{s:N,s:N,s:N,s:d,s:s,s:d,s:i}", "y", Y, "b", B, "g", G, "eps", eps,
                         "cost", otk_ground_name(ground), "power", power, "status",
                         self->status);
}

static PyMethodDef emap_methods[] = {
    {"apply", (PyCFunction)(void (*)(void))emap_apply, METH_VARARGS | METH_KEYWORDS,
     "apply(z, threads=0) -> T(z), (k, d) (otk_entropic_map_apply)"},
    {"data", (PyCFunction)emap_data, METH_NOARGS,
     "data() -> dict(y, b, g, eps, cost, power, status) (otk_entropic_map_data)"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject EntropicMapType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otkit._otkit.EntropicMap",
    .tp_basicsize = sizeof(EntropicMapObject),
    .tp_dealloc = (destructor)emap_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An entropic map (otkit/entropic_map.h); use otkit.EntropicMap.",
    .tp_methods = emap_methods,
    .tp_init = (initproc)emap_init,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef functions[] = {
    {"monge_gap", (PyCFunction)(void (*)(void))py_monge_gap, METH_VARARGS | METH_KEYWORDS,
     "monge_gap(x, tx, w=None, *, cost, power, eps, relative_eps, relative_to, tol, max_iter, "
     "threads, grad_tx, grad_x) -> dict (otk_monge_gap_compute)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_monge_gap(PyObject *module)
{
    if (PyType_Ready(&EntropicMapType) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "EntropicMap", (PyObject *)&EntropicMapType) < 0)
        return -1;
    return PyModule_AddFunctions(module, functions);
}
