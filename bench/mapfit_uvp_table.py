"""Markdown table of bench/results/mapfit_uvp.json (written by mapfit_uvp.sh)."""
import json
import sys

# Older runs printed nan, which JSON spells null; Python reads NaN.
rows = [json.loads(l.replace(": nan", ": NaN")) for l in open(sys.argv[1]) if l.startswith("{")]
rows.sort(key=lambda r: (r["case"] != "gaussian", r["d"], r["family"], r["lambda"]))
print("L2-UVP = 100 E|T(x) - T*(x)|^2 / trace(Sigma2), in %, on 10000 fresh held-out samples of mu;")
print("n training samples per side (independent), blur = 0.05 sqrt(d) (divergence and entropic map,")
print("half-sqeuclidean), Monge gap with OTT's default eps (0.05 std of its costs, |x-y|^2);")
print("affine: BFGS; mlp: 64,64 GELU, Adam (lr in the table), 1000 steps, batch 256; entropic: Sinkhorn tol 1e-4;")
print("one thread per run, two runs at a time on a shared 2-core machine (seconds are wall time).")
print("'rotation': mu = nu = N(0, I), affine map started at a 90-degree rotation (matches nu, not optimal).")
print()
print("| case | d | family | lambda | n | L2-UVP % | S_eps train | Monge gap test (bound eps log n) | iterations | evaluations | seconds |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    div = r["divergence"]
    s = "-" if div is None or div != div else "%.3g" % div
    print("| %s | %d | %s | %g | %d | %.3f | %s | %.3f (%.3f) | %d | %d | %.0f |" % (
        r["case"], r["d"], r["family"] + (" lr %g" % r["lr"] if r["family"] == "mlp" else ""),
        r["lambda"], r["n"], r["uvp"], s,
        r["monge_gap_test"], r["monge_gap_test_lower_bound"], r["iterations"],
        r["evaluations"], r["seconds"]))
