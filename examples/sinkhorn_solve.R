#!/usr/bin/env Rscript
# Entropic OT between a cloud and its translate by (0.5, 0) (sinkhorn_solve.c
# in R): the exact cost is 0.25.  Prints the three values; ends with "ok".
suppressPackageStartupMessages(library(otkit))
set.seed(42)
x <- matrix(runif(80), 40, 2)
y <- sweep(x, 2, c(0.5, 0), "+")
r <- sinkhorn(x = x, y = y, eps = 0.02, tol = 1e-8, plan = TRUE)
cat(sprintf("OT_kl  = %.6f\nOT_ent = %.6f\nOT_lin = %.6f   (exact OT: 0.25)\n",
            r$ot_kl, r$ot_ent, r$ot_lin))
cat(sprintf("iterations = %d, marginal error = %.2e\n", r$iterations, r$marginal_error))
err <- sum(abs(rowSums(r$plan) - 1 / 40)) + sum(abs(colSums(r$plan) - 1 / 40))
ok <- r$status == 0 && err < 1e-7 && r$ot_lin >= 0.25 - 1e-9 && r$ot_lin < 0.275
cat(if (ok) "ok\n" else "FAILED\n")
quit(status = if (ok) 0 else 1)
