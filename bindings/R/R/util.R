# Argument checking and conversions shared by the wrappers.  The C layer
# (src/) transposes R's column-major matrices to otkit's row-major layout;
# here we only make sure that what reaches it has the right type and names
# the argument when it does not.

.otk_stop <- function(...) stop(paste0(...), call. = FALSE)

# The library's names of the enum `kind` ("schedule", "update", "gauge", ...;
# otkit/names.h lists the kinds), in value order: the one table that the C
# library, the otk tool and the Python package read too.
.otk_names <- function(kind) .Call(otkr_names, kind)

# The C value (0-based) of `value`, a name of the library's enum `kind`.
.otk_choice <- function(value, kind, argname) {
    names <- .otk_names(kind)
    if (!is.character(value) || length(value) != 1L || is.na(value) ||
        !(value %in% names))
        .otk_stop(argname, " = ", deparse(value)[1L], " is not one of ",
                  paste0("\"", names, "\"", collapse = ", "))
    match(value, names) - 1L
}

.otk_num <- function(value, argname) {
    if (!is.numeric(value) || length(value) != 1L || is.na(value))
        .otk_stop(argname, " = ", deparse(value)[1L], " is not a number")
    as.double(value)
}

# NULL -> 0 (the C library's "not set"), else a number > 0.
# Two alternative arguments (eps or blur, rho or reach): NULL is "not given",
# so both given is an error naming both, even at the other's default value.
.otk_exclusive <- function(name_a, a, name_b, b) {
    if (!is.null(a) && !is.null(b))
        .otk_stop(name_a, " and ", name_b, " exclude each other: give one")
}

# A cost given as numbers (a matrix) has no exponent: blur (eps = blur^p) and
# reach (rho = reach^p) need p, else they would silently mean eps and rho.
.otk_matrix_exponent <- function(eps, blur, reach, p, what = "a cost matrix C",
                                 relative_eps = NULL) {
    if (!is.null(p)) return(invisible(NULL))
    if (!is.null(blur))
        .otk_stop("blur and p: with ", what, " blur needs the exponent p (eps = blur^p; ",
                  "p = 2 for squared distances), or give eps in cost units")
    if (!is.null(reach))
        .otk_stop("reach and p: with ", what, " reach needs the exponent p (rho = reach^p), ",
                  "or give rho in cost units")
    if (is.null(eps) && is.null(relative_eps))
        .otk_stop("eps is required with ", what, " (cost units; or blur with p, eps = blur^p)")
}

# p, with its former name exponent (same meaning) accepted with a warning.
.otk_exponent <- function(p, exponent) {
    if (is.null(exponent)) return(p)
    .otk_exclusive("p", p, "exponent", exponent)
    warning("exponent is deprecated: p is the cost's exponent in every otkit function ",
            "(give p)", call. = FALSE)
    exponent
}

.otk_pos0 <- function(value, argname) {
    if (is.null(value)) return(0)
    v <- .otk_num(value, argname)
    if (!(v > 0)) .otk_stop(argname, " = ", format(value), " must be > 0 (or NULL)")
    v
}

.otk_int <- function(value, argname) {
    if (!is.numeric(value) || length(value) != 1L || is.na(value) ||
        value != round(value) || abs(value) > .Machine$integer.max)
        .otk_stop(argname, " = ", deparse(value)[1L], " is not an integer")
    as.integer(value)
}

.otk_flag <- function(value, argname) {
    if (!is.logical(value) || length(value) != 1L || is.na(value))
        .otk_stop(argname, " must be TRUE or FALSE")
    value
}

# Points: an n x d numeric matrix (a data frame is converted; a vector is n
# points on the line).  Returns a double matrix.
.otk_points <- function(x, argname) {
    if (is.null(x)) .otk_stop(argname, " is required")
    if (is.data.frame(x)) x <- as.matrix(x)
    if (is.null(dim(x))) {
        if (!is.numeric(x)) .otk_stop(argname, " must be a numeric matrix (points in rows)")
        x <- matrix(as.double(x), ncol = 1L)
    }
    if (length(dim(x)) != 2L || !is.numeric(x))
        .otk_stop(argname, " must be a numeric matrix (points in rows)")
    if (nrow(x) == 0L || ncol(x) == 0L)
        .otk_stop(argname, " is empty (", nrow(x), " x ", ncol(x), ")")
    storage.mode(x) <- "double"
    .otk_finite(x, argname)
}

# The C layer sees a row-major copy, so the library would report a flat
# row-major index; name the entry in R's own terms instead.
.otk_finite <- function(x, argname) {
    if (!all(is.finite(x))) {
        ij <- which(!is.finite(x), arr.ind = TRUE)[1L, ]
        .otk_stop(argname, "[", ij[1L], ", ", ij[2L], "] = ", format(x[ij[1L], ij[2L]]),
                  " is not finite")
    }
    x
}

.otk_matrix <- function(C, argname) {
    if (is.data.frame(C)) C <- as.matrix(C)
    if (!is.matrix(C) || !is.numeric(C))
        .otk_stop(argname, " must be a numeric matrix")
    storage.mode(C) <- "double"
    .otk_finite(C, argname)
}

# Weights: NULL (uniform) or a numeric vector of length n.
.otk_weights <- function(w, n, argname) {
    if (is.null(w)) return(NULL)
    if (!is.numeric(w) || (!is.null(dim(w)) && min(dim(w)) > 1L))
        .otk_stop(argname, " must be a numeric vector")
    if (length(w) != n)
        .otk_stop(argname, " has length ", length(w), ", expected ", n)
    as.double(w)
}


.otk_warn_not_converged <- function(status, what, err, tol, max_iter, warn) {
    if (isTRUE(warn) && status == 1L) {
        msg <- sprintf(paste0("%s did not converge: marginal error %.3g > tol = %g after ",
                              "max_iter = %d iterations at the target eps (the best ",
                              "iterate is returned)"), what, err, tol, max_iter)
        cond <- simpleWarning(msg, call = sys.call(-1L))
        class(cond) <- c("otkit_convergence_warning", class(cond))
        warning(cond)
    }
    invisible(NULL)
}

#' The version of the linked otkit C library
#'
#' @return A string such as "0.1.0".
#' @export
otk_version <- function() .Call(otkr_version)

.otk_cache_mb <- function(v) {
    v <- .otk_num(v, "cache_mb")
    if (!(v >= 0 && v <= 1048576)) .otk_stop("cache_mb = ", v, " must be in [0, 1048576] (MiB)")
    v
}

# The C library's relative_eps, relative_to, scale_cost, scale_cost_stat
# (OTT's relative_epsilon and scale_cost): relative_eps excludes eps and blur,
# relative_to needs relative_eps, scale_cost is a number > 0 or a statistic.
.otk_scale_opt <- function(eps, blur, relative_eps, relative_to, scale_cost) {
    .otk_exclusive("eps", eps, "relative_eps", relative_eps)
    .otk_exclusive("blur", blur, "relative_eps", relative_eps)
    if (!is.null(relative_to) && is.null(relative_eps))
        .otk_stop("relative_to = ", deparse(relative_to)[1L], " needs relative_eps")
    opt <- list(relative_eps = .otk_pos0(relative_eps, "relative_eps"),
                relative_to = .otk_choice(if (is.null(relative_to)) "mean" else relative_to,
                                          "relative_to", "relative_to"),
                scale_cost = 0, scale_cost_stat = -1L)
    if (is.character(scale_cost))
        opt$scale_cost_stat <- .otk_choice(scale_cost, "relative_to", "scale_cost")
    else
        opt$scale_cost <- .otk_pos0(scale_cost, "scale_cost")
    opt
}

# ------------------------------------------------------------------ batches

# A batch of B problems (otkit/batch.h): x a B x n x d array, y B x m x d.
.otk_is_batch <- function(x, y) length(dim(x)) == 3L || length(dim(y)) == 3L

# Entry [k, i, j] of a B x n x d array named in R's terms when not finite.
.otk_batch_array <- function(x, argname) {
    if (is.null(x)) .otk_stop(argname, " is required (a batch takes x and y, B x n x d arrays)")
    if (!is.numeric(x) || length(dim(x)) != 3L)
        .otk_stop(argname, " must be a numeric B x n x d array in a batch (got ",
                  if (is.null(dim(x))) paste("a vector of length", length(x))
                  else paste(dim(x), collapse = " x "), ")")
    if (any(dim(x) == 0L))
        .otk_stop(argname, " is empty (", paste(dim(x), collapse = " x "), ")")
    storage.mode(x) <- "double"
    if (!all(is.finite(x))) {
        ijk <- which(!is.finite(x), arr.ind = TRUE)[1L, ]
        .otk_stop(argname, "[", ijk[1L], ", ", ijk[2L], ", ", ijk[3L], "] = ",
                  format(x[ijk[1L], ijk[2L], ijk[3L]]), " is not finite")
    }
    x
}

# The batch as the C layer takes it: row-major (B, n, d) and (B, m, d)
# vectors (aperm makes R's column-major memory row-major), weights NULL or
# B x n and B x m matrices (rows the problems), dims c(B, n, m, d); bad
# weights are named in R's terms (the library's messages count from 0).
# balanced: the masses of each problem must agree (checked here to name the
# problem in R's terms; the library checks again).
.otk_batch_inputs <- function(x, y, a, b, balanced) {
    x <- .otk_batch_array(x, "x")
    y <- .otk_batch_array(y, "y")
    dx <- dim(x); dy <- dim(y)
    if (dy[1L] != dx[1L])
        .otk_stop("y has batch size ", dy[1L], ", expected B = ", dx[1L], " (x is ",
                  paste(dx, collapse = " x "), ")")
    if (dy[3L] != dx[3L])
        .otk_stop("y has dimension ", dy[3L], ", expected d = ", dx[3L], " (x is ",
                  paste(dx, collapse = " x "), ")")
    w <- list(a = a, b = b)
    for (s in c("a", "b")) {
        v <- w[[s]]
        if (is.null(v)) next
        len <- if (s == "a") dx[2L] else dy[2L]
        if (!is.numeric(v) || !is.matrix(v) || nrow(v) != dx[1L] || ncol(v) != len)
            .otk_stop(s, " must be a ", dx[1L], " x ", len, " matrix (B x ",
                      if (s == "a") "n" else "m", ", a row per problem), got ",
                      if (is.null(dim(v))) paste("a vector of length", length(v))
                      else paste(dim(v), collapse = " x "))
        storage.mode(v) <- "double"
        bad <- which(!is.finite(v) | v < 0, arr.ind = TRUE)
        if (length(bad)) {
            ij <- bad[1L, ]
            .otk_stop(s, "[", ij[1L], ", ", ij[2L], "] = ", format(v[ij[1L], ij[2L]]),
                      if (is.finite(v[ij[1L], ij[2L]])) " is negative" else " is not finite")
        }
        if (any(rowSums(v) == 0))
            .otk_stop(s, "[", which(rowSums(v) == 0)[1L], ", ] sums to zero")
        w[[s]] <- as.double(t(v))
    }
    if (balanced) {
        ma <- if (is.null(a)) rep(1, dx[1L]) else rowSums(a)
        mb <- if (is.null(b)) rep(1, dx[1L]) else rowSums(b)
        k <- which(abs(ma - mb) > 1e-9 * pmax(ma, mb))
        if (length(k))
            .otk_stop("problem ", k[1L], " is balanced with unequal masses: sum(a[", k[1L],
                      ", ]) = ", format(ma[k[1L]], digits = 17), ", sum(b[", k[1L], ", ]) = ",
                      format(mb[k[1L]], digits = 17),
                      " (normalise the weights or set rho/reach)")
    }
    list(x = as.double(aperm(x, c(3L, 2L, 1L))), y = as.double(aperm(y, c(3L, 2L, 1L))),
         a = w$a, b = w$b, dims = as.integer(c(dx[1L], dx[2L], dy[2L], dx[3L])))
}

# Row-major (B, n, d) back to a B x n x d array, (B, n) to a B x n matrix.
.otk_batch_out <- function(v, B, n, d = NULL) {
    if (is.null(v)) return(NULL)
    if (is.null(d)) return(matrix(v, nrow = B, ncol = n, byrow = TRUE))
    aperm(array(v, c(d, n, B)), c(3L, 2L, 1L))
}

.otk_warn_batch <- function(res, what, tol, max_iter, warn) {
    nc <- sum(res$status == 1L)
    if (nc > 0L)
        .otk_warn_not_converged(1L, sprintf("%s (%d of %d problems)", what, nc,
                                            length(res$status)),
                                max(res$marginal_error, na.rm = TRUE), tol, max_iter, warn)
    res$converged <- all(res$status == 0L)
    res
}
