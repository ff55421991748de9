# Exact optimal transport (network simplex), 1-D and sliced Wasserstein
# distances (otkit/emd.h, otkit/sliced.h; docs/exact.md).

emd <- function(a = NULL, b = NULL, C = NULL, x = NULL, y = NULL, cost = "sqeuclidean",
                power = NULL, max_iter = 0, mass_tol = 1e-9, warn = TRUE) {
    if (is.null(C) == (is.null(x) || is.null(y)))
        .otk_stop("give either a cost matrix C or two point clouds x and y")
    if (!is.null(C) && (!is.null(x) || !is.null(y)))
        .otk_stop("C excludes x and y")
    max_iter <- .otk_num(max_iter, "max_iter")
    if (max_iter < 0 || max_iter != round(max_iter))
        .otk_stop("max_iter = ", max_iter, " must be a whole number >= 0 (0: no cap)")
    mass_tol <- .otk_num(mass_tol, "mass_tol")
    if (!(mass_tol >= 0)) .otk_stop("mass_tol = ", mass_tol, " must be >= 0")
    if (!is.null(C)) {
        C <- .otk_matrix(C, "C")
        n <- nrow(C)
        m <- ncol(C)
    } else {
        x <- .otk_points(x, "x")
        y <- .otk_points(y, "y")
        n <- nrow(x)
        m <- nrow(y)
    }
    opt <- list(max_iter = max_iter, mass_tol = mass_tol,
                power = if (is.null(power)) 0 else .otk_num(power, "power"))
    r <- .Call(otkr_emd, C, x, y, .otk_weights(a, n, "a"), .otk_weights(b, m, "b"), cost, opt)
    if (isTRUE(warn) && r$status == 1L) {
        cond <- simpleWarning(sprintf(paste0("the network simplex stopped at max_iter = %d ",
                                             "pivots before optimality: the plan may not ",
                                             "meet the marginals"), as.integer(max_iter)),
                              call = sys.call())
        class(cond) <- c("otkit_convergence_warning", class(cond))
        warning(cond)
    }
    r
}

emd2 <- function(a = NULL, b = NULL, C = NULL, x = NULL, y = NULL, cost = "sqeuclidean",
                 power = NULL, max_iter = 0, mass_tol = 1e-9, warn = TRUE) {
    emd(a, b, C, x, y, cost, power, max_iter, mass_tol, warn)$value
}

.otk_line <- function(v, argname) {
    if (!is.numeric(v) || (!is.null(dim(v)) && min(dim(v)) > 1L))
        .otk_stop(argname, " must be a numeric vector")
    v <- as.double(v)
    if (!length(v)) .otk_stop(argname, " is empty")
    bad <- which(!is.finite(v))
    if (length(bad)) .otk_stop(argname, "[", bad[1L], "] = ", format(v[bad[1L]]), " is not finite")
    v
}

wasserstein_1d <- function(u_values, v_values, u_weights = NULL, v_weights = NULL, p = 1,
                           grad = FALSE) {
    u <- .otk_line(u_values, "u_values")
    v <- .otk_line(v_values, "v_values")
    .Call(otkr_wasserstein_1d, u, v, .otk_weights(u_weights, length(u), "u_weights"),
          .otk_weights(v_weights, length(v), "v_weights"),
          list(p = .otk_num(p, "p"), grad = as.integer(.otk_flag(grad, "grad"))))
}

sliced_wasserstein <- function(X, Y, a = NULL, b = NULL, p = 2, n_projections = 50L,
                               seed = 0, directions = "gaussian", projections = NULL,
                               grad = FALSE) {
    X <- .otk_points(X, "X")
    Y <- .otk_points(Y, "Y")
    if (ncol(X) != ncol(Y))
        .otk_stop("X has ", ncol(X), " columns and Y ", ncol(Y), ": the same dimension is needed")
    n_projections <- .otk_int(n_projections, "n_projections")
    if (n_projections < 1L) .otk_stop("n_projections = ", n_projections, " must be >= 1")
    seed <- .otk_num(seed, "seed")
    if (seed < 0 || seed != round(seed)) .otk_stop("seed = ", seed, " must be a whole number >= 0")
    if (!is.null(projections)) projections <- .otk_matrix(projections, "projections")
    opt <- list(p = .otk_num(p, "p"), n_projections = n_projections, seed = seed,
                directions = .otk_choice(directions, "directions", "directions"),
                grad = as.integer(.otk_flag(grad, "grad")))
    .Call(otkr_sliced, X, Y, .otk_weights(a, nrow(X), "a"), .otk_weights(b, nrow(Y), "b"),
          projections, opt)
}
