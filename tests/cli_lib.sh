# cli_lib.sh -- what the shell tests of the otk tool share; sourced by
# tests/test_cli.sh and tests/test_cli_exact.sh after they set TEST_NAME.
#
# Sets OTK (the tool under test), PYTHON (to parse otk's JSON) and tmp (a
# scratch directory removed at exit); defines pass, fail, run_otk and
# finish.  Exits 77 (skipped) without python3, 1 without the tool.

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
OTK=$top_builddir/otk

if [ -x /usr/bin/python3 ]; then
    PYTHON=/usr/bin/python3
elif command -v python3 >/dev/null 2>&1; then
    PYTHON=python3
else
    echo "SKIP: python3 is needed to parse otk's JSON output"
    exit 77
fi
if [ ! -x "$OTK" ]; then
    echo "FAIL: $OTK not found or not executable (build it with 'make otk')"
    echo "0 passed, 1 failed"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otk-${TEST_NAME:-test}.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0
pass() {
    passed=$((passed + 1))
    echo "PASS: $1"
}
fail() {
    failed=$((failed + 1))
    echo "FAIL: $1"
    if [ -s "$tmp/err" ]; then
        sed 's/^/    stderr: /' "$tmp/err" | head -n 5
    fi
}

# run_otk ARGS...: run otk with stdout in $tmp/out, stderr in $tmp/err and
# the exit status in $rc.
run_otk() {
    "$OTK" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# finish: the closing line that CI greps, and the exit status.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
