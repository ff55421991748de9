/*
 * Fuzz target of the otk command line: the input is the argument list, one
 * argument a line, run in-process by otk's main (every subcommand's option
 * parsing, checks, readers and writers).
 *
 * It runs in a scratch directory holding small valid inputs (x.csv, y.csv,
 * ...) that the corpus names, with standard input from /dev/null, standard
 * output and error discarded, and one OpenMP thread.  Files the command
 * writes are removed after each run.  To keep each run short, inputs that ask
 * for large work are skipped: an argument holding a number above 1000, a
 * path with '/', `otk demo` (a fixed 200×150 problem, seconds under ASan),
 * and fit-map with "--iters N" above 20 or "--lambda" other than 0 (the
 * Monge-gap fits take seconds even on 3 points); fit-map is given
 * "--iters 4" and "--lambda 0" when they are missing (not for the entropic
 * family, which takes neither).  These bound the work, not the parsing:
 * every option and value kind is still reached.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "write.h"

int otk_cli_main(int argc, char **argv);

enum { MAX_ARGS = 48 };

/* The scratch directory's inputs, by name. */
static const struct {
    const char *name, *text;
} inputs[] = {
    {"x.csv", "0,0\n1,0\n0,1\n"},
    {"y.csv", "0.5,0.5\n1,1\n2,0\n0,2\n"},
    {"a.csv", "0.2\n0.3\n0.5\n"},
    {"b.csv", "0.25\n0.25\n0.25\n0.25\n"},
    {"c.csv", "0,1,2,3\n1,0,1,2\n2,1,0,1\n"},
    {"s.csv", "1,2,0.5\n0,1,3\n"},
    {"t.csv", "2,1,0\n1,0,2\n"},
    {"labels.csv", "0\n2\n"},
    {"i1.pgm", "P2\n3 2\n255\n1 2 3\n4 5 6\n"},
    {"i2.pgm", "P2\n3 2\n255\n6 5 4\n3 2 1\n"},
    {"v.csv", "1,2,3,4\n"},
    {"w.csv", "4,3,2,1\n"},
    {"m.off", "OFF\n5 4 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n0.5 0.5 0\n"
              "3 0 1 4\n3 1 2 4\n3 2 3 4\n3 3 0 4\n"},
    {"h1.csv", "1\n0\n0\n0\n1\n"},
    {"h2.csv", "0\n1\n1\n1\n0\n"},
    {"affine.txt", "otkit-map 1\nfamily affine\ndim 2\nparams 6\n1\n0\n0\n1\n0.5\n0\nend\n"},
};

static char scratch[4096];
static int devnull = -1;

static void setup(void)
{
    /* Before the OpenMP runtime starts: one thread per solve. */
    setenv("OMP_NUM_THREADS", "1", 1);
    setenv("OMP_THREAD_LIMIT", "1", 1);
    const char *dir = fuzz_scratch_dir();
    if (!dir)
        abort();
    snprintf(scratch, sizeof scratch, "%s", dir);
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", scratch, inputs[i].name);
        FILE *f = fopen(path, "w");
        if (!f || fputs(inputs[i].text, f) < 0 || fclose(f) != 0)
            abort();
    }
    devnull = open("/dev/null", O_RDWR);
    if (devnull < 0 || dup2(devnull, 0) < 0)
        abort();
}

static int is_input(const char *name)
{
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
        if (strcmp(name, inputs[i].name) == 0)
            return 1;
    return 0;
}

/* Remove what the command wrote (outputs, and temporaries of a failure). */
static void clean_scratch(void)
{
    DIR *d = opendir(scratch);
    if (!d)
        return;
    struct dirent *e;
    char path[8192];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !is_input(e->d_name)) {
            snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
            if (unlink(path) != 0)
                rmdir(path);
        }
    closedir(d);
}

/* Whether an argument asks for more work than a fuzz run should do. */
static int too_large(const char *arg)
{
    if (strchr(arg, '/'))
        return 1;
    for (const char *p = arg; *p;) {
        if (*p >= '0' && *p <= '9') {
            double v = strtod(p, NULL);
            if (!(v <= 1000.0))
                return 1;
            while (*p >= '0' && *p <= '9')
                p++;
        } else {
            p++;
        }
    }
    const char *eq = strchr(arg, '=');
    char *end;
    double v = strtod(eq ? eq + 1 : arg, &end);
    return isfinite(v) && fabs(v) > 1000.0;
}

int fuzz_cli(const uint8_t *data, size_t size)
{
    if (devnull < 0)
        setup();
    char *argv[MAX_ARGS + 5] = {NULL};
    int argc = 0, skip = 0, fit_map = 0, iters = -1, lambda = 0;
    argv[argc++] = strdup("otk");
    for (size_t start = 0; start <= size && !skip;) {
        size_t end = start;
        while (end < size && data[end] != '\n')
            end++;
        if (argc == MAX_ARGS || memchr(data + start, 0, end - start)) {
            skip = 1;
            break;
        }
        char *arg = strndup((const char *)data + start, end - start);
        if (!arg)
            skip = 1;
        argv[argc++] = arg;
        if (arg && too_large(arg))
            skip = 1;
        if (arg && argc == 2 && strcmp(arg, "fit-map") == 0)
            fit_map = 1;
        if (arg && argc == 2 && strcmp(arg, "demo") == 0)
            skip = 1;
        if (arg && (strcmp(arg, "--lambda") == 0 || strncmp(arg, "--lambda=", 9) == 0)) {
            lambda = 1;
            if (arg[8] == '=' && strcmp(arg + 9, "0") != 0)
                skip = 1;
        }
        if (arg && argc > 2 && strcmp(argv[argc - 2], "--lambda") == 0 && strcmp(arg, "0") != 0)
            skip = 1;
        if (arg && strstr(arg, "entropic"))
            fit_map = 0; /* not trained: it refuses --iters */
        if (arg && argc > 2 && strcmp(argv[argc - 2], "--iters") == 0)
            iters = atoi(arg);
        if (arg && strncmp(arg, "--iters=", 8) == 0)
            iters = atoi(arg + 8);
        start = end + 1;
    }
    if (fit_map && iters > 20)
        skip = 1;
    if (fit_map && iters < 0 && !skip) {
        argv[argc++] = strdup("--iters");
        argv[argc++] = strdup("4");
    }
    if (fit_map && !lambda && !skip) {
        argv[argc++] = strdup("--lambda");
        argv[argc++] = strdup("0");
    }
    if (!skip) {
        int cwd = open(".", O_RDONLY | O_DIRECTORY);
        fflush(stdout);
        fflush(stderr);
        int out = dup(1), err = dup(2);
        if (cwd >= 0 && out >= 0 && err >= 0 && chdir(scratch) == 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
            cli_forget_inputs(); /* the list of the previous run's inputs */
            int status = otk_cli_main(argc, argv);
            fflush(stdout);
            fflush(stderr);
            clearerr(stdout);
            clearerr(stderr);
            dup2(out, 1);
            dup2(err, 2);
            /* FUZZ_CLI_STATUS=1: show each run's exit status (to check the
             * seed corpus: its inputs should mostly succeed). */
            if (getenv("FUZZ_CLI_STATUS")) {
                fprintf(stderr, "cli: exit %d:", status);
                for (int i = 1; i < argc; i++)
                    fprintf(stderr, " %s", argv[i]);
                fprintf(stderr, "\n");
            }
            clean_scratch();
            if (fchdir(cwd) != 0)
                abort();
        }
        if (cwd >= 0)
            close(cwd);
        if (out >= 0)
            close(out);
        if (err >= 0)
            close(err);
    }
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
