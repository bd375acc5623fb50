/*
 * A model of how SLATE's proxy plugin counted requests per second, written
 * from its published description, as the baseline for bench/bench_rate.c:
 *
 * - the queue is a proxy shared-data value of 7,000 bytes holding raw 4-byte
 *   timestamps (milliseconds here), so at most 1,750 entries;
 * - every request reads the whole value out of shared data and writes it back
 *   (modelled as a memcpy of the full buffer to a scratch copy and back,
 *   which is the least a proxy's get/set of shared data costs);
 * - entries older than the window are evicted by scanning from the head and
 *   the rest shifted to the front; a full queue drops the new timestamp, so
 *   the count saturates at 1,750 per window;
 * - the rate is the number of entries left after eviction.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_BENCH_SLATE_QUEUE_MODEL_H
#define SLATE_BENCH_SLATE_QUEUE_MODEL_H

#include <stdint.h>
#include <string.h>

#define SLATEQ_BYTES 7000u
#define SLATEQ_CAP   (SLATEQ_BYTES / 4u) /* 1,750 timestamps */

typedef struct slateq {
    unsigned char shared[SLATEQ_BYTES]; /* the shared-data value */
    uint32_t used;                      /* bytes in use */
    uint32_t window_ms;
} slateq;

static inline void slateq_init(slateq *q, uint32_t window_ms)
{
    memset(q, 0, sizeof *q);
    q->window_ms = window_ms;
}

/* Evict from the head of `buf` (n entries); returns the entries left. */
static inline uint32_t slateq_evict(unsigned char *buf, uint32_t n, uint32_t now_ms,
                                    uint32_t window_ms)
{
    uint32_t i = 0;
    while (i < n) {
        uint32_t ts;
        memcpy(&ts, buf + 4 * i, 4);
        if (now_ms - ts < window_ms)
            break;
        i++;
    }
    if (i > 0)
        memmove(buf, buf + 4 * i, 4 * (size_t)(n - i));
    return n - i;
}

/* One request at now_ns. */
static inline void slateq_add(slateq *q, uint64_t now_ns)
{
    unsigned char scratch[SLATEQ_BYTES];
    uint32_t now_ms = (uint32_t)(now_ns / 1000000u);
    memcpy(scratch, q->shared, SLATEQ_BYTES); /* get shared data: the whole value */
    uint32_t n = slateq_evict(scratch, q->used / 4, now_ms, q->window_ms);
    if (n < SLATEQ_CAP) {
        memcpy(scratch + 4 * n, &now_ms, 4);
        n++;
    }
    memcpy(q->shared, scratch, SLATEQ_BYTES); /* set shared data: the whole value */
    q->used = 4 * n;
}

/* The requests in the window at now_ns (reads the value, evicts in the copy). */
static inline uint32_t slateq_count(const slateq *q, uint64_t now_ns)
{
    unsigned char scratch[SLATEQ_BYTES];
    memcpy(scratch, q->shared, SLATEQ_BYTES);
    return slateq_evict(scratch, q->used / 4, (uint32_t)(now_ns / 1000000u), q->window_ms);
}

#endif /* SLATE_BENCH_SLATE_QUEUE_MODEL_H */
