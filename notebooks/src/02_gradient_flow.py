# %% [markdown]
# # 2. Gradient flows with the Sinkhorn divergence
#
# A cloud of points x flows onto a target shape y by following the gradient of
# the debiased Sinkhorn divergence S_ε(α, β) with respect to its points, as in
# GeomLoss's gallery, with otkit's analytic (envelope-theorem) gradients:
#
#     x_i ← x_i − lr · (∂S_ε/∂x_i) / a_i,
#
# the "displacement field" `Divergence.displacement_x()`.  Then: why the
# debiasing matters (the entropic bias of OT_kl), and what the unbalanced
# divergence (`reach`) changes.

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


rng = np.random.default_rng(1)


def heart(m):
    """m points drawn uniformly inside a heart-shaped region (rejection)."""
    out = []
    while len(out) < m:
        p = rng.uniform(-1.3, 1.3, size=(4 * m, 2))
        u, v = p[:, 0], p[:, 1] + 0.25
        inside = (u ** 2 + v ** 2 - 1) ** 3 - u ** 2 * v ** 3 < 0
        out.extend(p[inside])
    return 0.5 + 0.3 * np.asarray(out[:m])


n, m = 400, 500
x0 = np.c_[0.2, 0.2] + 0.06 * rng.normal(size=(n, 2))
y = heart(m)

# %% [markdown]
# The flow: GeomLoss's defaults (p = 2, i.e. the cost |x − y|²/2, blur 0.05,
# ε-scaling 0.5).  The `Divergence` object is planned once; `set_points`
# moves the source between solves (memory O(n + m): the cost matrices are
# never stored).

# %%
def flow(x0, y, steps=30, lr=0.15, snapshots=(0, 2, 5, 10, 30), **options):
    x = x0.copy()
    D = otkit.Divergence(x, y, **options)
    values, snaps = [], {}
    for t in range(steps + 1):
        values.append(D.solve().value)
        if t in snapshots:
            snaps[t] = x.copy()
        if t == steps:
            break
        x -= lr * D.displacement_x()
        D.set_points(x=x)
    return np.array(values), snaps


t0 = time.perf_counter()
values, snaps = flow(x0, y, blur=0.05, p=2)
print("30 steps in %.2f s; S_eps from %.4f to %.2e" % (time.perf_counter() - t0, values[0],
                                                       values[-1]))

fig, axes = plt.subplots(1, len(snaps), figsize=(11, 2.4))
for ax, (t, xt) in zip(axes, snaps.items()):
    ax.scatter(*y.T, s=3, c="tab:red", alpha=0.3)
    ax.scatter(*xt.T, s=3, c="tab:blue")
    ax.set_title("t = %d  (S = %.1e)" % (t, values[t]))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
save(fig, "02_flow.png")

# %%
fig, ax = plt.subplots(figsize=(4, 2.8))
ax.semilogy(values, "o-", ms=3)
ax.set_xlabel("step")
ax.set_ylabel("S_eps(x_t, y)")
ax.set_title("the divergence along the flow")
plt.show()

# %% [markdown]
# ## The entropic bias: S_ε against OT_kl
#
# `OT_kl(α, β)` (`debias=False`) is not zero at α = β and its minimiser over
# α is not β: it is shrunk towards the inside of the target, by an amount
# that grows with the blur.  The debiased divergence
# S_ε = OT_kl(α, β) − ½ OT_kl(α, α) − ½ OT_kl(β, β) removes it.  With a large
# blur (0.15), the same flow:

# %%
blur = 0.15
_, snaps_deb = flow(x0, y, steps=40, lr=0.3, snapshots=(40,), blur=blur, p=2)
_, snaps_kl = flow(x0, y, steps=40, lr=0.3, snapshots=(40,), blur=blur, p=2, debias=False)
fig, axes = plt.subplots(1, 2, figsize=(5.6, 2.8))
for ax, xt, title in [(axes[0], snaps_deb[40], "S_eps (debiased)"),
                      (axes[1], snaps_kl[40], "OT_kl (debias=False)")]:
    ax.scatter(*y.T, s=3, c="tab:red", alpha=0.3)
    ax.scatter(*xt.T, s=3, c="tab:blue")
    ax.set_title("%s\nblur %.2f, step 40" % (title, blur))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
save(fig, "02_bias.png")
print("spread (std) of the target %.3f, of the S_eps flow %.3f, of the OT_kl flow %.3f"
      % (y.std(0).mean(), snaps_deb[40].std(0).mean(), snaps_kl[40].std(0).mean()))

# %% [markdown]
# The same bias in numbers: the value of each at α = β, as the blur grows.

# %%
print("%6s %14s %14s" % ("blur", "OT_kl(y, y)", "S_eps(y, y)"))
for bl in [0.02, 0.05, 0.1, 0.2, 0.4]:
    kl = otkit.divergence(y, y, blur=bl, debias=False).value
    s = otkit.divergence(y, y, blur=bl).value
    print("%6.2f %14.6f %14.2e" % (bl, kl, s))

# %% [markdown]
# ## Balanced against unbalanced
#
# A fifth of the source now sits far away, in the lower right corner.  The
# balanced divergence must transport every bit of mass, so those points are
# dragged across the square; the unbalanced divergence (`reach=0.1`: a KL
# penalty ρ = reach² on the marginals) may instead create and destroy mass, and
# the gradient on points farther than a few reaches from the target fades.
# With the source weights held fixed and uniform, it is also content with a
# partial match elsewhere: the main cluster does not fill the whole heart
# either.  Which one is wanted depends on whether the far points are
# outliers (unbalanced) or mass that must arrive (balanced).

# %%
far = np.c_[0.85, 0.12] + 0.03 * rng.normal(size=(n // 5, 2))
x1 = np.r_[x0[: n - n // 5], far]
_, s_bal = flow(x1, y, steps=30, lr=0.15, snapshots=(30,), blur=0.05, p=2)
_, s_unb = flow(x1, y, steps=30, lr=0.15, snapshots=(30,), blur=0.05, p=2, reach=0.1)
fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.8))
is_far = np.arange(n) >= n - n // 5
for ax, xt, title in [(axes[0], x1, "start"), (axes[1], s_bal[30], "balanced, step 30"),
                      (axes[2], s_unb[30], "unbalanced (reach 0.1), step 30")]:
    ax.scatter(*y.T, s=3, c="tab:red", alpha=0.3)
    ax.scatter(*xt[~is_far].T, s=3, c="tab:blue")
    ax.scatter(*xt[is_far].T, s=3, c="tab:green")
    ax.set_title(title)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
save(fig, "02_unbalanced.png")
print("mean distance travelled by the far points: balanced %.3f, unbalanced %.3f"
      % (np.linalg.norm(s_bal[30][is_far] - far, axis=1).mean(),
         np.linalg.norm(s_unb[30][is_far] - far, axis=1).mean()))
