"""The bad-input matrix through Python (docs/reliability.md): every entry point
× {None, empty and mismatched shapes, NaN, ±Inf, negative weights, zero mass,
eps <= 0 / NaN, rho <= 0, unknown names, wrong types} raises ValueError (or
otkit.OtkitError / TypeError), never crashes the interpreter; valid extremes
(eps huge or tiny) return finite values.  Also: the same problems solved from
8 Python threads (the bindings release the GIL around each solve) give
results identical to serial solves."""
import math
import threading

import numpy as np
import pytest

import otkit

RNG = np.random.default_rng(3)
X = RNG.normal(size=(6, 2))
Y = RNG.normal(size=(5, 2)) + 0.5
A = np.full(6, 1 / 6)
B = np.full(5, 1 / 5)
C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
ZS = RNG.normal(size=(4, 3))
ZT = RNG.normal(size=(4, 3))
IMG1 = np.zeros((6, 6))
IMG1[:2] = 1.0
IMG2 = np.zeros((6, 6))
IMG2[4:] = 1.0


def nan_at(v, i):
    v = np.array(v, dtype=float)
    v.flat[i] = np.nan
    return v


def set_at(v, i, val):
    v = np.array(v, dtype=float)
    v.flat[i] = val
    return v


BAD = [
    # sinkhorn
    ("sinkhorn", "x NaN", lambda: otkit.sinkhorn(A, B, x=nan_at(X, 3), y=Y)),
    ("sinkhorn", "y +Inf", lambda: otkit.sinkhorn(A, B, x=X, y=set_at(Y, 1, np.inf))),
    ("sinkhorn", "C -Inf", lambda: otkit.sinkhorn(A, B, C=set_at(C, 4, -np.inf), eps=0.1)),
    ("sinkhorn", "a negative", lambda: otkit.sinkhorn(set_at(A, 0, -0.1), B, x=X, y=Y)),
    ("sinkhorn", "a zero mass", lambda: otkit.sinkhorn(np.zeros(6), B, x=X, y=Y)),
    ("sinkhorn", "unequal masses", lambda: otkit.sinkhorn(A, 3 * B, x=X, y=Y)),
    ("sinkhorn", "a wrong length", lambda: otkit.sinkhorn(A[:4], B, x=X, y=Y)),
    ("sinkhorn", "x, y dimension mismatch", lambda: otkit.sinkhorn(A, B, x=X, y=np.ones((5, 3)))),
    ("sinkhorn", "C wrong shape", lambda: otkit.sinkhorn(A, B, C=C.T, eps=0.1)),
    ("sinkhorn", "x empty", lambda: otkit.sinkhorn(None, None, x=np.zeros((0, 2)), y=Y)),
    ("sinkhorn", "x 3-D", lambda: otkit.sinkhorn(None, None, x=np.zeros((2, 2, 2)), y=Y)),
    ("sinkhorn", "no cost", lambda: otkit.sinkhorn(A, B)),
    ("sinkhorn", "eps 0", lambda: otkit.sinkhorn(A, B, C=C, eps=0.0)),
    ("sinkhorn", "eps < 0", lambda: otkit.sinkhorn(A, B, C=C, eps=-1.0)),
    ("sinkhorn", "eps NaN", lambda: otkit.sinkhorn(A, B, C=C, eps=float("nan"))),
    ("sinkhorn", "eps +Inf", lambda: otkit.sinkhorn(A, B, C=C, eps=float("inf"))),
    ("sinkhorn", "blur < 0", lambda: otkit.sinkhorn(A, B, x=X, y=Y, blur=-0.1)),
    ("sinkhorn", "rho 0", lambda: otkit.sinkhorn(A, B, x=X, y=Y, rho=0.0)),
    ("sinkhorn", "rho < 0", lambda: otkit.sinkhorn(A, B, x=X, y=Y, rho=-1.0)),
    ("sinkhorn", "reach < 0", lambda: otkit.sinkhorn(A, B, x=X, y=Y, reach=-1.0)),
    ("sinkhorn", "scaling 1", lambda: otkit.sinkhorn(A, B, x=X, y=Y, scaling=1.0)),
    ("sinkhorn", "max_iter 0", lambda: otkit.sinkhorn(A, B, x=X, y=Y, max_iter=0)),
    ("sinkhorn", "tol < 0", lambda: otkit.sinkhorn(A, B, x=X, y=Y, tol=-1.0)),
    ("sinkhorn", "unknown cost", lambda: otkit.sinkhorn(A, B, x=X, y=Y, cost="manhattan-ish")),
    ("sinkhorn", "unknown schedule", lambda: otkit.sinkhorn(A, B, x=X, y=Y, schedule="none")),
    ("sinkhorn", "unknown update", lambda: otkit.sinkhorn(A, B, x=X, y=Y, update="random")),
    ("sinkhorn", "lp without power", lambda: otkit.sinkhorn(A, B, x=X, y=Y, cost="lp")),
    ("sinkhorn", "lp power NaN", lambda: otkit.sinkhorn(A, B, x=X, y=Y, cost="lp", power=float("nan"))),
    ("sinkhorn", "x a string", lambda: otkit.sinkhorn(A, B, x="points", y=Y)),
    # divergence
    ("divergence", "x NaN", lambda: otkit.divergence(nan_at(X, 0), Y)),
    ("divergence", "b negative", lambda: otkit.divergence(X, Y, b=set_at(B, 2, -1.0))),
    ("divergence", "a zero mass", lambda: otkit.divergence(X, Y, a=np.zeros(6))),
    ("divergence", "blur 0", lambda: otkit.divergence(X, Y, blur=0.0)),
    ("divergence", "blur NaN", lambda: otkit.divergence(X, Y, blur=float("nan"))),
    ("divergence", "p 0", lambda: otkit.divergence(X, Y, p=0)),
    ("divergence", "reach < 0", lambda: otkit.divergence(X, Y, reach=-2.0)),
    ("divergence", "dimension mismatch", lambda: otkit.divergence(X, np.ones((5, 3)))),
    ("divergence", "unknown cost", lambda: otkit.divergence(X, Y, cost="cosine")),
    ("divergence_matrix", "C_xy NaN", lambda: otkit.divergence_matrix(nan_at(C, 0), eps=0.1)),
    # SinKD, KD
    ("sinkd_loss", "logits NaN", lambda: otkit.sinkd_loss(nan_at(ZS, 1), ZT)),
    ("sinkd_loss", "shape mismatch", lambda: otkit.sinkd_loss(ZS, ZT[:3])),
    ("sinkd_loss", "tau 0", lambda: otkit.sinkd_loss(ZS, ZT, tau=0.0)),
    ("sinkd_loss", "eps < 0", lambda: otkit.sinkd_loss(ZS, ZT, eps=-0.1)),
    ("sinkd_loss", "iters 0", lambda: otkit.sinkd_loss(ZS, ZT, iters=0)),
    ("sinkd_loss", "unknown cost", lambda: otkit.sinkd_loss(ZS, ZT, cost="hamming")),
    ("sinkd_objective", "label out of range", lambda: otkit.sinkd_objective(ZS, ZT, np.array([0, 1, 2, 3]), 0.5, 0.1)),
    ("kd_loss", "unknown kind", lambda: otkit.kd_loss("wasserstein", ZS, ZT)),
    ("kd_loss", "tau NaN", lambda: otkit.kd_loss("kl", ZS, ZT, tau=float("nan"))),
    # Monge gap, maps
    ("monge_gap", "tx NaN", lambda: otkit.monge_gap(X, nan_at(X, 2))),
    ("monge_gap", "shape mismatch", lambda: otkit.monge_gap(X, X[:5])),
    ("monge_gap", "w negative", lambda: otkit.monge_gap(X, X, w=set_at(A, 1, -1.0))),
    ("monge_gap", "eps < 0", lambda: otkit.monge_gap(X, X, eps=-1.0)),
    ("monge_gap", "relative_eps 0", lambda: otkit.monge_gap(X, X, relative_eps=0.0)),
    ("monge_gap", "unknown relative_to", lambda: otkit.monge_gap(X, X, relative_to="nope")),
    ("EntropicMap.fit", "y NaN", lambda: otkit.EntropicMap.fit(X, nan_at(Y, 0))),
    ("EntropicMap.fit", "dimension mismatch", lambda: otkit.EntropicMap.fit(X, np.ones((5, 3)))),
    ("fit_map", "unknown family", lambda: otkit.fit_map(X, Y, family="quadratic")),
    ("fit_map", "unknown activation", lambda: otkit.fit_map(X, Y, family="mlp", activation="relu6")),
    ("fit_map", "hidden width 0", lambda: otkit.fit_map(X, Y, family="mlp", hidden=(4, 0))),
    ("fit_map", "x NaN", lambda: otkit.fit_map(nan_at(X, 0), Y)),
    # grids, meshes, sparse
    ("grid_sinkhorn", "image NaN", lambda: otkit.grid_sinkhorn(nan_at(IMG1, 0), IMG2, blur=1.0)),
    ("grid_sinkhorn", "image negative", lambda: otkit.grid_sinkhorn(set_at(IMG1, 0, -1.0), IMG2, blur=1.0)),
    ("grid_sinkhorn", "shape mismatch", lambda: otkit.grid_sinkhorn(IMG1, IMG2[:5], blur=1.0)),
    ("grid_sinkhorn", "eps < 0", lambda: otkit.grid_sinkhorn(IMG1, IMG2, eps=-1.0)),
    ("grid_sinkhorn", "unknown path", lambda: otkit.grid_sinkhorn(IMG1, IMG2, blur=1.0, path="fastest")),
    ("grid_sinkhorn", "zero mass", lambda: otkit.grid_sinkhorn(np.zeros((6, 6)), IMG2, blur=1.0)),
    ("barycenter", "eps 0", lambda: otkit.barycenter(np.stack([IMG1, IMG2]), eps=0.0)),
    ("barycenter", "weights NaN", lambda: otkit.barycenter(np.stack([IMG1, IMG2]), weights=[np.nan, 1.0])),
    ("sparse_sinkhorn", "eps < 0", lambda: otkit.sparse_sinkhorn(A, B, C, eps=-1.0)),
]


@pytest.mark.parametrize("fn,what,call", BAD, ids=[f"{f}: {w}" for f, w, _ in BAD])
def test_bad_input_raises(fn, what, call):
    with pytest.raises((ValueError, TypeError, otkit.OtkitError)):
        call()


def finite_values(res):
    for name in ("ot_kl", "ot_ent", "ot_lin", "value", "divergence", "monge_gap", "loss"):
        v = getattr(res, name, None)
        if v is not None and not isinstance(v, (list, dict, str)):
            assert np.all(np.isfinite(v)), (name, v)


EXTREMES = [
    ("sinkhorn", "eps 1e12", lambda: otkit.sinkhorn(A, B, C=C, eps=1e12, warn=False)),
    ("sinkhorn", "eps 1e-12", lambda: otkit.sinkhorn(A, B, C=C, eps=1e-12, max_iter=200, warn=False)),
    ("sinkhorn", "a NULL: uniform", lambda: otkit.sinkhorn(None, None, x=X, y=Y, blur=0.5)),
    ("divergence", "blur 1e6", lambda: otkit.divergence(X, Y, blur=1e6)),
    ("divergence", "blur 1e-6", lambda: otkit.divergence(X, Y, blur=1e-6, max_iter=200, warn=False)),
    ("monge_gap", "eps 1e10", lambda: otkit.monge_gap(X, X, eps=1e10)),
]


@pytest.mark.parametrize("fn,what,call", EXTREMES, ids=[f"{f}: {w}" for f, w, _ in EXTREMES])
def test_extremes_finite(fn, what, call):
    finite_values(call())


def test_threads_match_serial():
    """8 Python threads, each solving every problem: the same bits as serial
    solves (the solves run without the GIL, each with its own solver)."""
    rng = np.random.default_rng(11)
    problems = [(rng.normal(size=(60, 3)), rng.normal(size=(50, 3)) + 0.3) for _ in range(4)]

    def solve(k):
        x, y = problems[k]
        r = otkit.sinkhorn(x=x, y=y, blur=0.2, threads=1)
        d = otkit.divergence(x, y, blur=0.2, grad="x", threads=1)
        return (r.ot_kl, r.ot_lin, np.asarray(r.f).tobytes(), d.value,
                np.asarray(d.grad_x).tobytes())

    serial = [solve(k) for k in range(len(problems))]
    results = {}

    def worker(t):
        results[t] = [solve((k + t) % len(problems)) for k in range(len(problems))]

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(8):
        for k in range(len(problems)):
            assert results[t][k] == serial[(k + t) % len(problems)], (t, k)
