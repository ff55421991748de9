/*
 * py_batch.c — otkit._otkit.sinkhorn_batch and divergence_batch: B
 * independent problems in one call (otkit/batch.h).  The Python layer
 * (otkit/_sinkhorn.py, otkit/_divergence.py) checks the shapes, naming the
 * argument, and passes C-contiguous arrays: x (B, n, d) and y (B, m, d) in
 * float64, or float32 for a single-precision batch; a (B, n) and b (B, m)
 * float64 or None.
 */
#include "otkpy.h"

#include <stddef.h>
#include <string.h>

/* A C-contiguous array of `ndim` dimensions and type `typenum`, as the
 * Python layer prepares it; anything else is a ValueError naming `name`. */
static PyArrayObject *prepared(PyObject *obj, const char *name, int ndim, int typenum)
{
    PyArrayObject *arr;

    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_ValueError, "%s must be a NumPy array", name);
        return NULL;
    }
    arr = (PyArrayObject *)obj;
    if (PyArray_NDIM(arr) != ndim || PyArray_TYPE(arr) != typenum ||
        !PyArray_IS_C_CONTIGUOUS(arr) || !PyArray_ISALIGNED(arr)) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous %d-D %s array", name, ndim,
                     typenum == NPY_FLOAT32 ? "float32" : "float64");
        return NULL;
    }
    return arr;
}

/* x, y, a, b checked against each other: B, n, m, d into dims. */
static int batch_inputs(PyObject *xobj, PyObject *yobj, PyObject *aobj, PyObject *bobj,
                        int single, PyArrayObject *arr[4], npy_intp dims[4])
{
    const int typenum = single ? NPY_FLOAT32 : NPY_DOUBLE;

    if ((arr[0] = prepared(xobj, "x", 3, typenum)) == NULL ||
        (arr[1] = prepared(yobj, "y", 3, typenum)) == NULL)
        return -1;
    arr[2] = arr[3] = NULL;
    if (aobj != Py_None && (arr[2] = prepared(aobj, "a", 2, NPY_DOUBLE)) == NULL)
        return -1;
    if (bobj != Py_None && (arr[3] = prepared(bobj, "b", 2, NPY_DOUBLE)) == NULL)
        return -1;
    dims[0] = PyArray_DIM(arr[0], 0);
    dims[1] = PyArray_DIM(arr[0], 1);
    dims[2] = PyArray_DIM(arr[1], 1);
    dims[3] = PyArray_DIM(arr[0], 2);
    if (PyArray_DIM(arr[1], 0) != dims[0] || PyArray_DIM(arr[1], 2) != dims[3] ||
        (arr[2] && (PyArray_DIM(arr[2], 0) != dims[0] || PyArray_DIM(arr[2], 1) != dims[1])) ||
        (arr[3] && (PyArray_DIM(arr[3], 0) != dims[0] || PyArray_DIM(arr[3], 1) != dims[2]))) {
        PyErr_SetString(PyExc_ValueError, "x (B, n, d), y (B, m, d), a (B, n) and b (B, m) "
                                          "do not agree");
        return -1;
    }
    return 0;
}

static PyArrayObject *new_array(int ndim, npy_intp d0, npy_intp d1, npy_intp d2, int typenum)
{
    npy_intp dims[3] = {d0, d1, d2};
    return (PyArrayObject *)PyArray_ZEROS(ndim, dims, typenum, 0);
}

/* A per-problem field of B results (at byte offset `off` in each, `stride`
 * bytes apart) as a (B,) array in dict[name]. */
static int put_doubles(PyObject *dict, const char *name, const void *res, size_t stride,
                       size_t off, npy_intp B)
{
    PyArrayObject *v = new_array(1, B, 0, 0, NPY_DOUBLE);
    npy_intp k;
    int rc;

    if (v == NULL)
        return -1;
    for (k = 0; k < B; k++)
        ((double *)PyArray_DATA(v))[k] = *(const double *)((const char *)res + (size_t)k * stride + off);
    rc = PyDict_SetItemString(dict, name, (PyObject *)v);
    Py_DECREF(v);
    return rc;
}

static int put_ints(PyObject *dict, const char *name, const void *res, size_t stride, size_t off,
                    npy_intp B, int is_status)
{
    PyArrayObject *v = new_array(1, B, 0, 0, NPY_INT);
    npy_intp k;
    int rc;

    if (v == NULL)
        return -1;
    for (k = 0; k < B; k++) {
        const char *p = (const char *)res + (size_t)k * stride + off;
        ((int *)PyArray_DATA(v))[k] = is_status ? (int)*(const otk_status *)p : *(const int *)p;
    }
    rc = PyDict_SetItemString(dict, name, (PyObject *)v);
    Py_DECREF(v);
    return rc;
}

static int put_array(PyObject *dict, const char *name, PyArrayObject *arr)
{
    return arr == NULL ? 0 : PyDict_SetItemString(dict, name, (PyObject *)arr);
}

/* The progress callback of a batch (otkit/batch.h "Progress"): called
 * callback(problem, iteration, eps, error, stage, done, status) from the
 * thread that solves the problem, with the GIL taken for the call (the batch
 * runs with it released; the library serialises the calls).  An exception
 * stops the batch and is kept, to be raised when it returns. */
typedef struct {
    PyObject *callback;
    PyObject *type, *value, *traceback;
} batch_progress;

static int batch_progress_call(const otk_progress *info, void *ctx)
{
    batch_progress *bp = ctx;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *r = PyObject_CallFunction(bp->callback, "niddsni", (Py_ssize_t)info->problem,
                                        info->iterations, info->eps, info->marginal_error,
                                        otk_stage_name(info->stage), (Py_ssize_t)info->done,
                                        (int)info->status);
    const int stop = otkpy_callback_verdict(r, &bp->type, &bp->value, &bp->traceback);
    PyGILState_Release(gil);
    return stop;
}

/* Point the parameters' progress at `bp` when a callback was given. */
static int batch_progress_set(batch_progress *bp, PyObject *callback, otk_progress_fn *fn,
                              void **ctx)
{
    memset(bp, 0, sizeof *bp);
    if (callback == Py_None)
        return 0;
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable (or None)");
        return -1;
    }
    bp->callback = callback;
    *fn = batch_progress_call;
    *ctx = bp;
    return 0;
}

/* After the batch: 1 with the callback's exception set again, else 0. */
static int batch_progress_raised(batch_progress *bp)
{
    if (bp->type == NULL)
        return 0;
    PyErr_Restore(bp->type, bp->value, bp->traceback);
    return 1;
}

/* After the batch returned `st`: a new dict for its results, or NULL with
 * the callback's exception, or else the batch's error, raised. */
static PyObject *batch_dict(batch_progress *bp, int st)
{
    if (batch_progress_raised(bp))
        return NULL;
    if (st < 0)
        return otkpy_raise_status(st);
    return PyDict_New();
}

/* The entries resolved from the shared parameters and shapes, one for all
 * problems (update, backend, and whether the callback stopped the batch),
 * added to `dict` (NULL: nothing to add to).  Returns dict, or NULL with
 * dict released and the error set. */
static PyObject *batch_dict_end(PyObject *dict, otk_update update, otk_backend backend, int st)
{
    PyObject *scalars;

    if (dict == NULL)
        return NULL;
    scalars = Py_BuildValue("{s:s,s:s,s:O}", "update", otk_update_name(update), "backend",
                            otk_backend_name(backend), "stopped",
                            st == OTK_CONTINUE ? Py_True : Py_False);
    if (scalars == NULL || PyDict_Update(dict, scalars) < 0)
        Py_CLEAR(dict);
    Py_XDECREF(scalars);
    return dict;
}

static PyObject *py_sinkhorn_batch(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", "a", "b", "cost", "power", "eps", "blur", "rho_a",
                             "rho_b", "reach", "schedule", "update", "scaling", "diameter", "p",
                             "tol", "max_iter", "no_annealing", "threads", "single",
                             "potentials", "relative_eps", "relative_to", "scale_cost",
                             "scale_cost_stat", "backend", "truncate", "callback", NULL};
    PyObject *xobj, *yobj, *aobj = Py_None, *bobj = Py_None, *dict = NULL, *cb = Py_None;
    batch_progress bp;
    const char *cost_name = "sqeuclidean";
    double power = 0.0;
    otk_sinkhorn_params par;
    int schedule, update, single = 0, want_pot = 1, st, relative_to, backend;
    otk_ground ground;
    PyArrayObject *arr[4], *f = NULL, *g = NULL;
    npy_intp dims[4];
    otk_sinkhorn_result *res = NULL;

    otk_sinkhorn_params_default(&par);
    schedule = (int)par.schedule;
    update = (int)par.update;
    relative_to = (int)par.relative_to;
    backend = (int)par.backend;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OO$sddddddiiddddiiippdidiidO", kwlist,
                                     &xobj, &yobj, &aobj, &bobj, &cost_name, &power, &par.eps,
                                     &par.blur, &par.rho_a, &par.rho_b, &par.reach, &schedule,
                                     &update, &par.scaling, &par.diameter, &par.p, &par.tol,
                                     &par.max_iter, &par.no_annealing, &par.threads, &single,
                                     &want_pot, &par.relative_eps, &relative_to,
                                     &par.scale_cost, &par.scale_cost_stat, &backend,
                                     &par.truncate, &cb))
        return NULL;
    if (batch_progress_set(&bp, cb, &par.progress, &par.progress_ctx) < 0)
        return NULL;
    par.schedule = (otk_schedule)schedule;
    par.update = (otk_update)update;
    par.relative_to = (otk_relative_to)relative_to;
    par.backend = (otk_backend)backend;
    if (otkpy_ground(cost_name, "cost", &ground) < 0 ||
        batch_inputs(xobj, yobj, aobj, bobj, single, arr, dims) < 0)
        return NULL;
    res = PyMem_Calloc((size_t)dims[0], sizeof *res);
    if (res == NULL)
        return PyErr_NoMemory();
    if (want_pot) {
        f = new_array(2, dims[0], dims[1], 0, NPY_DOUBLE);
        g = new_array(2, dims[0], dims[2], 0, NPY_DOUBLE);
        if (f == NULL || g == NULL)
            goto done;
    }
    {
        const double *a = arr[2] ? (const double *)PyArray_DATA(arr[2]) : NULL;
        const double *b = arr[3] ? (const double *)PyArray_DATA(arr[3]) : NULL;
        double *fp = f ? (double *)PyArray_DATA(f) : NULL;
        double *gp = g ? (double *)PyArray_DATA(g) : NULL;
        const size_t B = (size_t)dims[0], n = (size_t)dims[1], m = (size_t)dims[2],
                     d = (size_t)dims[3];
        Py_BEGIN_ALLOW_THREADS
        if (single)
            st = otk_sinkhorn_batch_f32(B, n, m, d, (const float *)PyArray_DATA(arr[0]),
                                        (const float *)PyArray_DATA(arr[1]), a, b, ground, power,
                                        &par, res, fp, gp);
        else
            st = otk_sinkhorn_batch(B, n, m, d, (const double *)PyArray_DATA(arr[0]),
                                    (const double *)PyArray_DATA(arr[1]), a, b, ground, power,
                                    &par, res, fp, gp);
        Py_END_ALLOW_THREADS
    }
    dict = batch_dict(&bp, st);
    if (dict == NULL)
        goto done;
#define SK_DOUBLE_(field) \
    put_doubles(dict, #field, res, sizeof *res, offsetof(otk_sinkhorn_result, field), dims[0]) < 0
    if (SK_DOUBLE_(ot_kl) || SK_DOUBLE_(ot_ent) || SK_DOUBLE_(ot_lin) || SK_DOUBLE_(mass_a) ||
        SK_DOUBLE_(mass_b) || SK_DOUBLE_(marginal_error) || SK_DOUBLE_(eps) ||
        SK_DOUBLE_(rho_a) || SK_DOUBLE_(rho_b) || SK_DOUBLE_(scale_cost) ||
        SK_DOUBLE_(truncation_bound) ||
        put_ints(dict, "iterations", res, sizeof *res, offsetof(otk_sinkhorn_result, iterations),
                 dims[0], 0) < 0 ||
        put_ints(dict, "annealing_iterations", res, sizeof *res,
                 offsetof(otk_sinkhorn_result, annealing_iterations), dims[0], 0) < 0 ||
        put_ints(dict, "status", res, sizeof *res, offsetof(otk_sinkhorn_result, status),
                 dims[0], 1) < 0 ||
        put_array(dict, "f", f) < 0 || put_array(dict, "g", g) < 0)
        Py_CLEAR(dict);
#undef SK_DOUBLE_
    dict = batch_dict_end(dict, res[0].update, res[0].backend, st);
done:
    Py_XDECREF(f);
    Py_XDECREF(g);
    PyMem_Free(res);
    return dict;
}

static PyObject *py_divergence_batch(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"x", "y", "a", "b", "cost", "power", "eps", "blur", "rho", "reach",
                             "schedule", "update", "scaling", "diameter", "p", "debias", "tol",
                             "max_iter", "threads", "cache_mb", "single", "grads",
                             "relative_eps", "relative_to", "scale_cost", "scale_cost_stat",
                             "backend", "truncate", "callback", NULL};
    PyObject *xobj, *yobj, *aobj = Py_None, *bobj = Py_None, *dict = NULL, *cb = Py_None;
    batch_progress bp;
    const char *cost_name = "half-sqeuclidean", *grads = "";
    double power = 0.0, cache_mb = 0.0;
    otk_divergence_params par;
    int schedule, update, single = 0, st, q, relative_to, backend;
    otk_ground ground;
    PyArrayObject *arr[4], *g[4] = {NULL, NULL, NULL, NULL};
    npy_intp dims[4];
    otk_divergence_result *res = NULL;
    static const char *gnames[4] = {"grad_x", "grad_y", "grad_a", "grad_b"};

    otk_divergence_params_default(&par);
    schedule = (int)par.schedule;
    update = (int)par.update;
    relative_to = (int)par.relative_to;
    backend = (int)par.backend;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OO$sdddddiidddpdiidpsdidiidO", kwlist,
                                     &xobj, &yobj, &aobj, &bobj, &cost_name, &power, &par.eps,
                                     &par.blur, &par.rho, &par.reach, &schedule, &update,
                                     &par.scaling, &par.diameter, &par.p, &par.debias, &par.tol,
                                     &par.max_iter, &par.threads, &cache_mb, &single, &grads,
                                     &par.relative_eps, &relative_to, &par.scale_cost,
                                     &par.scale_cost_stat, &backend, &par.truncate, &cb))
        return NULL;
    if (batch_progress_set(&bp, cb, &par.progress, &par.progress_ctx) < 0)
        return NULL;
    par.relative_to = (otk_relative_to)relative_to;
    par.backend = (otk_backend)backend;
    if (otkpy_cache_bytes(cache_mb, &par.cache_bytes) < 0)
        return NULL;
    par.schedule = (otk_schedule)schedule;
    par.update = (otk_update)update;
    if (otkpy_ground(cost_name, "cost", &ground) < 0 ||
        batch_inputs(xobj, yobj, aobj, bobj, single, arr, dims) < 0)
        return NULL;
    res = PyMem_Calloc((size_t)dims[0], sizeof *res);
    if (res == NULL)
        return PyErr_NoMemory();
    for (q = 0; q < 4; q++) {
        if (!strchr(grads, "xyab"[q]))
            continue;
        g[q] = q < 2 ? new_array(3, dims[0], dims[1 + q], dims[3], NPY_DOUBLE)
                     : new_array(2, dims[0], dims[q - 1], 0, NPY_DOUBLE);
        if (g[q] == NULL)
            goto done;
    }
    {
        const double *a = arr[2] ? (const double *)PyArray_DATA(arr[2]) : NULL;
        const double *b = arr[3] ? (const double *)PyArray_DATA(arr[3]) : NULL;
        double *gp[4];
        const size_t B = (size_t)dims[0], n = (size_t)dims[1], m = (size_t)dims[2],
                     d = (size_t)dims[3];
        for (q = 0; q < 4; q++)
            gp[q] = g[q] ? (double *)PyArray_DATA(g[q]) : NULL;
        Py_BEGIN_ALLOW_THREADS
        if (single)
            st = otk_divergence_batch_f32(B, n, m, d, (const float *)PyArray_DATA(arr[0]),
                                          (const float *)PyArray_DATA(arr[1]), a, b, ground,
                                          power, &par, res, gp[0], gp[1], gp[2], gp[3]);
        else
            st = otk_divergence_batch(B, n, m, d, (const double *)PyArray_DATA(arr[0]),
                                      (const double *)PyArray_DATA(arr[1]), a, b, ground, power,
                                      &par, res, gp[0], gp[1], gp[2], gp[3]);
        Py_END_ALLOW_THREADS
    }
    dict = batch_dict(&bp, st);
    if (dict == NULL)
        goto done;
#define DV_DOUBLE_(field)                                                                     \
    put_doubles(dict, #field, res, sizeof *res, offsetof(otk_divergence_result, field),      \
                dims[0]) < 0
    if (DV_DOUBLE_(divergence) || DV_DOUBLE_(mass_a) || DV_DOUBLE_(mass_b) ||
        DV_DOUBLE_(marginal_error) || DV_DOUBLE_(eps) || DV_DOUBLE_(rho) ||
        DV_DOUBLE_(scale_cost) || DV_DOUBLE_(truncation_bound) ||
        put_ints(dict, "iterations", res, sizeof *res,
                 offsetof(otk_divergence_result, iterations), dims[0], 0) < 0 ||
        put_ints(dict, "annealing_iterations", res, sizeof *res,
                 offsetof(otk_divergence_result, annealing_iterations), dims[0], 0) < 0 ||
        put_ints(dict, "status", res, sizeof *res, offsetof(otk_divergence_result, status),
                 dims[0], 1) < 0)
        Py_CLEAR(dict);
#undef DV_DOUBLE_
    for (q = 0; q < 4 && dict != NULL; q++)
        if (put_array(dict, gnames[q], g[q]) < 0)
            Py_CLEAR(dict);
    dict = batch_dict_end(dict, res[0].update, res[0].backend, st);
done:
    for (q = 0; q < 4; q++)
        Py_XDECREF(g[q]);
    PyMem_Free(res);
    return dict;
}

static PyMethodDef functions[] = {
    {"sinkhorn_batch", (PyCFunction)(void (*)(void))py_sinkhorn_batch,
     METH_VARARGS | METH_KEYWORDS,
     "sinkhorn_batch(x, y, a=None, b=None, *, cost, ..., single, potentials) -> dict of "
     "(B,) arrays and the potentials f (B, n), g (B, m) (otk_sinkhorn_batch; GIL released)"},
    {"divergence_batch", (PyCFunction)(void (*)(void))py_divergence_batch,
     METH_VARARGS | METH_KEYWORDS,
     "divergence_batch(x, y, a=None, b=None, *, cost, ..., single, grads='xyab') -> dict of "
     "(B,) arrays and the gradients asked for (otk_divergence_batch; GIL released)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_batch(PyObject *module)
{
    return PyModule_AddFunctions(module, functions);
}
