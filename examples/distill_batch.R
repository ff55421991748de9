#!/usr/bin/env Rscript
# Distillation losses on one batch of logits (distill_batch.c in R); the SinKD
# gradient is checked against central differences.  Ends with "ok".
suppressPackageStartupMessages(library(otkit))
B <- 16; K <- 10
i <- matrix(0:(B - 1), B, K); k <- matrix(0:(K - 1), B, K, byrow = TRUE)
z_t <- ifelse(k == i %% K, 4, 0) + 0.3 * sin(1 + i * K + k)
z_s <- 1.5 * cos(0.7 * i + 1.3 * k) + ifelse(k == i %% K, 1, 0)
res <- sinkd_loss(z_s, z_t, tau = 2, eps = 0.1, iters = 20)
cat(sprintf("SinKD (tau 2, eps 0.1, 20 iterations): %.6f\n", res$loss))
h <- 1e-6; worst <- 0
for (e in seq(1, B * K, by = 37)) {
    zp <- z_s; zp[e] <- zp[e] + h
    zm <- z_s; zm[e] <- zm[e] - h
    fd <- (sinkd_loss(zp, z_t)$loss - sinkd_loss(zm, z_t)$loss) / (2 * h)
    worst <- max(worst, abs(fd - res$grad_s[e]) / max(1e-8, abs(fd)))
}
cat(sprintf("SinKD gradient vs central differences: worst relative error %.1e\n", worst))
ok <- worst < 1e-5
for (kind in c("kl", "reverse-kl", "js", "soft-ce")) {
    tau <- if (kind == "kl") 4 else 1
    v <- kd_loss(kind, z_s, z_t, tau = tau)$loss
    cat(sprintf("%-10s tau %g: %.6f\n", kind, tau, v))
    ok <- ok && v >= 0 && (kind != "js" || v <= log(2))
}
cat(if (ok) "ok\n" else "FAILED\n")
quit(status = if (ok) 0 else 1)
