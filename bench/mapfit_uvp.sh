#!/bin/sh
# mapfit_uvp.sh — run the map-fitting acceptance experiments (mapfit_uvp.c)
# and write bench/results/mapfit_uvp.json (one JSON object per line) and
# bench/results/mapfit_uvp.md.  Build the library first (cd .. && make);
# OTK_LIBDIR overrides the directory of libotkit.so (default ../.libs).
# Two runs at a time, one thread each (the machine is shared); a couple of
# hours on two busy cores, most of it in the runs with the Monge gap (lambda > 0).
set -e
cd "$(dirname "$0")"
lib=${OTK_LIBDIR:-$PWD/../.libs}
cc -O2 -std=c11 -Wall -Wextra -Werror -I../include -o mapfit_uvp mapfit_uvp.c \
    "$lib/libotkit.so" -Wl,-rpath,"$lib" -lgsl -lgslcblas -lm
out=results/mapfit_uvp.json
common="--ntest 10000 --seed 1 --threads 1"
# The runs with the larger samples, a small lambda, a Monge-gap eps with signal
# (a few tenths of the std of its costs), a blur of the data's spread, and the
# Monge gap at a tight tolerance with warm starts (see bench/mapfit_population.py
# and otkit/mapfit.h, "Accuracy"): MAPFIT_UVP_ONLY=new runs just these
# (appending to the JSON file) and skips the ones above.  About 45 minutes.
mg16="--mg-eps 8 --mg-tol 1e-8 --mg-warm-start --cache-mb 512"
stream_new_a() {
    ./mapfit_uvp --d 2 --family affine --lambda 0 --n 4096 --blur 0.2 --compare-ot-map $common
    ./mapfit_uvp --d 2 --family affine --lambda 0.01 --mg-eps 1 --mg-tol 1e-10 \
        --n 4096 --blur 0.2 --compare-ot-map $common
    for blur in 1 2 4; do
        ./mapfit_uvp --d 16 --family affine --lambda 0.01 $mg16 --n 1024 --blur $blur \
            --compare-ot-map $common
    done
    ./mapfit_uvp --d 16 --family affine --lambda 0.01 $mg16 --n 512 --blur 1 --compare-ot-map $common
    ./mapfit_uvp --d 16 --family affine --lambda 0.003 $mg16 --n 4096 --blur 4 \
        --compare-ot-map $common
}
stream_new_b() {
    for lam in 0.001 0.003; do
        ./mapfit_uvp --d 16 --family affine --lambda $lam $mg16 --n 1024 --blur 4 \
            --compare-ot-map $common
    done
    for run in "2000 8192" "4000 16384"; do
        set -- $run
        ./mapfit_uvp --d 16 --family mlp --optimizer adam --iters $1 --n $2 --batch 1024 \
            --lr 3e-3 --cosine --blur 4 --lambda 0.01 $mg16 --report-points 2048 $common
    done
    for run in "0.005 4" "0.002 8"; do
        set -- $run
        ./mapfit_uvp --d 64 --family affine --lambda $1 --mg-eps 16 --mg-tol 1e-8 \
            --mg-warm-start --cache-mb 256 --n 2048 --blur $2 --iters 150 --compare-ot-map $common
    done
}
# d = 64: the Monge gap's eps at 0.4 and 1.6 times the std of its costs
# (16 and 64), and the accurate fit by continuation in n: 100 BFGS iterations
# on 2048 points, then 30-40 more on 4096 or 8192 points started from that
# fit (--init).  MAPFIT_UVP_ONLY=d64 runs just these (appending); about two
# hours, most of it in the two n = 8192 fits.
models=${TMPDIR:-/tmp}/otkit-mapfit-models
d64="--d 64 --family affine --mg-tol 1e-8 --mg-warm-start --blur 8 --test-mg-points 0 --ntest 10000 --threads 1"
stream_d64_a() {
    for run in "0.002 16" "0.0005 16" "0.001 64" "0.001 256" "0.003 64"; do
        set -- $run
        ./mapfit_uvp $d64 --seed 1 --lambda $1 --mg-eps $2 --n 2048 --iters 30 --cache-mb 256
    done
    ./mapfit_uvp $d64 --seed 1 --lambda 0.003 --mg-eps 64 --n 2048 --iters 30 --cache-mb 256 \
        --blur 4
    ./mapfit_uvp $d64 --seed 2 --lambda 0.001 --mg-eps 64 --n 2048 --iters 100 --cache-mb 256 \
        --save "$models/d64_n2048_seed2.map"
    ./mapfit_uvp $d64 --seed 2 --lambda 0.001 --mg-eps 64 --n 8192 --iters 30 --cache-mb 1536 \
        --init "$models/d64_n2048_seed2.map"
}
stream_d64_b() {
    ./mapfit_uvp $d64 --seed 1 --lambda 0.001 --mg-eps 64 --n 2048 --iters 100 --cache-mb 256 \
        --save "$models/d64_n2048_seed1.map"
    ./mapfit_uvp $d64 --seed 1 --lambda 0.001 --mg-eps 64 --n 4096 --iters 40 --cache-mb 512 \
        --init "$models/d64_n2048_seed1.map"
    ./mapfit_uvp $d64 --seed 1 --lambda 0.001 --mg-eps 64 --n 8192 --iters 30 --cache-mb 1536 \
        --init "$models/d64_n2048_seed1.map"
}
# The fits at the library's defaults (--defaults: lambda, the blur and the
# Monge gap's eps derived from the data, otkit/mapfit.h "Derived settings"),
# at the n of the tuned runs above; d = 64 with the 30-iteration budget of
# the tuned d = 64 runs.  MAPFIT_UVP_ONLY=defaults runs just these (appending).
# --cache-mb and --test-mg-points only save time.
dflt="--defaults --ntest 10000 --seed 1 --threads 1 --test-mg-points 0"
stream_defaults_a() {
    ./mapfit_uvp --d 2 --family affine --n 512 $dflt --compare-ot-map
    ./mapfit_uvp --d 64 --family affine --n 2048 --iters 30 $dflt --cache-mb 256
}
stream_defaults_b() {
    ./mapfit_uvp --d 16 --family affine --n 1024 $dflt --cache-mb 512 --compare-ot-map
    ./mapfit_uvp --d 16 --family mlp --n 8192 $dflt --report-points 2048
}
mkdir -p "$models"
# run_pair A B: run the streams A and B side by side and append their runs.
run_pair() {
    $1 >"$out.a" 2>&1 &
    pa=$!
    $2 >"$out.b" 2>&1 &
    pb=$!
    wait $pa $pb
    cat "$out.a" "$out.b" >>"$out"
    rm -f "$out.a" "$out.b"
    /usr/bin/python3 mapfit_uvp_table.py "$out" >results/mapfit_uvp.md
    cat results/mapfit_uvp.md
}
case "${MAPFIT_UVP_ONLY:-}" in
d64) run_pair stream_d64_a stream_d64_b; exit 0 ;;
new) run_pair stream_new_a stream_new_b; exit 0 ;;
defaults) run_pair stream_defaults_a stream_defaults_b; exit 0 ;;
esac
stream_a() {
    ./mapfit_uvp --d 2 --family affine --lambda 0 --n 512 $common
    ./mapfit_uvp --d 2 --family affine --lambda 1 --n 512 --iters 50 $common
    ./mapfit_uvp --d 16 --family affine --lambda 0 --n 512 $common
    ./mapfit_uvp --rotation --d 2 --family affine --lambda 0 --n 256 $common
    ./mapfit_uvp --rotation --d 2 --family affine --lambda 1 --n 256 $common
    ./mapfit_uvp --d 16 --family affine --lambda 1 --n 512 --iters 30 $common
    ./mapfit_uvp --d 64 --family affine --lambda 0 --n 512 $common
    ./mapfit_uvp --d 64 --family affine --lambda 1 --n 512 --iters 30 $common
    stream_new_a
    stream_d64_a
    stream_defaults_a
}
stream_b() {
    for d in 2 16 64; do
        ./mapfit_uvp --d $d --family mlp --lambda 0 --n 512 --iters 1000 --lr 3e-3 --batch 256 $common
        [ $d = 16 ] && ./mapfit_uvp --d $d --family mlp --lambda 0 --n 512 --iters 1000 --lr 1e-2 --batch 256 $common
        ./mapfit_uvp --d $d --family entropic --n 512 --tol 1e-4 $common
    done
    stream_new_b
    stream_d64_b
    stream_defaults_b
}
: >"$out"
run_pair stream_a stream_b
