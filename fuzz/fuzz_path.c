/*
 * Fuzzes slate_path_normalize(): the input is the path. Checks that the
 * result is bounded (at most SLATE_KEY_MAX_PATH bytes), starts with '/',
 * holds no byte that needs escaping and no '?' or '#', is a fixed point
 * (normalising it again gives it back), agrees with a smaller buffer's
 * SLATE_ENOSPC answer, and that no byte past len is read (the input is
 * copied into an exact-size heap block, so ASan catches an over-read).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    if (size)
        memcpy(in, data, size);
    char out[SLATE_PATH_NORM_CAP], again[SLATE_PATH_NORM_CAP];
    size_t len = 0, len2 = 0, need = 0;
    if (slate_path_normalize(in, size, out, sizeof out, &len) != SLATE_OK)
        abort();
    free(in);
    if (len > SLATE_KEY_MAX_PATH || len == 0 || out[0] != '/' || out[len] != '\0')
        abort();
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c <= 0x20 || c == ',' || c == '"' || c == '\\' || c == 0x7f || c == '?' || c == '#')
            abort();
    }
    if (slate_path_normalize(out, len, again, sizeof again, &len2) != SLATE_OK || len2 != len ||
        memcmp(out, again, len) != 0)
        abort();
    /* one byte short of the result and its NUL: SLATE_ENOSPC with the size */
    if (slate_path_normalize((const char *)data, size, again, len, &need) != SLATE_ENOSPC ||
        need != len + 1)
        abort();
    return 0;
}
