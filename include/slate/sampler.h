/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file sampler.h
 * @brief Weighted region sampler (alias table, Vose's method) and a small PRNG.
 *
 * The controller sends, per endpoint, a list of (destination region, weight).
 * The data plane maps region names to small integer ids (`uint16_t`, any value
 * but SLATE_REGION_NONE; the mapping is the caller's, for example the index of
 * the name in its region list), compiles the list into a table in caller
 * memory, and draws a region per outbound call in O(1) from a 64-bit random or
 * hash value. A draw uses no floating point and is deterministic: the same
 * table and value always give the same region.
 *
 * @code
 * unsigned char mem[SLATE_SAMPLER_SIZE(4)];
 * slate_sampler_init(mem, sizeof mem, 4);
 * const uint16_t regions[] = {0, 1};           // "us-west-1", "us-east-1"
 * const double weights[] = {0.6, 0.4};
 * if (slate_sampler_compile(mem, sizeof mem, regions, weights, 2) == SLATE_OK) {
 *     slate_rng_t rng;
 *     slate_rng_seed(&rng, worker_seed);
 *     uint16_t region = slate_sampler_draw(mem, slate_rng_next(&rng));
 * }
 * @endcode
 *
 * ## Table layout (version 1)
 * A table is a byte region with no alignment requirement (every field is read
 * through memcpy), so it can be copied as is through proxy shared data, a
 * file or another process and checked with slate_sampler_validate(). All
 * fields are little-endian.
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0  | 4 | magic, SLATE_SAMPLER_MAGIC (the bytes "SLSA") |
 * | 4  | 2 | version, SLATE_SAMPLER_VERSION |
 * | 6  | 2 | header size, 32 |
 * | 8  | 2 | capacity: columns the region holds, 1..SLATE_SAMPLER_MAX_REGIONS |
 * | 10 | 2 | count: columns in use, 0 (nothing compiled yet) .. capacity |
 * | 12 | 2 | entry size, 8 |
 * | 14 | 2 | reserved, 0 |
 * | 16 | 4 | total size in bytes, 32 + 8 * capacity |
 * | 20 | 4 | reserved, 0 |
 * | 24 | 8 | checksum: XXH3_64bits_withSeed(bytes 32 .. total size, seed = XXH3_64bits(bytes
 * 0..24)) | | 32 | 8 * capacity | entries (columns) |
 *
 * Entry i (column i) is { uint32 threshold; uint16 region; uint16 alias; }.
 * Column i belongs to the i-th (region, weight) pair given to the compiler, so
 * `region` lists the compiled regions in input order. Entries at and past
 * `count` are all zero.
 *
 * ## Draw
 * For a value v and count n: column c = ((v >> 32) * n) >> 32 (the high 32
 * bits pick the column), coin = v & 0xffffffff (the low 32 bits);
 * the result is entry[c].region if coin < entry[c].threshold, else
 * entry[c].alias. A column that always yields its own region stores
 * threshold 0xffffffff and alias == region.
 *
 * ## Probabilities
 * Each positive weight w_i becomes an integer mass m_i with
 * sum(m_i) = n * 2^32 exactly (largest-weight entry absorbs the rounding), and
 * a positive weight never rounds to a zero mass. The region's probability is
 * exactly m_i / (n * 2^32) when v is uniform over 2^64 values, up to the
 * column-selection rounding of at most n / 2^32 relative. So the quantum is
 * 2^-32 / n: weights closer than that are indistinguishable, and a weight of
 * 1e-300 next to 1 is drawn with probability 1 / (n * 2^32), not 0. A zero
 * weight is never drawn.
 *
 * ## Values
 * The value must be uniform over all 64 bits: the output of slate_rng_next(),
 * or a good 64-bit hash (XXH3). A counter or a value whose high or low half
 * is constant gives a biased draw.
 */
#ifndef SLATE_SAMPLER_H
#define SLATE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The most (region, weight) pairs a table can hold. */
#define SLATE_SAMPLER_MAX_REGIONS 256u
/** A region id that is never valid; a draw from an empty table returns it. */
#define SLATE_REGION_NONE 0xffffu
/** First four bytes of a table: "SLSA" read as a little-endian uint32. */
#define SLATE_SAMPLER_MAGIC 0x41534c53u
/** Layout version written by this library. */
#define SLATE_SAMPLER_VERSION 1u
/** Bytes of the table header. */
#define SLATE_SAMPLER_HEADER_SIZE 32u
/** Bytes of one column. */
#define SLATE_SAMPLER_ENTRY_SIZE 8u
/** Bytes of a table of `capacity` columns, as a constant expression. */
#define SLATE_SAMPLER_SIZE(capacity)                                                               \
    (SLATE_SAMPLER_HEADER_SIZE + SLATE_SAMPLER_ENTRY_SIZE * (size_t)(capacity))

/**
 * @brief Bytes needed for a table of up to `capacity` regions.
 * @return SLATE_SAMPLER_SIZE(capacity), or 0 when capacity is 0 or above
 *         SLATE_SAMPLER_MAX_REGIONS. Cost: O(1).
 */
SLATE_API size_t slate_sampler_size(size_t capacity);

/**
 * @brief Write an empty table (count 0) of `capacity` columns into `mem`.
 *
 * Any alignment is fine. Only the first slate_sampler_size(capacity) bytes
 * are written.
 * @return SLATE_OK; SLATE_EINVAL (mem NULL); SLATE_ERANGE (capacity 0 or above
 *         SLATE_SAMPLER_MAX_REGIONS); SLATE_ENOSPC (len too small).
 *         Cost: O(capacity).
 */
SLATE_API slate_status slate_sampler_init(void *mem, size_t len, size_t capacity);

/**
 * @brief Compile n (region, weight) pairs into the table in `mem`.
 *
 * `mem` must hold a table made by slate_sampler_init() (compiled or not); its
 * capacity bounds n. Everything is checked and the new table is built in
 * scratch space before a single byte of `mem` is written, so on any error
 * the table already in `mem` is left byte for byte as it was and stays valid.
 *
 * Checks, in this order (the first failing one is returned):
 * SLATE_EINVAL (mem NULL, or regions/weights NULL); SLATE_ENOSPC (len below
 * the size its header records); SLATE_EBADMAGIC, SLATE_EBADVERSION,
 * SLATE_EBADSIZE, SLATE_ECORRUPT (mem does not hold a valid table);
 * SLATE_EEMPTY (n == 0); SLATE_ETOOMANY (n above SLATE_SAMPLER_MAX_REGIONS or
 * the table's capacity); then pair by pair in input order: SLATE_ERANGE
 * (region == SLATE_REGION_NONE), SLATE_EWEIGHT_NAN, SLATE_EWEIGHT_INF (+Inf or
 * -Inf), SLATE_EWEIGHT_NEG (below zero; -0.0 counts as zero); then
 * SLATE_EDUPLICATE (a region id twice); then SLATE_EWEIGHT_ZERO (every weight
 * is zero). Zero weights beside positive ones are allowed and never drawn.
 *
 * Weights need not sum to anything in particular: only their ratios matter,
 * and any finite values work (they are scaled by the largest first, so 1e308
 * twice does not overflow).
 * Not atomic with respect to draws from the same memory in other threads: to
 * replace a table that workers are drawing from, compile into a second buffer
 * and publish it (swap a pointer, or copy through proxy shared data).
 * Cost: O(capacity + n); no allocation; about 16 KiB of stack.
 */
SLATE_API SLATE_NODISCARD slate_status slate_sampler_compile(void *mem, size_t len,
                                                             const uint16_t *regions,
                                                             const double *weights, size_t n);

/**
 * @brief slate_sampler_compile() for integer weights, as the controller sends
 *        them (for example percentages or parts per million).
 *
 * Same checks and guarantees; the NaN, infinite and negative checks cannot
 * fail. Cost: O(capacity + n).
 */
SLATE_API SLATE_NODISCARD slate_status slate_sampler_compile_u32(void *mem, size_t len,
                                                                 const uint16_t *regions,
                                                                 const uint32_t *weights, size_t n);

/**
 * @brief Draw a region from a 64-bit uniform random or hash value.
 *
 * `table` must be a table written by slate_sampler_init()/compile() or one
 * that passed slate_sampler_validate(); nothing is checked here.
 * @return a region id of the table with a non-zero probability, or
 *         SLATE_REGION_NONE when nothing has been compiled yet (count 0).
 *         Cost: O(1), whatever the number of regions: one column read, no
 *         floating point, no branch on the data besides the coin.
 */
SLATE_API uint16_t slate_sampler_draw(const void *table, uint64_t value);

/**
 * @brief Check a table of `len` bytes read from untrusted memory.
 *
 * Verifies the header (magic, version, sizes, capacity, count), the checksum,
 * that every region in use is distinct and not SLATE_REGION_NONE, that every
 * alias names a region of the table, and that unused entries are zero.
 * A table that passes can be drawn from safely.
 * @return SLATE_OK; SLATE_EINVAL (NULL); SLATE_ENOSPC (len below the header or
 *         the recorded total size); SLATE_EBADMAGIC; SLATE_EBADVERSION;
 *         SLATE_EBADSIZE (header, entry or total size, or capacity, not as
 *         this version defines); SLATE_ECORRUPT (checksum, count above
 *         capacity, bad region or alias, duplicate, non-zero unused entry).
 *         Cost: O(capacity); about 8 KiB of stack.
 */
SLATE_API slate_status slate_sampler_validate(const void *mem, size_t len);

/** @brief Number of compiled regions (the table's count). Cost: O(1). */
SLATE_API size_t slate_sampler_count(const void *table);

/** @brief Capacity of the table in columns. Cost: O(1). */
SLATE_API size_t slate_sampler_capacity(const void *table);

/**
 * @brief The region id of the i-th compiled pair (input order).
 * @return the id, or SLATE_REGION_NONE when i >= count. Cost: O(1).
 */
SLATE_API uint16_t slate_sampler_region(const void *table, size_t i);

/**
 * @brief Exact probability that a uniform value draws `region`, from the
 *        table's fixed-point thresholds (for tests, debugging and export).
 * @return in [0, 1]; 0 for a region not in the table or an empty table.
 *         Cost: O(count).
 */
SLATE_API double slate_sampler_probability(const void *table, uint16_t region);

/* ------------------------------------------------------------------------- */
/* PRNG: xoshiro256** seeded by splitmix64.                                  */

/**
 * State of the xoshiro256** generator (Blackman and Vigna, 2018): 256 bits,
 * period 2^256 - 1, equidistributed in 4 dimensions over 64-bit outputs, passes
 * BigCrush and PractRand; not cryptographic. The caller owns it (stack, heap,
 * per-worker memory); one state must not be shared by threads without a lock.
 * Seed it with slate_rng_seed(), which never yields the all-zero state.
 */
typedef struct slate_rng {
    uint64_t s[4]; /**< generator state; never all zero */
} slate_rng_t;

/**
 * @brief One step of splitmix64 (Steele, Lea and Flood, 2014): adds the golden
 *        gamma 0x9e3779b97f4a7c15 to *state and returns a mix of the result.
 *
 * A bijective 64-bit mixer with period 2^64 over the state; used to expand a
 * seed, and usable to turn a counter into uniform values.
 * Cost: O(1).
 */
SLATE_API uint64_t slate_splitmix64(uint64_t *state);

/**
 * @brief Seed `rng` from a 64-bit seed: the four state words are four
 *        successive splitmix64 outputs from `seed`.
 *
 * Different seeds give streams that for all practical purposes do not
 * overlap (give each worker its own seed, e.g. worker id mixed with time).
 * Cost: O(1).
 */
SLATE_API void slate_rng_seed(slate_rng_t *rng, uint64_t seed);

/** @brief Next 64-bit output of xoshiro256**. Cost: O(1), about a nanosecond. */
SLATE_API uint64_t slate_rng_next(slate_rng_t *rng);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_SAMPLER_H */
