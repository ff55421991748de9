#!/usr/bin/python3
"""A batch of B Sinkhorn divergences + gradients w.r.t. x: otkit's batch
(otkit/batch.h, through otkit.divergence on (B, n, d) arrays) against a
PyTorch implementation of GeomLoss's tensorized backend on the same (B, N, D)
tensors (GeomLoss is not installed here; this is its sinkhorn_loop written
out: four potentials, averaged updates on the ε-list, the final
extrapolation with autograd on, the gradient by one backward pass).

GeomLoss's p = 2 cost |x−y|²/2, blur 0.05, scaling 0.5, the fixed schedule
(otkit's OTK_SCHEDULE_FIXED runs exactly GeomLoss's iterations, docs/math.md
A.5).  GeomLoss's tensorized backend takes one diameter for the whole batch
(the bounding box of all the points); both sides are given that diameter, so
both run the same ε-list.  Same inputs, same run; medians of several runs;
the load average is recorded before and after.  Prints a markdown table and
writes bench/results/batch_vs_torch.{md,json}.

    /usr/bin/python3 bench/compare_batch.py [--B 32] [--n 1000] [--d 3]
        [--blur 0.05] [--scaling 0.5] [--threads 2] [--repeats 3]
        [--dtypes float32,float64]

Needs the Python bindings (PYTHONPATH=bindings/python after setup.py
build_ext --inplace) and PyTorch.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))
import otkit  # noqa: E402


def epsilon_schedule(diameter, p, blur, scaling):
    """GeomLoss's ε-list (docs/math.md A.5)."""
    return ([diameter ** p]
            + [math.exp(e) for e in np.arange(p * math.log(diameter), p * math.log(blur),
                                              p * math.log(scaling))]
            + [blur ** p])


def half_sq_dist(x, y):
    """½|x−y|² for (B, N, D) and (B, M, D), as GeomLoss's tensorized backend
    (|x|² + |y|² − 2 x·y by a batched matmul, clamped at 0)."""
    d2 = (x * x).sum(-1)[:, :, None] + (y * y).sum(-1)[:, None, :] - 2.0 * x @ y.transpose(1, 2)
    return 0.5 * d2.clamp_min(0.0)


def softmin(eps, C, h):
    """−ε log Σ_j exp(h_j − C_ij/ε), batched: C (B, N, M), h (B, M)."""
    return -eps * torch.logsumexp(h[:, None, :] - C / eps, dim=2)


def torch_divergence(x_np, y_np, blur, scaling, diameter, p=2):
    x = torch.from_numpy(x_np).requires_grad_(True)
    y = torch.from_numpy(y_np)
    B, n, m = x.shape[0], x.shape[1], y.shape[1]
    a = torch.full((B, n), 1.0 / n, dtype=x.dtype)
    b = torch.full((B, m), 1.0 / m, dtype=x.dtype)
    a_log, b_log = a.log(), b.log()
    # The second argument detached, as in GeomLoss: the envelope gradient.
    C_xy, C_yx = half_sq_dist(x, y.detach()), half_sq_dist(y, x.detach())
    C_xx, C_yy = half_sq_dist(x, x.detach()), half_sq_dist(y, y.detach())
    eps_list = epsilon_schedule(diameter, p, blur, scaling)
    with torch.no_grad():
        eps = eps_list[0]
        g_ab = softmin(eps, C_yx, a_log)
        f_ba = softmin(eps, C_xy, b_log)
        f_aa = softmin(eps, C_xx, a_log)
        g_bb = softmin(eps, C_yy, b_log)
        for eps in eps_list:
            ft_ba = softmin(eps, C_xy, b_log + g_ab / eps)
            gt_ab = softmin(eps, C_yx, a_log + f_ba / eps)
            ft_aa = softmin(eps, C_xx, a_log + f_aa / eps)
            gt_bb = softmin(eps, C_yy, b_log + g_bb / eps)
            f_ba, g_ab = 0.5 * (f_ba + ft_ba), 0.5 * (g_ab + gt_ab)
            f_aa, g_bb = 0.5 * (f_aa + ft_aa), 0.5 * (g_bb + gt_bb)
    eps = eps_list[-1]
    f_ba, g_ab = (softmin(eps, C_xy, (b_log + g_ab / eps).detach()),
                  softmin(eps, C_yx, (a_log + f_ba / eps).detach()))
    f_aa = softmin(eps, C_xx, (a_log + f_aa / eps).detach())
    g_bb = softmin(eps, C_yy, (b_log + g_bb / eps).detach())
    value = (a * (f_ba - f_aa)).sum(1) + (b * (g_ab - g_bb)).sum(1)
    (grad_x,) = torch.autograd.grad(value.sum(), [x])
    return value.detach().numpy(), grad_x.numpy(), len(eps_list)


def otkit_divergence(x, y, blur, scaling, diameter, threads):
    r = otkit.divergence(x, y, blur=blur, p=2, scaling=scaling, schedule="fixed",
                         diameter=diameter, grad=("x",), threads=threads)
    return r.value, r.grad_x, int(r.iterations[0])


def load():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--B", type=int, default=32)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--d", type=int, default=3)
    ap.add_argument("--blur", type=float, default=0.05)
    ap.add_argument("--scaling", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "batch_vs_torch"))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    rng = np.random.RandomState(args.seed)
    x64 = rng.rand(args.B, args.n, args.d)
    y64 = 0.2 * rng.randn(args.B, args.n, args.d) + 0.5
    # GeomLoss's tensorized diameter: the bounding box of every point of the batch.
    pts = np.concatenate([x64.reshape(-1, args.d), y64.reshape(-1, args.d)])
    diameter = float(np.linalg.norm(pts.max(0) - pts.min(0)))

    rows, raw = [], []
    load_before = os.getloadavg()
    for dt in args.dtypes.split(","):
        x, y = x64.astype(dt), y64.astype(dt)
        t_torch, t_otk = [], []
        for _ in range(args.repeats):
            # Alternate the two, so that a change of load hits both.
            l0 = load()
            t0 = time.perf_counter()
            tv, tg, titers = torch_divergence(x, y, args.blur, args.scaling, diameter)
            t_torch.append((time.perf_counter() - t0, l0))
            l0 = load()
            t0 = time.perf_counter()
            ov, og, oiters = otkit_divergence(x, y, args.blur, args.scaling, diameter,
                                              args.threads)
            t_otk.append((time.perf_counter() - t0, l0))
        mt = statistics.median(t for t, _ in t_torch)
        mo = statistics.median(t for t, _ in t_otk)
        rel_value = float(np.max(np.abs(ov - tv) / np.abs(tv)))
        rel_grad = float(np.max(np.abs(og - tg)) / np.max(np.abs(tg)))
        rows.append((dt, mt, mo, titers, oiters, rel_value, rel_grad))
        raw.append(dict(dtype=dt, torch_seconds=t_torch, otkit_seconds=t_otk,
                        torch_median=mt, otkit_median=mo, speedup=mt / mo,
                        torch_iterations=titers, otkit_iterations=oiters,
                        value_rel_diff=rel_value, grad_rel_diff=rel_grad,
                        torch_values=[float(v) for v in tv], otkit_values=[float(v) for v in ov]))
    load_after = os.getloadavg()

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    lines = [
        f"Batch of B = {args.B} Sinkhorn divergences + grad_x, n = m = {args.n}, d = {args.d}, "
        f"GeomLoss p = 2 (|x-y|^2/2), blur {args.blur}, scaling {args.scaling}, fixed schedule, "
        f"diameter {diameter:.4f} (the batch's bounding box, as GeomLoss's tensorized backend), "
        f"{args.threads} threads, median of {args.repeats}; {cpu}; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after", "",
        "| dtype | PyTorch tensorized (s) | otkit batch (s) | speed-up | iterations | "
        "max value rel. diff | grad_x rel. diff |",
        "|---|---|---|---|---|---|---|"]
    for dt, mt, mo, ti, oi, rv, rg in rows:
        lines.append(f"| {dt} | {mt:.3f} | {mo:.3f} | {mt / mo:.1f}x | {ti} / {oi} | {rv:.1e} | "
                     f"{rg:.1e} |")
    lines += ["", f"PyTorch {torch.__version__}: the tensorized loop of GeomLoss's "
              "sinkhorn_loop on (B, N, M) cost tensors, autograd through the final "
              "extrapolation; otkit: otk_divergence_batch, the problems shared among the "
              "threads; on the fixed schedule its gradients are GeomLoss's (the derivative "
              "through the final extrapolation, otkit/divergence.h), so values and "
              "gradients are compared."]
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".md", "w") as f:
        f.write(text + "\n")
    with open(args.out + ".json", "w") as f:
        json.dump(dict(B=args.B, n=args.n, d=args.d, blur=args.blur, scaling=args.scaling,
                       threads=args.threads, repeats=args.repeats, diameter=diameter,
                       torch_version=torch.__version__, otkit_version=otkit.__version__,
                       results=raw, load_before=load_before, load_after=load_after, cpu=cpu,
                       nproc=os.cpu_count(), date=time.strftime("%Y-%m-%d %H:%M")), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
