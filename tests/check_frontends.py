#!/usr/bin/python3
"""check_frontends.py -- the same parameter names and defaults in every front end.

For each group of tests/frontends.txt (one module: a C parameter struct, an
`otk` command, a Python function, an R function) it collects the parameters
of each front end with their defaults:

  C       the fields of the otk_*_params struct, parsed from include/otkit/*.h,
          with the values otk_*_params_default writes (called through ctypes
          in the built libotkit.so; enum fields named by otk_<enum>_name);
  CLI     the options of `otk COMMAND --help` (--max-iter -> max_iter,
          --no-debias -> debias, default 1), defaults from "(default X)";
  Python  the signature of the function in bindings/python/otkit (read with
          ast from the sources, so that no extension module must be built),
          plus the keys of an options table for **options functions;
  R       formals() of the function, the package's R files sourced into an
          environment (no compiled code is loaded).

A difference is a name one front end lacks (absence from C alone is not one:
data such as x, y, a, b are function arguments there, not parameters) or
defaults that disagree (None / NULL in a binding means "not given", so it
matches the C default; C's "not set" values 0 and INFINITY match None).  Every difference must be listed, with its reason, in
the [differences] section of tests/frontends.txt; an unlisted difference
fails, and so does a listed one that no longer exists.

Run by `make check` (top_srcdir and top_builddir set; both default to .).
Exit status 0: no unlisted difference; 1: some (each printed), or the
self-test (a difference injected into the parameters read and into the
table, which must be noticed) failed; 77 (SKIP): a front end could not be
read (no libotkit.so, no otk, no Rscript), so the table is not judged.  OTKIT_FRONTENDS_TABLE=file reads another table (the
test of this script injects a difference that way).
"""
import ast
import ctypes
import glob
import math
import os
import re
import subprocess
import sys

SRC = os.environ.get("top_srcdir", ".")
BUILD = os.environ.get("top_builddir", ".")
TABLE = os.environ.get("OTKIT_FRONTENDS_TABLE", os.path.join(SRC, "tests", "frontends.txt"))
FRONTENDS = ("c", "cli", "py", "r")

UNSET = "<unset>"        # None, NULL
ANY = "<any>"            # an option whose help gives no number as its default
REQUIRED = "<required>"  # a positional argument without default


class Skip(Exception):
    pass


# ------------------------------------------------------------------ the table

def read_table(path):
    groups, differences, ignore, rename = {}, {}, {}, {"data": {}}
    section = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
            if not line.strip():
                continue
            m = re.match(r"^\[(\w+)\]$", line.strip())
            if m:
                section = m.group(1)
                continue
            where = "%s:%d" % (path, lineno)
            if section == "groups":
                parts = line.split()
                spec = {"name": parts[0]}
                for p in parts[1:]:
                    k, _, v = p.partition("=")
                    if k not in FRONTENDS + ("pyopts",):
                        sys.exit("%s: unknown front end %r" % (where, k))
                    spec[k] = v
                groups[parts[0]] = spec
            elif section == "data":
                head, sep, reason = line.partition("|")
                if not sep or not reason.strip():
                    sys.exit("%s: an entry needs '| reason'" % where)
                for name in head.split():
                    rename["data"][name] = reason.strip()
            elif section in ("differences", "ignore", "rename"):
                head, sep, reason = line.partition("|")
                if not sep or not reason.strip():
                    sys.exit("%s: an entry needs '| reason'" % where)
                parts = head.split()
                if section == "differences":
                    if len(parts) != 3:
                        sys.exit("%s: expected GROUP NAME KIND | reason" % where)
                    differences[tuple(parts)] = [reason.strip(), where, False]
                elif section == "ignore":
                    if len(parts) != 2:
                        sys.exit("%s: expected FRONTEND NAME | reason" % where)
                    ignore.setdefault(parts[0], set()).add(parts[1])
                else:
                    if len(parts) != 3:
                        sys.exit("%s: expected FRONTEND FROM TO | reason" % where)
                    rename.setdefault(parts[0], {})[parts[1]] = parts[2]
            else:
                sys.exit("%s: entry outside a section" % where)
    return groups, differences, ignore, rename


# ------------------------------------------------------------------ C

def strip_c_comments(s):
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", s, flags=re.S))


def c_structs():
    structs = {}
    for h in sorted(glob.glob(os.path.join(SRC, "include", "otkit", "*.h"))):
        with open(h, encoding="utf-8") as f:
            s = strip_c_comments(f.read())
        for m in re.finditer(r"typedef struct \{([^{}]*)\}\s*(otk_\w+_params);", s):
            fields = []
            for decl in m.group(1).split(";"):
                decl = " ".join(decl.split())
                if not decl:
                    continue
                first, *more = decl.split(",")
                dm = re.match(r"^(.*?)([*\s]*)(\w+)$", first)
                ctype = " ".join(dm.group(1).replace("const ", "").split())
                for k, name in enumerate([dm.group(2) + dm.group(3)] + more):
                    stars = name.count("*")
                    fields.append((name.strip("* "), ctype, stars))
            structs[m.group(2)] = fields
    return structs


SCALARS = {"double": ctypes.c_double, "int": ctypes.c_int, "long": ctypes.c_long,
           "size_t": ctypes.c_size_t, "unsigned long": ctypes.c_ulong,
           "unsigned": ctypes.c_uint}


def c_defaults(lib, structs, name, cache={}):
    """{field: default} of otk_<...>_params, through otk_*_params_default."""
    if name in cache:
        return cache[name]
    types = {}

    def ctype_of(t, stars):
        if stars:
            return ctypes.c_void_p
        if t in SCALARS:
            return SCALARS[t]
        if t in structs:
            return build(t)
        if t.endswith("_fn"):
            return ctypes.c_void_p
        return ctypes.c_int  # an enum

    def build(t):
        if t not in types:
            types[t] = type(t, (ctypes.Structure,),
                            {"_fields_": [(f, ctype_of(ft, st)) for f, ft, st in structs[t]]})
        return types[t]

    st = build(name)
    obj = st()
    getattr(lib, name + "_default")(ctypes.byref(obj))
    out = {}
    for f, ft, stars in structs[name]:
        if stars or ft in structs or ft.endswith("_fn"):
            continue  # nested parameter blocks and pointers are not options
        v = getattr(obj, f)
        if ft not in SCALARS:
            namefn = getattr(lib, ft + "_name", None)
            if namefn is not None:
                namefn.restype = ctypes.c_char_p
                namefn.argtypes = [ctypes.c_int]
                text = namefn(v)
                v = text.decode() if text else v
        out[f] = v
    cache[name] = out
    return out


def load_lib():
    for cand in (os.environ.get("OTKIT_LIB"), os.path.join(BUILD, ".libs", "libotkit.so")):
        if cand and os.path.exists(cand):
            return ctypes.CDLL(cand)
    raise Skip("no libotkit.so under %s/.libs (a --disable-shared build)" % BUILD)


# ------------------------------------------------------------------ CLI

def cli_options(command, cache={}):
    if command in cache:
        return cache[command]
    otk = os.path.join(BUILD, "otk")
    if not os.access(otk, os.X_OK):
        raise Skip("no otk tool at %s" % otk)
    text = subprocess.run([otk, command, "--help"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True).stdout
    opts, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^ {1,6}(?:-\w, )?--([a-z][a-z0-9-]*)((?: [A-Z][A-Za-z0-9_,.]*)?)(\s+(.*))?$",
                     line)
        if m:
            current = m.group(1)
            opts[current] = [bool(m.group(2).strip()), m.group(4) or ""]
            continue
        if current and re.match(r"^ {8,}\S", line):
            opts[current][1] += " " + line.strip()
        else:
            current = None
    out = {}
    for opt, (takes_value, help_text) in opts.items():
        name = opt.replace("-", "_")
        if not takes_value:
            if name.startswith("no_"):
                out[name[3:]] = 1.0
            else:
                out[name] = 0.0
            continue
        # Only numbers are read from the help text ("(default 0.05)"); words
        # there describe ("uniform", "balanced") rather than spell a value.
        d = re.search(r"\(default:? ([-+0-9.eE,]+)[;) ]", help_text + " ")
        out[name] = ANY
        if d:
            v = literal(d.group(1).rstrip(","))
            out[name] = v if isinstance(v, (float, tuple)) else ANY
    cache[command] = out
    return out


# ------------------------------------------------------------------ Python

def literal(text):
    text = text.strip()
    if text in ("None", "NULL", ""):
        return UNSET
    if text in ("True", "TRUE"):
        return 1.0
    if text in ("False", "FALSE"):
        return 0.0
    if text in ("inf", "math.inf", "Inf", "INFINITY"):
        return math.inf
    seq = re.match(r"^(?:c\(|\()?((?:[-+0-9.eE]+L?, ?)+[-+0-9.eE]+L?)\)?$", text)
    if seq:  # (64, 64), c(64L, 64L), 64,64
        return tuple(float(v.strip().rstrip("L")) for v in seq.group(1).split(","))
    t = text[:-1] if re.match(r"^-?\d+L$", text) else text
    try:
        return float(t)
    except ValueError:
        pass
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def py_modules(cache={}):
    if not cache:
        for path in sorted(glob.glob(os.path.join(SRC, "bindings", "python", "otkit", "*.py"))):
            with open(path, encoding="utf-8") as f:
                cache[os.path.basename(path)[:-3]] = ast.parse(f.read(), path)
    return cache


def py_signature(qualname, optstable=None):
    """{name: default} of a function (or Class.method) of the otkit package."""
    found = None
    for mod in py_modules().values():
        body = mod.body
        parts = qualname.split(".")
        for k, part in enumerate(parts):
            node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                         and n.name == part), None)
            if node is None:
                break
            if k == len(parts) - 1:
                found = node
            body = node.body
        if found is not None:
            break
    if not isinstance(found, ast.FunctionDef):
        raise SystemExit("check_frontends: no Python function %s in bindings/python/otkit"
                         % qualname)
    a = found.args
    out = {}
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for arg, d in zip(positional, defaults):
        out[arg.arg] = REQUIRED if d is None else literal(ast.unparse(d))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        out[arg.arg] = REQUIRED if d is None else literal(ast.unparse(d))
    out.pop("self", None)
    out.pop("cls", None)
    if optstable:
        for mod in py_modules().values():
            for n in mod.body:
                if (isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
                        and n.targets[0].id == optstable and isinstance(n.value, ast.Dict)):
                    for key in n.value.keys:
                        out.setdefault(key.value, ANY)  # None: the C default
    return out


# ------------------------------------------------------------------ R

def r_formals(cache={}):
    if cache:
        return cache
    try:
        proc = subprocess.run(
            ["Rscript", "--vanilla", "-e", r"""
e <- new.env()
for (f in sort(list.files(file.path(Sys.getenv("OTK_R_DIR"), "R"), full.names = TRUE)))
    sys.source(f, e)
for (n in ls(e)) {
    f <- get(n, e)
    if (!is.function(f)) next
    fm <- formals(f)
    for (k in names(fm)) {
        d <- if (identical(fm[[k]], quote(expr = ))) "<required>" else
            paste(deparse(fm[[k]]), collapse = "")
        cat(n, "\t", k, "\t", d, "\n", sep = "")
    }
}"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            env=dict(os.environ, OTK_R_DIR=os.path.join(SRC, "bindings", "R")))
    except FileNotFoundError:
        raise Skip("no Rscript")
    if proc.returncode != 0:
        raise SystemExit("check_frontends: sourcing bindings/R/R failed:\n" + proc.stderr)
    for line in proc.stdout.splitlines():
        fn, arg, d = line.split("\t")
        cache.setdefault(fn, {})[arg] = REQUIRED if d == "<required>" else literal(d)
    return cache


# ------------------------------------------------------------------ compare

def same(values):
    """True when the defaults can agree.  In a group with C, None / NULL in a
    binding means "not given: the C default applies", so it matches C's
    value; without C, UNSET matches only UNSET."""
    with_c = any(fe == "c" for fe, _ in values)
    tokens = []
    for fe, v in values:
        if v in (REQUIRED, ANY) or (with_c and v == UNSET):
            continue
        if fe == "c" and isinstance(v, (int, float)) and (v == 0 or math.isinf(v)):
            tokens.append({v, UNSET})
        else:
            tokens.append({v})
    if not tokens:
        return True
    common = set.intersection(*tokens) if tokens else set()
    return bool(common)


def show(v):
    if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def collect(spec, ignore, rename, lib, structs, skipped):
    per = {}
    for fe in FRONTENDS:
        if fe not in spec:
            continue
        target = spec[fe]
        try:
            if fe == "c":
                if lib is None:
                    raise Skip(skipped.get("c", "no library"))
                params = dict(c_defaults(lib, structs, target))
            elif fe == "cli":
                params = dict(cli_options(target))
            elif fe == "py":
                params = py_signature(target, spec.get("pyopts"))
            else:
                formals = r_formals()
                if target not in formals:
                    raise SystemExit("check_frontends: no R function %s in bindings/R/R" % target)
                params = dict(formals[target])
        except Skip as e:
            skipped[fe] = str(e)
            continue
        renamed = {}
        for k, v in params.items():
            if k in ignore.get(fe, ()):
                continue
            renamed[rename.get(fe, {}).get(k, k)] = v
        per[fe] = renamed
    return per


def compare(groups, differences, ignore, rename, lib, structs, skipped, inject=None):
    """The differences found, as (key, text); inject(gname, per) may alter
    the parameters read (the self-test)."""
    found = []
    for gname, spec in groups.items():
        if "c" in spec and spec["c"] not in structs:
            raise SystemExit("check_frontends: no struct %s in include/otkit" % spec["c"])
        per = collect(spec, ignore, rename, lib, structs, skipped)
        if inject:
            inject(gname, per)
        names = sorted(set().union(*[set(p) for p in per.values()])) if per else []
        for name in names:
            have = [fe for fe in FRONTENDS if fe in per and name in per[fe]]
            lacking = [fe for fe in FRONTENDS if fe in per and name not in per[fe]
                       and fe != "c" and not (fe == "cli" and name in rename["data"])]
            # A C field every other front end lacks is still a difference.
            if "c" in per and name in per["c"] and len(have) == 1 and len(per) > 1:
                lacking = [fe for fe in FRONTENDS if fe in per and fe != "c"]
            for fe in lacking:
                found.append(((gname, name, "absent:" + fe),
                              "%s has %s (%s) but %s has not" % (
                                  gname, name, ", ".join(have), fe)))
            values = [(fe, per[fe][name]) for fe in have]
            if not same(values):
                found.append(((gname, name, "default"),
                              "%s: defaults of %s differ: %s" % (
                                  gname, name, ", ".join("%s %s" % (fe, show(v))
                                                        for fe, v in values))))
    return found


def judge(found, differences, groups, skipped, quiet=False):
    """Failures: unlisted differences and stale entries (printed unless quiet)."""
    out = []
    used = set()
    for key, text in found:
        if key in differences:
            used.add(key)
            if not quiet:
                print("listed: %s  (%s)" % (text, differences[key][0]))
        else:
            out.append("FAIL: %s  -- not listed in %s as '%s'"
                       % (text, os.path.basename(TABLE), " ".join(key)))
    for key, (reason, where, _) in sorted(differences.items()):
        fe = key[2].split(":")[1] if ":" in key[2] else None
        if key[0] not in groups:
            out.append("FAIL: %s: no group %s" % (where, key[0]))
        elif key not in used and fe not in skipped and not (fe is None and skipped):
            out.append("FAIL: %s lists '%s', which is no longer a difference: remove it"
                       % (where, " ".join(key)))
    if not quiet:
        for line in out:
            print(line)
    return out


def self_test(groups, differences, ignore, rename, lib, structs, skipped):
    """The check must fail on an injected difference of each kind: a renamed
    Python parameter, a changed R default, an entry dropped from the table,
    a stale entry.  Returns the number of injections it failed to notice."""
    missed = 0

    def expect(what, found, table, needle):
        nonlocal missed
        fails = judge(found, table, groups, skipped, quiet=True)
        hit = [f for f in fails if needle in f]
        print("self-test: %s -> %s" % (what, hit[0] if hit else "NOT NOTICED"))
        missed += not hit

    def rename_tol(gname, per):
        if gname == "sinkhorn" and "py" in per and "tol" in per["py"]:
            per["py"]["stop_tol"] = per["py"].pop("tol")

    def r_default(gname, per):
        if gname == "divergence" and "r" in per and "scaling" in per["r"]:
            per["r"]["scaling"] = 0.9

    if "sinkhorn" in groups:
        expect("Python sinkhorn(tol=) renamed stop_tol=",
               compare(groups, differences, ignore, rename, lib, structs, dict(skipped),
                       rename_tol), differences, "'sinkhorn stop_tol absent:")
    if "divergence" in groups and "r" not in skipped:
        expect("R divergence(scaling = 0.9)",
               compare(groups, differences, ignore, rename, lib, structs, dict(skipped),
                       r_default), differences, "'divergence scaling default'")
    found = compare(groups, differences, ignore, rename, lib, structs, dict(skipped))
    listed = [k for k, _ in found if k in differences]
    if listed:
        dropped = dict(differences)
        del dropped[listed[0]]
        expect("entry '%s' dropped from the table" % " ".join(listed[0]), found, dropped,
               "'%s'" % " ".join(listed[0]))
    stale = dict(differences)
    stale[("sinkhorn", "tol", "absent:py")] = ["(injected)", "self-test", False]
    expect("a stale entry 'sinkhorn tol absent:py'", found, stale,
           "'sinkhorn tol absent:py', which is no longer a difference")
    return missed


def main():
    groups, differences, ignore, rename = read_table(TABLE)
    skipped = {}
    structs = c_structs()
    try:
        lib = load_lib()
    except Skip as e:
        lib, skipped["c"] = None, str(e)
    found = compare(groups, differences, ignore, rename, lib, structs, skipped)
    if skipped:
        # Without a front end the table cannot be judged (its entries pair
        # the front ends, and None matches the C default only when C is read).
        for fe, why in sorted(skipped.items()):
            print("SKIP front end %s: %s" % (fe, why))
        print("SKIP: %d groups not judged (%d differences seen without those front ends)"
              % (len(groups), len(found)))
        return 77
    failures = len(judge(found, differences, groups, skipped))
    missed = self_test(groups, differences, ignore, rename, lib, structs, skipped)
    print("%d groups, %d differences listed, %d failed, %d injected differences not noticed"
          % (len(groups), len(differences), failures, missed))
    return 1 if failures or missed else 0


if __name__ == "__main__":
    sys.exit(main())
