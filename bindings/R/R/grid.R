# Regular grids (otkit/grid.h), meshes and graphs (otkit/mesh.h), sparse
# costs (otkit/sparse.h) and barycenters (otkit/barycenter.h); the Python
# package's otkit._grid with the same argument names and defaults.
#
# A histogram on a grid is an R vector (1-D), matrix (2-D) or 3-D array.  R
# stores arrays column-major, which is the row-major layout of the grid with
# the axes reversed: the C layer gets the shape and spacing reversed and reads
# the values in place (src/r_cost.c).

.otk_image <- function(v, argname) {
    if (is.data.frame(v)) v <- as.matrix(v)
    if (!is.numeric(v) || !length(v))
        .otk_stop(argname, " must be a non-empty numeric vector, matrix or 3-D array ",
                  "(a histogram on the grid)")
    nd <- if (is.null(dim(v))) 1L else length(dim(v))
    if (nd > 3L)
        .otk_stop(argname, " must be a vector, matrix or 3-D array (a histogram on the ",
                  "grid), got ", nd, " dimensions")
    storage.mode(v) <- "double"
    .otk_histogram_entries(v, argname)
}

# Non-finite or negative entries named in R's own (1-based) terms.
.otk_histogram_entries <- function(v, argname) {
    bad <- !is.finite(v) | v < 0
    if (any(bad)) {
        k <- which(bad)[1L]
        at <- if (is.null(dim(v))) k else paste(arrayInd(k, dim(v)), collapse = ", ")
        .otk_stop(argname, "[", at, "] = ", format(v[k]),
                  if (is.finite(v[k])) " is negative" else " is not finite")
    }
    v
}

.otk_shape <- function(v) if (is.null(dim(v))) length(v) else dim(v)

.otk_same_shape <- function(b, shape, argname) {
    if (!identical(as.integer(.otk_shape(b)), as.integer(shape)))
        .otk_stop(argname, " has shape (", paste(.otk_shape(b), collapse = ", "),
                  "), expected (", paste(shape, collapse = ", "), ") (the grid of a)")
}

# spacing NULL: 1/(N_k - 1) on each axis k of N_k cells (POT's
# convolutional_barycenter2d grid, linspace(0, 1, N_k) per axis, as the
# Python package and `otk grid`); a number for every axis, or one per axis.
.otk_grid_spec <- function(shape, spacing, cost, path, fft_tol) {
    D <- length(shape)
    if (is.null(spacing)) {
        sp <- ifelse(shape > 1L, 1 / (shape - 1), 1)
    } else {
        if (!is.numeric(spacing) || !(length(spacing) %in% c(1L, D)))
            .otk_stop("spacing has ", length(spacing), " entries, expected 1 or ", D,
                      " (one per axis)")
        sp <- rep_len(as.double(spacing), D)
        if (anyNA(sp) || any(!is.finite(sp)) || any(sp <= 0))
            .otk_stop("spacing = ", deparse(spacing)[1L], " must be > 0 and finite")
    }
    if (!is.character(cost) || length(cost) != 1L || is.na(cost))
        .otk_stop("cost must be one string")
    list(shape = rev(as.integer(shape)), spacing = rev(sp), cost = cost,
         path = .otk_choice(path, "grid_path", "path"), fft_tol = .otk_num(fft_tol, "fft_tol"))
}

.otk_transport_opt <- function(eps, blur, scaling, tol, max_iter, threads, grad = FALSE) {
    .otk_exclusive("eps", eps, "blur", blur)
    list(eps = .otk_pos0(eps, "eps"), blur = if (is.null(blur)) 0.05 else .otk_num(blur, "blur"),
         scaling = .otk_num(scaling, "scaling"), tol = .otk_num(tol, "tol"),
         max_iter = .otk_int(max_iter, "max_iter"), threads = .otk_int(threads, "threads"),
         grad = as.integer(.otk_flag(grad, "grad")))
}

# Results: the grid fields Python promotes from stats, the shape restored.
.otk_grid_result <- function(r, shape, what, tol, max_iter, warn, err = r$marginal_error) {
    .otk_warn_not_converged(r$status, what, err, tol, max_iter, warn)
    reshape <- function(v) {
        if (!is.null(v) && length(shape) > 1L) dim(v) <- shape
        v
    }
    for (k in c("f", "g", "grad_a", "grad_b", "barycenter"))
        if (!is.null(r[[k]])) r[[k]] <- reshape(r[[k]])
    for (k in c("path", "fft_error_bound", "fft_plans"))
        if (!is.null(r$stats[[k]])) r[[k]] <- r$stats[[k]]
    r$converged <- r$status == 0L
    r
}

grid_sinkhorn <- function(a, b, spacing = NULL, cost = "sqeuclidean", eps = NULL, blur = NULL,
                          path = "auto", fft_tol = 1e-6, scaling = 0.5, tol = 1e-6,
                          max_iter = 10000L, threads = 0L, warn = TRUE) {
    .otk_flag(warn, "warn")
    opt <- .otk_transport_opt(eps, blur, scaling, tol, max_iter, threads)
    a <- .otk_image(a, "a")
    b <- .otk_image(b, "b")
    shape <- .otk_shape(a)
    .otk_same_shape(b, shape, "b")
    spec <- .otk_grid_spec(shape, spacing, cost, path, fft_tol)
    r <- .Call(otkr_cost_solve, "grid", spec, as.vector(a), as.vector(b), 0L, opt)
    .otk_grid_result(r, shape, "otkit::grid_sinkhorn", opt$tol, opt$max_iter, warn)
}

grid_divergence <- function(a, b, spacing = NULL, cost = "sqeuclidean", eps = NULL, blur = NULL,
                            path = "auto", fft_tol = 1e-6, scaling = 0.5, tol = 1e-6,
                            max_iter = 10000L, threads = 0L, grad = FALSE, warn = TRUE) {
    .otk_flag(warn, "warn")
    opt <- .otk_transport_opt(eps, blur, scaling, tol, max_iter, threads, grad)
    a <- .otk_image(a, "a")
    b <- .otk_image(b, "b")
    shape <- .otk_shape(a)
    .otk_same_shape(b, shape, "b")
    spec <- .otk_grid_spec(shape, spacing, cost, path, fft_tol)
    r <- .Call(otkr_cost_solve, "grid", spec, as.vector(a), as.vector(b), 1L, opt)
    .otk_grid_result(r, shape, "otkit::grid_divergence", opt$tol, opt$max_iter, warn)
}

# A: a list of K histograms of one shape, or an array whose last dimension
# indexes them (a matrix n x K: K histograms on a 1-D grid).  Returns the
# n x K matrix the C layer reads (column k = histogram k) and the shape.
.otk_histograms <- function(A, argname) {
    if (is.list(A) && !is.data.frame(A)) {
        if (!length(A)) .otk_stop(argname, " is an empty list")
        H <- lapply(seq_along(A), function(k) .otk_image(A[[k]], sprintf("%s[[%d]]", argname, k)))
        shape <- .otk_shape(H[[1L]])
        for (k in seq_along(H)[-1L])
            if (!identical(as.integer(.otk_shape(H[[k]])), as.integer(shape)))
                .otk_stop(argname, "[[", k, "]] has shape (",
                          paste(.otk_shape(H[[k]]), collapse = ", "), "), ", argname,
                          "[[1]] (", paste(shape, collapse = ", "), ")")
        return(list(M = matrix(unlist(H, use.names = FALSE), ncol = length(H)), shape = shape))
    }
    if (is.data.frame(A)) A <- as.matrix(A)
    d <- dim(A)
    if (!is.numeric(A) || is.null(d) || length(d) < 2L || length(d) > 4L)
        .otk_stop(argname, " must be a list of histograms or an array whose last dimension ",
                  "indexes them (n x K, or a 2-D or 3-D grid with K in the last place)")
    storage.mode(A) <- "double"
    .otk_histogram_entries(A, argname)
    shape <- d[-length(d)]
    list(M = matrix(as.vector(A), ncol = d[length(d)]), shape = shape)
}

.otk_bary_opt <- function(eps, tol, max_iter, debias, threads) {
    list(eps = .otk_num(eps, "eps"), tol = .otk_num(tol, "tol"),
         max_iter = .otk_int(max_iter, "max_iter"),
         debias = as.integer(.otk_flag(debias, "debias")), threads = .otk_int(threads, "threads"))
}

.otk_bary_weights <- function(weights, K) {
    if (is.null(weights)) return(NULL)
    if (!is.numeric(weights) || length(weights) != K)
        .otk_stop("weights has ", length(weights), " entries, expected ", K,
                  " (one per histogram)")
    as.double(weights)
}

barycenter <- function(A, weights = NULL, eps = 0.01, spacing = NULL, cost = "sqeuclidean",
                       debias = FALSE, path = "auto", fft_tol = 1e-6, tol = 1e-9,
                       max_iter = 1000L, threads = 0L, warn = TRUE) {
    .otk_flag(warn, "warn")
    opt <- .otk_bary_opt(eps, tol, max_iter, debias, threads)
    H <- .otk_histograms(A, "A")
    spec <- .otk_grid_spec(H$shape, spacing, cost, path, fft_tol)
    r <- .Call(otkr_cost_barycenter, "grid", spec, H$M, .otk_bary_weights(weights, ncol(H$M)),
               opt)
    .otk_grid_result(r, H$shape, "otkit::barycenter", opt$tol, opt$max_iter, warn, r$error)
}

# ------------------------------------------------------------------ meshes

.otk_mesh <- function(r) structure(r, class = "otkit_mesh")

mesh_read <- function(path) .otk_mesh(.Call(otkr_mesh_read, .otk_path(path)))

mesh_from_triangles <- function(V, F) {
    V <- .otk_matrix(V, "V")
    if (ncol(V) != 3L) .otk_stop("V has ", ncol(V), " columns, expected 3 (x, y, z)")
    if (!is.matrix(F) || !is.numeric(F) || ncol(F) != 3L)
        .otk_stop("F must be a k x 3 matrix of 1-based vertex indices")
    .otk_mesh(.Call(otkr_mesh_from_triangles, V, F))
}

mesh_from_graph <- function(n, edges, weights = NULL) {
    n <- .otk_num(n, "n")
    if (n < 0 || n != round(n)) .otk_stop("n = ", n, " must be a whole number >= 0")
    if (!is.matrix(edges) || !is.numeric(edges) || ncol(edges) != 2L)
        .otk_stop("edges must be a k x 2 matrix of 1-based vertex indices")
    if (!is.null(weights) && (!is.numeric(weights) || length(weights) != nrow(edges)))
        .otk_stop("weights has ", length(weights), " entries, expected ", nrow(edges),
                  " (one per edge)")
    .otk_mesh(.Call(otkr_mesh_from_graph, n, edges,
                    if (is.null(weights)) NULL else as.double(weights)))
}

mesh_generate <- function(shape = "icosphere", res = 2L) {
    res <- .otk_int(res, "res")
    if (res < 0L) .otk_stop("res = ", res, " is negative")
    .otk_mesh(.Call(otkr_mesh_generate, .otk_choice(shape, "mesh_shape", "shape"), res))
}

print.otkit_mesh <- function(x, ...) {
    if (x$is_graph) cat(sprintf("otkit mesh: graph, n = %d\n", as.integer(x$n)))
    else cat(sprintf("otkit mesh: n = %d, faces = %d, total_area = %g\n", as.integer(x$n),
                     nrow(x$faces), x$total_area))
    invisible(x)
}

.otk_mesh_spec <- function(mesh, eps, steps, convention) {
    if (!inherits(mesh, "otkit_mesh"))
        .otk_stop("mesh must be an otkit mesh (mesh_read(), mesh_from_triangles(), ",
                  "mesh_from_graph(), mesh_generate()), got ", class(mesh)[1L])
    # `otk mesh`'s default eps, (2h)^2 with h the longest edge
    list(ptr = mesh$ptr, eps = if (is.null(eps)) 4 * mesh$max_edge^2 else .otk_pos0(eps, "eps"),
         steps = .otk_int(steps, "steps"),
         convention = .otk_choice(convention, "heat_convention", "convention"))
}

.otk_vertex_weights <- function(w, n, argname) {
    w <- .otk_weights(w, n, argname)
    if (is.null(w)) .otk_stop(argname, " is required")
    .otk_histogram_entries(w, argname)
}

.otk_mesh_solve <- function(mesh, a, b, eps, steps, convention, tol, max_iter, threads, grad,
                            warn, mode, what) {
    .otk_flag(warn, "warn")
    spec <- .otk_mesh_spec(mesh, eps, steps, convention)
    opt <- .otk_transport_opt(spec$eps, NULL, 0.5, tol, max_iter, threads, grad)
    a <- .otk_vertex_weights(a, mesh$n, "a")
    b <- .otk_vertex_weights(b, mesh$n, "b")
    r <- .Call(otkr_cost_solve, "mesh", spec, a, b, mode, opt)
    .otk_grid_result(r, mesh$n, what, opt$tol, opt$max_iter, warn)
}

mesh_sinkhorn <- function(mesh, a, b, eps = NULL, steps = 10L, convention = "otkit", tol = 1e-6,
                          max_iter = 10000L, threads = 0L, warn = TRUE) {
    .otk_mesh_solve(mesh, a, b, eps, steps, convention, tol, max_iter, threads, FALSE, warn,
                    0L, "otkit::mesh_sinkhorn")
}

mesh_divergence <- function(mesh, a, b, eps = NULL, steps = 10L, convention = "otkit",
                            tol = 1e-6, max_iter = 10000L, threads = 0L, grad = FALSE,
                            warn = TRUE) {
    .otk_mesh_solve(mesh, a, b, eps, steps, convention, tol, max_iter, threads, grad, warn,
                    1L, "otkit::mesh_divergence")
}

mesh_barycenter <- function(mesh, A, weights = NULL, eps = NULL, steps = 10L,
                            convention = "otkit", debias = FALSE, tol = 1e-9, max_iter = 1000L,
                            threads = 0L, warn = TRUE) {
    .otk_flag(warn, "warn")
    spec <- .otk_mesh_spec(mesh, eps, steps, convention)
    opt <- .otk_bary_opt(spec$eps, tol, max_iter, debias, threads)
    H <- .otk_histograms(A, "A")
    if (nrow(H$M) != mesh$n)
        .otk_stop("A holds ", nrow(H$M), " values per histogram, the mesh has ", mesh$n,
                  " vertices")
    r <- .Call(otkr_cost_barycenter, "mesh", spec, H$M,
               .otk_bary_weights(weights, ncol(H$M)), opt)
    .otk_grid_result(r, mesh$n, "otkit::mesh_barycenter", opt$tol, opt$max_iter, warn, r$error)
}

# ------------------------------------------------------------------ sparse

# (n, m, colptr, rowind, values) of a CSC matrix: Matrix's dgCMatrix (slots
# p, i, x, Dim; other Matrix classes are converted when Matrix is installed),
# or list(indptr, indices, data) in CSC with 0-based indices, as scipy's.
.otk_csc <- function(C, shape) {
    if (methods::is(C, "sparseMatrix") && !methods::is(C, "dgCMatrix")) {
        # Matrix's coercions (its namespace is loaded wherever its objects are
        # made); otkit does not depend on Matrix.
        C <- tryCatch(methods::as(methods::as(methods::as(C, "CsparseMatrix"),
                                              "generalMatrix"), "dMatrix"),
                      error = function(e)
                          .otk_stop("C is a ", class(C)[1L], " that could not be converted ",
                                    "to a dgCMatrix (", conditionMessage(e), ")"))
    }
    if (methods::is(C, "dgCMatrix")) {
        d <- methods::slot(C, "Dim")
        return(list(n = d[1L], m = d[2L], colptr = as.double(methods::slot(C, "p")),
                    rowind = as.double(methods::slot(C, "i")),
                    values = as.double(methods::slot(C, "x"))))
    }
    if (!is.list(C) || length(C) != 3L)
        .otk_stop("C must be a sparse matrix (Matrix's dgCMatrix) or ",
                  "list(indptr, indices, data) in CSC with 0-based indices, got ",
                  class(C)[1L])
    idx <- function(v, name) {
        if (!is.numeric(v) || anyNA(v) || any(v < 0) || any(v != round(v)))
            .otk_stop("C: ", name, " must hold whole numbers >= 0 (0-based, as scipy's CSC)")
        as.double(v)
    }
    indptr <- idx(C[[1L]], "indptr")
    indices <- idx(C[[2L]], "indices")
    data <- C[[3L]]
    if (!is.numeric(data) || length(data) != length(indices))
        .otk_stop("C: data has ", length(data), " entries, indices ", length(indices))
    if (!all(is.finite(data))) {
        k <- which(!is.finite(data))[1L]
        .otk_stop("C: data[", k, "] = ", format(data[k]), " is not finite (a cost)")
    }
    if (length(indptr) < 2L) .otk_stop("C: indptr needs m + 1 >= 2 entries")
    if (indptr[length(indptr)] != length(indices))
        .otk_stop("C: indptr[", length(indptr) - 1L, "] = ", indptr[length(indptr)],
                  ", expected nnz = ", length(indices))
    if (is.null(shape)) {
        # every row and column needs an entry, so the pattern gives the shape
        if (!length(indices)) .otk_stop("C: indices is empty (give shape = c(n, m))")
        shape <- c(max(indices) + 1, length(indptr) - 1)
    } else if (!is.numeric(shape) || length(shape) != 2L || anyNA(shape))
        .otk_stop("shape must be c(n, m)")
    if (shape[2L] != length(indptr) - 1)
        .otk_stop("C: indptr has ", length(indptr), " entries, expected m + 1 = ", shape[2L] + 1)
    list(n = as.double(shape[1L]), m = as.double(shape[2L]), colptr = indptr, rowind = indices,
         values = as.double(data))
}

sparse_sinkhorn <- function(a, b, C, eps = NULL, blur = NULL, shape = NULL, scaling = 0.5,
                            tol = 1e-6, max_iter = 10000L, threads = 0L, warn = TRUE) {
    .otk_flag(warn, "warn")
    opt <- .otk_transport_opt(eps, blur, scaling, tol, max_iter, threads)
    spec <- .otk_csc(C, shape)
    a <- .otk_vertex_weights(a, spec$n, "a")
    b <- .otk_vertex_weights(b, spec$m, "b")
    r <- .Call(otkr_cost_solve, "sparse", spec, a, b, 0L, opt)
    .otk_grid_result(r, spec$n, "otkit::sparse_sinkhorn", opt$tol, opt$max_iter, warn)
}
