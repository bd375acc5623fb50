/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file failover.h
 * @brief Fast failover: stop drawing a region whose recent calls fail, from
 *        what one proxy worker sees of its own outbound calls.
 *
 * A proxy that routes a call to a region's endpoints (a subset of one region)
 * takes the call out of the mesh's own locality failover. This module gives
 * it one back, per worker and with no shared state: each completed call to a
 * region is recorded as a success or a failure (what counts as a failure is
 * the caller's choice: a 5xx, a reset, a timeout); when a region's recent
 * calls fail at or above a threshold, it is *excluded* for a hold time, and
 * slate_failover_draw() draws among the other regions of the rule, in
 * proportion to their weights. When every region a call may go to is
 * excluded, the draw returns ::SLATE_FAILOVER_NONE and the caller routes the
 * call as if there were no rule (in Istio: no routing header, so the mesh's
 * locality failover applies). After the hold the region is drawn again and
 * judged afresh.
 *
 * @code
 * slate_failover_params_t p = slate_failover_params_default();
 * slate_failover_region_t regions[16] = {0};          // one per region id, zero = healthy
 * uint16_t r = slate_failover_draw(table, regions, 16, now_ns, next_u64, &rng, 8);
 * if (r == SLATE_FAILOVER_NONE) { ... route as without rules ... }
 * ...                                                 // when the call completes:
 * if (slate_failover_record(&regions[r], &p, now_ns, failed)) log_or_count_exclusion(r);
 * @endcode
 *
 * ## Semantics (exact)
 * Time is a caller-supplied uint64_t in nanoseconds; bucket(t) = t / window_ns.
 * A region keeps the calls and failures of two consecutive buckets, the
 * current one (`bucket`) and the one before it; the judged window is their
 * sum, so it spans between one and two `window_ns`.
 * slate_failover_record(r, p, t, failed):
 * - while r is excluded (t < excluded_until_ns) the outcome is ignored (calls
 *   drawn before the exclusion still complete) and it returns false;
 * - else the buckets move to bucket(t) (one step: the current becomes the
 *   previous; more: both are emptied; a t in an older bucket than the current
 *   is counted in the current one), the outcome is counted, and if the window
 *   holds at least `min_calls` calls and failures * 1000 >= calls *
 *   `max_failure_permille`, the region is excluded: excluded_until_ns = t +
 *   hold_ns, both buckets are emptied, `exclusions` grows by one (saturating)
 *   and it returns true.
 * slate_failover_excluded(r, t) is t < excluded_until_ns. All counters
 * saturate instead of wrapping. A zeroed slate_failover_region_t is a healthy
 * region with no history.
 *
 * ## Threads and memory
 * No allocation, no clock, no globals. One writer per region array (give each
 * worker its own); readers may read concurrently with each other.
 */
#ifndef SLATE_FAILOVER_H
#define SLATE_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/sampler.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** slate_failover_draw()'s answer when every region it drew was excluded. */
#define SLATE_FAILOVER_NONE SLATE_REGION_NONE

/** Default window bucket: 5 s (the judged window spans 5 to 10 s). */
#define SLATE_FAILOVER_DEFAULT_WINDOW_NS 5000000000ull
/** Default calls in the window before a region can be excluded. */
#define SLATE_FAILOVER_DEFAULT_MIN_CALLS 10u
/** Default failure share that excludes a region, in thousandths (50%). */
#define SLATE_FAILOVER_DEFAULT_MAX_FAILURE_PERMILLE 500u
/** Default exclusion: 10 s. */
#define SLATE_FAILOVER_DEFAULT_HOLD_NS 10000000000ull

/** When a region is excluded, and for how long. */
typedef struct slate_failover_params {
    uint64_t window_ns;            /**< one bucket; 1 ms .. 1 hour */
    uint32_t min_calls;            /**< calls in the window before judging; >= 1 */
    uint32_t max_failure_permille; /**< exclude at or above this share of failures; 1..1000 */
    uint64_t hold_ns;              /**< exclusion length; 1 ms .. 1 hour */
} slate_failover_params_t;

/** One region's recent outcomes, in caller memory; all zero = healthy, no history. */
typedef struct slate_failover_region {
    uint64_t bucket;            /**< the current bucket, t / window_ns */
    uint64_t excluded_until_ns; /**< excluded while t < this */
    uint32_t calls;             /**< calls in the current bucket */
    uint32_t failures;          /**< failures in the current bucket */
    uint32_t prev_calls;        /**< calls in the bucket before */
    uint32_t prev_failures;     /**< failures in the bucket before */
    uint32_t exclusions;        /**< times excluded (saturating) */
    uint32_t reserved;          /**< 0 */
} slate_failover_region_t;

/** The defaults above. O(1). */
SLATE_API slate_failover_params_t slate_failover_params_default(void);

/**
 * Checks parameters against the ranges above.
 * @return ::SLATE_OK, ::SLATE_EINVAL for NULL, ::SLATE_ERANGE for a value out
 *         of range. O(1).
 */
SLATE_API slate_status slate_failover_params_check(const slate_failover_params_t *p);

/**
 * Records one completed call to region @p r at time @p now_ns (see the file
 * comment for the exact rule). @p p must have passed
 * slate_failover_params_check(); NULL arguments are ignored.
 * @return true when this call excluded the region. O(1).
 */
SLATE_API bool slate_failover_record(slate_failover_region_t *r, const slate_failover_params_t *p,
                                     uint64_t now_ns, bool failed);

/** Whether region @p r is excluded at @p now_ns (false for NULL). O(1). */
SLATE_API bool slate_failover_excluded(const slate_failover_region_t *r, uint64_t now_ns);

/**
 * Draws a region from a sampler table (sampler.h) among those not excluded:
 * draws with `next(rng)` and, while the region drawn is excluded, draws
 * again, at most @p tries times in all. Region ids at or above @p n_regions
 * count as not excluded. Redrawing keeps the weights' proportions among the
 * regions left (rejection sampling).
 * @param table     a validated sampler table
 * @param regions   per region id, its failover state (may be NULL if n_regions is 0)
 * @param next      the caller's 64-bit uniform generator, called 1..tries times
 * @return the region id, or ::SLATE_FAILOVER_NONE when all @p tries draws hit
 *         excluded regions (or @p table or @p next is NULL, tries is 0, or the
 *         table holds nothing).
 *         O(tries); one call to next() when nothing is excluded.
 */
SLATE_API uint16_t slate_failover_draw(const void *table, const slate_failover_region_t *regions,
                                       size_t n_regions, uint64_t now_ns,
                                       uint64_t (*next)(void *rng), void *rng, unsigned tries);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_FAILOVER_H */
