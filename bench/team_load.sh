#!/bin/sh
# bench/team_load.sh — Sinkhorn with 1 and 2 threads on a machine where
# another process holds a core, with the driver's thread rule
# (solvers/core/team.h) on and off (OTK_TEAM=fixed: every pass uses the
# whole team, the behaviour before the rule).
#
# Runs ./bench_sinkhorn (build it first with `make` in bench/) on uniform
# points in the unit cube, d = 3, sqeuclidean, ε = 0.01, tol 1e-9, RUNS times
# per setting, first as the machine is ("as is") and then with one
# CPU-bound shell loop beside it ("+1 busy").  Prints the medians of the
# solve's own "seconds" as a Markdown table, with the load average before
# and after; values are bitwise the same in every setting (checked here on
# ot_kl).
#
# Environment: NS (default "300 2000"), RUNS (default 5).
set -eu
cd "$(dirname "$0")"
NS=${NS:-"300 2000"}
RUNS=${RUNS:-5}
if [ ! -x ./bench_sinkhorn ]; then
    echo "team_load.sh: ./bench_sinkhorn not found: run make in bench/ first" >&2
    exit 2
fi

field() { # JSON-LINE KEY
    printf '%s\n' "$1" | sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p"
}

median_of() { # SECONDS...
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

busy=
cleanup() { [ -n "$busy" ] && kill "$busy" 2>/dev/null || true; }
trap cleanup EXIT

echo "team_load.sh: d = 3, sqeuclidean, eps 0.01, tol 1e-9, median of $RUNS runs (seconds)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo
echo "| machine | n = m | 1 thread | 2 threads, rule | 2 threads, OTK_TEAM=fixed | fixed / rule |"
echo "|---|---|---|---|---|---|"
for machine in "as is" "+1 busy"; do
    if [ "$machine" = "+1 busy" ]; then
        sh -c 'while :; do :; done' &
        busy=$!
        sleep 1
    fi
    for n in $NS; do
        ref=
        row=
        for setting in "1 rule" "2 rule" "2 fixed"; do
            set -- $setting
            times=
            for r in $(seq "$RUNS"); do
                if [ "$2" = fixed ]; then
                    out=$(OTK_TEAM=fixed ./bench_sinkhorn --n "$n" --m "$n" --d 3 --seed 1 \
                        --eps 0.01 --tol 1e-9 --threads "$1")
                else
                    out=$(OTK_TEAM= ./bench_sinkhorn --n "$n" --m "$n" --d 3 --seed 1 \
                        --eps 0.01 --tol 1e-9 --threads "$1")
                fi
                v=$(field "$out" ot_kl)
                if [ -z "$ref" ]; then ref=$v; elif [ "$v" != "$ref" ]; then
                    echo "team_load.sh: ot_kl $v differs from $ref ($setting)" >&2
                    exit 1
                fi
                times="$times $(field "$out" seconds)"
            done
            med=$(median_of $times)
            row="$row | $med"
            eval "med_$1_$2=$med"
        done
        ratio=$(awk -v a="$med_2_fixed" -v b="$med_2_rule" 'BEGIN {printf "%.1f", a / b}')
        echo "| $machine | $n$row | $ratio |"
    done
done
cleanup
busy=
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
