#!/usr/bin/python3
"""otkit's grid barycenter against POT's convolutional_barycenter2d, and a
512 x 512 image-pair Sinkhorn divergence.

Barycenter problem: four 128 x 128 shapes (disk, square, cross, ring), each
normalised to mass 1, uniform barycentric weights, reg = REG on POT's grid
(linspace(0, 1, 128) per axis, kernel exp(-(s_i - s_j)^2 / reg)), exactly
ITERS iterations on both sides:

  POT    ot.bregman.convolutional_barycenter2d(A, reg, numItermax=ITERS,
         stopThr=0, warn=False): kernel-domain (not log-domain) Bregman
         projections; stopThr=0 never stops early (its error is checked every
         10th iteration and is never < 0).
  otkit  bench/bench_grid bary: otk_barycenter on otk_cost_grid (sqeuclidean,
         spacing 1/127, eps = reg), tol = 0 so exactly ITERS iterations, in the
         log domain; threads 1 and 2.

Both run the same Bregman iteration (Benamou et al. 2015), so the results
agree to rounding; the script prints the largest difference.  Each timing is
repeated (--repeats) and the median reported; speed-up = POT median / otkit
median, measured in the same run.

Divergence: bench_grid div 512 BLUR (two 512 x 512 images on [0,1]^2,
half-sqeuclidean, eps = blur^2, default converge schedule, tol 1e-6).

Results: stdout (markdown) and bench/results/grid_vs_pot.{json,md}.
Run with Debian's /usr/bin/python3 (numpy, POT 0.8.2) after building the
library and `make -C bench bench_grid`.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

import numpy as np
import ot

HERE = os.path.dirname(os.path.abspath(__file__))


def shapes(N):
    y, x = np.mgrid[0:N, 0:N] / (N - 1)
    r2 = (x - 0.5) ** 2 + (y - 0.5) ** 2
    A = np.stack([
        (r2 < 0.3 ** 2) * 1.0,
        (abs(x - 0.5) < 0.3) * (abs(y - 0.5) < 0.3) * 1.0,
        ((abs(x - 0.5) < 0.08) | (abs(y - 0.5) < 0.08)) * (abs(x - 0.5) < 0.35)
        * (abs(y - 0.5) < 0.35) * 1.0,
        ((r2 < 0.35 ** 2) & (r2 > 0.2 ** 2)) * 1.0])
    return A / A.sum(axis=(1, 2), keepdims=True)


def run_otk(args):
    out = subprocess.run([os.path.join(HERE, "bench_grid")] + [str(a) for a in args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--reg", type=float, default=0.004)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--div-n", type=int, default=512)
    ap.add_argument("--div-blur", type=float, default=0.05)
    args = ap.parse_args()
    N, reg, iters = args.n, args.reg, args.iters
    A = shapes(N)
    res = {"date": datetime.datetime.utcnow().isoformat() + "Z", "N": N, "K": 4, "reg": reg,
           "iterations": iters, "repeats": args.repeats, "pot_version": ot.__version__,
           "numpy_version": np.__version__, "machine": platform.processor() or platform.machine(),
           "cpus": os.cpu_count(), "load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        fa, fb = os.path.join(tmp, "A.f64"), os.path.join(tmp, "bar.f64")
        A.astype("<f8").tofile(fa)
        pot_times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            bar_pot = ot.bregman.convolutional_barycenter2d(A, reg, numItermax=iters, stopThr=0,
                                                            warn=False)
            pot_times.append(time.perf_counter() - t)
        otk = {}
        for threads in (1, 2):
            r = run_otk(["bary", fa, 4, N, N, reg, iters, args.repeats, threads, fb])
            bar = np.fromfile(fb, dtype="<f8").reshape(N, N)
            r["max_abs_diff_vs_pot"] = float(abs(bar - bar_pot).max())
            r["max_pot"] = float(bar_pot.max())
            otk[threads] = r
    res["pot_seconds"] = pot_times
    res["pot_median"] = statistics.median(pot_times)
    res["otkit"] = {str(k): v for k, v in otk.items()}
    for k, v in otk.items():
        v["median"] = statistics.median(v["seconds"])
        v["speedup"] = res["pot_median"] / v["median"]
    div = run_otk(["div", args.div_n, args.div_blur, 2, 1])
    res["divergence"] = div
    res["load_average_end"] = os.getloadavg()

    lines = ["## otkit vs POT %s: convolutional barycenter, four %d x %d shapes, reg = %g, "
             "%d iterations" % (ot.__version__, N, N, reg, iters), "",
             "| | median s | runs (s) | speed-up | max abs diff vs POT (POT max) |",
             "|---|---|---|---|---|",
             "| POT convolutional_barycenter2d | %.3f | %s | 1 | |"
             % (res["pot_median"], ", ".join("%.3f" % t for t in pot_times))]
    for k in (1, 2):
        v = otk[k]
        lines.append("| otkit otk_barycenter, %d thread%s (%s path) | %.3f | %s | %.2fx | %.2e (%.2e) |"
                     % (k, "s" if k > 1 else "", v["path"], v["median"],
                        ", ".join("%.3f" % t for t in v["seconds"]), v["speedup"],
                        v["max_abs_diff_vs_pot"], v["max_pot"]))
    lines += ["", "Divergence of a %d x %d image pair (half-sqeuclidean, blur %g, eps %g, "
              "2 threads): %.3f s (setup %.4f s), S = %.6g, %d iterations, status %s, "
              "path at eps: %s; FFT plans %d, soft-mins %d (%d FFT, %d separable)."
              % (div["N"], div["N"], div["blur"], div["eps"], div["seconds"][0],
                 div["setup_seconds"], div["divergence"], div["iterations"], div["status"],
                 div["path_at_eps"], div["fft_plans"], div["softmin_calls"], div["softmin_fft"],
                 div["softmin_separable"]),
              "",
              "Machine: %s, %d CPUs, load average %.1f at start, %.1f at end (above the CPU "
              "count, other work shared the machine)." % (res["machine"], res["cpus"],
                                                           res["load_average_start"][0],
                                                           res["load_average_end"][0])]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "grid_vs_pot.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(HERE, "results", "grid_vs_pot.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
