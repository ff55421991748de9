"""The debiased Sinkhorn divergence and its gradients (otkit/divergence.h)."""
import math
import warnings

import numpy as np

from . import _otkit
from ._common import exclusive, eps_blur, matrix_exponent, scale_options, progress_callback
from ._common import (points, schedule_code, update_code, backend_code, positive_or_zero,
                      warn_not_converged, as_float, as_int, grad_names, single_precision,
                      batch_arrays, is_batch)

__all__ = ["divergence", "divergence_matrix", "DivergenceResult", "DivergenceBatchResult",
           "Divergence", "geomloss_cost"]


def geomloss_cost(p):
    """GeomLoss's cost |x-y|^p / p as an otkit ground cost: (name, power).
    p = 2 -> ("half-sqeuclidean", 0), p = 1 -> ("euclidean", 0), else
    ("lp-over-p", p)."""
    return _otkit.geomloss_ground(as_float(p, "p"))


class DivergenceResult:
    """The value of otkit.divergence() and, when asked for, its gradients.

    value            S_eps (cost units); float(result) gives it too.
    eps, rho         the eps and rho used (rho = inf: balanced), in units of C.
    scale_cost       scale_cost's s (1 when not set).
    mass_a, mass_b   sum(a), sum(b).
    marginal_error   largest relative L1 marginal error of the solved problems
                     (NaN for the fixed schedule, which does not measure it).
    iterations, annealing_iterations, status (0 ok, 1 not converged, 2
                     stopped by the callback).
    stopped          whether the callback stopped the solve.
    update           the update rule run ("symmetric", "accelerated", ...;
                     update="auto" resolved, the fixed schedule symmetric).
    backend          the backend run ("online", "dense" or "multiscale").
    truncation_bound multiscale: an upper bound on the plan mass of the dropped
                     blocks relative to the mass (docs/math.md A.11); 0 otherwise.
    grad_a, grad_b   dS/da (n), dS/db (m), or None.
    grad_x, grad_y   dS/dx (n, d), dS/dy (m, d), or None.
    The gradients are float32 arrays for a single-precision solve (float32
    clouds or dtype=float32), float64 otherwise; value is a Python float.
    Which gradients (otkit/divergence.h, docs/math.md B.3):
      schedule="converge": the envelope-theorem gradients from the final
        potentials, exact at convergence (they match finite differences with
        a tight tol).  Balanced grad_a, grad_b are projected onto the zero-sum
        hyperplane (S is only defined for sum a = sum b).
      schedule="fixed": GeomLoss's, the derivative through the final
        extrapolation step with the potentials it starts from held fixed,
        what SamplesLoss's autograd returns (tested to 1e-10); balanced
        grad_a, grad_b are not projected.  Not the derivative of the value:
        finite differences do not check them.

    The plan of the cross problem, pi_ab = a b exp((f_ba + g_ab - C_xy)/eps)
    (GeomLoss's, from the final potentials), is available from the result
    while its Divergence has not solved again: plan_apply(M, axis),
    barycentric(Y=None), plan() and potentials() (see Divergence).
    """

    def __init__(self, info, grads, div=None):
        self._div = div
        self._solve_id = div._solves if div is not None else None
        self.value = info["divergence"]
        for k, v in info.items():
            if k != "divergence":
                setattr(self, k, v)
        for k in ("a", "b", "x", "y"):
            setattr(self, "grad_" + k, grads.get(k))

    @property
    def converged(self):
        return self.status == 0

    def __float__(self):
        return float(self.value)

    def _current(self):
        if self._div is None or self._div._solves != self._solve_id:
            raise RuntimeError("the Divergence of this result has solved again (or was "
                               "set_points'ed): use the Divergence's own plan methods")
        return self._div

    def plan_apply(self, M, axis=0):
        """pi_ab @ M (axis 0, M (m, k) or (m,)) or pi_ab.T @ M (axis 1, M (n, k)
        or (n,)), without forming pi_ab for point clouds."""
        return self._current().plan_apply(M, axis)

    def barycentric(self, Y=None):
        """The barycentric projection (pi_ab @ Y) / (pi_ab 1), (n, k); Y = None
        projects the target points y."""
        return self._current().barycentric(Y)

    def plan(self):
        """The dense plan pi_ab (n, m).  Allocates n*m doubles."""
        return self._current().plan()

    def potentials(self):
        """(f_ba, g_ab, f_aa, g_bb), GeomLoss gauge (Divergence.potentials)."""
        return self._current().potentials()

    def __repr__(self):
        return ("DivergenceResult(value=%.10g, eps=%g, iterations=%d, marginal_error=%.3g, "
                "status=%d)" % (self.value, self.eps, self.iterations, self.marginal_error,
                                self.status))


class DivergenceBatchResult(DivergenceResult):
    """The result of otkit.divergence() on a batch of B problems (x (B, n, d),
    y (B, m, d)): the fields of DivergenceResult, per problem.

    value, mass_a, mass_b, marginal_error, eps, rho, scale_cost,
    truncation_bound   (B,) float64 arrays (eps, rho and scale_cost differ
    between problems with relative_eps or scale_cost by a statistic, each
    resolved on its own problem);
    iterations, annealing_iterations, status   (B,) int arrays;
    update, backend   shared by the problems (resolved from the shared
    parameters and shapes); stopped (the callback stopped the batch);
    grad_a (B, n), grad_b (B, m), grad_x (B, n, d), grad_y (B, m, d) or None
    (float32 for a single-precision batch).
    Problem k's entries equal otkit.divergence(x[k], y[k], a[k], b[k]) to
    1e-12 relative (docs: otkit/batch.h); zero-weight padding is exact.
    """

    @property
    def converged(self):
        return bool(np.all(self.status == 0))

    def __float__(self):
        raise TypeError("a batch has B = %d values: use result.value" % len(self.value))

    def __repr__(self):
        return ("DivergenceBatchResult(B=%d, value=%s, eps=%s, iterations=%s, status=%s)"
                % (len(self.value), np.array2string(self.value, precision=6, threshold=6),
                   np.array2string(self.eps, precision=6, threshold=6),
                   np.array2string(self.iterations, threshold=6),
                   np.array2string(self.status, threshold=6)))


def _exponent(p, exponent):
    """p, with the former name exponent= (same meaning) accepted with a warning."""
    if exponent is None:
        return p
    exclusive("p", p, "exponent", exponent)
    warnings.warn("exponent= is deprecated: p is the cost's exponent in every otkit function "
                  "(give p=)", DeprecationWarning, stacklevel=4)
    return exponent


def _options(blur, p, cost, power, eps, reach, rho, scaling, debias, schedule, update,
             diameter, exponent, tol, max_iter, threads, cache_mb=0, relative_eps=None,
             relative_to=None, scale_cost=None, backend="auto", truncate=12.0):
    exclusive("eps", eps, "blur", blur)
    scale_kw = scale_options(eps, blur, relative_eps, relative_to, scale_cost)
    exclusive("reach", reach, "rho", rho)
    p = _exponent(p, exponent)
    if cost is None:
        # GeomLoss's cost |x-y|^p/p, whose exponent is p (2 when not given).
        cost, gpower = geomloss_cost(2 if p is None else p)
        power = gpower if power is None else power
    exponent = p
    return dict(cost=cost, power=0.0 if power is None else as_float(power, "power"),
                **eps_blur(eps, blur),
                rho=math.inf if rho is None else as_float(rho, "rho"),
                reach=positive_or_zero(reach, "reach"), schedule=schedule_code(schedule),
                update=update_code(update), scaling=as_float(scaling, "scaling"),
                diameter=positive_or_zero(diameter, "diameter"),
                p=positive_or_zero(exponent, "p"), debias=bool(debias),
                tol=as_float(tol, "tol"), max_iter=as_int(max_iter, "max_iter"),
                threads=as_int(threads, "threads"), cache_mb=as_float(cache_mb, "cache_mb"),
                backend=backend_code(backend), truncate=as_float(truncate, "truncate"),
                **scale_kw)


class Divergence:
    """A planned divergence between point clouds x (n, d) and y (m, d): build
    once, then solve() for several weights or set_points() for gradient flows.
    Keyword arguments as for otkit.divergence().  One object per thread."""

    def __init__(self, x, y, blur=None, p=None, cost=None, power=None, eps=None, reach=None,
                 rho=None, scaling=0.5, debias=True, schedule="converge", update="auto",
                 diameter=None, exponent=None, tol=1e-6, max_iter=10000, threads=0,
                 warn=True, cache_mb=0, dtype=None, relative_eps=None, relative_to=None,
                 scale_cost=None, backend="auto", truncate=12.0):
        kw = _options(blur, p, cost, power, eps, reach, rho, scaling, debias, schedule,
                      update, diameter, exponent, tol, max_iter, threads, cache_mb,
                      relative_eps, relative_to, scale_cost, backend, truncate)
        self._tol, self._max_iter, self._warn = kw["tol"], kw["max_iter"], warn
        x, y = points(x, "x"), points(y, "y")
        self._obj = _otkit.Divergence(x, y, single=single_precision(x, y, dtype), **kw)
        self._y = y
        self._solves = 0

    @classmethod
    def from_matrices(cls, C_xy, C_xx=None, C_yy=None, eps=None, blur=None, reach=None,
                      rho=None, scaling=0.5, debias=True, schedule="converge", update="auto",
                      diameter=None, p=None, tol=1e-6, max_iter=10000, threads=0,
                      warn=True, exponent=None, relative_eps=None, relative_to=None,
                      scale_cost=None):
        """A planned divergence on three dense costs (cost units): C_xy (n, m),
        C_xx (n, n) and C_yy (m, m), symmetric; C_xx and C_yy may be None when
        debias=False.  The matrices are borrowed, not copied, when they are
        C-contiguous float64 (do not modify them while the object lives).  A
        dense cost has no exponent: give eps (cost units), or blur with p
        (eps = blur**p; p=2 for squared distances); reach likewise needs p.
        exponent= is the former name of p (deprecated).  Only the weight
        gradients exist."""
        exclusive("eps", eps, "blur", blur)
        scale_kw = scale_options(eps, blur, relative_eps, relative_to, scale_cost)
        exclusive("reach", reach, "rho", rho)
        p = _exponent(p, exponent)
        matrix_exponent(eps, blur, reach, p, what="cost matrices", relative_eps=relative_eps)
        self = cls.__new__(cls)
        self._tol, self._max_iter, self._warn = as_float(tol, "tol"), max_iter, warn
        self._y = None
        self._solves = 0
        self._obj = _otkit.Divergence(
            C_xy=C_xy, C_xx=C_xx, C_yy=C_yy, **eps_blur(eps, blur),
            rho=math.inf if rho is None else as_float(rho, "rho"),
            reach=positive_or_zero(reach, "reach"), schedule=schedule_code(schedule),
            update=update_code(update), scaling=as_float(scaling, "scaling"),
            diameter=positive_or_zero(diameter, "diameter"),
            p=positive_or_zero(p, "p"), debias=bool(debias),
            tol=as_float(tol, "tol"), max_iter=as_int(max_iter, "max_iter"),
            threads=as_int(threads, "threads"), **scale_kw)
        return self

    @property
    def shape(self):
        """(n, m, d); d = 0 for dense costs"""
        return self._obj.shape

    @property
    def dtype(self):
        """np.float32 for a single-precision object (float32 coordinates and
        soft-mins, float32 gradients and potentials), else np.float64."""
        return np.dtype(np.float32 if self._obj.single_precision else np.float64)

    @property
    def cache_bytes(self):
        """bytes of cost matrices kept under cache_mb (0: computed on the fly)"""
        return self._obj.cache_bytes

    def set_points(self, x=None, y=None):
        """Move the points (None = unchanged); solve() again afterwards.  The
        object keeps its precision: a single-precision object reads float32
        coordinates in place (others are converted to float32)."""
        x, y = points(x, "x"), points(y, "y")
        self._obj.set_points(x, y)
        self._solves += 1
        if y is not None:
            self._y = y

    def solve(self, a=None, b=None, grad=False, callback=None):
        """S_eps for weights a, b (None = uniform).  grad: False, True (all of
        a, b, x, y) or an iterable of the names wanted.  callback: as
        otkit.divergence's, for this solve.  -> DivergenceResult."""
        return self._solve(a, b, grad, 4, progress_callback(callback, False))

    def _solve(self, a, b, grad, stacklevel, progress=None):
        """progress: the callback as progress_callback wraps it, or None."""
        wanted = grad_names(grad)
        self._solves += 1
        info = self._obj.solve(a, b, progress)
        warn_not_converged(info["status"], "otkit.divergence", info["marginal_error"],
                           self._tol, self._max_iter, self._warn, stacklevel)
        grads = {k: getattr(self._obj, "grad_" + k)() for k in wanted}
        return DivergenceResult(info, grads, self)

    def potentials(self):
        """(f_ba, g_ab, f_aa, g_bb) of the last solve (GeomLoss gauge); the last
        two are None when debias is off."""
        return self._obj.potentials()

    def plan_apply(self, M, axis=0):
        """The plan of the cross problem of the last solve,
        pi_ab = a b exp((f_ba + g_ab - C_xy)/eps) (GeomLoss's, from the
        returned potentials: on the fixed schedule its marginals are a, b
        only up to the unconverged error): axis 0, pi_ab @ M with M (m, k) or
        (m,); axis 1, pi_ab.T @ M with M (n, k) or (n,).  Point clouds: no
        n x m array is formed (two passes over C_xy)."""
        M = np.asarray(M)
        if M.ndim == 1:
            return self._obj.plan_apply(M.reshape(-1, 1), axis)[:, 0]
        return self._obj.plan_apply(M, axis)

    def barycentric(self, Y=None):
        """The barycentric projection T(x_i) = sum_j pi_ij Y_j / sum_j pi_ij,
        (n, k); Y = None (point clouds) projects the target points y.  Rows
        without mass are NaN."""
        if Y is None:
            if self._y is None:
                raise ValueError("Y is required for a divergence on cost matrices")
            Y = self._y
        Y = np.asarray(Y)
        if Y.ndim == 1:
            return self._obj.barycentric(Y.reshape(-1, 1))[:, 0]
        return self._obj.barycentric(Y)

    def plan(self):
        """The dense plan pi_ab (n, m) of the last solve.  Allocates n*m doubles."""
        return self._obj.plan()

    def transport_cost(self):
        """<pi_ab, C_xy> of the last solve (cost units)."""
        return self._obj.transport_cost()

    def displacement_x(self):
        """dS/dx row i divided by a_i (n, d): the Wasserstein gradient-flow field."""
        return self._obj.displacement_x()

    def displacement_y(self):
        return self._obj.displacement_y()


def divergence(x, y, a=None, b=None, blur=None, p=None, cost=None, power=None, eps=None,
               reach=None, rho=None, scaling=0.5, debias=True, schedule="converge",
               update="auto", diameter=None, exponent=None, tol=1e-6, max_iter=10000,
               threads=0, grad=False, warn=True, cache_mb=0, dtype=None, relative_eps=None,
               relative_to=None, scale_cost=None, backend="auto", truncate=12.0, callback=None):
    """The debiased Sinkhorn divergence between point clouds (GeomLoss's
    SamplesLoss("sinkhorn")):

        S = OT(a,b) - OT(a,a)/2 - OT(b,b)/2 + eps/2 (sum a - sum b)^2,

    OT the entropic value in the KL convention.

    x (n, d), y (m, d)  points (1-D: points on a line); a, b weights (None = uniform).
             A batch of B independent problems: x (B, n, d), y (B, m, d),
             a (B, n), b (B, m); returns a DivergenceBatchResult with (B,)
             values and batched gradients, each problem equal to its own
             solve (unequal sizes: pad with zero weights, which is exact;
             relative_eps and scale_cost by a statistic take each problem's
             statistic, over its points of positive weight; with
             backend="multiscale" the clusters see the padding, and padding
             is exact to the tolerance only).
             Bad input in any problem raises before anything is solved,
             naming the problem ("a[3][7] = -0.25 is negative"); a problem
             that breaks down while solving raises, naming it; problems
             that reach max_iter have status 1 (one warning for all).
    p        the cost's exponent (eps = blur^p, rho = reach^p), as everywhere
             in otkit.  Without `cost` it picks GeomLoss's cost |x-y|^p / p
             (default p = 2: "half-sqeuclidean" |x-y|^2/2, NOT POT's |x-y|^2,
             kernel exp(-|x-y|^2/(2 blur^2)); p = 1: "euclidean").  With
             `cost` ("sqeuclidean", "half-sqeuclidean", "euclidean", "l1",
             "lp", "lp-over-p" with `power`) the exponent is the cost's own
             unless p overrides it (as in otkit.sinkhorn).  exponent= is its
             former name (deprecated).
    blur     a length, eps = blur^p (default 0.05); or eps in cost units.
    reach    unbalanced, a length: rho = reach^p; or rho in cost units.
             Giving both eps and blur, or both reach and rho, is a ValueError
             naming the two (whatever the values).
    relative_eps, relative_to, scale_cost   as otkit.sinkhorn (OTT's
             relative_epsilon and scale_cost), with the statistics of the
             cross cost C_xy; the same eps, rho and s serve the three problems.
    scaling  blur multiplied by scaling per annealing step, in (0, 1).
    debias   False: GeomLoss's debias=False value of (a, b) alone: balanced
             <a, f> + <b, g> = OT(a,b) - eps m (m - 1) for masses m (OT(a,b)
             when m = 1); unbalanced see otkit/divergence.h.
    schedule "converge" (default: anneal, then iterate to tol) or "fixed"
             (exactly GeomLoss's iterations, value and gradients; with the
             defaults blur=0.05, scaling=0.5 it is SamplesLoss's default).
    grad     False, True (all of a, b, x, y) or an iterable such as ("x",).
    cache_mb keep the cost matrices (C_xy, then C_xx, C_yy) in memory while
             they fit in cache_mb MiB in all, instead of recomputing them in
             every pass: the same result, faster from d ~ 8 (default 0:
             memory O((n+m) d)); a Divergence keeps them across set_points.
             The kept matrices are float64 (their soft-mins run in float64
             even for float32 clouds).
    dtype    precision: None (default) follows the clouds, float32 when x and
             y are both float32 arrays (read in place when C-contiguous: no
             float64 copy is made), float64 otherwise (a float32 cloud with a
             float64 one runs in float64); or np.float32 / np.float64 to force
             it.  In float32 the soft-mins compute costs, exponents and
             exponentials in float32 (docs/math.md A.7 measures the error:
             ~1e-7 relative on the value, ~1e-6 on gradients); gradients and
             potentials are returned as float32.  Weights stay float64.
    backend  "auto" (default), "online", "dense" or "multiscale" (otk_backend,
             docs/math.md A.11): multiscale clusters clouds in d <= 3, anneals on
             the clusters, then keeps only the blocks of cluster pairs that the
             truncation rule keeps; auto picks it for float64 clouds in d <= 3
             with n*m >= 1e8, online otherwise.  An object with backend dense or
             multiscale refuses set_points (it keeps its own copy of the
             points: build a new one).  Multiscale is float64 only: float32
             clouds with it raise OtkitError; auto runs them online.
    truncate multiscale: keep the blocks whose bound of f + g - C is >= -truncate*eps
             (> 0, math.inf keeps every block; default 12).  The result's
             truncation_bound bounds the dropped plan mass relative to the
             mass at the returned potentials; result.backend names the backend
             run.
    callback callback(iteration, eps, error), as otkit.sinkhorn's: called
             after every update that leaves the solve running (one update
             advances the three problems together), iteration counting all
             updates so far (annealing included), eps that update's eps,
             error the largest marginal error of the problems measured at
             the target eps (NaN while annealing).  Declaring a parameter
             `stage` (or **kwargs) adds stage="clusters" (backend
             "multiscale": the annealing on cluster centroids, first),
             "annealing" or "target".  A true return stops the solve:
             result.stopped, status 2, converged False, and the value and
             gradients of the potentials of that update (approximate).  An
             exception raised by the callback stops the solve and propagates.
             Not callable: TypeError.  The GIL is taken for each call.
             A batch: called after every update of every problem and once
             when each ends, with the keywords problem, done, status too
             when declared; a true return stops the batch, result.stopped,
             the running problems keeping the value and gradients of their
             last update, status 2 (as otkit.sinkhorn's for a batch).
    The GIL is released during the solve.  Returns a DivergenceResult
    (result.value, float(result)).  Bad input raises ValueError naming the
    argument; not converging warns otkit.ConvergenceWarning.
    """
    if is_batch(x, y):
        kw = _options(blur, p, cost, power, eps, reach, rho, scaling, debias, schedule, update,
                      diameter, exponent, tol, max_iter, threads, cache_mb, relative_eps,
                      relative_to, scale_cost, backend, truncate)
        return _divergence_batch(x, y, a, b, grad, warn, dtype, kw, callback)
    progress = progress_callback(callback, False)  # TypeError before anything is planned
    div = Divergence(x, y, blur=blur, p=p, cost=cost, power=power, eps=eps, reach=reach,
                     rho=rho, scaling=scaling, debias=debias, schedule=schedule, update=update,
                     diameter=diameter, exponent=exponent, tol=tol, max_iter=max_iter,
                     threads=threads, warn=warn, cache_mb=cache_mb, dtype=dtype,
                     relative_eps=relative_eps, relative_to=relative_to, scale_cost=scale_cost,
                     backend=backend, truncate=truncate)
    return div._solve(a, b, grad, 4, progress)


def _divergence_batch(x, y, a, b, grad, warn, dtype, kw, callback):
    """B problems in one call (otk_divergence_batch)."""
    wanted = grad_names(grad)
    callback = progress_callback(callback, True)
    single = single_precision(np.asarray(x), np.asarray(y), dtype)
    x, y, a, b = batch_arrays(x, y, a, b, single)
    info = _otkit.divergence_batch(x, y, a, b, single=single, grads="".join(wanted),
                                   callback=callback, **kw)
    status = info["status"]
    if np.any(status == _otkit.OTK_NOT_CONVERGED):
        warn_not_converged(_otkit.OTK_NOT_CONVERGED, "otkit.divergence (%d of %d problems)"
                           % (int(np.sum(status == _otkit.OTK_NOT_CONVERGED)), len(status)),
                           float(np.nanmax(info["marginal_error"])), kw["tol"], kw["max_iter"],
                           warn, stacklevel=4)
    grads = {}
    for k in wanted:
        g = info.pop("grad_" + k)
        grads[k] = g.astype(np.float32) if single else g
    return DivergenceBatchResult(info, grads)


def divergence_matrix(C_xy, C_xx=None, C_yy=None, a=None, b=None, eps=None, blur=None,
                      reach=None, rho=None, scaling=0.5, debias=True, schedule="converge",
                      update="auto", diameter=None, p=None, tol=1e-6, max_iter=10000,
                      threads=0, grad=False, warn=True, exponent=None, relative_eps=None,
                      relative_to=None, scale_cost=None, callback=None):
    """The Sinkhorn divergence on dense costs (POT-style matrices, cost units):

        S = OT(a,b) - OT(a,a)/2 - OT(b,b)/2 + eps/2 (sum a - sum b)^2

    with OT computed on C_xy (n, m), C_xx (n, n) and C_yy (m, m), the last two
    symmetric and required unless debias=False.  eps is in cost units (or
    blur with p: eps = blur^p, p=2 for squared distances; a matrix has no
    exponent, so blur or reach without p is a ValueError); rho or reach (with
    p) for the unbalanced case.  The schedule starts from the range of
    C_xy (or `diameter`).  grad: False, True or names among "a", "b" (the
    point gradients need point clouds: use divergence()).  callback: as
    otkit.divergence's (a single problem).  -> DivergenceResult."""
    if grad is True:
        grad = ("a", "b")
    progress = progress_callback(callback, False)
    div = Divergence.from_matrices(C_xy, C_xx, C_yy, eps=eps, blur=blur, reach=reach, rho=rho,
                                   scaling=scaling, debias=debias, schedule=schedule,
                                   update=update, diameter=diameter, p=p, exponent=exponent,
                                   tol=tol, max_iter=max_iter, threads=threads, warn=warn,
                                   relative_eps=relative_eps, relative_to=relative_to,
                                   scale_cost=scale_cost)
    return div._solve(a, b, grad, 4, progress)
