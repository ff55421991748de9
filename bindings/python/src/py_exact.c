/*
 * py_exact.c — otkit._otkit.emd (otkit/emd.h: network simplex, sparse plan,
 * duals), wasserstein_1d and sliced (otkit/sliced.h: 1-D W_p^p by sorting and
 * sliced W_p, with gradients).  The Python wrappers are otkit/_exact.py.
 */
#include "otkpy.h"

#include <string.h>

/* a (or b) as given: None = uniform (NULL for the library). */
static int weights_in(PyObject *obj, const char *name, npy_intp size, PyArrayObject **w)
{
    int err = 0;
    *w = otkpy_array_opt(obj, name, 1, size, -1, &err);
    return err ? -1 : 0;
}

static PyObject *py_emd(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"a", "b", "M", "max_iter", "mass_tol", NULL};
    PyObject *aobj, *bobj, *mobj, *res = NULL;
    long max_iter = 0;
    double mass_tol = 1e-9;
    PyArrayObject *M = NULL, *a = NULL, *b = NULL, *rows = NULL, *cols = NULL, *mass = NULL,
                  *u = NULL, *v = NULL;
    otk_cost *cost = NULL;
    otk_emd *s = NULL;
    otk_emd_result r;
    otk_status st;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|$ld", kwlist, &aobj, &bobj, &mobj,
                                     &max_iter, &mass_tol))
        return NULL;
    M = otkpy_array_in(mobj, "M", 2, -1, -1);
    if (!M)
        return NULL;
    const npy_intp n = PyArray_DIM(M, 0), m = PyArray_DIM(M, 1);
    if (weights_in(aobj, "a", n, &a) < 0 || weights_in(bobj, "b", m, &b) < 0)
        goto done;
    otk_emd_params par;
    otk_emd_params_default(&par);
    par.max_iter = max_iter;
    par.mass_tol = mass_tol;
    st = otk_cost_dense(&cost, (size_t)n, (size_t)m, PyArray_DATA(M), (size_t)m);
    if (st < 0) {
        otkpy_raise_status_arg(st, "M");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_emd_alloc(&s, cost, &par);
    if (st >= 0)
        st = otk_emd_solve(s, a ? PyArray_DATA(a) : NULL, b ? PyArray_DATA(b) : NULL, &r);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    const otk_status solve_status = st;
    const npy_intp k = (npy_intp)r.plan_size;
    rows = (PyArrayObject *)PyArray_ZEROS(1, (npy_intp[]){k}, NPY_INTP, 0);
    cols = (PyArrayObject *)PyArray_ZEROS(1, (npy_intp[]){k}, NPY_INTP, 0);
    mass = otkpy_new_array(k, -1);
    u = otkpy_new_array(n, -1);
    v = otkpy_new_array(m, -1);
    if (!rows || !cols || !mass || !u || !v)
        goto done;
    /* npy_intp and size_t have the same width on the platforms NumPy supports;
     * the copy through size_t keeps that an assumption of one line. */
    {
        size_t *ri = PyMem_Malloc((size_t)(k ? k : 1) * sizeof *ri);
        size_t *ci = PyMem_Malloc((size_t)(k ? k : 1) * sizeof *ci);
        if (!ri || !ci) {
            PyMem_Free(ri);
            PyMem_Free(ci);
            PyErr_NoMemory();
            goto done;
        }
        st = otk_emd_plan(s, ri, ci, PyArray_DATA(mass));
        if (st >= 0)
            st = otk_emd_potentials(s, PyArray_DATA(u), PyArray_DATA(v));
        npy_intp *rd = PyArray_DATA(rows), *cd = PyArray_DATA(cols);
        for (npy_intp e = 0; e < k; e++) {
            rd[e] = (npy_intp)ri[e];
            cd[e] = (npy_intp)ci[e];
        }
        PyMem_Free(ri);
        PyMem_Free(ci);
        if (st < 0) {
            otkpy_raise_status(st);
            goto done;
        }
    }
    res = Py_BuildValue("{s:d,s:d,s:l,s:i,s:d,s:d,s:O,s:O,s:O,s:O,s:O}", "value", r.value,
                        "dual_value", r.dual_value, "iterations", r.iterations, "status",
                        (int)solve_status, "mass_a", r.mass_a, "mass_b", r.mass_b, "rows", rows, "cols",
                        cols, "mass", mass, "u", u, "v", v);
done:
    otk_emd_free(s);
    otk_cost_free(cost);
    Py_XDECREF(M);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(rows);
    Py_XDECREF(cols);
    Py_XDECREF(mass);
    Py_XDECREF(u);
    Py_XDECREF(v);
    return res;
}

/* None in place of a gradient that was not asked for. */
static PyObject *or_none(PyArrayObject *arr)
{
    if (arr)
        return (PyObject *)arr;
    Py_INCREF(Py_None);
    return Py_None;
}

static PyObject *py_wasserstein_1d(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", "a", "b", "p", "grad", NULL};
    PyObject *xobj, *yobj, *aobj = Py_None, *bobj = Py_None;
    double p = 1.0, value = 0.0;
    int grad = 0;
    PyArrayObject *x = NULL, *y = NULL, *a = NULL, *b = NULL, *gx = NULL, *gy = NULL,
                  *ga = NULL, *gb = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OOdp", kwlist, &xobj, &yobj, &aobj, &bobj,
                                     &p, &grad))
        return NULL;
    x = otkpy_array_in(xobj, "u_values", 1, -1, -1);
    y = x ? otkpy_array_in(yobj, "v_values", 1, -1, -1) : NULL;
    if (!y)
        goto fail;
    const npy_intp n = PyArray_DIM(x, 0), m = PyArray_DIM(y, 0);
    if (weights_in(aobj, "u_weights", n, &a) < 0 || weights_in(bobj, "v_weights", m, &b) < 0)
        goto fail;
    if (grad && (!(gx = otkpy_new_array(n, -1)) || !(gy = otkpy_new_array(m, -1)) ||
                 !(ga = otkpy_new_array(n, -1)) || !(gb = otkpy_new_array(m, -1))))
        goto fail;
    otk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = otk_wasserstein_1d((size_t)n, PyArray_DATA(x), a ? PyArray_DATA(a) : NULL, (size_t)m,
                            PyArray_DATA(y), b ? PyArray_DATA(b) : NULL, p, &value,
                            gx ? PyArray_DATA(gx) : NULL, gy ? PyArray_DATA(gy) : NULL,
                            ga ? PyArray_DATA(ga) : NULL, gb ? PyArray_DATA(gb) : NULL);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto fail;
    }
    Py_DECREF(x);
    Py_DECREF(y);
    Py_XDECREF(a);
    Py_XDECREF(b);
    return Py_BuildValue("(dNNNN)", value, or_none(gx), or_none(gy), or_none(ga), or_none(gb));
fail:
    Py_XDECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(gx);
    Py_XDECREF(gy);
    Py_XDECREF(ga);
    Py_XDECREF(gb);
    return NULL;
}

static PyObject *py_sliced(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"X", "Y", "a", "b", "p", "n_projections", "directions", "seed",
                             "projections", "grad", NULL};
    PyObject *xobj, *yobj, *aobj = Py_None, *bobj = Py_None, *dobj = Py_None;
    Py_ssize_t L = 50;
    unsigned long seed = 0;
    const char *kind = "gaussian";
    int grad = 0, v;
    otk_sliced_params par;
    otk_sliced_params_default(&par);
    PyArrayObject *X = NULL, *Y = NULL, *a = NULL, *b = NULL, *D = NULL, *gX = NULL, *gY = NULL,
                  *ga = NULL, *gb = NULL, *dirs = NULL, *proj = NULL;
    otk_sliced *s = NULL;
    PyObject *res = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OOdnskOp", kwlist, &xobj, &yobj, &aobj,
                                     &bobj, &par.p, &L, &kind, &seed, &dobj, &grad))
        return NULL;
    if (otkpy_enum("directions", kind, "directions", &v) < 0)
        return NULL;
    par.directions = (otk_directions)v;
    par.seed = seed;
    if (otkpy_points_in(xobj, yobj, &X, &Y) < 0)
        return NULL;
    const npy_intp n = PyArray_DIM(X, 0), m = PyArray_DIM(Y, 0), d = PyArray_DIM(X, 1);
    if (weights_in(aobj, "a", n, &a) < 0 || weights_in(bobj, "b", m, &b) < 0)
        goto done;
    if (dobj != Py_None) {
        if (!(D = otkpy_array_in(dobj, "projections", 2, -1, d)))
            goto done;
        L = PyArray_DIM(D, 0);
    } else if (L < 1) {
        PyErr_Format(PyExc_ValueError, "n_projections = %zd must be >= 1", L);
        goto done;
    }
    par.n_projections = (size_t)L;
    if (grad && (!(gX = otkpy_new_array(n, d)) || !(gY = otkpy_new_array(m, d)) ||
                 !(ga = otkpy_new_array(n, -1)) || !(gb = otkpy_new_array(m, -1))))
        goto done;
    otk_sliced_result r;
    otk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = otk_sliced_alloc(&s, (size_t)n, (size_t)m, (size_t)d, &par,
                          D ? PyArray_DATA(D) : NULL);
    if (st >= 0)
        st = otk_sliced_eval(s, PyArray_DATA(X), a ? PyArray_DATA(a) : NULL, PyArray_DATA(Y),
                             b ? PyArray_DATA(b) : NULL, &r, gX ? PyArray_DATA(gX) : NULL,
                             gY ? PyArray_DATA(gY) : NULL, ga ? PyArray_DATA(ga) : NULL,
                             gb ? PyArray_DATA(gb) : NULL);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    if (!(dirs = otkpy_new_array(L, d)) || !(proj = otkpy_new_array(L, -1)))
        goto done;
    memcpy(PyArray_DATA(dirs), otk_sliced_directions(s), (size_t)(L * d) * sizeof(double));
    memcpy(PyArray_DATA(proj), otk_sliced_projected(s), (size_t)L * sizeof(double));
    res = Py_BuildValue("{s:d,s:d,s:d,s:O,s:O,s:O,s:O,s:O,s:O}", "value", r.value, "value_p",
                        r.value_p, "max_value", r.max_value, "directions", dirs, "projected",
                        proj, "grad_X", gX ? (PyObject *)gX : Py_None, "grad_Y",
                        gY ? (PyObject *)gY : Py_None, "grad_a", ga ? (PyObject *)ga : Py_None,
                        "grad_b", gb ? (PyObject *)gb : Py_None);
done:
    otk_sliced_free(s);
    Py_XDECREF(X);
    Py_XDECREF(Y);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(D);
    Py_XDECREF(gX);
    Py_XDECREF(gY);
    Py_XDECREF(ga);
    Py_XDECREF(gb);
    Py_XDECREF(dirs);
    Py_XDECREF(proj);
    return res;
}

static PyMethodDef functions[] = {
    {"emd", (PyCFunction)(void (*)(void))py_emd, METH_VARARGS | METH_KEYWORDS,
     "emd(a, b, M, *, max_iter=0, mass_tol=1e-9) -> dict(value, dual_value, iterations, "
     "status, mass_a, mass_b, rows, cols, mass, u, v); a, b None = uniform"},
    {"wasserstein_1d", (PyCFunction)(void (*)(void))py_wasserstein_1d,
     METH_VARARGS | METH_KEYWORDS,
     "wasserstein_1d(x, y, a=None, b=None, p=1, grad=False) -> (W_p^p, gx, gy, ga, gb)"},
    {"sliced", (PyCFunction)(void (*)(void))py_sliced, METH_VARARGS | METH_KEYWORDS,
     "sliced(X, Y, a=None, b=None, p=2, n_projections=50, directions='gaussian', seed=0, "
     "projections=None (L x d), grad=False) -> dict(value, value_p, max_value, directions, "
     "projected, grad_X, grad_Y, grad_a, grad_b)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_exact(PyObject *module)
{
    return PyModule_AddFunctions(module, functions);
}
