"""f-divergences between discrete distributions (probabilities or logits) with
gradients, and the population stability index and information value of binned
data (otkit/fdiv.h; formulas and conventions in docs/fdiv.md)."""
from collections import namedtuple

import numpy as np

from . import _otkit
from ._common import as_float, as_int

__all__ = ["fdiv", "psi", "information_value", "FdivResult", "PsiResult", "IVResult",
           "FDIV_KINDS"]

FDIV_KINDS = ("kl", "reverse-kl", "jeffreys", "js", "tv", "hellinger", "pearson", "neyman",
              "alpha", "custom")

FdivResult = namedtuple("FdivResult", "value grad_p grad_q")
FdivResult.__doc__ = """(value, grad_p, grad_q): the divergence (a float, or a (B,) array
with reduction="none"), and its gradients w.r.t. the first and second
argument (shaped like them), None when not asked for."""

PsiResult = namedtuple("PsiResult", "psi edges per_bin")
PsiResult.__doc__ = """(psi, edges, per_bin): the PSI, the m - 1 interior bin edges used and
the m terms (a_i - e_i) ln(a_i/e_i) (edges is None for counts)."""

IVResult = namedtuple("IVResult", "iv edges woe")
IVResult.__doc__ = """(iv, edges, woe): the information value, the m - 1 interior edges and
the weights of evidence ln(g_i/b_i) of the m bins."""


def _table(x, name):
    a = x if isinstance(x, np.ndarray) else np.asarray(x, dtype=float)
    if a.ndim == 1:
        return a.reshape(1, -1), True
    if a.ndim != 2:
        raise ValueError("%s must be a (K,) row or a (B, K) table, got %d dimensions"
                         % (name, a.ndim))
    return a, False


def fdiv(p, q, kind="kl", alpha=None, logits=False, tau=1.0, tau2=False, smoothing=0.0,
         reduction="mean", grad=False, generator=None, slope_at_infinity=float("inf"),
         threads=0):
    """The f-divergence D_f(p || q) = sum_k q_k f(p_k / q_k), row-wise over (B, K)
    tables (a (K,) vector is one row), reduced over the rows.

    kind: "kl" sum p log(p/q); "reverse-kl" sum q log(q/p); "jeffreys"
      sum (p - q) log(p/q); "js" Jensen-Shannon (natural log, in [0, ln 2]; the
      square of scipy.spatial.distance.jensenshannon); "tv" sum |p - q| / 2;
      "hellinger" sum (sqrt p - sqrt q)^2 (no 1/2); "pearson" sum (p - q)^2/q;
      "neyman" sum (p - q)^2/p; "alpha" Amari's alpha-divergence
      4/(1 - alpha^2) sum [(1-alpha)/2 p + (1+alpha)/2 q - p^((1-alpha)/2) q^((1+alpha)/2)]
      (alpha = -1 is KL(p||q), +1 is KL(q||p), exactly and continuously);
      "custom": generator(t) -> (f(t), f'(t)), with slope_at_infinity = lim f(t)/t
      for q_k = 0 < p_k (called from Python, serially).
    logits: p and q are logits; the divergence is between softmax(p/tau) and
      softmax(q/tau) (log-sum-exp: any magnitude is safe); tau2 multiplies the
      value and gradients by tau^2 (Hinton's KD scaling).  For distillation pass
      the teacher as p and the student as q.
    smoothing: probabilities only: each row r becomes (1 - s) r + s sum(r)/K.
      Without it a support mismatch gives inf (SciPy's rel_entr convention) and
      an infinite requested gradient raises OtkitError (status OTK_ENUMERIC).
    reduction: "mean" (over the rows), "sum" or "none" (a (B,) array).
    grad: False, True (both), "p" or "q": which gradients to return (w.r.t.
      the probabilities, or the logits with logits=True).
    -> FdivResult(value, grad_p, grad_q)."""
    P, row = _table(p, "p")
    Q, _ = _table(q, "q")
    if kind == "alpha":
        if alpha is None:
            raise ValueError("alpha: kind 'alpha' needs alpha (Amari's parameter)")
    elif alpha is not None:
        raise ValueError("alpha applies only with kind 'alpha' (got kind %r)" % (kind,))
    if not logits and (tau != 1.0 or tau2):
        raise ValueError("tau and tau2 apply only with logits=True")
    if logits and smoothing:
        raise ValueError("smoothing applies to probabilities, not with logits=True")
    if grad not in (False, True, "p", "q"):
        raise ValueError("grad = %r is not False, True, 'p' or 'q'" % (grad,))
    want_p = grad is True or grad == "p"
    want_q = grad is True or grad == "q"
    value, gp, gq = _otkit.fdiv(P, Q, kind=kind, alpha=0.0 if alpha is None else
                                as_float(alpha, "alpha"), logits=bool(logits),
                                tau=as_float(tau, "tau"), tau2=bool(tau2),
                                smoothing=as_float(smoothing, "smoothing"), reduction=reduction,
                                grad_p=want_p, grad_q=want_q, generator=generator,
                                slope_at_infinity=as_float(slope_at_infinity,
                                                           "slope_at_infinity"),
                                threads=as_int(threads, "threads"))
    if row:
        gp = None if gp is None else gp.reshape(-1)
        gq = None if gq is None else gq.reshape(-1)
        if reduction == "none":
            value = float(value[0])
    return FdivResult(value, gp, gq)


def psi(expected, actual, bins=10, binning="quantile", edges=None, floor=1e-4, counts=False):
    """Population stability index PSI = sum_i (a_i - e_i) ln(a_i / e_i), with e_i,
    a_i the shares of the expected (reference) and actual samples in bin i:
    the Jeffreys divergence of the two histograms.

    Bins come from the reference sample: binning "quantile" (its quantiles
    k/bins, NumPy's linear rule; tied edges merged), "equal-width" (its
    [min, max] in `bins` parts) or "edges" (the given interior edges).  Bins
    are right-closed (e_{i-1}, e_i]; the outer ones reach -inf and +inf.  With
    counts=True, expected and actual are bin counts already.  Zero-bin
    convention: an empty bin's share is replaced by `floor` (1e-4; the others
    are not renormalised); floor=0 gives inf for a one-sided empty bin.
    -> PsiResult(psi, edges, per_bin)."""
    if counts:
        if edges is not None or binning != "quantile" or bins != 10:
            raise ValueError("bins, binning and edges do not apply with counts=True")
        v, per = _otkit.psi_counts(expected, actual, floor=as_float(floor, "floor"))
        return PsiResult(v, None, per)
    if edges is not None and binning == "quantile":
        binning = "edges"
    return PsiResult(*_otkit.psi(expected, actual, bins=as_int(bins, "bins"), binning=binning,
                                 edges=edges, floor=as_float(floor, "floor")))


def information_value(x, y, bins=10, binning="quantile", edges=None, floor=1e-4):
    """Information value of the feature x for the binary outcome y (1 = event,
    "bad"; 0 = non-event, "good"): WoE_i = ln(g_i / b_i),
    IV = sum_i (g_i - b_i) WoE_i, with g_i, b_i the shares of the goods and bads
    in bin i; x binned over the whole sample (binning, edges and floor as in
    psi).  -> IVResult(iv, edges, woe)."""
    if edges is not None and binning == "quantile":
        binning = "edges"
    return IVResult(*_otkit.information_value(x, y, bins=as_int(bins, "bins"), binning=binning,
                                              edges=edges, floor=as_float(floor, "floor")))
