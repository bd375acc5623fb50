/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file bytes.h
 * @brief The shim's byte helpers: the little-endian loads and stores are the
 *        core's (libslate/wire.h, included here); the hash is the shim's own.
 */
#ifndef SLATE_WASM_BYTES_H
#define SLATE_WASM_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

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
