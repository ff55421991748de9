/* Writing: CSV tables and atomic output files (write.h). */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fsync, fchmod, umask */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "write.h"

/* ------------------------------------------------------------------ CSV writer */

void cli_write_table(FILE *out, const char *header, const double *values, size_t rows,
                     size_t cols)
{
    if (header)
        fprintf(out, "# %s\n", header);
    for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < cols; k++)
            fprintf(out, "%.17g%c", values[i * cols + k], k + 1 < cols ? ',' : '\n');
}

/* ------------------------------------------------------------------ atomic writers */

/* Temporaries that exist right now, removed by the signal handler if otk is
 * interrupted while writing (or, since they are created before the solve,
 * while solving).  Pointer stores are atomic on every platform otk targets;
 * the handler only reads them and calls unlink, which is async-signal-safe. */
#define MAX_LIVE_TEMPORARIES 8
static char *volatile live_temporaries[MAX_LIVE_TEMPORARIES];

static void remove_temporaries_and_die(int sig)
{
    for (int k = 0; k < MAX_LIVE_TEMPORARIES; k++)
        if (live_temporaries[k])
            unlink(live_temporaries[k]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_cleanup_handlers(void)
{
    static int installed = 0;
    if (installed)
        return;
    installed = 1;
    const int signals[] = {
        SIGINT, SIGTERM, SIGHUP,
#ifdef SIGXFSZ
        SIGXFSZ, /* the file size limit (ulimit -f) was hit while writing */
#endif
    };
    for (size_t k = 0; k < sizeof signals / sizeof signals[0]; k++) {
        /* Leave a signal alone when it is ignored (nohup, or a test that
         * wants write errors instead of SIGXFSZ). */
        if (signal(signals[k], remove_temporaries_and_die) == SIG_IGN)
            signal(signals[k], SIG_IGN);
    }
}

static void track_temporary(char *path, int live)
{
    for (int k = 0; k < MAX_LIVE_TEMPORARIES; k++) {
        if (live && !live_temporaries[k]) {
            live_temporaries[k] = path;
            return;
        }
        if (!live && live_temporaries[k] == path) {
            live_temporaries[k] = NULL;
            return;
        }
    }
}

static char *copy_string(const char *s)
{
    char *copy = malloc(strlen(s) + 1);
    if (copy)
        strcpy(copy, s);
    return copy;
}

/* The mode a new file would get from open(2): 0666 minus the umask. */
static mode_t new_file_mode(void)
{
    const mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

static void close_output(cli_output *out)
{
    if (out->stream)
        fclose(out->stream);
    out->stream = NULL;
    if (out->temporary) {
        track_temporary(out->temporary, 0);
        free(out->temporary);
    }
    out->temporary = NULL;
    free(out->target);
    out->target = NULL;
}

/* The inputs of this run, by device and inode (a handful of files). */
enum { MAX_INPUTS = 64 };
static struct {
    dev_t dev;
    ino_t ino;
} inputs[MAX_INPUTS];
static int n_inputs;

void cli_note_input(const char *path)
{
    struct stat st;
    if (n_inputs < MAX_INPUTS && strcmp(path, "-") != 0 && stat(path, &st) == 0) {
        inputs[n_inputs].dev = st.st_dev;
        inputs[n_inputs].ino = st.st_ino;
        n_inputs++;
    }
}

void cli_forget_inputs(void) { n_inputs = 0; }

static int is_input(const struct stat *st)
{
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i].dev == st->st_dev && inputs[i].ino == st->st_ino)
            return 1;
    return 0;
}

int cli_check_not_input(const char *target)
{
    struct stat st;
    if (stat(target, &st) == 0 && is_input(&st)) {
        cli_error("%s: is an input file of this command; refusing to overwrite it", target);
        return -1;
    }
    return 0;
}

int cli_output_open(cli_output *out, const char *target)
{
    out->target = out->temporary = NULL;
    out->stream = NULL;
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    struct stat existing;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
        (stat(target, &existing) == 0 && S_ISDIR(existing.st_mode))) {
        cli_error("%s: is a directory, not a file name", target);
        return -1;
    }
    if (cli_check_not_input(target) < 0)
        return -1;
    /* The temporary is a hidden sibling, ".NAME.XXXXXX", in the target's own
     * directory: rename(2) is atomic only within one file system. */
    const size_t dir_len = (size_t)(base - target);
    const size_t len = dir_len + 1 + strlen(base) + 8;
    out->target = copy_string(target);
    out->temporary = malloc(len);
    if (!out->target || !out->temporary) {
        cli_error("%s: out of memory", target);
        goto fail;
    }
    snprintf(out->temporary, len, "%.*s.%s.XXXXXX", (int)dir_len, target, base);
    install_cleanup_handlers();
    const int fd = mkstemp(out->temporary);
    if (fd < 0) {
        cli_error("%s: cannot create the file: %s", target, strerror(errno));
        goto fail;
    }
    track_temporary(out->temporary, 1);
    /* mkstemp creates the file 0600; give it the mode any new file would get. */
    if (fchmod(fd, new_file_mode()) < 0 || !(out->stream = fdopen(fd, "w"))) {
        cli_error("%s: cannot write: %s", target, strerror(errno));
        if (!out->stream)
            close(fd);
        unlink(out->temporary);
        goto fail;
    }
    return 0;
fail:
    free(out->temporary);
    out->temporary = NULL;
    free(out->target);
    out->target = NULL;
    return -1;
}

int cli_output_commit(cli_output *out)
{
    if (!out->temporary)
        return -1;
    FILE *stream = out->stream;
    out->stream = NULL;
    /* A write error is sticky (ferror); fflush, fsync and fclose catch a
     * full disk discovered late.  Each failure is reported with its errno. */
    int failed = ferror(stream) != 0;
    /* The failed write was the last call on the stream: errno still says why. */
    int saved_errno = failed ? (errno ? errno : EIO) : 0;
    if (!failed && (fflush(stream) != 0 || fsync(fileno(stream)) != 0)) {
        failed = 1;
        saved_errno = errno;
    }
    if (fclose(stream) != 0 && !failed) {
        failed = 1;
        saved_errno = errno;
    }
    if (!failed && rename(out->temporary, out->target) != 0) {
        failed = 1;
        saved_errno = errno;
    }
    if (failed) {
        cli_error("%s: cannot write: %s", out->target, strerror(saved_errno));
        unlink(out->temporary);
    }
    close_output(out);
    return failed ? -1 : 0;
}

void cli_output_discard(cli_output *out)
{
    if (!out || !out->temporary)
        return;
    unlink(out->temporary);
    close_output(out);
}
