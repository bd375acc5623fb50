/*
 * Byte and wire helpers shared inside the project (not installed): little-
 * endian loads and stores, and protobuf varints. The core's codec, the
 * controller's persisted rules and its stream framing use these, so each
 * rule about bytes is written once.
 *
 * All functions are static inline, pure, and read or write only the bytes
 * they are given. Cost: O(1) each (a varint: at most 10 bytes).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_WIRE_H
#define SLATE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A 64-bit word read with memcpy from little-endian bytes, in host order. */
static inline uint64_t slate_wire_le64_host(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(w);
#else
    return w;
#endif
}

static inline uint32_t slate_wire_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t slate_wire_get_le64(const uint8_t *p)
{
    return (uint64_t)slate_wire_get_le32(p) | (uint64_t)slate_wire_get_le32(p + 4) << 32;
}

static inline void slate_wire_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void slate_wire_put_le64(uint8_t *p, uint64_t v)
{
    slate_wire_put_le32(p, (uint32_t)v);
    slate_wire_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* The most bytes a varint takes. */
#define SLATE_WIRE_VARINT_MAX 10u

/* Writes v as a varint at p (room for SLATE_WIRE_VARINT_MAX); returns its size. */
static inline size_t slate_wire_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/*
 * Reads a varint from p[0..n); returns the bytes it took, or 0 when it is
 * malformed: it runs past n, is longer than 10 bytes, or its 10th byte
 * carries bits above 2^64 (what codec.h rejects as SLATE_EVARINT).
 * *truncated tells the first case from the others.
 */
static inline size_t slate_wire_get_varint(const uint8_t *p, size_t n, uint64_t *v, int *truncated)
{
    uint64_t x = 0;
    *truncated = 0;
    for (size_t i = 0; i < SLATE_WIRE_VARINT_MAX; i++) {
        if (i >= n) {
            *truncated = 1;
            return 0;
        }
        if (i == 9 && p[i] > 1)
            return 0;
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

#endif
