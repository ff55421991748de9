#!/usr/bin/python3
"""Generate tests/geomloss_reference.h: GeomLoss fixed-schedule reference values.

Regenerate with (from the repository root, where ../shared/reference exists):

    /usr/bin/python3 tests/data/gen_geomloss_reference.py [REFERENCE_DIR]

REFERENCE_DIR defaults to ../shared/reference/geomloss.  The tests must not read
that directory at run time (a user's clone does not have it), so this script
copies what they need -- point clouds, weights, parameters, the epsilon list,
the iteration count and the raw OT value -- into a C header.  Numbers are
printed with %.17g, which round-trips every double exactly.

Uses only the Python standard library.
"""

import csv
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "geomloss_reference.h"))
DEFAULT_REF = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "reference",
                                            "geomloss"))

# The provenance line of ../shared/reference/README.md (section geomloss/).
PROVENANCE = (
    "GeomLoss's legacy `SamplesLoss(\"sinkhorn\", ...)` (the behaviour of the released\n"
    "package), `backend=\"tensorized\"`, float64.  Cost convention: |x-y|^p / p\n"
    "(p = 2 -> 1/2|x-y|^2; p = 1 -> |x-y|); eps = blur^p, rho = reach^p.")


def fail(msg):
    sys.stderr.write("gen_geomloss_reference.py: FAILED: %s\n" % msg)
    sys.exit(1)


def read_csv(path):
    with open(path, newline="") as fh:
        return [[float(v) for v in row] for row in csv.reader(fh) if row]


def fmt(v):
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    s = "%.17g" % v
    if "." not in s and "e" not in s and "n" not in s:
        s += ".0"
    return s


def c_array(name, values, per_line=3):
    lines = ["static const double %s[%d] = {" % (name, len(values))]
    for k in range(0, len(values), per_line):
        lines.append("    " + " ".join(fmt(v) + "," for v in values[k:k + per_line]))
    lines.append("};")
    return "\n".join(lines)


def ident(s):
    return "".join(ch if ch.isalnum() else "_" for ch in s)


def main():
    ref = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_REF
    with open(os.path.join(ref, "cases.json")) as fh:
        data = json.load(fh)
    cases = data["cases"]

    out = []
    out.append("""/*
 * tests/geomloss_reference.h -- GENERATED, DO NOT EDIT.
 *
 * Regenerate with /usr/bin/python3 tests/data/gen_geomloss_reference.py
 * from ../shared/reference/geomloss (cases.json and the CSV files).
 *
 * Provenance (../shared/reference/README.md):""")
    for line in PROVENANCE.split("\n"):
        out.append(" *   " + line)
    out.append(" *   cases.json source: " + data["source"] + ".")
    out.append(" *   cases.json note: " + data["note"] + ".")
    out.append(""" *
 * Per case: the point clouds x (n*d), y (m*d) and weights a, b of the named
 * problem; GeomLoss's parameters p, blur, scaling and reach (0 = None, i.e.
 * balanced); the diameter GeomLoss derived (bounding-box diagonal of x and y);
 * its epsilon list (one averaged update per entry, then the final
 * extrapolation); `iterations` = len(epsilon_list); and `ot_kl`, the value of
 * SamplesLoss(..., debias=False):
 *   balanced:    <a, f_ba> + <b, g_ab>
 *   unbalanced:  (rho + eps/2) [<a, 1 - exp(-f_ba/rho)> + <b, 1 - exp(-g_ab/rho)>]
 *                (GeomLoss's UnbalancedWeight forward factor), which is not
 *                otkit's OT_kl.
 */
#ifndef OTKIT_TESTS_GEOMLOSS_REFERENCE_H
#define OTKIT_TESTS_GEOMLOSS_REFERENCE_H

#include <math.h>

struct geomloss_case {
    const char *problem;
    int n, m, d;
    double p, blur, scaling;
    double reach;                /* 0 = None (balanced) */
    const double *x, *y;         /* n*d, m*d, row-major */
    const double *a, *b;         /* n, m */
    double diameter;             /* GeomLoss's max_diameter(x, y) */
    int n_eps;                   /* = iterations */
    const double *epsilon_list;  /* n_eps entries */
    int iterations;
    double ot_kl;                /* debias=False value (see above) */
};
""")

    problems = []
    for c in cases:
        if c["problem"] not in problems:
            problems.append(c["problem"])
    shapes = {}
    for prob in problems:
        x = read_csv(os.path.join(ref, prob + "_x.csv"))
        y = read_csv(os.path.join(ref, prob + "_y.csv"))
        a = [r[0] for r in read_csv(os.path.join(ref, prob + "_a.csv"))]
        b = [r[0] for r in read_csv(os.path.join(ref, prob + "_b.csv"))]
        d = len(x[0])
        if any(len(r) != d for r in x + y) or len(a) != len(x) or len(b) != len(y):
            fail("inconsistent shapes in problem %s" % prob)
        shapes[prob] = (len(x), len(y), d)
        pid = ident(prob)
        out.append(c_array("geomloss_%s_x" % pid, [v for r in x for v in r], d))
        out.append(c_array("geomloss_%s_y" % pid, [v for r in y for v in r], d))
        out.append(c_array("geomloss_%s_a" % pid, a))
        out.append(c_array("geomloss_%s_b" % pid, b))
        out.append("")

    for k, c in enumerate(cases):
        if len(c["epsilon_list"]) != c["iterations"]:
            fail("case %d: len(epsilon_list) != iterations" % k)
        if (c["n"], c["m"], c["d"]) != shapes[c["problem"]]:
            fail("case %d: n, m, d do not match the CSV files" % k)
        out.append(c_array("geomloss_case%d_eps" % k, c["epsilon_list"]))
    out.append("")

    out.append("static const struct geomloss_case geomloss_cases[] = {")
    for k, c in enumerate(cases):
        pid = ident(c["problem"])
        reach = c.get("reach")
        out.append("    {")
        out.append('        "%s", %d, %d, %d,' % (c["problem"], c["n"], c["m"], c["d"]))
        out.append("        %s, %s, %s, %s," % (fmt(float(c["p"])), fmt(c["blur"]),
                                                fmt(c["scaling"]),
                                                fmt(float(reach)) if reach is not None else "0.0"))
        out.append("        geomloss_%s_x, geomloss_%s_y, geomloss_%s_a, geomloss_%s_b,"
                   % (pid, pid, pid, pid))
        out.append("        %s, %d, geomloss_case%d_eps, %d, %s,"
                   % (fmt(c["diameter"]), len(c["epsilon_list"]), k, c["iterations"],
                      fmt(c["ot_kl"])))
        out.append("    },")
    out.append("};")
    out.append("")
    out.append("#define GEOMLOSS_NCASES "
               "((int)(sizeof geomloss_cases / sizeof geomloss_cases[0]))")
    out.append("")
    out.append("#endif /* OTKIT_TESTS_GEOMLOSS_REFERENCE_H */")

    with open(OUT, "w") as fh:
        fh.write("\n".join(out) + "\n")
    sys.stderr.write("wrote %s (%d cases)\n" % (OUT, len(cases)))


if __name__ == "__main__":
    main()
