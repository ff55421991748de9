#!/bin/sh
# Build and install the otkit Python package into a virtual environment against
# an installed libotkit, then run its pytest suite.
#
#   bindings/python/run_tests.sh [PREFIX] [VENV]
#
# PREFIX  where the C library is installed (make install), default /tmp/otk-prefix;
#         its lib/pkgconfig/otkit.pc and bin/otk are used.
# VENV    the virtual environment to (re)create, default ${TMPDIR:-/tmp}/otkit-py-venv.
#         It is made with --system-site-packages so that Debian's numpy, torch
#         (python3-torch), POT (python3-pot) and pytest are visible.
# PYTHON  the interpreter (environment), default /usr/bin/python3.
#
# Offline: pip runs with --no-index --no-build-isolation.  Skipped tests (torch
# or POT missing) are listed with their reason (-rs).  The last line is
# pytest's summary; the exit status is pytest's (set -e passes it on).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${1:-/tmp/otk-prefix}
venv=${2:-${TMPDIR:-/tmp}/otkit-py-venv}
python=${PYTHON:-/usr/bin/python3}

if [ ! -f "$prefix/lib/pkgconfig/otkit.pc" ]; then
    echo "run_tests.sh: $prefix/lib/pkgconfig/otkit.pc not found: install the C library first" >&2
    echo "  (autoreconf -fi && ./configure --prefix=$prefix && make -j2 && make install)" >&2
    exit 2
fi
PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH

# Re-create the venv, but never delete a directory that is not one.
if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
    echo "run_tests.sh: $venv exists and is not a virtual environment; not touching it" >&2
    exit 2
fi
rm -rf "$venv"
"$python" -m venv --system-site-packages "$venv"
# setuptools builds in the source tree: build from a fresh copy, so that the
# sources may be read-only (make distcheck) and no extension built against
# another prefix is reused.
work=$(mktemp -d "${TMPDIR:-/tmp}/otkit-py.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cp -R "$here/." "$work/src"
chmod -R u+w "$work/src"
rm -rf "$work/src/build" "$work/src/otkit.egg-info" "$work/src/otkit/"*.so
"$venv/bin/python" -m pip install --quiet --no-index --no-build-isolation --no-deps "$work/src"

OTK=${OTK:-$prefix/bin/otk}
export OTK
# Run from the tests directory so that `import otkit` finds the installed
# package, not the source tree.
cd "$work/src/tests"
"$venv/bin/python" -c 'import otkit, sys; print("otkit %s from %s (python %s)" % (otkit.__version__, otkit.__file__, sys.version.split()[0]))'
"$venv/bin/python" -m pytest -q -rs -p no:cacheprovider .
