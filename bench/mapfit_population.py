#!/usr/bin/env python3
"""mapfit_population.py — the bias of the map-fitting loss itself, without
sampling: between Gaussians mu = N(m1, S1) and nu = N(m2, S2) (the draws of
bench/mapfit_uvp.c are reproduced in spirit, not bit for bit), minimise the
POPULATION loss of otk_map_fit over affine maps T(x) = Ax + b,

    L(A, b) = S_eps(T#mu, nu) + lam * M_epsM(T),

where every term has a closed form because T#mu is Gaussian: entropic OT
between Gaussians for the cost |x-y|^2 and regularisation eps KL(P | a x b)
(the OT_ent convention of docs/math.md; Janati, Muzellec, Peyre & Cuturi 2020,
"Entropic optimal transport between unbalanced Gaussian measures has a
closed form", Theorem 1, with eps = 2 sigma^2):

    OT_eps = |a-b|^2 + tr A + tr B - tr D + d s (1 - log 2s) + s log det(D + s I),
    D = (4 A^1/2 B A^1/2 + s^2 I)^1/2,  s = eps / 2.

S_eps is the debiased divergence on |x-y|^2/2 with eps = blur^2 (otkit's
default ground for fitting), i.e. one half of the |x-y|^2 divergence at
2 blur^2; M_epsM(T) = E|x - T(x)|^2 - OT_epsM(mu, T#mu) on |x-y|^2 (otkit's
Monge gap default).  Its minimiser, found by L-BFGS (PyTorch autograd, float64)
from the identity as otk_map_fit starts, is what the sample-based fit would
converge to with infinitely many points; its L2-UVP against the OT map is the
floor that no sample size or optimiser can beat for that (blur, epsM, lam).

Usage: mapfit_population.py --d 16 --blur 1,4 --mg-eps 0.5,2,10 --lam 0,0.01,0.1,1
       [--seed 1]   (prints one line per combination)
"""
import argparse

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def sqrtm(S):
    e, v = torch.linalg.eigh(S)
    return (v * e.clamp_min(0).sqrt()) @ v.T


def ot_gauss(a, A, b, B, eps):
    """Entropic OT (OT_ent, cost |x-y|^2) between N(a, A) and N(b, B)."""
    d = A.shape[0]
    s = eps / 2
    rA = sqrtm(A)
    D = sqrtm(4 * rA @ B @ rA + s * s * torch.eye(d))
    return (((a - b) ** 2).sum() + torch.trace(A) + torch.trace(B) - torch.trace(D)
            + d * s * (1 - np.log(2 * s)) + s * torch.logdet(D + s * torch.eye(d)))


def divergence(a, A, b, B, eps):
    return ot_gauss(a, A, b, B, eps) - 0.5 * ot_gauss(a, A, a, A, eps) \
        - 0.5 * ot_gauss(b, B, b, B, eps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--blur", default="1")
    ap.add_argument("--mg-eps", default="0.5")
    ap.add_argument("--lam", default="0,0.01,0.1,1")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    d = args.d
    rng = np.random.default_rng(args.seed)

    def covariance():  # as bench/mapfit_uvp.c: G G^T / d + 0.5 I
        G = rng.standard_normal((d, d))
        return torch.tensor(G @ G.T / d + 0.5 * np.eye(d))

    S1, S2 = covariance(), covariance()
    m1, m2 = torch.zeros(d), torch.tensor(rng.standard_normal(d))
    r1 = sqrtm(S1)
    r1i = torch.linalg.inv(r1)
    A_star = r1i @ sqrtm(r1 @ S2 @ r1) @ r1i
    b_star = m2 - A_star @ m1
    I = torch.eye(d)

    def uvp(A, b):
        dA, db = A - A_star, b - b_star
        err = torch.trace(dA @ S1 @ dA.T) + ((dA @ m1 + db) ** 2).sum()
        return (100 * err / torch.trace(S2)).item()

    def fit(blur, eps_m, lam):
        A = I.clone().requires_grad_()
        b = torch.zeros(d, requires_grad=True)
        opt = torch.optim.LBFGS([A, b], max_iter=2000, tolerance_grad=1e-12,
                                tolerance_change=1e-15, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            a, C = A @ m1 + b, A @ S1 @ A.T
            L = 0.5 * divergence(a, C, m2, S2, 2 * blur ** 2)
            if lam > 0:
                displacement = torch.trace((I - A) @ S1 @ (I - A).T) + ((m1 - a) ** 2).sum()
                L = L + lam * (displacement - ot_gauss(m1, S1, a, C, eps_m))
            L.backward()
            return L

        for _ in range(5):
            opt.step(closure)
        return A.detach(), b.detach()

    print("# population minimiser of S_eps + lam M over affine maps, d = %d, seed %d"
          % (d, args.seed))
    print("# OT map: L2-UVP of the identity (the start) = %.4g %%" % uvp(I, torch.zeros(d)))
    for blur in map(float, args.blur.split(",")):
        for eps_m in map(float, args.mg_eps.split(",")):
            for lam in map(float, args.lam.split(",")):
                A, b = fit(blur, eps_m, lam)
                print("d=%d blur=%g mg_eps=%g lam=%g  L2-UVP %.4f %%"
                      % (d, blur, eps_m, lam, uvp(A, b)))


if __name__ == "__main__":
    main()
