/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file rate.h
 * @brief Rate estimator: the exact number of arrivals in a trailing window,
 *        in a fixed-size region of caller memory.
 *
 * One estimator per endpoint (per worker). It counts arrivals per tick of
 * `resolution_ns` in a ring of `window_ns / resolution_ns` 32-bit buckets, so
 * its memory is fixed at init (4096 bytes at the defaults: 1 s window, 1 ms
 * resolution) and the count is exact at that resolution for any arrival rate.
 *
 * @code
 * slate_rate_params_t p = slate_rate_params_default();
 * size_t len = slate_rate_size(&p);               // 4096
 * void *mem = aligned_alloc(8, len);              // or shared memory, wasm memory, ...
 * if (slate_rate_init(mem, len, &p) != SLATE_OK) abort();
 * slate_rate_t *r = mem;
 * slate_rate_add(r, now_ns);                      // on every request
 * uint64_t in_last_second = slate_rate_count(r, now_ns);
 * @endcode
 *
 * ## Semantics (exact)
 * Time is a caller-supplied uint64_t in nanoseconds; tick(t) = t / resolution_ns
 * (integer division); N = window_ns / resolution_ns. The estimator keeps a
 * head H, the newest tick it has accepted (0 after init), and the arrivals it
 * accepted with tick in (H - N, H]. An add at time t with k = tick(t):
 * - k > H: the head moves to k; arrivals with tick <= k - N are forgotten (a
 *   jump of N ticks or more forgets everything). The arrivals are counted.
 * - H - N < k <= H: counted in tick k's bucket. Timestamps slightly out of
 *   order (threads whose clocks differ, callbacks delivered late) are absorbed.
 * - k <= H - N and H - k <= B, where B = max_backjump_ns / resolution_ns: too
 *   old to count. Nothing changes except the `late` counter, which grows by n;
 *   the call returns SLATE_ELATE.
 * - H - k > B: the clock went back much further than any reordering explains
 *   (a clock reset or a restarted peer): the estimator forgets everything,
 *   re-bases its head at k, counts the arrivals there, increments `resets` and
 *   returns SLATE_OK. A single stamp from the far future is handled alike: it
 *   moves the head forward, and the next stamp at the true time is then more
 *   than B behind and re-bases back. With max_backjump_ns = UINT64_MAX the
 *   estimator never re-bases.
 *
 * count(t) is the number of accepted arrivals with tick in (H' - N, H'], where
 * H' = max(H, tick(t)): a reader ahead of the head sees the arrivals that
 * would have expired by then removed, and a reader behind the head reads the
 * count as of the head. Reading never writes the region.
 *
 * Each bucket (the arrivals of one tick) saturates at UINT32_MAX instead of
 * wrapping; the arrivals that did not fit are added to `saturated` and the call
 * returns SLATE_EOVERFLOW. The count is then a lower bound. (4.29e9 arrivals in
 * one tick; at the default resolution that is 4.29e12 per second.)
 *
 * ## Threads
 * An estimator has one writer at a time and no internal locking. Give each
 * thread (or wasm VM) its own estimator and combine them with
 * slate_rate_merge() or slate_rate_sum(): the sum of estimators that saw
 * disjoint parts of a time-ordered stream equals one estimator that saw all of
 * it. Readers may read concurrently with each other.
 *
 * ## Region layout (version 1)
 * All fields little-endian, at fixed offsets; the region must be 8-byte aligned.
 * | offset | type | field |
 * |---|---|---|
 * | 0  | u32 | magic `SLATE_RATE_MAGIC` (the bytes "SLRT") |
 * | 4  | u16 | layout version `SLATE_RATE_VERSION` |
 * | 6  | u16 | header size, 96 |
 * | 8  | u32 | N, the number of buckets |
 * | 12 | u32 | the head's bucket index, H mod N |
 * | 16 | u64 | resolution_ns |
 * | 24 | u64 | window_ns = N * resolution_ns |
 * | 32 | u64 | max_backjump_ns |
 * | 40 | u64 | region size in bytes, slate_rate_size() |
 * | 48 | u64 | H, the head tick |
 * | 56 | u64 | total, the sum of all buckets |
 * | 64 | u64 | late: arrivals refused as too old (saturating) |
 * | 72 | u64 | resets: times the head re-based backwards (saturating) |
 * | 80 | u64 | saturated: arrivals lost to full buckets (saturating) |
 * | 88 | u64 | reserved, 0 |
 * | 96 | u32[N] | buckets; tick k lives in bucket k mod N; zero padding to a multiple of 8 |
 *
 * A region read back from shared memory, a file or another process must pass
 * slate_rate_validate() before any other function touches it: those trust the
 * layout (they check only the magic) and do not know the region's length.
 */
#ifndef SLATE_RATE_H
#define SLATE_RATE_H

#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** First four bytes of a region: "SLRT" read as a little-endian u32. */
#define SLATE_RATE_MAGIC 0x54524c53u
/** Layout version this library writes and reads. */
#define SLATE_RATE_VERSION 1u
/** Bytes before the first bucket. */
#define SLATE_RATE_HEADER_SIZE 96u
/** Required alignment of a region, in bytes. */
#define SLATE_RATE_ALIGN 8u
/** Largest number of buckets (window_ns / resolution_ns): a 4 MiB region. */
#define SLATE_RATE_MAX_BUCKETS (1u << 20)

/** Default window: one second. */
#define SLATE_RATE_DEFAULT_WINDOW_NS 1000000000ull
/** Default resolution: one millisecond. */
#define SLATE_RATE_DEFAULT_RESOLUTION_NS 1000000ull
/** Default max_backjump_ns: ten windows. */
#define SLATE_RATE_DEFAULT_MAX_BACKJUMP_NS 10000000000ull

/** Parameters of an estimator. */
typedef struct slate_rate_params {
    uint64_t window_ns;       /**< trailing window; a multiple of resolution_ns */
    uint64_t resolution_ns;   /**< tick length; >= 1 */
    uint64_t max_backjump_ns; /**< a stamp further behind the head than this re-bases
                                   the estimator (see file comment); >= window_ns;
                                   UINT64_MAX = never */
} slate_rate_params_t;

/** An estimator: an initialised or validated region, used through this pointer type. */
typedef struct slate_rate slate_rate_t;

/** What slate_rate_info() reports. */
typedef struct slate_rate_info {
    slate_rate_params_t params; /**< the estimator's parameters */
    uint32_t buckets;           /**< N = window_ns / resolution_ns */
    uint64_t head_tick;         /**< H, the newest accepted tick */
    uint64_t total;             /**< arrivals in (H - N, H], the count as of the head */
    uint64_t late;              /**< arrivals refused as too old */
    uint64_t resets;            /**< times the head re-based backwards */
    uint64_t saturated;         /**< arrivals lost to full buckets */
} slate_rate_info_t;

/** @brief The default parameters: 1 s window, 1 ms resolution, 10 s backjump. Cost: O(1). */
SLATE_API slate_rate_params_t slate_rate_params_default(void);

/**
 * @brief Check parameters.
 * @return SLATE_OK; SLATE_EINVAL if params is NULL; SLATE_ERANGE if
 *         resolution_ns or window_ns is 0, window_ns is not a multiple of
 *         resolution_ns, window_ns / resolution_ns > SLATE_RATE_MAX_BUCKETS, or
 *         max_backjump_ns < window_ns. Cost: O(1).
 */
SLATE_API slate_status slate_rate_check_params(const slate_rate_params_t *params);

/**
 * @brief Bytes a region needs: 96 + 4 * N rounded up to a multiple of 8.
 * @param params NULL for the defaults.
 * @return the size (4096 at the defaults), or 0 if the parameters are invalid.
 * Cost: O(1).
 */
SLATE_API size_t slate_rate_size(const slate_rate_params_t *params);

/**
 * @brief Lay out an empty estimator (head 0, no arrivals) in `mem`.
 *
 * On success use `mem` as a `slate_rate_t *`. The region holds no pointers and
 * may be copied, shared or written to a file as bytes.
 * @param params NULL for the defaults.
 * @return SLATE_OK; SLATE_EINVAL (mem NULL); SLATE_EALIGN (mem not 8-byte
 *         aligned); SLATE_ERANGE (bad params, see slate_rate_check_params());
 *         SLATE_ENOSPC (len < slate_rate_size(params)). Nothing is written on
 *         error. Cost: O(N).
 */
SLATE_NODISCARD SLATE_API slate_status slate_rate_init(void *mem, size_t len,
                                                       const slate_rate_params_t *params);

/**
 * @brief Check a region of `len` bytes from untrusted memory.
 *
 * Never reads outside [mem, mem + len), never writes. Accepts every region
 * this library's functions produce, and only regions every function here can
 * work on safely (they keep such a region valid).
 * @return SLATE_OK; SLATE_EINVAL (mem NULL); SLATE_EALIGN; SLATE_ENOSPC (len
 *         shorter than the header); SLATE_EBADMAGIC; SLATE_EBADVERSION;
 *         SLATE_EBADSIZE (header size, bucket count, resolution, window,
 *         backjump or region size disagree with each other or exceed len);
 *         SLATE_ECORRUPT (total is not the sum of the buckets, the head's
 *         bucket index is not H mod N, H is not a possible tick, a bucket
 *         of a tick before 0 (when H < N - 1), a reserved field or the
 *         padding is not zero). Cost: O(N).
 */
SLATE_NODISCARD SLATE_API slate_status slate_rate_validate(const void *mem, size_t len);

/**
 * @brief Record one arrival at `now_ns`. Same as slate_rate_add_n(r, now_ns, 1).
 * Cost: O(1) when now_ns is in the head's tick or behind it; O(min(d, N)) when
 * the head moves forward by d ticks.
 */
SLATE_API slate_status slate_rate_add(slate_rate_t *r, uint64_t now_ns);

/**
 * @brief Record `n` arrivals at `now_ns` (n = 0 only moves time, as an add would).
 * @return SLATE_OK (counted, including after a re-base); SLATE_ELATE (too old:
 *         not counted, added to `late`); SLATE_EOVERFLOW (the tick's bucket
 *         saturated: what fitted was counted, the rest added to `saturated`);
 *         SLATE_EINVAL (r NULL); SLATE_EBADMAGIC (not an estimator).
 * Cost: as slate_rate_add().
 */
SLATE_API slate_status slate_rate_add_n(slate_rate_t *r, uint64_t now_ns, uint64_t n);

/**
 * @brief Arrivals in the trailing window as seen at `now_ns` (see the file
 *        comment); reads only. 0 if r is NULL or not an estimator.
 * Cost: O(1) when now_ns is in the head's tick, behind it, or N or more ticks
 * ahead; otherwise O(d) for d ticks ahead of the head (at most N - 1).
 */
SLATE_API uint64_t slate_rate_count(const slate_rate_t *r, uint64_t now_ns);

/**
 * @brief slate_rate_count() scaled to arrivals per second:
 *        count * 1e9 / window_ns. Cost: as slate_rate_count().
 */
SLATE_API double slate_rate_per_second(const slate_rate_t *r, uint64_t now_ns);

/**
 * @brief Add the arrivals of `src` into `dst`.
 *
 * dst's head moves to max(H_dst, H_src) (forgetting what expires, as an add
 * would) and every arrival src holds in the window ending there is added, tick
 * by tick, saturating as in slate_rate_add_n(); late, resets and saturated are
 * summed. If both saw parts of one time-ordered stream, dst ends up exactly as
 * one estimator that saw all of it. dst == src doubles it. src is not written.
 * max_backjump_ns may differ; dst keeps its own.
 * @return SLATE_OK; SLATE_EOVERFLOW (a bucket saturated); SLATE_EINVAL (NULL);
 *         SLATE_EBADMAGIC; SLATE_EMISMATCH (different resolution or window).
 * Cost: O(N).
 */
SLATE_API slate_status slate_rate_merge(slate_rate_t *dst, const slate_rate_t *src);

/**
 * @brief The sum of slate_rate_count(rates[i], now_ns) over n estimators,
 *        saturating; writes nothing but `*out`.
 *
 * Equals the count of one estimator that saw every arrival when now_ns is at
 * or after every estimator's head.
 * @return SLATE_OK; SLATE_EINVAL (rates, an entry or out NULL); SLATE_EBADMAGIC;
 *         SLATE_EMISMATCH (the estimators' resolutions or windows differ).
 *         `*out` is 0 on error and for n = 0.
 * Cost: n times that of slate_rate_count().
 */
SLATE_API slate_status slate_rate_sum(const slate_rate_t *const *rates, size_t n, uint64_t now_ns,
                                      uint64_t *out);

/**
 * @brief Parameters, head and counters of an estimator.
 * @return SLATE_OK; SLATE_EINVAL (NULL); SLATE_EBADMAGIC. Cost: O(1).
 */
SLATE_API slate_status slate_rate_info(const slate_rate_t *r, slate_rate_info_t *out);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_RATE_H */
