"""Single precision: float32 point clouds run the float32 cost
(otk_cost_points_f32, otk_divergence_alloc_points_f32), are not copied to
float64 on the way, and give float32 arrays back; float64 is unchanged.

Tolerances.  The float32 soft-min rounds each exponent h_j - C_ij/eps with
float32's unit roundoff u = 6e-8, i.e. an error ~u*(C_max/eps) per term
(docs/math.md A.7).  Values are sums of potentials: their relative error
stays ~1e-8..1e-7 (measured <= 5e-8, bench/results/f32_accuracy.md); we
assert 1e-6.  Plans and gradients are exponentials of (f + g - C)/eps, so
their error is relative ~u*C_max/eps: with the fixed schedule (the same
iterations in both precisions, so only the arithmetic differs) at
C_max/eps ~ 150 it measures <= 3e-6 of the largest entry; we assert 2e-5.
With the converge schedule both precisions stop at tol = 1e-6 on different
iterates, and float64's own stopping error is as large (measured 1e-6..1e-4
on gradients); there we assert values only.

The points are rounded to float32 first, so both precisions solve the same
problem."""
import tracemalloc

import numpy as np
import pytest

import otkit


def clouds(rng, n, m, d):
    x = rng.uniform(size=(n, d)).astype(np.float32)
    y = (0.6 + 0.25 * rng.normal(size=(m, d))).astype(np.float32)
    return x, y


def rel_max(a, b):
    return float(np.abs(a.astype(np.float64) - b).max() / np.abs(b).max())


# ---------------------------------------------------------------- sinkhorn

def test_sinkhorn_float32_in_float32_out(rng):
    x, y = clouds(rng, 120, 90, 3)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    kw = dict(blur=0.1, schedule="fixed", threads=1)
    r32 = otkit.sinkhorn(x=x, y=y, **kw)
    r64 = otkit.sinkhorn(x=x64, y=y64, **kw)
    assert r32.dtype == np.float32 and r64.dtype == np.float64
    assert r32._solver.single_precision and not r64._solver.single_precision
    assert r32.iterations == r64.iterations
    for name in ("ot_kl", "ot_lin", "ot_ent"):
        v32, v64 = getattr(r32, name), getattr(r64, name)
        assert isinstance(v32, float)
        assert v32 == pytest.approx(v64, rel=1e-6), name
    # Potentials: absolute, in units of the cost scale (C_max <= 3 here).
    cmax = 0.5 * float(((x64[:, None] - y64[None]) ** 2).sum(-1).max())
    for a32, a64 in ((r32.f, r64.f), (r32.g, r64.g)):
        assert a32.dtype == np.float32
        assert np.abs(a32 - a64).max() <= 1e-6 * cmax
    P32, P64 = r32.plan(), r64.plan()
    assert P32.dtype == np.float32 and rel_max(P32, P64) <= 2e-5
    for o32, o64 in zip(r32.marginals(), r64.marginals()):
        assert o32.dtype == np.float32 and rel_max(o32, o64) <= 2e-5
    Y = rng.normal(size=(90, 2))
    for o32, o64 in ((r32.plan_apply(Y), r64.plan_apply(Y)),
                     (r32.barycentric(y64), r64.barycentric(y64))):
        assert o32.dtype == np.float32 and rel_max(o32, o64) <= 2e-5
    for gauge in ("ott", "pot"):
        f32, _ = r32.potentials(gauge)
        assert f32.dtype == np.float32
    # float64 in: float64 out, exactly as before.
    assert r64.f.dtype == np.float64 and r64.plan().dtype == np.float64


def test_sinkhorn_float32_converge_schedule_values(rng):
    x, y = clouds(rng, 150, 100, 2)
    r32 = otkit.sinkhorn(x=x, y=y, blur=0.05, threads=1)
    r64 = otkit.sinkhorn(x=x.astype(np.float64), y=y.astype(np.float64), blur=0.05, threads=1)
    assert r32.converged and r64.converged
    assert r32.ot_kl == pytest.approx(r64.ot_kl, rel=1e-6)
    # <P, C> is not stationary in the potentials: like the plan, its error is
    # ~u*C_max/eps (C_max/eps ~ 600 here; measured 7.5e-6, float64's own
    # stopping error 1.7e-6 against tol = 1e-10).
    assert r32.ot_lin == pytest.approx(r64.ot_lin, rel=1e-4)


# ---------------------------------------------------------------- divergence

def test_divergence_float32_in_float32_out(rng):
    x, y = clouds(rng, 80, 60, 3)
    a = rng.uniform(0.5, 1.5, size=80)
    b = rng.uniform(0.5, 1.5, size=60)
    a, b = a / a.sum(), b / b.sum()
    kw = dict(blur=0.1, schedule="fixed", threads=1, grad=True)
    d32 = otkit.divergence(x, y, a, b, **kw)
    d64 = otkit.divergence(x.astype(np.float64), y.astype(np.float64), a, b, **kw)
    assert isinstance(d32.value, float)
    assert d32.value == pytest.approx(d64.value, rel=1e-6)
    for k in ("a", "b", "x", "y"):
        g32, g64 = getattr(d32, "grad_" + k), getattr(d64, "grad_" + k)
        assert g32.dtype == np.float32 and g64.dtype == np.float64, k
        assert rel_max(g32, g64) <= 2e-5, k
    div = otkit.Divergence(x, y, blur=0.1, threads=1)
    assert div.dtype == np.float32 and div._obj.single_precision
    div.solve()
    assert all(p.dtype == np.float32 for p in div.potentials())
    assert div.displacement_x().dtype == np.float32
    assert div.displacement_y().dtype == np.float32


def test_divergence_set_points_keeps_the_precision(rng):
    x, y = clouds(rng, 40, 30, 2)
    x2 = (x + 0.1).astype(np.float32)
    div = otkit.Divergence(x, y, blur=0.2, threads=1)
    div.set_points(x2)
    moved = div.solve(grad=("x",))
    fresh = otkit.divergence(x2, y, blur=0.2, threads=1, grad=("x",))
    assert moved.value == fresh.value
    assert moved.grad_x.dtype == np.float32
    np.testing.assert_array_equal(moved.grad_x, fresh.grad_x)
    # float64 coordinates are rounded to float32 by a float32 object.
    div.set_points(x2.astype(np.float64))
    assert div.solve().value == fresh.value
    bad = x2.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"x\[7\]"):
        div.set_points(bad)


def test_divergence_converge_schedule_value_close(rng):
    x, y = clouds(rng, 100, 70, 3)
    d32 = otkit.divergence(x, y, blur=0.05, threads=1)
    d64 = otkit.divergence(x.astype(np.float64), y.astype(np.float64), blur=0.05, threads=1)
    assert d32.converged and d64.converged
    assert d32.value == pytest.approx(d64.value, rel=1e-6)


# ---------------------------------------------------------------- the rule

def test_mixed_and_forced_precisions(rng):
    x, y = clouds(rng, 30, 20, 2)
    y64 = y.astype(np.float64)
    # float32 with float64: NumPy's promotion, float64 (x converted).
    div = otkit.Divergence(x, y64, blur=0.2)
    assert div.dtype == np.float64 and div._obj.points_converted == (True, False)
    assert div.solve(grad=("x",)).grad_x.dtype == np.float64
    # Forced float32 on float64 input: an asked-for conversion.
    div = otkit.Divergence(x.astype(np.float64), y64, blur=0.2, dtype=np.float32)
    assert div.dtype == np.float32 and div._obj.points_converted == (True, True)
    r = otkit.sinkhorn(x=x.astype(np.float64), y=y64, blur=0.2, dtype="float32")
    assert r.f.dtype == np.float32 and r._solver.points_converted == (True, True)
    # Forced float64 on float32 input: the old path.
    r = otkit.sinkhorn(x=x, y=y, blur=0.2, dtype=np.float64)
    assert r.f.dtype == np.float64 and not r._solver.single_precision
    # Lists are float64.
    assert otkit.sinkhorn(x=x.tolist(), y=y.tolist(), blur=0.2).f.dtype == np.float64
    # A non-contiguous float32 view stays float32 (converted to contiguous).
    big = np.repeat(x, 2, axis=0)[::2]
    r = otkit.sinkhorn(x=big, y=y, blur=0.2)
    assert r.dtype == np.float32 and r._solver.points_converted == (True, False)
    # 1-D float32 clouds are points on a line, still float32 and not copied.
    r = otkit.sinkhorn(x=x[:, 0].copy(), y=y[:, 0].copy(), blur=0.2)
    assert r.dtype == np.float32 and r._solver.points_converted == (False, False)


def test_bad_precision_arguments(rng):
    x, y = clouds(rng, 10, 8, 2)
    with pytest.raises(ValueError, match="dtype"):
        otkit.sinkhorn(x=x, y=y, dtype=np.float16)
    with pytest.raises(ValueError, match="dtype"):
        otkit.divergence(x, y, dtype="int32")
    C = np.ones((10, 8))
    with pytest.raises(ValueError, match="point clouds"):
        otkit.sinkhorn(C=C, eps=0.1, dtype=np.float32)
    bad = x.copy()
    bad[2, 0] = np.inf
    with pytest.raises(ValueError, match=r"x\[4\]"):
        otkit.sinkhorn(x=bad, y=y)
    with pytest.raises(ValueError, match=r"x\[4\]"):
        otkit.divergence(bad, y)


# ---------------------------------------------------------------- no copies

def test_float32_clouds_are_read_in_place(rng):
    x, y = clouds(rng, 50, 40, 3)
    r = otkit.sinkhorn(x=x, y=y, blur=0.2)
    assert r._solver.single_precision and r._solver.points_converted == (False, False)
    div = otkit.Divergence(x, y, blur=0.2)
    assert div._obj.single_precision and div._obj.points_converted == (False, False)


def _numpy_peak(fn):
    """Peak bytes NumPy (and Python) allocate while fn runs: numpy reports its
    data buffers to tracemalloc; the C library's own memory is not counted."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_no_float64_copy_of_float32_clouds(rng):
    # A large x against a few targets: a float64 copy of x alone would be
    # 8 n d = 6.4 MB, while the float32 path allocates the float32 f (4 n),
    # the float64 uniform weights kept by the result (8 n) and small change.
    n, d = 100000, 8
    x = rng.uniform(size=(n, d)).astype(np.float32)
    y = rng.uniform(size=(8, d)).astype(np.float32)
    kw = dict(blur=0.5, threads=1, max_iter=50, warn=False)
    peak32 = _numpy_peak(lambda: otkit.sinkhorn(x=x, y=y, **kw))
    assert peak32 < 4 * n * d, peak32
    # The measurement sees a copy: forcing float64 converts x (8 n d bytes).
    peak64 = _numpy_peak(lambda: otkit.sinkhorn(x=x, y=y, dtype=np.float64, **kw))
    assert peak64 >= 8 * n * d, peak64


# ---------------------------------------------------------------- torch

def test_torch_float32_tensors(rng, monkeypatch):
    torch = pytest.importorskip("torch")
    import otkit.torch as otorch
    from otkit import _divergence
    x, y = clouds(rng, 70, 50, 3)
    seen = []
    real = _divergence.divergence

    def spy(x_arr, y_arr, *args, **kw):
        seen.append((x_arr, y_arr))
        return real(x_arr, y_arr, *args, **kw)

    monkeypatch.setattr(_divergence, "divergence", spy)
    loss = otorch.SinkhornDivergence(blur=0.1, schedule="fixed", threads=1)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    yt = torch.from_numpy(y.copy()).requires_grad_()
    v = loss(xt, yt)
    v.backward()
    # The library got the tensors' own float32 memory, not float64 copies.
    xa, ya = seen[-1]
    assert xa.dtype == np.float32 and ya.dtype == np.float32
    assert np.shares_memory(xa, xt.detach().numpy()) and np.shares_memory(ya, yt.detach().numpy())
    assert v.dtype == torch.float32
    assert xt.grad.dtype == torch.float32 and yt.grad.dtype == torch.float32
    x64 = xt.detach().double().requires_grad_()
    y64 = yt.detach().double().requires_grad_()
    v64 = loss(x64, y64)
    v64.backward()
    assert seen[-1][0].dtype == np.float64
    assert v.item() == pytest.approx(v64.item(), rel=1e-6)
    assert rel_max(xt.grad.numpy(), x64.grad.numpy()) <= 2e-5
    assert rel_max(yt.grad.numpy(), y64.grad.numpy()) <= 2e-5
    # Mixed: float64 computation, each gradient in its input's dtype.
    xm = xt.detach().clone().requires_grad_()
    loss(xm, y64.detach()).backward()
    assert seen[-1][0].dtype == np.float64 and xm.grad.dtype == torch.float32
    # Forced float32 on float64 tensors.
    xf = x64.detach().clone().requires_grad_()
    otorch.SinkhornDivergence(blur=0.1, schedule="fixed", threads=1,
                              dtype=torch.float32)(xf, y64.detach()).backward()
    assert seen[-1][0].dtype == np.float32 and xf.grad.dtype == torch.float64
