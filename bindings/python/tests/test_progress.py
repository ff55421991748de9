"""callback= of a single divergence (otkit.divergence, Divergence.solve,
divergence_matrix): the contract of otkit.sinkhorn's (otk_divergence_params
.progress, otkit/divergence.h): one call per update that leaves the solve
running, with the stage of that update (multiscale: "clusters" first), a true
return stops the solve (stopped, status 2), an exception propagates, and a
callback that does nothing leaves every result bitwise unchanged."""
import warnings

import numpy as np
import pytest

import otkit
from conftest import clouds

ORDER = ["clusters", "annealing", "target"]


@pytest.fixture(scope="module")
def multiscale_run():
    """One multiscale divergence of 2000 + 2000 points in 2-D, observed (blur
    0.02: below the cluster level's last ε, so all three stages run)."""
    x, y = clouds(2000, 2, seed=5)
    seen = []
    r = otkit.divergence(x, y, blur=0.02, tol=1e-7, backend="multiscale", grad=True,
                         callback=lambda i, eps, err, stage: seen.append((i, eps, err, stage)))
    return x, y, r, seen


def test_multiscale_reports_every_update_in_stage_order(multiscale_run):
    x, y, r, seen = multiscale_run
    assert r.backend == "multiscale" and r.converged and not r.stopped
    # Every update but the ones that end the solve is reported, numbered 1, 2, ...
    its = [t[0] for t in seen]
    assert its == list(range(1, len(its) + 1)) and len(its) == r.iterations
    stages = [t[3] for t in seen]
    assert stages[0] == "clusters" and set(stages) == set(ORDER)
    assert stages == sorted(stages, key=ORDER.index)
    assert stages.count("clusters") + stages.count("annealing") == r.annealing_iterations
    # eps decreases to the target; the error is measured at the target only.
    eps = [t[1] for t in seen]
    assert all(e1 <= e0 for e0, e1 in zip(eps, eps[1:])) and eps[-1] == pytest.approx(r.eps)
    for _, e, err, stage in seen:
        assert np.isnan(err) if stage != "target" else (np.isfinite(err) and e == r.eps)


def test_a_callback_that_does_nothing_changes_nothing(multiscale_run):
    x, y, r, _ = multiscale_run
    plain = otkit.divergence(x, y, blur=0.02, tol=1e-7, backend="multiscale", grad=True)
    assert plain.value == r.value and plain.iterations == r.iterations
    assert plain.marginal_error == r.marginal_error and not plain.stopped
    for k in ("grad_a", "grad_b", "grad_x", "grad_y"):
        assert np.array_equal(getattr(plain, k), getattr(r, k)), k
    # Online, with OpenMP threads, and a callback without `stage`.
    x, y = clouds(300, 3, seed=1)
    calls = []
    a = otkit.divergence(x, y, blur=0.05, threads=2, grad=("x",),
                         callback=lambda i, eps, err: calls.append(i))
    b = otkit.divergence(x, y, blur=0.05, threads=2, grad=("x",))
    assert a.value == b.value and np.array_equal(a.grad_x, b.grad_x)
    assert calls == list(range(1, a.iterations + 1))


def test_stage_keyword_and_kwargs():
    x, y = clouds(200, 2, seed=2)
    got = []
    otkit.divergence(x, y, blur=0.1, callback=lambda i, eps, err, **kw: got.append(kw))
    assert got and all(set(k) == {"stage"} for k in got)
    assert got[0]["stage"] == "annealing" and got[-1]["stage"] == "target"


def test_true_return_stops_the_solve():
    x, y = clouds(2000, 2, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stop is no ConvergenceWarning
        r = otkit.divergence(x, y, blur=0.05, backend="multiscale", grad=("x",),
                             callback=lambda i, eps, err, stage: stage == "clusters" and i == 2)
    assert r.stopped and r.status == 2 and not r.converged and r.iterations == 2
    assert np.isnan(r.marginal_error) and np.isfinite(r.value)
    assert np.isfinite(r.grad_x).all()
    # Online, stopped at the target: the value of that update, measured error.
    x, y = clouds(300, 2, seed=3)
    stop_at = []

    def second_target(i, eps, err, stage):
        if stage == "target":
            stop_at.append(i)
        return len(stop_at) == 2

    r = otkit.divergence(x, y, blur=0.05, tol=1e-12, callback=second_target)
    full = otkit.divergence(x, y, blur=0.05, tol=1e-12)
    assert r.stopped and r.status == 2 and r.iterations == stop_at[-1] < full.iterations
    assert np.isfinite(r.marginal_error) and r.marginal_error > 1e-12
    assert r.value != full.value and abs(r.value - full.value) < 1e-2 * abs(full.value)


def test_exception_propagates_and_the_object_recovers():
    x, y = clouds(300, 2, seed=4)
    div = otkit.Divergence(x, y, blur=0.05)

    def boom(iteration, eps, error):
        if iteration == 3:
            raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        div.solve(callback=boom)
    with pytest.raises(RuntimeError, match="call solve"):
        div.plan()  # the interrupted solve left no solution
    again = div.solve(grad=("x",))
    fresh = otkit.divergence(x, y, blur=0.05, grad=("x",))
    assert again.value == fresh.value and np.array_equal(again.grad_x, fresh.grad_x)
    with pytest.raises(ZeroDivisionError):
        otkit.divergence(x, y, blur=0.05, backend="multiscale",
                         callback=lambda i, eps, err: 1 / 0)


def test_matrices_and_not_callable():
    x, y = clouds(150, 2, seed=6)
    C = lambda u, v: 0.5 * ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)
    seen = []
    r = otkit.divergence_matrix(C(x, y), C(x, x), C(y, y), eps=0.01,
                                callback=lambda i, eps, err: seen.append(i))
    assert seen == list(range(1, r.iterations + 1)) and not r.stopped
    r = otkit.Divergence.from_matrices(C(x, y), C(x, x), C(y, y), eps=0.01).solve(
        callback=lambda i, eps, err: i == 4)
    assert r.stopped and r.iterations == 4
    for call in (lambda: otkit.divergence(x, y, callback=3),
                 lambda: otkit.Divergence(x, y).solve(callback="print"),
                 lambda: otkit.divergence_matrix(C(x, y), C(x, x), C(y, y), eps=0.01,
                                                 callback=1.5)):
        with pytest.raises(TypeError, match="callback must be callable"):
            call()


def test_torch_sinkhorn_divergence_passes_the_callback_on():
    torch = pytest.importorskip("torch")
    import otkit.torch as otorch
    x, y = clouds(300, 2, 3)
    seen = []
    loss = otorch.SinkhornDivergence(blur=0.05, callback=lambda it, eps, err, stage:
                                     seen.append((it, stage)))
    X = torch.tensor(x, requires_grad=True)
    v = loss(X, torch.tensor(y))
    v.backward()
    plain = otorch.SinkhornDivergence(blur=0.05)(torch.tensor(x), torch.tensor(y))
    assert len(seen) > 0 and [s[0] for s in seen] == list(range(1, len(seen) + 1))
    assert v.item() == plain.item()
    # A batch: every update of every problem (the batch contract), True stops it.
    XB = torch.tensor(np.stack([x, x[::-1]]))
    YB = torch.tensor(np.stack([y, y]))
    seen.clear()
    vb = loss(XB, YB)
    assert vb.shape == (2,) and len(seen) > 0
    assert len(seen) >= 2 * len(set(s[0] for s in seen))
    stop = otorch.SinkhornDivergence(blur=0.05, callback=lambda it, eps, err: it == 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isfinite(stop(torch.tensor(x), torch.tensor(y)).item())
