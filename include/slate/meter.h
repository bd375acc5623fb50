/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file meter.h
 * @brief The measurement table of one proxy: its inbound endpoints, its
 *        outbound calls per destination region, and the sampled spans of
 *        the current interval, in one region of caller memory; and the
 *        `LoadReport` built from it.
 *
 * Every shim needs the same table: the wasm reporter merges its filter
 * VMs' batches into one, the nginx module's workers write into one in an
 * shm zone, the native-proxy example keeps one on its heap. The table is a
 * single validated region with no pointers (magic, version, sizes), so it
 * can sit in shared memory that every process maps at a different address.
 * Pure C: no allocation, no I/O, no clock; callers pass times.
 *
 * ## Model
 * - An *entry* is an inbound endpoint (method, normalised path) or an
 *   outbound destination (service, method, path, destination region).
 *   Entries get dense ids 0, 1, 2... in the order they appear and keep them
 *   until slate_meter_init() starts over; slate_meter_move() into a larger
 *   region keeps them too. The table never forgets an entry: it is bounded
 *   by `max_inbound` and `max_outbound`, and what does not fit is counted in
 *   the drops (`endpoints_overflowed`, `outbound_overflowed`).
 * - Per entry, *interval counters* (requests, latency statistics) are reset
 *   when the interval is closed; *gauges* (requests in flight, arrival
 *   rate) are not.
 * - Spans of the interval are kept up to `max_spans`; more are counted in
 *   `spans_dropped`.
 * - The drops are cumulative since the table was initialised, as the
 *   `Drops` message wants.
 *
 * ## Concurrency contract
 * The table has no lock of its own. Every function that takes a
 * non-const `slate_meter_t *` writes it, and the caller makes it exclusive
 * (one thread, or the caller's mutex: nginx holds its shm zone's mutex for
 * one call, a few hundred nanoseconds). Reading (const functions) needs the
 * same lock if anyone may write concurrently. Nothing here is lock-free.
 * The reporting path is built so the lock is never held for long:
 * slate_meter_take() copies and resets one entry per call, and
 * slate_meter_report_from() builds the report from those copies with no
 * lock held.
 *
 * ## Trust
 * A region that another process wrote (an shm zone inherited over a
 * reload, a file) is untrusted: slate_meter_attach() validates it whole
 * before use. After that, the processes that write it under the lock are
 * trusted code; every function still checks the ids it is given against
 * the header's counts.
 *
 * ## Memory
 * slate_meter_size() gives the bytes: a 192-byte header, a hash index of
 * 4 bytes per slot (the next power of two at or above twice the entries),
 * sizeof(slate_meter_entry_t) per entry and sizeof(slate_meter_span_t) per
 * span. The entry is dominated by its latency histogram (slate_stats_t).
 */
#ifndef SLATE_METER_H
#define SLATE_METER_H

#include <stddef.h>
#include <stdint.h>

#include "slate/codec.h"
#include "slate/export.h"
#include "slate/key.h"
#include "slate/stats.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLATE_METER_MAGIC   0x544d4c53u /**< "SLMT" */
#define SLATE_METER_VERSION 1u
/** Bytes of the region's header. */
#define SLATE_METER_HEADER 192u
/** Longest service or region name an entry holds, in bytes. */
#define SLATE_METER_MAX_NAME 63u
/** Longest HTTP method an entry holds, in bytes. */
#define SLATE_METER_MAX_METHOD 31u
/** Longest trace, span or parent id a span holds (hex digits). */
#define SLATE_METER_MAX_ID 32u
/** Most entries of one kind, and most spans, a table can hold. */
#define SLATE_METER_MAX_ENTRIES 65536u

/** The kind of an entry. */
typedef enum slate_meter_kind {
    SLATE_METER_INBOUND = 1,  /**< an endpoint of this service */
    SLATE_METER_OUTBOUND = 2, /**< calls to a destination endpoint in one region */
} slate_meter_kind;

/** Sizes of a table. */
typedef struct slate_meter_limits {
    uint32_t max_inbound;  /**< inbound entries, 1..SLATE_METER_MAX_ENTRIES */
    uint32_t max_outbound; /**< outbound entries, 0..SLATE_METER_MAX_ENTRIES */
    uint32_t max_spans;    /**< spans per interval, 0..SLATE_METER_MAX_ENTRIES */
} slate_meter_limits_t;

/**
 * One entry. Plain data with NUL-terminated names, so a caller may copy it
 * (slate_meter_take()) and read it; change it only through the functions
 * below.
 */
typedef struct slate_meter_entry {
    uint64_t key;        /**< hash of kind and names (lookup only) */
    uint8_t kind;        /**< slate_meter_kind */
    uint8_t service_len; /**< outbound: destination service; inbound: 0 */
    uint8_t method_len;
    uint8_t region_len; /**< outbound: destination region; inbound: 0 */
    uint16_t path_len;
    uint16_t reserved;
    char service[SLATE_METER_MAX_NAME + 1];
    char method[SLATE_METER_MAX_METHOD + 1];
    char path[SLATE_PATH_NORM_CAP];
    char region[SLATE_METER_MAX_NAME + 1];
    uint64_t requests;   /**< interval: arrivals (inbound) or completed calls (outbound) */
    uint64_t in_flight;  /**< gauge (inbound): requests arrived and not yet departed */
    double rate_rps;     /**< gauge (inbound): arrival rate, requests/s */
    slate_stats_t stats; /**< interval: latency of what completed */
} slate_meter_entry_t;

/** One sampled span of an inbound request. */
typedef struct slate_meter_span {
    uint32_t entry; /**< id of its inbound entry */
    uint8_t trace_len, span_len, parent_len, reserved;
    char trace_id[SLATE_METER_MAX_ID + 1];
    char span_id[SLATE_METER_MAX_ID + 1];
    char parent_id[SLATE_METER_MAX_ID + 1];
    uint64_t start_ns, end_ns;  /**< unix ns */
    uint64_t body_size;         /**< request body, bytes */
    double arrival_rps;         /**< its endpoint's arrival rate when it arrived */
    uint64_t arrival_in_flight; /**< its endpoint's requests in flight, this one included */
} slate_meter_span_t;

/**
 * The table: an opaque view of a validated region. A `slate_meter_t *` is
 * the region's own address, so a process that maps a region another
 * process initialised or attached (an shm zone) at another address may use
 * its own address of it as the table.
 */
typedef struct slate_meter slate_meter_t;

/**
 * @brief Bytes of a table with these limits; 0 when a limit is out of range.
 * Cost: O(1).
 */
SLATE_API size_t slate_meter_size(const slate_meter_limits_t *lim);

/**
 * @brief Make mem[len] an empty table (every id and drop counter starts over).
 * `mem` must be 8-byte aligned. `*out` (may be NULL) receives the table.
 * @return SLATE_OK; SLATE_EINVAL (NULL, misaligned, limits out of range);
 *         SLATE_ENOSPC (len below slate_meter_size()). Cost: O(len) (zeroes the index).
 */
SLATE_API SLATE_NODISCARD slate_status slate_meter_init(void *mem, size_t len,
                                                        const slate_meter_limits_t *lim,
                                                        slate_meter_t **out);

/**
 * @brief Validate a region (which another process may have written) and
 *        view it as a table: magic, version, sizes against `len`, counts
 *        within limits, every entry's kind, lengths, NUL terminators and
 *        statistics (slate_stats_validate()), every span's entry and ids.
 * @return SLATE_OK with *out set; SLATE_EINVAL (NULL, misaligned);
 *         SLATE_ECORRUPT (anything else; *out untouched).
 *         Cost: O(len) (every histogram is read).
 */
SLATE_API SLATE_NODISCARD slate_status slate_meter_attach(void *mem, size_t len,
                                                          slate_meter_t **out);

/**
 * @brief Copy every entry, gauge, counter and span of `src` into the empty
 *        region dst[len], which gets limits `lim` (each at least `src`'s
 *        counts). Ids are kept. The way to grow a table: allocate a larger
 *        region, move, free the old one.
 * @return SLATE_OK with *out set; SLATE_EINVAL; SLATE_ENOSPC (a limit below
 *         what `src` holds, or len below slate_meter_size()). Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_meter_move(const slate_meter_t *src, void *dst,
                                                        size_t len, const slate_meter_limits_t *lim,
                                                        slate_meter_t **out);

/** @brief The table's limits. Cost: O(1). */
SLATE_API slate_meter_limits_t slate_meter_limits(const slate_meter_t *m);

/** @brief Entries in the table (ids are 0..count-1). Cost: O(1). */
SLATE_API uint32_t slate_meter_count(const slate_meter_t *m);

/** @brief Entries of one kind. Cost: O(1). */
SLATE_API uint32_t slate_meter_count_kind(const slate_meter_t *m, slate_meter_kind kind);

/** @brief Entry `id`, or NULL past the end. Cost: O(1). */
SLATE_API const slate_meter_entry_t *slate_meter_entry(const slate_meter_t *m, uint32_t id);

/** @brief Spans held for the current interval, and their count. Cost: O(1). */
SLATE_API const slate_meter_span_t *slate_meter_spans(const slate_meter_t *m, uint32_t *n);

/** @brief The cumulative drops (writable: a shim adds what it lost elsewhere). Cost: O(1). */
SLATE_API slate_drops_t *slate_meter_drops(slate_meter_t *m);

/**
 * @brief Find or add the inbound entry of (method, path). `path` must
 *        already be normalised (slate_path_normalize()).
 * @return SLATE_OK with *id set; SLATE_EINVAL (NULL); SLATE_ERANGE (method
 *         over SLATE_METER_MAX_METHOD, path over SLATE_KEY_MAX_PATH, empty
 *         method or path); SLATE_ENOSPC (new, and `max_inbound` entries
 *         exist: counted in `endpoints_overflowed`); SLATE_ECORRUPT.
 *         Cost: O(1) expected (hash, then a compare of the names).
 */
SLATE_API SLATE_NODISCARD slate_status slate_meter_inbound(slate_meter_t *m, const char *method,
                                                           size_t method_len, const char *path,
                                                           size_t path_len, uint32_t *id);

/**
 * @brief Find or add the outbound entry of (service, method, path, region).
 * @return as slate_meter_inbound(); a full table counts in
 *         `outbound_overflowed`; service and region at most
 *         SLATE_METER_MAX_NAME bytes and not empty.
 */
SLATE_API SLATE_NODISCARD slate_status slate_meter_outbound(slate_meter_t *m, const char *service,
                                                            size_t service_len, const char *method,
                                                            size_t method_len, const char *path,
                                                            size_t path_len, const char *region,
                                                            size_t region_len, uint32_t *id);

/**
 * @brief An inbound request arrived at entry `id`: one more request this
 *        interval and one more in flight. `*rps` and `*in_flight` (either
 *        may be NULL) receive the load it met: the entry's rate gauge and
 *        its requests in flight, this one included.
 * @return SLATE_OK; SLATE_EINVAL (id not an inbound entry). Cost: O(1).
 */
SLATE_API slate_status slate_meter_arrive(slate_meter_t *m, uint32_t id, double *rps,
                                          uint64_t *in_flight);

/**
 * @brief An inbound request of entry `id` departed after `latency_ns`: one
 *        fewer in flight (never below 0), its latency recorded.
 * @return SLATE_OK; SLATE_EINVAL (id not an inbound entry). Cost: O(1).
 */
SLATE_API slate_status slate_meter_depart(slate_meter_t *m, uint32_t id, uint64_t latency_ns);

/**
 * @brief An outbound call of entry `id` completed after `latency_ns`.
 * @return SLATE_OK; SLATE_EINVAL (id not an outbound entry). Cost: O(1).
 */
SLATE_API slate_status slate_meter_complete(slate_meter_t *m, uint32_t id, uint64_t latency_ns);

/**
 * @brief Add counts measured elsewhere (say, one worker's batch): `requests`
 *        more and the statistics `delta` (NULL for none) merged in.
 *        Counters saturate. `delta` must be statistics slate_stats_validate()
 *        accepts: whoever decoded them from untrusted bytes checked them
 *        there (the wasm batch reader does); they are not checked again here,
 *        which keeps the histogram bound table out of callers that never
 *        bucket a sample themselves.
 * @return SLATE_OK; SLATE_EINVAL (bad id). Cost: O(SLATE_HIST_BUCKETS).
 */
SLATE_API slate_status slate_meter_add(slate_meter_t *m, uint32_t id, uint64_t requests,
                                       const slate_stats_t *delta);

/**
 * @brief Set the gauges of inbound entry `id` (a caller that measures them
 *        elsewhere, say summed over workers). A non-finite or negative rate
 *        reads as 0.
 * @return SLATE_OK; SLATE_EINVAL (id not an inbound entry). Cost: O(1).
 */
SLATE_API slate_status slate_meter_set_load(slate_meter_t *m, uint32_t id, double rps,
                                            uint64_t in_flight);

/**
 * @brief Keep one sampled span. `s->entry` must be an inbound entry, ids
 *        1..SLATE_METER_MAX_ID lowercase or uppercase hex digits (the parent
 *        may be empty), NUL-terminated in place, lengths set;
 *        `end_ns >= start_ns`.
 * @return SLATE_OK; SLATE_EINVAL (a field that breaks those rules: nothing
 *         kept); SLATE_ENOSPC (`max_spans` held: counted in `spans_dropped`).
 *         Cost: O(id lengths).
 */
SLATE_API slate_status slate_meter_add_span(slate_meter_t *m, const slate_meter_span_t *s);

/** @brief Mutable spans of the interval, for a caller that fills in their load late. */
SLATE_API slate_meter_span_t *slate_meter_spans_mut(slate_meter_t *m, uint32_t *n);

/**
 * @brief Close the interval of entry `id`: copy it into `*copy` (may be
 *        NULL), then reset its interval counters. When `interval_ns` > 0 an
 *        inbound entry's rate gauge becomes requests / interval (in the copy
 *        too); with 0 the gauge is left as it is (a caller that sets it).
 * @return SLATE_OK; SLATE_EINVAL (bad id). Cost: O(SLATE_HIST_BUCKETS).
 */
SLATE_API slate_status slate_meter_take(slate_meter_t *m, uint32_t id, uint64_t interval_ns,
                                        slate_meter_entry_t *copy);

/**
 * @brief Move up to `cap` spans of the interval into `dst` (may be NULL to
 *        drop them) and empty the span buffer. Returns how many were
 *        copied; spans past `cap` are counted in `spans_dropped`. Cost: O(spans).
 */
SLATE_API uint32_t slate_meter_take_spans(slate_meter_t *m, slate_meter_span_t *dst, uint32_t cap);

/** @brief Close the interval of every entry and drop the spans (see slate_meter_take()).
 *  Cost: O(entries * SLATE_HIST_BUCKETS). */
SLATE_API void slate_meter_close(slate_meter_t *m, uint64_t interval_ns);

/** How the report's span loads are built. */
typedef enum slate_meter_loads {
    /** Each span carries its own endpoint's load at arrival only. */
    SLATE_METER_LOADS_OWN = 0,
    /** Each span also carries every other inbound endpoint's current gauges
     *  (those with a rate or requests in flight): the controller then sees
     *  the whole service's load when the span arrived. */
    SLATE_METER_LOADS_ALL = 1,
} slate_meter_loads;

/** The arrays a report is built into, owned by the caller. */
typedef struct slate_meter_report_mem {
    slate_inbound_t *inbound;
    size_t cap_inbound;
    slate_outbound_t *outbound;
    size_t cap_outbound;
    slate_span_t *spans;
    size_t cap_spans;
    slate_endpoint_load_t *loads;
    size_t cap_loads;
} slate_meter_report_mem_t;

/**
 * @brief The array sizes slate_meter_report_from() needs for these entries
 *        and spans (written into `need`'s cap_* fields; pointers NULL).
 *        Cost: O(entries + spans).
 */
SLATE_API void slate_meter_report_need(const slate_meter_entry_t *entries, size_t n_entries,
                                       const slate_meter_span_t *spans, size_t n_spans,
                                       slate_meter_loads loads, slate_meter_report_mem_t *need);

/**
 * @brief Build the measurement part of a `LoadReport` from entries
 *        indexed by id (the table's own, slate_meter_entry(m, 0), or
 *        copies of entries 0..n-1 from slate_meter_take()) and spans:
 *        `rep`'s inbound, outbound, spans and span_loads, pointing into
 *        `entries`, `spans` and `mem` (keep them alive while `rep` is used).
 *        An inbound entry with no requests, latency, rate or requests in
 *        flight is left out, as is an outbound one with no calls; a span
 *        whose entry is not in `entries` is left out. The caller sets the
 *        identity, sequence, times and drops.
 * @return SLATE_OK; SLATE_EINVAL (NULL); SLATE_ENOSPC (an array of `mem`
 *         below slate_meter_report_need(): `rep` untouched).
 *         Cost: O(entries + spans), or O(spans * entries) with LOADS_ALL.
 */
SLATE_API SLATE_NODISCARD slate_status
slate_meter_report_from(const slate_meter_entry_t *entries, size_t n_entries,
                        const slate_meter_span_t *spans, size_t n_spans, slate_meter_loads loads,
                        const slate_meter_report_mem_t *mem, slate_load_report_t *rep);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_METER_H */
