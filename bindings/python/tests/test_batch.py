"""Batches of independent problems (otkit/batch.h): otkit.divergence,
otkit.sinkhorn (points) and otkit.torch.SinkhornDivergence with a leading
batch dimension.  Each problem equals its own single solve to 1e-12
relative; zero-weight padding equals the unpadded solve; float32 in gives
float32 out; shape errors name the argument."""
import numpy as np
import pytest

import otkit

B, N, M, D = 4, 12, 9, 3


def rel(u, v):
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return float(np.max(np.abs(u - v)) / max(np.max(np.abs(v)), 1e-300))


def clouds(rng, b=B, n=N, m=M, d=D):
    x = rng.normal(size=(b, n, d)) * 0.3
    y = rng.normal(size=(b, m, d)) * 0.25 + 0.2 * np.arange(b)[:, None, None]
    a = rng.uniform(0.2, 1.0, (b, n))
    bw = rng.uniform(0.2, 1.0, (b, m))
    return x, y, a / a.sum(1, keepdims=True), bw / bw.sum(1, keepdims=True)


@pytest.mark.parametrize("kw", [dict(schedule="fixed"), dict(schedule="converge", tol=1e-10),
                                dict(reach=0.5, tol=1e-10), dict(p=1, schedule="fixed")])
def test_divergence_batch_equals_single_solves(rng, kw):
    x, y, a, b = clouds(rng)
    r = otkit.divergence(x, y, a, b, blur=0.1, grad=True, threads=2, **kw)
    assert isinstance(r, otkit.DivergenceBatchResult)
    assert r.value.shape == (B,) and r.grad_x.shape == (B, N, D) and r.grad_b.shape == (B, M)
    for k in range(B):
        s = otkit.divergence(x[k], y[k], a[k], b[k], blur=0.1, grad=True, threads=1, **kw)
        assert rel(r.value[k], s.value) <= 1e-12
        assert r.iterations[k] == s.iterations and r.status[k] == s.status
        for g in ("x", "y", "a", "b"):
            assert rel(getattr(r, "grad_" + g)[k], getattr(s, "grad_" + g)) <= 1e-12, g


def test_sinkhorn_batch_equals_single_solves(rng):
    x, y, a, b = clouds(rng)
    r = otkit.sinkhorn(a, b, x=x, y=y, eps=0.05, tol=1e-10, threads=2)
    assert isinstance(r, otkit.SinkhornBatchResult)
    assert r.f.shape == (B, N) and r.g.shape == (B, M) and r.converged
    for k in range(B):
        s = otkit.sinkhorn(a[k], b[k], x=x[k], y=y[k], eps=0.05, tol=1e-10, threads=1)
        for v in ("ot_kl", "ot_ent", "ot_lin"):
            assert rel(getattr(r, v)[k], getattr(s, v)) <= 1e-12, v
        assert rel(r.f[k], s.f) <= 1e-12 and rel(r.g[k], s.g) <= 1e-12
        assert r.iterations[k] == s.iterations


def test_batch_does_not_depend_on_threads(rng):
    x, y, a, b = clouds(rng)
    r1 = otkit.divergence(x, y, a, b, blur=0.1, grad=True, threads=1)
    r2 = otkit.divergence(x, y, a, b, blur=0.1, grad=True, threads=3)
    assert np.array_equal(r1.value, r2.value) and np.array_equal(r1.grad_x, r2.grad_x)


@pytest.mark.parametrize("where", ["end", "front", "interleaved"])
@pytest.mark.parametrize("reach", [None, 0.5])
@pytest.mark.parametrize("far", [False, True])
def test_zero_weight_padding_equals_unpadded(rng, where, reach, far):
    """Problem 1 is a smaller problem (7 and 5 real points) padded to N, M
    with zero weights, on a real point or far away (where they would change
    the schedule's diameter if they counted, and cost the expanded
    soft-min's centring digits: otkit/batch.h)."""
    tol = 1e-9 if far else 1e-12
    x, y, a, b = clouds(rng)
    nr, mr = 7, 5
    xr, yr = rng.normal(size=(nr, D)), rng.normal(size=(mr, D)) + 0.3
    ar, br = rng.dirichlet(np.ones(nr)), rng.dirichlet(np.ones(mr))
    slots = {"end": (np.arange(nr), np.arange(mr)),
             "front": (np.arange(N - nr, N), np.arange(M - mr, M)),
             "interleaved": (np.arange(nr) * (N // nr), np.arange(mr) * (M // mr))}[where]
    for xs, ws, real, wr, sl in ((x, a, xr, ar, slots[0]), (y, b, yr, br, slots[1])):
        xs[1] = 50.0 + np.arange(xs.shape[1])[:, None] if far else real[0]
        ws[1] = 0.0
        xs[1, sl] = real
        ws[1, sl] = wr
    kw = dict(blur=0.1, schedule="fixed", reach=reach)
    r = otkit.divergence(x, y, a, b, grad=True, **kw)
    s = otkit.divergence(xr, yr, ar, br, grad=True, **kw)
    assert rel(r.value[1], s.value) <= tol
    assert r.iterations[1] == s.iterations
    assert rel(r.grad_x[1, slots[0]], s.grad_x) <= tol
    assert rel(r.grad_y[1, slots[1]], s.grad_y) <= tol
    assert rel(r.grad_a[1, slots[0]], s.grad_a) <= tol
    assert rel(r.grad_b[1, slots[1]], s.grad_b) <= tol
    pad = np.setdiff1d(np.arange(N), slots[0])
    assert np.max(np.abs(r.grad_x[1, pad])) <= 1e-290
    # and the Sinkhorn values and potentials
    rs = otkit.sinkhorn(a, b, x=x, y=y, eps=0.05, tol=1e-10, reach=reach)
    ss = otkit.sinkhorn(ar, br, x=xr, y=yr, eps=0.05, tol=1e-10, reach=reach)
    for v in ("ot_kl", "ot_ent", "ot_lin"):
        assert rel(getattr(rs, v)[1], getattr(ss, v)) <= tol, v
    assert rel(rs.f[1, slots[0]], ss.f) <= tol and rel(rs.g[1, slots[1]], ss.g) <= tol


SCALE_CASES = [dict(relative_eps=0.1), dict(relative_eps=0.05, relative_to="median"),
               dict(eps=0.02, scale_cost="max_cost"),
               dict(relative_eps=0.2, relative_to="std", scale_cost=2.5)]


@pytest.mark.parametrize("kw", SCALE_CASES)
def test_scale_aware_eps_is_per_problem(rng, kw):
    """relative_eps and scale_cost by a statistic are resolved on each
    problem (its own eps, rho and s), as its single solve; a padded problem's
    statistics are those of its real points, as its unpadded solve (the
    padded cost's mean would count the padding's entries)."""
    x, y, a, b = clouds(rng)
    nr, mr = 8, 6
    xr, yr = x[1, :nr].copy(), y[1, :mr].copy()
    ar, br = rng.dirichlet(np.ones(nr)), rng.dirichlet(np.ones(mr))
    x[1, nr:], y[1, mr:] = xr[0], yr[0]
    a[1], b[1] = 0.0, 0.0
    a[1, :nr], b[1, :mr] = ar, br
    rd = otkit.divergence(x, y, a, b, grad=True, tol=1e-10, **kw)
    rs = otkit.sinkhorn(a, b, x=x, y=y, tol=1e-10, **kw)
    assert rd.eps.shape == (B,) and rs.scale_cost.shape == (B,)
    assert len(set(rd.eps)) == B  # each problem its own statistic
    for k in range(B):
        if k == 1:
            sd = otkit.divergence(xr, yr, ar, br, grad=True, tol=1e-10, **kw)
            ss = otkit.sinkhorn(ar, br, x=xr, y=yr, tol=1e-10, **kw)
            sl = (slice(0, nr), slice(0, mr))
        else:
            sd = otkit.divergence(x[k], y[k], a[k], b[k], grad=True, tol=1e-10, **kw)
            ss = otkit.sinkhorn(a[k], b[k], x=x[k], y=y[k], tol=1e-10, **kw)
            sl = (slice(None), slice(None))
        assert rel(rd.value[k], sd.value) <= 1e-12, k
        assert rel(rd.eps[k], sd.eps) <= 1e-12 and rel(rd.scale_cost[k], sd.scale_cost) <= 1e-12
        assert rel(rd.grad_x[k][sl[0]], sd.grad_x) <= 1e-12
        assert rel(rd.grad_b[k][sl[1]], sd.grad_b) <= 1e-12
        for v in ("ot_kl", "ot_ent", "ot_lin", "eps", "scale_cost"):
            assert rel(getattr(rs, v)[k], getattr(ss, v)) <= 1e-12, v
        assert rel(rs.f[k][sl[0]], ss.f) <= 1e-12 and rel(rs.g[k][sl[1]], ss.g) <= 1e-12


def test_scale_aware_unbalanced_rho_is_per_problem(rng):
    """With scale_cost by a statistic rho = s * reach**p differs per problem."""
    x, y, a, b = clouds(rng)
    r = otkit.sinkhorn(a, b, x=x, y=y, eps=0.05, reach=0.7, scale_cost="mean", tol=1e-10)
    rd = otkit.divergence(x, y, a, b, eps=0.05, reach=0.7, scale_cost="mean", tol=1e-10)
    for k in range(B):
        s = otkit.sinkhorn(a[k], b[k], x=x[k], y=y[k], eps=0.05, reach=0.7,
                           scale_cost="mean", tol=1e-10)
        sd = otkit.divergence(x[k], y[k], a[k], b[k], eps=0.05, reach=0.7, scale_cost="mean",
                              tol=1e-10)
        assert rel(r.rho_a[k], s.rho_a) <= 1e-12 and rel(r.ot_kl[k], s.ot_kl) <= 1e-12
        assert rel(rd.rho[k], sd.rho) <= 1e-12 and rel(rd.value[k], sd.value) <= 1e-12


@pytest.mark.parametrize("backend", ["online", "dense", "multiscale"])
def test_backend_is_each_problems(rng, backend):
    """backend= runs each problem on that backend, as its single solve
    (multiscale needs d <= 3; at these sizes it keeps every block)."""
    x, y, a, b = clouds(rng)
    kw = dict(blur=0.1, backend=backend, truncate=12.0, tol=1e-10)
    r = otkit.divergence(x, y, a, b, grad=True, **kw)
    rs = otkit.sinkhorn(a, b, x=x, y=y, **kw)
    assert r.backend == backend and rs.backend == backend
    assert r.truncation_bound.shape == (B,)
    for k in range(B):
        s = otkit.divergence(x[k], y[k], a[k], b[k], grad=True, **kw)
        assert s.backend == backend
        assert rel(r.value[k], s.value) <= 1e-12 and rel(r.grad_x[k], s.grad_x) <= 1e-12
        ss = otkit.sinkhorn(a[k], b[k], x=x[k], y=y[k], **kw)
        assert rel(rs.ot_kl[k], ss.ot_kl) <= 1e-12 and rel(rs.f[k], ss.f) <= 1e-12


def test_batch_backend_errors_name_the_parameter(rng):
    x, y, a, b = clouds(rng, d=4)
    with pytest.raises((ValueError, otkit.OtkitError), match="multiscale"):
        otkit.divergence(x, y, a, b, backend="multiscale")
    with pytest.raises(ValueError, match="backend"):
        otkit.sinkhorn(a, b, x=x, y=y, eps=0.1, backend="gpu")


def test_float32_in_float32_out(rng):
    x, y, a, b = clouds(rng)
    xf, yf = x.astype(np.float32), y.astype(np.float32)
    r = otkit.divergence(xf, yf, a, b, blur=0.1, grad=True, schedule="fixed")
    assert r.grad_x.dtype == np.float32 and r.grad_a.dtype == np.float32
    for k in range(B):
        s = otkit.divergence(xf[k], yf[k], a[k], b[k], blur=0.1, grad=("x",),
                             schedule="fixed")
        assert s.grad_x.dtype == np.float32
        assert rel(r.value[k], s.value) <= 1e-12 and rel(r.grad_x[k], s.grad_x) <= 1e-6
    rs = otkit.sinkhorn(a, b, x=xf, y=yf, eps=0.05)
    assert rs.f.dtype == np.float32 and rs.ot_kl.dtype == np.float64
    # dtype forces the precision as for one problem
    assert otkit.divergence(x, y, grad=("x",), dtype=np.float32,
                            schedule="fixed").grad_x.dtype == np.float32


def test_not_converged_is_per_problem(rng):
    x, y, a, b = clouds(rng)
    x[0] = 0.5
    y[0] = 0.5
    with pytest.warns(otkit.ConvergenceWarning, match="problems"):
        r = otkit.divergence(x, y, a, b, blur=0.01, max_iter=2)
    assert r.status[0] == 0 and np.all(r.status[1:] == otkit._otkit.OTK_NOT_CONVERGED)
    assert not r.converged


@pytest.mark.parametrize("args, match", [
    (lambda x, y, a, b: (x, y[:2], a, b), "y has batch size 2, expected B = 4"),
    (lambda x, y, a, b: (x, y[:, :, :2], a, b), "y has dimension 2, expected d = 3"),
    (lambda x, y, a, b: (x, y[0], a, b), r"y has shape \(9, 3\): a batch needs y"),
    (lambda x, y, a, b: (x[0], y, a, b), r"x has shape \(12, 3\): a batch needs x"),
    (lambda x, y, a, b: (x, y, a[:3], b), r"a has shape \(3, 12\), expected \(B, n\)"),
    (lambda x, y, a, b: (x, y, a, b[:, :4]), r"b has shape \(4, 4\), expected \(B, m\)"),
    (lambda x, y, a, b: (x, y, a[0], b), r"a has shape \(12,\)"),
])
def test_batch_shape_errors_name_the_argument(rng, args, match):
    x, y, a, b = args(*clouds(rng))
    with pytest.raises(ValueError, match=match):
        otkit.divergence(x, y, a, b)
    with pytest.raises(ValueError, match=match):
        otkit.sinkhorn(a, b, x=x, y=y, eps=0.1)


def test_batch_bad_weights_name_the_problem(rng):
    x, y, a, b = clouds(rng)
    a[2, 5] = -0.1
    with pytest.raises(ValueError, match=r"a\[2\]\[5\] = -0.1 is negative"):
        otkit.divergence(x, y, a, b)
    a[2, 5] = 0.3
    with pytest.raises(ValueError, match="problem 2 is balanced with unequal masses"):
        otkit.sinkhorn(a, b, x=x, y=y, eps=0.1)
    y[3, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"y\[3\]\[3\] = nan is not finite"):
        otkit.divergence(x, y)
    with pytest.raises(ValueError, match="init is not supported for a batch"):
        otkit.sinkhorn(x=x, y=y, eps=0.1, init=(x[0, :, 0], y[0, :, 0]))


def test_batch_callback_reports_every_problem(rng):
    """callback(iteration, eps, error) with the keywords it declares: every
    update of every problem in order, then one end report per problem with
    its status, done counting 1..B; the results are those without it."""
    x, y, a, b = clouds(rng)
    log = []

    def watch(iteration, eps, error, problem, done, status, stage):
        log.append((problem, iteration, eps, error, done, status, stage))

    r = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, tol=1e-10, threads=2, callback=watch)
    quiet = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, tol=1e-10, threads=2)
    assert not r.stopped and r.converged
    assert np.array_equal(r.ot_kl, quiet.ot_kl) and np.array_equal(r.iterations, quiet.iterations)
    ends = [t for t in log if t[5] != 2]
    assert sorted(t[4] for t in ends) == list(range(1, B + 1))
    for k in range(B):
        mine = [t for t in log if t[0] == k]
        updates = [t for t in mine if t[5] == 2]
        assert [t[1] for t in updates] == list(range(1, r.iterations[k] + 1))
        assert mine[-1][5] == 0 and mine[-1][1] == r.iterations[k]  # its end, last
        stages = [t[6] for t in updates]
        assert stages[0] == "annealing" and stages[-1] == "target"
        assert stages.count("annealing") == r.annealing_iterations[k]
        assert all(np.isnan(t[3]) for t in updates if t[6] == "annealing")
        assert all(t[3] > 1e-10 for t in updates if t[6] == "target")
    # A plain callback(iteration, eps, error) is called as often.
    n_calls = []
    otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, tol=1e-10, callback=lambda i, e, r: n_calls.append(i))
    assert len(n_calls) == len(log)


def test_batch_callback_stops_the_batch(rng):
    """A true return stops the batch: no call after it; the running problem
    keeps the values and potentials of its last update, the others are not
    started (NaN, iterations 0); status 2 and stopped."""
    x, y, a, b = clouds(rng)
    calls = []

    def stop_at_3(iteration, eps, error, **info):
        calls.append(info)
        return info["problem"] == 1 and iteration == 3

    r = otkit.sinkhorn(a, b, x=x, y=y, blur=0.1, threads=1, callback=stop_at_3)
    assert r.stopped and not r.converged
    assert calls[-1]["problem"] == 1 and calls[-1]["status"] == 2
    assert list(r.status) == [0, 2, 2, 2] and list(r.iterations[1:]) == [3, 0, 0]
    assert np.isfinite(r.ot_kl[:2]).all() and np.isnan(r.ot_kl[2:]).all()
    assert np.isfinite(r.f[1]).all() and not r.f[2:].any()
    d = otkit.divergence(x, y, a, b, blur=0.1, threads=1, grad=True,
                         callback=lambda it, eps, err: it == 2)
    assert d.stopped and np.all(d.status == 2) and list(d.iterations) == [2, 0, 0, 0]
    assert np.isfinite(d.value[0]) and np.isfinite(d.grad_x[0]).all()
    assert np.isnan(d.value[1:]).all() and not d.grad_x[1:].any()


def test_batch_callback_errors(rng):
    x, y, a, b = clouds(rng)

    def boom(iteration, eps, error, problem):
        if problem == 2:
            raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        otkit.divergence(x, y, a, b, threads=2, callback=boom)
    with pytest.raises(TypeError, match="callback must be callable"):
        otkit.sinkhorn(x=x, y=y, eps=0.1, callback=3)


class TestTorch:
    """Skipped without PyTorch (the NumPy tests above still run)."""

    @property
    def torch(self):
        return pytest.importorskip("torch")

    def test_batch_equals_single_and_backward(self, rng):
        torch = self.torch
        import otkit.torch as otorch
        x, y, a, b = clouds(rng)
        X = torch.tensor(x, requires_grad=True)
        Y = torch.tensor(y, requires_grad=True)
        loss = otorch.SinkhornDivergence(blur=0.1, schedule="converge", tol=1e-10)
        v = loss(torch.tensor(a), X, torch.tensor(b), Y)
        assert v.shape == (B,) and v.dtype == torch.float64
        w = torch.arange(1.0, B + 1, dtype=torch.float64)
        (v * w).sum().backward()
        for k in range(B):
            xk = torch.tensor(x[k], requires_grad=True)
            vk = loss(torch.tensor(a[k]), xk, torch.tensor(b[k]), torch.tensor(y[k]))
            vk.backward()
            assert rel(v[k].item(), vk.item()) <= 1e-12
            assert rel(X.grad[k].numpy() / w[k].item(), xk.grad.numpy()) <= 1e-12

    def test_gradcheck_small_batch(self, rng):
        torch = self.torch
        import otkit.torch as otorch
        x = torch.tensor(rng.normal(size=(2, 5, 2)), requires_grad=True)
        y = torch.tensor(rng.normal(size=(2, 4, 2)) + 0.5, requires_grad=True)
        loss = otorch.SinkhornDivergence(blur=0.5, schedule="converge", tol=1e-12,
                                         max_iter=100000)
        assert torch.autograd.gradcheck(lambda x, y: loss(x, y), (x, y))
        a = torch.tensor(rng.uniform(0.1, 0.3, (2, 5)), requires_grad=True)
        b = torch.tensor(rng.uniform(0.1, 0.4, (2, 4)), requires_grad=True)
        loss = otorch.SinkhornDivergence(blur=0.5, reach=1.0, schedule="converge", tol=1e-12,
                                         max_iter=100000)
        assert torch.autograd.gradcheck(lambda a, x, b, y: loss(a, x, b, y), (a, x, b, y))

    def test_float32_batch(self, rng):
        torch = self.torch
        import otkit.torch as otorch
        x, y, _, _ = clouds(rng)
        X = torch.tensor(x, dtype=torch.float32, requires_grad=True)
        v = otorch.SinkhornDivergence(blur=0.1)(X, torch.tensor(y, dtype=torch.float32))
        assert v.dtype == torch.float32 and v.shape == (B,)
        v.sum().backward()
        assert X.grad.dtype == torch.float32 and X.grad.shape == (B, N, D)

    def test_mismatched_batch_names_the_argument(self, rng):
        torch = self.torch
        import otkit.torch as otorch
        x, y, _, _ = clouds(rng)
        with pytest.raises(ValueError, match="y has batch size 3, expected B = 4"):
            otorch.SinkhornDivergence(blur=0.1)(torch.tensor(x), torch.tensor(y[:3]))

    @pytest.mark.parametrize("kw", [dict(relative_eps=0.1, scale_cost="mean"),
                                    dict(blur=0.1, backend="dense")])
    def test_scale_and_backend_options(self, rng, kw):
        """relative_eps / scale_cost / backend reach each problem of a torch
        batch as its single solve."""
        torch = self.torch
        import otkit.torch as otorch
        x, y, _, _ = clouds(rng)
        X = torch.tensor(x, requires_grad=True)
        loss = otorch.SinkhornDivergence(tol=1e-10, **kw)
        v = loss(X, torch.tensor(y))
        v.sum().backward()
        for k in range(B):
            xk = torch.tensor(x[k], requires_grad=True)
            vk = loss(xk, torch.tensor(y[k]))
            vk.backward()
            assert rel(v[k].item(), vk.item()) <= 1e-12
            assert rel(X.grad[k].numpy(), xk.grad.numpy()) <= 1e-12
