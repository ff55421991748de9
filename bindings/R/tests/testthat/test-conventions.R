# One meaning per parameter (docs/conventions.md): blur is one length, p is
# the cost's exponent everywhere, a matrix has no exponent; the names of the
# C library, otk and Python (divergence, potential_convert(source, target)).

sq_dist <- function(x, y) outer(rowSums(x^2), rowSums(y^2), "+") - 2 * x %*% t(y)

conv_clouds <- function() {
    set.seed(16)
    list(x = matrix(runif(60), 30, 2), y = matrix(runif(50) * 0.8 + 0.1, 25, 2))
}

test_that("blur on a matrix needs p, and then is the clouds' eps", {
    pr <- conv_clouds()
    C <- sq_dist(pr$x, pr$y)
    # Until 0.2.0 this solved at eps = 0.05 where the clouds give 0.0025.
    expect_error(sinkhorn(C = C, blur = 0.05), "blur and p: with a cost matrix C blur needs")
    expect_error(sinkhorn(C = C, eps = 0.01, reach = 0.5), "reach and p")
    expect_error(sinkhorn(C = C), "eps is required with a cost matrix C")
    rm <- sinkhorn(C = C, blur = 0.2, p = 2, tol = 1e-12, max_iter = 100000L)
    rc <- sinkhorn(x = pr$x, y = pr$y, blur = 0.2, tol = 1e-12, max_iter = 100000L)
    expect_equal(rm$eps, 0.04, tolerance = 1e-14)
    expect_equal(rm$ot_kl, rc$ot_kl, tolerance = 1e-9)
    expect_error(divergence_matrix(C, sq_dist(pr$x, pr$x), sq_dist(pr$y, pr$y), blur = 0.3),
                 "blur and p: with cost matrices")
    dm <- divergence_matrix(C, sq_dist(pr$x, pr$x), sq_dist(pr$y, pr$y), blur = 0.3, p = 2,
                            tol = 1e-12, max_iter = 100000L)
    dc <- divergence(pr$x, pr$y, cost = "sqeuclidean", blur = 0.3, tol = 1e-12,
                     max_iter = 100000L)
    expect_equal(dm$eps, 0.09, tolerance = 1e-14)
    expect_equal(dm$value, dc$value, tolerance = 1e-9)
})

test_that("p is the exponent in divergence, with or without cost", {
    pr <- conv_clouds()
    expect_equal(divergence(pr$x, pr$y, blur = 0.3)$eps, 0.09, tolerance = 1e-14)
    expect_equal(divergence(pr$x, pr$y, p = 1, blur = 0.3)$eps, 0.3, tolerance = 1e-14)
    # With cost, p overrides the cost's exponent (it was silently ignored).
    expect_equal(divergence(pr$x, pr$y, cost = "sqeuclidean", p = 1, blur = 0.3)$eps, 0.3,
                 tolerance = 1e-14)
    expect_warning(d <- divergence(pr$x, pr$y, cost = "sqeuclidean", exponent = 1, blur = 0.3),
                   "exponent is deprecated")
    expect_equal(d$eps, 0.3, tolerance = 1e-14)
    expect_error(divergence(pr$x, pr$y, p = 1, exponent = 1), "p and exponent exclude")
    expect_identical(sinkhorn_divergence, divergence)
    expect_identical(sinkhorn_divergence_matrix, divergence_matrix)
})

test_that("potential_convert takes source and target, from and to with a warning", {
    f <- c(0.1, -0.2, 0.05)
    w <- c(0.2, 0.3, 0.5)
    ref <- f / 0.1 + log(w)  # POT's log u = (f + eps log a) / eps
    expect_equal(potential_convert(f, w, 0.1, source = "geomloss", target = "pot"), ref,
                 tolerance = 1e-14)
    expect_warning(v <- potential_convert(f, w, 0.1, from = "geomloss", target = "pot"),
                   "from is deprecated")
    expect_equal(v, ref, tolerance = 1e-14)
    expect_error(suppressWarnings(potential_convert(f, w, 0.1, source = "ott", from = "pot")),
                 "source and from exclude each other")
})
