"""otkit: numerical optimal transport (Python bindings of the C library).

    sinkhorn(a, b, C=..., eps=...) / sinkhorn(x=..., y=..., blur=...)  -> SinkhornResult
    divergence(x, y, blur=0.05, p=2, ...)                              -> DivergenceResult
    sinkd_loss(z_s, z_t, ...), kd_loss(kind, ...), sinkd_objective(...) -> losses + gradients
    monge_gap(x, tx, ...), EntropicMap.fit(x, y, ...)                 -> Monge gap, maps
    grid_sinkhorn / grid_divergence / barycenter (images)              -> GridResult
    MapFit(family).fit(x, y) / fit_map(x, y, family=...)              -> fitted maps
    fdiv(p, q, kind=...), psi(expected, actual), information_value(x, y)
    emd(a, b, M) / emd2(a, b, M), wasserstein_1d(u, v), sliced_wasserstein_distance(X, Y)
    Mesh, mesh_sinkhorn / mesh_divergence / mesh_barycenter, sparse_sinkhorn
    otkit.torch (needs PyTorch; imported on first use of otkit.torch, not by
    import otkit): SinkhornDivergence, SinKDLoss, KDLoss, fdiv, FDivergenceLoss,
    sliced_wasserstein, wasserstein_1d

Units: eps and rho are in cost units; blur and reach are lengths (eps = blur^p,
rho = reach^p with p the cost's exponent), as in GeomLoss.  Potentials are in
the GeomLoss gauge P = a b exp((f + g - C)/eps).  Bad input raises ValueError
naming the argument; stopping at max_iter warns ConvergenceWarning.
"""
from . import _otkit
from ._common import ConvergenceWarning, OtkitError, names as _names
from ._sinkhorn import (sinkhorn, SinkhornResult, SinkhornBatchResult, potential_convert,
                        epsilon_schedule)
from ._divergence import (divergence, divergence_matrix, DivergenceResult,
                          DivergenceBatchResult, Divergence, geomloss_cost)
from ._distill import (SinKD, sinkd_loss, sinkd_objective, kd_loss, kl_loss, rkl_loss, js_loss,
                      soft_ce_loss, LossResult, ObjectiveResult)
from ._monge_gap import monge_gap, MongeGapResult, EntropicMap
from ._grid import (grid_sinkhorn, grid_divergence, barycenter, GridResult, Mesh,
                    mesh_sinkhorn, mesh_divergence, mesh_barycenter, sparse_sinkhorn)
from ._mapfit import MapFit, fit_map
from ._fdiv import fdiv, psi, information_value, FdivResult, PsiResult, IVResult
from ._distill import sinkd_regression_objective, RegressionResult
from ._exact import (emd, emd2, wasserstein_1d, sliced_wasserstein_distance, sliced_wasserstein,
                     W1dResult, SlicedResult)

__version__ = _otkit.version()


def __getattr__(name):
    # PEP 562: otkit.torch without an explicit import, while `import otkit`
    # stays free of PyTorch (slow to import, and optional).
    if name == "torch":
        import importlib
        return importlib.import_module(".torch", __name__)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


__all__ = ["sinkhorn", "SinkhornResult", "SinkhornBatchResult", "potential_convert",
           "epsilon_schedule", "divergence", "divergence_matrix", "DivergenceResult",
           "DivergenceBatchResult", "Divergence", "geomloss_cost",
           "SinKD", "sinkd_loss", "sinkd_objective", "kd_loss", "kl_loss", "rkl_loss",
           "js_loss", "soft_ce_loss", "LossResult", "ObjectiveResult",
           "monge_gap", "MongeGapResult", "EntropicMap",
           "grid_sinkhorn", "grid_divergence", "barycenter", "GridResult", "Mesh",
           "mesh_sinkhorn", "mesh_divergence", "mesh_barycenter", "sparse_sinkhorn",
           "MapFit", "fit_map",
           "fdiv", "psi", "information_value", "FdivResult", "PsiResult", "IVResult",
           "sinkd_regression_objective", "RegressionResult",
           "emd", "emd2", "wasserstein_1d", "sliced_wasserstein_distance", "sliced_wasserstein",
           "W1dResult", "SlicedResult",
           "ConvergenceWarning", "OtkitError", "__version__"]
