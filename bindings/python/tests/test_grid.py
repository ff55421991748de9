"""Grids, meshes, graphs and sparse costs: otkit.grid_sinkhorn /
grid_divergence / barycenter against the point-cloud solver on the grid's
points, POT's convolutional barycenters and the `otk grid` / `otk mesh`
JSON; Mesh construction; sparse_sinkhorn against the dense solver."""
import json
import os
import subprocess

import numpy as np
import pytest

import otkit

from conftest import quick


def hist(rng, *shape):
    h = rng.uniform(0.05, 1.0, shape)
    return h / h.sum()


def grid_points(shape, h):
    axes = [np.arange(n) * h for n in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(shape))


def run(otk, *args):
    p = subprocess.run([otk, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def write_csv(path, arr):
    arr = np.atleast_2d(arr)
    with open(path, "w") as fh:
        for row in arr:
            fh.write(",".join("%.17g" % v for v in row) + "\n")
    return path


@pytest.mark.parametrize("shape", [(9,), (5, 7), (3, 4, 3)])
@pytest.mark.parametrize("cost", ["sqeuclidean", "half-sqeuclidean", "l1"])
def test_grid_sinkhorn_equals_point_clouds(rng, shape, cost):
    a, b = hist(rng, *shape), hist(rng, *shape)
    h = 0.2
    r = otkit.grid_sinkhorn(a, b, spacing=h, cost=cost, eps=0.05, path="separable", tol=1e-10)
    pts = grid_points(shape, h)
    s = otkit.sinkhorn(a.ravel(), b.ravel(), x=pts, y=pts, cost=cost, eps=0.05, tol=1e-10)
    assert r.f.shape == shape and r.g.shape == shape
    for k in ("ot_kl", "ot_ent", "ot_lin"):
        assert getattr(r, k) == pytest.approx(getattr(s, k), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(r.f.ravel(), s.f, atol=1e-8)
    assert r.path == "separable" and r.fft_plans == 0


def test_grid_paths_agree_and_report(rng):
    a, b = hist(rng, 16, 16), hist(rng, 16, 16)
    sep = otkit.grid_sinkhorn(a, b, eps=0.5, path="separable", tol=1e-10)
    fft = otkit.grid_sinkhorn(a, b, eps=0.5, path="fft", tol=1e-10)
    auto = otkit.grid_sinkhorn(a, b, eps=0.5, tol=1e-10)
    assert fft.path == "fft" and fft.fft_plans == 2 and fft.stats["softmin_fft"] > 0
    assert auto.path == "fft"  # C_max / eps = 4: well inside the FFT range
    assert sep.stats["softmin_fft"] == 0
    assert fft.ot_kl == pytest.approx(sep.ot_kl, rel=1e-9)
    small = otkit.grid_sinkhorn(a, b, eps=0.005, tol=1e-8)
    assert small.path == "separable" and small.fft_error_bound > 1e-6


def test_grid_sinkhorn_against_otk_grid(rng, tmp_path, otk_tool):
    a, b = hist(rng, 6, 8), hist(rng, 6, 8)
    fa = write_csv(str(tmp_path / "a.csv"), a)
    fb = write_csv(str(tmp_path / "b.csv"), b)
    js = run(otk_tool, "grid", fa, fb, "--eps", "0.01", "--tol", "1e-9")
    r = otkit.grid_sinkhorn(a, b, eps=0.01, tol=1e-9)
    assert js["mode"] == "ot" and js["path"] == r.path
    for k in ("ot_kl", "ot_ent", "ot_lin"):
        assert r.__dict__[k] == pytest.approx(js[k], rel=1e-9)
    assert r.iterations == js["iterations"]
    js = run(otk_tool, "grid", fa, fb, "--eps", "0.01", "--divergence", "--tol", "1e-9")
    d = otkit.grid_divergence(a, b, eps=0.01, tol=1e-9)
    assert d.value == pytest.approx(js["value"], rel=1e-9)
    c = hist(rng, 6, 8)
    fc = write_csv(str(tmp_path / "c.csv"), c)
    out = str(tmp_path / "bar.csv")
    js = run(otk_tool, "grid", fa, fb, fc, "--barycenter", "--eps", "0.01", "--weights",
             "1,2,1", "--out", out)
    B = otkit.barycenter(np.stack([a, b, c]), [1, 2, 1], eps=0.01)
    ref = np.loadtxt(out, delimiter=",", comments="#", ndmin=2)
    assert B.iterations == js["iterations"]
    np.testing.assert_allclose(B.barycenter, ref, rtol=1e-12, atol=1e-15)
    # One default family (docs/conventions.md): with no eps or blur the tool
    # and the bindings solve the same problems (blur 0.05 for transport and
    # the divergence, eps 0.01 for the barycenter) on the same per-axis grid.
    js = run(otk_tool, "grid", fa, fb, "--tol", "1e-9")
    r = otkit.grid_sinkhorn(a, b, tol=1e-9)
    assert js["eps"] == r.eps == pytest.approx(0.0025, rel=1e-15)
    assert r.ot_kl == pytest.approx(js["ot_kl"], rel=1e-9)
    assert js["spacing"] == 1 / 5 and js["spacing_cols"] == 1 / 7
    js = run(otk_tool, "grid", fa, fb, "--divergence", "--tol", "1e-9")
    assert otkit.grid_divergence(a, b, tol=1e-9).value == pytest.approx(js["value"], rel=1e-9)
    js = run(otk_tool, "grid", fa, fb, fc, "--barycenter", "--out", out)
    B = otkit.barycenter(np.stack([a, b, c]))
    assert js["eps"] == B.eps == 0.01
    np.testing.assert_allclose(B.barycenter, np.loadtxt(out, delimiter=",", ndmin=2),
                               rtol=1e-12, atol=1e-15)


def test_grid_divergence_gradient(rng):
    a, b = hist(rng, 5, 6), hist(rng, 5, 6)
    kw = dict(eps=0.05, tol=1e-13, max_iter=100000)
    d = otkit.grid_divergence(a, b, grad=True, **kw)
    assert d.grad_a.shape == (5, 6) and abs(d.grad_a.sum()) < 1e-10
    v = rng.normal(size=(5, 6))
    v -= v.mean()  # along the zero-sum hyperplane
    h = 1e-6
    fd = (otkit.grid_divergence(a + h * v, b, **kw).value
          - otkit.grid_divergence(a - h * v, b, **kw).value) / (2 * h)
    assert np.sum(d.grad_a * v) == pytest.approx(fd, rel=1e-5, abs=1e-9)
    assert otkit.grid_divergence(a, a, **kw).value == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("debias,method,reg,rtol", [
    (False, "sinkhorn_log", 0.004, 1e-12),
    (True, "sinkhorn_log", 0.004, 1e-9),
    # POT's kernel-space iterations lose the tails to underflow at small reg:
    # compared at a larger one only
    (False, "sinkhorn", 0.01, 1e-6)])
def test_barycenter_against_pot(rng, debias, method, reg, rtol):
    ot = pytest.importorskip("ot")
    n = 20
    yy, xx = np.mgrid[0:n, 0:n] / (n - 1)
    A = np.stack([np.exp(-((xx - 0.3) ** 2 + (yy - 0.3) ** 2) / 0.01),
                  np.exp(-((xx - 0.7) ** 2 + (yy - 0.6) ** 2) / 0.02)])
    A /= A.sum(axis=(1, 2), keepdims=True)
    w = np.array([0.3, 0.7])
    fn = (ot.bregman.convolutional_barycenter2d_debiased if debias
          else ot.bregman.convolutional_barycenter2d)
    ref = fn(A, reg, weights=w, method=method, numItermax=5000, stopThr=1e-14, warn=False)
    r = otkit.barycenter(A, w, eps=reg, debias=debias, tol=1e-13, max_iter=5000)
    assert r.converged and r.barycenter.shape == (n, n)
    assert r.mass == pytest.approx(1.0, rel=1e-9)
    np.testing.assert_allclose(r.barycenter, ref, rtol=0, atol=rtol * ref.max())


def test_barycenter_of_identical_inputs_debiased(rng):
    a = hist(rng, 8, 8)
    r = otkit.barycenter(np.stack([a, a]), eps=0.01, debias=True, tol=1e-12, max_iter=5000)
    np.testing.assert_allclose(r.barycenter, a, rtol=1e-6, atol=1e-12)


def test_grid_bad_input(rng):
    a = hist(rng, 4, 5)
    with pytest.raises(ValueError, match="b"):
        otkit.grid_sinkhorn(a, hist(rng, 5, 4), eps=0.1)
    with pytest.raises(ValueError, match="cost"):
        otkit.grid_sinkhorn(a, a, cost="euclidean", eps=0.1)
    with pytest.raises(ValueError, match="path"):
        otkit.grid_sinkhorn(a, a, path="fast", eps=0.1)
    with pytest.raises(ValueError, match="spacing"):
        otkit.grid_sinkhorn(a, a, spacing=(0.1, 0.1, 0.1), eps=0.1)
    with pytest.raises(ValueError, match="spacing"):
        otkit.grid_sinkhorn(a, a, spacing=-1.0, eps=0.1)
    bad = a.copy()
    bad[1, 2] = -0.5
    with pytest.raises(ValueError, match=r"\[7\]") as e:  # row-major index 1*5+2
        otkit.grid_sinkhorn(bad, a, eps=0.1)
    assert e.value.status_name == "OTK_ENEGATIVE"
    with pytest.raises(ValueError, match="A"):
        otkit.barycenter(np.stack([a, 2 * a]), eps=0.1)
    with pytest.raises(ValueError, match="weights"):
        otkit.barycenter(np.stack([a, a]), [1.0, 1.0, 1.0], eps=0.1)
    with pytest.raises(ValueError):
        otkit.grid_sinkhorn(np.ones((2, 2, 2, 2)) / 16, np.ones((2, 2, 2, 2)) / 16)


# ------------------------------------------------------------------ meshes


def test_mesh_generate_and_properties():
    m = otkit.Mesh.generate("icosphere", 2)
    assert m.n == 162 and m.faces.shape == (320, 3) and m.vertices.shape == (162, 3)
    assert m.areas.shape == (162,) and m.areas.sum() == pytest.approx(m.total_area)
    # the inscribed polyhedron's area approaches 4 pi from below
    assert 0.95 * 4 * np.pi < m.total_area < 4 * np.pi
    m2 = otkit.Mesh.from_triangles(m.vertices, m.faces)
    assert m2.total_area == m.total_area
    np.testing.assert_array_equal(m2.areas, m.areas)
    sq = otkit.Mesh.generate("square", 4)
    assert sq.n == 25 and sq.total_area == pytest.approx(1.0)
    assert not sq.is_graph


def write_off(path, V, F):
    with open(path, "w") as fh:
        fh.write("OFF\n%d %d 0\n" % (len(V), len(F)))
        for v in V:
            fh.write("%.17g %.17g %.17g\n" % tuple(v))
        for f in F:
            fh.write("3 %d %d %d\n" % tuple(f))
    return path


def test_mesh_read_and_against_otk_mesh(rng, tmp_path, otk_tool):
    m = otkit.Mesh.generate("icosphere", 1)
    path = write_off(str(tmp_path / "s.off"), m.vertices, m.faces)
    r = otkit.Mesh.read(path)
    assert r.n == m.n and r.total_area == pytest.approx(m.total_area, rel=1e-14)
    a = hist(rng, m.n)
    b = hist(rng, m.n)
    fa = write_csv(str(tmp_path / "a.csv"), a[:, None])
    fb = write_csv(str(tmp_path / "b.csv"), b[:, None])
    js = run(otk_tool, "mesh", path, fa, fb, "--tol", "1e-9")
    s = otkit.mesh_sinkhorn(r, a, b, tol=1e-9)
    assert s.eps == pytest.approx(js["eps"], rel=1e-14)
    for k in ("ot_kl", "ot_ent", "ot_lin"):
        assert getattr(s, k) == pytest.approx(js[k], rel=1e-9)
    assert s.iterations == js["iterations"] and s.stats["factorisations"] == 1
    js = run(otk_tool, "mesh", path, fa, fb, "--divergence", "--eps", "0.05", "--steps", "20",
             "--t-convention", "solomon", "--tol", "1e-9")
    d = otkit.mesh_divergence(r, a, b, eps=0.05, steps=20, convention="solomon", tol=1e-9,
                              grad=True)
    assert d.value == pytest.approx(js["divergence"], rel=1e-9)
    assert d.stats["t"] == pytest.approx(js["t"]) and d.grad_a.shape == (m.n,)


def test_mesh_barycenter(rng):
    m = otkit.Mesh.generate("square", 6)
    a, b = hist(rng, m.n), hist(rng, m.n)
    r = otkit.mesh_barycenter(m, np.stack([a, b]), [1.0, 0.0], eps=0.02, debias=True,
                              tol=1e-12, max_iter=5000)
    assert r.barycenter.shape == (m.n,) and r.mass == pytest.approx(1.0, rel=1e-9)
    # weights (1, 0) give the first input for the debiased barycenter
    np.testing.assert_allclose(r.barycenter, a, rtol=1e-5, atol=1e-10)


def test_graph(rng):
    n = 8
    edges = np.array([[i, (i + 1) % n] for i in range(n)])  # a cycle
    g = otkit.Mesh.from_graph(n, edges, np.full(n, 2.0))
    assert g.is_graph and g.vertices is None and g.faces is None
    np.testing.assert_array_equal(g.areas, np.ones(n))
    a, b = hist(rng, n), hist(rng, n)
    s = otkit.mesh_sinkhorn(g, a, b, eps=0.5, tol=1e-9)
    d = otkit.mesh_divergence(g, a, b, eps=0.5, tol=1e-9)
    assert s.converged and d.value > 0


def test_mesh_bad_input():
    V = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], dtype=float)
    with pytest.raises(ValueError, match="face 1") as e:
        otkit.Mesh.from_triangles(V, [[0, 1, 2], [1, 7, 2]])
    assert e.value.status_name == "OTK_ERANGE"
    with pytest.raises(ValueError) as e:
        otkit.Mesh.from_triangles(V, [[0, 1, 1]])
    assert e.value.status_name == "OTK_EDEGENERATE"
    with pytest.raises(ValueError) as e:
        otkit.Mesh.from_triangles(V, [[0, 1, 2]])  # vertex 3 unused
    assert e.value.status_name == "OTK_EDISCONNECTED"
    with pytest.raises(ValueError, match="F"):
        otkit.Mesh.from_triangles(V, [[0, 1]])
    with pytest.raises(ValueError, match="F"):
        otkit.Mesh.from_triangles(V, [[0, -1, 2]])
    with pytest.raises(ValueError, match="weights"):
        otkit.Mesh.from_graph(3, [[0, 1], [1, 2]], [1.0])
    with pytest.raises(OSError):
        otkit.Mesh.read("/nonexistent/mesh.off")
    with pytest.raises(ValueError, match="shape"):
        otkit.Mesh.generate("cube", 2)
    m = otkit.Mesh.generate("square", 2)
    with pytest.raises(ValueError, match="b"):
        otkit.mesh_sinkhorn(m, np.ones(9) / 9, np.ones(8) / 8)
    with pytest.raises(ValueError, match="convention"):
        otkit.mesh_sinkhorn(m, np.ones(9) / 9, np.ones(9) / 9, convention="x")
    with pytest.raises(ValueError, match="mesh"):
        otkit.mesh_sinkhorn("mesh.off", np.ones(9) / 9, np.ones(9) / 9)


# ------------------------------------------------------------------ sparse


def test_sparse_full_pattern_equals_dense(rng):
    sp = pytest.importorskip("scipy.sparse")
    n, m = 7, 5
    C = rng.uniform(0.1, 2.0, (n, m))
    a, b = hist(rng, n), hist(rng, m)
    dense = otkit.sinkhorn(a, b, C=C, eps=0.1, tol=1e-11)
    for M in (sp.csr_matrix(C), sp.csc_matrix(C), sp.coo_matrix(C)):
        r = otkit.sparse_sinkhorn(a, b, M, eps=0.1, tol=1e-11)
        assert r.stats["nnz"] == n * m
        for k in ("ot_kl", "ot_ent", "ot_lin"):
            assert getattr(r, k) == pytest.approx(getattr(dense, k), rel=1e-10)
        np.testing.assert_allclose(r.f, dense.f, atol=1e-9)
    csc = sp.csc_matrix(C)
    r = otkit.sparse_sinkhorn(a, b, (csc.indptr, csc.indices, csc.data), shape=(n, m), eps=0.1,
                              tol=1e-11)
    assert r.ot_kl == pytest.approx(dense.ot_kl, rel=1e-10)
    r = otkit.sparse_sinkhorn(a, b, (csc.indptr, csc.indices, csc.data), eps=0.1, tol=1e-11)
    assert r.ot_kl == pytest.approx(dense.ot_kl, rel=1e-10)


def test_sparse_pattern_is_a_hard_constraint(rng):
    sp = pytest.importorskip("scipy.sparse")
    n = 6
    C = rng.uniform(0.1, 1.0, (n, n))
    mask = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1  # tridiagonal
    a = b = np.full(n, 1.0 / n)
    r = otkit.sparse_sinkhorn(a, b, sp.csc_matrix(np.where(mask, C, 0.0)), eps=0.1, tol=1e-10)
    # the same problem dense, with +big outside the pattern
    big = otkit.sinkhorn(a, b, C=np.where(mask, C, 1e3), eps=0.1, tol=1e-10)
    assert r.ot_lin == pytest.approx(big.ot_lin, rel=1e-9)


def test_sparse_bad_input():
    sp = pytest.importorskip("scipy.sparse")
    C = sp.csc_matrix(np.array([[1.0, 0.0], [0.0, 0.0]]))  # row 1 and column 1 empty
    with pytest.raises(ValueError) as e:
        otkit.sparse_sinkhorn(np.ones(2) / 2, np.ones(2) / 2, C, eps=0.1)
    assert e.value.status_name == "OTK_EEMPTY" and "C" in str(e.value)
    with pytest.raises(ValueError, match="indptr"):
        otkit.sparse_sinkhorn(np.ones(2) / 2, np.ones(2) / 2, ([0, 1], [0], [1.0]),
                              shape=(2, 2), eps=0.1)
    with pytest.raises(ValueError, match="a has 2 entries, expected 3"):
        otkit.sparse_sinkhorn(np.ones(2) / 2, np.ones(2) / 2,
                              ([0, 2, 3], [0, 1, 2], [1.0, 1.0, 1.0]), eps=0.1)  # n = 3
    with pytest.raises(ValueError, match="data"):
        otkit.sparse_sinkhorn(np.ones(2) / 2, np.ones(2) / 2,
                              ([0, 1, 2], [0, 1], [1.0, np.nan]), shape=(2, 2), eps=0.1)
    with pytest.raises(ValueError, match="C must be"):
        otkit.sparse_sinkhorn(np.ones(2) / 2, np.ones(2) / 2, np.eye(2), eps=0.1)


def test_threads_run_concurrently_and_agree(rng):
    # each call builds its own grid / mesh cost, so threads may share nothing
    import threading
    a, b = hist(rng, 12, 12), hist(rng, 12, 12)
    m = otkit.Mesh.generate("icosphere", 1)
    u, v = hist(rng, m.n), hist(rng, m.n)
    serial = (otkit.grid_sinkhorn(a, b, eps=0.01).ot_kl,
              otkit.mesh_divergence(m, u, v).value)
    out = [None] * 6

    def work(k):
        out[k] = (otkit.grid_sinkhorn(a, b, eps=0.01).ot_kl if k % 2 == 0
                  else otkit.mesh_divergence(m, u, v).value)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert out == [serial[k % 2] for k in range(6)]


def test_float_indices_are_refused():
    V = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=float)
    with pytest.raises(ValueError, match="F"):
        otkit.Mesh.from_triangles(V, np.array([[0.0, 1.0, 2.5]]))
    assert otkit.Mesh.from_triangles(V, np.array([[0, 1, 2]], dtype=np.int32)).n == 3
