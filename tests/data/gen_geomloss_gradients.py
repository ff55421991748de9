#!/usr/bin/python3
"""Generate GeomLoss's values and autograd gradients for the fixed schedule:
tests/geomloss_gradients.h (C) and bindings/python/tests/data/geomloss_gradients.json.

Regenerate with (from the repository root, where ../shared/reference exists):

    /usr/bin/python3 tests/data/gen_geomloss_gradients.py GEOMLOSS_SRC [REFERENCE_DIR]

GEOMLOSS_SRC is the `src` directory of GeomLoss's repository
(https://github.com/jeanfeydy/geomloss, commit 00e493f); it is imported, not
copied.  REFERENCE_DIR defaults to ../shared/reference/geomloss (the point
clouds and the gradients recorded there).  Needs torch; runs in float64.

Cases:
  * the 8 cases of REFERENCE_DIR/cases.json, debias on and off: GeomLoss's
    default tensorized cost (p = 1: sqrt(max(|x-y|^2, 1e-8)), floored at 1e-4);
    the script checks its own run against REFERENCE_DIR/gradients to 1e-12;
  * extra cases, debias on and off, for masses other than 1 and for p = 1 on
    the exact |x-y| (SamplesLoss's documented `cost=` argument with
    sqrt(max(|x-y|^2, 1e-300)), i.e. |x-y| to 1e-150, whose gradient is 0 on
    the diagonal as otkit's): weights are the problem's a, b times
    scale_a, scale_b, and with zero_stride k > 0 the weights of indices
    0, k, 2k, ... set to 0 (GeomLoss's log-weight -100000, otkit's -inf).
"""

import csv
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT_H = os.path.join(ROOT, "tests", "geomloss_gradients.h")
OUT_JSON = os.path.join(ROOT, "bindings", "python", "tests", "data", "geomloss_gradients.json")
DEFAULT_REF = os.path.normpath(os.path.join(ROOT, "..", "..", "shared", "reference", "geomloss"))
COMMIT = "00e493f"

# problem, p, blur, scaling, reach, scale_a, scale_b, exact p = 1 cost, zero_stride
EXTRA = [
    ("uniform_2d", 2, 0.05, 0.5, None, 2.0, 2.0, False, 0),
    ("weighted_3d", 1, 0.1, 0.7, None, 0.5, 0.5, True, 0),
    ("shifted_2d_unequal_mass", 1, 0.05, 0.5, 0.5, 1.0, 1.0, True, 0),
    ("shifted_2d_unequal_mass", 2, 0.05, 0.5, 0.3, 2.5, 0.4, False, 0),
    ("weighted_3d", 1, 0.05, 0.6, 1.0, 3.0, 0.5, True, 0),
    ("weighted_3d", 2, 0.1, 0.7, 0.5, 1.0, 1.0, False, 7),
]


def fail(msg):
    sys.stderr.write("gen_geomloss_gradients.py: FAILED: %s\n" % msg)
    sys.exit(1)


def read_csv(path):
    with open(path, newline="") as fh:
        return [[float(v) for v in row] for row in csv.reader(fh) if row]


def fmt(v):
    s = "%.17g" % v
    if "." not in s and "e" not in s and "n" not in s:
        s += ".0"
    return s


def main():
    if len(sys.argv) < 2:
        fail("usage: gen_geomloss_gradients.py GEOMLOSS_SRC [REFERENCE_DIR]")
    sys.path.insert(0, sys.argv[1])
    ref = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_REF
    import torch
    from geomloss import SamplesLoss

    with open(os.path.join(ref, "cases.json")) as fh:
        shared = json.load(fh)["cases"]
    problems = {}
    for c in shared:
        pr = c["problem"]
        if pr not in problems:
            problems[pr] = dict(
                x=read_csv(os.path.join(ref, pr + "_x.csv")),
                y=read_csv(os.path.join(ref, pr + "_y.csv")),
                a=[r[0] for r in read_csv(os.path.join(ref, pr + "_a.csv"))],
                b=[r[0] for r in read_csv(os.path.join(ref, pr + "_b.csv"))])

    def exact_distance(x, y):
        d2 = ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)
        return torch.sqrt(torch.clamp_min(d2, 1e-300))

    def run(prob, p, blur, scaling, reach, sa, sb, exact, debias, zero_stride=0):
        P = problems[prob]
        x = torch.tensor(P["x"], dtype=torch.float64, requires_grad=True)
        y = torch.tensor(P["y"], dtype=torch.float64, requires_grad=True)
        a = sa * torch.tensor(P["a"], dtype=torch.float64)
        b = sb * torch.tensor(P["b"], dtype=torch.float64)
        if zero_stride:
            a[::zero_stride] = 0.0
            b[::zero_stride] = 0.0
        a.requires_grad_(True)
        b.requires_grad_(True)
        kw = dict(p=p, blur=blur, scaling=scaling, reach=reach, debias=debias,
                  backend="tensorized")
        if exact:
            kw["cost"] = exact_distance
        loss = SamplesLoss("sinkhorn", **kw)
        val = loss(a, x, b, y)
        gx, gy, ga, gb = torch.autograd.grad(val, (x, y, a, b))
        return (val.item(), gx.reshape(-1).tolist(), gy.reshape(-1).tolist(), ga.tolist(),
                gb.tolist())

    out = []
    for k, c in enumerate(shared):
        for debias in (True, False):
            reach = c.get("reach")
            r = run(c["problem"], c["p"], c["blur"], c["scaling"], reach, 1.0, 1.0, False, debias)
            tag = "case%d_%s" % (k, "debiased" if debias else "ot_kl")
            gref = os.path.join(ref, "gradients", tag + "_grad_%s.csv")
            for name, got in zip("xyab", r[1:]):
                want = [v for row in read_csv(gref % name) for v in row]
                scale = max(abs(v) for v in want)
                err = max(abs(u - v) for u, v in zip(got, want)) / scale
                if len(want) != len(got) or err > 1e-12:
                    fail("%s grad_%s differs from the recorded one by %.3g" % (tag, name, err))
            want = c["divergence"] if debias else c["ot_kl"]
            if abs(r[0] - want) > 1e-12 * abs(want):
                fail("%s value %.17g, recorded %.17g" % (tag, r[0], want))
            out.append(dict(problem=c["problem"], p=c["p"], blur=c["blur"],
                            scaling=c["scaling"], reach=reach, scale_a=1.0, scale_b=1.0,
                            exact_cost=False, zero_stride=0, debias=debias, value=r[0],
                            grad_x=r[1],
                            grad_y=r[2], grad_a=r[3], grad_b=r[4]))
    for (prob, p, blur, scaling, reach, sa, sb, exact, zs) in EXTRA:
        for debias in (True, False):
            r = run(prob, p, blur, scaling, reach, sa, sb, exact, debias, zs)
            out.append(dict(problem=prob, p=p, blur=blur, scaling=scaling, reach=reach,
                            scale_a=sa, scale_b=sb, exact_cost=exact, zero_stride=zs,
                            debias=debias,
                            value=r[0], grad_x=r[1], grad_y=r[2], grad_a=r[3], grad_b=r[4]))

    provenance = ("GeomLoss (github.com/jeanfeydy/geomloss, commit %s), legacy "
                  "SamplesLoss('sinkhorn', backend='tensorized'), float64; "
                  "torch.autograd.grad of the value w.r.t. (x, y, a, b); "
                  "generated by tests/data/gen_geomloss_gradients.py" % COMMIT)
    data = dict(provenance=provenance, problems=problems, cases=out)
    with open(OUT_JSON, "w") as fh:
        json.dump(data, fh, separators=(",", ":"))
        fh.write("\n")

    h = ["/*",
         " * tests/geomloss_gradients.h -- GENERATED, DO NOT EDIT.",
         " *",
         " * Regenerate with /usr/bin/python3 tests/data/gen_geomloss_gradients.py GEOMLOSS_SRC",
         " * (tests/data/README.md).  " + provenance.replace("; ", ";\n * ") + ".",
         " *",
         " * Each case names a problem of tests/geomloss_reference.h (its x, y, a, b);",
         " * the weights are a * scale_a, b * scale_b, and 0 at the indices 0, k, 2k, ...",
         " * when zero_stride k > 0.  exact_cost: p = 1 on |x-y|",
         " * (else GeomLoss's default tensorized cost, whose p = 1 distance is",
         " * floored at 1e-4).  reach 0 = None (balanced).",
         " */",
         "#ifndef OTKIT_TESTS_GEOMLOSS_GRADIENTS_H",
         "#define OTKIT_TESTS_GEOMLOSS_GRADIENTS_H",
         "",
         "struct geomloss_gradient_case {",
         "    const char *problem;",
         "    double p, blur, scaling, reach, scale_a, scale_b;",
         "    int exact_cost, zero_stride, debias;",
         "    double value;",
         "    const double *grad_x, *grad_y, *grad_a, *grad_b;",
         "};",
         ""]
    for k, c in enumerate(out):
        for name in "xyab":
            v = c["grad_" + name]
            h.append("static const double geomloss_grad%d_%s[%d] = {" % (k, name, len(v)))
            for i in range(0, len(v), 3):
                h.append("    " + " ".join(fmt(t) + "," for t in v[i:i + 3]))
            h.append("};")
    h.append("")
    h.append("static const struct geomloss_gradient_case geomloss_gradient_cases[] = {")
    for k, c in enumerate(out):
        h.append('    {"%s", %s, %s, %s, %s, %s, %s, %d, %d, %d, %s,' % (
            c["problem"], fmt(float(c["p"])), fmt(c["blur"]), fmt(c["scaling"]),
            fmt(float(c["reach"] or 0.0)), fmt(c["scale_a"]), fmt(c["scale_b"]),
            int(c["exact_cost"]), c["zero_stride"], int(c["debias"]), fmt(c["value"])))
        h.append("     geomloss_grad%d_x, geomloss_grad%d_y, geomloss_grad%d_a, "
                 "geomloss_grad%d_b}," % (k, k, k, k))
    h.append("};")
    h.append("")
    h.append("#define GEOMLOSS_GRADIENT_NCASES ((int)(sizeof geomloss_gradient_cases / "
             "sizeof geomloss_gradient_cases[0]))")
    h.append("")
    h.append("#endif /* OTKIT_TESTS_GEOMLOSS_GRADIENTS_H */")
    with open(OUT_H, "w") as fh:
        fh.write("\n".join(h) + "\n")
    sys.stderr.write("wrote %s and %s (%d cases)\n" % (OUT_H, OUT_JSON, len(out)))


if __name__ == "__main__":
    main()
