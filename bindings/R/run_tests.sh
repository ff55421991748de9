#!/bin/sh
# Install the otkit R package against an installed libotkit into a temporary
# library, run its testthat suite, then R CMD build + R CMD check.
#
#   bindings/R/run_tests.sh [PREFIX]
#
# PREFIX  where the C library is installed (make install), default
#         /tmp/otk-prefix; its lib/pkgconfig/otkit.pc and bin/otk are used
#         (OTK=/path/to/otk overrides the tool the tests compare with).
# OTKIT_R_NO_CHECK=1 skips R CMD build/check (the testthat run stays).
#
# Needs R with testthat and jsonlite (Debian: r-base-dev r-cran-testthat,
# which pulls r-cran-jsonlite).  Prints testthat's summary; exits non-zero if
# the install, a test or the check (an ERROR or a WARNING) fails.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${1:-/tmp/otk-prefix}

if [ ! -f "$prefix/lib/pkgconfig/otkit.pc" ]; then
    echo "run_tests.sh: $prefix/lib/pkgconfig/otkit.pc not found: install the C library first" >&2
    echo "  (autoreconf -fi && ./configure --prefix=$prefix && make -j2 && make install)" >&2
    exit 2
fi
PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
OTK=${OTK:-$prefix/bin/otk}
if [ ! -x "$OTK" ]; then
    echo "run_tests.sh: the otk tool $OTK is missing: the tests compare with it" >&2
    exit 2
fi
export PKG_CONFIG_PATH OTK

work=$(mktemp -d "${TMPDIR:-/tmp}/otkit-r.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/lib" "$work/src"
# Build and test from a copy so that the source tree (read-only under make
# distcheck) gets no objects or Makevars.
cp -R "$here/." "$work/src/otkit"
chmod -R u+w "$work/src/otkit"
rm -rf "$work/src/otkit/src/"*.o "$work/src/otkit/src/"*.so "$work/src/otkit/src/Makevars"

R CMD INSTALL --no-test-load --library="$work/lib" "$work/src/otkit" > "$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    echo "run_tests.sh: R CMD INSTALL failed" >&2
    exit 1
}

cd "$work/src/otkit/tests/testthat"
R_LIBS="$work/lib${R_LIBS:+:$R_LIBS}" Rscript -e '
suppressPackageStartupMessages(library(otkit))
cat(sprintf("otkit R package %s, libotkit %s, otk tool %s\n",
            utils::packageVersion("otkit"), otk_version(), Sys.getenv("OTK")))
res <- as.data.frame(testthat::test_dir(".", reporter = "summary", stop_on_failure = FALSE))
failed <- sum(res$failed) + sum(res$error)
cat(sprintf("testthat: %d tests, %d expectations, %d failed, %d skipped, %d warnings\n",
            nrow(res), sum(res$nb), failed, sum(res$skipped), sum(res$warning)))
quit(status = if (failed > 0) 1L else 0L)
'

if [ "${OTKIT_R_NO_CHECK:-0}" = 1 ]; then
    exit 0
fi
cd "$work"
R CMD build --no-build-vignettes --no-manual "$work/src/otkit" > build.log 2>&1 || {
    cat build.log >&2
    exit 1
}
tarball=$(ls otkit_*.tar.gz)
R_LIBS="$work/lib${R_LIBS:+:$R_LIBS}" _R_CHECK_FORCE_SUGGESTS_=true \
    R CMD check --no-manual "$tarball" > check.log 2>&1 || true
grep -E '^Status:|WARNING|ERROR' check.log || true
if ! grep -q '^Status: OK' check.log && ! grep -Eq '^Status: [0-9]+ NOTEs?$' check.log; then
    cat check.log >&2
    for f in otkit.Rcheck/00install.out otkit.Rcheck/tests/testthat.Rout.fail; do
        [ -f "$f" ] && tail -40 "$f" >&2
    done
    echo "run_tests.sh: R CMD check failed (an ERROR or a WARNING)" >&2
    exit 1
fi
