/*
 * The replay driver of `make check`: feeds every file of tests/fuzz/<target>/
 * (the seed corpus and the inputs of past crashes) to its fuzz target, as
 * libFuzzer would, without libFuzzer.  Under ASan/UBSan (CI's sanitizer
 * build) or valgrind a regression is caught the way the fuzzer caught it.
 *
 * Usage: replay [TARGET...]  (default: every target).  Prints one line per
 * target and "N inputs replayed"; exit status 0, or 1 when a corpus directory
 * is missing or empty.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"

extern const fuzz_target fuzz_targets[];

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay the files of `dir`, in name order; -1 when there are none. */
static long replay_dir(const fuzz_target *t, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                abort();
            names = grown;
        }
        if (!(names[n++] = strdup(e->d_name)))
            abort();
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
            abort();
        FILE *f = fopen(path, "rb");
        free(path);
        if (!f)
            abort();
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        rewind(f);
        /* An exact-size copy, so that a read past the input is caught. */
        unsigned char *data = malloc(size > 0 ? (size_t)size : 1);
        if (!data || fread(data, 1, (size_t)size, f) != (size_t)size)
            abort();
        fclose(f);
        t->run(data, (size_t)size);
        free(data);
        free(names[i]);
    }
    free(names);
    return n ? (long)n : -1;
}

int main(int argc, char **argv)
{
    const char *srcdir = getenv("top_srcdir");
    char root[4096];
    snprintf(root, sizeof root, "%s/tests/fuzz", srcdir && *srcdir ? srcdir : ".");
    char *abs = realpath(root, NULL); /* the CLI target changes directory */
    if (!abs) {
        fprintf(stderr, "replay: %s: no such directory\n", root);
        return 1;
    }
    long total = 0;
    int failed = 0;
    for (const fuzz_target *t = fuzz_targets; t->name; t++) {
        int wanted = argc < 2;
        for (int i = 1; i < argc; i++)
            wanted |= strcmp(argv[i], t->name) == 0;
        if (!wanted)
            continue;
        char *dir = NULL;
        if (asprintf(&dir, "%s/%s", abs, t->name) < 0)
            abort();
        long n = replay_dir(t, dir);
        if (n < 0) {
            fprintf(stderr, "replay: %s: no corpus\n", dir);
            failed = 1;
        } else {
            printf("%-10s %ld inputs\n", t->name, n);
            total += n;
        }
        free(dir);
    }
    free(abs);
    printf("%ld inputs replayed\n", total);
    return failed;
}
