#!/bin/sh
# test_cli.sh -- specification tests of the `otk` command-line tool: its
# contract with users' scripts (exit statuses, JSON keys, error positions,
# atomic output files) and two answers known by hand.
#
# Run by `make check` from the build directory with top_builddir and
# top_srcdir set (both default to .).  Needs python3 to parse JSON (the
# standard library only; no numpy).  Prints one line per check and ends with
# "N passed, M failed"; exits 1 when a check failed, 77 (skipped) without
# python3.

TEST_NAME=test
. "${top_srcdir:-.}/tests/cli_lib.sh"

# ------------------------------------------------------------------ inputs

printf '0\n1\n' >"$tmp/x01.csv"
printf '# y = {0, 1}\n\n0\n1\n' >"$tmp/y01.csv"
printf '2\n3\n' >"$tmp/y23.csv"
printf '0,1\n1,abc\n' >"$tmp/bad_number.csv"
printf '0,1\n1,2\n1,2,3\n' >"$tmp/bad_columns.csv"
printf '0\n1\n2\n' >"$tmp/x012.csv"
printf '0.75\n-0.25\n0.5\n' >"$tmp/negative_weights.csv" # sums to 1, as b does

# The same small 2-D clouds as CSV and as .npy (written with struct, so no
# numpy is needed); repr() round-trips doubles exactly through the CSV.
"$PYTHON" - "$tmp" <<'EOF'
import math, struct, sys
tmp = sys.argv[1]
X = [[math.sin(1.3 * i), math.cos(0.7 * i) + 0.1 * i] for i in range(6)]
Y = [[0.5 + math.cos(2.1 * j), 0.3 * j - math.sin(j)] for j in range(5)]

def save_csv(path, rows):
    with open(path, "w") as fh:
        for row in rows:
            fh.write(", ".join(repr(v) for v in row) + "\n")

def save_npy(path, rows):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (
        len(rows), len(rows[0]))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"   # data 64-byte aligned
    with open(path, "wb") as fh:
        fh.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        for row in rows:
            fh.write(struct.pack("<%dd" % len(row), *row))

save_csv(tmp + "/X.csv", X)
save_csv(tmp + "/Y.csv", Y)
save_npy(tmp + "/X.npy", X)
save_npy(tmp + "/Y.npy", Y)
# 60 x 50 points, for a plan file too large for a small file-size limit.
save_csv(tmp + "/X60.csv", [[math.sin(i), math.cos(3 * i)] for i in range(60)])
save_csv(tmp + "/Y50.csv", [[math.cos(j), math.sin(2 * j)] for j in range(50)])
EOF

# ------------------------------------------------------------------ checks

# --version
run_otk --version
if [ $rc -eq 0 ] && grep -q '^otk (otkit) [0-9][0-9.]*' "$tmp/out"; then
    pass "otk --version prints 'otk (otkit) VERSION'"
else
    fail "otk --version (exit $rc, output: $(cat "$tmp/out"))"
fi

# --help lists the subcommands
run_otk --help
if [ $rc -eq 0 ] && grep -q sinkhorn "$tmp/out" && grep -q demo "$tmp/out"; then
    pass "otk --help lists the subcommands"
else
    fail "otk --help (exit $rc)"
fi

# unknown subcommand
run_otk frobnicate
if [ $rc -eq 2 ] && grep -q "frobnicate" "$tmp/err" && grep -q -- "--help" "$tmp/err"; then
    pass "unknown subcommand: exit 2 with a hint"
else
    fail "unknown subcommand (exit $rc, expected 2 and a hint)"
fi

# demo
run_otk demo
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    all(k in d for k in ("ot_kl", "ot_ent", "ot_lin", "eps", "rho_a", "rho_b", "iterations",
        "annealing_iterations", "marginal_error", "status", "cost", "n", "m", "d", "schedule",
        "update", "mass_a", "mass_b", "seconds", "threads", "otkit_version", "problem"))
    and d["problem"] == "demo" and d["status"] == "ok" and d["marginal_error"] <= 1e-6
    and d["ot_lin"] > 0 and d["n"] == 200 and d["m"] == 150 and d["d"] == 2
    and d["rho_a"] is None and d["rho_b"] is None and abs(d["eps"] - 0.05 ** 2) < 1e-15
    and d["cost"] == "half-sqeuclidean" and d["seconds"] >= 0'; then
    pass "otk demo: JSON with the required keys, status ok, marginal_error <= 1e-6, ot_lin > 0"
else
    fail "otk demo JSON (exit $rc)"
fi
if [ -s "$tmp/err" ]; then
    pass "otk demo: summary on stderr"
else
    fail "otk demo printed no summary on stderr"
fi

# demo --svg: a complete SVG document
run_otk demo --svg "$tmp/demo.svg"
if [ $rc -eq 0 ] && "$PYTHON" -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
sys.exit(0 if root.tag == ns + "svg" and len(root.findall(".//" + ns + "circle")) >= 350
         and root.findall(".//" + ns + "line") else 1)' "$tmp/demo.svg"; then
    pass "otk demo --svg writes a well-formed SVG with the points and couplings"
else
    fail "otk demo --svg (exit $rc)"
fi

# x = {0, 1} -> y = {0, 1}: the identity matching costs 0; the crossed one
# costs 2·½·1 = 1 more, so with eps = 1e-3 its weight ~ e^{-1000} vanishes.
run_otk sinkhorn "$tmp/x01.csv" "$tmp/y01.csv" --eps 1e-3
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    'd["status"] == "ok" and abs(d["ot_lin"]) <= 1e-6 and d["n"] == 2 and d["d"] == 1'; then
    pass "sinkhorn x={0,1} y={0,1} eps 1e-3: ot_lin = 0 (to 1e-6)"
else
    fail "sinkhorn x={0,1} y={0,1} (exit $rc)"
fi

# x = {0, 1} -> y = {2, 3}: the monotone matching moves each point by 2, cost
# ½·4 + ½·4 = 4; the crossed one costs ½·9 + ½·1 = 5.
run_otk sinkhorn "$tmp/x01.csv" "$tmp/y23.csv" --eps 1e-3
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    'd["status"] == "ok" and abs(d["ot_lin"] - 4) <= 1e-6'; then
    pass "sinkhorn x={0,1} y={2,3} eps 1e-3: ot_lin = 4 (to 1e-6)"
else
    fail "sinkhorn x={0,1} y={2,3} (exit $rc)"
fi

# nothing on stderr when all is well and stderr is not a terminal
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ]; then
    pass "sinkhorn: silent stderr on success"
else
    fail "sinkhorn wrote to stderr on success"
fi

# CSV and .npy inputs give identical values
run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --blur 0.3
cp "$tmp/out" "$tmp/from_csv.json"
rc_csv=$rc
run_otk sinkhorn "$tmp/X.npy" "$tmp/Y.npy" --blur 0.3
if [ $rc_csv -eq 0 ] && [ $rc -eq 0 ] && "$PYTHON" -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    del d["seconds"]
sys.exit(0 if a == b and a["n"] == 6 and a["m"] == 5 and a["d"] == 2 else 1)' \
    "$tmp/from_csv.json" "$tmp/out"; then
    pass "CSV and .npy inputs give identical JSON values"
else
    fail "CSV and .npy inputs differ (exit $rc_csv and $rc)"
fi

# malformed CSV: exit 2, file:line:column
run_otk sinkhorn "$tmp/bad_number.csv" "$tmp/X.csv"
if [ $rc -eq 2 ] && grep -q 'bad_number.csv:2:3: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "malformed CSV: exit 2, message at file:line:column (bad_number.csv:2:3)"
else
    fail "malformed CSV (exit $rc, expected 2 and 'bad_number.csv:2:3:')"
fi

# ragged CSV: exit 2, file:line
run_otk sinkhorn "$tmp/bad_columns.csv" "$tmp/X.csv"
if [ $rc -eq 2 ] && grep -q 'bad_columns.csv:3: row has 3 columns, expected 2' "$tmp/err"; then
    pass "ragged CSV: exit 2, 'file:3: row has 3 columns, expected 2'"
else
    fail "ragged CSV (exit $rc)"
fi

# dimension mismatch between X and Y
run_otk sinkhorn "$tmp/X.csv" "$tmp/x01.csv"
if [ $rc -eq 2 ]; then
    pass "dimension mismatch between X and Y: exit 2"
else
    fail "dimension mismatch (exit $rc, expected 2)"
fi

# negative weight
run_otk sinkhorn "$tmp/x012.csv" "$tmp/y01.csv" --a "$tmp/negative_weights.csv"
if [ $rc -eq 2 ] && grep -q 'negative' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "negative weight: exit 2, the library's message"
else
    fail "negative weight (exit $rc, expected 2)"
fi

# conflicting options
run_otk sinkhorn "$tmp/x01.csv" "$tmp/y01.csv" --eps 0.1 --blur 0.1
if [ $rc -eq 2 ] && grep -q -- '--blur' "$tmp/err"; then
    pass "--eps with --blur: exit 2 naming the option"
else
    fail "--eps with --blur (exit $rc, expected 2)"
fi
# "not given" is its own state: --blur at its default value still conflicts
# with --eps, and --rho with --reach; the message names both options
for cmd in sinkhorn divergence; do
    run_otk $cmd "$tmp/x01.csv" "$tmp/y01.csv" --eps 0.01 --blur 0.05
    if [ $rc -eq 2 ] && grep -q -- '--eps' "$tmp/err" && grep -q -- '--blur' "$tmp/err" \
        && [ ! -s "$tmp/out" ]; then
        pass "$cmd --eps 0.01 --blur 0.05 (the default blur): exit 2 naming both"
    else
        fail "$cmd --eps 0.01 --blur 0.05 (exit $rc, expected 2 naming --eps and --blur)"
    fi
done
for pair in "--rho --reach" "--reach --rho-a" "--rho --rho-b"; do
    first=${pair% *}
    second=${pair#* }
    run_otk sinkhorn "$tmp/x01.csv" "$tmp/y01.csv" "$first" 1 "$second" 1
    if [ $rc -eq 2 ] && grep -q -- "$first" "$tmp/err" && grep -q -- "$second" "$tmp/err" \
        && [ ! -s "$tmp/out" ]; then
        pass "sinkhorn $first 1 $second 1: exit 2 naming both"
    else
        fail "sinkhorn $first 1 $second 1 (exit $rc, expected 2 naming both)"
    fi
done

# scale-aware eps (OTT's relative_epsilon, scale_cost): eps = F x stat(C) of
# the sqeuclidean cost of X, Y recomputed here; --scale-cost S reports s.
for stat in mean median max_cost; do
    run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --relative-eps 0.05 --relative-to $stat
    if [ $rc -eq 0 ] && json_true "$tmp/out" '
(lambda X, Y, s: abs(d["eps"] - 0.05 * s(sorted(sum((xi - yi) ** 2 for xi, yi in zip(x, y))
                                        for x in X for y in Y))) <= 1e-12 * d["eps"])(
    csv(T + "/X.csv"), csv(T + "/Y.csv"),
    {"mean": lambda v: sum(v) / len(v), "max_cost": lambda v: v[-1],
     "median": lambda v: (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2}["'$stat'"])
and d["scale_cost"] == 1'; then
        pass "sinkhorn --relative-eps 0.05 --relative-to $stat: eps = 0.05 x $stat(C)"
    else
        fail "sinkhorn --relative-eps --relative-to $stat (exit $rc)"
    fi
done
run_otk divergence "$tmp/X.csv" "$tmp/Y.csv" --scale-cost 2.5 --eps 0.01
if [ $rc -eq 0 ] && json_true "$tmp/out" 'd["scale_cost"] == 2.5 and abs(d["eps"] - 0.025) < 1e-15'; then
    pass "divergence --scale-cost 2.5 --eps 0.01: eps 0.025 in units of C"
else
    fail "divergence --scale-cost 2.5 (exit $rc)"
fi
for pair in "--relative-eps 0.1 --eps 0.01" "--relative-eps 0.1 --blur 0.05"; do
    for cmd in sinkhorn divergence; do
        other=$(echo "$pair" | cut -d' ' -f3)
        run_otk $cmd "$tmp/x01.csv" "$tmp/y01.csv" $pair
        if [ $rc -eq 2 ] && grep -q -- '--relative-eps' "$tmp/err" \
            && grep -q -- "$other" "$tmp/err" && [ ! -s "$tmp/out" ]; then
            pass "$cmd $pair: exit 2 naming both"
        else
            fail "$cmd $pair (exit $rc, expected 2 naming both)"
        fi
    done
done
run_otk sinkhorn "$tmp/x01.csv" "$tmp/y01.csv" --scale-cost meen
if [ $rc -eq 2 ] && grep -q -- 'median' "$tmp/err"; then
    pass "--scale-cost meen: exit 2 listing the statistics"
else
    fail "--scale-cost meen (exit $rc, expected 2)"
fi

# not converged: exit 3, JSON still printed
run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --max-iter 1 --tol 1e-15
if [ $rc -eq 3 ] && json_true "$tmp/out" \
    'd["status"] == "not_converged" and d["marginal_error"] > 1e-15'; then
    pass "--max-iter 1 --tol 1e-15: exit 3, status not_converged"
else
    fail "--max-iter 1 --tol 1e-15 (exit $rc, expected 3)"
fi

# --plan into a directory that does not exist: exit 2, nothing created
run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --plan "$tmp/no/such/dir/plan.csv"
if [ $rc -eq 2 ] && [ ! -e "$tmp/no" ] && [ ! -s "$tmp/out" ]; then
    pass "--plan into a missing directory: exit 2, no file created"
else
    fail "--plan into a missing directory (exit $rc, expected 2)"
fi

# --potentials: a header comment, then n + m values
run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --potentials "$tmp/fg.csv" --plan "$tmp/plan.csv"
potentials_rc=$rc
values=$(grep -v '^#' "$tmp/fg.csv" 2>/dev/null | grep -c .)
if [ $rc -eq 0 ] && [ "$values" = 11 ] &&
    head -n 1 "$tmp/fg.csv" | grep -q '^# f (6 rows) then g (5 rows), GeomLoss gauge'; then
    pass "--potentials: header comment and n + m = 11 value lines"
else
    fail "--potentials (exit $rc, $values value lines, expected 11)"
fi

# --plan: n rows of m values, total mass 1
if [ $rc -eq 0 ] && "$PYTHON" -c '
import sys
rows = [l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
P = [[float(v) for v in r.split(",")] for r in rows]
sys.exit(0 if len(P) == 6 and all(len(r) == 5 for r in P)
         and abs(sum(map(sum, P)) - 1) < 1e-6 else 1)' "$tmp/plan.csv"; then
    pass "--plan: 6 rows of 5 columns, total mass 1"
else
    fail "--plan file (exit $rc)"
fi

# --init reads what --potentials wrote: the warm re-solve starts converged
# (0 updates, at most 2 allowed) and reports the same values to 1e-10.
if [ "$potentials_rc" -eq 0 ]; then
    cp "$tmp/out" "$tmp/cold.json"
    run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --init "$tmp/fg.csv"
    if [ $rc -eq 0 ] && "$PYTHON" -c '
import json, sys
cold, warm = (json.load(open(p)) for p in sys.argv[1:3])
same = all(abs(cold[k] - warm[k]) <= 1e-10 * max(1.0, abs(cold[k]))
           for k in ("ot_kl", "ot_ent", "ot_lin"))
sys.exit(0 if same and warm["iterations"] <= 2 and warm["warm_start"] is True
         and cold["warm_start"] is False else 1)' "$tmp/cold.json" "$tmp/out"; then
        pass "--init from --potentials: <= 2 iterations, same values to 1e-10, warm_start true"
    else
        fail "--init from --potentials (exit $rc): $(head -c 300 "$tmp/out")"
    fi
else
    fail "--init (skipped: the --potentials solve failed)"
fi

# --init with the wrong number of values, or a missing file: exit 2 naming it
head -n 6 "$tmp/fg.csv" >"$tmp/fg_short.csv"
run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --init "$tmp/fg_short.csv"
if [ $rc -eq 2 ] && grep -q "fg_short.csv" "$tmp/err" && grep -q "n + m = 6 + 5 = 11" "$tmp/err" &&
    [ ! -s "$tmp/out" ]; then
    pass "--init with 5 values: exit 2, names the file and n + m = 11"
else
    fail "--init with 5 values (exit $rc, expected 2 and a message naming the file)"
fi
run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --init "$tmp/no_such_init.csv"
if [ $rc -eq 2 ] && grep -q "no_such_init.csv" "$tmp/err"; then
    pass "--init with a missing file: exit 2, names it"
else
    fail "--init with a missing file (exit $rc, expected 2)"
fi

# A write that fails half-way (file size limit) leaves the old file intact
# and no temporary behind.
echo "previous content" >"$tmp/big_plan.csv"
(
    trap '' XFSZ
    ulimit -f 8 2>/dev/null || exit 99
    exec "$OTK" sinkhorn "$tmp/X60.csv" "$tmp/Y50.csv" --blur 0.5 --plan "$tmp/big_plan.csv"
) >"$tmp/out" 2>"$tmp/err"
rc=$?
leftovers=0
for temporary in "$tmp"/.big_plan*; do
    [ -e "$temporary" ] && leftovers=$((leftovers + 1))
done
if [ $rc -eq 99 ]; then
    pass "failed --plan write (skipped: cannot set a file size limit here)"
elif [ $rc -eq 2 ] && [ "$(cat "$tmp/big_plan.csv")" = "previous content" ] &&
    [ "$leftovers" = 0 ]; then
    pass "failed --plan write: exit 2, old file untouched, no temporary left"
else
    fail "failed --plan write (exit $rc, $leftovers temporaries left," \
        "content now: $(head -c 40 "$tmp/big_plan.csv"))"
fi

# otk sinkhorn --help mentions every option of the contract
run_otk sinkhorn --help
missing=
for option in --a --b --cost --power --eps --blur --rho --reach --schedule --scaling --tol \
    --max-iter --threads --potentials --plan --init --cost-matrix --update --rho-a --rho-b \
    sqeuclidean half-sqeuclidean euclidean l1 lp lp-over-p converge fixed; do
    grep -q -E -e "(^|[^a-z-])$option([^a-z-]|\$)" "$tmp/out" || missing="$missing $option"
done
if [ $rc -eq 0 ] && [ -z "$missing" ]; then
    pass "otk sinkhorn --help mentions every option"
else
    fail "otk sinkhorn --help (exit $rc) does not mention:$missing"
fi

# ------------------------------------------------------------------ divergence

# divergence: the JSON parses and has the keys of the contract
run_otk divergence "$tmp/X.csv" "$tmp/Y.csv" --blur 0.3
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    all(k in d for k in ("divergence", "eps", "iterations", "cost", "status", "seconds"))
    and d["status"] == "ok" and math.isfinite(d["divergence"]) and d["seconds"] >= 0
    and d["n"] == 6 and d["m"] == 5 and d["d"] == 2'; then
    pass "divergence: JSON with divergence, eps, iterations, cost, status, seconds"
    cp "$tmp/out" "$tmp/divergence.json"
else
    fail "divergence JSON (exit $rc)"
fi

# S(alpha, alpha) = 0.  With the fixed schedule the cross and the self
# problems run the very same iterations, so the debiasing cancels to rounding;
# the converge schedule stops each solve at its own tolerance and leaves a
# residue of the order of --tol (about 1e-11 here), too coarse for this check.
run_otk divergence "$tmp/X.csv" "$tmp/X.csv" --blur 0.3 --schedule fixed
if [ $rc -eq 0 ] && json_true "$tmp/out" 'abs(d["divergence"]) < 1e-12'; then
    pass "divergence X X: S(alpha, alpha) = 0 (to 1e-12)"
else
    fail "divergence X X (exit $rc, expected |divergence| < 1e-12)"
fi

# --grad-x: a header comment, then n = 6 lines of d = 2 values
run_otk divergence "$tmp/X.csv" "$tmp/Y.csv" --blur 0.3 --grad-x "$tmp/grad_x.csv"
if [ $rc -eq 0 ] && "$PYTHON" -c '
import math, sys
rows = [l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
G = [[float(v) for v in r.split(",")] for r in rows]
sys.exit(0 if len(G) == 6 and all(len(r) == 2 and all(map(math.isfinite, r)) for r in G)
         else 1)' "$tmp/grad_x.csv"; then
    pass "divergence --grad-x: 6 lines of 2 values"
else
    fail "divergence --grad-x (exit $rc)"
fi

# A batch: X (B, n, d) and Y (B, m, d) as 3-D .npy, weights as B rows.
# Problem 1 pads 4 of its 7 points (2 of its 5) with zero weight.  Each value,
# iteration count and gradient row must equal the single solve of its slice
# (problem 1: of its real points) to 1e-12 relative.
"$PYTHON" - "$tmp" <<'EOF2'
import math, struct, sys
tmp = sys.argv[1]
B, n, m = 3, 7, 5
X = [[[math.sin(1.3 * i + k), math.cos(0.7 * i) + 0.1 * i * k] for i in range(n)] for k in range(B)]
Y = [[[0.5 + math.cos(2.1 * j - k), 0.3 * j - math.sin(j + k)] for j in range(m)] for k in range(B)]
A = [[1.0 + 0.1 * ((i * 3 + k) % 5) for i in range(n)] for k in range(B)]
Bw = [[1.0 + 0.2 * ((j + 2 * k) % 3) for j in range(m)] for k in range(B)]
for i in range(3, n):
    A[1][i] = 0.0
    X[1][i] = X[1][0]
for j in range(3, m):
    Bw[1][j] = 0.0
A = [[v / sum(r) for v in r] for r in A]
Bw = [[v / sum(r) for v in r] for r in Bw]

def save_npy(path, arr, shape):
    flat = []
    def walk(a):
        for v in a:
            walk(v) if isinstance(v, list) else flat.append(v)
    walk(arr)
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as fh:
        fh.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        fh.write(struct.pack("<%dd" % len(flat), *flat))

def save_csv(path, rows):
    with open(path, "w") as fh:
        for row in rows:
            fh.write(", ".join(repr(v) for v in row) + "\n")

save_npy(tmp + "/BX.npy", X, (B, n, 2))
save_npy(tmp + "/BY.npy", Y, (B, m, 2))
save_npy(tmp + "/BY2.npy", Y[:2], (2, m, 2))
save_csv(tmp + "/BA.csv", A)
save_npy(tmp + "/BB.npy", Bw, (B, m))
save_csv(tmp + "/BA_short.csv", A[:2])
for k in range(B):
    real_n, real_m = (3, 3) if k == 1 else (n, m)
    save_csv(tmp + "/BX%d.csv" % k, X[k][:real_n])
    save_csv(tmp + "/BY%d.csv" % k, Y[k][:real_m])
    save_csv(tmp + "/BA%d.csv" % k, [[v] for v in A[k][:real_n]])
    save_csv(tmp + "/BB%d.csv" % k, [[v] for v in Bw[k][:real_m]])
EOF2
for extra in "--blur 0.3" "--relative-eps 0.1 --schedule fixed" "--blur 0.4 --reach 1.5"; do
    ok=1
    # shellcheck disable=SC2086
    run_otk divergence "$tmp/BX.npy" "$tmp/BY.npy" --a "$tmp/BA.csv" --b "$tmp/BB.npy" \
        --grad-x "$tmp/bgx.csv" --grad-b "$tmp/bgb.csv" --tol 1e-10 $extra
    [ $rc -eq 0 ] && cp "$tmp/out" "$tmp/batch.json" || ok=0
    for k in 0 1 2; do
        # shellcheck disable=SC2086
        [ $ok -eq 1 ] && run_otk divergence "$tmp/BX$k.csv" "$tmp/BY$k.csv" --a "$tmp/BA$k.csv" \
            --b "$tmp/BB$k.csv" --grad-x "$tmp/sgx$k.csv" --grad-b "$tmp/sgb$k.csv" \
            --tol 1e-10 $extra && [ $rc -eq 0 ] && cp "$tmp/out" "$tmp/single$k.json" || ok=0
    done
    if [ $ok -eq 1 ] && json_true "$tmp/batch.json" '
        d["batch"] == 3 and d["status"] == "ok" and d["not_converged"] == [] and all(
            abs(d["divergence"][k] - s["divergence"]) <= 1e-12 * abs(s["divergence"])
            and abs(d["eps"][k] - s["eps"]) <= 1e-12 * s["eps"]
            and d["iterations"][k] == s["iterations"]
            and max(abs(u - v) for r, q in zip(csv(T + "/bgx.csv")[7 * k:7 * k + len(sx)], sx)
                    for u, v in zip(r, q)) <= 1e-12 * max(abs(v) for q in sx for v in q)
            and max(abs(r[0] - q[0]) for r, q in zip(csv(T + "/bgb.csv")[5 * k:5 * k + len(sb)], sb))
                <= 1e-12 * max(abs(q[0]) for q in sb)
            for k, s, sx, sb in ((k, __import__("json").load(open(T + "/single%d.json" % k)),
                                  csv(T + "/sgx%d.csv" % k), csv(T + "/sgb%d.csv" % k))
                                 for k in range(3)))'; then
        pass "divergence on a batch ($extra): each value, eps, iteration count and gradient row equal to the single solve of its slice (padding: its real points) to 1e-12"
    else
        fail "divergence on a batch ($extra) (exit $rc)"
    fi
done

# A batch stopped at --max-iter: exit 3, every problem listed, and the
# message quotes the largest marginal error among them (as a single solve's).
run_otk divergence "$tmp/BX.npy" "$tmp/BY.npy" --a "$tmp/BA.csv" --b "$tmp/BB.npy" \
    --schedule converge --max-iter 1 --tol 1e-15 --blur 0.3
worst=$("$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print("%.3g" % max(d["marginal_error"]))' "$tmp/out" 2>/dev/null)
if [ $rc -eq 3 ] && [ -n "$worst" ] && json_true "$tmp/out" 'd["not_converged"] == [0, 1, 2]' &&
    grep -q "not converged: marginal error $worst > --tol 1e-15" "$tmp/err"; then
    pass "divergence on a batch at --max-iter 1: exit 3, problems 0-2 listed, the worst error ($worst) quoted"
else
    fail "divergence on a batch at --max-iter 1 (exit $rc: $(cat "$tmp/err"))"
fi

# Batch refusals: exit 2, nothing on stdout, the files and the argument named.
run_otk divergence "$tmp/BX.npy" "$tmp/BY2.npy"
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
    grep -q 'BY2.npy (Y) is a batch of 2 problems, but .*BX.npy (X) has 3' "$tmp/err"; then
    pass "divergence, batches of different B: exit 2, both files named"
else
    fail "divergence, batches of different B (exit $rc)"
fi
run_otk divergence "$tmp/BX.npy" "$tmp/Y.npy"
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
    grep -q 'BX.npy (X) is a batch of 3 problems (a 3×7×2 array) but .*Y.npy (Y) is a table' "$tmp/err"; then
    pass "divergence, a batch X with a table Y: exit 2, both files named"
else
    fail "divergence, a batch X with a table Y (exit $rc)"
fi
run_otk divergence "$tmp/BX.npy" "$tmp/BY.npy" --a "$tmp/BA_short.csv"
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
    grep -q 'BA_short.csv (--a): a table of 2 rows of 7 weights, but X is a batch of 3 problems of 7 points' "$tmp/err"; then
    pass "divergence, batch weights of the wrong shape: exit 2, file and --a named"
else
    fail "divergence, batch weights of the wrong shape (exit $rc)"
fi
run_otk emd "$tmp/BX.npy" "$tmp/BY.npy"
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
    grep -q 'BX.npy: .npy array has 3 dimensions (3×7×2); otk reads 1-D or 2-D arrays here' "$tmp/err"; then
    pass "emd, a 3-D .npy: exit 2, the file and the shape named"
else
    fail "emd, a 3-D .npy (exit $rc)"
fi
run_otk sinkhorn "$tmp/BX.npy" "$tmp/BY.npy" --eps 0.1 --plan "$tmp/bplan.csv"
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && [ ! -e "$tmp/bplan.csv" ] &&
    grep -q -- '--plan is for one problem; .*BX.npy is a batch of 3' "$tmp/err"; then
    pass "sinkhorn --plan on a batch: exit 2, refused naming the option and the file"
else
    fail "sinkhorn --plan on a batch (exit $rc)"
fi

# otk sinkhorn on the same batch: values, eps and potentials of each problem
# equal to the single solve of its slice (problem 1: of its real points).
ok=1
run_otk sinkhorn "$tmp/BX.npy" "$tmp/BY.npy" --a "$tmp/BA.csv" --b "$tmp/BB.npy" \
    --relative-eps 0.2 --tol 1e-10 --potentials "$tmp/bpot.csv"
[ $rc -eq 0 ] && cp "$tmp/out" "$tmp/sbatch.json" || ok=0
for k in 0 1 2; do
    [ $ok -eq 1 ] && run_otk sinkhorn "$tmp/BX$k.csv" "$tmp/BY$k.csv" --a "$tmp/BA$k.csv" \
        --b "$tmp/BB$k.csv" --relative-eps 0.2 --tol 1e-10 --potentials "$tmp/spot$k.csv" &&
        [ $rc -eq 0 ] && cp "$tmp/out" "$tmp/ssingle$k.json" || ok=0
done
if [ $ok -eq 1 ] && json_true "$tmp/sbatch.json" '
    d["batch"] == 3 and d["status"] == "ok" and all(
        all(abs(d[v][k] - s[v]) <= 1e-12 * abs(s[v]) for v in ("ot_kl", "ot_ent", "ot_lin", "eps"))
        and d["iterations"][k] == s["iterations"]
        and max(abs(u[0] - q[0]) for u, q in zip(csv(T + "/bpot.csv")[7 * k:7 * k + s["n"]], p))
            <= 1e-12 * max(abs(q[0]) for q in p)
        and max(abs(u[0] - q[0]) for u, q in zip(csv(T + "/bpot.csv")[21 + 5 * k:21 + 5 * k + s["m"]],
                                                 p[s["n"]:])) <= 1e-12 * max(abs(q[0]) for q in p)
        for k, s, p in ((k, __import__("json").load(open(T + "/ssingle%d.json" % k)),
                         csv(T + "/spot%d.csv" % k)) for k in range(3)))'; then
    pass "sinkhorn on a batch (--relative-eps 0.2): each ot_kl, ot_ent, ot_lin, eps, iteration count and potential equal to the single solve of its slice to 1e-12"
else
    fail "sinkhorn on a batch (exit $rc)"
fi

# --no-debias prints OT(a, b) alone, another value
run_otk divergence "$tmp/X.csv" "$tmp/Y.csv" --blur 0.3 --no-debias
if [ $rc -eq 0 ] && [ -s "$tmp/divergence.json" ] && "$PYTHON" -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a["debias"] is True and b["debias"] is False
         and abs(a["divergence"] - b["divergence"]) > 1e-6 else 1)' \
    "$tmp/divergence.json" "$tmp/out"; then
    pass "divergence --no-debias: debias false and another value"
else
    fail "divergence --no-debias (exit $rc)"
fi

# malformed CSV: exit 2, file:line:column, nothing on stdout
run_otk divergence "$tmp/bad_number.csv" "$tmp/X.csv"
if [ $rc -eq 2 ] && grep -q 'bad_number.csv:2:3: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "divergence, malformed CSV: exit 2, message at file:line:column"
else
    fail "divergence, malformed CSV (exit $rc, expected 2 and 'bad_number.csv:2:3:')"
fi

# not converged: exit 3, JSON still printed
run_otk divergence "$tmp/X.csv" "$tmp/Y.csv" --schedule converge --max-iter 1 --tol 1e-15
if [ $rc -eq 3 ] && json_true "$tmp/out" '
    d["status"] == "not_converged" and d["schedule"] == "converge"
    and d["marginal_error"] > 1e-15' && grep -q 'not converged' "$tmp/err"; then
    pass "divergence --schedule converge --max-iter 1 --tol 1e-15: exit 3, not_converged"
else
    fail "divergence --max-iter 1 --tol 1e-15 (exit $rc, expected 3)"
fi

# ------------------------------------------------------------------ sinkd

# 4 x 3 student and teacher logits, a 2 x 3 table, a NaN, labels
printf '1,2,3\n0,0.5,-1\n2,1,0\n-3,4,0.25\n' >"$tmp/zs.csv"
printf '0.5,2,2.5\n1,0,-1\n2,2,0\n-1,3,1\n' >"$tmp/zt.csv"
printf '1,2,3\n0,0.5,-1\n' >"$tmp/z2x3.csv"
printf '1,2,3\n0,nan,-1\n2,1,0\n-3,4,0.25\n' >"$tmp/znan.csv"
printf '0\n2\n1\n2\n' >"$tmp/labels.csv"
printf '0\n2\n3\n1\n' >"$tmp/labels_bad.csv"

# sinkd: the JSON parses and has the keys of the contract
run_otk sinkd "$tmp/zs.csv" "$tmp/zt.csv"
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    all(k in d for k in ("loss", "tau", "eps", "iters", "cost", "weight", "B", "K",
                         "grad_mode", "seconds", "status", "otkit_version"))
    and d["status"] == "ok" and math.isfinite(d["loss"]) and d["loss"] >= 0
    and d["B"] == 4 and d["K"] == 3 and d["tau"] == 2 and d["eps"] == 0.1
    and d["iters"] == 20 and d["cost"] == "l1" and d["weight"] == 1
    and d["grad_mode"] == "unrolled" and d["seconds"] >= 0'; then
    pass "sinkd: JSON with loss, tau, eps, iters, cost, weight, B, K, grad_mode, seconds, status"
else
    fail "sinkd JSON (exit $rc)"
fi

# sinkd with labels: the parts of the combined objective
run_otk sinkd "$tmp/zs.csv" "$tmp/zt.csv" --labels "$tmp/labels.csv" --alpha 0.9 --beta 0.8
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    all(k in d for k in ("loss", "kd", "ce", "sinkd", "alpha", "beta"))
    and d["alpha"] == 0.9 and d["beta"] == 0.8
    and abs(d["loss"] - (0.9 * d["kd"] + 0.1 * d["ce"] + 0.8 * d["sinkd"]))
        <= 1e-12 * max(1.0, abs(d["loss"]))'; then
    pass "sinkd --labels: loss = alpha*kd + (1-alpha)*ce + beta*sinkd"
else
    fail "sinkd --labels (exit $rc)"
fi

# identical student and teacher: a small loss at a small eps
run_otk sinkd "$tmp/zs.csv" "$tmp/zs.csv" --eps 0.01
if [ $rc -eq 0 ] && json_true "$tmp/out" 'abs(d["loss"]) < 1e-6'; then
    pass "sinkd S S --eps 0.01: loss < 1e-6"
else
    fail "sinkd S S --eps 0.01 (exit $rc, expected |loss| < 1e-6)"
fi

# --grad: B lines of K values
run_otk sinkd "$tmp/zs.csv" "$tmp/zt.csv" --grad "$tmp/grad_s.csv"
if [ $rc -eq 0 ] && [ -f "$tmp/grad_s.csv" ] && "$PYTHON" -c '
import math, sys
rows = [l.split(",") for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
sys.exit(0 if len(rows) == 4 and all(len(r) == 3 and all(math.isfinite(float(v)) for v in r)
                                     for r in rows) else 1)' "$tmp/grad_s.csv"; then
    pass "sinkd --grad: 4 lines of 3 values"
else
    fail "sinkd --grad (exit $rc)"
fi

# mismatched shapes: exit 2, both files and shapes named, nothing on stdout
run_otk sinkd "$tmp/zs.csv" "$tmp/z2x3.csv"
if [ $rc -eq 2 ] && grep -q 'zs.csv is 4 x 3' "$tmp/err" && grep -q 'z2x3.csv is 2 x 3' "$tmp/err" \
    && [ ! -s "$tmp/out" ]; then
    pass "sinkd, mismatched shapes: exit 2, both files and shapes named"
else
    fail "sinkd, mismatched shapes (exit $rc, expected 2 naming zs.csv 4 x 3 and z2x3.csv 2 x 3)"
fi

# NaN in a CSV: exit 2, message at file:line:column
run_otk sinkd "$tmp/znan.csv" "$tmp/zt.csv"
if [ $rc -eq 2 ] && grep -q 'znan.csv:2:3: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "sinkd, NaN logit: exit 2, message at file:line:column"
else
    fail "sinkd, NaN logit (exit $rc, expected 2 and 'znan.csv:2:3:')"
fi

# a label out of range: exit 2, the label named
run_otk sinkd "$tmp/zs.csv" "$tmp/zt.csv" --labels "$tmp/labels_bad.csv" --alpha 0.9 --beta 0.8
if [ $rc -eq 2 ] && grep -q 'label 3 .*out of range' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "sinkd, label out of range: exit 2, the label named"
else
    fail "sinkd, label out of range (exit $rc, expected 2 and 'label 3 ... out of range')"
fi

# ------------------------------------------------------------------ monge-gap, entropic-map

# T(x) = 2x (the gradient of |x|^2, c-optimal) and a rotation by 90 degrees
"$PYTHON" - "$tmp" <<'EOF'
import math, sys
tmp = sys.argv[1]
X = [[math.sin(1.3 * i), math.cos(0.7 * i) + 0.1 * i] for i in range(6)]
def save(path, rows):
    with open(path, "w") as fh:
        for row in rows:
            fh.write(", ".join(repr(v) for v in row) + "\n")
save(tmp + "/TX2.csv", [[2 * a, 2 * b] for a, b in X])
save(tmp + "/TXrot.csv", [[-b, a] for a, b in X])
save(tmp + "/w6.csv", [[v / 21.0] for v in range(1, 7)])
EOF

# monge-gap: the JSON keys of the contract, M = displacement - ot_ent, M >= eps log n
run_otk monge-gap "$tmp/X.csv" "$tmp/TX2.csv" --eps 0.5
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    all(k in d for k in ("monge_gap", "eps", "displacement", "ot_ent", "lower_bound",
                         "iterations", "status"))
    and d["status"] == "ok" and d["eps"] == 0.5
    and abs(d["monge_gap"] - (d["displacement"] - d["ot_ent"])) <= 1e-12 * d["displacement"]
    and abs(d["lower_bound"] - 0.5 * math.log(6)) < 1e-15
    and d["lower_bound"] <= d["monge_gap"] <= 2 * d["lower_bound"]'; then
    pass "monge-gap X 2X: JSON keys, M = displacement - ot_ent, eps log n <= M <= 2 eps log n"
else
    fail "monge-gap X 2X (exit $rc)"
fi

# the rotation is far from optimal: M well above the bound (default relative eps)
run_otk monge-gap "$tmp/X.csv" "$tmp/TXrot.csv" --grad "$tmp/mg_grad.csv" --grad-x "$tmp/mg_gx.csv"
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    d["monge_gap"] > 3 * d["lower_bound"] and d["relative_eps"] == 0.05
    and d["relative_to"] == "std"' &&
    [ "$(grep -vc '^#' "$tmp/mg_grad.csv")" -eq 6 ] &&
    [ "$(grep -v '^#' "$tmp/mg_gx.csv" | awk -F, 'NF == 2' | wc -l)" -eq 6 ]; then
    pass "monge-gap rotation: M > 3 eps log n; --grad and --grad-x: 6 rows of 2 values"
else
    fail "monge-gap rotation / --grad (exit $rc)"
fi

# --weights and --relative-to mean: lower_bound = eps H(w)
run_otk monge-gap "$tmp/X.csv" "$tmp/TX2.csv" --w "$tmp/w6.csv" --relative-eps 0.1 --relative-to mean
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    abs(d["lower_bound"] - d["eps"] * -sum(k / 21.0 * math.log(k / 21.0) for k in range(1, 7)))
        < 1e-14 and d["relative_to"] == "mean" and d["monge_gap"] >= d["lower_bound"]'; then
    pass "monge-gap --weights --relative-to mean: lower_bound = eps H(w)"
else
    fail "monge-gap --weights (exit $rc)"
fi

# bad input: row counts differ, --eps with --relative-eps, unknown cost, a negative weight
run_otk monge-gap "$tmp/X.csv" "$tmp/Y.csv"
if [ $rc -eq 2 ] && grep -q 'X.csv has 6 points but .*Y.csv has 5' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "monge-gap, 6 vs 5 points: exit 2, both counts named"
else
    fail "monge-gap, row mismatch (exit $rc)"
fi
run_otk monge-gap "$tmp/X.csv" "$tmp/TX2.csv" --eps 0.1 --relative-eps 0.1
if [ $rc -eq 2 ] && grep -q 'not both' "$tmp/err"; then
    pass "monge-gap --eps with --relative-eps: exit 2"
else
    fail "monge-gap --eps with --relative-eps (exit $rc)"
fi
run_otk monge-gap "$tmp/X.csv" "$tmp/TX2.csv" --cost sqeuclidian
if [ $rc -eq 2 ] && grep -q 'sqeuclidian' "$tmp/err"; then
    pass "monge-gap --cost sqeuclidian: exit 2, the name quoted"
else
    fail "monge-gap unknown cost (exit $rc)"
fi
# --weights, the former name of --w, is still read.
run_otk monge-gap "$tmp/x012.csv" "$tmp/x012.csv" --weights "$tmp/negative_weights.csv"
if [ $rc -eq 2 ] && grep -q 'w\[1\] = -0.25 is negative' "$tmp/err"; then
    pass "monge-gap negative weight: exit 2, w[1] named"
else
    fail "monge-gap negative weight (exit $rc)"
fi

# entropic-map: one row of d values per point of Z, inside the bounding box of Y
run_otk entropic-map "$tmp/X.csv" "$tmp/Y.csv" "$tmp/X60.csv" --blur 0.3
if [ $rc -eq 0 ] && [ "$(awk -F, 'NF == 2' "$tmp/out" | wc -l)" -eq 60 ] && "$PYTHON" -c '
import sys
rows = [[float(v) for v in l.split(",")] for l in open(sys.argv[1])]
ys = [[float(v) for v in l.split(",")] for l in open(sys.argv[2])]
ok = all(min(y[k] for y in ys) - 1e-12 <= r[k] <= max(y[k] for y in ys) + 1e-12
         for r in rows for k in range(2))
sys.exit(0 if ok else 1)' "$tmp/out" "$tmp/Y.csv"; then
    pass "entropic-map X Y X60: 60 rows of 2 values within the bounding box of Y"
else
    fail "entropic-map (exit $rc)"
fi
run_otk entropic-map "$tmp/X.csv" "$tmp/Y.csv" "$tmp/x01.csv"
if [ $rc -eq 2 ] && grep -q 'dimension mismatch' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "entropic-map, Z of another dimension: exit 2"
else
    fail "entropic-map dimension mismatch (exit $rc)"
fi

# ------------------------------------------------------------------ grid
# Two Diracs at the ends of a 1-D grid of 5 cells (h = 1/4): the transport
# cost is |1 - 0|^2 = 1 at small eps, known by hand.
printf '1\n0\n0\n0\n0\n' >"$tmp/g_left.csv"
printf '0\n0\n0\n0\n2\n' >"$tmp/g_right.csv"
run_otk grid "$tmp/g_left.csv" "$tmp/g_right.csv" --eps 1e-3
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    'd["mode"] == "ot" and abs(d["ot_lin"] - 1) < 1e-9 and d["dim"] == 1 and d["rows"] == 5 and d["spacing"] == 0.25 and d["path"] == "separable" and d["fft_plans"] == 2'; then
    pass "grid, 1-D Diracs: ot_lin = 1, path and plan count reported"
else
    fail "grid, 1-D Diracs (exit $rc)"
fi

# PGM inputs, binary (P5) and plain (P2) with a comment; 3 x 4 pixels.
printf 'P5\n# a comment\n4 3\n255\n' >"$tmp/g_a.pgm"
printf '\000\000\001\002\000\003\010\001\000\000\004\000' >>"$tmp/g_a.pgm"
printf 'P2\n4 3\n15\n0 1 0 0\n0 2 9 0\n0 0 3 1\n' >"$tmp/g_b.pgm"
printf 'P2\n4 3\n15\n1 1 1 1\n1 1 1 1\n1 1 1 1\n' >"$tmp/g_c.pgm"
run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm" --divergence --blur 0.2
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    'd["mode"] == "divergence" and d["value"] > 0 and d["rows"] == 3 and d["cols"] == 4 and d["debias"] is True'; then
    pass "grid --divergence on P5 and P2 images"
else
    fail "grid --divergence on P5 and P2 images (exit $rc)"
fi

# The defaults are the library's (docs/conventions.md): blur 0.05 for
# transport and the divergence (eps = 0.05^2 for sqeuclidean, 0.05 for l1),
# eps 0.01 for the barycenter; the spacing is 1/(N-1) on each axis (3 rows:
# 1/2, 4 columns: 1/3, POT's linspace(0, 1, N) per axis).
run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm"
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    'abs(d["eps"] - 0.0025) < 1e-15 and d["spacing"] == 0.5 and abs(d["spacing_cols"] - 1/3) < 1e-15'; then
    pass "grid defaults: blur 0.05 (eps 0.0025), spacing 1/2 and 1/3 on a 3 x 4 image"
else
    fail "grid defaults for transport (exit $rc)"
fi
run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm" --cost l1 --divergence
if [ $rc -eq 0 ] && json_true "$tmp/out" 'abs(d["eps"] - 0.05) < 1e-15'; then
    pass "grid --divergence --cost l1: default eps = blur = 0.05"
else
    fail "grid --divergence l1 default eps (exit $rc)"
fi
run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm" --barycenter --spacing 0.1
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    'd["eps"] == 0.01 and d["spacing"] == 0.1 and d["spacing_cols"] == 0.1'; then
    pass "grid --barycenter: default eps 0.01, --spacing on both axes"
else
    fail "grid --barycenter default eps (exit $rc)"
fi

run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm" "$tmp/g_c.pgm" --barycenter --weights 0.5,0.25,0.25 \
    --eps 0.05 --out "$tmp/g_bar.pgm"
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    'd["mode"] == "barycenter" and abs(d["mass"] - 1) < 1e-6 and d["inputs"] == 3 and d["softmin_calls"] > 0' \
    && [ "$(head -c 2 "$tmp/g_bar.pgm")" = "P5" ] && grep -q '^4 3$' "$tmp/g_bar.pgm"; then
    pass "grid --barycenter: mass 1, 16-bit PGM written"
else
    fail "grid --barycenter with --out PGM (exit $rc)"
fi

# PNG (builds with libpng): the barycenter written as PNG reads back as the
# same picture as the 16-bit PGM (up to 8-bit quantisation); without
# libpng, PNG input is refused with a message that says how to get it.
if "$OTK" --version | grep -q 'PNG (libpng)'; then
    run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm" "$tmp/g_c.pgm" --barycenter \
        --weights 0.5,0.25,0.25 --eps 0.05 --out "$tmp/g_bar.png"
    if [ $rc -eq 0 ] && [ "$(head -c 4 "$tmp/g_bar.png" | tail -c 3)" = "PNG" ]; then
        run_otk grid "$tmp/g_bar.png" "$tmp/g_bar.pgm" --divergence --blur 0.3
        if [ $rc -eq 0 ] && json_true "$tmp/out" \
            'd["value"] < 1e-5 and d["rows"] == 3 and d["cols"] == 4'; then
            pass "grid --out PNG, read back: the PGM's 3-row, 4-column picture (divergence < 1e-5)"
        else
            fail "grid PNG read back against the PGM (exit $rc)"
        fi
    else
        fail "grid --barycenter --out PNG (exit $rc)"
    fi
else
    printf '\211PNG\r\n\032\n' >"$tmp/g_fake.png"
    run_otk grid "$tmp/g_fake.png" "$tmp/g_a.pgm"
    if [ $rc -eq 2 ] && grep -q 'libpng' "$tmp/err"; then
        pass "grid PNG input without libpng: exit 2, says how to get it"
    else
        fail "grid PNG without libpng (exit $rc)"
    fi
fi

# The driver's thread rule (solvers/core/team.h) changes the threads of a
# pass, never its values: 300 x 300 points (threaded passes) at 2 threads
# with the rule on and off, and at 1 thread, agree to the last digit.
"$PYTHON" - "$tmp" <<'EOF'
import math, sys
with open(sys.argv[1] + "/team_x.csv", "w") as fx, open(sys.argv[1] + "/team_y.csv", "w") as fy:
    for i in range(300):
        fx.write("%r,%r,%r\n" % (math.sin(1.1 * i), math.cos(0.3 * i), math.sin(0.7 * i + 1)))
        fy.write("%r,%r,%r\n" % (math.cos(1.7 * i), math.sin(0.9 * i), math.cos(0.2 * i)))
EOF
team_ok=1
for run in "2 adaptive" "2 fixed" "1 adaptive"; do
    set -- $run
    if [ "$2" = fixed ]; then team_env=fixed; else team_env=; fi
    OTK_TEAM=$team_env "$OTK" sinkhorn "$tmp/team_x.csv" "$tmp/team_y.csv" --eps 0.01 \
        --threads "$1" --potentials "$tmp/team_pot_$1_$2.csv" 2>"$tmp/err" |
        grep -v '"seconds"\|"threads"' >"$tmp/team_$1_$2.json" || team_ok=0
done
if [ $team_ok = 1 ] && cmp -s "$tmp/team_2_adaptive.json" "$tmp/team_2_fixed.json" &&
    cmp -s "$tmp/team_2_adaptive.json" "$tmp/team_1_adaptive.json" &&
    cmp -s "$tmp/team_pot_2_adaptive.csv" "$tmp/team_pot_2_fixed.csv" &&
    cmp -s "$tmp/team_pot_2_adaptive.csv" "$tmp/team_pot_1_adaptive.csv" &&
    grep -q '"iterations"' "$tmp/team_2_adaptive.json"; then
    pass "sinkhorn 300 x 300 at 2 threads, OTK_TEAM default and fixed, and 1 thread: bitwise the same"
else
    fail "the thread rule changed a value (OTK_TEAM default vs fixed vs 1 thread)"
fi

# Headers that claim more than the file holds: refused on the missing data,
# before the claimed size is allocated.  Under a 1 GB limit an allocation of
# the claimed size fails, so a reader that trusts the header says "out of
# memory" instead of the messages checked here.  The limit is an
# address-space ulimit, or under AddressSanitizer (which cannot start in a
# small address space) its own largest allocation.
mem_limited() { # COMMAND...
    if [ -n "${ASAN_OPTIONS:-}" ]; then
        ASAN_OPTIONS="$ASAN_OPTIONS:allocator_may_return_null=1:max_allocation_size_mb=1000" "$@"
    else
        (ulimit -v 1000000 && "$@")
    fi
}
printf 'P5\n30000 30000\n255\nabc' >"$tmp/g_huge.pgm"
mem_limited "$OTK" grid "$tmp/g_huge.pgm" "$tmp/g_a.pgm" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'g_huge.pgm: the file ends after 3 of 900000000 pixels' "$tmp/err"; then
    pass "grid: a PGM claiming 30000 x 30000 pixels with 3 present: exit 2, the count named"
else
    fail "grid: PGM header larger than its data (exit $rc: $(cat "$tmp/err"))"
fi
if "$OTK" --version | grep -q 'PNG (libpng)'; then
    "$PYTHON" - "$tmp/g_huge.png" <<'EOF'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack(">IIBBBBB", 1000000, 1000000, 8, 0, 0, 0, 0)
with open(sys.argv[1], "wb") as fh:
    fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
             + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
EOF
    mem_limited "$OTK" grid "$tmp/g_huge.png" "$tmp/g_a.pgm" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q 'claims 1000000 x 1000000 pixels, more than a 69-byte file' \
        "$tmp/err"; then
        pass "grid: a 69-byte PNG claiming 10^6 x 10^6 pixels: exit 2 before allocating"
    else
        fail "grid: PNG header larger than its data (exit $rc: $(cat "$tmp/err"))"
    fi
fi
printf 'otkit-map 1\nfamily affine\ndim 46340\nparams 2147441940\n0\n' >"$tmp/huge_affine.map"
printf 'otkit-map 1\nfamily mlp\ndim 4\nactivation gelu\nhidden 2 1048576 1048576\nparams 1099522113540\n0\n' \
    >"$tmp/huge_mlp.map"
printf '1,2,3,4\n' >"$tmp/z4.csv"
for m in huge_affine huge_mlp; do
    mem_limited "$OTK" apply-map "$tmp/$m.map" "$tmp/z4.csv" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "$m.map:[68]: unexpected end of file: parameter 2 of" "$tmp/err"; then
        pass "apply-map: a model claiming $m-sized parameters with one present: exit 2, the line named"
    else
        fail "apply-map: $m model header larger than its data (exit $rc: $(cat "$tmp/err"))"
    fi
done

run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm" --barycenter --out "$tmp/g_bar.csv" --eps 0.05
if [ $rc -eq 0 ] && [ "$(grep -vc '^#' "$tmp/g_bar.csv")" = 3 ]; then
    pass "grid --barycenter --out CSV: 3 rows"
else
    fail "grid --barycenter --out CSV (exit $rc)"
fi

# shapes that differ: exit 2, both files named
run_otk grid "$tmp/g_a.pgm" "$tmp/g_left.csv"
if [ $rc -eq 2 ] && grep -q 'g_left.csv is 5 x 1, .*g_a.pgm is 3 x 4' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "grid, mismatched shapes: exit 2, both shapes named"
else
    fail "grid, mismatched shapes (exit $rc)"
fi

# a negative value: exit 2, its position named
printf '1,2\n3,-4\n' >"$tmp/g_neg.csv"
printf '1,2\n3,4\n' >"$tmp/g_pos.csv"
run_otk grid "$tmp/g_pos.csv" "$tmp/g_neg.csv"
if [ $rc -eq 2 ] && grep -q 'g_neg.csv: pixel (row 1, column 1) = -4 is negative' "$tmp/err"; then
    pass "grid, negative pixel: exit 2, row and column named"
else
    fail "grid, negative pixel (exit $rc)"
fi

# a zero-size image, and a colour image: exit 2
printf 'P2\n0 3\n255\n' >"$tmp/g_zero.pgm"
run_otk grid "$tmp/g_zero.pgm" "$tmp/g_a.pgm"
if [ $rc -eq 2 ] && grep -q 'zero-size axis' "$tmp/err"; then
    pass "grid, zero-size image: exit 2"
else
    fail "grid, zero-size image (exit $rc)"
fi

# FFT forced far outside its accuracy range: reported, not crashed
run_otk grid "$tmp/g_left.csv" "$tmp/g_right.csv" --eps 1e-4 --path fft
if [ $rc -eq 2 ] && grep -q 'non-finite' "$tmp/err"; then
    pass "grid --path fft at eps = 1e-4: exit 2, breakdown reported"
else
    fail "grid --path fft at eps = 1e-4 (exit $rc, expected 2 and 'non-finite')"
fi

# weights that do not match the inputs: usage error
run_otk grid "$tmp/g_a.pgm" "$tmp/g_b.pgm" --barycenter --weights 1,2,3
if [ $rc -eq 2 ] && grep -q 'more values than the 2 inputs' "$tmp/err"; then
    pass "grid --weights with too many values: exit 2"
else
    fail "grid --weights with too many values (exit $rc)"
fi

# ------------------------------------------------------------------ otk mesh

# A 10 x 10 flat square as OFF (two triangles per cell), bumps A and B as
# vertex weights; the same square as OBJ with quads; and broken files.
"$PYTHON" - "$tmp" <<'EOF'
import math, sys
tmp = sys.argv[1]
k = 10
V = [(i / k, j / k) for i in range(k + 1) for j in range(k + 1)]
F = []
for i in range(k):
    for j in range(k):
        v00 = i * (k + 1) + j; v10 = v00 + k + 1
        F += [(v00, v10, v10 + 1), (v00, v10 + 1, v00 + 1)]
with open(tmp + "/sq.off", "w") as fh:
    fh.write("OFF\n%d %d 0\n" % (len(V), len(F)))
    fh.writelines("%r %r 0\n" % v for v in V)
    fh.writelines("3 %d %d %d\n" % t for t in F)
with open(tmp + "/sq.obj", "w") as fh:
    fh.writelines("v %r %r 0\n" % v for v in V)
    for i in range(k):
        for j in range(k):
            v00 = i * (k + 1) + j + 1; v10 = v00 + k + 1
            fh.write("f %d %d %d %d\n" % (v00, v10, v10 + 1, v00 + 1))
def bump(cx, cy):
    w = [math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.02) for x, y in V]
    s = sum(w)
    return [v / s for v in w]
for name, (cx, cy) in (("ma", (0.3, 0.3)), ("mb", (0.7, 0.6))):
    with open(tmp + "/%s.csv" % name, "w") as fh:
        fh.writelines("%r\n" % v for v in bump(cx, cy))
with open(tmp + "/short.csv", "w") as fh:
    fh.write("0.5\n0.5\n")
with open(tmp + "/bad.off", "w") as fh:
    fh.write("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 3\n")
with open(tmp + "/flat.obj", "w") as fh:
    fh.write("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n")
EOF

# OT between two bumps (0.4, 0.3) apart: OT_lin near 0.4^2 + 0.3^2 = 0.25,
# one factorisation, the JSON keys of otk.1.
run_otk mesh "$tmp/sq.off" "$tmp/ma.csv" "$tmp/mb.csv" --eps 0.04 --steps 20
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    d["status"] == "ok" and d["factorisations"] == 1 and d["steps"] == 20
    and abs(d["eps"] - 0.04) < 1e-15 and abs(d["t"] - 0.01) < 1e-15
    and d["t_convention"] == "otkit" and d["vertices"] == 121 and d["faces"] == 200
    and abs(d["total_area"] - 1) < 1e-12 and abs(d["ot_lin"] - 0.25) < 0.025
    and d["ot_kl"] > d["ot_lin"] > d["ot_ent"] and d["iterations"] > 1
    and d["solves"] > 0 and d["marginal_error"] <= 1e-6'; then
    pass "mesh: OT_lin of two bumps (0.4, 0.3) apart is ~0.25, one factorisation"
else
    fail "mesh: OT between two bumps (exit $rc)"
fi

# The OBJ quads give the same mesh: the same value to rounding.
lin_off=$("$PYTHON" -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["ot_lin"]))' "$tmp/out")
run_otk mesh "$tmp/sq.obj" "$tmp/ma.csv" "$tmp/mb.csv" --eps 0.04 --steps 20
if [ $rc -eq 0 ] && json_true "$tmp/out" "abs(d['ot_lin'] - $lin_off) < 1e-12 * abs($lin_off) and d['faces'] == 200"; then
    pass "mesh: OBJ with quads gives the OFF result"
else
    fail "mesh: OBJ with quads (exit $rc)"
fi

# --divergence with Solomon's convention: t = eps/2 and C ~ d^2/2, so about 0.125.
run_otk mesh "$tmp/sq.off" "$tmp/ma.csv" "$tmp/mb.csv" --eps 0.04 --divergence --t-convention solomon
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    d["t_convention"] == "solomon" and abs(d["t"] - 0.02) < 1e-15 and d["factorisations"] == 1
    and 0.09 < d["divergence"] < 0.14 and "ot_kl" not in d'; then
    pass "mesh --divergence --t-convention solomon: t = eps/2, divergence ~ 0.125"
else
    fail "mesh --divergence --t-convention solomon (exit $rc)"
fi

# Bad input: a face index out of range (file and line), a degenerate face,
# the wrong number of weights, an unknown convention.
run_otk mesh "$tmp/bad.off" "$tmp/ma.csv" "$tmp/mb.csv"
if [ $rc -eq 2 ] && grep -q 'bad.off:6: face 0: vertex index 3 is out of range' "$tmp/err" \
    && [ ! -s "$tmp/out" ]; then
    pass "mesh, bad face index: exit 2, file:line named"
else
    fail "mesh, bad face index (exit $rc, expected 2 and 'bad.off:6:')"
fi
run_otk mesh "$tmp/flat.obj" "$tmp/short.csv" "$tmp/short.csv"
if [ $rc -eq 2 ] && grep -q 'face 0 (0, 1, 2) has zero area' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "mesh, degenerate face: exit 2, the face named"
else
    fail "mesh, degenerate face (exit $rc)"
fi
run_otk mesh "$tmp/sq.off" "$tmp/short.csv" "$tmp/mb.csv"
if [ $rc -eq 2 ] && grep -q '121' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "mesh, 2 weights for 121 vertices: exit 2"
else
    fail "mesh, wrong weight count (exit $rc)"
fi
# Point masses at opposite corners and eps far below the usable range: the
# kernel underflows; exit 2 with the reason, no NaN printed.
"$PYTHON" -c '
import sys
for name, hot in (("c0", 0), ("c1", 120)):
    open(sys.argv[1] + "/" + name + ".csv", "w").writelines("%d\n" % (i == hot) for i in range(121))
' "$tmp"
run_otk mesh "$tmp/sq.off" "$tmp/c0.csv" "$tmp/c1.csv" --eps 1e-40 --steps 1
if [ $rc -eq 2 ] && grep -q 'heat kernel underflowed' "$tmp/err" && grep -q 'use a larger --eps' "$tmp/err" \
    && [ ! -s "$tmp/out" ]; then
    pass "mesh --eps 1e-40: exit 2, underflow reported"
else
    fail "mesh --eps 1e-40 (exit $rc, expected 2 and 'heat kernel underflowed')"
fi
run_otk mesh "$tmp/sq.off" "$tmp/ma.csv" "$tmp/mb.csv" --t-convention ott
if [ $rc -eq 2 ] && grep -q 'expected otkit or solomon' "$tmp/err"; then
    pass "mesh --t-convention ott: exit 2"
else
    fail "mesh --t-convention ott (exit $rc)"
fi

# ------------------------------------------------------------------ fit-map, apply-map

"$PYTHON" - "$tmp" <<'EOF'
import random, sys
r = random.Random(4)
with open(sys.argv[1] + "/mx.csv", "w") as f:
    for i in range(40):
        f.write("%r,%r\n" % (r.gauss(0, 1), r.gauss(0, 1)))
with open(sys.argv[1] + "/my.csv", "w") as f:
    for i in range(30):
        f.write("%r,%r\n" % (1 + 1.5 * r.gauss(0, 1), -1 + 0.5 * r.gauss(0, 1)))
with open(sys.argv[1] + "/mz3.csv", "w") as f:
    f.write("1,2,3\n4,5,6\n")
EOF
printf '0.5,1\n-2,0.25\n3,-1\n' >"$tmp/mz.csv"

# affine fit: JSON on stdout, nothing on stderr (not a terminal), a model file
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --lambda 0.5 --blur 0.3 \
    --iters 30 --out "$tmp/affine.map"
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && head -n 1 "$tmp/affine.map" | grep -qx 'otkit-map 1' &&
    json_true "$tmp/out" 'd["status"] == "ok" and d["family"] == "affine" and d["n"] == 40
        and d["m"] == 30 and d["d"] == 2 and d["n_params"] == 6 and d["lambda"] == 0.5
        and d["optimizer"] == "bfgs" and d["iterations"] >= 1
        and abs(d["loss"] - d["divergence"] - 0.5 * d["monge_gap"]) <= 1e-12 * abs(d["loss"])
        and d["monge_gap"] > 0'; then
    pass "fit-map affine: JSON summary, silent stderr, model file"
else
    fail "fit-map affine (exit $rc)"
fi

cp "$tmp/out" "$tmp/affine.json"

# no tuning options: the settings derived from the data (otkit/mapfit.h,
# "Derived settings"), recomputed here from the files: blur = s·nb^(-1/(d+4))
# with s² the mean squared distance to the centroid averaged over the clouds
# and nb = min(n, m) (BFGS), lambda = 0.1/d, the Monge gap's eps = 0.25·mean
# |x_i − x_j|² (the identity is the starting map), and eps = blur² for the
# divergence's half-squared cost
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --iters 30 --out "$tmp/auto.map"
if [ $rc -eq 0 ] && "$PYTHON" - "$tmp/out" "$tmp/mx.csv" "$tmp/my.csv" <<'EOF'
import json, math, sys
d = json.load(open(sys.argv[1]))
x, y = ([[float(v) for v in l.split(",")] for l in open(p) if l.strip()] for p in sys.argv[2:4])
def spread2(p):
    c = [sum(r[k] for r in p) / len(p) for k in range(2)]
    return sum((r[0] - c[0]) ** 2 + (r[1] - c[1]) ** 2 for r in p) / len(p)
blur = math.sqrt(0.5 * (spread2(x) + spread2(y))) * min(len(x), len(y)) ** (-1.0 / 6.0)
mg = 0.25 * sum((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 for a in x for b in x) / len(x) ** 2
ok = (abs(d["blur"] - blur) <= 1e-12 * blur and abs(d["eps"] - blur ** 2) <= 1e-12 * blur ** 2
      and d["lambda"] == 0.05 and abs(d["monge_gap_eps"] - mg) <= 1e-12 * mg
      and d["status"] == "ok" and d["monge_gap"] > 0)
if not ok:
    print("    derived: %s" % {k: d[k] for k in ("blur", "eps", "lambda", "monge_gap_eps")})
sys.exit(0 if ok else 1)
EOF
then
    pass "fit-map without tuning options: blur, eps, lambda and the Monge gap's eps derived as documented, in the JSON"
else
    fail "fit-map at the defaults (exit $rc)"
fi

# --cache-mb keeps the cost matrices: the same fit, to rounding
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --lambda 0.5 --blur 0.3 \
    --iters 30 --cache-mb 1 --out "$tmp/affine_cached.map"
if [ $rc -eq 0 ] && "$PYTHON" - "$tmp/affine.json" "$tmp/out" "$tmp/affine.map" \
    "$tmp/affine_cached.map" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
pa, pb = ([float(v) for v in open(p).read().split("params 6")[1].split()[:6]]
          for p in sys.argv[3:5])
sys.exit(0 if abs(a["loss"] - b["loss"]) <= 1e-9 * abs(a["loss"])
         and a["iterations"] == b["iterations"]
         and max(abs(u - v) for u, v in zip(pa, pb)) <= 1e-7 else 1)
EOF
then
    pass "fit-map --cache-mb: the same fit"
else
    fail "fit-map --cache-mb (exit $rc)"
fi
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --cache-mb -1 --out "$tmp/bad.map"
if [ $rc -eq 2 ] && grep -q -- "--cache-mb" "$tmp/err" && [ ! -e "$tmp/bad.map" ]; then
    pass "fit-map, negative --cache-mb: exit 2"
else
    fail "fit-map, negative --cache-mb (exit $rc)"
fi

# --init MODEL continues from a saved map: one more iteration from a 30-iteration
# fit stays at its loss, far below one iteration from the identity (an absolute
# --mg-eps: a relative one is resolved on the starting map); a model of another
# family or dimension, --hidden with --init, or no such file: exit 2
fit3() { # ITERS OUT [ARGS...]
    iters=$1 out=$2
    shift 2
    run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --lambda 0.5 --blur 0.3 \
        --mg-eps 0.5 --iters "$iters" --out "$out" "$@"
}
fit3 30 "$tmp/full.map"
cp "$tmp/out" "$tmp/full.json"
fit3 1 "$tmp/more.map" --init "$tmp/full.map"
cp "$tmp/out" "$tmp/more.json"
fit3 1 "$tmp/one.map"
if [ -e "$tmp/more.map" ] && "$PYTHON" - "$tmp/full.json" "$tmp/more.json" "$tmp/out" <<'EOF'
import json, sys
full, more, one = (json.load(open(p)) for p in sys.argv[1:4])
sys.exit(0 if more["iterations"] == 1 and more["loss"] <= full["loss"] * (1 + 1e-12)
         and more["init"].endswith("full.map") and full["init"] is None
         and one["loss"] > full["loss"] + 0.01 else 1)
EOF
then
    pass "fit-map --init: continues from the saved fit"
else
    fail "fit-map --init"
fi
printf '1,2,3\n4,5,6\n7,8,9\n' >"$tmp/x3.csv"
for args in "--family mlp --init $tmp/affine.map" "--family affine --hidden 8 --init $tmp/affine.map" \
    "--family affine --init $tmp/no-such.map"; do
    # shellcheck disable=SC2086
    run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" $args --out "$tmp/bad.map"
    if [ $rc -eq 2 ] && grep -q -- "--init\|--hidden" "$tmp/err" && [ ! -e "$tmp/bad.map" ]; then
        pass "fit-map $args: exit 2"
    else
        fail "fit-map $args (exit $rc)"
    fi
done
run_otk fit-map "$tmp/x3.csv" "$tmp/x3.csv" --family affine --init "$tmp/affine.map" --out "$tmp/bad.map"
if [ $rc -eq 2 ] && grep -q "dimension 2, not affine of dimension 3" "$tmp/err" && [ ! -e "$tmp/bad.map" ]; then
    pass "fit-map --init with a model of another dimension: exit 2"
else
    fail "fit-map --init, other dimension (exit $rc)"
fi

# --cache-mb on the one-shot commands: the same numbers (the kept matrix holds
# bitwise the on-the-fly entries; sums may differ in the last bits), and the
# gradient files too; bad budgets and a dense cost matrix are usage errors
same_json() { # FILE1 FILE2 KEY...: each KEY equal to 1e-12 relative
    "$PYTHON" - "$@" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if all(abs(a[k] - b[k]) <= 1e-12 * max(abs(a[k]), 1e-300) for k in sys.argv[3:])
         else 1)
EOF
}
same_csv() { # FILE1 FILE2: numbers (not # comments) equal to 1e-10 absolute
    "$PYTHON" - "$1" "$2" <<'EOF'
import sys
a, b = ([float(v) for line in open(p) if not line.startswith("#")
         for v in line.replace(",", " ").split()] for p in sys.argv[1:3])
sys.exit(0 if len(a) == len(b) > 0 and max(abs(u - v) for u, v in zip(a, b)) <= 1e-10 else 1)
EOF
}
for cmd in sinkhorn divergence monge-gap; do
    case $cmd in
    sinkhorn) args="$tmp/mx.csv $tmp/my.csv --blur 0.3"; keys="ot_kl ot_ent ot_lin"; grad=--potentials
        kept='d["cache_bytes"] == d["n"] * d["m"] * 8' ;;
    divergence) args="$tmp/mx.csv $tmp/my.csv --blur 0.3"; keys=divergence; grad=--grad-x
        kept='d["cache_bytes"] == (d["n"] * d["m"] + d["n"] ** 2 + d["m"] ** 2) * 8' ;;
    monge-gap) args="$tmp/mx.csv $tmp/mx.csv --eps 0.5"; keys=monge_gap; grad=--grad
        kept='d["cache_mb"] == 1' ;;
    esac
    # shellcheck disable=SC2086
    run_otk $cmd $args ${grad:+$grad "$tmp/g0.csv"}
    cp "$tmp/out" "$tmp/c0.json"
    # shellcheck disable=SC2086
    run_otk $cmd $args --cache-mb 1 ${grad:+$grad "$tmp/g1.csv"}
    if [ $rc -eq 0 ] && same_json "$tmp/c0.json" "$tmp/out" $keys && json_true "$tmp/out" "$kept" &&
        json_true "$tmp/c0.json" 'd.get("cache_bytes", 0) == 0 and d.get("cache_mb", 0) == 0' &&
        { [ -z "$grad" ] || same_csv "$tmp/g0.csv" "$tmp/g1.csv"; }; then
        pass "$cmd --cache-mb: the same result"
    else
        fail "$cmd --cache-mb (exit $rc)"
    fi
    # shellcheck disable=SC2086
    run_otk $cmd $args --cache-mb nan
    if [ $rc -eq 2 ] && grep -q -- "--cache-mb" "$tmp/err"; then
        pass "$cmd --cache-mb nan: exit 2"
    else
        fail "$cmd --cache-mb nan (exit $rc)"
    fi
done
run_otk sinkhorn --cost-matrix "$tmp/C.csv" --eps 0.1 --cache-mb 1
if [ $rc -eq 2 ] && grep -q -- "--cache-mb does not apply to --cost-matrix" "$tmp/err"; then
    pass "sinkhorn --cost-matrix --cache-mb: exit 2"
else
    fail "sinkhorn --cost-matrix --cache-mb (exit $rc)"
fi

# blur is one length (docs/conventions.md): a matrix has no exponent, so
# --blur needs --p; with --p 2 the matrix of squared distances solves the
# point clouds' problem (eps = 0.2^2 both, values to the tolerance).
printf '0\n1\n' >"$tmp/cx.csv"
printf '0.5\n2\n' >"$tmp/cy.csv"
printf '0.25,4\n0.25,1\n' >"$tmp/csq.csv"
run_otk sinkhorn --cost-matrix "$tmp/csq.csv" --blur 0.2
if [ $rc -eq 2 ] && grep -q -- "--blur with --cost-matrix needs --p" "$tmp/err"; then
    pass "sinkhorn --cost-matrix --blur without --p: exit 2 naming --p"
else
    fail "sinkhorn --cost-matrix --blur without --p (exit $rc)"
fi
run_otk sinkhorn --cost-matrix "$tmp/csq.csv" --eps 0.1 --reach 1
if [ $rc -eq 2 ] && grep -q -- "--reach with --cost-matrix needs --p" "$tmp/err"; then
    pass "sinkhorn --cost-matrix --reach without --p: exit 2 naming --p"
else
    fail "sinkhorn --cost-matrix --reach without --p (exit $rc)"
fi
run_otk sinkhorn "$tmp/cx.csv" "$tmp/cy.csv" --blur 0.2 --tol 1e-12
ref=$("$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(repr(d["ot_kl"]) if abs(d["eps"] - 0.04) < 1e-15 else "nan")' "$tmp/out")
run_otk sinkhorn --cost-matrix "$tmp/csq.csv" --blur 0.2 --p 2 --tol 1e-12
if [ $rc -eq 0 ] && json_true "$tmp/out" \
    "abs(d['eps'] - 0.04) < 1e-15 and abs(d['ot_kl'] - $ref) < 1e-9 * abs(d['ot_kl'])"; then
    pass "sinkhorn --cost-matrix --blur 0.2 --p 2 = the point clouds' solve (eps 0.04)"
else
    fail "sinkhorn --cost-matrix --blur --p 2 against the clouds (exit $rc)"
fi

# the fitted map moves the source mean towards the target mean (1, -1)
run_otk apply-map "$tmp/affine.map" "$tmp/mx.csv"
if [ $rc -eq 0 ] && "$PYTHON" - "$tmp/out" "$tmp/mx.csv" <<'EOF'
import sys
t = [[float(v) for v in l.split(",")] for l in open(sys.argv[1]) if l.strip()]
x = [[float(v) for v in l.split(",")] for l in open(sys.argv[2]) if l.strip()]
mt = [sum(p[k] for p in t) / len(t) for k in range(2)]
sys.exit(0 if len(t) == len(x) and all(len(p) == 2 for p in t)
         and abs(mt[0] - 1) < 0.3 and abs(mt[1] + 1) < 0.3 else 1)
EOF
then
    pass "apply-map: one row per point, mapped mean near the target's"
else
    fail "apply-map on the fitted affine map (exit $rc)"
fi

# a hand-written model gives the exact images: T(x) = [[2, 0], [1, -1]] x + (1, -1)
printf 'otkit-map 1\nfamily affine\ndim 2\nparams 6\n2\n0\n1\n-1\n1\n-1\nend\n' >"$tmp/hand.map"
run_otk apply-map "$tmp/hand.map" "$tmp/mz.csv"
if [ $rc -eq 0 ] && [ "$(tr '\n' ' ' <"$tmp/out")" = "2,-1.5 -3,-3.25 7,3 " ]; then
    pass "apply-map: exact images of a hand-written affine model"
else
    fail "apply-map, hand-written model (exit $rc, got: $(tr '\n' ' ' <"$tmp/out"))"
fi

# MLP and entropic families save models that apply-map reads back
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family mlp --hidden 8,4 --activation tanh \
    --iters 5 --batch 16 --lr 0.01 --seed 3 --lambda 0 --blur 0.3 --out "$tmp/mlp.map"
rc1=$rc
cp "$tmp/out" "$tmp/mlp.json"
run_otk apply-map "$tmp/mlp.map" "$tmp/mz.csv"
if [ $rc1 -eq 0 ] && [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ] &&
    json_true "$tmp/mlp.json" 'd["family"] == "mlp" and d["hidden"] == "8,4"
        and d["activation"] == "tanh" and d["optimizer"] == "adam" and d["iterations"] == 5
        and d["n_params"] == (2*8+8) + (8*4+4) + (4*2+2)'; then
    pass "fit-map mlp and apply-map"
else
    fail "fit-map mlp (exit $rc1) / apply-map (exit $rc)"
fi
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family entropic --blur 0.5 --out "$tmp/ent.map"
rc1=$rc
cp "$tmp/out" "$tmp/ent.json"
run_otk apply-map "$tmp/ent.map" "$tmp/mz.csv"
if [ $rc1 -eq 0 ] && [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ] &&
    grep -q '^family entropic$' "$tmp/ent.map" &&
    json_true "$tmp/ent.json" 'd["family"] == "entropic" and d["n_params"] == 0'; then
    pass "fit-map entropic and apply-map"
else
    fail "fit-map entropic (exit $rc1) / apply-map (exit $rc)"
fi

# bad input: each an exit status 2 with a message, no model written
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family cubic --out "$tmp/bad.map"
if [ $rc -eq 2 ] && grep -q "unknown family 'cubic'" "$tmp/err" && [ ! -e "$tmp/bad.map" ]; then
    pass "fit-map, unknown family: exit 2"
else
    fail "fit-map, unknown family (exit $rc)"
fi
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --lambda -1 --out "$tmp/bad.map"
if [ $rc -eq 2 ] && grep -q -- "--lambda" "$tmp/err" && [ ! -e "$tmp/bad.map" ]; then
    pass "fit-map, negative lambda: exit 2"
else
    fail "fit-map, negative lambda (exit $rc)"
fi
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --lr-schedule linear --out "$tmp/bad.map"
if [ $rc -eq 2 ] && grep -q "expected constant or cosine, found 'linear'" "$tmp/err" &&
    [ ! -e "$tmp/bad.map" ]; then
    pass "fit-map, unknown --lr-schedule: exit 2"
else
    fail "fit-map, unknown --lr-schedule (exit $rc)"
fi
run_otk fit-map "$tmp/mx.csv" "$tmp/mz3.csv" --family affine --out "$tmp/bad.map"
if [ $rc -eq 2 ] && [ -s "$tmp/err" ] && [ ! -e "$tmp/bad.map" ]; then
    pass "fit-map, X and Y of different dimensions: exit 2"
else
    fail "fit-map, dimension mismatch (exit $rc)"
fi
run_otk fit-map "$tmp/mx.csv" "$tmp/my.csv" --family affine --iters 2 --lambda 0 \
    --out "$tmp/no/dir.map"
if [ $rc -eq 2 ] && grep -q 'no/dir.map' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "fit-map, unwritable --out: exit 2, no JSON"
else
    fail "fit-map, unwritable --out (exit $rc)"
fi
run_otk apply-map "$tmp/hand.map" "$tmp/mz3.csv"
if [ $rc -eq 2 ] && grep -q 'has 3 columns but the map' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "apply-map, points of the wrong dimension: exit 2"
else
    fail "apply-map, wrong dimension (exit $rc)"
fi
printf 'otkit-map 1\nfamily affine\ndim 2\nparams 6\n2\n0\nbanana\n' >"$tmp/corrupt.map"
run_otk apply-map "$tmp/corrupt.map" "$tmp/mz.csv"
if [ $rc -eq 2 ] && grep -q 'corrupt.map:7: parameter' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "apply-map, corrupt model: exit 2, file:line in the message"
else
    fail "apply-map, corrupt model (exit $rc)"
fi

# ------------------------------------------------------------------ fdiv
# The hand pair of tests/test_fdiv.c: p = (1/2, 1/4, 1/4), q = (1/8, 1/2, 3/8):
# KL = ln 2 - ln(3)/4, Pearson = 31/24; a second row equal to the first gives 0.
printf '0.5,0.25,0.25\n0.5,0.25,0.25\n' >"$tmp/fp.csv"
printf '0.125,0.5,0.375\n0.5,0.25,0.25\n' >"$tmp/fq.csv"
run_otk fdiv "$tmp/fp.csv" "$tmp/fq.csv" --reduction sum
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    d["status"] == "ok" and d["kind"] == "kl" and d["B"] == 2 and d["K"] == 3
    and abs(d["value"] - (math.log(2) - math.log(3) / 4)) < 1e-14
    and d["input"] == "probabilities" and d["reduction"] == "sum"'; then
    pass "fdiv: KL of the hand pair, JSON keys"
else
    fail "fdiv KL (exit $rc)"
fi
run_otk fdiv "$tmp/fp.csv" "$tmp/fq.csv" --kind pearson --reduction none --rows "$tmp/frows.csv" \
    --grad-q "$tmp/fgq.csv"
if [ $rc -eq 0 ] && json_true "$tmp/out" 'd["value"] is None and d["kind"] == "pearson"' &&
    "$PYTHON" - "$tmp/frows.csv" "$tmp/fgq.csv" <<'EOF'
import sys
rows = [float(l) for l in open(sys.argv[1]) if not l.startswith("#")]
g = [[float(v) for v in l.split(",")] for l in open(sys.argv[2]) if not l.startswith("#")]
# d/dq (p - q)^2/q = 1 - p^2/q^2: (1 - 16, 1 - 1/4, 1 - 4/9) on row 1, 0 on row 2
ok = abs(rows[0] - 31 / 24) < 1e-14 and rows[1] == 0 and len(g) == 2
ok = ok and all(abs(a - b) < 1e-13 for a, b in zip(g[0], (-15, 0.75, 5 / 9)))
ok = ok and all(v == 0 for v in g[1])
sys.exit(0 if ok else 1)
EOF
then
    pass "fdiv --kind pearson --reduction none: row values and d/dq by hand"
else
    fail "fdiv pearson rows (exit $rc)"
fi
# Logits: z = 2 log p + 3 gives softmax(z/2) = p.
"$PYTHON" - "$tmp" <<'EOF'
import math, sys
for name, row in (("flp", (.5, .25, .25)), ("flq", (.125, .5, .375))):
    with open("%s/%s.csv" % (sys.argv[1], name), "w") as fh:
        fh.write(",".join("%.17g" % (2 * math.log(v) + 3) for v in row) + "\n")
EOF
run_otk fdiv "$tmp/flp.csv" "$tmp/flq.csv" --logits --tau 2 --tau2 --kind jeffreys
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    abs(d["value"] - 4 * (7 * math.log(2) / 8 + math.log(3) / 8)) < 1e-13 and d["tau"] == 2
    and d["tau2"] is True'; then
    pass "fdiv --logits --tau 2 --tau2: 4 x Jeffreys of the hand pair"
else
    fail "fdiv --logits (exit $rc)"
fi
run_otk fdiv "$tmp/fp.csv" "$tmp/fq.csv" --kind alpha
if [ $rc -eq 2 ] && grep -q -- '--alpha' "$tmp/err" && [ ! -s "$tmp/out" ]; then
    pass "fdiv --kind alpha without --alpha: exit 2"
else
    fail "fdiv --kind alpha without --alpha (exit $rc)"
fi
run_otk fdiv "$tmp/fp.csv" "$tmp/fq.csv" --kind chi2
if [ $rc -eq 2 ] && grep -q 'pearson' "$tmp/err"; then
    pass "fdiv --kind chi2: exit 2, the valid names listed"
else
    fail "fdiv --kind chi2 (exit $rc)"
fi
printf '0.5,0.5,0\n' >"$tmp/fz1.csv"
printf '1,0,0\n' >"$tmp/fz2.csv"
run_otk fdiv "$tmp/fz1.csv" "$tmp/fz2.csv" --grad-p "$tmp/fzg.csv"
if [ $rc -eq 2 ] && grep -q 'row 0, class 1' "$tmp/err" && grep -q 'smoothing' "$tmp/err" &&
    [ ! -e "$tmp/fzg.csv" ]; then
    pass "fdiv, infinite KL gradient at a zero: exit 2 naming row and class, no file"
else
    fail "fdiv, infinite gradient (exit $rc)"
fi
run_otk fdiv "$tmp/fz1.csv" "$tmp/fz2.csv"
if [ $rc -eq 0 ] && json_true "$tmp/out" 'd["value"] is None'; then
    pass "fdiv, support mismatch without smoothing: value null (+inf)"
else
    fail "fdiv, support mismatch (exit $rc)"
fi
# PSI from counts by hand: e = (.1,.2,.3,.4), a = (.2,.2,.2,.4): 0.1 ln 3.
printf '10\n20\n30\n40\n' >"$tmp/pe.csv"
printf '20\n20\n20\n40\n' >"$tmp/pa.csv"
run_otk fdiv --psi --counts "$tmp/pe.csv" "$tmp/pa.csv" --per-bin "$tmp/pbin.csv"
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    abs(d["psi"] - 0.1 * math.log(3)) < 1e-15 and d["bins"] == 4 and d["binning"] == "counts"' &&
    [ "$(grep -vc '^#' "$tmp/pbin.csv")" -eq 4 ]; then
    pass "fdiv --psi --counts: 0.1 ln 3, 4 bins written"
else
    fail "fdiv --psi --counts (exit $rc)"
fi
# PSI from samples, quantile bins (median 5.5): 3 | 5 against 5 | 5.
printf '1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n' >"$tmp/pref.csv"
printf '1\n2\n3\n9\n9\n9\n9\n9\n' >"$tmp/pact.csv"
run_otk fdiv --psi "$tmp/pref.csv" "$tmp/pact.csv" --bins 2
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    abs(d["psi"] - (-0.125 * math.log(0.75) + 0.125 * math.log(1.25))) < 1e-15
    and d["binning"] == "quantile" and d["n_reference"] == 10'; then
    pass "fdiv --psi: quantile bins from the reference, by hand"
else
    fail "fdiv --psi (exit $rc)"
fi
# IV: goods (3, 1), bads (1, 3) over two bins: ln 3.
printf '1\n2\n3\n4\n5\n6\n7\n8\n' >"$tmp/ivx.csv"
printf '0\n0\n0\n1\n0\n1\n1\n1\n' >"$tmp/ivy.csv"
run_otk fdiv --iv "$tmp/ivx.csv" "$tmp/ivy.csv" --bins 2 --per-bin "$tmp/woe.csv"
if [ $rc -eq 0 ] && json_true "$tmp/out" '
    abs(d["iv"] - math.log(3)) < 1e-15 and d["events"] == 4 and d["n"] == 8' &&
    grep -q '4.5' "$tmp/woe.csv"; then
    pass "fdiv --iv: ln 3 by hand, WoE table with the edge 4.5"
else
    fail "fdiv --iv (exit $rc)"
fi
printf '0\n2\n0\n1\n0\n1\n1\n1\n' >"$tmp/ivy2.csv"
run_otk fdiv --iv "$tmp/ivx.csv" "$tmp/ivy2.csv"
if [ $rc -eq 2 ] && grep -q 'ivy2.csv: value 2 (row 2)' "$tmp/err"; then
    pass "fdiv --iv, outcome not 0/1: exit 2, file and row named"
else
    fail "fdiv --iv bad outcome (exit $rc)"
fi
run_otk fdiv --psi "$tmp/pref.csv" "$tmp/pact.csv" --kind js
if [ $rc -eq 2 ] && grep -q 'do not apply with --psi' "$tmp/err"; then
    pass "fdiv --psi --kind: exit 2"
else
    fail "fdiv --psi --kind (exit $rc)"
fi

# ------------------------------------------------------------------ --mpi
# An otk built without MPI says how to get it (with MPI: tests/test_mpi.sh).
if ! grep -q '^#define OTK_HAVE_MPI 1' "$top_builddir/config.h" 2>/dev/null; then
    run_otk sinkhorn --mpi "$tmp/X.npy" "$tmp/Y.npy"
    if [ $rc -eq 2 ] && grep -q 'built without MPI; configure otkit with --with-mpi' "$tmp/err" &&
        [ ! -s "$tmp/out" ]; then
        pass "sinkhorn --mpi without MPI: exit 2, says to configure --with-mpi"
    else
        fail "sinkhorn --mpi without MPI (exit $rc)"
    fi
fi

# ------------------------------------------------------------------ enum names

# Every option that takes a name reads the library's table (otkit/names.h):
# an unknown name exits 2 and lists the valid names, written out here by hand.
check_unknown_name() { # LIST ARGS...: the message lists LIST
    list=$1
    shift
    run_otk "$@"
    if [ $rc -eq 2 ] && grep -q "expected $list, found 'nope'" "$tmp/err" && [ ! -s "$tmp/out" ]; then
        pass "unknown name: $* -> exit 2, lists $list"
    else
        fail "unknown name: $* (exit $rc, expected 2 and 'expected $list')"
    fi
}
check_unknown_name "converge or fixed" sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --schedule nope
check_unknown_name "auto, symmetric, alternating, overrelaxed, translated or accelerated" sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --update nope
check_unknown_name "sqeuclidean, half-sqeuclidean, euclidean, l1, lp or lp-over-p" \
    divergence "$tmp/X.csv" "$tmp/Y.csv" --cost nope
check_unknown_name "std, mean, max_cost or median" monge-gap "$tmp/X.csv" "$tmp/X.csv" --relative-to nope
check_unknown_name "unrolled or envelope" sinkd "$tmp/X.csv" "$tmp/X.csv" --grad-mode nope
check_unknown_name "kl, reverse-kl, js or soft-ce" sinkd "$tmp/X.csv" "$tmp/X.csv" --kd nope
check_unknown_name "otkit or solomon" mesh a b c --t-convention nope
check_unknown_name "auto, separable or fft" grid "$tmp/x01.csv" "$tmp/y01.csv" --path nope
check_unknown_name "affine, mlp or entropic" fit-map "$tmp/X.csv" "$tmp/Y.csv" --family nope \
    --out "$tmp/n.map"
check_unknown_name "gelu or tanh" fit-map "$tmp/X.csv" "$tmp/Y.csv" --family mlp \
    --activation nope --out "$tmp/n.map"
check_unknown_name "auto, bfgs or adam" fit-map "$tmp/X.csv" "$tmp/Y.csv" --family affine \
    --optimizer nope --out "$tmp/n.map"

# The JSON reports the update rule that ran (the library's result, AUTO resolved).
for sched in converge:accelerated fixed:symmetric; do
    run_otk sinkhorn "$tmp/X.csv" "$tmp/Y.csv" --blur 0.3 --schedule "${sched%%:*}"
    if [ $rc -eq 0 ] && json_true "$tmp/out" "d['update'] == '${sched#*:}'"; then
        pass "sinkhorn --schedule ${sched%%:*}: update ${sched#*:}"
    else
        fail "sinkhorn --schedule ${sched%%:*}: update (exit $rc)"
    fi
    run_otk divergence "$tmp/X.csv" "$tmp/Y.csv" --blur 0.3 --schedule "${sched%%:*}"
    if [ $rc -eq 0 ] && json_true "$tmp/out" "d['update'] == '${sched#*:}'"; then
        pass "divergence --schedule ${sched%%:*}: update ${sched#*:}"
    else
        fail "divergence --schedule ${sched%%:*}: update (exit $rc)"
    fi
done

# ------------------------------------------------------------------ files as users have them

# Text and .npy files as numpy.savetxt, pandas.DataFrame.to_csv and numpy.save
# write them: the formats are written here by hand (the writers' documented
# defaults: savetxt fmt='%.18e', delimiter=' '; to_csv sep=',', a header row
# and the index as an unnamed first column; .npy version 1.0), and, when numpy
# and pandas are installed, also by the real writers, whose files must read
# the same (and, for .npy, be the same bytes).  Each must read as the same
# points as X.csv (or as a CSV of the values the file holds).
mkdir "$tmp/users"
"$PYTHON" - "$tmp" <<'PYEOF'
import math, struct, sys
tmp = sys.argv[1]
u = tmp + "/users/"
X = [[math.sin(1.3 * i), math.cos(0.7 * i) + 0.1 * i] for i in range(6)]
Y = [[0.5 + math.cos(2.1 * j), 0.3 * j - math.sin(j)] for j in range(5)]  # as Y.csv

def write(path, text):
    with open(path, "w") as fh:
        fh.write(text)

# Y in the formats the options below are for.
write(u + "y_named_index.csv", "id,x,y\n" + "".join("q%d,%r,%r\n" % (j, r[0], r[1]) for j, r in enumerate(Y)))
write(u + "y_numeric_header.csv", "0,1\n" + "".join("%r,%r\n" % tuple(r) for r in Y))
write(u + "y_savetxt.txt", "".join(" ".join("%.18e" % v for v in r) + "\n" for r in Y))
write(u + "y_pandas.tsv", "\tx\ty\n" + "".join("%d\t%r\t%r\n" % (j, r[0], r[1]) for j, r in enumerate(Y)))

# numpy.savetxt(fname, X) and numpy.savetxt(fname, X, delimiter="\t")
write(u + "savetxt.txt", "".join(" ".join("%.18e" % v for v in r) + "\n" for r in X))
write(u + "savetxt_tab.txt", "".join("\t".join("%.18e" % v for v in r) + "\n" for r in X))
# pandas.DataFrame(X).to_csv(fname): header ",0,1", the index first
write(u + "pandas.csv", ",0,1\n" + "".join("%d,%r,%r\n" % (i, r[0], r[1]) for i, r in enumerate(X)))
# pandas.DataFrame(X, columns=["x", "y"]).to_csv(fname, index=False)
write(u + "pandas_named.csv", "x,y\n" + "".join("%r,%r\n" % tuple(r) for r in X))
# ... .to_csv(fname, sep="\t") with columns x, y
write(u + "pandas.tsv", "\tx\ty\n" + "".join("%d\t%r\t%r\n" % (i, r[0], r[1]) for i, r in enumerate(X)))
# an index column with a name (df.rename_axis("id").to_csv(fname)): --index-col
write(u + "named_index.csv", "id,x,y\n" + "".join("p%d,%r,%r\n" % (i, r[0], r[1]) for i, r in enumerate(X)))
# a header that looks numeric (columns named 0 and 1, index=False): --header
write(u + "numeric_header.csv", "0,1\n" + "".join("%r,%r\n" % tuple(r) for r in X))

def save_npy(path, descr, rows, fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%d, %d), }" % (
        descr, "True" if fortran else "False", len(rows), len(rows[0]))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"   # data 64-byte aligned
    order = {"<": "<", ">": ">", "|": "<"}[descr[0]]
    code = {"f2": "e", "f4": "f", "f8": "d", "i2": "h", "i8": "q"}[descr[1:]]
    flat = [v for col in zip(*rows) for v in col] if fortran else [v for r in rows for v in r]
    with open(path, "wb") as fh:
        fh.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        fh.write(struct.pack("%s%d%s" % (order, len(flat), code), *flat))

def rounded(rows, code):  # what the file holds, read back as doubles
    return [[struct.unpack(code, struct.pack(code, v))[0] for v in r] for r in rows]

save_npy(u + "big_endian.npy", ">f8", X)
save_npy(u + "fortran.npy", "<f8", X, fortran=True)
save_npy(u + "float32.npy", "<f4", X)
write(u + "float32.csv", "".join("%r,%r\n" % tuple(r) for r in rounded(X, "<f")))
save_npy(u + "float16.npy", "<f2", X)
write(u + "float16.csv", "".join("%r,%r\n" % tuple(r) for r in rounded(X, "<e")))
Z = [[i % 3, (7 * i) % 5 - 2] for i in range(6)]
save_npy(u + "int64.npy", "<i8", Z)
save_npy(u + "int16_be.npy", ">i2", Z)
write(u + "ints.csv", "".join("%d,%d\n" % tuple(r) for r in Z))
save_npy(u + "complex.npy", "<f8", X)
with open(u + "complex.npy", "r+b") as fh:  # the same header with a complex dtype
    data = fh.read().replace(b"'<f8'", b"'<c8'")
    fh.seek(0)
    fh.write(data)

# The real writers, when installed.
try:
    import numpy as np
except ImportError:
    np = None
if np is not None:
    A = np.array(X)
    np.savetxt(u + "np_savetxt.txt", A)
    np.savetxt(u + "np_savetxt_tab.txt", A, delimiter="\t")
    np.save(u + "np_float32.npy", A.astype("<f4"))
    np.save(u + "np_big_endian.npy", A.astype(">f8"))
    np.save(u + "np_fortran.npy", np.asfortranarray(A))
    np.save(u + "np_int64.npy", np.array(Z, dtype="<i8"))
try:
    import pandas as pd
except ImportError:
    pd = None
if pd is not None:
    pd.DataFrame(X).to_csv(u + "pd_pandas.csv")
    pd.DataFrame(X, columns=["x", "y"]).to_csv(u + "pd_pandas_named.csv", index=False)
    pd.DataFrame(X, columns=["x", "y"]).to_csv(u + "pd_pandas.tsv", sep="\t")
PYEOF

# same_values FILE REFERENCE [YFILE OPTIONS...]: otk sinkhorn reads FILE (and
# YFILE, default Y.csv, with OPTIONS, which apply to every input) as the same
# points as REFERENCE (and Y.csv): identical JSON but for the time.
same_values() {
    file=$1
    ref=$2
    yfile=${3:-$tmp/Y.csv}
    shift 2
    [ $# -gt 0 ] && shift
    run_otk sinkhorn "$ref" "$tmp/Y.csv" --blur 0.3
    cp "$tmp/out" "$tmp/ref.json"
    rc_ref=$rc
    run_otk sinkhorn "$file" "$yfile" --blur 0.3 "$@"
    [ $rc_ref -eq 0 ] && [ $rc -eq 0 ] && "$PYTHON" -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    del d["seconds"]
sys.exit(0 if a == b else 1)' "$tmp/ref.json" "$tmp/out"
}
u=$tmp/users
for case in savetxt.txt:X.csv savetxt_tab.txt:X.csv pandas.csv:X.csv pandas_named.csv:X.csv \
    pandas.tsv:X.csv big_endian.npy:X.csv fortran.npy:X.csv float32.npy:users/float32.csv \
    float16.npy:users/float16.csv int64.npy:users/ints.csv int16_be.npy:users/ints.csv \
    np_savetxt.txt:X.csv np_savetxt_tab.txt:X.csv np_float32.npy:users/float32.csv \
    np_big_endian.npy:X.csv np_fortran.npy:X.csv np_int64.npy:users/ints.csv \
    pd_pandas.csv:X.csv pd_pandas_named.csv:X.csv pd_pandas.tsv:X.csv; do
    file=${case%%:*}
    ref=${case#*:}
    if [ ! -e "$u/$file" ]; then
        echo "SKIP: $file (numpy or pandas not installed)"
        continue
    fi
    if same_values "$u/$file" "$tmp/$ref"; then
        pass "reads $file as $ref"
    else
        fail "reading $file (exit $rc): not the values of $ref"
    fi
done
if same_values "$u/named_index.csv" "$tmp/X.csv" "$u/y_named_index.csv" --index-col; then
    pass "--index-col skips a named index column"
else
    fail "--index-col (exit $rc)"
fi
if same_values "$u/numeric_header.csv" "$tmp/X.csv" "$u/y_numeric_header.csv" --header; then
    pass "--header skips a numeric-looking header row"
else
    fail "--header (exit $rc)"
fi
if same_values "$u/savetxt.txt" "$tmp/X.csv" "$u/y_savetxt.txt" --delimiter space &&
    same_values "$u/pandas.tsv" "$tmp/X.csv" "$u/y_pandas.tsv" --delimiter tab; then
    pass "--delimiter space / tab"
else
    fail "--delimiter (exit $rc)"
fi
if [ -e "$u/np_float32.npy" ]; then
    if cmp -s "$u/np_float32.npy" "$u/float32.npy" && cmp -s "$u/np_big_endian.npy" "$u/big_endian.npy" &&
        cmp -s "$u/np_fortran.npy" "$u/fortran.npy" && cmp -s "$u/np_int64.npy" "$u/int64.npy"; then
        pass "the hand-written .npy files are byte-identical to numpy.save's"
    else
        fail "the hand-written .npy files differ from numpy.save's"
    fi
fi

# Refusals still name the file, the line and the column.
printf 'x,y\n1,2\n3,4,5\n' >"$u/ragged.csv"
run_otk sinkhorn "$u/ragged.csv" "$tmp/Y.csv"
if [ $rc -eq 2 ] && grep -q 'ragged.csv:3: row has 3 columns, expected 2' "$tmp/err"; then
    pass "a header, then a ragged row: file:line"
else
    fail "a ragged row after a header (exit $rc)"
fi
printf 'x,y,z\n1,2\n' >"$u/wide_header.csv"
run_otk sinkhorn "$u/wide_header.csv" "$tmp/Y.csv"
if [ $rc -eq 2 ] && grep -q 'wide_header.csv:2: the header (line 1) has 3 fields, this row 2' "$tmp/err"; then
    pass "a header of another width: file:line"
else
    fail "a header of another width (exit $rc)"
fi
printf '1.0 2.0\n3.0 4.o\n' >"$u/bad_ws.txt"
run_otk sinkhorn "$u/bad_ws.txt" "$tmp/Y.csv"
if [ $rc -eq 2 ] && grep -q 'bad_ws.txt:2:5: expected a number, found "4.o"' "$tmp/err"; then
    pass "blank-separated, a bad number: file:line:column"
else
    fail "blank-separated, a bad number (exit $rc)"
fi
printf '1\t2\n3\t\t4\n' >"$u/empty_field.tsv"
run_otk sinkhorn "$u/empty_field.tsv" "$tmp/Y.csv"
if [ $rc -eq 2 ] && grep -q 'empty_field.tsv:2:3: expected a number, found a tab' "$tmp/err"; then
    pass "tab-separated, an empty field: file:line:column"
else
    fail "tab-separated, an empty field (exit $rc)"
fi
run_otk sinkhorn "$u/savetxt.txt" "$tmp/Y.csv" --delimiter ,
if [ $rc -eq 2 ] && grep -q "savetxt.txt:1:26: expected ',' or the end of the line" "$tmp/err"; then
    pass "--delimiter , on a blank-separated file: file:line:column"
else
    fail "--delimiter , on a blank-separated file (exit $rc)"
fi
run_otk sinkhorn "$u/complex.npy" "$tmp/Y.csv"
if [ $rc -eq 2 ] && grep -q "complex.npy: unsupported .npy dtype '<c8'" "$tmp/err"; then
    pass "a complex .npy: refused, naming the file and the dtype"
else
    fail "a complex .npy (exit $rc)"
fi
run_otk sinkhorn "$u/pandas.csv" "$tmp/Y.csv" --delimiter semicolon
if [ $rc -eq 2 ] && grep -q -- "--delimiter: expected" "$tmp/err"; then
    pass "--delimiter with an unknown value: exit 2"
else
    fail "--delimiter with an unknown value (exit $rc)"
fi

# The progress line on a terminal (stderr a tty, through script(1) where it
# exists): the multiscale backend's cluster stage, then the points', then
# the target eps, each drawn at its first update; never on a plain stderr.
"$PYTHON" - "$tmp" <<'EOF'
import sys
with open(sys.argv[1] + "/ms_x.csv", "w") as fx, open(sys.argv[1] + "/ms_y.csv", "w") as fy:
    for i in range(300):
        fx.write("%r, %r\n" % ((i * 0.618034) % 1.0, (i * 0.414214) % 1.0))
        fy.write("%r, %r\n" % (0.5 + 0.5 * ((i * 0.732051) % 1.0), 0.3 + 0.5 * ((i * 0.236068) % 1.0)))
EOF
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
    script -qec "'$OTK' sinkhorn '$tmp/ms_x.csv' '$tmp/ms_y.csv' --backend multiscale --blur 0.03 >'$tmp/out'" /dev/null >"$tmp/tty" 2>&1
    rc=$?
    tr '\r' '\n' <"$tmp/tty" >"$tmp/lines"
    if [ $rc -eq 0 ] && grep -q '^otk: annealing on clusters, iteration 1, eps ' "$tmp/lines" &&
        grep -q '^otk: annealing, iteration [0-9]*, eps ' "$tmp/lines" &&
        grep -q '^otk: iteration [0-9]*, eps [0-9.e-]*, marginal error ' "$tmp/lines" &&
        json_true "$tmp/out" "d['backend'] == 'multiscale' and d['status'] == 'ok'"; then
        pass "progress line on a terminal: multiscale clusters, points, target eps"
    else
        fail "progress line on a terminal (exit $rc): $(head -c 300 "$tmp/lines")"
    fi
else
    echo "SKIP: progress line on a terminal (no script(1))"
fi
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
    script -qec "'$OTK' divergence '$tmp/ms_x.csv' '$tmp/ms_y.csv' --backend multiscale --blur 0.03 >'$tmp/out'" /dev/null >"$tmp/tty" 2>&1
    rc=$?
    tr '\r' '\n' <"$tmp/tty" >"$tmp/lines"
    if [ $rc -eq 0 ] && grep -q '^otk: annealing on clusters, iteration 1, eps ' "$tmp/lines" &&
        grep -q '^otk: iteration [0-9]*, eps [0-9.e-]*, marginal error ' "$tmp/lines" &&
        json_true "$tmp/out" "d['backend'] == 'multiscale' and d['status'] == 'ok'"; then
        pass "otk divergence: progress line on a terminal, multiscale clusters to target eps"
    else
        fail "otk divergence: progress line on a terminal (exit $rc): $(head -c 300 "$tmp/lines")"
    fi
fi
run_otk divergence "$tmp/ms_x.csv" "$tmp/ms_y.csv" --backend multiscale --blur 0.03
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ]; then
    pass "otk divergence: no progress line when stderr is not a terminal"
else
    fail "otk divergence: progress line on a plain stderr (exit $rc)"
fi
run_otk sinkhorn "$tmp/ms_x.csv" "$tmp/ms_y.csv" --backend multiscale --blur 0.03
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ]; then
    pass "no progress line when stderr is not a terminal"
else
    fail "progress line on a plain stderr (exit $rc)"
fi

finish
