#!/usr/bin/env python3
"""The multiscale backend (docs/math.md A.11) at scale: GeomLoss's setting,
3-D clouds, blur 0.01, p = 2 (half squared Euclidean), scaling 0.5, the fixed
schedule (GeomLoss's iterations) or --schedule converge.  On the fixed
schedule the two backends run different iterates (the multiscale annealing
runs on clusters and jumps), so their unconverged values differ by more than
the truncation; --schedule converge isolates the truncation.

  compare  n = m = N_COMPARE: divergence + gradient w.r.t. x with the
           multiscale backend and with the untruncated online one, both run;
           the value and gradient differences against the reported
           truncation bound.
  large    n = m = N_LARGE: divergence + gradient with the multiscale
           backend alone: time and peak resident memory (VmHWM).

Each solve runs in its own child process (so VmHWM is its own), repeated
REPEATS times (medians).  The load average is recorded before each run: the
machine may be shared.  Writes results/multiscale.{md,json}.

  PYTHONPATH=bindings/python /usr/bin/python3 bench/multiscale.py \
      [--compare 100000] [--large 1000000] [--repeats 1] [--threads 0]
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import time

import numpy as np


def clouds(n, seed):
    """x uniform in the unit cube; y uniform in a smaller box shifted along
    the first axis: a transport with a real displacement."""
    r = np.random.default_rng(seed)
    x = r.random((n, 3))
    y = 0.3 + 0.5 * r.random((n, 3))
    y[:, 0] += 0.2
    return x, y


def vmhwm_mib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def child(n, backend, truncate, threads, schedule, tol, queue):
    import otkit
    x, y = clouds(n, 0)
    t0 = time.perf_counter()
    res = otkit.divergence(x, y, blur=0.01, p=2, scaling=0.5, schedule=schedule, tol=tol,
                           backend=backend, truncate=truncate, grad=("x",), threads=threads,
                           warn=False)
    seconds = time.perf_counter() - t0
    queue.put(dict(value=res.value, grad_x=res.grad_x.tolist() if n <= 200000 else None,
                   seconds=seconds, vmhwm_mib=vmhwm_mib(), backend=res.backend,
                   truncation_bound=res.truncation_bound, iterations=res.iterations,
                   marginal_error=res.marginal_error))


def run(n, backend, truncate, threads, schedule="fixed", tol=1e-6):
    q = mp.get_context("fork").Queue()
    load = os.getloadavg()[0]
    p = mp.get_context("fork").Process(target=child, args=(n, backend, truncate, threads, schedule,
                                                                tol, q))
    p.start()
    out = q.get()
    p.join()
    out["load_before"] = load
    out["load_after"] = os.getloadavg()[0]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", type=int, default=100000)
    ap.add_argument("--large", type=int, default=1000000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--truncate", type=float, default=12.0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--schedule", default="fixed",
                    help="fixed (GeomLoss's iterations) or converge (to --tol): the comparison "
                         "isolates the truncation only when both solves converge")
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "multiscale"))
    args = ap.parse_args()
    record = dict(setting="3-D, blur 0.01, p = 2 (half-sqeuclidean), scaling 0.5, %s "
                  "schedule%s, truncate %g" % (args.schedule, " (tol %g)" % args.tol
                                               if args.schedule == "converge" else "",
                                               args.truncate), cpus=os.cpu_count(),
                  threads=args.threads, runs={})
    rows = []
    if args.compare > 0:
        ms = [run(args.compare, "multiscale", args.truncate, args.threads, args.schedule,
                  args.tol) for _ in range(args.repeats)]
        on = [run(args.compare, "online", args.truncate, args.threads, args.schedule, args.tol)
              for _ in range(args.repeats)]
        gm, go = np.asarray(ms[0]["grad_x"]), np.asarray(on[0]["grad_x"])
        dv = abs(ms[0]["value"] - on[0]["value"])
        dg = float(np.abs(gm - go).max())
        record["runs"]["compare"] = dict(
            n=args.compare, value_multiscale=ms[0]["value"], value_online=on[0]["value"],
            value_diff=dv, value_rel_diff=dv / abs(on[0]["value"]), grad_max_diff=dg,
            grad_max=float(np.abs(go).max()), truncation_bound=ms[0]["truncation_bound"],
            seconds_multiscale=statistics.median(r["seconds"] for r in ms),
            seconds_online=statistics.median(r["seconds"] for r in on),
            vmhwm_mib_multiscale=max(r["vmhwm_mib"] for r in ms),
            vmhwm_mib_online=max(r["vmhwm_mib"] for r in on),
            load=[r["load_before"] for r in ms + on])
        c = record["runs"]["compare"]
        rows.append("| %d | multiscale | %.1f | %.0f | %.3g | %.3g | %.3g | %.1f |"
                    % (args.compare, c["seconds_multiscale"], c["vmhwm_mib_multiscale"],
                       c["truncation_bound"], c["value_rel_diff"],
                       c["grad_max_diff"] / c["grad_max"], ms[0]["load_before"]))
        rows.append("| %d | online | %.1f | %.0f | | | | %.1f |"
                    % (args.compare, c["seconds_online"], c["vmhwm_mib_online"],
                       on[0]["load_before"]))
    if args.large > 0:
        big = [run(args.large, "multiscale", args.truncate, args.threads, args.schedule,
                   args.tol) for _ in range(args.repeats)]
        for r in big:
            r.pop("grad_x", None)
        record["runs"]["large"] = dict(n=args.large, runs=big,
                                       seconds=statistics.median(r["seconds"] for r in big),
                                       vmhwm_mib=max(r["vmhwm_mib"] for r in big))
        b = record["runs"]["large"]
        rows.append("| %d | multiscale | %.1f | %.0f | %.3g | | | %.1f |"
                    % (args.large, b["seconds"], b["vmhwm_mib"], big[0]["truncation_bound"],
                       big[0]["load_before"]))
    table = ["| n = m | backend | seconds (divergence + grad_x) | VmHWM MiB | "
             "truncation_bound | value rel. diff | grad diff / max | load before |",
             "|---|---|---|---|---|---|---|---|"] + rows
    with open(args.out + ".json", "w") as fh:
        json.dump(record, fh, indent=1)
    with open(args.out + ".md", "w") as fh:
        fh.write("# Multiscale backend (bench/multiscale.py)\n\n%s; %d CPUs, threads %d "
                 "(0 = OpenMP's default).\n\n" % (record["setting"], os.cpu_count(),
                                                   args.threads))
        fh.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
