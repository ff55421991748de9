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
