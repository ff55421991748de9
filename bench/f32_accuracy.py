#!/usr/bin/env python3
"""Single precision against float64: the error of otkit's float32 point-cloud
solves (otk_cost_points_f32 / otk_divergence_alloc_points_f32, through the
Python bindings' dtype=float32) next to float64's own stopping error.

    PYTHONPATH=bindings/python python3 bench/f32_accuracy.py [--quick]

Points: x uniform in [0, 1]^d, y Gaussian (mean 0.6, sd 0.25), rounded to
float32 so that both precisions solve the same problem and only the
arithmetic differs.  Cost |x-y|^2/2 (GeomLoss's p = 2), eps = blur^2, the
"converge" schedule at the default tol = 1e-6 in both precisions, one
thread; the reference is float64 at tol = 1e-9.  Columns:
  Cmax/eps     the largest cost over eps (the scale of the float32 error law)
  S f32, S f64         |S - S_ref| / |S_ref|, the debiased divergence
  grad f32, grad f64   max |grad_x - grad_x_ref| / max |grad_x_ref|
  OT f32       |OT - OT_ref| / |OT_ref|, otkit.sinkhorn's ot_kl (reference:
               float64 at tol = 1e-9)
  it32/it64    the divergence's iterations in each precision
  t/it 64/32   float64 / float32 wall time per iteration of the divergence
               (one run each on a shared machine: indicative only)
Prints a Markdown table; bench/results/f32_accuracy.md holds a run, quoted by
docs/math.md A.7 and the README."""
import sys
import time

import numpy as np

import otkit


def clouds(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d)).astype(np.float32)
    y = (0.6 + 0.25 * rng.standard_normal((n, d))).astype(np.float32)
    return x, y


def row(n, d, blur):
    x32, y32 = clouds(n, d, 1000 * n + d)
    x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
    opts = dict(blur=blur, p=2, threads=1, warn=False, grad=("x",))
    t = time.perf_counter()
    s32 = otkit.divergence(x32, y32, **opts)
    t32 = time.perf_counter() - t
    t = time.perf_counter()
    s64 = otkit.divergence(x64, y64, **opts)
    t64 = time.perf_counter() - t
    ref = otkit.divergence(x64, y64, tol=1e-9, max_iter=20000, **opts)
    assert s32.grad_x.dtype == np.float32 and s64.grad_x.dtype == np.float64
    sk = dict(blur=blur, cost="half-sqeuclidean", threads=1, warn=False)
    o32 = otkit.sinkhorn(x=x32, y=y32, **sk)
    oref = otkit.sinkhorn(x=x64, y=y64, tol=1e-9, max_iter=20000, **sk)
    cmax = max(0.5 * float(((x64[i] - y64) ** 2).sum(-1).max()) for i in range(n))
    gscale = np.abs(ref.grad_x).max()
    return dict(
        ratio=cmax / blur ** 2,
        s32=abs(s32.value - ref.value) / abs(ref.value),
        s64=abs(s64.value - ref.value) / abs(ref.value),
        g32=float(np.abs(s32.grad_x - ref.grad_x).max() / gscale),
        g64=float(np.abs(s64.grad_x - ref.grad_x).max() / gscale),
        o32=abs(o32.ot_kl - oref.ot_kl) / abs(oref.ot_kl),
        it=(s32.iterations, s64.iterations), conv=(s32.status, s64.status, ref.status),
        speed=(t64 / s64.iterations) / (t32 / s32.iterations))


CASES = [(500, 2, 0.1), (500, 2, 0.05), (500, 3, 0.1), (500, 3, 0.05), (500, 8, 0.2),
         (500, 8, 0.1), (2000, 3, 0.1), (2000, 3, 0.05), (2000, 8, 0.2)]


def main():
    quick = "--quick" in sys.argv
    print("| n | d | blur | Cmax/eps | S f32 | S f64 | grad f32 | grad f64 | OT f32 | "
          "it32/it64 | t/it 64/32 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, d, blur in CASES:
        if quick and n > 500:
            continue
        r = row(n, d, blur)
        flag = "" if r["conv"] == (0, 0, 0) else " (status %d/%d, ref %d)" % r["conv"]
        print("| %d | %d | %g | %.0f | %.1e | %.1e | %.1e | %.1e | %.1e | %d/%d%s | %.2f |"
              % (n, d, blur, r["ratio"], r["s32"], r["s64"], r["g32"], r["g64"], r["o32"],
                 r["it"][0], r["it"][1], flag, r["speed"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
