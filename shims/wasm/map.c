/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "map.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
    /* Fibonacci hashing spreads sequential ids (context ids) well. */
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static int rehash(sw_map_t *m, size_t cap)
{
    sw_map_slot_t *s = calloc(cap, sizeof *s);
    if (!s)
        return 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = slot_of(m->slots[i].key, cap);
        while (s[j].key)
            j = (j + 1) & (cap - 1);
        s[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 1;
}

int sw_map_reserve(sw_map_t *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    return cap == m->cap ? 1 : rehash(m, cap);
}

long sw_map_get(const sw_map_t *m, uint64_t key)
{
    if (!m->cap || !key)
        return -1;
    for (size_t j = slot_of(key, m->cap);; j = (j + 1) & (m->cap - 1)) {
        if (m->slots[j].key == key)
            return (long)m->slots[j].val;
        if (!m->slots[j].key)
            return -1;
    }
}

int sw_map_put(sw_map_t *m, uint64_t key, uint32_t val)
{
    if (!key)
        return 0;
    if (!sw_map_reserve(m, m->len + 1))
        return 0;
    size_t j = slot_of(key, m->cap);
    while (m->slots[j].key && m->slots[j].key != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->slots[j].key)
        m->len++;
    m->slots[j].key = key;
    m->slots[j].val = val;
    return 1;
}

void sw_map_del(sw_map_t *m, uint64_t key)
{
    if (!m->cap || !key)
        return;
    size_t mask = m->cap - 1, j = slot_of(key, m->cap);
    while (m->slots[j].key != key) {
        if (!m->slots[j].key)
            return;
        j = (j + 1) & mask;
    }
    /* Backward-shift deletion: move later members of the cluster into the hole
     * when their home slot does not lie cyclically in (hole, their slot]. */
    size_t hole = j;
    for (size_t k = (j + 1) & mask; m->slots[k].key; k = (k + 1) & mask) {
        size_t home = slot_of(m->slots[k].key, m->cap);
        int stays = hole <= k ? (hole < home && home <= k) : (hole < home || home <= k);
        if (!stays) {
            m->slots[hole] = m->slots[k];
            hole = k;
        }
    }
    m->slots[hole].key = 0;
    m->slots[hole].val = 0;
    m->len--;
}

void sw_map_free(sw_map_t *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}
