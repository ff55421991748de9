#!/usr/bin/env Rscript
# The barycenter of two bumps on an icosphere (mesh_barycenter.c in R): it
# sits halfway along the great circle between them.  Ends with "ok".
suppressPackageStartupMessages(library(otkit))
M <- mesh_generate("icosphere", 3L)
V <- M$vertices
bump <- function(c, s = 0.15) {
    w <- M$areas * exp(-rowSums(sweep(V, 2L, c)^2) / (2 * s * s))
    w / sum(w)
}
A <- cbind(bump(c(0, 0, 1)), bump(c(1, 0, 0)))  # one column per histogram
r <- mesh_barycenter(M, A)  # eps = (2h)^2 by default, heat-kernel cost
mean <- drop(r$barycenter %*% V)
angle <- acos(min(1, (mean[1] + mean[3]) / (sqrt(sum(mean^2)) * sqrt(2)))) * 180 / pi
cat(sprintf("icosphere: %d vertices, eps = %.4g, mass %.9f\n", as.integer(M$n), r$eps,
            sum(r$barycenter)))
cat(sprintf("barycenter mean direction (%s): %.2f degrees from (1,0,1)/sqrt 2\n",
            paste(round(mean / sqrt(sum(mean^2)), 3), collapse = ", "), angle))
ok <- abs(sum(r$barycenter) - 1) < 1e-6 && angle < 5
cat(if (ok) "ok\n" else "FAILED\n")
quit(status = if (ok) 0 else 1)
