/*
 * py_fdiv.c — otkit._otkit.fdiv (otk_fdiv_probs / otk_fdiv_logits), psi,
 * psi_counts and information_value (otkit/fdiv.h).  Names (kind, reduction,
 * binning) are parsed by the library's name tables.
 */
#include "otkpy.h"

#include <math.h>
#include <string.h>

/* A Python generator f(t) -> (f, f') for OTK_FDIV_CUSTOM.  Called with the
 * GIL held (the call runs serially, without releasing the GIL); the first
 * exception is kept and re-raised after the call, NaN is returned meanwhile. */
typedef struct {
    PyObject *fn;
    int failed;
} py_generator;

static double generator_call(double t, double *df, void *user)
{
    py_generator *g = user;
    double f = NAN, d = NAN;
    if (!g->failed) {
        PyObject *r = PyObject_CallFunction(g->fn, "d", t);
        if (r == NULL || !PyArg_ParseTuple(r, "dd;generator must return (f(t), f'(t))", &f, &d))
            g->failed = 1;
        Py_XDECREF(r);
    }
    if (df)
        *df = d;
    return f;
}

static int name_status(int st, const char *argname)
{
    if (st < 0) {
        otkpy_raise_status_arg(st, argname);
        return -1;
    }
    return 0;
}

static PyObject *py_fdiv(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"p",         "q",        "kind",      "alpha",     "logits",
                             "tau",       "tau2",     "smoothing", "reduction", "grad_p",
                             "grad_q",    "generator", "slope_at_infinity", "threads", NULL};
    PyObject *pobj, *qobj, *gen = Py_None;
    const char *kind = "kl", *reduction = "mean";
    int logits = 0, tau2 = 0, want_p = 0, want_q = 0, st;
    otk_fdiv_params par;
    otk_fdiv_generator cgen;
    py_generator pyg = {NULL, 0};
    PyArrayObject *p = NULL, *q = NULL, *gp = NULL, *gq = NULL, *val = NULL;
    double one = 0.0;

    otk_fdiv_params_default(&par);
    cgen.fn = generator_call;
    cgen.user = &pyg;
    cgen.slope_at_infinity = INFINITY;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$sdpdpdsppOdi", kwlist, &pobj, &qobj, &kind,
                                     &par.alpha, &logits, &par.tau, &tau2, &par.smoothing,
                                     &reduction, &want_p, &want_q, &gen,
                                     &cgen.slope_at_infinity, &par.threads))
        return NULL;
    if (name_status(otk_fdiv_kind_from_name(kind, &par.kind), "kind") < 0 ||
        name_status(otk_reduction_kind_from_name(reduction, &par.reduction), "reduction") < 0)
        return NULL;
    par.scale_tau2 = tau2;
    if (par.kind == OTK_FDIV_CUSTOM) {
        if (gen == Py_None || !PyCallable_Check(gen)) {
            PyErr_SetString(PyExc_ValueError,
                            "generator: kind 'custom' needs a callable t -> (f(t), f'(t))");
            return NULL;
        }
        pyg.fn = gen;
        par.generator = &cgen;
        par.threads = 1;
    } else if (gen != Py_None) {
        PyErr_SetString(PyExc_ValueError, "generator applies only with kind 'custom'");
        return NULL;
    }
    p = otkpy_array_in(pobj, "p", 2, -1, -1);
    if (p == NULL)
        return NULL;
    const npy_intp B = PyArray_DIM(p, 0), K = PyArray_DIM(p, 1);
    q = otkpy_array_in(qobj, "q", 2, B, K);
    if (q == NULL)
        goto fail;
    if (want_p && (gp = otkpy_new_array(B, K)) == NULL)
        goto fail;
    if (want_q && (gq = otkpy_new_array(B, K)) == NULL)
        goto fail;
    if (par.reduction == OTK_REDUCTION_NONE && (val = otkpy_new_array(B, -1)) == NULL)
        goto fail;
    {
        double *out = val ? (double *)PyArray_DATA(val) : &one;
        const double *pd = PyArray_DATA(p), *qd = PyArray_DATA(q);
        double *gpd = gp ? (double *)PyArray_DATA(gp) : NULL;
        double *gqd = gq ? (double *)PyArray_DATA(gq) : NULL;
        if (par.kind == OTK_FDIV_CUSTOM) { /* the generator needs the GIL */
            st = logits ? otk_fdiv_logits(&par, (size_t)B, (size_t)K, pd, qd, out, gpd, gqd)
                        : otk_fdiv_probs(&par, (size_t)B, (size_t)K, pd, qd, out, gpd, gqd);
        } else {
            Py_BEGIN_ALLOW_THREADS
            st = logits ? otk_fdiv_logits(&par, (size_t)B, (size_t)K, pd, qd, out, gpd, gqd)
                        : otk_fdiv_probs(&par, (size_t)B, (size_t)K, pd, qd, out, gpd, gqd);
            Py_END_ALLOW_THREADS
        }
    }
    if (pyg.failed)
        goto fail; /* the generator's exception */
    if (st < 0) {
        otkpy_raise_status(st);
        goto fail;
    }
    Py_DECREF(p);
    Py_DECREF(q);
    if (!gp) {
        Py_INCREF(Py_None);
        gp = (PyArrayObject *)Py_None;
    }
    if (!gq) {
        Py_INCREF(Py_None);
        gq = (PyArrayObject *)Py_None;
    }
    return Py_BuildValue("(NNN)", val ? (PyObject *)val : PyFloat_FromDouble(one), gp, gq);
fail:
    Py_XDECREF(p);
    Py_XDECREF(q);
    Py_XDECREF(gp);
    Py_XDECREF(gq);
    Py_XDECREF(val);
    return NULL;
}

/* Binning keywords into an otk_bins_params; `edges` (new reference or NULL)
 * holds the user edges alive.  0 or -1 with an exception. */
static int bins_in(const char *binning, Py_ssize_t bins, PyObject *edges_obj, double floor_,
                   otk_bins_params *bp, PyArrayObject **edges, npy_intp *room)
{
    otk_bins_params_default(bp);
    *edges = NULL;
    if (name_status(otk_binning_from_name(binning, &bp->binning), "binning") < 0)
        return -1;
    if (edges_obj != Py_None) {
        if (bp->binning != OTK_BINNING_EDGES) {
            PyErr_SetString(PyExc_ValueError, "edges applies only with binning='edges'");
            return -1;
        }
        *edges = otkpy_array_in(edges_obj, "edges", 1, -1, -1);
        if (*edges == NULL)
            return -1;
        bp->edges = PyArray_DATA(*edges);
        bp->n_edges = (size_t)PyArray_DIM(*edges, 0);
    } else if (bp->binning == OTK_BINNING_EDGES) {
        PyErr_SetString(PyExc_ValueError, "binning='edges' needs edges");
        return -1;
    }
    if (bins < 1) {
        PyErr_Format(PyExc_ValueError, "bins = %zd must be >= 1", bins);
        Py_XDECREF(*edges);
        return -1;
    }
    bp->bins = (size_t)bins;
    bp->floor = floor_;
    *room = bp->binning == OTK_BINNING_EDGES ? (npy_intp)bp->n_edges + 1 : (npy_intp)bins;
    return 0;
}

/* The first m − 1 edges and m values as new arrays (tied quantiles can make m
 * smaller than the room). */
static PyObject *binned_result(double value, size_t m, const double *edges, const double *per)
{
    PyArrayObject *e = otkpy_new_array((npy_intp)(m - 1), -1);
    PyArrayObject *v = otkpy_new_array((npy_intp)m, -1);
    if (!e || !v) {
        Py_XDECREF(e);
        Py_XDECREF(v);
        return NULL;
    }
    if (m > 1)
        memcpy(PyArray_DATA(e), edges, (m - 1) * sizeof(double));
    memcpy(PyArray_DATA(v), per, m * sizeof(double));
    return Py_BuildValue("(dNN)", value, e, v);
}

static PyObject *py_psi(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"expected", "actual", "bins", "binning", "edges", "floor", NULL};
    PyObject *eobj, *aobj, *edges_obj = Py_None, *res = NULL;
    Py_ssize_t bins = 10;
    const char *binning = "quantile";
    double floor_ = 1e-4, psi = 0.0, *buf = NULL;
    otk_bins_params bp;
    PyArrayObject *e = NULL, *a = NULL, *edges = NULL;
    npy_intp room = 0;
    size_t m = 0;
    int st;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$nsOd", kwlist, &eobj, &aobj, &bins,
                                     &binning, &edges_obj, &floor_))
        return NULL;
    if (bins_in(binning, bins, edges_obj, floor_, &bp, &edges, &room) < 0)
        return NULL;
    e = otkpy_array_in(eobj, "expected", 1, -1, -1);
    a = e ? otkpy_array_in(aobj, "actual", 1, -1, -1) : NULL;
    if (!a)
        goto done;
    buf = PyMem_New(double, 2 * (size_t)room);
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_psi(&bp, PyArray_DATA(e), (size_t)PyArray_DIM(e, 0), PyArray_DATA(a),
                 (size_t)PyArray_DIM(a, 0), &psi, &m, buf, buf + room);
    Py_END_ALLOW_THREADS
    if (st < 0)
        otkpy_raise_status(st);
    else
        res = binned_result(psi, m, buf, buf + room);
done:
    PyMem_Free(buf);
    Py_XDECREF(e);
    Py_XDECREF(a);
    Py_XDECREF(edges);
    return res;
}

static PyObject *py_psi_counts(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"expected", "actual", "floor", NULL};
    PyObject *eobj, *aobj, *res = NULL;
    double floor_ = 1e-4, psi = 0.0;
    PyArrayObject *e, *a = NULL, *per = NULL;
    int st;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$d", kwlist, &eobj, &aobj, &floor_))
        return NULL;
    e = otkpy_array_in(eobj, "expected", 1, -1, -1);
    if (!e)
        return NULL;
    a = otkpy_array_in(aobj, "actual", 1, PyArray_DIM(e, 0), -1);
    if (a && (per = otkpy_new_array(PyArray_DIM(e, 0), -1)) != NULL) {
        st = otk_psi_counts((size_t)PyArray_DIM(e, 0), PyArray_DATA(e), PyArray_DATA(a), floor_,
                            &psi, PyArray_DATA(per));
        if (st < 0) {
            otkpy_raise_status(st);
            Py_DECREF(per);
        } else {
            res = Py_BuildValue("(dN)", psi, per);
        }
    }
    Py_DECREF(e);
    Py_XDECREF(a);
    return res;
}

static PyObject *py_information_value(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", "bins", "binning", "edges", "floor", NULL};
    PyObject *xobj, *yobj, *edges_obj = Py_None, *res = NULL, *raw = NULL;
    Py_ssize_t bins = 10;
    const char *binning = "quantile";
    double floor_ = 1e-4, iv = 0.0, *buf = NULL;
    otk_bins_params bp;
    PyArrayObject *x = NULL, *y = NULL, *edges = NULL;
    int *labels = NULL;
    npy_intp room = 0, n, i;
    size_t m = 0;
    int st;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$nsOd", kwlist, &xobj, &yobj, &bins,
                                     &binning, &edges_obj, &floor_))
        return NULL;
    if (bins_in(binning, bins, edges_obj, floor_, &bp, &edges, &room) < 0)
        return NULL;
    x = otkpy_array_in(xobj, "x", 1, -1, -1);
    if (!x)
        goto done;
    n = PyArray_DIM(x, 0);
    raw = PyArray_FROM_O(yobj);
    if (raw == NULL || !(PyArray_ISINTEGER((PyArrayObject *)raw) ||
                         PyArray_ISBOOL((PyArrayObject *)raw))) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "y must be an array of integers 0/1 (or booleans)");
        goto done;
    }
    y = (PyArrayObject *)PyArray_FROM_OTF(raw, NPY_INT64, NPY_ARRAY_IN_ARRAY);
    if (!y)
        goto done;
    if (PyArray_NDIM(y) != 1 || PyArray_DIM(y, 0) != n) {
        PyErr_Format(PyExc_ValueError, "y must be a 1-D array of n = %zd labels like x",
                     (Py_ssize_t)n);
        goto done;
    }
    labels = PyMem_New(int, (size_t)n);
    buf = PyMem_New(double, 2 * (size_t)room);
    if (!labels || !buf) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++) {
        const long long v = ((const long long *)PyArray_DATA(y))[i];
        labels[i] = v == 0 || v == 1 ? (int)v : 2; /* the library names the index */
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_information_value(&bp, PyArray_DATA(x), labels, (size_t)n, &iv, &m, buf,
                               buf + room);
    Py_END_ALLOW_THREADS
    if (st < 0)
        otkpy_raise_status(st);
    else
        res = binned_result(iv, m, buf, buf + room);
done:
    PyMem_Free(labels);
    PyMem_Free(buf);
    Py_XDECREF(raw);
    Py_XDECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(edges);
    return res;
}

/* otk_sinkd_regression_objective (otkit/distill.h), bound here with the
 * other distillation terms that need no SinKD plan. */
static PyObject *py_sinkd_regression_objective(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"s", "t", "y", "alpha", "tau", "grad", NULL};
    PyObject *sobj, *tobj, *yobj, *res = NULL;
    double alpha, tau = 2.0;
    int want = 1, st;
    PyArrayObject *s, *t = NULL, *y = NULL, *g = NULL;
    otk_sinkd_objective_parts parts;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOd|dp", kwlist, &sobj, &tobj, &yobj, &alpha,
                                     &tau, &want))
        return NULL;
    s = otkpy_array_in(sobj, "s", 1, -1, -1);
    if (!s)
        return NULL;
    t = otkpy_array_in(tobj, "t", 1, PyArray_DIM(s, 0), -1);
    y = t ? otkpy_array_in(yobj, "y", 1, PyArray_DIM(s, 0), -1) : NULL;
    if (y && (!want || (g = otkpy_new_array(PyArray_DIM(s, 0), -1)) != NULL)) {
        st = otk_sinkd_regression_objective((size_t)PyArray_DIM(s, 0), PyArray_DATA(s),
                                            PyArray_DATA(t), PyArray_DATA(y), alpha, tau, &parts,
                                            g ? (double *)PyArray_DATA(g) : NULL);
        if (st < 0) {
            otkpy_raise_status(st);
            Py_XDECREF(g);
        } else {
            if (!g) {
                Py_INCREF(Py_None);
                g = (PyArrayObject *)Py_None;
            }
            res = Py_BuildValue("({s:d,s:d,s:d,s:d}N)", "total", parts.total, "kd", parts.kd,
                                "mse", parts.ce, "sinkd", parts.sinkd, g);
        }
    }
    Py_DECREF(s);
    Py_XDECREF(t);
    Py_XDECREF(y);
    return res;
}

static PyMethodDef functions[] = {
    {"fdiv", (PyCFunction)(void (*)(void))py_fdiv, METH_VARARGS | METH_KEYWORDS,
     "fdiv(p, q, *, kind='kl', alpha=0, logits=False, tau=1, tau2=False, smoothing=0, "
     "reduction='mean', grad_p=False, grad_q=False, generator=None, slope_at_infinity=inf, "
     "threads=0) -> (value, grad_p or None, grad_q or None)"},
    {"psi", (PyCFunction)(void (*)(void))py_psi, METH_VARARGS | METH_KEYWORDS,
     "psi(expected, actual, *, bins=10, binning='quantile', edges=None, floor=1e-4) -> "
     "(psi, edges, per_bin)"},
    {"psi_counts", (PyCFunction)(void (*)(void))py_psi_counts, METH_VARARGS | METH_KEYWORDS,
     "psi_counts(expected, actual, *, floor=1e-4) -> (psi, per_bin)"},
    {"information_value", (PyCFunction)(void (*)(void))py_information_value,
     METH_VARARGS | METH_KEYWORDS,
     "information_value(x, y, *, bins=10, binning='quantile', edges=None, floor=1e-4) -> "
     "(iv, edges, woe)"},
    {"sinkd_regression_objective", (PyCFunction)(void (*)(void))py_sinkd_regression_objective,
     METH_VARARGS | METH_KEYWORDS,
     "sinkd_regression_objective(s, t, y, alpha, tau=2, grad=True) -> (parts, grad)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_fdiv(PyObject *module)
{
    return PyModule_AddFunctions(module, functions);
}
