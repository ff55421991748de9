"""otkit.divergence against the definition evaluated with POT, its invariants,
and its analytic gradients against central finite differences.

References: OT_kl(alpha, beta) from POT's converged plan P (sinkhorn_log,
stopThr 1e-14; unbalanced: sinkhorn_unbalanced on the modified cost, as in
test_sinkhorn.py) as the primal <P,C> + eps KL(P|a x b) (+ rho KL(P1|a) +
rho KL(P^T 1|b)), on GeomLoss's p = 2 cost |x-y|^2/2.  Values agree to 1e-9
relative; gradients to 1e-6 relative (h = 1e-5, otkit run to tol 1e-12)."""
import warnings

import numpy as np
import pytest

import otkit

ot = pytest.importorskip("ot")


def kl(p, q):
    return float(np.sum(p * np.log(p / q)) - p.sum() + q.sum())


def ot_kl_pot(a, b, C, eps, rho=None):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if rho is None:
            P = ot.bregman.sinkhorn_log(a, b, C, eps, numItermax=100000, stopThr=1e-14)
        else:
            Mt = C - eps * (np.log(a)[:, None] + np.log(b)[None, :])
            P = ot.unbalanced.sinkhorn_unbalanced(a, b, Mt, eps, rho, numItermax=100000,
                                                  stopThr=1e-15)
    val = float(np.sum(P * C)) + eps * kl(P, np.outer(a, b))
    if rho is not None:
        val += rho * kl(P.sum(1), a) + rho * kl(P.sum(0), b)
    return val


def half_sq(x, y):
    return 0.5 * ot.dist(x, y)


def clouds(rng, n=14, m=11, d=2):
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) * 0.8 + 0.7
    a = rng.uniform(0.3, 1.0, n)
    b = rng.uniform(0.3, 1.0, m)
    return x, y, a / a.sum(), b / b.sum()


@pytest.mark.parametrize("blur", [0.3, 0.6])
def test_balanced_value_matches_definition(rng, blur):
    x, y, a, b = clouds(rng)
    eps = blur ** 2
    S_ref = (ot_kl_pot(a, b, half_sq(x, y), eps) - 0.5 * ot_kl_pot(a, a, half_sq(x, x), eps)
             - 0.5 * ot_kl_pot(b, b, half_sq(y, y), eps))
    r = otkit.divergence(x, y, a, b, blur=blur, p=2, tol=1e-13, max_iter=100000)
    assert r.converged and r.eps == pytest.approx(eps)
    assert r.value == pytest.approx(S_ref, rel=1e-9)
    assert float(r) == r.value


def test_unbalanced_value_matches_definition(rng):
    x, y, a, b = clouds(rng)
    b = b * 1.4
    blur, reach = 0.4, 0.8
    eps, rho = blur ** 2, reach ** 2
    S_ref = (ot_kl_pot(a, b, half_sq(x, y), eps, rho)
             - 0.5 * ot_kl_pot(a, a, half_sq(x, x), eps, rho)
             - 0.5 * ot_kl_pot(b, b, half_sq(y, y), eps, rho)
             + 0.5 * eps * (a.sum() - b.sum()) ** 2)
    r = otkit.divergence(x, y, a, b, blur=blur, reach=reach, tol=1e-13, max_iter=100000)
    assert r.rho == pytest.approx(rho)
    assert r.value == pytest.approx(S_ref, rel=1e-9)


def test_invariants(rng):
    x, y, a, b = clouds(rng)
    assert abs(otkit.divergence(x, x.copy(), a, a, blur=0.3, tol=1e-12).value) < 1e-12
    s1 = otkit.divergence(x, y, a, b, blur=0.3, tol=1e-12).value
    s2 = otkit.divergence(y, x, b, a, blur=0.3, tol=1e-12).value
    assert s1 > 0 and s1 == pytest.approx(s2, rel=1e-9)
    # No debias: OT_kl(alpha, beta) alone, as otkit.sinkhorn on the same cost.
    nd = otkit.divergence(x, y, a, b, blur=0.3, debias=False, tol=1e-12).value
    sk = otkit.sinkhorn(a, b, x=x, y=y, cost="half-sqeuclidean", blur=0.3, tol=1e-12).ot_kl
    assert nd == pytest.approx(sk, rel=1e-9)


def test_p_convention(rng):
    x, y, a, b = clouds(rng)
    assert otkit.geomloss_cost(2)[0] == "half-sqeuclidean"
    assert otkit.geomloss_cost(1)[0] == "euclidean"
    assert otkit.geomloss_cost(3) == ("lp-over-p", 3.0)
    v2 = otkit.divergence(x, y, a, b, p=2, blur=0.3).value
    vc = otkit.divergence(x, y, a, b, cost="half-sqeuclidean", blur=0.3).value
    assert v2 == vc
    v1 = otkit.divergence(x, y, a, b, p=1, blur=0.3)
    assert v1.eps == pytest.approx(0.3)
    # sqeuclidean is twice half-sqeuclidean: same plans at twice eps.
    vs = otkit.divergence(x, y, a, b, cost="sqeuclidean", eps=0.18, tol=1e-12).value
    vh = otkit.divergence(x, y, a, b, cost="half-sqeuclidean", eps=0.09, tol=1e-12).value
    assert vs == pytest.approx(2 * vh, rel=1e-8)


def fd(fun, z, h=1e-5):
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp = z.copy()
        zp[idx] += h
        zm = z.copy()
        zm[idx] -= h
        g[idx] = (fun(zp) - fun(zm)) / (2 * h)
    return g


@pytest.mark.parametrize("kw", [dict(p=2), dict(p=1), dict(cost="sqeuclidean"),
                                dict(p=2, reach=0.7), dict(p=2, debias=False)])
def test_point_gradients_match_finite_differences(rng, kw):
    x, y, a, b = clouds(rng, n=6, m=5)
    opts = dict(blur=0.5, tol=1e-13, max_iter=100000, **kw)
    r = otkit.divergence(x, y, a, b, grad=True, **opts)
    gx = fd(lambda z: otkit.divergence(z, y, a, b, **opts).value, x)
    gy = fd(lambda z: otkit.divergence(x, z, a, b, **opts).value, y)
    assert np.abs(r.grad_x - gx).max() < 1e-6 * max(1.0, np.abs(gx).max())
    assert np.abs(r.grad_y - gy).max() < 1e-6 * max(1.0, np.abs(gy).max())


def test_weight_gradients_match_finite_differences(rng):
    x, y, a, b = clouds(rng, n=6, m=5)
    # Unbalanced: the weights are free, the gradient is the plain derivative.
    opts = dict(blur=0.5, reach=0.9, tol=1e-13, max_iter=100000)
    r = otkit.divergence(x, y, a, b, grad=("a", "b"), **opts)
    assert r.grad_x is None and r.grad_y is None
    ga = fd(lambda w: otkit.divergence(x, y, w, b, **opts).value, a)
    gb = fd(lambda w: otkit.divergence(x, y, a, w, **opts).value, b)
    assert np.abs(r.grad_a - ga).max() < 1e-6
    assert np.abs(r.grad_b - gb).max() < 1e-6
    # Balanced: the derivative along zero-sum directions a + t (e_i - e_j).
    opts = dict(blur=0.5, tol=1e-13, max_iter=100000)
    r = otkit.divergence(x, y, a, b, grad=True, **opts)
    assert abs(r.grad_a.sum()) < 1e-12 and abs(r.grad_b.sum()) < 1e-12
    e = np.zeros_like(a)
    e[1], e[4] = 1.0, -1.0
    h = 1e-5
    d = (otkit.divergence(x, y, a + h * e, b + 0.0, **opts).value
         - otkit.divergence(x, y, a - h * e, b, **opts).value) / (2 * h)
    assert r.grad_a @ e == pytest.approx(d, abs=1e-7)


def test_planned_object_reuse(rng):
    x, y, a, b = clouds(rng)
    div = otkit.Divergence(x, y, blur=0.3, tol=1e-12)
    r1 = div.solve(a, b, grad=("x",))
    x2 = x - 0.5 * r1.grad_x / a[:, None]
    div.set_points(x=x2)
    r2 = div.solve(a, b)
    assert r2.value < r1.value  # a gradient-flow step decreases S
    assert r2.value == pytest.approx(otkit.divergence(x2, y, a, b, blur=0.3, tol=1e-12).value,
                                     rel=1e-12)
    assert np.allclose(div.displacement_x() * a[:, None],
                       div.solve(a, b, grad=("x",)).grad_x, atol=1e-14)


def test_fixed_schedule(rng):
    x, y, a, b = clouds(rng)
    r = otkit.divergence(x, y, a, b, blur=0.1, schedule="fixed")
    assert r.status == 0 and np.isnan(r.marginal_error)


def test_dense_matrices_equal_point_clouds(rng):
    x, y, a, b = clouds(rng)
    b = b * 1.2
    Cxy, Cxx, Cyy = half_sq(x, y), half_sq(x, x), half_sq(y, y)
    for kw in (dict(), dict(rho=0.81), dict(debias=False)):
        bb = b if "rho" in kw else b / 1.2  # unequal masses only when unbalanced
        ref = otkit.divergence(x, y, a, bb, eps=0.1, tol=1e-13, max_iter=100000,
                               grad=("a", "b"), **kw)
        mats = (Cxy, None, None) if kw.get("debias") is False else (Cxy, Cxx, Cyy)
        r = otkit.divergence_matrix(*mats, a=a, b=bb, eps=0.1, tol=1e-13, max_iter=100000,
                                    grad=True, **kw)
        assert r.eps == 0.1 and r.value == pytest.approx(ref.value, rel=1e-9)
        assert np.abs(r.grad_a - ref.grad_a).max() < 1e-9
        assert np.abs(r.grad_b - ref.grad_b).max() < 1e-9
        assert r.grad_x is None
    div = otkit.Divergence.from_matrices(Cxy, Cxx, Cyy, eps=0.1)
    div.solve(a, b / 1.2)
    with pytest.raises(otkit.OtkitError) as info:
        div._obj.grad_x()
    assert info.value.status_name == "OTK_EUNSUPPORTED"
    with pytest.raises(RuntimeError, match="point clouds"):
        div.set_points(x=x)
    with pytest.raises(ValueError, match="C_xx is required unless debias=False"):
        otkit.divergence_matrix(Cxy, eps=0.1)
    with pytest.raises(ValueError, match=r"C_yy has 14 rows, expected 11"):
        otkit.divergence_matrix(Cxy, Cxx, Cxx, eps=0.1)
    with pytest.raises(ValueError, match=r"eps is required with cost matrices"):
        otkit.divergence_matrix(Cxy, Cxx, Cyy)
    bad = Cyy.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"C_yy: C\[2\]\[3\] = nan") as info:
        otkit.divergence_matrix(Cxy, Cxx, bad, eps=0.1)
    assert info.value.status_name == "OTK_ENONFINITE"


def test_cache_mb_changes_memory_not_results(rng):
    # The kept matrices hold bitwise the on-the-fly entries; only the order of
    # the sums may change the last bits.  Also across set_points (refilled).
    x, y, a, b = clouds(rng)
    kw = dict(blur=0.3, tol=1e-10)
    plain = otkit.divergence(x, y, a, b, grad=True, **kw)
    kept = otkit.divergence(x, y, a, b, grad=True, cache_mb=1, **kw)
    assert kept.value == pytest.approx(plain.value, rel=1e-12)
    assert kept.iterations == plain.iterations
    for g in ("grad_x", "grad_y", "grad_a", "grad_b"):
        assert np.abs(getattr(kept, g) - getattr(plain, g)).max() < 1e-11
    div = otkit.Divergence(x, y, cache_mb=1, **kw)
    n, m = len(x), len(y)
    assert div.cache_bytes == 8 * (n * m + n * n + m * m)
    assert otkit.Divergence(x, y, **kw).cache_bytes == 0
    # the budget goes to C_xy first: 8 n m bytes keep it alone
    assert otkit.Divergence(x, y, cache_mb=8 * n * m / 2**20, **kw).cache_bytes == 8 * n * m
    div.solve(a, b)
    div.set_points(x=x + 0.25)
    assert div.solve(a, b).value == pytest.approx(
        otkit.divergence(x + 0.25, y, a, b, **kw).value, rel=1e-12)
    for bad in (-1, float("nan"), 2e6):
        with pytest.raises(ValueError, match="cache_mb"):
            otkit.divergence(x, y, cache_mb=bad, **kw)
