"""otkit.sinkd_loss / kd_loss / sinkd_objective against plain PyTorch (float64)
implementations of the definitions (otkit/distill.h), differentiated by
autograd.  Values and gradients agree to 1e-10 relative (max |difference| /
max |value|)."""
import numpy as np
import pytest

import otkit

torch = pytest.importorskip("torch")

TOL = 1e-10


def close(u, v, tol=TOL):
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    return np.abs(u - v).max() <= tol * max(1e-300, np.abs(v).max())


def ref_sinkd(zs, zt, tau, eps, iters, cost, weight, envelope=False):
    ps = torch.softmax(zs / tau, dim=1)
    pt = torch.softmax(zt / tau, dim=1)
    diff = ps[:, None, :] - pt[None, :, :]
    if cost == "l1":
        W = diff.abs().sum(-1)
    elif cost == "sqeuclidean":
        W = (diff ** 2).sum(-1)
    else:
        raise AssertionError(cost)
    P = torch.exp(-W / eps)
    for _ in range(iters):
        P = P / P.sum(1, keepdim=True)
        P = P / P.sum(0, keepdim=True)
    if envelope:
        P = P.detach()
    return weight * (P * W).sum()


def logits(rng, B, K, scale=2.0):
    return rng.normal(size=(B, K)) * scale


@pytest.mark.parametrize("B,K,tau,eps,iters,cost", [
    (8, 5, 2.0, 0.1, 20, "l1"),
    (16, 10, 1.0, 0.05, 5, "l1"),
    (6, 4, 3.0, 0.2, 30, "sqeuclidean"),
])
def test_sinkd_matches_reference(rng, B, K, tau, eps, iters, cost):
    zs, zt = logits(rng, B, K), logits(rng, B, K)
    r = otkit.sinkd_loss(zs, zt, tau=tau, eps=eps, iters=iters, cost=cost, weight=0.5,
                         grad_teacher=True)
    ts = torch.tensor(zs, requires_grad=True)
    tt = torch.tensor(zt, requires_grad=True)
    L = ref_sinkd(ts, tt, tau, eps, iters, cost, 0.5)
    L.backward()
    assert r.loss == pytest.approx(L.item(), rel=TOL)
    assert close(r.grad_s, ts.grad.numpy())
    assert close(r.grad_t, tt.grad.numpy())
    # Reusable object, envelope gradient: the plan held fixed.
    sd = otkit.SinKD(B, K, tau=tau, eps=eps, iters=iters, cost=cost, weight=0.5,
                     grad_mode="envelope")
    re = sd.loss(zs, zt)
    ts.grad = None
    ref_sinkd(ts, tt, tau, eps, iters, cost, 0.5, envelope=True).backward()
    assert re.loss == pytest.approx(r.loss, rel=1e-14)
    assert close(re.grad_s, ts.grad.numpy())
    assert re.grad_t is None


def test_sinkd_optional_gradients(rng):
    zs, zt = logits(rng, 4, 3), logits(rng, 4, 3)
    r = otkit.sinkd_loss(zs, zt, grad=False)
    assert r.grad_s is None and r.grad_t is None
    loss, gs, gt = otkit.sinkd_loss(zs, zt)
    assert loss == r.loss and gs.shape == (4, 3) and gt is None


def ref_kd(kind, zs, zt, tau):
    ls = torch.log_softmax(zs / tau, 1)
    lt = torch.log_softmax(zt / tau, 1)
    ps, pt = ls.exp(), lt.exp()
    if kind == "kl":
        v = tau ** 2 * (pt * (lt - ls)).sum(1)
    elif kind == "reverse-kl":
        v = (ps * (ls - lt)).sum(1)
    elif kind == "js":
        lm = torch.log(0.5 * (ps + pt))
        v = 0.5 * (ps * (ls - lm)).sum(1) + 0.5 * (pt * (lt - lm)).sum(1)
    elif kind == "soft-ce":
        v = -(pt * ls).sum(1)
    return v.mean()


@pytest.mark.parametrize("kind,fn", [("kl", otkit.kl_loss), ("reverse-kl", otkit.rkl_loss),
                                     ("js", otkit.js_loss), ("soft-ce", otkit.soft_ce_loss)])
@pytest.mark.parametrize("tau", [1.0, 4.0])
def test_kd_losses(rng, kind, fn, tau):
    zs, zt = logits(rng, 7, 6), logits(rng, 7, 6)
    ts = torch.tensor(zs, requires_grad=True)
    L = ref_kd(kind, ts, torch.tensor(zt), tau)
    L.backward()
    for r in (otkit.kd_loss(kind, zs, zt, tau=tau), fn(zs, zt, tau=tau)):
        assert r.loss == pytest.approx(L.item(), rel=TOL)
        assert close(r.grad_s, ts.grad.numpy())
    assert otkit.kd_loss(kind, zs, zt, tau=tau, grad=False).grad_s is None


def test_kd_loss_huge_logits_stay_finite(rng):
    zs = logits(rng, 3, 4) * 1e4
    zt = logits(rng, 3, 4) * 1e4
    r = otkit.kd_loss("js", zs, zt, tau=1.0)
    assert np.isfinite(r.loss) and np.all(np.isfinite(r.grad_s))
    assert 0.0 <= r.loss <= np.log(2) + 1e-12


@pytest.mark.parametrize("kd", ["soft-ce", "kl"])
def test_objective(rng, kd):
    B, K = 9, 4
    zs, zt = logits(rng, B, K), logits(rng, B, K)
    labels = rng.integers(0, K, size=B)
    alpha, beta = 0.3, 0.7
    r = otkit.sinkd_objective(zs, zt, labels, alpha, beta, kd=kd, kd_tau=2.0, tau=2.0,
                              eps=0.1, iters=20, weight=0.001)
    ts = torch.tensor(zs, requires_grad=True)
    tt = torch.tensor(zt)
    kd_v = ref_kd(kd, ts, tt, 2.0)
    ce_v = torch.nn.functional.cross_entropy(ts, torch.tensor(labels))
    sk_v = ref_sinkd(ts, tt, 2.0, 0.1, 20, "l1", 0.001)
    total = alpha * kd_v + (1 - alpha) * ce_v + beta * sk_v
    total.backward()
    assert r.kd == pytest.approx(kd_v.item(), rel=TOL)
    assert r.ce == pytest.approx(ce_v.item(), rel=TOL)
    assert r.sinkd == pytest.approx(sk_v.item(), rel=TOL)
    assert r.total == pytest.approx(total.item(), rel=TOL)
    assert close(r.grad_s, ts.grad.numpy())
