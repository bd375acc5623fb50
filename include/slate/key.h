/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file key.h
 * @brief Endpoint keys (service, method, path -> 64-bit XXH3) and
 *        deterministic trace sampling, plus W3C traceparent and B3 parsers.
 *
 * ## Endpoint key
 * An endpoint is (service, method, path). The path is first cut at its first
 * '?' or '#' (query string and fragment removed; see slate_path_len()), then
 * bounded: only its first SLATE_KEY_MAX_PATH bytes count. Two paths whose
 * stripped forms agree in their first SLATE_KEY_MAX_PATH bytes share a key; the
 * key function reports such a cut with SLATE_KEY_PATH_TRUNCATED. The service
 * name is ASCII-lowercased (DNS names are case-insensitive); the method and
 * the path are taken byte for byte (both are case-sensitive in HTTP). Service
 * and method may be at most SLATE_KEY_MAX_NAME bytes each. The key itself
 * normalises nothing else (no percent-decoding, no dot-segment removal, no
 * trailing-slash folding): the key is an identity, not a router.
 *
 * ## Path normalisation
 * Ids in paths ("/api/items/123") would make one endpoint per id. The data
 * plane and the controller therefore key endpoints by the normalised path of
 * slate_path_normalize() ("/api/items/{id}"), one function on both sides, so
 * a rule published for a template applies to every concrete path it stands
 * for. A normalised path is at most SLATE_KEY_MAX_PATH bytes (the one length
 * bound of paths), so the key function never cuts one.
 *
 * The key is XXH3_64bits (seed 0) of the canonical byte string
 *
 *     u16le(len(s)) s  u16le(len(m)) m  u16le(len(p)) p
 *
 * where s is the lowercased service, m the method and p the stripped, bounded
 * path. The length prefixes make the triple unambiguous ("ab","c" and
 * "a","bc" differ). Any language can recompute a key from this definition.
 *
 * ## Trace sampling
 * A trace id is 1 to 32 hexadecimal digits, upper or lower case, read as a
 * 128-bit unsigned number: B3's 64-bit ids (16 digits), 128-bit ids (32), W3C
 * trace ids (32), and ids with leading zeros dropped all map to the same
 * number, so a 64-bit B3 id and the same id left-padded with zeros decide
 * alike. Zero is not a trace id (W3C). The decision is
 *
 *     XXH3_64bits(16 bytes of the id, big-endian) < floor(rate * 2^64)
 *
 * with rate 0 never and rate 1 always sampling. It is a pure function of the
 * id and the rate: every hop of a trace decides alike, and a trace sampled
 * at some rate is sampled at every higher rate.
 */
#ifndef SLATE_KEY_H
#define SLATE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of the stripped path that enter a key; the rest is cut. */
#define SLATE_KEY_MAX_PATH 256u
/** Longest service or method name accepted, in bytes. */
#define SLATE_KEY_MAX_NAME 255u
/** Flag set by slate_endpoint_key() when the path was cut to SLATE_KEY_MAX_PATH. */
#define SLATE_KEY_PATH_TRUNCATED 1u
/** Most hex digits in a trace id. */
#define SLATE_TRACE_ID_MAX_HEX 32u

/**
 * @brief Length of the path without its query string and fragment: the index
 *        of the first '?' or '#', or `len` when there is none.
 *
 * A caller that keys a raw path keeps its first min(slate_path_len(),
 * SLATE_KEY_MAX_PATH) bytes; slate_path_normalize() also drops ids. Idempotent: applied to its own
 * result it returns the same length. `path` may be NULL when len is 0. Cost: O(len).
 */
SLATE_API size_t slate_path_len(const char *path, size_t len);

/** Marker that ends a normalised path whose segments were cut to fit SLATE_KEY_MAX_PATH. */
#define SLATE_PATH_TRUNC_MARK "/{trunc}"
/** A buffer of this many bytes always holds a normalised path and its NUL. */
#define SLATE_PATH_NORM_CAP (SLATE_KEY_MAX_PATH + 1u)

/**
 * @brief Normalise a request path so that ids do not make new endpoints.
 *
 * Rules, applied in this order:
 *   - the path ends at its first '?', '#' or NUL byte (query string and
 *     fragment dropped; bytes after it are not read);
 *   - a path that does not start with '/' gets one ("" becomes "/");
 *   - each '/'-separated segment that looks like an id becomes "{id}":
 *       * all decimal digits ("/orders/12345"),
 *       * a UUID (8-4-4-4-12 hex digits, any case),
 *       * 12 or more hex digits with at least one decimal digit
 *         ("5d0f416cca2d80da"),
 *       * 20 or more of [A-Za-z0-9_-] with at least one digit and one letter
 *         (base64url tokens, ObjectIds, ULIDs);
 *     other segments (words, versions such as "v1", gRPC names such as
 *     "hipstershop.CartService", empty segments) are kept byte for byte;
 *   - bytes that would break the text formats paths travel in (0x00-0x20,
 *     0x7f, ',', '"', '\') are percent-encoded as "%XX" (upper-case hex);
 *     '%' itself and bytes >= 0x80 are kept;
 *   - when the result would exceed SLATE_KEY_MAX_PATH bytes, it is cut at
 *     the end of the last whole segment that keeps room for
 *     SLATE_PATH_TRUNC_MARK ("/{trunc}"), and the marker appended.
 * The result starts with '/', is at most SLATE_KEY_MAX_PATH bytes, contains
 * no '?', '#' or byte that needs escaping, and is a fixed point:
 * normalising it again gives it back.
 *
 * On success `out` holds the result and a terminating NUL, and `*out_len`
 * its length without the NUL. A buffer of SLATE_PATH_NORM_CAP bytes always
 * suffices. `path` may be NULL when len is 0.
 * @return SLATE_OK; SLATE_EINVAL (out_len NULL, path NULL with len > 0, or
 *         out NULL with cap > 0); SLATE_ENOSPC (cap is less than the result
 *         plus its NUL: `*out_len` receives the bytes needed, NUL included,
 *         and `out` is untouched). Allocates nothing. Reads no byte at or
 *         past path + len. Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_path_normalize(const char *path, size_t len, char *out,
                                                            size_t cap, size_t *out_len);

/**
 * @brief The 64-bit key of an endpoint (see the file comment for the rule).
 *
 * Pointers may be NULL when their length is 0. `flags` may be NULL; otherwise
 * it receives SLATE_KEY_PATH_TRUNCATED or 0.
 * @return SLATE_OK; SLATE_EINVAL (key NULL, or a NULL pointer with a non-zero
 *         length); SLATE_ERANGE (service or method longer than
 *         SLATE_KEY_MAX_NAME). On error *key is untouched.
 *         Cost: O(len(service) + len(method) + min(len(path), SLATE_KEY_MAX_PATH));
 *         the path is read no further than byte SLATE_KEY_MAX_PATH.
 */
SLATE_API SLATE_NODISCARD slate_status slate_endpoint_key(const char *service, size_t service_len,
                                                          const char *method, size_t method_len,
                                                          const char *path, size_t path_len,
                                                          uint64_t *key, unsigned *flags);

/** A 128-bit trace id as a number: hi holds the first 16 hex digits of a 32-digit id. */
typedef struct slate_trace_id {
    uint64_t hi; /**< upper 64 bits (0 for a 64-bit B3 id) */
    uint64_t lo; /**< lower 64 bits */
} slate_trace_id_t;

/**
 * @brief Parse 1..32 hex digits (any case) into a 128-bit trace id.
 * @return SLATE_OK; SLATE_EINVAL (out NULL, or hex NULL with len > 0);
 *         SLATE_ETRACEID (empty, longer than 32, a non-hex byte, or zero).
 *         Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_trace_id_parse(const char *hex, size_t len,
                                                            slate_trace_id_t *out);

/**
 * @brief The 64-bit hash a sampling decision compares: XXH3_64bits of the 16
 *        big-endian bytes of the id. Cost: O(1).
 */
SLATE_API uint64_t slate_trace_hash(const slate_trace_id_t *id);

/**
 * @brief Decide whether the trace `hex` is sampled at `rate`.
 *
 * `*sampled` becomes 1 or 0 (see the file comment for the rule).
 * @return SLATE_OK; SLATE_EINVAL (sampled NULL, or hex NULL with len > 0);
 *         SLATE_ERANGE (rate NaN or outside [0, 1]); SLATE_ETRACEID (as
 *         slate_trace_id_parse()). The rate is checked first. On error
 *         *sampled is untouched. Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_trace_decide(const char *hex, size_t len, double rate,
                                                          int *sampled);

/**
 * @brief slate_trace_decide() for callers that only need the answer.
 * @return 1 when sampled; 0 when not sampled or when the id or the rate is
 *         invalid. Cost: O(len).
 */
SLATE_API int slate_trace_sampled(const char *hex, size_t len, double rate);

/**
 * Views of a trace context header, pointing into the parsed input (nothing is
 * copied; the views live as long as the input).
 */
typedef struct slate_trace_ctx {
    const char *trace_id;       /**< 32 (W3C) or 16/32 (B3) lowercase hex digits; NULL if absent */
    size_t trace_id_len;        /**< 0 only for a B3 header that carries a decision alone */
    const char *span_id;        /**< 16 lowercase hex digits (W3C parent-id, B3 span id) */
    size_t span_id_len;         /**< 16, or 0 when absent */
    const char *parent_span_id; /**< B3 only: 16 hex digits, or NULL */
    size_t parent_span_id_len;  /**< 16, or 0 when absent */
    int sampled;                /**< 1 sampled, 0 not, -1 deferred (no decision in the header) */
    int debug;                  /**< B3 'd' flag: 1, else 0 */
    uint8_t version;            /**< W3C version byte (0 for B3) */
    uint8_t flags;              /**< W3C trace-flags byte (B3: 1 if sampled) */
} slate_trace_ctx_t;

/**
 * @brief Parse a W3C `traceparent` header value:
 *        "vv-<32 hex trace id>-<16 hex parent id>-<2 hex flags>".
 *
 * Follows W3C Trace Context level 1: lowercase hex only; version "ff" is
 * invalid; version 00 must be exactly 55 bytes; a higher version may continue
 * after the flags only with '-'; an all-zero trace id or parent id is invalid.
 * `sampled` is bit 0 of the flags. Surrounding spaces and tabs are skipped.
 * @return SLATE_OK; SLATE_EINVAL (NULL argument, or the value does not have
 *         the shape above); SLATE_ETRACEID (an all-zero id). On error *out is
 *         zeroed. Reads no byte at or past s + len. Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_traceparent_parse(const char *s, size_t len,
                                                               slate_trace_ctx_t *out);

/** Length of a version-00 `traceparent` value. */
#define SLATE_TRACEPARENT_LEN 55

/**
 * @brief Write the `traceparent` a hop passes on to its callees: version 00,
 *        the trace id and flags of @p ctx, and @p span_id (this hop's own
 *        span, as 16 lowercase hex digits) as the parent-id.
 *
 * W3C trace context carries one id per hop, the caller's span id (parent-id).
 * A proxy stitches a call graph from W3C alone by giving each sampled
 * request a span id of its own, recording (span = @p span_id, parent =
 * ctx->span_id), and replacing the request's `traceparent` with this value:
 * an application that only propagates the header then hands @p span_id to
 * its callees' proxies, which record it as their parent.
 * @param ctx a context parsed by slate_traceparent_parse() (32-digit trace id).
 * @param span_id this hop's span id; not 0 (W3C forbids an all-zero id).
 * @param out at least SLATE_TRACEPARENT_LEN bytes; no NUL is written.
 * @return SLATE_OK; SLATE_EINVAL (NULL argument, a trace id that is not 32
 *         digits, or @p cap below SLATE_TRACEPARENT_LEN); SLATE_ETRACEID
 *         (@p span_id is 0). On error nothing is written. Cost: O(1).
 */
SLATE_API SLATE_NODISCARD slate_status slate_traceparent_child(const slate_trace_ctx_t *ctx,
                                                               uint64_t span_id, char *out,
                                                               size_t cap);

/**
 * @brief Parse a B3 single header value:
 *        "<trace id>-<span id>[-<sampling>[-<parent span id>]]" or "<sampling>" alone,
 *        where the trace id is 16 or 32 lowercase hex digits, span ids 16, and
 *        sampling one of '0', '1', 'd' (debug, implies sampled).
 *
 * Surrounding spaces and tabs are skipped. All-zero ids are invalid.
 * @return SLATE_OK; SLATE_EINVAL (NULL argument, or a malformed value);
 *         SLATE_ETRACEID (an all-zero id). On error *out is zeroed.
 *         Reads no byte at or past s + len. Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_b3_parse(const char *s, size_t len,
                                                      slate_trace_ctx_t *out);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_KEY_H */
