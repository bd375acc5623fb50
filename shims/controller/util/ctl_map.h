/*
 * slate-controller: an open-addressing map from 64-bit keys to 32-bit values.
 * Insert-only between clears (the learning state rebuilds its maps after it
 * retires entries: ctl_map_clear, then a put per live entry), linear
 * probing, load factor at most 1/2.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_MAP_H
#define CTL_MAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ctl_map {
    uint64_t *keys; /* key + 1 stored, so 0 means empty */
    uint32_t *vals;
    uint32_t mask;
    uint32_t count;
} ctl_map_t;

/* Sizes the table for up to `max_items` keys. Returns false on allocation failure. */
bool ctl_map_init(ctl_map_t *m, uint32_t max_items);
void ctl_map_free(ctl_map_t *m);
/*
 * Iterates the values stored under `key` (there may be several when callers
 * insert distinct items whose keys collide). Start with *pos = 0; returns
 * false when done.
 */
bool ctl_map_next(const ctl_map_t *m, uint64_t key, uint32_t *pos, uint32_t *val);
/* Empties the map, keeping its size. O(capacity). */
void ctl_map_clear(ctl_map_t *m);
/* Adds (key, val). False when the table is at its planned size. */
bool ctl_map_put(ctl_map_t *m, uint64_t key, uint32_t val);

#endif
