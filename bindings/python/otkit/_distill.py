"""Knowledge-distillation losses: SinKD and the KL / reverse-KL / JS / soft-CE
baselines, with gradients w.r.t. the logits (otkit/distill.h)."""
from collections import namedtuple

import numpy as np

from . import _otkit
from ._common import choice, as_float, as_int

__all__ = ["SinKD", "sinkd_loss", "sinkd_objective", "sinkd_regression_objective", "kd_loss", "kl_loss", "rkl_loss",
           "js_loss", "soft_ce_loss", "LossResult", "ObjectiveResult"]

LossResult = namedtuple("LossResult", "loss grad_s grad_t")
LossResult.__doc__ = """(loss, grad_s, grad_t): the loss (a float) and its gradients
w.r.t. the student and teacher logits (B, K), None when not asked for."""

ObjectiveResult = namedtuple("ObjectiveResult", "total kd ce sinkd grad_s")
RegressionResult = namedtuple("RegressionResult", "total kd mse sinkd grad_s")
RegressionResult.__doc__ = """The regression objective alpha*kd + (1-alpha)*mse, its parts
(sinkd is 0: see sinkd_regression_objective) and d total / d s (B,)."""
ObjectiveResult.__doc__ = """The combined objective alpha*kd + (1-alpha)*ce + beta*sinkd,
its three parts and d total / d z_s (B, K) (None when grad=False)."""

# f-divergences (otkit.fdiv) usable as the KD term besides the baselines.
_FDIV_KD = ("jeffreys", "tv", "hellinger", "pearson", "neyman", "alpha")


def _logits(z, name):
    z = z if isinstance(z, np.ndarray) else np.asarray(z)
    if z.ndim != 2:
        raise ValueError("%s must be a 2-D (B, K) array of logits, got %d dimension(s)"
                         % (name, z.ndim))
    return z


class SinKD:
    """A planned SinKD loss for batches of B samples and K classes (the
    workspace is allocated once).  Parameters as for sinkd_loss().  One object
    per thread."""

    def __init__(self, B, K, tau=2.0, eps=0.1, iters=20, cost="l1", power=None, weight=1.0,
                 grad_mode="unrolled", threads=0):
        self._obj = _otkit.SinKD(as_int(B, "B"), as_int(K, "K"), tau=as_float(tau, "tau"),
                                 eps=as_float(eps, "eps"), iters=as_int(iters, "iters"),
                                 cost=cost,
                                 power=0.0 if power is None else as_float(power, "power"),
                                 weight=as_float(weight, "weight"),
                                 grad=choice(grad_mode, "sinkd_grad", "grad_mode"),
                                 threads=as_int(threads, "threads"))

    @property
    def shape(self):
        return self._obj.shape

    def loss(self, z_s, z_t, grad=True, grad_teacher=False):
        """-> LossResult(loss, d loss/d z_s or None, d loss/d z_t or None)."""
        return LossResult(*self._obj.loss(_logits(z_s, "z_s"), _logits(z_t, "z_t"),
                                          bool(grad), bool(grad_teacher)))

    def objective(self, z_s, z_t, labels, alpha, beta, kd="soft-ce", kd_tau=1.0, grad=True,
                  kd_alpha=None, kd_tau2=False):
        """alpha*KD(kd, kd_tau) + (1-alpha)*CE(labels) + beta*SinKD -> ObjectiveResult.
        kd: a baseline of kd_loss, or any other f-divergence of otkit.fdiv
        ("jeffreys", "tv", "hellinger", "pearson", "neyman", "alpha" with
        kd_alpha), D_f(p_t || p_s) at kd_tau, times kd_tau^2 with kd_tau2."""
        if kd in _FDIV_KD:
            if kd == "alpha" and kd_alpha is None:
                raise ValueError("kd_alpha: kd 'alpha' needs kd_alpha (Amari's parameter)")
            parts, g = self._obj.objective_fdiv(
                _logits(z_s, "z_s"), _logits(z_t, "z_t"), labels, as_float(alpha, "alpha"),
                as_float(beta, "beta"), kd,
                kd_alpha=0.0 if kd_alpha is None else as_float(kd_alpha, "kd_alpha"),
                kd_tau=as_float(kd_tau, "kd_tau"), kd_tau2=bool(kd_tau2), grad=bool(grad))
            return ObjectiveResult(parts["total"], parts["kd"], parts["ce"], parts["sinkd"], g)
        if kd_alpha is not None or kd_tau2:
            raise ValueError("kd_alpha and kd_tau2 apply to the f-divergence KD terms (%s), "
                             "not to kd = %r" % (", ".join(_FDIV_KD), kd))
        parts, g = self._obj.objective(_logits(z_s, "z_s"), _logits(z_t, "z_t"), labels,
                                       as_float(alpha, "alpha"), as_float(beta, "beta"),
                                       choice(kd, "kd_divergence", "kd"), as_float(kd_tau, "kd_tau"),
                                       bool(grad))
        return ObjectiveResult(parts["total"], parts["kd"], parts["ce"], parts["sinkd"], g)


def sinkd_loss(z_s, z_t, tau=2.0, eps=0.1, iters=20, cost="l1", power=None, weight=1.0,
               grad=True, grad_teacher=False, grad_mode="unrolled", threads=0):
    """The SinKD loss (Cui et al. 2024) of student logits z_s and teacher logits
    z_t, both (B, K):

        p_s = softmax(z_s/tau), p_t = softmax(z_t/tau) row-wise;
        W_ij = cost(p_s_i, p_t_j), a B x B batch cost (default "l1": the l1
               distance of the class-probability vectors; any ground cost name);
        P = exp(-W/eps) normalised `iters` times by rows then columns (log domain);
        loss = weight * sum_ij P_ij W_ij   (about B times the transport cost).

    eps is in units of the batch cost; weight is c_w (the reference code uses
    0.001).  grad_mode "unrolled": the exact adjoint of the iterations (what
    autograd through the reference algorithm gives); "envelope": the plan held
    fixed.  Returns LossResult(loss, grad_s, grad_t) with the gradients w.r.t.
    z_s (when grad) and z_t (when grad_teacher), else None.  GIL released.
    """
    z_s = _logits(z_s, "z_s")
    z_t = _logits(z_t, "z_t")
    B, K = z_s.shape
    sd = SinKD(B, K, tau=tau, eps=eps, iters=iters, cost=cost, power=power, weight=weight,
               grad_mode=grad_mode, threads=threads)
    return sd.loss(z_s, z_t, grad=grad, grad_teacher=grad_teacher)


def sinkd_objective(z_s, z_t, labels, alpha, beta, kd="soft-ce", kd_tau=1.0, tau=2.0, eps=0.1,
                    iters=20, cost="l1", power=None, weight=1.0, grad=True,
                    grad_mode="unrolled", threads=0, kd_alpha=None, kd_tau2=False):
    """The SinKD code's combined objective

        total = alpha * KD + (1 - alpha) * CE(labels) + beta * SinKD,

    KD = kd_loss(kd, z_s, z_t, kd_tau) (default "soft-ce", the reference code's
    DistillKL), or with kd one of "jeffreys", "tv", "hellinger", "pearson",
    "neyman", "alpha" (kd_alpha) the f-divergence D_f(p_t || p_s) of
    otkit.fdiv at kd_tau (times kd_tau^2 with kd_tau2), CE the batch-mean cross-entropy of softmax(z_s) at the integer
    labels (B values in [0, K)), SinKD = sinkd_loss(...) with the other
    arguments.  alpha in [0, 1], beta >= 0.  Returns ObjectiveResult(total, kd,
    ce, sinkd, grad_s) with grad_s = d total / d z_s (None when grad=False)."""
    z_s = _logits(z_s, "z_s")
    B, K = z_s.shape
    sd = SinKD(B, K, tau=tau, eps=eps, iters=iters, cost=cost, power=power, weight=weight,
               grad_mode=grad_mode, threads=threads)
    return sd.objective(z_s, z_t, labels, alpha, beta, kd=kd, kd_tau=kd_tau, grad=grad,
                        kd_alpha=kd_alpha, kd_tau2=kd_tau2)


def sinkd_regression_objective(s, t, y, alpha, tau=2.0, grad=True):
    """The regression form of the SinKD GLUE code (its STS-B runs), for one
    output per sample (s, t, y: (B,) student and teacher outputs and labels):

        total = alpha * mean(((s - t)/tau)^2) + (1 - alpha) * mean((s - y)^2),

    the reference's DistillKL in "regression" mode (no tau^2) and the
    student's own MSE to the labels in place of the cross-entropy.  The
    reference also adds beta * SinKD on the softmax of the single output,
    which is 1 for every sample, so that term is identically 0 (sinkd = 0
    here; sinkd_loss on (B, 1) logits gives the same 0).  The reference's
    defaults: alpha 0.8 (its scripts 0.9), tau 2, SinKD weight 0.001 (otkit's
    weight defaults to 1).  Returns RegressionResult(total, kd, mse, sinkd,
    grad_s)."""
    arr = [np.asarray(v, dtype=float).reshape(-1) for v in (s, t, y)]
    parts, g = _otkit.sinkd_regression_objective(arr[0], arr[1], arr[2],
                                                 as_float(alpha, "alpha"),
                                                 tau=as_float(tau, "tau"), grad=bool(grad))
    return RegressionResult(parts["total"], parts["kd"], parts["mse"], parts["sinkd"], g)


def kd_loss(kind, z_s, z_t, tau=1.0, grad=True):
    """A baseline distillation loss, the mean over the B rows of (B, K) logits,
    p = softmax(z / tau):
      "kl"           tau^2 KL(p_t || p_s)   (Hinton et al. 2015)
      "reverse-kl"   KL(p_s || p_t)
      "js"           Jensen-Shannon, in [0, ln 2]
      "soft-ce"      -sum p_t log p_s       (no tau^2; the SinKD code's DistillKL)
    Returns LossResult(loss, d loss/d z_s or None, None)."""
    loss, g = _otkit.kd_loss(choice(kind, "kd_divergence", "kind"), _logits(z_s, "z_s"),
                             _logits(z_t, "z_t"), as_float(tau, "tau"), bool(grad))
    return LossResult(loss, g, None)


def kl_loss(z_s, z_t, tau=1.0, grad=True):
    """tau^2 KL(p_t || p_s), batch mean; see kd_loss."""
    return kd_loss("kl", z_s, z_t, tau, grad)


def rkl_loss(z_s, z_t, tau=1.0, grad=True):
    """KL(p_s || p_t), batch mean; see kd_loss."""
    return kd_loss("reverse-kl", z_s, z_t, tau, grad)


def js_loss(z_s, z_t, tau=1.0, grad=True):
    """Jensen-Shannon divergence of p_s and p_t, batch mean; see kd_loss."""
    return kd_loss("js", z_s, z_t, tau, grad)


def soft_ce_loss(z_s, z_t, tau=1.0, grad=True):
    """-sum p_t log p_s, batch mean (no tau^2); see kd_loss."""
    return kd_loss("soft-ce", z_s, z_t, tau, grad)
