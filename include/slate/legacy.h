/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file legacy.h
 * @brief SLATE's plain-text bodies, decoded into and encoded from the codec.h
 *        structs, so a slate controller accepts SLATE's plugin and a slate
 *        plugin can feed SLATE's controller.
 *
 * SLATE's prototype (the TinyGo proxy-wasm plugin and the Python global
 * controller of `ServiceLayerNetworking/SLATE`) speaks three text bodies.
 * This module reads and writes each of them exactly as SLATE's code does:
 *
 * | body | direction | codec.h struct | functions |
 * |---|---|---|---|
 * | `POST /proxyLoad` | plugin -> controller, every tick | slate_load_report_t (inbound, spans) |
 * slate_legacy_proxyload_decode(), slate_legacy_proxyload_encode() | | `POST /hillclimbingLatency`
 * | plugin -> controller, every 5 s | slate_load_report_t (inbound and outbound latency) |
 * slate_legacy_latency_decode(), slate_legacy_latency_encode() | | the `/proxyLoad` response |
 * controller -> plugin | slate_routing_rules_t | slate_legacy_rules_decode(),
 * slate_legacy_rules_encode() |
 *
 * SLATE puts the reporter's service, region and pod in HTTP headers
 * (`x-slate-servicename`, `x-slate-region`, `x-slate-podname`), not in the
 * bodies; the caller copies them into the report.
 *
 * ## Text conventions common to all three bodies
 * - Lines end in `\n`. The last line may or may not end in `\n` (SLATE's
 *   writers always end it). A `\r` before a `\n` is dropped, so CRLF is
 *   accepted; the encoders write `\n` only.
 * - Blank lines are skipped where SLATE's readers skip them (everywhere
 *   except the first two lines of `/proxyLoad`, which are positional).
 * - Numbers are parsed by this library, never by strtod or the C locale:
 *   integers are ASCII digits only (no sign, no space, no `+`); decimals are
 *   `digits[.digits][e[+-]digits]`. A number that is malformed, negative,
 *   NaN, infinite or out of range is `SLATE_ENUMBER`. Decimals are converted
 *   exactly and rounded half-to-even at the stated precision.
 * - Strings are views into the body (the body must outlive the struct). Each
 *   is checked: at most `limits.max_string` bytes (`SLATE_ESTRLEN`), no
 *   control characters (`SLATE_ESYNTAX`), valid UTF-8 (`SLATE_EUTF8`).
 *
 * ## Arrays, limits, errors (as in codec.h)
 * Set each array pointer and its `cap_*` before decoding; `n_*` is set to the
 * count in the body. A NULL array counts only. A short array gives
 * `SLATE_ENOSPC` after the whole body was checked, with every `n_*` a
 * sufficient capacity. `limits` (NULL or zero fields = the codec defaults):
 * `max_size` bounds the body (`SLATE_ELENGTH`), `max_repeated` bounds lines
 * of one kind and entries of one list (`SLATE_ECOUNT`), `max_string` bounds
 * every string field (`SLATE_ESTRLEN`).
 *
 * Errors fill the codec's slate_codec_error_t: `status`, `offset` (byte
 * offset of the bad field in the body), `detail` (static text) and `path`,
 * which for a body reads "line 3, col 41, field 8 (start)" (lines, columns and
 * fields count from 1), and for an encoder names the struct element
 * ("spans[2].path"). slate_codec_error_format() turns it into one line fit
 * for an HTTP 400 body.
 *
 * Encoders write into `buf[0..cap)` and never past it; on `SLATE_ENOSPC` they
 * still set `*len` to the size needed, so `encode(..., NULL, 0, &len, NULL)`
 * sizes a buffer. Nothing here allocates, reads a clock or keeps state.
 *
 * ## Security
 * Trusted: pointers, capacities and limits from the caller. Untrusted: every
 * byte of a body. A decoder never reads at or past `body + len`, never writes
 * past a `cap_*`, and on failure leaves partial data that must not be used.
 * Work is O(len), except slate_legacy_rules_decode() (see there).
 */
#ifndef SLATE_LEGACY_H
#define SLATE_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "slate/codec.h"
#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Weight that stands for SLATE's fraction 1.0: a rule line's `fraction` f
 * (SLATE writes floats in [0, 1], e.g. "0.6", "1e-05") decodes to the weight
 * round_half_even(f * 1000000), computed exactly from the decimal text;
 * a weight w encodes as the decimal w / 1000000 written as Python's repr()
 * writes that float ("0.6", "1.0", "1e-05"). So every fraction with at most
 * six decimals round-trips exactly, text to struct to text; finer ones are
 * rounded to 1e-6 (SLATE's own plugin rounds them to 1e-2).
 */
#define SLATE_LEGACY_WEIGHT_SCALE 1000000u

/**
 * @brief Decode a `/proxyLoad` body sent by SLATE's plugin.
 *
 * The body, as SLATE's plugin writes it (`fmt.Sprintf("%d\n%s\n%s", ...)`):
 * @code
 * 17\n                                                        line 1: total
 * GET@/cart,12,0|POST@/cart/checkout,5,0|\n                   line 2: load list
 * us-west-1 frontend-us-west-1 GET /cart 3d9a...e1 a1b2c3d4e5f60718  1709763447436 1709763447540 0
 * GET@/cart,12,0|\n
 * @endcode
 * - Line 1: inbound requests counted since the previous report, over all
 *   endpoints (an integer). It has no field in slate_load_report_t, so it is
 *   returned in `*total_requests` (optional).
 * - Line 2: the load list; it may be empty or absent. Each entry is
 *   `method@path,rps,in_flight` followed by `|` (SLATE ends every entry, the
 *   last one too, with `|`; a missing final `|` is accepted). `rps` is the
 *   number of the endpoint's arrivals in SLATE's trailing one-second window.
 *   Each entry becomes one `inbound` element with `requests = rps`,
 *   `rate_rps = rps`, `in_flight`, and a zero `latency`. The method may not
 *   contain `@`, the path neither `@` nor `,` nor `|` (SLATE's controller
 *   splits on them); both must be non-empty.
 * - Every further non-blank line is one sampled span: 11 fields separated by
 *   single spaces (`fmt "%s %s %s %s %s %s %s %d %d %d %s\n"`):
 *   region, service, method, path, trace id, span id, parent span id,
 *   start, end (unix milliseconds), body size (bytes), load list.
 *   The span id and the parent span id may be empty (a root span has no
 *   parent: two spaces in a row). SLATE writes `NOT FOUND` (two words) for a
 *   load list it could not read; that decodes to no load entries, as does an
 *   empty last field. Times become nanoseconds (`* 1000000`, an overflow is
 *   `SLATE_ENUMBER`); `end < start` is `SLATE_ENUMBER`. The load entries go to
 *   the `span_loads` pool as slate_endpoint_load_t (rps, in_flight).
 *   Every span line repeats the reporter's region and service: if
 *   `rep->region` / `rep->service` are empty the first span line sets them,
 *   otherwise every line must match them (`SLATE_EVALUE`).
 *
 * Set by the decoder: `inbound`/`n_inbound`, `spans`/`n_spans`,
 * `span_loads`/`n_span_loads`, `n_outbound = 0`, and `region`/`service` as
 * above. Not in the text, left as the caller set them: `pod`, `sequence`,
 * `time_ns`, `interval_ns`, `drops`.
 *
 * @param rep            arrays and caps set by the caller (see codec.h)
 * @param total_requests optional out: line 1
 * @param lim            NULL for the defaults
 * @param err            optional; where and why it failed
 * @return SLATE_OK; SLATE_EINVAL (NULL `rep`, NULL `body` with `len` > 0);
 *         SLATE_ELENGTH (body over `max_size`); SLATE_ESYNTAX (a line or entry
 *         of the wrong shape, a missing line 1, an empty required field, a
 *         control character); SLATE_ENUMBER; SLATE_ESTRLEN; SLATE_EUTF8;
 *         SLATE_ECOUNT (more load entries or span lines than `max_repeated`);
 *         SLATE_EVALUE (a span's region or service differs from the report's);
 *         SLATE_ENOSPC (a caller array is short; `n_*` are the counts needed).
 * Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_legacy_proxyload_decode(
    slate_load_report_t *rep, uint64_t *total_requests, const char *body, size_t len,
    const slate_codec_limits_t *lim, slate_codec_error_t *err);

/**
 * @brief Encode a report as the `/proxyLoad` body SLATE's controller reads.
 *
 * Writes the layout above, byte for byte as SLATE's plugin does: line 1 is
 * `*total_requests`, or when that is NULL the sum of `inbound[i].requests`
 * (saturating); line 2 is every inbound endpoint as
 * `method@path,round(rate_rps),in_flight|`; then one line per span with the
 * report's `region` and `service`, times in whole milliseconds (nanoseconds
 * divided by 1000000, rounded down), and its load list, or `NOT FOUND` when
 * the span has no load entries. Rates are rounded half-to-even to integers.
 * The text always ends in `\n`. So decoding, re-encoding (with the decoded
 * total) and decoding again gives the same struct.
 *
 * @param total_requests NULL: the sum of the inbound requests
 * @param len            out: bytes written, or on SLATE_ENOSPC the bytes needed
 * @return SLATE_OK; SLATE_ENOSPC; SLATE_EINVAL (NULL `rep`/`len`, an array
 *         NULL with a non-zero count); SLATE_EVALUE (a string the text cannot
 *         carry: empty where required, holding a space, control character or
 *         a separator of its list; a rate that is NaN, negative, infinite or
 *         above 2^64; a span ending before it starts); SLATE_EUTF8.
 * Cost: O(output size).
 */
SLATE_API SLATE_NODISCARD slate_status slate_legacy_proxyload_encode(const slate_load_report_t *rep,
                                                                     const uint64_t *total_requests,
                                                                     char *buf, size_t cap,
                                                                     size_t *len,
                                                                     slate_codec_error_t *err);

/**
 * @brief Decode a `/hillclimbingLatency` body sent by SLATE's plugin.
 *
 * Two optional sections, each a header line and data lines of fields
 * separated by single spaces (SLATE writes `outbound` first):
 * @code
 * outbound\n
 * cartservice POST /hipstershop.CartService/AddItem 3 41\n     dst_service method path avg count
 * inbound\n
 * POST /cart 6 40 1234.500000\n                               method path avg count m2
 * @endcode
 * - `avg` is the mean latency in milliseconds (SLATE writes an integer, the
 *   truncated mean; up to 6 decimals are accepted), `count` the number of
 *   requests completed since the last report, `m2` Welford's sum of squared
 *   deviations in ms^2 (SLATE writes `%f`, six decimals, or `0`).
 * - An `outbound` line becomes an `outbound` element: `dst_service`,
 *   `method`, `path`, empty `dst_region` (SLATE does not split by region),
 *   `requests = count`, `latency.count = count`, `latency.mean_ns = avg * 1e6`.
 * - An `inbound` line becomes an `inbound` element with `latency.count`,
 *   `latency.mean_ns`, `latency.m2 = m2 * 1e12` (ns^2); `requests`,
 *   `rate_rps` and `in_flight` are 0 (not in this body).
 * - In both, `latency.sum_ns = mean_ns * count` (derived from the stored
 *   mean, saturating; SLATE's text has no sum);
 *   `min_ns`, `max_ns` and the histogram are not in the text and stay 0.
 * - Precision: `avg` and `m2` are read exactly, rounded half-to-even to
 *   1e-6 ms (ms^2), and become the double nearest to that value in ns
 *   (ns^2). SLATE's own text (integer `avg`, `m2` with six decimals)
 *   re-encodes byte for byte while the mean is below 2^53 ns (104 days) and
 *   m2 below 4.5e9 ms^2; beyond that the double's rounding shows in the
 *   last digits. decode(encode(decode(x))) equals decode(x) always.
 * - A header given twice, a data line before any header, a line of the
 *   wrong field count: SLATE_ESYNTAX. The body may be empty.
 *
 * Set by the decoder: `inbound`/`n_inbound`, `outbound`/`n_outbound`,
 * `n_spans = 0`, `n_span_loads = 0`. Everything else is left as the caller
 * set it.
 *
 * @return as slate_legacy_proxyload_decode() (SLATE_ECOUNT: more lines in a
 *         section than `max_repeated`). Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_legacy_latency_decode(slate_load_report_t *rep,
                                                                   const char *body, size_t len,
                                                                   const slate_codec_limits_t *lim,
                                                                   slate_codec_error_t *err);

/**
 * @brief Encode a report's latency as the `/hillclimbingLatency` body.
 *
 * As SLATE's plugin: `outbound\n` and one line per outbound element (only
 * when there is one), then `inbound\n` and one line per inbound element (only
 * when there is one). `avg` is `latency.mean_ns` in milliseconds, rounded to
 * the nearest nanosecond and written without trailing zeros ("6", "6.5");
 * `count` is `latency.count`; `m2` is `latency.m2` in ms^2 written with six
 * decimals ("1234.500000"). An outbound element's `dst_region` is not
 * written (SLATE's body has no region; its controller ignores the outbound
 * section), so one destination served from several regions gives several
 * lines.
 *
 * @return SLATE_OK; SLATE_ENOSPC; SLATE_EINVAL; SLATE_EVALUE (an empty
 *         string or one holding a space or control character; a mean or m2
 *         that is NaN, negative, infinite or too large for the text's
 *         64-bit integers); SLATE_EUTF8. Cost: O(output size).
 */
SLATE_API SLATE_NODISCARD slate_status slate_legacy_latency_encode(const slate_load_report_t *rep,
                                                                   char *buf, size_t cap,
                                                                   size_t *len,
                                                                   slate_codec_error_t *err);

/**
 * @brief Decode the rules SLATE's controller answers `/proxyLoad` with.
 *
 * One rule line per (caller endpoint, destination endpoint, caller region,
 * destination region), five comma-separated fields (SLATE's controller writes
 * them with pandas `to_csv(header=False, index=False)`, no spaces; SLATE's
 * plugin trims spaces and tabs around each field, and so does this decoder):
 * @code
 * frontend@POST@/cart,cartservice@POST@/hipstershop.CartService/AddItem,us-west-1,us-east-1,0.4\n
 * @endcode
 * - Fields 1 and 2 are `service@method@path`, exactly two `@` each (SLATE's
 *   plugin drops other lines). The caller's parts go to `src_service`,
 *   `src_method`, `src_path` and may be empty; the destination's go to
 *   `dst_service`, `method`, `path` and must not be.
 * - Fields 3 and 4 are the caller's and the destination's region.
 * - Field 5 is the fraction in [0, 1], converted to a weight as described at
 *   SLATE_LEGACY_WEIGHT_SCALE. Above 1 (after rounding) is SLATE_ENUMBER.
 * - Lines with the same caller endpoint, caller region and destination
 *   endpoint form one slate_rule_t, in order of first appearance; its targets
 *   (destination region, weight) keep line order. Lines of one rule need not
 *   be adjacent. Two lines with the same rule and destination region are
 *   kept as two targets (SLATE's plugin let the last win; slate's sampler
 *   rejects duplicates when compiling).
 * - The body may be empty (SLATE's controller answers "" before it has
 *   rules). Blank lines are skipped, as SLATE's plugin does. Any other line
 *   of the wrong shape is SLATE_ESYNTAX (SLATE's plugin logged and skipped
 *   it; a slate proxy rejects the whole answer and keeps its old rules).
 * - `version`, `ttl_ns` and `generated_ns` are not in the text and are left as
 *   the caller set them.
 *
 * Arrays: `rules`/`cap_rules` and the `targets` pool/`cap_targets`. With
 * `rules` NULL (count only), `n_rules` and `n_targets` are both the number of
 * rule lines, a sufficient capacity. On SLATE_ENOSPC, `n_rules` is a
 * sufficient capacity (it may count a rule more than once) and `n_targets`
 * the number of rule lines.
 *
 * @return SLATE_OK; SLATE_EINVAL; SLATE_ELENGTH; SLATE_ESYNTAX;
 *         SLATE_ENUMBER; SLATE_ESTRLEN; SLATE_EUTF8; SLATE_ECOUNT (more rule
 *         lines than `max_repeated`); SLATE_ENOSPC.
 * Cost: O(len + lines * rules) key comparisons in the worst case; O(len) when
 *       the lines of each rule are adjacent, as SLATE's controller writes them.
 */
SLATE_API SLATE_NODISCARD slate_status slate_legacy_rules_decode(slate_routing_rules_t *rules,
                                                                 const char *body, size_t len,
                                                                 const slate_codec_limits_t *lim,
                                                                 slate_codec_error_t *err);

/**
 * @brief Encode rules as the text SLATE's plugin reads.
 *
 * One line per target, `src_service@src_method@src_path,dst_service@method@path,
 * src_region,region,fraction\n`, rules in order, targets in order, as pandas
 * writes them (no spaces). `fraction` is `weight / SLATE_LEGACY_WEIGHT_SCALE`
 * (see there), so weights must already be fractions of
 * SLATE_LEGACY_WEIGHT_SCALE; call slate_legacy_rules_normalize() first for
 * relative weights. Empty caller parts are written empty ("@@", which SLATE's
 * plugin takes as any caller).
 *
 * @return SLATE_OK; SLATE_ENOSPC; SLATE_EINVAL (NULL, or `targets` NULL with
 *         `n_targets` > 0); SLATE_EVALUE (a weight above
 *         SLATE_LEGACY_WEIGHT_SCALE; an empty region, destination service,
 *         method or path; a string holding `,`, `@`, a leading or trailing
 *         space or a control character); SLATE_EUTF8.
 * Cost: O(output size).
 */
SLATE_API SLATE_NODISCARD slate_status slate_legacy_rules_encode(const slate_routing_rules_t *rules,
                                                                 char *buf, size_t cap, size_t *len,
                                                                 slate_codec_error_t *err);

/**
 * @brief Rescale each rule's weights, in place, to sum to exactly
 *        SLATE_LEGACY_WEIGHT_SCALE, as SLATE's plugin expects fractions to.
 *
 * Weight i becomes round(C_i * S / W) - round(C_(i-1) * S / W), where C_i is
 * the sum of the first i weights, W the sum of all and S the scale: each is
 * within one unit of its exact share, the sum is exact, and weights that
 * already sum to S are unchanged. A rule whose weights are all 0 is left
 * alone.
 * @return SLATE_OK; SLATE_EINVAL (NULL, or `targets` NULL with targets).
 * Cost: O(targets).
 */
SLATE_API SLATE_NODISCARD slate_status slate_legacy_rules_normalize(slate_routing_rules_t *rules);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_LEGACY_H */
