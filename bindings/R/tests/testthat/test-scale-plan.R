# Scale-aware eps (OTT's relative_epsilon, scale_cost) and the divergence's plan,
# against the otk tool (the same library through its CLI) and R's own
# computations on the dense plan.

stat_of <- list(mean = mean, std = function(v) sqrt(mean((v - mean(v))^2)),
                max_cost = max, median = stats::median)

sq_cost <- function(x, y) outer(rowSums(x^2), rowSums(y^2), "+") - 2 * x %*% t(y)

test_that("relative_eps is the statistic of the cost times the factor, as otk computes it", {
    pr <- make_problem(31L)
    C <- sq_cost(pr$x, pr$y)
    for (stat in names(stat_of)) {
        js <- run_otk(c("sinkhorn", pr$fx, pr$fy, "--a", pr$fa, "--b", pr$fb,
                        "--relative-eps", "0.05", "--relative-to", stat, "--tol", "1e-10"))
        r <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, relative_eps = 0.05,
                      relative_to = stat, tol = 1e-10)
        expect_close(r$eps, js$eps)
        expect_close(r$eps, 0.05 * stat_of[[stat]](C), 1e-10)
        expect_close(r$ot_kl, js$ot_kl)
        expect_identical(r$scale_cost, 1)
    }
    d <- sinkhorn_divergence(pr$x, pr$y, pr$a, pr$b, relative_eps = 0.1, tol = 1e-10)
    expect_close(d$eps, 0.1 * mean(C / 2), 1e-10)
})

test_that("scale_cost solves C / s and reports in units of C, as otk does", {
    pr <- make_problem(32L)
    C <- sq_cost(pr$x, pr$y)
    js <- run_otk(c("sinkhorn", pr$fx, pr$fy, "--a", pr$fa, "--b", pr$fb, "--eps", "0.02",
                    "--scale-cost", "median", "--tol", "1e-12"))
    r <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, eps = 0.02, scale_cost = "median",
                  tol = 1e-12)
    s <- stats::median(C)
    expect_close(js$scale_cost, s, 1e-10)
    expect_close(r$scale_cost, js$scale_cost)
    expect_close(r$ot_kl, js$ot_kl)
    ref <- sinkhorn(pr$a, pr$b, C = C / s, eps = 0.02, tol = 1e-12)
    expect_close(r$ot_kl, s * ref$ot_kl, 1e-10)
    expect_close(r$eps, s * 0.02, 1e-15)
})

test_that("the divergence's plan is otk sinkhorn's plan at convergence", {
    pr <- make_problem(33L)
    pf <- file.path(pr$dir, "plan.csv")
    run_otk(c("sinkhorn", pr$fx, pr$fy, "--a", pr$fa, "--b", pr$fb, "--cost",
              "half-sqeuclidean", "--eps", "0.05", "--tol", "1e-13", "--plan", pf))
    P_otk <- read_csv(pf)
    dimnames(P_otk) <- NULL
    V <- matrix(rnorm(15 * 2), 15, 2)
    U <- matrix(rnorm(20 * 3), 20, 3)
    d <- sinkhorn_divergence(pr$x, pr$y, pr$a, pr$b, eps = 0.05, tol = 1e-13, plan = TRUE,
                             plan_apply = V, plan_apply_t = U, barycentric = TRUE)
    expect_equal(dim(d$plan), c(20L, 15L))
    expect_lte(max(abs(d$plan - P_otk)), 1e-9)
    expect_lte(max(abs(d$plan_apply - d$plan %*% V)), 1e-14)
    expect_lte(max(abs(d$plan_apply_t - t(d$plan) %*% U)), 1e-14)
    expect_lte(max(abs(d$barycentric - (d$plan %*% pr$y) / rowSums(d$plan))), 1e-13)
    # The potentials, GeomLoss's gauge: P = a b exp((f + g - C) / eps).
    C <- sq_cost(pr$x, pr$y) / 2
    P <- outer(pr$a, pr$b) * exp((outer(d$f_ba, d$g_ab, "+") - C) / 0.05)
    expect_lte(max(abs(P - d$plan)), 1e-12)
    expect_length(d$f_aa, 20L)
    expect_length(d$g_bb, 15L)
    plain <- sinkhorn_divergence(pr$x, pr$y, pr$a, pr$b, eps = 0.05)
    expect_null(plain$plan)
    expect_null(plain$barycentric)
})

test_that("the plan of a divergence on matrices, and conflicts naming both", {
    pr <- make_problem(34L)
    Cxy <- sq_cost(pr$x, pr$y)
    d <- sinkhorn_divergence_matrix(Cxy, sq_cost(pr$x, pr$x), sq_cost(pr$y, pr$y), pr$a, pr$b,
                                    eps = 0.1, plan = TRUE, barycentric = pr$y)
    expect_lte(max(abs(d$barycentric - (d$plan %*% pr$y) / rowSums(d$plan))), 1e-13)
    expect_error(sinkhorn(x = pr$x, y = pr$y, eps = 0.1, relative_eps = 0.1),
                 "eps and relative_eps exclude each other")
    expect_error(sinkhorn_divergence(pr$x, pr$y, blur = 0.1, relative_eps = 0.1),
                 "blur and relative_eps exclude each other")
    expect_error(sinkhorn(x = pr$x, y = pr$y, relative_to = "median"), "needs relative_eps")
    expect_error(sinkhorn(x = pr$x, y = pr$y, scale_cost = "meen"), "scale_cost")
    expect_error(sinkhorn_divergence(pr$x, pr$y, plan_apply = matrix(1, 3, 1)),
                 "plan_apply has 3 rows, expected 15")
})
