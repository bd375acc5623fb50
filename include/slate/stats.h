/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file stats.h
 * @brief Latency statistics: exact moments (Welford) plus a fixed-size,
 *        mergeable log-bucket histogram for quantiles.
 *
 * All values are nanoseconds (uint64_t). `slate_stats_t` is a plain, fixed-size
 * struct the caller owns (stack, heap, wasm linear memory or shared memory);
 * nothing here allocates, reads a clock or keeps global state.
 *
 * Histogram scheme (also documented in proto/slate/v1/slate.proto so that other
 * languages can read the buckets): bucket 0 holds every value <= SLATE_HIST_MIN_NS;
 * bucket i >= 1 holds values v with
 *     SLATE_HIST_MIN_NS * g^(i-1) < v <= SLATE_HIST_MIN_NS * g^i,
 * where g = 1.0095 / 0.9905 = 10095 / 9905 exactly (SLATE_HIST_GAMMA is its
 * double approximation); the last bucket also holds everything above its lower
 * bound. Values are integers, so bucket i >= 1 holds U(i-1) < v <= U(i) with
 * U(i) = floor(SLATE_HIST_MIN_NS * g^i) computed exactly. The library carries
 * these bounds as an integer table, so every platform buckets alike
 * (U(0) = 1000, U(1) = 1019, U(1158) = 3594468343218).
 *
 * The representative value of bucket i is 2 * SLATE_HIST_MIN_NS * g^i / (g + 1)
 * rounded to the nearest integer, halves up (991 for bucket 0, 1010 for
 * bucket 1). In real numbers its relative distance from any value in the bucket
 * is at most (g - 1) / (g + 1) = SLATE_HIST_ALPHA; after rounding, for integer
 * values in (SLATE_HIST_MIN_NS, SLATE_HIST_MAX_NS] it is at most 0.969%.
 * Quantiles are further clamped to [min, max], which are exact; values at or
 * below SLATE_HIST_MIN_NS are only bounded by that clamp.
 */
#ifndef SLATE_STATS_H
#define SLATE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Values at or below this (1 microsecond) share bucket 0. */
#define SLATE_HIST_MIN_NS 1000u
/** Bucket half-width: the relative error of a quantile for values in (MIN_NS, MAX_NS],
 *  before the representative is rounded to an integer (after: at most 0.969%). */
#define SLATE_HIST_ALPHA 0.0095
/** Bucket growth factor, (1 + ALPHA) / (1 - ALPHA). */
#define SLATE_HIST_GAMMA ((1.0 + SLATE_HIST_ALPHA) / (1.0 - SLATE_HIST_ALPHA))
/** Upper end of the accurate range: one hour. Larger values go to the last bucket. */
#define SLATE_HIST_MAX_NS 3600000000000ull
/** Number of buckets: 1 + ceil(ln(MAX_NS / MIN_NS) / ln(GAMMA)). */
#define SLATE_HIST_BUCKETS 1160u

/**
 * Latency statistics of one endpoint over one interval.
 *
 * Fields are public so the struct can be copied, zeroed and encoded, but keep
 * them consistent by using the functions below. `count == 0` means empty (and
 * then min/max/mean/m2 are 0). `sum_ns` saturates at UINT64_MAX.
 */
typedef struct slate_stats {
    uint64_t count;  /**< number of samples */
    uint64_t sum_ns; /**< sum of samples, saturating */
    uint64_t min_ns; /**< smallest sample (0 when empty) */
    uint64_t max_ns; /**< largest sample (0 when empty) */
    double mean_ns;  /**< running mean (Welford) */
    double m2;       /**< sum of squared deviations from the mean, ns^2 (Welford) */
    uint32_t hist[SLATE_HIST_BUCKETS]; /**< bucket counts, saturating at UINT32_MAX */
} slate_stats_t;

/** @brief Reset to empty. Cost: O(SLATE_HIST_BUCKETS). */
SLATE_API void slate_stats_init(slate_stats_t *s);

/**
 * @brief Record one sample in nanoseconds.
 *
 * The histogram bucket comes from slate_hist_bucket(). A bucket that reached
 * UINT32_MAX stays there (the sample still counts in count, sum, min, max,
 * mean, m2). Cost: O(1), no libm call.
 */
SLATE_API void slate_stats_add(slate_stats_t *s, uint64_t value_ns);

/**
 * The moments of slate_stats_t without its histogram: for a caller that keeps
 * the histogram some other way (say, only over the buckets that have counts)
 * and adds slate_hist_bucket() of each sample to it. Zero it to start.
 */
typedef struct slate_moments {
    uint64_t count;  /**< number of samples */
    uint64_t sum_ns; /**< sum of samples, saturating */
    uint64_t min_ns; /**< smallest sample (0 when empty) */
    uint64_t max_ns; /**< largest sample (0 when empty) */
    double mean_ns;  /**< running mean (Welford) */
    double m2;       /**< sum of squared deviations from the mean, ns^2 (Welford) */
} slate_moments_t;

/**
 * @brief Record one sample in the moments alone: exactly what
 *        slate_stats_add() does to the same fields, bit for bit. A count at
 *        UINT64_MAX takes no more samples. Cost: O(1), no libm call.
 */
SLATE_API void slate_moments_add(slate_moments_t *m, uint64_t value_ns);

/**
 * @brief Copy the moments into the same fields of `s` (its histogram is left
 *        as it is: the caller fills it). Cost: O(1).
 */
SLATE_API void slate_stats_set_moments(slate_stats_t *s, const slate_moments_t *m);

/**
 * @brief Add the statistics of `src` into `dst` (Chan et al.'s parallel update).
 *
 * Merging the statistics of the parts of a sample equals the statistics of the
 * whole (exactly for count, sum, min, max, histogram; to rounding for mean, m2).
 * Cost: O(SLATE_HIST_BUCKETS).
 */
SLATE_API void slate_stats_merge(slate_stats_t *dst, const slate_stats_t *src);

/** @brief Sample variance (m2 / (count - 1)); 0 when count < 2. Cost: O(1). */
SLATE_API double slate_stats_variance(const slate_stats_t *s);

/**
 * @brief The q-quantile (0 <= q <= 1) from the histogram, clamped to [min, max].
 *
 * Returns the representative value of the bucket holding the sample of rank
 * ceil(q * count) (rank 1 for q = 0); 0 when empty. q below 0 or NaN reads as
 * 0 and q above 1 as 1. Should a bucket ever have saturated, ranks count over
 * the histogram's total rather than `count`.
 * Cost: O(SLATE_HIST_BUCKETS).
 */
SLATE_API uint64_t slate_stats_quantile(const slate_stats_t *s, double q);

/**
 * @brief The bucket index of a value, per the scheme above.
 * Cost: O(1): an approximate log2 from the double's bits, then at most a few
 * comparisons with the exact bound table.
 */
SLATE_API uint32_t slate_hist_bucket(uint64_t value_ns);

/**
 * @brief The representative value of a bucket; an index past the last bucket
 *        reads as the last. Cost: O(1) (table lookup).
 */
SLATE_API uint64_t slate_hist_value(uint32_t bucket);

/**
 * @brief Check a struct read from untrusted memory before using it.
 *
 * Checks: mean and m2 finite, m2 >= 0; an empty struct is all zero; the
 * histogram total equals count (at most count if a bucket saturated); min <= max
 * and their buckets are the first and last non-empty ones; the sum lies in
 * [count*min, count*max] unless saturated; the mean lies in [min, max] (to
 * within a relative 1e-6); when all samples are equal (min == max), m2 is 0
 * and the mean is exactly that value. Everything slate_stats_add() and
 * slate_stats_merge() produce passes.
 * @return SLATE_OK, SLATE_EINVAL (NULL) or SLATE_ECORRUPT. Cost: O(SLATE_HIST_BUCKETS).
 */
SLATE_API slate_status slate_stats_validate(const slate_stats_t *s);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_STATS_H */
