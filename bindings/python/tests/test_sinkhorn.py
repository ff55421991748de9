"""otkit.sinkhorn against POT 0.8 (ot.sinkhorn / ot.sinkhorn2 / ot.bregman.sinkhorn_log
with log=True, ot.unbalanced.sinkhorn_unbalanced) on the same problems.

Tolerances: both solvers are run to a marginal error of about 1e-13, so plans
agree to 1e-10 absolute (entries are O(1/(n m))), values to 1e-9 relative and
potentials (up to POT's free additive constant) to 1e-8 absolute."""
import warnings

import numpy as np
import pytest

import otkit

ot = pytest.importorskip("ot")

PLAN_TOL = 1e-10
VALUE_RTOL = 1e-9
POT_TOL = 1e-8


def problem(rng, n, m, d=2, shift=0.5):
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) + shift
    a = rng.uniform(0.2, 1.0, n)
    a /= a.sum()
    b = rng.uniform(0.2, 1.0, m)
    b /= b.sum()
    return x, y, a, b


def pot_balanced(a, b, C, eps):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a POT "did not converge" must fail the test
        P, log = ot.bregman.sinkhorn_log(a, b, C, eps, numItermax=100000, stopThr=1e-14,
                                         log=True)
    return P, log


@pytest.mark.parametrize("eps", [0.05, 0.3, 2.0])
def test_balanced_dense_matches_pot(rng, eps):
    x, y, a, b = problem(rng, 30, 20)
    C = ot.dist(x, y)
    P_pot, log = pot_balanced(a, b, C, eps)
    r = otkit.sinkhorn(a, b, C=C, eps=eps, tol=1e-13, max_iter=100000)
    assert r.converged and r.eps == eps
    P = r.plan()
    assert np.abs(P - P_pot).max() < PLAN_TOL
    # POT's ot.sinkhorn and ot.sinkhorn2 (its value is <P, C> = ot_lin).
    P2 = ot.sinkhorn(a, b, C, eps, method="sinkhorn_log", numItermax=100000, stopThr=1e-14)
    assert np.abs(P - P2).max() < PLAN_TOL
    lin = float(ot.sinkhorn2(a, b, C, eps, method="sinkhorn_log", numItermax=100000,
                             stopThr=1e-14))
    assert r.ot_lin == pytest.approx(lin, rel=VALUE_RTOL)
    assert r.ot_lin == pytest.approx(float(np.sum(P_pot * C)), rel=VALUE_RTOL)
    # OT_kl = <a, f> + <b, g> with POT's log_u = f/eps + log a (decision 2).
    f = eps * (log["log_u"] - np.log(a))
    g = eps * (log["log_v"] - np.log(b))
    assert r.ot_kl == pytest.approx(a @ f + b @ g, rel=VALUE_RTOL)
    H = -(a @ np.log(a)) - (b @ np.log(b))
    assert r.ot_ent == pytest.approx(r.ot_kl - eps * H, rel=VALUE_RTOL)
    # Potentials in POT's gauge, up to the constant POT leaves free.
    lu, lv = r.potentials("pot")
    c = np.mean(lu - log["log_u"])
    assert np.abs(lu - log["log_u"] - c).max() < POT_TOL / eps
    assert np.abs(lv - log["log_v"] + c).max() < POT_TOL / eps
    u, v = np.exp(lu), np.exp(lv)
    assert np.abs(u[:, None] * np.exp(-C / eps) * v[None, :] - P).max() < PLAN_TOL


def test_point_cloud_equals_dense(rng):
    x, y, a, b = problem(rng, 25, 35, d=3)
    C = ot.dist(x, y)  # squared euclidean, otkit's "sqeuclidean"
    r_pts = otkit.sinkhorn(a, b, x=x, y=y, eps=0.1, tol=1e-13)
    r_den = otkit.sinkhorn(a, b, C=C, eps=0.1, tol=1e-13, diameter=r_pts._solver.diameter,
                           p=2)
    P_pot, _ = pot_balanced(a, b, C, 0.1)
    assert np.abs(r_pts.plan() - P_pot).max() < PLAN_TOL
    assert np.abs(r_pts.plan() - r_den.plan()).max() < PLAN_TOL
    assert r_pts.ot_kl == pytest.approx(r_den.ot_kl, rel=VALUE_RTOL)


@pytest.mark.parametrize("rho", [0.1, 1.0, 10.0])
def test_unbalanced_matches_pot(rng, rho):
    x, y, a, b = problem(rng, 12, 9)
    b *= 1.7  # different masses: only meaningful unbalanced
    C = ot.dist(x, y)
    eps = 0.2
    # POT's entropy is sum P log P - P; the modified cost turns it into
    # eps KL(P | a x b) up to a constant (tests/data/gen_pot_reference.py).
    Mt = C - eps * (np.log(a)[:, None] + np.log(b)[None, :])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P_pot = ot.unbalanced.sinkhorn_unbalanced(a, b, Mt, eps, rho, numItermax=100000,
                                                  stopThr=1e-15)
    r = otkit.sinkhorn(a, b, C=C, eps=eps, rho=rho, tol=1e-13)
    assert r.converged and r.rho_a == rho and r.rho_b == rho
    assert np.abs(r.plan() - P_pot).max() < PLAN_TOL
    assert r.ot_lin == pytest.approx(float(np.sum(P_pot * C)), rel=VALUE_RTOL)


def test_reach_is_a_length(rng):
    x, y, a, b = problem(rng, 10, 8)
    r = otkit.sinkhorn(a, b, x=x, y=y, blur=0.3, reach=0.5)
    assert r.eps == pytest.approx(0.09)
    assert r.rho_a == pytest.approx(0.25) and r.rho_b == pytest.approx(0.25)


def test_plan_reductions(rng):
    x, y, a, b = problem(rng, 15, 11)
    r = otkit.sinkhorn(a, b, x=x, y=y, blur=0.2, tol=1e-12)
    P = r.plan()
    row, col = r.marginals()
    assert np.allclose(row, P.sum(1), rtol=0, atol=1e-14)
    assert np.allclose(col, P.sum(0), rtol=0, atol=1e-14)
    assert np.abs(row - a).sum() < 1e-10 and np.abs(col - b).sum() < 1e-10
    M = rng.normal(size=(11, 3))
    assert np.allclose(r.plan_apply(M), P @ M, rtol=0, atol=1e-13)
    N = rng.normal(size=(15,))
    assert np.allclose(r.plan_apply(N, axis=1), P.T @ N, rtol=0, atol=1e-13)
    T = r.barycentric(y)
    assert np.allclose(T, (P @ y) / P.sum(1)[:, None], rtol=0, atol=1e-12)
    # GeomLoss gauge by definition.
    C = ot.dist(x, y)
    Q = a[:, None] * b[None, :] * np.exp((r.f[:, None] + r.g[None, :] - C) / r.eps)
    assert np.abs(Q - P).max() < 1e-14
    # OTT gauge: P = exp((f' + g' - C)/eps).
    fo, go = r.potentials("ott")
    assert np.abs(np.exp((fo[:, None] + go[None, :] - C) / r.eps) - P).max() < 1e-14
    assert np.allclose(otkit.potential_convert(r.f, a, r.eps, "geomloss", "ott"), fo)


def test_fixed_schedule_runs_geomloss_iterations(rng):
    x, y, a, b = problem(rng, 20, 20)
    r = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, schedule="fixed", scaling=0.7)
    sched = otkit.epsilon_schedule(r._solver.diameter, 2, 0.1, 0.7)
    assert sched[-1] == pytest.approx(0.01)
    assert r.iterations == len(sched)  # one update per listed eps, as GeomLoss counts
    assert r.status == 0


def test_not_converged_warns(rng):
    x, y, a, b = problem(rng, 20, 20)
    with pytest.warns(otkit.ConvergenceWarning, match="max_iter = 3") as rec:
        r = otkit.sinkhorn(a, b, x=x, y=y, blur=0.01, tol=1e-15, max_iter=3)
    assert rec[0].filename == __file__  # points at the caller's line
    with pytest.warns(otkit.ConvergenceWarning) as rec:
        otkit.divergence(x, y, blur=0.01, tol=1e-15, max_iter=3)
    assert rec[0].filename == __file__
    with pytest.warns(otkit.ConvergenceWarning) as rec:
        otkit.Divergence(x, y, blur=0.01, tol=1e-15, max_iter=3).solve()
    assert rec[0].filename == __file__
    assert r.status == 1 and not r.converged
    assert r.marginal_error > 1e-15
    assert issubclass(otkit.ConvergenceWarning, RuntimeWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        otkit.sinkhorn(a, b, x=x, y=y, blur=0.01, tol=1e-15, max_iter=3, warn=False)


def test_one_dimensional_points_and_uniform_weights(rng):
    x = rng.normal(size=12)
    y = rng.normal(size=9)
    r1 = otkit.sinkhorn(x=x, y=y, blur=0.2)
    r2 = otkit.sinkhorn(np.full(12, 1 / 12), np.full(9, 1 / 9), x=x[:, None], y=y[:, None],
                        blur=0.2)
    assert r1.ot_kl == r2.ot_kl
    assert r1.plan().shape == (12, 9)
