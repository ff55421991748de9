monge_gap <- function(x, tx, w = NULL, cost = "sqeuclidean", power = NULL, eps = NULL,
                      relative_eps = 0.05, relative_to = "std", tol = 1e-6,
                      max_iter = 10000L, threads = 0L, grad = FALSE, warn = TRUE,
                      cache_mb = 0, backend = "auto", truncate = 12) {
    x <- .otk_points(x, "x")
    if (inherits(tx, "otkit_map")) tx <- predict(tx, x, threads = threads)
    tx <- .otk_points(tx, "tx")
    if (ncol(tx) != ncol(x) || nrow(tx) != nrow(x))
        .otk_stop("tx is ", nrow(tx), " x ", ncol(tx), ", x is ", nrow(x), " x ", ncol(x),
                  " (tx holds the images T(x), row by row)")
    g <- .otk_grad_flags(grad, c("tx", "x"), c("tx", "x"))
    .otk_flag(warn, "warn")
    opt <- list(power = if (is.null(power)) 0 else .otk_num(power, "power"),
                eps = .otk_pos0(eps, "eps"),
                relative_eps = .otk_num(relative_eps, "relative_eps"),
                relative_to = .otk_choice(relative_to, "relative_to", "relative_to"),
                tol = .otk_num(tol, "tol"), max_iter = .otk_int(max_iter, "max_iter"),
                threads = .otk_int(threads, "threads"),
                grad_tx = as.integer(g[1L]), grad_x = as.integer(g[2L]),
                cache_mb = .otk_cache_mb(cache_mb),
                backend = .otk_choice(backend, "backend", "backend"),
                truncate = .otk_num(truncate, "truncate"))
    res <- .Call(otkr_monge_gap, x, tx, .otk_weights(w, nrow(x), "w"), cost, opt)
    .otk_warn_not_converged(res$status, "otkit::monge_gap", res$marginal_error, opt$tol,
                            opt$max_iter, warn)
    res$converged <- res$status == 0L
    res
}

.otk_map_object <- function(ptr, fit = NULL) {
    info <- .Call(otkr_map_info, ptr)
    structure(list(ptr = ptr, family = info$family, dim = info$dim,
                   n_params = info$n_params, hidden = info$hidden,
                   activation = info$activation, fit = fit),
              class = "otkit_map")
}

fit_map <- function(x, y, family = "affine", hidden = c(64L, 64L), activation = "gelu",
                    seed = 0L, lambda = NULL, warmup = 0L, blur = NULL, mg_eps = NULL,
                    mg_relative_eps = NULL, optimizer = "auto", iters = NULL,
                    batch = 256L, lr = NULL, lr_schedule = "constant",
                    threads = 0L, cache_mb = 0, warn = TRUE, init = NULL) {
    fam <- .otk_choice(family, "map_family", "family")
    x <- .otk_points(x, "x")
    y <- .otk_points(y, "y")
    if (ncol(y) != ncol(x))
        .otk_stop("y has ", ncol(y), " columns but x has ", ncol(x),
                  " (points are rows: both need the same dimension d)")
    if (!is.numeric(hidden) || anyNA(hidden) || any(hidden != round(hidden)))
        .otk_stop("hidden must be a vector of integer layer widths")
    if (!is.numeric(seed) || length(seed) != 1L || is.na(seed) || seed < 0 ||
        seed != round(seed) || seed > 2^53)
        .otk_stop("seed = ", deparse(seed)[1L], " must be a non-negative integer")
    .otk_flag(warn, "warn")
    # NULL lambda, blur and Monge-gap eps: derived from the data by the library
    # (otkit/mapfit.h, "Derived settings"): NaN and 0 are its "not set".
    opt <- list(threads = .otk_int(threads, "threads"), blur = .otk_pos0(blur, "blur"),
                activation = .otk_choice(activation, "activation", "activation"),
                seed = as.double(seed),
                lambda = if (is.null(lambda)) NaN else .otk_num(lambda, "lambda"),
                warmup = .otk_int(warmup, "warmup"), mg_eps = .otk_pos0(mg_eps, "mg_eps"),
                optimizer = .otk_choice(optimizer, "optimizer", "optimizer"),
                iters = if (is.null(iters)) 0L else .otk_int(iters, "iters"),
                batch = .otk_int(batch, "batch"),
                lr = if (is.null(lr)) NaN else .otk_num(lr, "lr"),
                lr_schedule = .otk_choice(lr_schedule, "lr_schedule", "lr_schedule"),
                mg_relative_eps = .otk_pos0(mg_relative_eps, "mg_relative_eps"),
                cache_mb = .otk_cache_mb(cache_mb), init = NULL)
    if (!is.null(init)) {
        if (!inherits(init, "otkit_map"))
            .otk_stop("init must be an otkit_map (from fit_map() or load_map())")
        if (fam == 2L) .otk_stop("init: the entropic map is not trained")
        if (!identical(init$family, family) || init$dim != ncol(x))
            .otk_stop("init is a ", init$family, " map of dimension ", init$dim, ", not ",
                      family, " of dimension ", ncol(x), " (the columns of x)")
        opt$init <- init$ptr
    }
    if (opt$warmup < 0L) .otk_stop("warmup = ", warmup, " must be >= 0")
    if (opt$batch < 0L) .otk_stop("batch = ", batch, " must be >= 0")
    r <- .Call(otkr_fit_map, x, y, fam, as.integer(hidden), opt)
    if (isTRUE(warn) && r$fit$status == 1L) {
        cond <- simpleWarning(paste0(
            "otkit::fit_map: the ", if (fam == 2L) "entropic map's Sinkhorn solve" else
            "BFGS fit", " stopped at its iteration limit (the map is returned)"), sys.call())
        class(cond) <- c("otkit_convergence_warning", class(cond))
        warning(cond)
    }
    .otk_map_object(r$ptr, r$fit)
}

predict.otkit_map <- function(object, newdata, threads = 0L, ...) {
    newdata <- .otk_points(newdata, "newdata")
    if (ncol(newdata) != object$dim)
        .otk_stop("newdata has ", ncol(newdata), " columns, the map's dimension is ",
                  object$dim)
    .Call(otkr_map_apply, object$ptr, newdata, .otk_int(threads, "threads"))
}

print.otkit_map <- function(x, ...) {
    cat(sprintf("otkit map: %s, dimension %d, %g parameters", x$family, x$dim, x$n_params))
    if (!is.null(x$hidden))
        cat(sprintf(", hidden %s, %s", paste(x$hidden, collapse = ","), x$activation))
    cat("\n")
    if (!is.null(x$fit) && !is.na(x$fit$loss))
        cat(sprintf("fit: loss %.6g = divergence %.6g + %g * monge gap %.6g (%d iterations)\n",
                    x$fit$loss, x$fit$divergence, x$fit$lambda, x$fit$monge_gap,
                    x$fit$iterations))
    invisible(x)
}

map_params <- function(map) {
    if (!inherits(map, "otkit_map")) .otk_stop("map must be an otkit map (from fit_map)")
    .Call(otkr_map_info, map$ptr)$params
}

.otk_path <- function(path) {
    if (!is.character(path) || length(path) != 1L || is.na(path) || !nzchar(path))
        .otk_stop("path must be one file name")
    path.expand(path)
}

save_map <- function(map, path) {
    if (!inherits(map, "otkit_map")) .otk_stop("map must be an otkit map (from fit_map)")
    .Call(otkr_map_save, map$ptr, .otk_path(path))
    invisible(path)
}

load_map <- function(path) {
    .otk_map_object(.Call(otkr_map_load, .otk_path(path)))
}

# ------------------------------------------------------------ entropic map

.otk_entropic_map <- function(r) {
    d <- .Call(otkr_entropic_map_data, r$ptr)
    structure(list(ptr = r$ptr, eps = d$eps, cost = d$cost, status = r$status,
                   dim = ncol(d$y)), class = "otkit_entropic_map")
}

entropic_map_fit <- function(x, y, a = NULL, b = NULL, eps = NULL, blur = NULL,
                             cost = "sqeuclidean", power = NULL, schedule = "converge",
                             scaling = 0.5, tol = 1e-6, max_iter = 10000L, threads = 0L,
                             warn = TRUE, relative_eps = NULL, relative_to = NULL,
                             scale_cost = NULL) {
    .otk_exclusive("eps", eps, "blur", blur)
    scale <- .otk_scale_opt(eps, blur, relative_eps, relative_to, scale_cost)
    .otk_flag(warn, "warn")
    x <- .otk_points(x, "x")
    y <- .otk_points(y, "y")
    if (ncol(y) != ncol(x))
        .otk_stop("y has ", ncol(y), " columns but x has ", ncol(x),
                  " (points are rows: both need the same dimension d)")
    opt <- list(power = if (is.null(power)) 0 else .otk_num(power, "power"),
                eps = .otk_pos0(eps, "eps"),
                blur = if (is.null(blur)) 0.05 else .otk_num(blur, "blur"),
                schedule = .otk_choice(schedule, "schedule", "schedule"),
                scaling = .otk_num(scaling, "scaling"), tol = .otk_num(tol, "tol"),
                max_iter = .otk_int(max_iter, "max_iter"), threads = .otk_int(threads, "threads"))
    opt <- c(opt, scale)
    T <- .otk_entropic_map(.Call(otkr_entropic_map_new, x, y, .otk_weights(a, nrow(x), "a"),
                                 .otk_weights(b, nrow(y), "b"), NULL, cost, opt))
    if (isTRUE(warn) && T$status == 1L) {
        cond <- simpleWarning(sprintf(paste0(
            "otkit::entropic_map_fit: Sinkhorn stopped at max_iter = %d before tol = %g ",
            "(the map is built from the best iterate)"), opt$max_iter, opt$tol), sys.call())
        class(cond) <- c("otkit_convergence_warning", class(cond))
        warning(cond)
    }
    T
}

entropic_map_from_data <- function(y, g, eps, b = NULL, cost = "sqeuclidean", power = 0, ...) {
    y <- .otk_points(y, "y")
    if (!is.numeric(g)) .otk_stop("g must be a numeric vector")
    opt <- list(power = .otk_num(power, "power"), eps = .otk_num(eps, "eps"))
    .otk_entropic_map(.Call(otkr_entropic_map_new, NULL, y, NULL,
                            .otk_weights(b, nrow(y), "b"), as.double(g), cost, opt))
}

.otk_is_emap <- function(map) {
    if (!inherits(map, "otkit_entropic_map"))
        .otk_stop("map must be an otkit entropic map (from entropic_map_fit())")
}

entropic_map_apply <- function(map, z, threads = 0L) {
    .otk_is_emap(map)
    # one point as a vector of d coordinates (a 1-D map: k points)
    if (is.null(dim(z)) && is.numeric(z) && map$dim > 1L && length(z) == map$dim)
        z <- matrix(z, nrow = 1L)
    z <- .otk_points(z, "z")
    if (ncol(z) != map$dim)
        .otk_stop("z has ", ncol(z), " columns, the map's dimension is ", map$dim)
    .Call(otkr_entropic_map_apply, map$ptr, z, .otk_int(threads, "threads"))
}

predict.otkit_entropic_map <- function(object, newdata, threads = 0L, ...) {
    entropic_map_apply(object, newdata, threads)
}

entropic_map_data <- function(map) {
    .otk_is_emap(map)
    d <- .Call(otkr_entropic_map_data, map$ptr)
    d$status <- map$status
    d
}

print.otkit_entropic_map <- function(x, ...) {
    d <- .Call(otkr_entropic_map_data, x$ptr)
    cat(sprintf("otkit entropic map: m = %d, d = %d, eps = %g, cost = %s\n", nrow(d$y),
                ncol(d$y), d$eps, d$cost))
    invisible(x)
}
