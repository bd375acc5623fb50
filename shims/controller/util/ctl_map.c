/*
 * slate-controller: an insert-only open-addressing map.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_map.h"

#include <stdlib.h>
#include <string.h>

bool ctl_map_init(ctl_map_t *m, uint32_t max_items)
{
    uint64_t cap = 16;
    while (cap < (uint64_t)max_items * 2 + 2)
        cap *= 2;
    m->keys = calloc((size_t)cap, sizeof(uint64_t));
    m->vals = calloc((size_t)cap, sizeof(uint32_t));
    m->mask = (uint32_t)(cap - 1);
    m->count = 0;
    if (!m->keys || !m->vals) {
        ctl_map_free(m);
        return false;
    }
    return true;
}

void ctl_map_free(ctl_map_t *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->mask = 0;
    m->count = 0;
}

static uint32_t slot_of(uint64_t key, uint32_t mask)
{
    /* keys are hashes already; mix once more so structured keys spread too */
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (uint32_t)key & mask;
}

bool ctl_map_next(const ctl_map_t *m, uint64_t key, uint32_t *pos, uint32_t *val)
{
    if (!m->keys)
        return false;
    uint64_t stored = key + 1;
    if (stored == 0)
        stored = 1; /* key UINT64_MAX aliases key 0; callers verify identity */
    uint32_t i = (slot_of(key, m->mask) + *pos) & m->mask;
    while (*pos <= m->mask) {
        uint64_t k = m->keys[i];
        (*pos)++;
        if (k == 0)
            return false;
        if (k == stored) {
            *val = m->vals[i];
            return true;
        }
        i = (i + 1) & m->mask;
    }
    return false;
}

bool ctl_map_put(ctl_map_t *m, uint64_t key, uint32_t val)
{
    if (!m->keys || (uint64_t)(m->count + 1) * 2 > (uint64_t)m->mask + 1)
        return false;
    uint64_t stored = key + 1;
    if (stored == 0)
        stored = 1;
    uint32_t i = slot_of(key, m->mask);
    while (m->keys[i] != 0)
        i = (i + 1) & m->mask;
    m->keys[i] = stored;
    m->vals[i] = val;
    m->count++;
    return true;
}

void ctl_map_clear(ctl_map_t *m)
{
    if (m->keys)
        memset(m->keys, 0, ((size_t)m->mask + 1) * sizeof(*m->keys));
    m->count = 0;
}
