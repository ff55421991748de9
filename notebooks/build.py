#!/usr/bin/env python3
"""Make the notebooks from their sources, or check that they match.

    python3 notebooks/build.py            write notebooks/NN_name.ipynb from notebooks/src/
    python3 notebooks/build.py --check    exit 1 if a committed notebook's cells differ
                                          from its source (outputs are not compared)

A source is a script in the "percent" format: cells start at lines "# %%"
(code) or "# %% [markdown]" (markdown, every line prefixed with "# ").
Python sources (.py) get the python3 kernel, R sources (.R) the ir kernel.
Writing keeps nothing of an old notebook: execute it afterwards
(notebooks/run.sh) to fill in the outputs.  Needs nbformat (Debian:
python3-nbformat, pulled in by python3-nbconvert).
"""
import glob
import os
import sys

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
KERNELS = {
    ".py": dict(kernelspec=dict(name="python3", display_name="Python 3", language="python"),
                language_info=dict(name="python")),
    ".R": dict(kernelspec=dict(name="ir", display_name="R", language="R"),
               language_info=dict(name="R")),
}


def cells(path):
    """[(kind, source)] of a percent-format script."""
    out, kind, lines = [], None, []

    def flush():
        if kind is not None:
            text = "\n".join(lines).strip("\n")
            if text:
                out.append((kind, text))

    with open(path, encoding="utf-8") as fh:
        for line in fh.read().splitlines():
            if line.startswith("# %%"):
                flush()
                kind = "markdown" if "[markdown]" in line else "code"
                lines = []
            elif kind == "markdown":
                lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
            elif kind is not None:
                lines.append(line)
    flush()
    return out


def notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(KERNELS[os.path.splitext(path)[1]])
    for kind, text in cells(path):
        nb.cells.append(nbformat.v4.new_markdown_cell(text) if kind == "markdown"
                        else nbformat.v4.new_code_cell(text))
    return nb


def sources():
    return sorted(glob.glob(os.path.join(HERE, "src", "[0-9]*.py")) +
                  glob.glob(os.path.join(HERE, "src", "[0-9]*.R")))


def target(src):
    return os.path.join(HERE, os.path.splitext(os.path.basename(src))[0] + ".ipynb")


def main(argv):
    check = "--check" in argv
    bad = 0
    for src in sources():
        nb, dst = notebook(src), target(src)
        if check:
            if not os.path.exists(dst):
                print("missing: %s (from %s)" % (os.path.relpath(dst), os.path.relpath(src)))
                bad += 1
                continue
            old = nbformat.read(dst, as_version=4)
            want = [(c.cell_type, c.source) for c in nb.cells]
            have = [(c.cell_type, c.source) for c in old.cells]
            if want != have:
                print("differs from its source: %s (run python3 notebooks/build.py, then "
                      "notebooks/run.sh)" % os.path.relpath(dst))
                bad += 1
        else:
            nbformat.write(nb, dst)
            print("wrote %s" % os.path.relpath(dst))
    if check and not bad:
        print("notebooks match their sources (%d)" % len(sources()))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
