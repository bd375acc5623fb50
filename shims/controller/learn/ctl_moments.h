/*
 * slate-controller: mergeable latency moments (count, sum, min, max, mean,
 * M2), merged with Chan et al.'s parallel update.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_MOMENTS_H
#define CTL_MOMENTS_H

#include <stdint.h>

typedef struct ctl_moments {
    uint64_t count;
    uint64_t min_ns;
    uint64_t max_ns;
    double sum_ns;
    double mean_ns;
    double m2;
} ctl_moments_t;

static inline void ctl_moments_reset(ctl_moments_t *m)
{
    m->count = 0;
    m->min_ns = 0;
    m->max_ns = 0;
    m->sum_ns = 0;
    m->mean_ns = 0;
    m->m2 = 0;
}

/* Adds a group of `count` samples with the given mean, M2, min and max. */
static inline void ctl_moments_merge(ctl_moments_t *d, uint64_t count, double mean, double m2,
                                     uint64_t min_ns, uint64_t max_ns)
{
    if (count == 0)
        return;
    if (d->count == 0) {
        d->count = count;
        d->mean_ns = mean;
        d->m2 = m2;
        d->sum_ns = mean * (double)count;
        d->min_ns = min_ns;
        d->max_ns = max_ns;
        return;
    }
    double na = (double)d->count, nb = (double)count, n = na + nb;
    double delta = mean - d->mean_ns;
    d->mean_ns += delta * nb / n;
    d->m2 += m2 + delta * delta * na * nb / n;
    d->sum_ns += mean * nb;
    d->count += count;
    if (min_ns < d->min_ns)
        d->min_ns = min_ns;
    if (max_ns > d->max_ns)
        d->max_ns = max_ns;
}

static inline void ctl_moments_add(ctl_moments_t *d, const ctl_moments_t *s)
{
    ctl_moments_merge(d, s->count, s->mean_ns, s->m2, s->min_ns, s->max_ns);
}

#endif
