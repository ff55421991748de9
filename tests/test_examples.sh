#!/bin/sh
# test_examples.sh -- run the C programs of examples/ and check their answers.
#
# Each program checks its own result against a known answer (see its header)
# and ends its output with "ok" (exit 0) or "FAILED" (exit 1).  This script
# runs them from EXAMPLES_DIR (default $top_builddir/examples: the programs
# `make check` builds against the just-built library; `make installcheck`
# points it at copies built with pkg-config against the installed one),
# shows their output, prints one PASS/FAIL line per program and ends with
# "N passed, M failed"; exits 1 when one failed.

top_builddir=${top_builddir:-.}
dir=${EXAMPLES_DIR:-$top_builddir/examples}

passed=0
failed=0
for prog in sinkhorn_solve gradient_flow distill_batch mesh_barycenter; do
    exe=$dir/$prog
    if [ ! -x "$exe" ]; then
        echo "FAIL: $exe not found or not executable"
        failed=$((failed + 1))
        continue
    fi
    out=$("$exe" 2>&1)
    rc=$?
    printf '%s\n' "$out" | sed "s/^/    $prog: /"
    last=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ "$last" = ok ]; then
        echo "PASS: $prog"
        passed=$((passed + 1))
    else
        echo "FAIL: $prog (exit status $rc, last line '$last')"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
