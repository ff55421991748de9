sinkhorn <- function(a = NULL, b = NULL, C = NULL, x = NULL, y = NULL, eps = NULL,
                     blur = NULL, cost = "sqeuclidean", power = NULL, reach = NULL,
                     rho = NULL, rho_a = NULL, rho_b = NULL, schedule = "converge",
                     update = "auto", scaling = 0.5, diameter = NULL, p = NULL,
                     tol = 1e-6, max_iter = 10000L, no_annealing = FALSE, threads = 0L,
                     plan = FALSE, barycentric = FALSE, gauge = "geomloss", warn = TRUE,
                     init = NULL, callback = NULL, history = FALSE, relative_eps = NULL,
                     relative_to = NULL, scale_cost = NULL) {
    .otk_exclusive("eps", eps, "blur", blur)
    .otk_exclusive("reach", reach, "rho", rho)
    .otk_exclusive("reach", reach, "rho_a", rho_a)
    .otk_exclusive("reach", reach, "rho_b", rho_b)
    .otk_exclusive("rho", rho, "rho_a", rho_a)
    .otk_exclusive("rho", rho, "rho_b", rho_b)
    scale <- .otk_scale_opt(eps, blur, relative_eps, relative_to, scale_cost)
    if (!is.null(C)) .otk_matrix_exponent(eps, blur, reach, p, relative_eps = relative_eps)
    opt <- list(
        power = if (is.null(power)) 0 else .otk_num(power, "power"),
        eps = .otk_pos0(eps, "eps"),
        blur = if (is.null(blur)) 0.05 else .otk_num(blur, "blur"),
        rho_a = Inf, rho_b = Inf,
        reach = .otk_pos0(reach, "reach"),
        schedule = .otk_choice(schedule, "schedule", "schedule"),
        update = .otk_choice(update, "update", "update"),
        scaling = .otk_num(scaling, "scaling"),
        diameter = .otk_pos0(diameter, "diameter"), p = .otk_pos0(p, "p"),
        tol = .otk_num(tol, "tol"), max_iter = .otk_int(max_iter, "max_iter"),
        no_annealing = as.integer(.otk_flag(no_annealing, "no_annealing")),
        threads = .otk_int(threads, "threads"),
        plan = as.integer(.otk_flag(plan, "plan")),
        barycentric = as.integer(.otk_flag(barycentric, "barycentric")),
        gauge = .otk_choice(gauge, "gauge", "gauge"),
        init_f = if (is.null(init)) NULL else .otk_init(init, 1L),
        init_g = if (is.null(init)) NULL else .otk_init(init, 2L),
        callback = .otk_progress_callback(callback),
        history = as.integer(.otk_flag(history, "history")))
    opt <- c(opt, scale)
    if (!is.null(rho)) opt$rho_a <- opt$rho_b <- .otk_num(rho, "rho")
    if (!is.null(rho_a)) opt$rho_a <- .otk_num(rho_a, "rho_a")
    if (!is.null(rho_b)) opt$rho_b <- .otk_num(rho_b, "rho_b")
    .otk_flag(warn, "warn")
    if (is.null(C) && .otk_is_batch(x, y)) {
        for (o in c("plan", "barycentric", "history"))
            if (!isFALSE(get(o))) .otk_stop(o, " is not supported for a batch of problems")
        for (o in c("init", "callback"))
            if (!is.null(get(o))) .otk_stop(o, " is not supported for a batch of problems")
        if (gauge != "geomloss")
            .otk_stop("gauge = \"", gauge, "\": a batch gives the potentials in the ",
                      "\"geomloss\" gauge (potential_convert converts them)")
        bt <- .otk_batch_inputs(x, y, a, b, is.infinite(opt$rho_a) &&
                                is.infinite(opt$rho_b) && opt$reach == 0)
        res <- .Call(otkr_sinkhorn_batch, bt$x, bt$y, bt$a, bt$b, bt$dims, cost, opt)
        res$f <- .otk_batch_out(res$f, bt$dims[1L], bt$dims[2L])
        res$g <- .otk_batch_out(res$g, bt$dims[1L], bt$dims[3L])
        return(.otk_warn_batch(res, "otkit::sinkhorn", opt$tol, opt$max_iter, warn))
    }
    if (!is.null(C)) {
        if (!is.null(x) || !is.null(y)) .otk_stop("give either C or both x and y, not both")
        if (barycentric) .otk_stop("barycentric = TRUE needs the target points y (not C)")
        C <- .otk_matrix(C, "C")
        n <- nrow(C); m <- ncol(C)
    } else {
        if (is.null(x) || is.null(y))
            .otk_stop(if (is.null(x)) "x" else "y", " is required (or give the cost matrix C)")
        x <- .otk_points(x, "x")
        y <- .otk_points(y, "y")
        if (ncol(y) != ncol(x))
            .otk_stop("y has ", ncol(y), " columns but x has ", ncol(x),
                      " (points are rows: both need the same dimension d)")
        n <- nrow(x); m <- nrow(y)
    }
    a <- .otk_weights(a, n, "a")
    b <- .otk_weights(b, m, "b")
    res <- .Call(otkr_sinkhorn, C, x, y, a, b, cost, opt)
    .otk_warn_not_converged(res$status, "otkit::sinkhorn", res$marginal_error, opt$tol,
                            opt$max_iter, warn)
    res$converged <- res$status == 0L
    res$warm_start <- !is.null(init)
    if (!plan) res$plan <- NULL
    if (!barycentric) res$barycentric <- NULL
    if (!history) res$history <- NULL
    res
}

# source/target as in Python (where from is a keyword); from/to are the
# former names, kept with a warning.
potential_convert <- function(values, w, eps, source = "geomloss", target = "pot",
                              from = NULL, to = NULL) {
    if (!is.numeric(values)) .otk_stop("values must be a numeric vector")
    if (!is.numeric(w)) .otk_stop("w must be a numeric vector")
    for (old in c("from", "to")) {
        v <- get(old)
        if (is.null(v)) next
        new <- if (old == "from") "source" else "target"
        if (!eval(call("missing", as.name(new))))
            .otk_stop(new, " and ", old, " exclude each other: give ", new)
        warning(old, " is deprecated: give ", new, call. = FALSE)
        assign(new, v)
    }
    .Call(otkr_potential_convert, as.double(values), as.double(w), .otk_num(eps, "eps"),
          .otk_choice(source, "gauge", "source"), .otk_choice(target, "gauge", "target"))
}

# init = list(f, g): side k as a double vector (its length is checked in C
# against n or m), GeomLoss gauge.
.otk_init <- function(init, k) {
    if (!is.list(init) || length(init) != 2L)
        .otk_stop("init must be a list(f, g) of two numeric vectors (GeomLoss gauge)")
    v <- init[[k]]
    if (!is.numeric(v))
        .otk_stop("init[[", k, "]] (", c("f", "g")[k], ") must be a numeric vector")
    as.double(v)
}

# The user's callback(iteration, eps, error) as the C code calls it,
# (iteration, eps, error, stage): the stage ("clusters", "annealing",
# "target"; otk_progress in otkit/sinkhorn.h) is passed as stage = when the
# function declares that argument or `...`.
.otk_progress_callback <- function(callback) {
    if (is.null(callback)) return(NULL)
    if (!is.function(callback))
        .otk_stop("callback must be a function(iteration, eps, error) (or NULL)")
    args <- names(formals(callback))
    if (any(c("stage", "...") %in% args))
        function(iteration, eps, error, stage) callback(iteration, eps, error, stage = stage)
    else
        function(iteration, eps, error, stage) callback(iteration, eps, error)
}
