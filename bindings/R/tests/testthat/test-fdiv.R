# fdiv(), psi() and information_value(): closed forms of the hand pair of
# tests/test_fdiv.c, plain R formulas, finite differences, the otk tool.

p3 <- c(0.5, 0.25, 0.25)
q3 <- c(0.125, 0.5, 0.375)

test_that("fdiv() members match their closed forms on the hand pair", {
    expect_close(fdiv(p3, q3)$value, log(2) - log(3) / 4, 1e-14)
    expect_close(fdiv(p3, q3, kind = "reverse-kl")$value, -log(2) / 8 + 3 * log(3) / 8, 1e-14)
    expect_close(fdiv(p3, q3, kind = "jeffreys")$value, 7 * log(2) / 8 + log(3) / 8, 1e-14)
    expect_close(fdiv(p3, q3, kind = "tv")$value, 3 / 8, 1e-14)
    expect_close(fdiv(p3, q3, kind = "hellinger")$value, 1.5 - 1 / sqrt(2) - sqrt(3 / 8), 1e-14)
    expect_close(fdiv(p3, q3, kind = "pearson")$value, 31 / 24, 1e-14)
    expect_close(fdiv(p3, q3, kind = "neyman")$value, 19 / 32, 1e-14)
    expect_close(fdiv(p3, q3, kind = "alpha", alpha = 3)$value, 19 / 64, 1e-13)
    expect_close(fdiv(p3, q3, kind = "alpha", alpha = -1)$value, log(2) - log(3) / 4, 1e-14)
    m <- (p3 + q3) / 2
    expect_close(fdiv(p3, q3, kind = "js")$value,
                 sum(p3 * log(p3 / m)) / 2 + sum(q3 * log(q3 / m)) / 2, 1e-14)
})

test_that("fdiv() on logits with a temperature, reductions and the KD baseline agree", {
    set.seed(4)
    zs <- matrix(rnorm(24) * 3, 4, 6)
    zt <- matrix(rnorm(24) * 3, 4, 6)
    r <- fdiv(zt, zs, logits = TRUE, tau = 2, tau2 = TRUE, reduction = "none", grad = "q")
    ps <- exp(zs / 2) / rowSums(exp(zs / 2))
    pt <- exp(zt / 2) / rowSums(exp(zt / 2))
    expect_close(r$value, 4 * rowSums(pt * log(pt / ps)), 1e-13)
    kd <- kd_loss("kl", zs, zt, tau = 2)
    expect_close(mean(r$value), kd$loss, 1e-14)
    expect_close(r$grad_q / 4, kd$grad_s, 1e-13)  # "none": gradients of each row
    expect_null(r$grad_p)
})

test_that("fdiv() gradients match finite differences", {
    set.seed(5)
    p <- matrix(runif(8, 0.1, 1), 2, 4)
    q <- matrix(runif(8, 0.1, 1), 2, 4)
    for (kind in c("jeffreys", "hellinger", "alpha")) {
        a <- if (kind == "alpha") 0.4 else NULL
        r <- fdiv(p, q, kind = kind, alpha = a, grad = TRUE)
        for (side in c("p", "q")) {
            x <- if (side == "p") p else q
            g <- if (side == "p") r$grad_p else r$grad_q
            fd <- x
            for (i in seq_along(x)) {
                h <- 1e-6 * x[i]
                xp <- x; xp[i] <- x[i] + h
                xm <- x; xm[i] <- x[i] - h
                f <- function(z) if (side == "p") fdiv(z, q, kind = kind, alpha = a)$value
                                 else fdiv(p, z, kind = kind, alpha = a)$value
                fd[i] <- (f(xp) - f(xm)) / (2 * h)
            }
            expect_lte(max(abs(fd - g)), 1e-7 * max(abs(g)))
        }
    }
})

test_that("fdiv() zero conventions and errors name the argument", {
    expect_equal(fdiv(c(0.5, 0.5, 0), c(1, 0, 0))$value, Inf)
    expect_error(fdiv(c(0.5, 0.5, 0), c(1, 0, 0), grad = TRUE), "row 0, class 1")
    r <- fdiv(c(0.5, 0.5, 0), c(1, 0, 0), smoothing = 0.1, grad = TRUE)
    expect_true(all(is.finite(r$grad_p)))
    expect_error(fdiv(p3, q3, kind = "chi2"), "pearson")
    expect_error(fdiv(p3, q3, kind = "alpha"), "alpha")
    expect_error(fdiv(p3, q3, reduction = "avg"), "mean, sum or none")
    expect_error(fdiv(p3, c(0.5, -0.5, 1)), "negative")
    expect_error(fdiv(p3, q3, kind = "custom"), "C and Python")
})

test_that("psi() and information_value() match a hand computation", {
    expect_close(psi(c(10, 20, 30, 40), c(20, 20, 20, 40), counts = TRUE)$psi,
                 0.1 * log(3), 1e-14)
    r <- psi(1:10, c(1, 2, 3, 9, 9, 9, 9, 9), bins = 2)
    expect_equal(r$edges, 5.5)
    expect_close(r$psi, -0.125 * log(0.75) + 0.125 * log(1.25), 1e-14)
    r <- psi(1:10, c(1, 2, 3, 9, 9, 9, 9, 9), binning = "equal-width", bins = 3)
    expect_close(r$psi, (0.375 - 0.4) * log(0.375 / 0.4) + (1e-4 - 0.3) * log(1e-4 / 0.3) +
                        (0.625 - 0.3) * log(0.625 / 0.3), 1e-14)
    x <- c(rnorm(300), rnorm(200, 1))
    r <- psi(x[1:300], x[301:500])
    expect_close(r$edges, unname(quantile(x[1:300], (1:9) / 10)), 1e-14)
    iv <- information_value(1:8, c(0, 0, 0, 1, 0, 1, 1, 1), bins = 2)
    expect_close(iv$iv, log(3), 1e-14)
    expect_close(iv$woe, c(log(3), -log(3)), 1e-14)
    expect_error(information_value(1:8, c(0, 2, 0, 1, 0, 1, 1, 1)), "y\\[2\\]")
    expect_error(psi(1:3, 1:3, binning = "width"), "equal-width")
})

test_that("fdiv() and psi() agree with otk fdiv", {
    dir <- tempfile("otkr"); dir.create(dir)
    set.seed(6)
    p <- matrix(runif(12), 3, 4); p <- p / rowSums(p)
    q <- matrix(runif(12), 3, 4); q <- q / rowSums(q)
    fp <- write_csv(file.path(dir, "p.csv"), p)
    fq <- write_csv(file.path(dir, "q.csv"), q)
    js <- run_otk(c("fdiv", fp, fq, "--kind", "neyman", "--reduction", "sum"))
    expect_close(fdiv(p, q, kind = "neyman", reduction = "sum")$value, js$value, 1e-15)
    fr <- write_csv(file.path(dir, "r.csv"), matrix(1:10, ncol = 1))
    fa <- write_csv(file.path(dir, "a.csv"), matrix(c(1, 2, 3, 9, 9, 9, 9, 9), ncol = 1))
    js <- run_otk(c("fdiv", "--psi", fr, fa, "--bins", "2"))
    expect_close(psi(1:10, c(1, 2, 3, 9, 9, 9, 9, 9), bins = 2)$psi, js$psi, 1e-15)
})

test_that("sinkd_regression_objective() matches the hand computation", {
    r <- sinkd_regression_objective(c(1, 2, 3), c(1, 4, 0), c(2, 2, 2), alpha = 0.25)
    expect_close(r$total, 37 / 48, 1e-15)  # 1/4 * 13/12 + 3/4 * 2/3
    expect_close(r$kd, 13 / 12, 1e-15)
    expect_close(r$mse, 2 / 3, 1e-15)
    expect_equal(r$sinkd, 0)
    expect_close(r$grad_s, 2 / 3 * (0.25 * (c(1, 2, 3) - c(1, 4, 0)) / 4 +
                                    0.75 * (c(1, 2, 3) - 2)), 1e-15)
    expect_error(sinkd_regression_objective(1:3, 1:2, 1:3, 0.5), "same length")
    expect_error(sinkd_regression_objective(1:3, 1:3, 1:3, 2), "alpha")
})

test_that("sinkd_objective() takes any f-divergence as the KD term", {
    set.seed(31)
    z <- list(s = matrix(rnorm(24), 6, 4), t = matrix(rnorm(24) * 2, 6, 4))
    labels <- c(1, 2, 3, 4, 1, 2)
    r <- sinkd_objective(z$s, z$t, labels, alpha = 0.3, beta = 0.5, kd = "hellinger",
                         kd_tau = 2)
    expect_close(r$kd, fdiv(z$t, z$s, kind = "hellinger", logits = TRUE, tau = 2)$value, 1e-14)
    expect_close(r$total, 0.3 * r$kd + 0.7 * r$ce + 0.5 * r$sinkd, 1e-14)
    r2 <- sinkd_objective(z$s, z$t, labels, alpha = 0.3, beta = 0.5, kd = "alpha",
                          kd_alpha = -1, kd_tau = 2, kd_tau2 = TRUE)
    r3 <- sinkd_objective(z$s, z$t, labels, alpha = 0.3, beta = 0.5, kd = "kl", kd_tau = 2)
    expect_close(r2$total, r3$total, 1e-13)  # alpha = -1 is KL, with tau^2 the KD baseline
    expect_close(r2$grad_s, r3$grad_s, 1e-12)
    expect_error(sinkd_objective(z$s, z$t, labels, 0.3, 0.5, kd = "alpha"), "kd_alpha")
    expect_error(sinkd_objective(z$s, z$t, labels, 0.3, 0.5, kd = "kl", kd_tau2 = TRUE),
                 "kd_tau2")
})
