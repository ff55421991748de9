#!/usr/bin/env python3
"""Distillation losses on one batch of logits (examples/distill_batch.c in
Python): SinKD and the KD baselines with their gradients; the SinKD gradient
is checked against central differences.  Ends with "ok"."""
import numpy as np
import otkit

B, K = 16, 10
i, k = np.meshgrid(np.arange(B), np.arange(K), indexing="ij")
z_t = np.where(k == i % K, 4.0, 0.0) + 0.3 * np.sin(1.0 + i * K + k)
z_s = 1.5 * np.cos(0.7 * i + 1.3 * k) + np.where(k == i % K, 1.0, 0.0)
res = otkit.sinkd_loss(z_s, z_t, tau=2.0, eps=0.1, iters=20)
print("SinKD (tau 2, eps 0.1, 20 iterations): %.6f" % res.loss)
h, worst = 1e-6, 0.0
for e in range(0, B * K, 37):
    zp, zm = z_s.copy(), z_s.copy()
    zp.flat[e] += h
    zm.flat[e] -= h
    fd = (otkit.sinkd_loss(zp, z_t).loss - otkit.sinkd_loss(zm, z_t).loss) / (2 * h)
    worst = max(worst, abs(fd - res.grad_s.flat[e]) / max(1e-8, abs(fd)))
print("SinKD gradient vs central differences: worst relative error %.1e" % worst)
ok = worst < 1e-5
for kind, tau in [("kl", 4.0), ("reverse-kl", 1.0), ("js", 1.0), ("soft-ce", 1.0)]:
    v = otkit.kd_loss(kind, z_s, z_t, tau=tau).loss
    print("%-10s tau %g: %.6f" % (kind, tau, v))
    ok = ok and v >= 0 and (kind != "js" or v <= np.log(2))
print("ok" if ok else "FAILED")
raise SystemExit(0 if ok else 1)
