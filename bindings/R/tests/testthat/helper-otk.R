# The C tool `otk` of the same installation is the reference: set OTK to its
# path (bindings/R/run_tests.sh does), or have it on the PATH.  Without it the
# comparisons are skipped with that reason printed in testthat's summary,
# never silently.

otk_tool <- function() {
    tool <- Sys.getenv("OTK", "")
    if (!nzchar(tool)) tool <- unname(Sys.which("otk"))
    if (!nzchar(tool) || !file.exists(tool))
        skip("the otk tool was not found: set OTK=/path/to/otk (PREFIX/bin/otk)")
    tool
}

# CSV with 17 significant digits, so that R and the tool read the same doubles.
write_csv <- function(path, m) {
    m <- as.matrix(m)
    lines <- apply(m, 1L, function(r) paste(sprintf("%.17g", r), collapse = ","))
    writeLines(lines, path)
    path
}

read_csv <- function(path) {
    as.matrix(utils::read.csv(path, header = FALSE, comment.char = "#"))
}

# Run `otk ARGS`, check its exit status (NA: 0 or 3), parse its JSON.
run_otk <- function(args, expect = 0L) {
    err <- tempfile("otk-stderr")
    on.exit(unlink(err))
    out <- suppressWarnings(system2(otk_tool(), args, stdout = TRUE, stderr = err))
    st <- attr(out, "status")
    if (is.null(st)) st <- 0L
    if (if (is.na(expect)) !(st %in% c(0L, 3L)) else st != expect)
        stop("otk ", paste(args, collapse = " "), " exited with ", st, " (expected ", expect,
             "):\n", paste(readLines(err), collapse = "\n"))
    jsonlite::fromJSON(paste(out, collapse = "\n"))
}

# Non-square problems on purpose: n = 20 points, m = 15, d = 3, so that a
# transposed matrix changes the shapes and the values.
make_problem <- function(seed = 1L) {
    set.seed(seed)
    x <- matrix(rnorm(60), 20, 3)
    y <- matrix(rnorm(45), 15, 3) + 0.4
    a <- runif(20, 0.2, 1); a <- a / sum(a)
    b <- runif(15, 0.2, 1); b <- b / sum(b)
    dir <- tempfile("otkr")
    dir.create(dir)
    list(x = x, y = y, a = a, b = b, dir = dir,
         fx = write_csv(file.path(dir, "x.csv"), x),
         fy = write_csv(file.path(dir, "y.csv"), y),
         fa = write_csv(file.path(dir, "a.csv"), matrix(a, ncol = 1L)),
         fb = write_csv(file.path(dir, "b.csv"), matrix(b, ncol = 1L)))
}

RTOL <- 1e-12

expect_close <- function(object, expected, rtol = RTOL) {
    scale <- max(abs(expected), 1e-300)
    expect_lte(max(abs(object - expected)), rtol * scale)
}
