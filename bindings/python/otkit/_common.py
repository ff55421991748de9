"""Shared helpers of the otkit package: the warning class, option parsing and
array shaping.  Not part of the public API except ConvergenceWarning and
OtkitError (re-exported by otkit)."""
import inspect
import warnings

import numpy as np

from . import _otkit

OtkitError = _otkit.OtkitError

NOT_CONVERGED = _otkit.OTK_NOT_CONVERGED


class ConvergenceWarning(RuntimeWarning):
    """A solver stopped at max_iter before its marginal error reached tol
    (otkit status OTK_NOT_CONVERGED).  The result is still returned: it holds
    the best iterate, and its `status` and `marginal_error` say how far it is.
    Silence with warnings.simplefilter("ignore", otkit.ConvergenceWarning) or
    pass warn=False."""


def names(kind):
    """The library's names of the enum `kind` ("schedule", "update", "gauge",
    "ground", ...; otkit/names.h lists the kinds), in value order: the one
    table the C library, the otk tool and the R package read too."""
    return _otkit.names(kind)


_TABLES = {}


def choice(value, kind, argname):
    """The C value of `value`, a name of the library's enum `kind`; ValueError
    naming `argname` and listing the library's names otherwise."""
    table = _TABLES.get(kind)
    if table is None:
        table = _TABLES[kind] = {name: code for code, name in enumerate(names(kind))}
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ValueError("%s = %r is not one of %s" % (argname, value, ", ".join(
            repr(k) for k in table))) from None


def schedule_code(schedule):
    return choice(schedule, "schedule", "schedule")


def update_code(update):
    return choice(update, "update", "update")


def backend_code(backend):
    return choice(backend, "backend", "backend")


def points(arr, name):
    """Points as an (n, d) array: a 1-D array is n points on the line.
    Only the dimension is changed here; the dtype/contiguity conversion (and its
    avoidance for C-contiguous float64) happens in the extension."""
    if arr is None:
        return None
    a = arr if isinstance(arr, np.ndarray) else np.asarray(arr)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    return a


def single_precision(x, y, dtype):
    """Whether the point clouds x, y (arrays, after points()) run in single
    precision.  dtype None follows the clouds: float32 when both are float32
    arrays, otherwise float64 (NumPy's promotion: a float32 cloud with a
    float64 one runs in float64).  dtype float32 / float64 (or "float32",
    "float64", "f4", "f8", np.float32, ...) forces the precision; converting a
    cloud to it is then asked for, not silent."""
    if dtype is None:
        return (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                and x.dtype == np.float32 and y.dtype == np.float32)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt == np.float32:
        return True
    if dt == np.float64:
        return False
    raise ValueError("dtype = %r must be None, float32 or float64" % (dtype,))


# GeomLoss's blur when neither eps nor blur is given (a length).
DEFAULT_BLUR = 0.05


def exclusive(name_a, a, name_b, b):
    """ValueError naming both when both of two alternative arguments are given.
    None is "not set": a value equal to the other's default is still given."""
    if a is not None and b is not None:
        raise ValueError("%s and %s exclude each other: give one" % (name_a, name_b))


def eps_blur(eps, blur):
    """The C library's eps and blur from the arguments of the same names
    (eps in cost units, blur a length): at most one may be given; DEFAULT_BLUR
    when neither is."""
    exclusive("eps", eps, "blur", blur)
    return dict(eps=positive_or_zero(eps, "eps"),
                blur=DEFAULT_BLUR if blur is None else as_float(blur, "blur"))


def scale_options(eps, blur, relative_eps, relative_to, scale_cost):
    """The C library's relative_eps, relative_to, scale_cost, scale_cost_stat
    (otkit/sinkhorn.h; OTT's relative_epsilon and scale_cost).  relative_eps
    excludes eps and blur (ValueError naming both); relative_to needs
    relative_eps; scale_cost is a number > 0 or a statistic's name."""
    exclusive("eps", eps, "relative_eps", relative_eps)
    exclusive("blur", blur, "relative_eps", relative_eps)
    if relative_to is not None and relative_eps is None:
        raise ValueError("relative_to = %r needs relative_eps" % (relative_to,))
    kw = dict(relative_eps=positive_or_zero(relative_eps, "relative_eps"),
              relative_to=choice("mean" if relative_to is None else relative_to,
                                 "relative_to", "relative_to"),
              scale_cost=0.0, scale_cost_stat=-1)
    if isinstance(scale_cost, str):
        kw["scale_cost_stat"] = choice(scale_cost, "relative_to", "scale_cost")
    else:
        kw["scale_cost"] = positive_or_zero(scale_cost, "scale_cost")
    return kw


def matrix_exponent(eps, blur, reach, p, pname="p", what="a cost matrix C", relative_eps=None):
    """A cost given as numbers has no exponent: blur (eps = blur**p) and reach
    (rho = reach**p) need p, else they would silently mean eps and rho.
    ValueError naming both arguments; eps itself is required without p."""
    if p is not None:
        return
    if blur is not None:
        raise ValueError("blur and %s: with %s blur needs the exponent %s (eps = blur**%s; "
                         "%s=2 for squared distances), or give eps in cost units"
                         % (pname, what, pname, pname, pname))
    if reach is not None:
        raise ValueError("reach and %s: with %s reach needs the exponent %s (rho = "
                         "reach**%s), or give rho in cost units" % (pname, what, pname, pname))
    if eps is None and relative_eps is None:
        raise ValueError("eps is required with %s (cost units; or blur with %s, "
                         "eps = blur**%s)" % (what, pname, pname))


def positive_or_zero(value, argname):
    """None -> 0.0 (the C library's "not set"); otherwise a float > 0."""
    if value is None:
        return 0.0
    v = as_float(value, argname)
    if not v > 0.0:  # also rejects NaN
        raise ValueError("%s = %r must be > 0 (or None)" % (argname, value))
    return v


def warn_not_converged(status, what, marginal_error, tol, max_iter, warn, stacklevel=3):
    if warn and status == NOT_CONVERGED:
        warnings.warn(ConvergenceWarning(
            "%s did not converge: marginal error %.3g > tol = %g after max_iter = %d "
            "iterations at the target eps (the best iterate is returned)"
            % (what, marginal_error, tol, max_iter)), stacklevel=stacklevel)


_INT_MAX = 2 ** 31 - 1


def as_float(value, argname):
    """A Python float, or ValueError naming the argument."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError("%s = %r is not a number" % (argname, value)) from None


def as_int(value, argname):
    """An int that fits a C int, or ValueError naming the argument."""
    try:
        v = int(value)
        if v != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError("%s = %r is not an integer" % (argname, value)) from None
    if not -_INT_MAX - 1 <= v <= _INT_MAX:
        raise ValueError("%s = %r does not fit a C int" % (argname, value))
    return v


def grad_names(grad):
    """grad=False / True / iterable of names -> tuple of names among a, b, x, y."""
    if grad is True:
        return ("a", "b", "x", "y")
    if grad is False or grad is None:
        return ()
    if isinstance(grad, str):
        grad = (grad,)
    wanted = tuple(grad)
    for k in wanted:
        if k not in ("a", "b", "x", "y"):
            raise ValueError("grad names %r; expected 'a', 'b', 'x' or 'y'" % (k,))
    return wanted


def batch_arrays(x, y, a, b, single):
    """The inputs of a batch of B problems as the extension takes them:
    x (B, n, d) and y (B, m, d) C-contiguous in float32 (single) or float64
    (no copy when they already are), a (B, n) and b (B, m) float64 or None.
    ValueError naming the argument whose shape does not fit."""
    x = np.ascontiguousarray(x, dtype=np.float32 if single else np.float64)
    y = np.ascontiguousarray(y, dtype=x.dtype)
    if x.ndim != 3:
        raise ValueError("x has shape %s: a batch needs x (B, n, d)" % (x.shape,))
    if y.ndim != 3:
        raise ValueError("y has shape %s: a batch needs y (B, m, d), as x %s"
                         % (y.shape, x.shape))
    B, n, d = x.shape
    if y.shape[0] != B:
        raise ValueError("y has batch size %d, expected B = %d (x has shape %s)"
                         % (y.shape[0], B, x.shape))
    if y.shape[2] != d:
        raise ValueError("y has dimension %d, expected d = %d (x has shape %s)"
                         % (y.shape[2], d, x.shape))
    if B == 0 or n == 0 or y.shape[1] == 0 or d == 0:
        raise ValueError("x %s and y %s: B, n, m and d must be > 0" % (x.shape, y.shape))
    out = [x, y]
    for name, w, length, what in (("a", a, n, "n"), ("b", b, y.shape[1], "m")):
        if w is None:
            out.append(None)
            continue
        w = np.ascontiguousarray(w, dtype=np.float64)
        if w.shape != (B, length):
            raise ValueError("%s has shape %s, expected (B, %s) = (%d, %d)"
                             % (name, w.shape, what, B, length))
        out.append(w)
    return out


def is_batch(x, y):
    """Whether x or y has a leading batch dimension (3-D)."""
    return any(v is not None and np.ndim(v) == 3 for v in (x, y))


# The keywords a progress callback may declare (otk_progress, otkit/sinkhorn.h).
PROGRESS_KEYWORDS = ("stage", "problem", "done", "status")


def progress_callback(callback, batch):
    """The user's callback(iteration, eps, error) as the C layer calls it:
    (iteration, eps, error, stage) for a single solve, (problem, iteration,
    eps, error, stage, done, status) for a batch.  The callback gets the
    extra values as the keywords it declares by name (stage; for a batch
    also problem, done and status), all of them when it takes **kwargs, so
    that callback(iteration, eps, error) keeps working everywhere."""
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError("callback must be callable (or None)")
    offered = PROGRESS_KEYWORDS if batch else PROGRESS_KEYWORDS[:1]
    try:
        params = list(inspect.signature(callback).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        params = []
    if any(q.kind == q.VAR_KEYWORD for q in params):
        wanted = offered
    else:
        named = {q.name for q in params if q.kind in (q.POSITIONAL_OR_KEYWORD, q.KEYWORD_ONLY)}
        wanted = tuple(k for k in offered if k in named)
    if batch:
        def call(problem, iteration, eps, error, stage, done, status):
            values = dict(stage=stage, problem=problem, done=done, status=status)
            return callback(iteration, eps, error, **{k: values[k] for k in wanted})
    elif wanted:
        def call(iteration, eps, error, stage):
            return callback(iteration, eps, error, stage=stage)
    else:
        def call(iteration, eps, error, stage):
            return callback(iteration, eps, error)
    return call
