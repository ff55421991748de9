#!/bin/sh
# test_cli_exact.sh -- specification tests of `otk emd` and `otk sliced`:
# answers known by hand (values, plans, potentials, gradients), the
# optimality certificate of the plan and potentials, and the refusals (exit
# status 2 with the reason; 3 at --max-iter).
#
# Run by `make check` from the build directory with top_builddir and
# top_srcdir set (both default to .).  Needs python3 (standard library only)
# to parse JSON.  Prints one line per check and ends with "N passed, M
# failed"; exits 1 when a check failed, 77 (skipped) without python3.

TEST_NAME=test-exact
. "${top_srcdir:-.}/tests/cli_lib.sh"

# py_true EXPRESSION: json_true over what otk printed (d is None when nothing).
py_true() {
    json_true "$tmp/out" "$1" empty-ok
}

# ------------------------------------------------------------------ inputs

printf '0\n1\n' >"$tmp/x.csv"
printf '0.5\n2\n' >"$tmp/y.csv"
printf '1\n2\n' >"$tmp/b12.csv"
printf '0.75\n-0.25\n0.5\n' >"$tmp/negw.csv"
printf '0\nabc\n' >"$tmp/bad.csv"
printf '0,1\n1,2\n' >"$tmp/xy2.csv"
# A 3 x 4 cost matrix and weights of mass 2 (not 1): the optimum by hand is
# below.
printf '4,1,3,2\n2,0,5,3\n3,2,1,4\n' >"$tmp/C.csv"
printf '0.5\n1\n0.5\n' >"$tmp/ca.csv"
printf '0.5\n0.5\n0.5\n0.5\n' >"$tmp/cb.csv"
# 2-D clouds for sliced: Y = X + (0, 1).
printf '0,0\n1,0\n' >"$tmp/X2.csv"
printf '0,1\n1,1\n' >"$tmp/Y2.csv"
printf '1,0\n0,2\n3,4\n' >"$tmp/dirs.csv"   # normalised: (1,0), (0,1), (0.6,0.8)
printf '1,0,0\n' >"$tmp/dirs3.csv"
printf '0,0\n0,1\n' >"$tmp/dirs0.csv"

# ------------------------------------------------------------------ emd

# x = {0, 1}, y = {1/2, 2}, uniform, |x - y|^2: the monotone plan, value
# (1/4 + 1)/2 = 5/8; potentials u_i + v_j = C_ij on the plan.
run_otk emd "$tmp/x.csv" "$tmp/y.csv" --plan "$tmp/plan.csv" --potentials "$tmp/pot.csv"
if [ $rc -eq 0 ] && py_true '
    d["status"] == "ok" and d["value"] == 0.625 and abs(d["dual_value"] - 0.625) < 1e-15 and
    d["plan_size"] == 2 and d["n"] == 2 and d["m"] == 2 and d["d"] == 1 and
    d["cost"] == "sqeuclidean" and d["mass_a"] == 1 and d["mass_b"] == 1 and
    csv(T + "/plan.csv") == [[0, 0, 0.5], [1, 1, 0.5]]'; then
    pass "emd: 1-D pair by hand (5/8), the monotone plan as triplets"
else
    fail "emd 1-D pair (exit $rc)"
fi
if py_true '
    (lambda p: (lambda u, v, C: all(u[i] + v[j] <= C[i][j] + 1e-15 for i in range(2)
                                    for j in range(2)) and
                abs(u[0] + v[0] - C[0][0]) < 1e-15 and abs(u[1] + v[1] - C[1][1]) < 1e-15 and
                abs(sum(u) / 2 - sum(v) / 2) < 1e-15)(
        [p[0][0], p[1][0]], [p[2][0], p[3][0]], [[0.25, 4], [0.25, 1]]))(csv(T + "/pot.csv"))'; then
    pass "emd --potentials: dual feasible, tight on the plan, <a, u> = <b, v>"
else
    fail "emd --potentials"
fi

# The 3 x 4 matrix, a = (1/2, 1, 1/2), b = 1/2 each (mass 2).  By hand: row 2
# takes columns 1 and 2 (costs 2 and 0), row 3 column 3 (cost 1), row 1 column
# 4 (cost 2): 0.5 (2 + 0 + 1 + 2) = 5/2 (POT's ot.emd2 agrees); the plan and
# potentials read back from the files certify it.
run_otk emd --cost-matrix "$tmp/C.csv" --a "$tmp/ca.csv" --b "$tmp/cb.csv" \
    --plan "$tmp/cplan.csv" --potentials "$tmp/cpot.csv"
if [ $rc -eq 0 ] && py_true '
    (lambda C, P, pu, a, b: d["value"] == 2.5 and d["cost"] == "matrix" and d["d"] is None and
     d["mass_a"] == 2 and len(P) <= 3 + 4 - 1 and
     all(abs(sum(e[2] for e in P if e[0] == i) - a[i]) < 1e-15 for i in range(3)) and
     all(abs(sum(e[2] for e in P if e[1] == j) - b[j]) < 1e-15 for j in range(4)) and
     abs(sum(e[2] * C[int(e[0])][int(e[1])] for e in P) - 2.5) < 1e-15 and
     all(pu[i] + pu[3 + j] <= C[i][j] + 1e-14 for i in range(3) for j in range(4)) and
     all(abs(pu[int(e[0])] + pu[3 + int(e[1])] - C[int(e[0])][int(e[1])]) < 1e-14 for e in P) and
     abs(sum(a[i] * pu[i] for i in range(3)) + sum(b[j] * pu[3 + j] for j in range(4)) - 2.5)
     < 1e-14)(csv(T + "/C.csv"), csv(T + "/cplan.csv"), [r[0] for r in csv(T + "/cpot.csv")],
              [0.5, 1, 0.5], [0.5] * 4)'; then
    pass "emd --cost-matrix, mass 2: value 5/2 by hand, marginals, slackness, dual value"
else
    fail "emd --cost-matrix (exit $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/y.csv" --b "$tmp/b12.csv"
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q "masses differ: sum(a) = 1, sum(b) = 3" "$tmp/err"; then
    pass "emd, unequal masses: exit 2, both masses named, no JSON"
else
    fail "emd unequal masses (exit $rc)"
fi

# sum(b) = 1 + 1e-7: refused by default (mass_tol 1e-9), accepted under
# --mass-tol 1e-6.
printf '0.5\n0.5000001\n' >"$tmp/bnear.csv"
run_otk emd "$tmp/x.csv" "$tmp/y.csv" --b "$tmp/bnear.csv"
rc1=$rc
run_otk emd "$tmp/x.csv" "$tmp/y.csv" --b "$tmp/bnear.csv" --mass-tol 1e-6
if [ $rc1 -eq 2 ] && [ $rc -eq 0 ] && py_true 'abs(d["mass_b"] - 1.0000001) < 1e-15'; then
    pass "emd --mass-tol: 1e-7 apart refused by default, accepted under 1e-6"
else
    fail "emd --mass-tol (exit $rc1 then $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/bad.csv"
if [ $rc -eq 2 ] && grep -q "bad.csv:2:1: expected a number" "$tmp/err"; then
    pass "emd, a bad file: exit 2, file:line:column"
else
    fail "emd bad file (exit $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/xy2.csv"
if [ $rc -eq 2 ] && grep -q "dimension mismatch" "$tmp/err"; then
    pass "emd, clouds of different dimensions: exit 2"
else
    fail "emd dimension mismatch (exit $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/y.csv" --a "$tmp/negw.csv"
if [ $rc -eq 2 ] && grep -q -- "--a" "$tmp/err" && grep -q "X has 2 points" "$tmp/err"; then
    pass "emd, weights of the wrong length: exit 2, --a and the count named"
else
    fail "emd weight count (exit $rc)"
fi

printf '1\n-1\n' >"$tmp/neg2.csv"
printf '0.5\n2\n' >"$tmp/pos2.csv"
run_otk emd "$tmp/x.csv" "$tmp/y.csv" --a "$tmp/neg2.csv" --b "$tmp/neg2.csv"
if [ $rc -eq 2 ] && grep -q "negative" "$tmp/err" && grep -q "\[1\]" "$tmp/err"; then
    pass "emd, a negative weight: exit 2, its index named"
else
    fail "emd negative weight (exit $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/y.csv" --max-iter 1
if [ $rc -eq 3 ] && py_true 'd["status"] == "not_converged" and d["iterations"] == 1' &&
    grep -q "max-iter" "$tmp/err"; then
    pass "emd --max-iter 1: exit 3, status not_converged, JSON printed"
else
    fail "emd --max-iter (exit $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/y.csv" --cost lp
if [ $rc -eq 2 ] && grep -q -- "--power" "$tmp/err"; then
    pass "emd --cost lp without --power: exit 2"
else
    fail "emd --cost lp (exit $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/y.csv" --cost euclidean
if [ $rc -eq 0 ] && py_true 'd["value"] == 0.75 and d["cost"] == "euclidean"'; then
    pass "emd --cost euclidean: W_1 = 3/4 by hand"
else
    fail "emd --cost euclidean (exit $rc)"
fi

run_otk emd --cost-matrix "$tmp/C.csv" "$tmp/x.csv"
if [ $rc -eq 2 ] && grep -q "not given" "$tmp/err"; then
    pass "emd --cost-matrix with a point file: exit 2"
else
    fail "emd --cost-matrix with X (exit $rc)"
fi

run_otk emd "$tmp/x.csv" "$tmp/y.csv" --plan "$tmp/x.csv"
if [ $rc -eq 2 ] && [ "$(cat "$tmp/x.csv")" = "$(printf '0\n1')" ]; then
    pass "emd --plan onto an input: refused, the input untouched"
else
    fail "emd --plan onto an input (exit $rc)"
fi

# ------------------------------------------------------------------ sliced

# d = 1: W_2^2 of the pair above is 5/8 whatever the directions.
run_otk sliced "$tmp/x.csv" "$tmp/y.csv" --projections 3
if [ $rc -eq 0 ] && py_true '
    abs(d["value_p"] - 0.625) < 1e-15 and abs(d["value"] - math.sqrt(0.625)) < 1e-15 and
    d["p"] == 2 and d["projections"] == 3 and d["directions"] == "gaussian" and d["d"] == 1'; then
    pass "sliced, d = 1: the 1-D W_2^2 = 5/8 by hand"
else
    fail "sliced d = 1 (exit $rc)"
fi

run_otk sliced "$tmp/x.csv" "$tmp/y.csv" --p 1 --b "$tmp/b12.csv"
if [ $rc -eq 0 ] && py_true 'abs(d["value"] - 1.0) < 1e-15'; then
    # b = (1, 2) / 3: the quantiles pair 0 with 1/2 on [0, 1/3), 0 with 2 on
    # [1/3, 1/2), 1 with 2 on [1/2, 1): 1/6 + 1/3 + 1/2 = 1.
    pass "sliced --p 1, weights normalised: W_1 = 1 by hand"
else
    fail "sliced --p 1 weighted (exit $rc)"
fi

# Y = X + (0, 1); directions (1,0), (0,1), (0.6,0.8): projected W_2^2 = 0, 1,
# 0.64; d SW_2^2 / d X_i = (1/3) sum_l (-theta_l2) theta_l = -(0.16, 1.64/3).
run_otk sliced "$tmp/X2.csv" "$tmp/Y2.csv" --directions-file "$tmp/dirs.csv" \
    --grad-x "$tmp/gx.csv" --grad-y "$tmp/gy.csv" --projected "$tmp/proj.csv" \
    --write-directions "$tmp/used.csv"
if [ $rc -eq 0 ] && py_true '
    abs(d["value_p"] - 1.64 / 3) < 1e-15 and abs(d["max_value"] - 1.0) < 1e-15 and
    d["directions"] == "file" and d["seed"] is None and d["projections"] == 3 and
    all(abs(g[0] + 0.16) < 1e-15 and abs(g[1] + 1.64 / 3) < 1e-15 for g in csv(T + "/gx.csv")) and
    all(abs(g[0] - 0.16) < 1e-15 and abs(g[1] - 1.64 / 3) < 1e-15 for g in csv(T + "/gy.csv")) and
    all(abs(p - q) < 1e-15 for p, q in zip([r[0] for r in csv(T + "/proj.csv")], [0, 1, 0.64])) and
    all(abs(p - q) < 1e-15 for r, s in zip(csv(T + "/used.csv"), [[1, 0], [0, 1], [0.6, 0.8]])
        for p, q in zip(r, s))'; then
    pass "sliced --directions-file: value, projections, gradients by hand"
else
    fail "sliced --directions-file (exit $rc)"
fi

run_otk sliced "$tmp/X2.csv" "$tmp/Y2.csv" --seed 7 --projections 20 --directions halton \
    --write-directions "$tmp/h1.csv"
cp "$tmp/out" "$tmp/h1.json"
run_otk sliced "$tmp/X2.csv" "$tmp/Y2.csv" --seed 7 --projections 20 --directions halton \
    --write-directions "$tmp/h2.csv"
if [ $rc -eq 0 ] && cmp -s "$tmp/h1.csv" "$tmp/h2.csv" && py_true '
    d["directions"] == "halton" and d["seed"] == 7 and len(csv(T + "/h1.csv")) == 20 and
    all(abs(r[0] ** 2 + r[1] ** 2 - 1) < 1e-15 for r in csv(T + "/h1.csv")) and
    0 < d["value"] <= 1 + 1e-15'; then
    pass "sliced --directions halton --seed 7: reproducible unit directions, SW_2 <= |shift|"
else
    fail "sliced halton seeded (exit $rc)"
fi

run_otk sliced "$tmp/X2.csv" "$tmp/Y2.csv" --directions-file "$tmp/dirs3.csv"
if [ $rc -eq 2 ] && grep -q "3 columns" "$tmp/err"; then
    pass "sliced --directions-file of the wrong dimension: exit 2"
else
    fail "sliced directions dimension (exit $rc)"
fi

run_otk sliced "$tmp/X2.csv" "$tmp/Y2.csv" --directions-file "$tmp/dirs0.csv"
if [ $rc -eq 2 ] && grep -q "zero\|degenerate\|0\]" "$tmp/err"; then
    pass "sliced, a zero direction: exit 2, named"
else
    fail "sliced zero direction (exit $rc)"
fi

run_otk sliced "$tmp/X2.csv" "$tmp/Y2.csv" --directions-file "$tmp/dirs.csv" --seed 3
if [ $rc -eq 2 ] && grep -q -- "--seed" "$tmp/err"; then
    pass "sliced --directions-file with --seed: exit 2"
else
    fail "sliced --directions-file --seed (exit $rc)"
fi

run_otk sliced "$tmp/x.csv" "$tmp/y.csv" --p 0.5
if [ $rc -eq 2 ] && grep -q -- "--p" "$tmp/err"; then
    pass "sliced --p 0.5: exit 2"
else
    fail "sliced --p 0.5 (exit $rc)"
fi

run_otk sliced "$tmp/x.csv" "$tmp/y.csv" --directions sobol
if [ $rc -eq 2 ] && grep -q "gaussian" "$tmp/err" && grep -q "halton" "$tmp/err"; then
    pass "sliced --directions sobol: exit 2, the valid names listed"
else
    fail "sliced --directions sobol (exit $rc)"
fi

printf '0\n0\n' >"$tmp/zero2.csv"
run_otk sliced "$tmp/x.csv" "$tmp/y.csv" --a "$tmp/zero2.csv"
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && grep -qi "mass\|zero\|sum" "$tmp/err"; then
    pass "sliced, weights of zero mass: exit 2"
else
    fail "sliced zero mass (exit $rc)"
fi

run_otk sliced "$tmp/x.csv" "$tmp/bad.csv"
if [ $rc -eq 2 ] && grep -q "bad.csv:2:1" "$tmp/err"; then
    pass "sliced, a bad file: exit 2, file:line:column"
else
    fail "sliced bad file (exit $rc)"
fi

run_otk sliced "$tmp/x.csv"
if [ $rc -eq 2 ] && grep -q "two point files" "$tmp/err"; then
    pass "sliced with one file: exit 2"
else
    fail "sliced one file (exit $rc)"
fi

finish
