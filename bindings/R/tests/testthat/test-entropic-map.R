# entropic_map_fit / entropic_map_apply against `otk entropic-map` (its CSV),
# the barycentric projection of sinkhorn()'s plan on the training points, and
# the closed form T(z) = sum_j b_j e^{(g_j - c(z, y_j))/eps} y_j / (same
# without y_j) out of sample; round trips through entropic_map_data().

otk_csv_out <- function(args) {
    out <- suppressWarnings(system2(otk_tool(), args, stdout = TRUE, stderr = FALSE))
    st <- attr(out, "status")
    if (!is.null(st) && st != 0L) stop("otk ", paste(args, collapse = " "), " exited with ", st)
    m <- as.matrix(utils::read.csv(text = paste(out, collapse = "\n"), header = FALSE,
                                   comment.char = "#"))
    dimnames(m) <- NULL
    m
}

test_that("entropic_map_fit + apply match otk entropic-map", {
    pr <- make_problem(21L)
    set.seed(22)
    z <- matrix(rnorm(18), 6, 3)
    fz <- write_csv(file.path(pr$dir, "z.csv"), z)
    ref <- otk_csv_out(c("entropic-map", pr$fx, pr$fy, fz, "--a", pr$fa, "--b", pr$fb,
                         "--eps", "0.5", "--tol", "1e-9"))
    T <- entropic_map_fit(pr$x, pr$y, pr$a, pr$b, eps = 0.5, tol = 1e-9)
    expect_s3_class(T, "otkit_entropic_map")
    expect_equal(T$dim, 3L)
    expect_equal(dim(ref), c(6L, 3L))
    expect_close(entropic_map_apply(T, z), ref, rtol = 1e-12)
    expect_identical(predict(T, z), entropic_map_apply(T, z))
    ref <- otk_csv_out(c("entropic-map", pr$fx, pr$fy, fz, "--blur", "0.7",
                         "--cost", "half-sqeuclidean"))
    T <- entropic_map_fit(pr$x, pr$y, blur = 0.7, cost = "half-sqeuclidean")
    expect_equal(T$eps, 0.49, tolerance = 1e-15)
    expect_close(predict(T, z), ref, rtol = 1e-12)
})

test_that("on the training points the map is sinkhorn's barycentric projection", {
    pr <- make_problem(23L)
    T <- entropic_map_fit(pr$x, pr$y, pr$a, eps = 0.2, tol = 1e-12, max_iter = 100000L)
    r <- sinkhorn(pr$a, NULL, x = pr$x, y = pr$y, eps = 0.2, tol = 1e-12, max_iter = 100000L,
                  plan = TRUE)
    expect_lte(max(abs(predict(T, pr$x) - (r$plan %*% pr$y) / pr$a)), 1e-8)
})

test_that("out of sample: the closed form with the stored y, b, g, eps", {
    pr <- make_problem(24L)
    T <- entropic_map_fit(pr$x, pr$y, eps = 0.3)
    d <- entropic_map_data(T)
    expect_identical(d$cost, "sqeuclidean")
    expect_identical(d$status, 0L)
    set.seed(25)
    z <- matrix(rnorm(12), 4, 3)
    C <- outer(rowSums(z^2), rowSums(d$y^2), "+") - 2 * z %*% t(d$y)
    L <- sweep(-C, 2L, d$g, "+") / d$eps
    L <- sweep(L, 2L, log(d$b), "+")
    W <- exp(L - apply(L, 1L, max))
    expect_close(predict(T, z), (W %*% d$y) / rowSums(W), rtol = 1e-12)
    # one point as a vector of d coordinates
    expect_equal(entropic_map_apply(T, z[2, ]), predict(T, z)[2, , drop = FALSE])
})

test_that("entropic_map_from_data(entropic_map_data(T)) applies bitwise alike", {
    pr <- make_problem(26L)
    T <- entropic_map_fit(pr$x, pr$x + 1, blur = 0.5, cost = "half-sqeuclidean")
    U <- do.call(entropic_map_from_data, entropic_map_data(T))
    expect_identical(predict(U, pr$y), predict(T, pr$y))
    expect_identical(U$cost, "half-sqeuclidean")
    expect_equal(U$eps, 0.25)
})

test_that("bad entropic map input is an error naming the argument", {
    pr <- make_problem(27L)
    expect_error(entropic_map_fit(pr$x, matrix(1, 5, 2)), "y has 2 columns but x has 3")
    T <- entropic_map_fit(pr$x, pr$x + 1, eps = 0.5)
    expect_error(predict(T, matrix(1, 3, 2)), "z has 2 columns, the map's dimension is 3")
    z <- matrix(0, 2, 3)
    z[2, 1] <- Inf
    expect_error(predict(T, z), "z\\[2, 1\\] = Inf is not finite")
    expect_error(entropic_map_fit(pr$x, pr$x, eps = 1, blur = 1), "eps and blur exclude")
    expect_error(entropic_map_fit(pr$x, pr$x, cost = "cosine"), "cost = \"cosine\"")
    expect_error(entropic_map_apply(list(), z), "map must be an otkit entropic map")
    expect_warning(entropic_map_fit(pr$x, pr$y, eps = 0.01, max_iter = 2L),
                   class = "otkit_convergence_warning")
})

test_that("relative_eps and scale_cost match otk entropic-map's", {
    pr <- make_problem(26L)
    set.seed(27)
    z <- matrix(rnorm(12), 4, 3)
    fz <- write_csv(file.path(pr$dir, "z.csv"), z)
    ref <- otk_csv_out(c("entropic-map", pr$fx, pr$fy, fz, "--relative-eps", "0.05",
                         "--relative-to", "median", "--tol", "1e-10"))
    T <- entropic_map_fit(pr$x, pr$y, relative_eps = 0.05, relative_to = "median", tol = 1e-10)
    C <- outer(rowSums(pr$x^2), rowSums(pr$y^2), "+") - 2 * pr$x %*% t(pr$y)
    expect_equal(T$eps, 0.05 * stats::median(C), tolerance = 1e-12)
    expect_close(predict(T, z), ref, rtol = 1e-12)
    ref <- otk_csv_out(c("entropic-map", pr$fx, pr$fy, fz, "--eps", "0.1", "--scale-cost",
                         "2.5", "--tol", "1e-10"))
    T <- entropic_map_fit(pr$x, pr$y, eps = 0.1, scale_cost = 2.5, tol = 1e-10)
    expect_equal(T$eps, 0.25, tolerance = 1e-15)
    expect_close(predict(T, z), ref, rtol = 1e-12)
    expect_error(entropic_map_fit(pr$x, pr$y, eps = 0.1, relative_eps = 0.05),
                 "eps and relative_eps")
})
