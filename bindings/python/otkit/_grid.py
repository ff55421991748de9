"""Regular grids (otkit/grid.h), meshes and graphs (otkit/mesh.h), sparse
costs (otkit/sparse.h) and barycenters (otkit/barycenter.h).

Histograms on a grid are arrays of the grid's shape (1-D, 2-D or 3-D images,
row-major); on a mesh, one weight per vertex; results come back in the same
shapes.  Every solve builds the cost once and releases the GIL.
"""
import numpy as np

from . import _otkit
from ._common import eps_blur, exclusive
from ._common import warn_not_converged, as_float, as_int, choice

__all__ = ["grid_sinkhorn", "grid_divergence", "barycenter", "GridResult", "Mesh",
           "mesh_sinkhorn", "mesh_divergence", "mesh_barycenter", "sparse_sinkhorn"]



class GridResult:
    """The result of the grid, mesh and sparse solvers (cost units).

    Sinkhorn: ot_kl, ot_ent, ot_lin (as otkit.SinkhornResult), f, g (the
    potentials, GeomLoss gauge, in the input's shape).  Divergence: value,
    grad_a, grad_b (when grad=True; in the input's shape).  Barycenter:
    barycenter (the input's shape), error, mass.  All: eps, iterations,
    marginal_error (not for barycenters), status (0, or 1 = not converged),
    and stats, the cost's counters: for a grid path (the path the target eps
    takes: "separable" or "fft"), fft_error_bound, fft_plans (FFTW plans made,
    0 or 2), softmin_calls, softmin_fft, softmin_separable; for a mesh
    factorisations, solves, kernel_applications, t, h, steps; for a sparse
    cost nnz.
    """

    def __init__(self, info, stats):
        for k, v in info.items():
            setattr(self, k, v)
        self.stats = stats
        for k in ("path", "fft_error_bound", "fft_plans"):
            if k in stats:
                setattr(self, k, stats[k])

    @property
    def converged(self):
        return self.status == 0

    def __repr__(self):
        keys = [k for k in ("value", "ot_kl", "ot_ent", "ot_lin", "eps", "iterations",
                            "marginal_error", "error", "mass", "path") if hasattr(self, k)]
        return "GridResult(%s)" % ", ".join("%s=%r" % (k, getattr(self, k)) for k in keys)


def _image(arr, name):
    a = arr if isinstance(arr, np.ndarray) else np.asarray(arr, dtype=np.float64)
    if a.ndim < 1 or a.ndim > 3:
        raise ValueError("%s must be a 1-D, 2-D or 3-D array (a histogram on the grid), "
                         "got %d dimension(s)" % (name, a.ndim))
    return a


def _spacing(spacing, shape):
    if spacing is None:
        # POT's convolutional_barycenter2d grid: linspace(0, 1, N_k) on each
        # axis k, so h_k = 1/(N_k - 1) (a non-square image is not isotropic).
        return tuple(1.0 / (n - 1) if n > 1 else 1.0 for n in shape)
    if np.ndim(spacing) == 0:
        return tuple(as_float(spacing, "spacing") for _ in shape)
    sp = tuple(as_float(s, "spacing") for s in spacing)
    if len(sp) != len(shape):
        raise ValueError("spacing has %d entries, expected %d (one per axis)"
                         % (len(sp), len(shape)))
    return sp


def _grid_cost(shape, spacing, cost, path, fft_tol):
    return _otkit.cost_grid(tuple(int(s) for s in shape), _spacing(spacing, shape), cost,
                            path, as_float(fft_tol, "fft_tol"))


def _grid_stats(C, eps):
    stats = C.stats()
    stats["path"], stats["fft_error_bound"] = C.grid_path(eps)
    return stats


def _flat(arr, shape, name):
    if arr.shape != shape:
        raise ValueError("%s has shape %s, expected %s (the grid of a)" % (name, arr.shape,
                                                                          shape))
    return arr.reshape(-1)  # a view for C-contiguous input: no copy


def grid_sinkhorn(a, b, spacing=None, cost="sqeuclidean", eps=None, blur=None, path="auto",
                  fft_tol=1e-6, scaling=0.5, tol=1e-6, max_iter=10000, threads=0, warn=True):
    """Entropic OT between two histograms a, b of the same grid shape (1-3 axes).

    Cell i sits at (i_0 h_0, i_1 h_1, ...); spacing is h (a number, or one per
    axis); None = 1/(N_k-1) on each axis k of N_k cells, POT's
    linspace(0, 1, N_k) grid (as `otk grid`).  cost: "sqeuclidean" (default),
    "half-sqeuclidean" or "l1" (costs that separate over the axes).  eps in
    cost units (POT's reg) or blur, a length (eps = blur**p); default blur 0.05.
    path: "auto" (FFT only where its predicted error is <= fft_tol, else the
    exact separable soft-min), "separable", or "fft" (forced, for testing).
    a, b: equal sums.  The n x n cost is never formed.
    Returns a GridResult with f, g in the grid's shape and the path stats.
    """
    a = _image(a, "a")
    b = _image(b, "b")
    shape = a.shape
    C = _grid_cost(shape, spacing, cost, path, fft_tol)
    info = C.sinkhorn(_flat(a, shape, "a"), _flat(b, shape, "b"), scaling=as_float(scaling, "scaling"),
                      tol=as_float(tol, "tol"), max_iter=as_int(max_iter, "max_iter"),
                      threads=as_int(threads, "threads"), **eps_blur(eps, blur))
    info["f"] = info["f"].reshape(shape)
    info["g"] = info["g"].reshape(shape)
    warn_not_converged(info["status"], "otkit.grid_sinkhorn", info["marginal_error"], tol,
                       max_iter, warn)
    return GridResult(info, _grid_stats(C, info["eps"]))


def grid_divergence(a, b, spacing=None, cost="sqeuclidean", eps=None, blur=None, path="auto",
                    fft_tol=1e-6, scaling=0.5, tol=1e-6, max_iter=10000, threads=0, grad=False,
                    warn=True):
    """The debiased Sinkhorn divergence S_eps(a, b) between two histograms of
    the same grid (arguments as grid_sinkhorn; as `otk grid --divergence`).
    grad=True adds grad_a, grad_b (the grid's shape): envelope gradients
    with respect to the weights, projected onto the zero-sum hyperplane
    (balanced problem), exact at convergence."""
    a = _image(a, "a")
    b = _image(b, "b")
    shape = a.shape
    C = _grid_cost(shape, spacing, cost, path, fft_tol)
    info = C.divergence(_flat(a, shape, "a"), _flat(b, shape, "b"),
                        scaling=as_float(scaling, "scaling"), tol=as_float(tol, "tol"),
                        max_iter=as_int(max_iter, "max_iter"),
                        threads=as_int(threads, "threads"), grad=bool(grad),
                        **eps_blur(eps, blur))
    for k in ("grad_a", "grad_b"):
        if info[k] is not None:
            info[k] = info[k].reshape(shape)
    warn_not_converged(info["status"], "otkit.grid_divergence", info["marginal_error"], tol,
                       max_iter, warn)
    return GridResult(info, _grid_stats(C, info["eps"]))


def _barycenter_args(eps, tol, max_iter, debias, threads):
    return dict(eps=as_float(eps, "eps"), tol=as_float(tol, "tol"),
                max_iter=as_int(max_iter, "max_iter"), debias=bool(debias),
                threads=as_int(threads, "threads"))


def barycenter(A, weights=None, eps=0.01, spacing=None, cost="sqeuclidean", debias=False,
               path="auto", fft_tol=1e-6, tol=1e-9, max_iter=1000, threads=0, warn=True):
    """The entropic Wasserstein barycenter of K histograms on a common grid
    (Solomon's convolutional barycenter; Janati's debiased one with debias=True).

    A        (K, *shape): histogram k is A[k], all with the same mass.
    weights  K barycentric weights (>= 0, normalised), None = 1/K each.
    eps      in cost units (POT's reg; POT's convolutional_barycenter2d on
             linspace(0, 1, N_k) per axis is spacing=None, cost="sqeuclidean",
             eps=reg, non-square images included).  Default 0.01, the C
             library's (otk grid --barycenter's too).
    tol, max_iter   stopping rule of otkit/barycenter.h (checked every 10th
             iteration, as POT).
    Returns a GridResult whose .barycenter has the grid's shape.
    """
    A = A if isinstance(A, np.ndarray) else np.asarray(A, dtype=np.float64)
    if A.ndim < 2 or A.ndim > 4:
        raise ValueError("A must be (K, *shape) with a 1-D to 3-D grid shape, got %d "
                         "dimension(s)" % A.ndim)
    shape = A.shape[1:]
    C = _grid_cost(shape, spacing, cost, path, fft_tol)
    kw = _barycenter_args(eps, tol, max_iter, debias, threads)
    bar, info = C.barycenter(A.reshape(A.shape[0], -1), weights, **kw)
    info["barycenter"] = bar.reshape(shape)
    info["eps"] = kw["eps"]
    warn_not_converged(info["status"], "otkit.barycenter", info["error"], tol, max_iter, warn)
    return GridResult(info, _grid_stats(C, kw["eps"]))


class Mesh:
    """A triangle mesh or a weighted graph (otkit/mesh.h), the support of the
    heat-kernel cost.  Build with Mesh.read(path) (.off, .obj),
    Mesh.from_triangles(V, F) (V (nv, 3) coordinates, F (nf, 3) 0-based
    indices), Mesh.from_graph(n, edges, weights=None) or
    Mesh.generate("square" | "icosphere" | "torus", res).  Bad geometry
    (degenerate or non-manifold faces, a disconnected mesh, an index out of
    range) raises ValueError naming the face, edge or vertex.

    Properties: vertices (nv, 3) (None for a graph), faces (nf, 3) (None for a
    graph), areas (nv lumped vertex areas; 1 on a graph), total_area, n,
    is_graph, max_edge (a length scale for eps)."""

    def __init__(self, _impl):
        self._impl = _impl

    @classmethod
    def read(cls, path):
        return cls(_otkit.mesh_read(path))

    @classmethod
    def from_triangles(cls, V, F):
        return cls(_otkit.mesh_from_triangles(V, F))

    @classmethod
    def from_graph(cls, n, edges, weights=None):
        return cls(_otkit.mesh_from_graph(as_int(n, "n"), edges, weights))

    @classmethod
    def generate(cls, shape="icosphere", res=2):
        return cls(_otkit.mesh_generate(shape, as_int(res, "res")))

    vertices = property(lambda self: self._impl.vertices)
    faces = property(lambda self: self._impl.faces)
    areas = property(lambda self: self._impl.areas)
    total_area = property(lambda self: self._impl.total_area)
    n = property(lambda self: self._impl.n)
    is_graph = property(lambda self: self._impl.is_graph)
    max_edge = property(lambda self: self._impl.max_edge)

    def heat_cost(self, eps=None, steps=10, convention="otkit"):
        """The heat-kernel cost (otk_cost_mesh) as a low-level _otkit.Cost."""
        if eps is None:
            eps = 4.0 * self.max_edge ** 2  # `otk mesh`'s default, (2h)^2
        return _otkit.cost_mesh(self._impl, as_float(eps, "eps"), as_int(steps, "steps"),
                                choice(convention, "heat_convention", "convention"))

    def __repr__(self):
        if self.is_graph:
            return "Mesh(graph, n=%d)" % self.n
        return "Mesh(n=%d, faces=%d, total_area=%g)" % (self.n, self.faces.shape[0],
                                                         self.total_area)


def _mesh_arg(mesh):
    if not isinstance(mesh, Mesh):
        raise ValueError("mesh must be an otkit.Mesh, got %s" % type(mesh).__name__)
    return mesh


def mesh_sinkhorn(mesh, a, b, eps=None, steps=10, convention="otkit", tol=1e-6,
                  max_iter=10000, threads=0, warn=True):
    """Entropic OT between vertex weights a, b (nv each, equal sums) on a
    mesh with the heat-kernel cost (as `otk mesh`): K = exp(-C/eps) is `steps`
    implicit Euler steps of the heat equation over t = eps/4 ("otkit": C ~ d^2,
    OTT) or t = eps/2 ("solomon": C ~ d^2/2).  eps in squared length units,
    default (2h)^2 with h the longest edge.  Sinkhorn runs at this single eps.
    ot_lin costs nv kernel applications (use small meshes or ignore it)."""
    C = _mesh_arg(mesh).heat_cost(eps, steps, convention)
    info = C.sinkhorn(a, b, tol=as_float(tol, "tol"), max_iter=as_int(max_iter, "max_iter"),
                      threads=as_int(threads, "threads"))
    warn_not_converged(info["status"], "otkit.mesh_sinkhorn", info["marginal_error"], tol,
                       max_iter, warn)
    return GridResult(info, C.stats())


def mesh_divergence(mesh, a, b, eps=None, steps=10, convention="otkit", tol=1e-6,
                    max_iter=10000, threads=0, grad=False, warn=True):
    """The debiased Sinkhorn divergence between vertex weights a, b on a mesh
    (heat-kernel cost, arguments as mesh_sinkhorn; `otk mesh --divergence`).
    grad=True adds grad_a, grad_b (projected envelope gradients)."""
    C = _mesh_arg(mesh).heat_cost(eps, steps, convention)
    info = C.divergence(a, b, tol=as_float(tol, "tol"), max_iter=as_int(max_iter, "max_iter"),
                        threads=as_int(threads, "threads"), grad=bool(grad))
    warn_not_converged(info["status"], "otkit.mesh_divergence", info["marginal_error"], tol,
                       max_iter, warn)
    return GridResult(info, C.stats())


def mesh_barycenter(mesh, A, weights=None, eps=None, steps=10, convention="otkit",
                    debias=False, tol=1e-9, max_iter=1000, threads=0, warn=True):
    """The entropic barycenter of K vertex histograms A (K, nv) on a mesh
    (heat-kernel cost, Solomon et al. 2015's convolutional barycenter on
    surfaces); arguments as mesh_sinkhorn and barycenter."""
    mesh = _mesh_arg(mesh)
    if eps is None:
        eps = 4.0 * mesh.max_edge ** 2
    C = mesh.heat_cost(eps, steps, convention)
    kw = _barycenter_args(eps, tol, max_iter, debias, threads)
    bar, info = C.barycenter(A, weights, **kw)
    info["barycenter"] = bar
    info["eps"] = kw["eps"]
    warn_not_converged(info["status"], "otkit.mesh_barycenter", info["error"], tol, max_iter,
                       warn)
    return GridResult(info, C.stats())


def _csc(C, n=None, m=None):
    """(n, m, indptr, indices, data) of a scipy.sparse matrix (converted to
    CSC, indices sorted) or of a tuple (indptr, indices, data) with shape."""
    if isinstance(C, tuple):
        if len(C) != 3:
            raise ValueError("C as a tuple must be (indptr, indices, data)")
        if n is None:
            # every row and column must hold an entry (OTK_EEMPTY otherwise),
            # so the pattern itself gives the shape
            indptr, indices = np.asarray(C[0]), np.asarray(C[1])
            if indptr.ndim != 1 or indices.ndim != 1 or indices.size == 0:
                raise ValueError("C = (indptr, indices, data): indptr and indices must be "
                                 "non-empty 1-D arrays (or give shape=(n, m))")
            n, m = int(indices.max()) + 1, indptr.size - 1
        return (n, m) + tuple(C)
    if not hasattr(C, "tocsc"):
        raise ValueError("C must be a scipy.sparse matrix or (indptr, indices, data), got %s"
                         % type(C).__name__)
    csc = C.tocsc()
    if not csc.has_sorted_indices:
        csc = csc.sorted_indices()
    return (csc.shape[0], csc.shape[1], csc.indptr, csc.indices, csc.data)


def sparse_sinkhorn(a, b, C, eps=None, blur=None, shape=None, scaling=0.5, tol=1e-6,
                    max_iter=10000, threads=0, warn=True):
    """Entropic OT on a cost given only on a sparsity pattern (otkit/sparse.h):
    stored entries are costs (an explicit 0 is a zero cost), absent ones +inf
    (no mass moves there).  C is a scipy.sparse matrix (any format; converted
    to CSC) or (indptr, indices, data) in CSC (shape=(n, m), or taken from the
pattern: m = len(indptr) - 1, n = max(indices) + 1).  Every row and
    column needs an entry.  eps in cost units is required: the numbers have
    no exponent, so blur is refused rather than read as eps.  Returns a GridResult with f, g, ot_kl, ot_ent,
    ot_lin and stats["nnz"]."""
    if shape is not None:
        n, m = (as_int(shape[0], "shape[0]"), as_int(shape[1], "shape[1]"))
    else:
        n = m = None
    exclusive("eps", eps, "blur", blur)
    if eps is None:
        raise ValueError("eps is required with a sparse C (cost units): its numbers have no "
                         "exponent, so blur (eps = blur**p) cannot be converted"
                         + ("" if blur is None else "; blur given"))
    n, m, indptr, indices, data = _csc(C, n, m)
    cost = _otkit.cost_sparse(n, m, indptr, indices, data)
    info = cost.sinkhorn(a, b, scaling=as_float(scaling, "scaling"), tol=as_float(tol, "tol"),
                         max_iter=as_int(max_iter, "max_iter"),
                         threads=as_int(threads, "threads"), **eps_blur(eps, blur))
    warn_not_converged(info["status"], "otkit.sparse_sinkhorn", info["marginal_error"], tol,
                       max_iter, warn)
    return GridResult(info, cost.stats())
