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

#include "wire.h"

/* The core's one copy of the byte rules (libslate/wire.h), under the
 * shim's short names. */
static inline uint16_t sw_ld16(const void *p)
{
    return slate_wire_get_le16(p);
}
static inline uint32_t sw_ld32(const void *p)
{
    return slate_wire_get_le32(p);
}
static inline uint64_t sw_ld64(const void *p)
{
    return slate_wire_get_le64(p);
}
static inline double sw_ldf64(const void *p)
{
    return slate_wire_get_f64(p);
}
static inline void sw_st16(void *p, uint16_t v)
{
    slate_wire_put_le16(p, v);
}
static inline void sw_st32(void *p, uint32_t v)
{
    slate_wire_put_le32(p, v);
}
static inline void sw_st64(void *p, uint64_t v)
{
    slate_wire_put_le64(p, v);
}
static inline void sw_stf64(void *p, double d)
{
    slate_wire_put_f64(p, d);
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
