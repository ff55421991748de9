#!/usr/bin/env python3
"""The barycenter of two bumps on an icosphere (examples/mesh_barycenter.c in
Python): it sits halfway along the great circle between them.  Ends with "ok"."""
import numpy as np
import otkit

M = otkit.Mesh.generate("icosphere", 3)
V = M.vertices


def bump(c, s=0.15):
    w = M.areas * np.exp(-((V - c) ** 2).sum(1) / (2 * s * s))
    return w / w.sum()


A = np.stack([bump(np.array([0.0, 0.0, 1.0])), bump(np.array([1.0, 0.0, 0.0]))])
r = otkit.mesh_barycenter(M, A)  # eps = (2h)^2 by default, heat-kernel cost
mean = r.barycenter @ V
angle = np.degrees(np.arccos(min(1.0, (mean[0] + mean[2]) / (np.linalg.norm(mean) * np.sqrt(2)))))
print("icosphere: %d vertices, eps = %.4g, mass %.9f" % (M.n, r.eps, r.barycenter.sum()))
print("barycenter mean direction %s: %.2f degrees from (1,0,1)/sqrt 2"
      % (np.round(mean / np.linalg.norm(mean), 3), angle))
ok = abs(r.barycenter.sum() - 1) < 1e-6 and angle < 5
print("ok" if ok else "FAILED")
raise SystemExit(0 if ok else 1)
