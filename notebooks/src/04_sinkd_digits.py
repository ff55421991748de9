# %% [markdown]
# # 4. SinKD on real data: distilling a digits classifier
#
# Knowledge distillation trains a small *student* network on the labels and
# on the outputs of a larger *teacher*.  SinKD (Cui et al. 2024) adds a
# batch-level Sinkhorn term between the students' and the teacher's class
# probabilities.  Here: scikit-learn's bundled handwritten digits (1797
# images of 8×8 pixels, 10 classes; Debian's `python3-sklearn`, no download),
# a PyTorch MLP teacher, and small students trained with five losses through
# `otkit.torch`:
#
# | name | loss |
# |---|---|
# | CE | cross-entropy on the labels only |
# | CE + KD | (1 − α)·CE + α·τ²·KL(p_t ‖ p_s) (Hinton et al.), τ = 4 |
# | CE + KD + SinKD | the above + β·SinKD (τ_S = 2, ε = 0.1, 20 iterations) |
# | CE + RKL | (1 − α)·CE + α·KL(p_s ‖ p_t), reverse KL |
# | CE + JS | (1 − α)·CE + α·JS(p_s, p_t), Jensen–Shannon |
#
# Every student is trained with 5 seeds; the table reports test accuracy
# mean ± standard deviation.  Whatever the outcome, it is reported as it
# comes out.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import otkit
import otkit.torch as otorch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

FIG = os.environ.get("OTKIT_NB_FIGURES", "figures")
os.makedirs(FIG, exist_ok=True)
plt.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "font.size": 9})


def save(fig, name):
    fig.savefig(os.path.join(FIG, name), bbox_inches="tight")


torch.set_num_threads(1)
print("otkit", otkit.__version__, "| torch", torch.__version__)

# %% [markdown]
# Half of the images for training, half for testing (stratified), pixels
# scaled to [0, 1].

# %%
X, y = load_digits(return_X_y=True)
X = X / 16.0
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)
print("train", tuple(Xtr.shape), "test", tuple(Xte.shape))


def mlp(hidden, seed):
    torch.manual_seed(seed)
    layers, width = [], 64
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))


def accuracy(model, X, y):
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()

# %% [markdown]
# ## The teacher
#
# Two hidden layers of 256, trained with cross-entropy (Adam, 20 epochs,
# batches of 64).

# %%
def train(model, loss_fn, epochs, seed, lr=3e-3, batch=64):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve = []
    for epoch in range(epochs):
        perm = torch.randperm(len(Xtr), generator=g)
        for k in range(0, len(Xtr), batch):
            idx = perm[k:k + batch]
            opt.zero_grad()
            loss_fn(model(Xtr[idx]), idx).backward()
            opt.step()
        curve.append(accuracy(model, Xte, yte))
    return curve


ce = torch.nn.functional.cross_entropy
t0 = time.perf_counter()
teacher = mlp((256, 256), seed=0)
train(teacher, lambda z, idx: ce(z, ytr[idx]), epochs=20, seed=0)
teacher.eval()
with torch.no_grad():
    z_teacher = teacher(Xtr)  # the teacher's logits on the training set, frozen
print("teacher: test accuracy %.4f (%.1f s)" % (accuracy(teacher, Xte, yte),
                                               time.perf_counter() - t0))

# %% [markdown]
# ## The students
#
# One hidden layer of 16 units (1.2k parameters against the teacher's 83k),
# 30 epochs.  α = 0.5 for every distillation term; β = 0.02 for SinKD (its
# value is about B times a transport cost, B = 64, so β scales it down to the
# size of the other terms).  The KD, reverse-KL, JS and SinKD terms and their
# gradients are computed by otkit (`otkit.torch.KDLoss`, `otkit.torch.SinKDLoss`);
# the cross-entropy by PyTorch.

# %%
alpha, beta = 0.5, 0.02
kl = otorch.KDLoss("kl", tau=4.0)
rkl = otorch.KDLoss("reverse-kl", tau=1.0)
js = otorch.KDLoss("js", tau=1.0)
sinkd = otorch.SinKDLoss(tau=2.0, eps=0.1, iters=20)

losses = {
    "CE": lambda z, idx: ce(z, ytr[idx]),
    "CE + KD": lambda z, idx: (1 - alpha) * ce(z, ytr[idx]) + alpha * kl(z, z_teacher[idx]),
    "CE + KD + SinKD": lambda z, idx: ((1 - alpha) * ce(z, ytr[idx])
                                       + alpha * kl(z, z_teacher[idx])
                                       + beta * sinkd(z, z_teacher[idx])),
    "CE + RKL": lambda z, idx: (1 - alpha) * ce(z, ytr[idx]) + alpha * rkl(z, z_teacher[idx]),
    "CE + JS": lambda z, idx: (1 - alpha) * ce(z, ytr[idx]) + alpha * js(z, z_teacher[idx]),
}
seeds = [1, 2, 3, 4, 5]
epochs = 30
curves = {name: [] for name in losses}
t0 = time.perf_counter()
for name, fn in losses.items():
    for seed in seeds:
        curves[name].append(train(mlp((16,), seed), fn, epochs, seed))
print("%d students trained in %.0f s" % (len(losses) * len(seeds), time.perf_counter() - t0))

# %% [markdown]
# ## Results
#
# Test accuracy after the last epoch (899 test images), mean ± standard
# deviation over the 5 seeds (each seed: the student's initialisation and the
# batch order; the teacher and the split are fixed).

# %%
print("%-18s %18s %8s %8s" % ("loss", "test accuracy", "min", "max"))
final = {}
for name, cs in curves.items():
    acc = np.array([c[-1] for c in cs])
    final[name] = acc
    print("%-18s %9.4f ± %.4f %8.4f %8.4f" % (name, acc.mean(), acc.std(ddof=1), acc.min(),
                                              acc.max()))
print("teacher            %9.4f" % accuracy(teacher, Xte, yte))

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
for name, cs in curves.items():
    c = np.array(cs)
    ax.plot(np.arange(1, epochs + 1), c.mean(0), label=name)
    ax.fill_between(np.arange(1, epochs + 1), c.min(0), c.max(0), alpha=0.15)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_ylim(0.8, 1.0)
ax.set_title("students (16 hidden units), mean and range of 5 seeds")
ax.legend(fontsize=7)
save(fig, "04_curves.png")

# %% [markdown]
# How to read it (the run committed with this notebook; the training is
# deterministic on one thread, so a re-run on the same versions should print
# the same table): with these untuned settings, distillation does not help
# this student.  CE alone and CE + JS are best (0.939 and 0.940, their curves
# overlap); τ²·KL at τ = 4 costs about 1.7 points; adding SinKD to it gives
# back 0.3 points, less than one standard deviation, so not a measurable
# effect; reverse KL sits in between.  The differences between the
# distillation losses are of the order of the seed-to-seed spread: a
# difference smaller than about twice the standard deviation should not be
# read as a ranking.  The SinKD paper's gains were measured on language-model
# distillation (GLUE), with other students and tuned weights (α, β, τ);
# nothing here was tuned, and the digits teacher (0.971) leaves a small
# student little to learn beyond the labels.
