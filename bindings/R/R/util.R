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
.otk_matrix_exponent <- function(eps, blur, reach, p, what = "a cost matrix C") {
    if (!is.null(p)) return(invisible(NULL))
    if (!is.null(blur))
        .otk_stop("blur and p: with ", what, " blur needs the exponent p (eps = blur^p; ",
                  "p = 2 for squared distances), or give eps in cost units")
    if (!is.null(reach))
        .otk_stop("reach and p: with ", what, " reach needs the exponent p (rho = reach^p), ",
                  "or give rho in cost units")
    if (is.null(eps))
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
