/*
 * Byte and wire helpers shared inside the project (not installed): little-
 * endian loads and stores, and protobuf varints. The core's regions (rate,
 * sampler) and codec, the wasm shim's shared layouts (bytes.h) and the
 * controller's persisted rules and stream framing use these, so each rule
 * about bytes is written once.
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

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SLATE_WIRE_LE16(x) __builtin_bswap16(x)
#define SLATE_WIRE_LE32(x) __builtin_bswap32(x)
#define SLATE_WIRE_LE64(x) __builtin_bswap64(x)
#else
#define SLATE_WIRE_LE16(x) (x)
#define SLATE_WIRE_LE32(x) (x)
#define SLATE_WIRE_LE64(x) (x)
#endif

/* A 64-bit word read with memcpy from little-endian bytes, in host order. */
static inline uint64_t slate_wire_le64_host(uint64_t w)
{
    return SLATE_WIRE_LE64(w);
}

/* Little-endian loads and stores at any alignment (memcpy: one instruction
 * where the target allows unaligned access). */
static inline uint16_t slate_wire_get_le16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return SLATE_WIRE_LE16(v);
}

static inline uint32_t slate_wire_get_le32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return SLATE_WIRE_LE32(v);
}

static inline uint64_t slate_wire_get_le64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return SLATE_WIRE_LE64(v);
}

static inline double slate_wire_get_f64(const void *p)
{
    uint64_t u = slate_wire_get_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline void slate_wire_put_le16(void *p, uint16_t v)
{
    v = SLATE_WIRE_LE16(v);
    memcpy(p, &v, sizeof v);
}

static inline void slate_wire_put_le32(void *p, uint32_t v)
{
    v = SLATE_WIRE_LE32(v);
    memcpy(p, &v, sizeof v);
}

static inline void slate_wire_put_le64(void *p, uint64_t v)
{
    v = SLATE_WIRE_LE64(v);
    memcpy(p, &v, sizeof v);
}

static inline void slate_wire_put_f64(void *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    slate_wire_put_le64(p, u);
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
