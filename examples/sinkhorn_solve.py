#!/usr/bin/env python3
"""Entropic OT between a cloud and its translate by (0.5, 0) (examples/sinkhorn_solve.c
in Python): for |x-y|^2 the translation is optimal, so the exact cost is 0.25.
Prints the three values and checks them; ends with "ok".  Needs the otkit package."""
import numpy as np
import otkit

rng = np.random.default_rng(42)
x = rng.random((40, 2))
y = x + [0.5, 0.0]
r = otkit.sinkhorn(x=x, y=y, eps=0.02, tol=1e-8)  # eps in cost units (POT's reg)
print("OT_kl  = %.6f\nOT_ent = %.6f\nOT_lin = %.6f   (exact OT: 0.25)" % (r.ot_kl, r.ot_ent,
                                                                          r.ot_lin))
print("iterations = %d, marginal error = %.2e" % (r.iterations, r.marginal_error))
row, col = r.marginals()
err = np.abs(row - 1 / 40).sum() + np.abs(col - 1 / 40).sum()
ok = r.converged and err < 1e-7 and 0.25 - 1e-9 <= r.ot_lin < 0.275
print("ok" if ok else "FAILED")
raise SystemExit(0 if ok else 1)
