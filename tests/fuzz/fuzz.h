/*
 * fuzz.h — the fuzz targets of otkit's readers and of the otk command line.
 *
 * Each target takes one input (bytes) and must neither crash, leak, nor read
 * or write out of bounds, whatever the bytes are; a rejected input is not a
 * failure.  The same functions run under libFuzzer (tests/fuzz/libfuzzer.c,
 * `make fuzz`, clang) and under the replay driver (tests/fuzz/replay.c, gcc,
 * `make check`), which feeds every file of tests/fuzz/<target>/ to them.
 */
#ifndef OTK_TESTS_FUZZ_H
#define OTK_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

typedef struct {
    const char *name; /* the corpus directory tests/fuzz/<name>/ */
    fuzz_fn run;
} fuzz_target;

/* The library's readers (targets_lib.c). */
int fuzz_mesh_off(const uint8_t *data, size_t size);
int fuzz_mesh_obj(const uint8_t *data, size_t size);
int fuzz_map_model(const uint8_t *data, size_t size);
/* The otk tool's readers (targets_tools.c). */
int fuzz_csv(const uint8_t *data, size_t size);
int fuzz_npy(const uint8_t *data, size_t size);
int fuzz_pgm(const uint8_t *data, size_t size);
int fuzz_png(const uint8_t *data, size_t size);
/* The otk command line, one argument a line (target_cli.c). */
int fuzz_cli(const uint8_t *data, size_t size);

/* Write the input to a file named *.SUFFIX in a private temporary directory
 * (created on first use, removed at exit) and return its path; NULL when the
 * file cannot be written (the target then skips the input). */
const char *fuzz_input_file(const uint8_t *data, size_t size, const char *suffix,
                            const uint8_t *prefix, size_t prefix_size);
/* The private temporary directory. */
const char *fuzz_scratch_dir(void);

#endif
