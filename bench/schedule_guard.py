#!/usr/bin/python3
"""schedule_guard.py -- the default schedule (annealing + guard) vs no annealing.

The converge schedule anneals ε and then iterates at the target ε; its guard
(docs/math.md A.5, "The annealing guard") probes a cold start at the target ε
when the annealed run creeps.  This script runs, on the same inputs and in the
same run, the default solve and the --no-annealing solve (and, with
--baseline, the default solve of another bench_sinkhorn binary, e.g. one
built before the guard), and prints the iterations (all updates, annealing
included), the status, the marginal error and the median solve time.

Problems (uniform weights, squared Euclidean cost, threads 1):
  line10     POT's test_empirical_sinkhorn: x = y = 0..9 on a line, eps 0.1,
             tol 1e-9, max_iter 1000 (POT's stopThr and numItermax);
  map6d      200 Gaussian points in 6-D (numpy seed 15) and their images
             under T(x)_k = x_k + 0.02 sin(3 x_{k+1}), eps 0.05, tol 1e-6,
             max_iter 10^4 (the Monge gap's use);
  cube3d     n = m = 1000 points uniform in [0,1)^3 (bench_sinkhorn --seed 1),
             eps 0.01 and 0.001, tol 1e-6, max_iter 10^4.

Usage: schedule_guard.py [--repeats 3] [--baseline BIN] [--json OUT] [--md OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def problems(tmp):
    line = np.arange(10, dtype=float).reshape(10, 1)
    rs = np.random.RandomState(15)
    x6 = rs.randn(200, 6)
    y6 = x6 + 0.02 * np.sin(3.0 * np.roll(x6, -1, axis=1))
    files = {}
    for name, arr in (("line", line), ("x6", x6), ("y6", y6)):
        path = os.path.join(tmp, name + ".f64")
        arr.astype("<f8").tofile(path)
        files[name] = path
    return [
        ("line10", ["--n", "10", "--m", "10", "--d", "1", "--x", files["line"], "--y",
                    files["line"], "--eps", "0.1", "--tol", "1e-9", "--max-iter", "1000"]),
        ("map6d", ["--n", "200", "--m", "200", "--d", "6", "--x", files["x6"], "--y",
                   files["y6"], "--eps", "0.05", "--tol", "1e-6", "--max-iter", "10000"]),
        ("cube3d eps 0.01", ["--n", "1000", "--m", "1000", "--d", "3", "--seed", "1",
                             "--eps", "0.01", "--tol", "1e-6", "--max-iter", "10000"]),
        ("cube3d eps 0.001", ["--n", "1000", "--m", "1000", "--d", "3", "--seed", "1",
                              "--eps", "0.001", "--tol", "1e-6", "--max-iter", "10000"]),
    ]


def run(binary, args, repeats):
    out = []
    for _ in range(repeats):
        p = subprocess.run([binary] + args + ["--threads", "1"], capture_output=True, text=True)
        if p.returncode not in (0, 3):
            sys.exit("schedule_guard: %s failed (%d): %s" % (binary, p.returncode, p.stderr))
        out.append(json.loads(p.stdout))
    r = dict(out[0])
    r["seconds"] = statistics.median(o["seconds"] for o in out)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", help="another bench_sinkhorn binary (its default solve)")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "schedule_guard.json"))
    ap.add_argument("--md", default=os.path.join(HERE, "results", "schedule_guard.md"))
    a = ap.parse_args()
    binary = os.path.join(HERE, "bench_sinkhorn")
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in problems(tmp):
            row = {"problem": name,
                   "default": run(binary, args, a.repeats),
                   "no_annealing": run(binary, args + ["--no-annealing"], a.repeats)}
            if a.baseline:
                row["baseline"] = run(a.baseline, args, a.repeats)
            rows.append(row)
            print(name, {k: (v["iterations"], v["status"], v["seconds"])
                         for k, v in row.items() if k != "problem"}, flush=True)
    cols = [("default", "default (guard)"), ("no_annealing", "no annealing")]
    if a.baseline:
        cols.insert(0, ("baseline", "default before the guard"))
    lines = ["# The default schedule vs no annealing (bench/schedule_guard.py)", "",
             "Iterations = all updates (annealing included); time = median of %d solves "
             "(bench_sinkhorn `seconds`, threads 1); error = relative L1 marginal error."
             % a.repeats,
             "Load average before the run: %.1f on %d CPUs (a shared machine: times are "
             "indicative, iterations exact)." % (load, os.cpu_count()), "",
             "| problem | " + " | ".join("%s: iterations, status, error, time" % c[1]
                                      for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for row in rows:
        cells = []
        for key, _ in cols:
            r = row[key]
            cells.append("%d, %s, %.2g, %.3g s" % (r["iterations"], r["status"],
                                                  r["marginal_error"], r["seconds"]))
        lines.append("| %s | %s |" % (row["problem"], " | ".join(cells)))
    with open(a.md, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(a.json, "w") as f:
        json.dump(rows, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
