# Batches of B problems (otkit/batch.h): x a B x n x d array, y B x m x d,
# weights B x n and B x m matrices (a row per problem).  Each problem equals
# its own single solve to 1e-12 relative (the gradients in R's layout,
# grad_x[k, , ] the n x d gradient of problem k); zero-weight padding equals
# the unpadded solve; the otk tool on a slice is the reference.

B <- 3L; N <- 10L; M <- 7L; D <- 2L

make_batch <- function(seed) {
    set.seed(seed)
    x <- array(rnorm(B * N * D, sd = 0.4), c(B, N, D))
    y <- array(rnorm(B * M * D, sd = 0.3), c(B, M, D))
    for (k in seq_len(B)) y[k, , ] <- y[k, , ] + 0.25 * k
    a <- matrix(runif(B * N, 0.2, 1), B, N); a <- a / rowSums(a)
    b <- matrix(runif(B * M, 0.2, 1), B, M); b <- b / rowSums(b)
    list(x = x, y = y, a = a, b = b)
}

batch_cases <- list(list(blur = 0.2, tol = 1e-10),
                    list(blur = 0.2, schedule = "fixed"),
                    list(blur = 0.3, reach = 0.8, tol = 1e-10),
                    list(relative_eps = 0.1, tol = 1e-10),
                    list(eps = 0.03, scale_cost = "max_cost", tol = 1e-10))

for (kw in batch_cases) {
    test_that(paste("divergence() on a batch equals the single solves:",
                    paste(names(kw), kw, sep = " = ", collapse = ", ")), {
        pr <- make_batch(21L)
        r <- do.call(divergence, c(list(pr$x, pr$y, pr$a, pr$b, grad = TRUE), kw))
        expect_length(r$value, B)
        expect_equal(dim(r$grad_x), c(B, N, D))
        expect_equal(dim(r$grad_y), c(B, M, D))
        expect_equal(dim(r$grad_a), c(B, N))
        expect_equal(dim(r$grad_b), c(B, M))
        expect_true(r$converged)
        for (k in seq_len(B)) {
            s <- do.call(divergence, c(list(pr$x[k, , ], pr$y[k, , ], pr$a[k, ], pr$b[k, ],
                                            grad = TRUE), kw))
            expect_close(r$value[k], s$value)
            expect_close(r$eps[k], s$eps)
            expect_close(r$scale_cost[k], s$scale_cost)
            expect_identical(r$iterations[k], s$iterations)
            expect_close(r$grad_x[k, , ], s$grad_x)
            expect_close(r$grad_y[k, , ], s$grad_y)
            expect_close(r$grad_a[k, ], s$grad_a)
            expect_close(r$grad_b[k, ], s$grad_b)
        }
    })
}

test_that("sinkhorn() on a batch equals the single solves", {
    pr <- make_batch(22L)
    for (kw in list(list(eps = 0.05), list(relative_eps = 0.2, relative_to = "median"))) {
        r <- do.call(sinkhorn, c(list(pr$a, pr$b, x = pr$x, y = pr$y, tol = 1e-10), kw))
        expect_equal(dim(r$f), c(B, N))
        expect_equal(dim(r$g), c(B, M))
        for (k in seq_len(B)) {
            s <- do.call(sinkhorn, c(list(pr$a[k, ], pr$b[k, ], x = pr$x[k, , ],
                                          y = pr$y[k, , ], tol = 1e-10), kw))
            for (v in c("ot_kl", "ot_ent", "ot_lin", "eps"))
                expect_close(r[[v]][k], s[[v]])
            expect_close(r$f[k, ], s$f)
            expect_close(r$g[k, ], s$g)
            expect_identical(r$iterations[k], s$iterations)
        }
    }
})

test_that("grad_x of a batch is the derivative in R's layout (finite differences)", {
    pr <- make_batch(23L)
    f <- function(x) divergence(x, pr$y, pr$a, pr$b, blur = 0.5, tol = 1e-13)$value
    r <- divergence(pr$x, pr$y, pr$a, pr$b, blur = 0.5, tol = 1e-13, grad = "x")
    h <- 1e-5
    for (e in list(c(2L, 4L, 1L), c(3L, 9L, 2L))) {
        xp <- pr$x; xm <- pr$x
        xp[e[1L], e[2L], e[3L]] <- xp[e[1L], e[2L], e[3L]] + h
        xm[e[1L], e[2L], e[3L]] <- xm[e[1L], e[2L], e[3L]] - h
        fd <- (f(xp) - f(xm)) / (2 * h)
        expect_equal(fd[e[1L]], r$grad_x[e[1L], e[2L], e[3L]], tolerance = 1e-6)
        expect_lte(max(abs(fd[-e[1L]])), 1e-12) # the other problems do not move
    }
})

test_that("zero-weight padding gives the unpadded problem (relative eps: its statistics)", {
    pr <- make_batch(24L)
    nr <- 6L; mr <- 4L
    xr <- pr$x[2L, 1:nr, ]; yr <- pr$y[2L, 1:mr, ]
    ar <- pr$a[2L, 1:nr] / sum(pr$a[2L, 1:nr]); br <- pr$b[2L, 1:mr] / sum(pr$b[2L, 1:mr])
    pr$a[2L, ] <- 0; pr$a[2L, 1:nr] <- ar
    pr$b[2L, ] <- 0; pr$b[2L, 1:mr] <- br
    for (j in (nr + 1L):N) pr$x[2L, j, ] <- xr[1L, ]
    for (kw in list(list(blur = 0.2), list(relative_eps = 0.1),
                    list(eps = 0.05, scale_cost = "mean"))) {
        r <- do.call(divergence, c(list(pr$x, pr$y, pr$a, pr$b, grad = TRUE, tol = 1e-10),
                                   kw))
        s <- do.call(divergence, c(list(xr, yr, ar, br, grad = TRUE, tol = 1e-10), kw))
        expect_close(r$value[2L], s$value)
        expect_close(r$eps[2L], s$eps)
        expect_close(r$grad_x[2L, 1:nr, ], s$grad_x)
        expect_close(r$grad_b[2L, 1:mr], s$grad_b)
        expect_lte(max(abs(r$grad_x[2L, (nr + 1L):N, ])), 1e-290)
        rs <- do.call(sinkhorn, c(list(pr$a, pr$b, x = pr$x, y = pr$y, tol = 1e-10), kw))
        ss <- do.call(sinkhorn, c(list(ar, br, x = xr, y = yr, tol = 1e-10), kw))
        expect_close(rs$ot_kl[2L], ss$ot_kl)
        expect_close(rs$f[2L, 1:nr], ss$f)
    }
})

test_that("each problem of a batch matches otk divergence on its slice", {
    pr <- make_batch(25L)
    dir <- tempfile("otkr-batch")
    dir.create(dir)
    r <- divergence(pr$x, pr$y, pr$a, pr$b, blur = 0.3, grad = "x")
    for (k in seq_len(B)) {
        f <- file.path(dir, paste0(c("x", "y", "a", "b", "gx"), k, ".csv"))
        write_csv(f[1L], pr$x[k, , ])
        write_csv(f[2L], pr$y[k, , ])
        write_csv(f[3L], matrix(pr$a[k, ], ncol = 1L))
        write_csv(f[4L], matrix(pr$b[k, ], ncol = 1L))
        js <- run_otk(c("divergence", f[1L], f[2L], "--a", f[3L], "--b", f[4L],
                        "--blur", "0.3", "--grad-x", f[5L]))
        expect_close(r$value[k], js$divergence)
        expect_identical(r$iterations[k], as.integer(js$iterations))
        ref <- read_csv(f[5L])
        dimnames(ref) <- NULL
        expect_close(r$grad_x[k, , ], ref)
    }
})

test_that("a bad batch names the argument and the entry", {
    pr <- make_batch(26L)
    expect_error(divergence(pr$x, pr$y[1:2, , ]), "y has batch size 2, expected B = 3")
    expect_error(divergence(pr$x, pr$y[, , 1, drop = FALSE]), "y has dimension 1, expected d = 2")
    expect_error(divergence(pr$x, pr$y[1, , ]), "y must be a numeric B x n x d array")
    expect_error(divergence(pr$x, pr$y, pr$a[1:2, ]), "a must be a 3 x 10 matrix")
    expect_error(divergence(pr$x, pr$y, pr$a[1, ]), "a must be a 3 x 10 matrix .* vector")
    expect_error(sinkhorn(pr$a, pr$b[, 1:3], x = pr$x, y = pr$y, eps = 0.1),
                 "b must be a 3 x 7 matrix")
    x <- pr$x; x[2, 5, 1] <- NaN
    expect_error(divergence(x, pr$y), "x\\[2, 5, 1\\] = NaN is not finite")
    a <- pr$a; a[3, 4] <- -0.1
    expect_error(divergence(pr$x, pr$y, a, pr$b), "a\\[3, 4\\] = -0.1 is negative")
    a <- pr$a; a[2, ] <- 0
    expect_error(divergence(pr$x, pr$y, a, pr$b), "a\\[2, \\] sums to zero")
    a <- pr$a; a[3, ] <- 2 * a[3, ]
    expect_error(sinkhorn(a, pr$b, x = pr$x, y = pr$y, eps = 0.1),
                 "problem 3 is balanced with unequal masses")
    expect_length(divergence(pr$x, pr$y, a, pr$b, reach = 1)$value, B)
    expect_error(divergence(pr$x, pr$y, plan = TRUE), "plan is not supported for a batch")
    expect_error(sinkhorn(x = pr$x, y = pr$y, eps = 0.1, history = TRUE),
                 "history is not supported for a batch")
    expect_error(sinkhorn(x = pr$x, y = pr$y, eps = 0.1, gauge = "pot"), "gauge")
})

test_that("not converging warns with the number of problems", {
    pr <- make_batch(27L)
    expect_warning(r <- divergence(pr$x, pr$y, blur = 0.01, max_iter = 2L),
                   "did not converge", class = "otkit_convergence_warning")
    expect_false(r$converged)
    expect_true(all(r$status == 1L))
})
