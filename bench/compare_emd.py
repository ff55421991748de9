#!/usr/bin/python3
"""otkit's exact OT (network simplex, otkit/emd.h) against POT's ot.emd (LEMON's
C++ network simplex, Bonneel et al. 2011) in the same run.

Problem: n = m point clouds, uniform in [0, 1)^d (d = 2 by default), uniform
weights, squared Euclidean cost M = ot.dist(x, y) computed once, outside the
timings.  Each side solves from M to the optimal plan and value:

  POT    ot.emd2(a, b, M, numItermax=1e9)   (no cap: both run to optimality)
  otkit  otkit.emd2(a, b, M)                (Python binding, same process)

Both are single-threaded.  Each size is timed --repeats times (alternating
the two, fresh problem data per size, the same M for both) and the median
reported; ratio = POT median / otkit median (> 1: otkit faster).  The values
must agree to 1e-12 relative (the script fails otherwise).  The load average
before and after and the CPU busy fraction before each repeat are recorded:
on a shared machine they say how far to trust the timings.

Results: stdout (markdown) and bench/results/emd_vs_pot.{md,json}.  Run with
Debian's /usr/bin/python3 (numpy, POT 0.8.2) after building the Python
bindings (bindings/python: setup.py build_ext --inplace against the library,
or an installed otkit package).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import ot

HERE = os.path.dirname(os.path.abspath(__file__))
# The in-tree bindings when they are built there, else an installed package.
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
import otkit  # noqa: E402


def cpu_busy_fraction(interval=1.0):
    """Fraction of all CPU time spent busy over `interval` seconds (/proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def timed(fn):
    t = time.perf_counter()
    v = fn()
    return time.perf_counter() - t, v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,5000")
    ap.add_argument("--d", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "emd_vs_pot"))
    args = ap.parse_args()
    if args.repeats < 3:
        ap.error("--repeats: at least 3 (medians)")
    res = {"date": datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z",
           "d": args.d, "repeats": args.repeats, "seed": args.seed,
           "pot_version": ot.__version__, "numpy_version": np.__version__,
           "otkit_version": otkit.__version__, "machine": platform.machine(),
           "cpus": os.cpu_count(), "load_average_start": os.getloadavg(), "rows": []}
    rng = np.random.default_rng(args.seed)
    for n in [int(s) for s in args.sizes.split(",")]:
        x, y = rng.random((n, args.d)), rng.random((n, args.d))
        M = ot.dist(x, y)
        a = np.full(n, 1.0 / n)
        pot_t, otk_t, busy = [], [], []
        for _ in range(args.repeats):
            busy.append(cpu_busy_fraction(0.5))
            t, pot_v = timed(lambda: ot.emd2(a, a, M, numItermax=10 ** 9))
            pot_t.append(t)
            t, (otk_v, log) = timed(lambda: otkit.emd2(a, a, M, log=True))
            otk_t.append(t)
        rel = abs(otk_v - pot_v) / abs(pot_v)
        if not rel <= 1e-12:
            sys.exit("compare_emd.py: n = %d: otkit %.17g vs POT %.17g (relative %.3g)"
                     % (n, otk_v, pot_v, rel))
        row = {"n": n, "m": n, "pot_seconds": pot_t, "otkit_seconds": otk_t,
               "pot_median": statistics.median(pot_t), "otkit_median": statistics.median(otk_t),
               "value_pot": pot_v, "value_otkit": otk_v, "relative_difference": rel,
               "otkit_pivots": log["iterations"], "plan_size": int(len(log["plan"][0])),
               "cpu_busy_before": busy}
        row["ratio"] = row["pot_median"] / row["otkit_median"]
        res["rows"].append(row)
    res["load_average_end"] = os.getloadavg()

    lines = ["## otkit vs POT %s: exact OT (network simplex), uniform points in [0,1)^%d, "
             "squared Euclidean" % (ot.__version__, args.d), "",
             "| n = m | POT ot.emd2 median s | otkit.emd2 median s | POT / otkit | "
             "runs POT (s) | runs otkit (s) | otkit pivots | rel. diff of values |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append("| %d | %.3f | %.3f | %.2fx | %s | %s | %d | %.1e |" % (
            r["n"], r["pot_median"], r["otkit_median"], r["ratio"],
            ", ".join("%.3f" % t for t in r["pot_seconds"]),
            ", ".join("%.3f" % t for t in r["otkit_seconds"]), r["otkit_pivots"],
            r["relative_difference"]))
    la0, la1 = res["load_average_start"], res["load_average_end"]
    busy = [b for r in res["rows"] for b in r["cpu_busy_before"]]
    lines += ["", "Both single-threaded, in one Python process, from the same cost matrix M "
              "to the optimal value (timings exclude M).  Machine: %s, %d CPUs; load average "
              "(1 min) %.2f at start, %.2f at end; CPU busy before the repeats %.0f%% to "
              "%.0f%% (a shared machine: other work ran alongside)."
              % (res["machine"], res["cpus"], la0[0], la1[0], 100 * min(busy), 100 * max(busy)),
              "Date %s; numpy %s; otkit %s; `bench/compare_emd.py --sizes %s --repeats %d`."
              % (res["date"], res["numpy_version"], res["otkit_version"], args.sizes,
                 args.repeats)]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".md", "w") as f:
        f.write(text)
    with open(args.out + ".json", "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
