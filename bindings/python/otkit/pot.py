"""POT-compatible front door: ``import otkit.pot as ot``.

The functions otkit covers, with POT's names, argument names and return
conventions (POT 0.8/0.9), solved by otkit's log-domain Sinkhorn:

    sinkhorn(a, b, M, reg, ...)                    -> plan (n, m) [, log]
    sinkhorn2(a, b, M, reg, ...)                   -> <plan, M>   [, log]
    sinkhorn_unbalanced(a, b, M, reg, reg_m, ...)  -> plan        [, log]
    sinkhorn_unbalanced2(a, b, M, reg, reg_m, ...) -> <plan, M>   [, log]
    dist(x1, x2, metric="sqeuclidean")             -> the cost matrix
    emd(a, b, M, numItermax=100000, log=False)     -> exact plan (n, m) [, log]
    emd2(a, b, M, numItermax=100000, log=False)    -> <plan, M>        [, log]
    wasserstein_1d(u_values, v_values, u_weights, v_weights, p)  -> W_p^p
    sliced_wasserstein_distance(X_s, X_t, a, b, n_projections, p, projections,
                                seed, log)         -> SW_p          [, log]

``a`` or ``b`` empty (``[]``) means uniform weights, as in POT; ``b`` of shape
(m, k) solves k problems and the ``2`` functions return k values.

What is the same: the optimal plan of POT's problem (balanced: min <P, M> +
reg * sum P log P on the transport polytope; unbalanced: the same plus
reg_m * (KL(P 1 | a) + KL(P^T 1 | b)), POT 0.8's entropic form), hence the
returned plans and values agree with POT's converged ones.  ``log=True``
returns POT's keys: ``err`` (a one-element list: otkit's final marginal
error), ``niter``, and the scalings ``log_u``, ``log_v`` (POT's
``sinkhorn_log`` gauge) and ``u``, ``v`` (``exp`` of those, POT's
``sinkhorn_knopp`` gauge; may overflow to inf for tiny reg, which is why
``sinkhorn_log`` exists).

What differs, by design:

* ``stopThr`` is otkit's tolerance: the relative L1 error of *both*
  marginals (POT checks the L2 error of one marginal every 10 iterations),
  so a stop at the same number is at least as converged.  ``numItermax``
  bounds the iterations at the target reg; otkit anneals reg first
  (GeomLoss's schedule), which changes the iteration count, not the answer.
* ``method`` may be any of POT's methods that solve this problem exactly —
  "sinkhorn", "sinkhorn_log", "sinkhorn_stabilized",
  "sinkhorn_epsilon_scaling" — and all run otkit's log-domain solver (stable
  for every reg).  Approximate methods ("greenkhorn", "screenkhorn") raise
  ValueError rather than silently computing something else.
* Not reaching stopThr warns ``otkit.ConvergenceWarning`` (POT:
  UserWarning) when ``warn`` is true; the best iterate is returned.

The exact end (otkit's network simplex, docs/exact.md): ``emd``/``emd2``
return the same optimal value as POT's (LEMON's network simplex) to rounding;
where the optimal plan is not unique the plan may be another optimal vertex.
``numItermax`` caps otkit's simplex pivots (as POT's caps LEMON's); the duals
are always centred (POT's ``center_dual=True``), ``center_dual=False`` gives
the same centred pair.  ``sliced_wasserstein_distance`` follows POT exactly:
its own ``projections`` (d, L) are used as given (not normalised), the sum is
divided by ``n_projections``, and without ``projections`` the directions are
POT's ``get_random_projections`` (``np.random.RandomState(seed)`` Gaussian
columns, normalised), so the value equals POT's for the same ``seed``.
"""
import math
import warnings

import numpy as np

from ._common import ConvergenceWarning
from ._sinkhorn import sinkhorn as _otk_sinkhorn
from . import _exact

__all__ = ["sinkhorn", "sinkhorn2", "sinkhorn_unbalanced", "sinkhorn_unbalanced2", "dist",
           "emd", "emd2", "wasserstein_1d", "sliced_wasserstein_distance"]

_EXACT_METHODS = ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "sinkhorn_epsilon_scaling",
                  "sinkhorn_knopp")


def _weights(w, size, name):
    if w is None or len(w) == 0:
        return np.full(size, 1.0 / size)
    w = np.asarray(w, dtype=np.float64)
    if w.shape[0] != size:
        raise ValueError("%s has %d entries but M has %d %s" %
                         (name, w.shape[0], size, "rows" if name == "a" else "columns"))
    return w


def _check(M, reg, method):
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError("M must be a 2-D cost matrix, got shape %s" % (M.shape,))
    if method not in _EXACT_METHODS:
        raise ValueError("method = %r: otkit.pot solves the exact entropic problem (%s); "
                         "use POT itself for approximate solvers" %
                         (method, ", ".join(_EXACT_METHODS)))
    reg = float(reg)
    if not (reg > 0 and math.isfinite(reg)):
        raise ValueError("reg = %r must be finite and > 0" % (reg,))
    return M, reg


def _solve_one(a, b, M, reg, rho, numItermax, stopThr, warn, kwargs):
    threads = int(kwargs.pop("threads", 0))
    if kwargs:
        raise TypeError("unexpected keyword arguments: %s" % ", ".join(sorted(kwargs)))
    C = M
    if rho is not None:
        # POT's unbalanced problem regularises with reg * sum P (log P - 1)
        # where otkit's uses reg * KL(P | a x b): equal up to the linear term
        # <P, reg (log a_i + log b_j)>, moved into the cost here.
        with np.errstate(divide="ignore"):
            la, lb = np.log(a), np.log(b)
        if not (np.all(np.isfinite(la)) and np.all(np.isfinite(lb))):
            raise ValueError("sinkhorn_unbalanced: a and b must be positive (a zero weight "
                             "has no place in POT's unbalanced scaling either)")
        C = M + reg * (la[:, None] + lb[None, :])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = _otk_sinkhorn(a, b, C=C, eps=reg, tol=stopThr, max_iter=numItermax,
                            rho=rho, threads=threads, warn=False)
    if not res.converged and warn:
        warnings.warn("otkit.pot: Sinkhorn did not reach stopThr = %g in numItermax = %d "
                      "iterations (marginal error %.3g); the best iterate is returned"
                      % (stopThr, numItermax, res.marginal_error), ConvergenceWarning,
                      stacklevel=3)
    plan = res.plan()
    f, g = res.potentials(gauge="pot")
    if rho is not None:  # back to the scalings of M's kernel: u = u' / a, v = v' / b
        f, g = f - la, g - lb
    log = {"err": [res.marginal_error], "niter": res.iterations, "log_u": f, "log_v": g}
    with np.errstate(over="ignore"):
        log["u"], log["v"] = np.exp(f), np.exp(g)
    return plan, log


def _run(a, b, M, reg, rho, method, numItermax, stopThr, log, warn, kwargs, value):
    M, reg = _check(M, reg, method)
    n, m = M.shape
    a = _weights(a, n, "a")
    bb = None if b is None else np.asarray(b, dtype=np.float64)
    if bb is not None and bb.ndim == 2 and bb.shape[0] == m and bb.size and bb.shape[1] >= 1:
        outs = [_solve_one(a, bb[:, k].copy(), M, reg, rho, numItermax, stopThr, warn,
                           dict(kwargs)) for k in range(bb.shape[1])]
        if not value:
            raise ValueError("b with several histograms is for sinkhorn2 and "
                             "sinkhorn_unbalanced2 (as in POT)")
        vals = np.array([float(np.sum(P * M)) for P, _ in outs])
        if log:
            return vals, {"err": [o[1]["err"][0] for o in outs],
                          "niter": [o[1]["niter"] for o in outs]}
        return vals
    b = _weights(b, m, "b")
    plan, lg = _solve_one(a, b, M, reg, rho, numItermax, stopThr, warn, dict(kwargs))
    out = float(np.sum(plan * M)) if value else plan
    return (out, lg) if log else out


def sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False,
             log=False, warn=True, **kwargs):
    """POT's ``ot.sinkhorn``: the entropic optimal plan (n, m) for weights a,
    b, cost matrix M and regularisation reg (cost units; otkit's eps).
    ``threads=`` (otkit's) may be passed as a keyword."""
    return _run(a, b, M, reg, None, method, numItermax, stopThr, log, warn, kwargs, False)


def sinkhorn2(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False,
              log=False, warn=False, **kwargs):
    """POT's ``ot.sinkhorn2``: <P, M> at the entropic optimal plan (otkit's
    OT_lin); b of shape (m, k) gives k values."""
    return _run(a, b, M, reg, None, method, numItermax, stopThr, log, warn, kwargs, True)


def sinkhorn_unbalanced(a, b, M, reg, reg_m, method="sinkhorn", numItermax=1000, stopThr=1e-6,
                        verbose=False, log=False, **kwargs):
    """POT's ``ot.sinkhorn_unbalanced``: the plan of the KL-relaxed problem,
    reg_m the marginal penalty (otkit's rho, cost units)."""
    warn = kwargs.pop("warn", True)
    return _run(a, b, M, reg, _rho(reg_m), method, numItermax, stopThr, log, warn, kwargs, False)


def sinkhorn_unbalanced2(a, b, M, reg, reg_m, method="sinkhorn", numItermax=1000, stopThr=1e-6,
                         verbose=False, log=False, **kwargs):
    """POT's ``ot.sinkhorn_unbalanced2``: <P, M> at that plan."""
    warn = kwargs.pop("warn", False)
    return _run(a, b, M, reg, _rho(reg_m), method, numItermax, stopThr, log, warn, kwargs, True)


def _rho(reg_m):
    reg_m = float(reg_m)
    if not reg_m > 0:
        raise ValueError("reg_m = %r must be > 0 (inf: balanced)" % (reg_m,))
    return reg_m


def dist(x1, x2=None, metric="sqeuclidean"):
    """POT's ``ot.dist``: the cost matrix between the rows of x1 and x2 (x1
    when x2 is None) for "sqeuclidean" (default, |x-y|^2), "euclidean" and
    "cityblock" (l1); computed as otkit's point-cloud costs define them."""
    x1 = np.asarray(x1, dtype=np.float64)
    x2 = x1 if x2 is None else np.asarray(x2, dtype=np.float64)
    if x1.ndim == 1:
        x1 = x1[:, None]
    if x2.ndim == 1:
        x2 = x2[:, None]
    if x1.shape[1] != x2.shape[1]:
        raise ValueError("x1 and x2 have %d and %d columns" % (x1.shape[1], x2.shape[1]))
    diff = x1[:, None, :] - x2[None, :, :]
    if metric == "sqeuclidean":
        return np.sum(diff * diff, axis=2)
    if metric == "euclidean":
        return np.sqrt(np.sum(diff * diff, axis=2))
    if metric == "cityblock":
        return np.sum(np.abs(diff), axis=2)
    raise ValueError("metric = %r is not one of 'sqeuclidean', 'euclidean', 'cityblock'"
                     % (metric,))


def emd(a, b, M, numItermax=100000, log=False, center_dual=True, numThreads=1):
    """POT's ``ot.emd``: the exact optimal plan (n, m), by otkit's network
    simplex; ``log=True`` adds POT's dict (cost, u, v, warning, result_code).
    Masses may differ by 1e-6 relative, about what POT's own check allows."""
    return _exact.emd(a, b, M, max_iter=int(numItermax), log=log, mass_tol=1e-6)


def emd2(a, b, M, processes=1, numItermax=100000, log=False, return_matrix=False,
         center_dual=True, numThreads=1):
    """POT's ``ot.emd2``: the exact optimal value <G, M> (a float);
    ``log=True`` returns (value, dict), with the plan as log["G"] when
    return_matrix."""
    G, lg = _exact.emd(a, b, M, max_iter=int(numItermax), log=True, mass_tol=1e-6)
    if return_matrix:
        lg["G"] = G
    return (lg["cost"], lg) if log else lg["cost"]


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p=1, require_sort=True):
    """POT's ``ot.wasserstein_1d``: W_p^p (not W_p) on the line."""
    return _exact.wasserstein_1d(u_values, v_values, u_weights, v_weights, p)


def sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2,
                                projections=None, seed=None, log=False):
    """POT's ``ot.sliced_wasserstein_distance``: SW_p over POT's directions
    (see the module's docstring), each projected W_p^p by otkit."""
    X_s = np.asarray(X_s, dtype=np.float64)
    X_t = np.asarray(X_t, dtype=np.float64)
    if X_s.ndim != 2 or X_t.ndim != 2 or X_s.shape[1] != X_t.shape[1]:
        raise ValueError("X_s %s and X_t %s must be (n, d) and (m, d) with the same d"
                         % (X_s.shape, X_t.shape))
    d = X_s.shape[1]
    if projections is None:
        projections = np.random.RandomState(seed).randn(d, int(n_projections))
        projections = projections / np.sqrt(np.sum(projections ** 2, 0, keepdims=True))
    projections = np.asarray(projections, dtype=np.float64)
    if projections.ndim != 2 or projections.shape[0] != d:
        raise ValueError("projections must be (d, L) = (%d, L), got shape %s"
                         % (d, projections.shape))
    r = _exact.sliced_wasserstein(X_s, X_t, a, b, p=p, projections=projections)
    # otkit normalises each direction; POT projects on them as given, which
    # scales the projected W_p^p by |theta_l|^p.
    p = float(p)
    emds = r.projected * np.sum(projections ** 2, axis=0) ** (p / 2)
    value = (np.sum(emds) / n_projections) ** (1.0 / p)
    if log:
        return value, {"projections": projections, "projected_emds": emds}
    return value
