# backend= and truncate= (docs/math.md A.11, C.6) against the otk tool on the
# same CSV inputs: both run the same library, so values agree to 1e-12
# relative and gradients to 1e-12 of their largest entry; the result's
# backend and truncation_bound are the tool's.  600 points in 2-D make about
# 9 clusters a side: the multiscale path (clusters, jump, kept blocks) runs.

ms_problem <- function(seed, n = 600L) {
    set.seed(seed)
    x <- matrix(runif(2L * n), n, 2L)
    y <- 0.3 + 0.5 * matrix(runif(2L * n), n, 2L)
    y[, 1L] <- y[, 1L] + 0.2
    tx <- 0.2 + 0.7 * x + 0.15 * sin(4 * x[, c(2L, 1L)])
    dir <- tempfile("otkr-ms")
    dir.create(dir)
    list(x = x, y = y, tx = tx, dir = dir,
         fx = write_csv(file.path(dir, "x.csv"), x),
         fy = write_csv(file.path(dir, "y.csv"), y),
         ftx = write_csv(file.path(dir, "tx.csv"), tx))
}

test_that("sinkhorn(backend = \"multiscale\") matches otk sinkhorn --backend multiscale", {
    pr <- ms_problem(41L)
    js <- run_otk(c("sinkhorn", pr$fx, pr$fy, "--blur", "0.03", "--tol", "1e-9",
                    "--backend", "multiscale", "--truncate", "8"))
    r <- sinkhorn(x = pr$x, y = pr$y, blur = 0.03, tol = 1e-9, backend = "multiscale",
                  truncate = 8)
    expect_identical(r$backend, "multiscale")
    expect_identical(js$backend, "multiscale")
    expect_close(r$ot_kl, js$ot_kl)
    expect_close(r$truncation_bound, js$truncation_bound)
    expect_identical(r$iterations, as.integer(js$iterations))
    on <- sinkhorn(x = pr$x, y = pr$y, blur = 0.03, tol = 1e-9, backend = "online")
    expect_identical(on$backend, "online")
    expect_identical(on$truncation_bound, 0)
    expect_lte(abs(r$ot_kl - on$ot_kl), 1e-7 * abs(on$ot_kl))
})

test_that("divergence(backend = \"multiscale\") matches otk divergence, gradients too", {
    pr <- ms_problem(42L)
    g <- file.path(pr$dir, "gx.csv")
    js <- run_otk(c("divergence", pr$fx, pr$fy, "--blur", "0.05", "--tol", "1e-9",
                    "--backend", "multiscale", "--grad-x", g))
    r <- divergence(pr$x, pr$y, blur = 0.05, tol = 1e-9, backend = "multiscale", grad = "x")
    expect_identical(r$backend, "multiscale")
    expect_close(r$value, js$divergence)
    expect_close(r$truncation_bound, js$truncation_bound)
    ref <- read_csv(g); dimnames(ref) <- NULL
    expect_close(r$grad_x, ref)
    div <- Divergence(pr$x, pr$y, blur = 0.05, tol = 1e-9, backend = "multiscale")
    expect_close(divergence_solve(div)$value, js$divergence)
    expect_error(set_points(div, x = pr$x), "multiscale")
})

test_that("monge_gap(backend = \"multiscale\") matches otk monge-gap, and auto", {
    pr <- ms_problem(43L)
    g <- file.path(pr$dir, "gtx.csv")
    js <- run_otk(c("monge-gap", pr$fx, pr$ftx, "--eps", "0.01", "--tol", "1e-9",
                    "--backend", "multiscale", "--grad", g))
    r <- monge_gap(pr$x, pr$tx, eps = 0.01, tol = 1e-9, backend = "multiscale", grad = "tx")
    expect_identical(r$backend, "multiscale")
    expect_identical(js$backend, "multiscale")
    expect_close(r$value, js$monge_gap)
    expect_close(r$truncation_bound, js$truncation_bound)
    ref <- read_csv(g); dimnames(ref) <- NULL
    expect_close(r$grad_tx, ref)
    auto <- monge_gap(pr$x, pr$tx, eps = 0.01, tol = 1e-9)
    expect_identical(auto$backend, "online")
    expect_lte(abs(r$value - auto$value), 2 * r$eps * r$truncation_bound + 1e-8 * auto$value)
})

test_that("backend and truncate are checked", {
    pr <- ms_problem(44L, 50L)
    expect_error(sinkhorn(x = pr$x, y = pr$y, backend = "gpu"), "backend")
    expect_error(divergence(pr$x, pr$y, backend = "multiscale", truncate = 0), "truncate")
    expect_error(monge_gap(pr$x, pr$tx, backend = "multiscale", truncate = NA), "truncate")
    x4 <- matrix(runif(200), 50, 4)
    expect_error(monge_gap(x4, x4 + 1, backend = "multiscale"), "d = 4")
})
