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
export OMPI_MCA_btl="self,vader,tcp" OMPI_MCA_btl_base_warn_component_unused=0
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
echo "$total_pass passed, $total_fail failed"
[ "$status" -eq 0 ] && [ "$total_fail" -eq 0 ]
