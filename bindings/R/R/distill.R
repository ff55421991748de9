.otk_logits <- function(z, argname) {
    if (is.data.frame(z)) z <- as.matrix(z)
    if (!is.matrix(z) || !is.numeric(z))
        .otk_stop(argname, " must be a numeric B x K matrix of logits (one sample per row)")
    storage.mode(z) <- "double"
    .otk_finite(z, argname)
}

.otk_sinkd_opt <- function(tau, eps, iters, power, weight, grad_mode, threads) {
    list(tau = .otk_num(tau, "tau"), eps = .otk_num(eps, "eps"),
         iters = .otk_int(iters, "iters"),
         power = if (is.null(power)) 0 else .otk_num(power, "power"),
         weight = .otk_num(weight, "weight"),
         grad_mode = .otk_choice(grad_mode, "sinkd_grad", "grad_mode"),
         threads = .otk_int(threads, "threads"))
}

sinkd_loss <- function(z_s, z_t, tau = 2, eps = 0.1, iters = 20L, cost = "l1", power = NULL,
                       weight = 1, grad = TRUE, grad_teacher = FALSE,
                       grad_mode = "unrolled", threads = 0L) {
    opt <- .otk_sinkd_opt(tau, eps, iters, power, weight, grad_mode, threads)
    opt$grad <- as.integer(.otk_flag(grad, "grad"))
    opt$grad_teacher <- as.integer(.otk_flag(grad_teacher, "grad_teacher"))
    .Call(otkr_sinkd_loss, .otk_logits(z_s, "z_s"), .otk_logits(z_t, "z_t"), cost, opt)
}

sinkd_objective <- function(z_s, z_t, labels, alpha, beta, kd = "soft-ce", kd_tau = 1,
                            tau = 2, eps = 0.1, iters = 20L, cost = "l1", power = NULL,
                            weight = 1, grad = TRUE, grad_mode = "unrolled", threads = 0L,
                            kd_alpha = NULL, kd_tau2 = FALSE) {
    z_s <- .otk_logits(z_s, "z_s")
    if (is.factor(labels)) labels <- as.integer(labels)
    if (!is.numeric(labels) || anyNA(labels) || any(labels != round(labels)))
        .otk_stop("labels must be integer class indices in 1..K (or a factor)")
    if (length(labels) != nrow(z_s))
        .otk_stop("labels has length ", length(labels), ", expected ", nrow(z_s),
                  " (one per row of z_s)")
    bad <- which(labels < 1 | labels > ncol(z_s))
    if (length(bad))
        .otk_stop("labels[", bad[1L], "] = ", labels[bad[1L]], " is not in 1..", ncol(z_s))
    opt <- .otk_sinkd_opt(tau, eps, iters, power, weight, grad_mode, threads)
    opt$alpha <- .otk_num(alpha, "alpha")
    opt$beta <- .otk_num(beta, "beta")
    # Besides the baselines, any other f-divergence of fdiv() (otkit/fdiv.h).
    fdiv_kd <- c("jeffreys", "tv", "hellinger", "pearson", "neyman", "alpha")
    if (is.character(kd) && length(kd) == 1L && kd %in% fdiv_kd) {
        if (kd == "alpha" && is.null(kd_alpha))
            .otk_stop("kd_alpha: kd \"alpha\" needs kd_alpha (Amari's parameter)")
        opt$kd <- 0L
        opt$kd_fdiv <- kd
    } else {
        if (!is.null(kd_alpha) || isTRUE(kd_tau2))
            .otk_stop("kd_alpha and kd_tau2 apply to the f-divergence KD terms (",
                      paste(fdiv_kd, collapse = ", "), ")")
        opt$kd <- .otk_choice(kd, "kd_divergence", "kd")
        opt["kd_fdiv"] <- list(NULL)
    }
    opt$kd_alpha <- if (is.null(kd_alpha)) 0 else .otk_num(kd_alpha, "kd_alpha")
    opt$kd_tau2 <- as.integer(.otk_flag(kd_tau2, "kd_tau2"))
    opt$kd_tau <- .otk_num(kd_tau, "kd_tau")
    opt$grad <- as.integer(.otk_flag(grad, "grad"))
    .Call(otkr_sinkd_objective, z_s, .otk_logits(z_t, "z_t"), as.integer(labels) - 1L,
          cost, opt)
}

kd_loss <- function(kind, z_s, z_t, tau = 1, grad = TRUE) {
    .Call(otkr_kd_loss, .otk_choice(kind, "kd_divergence", "kind"), .otk_logits(z_s, "z_s"),
          .otk_logits(z_t, "z_t"), .otk_num(tau, "tau"), .otk_flag(grad, "grad"))
}

kl_loss <- function(z_s, z_t, tau = 1, grad = TRUE) kd_loss("kl", z_s, z_t, tau, grad)
rkl_loss <- function(z_s, z_t, tau = 1, grad = TRUE) kd_loss("reverse-kl", z_s, z_t, tau, grad)
js_loss <- function(z_s, z_t, tau = 1, grad = TRUE) kd_loss("js", z_s, z_t, tau, grad)
soft_ce_loss <- function(z_s, z_t, tau = 1, grad = TRUE) kd_loss("soft-ce", z_s, z_t, tau, grad)

# The regression (STS-B) form of the SinKD GLUE code (otkit/distill.h).
sinkd_regression_objective <- function(s, t, y, alpha, tau = 2, grad = TRUE) {
    v <- list(s = s, t = t, y = y)
    for (nm in names(v)) {
        if (!is.numeric(v[[nm]]) || !length(v[[nm]]))
            .otk_stop(nm, " must be a non-empty numeric vector")
        v[[nm]] <- as.double(v[[nm]])
        bad <- which(!is.finite(v[[nm]]))
        if (length(bad))
            .otk_stop(nm, "[", bad[1L], "] = ", format(v[[nm]][bad[1L]]), " is not finite")
    }
    if (length(v$t) != length(v$s) || length(v$y) != length(v$s))
        .otk_stop("s, t and y must have the same length (", length(v$s), ", ", length(v$t),
                  ", ", length(v$y), ")")
    .Call(otkr_sinkd_regression_objective, v$s, v$t, v$y, .otk_num(alpha, "alpha"),
          .otk_num(tau, "tau"), .otk_flag(grad, "grad"))
}
