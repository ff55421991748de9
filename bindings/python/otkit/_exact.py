"""Exact optimal transport (network simplex), 1-D Wasserstein distances by
sorting and the sliced Wasserstein distance, with POT's names, signatures and
return conventions (otkit/emd.h, otkit/sliced.h; formulas and conventions in
docs/exact.md)."""
import warnings
from collections import namedtuple

import numpy as np

from . import _otkit
from ._common import ConvergenceWarning, NOT_CONVERGED, as_float, as_int

__all__ = ["emd", "emd2", "wasserstein_1d", "sliced_wasserstein_distance",
           "sliced_wasserstein", "W1dResult", "SlicedResult", "DIRECTIONS"]

# The library's table (otkit/sliced.h), in value order.
DIRECTIONS = _otkit.names("directions")

W1dResult = namedtuple("W1dResult", "value grad_u grad_v grad_u_weights grad_v_weights")
W1dResult.__doc__ = """(value, grad_u, grad_v, grad_u_weights, grad_v_weights): W_p^p and its
gradients w.r.t. the positions and the (unnormalised) weights of both sides."""

SlicedResult = namedtuple("SlicedResult", "value value_p max_value directions projected "
                                          "grad_X grad_Y grad_a grad_b")
SlicedResult.__doc__ = """SW_p, SW_p^p, the largest projected W_p, the (L, d) unit directions,
the L projected W_p^p, and the gradients of SW_p^p (not SW_p) w.r.t. X, Y, a,
b (None unless grad=True)."""

# POT's result codes (ot.lp.emd's log["result_code"]).
_POT_OPTIMAL, _POT_MAX_ITER_REACHED = 1, 3


def _weights(w):
    """POT's convention: None or an empty list means uniform (None for the library)."""
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    return None if w.size == 0 else w


def _emd(a, b, M, max_iter, mass_tol, warn):
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError("M must be a 2-D (n, m) cost matrix, got shape %s" % (M.shape,))
    max_iter = as_int(max_iter, "max_iter")
    if max_iter < 0:
        raise ValueError("max_iter = %d must be >= 0 (0: no cap)" % max_iter)
    r = _otkit.emd(_weights(a), _weights(b), M, max_iter=max_iter,
                   mass_tol=as_float(mass_tol, "mass_tol"))
    warning = None
    if r["status"] == NOT_CONVERGED:
        warning = ("the network simplex stopped at max_iter = %d pivots before optimality: "
                   "the plan may not meet the marginals" % max_iter)
        if warn:
            warnings.warn(ConvergenceWarning(warning), stacklevel=3)
    log = {"cost": r["value"], "u": r["u"], "v": r["v"], "warning": warning,
           "result_code": _POT_MAX_ITER_REACHED if warning else _POT_OPTIMAL,
           "dual_value": r["dual_value"], "iterations": r["iterations"],
           "plan": (r["rows"], r["cols"], r["mass"])}
    return M.shape, log


def emd(a, b, M, max_iter=0, log=False, mass_tol=1e-9, warn=True):
    """The optimal plan of the exact OT problem min <G, M> over G >= 0 with
    G 1 = a, G^T 1 = b (POT's ot.emd): a dense (n, m) array with at most
    n + m - 1 nonzero entries, by otkit's network simplex.

    a, b: weights (None or [] = uniform); their sums must agree to mass_tol
      (relative; not necessarily 1).  Zero weights are allowed.
    M: the (n, m) cost matrix (finite; any sign).  For point clouds pass
      otkit.pot.dist(x, y) (squared Euclidean, POT's default).
    max_iter: at most this many simplex pivots (0 = no cap); when reached, a
      ConvergenceWarning (if warn) and the last basis.
    log: also return a dict with POT's keys "cost", "u", "v" (dual potentials,
      u_i + v_j <= M_ij with equality on the plan's support, centred so that
      <a, u> = <b, v>, POT's center_dual), "warning", "result_code" (1 optimal,
      3 max_iter reached), and otkit's "dual_value", "iterations", "plan"
      (the sparse plan as (rows, cols, mass), sorted by row then column).
    Unequal masses, negative or non-finite input raise ValueError naming the
    argument (and index)."""
    shape, lg = _emd(a, b, M, max_iter, mass_tol, warn)
    G = np.zeros(shape)
    rows, cols, mass = lg["plan"]
    G[rows, cols] = mass
    return (G, lg) if log else G


def emd2(a, b, M, max_iter=0, log=False, mass_tol=1e-9, warn=True):
    """The optimal value <G, M> of the exact OT problem (POT's ot.emd2): in cost
    units (for squared Euclidean costs W_2^2, not W_2).  Arguments as for
    otkit.emd; log=True returns (value, log) with the same dict."""
    _, lg = _emd(a, b, M, max_iter, mass_tol, warn)
    return (lg["cost"], lg) if log else lg["cost"]


def _line(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("%s must be 1-D here, got shape %s" % (name, x.shape))
    return x


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p=1, grad=False):
    """W_p^p between two weighted distributions on the line (POT's
    ot.wasserstein_1d, which also returns W_p^p, not W_p): the integral of
    |F^-1(t) - G^-1(t)|^p over t in [0, 1], by sorting.

    u_values (n,), v_values (m,): positions; u_weights, v_weights: weights
      (None = uniform), normalised to mass 1.  (n, k) and (m, k) values give
      k independent problems (weights then (n,) or (n, k)) and a (k,) array.
    p: >= 1.
    grad: also return the gradients w.r.t. positions and (unnormalised)
      weights: a W1dResult (1-D inputs only)."""
    p = as_float(p, "p")
    u = np.asarray(u_values, dtype=np.float64)
    v = np.asarray(v_values, dtype=np.float64)
    if u.ndim == 2 or v.ndim == 2:
        if grad:
            raise ValueError("grad=True takes 1-D u_values and v_values")
        if u.ndim != 2 or v.ndim != 2 or u.shape[1] != v.shape[1]:
            raise ValueError("u_values %s and v_values %s: for k problems both must be 2-D "
                             "with k columns" % (u.shape, v.shape))

        def column(w, k):
            w = _weights(w)
            return None if w is None else (w[:, k] if w.ndim == 2 else w)
        return np.array([_otkit.wasserstein_1d(u[:, k], v[:, k], column(u_weights, k),
                                               column(v_weights, k), p=p)[0]
                         for k in range(u.shape[1])])
    r = _otkit.wasserstein_1d(_line(u, "u_values"), _line(v, "v_values"), _weights(u_weights),
                              _weights(v_weights), p=p, grad=bool(grad))
    return W1dResult(*r) if grad else r[0]


def sliced_wasserstein(X_s, X_t, a=None, b=None, n_projections=50, p=2, projections=None,
                       seed=None, directions="gaussian", grad=False):
    """The sliced Wasserstein distance with everything otkit computes: a
    SlicedResult.  Arguments as for sliced_wasserstein_distance, plus
    directions ("gaussian" or "halton", when projections is None) and grad
    (the gradients of SW_p^p w.r.t. X_s, X_t, a, b)."""
    X = np.asarray(X_s, dtype=np.float64)
    Y = np.asarray(X_t, dtype=np.float64)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError("X_s %s and X_t %s must be (n, d) and (m, d) point clouds" %
                         (np.shape(X_s), np.shape(X_t)))
    D = None
    if projections is not None:
        D = np.asarray(projections, dtype=np.float64)
        if D.ndim != 2 or D.shape[0] != X.shape[1]:
            raise ValueError("projections must be (d, L) = (%d, L) as in POT, got shape %s" %
                             (X.shape[1], D.shape))
        D = np.ascontiguousarray(D.T)
        n_projections = D.shape[0]
    n_projections = as_int(n_projections, "n_projections")
    seed = 0 if seed is None else as_int(seed, "seed")
    if seed < 0:
        raise ValueError("seed = %d must be >= 0" % seed)
    r = _otkit.sliced(X, Y, _weights(a), _weights(b), p=as_float(p, "p"),
                      n_projections=n_projections, directions=directions, seed=seed,
                      projections=D, grad=bool(grad))
    return SlicedResult(r["value"], r["value_p"], r["max_value"], r["directions"],
                        r["projected"], r["grad_X"], r["grad_Y"], r["grad_a"], r["grad_b"])


def sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2,
                                projections=None, seed=None, log=False):
    """SW_p = ((1/L) sum_l W_p^p(theta_l . X_s, theta_l . X_t))^(1/p) (POT's
    ot.sliced_wasserstein_distance, which returns SW_p).

    X_s (n, d), X_t (m, d): the point clouds (1-D arrays: points on the line);
      a, b: their weights (None = uniform), normalised to mass 1.
    projections: (d, L) directions, POT's layout; each column is normalised
      and L replaces n_projections.  With POT's own projections (e.g.
      ot.sliced.get_random_projections(d, L, seed)) the value equals POT's.
    projections None: L = n_projections directions drawn by otkit (normalised
      Gaussian vectors, GSL's MT19937 seeded with seed; None means 0, so the
      result is reproducible; POT's seed=None draws fresh ones).
    p: >= 1 (default 2).
    log: also return {"projections": (d, L), "projected_emds": the L W_p^p}.
    For gradients use otkit.torch.sliced_wasserstein or sliced_wasserstein(...,
    grad=True)."""
    r = sliced_wasserstein(X_s, X_t, a, b, n_projections, p, projections, seed)
    if log:
        return r.value, {"projections": r.directions.T.copy(), "projected_emds": r.projected}
    return r.value
