#!/usr/bin/python3
"""SinKD loss forward + backward: otkit against the plain PyTorch reference.

The reference is the SinKD code's algorithm (docs/math.md D.1, D.3) in float64 on
the CPU: softmax at tau, W = torch.cdist(p_s, p_t, p=1), K = exp(-W/eps), `iters`
row-then-column normalisations in the kernel domain, loss = c_w * sum(P * W),
gradient w.r.t. the student logits by autograd (teacher frozen).  otkit runs
`bench_sinkd` (otk_sinkd_loss with grad_s, unrolled adjoint, workspace
allocated once outside the timing) on the same logits, same thread count.
Medians over repeats; the agreement of the loss and of the whole gradient is
checked on every size.  Prints a markdown table and writes
bench/results/sinkd_vs_torch.md and .json.

    /usr/bin/python3 bench/compare_sinkd_torch.py [--sizes 32x2,256x100,1024x1000,4096x50000]
        [--threads 2] [--repeats 5] [--repeats-large 1] [--tau 2] [--eps 0.1]
        [--iters 20] [--seed 0]

Sizes with B*B*K above --large (default 1e10) are "large": timed --repeats-large
times (default 1).  (4096, 50000) is 4096^2 * 50000 = 8.4e11 l1 terms in the
forward pass and as many in the backward pass, for each implementation: it
takes many minutes on 2 cores (and about 2 x 1.6 GB of logits plus PyTorch's
saved tensors in memory); leave it out with --sizes when that is too long.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SIZES = "32x2,256x100,1024x1000,4096x50000"


def torch_sinkd(zs_np, zt_np, tau, eps, iters, weight):
    """The reference algorithm with autograd; returns (loss, grad_s)."""
    zs = torch.from_numpy(zs_np).requires_grad_(True)
    zt = torch.from_numpy(zt_np)  # the teacher is frozen
    ps = torch.softmax(zs / tau, dim=1)
    pt = torch.softmax(zt / tau, dim=1)
    W = torch.cdist(ps, pt, p=1)
    P = torch.exp(-W / eps)
    for _ in range(iters):
        P = P / P.sum(1, keepdim=True)
        P = P / P.sum(0, keepdim=True)
    loss = weight * (P * W).sum()
    (grad_s,) = torch.autograd.grad(loss, [zs])
    return float(loss), grad_s.numpy()


def parse_sizes(text):
    sizes = []
    for item in text.split(","):
        b, k = item.lower().split("x")
        sizes.append((int(b), int(k)))
    return sizes


def run_size(args, B, K, rng, tmp):
    large = B * B * K > args.large
    repeats = args.repeats_large if large else args.repeats
    zs = rng.normal(scale=args.scale, size=(B, K))
    zt = rng.normal(scale=args.scale, size=(B, K))

    zsf, ztf, gf = (os.path.join(tmp, n) for n in ("zs.f64", "zt.f64", "g.f64"))
    zs.astype("<f8").tofile(zsf)
    zt.astype("<f8").tofile(ztf)
    cmd = [args.binary, "--B", str(B), "--K", str(K), "--zs", zsf, "--zt", ztf,
           "--tau", repr(args.tau), "--eps", repr(args.eps), "--iters", str(args.iters),
           "--weight", repr(args.weight), "--threads", str(args.threads),
           "--repeats", str(repeats), "--grad-out", gf]
    o = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    g_otk = np.fromfile(gf, dtype="<f8").reshape(B, K)
    for f in (zsf, ztf, gf):
        os.remove(f)

    torch_times, torch_cpu, tl, tg = [], [], None, None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        tl, tg = torch_sinkd(zs, zt, args.tau, args.eps, args.iters, args.weight)
        torch_times.append(time.perf_counter() - t0)
        torch_cpu.append(time.process_time() - c0)
    t_torch = statistics.median(torch_times)
    c_torch = statistics.median(torch_cpu)
    t_otk = o["seconds_median"]
    rel_loss = abs(o["loss"] - tl) / max(abs(tl), 1e-300)
    rel_grad = float(np.abs(g_otk - tg).max() / max(np.abs(tg).max(), 1e-300))
    return dict(B=B, K=K, repeats=repeats, otkit_seconds=t_otk,
                otkit_seconds_min=o["seconds_min"], otkit_alloc_seconds=o["alloc_seconds"],
                torch_seconds=t_torch, torch_seconds_all=torch_times,
                speedup=t_torch / t_otk, otkit_cpu_seconds=o["cpu_seconds_median"],
                torch_cpu_seconds=c_torch, cpu_ratio=c_torch / o["cpu_seconds_median"],
                loss_otkit=o["loss"], loss_torch=tl,
                loss_rel_diff=rel_loss, grad_rel_diff=rel_grad)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help="comma-separated BxK list (default %(default)s)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--repeats-large", type=int, default=1)
    ap.add_argument("--large", type=float, default=1e10,
                    help="B*B*K above which a size counts as large (default 1e10)")
    ap.add_argument("--tau", type=float, default=2.0)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--weight", type=float, default=1.0)
    ap.add_argument("--scale", type=float, default=2.0, help="std of the normal logits")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--binary", default=os.path.join(HERE, "bench_sinkd"))
    ap.add_argument("--out", default=os.path.join(HERE, "results", "sinkd_vs_torch"),
                    help="results prefix (.md and .json are added)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for B, K in parse_sizes(args.sizes):
            print(f"# running B = {B}, K = {K} ...", file=sys.stderr, flush=True)
            rows.append(run_size(args, B, K, rng, tmp))

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    lines = [
        f"SinKD loss + gradient w.r.t. the student logits (forward + backward), l1 batch cost, "
        f"tau {args.tau:g}, eps {args.eps:g}, {args.iters} iterations, weight {args.weight:g}, "
        f"float64, {args.threads} threads each; otkit unrolled adjoint (workspace allocated "
        f"once, not timed) vs PyTorch {torch.__version__} autograd through the kernel-domain "
        f"reference, CPU; medians of the repeats shown (wall clock; CPU = all threads' "
        f"CPU time, steadier when the machine is shared); {cpu}.",
        "",
        "| B | K | repeats | PyTorch s | otkit s | speed-up | PyTorch CPU s | otkit CPU s "
        "| CPU ratio | loss rel. diff | grad rel. diff |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['B']} | {r['K']} | {r['repeats']} | {r['torch_seconds']:.4g} | "
                     f"{r['otkit_seconds']:.4g} | {r['speedup']:.1f}x | "
                     f"{r['torch_cpu_seconds']:.4g} | {r['otkit_cpu_seconds']:.4g} | "
                     f"{r['cpu_ratio']:.1f}x | "
                     f"{r['loss_rel_diff']:.1e} | {r['grad_rel_diff']:.1e} |")
    lines.append("")
    lines.append("grad rel. diff = max |g_otkit - g_torch| / max |g_torch| over the whole "
                 "B x K gradient; loss rel. diff = |L_otkit - L_torch| / |L_torch|.")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".md", "w") as f:
        f.write(text)
    with open(args.out + ".json", "w") as f:
        json.dump(dict(tau=args.tau, eps=args.eps, iters=args.iters, weight=args.weight,
                       threads=args.threads, seed=args.seed, scale=args.scale,
                       torch_version=torch.__version__, cpu=cpu, rows=rows), f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
