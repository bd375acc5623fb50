/*
 * libslate - fast failover of regions whose recent calls fail (failover.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "slate/failover.h"

#define MS_NS   1000000ull
#define HOUR_NS 3600000000000ull

slate_failover_params_t slate_failover_params_default(void)
{
    slate_failover_params_t p = {
        .window_ns = SLATE_FAILOVER_DEFAULT_WINDOW_NS,
        .min_calls = SLATE_FAILOVER_DEFAULT_MIN_CALLS,
        .max_failure_permille = SLATE_FAILOVER_DEFAULT_MAX_FAILURE_PERMILLE,
        .hold_ns = SLATE_FAILOVER_DEFAULT_HOLD_NS,
    };
    return p;
}

slate_status slate_failover_params_check(const slate_failover_params_t *p)
{
    if (!p)
        return SLATE_EINVAL;
    if (p->window_ns < MS_NS || p->window_ns > HOUR_NS || p->hold_ns < MS_NS ||
        p->hold_ns > HOUR_NS || p->min_calls < 1 || p->max_failure_permille < 1 ||
        p->max_failure_permille > 1000)
        return SLATE_ERANGE;
    return SLATE_OK;
}

static uint32_t inc(uint32_t v)
{
    return v == UINT32_MAX ? v : v + 1;
}

static uint32_t add_sat(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

bool slate_failover_record(slate_failover_region_t *r, const slate_failover_params_t *p,
                           uint64_t now_ns, bool failed)
{
    if (!r || !p || p->window_ns == 0)
        return false;
    if (now_ns < r->excluded_until_ns)
        return false;
    uint64_t b = now_ns / p->window_ns;
    if (b == r->bucket + 1) {
        r->prev_calls = r->calls;
        r->prev_failures = r->failures;
        r->calls = r->failures = 0;
        r->bucket = b;
    } else if (b > r->bucket) {
        r->prev_calls = r->prev_failures = r->calls = r->failures = 0;
        r->bucket = b;
    }
    r->calls = inc(r->calls);
    if (failed)
        r->failures = inc(r->failures);
    uint64_t calls = (uint64_t)r->calls + r->prev_calls;
    uint64_t failures = (uint64_t)r->failures + r->prev_failures;
    if (calls < p->min_calls || failures * 1000u < calls * p->max_failure_permille)
        return false;
    r->excluded_until_ns = now_ns > UINT64_MAX - p->hold_ns ? UINT64_MAX : now_ns + p->hold_ns;
    r->prev_calls = r->prev_failures = r->calls = r->failures = 0;
    r->exclusions = add_sat(r->exclusions, 1);
    return true;
}

bool slate_failover_excluded(const slate_failover_region_t *r, uint64_t now_ns)
{
    return r && now_ns < r->excluded_until_ns;
}

uint16_t slate_failover_draw(const void *table, const slate_failover_region_t *regions,
                             size_t n_regions, uint64_t now_ns, uint64_t (*next)(void *rng),
                             void *rng, unsigned tries)
{
    if (!table || !next)
        return SLATE_FAILOVER_NONE;
    for (unsigned i = 0; i < tries; i++) {
        uint16_t region = slate_sampler_draw(table, next(rng));
        if (region == SLATE_REGION_NONE)
            return SLATE_FAILOVER_NONE;
        if (region >= n_regions || !regions || !slate_failover_excluded(&regions[region], now_ns))
            return region;
    }
    return SLATE_FAILOVER_NONE;
}
