"""Markdown table of bench/results/mapfit_uvp.json (written by mapfit_uvp.sh)."""
import json
import sys

# Older runs printed nan, which JSON spells null; Python reads NaN.
rows = [json.loads(l.replace(": nan", ": NaN")) for l in open(sys.argv[1]) if l.startswith("{")]
# Runs at the library's defaults (mapfit_uvp --defaults) get their own table.
derived = [r for r in rows if r.get("defaults")]
rows = [r for r in rows if not r.get("defaults")]
rows.sort(key=lambda r: (r["case"] != "gaussian", r["d"], r["family"], r["lambda"], r["n"]))
print("L2-UVP = 100 E|T(x) - T*(x)|^2 / trace(Sigma2), in %, on fresh held-out samples of mu;")
print("n training samples per side (independent); the divergence and the entropic map on")
print("|x-y|^2/2 with eps = blur^2; the Monge gap on |x-y|^2 with eps 'E' in cost units or 'rel F'")
print("(F times the std of its costs; OTT's default is rel 0.05); affine: BFGS unless 'adam';")
print("mlp: 64,64 GELU, Adam, batch 256; entropic: Sinkhorn tol 1e-4; 'tol T': the divergence on")
print("the converge schedule and the Monge gap at tolerance T (smooth losses for BFGS); 'E tol T")
print("warm': the Monge gap's Sinkhorn at tolerance T, started from the previous evaluation's")
print("potentials (--mg-warm-start); 'batch B of n' (Adam): mini-batches of B from n points.")
print("'S_eps train': S_eps at the fit on the first min(n, report points) training points (default 4096).")
print("'loss T* / fit': the training loss S + lambda M at the OT map and at the fitted map on the")
print("first 1024 training points (when measured).  Seconds are wall time, one thread per run,")
print("two runs at a time on a 2-core machine.")
print("'target / optimality' (affine, newer runs): the error split in closed form into the part due")
print("to the push-forward the fit reaches (the OT map onto it vs T*) and the part due to the fit")
print("not being the OT map onto its own push-forward (what the Monge gap is there to remove).")
print("'from FILE': started from a saved fit (e.g. on fewer points) instead of the identity.")
print("Seed 1 unless 'seed S' (the seed draws the covariances, the means and the samples).")
print("'rotation': mu = nu = N(0, I), affine map started at a 90-degree rotation (matches nu, not optimal).")
print()
print("| case | d | family | lambda | n | blur | Monge gap eps | L2-UVP % | target / optimality % | S_eps train | loss T* / fit | iterations | evaluations | seconds |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def num(v, fmt="%.3g"):
    return "-" if v is None or v != v else fmt % v


for r in rows:
    fam = r["family"]
    if fam == "mlp":
        fam += " lr %g" % r["lr"]
    if r.get("optimizer") == "adam" and r["family"] == "affine":
        fam += " adam lr %g" % r["lr"]
    if r.get("lr_schedule") == "cosine":
        fam += " cosine"
    if (r.get("optimizer") == "adam" or r["family"] == "mlp") and 0 < r["batch"] < r["n"] \
            and r["n"] > 512:
        fam += " batch %d of n" % r["batch"]
    if r.get("div_tol"):
        fam += " tol %g" % r["div_tol"]
    if r.get("seed", 1) != 1:
        fam += " seed %d" % r["seed"]
    if r.get("start") == "ot-map":
        fam += " (from T*)"
    elif r.get("start") not in (None, "identity", "rotation"):
        fam += " (from %s)" % r["start"].split("/")[-1]
    if r["lambda"] == 0 or r["family"] == "entropic":
        mg = "-"
    elif r.get("mg_eps"):
        mg = "%g" % r["mg_eps"]
        if r.get("mg_tol"):
            mg += " tol %g" % r["mg_tol"]
        if r.get("mg_warm_start"):
            mg += " warm"
    else:
        mg = "rel %g" % (r.get("mg_relative_eps") or 0.05)
    lt = "-"
    if r.get("loss_ot_map_train") is not None:
        lt = "%.4g / %.4g" % (r["loss_ot_map_train"], r["loss_fit_train"])
    split = "-"
    if r.get("uvp_target") is not None:
        split = "%.3f / %.3f" % (r["uvp_target"], r["uvp_optimality"])
    print("| %s | %d | %s | %g | %d | %.3g | %s | %.3f | %s | %s | %s | %d | %d | %.0f |" % (
        r["case"], r["d"], fam, r["lambda"], r["n"], r["blur"], mg, r["uvp"], split,
        num(r["divergence"]), lt, r["iterations"], r["evaluations"], r["seconds"]))


if derived:
    print()
    print("At the defaults (mapfit_uvp --defaults: no lambda, blur or Monge-gap setting given; the")
    print("library derives blur = s n_b^(-1/(d+4)), lambda = 0.1/d and the Monge gap's eps =")
    print("0.25 mean of its costs, otkit/mapfit.h \"Derived settings\"; the columns show the values")
    print("derived).  'tuned': the best L2-UVP of the table above with the same case, d, family,")
    print("n and seed; 'ratio' = defaults / tuned.  'iters N': a budget given (BFGS otherwise runs up to")
    print("200 iterations, Adam 1000 steps).  The load is the 1-minute load average when the run")
    print("ended (a 2-core machine shared with other jobs: seconds are wall time).")
    print()
    print("| case | d | family | n | blur | lambda | Monge gap eps | L2-UVP % | tuned % (its lambda, blur, eps, iterations) | ratio | iterations | seconds | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(derived, key=lambda r: (r["family"] != "affine", r["d"], r["n"])):
        peers = [t for t in rows if t["case"] == r["case"] and t["d"] == r["d"]
                 and t["family"] == r["family"] and t["n"] == r["n"]
                 and t.get("seed", 1) == r.get("seed", 1)]
        best = min(peers, key=lambda t: t["uvp"]) if peers else None
        tuned, ratio = "-", "-"
        if best:
            tuned = "%.3f (%g, %g, %s, %d)" % (best["uvp"], best["lambda"], best["blur"],
                                               "%g" % best["mg_eps"] if best.get("mg_eps") else
                                               "-" if best["lambda"] == 0 else "rel %g" % (
                                                   best.get("mg_relative_eps") or 0.05),
                                               best["iterations"])
            ratio = "%.2f" % (r["uvp"] / best["uvp"])
        fam = r["family"]
        if r.get("budget"):
            fam += " iters %d" % r["budget"]
        print("| %s | %d | %s | %d | %.3g | %.3g | %.3g | %.3f | %s | %s | %d | %.0f | %s |" % (
            r["case"], r["d"], fam, r["n"], r["blur"], r["lambda"], r["mg_eps"], r["uvp"],
            tuned, ratio, r["iterations"], r["seconds"], r.get("load", "-")))
