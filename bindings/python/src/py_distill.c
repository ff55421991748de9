/*
 * py_distill.c — otkit._otkit.SinKD (a planned SinKD loss for B x K batches,
 * otkit/distill.h) and kd_loss() (the KL / reverse-KL / JS / soft-CE
 * baselines).
 */
#include "otkpy.h"

#include <limits.h>
#include <stdint.h>

typedef struct {
    PyObject_HEAD
    otk_sinkd *sd;
    npy_intp B, K;
    int busy;
} SinKDObject;

static void sinkd_dealloc(SinKDObject *self)
{
    otk_sinkd_free(self->sd);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int sinkd_init(SinKDObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"B", "K", "tau", "eps", "iters", "cost", "power", "weight", "grad",
                             "threads", NULL};
    Py_ssize_t B, K;
    const char *cost_name = "l1";
    int grad, st;
    otk_sinkd_params par;
    otk_sinkd *sd = NULL;

    if (self->sd != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "SinKD.__init__ called twice");
        return -1;
    }
    otk_sinkd_params_default(&par);
    grad = (int)par.grad;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nn|$ddisddii", kwlist, &B, &K, &par.tau,
                                     &par.eps, &par.iters, &cost_name, &par.power, &par.weight,
                                     &grad, &par.threads))
        return -1;
    if (B <= 0 || K <= 0) {
        PyErr_Format(PyExc_ValueError, "%s = %zd must be > 0", B <= 0 ? "B" : "K",
                     B <= 0 ? B : K);
        return -1;
    }
    if (otkpy_ground(cost_name, "cost", &par.ground) < 0)
        return -1;
    par.grad = (otk_sinkd_grad)grad;
    st = otk_sinkd_alloc(&sd, (size_t)B, (size_t)K, &par);
    if (st < 0) {
        otkpy_raise_status(st);
        return -1;
    }
    self->sd = sd;
    self->B = B;
    self->K = K;
    return 0;
}

static int sinkd_ready(SinKDObject *self)
{
    if (self->sd == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "SinKD object is not initialised");
        return -1;
    }
    return otkpy_acquire(&self->busy, "SinKD");
}

static PyObject *sinkd_loss(SinKDObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"z_s", "z_t", "grad_s", "grad_t", NULL};
    PyObject *sobj, *tobj;
    int want_s = 1, want_t = 0, st;
    PyArrayObject *zs = NULL, *zt = NULL, *gs = NULL, *gt = NULL;
    double loss = 0.0;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|pp", kwlist, &sobj, &tobj, &want_s,
                                     &want_t))
        return NULL;
    if (sinkd_ready(self) < 0)
        return NULL;
    zs = otkpy_array_in(sobj, "z_s", 2, self->B, self->K);
    if (zs == NULL)
        goto fail;
    zt = otkpy_array_in(tobj, "z_t", 2, self->B, self->K);
    if (zt == NULL)
        goto fail;
    if (want_s && (gs = otkpy_new_array(self->B, self->K)) == NULL)
        goto fail;
    if (want_t && (gt = otkpy_new_array(self->B, self->K)) == NULL)
        goto fail;
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkd_loss(self->sd, (const double *)PyArray_DATA(zs),
                        (const double *)PyArray_DATA(zt), &loss,
                        gs ? (double *)PyArray_DATA(gs) : NULL,
                        gt ? (double *)PyArray_DATA(gt) : NULL);
    Py_END_ALLOW_THREADS
    Py_DECREF(zs);
    Py_DECREF(zt);
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_XDECREF(gs);
        Py_XDECREF(gt);
        return otkpy_raise_status(st);
    }
    if (gs == NULL) {
        Py_INCREF(Py_None);
        gs = (PyArrayObject *)Py_None;
    }
    if (gt == NULL) {
        Py_INCREF(Py_None);
        gt = (PyArrayObject *)Py_None;
    }
    return Py_BuildValue("(dNN)", loss, gs, gt);
fail:
    Py_XDECREF(zs);
    Py_XDECREF(zt);
    Py_XDECREF(gs);
    Py_XDECREF(gt);
    otkpy_release(&self->busy);
    return NULL;
}

/* Labels as C ints, checked here so that a value that does not fit an int is
 * reported instead of wrapping around. */
static int *labels_in(PyObject *obj, npy_intp B, npy_intp K)
{
    PyArrayObject *arr;
    const int64_t *v;
    int *out;
    npy_intp i;

    PyObject *raw;

    /* Look at the dtype numpy infers before casting: a direct conversion of a
     * list to int64 would truncate 0.5 to 0 without a word. */
    raw = PyArray_FROM_O(obj);
    if (raw == NULL || !PyArray_ISINTEGER((PyArrayObject *)raw)) {
        Py_XDECREF(raw);
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "labels must be an array of integers");
        return NULL;
    }
    arr = (PyArrayObject *)PyArray_FROM_OTF(raw, NPY_INT64, NPY_ARRAY_IN_ARRAY);
    Py_DECREF(raw);
    if (arr == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "labels must be an array of integers");
        return NULL;
    }
    if (PyArray_NDIM(arr) != 1 || PyArray_DIM(arr, 0) != B) {
        PyErr_Format(PyExc_ValueError, "labels must be a 1-D array of B = %zd integers",
                     (Py_ssize_t)B);
        Py_DECREF(arr);
        return NULL;
    }
    v = (const int64_t *)PyArray_DATA(arr);
    for (i = 0; i < B; i++) {
        if (v[i] < 0 || v[i] >= (int64_t)K) {
            PyErr_Format(PyExc_ValueError, "labels[%zd] = %lld is out of range [0, %zd)",
                         (Py_ssize_t)i, (long long)v[i], (Py_ssize_t)K);
            Py_DECREF(arr);
            return NULL;
        }
    }
    out = PyMem_New(int, (size_t)B);
    if (out == NULL) {
        Py_DECREF(arr);
        PyErr_NoMemory();
        return NULL;
    }
    for (i = 0; i < B; i++)
        out[i] = (int)v[i];
    Py_DECREF(arr);
    return out;
}

static PyObject *sinkd_objective(SinKDObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"z_s", "z_t", "labels", "alpha", "beta", "kd", "kd_tau", "grad",
                             NULL};
    PyObject *sobj, *tobj, *lobj;
    double alpha, beta, kd_tau = 1.0;
    int kd = OTK_KD_SOFT_CE, want = 1, st;
    PyArrayObject *zs = NULL, *zt = NULL, *g = NULL;
    int *labels = NULL;
    otk_sinkd_objective_parts parts;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOdd|idp", kwlist, &sobj, &tobj, &lobj,
                                     &alpha, &beta, &kd, &kd_tau, &want))
        return NULL;
    if (sinkd_ready(self) < 0)
        return NULL;
    zs = otkpy_array_in(sobj, "z_s", 2, self->B, self->K);
    if (zs == NULL)
        goto fail;
    zt = otkpy_array_in(tobj, "z_t", 2, self->B, self->K);
    if (zt == NULL)
        goto fail;
    labels = labels_in(lobj, self->B, self->K);
    if (labels == NULL)
        goto fail;
    if (want && (g = otkpy_new_array(self->B, self->K)) == NULL)
        goto fail;
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkd_objective(self->sd, (const double *)PyArray_DATA(zs),
                             (const double *)PyArray_DATA(zt), labels, alpha, beta,
                             (otk_kd_divergence)kd, kd_tau, &parts,
                             g ? (double *)PyArray_DATA(g) : NULL);
    Py_END_ALLOW_THREADS
    Py_DECREF(zs);
    Py_DECREF(zt);
    PyMem_Free(labels);
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_XDECREF(g);
        return otkpy_raise_status(st);
    }
    if (g == NULL) {
        Py_INCREF(Py_None);
        g = (PyArrayObject *)Py_None;
    }
    return Py_BuildValue("({s:d,s:d,s:d,s:d}N)", "total", parts.total, "kd", parts.kd, "ce",
                         parts.ce, "sinkd", parts.sinkd, g);
fail:
    Py_XDECREF(zs);
    Py_XDECREF(zt);
    Py_XDECREF(g);
    PyMem_Free(labels);
    otkpy_release(&self->busy);
    return NULL;
}

/* The objective with an f-divergence KD term (otk_sinkd_objective_fdiv);
 * the kind is parsed by the library's name table. */
static PyObject *sinkd_objective_fdiv(SinKDObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"z_s", "z_t", "labels", "alpha", "beta", "kind", "kd_alpha",
                             "kd_tau", "kd_tau2", "grad", NULL};
    PyObject *sobj, *tobj, *lobj;
    double alpha, beta;
    const char *kind;
    int tau2 = 0, want = 1, st;
    PyArrayObject *zs = NULL, *zt = NULL, *g = NULL;
    int *labels = NULL;
    otk_sinkd_objective_parts parts;
    otk_fdiv_params kd;

    otk_fdiv_params_default(&kd);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOdds|ddpp", kwlist, &sobj, &tobj, &lobj,
                                     &alpha, &beta, &kind, &kd.alpha, &kd.tau, &tau2, &want))
        return NULL;
    st = otk_fdiv_kind_from_name(kind, &kd.kind);
    if (st < 0)
        return otkpy_raise_status_arg(st, "kd");
    kd.scale_tau2 = tau2;
    if (sinkd_ready(self) < 0)
        return NULL;
    zs = otkpy_array_in(sobj, "z_s", 2, self->B, self->K);
    if (zs == NULL)
        goto fail;
    zt = otkpy_array_in(tobj, "z_t", 2, self->B, self->K);
    if (zt == NULL)
        goto fail;
    labels = labels_in(lobj, self->B, self->K);
    if (labels == NULL)
        goto fail;
    if (want && (g = otkpy_new_array(self->B, self->K)) == NULL)
        goto fail;
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkd_objective_fdiv(self->sd, (const double *)PyArray_DATA(zs),
                                  (const double *)PyArray_DATA(zt), labels, alpha, beta, &kd,
                                  &parts, g ? (double *)PyArray_DATA(g) : NULL);
    Py_END_ALLOW_THREADS
    Py_DECREF(zs);
    Py_DECREF(zt);
    PyMem_Free(labels);
    otkpy_release(&self->busy);
    if (st < 0) {
        Py_XDECREF(g);
        return otkpy_raise_status(st);
    }
    if (g == NULL) {
        Py_INCREF(Py_None);
        g = (PyArrayObject *)Py_None;
    }
    return Py_BuildValue("({s:d,s:d,s:d,s:d}N)", "total", parts.total, "kd", parts.kd, "ce",
                         parts.ce, "sinkd", parts.sinkd, g);
fail:
    Py_XDECREF(zs);
    Py_XDECREF(zt);
    Py_XDECREF(g);
    PyMem_Free(labels);
    otkpy_release(&self->busy);
    return NULL;
}

static PyObject *sinkd_get_shape(SinKDObject *self, void *closure)
{
    return Py_BuildValue("(nn)", (Py_ssize_t)self->B, (Py_ssize_t)self->K);
}

static PyGetSetDef sinkd_getset[] = {{"shape", (getter)sinkd_get_shape, NULL, "(B, K)", NULL},
                                     {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef sinkd_methods[] = {
    {"loss", (PyCFunction)(void (*)(void))sinkd_loss, METH_VARARGS | METH_KEYWORDS,
     "loss(z_s, z_t, grad_s=True, grad_t=False) -> (loss, dL/dz_s or None, dL/dz_t or None)"},
    {"objective", (PyCFunction)(void (*)(void))sinkd_objective, METH_VARARGS | METH_KEYWORDS,
     "objective(z_s, z_t, labels, alpha, beta, kd=3, kd_tau=1, grad=True) -> (parts, grad)"},
    {"objective_fdiv", (PyCFunction)(void (*)(void))sinkd_objective_fdiv,
     METH_VARARGS | METH_KEYWORDS,
     "objective_fdiv(z_s, z_t, labels, alpha, beta, kind, kd_alpha=0, kd_tau=1, kd_tau2=False, "
     "grad=True) -> (parts, grad) (otk_sinkd_objective_fdiv)"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject SinKDType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otkit._otkit.SinKD",
    .tp_basicsize = sizeof(SinKDObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "SinKD(B, K, *, tau=2, eps=0.1, iters=20, cost='l1', power=0, weight=1, grad=0, "
              "threads=0): a planned otk_sinkd for B x K logits (fields as otk_sinkd_params).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)sinkd_init,
    .tp_dealloc = (destructor)sinkd_dealloc,
    .tp_methods = sinkd_methods,
    .tp_getset = sinkd_getset,
};

static PyObject *py_kd_loss(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"kind", "z_s", "z_t", "tau", "grad", NULL};
    int kind, want = 1, st;
    PyObject *sobj, *tobj;
    double tau, loss = 0.0;
    PyArrayObject *zs, *zt, *g = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iOOd|p", kwlist, &kind, &sobj, &tobj, &tau,
                                     &want))
        return NULL;
    zs = otkpy_array_in(sobj, "z_s", 2, -1, -1);
    if (zs == NULL)
        return NULL;
    zt = otkpy_array_in(tobj, "z_t", 2, PyArray_DIM(zs, 0), PyArray_DIM(zs, 1));
    if (zt == NULL) {
        Py_DECREF(zs);
        return NULL;
    }
    if (want && (g = otkpy_new_array(PyArray_DIM(zs, 0), PyArray_DIM(zs, 1))) == NULL) {
        Py_DECREF(zs);
        Py_DECREF(zt);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_kd_loss((otk_kd_divergence)kind, (size_t)PyArray_DIM(zs, 0),
                     (size_t)PyArray_DIM(zs, 1), (const double *)PyArray_DATA(zs),
                     (const double *)PyArray_DATA(zt), tau, &loss,
                     g ? (double *)PyArray_DATA(g) : NULL);
    Py_END_ALLOW_THREADS
    Py_DECREF(zs);
    Py_DECREF(zt);
    if (st < 0) {
        Py_XDECREF(g);
        return otkpy_raise_status(st);
    }
    if (g == NULL) {
        Py_INCREF(Py_None);
        g = (PyArrayObject *)Py_None;
    }
    return Py_BuildValue("(dN)", loss, g);
}

static PyMethodDef functions[] = {
    {"kd_loss", (PyCFunction)(void (*)(void))py_kd_loss, METH_VARARGS | METH_KEYWORDS,
     "kd_loss(kind, z_s, z_t, tau, grad=True) -> (loss, dL/dz_s or None) (otk_kd_loss)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_distill(PyObject *module)
{
    if (PyType_Ready(&SinKDType) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "SinKD", (PyObject *)&SinKDType) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "KD_KL", OTK_KD_KL) < 0 ||
        PyModule_AddIntConstant(module, "KD_REVERSE_KL", OTK_KD_REVERSE_KL) < 0 ||
        PyModule_AddIntConstant(module, "KD_JS", OTK_KD_JS) < 0 ||
        PyModule_AddIntConstant(module, "KD_SOFT_CE", OTK_KD_SOFT_CE) < 0)
        return -1;
    return PyModule_AddFunctions(module, functions);
}
