.otk_grad_flags <- function(grad, allowed, all = c("a", "b", "x", "y")) {
    if (isTRUE(grad)) grad <- allowed
    if (isFALSE(grad) || is.null(grad)) grad <- character(0)
    if (!is.character(grad) || anyNA(grad) || !all(grad %in% allowed))
        .otk_stop("grad must be TRUE, FALSE or names among ",
                  paste0("\"", allowed, "\"", collapse = ", "))
    all %in% grad
}

geomloss_cost <- function(p) {
    r <- .Call(otkr_geomloss_ground, .otk_num(p, "p"))
    list(cost = r[[1L]], power = r[[2L]])
}

.otk_div_opt <- function(eps, blur, reach, rho, scaling, debias, schedule, update,
                         diameter, p, tol, max_iter, threads, power, grad,
                         cache_mb = 0) {
    .otk_exclusive("eps", eps, "blur", blur)
    .otk_exclusive("reach", reach, "rho", rho)
    list(grad = grad,
         power = if (is.null(power)) 0 else .otk_num(power, "power"),
         eps = .otk_pos0(eps, "eps"),
         blur = if (is.null(blur)) 0.05 else .otk_num(blur, "blur"),
         rho = if (is.null(rho)) Inf else .otk_num(rho, "rho"),
         reach = .otk_pos0(reach, "reach"),
         schedule = .otk_choice(schedule, "schedule", "schedule"),
         update = .otk_choice(update, "update", "update"),
         scaling = .otk_num(scaling, "scaling"),
         diameter = .otk_pos0(diameter, "diameter"),
         p = .otk_pos0(p, "p"),
         debias = as.integer(.otk_flag(debias, "debias")),
         tol = .otk_num(tol, "tol"), max_iter = .otk_int(max_iter, "max_iter"),
         threads = .otk_int(threads, "threads"), cache_mb = .otk_cache_mb(cache_mb))
}

.otk_div_result <- function(res, opt, warn, what) {
    .otk_warn_not_converged(res$status, what, res$marginal_error, opt$tol, opt$max_iter, warn)
    res$converged <- res$status == 0L
    res
}

# p is the cost's exponent, as everywhere: without cost it picks GeomLoss's
# |x-y|^p/p (p = 2 when not given), with cost it overrides that cost's own.
divergence <- function(x, y, a = NULL, b = NULL, blur = NULL, p = NULL, cost = NULL,
                       power = NULL, eps = NULL, reach = NULL, rho = NULL,
                       scaling = 0.5, debias = TRUE, schedule = "converge",
                       update = "auto", diameter = NULL, tol = 1e-6, max_iter = 10000L,
                       threads = 0L, grad = FALSE, warn = TRUE, cache_mb = 0,
                       exponent = NULL) {
    p <- .otk_exponent(p, exponent)
    if (is.null(cost)) {
        g <- geomloss_cost(if (is.null(p)) 2 else p)
        cost <- g$cost
        if (is.null(power)) power <- g$power
    }
    .otk_flag(warn, "warn")
    opt <- .otk_div_opt(eps, blur, reach, rho, scaling, debias, schedule, update, diameter,
                        p, tol, max_iter, threads, power,
                        .otk_grad_flags(grad, c("a", "b", "x", "y")), cache_mb)
    x <- .otk_points(x, "x")
    y <- .otk_points(y, "y")
    if (ncol(y) != ncol(x))
        .otk_stop("y has ", ncol(y), " columns but x has ", ncol(x),
                  " (points are rows: both need the same dimension d)")
    a <- .otk_weights(a, nrow(x), "a")
    b <- .otk_weights(b, nrow(y), "b")
    res <- .Call(otkr_divergence, x, y, a, b, cost, opt)
    .otk_div_result(res, opt, warn, "otkit::divergence")
}

# The former name (the Python package, the C library and otk say divergence).
sinkhorn_divergence <- divergence

divergence_matrix <- function(C_xy, C_xx = NULL, C_yy = NULL, a = NULL, b = NULL,
                              eps = NULL, blur = NULL, reach = NULL, rho = NULL,
                              scaling = 0.5, debias = TRUE, schedule = "converge",
                              update = "auto", diameter = NULL, p = NULL,
                              tol = 1e-6, max_iter = 10000L, threads = 0L,
                              grad = FALSE, warn = TRUE, exponent = NULL) {
    p <- .otk_exponent(p, exponent)
    .otk_exclusive("eps", eps, "blur", blur)
    .otk_exclusive("reach", reach, "rho", rho)
    .otk_matrix_exponent(eps, blur, reach, p, "cost matrices")
    if (isTRUE(debias) && (is.null(C_xx) || is.null(C_yy)))
        .otk_stop(if (is.null(C_xx)) "C_xx" else "C_yy", " is required unless debias = FALSE")
    .otk_flag(warn, "warn")
    opt <- .otk_div_opt(eps, blur, reach, rho, scaling, debias, schedule, update, diameter,
                        p, tol, max_iter, threads, NULL,
                        .otk_grad_flags(grad, c("a", "b")))
    C_xy <- .otk_matrix(C_xy, "C_xy")
    if (!is.null(C_xx)) C_xx <- .otk_matrix(C_xx, "C_xx")
    if (!is.null(C_yy)) C_yy <- .otk_matrix(C_yy, "C_yy")
    a <- .otk_weights(a, nrow(C_xy), "a")
    b <- .otk_weights(b, ncol(C_xy), "b")
    res <- .Call(otkr_divergence_matrix, C_xy, C_xx, C_yy, a, b, opt)
    res$grad_x <- NULL
    res$grad_y <- NULL
    .otk_div_result(res, opt, warn, "otkit::divergence_matrix")
}

sinkhorn_divergence_matrix <- divergence_matrix
