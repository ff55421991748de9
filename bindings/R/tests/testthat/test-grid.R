# Grids, meshes, graphs and sparse costs: grid_sinkhorn / grid_divergence /
# barycenter against the point-cloud solver on the grid's points, the
# `otk grid` and `otk mesh` JSON, POT's convolutional barycenters (fixtures,
# provenance in their headers) and finite differences; the graph heat kernel
# against the dense kernel built here with solve(); sparse_sinkhorn against
# the dense solver.

hist_r <- function(...) {
    h <- array(runif(prod(c(...)), 0.05, 1), dim = c(...))
    if (length(c(...)) == 1L) h <- as.vector(h)
    h / sum(h)
}

# The cells of an R array in its own (column-major) order, at (i - 1) h.
grid_points <- function(shape, h) {
    as.matrix(do.call(expand.grid, lapply(shape, function(n) (seq_len(n) - 1) * h)))
}

for (shape in list(9L, c(5L, 7L), c(3L, 4L, 3L))) {
    for (cost in c("sqeuclidean", "half-sqeuclidean", "l1")) {
        test_that(sprintf("grid_sinkhorn on (%s), %s equals sinkhorn on the grid's points",
                          paste(shape, collapse = ", "), cost), {
            set.seed(length(shape))
            a <- hist_r(shape)
            b <- hist_r(shape)
            r <- grid_sinkhorn(a, b, spacing = 0.2, cost = cost, eps = 0.05, path = "separable",
                               tol = 1e-10)
            pts <- grid_points(shape, 0.2)
            s <- sinkhorn(as.vector(a), as.vector(b), x = pts, y = pts, cost = cost,
                          eps = 0.05, tol = 1e-10)
            for (k in c("ot_kl", "ot_ent", "ot_lin"))
                expect_equal(r[[k]], s[[k]], tolerance = 1e-9)
            expect_equal(if (is.null(dim(r$f))) length(r$f) else dim(r$f), shape)
            expect_lte(max(abs(as.vector(r$f) - s$f)), 1e-8)
            expect_identical(r$path, "separable")
            expect_equal(r$fft_plans, 0)
        })
    }
}

test_that("per-axis spacing: a 2-D grid of unequal steps equals its point cloud", {
    set.seed(4)
    a <- hist_r(4L, 6L)
    b <- hist_r(4L, 6L)
    r <- grid_sinkhorn(a, b, spacing = c(0.3, 0.1), eps = 0.05, tol = 1e-10)
    pts <- as.matrix(expand.grid((0:3) * 0.3, (0:5) * 0.1))
    s <- sinkhorn(as.vector(a), as.vector(b), x = pts, y = pts, eps = 0.05, tol = 1e-10)
    expect_equal(r$ot_kl, s$ot_kl, tolerance = 1e-9)
    # transposing the images swaps the axes: the same problem with the spacing swapped
    t <- grid_sinkhorn(t(a), t(b), spacing = c(0.1, 0.3), eps = 0.05, tol = 1e-10)
    expect_equal(t$ot_kl, r$ot_kl, tolerance = 1e-9)
})

test_that("grid paths agree and report themselves", {
    set.seed(5)
    a <- hist_r(16L, 16L)
    b <- hist_r(16L, 16L)
    sep <- grid_sinkhorn(a, b, eps = 0.5, path = "separable", tol = 1e-10)
    fft <- grid_sinkhorn(a, b, eps = 0.5, path = "fft", tol = 1e-10)
    auto <- grid_sinkhorn(a, b, eps = 0.5, tol = 1e-10)
    expect_identical(fft$path, "fft")
    expect_equal(fft$fft_plans, 2)
    expect_gt(fft$stats$softmin_fft, 0)
    expect_identical(auto$path, "fft")  # C_max / eps = 4: well inside the FFT range
    expect_equal(sep$stats$softmin_fft, 0)
    expect_equal(fft$ot_kl, sep$ot_kl, tolerance = 1e-9)
    small <- grid_sinkhorn(a, b, eps = 0.005, tol = 1e-8)
    expect_identical(small$path, "separable")
    expect_gt(small$fft_error_bound, 1e-6)
})

test_that("grid_sinkhorn, grid_divergence and barycenter match otk grid", {
    set.seed(6)
    dir <- tempfile("otkr-grid")
    dir.create(dir)
    a <- hist_r(6L, 8L)
    b <- hist_r(6L, 8L)
    c3 <- hist_r(6L, 8L)
    fa <- write_csv(file.path(dir, "a.csv"), a)  # 6 rows: otk's 6 x 8 grid
    fb <- write_csv(file.path(dir, "b.csv"), b)
    fc <- write_csv(file.path(dir, "c.csv"), c3)
    js <- run_otk(c("grid", fa, fb, "--eps", "0.01", "--tol", "1e-9"))
    r <- grid_sinkhorn(a, b, eps = 0.01, tol = 1e-9)
    expect_identical(js$mode, "ot")
    expect_identical(r$path, js$path)
    for (k in c("ot_kl", "ot_ent", "ot_lin")) expect_equal(r[[k]], js[[k]], tolerance = 1e-9)
    expect_identical(r$iterations, as.integer(js$iterations))
    js <- run_otk(c("grid", fa, fb, "--eps", "0.01", "--divergence", "--tol", "1e-9"))
    d <- grid_divergence(a, b, eps = 0.01, tol = 1e-9)
    expect_equal(d$value, js$value, tolerance = 1e-9)
    out <- file.path(dir, "bar.csv")
    js <- run_otk(c("grid", fa, fb, fc, "--barycenter", "--eps", "0.01", "--weights", "1,2,1",
                    "--out", out))
    B <- barycenter(list(a, b, c3), c(1, 2, 1), eps = 0.01)
    ref <- read_csv(out)
    dimnames(ref) <- NULL
    expect_identical(B$iterations, as.integer(js$iterations))
    expect_equal(dim(B$barycenter), c(6L, 8L))
    expect_lte(max(abs(B$barycenter - ref)), 1e-12 * max(ref))
    # the same histograms as one array, the last dimension indexing them
    B2 <- barycenter(array(c(a, b, c3), c(6L, 8L, 3L)), c(1, 2, 1), eps = 0.01)
    expect_identical(B2$barycenter, B$barycenter)
})

test_that("grid_divergence's weight gradient matches finite differences", {
    set.seed(7)
    a <- hist_r(5L, 6L)
    b <- hist_r(5L, 6L)
    S <- function(a) grid_divergence(a, b, eps = 0.05, tol = 1e-13, max_iter = 100000L)$value
    d <- grid_divergence(a, b, eps = 0.05, tol = 1e-13, max_iter = 100000L, grad = TRUE)
    expect_equal(dim(d$grad_a), c(5L, 6L))
    expect_lt(abs(sum(d$grad_a)), 1e-10)
    v <- matrix(rnorm(30), 5, 6)
    v <- v - mean(v)  # along the zero-sum hyperplane
    h <- 1e-6
    fd <- (S(a + h * v) - S(a - h * v)) / (2 * h)
    expect_equal(sum(d$grad_a * v), fd, tolerance = 1e-5)
    expect_lt(abs(S(b)), 1e-12)  # S(b, b) = 0
})

pot_fixture <- function(name) {
    ref <- read_csv(test_path("fixtures", sprintf("pot_barycenter_%s_12x20.csv", name)))
    dimnames(ref) <- NULL
    ref
}

for (debias in c(FALSE, TRUE)) {
    test_that(sprintf("barycenter(debias = %s) on a 12 x 20 grid matches POT's (fixture)",
                      debias), {
        # The inputs of the fixture's header; POT's grid is linspace(0, 1, N) per
        # axis, the default spacing.
        yy <- matrix(seq(0, 1, length.out = 12L), 12L, 20L)
        xx <- matrix(seq(0, 1, length.out = 20L), 12L, 20L, byrow = TRUE)
        A1 <- exp(-((xx - 0.3)^2 + (yy - 0.3)^2) / 0.01)
        A2 <- exp(-((xx - 0.7)^2 + (yy - 0.6)^2) / 0.02)
        A <- list(A1 / sum(A1), A2 / sum(A2))
        ref <- pot_fixture(if (debias) "debiased" else "ibp")
        r <- barycenter(A, c(0.3, 0.7), eps = 0.004, debias = debias, tol = 1e-13,
                        max_iter = 5000L)
        expect_true(r$converged)
        expect_equal(dim(r$barycenter), c(12L, 20L))
        expect_equal(r$mass, 1, tolerance = 1e-9)
        expect_lte(max(abs(r$barycenter - ref)), (if (debias) 1e-9 else 1e-12) * max(ref))
    })
}

test_that("the debiased barycenter of identical inputs is the input", {
    set.seed(8)
    a <- hist_r(8L, 8L)
    r <- barycenter(list(a, a), eps = 0.01, debias = TRUE, tol = 1e-12, max_iter = 5000L)
    expect_lte(max(abs(r$barycenter - a)), 1e-6 * max(a))
})

test_that("bad grid input is an error naming the argument", {
    set.seed(9)
    a <- hist_r(4L, 5L)
    expect_error(grid_sinkhorn(a, hist_r(5L, 4L), eps = 0.1),
                 "b has shape \\(5, 4\\), expected \\(4, 5\\)")
    expect_error(grid_sinkhorn(a, a, cost = "euclidean", eps = 0.1), "cost")
    expect_error(grid_sinkhorn(a, a, path = "fast", eps = 0.1), "path = \"fast\" is not one of")
    expect_error(grid_sinkhorn(a, a, spacing = c(0.1, 0.1, 0.1), eps = 0.1),
                 "spacing has 3 entries, expected 1 or 2")
    expect_error(grid_sinkhorn(a, a, spacing = -1, eps = 0.1), "spacing = -1 must be > 0")
    expect_error(grid_sinkhorn(a, a, eps = 0.1, blur = 0.1), "eps and blur exclude each other")
    bad <- a
    bad[2, 3] <- -0.5
    expect_error(grid_sinkhorn(bad, a, eps = 0.1), "a\\[2, 3\\] = -0.5 is negative")
    bad[2, 3] <- NaN
    expect_error(grid_sinkhorn(a, bad, eps = 0.1), "b\\[2, 3\\] = NaN is not finite")
    expect_error(grid_sinkhorn(array(1 / 16, c(2, 2, 2, 2)), array(1 / 16, c(2, 2, 2, 2))),
                 "got 4 dimensions")
    expect_error(barycenter(list(a, 2 * a), eps = 0.1), "A", class = "otkit_error")
    expect_error(barycenter(list(a, a), c(1, 1, 1), eps = 0.1),
                 "weights has 3 entries, expected 2")
    expect_error(barycenter(list(a, t(a)), eps = 0.1), "A\\[\\[2\\]\\] has shape \\(5, 4\\)")
})

# ------------------------------------------------------------------ meshes

write_off <- function(path, V, F) {
    lines <- c("OFF", sprintf("%d %d 0", nrow(V), nrow(F)),
               apply(V, 1L, function(v) paste(sprintf("%.17g", v), collapse = " ")),
               apply(F - 1L, 1L, function(f) paste(c(3L, f), collapse = " ")))
    writeLines(lines, path)
    path
}

test_that("mesh_generate and the mesh's properties", {
    m <- mesh_generate("icosphere", 2L)
    expect_equal(m$n, 162)
    expect_equal(dim(m$faces), c(320L, 3L))
    expect_equal(dim(m$vertices), c(162L, 3L))
    expect_equal(range(m$faces), c(1L, 162L))  # 1-based
    expect_equal(sum(m$areas), m$total_area, tolerance = 1e-14)
    # the inscribed polyhedron's area approaches 4 pi from below
    expect_gt(m$total_area, 0.95 * 4 * pi)
    expect_lt(m$total_area, 4 * pi)
    m2 <- mesh_from_triangles(m$vertices, m$faces)
    expect_identical(m2$areas, m$areas)
    sq <- mesh_generate("square", 4L)
    expect_equal(sq$n, 25)
    expect_equal(sq$total_area, 1, tolerance = 1e-14)
    expect_false(sq$is_graph)
})

test_that("mesh_read, mesh_sinkhorn and mesh_divergence match otk mesh", {
    set.seed(10)
    m <- mesh_generate("icosphere", 1L)
    dir <- tempfile("otkr-mesh")
    dir.create(dir)
    path <- write_off(file.path(dir, "s.off"), m$vertices, m$faces)
    r <- mesh_read(path)
    expect_equal(r$n, m$n)
    expect_equal(r$total_area, m$total_area, tolerance = 1e-14)
    a <- hist_r(m$n)
    b <- hist_r(m$n)
    fa <- write_csv(file.path(dir, "a.csv"), matrix(a, ncol = 1L))
    fb <- write_csv(file.path(dir, "b.csv"), matrix(b, ncol = 1L))
    js <- run_otk(c("mesh", path, fa, fb, "--tol", "1e-9"))
    s <- mesh_sinkhorn(r, a, b, tol = 1e-9)
    expect_equal(s$eps, js$eps, tolerance = 1e-14)
    for (k in c("ot_kl", "ot_ent", "ot_lin")) expect_equal(s[[k]], js[[k]], tolerance = 1e-9)
    expect_identical(s$iterations, as.integer(js$iterations))
    expect_equal(s$stats$factorisations, 1)
    js <- run_otk(c("mesh", path, fa, fb, "--divergence", "--eps", "0.05", "--steps", "20",
                    "--t-convention", "solomon", "--tol", "1e-9"))
    d <- mesh_divergence(r, a, b, eps = 0.05, steps = 20L, convention = "solomon", tol = 1e-9,
                         grad = TRUE)
    expect_equal(d$value, js$divergence, tolerance = 1e-9)
    expect_equal(d$stats$t, js$t)
    expect_length(d$grad_a, m$n)
})

test_that("mesh_barycenter with weights (1, 0), debiased, is the first input", {
    set.seed(11)
    m <- mesh_generate("square", 6L)
    a <- hist_r(m$n)
    b <- hist_r(m$n)
    r <- mesh_barycenter(m, cbind(a, b), c(1, 0), eps = 0.02, debias = TRUE, tol = 1e-12,
                         max_iter = 5000L)
    expect_length(r$barycenter, m$n)
    expect_equal(r$mass, 1, tolerance = 1e-9)
    expect_lte(max(abs(r$barycenter - a) / a), 1e-5)
})

test_that("a graph's heat kernel: mesh_sinkhorn equals sinkhorn on -eps log K built densely", {
    set.seed(12)
    n <- 8L
    edges <- cbind(1:n, c(2:n, 1L))  # a cycle
    w <- runif(n, 1, 3)
    g <- mesh_from_graph(n, edges, w)
    expect_true(g$is_graph)
    expect_null(g$vertices)
    expect_null(g$faces)
    expect_identical(g$areas, rep(1, n))
    # otkit/mesh.h: L = D - W, unit masses, K = [(I + h L)^-1]^steps with
    # h = t / steps and t = eps / 4 (the "otkit" convention)
    W <- matrix(0, n, n)
    W[edges] <- w
    W <- W + t(W)
    L <- diag(rowSums(W)) - W
    eps <- 0.5
    steps <- 10L
    M <- solve(diag(n) + (eps / 4 / steps) * L)
    K <- diag(n)
    for (s in seq_len(steps)) K <- K %*% M
    a <- hist_r(n)
    b <- hist_r(n)
    s <- mesh_sinkhorn(g, a, b, eps = eps, steps = steps, tol = 1e-11)
    ref <- sinkhorn(a, b, C = -eps * log(K), eps = eps, no_annealing = TRUE, tol = 1e-11)
    for (k in c("ot_kl", "ot_ent", "ot_lin")) expect_equal(s[[k]], ref[[k]], tolerance = 1e-9)
    expect_gt(mesh_divergence(g, a, b, eps = eps, tol = 1e-9)$value, 0)
})

test_that("bad mesh input is an error naming the argument", {
    V <- rbind(c(0, 0, 0), c(1, 0, 0), c(0, 1, 0), c(1, 1, 0))
    e <- tryCatch(mesh_from_triangles(V, rbind(c(1, 2, 3), c(2, 8, 3))), error = identity)
    expect_identical(e$status, "OTK_ERANGE")
    expect_match(conditionMessage(e), "face 1")
    e <- tryCatch(mesh_from_triangles(V, rbind(c(1, 2, 2))), error = identity)
    expect_identical(e$status, "OTK_EDEGENERATE")
    e <- tryCatch(mesh_from_triangles(V, rbind(c(1, 2, 3))), error = identity)  # vertex 4 unused
    expect_identical(e$status, "OTK_EDISCONNECTED")
    expect_error(mesh_from_triangles(V, rbind(c(1, 2))), "F must be a k x 3 matrix")
    expect_error(mesh_from_triangles(V, rbind(c(1, 0, 3))),
                 "F\\[1, 2\\] = 0 is not an index")
    expect_error(mesh_from_triangles(V, rbind(c(1, 2.5, 3))),
                 "F\\[1, 2\\] = 2.5 is not an index")
    expect_error(mesh_from_graph(3, rbind(c(1, 2), c(2, 3)), 1),
                 "weights has 1 entries, expected 2")
    expect_error(mesh_read(file.path(tempdir(), "no-such-mesh.off")), class = "otkit_error")
    expect_error(mesh_generate("cube", 2L), "shape = \"cube\" is not one of")
    m <- mesh_generate("square", 2L)
    expect_error(mesh_sinkhorn(m, rep(1 / 9, 9), rep(1 / 8, 8)), "b has length 8, expected 9")
    expect_error(mesh_sinkhorn(m, rep(1 / 9, 9), rep(1 / 9, 9), convention = "x"),
                 "convention = \"x\" is not one of")
    expect_error(mesh_sinkhorn("mesh.off", rep(1 / 9, 9), rep(1 / 9, 9)),
                 "mesh must be an otkit mesh")
})

# ------------------------------------------------------------------ sparse

csc <- function(C, keep = matrix(TRUE, nrow(C), ncol(C))) {
    list(indptr = c(0, cumsum(colSums(keep))), indices = row(C)[keep] - 1, data = C[keep])
}

test_that("sparse_sinkhorn on a full pattern equals the dense solver", {
    set.seed(13)
    n <- 7L
    m <- 5L
    C <- matrix(runif(n * m, 0.1, 2), n, m)
    a <- hist_r(n)
    b <- hist_r(m)
    dense <- sinkhorn(a, b, C = C, eps = 0.1, tol = 1e-11)
    r <- sparse_sinkhorn(a, b, csc(C), eps = 0.1, tol = 1e-11)
    expect_equal(r$stats$nnz, n * m)
    for (k in c("ot_kl", "ot_ent", "ot_lin")) expect_equal(r[[k]], dense[[k]], tolerance = 1e-10)
    expect_lte(max(abs(r$f - dense$f)), 1e-9)
    r2 <- sparse_sinkhorn(a, b, csc(C), shape = c(n, m), eps = 0.1, tol = 1e-11)
    expect_identical(r2$ot_kl, r$ot_kl)
})

test_that("sparse_sinkhorn reads Matrix's sparse matrices", {
    skip_if_not_installed("Matrix")  # optional: otkit does not depend on it
    set.seed(15)
    C <- matrix(runif(35, 0.1, 2), 7, 5)
    C[C > 1.5 & row(C) != col(C)] <- 0  # a pattern (the diagonal keeps every row and column)
    a <- hist_r(7L)
    b <- hist_r(5L)
    as_sparse <- utils::getFromNamespace("Matrix", "Matrix")
    ref <- sparse_sinkhorn(a, b, csc(C, C != 0), eps = 0.1, tol = 1e-11)
    M <- as_sparse(C, sparse = TRUE)
    for (M in list(M, methods::as(M, "TsparseMatrix"))) {  # dgCMatrix, then converted
        r <- sparse_sinkhorn(a, b, M, eps = 0.1, tol = 1e-11)
        expect_identical(r$ot_kl, ref$ot_kl)
    }
})

test_that("the sparsity pattern is a hard constraint (dense with a large cost outside)", {
    set.seed(14)
    n <- 6L
    C <- matrix(runif(n * n, 0.1, 1), n, n)
    keep <- abs(row(C) - col(C)) <= 1  # tridiagonal
    a <- b <- rep(1 / n, n)
    r <- sparse_sinkhorn(a, b, csc(C, keep), eps = 0.1, tol = 1e-10)
    big <- sinkhorn(a, b, C = ifelse(keep, C, 1e3), eps = 0.1, tol = 1e-10)
    expect_equal(r$ot_lin, big$ot_lin, tolerance = 1e-9)
})

test_that("bad sparse input is an error naming the argument", {
    C <- csc(matrix(c(1, 0, 0, 0), 2, 2), matrix(c(TRUE, FALSE, FALSE, FALSE), 2, 2))
    e <- tryCatch(sparse_sinkhorn(c(0.5, 0.5), c(0.5, 0.5), C, shape = c(2, 2), eps = 0.1),
                  error = identity)
    expect_identical(e$status, "OTK_EEMPTY")  # row 2 and column 2 hold no entry
    expect_match(conditionMessage(e), "^otkit: C \\(CSC: ")
    expect_error(sparse_sinkhorn(c(0.5, 0.5), c(0.5, 0.5), list(c(0, 1, 2), c(0, 3), c(1, 1)),
                                 shape = c(2, 2), eps = 0.1),
                 "C \\(CSC: .*rowind\\[1\\] = 3 \\(column 1\\) is >= n = 2")
    expect_error(sparse_sinkhorn(c(0.5, 0.5), c(0.5, 0.5), list(c(0, 1), 0, 1), shape = c(2, 2),
                                 eps = 0.1), "indptr has 2 entries, expected m \\+ 1 = 3")
    expect_error(sparse_sinkhorn(c(0.5, 0.5), c(0.5, 0.5), list(c(0, 2, 3), c(0, 1, 2), c(1, 1, 1)),
                                 eps = 0.1), "a has length 2, expected 3")
    expect_error(sparse_sinkhorn(c(0.5, 0.5), c(0.5, 0.5), list(c(0, 1, 2), c(0, 1), c(1, NaN)),
                                 shape = c(2, 2), eps = 0.1), "data\\[2\\] = NaN is not finite")
    expect_error(sparse_sinkhorn(c(0.5, 0.5), c(0.5, 0.5), diag(2), eps = 0.1), "C must be")
})
