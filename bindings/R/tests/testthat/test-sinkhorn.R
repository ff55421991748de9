cli_cases <- list(
    list(args = c("--blur", "0.3"), kw = list(blur = 0.3)),
    list(args = c("--cost", "euclidean", "--blur", "0.3"), kw = list(cost = "euclidean", blur = 0.3)),
    list(args = c("--reach", "0.8", "--blur", "0.2"), kw = list(reach = 0.8, blur = 0.2)),
    list(args = c("--schedule", "fixed", "--scaling", "0.8"),
         kw = list(schedule = "fixed", scaling = 0.8)),
    list(args = c("--eps", "0.05", "--tol", "1e-9", "--update", "symmetric"),
         kw = list(eps = 0.05, tol = 1e-9, update = "symmetric")))

for (case in cli_cases) {
    test_that(paste("sinkhorn() matches otk sinkhorn", paste(case$args, collapse = " ")), {
        pr <- make_problem()
        pot <- file.path(pr$dir, "pot.csv")
        js <- run_otk(c("sinkhorn", pr$fx, pr$fy, "--a", pr$fa, "--b", pr$fb,
                        "--potentials", pot, case$args))
        r <- do.call(sinkhorn, c(list(pr$a, pr$b, x = pr$x, y = pr$y), case$kw))
        for (k in c("ot_kl", "ot_ent", "ot_lin", "eps", "marginal_error"))
            expect_close(r[[k]], js[[k]])
        expect_identical(r$iterations, as.integer(js$iterations))
        expect_identical(r$update, js$update)  # the rule run, "auto" resolved
        expect_identical(js$status, "ok")
        expect_true(r$converged)
        fg <- read_csv(pot)[, 1]
        expect_close(c(r$f, r$g), fg)
        expect_length(r$f, 20L)
        expect_length(r$g, 15L)
    })
}

test_that("sinkhorn() on a non-square dense cost matches otk sinkhorn --cost-matrix", {
    pr <- make_problem(2L)
    C <- as.matrix(dist(rbind(pr$x, pr$y), method = "manhattan"))[1:20, 21:35]
    fc <- write_csv(file.path(pr$dir, "C.csv"), C)
    plan_file <- file.path(pr$dir, "plan.csv")
    js <- run_otk(c("sinkhorn", "--cost-matrix", fc, "--a", pr$fa, "--b", pr$fb, "--eps", "0.1",
                    "--plan", plan_file))
    r <- sinkhorn(pr$a, pr$b, C = C, eps = 0.1, plan = TRUE)
    expect_close(r$ot_kl, js$ot_kl)
    expect_close(r$ot_lin, js$ot_lin)
    expect_equal(dim(r$plan), c(20L, 15L))
    expect_close(r$plan, read_csv(plan_file))
    # <P, C> from the returned plan is ot_lin: the plan is not transposed.
    expect_equal(sum(r$plan * C), r$ot_lin, tolerance = 1e-12)
    expect_equal(rowSums(r$plan), pr$a, tolerance = 1e-6)
    expect_equal(colSums(r$plan), pr$b, tolerance = 1e-6)
})

test_that("points are rows: an n x d matrix equals the same cost computed in R", {
    # n = 20, d = 3: reading the R matrix in the wrong order would scramble
    # the coordinates and change every value.
    pr <- make_problem(3L)
    C <- outer(rowSums(pr$x^2), rowSums(pr$y^2), "+") - 2 * pr$x %*% t(pr$y)
    rp <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, eps = 0.1, tol = 1e-12, diameter = 3)
    rc <- sinkhorn(pr$a, pr$b, C = C, eps = 0.1, tol = 1e-12, diameter = 9)
    expect_equal(rp$ot_kl, rc$ot_kl, tolerance = 1e-9)
    expect_equal(rp$ot_lin, rc$ot_lin, tolerance = 1e-9)
    expect_equal(rp$f - mean(rp$f), rc$f - mean(rc$f), tolerance = 1e-7)
    # A data frame and an integer-valued matrix are accepted as points.
    rd <- sinkhorn(pr$a, pr$b, x = as.data.frame(pr$x), y = pr$y, eps = 0.1, tol = 1e-12,
                   diameter = 3)
    expect_identical(rd$ot_kl, rp$ot_kl)
    # The transposed matrix has the wrong dimension and is refused, by name.
    expect_error(sinkhorn(pr$a, pr$b, x = t(pr$x), y = pr$y), "y has 3 columns but x has 20")
})

test_that("potentials convert to the POT gauge", {
    pr <- make_problem(4L)
    r <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, eps = 0.2, plan = TRUE)
    rp <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, eps = 0.2, gauge = "pot")
    C <- outer(rowSums(pr$x^2), rowSums(pr$y^2), "+") - 2 * pr$x %*% t(pr$y)
    P <- exp(outer(rp$f, rp$g, "+") - C / 0.2)   # diag(u) K diag(v)
    expect_equal(P, r$plan, tolerance = 1e-10)
    expect_equal(potential_convert(r$f, pr$a, 0.2, "geomloss", "pot"), rp$f)
    # The barycentric projection is (P y) / rowSums(P), an n x d matrix.
    rb <- sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, eps = 0.2, barycentric = TRUE)
    expect_equal(dim(rb$barycentric), c(20L, 3L))
    expect_equal(rb$barycentric, (r$plan %*% pr$y) / rowSums(r$plan), tolerance = 1e-12)
    expect_error(sinkhorn(C = r$plan, eps = 1, barycentric = TRUE), "needs the target points")
})

test_that("bad input stops with the argument's name", {
    pr <- make_problem(5L)
    a <- pr$a; a[4] <- -0.25
    expect_error(sinkhorn(a, pr$b, x = pr$x, y = pr$y), "a\\[3\\] = -0.25 is negative.*OTK_ENEGATIVE")
    x <- pr$x; x[2, 2] <- NaN
    expect_error(sinkhorn(pr$a, pr$b, x = x, y = pr$y), "x\\[2, 2\\] = NaN is not finite")
    expect_error(sinkhorn(pr$a, pr$b[-1], x = pr$x, y = pr$y), "b has length 14, expected 15")
    expect_error(sinkhorn(pr$a, 2 * pr$b, x = pr$x, y = pr$y), "OTK_EMASS")
    # Library errors are conditions of class otkit_error carrying the status.
    e <- tryCatch(sinkhorn(pr$a, 2 * pr$b, x = pr$x, y = pr$y), otkit_error = function(e) e)
    expect_s3_class(e, "otkit_error")
    expect_identical(e$status, "OTK_EMASS")
    expect_null(conditionCall(e))
    expect_error(sinkhorn(x = pr$x, y = pr$y, cost = "cosine"), "cost = \"cosine\"")
    expect_error(sinkhorn(x = pr$x, y = pr$y, schedule = "fast"), "schedule")
    expect_error(sinkhorn(x = pr$x, y = pr$y, eps = -1), "eps = -1 must be > 0")
    expect_error(sinkhorn(x = pr$x, y = pr$y, scaling = 1.5), "scaling.*OTK_EPARAM")
    expect_error(sinkhorn(x = pr$x), "y is required")
    expect_error(sinkhorn(C = matrix(1, 2, 2)), "eps is required with a cost matrix C")
    expect_error(sinkhorn(x = "a", y = pr$y), "x must be a numeric matrix")
    expect_error(sinkhorn(x = pr$x, y = pr$y, max_iter = 2.5), "max_iter = 2.5 is not an integer")
})

test_that("stopping at max_iter warns and matches the tool's exit status 3", {
    pr <- make_problem(6L)
    js <- run_otk(c("sinkhorn", pr$fx, pr$fy, "--max-iter", "2", "--tol", "1e-15"), expect = 3L)
    expect_warning(r <- sinkhorn(x = pr$x, y = pr$y, max_iter = 2, tol = 1e-15),
                   class = "otkit_convergence_warning")
    expect_identical(js$status, "not_converged")
    expect_identical(r$status, 1L)
    expect_false(r$converged)
    expect_close(r$ot_kl, js$ot_kl)
    expect_silent(sinkhorn(x = pr$x, y = pr$y, max_iter = 2, tol = 1e-15, warn = FALSE))
})

test_that("a long solve can be interrupted (R_CheckUserInterrupt inside the iterations)", {
    set.seed(7)
    x <- matrix(runif(1000), 500, 2)
    y <- matrix(runif(1000), 500, 2)
    # Without the interrupt check this runs for minutes (tol cannot be met).
    t0 <- proc.time()[["elapsed"]]
    expect_error({
        setTimeLimit(elapsed = 1, transient = TRUE)
        on.exit(setTimeLimit(elapsed = Inf), add = TRUE)
        sinkhorn(x = x, y = y, eps = 1e-3, tol = 1e-300, max_iter = 1e8L, warn = FALSE,
                 threads = 1)
    }, "time limit")
    setTimeLimit(elapsed = Inf)
    expect_lt(proc.time()[["elapsed"]] - t0, 30)
})

# Every enum's names as the C headers document them, written out by hand.
documented_names <- list(
    ground = c("sqeuclidean", "half-sqeuclidean", "euclidean", "l1", "lp", "lp-over-p"),
    reduce = c("mass", "cost", "apply", "grad"),
    grid_path = c("auto", "separable", "fft"),
    schedule = c("converge", "fixed"),
    update = c("auto", "symmetric", "alternating", "overrelaxed", "translated", "accelerated"),
    gauge = c("geomloss", "ott", "pot"),
    mesh_shape = c("square", "icosphere", "torus"),
    heat_convention = c("otkit", "solomon"),
    relative_to = c("std", "mean", "max_cost", "median"),
    sinkd_grad = c("unrolled", "envelope"),
    kd_divergence = c("kl", "reverse-kl", "js", "soft-ce"),
    map_family = c("affine", "mlp", "entropic"),
    activation = c("gelu", "tanh"),
    optimizer = c("auto", "bfgs", "adam"),
    lambda_schedule = c("constant", "warmup"),
    lr_schedule = c("constant", "cosine"),
    fdiv_kind = c("kl", "reverse-kl", "jeffreys", "js", "tv", "hellinger", "pearson", "neyman",
                  "alpha", "custom"),
    reduction_kind = c("mean", "sum", "none"),
    binning = c("quantile", "equal-width", "edges"),
    directions = c("gaussian", "halton"),
    stage = c("clusters", "annealing", "target"))

test_that("names come from the library's tables and round-trip", {
    for (kind in names(documented_names)) {
        expect_identical(otkit:::.otk_names(kind), documented_names[[kind]])
        for (k in seq_along(documented_names[[kind]]))
            expect_identical(otkit:::.otk_choice(documented_names[[kind]][k], kind, "arg"), k - 1L)
        expect_error(otkit:::.otk_choice("nope", kind, "arg"),
                     paste0("arg = \"nope\" is not one of ",
                            paste0("\"", documented_names[[kind]], "\"", collapse = ", ")),
                     fixed = TRUE)
    }
    expect_error(otkit:::.otk_names("colour"), "unknown enum kind \"colour\"; valid: ground",
                 fixed = TRUE)
})

test_that("unknown names list the valid ones", {
    pr <- make_problem()
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, schedule = "conv"),
                 "schedule = \"conv\" is not one of \"converge\", \"fixed\"", fixed = TRUE)
    expect_error(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, cost = "manhattan"),
                 "unknown ground cost \"manhattan\"; valid: sqeuclidean, half-sqeuclidean",
                 fixed = TRUE)
    z <- matrix(rnorm(6), 2, 3)
    expect_error(kd_loss("rkl", z, z), "is not one of \"kl\", \"reverse-kl\"", fixed = TRUE)
})

test_that("the result reports the update rule that ran", {
    pr <- make_problem()
    expect_identical(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, warn = FALSE)$update,
                     "accelerated")
    expect_identical(sinkhorn(pr$a, pr$b, x = pr$x, y = pr$y, schedule = "fixed",
                              warn = FALSE)$update,
                     "symmetric")
})
