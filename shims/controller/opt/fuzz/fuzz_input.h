/*
 * The byte format of fuzz_opt's inputs, shared by the target (reader) and the
 * seed generator (writer).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A value is a tag byte: below 0xF0 it is followed by two little-endian bytes
 * u and means u * scale[tag % 8] (scale 1e-3 .. 1e6), or INFINITY when the tag
 * is 0xEF; from 0xF0 up it is followed by a raw 8-byte double (NaN, infinity,
 * subnormals, huge values). Reading past the end yields zeros.
 */
#ifndef SLATE_OPT_FUZZ_INPUT_H
#define SLATE_OPT_FUZZ_INPUT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const double fuzz_scale[8] = {1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e6};

typedef struct fuzz_in {
    const uint8_t *p;
    size_t n, at;
} fuzz_in_t;

static inline uint8_t fuzz_byte(fuzz_in_t *in)
{
    return in->at < in->n ? in->p[in->at++] : 0;
}

static inline int fuzz_done(const fuzz_in_t *in)
{
    return in->at >= in->n;
}

static inline double fuzz_value(fuzz_in_t *in)
{
    uint8_t tag = fuzz_byte(in);
    if (tag >= 0xF0) {
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
            b[i] = fuzz_byte(in);
        double d;
        memcpy(&d, b, sizeof d);
        return d;
    }
    unsigned u = fuzz_byte(in);
    u |= (unsigned)fuzz_byte(in) << 8;
    if (tag == 0xEF)
        return INFINITY;
    return (double)u * fuzz_scale[tag % 8];
}

#endif
