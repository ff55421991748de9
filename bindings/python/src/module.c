/*
 * module.c — the otkit._otkit extension module: initialisation, the mapping of
 * otkit statuses to Python exceptions, and the array helpers (otkpy.h).
 */
#define OTKPY_MODULE_MAIN
#include "otkpy.h"

#include <string.h>

/* otkit._otkit.OtkitError: a RuntimeError for library failures that are not
 * the caller's input (OTK_ESTATE, OTK_ENUMERIC, OTK_EUNSUPPORTED, ...). */
static PyObject *otkpy_error_type = NULL;

PyObject *otkpy_raise_status(int status)
{
    return otkpy_raise_status_arg(status, NULL);
}

PyObject *otkpy_raise_status_arg(int status, const char *argname)
{
    const char *msg = otk_last_error();
    PyObject *type, *exc, *text, *code, *name;

    if (msg == NULL || msg[0] == '\0')
        msg = otk_strerror(status);
    switch (status) {
    /* The caller's input is at fault: the message names the argument. */
    case OTK_ENULL:
    case OTK_ESIZE:
    case OTK_EPARAM:
    case OTK_ENONFINITE:
    case OTK_ERANGE:
    case OTK_ENEGATIVE:
    case OTK_EZEROMASS:
    case OTK_EMASS:
    /* Geometry and pattern checks of meshes, graphs and sparse costs, grid
     * shapes, malformed mesh and model files: the input is at fault too. */
    case OTK_ESHAPE:
    case OTK_EDEGENERATE:
    case OTK_ENONMANIFOLD:
    case OTK_EDISCONNECTED:
    case OTK_EPARSE:
    case OTK_EEMPTY:
        type = PyExc_ValueError;
        break;
    case OTK_EIO:
        type = PyExc_OSError;
        break;
    case OTK_ENOMEM:
        type = PyExc_MemoryError;
        break;
    default:
        type = otkpy_error_type;
        break;
    }
    text = argname ? PyUnicode_FromFormat("%s: %s", argname, msg) : PyUnicode_FromString(msg);
    if (text == NULL)
        return NULL;
    exc = PyObject_CallOneArg(type, text);
    Py_DECREF(text);
    if (exc == NULL)
        return NULL;
    /* The numeric status and its symbolic name travel with the exception, so
     * callers can tell OTK_ENEGATIVE from OTK_EMASS without parsing text. */
    code = PyLong_FromLong(status);
    name = PyUnicode_FromString(otk_status_name(status));
    if (code == NULL || name == NULL || PyObject_SetAttrString(exc, "status", code) < 0 ||
        PyObject_SetAttrString(exc, "status_name", name) < 0) {
        Py_XDECREF(code);
        Py_XDECREF(name);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(code);
    Py_DECREF(name);
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
    return NULL;
}

static PyArrayObject *convert(PyObject *obj, const char *name, int ndim, int typenum)
{
    PyObject *arr;

    /* NPY_ARRAY_IN_ARRAY = C-contiguous | aligned: an array that already is
     * both, in the native type asked for, comes back as the same object.
     * float32 is only asked for when the caller chose single precision, so
     * narrowing float64 input is then intended (FORCECAST). */
    arr = PyArray_FROM_OTF(obj, typenum,
                           NPY_ARRAY_IN_ARRAY | (typenum == NPY_FLOAT32 ? NPY_ARRAY_FORCECAST : 0));
    if (arr == NULL) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyErr_Format(PyExc_ValueError, "%s: cannot convert to a %s array (%S)", name,
                     typenum == NPY_FLOAT32 ? "float32" : "float64", value ? value : Py_None);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return NULL;
    }
    if (PyArray_NDIM((PyArrayObject *)arr) != ndim) {
        PyErr_Format(PyExc_ValueError, "%s must be a %d-D array, got %d dimension(s)", name,
                     ndim, PyArray_NDIM((PyArrayObject *)arr));
        Py_DECREF(arr);
        return NULL;
    }
    return (PyArrayObject *)arr;
}

static PyArrayObject *array_in_typed(PyObject *obj, const char *name, int ndim, npy_intp rows,
                                     npy_intp cols, int typenum)
{
    PyArrayObject *arr = convert(obj, name, ndim, typenum);
    npy_intp *dims;

    if (arr == NULL)
        return NULL;
    dims = PyArray_DIMS(arr);
    if (dims[0] == 0 || (ndim == 2 && dims[1] == 0)) {
        PyErr_Format(PyExc_ValueError, "%s is empty (shape has a zero extent)", name);
        Py_DECREF(arr);
        return NULL;
    }
    if (rows >= 0 && dims[0] != rows) {
        PyErr_Format(PyExc_ValueError, "%s has %zd %s, expected %zd", name, (Py_ssize_t)dims[0],
                     ndim == 1 ? "entries" : "rows", (Py_ssize_t)rows);
        Py_DECREF(arr);
        return NULL;
    }
    if (ndim == 2 && cols >= 0 && dims[1] != cols) {
        PyErr_Format(PyExc_ValueError, "%s has %zd columns, expected %zd", name,
                     (Py_ssize_t)dims[1], (Py_ssize_t)cols);
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

PyArrayObject *otkpy_array_in(PyObject *obj, const char *name, int ndim, npy_intp rows,
                              npy_intp cols)
{
    return array_in_typed(obj, name, ndim, rows, cols, NPY_DOUBLE);
}

PyArrayObject *otkpy_coords_in(PyObject *obj, const char *name, npy_intp rows, npy_intp cols,
                               int single, int *converted)
{
    PyArrayObject *arr =
        array_in_typed(obj, name, 2, rows, cols, single ? NPY_FLOAT32 : NPY_DOUBLE);
    if (arr != NULL && converted != NULL)
        *converted = (PyObject *)arr != obj;
    return arr;
}

int otkpy_points_in(PyObject *xobj, PyObject *yobj, PyArrayObject **x, PyArrayObject **y)
{
    return otkpy_points_in_prec(xobj, yobj, 0, x, y, NULL);
}

int otkpy_points_in_prec(PyObject *xobj, PyObject *yobj, int single, PyArrayObject **x,
                         PyArrayObject **y, int converted[2])
{
    *y = NULL;
    *x = otkpy_coords_in(xobj, "x", -1, -1, single, converted ? &converted[0] : NULL);
    if (*x == NULL)
        return -1;
    *y = otkpy_coords_in(yobj, "y", -1, PyArray_DIM(*x, 1), single,
                         converted ? &converted[1] : NULL);
    if (*y == NULL) {
        Py_CLEAR(*x);
        return -1;
    }
    return 0;
}

PyArrayObject *otkpy_array_opt(PyObject *obj, const char *name, int ndim, npy_intp rows,
                               npy_intp cols, int *err)
{
    PyArrayObject *arr;

    *err = 0;
    if (obj == NULL || obj == Py_None)
        return NULL;
    arr = otkpy_array_in(obj, name, ndim, rows, cols);
    if (arr == NULL)
        *err = 1;
    return arr;
}

PyArrayObject *otkpy_new_array(npy_intp rows, npy_intp cols)
{
    npy_intp dims[2] = {rows, cols};
    return (PyArrayObject *)PyArray_ZEROS(cols < 0 ? 1 : 2, dims, NPY_DOUBLE, 0);
}

PyObject *otkpy_out(PyArrayObject *arr, int single)
{
    PyObject *out;

    if (arr == NULL || !single)
        return (PyObject *)arr;
    out = PyArray_CastToType(arr, PyArray_DescrFromType(NPY_FLOAT32), 0);
    Py_DECREF(arr);
    return out;
}

PyObject *otkpy_vector_out(const double *v, npy_intp n, int single)
{
    npy_intp dims[1] = {n}, i;
    PyArrayObject *out =
        (PyArrayObject *)PyArray_EMPTY(1, dims, single ? NPY_FLOAT32 : NPY_DOUBLE, 0);

    if (out == NULL)
        return NULL;
    if (single)
        for (i = 0; i < n; i++)
            ((float *)PyArray_DATA(out))[i] = (float)v[i];
    else
        memcpy(PyArray_DATA(out), v, (size_t)n * sizeof(double));
    return (PyObject *)out;
}

int otkpy_enum(const char *kind, const char *name, const char *argname, int *value)
{
    if (otk_enum_from_name(kind, name, value) != OTK_SUCCESS) {
        PyErr_Format(PyExc_ValueError, "%s = '%s': %s", argname, name, otk_last_error());
        return -1;
    }
    return 0;
}

int otkpy_ground(const char *name, const char *argname, otk_ground *ground)
{
    int v;
    if (otkpy_enum("ground", name, argname, &v) < 0)
        return -1;
    *ground = (otk_ground)v;
    return 0;
}

int otkpy_cache_bytes(double mb, size_t *bytes)
{
    if (!(mb >= 0.0 && mb <= 1048576.0)) {
        char text[32];
        snprintf(text, sizeof text, "%g", mb);
        PyErr_Format(PyExc_ValueError, "cache_mb = %s must be in [0, 1048576] (MiB)", text);
        return -1;
    }
    *bytes = (size_t)(mb * 1048576.0);
    return 0;
}

int otkpy_callback_verdict(PyObject *r, PyObject **type, PyObject **value, PyObject **tb)
{
    int stop = 1;

    if (r != NULL) {
        stop = PyObject_IsTrue(r);
        Py_DECREF(r);
    }
    if (r == NULL || stop < 0) {
        stop = 1;
        PyErr_Fetch(type, value, tb);
    }
    return stop;
}

int otkpy_acquire(int *busy, const char *what)
{
    if (*busy) {
        PyErr_Format(PyExc_RuntimeError,
                     "this %s object is in use by another thread (use one per thread)", what);
        return -1;
    }
    *busy = 1;
    return 0;
}

void otkpy_release(int *busy)
{
    *busy = 0;
}

static PyObject *py_version(PyObject *self, PyObject *noargs)
{
    return PyUnicode_FromString(otk_version_string());
}

static PyObject *py_strerror(PyObject *self, PyObject *arg)
{
    long status = PyLong_AsLong(arg);
    if (status == -1 && PyErr_Occurred())
        return NULL;
    return Py_BuildValue("(ss)", otk_status_name((int)status), otk_strerror((int)status));
}

/* names(kind) -> the library's names of the enum `kind`, in value order. */
static PyObject *py_names(PyObject *self, PyObject *arg)
{
    const char *kind = PyUnicode_AsUTF8(arg);
    if (!kind)
        return NULL;
    size_t count = 0;
    const char *const *names = otk_enum_names(kind, &count);
    if (!names) {
        int unused;
        otk_enum_from_name(kind, "", &unused); /* the message lists the kinds */
        PyErr_Format(PyExc_ValueError, "kind = '%s': %s", kind, otk_last_error());
        return NULL;
    }
    PyObject *tuple = PyTuple_New((Py_ssize_t)count);
    for (size_t k = 0; tuple && k < count; k++) {
        PyObject *s = PyUnicode_FromString(names[k]);
        if (!s) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, (Py_ssize_t)k, s);
    }
    return tuple;
}

static PyMethodDef module_methods[] = {
    {"names", py_names, METH_O,
     "names(kind) -> tuple of the library's names of enum `kind` (\"schedule\"), value order."},
    {"version", py_version, METH_NOARGS,
     "version() -> str: the version of the libotkit actually loaded."},
    {"strerror", py_strerror, METH_O,
     "strerror(status) -> (name, description) of an otkit status code."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "otkit._otkit",
    "Low-level bindings of libotkit; use the otkit package instead.", -1, module_methods,
    NULL, NULL, NULL, NULL};

/* One line per bound library module. */
static int (*const module_inits[])(PyObject *) = {
    otkpy_init_sinkhorn,
    otkpy_init_divergence,
    otkpy_init_distill,
    otkpy_init_monge_gap,
    otkpy_init_cost,
    otkpy_init_mapfit,
    otkpy_init_fdiv,
    otkpy_init_exact,
    otkpy_init_batch,
};

PyMODINIT_FUNC PyInit__otkit(void);
PyMODINIT_FUNC PyInit__otkit(void)
{
    PyObject *m;
    size_t k;

    import_array();
    m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    otkpy_error_type = PyErr_NewExceptionWithDoc(
        "otkit._otkit.OtkitError",
        "A library failure not caused by the input (otkit status in .status).",
        PyExc_RuntimeError, NULL);
    if (otkpy_error_type == NULL || PyModule_AddObjectRef(m, "OtkitError", otkpy_error_type) < 0)
        goto fail;
#define OTKPY_ADD_STATUS_(name, value, text)                                              \
    if (PyModule_AddIntConstant(m, #name, value) < 0)                                      \
        goto fail;
    OTK_STATUS_MAP(OTKPY_ADD_STATUS_)
#undef OTKPY_ADD_STATUS_
    for (k = 0; k < sizeof module_inits / sizeof module_inits[0]; k++)
        if (module_inits[k](m) < 0)
            goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
