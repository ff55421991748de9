"""Entropic optimal transport with log-domain Sinkhorn (otkit/sinkhorn.h)."""
import math

import numpy as np

from . import _otkit
from ._common import exclusive, eps_blur, matrix_exponent, scale_options, progress_callback
from ._common import (points, schedule_code, update_code, backend_code, positive_or_zero,
                      warn_not_converged, choice, as_float, as_int, single_precision,
                      batch_arrays, is_batch)

__all__ = ["sinkhorn", "SinkhornResult", "SinkhornBatchResult", "potential_convert",
           "epsilon_schedule"]



class SinkhornResult:
    """The solution of otkit.sinkhorn().

    Values (cost units; see otkit/sinkhorn.h and the README's conventions):
      ot_kl    <P,C> + eps KL(P | a x b) (+ rho KL terms): the dual objective,
               GeomLoss's value for unit masses;
      ot_ent   ot_kl - eps (H(a) + H(b)), i.e. <P,C> - eps H(P) at convergence
               for unit masses (OTT's ent_reg_cost);
      ot_lin   <P,C>, the transport cost of the entropic plan (POT sinkhorn2).
    Also eps, rho_a, rho_b (inf = balanced side), mass_a, mass_b,
    marginal_error (relative L1 violation of the optimality conditions),
    iterations (annealing included), annealing_iterations, status (0 = success,
    1 = OTK_NOT_CONVERGED, 2 = OTK_CONTINUE: stopped by the callback),
    converged, stopped (the callback stopped the solve), warm_start (init was
    given), update (the update rule run: "symmetric", "accelerated", ...,
    update="auto" resolved), scale_cost (scale_cost's s, 1 when not set: eps,
    rho and the values are in units of C), backend (the backend run: "online",
    "dense" or "multiscale"), truncation_bound (multiscale: the plan mass of the
    dropped blocks at most this fraction of sum(a); 0 otherwise), and history
    (with history=True: the marginal
    error of every measurement at the target eps, in order, a float64 array;
    else None).

    f, g are the potentials in the GeomLoss gauge,
        P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps);
    dtype is float32 for a single-precision solve (float32 clouds, or
    dtype=float32): f, g, potentials(), plan(), marginals(), plan_apply() and
    barycentric() are then float32 arrays; the values (ot_kl, ...) are Python
    floats in every case (they are accumulated in float64).
    potentials(gauge) converts them to OTT's or POT's.  plan(), marginals(),
    plan_apply() and barycentric() are computed on demand from the potentials
    and the cost (no n x m storage except plan()).  The result keeps the cost
    alive; with a dense C the caller's array is used in place (no copy for
    C-contiguous float64), so do not modify it while the result is in use.
    """

    def __init__(self, solver, info, a, b):
        self._solver = solver
        self.history = None
        for k, v in info.items():
            setattr(self, k, v)
        if self.history is not None:
            self.history = np.asarray(self.history, dtype=np.float64)
        self.f, self.g = solver.potentials()
        self.a = a
        self.b = b

    @property
    def converged(self):
        return self.status == 0

    @property
    def dtype(self):
        """np.float32 when the soft-mins ran in single precision, else np.float64."""
        return np.dtype(np.float32 if self._solver.single_precision else np.float64)

    @property
    def cost_matrix(self):
        """The float64 array the dense cost reads (the caller's own C when it was
        already C-contiguous float64), or None for point clouds."""
        return self._solver.cost_matrix

    def plan(self):
        """The dense n x m plan P (float64; float32 for a single-precision
        solve, narrowed from a float64 n x m array: 12 bytes per entry at the
        peak).  Allocates n*m doubles."""
        return self._solver.plan()

    def marginals(self):
        """(P 1, P^T 1): the row sums (n) and column sums (m) of the plan."""
        return self._solver.marginals()

    def plan_apply(self, M, axis=0):
        """axis 0: P @ M with M (m, k) or (m,); axis 1: P^T @ M with M (n, k) or (n,)."""
        M = np.asarray(M)
        if M.ndim == 1:
            return self._solver.plan_apply(M.reshape(-1, 1), axis)[:, 0]
        return self._solver.plan_apply(M, axis)

    def barycentric(self, Y):
        """Barycentric projection (P @ Y) / (P 1), (n, k): the entropic map
        estimate when Y (m, k) holds the target points.  Rows without mass are NaN."""
        Y = np.asarray(Y)
        if Y.ndim == 1:
            return self._solver.barycentric(Y.reshape(-1, 1))[:, 0]
        return self._solver.barycentric(Y)

    def potentials(self, gauge="geomloss"):
        """(f, g) in the gauge "geomloss" (P = a b e^{(f+g-C)/eps}), "ott"
        (f' = f + eps log a, P = e^{(f'+g'-C)/eps}) or "pot" (log u = f'/eps,
        P = diag(u) K diag(v), as POT's log['log_u']).  Entries with zero
        weight are -inf in the OTT and POT gauges."""
        code = choice(gauge, "gauge", "gauge")
        if code == 0:
            return self.f.copy(), self.g.copy()
        dt = self.f.dtype
        return (_otkit.potential_convert(self.f, self.a, self.eps, 0, code).astype(dt, copy=False),
                _otkit.potential_convert(self.g, self.b, self.eps, 0, code).astype(dt, copy=False))

    def __repr__(self):
        return ("SinkhornResult(ot_kl=%.10g, ot_ent=%.10g, ot_lin=%.10g, eps=%g, "
                "iterations=%d, marginal_error=%.3g, status=%d)"
                % (self.ot_kl, self.ot_ent, self.ot_lin, self.eps, self.iterations,
                   self.marginal_error, self.status))


class SinkhornBatchResult:
    """The result of otkit.sinkhorn() on a batch of B problems (x (B, n, d),
    y (B, m, d)): per problem, as (B,) arrays, ot_kl, ot_ent, ot_lin,
    mass_a, mass_b, marginal_error, eps, rho_a, rho_b, scale_cost,
    truncation_bound (float64; eps, rho_a, rho_b and scale_cost differ between
    problems with relative_eps or scale_cost by a statistic, each resolved on
    its own problem), iterations, annealing_iterations, status (int); update
    and backend, shared (resolved from the shared parameters and shapes);
    stopped (the callback stopped the batch);
    f (B, n) and g (B, m), the potentials in the GeomLoss gauge (float32
    for a single-precision batch).  Problem k's entries equal
    otkit.sinkhorn(a[k], b[k], x=x[k], y=y[k]) to 1e-12 relative
    (otkit/batch.h); zero-weight padding is exact.  No plan read-outs: solve
    a problem alone for those."""

    def __init__(self, info):
        for k, v in info.items():
            setattr(self, k, v)

    @property
    def converged(self):
        return bool(np.all(self.status == 0))

    def __repr__(self):
        return ("SinkhornBatchResult(B=%d, ot_kl=%s, eps=%s, iterations=%s, status=%s)"
                % (len(self.ot_kl), np.array2string(self.ot_kl, precision=6, threshold=6),
                   np.array2string(self.eps, precision=6, threshold=6),
                   np.array2string(self.iterations, threshold=6),
                   np.array2string(self.status, threshold=6)))


def sinkhorn(a=None, b=None, C=None, x=None, y=None, eps=None, blur=None, cost="sqeuclidean",
             power=None, reach=None, rho=None, rho_a=None, rho_b=None, schedule="converge",
             update="auto", scaling=0.5, diameter=None, p=None, tol=1e-6, max_iter=10000,
             no_annealing=False, threads=0, warn=True, dtype=None, init=None,
             callback=None, history=False, relative_eps=None, relative_to=None,
             scale_cost=None, backend="auto", truncate=12.0):
    """Entropic OT between weights a (n) and b (m) with log-domain Sinkhorn.

    The cost is either a dense matrix C (n, m), in cost units, or two point
    clouds x (n, d) and y (m, d) with a named ground cost:
      "sqeuclidean" |x-y|^2 (default, as POT's ot.dist), "half-sqeuclidean"
      |x-y|^2/2, "euclidean" |x-y|, "l1" sum|x_k-y_k|, "lp" |x-y|^power,
      "lp-over-p" |x-y|^power/power.
    Points are never turned into an n x m matrix.  1-D x, y are points on a line.
    A batch of B independent problems: x (B, n, d), y (B, m, d), a (B, n),
    b (B, m) -> a SinkhornBatchResult with (B,) values and (B, n), (B, m)
    potentials, each problem equal to its own solve (unequal sizes: pad with
    zero weights, which is exact; relative_eps and scale_cost by a statistic
    take each problem's statistic, over its points of positive weight, as
    its unpadded solve; init and history are single-solve only).

    a, b     weights (non-negative); None = uniform 1/n, 1/m.  A balanced
             problem needs sum(a) == sum(b).
    eps      the regularisation in cost units (POT's reg).  Or blur, a length:
             eps = blur**p with p the cost's exponent (2 for the squared costs:
             kernel exp(-|x-y|^2/blur^2) for sqeuclidean, exp(-|x-y|^2/(2 blur^2))
             for half-sqeuclidean; 1 for euclidean/l1, power for lp).  Point
             clouds default to blur = 0.05.  A dense C has no exponent: give
             eps, or blur with p (p=2 for a matrix of squared distances gives
             the point clouds' eps); blur (or reach) without p is a ValueError.
    relative_eps  eps = relative_eps * stat(C), stat = relative_to (OTT's
             relative_epsilon): "mean" (default, OTT's), "std", "max_cost" or
             "median" of all the cost's entries, computed exactly without
             forming a point cloud's matrix.  Excludes eps and blur.
    scale_cost    solve for C / s (OTT's scale_cost): s a number > 0 or one
             of the statistics above.  eps (or blur**p, relative_eps * stat)
             and rho are then in units of C / s; everything reported (values,
             potentials, plan products, eps, rho) is in units of C, i.e. s
             times what OTT reports; result.scale_cost is s (1 when not set).
    reach    unbalanced transport, a length: rho = reach**p on both sides; or
             rho (cost units) on both sides, or rho_a / rho_b per side
             (inf = hard constraint).  Default: balanced.
    schedule "converge" (anneal eps by `scaling`, then iterate to tol) or
             "fixed" (GeomLoss's schedule, no tolerance test).
    update   "auto", "symmetric" (GeomLoss), "alternating" (Sinkhorn-Knopp),
             "overrelaxed" (alternating, adaptive relaxation), "translated"
             (alternating, translation-invariant unbalanced steps) or
             "accelerated" (both; what "auto" runs with schedule="converge").
    tol      relative L1 marginal tolerance; max_iter iterations at the target eps.
    p        the cost's exponent p used by blur, reach and the schedule (the
             one meaning of p in otkit): None = the cost's own; required with
             blur or reach on a dense C.
    diameter override the cost's diameter (the schedule starts at diameter**p).
    threads  OpenMP threads inside the solve (0 = OpenMP's default).
    warn     emit otkit.ConvergenceWarning when max_iter is reached.
    dtype    precision of point clouds: None (default) follows them, float32
             when x and y are both float32 arrays (read in place when
             C-contiguous: no float64 copy is made), float64 otherwise
             (a float32 cloud with a float64 one runs in float64); or
             np.float32 / np.float64 to force it.  In float32 the soft-mins
             compute costs, exponents and exponentials in float32 (docs/math.md
             A.7: values within ~5e-8 relative of float64); the potentials,
             plan and other arrays returned are float32.  Weights a, b stay
             float64 (float32 weights are widened: n + m doubles).  A dense C
             is always float64.

    init     warm start: a pair (f, g) of potentials, n and m values, in the
             GeomLoss gauge of result.f, result.g (convert others with
             otkit.potential_convert(v, w, eps, source, "geomloss")).  The annealing is skipped and the updates run at the
             target eps (otk_sinkhorn_set_potentials): the potentials of a
             converged solve re-solve the same problem in 0 iterations.
    callback callback(iteration, eps, error), called after every update that
             leaves the solve running: iteration counts all updates so far
             (annealing included), eps is the eps of that update, error the
             last marginal error measured at the target eps (NaN during the
             annealing).  A true return stops the solve: the result then has
             stopped = True, status 2, converged False, and the potentials of
             that iteration.  An exception raised by the callback propagates.
             A callback that declares a parameter `stage` (or **kwargs) also
             gets stage="clusters" (the multiscale backend's annealing on
             cluster centroids), "annealing" or "target".
             A batch: called after every update of every problem and once
             when each ends, from the thread solving it (the calls never
             overlap; the GIL is taken for each); it may also declare
             `problem` (the index), `done` (problems ended so far) and
             `status` (2 while the problem runs, its status in its end
             report).  A true return stops the whole batch: result.stopped,
             the running problems with status 2 and the values and
             potentials of their last update, the others not started
             (status 2, iterations 0, NaN values); an exception stops it and
             propagates (otkit/batch.h "Progress").
    history  True: result.history holds each marginal error measured at the
             target eps (one per update there, plus the final measurement;
             the guard's probe of the converge schedule, docs/math.md A.5,
             is measured too, so the sequence can jump where it starts; at
             max_iter the last entry is the best iterate's error).

    backend  "auto" (default), "online", "dense" or "multiscale" (otk_backend,
             docs/math.md A.11): multiscale clusters point clouds in d <= 3,
             anneals on the clusters and then evaluates only the blocks of
             cluster pairs kept by the truncation rule; auto picks it for
             float64 clouds in d <= 3 with n*m >= 1e8, online otherwise.
    truncate multiscale: keep the blocks whose bound of f + g - C is >= -truncate*eps
             (> 0, math.inf keeps every block; default 12).  result.backend
             names the backend run, result.truncation_bound bounds the plan
             mass of the dropped blocks relative to sum(a).

    The GIL is released during the updates (with a callback or history,
    around each update).  Returns a SinkhornResult.
    Raises ValueError (bad input, naming the argument), MemoryError, or
    otkit.OtkitError (a RuntimeError) for other library failures.
    """
    exclusive("eps", eps, "blur", blur)
    exclusive("reach", reach, "rho", rho)
    for side, rho_side in (("rho_a", rho_a), ("rho_b", rho_b)):
        exclusive("reach", reach, side, rho_side)
        exclusive("rho", rho, side, rho_side)
    scale_kw = scale_options(eps, blur, relative_eps, relative_to, scale_cost)
    if C is not None:
        matrix_exponent(eps, blur, reach, p, relative_eps=relative_eps)
    kw = dict(
        cost=cost, power=0.0 if power is None else as_float(power, "power"),
        **eps_blur(eps, blur),
        rho_a=math.inf, rho_b=math.inf,
        reach=positive_or_zero(reach, "reach"),
        schedule=schedule_code(schedule), update=update_code(update),
        scaling=as_float(scaling, "scaling"),
        diameter=positive_or_zero(diameter, "diameter"), p=positive_or_zero(p, "p"),
        tol=as_float(tol, "tol"), max_iter=as_int(max_iter, "max_iter"),
        no_annealing=int(bool(no_annealing)), threads=as_int(threads, "threads"),
        backend=backend_code(backend), truncate=as_float(truncate, "truncate"), **scale_kw)
    if rho is not None:
        kw["rho_a"] = kw["rho_b"] = as_float(rho, "rho")
    if rho_a is not None:
        kw["rho_a"] = as_float(rho_a, "rho_a")
    if rho_b is not None:
        kw["rho_b"] = as_float(rho_b, "rho_b")
    if C is None and is_batch(x, y):
        if x is None or y is None:
            raise ValueError("%s is required (a batch takes x (B, n, d) and y (B, m, d))"
                             % ("x" if x is None else "y"))
        if init is not None:
            raise ValueError("init is not supported for a batch of problems")
        if history:
            raise ValueError("history is not supported for a batch of problems")
        single = single_precision(np.asarray(x), np.asarray(y), dtype)
        x, y, a, b = batch_arrays(x, y, a, b, single)
        info = _otkit.sinkhorn_batch(x, y, a, b, single=single,
                                     callback=progress_callback(callback, True), **kw)
        if single:
            info["f"] = info["f"].astype(np.float32)
            info["g"] = info["g"].astype(np.float32)
        status = info["status"]
        if np.any(status == _otkit.OTK_NOT_CONVERGED):
            warn_not_converged(_otkit.OTK_NOT_CONVERGED, "otkit.sinkhorn (%d of %d problems)"
                               % (int(np.sum(status == _otkit.OTK_NOT_CONVERGED)), len(status)),
                               float(np.nanmax(info["marginal_error"])), tol, max_iter, warn)
        return SinkhornBatchResult(info)
    if C is not None:
        if x is not None or y is not None:
            raise ValueError("give either C or both x and y, not both")
        if dtype is not None and single_precision(None, None, dtype):
            raise ValueError("dtype = float32 needs point clouds x and y (a cost matrix C "
                             "is float64)")
        solver = _otkit.Sinkhorn(C=C, **kw)
    else:
        if x is None or y is None:
            raise ValueError("%s is required (or give the cost matrix C)"
                             % ("x" if x is None else "y"))
        x, y = points(x, "x"), points(y, "y")
        solver = _otkit.Sinkhorn(x=x, y=y, single=single_precision(x, y, dtype), **kw)
    n, m = solver.shape
    f0 = g0 = None
    if init is not None:
        f0, g0 = _init_pair(init, n, m)
    info = solver.solve(a, b, f0, g0, progress_callback(callback, False), bool(history))
    wa = np.full(n, 1.0 / n) if a is None else np.asarray(a, dtype=np.float64)
    wb = np.full(m, 1.0 / m) if b is None else np.asarray(b, dtype=np.float64)
    warn_not_converged(info["status"], "otkit.sinkhorn", info["marginal_error"], tol,
                       max_iter, warn)
    return SinkhornResult(solver, info, wa, wb)


def _init_pair(init, n, m):
    """init = (f, g) as float64 arrays of n and m values in the GeomLoss gauge."""
    try:
        f, g = init
    except (TypeError, ValueError):
        raise ValueError("init must be a pair (f, g) of potentials (n = %d and m = %d values)"
                         % (n, m)) from None
    f = np.asarray(f, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    for name, v, size in (("init[0] (f)", f, n), ("init[1] (g)", g, m)):
        if v.shape != (size,):
            raise ValueError("%s: shape %s, expected (%d,)" % (name, v.shape, size))
    return f, g


def potential_convert(values, w, eps, source="geomloss", target="pot"):
    """Convert one potential (n entries, weights w) between the gauges
    "geomloss", "ott" and "pot" (see SinkhornResult.potentials)."""
    return _otkit.potential_convert(values, w, as_float(eps, "eps"), choice(source, "gauge", "source"),
                                    choice(target, "gauge", "target"))


def epsilon_schedule(diameter, p, blur, scaling=0.5):
    """GeomLoss's eps-list for diameter D, exponent p, blur and scaling (cost
    units): [D^p] + exp(arange(p ln D, p ln blur, p ln scaling)) + [blur^p]."""
    return _otkit.epsilon_schedule(as_float(diameter, "diameter"), as_float(p, "p"),
                                   as_float(blur, "blur"), as_float(scaling, "scaling"))
