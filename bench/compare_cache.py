#!/usr/bin/python3
"""compare_cache.py -- a point-cloud cost computed on the fly vs kept in memory.

otk_cost_points computes c(x_i, y_j) inside the log-sum-exp kernel in every
pass (memory O((n+m)d)); otk_cost_points_cache keeps the n x m matrix instead
(8nm bytes) and streams it.  Which is faster depends on d: computing a cost
entry costs d subtractions and multiply-adds, reading one costs 8 bytes of
memory bandwidth.  This script times both on the same problem, in the same
run, interleaved, and prints the median time per Sinkhorn iteration and the
ratio (on the fly / kept: > 1 means the kept matrix is faster).

Problem: n = m points uniform in [0,1)^d (bench_sinkhorn --seed 1),
sqeuclidean cost, eps = 0.01 d (the mean cost is d/6), no annealing, a fixed
number of iterations (--iters, tol 1e-300 so that it is not met; a run that
reaches a zero marginal error early stops there: seconds are per iteration).
The setup time (copying points; for the kept matrix also filling it) is
reported apart.  Results agree to 1e-10 (relative) or the script fails.

Usage: compare_cache.py [--n 4096] [--dims 2,4,8,16,64] [--threads 1,2]
                        [--iters 100] [--repeats 5] [--json OUT] [--md OUT]
                        [--wait-idle SECONDS]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_busy(interval=1.0):
    """Share of the CPUs busy during `interval` seconds (from /proc/stat)."""
    def snap():
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]
    t0, i0 = snap()
    time.sleep(interval)
    t1, i1 = snap()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1e-9)


def wait_idle(limit):
    """Wait up to `limit` seconds for the CPUs to be < 10 % busy; return the last reading."""
    deadline = time.time() + limit
    busy = cpu_busy()
    while busy > 0.10 and time.time() < deadline:
        busy = cpu_busy()
    return busy


def run(n, d, threads, iters, cache):
    cmd = [os.path.join(HERE, "bench_sinkhorn"), "--n", str(n), "--m", str(n), "--d", str(d),
           "--seed", "1", "--eps", repr(0.01 * d), "--no-annealing", "--tol", "1e-300",
           "--max-iter", str(iters), "--threads", str(threads)]
    if cache:
        cmd.append("--cache")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 3):
        sys.exit("compare_cache.py: %s failed (%d): %s" % (" ".join(cmd), proc.returncode,
                                                            proc.stderr))
    return json.loads(proc.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--dims", default="2,4,8,16,64")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--iters", type=int, default=100)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--wait-idle", type=float, default=0.0,
                   help="seconds to wait for idle CPUs before each repeat (0: do not wait)")
    p.add_argument("--json")
    p.add_argument("--md")
    args = p.parse_args()
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for d in [int(v) for v in args.dims.split(",")]:
            per = {False: [], True: []}
            setup = {False: [], True: []}
            busy = []
            first = {}
            for _ in range(args.repeats):
                busy.append(wait_idle(args.wait_idle) if args.wait_idle > 0 else cpu_busy(0.2))
                for cache in (False, True):  # interleaved: drift hits both alike
                    out = run(args.n, d, threads, args.iters, cache)
                    per[cache].append(out["seconds"] / out["iterations"])
                    setup[cache].append(out["setup_seconds"])
                    first.setdefault(cache, out)
            a, b = first[False], first[True]
            if a["iterations"] != b["iterations"] or \
                    abs(a["ot_ent"] - b["ot_ent"]) > 1e-10 * abs(a["ot_ent"]):
                sys.exit("compare_cache.py: d = %d: results differ: %r vs %r"
                         % (d, (a["iterations"], a["ot_ent"]), (b["iterations"], b["ot_ent"])))
            lazy, kept = statistics.median(per[False]), statistics.median(per[True])
            rows.append({"n": args.n, "d": d, "threads": threads, "iterations": a["iterations"],
                         "ms_per_iter_on_the_fly": 1e3 * lazy, "ms_per_iter_kept": 1e3 * kept,
                         "ratio": lazy / kept,
                         "setup_s_on_the_fly": statistics.median(setup[False]),
                         "setup_s_kept": statistics.median(setup[True]),
                         "cache_mib": b["cache_bytes"] / 2**20, "max_cpu_busy_before": max(busy),
                         "runs_ms_on_the_fly": [1e3 * v for v in per[False]],
                         "runs_ms_kept": [1e3 * v for v in per[True]]})
            r = rows[-1]
            print("n=%d d=%d threads=%d: %.2f ms/iter on the fly, %.2f ms/iter kept, ratio %.2f"
                  % (args.n, d, threads, r["ms_per_iter_on_the_fly"], r["ms_per_iter_kept"],
                     r["ratio"]), flush=True)
    md = ["Point-cloud cost on the fly vs kept in memory (otk_cost_points_cache): "
          "n = m = %d uniform points in [0,1)^d, sqeuclidean, eps = 0.01 d, no annealing, "
          "%d iterations, medians of %d interleaved runs (bench/compare_cache.py). "
          "ratio > 1: the kept matrix is faster." % (args.n, args.iters, args.repeats),
          "",
          "| d | threads | on the fly ms/iter | kept ms/iter | ratio | fill + setup s (kept) "
          "| matrix MiB | CPU busy before |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append("| %d | %d | %.2f | %.2f | %.2f | %.3f | %.0f | %.0f %% |"
                  % (r["d"], r["threads"], r["ms_per_iter_on_the_fly"], r["ms_per_iter_kept"],
                     r["ratio"], r["setup_s_kept"], r["cache_mib"],
                     100 * r["max_cpu_busy_before"]))
    text = "\n".join(md) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "loadavg": os.getloadavg()}, f, indent=1)


if __name__ == "__main__":
    main()
