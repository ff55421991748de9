"""otkit.sinkhorn's warm start (init=), callback= and history=.

A converged solve's potentials meet the tolerance when measured again, so a
warm re-solve from them runs 0 updates (otk_sinkhorn_iterate measures before
it updates) and reproduces the values to 1e-12 relative: the same potentials
give the same sums.  The stop-at-5 and history checks count the library's own
iterations (otk_sinkhorn_progress)."""
import numpy as np
import pytest

import otkit


def problem(seed=0, n=30, m=25):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(m, 2)) + 0.5
    a = rng.uniform(0.2, 1.0, n)
    b = rng.uniform(0.2, 1.0, m)
    return x, y, a / a.sum(), b / b.sum()


def test_warm_start_from_converged_potentials():
    x, y, a, b = problem()
    cold = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, tol=1e-9)
    assert cold.converged and cold.iterations > 10 and not cold.warm_start
    warm = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, tol=1e-9, init=(cold.f, cold.g))
    assert warm.converged and warm.warm_start
    assert warm.iterations <= 2 and warm.annealing_iterations == 0
    for key in ("ot_kl", "ot_ent", "ot_lin"):
        assert getattr(warm, key) == pytest.approx(getattr(cold, key), rel=1e-12)
    np.testing.assert_allclose(warm.f, cold.f, rtol=0, atol=1e-12)


def test_warm_start_from_a_nearby_problem_converges_to_the_cold_answer():
    # Potentials of a slightly different eps: fewer updates than a cold
    # start, the same fixed point (values to 1e-8 relative at tol 1e-10).
    x, y, a, b = problem(1)
    near = otkit.sinkhorn(a, b, x=x, y=y, eps=0.011, tol=1e-10)
    cold = otkit.sinkhorn(a, b, x=x, y=y, eps=0.01, tol=1e-10)
    warm = otkit.sinkhorn(a, b, x=x, y=y, eps=0.01, tol=1e-10, init=(near.f, near.g))
    assert warm.converged
    assert warm.ot_kl == pytest.approx(cold.ot_kl, rel=1e-8)
    assert warm.iterations < cold.iterations


def test_bad_init_raises_value_error_naming_init():
    x, y, a, b = problem()
    with pytest.raises(ValueError, match=r"init\[0\] \(f\)"):
        otkit.sinkhorn(a, b, x=x, y=y, init=(np.zeros(29), np.zeros(25)))
    with pytest.raises(ValueError, match=r"init\[1\] \(g\)"):
        otkit.sinkhorn(a, b, x=x, y=y, init=(np.zeros(30), np.zeros((25, 1))))
    with pytest.raises(ValueError, match="init must be a pair"):
        otkit.sinkhorn(a, b, x=x, y=y, init=np.zeros(55))
    with pytest.raises(ValueError, match="f"):
        otkit.sinkhorn(a, b, x=x, y=y, init=(np.full(30, np.nan), np.zeros(25)))


def test_callback_sees_each_iteration_and_can_stop():
    x, y, a, b = problem()
    seen = []

    def watch(iteration, eps, error):
        seen.append((iteration, eps, error))
        return iteration == 5

    res = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, callback=watch)
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5]
    assert res.stopped and res.status == 2 and not res.converged
    assert res.iterations == 5
    # The annealing runs eps down the list: non-increasing (D^p and
    # exp(p ln D), its first two entries, may differ in the last bit).
    eps = [s[1] for s in seen]
    assert all(e1 >= e2 * (1 - 1e-12) for e1, e2 in zip(eps, eps[1:]))
    # The potentials are those of iteration 5, usable as a warm start.
    done = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, init=(res.f, res.g))
    full = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1)
    assert done.converged and done.ot_kl == pytest.approx(full.ot_kl, rel=1e-6)


def test_callback_runs_to_the_end_and_matches_a_plain_solve():
    x, y, a, b = problem()
    seen = []
    res = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, callback=lambda *t: seen.append(t))
    plain = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1)
    assert not res.stopped and res.converged
    assert res.iterations == plain.iterations and res.ot_kl == plain.ot_kl
    # Called after every update that left the solve running.
    assert [t[0] for t in seen] == list(range(1, plain.iterations + 1))
    assert np.isnan(seen[0][2])  # no measurement during the annealing
    assert all(t[2] > 1e-6 for t in seen[plain.annealing_iterations:])


def test_callback_exception_propagates():
    x, y, a, b = problem()

    def boom(iteration, eps, error):
        if iteration == 3:
            raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, callback=boom)
    with pytest.raises(TypeError, match="callback"):
        otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, callback=3)


def test_history_is_the_marginal_error_per_measurement():
    x, y, a, b = problem()
    res = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, history=True)
    h = res.history
    assert isinstance(h, np.ndarray) and h.dtype == np.float64
    # One measurement per update at the target eps plus the final one.
    assert len(h) == res.iterations - res.annealing_iterations + 1
    assert h[-1] == res.marginal_error and h[-1] <= 1e-6
    assert np.all(h[:-1] > 1e-6)
    assert np.all(np.diff(h[-5:]) < 0)  # the linear convergence at the end
    assert otkit.sinkhorn(a, b, x=x, y=y, blur=0.1).history is None
