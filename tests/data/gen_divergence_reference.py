#!/usr/bin/python3
"""Generate tests/divergence_reference.h: GeomLoss's debiased Sinkhorn divergences.

Regenerate with (from the repository root, where ../shared/reference exists):

    /usr/bin/python3 tests/data/gen_divergence_reference.py [REFERENCE_DIR]

REFERENCE_DIR defaults to ../shared/reference/geomloss.  The point clouds,
weights and parameters of each case are already embedded in
tests/geomloss_reference.h (tests/data/gen_geomloss_reference.py), in the
order of cases.json; this script adds, keyed by the same case index, the value
of SamplesLoss("sinkhorn", ..., debias=True) (`divergence`) and the first row
of GeomLoss's autograd gradient w.r.t. x.  It also records each case's
problem name and parameters so that the test can check that both headers
describe the same case.  Numbers are printed with %.17g (exact round trip).

Uses only the Python standard library.
"""

import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "divergence_reference.h"))
DEFAULT_REF = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "reference",
                                            "geomloss"))

PROVENANCE = (
    "GeomLoss's legacy `SamplesLoss(\"sinkhorn\", ...)` (the behaviour of the released\n"
    "package), `backend=\"tensorized\"`, float64.  Cost convention: |x-y|^p / p\n"
    "(p = 2 -> 1/2|x-y|^2; p = 1 -> |x-y|); eps = blur^p, rho = reach^p.")


def fmt(v):
    s = "%.17g" % v
    if "." not in s and "e" not in s and "n" not in s:
        s += ".0"
    return s


def main():
    ref = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_REF
    with open(os.path.join(ref, "cases.json")) as fh:
        data = json.load(fh)
    cases = data["cases"]
    out = ["""/*
 * tests/divergence_reference.h -- GENERATED, DO NOT EDIT.
 *
 * Regenerate with /usr/bin/python3 tests/data/gen_divergence_reference.py
 * from ../shared/reference/geomloss/cases.json.
 *
 * Provenance (../shared/reference/README.md):"""]
    for line in PROVENANCE.split("\n"):
        out.append(" *   " + line)
    out.append(" *   cases.json source: %s." % data.get("source", "?"))
    out.append(" *   cases.json note: %s." % data.get("note", "?").rstrip("."))
    out.append(""" *
 * Entry k belongs to geomloss_cases[k] of tests/geomloss_reference.h (same
 * problem and parameters, repeated here and checked by the test).
 * `divergence` is SamplesLoss(..., debias=True), GeomLoss's S_eps:
 *   balanced:    <a, f_ba - f_aa> + <b, g_ab - g_bb>
 *   unbalanced:  (rho + eps/2) [<a, e^{-f_aa/rho} - e^{-f_ba/rho}>
 *                               + <b, e^{-g_bb/rho} - e^{-g_ab/rho}>]
 * after GeomLoss's fixed schedule.  `grad_x0` is the first row of GeomLoss's
 * autograd gradient w.r.t. x (through its final extrapolation step only);
 * it equals the envelope gradient only at convergence.
 */
#ifndef OTKIT_TESTS_DIVERGENCE_REFERENCE_H
#define OTKIT_TESTS_DIVERGENCE_REFERENCE_H

struct divergence_case {
    const char *problem;
    double p, blur, scaling, reach; /* reach 0 = None (balanced) */
    int iterations;
    double divergence;
    double grad_x0[3];              /* first row of the x gradient (d entries) */
};

static const struct divergence_case divergence_cases[] = {""")
    for c in cases:
        g = list(c["grad_x_geomloss_autograd_first_row"]) + [0.0] * 3
        reach = c.get("reach")
        out.append("    {\"%s\", %s, %s, %s, %s, %d, %s, {%s}}," % (
            c["problem"], fmt(c["p"]), fmt(c["blur"]), fmt(c["scaling"]),
            fmt(reach if reach is not None else 0.0), c["iterations"], fmt(c["divergence"]),
            ", ".join(fmt(v) for v in g[:3])))
        if len(c["grad_x_geomloss_autograd_first_row"]) > 3:
            sys.exit("gen_divergence_reference.py: d > 3 not supported")
    out.append("""};

#define DIVERGENCE_NCASES ((int)(sizeof divergence_cases / sizeof divergence_cases[0]))

#endif /* OTKIT_TESTS_DIVERGENCE_REFERENCE_H */
""")
    with open(OUT, "w") as fh:
        fh.write("\n".join(out))
    print("wrote %s (%d cases)" % (OUT, len(cases)))


if __name__ == "__main__":
    main()
