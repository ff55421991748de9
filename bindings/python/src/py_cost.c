/*
 * py_cost.c — costs that are not point clouds or dense matrices: grids
 * (otkit/grid.h), mesh and graph heat kernels (otkit/mesh.h) and sparse costs
 * (otkit/sparse.h), as otkit._otkit.Cost, with the solves that run on any of
 * them: Sinkhorn (otkit/sinkhorn.h), the debiased divergence through
 * otk_divergence_alloc_costs (otkit/divergence.h) and barycenters
 * (otkit/barycenter.h).  Also otkit._otkit.Mesh.
 *
 * Histograms on these costs are flat arrays of n entries (a grid's cells in
 * row-major order); the Python layer reshapes images.  Grid and mesh costs own
 * a workspace and must not run concurrently, hence the busy flag on Cost.
 */
#include "otkpy.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ Mesh */

typedef struct {
    PyObject_HEAD
    otk_mesh *mesh;
} MeshObject;

static void mesh_dealloc(MeshObject *self)
{
    otk_mesh_free(self->mesh);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject MeshType;

static PyObject *mesh_wrap(otk_mesh *mesh, int st)
{
    MeshObject *obj;

    if (st < 0)
        return otkpy_raise_status(st);
    obj = PyObject_New(MeshObject, &MeshType);
    if (obj == NULL) {
        otk_mesh_free(mesh);
        return NULL;
    }
    obj->mesh = mesh;
    return (PyObject *)obj;
}

/* An (rows, cols) index array as size_t (copied: numpy has no size_t type
 * guaranteed to match, and indices are small next to the coordinates).  Only
 * safe casts to int64 are accepted, so float indices are refused, not
 * truncated. */
static size_t *index_array(PyObject *obj, const char *name, npy_intp cols, npy_intp *rows)
{
    PyArrayObject *arr;
    size_t *out;
    npy_intp k, total;

    arr = (PyArrayObject *)PyArray_FROM_OTF(obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
    if (arr == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: cannot convert to an integer array", name);
        return NULL;
    }
    if ((cols > 0 && (PyArray_NDIM(arr) != 2 || PyArray_DIM(arr, 1) != cols)) ||
        (cols <= 0 && PyArray_NDIM(arr) != 1)) {
        if (cols > 0)
            PyErr_Format(PyExc_ValueError, "%s must be an (k, %zd) integer array", name,
                         (Py_ssize_t)cols);
        else
            PyErr_Format(PyExc_ValueError, "%s must be a 1-D integer array", name);
        Py_DECREF(arr);
        return NULL;
    }
    total = PyArray_SIZE(arr);
    *rows = PyArray_DIM(arr, 0);
    out = PyMem_Malloc(total > 0 ? (size_t)total * sizeof *out : 1);
    if (out == NULL) {
        Py_DECREF(arr);
        PyErr_NoMemory();
        return NULL;
    }
    for (k = 0; k < total; k++) {
        long long v = ((const long long *)PyArray_DATA(arr))[k];
        if (v < 0) {
            PyErr_Format(PyExc_ValueError, "%s[%zd] = %lld is negative", name,
                         (Py_ssize_t)(cols > 0 ? k / cols : k), v);
            PyMem_Free(out);
            Py_DECREF(arr);
            return NULL;
        }
        out[k] = (size_t)v;
    }
    Py_DECREF(arr);
    return out;
}

static PyObject *py_mesh_from_triangles(PyObject *self, PyObject *args)
{
    PyObject *vobj, *fobj;
    PyArrayObject *V;
    size_t *F;
    npy_intp nf;
    otk_mesh *mesh = NULL;
    int st;

    if (!PyArg_ParseTuple(args, "OO", &vobj, &fobj))
        return NULL;
    V = otkpy_array_in(vobj, "V", 2, -1, 3);
    if (V == NULL)
        return NULL;
    F = index_array(fobj, "F", 3, &nf);
    if (F == NULL) {
        Py_DECREF(V);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_mesh_from_triangles(&mesh, (size_t)PyArray_DIM(V, 0),
                                 (const double *)PyArray_DATA(V), (size_t)nf, F);
    Py_END_ALLOW_THREADS
    Py_DECREF(V);
    PyMem_Free(F);
    return mesh_wrap(mesh, st);
}

static PyObject *py_mesh_from_graph(PyObject *self, PyObject *args)
{
    Py_ssize_t nv;
    PyObject *eobj, *wobj = Py_None;
    PyArrayObject *w = NULL;
    size_t *E;
    npy_intp ne;
    otk_mesh *mesh = NULL;
    int st, err;

    if (!PyArg_ParseTuple(args, "nO|O", &nv, &eobj, &wobj))
        return NULL;
    if (nv < 0) {
        PyErr_Format(PyExc_ValueError, "n = %zd is negative", nv);
        return NULL;
    }
    E = index_array(eobj, "edges", 2, &ne);
    if (E == NULL)
        return NULL;
    w = otkpy_array_opt(wobj, "weights", 1, ne, -1, &err);
    if (err) {
        PyMem_Free(E);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_mesh_from_graph(&mesh, (size_t)nv, (size_t)ne, E,
                             w ? (const double *)PyArray_DATA(w) : NULL);
    Py_END_ALLOW_THREADS
    Py_XDECREF(w);
    PyMem_Free(E);
    return mesh_wrap(mesh, st);
}

static PyObject *py_mesh_read(PyObject *self, PyObject *args)
{
    PyObject *pathobj;
    otk_mesh *mesh = NULL;
    int st;

    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &pathobj))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    st = otk_mesh_read(&mesh, PyBytes_AS_STRING(pathobj));
    Py_END_ALLOW_THREADS
    Py_DECREF(pathobj);
    return mesh_wrap(mesh, st);
}

static PyObject *py_mesh_generate(PyObject *self, PyObject *args)
{
    const char *name;
    Py_ssize_t res;
    otk_mesh_shape shape;
    otk_mesh *mesh = NULL;
    int st;

    if (!PyArg_ParseTuple(args, "sn", &name, &res))
        return NULL;
    int v;
    if (otkpy_enum("mesh_shape", name, "shape", &v) < 0)
        return NULL;
    shape = (otk_mesh_shape)v;
    if (res < 0) {
        PyErr_Format(PyExc_ValueError, "res = %zd is negative", res);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_mesh_generate(&mesh, shape, (size_t)res);
    Py_END_ALLOW_THREADS
    return mesh_wrap(mesh, st);
}

static PyObject *mesh_get_vertices(MeshObject *self, void *closure)
{
    const double *xyz = otk_mesh_coordinates(self->mesh);
    npy_intp nv = (npy_intp)otk_mesh_vertex_count(self->mesh);
    PyArrayObject *out;

    if (xyz == NULL)
        Py_RETURN_NONE;
    out = otkpy_new_array(nv, 3);
    if (out != NULL)
        memcpy(PyArray_DATA(out), xyz, (size_t)nv * 3 * sizeof(double));
    return (PyObject *)out;
}

static PyObject *mesh_get_faces(MeshObject *self, void *closure)
{
    const size_t *f = otk_mesh_faces(self->mesh);
    npy_intp nf = (npy_intp)otk_mesh_face_count(self->mesh), dims[2] = {nf, 3}, k;
    PyArrayObject *out;

    if (f == NULL)
        Py_RETURN_NONE;
    out = (PyArrayObject *)PyArray_ZEROS(2, dims, NPY_INT64, 0);
    if (out != NULL)
        for (k = 0; k < 3 * nf; k++)
            ((long long *)PyArray_DATA(out))[k] = (long long)f[k];
    return (PyObject *)out;
}

static PyObject *mesh_get_areas(MeshObject *self, void *closure)
{
    npy_intp nv = (npy_intp)otk_mesh_vertex_count(self->mesh);
    PyArrayObject *out = otkpy_new_array(nv, -1);
    if (out != NULL)
        memcpy(PyArray_DATA(out), otk_mesh_areas(self->mesh), (size_t)nv * sizeof(double));
    return (PyObject *)out;
}

static PyObject *mesh_get_total_area(MeshObject *self, void *closure)
{
    return PyFloat_FromDouble(otk_mesh_total_area(self->mesh));
}

static PyObject *mesh_get_n(MeshObject *self, void *closure)
{
    return PyLong_FromSize_t(otk_mesh_vertex_count(self->mesh));
}

static PyObject *mesh_get_is_graph(MeshObject *self, void *closure)
{
    return PyBool_FromLong(otk_mesh_is_graph(self->mesh));
}

static PyObject *mesh_get_max_edge(MeshObject *self, void *closure)
{
    return PyFloat_FromDouble(otk_mesh_max_edge(self->mesh));
}

static PyGetSetDef mesh_getset[] = {
    {"vertices", (getter)mesh_get_vertices, NULL, "nv x 3 coordinates (None for a graph)", NULL},
    {"faces", (getter)mesh_get_faces, NULL, "nf x 3 vertex indices (None for a graph)", NULL},
    {"areas", (getter)mesh_get_areas, NULL, "nv lumped vertex areas (1 on a graph)", NULL},
    {"total_area", (getter)mesh_get_total_area, NULL, "sum of the areas", NULL},
    {"n", (getter)mesh_get_n, NULL, "number of vertices", NULL},
    {"is_graph", (getter)mesh_get_is_graph, NULL, "built from a graph", NULL},
    {"max_edge", (getter)mesh_get_max_edge, NULL, "longest edge (a length scale for eps)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject MeshType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otkit._otkit.Mesh",
    .tp_basicsize = sizeof(MeshObject),
    .tp_dealloc = (destructor)mesh_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A triangle mesh or graph (otkit/mesh.h); made by the mesh_* functions.",
    .tp_getset = mesh_getset,
};

/* ------------------------------------------------------------------ Cost */

typedef struct {
    PyObject_HEAD
    otk_cost *cost;
    PyObject *owner; /* the Mesh a mesh cost was built on, kept alive */
    npy_intp n, m;
    int busy;
} CostObject;

static void cost_dealloc(CostObject *self)
{
    otk_cost_free(self->cost);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject CostType;

static PyObject *cost_wrap(otk_cost *cost, int st, PyObject *owner, npy_intp n, npy_intp m)
{
    CostObject *obj;

    if (st < 0)
        return otkpy_raise_status(st);
    obj = PyObject_New(CostObject, &CostType);
    if (obj == NULL) {
        otk_cost_free(cost);
        return NULL;
    }
    obj->cost = cost;
    Py_XINCREF(owner);
    obj->owner = owner;
    obj->n = n;
    obj->m = m;
    obj->busy = 0;
    return (PyObject *)obj;
}

/* cost_grid(shape, spacing, cost, path, fft_tol) */
static PyObject *py_cost_grid(PyObject *self, PyObject *args)
{
    PyObject *shape_obj, *spacing_obj;
    const char *ground_name, *path_name;
    double fft_tol, spacing[3];
    size_t shape[3], dim, k, n = 1;
    otk_grid_params gp;
    otk_ground ground;
    otk_cost *cost = NULL;
    int st;

    if (!PyArg_ParseTuple(args, "O!O!ssd", &PyTuple_Type, &shape_obj, &PyTuple_Type,
                          &spacing_obj, &ground_name, &path_name, &fft_tol))
        return NULL;
    dim = (size_t)PyTuple_GET_SIZE(shape_obj);
    if (dim < 1 || dim > 3) {
        PyErr_Format(PyExc_ValueError, "a grid has 1, 2 or 3 axes, got %zu", dim);
        return NULL;
    }
    if ((size_t)PyTuple_GET_SIZE(spacing_obj) != dim) {
        PyErr_Format(PyExc_ValueError, "spacing has %zd entries, expected %zu",
                     PyTuple_GET_SIZE(spacing_obj), dim);
        return NULL;
    }
    for (k = 0; k < dim; k++) {
        Py_ssize_t v = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape_obj, k));
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (v < 0) {
            PyErr_Format(PyExc_ValueError, "shape[%zu] = %zd is negative", k, v);
            return NULL;
        }
        shape[k] = (size_t)v;
        n *= shape[k];
        spacing[k] = PyFloat_AsDouble(PyTuple_GET_ITEM(spacing_obj, k));
        if (spacing[k] == -1.0 && PyErr_Occurred())
            return NULL;
    }
    if (otkpy_ground(ground_name, "cost", &ground) < 0)
        return NULL;
    otk_grid_params_default(&gp);
    gp.fft_tol = fft_tol;
    int path;
    if (otkpy_enum("grid_path", path_name, "path", &path) < 0)
        return NULL;
    gp.path = (otk_grid_path)path;
    /* FFTW's planner is not thread-safe: the GIL serialises grid construction. */
    st = otk_cost_grid(&cost, dim, shape, spacing, ground, &gp);
    return cost_wrap(cost, st, NULL, (npy_intp)n, (npy_intp)n);
}

/* cost_mesh(mesh, eps, steps, convention) */
static PyObject *py_cost_mesh(PyObject *self, PyObject *args)
{
    MeshObject *mesh;
    otk_heat_params hp;
    otk_cost *cost = NULL;
    int convention, st;
    npy_intp nv;

    otk_heat_params_default(&hp);
    if (!PyArg_ParseTuple(args, "O!dii", &MeshType, &mesh, &hp.eps, &hp.steps, &convention))
        return NULL;
    hp.convention = (otk_heat_convention)convention;
    Py_BEGIN_ALLOW_THREADS
    st = otk_cost_mesh(&cost, mesh->mesh, &hp);
    Py_END_ALLOW_THREADS
    nv = (npy_intp)otk_mesh_vertex_count(mesh->mesh);
    return cost_wrap(cost, st, (PyObject *)mesh, nv, nv);
}

/* cost_sparse(n, m, indptr, indices, data) */
static PyObject *py_cost_sparse(PyObject *self, PyObject *args)
{
    Py_ssize_t n, m;
    PyObject *pobj, *iobj, *dobj;
    size_t *colptr = NULL, *rowind = NULL;
    PyArrayObject *values = NULL;
    npy_intp np_, ni;
    otk_cost *cost = NULL;
    PyObject *out = NULL;
    int st;

    if (!PyArg_ParseTuple(args, "nnOOO", &n, &m, &pobj, &iobj, &dobj))
        return NULL;
    if (n < 0 || m < 0) {
        PyErr_Format(PyExc_ValueError, "C: shape (%zd, %zd) is negative", n, m);
        return NULL;
    }
    colptr = index_array(pobj, "indptr", 0, &np_);
    if (colptr == NULL)
        return NULL;
    rowind = index_array(iobj, "indices", 0, &ni);
    if (rowind == NULL)
        goto done;
    if (np_ != m + 1) {
        PyErr_Format(PyExc_ValueError, "indptr has %zd entries, expected m + 1 = %zd",
                     (Py_ssize_t)np_, m + 1);
        goto done;
    }
    values = otkpy_array_in(dobj, "data", 1, ni, -1);
    if (values == NULL)
        goto done;
    if (m > 0 && colptr[m] != (size_t)ni) {
        PyErr_Format(PyExc_ValueError, "indptr[%zd] = %zu, expected nnz = %zd", m, colptr[m],
                     (Py_ssize_t)ni);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_cost_sparse(&cost, (size_t)n, (size_t)m, colptr, rowind,
                         (const double *)PyArray_DATA(values));
    Py_END_ALLOW_THREADS
    out = cost_wrap(cost, st, NULL, (npy_intp)n, (npy_intp)m);
    if (out == NULL && st < 0) {
        /* The library names the CSC arrays colptr / rowind / values: lead the
         * message with the argument and scipy's names for them, keeping the
         * exception type and its status attributes. */
        PyObject *type, *value, *tb, *text = NULL, *msg = NULL, *exc = NULL;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (value != NULL && (text = PyObject_Str(value)) != NULL &&
            (msg = PyUnicode_FromFormat("C (CSC: colptr = indptr, rowind = indices, "
                                        "values = data): %U", text)) != NULL &&
            (exc = PyObject_CallOneArg(type, msg)) != NULL) {
            PyObject *code = PyObject_GetAttrString(value, "status");
            PyObject *name = PyObject_GetAttrString(value, "status_name");
            if (code != NULL && name != NULL && PyObject_SetAttrString(exc, "status", code) == 0 &&
                PyObject_SetAttrString(exc, "status_name", name) == 0) {
                Py_DECREF(value);
                value = exc;
                exc = NULL;
            }
            Py_XDECREF(code);
            Py_XDECREF(name);
        }
        PyErr_Clear(); /* a failure above keeps the library's own exception */
        Py_XDECREF(exc);
        Py_XDECREF(msg);
        Py_XDECREF(text);
        PyErr_Restore(type, value, tb);
    }
done:
    PyMem_Free(colptr);
    PyMem_Free(rowind);
    Py_XDECREF(values);
    return out;
}

static int cost_acquire(CostObject *self)
{
    if (self->cost == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Cost object is not initialised");
        return -1;
    }
    return otkpy_acquire(&self->busy, "Cost");
}

static PyObject *vector_copy(const double *v, npy_intp n)
{
    PyArrayObject *out = otkpy_new_array(n, -1);
    if (out != NULL)
        memcpy(PyArray_DATA(out), v, (size_t)n * sizeof(double));
    return (PyObject *)out;
}

/* sinkhorn(a, b, *, eps, blur, scaling, tol, max_iter, threads) -> dict with f, g */
static PyObject *cost_sinkhorn(CostObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"a", "b", "eps", "blur", "scaling", "tol", "max_iter", "threads",
                             NULL};
    PyObject *aobj, *bobj, *out = NULL, *f = NULL, *g = NULL;
    PyArrayObject *a = NULL, *b = NULL;
    otk_sinkhorn_params par;
    otk_sinkhorn *s = NULL;
    otk_sinkhorn_result r;
    int st;

    otk_sinkhorn_params_default(&par);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$ddddii", kwlist, &aobj, &bobj, &par.eps,
                                     &par.blur, &par.scaling, &par.tol, &par.max_iter,
                                     &par.threads))
        return NULL;
    if (cost_acquire(self) < 0)
        return NULL;
    a = otkpy_array_in(aobj, "a", 1, self->n, -1);
    if (a == NULL)
        goto done;
    b = otkpy_array_in(bobj, "b", 1, self->m, -1);
    if (b == NULL)
        goto done;
    st = otk_sinkhorn_alloc(&s, self->cost, &par);
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_sinkhorn_solve(s, (const double *)PyArray_DATA(a), (const double *)PyArray_DATA(b),
                            &r);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    f = vector_copy(otk_sinkhorn_potential_f(s), self->n);
    g = vector_copy(otk_sinkhorn_potential_g(s), self->m);
    if (f == NULL || g == NULL)
        goto done;
    out = Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:i,s:i,s:i,s:O,s:O}", "ot_kl", r.ot_kl, "ot_ent",
                        r.ot_ent, "ot_lin", r.ot_lin, "eps", r.eps, "marginal_error",
                        r.marginal_error, "iterations", r.iterations, "annealing_iterations",
                        r.annealing_iterations, "status", (int)r.status, "f", f, "g", g);
done:
    otk_sinkhorn_free(s);
    Py_XDECREF(f);
    Py_XDECREF(g);
    Py_XDECREF(a);
    Py_XDECREF(b);
    otkpy_release(&self->busy);
    return out;
}

/* divergence(a, b, *, eps, blur, scaling, tol, max_iter, threads, grad) -> dict */
static PyObject *cost_divergence(CostObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"a", "b", "eps", "blur", "scaling", "tol", "max_iter", "threads",
                             "grad", NULL};
    PyObject *aobj, *bobj, *out = NULL;
    PyArrayObject *a = NULL, *b = NULL, *ga = NULL, *gb = NULL;
    otk_divergence_params par;
    otk_divergence *div = NULL;
    otk_divergence_result r;
    int grad = 0, st;

    otk_divergence_params_default(&par);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$ddddiip", kwlist, &aobj, &bobj, &par.eps,
                                     &par.blur, &par.scaling, &par.tol, &par.max_iter,
                                     &par.threads, &grad))
        return NULL;
    if (self->n != self->m) {
        PyErr_SetString(PyExc_ValueError, "the divergence needs a square cost (n = m)");
        return NULL;
    }
    if (cost_acquire(self) < 0)
        return NULL;
    a = otkpy_array_in(aobj, "a", 1, self->n, -1);
    if (a == NULL)
        goto done;
    b = otkpy_array_in(bobj, "b", 1, self->m, -1);
    if (b == NULL)
        goto done;
    if (grad && ((ga = otkpy_new_array(self->n, -1)) == NULL ||
                 (gb = otkpy_new_array(self->m, -1)) == NULL))
        goto done;
    /* The one cost serves as C_xy, C_xx and C_yy: the three problems share
     * the support.  The divergence runs them one after the other, so a grid's
     * single workspace is never used twice at once. */
    st = otk_divergence_alloc_costs(&div, self->cost, self->cost, self->cost, &par);
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    st = otk_divergence_solve(div, (const double *)PyArray_DATA(a),
                              (const double *)PyArray_DATA(b), &r);
    if (st >= 0 && grad) {
        int s2 = otk_divergence_grad_a(div, (double *)PyArray_DATA(ga));
        if (s2 >= 0)
            s2 = otk_divergence_grad_b(div, (double *)PyArray_DATA(gb));
        if (s2 < 0)
            st = s2;
    }
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    out = Py_BuildValue("{s:d,s:d,s:d,s:i,s:i,s:i,s:O,s:O}", "value", r.divergence, "eps", r.eps,
                        "marginal_error", r.marginal_error, "iterations", r.iterations,
                        "annealing_iterations", r.annealing_iterations, "status", (int)r.status,
                        "grad_a", ga ? (PyObject *)ga : Py_None, "grad_b",
                        gb ? (PyObject *)gb : Py_None);
done:
    otk_divergence_free(div);
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(ga);
    Py_XDECREF(gb);
    otkpy_release(&self->busy);
    return out;
}

/* barycenter(A (K x n), weights, *, eps, tol, max_iter, debias, threads) -> (bar, dict) */
static PyObject *cost_barycenter(CostObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"A", "weights", "eps", "tol", "max_iter", "debias", "threads",
                             NULL};
    PyObject *Aobj, *wobj = Py_None, *out = NULL;
    PyArrayObject *A = NULL, *w = NULL, *bar = NULL;
    otk_barycenter_params par;
    otk_barycenter_result r;
    int st, err;

    otk_barycenter_params_default(&par);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O$ddipi", kwlist, &Aobj, &wobj, &par.eps,
                                     &par.tol, &par.max_iter, &par.debias, &par.threads))
        return NULL;
    if (cost_acquire(self) < 0)
        return NULL;
    A = otkpy_array_in(Aobj, "A", 2, -1, self->n);
    if (A == NULL)
        goto done;
    w = otkpy_array_opt(wobj, "weights", 1, PyArray_DIM(A, 0), -1, &err);
    if (err)
        goto done;
    bar = otkpy_new_array(self->n, -1);
    if (bar == NULL)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    st = otk_barycenter(self->cost, (size_t)PyArray_DIM(A, 0), (const double *)PyArray_DATA(A),
                        w ? (const double *)PyArray_DATA(w) : NULL, &par,
                        (double *)PyArray_DATA(bar), &r);
    Py_END_ALLOW_THREADS
    if (st < 0) {
        otkpy_raise_status(st);
        goto done;
    }
    out = Py_BuildValue("(O{s:i,s:d,s:d,s:i})", (PyObject *)bar, "iterations", r.iterations,
                        "error", r.error, "mass", r.mass, "status", st);
done:
    Py_XDECREF(A);
    Py_XDECREF(w);
    Py_XDECREF(bar);
    otkpy_release(&self->busy);
    return out;
}

/* stats() -> dict: the grid's or mesh cost's counters ({} for other kinds). */
static PyObject *cost_stats(CostObject *self, PyObject *noargs)
{
    otk_grid_stats gs;
    otk_mesh_stats ms;

    if (otk_grid_get_stats(self->cost, &gs) == OTK_SUCCESS)
        return Py_BuildValue("{s:s,s:s,s:n,s:n,s:n,s:n,s:n,s:n}", "path",
                             otk_grid_path_name(gs.path), "last_path",
                             otk_grid_path_name(gs.last_path), "fft_plans",
                             (Py_ssize_t)gs.fft_plans, "kernel_transforms",
                             (Py_ssize_t)gs.kernel_transforms, "softmin_calls",
                             (Py_ssize_t)gs.softmin_calls, "softmin_fft",
                             (Py_ssize_t)gs.softmin_fft, "softmin_separable",
                             (Py_ssize_t)gs.softmin_separable, "reduce_calls",
                             (Py_ssize_t)gs.reduce_calls);
    if (otk_mesh_cost_stats(self->cost, &ms) == OTK_SUCCESS)
        return Py_BuildValue("{s:l,s:l,s:l,s:l,s:d,s:d,s:d,s:i}", "factorisations",
                             ms.factorisations, "solves", ms.solves, "kernel_applications",
                             ms.kernel_applications, "underflows", ms.underflows, "eps", ms.eps,
                             "t", ms.t, "h", ms.h, "steps", ms.steps);
    if (strcmp(otk_cost_kind(self->cost), "sparse") == 0)
        return Py_BuildValue("{s:n}", "nnz", (Py_ssize_t)otk_cost_sparse_nnz(self->cost));
    return PyDict_New();
}

/* grid_path(eps) -> (path name, fft error bound) for a grid cost. */
static PyObject *cost_grid_path(CostObject *self, PyObject *arg)
{
    double eps = PyFloat_AsDouble(arg);
    otk_grid_path path;
    int st;

    if (eps == -1.0 && PyErr_Occurred())
        return NULL;
    st = otk_grid_select_path(self->cost, eps, &path);
    if (st < 0)
        return otkpy_raise_status_arg(st, "eps");
    return Py_BuildValue("(sd)", otk_grid_path_name(path),
                         otk_grid_fft_error_bound(self->cost, eps));
}

static PyMethodDef cost_methods[] = {
    {"sinkhorn", (PyCFunction)(void (*)(void))cost_sinkhorn, METH_VARARGS | METH_KEYWORDS,
     "sinkhorn(a, b, *, eps, blur, scaling, tol, max_iter, threads) -> dict"},
    {"divergence", (PyCFunction)(void (*)(void))cost_divergence, METH_VARARGS | METH_KEYWORDS,
     "divergence(a, b, *, eps, blur, scaling, tol, max_iter, threads, grad) -> dict"},
    {"barycenter", (PyCFunction)(void (*)(void))cost_barycenter, METH_VARARGS | METH_KEYWORDS,
     "barycenter(A, weights=None, *, eps, tol, max_iter, debias, threads) -> (bar, dict)"},
    {"stats", (PyCFunction)cost_stats, METH_NOARGS, "stats() -> dict of the cost's counters"},
    {"grid_path", (PyCFunction)cost_grid_path, METH_O,
     "grid_path(eps) -> (path, fft_error_bound) of a grid cost"},
    {NULL, NULL, 0, NULL}};

static PyObject *cost_get_kind(CostObject *self, void *closure)
{
    return PyUnicode_FromString(otk_cost_kind(self->cost));
}

static PyObject *cost_get_shape(CostObject *self, void *closure)
{
    return Py_BuildValue("(nn)", (Py_ssize_t)self->n, (Py_ssize_t)self->m);
}

static PyGetSetDef cost_getset[] = {
    {"kind", (getter)cost_get_kind, NULL, "the cost kind (grid, mesh, sparse)", NULL},
    {"shape", (getter)cost_get_shape, NULL, "(n, m)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject CostType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "otkit._otkit.Cost",
    .tp_basicsize = sizeof(CostObject),
    .tp_dealloc = (destructor)cost_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A grid, mesh or sparse cost; made by cost_grid, cost_mesh, cost_sparse.",
    .tp_methods = cost_methods,
    .tp_getset = cost_getset,
};

static PyMethodDef functions[] = {
    {"mesh_from_triangles", py_mesh_from_triangles, METH_VARARGS,
     "mesh_from_triangles(V, F) -> Mesh"},
    {"mesh_from_graph", py_mesh_from_graph, METH_VARARGS,
     "mesh_from_graph(n, edges, weights=None) -> Mesh"},
    {"mesh_read", py_mesh_read, METH_VARARGS, "mesh_read(path) -> Mesh (.off / .obj)"},
    {"mesh_generate", py_mesh_generate, METH_VARARGS,
     "mesh_generate(shape, res) -> Mesh (square, icosphere, torus)"},
    {"cost_grid", py_cost_grid, METH_VARARGS,
     "cost_grid(shape, spacing, cost, path, fft_tol) -> Cost"},
    {"cost_mesh", py_cost_mesh, METH_VARARGS, "cost_mesh(mesh, eps, steps, convention) -> Cost"},
    {"cost_sparse", py_cost_sparse, METH_VARARGS,
     "cost_sparse(n, m, indptr, indices, data) -> Cost (CSC)"},
    {NULL, NULL, 0, NULL}};

int otkpy_init_cost(PyObject *module)
{
    if (PyType_Ready(&MeshType) < 0 || PyType_Ready(&CostType) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "Mesh", (PyObject *)&MeshType) < 0 ||
        PyModule_AddObjectRef(module, "Cost", (PyObject *)&CostType) < 0)
        return -1;
    return PyModule_AddFunctions(module, functions);
}
