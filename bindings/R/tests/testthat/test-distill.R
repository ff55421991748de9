make_logits <- function(seed, B = 12L, K = 5L) {
    set.seed(seed)
    list(s = matrix(rnorm(B * K), B, K), t = matrix(rnorm(B * K) * 2, B, K))
}

softmax_rows <- function(z) {
    e <- exp(z - apply(z, 1L, max))
    e / rowSums(e)
}

test_that("sinkd_loss() matches otk sinkd on non-square B x K logits", {
    z <- make_logits(21L)
    dir <- tempfile("otkr"); dir.create(dir)
    fs <- write_csv(file.path(dir, "s.csv"), z$s)
    ft <- write_csv(file.path(dir, "t.csv"), z$t)
    for (case in list(list(args = character(0), kw = list()),
                      list(args = c("--tau", "1.5", "--eps", "0.3", "--iters", "7",
                                    "--cost", "sqeuclidean", "--weight", "0.5"),
                           kw = list(tau = 1.5, eps = 0.3, iters = 7, cost = "sqeuclidean",
                                     weight = 0.5)),
                      list(args = c("--grad-mode", "envelope"), kw = list(grad_mode = "envelope")))) {
        gf <- file.path(dir, "g.csv")
        js <- run_otk(c("sinkd", fs, ft, "--grad", gf, case$args))
        r <- do.call(sinkd_loss, c(list(z$s, z$t), case$kw))
        expect_close(r$loss, js$loss)
        expect_equal(dim(r$grad_s), c(12L, 5L))
        ref <- read_csv(gf); dimnames(ref) <- NULL
        expect_close(r$grad_s, ref)
        expect_null(r$grad_t)
    }
})

test_that("sinkd_objective() matches otk sinkd --labels (R labels count from 1)", {
    z <- make_logits(22L)
    labels <- c(1L, 5L, 2L, 3L, 4L, 1L, 2L, 5L, 5L, 3L, 2L, 1L)
    dir <- tempfile("otkr"); dir.create(dir)
    fs <- write_csv(file.path(dir, "s.csv"), z$s)
    ft <- write_csv(file.path(dir, "t.csv"), z$t)
    fl <- file.path(dir, "l.csv"); writeLines(as.character(labels - 1L), fl)
    gf <- file.path(dir, "g.csv")
    js <- run_otk(c("sinkd", fs, ft, "--labels", fl, "--alpha", "0.3", "--beta", "2",
                    "--kd", "kl", "--kd-tau", "3", "--grad", gf))
    r <- sinkd_objective(z$s, z$t, labels, alpha = 0.3, beta = 2, kd = "kl", kd_tau = 3)
    expect_close(r$total, js$loss)
    expect_close(r$kd, js$kd)
    expect_close(r$ce, js$ce)
    expect_close(r$sinkd, js$sinkd)
    ref <- read_csv(gf); dimnames(ref) <- NULL
    expect_close(r$grad_s, ref)
    # The cross-entropy part, computed in R from the 1-based labels.
    p <- softmax_rows(z$s)
    expect_equal(r$ce, -mean(log(p[cbind(seq_along(labels), labels)])), tolerance = 1e-12)
    expect_identical(sinkd_objective(z$s, z$t, factor(labels, levels = 1:5), 0.3, 2,
                                     kd = "kl", kd_tau = 3)$total, r$total)
})

test_that("kd_loss() kinds equal their closed forms computed in R", {
    z <- make_logits(23L)
    tau <- 2.5
    ps <- softmax_rows(z$s / tau); pt <- softmax_rows(z$t / tau)
    kl <- function(p, q) mean(rowSums(p * log(p / q)))
    m <- (ps + pt) / 2
    expect_equal(kl_loss(z$s, z$t, tau)$loss, tau^2 * kl(pt, ps), tolerance = 1e-12)
    expect_equal(rkl_loss(z$s, z$t, tau)$loss, kl(ps, pt), tolerance = 1e-12)
    expect_equal(js_loss(z$s, z$t, tau)$loss, (kl(ps, m) + kl(pt, m)) / 2, tolerance = 1e-12)
    expect_equal(soft_ce_loss(z$s, z$t, tau)$loss, -mean(rowSums(pt * log(ps))),
                 tolerance = 1e-12)
    # The gradient is laid out like z_s (B x K): check entries by differences.
    g <- kl_loss(z$s, z$t, tau)$grad_s
    h <- 1e-6
    for (ij in list(c(1L, 1L), c(12L, 5L), c(4L, 2L))) {
        zp <- z$s; zp[ij[1], ij[2]] <- zp[ij[1], ij[2]] + h
        zm <- z$s; zm[ij[1], ij[2]] <- zm[ij[1], ij[2]] - h
        fd <- (kl_loss(zp, z$t, tau, grad = FALSE)$loss - kl_loss(zm, z$t, tau, grad = FALSE)$loss) / (2 * h)
        expect_equal(g[ij[1], ij[2]], fd, tolerance = 1e-6)
    }
})

test_that("distillation: bad input stops with the argument's name", {
    z <- make_logits(24L)
    zs <- z$s; zs[3, 2] <- NA_real_
    expect_error(sinkd_loss(zs, z$t), "z_s\\[3, 2\\] = NA is not finite")
    expect_error(sinkd_loss(z$s, z$t[, 1:4]), "z_t is 12 x 4, z_s is 12 x 5")
    expect_error(sinkd_loss(z$s, z$t, tau = 0), "tau.*OTK_EPARAM")
    expect_error(sinkd_loss(z$s, z$t, cost = "hamming"), "cost = \"hamming\"")
    expect_error(kd_loss("mse", z$s, z$t), "kind = \"mse\" is not one of")
    expect_error(sinkd_objective(z$s, z$t, rep(6L, 12), 0.5, 1), "labels\\[1\\] = 6 is not in 1..5")
    expect_error(sinkd_objective(z$s, z$t, rep(1L, 11), 0.5, 1), "labels has length 11")
    expect_error(sinkd_objective(z$s, z$t, rep(1L, 12), 1.5, 1), "alpha.*OTK_EPARAM")
    expect_error(sinkd_loss(1:3, z$t), "z_s must be a numeric B x K matrix")
})
