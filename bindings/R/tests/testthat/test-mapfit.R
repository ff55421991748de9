test_that("monge_gap() is the displacement minus sinkhorn()'s OT_ent, above eps H(w)", {
    pr <- make_problem(31L)
    tx <- pr$x %*% matrix(c(1.2, 0.1, 0, -0.2, 0.9, 0.3, 0, 0.1, 1.1), 3, 3) + 0.5
    r <- monge_gap(pr$x, tx, eps = 0.5, tol = 1e-10)
    expect_true(r$converged)
    expect_identical(r$eps, 0.5)
    expect_equal(r$displacement, mean(rowSums((pr$x - tx)^2)), tolerance = 1e-12)
    s <- sinkhorn(x = pr$x, y = tx, eps = r$eps, tol = 1e-10)
    expect_equal(r$ot_ent, s$ot_ent, tolerance = 1e-8)
    expect_equal(r$value, r$displacement - s$ot_ent, tolerance = 1e-8)
    expect_equal(r$lower_bound, r$eps * log(20), tolerance = 1e-12)
    expect_gt(r$value, r$lower_bound)
    # The default relative eps is 0.05 times the std of the n x n cost matrix.
    C <- outer(rowSums(pr$x^2), rowSums(tx^2), "+") - 2 * pr$x %*% t(tx)
    r <- monge_gap(pr$x, tx, max_iter = 50, warn = FALSE)
    expect_equal(r$eps, 0.05 * sqrt(mean((C - mean(C))^2)), tolerance = 1e-10)
    r <- monge_gap(pr$x, tx, relative_eps = 0.2, relative_to = "mean", max_iter = 50,
                   warn = FALSE)
    expect_equal(r$eps, 0.2 * mean(C), tolerance = 1e-10)
})

mg_cases <- list(
    list(args = c("--eps", "0.5"), kw = list(eps = 0.5)),
    list(args = c("--cost", "euclidean", "--eps", "0.3", "--w", "W"),
         kw = list(cost = "euclidean", eps = 0.3, w = "W")),
    list(args = c("--relative-eps", "0.2", "--relative-to", "mean", "--tol", "1e-8"),
         kw = list(relative_eps = 0.2, relative_to = "mean", tol = 1e-8)))

for (case in mg_cases) {
    test_that(paste("monge_gap() matches otk monge-gap", paste(case$args, collapse = " ")), {
        pr <- make_problem(30L)
        tx <- pr$x %*% matrix(c(1.1, 0.3, 0, 0, 0.8, 0.2, -0.1, 0, 1.3), 3, 3) - 0.2
        ftx <- write_csv(file.path(pr$dir, "tx.csv"), tx)
        args <- sub("^W$", pr$fa, case$args)
        kw <- case$kw
        if (identical(kw$w, "W")) kw$w <- pr$a
        g <- file.path(pr$dir, c("gtx.csv", "gx.csv"))
        js <- run_otk(c("monge-gap", pr$fx, ftx, "--grad", g[1], "--grad-x", g[2], args))
        r <- do.call(monge_gap, c(list(pr$x, tx, grad = TRUE), kw))
        expect_identical(js$status, "ok")
        for (k in c("eps", "displacement", "ot_ent", "lower_bound", "marginal_error"))
            expect_close(r[[k]], js[[k]])
        expect_close(r$value, js$monge_gap)
        expect_identical(r$iterations, as.integer(js$iterations))
        for (k in 1:2) {
            ref <- read_csv(g[k]); dimnames(ref) <- NULL
            expect_close(r[[c("grad_tx", "grad_x")[k]]], ref)
        }
    })
}

test_that("monge_gap() gradients match finite differences in R's layout", {
    pr <- make_problem(32L)
    tx <- pr$x * 1.3 + 0.2
    f <- function(x, tx) monge_gap(x, tx, eps = 0.5, tol = 1e-13)$value
    r <- monge_gap(pr$x, tx, eps = 0.5, tol = 1e-13, grad = TRUE)
    expect_equal(dim(r$grad_tx), c(20L, 3L))
    h <- 1e-5
    for (ij in list(c(1L, 1L), c(9L, 3L), c(20L, 2L))) {
        e <- matrix(0, 20, 3); e[ij[1], ij[2]] <- h
        expect_equal(r$grad_tx[ij[1], ij[2]], (f(pr$x, tx + e) - f(pr$x, tx - e)) / (2 * h),
                     tolerance = 1e-6)
        expect_equal(r$grad_x[ij[1], ij[2]], (f(pr$x + e, tx) - f(pr$x - e, tx)) / (2 * h),
                     tolerance = 1e-6)
    }
})

test_that("monge_gap(): bad input stops with the argument's name", {
    pr <- make_problem(33L)
    expect_error(monge_gap(pr$x, pr$x[-1, ]), "tx is 19 x 3, x is 20 x 3")
    expect_error(monge_gap(pr$x, pr$x, w = rep(0.1, 20)), "OTK_EMASS")
    expect_error(monge_gap(pr$x, pr$x, relative_to = "median"), "relative_to = \"median\"")
    expect_error(monge_gap(pr$x, pr$x, grad = "y"), "grad must be")
    expect_warning(r <- monge_gap(pr$x, pr$x * 2, eps = 0.01, max_iter = 1, tol = 1e-15),
                   class = "otkit_convergence_warning")
    expect_identical(r$status, 1L)
})

fit_files <- function(seed) {
    pr <- make_problem(seed)
    # A target that is an affine image of the source, so the fit has a clear optimum.
    pr$y <- pr$x %*% matrix(c(1.5, 0.2, 0, 0, 0.7, 0.1, 0.3, 0, 1.2), 3, 3) + 0.3
    pr$fy <- write_csv(file.path(pr$dir, "y.csv"), pr$y)
    pr
}

apply_cli <- function(model, points_file) {
    out <- system2(otk_tool(), c("apply-map", model, points_file), stdout = TRUE)
    st <- attr(out, "status")
    expect_true(is.null(st) || st == 0L)
    m <- do.call(rbind, lapply(strsplit(out, ","), as.numeric))
    dimnames(m) <- NULL
    m
}

test_that("fit_map(family = \"affine\") matches otk fit-map and otk apply-map", {
    pr <- fit_files(34L)
    model <- file.path(pr$dir, "affine.map")
    js <- run_otk(c("fit-map", pr$fx, pr$fy, "--family", "affine", "--out", model,
                    "--iters", "15", "--blur", "0.3", "--lambda", "0.5"), expect = NA)
    expect_warning(map <- fit_map(pr$x, pr$y, "affine", iters = 15, blur = 0.3, lambda = 0.5),
                   if (js$status == "ok") NA else "iteration limit")
    # Same library, same doubles; fifteen BFGS steps still amplify last-bit
    # differences (input arrays at other addresses) to ~1e-13 of the loss.
    for (k in c("loss", "divergence", "monge_gap", "lambda"))
        expect_lte(abs(map$fit[[k]] - js[[k]]), 1e-9 * js$loss)
    expect_identical(map$fit$iterations, as.integer(js$iterations))
    expect_identical(map$n_params, 12)
    expect_lt(map$fit$divergence,
              sinkhorn_divergence(pr$x, pr$y, blur = 0.3, schedule = "fixed", scaling = 0.8)$value)
    tx <- predict(map, pr$x)
    expect_equal(dim(tx), c(20L, 3L))
    expect_close(tx, apply_cli(model, pr$fx), rtol = 1e-10)
    # The R-saved model is read by the tool, and load_map() gives the same map back.
    saved <- file.path(pr$dir, "from_r.map")
    save_map(map, saved)
    expect_close(apply_cli(saved, pr$fx), tx, rtol = 0)
    back <- load_map(saved)
    expect_identical(predict(back, pr$x), tx)
    expect_identical(map_params(back), map_params(map))
    # An affine map's parameters act on rows: T(x) - T(0) is linear in x.
    t0 <- predict(map, matrix(0, 1, 3))
    lin <- sweep(tx, 2, t0)
    expect_equal(lin[1, ] + lin[2, ], drop(predict(map, pr$x[1, , drop = FALSE] +
                                                        pr$x[2, , drop = FALSE]) - t0),
                 tolerance = 1e-12)
    # monge_gap() accepts the map itself for tx.
    expect_identical(monge_gap(pr$x, map, eps = 1)$value, monge_gap(pr$x, tx, eps = 1)$value)
})

test_that("fit_map(lr_schedule = \"cosine\", mg_relative_eps) matches the tool", {
    pr <- fit_files(35L)
    model <- file.path(pr$dir, "cosine.map")
    args <- c("--optimizer", "adam", "--iters", "12", "--batch", "10", "--lr", "0.05",
              "--lambda", "0.5", "--seed", "3", "--threads", "1", "--blur", "0.3")
    js <- run_otk(c("fit-map", pr$fx, pr$fy, "--family", "affine", "--out", model, args,
                    "--lr-schedule", "cosine", "--mg-relative-eps", "0.3"))
    map <- fit_map(pr$x, pr$y, "affine", optimizer = "adam", iters = 12, batch = 10,
                   lr = 0.05, lambda = 0.5, seed = 3, threads = 1, blur = 0.3,
                   lr_schedule = "cosine", mg_relative_eps = 0.3)
    expect_close(map_params(map), map_params(load_map(model)), rtol = 1e-10)
    expect_lte(abs(map$fit$loss - js$loss), 1e-9 * js$loss)
    flat <- fit_map(pr$x, pr$y, "affine", optimizer = "adam", iters = 12, batch = 10,
                    lr = 0.05, lambda = 0.5, seed = 3, threads = 1, blur = 0.3,
                    mg_relative_eps = 0.3)
    expect_gt(max(abs(map_params(flat) - map_params(map))), 1e-4)
    expect_error(fit_map(pr$x, pr$y, "affine", lr_schedule = "linear"), "lr_schedule")
    # cache_mb keeps the cost matrices: the same fit to rounding
    kept <- fit_map(pr$x, pr$y, "affine", optimizer = "adam", iters = 12, batch = 10,
                    lr = 0.05, lambda = 0.5, seed = 3, threads = 1, blur = 0.3,
                    lr_schedule = "cosine", mg_relative_eps = 0.3, cache_mb = 1)
    expect_close(map_params(kept), map_params(map), rtol = 1e-9)
    expect_error(fit_map(pr$x, pr$y, "affine", cache_mb = -1), "cache_mb")
})

test_that("fit_map(family = \"mlp\") and \"entropic\" match the tool", {
    pr <- fit_files(35L)
    model <- file.path(pr$dir, "mlp.map")
    js <- run_otk(c("fit-map", pr$fx, pr$fy, "--family", "mlp", "--hidden", "8,5",
                    "--activation", "tanh", "--seed", "3", "--iters", "10", "--batch", "0",
                    "--lr", "0.01", "--blur", "0.3", "--out", model))
    map <- fit_map(pr$x, pr$y, "mlp", hidden = c(8, 5), activation = "tanh", seed = 3,
                   iters = 10, batch = 0, lr = 0.01, blur = 0.3)
    expect_close(map$fit$loss, js$loss, rtol = 1e-10)
    expect_identical(map$hidden, c(8L, 5L))
    expect_identical(map$n_params, as.numeric(js$n_params))
    expect_close(predict(map, pr$x), apply_cli(model, pr$fx), rtol = 1e-10)

    model_e <- file.path(pr$dir, "entropic.map")
    js <- run_otk(c("fit-map", pr$fx, pr$fy, "--family", "entropic", "--blur", "1",
                    "--out", model_e))
    emap <- fit_map(pr$x, pr$y, "entropic", blur = 1)
    expect_identical(emap$family, "entropic")
    expect_close(predict(emap, pr$x[1:7, ]), apply_cli(model_e, pr$fx)[1:7, ], rtol = 1e-10)
})

test_that("maps: bad input and lost pointers stop with a clear message", {
    pr <- fit_files(36L)
    expect_error(fit_map(pr$x, pr$y, "quadratic"), "family = \"quadratic\" is not one of")
    expect_error(fit_map(pr$x, pr$y[, 1:2]), "y has 2 columns but x has 3")
    expect_error(fit_map(pr$x, pr$y, "mlp", hidden = c(4, 0)), "hidden\\[2\\] = 0 must be > 0")
    expect_error(fit_map(pr$x, pr$y, lambda = -1, iters = 2), "lambda.*OTK_EPARAM")
    map <- fit_map(pr$x, pr$y, iters = 2, warn = FALSE)
    expect_error(predict(map, pr$x[, 1:2]), "newdata has 2 columns, the map's dimension is 3")
    expect_error(load_map(file.path(pr$dir, "missing.map")), "missing.map.*OTK_EIO")
    bad <- file.path(pr$dir, "bad.map")
    writeLines(c("otkit-map 1", "family affine", "dim 3", "params 12", "1", "end"), bad)
    expect_error(load_map(bad), "bad.map.*OTK_EPARSE")
    rds <- file.path(pr$dir, "map.rds")
    saveRDS(map, rds)
    expect_error(predict(readRDS(rds), pr$x), "use save_map\\(\\) and load_map\\(\\)")
})

test_that("monge_gap(cache_mb =) keeps the cost matrix: the same value and gradients", {
    pr <- make_problem(32L)
    tx <- pr$x %*% matrix(c(1.2, 0.1, 0, -0.2, 0.9, 0.3, 0, 0.1, 1.1), 3, 3) + 0.5
    r0 <- monge_gap(pr$x, tx, eps = 0.5, tol = 1e-10, grad = TRUE)
    r1 <- monge_gap(pr$x, tx, eps = 0.5, tol = 1e-10, grad = TRUE, cache_mb = 1)
    expect_equal(r1$value, r0$value, tolerance = 1e-12)
    expect_identical(r1$iterations, r0$iterations)
    expect_lt(max(abs(r1$grad_tx - r0$grad_tx)), 1e-11)
    expect_lt(max(abs(r1$grad_x - r0$grad_x)), 1e-11)
    expect_error(monge_gap(pr$x, tx, eps = 0.5, cache_mb = NaN), "cache_mb")
})

test_that("fit_map(init =) continues from a copy of a fitted map", {
    pr <- make_problem(33L)
    y <- pr$x %*% diag(c(1.5, 0.8, 1.1)) + 0.5
    kw <- list(lambda = 0.5, blur = 0.3, mg_eps = 0.5, warn = FALSE)
    full <- do.call(fit_map, c(list(pr$x, y, "affine", iters = 40L), kw))
    theta <- map_params(full)
    more <- do.call(fit_map, c(list(pr$x, y, "affine", iters = 1L, init = full), kw))
    expect_identical(more$fit$iterations, 1L)
    expect_lte(more$fit$loss, full$fit$loss * (1 + 1e-12))
    expect_identical(map_params(full), theta)  # init is not modified
    fresh <- do.call(fit_map, c(list(pr$x, y, "affine", iters = 1L), kw))
    expect_gt(fresh$fit$loss, full$fit$loss + 0.01)
    mlp <- fit_map(pr$x, y, "mlp", hidden = c(5L), iters = 3L, batch = 0L, warn = FALSE)
    more_mlp <- fit_map(pr$x, y, "mlp", iters = 1L, init = mlp, batch = 0L, warn = FALSE)
    expect_identical(more_mlp$hidden, 5L)
    expect_error(fit_map(pr$x, y, "mlp", init = full), "init is a affine map")
    expect_error(fit_map(pr$x[, 1:2], y[, 1:2], "affine", init = full), "dimension")
    expect_error(fit_map(pr$x, y, "affine", init = list()), "init must be an otkit_map")
})
