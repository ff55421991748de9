#!/usr/bin/env python3
"""One multiscale solve of bench/multiscale.py's setting (divergence + grad_x,
fixed schedule) in this process: seconds, CPU seconds, truncation_bound and
VmHWM on one line; optionally the value and gradient to an .npz, to compare
two builds of the library (run each under its own LD_LIBRARY_PATH).

  PYTHONPATH=bindings/python /usr/bin/python3 bench/multiscale_run.py N THREADS [TRUNCATE [OUT.npz]]
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from multiscale import clouds, vmhwm_mib  # noqa: E402

import otkit  # noqa: E402


def main():
    n, threads = int(sys.argv[1]), int(sys.argv[2])
    truncate = float(sys.argv[3]) if len(sys.argv) > 3 else 12.0
    x, y = clouds(n, 0)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    res = otkit.divergence(x, y, blur=0.01, p=2, scaling=0.5, schedule="fixed",
                           backend="multiscale", truncate=truncate, grad=("x",),
                           threads=threads, warn=False)
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    if len(sys.argv) > 4:
        np.savez(sys.argv[4], value=res.value, grad_x=res.grad_x, seconds=sec, cpu=cpu,
                 bound=res.truncation_bound)
    print("n %d value %.17g seconds %.1f cpu %.1f truncation_bound %.3g load %.2f -> %.2f "
          "VmHWM %.0f MiB" % (n, res.value, sec, cpu, res.truncation_bound, load,
                              os.getloadavg()[0], vmhwm_mib()))


if __name__ == "__main__":
    main()
