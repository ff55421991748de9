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
                         cache_mb = 0, relative_eps = NULL, relative_to = NULL,
                         scale_cost = NULL, plan = FALSE, plan_apply = NULL,
                         plan_apply_t = NULL, barycentric_Y = NULL, backend = "auto",
                         truncate = 12, callback = NULL) {
    .otk_exclusive("eps", eps, "blur", blur)
    .otk_exclusive("reach", reach, "rho", rho)
    scale <- .otk_scale_opt(eps, blur, relative_eps, relative_to, scale_cost)
    c(scale, list(plan = as.integer(.otk_flag(plan, "plan")),
         plan_apply = if (is.null(plan_apply)) NULL else .otk_matrix(plan_apply, "plan_apply"),
         plan_apply_t = if (is.null(plan_apply_t)) NULL
                        else .otk_matrix(plan_apply_t, "plan_apply_t"),
         barycentric_Y = barycentric_Y), list(grad = grad,
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
         threads = .otk_int(threads, "threads"), cache_mb = .otk_cache_mb(cache_mb),
         backend = .otk_choice(backend, "backend", "backend"),
         truncate = .otk_num(truncate, "truncate"),
         callback = .otk_progress_callback(callback)))
}

# barycentric: FALSE, TRUE (the target points y) or a matrix Y with m rows.
.otk_bary_Y <- function(barycentric, y) {
    if (is.matrix(barycentric) || is.data.frame(barycentric))
        return(.otk_matrix(barycentric, "barycentric"))
    if (!.otk_flag(barycentric, "barycentric")) return(NULL)
    if (is.null(y)) .otk_stop("barycentric = TRUE needs the target points y (give a matrix Y)")
    y
}

.otk_div_result <- function(res, opt, warn, what) {
    .otk_warn_not_converged(res$status, what, res$marginal_error, opt$tol, opt$max_iter, warn)
    res$converged <- res$status == 0L
    for (k in c("plan", "plan_apply", "plan_apply_t", "barycentric"))
        if (is.null(res[[k]])) res[[k]] <- NULL
    res
}

# p is the cost's exponent, as everywhere: without cost it picks GeomLoss's
# |x-y|^p/p (p = 2 when not given), with cost it overrides that cost's own.
divergence <- function(x, y, a = NULL, b = NULL, blur = NULL, p = NULL, cost = NULL,
                       power = NULL, eps = NULL, reach = NULL, rho = NULL,
                       scaling = 0.5, debias = TRUE, schedule = "converge",
                       update = "auto", diameter = NULL, tol = 1e-6, max_iter = 10000L,
                       threads = 0L, grad = FALSE, warn = TRUE, cache_mb = 0,
                       exponent = NULL, relative_eps = NULL, relative_to = NULL,
                       scale_cost = NULL, plan = FALSE, plan_apply = NULL,
                       plan_apply_t = NULL, barycentric = FALSE, backend = "auto",
                       truncate = 12, callback = NULL) {
    p <- .otk_exponent(p, exponent)
    if (is.null(cost)) {
        g <- geomloss_cost(if (is.null(p)) 2 else p)
        cost <- g$cost
        if (is.null(power)) power <- g$power
    }
    .otk_flag(warn, "warn")
    if (.otk_is_batch(x, y)) {
        for (o in c("plan", "barycentric"))
            if (!isFALSE(get(o))) .otk_stop(o, " is not supported for a batch of problems")
        for (o in c("plan_apply", "plan_apply_t", "callback"))
            if (!is.null(get(o))) .otk_stop(o, " is not supported for a batch of problems")
        opt <- .otk_div_opt(eps, blur, reach, rho, scaling, debias, schedule, update,
                            diameter, p, tol, max_iter, threads, power,
                            .otk_grad_flags(grad, c("a", "b", "x", "y")), cache_mb,
                            relative_eps, relative_to, scale_cost)
        bt <- .otk_batch_inputs(x, y, a, b, is.infinite(opt$rho) && opt$reach == 0)
        res <- .Call(otkr_divergence_batch, bt$x, bt$y, bt$a, bt$b, bt$dims, cost, opt)
        dm <- bt$dims
        res$grad_a <- .otk_batch_out(res$grad_a, dm[1L], dm[2L])
        res$grad_b <- .otk_batch_out(res$grad_b, dm[1L], dm[3L])
        res$grad_x <- .otk_batch_out(res$grad_x, dm[1L], dm[2L], dm[4L])
        res$grad_y <- .otk_batch_out(res$grad_y, dm[1L], dm[3L], dm[4L])
        for (k in c("grad_a", "grad_b", "grad_x", "grad_y"))
            if (is.null(res[[k]])) res[[k]] <- NULL
        return(.otk_warn_batch(res, "otkit::divergence", opt$tol, opt$max_iter, warn))
    }
    x <- .otk_points(x, "x")
    y <- .otk_points(y, "y")
    opt <- .otk_div_opt(eps, blur, reach, rho, scaling, debias, schedule, update, diameter,
                        p, tol, max_iter, threads, power,
                        .otk_grad_flags(grad, c("a", "b", "x", "y")), cache_mb, relative_eps,
                        relative_to, scale_cost, plan, plan_apply, plan_apply_t,
                        .otk_bary_Y(barycentric, y), backend, truncate, callback)
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
                              grad = FALSE, warn = TRUE, exponent = NULL,
                              relative_eps = NULL, relative_to = NULL, scale_cost = NULL,
                              plan = FALSE, plan_apply = NULL, plan_apply_t = NULL,
                              barycentric = NULL, callback = NULL) {
    p <- .otk_exponent(p, exponent)
    .otk_exclusive("eps", eps, "blur", blur)
    .otk_exclusive("reach", reach, "rho", rho)
    .otk_matrix_exponent(eps, blur, reach, p, "cost matrices", relative_eps)
    if (isTRUE(debias) && (is.null(C_xx) || is.null(C_yy)))
        .otk_stop(if (is.null(C_xx)) "C_xx" else "C_yy", " is required unless debias = FALSE")
    .otk_flag(warn, "warn")
    opt <- .otk_div_opt(eps, blur, reach, rho, scaling, debias, schedule, update, diameter,
                        p, tol, max_iter, threads, NULL,
                        .otk_grad_flags(grad, c("a", "b")), 0, relative_eps, relative_to,
                        scale_cost, plan, plan_apply, plan_apply_t,
                        if (is.null(barycentric)) NULL
                        else .otk_matrix(barycentric, "barycentric"),
                        callback = callback)
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

# ------------------------------------------------------- the planned object

# The arguments of divergence() (p the cost's exponent, exponent its former name).
Divergence <- function(x, y, blur = NULL, p = NULL, cost = NULL, power = NULL, eps = NULL,
                       reach = NULL, rho = NULL, scaling = 0.5, debias = TRUE,
                       schedule = "converge", update = "auto", diameter = NULL,
                       tol = 1e-6, max_iter = 10000L, threads = 0L, warn = TRUE,
                       cache_mb = 0, exponent = NULL, backend = "auto", truncate = 12) {
    p <- .otk_exponent(p, exponent)
    if (is.null(cost)) {
        g <- geomloss_cost(if (is.null(p)) 2 else p)
        cost <- g$cost
        if (is.null(power)) power <- g$power
    }
    .otk_flag(warn, "warn")
    opt <- .otk_div_opt(eps, blur, reach, rho, scaling, debias, schedule, update, diameter,
                        p, tol, max_iter, threads, power, NULL, cache_mb,
                        backend = backend, truncate = truncate)
    x <- .otk_points(x, "x")
    y <- .otk_points(y, "y")
    if (ncol(y) != ncol(x))
        .otk_stop("y has ", ncol(y), " columns but x has ", ncol(x),
                  " (points are rows: both need the same dimension d)")
    opt$grad <- NULL
    ptr <- .Call(otkr_divergence_new, x, y, cost, opt)
    structure(list(ptr = ptr, shape = c(nrow(x), nrow(y), ncol(x)), tol = opt$tol,
                   max_iter = opt$max_iter, warn = warn),
              class = "otkit_divergence")
}

.otk_is_div <- function(div) {
    if (!inherits(div, "otkit_divergence"))
        .otk_stop("div must be an otkit divergence object (from Divergence())")
}

print.otkit_divergence <- function(x, ...) {
    cat(sprintf("otkit divergence object: n = %d, m = %d, d = %d\n", x$shape[1L], x$shape[2L],
                x$shape[3L]))
    invisible(x)
}

set_points <- function(div, x = NULL, y = NULL) {
    .otk_is_div(div)
    if (!is.null(x)) x <- .otk_points(x, "x")
    if (!is.null(y)) y <- .otk_points(y, "y")
    .Call(otkr_divergence_set_points, div$ptr, x, y, as.integer(div$shape))
    invisible(div)
}

divergence_solve <- function(div, a = NULL, b = NULL, grad = FALSE, callback = NULL) {
    .otk_is_div(div)
    callback <- .otk_progress_callback(callback)
    a <- .otk_weights(a, div$shape[1L], "a")
    b <- .otk_weights(b, div$shape[2L], "b")
    res <- .Call(otkr_divergence_solve, div$ptr, a, b, as.integer(div$shape),
                 .otk_grad_flags(grad, c("a", "b", "x", "y")), callback)
    .otk_div_result(res, list(tol = div$tol, max_iter = div$max_iter), div$warn,
                    "otkit::divergence_solve")
}

divergence_potentials <- function(div) {
    .otk_is_div(div)
    .Call(otkr_divergence_query, div$ptr, 0L, as.integer(div$shape))
}

# The plan of the cross problem at the last solve, never formed: P %*% M
# (M: m rows), t(P) %*% M (transpose = TRUE; M: n rows), and the barycentric
# projection (P %*% Y) / rowSums(P) (Y: m rows, usually the y of the solve).
divergence_plan_apply <- function(div, M, transpose = FALSE) {
    .otk_is_div(div)
    transpose <- .otk_flag(transpose, "transpose")
    if (is.null(dim(M)) && is.numeric(M)) M <- matrix(M, ncol = 1L)
    M <- .otk_matrix(M, "M")
    .Call(otkr_divergence_plan, div$ptr, M, if (transpose) 1L else 0L, as.integer(div$shape))
}

divergence_barycentric <- function(div, Y) {
    .otk_is_div(div)
    if (is.null(dim(Y)) && is.numeric(Y)) Y <- matrix(Y, ncol = 1L)
    Y <- .otk_matrix(Y, "Y")
    .Call(otkr_divergence_plan, div$ptr, Y, 2L, as.integer(div$shape))
}

divergence_transport_cost <- function(div) {
    .otk_is_div(div)
    .Call(otkr_divergence_query, div$ptr, 1L, as.integer(div$shape))
}

divergence_displacement <- function(div, side = "x") {
    .otk_is_div(div)
    if (!identical(side, "x") && !identical(side, "y"))
        .otk_stop("side = ", deparse(side)[1L], " is not one of \"x\", \"y\"")
    .Call(otkr_divergence_query, div$ptr, if (side == "x") 2L else 3L, as.integer(div$shape))
}
