#!/bin/sh
# libotkit_mpi against the serial library under mpirun -np 1, 2 and 4
# (tests/mpi/check_mpi.c).  4 ranks on a 2-core machine need --oversubscribe;
# one OpenMP thread per rank.  Run by `make check` when configured --with-mpi.
set -u
top_builddir=${top_builddir:-.}
MPIEXEC=${MPIEXEC:-mpirun}
prog="$top_builddir/tests/check_mpi"
[ -x "$prog" ] || { echo "SKIP: $prog not built (configure --with-mpi)"; exit 77; }
command -v "$MPIEXEC" >/dev/null 2>&1 || { echo "SKIP: no $MPIEXEC"; exit 77; }
flags="--oversubscribe"
# Open MPI refuses to run as root unless told; CI containers run as root.
[ "$(id -u)" = 0 ] && flags="$flags --allow-run-as-root"
export OMP_NUM_THREADS=1
# Quiet the transports that a container or a laptop does not have.
# (containers: no ptrace between ranks, so no single-copy shared memory).
export OMPI_MCA_btl="self,vader,tcp" OMPI_MCA_btl_base_warn_component_unused=0
export OMPI_MCA_btl_vader_single_copy_mechanism=none
status=0
total_pass=0
total_fail=0
for np in 1 2 4; do
    echo "== mpirun -np $np"
    out=$(timeout 300 "$MPIEXEC" $flags -np "$np" "$prog" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        echo "FAIL: mpirun -np $np exited with $rc"
        status=1
    fi
    p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/.*passed, \([0-9]*\) failed$/\1/p')
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + ${f:-1}))
done
# ------------------------------------------------------------ otk sinkhorn --mpi
# Against the serial `otk sinkhorn` on the same .npy files (written with
# struct: no numpy needed), then bad input in the last rank's share.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
OTK="$top_builddir/otk"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otk-mpi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cli_check() { # NAME CONDITION(exit status 0 = pass)
    if [ "$2" -eq 0 ]; then
        echo "PASS: $1"; total_pass=$((total_pass + 1))
    else
        echo "FAIL: $1"; total_fail=$((total_fail + 1)); sed 's/^/    /' "$tmp/err" | head -n 8
    fi
}
"$PYTHON" - "$tmp" <<'PYEOF'
import math, struct, sys
tmp = sys.argv[1]
def save_npy(path, rows, cols):
    flat = [v for row in rows for v in row] if cols else rows
    shape = "(%d, %d)" % (len(rows), cols) if cols else "(%d,)" % len(rows)
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as fh:
        fh.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        fh.write(struct.pack("<%dd" % len(flat), *flat))
X = [[math.sin(1.3 * i), math.cos(0.7 * i) + 0.01 * i, math.sin(0.37 * i * i)] for i in range(53)]
Y = [[0.5 + math.cos(2.1 * j), 0.03 * j - math.sin(j), math.cos(0.2 * j)] for j in range(41)]
b = [1.0 + math.sin(j) ** 2 for j in range(41)]
b = [v / sum(b) for v in b]
save_npy(tmp + "/X.npy", X, 3)
save_npy(tmp + "/Y.npy", Y, 3)
save_npy(tmp + "/b.npy", b, 0)
save_npy(tmp + "/Ynan.npy", Y[:-1] + [[0.0, float("nan"), 1.0]], 3)
save_npy(tmp + "/bneg.npy", b[:-2] + [-b[-2], 3 * b[-2] + b[-1]], 0)
PYEOF
# --update alternating: what the distributed solver's auto runs (otkit/mpi.h).
"$OTK" sinkhorn "$tmp/X.npy" "$tmp/Y.npy" --b "$tmp/b.npy" --blur 0.2 --update alternating \
    --potentials "$tmp/serial.csv" >"$tmp/serial.json" 2>"$tmp/err"
cli_check "serial otk sinkhorn on the .npy files" $?
for np in 1 2 4; do
    timeout 120 "$MPIEXEC" $flags -np "$np" "$OTK" sinkhorn --mpi "$tmp/X.npy" "$tmp/Y.npy" \
        --b "$tmp/b.npy" --blur 0.2 --potentials "$tmp/mpi$np.csv" >"$tmp/mpi.json" 2>"$tmp/err"
    rc=$?
    "$PYTHON" - "$tmp/serial.json" "$tmp/mpi.json" "$tmp/serial.csv" "$tmp/mpi$np.csv" "$np" \
        >>"$tmp/err" <<'PYEOF'
import json, sys
s, d = (json.load(open(p)) for p in sys.argv[1:3])
rel = lambda a, b: abs(a - b) / abs(b)
pot = [[float(l) for l in open(p) if not l.startswith("#")] for p in sys.argv[3:5]]
scale = max(abs(v) for v in pot[0])
pot_rel = max(abs(a - b) for a, b in zip(*pot)) / scale
ok = (set(s) | {"ranks"} == set(d) and d["ranks"] == int(sys.argv[5])
      and d["iterations"] == s["iterations"] and len(pot[0]) == len(pot[1]) == 94
      and max(rel(d[k], s[k]) for k in ("ot_kl", "ot_ent", "ot_lin")) <= 1e-12
      and pot_rel <= 1e-12)
print("ot_kl %r vs serial %r, potentials rel %.1e" % (d["ot_kl"], s["ot_kl"], pot_rel))
sys.exit(0 if ok else 1)
PYEOF
    ok=$?
    [ "$rc" -eq 0 ] || ok=1
    cli_check "mpirun -np $np otk sinkhorn --mpi: JSON and potentials equal the serial ones to 1e-12 ($(tail -n 1 "$tmp/err"))" $ok
done
# A NaN in the last row of Y: in rank 3's share only.
timeout 120 "$MPIEXEC" $flags -np 4 "$OTK" sinkhorn --mpi "$tmp/X.npy" "$tmp/Ynan.npy" \
    --blur 0.2 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q "Ynan.npy: element \[40, 1\] is nan" "$tmp/err"
cli_check "mpirun -np 4, NaN in rank 3's share of Y: every rank stops, exit 2, the reading rank names the element" $?
# A negative weight in rank 3's share of b: the library's collective error.
timeout 120 "$MPIEXEC" $flags -np 4 "$OTK" sinkhorn --mpi "$tmp/X.npy" "$tmp/Y.npy" \
    --b "$tmp/bneg.npy" --blur 0.2 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(grep -c 'is negative' "$tmp/err")" -eq 1 ] &&
    grep -q "rank 3: b_local\[9\] (b\[39\] overall) = -0.0[0-9]* is negative" "$tmp/err"
cli_check "mpirun -np 4, negative weight in rank 3's share of b: exit 2, one message naming rank 3 ($(grep 'negative' "$tmp/err" | head -n 1))" $?
"$OTK" sinkhorn --mpi "$tmp/X.npy" "$tmp/Y.npy" --plan "$tmp/plan.csv" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "plan does not apply to --mpi" "$tmp/err"
cli_check "otk sinkhorn --mpi --plan is refused (the plan is never gathered)" $?
[ "$total_fail" -eq 0 ] || status=1

echo "$total_pass passed, $total_fail failed"
[ "$status" -eq 0 ] && [ "$total_fail" -eq 0 ]
