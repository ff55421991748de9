"""Shared fixtures of the otkit Python tests.

The C tool used for the cross-checks is $OTK, else `otk` next to the libotkit
the package loaded (pkg-config's prefix), else `otk` on PATH."""
import os
import shutil
import subprocess

import numpy as np
import pytest


def clouds(n, d, seed=0):
    """x uniform in the unit cube, y uniform in a box of side 0.5 shifted
    along the first axis: a transport with a real displacement (the
    multiscale and progress tests)."""
    r = np.random.default_rng(seed)
    x = r.random((n, d))
    y = 0.3 + 0.5 * r.random((n, d))
    y[:, 0] += 0.2
    return x, y


def _find_otk():
    env = os.environ.get("OTK")
    if env:
        return env
    try:
        prefix = subprocess.run(["pkg-config", "--variable=prefix", "otkit"], check=True,
                                stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
        cand = os.path.join(prefix, "bin", "otk")
        if os.access(cand, os.X_OK):
            return cand
    except (OSError, subprocess.CalledProcessError):
        pass
    return shutil.which("otk")


@pytest.fixture(scope="session")
def otk_tool():
    path = _find_otk()
    if path is None:
        # Not skipped: the CLI comparison is part of the acceptance tests.
        pytest.fail("the otk tool was not found: set OTK=/path/to/otk")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(20261128)


def quick():
    """OTK_TEST_QUICK shrinks the larger cases, as for the C suites."""
    return bool(os.environ.get("OTK_TEST_QUICK"))
