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
if [ "${MAPFIT_UVP_ONLY:-}" = new ]; then
    stream_new_a >"$out.a" 2>&1 &
    pa=$!
    stream_new_b >"$out.b" 2>&1 &
    pb=$!
    wait $pa $pb
    cat "$out.a" "$out.b" >>"$out"
    rm -f "$out.a" "$out.b"
    /usr/bin/python3 mapfit_uvp_table.py "$out" >results/mapfit_uvp.md
    cat results/mapfit_uvp.md
    exit 0
fi
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
}
stream_b() {
    for d in 2 16 64; do
        ./mapfit_uvp --d $d --family mlp --lambda 0 --n 512 --iters 1000 --lr 3e-3 --batch 256 $common
        [ $d = 16 ] && ./mapfit_uvp --d $d --family mlp --lambda 0 --n 512 --iters 1000 --lr 1e-2 --batch 256 $common
        ./mapfit_uvp --d $d --family entropic --n 512 --tol 1e-4 $common
    done
    stream_new_b
}
stream_a >"$out.a" 2>&1 &
pa=$!
stream_b >"$out.b" 2>&1 &
pb=$!
wait $pa $pb
cat "$out.a" "$out.b" >"$out"
rm -f "$out.a" "$out.b"
/usr/bin/python3 mapfit_uvp_table.py "$out" >results/mapfit_uvp.md
cat results/mapfit_uvp.md
