# %% [markdown]
# # 6. otkit from R
#
# The R package `otkit` (bindings/R) calls the same C library.  The quick start
# again, then Sinkhorn divergences between real data sets from base R's
# `datasets` package: the three `iris` species, and the two regimes of the
# Old Faithful geyser (`faithful`).  This notebook runs on the R Jupyter kernel
# (Debian's `r-cran-irkernel`); `examples/sinkhorn_solve.R` and
# `examples/datasets.R` are scripts for `Rscript` doing the same.

# %%
suppressPackageStartupMessages(library(otkit))
fig_dir <- Sys.getenv("OTKIT_NB_FIGURES", "figures")
dir.create(fig_dir, showWarnings = FALSE, recursive = TRUE)
options(repr.plot.width = 7, repr.plot.height = 3.5, repr.plot.res = 72)
cat("otkit", otk_version(), "on", R.version.string, "\n")

# %% [markdown]
# ## Quick start
#
# Points are rows.  `sinkhorn()` uses the cost |x − y|² by default; ε is in
# cost units; `plan = TRUE` returns the n × m plan.

# %%
set.seed(0)
n <- 60; m <- 50
t <- runif(n, 0.15 * pi, 0.85 * pi)
x <- cbind(cos(t), sin(t) - 0.4) + matrix(rnorm(2 * n, sd = 0.05), n)
y <- cbind(rnorm(m, 0, 0.25), rnorm(m, -0.6, 0.25))
r <- sinkhorn(x = x, y = y, eps = 0.01, plan = TRUE)
cat(sprintf("ot_kl %.6f  ot_ent %.6f  ot_lin %.6f  (%d iterations, marginal error %.1e)\n",
            r$ot_kl, r$ot_ent, r$ot_lin, r$iterations, r$marginal_error))
cat(sprintf("row sums of the plan within %.1e of 1/n\n", max(abs(rowSums(r$plan) - 1 / n))))

# %%
draw_plan <- function(P, x, y, main) {
    plot(rbind(x, y), type = "n", asp = 1, xlab = "", ylab = "", axes = FALSE, main = main)
    ij <- which(P > 1e-2 * max(P), arr.ind = TRUE)
    segments(x[ij[, 1], 1], x[ij[, 1], 2], y[ij[, 2], 1], y[ij[, 2], 2],
             col = rgb(0.2, 0.2, 0.2, alpha = P[ij] / max(P)))
    points(x, pch = 19, cex = 0.5, col = "steelblue")
    points(y, pch = 19, cex = 0.5, col = "firebrick")
}
plot_quickstart <- function() {
    par(mfrow = c(1, 3), mar = c(0.5, 0.5, 2, 0.5))
    for (eps in c(0.1, 0.03, 0.01))
        draw_plan(sinkhorn(x = x, y = y, eps = eps, plan = TRUE)$plan, x, y,
                  sprintf("eps = %g", eps))
}
png(file.path(fig_dir, "06_quickstart.png"), width = 600, height = 220)
plot_quickstart()
invisible(dev.off())
plot_quickstart()

# %% [markdown]
# ## Iris: how far apart are the species?
#
# Each species is a cloud of 50 points in 4-D (sepal and petal length and
# width, in cm).  The Sinkhorn divergence S_ε (GeomLoss's convention: cost
# |x − y|²/2, blur 0.5 cm) between each pair, and between two random halves
# of one species as a yardstick for the sampling noise.

# %%
data(iris)
species <- levels(iris$Species)
X <- lapply(species, function(s) as.matrix(iris[iris$Species == s, 1:4]))
names(X) <- species
D <- matrix(0, 3, 3, dimnames = list(species, species))
for (i in 1:3) for (j in 1:3)
    D[i, j] <- sinkhorn_divergence(X[[i]], X[[j]], blur = 0.5)$value
print(round(D, 4))
set.seed(1)
half <- sample(50, 25)
noise <- sapply(species, function(s)
    sinkhorn_divergence(X[[s]][half, ], X[[s]][-half, ], blur = 0.5)$value)
cat("two halves of one species:", sprintf("%s %.4f", names(noise), noise), "\n")

# %% [markdown]
# Setosa is far from both others; versicolor and virginica are close but
# still well above the split-half noise.  The gradient of S_ε with respect to
# the points says which measurements separate them: the mean displacement
# field of versicolor towards virginica, per feature (cm),

# %%
g <- sinkhorn_divergence(X$versicolor, X$virginica, blur = 0.5, grad = TRUE)
disp <- -g$grad_x * nrow(X$versicolor)  # -dS/dx_i / a_i: where each point would move
print(round(setNames(colMeans(disp), colnames(X$versicolor)), 3))

# %% [markdown]
# ## Old Faithful: two regimes
#
# `faithful` records 272 eruptions: duration (min) and waiting time to the
# next one (min).  Splitting at a duration of 3 minutes gives the short and
# the long regime; the divergence between their waiting times (1-D), against
# the divergence between two random halves of all eruptions, and against
# permutations of the regime labels (a permutation test).  The blur is 5
# minutes: waiting times are recorded in whole minutes, and a blur well above
# that spacing keeps every solve to a few dozen iterations.

# %%
data(faithful)
short <- faithful$eruptions < 3
w <- faithful$waiting
s_obs <- sinkhorn_divergence(w[short], w[!short], blur = 5)$value
set.seed(2)
perm <- replicate(200, {
    k <- sample(short)
    sinkhorn_divergence(w[k], w[!k], blur = 5)$value
})
cat(sprintf("S_eps(short, long) = %.2f min^2; permutations: max %.2f, 95%% quantile %.2f\n",
            s_obs, max(perm), quantile(perm, 0.95)))
cat(sprintf("permutation p-value %.3f (%d of 200 permutations reached the observed value)\n",
            (1 + sum(perm >= s_obs)) / 201, sum(perm >= s_obs)))

# %%
plot_faithful <- function() {
    par(mfrow = c(1, 2), mar = c(4, 4, 2, 1))
    plot(faithful$eruptions, faithful$waiting, col = ifelse(short, "steelblue", "firebrick"),
         pch = 19, cex = 0.6, xlab = "eruption (min)", ylab = "waiting (min)",
         main = "faithful: short and long regimes")
    hist(log10(perm), breaks = 20, xlim = range(log10(c(perm, s_obs))) + c(0, 0.1),
         col = "gray60", border = NA, xlab = "log10 S_eps (min^2)",
         main = "permutations (gray) vs observed (red)")
    abline(v = log10(s_obs), col = "firebrick", lwd = 2)
}
png(file.path(fig_dir, "06_faithful.png"), width = 600, height = 260)
plot_faithful()
invisible(dev.off())
plot_faithful()
