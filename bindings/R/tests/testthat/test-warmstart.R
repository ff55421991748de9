# sinkhorn(init = list(f, g)): a converged solve's potentials meet the
# tolerance when measured again, so the warm re-solve runs 0 updates and
# gives the same values (to 1e-12 relative: the same potentials, the same sums).
warm_problem <- function() {
    set.seed(3)
    x <- matrix(rnorm(60), 30, 2)
    y <- matrix(rnorm(50), 25, 2) + 0.5
    a <- runif(30, 0.2, 1); b <- runif(25, 0.2, 1)
    list(x = x, y = y, a = a / sum(a), b = b / sum(b))
}

test_that("init from a converged solve re-solves in <= 2 iterations, same values", {
    pr <- warm_problem()
    cold <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1, tol = 1e-9)
    expect_true(cold$converged)
    expect_false(cold$warm_start)
    expect_gt(cold$iterations, 10)
    warm <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1, tol = 1e-9,
                     init = list(cold$f, cold$g))
    expect_true(warm$converged)
    expect_true(warm$warm_start)
    expect_lte(warm$iterations, 2)
    for (k in c("ot_kl", "ot_ent", "ot_lin"))
        expect_equal(warm[[k]], cold[[k]], tolerance = 1e-12)
})

test_that("bad init is an error naming it", {
    pr <- warm_problem()
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, init = list(numeric(29), numeric(25))),
                 "init\\[\\[1\\]\\] \\(f\\) has length 29, expected 30")
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, init = list(numeric(30), "g")),
                 "init\\[\\[2\\]\\] \\(g\\) must be a numeric vector")
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, init = numeric(55)),
                 "init must be a list\\(f, g\\)")
})

# callback = function(iteration, eps, error) and history = TRUE, as
# otkit.sinkhorn's in Python: the counts are the library's own (the callback
# after every update that leaves the solve running, one history entry per
# measurement at the target eps plus the final one).

test_that("the callback sees each iteration and can stop the solve", {
    pr <- warm_problem()
    seen <- NULL
    watch <- function(iteration, eps, error) {
        seen <<- rbind(seen, c(iteration, eps, error))
        iteration == 5L
    }
    res <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1, callback = watch)
    expect_equal(seen[, 1], 1:5)
    expect_true(res$stopped)
    expect_identical(res$status, 2L)
    expect_false(res$converged)
    expect_identical(res$iterations, 5L)
    # the annealing runs eps down its list (the first two entries may differ
    # in the last bit)
    expect_true(all(seen[-1, 2] <= seen[-5, 2] * (1 + 1e-12)))
    # the potentials of iteration 5 are a warm start
    done <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1, init = list(res$f, res$g))
    full <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1)
    expect_true(done$converged)
    expect_equal(done$ot_kl, full$ot_kl, tolerance = 1e-6)
})

test_that("a callback that never stops changes nothing", {
    pr <- warm_problem()
    seen <- NULL
    res <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1,
                    callback = function(iteration, eps, error) {
                        seen <<- rbind(seen, c(iteration, error))
                        NULL
                    })
    plain <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1)
    expect_false(res$stopped)
    expect_true(res$converged)
    expect_identical(res$iterations, plain$iterations)
    expect_identical(res$ot_kl, plain$ot_kl)
    expect_equal(seen[, 1], seq_len(plain$iterations))
    expect_true(is.nan(seen[1, 2]))  # no measurement during the annealing
    expect_true(all(seen[-seq_len(plain$annealing_iterations), 2] > 1e-6))
})

test_that("a callback that declares stage sees the annealing, then the target eps", {
    pr <- warm_problem()
    stages <- NULL
    res <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1,
                    callback = function(iteration, eps, error, stage) {
                        stages <<- c(stages, stage)
                        FALSE
                    })
    expect_identical(length(stages), res$iterations)
    expect_identical(sum(stages == "annealing"), res$annealing_iterations)
    expect_identical(unique(stages), c("annealing", "target"))
    dots <- 0L
    sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1,
             callback = function(iteration, eps, error, ...) {
                 if (list(...)$stage == "target") dots <<- dots + 1L
                 FALSE
             })
    expect_identical(dots, res$iterations - res$annealing_iterations)
})

test_that("an error in the callback propagates; a non-function is refused", {
    pr <- warm_problem()
    boom <- function(iteration, eps, error) if (iteration == 3L) stop("from the callback")
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1, callback = boom),
                 "from the callback")
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1, callback = 3),
                 "callback must be a function")
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, history = "yes"),
                 "history must be TRUE or FALSE")
})

test_that("history is the marginal error of every measurement", {
    pr <- warm_problem()
    res <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1, history = TRUE)
    h <- res$history
    expect_type(h, "double")
    expect_length(h, res$iterations - res$annealing_iterations + 1L)
    expect_identical(h[length(h)], res$marginal_error)
    expect_lte(h[length(h)], 1e-6)
    expect_true(all(h[-length(h)] > 1e-6))
    expect_true(all(diff(utils::tail(h, 5L)) < 0))  # the linear convergence at the end
    expect_null(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, blur = 0.1)$history)
})
