#!/usr/bin/python3
"""Time otkit's Sinkhorn against POT's log-domain Sinkhorn on the same problem.

Problem: n = m points uniform in the unit cube [0,1)^3 (np.random.RandomState),
uniform weights, cost |x - y|^2 (ot.dist's default "sqeuclidean"), eps = 0.01.

  POT    ot.sinkhorn2(a, b, M, eps, method="sinkhorn_log", stopThr=TOL,
         numItermax=100000, log=True) on a precomputed M = ot.dist(x, y).
         log=True changes no computation (the errors POT computes anyway are
         appended to a list) and returns log u, log v and the iteration count.
         "POT solve" times sinkhorn2 alone; "POT dist+solve" adds ot.dist.
  otkit  bench/bench_sinkhorn on the same points (raw float64 files), same eps,
         tol = TOL, converge schedule (eps-annealing, then the default updates:
         accelerated alternating, docs/math.md A.9),
         threads = 2 and threads = 1.  Its "seconds" is otk_sinkhorn_solve alone;
         the cost is computed on the fly, so setup (copying the points, the
         diameter) is reported separately and is tiny.

Stopping criteria differ.  POT stops when the L2 norm of the column-marginal
violation, ||P^T 1 - b||_2, checked every 10th iteration, is < stopThr.  otkit
stops when ||P 1 - a||_1 / sum(a) + ||P^T 1 - b||_1 / sum(b) <= tol.  With unit
masses the L1 norm bounds the L2 norm, so otkit's test is at least as strict for
the same number; the script checks this by computing otkit's error for POT's
returned plan and prints both.

Each timing is repeated (--repeats for otkit, --repeats-pot for POT) and the
median is reported; speed-up = POT median / otkit median, in the same run.
Results go to stdout as a markdown table and to bench/results/sinkhorn_vs_pot.json.

Run with Debian's /usr/bin/python3 (numpy 1.24, POT 0.8.2).  OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE, which slow numpy on this machine, are removed from the
environment: the script re-executes itself without them and records that.
"""

import os
import sys

_SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _SLOW_BLAS_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _SLOW_BLAS_VARS}
    _env["OTK_BENCH_REMOVED_ENV"] = " ".join(
        "%s=%s" % (v, os.environ[v]) for v in _SLOW_BLAS_VARS if v in os.environ)
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse
import contextlib
import datetime
import io
import json
import platform
import resource
import statistics
import subprocess
import tempfile
import time

import numpy as np
import ot

HERE = os.path.dirname(os.path.abspath(__file__))
EPS = 0.01
D = 3


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="2000,4000",
                   help="comma-separated n (= m), default 2000,4000")
    p.add_argument("--tol", type=float, default=1e-9,
                   help="POT's stopThr and otkit's tol (default 1e-9)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed runs of otkit per size and thread count (default 3)")
    p.add_argument("--repeats-pot", type=int, default=None,
                   help="timed runs of POT per size (default: --repeats for n <= 2000, "
                        "1 above, where one POT run takes minutes)")
    p.add_argument("--threads", default="2,1",
                   help="otkit thread counts, comma-separated (default 2,1)")
    p.add_argument("--check-tol", type=float, default=1e-12,
                   help="after the timed runs, one run of each (not repeated) at this tighter "
                        "tolerance, to tell a convergence-criterion difference from a "
                        "real one (default 1e-12; 0 = skip)")
    p.add_argument("--seed", type=int, default=0, help="RandomState seed (default 0)")
    p.add_argument("--pot-max-iter", type=int, default=100000,
                   help="POT numItermax (default 100000); otkit's max_iter is the same")
    p.add_argument("--bench", default=os.path.join(HERE, "bench_sinkhorn"),
                   help="path of the bench_sinkhorn program")
    p.add_argument("--json", default=os.path.join(HERE, "results", "sinkhorn_vs_pot.json"),
                   help="where to write the JSON results ('' = do not write)")
    p.add_argument("--wait-idle", type=float, default=0.0,
                   help="before each size, wait up to this many seconds for the machine "
                        "to be idle (other processes using < 10%% CPU) before each "
                        "repeat; default 0")
    return p.parse_args()


# ------------------------------------------------------------------ machine

def cpu_busy_fraction(interval=1.0):
    """Fraction of all CPU time spent busy over `interval` seconds (/proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def wait_idle(limit):
    """Wait up to `limit` seconds for < 10% CPU use; return the last busy fraction."""
    deadline = time.monotonic() + limit
    busy = cpu_busy_fraction()
    while busy > 0.10 and time.monotonic() < deadline:
        time.sleep(5)
        busy = cpu_busy_fraction()
    return busy


def cpu_info():
    model, flags = "unknown", set()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                model = value.strip()
            elif key.strip() == "Flags":
                flags = set(value.split())
    except (OSError, subprocess.CalledProcessError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    return model, flags


def otkit_kernel_isa(flags):
    """The kernel table otkit's dispatcher (solvers/core/kernels_dispatch.c) picks:
    the widest ISA both compiled into libotkit.a and supported by the CPU,
    unless OTK_KERNELS forces a narrower one.  The library does not report its
    choice, so this reproduces the rule from the symbols present."""
    lib = os.path.join(HERE, "..", ".libs", "libotkit.a")
    try:
        syms = subprocess.run(["nm", lib], capture_output=True, text=True).stdout
    except OSError:
        syms = ""
    compiled = [isa for isa in ("avx512", "avx2")
                if (" D otk__kernels_%s" % isa) in syms]
    force = os.environ.get("OTK_KERNELS")
    if "avx512" in compiled and force in (None, "avx512") and \
            {"avx512f", "avx512dq", "fma"} <= flags:
        chosen = "avx512"
    elif "avx2" in compiled and force != "generic" and {"avx2", "fma"} <= flags:
        chosen = "avx2"
    else:
        chosen = "generic"
    return chosen, compiled + ["generic"], force


def otkit_build(bench):
    """Which library the (statically linked) driver was built from: the tree is
    edited concurrently, so record the commit, the uncommitted library sources
    and the build times."""
    root = os.path.join(HERE, "..")

    def git(*cmd):
        try:
            return subprocess.run(["git", "-C", root] + list(cmd), capture_output=True,
                                  text=True).stdout.strip()
        except OSError:
            return ""

    def mtime(path):
        try:
            return datetime.datetime.fromtimestamp(
                os.path.getmtime(path), datetime.timezone.utc).isoformat(timespec="seconds")
        except OSError:
            return None

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted_library_sources": git("status", "--porcelain", "--", "solvers",
                                               "include").splitlines(),
            "libotkit_a_mtime": mtime(os.path.join(root, ".libs", "libotkit.a")),
            "bench_sinkhorn_mtime": mtime(bench)}


def numpy_config():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        np.show_config()
    blas_libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            base = os.path.basename(path)
            if ("blas" in base or "lapack" in base) and ".cpython-" not in base:
                blas_libs.add(os.path.realpath(path))
    return buf.getvalue(), sorted(blas_libs)


# ------------------------------------------------------------------ runs

def relative_l1_error(P, a, b):
    """otkit's marginal error for a plan P: ||P1 - a||_1/|a| + ||P^T1 - b||_1/|b|."""
    return (np.abs(P.sum(1) - a).sum() / a.sum() +
            np.abs(P.sum(0) - b).sum() / b.sum())


def run_pot(x, y, a, b, tol, max_iter):
    t0 = time.perf_counter()
    M = ot.dist(x, y)
    t1 = time.perf_counter()
    c1 = time.process_time()
    value, log = ot.sinkhorn2(a, b, M, EPS, method="sinkhorn_log", stopThr=tol,
                              numItermax=max_iter, log=True)
    t2 = time.perf_counter()
    c2 = time.process_time()
    # The plan from the returned log-scalings, as sinkhorn_log builds it.
    P = np.exp(-M / EPS + log["log_u"][:, None] + log["log_v"][None, :])
    return {
        "dist_seconds": t1 - t0,
        "solve_seconds": t2 - t1,
        "solve_cpu_seconds": c2 - c1,
        "dist_solve_seconds": t2 - t0,
        # POT's loop counter at the break: iterations run = niter + 1.
        "iterations": int(log["niter"]) + 1,
        "ot_lin": float(value),
        "pot_error_l2_col": float(log["err"][-1]),
        "l1_error": float(relative_l1_error(P, a, b)),
    }


def run_otkit(bench, n, x_path, y_path, tol, max_iter, threads):
    cmd = [bench, "--n", str(n), "--m", str(n), "--d", str(D), "--x", x_path, "--y", y_path,
           "--cost", "sqeuclidean", "--eps", repr(EPS), "--tol", repr(tol),
           "--max-iter", str(max_iter), "--threads", str(threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 3):
        sys.exit("bench_sinkhorn failed (%d): %s" % (proc.returncode, proc.stderr))
    out = json.loads(proc.stdout)
    # CPU time of the whole process (reading the points included): with the
    # wall time it shows whether the run had its cores to itself.
    out["process_cpu_seconds"] = (after.ru_utime - before.ru_utime +
                                  after.ru_stime - before.ru_stime)
    return out


def median(values):
    return statistics.median(values)


def bench_size(args, n, repeats_pot, thread_counts):
    rs = np.random.RandomState(args.seed)
    x = rs.rand(n, D)
    y = rs.rand(n, D)
    a = np.full(n, 1.0 / n)
    b = np.full(n, 1.0 / n)
    load_before = os.getloadavg()
    busy_seen = []

    with tempfile.TemporaryDirectory(prefix="otk_bench_") as tmp:
        x_path = os.path.join(tmp, "x.f64")
        y_path = os.path.join(tmp, "y.f64")
        x.astype("<f8").tofile(x_path)
        y.astype("<f8").tofile(y_path)

        otk_runs = {t: [] for t in thread_counts}
        pot_runs = []
        # Interleave the peers so that drift in machine load hits both alike.
        for r in range(max(args.repeats, repeats_pot)):
            busy_seen.append(wait_idle(args.wait_idle) if args.wait_idle > 0
                             else cpu_busy_fraction())
            if r < args.repeats:
                for t in thread_counts:
                    otk_runs[t].append(run_otkit(args.bench, n, x_path, y_path, args.tol,
                                                 args.pot_max_iter, t))
            if r < repeats_pot:
                pot_runs.append(run_pot(x, y, a, b, args.tol, args.pot_max_iter))
            print("  n=%d repeat %d done" % (n, r + 1), file=sys.stderr, flush=True)
        check = None
        if args.check_tol > 0:
            if args.wait_idle > 0:
                busy_seen.append(wait_idle(args.wait_idle))
            pc = run_pot(x, y, a, b, args.check_tol, args.pot_max_iter)
            oc = run_otkit(args.bench, n, x_path, y_path, args.check_tol, args.pot_max_iter,
                           thread_counts[0])
            check = {"tol": args.check_tol, "pot_ot_lin": pc["ot_lin"],
                     "pot_iterations": pc["iterations"], "pot_error_l2_col": pc["pot_error_l2_col"],
                     "pot_error_rel_l1": pc["l1_error"], "pot_solve_seconds": pc["solve_seconds"],
                     "otkit_ot_lin": oc["ot_lin"], "otkit_iterations": oc["iterations"],
                     "otkit_error_rel_l1": oc["marginal_error"], "otkit_status": oc["status"],
                     "otkit_threads": thread_counts[0], "otkit_solve_seconds": oc["seconds"],
                     "ot_lin_rel_diff": abs(oc["ot_lin"] - pc["ot_lin"]) / abs(pc["ot_lin"])}
            print("  n=%d check at tol %g done" % (n, args.check_tol), file=sys.stderr,
                  flush=True)

    pot = {
        "repeats": repeats_pot,
        "solve_seconds_median": median([p["solve_seconds"] for p in pot_runs]),
        "dist_seconds_median": median([p["dist_seconds"] for p in pot_runs]),
        "dist_solve_seconds_median": median([p["dist_solve_seconds"] for p in pot_runs]),
        "solve_seconds_all": [p["solve_seconds"] for p in pot_runs],
        "solve_cpu_seconds_all": [p["solve_cpu_seconds"] for p in pot_runs],
        "iterations": pot_runs[0]["iterations"],
        "ot_lin": pot_runs[0]["ot_lin"],
        "error_l2_col": pot_runs[0]["pot_error_l2_col"],
        "error_rel_l1": pot_runs[0]["l1_error"],
    }
    otk = {}
    for t, runs in otk_runs.items():
        first = runs[0]
        otk[str(t)] = {
            "repeats": len(runs),
            "solve_seconds_median": median([r["seconds"] for r in runs]),
            "setup_seconds_median": median([r["setup_seconds"] for r in runs]),
            "solve_seconds_all": [r["seconds"] for r in runs],
            "process_cpu_seconds_all": [r["process_cpu_seconds"] for r in runs],
            "iterations": first["iterations"],
            "annealing_iterations": first["annealing_iterations"],
            "ot_lin": first["ot_lin"],
            "ot_kl": first["ot_kl"],
            "error_rel_l1": first["marginal_error"],
            "status": first["status"],
            "speedup_vs_pot_solve": pot["solve_seconds_median"] / median(
                [r["seconds"] for r in runs]),
            "speedup_vs_pot_dist_solve": pot["dist_solve_seconds_median"] / median(
                [r["seconds"] + r["setup_seconds"] for r in runs]),
            "ot_lin_rel_diff_vs_pot": abs(first["ot_lin"] - pot["ot_lin"]) / abs(pot["ot_lin"]),
            # Same inputs, so any thread count must give the bitwise same values.
            "values_identical_across_repeats": len({(r["ot_lin"], r["iterations"])
                                                    for r in runs}) == 1,
        }
    return {"n": n, "m": n, "d": D, "eps": EPS, "tol": args.tol,
            "cpu_busy_before": max(busy_seen), "cpu_busy_before_each_repeat": busy_seen, "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(), "pot": pot, "otkit": otk, "check": check}


# ------------------------------------------------------------------ report

def markdown_tables(results, thread_counts):
    lines = []
    head = ["n", "POT repeats", "POT solve s", "POT dist+solve s"]
    for t in thread_counts:
        head += ["otkit %dT s" % t, "speed-up %dT" % t]
    head += ["POT its", "otkit its (anneal)"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for res in results:
        pot, otk = res["pot"], res["otkit"]
        row = [str(res["n"]), str(pot["repeats"]), "%.3f" % pot["solve_seconds_median"],
               "%.3f" % pot["dist_solve_seconds_median"]]
        for t in thread_counts:
            o = otk[str(t)]
            row += ["%.3f" % o["solve_seconds_median"], "%.2f×" % o["speedup_vs_pot_solve"]]
        o = otk[str(thread_counts[0])]
        row += [str(pot["iterations"]), "%d (%d)" % (o["iterations"], o["annealing_iterations"])]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    head = ["n", "POT ot_lin", "otkit ot_lin", "rel. diff", "POT err L2(col)",
            "POT err rel-L1", "otkit err rel-L1"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for res in results:
        pot, o = res["pot"], res["otkit"][str(thread_counts[0])]
        row = [str(res["n"]), "%.12g" % pot["ot_lin"], "%.12g" % o["ot_lin"],
               "%.2e" % o["ot_lin_rel_diff_vs_pot"], "%.2e" % pot["error_l2_col"],
               "%.2e" % pot["error_rel_l1"], "%.2e" % o["error_rel_l1"]]
        lines.append("| " + " | ".join(row) + " |")
    checks = [r for r in results if r["check"]]
    if checks:
        lines.append("")
        lines.append("Agreement check, one run each (not repeated) with stopThr = tol = %g:"
                     % checks[0]["check"]["tol"])
        lines.append("")
        head = ["n", "POT ot_lin", "otkit ot_lin", "rel. diff", "POT its", "otkit its",
                "POT err rel-L1", "otkit err rel-L1", "POT s", "otkit %dT s"
                % checks[0]["check"]["otkit_threads"]]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for res in checks:
            c = res["check"]
            row = [str(res["n"]), "%.15g" % c["pot_ot_lin"], "%.15g" % c["otkit_ot_lin"],
                   "%.2e" % c["ot_lin_rel_diff"], str(c["pot_iterations"]),
                   str(c["otkit_iterations"]), "%.2e" % c["pot_error_rel_l1"],
                   "%.2e" % c["otkit_error_rel_l1"], "%.3f" % c["pot_solve_seconds"],
                   "%.3f" % c["otkit_solve_seconds"]]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    args = parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    thread_counts = [int(t) for t in args.threads.split(",") if t]
    if not os.access(args.bench, os.X_OK):
        sys.exit("%s not found: run `make` in bench/ first" % args.bench)

    model, flags = cpu_info()
    isa, compiled, forced = otkit_kernel_isa(flags)
    np_config, blas_libs = numpy_config()

    results = []
    for n in sizes:
        rp = args.repeats_pot if args.repeats_pot is not None else (
            args.repeats if n <= 2000 else 1)
        print("n=%d: POT x%d, otkit x%d per thread count" % (n, rp, args.repeats),
              file=sys.stderr, flush=True)
        results.append(bench_size(args, n, rp, thread_counts))

    print("## otkit vs POT %s: log-domain Sinkhorn, d=%d, uniform cube, sqeuclidean, "
          "eps=%g, tol=stopThr=%g" % (ot.__version__, D, EPS, args.tol))
    print()
    print(markdown_tables(results, thread_counts))
    print()
    print("Times are medians over the repeats shown (otkit: %d each); speed-up = POT solve "
          "median / otkit solve median." % args.repeats)
    print("POT solve = ot.sinkhorn2(method='sinkhorn_log') on a precomputed M; otkit computes "
          "the cost on the fly (setup %.1e s).  POT dist alone: %s s."
          % (max(r["otkit"][str(thread_counts[0])]["setup_seconds_median"] for r in results),
             ", ".join("%.3f" % r["pot"]["dist_seconds_median"] for r in results)))
    print("Stopping: POT tests ||P^T1-b||_2 < stopThr every 10th iteration; otkit tests "
          "||P1-a||_1/|a| + ||P^T1-b||_1/|b| <= tol every iteration (at least as strict "
          "for unit masses: 'POT err rel-L1' is otkit's measure applied to POT's plan).")
    print("otkit its = all updates, annealing included (in parentheses); POT has no "
          "annealing.")
    print("Machine: %s, %d CPUs, avx2=%s avx512f=%s, otkit kernels: %s; numpy %s, BLAS %s; "
          "removed env: %s"
          % (model, os.cpu_count(), "avx2" in flags, "avx512f" in flags, isa, np.__version__,
             ", ".join(blas_libs) or "?", os.environ.get("OTK_BENCH_REMOVED_ENV", "none")))
    for r in results:
        if r["cpu_busy_before"] > 0.10:
            print("WARNING: n=%d: the CPUs were up to %.0f%% busy (load %.2f at start): other "
                  "processes were running before a repeat; timings are noisy."
                  % (r["n"], 100 * r["cpu_busy_before"], r["loadavg_before"][0]))

    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        report = {
            "benchmark": "otkit vs POT log-domain Sinkhorn",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "problem": {"d": D, "points": "uniform in [0,1)^3, np.random.RandomState(%d): x "
                        "then y" % args.seed, "weights": "uniform", "cost": "sqeuclidean",
                        "eps": EPS, "tol": args.tol, "max_iter": args.pot_max_iter},
            "machine": {
                "nproc": os.cpu_count(),
                "cpu_model": model,
                "avx2": "avx2" in flags,
                "avx512f": "avx512f" in flags,
                "otkit_kernels_chosen": isa,
                "otkit_kernels_compiled": compiled,
                "OTK_KERNELS": forced,
                "kernel": platform.release(),
                "python": platform.python_version(),
            },
            "numpy": {"version": np.__version__, "blas_loaded": blas_libs,
                      "show_config": np_config,
                      "removed_env": os.environ.get("OTK_BENCH_REMOVED_ENV", ""),
                      "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
            "pot_version": ot.__version__,
            "otkit_build": otkit_build(args.bench),
            "results": results,
        }
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        print("JSON: %s" % os.path.relpath(args.json))


if __name__ == "__main__":
    main()
