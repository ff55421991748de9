#!/usr/bin/env python3
"""mapfit_plugin.py — how close ANY map estimator can be expected to get on
mapfit_uvp's Gaussian problems from n samples: the plug-in estimator that
knows both laws are Gaussian and only estimates their means and covariances,

    A_n = S1^{-1/2} (S1^{1/2} S2 S1^{1/2})^{1/2} S1^{-1/2}  (sample covariances),
    b_n = mean(y) - A_n mean(x),

scored by L2-UVP = 100 (tr((A_n - A) Sigma1 (A_n - A)^T) + |mean error|^2) / tr Sigma2
against the true OT map (closed form, no test samples).  Covariances are drawn
as in bench/mapfit_uvp.c (G G^T / d + I/2, G standard Gaussian; a numpy
generator, not GSL's stream, so the instances differ from the bench's).  Prints
the median over 5 draws of the samples for each (d, n).  A distribution-free
estimator such as otk_map_fit pays more than this; bench/results/mapfit_uvp.md
has its numbers.

Usage: mapfit_plugin.py [--d 16,64] [--n 1024,2048,4096,8192,16384] [--seed 0]
"""
import argparse

import numpy as np


def spd_power(S, p):
    e, v = np.linalg.eigh(S)
    return (v * e ** p) @ v.T


def ot_matrix(S1, S2):
    r = spd_power(S1, 0.5)
    ri = spd_power(S1, -0.5)
    return ri @ spd_power(r @ S2 @ r, 0.5) @ ri


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--d", default="16,64")
    ap.add_argument("--n", default="1024,2048,4096,8192,16384")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print("# plug-in (Gaussian) OT map estimator: median L2-UVP over 5 draws")
    for d in (int(v) for v in args.d.split(",")):
        G1, G2 = rng.standard_normal((d, d)), rng.standard_normal((d, d))
        S1 = G1 @ G1.T / d + 0.5 * np.eye(d)
        S2 = G2 @ G2.T / d + 0.5 * np.eye(d)
        m2 = rng.standard_normal(d)
        A = ot_matrix(S1, S2)
        for n in (int(v) for v in args.n.split(",")):
            uvp = []
            for _ in range(5):
                x = rng.multivariate_normal(np.zeros(d), S1, n)
                y = rng.multivariate_normal(m2, S2, n)
                An = ot_matrix(np.cov(x.T), np.cov(y.T))
                bn = y.mean(0) - An @ x.mean(0)
                E = An - A
                uvp.append(100 * (np.trace(E @ S1 @ E.T) + np.sum((bn - m2) ** 2))
                           / np.trace(S2))
            print("d=%d n=%d  L2-UVP %.3f %%" % (d, n, float(np.median(uvp))))


if __name__ == "__main__":
    main()
