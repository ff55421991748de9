"""otkit.torch: autograd through otkit's analytic gradients, checked with
torch.autograd.gradcheck in float64.

The divergence's gradients on the converge schedule are envelope gradients,
exact at the fixed point: the checks use that schedule with tol = 1e-12 so that
the finite differences gradcheck takes (eps = 1e-6) see a converged value.  On
the fixed schedule (SinkhornDivergence's default) they are GeomLoss's, which
are not the derivative of the value: they are compared with GeomLoss's own
autograd (data/geomloss_gradients.json).  Balanced
weights are checked through a softmax parametrisation (the value is only
defined for sum a = sum b, and otkit's weight gradient is the zero-sum
projection); unbalanced weights directly."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import otkit  # noqa: E402
import otkit.torch as otorch  # noqa: E402

F64 = torch.float64


def t(rng, *shape, scale=1.0, shift=0.0, grad=True):
    return torch.tensor(rng.normal(size=shape) * scale + shift, dtype=F64, requires_grad=grad)


@pytest.mark.parametrize("kw", [dict(p=2), dict(p=1), dict(p=2, reach=0.8),
                                dict(cost="sqeuclidean"), dict(p=2, debias=False)])
def test_divergence_gradcheck_points(rng, kw):
    x, y = t(rng, 6, 2), t(rng, 5, 2, shift=0.5)
    loss = otorch.SinkhornDivergence(blur=0.5, schedule="converge", tol=1e-12, max_iter=100000, **kw)
    assert torch.autograd.gradcheck(lambda x, y: loss(x, y), (x, y))


def test_divergence_gradcheck_balanced_weights(rng):
    x, y = t(rng, 6, 2), t(rng, 5, 2, shift=0.5)
    la, lb = t(rng, 6), t(rng, 5)
    loss = otorch.SinkhornDivergence(blur=0.5, schedule="converge", tol=1e-12, max_iter=100000)
    assert torch.autograd.gradcheck(
        lambda la, x, lb, y: loss(torch.softmax(la, 0), x, torch.softmax(lb, 0), y),
        (la, x, lb, y))


def test_divergence_gradcheck_unbalanced_weights(rng):
    x, y = t(rng, 6, 2), t(rng, 5, 2, shift=0.5)
    a = torch.tensor(rng.uniform(0.1, 0.3, 6), dtype=F64, requires_grad=True)
    b = torch.tensor(rng.uniform(0.1, 0.4, 5), dtype=F64, requires_grad=True)
    loss = otorch.SinkhornDivergence(blur=0.5, reach=1.0, schedule="converge", tol=1e-12,
                                   max_iter=100000)
    assert torch.autograd.gradcheck(lambda a, x, b, y: loss(a, x, b, y), (a, x, b, y))


def test_divergence_values_and_dtypes(rng):
    x, y = t(rng, 8, 3), t(rng, 7, 3, shift=0.3)
    loss = otorch.SinkhornDivergence(blur=0.3)
    v = loss(x, y)
    # GeomLoss's schedule by default, as SamplesLoss
    ref = otkit.divergence(x.detach().numpy(), y.detach().numpy(), blur=0.3,
                           schedule="fixed").value
    assert ref != otkit.divergence(x.detach().numpy(), y.detach().numpy(), blur=0.3).value
    assert v.dtype == F64 and v.item() == ref
    a = torch.full((8,), 1 / 8, dtype=F64)
    b = torch.full((7,), 1 / 7, dtype=F64)
    assert loss(a, x, b, y).item() == pytest.approx(ref, rel=1e-12)
    x32 = x.detach().float().requires_grad_()
    v32 = loss(x32, y.detach().float())
    assert v32.dtype == torch.float32
    v32.backward()
    assert x32.grad.dtype == torch.float32 and x32.grad.shape == (8, 3)
    with pytest.raises(TypeError, match="takes"):
        loss(x)


def test_divergence_gradient_flow_decreases(rng):
    x = t(rng, 30, 2)
    y = torch.tensor(rng.normal(size=(30, 2)) + 2.0, dtype=F64)
    loss = otorch.SinkhornDivergence(blur=0.3)
    opt = torch.optim.SGD([x], lr=5.0)
    values = []
    for _ in range(5):
        opt.zero_grad()
        v = loss(x, y)
        v.backward()
        opt.step()
        values.append(v.item())
    assert all(b < a for a, b in zip(values, values[1:])), values


@pytest.mark.parametrize("kw", [dict(), dict(cost="sqeuclidean", tau=1.0, eps=0.2, iters=5),
                                dict(weight=0.001, iters=40)])
def test_sinkd_gradcheck(rng, kw):
    zs, zt = t(rng, 5, 4, scale=2.0), t(rng, 5, 4, scale=2.0)
    loss = otorch.SinKDLoss(grad_teacher=True, **kw)
    assert torch.autograd.gradcheck(loss, (zs, zt))


def test_sinkd_teacher_frozen_by_default(rng):
    zs, zt = t(rng, 6, 3), t(rng, 6, 3)
    v = otorch.SinKDLoss()(zs, zt)
    v.backward()
    assert zt.grad is None and zs.grad is not None
    r = otkit.sinkd_loss(zs.detach().numpy(), zt.detach().numpy())
    assert v.item() == r.loss
    assert np.array_equal(zs.grad.numpy(), r.grad_s)


@pytest.mark.parametrize("cost", ["sqeuclidean", "half-sqeuclidean"])
def test_monge_gap_gradcheck(rng, cost):
    # absolute eps (a relative one is held fixed, see otkit.torch) and a
    # tight tol so that finite differences see a converged value
    x = t(rng, 6, 2, grad=False)
    tx = t(rng, 6, 2, shift=0.5)
    f = lambda tx: otorch.monge_gap(x, tx, eps=0.5, cost=cost, tol=1e-13, max_iter=200000)
    assert torch.autograd.gradcheck(f, (tx,))


def test_monge_gap_gradcheck_x_and_tx(rng):
    x = t(rng, 5, 2)
    tx = t(rng, 5, 2, shift=0.3)
    w = torch.softmax(t(rng, 5, grad=False), 0)
    f = lambda x, tx: otorch.monge_gap(x, tx, w, eps=0.5, tol=1e-13, max_iter=200000)
    assert torch.autograd.gradcheck(f, (x, tx))


def test_monge_gap_value_and_training_step(rng):
    x = t(rng, 20, 2, grad=False)
    A = torch.tensor([[1.0, 0.8], [-0.6, 1.2]], dtype=F64, requires_grad=True)
    value = otorch.monge_gap(x, x @ A.T, eps=0.1, tol=1e-10)
    ref = otkit.monge_gap(x.numpy(), (x @ A.T).detach().numpy(), eps=0.1, tol=1e-10)
    assert value.item() == pytest.approx(ref.monge_gap, rel=1e-14)
    value.backward()
    assert A.grad is not None and torch.isfinite(A.grad).all()
    # float32 in, float32 out
    v32 = otorch.monge_gap(x.float(), (x @ A.T).detach().float(), eps=0.1)
    assert v32.dtype == torch.float32


@pytest.mark.parametrize("kind", ["kl", "reverse-kl", "js", "soft-ce"])
def test_kd_gradcheck(rng, kind):
    z_s, z_t = t(rng, 5, 4, scale=2.0), t(rng, 5, 4, scale=2.0, grad=False)
    loss = otorch.KDLoss(kind, tau=1.7)
    assert torch.autograd.gradcheck(lambda z: loss(z, z_t), (z_s,))


@pytest.mark.parametrize("kind", ["kl", "reverse-kl", "js", "soft-ce"])
def test_kd_values_against_torch(rng, kind):
    """The values against the definitions written with torch's own ops."""
    tau = 2.5
    z_s, z_t = t(rng, 7, 3, scale=2.0), t(rng, 7, 3, scale=2.0, grad=False)
    ls, lt = torch.log_softmax(z_s / tau, 1), torch.log_softmax(z_t / tau, 1)
    ps, pt = ls.exp(), lt.exp()
    if kind == "kl":
        ref = tau ** 2 * (pt * (lt - ls)).sum(1).mean()
    elif kind == "reverse-kl":
        ref = (ps * (ls - lt)).sum(1).mean()
    elif kind == "js":
        lm = torch.log((ps + pt) / 2)
        ref = 0.5 * ((ps * (ls - lm)).sum(1) + (pt * (lt - lm)).sum(1)).mean()
    else:
        ref = -(pt * ls).sum(1).mean()
    value = otorch.kd_loss(kind, z_s, z_t, tau=tau)
    assert abs(value.item() - ref.item()) < 1e-12 * max(1.0, abs(ref.item()))
    value.backward()
    g_ref, = torch.autograd.grad(ref, z_s)
    assert torch.allclose(z_s.grad, g_ref, rtol=1e-10, atol=1e-12)
    # the teacher is a constant, and float32 comes back as float32
    z_t.requires_grad_(True)
    v32 = otorch.kd_loss(kind, z_s.detach().float().requires_grad_(), z_t.float(), tau=tau)
    assert v32.dtype == torch.float32
    v32.backward()
    assert z_t.grad is None


# otkit.torch.sinkhorn: envelope gradients of OT_kl / OT_ent (docs/math.md A.8),
# exact at the fixed point, hence tol = 1e-12 on the converge schedule.
TIGHT = dict(tol=1e-12, max_iter=100000)


def _weights(rng, n, mass=1.0):
    w = rng.uniform(0.5, 1.5, size=n)
    return torch.tensor(w * mass / w.sum(), dtype=F64, requires_grad=True)


@pytest.mark.parametrize("value", ["ot_kl", "ot_ent", "ot_lin"])
def test_sinkhorn_value_matches_otkit(rng, value):
    a, b = _weights(rng, 6).detach(), _weights(rng, 5).detach()
    C = t(rng, 6, 5, grad=False) ** 2
    x, y = t(rng, 6, 2, grad=False), t(rng, 5, 2, grad=False)
    r = otkit.sinkhorn(a.numpy(), b.numpy(), C=C.numpy(), eps=0.3, **TIGHT)
    v = otorch.sinkhorn(a, b, C=C, eps=0.3, value=value, **TIGHT)
    assert v.shape == () and v.dtype == F64
    assert v.item() == getattr(r, value)
    r = otkit.sinkhorn(a.numpy(), b.numpy(), x=x.numpy(), y=y.numpy(), blur=0.5, **TIGHT)
    v = otorch.sinkhorn(a, b, x=x, y=y, blur=0.5, value=value, **TIGHT)
    assert v.item() == getattr(r, value)


def test_sinkhorn_ot_kl_against_pot_plan(rng):
    """OT_kl = <P,C> + eps KL(P | a x b) from POT's sinkhorn_log plan (unit masses)."""
    ot = pytest.importorskip("ot")
    a, b = _weights(rng, 6).detach().numpy(), _weights(rng, 5).detach().numpy()
    C = rng.uniform(0, 2, size=(6, 5))
    eps = 0.2
    P = ot.sinkhorn(a, b, C, eps, method="sinkhorn_log", numItermax=100000, stopThr=1e-13)
    kl = np.sum(P * np.log(P / np.outer(a, b))) - P.sum() + 1.0
    ref = np.sum(P * C) + eps * kl
    v = otorch.sinkhorn(torch.tensor(a), torch.tensor(b), C=torch.tensor(C), eps=eps, **TIGHT)
    assert abs(v.item() - ref) < 1e-10
    lin = otorch.sinkhorn(torch.tensor(a), torch.tensor(b), C=torch.tensor(C), eps=eps,
                          value="ot_lin", **TIGHT)
    assert abs(lin.item() - ot.sinkhorn2(a, b, C, eps, method="sinkhorn_log",
                                         numItermax=100000, stopThr=1e-13)) < 1e-10


@pytest.mark.parametrize("value", ["ot_kl", "ot_ent"])
def test_sinkhorn_gradcheck_cost_matrix(rng, value):
    C = t(rng, 6, 5)
    assert torch.autograd.gradcheck(
        lambda C: otorch.sinkhorn(C=C, eps=0.4, value=value, **TIGHT), (C,))


@pytest.mark.parametrize("kw", [dict(), dict(cost="half-sqeuclidean"), dict(cost="euclidean"),
                                dict(cost="lp", power=3), dict(cost="lp-over-p", power=1.5),
                                dict(cost="l1"), dict(reach=1.0)])
def test_sinkhorn_gradcheck_points(rng, kw):
    x, y = t(rng, 6, 2), t(rng, 5, 2, shift=0.5)
    assert torch.autograd.gradcheck(
        lambda x, y: otorch.sinkhorn(x=x, y=y, blur=0.5, **kw, **TIGHT), (x, y))


def test_sinkhorn_gradcheck_points_on_a_line(rng):
    x, y = t(rng, 6), t(rng, 5, shift=0.5)
    assert torch.autograd.gradcheck(
        lambda x, y: otorch.sinkhorn(x=x, y=y, blur=0.5, value="ot_ent", **TIGHT), (x, y))


def test_sinkhorn_float32_points(rng):
    """float32 tensors: the solve runs in float64, value and gradients come back float32."""
    x, y = t(rng, 6, 2), t(rng, 5, 2)
    v64 = otorch.sinkhorn(x=x, y=y, blur=0.5, **TIGHT)
    v64.backward()
    x32 = x.detach().float().requires_grad_()
    v32 = otorch.sinkhorn(x=x32, y=y.detach().float(), blur=0.5, **TIGHT)
    v32.backward()
    assert v32.dtype == torch.float32 and x32.grad.dtype == torch.float32
    assert abs(v32.item() - v64.item()) < 1e-6
    assert torch.allclose(x32.grad.double(), x.grad, rtol=0, atol=1e-5)


@pytest.mark.parametrize("value", ["ot_kl", "ot_ent"])
@pytest.mark.parametrize("mass", [1.0, 2.5])
def test_sinkhorn_gradcheck_balanced_weights(rng, value, mass):
    """b follows a's mass (b = w m_a / sum w), so every direction keeps the
    problem balanced; mass 2.5 exercises the eps m_a m_b term."""
    a, w = _weights(rng, 6, mass), _weights(rng, 5)
    C = t(rng, 6, 5, grad=False)
    assert torch.autograd.gradcheck(
        lambda a, w, C: otorch.sinkhorn(a, w * a.sum() / w.sum(), C=C, eps=0.4, value=value,
                                        **TIGHT), (a, w, C.requires_grad_()))


@pytest.mark.parametrize("value", ["ot_kl", "ot_ent"])
@pytest.mark.parametrize("kw", [dict(rho=0.7), dict(rho_a=0.5), dict(rho_a=0.5, rho_b=2.0)])
def test_sinkhorn_gradcheck_unbalanced_weights(rng, value, kw):
    a, b = _weights(rng, 6, 1.3), _weights(rng, 5, 0.8)
    x, y = t(rng, 6, 2), t(rng, 5, 2, shift=0.5)
    assert torch.autograd.gradcheck(
        lambda a, b, x, y: otorch.sinkhorn(a, b, x=x, y=y, blur=0.5, value=value, **kw,
                                           **TIGHT), (a, b, x, y))


def test_sinkhorn_gradient_closed_forms(rng):
    """dOT_kl/dC = the plan, dOT_kl/dx = 2 (x r - P y) for |x-y|^2."""
    x, y = t(rng, 6, 2), t(rng, 5, 2)
    otorch.sinkhorn(x=x, y=y, blur=0.5, **TIGHT).backward()
    r = otkit.sinkhorn(x=x.detach().numpy(), y=y.detach().numpy(), blur=0.5, **TIGHT)
    P = r.plan()
    X, Y = x.detach().numpy(), y.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (X * P.sum(1)[:, None] - P @ Y),
                               rtol=0, atol=1e-13)
    C = t(rng, 6, 5)
    otorch.sinkhorn(C=C, eps=0.3, **TIGHT).backward()
    np.testing.assert_allclose(C.grad.numpy(),
                               otkit.sinkhorn(C=C.detach().numpy(), eps=0.3, **TIGHT).plan(),
                               rtol=0, atol=1e-15)


def test_sinkhorn_ot_lin_refuses_gradients(rng):
    C = t(rng, 6, 5)
    with pytest.raises(ValueError, match="ot_lin"):
        otorch.sinkhorn(C=C, eps=0.3, value="ot_lin")
    v = otorch.sinkhorn(C=C.detach(), eps=0.3, value="ot_lin")
    assert v.item() == otkit.sinkhorn(C=C.detach().numpy(), eps=0.3).ot_lin
    with torch.no_grad():
        assert otorch.sinkhorn(C=C, eps=0.3, value="ot_lin").item() == v.item()
    with pytest.raises(ValueError, match="value"):
        otorch.sinkhorn(C=C, eps=0.3, value="ot_foo")
