"""The Monge gap (otkit/monge_gap.h) and the entropic map estimator
(otkit/entropic_map.h)."""
import warnings

import numpy as np

from . import _otkit
from ._common import eps_blur, exclusive, scale_options
from ._common import (ConvergenceWarning, NOT_CONVERGED, points, schedule_code, positive_or_zero, warn_not_converged, choice,
                      as_float, as_int, backend_code)

__all__ = ["monge_gap", "MongeGapResult", "EntropicMap"]



class MongeGapResult:
    """The result of otkit.monge_gap() (cost units throughout).

      monge_gap       M = displacement - ot_ent (>= lower_bound up to tol)
      displacement    sum_i w_i c(x_i, T(x_i))
      ot_ent          entropic OT value between (x, w) and (T(x), w), OTT's
                      ent_reg_cost convention (<P,C> - eps H(P))
      eps             the eps used (absolute, or relative_eps * std/mean of C)
      lower_bound     eps * H(w) (eps log n for uniform weights)
      iterations, marginal_error, status (0, or 1 = OTK_NOT_CONVERGED)
      backend         the backend run ("online", "dense" or "multiscale")
      truncation_bound  multiscale: bound on the plan mass of the dropped
                      blocks at the returned potentials (0 otherwise)
      grad_tx, grad_x dM/dtx and dM/dx (n, d) when asked for, else None
                      (envelope gradients at fixed eps and w)
    """

    def __init__(self, info):
        for k, v in info.items():
            setattr(self, k, v)

    @property
    def converged(self):
        return self.status == 0

    def __float__(self):
        return float(self.monge_gap)

    def __repr__(self):
        return ("MongeGapResult(monge_gap=%.10g, displacement=%.10g, ot_ent=%.10g, eps=%g, "
                "lower_bound=%.6g, iterations=%d, marginal_error=%.3g)"
                % (self.monge_gap, self.displacement, self.ot_ent, self.eps, self.lower_bound,
                   self.iterations, self.marginal_error))


def monge_gap(x, tx, w=None, cost="sqeuclidean", power=None, eps=None, relative_eps=None,
              relative_to="std", tol=1e-6, max_iter=10000, threads=0, grad=False,
              grad_x=False, warn=True, cache_mb=0, backend="auto", truncate=12.0):
    """The empirical Monge gap of a map T from samples x (n, d) and their
    images tx = T(x) (n, d) (Uscidda & Cuturi 2023; otkit/monge_gap.h).

    The name and arguments mirror OTT's monge_gap_from_samples(source, target,
    cost_fn, epsilon, relative_epsilon): with neither eps nor relative_eps,
    relative_eps=0.05 and relative_to="std" is OTT's default (eps = 0.05 * std
    of the n x n cost matrix C_ij = c(x_i, T(x_j)), computed without forming
    it; relative_to "mean", "max_cost" and "median" are the other statistics,
    as otkit.sinkhorn); eps= gives an absolute value in cost units.  eps and relative_eps
    exclude each other.  The ground cost defaults to "sqeuclidean"
    |x-y|^2 (OTT's default); see otkit.sinkhorn for the others.

    w        source weights (n, non-negative, sum 1); None = uniform 1/n.
    grad     also return grad_tx = dM/dtx (n, d);  grad_x: also dM/dx.
             Envelope gradients at the final potentials, eps held fixed (as
             OTT's stop_gradient on the cost statistic), weights fixed.
    tol, max_iter   Sinkhorn's relative L1 marginal tolerance and limit
             (alternating updates at the target eps, no annealing, as OTT).
    cache_mb keep the n x n cost matrix in memory when it fits in cache_mb MiB
             instead of recomputing it in every Sinkhorn pass: the same
             result, faster from d ~ 8 (default 0: memory O(n d)).
    backend  "auto" (default), "online", "dense" or "multiscale" (otk_backend,
             otkit/monge_gap.h): auto is multiscale for d <= 3, a cost other
             than l1 and n >= 10**4 (n**2 >= 1e8), online otherwise.  The
             multiscale backend clusters x and tx, anneals eps on the clusters
             down to the target (same fixed point) and runs the target
             iterations and the gradients over the kept blocks of cluster
             pairs only (d <= 3, not the l1 cost).
    truncate multiscale: keep the blocks whose bound of f + g - C is >=
             -truncate*eps (> 0, math.inf keeps every block; default 12);
             result.truncation_bound bounds the dropped plan mass.

    The GIL is released.  Returns a MongeGapResult; warns ConvergenceWarning
    when max_iter is reached (the best iterate is returned).
    """
    exclusive("eps", eps, "relative_eps", relative_eps)
    if relative_eps is None:
        relative_eps = 0.05
    if eps is not None and not as_float(eps, "eps") > 0.0:
        raise ValueError("eps = %r must be > 0 (or None for a relative eps)" % (eps,))
    info = _otkit.monge_gap(
        points(x, "x"), points(tx, "tx"), w, cost=cost,
        power=0.0 if power is None else as_float(power, "power"),
        eps=positive_or_zero(eps, "eps"), relative_eps=as_float(relative_eps, "relative_eps"),
        relative_to=choice(relative_to, "relative_to", "relative_to"), tol=as_float(tol, "tol"),
        max_iter=as_int(max_iter, "max_iter"), threads=as_int(threads, "threads"),
        grad_tx=bool(grad), grad_x=bool(grad_x), cache_mb=as_float(cache_mb, "cache_mb"),
        backend=backend_code(backend), truncate=as_float(truncate, "truncate"))
    warn_not_converged(info["status"], "otkit.monge_gap", info["marginal_error"], tol, max_iter,
                       warn)
    return MongeGapResult(info)


class EntropicMap:
    """The entropic map estimator T (Pooladian & Niles-Weed 2021;
    otkit/entropic_map.h): the barycentric projection of the entropic plan
    between (x, a) and (y, b), extended to any z through the target potential g:

        T(z) = sum_j b_j exp((g_j - c(z, y_j))/eps) y_j / sum_j b_j exp((g_j - c(z, y_j))/eps).

    Fit with EntropicMap.fit(x, y, a=None, b=None, eps=None, blur=None,
    cost="sqeuclidean"); apply with T.apply(z) or T(z); T.data() gives what
    defines the map (y, b, g, eps, cost, power) and EntropicMap.from_data(**d)
    rebuilds an identical one.  A fitted map is read-only: apply may run in
    several threads at once (the GIL is released).
    """

    def __init__(self, _impl):
        self._impl = _impl
        d = _impl.data()
        self.eps = d["eps"]
        self.cost = d["cost"]
        self.status = d["status"]
        self.dim = d["y"].shape[1]

    @classmethod
    def fit(cls, x, y, a=None, b=None, eps=None, blur=None, cost="sqeuclidean", power=None,
            schedule="converge", scaling=0.5, tol=1e-6, max_iter=10000, threads=0, warn=True,
            relative_eps=None, relative_to=None, scale_cost=None):
        """Solve balanced entropic OT between x (n, d) and y (m, d) and keep
        y, b, g.  eps in cost units (POT's reg) or blur, a length (eps =
        blur**p, p the cost's exponent); default blur = 0.05 as otkit.sinkhorn.
        relative_eps, relative_to, scale_cost as otkit.sinkhorn (OTT's
        relative_epsilon and scale_cost); the map keeps eps in units of C."""
        impl = _otkit.EntropicMap(
            x=points(x, "x"), y=points(y, "y"), a=a, b=b, cost=cost,
            power=0.0 if power is None else as_float(power, "power"),
            **eps_blur(eps, blur),
            schedule=schedule_code(schedule), scaling=as_float(scaling, "scaling"),
            tol=as_float(tol, "tol"), max_iter=as_int(max_iter, "max_iter"),
            threads=as_int(threads, "threads"),
            **scale_options(eps, blur, relative_eps, relative_to, scale_cost))
        T = cls(impl)
        if warn and T.status == NOT_CONVERGED:
            warnings.warn(ConvergenceWarning(
                "otkit.EntropicMap.fit: Sinkhorn stopped at max_iter = %d before tol = %g (the "
                "map is built from the best iterate)" % (max_iter, tol)), stacklevel=2)
        return T

    @classmethod
    def from_data(cls, y, g, eps, b=None, cost="sqeuclidean", power=0.0, **ignored):
        """Rebuild a map from EntropicMap.data() (it applies bitwise alike)."""
        return cls(_otkit.EntropicMap(y=points(y, "y"), b=b, g=g, eps=as_float(eps, "eps"),
                                      cost=cost, power=as_float(power, "power")))

    def apply(self, z, threads=0):
        """T(z) for z (k, d) (or (d,) for one point; 1-D maps take (k,))."""
        z = np.asarray(z) if not isinstance(z, np.ndarray) else z
        dim = self.dim
        if z.ndim == 1:
            if dim == 1:
                return self._impl.apply(z.reshape(-1, 1), as_int(threads, "threads"))[:, 0]
            return self._impl.apply(z.reshape(1, -1), as_int(threads, "threads"))[0]
        return self._impl.apply(z, as_int(threads, "threads"))

    __call__ = apply

    def data(self):
        """dict(y, b, g, eps, cost, power, status): copies of what defines T."""
        return self._impl.data()

    def __repr__(self):
        d = self._impl.data()
        return "EntropicMap(m=%d, d=%d, eps=%g, cost=%r)" % (d["y"].shape[0], d["y"].shape[1],
                                                            d["eps"], d["cost"])
