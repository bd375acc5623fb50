/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file bytes.h
 * @brief Little-endian loads and stores at any alignment, for the shared
 *        layouts of the data plane (batches, published rules).
 */
#ifndef SLATE_WASM_BYTES_H
#define SLATE_WASM_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t sw_ld16(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint32_t sw_ld32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static inline uint64_t sw_ld64(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint64_t)sw_ld32(b) | ((uint64_t)sw_ld32(b + 4) << 32);
}

static inline double sw_ldf64(const void *p)
{
    uint64_t u = sw_ld64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline void sw_st16(void *p, uint16_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void sw_st32(void *p, uint32_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static inline void sw_st64(void *p, uint64_t v)
{
    sw_st32(p, (uint32_t)v);
    sw_st32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

static inline void sw_stf64(void *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    sw_st64(p, u);
}

/**
 * A 64-bit hash of bytes for the module's own tables and checksums: FNV-1a
 * over the bytes, then the splitmix64 finalizer to spread the bits. Small and
 * fast enough for keys of tens of bytes; not for adversarial inputs (the
 * published rules are written by the reporter, not by a peer).
 */
static inline uint64_t sw_hash64(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = (const uint8_t *)p;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

#endif /* SLATE_WASM_BYTES_H */
