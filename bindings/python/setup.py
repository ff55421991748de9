"""Build the otkit Python package against an installed libotkit.

The C library is found with `pkg-config --cflags --libs otkit` (so
PKG_CONFIG_PATH is honoured, e.g. PKG_CONFIG_PATH=/tmp/otk-prefix/lib/pkgconfig)
and its libdir is recorded as the extension's rpath, so `import otkit` works
without LD_LIBRARY_PATH.  Offline install (no PyPI needed):

    python3 -m pip install --no-build-isolation ./bindings/python

Set OTKIT_NO_WERROR=1 to build without -Werror (the default is -Werror, as for
the C library).
"""
import glob
import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "otkit"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True).stdout
    except FileNotFoundError:
        sys.exit("setup.py: pkg-config not found (Debian: apt-get install pkg-config)")
    except subprocess.CalledProcessError as e:
        sys.exit("setup.py: pkg-config cannot find otkit (%s); install the C library and "
                 "set PKG_CONFIG_PATH=<prefix>/lib/pkgconfig" % e.stderr.strip())
    return out.strip()


def library_flags():
    include_dirs, library_dirs, libraries, other = [], [], [], []
    for flag in shlex.split(pkg_config("--cflags", "--libs")):
        if flag.startswith("-I"):
            include_dirs.append(flag[2:])
        elif flag.startswith("-L"):
            library_dirs.append(flag[2:])
        elif flag.startswith("-l"):
            libraries.append(flag[2:])
        else:
            other.append(flag)
    libdir = pkg_config("--variable=libdir")
    return include_dirs, library_dirs, libraries, other, libdir


include_dirs, library_dirs, libraries, other, libdir = library_flags()
warn = ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
        "-Wmissing-prototypes", "-Wno-unused-parameter"]
if not os.environ.get("OTKIT_NO_WERROR"):
    warn.append("-Werror")

ext = Extension(
    "otkit._otkit",
    sources=sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, "src", "*.c"))),
    depends=[os.path.relpath(os.path.join(HERE, "src", "otkpy.h"), HERE)],
    include_dirs=[numpy.get_include(), "src"] + include_dirs,
    library_dirs=library_dirs,
    libraries=libraries,
    runtime_library_dirs=[libdir] if libdir else [],
    extra_compile_args=warn + [f for f in other if not f.startswith("-Wl")],
    extra_link_args=[f for f in other if f.startswith("-Wl")],
)

setup(
    name="otkit",
    version=pkg_config("--modversion"),
    description="Python bindings of otkit: log-domain Sinkhorn, Sinkhorn divergences, SinKD",
    packages=["otkit"],
    ext_modules=[ext],
    python_requires=">=3.7",
    install_requires=["numpy"],
    zip_safe=False,
)
