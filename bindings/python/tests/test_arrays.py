"""NumPy conversions (no copy for C-contiguous float64), the GIL released
during solves, and one object per thread."""
import threading
import time

import numpy as np
import pytest

import otkit
from otkit import _otkit


def test_dense_cost_uses_contiguous_float64_in_place(rng):
    C = rng.uniform(size=(6, 5))
    r = otkit.sinkhorn(C=C, eps=0.1)
    # The cost reads the caller's own buffer: the very same object.
    assert r.cost_matrix is C
    assert np.shares_memory(r.cost_matrix, C)
    # A C-contiguous view (rows of a larger array) is not copied either.
    big = rng.uniform(size=(10, 5))
    view = big[2:8]
    assert np.shares_memory(otkit.sinkhorn(C=view, eps=0.1).cost_matrix, big)


@pytest.mark.parametrize("make", [
    lambda C: C.astype(np.float32),                 # other dtype
    lambda C: np.asfortranarray(C),                 # column-major
    lambda C: np.repeat(C, 2, axis=1)[:, ::2],      # strided view
    lambda C: C.astype(">f8"),                      # byte-swapped
    lambda C: C.tolist(),                           # not an array
])
def test_other_inputs_are_converted(rng, make):
    C = rng.uniform(size=(6, 5)).astype(np.float32).astype(np.float64)
    ref = otkit.sinkhorn(C=C, eps=0.1, tol=1e-12)
    D = make(C)
    r = otkit.sinkhorn(C=D, eps=0.1, tol=1e-12)
    M = r.cost_matrix
    assert M is not D and M.dtype == np.float64 and M.flags.c_contiguous
    if isinstance(D, np.ndarray):
        assert not np.shares_memory(M, D)
    assert np.array_equal(M, C)
    assert r.ot_kl == ref.ot_kl and np.array_equal(r.f, ref.f)


def test_outputs_are_fresh_arrays(rng):
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(4, 2))
    r = otkit.sinkhorn(x=x, y=y)
    f1, _ = r.potentials()
    f1[:] = 0.0  # a caller's copy: changing it changes nothing inside
    assert not np.array_equal(r.potentials()[0], f1)
    assert r.plan().flags.c_contiguous and r.plan().dtype == np.float64


def long_solve_args(rng, n=500, iters=300):
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(n, 2)) + 0.3
    # tol = 1e-15 is never reached: exactly `iters` updates, a fixed amount of work.
    return dict(x=x, y=y, blur=0.05, tol=1e-15, max_iter=iters, threads=1, warn=False)


def test_gil_released_during_solve(rng):
    args = long_solve_args(rng)
    t0 = time.perf_counter()
    otkit.sinkhorn(**args)
    duration = time.perf_counter() - t0
    assert duration > 0.05, "the problem is too small to observe the GIL"

    stamps = []
    worker = threading.Thread(target=lambda: otkit.sinkhorn(**args))
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
    worker.join()
    gaps = np.diff(stamps)
    # Had the solve held the GIL, this thread would have stopped for the whole
    # solve: one gap about `duration` long.
    assert gaps.max() < 0.5 * duration, (gaps.max(), duration)


def test_two_solves_in_threads(rng):
    probs = [long_solve_args(rng, n=300, iters=200) for _ in range(2)]
    serial = [otkit.sinkhorn(**p) for p in probs]
    out = [None, None]

    def run(k):
        out[k] = otkit.sinkhorn(**probs[k])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive()
    for s, r in zip(serial, out):
        assert r.ot_kl == s.ot_kl and np.array_equal(r.f, s.f)


def test_one_object_per_thread(rng):
    args = long_solve_args(rng)
    s = _otkit.Sinkhorn(x=args["x"], y=args["y"], blur=0.05, tol=1e-15, max_iter=300,
                        threads=1)
    started = threading.Event()
    errors = []

    def run():
        started.set()
        try:
            s.solve()
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    started.wait()
    time.sleep(0.02)
    try:
        s.solve()
    except RuntimeError as e:
        errors.append(e)
    t.join()
    # Whichever call came second was refused instead of racing the first.
    assert len(errors) == 1 and "in use by another thread" in str(errors[0])
