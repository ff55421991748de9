"""otkit.pot against POT itself (python3-pot 0.8): plans, values, logs and
the documented differences.  POT runs to stopThr = 1e-13 with enough
iterations, so that both sides hold the converged plan."""
import warnings

import numpy as np
import pytest

import otkit
import otkit.pot as otp

ot = pytest.importorskip("ot")


def problem(n=40, m=30, d=2, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, d)), rng.random((m, d)) + 0.2
    a, b = rng.random(n) + 0.1, rng.random(m) + 0.1
    return x, y, a / a.sum(), b / b.sum()


@pytest.mark.parametrize("reg", [0.5, 0.05, 0.01])
def test_sinkhorn_plan_and_value_match_pot(reg):
    x, y, a, b = problem()
    M = ot.dist(x, y)
    P_pot = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", numItermax=200000, stopThr=1e-13)
    P = otp.sinkhorn(a, b, M, reg, stopThr=1e-12, numItermax=100000)
    assert P.shape == (40, 30)
    assert np.max(np.abs(P - P_pot)) <= 1e-9 * np.max(P_pot)
    v_pot = ot.sinkhorn2(a, b, M, reg, method="sinkhorn_log", numItermax=200000, stopThr=1e-13)
    v = otp.sinkhorn2(a, b, M, reg, stopThr=1e-12, numItermax=100000)
    assert isinstance(v, float)
    assert abs(v - float(v_pot)) <= 1e-9 * abs(float(v_pot))


def test_sinkhorn_log_keys_are_pots():
    x, y, a, b = problem(seed=1)
    M = ot.dist(x, y)
    P, log = otp.sinkhorn(a, b, M, 0.1, stopThr=1e-12, log=True)
    _, log_pot = ot.sinkhorn(a, b, M, 0.1, method="sinkhorn_log", stopThr=1e-13,
                             numItermax=100000, log=True)
    assert {"err", "niter", "log_u", "log_v", "u", "v"} <= set(log)
    # The scalings rebuild the plan as POT's do: P = diag(u) K diag(v).
    K = np.exp(-M / 0.1)
    assert np.allclose(log["u"][:, None] * K * log["v"][None, :], P, rtol=1e-10, atol=0)
    # Scalings are defined up to (u c, v / c): compare the gauge-free products.
    d = log["log_u"][:, None] + log["log_v"][None, :]
    d_pot = log_pot["log_u"][:, None] + log_pot["log_v"][None, :]
    assert np.max(np.abs(d - d_pot)) <= 1e-8


def test_empty_weights_are_uniform_and_several_histograms():
    x, y, _, _ = problem(seed=2)
    M = ot.dist(x, y)
    P = otp.sinkhorn([], [], M, 0.2, stopThr=1e-12)
    assert np.allclose(P.sum(axis=1), 1 / 40, rtol=1e-9)
    B = np.random.default_rng(3).random((30, 3))
    B /= B.sum(axis=0)
    vals = otp.sinkhorn2(np.full(40, 1 / 40), B, M, 0.2, stopThr=1e-12)
    ref = ot.sinkhorn2(np.full(40, 1 / 40), B, M, 0.2, method="sinkhorn_log",
                       stopThr=1e-13, numItermax=100000)
    assert vals.shape == (3,)
    assert np.allclose(vals, ref, rtol=1e-9)


@pytest.mark.parametrize("reg_m", [0.5, 5.0])
def test_unbalanced_plan_matches_pot(reg_m):
    x, y, a, b = problem(seed=4)
    a = 2.0 * a  # unequal masses: only the unbalanced problem is defined
    M = ot.dist(x, y)
    reg = 0.1
    P_pot = ot.sinkhorn_unbalanced(a, b, M, reg, reg_m, numItermax=200000, stopThr=1e-14)
    P, log = otp.sinkhorn_unbalanced(a, b, M, reg, reg_m, stopThr=1e-11, numItermax=100000,
                                     log=True)
    assert np.max(np.abs(P - P_pot)) <= 1e-7 * np.max(P_pot)
    # The log's scalings are those of POT's kernel exp(-M / reg).
    K = np.exp(-M / reg)
    assert np.allclose(log["u"][:, None] * K * log["v"][None, :], P, rtol=1e-9, atol=0)
    v = otp.sinkhorn_unbalanced2(a, b, M, reg, reg_m, stopThr=1e-11, numItermax=100000)
    assert abs(v - float(np.sum(P_pot * M))) <= 1e-7 * float(np.sum(P_pot * M))


def test_dist_matches_pot():
    x, y, _, _ = problem(seed=5)
    for metric in ("sqeuclidean", "euclidean", "cityblock"):
        assert np.allclose(otp.dist(x, y, metric), ot.dist(x, y, metric=metric), rtol=1e-12,
                           atol=1e-15)


def test_refusals_and_warning():
    x, y, a, b = problem(seed=6)
    M = ot.dist(x, y)
    with pytest.raises(ValueError, match="greenkhorn"):
        otp.sinkhorn(a, b, M, 0.1, method="greenkhorn")
    with pytest.raises(ValueError, match="reg"):
        otp.sinkhorn(a, b, M, 0.0)
    with pytest.raises(ValueError, match="a has 3 entries"):
        otp.sinkhorn(np.ones(3) / 3, b, M, 0.1)
    with pytest.raises(TypeError, match="nonsense"):
        otp.sinkhorn(a, b, M, 0.1, nonsense=1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        otp.sinkhorn(a, b, M, 1e-3, numItermax=2, stopThr=1e-14)
    assert any(issubclass(k.category, otkit.ConvergenceWarning) for k in w)
