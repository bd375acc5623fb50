/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file batch.h
 * @brief The message a filter VM (worker) sends the reporter through the
 *        shared queue: what it measured since its previous flush.
 *
 * Pure C, no allocation: builds natively (tests, fuzz/fuzz_wasm_batch.c) and
 * for wasm32. A batch is a byte string with a fixed little-endian layout; the
 * reporter validates every batch completely before using any of it, so a
 * corrupt or hostile queue item is dropped whole and never half-applied.
 *
 * ## Semantics
 * - Counters (`requests`, latency statistics, drop counters, spans) are
 *   deltas since the worker's previous successful flush: the reporter adds
 *   them, so batches may arrive late or out of order without losing a count.
 * - Gauges (`window_count`, `in_flight`) are the worker's values at
 *   `time_ns`: the reporter keeps, per worker and endpoint, the one with the
 *   highest `seq` and sums them over the live workers.
 * - One flush may be split into several batches (each at most the configured
 *   batch size); they share `seq`. Every flush sends at least one batch (an
 *   empty one is a heartbeat that keeps the worker's gauges alive).
 *
 * ## Layout (version 1; all integers little-endian, no alignment)
 * Header, 96 bytes:
 * | off | size | field |
 * |---|---|---|
 * | 0  | 4 | magic "SLWB" |
 * | 4  | 2 | version (1) |
 * | 6  | 2 | header size (96) |
 * | 8  | 4 | total size of the batch in bytes |
 * | 12 | 2 | inbound entries |
 * | 14 | 2 | outbound entries |
 * | 16 | 2 | spans |
 * | 18 | 2 | reserved (0) |
 * | 20 | 4 | reserved (0) |
 * | 24 | 8 | worker id (random, per filter root context) |
 * | 32 | 8 | seq: flush number of that worker, from 1 |
 * | 40 | 8 | time_ns: the worker's clock at the flush |
 * | 48 | 8 | window_ns of the worker's rate estimators |
 * | 56 | 8 | spans dropped (delta) |
 * | 64 | 8 | requests to untracked endpoints, table full (delta) |
 * | 72 | 8 | outbound calls untracked, table full (delta) |
 * | 80 | 8 | arrivals too late for the rate window (delta) |
 * | 88 | 8 | saturated counters (delta) |
 *
 * Then the inbound entries, the outbound entries and the spans, in that order.
 * Each entry starts with its own total size (u32) so a reader can step over it.
 *
 * Stats block (52 + 4 * hist_len bytes): count, sum_ns, min_ns, max_ns (u64),
 * mean_ns, m2 (IEEE-754 binary64), hist_offset (u16), hist_len (u16), then
 * hist_len bucket counts (u32) for buckets hist_offset.. (the span from the
 * first to the last non-zero bucket, as in slate.proto's LatencyStats).
 *
 * Inbound entry: size u32, method_len u16, path_len u16, requests u64,
 * window_count u64, in_flight u64, stats block, method bytes, path bytes.
 *
 * Outbound entry: size u32, service_len u16, method_len u16, path_len u16,
 * region_len u16, requests u64, stats block, service, method, path, region.
 *
 * Span: size u32, trace_len u8, span_len u8, parent_len u8, reserved u8 (0),
 * method_len u16, path_len u16, start_ns u64, end_ns u64, body_size u64,
 * arrival_count u64 (the worker's window count of the span's endpoint at
 * arrival, this request included), arrival_in_flight u64 (the worker's
 * in-flight requests of that endpoint at arrival, this one included),
 * then trace id, span id, parent span id, method, path.
 *
 * Limits checked by the reader: method <= SW_MAX_METHOD, path <= SW_MAX_PATH,
 * service and region <= SW_MAX_NAME, ids <= SW_MAX_ID bytes; strings are
 * printable ASCII; end_ns >= start_ns; statistics pass sw_stats_check().
 */
#ifndef SLATE_WASM_BATCH_H
#define SLATE_WASM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "slate/stats.h"

#define SW_BATCH_MAGIC   0x42574c53u /* "SLWB" */
#define SW_BATCH_VERSION 1u
#define SW_BATCH_HEADER  96u

#define SW_MAX_METHOD 32u
#define SW_MAX_PATH   256u
#define SW_MAX_NAME   63u
#define SW_MAX_ID     32u

/** Largest stats block: every histogram bucket present. */
#define SW_STATS_BLOCK_MAX (52u + 4u * SLATE_HIST_BUCKETS)
/** Largest entries of each kind, so a writer can size its batches. */
#define SW_INBOUND_MAX  (32u + SW_STATS_BLOCK_MAX + SW_MAX_METHOD + SW_MAX_PATH)
#define SW_OUTBOUND_MAX (20u + SW_STATS_BLOCK_MAX + 2u * SW_MAX_NAME + SW_MAX_METHOD + SW_MAX_PATH)
#define SW_SPAN_MAX     (52u + 3u * SW_MAX_ID + SW_MAX_METHOD + SW_MAX_PATH)

/** A string view into a batch. */
typedef struct sw_str {
    const char *p;
    size_t n;
} sw_str_t;

/** Batch header fields. */
typedef struct sw_batch_head {
    uint64_t worker_id;
    uint64_t seq;
    uint64_t time_ns;
    uint64_t window_ns;
    uint64_t spans_dropped;
    uint64_t endpoints_overflowed;
    uint64_t outbound_overflowed;
    uint64_t late_stamps;
    uint64_t counters_saturated;
    uint16_t n_inbound, n_outbound, n_spans;
} sw_batch_head_t;

enum { SW_ITEM_INBOUND = 1, SW_ITEM_OUTBOUND = 2, SW_ITEM_SPAN = 3 };

/** One entry of a batch, as views into the batch bytes. */
typedef struct sw_batch_item {
    int kind;                         /**< SW_ITEM_* */
    sw_str_t service;                 /**< outbound: destination service */
    sw_str_t method;                  /**< all kinds */
    sw_str_t path;                    /**< all kinds */
    sw_str_t region;                  /**< outbound: destination region */
    sw_str_t trace_id;                /**< span */
    sw_str_t span_id;                 /**< span */
    sw_str_t parent_id;               /**< span (may be empty) */
    uint64_t requests;                /**< inbound, outbound */
    uint64_t window_count, in_flight; /**< inbound gauges */
    uint64_t start_ns, end_ns, body_size, arrival_count, arrival_in_flight; /**< span */
    const uint8_t *stats; /**< inbound, outbound: the stats block */
    size_t stats_len;
} sw_batch_item_t;

/** A batch being written into caller memory. */
typedef struct sw_batch_writer {
    uint8_t *buf;
    size_t cap, len;
    uint16_t n_inbound, n_outbound, n_spans;
} sw_batch_writer_t;

/** A validated batch being read. */
typedef struct sw_batch_reader {
    const uint8_t *buf;
    size_t len, off;
    unsigned left_in, left_out, left_spans;
} sw_batch_reader_t;

/** Reasons a batch is rejected (distinct, for logs and tests). */
typedef enum sw_batch_err {
    SW_BATCH_OK = 0,
    SW_BATCH_SHORT,       /**< shorter than its header or its recorded size */
    SW_BATCH_MAGIC_ERR,   /**< wrong magic */
    SW_BATCH_VERSION_ERR, /**< unknown version or header size */
    SW_BATCH_SIZE,        /**< recorded sizes disagree */
    SW_BATCH_STRING,      /**< a string too long or not printable */
    SW_BATCH_STATS,       /**< a statistics block is malformed or inconsistent */
    SW_BATCH_VALUE,       /**< a value out of range (end before start, reserved set) */
} sw_batch_err;

/** @brief Size of the stats block for `s` (0 when s is empty and has no buckets). O(buckets). */
size_t sw_stats_block_size(const slate_stats_t *s);

/** @brief Start a batch in buf[cap]. Returns 0 if cap < header. O(1). */
int sw_batch_begin(sw_batch_writer_t *w, uint8_t *buf, size_t cap);

/** @brief Append an inbound entry; returns 0 (nothing written) if it does not fit. */
int sw_batch_add_inbound(sw_batch_writer_t *w, sw_str_t method, sw_str_t path, uint64_t requests,
                         uint64_t window_count, uint64_t in_flight, const slate_stats_t *st);

/** @brief Append an outbound entry; returns 0 (nothing written) if it does not fit. */
int sw_batch_add_outbound(sw_batch_writer_t *w, sw_str_t service, sw_str_t method, sw_str_t path,
                          sw_str_t region, uint64_t requests, const slate_stats_t *st);

/** @brief Append a span; returns 0 (nothing written) if it does not fit. */
int sw_batch_add_span(sw_batch_writer_t *w, sw_str_t trace_id, sw_str_t span_id, sw_str_t parent_id,
                      sw_str_t method, sw_str_t path, uint64_t start_ns, uint64_t end_ns,
                      uint64_t body_size, uint64_t arrival_count, uint64_t arrival_in_flight);

/**
 * @brief Write the header (entries must all be added first); returns the
 *        batch length. Entries must be added in the order inbound, outbound,
 *        spans (the writer enforces it by refusing out-of-order adds).
 */
size_t sw_batch_finish(sw_batch_writer_t *w, const sw_batch_head_t *h);

/**
 * @brief Validate a whole batch and prepare to read it.
 *
 * Never reads outside buf[0, len). On success fills `h` and `r`; the items
 * are then read with sw_batch_next(). `scratch` is working memory for
 * checking each statistics block with sw_stats_check(). O(len).
 */
sw_batch_err sw_batch_open(const uint8_t *buf, size_t len, sw_batch_head_t *h, sw_batch_reader_t *r,
                           slate_stats_t *scratch);

/** @brief Next item of a validated batch; returns 0 when there are no more. O(1). */
int sw_batch_next(sw_batch_reader_t *r, sw_batch_item_t *item);

/** @brief Fill `s` from a stats block of a validated batch. O(SLATE_HIST_BUCKETS). */
void sw_stats_block_load(const uint8_t *block, size_t len, slate_stats_t *s);

/**
 * @brief The invariants of slate_stats_validate() except one: that min and
 *        max lie in the first and last non-empty histogram buckets (checking
 *        that needs the 9 KiB bucket-bound table, which the reporter module
 *        does not otherwise link). Returns 1 when they hold. O(SLATE_HIST_BUCKETS).
 */
int sw_stats_check(const slate_stats_t *s);

/** @brief A short static name of a batch error. */
const char *sw_batch_err_name(sw_batch_err e);

#endif /* SLATE_WASM_BATCH_H */
