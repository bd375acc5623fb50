/*
 * slate-controller: debouncing of export pushes. Pure: time is passed in.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_DEBOUNCE_H
#define CTL_DEBOUNCE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A push is due once changes are pending and any of these holds:
 *   - no change arrived for `quiet_ns` (default 1 s),
 *   - the oldest pending change is `max_wait_ns` old (default 10 s),
 *   - `max_changes` changes are pending (default 1,000).
 * The caller records changes with ctl_debounce_change(), asks
 * ctl_debounce_due(), pushes, then calls ctl_debounce_fired().
 */
typedef struct ctl_debounce {
    uint64_t quiet_ns;
    uint64_t max_wait_ns;
    uint32_t max_changes;
    uint32_t pending;
    uint64_t first_ns; /* time of the oldest pending change */
    uint64_t last_ns;  /* time of the newest pending change */
} ctl_debounce_t;

void ctl_debounce_init(ctl_debounce_t *d, uint64_t quiet_ns, uint64_t max_wait_ns,
                       uint32_t max_changes);
/* Records `n` changes at time now_ns. */
void ctl_debounce_change(ctl_debounce_t *d, uint64_t now_ns, uint32_t n);
/* Whether a push is due at now_ns. */
bool ctl_debounce_due(const ctl_debounce_t *d, uint64_t now_ns);
/* When the push becomes due if nothing else changes (UINT64_MAX: nothing pending). */
uint64_t ctl_debounce_deadline(const ctl_debounce_t *d);
/* Forgets the pending changes after a push. */
void ctl_debounce_fired(ctl_debounce_t *d);

#endif
