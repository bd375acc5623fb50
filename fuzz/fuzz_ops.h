/*
 * What the operation-sequence fuzz targets (fuzz_rate, fuzz_stats) share: a
 * CHECK that names the target and aborts, and a little-endian reader over the
 * input that reads zeros once the input runs out. Define FUZZ_NAME (a string)
 * before including.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_FUZZ_OPS_H
#define SLATE_FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_ops.h"
#endif

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, FUZZ_NAME ": check failed at line %d: %s\n", __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

/* The next `bytes` input bytes as a little-endian integer; zeros past the end. */
static inline uint64_t rd(reader *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        uint64_t b = 0;
        if (r->n) {
            b = *r->p++;
            r->n--;
        }
        v |= b << (8 * i);
    }
    return v;
}

#endif
