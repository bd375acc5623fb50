/*
 * The core's one copy of XXH3 (libslate/key.c), for the modules that
 * checksum or hash bytes (sampler tables, rulesets). Internal: not installed,
 * not exported. One copy keeps the wasm modules small: each translation unit
 * that inlined xxhash.h carried its own.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_HASH_H
#define SLATE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH3_64bits(p, n). */
uint64_t slate_hash64(const void *p, size_t n);
/* XXH3_64bits_withSeed(p, n, seed). */
uint64_t slate_hash64_seed(const void *p, size_t n, uint64_t seed);

#endif
