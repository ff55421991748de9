# %% [markdown]
# # 5. Images and surfaces
#
# Histograms on a regular grid (images) and on a triangle mesh (surfaces):
# the cost between cells is never stored.  On a grid the squared distance
# separates over the axes, so the soft-min is a sequence of 1-D soft-mins (the
# exact "separable" path) or, when ε is large enough for it to be accurate, a
# Gaussian convolution by FFT.  On a mesh the kernel exp(−C/ε) is the heat
# kernel, applied by a few implicit heat steps (one sparse Cholesky
# factorisation, then triangular solves), as in Solomon et al. 2015.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import otkit

FIG = os.environ.get("OTKIT_NB_FIGURES", "figures")
os.makedirs(FIG, exist_ok=True)
plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "font.size": 9})


def save(fig, name):
    fig.savefig(os.path.join(FIG, name), bbox_inches="tight")

# %% [markdown]
# ## Convolutional Wasserstein barycenters of shapes
#
# Shapes drawn on a 64 × 64 grid over [0, 1]² (`spacing=None`: cells at
# `linspace(0, 1, 64)`, the grid of POT's `convolutional_barycenter2d`), each
# normalised to mass 1.  The barycenter with weights (1 − t, t) interpolates
# between two shapes by displacement, not by cross-fading.

# %%
N = 64
g = np.linspace(0, 1, N)
X, Y = np.meshgrid(g, g, indexing="ij")
R = np.hypot(X - 0.5, Y - 0.5)
shapes = {
    "disk": (R < 0.15).astype(float),
    "ring": (np.abs(R - 0.3) < 0.05).astype(float),
    "two squares": (((np.abs(X - 0.25) < 0.12) | (np.abs(X - 0.75) < 0.12))
                    & (np.abs(Y - 0.5) < 0.12)).astype(float),
    "cross": (((np.abs(X - 0.5) < 0.06) & (np.abs(Y - 0.5) < 0.35))
              | ((np.abs(Y - 0.5) < 0.06) & (np.abs(X - 0.5) < 0.35))).astype(float),
}
shapes = {k: v / v.sum() for k, v in shapes.items()}

eps = 3e-3
ts = np.linspace(0, 1, 6)
pairs = [("disk", "ring"), ("two squares", "cross")]
fig, axes = plt.subplots(len(pairs), len(ts), figsize=(9, 3.2))
t0 = time.perf_counter()
for row, (s0, s1) in zip(axes, pairs):
    A = np.stack([shapes[s0], shapes[s1]])
    for ax, t in zip(row, ts):
        if t in (0, 1):
            img = A[int(t)]
        else:
            img = otkit.barycenter(A, [1 - t, t], eps=eps).barycenter
        ax.imshow(img.T, origin="lower", cmap="Blues")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("t = %.1f" % t)
print("8 barycenters in %.2f s (eps = %g)" % (time.perf_counter() - t0, eps))
save(fig, "05_barycenters.png")

# %% [markdown]
# With `debias=True` (Janati et al. 2020) the barycenter loses most of the
# entropic blur of the plain (Benamou / Solomon) one.  (At this ε the debiased
# iteration's error stalls near 2e-4 instead of reaching the default tol of
# 1e-9, which would only cost iterations and a ConvergenceWarning: both are
# stopped at tol = 1e-3 here.)

# %%
A = np.stack([shapes["two squares"], shapes["cross"]])
fig, axes = plt.subplots(1, 2, figsize=(4.4, 2.4))
for ax, debias in zip(axes, (False, True)):
    img = otkit.barycenter(A, [0.5, 0.5], eps=eps, debias=debias, tol=1e-3).barycenter
    ax.imshow(img.T, origin="lower", cmap="Blues")
    ax.set_title("debias=%s" % debias)
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown]
# ## The FFT and the separable paths
#
# `path="auto"` takes the FFT only where its predicted error is below
# `fft_tol` (1e-6): the FFT computes a convolution with exp(−C/ε) in linear
# (not log) space, and its rounding error relative to the smallest kernel
# entries grows like exp(diameter²/ε).  On this 64 × 64 grid that means large
# ε only; below, the exact separable soft-min in the log domain is used.  Two
# smooth, positive images, each path forced, and what `auto` chose.  (On a
# grid this small the separable path is about as fast as the FFT anyway; the
# FFT pays off on larger grids at large ε: `bench/results/grid_vs_pot.md`.)
# Forced outside its range the FFT fails loudly (NaN detected, an error) rather
# than returning a wrong number:

# %%
a = np.exp(-((X - 0.3) ** 2 + (Y - 0.3) ** 2) / 0.02) + 1e-3
b = np.exp(-((X - 0.7) ** 2 + (Y - 0.6) ** 2) / 0.01) + 1e-3
a, b = a / a.sum(), b / b.sum()
print("%7s %10s %14s %16s %16s %10s %10s" % ("eps", "auto", "fft bound", "ot_kl separable",
                                           "ot_kl fft", "t sep (s)", "t fft (s)"))
for eps_ in [1.0, 0.3, 0.1, 0.03, 0.01]:
    auto = otkit.grid_sinkhorn(a, b, eps=eps_)
    t0 = time.perf_counter()
    sep = otkit.grid_sinkhorn(a, b, eps=eps_, path="separable")
    t_sep = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        fft = otkit.grid_sinkhorn(a, b, eps=eps_, path="fft").ot_kl
    except Exception as e:  # forced outside its range, the FFT path fails loudly
        fft = float("nan")
        print("  fft at eps = %g: %s" % (eps_, e))
    t_fft = time.perf_counter() - t0
    print("%7g %10s %14.2e %16.12f %16.12f %10.3f %10.3f" % (
        eps_, auto.path, auto.stats["fft_error_bound"], sep.ot_kl, fft, t_sep, t_fft))

# %% [markdown]
# ## Optimal transport on a surface
#
# A generated torus (radii 1 and 0.4, 1152 vertices).  Two bumps of mass, and
# their transport with the heat-kernel cost (C ≈ squared geodesic distance;
# ε = (2h)², h the longest edge, the default): the potential f shows the
# geodesic "distance" to the target as seen from each vertex; then the
# barycenter of three bumps.

# %%
M = otkit.Mesh.generate("torus", 24)
V, F = M.vertices, M.faces
print(M, "longest edge %.3f" % M.max_edge)


def bump(center, s=0.25):
    w = M.areas * np.exp(-((V - center) ** 2).sum(1) / (2 * s ** 2))
    return w / w.sum()


theta = [0.0, 2 * np.pi / 3, 4 * np.pi / 3]
centers = [np.array([1.4 * np.cos(t), 1.4 * np.sin(t), 0.0]) for t in theta]
A3 = np.stack([bump(c) for c in centers])
t0 = time.perf_counter()
ot_res = otkit.mesh_sinkhorn(M, A3[0], A3[1])
print("OT between two bumps: ot_kl %.4f, %d iterations, %.2f s; eps %.4f"
      % (ot_res.ot_kl, ot_res.iterations, time.perf_counter() - t0, ot_res.eps))
t0 = time.perf_counter()
bar = otkit.mesh_barycenter(M, A3).barycenter
print("barycenter of three bumps in %.2f s, mass %.6f" % (time.perf_counter() - t0, bar.sum()))

# %%
def draw(ax, values, title):
    tri = ax.plot_trisurf(V[:, 0], V[:, 1], V[:, 2], triangles=F, cmap="viridis",
                          linewidth=0, antialiased=False)
    tri.set_array(values[F].mean(1))
    ax.set_title(title)
    ax.set_box_aspect((1, 1, 0.35))
    ax.view_init(elev=80, azim=-90)
    ax.set_axis_off()


fig = plt.figure(figsize=(10, 3))
ax = fig.add_subplot(1, 3, 1, projection="3d")
draw(ax, (A3 / M.areas).sum(0), "three bumps (density)")
ax = fig.add_subplot(1, 3, 2, projection="3d")
draw(ax, ot_res.f, "potential f, bump 1 -> bump 2")
ax = fig.add_subplot(1, 3, 3, projection="3d")
draw(ax, bar / M.areas, "barycenter (density)")
save(fig, "05_torus.png")
