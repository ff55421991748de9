/*
 * write.h — otk's writers: CSV tables and atomic output files.
 *
 * Every function here reports its own failures on stderr ("otk: FILE: what")
 * and returns -1; the caller only has to exit with status 2.
 */
#ifndef OTK_TOOLS_WRITE_H
#define OTK_TOOLS_WRITE_H

#include <stddef.h>
#include <stdio.h>

/* Write rows×cols values (row-major) as CSV, one row per line, led by the
 * comment line "# HEADER" unless `header` is NULL.  %.17g, so that reading
 * the file back gives the very doubles written.  Write errors are left in
 * the stream for cli_output_commit. */
void cli_write_table(FILE *out, const char *header, const double *values, size_t rows,
                     size_t cols);

/*
 * Atomic output files.  cli_output_open creates a temporary file next to the
 * target (same directory, so that rename(2) is atomic) and the caller writes
 * to `stream`; cli_output_commit flushes, syncs and renames it over the
 * target.  On any failure, and in cli_output_discard, the temporary is removed
 * and an existing target is left untouched, so a reader never sees a partial
 * file.  Live temporaries are also removed when otk is killed by SIGINT,
 * SIGTERM, SIGHUP or SIGXFSZ.
 *
 * A zero-initialised cli_output is closed; discard is then a no-op.
 */
typedef struct {
    char *target;    /* the path asked for */
    char *temporary; /* the sibling being written; NULL when closed */
    FILE *stream;    /* write here between open and commit */
} cli_output;

/* Returns 0, or -1 (reported: the directory does not exist, is not writable,
 * the target is one of this run's input files...). */
int cli_output_open(cli_output *out, const char *target);

/* The files this run reads (the readers and the commands that hand a path
 * to the library call cli_note_input before reading): cli_output_open refuses
 * a target that is one of them, by device and inode, so that a symbolic or
 * hard link to an input is refused too.  "-" is ignored.  cli_forget_inputs
 * clears the list (for callers running several commands in one process). */
void cli_note_input(const char *path);
void cli_forget_inputs(void);
/* 0, or -1 (reported) when `target` is one of the inputs: for outputs that
 * the library writes itself (otk_map_save). */
int cli_check_not_input(const char *target);

/* Returns 0 when the target now holds the complete file, -1 otherwise
 * (reported; the temporary is removed).  The output is closed either way. */
int cli_output_commit(cli_output *out);

/* Close the output and remove its temporary; the target is not touched. */
void cli_output_discard(cli_output *out);

#endif /* OTK_TOOLS_WRITE_H */
