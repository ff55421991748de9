#!/bin/sh
# Execute the notebooks top to bottom with `jupyter nbconvert --execute`.
#
#   notebooks/run.sh [--inplace] [--venv VENV] [--rlib DIR] [NOTEBOOK.ipynb ...]
#
# --venv VENV  a virtual environment holding the otkit Python package (as made
#              by bindings/python/run_tests.sh PREFIX VENV); its site-packages
#              go on the kernels' PYTHONPATH.  Without it, `import otkit` must
#              work for /usr/bin/python3 already.
# --rlib DIR   an R library holding the otkit R package (R CMD INSTALL -l DIR);
#              put on the R kernel's R_LIBS.
# --inplace    write the executed notebooks and their figures back into
#              notebooks/ (what is committed).  Without it they go to a
#              temporary directory that is removed afterwards (CI: a notebook
#              that raises fails the run, the tree is not touched).
# OTKIT_NB_QUICK=1 asks the notebooks for reduced sizes (the performance
# notebook's largest problems); the committed outputs are full runs.
#
# Prints one line per notebook, "executed notebooks/NAME.ipynb in N s", and
# exits non-zero at the first one that fails (after showing nbconvert's output).
# Needs python3-nbconvert and python3-ipykernel (and r-cran-irkernel for the R
# notebook).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
inplace=0
venv=
rlib=
while [ $# -gt 0 ]; do
    case $1 in
    --inplace) inplace=1 ;;
    --venv) venv=$2; shift ;;
    --rlib) rlib=$2; shift ;;
    --*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
if [ $# -eq 0 ]; then
    set -- "$here"/[0-9]*.ipynb
fi

if [ -n "$venv" ]; then
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
    export PYTHONPATH
fi
if [ -n "$rlib" ]; then
    R_LIBS=$rlib${R_LIBS:+:$R_LIBS}
    export R_LIBS
fi
if command -v jupyter >/dev/null 2>&1 && jupyter nbconvert --version >/dev/null 2>&1; then
    nbconvert="jupyter nbconvert"
else
    nbconvert="/usr/bin/python3 -m nbconvert"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/otkit-nb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
if [ "$inplace" = 1 ]; then
    OTKIT_NB_FIGURES=$here/figures
else
    OTKIT_NB_FIGURES=$work/figures
fi
mkdir -p "$OTKIT_NB_FIGURES"
export OTKIT_NB_FIGURES
# Matplotlib's cache and Jupyter's runtime files go to the temporary directory.
MPLCONFIGDIR=$work/mpl
JUPYTER_RUNTIME_DIR=$work/runtime
# One OpenMP thread unless told otherwise: on a loaded shared machine (CI) the
# library's default team of threads can be many times slower than one thread
# (measured: 2.1 s against 0.08 s for one 400 x 500 divergence at load 9 on
# 2 cores).  The performance notebook states the threads it uses.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export OMP_NUM_THREADS
# Quiets ipykernel's debugger note about frozen modules.
PYDEVD_DISABLE_FILE_VALIDATION=1
export MPLCONFIGDIR JUPYTER_RUNTIME_DIR PYDEVD_DISABLE_FILE_VALIDATION

for nb in "$@"; do
    name=$(basename "$nb")
    start=$(date +%s)
    # The kernel's working directory is the notebook's directory (notebooks/).
    if [ "$inplace" = 1 ]; then
        where="--inplace"
    else
        where="--output-dir=$work/out"
    fi
    if ! $nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 "$where" "$nb" \
        >"$work/log" 2>&1; then
        cat "$work/log" >&2
        echo "FAILED notebooks/$name" >&2
        exit 1
    fi
    echo "executed notebooks/$name in $(( $(date +%s) - start )) s"
done
