# cli_lib.sh -- what the shell tests of the otk tool share; sourced by
# tests/test_cli.sh and tests/test_cli_exact.sh after they set TEST_NAME.
#
# Sets OTK (the tool under test), PYTHON (to parse otk's JSON) and tmp (a
# scratch directory removed at exit); defines pass, fail, run_otk, json_true
# and finish.  Exits 77 (skipped) without python3, 1 without the tool.

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

# json_true FILE EXPRESSION [empty-ok]: the JSON object in FILE parses and the
# Python EXPRESSION over it is true; otherwise prints why.  The expression
# sees d (the object; None for an empty FILE when empty-ok is given),
# csv(PATH) (the numbers of a CSV file as rows of floats, # lines skipped)
# and T (the scratch directory).
json_true() {
    "$PYTHON" - "$1" "$2" "$tmp" "${3:-}" <<'EOF'
import json, math, sys
path, expr, T, empty_ok = sys.argv[1:5]
def csv(path):
    rows = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                rows.append([float(v) for v in line.split(",")])
    return rows
try:
    with open(path) as fh:
        text = fh.read()
    d = None if empty_ok and not text.strip() else json.loads(text)
except ValueError as e:
    print("    not valid JSON: %s" % e)
    sys.exit(1)
try:
    ok = eval("(" + expr + ")", {"d": d, "abs": abs, "math": math, "csv": csv, "T": T,
                                 "all": all, "sum": sum, "len": len, "max": max,
                                 "range": range, "zip": zip})
except Exception as e:
    print("    %s: %r" % (expr.strip(), e))
    sys.exit(1)
if not ok:
    print("    false: %s" % expr.strip())
    print("    json: %s" % json.dumps(d)[:600])
sys.exit(0 if ok else 1)
EOF
}

# finish: the closing line that CI greps, and the exit status.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
