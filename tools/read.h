/*
 * read.h — otk's readers of numeric tables: text (CSV, whitespace- or
 * tab-separated, with an optional header row and index column; read_csv.c)
 * and NumPy .npy (any float or integer dtype, either byte order, C or Fortran
 * order; read_npy.c), told apart by content (read.c).  The rules are stated
 * in otk.1, section INPUT FILES.
 *
 * Every function reports its own failures on stderr, in the form
 * "otk: FILE:LINE:COLUMN: what is wrong" where a line and column make sense,
 * and returns -1; the caller only has to exit with status 2.  The parsers
 * take a buffer and keep no state between calls (they can be fuzzed alone).
 */
#ifndef OTK_TOOLS_READ_H
#define OTK_TOOLS_READ_H

#include <stddef.h>

/* A rows×cols table of finite numbers, row-major, owned by the struct.
 * A zero-initialised cli_matrix is empty and may be freed. */
typedef struct {
    size_t rows, cols;
    double *values;
} cli_matrix;

void cli_matrix_free(cli_matrix *mat);

/* How text files are read (--header, --index-col, --delimiter).  A
 * zero-initialised struct is the default: delimiter detected, a header row
 * recognised by its content, no index column unless the header says so. */
enum { CLI_HEADER_AUTO = 0, CLI_HEADER_YES = 1 };
typedef struct {
    int header;     /* CLI_HEADER_AUTO or CLI_HEADER_YES (the first row is a header) */
    int index_col;  /* nonzero: the first column is an index, skipped */
    char delimiter; /* 0: detected; ',', ';', '\t', or ' ' (runs of blanks) */
} cli_read_options;

/* Parse `len` bytes of text (no NUL terminator needed) named `name` in
 * messages.  opt NULL: the defaults.  Returns 0, or -1 (reported; mat empty). */
int cli_parse_text(const char *name, const char *text, size_t len, const cli_read_options *opt,
                   cli_matrix *mat);

/* Parse `len` bytes of a .npy file of 1 or 2 dimensions.  Returns 0, or -1
 * (reported; mat empty). */
int cli_parse_npy(const char *name, const unsigned char *bytes, size_t len, cli_matrix *mat);

/* The same, also taking a 3-D (B, n, d) array (C order), read as B·n rows of
 * d values, problem k's rows after the first k·n (otk divergence and otk
 * sinkhorn read batches so); *batch is B, or 0 for a
 * 1-D or 2-D array.  Returns 0, or -1 (reported; mat empty). */
int cli_parse_npy_batch(const char *name, const unsigned char *bytes, size_t len,
                        cli_matrix *mat, size_t *batch);

/* Where a .npy file's data lies and how to decode it. */
typedef struct {
    size_t data_offset; /* bytes before the data */
    size_t rows, cols;  /* a 1-D array of length k: k rows of 1 column */
    size_t item_size;   /* bytes per element */
    char kind;          /* 'f', 'i' or 'u' */
    int big_endian, fortran;
    size_t batch;       /* a 3-D (B, n, d) array: B (rows = B·n, cols = d); else 0 */
} cli_npy_layout;

/* The most header bytes a .npy file may have (after its 10 or 12 first bytes). */
#define CLI_NPY_MAX_HEADER ((size_t)1 << 20)

/* Parse the header at the start of `bytes` (len bytes, which must cover it).
 * Returns 0, or -1 (reported). */
int cli_parse_npy_layout(const char *name, const unsigned char *bytes, size_t len,
                         cli_npy_layout *lay);

/* Decode `rows` rows starting at row `first_row` (for the messages) from
 * `data` (their bytes) into values (rows × lay->cols), refusing non-finite
 * values with their position.  Fortran order: the whole array only.
 * Returns 0, or -1 (reported). */
int cli_decode_npy_rows(const char *name, const cli_npy_layout *lay, const unsigned char *data,
                        size_t first_row, size_t rows, double *values);

/* Whether `len` bytes start like a .npy file (its magic string). */
int cli_is_npy(const unsigned char *bytes, size_t len);

/* Read a table from `path` ("-" = standard input), .npy or text by content.
 * A .npy array of one dimension, length k, is k rows of 1 column.  Non-finite
 * values (nan, inf) are refused with their position.  opt NULL: the defaults.
 * Returns 0, or -1 (reported; mat is then empty). */
int cli_read_matrix(const char *path, const cli_read_options *opt, cli_matrix *mat);

/* Read a vector (weights): a table of one column or one row, returned as
 * count×1 in `vec`.  Returns 0 or -1 (reported). */
int cli_read_vector(const char *path, const cli_read_options *opt, cli_matrix *vec);

/* Read the point clouds X (n×d) and Y (m×d), which must have the same
 * dimension d.  Returns 0, or -1 (reported; x and y are then empty). */
int cli_read_point_clouds(const char *x_path, const char *y_path, const cli_read_options *opt,
                          cli_matrix *x, cli_matrix *y);

/* The same, where X and Y may also be batches: 3-D .npy arrays (B, n, d) and
 * (B, m, d), read as B·n and B·m rows (cli_parse_npy_batch); *batch is B, or
 * 0 when both are tables.  One a batch and the other not, or different B, is
 * an error naming both files.  Returns 0, or -1 (reported; x and y empty). */
int cli_read_point_cloud_batches(const char *x_path, const char *y_path,
                                 const cli_read_options *opt, cli_matrix *x, cli_matrix *y,
                                 size_t *batch);

/* The weights of a batch given with `option` ("--a"): a table of `batch`
 * rows of `per_problem` values (CSV or a 2-D .npy), a row per problem;
 * `owner` ("X") names the points they weigh in the message of a wrong
 * shape.  A NULL path reads nothing.  Returns 0 or -1 (reported). */
int cli_read_batch_weights(const char *path, const cli_read_options *opt, const char *option,
                           size_t batch, size_t per_problem, const char *owner, cli_matrix *w);

/* Read the weights given with `option` ("--a") from `path`: a vector of
 * `expected` values, the size of what they weigh, which the message of a
 * wrong count names as "OWNER has EXPECTED UNIT" ("X", "points").  A NULL
 * path reads nothing and leaves `w` as it is (uniform weights).  Returns 0 or
 * -1 (reported). */
int cli_read_weights(const char *path, const cli_read_options *opt, const char *option,
                     size_t expected, const char *owner, const char *unit, cli_matrix *w);

/* Read one share of a .npy file (otk sinkhorn --mpi): rows [lo, hi) of the
 * `parts` nearly equal ranges, lo = ⌊rows·part/parts⌋ (computed without
 * overflow), reading only the header and those bytes.  A share may be empty
 * (mat->rows = 0, mat->cols set).  *first_row and *total_rows (may be NULL)
 * get lo and the array's rows.  Text files, Fortran-order arrays and
 * standard input are refused (they cannot be read by byte range).
 * Returns 0, or -1 (reported; mat empty). */
int cli_read_npy_part(const char *path, size_t part, size_t parts, cli_matrix *mat,
                      size_t *first_row, size_t *total_rows);

/* The name of `path` in messages: "<stdin>" for "-". */
const char *cli_display_name(const char *path);

#endif /* OTK_TOOLS_READ_H */
