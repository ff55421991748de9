"""backend= and truncate= (docs/math.md A.11): the multiscale backend against
the online solve of the same clouds (values 1e-7 relative, gradients 1e-5 of
their largest entry: both solves stop at tol 1e-9, and the reported
truncation bound is <= 1e-5), the result's backend and truncation_bound, and
the refusals."""
import math

import numpy as np
import pytest

import otkit


def clouds(n, d, seed=0):
    r = np.random.default_rng(seed)
    x = r.random((n, d))
    y = 0.3 + 0.5 * r.random((n, d))
    y[:, 0] += 0.2
    return x, y


def test_divergence_multiscale_matches_online():
    x, y = clouds(1000, 2)
    on = otkit.divergence(x, y, blur=0.05, tol=1e-9, backend="online", grad=("x", "y"))
    ms = otkit.divergence(x, y, blur=0.05, tol=1e-9, backend="multiscale", grad=("x", "y"))
    assert on.backend == "online" and ms.backend == "multiscale"
    assert on.truncation_bound == 0.0 and 0.0 < ms.truncation_bound <= 1e-5
    assert abs(ms.value - on.value) <= 1e-7 * abs(on.value)
    for k in ("grad_x", "grad_y"):
        g0, g1 = getattr(on, k), getattr(ms, k)
        assert np.abs(g1 - g0).max() <= 1e-5 * np.abs(g0).max()


def test_sinkhorn_backends_and_auto():
    x, y = clouds(700, 3, 1)
    on = otkit.sinkhorn(x=x, y=y, blur=0.05, tol=1e-10, backend="online")
    ms = otkit.sinkhorn(x=x, y=y, blur=0.05, tol=1e-10, backend="multiscale", truncate=math.inf)
    de = otkit.sinkhorn(x=x, y=y, blur=0.05, tol=1e-10, backend="dense")
    auto = otkit.sinkhorn(x=x, y=y, blur=0.05, tol=1e-10)
    assert (ms.backend, de.backend, auto.backend) == ("multiscale", "dense", "online")
    assert ms.truncation_bound == 0.0
    assert abs(ms.ot_kl - on.ot_kl) <= 1e-9 * abs(on.ot_kl)
    assert abs(de.ot_kl - on.ot_kl) <= 1e-12 * abs(on.ot_kl)
    assert auto.ot_kl == on.ot_kl


@pytest.mark.parametrize("truncate", [0.0, -1.0, float("nan")])
def test_bad_truncate(truncate):
    x, y = clouds(50, 2)
    with pytest.raises(ValueError, match="truncate"):
        otkit.sinkhorn(x=x, y=y, backend="multiscale", truncate=truncate)
    with pytest.raises(ValueError, match="truncate"):
        otkit.divergence(x, y, backend="multiscale", truncate=truncate)


def test_refusals():
    x, y = clouds(50, 4)
    with pytest.raises(otkit.OtkitError, match="d = 4"):
        otkit.divergence(x, y, backend="multiscale")
    with pytest.raises(ValueError, match="backend"):
        otkit.sinkhorn(x=x, y=y, backend="gpu")
    with pytest.raises(otkit.OtkitError, match="point-cloud"):
        otkit.sinkhorn(C=np.ones((3, 3)), eps=0.1, backend="multiscale")


def test_callback_sees_the_stages_and_stops():
    """callback(..., stage) sees every update, on the clusters first, then on
    the points, then at the target eps; a true return on the clusters stops
    there (status 2, the values of that update)."""
    x, y = clouds(600, 2, seed=3)
    seen = []
    r = otkit.sinkhorn(x=x, y=y, blur=0.03, tol=1e-9, backend="multiscale",
                       callback=lambda i, eps, err, stage: seen.append((i, eps, err, stage)))
    assert r.converged and len(seen) == r.iterations
    assert [t[0] for t in seen] == list(range(1, r.iterations + 1))
    stages = [t[3] for t in seen]
    order = ["clusters", "annealing", "target"]
    assert stages == sorted(stages, key=order.index) and stages[0] == "clusters"
    assert stages.count("clusters") + stages.count("annealing") == r.annealing_iterations
    on = []
    otkit.sinkhorn(x=x, y=y, blur=0.03, tol=1e-9, backend="online",
                   callback=lambda i, eps, err, stage: on.append(stage))
    assert "clusters" not in on and on[0] == "annealing"
    r2 = otkit.sinkhorn(x=x, y=y, blur=0.03, tol=1e-9, backend="multiscale",
                        callback=lambda i, eps, err, stage: stage == "clusters" and i == 2)
    assert r2.stopped and r2.status == 2 and r2.iterations == 2 and np.isfinite(r2.ot_kl)
