"""otkit.monge_gap and otkit.EntropicMap: values against POT on the same
problem, gradients against central finite differences, the lower bound, the
relative eps, and round trips of the entropic map."""
import numpy as np
import pytest

import otkit

ot = pytest.importorskip("ot")


def pot_ot_ent(w, C, eps):
    """<P,C> - eps H(P) of POT's log-domain Sinkhorn plan (OTT's ent_reg_cost)."""
    P = ot.sinkhorn(w, w, C, eps, method="sinkhorn_log", stopThr=1e-13, numItermax=100000)
    nz = P > 0
    return float(np.sum(P * C) + eps * np.sum(P[nz] * np.log(P[nz])))


@pytest.mark.parametrize("weighted", [False, True])
def test_value_against_pot(rng, weighted):
    n = 12
    x = rng.normal(size=(n, 2))
    tx = x @ np.array([[1.5, 0.3], [-0.2, 0.8]]) + 0.1 * rng.normal(size=(n, 2))
    w = rng.uniform(0.3, 1.0, n) if weighted else np.full(n, 1.0 / n)
    w /= w.sum()
    eps = 0.3
    r = otkit.monge_gap(x, tx, w if weighted else None, eps=eps, tol=1e-12, max_iter=100000)
    C = ot.dist(x, tx)  # |x - y|^2, OTT's default cost
    disp = float(np.sum(w * np.sum((x - tx) ** 2, axis=1)))
    ref = pot_ot_ent(w, C, eps)
    assert r.eps == eps
    assert r.displacement == pytest.approx(disp, rel=1e-12)
    assert r.ot_ent == pytest.approx(ref, rel=1e-8, abs=1e-10)
    assert r.monge_gap == pytest.approx(disp - ref, rel=1e-8, abs=1e-10)
    H = -np.sum(w * np.log(w))
    assert r.lower_bound == pytest.approx(eps * H, rel=1e-12)
    assert r.monge_gap >= r.lower_bound - 1e-9


def test_relative_eps_is_otts_default(rng):
    x = rng.normal(size=(10, 3))
    tx = 2.0 * x + 1.0
    C = ot.dist(x, tx)
    r = otkit.monge_gap(x, tx, tol=1e-10, max_iter=100000)
    assert r.eps == pytest.approx(0.05 * np.std(C), rel=1e-12)
    r = otkit.monge_gap(x, tx, relative_eps=0.1, relative_to="mean", tol=1e-10,
                        max_iter=100000)
    assert r.eps == pytest.approx(0.1 * np.mean(C), rel=1e-12)


def test_optimal_map_is_near_the_lower_bound(rng):
    # A gradient of a convex function (a positive-definite linear map) is
    # optimal for |x-y|^2: its gap is near eps H(w) and much smaller than
    # that of a rotation (not optimal) moving the points as far.
    x = rng.normal(size=(8, 2))
    S = np.array([[2.0, 0.5], [0.5, 1.0]])
    c, s = np.cos(2.0), np.sin(2.0)
    R = np.array([[c, -s], [s, c]]) * np.sqrt(np.linalg.det(S))
    eps = 0.3
    good = otkit.monge_gap(x, x @ S, eps=eps, tol=1e-9, max_iter=100000)
    bad = otkit.monge_gap(x, x @ R.T, eps=eps, tol=1e-9, max_iter=100000)
    assert good.monge_gap >= good.lower_bound - 1e-8
    assert good.monge_gap - good.lower_bound < 0.05 * (bad.monge_gap - bad.lower_bound)


@pytest.mark.parametrize("cost", ["sqeuclidean", "half-sqeuclidean", "euclidean"])
def test_gradients_finite_differences(rng, cost):
    n, d = 7, 2
    x = rng.normal(size=(n, d))
    tx = x + rng.normal(size=(n, d)) + 0.5
    eps = 0.4
    kw = dict(eps=eps, cost=cost, tol=1e-13, max_iter=200000)
    r = otkit.monge_gap(x, tx, grad=True, grad_x=True, **kw)
    h = 1e-6
    for which, base, g in (("tx", tx, r.grad_tx), ("x", x, r.grad_x)):
        fd = np.zeros_like(base)
        for i in range(n):
            for k in range(d):
                p, m = base.copy(), base.copy()
                p[i, k] += h
                m[i, k] -= h
                args_p = (x, p) if which == "tx" else (p, tx)
                args_m = (x, m) if which == "tx" else (m, tx)
                fd[i, k] = (otkit.monge_gap(*args_p, **kw).monge_gap
                            - otkit.monge_gap(*args_m, **kw).monge_gap) / (2 * h)
        np.testing.assert_allclose(g, fd, atol=1e-6 * max(1.0, np.abs(fd).max()))


def test_no_gradient_unless_asked(rng):
    x = rng.normal(size=(5, 2))
    r = otkit.monge_gap(x, x + 1, eps=0.5, warn=False)
    assert r.grad_tx is None and r.grad_x is None


def test_bad_input_names_the_argument(rng):
    x = rng.normal(size=(5, 2))
    with pytest.raises(ValueError, match="tx"):
        otkit.monge_gap(x, np.ones((4, 2)))
    with pytest.raises(ValueError, match="tx"):
        otkit.monge_gap(x, np.ones((5, 3)))
    w = np.full(5, 0.2)
    w[3] = -0.2
    with pytest.raises(ValueError, match=r"w\[3\]") as e:
        otkit.monge_gap(x, x, w)
    assert e.value.status_name == "OTK_ENEGATIVE"
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="tx"):
        otkit.monge_gap(x, bad)
    with pytest.raises(ValueError, match="relative_to"):
        otkit.monge_gap(x, x, relative_to="nope")
    with pytest.raises(ValueError, match="eps"):
        otkit.monge_gap(x, x, eps=-1.0)


def test_not_converged_warns(rng):
    x = rng.normal(size=(10, 2))
    with pytest.warns(otkit.ConvergenceWarning):
        r = otkit.monge_gap(x, 2 * x, eps=0.01, max_iter=3)
    assert r.status == 1 and not r.converged


def test_entropic_map_matches_the_barycentric_projection(rng):
    x = rng.normal(size=(15, 2))
    y = rng.normal(size=(12, 2)) * 0.5 + 2.0
    a = rng.uniform(0.5, 1.0, 15)
    a /= a.sum()
    T = otkit.EntropicMap.fit(x, y, a=a, eps=0.2, tol=1e-12, max_iter=100000)
    r = otkit.sinkhorn(a, None, x=x, y=y, eps=0.2, tol=1e-12, max_iter=100000)
    np.testing.assert_allclose(T(x), r.barycentric(y), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(T.apply(x), (r.plan() @ y) / a[:, None], rtol=1e-8)
    z = rng.normal(size=(4, 2))
    tz = T(z)
    assert tz.shape == (4, 2)
    # out of sample: the formula of otkit/entropic_map.h with the stored g
    d = T.data()
    C = ((z[:, None, :] - d["y"][None, :, :]) ** 2).sum(-1)
    L = np.log(d["b"])[None, :] + (d["g"][None, :] - C) / d["eps"]
    W = np.exp(L - L.max(axis=1, keepdims=True))
    np.testing.assert_allclose(tz, (W @ d["y"]) / W.sum(axis=1, keepdims=True), rtol=1e-12)
    # a single point
    np.testing.assert_allclose(T(z[1]), tz[1], rtol=0, atol=0)


def test_entropic_map_data_round_trip(rng):
    x = rng.normal(size=(10, 3))
    T = otkit.EntropicMap.fit(x, x + 1.0, blur=0.5, cost="half-sqeuclidean")
    U = otkit.EntropicMap.from_data(**T.data())
    z = rng.normal(size=(6, 3))
    assert np.array_equal(T(z), U(z))
    assert U.cost == "half-sqeuclidean" and U.eps == pytest.approx(0.25)


def test_entropic_map_bad_input(rng):
    x = rng.normal(size=(10, 2))
    with pytest.raises(ValueError, match="y"):
        otkit.EntropicMap.fit(x, np.ones((5, 3)))
    T = otkit.EntropicMap.fit(x, x + 1, eps=0.5)
    with pytest.raises(ValueError, match="z"):
        T(np.ones((3, 3)))
    z = np.zeros((2, 2))
    z[1, 0] = np.inf
    with pytest.raises(ValueError, match="z"):
        T(z)
    with pytest.raises(ValueError, match="eps"):
        otkit.EntropicMap.fit(x, x, eps=1.0, blur=1.0)


def test_monge_gap_threads_agree(rng):
    # the GIL is released and each call has its own workspace
    import threading
    x = rng.normal(size=(40, 3))
    tx = x @ rng.normal(size=(3, 3))
    ref = otkit.monge_gap(x, tx, eps=0.5, grad=True)
    out = [None] * 4

    def work(k):
        out[k] = otkit.monge_gap(x, tx, eps=0.5, grad=True)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for r in out:
        assert r.monge_gap == ref.monge_gap
        assert np.array_equal(r.grad_tx, ref.grad_tx)


def test_cache_mb_changes_memory_not_results(rng):
    x = rng.normal(size=(30, 8))
    tx = x @ rng.normal(size=(8, 8)) * 0.5
    plain = otkit.monge_gap(x, tx, eps=2.0, grad=True, grad_x=True, tol=1e-10)
    kept = otkit.monge_gap(x, tx, eps=2.0, grad=True, grad_x=True, tol=1e-10, cache_mb=1)
    assert kept.monge_gap == pytest.approx(plain.monge_gap, rel=1e-12)
    assert kept.iterations == plain.iterations
    assert np.abs(kept.grad_tx - plain.grad_tx).max() < 1e-11
    assert np.abs(kept.grad_x - plain.grad_x).max() < 1e-11
    with pytest.raises(ValueError, match="cache_mb"):
        otkit.monge_gap(x, tx, eps=2.0, cache_mb=-1)
