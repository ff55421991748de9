#!/bin/sh
# bench/mpi_scaling.sh — weak scaling of the distributed Sinkhorn on this
# machine: ranks × points per rank, with the measured kernel time, waiting
# time, bytes sent and cost entries per iteration and rank (bench_mpi.c).
# Writes bench/results/mpi_scaling.md (and .json, one line per run).
#
# Needs the tree configured --with-mpi and built (`make` at the top); builds
# bench_mpi itself.  Ranks beyond the machine's cores are oversubscribed and
# marked so in the table: their times share cores and measure no speed-up.
#
# Environment: RANKS (default "1 2 4"), POINTS (default "1000 4000"),
# ITERS (default 10).  One OpenMP thread per rank.
set -eu
cd "$(dirname "$0")"
RANKS=${RANKS:-"1 2 4"}
POINTS=${POINTS:-"1000 4000"}
ITERS=${ITERS:-10}
[ -f ../.libs/libotkit_mpi.a ] || {
    echo "mpi_scaling.sh: ../.libs/libotkit_mpi.a not found: configure --with-mpi and make" >&2
    exit 2
}
make -s bench_mpi
cores=$(nproc)
flags="--oversubscribe"
[ "$(id -u)" = 0 ] && flags="$flags --allow-run-as-root"
export OMP_NUM_THREADS=1 OMPI_MCA_btl_base_warn_component_unused=0
mkdir -p results
json=results/mpi_scaling.json
: >"$json"
for n in $POINTS; do
    for p in $RANKS; do
        mpirun $flags -np "$p" ./bench_mpi "$n" "$ITERS" >>"$json"
    done
done
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
/usr/bin/python3 - "$json" "$cores" "$cpu" "$(date -u +%Y-%m-%d)" >results/mpi_scaling.md <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cores, cpu, day = int(sys.argv[2]), sys.argv[3], sys.argv[4]
print("# Weak scaling of the distributed Sinkhorn (bench/mpi_scaling.sh)\n")
print("%s, %d cores, %s; Open MPI, shared memory between ranks (one machine), one "
      "OpenMP thread per rank; d = 3, sqeuclidean, ε = 0.01, alternating updates, "
      "%d iterations at the target ε (no annealing).  Each rank holds N source and N "
      "target points, so n = m = ranks × N and each rank's work per iteration, "
      "N·m + N·n cost entries, grows with the rank count: weak scaling of the data, "
      "not of the work.  Per iteration (two ring passes) and per rank (the largest "
      "over the ranks): kernel time, time waiting for messages and collectives, "
      "bytes sent, cost entries evaluated.\n" % (cpu, cores, day, rows[0]["iterations"]))
print("| ranks | N per rank | n = m | wall s/iter | kernel s/iter | wait s/iter "
      "| MB sent/iter/rank | entries/iter/rank | entries/s/rank |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    over = " (oversubscribed)" if r["ranks"] > cores else ""
    print("| %d%s | %d | %d | %.4g | %.4g | %.4g | %.4g | %.3g | %.3g |" % (
        r["ranks"], over, r["points_per_rank"], r["n"], r["wall_s_per_iter"],
        r["compute_s_per_iter"], r["wait_s_per_iter"], r["bytes_sent_per_iter"] / 1e6,
        r["cost_entries_per_iter"], r["entries_per_s_per_rank"]))
print("\nThe projection for 10⁸ points on 64 nodes is in docs/mpi.md.")
PYEOF
cat results/mpi_scaling.md
