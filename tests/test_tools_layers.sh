#!/bin/sh
# test_tools_layers.sh -- the otk tool's files call and include each other
# without a circle (issue 14): prints, for each file of tools/, the tools/
# headers it includes and the tools/ files whose functions it calls (from the
# symbols of the built objects, so every call counts), and fails when either
# graph has a cycle or a subcommand calls another subcommand.
#
# Run by `make check` with top_builddir and top_srcdir set (both default to .).

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || { echo "SKIP: python3 needed"; exit 77; }
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm needed"; exit 77; }
ls "$top_builddir"/tools/otk-*.o >/dev/null 2>&1 || {
    echo "FAIL: no objects in $top_builddir/tools (build otk first)"
    exit 1
}

"$PYTHON" - "$top_srcdir/tools" "$top_builddir/tools" <<'PYEOF'
import glob, os, re, subprocess, sys

src, build = sys.argv[1], sys.argv[2]

def unit(path):
    """tools/read_csv.c, tools/otk-read_csv.o, read.h -> read_csv / read."""
    base = os.path.basename(path)
    base = re.sub(r"^otk-", "", base)
    return os.path.splitext(base)[0]

# Includes: file -> the tools/ headers it includes (a header stands for its .c).
includes = {}
for path in sorted(glob.glob(os.path.join(src, "*.[ch]"))):
    text = open(path, encoding="utf-8").read()
    includes[os.path.basename(path)] = sorted(set(re.findall(r'#include "([^"]+)"', text)))

# Calls: which object defines and which uses each global function.
defined, used = {}, {}
for obj in sorted(glob.glob(os.path.join(build, "otk-*.o"))):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    u = unit(obj)
    used[u] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBR":
            defined[parts[2]] = u
        elif len(parts) == 2 and parts[0] == "U":
            used[u].add(parts[1])
calls = {u: sorted({defined[s] for s in syms if s in defined and defined[s] != u})
         for u, syms in used.items()}

def find_cycle(graph):
    state, stack = {}, []
    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in graph.get(v, ()):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state:
                c = visit(w)
                if c:
                    return c
        state[v] = 2
        stack.pop()
        return None
    for v in sorted(graph):
        if v not in state:
            c = visit(v)
            if c:
                return c
    return None

print("includes (file: tools/ headers):")
for f, inc in includes.items():
    print("  %-20s %s" % (f + ":", " ".join(inc) or "-"))
print("calls (file: tools/ files whose functions it calls):")
for u in sorted(calls):
    print("  %-20s %s" % (u + ".c:", " ".join(c + ".c" for c in calls[u]) or "-"))

failed = 0
# A header and its .c are one unit; include graph between units.
inc_graph = {}
for f, inc in includes.items():
    inc_graph.setdefault(unit(f), set()).update(unit(h) for h in inc if unit(h) != unit(f))
for name, graph in (("include", inc_graph), ("call", calls)):
    cycle = find_cycle(graph)
    if cycle:
        print("FAIL: %s circle: %s" % (name, " -> ".join(cycle)))
        failed += 1
    else:
        print("PASS: no %s circle in tools/" % name)
# Only main (otk.c) calls the subcommands.
bad = [(u, c) for u, cs in sorted(calls.items()) for c in cs
       if c.startswith("cmd_") and u != "otk"]
for u, c in bad:
    print("FAIL: %s.c calls the subcommand file %s.c" % (u, c))
if bad:
    failed += 1
else:
    print("PASS: only otk.c calls the subcommands")
print("%d passed, %d failed" % (3 - failed, failed))
sys.exit(1 if failed else 0)
PYEOF
