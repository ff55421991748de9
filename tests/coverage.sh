#!/usr/bin/env bash
# Line coverage of solvers/ and tools/ (called by `make coverage`).
#
#   coverage.sh SRCDIR OUTDIR
#
# Copies SRCDIR's files (git ls-files: a configured source tree cannot host
# an out-of-tree build) to OUTDIR/src, configures them there with gcov
# instrumentation (no shared library, no optimisation), runs the test suite in two steps and
# reports the line coverage of solvers/ and tools/ after each (lcov):
#   before: the suites that predate the reliability tests (the Check suites
#           but bad_input, check_kernels, test_cli.sh);
#   after:  everything `make check` runs (adds the bad-input matrix, the fuzz
#           corpus replay, the allocation failures, the stress subset, the
#           thread test and test_cli_io.sh).
# The HTML report is OUTDIR/src/html/index.html.
set -euo pipefail
src=$1
out=$2
rm -rf "$out"
mkdir -p "$out/src"
git -C "$src" ls-files -z | (cd "$src" && xargs -0 tar -cf -) | tar -C "$out/src" -xf -
src=$out/src
cd "$src"
autoreconf -fi >/dev/null 2>&1
./configure -q --disable-shared CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage"
make -j2 >/dev/null
make -j2 check TESTS= >/dev/null # the test programs
export OMP_NUM_THREADS=2 top_builddir=. top_srcdir=.

report() { # report LABEL
    lcov -q --capture --directory . --output-file all.info --no-external --base-directory "$src" \
        2>/dev/null
    for part in solvers tools; do
        lcov -q --extract all.info "*/$part/*" --output-file "$part.info" 2>/dev/null
        printf '%-7s %-8s ' "$1" "$part/"
        lcov --summary "$part.info" 2>&1 | grep -E '^ *lines'
    done
}

CK_EXCLUDE_SUITE=bad_input ./tests/check_otkit >/dev/null 2>&1 || true
./tests/check_kernels >/dev/null 2>&1 || true
"$src/tests/test_cli.sh" >/dev/null 2>&1 || true
report before
CK_RUN_SUITE=bad_input ./tests/check_otkit >/dev/null 2>&1 || true
./tests/fuzz/replay >/dev/null 2>&1 || true
./tests/test_alloc_fail >/dev/null 2>&1 || true
./tests/stress >/dev/null 2>&1 || true
./tests/test_threads >/dev/null 2>&1 || true
"$src/tests/test_cli_io.sh" >/dev/null 2>&1 || true
report after
genhtml -q all.info --output-directory html 2>/dev/null || true
echo "HTML report: $src/html/index.html"
