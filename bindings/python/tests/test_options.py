"""Alternative arguments (eps or blur, rho or reach, rho or rho_a / rho_b):
"not given" (None) is its own state, so giving both is a ValueError naming
both whatever the values, a value equal to the other's default included
(eps=0.01, blur=0.05 was silently accepted by divergence() before); the
default (blur 0.05, balanced) applies only when neither is given.  And
otkit.torch as an attribute of otkit, imported on first use only."""
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as scipy_sparse

import otkit

RNG = np.random.default_rng(11)
X = RNG.normal(size=(7, 2))
Y = RNG.normal(size=(6, 2)) + 0.3
C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
CXX = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
CYY = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
IMG1 = np.zeros((6, 6))
IMG1[:2] = 1.0
IMG2 = np.zeros((6, 6))
IMG2[4:] = 1.0

EPS_BLUR = [
    ("sinkhorn", lambda: otkit.sinkhorn(x=X, y=Y, eps=0.01, blur=0.05)),
    ("divergence", lambda: otkit.divergence(X, Y, eps=0.01, blur=0.05)),
    ("Divergence", lambda: otkit.Divergence(X, Y, eps=0.01, blur=0.05)),
    ("divergence_matrix", lambda: otkit.divergence_matrix(C, CXX, CYY, eps=0.01, blur=0.05)),
    ("grid_sinkhorn", lambda: otkit.grid_sinkhorn(IMG1, IMG2, eps=0.01, blur=0.05)),
    ("grid_divergence", lambda: otkit.grid_divergence(IMG1, IMG2, eps=0.01, blur=0.05)),
    ("sparse_sinkhorn", lambda: otkit.sparse_sinkhorn(np.full(7, 1 / 7), np.full(6, 1 / 6),
                                                      scipy_sparse.csr_matrix(C),
                                                      eps=0.01, blur=0.05)),
    ("EntropicMap.fit", lambda: otkit.EntropicMap.fit(X, Y, eps=0.01, blur=0.05)),
    ("MapFit entropic", lambda: otkit.MapFit("entropic").fit(X, Y, eps=0.01, blur=0.05)),
    ("fit_map affine", lambda: otkit.fit_map(X, Y, family="affine", eps=0.01, blur=0.05)),
]


@pytest.mark.parametrize("call", [c for _, c in EPS_BLUR], ids=[n for n, _ in EPS_BLUR])
def test_eps_with_default_blur_is_an_error(call):
    with pytest.raises(ValueError, match=re.escape("eps and blur exclude each other: give one")):
        call()


RHO_REACH = [
    ("sinkhorn reach rho", "reach and rho",
     lambda: otkit.sinkhorn(x=X, y=Y, reach=1.0, rho=1.0)),
    ("sinkhorn reach rho_a", "reach and rho_a",
     lambda: otkit.sinkhorn(x=X, y=Y, reach=1.0, rho_a=1.0)),
    ("sinkhorn rho rho_b", "rho and rho_b",
     lambda: otkit.sinkhorn(x=X, y=Y, rho=1.0, rho_b=1.0)),
    ("divergence", "reach and rho", lambda: otkit.divergence(X, Y, reach=1.0, rho=1.0)),
    ("Divergence", "reach and rho", lambda: otkit.Divergence(X, Y, reach=1.0, rho=1.0)),
    ("divergence_matrix", "reach and rho",
     lambda: otkit.divergence_matrix(C, CXX, CYY, eps=0.1, reach=1.0, rho=1.0)),
]


@pytest.mark.parametrize("names,call", [(m, c) for _, m, c in RHO_REACH],
                         ids=[n for n, _, _ in RHO_REACH])
def test_rho_with_reach_is_an_error(names, call):
    with pytest.raises(ValueError, match=re.escape(names + " exclude each other: give one")):
        call()


def test_defaults_unchanged():
    # neither given: blur 0.05, as blur=0.05 given alone (the same C call)
    default = otkit.divergence(X, Y).value
    assert default == otkit.divergence(X, Y, blur=0.05).value
    # eps alone is used (p = 2: blur 0.05 is eps 0.0025), not the default blur
    assert otkit.divergence(X, Y, eps=0.0025).value == pytest.approx(default, rel=1e-9)
    assert abs(otkit.divergence(X, Y, eps=0.5).value - default) > 1e-3
    s = otkit.sinkhorn(x=X, y=Y)
    assert s.eps == pytest.approx(0.05 ** 2, rel=1e-12)
    assert s.rho_a == s.rho_b == float("inf")


def test_torch_module_conflict_at_construction():
    otorch = pytest.importorskip("otkit.torch")
    with pytest.raises(ValueError, match="eps and blur exclude each other"):
        otorch.SinkhornDivergence(eps=0.01, blur=0.05)
    with pytest.raises(ValueError, match="reach and rho exclude each other"):
        otorch.SinkhornDivergence(reach=1.0, rho=1.0)


def test_torch_is_a_lazy_attribute():
    pytest.importorskip("torch")
    code = ("import sys, otkit\n"
            "assert 'torch' not in sys.modules, 'import otkit imported torch'\n"
            "assert 'otkit.torch' not in sys.modules\n"
            "loss = otkit.torch.SinkhornDivergence\n"
            "assert 'torch' in sys.modules and otkit.torch is sys.modules['otkit.torch']\n"
            "print(loss.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "SinkhornDivergence"


def test_unknown_attribute_still_raises():
    with pytest.raises(AttributeError, match="no_such_name"):
        otkit.no_such_name


def test_monge_gap_eps_with_relative_eps_is_an_error():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 2))
    tx = x + 0.1
    with pytest.raises(ValueError, match="eps and relative_eps exclude each other"):
        otkit.monge_gap(x, tx, eps=0.01, relative_eps=0.05)
    # neither: OTT's default, 0.05 of the cost matrix's std, as given explicitly
    assert otkit.monge_gap(x, tx).monge_gap == otkit.monge_gap(x, tx, relative_eps=0.05).monge_gap
    assert otkit.monge_gap(x, tx, eps=0.01).eps == 0.01

