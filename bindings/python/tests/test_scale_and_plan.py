"""Scale-aware eps (OTT's relative_epsilon and scale_cost) and the divergence's
plan (plan_apply, barycentric, plan, potentials), against independent
computations: NumPy's statistics of the cost matrix, solves on C / s, POT's
ot.sinkhorn on the dense cost, otkit.sinkhorn's plan, and NumPy products of
the dense plan."""
import numpy as np
import pytest

import otkit

ot = pytest.importorskip("ot")

STATS = {"mean": np.mean, "std": np.std, "max_cost": np.max, "median": np.median}


@pytest.fixture
def clouds():
    r = np.random.default_rng(7)
    x = r.random((23, 2))
    y = r.normal(0.6, 0.3, (31, 2))
    a = r.random(23) + 0.1
    b = r.random(31) + 0.1
    return x, y, a / a.sum(), b / b.sum()


# ------------------------------------------------------------------ relative eps

@pytest.mark.parametrize("stat", sorted(STATS))
def test_relative_eps_is_the_statistic_of_the_cost_times_the_factor(clouds, stat):
    # OTT: epsilon = relative_epsilon x stat(cost_matrix); the solve equals the
    # one given that eps directly.
    x, y, a, b = clouds
    C = ot.dist(x, y)  # |x - y|^2, otkit's "sqeuclidean"
    expected = 0.07 * STATS[stat](C)
    for kw in (dict(x=x, y=y), dict(C=C)):
        r = otkit.sinkhorn(a, b, relative_eps=0.07, relative_to=stat, tol=1e-11, **kw)
        assert r.eps == pytest.approx(expected, rel=1e-12)
        assert r.scale_cost == 1.0
        direct = otkit.sinkhorn(a, b, eps=r.eps, tol=1e-11, **kw)
        assert abs(r.ot_kl - direct.ot_kl) <= 1e-12 * abs(direct.ot_kl)
        np.testing.assert_allclose(r.f, direct.f, rtol=0, atol=1e-12)


def test_relative_eps_defaults_to_the_mean(clouds):
    x, y, a, b = clouds
    r = otkit.sinkhorn(a, b, x=x, y=y, relative_eps=0.05)
    assert r.eps == pytest.approx(0.05 * ot.dist(x, y).mean(), rel=1e-12)


def test_relative_eps_of_the_divergence_and_the_entropic_map(clouds):
    x, y, a, b = clouds
    C_xy = ot.dist(x, y) / 2  # GeomLoss's p = 2 cost
    d = otkit.divergence(x, y, a, b, relative_eps=0.1, tol=1e-10)
    assert d.eps == pytest.approx(0.1 * C_xy.mean(), rel=1e-12)
    direct = otkit.divergence(x, y, a, b, eps=d.eps, tol=1e-10)
    assert d.value == direct.value
    T = otkit.EntropicMap.fit(x, y, a, b, relative_eps=0.2, relative_to="median")
    assert T.eps == pytest.approx(0.2 * np.median(ot.dist(x, y)), rel=1e-12)


# ------------------------------------------------------------------ scale_cost

@pytest.mark.parametrize("scale", [2.5, "mean", "max_cost", "median", "std"])
def test_scale_cost_solves_the_divided_cost_reported_in_units_of_C(clouds, scale):
    # OTT: scale_cost = s solves with the cost C / s (and reports in units of
    # C / s); otkit reports in units of C: values, potentials, eps and rho are
    # s times those of the solve on C / s, the plan is the same.
    x, y, a, b = clouds
    C = ot.dist(x, y)
    s = scale if isinstance(scale, float) else STATS[scale](C)
    for unbalanced in (False, True):
        extra = dict(rho=0.8) if unbalanced else {}
        r = otkit.sinkhorn(a, b, C=C, eps=0.03, scale_cost=scale, tol=1e-12, **extra)
        ref = otkit.sinkhorn(a, b, C=C / s, eps=0.03, tol=1e-12, **extra)
        assert r.scale_cost == pytest.approx(s, rel=1e-15)
        assert r.eps == pytest.approx(s * 0.03, rel=1e-15)
        if unbalanced:
            assert r.rho_a == pytest.approx(s * 0.8, rel=1e-15)
        for k in ("ot_kl", "ot_ent", "ot_lin"):
            assert getattr(r, k) == pytest.approx(s * getattr(ref, k), rel=1e-11), k
        np.testing.assert_allclose(r.f, s * ref.f, rtol=0, atol=1e-10 * s)
        np.testing.assert_allclose(r.plan(), ref.plan(), rtol=0, atol=1e-12)


def test_scale_cost_with_relative_eps_is_relative_to_the_unscaled_statistic(clouds):
    # relative_eps x stat(C / s) in units of C / s is relative_eps x stat(C) in
    # units of C: the two options commute.
    x, y, a, b = clouds
    r = otkit.sinkhorn(a, b, x=x, y=y, relative_eps=0.05, scale_cost="max_cost")
    assert r.eps == pytest.approx(0.05 * ot.dist(x, y).mean(), rel=1e-12)
    assert r.scale_cost == pytest.approx(ot.dist(x, y).max(), rel=1e-12)


def test_scale_cost_of_the_divergence(clouds):
    x, y, a, b = clouds
    s = 1.7
    # |x - y|^2 / 2 / s is the same cost on points shrunk by sqrt(s).
    d = otkit.divergence(x, y, a, b, eps=0.02, scale_cost=s, tol=1e-12, diameter=3.0)
    ref = otkit.divergence(x / np.sqrt(s), y / np.sqrt(s), a, b, eps=0.02, tol=1e-12,
                           diameter=3.0 / np.sqrt(s))
    assert d.scale_cost == s and d.eps == pytest.approx(0.02 * s, rel=1e-15)
    assert d.value == pytest.approx(s * ref.value, rel=1e-10)


# ------------------------------------------------------------------ conflicts

@pytest.mark.parametrize("fn", ["sinkhorn", "divergence", "fit"])
def test_relative_eps_with_eps_or_blur_is_an_error_naming_both(clouds, fn):
    x, y, a, b = clouds
    call = {"sinkhorn": lambda **k: otkit.sinkhorn(x=x, y=y, **k),
            "divergence": lambda **k: otkit.divergence(x, y, **k),
            "fit": lambda **k: otkit.EntropicMap.fit(x, y, **k)}[fn]
    with pytest.raises(ValueError, match="eps and relative_eps exclude each other"):
        call(eps=0.01, relative_eps=0.05)
    with pytest.raises(ValueError, match="blur and relative_eps exclude each other"):
        call(blur=0.05, relative_eps=0.05)
    with pytest.raises(ValueError, match="relative_to = 'median' needs relative_eps"):
        call(relative_to="median")
    with pytest.raises(ValueError, match="scale_cost = 'meen' is not one of .*'median'"):
        call(scale_cost="meen")
    with pytest.raises(ValueError, match="scale_cost = -1"):
        call(scale_cost=-1.0)


# ------------------------------------------------------------------ the plan

def _pot_plan(a, b, C, eps):
    return ot.sinkhorn(a, b, C, eps, method="sinkhorn_log", numItermax=100000,
                       stopThr=1e-14)


def test_divergence_plan_is_pots_plan_at_convergence(clouds):
    x, y, a, b = clouds
    eps = 0.02
    C = ot.dist(x, y) / 2
    d = otkit.divergence(x, y, a, b, eps=eps, tol=1e-13)
    P = d.plan()
    np.testing.assert_allclose(P, _pot_plan(a, b, C, eps), rtol=0, atol=1e-9)
    # ... and otkit's own Sinkhorn plan on the same cost.
    s = otkit.sinkhorn(a, b, x=x, y=y, cost="half-sqeuclidean", eps=eps, tol=1e-13)
    np.testing.assert_allclose(P, s.plan(), rtol=0, atol=1e-12)
    # The plan from the potentials, GeomLoss's gauge (docs/math.md).
    f, g, f_aa, g_bb = d.potentials()
    assert f_aa.shape == (23,) and g_bb.shape == (31,)
    np.testing.assert_allclose(P, a[:, None] * b[None, :]
                               * np.exp((f[:, None] + g[None, :] - C) / eps), rtol=1e-12,
                               atol=0)


@pytest.mark.parametrize("schedule", ["converge", "fixed"])
def test_plan_apply_and_barycentric_match_the_dense_plan(clouds, schedule):
    x, y, a, b = clouds
    r = np.random.default_rng(3)
    d = otkit.divergence(x, y, a, b, blur=0.1, schedule=schedule, reach=0.5
                         if schedule == "fixed" else None)
    P = d.plan()
    V, U = r.normal(size=(31, 3)), r.normal(size=(23, 2))
    np.testing.assert_allclose(d.plan_apply(V), P @ V, rtol=0, atol=1e-14)
    np.testing.assert_allclose(d.plan_apply(U, axis=1), P.T @ U, rtol=0, atol=1e-14)
    np.testing.assert_allclose(d.plan_apply(V[:, 0]), P @ V[:, 0], rtol=0, atol=1e-14)
    T = d.barycentric()
    np.testing.assert_allclose(T, (P @ y) / P.sum(1)[:, None], rtol=0, atol=1e-13)
    np.testing.assert_allclose(d.barycentric(V), (P @ V) / P.sum(1)[:, None], rtol=0,
                               atol=1e-13)


def test_divergence_object_plan_and_matrices(clouds):
    x, y, a, b = clouds
    C_xy = ot.dist(x, y)
    div = otkit.Divergence.from_matrices(C_xy, ot.dist(x, x), ot.dist(y, y), eps=0.05,
                                         tol=1e-13)
    res = div.solve(a, b)
    np.testing.assert_allclose(res.plan(), _pot_plan(a, b, C_xy, 0.05), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="Y is required"):
        div.barycentric()
    np.testing.assert_allclose(div.barycentric(y), res.barycentric(y), rtol=0, atol=0)
    # A result refers to its own solve: after another, it refuses.
    div.solve(b=None, a=None)
    with pytest.raises(RuntimeError, match="solved again"):
        res.plan_apply(np.ones(31))
    with pytest.raises(ValueError, match="axis"):
        div.plan_apply(np.ones((31, 1)), axis=2)
    with pytest.raises(ValueError, match="M"):
        div.plan_apply(np.ones((30, 1)))


def test_divergence_plan_before_solve_is_an_error(clouds):
    x, y, _, _ = clouds
    div = otkit.Divergence(x, y)
    with pytest.raises(RuntimeError, match="solve"):
        div.plan()
