"""Exact OT, 1-D and sliced Wasserstein (otkit.emd, emd2, wasserstein_1d,
sliced_wasserstein_distance, otkit.pot, otkit.torch) against POT 0.8.2 run in
the same process (ot.emd with numItermax=1e9: LEMON's network simplex), the
optimality certificate of every plan, finite differences for the gradients,
and the refusals."""
import warnings

import numpy as np
import pytest

import otkit
import otkit.pot as otp

ot = pytest.importorskip("ot")


def random_problem(rng, n, m, kind):
    a = rng.random(n) + 0.05
    a /= a.sum()
    b = rng.random(m) + 0.05
    b /= b.sum()
    if kind == "dense":
        M = rng.random((n, m))
    else:
        x = rng.standard_normal((n, 3))
        y = rng.standard_normal((m, 3)) + 0.5
        M = ot.dist(x, y)
    return a, b, M


def check_certificate(a, b, M, G, lg, tol=1e-12):
    """Primal feasibility, at most n + m - 1 entries, dual feasibility and
    complementary slackness to tol * max|M|, dual value = primal value."""
    n, m = M.shape
    scale = np.abs(M).max()
    assert np.count_nonzero(G) <= n + m - 1
    assert np.abs(G.sum(1) - a).max() <= 1e-14
    assert np.abs(G.sum(0) - b).max() <= 1e-14
    u, v = lg["u"], lg["v"]
    slack = M - u[:, None] - v[None, :]
    assert slack.min() >= -tol * scale, slack.min()
    assert np.abs(slack[G > 0]).max() <= tol * scale
    assert abs(a @ u - b @ v) <= tol * scale  # centred as POT's center_ot_dual
    assert abs(lg["dual_value"] - lg["cost"]) <= tol * max(scale, abs(lg["cost"]))


@pytest.mark.parametrize("kind", ["dense", "points"])
@pytest.mark.parametrize("n,m,seed", [(5, 5, 1), (40, 30, 2), (120, 150, 3), (300, 300, 4)])
def test_emd_against_pot(kind, n, m, seed):
    rng = np.random.default_rng(seed)
    a, b, M = random_problem(rng, n, m, kind)
    G, lg = otkit.emd(a, b, M, log=True)
    ref = ot.emd2(a, b, M, numItermax=10 ** 9)
    assert abs(lg["cost"] - ref) <= 1e-12 * abs(ref)
    assert abs(np.sum(G * M) - ref) <= 1e-12 * abs(ref)
    assert abs(otkit.emd2(a, b, M) - ref) <= 1e-12 * abs(ref)
    assert lg["result_code"] == 1 and lg["warning"] is None
    check_certificate(a, b, M, G, lg)
    # Random continuous data: the optimal vertex is unique, so the plans agree.
    Gp = ot.emd(a, b, M, numItermax=10 ** 9)
    assert np.abs(G - Gp).max() <= 1e-14


def test_emd_degenerate():
    """Ties (integer costs), duplicate rows, zero weights, integer masses
    (mass 6, not 1): POT's value, and a valid certificate."""
    rng = np.random.RandomState(3)
    M = rng.randint(0, 4, (10, 10)).astype(float)
    M[5] = M[2]
    a = np.array([0, 2, 0, 1, 1, 0, 1, 0, 2, 2], float)
    b = np.array([0, 0, 3, 0, 0, 0, 3, 3, 0, 0], float)
    G, lg = otkit.emd(a, b, M, log=True)
    assert lg["cost"] == ot.emd2(a, b, M) == 8.0
    check_certificate(a, b, M, G, lg)
    # Duplicate points: a plan of the same value, however the tie is broken.
    x = np.repeat(rng.standard_normal((6, 2)), 2, axis=0)
    M2 = ot.dist(x, x[::-1])
    assert abs(otkit.emd2([], [], M2) - ot.emd2([], [], M2)) <= 1e-12 * M2.max()


def test_emd_uniform_and_pot_front_door():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((25, 2)), rng.standard_normal((35, 2))
    M = otp.dist(x, y)
    ref = ot.emd2([], [], M)
    assert abs(otp.emd2([], [], M) - ref) <= 1e-12 * ref
    G, lg = otp.emd(None, None, M, log=True)
    assert set(["cost", "u", "v", "warning", "result_code"]) <= set(lg)
    assert abs(np.sum(G * M) - ref) <= 1e-12 * ref
    val, lg2 = otp.emd2([], [], M, log=True, return_matrix=True)
    assert np.array_equal(lg2["G"], G) and val == lg2["cost"]


def test_emd_max_iter_warns():
    rng = np.random.default_rng(8)
    a, b, M = random_problem(rng, 20, 20, "dense")
    with pytest.warns(otkit.ConvergenceWarning, match="max_iter = 3"):
        G, lg = otkit.emd(a, b, M, max_iter=3, log=True)
    assert lg["result_code"] == 3 and lg["iterations"] == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        otkit.emd(a, b, M, max_iter=3, warn=False)


def test_emd_bad_input():
    M = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"masses differ: sum\(a\) = 1, sum\(b\) = 2"):
        otkit.emd(np.ones(3) / 3, np.ones(4) / 2, M)
    with pytest.raises(ValueError, match=r"a.*\[1\]"):
        otkit.emd([0.5, -0.5, 1.0], np.ones(4) / 4, M)
    with pytest.raises(ValueError, match="b has 3 entries"):
        otkit.emd(None, [1 / 3] * 3, M)
    bad = M.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"\[1\]\[2\]"):
        otkit.emd2(None, None, bad)
    with pytest.raises(ValueError, match="2-D"):
        otkit.emd(None, None, np.ones(3))
    with pytest.raises(ValueError, match="max_iter"):
        otkit.emd(None, None, M, max_iter=-1)


@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
def test_wasserstein_1d_against_pot(p):
    rng = np.random.default_rng(11)
    u, v = rng.standard_normal(17), 0.7 * rng.standard_normal(23) + 0.2
    wu, wv = rng.random(17), rng.random(23)
    ref = ot.wasserstein_1d(u, v, wu / wu.sum(), wv / wv.sum(), p=p)
    assert abs(otkit.wasserstein_1d(u, v, wu, wv, p=p) - ref) <= 1e-12 * ref
    assert abs(otp.wasserstein_1d(u, v, wu / wu.sum(), wv / wv.sum(), p=p) - ref) <= 1e-12 * ref
    ref_u = ot.wasserstein_1d(u, v, p=p)
    assert abs(otkit.wasserstein_1d(u, v, p=p) - ref_u) <= 1e-12 * ref_u


def test_wasserstein_1d_columns():
    rng = np.random.default_rng(12)
    U, V = rng.standard_normal((10, 4)), rng.standard_normal((13, 4))
    ref = ot.wasserstein_1d(U, V, p=2)
    assert np.abs(otkit.wasserstein_1d(U, V, p=2) - ref).max() <= 1e-12 * ref.max()


@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
def test_wasserstein_1d_gradients_fd(p):
    """Central differences, h = 1e-6, on generic data (no ties): 1e-6 relative
    to the largest gradient entry."""
    rng = np.random.default_rng(13)
    u, v = rng.standard_normal(7), rng.standard_normal(9)
    wu, wv = rng.random(7) + 0.1, rng.random(9) + 0.1
    r = otkit.wasserstein_1d(u, v, wu, wv, p=p, grad=True)
    args = [u, v, wu, wv]
    h = 1e-6
    for k, g in enumerate([r.grad_u, r.grad_v, r.grad_u_weights, r.grad_v_weights]):
        fd = np.empty_like(g)
        for i in range(g.size):
            plus = [x.copy() for x in args]
            minus = [x.copy() for x in args]
            plus[k][i] += h
            minus[k][i] -= h
            fd[i] = (otkit.wasserstein_1d(*plus, p=p) - otkit.wasserstein_1d(*minus, p=p)) / (2 * h)
        assert np.abs(fd - g).max() <= 1e-6 * max(1.0, np.abs(g).max()), (k, fd, g)


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_same_directions_as_pot(p):
    rng = np.random.default_rng(21)
    X, Y = rng.standard_normal((40, 5)), rng.standard_normal((55, 5)) + 0.3
    a, b = rng.random(40), rng.random(55)
    a, b = a / a.sum(), b / b.sum()
    for L, seed in [(7, 5), (50, 0), (200, 9)]:
        proj = ot.sliced.get_random_projections(5, L, seed=seed)
        ref = ot.sliced_wasserstein_distance(X, Y, a, b, n_projections=L, p=p, projections=proj)
        val = otkit.sliced_wasserstein_distance(X, Y, a, b, p=p, projections=proj)
        assert abs(val - ref) <= 1e-12 * ref
        # otkit.pot: POT's own directions from the seed.
        val2 = otp.sliced_wasserstein_distance(X, Y, a, b, n_projections=L, p=p, seed=seed)
        ref2 = ot.sliced_wasserstein_distance(X, Y, a, b, n_projections=L, p=p, seed=seed)
        assert abs(val2 - ref2) <= 1e-12 * ref2


def test_sliced_pot_front_door_unnormalised_and_log():
    rng = np.random.default_rng(22)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((30, 3))
    proj = 2.5 * rng.standard_normal((3, 6))
    ref, rlog = ot.sliced_wasserstein_distance(X, Y, n_projections=9, projections=proj, log=True)
    val, vlog = otp.sliced_wasserstein_distance(X, Y, n_projections=9, projections=proj, log=True)
    assert abs(val - ref) <= 1e-12 * ref
    assert np.abs(vlog["projected_emds"] - rlog["projected_emds"]).max() <= 1e-12 * ref ** 2
    v, lg = otkit.sliced_wasserstein_distance(X, Y, n_projections=12, seed=4, log=True)
    assert lg["projections"].shape == (3, 12) and lg["projected_emds"].shape == (12,)
    assert np.allclose(np.sum(lg["projections"] ** 2, axis=0), 1.0, atol=1e-15)
    assert abs(v - np.mean(lg["projected_emds"]) ** 0.5) <= 1e-15
    # Reproducible: the same seed, the same directions and value.
    assert otkit.sliced_wasserstein_distance(X, Y, n_projections=12, seed=4) == v
    h = otkit.sliced_wasserstein(X, Y, n_projections=12, seed=4, directions="halton")
    assert h.directions.shape == (12, 3) and 0 < h.max_value ** 2 >= h.value_p


def test_sliced_gradients_fd():
    """grad_X of SW_p^p against central differences (h = 1e-6), fixed
    directions."""
    rng = np.random.default_rng(23)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((8, 3))
    proj = ot.sliced.get_random_projections(3, 5, seed=1)
    r = otkit.sliced_wasserstein(X, Y, p=2, projections=proj, grad=True)
    h = 1e-6
    fd = np.empty_like(X)
    for i in range(6):
        for k in range(3):
            Xp, Xm = X.copy(), X.copy()
            Xp[i, k] += h
            Xm[i, k] -= h
            fd[i, k] = (otkit.sliced_wasserstein(Xp, Y, p=2, projections=proj).value_p -
                        otkit.sliced_wasserstein(Xm, Y, p=2, projections=proj).value_p) / (2 * h)
    assert np.abs(fd - r.grad_X).max() <= 1e-7 * max(1.0, np.abs(fd).max())


def test_sliced_bad_input():
    X, Y = np.zeros((4, 2)), np.ones((5, 2))
    with pytest.raises(ValueError, match=r"projections must be \(d, L\)"):
        otkit.sliced_wasserstein_distance(X, Y, projections=np.ones((3, 4)))
    with pytest.raises(ValueError, match="p"):
        otkit.sliced_wasserstein_distance(X, Y, p=0.5)
    with pytest.raises(ValueError, match="n_projections"):
        otkit.sliced_wasserstein_distance(X, Y, n_projections=0)
    with pytest.raises(ValueError, match="directions"):
        otkit.sliced_wasserstein(X, Y, directions="sobol")
    with pytest.raises(ValueError, match=r"\(n, d\) and \(m, d\)"):
        otkit.sliced_wasserstein_distance(X, np.ones((5, 3)))
    Xn = X.copy()
    Xn[2, 1] = np.inf
    with pytest.raises(ValueError, match="finite"):
        otkit.sliced_wasserstein_distance(Xn, Y)
    with pytest.raises(ValueError, match="zero|degenerate"):
        otkit.sliced_wasserstein_distance(X, Y, projections=np.zeros((2, 3)))
    with pytest.raises(ValueError):
        otkit.wasserstein_1d([0.0, 1.0], [0.5], [0.0, 0.0])
    with pytest.raises(ValueError, match="p"):
        otkit.wasserstein_1d([0.0, 1.0], [0.5], p=0.9)


def test_torch_gradients():
    torch = pytest.importorskip("torch")
    import otkit.torch as otorch
    g = torch.Generator().manual_seed(0)
    X = torch.randn(7, 3, dtype=torch.double, generator=g, requires_grad=True)
    Y = torch.randn(9, 3, dtype=torch.double, generator=g, requires_grad=True)
    a = (torch.rand(7, dtype=torch.double, generator=g) + 0.1).requires_grad_()
    b = (torch.rand(9, dtype=torch.double, generator=g) + 0.1).requires_grad_()
    for p in (1.0, 2.0, 3.0):
        assert torch.autograd.gradcheck(
            lambda X, Y, a, b: otorch.sliced_wasserstein(X, Y, a, b, p=p, n_projections=10,
                                                         seed=3), (X, Y, a, b))
    u = torch.randn(8, dtype=torch.double, generator=g, requires_grad=True)
    v = torch.randn(5, dtype=torch.double, generator=g, requires_grad=True)
    wu = (torch.rand(8, dtype=torch.double, generator=g) + 0.1).requires_grad_()
    wv = (torch.rand(5, dtype=torch.double, generator=g) + 0.1).requires_grad_()
    for p in (1.0, 1.5, 2.0):
        assert torch.autograd.gradcheck(
            lambda u, v, wu, wv: otorch.wasserstein_1d(u, v, wu, wv, p), (u, v, wu, wv))
    # The value is POT's, for POT's directions given as a tensor.
    proj = ot.sliced.get_random_projections(3, 6, seed=2)
    val = otorch.sliced_wasserstein(X, Y, projections=torch.from_numpy(proj))
    ref = ot.sliced_wasserstein_distance(X.detach().numpy(), Y.detach().numpy(),
                                         n_projections=6, projections=proj)
    assert abs(val.item() - ref) <= 1e-12 * ref
    # A gradient step on X lowers the distance (descent through the library).
    loss = otorch.sliced_wasserstein(X, Y, seed=1)
    loss.backward()
    with torch.no_grad():
        X2 = X - 0.1 * X.grad
    assert otorch.sliced_wasserstein(X2, Y, seed=1).item() < loss.item()
