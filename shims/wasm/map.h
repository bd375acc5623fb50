/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file map.h
 * @brief A small open-addressing hash map from a non-zero 64-bit key to a
 *        32-bit value (linear probing, backward-shift deletion), for the
 *        module's stream and endpoint tables. Pure C; builds natively too.
 */
#ifndef SLATE_WASM_MAP_H
#define SLATE_WASM_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_map_slot {
    uint64_t key; /* 0 = empty */
    uint32_t val;
} sw_map_slot_t;

typedef struct sw_map {
    sw_map_slot_t *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
} sw_map_t;

/** Ensure room for `n` keys at load <= 1/2; returns 0 when out of memory. */
int sw_map_reserve(sw_map_t *m, size_t n);
/** The value of `key`, or -1. O(1) expected. */
long sw_map_get(const sw_map_t *m, uint64_t key);
/** Insert or overwrite; grows as needed; returns 0 when out of memory. */
int sw_map_put(sw_map_t *m, uint64_t key, uint32_t val);
/** Remove `key` if present. */
void sw_map_del(sw_map_t *m, uint64_t key);
/** Free the slots. */
void sw_map_free(sw_map_t *m);

/** A key never 0: 0 maps to 1 (collisions with a real 1 are the caller's concern). */
static inline uint64_t sw_map_key(uint64_t k)
{
    return k ? k : 1;
}

#endif /* SLATE_WASM_MAP_H */
