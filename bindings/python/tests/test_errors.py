"""Bad input raises the right exception and names the argument; nothing crashes.

ValueError for bad input (otkit statuses OTK_ENULL, OTK_ESIZE, OTK_EPARAM,
OTK_ENONFINITE, OTK_ERANGE, and the weight errors OTK_ENEGATIVE, OTK_EZEROMASS,
OTK_EMASS), with .status / .status_name when the library found it;
otkit.OtkitError (a RuntimeError) for the other library failures."""
import numpy as np
import pytest

import otkit
from otkit import _otkit


@pytest.fixture
def pts(rng):
    return rng.normal(size=(6, 2)), rng.normal(size=(5, 2))


def raises_value(match, status=None):
    class Ctx:
        def __enter__(self):
            self.cm = pytest.raises(ValueError, match=match)
            self.info = self.cm.__enter__()
            return self.info

        def __exit__(self, *exc):
            r = self.cm.__exit__(*exc)
            if r and status is not None:
                assert self.info.value.status_name == status, self.info.value.status_name
            return r
    return Ctx()


def test_sinkhorn_weights(pts):
    x, y = pts
    a = np.full(6, 1 / 6)
    b = np.full(5, 1 / 5)
    bad = a.copy()
    bad[3] = -0.25
    with raises_value(r"a\[3\]", "OTK_ENEGATIVE"):
        otkit.sinkhorn(bad, b, x=x, y=y)
    with raises_value(r"b", "OTK_ENONFINITE"):
        otkit.sinkhorn(a, np.array([0.2, 0.2, np.nan, 0.2, 0.2]), x=x, y=y)
    with raises_value(r"a", "OTK_EZEROMASS"):
        otkit.sinkhorn(np.zeros(6), b, x=x, y=y)
    with raises_value(r"", "OTK_EMASS"):
        otkit.sinkhorn(a, 2 * b, x=x, y=y)
    with raises_value(r"b has 4 entries, expected 5"):
        otkit.sinkhorn(a, b[:4], x=x, y=y)
    with raises_value(r"a must be a 1-D array"):
        otkit.sinkhorn(a.reshape(2, 3), b, x=x, y=y)
    with raises_value(r"a: cannot convert"):
        otkit.sinkhorn(["p", "q", "r", "s", "t", "u"], b, x=x, y=y)


def test_sinkhorn_cost_and_params(pts):
    x, y = pts
    with raises_value(r"y has 3 columns, expected 2"):
        otkit.sinkhorn(x=x, y=np.zeros((5, 3)))
    with raises_value(r"x", "OTK_ENONFINITE"):
        xb = x.copy()
        xb[2, 1] = np.inf
        otkit.sinkhorn(x=xb, y=y)
    with raises_value(r"C", "OTK_ENONFINITE"):
        otkit.sinkhorn(C=np.array([[0.0, np.nan], [1.0, 0.0]]), eps=0.1)
    with raises_value(r"cost = 'manhattan'"):
        otkit.sinkhorn(x=x, y=y, cost="manhattan")
    with raises_value(r"power", "OTK_EPARAM"):
        otkit.sinkhorn(x=x, y=y, cost="lp")
    with raises_value(r"eps = -1"):
        otkit.sinkhorn(x=x, y=y, eps=-1.0)
    with raises_value(r"scaling", "OTK_EPARAM"):
        otkit.sinkhorn(x=x, y=y, scaling=1.5)
    with raises_value(r"tol", "OTK_EPARAM"):
        otkit.sinkhorn(x=x, y=y, tol=-1.0)
    with raises_value(r"max_iter = 10000000000 does not fit"):
        otkit.sinkhorn(x=x, y=y, max_iter=10 ** 10)
    with raises_value(r"max_iter = 2.5 is not an integer"):
        otkit.sinkhorn(x=x, y=y, max_iter=2.5)
    with raises_value(r"tol = 'small' is not a number"):
        otkit.sinkhorn(x=x, y=y, tol="small")
    with raises_value(r"eps = nan must be > 0"):
        otkit.sinkhorn(x=x, y=y, eps=float("nan"))
    with raises_value(r"schedule = 'slow'"):
        otkit.sinkhorn(x=x, y=y, schedule="slow")
    with raises_value(r"eps is required with a cost matrix C"):
        otkit.sinkhorn(C=np.ones((2, 2)))
    with raises_value(r"either C or both x and y"):
        otkit.sinkhorn(C=np.ones((2, 2)), x=x, eps=1.0)
    with raises_value(r"y is required"):
        otkit.sinkhorn(x=x)
    with raises_value(r"C is empty"):
        otkit.sinkhorn(C=np.ones((0, 3)), eps=1.0)
    with raises_value(r"gauge = 'ot'"):
        otkit.sinkhorn(x=x, y=y).potentials("ot")
    with raises_value(r"axis = 2"):
        otkit.sinkhorn(x=x, y=y).plan_apply(np.ones(5), axis=2)
    with raises_value(r"M has 6 rows, expected 5"):
        otkit.sinkhorn(x=x, y=y).plan_apply(np.ones((6, 2)))


def test_divergence_bad_input(pts):
    x, y = pts
    with raises_value(r"blur", "OTK_EPARAM"):
        otkit.divergence(x, y, blur=-0.1)
    with raises_value(r"reach = -1"):
        otkit.divergence(x, y, reach=-1.0)
    with raises_value(r"p", "OTK_EPARAM"):
        otkit.divergence(x, y, p=0.0)
    with raises_value(r"b\[1\]", "OTK_ENEGATIVE"):
        otkit.divergence(x, y, b=np.array([0.3, -0.1, 0.3, 0.3, 0.2]))
    with raises_value(r"grad names 'z'"):
        otkit.divergence(x, y, grad=("z",))
    with raises_value(r"y has 1 columns, expected 2"):
        otkit.divergence(x, y[:, :1])


def test_distill_bad_input(rng):
    zs = rng.normal(size=(4, 3))
    zt = rng.normal(size=(4, 3))
    with raises_value(r"tau", "OTK_EPARAM"):
        otkit.sinkd_loss(zs, zt, tau=-2.0)
    with raises_value(r"eps", "OTK_EPARAM"):
        otkit.sinkd_loss(zs, zt, eps=0.0)
    with raises_value(r"iters", "OTK_EPARAM"):
        otkit.sinkd_loss(zs, zt, iters=0)
    with raises_value(r"z_t has 3 rows, expected 4"):
        otkit.sinkd_loss(zs, zt[:3])
    with raises_value(r"z_s must be a 2-D"):
        otkit.sinkd_loss(zs[0], zt)
    with raises_value(r"z_s", "OTK_ENONFINITE"):
        zb = zs.copy()
        zb[1, 2] = np.nan
        otkit.sinkd_loss(zb, zt)
    with raises_value(r"iters = 'many' is not an integer"):
        otkit.sinkd_loss(zs, zt, iters="many")
    with raises_value(r"grad_mode = 'exact'"):
        otkit.sinkd_loss(zs, zt, grad_mode="exact")
    with raises_value(r"kind = 'hellinger'"):
        otkit.kd_loss("hellinger", zs, zt)
    with raises_value(r"tau", "OTK_EPARAM"):
        otkit.kl_loss(zs, zt, tau=0.0)
    with raises_value(r"labels\[2\] = 7 is out of range \[0, 3\)"):
        otkit.sinkd_objective(zs, zt, [0, 1, 7, 2], 0.5, 0.1)
    with raises_value(r"labels must be a 1-D array of B = 4"):
        otkit.sinkd_objective(zs, zt, [0, 1], 0.5, 0.1)
    with raises_value(r"labels must be an array of integers"):
        otkit.sinkd_objective(zs, zt, [0.5, 1, 1, 2], 0.5, 0.1)
    with raises_value(r"alpha", "OTK_EPARAM"):
        otkit.sinkd_objective(zs, zt, [0, 1, 1, 2], 1.5, 0.1)


def test_library_state_errors_are_runtime_errors(pts):
    x, y = pts
    s = _otkit.Sinkhorn(x=x, y=y)
    with pytest.raises(RuntimeError, match="call solve"):
        s.plan()
    d = _otkit.Divergence(x, y)
    with pytest.raises(RuntimeError, match="call solve"):
        d.grad_x()
    with pytest.raises(RuntimeError, match="not initialised"):
        _otkit.Sinkhorn.__new__(_otkit.Sinkhorn).solve()
    assert issubclass(otkit.OtkitError, RuntimeError)
    assert _otkit.strerror(_otkit.OTK_ENEGATIVE)[0] == "OTK_ENEGATIVE"


def test_torch_is_optional():
    """`import otkit` never imports torch; `import otkit.torch` without torch is
    an ImportError (simulated by blocking the module in a fresh interpreter)."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['torch'] = None\n"
            "import otkit\n"
            "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
            "try:\n    import otkit.torch\nexcept ImportError:\n    print('ImportError')\n")
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ImportError"


# Every enum's names as the C headers document them, written out by hand so
# that a renamed or reordered value fails here too.
DOCUMENTED_NAMES = {
    "ground": ("sqeuclidean", "half-sqeuclidean", "euclidean", "l1", "lp", "lp-over-p"),
    "reduce": ("mass", "cost", "apply", "grad"),
    "grid_path": ("auto", "separable", "fft"),
    "schedule": ("converge", "fixed"),
    "update": ("auto", "symmetric", "alternating", "overrelaxed", "translated", "accelerated"),
    "gauge": ("geomloss", "ott", "pot"),
    "mesh_shape": ("square", "icosphere", "torus"),
    "heat_convention": ("otkit", "solomon"),
    "relative_to": ("std", "mean", "max_cost", "median"),
    "sinkd_grad": ("unrolled", "envelope"),
    "kd_divergence": ("kl", "reverse-kl", "js", "soft-ce"),
    "map_family": ("affine", "mlp", "entropic"),
    "activation": ("gelu", "tanh"),
    "optimizer": ("auto", "bfgs", "adam"),
    "lambda_schedule": ("constant", "warmup"),
    "lr_schedule": ("constant", "cosine"),
    "fdiv_kind": ("kl", "reverse-kl", "jeffreys", "js", "tv", "hellinger", "pearson", "neyman",
                  "alpha", "custom"),
    "reduction_kind": ("mean", "sum", "none"),
    "binning": ("quantile", "equal-width", "edges"),
    "directions": ("gaussian", "halton"),
    "stage": ("clusters", "annealing", "target"),
}


def test_names_come_from_the_library_tables():
    from otkit._common import choice
    for kind, names in DOCUMENTED_NAMES.items():
        assert otkit._names(kind) == names, kind
        for code, name in enumerate(names):
            assert choice(name, kind, "arg") == code
        with pytest.raises(ValueError, match="arg = 'nope' is not one of " +
                           ", ".join(repr(n) for n in names)):
            choice("nope", kind, "arg")
    with pytest.raises(ValueError, match="unknown enum kind \"colour\"; valid: ground"):
        otkit._names("colour")


def test_unknown_names_list_the_valid_ones(pts, rng):
    x, y = pts
    with pytest.raises(ValueError, match="schedule = 'conv' is not one of 'converge', 'fixed'"):
        otkit.sinkhorn(x=x, y=y, schedule="conv")
    with pytest.raises(ValueError, match="update = 'Auto' is not one of 'auto', 'symmetric', "
                                         "'alternating', 'overrelaxed', 'translated', "
                                         "'accelerated'"):
        otkit.divergence(x, y, update="Auto")
    # Parsed in the C extension: the library's own message.
    with pytest.raises(ValueError, match="cost = 'manhattan': unknown ground cost \"manhattan\"; "
                                         "valid: sqeuclidean, half-sqeuclidean, euclidean, l1, "
                                         "lp, lp-over-p"):
        otkit.sinkhorn(x=x, y=y, cost="manhattan")
    z = rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match="kind = 'rkl' is not one of 'kl', 'reverse-kl', 'js', "
                                         "'soft-ce'"):
        otkit.kd_loss("rkl", z, z)


def test_result_reports_the_update_rule_that_ran(pts):
    x, y = pts
    assert otkit.sinkhorn(x=x, y=y).update == "accelerated"
    assert otkit.sinkhorn(x=x, y=y, schedule="fixed", warn=False).update == "symmetric"
    assert otkit.sinkhorn(x=x, y=y, update="symmetric").update == "symmetric"
    assert otkit.divergence(x, y).update == "accelerated"
    assert otkit.divergence(x, y, update="symmetric").update == "symmetric"
    # GeomLoss's fixed schedule runs the averaged updates whatever is asked.
    assert otkit.divergence(x, y, schedule="fixed", update="alternating").update == "symmetric"
