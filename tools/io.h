/*
 * io.h — otk's readers (CSV and NumPy .npy) and atomic file writers.
 *
 * Every function here reports its own failures on stderr, in the form
 * "otk: FILE:LINE:COLUMN: what is wrong" where a line and column make sense,
 * and returns -1; the caller only has to exit with status 2.
 */
#ifndef OTK_TOOLS_IO_H
#define OTK_TOOLS_IO_H

#include <stddef.h>
#include <stdio.h>

/* A rows×cols table of finite numbers, row-major, owned by the struct.
 * A zero-initialised cli_matrix is empty and may be freed. */
typedef struct {
    size_t rows, cols;
    double *values;
} cli_matrix;

/* Read a table from `path` ("-" = standard input).  The format is recognised
 * by content, not by extension: a file starting with the NumPy magic string
 * "\x93NUMPY" is read as .npy (float64 little-endian '<f8', C order, 1-D or
 * 2-D; a 1-D array of length k is k rows of 1 column); anything else as CSV:
 * one row per line, numbers separated by commas and optional blanks, blank
 * lines and lines starting with '#' ignored, every row with the same number of
 * columns.  Non-finite values (nan, inf) are rejected with their position.
 * Returns 0, or -1 after reporting the error (mat is then empty). */
int cli_read_matrix(const char *path, cli_matrix *mat);

/* Read a vector (weights): a table of one column or one row, returned as
 * count×1 in `vec`.  Returns 0 or -1 (reported). */
int cli_read_vector(const char *path, cli_matrix *vec);

/* Read the point clouds X (n×d) and Y (m×d), which must have the same
 * dimension d.  Returns 0, or -1 (reported; x and y are then empty). */
int cli_read_point_clouds(const char *x_path, const char *y_path, cli_matrix *x, cli_matrix *y);

/* Read the weights given with `option` ("--a") from `path`: a vector of
 * `expected` values, the size of what they weigh, which the message of a
 * wrong count names as "OWNER has EXPECTED UNIT" ("X", "points").  A NULL
 * path reads nothing and leaves `w` as it is (uniform weights).  Returns 0 or
 * -1 (reported). */
int cli_read_weights(const char *path, const char *option, size_t expected, const char *owner,
                     const char *unit, cli_matrix *w);

/* Read one share of a .npy file (otk sinkhorn --mpi): part `part` of `parts`
 * nearly equal ranges of rows, [floor-ish(rows·part/parts), ...), reading only
 * those bytes.  A share may be empty (mat->rows = 0).  *first_row and
 * *total_rows (may be NULL) get the share's first row and the array's rows.
 * CSV and standard input are refused (they cannot be read by byte range).
 * Returns 0 or -1 (reported). */
int cli_read_npy_part(const char *path, size_t part, size_t parts, cli_matrix *mat,
                      size_t *first_row, size_t *total_rows);

void cli_matrix_free(cli_matrix *mat);

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

/* Returns 0, or -1 (reported: the directory does not exist, is not writable...). */
int cli_output_open(cli_output *out, const char *target);

/* Returns 0 when the target now holds the complete file, -1 otherwise
 * (reported; the temporary is removed).  The output is closed either way. */
int cli_output_commit(cli_output *out);

/* Close the output and remove its temporary; the target is not touched. */
void cli_output_discard(cli_output *out);

#endif /* OTK_TOOLS_IO_H */
