"""otkit.fdiv / psi / information_value and otkit.torch.fdiv / FDivergenceLoss.

References: SciPy (scipy.special.rel_entr, kl_div, scipy.spatial.distance.
jensenshannon, compared live), plain NumPy formulas of each member, PyTorch's
own KD loss (torch.nn.functional.kl_div), torch.autograd.gradcheck for the
analytic gradients, the otk tool, and a hand computation of PSI and IV."""
import json
import math
import subprocess

import numpy as np
import pytest

import otkit

scipy_special = pytest.importorskip("scipy.special")
scipy_distance = pytest.importorskip("scipy.spatial.distance")


def rows(rng, B, K):
    p = rng.uniform(0.05, 1.0, size=(B, K))
    q = rng.uniform(0.05, 1.0, size=(B, K))
    return p / p.sum(1, keepdims=True), q / q.sum(1, keepdims=True)


def test_kl_matches_scipy_rel_entr(rng):
    p, q = rows(rng, 6, 9)
    res = otkit.fdiv(p, q, reduction="none")
    ref = scipy_special.rel_entr(p, q).sum(1)
    assert np.allclose(res.value, ref, rtol=1e-14, atol=0)
    # Zeros: rel_entr(0, q) = 0, rel_entr(p > 0, 0) = inf; otkit follows it.
    a = np.array([0.5, 0.5, 0.0])
    b = np.array([0.0, 0.5, 0.5])
    assert otkit.fdiv(a, b).value == scipy_special.rel_entr(a, b).sum() == np.inf
    c = np.array([0.0, 0.25, 0.75])
    assert math.isclose(otkit.fdiv(c, b).value, scipy_special.rel_entr(c, b).sum(), rel_tol=1e-15)


def test_js_matches_scipy_jensenshannon(rng):
    p, q = rows(rng, 5, 7)
    res = otkit.fdiv(p, q, kind="js", reduction="none")
    # SciPy returns the distance sqrt(JS) (natural log by default).
    ref = np.array([scipy_distance.jensenshannon(p[i], q[i]) ** 2 for i in range(5)])
    assert np.allclose(res.value, ref, rtol=1e-12, atol=0)
    ref2 = scipy_distance.jensenshannon([0.5, 0.5, 0.0], [0.0, 0.0, 1.0]) ** 2
    assert math.isclose(otkit.fdiv([0.5, 0.5, 0.0], [0.0, 0.0, 1.0], kind="js").value, ref2,
                        rel_tol=1e-14)


def numpy_member(kind, p, q, alpha=None):
    if kind == "kl":
        return (p * np.log(p / q)).sum(-1)
    if kind == "reverse-kl":
        return (q * np.log(q / p)).sum(-1)
    if kind == "jeffreys":
        return ((p - q) * np.log(p / q)).sum(-1)
    if kind == "tv":
        return 0.5 * np.abs(p - q).sum(-1)
    if kind == "hellinger":
        return ((np.sqrt(p) - np.sqrt(q)) ** 2).sum(-1)
    if kind == "pearson":
        return ((p - q) ** 2 / q).sum(-1)
    if kind == "neyman":
        return ((p - q) ** 2 / p).sum(-1)
    if kind == "alpha":
        b, g = (1 - alpha) / 2, (1 + alpha) / 2
        return 4 / (1 - alpha ** 2) * (b * p + g * q - p ** b * q ** g).sum(-1)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind,alpha", [("kl", None), ("reverse-kl", None), ("jeffreys", None),
                                        ("tv", None), ("hellinger", None), ("pearson", None),
                                        ("neyman", None), ("alpha", 0.3), ("alpha", -2.0),
                                        ("alpha", 1.7)])
def test_members_match_numpy_formulas(rng, kind, alpha):
    p, q = rows(rng, 4, 6)
    got = otkit.fdiv(p, q, kind=kind, alpha=alpha, reduction="none").value
    assert np.allclose(got, numpy_member(kind, p, q, alpha), rtol=1e-12, atol=0)
    # The same through logits with a temperature and shifts.
    zp, zq = 1.5 * np.log(p) + 4.0, 1.5 * np.log(q) - 30.0
    got2 = otkit.fdiv(zp, zq, kind=kind, alpha=alpha, logits=True, tau=1.5,
                      reduction="sum").value
    assert math.isclose(got2, numpy_member(kind, p, q, alpha).sum(), rel_tol=1e-12)


def test_alpha_limits_are_kl(rng):
    p, q = rows(rng, 3, 5)
    kl = otkit.fdiv(p, q).value
    rkl = otkit.fdiv(p, q, kind="reverse-kl").value
    for d in (1e-6, -1e-6):
        assert abs(otkit.fdiv(p, q, kind="alpha", alpha=-1 + d).value - kl) < 10 * abs(d) * kl
        assert abs(otkit.fdiv(p, q, kind="alpha", alpha=1 + d).value - rkl) < 10 * abs(d) * rkl
    assert math.isclose(otkit.fdiv(p, q, kind="alpha", alpha=-1.0).value, kl, rel_tol=1e-15)


def test_kl_with_tau2_is_torch_kd_loss(rng):
    torch = pytest.importorskip("torch")
    zs, zt = rng.normal(size=(8, 10)) * 3, rng.normal(size=(8, 10)) * 3
    tau = 4.0
    ref = torch.nn.functional.kl_div(torch.log_softmax(torch.tensor(zs) / tau, 1),
                                     torch.log_softmax(torch.tensor(zt) / tau, 1),
                                     reduction="batchmean", log_target=True) * tau ** 2
    got = otkit.fdiv(zt, zs, logits=True, tau=tau, tau2=True).value
    assert math.isclose(got, float(ref), rel_tol=1e-13)
    # ... and the kd_loss baseline computes the same numbers.
    kd = otkit.kd_loss("kl", zs, zt, tau=tau)
    assert math.isclose(kd.loss, got, rel_tol=1e-15)


def test_gradients_match_finite_differences(rng):
    p, q = rows(rng, 2, 4)
    for kind, alpha in (("jeffreys", None), ("alpha", 0.4), ("neyman", None)):
        res = otkit.fdiv(p, q, kind=kind, alpha=alpha, grad=True, smoothing=0.05)
        for which, x, g in (("p", p, res.grad_p), ("q", q, res.grad_q)):
            fd = np.zeros_like(x)
            for idx in np.ndindex(x.shape):
                h = 1e-6 * x[idx]
                xp, xm = x.copy(), x.copy()
                xp[idx] += h
                xm[idx] -= h
                args = lambda z: (z, q) if which == "p" else (p, z)  # noqa: E731
                fd[idx] = (otkit.fdiv(*args(xp), kind=kind, alpha=alpha, smoothing=0.05).value -
                           otkit.fdiv(*args(xm), kind=kind, alpha=alpha,
                                      smoothing=0.05).value) / (2 * h)
            assert np.abs(fd - g).max() <= 1e-7 * np.abs(g).max(), (kind, which)


def test_custom_generator(rng):
    p, q = rows(rng, 3, 4)
    res = otkit.fdiv(p, q, kind="custom", generator=lambda t: ((t - 1) ** 2, 2 * (t - 1)),
                     grad=True)
    ref = otkit.fdiv(p, q, kind="pearson", grad=True)
    assert math.isclose(res.value, ref.value, rel_tol=1e-14)
    assert np.allclose(res.grad_p, ref.grad_p, rtol=1e-13)
    assert np.allclose(res.grad_q, ref.grad_q, rtol=1e-13)

    def bad(t):
        raise ZeroDivisionError("from the generator")
    with pytest.raises(ZeroDivisionError, match="from the generator"):
        otkit.fdiv(p, q, kind="custom", generator=bad)
    with pytest.raises(ValueError, match="generator"):
        otkit.fdiv(p, q, kind="custom")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="kind.*pearson"):
        otkit.fdiv([0.5, 0.5], [0.5, 0.5], kind="chi2")
    with pytest.raises(ValueError, match="alpha"):
        otkit.fdiv([0.5, 0.5], [0.5, 0.5], kind="alpha")
    with pytest.raises(ValueError, match="reduction"):
        otkit.fdiv([0.5, 0.5], [0.5, 0.5], reduction="avg")
    with pytest.raises(ValueError, match=r"q\[0\]\[1\]"):
        otkit.fdiv([0.5, 0.5], [0.5, -0.5])
    with pytest.raises(otkit.OtkitError, match="smoothing") as e:
        otkit.fdiv([0.5, 0.5, 0.0], [1.0, 0.0, 0.0], grad=True)
    assert e.value.status_name == "OTK_ENUMERIC"
    with pytest.raises(ValueError, match="tau"):
        otkit.fdiv([0.5, 0.5], [0.5, 0.5], tau=2.0)


def test_psi_and_iv_by_hand():
    # e = (.1, .2, .3, .4), a = (.2, .2, .2, .4): PSI = .1 ln 2 + .1 ln 1.5 = .1 ln 3
    r = otkit.psi([10, 20, 30, 40], [20, 20, 20, 40], counts=True)
    assert math.isclose(r.psi, 0.1 * math.log(3), rel_tol=1e-14)
    # quantile bins (median 5.5) of 1..10; actual 3 | 5 of 8
    r = otkit.psi(np.arange(1, 11.0), [1, 2, 3, 9, 9, 9, 9, 9], bins=2)
    assert r.edges.tolist() == [5.5]
    assert math.isclose(r.psi, -0.125 * math.log(0.75) + 0.125 * math.log(1.25), rel_tol=1e-14)
    r = otkit.psi(np.arange(1, 11.0), [1, 2, 3, 9, 9, 9, 9, 9], edges=[2.5])
    assert math.isclose(r.psi, 0.05 * math.log(1.25) - 0.05 * math.log(0.75 / 0.8),
                        rel_tol=1e-14)
    # goods (3, 1), bads (1, 3): IV = ln 3, WoE = (ln 3, -ln 3)
    iv = otkit.information_value(np.arange(1, 9.0), [0, 0, 0, 1, 0, 1, 1, 1], bins=2)
    assert math.isclose(iv.iv, math.log(3), rel_tol=1e-14)
    assert np.allclose(iv.woe, [math.log(3), -math.log(3)], rtol=1e-14)
    with pytest.raises(ValueError, match=r"y\[1\]"):
        otkit.information_value(np.arange(1, 9.0), [0, 2, 0, 1, 0, 1, 1, 1], bins=2)
    with pytest.raises(ValueError, match="binning"):
        otkit.psi([1, 2], [1, 2], binning="width")


def test_psi_is_jeffreys_of_the_histograms(rng):
    ref = rng.normal(size=500)
    act = rng.normal(0.3, 1.2, size=400)
    r = otkit.psi(ref, act, bins=10, floor=0.0)
    edges = np.concatenate([[-np.inf], r.edges, [np.inf]])
    # right-closed bins (e_{i-1}, e_i]: searchsorted(..., side="left") counts edges < v
    e = np.bincount(np.searchsorted(r.edges, ref, side="left"), minlength=10) / 500
    a = np.bincount(np.searchsorted(r.edges, act, side="left"), minlength=10) / 400
    assert len(edges) == 11 and np.allclose(r.edges, np.quantile(ref, np.arange(1, 10) / 10),
                                            rtol=1e-15)
    assert math.isclose(r.psi, otkit.fdiv(a, e, kind="jeffreys").value, rel_tol=1e-13)


def test_cli_agrees(tmp_path, otk_tool, rng):
    p, q = rows(rng, 3, 4)
    np.savetxt(tmp_path / "p.csv", p, delimiter=",", fmt="%.17g")
    np.savetxt(tmp_path / "q.csv", q, delimiter=",", fmt="%.17g")
    out = subprocess.run([otk_tool, "fdiv", str(tmp_path / "p.csv"), str(tmp_path / "q.csv"),
                          "--kind", "alpha", "--alpha", "0.25"], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert math.isclose(json.loads(out)["value"],
                        otkit.fdiv(p, q, kind="alpha", alpha=0.25).value, rel_tol=1e-15)


# ------------------------------------------------------------------ torch

def test_torch_gradcheck():
    torch = pytest.importorskip("torch")
    import otkit.torch as otorch
    g = torch.Generator().manual_seed(3)
    zp = torch.randn(3, 5, dtype=torch.float64, generator=g, requires_grad=True)
    zq = torch.randn(3, 5, dtype=torch.float64, generator=g, requires_grad=True)
    for kind, alpha in (("kl", None), ("js", None), ("hellinger", None), ("alpha", 0.6),
                        ("pearson", None), ("tv", None)):
        for red in ("mean", "sum", "none"):
            f = lambda a, b: otorch.fdiv(a, b, kind=kind, alpha=alpha, logits=True,  # noqa
                                         tau=1.7, tau2=True, reduction=red)
            assert torch.autograd.gradcheck(f, (zp, zq)), (kind, red)
    p = torch.rand(2, 4, dtype=torch.float64, generator=g) + 0.1
    q = torch.rand(2, 4, dtype=torch.float64, generator=g) + 0.1
    p.requires_grad_(True)
    q.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda a, b: otorch.fdiv(a, b, kind="neyman", smoothing=0.1), (p, q))


def test_torch_loss_module_is_hinton_kd():
    torch = pytest.importorskip("torch")
    import otkit.torch as otorch
    g = torch.Generator().manual_seed(5)
    zs = torch.randn(6, 7, dtype=torch.float64, generator=g, requires_grad=True)
    zt = torch.randn(6, 7, dtype=torch.float64, generator=g)
    loss = otorch.FDivergenceLoss("kl", tau=2.0, tau2=True)(zs, zt)
    loss.backward()
    z2 = zs.detach().clone().requires_grad_(True)
    ref = torch.nn.functional.kl_div(torch.log_softmax(z2 / 2, 1), torch.softmax(zt / 2, 1),
                                     reduction="batchmean") * 4
    ref.backward()
    assert abs(float(loss) - float(ref)) <= 1e-13 * abs(float(ref))
    assert torch.allclose(zs.grad, z2.grad, rtol=1e-12, atol=1e-15)


def test_sinkd_objective_with_fdiv_kd_terms(rng):
    zs, zt = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 2, 2])
    for kd, extra in (("hellinger", {}), ("alpha", {"kd_alpha": 0.5}),
                      ("pearson", {"kd_tau2": True})):
        r = otkit.sinkd_objective(zs, zt, labels, 0.3, 0.7, kd=kd, kd_tau=2.0, **extra)
        ref_kd = otkit.fdiv(zt, zs, kind=kd, alpha=extra.get("kd_alpha"), logits=True, tau=2.0,
                            tau2=extra.get("kd_tau2", False)).value
        assert math.isclose(r.kd, ref_kd, rel_tol=1e-14)
        assert math.isclose(r.total, 0.3 * r.kd + 0.7 * r.ce + 0.7 * r.sinkd, rel_tol=1e-14)
        # the gradient: FD on the total
        h, k = 1e-6, (2, 1)
        zp, zm = zs.copy(), zs.copy()
        zp[k] += h
        zm[k] -= h
        fd = (otkit.sinkd_objective(zp, zt, labels, 0.3, 0.7, kd=kd, kd_tau=2.0, grad=False,
                                    **extra).total -
              otkit.sinkd_objective(zm, zt, labels, 0.3, 0.7, kd=kd, kd_tau=2.0, grad=False,
                                    **extra).total) / (2 * h)
        assert abs(fd - r.grad_s[k]) <= 1e-7 * np.abs(r.grad_s).max()
    with pytest.raises(ValueError, match="kd_alpha"):
        otkit.sinkd_objective(zs, zt, labels, 0.3, 0.7, kd="alpha")
    with pytest.raises(ValueError, match="kd_tau2"):
        otkit.sinkd_objective(zs, zt, labels, 0.3, 0.7, kd="kl", kd_tau2=True)


def test_sinkd_regression_objective_is_the_reference_stsb_form(rng):
    """Against a PyTorch transcription of the reference code's regression
    branch: alpha * mse(s/T, t/T) + (1 - alpha) * mse(s, y), and its Sinkhorn
    term on softmax over the single output (identically 0)."""
    torch = pytest.importorskip("torch")
    B, alpha, T = 16, 0.8, 2.0
    s = torch.tensor(rng.normal(2.5, 1.0, B), requires_grad=True)
    t = torch.tensor(rng.normal(2.5, 1.0, B))
    y = torch.tensor(rng.uniform(0, 5, B))
    F = torch.nn.functional
    ref = alpha * F.mse_loss(s / T, t / T) + (1 - alpha) * F.mse_loss(s, y)
    ref.backward()
    r = otkit.sinkd_regression_objective(s.detach().numpy(), t.numpy(), y.numpy(), alpha, tau=T)
    assert math.isclose(r.total, float(ref), rel_tol=1e-14)
    assert np.allclose(r.grad_s, s.grad.numpy(), rtol=1e-13, atol=0)
    assert r.sinkd == 0.0
    # the reference's SinKD on (B, 1) outputs: softmax over one class is 1
    ps = torch.softmax(s.detach().reshape(-1, 1) / 2, dim=1)
    pt = torch.softmax(t.reshape(-1, 1) / 2, dim=1)
    assert float(torch.cdist(ps, pt, p=1).sum()) == 0.0
    res = otkit.sinkd_loss(s.detach().numpy().reshape(-1, 1), t.numpy().reshape(-1, 1))
    assert res.loss == 0.0 and not res.grad_s.any()
