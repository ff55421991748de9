"""Transport maps fitted with the Sinkhorn divergence and the Monge gap
(otkit/mapfit.h): affine, residual MLP and entropic maps."""
import os
import warnings

import numpy as np

from . import _otkit
from ._common import exclusive, eps_blur
from ._common import (ConvergenceWarning, NOT_CONVERGED, points, schedule_code,
                      positive_or_zero, as_float, as_int)

__all__ = ["MapFit", "fit_map"]

_FAMILIES = ("affine", "mlp", "entropic")

# keyword -> converter of MapFit's fit options (None values keep the C defaults
# of otk_map_fit_params_default)
_FIT_OPTIONS = {
    "lam": lambda v: as_float(v, "lam"), "warmup": lambda v: as_int(v, "warmup"),
    "optimizer": str, "iters": lambda v: as_int(v, "iters"),
    "batch": lambda v: as_int(v, "batch"), "lr": lambda v: as_float(v, "lr"),
    "seed": lambda v: as_int(v, "seed"), "grad_tol": lambda v: as_float(v, "grad_tol"),
    "cost": str, "power": lambda v: as_float(v, "power"),
    "eps": lambda v: positive_or_zero(v, "eps"), "blur": lambda v: as_float(v, "blur"),
    "scaling": lambda v: as_float(v, "scaling"), "schedule": schedule_code,
    "tol": lambda v: as_float(v, "tol"), "max_iter": lambda v: as_int(v, "max_iter"),
    "mg_cost": str, "mg_power": lambda v: as_float(v, "mg_power"),
    "mg_eps": lambda v: positive_or_zero(v, "mg_eps"),
    "mg_relative_eps": lambda v: as_float(v, "mg_relative_eps"),
    "mg_tol": lambda v: as_float(v, "mg_tol"), "mg_max_iter": lambda v: as_int(v, "mg_max_iter"),
    "threads": lambda v: as_int(v, "threads"), "lr_schedule": str,
    "report_points": lambda v: as_int(v, "report_points"),
    "cache_mb": lambda v: as_float(v, "cache_mb"),
}


def _options(opts):
    out = {}
    for k, v in opts.items():
        if k not in _FIT_OPTIONS:
            raise TypeError("unknown fit option %r (expected one of %s)"
                            % (k, ", ".join(sorted(_FIT_OPTIONS))))
        if v is not None:
            out[k] = _FIT_OPTIONS[k](v)
    return out


class MapFit:
    """A transport map T pushing a source cloud onto a target cloud,
    fitted by minimising  S_eps(T#x, y) + lam * MongeGap(T)  (otkit/mapfit.h).

      MapFit("affine")                       T(x) = A x + b, from the identity
      MapFit("mlp", hidden=(64, 64), activation="gelu", seed=0)
                                             T(x) = x + MLP(x), near the identity
      MapFit("entropic", eps=... / blur=...) the entropic map (no training)

    fit(x, y, **options) fits (x (n, d) source, y (m, d) target, uniform
    weights) and returns self; the summary is in .result (loss, divergence,
    monge_gap, lambda, iterations, evaluations, inner_not_converged,
    grad_norm, status, and the settings used: blur, eps (the divergence's),
    monge_gap_eps, lambda_target).  Options (None = the library default;
    lam, blur/eps and mg_eps/mg_relative_eps unset are derived from the data
    as otkit/mapfit.h, "Derived settings", states: blur = s n_b^(-1/(d+4))
    with s the RMS distance of the points to their centroid and n_b the points
    per evaluation, lam = 0.1/d, mg_eps = 0.25 times the mean of the Monge
    gap's costs on the starting map, Adam's lr = 1e-3 s):
      lam (>= 0; OTT's regularizer_strength is 1), warmup (steps of a
      linear ramp of lam), optimizer ("auto": BFGS for affine, Adam for mlp;
      "bfgs", "adam"), iters, batch, lr, lr_schedule ("constant" or "cosine":
      lr·(1 + cos(pi k / iters))/2), seed, grad_tol, report_points (the
      summary is evaluated on the first report_points points of each cloud,
      default 4096, 0 = all);
      the divergence: cost (default "half-sqeuclidean", GeomLoss's p = 2),
      blur (a length) or eps, scaling, schedule, tol, max_iter;
      the Monge gap: mg_cost (default "sqeuclidean"), mg_eps (cost units,
      resolved once), mg_relative_eps (mg_eps = that factor times the std of
      its cost matrix; OTT's default is 0.05), mg_tol, mg_max_iter; threads;
      cache_mb (keep each evaluation's cost
      matrices in memory, up to cache_mb MiB for the divergence and as much
      for the Monge gap: the same fit, faster from d ~ 8; default 0).
    For "entropic": cost (default "sqeuclidean"), eps or blur, tol, max_iter.

    progress=f calls f(dict(iteration, loss, divergence, monge_gap, lambda,
    grad_norm)) after each iteration (with the GIL); a true return value stops
    the fit (result["stopped"] = 1), an exception stops it and propagates.
    apply(z) / T(z) maps points; params gets/sets the parameter vector theta
    (affine: A row-major then b; mlp: W_k row-major then c_k per layer);
    save(path) writes the model file of `otk fit-map` (atomically) and
    MapFit.load(path) reads one.  The GIL is released during fit and apply.
    A second fit() continues from the current parameters (e.g. a fit on a
    subsample, then on all points; give mg_eps, as a derived or relative
    Monge-gap eps is resolved on the map at hand, and blur, derived from the
    points at hand).
    """

    def __init__(self, family="affine", dim=None, hidden=(64, 64), activation="gelu", seed=0,
                 **options):
        if family not in _FAMILIES:
            raise ValueError("family = %r is not one of 'affine', 'mlp', 'entropic'"
                             % (family,))
        self.family = family
        self.hidden = tuple(as_int(w, "hidden") for w in hidden)
        self.activation = activation
        self.seed = as_int(seed, "seed")
        self.options = dict(options)
        self.result = None
        self._map = None
        if dim is not None and family != "entropic":
            self._alloc(as_int(dim, "dim"))

    def _alloc(self, d):
        if self.family == "affine":
            self._map = _otkit.map_affine(d)
        else:
            self._map = _otkit.map_mlp(d, self.hidden, self.activation, self.seed)

    @classmethod
    def _wrap(cls, impl):
        info = impl.info()
        obj = cls.__new__(cls)
        obj.family = info["family"]
        obj.hidden = info["hidden"]
        obj.activation = info["activation"] or None
        obj.seed = None
        obj.options = {}
        obj.result = None
        obj._map = impl
        return obj

    def _need(self):
        if self._map is None:
            raise RuntimeError("the map is not fitted yet: call fit(x, y) first")
        return self._map

    def fit(self, x, y, warn=True, progress=None, **options):
        x = points(x, "x")
        y = points(y, "y")
        opts = dict(self.options)
        opts.update(options)
        if self.family == "entropic":
            allowed = {"cost", "power", "eps", "blur", "tol", "max_iter", "threads"}
            bad = set(k for k, v in opts.items() if v is not None) - allowed
            if bad:
                raise ValueError("option(s) %s do not apply to an entropic map"
                                 % ", ".join(sorted(bad)))
            if progress is not None:
                raise ValueError("progress: an entropic map has no training iterations")
            scale = eps_blur(opts.get("eps"), opts.get("blur"))
            self._map, status = _otkit.map_fit_entropic(
                x, y, opts.get("cost") or "sqeuclidean",
                as_float(opts.get("power") or 0.0, "power"),
                scale["eps"], scale["blur"],
                1e-6 if opts.get("tol") is None else as_float(opts["tol"], "tol"),
                10000 if opts.get("max_iter") is None else as_int(opts["max_iter"], "max_iter"),
                as_int(opts.get("threads") or 0, "threads"))
            self.result = {"status": status}
        else:
            if self._map is None:
                if getattr(x, "ndim", 0) != 2:
                    raise ValueError("x must be a 2-D array of points")
                self._alloc(x.shape[1])
            exclusive("eps", opts.get("eps"), "blur", opts.get("blur"))
            kw = _options(opts)
            self.result = self._map.fit(x, y, progress=progress, **kw)
            status = self.result["status"]
        if warn and status == NOT_CONVERGED:
            warnings.warn(ConvergenceWarning(
                "otkit.MapFit.fit (%s) stopped at its iteration limit (the last iterate is "
                "kept)" % self.family), stacklevel=2)
        return self

    def objective(self, x, y, grad=False, **options):
        """(value, grad_theta or None, parts) of S + lam M at the current
        parameters on the full batch (validation loss, gradient checks)."""
        opts = dict(self.options)
        opts.update(options)
        return self._need().objective(points(x, "x"), points(y, "y"), grad=bool(grad),
                                      **_options(opts))

    def apply(self, z, threads=0):
        """T(z) for z (k, d), or one point (d,)."""
        impl = self._need()
        z = z if isinstance(z, np.ndarray) else np.asarray(z)
        if z.ndim == 1:
            d = impl.info()["dim"]
            if d == 1:
                return impl.apply(z.reshape(-1, 1), as_int(threads, "threads"))[:, 0]
            return impl.apply(z.reshape(1, -1), as_int(threads, "threads"))[0]
        return impl.apply(z, as_int(threads, "threads"))

    __call__ = apply

    @property
    def params(self):
        """A copy of the parameter vector theta (not for entropic maps)."""
        return self._need().get_params()

    @params.setter
    def params(self, theta):
        self._need().set_params(theta)

    @property
    def dim(self):
        return self._need().info()["dim"]

    @property
    def n_params(self):
        return self._need().info()["n_params"]

    def save(self, path):
        """Write the model file (otk_map_save; `otk apply-map` reads it)."""
        self._need().save(os.fspath(path))

    @classmethod
    def load(cls, path):
        """Read a model file written by save() or `otk fit-map`."""
        return cls._wrap(_otkit.map_load(os.fspath(path)))

    def __repr__(self):
        if self._map is None:
            return "MapFit(%r, unfitted)" % self.family
        info = self._map.info()
        return "MapFit(%r, dim=%d, n_params=%d)" % (info["family"], info["dim"],
                                                   info["n_params"])


def fit_map(x, y, family="affine", hidden=(64, 64), activation="gelu", seed=0, warn=True,
            progress=None, **options):
    """Fit and return a MapFit (see MapFit for the families and options):
    otkit.fit_map(x, y, family="affine") (settings derived from the data) or
    otkit.fit_map(x, y, lam=0.01, blur=0.2, mg_eps=1.0).  seed is the MLP's
    initialisation and, as in `otk fit-map --seed`, the mini-batch draws
    (unless a fit option seed is given)."""
    if family != "entropic":
        options.setdefault("seed", seed)
    return MapFit(family, hidden=hidden, activation=activation, seed=seed).fit(
        x, y, warn=warn, progress=progress, **options)
