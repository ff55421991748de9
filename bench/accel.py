#!/usr/bin/python3
"""Iterations and time of otkit's Sinkhorn update rules on a set of problems.

Which update the converge schedule runs by default (OTK_UPDATE_AUTO,
docs/math.md A.9) was chosen from this table.  Each problem is solved by
`otk sinkhorn` (the built tool of this tree, one thread, tol 1e-6, the
default converge schedule) with --update alternating, overrelaxed,
translated and accelerated; the table gives all updates run (annealing
included), the status, and the median solve time ("seconds" of the JSON)
over --repeats runs.  Problems:

  line10        POT's test_empirical_sinkhorn: 10 points 0..9 on a line
                against themselves, sqeuclidean, eps = 0.1
  pot2d-50      50 + 50 uniform points in [0,1)^2, eps = 0.1 (POT test size)
  2d/3d-N eps   N + N uniform points in [0,1)^d (targets shifted by 0.1),
                eps = 1e-1, 1e-2, 1e-3
  unb rho=R     the 3-D clouds with rho = R on both sides

The issue's unbalanced target (rho = 100, eps = 1e-3, 3-D, n = m = 1000:
iterations within 2x of the balanced solve) is the last group, with
--target-n points.  Results: bench/results/accel.{md,json}.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
UPDATES = ("alternating", "overrelaxed", "translated", "accelerated")


def solve(otk, x, y, eps, update, rho, repeats, max_iter, tmp):
    xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(xp, x)
    np.save(yp, y)
    cmd = [otk, "sinkhorn", xp, yp, "--eps", repr(eps), "--update", update, "--tol", "1e-6",
           "--threads", "1", "--max-iter", str(max_iter)]
    if rho is not None:
        cmd += ["--rho", repr(rho)]
    times, out = [], None
    for _ in range(repeats):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode not in (0, 3):
            raise SystemExit("otk failed: %s\n%s" % (" ".join(cmd), r.stderr))
        out = json.loads(r.stdout)
        times.append(out["seconds"])
    return {"iterations": out["iterations"], "status": out["status"],
            "marginal_error": out["marginal_error"], "ot_kl": out["ot_kl"],
            "seconds": statistics.median(times)}


def problems(n, target_n):
    rs = np.random.RandomState(0)
    line = np.arange(10.0).reshape(-1, 1)
    yield "line10", line, line, 0.1, None
    x, y = rs.rand(50, 2), rs.rand(50, 2)
    yield "pot2d-50", x, y, 0.1, None
    for d in (2, 3):
        x, y = rs.rand(n, d), rs.rand(n, d) + 0.1
        for eps in (1e-1, 1e-2, 1e-3):
            yield "%dd-%d eps=%g" % (d, n, eps), x, y, eps, None
    for eps in (1e-2, 1e-3):
        for rho in (1.0, 100.0):
            yield "3d-%d eps=%g rho=%g" % (n, eps, rho), x, y, eps, rho
    x, y = rs.rand(target_n, 3), rs.rand(target_n, 3) + 0.1
    yield "target 3d-%d eps=0.001" % target_n, x, y, 1e-3, None
    yield "target 3d-%d eps=0.001 rho=100" % target_n, x, y, 1e-3, 100.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=300, help="points per side (default 300)")
    p.add_argument("--target-n", type=int, default=1000,
                   help="points per side of the unbalanced target (default 1000)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs (default 3)")
    p.add_argument("--max-iter", type=int, default=10000)
    p.add_argument("--otk", default=os.path.join(TOP, "otk"))
    args = p.parse_args()
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, x, y, eps, rho in problems(args.n, args.target_n):
            reps = 1 if name.startswith("target") else args.repeats
            row = {"problem": name, "eps": eps, "rho": rho, "n": len(x), "d": x.shape[1]}
            for u in UPDATES:
                if rho is None and u == "translated":
                    continue  # bitwise alternating when balanced
                row[u] = solve(args.otk, x, y, eps, u, rho, reps, args.max_iter, tmp)
            rows.append(row)
            print(name, {u: row[u]["iterations"] for u in UPDATES if u in row}, flush=True)
    load_after = os.getloadavg()[0]
    res = {"date": datetime.datetime.utcnow().isoformat() + "Z", "load_before": load,
           "load_after": load_after, "cpus": os.cpu_count(), "tol": 1e-6,
           "max_iter": args.max_iter, "repeats": args.repeats, "rows": rows}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "accel.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    md = ["# Update rules of the converge schedule (bench/accel.py)", "",
          "Iterations = all updates (annealing included), tol 1e-6, max_iter %d at the target;"
          " time = median of %d solves (`otk sinkhorn` seconds, 1 thread; the target rows:"
          " one).  Load average %.1f before, %.1f after, on %d CPUs (shared machine: times"
          " indicative, iterations exact).  `translated` is bitwise `alternating` on"
          " balanced problems (not run).  nc = not converged." % (
              args.max_iter, args.repeats, load, load_after, os.cpu_count()), "",
          "| problem | " + " | ".join(UPDATES) + " | accelerated/alternating its |",
          "|---|" + "---|" * (len(UPDATES) + 1)]
    for row in rows:
        cells = []
        for u in UPDATES:
            r = row.get(u)
            cells.append("–" if r is None else "%d%s, %.3g s" % (
                r["iterations"], "" if r["status"] == "ok" else " nc", r["seconds"]))
        ratio = row["accelerated"]["iterations"] / row["alternating"]["iterations"]
        md.append("| %s | %s | %.2f |" % (row["problem"], " | ".join(cells), ratio))
    t_bal = next(r for r in rows if r["problem"].startswith("target") and r["rho"] is None)
    t_unb = next(r for r in rows if r["problem"].startswith("target") and r["rho"] is not None)
    md += ["", "Unbalanced target (rho = 100, eps = 1e-3, 3-D, n = m = %d): accelerated %d "
           "updates against %d for the balanced accelerated solve (ratio %.2f; the issue asks "
           "<= 2); plain alternating unbalanced: %d (%s)." % (
               args.target_n, t_unb["accelerated"]["iterations"],
               t_bal["accelerated"]["iterations"],
               t_unb["accelerated"]["iterations"] / t_bal["accelerated"]["iterations"],
               t_unb["alternating"]["iterations"], t_unb["alternating"]["status"]), "",
           "JSON: results/accel.json"]
    with open(os.path.join(HERE, "results", "accel.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
