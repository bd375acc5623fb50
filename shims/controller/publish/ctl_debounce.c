/*
 * slate-controller: debouncing of export pushes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_debounce.h"

#include <string.h>

void ctl_debounce_init(ctl_debounce_t *d, uint64_t quiet_ns, uint64_t max_wait_ns,
                       uint32_t max_changes)
{
    memset(d, 0, sizeof(*d));
    d->quiet_ns = quiet_ns;
    d->max_wait_ns = max_wait_ns;
    d->max_changes = max_changes ? max_changes : 1;
}

void ctl_debounce_change(ctl_debounce_t *d, uint64_t now_ns, uint32_t n)
{
    if (n == 0)
        return;
    if (d->pending == 0) {
        d->first_ns = now_ns;
        d->last_ns = now_ns;
    }
    /* A clock that steps back must not postpone the push forever. */
    if (now_ns > d->last_ns)
        d->last_ns = now_ns;
    d->pending = (d->pending > UINT32_MAX - n) ? UINT32_MAX : d->pending + n;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t ctl_debounce_deadline(const ctl_debounce_t *d)
{
    if (d->pending == 0)
        return UINT64_MAX;
    if (d->pending >= d->max_changes)
        return d->last_ns;
    uint64_t quiet = add_sat(d->last_ns, d->quiet_ns);
    uint64_t cap = add_sat(d->first_ns, d->max_wait_ns);
    return quiet < cap ? quiet : cap;
}

bool ctl_debounce_due(const ctl_debounce_t *d, uint64_t now_ns)
{
    return d->pending > 0 && now_ns >= ctl_debounce_deadline(d);
}

void ctl_debounce_fired(ctl_debounce_t *d)
{
    d->pending = 0;
    d->first_ns = d->last_ns = 0;
}
