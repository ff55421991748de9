#!/usr/bin/python3
"""Generate tests/exact_reference.h: POT's exact, 1-D and sliced values.

Run outside the build, from the repository root:
    /usr/bin/python3 tests/data/gen_exact_reference.py > tests/exact_reference.h
Deterministic (np.random.RandomState with fixed seeds) except for the date.
"""
import datetime
import sys

import numpy as np
import ot
import scipy

out = []


def arr(name, v, ctype="double"):
    v = np.asarray(v).ravel()
    fmt = (lambda t: "%.17g" % t) if ctype == "double" else (lambda t: "%d" % t)
    for t in v:
        if ctype == "double":
            assert float("%.17g" % t) == t
    body = ", ".join(fmt(t) for t in v)
    out.append("static const %s %s[%d] = {%s};" % (ctype, name, len(v), body))


def scalar(name, v):
    assert float("%.17g" % v) == v
    out.append("#define %s %.17g" % (name, v))


def emd_case(tag, a, b, M):
    G, log = ot.emd(a, b, M, numItermax=10**9, log=True)
    assert log["warning"] is None, log["warning"]
    val = float(np.sum(G * M))
    scalar("EXACT_%s_VALUE" % tag, val)
    out.append("/* ot.emd2 gives %.17g (its own sum) */" % ot.emd2(a, b, M, numItermax=10**9))


# 1. dense: uniform [0, 1) costs, random weights, 9 x 13
r = np.random.RandomState(1)
n, m = 9, 13
M = r.rand(n, m)
a = r.rand(n); a /= a.sum()
b = r.rand(m); b /= b.sum()
out.append("/* dense: M = rand(9, 13), a, b = rand normalised (RandomState(1)) */")
arr("exact_dense_C", M); arr("exact_dense_a", a); arr("exact_dense_b", b)
emd_case("DENSE", a, b, M)

# 2. point clouds, squared euclidean, 11 x 8 in 2-D, uniform weights
r = np.random.RandomState(2)
n, m, d = 11, 8, 2
x = r.randn(n, d); y = r.randn(m, d) + 0.5
C = np.array([[np.sum((xi - yj) ** 2) for yj in y] for xi in x])  # direct formula
out.append("/* points: x = randn(11, 2), y = randn(8, 2) + 0.5, uniform weights, "
           "C_ij = |x_i - y_j|^2 by the direct formula (RandomState(2)) */")
arr("exact_points_x", x); arr("exact_points_y", y)
emd_case("POINTS", np.full(n, 1.0 / n), np.full(m, 1.0 / m), C)

# 3. degenerate: integer costs (many ties), duplicate rows, zero weights
r = np.random.RandomState(3)
n, m = 10, 10
M = r.randint(0, 4, size=(n, m)).astype(float)
M[5] = M[2]  # duplicate source
a = r.randint(0, 3, size=n).astype(float); a[0] = 0.0; a[1] = 2.0
b = r.randint(0, 3, size=m).astype(float); b[3] = 0.0
b *= a.sum() / b.sum()
out.append("/* degenerate: M = randint(0, 4, (10, 10)), row 5 = row 2, integer weights with "
           "zeros, b scaled to a's mass (RandomState(3)) */")
arr("exact_degen_C", M); arr("exact_degen_a", a); arr("exact_degen_b", b)
emd_case("DEGEN", a, b, M)

# 4. 1-D, weighted, p = 1, 1.5, 2, 3
r = np.random.RandomState(4)
n, m = 9, 12
x = r.randn(n); y = 0.7 * r.randn(m) + 0.2
a = r.rand(n); a /= a.sum()
b = r.rand(m); b /= b.sum()
out.append("/* 1-D: x = randn(9), y = 0.7 randn(12) + 0.2, weights rand normalised "
           "(RandomState(4)); ot.wasserstein_1d(x, y, a, b, p) for p = 1, 1.5, 2, 3 */")
arr("w1d_x", x); arr("w1d_y", y); arr("w1d_a", a); arr("w1d_b", b)
arr("w1d_p", [1.0, 1.5, 2.0, 3.0])
arr("w1d_value", [float(ot.wasserstein_1d(x, y, a, b, p=p)) for p in [1.0, 1.5, 2.0, 3.0]])
out.append("/* uniform weights, p = 2 */")
scalar("W1D_UNIFORM_P2", float(ot.wasserstein_1d(x, y, p=2)))

# 5. sliced: POT's projections
r = np.random.RandomState(5)
n, m, d, L = 10, 12, 3, 7
X = r.randn(n, d); Y = r.randn(m, d) + 0.3
a = r.rand(n); a /= a.sum()
b = r.rand(m); b /= b.sum()
proj = ot.sliced.get_random_projections(d, L, seed=5)
out.append("/* sliced: X = randn(10, 3), Y = randn(12, 3) + 0.3, weights rand normalised "
           "(RandomState(5)); directions = ot.sliced.get_random_projections(3, 7, seed=5).T "
           "(stored L x d); ot.sliced_wasserstein_distance(X, Y, a, b, n_projections=7, p, "
           "projections=proj) for p = 1, 2 (POT divides by n_projections, so it must equal L) */")
arr("sliced_X", X); arr("sliced_Y", Y); arr("sliced_a", a); arr("sliced_b", b)
arr("sliced_dirs", proj.T)
arr("sliced_value", [float(ot.sliced_wasserstein_distance(X, Y, a, b, n_projections=L, p=p,
                                                           projections=proj)) for p in [1.0, 2.0]])

print("/*\n * tests/exact_reference.h -- GENERATED, DO NOT EDIT.\n *")
print(" * Regenerate with /usr/bin/python3 tests/data/gen_exact_reference.py > tests/exact_reference.h")
print(" * Generated %s with POT %s, numpy %s, scipy %s, Python %s." % (
    datetime.date.today().isoformat(), ot.__version__, np.__version__, scipy.__version__,
    sys.version.split()[0]))
print(" * Exact values: sum(G * M) for G = ot.emd(a, b, M, numItermax=1e9) (LEMON's network")
print(" * simplex); 1-D: ot.wasserstein_1d (W_p^p); sliced: ot.sliced_wasserstein_distance (SW_p).")
print(" */\n#ifndef OTKIT_TESTS_EXACT_REFERENCE_H\n#define OTKIT_TESTS_EXACT_REFERENCE_H\n")
print("\n".join(out))
print("\n#endif")
