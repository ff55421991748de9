"""backend= and truncate= (docs/math.md A.11): the multiscale backend against
the online solve of the same clouds (values 1e-7 relative, gradients 1e-5 of
their largest entry: both solves stop at tol 1e-9, and the reported
truncation bound is <= 1e-5), the result's backend and truncation_bound, and
the refusals; the Monge gap's backend against online and against the
`otk monge-gap` tool."""
import json
import math
import subprocess

import numpy as np
import pytest

import otkit
from conftest import clouds


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


def twisted_map(x):
    """A contraction with a twist: far from c-optimal, tx in a smaller box."""
    return 0.2 + 0.7 * x + 0.15 * np.sin(4.0 * np.roll(x, -1, axis=1))


def test_monge_gap_multiscale_matches_online():
    # The stated tolerance (otkit/monge_gap.h): |dM| of order eps * bound;
    # asserted 2 eps bound + 1e-8 M (tol 1e-9 fixes M to ~1e-9), gradients
    # 1e-5 of their largest entry.
    r = np.random.default_rng(3)
    x = r.random((1000, 2))
    tx = twisted_map(x)
    on = otkit.monge_gap(x, tx, eps=0.005, tol=1e-9, grad=True, grad_x=True, backend="online")
    ms = otkit.monge_gap(x, tx, eps=0.005, tol=1e-9, grad=True, grad_x=True,
                         backend="multiscale")
    assert (on.backend, ms.backend) == ("online", "multiscale")
    assert on.truncation_bound == 0.0 and 0.0 <= ms.truncation_bound <= 1e-3
    assert abs(ms.monge_gap - on.monge_gap) <= (2 * ms.eps * ms.truncation_bound
                                                + 1e-8 * on.monge_gap)
    for k in ("grad_tx", "grad_x"):
        g0, g1 = getattr(on, k), getattr(ms, k)
        assert np.abs(g1 - g0).max() <= 1e-5 * np.abs(g0).max()
    # truncate=inf keeps every block: the fixed point of the online solve.
    full = otkit.monge_gap(x, tx, eps=0.005, tol=1e-9, backend="multiscale",
                           truncate=math.inf)
    assert full.truncation_bound == 0.0
    assert abs(full.monge_gap - on.monge_gap) <= 1e-8 * on.monge_gap


def test_monge_gap_backend_auto_and_refusals():
    r = np.random.default_rng(4)
    x = r.random((300, 2))
    tx = twisted_map(x)
    auto = otkit.monge_gap(x, tx, eps=0.05, tol=1e-10)
    on = otkit.monge_gap(x, tx, eps=0.05, tol=1e-10, backend="online")
    de = otkit.monge_gap(x, tx, eps=0.05, tol=1e-10, backend="dense")
    assert (auto.backend, de.backend) == ("online", "dense")
    assert auto.monge_gap == on.monge_gap
    assert abs(de.monge_gap - on.monge_gap) <= 1e-11 * on.monge_gap
    # n = 10^4 in 2-D: n^2 = 1e8 pairs, where auto chooses multiscale
    # (max_iter = 1: only the choice is looked at).
    xb = r.random((10000, 2))
    big = otkit.monge_gap(xb, twisted_map(xb), eps=0.01, max_iter=1, warn=False)
    assert big.backend == "multiscale"
    with pytest.raises(otkit.OtkitError, match="d = 4"):
        otkit.monge_gap(r.random((50, 4)), r.random((50, 4)), backend="multiscale")
    with pytest.raises(ValueError, match="truncate"):
        otkit.monge_gap(x, tx, backend="multiscale", truncate=0.0)
    with pytest.raises(ValueError, match="backend"):
        otkit.monge_gap(x, tx, backend="gpu")


def test_monge_gap_multiscale_matches_the_tool(otk_tool, tmp_path):
    r = np.random.default_rng(5)
    x = r.random((600, 3))
    tx = twisted_map(x)
    paths = []
    for name, arr in (("x", x), ("tx", tx)):
        p = str(tmp_path / (name + ".csv"))
        np.savetxt(p, arr, delimiter=",", fmt="%.17g")
        paths.append(p)
    gpath = str(tmp_path / "g.csv")
    out = subprocess.run([otk_tool, "monge-gap", *paths, "--eps", "0.01", "--tol", "1e-9",
                          "--backend", "multiscale", "--truncate", "8", "--grad", gpath],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=300)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    py = otkit.monge_gap(x, tx, eps=0.01, tol=1e-9, backend="multiscale", truncate=8,
                         grad=True)
    assert cli["backend"] == "multiscale"
    assert abs(cli["monge_gap"] - py.monge_gap) <= 1e-12 * abs(py.monge_gap)
    assert cli["truncation_bound"] == pytest.approx(py.truncation_bound, rel=1e-12, abs=0)
    g = np.loadtxt(gpath, delimiter=",", comments="#", ndmin=2)
    assert np.abs(g - py.grad_tx).max() <= 1e-12 * np.abs(py.grad_tx).max()


def test_float32_refused_with_multiscale():
    # Multiscale is float64 only (docs/math.md A.11): float32 clouds are
    # refused naming the backend and the precision; auto runs them online.
    x, y = clouds(60, 2)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    for call in (lambda: otkit.sinkhorn(x=x32, y=y32, backend="multiscale"),
                 lambda: otkit.divergence(x32, y32, backend="multiscale")):
        with pytest.raises(otkit.OtkitError, match="multiscale is float64 only.*float32"):
            call()
    assert otkit.sinkhorn(x=x32, y=y32).backend == "online"
    # The Divergence object: set_points on a multiscale object keeps its copy
    # of the points and refuses clearly.
    div = otkit.Divergence(x, y, blur=0.05, backend="multiscale")
    with pytest.raises(otkit.OtkitError, match="backend multiscale keeps its own copy"):
        div.set_points(x, y)


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
