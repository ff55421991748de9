"""One meaning per parameter (docs/conventions.md): blur is one length for
every cost, p is the cost's exponent everywhere, a matrix has no exponent,
grid spacing per axis as POT."""
import warnings

import numpy as np
import pytest

import otkit


def sq_dist(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


@pytest.fixture
def clouds():
    rng = np.random.default_rng(16)
    return rng.random((30, 2)), rng.random((25, 2)) * 0.8 + 0.1


def test_blur_on_a_matrix_needs_p(clouds):
    x, y = clouds
    C = sq_dist(x, y)
    # Until 0.2.0 this solved at eps = 0.05 while the clouds gave eps = 0.0025.
    with pytest.raises(ValueError, match=r"blur and p: with a cost matrix C blur needs"):
        otkit.sinkhorn(C=C, blur=0.05)
    with pytest.raises(ValueError, match=r"reach and p: with a cost matrix C reach needs"):
        otkit.sinkhorn(C=C, eps=0.01, reach=0.5)
    with pytest.raises(ValueError, match=r"eps is required with a cost matrix C"):
        otkit.sinkhorn(C=C)
    # With p = 2, a matrix of squared distances is the sqeuclidean cloud:
    # the same eps = blur^2 and rho = reach^2, the same values (tol 1e-12).
    for kw in (dict(), dict(reach=0.6)):
        rm = otkit.sinkhorn(C=C, blur=0.2, p=2, tol=1e-12, max_iter=100000, **kw)
        rc = otkit.sinkhorn(x=x, y=y, blur=0.2, tol=1e-12, max_iter=100000, **kw)
        assert rm.eps == pytest.approx(0.04, rel=1e-15) and rc.eps == pytest.approx(0.04)
        assert rm.rho_a == rc.rho_a
        assert rm.ot_kl == pytest.approx(rc.ot_kl, rel=1e-9)
        assert rm.ot_lin == pytest.approx(rc.ot_lin, rel=1e-9)


def test_blur_kernel_of_each_cost(clouds):
    # eps = blur^p with the cost's exponent: the kernel exp(-C/eps) is
    # exp(-|x-y|^2/blur^2) for sqeuclidean, exp(-|x-y|^2/(2 blur^2)) for
    # half-sqeuclidean, exp(-|x-y|/blur) for euclidean.
    x, y = clouds
    for cost, p in (("sqeuclidean", 2), ("half-sqeuclidean", 2), ("euclidean", 1),
                    ("l1", 1)):
        r = otkit.sinkhorn(x=x, y=y, cost=cost, blur=0.3)
        assert r.eps == pytest.approx(0.3 ** p, rel=1e-14), cost
    r = otkit.sinkhorn(x=x, y=y, cost="lp", power=1.5, blur=0.3)
    assert r.eps == pytest.approx(0.3 ** 1.5, rel=1e-14)


def test_divergence_p_is_the_exponent(clouds):
    x, y = clouds
    # Without cost: GeomLoss's |x-y|^p/p, exponent p (2 by default).
    assert otkit.divergence(x, y, blur=0.3).eps == pytest.approx(0.09)
    d1 = otkit.divergence(x, y, p=1, blur=0.3)
    d2 = otkit.divergence(x, y, cost="euclidean", blur=0.3)
    assert d1.eps == pytest.approx(0.3) and d1.value == pytest.approx(d2.value, rel=1e-12)
    # With cost: p overrides that cost's exponent (it was silently ignored).
    assert otkit.divergence(x, y, cost="sqeuclidean", blur=0.3).eps == pytest.approx(0.09)
    assert otkit.divergence(x, y, cost="sqeuclidean", p=1, blur=0.3).eps == pytest.approx(0.3)
    # exponent= is p's former name: the same, with a DeprecationWarning.
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        d = otkit.divergence(x, y, cost="sqeuclidean", exponent=1, blur=0.3)
    assert d.eps == pytest.approx(0.3)
    assert any(issubclass(i.category, DeprecationWarning) for i in w)
    with pytest.raises(ValueError, match="p and exponent exclude each other"):
        otkit.divergence(x, y, p=1, exponent=1)
    Cxy, Cxx, Cyy = sq_dist(x, y), sq_dist(x, x), sq_dist(y, y)
    with pytest.raises(ValueError, match="blur and p: with cost matrices"):
        otkit.divergence_matrix(Cxy, Cxx, Cyy, blur=0.3)
    rm = otkit.divergence_matrix(Cxy, Cxx, Cyy, blur=0.3, p=2, tol=1e-12, max_iter=100000)
    rc = otkit.divergence(x, y, cost="sqeuclidean", blur=0.3, tol=1e-12, max_iter=100000)
    assert rm.eps == pytest.approx(0.09) and rm.value == pytest.approx(rc.value, rel=1e-9)


def test_sparse_needs_eps():
    import scipy.sparse as sp
    C = sp.csc_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    a = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match="eps is required with a sparse C"):
        otkit.sparse_sinkhorn(a, a, C, blur=0.1)
    assert otkit.sparse_sinkhorn(a, a, C, eps=0.1).eps == pytest.approx(0.1)


def test_barycenter_non_square_matches_pot_per_axis_spacing():
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(0)
    A = rng.random((3, 12, 20))
    A /= A.sum(axis=(1, 2), keepdims=True)
    w = np.array([0.2, 0.3, 0.5])
    # POT 0.8.2: linspace(0, 1, N_k) on each axis (h = 1/11 and 1/19 here).
    ref = ot.bregman.convolutional_barycenter2d(A, 0.004, w, numItermax=10000, stopThr=1e-12)
    r = otkit.barycenter(A, weights=w, eps=0.004, tol=1e-12, max_iter=10000)
    # One spacing (1/19) for both axes was 7e-4 off, against entries of 6e-3.
    assert np.abs(r.barycenter - ref).max() < 1e-12 * ref.max() + 1e-15
    assert r.barycenter.shape == (12, 20)
