# emd(), emd2(), wasserstein_1d() and sliced_wasserstein(): answers by hand,
# the optimality certificate of the plan and potentials, finite differences,
# the otk tool, and the refusals.

C34 <- rbind(c(4, 1, 3, 2), c(2, 0, 5, 3), c(3, 2, 1, 4))
a3 <- c(0.5, 1, 0.5)
b4 <- rep(0.5, 4)

test_that("emd() on a 3 x 4 matrix of mass 2: value 5/2 by hand and its certificate", {
    # Row 2 takes columns 1 and 2 (costs 2, 0), row 3 column 3 (1), row 1
    # column 4 (2): 0.5 (2 + 0 + 1 + 2) = 5/2.
    r <- emd(a3, b4, C34)
    expect_equal(r$value, 2.5, tolerance = 0)
    expect_close(r$dual_value, 2.5, 1e-15)
    expect_equal(r$status, 0L)
    expect_close(rowSums(r$plan), a3, 1e-15)
    expect_close(colSums(r$plan), b4, 1e-15)
    expect_true(sum(r$plan > 0) <= 3 + 4 - 1)
    expect_equal(r$plan[cbind(r$i, r$j)], r$mass)
    slack <- C34 - outer(r$u, r$v, "+")
    expect_true(min(slack) >= -1e-14)
    expect_true(max(abs(slack[cbind(r$i, r$j)])) <= 1e-14)
    expect_close(sum(a3 * r$u), sum(b4 * r$v), 1e-14)
    expect_equal(emd2(a3, b4, C34), 2.5)
})

test_that("emd() on point clouds: the monotone plan in 1-D, each ground cost", {
    expect_equal(emd2(x = c(0, 1), y = c(0.5, 2)), 0.625)        # (1/4 + 1)/2
    expect_equal(emd2(x = c(0, 1), y = c(0.5, 2), cost = "euclidean"), 0.75)
    expect_equal(emd2(x = c(0, 1), y = c(0.5, 2), cost = "lp", power = 3),
                 (0.5^3 + 1) / 2)
    r <- emd(x = c(0, 1), y = c(0.5, 2))
    expect_equal(r$plan, diag(c(0.5, 0.5)))
    # Identical clouds with duplicate points: value 0.
    x <- rbind(c(0, 0), c(0, 0), c(1, 2))
    expect_equal(emd2(x = x, y = x[3:1, ]), 0)
})

test_that("emd() handles zero weights and ties", {
    C <- rbind(c(0, 1, 1), c(1, 0, 1), c(1, 1, 0))   # ties everywhere
    r <- emd(c(0.5, 0, 0.5), c(0, 0.5, 0.5), C)
    # Row 3 to column 3 (cost 0), row 1 to column 2 (cost 1): 1/2; the other
    # way round costs 1.
    expect_close(r$value, 0.5, 1e-15)
    expect_equal(sum(r$plan[2, ]), 0)
    expect_true(min(C - outer(r$u, r$v, "+")) >= -1e-15)
})

test_that("emd() agrees with the otk tool on a random problem", {
    set.seed(19)
    x <- matrix(rnorm(40), 20, 2)
    y <- matrix(rnorm(30) + 0.5, 15, 2)
    dir <- tempfile("otk-emd")
    dir.create(dir)
    on.exit(unlink(dir, recursive = TRUE))
    write_csv(file.path(dir, "x.csv"), x)
    write_csv(file.path(dir, "y.csv"), y)
    j <- run_otk(c("emd", file.path(dir, "x.csv"), file.path(dir, "y.csv")))
    expect_close(emd2(x = x, y = y), j$value, 1e-13)
    C <- outer(rowSums(x^2), rowSums(y^2), "+") - 2 * x %*% t(y)
    expect_close(emd2(C = C), j$value, 1e-12)
})

test_that("emd() refusals: unequal masses, negative weights, bad arguments, the cap", {
    e <- expect_error(emd(c(1, 1, 1) / 3, rep(0.5, 4), C34), "masses differ",
                      class = "otkit_error")
    expect_equal(e$status, "OTK_EMASS")
    expect_error(emd(c(0.5, -0.5, 1), b4 / 2, C34), "negative", class = "otkit_error")
    expect_error(emd(a3, c(1, 1), C34), "b has length 2, expected 4")
    expect_error(emd(a3, b4), "either a cost matrix C or two point clouds")
    bad <- C34
    bad[2, 3] <- NaN
    expect_error(emd(a3, b4, bad), "C\\[2, 3\\]")
    expect_error(emd(a3, b4, C34, max_iter = -1), "max_iter")
    expect_warning(r <- emd(a3, b4, C34, max_iter = 1), class = "otkit_convergence_warning")
    expect_equal(r$status, 1L)
    expect_equal(r$iterations, 1)
})

test_that("wasserstein_1d(): W_p^p by hand, and its gradients", {
    expect_equal(wasserstein_1d(c(0, 1), c(0.5, 2), p = 2), 0.625)
    # b = (1, 2)/3: 0 with 1/2 on [0, 1/3), 0 with 2 on [1/3, 1/2), 1 with 2
    # on [1/2, 1): 1/6 + 1/3 + 1/2 = 1.
    expect_close(wasserstein_1d(c(0, 1), c(0.5, 2), v_weights = c(1, 2)), 1, 1e-15)
    g <- wasserstein_1d(c(0, 1), c(0.5, 2), p = 2, grad = TRUE)
    expect_close(g$grad_u, c(-0.5, -1), 1e-15)
    expect_close(g$grad_v, c(0.5, 1), 1e-15)
    set.seed(3)
    u <- rnorm(6)
    v <- rnorm(8)
    wu <- runif(6, 0.1, 1)
    wv <- runif(8, 0.1, 1)
    for (p in c(1, 1.5, 3)) {
        g <- wasserstein_1d(u, v, wu, wv, p = p, grad = TRUE)
        h <- 1e-6
        f <- function(u, v, wu, wv) wasserstein_1d(u, v, wu, wv, p = p)
        fd_u <- sapply(seq_along(u), function(i) {
            e <- replace(numeric(6), i, h)
            (f(u + e, v, wu, wv) - f(u - e, v, wu, wv)) / (2 * h)
        })
        fd_wv <- sapply(seq_along(v), function(i) {
            e <- replace(numeric(8), i, h)
            (f(u, v, wu, wv + e) - f(u, v, wu, wv - e)) / (2 * h)
        })
        expect_close(g$grad_u, fd_u, 1e-7)
        expect_close(g$grad_v_weights, fd_wv, 1e-7)
    }
})

test_that("sliced_wasserstein(): given directions by hand, gradients, d = 1", {
    X <- rbind(c(0, 0), c(1, 0))
    Y <- X + matrix(c(0, 1), 2, 2, byrow = TRUE)
    s <- sliced_wasserstein(X, Y, projections = rbind(c(1, 0), c(0, 2), c(3, 4)), grad = TRUE)
    # Projected W_2^2: 0, 1, 0.8^2.
    expect_close(s$projected, c(0, 1, 0.64), 1e-15)
    expect_close(s$value_p, 1.64 / 3, 1e-15)
    expect_close(s$value, sqrt(1.64 / 3), 1e-15)
    expect_close(s$max_value, 1, 1e-15)
    expect_close(s$directions[3, ], c(0.6, 0.8), 1e-15)
    expect_close(s$grad_X, matrix(c(-0.16, -1.64 / 3), 2, 2, byrow = TRUE), 1e-15)
    expect_close(s$grad_Y, -s$grad_X, 1e-15)
    # d = 1: every direction is +-1, SW_p is the 1-D W_p.
    s1 <- sliced_wasserstein(c(0, 1), c(0.5, 2), p = 3, n_projections = 4L)
    expect_close(s1$value_p, wasserstein_1d(c(0, 1), c(0.5, 2), p = 3), 1e-15)
    # Seeded: reproducible, unit directions.
    h1 <- sliced_wasserstein(X, Y, seed = 7, directions = "halton", n_projections = 10L)
    h2 <- sliced_wasserstein(X, Y, seed = 7, directions = "halton", n_projections = 10L)
    expect_identical(h1, h2)
    expect_close(rowSums(h1$directions^2), rep(1, 10), 1e-15)
})

test_that("sliced_wasserstein() agrees with the otk tool for the same seed", {
    set.seed(23)
    X <- matrix(rnorm(30), 10, 3)
    Y <- matrix(rnorm(36), 12, 3)
    dir <- tempfile("otk-sliced")
    dir.create(dir)
    on.exit(unlink(dir, recursive = TRUE))
    write_csv(file.path(dir, "X.csv"), X)
    write_csv(file.path(dir, "Y.csv"), Y)
    j <- run_otk(c("sliced", file.path(dir, "X.csv"), file.path(dir, "Y.csv"), "--seed", "5",
                   "--projections", "20", "--p", "1.5"))
    s <- sliced_wasserstein(X, Y, p = 1.5, n_projections = 20L, seed = 5)
    expect_close(s$value, j$value, 1e-14)
})

test_that("wasserstein_1d() and sliced_wasserstein() refusals", {
    expect_error(wasserstein_1d(c(0, 1), 0.5, p = 0.5), "p", class = "otkit_error")
    expect_error(wasserstein_1d(c(0, 1), 0.5, u_weights = c(0, 0)), class = "otkit_error")
    expect_error(wasserstein_1d(c(0, NA), 0.5), "u_values\\[2\\]")
    X <- matrix(0, 3, 2)
    expect_error(sliced_wasserstein(X, matrix(1, 4, 3)), "same dimension")
    expect_error(sliced_wasserstein(X, X, projections = matrix(1, 2, 3)),
                 "projections has 3 columns, expected 2")
    expect_error(sliced_wasserstein(X, X, projections = matrix(0, 2, 2)), class = "otkit_error")
    expect_error(sliced_wasserstein(X, X, directions = "sobol"), "gaussian")
    expect_error(sliced_wasserstein(X, X, n_projections = 0), "n_projections")
})
