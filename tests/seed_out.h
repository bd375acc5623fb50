/*
 * Tests that build real encodings can also write them as fuzz seeds: with
 * SLATE_WASM_CORPUS_OUT=<dir> set, write_seed() puts `data` into
 * <dir>/<target>/<name>; without it, it does nothing.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_TESTS_SEED_OUT_H
#define SLATE_TESTS_SEED_OUT_H

#include <stdio.h>
#include <stdlib.h>

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
    const char *dir = getenv("SLATE_WASM_CORPUS_OUT");
    if (!dir)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(data, 1, len, f);
    fclose(f);
}

#endif
