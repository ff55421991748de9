/*
 * otkpy.h — shared declarations of the otkit._otkit extension module.
 *
 * Layout: module.c owns the module object, the status → exception mapping and
 * the array helpers; each library module has one py_<name>.c file that defines
 * its types and functions and an otkpy_init_<name>(module) hook listed in
 * module.c's table.  Binding a new C module is one more such file, one line in
 * that table and one Python wrapper in otkit/.
 *
 * Arrays: inputs go through otkpy_array_in(), which returns the caller's own
 * object (a new reference, no copy) when it is already a C-contiguous, aligned,
 * native float64 array, and a converted copy otherwise.  Point clouds of a
 * single-precision solve go through otkpy_coords_in() as float32 instead, and
 * its float64 results leave through otkpy_out() / otkpy_vector_out() as
 * float32 (docs/math.md A.7).
 *
 * The GIL: every call into the library that can take time runs between
 * Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS.  The objects are not
 * thread-safe in the library (one solver per thread), so each wrapper object
 * carries a `busy` flag, tested and set while the GIL is held: a second thread
 * using the same object gets a RuntimeError instead of a data race.
 */
#ifndef OTKPY_H
#define OTKPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL otkpy_ARRAY_API
#ifndef OTKPY_MODULE_MAIN
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <otkit.h>

/* Raise the Python exception for a negative otkit status, with the library's
 * thread-local message (otk_last_error) naming the argument.  Must be called in
 * the thread that made the failing call.  Always returns NULL. */
PyObject *otkpy_raise_status(int status);

/* The same, with "argname: " before the message, for library calls whose
 * message names a generic parameter (otk_cost_dense calls its matrix "C"). */
PyObject *otkpy_raise_status_arg(int status, const char *argname);

/* Convert `obj` to a float64 array of `ndim` dimensions (1 or 2).  `name` names
 * the argument in the ValueError raised for an unconvertible object, a wrong
 * number of dimensions or an empty array.  When rows/cols are non-negative
 * they are the required extents (a mismatch is a ValueError naming `name` and
 * `what_rows`/`what_cols`, e.g. "b has 4 entries, expected m = 5").
 * Returns a new reference or NULL with an exception set. */
PyArrayObject *otkpy_array_in(PyObject *obj, const char *name, int ndim, npy_intp rows,
                              npy_intp cols);

/* Two point clouds: x (n×d) and y (m×d, the same d), converted as by
 * otkpy_array_in with the names "x" and "y".  Returns 0 with two new
 * references, or -1 with an exception set and nothing held. */
int otkpy_points_in(PyObject *xobj, PyObject *yobj, PyArrayObject **x, PyArrayObject **y);

/* Coordinates (a 2-D array, rows × cols where those are >= 0) for a point-cloud
 * cost: float32 when `single`, else float64, converted only when the array is
 * not already C-contiguous, aligned and of that native type.  *converted
 * (may be NULL) says whether a converted copy was made: the single-precision
 * path must pass the caller's float32 buffer on (otkit/cost.h
 * otk_cost_points_f32 reads it; no float64 copy is made here). */
PyArrayObject *otkpy_coords_in(PyObject *obj, const char *name, npy_intp rows, npy_intp cols,
                               int single, int *converted);

/* otkpy_points_in with the precision chosen: float32 coordinates when
 * `single`; converted[2] (may be NULL) as otkpy_coords_in's for x and y. */
int otkpy_points_in_prec(PyObject *xobj, PyObject *yobj, int single, PyArrayObject **x,
                         PyArrayObject **y, int converted[2]);

/* As otkpy_array_in, but Py_None gives NULL with no exception; *err is set to 1
 * when NULL means failure. */
PyArrayObject *otkpy_array_opt(PyObject *obj, const char *name, int ndim, npy_intp rows,
                               npy_intp cols, int *err);

/* A new zero-filled C-contiguous float64 array (1-D when cols < 0). */
PyArrayObject *otkpy_new_array(npy_intp rows, npy_intp cols);

/* An output computed in float64 (a new array, the reference is stolen), as
 * float32 when `single` (a narrowed copy; arr is released), else unchanged.
 * The library computes plans, marginals and gradients in float64; the
 * single-precision path returns them in the dtype of the points. */
PyObject *otkpy_out(PyArrayObject *arr, int single);

/* A new 1-D array holding the n doubles at v, narrowed to float32 when
 * `single` (no float64 intermediate). */
PyObject *otkpy_vector_out(const double *v, npy_intp n, int single);

/* Parse a name of the library's enum `kind` (otkit/names.h); -1 with a
 * ValueError naming `argname` and listing the library's names. */
int otkpy_enum(const char *kind, const char *name, const char *argname, int *value);
/* The same for a ground-cost name. */
int otkpy_ground(const char *name, const char *argname, otk_ground *ground);
/* A cache budget given in MiB, in [0, 1048576], as bytes; -1 with ValueError. */
int otkpy_cache_bytes(double mb, size_t *bytes);

/* The verdict of a Python callback called from inside the library (GIL
 * held): its return r (a new reference, consumed; NULL when it raised).
 * 1 = stop: a true return, or an exception, which is fetched into
 * *type, *value, *tb to be raised once the library has returned; 0 = go on. */
int otkpy_callback_verdict(PyObject *r, PyObject **type, PyObject **value, PyObject **tb);

/* The busy flag of the wrapper objects (see the top of this file). */
int otkpy_acquire(int *busy, const char *what);
void otkpy_release(int *busy);

/* Per-module initialisation hooks (module.c's table). */
int otkpy_init_sinkhorn(PyObject *module);
int otkpy_init_divergence(PyObject *module);
int otkpy_init_distill(PyObject *module);
int otkpy_init_monge_gap(PyObject *module);
int otkpy_init_cost(PyObject *module);
int otkpy_init_mapfit(PyObject *module);
int otkpy_init_fdiv(PyObject *module);
int otkpy_init_exact(PyObject *module);
int otkpy_init_batch(PyObject *module);

#endif /* OTKPY_H */
