"""otkit.MapFit / fit_map: fitting, parameters, model files round trips and
`otk apply-map` / `otk fit-map` on the same models."""
import os
import subprocess

import numpy as np
import pytest

import otkit


def apply_map_cli(otk, model, x, tmp_path):
    path = str(tmp_path / "x.csv")
    np.savetxt(path, x, delimiter=",", fmt="%.17g")
    p = subprocess.run([otk, "apply-map", str(model), path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return np.loadtxt(p.stdout.splitlines(), delimiter=",", ndmin=2)


@pytest.fixture
def clouds(rng):
    x = rng.normal(size=(60, 2))
    A = np.array([[1.5, 0.4], [0.4, 0.8]])
    y = rng.normal(size=(60, 2)) @ A + np.array([1.0, -0.5])
    return x, y


def test_affine_fit_reduces_the_loss(clouds):
    x, y = clouds
    # an absolute Monge-gap eps, so that objective() and fit() see one loss
    # (a relative one is resolved on the map at hand)
    kw = dict(lam=1.0, blur=0.1, mg_eps=0.2)
    T = otkit.MapFit("affine", dim=2, **kw)
    before, _, b = T.objective(x, y)
    np.testing.assert_array_equal(T.params, np.r_[np.eye(2).ravel(), 0.0, 0.0])  # identity
    T.fit(x, y, iters=60, warn=False)
    after, _, a = T.objective(x, y)
    assert after < 0.6 * before and a["divergence"] < 0.2 * b["divergence"]
    assert after == pytest.approx(T.result["loss"], rel=1e-9)
    assert T.result["iterations"] > 0
    np.testing.assert_allclose(T(x).mean(axis=0), y.mean(axis=0), atol=0.15)
    assert T.n_params == 6 and T.dim == 2


def test_objective_gradient_finite_differences(clouds):
    x, y = clouds[0][:15], clouds[1][:15]
    T = otkit.MapFit("affine", dim=2)
    T.params = np.array([1.1, 0.1, -0.2, 0.9, 0.3, -0.1])
    kw = dict(lam=0.5, blur=0.5, schedule="converge", tol=1e-12, max_iter=100000, mg_eps=0.5,
              mg_tol=1e-12, mg_max_iter=100000)
    v, g, parts = T.objective(x, y, grad=True, **kw)
    assert g.shape == (6,)
    theta = T.params
    h = 1e-6
    for k in range(6):
        e = np.zeros(6)
        e[k] = h
        T.params = theta + e
        vp = T.objective(x, y, **kw)[0]
        T.params = theta - e
        vm = T.objective(x, y, **kw)[0]
        assert g[k] == pytest.approx((vp - vm) / (2 * h), rel=1e-5, abs=1e-8)
    T.params = theta


@pytest.mark.parametrize("family", ["affine", "mlp", "entropic"])
def test_save_load_round_trip_and_apply_map(otk_tool, clouds, tmp_path, family, rng):
    x, y = clouds
    if family == "entropic":
        T = otkit.fit_map(x, y, family="entropic", blur=0.3, warn=False)
    else:
        T = otkit.fit_map(x, y, family=family, hidden=(8,), iters=5, blur=0.2, batch=32,
                          warn=False)
    model = tmp_path / ("m_%s.txt" % family)
    T.save(model)
    U = otkit.MapFit.load(model)
    assert U.family == family
    z = rng.normal(size=(10, 2))
    assert np.array_equal(T(z), U(z))
    if family != "entropic":
        assert np.array_equal(T.params, U.params)
    np.testing.assert_array_equal(apply_map_cli(otk_tool, model, z, tmp_path), T(z))


def test_cli_fit_map_loads_in_python(otk_tool, clouds, tmp_path):
    x, y = clouds
    fx, fy = str(tmp_path / "x.csv"), str(tmp_path / "y.csv")
    np.savetxt(fx, x, delimiter=",", fmt="%.17g")
    np.savetxt(fy, y, delimiter=",", fmt="%.17g")
    model = str(tmp_path / "cli.txt")
    p = subprocess.run([otk_tool, "fit-map", fx, fy, "--family", "affine", "--iters", "20",
                        "--out", model], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    assert p.returncode in (0, 3), p.stderr
    T = otkit.MapFit.load(model)
    np.testing.assert_array_equal(T(x), apply_map_cli(otk_tool, model, x, tmp_path))
    # the same fit from Python gives the same parameters (bitwise reproducible)
    P = otkit.fit_map(x, y, family="affine", iters=20, warn=False)
    np.testing.assert_allclose(P.params, T.params, rtol=1e-12, atol=1e-14)


def test_defaults_are_derived_from_the_data(clouds):
    # otkit/mapfit.h, "Derived settings", recomputed with NumPy: blur =
    # s n^(-1/(d+4)) (s² the mean squared distance to the centroid, both clouds
    # averaged; BFGS sees all points), lam = 0.1/d, mg_eps = 0.25 mean
    # |x_i - x_j|² (the identity starts the fit); explicit values are kept.
    x, y = clouds
    d = x.shape[1]
    T = otkit.fit_map(x, y, family="affine", iters=5, warn=False)
    r = T.result
    s = np.sqrt(0.5 * (((x - x.mean(0)) ** 2).sum(1).mean() + ((y - y.mean(0)) ** 2).sum(1).mean()))
    blur = s * min(len(x), len(y)) ** (-1.0 / (d + 4))
    C = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    assert r["blur"] == pytest.approx(blur, rel=1e-12)
    assert r["eps"] == pytest.approx(blur ** 2, rel=1e-12)
    assert r["lambda_target"] == 0.1 / d and r["lambda"] == 0.1 / d
    assert r["monge_gap_eps"] == pytest.approx(0.25 * C.mean(), rel=1e-12)
    # scale equivariance: blur x c, mg_eps x c², lam unchanged
    c = 2.5
    r2 = otkit.fit_map(c * x + 1.0, c * y - 2.0, family="affine", iters=5, warn=False).result
    assert r2["blur"] == pytest.approx(c * blur, rel=1e-12)
    assert r2["monge_gap_eps"] == pytest.approx(c * c * r["monge_gap_eps"], rel=1e-12)
    assert r2["lambda_target"] == r["lambda_target"]
    r3 = otkit.fit_map(x, y, family="affine", iters=5, warn=False, lam=0.3, blur=0.4,
                       mg_eps=0.6).result
    assert (r3["lambda_target"], r3["blur"], r3["monge_gap_eps"]) == (0.3, 0.4, 0.6)


def test_entropic_family_is_the_entropic_map(clouds):
    x, y = clouds
    T = otkit.fit_map(x, y, family="entropic", eps=0.2, tol=1e-10)
    E = otkit.EntropicMap.fit(x, y, eps=0.2, tol=1e-10)
    np.testing.assert_allclose(T(x), E(x), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="entropic"):
        T.params


def test_mapfit_bad_input(clouds, tmp_path):
    x, y = clouds
    with pytest.raises(ValueError, match="family"):
        otkit.MapFit("quadratic")
    with pytest.raises(ValueError, match="y"):
        otkit.fit_map(x, np.ones((5, 3)))
    with pytest.raises(ValueError, match="lam"):
        otkit.fit_map(x, y, lam=-1.0)
    with pytest.raises(ValueError, match="optimizer"):
        otkit.fit_map(x, y, optimizer="sgd")
    with pytest.raises(ValueError, match="hidden"):
        otkit.MapFit("mlp", dim=2, hidden=(0,))
    with pytest.raises(ValueError, match="activation"):
        otkit.MapFit("mlp", dim=2, activation="relu")
    with pytest.raises(ValueError, match="lam"):
        otkit.fit_map(x, y, family="entropic", lam=1.0)
    with pytest.raises(TypeError):
        otkit.fit_map(x, y, learning_rate=0.1)
    with pytest.raises(RuntimeError):
        otkit.MapFit("affine").apply(x)
    T = otkit.MapFit("affine", dim=2)
    with pytest.raises(ValueError, match="theta"):
        T.params = np.ones(5)
    bad = np.ones(6)
    bad[4] = np.nan
    with pytest.raises(ValueError, match="theta"):
        T.params = bad
    with pytest.raises(OSError):
        otkit.MapFit.load(str(tmp_path / "missing.txt"))
    corrupt = tmp_path / "corrupt.txt"
    corrupt.write_text("otkit-map 1\nfamily affine\ndim 2\nparams 6\n1\n0\n")
    with pytest.raises(ValueError, match="corrupt.txt"):
        otkit.MapFit.load(corrupt)


def test_progress_callback(clouds):
    x, y = clouds
    seen = []

    def cb(info):
        seen.append(info)
        return info["iteration"] >= 2  # stop after the third step

    T = otkit.fit_map(x, y, family="mlp", hidden=(8,), iters=50, batch=16, progress=cb)
    assert [s["iteration"] for s in seen] == [0, 1, 2]
    assert T.result["stopped"] == 1 and T.result["iterations"] == 3
    assert all(np.isfinite(s["loss"]) for s in seen)

    def boom(info):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        otkit.fit_map(x, y, family="affine", iters=5, progress=boom)
    with pytest.raises(ValueError, match="progress"):
        otkit.fit_map(x, y, family="affine", progress=3)


def test_cosine_lr_schedule_and_mg_relative_eps_match_the_cli(otk_tool, clouds, tmp_path):
    x, y = clouds
    fx, fy = str(tmp_path / "x.csv"), str(tmp_path / "y.csv")
    np.savetxt(fx, x, delimiter=",", fmt="%.17g")
    np.savetxt(fy, y, delimiter=",", fmt="%.17g")
    model = str(tmp_path / "cos.txt")
    p = subprocess.run([otk_tool, "fit-map", fx, fy, "--family", "affine", "--optimizer",
                        "adam", "--iters", "15", "--batch", "20", "--lr", "0.05",
                        "--lr-schedule", "cosine", "--lambda", "0.5", "--mg-relative-eps",
                        "0.3", "--seed", "4", "--threads", "1", "--out", model],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    assert p.returncode == 0, p.stderr
    kw = dict(optimizer="adam", iters=15, batch=20, lr=0.05, lam=0.5, mg_relative_eps=0.3,
              seed=4, threads=1)
    T = otkit.fit_map(x, y, family="affine", lr_schedule="cosine", **kw)
    np.testing.assert_allclose(T.params, otkit.MapFit.load(model).params, rtol=1e-12,
                               atol=1e-14)
    # the summary is the objective on the first report_points points (an
    # absolute Monge-gap eps and the fit's blur, derived from batches of 20,
    # so that objective() sees the fit's loss)
    R = otkit.fit_map(x, y, family="affine", optimizer="adam", iters=3, batch=20, lam=0.5,
                      mg_eps=0.2, report_points=30, threads=1)
    loss, _, _ = R.objective(x[:30], y[:30], lam=0.5, mg_eps=0.2, blur=R.result["blur"],
                             threads=1)
    assert R.result["loss"] == pytest.approx(loss, rel=1e-12)
    flat = otkit.fit_map(x, y, family="affine", **kw)
    assert np.max(np.abs(flat.params - T.params)) > 1e-4
    with pytest.raises(ValueError, match="lr_schedule"):
        otkit.fit_map(x, y, family="affine", lr_schedule="linear", **kw)
    with pytest.raises(ValueError, match="report_points"):
        otkit.fit_map(x, y, family="affine", report_points=-1, **kw)
    # cache_mb keeps the cost matrices: the same fit to rounding
    cached = otkit.fit_map(x, y, family="affine", lr_schedule="cosine", cache_mb=1, **kw)
    np.testing.assert_allclose(cached.params, T.params, rtol=1e-9, atol=1e-12)
    assert cached.result["loss"] == pytest.approx(T.result["loss"], rel=1e-10)
    with pytest.raises(ValueError, match="cache_mb"):
        otkit.fit_map(x, y, family="affine", cache_mb=-1, **kw)


def test_a_second_fit_continues_from_the_current_map(clouds):
    # Continuation (fit on a subsample, then on all points) is a second fit()
    # call; an absolute mg_eps keeps one objective for both calls.
    x, y = clouds
    kw = dict(lam=0.5, blur=0.3, mg_eps=0.5)
    T = otkit.MapFit("affine", dim=2, **kw)
    T.fit(x, y, iters=40, warn=False)
    full = T.result["loss"]
    theta = T.params.copy()
    T.fit(x, y, iters=1, warn=False)
    assert T.result["iterations"] == 1
    assert T.result["loss"] <= full * (1 + 1e-12)
    assert np.abs(T.params - theta).max() < 1e-3
    fresh = otkit.MapFit("affine", dim=2, **kw)
    fresh.fit(x, y, iters=1, warn=False)
    assert fresh.result["loss"] > full + 0.01
