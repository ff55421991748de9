#!/bin/bash
# test_cli_io.sh -- the otk tool's files (docs/reliability.md): for every
# writer, an output that cannot be completed (a file-size limit standing in
# for a full disk) leaves the target as it was, no temporary behind, exit
# status 2 and the file named; an output naming one of the command's input
# files (or a link to it) is refused; a directory given as an output or an
# input, a missing input and a full standard output (/dev/full) are reported
# with exit status 2 and the file named.
#
# Run by `make check` with top_builddir set.  Prints one line per check and
# "N passed, M failed"; exit status 1 when a check failed.

top_builddir=${top_builddir:-.}
OTK=$top_builddir/otk
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otk-io.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $1"
    [ -s "$tmp/err" ] && sed 's/^/    stderr: /' "$tmp/err" | head -n 3
}

# Inputs: 120 and 90 points in 2-D (every output some kilobytes), logits,
# two 16x16 images.
awk 'BEGIN { for (i = 0; i < 120; i++) printf "%.6f,%.6f\n", sin(i), cos(3 * i) }' >"$tmp/x.csv"
awk 'BEGIN { for (i = 0; i < 90; i++) printf "%.6f,%.6f\n", 0.5 + cos(i), sin(2 * i) }' >"$tmp/y.csv"
awk 'BEGIN { for (i = 0; i < 120; i++) printf "%.6f,%.6f\n", sin(i) + 0.1, cos(3 * i) }' >"$tmp/tx.csv"
awk 'BEGIN { for (i = 0; i < 32; i++) { for (k = 0; k < 10; k++) printf "%s%.4f", (k ? "," : ""), sin(i * k); print "" } }' >"$tmp/s.csv"
awk 'BEGIN { for (i = 0; i < 32; i++) { for (k = 0; k < 10; k++) printf "%s%.4f", (k ? "," : ""), cos(i + k); print "" } }' >"$tmp/t.csv"
awk 'BEGIN { print "P2 16 16 255"; for (i = 0; i < 256; i++) print (i % 16 < 6 ? 200 : 1) }' >"$tmp/i1.pgm"
awk 'BEGIN { print "P2 16 16 255"; for (i = 0; i < 256; i++) print (i % 16 > 9 ? 200 : 1) }' >"$tmp/i2.pgm"

# check_writer NAME TARGET ARGS...: the command ARGS writes TARGET.
check_writer() {
    name=$1
    target=$2
    shift 2
    # 1. The complete run writes the target.
    rm -f "$target"
    "$OTK" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 3 ] || [ ! -s "$target" ]; then
        fail "$name: the reference run (exit $rc) did not write $(basename "$target")"
        return
    fi
    size=$(wc -c <"$target")
    # 2. A write that fails half-way (file-size limit below the output's
    #    size, SIGXFSZ ignored so that write(2) fails with EFBIG as on a
    #    full disk) leaves the old target and no temporary.
    echo "OLD CONTENT" >"$target"
    limit=$((size / 2 / 1024)) # bash's ulimit -f counts KiB
    [ "$limit" -lt 1 ] && limit=1
    (trap '' XFSZ; ulimit -f "$limit"; exec "$OTK" "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    base=$(basename "$target")
    leftovers=$(find "$(dirname "$target")" -maxdepth 1 -name ".$base.*" | wc -l)
    if [ "$size" -le 2048 ]; then
        pass "$name: output of $size bytes (below the smallest limit; atomicity not exercised)"
    elif [ $rc -eq 2 ] && [ "$(cat "$target")" = "OLD CONTENT" ] && [ "$leftovers" -eq 0 ] &&
        grep -q "$base" "$tmp/err"; then
        pass "$name: a failed write of $size bytes: exit 2, old file kept, no temporary, named"
    else
        fail "$name: failed write (exit $rc, $leftovers temporaries, target now: $(head -c 20 "$target"))"
    fi
    # 3. A target that is a directory.
    rm -f "$target"
    mkdir "$target"
    "$OTK" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "$base" "$tmp/err" && [ -d "$target" ]; then
        pass "$name: a directory as the output: exit 2, named"
    else
        fail "$name: a directory as the output (exit $rc)"
    fi
    rm -rf "$target"
}

check_writer "sinkhorn --plan" "$tmp/plan.csv" sinkhorn "$tmp/x.csv" "$tmp/y.csv" --plan "$tmp/plan.csv"
check_writer "sinkhorn --potentials" "$tmp/pot.csv" sinkhorn "$tmp/x.csv" "$tmp/y.csv" --potentials "$tmp/pot.csv"
check_writer "divergence --grad-x" "$tmp/gx.csv" divergence "$tmp/x.csv" "$tmp/y.csv" --grad-x "$tmp/gx.csv"
check_writer "divergence --grad-y" "$tmp/gy.csv" divergence "$tmp/x.csv" "$tmp/y.csv" --grad-y "$tmp/gy.csv"
check_writer "divergence --grad-a" "$tmp/ga.csv" divergence "$tmp/x.csv" "$tmp/y.csv" --grad-a "$tmp/ga.csv"
check_writer "divergence --grad-b" "$tmp/gb.csv" divergence "$tmp/x.csv" "$tmp/y.csv" --grad-b "$tmp/gb.csv"
check_writer "monge-gap --grad" "$tmp/mg.csv" monge-gap "$tmp/x.csv" "$tmp/tx.csv" --grad "$tmp/mg.csv"
check_writer "monge-gap --grad-x" "$tmp/mgx.csv" monge-gap "$tmp/x.csv" "$tmp/tx.csv" --grad-x "$tmp/mgx.csv"
check_writer "sinkd --grad" "$tmp/sg.csv" sinkd "$tmp/s.csv" "$tmp/t.csv" --grad "$tmp/sg.csv"
check_writer "grid --out (CSV)" "$tmp/bary.csv" grid "$tmp/i1.pgm" "$tmp/i2.pgm" --barycenter --out "$tmp/bary.csv"
check_writer "grid --out (PGM)" "$tmp/bary.pgm" grid "$tmp/i1.pgm" "$tmp/i2.pgm" --barycenter --out "$tmp/bary.pgm"
if "$OTK" --version | grep -q PNG; then
    check_writer "grid --out (PNG)" "$tmp/bary.png" grid "$tmp/i1.pgm" "$tmp/i2.pgm" --barycenter --out "$tmp/bary.png"
fi
check_writer "fit-map --out" "$tmp/model.txt" fit-map "$tmp/x.csv" "$tmp/y.csv" --family entropic --out "$tmp/model.txt"
check_writer "demo --svg" "$tmp/demo.svg" demo --svg "$tmp/demo.svg"

# ------------------------------------------------------------ inputs are never outputs
"$OTK" fit-map "$tmp/x.csv" "$tmp/y.csv" --family affine --iters 1 --lambda 0 --out "$tmp/m.txt" >/dev/null 2>&1
# refuse NAME INPUT ARGS...: ARGS names INPUT as an output.
refuse() {
    name=$1
    input=$2
    shift 2
    cp "$input" "$tmp/before"
    "$OTK" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && cmp -s "$input" "$tmp/before" &&
        grep -q "input file" "$tmp/err"; then
        pass "$name: refuses to overwrite its input, exit 2, named"
    else
        fail "$name: overwrote or did not refuse its input (exit $rc)"
        cp "$tmp/before" "$input"
    fi
}
refuse "sinkhorn --plan X" "$tmp/x.csv" sinkhorn "$tmp/x.csv" "$tmp/y.csv" --plan "$tmp/x.csv"
ln -sf "$tmp/y.csv" "$tmp/y-link.csv"
refuse "sinkhorn --potentials (symlink to Y)" "$tmp/y.csv" sinkhorn "$tmp/x.csv" "$tmp/y.csv" --potentials "$tmp/y-link.csv"
ln -f "$tmp/x.csv" "$tmp/x-hard.csv"
refuse "divergence --grad-x (hard link to X)" "$tmp/x.csv" divergence "$tmp/x.csv" "$tmp/y.csv" --grad-x "$tmp/x-hard.csv"
refuse "grid --out an input image" "$tmp/i2.pgm" grid "$tmp/i1.pgm" "$tmp/i2.pgm" --barycenter --out "$tmp/i2.pgm"
refuse "fit-map --out its --init model" "$tmp/m.txt" fit-map "$tmp/x.csv" "$tmp/y.csv" --family affine --init "$tmp/m.txt" --iters 1 --lambda 0 --out "$tmp/m.txt"
refuse "sinkd --grad the teacher logits" "$tmp/t.csv" sinkd "$tmp/s.csv" "$tmp/t.csv" --grad "$tmp/t.csv"

# ------------------------------------------------------------ input errors
# io_error NAME PATTERN ARGS...: exit 2 and PATTERN on stderr.
io_error() {
    name=$1
    pattern=$2
    shift 2
    "$OTK" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "$pattern" "$tmp/err"; then
        pass "$name: exit 2, named"
    else
        fail "$name (exit $rc)"
    fi
}
mkdir -p "$tmp/adir.csv"
io_error "a directory as the X file" "adir.csv" sinkhorn "$tmp/adir.csv" "$tmp/y.csv"
io_error "a directory as an image" "adir.csv" grid "$tmp/adir.csv" "$tmp/i2.pgm"
io_error "a directory as the map model" "adir" apply-map "$tmp/adir.csv" "$tmp/x.csv"
io_error "a missing Y file" "missing.csv" sinkhorn "$tmp/x.csv" "$tmp/missing.csv"
io_error "a missing mesh" "missing.off" mesh "$tmp/missing.off" "$tmp/x.csv" "$tmp/x.csv" --eps 0.1
if [ "$(id -u)" -ne 0 ]; then
    cp "$tmp/y.csv" "$tmp/locked.csv"
    chmod 000 "$tmp/locked.csv"
    io_error "an unreadable Y file" "locked.csv" sinkhorn "$tmp/x.csv" "$tmp/locked.csv"
else
    echo "SKIP: an unreadable file (running as root, which reads any file)"
fi
io_error "an output in a missing directory" "nodir" sinkhorn "$tmp/x.csv" "$tmp/y.csv" --plan "$tmp/nodir/plan.csv"
if [ -w /dev/full ]; then
    "$OTK" sinkhorn "$tmp/x.csv" "$tmp/y.csv" >/dev/full 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "standard output" "$tmp/err"; then
        pass "standard output on /dev/full: exit 2, named"
    else
        fail "standard output on /dev/full (exit $rc)"
    fi
    "$OTK" entropic-map "$tmp/x.csv" "$tmp/y.csv" "$tmp/x.csv" >/dev/full 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "standard output" "$tmp/err"; then
        pass "entropic-map's CSV on /dev/full: exit 2, named"
    else
        fail "entropic-map's CSV on /dev/full (exit $rc)"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
