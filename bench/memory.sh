#!/bin/sh
# bench/memory.sh — peak memory of a large otkit Sinkhorn solve.
#
# Runs ./bench_sinkhorn (build it first with `make`; this script builds
# nothing) under /usr/bin/time -v on n = m = 50000 points, d = 3, uniform in
# the unit cube (drawn by the program from a fixed seed), sqeuclidean cost,
# ε = 0.01 with GeomLoss's fixed schedule (blur 0.1, scaling 0.5: 7 symmetric
# updates and the final extrapolation), 2 threads.  A dense 50000×50000 cost
# or plan would take 20 GB; otkit computes the cost on the fly, so the peak
# resident set must stay O((n+m)·d):
# the script fails (exit 1) when it reaches LIMIT_MB (default 100).
#
# Environment: N (default 50000), THREADS (default 2), LIMIT_MB (default 100).
# Extra arguments are passed to bench_sinkhorn after the defaults (the last
# value of an option wins), e.g. `./memory.sh --schedule converge --eps 0.1`.
set -eu
cd "$(dirname "$0")"

N=${N:-50000}
THREADS=${THREADS:-2}
LIMIT_MB=${LIMIT_MB:-100}

if [ ! -x ./bench_sinkhorn ]; then
    echo "memory.sh: ./bench_sinkhorn not found: run make in bench/ first" >&2
    exit 2
fi
if [ ! -x /usr/bin/time ]; then
    echo "memory.sh: /usr/bin/time not found (apt-get install -y time)" >&2
    exit 2
fi

report=$(mktemp)
trap 'rm -f "$report"' EXIT

echo "memory.sh: n = m = $N, d = 3, sqeuclidean, eps 0.01, fixed schedule, scaling 0.5, $THREADS threads"
status=0
/usr/bin/time -v -o "$report" ./bench_sinkhorn --n "$N" --m "$N" --d 3 --seed 1 \
    --cost sqeuclidean --eps 0.01 --schedule fixed --scaling 0.5 --threads "$THREADS" "$@" ||
    status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    cat "$report" >&2
    echo "memory.sh: bench_sinkhorn failed with status $status" >&2
    exit 2
fi

rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$report")
wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$report")
user=$(sed -n 's/^[[:space:]]*User time (seconds): //p' "$report")
rss_mb=$(awk -v kb="$rss_kb" 'BEGIN { printf "%.1f", kb / 1024 }')
# A dense n×m float64 matrix, for scale.
dense_mb=$(awk -v n="$N" 'BEGIN { printf "%.0f", n * n * 8 / 1048576 }')

echo
echo "| n = m | peak RSS (MiB) | limit (MiB) | dense n×m matrix (MiB) | wall time | user CPU s |"
echo "|---|---|---|---|---|---|"
echo "| $N | $rss_mb | $LIMIT_MB | $dense_mb | $wall | $user |"

if awk -v kb="$rss_kb" -v lim="$LIMIT_MB" 'BEGIN { exit !(kb / 1024 >= lim) }'; then
    echo "memory.sh: FAIL: peak RSS $rss_mb MiB >= $LIMIT_MB MiB" >&2
    exit 1
fi
echo "memory.sh: OK: peak RSS $rss_mb MiB < $LIMIT_MB MiB"
