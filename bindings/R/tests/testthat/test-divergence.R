div_cases <- list(
    list(args = c("--blur", "0.3"), kw = list(blur = 0.3)),
    list(args = c("--p", "1", "--blur", "0.5"), kw = list(p = 1, blur = 0.5)),
    list(args = c("--blur", "0.3", "--reach", "1.0"), kw = list(blur = 0.3, reach = 1.0)),
    list(args = c("--blur", "0.2", "--schedule", "fixed"), kw = list(blur = 0.2, schedule = "fixed")),
    list(args = c("--blur", "0.3", "--no-debias"), kw = list(blur = 0.3, debias = FALSE)))

for (case in div_cases) {
    test_that(paste("sinkhorn_divergence() matches otk divergence",
                    paste(case$args, collapse = " ")), {
        pr <- make_problem(11L)
        g <- file.path(pr$dir, paste0("g", c("x", "y", "a", "b"), ".csv"))
        names(g) <- c("x", "y", "a", "b")
        js <- run_otk(c("divergence", pr$fx, pr$fy, "--a", pr$fa, "--b", pr$fb,
                        "--grad-x", g["x"], "--grad-y", g["y"], "--grad-a", g["a"],
                        "--grad-b", g["b"], case$args))
        r <- do.call(sinkhorn_divergence,
                     c(list(pr$x, pr$y, pr$a, pr$b, grad = TRUE), case$kw))
        expect_close(r$value, js$divergence)
        expect_close(r$eps, js$eps)
        expect_identical(r$iterations, as.integer(js$iterations))
        expect_identical(r$update, js$update)  # the rule run, "auto" resolved
        expect_equal(dim(r$grad_x), c(20L, 3L))
        expect_equal(dim(r$grad_y), c(15L, 3L))
        for (k in c("x", "y")) {
            ref <- read_csv(g[k])
            dimnames(ref) <- NULL
            expect_close(r[[paste0("grad_", k)]], ref)
        }
        for (k in c("a", "b"))
            expect_close(r[[paste0("grad_", k)]], read_csv(g[k])[, 1])
    })
}

test_that("grad_x is the derivative of the value in R's layout (finite differences)", {
    pr <- make_problem(12L)
    f <- function(x) sinkhorn_divergence(x, pr$y, pr$a, pr$b, blur = 0.5, tol = 1e-13)$value
    r <- sinkhorn_divergence(pr$x, pr$y, pr$a, pr$b, blur = 0.5, tol = 1e-13, grad = "x")
    expect_null(r$grad_y)
    h <- 1e-5
    for (ij in list(c(1L, 1L), c(7L, 3L), c(20L, 2L), c(3L, 2L))) {
        xp <- pr$x; xp[ij[1], ij[2]] <- xp[ij[1], ij[2]] + h
        xm <- pr$x; xm[ij[1], ij[2]] <- xm[ij[1], ij[2]] - h
        fd <- (f(xp) - f(xm)) / (2 * h)
        expect_equal(r$grad_x[ij[1], ij[2]], fd, tolerance = 1e-6)
    }
})

test_that("sinkhorn_divergence_matrix() on the three costs equals the point version", {
    pr <- make_problem(13L)
    half_sq <- function(u, v) (outer(rowSums(u^2), rowSums(v^2), "+") - 2 * u %*% t(v)) / 2
    rp <- sinkhorn_divergence(pr$x, pr$y, pr$a, pr$b, eps = 0.1, tol = 1e-12, grad = TRUE)
    rm <- sinkhorn_divergence_matrix(half_sq(pr$x, pr$y), half_sq(pr$x, pr$x),
                                     half_sq(pr$y, pr$y), pr$a, pr$b, eps = 0.1, tol = 1e-12,
                                     grad = TRUE)
    expect_equal(rm$value, rp$value, tolerance = 1e-8)
    expect_equal(rm$grad_a, rp$grad_a, tolerance = 1e-6)
    expect_null(rm$grad_x)
    expect_error(sinkhorn_divergence_matrix(half_sq(pr$x, pr$y), half_sq(pr$y, pr$y),
                                            half_sq(pr$y, pr$y), eps = 0.1),
                 "C_xx is 15 x 15, expected 20 x 20")
})

test_that("divergence: bad input stops with the argument's name; max_iter warns", {
    pr <- make_problem(14L)
    b <- pr$b; b[2] <- Inf
    expect_error(sinkhorn_divergence(pr$x, pr$y, pr$a, b), "b\\[1\\].*OTK_ENONFINITE")
    expect_error(sinkhorn_divergence(pr$x, pr$y[, 1:2]), "y has 2 columns but x has 3")
    expect_error(sinkhorn_divergence(pr$x, pr$y, grad = "z"), "grad must be")
    expect_error(sinkhorn_divergence(pr$x, pr$y, blur = -1), "blur.*OTK_EPARAM")
    expect_error(sinkhorn_divergence(pr$x, pr$y, a = rep(0, 20)), "OTK_EZEROMASS")
    expect_warning(r <- sinkhorn_divergence(pr$x, pr$y, blur = 0.01, max_iter = 1, tol = 1e-15),
                   class = "otkit_convergence_warning")
    expect_identical(r$status, 1L)
})

test_that("cache_mb keeps the cost matrices: the same value and gradients", {
    pr <- make_problem(14L)
    r0 <- sinkhorn_divergence(pr$x, pr$y, pr$a, pr$b, blur = 0.5, tol = 1e-10, grad = TRUE)
    r1 <- sinkhorn_divergence(pr$x, pr$y, pr$a, pr$b, blur = 0.5, tol = 1e-10, grad = TRUE,
                              cache_mb = 1)
    expect_equal(r1$value, r0$value, tolerance = 1e-12)
    expect_identical(r1$iterations, r0$iterations)
    for (k in c("grad_a", "grad_b", "grad_x", "grad_y"))
        expect_lt(max(abs(r1[[k]] - r0[[k]])), 1e-11)
    expect_error(sinkhorn_divergence(pr$x, pr$y, cache_mb = -1), "cache_mb")
})
