/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file codec.h
 * @brief The protobuf wire codec of the messages of `proto/slate/v1/slate.proto`:
 *        `LoadReport` (proxy -> controller) and `RoutingRules` (controller -> proxy).
 *
 * Hand-written, zero-allocation encoder and decoder of the protobuf binary wire
 * format for exactly these messages. Any language reads the same bytes with
 * its stock protobuf library; `slate.proto` is the source of truth for field
 * numbers, units and limits.
 *
 * ## Structures
 * The message structs below are plain structs the caller owns. Strings are
 * views (`slate_str_t`: pointer and length, not NUL-terminated). Repeated
 * fields are (pointer, count, capacity) triples over caller arrays. Nested
 * repeated fields (the per-endpoint load of every span, the targets of every
 * rule) share one caller "pool" array per message; each element points at its
 * slice of the pool.
 *
 * ## Encoding
 * `slate_*_encode(msg, buf, cap, &len, &err)` writes the canonical encoding
 * (fields in number order, proto3 defaults omitted, repeated scalars packed)
 * into `buf[0..cap)`. If `cap` is too small it returns `SLATE_ENOSPC` and still
 * sets `len` to the full size needed: sizing and writing are one code path, so
 * `slate_*_encode(msg, NULL, 0, &len, NULL)` is the way to size a buffer. The
 * encoder never writes at or past `buf + cap`.
 *
 * ## Decoding
 * `slate_*_decode(msg, buf, len, limits, &err)` validates the whole input in
 * one pass (every nested message, every limit, UTF-8 of every string) and
 * fills `msg`. Strings point into `buf`, so `buf` must outlive `msg`.
 * Before the call, set each array pointer and its `cap_*`; after it, `n_*`
 * holds the number of elements in the input. An array pointer left NULL means
 * "do not store, just count" (jsmn-style sizing): that is not an error, and the
 * elements can be read afterwards with the pull iterators. A non-NULL array
 * that is too small gives `SLATE_ENOSPC` (after the whole input was checked, so
 * a malformed input reports its real error first) with every `n_*` set to the
 * count needed; retry with bigger arrays.
 *
 * ## Pull iteration (no arrays at all)
 * @code
 * slate_load_report_t rep = {0};            // every array NULL: count only
 * slate_codec_error_t err;
 * if (slate_load_report_decode(&rep, buf, len, NULL, &err) != SLATE_OK) { ... }
 * slate_codec_iter_t it;
 * slate_inbound_t in;
 * slate_codec_iter_init(&it, rep.raw);
 * while (slate_load_report_next_inbound(&it, &in)) { ... in.method, in.rate_rps ... }
 * slate_span_t sp;
 * slate_codec_iter_init(&it, rep.raw);
 * while (slate_load_report_next_span(&it, &sp)) {
 *     slate_codec_iter_t lit;
 *     slate_endpoint_load_t ld;
 *     slate_codec_iter_init(&lit, sp.raw);
 *     while (slate_span_next_load(&lit, &ld)) { ... }
 * }
 * @endcode
 *
 * ## Protobuf semantics the decoder follows
 * Fields may come in any order. Unknown fields of every wire type (varint,
 * fixed64, length-delimited, fixed32) are skipped, so a newer peer may add
 * fields. A non-repeated scalar or string that appears more than once: the
 * last one wins. A non-repeated embedded message that appears more than once
 * is merged (its scalars last-wins, its repeated fields concatenated).
 * Repeated scalars are accepted packed and unpacked, and mixed. A `uint32`
 * field takes the low 32 bits of its varint, as protobuf specifies.
 * Groups (wire types 3 and 4) are rejected with `SLATE_EGROUP`, even in
 * unknown fields: no slate message uses them. A tag (field number and wire
 * type) is a 32-bit varint: encoded in more than 5 bytes, or with field number
 * 0, it is `SLATE_EFIELD`.
 *
 * Where libslate is stricter than protobuf-c (checked by the differential fuzz
 * target): invalid UTF-8 in a string, strings over `limits.max_string`, a
 * 10-byte varint carrying bits above 2^64, field number 0, and a histogram
 * that does not fit the 1160 buckets. When a non-repeated embedded message
 * occurs twice, libslate merges as protobuf specifies (a scalar absent from
 * the second copy keeps the first copy's value); protobuf-c 1.4 resets it.
 *
 * ## Security (what is trusted, what is guaranteed)
 * - Trusted: the pointers and capacities the caller passes, and the limits
 *   struct. Untrusted: every byte of the input.
 * - The decoder never reads at or past `buf + len`, never writes past an
 *   array's `cap_*`, never allocates, never recurses deeper than
 *   `limits.max_depth`, and does O(len) work (the pull iterators O(len) per
 *   full iteration).
 * - Every malformed input yields a distinct status and fills the error struct;
 *   nothing is silently truncated. Limits: nesting depth (`SLATE_EDEPTH`),
 *   elements per repeated field (`SLATE_ECOUNT`), bytes per string
 *   (`SLATE_ESTRLEN`), total input size (`SLATE_ELENGTH` with detail
 *   "input larger than limits.max_size").
 * - Varints longer than 10 bytes or above 2^64-1 are `SLATE_EVARINT`;
 *   invalid UTF-8 in a string field (overlong forms, surrogates, code points
 *   above U+10FFFF, truncated sequences) is `SLATE_EUTF8`.
 * - On failure the output struct holds partial data and must not be used.
 * - The pull iterators re-check bounds as they go: a view from an input that
 *   was not validated (or changed since) ends iteration early, it does not
 *   crash.
 *
 * Thread safety: no global state; distinct calls on distinct structs may run
 * concurrently; decoding only reads `buf`.
 */
#ifndef SLATE_CODEC_H
#define SLATE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/stats.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/** @name Limits and errors */
/**@{*/

/** Default nesting limit. The schema itself nests 3 deep (LoadReport > spans > load). */
#define SLATE_CODEC_DEFAULT_MAX_DEPTH 8u
/** Default limit of elements in one repeated field of one message. */
#define SLATE_CODEC_DEFAULT_MAX_REPEATED 65536u
/** Default limit of bytes in one string field. */
#define SLATE_CODEC_DEFAULT_MAX_STRING 4096u
/** Default limit of the whole input, in bytes (16 MiB). */
#define SLATE_CODEC_DEFAULT_MAX_SIZE (16u * 1024u * 1024u)

/**
 * Decoder limits. Exceeding one is an error with its own status, never a
 * silent truncation. A field left 0 takes its default (so `{0}` is the
 * defaults, as is passing NULL).
 */
typedef struct slate_codec_limits {
    uint32_t max_depth;    /**< message nesting, the top message counts 1 (SLATE_EDEPTH) */
    uint32_t max_repeated; /**< elements of one repeated field in one message (SLATE_ECOUNT) */
    uint32_t max_string;   /**< bytes of one string field (SLATE_ESTRLEN) */
    uint32_t max_size;     /**< bytes of the whole input (SLATE_ELENGTH) */
} slate_codec_limits_t;

/** The defaults, as an initializer. */
#define SLATE_CODEC_LIMITS_DEFAULT                                                                 \
    {                                                                                              \
        SLATE_CODEC_DEFAULT_MAX_DEPTH, SLATE_CODEC_DEFAULT_MAX_REPEATED,                           \
            SLATE_CODEC_DEFAULT_MAX_STRING, SLATE_CODEC_DEFAULT_MAX_SIZE                           \
    }

/** Room for the field path of an error, including the NUL. */
#define SLATE_CODEC_PATH_CAP 128u

/**
 * What went wrong and where: enough for an HTTP 400 body.
 *
 * `path` names the field with proto field names and element indexes, e.g.
 * "LoadReport.spans[3].load[1].path"; an unknown field shows as its number
 * ("LoadReport.#42"). A path longer than the room ends in "...".
 */
typedef struct slate_codec_error {
    slate_status status; /**< SLATE_OK when nothing failed */
    size_t offset;       /**< byte offset into the input where the bad element starts */
    const char *detail;  /**< static text, e.g. "varint longer than 10 bytes"; never NULL */
    char path[SLATE_CODEC_PATH_CAP]; /**< NUL-terminated field path */
} slate_codec_error_t;

/** @brief Fill `lim` with the documented defaults. Cost: O(1). */
SLATE_API void slate_codec_limits_default(slate_codec_limits_t *lim);

/**
 * @brief Format an error as one line, e.g.
 * "SLATE_EUTF8 at byte 812 in LoadReport.spans[3].path: string is not valid UTF-8".
 *
 * Always NUL-terminates when `cap > 0` (truncating if needed).
 * @return the length the full text needs (excluding the NUL), like snprintf.
 * Cost: O(length).
 */
SLATE_API size_t slate_codec_error_format(const slate_codec_error_t *err, char *buf, size_t cap);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name Views */
/**@{*/

/** A string: `len` bytes at `ptr`, not NUL-terminated. `{NULL, 0}` is the empty string. */
typedef struct slate_str {
    const char *ptr;
    size_t len;
} slate_str_t;

/** A string view of a NUL-terminated C string (NULL gives the empty string). Cost: O(len). */
SLATE_API slate_str_t slate_str(const char *cstr);

/**
 * Where a decoded message lies in the input, for the pull iterators.
 * Set by the decoder; treat as opaque. `field == 0`: the bytes are the
 * message's own fields; otherwise every occurrence of field `field` inside the
 * bytes is one part of the (merged) message.
 */
typedef struct slate_codec_view {
    const uint8_t *ptr;
    size_t len;
    uint32_t field;
} slate_codec_view_t;

/** A pull iterator over one repeated field of a decoded message. Small; on the stack. */
typedef struct slate_codec_iter {
    const uint8_t *ptr; /**< the message's bytes */
    size_t len;
    size_t pos;          /**< next byte to read */
    uint32_t index;      /**< elements returned so far */
    uint32_t field;      /**< reserved */
    slate_status status; /**< SLATE_OK, or why iteration stopped early (malformed view) */
} slate_codec_iter_t;

/** @brief Start iterating the message a view describes (any of its repeated fields). O(1). */
SLATE_API void slate_codec_iter_init(slate_codec_iter_t *it, slate_codec_view_t view);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name Messages */
/**@{*/

/**
 * `LatencyStats`: the moments of slate_stats_t plus its histogram's non-zero
 * span: counts of buckets `hist_offset .. hist_offset + hist_len - 1`.
 *
 * Encoding: `hist` points at `hist_len` counts (typically into a
 * slate_stats_t; see slate_latency_from_stats()). Decoding: `hist` is NULL,
 * `hist_offset` and `hist_len` are set and the counts stay in the input; get
 * them with slate_latency_to_stats(). A producer that has no histogram (for
 * example one translating SLATE's legacy text) leaves `hist_len` 0.
 */
typedef struct slate_latency {
    uint64_t count;       /**< number of samples */
    uint64_t sum_ns;      /**< sum of samples, ns, saturating */
    uint64_t min_ns;      /**< smallest sample, ns (0 when count == 0) */
    uint64_t max_ns;      /**< largest sample, ns (0 when count == 0) */
    double mean_ns;       /**< mean, ns */
    double m2;            /**< sum of squared deviations from the mean, ns^2 */
    uint32_t hist_offset; /**< index of the first bucket of `hist` */
    uint32_t hist_len; /**< number of bucket counts; hist_offset + hist_len <= SLATE_HIST_BUCKETS */
    const uint32_t *hist;    /**< encode: the counts; decode: NULL */
    slate_codec_view_t raw_; /**< decode: where the counts are (internal) */
} slate_latency_t;

/** `InboundLoad`: the load of one endpoint of the reporting service, over the interval. */
typedef struct slate_inbound {
    slate_str_t method;      /**< HTTP method, e.g. "GET" */
    slate_str_t path;        /**< path without query string */
    uint64_t requests;       /**< requests that arrived in the interval */
    double rate_rps;         /**< arrival rate over the estimator window, requests/s */
    uint64_t in_flight;      /**< requests in flight at report time */
    slate_latency_t latency; /**< latency of requests completed in the interval */
} slate_inbound_t;

/** `OutboundLoad`: calls this proxy made to one destination endpoint in one region. */
typedef struct slate_outbound {
    slate_str_t dst_service; /**< destination service name */
    slate_str_t method;      /**< HTTP method */
    slate_str_t path;        /**< path without query string */
    slate_str_t dst_region;  /**< region that served the calls */
    uint64_t requests;       /**< calls completed in the interval */
    slate_latency_t latency; /**< their latency as seen by the caller */
} slate_outbound_t;

/** `EndpointLoad`: the load of one endpoint at the moment a sampled span arrived. */
typedef struct slate_endpoint_load {
    slate_str_t method;
    slate_str_t path;
    double rps;         /**< arrival rate, requests/s */
    uint64_t in_flight; /**< requests in flight */
} slate_endpoint_load_t;

/** `Span`: one sampled request handled by the reporting service. */
typedef struct slate_span {
    slate_str_t trace_id;       /**< trace id, lowercase hex as in x-b3-traceid */
    slate_str_t span_id;        /**< span id, hex */
    slate_str_t parent_span_id; /**< parent span id, hex; empty for a root span */
    slate_str_t method;
    slate_str_t path;
    uint64_t start_ns;           /**< arrival, unix ns */
    uint64_t end_ns;             /**< completion, unix ns */
    uint64_t body_size;          /**< request body size, bytes */
    slate_endpoint_load_t *load; /**< slice of the report's `span_loads` pool (or NULL) */
    size_t n_load;               /**< entries in the input (and in `load` when stored) */
    slate_codec_view_t raw;      /**< decode: this span's bytes, for slate_span_next_load() */
} slate_span_t;

/** `Drops`: cumulative counters (since the proxy started) of what was lost. */
typedef struct slate_drops {
    uint64_t spans_dropped;         /**< sampled spans not reported (span buffer full) */
    uint64_t endpoints_overflowed;  /**< requests of endpoints not tracked (table full) */
    uint64_t outbound_overflowed;   /**< outbound calls not tracked (table full) */
    uint64_t late_stamps;           /**< timestamps older than the rate window */
    uint64_t post_failed_network;   /**< report posts that failed to connect or send */
    uint64_t post_failed_timeout;   /**< report posts that timed out */
    uint64_t post_failed_status;    /**< report posts answered with a non-2xx status */
    uint64_t post_failed_too_large; /**< reports that did not fit the encode buffer */
    uint64_t rules_rejected;        /**< rule responses that failed to decode or validate */
    uint64_t counters_saturated;    /**< counters that hit their maximum */
} slate_drops_t;

/**
 * `LoadReport`: everything one proxy reports for one interval.
 *
 * Arrays: set the pointer and `cap_*` before decoding (or leave them NULL to
 * count only); `n_*` is always the count in the input. For encoding set the
 * pointers and `n_*`; `cap_*` is ignored. `span_loads` is the pool that the
 * spans' `load` slices point into.
 */
typedef struct slate_load_report {
    slate_str_t service;  /**< reporting service */
    slate_str_t region;   /**< region (cluster) of the reporting proxy */
    slate_str_t pod;      /**< pod (instance) name */
    uint64_t sequence;    /**< report number, +1 per report since proxy start */
    uint64_t time_ns;     /**< end of the interval, unix ns */
    uint64_t interval_ns; /**< length of the interval, ns */

    slate_inbound_t *inbound;
    size_t n_inbound, cap_inbound;
    slate_outbound_t *outbound;
    size_t n_outbound, cap_outbound;
    slate_span_t *spans;
    size_t n_spans, cap_spans;
    slate_endpoint_load_t *span_loads; /**< pool for every span's `load` */
    size_t n_span_loads, cap_span_loads;

    slate_drops_t drops;

    slate_codec_view_t raw; /**< decode: the report's bytes, for the pull iterators */
} slate_load_report_t;

/** `WeightedRegion`: one choice of a rule. */
typedef struct slate_route_target {
    slate_str_t region; /**< destination region */
    uint32_t weight;    /**< relative share; 0 = never chosen */
} slate_route_target_t;

/** `Rule`: how calls from `src_region` to one destination endpoint are split. */
typedef struct slate_rule {
    slate_str_t src_region;        /**< region of the caller */
    slate_str_t dst_service;       /**< destination service */
    slate_str_t method;            /**< destination method; empty = any */
    slate_str_t path;              /**< destination path; empty = any */
    slate_str_t src_service;       /**< caller service; empty = any (legacy rules carry it) */
    slate_str_t src_method;        /**< caller endpoint's method; empty = any */
    slate_str_t src_path;          /**< caller endpoint's path; empty = any */
    slate_route_target_t *targets; /**< slice of the rules' `targets` pool (or NULL) */
    size_t n_targets;
    slate_codec_view_t raw; /**< decode: this rule's bytes, for slate_rule_next_target() */
} slate_rule_t;

/** `RoutingRules`: the controller's answer to a report. Arrays as in slate_load_report_t. */
typedef struct slate_routing_rules {
    uint64_t version;      /**< increases whenever the rules change */
    uint64_t ttl_ns;       /**< rules expire this long after `generated_ns`; 0 = never */
    uint64_t generated_ns; /**< when the controller computed them, unix ns */
    slate_rule_t *rules;
    size_t n_rules, cap_rules;
    slate_route_target_t *targets; /**< pool for every rule's `targets` */
    size_t n_targets, cap_targets;
    slate_codec_view_t raw; /**< decode: the message's bytes, for the pull iterators */
} slate_routing_rules_t;

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name LoadReport */
/**@{*/

/**
 * @brief Encode a report into `buf[0..cap)`.
 * @param len out: bytes written, or on SLATE_ENOSPC the bytes needed.
 * @param err optional; filled on failure.
 * @return SLATE_OK; SLATE_ENOSPC (buffer short, `*len` = size needed; `buf`
 *         may be NULL when `cap` is 0); SLATE_EINVAL (NULL `m`/`len`, or an
 *         array NULL with a non-zero count); SLATE_EUTF8 (a string is not
 *         UTF-8); SLATE_EVALUE (histogram span past SLATE_HIST_BUCKETS).
 * Cost: O(encoded size).
 */
SLATE_API SLATE_NODISCARD slate_status slate_load_report_encode(const slate_load_report_t *m,
                                                                uint8_t *buf, size_t cap,
                                                                size_t *len,
                                                                slate_codec_error_t *err);

/**
 * @brief Decode and validate a report (see the file comment for arrays).
 * @param lim NULL for the defaults.
 * @return SLATE_OK; SLATE_ENOSPC (a caller array is short; every `n_*` is the
 *         count needed); SLATE_EINVAL (NULL `m`, or NULL `buf` with `len` > 0);
 *         or a wire error: SLATE_ETRUNCATED, SLATE_EVARINT, SLATE_ELENGTH,
 *         SLATE_EWIRETYPE, SLATE_EUTF8, SLATE_EDEPTH, SLATE_ECOUNT,
 *         SLATE_ESTRLEN, SLATE_EFIELD, SLATE_EGROUP, SLATE_EVALUE (histogram
 *         span past SLATE_HIST_BUCKETS). `err` (optional) says where.
 * Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_load_report_decode(slate_load_report_t *m,
                                                                const uint8_t *buf, size_t len,
                                                                const slate_codec_limits_t *lim,
                                                                slate_codec_error_t *err);

/**
 * @brief Next inbound endpoint of a decoded report (iterator from `rep.raw`).
 * @return true with `*out` filled (`latency.hist` NULL), false at the end or if
 *         the bytes are malformed (then `it->status` says why). O(bytes skipped).
 */
SLATE_API bool slate_load_report_next_inbound(slate_codec_iter_t *it, slate_inbound_t *out);
/** @brief Next outbound destination; as slate_load_report_next_inbound(). */
SLATE_API bool slate_load_report_next_outbound(slate_codec_iter_t *it, slate_outbound_t *out);
/** @brief Next sampled span (`out->load` NULL; iterate it with slate_span_next_load()). */
SLATE_API bool slate_load_report_next_span(slate_codec_iter_t *it, slate_span_t *out);
/** @brief Next load-at-arrival entry of a span (iterator from `span.raw`). */
SLATE_API bool slate_span_next_load(slate_codec_iter_t *it, slate_endpoint_load_t *out);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name RoutingRules */
/**@{*/

/** @brief Encode rules; errors and cost as slate_load_report_encode(). */
SLATE_API SLATE_NODISCARD slate_status slate_routing_rules_encode(const slate_routing_rules_t *m,
                                                                  uint8_t *buf, size_t cap,
                                                                  size_t *len,
                                                                  slate_codec_error_t *err);

/** @brief Decode and validate rules; errors and cost as slate_load_report_decode(). */
SLATE_API SLATE_NODISCARD slate_status slate_routing_rules_decode(slate_routing_rules_t *m,
                                                                  const uint8_t *buf, size_t len,
                                                                  const slate_codec_limits_t *lim,
                                                                  slate_codec_error_t *err);

/** @brief Next rule of decoded rules (iterator from `rules.raw`; `out->targets` NULL). */
SLATE_API bool slate_routing_rules_next_rule(slate_codec_iter_t *it, slate_rule_t *out);
/** @brief Next target of a rule (iterator from `rule.raw`). */
SLATE_API bool slate_rule_next_target(slate_codec_iter_t *it, slate_route_target_t *out);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name Latency statistics <-> wire */
/**@{*/

/**
 * @brief Describe `s` for encoding: copy the moments and point `hist` at the
 *        non-zero span of `s->hist` (so `s` must outlive `l` while encoding).
 * Cost: O(SLATE_HIST_BUCKETS).
 */
SLATE_API void slate_latency_from_stats(slate_latency_t *l, const slate_stats_t *s);

/**
 * @brief Rebuild full statistics from a decoded (or encode-side) latency.
 *
 * Reads the histogram counts from the input the latency was decoded from
 * (which must still be there), or from `l->hist` when set.
 * @return SLATE_OK; SLATE_EINVAL (NULL); SLATE_EVALUE (span past
 *         SLATE_HIST_BUCKETS); SLATE_ECORRUPT (the counts cannot be read back:
 *         no `hist` and no input, or the input changed since decoding).
 *         The moments are copied as sent; check the result with
 *         slate_stats_validate() before trusting it.
 * Cost: O(SLATE_HIST_BUCKETS + encoded size of the latency).
 */
SLATE_API SLATE_NODISCARD slate_status slate_latency_to_stats(const slate_latency_t *l,
                                                              slate_stats_t *out);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name Delimited streams
 * Several messages in one buffer, each preceded by its byte count as a
 * varint: protobuf's writeDelimitedTo / parseDelimitedFrom framing (nanopb's
 * PB_ENCODE_DELIMITED). The controller's report batches (`/v1/reports`) and
 * their answers use it. These functions frame and unframe only; decode each
 * message with its own decoder.
 */
/**@{*/

/** The most bytes a length prefix takes (a 64-bit varint). */
#define SLATE_DELIMITED_PREFIX_MAX 10u

/**
 * @brief The next message of a delimited stream `buf[0..len)`, from `*pos`.
 *
 * On SLATE_OK, `*msg` and `*msg_len` are the message's bytes (inside buf,
 * not decoded) and `*pos` is just past them. Nothing is written otherwise.
 * @return SLATE_OK; SLATE_EEMPTY at the end of the stream (`*pos == len`);
 *         SLATE_ETRUNCATED (the stream ends inside a length prefix);
 *         SLATE_EVARINT (a prefix longer than 10 bytes or above 2^64);
 *         SLATE_ELENGTH (a prefix points past the end of the stream);
 *         SLATE_EINVAL (NULL pointer, or `*pos > len`).
 * Cost: O(1).
 */
SLATE_API SLATE_NODISCARD slate_status slate_delimited_next(const uint8_t *buf, size_t len,
                                                            size_t *pos, const uint8_t **msg,
                                                            size_t *msg_len);

/**
 * @brief Writes the length prefix of a message of `msg_len` bytes into `out`.
 * @return the prefix's size, 1 to SLATE_DELIMITED_PREFIX_MAX. Cost: O(1).
 */
SLATE_API size_t slate_delimited_prefix(size_t msg_len, uint8_t out[SLATE_DELIMITED_PREFIX_MAX]);

/**
 * @brief Appends one message with its length prefix at `out + *pos` (room
 * `cap` in all) and advances `*pos`.
 * @return SLATE_OK; SLATE_ENOSPC (does not fit: nothing written);
 *         SLATE_EINVAL (NULL pointer, or `*pos > cap`).
 * Cost: O(msg_len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_delimited_put(uint8_t *out, size_t cap, size_t *pos,
                                                           const uint8_t *msg, size_t msg_len);

/**@}*/

#ifdef __cplusplus
}
#endif

#endif /* SLATE_CODEC_H */
