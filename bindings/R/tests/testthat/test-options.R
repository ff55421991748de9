# Alternative arguments (eps or blur, rho or reach, rho or rho_a / rho_b):
# NULL is "not given", so both given is an error naming both whatever the
# values, a value equal to the other's default included (eps = 0.01 with
# blur = 0.05 was silently accepted by sinkhorn_divergence() before); the
# default (blur 0.05, balanced) applies only when neither is given.

set.seed(5)
x <- matrix(rnorm(14), 7, 2)
y <- matrix(rnorm(12), 6, 2) + 0.3
sq <- function(u, v) outer(rowSums(u^2), rowSums(v^2), "+") - 2 * u %*% t(v)

test_that("eps with blur at its default value is an error naming both", {
    msg <- "eps and blur exclude each other: give one"
    expect_error(sinkhorn_divergence(x, y, eps = 0.01, blur = 0.05), msg, fixed = TRUE)
    expect_error(sinkhorn(x = x, y = y, eps = 0.01, blur = 0.05), msg, fixed = TRUE)
    expect_error(sinkhorn_divergence_matrix(sq(x, y), sq(x, x), sq(y, y), eps = 0.01,
                                            blur = 0.05), msg, fixed = TRUE)
})

test_that("rho with reach (or a side's rho) is an error naming both", {
    expect_error(sinkhorn_divergence(x, y, reach = 1, rho = 1),
                 "reach and rho exclude each other: give one", fixed = TRUE)
    expect_error(sinkhorn(x = x, y = y, reach = 1, rho = 1),
                 "reach and rho exclude each other: give one", fixed = TRUE)
    expect_error(sinkhorn(x = x, y = y, reach = 1, rho_a = 1),
                 "reach and rho_a exclude each other: give one", fixed = TRUE)
    expect_error(sinkhorn(x = x, y = y, rho = 1, rho_b = 1),
                 "rho and rho_b exclude each other: give one", fixed = TRUE)
    expect_error(sinkhorn_divergence_matrix(sq(x, y), sq(x, x), sq(y, y), eps = 0.1,
                                            reach = 1, rho = 1),
                 "reach and rho exclude each other: give one", fixed = TRUE)
})

test_that("the defaults are unchanged when one or neither is given", {
    default <- sinkhorn_divergence(x, y)$value
    expect_identical(default, sinkhorn_divergence(x, y, blur = 0.05)$value)
    # p = 2: blur 0.05 is eps 0.0025
    expect_equal(sinkhorn_divergence(x, y, eps = 0.0025)$value, default, tolerance = 1e-9)
    expect_gt(abs(sinkhorn_divergence(x, y, eps = 0.5)$value - default), 1e-3)
})

test_that("the grid, sparse, entropic-map and Divergence entry points refuse eps with blur", {
    msg <- "eps and blur exclude each other: give one"
    h <- matrix(1 / 12, 3, 4)
    expect_error(grid_sinkhorn(h, h, eps = 0.01, blur = 0.05), msg, fixed = TRUE)
    expect_error(grid_divergence(h, h, eps = 0.01, blur = 0.05), msg, fixed = TRUE)
    expect_error(sparse_sinkhorn(c(0.5, 0.5), c(0.5, 0.5), list(c(0, 1, 2), c(0, 1), c(1, 1)),
                                 eps = 0.01, blur = 0.05), msg, fixed = TRUE)
    expect_error(entropic_map_fit(x, y, eps = 0.01, blur = 0.05), msg, fixed = TRUE)
    expect_error(Divergence(x, y, eps = 0.01, blur = 0.05), msg, fixed = TRUE)
    expect_error(Divergence(x, y, reach = 1, rho = 1),
                 "reach and rho exclude each other: give one", fixed = TRUE)
    # neither given: blur 0.05 (grids: eps = 0.05^2 for the squared cost)
    expect_equal(grid_sinkhorn(h, h)$eps, 0.0025, tolerance = 1e-15)
})
