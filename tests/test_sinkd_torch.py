#!/usr/bin/python3
"""test_sinkd_torch.py -- otkit's SinKD loss and its unrolled-adjoint gradients
against PyTorch autograd through a plain implementation of the reference
algorithm (docs/math.md D.1 and D.3: kernel-domain row/column normalisation, float64).

For each case (B, K, tau, eps, iters, ground) the same random logits go to
otk_sinkd_loss (through ctypes, loading the built shared library) and to the
PyTorch reference; the loss, d loss/d Z_s and d loss/d Z_t must agree to 1e-10
relative (max |difference| / max |value|).

Run by `make check` from the build directory (top_builddir and top_srcdir set,
both default to .), or by hand:
    top_builddir=. /usr/bin/python3 tests/test_sinkd_torch.py
The library is $OTKIT_LIB, default $top_builddir/.libs/libotkit.so.  Prints one
line per case and ends with "N passed, M failed".  Exit status: 0 all passed,
1 a case failed (or the library could not be used), 77 (automake's SKIP)
without numpy or torch (Debian: python3-numpy, python3-torch).
"""
import ctypes
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover - depends on the machine
    print("SKIP: test_sinkd_torch.py needs numpy and torch (%s)" % e)
    sys.exit(77)

TOL = 1e-10

# (B, K, tau, eps, iters, ground, weight)
CASES = [
    (8, 5, 2.0, 0.1, 20, "l1", 1.0),
    (16, 3, 1.0, 0.5, 5, "l1", 1.0),
    (32, 10, 4.0, 0.05, 20, "l1", 1.0),
    (5, 7, 2.0, 0.1, 1, "l1", 1.0),
    (12, 6, 2.0, 0.1, 20, "l1", 0.001),
    (1, 4, 2.0, 0.1, 20, "l1", 1.0),
    (8, 5, 2.0, 0.1, 20, "sqeuclidean", 1.0),
    (16, 3, 1.0, 0.5, 5, "sqeuclidean", 1.0),
    (32, 10, 4.0, 0.05, 20, "sqeuclidean", 1.0),
    (5, 7, 2.0, 0.1, 1, "sqeuclidean", 1.0),
]


class SinkdParams(ctypes.Structure):
    """otk_sinkd_params, field for field as declared in otkit/distill.h."""
    _fields_ = [
        ("tau", ctypes.c_double),
        ("eps", ctypes.c_double),
        ("iters", ctypes.c_int),
        ("ground", ctypes.c_int),   # otk_ground (enum)
        ("power", ctypes.c_double),
        ("weight", ctypes.c_double),
        ("grad", ctypes.c_int),     # otk_sinkd_grad (enum)
        ("threads", ctypes.c_int),
    ]


OTK_SINKD_GRAD_UNROLLED = 0


def load_library():
    path = os.environ.get("OTKIT_LIB")
    if not path:
        top = os.environ.get("top_builddir", ".") or "."
        path = os.path.join(top, ".libs", "libotkit.so")
    lib = ctypes.CDLL(path)
    dp = ctypes.POINTER(ctypes.c_double)
    lib.otk_sinkd_params_default.argtypes = [ctypes.POINTER(SinkdParams)]
    lib.otk_sinkd_params_default.restype = None
    lib.otk_sinkd_alloc.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t,
                                    ctypes.c_size_t, ctypes.POINTER(SinkdParams)]
    lib.otk_sinkd_alloc.restype = ctypes.c_int
    lib.otk_sinkd_free.argtypes = [ctypes.c_void_p]
    lib.otk_sinkd_free.restype = None
    lib.otk_sinkd_loss.argtypes = [ctypes.c_void_p, dp, dp, dp, dp, dp]
    lib.otk_sinkd_loss.restype = ctypes.c_int
    lib.otk_ground_from_name.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.otk_ground_from_name.restype = ctypes.c_int
    lib.otk_last_error.argtypes = []
    lib.otk_last_error.restype = ctypes.c_char_p
    return path, lib


def last_error(lib):
    msg = lib.otk_last_error()
    return msg.decode("utf-8", "replace") if msg else "(no message)"


def otkit_sinkd(lib, zs, zt, tau, eps, iters, ground, weight, threads=1):
    """(loss, grad_s, grad_t) from otk_sinkd_loss, unrolled adjoint."""
    B, K = zs.shape
    par = SinkdParams()
    lib.otk_sinkd_params_default(ctypes.byref(par))
    g = ctypes.c_int(-1)
    if lib.otk_ground_from_name(ground.encode(), ctypes.byref(g)) < 0:
        raise RuntimeError("otk_ground_from_name(%s): %s" % (ground, last_error(lib)))
    par.tau, par.eps, par.iters = tau, eps, iters
    par.ground, par.weight = g.value, weight
    par.grad, par.threads = OTK_SINKD_GRAD_UNROLLED, threads
    sd = ctypes.c_void_p()
    st = lib.otk_sinkd_alloc(ctypes.byref(sd), B, K, ctypes.byref(par))
    if st < 0:
        raise RuntimeError("otk_sinkd_alloc: status %d: %s" % (st, last_error(lib)))
    try:
        zs = np.ascontiguousarray(zs, dtype=np.float64)
        zt = np.ascontiguousarray(zt, dtype=np.float64)
        gs = np.full((B, K), np.nan)
        gt = np.full((B, K), np.nan)
        loss = ctypes.c_double(np.nan)
        dp = ctypes.POINTER(ctypes.c_double)
        st = lib.otk_sinkd_loss(sd, zs.ctypes.data_as(dp), zt.ctypes.data_as(dp),
                                ctypes.byref(loss), gs.ctypes.data_as(dp),
                                gt.ctypes.data_as(dp))
        if st < 0:
            raise RuntimeError("otk_sinkd_loss: status %d: %s" % (st, last_error(lib)))
        return loss.value, gs, gt
    finally:
        lib.otk_sinkd_free(sd)


def reference_loss(zs, zt, tau, eps, iters, ground, weight):
    """The reference algorithm (SinKD loss.py, docs/math.md D.3), kernel domain."""
    ps = torch.softmax(zs / tau, dim=1)
    pt = torch.softmax(zt / tau, dim=1)
    if ground == "l1":
        W = torch.cdist(ps, pt, p=1)
    elif ground == "sqeuclidean":
        W = torch.cdist(ps, pt, p=2, compute_mode="donot_use_mm_for_euclid_dist") ** 2
    else:
        raise ValueError(ground)
    P = torch.exp(-W / eps)
    for _ in range(iters):
        P = P / P.sum(1, keepdim=True)
        P = P / P.sum(0, keepdim=True)
    return weight * (P * W).sum()


def torch_sinkd(zs, zt, tau, eps, iters, ground, weight):
    ts = torch.tensor(zs, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(zt, dtype=torch.float64, requires_grad=True)
    loss = reference_loss(ts, tt, tau, eps, iters, ground, weight)
    loss.backward()
    return loss.item(), ts.grad.numpy(), tt.grad.numpy()


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(b)), np.finfo(float).tiny)
    return float(np.max(np.abs(a - b)) / scale)


def main():
    torch.set_default_dtype(torch.float64)
    try:
        path, lib = load_library()
    except (OSError, AttributeError) as e:
        print("FAIL: cannot load the otkit library: %s" % e)
        print("0 passed, 1 failed")
        return 1
    print("library: %s; torch %s, numpy %s" % (path, torch.__version__, np.__version__))
    passed = failed = 0
    rng = np.random.default_rng(20240229)
    for (B, K, tau, eps, iters, ground, weight) in CASES:
        name = "B=%d K=%d tau=%g eps=%g iters=%d cost=%s weight=%g" % (
            B, K, tau, eps, iters, ground, weight)
        zs = rng.normal(scale=3.0, size=(B, K))
        zt = rng.normal(scale=3.0, size=(B, K))
        try:
            lo, gso, gto = otkit_sinkd(lib, zs, zt, tau, eps, iters, ground, weight)
        except RuntimeError as e:
            failed += 1
            print("FAIL: %s: %s" % (name, e))
            continue
        lr, gsr, gtr = torch_sinkd(zs, zt, tau, eps, iters, ground, weight)
        errs = (rel(lo, lr), rel(gso, gsr), rel(gto, gtr))
        ok = all(np.isfinite(x) and x <= TOL for x in errs) \
            and np.all(np.isfinite(gso)) and np.all(np.isfinite(gto))
        line = "%s: %s loss %.12g (torch %.12g) rel err loss %.2e grad_s %.2e grad_t %.2e" % (
            "PASS" if ok else "FAIL", name, lo, lr, errs[0], errs[1], errs[2])
        print(line)
        if ok:
            passed += 1
        else:
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
