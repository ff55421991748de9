#!/usr/bin/python3
"""Sinkhorn divergence + gradient w.r.t. x: otkit against a tensorized PyTorch
implementation of the same loop (GeomLoss's legacy `SamplesLoss("sinkhorn")`,
backend="tensorized": four potentials, averaged updates on the ε-schedule, the
final extrapolation with autograd on, gradient by one backward pass).

Same points, same parameters, same run; medians of several runs.  Prints a
markdown table and writes bench/results/divergence_vs_torch.json.

    /usr/bin/python3 bench/compare_torch.py [--n 5000] [--d 3] [--blur 0.05]
        [--scaling 0.9] [--threads 2] [--repeats 3]
"""
import argparse
import json
import math
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


def epsilon_schedule(diameter, p, blur, scaling):
    """GeomLoss's legacy ε-list (docs/math.md A.5)."""
    return ([diameter ** p]
            + [math.exp(e) for e in np.arange(p * math.log(diameter), p * math.log(blur),
                                              p * math.log(scaling))]
            + [blur ** p])


def half_sq_dist(x, y):
    """½|x−y|², tensorized as GeomLoss does (|x|² + |y|² − 2 x·y, clamped)."""
    d2 = (x * x).sum(-1)[:, None] + (y * y).sum(-1)[None, :] - 2.0 * x @ y.T
    return 0.5 * d2.clamp_min(0.0)


def softmin(eps, C, h):
    return -eps * torch.logsumexp(h[None, :] - C / eps, dim=1)


def torch_divergence(x_np, y_np, blur, scaling, p=2):
    x = torch.tensor(x_np, requires_grad=True)
    y = torch.tensor(y_np)
    n, m = x.shape[0], y.shape[0]
    a = torch.full((n,), 1.0 / n, dtype=torch.float64)
    b = torch.full((m,), 1.0 / m, dtype=torch.float64)
    a_log, b_log = a.log(), b.log()
    # The second argument is detached, as in GeomLoss: the envelope gradient.
    C_xy, C_yx = half_sq_dist(x, y.detach()), half_sq_dist(y, x.detach())
    C_xx, C_yy = half_sq_dist(x, x.detach()), half_sq_dist(y, y.detach())
    lo = torch.minimum(x.detach().min(0).values, y.min(0).values)
    hi = torch.maximum(x.detach().max(0).values, y.max(0).values)
    diameter = float((hi - lo).norm())
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
    value = (a * (f_ba - f_aa)).sum() + (b * (g_ab - g_bb)).sum()
    (grad_x,) = torch.autograd.grad(value, [x])
    return float(value), grad_x.numpy(), len(eps_list)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--d", type=int, default=3)
    ap.add_argument("--blur", type=float, default=0.05)
    ap.add_argument("--scaling", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--binary", default=os.path.join(HERE, "bench_divergence"))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    rng = np.random.RandomState(args.seed)
    x = rng.rand(args.n, args.d)
    y = 0.2 * rng.randn(args.n, args.d) + 0.5

    torch_times, tv, tg, titers = [], None, None, None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        tv, tg, titers = torch_divergence(x, y, args.blur, args.scaling)
        torch_times.append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        xf, yf = os.path.join(tmp, "x.f64"), os.path.join(tmp, "y.f64")
        x.astype("<f8").tofile(xf)
        y.astype("<f8").tofile(yf)
        out = subprocess.run(
            [args.binary, xf, yf, str(args.n), str(args.n), str(args.d), "--blur",
             str(args.blur), "--scaling", str(args.scaling), "--p", "2", "--schedule", "fixed",
             "--threads", str(args.threads), "--repeats", str(args.repeats)],
            check=True, capture_output=True, text=True).stdout
    o = json.loads(out)

    t_torch = statistics.median(torch_times)
    t_otk = o["seconds_median"]
    rel_value = abs(o["divergence"] - tv) / abs(tv)
    g_otk = np.array(o["grad_x_row0"])
    rel_grad = float(np.abs(g_otk - tg[0]).max() / np.abs(tg[0]).max())
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    print(f"Sinkhorn divergence + grad_x, n = m = {args.n}, d = {args.d}, half-sqeuclidean, "
          f"blur {args.blur}, scaling {args.scaling}, fixed schedule ({titers} iterations), "
          f"{args.threads} threads, median of {args.repeats}\n")
    print("| implementation | seconds | iterations | divergence |")
    print("|---|---|---|---|")
    print(f"| PyTorch {torch.__version__} tensorized | {t_torch:.3f} | {titers} | {tv:.15g} |")
    print(f"| otkit | {t_otk:.3f} | {o['iterations']} | {o['divergence']:.15g} |")
    print(f"\nspeed-up {t_torch / t_otk:.1f}x; value relative difference {rel_value:.1e}; "
          f"grad_x row 0 relative difference {rel_grad:.1e} (otkit: envelope gradient from the "
          f"final potentials; PyTorch: autograd through the final extrapolation step)")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "divergence_vs_torch.json"), "w") as f:
        json.dump(dict(n=args.n, d=args.d, blur=args.blur, scaling=args.scaling,
                       threads=args.threads, repeats=args.repeats, torch_seconds=torch_times,
                       torch_version=torch.__version__, otkit=o, speedup=t_torch / t_otk,
                       value_rel_diff=rel_value, grad_rel_diff=rel_grad, cpu=cpu,
                       nproc=os.cpu_count(), date=time.strftime("%Y-%m-%d")), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
