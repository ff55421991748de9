/* The fuzz targets' scratch files (see fuzz.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"

static char scratch[4096];

/* Remove the scratch directory and whatever a target left in it. */
static void remove_scratch(void)
{
    if (!scratch[0])
        return;
    DIR *d = opendir(scratch);
    if (d) {
        struct dirent *e;
        char path[8192];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(scratch);
}

const char *fuzz_scratch_dir(void)
{
    if (!scratch[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/otk-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch)) {
            scratch[0] = 0;
            return NULL;
        }
        atexit(remove_scratch);
    }
    return scratch;
}

const char *fuzz_input_file(const uint8_t *data, size_t size, const char *suffix,
                            const uint8_t *prefix, size_t prefix_size)
{
    static char path[8192];
    const char *dir = fuzz_scratch_dir();
    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s/input.%s", dir, suffix);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    int ok = (!prefix_size || fwrite(prefix, 1, prefix_size, f) == prefix_size) &&
             fwrite(data, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    return ok ? path : NULL;
}
