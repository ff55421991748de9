#!/usr/bin/env python3
"""A small ring flows onto a larger ring along the Sinkhorn divergence's
displacement field (examples/gradient_flow.c in Python).  Prints S_eps every two steps; ends with "ok"."""
import numpy as np
import otkit

t = 2 * np.pi * np.arange(64) / 64
s = 2 * np.pi * np.arange(96) / 96
x = np.c_[0.25 + 0.1 * np.cos(t), 0.25 + 0.1 * np.sin(t)]
y = np.c_[0.7 + 0.25 * np.cos(s), 0.6 + 0.25 * np.sin(s)]
D = otkit.Divergence(x, y, blur=0.05, p=2)  # GeomLoss's defaults: |x-y|^2/2
values = []
for step in range(11):
    values.append(D.solve().value)
    if step % 2 == 0:
        print("step %2d  S_eps = %.3e" % (step, values[-1]))
    x = x - 0.5 * D.displacement_x()
    D.set_points(x=x)
ok = all(b <= a for a, b in zip(values, values[1:])) and values[-1] < 0.01 * values[0]
print("ok" if ok else "FAILED")
raise SystemExit(0 if ok else 1)
