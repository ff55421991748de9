# The bad-input matrix through R (docs/reliability.md): every exported entry
# point x {NULL, empty and mismatched shapes, NaN, +-Inf, negative weights,
# zero mass, eps <= 0 / NaN, rho <= 0, unknown names, wrong types} gives an R
# error, never a crash of the session; valid extremes give finite values.

set.seed(3)
X <- matrix(rnorm(12), 6, 2)
Y <- matrix(rnorm(10), 5, 2) + 0.5
A <- rep(1 / 6, 6)
B <- rep(1 / 5, 5)
C <- outer(seq_len(6), seq_len(5), function(i, j) (X[i, 1] - Y[j, 1])^2 + (X[i, 2] - Y[j, 2])^2)
ZS <- matrix(rnorm(12), 4, 3)
ZT <- matrix(rnorm(12), 4, 3)
with_at <- function(v, i, value) { v[i] <- value; v }

bad <- list(
    "sinkhorn: x NaN" = function() sinkhorn(A, B, x = with_at(X, 3, NaN), y = Y),
    "sinkhorn: y Inf" = function() sinkhorn(A, B, x = X, y = with_at(Y, 1, Inf)),
    "sinkhorn: C -Inf" = function() sinkhorn(A, B, C = with_at(C, 4, -Inf), eps = 0.1),
    "sinkhorn: a negative" = function() sinkhorn(with_at(A, 1, -0.1), B, x = X, y = Y),
    "sinkhorn: a zero mass" = function() sinkhorn(rep(0, 6), B, x = X, y = Y),
    "sinkhorn: unequal masses" = function() sinkhorn(A, 3 * B, x = X, y = Y),
    "sinkhorn: a wrong length" = function() sinkhorn(A[1:4], B, x = X, y = Y),
    "sinkhorn: dimension mismatch" = function() sinkhorn(A, B, x = X, y = matrix(1, 5, 3)),
    "sinkhorn: C wrong shape" = function() sinkhorn(A, B, C = t(C), eps = 0.1),
    "sinkhorn: no cost" = function() sinkhorn(A, B),
    "sinkhorn: eps 0" = function() sinkhorn(A, B, C = C, eps = 0),
    "sinkhorn: eps NaN" = function() sinkhorn(A, B, C = C, eps = NaN),
    "sinkhorn: eps Inf" = function() sinkhorn(A, B, C = C, eps = Inf),
    "sinkhorn: blur < 0" = function() sinkhorn(A, B, x = X, y = Y, blur = -0.1),
    "sinkhorn: rho 0" = function() sinkhorn(A, B, x = X, y = Y, rho = 0),
    "sinkhorn: rho < 0" = function() sinkhorn(A, B, x = X, y = Y, rho = -1),
    "sinkhorn: scaling 1" = function() sinkhorn(A, B, x = X, y = Y, scaling = 1),
    "sinkhorn: unknown cost" = function() sinkhorn(A, B, x = X, y = Y, cost = "manhattan-ish"),
    "sinkhorn: unknown schedule" = function() sinkhorn(A, B, x = X, y = Y, schedule = "none"),
    "sinkhorn: x a string" = function() sinkhorn(A, B, x = "points", y = Y),
    "sinkhorn: eps a string" = function() sinkhorn(A, B, C = C, eps = "small"),
    "divergence: x NaN" = function() sinkhorn_divergence(with_at(X, 1, NaN), Y),
    "divergence: b negative" = function() sinkhorn_divergence(X, Y, b = with_at(B, 2, -1)),
    "divergence: blur 0" = function() sinkhorn_divergence(X, Y, blur = 0),
    "divergence: p 0" = function() sinkhorn_divergence(X, Y, p = 0),
    "divergence: reach < 0" = function() sinkhorn_divergence(X, Y, reach = -2),
    "divergence: unknown cost" = function() sinkhorn_divergence(X, Y, cost = "cosine"),
    "sinkd_loss: logits NaN" = function() sinkd_loss(with_at(ZS, 2, NaN), ZT),
    "sinkd_loss: shape mismatch" = function() sinkd_loss(ZS, ZT[1:3, ]),
    "sinkd_loss: tau 0" = function() sinkd_loss(ZS, ZT, tau = 0),
    "sinkd_loss: iters 0" = function() sinkd_loss(ZS, ZT, iters = 0L),
    "sinkd_objective: label out of range" = function() sinkd_objective(ZS, ZT, c(0L, 1L, 2L, 3L), 0.5, 0.1),
    "kd_loss: unknown kind" = function() kd_loss("wasserstein", ZS, ZT),
    "kd_loss: tau NaN" = function() kd_loss("kl", ZS, ZT, tau = NaN),
    "monge_gap: tx NaN" = function() monge_gap(X, with_at(X, 2, NaN)),
    "monge_gap: shape mismatch" = function() monge_gap(X, X[1:5, ]),
    "monge_gap: eps < 0" = function() monge_gap(X, X, eps = -1),
    "monge_gap: unknown relative_to" = function() monge_gap(X, X, relative_to = "nope"),
    "fit_map: unknown family" = function() fit_map(X, Y, family = "quadratic"),
    "fit_map: unknown activation" = function() fit_map(X, Y, family = "mlp", activation = "relu6"),
    "fit_map: x NaN" = function() fit_map(with_at(X, 1, NaN), Y),
    "load_map: missing file" = function() load_map(file.path(tempdir(), "no-such-map.txt"))
)

for (name in names(bad)) {
    test_that(paste("bad input gives an R error:", name), {
        expect_error(bad[[name]]())
    })
}

test_that("valid extremes give finite values", {
    r <- sinkhorn(A, B, C = C, eps = 1e12)
    expect_true(all(is.finite(c(r$ot_kl, r$ot_ent, r$ot_lin))))
    r <- suppressWarnings(sinkhorn(A, B, C = C, eps = 1e-12, max_iter = 200L))
    expect_true(all(is.finite(c(r$ot_kl, r$ot_ent, r$ot_lin))))
    d <- sinkhorn_divergence(X, Y, blur = 1e6)
    expect_true(is.finite(d$value))
})
