#!/usr/bin/env Rscript
# Sinkhorn divergences between real data sets of base R (the R notebook's
# second half, notebooks/06_from_R.ipynb): the iris species, and the short and
# long eruptions of Old Faithful with a permutation test.  Writes
# datasets.png in the working directory; ends with "ok".
suppressPackageStartupMessages(library(otkit))
species <- levels(iris$Species)
X <- lapply(species, function(s) as.matrix(iris[iris$Species == s, 1:4]))
names(X) <- species
D <- outer(1:3, 1:3, Vectorize(function(i, j)
    sinkhorn_divergence(X[[i]], X[[j]], blur = 0.5)$value))
dimnames(D) <- list(species, species)
print(round(D, 4))
short <- faithful$eruptions < 3
w <- faithful$waiting
s_obs <- sinkhorn_divergence(w[short], w[!short], blur = 5)$value
set.seed(2)
perm <- replicate(200, { k <- sample(short); sinkhorn_divergence(w[k], w[!k], blur = 5)$value })
cat(sprintf("faithful: S_eps(short, long) = %.2f min^2, permutation p-value %.3f\n",
            s_obs, (1 + sum(perm >= s_obs)) / 201))
png("datasets.png", width = 600, height = 260)
par(mfrow = c(1, 2), mar = c(4, 4, 2, 1))
image(1:3, 1:3, D, axes = FALSE, xlab = "", ylab = "", main = "iris: S_eps between species")
axis(1, 1:3, species); axis(2, 1:3, species)
hist(log10(perm), breaks = 20, xlim = range(log10(c(perm, s_obs))) + c(0, 0.1), col = "gray60",
     border = NA, xlab = "log10 S_eps (min^2)", main = "faithful: permutations vs observed")
abline(v = log10(s_obs), col = "firebrick", lwd = 2)
invisible(dev.off())
ok <- D[1, 3] > D[1, 2] && D[1, 2] > D[2, 3] && D[2, 3] > 0.5 && all(diag(D) < 1e-8) && s_obs > max(perm)
cat(if (ok) "ok\n" else "FAILED\n")
quit(status = if (ok) 0 else 1)
