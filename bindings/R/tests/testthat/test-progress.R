# callback = of a single divergence (divergence, divergence_matrix): the
# contract of sinkhorn()'s (otk_divergence_params.progress, otkit/divergence.h):
# one call per update that leaves the solve running, with its stage
# (multiscale: "clusters" first), TRUE stops the solve (stopped, status 2),
# an error in the callback propagates (the library returns first), and a
# callback that does nothing leaves the result identical.

progress_clouds <- function(n, d, seed) {
    set.seed(seed)
    x <- matrix(runif(d * n), n, d)
    y <- 0.3 + 0.5 * matrix(runif(d * n), n, d)
    y[, 1L] <- y[, 1L] + 0.2
    list(x = x, y = y)
}

test_that("a multiscale divergence reports every update, clusters first", {
    pr <- progress_clouds(2000L, 2L, 5L)
    seen <- list()
    r <- divergence(pr$x, pr$y, blur = 0.02, tol = 1e-7, backend = "multiscale",
                    grad = "x", callback = function(iteration, eps, error, stage) {
                        seen[[length(seen) + 1L]] <<- list(iteration, eps, error, stage)
                        NULL
                    })
    expect_identical(r$backend, "multiscale")
    expect_true(r$converged)
    expect_false(r$stopped)
    its <- vapply(seen, function(s) s[[1L]], 0L)
    expect_identical(its, seq_len(r$iterations))
    stages <- vapply(seen, function(s) s[[4L]], "")
    expect_identical(stages[1L], "clusters")
    expect_setequal(unique(stages), c("clusters", "annealing", "target"))
    expect_false(is.unsorted(match(stages, c("clusters", "annealing", "target"))))
    expect_identical(sum(stages != "target"), r$annealing_iterations)
    err <- vapply(seen, function(s) s[[3L]], 0)
    expect_true(all(is.nan(err[stages != "target"])))
    expect_true(all(is.finite(err[stages == "target"])))
    # The same solve without a callback: identical results.
    plain <- divergence(pr$x, pr$y, blur = 0.02, tol = 1e-7, backend = "multiscale",
                        grad = "x")
    expect_identical(plain$value, r$value)
    expect_identical(plain$grad_x, r$grad_x)
    expect_identical(plain$iterations, r$iterations)
})

test_that("TRUE stops the divergence; a plain callback has no stage", {
    pr <- progress_clouds(2000L, 2L, 5L)
    r <- expect_silent(divergence(pr$x, pr$y, blur = 0.05, backend = "multiscale", grad = "x",
                                  callback = function(iteration, eps, error, stage)
                                      stage == "clusters" && iteration == 2L))
    expect_true(r$stopped)
    expect_identical(r$status, 2L)
    expect_false(r$converged)
    expect_identical(r$iterations, 2L)
    expect_true(is.finite(r$value) && all(is.finite(r$grad_x)))
    pr <- progress_clouds(200L, 3L, 2L)
    calls <- 0L
    r <- divergence(pr$x, pr$y, blur = 0.1,
                    callback = function(iteration, eps, error) {
                        calls <<- calls + 1L
                        FALSE
                    })
    expect_identical(calls, r$iterations)
    expect_false(r$stopped)
    cxy <- as.matrix(dist(rbind(pr$x, pr$y)))^2 / 2
    n <- nrow(pr$x)
    m <- divergence_matrix(cxy[1:n, -(1:n)], cxy[1:n, 1:n], cxy[-(1:n), -(1:n)], eps = 0.01,
                           callback = function(iteration, eps, error, ...) iteration == 4L)
    expect_true(m$stopped)
    expect_identical(m$iterations, 4L)
})

test_that("an error in the divergence's callback propagates; a non-function is refused", {
    pr <- progress_clouds(300L, 2L, 4L)
    boom <- function(iteration, eps, error) if (iteration == 3L) stop("from the callback")
    # tryCatch, not expect_error: the error must reach the caller (expect_error
    # would also see a condition signalled but then dropped on the way).
    for (backend in c("online", "multiscale")) {
        out <- tryCatch(divergence(pr$x, pr$y, blur = 0.05, backend = backend,
                                   callback = boom),
                        error = function(e) conditionMessage(e))
        expect_identical(out, "from the callback")
    }
    # Any jump out of the callback, not only an error (here a condition that
    # tryCatch catches), leaves the library first, then reaches the caller.
    leave <- function(iteration, eps, error)
        if (iteration == 2L) signalCondition(structure(class = c("otkr_leave", "condition"),
                                                       list(message = "leave", call = NULL)))
    expect_identical(tryCatch(divergence(pr$x, pr$y, blur = 0.05, callback = leave),
                              otkr_leave = function(c) "left"), "left")
    # The session goes on: the same solve runs again.
    expect_true(divergence(pr$x, pr$y, blur = 0.05)$converged)
    expect_error(divergence(pr$x, pr$y, callback = 3), "callback must be a function")
    xb <- array(0, c(2L, 5L, 2L))
    xb[] <- runif(20)
    expect_error(divergence(xb, xb, callback = function(i, e, r) FALSE),
                 "callback is not supported for a batch")
})

test_that("divergence_solve takes a callback per solve; without one nothing changes", {
    pr <- progress_clouds(1500L, 2L, 6L)
    D <- Divergence(pr$x, pr$y, blur = 0.02, tol = 1e-7, backend = "multiscale")
    plain <- divergence_solve(D, grad = "x")
    seen <- character(0)
    r <- divergence_solve(D, grad = "x", callback = function(iteration, eps, error, stage) {
        seen[length(seen) + 1L] <<- stage
        FALSE
    })
    expect_identical(length(seen), r$iterations)
    expect_identical(seen[1L], "clusters")
    expect_identical(r$value, plain$value)
    expect_identical(r$grad_x, plain$grad_x)
    # The next solve without a callback calls nothing (the last one is not kept).
    again <- divergence_solve(D, grad = "x")
    expect_identical(length(seen), r$iterations)
    expect_identical(again$value, plain$value)
    s <- divergence_solve(D, callback = function(iteration, eps, error) iteration == 3L)
    expect_true(s$stopped)
    expect_identical(s$iterations, 3L)
    out <- tryCatch(divergence_solve(D, callback = function(iteration, eps, error)
                        if (iteration == 2L) stop("from the planned callback")),
                    error = function(e) conditionMessage(e))
    expect_match(out, "from the planned callback")
    expect_error(divergence_solve(D, callback = 3), "callback must be a function")
    # The object still solves after the error.
    expect_identical(divergence_solve(D)$value, divergence_solve(D)$value)
})
