# %% [markdown]
# # 1. Quick start: Sinkhorn between two point clouds
#
# Entropic optimal transport between two 2-D clouds with `otkit.sinkhorn`:
# the transport plan, what ε does to it, how fast the iterations converge next
# to POT on the same problem, and the three value conventions (`ot_kl`,
# `ot_ent`, `ot_lin`) that GeomLoss, OTT-JAX and POT users each know.
#
# Every number comes from the C library; POT (`ot`, Debian's `python3-pot`) is
# only the reference.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import ot
import otkit

FIG = os.environ.get("OTKIT_NB_FIGURES", "figures")
os.makedirs(FIG, exist_ok=True)
plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "font.size": 9})


def save(fig, name):
    fig.savefig(os.path.join(FIG, name), bbox_inches="tight")


print("otkit", otkit.__version__, "| POT", ot.__version__)

# %% [markdown]
# Two clouds: a crescent of n = 150 points and a Gaussian blob of m = 120
# points, uniform weights.  The cost is the squared Euclidean distance
# `|x - y|^2` (POT's `ot.dist`, otkit's default `"sqeuclidean"`); ε is in cost
# units, POT's `reg`.

# %%
rng = np.random.default_rng(0)
n, m = 150, 120
t = rng.uniform(0.15 * np.pi, 0.85 * np.pi, n)
x = np.c_[np.cos(t), np.sin(t) - 0.4] + 0.05 * rng.normal(size=(n, 2))
y = np.c_[0.0, -0.6] + 0.25 * rng.normal(size=(m, 2))
a, b = np.full(n, 1 / n), np.full(m, 1 / m)

r = otkit.sinkhorn(a, b, x=x, y=y, eps=0.01)
print(r)
print("iterations %d, marginal error %.1e" % (r.iterations, r.marginal_error))

# %% [markdown]
# The plan `P` is never formed during the solve (the cost is evaluated on the
# fly from the points); `r.plan()` forms it on request.  Each segment below is
# one entry `P_ij`, drawn with an opacity proportional to its mass.

# %%
def draw_plan(ax, P, x, y, title, cut=1e-4):
    i, j = np.nonzero(P > cut * P.max())
    alpha = P[i, j] / P.max()
    segs = np.stack([x[i], y[j]], axis=1)
    from matplotlib.collections import LineCollection
    ax.add_collection(LineCollection(segs, colors=[(0.2, 0.2, 0.2, al) for al in alpha],
                                     linewidths=0.6))
    ax.scatter(*x.T, s=8, c="tab:blue", label="x (source)", zorder=3)
    ax.scatter(*y.T, s=8, c="tab:red", label="y (target)", zorder=3)
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


fig, ax = plt.subplots(figsize=(4.2, 3.6))
draw_plan(ax, r.plan(), x, y, "entropic plan, eps = 0.01")
ax.legend(loc="upper right", fontsize=7)
save(fig, "01_plan.png")

# %% [markdown]
# ## The effect of ε
#
# Large ε spreads every point's mass over many targets (the plan tends to the
# independent coupling `a ⊗ b`); small ε concentrates it towards the exact,
# unregularised plan.

# %%
eps_list = [1.0, 0.1, 0.01, 0.001]
fig, axes = plt.subplots(1, 4, figsize=(9, 2.5))
for ax, eps in zip(axes, eps_list):
    ri = otkit.sinkhorn(a, b, x=x, y=y, eps=eps)
    P = ri.plan()
    spread = np.exp(-(P / a[:, None] * np.log(np.maximum(P / a[:, None], 1e-300))).sum(1)).mean()
    draw_plan(ax, P, x, y, "eps = %g\n(%.1f targets per point)" % (eps, spread), cut=0.1)
save(fig, "01_eps.png")

# %% [markdown]
# (Segments carrying less than 10 % of the largest entry are not drawn.)
# "Targets per point" is the exponential of the entropy of each row of the
# plan (the effective number of points a source point sends mass to),
# averaged over the rows.
#
# As ε → 0, the linear cost `ot_lin = <P, C>` tends to the exact OT cost and
# the plan to the exact plan P*, both computed by otkit's network simplex
# (`otkit.emd2`, `otkit.emd`; POT's `ot.emd2` as a check).  The gap falls
# about linearly in ε, then faster once ε is below the smallest gap of the
# dual constraints (docs/exact.md, "The ε → 0 limit").

# %%
C = ot.dist(x, y)  # |x - y|^2, the same cost
exact = otkit.emd2(a, b, C)
P_star = otkit.emd(a, b, C)
print("exact OT: otkit.emd2 %.12f, POT ot.emd2 %.12f" % (exact, ot.emd2(a, b, C)))
eps_grid = [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]
gaps, dists = [], []
print("%8s %12s %12s %14s %10s" % ("eps", "ot_lin", "- exact", "|P - P*|_1", "iters"))
for eps in eps_grid:
    ri = otkit.sinkhorn(a, b, x=x, y=y, eps=eps, tol=1e-9)
    gaps.append(ri.ot_lin - exact)
    dists.append(np.abs(ri.plan() - P_star).sum())
    print("%8g %12.6f %12.2e %14.2e %10d" % (eps, ri.ot_lin, gaps[-1], dists[-1], ri.iterations))
fig, ax = plt.subplots(figsize=(4, 3))
ax.loglog(eps_grid, np.abs(gaps), "o-", label="<P_eps, C> - OT")
ax.loglog(eps_grid, dists, "s--", label="|P_eps - P*|_1")
ax.loglog(eps_grid, eps_grid, ":", color="gray", label="slope 1")
ax.set_xlabel("eps")
ax.set_title("Sinkhorn towards exact OT as eps -> 0")
ax.legend(fontsize=8)
save(fig, "01_eps_limit.png")

# %% [markdown]
# ## Convergence next to POT
#
# The same problem as a dense matrix, ε = 0.01, started from zero potentials
# (`no_annealing=True`) with the alternating Sinkhorn–Knopp updates that POT's
# `ot.sinkhorn` also uses.  After k iterations we measure, for both, the L1
# marginal error of the returned plan, `|P 1 - a|_1 + |Pᵀ 1 - b|_1`.  otkit
# runs in the log domain; POT's default method multiplies scalings.

# %%
eps = 0.01
ks = np.unique(np.geomspace(1, 3000, 28).astype(int))


def plan_error(P):
    return np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()


import warnings

warnings.filterwarnings("ignore", message="Sinkhorn did not converge")  # POT, stopped at k
err_otk, err_pot = [], []
for k in ks:
    rk = otkit.sinkhorn(a, b, C=C, eps=eps, no_annealing=True, update="alternating",
                        max_iter=int(k), tol=1e-300, warn=False)
    row, col = rk.marginals()
    err_otk.append(np.abs(row - a).sum() + np.abs(col - b).sum())
    err_pot.append(plan_error(ot.sinkhorn(a, b, C, eps, numItermax=int(k), stopThr=0.0)))

fig, ax = plt.subplots(figsize=(4.6, 3.2))
ax.loglog(ks, err_otk, "o-", ms=3, label="otkit (log domain)")
ax.loglog(ks, err_pot, "s--", ms=3, label="POT ot.sinkhorn")
ax.set_xlabel("iterations")
ax.set_ylabel("L1 marginal error of the plan")
ax.set_title("eps = %g, n = %d, m = %d" % (eps, n, m))
ax.legend()
save(fig, "01_convergence.png")

# %% [markdown]
# Both follow the same curve: the iterations are the same mathematics, in two
# numerical representations.  Wall times to a tolerance (best of 5; otkit stops
# on its relative L1 marginal error ≤ 1e-9, POT on the L2 error of one marginal
# ≤ 1e-9, checked every 10 iterations; the final errors are printed so the
# stopping points can be compared):

# %%
def best_of(f, reps=5):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


t_otk, r_otk = best_of(lambda: otkit.sinkhorn(a, b, C=C, eps=eps, tol=1e-9, no_annealing=True,
                                              update="alternating", threads=1))
t_otk_pts, r_pts = best_of(lambda: otkit.sinkhorn(a, b, x=x, y=y, eps=eps, tol=1e-9, threads=1))
t_pot, P_pot = best_of(lambda: ot.sinkhorn(a, b, C, eps, numItermax=100000, stopThr=1e-9))
t_potlog, P_potlog = best_of(lambda: ot.sinkhorn(a, b, C, eps, method="sinkhorn_log",
                                                 numItermax=100000, stopThr=1e-9))
print("%-44s %9s %12s" % ("", "seconds", "L1 error"))
print("%-44s %9.4f %12.1e" % ("otkit, dense C, no annealing (1 thread)", t_otk,
                               r_otk.marginal_error))
print("%-44s %9.4f %12.1e" % ("otkit, points, eps-annealing (1 thread)", t_otk_pts,
                               r_pts.marginal_error))
print("%-44s %9.4f %12.1e" % ("POT ot.sinkhorn (scalings)", t_pot, plan_error(P_pot)))
print("%-44s %9.4f %12.1e" % ("POT ot.sinkhorn, method='sinkhorn_log'", t_potlog,
                               plan_error(P_potlog)))

# %% [markdown]
# ## Three value conventions
#
# One solve reports the three entropic values in use across libraries
# (README, "Conventions"):
#
# * `ot_kl` = ⟨P, C⟩ + ε KL(P ‖ a⊗b): GeomLoss's `debias=False` value, OTT's
#   `reg_ot_cost`;
# * `ot_ent` = `ot_kl` − ε (H(a) + H(b)) = ⟨P, C⟩ − ε H(P) for unit masses: OTT's
#   `ent_reg_cost`;
# * `ot_lin` = ⟨P, C⟩: POT's `sinkhorn2`.
#
# Below, the same three computed from POT's plan with NumPy.

# %%
P = ot.sinkhorn(a, b, C, eps, numItermax=100000, stopThr=1e-12)
ab = np.outer(a, b)
lin = (P * C).sum()
kl = lin + eps * (P * np.log(P / ab)).sum()
ent = lin + eps * (P * np.log(P)).sum()
r1 = otkit.sinkhorn(a, b, C=C, eps=eps, tol=1e-12)
print("%-8s %16s %16s %10s" % ("value", "otkit", "from POT's plan", "rel. diff"))
for name, mine, ref in [("ot_kl", r1.ot_kl, kl), ("ot_ent", r1.ot_ent, ent),
                        ("ot_lin", r1.ot_lin, lin)]:
    print("%-8s %16.10f %16.10f %10.1e" % (name, mine, ref, abs(mine - ref) / abs(ref)))
print("POT ot.sinkhorn2: %.10f" % ot.sinkhorn2(a, b, C, eps, numItermax=100000, stopThr=1e-12))
