"""The bindings against the C tool's JSON: `otk sinkhorn`, `otk divergence`
and `otk sinkd` on the same CSV inputs (written with 17 significant digits,
so both read the same doubles).  Both run the same library, so values agree
to 1e-12 relative and gradients to 1e-12 of their largest entry."""
import json
import os
import subprocess

import numpy as np
import pytest

import otkit

RTOL = 1e-12


def write_csv(path, arr):
    arr = np.atleast_2d(np.asarray(arr, dtype=np.float64))
    if arr.shape[0] == 1 and path.endswith("_w.csv"):
        arr = arr.T
    with open(path, "w") as fh:
        for row in arr:
            fh.write(",".join("%.17g" % v for v in row) + "\n")
    return path


def read_csv(path):
    return np.loadtxt(path, delimiter=",", comments="#", ndmin=2)


def run(otk, *args, expect=0):
    p = subprocess.run([otk, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert p.returncode == expect, p.stderr
    return json.loads(p.stdout)


@pytest.fixture
def files(tmp_path, rng):
    x = rng.normal(size=(20, 3))
    y = rng.normal(size=(15, 3)) + 0.4
    a = rng.uniform(0.2, 1.0, 20)
    a /= a.sum()
    b = rng.uniform(0.2, 1.0, 15)
    b /= b.sum()
    d = str(tmp_path)
    f = dict(x=write_csv(os.path.join(d, "x.csv"), x), y=write_csv(os.path.join(d, "y.csv"), y),
             a=write_csv(os.path.join(d, "a_w.csv"), a), b=write_csv(os.path.join(d, "b_w.csv"), b),
             dir=d)
    return f, x, y, a, b


@pytest.mark.parametrize("opts,kw", [
    (["--blur", "0.3"], dict(blur=0.3)),
    (["--cost", "euclidean", "--blur", "0.3"], dict(cost="euclidean", blur=0.3)),
    (["--reach", "0.8", "--blur", "0.2"], dict(reach=0.8, blur=0.2)),
    (["--schedule", "fixed", "--scaling", "0.8"], dict(schedule="fixed", scaling=0.8)),
    (["--eps", "0.05", "--tol", "1e-9", "--update", "symmetric"],
     dict(eps=0.05, tol=1e-9, update="symmetric")),
])
def test_sinkhorn_matches_cli(otk_tool, files, opts, kw):
    f, x, y, a, b = files
    pot = os.path.join(f["dir"], "pot.csv")
    js = run(otk_tool, "sinkhorn", f["x"], f["y"], "--a", f["a"], "--b", f["b"],
             "--potentials", pot, *opts)
    r = otkit.sinkhorn(a, b, x=x, y=y, **kw)
    for k in ("ot_kl", "ot_ent", "ot_lin", "eps", "marginal_error"):
        assert getattr(r, k) == pytest.approx(js[k], rel=RTOL), k
    assert r.iterations == js["iterations"]
    assert js["status"] == "ok" and r.status == 0
    fg = read_csv(pot)[:, 0]
    assert np.abs(np.concatenate([r.f, r.g]) - fg).max() <= RTOL * np.abs(fg).max()


def test_sinkhorn_dense_matches_cli(otk_tool, files):
    f, x, y, a, b = files
    C = np.abs(x[:, None, :2] - y[None, :, :2]).sum(-1)
    cpath = write_csv(os.path.join(f["dir"], "C.csv"), C)
    js = run(otk_tool, "sinkhorn", "--cost-matrix", cpath, "--a", f["a"], "--b", f["b"],
             "--eps", "0.1")
    r = otkit.sinkhorn(a, b, C=C, eps=0.1)
    assert r.ot_kl == pytest.approx(js["ot_kl"], rel=RTOL)
    assert r.ot_lin == pytest.approx(js["ot_lin"], rel=RTOL)


def test_not_converged_matches_cli_exit_status(otk_tool, files):
    f, x, y, a, b = files
    js = run(otk_tool, "sinkhorn", f["x"], f["y"], "--max-iter", "2", "--tol", "1e-15",
             expect=3)
    with pytest.warns(otkit.ConvergenceWarning):
        r = otkit.sinkhorn(x=x, y=y, max_iter=2, tol=1e-15)
    assert js["status"] == "not_converged" and r.status == 1
    assert r.ot_kl == pytest.approx(js["ot_kl"], rel=RTOL)


@pytest.mark.parametrize("opts,kw", [
    (["--blur", "0.3"], dict(blur=0.3)),
    (["--p", "1", "--blur", "0.5"], dict(p=1, blur=0.5)),
    (["--blur", "0.3", "--reach", "1.0"], dict(blur=0.3, reach=1.0)),
    (["--blur", "0.2", "--schedule", "fixed"], dict(blur=0.2, schedule="fixed")),
    (["--blur", "0.3", "--no-debias"], dict(blur=0.3, debias=False)),
])
def test_divergence_matches_cli(otk_tool, files, opts, kw):
    f, x, y, a, b = files
    g = {k: os.path.join(f["dir"], "g%s.csv" % k) for k in "xyab"}
    js = run(otk_tool, "divergence", f["x"], f["y"], "--a", f["a"], "--b", f["b"],
             "--grad-x", g["x"], "--grad-y", g["y"], "--grad-a", g["a"], "--grad-b", g["b"],
             *opts)
    r = otkit.divergence(x, y, a, b, grad=True, **kw)
    assert r.value == pytest.approx(js["divergence"], rel=RTOL)
    assert r.eps == pytest.approx(js["eps"], rel=RTOL)
    assert r.iterations == js["iterations"]
    for k in "xyab":
        ref = read_csv(g[k])
        mine = getattr(r, "grad_" + k).reshape(ref.shape)
        assert np.abs(mine - ref).max() <= RTOL * np.abs(ref).max(), k


@pytest.mark.parametrize("opts,kw", [
    ([], {}),
    (["--tau", "4", "--eps", "0.05", "--iters", "7", "--weight", "0.001", "--cost",
      "sqeuclidean", "--grad-mode", "envelope"],
     dict(tau=4.0, eps=0.05, iters=7, weight=0.001, cost="sqeuclidean",
          grad_mode="envelope")),
])
def test_sinkd_matches_cli(otk_tool, tmp_path, rng, opts, kw):
    zs = rng.normal(size=(12, 6)) * 3
    zt = rng.normal(size=(12, 6)) * 3
    s = write_csv(str(tmp_path / "s.csv"), zs)
    t = write_csv(str(tmp_path / "t.csv"), zt)
    gpath = str(tmp_path / "g.csv")
    js = run(otk_tool, "sinkd", s, t, "--grad", gpath, *opts)
    r = otkit.sinkd_loss(zs, zt, **kw)
    assert r.loss == pytest.approx(js["loss"], rel=RTOL)
    ref = read_csv(gpath)
    assert np.abs(r.grad_s - ref).max() <= RTOL * np.abs(ref).max()


def test_sinkd_objective_matches_cli(otk_tool, tmp_path, rng):
    zs = rng.normal(size=(10, 4)) * 2
    zt = rng.normal(size=(10, 4)) * 2
    labels = rng.integers(0, 4, size=10)
    s = write_csv(str(tmp_path / "s.csv"), zs)
    t = write_csv(str(tmp_path / "t.csv"), zt)
    lpath = str(tmp_path / "l.csv")
    np.savetxt(lpath, labels, fmt="%d")
    gpath = str(tmp_path / "g.csv")
    js = run(otk_tool, "sinkd", s, t, "--labels", lpath, "--alpha", "0.4", "--beta", "2",
             "--kd", "js", "--kd-tau", "3", "--grad", gpath)
    r = otkit.sinkd_objective(zs, zt, labels, 0.4, 2.0, kd="js", kd_tau=3.0)
    for k in ("kd", "ce", "sinkd"):
        assert getattr(r, k) == pytest.approx(js[k], rel=RTOL), k
    assert r.total == pytest.approx(js["loss"], rel=RTOL)
    ref = read_csv(gpath)
    assert np.abs(r.grad_s - ref).max() <= RTOL * np.abs(ref).max()
