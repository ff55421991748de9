#!/usr/bin/env Rscript
# A small ring flows onto a larger ring along the displacement field of the
# Sinkhorn divergence (gradient_flow.c in R): the divergence is planned once
# and its points moved with set_points().  Ends with "ok".
suppressPackageStartupMessages(library(otkit))
t <- 2 * pi * (0:63) / 64
s <- 2 * pi * (0:95) / 96
x <- cbind(0.25 + 0.1 * cos(t), 0.25 + 0.1 * sin(t))
y <- cbind(0.7 + 0.25 * cos(s), 0.6 + 0.25 * sin(s))
D <- Divergence(x, y, blur = 0.05, p = 2)  # GeomLoss's defaults: |x-y|^2/2
values <- numeric(0)
for (step in 0:10) {
    values <- c(values, divergence_solve(D)$value)
    if (step %% 2 == 0) cat(sprintf("step %2d  S_eps = %.3e\n", step, values[step + 1]))
    x <- x - 0.5 * divergence_displacement(D)  # dS/dx_i divided by a_i
    set_points(D, x = x)
}
ok <- all(diff(values) <= 0) && values[11] < 0.01 * values[1]
cat(if (ok) "ok\n" else "FAILED\n")
quit(status = if (ok) 0 else 1)
