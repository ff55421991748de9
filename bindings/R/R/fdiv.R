# f-divergences, PSI and information value (otkit/fdiv.h; docs/fdiv.md).

.otk_table <- function(x, argname) {
    if (is.data.frame(x)) x <- as.matrix(x)
    if (is.null(dim(x))) {
        if (!is.numeric(x)) .otk_stop(argname, " must be a numeric vector or B x K matrix")
        x <- matrix(as.double(x), nrow = 1L)
    }
    if (!is.matrix(x) || !is.numeric(x))
        .otk_stop(argname, " must be a numeric vector or B x K matrix (one distribution per row)")
    storage.mode(x) <- "double"
    .otk_finite(x, argname)
}

fdiv <- function(p, q, kind = "kl", alpha = NULL, logits = FALSE, tau = 1, tau2 = FALSE,
                 smoothing = 0, reduction = "mean", grad = FALSE, threads = 0L) {
    if (identical(kind, "alpha") && is.null(alpha))
        .otk_stop("alpha: kind \"alpha\" needs alpha (Amari's parameter)")
    if (!identical(kind, "alpha") && !is.null(alpha))
        .otk_stop("alpha applies only with kind \"alpha\"")
    if (!.otk_flag(logits, "logits") && (tau != 1 || isTRUE(tau2)))
        .otk_stop("tau and tau2 apply only with logits = TRUE")
    if (logits && smoothing != 0)
        .otk_stop("smoothing applies to probabilities, not with logits = TRUE")
    if (!(isTRUE(grad) || isFALSE(grad) || identical(grad, "p") || identical(grad, "q")))
        .otk_stop("grad must be TRUE, FALSE, \"p\" or \"q\"")
    opt <- list(alpha = if (is.null(alpha)) 0 else .otk_num(alpha, "alpha"),
                tau = .otk_num(tau, "tau"), tau2 = as.integer(.otk_flag(tau2, "tau2")),
                smoothing = .otk_num(smoothing, "smoothing"),
                threads = .otk_int(threads, "threads"), logits = as.integer(logits),
                grad_p = as.integer(isTRUE(grad) || identical(grad, "p")),
                grad_q = as.integer(isTRUE(grad) || identical(grad, "q")))
    .Call(otkr_fdiv, .otk_table(p, "p"), .otk_table(q, "q"), kind, reduction, opt)
}

.otk_bins_opt <- function(bins, floor, counts = FALSE) {
    list(bins = .otk_int(bins, "bins"), floor = .otk_num(floor, "floor"),
         counts = as.integer(.otk_flag(counts, "counts")))
}

.otk_sample <- function(x, argname) {
    if (!is.numeric(x) || !is.null(dim(x)) && length(dim(x)) > 1L && min(dim(x)) > 1L)
        .otk_stop(argname, " must be a numeric vector")
    x <- as.double(x)
    if (!length(x)) .otk_stop(argname, " is empty")
    bad <- which(!is.finite(x))
    if (length(bad)) .otk_stop(argname, "[", bad[1L], "] = ", format(x[bad[1L]]), " is not finite")
    x
}

psi <- function(expected, actual, bins = 10L, binning = "quantile", edges = NULL,
                floor = 1e-4, counts = FALSE) {
    if (!is.null(edges) && identical(binning, "quantile")) binning <- "edges"
    if (isTRUE(counts) && (!is.null(edges) || !identical(binning, "quantile") || bins != 10))
        .otk_stop("bins, binning and edges do not apply with counts = TRUE")
    r <- .Call(otkr_psi, .otk_sample(expected, "expected"), .otk_sample(actual, "actual"),
               binning, if (is.null(edges)) NULL else .otk_sample(edges, "edges"),
               .otk_bins_opt(bins, floor, counts))
    if (isTRUE(counts)) r$edges <- NULL
    r
}

information_value <- function(x, y, bins = 10L, binning = "quantile", edges = NULL,
                              floor = 1e-4) {
    if (!is.null(edges) && identical(binning, "quantile")) binning <- "edges"
    if (is.logical(y)) y <- as.integer(y)
    if (!is.numeric(y) || anyNA(y) || any(y != 0 & y != 1))
        .otk_stop("y must be 0 (non-event) or 1 (event) for every value",
                  if (is.numeric(y)) paste0(" (y[", which(is.na(y) | (y != 0 & y != 1))[1L],
                                            "] is not)") else "")
    .Call(otkr_information_value, .otk_sample(x, "x"), as.integer(y), binning,
          if (is.null(edges)) NULL else .otk_sample(edges, "edges"), .otk_bins_opt(bins, floor))
}
