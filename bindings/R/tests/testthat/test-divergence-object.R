# Divergence(): made once, solved, its points moved with set_points() and
# solved again; each solve against `otk divergence` on the same points
# (value and all four gradients), the gradients against finite differences,
# the displacement against grad_x / a, and the transport cost against
# sinkhorn()'s <P, C> on the same problem.

otk_div <- function(pr, fx, fy, args = character(0)) {
    g <- file.path(pr$dir, paste0("og", c("x", "y", "a", "b"), ".csv"))
    names(g) <- c("x", "y", "a", "b")
    js <- run_otk(c("divergence", fx, fy, "--a", pr$fa, "--b", pr$fb, "--grad-x", g["x"],
                    "--grad-y", g["y"], "--grad-a", g["a"], "--grad-b", g["b"], args))
    list(value = js$divergence, iterations = as.integer(js$iterations),
         grad_x = unname(read_csv(g["x"])), grad_y = unname(read_csv(g["y"])),
         grad_a = read_csv(g["a"])[, 1], grad_b = read_csv(g["b"])[, 1])
}

expect_like_otk <- function(r, ref) {
    expect_close(r$value, ref$value)
    expect_identical(r$iterations, ref$iterations)
    for (k in c("grad_x", "grad_y", "grad_a", "grad_b")) expect_close(r[[k]], ref[[k]])
}

test_that("solve, set_points, solve again: each equals otk divergence", {
    pr <- make_problem(31L)
    D <- Divergence(pr$x, pr$y, blur = 0.3)
    expect_s3_class(D, "otkit_divergence")
    expect_like_otk(divergence_solve(D, pr$a, pr$b, grad = TRUE), otk_div(pr, pr$fx, pr$fy,
                                                                          c("--blur", "0.3")))
    x2 <- pr$x * 0.8 + 0.1
    y2 <- pr$y[, c(2, 3, 1)]
    fx2 <- write_csv(file.path(pr$dir, "x2.csv"), x2)
    fy2 <- write_csv(file.path(pr$dir, "y2.csv"), y2)
    expect_identical(set_points(D, x = x2), D)
    expect_like_otk(divergence_solve(D, pr$a, pr$b, grad = TRUE),
                    otk_div(pr, fx2, pr$fy, c("--blur", "0.3")))
    set_points(D, y = y2)
    expect_like_otk(divergence_solve(D, pr$a, pr$b, grad = TRUE),
                    otk_div(pr, fx2, fy2, c("--blur", "0.3")))
    # other options reach the object too (p = 1, unbalanced)
    U <- Divergence(pr$x, pr$y, p = 1, blur = 0.5, reach = 1)
    expect_like_otk(divergence_solve(U, pr$a, pr$b, grad = TRUE),
                    otk_div(pr, pr$fx, pr$fy, c("--p", "1", "--blur", "0.5", "--reach", "1")))
})

test_that("after set_points the point gradient is the derivative (finite differences)", {
    pr <- make_problem(32L)
    D <- Divergence(pr$x, pr$y, blur = 0.5, tol = 1e-13)
    x2 <- pr$x + 0.2
    set_points(D, x = x2)
    r <- divergence_solve(D, pr$a, pr$b, grad = "x")
    expect_null(r$grad_y)
    f <- function(x) {
        set_points(D, x = x)
        divergence_solve(D, pr$a, pr$b)$value
    }
    h <- 1e-5
    for (ij in list(c(1L, 1L), c(9L, 3L), c(20L, 2L))) {
        xp <- x2; xp[ij[1], ij[2]] <- xp[ij[1], ij[2]] + h
        xm <- x2; xm[ij[1], ij[2]] <- xm[ij[1], ij[2]] - h
        expect_equal(r$grad_x[ij[1], ij[2]], (f(xp) - f(xm)) / (2 * h), tolerance = 1e-6)
    }
})

test_that("displacement, potentials and transport cost of the last solve", {
    pr <- make_problem(33L)
    D <- Divergence(pr$x, pr$y, blur = 0.4, tol = 1e-12)
    r <- divergence_solve(D, pr$a, pr$b, grad = TRUE)
    expect_close(divergence_displacement(D), r$grad_x / pr$a, rtol = 1e-10)
    expect_close(divergence_displacement(D, "y"), r$grad_y / pr$b, rtol = 1e-10)
    p <- divergence_potentials(D)
    expect_equal(lengths(p), c(f_ba = 20L, g_ab = 15L, f_aa = 20L, g_bb = 15L))
    # the alpha -> beta problem alone: GeomLoss's cost |x-y|^2/2 at eps = 0.4^2
    s <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, cost = "half-sqeuclidean", eps = 0.16,
                  tol = 1e-12)
    expect_equal(divergence_transport_cost(D), s$ot_lin, tolerance = 1e-8)
    expect_lte(max(abs(p$f_ba - s$f)), 1e-8)
    expect_lte(max(abs(p$g_ab - s$g)), 1e-8)
    nd <- Divergence(pr$x, pr$y, blur = 0.4, debias = FALSE)
    divergence_solve(nd)
    expect_null(divergence_potentials(nd)$f_aa)
})

test_that("bad divergence object input is an error naming the argument", {
    pr <- make_problem(34L)
    D <- Divergence(pr$x, pr$y)
    expect_error(divergence_potentials(D), class = "otkit_error")  # no solve yet
    expect_error(set_points(D, x = pr$x[1:5, ]), "x has 5 rows, expected 20")
    expect_error(set_points(D, y = pr$y[, 1:2]), "y has 2 columns, expected 3")
    bad <- pr$x
    bad[4, 2] <- NaN
    expect_error(set_points(D, x = bad), "x\\[4, 2\\] = NaN is not finite")
    expect_error(divergence_solve(D, a = pr$a[-1]), "a has length 19, expected 20")
    expect_error(divergence_solve(D, grad = "z"), "grad must be")
    expect_error(divergence_displacement(D, "z"), "side = \"z\" is not one of")
    expect_error(divergence_solve(list()), "div must be an otkit divergence object")
    expect_error(Divergence(pr$x, pr$y, eps = 0.1, blur = 0.1), "eps and blur exclude")
})

test_that("the object's plan products equal the dense plan of divergence(plan = TRUE)", {
    set.seed(31)
    x <- matrix(runif(24), 12, 2); y <- matrix(runif(20) + 0.3, 10, 2)
    D <- Divergence(x, y, blur = 0.2, tol = 1e-10)
    divergence_solve(D)
    P <- divergence(x, y, blur = 0.2, tol = 1e-10, plan = TRUE)$plan
    M <- matrix(rnorm(30), 10, 3); U <- matrix(rnorm(24), 12, 2)
    expect_equal(dim(P), c(12L, 10L))
    expect_lte(max(abs(divergence_plan_apply(D, M) - P %*% M)), 1e-14 * max(abs(P %*% M)))
    expect_lte(max(abs(divergence_plan_apply(D, U, transpose = TRUE) - t(P) %*% U)),
               1e-14 * max(abs(t(P) %*% U)))
    expect_equal(dim(divergence_plan_apply(D, M[, 1])), c(12L, 1L))
    expect_lte(max(abs(divergence_barycentric(D, y) - (P %*% y) / rowSums(P))), 1e-13)
    expect_error(divergence_plan_apply(D, U), "M has 12 rows, expected 10")
    expect_error(divergence_barycentric(D, x), "Y has 12 rows, expected 10")
})
