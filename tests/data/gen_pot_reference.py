#!/usr/bin/python3
"""Generate tests/pot_reference.h: entropic OT reference values from POT.

Regenerate with (from the repository root):

    /usr/bin/python3 tests/data/gen_pot_reference.py

Deterministic: every problem is drawn from np.random.RandomState with a fixed
seed; only the date line in the header comment changes between runs.

Conventions (otkit's):
  * plan P, potentials in the GeomLoss gauge:
        P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)
  * generalised KL:  KL(P|Q) = sum P log(P/Q) - sum P + sum Q
  * ot_lin = <P, C>
  * ot_kl  = <P, C> + eps KL(P | a(x)b) [+ rho KL(P1|a) + rho KL(P^T1|b)]
  * ot_ent = ot_kl - eps (H(a) + H(b)),  H(a) = -sum a log a

Balanced problems: ot.bregman.sinkhorn_log(a, b, C, eps, numItermax, stopThr,
log=True); f = eps (log_u - log a), g = eps (log_v - log b).

Unbalanced problems: ot.unbalanced.sinkhorn_unbalanced(a, b, Mt, eps, rho,
method='sinkhorn', ...) with the modified cost Mt_ij = C_ij - eps (log a_i +
log b_j), which turns POT's entropy sum(P log P - P) into eps KL(P | a(x)b)
up to a constant; f = eps log u, g = eps log v.  The fixed point
f = kappa smin_b(g), g = kappa smin_a(f), kappa = rho / (rho + eps) is
verified below.
"""

import datetime
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.special
import ot

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "pot_reference.h"))

BAL_ITERMAX = 100000
BAL_STOPTHR = 1e-15
UNB_ITERMAX = 100000
UNB_STOPTHR = 1e-15
MARGINAL_TOL = 1e-13      # L1, balanced
FIXPOINT_TOL = 1e-12      # max abs, unbalanced
ENT_TOL = 1e-10           # relative, balanced ot_ent identity
REFINE_ITERS = 500        # own log-domain iterations, only if POT falls short

# Warnings from POT (e.g. "did not converge") must not pass silently.
warnings.simplefilter("error")


def fail(msg):
    sys.stderr.write("gen_pot_reference.py: FAILED: %s\n" % msg)
    sys.exit(1)


# --------------------------------------------------------------------------
# costs

def cost_matrix(x, y, cost):
    if cost == "sqeuclidean":
        C = ot.dist(x, y)                                   # metric='sqeuclidean'
        direct = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    elif cost == "euclidean":
        C = ot.dist(x, y, metric="euclidean")
        direct = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    elif cost == "half-sqeuclidean":
        C = 0.5 * ot.dist(x, y)
        direct = 0.5 * ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    elif cost == "l1":
        C = ot.dist(x, y, metric="cityblock")
        direct = np.abs(x[:, None, :] - y[None, :, :]).sum(-1)
    else:
        raise ValueError(cost)
    dev = np.max(np.abs(C - direct))
    if dev > 1e-13:
        fail("ot.dist deviates from direct %s cost by %g" % (cost, dev))
    return C, dev


# --------------------------------------------------------------------------
# values

def xlogx(p):
    return scipy.special.xlogy(p, p)


def gkl(p, q):
    """Generalised KL(p|q) = sum p log(p/q) - sum p + sum q (0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return float(np.sum(scipy.special.xlogy(p, p / q)) - p.sum() + q.sum())


def entropy(a):
    return float(-np.sum(xlogx(a)))


def values(P, C, a, b, eps, rho):
    ot_lin = float(np.sum(P * C))
    ot_kl = ot_lin + eps * gkl(P, np.outer(a, b))
    if np.isfinite(rho):
        ot_kl += rho * gkl(P.sum(1), a) + rho * gkl(P.sum(0), b)
    ot_ent = ot_kl - eps * (entropy(a) + entropy(b))
    return ot_lin, ot_kl, ot_ent


def smin(h, C, w, eps, axis):
    """Soft-min: axis=1: -eps log sum_j w_j exp((h_j - C_ij)/eps)  (over j)
                 axis=0: -eps log sum_i w_i exp((h_i - C_ij)/eps)  (over i)"""
    if axis == 1:
        z = (h[None, :] - C) / eps + np.log(w)[None, :]
    else:
        z = (h[:, None] - C) / eps + np.log(w)[:, None]
    return -eps * scipy.special.logsumexp(z, axis=axis)


# --------------------------------------------------------------------------
# solvers

def newton_polish(a, b, C, eps, f, g, max_steps=50):
    """Newton's method on the balanced dual, GeomLoss gauge, gauge fixed by
    dg[m-1] = 0; ends with an exact f-update (f = smin_b(g)), as a Sinkhorn
    half-step would.  Used only where POT's sinkhorn_log cannot converge."""
    n, m = a.size, b.size
    ab = np.outer(a, b)
    steps = 0

    def plan(f, g):
        return ab * np.exp((f[:, None] + g[None, :] - C) / eps)

    def l1err(P):
        return np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()

    for steps in range(1, max_steps + 1):
        P = plan(f, g)
        err = l1err(P)
        if err <= 1e-15:
            break
        H = np.zeros((n + m, n + m))
        H[:n, :n] = np.diag(P.sum(1))
        H[:n, n:] = P
        H[n:, :n] = P.T
        H[n:, n:] = np.diag(P.sum(0))
        r = np.concatenate([P.sum(1) - a, P.sum(0) - b])
        d = np.zeros(n + m)
        d[:-1] = np.linalg.solve(H[:-1, :-1] / eps, -r[:-1])
        t = 1.0
        while t > 1e-4:        # backtracking on the marginal error
            fn, gn = f + t * d[:n], g + t * d[n:]
            if l1err(plan(fn, gn)) < err:
                break
            t *= 0.5
        else:
            break
        f, g = fn, gn
    f = smin(g, C, b, eps, axis=1)
    return f, g, steps


def solve_balanced(a, b, C, eps):
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        P, log = ot.bregman.sinkhorn_log(a, b, C, eps, numItermax=BAL_ITERMAX,
                                         stopThr=BAL_STOPTHR, log=True)
    converged = not any("did not converge" in str(x.message) for x in wlist)
    niter = int(log["niter"]) + 1     # POT stores the last loop index
    f = eps * (log["log_u"] - np.log(a))
    g = eps * (log["log_v"] - np.log(b))
    err_pot = float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())
    refined = 0
    if converged:
        # P must be the GeomLoss-gauge plan of (f, g)
        Pfg = np.outer(a, b) * np.exp((f[:, None] + g[None, :] - C) / eps)
        if np.max(np.abs(Pfg - P)) > 1e-14:
            fail("balanced potentials do not reproduce POT's plan")
    else:
        f, g, refined = newton_polish(a, b, C, eps, f, g)
        P = np.outer(a, b) * np.exp((f[:, None] + g[None, :] - C) / eps)
    row, col = P.sum(1), P.sum(0)
    err_row = float(np.abs(row - a).sum())
    err_col = float(np.abs(col - b).sum())
    if not (err_row <= MARGINAL_TOL and err_col <= MARGINAL_TOL):
        fail("balanced marginals off: L1 row %g col %g" % (err_row, err_col))
    info = dict(niter=niter, err_row=err_row, err_col=err_col,
                refined=refined, err_pot=err_pot, method="sinkhorn_log")
    return P, f, g, info


def fixpoint_residual(f, g, C, a, b, eps, rho):
    kappa = rho / (rho + eps)
    rf = np.max(np.abs(f - kappa * smin(g, C, b, eps, axis=1)))
    rg = np.max(np.abs(g - kappa * smin(f, C, a, eps, axis=0)))
    return float(max(rf, rg))


def solve_unbalanced(a, b, C, eps, rho):
    Mt = C - eps * (np.log(a)[:, None] + np.log(b)[None, :])
    info = None
    for method in ("sinkhorn", "sinkhorn_stabilized"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # judged by the residual below
                P, log = ot.unbalanced.sinkhorn_unbalanced(
                    a, b, Mt, eps, rho, method=method, numItermax=UNB_ITERMAX,
                    stopThr=UNB_STOPTHR, log=True)
        except Exception as e:  # pragma: no cover
            sys.stderr.write("%s raised %r\n" % (method, e))
            continue
        f = eps * log["logu"]
        g = eps * log["logv"]
        res = fixpoint_residual(f, g, C, a, b, eps, rho)
        info = dict(niter=len(log["err"]) if method == "sinkhorn" else None,
                    method=method, res_pot=res, refined=0, P=P, f=f, g=g)
        if method == "sinkhorn_stabilized":
            info["niter"] = None
        if res <= FIXPOINT_TOL:
            break
    if info is None:
        fail("no POT unbalanced solver ran")
    P, f, g = info.pop("P"), info.pop("f"), info.pop("g")
    res = info["res_pot"]
    if res > FIXPOINT_TOL:
        # Refine with otkit's fixed point in the log domain.
        kappa = rho / (rho + eps)
        for _ in range(REFINE_ITERS):
            f = kappa * smin(g, C, b, eps, axis=1)
            g = kappa * smin(f, C, a, eps, axis=0)
            info["refined"] += 1
        P = np.outer(a, b) * np.exp((f[:, None] + g[None, :] - C) / eps)
        res = fixpoint_residual(f, g, C, a, b, eps, rho)
    else:
        # P must be the GeomLoss-gauge plan of (f, g)
        Pfg = np.outer(a, b) * np.exp((f[:, None] + g[None, :] - C) / eps)
        if np.max(np.abs(Pfg - P)) > 1e-14:
            fail("unbalanced potentials do not reproduce POT's plan")
    if res > FIXPOINT_TOL:
        fail("unbalanced fixed point residual %g > %g" % (res, FIXPOINT_TOL))
    info["res"] = res
    return P, f, g, info


# --------------------------------------------------------------------------
# problems

def normalised(w, mass=1.0):
    return mass * w / w.sum()


def make_problems():
    probs = []

    rs = np.random.RandomState(20240501)
    x = rs.uniform(0.0, 1.0, size=(40, 3))
    y = rs.uniform(0.0, 1.0, size=(37, 3))
    a = np.full(40, 1.0 / 40)
    b = np.full(37, 1.0 / 37)
    for tag, eps in (("1", 1.0), ("0.1", 0.1), ("0.01", 0.01),
                     ("0.001", 0.001)):
        probs.append(dict(name="balanced_cube_eps" + tag, x=x, y=y, a=a, b=b,
                          cost="sqeuclidean", eps=eps, rho=np.inf))

    rs = np.random.RandomState(20240502)
    x = rs.uniform(0.0, 1.0, size=(25, 2))
    y = rs.uniform(0.0, 1.0, size=(35, 2))
    a = normalised(0.2 + rs.uniform(size=25))
    b = normalised(0.2 + rs.uniform(size=35))
    probs.append(dict(name="balanced_weighted_euclidean", x=x, y=y, a=a, b=b,
                      cost="euclidean", eps=0.05, rho=np.inf))

    rs = np.random.RandomState(20240503)
    x = rs.normal(0.0, 1.0, size=(20, 2))
    y = rs.normal(1.0, 0.5, size=(15, 2))
    a = normalised(0.2 + rs.uniform(size=20))
    b = normalised(0.2 + rs.uniform(size=15))
    probs.append(dict(name="balanced_weighted_half_sqeuclidean", x=x, y=y,
                      a=a, b=b, cost="half-sqeuclidean", eps=0.1, rho=np.inf))

    rs = np.random.RandomState(20240504)
    x = rs.uniform(0.0, 1.0, size=(30, 2))
    y = rs.uniform(0.0, 1.0, size=(20, 2))
    a = np.full(30, 1.0 / 30)
    b = normalised(0.2 + rs.uniform(size=20), 1.5)
    probs.append(dict(name="unbalanced_sqeuclidean", x=x, y=y, a=a, b=b,
                      cost="sqeuclidean", eps=0.1, rho=1.0))

    rs = np.random.RandomState(20240505)
    x = rs.uniform(0.0, 1.0, size=(12, 3))
    y = rs.uniform(0.0, 1.0, size=(18, 3))
    a = normalised(0.2 + rs.uniform(size=12), 2.0)
    b = np.full(18, 1.0 / 18)
    probs.append(dict(name="unbalanced_l1", x=x, y=y, a=a, b=b,
                      cost="l1", eps=0.2, rho=0.5))
    return probs


def solve_all(probs):
    for p in probs:
        a, b, eps, rho = p["a"], p["b"], p["eps"], p["rho"]
        C, dev = cost_matrix(p["x"], p["y"], p["cost"])
        p["cost_dev"] = dev
        if np.isfinite(rho):
            P, f, g, info = solve_unbalanced(a, b, C, eps, rho)
        else:
            P, f, g, info = solve_balanced(a, b, C, eps)
        p.update(P=P, f=f, g=g, info=info, row=P.sum(1), col=P.sum(0))
        p["ot_lin"], p["ot_kl"], p["ot_ent"] = values(P, C, a, b, eps, rho)
        if not np.isfinite(rho):
            alt = float(np.sum(P * C)) - eps * entropy(P)
            rel = abs(alt - p["ot_ent"]) / max(abs(p["ot_ent"]), 1e-300)
            if rel > ENT_TOL:
                fail("%s: ot_ent %r vs <P,C> - eps H(P) %r (rel %g)"
                     % (p["name"], p["ot_ent"], alt, rel))
            info["ent_rel"] = rel
        # strong duality: ot_kl equals the dual objective at (f, g)
        if np.isfinite(rho):
            dual = (-rho * np.sum(a * np.expm1(-f / rho))
                    - rho * np.sum(b * np.expm1(-g / rho)))
        else:
            dual = float(np.dot(a, f) + np.dot(b, g))
        dual -= eps * (P.sum() - a.sum() * b.sum())
        rel = abs(dual - p["ot_kl"]) / max(abs(p["ot_kl"]), 1e-300)
        if rel > ENT_TOL:
            fail("%s: ot_kl %r vs dual %r (rel %g)"
                 % (p["name"], p["ot_kl"], dual, rel))
        info["dual_rel"] = rel
        if not all(np.isfinite([p["ot_lin"], p["ot_kl"], p["ot_ent"]])):
            fail("%s: non-finite value" % p["name"])
        if not (np.all(np.isfinite(f)) and np.all(np.isfinite(g))):
            fail("%s: non-finite potentials" % p["name"])
    return probs


# --------------------------------------------------------------------------
# output

def fmt(v):
    v = float(v)
    if np.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    s = "%.17g" % v
    if float(s) != v:
        fail("%s does not round-trip" % s)
    if all(c not in s for c in ".eEn"):
        s += ".0"
    return s


def c_array(name, arr, per_line=3):
    arr = np.asarray(arr, dtype=np.float64).ravel()
    lines = ["static const double %s[%d] = {" % (name, arr.size)]
    for k in range(0, arr.size, per_line):
        lines.append("    " + ", ".join(fmt(v) for v in arr[k:k + per_line])
                     + ",")
    lines.append("};")
    return "\n".join(lines)


def ident(name):
    return "".join(c if c.isalnum() else "_" for c in name)


def header(probs):
    today = datetime.date.today().isoformat()
    out = []
    w = out.append
    w("/*")
    w(" * tests/pot_reference.h -- GENERATED, DO NOT EDIT.")
    w(" *")
    w(" * Regenerate with /usr/bin/python3 tests/data/gen_pot_reference.py")
    w(" *")
    w(" * Generated %s with POT %s, numpy %s, scipy %s, Python %s."
      % (today, ot.__version__, np.__version__, scipy.__version__,
         sys.version.split()[0]))
    w(" * Problem data drawn with np.random.RandomState(fixed seeds).")
    w(" *")
    w(" * Conventions (otkit):")
    w(" *   P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)   (GeomLoss gauge)")
    w(" *   KL(P|Q) = sum P log(P/Q) - sum P + sum Q       (generalised KL)")
    w(" *   ot_lin = <P,C>")
    w(" *   ot_kl  = <P,C> + eps KL(P|a(x)b) [+ rho KL(P1|a) + rho KL(P^T1|b)]")
    w(" *   ot_ent = ot_kl - eps (H(a) + H(b)),  H(a) = -sum a log a")
    w(" *   All values computed in float64 from POT's plan P (from the")
    w(" *   refined plan for cases marked refined below).")
    w(" *   rho = INFINITY means balanced.")
    w(" *")
    w(" * Costs: \"sqeuclidean\"      C = ot.dist(x, y)   (|x-y|^2)")
    w(" *        \"euclidean\"        C = ot.dist(x, y, metric='euclidean')")
    w(" *        \"half-sqeuclidean\" C = 0.5 * ot.dist(x, y)")
    w(" *        \"l1\"               C = ot.dist(x, y, metric='cityblock')")
    w(" *   (ot.dist's sq-euclidean uses |x|^2+|y|^2-2x.y; max deviation from")
    w(" *    the direct formula over all cases: %.3g)"
      % max(p["cost_dev"] for p in probs))
    w(" *")
    w(" * Balanced cases:")
    w(" *   P, log = ot.bregman.sinkhorn_log(a, b, C, eps, numItermax=%d,"
      % BAL_ITERMAX)
    w(" *                                    stopThr=%g, log=True)" % BAL_STOPTHR)
    w(" *   f = eps (log['log_u'] - log a),  g = eps (log['log_v'] - log b)")
    w(" *   (f, g) defined up to (f + l, g - l); stored as POT returns them.")
    w(" *   Checked: L1 marginal errors <= %g; ot_ent == <P,C> - eps H(P)"
      % MARGINAL_TOL)
    w(" *   to %g relative." % ENT_TOL)
    w(" *")
    w(" * Unbalanced cases:")
    w(" *   Mt_ij = C_ij - eps (log a_i + log b_j)")
    w(" *   P, log = ot.unbalanced.sinkhorn_unbalanced(a, b, Mt, eps, rho,")
    w(" *            method=..., numItermax=%d, stopThr=%g, log=True)"
      % (UNB_ITERMAX, UNB_STOPTHR))
    w(" *   f = eps log['logu'],  g = eps log['logv']")
    w(" *   POT 0.8.2's iteration u = (a/Kv)^(rho/(rho+eps)) minimises")
    w(" *   <P,M> + eps sum(P log P - P) + rho KL(P1|a) + rho KL(P^T1|b); with")
    w(" *   Mt this is otkit's eps KL(P|a(x)b) objective up to a constant.")
    w(" *   Checked: f = k smin_b(g), g = k smin_a(f), k = rho/(rho+eps),")
    w(" *   max abs residual <= %g (log-sum-exp)." % FIXPOINT_TOL)
    w(" *")
    w(" * All cases: ot_kl equals the dual objective at (f, g) to %g relative."
      % ENT_TOL)
    w(" *")
    w(" * Per case:")
    for p in probs:
        i = p["info"]
        if np.isfinite(p["rho"]):
            s = "%s: method='%s'%s, fixed-point residual %.2g" % (
                p["name"], i["method"],
                "" if i["niter"] is None else ", %d iterations" % i["niter"],
                i["res"])
            if i["refined"]:
                s += " (POT reached %.2g; refined with %d own numpy " \
                     "log-domain iterations)" % (i["res_pot"], i["refined"])
        else:
            s = "%s: %d iterations, L1 marginal err row %.2g col %.2g" % (
                p["name"], i["niter"], i["err_row"], i["err_col"])
            if i["refined"]:
                s += ("\n *     NOT CONVERGED in POT (hit numItermax, L1 marginal"
                      " err %.2g);\n *     refined with %d Newton steps on the"
                      " dual + one f-half-step\n *     (newton_polish in the"
                      " generator), see note below" % (i["err_pot"], i["refined"]))
        w(" *   " + s)
    if any(p["info"]["refined"] and not np.isfinite(p["rho"]) for p in probs):
        w(" *")
        w(" * Note on refined balanced cases: at small eps the LP optimum is")
        w(" * degenerate (uniform weights 1/40, 1/30: 4 sources can exactly fill")
        w(" * 3 targets), so the entropic plan splits into blocks joined only by")
        w(" * ~1e-6..1e-8 entries; Sinkhorn's error then decays roughly like 1/k")
        w(" * and sinkhorn_log cannot get the marginals below ~1e-6 in 1e5-1e6")
        w(" * iterations.  Its potentials there are off by ~6e-3 block-wise and")
        w(" * its values by ~1e-6 relative, so the stored data come from the")
        w(" * Newton-refined fixed point (f = smin_b(g), g = smin_a(f) to ~1e-17).")
        w(" * Potentials of such cases are only well determined (mod the global")
        w(" * shift) by a solver whose marginal error is ~1e-13 or better.")
    w(" */")
    w("#ifndef OTKIT_TESTS_POT_REFERENCE_H")
    w("#define OTKIT_TESTS_POT_REFERENCE_H")
    w("")
    w("#include <math.h>")
    w("")
    w("struct pot_case {")
    w("    const char *name;")
    w("    int n, m, d;")
    w("    double eps, rho;          /* rho = INFINITY: balanced */")
    w("    const char *cost;         /* \"sqeuclidean\", \"euclidean\", "
      "\"half-sqeuclidean\", \"l1\" */")
    w("    const double *x, *y;      /* n*d, m*d, row-major */")
    w("    const double *a, *b;      /* n, m */")
    w("    const double *f, *g;      /* potentials, GeomLoss gauge */")
    w("    const double *row, *col;  /* P 1, P^T 1 */")
    w("    double ot_lin, ot_kl, ot_ent;")
    w("};")
    w("")
    # share identical point/weight arrays between cases
    shared = {}

    def emit(case_id, kind, arr):
        key = (kind, np.asarray(arr).tobytes())
        if key in shared:
            return shared[key]
        nm = "pot_%s_%s" % (case_id, kind)
        shared[key] = nm
        w(c_array(nm, arr))
        w("")
        return nm

    names = []
    for p in probs:
        cid = ident(p["name"])
        nm = {}
        for kind in ("x", "y", "a", "b", "f", "g", "row", "col"):
            nm[kind] = emit(cid, kind, p[kind])
        names.append(nm)

    w("static const struct pot_case pot_cases[] = {")
    for p, nm in zip(probs, names):
        n, d = p["x"].shape
        m = p["y"].shape[0]
        w("    {")
        w("        \"%s\", %d, %d, %d," % (p["name"], n, m, d))
        w("        %s, %s, \"%s\"," % (fmt(p["eps"]), fmt(p["rho"]), p["cost"]))
        w("        %s, %s, %s, %s," % (nm["x"], nm["y"], nm["a"], nm["b"]))
        w("        %s, %s, %s, %s," % (nm["f"], nm["g"], nm["row"], nm["col"]))
        w("        %s, %s, %s," % (fmt(p["ot_lin"]), fmt(p["ot_kl"]),
                                   fmt(p["ot_ent"])))
        w("    },")
    w("};")
    w("")
    w("#define POT_NCASES ((int)(sizeof pot_cases / sizeof pot_cases[0]))")
    w("")
    w("/* Accessor: returns case k (0 <= k < POT_NCASES), NULL otherwise. */")
    w("#if defined(__GNUC__) || defined(__clang__)")
    w("__attribute__((unused))")
    w("#endif")
    w("static const struct pot_case *pot_case_get(int k)")
    w("{")
    w("    return (k >= 0 && k < POT_NCASES) ? &pot_cases[k] : (void *)0;")
    w("}")
    w("")
    w("#endif /* OTKIT_TESTS_POT_REFERENCE_H */")
    return "\n".join(out) + "\n"


def main():
    probs = solve_all(make_problems())
    text = header(probs)
    with open(OUT, "w") as fh:
        fh.write(text)
    for p in probs:
        i = p["info"]
        if np.isfinite(p["rho"]):
            print("%-36s %-20s iters=%s residual=%.3g (POT %.3g, refined %d)"
                  " mass=%.17g" % (p["name"], i["method"], i["niter"], i["res"],
                                   i["res_pot"], i["refined"], p["P"].sum()))
        else:
            print("%-36s sinkhorn_log iters=%d L1 err row=%.3g col=%.3g "
                  "ent_rel=%.3g (POT L1 err %.3g, newton steps %d)"
                  % (p["name"], i["niter"], i["err_row"], i["err_col"],
                     i["ent_rel"], i["err_pot"], i["refined"]))
        print("    ot_lin=%.17g ot_kl=%.17g ot_ent=%.17g cost_dev=%.3g"
              % (p["ot_lin"], p["ot_kl"], p["ot_ent"], p["cost_dev"]))
    print("wrote %s (%d bytes)" % (OUT, len(text)))


if __name__ == "__main__":
    main()
