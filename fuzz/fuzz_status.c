/*
 * Every status value, known or not, has a printable name and text.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "slate/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int v = 0;
    memcpy(&v, data, size < sizeof v ? size : sizeof v);
    const char *a = slate_strerror((slate_status)v);
    const char *b = slate_status_name((slate_status)v);
    if (!a || !b || strlen(a) == 0 || strlen(b) == 0)
        __builtin_trap();
    return 0;
}
