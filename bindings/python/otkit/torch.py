"""PyTorch integration: otkit's losses as torch.nn.Modules whose backward pass
uses otkit's analytic gradients (no autograd through the iterations).

Import explicitly (`import otkit.torch`); it needs PyTorch (Debian:
python3-torch) and raises ImportError otherwise.

The computation runs on the CPU through the C library, in float64, except
that SinkhornDivergence / sinkhorn_divergence run in single precision when x
and y are both float32 tensors (or with dtype=torch.float32 / np.float32):
CPU float32 clouds are then read in place (no float64 copy) and the
gradients w.r.t. x and y come back as float32 (docs/math.md A.7 states the
accuracy).  Inputs on another device or in another dtype are copied to the
CPU in the dtype of the computation and the results copied back (the value
is returned in the dtype and on the device of x, resp. z_s; each gradient in
the dtype of its input).  Weights a, b are always float64 in the library.
Double backward is not supported (the functions are once-differentiable).

Gradients and gradcheck:
  * sinkhorn: the envelope-theorem gradients of OT_kl and OT_ent (docs/math.md
    A.8) w.r.t. C, x, y, a and b at the returned potentials: exact at the
    fixed point only, so for gradcheck use schedule="converge" and tol=1e-12.
    Balanced: perturb the weights only along sum a = sum b (e.g. b through
    a's mass).  OT_lin has no envelope gradient and is refused.
  * SinkhornDivergence / sinkhorn_divergence: the gradients of
    otkit/divergence.h w.r.t. x, y, a and b, which depend on the schedule.
    schedule="fixed" (SinkhornDivergence's default): GeomLoss's, the
    derivative through the final extrapolation step with the potentials it
    starts from held fixed, what SamplesLoss's autograd returns (tested to
    1e-10); it is not the derivative of the value, so gradcheck does not
    apply.  schedule="converge" (sinkhorn_divergence's default): the
    envelope-theorem gradients, the derivative of the value at the exact
    fixed point, which match finite differences once the solver has
    converged: for torch.autograd.gradcheck use it with a tight tol (e.g.
    1e-12).  There, in the balanced case, the gradient w.r.t. the weights is
    the projection onto the zero-sum hyperplane (the value is only defined
    for sum a = sum b): differentiate through a parametrisation that keeps the
    weights normalised (e.g. softmax), or use reach (unbalanced).
  * monge_gap: the envelope gradients of otkit/monge_gap.h w.r.t. tx (and x
    when x requires grad) at the eps actually used (a relative eps is held
    fixed, as OTT's stop_gradient).  For gradcheck pass an absolute eps and a
    tight tol (1e-12), so that the value is converged and eps does not move
    with the points.
  * SinKDLoss: grad_mode="unrolled" (default) gives the exact gradient of the
    computed value (the adjoint of the unrolled iterations), so gradcheck
    passes at any iteration count.
  * fdiv / FDivergenceLoss: the closed-form gradients of otkit/fdiv.h w.r.t.
    both arguments (probabilities or logits): exact, gradcheck passes.
  * sliced_wasserstein / wasserstein_1d: the closed-form gradients of
    otkit/sliced.h (the monotone coupling of the sorted projections) w.r.t.
    the points and the weights: exact wherever no two projected atoms (or
    cumulative weights of the two sides) coincide, so gradcheck passes on
    generic data.
  * KDLoss / kd_loss: the baselines of otkit.kd_loss ("kl", "reverse-kl",
    "js", "soft-ce"), closed-form gradients w.r.t. the student logits; the
    teacher logits are a constant (no gradient flows to them).
"""
import numpy as np
import torch

from . import _divergence
from . import _sinkhorn
from ._common import single_precision, exclusive
from . import _distill
from . import _monge_gap
from . import _fdiv
from . import _exact

__all__ = ["sinkhorn", "SinkhornDivergence", "SinKDLoss", "KDLoss", "sinkhorn_divergence",
           "sinkd_loss", "kd_loss", "monge_gap", "fdiv", "FDivergenceLoss", "sliced_wasserstein",
           "wasserstein_1d"]


def _np(t):
    return t.detach().to(device="cpu", dtype=torch.float64).contiguous().numpy()


def _cloud(t, single):
    """A point cloud as a NumPy array for the library: float32 or float64 as
    `single` says; a contiguous CPU tensor of that dtype is shared, not copied."""
    return t.detach().to(device="cpu", dtype=torch.float32 if single else torch.float64) \
        .contiguous().numpy()


def _torch_dtype_arg(dtype):
    """dtype= as NumPy understands it (torch.float32 -> np.float32)."""
    if isinstance(dtype, torch.dtype):
        return {torch.float32: np.float32, torch.float64: np.float64}.get(dtype, dtype)
    return dtype


def _back(arr, like):
    return torch.from_numpy(arr).to(device=like.device, dtype=like.dtype)


class _DivergenceFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, a, b, options):
        want = [k for k, need in zip("xyab", ctx.needs_input_grad[:4]) if need]
        options = dict(options)
        dtype = _torch_dtype_arg(options.pop("dtype", None))
        if dtype is None:
            single = x.dtype == torch.float32 and y.dtype == torch.float32
        else:
            single = single_precision(None, None, dtype)
        res = _divergence.divergence(_cloud(x, single), _cloud(y, single),
                                     None if a is None else _np(a),
                                     None if b is None else _np(b), grad=want,
                                     dtype=np.float32 if single else np.float64, **options)
        grads = []
        for k, t in zip("xyab", (x, y, a, b)):
            g = getattr(res, "grad_" + k)
            grads.append(None if g is None else _back(g, t))
        ctx.grads = grads
        return torch.tensor(res.value, dtype=x.dtype, device=x.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        out = [None if g is None else grad_output * g for g in ctx.grads]
        return out[0], out[1], out[2], out[3], None


def sinkhorn_divergence(x, y, a=None, b=None, **options):
    """Differentiable otkit.divergence(x, y, a, b, **options) on tensors:
    x (n, d), y (m, d), a (n), b (m) (None = uniform).  Returns a 0-d tensor.
    The defaults are otkit.divergence's (schedule="converge"); SinkhornDivergence
    defaults to GeomLoss's fixed schedule.
    float32 x and y run in single precision (dtype= forces float32 or float64;
    see the module's docstring)."""
    return _DivergenceFunction.apply(x, y, a, b, options)


# grad_1 c(x, y) for the ground costs of otkit.sinkhorn, as torch expressions on
# the differences d = x_i - y_j (n, m, k) and their norms r (n, m, 1).
def _cost_grad(cost, power, d):
    r = torch.linalg.vector_norm(d, dim=-1, keepdim=True)
    if cost == "sqeuclidean":
        return 2.0 * d
    if cost == "half-sqeuclidean":
        return d
    if cost == "l1":
        return torch.sign(d)
    if cost in ("euclidean", "lp", "lp-over-p"):
        p = 1.0 if cost == "euclidean" else float(power)
        scale = p if cost == "lp" else 1.0
        # r^(p-2) d, taken as 0 at coincident points (the subgradient 0 for p = 1)
        safe = torch.where(r > 0, r, torch.ones_like(r))
        return torch.where(r > 0, scale * safe ** (p - 2.0) * d, torch.zeros_like(d))
    raise ValueError("otkit.torch.sinkhorn: no gradient w.r.t. x, y for cost %r" % (cost,))


class _SinkhornFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, C, x, y, value, options):
        need_a, need_b, need_C, need_x, need_y = ctx.needs_input_grad[:5]
        options = dict(options)
        if C is None:
            # the gradient formulas read the float64 plan and potentials
            options["dtype"] = np.float64
        res = _sinkhorn.sinkhorn(None if a is None else _np(a), None if b is None else _np(b),
                                 C=None if C is None else _np(C),
                                 x=None if x is None else _np(x),
                                 y=None if y is None else _np(y), **options)
        like = C if C is not None else x
        ctx.grads = [None] * 5
        if value != "ot_lin" and any(ctx.needs_input_grad[:5]):
            P = res.plan()
            eps = res.eps
            if need_C:
                ctx.grads[2] = _back(P, C)
            if need_x or need_y:
                # 1-D clouds are points on a line (as in otkit.sinkhorn)
                X = torch.from_numpy(_np(x)).reshape(x.shape[0], -1)
                Y = torch.from_numpy(_np(y)).reshape(y.shape[0], -1)
                cost = options.get("cost", "sqeuclidean")
                G = _cost_grad(cost, options.get("power"), X[:, None, :] - Y[None, :, :])
                Pt = torch.from_numpy(P)[:, :, None]
                if need_x:
                    ctx.grads[3] = (Pt * G).sum(1).reshape(x.shape).to(device=x.device,
                                                                       dtype=x.dtype)
                if need_y:
                    ctx.grads[4] = -(Pt * G).sum(0).reshape(y.shape).to(device=y.device,
                                                                        dtype=y.dtype)
            # d/dw of the dual objective at its maximiser (docs/math.md A.8)
            for k, (need, pot, w, rho, other) in enumerate((
                    (need_a, res.f, res.a, res.rho_a, res.mass_b),
                    (need_b, res.g, res.b, res.rho_b, res.mass_a))):
                if not need:
                    continue
                pot = np.asarray(pot, dtype=np.float64)
                if np.isinf(rho):
                    gw = pot - eps + eps * other
                else:
                    e = np.exp(-pot / rho)
                    gw = rho * (1.0 - e) - eps * e + eps * other
                if value == "ot_ent":
                    with np.errstate(divide="ignore"):
                        gw = gw + eps * (np.log(w) + 1.0)
                ctx.grads[k] = _back(gw, (a, b)[k])
        return torch.tensor(getattr(res, value), dtype=like.dtype, device=like.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        out = [None if g is None else grad_output * g for g in ctx.grads]
        return out[0], out[1], out[2], out[3], out[4], None, None


def sinkhorn(a=None, b=None, C=None, x=None, y=None, eps=None, blur=None, cost="sqeuclidean",
             value="ot_kl", **options):
    """Differentiable otkit.sinkhorn on tensors: the value `value` ("ot_kl",
    "ot_ent" or "ot_lin"; see otkit.SinkhornResult) as a 0-d tensor, in the
    dtype and on the device of C (resp. x).  a (n), b (m): weights (None =
    uniform); C (n, m) a dense cost, or x (n, d), y (m, d) point clouds with
    the ground cost `cost`.  Other keyword arguments are otkit.sinkhorn's
    (reach, rho, rho_a, rho_b, schedule, tol, max_iter, ...); the solve runs
    in float64.

    Gradients (docs/math.md A.8) are those of the dual objective at the
    returned potentials (the envelope theorem), so they are exact at
    convergence only: with schedule="converge" the error is of the order of
    tol.  dOT_kl/dC = P; dOT_kl/dx_i = sum_j P_ij grad_1 c(x_i, y_j) (y
    likewise); dOT_kl/da_i = f_i - eps + eps m_b on a balanced side,
    rho_a (1 - e^{-f_i/rho_a}) - eps e^{-f_i/rho_a} + eps m_b on an
    unbalanced one (b symmetric, with g and m_a).  OT_ent adds
    eps (log a_i + 1) (-inf at a zero weight).  In the balanced case the
    value exists only for sum a = sum b and (f, g) are defined up to
    (f + c, g - c): the weight gradients are right along directions that keep
    the masses equal, not for a or b moved alone.  value="ot_lin" with an
    input that requires grad is a ValueError (<P, C> is not stationary in the
    potentials).  The backward pass forms the dense n x m plan."""
    if value not in ("ot_kl", "ot_ent", "ot_lin"):
        raise ValueError("value must be \"ot_kl\", \"ot_ent\" or \"ot_lin\", got %r" % (value,))
    if C is None and (x is None or y is None):
        raise ValueError("%s is required (or give the cost matrix C)"
                         % ("x" if x is None else "y"))
    if value == "ot_lin" and torch.is_grad_enabled() and any(
            v is not None and v.requires_grad for v in (a, b, C, x, y)):
        raise ValueError("otkit.torch.sinkhorn: value=\"ot_lin\" (<P,C>) has no envelope "
                         "gradient; differentiate value=\"ot_kl\" or \"ot_ent\"")
    options = dict(options, eps=eps, blur=blur)
    if C is None:
        options["cost"] = cost
    return _SinkhornFunction.apply(a, b, C, x, y, value, options)


class SinkhornDivergence(torch.nn.Module):
    """GeomLoss-style SamplesLoss("sinkhorn") backed by otkit:

        loss = SinkhornDivergence(blur=0.05, p=2, reach=None)
        value = loss(x, y)            # uniform weights
        value = loss(a, x, b, y)      # GeomLoss's argument order

    p = 2 (the default) is the cost |x-y|^2/2 and p = 1 is |x-y| (GeomLoss's
    convention); with cost=, p overrides that cost's exponent (as in otkit.divergence);
    eps = blur^p, rho = reach^p (blur 0.05 unless blur or eps is given; both
    is a ValueError, as reach with rho).  Other keyword arguments (cost, power, eps,
    rho, update, diameter, tol, max_iter, threads, warn, cache_mb,
    dtype) are those of otkit.divergence; float32 x and y run in single
    precision unless dtype says otherwise.

    schedule="fixed" (default, as SamplesLoss): GeomLoss's iterations
    (blur 0.05 and scaling 0.5 by default, as SamplesLoss), its value and its
    gradients w.r.t. x, y and the weights (the derivative through the final
    extrapolation step, not the envelope formula; docs/math.md B.3): the same
    numbers as SamplesLoss("sinkhorn", p, blur, reach, scaling=scaling,
    debias=debias) to 1e-10 (GeomLoss's tensorized p = 1 cost floors
    distances at 1e-4, otkit's does not: ~1e-4 apart there).
    schedule="converge": iterate to tol; the envelope-theorem gradients, which
    gradcheck checks.
    """

    def __init__(self, blur=None, p=None, reach=None, scaling=0.5, debias=True,
                 schedule="fixed", **options):
        super().__init__()
        # at construction, not at the first forward: a loss built wrong fails where it is built
        exclusive("eps", options.get("eps"), "blur", blur)
        exclusive("reach", reach, "rho", options.get("rho"))
        self.options = dict(blur=blur, p=p, reach=reach, scaling=scaling, debias=debias,
                            schedule=schedule, **options)

    def forward(self, *args):
        if len(args) == 2:
            x, y = args
            a = b = None
        elif len(args) == 4:
            a, x, b, y = args
        else:
            raise TypeError("SinkhornDivergence takes (x, y) or (a, x, b, y), got %d arguments"
                            % len(args))
        return _DivergenceFunction.apply(x, y, a, b, self.options)

    def extra_repr(self):
        return ", ".join("%s=%r" % kv for kv in self.options.items())


class _SinKDFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z_s, z_t, options, grad_teacher):
        need_s = ctx.needs_input_grad[0]
        need_t = ctx.needs_input_grad[1] and grad_teacher
        res = _distill.sinkd_loss(_np(z_s), _np(z_t), grad=need_s, grad_teacher=need_t,
                                  **options)
        ctx.g_s = None if res.grad_s is None else _back(res.grad_s, z_s)
        ctx.g_t = None if res.grad_t is None else _back(res.grad_t, z_t)
        return torch.tensor(res.loss, dtype=z_s.dtype, device=z_s.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        gs = None if ctx.g_s is None else grad_output * ctx.g_s
        gt = None if ctx.g_t is None else grad_output * ctx.g_t
        return gs, gt, None, None


def sinkd_loss(z_s, z_t, grad_teacher=False, **options):
    """Differentiable otkit.sinkd_loss on (B, K) logit tensors; the teacher gets
    a gradient only with grad_teacher=True (otherwise it is treated as a
    constant, as a frozen teacher is)."""
    return _SinKDFunction.apply(z_s, z_t, options, bool(grad_teacher))


class SinKDLoss(torch.nn.Module):
    """The SinKD loss as a module: SinKDLoss(tau=2, eps=0.1, iters=20,
    cost="l1", weight=1, grad_mode="unrolled", grad_teacher=False)(z_s, z_t)
    for (B, K) student and teacher logits.  See otkit.sinkd_loss for the
    definition and units; the reference code's weight is 0.001."""

    def __init__(self, tau=2.0, eps=0.1, iters=20, cost="l1", power=None, weight=1.0,
                 grad_mode="unrolled", grad_teacher=False, threads=0):
        super().__init__()
        self.options = dict(tau=tau, eps=eps, iters=iters, cost=cost, power=power,
                            weight=weight, grad_mode=grad_mode, threads=threads)
        self.grad_teacher = bool(grad_teacher)

    def forward(self, z_s, z_t):
        return _SinKDFunction.apply(z_s, z_t, self.options, self.grad_teacher)

    def extra_repr(self):
        return ", ".join("%s=%r" % kv for kv in self.options.items())


class _KDFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z_s, z_t, kind, tau):
        res = _distill.kd_loss(kind, _np(z_s), _np(z_t), tau=tau, grad=ctx.needs_input_grad[0])
        ctx.g_s = None if res.grad_s is None else _back(res.grad_s, z_s)
        return torch.tensor(res.loss, dtype=z_s.dtype, device=z_s.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        gs = None if ctx.g_s is None else grad_output * ctx.g_s
        return gs, None, None, None


def kd_loss(kind, z_s, z_t, tau=1.0):
    """Differentiable otkit.kd_loss(kind, z_s, z_t, tau) on (B, K) logit
    tensors: "kl" (tau^2 KL(p_t || p_s), Hinton et al.), "reverse-kl"
    (KL(p_s || p_t)), "js" (Jensen-Shannon) or "soft-ce", batch means (the
    library's names, otkit._names("kd_divergence")).
    The gradient flows to the student logits z_s only; z_t is a constant (a
    frozen teacher).  Returns a 0-d tensor."""
    return _KDFunction.apply(z_s, z_t, kind, tau)


class KDLoss(torch.nn.Module):
    """A baseline distillation loss as a module: KDLoss("kl", tau=4)(z_s, z_t)
    for (B, K) student and teacher logits (see otkit.kd_loss and kd_loss)."""

    def __init__(self, kind="kl", tau=1.0):
        super().__init__()
        self.kind = kind
        self.tau = tau

    def forward(self, z_s, z_t):
        return _KDFunction.apply(z_s, z_t, self.kind, self.tau)

    def extra_repr(self):
        return "kind=%r, tau=%r" % (self.kind, self.tau)


class _MongeGapFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, tx, w, options):
        need_tx = ctx.needs_input_grad[1]
        need_x = ctx.needs_input_grad[0]
        res = _monge_gap.monge_gap(_np(x), _np(tx), None if w is None else _np(w),
                                   grad=need_tx, grad_x=need_x, **options)
        ctx.g_tx = None if res.grad_tx is None else _back(res.grad_tx, tx)
        ctx.g_x = None if res.grad_x is None else _back(res.grad_x, x)
        return torch.tensor(res.monge_gap, dtype=tx.dtype, device=tx.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        gx = None if ctx.g_x is None else grad_output * ctx.g_x
        gtx = None if ctx.g_tx is None else grad_output * ctx.g_tx
        return gx, gtx, None, None


def monge_gap(x, tx, w=None, **options):
    """Differentiable otkit.monge_gap(x, tx, w, **options) on tensors x, tx
    (n, d), as a regulariser of a neural map T: tx = T(x).  The gradient flows
    to tx (grad_tx) and, when x requires grad, to x (grad_x); the weights w are
    held fixed (no gradient).  Options: cost, power, eps, relative_eps,
    relative_to, tol, max_iter, threads, warn.  Returns a 0-d tensor."""
    if w is not None and torch.is_tensor(w) and w.requires_grad:
        raise ValueError("w: the Monge gap is not differentiated w.r.t. the weights; "
                         "pass w.detach()")
    return _MongeGapFunction.apply(x, tx, w, options)


class _FdivFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, p, q, options):
        need = ctx.needs_input_grad
        grad = True if need[0] and need[1] else "p" if need[0] else "q" if need[1] else False
        res = _fdiv.fdiv(_np(p), _np(q), grad=grad, **options)
        ctx.none = options.get("reduction", "mean") == "none"
        ctx.g_p = None if res.grad_p is None else _back(res.grad_p, p)
        ctx.g_q = None if res.grad_q is None else _back(res.grad_q, q)
        return torch.as_tensor(res.value, dtype=q.dtype, device=q.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        # Rows are independent: with reduction="none" row i's gradient is scaled
        # by grad_output[i] (the library returns the gradient of the sum).
        go = grad_output.unsqueeze(-1) if ctx.none and grad_output.dim() > 0 else grad_output
        gp = None if ctx.g_p is None else go * ctx.g_p
        gq = None if ctx.g_q is None else go * ctx.g_q
        return gp, gq, None


def fdiv(p, q, **options):
    """Differentiable otkit.fdiv(p, q, **options) on tensors p, q ((K,) or (B, K)
    probabilities, or logits with logits=True): gradients flow to whichever
    requires grad.  Options: kind, alpha, logits, tau, tau2, smoothing,
    reduction, generator, slope_at_infinity, threads.  Returns a 0-d tensor
    (a (B,) tensor with reduction="none")."""
    if "grad" in options:
        raise ValueError("grad: autograd decides which gradients are computed")
    return _FdivFunction.apply(p, q, options)


class FDivergenceLoss(torch.nn.Module):
    """An f-divergence distillation loss: FDivergenceLoss(kind="kl", alpha=None,
    tau=1, tau2=False, reduction="mean")(z_s, z_t) = D_f(softmax(z_t/tau) ||
    softmax(z_s/tau)) for (B, K) student and teacher logits, the teacher first
    inside D_f as in torch.nn.KLDivLoss(input, target) = KL(target || input).
    kind="kl" with tau2=True is Hinton's KD loss.  Gradients flow to z_s (and to
    z_t if it requires grad).  See otkit.fdiv for the members."""

    def __init__(self, kind="kl", alpha=None, tau=1.0, tau2=False, reduction="mean",
                 generator=None, threads=0):
        super().__init__()
        self.options = dict(kind=kind, alpha=alpha, logits=True, tau=tau, tau2=tau2,
                            reduction=reduction, threads=threads)
        if generator is not None:
            self.options["generator"] = generator

    def forward(self, z_s, z_t):
        return _FdivFunction.apply(z_t, z_s, self.options)

    def extra_repr(self):
        return ", ".join("%s=%r" % kv for kv in self.options.items() if kv[0] != "generator")


def _opt(t):
    return None if t is None else _np(t)


class _SlicedFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, Y, a, b, options):
        need = any(ctx.needs_input_grad[:4])
        r = _exact.sliced_wasserstein(_np(X), _np(Y), _opt(a), _opt(b), grad=need, **options)
        ctx.need = need
        if need:
            # The library's gradients are of SW_p^p; SW_p = (SW_p^p)^(1/p).  At
            # SW_p = 0 (p > 1) the chain factor is infinite: 0 is the subgradient.
            p = float(options.get("p", 2))
            scale = (r.value / (p * r.value_p)) if r.value_p > 0 else (1.0 if p == 1 else 0.0)
            ctx.g = [None if g is None else _back(scale * g, like) for g, like in
                     ((r.grad_X, X), (r.grad_Y, Y), (None if a is None else r.grad_a, a),
                      (None if b is None else r.grad_b, b))]
        return torch.as_tensor(r.value, dtype=X.dtype, device=X.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        if not ctx.need:
            return None, None, None, None, None
        out = [None if g is None or not need else grad_output * g
               for g, need in zip(ctx.g, ctx.needs_input_grad[:4])]
        return out[0], out[1], out[2], out[3], None


def sliced_wasserstein(X, Y, a=None, b=None, p=2, n_projections=50, seed=None,
                       directions="gaussian", projections=None):
    """Differentiable sliced Wasserstein distance SW_p (the value of
    otkit.sliced_wasserstein_distance) between point clouds X (n, d) and Y
    (m, d) with optional weights a, b: gradients flow to whichever requires
    grad.  projections: (d, L) directions (POT's layout), else n_projections
    directions drawn by otkit (seed None = 0; directions "gaussian" or
    "halton").  Returns a 0-d tensor."""
    options = dict(p=p, n_projections=n_projections, seed=seed, directions=directions)
    if projections is not None:
        options["projections"] = _np(projections) if torch.is_tensor(projections) \
            else projections
    return _SlicedFunction.apply(X, Y, a, b, options)


class _W1dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, v, wu, wv, p):
        r = _exact.wasserstein_1d(_np(u), _np(v), _opt(wu), _opt(wv), p=p, grad=True)
        ctx.g = [_back(r.grad_u, u), _back(r.grad_v, v),
                 None if wu is None else _back(r.grad_u_weights, wu),
                 None if wv is None else _back(r.grad_v_weights, wv)]
        return torch.as_tensor(r.value, dtype=u.dtype, device=u.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        out = [None if g is None or not need else grad_output * g
               for g, need in zip(ctx.g, ctx.needs_input_grad[:4])]
        return out[0], out[1], out[2], out[3], None


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p=1):
    """Differentiable W_p^p on the line (POT's ot.wasserstein_1d convention: the
    p-th power) between 1-D tensors u_values (n,) and v_values (m,) with
    optional weights (normalised to mass 1 inside, and differentiated through
    the normalisation).  Returns a 0-d tensor."""
    return _W1dFunction.apply(u_values, v_values, u_weights, v_weights, float(p))
