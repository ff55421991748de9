#!/usr/bin/python3
"""Generate tests/monge_gap_reference.h: Monge gap reference values from POT.

Regenerate with (from the repository root):

    /usr/bin/python3 tests/data/gen_monge_gap_reference.py

Deterministic (np.random.RandomState with fixed seeds); only the date line in
the header comment changes between runs.

For each case: source points x (n x d), mapped points tx (n x d), weights w
(uniform or random), a ground cost, and eps (absolute; or relative: eps =
rel * std(C) or rel * mean(C) over the n^2 entries, numpy's ddof=0 std, as
OTT's relative_epsilon).  The cost matrix is C_ij = c(x_i, tx_j), built here
by the direct formula.  POT solves the entropic problem

    ot.sinkhorn(w, w, C, reg=eps, method='sinkhorn_log', log=True)

(POT's reg * sum P (log P - 1) entropy: the same plan as OT_ent and OT_kl),
and from its plan P the script computes

    ot_ent       = <P, C> - eps H(P),  H(P) = -sum P log P   (OTT ent_reg_cost)
    displacement = sum_i w_i c(x_i, tx_i)
    monge_gap    = displacement - ot_ent
    lower_bound  = eps H(w)

The marginals of P are checked to 1e-12 (L1) before the values are written.
"""

import datetime
import os
import sys
import warnings

import numpy as np
import ot

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "monge_gap_reference.h"))
warnings.simplefilter("error")


def fail(msg):
    sys.stderr.write("gen_monge_gap_reference.py: FAILED: %s\n" % msg)
    sys.exit(1)


def ground_cost(name, x, y):
    diff = x[:, None, :] - y[None, :, :]
    sq = (diff ** 2).sum(-1)
    if name == "sqeuclidean":
        return sq
    if name == "half-sqeuclidean":
        return 0.5 * sq
    if name == "euclidean":
        return np.sqrt(sq)
    if name == "l1":
        return np.abs(diff).sum(-1)
    fail("unknown ground " + name)


def entropy(p):
    p = p[p > 0]
    return -(p * np.log(p)).sum()


def make_case(name, seed, n, d, ground, weights, eps=None, rel=None, rel_to="std",
              mapping="random"):
    rs = np.random.RandomState(seed)
    x = rs.randn(n, d)
    if mapping == "random":
        A = rs.randn(d, d)
        tx = x @ A.T + 0.3 * rs.randn(n, d)
    elif mapping == "spd":
        B = rs.randn(d, d)
        A = 0.5 * B @ B.T / d + 0.5 * np.eye(d)
        tx = x @ A.T + rs.randn(d)
    else:
        fail("mapping")
    if weights == "uniform":
        w = np.full(n, 1.0 / n)
    else:
        w = 0.5 + rs.rand(n)
        w /= w.sum()
    C = ground_cost(ground, x, tx)
    if eps is None:
        stat = C.std() if rel_to == "std" else C.mean()
        eps_used = rel * stat
    else:
        eps_used = eps
    # POT's own stopping test may stall at rounding level (it warns then); the
    # marginal check below is what decides whether the plan is good enough.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        P, log = ot.sinkhorn(w, w, C, reg=eps_used, method="sinkhorn_log", numItermax=20000,
                             stopThr=1e-14, log=True)
    err = np.abs(P.sum(1) - w).sum() + np.abs(P.sum(0) - w).sum()
    if not err <= 1e-12:
        fail("%s: marginal error %g" % (name, err))
    ot_ent = (P * C).sum() - eps_used * entropy(P)
    disp = (w * np.diag(C)).sum()
    return dict(name=name, n=n, d=d, ground=ground, uniform=int(weights == "uniform"),
                eps=0.0 if eps is None else eps, rel=0.0 if rel is None else rel,
                rel_mean=int(rel_to == "mean"), eps_used=eps_used, x=x, tx=tx, w=w,
                ot_ent=ot_ent, displacement=disp, monge_gap=disp - ot_ent,
                lower_bound=eps_used * entropy(w))


CASES = [
    make_case("sqeuclidean_uniform_abs", 1, 20, 2, "sqeuclidean", "uniform", eps=0.5),
    make_case("sqeuclidean_weighted_abs", 2, 25, 3, "sqeuclidean", "random", eps=0.2),
    make_case("sqeuclidean_uniform_relstd", 3, 30, 2, "sqeuclidean", "uniform", rel=0.05),
    make_case("half_sqeuclidean_relmean", 4, 16, 2, "half-sqeuclidean", "random", rel=0.02,
              rel_to="mean"),
    make_case("euclidean_weighted_abs", 5, 18, 3, "euclidean", "random", eps=0.1),
    make_case("l1_uniform_abs", 6, 15, 4, "l1", "uniform", eps=0.3),
    make_case("sqeuclidean_spd", 7, 24, 2, "sqeuclidean", "uniform", eps=0.5,
              mapping="spd"),
]


def fmt(v):
    s = "%.17g" % v
    if float(s) != v:
        fail("round trip of %r" % v)
    return s


def arr(vals):
    return "{" + ", ".join(fmt(v) for v in np.ravel(vals)) + "}"


def main():
    out = []
    out.append("""/*
 * tests/monge_gap_reference.h -- GENERATED, DO NOT EDIT.
 *
 * Regenerate with /usr/bin/python3 tests/data/gen_monge_gap_reference.py
 * (POT %s, numpy %s; generated %s).
 *
 * Each case: x, tx (n x d row-major), weights w, the ground cost, eps given
 * absolutely (eps > 0) or relatively (eps = 0: rel * std or mean of the n^2
 * costs C_ij = c(x_i, tx_j), numpy ddof 0), and from POT's ot.sinkhorn(w, w, C,
 * reg = eps_used, method='sinkhorn_log') plan P:
 *   ot_ent = <P,C> - eps H(P), displacement = sum_i w_i C_ii,
 *   monge_gap = displacement - ot_ent, lower_bound = eps H(w).
 */
#ifndef OTKIT_TESTS_MONGE_GAP_REFERENCE_H
#define OTKIT_TESTS_MONGE_GAP_REFERENCE_H

struct monge_gap_case {
    const char *name;
    int n, d;
    const char *ground;
    int uniform;        /* 1: pass w = NULL */
    double eps;         /* absolute eps, or 0 for relative */
    double rel;         /* relative_eps when eps == 0 */
    int rel_mean;       /* relative to the mean (1) or the std (0) */
    double eps_used, ot_ent, displacement, monge_gap, lower_bound;
    const double *x, *tx, *w;
};
""" % (ot.__version__, np.__version__, datetime.date.today().isoformat()))
    for k, c in enumerate(CASES):
        out.append("static const double mg_ref_x%d[] = %s;" % (k, arr(c["x"])))
        out.append("static const double mg_ref_tx%d[] = %s;" % (k, arr(c["tx"])))
        out.append("static const double mg_ref_w%d[] = %s;" % (k, arr(c["w"])))
    out.append("\nstatic const struct monge_gap_case monge_gap_cases[] = {")
    for k, c in enumerate(CASES):
        out.append('    {"%s", %d, %d, "%s", %d, %s, %s, %d, %s, %s, %s, %s, %s, mg_ref_x%d, '
                   "mg_ref_tx%d, mg_ref_w%d}," % (
                       c["name"], c["n"], c["d"], c["ground"], c["uniform"], fmt(c["eps"]),
                       fmt(c["rel"]), c["rel_mean"], fmt(c["eps_used"]), fmt(c["ot_ent"]),
                       fmt(c["displacement"]), fmt(c["monge_gap"]), fmt(c["lower_bound"]),
                       k, k, k))
    out.append("};\n#define MONGE_GAP_NCASES %d\n\n#endif\n" % len(CASES))
    with open(OUT, "w") as f:
        f.write("\n".join(out))
    for c in CASES:
        print("%-30s eps=%.6g M=%.10g lb=%.6g" % (c["name"], c["eps_used"], c["monge_gap"],
                                                   c["lower_bound"]))


main()
