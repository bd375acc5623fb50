/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The protobuf wire codec of slate.proto, by hand.
 *
 * Decoding: one recursive-descent function per message; every read is checked
 * against the end of its enclosing message, and every error records the byte
 * offset and a detail text, then the field path is built once on the way out.
 *
 * Encoding: the writer fills the buffer from its END towards its start, so a
 * nested message is written before its length prefix and its length is known
 * without a sizing pass. When the buffer runs out the writer keeps counting
 * without writing, so the same code computes the size needed. A finished
 * encoding is moved to the start of the buffer.
 */
#include "slate/codec.h"

#include "wire.h"

#include <string.h>

#define CHECK SLATE_NODISCARD

/* What the decode loops must inline (the readers of strings, lengths and
 * scalars; a span's load entries; the spans, into the report's loop).
 * Size-optimised builds leave the choice to the compiler. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

#define TAG(field, wt) (((uint32_t)(field) << 3) | (uint32_t)(wt))

/* Field numbers (slate.proto). */
enum {
    F_LAT_COUNT = 1,
    F_LAT_SUM = 2,
    F_LAT_MIN = 3,
    F_LAT_MAX = 4,
    F_LAT_MEAN = 5,
    F_LAT_M2 = 6,
    F_LAT_HOFF = 7,
    F_LAT_HCOUNTS = 8,
};
enum { F_IN_METHOD = 1, F_IN_PATH, F_IN_REQUESTS, F_IN_RATE, F_IN_INFLIGHT, F_IN_LATENCY };
enum { F_OUT_SVC = 1, F_OUT_METHOD, F_OUT_PATH, F_OUT_REGION, F_OUT_REQUESTS, F_OUT_LATENCY };
enum { F_EL_METHOD = 1, F_EL_PATH, F_EL_RPS, F_EL_INFLIGHT };
enum {
    F_SP_TRACE = 1,
    F_SP_SPAN,
    F_SP_PARENT,
    F_SP_METHOD,
    F_SP_PATH,
    F_SP_START,
    F_SP_END,
    F_SP_BODY,
    F_SP_LOAD
};
enum {
    F_RP_SERVICE = 1,
    F_RP_REGION,
    F_RP_POD,
    F_RP_SEQ,
    F_RP_TIME,
    F_RP_INTERVAL,
    F_RP_INBOUND,
    F_RP_OUTBOUND,
    F_RP_SPANS,
    F_RP_DROPS
};
enum { F_WR_REGION = 1, F_WR_WEIGHT };
enum {
    F_RU_SRC_REGION = 1,
    F_RU_DST_SERVICE,
    F_RU_METHOD,
    F_RU_PATH,
    F_RU_TARGETS,
    F_RU_SRC_SERVICE,
    F_RU_SRC_METHOD,
    F_RU_SRC_PATH
};
enum { F_RR_VERSION = 1, F_RR_TTL, F_RR_GENERATED, F_RR_RULES };

/* Field names for error paths, indexed by field number. */
static const char *const names_latency[] = {
    NULL, "count", "sum_ns", "min_ns", "max_ns", "mean_ns", "m2", "hist_offset", "hist_counts"};
static const char *const names_inbound[] = {NULL,       "method",    "path",   "requests",
                                            "rate_rps", "in_flight", "latency"};
static const char *const names_outbound[] = {NULL,         "dst_service", "method", "path",
                                             "dst_region", "requests",    "latency"};
static const char *const names_eload[] = {NULL, "method", "path", "rps", "in_flight"};
static const char *const names_span[] = {NULL,   "trace_id", "span_id", "parent_span_id", "method",
                                         "path", "start_ns", "end_ns",  "body_size",      "load"};
static const char *const names_drops[] = {NULL,
                                          "spans_dropped",
                                          "endpoints_overflowed",
                                          "outbound_overflowed",
                                          "late_stamps",
                                          "post_failed_network",
                                          "post_failed_timeout",
                                          "post_failed_status",
                                          "post_failed_too_large",
                                          "rules_rejected",
                                          "counters_saturated"};
static const char *const names_report[] = {NULL,       "service", "region",      "pod",
                                           "sequence", "time_ns", "interval_ns", "inbound",
                                           "outbound", "spans",   "drops"};
static const char *const names_target[] = {NULL, "region", "weight"};
static const char *const names_rule[] = {NULL,      "src_region",  "dst_service", "method",  "path",
                                         "targets", "src_service", "src_method",  "src_path"};
static const char *const names_rules[] = {NULL, "version", "ttl_ns", "generated_ns", "rules"};

#define NNAMES(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------------------- */
/* Small helpers shared by both directions. */

slate_str_t slate_str(const char *cstr)
{
    slate_str_t s = {cstr, cstr ? strlen(cstr) : 0};
    return s;
}

void slate_codec_limits_default(slate_codec_limits_t *lim)
{
    if (!lim)
        return;
    lim->max_depth = SLATE_CODEC_DEFAULT_MAX_DEPTH;
    lim->max_repeated = SLATE_CODEC_DEFAULT_MAX_REPEATED;
    lim->max_string = SLATE_CODEC_DEFAULT_MAX_STRING;
    lim->max_size = SLATE_CODEC_DEFAULT_MAX_SIZE;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    /* Fast path: names and ids are ASCII. OR every byte together (words, then
     * an overlapping last word, or bytes when shorter than a word). */
    uint64_t acc = 0;
    if (n >= 8) {
        size_t j = 0;
        for (; j + 8 <= n; j += 8) {
            uint64_t v;
            memcpy(&v, s + j, 8);
            acc |= v;
        }
        uint64_t last;
        memcpy(&last, s + n - 8, 8);
        acc |= last;
    } else {
        for (size_t j = 0; j < n; j++)
            acc |= s[j];
    }
    if ((acc & 0x8080808080808080ull) == 0)
        return true;
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if ((v & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0xC2)
            return false;
        else if (c < 0xE0)
            need = 1;
        else if (c < 0xF0) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c < 0xF5) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return false;
        if (n - i - 1 < need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

/* A path under construction: message names and element indexes.
 *
 * The decoder writes a message's frame only when an error leaves it
 * (LAZY_PATH), so a decode that succeeds pays nothing for paths. The
 * size-optimised builds (the wasm modules) write every frame on the way in and
 * the path at the error, the form with less code. The paths are the same. */
#ifndef __OPTIMIZE_SIZE__
#define LAZY_PATH 1
#endif
#define PSTACK_CAP 16u
typedef struct pstack {
    uint32_t depth; /* entries in use; e[0] is the top message */
    struct {
        const char *name;
        uint32_t index;
        bool indexed;
    } e[PSTACK_CAP];
} pstack_t;

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, b->len++)
        if (b->len + 1 < b->cap)
            b->p[b->len] = s[i];
    if (b->cap)
        b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
}

static void sb_str(sbuf_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_u64(sbuf_t *b, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sb_put(b, tmp + sizeof tmp - n, n);
}

/* Writes the path (stack, then the leaf field) into err->path, "..." if cut. */
static void build_path(slate_codec_error_t *err, const pstack_t *ps, const char *const *names,
                       uint32_t nnames, uint32_t field)
{
    char tmp[SLATE_CODEC_PATH_CAP + 32];
    sbuf_t b = {tmp, sizeof tmp, 0};
    for (uint32_t i = 0; i < ps->depth && i < PSTACK_CAP; i++) {
        if (i)
            sb_put(&b, ".", 1);
        sb_str(&b, ps->e[i].name);
        if (ps->e[i].indexed) {
            sb_put(&b, "[", 1);
            sb_u64(&b, ps->e[i].index);
            sb_put(&b, "]", 1);
        }
    }
    if (ps->depth > PSTACK_CAP)
        sb_str(&b, ".(...)");
    if (field) {
        sb_put(&b, ".", 1);
        if (names && field < nnames && names[field])
            sb_str(&b, names[field]);
        else {
            sb_put(&b, "#", 1);
            sb_u64(&b, field);
        }
    }
    size_t n = b.len < sizeof tmp ? b.len : sizeof tmp - 1;
    if (n >= SLATE_CODEC_PATH_CAP) {
        memcpy(err->path, tmp, SLATE_CODEC_PATH_CAP - 4);
        memcpy(err->path + SLATE_CODEC_PATH_CAP - 4, "...", 4);
    } else {
        memcpy(err->path, tmp, n);
        err->path[n] = '\0';
    }
}

static void err_clear(slate_codec_error_t *err)
{
    err->status = SLATE_OK;
    err->offset = 0;
    err->detail = "";
    err->path[0] = '\0';
}

size_t slate_codec_error_format(const slate_codec_error_t *err, char *buf, size_t cap)
{
    sbuf_t b = {buf, buf ? cap : 0, 0};
    if (b.cap)
        buf[0] = '\0';
    if (!err) {
        sb_str(&b, "SLATE_EINVAL: no error given");
        return b.len;
    }
    sb_str(&b, slate_status_name(err->status));
    if (err->status == SLATE_OK)
        return b.len;
    sb_str(&b, " at byte ");
    sb_u64(&b, err->offset);
    if (err->path[0]) {
        sb_str(&b, " in ");
        sb_str(&b, err->path);
    }
    sb_str(&b, ": ");
    sb_str(&b, err->detail && err->detail[0] ? err->detail : slate_strerror(err->status));
    return b.len;
}

static inline uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

/* ------------------------------------------------------------------------- */
/* Decoding. */

typedef struct dec {
    const uint8_t *base; /* start of the input, for offsets */
    const uint8_t *input_end;
    uint32_t max_depth, max_repeated, max_string;
    /* ps.depth == current nesting depth. The frames e[1..] are written only
     * as an error unwinds (frame()), so a successful decode pays nothing for
     * the path; dec_finish() then builds it from where the error was found. */
    pstack_t ps;
    const uint8_t *at;   /* where the first error was found */
    const char *detail;  /* its text */
    uint32_t fail_depth; /* the depth of the message that recorded it */
    uint32_t leaf_field; /* and the field, named by leaf_names */
    const char *const *leaf_names;
    uint32_t leaf_nnames;
    slate_codec_error_t *err;          /* never NULL */
    slate_endpoint_load_t *eload_pool; /* LoadReport: the spans' pool */
    size_t eload_n, eload_cap;
    slate_route_target_t *target_pool; /* RoutingRules: the rules' pool */
    size_t target_n, target_cap;
} dec_t;

static void dec_init(dec_t *d, const uint8_t *buf, size_t len, const slate_codec_limits_t *lim,
                     slate_codec_error_t *err, const char *root)
{
    d->base = buf;
    d->at = NULL;
    d->detail = NULL;
    d->eload_pool = NULL;
    d->eload_n = d->eload_cap = 0;
    d->target_pool = NULL;
    d->target_n = d->target_cap = 0;
    d->input_end = buf + len;
    d->max_depth = lim && lim->max_depth ? lim->max_depth : SLATE_CODEC_DEFAULT_MAX_DEPTH;
    d->max_repeated =
        lim && lim->max_repeated ? lim->max_repeated : SLATE_CODEC_DEFAULT_MAX_REPEATED;
    d->max_string = lim && lim->max_string ? lim->max_string : SLATE_CODEC_DEFAULT_MAX_STRING;
    d->err = err;
    d->ps.depth = 1;
    d->ps.e[0].name = root;
    d->ps.e[0].indexed = false;
}

/* Records the first low-level error: where and what. */
static CHECK slate_status bad(dec_t *d, slate_status st, const uint8_t *at, const char *detail)
{
    if (!d->at) {
        d->at = at;
        d->detail = detail;
    }
    return st;
}

/* Completes the error record at the innermost message: status, offset, detail
 * and the path. LAZY_PATH: only the leaf of the path; the messages around it
 * name their frames as the error unwinds through them (frame()), and
 * dec_finish() writes the path. */
static slate_status fail(dec_t *d, slate_status st, const char *const *names, uint32_t nnames,
                         uint32_t field)
{
    slate_codec_error_t *err = d->err;
    if (err->status != SLATE_OK)
        return st; /* an inner message already recorded it */
    err->status = st;
    err->offset = d->at ? (size_t)(d->at - d->base) : 0;
    err->detail = d->detail ? d->detail : slate_strerror(st);
#ifdef LAZY_PATH
    d->fail_depth = d->ps.depth;
    d->leaf_names = names;
    d->leaf_nnames = nnames;
    d->leaf_field = field;
#else
    build_path(err, &d->ps, names, nnames, field);
#endif
    return st;
}

/* The end of a top-level decode: a recorded error gets its path. */
static inline slate_status dec_finish(dec_t *d, slate_status st)
{
#ifdef LAZY_PATH
    if (st != SLATE_OK && d->err->status != SLATE_OK) {
        d->ps.depth = d->fail_depth;
        build_path(d->err, &d->ps, d->leaf_names, d->leaf_nnames, d->leaf_field);
    }
#else
    (void)d;
#endif
    return st;
}

#ifndef __OPTIMIZE_SIZE__
/* 8 bytes at p, in memory order (slate_wire_le64_host() for their value). */
static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
#endif

/* The 7-bit groups of the little-endian word x (top bits clear) side by side:
 * pairs, then quads, then halves. */
HOT uint64_t varint_compact(uint64_t x)
{
    x = (x & 0x007F007F007F007Full) | ((x & 0x7F007F007F007F00ull) >> 1);
    x = (x & 0x00003FFF00003FFFull) | ((x & 0x3FFF00003FFF0000ull) >> 2);
    return (x & 0x000000000FFFFFFFull) | ((x & 0x0FFFFFFF00000000ull) >> 4);
}

static CHECK slate_status rd_varint_slow(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                         uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    if (end - p >= 8) {
        /* Fast path: the terminating byte is the first with its top bit clear;
         * 8 bytes are read at once, the 9th and 10th one by one. */
        uint64_t w;
        memcpy(&w, p, 8);
        w = slate_wire_le64_host(w);
        uint64_t stops = ~w & 0x8080808080808080ull;
        unsigned nb = stops ? (unsigned)__builtin_ctzll(stops) / 8u + 1u : 8u; /* bytes used */
        uint64_t x = nb == 8 ? w : w & ((1ull << (8 * nb)) - 1);
        x = varint_compact(x & 0x7F7F7F7F7F7F7F7Full);
        if (stops) {
            *out = x;
            *pp = p + nb;
            return SLATE_OK;
        }
        if (end - p >= 10) {
            uint8_t b8 = p[8], b9 = p[9];
            if (b8 < 0x80) {
                *out = x | (uint64_t)b8 << 56;
                *pp = p + 9;
                return SLATE_OK;
            }
            if (b9 <= 1) {
                *out = x | (uint64_t)(b8 & 0x7f) << 56 | (uint64_t)b9 << 63;
                *pp = p + 10;
                return SLATE_OK;
            }
        }
        /* errors and short tails: the byte loop below reports them */
    }
    for (unsigned i = 0; i < 10; i++) {
        if (p + i >= end)
            return bad(d, SLATE_ETRUNCATED, p, "input ends inside a varint");
        uint8_t b = p[i];
        if (i == 9 && b > 1)
            return bad(d, SLATE_EVARINT, p,
                       (b & 0x80) ? "varint longer than 10 bytes" : "varint overflows 64 bits");
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            *pp = p + i + 1;
            return SLATE_OK;
        }
    }
    return bad(d, SLATE_EVARINT, p, "varint longer than 10 bytes"); /* not reached */
}

HOT CHECK slate_status rd_varint(dec_t *d, const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *out = *p;
        *pp = p + 1;
        return SLATE_OK;
    }
#ifndef __OPTIMIZE_SIZE__ /* the size-budgeted wasm modules keep the smaller form */
    /* Two bytes (lengths of 128 to 16,383: embedded messages, histograms)
     * without the call. */
    if (end - p >= 2 && p[1] < 0x80) {
        *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        *pp = p + 2;
        return SLATE_OK;
    }
    /* through copies: the caller's position and value never have their
     * address taken, so they stay in registers */
    const uint8_t *q = p;
    uint64_t v;
    slate_status st = rd_varint_slow(d, &q, end, &v);
    *pp = q;
    if (st == SLATE_OK)
        *out = v;
    return st;
#else
    return rd_varint_slow(d, pp, end, out);
#endif
}

/* A scalar field's varint: as rd_varint(), and (not in size-optimised builds)
 * values of three to nine bytes (latency sums, timestamps) read as a word
 * inline when 9 bytes are in reach, as rd_varint_slow() would. */
HOT CHECK slate_status rd_u64(dec_t *d, const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
#ifndef __OPTIMIZE_SIZE__
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *out = *p;
        *pp = p + 1;
        return SLATE_OK;
    }
    if (end - p >= 2 && p[1] < 0x80) { /* body sizes, histogram offsets */
        *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        *pp = p + 2;
        return SLATE_OK;
    }
    if (end - p >= 9) {
        uint64_t w = slate_wire_le64_host(ld64(p));
        uint64_t stops = ~w & 0x8080808080808080ull;
        if (stops) {
            unsigned nb = (unsigned)__builtin_ctzll(stops) / 8u + 1u; /* 3 to 8 */
            *out = varint_compact(w & (~0ull >> (64 - 8 * nb)) & 0x7F7F7F7F7F7F7F7Full);
            *pp = p + nb;
            return SLATE_OK;
        }
        if (p[8] < 0x80) {
            *out = varint_compact(w & 0x7F7F7F7F7F7F7F7Full) | (uint64_t)p[8] << 56;
            *pp = p + 9;
            return SLATE_OK;
        }
    }
#endif
    return rd_varint(d, pp, end, out);
}

/* A uint32 field: the low 32 bits of its varint. */
HOT CHECK slate_status rd_u32(dec_t *d, const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
    uint64_t v;
    slate_status st = rd_varint(d, pp, end, &v);
    if (st == SLATE_OK)
        *out = (uint32_t)v;
    return st;
}

/* A tag. A one-byte tag is returned as it is: field number 0 (no expected
 * tag has it) is rejected by other_field(), off the path of the usual tag.
 * Size-optimised builds check it here (less code). */
#ifndef __OPTIMIZE_SIZE__
#define TAG0_LATE 1
#endif
static inline CHECK slate_status rd_tag(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                        uint32_t *tag)
{
    const uint8_t *p = *pp;
    uint64_t v;
#ifdef TAG0_LATE
    if (*p < 0x80) { /* caller guarantees p < end */
        *tag = *p;
        *pp = p + 1;
        return SLATE_OK;
    }
    const uint8_t *q = p; /* as in rd_varint() */
    slate_status st = rd_varint_slow(d, &q, end, &v);
    *pp = q;
    if (st)
        return st;
    if (q - p > 5)
        return bad(d, SLATE_EFIELD, p, "tag longer than 5 bytes");
#else
    if (*p < 0x80) {
        v = *p;
        *pp = p + 1;
    } else {
        slate_status st = rd_varint_slow(d, pp, end, &v);
        if (st)
            return st;
        if (*pp - p > 5)
            return bad(d, SLATE_EFIELD, p, "tag longer than 5 bytes");
    }
#endif
    if (v > UINT32_MAX)
        return bad(d, SLATE_EFIELD, p, "field number above 2^29-1");
    if ((v >> 3) == 0)
        return bad(d, SLATE_EFIELD, p, "field number 0");
    *tag = (uint32_t)v;
    return SLATE_OK;
}

static inline CHECK slate_status rd_fixed64(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                            uint64_t *out)
{
    const uint8_t *p = *pp;
    if ((size_t)(end - p) < 8)
        return bad(d, SLATE_ETRUNCATED, p, "input ends inside a 64-bit value");
    *out = slate_wire_get_le64(p);
    *pp = p + 8;
    return SLATE_OK;
}

static inline CHECK slate_status rd_double(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                           double *out)
{
    uint64_t u;
    slate_status st = rd_fixed64(d, pp, end, &u);
    if (st == SLATE_OK)
        memcpy(out, &u, sizeof *out);
    return st;
}

/* A length prefix and the bytes it covers, inside [*pp, end). */
HOT CHECK slate_status rd_len(dec_t *d, const uint8_t **pp, const uint8_t *end, const uint8_t **q,
                              size_t *n)
{
    const uint8_t *at = *pp;
    uint64_t v;
    slate_status st = rd_varint(d, pp, end, &v);
    if (st)
        return st;
    if (v > (uint64_t)(end - *pp)) {
        if (v > (uint64_t)(d->input_end - *pp))
            return bad(d, SLATE_ETRUNCATED, at, "input ends inside a length-delimited field");
        return bad(d, SLATE_ELENGTH, at, "length runs past the end of the enclosing message");
    }
    *q = *pp;
    *n = (size_t)v;
    *pp += v;
    return SLATE_OK;
}

#ifndef __OPTIMIZE_SIZE__
/* True when s[0..n), inside the input, is all ASCII (the usual string: names,
 * ids, paths). Whole words only: a string shorter than a word is read with
 * the input bytes next to it and those are masked off, so short strings need
 * no byte loop. Never reads outside the input. */
HOT bool ascii_in_input(const dec_t *d, const uint8_t *s, size_t n)
{
    const uint64_t hi = 0x8080808080808080ull;
    if (n > 16) {
        uint64_t acc = ld64(s + n - 16) | ld64(s + n - 8);
        for (size_t j = 0; j + 16 < n; j += 16)
            acc |= ld64(s + j) | ld64(s + j + 8);
        return (acc & hi) == 0;
    }
    if (n >= 8)
        return ((ld64(s) | ld64(s + n - 8)) & hi) == 0;
    if (n == 0)
        return true;
    if ((size_t)(d->input_end - s) >= 8) /* the word at s: keep its first n bytes */
        return (slate_wire_le64_host(ld64(s)) & hi & (~0ull >> (64 - 8 * n))) == 0;
    if ((size_t)(s - d->base) + n >= 8) /* the word ending at s + n: its last n bytes */
        return (slate_wire_le64_host(ld64(s + n - 8)) & hi & (~0ull << (64 - 8 * n))) == 0;
    return false; /* an input under 8 bytes: utf8_valid() decides */
}
#endif

HOT CHECK slate_status rd_str(dec_t *d, const uint8_t **pp, const uint8_t *end, slate_str_t *out)
{
    const uint8_t *at = *pp, *q;
    size_t n;
    slate_status st = rd_len(d, pp, end, &q, &n);
    if (st)
        return st;
    if (n > d->max_string)
        return bad(d, SLATE_ESTRLEN, at, "string longer than limits.max_string");
#ifndef __OPTIMIZE_SIZE__
    if (!ascii_in_input(d, q, n) && !utf8_valid(q, n))
#else
    if (!utf8_valid(q, n))
#endif
        return bad(d, SLATE_EUTF8, at, "string is not valid UTF-8");
    out->ptr = (const char *)q;
    out->len = n;
    return SLATE_OK;
}

/* Skips one field's value of any wire type except groups. */
static CHECK slate_status skip_value(dec_t *d, const uint8_t **pp, const uint8_t *end, uint32_t wt)
{
    const uint8_t *q;
    size_t n;
    uint64_t v;
    switch (wt) {
    case WT_VARINT:
        return rd_varint(d, pp, end, &v);
    case WT_I64:
        return rd_fixed64(d, pp, end, &v);
    case WT_LEN:
        return rd_len(d, pp, end, &q, &n);
    case WT_I32:
        if ((size_t)(end - *pp) < 4)
            return bad(d, SLATE_ETRUNCATED, *pp, "input ends inside a 32-bit value");
        *pp += 4;
        return SLATE_OK;
    case WT_SGROUP:
    case WT_EGROUP:
        return bad(d, SLATE_EGROUP, *pp, "group wire type (3 or 4) is not supported");
    default:
        return bad(d, SLATE_EWIRETYPE, *pp, "invalid wire type 6 or 7");
    }
}

/* A field whose tag did not match any expected (field, wire type): field
 * number 0 and a known field with the wrong wire type are errors, an unknown
 * field is skipped. */
static CHECK slate_status other_field(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                      uint32_t tag, const uint8_t *tag_at, uint32_t nnames)
{
    uint32_t field = tag >> 3, wt = tag & 7;
#ifdef TAG0_LATE
    if (field == 0) /* a one-byte tag; rd_tag() rejects longer ones */
        return bad(d, SLATE_EFIELD, tag_at, "field number 0");
#endif
    if (wt == WT_SGROUP || wt == WT_EGROUP)
        return bad(d, SLATE_EGROUP, tag_at, "group wire type (3 or 4) is not supported");
    if (field < nnames)
        return bad(d, SLATE_EWIRETYPE, tag_at, "wire type does not match the field's type");
    return skip_value(d, pp, end, wt);
}

static inline void set_frame(dec_t *d, uint32_t i, const char *name, uint32_t index, bool indexed)
{
    if (i < PSTACK_CAP) {
        d->ps.e[i].name = name;
        d->ps.e[i].index = index;
        d->ps.e[i].indexed = indexed;
    }
}

/* Descends into a sub-message. LAZY_PATH: its frame is written only if an
 * error comes out of it (frame()). */
static inline CHECK slate_status enter(dec_t *d, const char *name, uint32_t index, bool indexed,
                                       const uint8_t *at)
{
    if (d->ps.depth >= d->max_depth)
        return bad(d, SLATE_EDEPTH, at, "messages nest deeper than limits.max_depth");
#ifndef LAZY_PATH
    set_frame(d, d->ps.depth, name, index, indexed);
#else
    (void)name;
    (void)index;
    (void)indexed;
#endif
    d->ps.depth++;
    return SLATE_OK;
}

/* Names the sub-message entered last, as an error leaves it (before leave()). */
static inline void frame(dec_t *d, const char *name, uint32_t index, bool indexed)
{
#ifdef LAZY_PATH
    set_frame(d, d->ps.depth - 1, name, index, indexed);
#else
    (void)d;
    (void)name;
    (void)index;
    (void)indexed;
#endif
}

static inline void leave(dec_t *d)
{
    d->ps.depth--;
}

/* Counts the varints of a packed uint32 run, checking each. */
HOT CHECK slate_status scan_packed(dec_t *d, const uint8_t *p, size_t n, uint32_t *count)
{
    uint32_t c = 0;
    unsigned run = 0;
    size_t i = 0;
#ifndef __OPTIMIZE_SIZE__
    /* Words whose last byte ends a varint hold only whole varints (at most 8
     * bytes each, so valid): count their last bytes. Two words at once while
     * every count is one byte. */
    for (; n - i >= 16; i += 16)
        if ((ld64(p + i) | ld64(p + i + 8)) & 0x8080808080808080ull)
            break;
        else
            c += 16;
    for (; n - i >= 8; i += 8) {
        uint64_t w = slate_wire_le64_host(ld64(p + i));
        if (w >> 63)
            break; /* a varint runs on: the byte loop */
        c += (uint32_t)((((~w & 0x8080808080808080ull) >> 7) * 0x0101010101010101ull) >> 56);
    }
#endif
    for (; i < n; i++) {
        if (run == 0 && n - i >= 8) {
            /* Fast path: 8 one-byte varints (histogram counts are mostly small). */
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                c += 8;
                i += 7;
                continue;
            }
        }
        uint8_t b = p[i];
        if (b & 0x80) {
            if (++run >= 10)
                return bad(d, SLATE_EVARINT, p + i - 9, "varint longer than 10 bytes");
        } else {
            if (run == 9 && b > 1)
                return bad(d, SLATE_EVARINT, p + i - 9, "varint overflows 64 bits");
            run = 0;
            c++;
        }
    }
    if (run)
        return bad(d, SLATE_ETRUNCATED, p + n - run, "packed field ends inside a varint");
    *count = c;
    return SLATE_OK;
}

/* other_field() through a copy of p, as in rd_varint(). */
#ifndef __OPTIMIZE_SIZE__
#define OTHER_FIELD(names) other_field_at(d, &p, end, tag, tag_at, NNAMES(names))
static inline CHECK slate_status other_field_at(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                                uint32_t tag, const uint8_t *tag_at,
                                                uint32_t nnames)
{
    const uint8_t *q = *pp;
    slate_status st = other_field(d, &q, end, tag, tag_at, nnames);
    *pp = q;
    return st;
}
#else
#define OTHER_FIELD(names) other_field(d, &p, end, tag, tag_at, NNAMES(names))
#endif

/*
 * Each message decoder is one loop over its fields with a switch on the whole
 * tag (field number and wire type): the expected (field, wire type) pairs
 * have their own case; anything else is field number 0 or a known field with
 * the wrong wire type (errors) or an unknown field (skipped).
 */
#define DEC_BEGIN                                                                                  \
    DEC_VARS                                                                                       \
    DEC_LOOP

#define DEC_VARS                                                                                   \
    slate_status st = SLATE_OK;                                                                    \
    uint32_t tag = 0;

#define DEC_LOOP                                                                                   \
    while (p < end) {                                                                              \
        const uint8_t *tag_at = p;                                                                 \
        tag = 0;                                                                                   \
        if ((st = rd_tag(d, &p, end, &tag)) != SLATE_OK)                                           \
            goto fail;                                                                             \
        switch (tag) {

#define DEC_END(names)                                                                             \
    default:                                                                                       \
        if ((st = OTHER_FIELD(names)) != SLATE_OK)                                                 \
            goto fail;                                                                             \
        }                                                                                          \
        }

#define DEC_FAIL(names)                                                                            \
    fail:                                                                                          \
    return fail(d, st, names, NNAMES(names), tag >> 3)

#define CASE_STR(f, dst)                                                                           \
    case TAG(f, WT_LEN):                                                                           \
        if ((st = rd_str(d, &p, end, &(dst))) != SLATE_OK)                                         \
            goto fail;                                                                             \
        break;
#define CASE_U64(f, dst)                                                                           \
    case TAG(f, WT_VARINT):                                                                        \
        if ((st = rd_u64(d, &p, end, &(dst))) != SLATE_OK)                                         \
            goto fail;                                                                             \
        break;
/* A varint read once per message (Drops' counters): no inline word path. */
#define CASE_CNT(f, dst)                                                                           \
    case TAG(f, WT_VARINT):                                                                        \
        if ((st = rd_varint(d, &p, end, &(dst))) != SLATE_OK)                                      \
            goto fail;                                                                             \
        break;
#define CASE_U32(f, dst)                                                                           \
    case TAG(f, WT_VARINT):                                                                        \
        if ((st = rd_u32(d, &p, end, &(dst))) != SLATE_OK)                                         \
            goto fail;                                                                             \
        break;
#define CASE_DBL(f, dst)                                                                           \
    case TAG(f, WT_I64):                                                                           \
        if ((st = rd_double(d, &p, end, &(dst))) != SLATE_OK)                                      \
            goto fail;                                                                             \
        break;

/*
 * In-order prefix (not in size-optimised builds): before its loop, a decoder
 * tries its fields in ascending field number, as encoders write them, each
 * with its one-byte tag compared in place. A field that is absent costs one
 * compare; the first byte that is not the next expected tag (a field out of
 * order or repeated, an unknown field, a longer tag, anything wrong) leaves
 * the rest of the message to the loop, which reads it from there. A field is
 * read by the same code either way, so results and errors do not depend on
 * which path read it.
 */
#ifndef __OPTIMIZE_SIZE__
#define NEXT_IS(t) (p < end && *p == (t))
#define FAST(t, read)                                                                              \
    if (NEXT_IS(t)) {                                                                              \
        tag = (t);                                                                                 \
        p++;                                                                                       \
        if ((st = (read)) != SLATE_OK)                                                             \
            goto fail;                                                                             \
    }
/* A run of elements of a repeated message field; the arguments are a DEC_ELEM() or
 * DEC_POOL_ELEM() (expanded, so passed on as __VA_ARGS__: they hold commas),
 * whose break ends one element. */
#define FAST_ELEMS(t, ...)                                                                         \
    while (NEXT_IS(t)) {                                                                           \
        const uint8_t *tag_at = p;                                                                 \
        tag = (t);                                                                                 \
        p++;                                                                                       \
        do                                                                                         \
            __VA_ARGS__ while (0);                                                                 \
    }
#else
#define FAST(t, read)
#define FAST_ELEMS(t, ...)
#endif
#define FAST_STR(f, dst) FAST(TAG(f, WT_LEN), rd_str(d, &p, end, &(dst)))
#define FAST_U64(f, dst) FAST(TAG(f, WT_VARINT), rd_u64(d, &p, end, &(dst)))
#define FAST_DBL(f, dst) FAST(TAG(f, WT_I64), rd_double(d, &p, end, &(dst)))
#define FAST_U32(f, dst) FAST(TAG(f, WT_VARINT), rd_u32(d, &p, end, &(dst)))
/* A length-delimited field read by fn(d, &p, end, tag_at, dst), a reader
 * that takes its own length prefix and names its tag in errors. */
#define FAST_LEN_BY(fn, f, dst) FAST(TAG(f, WT_LEN), fn(d, &p, end, p - 1, dst))
#define CASE_LEN_BY(fn, f, dst)                                                                    \
    case TAG(f, WT_LEN):                                                                           \
        if ((st = fn(d, &p, end, tag_at, dst)) != SLATE_OK)                                        \
            goto fail;                                                                             \
        break;
/* An embedded LatencyStats; a packed run of hist_counts (dst: the
 * LatencyStats); the elements of a repeated message field (the argument is a
 * DEC_ELEM() or DEC_POOL_ELEM()). */
#define FAST_LAT(f, dst)  FAST_LEN_BY(rd_latency, f, &(dst))
#define CASE_LAT(f, dst)  CASE_LEN_BY(rd_latency, f, &(dst))
#define FAST_HCNT(f, dst) FAST_LEN_BY(rd_hcounts, f, dst)
#define CASE_HCNT(f, dst) CASE_LEN_BY(rd_hcounts, f, dst)
#define FAST_ELEM(f, ...) FAST_ELEMS(TAG(f, WT_LEN), __VA_ARGS__)
#define CASE_ELEM(f, ...)                                                                          \
    case TAG(f, WT_LEN):                                                                           \
        __VA_ARGS__

/*
 * A message's fields are listed once, in ascending field number, as
 * X(kind, field, destination) with kind STR, U64, U32, DBL, LAT, HCNT or
 * ELEM; DEC_FIELDS(LIST) expands the list twice, into the in-order prefix
 * (FAST_FIELD) and into the loop's cases (CASE_FIELD), so the two paths
 * cannot disagree on a field. Cases the list has no kind for follow it.
 */
#define FAST_FIELD(kind, f, ...) FAST_##kind(f, __VA_ARGS__)
#define CASE_FIELD(kind, f, ...) CASE_##kind(f, __VA_ARGS__)
#define DEC_FIELDS(LIST)                                                                           \
    DEC_VARS                                                                                       \
    LIST(FAST_FIELD)                                                                               \
    DEC_LOOP                                                                                       \
    LIST(CASE_FIELD)

static CHECK slate_status too_many(dec_t *d, const uint8_t *at)
{
    return bad(d, SLATE_ECOUNT, at, "more elements than limits.max_repeated");
}

/* A packed run of hist_counts: counted and checked, left in the input. */
HOT CHECK slate_status rd_hcounts(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                  const uint8_t *tag_at, slate_latency_t *o)
{
    const uint8_t *q;
    size_t n;
    uint32_t c;
    slate_status st;
    if ((st = rd_len(d, pp, end, &q, &n)) != SLATE_OK)
        return st;
    if ((st = scan_packed(d, q, n, &c)) != SLATE_OK)
        return st;
    if ((uint64_t)o->hist_len + c > d->max_repeated)
        return too_many(d, tag_at);
    if ((uint64_t)o->hist_len + c > SLATE_HIST_BUCKETS)
        return bad(d, SLATE_ECOUNT, tag_at, "more hist_counts than the 1160 buckets");
    o->hist_len += c;
    return SLATE_OK;
}

static CHECK slate_status dec_latency(dec_t *d, const uint8_t *p, const uint8_t *end,
                                      slate_latency_t *o)
{
#define LATENCY_FIELDS(X)                                                                          \
    X(U64, F_LAT_COUNT, o->count)                                                                  \
    X(U64, F_LAT_SUM, o->sum_ns)                                                                   \
    X(U64, F_LAT_MIN, o->min_ns)                                                                   \
    X(U64, F_LAT_MAX, o->max_ns)                                                                   \
    X(DBL, F_LAT_MEAN, o->mean_ns)                                                                 \
    X(DBL, F_LAT_M2, o->m2)                                                                        \
    X(U32, F_LAT_HOFF, o->hist_offset)                                                             \
    X(HCNT, F_LAT_HCOUNTS, o)
    DEC_FIELDS(LATENCY_FIELDS)
case TAG(F_LAT_HCOUNTS, WT_VARINT): { /* one count, not packed */
    uint64_t v;
    if ((st = rd_varint(d, &p, end, &v)) != SLATE_OK)
        goto fail;
    if ((uint64_t)o->hist_len + 1 > d->max_repeated) {
        st = too_many(d, tag_at);
        goto fail;
    }
    if (o->hist_len + 1u > SLATE_HIST_BUCKETS) {
        st = bad(d, SLATE_ECOUNT, tag_at, "more hist_counts than the 1160 buckets");
        goto fail;
    }
    o->hist_len++;
    break;
}
    DEC_END(names_latency)
    return SLATE_OK;
    DEC_FAIL(names_latency);
}

/* An embedded LatencyStats at q[0..n) (non-repeated: a second occurrence
 * merges into the first). */
static CHECK slate_status dec_latency_field(dec_t *d, const uint8_t *q, size_t n,
                                            const uint8_t *tag_at, slate_latency_t *o)
{
    slate_status st;
    if ((st = enter(d, "latency", 0, false, tag_at)) != SLATE_OK)
        return st;
    st = dec_latency(d, q, q + n, o);
    if (st)
        frame(d, "latency", 0, false);
    leave(d);
    return st;
}

/* A latency field's length and message; tag_at is where its tag is. */
HOT CHECK slate_status rd_latency(dec_t *d, const uint8_t **pp, const uint8_t *end,
                                  const uint8_t *tag_at, slate_latency_t *o)
{
    const uint8_t *q;
    size_t n;
    slate_status st = rd_len(d, pp, end, &q, &n);
    if (st)
        return st;
    return dec_latency_field(d, q, n, tag_at, o);
}

/* Once the whole parent is read (hist_offset is last-wins): the histogram span
 * must fit the buckets. Also records where the counts are. */
static CHECK slate_status finish_latency(dec_t *d, slate_latency_t *l, const uint8_t *start,
                                         const uint8_t *end, uint32_t field)
{
    l->raw_.ptr = start;
    l->raw_.len = (size_t)(end - start);
    l->raw_.field = field;
    l->hist = NULL;
    if ((uint64_t)l->hist_offset + l->hist_len > SLATE_HIST_BUCKETS) {
        slate_status st = bad(d, SLATE_EVALUE, start,
                              "hist_offset + number of hist_counts exceeds the 1160 buckets");
        if (enter(d, "latency", 0, false, start) == SLATE_OK) {
            (void)fail(d, st, names_latency, NNAMES(names_latency), F_LAT_HOFF);
            frame(d, "latency", 0, false);
            leave(d);
        }
        return st;
    }
    return SLATE_OK;
}

static CHECK slate_status dec_inbound(dec_t *d, const uint8_t *p, const uint8_t *end,
                                      slate_inbound_t *o)
{
    const uint8_t *start = p;
#define INBOUND_FIELDS(X)                                                                          \
    X(STR, F_IN_METHOD, o->method)                                                                 \
    X(STR, F_IN_PATH, o->path)                                                                     \
    X(U64, F_IN_REQUESTS, o->requests)                                                             \
    X(DBL, F_IN_RATE, o->rate_rps)                                                                 \
    X(U64, F_IN_INFLIGHT, o->in_flight)                                                            \
    X(LAT, F_IN_LATENCY, o->latency)
    DEC_FIELDS(INBOUND_FIELDS)
    DEC_END(names_inbound)
    return finish_latency(d, &o->latency, start, end, F_IN_LATENCY);
    DEC_FAIL(names_inbound);
}

static CHECK slate_status dec_outbound(dec_t *d, const uint8_t *p, const uint8_t *end,
                                       slate_outbound_t *o)
{
    const uint8_t *start = p;
#define OUTBOUND_FIELDS(X)                                                                         \
    X(STR, F_OUT_SVC, o->dst_service)                                                              \
    X(STR, F_OUT_METHOD, o->method)                                                                \
    X(STR, F_OUT_PATH, o->path)                                                                    \
    X(STR, F_OUT_REGION, o->dst_region)                                                            \
    X(U64, F_OUT_REQUESTS, o->requests)                                                            \
    X(LAT, F_OUT_LATENCY, o->latency)
    DEC_FIELDS(OUTBOUND_FIELDS)
    DEC_END(names_outbound)
    return finish_latency(d, &o->latency, start, end, F_OUT_LATENCY);
    DEC_FAIL(names_outbound);
}

HOT CHECK slate_status dec_eload(dec_t *d, const uint8_t *p, const uint8_t *end,
                                 slate_endpoint_load_t *o)
{
#define ELOAD_FIELDS(X)                                                                            \
    X(STR, F_EL_METHOD, o->method)                                                                 \
    X(STR, F_EL_PATH, o->path)                                                                     \
    X(DBL, F_EL_RPS, o->rps)                                                                       \
    X(U64, F_EL_INFLIGHT, o->in_flight)
    DEC_FIELDS(ELOAD_FIELDS)
    DEC_END(names_eload)
    return SLATE_OK;
    DEC_FAIL(names_eload);
}

/* Clears an element before it is decoded. Not in size-optimised builds: in
 * two halves, which gcc writes as a few vector stores where one memset of a
 * span or an endpoint (144 bytes) becomes a `rep stos`. */
HOT void zero_elem(void *e, size_t n)
{
#ifndef __OPTIMIZE_SIZE__
    memset(e, 0, n / 2);
    memset((char *)e + n / 2, 0, n - n / 2);
#else
    memset(e, 0, n);
#endif
}

/* One element of a repeated message field: bounds, limit, where to store, descend.
 * The element goes to `slot` when `have` holds (both may use `idx`, the index
 * the element gets), else to a scratch that is decoded and dropped, so a
 * counting pass sees every error. `extra` runs before descending, `done` after
 * the element is counted. */
#define DEC_SUB(TYPE, name, n_, have, slot, decfn, extra, done)                                    \
    {                                                                                              \
        const uint8_t *q;                                                                          \
        size_t n;                                                                                  \
        if ((st = rd_len(d, &p, end, &q, &n)) != SLATE_OK)                                         \
            goto fail;                                                                             \
        size_t idx = (n_);                                                                         \
        if (idx >= d->max_repeated) {                                                              \
            st = too_many(d, tag_at);                                                              \
            goto fail;                                                                             \
        }                                                                                          \
        TYPE scratch, *e = (have) ? (slot) : &scratch;                                             \
        zero_elem(e, sizeof *e);                                                                   \
        extra;                                                                                     \
        if ((st = enter(d, name, (uint32_t)idx, true, tag_at)) != SLATE_OK)                        \
            goto fail;                                                                             \
        st = decfn(d, q, q + n, e);                                                                \
        if (st)                                                                                    \
            frame(d, name, (uint32_t)idx, true);                                                   \
        leave(d);                                                                                  \
        if (st)                                                                                    \
            goto fail;                                                                             \
        (n_) = idx + 1;                                                                            \
        done;                                                                                      \
        break;                                                                                     \
    }

/* An element stored in the message's own caller array arr[cap_]. */
#define DEC_ELEM(TYPE, name, arr, n_, cap_, decfn, extra)                                          \
    DEC_SUB(TYPE, name, n_, (arr) && idx < (cap_), (arr) + idx, decfn, extra, (void)0)

/* An element appended to a pool shared by every parent message (a span's
 * loads, a rule's targets): pool[pool_n++] while pool_n < pool_cap. */
#define DEC_POOL_ELEM(TYPE, name, n_, pool, pool_n, pool_cap, decfn)                               \
    DEC_SUB(TYPE, name, n_, (pool) && (pool_n) < (pool_cap), (pool) + (pool_n), decfn, (void)0,    \
            (pool_n)++)

HOT CHECK slate_status dec_span(dec_t *d, const uint8_t *p, const uint8_t *end, slate_span_t *o)
{
    o->raw.ptr = p;
    o->raw.len = (size_t)(end - p);
    o->raw.field = 0;
#define SPAN_FIELDS(X)                                                                             \
    X(STR, F_SP_TRACE, o->trace_id)                                                                \
    X(STR, F_SP_SPAN, o->span_id)                                                                  \
    X(STR, F_SP_PARENT, o->parent_span_id)                                                         \
    X(STR, F_SP_METHOD, o->method)                                                                 \
    X(STR, F_SP_PATH, o->path)                                                                     \
    X(U64, F_SP_START, o->start_ns)                                                                \
    X(U64, F_SP_END, o->end_ns)                                                                    \
    X(U64, F_SP_BODY, o->body_size)                                                                \
    X(ELEM, F_SP_LOAD,                                                                             \
      DEC_POOL_ELEM(slate_endpoint_load_t, "load", o->n_load, d->eload_pool, d->eload_n,           \
                    d->eload_cap, dec_eload))
    DEC_FIELDS(SPAN_FIELDS)
    DEC_END(names_span)
    return SLATE_OK;
    DEC_FAIL(names_span);
}

static CHECK slate_status dec_drops(dec_t *d, const uint8_t *p, const uint8_t *end,
                                    slate_drops_t *o)
{
    DEC_BEGIN
    CASE_CNT(1, o->spans_dropped)
    CASE_CNT(2, o->endpoints_overflowed)
    CASE_CNT(3, o->outbound_overflowed)
    CASE_CNT(4, o->late_stamps)
    CASE_CNT(5, o->post_failed_network)
    CASE_CNT(6, o->post_failed_timeout)
    CASE_CNT(7, o->post_failed_status)
    CASE_CNT(8, o->post_failed_too_large)
    CASE_CNT(9, o->rules_rejected)
    CASE_CNT(10, o->counters_saturated)
    DEC_END(names_drops)
    return SLATE_OK;
    DEC_FAIL(names_drops);
}

static CHECK slate_status dec_report(dec_t *d, const uint8_t *p, const uint8_t *end,
                                     slate_load_report_t *o)
{
#define REPORT_FIELDS(X)                                                                           \
    X(STR, F_RP_SERVICE, o->service)                                                               \
    X(STR, F_RP_REGION, o->region)                                                                 \
    X(STR, F_RP_POD, o->pod)                                                                       \
    X(U64, F_RP_SEQ, o->sequence)                                                                  \
    X(U64, F_RP_TIME, o->time_ns)                                                                  \
    X(U64, F_RP_INTERVAL, o->interval_ns)                                                          \
    X(ELEM, F_RP_INBOUND,                                                                          \
      DEC_ELEM(slate_inbound_t, "inbound", o->inbound, o->n_inbound, o->cap_inbound, dec_inbound,  \
               (void)0))                                                                           \
    X(ELEM, F_RP_OUTBOUND,                                                                         \
      DEC_ELEM(slate_outbound_t, "outbound", o->outbound, o->n_outbound, o->cap_outbound,          \
               dec_outbound, (void)0))                                                             \
    X(ELEM, F_RP_SPANS,                                                                            \
      DEC_ELEM(slate_span_t, "spans", o->spans, o->n_spans, o->cap_spans, dec_span,                \
               e->load = (d->eload_pool && d->eload_n <= d->eload_cap)                             \
                             ? d->eload_pool + d->eload_n                                          \
                             : NULL))
    DEC_FIELDS(REPORT_FIELDS)
case TAG(F_RP_DROPS, WT_LEN): {
    const uint8_t *q;
    size_t n;
    if ((st = rd_len(d, &p, end, &q, &n)) != SLATE_OK)
        goto fail;
    if ((st = enter(d, "drops", 0, false, tag_at)) != SLATE_OK)
        goto fail;
    st = dec_drops(d, q, q + n, &o->drops);
    if (st)
        frame(d, "drops", 0, false);
    leave(d);
    if (st)
        goto fail;
    break;
}
    DEC_END(names_report)
    return SLATE_OK;
    DEC_FAIL(names_report);
}

static CHECK slate_status dec_target(dec_t *d, const uint8_t *p, const uint8_t *end,
                                     slate_route_target_t *o)
{
    DEC_BEGIN
    CASE_STR(F_WR_REGION, o->region)
    CASE_U32(F_WR_WEIGHT, o->weight)
    DEC_END(names_target)
    return SLATE_OK;
    DEC_FAIL(names_target);
}

static CHECK slate_status dec_rule(dec_t *d, const uint8_t *p, const uint8_t *end, slate_rule_t *o)
{
    o->raw.ptr = p;
    o->raw.len = (size_t)(end - p);
    o->raw.field = 0;
    DEC_BEGIN
    CASE_STR(F_RU_SRC_REGION, o->src_region)
    CASE_STR(F_RU_DST_SERVICE, o->dst_service)
    CASE_STR(F_RU_METHOD, o->method)
    CASE_STR(F_RU_PATH, o->path)
    CASE_STR(F_RU_SRC_SERVICE, o->src_service)
    CASE_STR(F_RU_SRC_METHOD, o->src_method)
    CASE_STR(F_RU_SRC_PATH, o->src_path)
case TAG(F_RU_TARGETS, WT_LEN):
    DEC_POOL_ELEM(slate_route_target_t, "targets", o->n_targets, d->target_pool, d->target_n,
                  d->target_cap, dec_target)
    DEC_END(names_rule)
    return SLATE_OK;
    DEC_FAIL(names_rule);
}

static CHECK slate_status dec_rules(dec_t *d, const uint8_t *p, const uint8_t *end,
                                    slate_routing_rules_t *o)
{
    DEC_BEGIN
    CASE_U64(F_RR_VERSION, o->version)
    CASE_U64(F_RR_TTL, o->ttl_ns)
    CASE_U64(F_RR_GENERATED, o->generated_ns)
case TAG(F_RR_RULES, WT_LEN):
    DEC_ELEM(slate_rule_t, "rules", o->rules, o->n_rules, o->cap_rules, dec_rule,
             e->targets = (d->target_pool && d->target_n <= d->target_cap)
                              ? d->target_pool + d->target_n
                              : NULL)
    DEC_END(names_rules)
    return SLATE_OK;
    DEC_FAIL(names_rules);
}

/* Common entry checks: arguments, total size. */
static CHECK slate_status dec_start(dec_t *d, const uint8_t *buf, size_t len,
                                    const slate_codec_limits_t *lim, slate_codec_error_t *err,
                                    const char *root)
{
    err_clear(err);
    dec_init(d, buf ? buf : (const uint8_t *)"", buf ? len : 0, lim, err, root);
    uint32_t max_size = lim && lim->max_size ? lim->max_size : SLATE_CODEC_DEFAULT_MAX_SIZE;
    if (len > max_size) {
        d->at = d->base;
        d->detail = "input larger than limits.max_size";
        return dec_finish(d, fail(d, SLATE_ELENGTH, NULL, 0, 0));
    }
    return SLATE_OK;
}

static slate_status arg_error(slate_codec_error_t *err, const char *root, const char *detail)
{
    err_clear(err);
    err->status = SLATE_EINVAL;
    err->detail = detail;
    size_t n = strlen(root);
    memcpy(err->path, root, n + 1);
    return SLATE_EINVAL;
}

static slate_status short_array(slate_codec_error_t *err, const char *root, const char *field)
{
    err->status = SLATE_ENOSPC;
    err->offset = 0;
    err->detail = "a caller array is too small; the n_* fields hold the counts needed";
    sbuf_t b = {err->path, SLATE_CODEC_PATH_CAP, 0};
    sb_str(&b, root);
    sb_str(&b, ".");
    sb_str(&b, field);
    return SLATE_ENOSPC;
}

slate_status slate_load_report_decode(slate_load_report_t *m, const uint8_t *buf, size_t len,
                                      const slate_codec_limits_t *lim, slate_codec_error_t *err)
{
    slate_codec_error_t local;
    if (!err)
        err = &local;
    if (!m || (!buf && len))
        return arg_error(err, "LoadReport", "NULL message or buffer");
    slate_load_report_t keep = *m;
    memset(m, 0, sizeof *m);
    m->inbound = keep.inbound;
    m->cap_inbound = keep.inbound ? keep.cap_inbound : 0;
    m->outbound = keep.outbound;
    m->cap_outbound = keep.outbound ? keep.cap_outbound : 0;
    m->spans = keep.spans;
    m->cap_spans = keep.spans ? keep.cap_spans : 0;
    m->span_loads = keep.span_loads;
    m->cap_span_loads = keep.span_loads ? keep.cap_span_loads : 0;

    dec_t d;
    slate_status st = dec_start(&d, buf, len, lim, err, "LoadReport");
    if (st)
        return st;
    d.eload_pool = m->span_loads;
    d.eload_cap = m->cap_span_loads;
    m->raw.ptr = d.base;
    m->raw.len = len;
    m->raw.field = 0;
    st = dec_finish(&d, dec_report(&d, d.base, d.input_end, m));
    m->n_span_loads = d.eload_n;
    if (st)
        return st;
    if (m->inbound && m->n_inbound > m->cap_inbound)
        return short_array(err, "LoadReport", "inbound");
    if (m->outbound && m->n_outbound > m->cap_outbound)
        return short_array(err, "LoadReport", "outbound");
    if (m->spans && m->n_spans > m->cap_spans)
        return short_array(err, "LoadReport", "spans");
    if (m->span_loads && m->n_span_loads > m->cap_span_loads)
        return short_array(err, "LoadReport", "span_loads");
    return SLATE_OK;
}

slate_status slate_routing_rules_decode(slate_routing_rules_t *m, const uint8_t *buf, size_t len,
                                        const slate_codec_limits_t *lim, slate_codec_error_t *err)
{
    slate_codec_error_t local;
    if (!err)
        err = &local;
    if (!m || (!buf && len))
        return arg_error(err, "RoutingRules", "NULL message or buffer");
    slate_routing_rules_t keep = *m;
    memset(m, 0, sizeof *m);
    m->rules = keep.rules;
    m->cap_rules = keep.rules ? keep.cap_rules : 0;
    m->targets = keep.targets;
    m->cap_targets = keep.targets ? keep.cap_targets : 0;

    dec_t d;
    slate_status st = dec_start(&d, buf, len, lim, err, "RoutingRules");
    if (st)
        return st;
    d.target_pool = m->targets;
    d.target_cap = m->cap_targets;
    m->raw.ptr = d.base;
    m->raw.len = len;
    m->raw.field = 0;
    st = dec_finish(&d, dec_rules(&d, d.base, d.input_end, m));
    m->n_targets = d.target_n;
    if (st)
        return st;
    if (m->rules && m->n_rules > m->cap_rules)
        return short_array(err, "RoutingRules", "rules");
    if (m->targets && m->n_targets > m->cap_targets)
        return short_array(err, "RoutingRules", "targets");
    return SLATE_OK;
}

/* ------------------------------------------------------------------------- */
/* Pull iteration. */

void slate_codec_iter_init(slate_codec_iter_t *it, slate_codec_view_t view)
{
    if (!it)
        return;
    it->ptr = view.ptr;
    it->len = view.ptr ? view.len : 0;
    it->pos = 0;
    it->index = 0;
    it->field = view.field;
    it->status = SLATE_OK;
}

/* Finds the next occurrence of `field` (length-delimited) from it->pos. */
static bool iter_find(slate_codec_iter_t *it, uint32_t field, dec_t *d, slate_codec_error_t *err,
                      const char *root, const uint8_t **q, size_t *n)
{
    if (!it || !it->ptr || it->status != SLATE_OK || it->pos >= it->len)
        return false;
    dec_init(d, it->ptr, it->len, NULL, err, root);
    err_clear(err);
    d->max_depth = UINT32_MAX;
    d->max_repeated = UINT32_MAX;
    d->max_string = UINT32_MAX;
    const uint8_t *p = it->ptr + it->pos, *end = it->ptr + it->len;
    while (p < end) {
        uint32_t tag;
        const uint8_t *at = p;
        slate_status st = rd_tag(d, &p, end, &tag);
        if (st == SLATE_OK && tag == TAG(field, WT_LEN)) {
            st = rd_len(d, &p, end, q, n);
            if (st == SLATE_OK) {
                it->pos = (size_t)(p - it->ptr);
                return true;
            }
        } else if (st == SLATE_OK) {
            st = other_field(d, &p, end, tag, at, 0);
        }
        if (st) {
            it->status = st;
            it->pos = it->len;
            return false;
        }
    }
    it->pos = it->len;
    return false;
}

#define ITER_NEXT(field, root, TYPE, decfn)                                                        \
    do {                                                                                           \
        dec_t d;                                                                                   \
        slate_codec_error_t err;                                                                   \
        const uint8_t *q;                                                                          \
        size_t n;                                                                                  \
        if (!out || !iter_find(it, field, &d, &err, root, &q, &n))                                 \
            return false;                                                                          \
        memset(out, 0, sizeof *out);                                                               \
        slate_status st = decfn(&d, q, q + n, out);                                                \
        if (st) {                                                                                  \
            it->status = st;                                                                       \
            it->pos = it->len;                                                                     \
            return false;                                                                          \
        }                                                                                          \
        it->index++;                                                                               \
        return true;                                                                               \
    } while (0)

bool slate_load_report_next_inbound(slate_codec_iter_t *it, slate_inbound_t *out)
{
    ITER_NEXT(F_RP_INBOUND, "LoadReport.inbound", slate_inbound_t, dec_inbound);
}

bool slate_load_report_next_outbound(slate_codec_iter_t *it, slate_outbound_t *out)
{
    ITER_NEXT(F_RP_OUTBOUND, "LoadReport.outbound", slate_outbound_t, dec_outbound);
}

bool slate_load_report_next_span(slate_codec_iter_t *it, slate_span_t *out)
{
    ITER_NEXT(F_RP_SPANS, "LoadReport.spans", slate_span_t, dec_span);
}

bool slate_span_next_load(slate_codec_iter_t *it, slate_endpoint_load_t *out)
{
    ITER_NEXT(F_SP_LOAD, "Span.load", slate_endpoint_load_t, dec_eload);
}

bool slate_routing_rules_next_rule(slate_codec_iter_t *it, slate_rule_t *out)
{
    ITER_NEXT(F_RR_RULES, "RoutingRules.rules", slate_rule_t, dec_rule);
}

bool slate_rule_next_target(slate_codec_iter_t *it, slate_route_target_t *out)
{
    ITER_NEXT(F_RU_TARGETS, "Rule.targets", slate_route_target_t, dec_target);
}

/* ------------------------------------------------------------------------- */
/* Latency statistics. */

void slate_latency_from_stats(slate_latency_t *l, const slate_stats_t *s)
{
    if (!l)
        return;
    memset(l, 0, sizeof *l);
    if (!s)
        return;
    l->count = s->count;
    l->sum_ns = s->sum_ns;
    l->min_ns = s->min_ns;
    l->max_ns = s->max_ns;
    l->mean_ns = s->mean_ns;
    l->m2 = s->m2;
    uint32_t first = 0, last = SLATE_HIST_BUCKETS;
    while (first < SLATE_HIST_BUCKETS && s->hist[first] == 0)
        first++;
    if (first == SLATE_HIST_BUCKETS)
        return;
    while (last > first && s->hist[last - 1] == 0)
        last--;
    l->hist_offset = first;
    l->hist_len = last - first;
    l->hist = s->hist + first;
}

/* Appends the varints of one LatencyStats' hist_counts (packed or not) to out. */
static CHECK slate_status hist_from_latency_bytes(const uint8_t *p, const uint8_t *end,
                                                  uint32_t *out, uint32_t cap, uint32_t *k)
{
    dec_t d;
    slate_codec_error_t err;
    dec_init(&d, p, (size_t)(end - p), NULL, &err, "");
    while (p < end) {
        uint32_t tag;
        const uint8_t *at = p;
        uint64_t v;
        slate_status st = rd_tag(&d, &p, end, &tag);
        if (st)
            return st;
        if (tag == TAG(F_LAT_HCOUNTS, WT_LEN)) {
            const uint8_t *q;
            size_t n;
            if ((st = rd_len(&d, &p, end, &q, &n)) != SLATE_OK)
                return st;
            const uint8_t *qe = q + n;
            while (q < qe) {
                if ((st = rd_varint(&d, &q, qe, &v)) != SLATE_OK)
                    return st;
                if (*k >= cap)
                    return SLATE_ECORRUPT;
                out[(*k)++] = (uint32_t)v;
            }
        } else if (tag == TAG(F_LAT_HCOUNTS, WT_VARINT)) {
            if ((st = rd_varint(&d, &p, end, &v)) != SLATE_OK)
                return st;
            if (*k >= cap)
                return SLATE_ECORRUPT;
            out[(*k)++] = (uint32_t)v;
        } else if ((st = other_field(&d, &p, end, tag, at, 0)) != SLATE_OK) {
            return st;
        }
    }
    return SLATE_OK;
}

/* The hist_len counts of a latency, from `hist` or from the input it was decoded from. */
static CHECK slate_status hist_collect(const slate_latency_t *l, uint32_t *out)
{
    if (l->hist_len == 0)
        return SLATE_OK;
    if (l->hist) {
        memcpy(out, l->hist, (size_t)l->hist_len * sizeof *out);
        return SLATE_OK;
    }
    const slate_codec_view_t *v = &l->raw_;
    if (!v->ptr)
        return SLATE_ECORRUPT;
    uint32_t k = 0;
    slate_status st;
    if (v->field == 0) {
        st = hist_from_latency_bytes(v->ptr, v->ptr + v->len, out, l->hist_len, &k);
    } else {
        dec_t d;
        slate_codec_error_t err;
        dec_init(&d, v->ptr, v->len, NULL, &err, "");
        const uint8_t *p = v->ptr, *end = v->ptr + v->len;
        st = SLATE_OK;
        while (p < end && st == SLATE_OK) {
            uint32_t tag;
            const uint8_t *at = p;
            if ((st = rd_tag(&d, &p, end, &tag)) != SLATE_OK)
                break;
            if (tag == TAG(v->field, WT_LEN)) {
                const uint8_t *q;
                size_t n;
                if ((st = rd_len(&d, &p, end, &q, &n)) == SLATE_OK)
                    st = hist_from_latency_bytes(q, q + n, out, l->hist_len, &k);
            } else {
                st = other_field(&d, &p, end, tag, at, 0);
            }
        }
    }
    if (st)
        return SLATE_ECORRUPT;
    return k == l->hist_len ? SLATE_OK : SLATE_ECORRUPT;
}

slate_status slate_latency_to_stats(const slate_latency_t *l, slate_stats_t *out)
{
    if (!l || !out)
        return SLATE_EINVAL;
    if ((uint64_t)l->hist_offset + l->hist_len > SLATE_HIST_BUCKETS)
        return SLATE_EVALUE;
    memset(out, 0, sizeof *out);
    out->count = l->count;
    out->sum_ns = l->sum_ns;
    out->min_ns = l->min_ns;
    out->max_ns = l->max_ns;
    out->mean_ns = l->mean_ns;
    out->m2 = l->m2;
    return hist_collect(l, out->hist + l->hist_offset);
}

/* ------------------------------------------------------------------------- */
/* Encoding: written back to front (see the file comment). */

typedef struct enc {
    uint8_t *buf;
    size_t room;  /* free bytes in front of what is written */
    size_t total; /* bytes produced so far (written or only counted) */
    pstack_t ps;
    slate_codec_error_t *err;
} enc_t;

static inline void put(enc_t *e, const void *src, size_t n)
{
    e->total += n;
    if (n <= e->room) {
        if (n) {
            e->room -= n;
            memcpy(e->buf + e->room, src, n);
        }
    } else {
        e->room = 0; /* out of room: from now on only count */
    }
}

static inline void put_byte(enc_t *e, uint8_t b)
{
    e->total++;
    if (e->room)
        e->buf[--e->room] = b;
}

static inline size_t varint_len(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return 1 + (size_t)((63 - __builtin_clzll(v | 1)) / 7);
#else
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
#endif
}

static inline void put_varint(enc_t *e, uint64_t v)
{
    if (v < 0x80) {
        put_byte(e, (uint8_t)v);
        return;
    }
    size_t n = varint_len(v);
    e->total += n;
    if (n > e->room) {
        e->room = 0; /* out of room: from now on only count */
        return;
    }
    e->room -= n;
    uint8_t *p = e->buf + e->room;
    for (size_t i = 0; i + 1 < n; i++) {
        p[i] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n - 1] = (uint8_t)v;
}

static inline void put_tag(enc_t *e, uint32_t field, uint32_t wt)
{
    put_varint(e, TAG(field, wt));
}

static inline void put_fixed64(enc_t *e, uint64_t u)
{
    e->total += 8;
    if (8 > e->room) {
        e->room = 0;
        return;
    }
    e->room -= 8;
    uint8_t *p = e->buf + e->room;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static inline void put_u64_field(enc_t *e, uint32_t field, uint64_t v)
{
    if (v) {
        put_varint(e, v);
        put_tag(e, field, WT_VARINT);
    }
}

static inline void put_double_field(enc_t *e, uint32_t field, double v)
{
    uint64_t u = dbits(v);
    if (u) { /* proto3: only +0.0 is the default; -0.0 is sent */
        put_fixed64(e, u);
        put_tag(e, field, WT_I64);
    }
}

static slate_status enc_fail(enc_t *e, slate_status st, const char *detail,
                             const char *const *names, uint32_t nnames, uint32_t field)
{
    slate_codec_error_t *err = e->err;
    if (err->status == SLATE_OK) {
        err->status = st;
        err->offset = 0;
        err->detail = detail;
        build_path(err, &e->ps, names, nnames, field);
    }
    return st;
}

static inline CHECK slate_status put_str_field(enc_t *e, uint32_t field, slate_str_t s,
                                               const char *const *names, uint32_t nnames)
{
    if (s.len == 0)
        return SLATE_OK;
    if (!s.ptr)
        return enc_fail(e, SLATE_EINVAL, "string with a NULL pointer and a non-zero length", names,
                        nnames, field);
    if (!utf8_valid((const uint8_t *)s.ptr, s.len))
        return enc_fail(e, SLATE_EUTF8, "string is not valid UTF-8", names, nnames, field);
    put(e, s.ptr, s.len);
    put_varint(e, s.len);
    put_tag(e, field, WT_LEN);
    return SLATE_OK;
}

static inline void enc_enter(enc_t *e, const char *name, size_t index, bool indexed)
{
    if (e->ps.depth < PSTACK_CAP) {
        e->ps.e[e->ps.depth].name = name;
        e->ps.e[e->ps.depth].index = (uint32_t)index;
        e->ps.e[e->ps.depth].indexed = indexed;
    }
    e->ps.depth++;
}

/* Closes a nested message that started when e->total was `mark`. */
static inline void enc_close(enc_t *e, size_t mark, uint32_t field)
{
    put_varint(e, e->total - mark);
    put_tag(e, field, WT_LEN);
    e->ps.depth--;
}

#define STR(field, s, names)                                                                       \
    do {                                                                                           \
        slate_status st_ = put_str_field(e, field, s, names, NNAMES(names));                       \
        if (st_)                                                                                   \
            return st_;                                                                            \
    } while (0)

static bool latency_empty(const slate_latency_t *l)
{
    return l->count == 0 && l->sum_ns == 0 && l->min_ns == 0 && l->max_ns == 0 &&
           dbits(l->mean_ns) == 0 && dbits(l->m2) == 0 && l->hist_offset == 0 && l->hist_len == 0;
}

static CHECK slate_status enc_latency(enc_t *e, const slate_latency_t *l, uint32_t field)
{
    if (latency_empty(l))
        return SLATE_OK;
    size_t mark = e->total;
    enc_enter(e, "latency", 0, false);
    if ((uint64_t)l->hist_offset + l->hist_len > SLATE_HIST_BUCKETS)
        return enc_fail(e, SLATE_EVALUE, "hist_offset + hist_len exceeds the 1160 buckets",
                        names_latency, NNAMES(names_latency), F_LAT_HOFF);
    if (l->hist_len) {
        const uint32_t *h = l->hist;
        uint32_t tmp[SLATE_HIST_BUCKETS];
        if (!h) {
            if (hist_collect(l, tmp) != SLATE_OK)
                return enc_fail(e, SLATE_EINVAL,
                                "hist is NULL and the counts cannot be read from the input",
                                names_latency, NNAMES(names_latency), F_LAT_HCOUNTS);
            h = tmp;
        }
        size_t hmark = e->total;
        for (uint32_t k = l->hist_len; k-- > 0;)
            put_varint(e, h[k]);
        put_varint(e, e->total - hmark);
        put_tag(e, F_LAT_HCOUNTS, WT_LEN);
    }
    put_u64_field(e, F_LAT_HOFF, l->hist_offset);
    put_double_field(e, F_LAT_M2, l->m2);
    put_double_field(e, F_LAT_MEAN, l->mean_ns);
    put_u64_field(e, F_LAT_MAX, l->max_ns);
    put_u64_field(e, F_LAT_MIN, l->min_ns);
    put_u64_field(e, F_LAT_SUM, l->sum_ns);
    put_u64_field(e, F_LAT_COUNT, l->count);
    enc_close(e, mark, field);
    return SLATE_OK;
}

static CHECK slate_status enc_inbound(enc_t *e, const slate_inbound_t *o)
{
    slate_status st = enc_latency(e, &o->latency, F_IN_LATENCY);
    if (st)
        return st;
    put_u64_field(e, F_IN_INFLIGHT, o->in_flight);
    put_double_field(e, F_IN_RATE, o->rate_rps);
    put_u64_field(e, F_IN_REQUESTS, o->requests);
    STR(F_IN_PATH, o->path, names_inbound);
    STR(F_IN_METHOD, o->method, names_inbound);
    return SLATE_OK;
}

static CHECK slate_status enc_outbound(enc_t *e, const slate_outbound_t *o)
{
    slate_status st = enc_latency(e, &o->latency, F_OUT_LATENCY);
    if (st)
        return st;
    put_u64_field(e, F_OUT_REQUESTS, o->requests);
    STR(F_OUT_REGION, o->dst_region, names_outbound);
    STR(F_OUT_PATH, o->path, names_outbound);
    STR(F_OUT_METHOD, o->method, names_outbound);
    STR(F_OUT_SVC, o->dst_service, names_outbound);
    return SLATE_OK;
}

static CHECK slate_status enc_eload(enc_t *e, const slate_endpoint_load_t *o)
{
    put_u64_field(e, F_EL_INFLIGHT, o->in_flight);
    put_double_field(e, F_EL_RPS, o->rps);
    STR(F_EL_PATH, o->path, names_eload);
    STR(F_EL_METHOD, o->method, names_eload);
    return SLATE_OK;
}

static CHECK slate_status enc_span(enc_t *e, const slate_span_t *o)
{
    if (o->n_load && !o->load)
        return enc_fail(e, SLATE_EINVAL, "load is NULL with n_load > 0", names_span,
                        NNAMES(names_span), F_SP_LOAD);
    for (size_t i = o->n_load; i-- > 0;) {
        size_t mark = e->total;
        enc_enter(e, "load", i, true);
        slate_status st = enc_eload(e, &o->load[i]);
        if (st)
            return st;
        enc_close(e, mark, F_SP_LOAD);
    }
    put_u64_field(e, F_SP_BODY, o->body_size);
    put_u64_field(e, F_SP_END, o->end_ns);
    put_u64_field(e, F_SP_START, o->start_ns);
    STR(F_SP_PATH, o->path, names_span);
    STR(F_SP_METHOD, o->method, names_span);
    STR(F_SP_PARENT, o->parent_span_id, names_span);
    STR(F_SP_SPAN, o->span_id, names_span);
    STR(F_SP_TRACE, o->trace_id, names_span);
    return SLATE_OK;
}

static void enc_drops(enc_t *e, const slate_drops_t *o)
{
    const uint64_t v[10] = {o->spans_dropped,      o->endpoints_overflowed,  o->outbound_overflowed,
                            o->late_stamps,        o->post_failed_network,   o->post_failed_timeout,
                            o->post_failed_status, o->post_failed_too_large, o->rules_rejected,
                            o->counters_saturated};
    bool any = false;
    for (int i = 0; i < 10; i++)
        any |= v[i] != 0;
    if (!any)
        return;
    size_t mark = e->total;
    enc_enter(e, "drops", 0, false);
    for (uint32_t i = 10; i-- > 0;)
        put_u64_field(e, i + 1, v[i]);
    enc_close(e, mark, F_RP_DROPS);
}

#define ENC_ARRAY(arr, n_, name, field, encfn, names)                                              \
    do {                                                                                           \
        if ((n_) && !(arr))                                                                        \
            return enc_fail(e, SLATE_EINVAL, "array is NULL with a non-zero count", names,         \
                            NNAMES(names), field);                                                 \
        for (size_t i = (n_); i-- > 0;) {                                                          \
            size_t mark = e->total;                                                                \
            enc_enter(e, name, i, true);                                                           \
            slate_status st_ = encfn(e, &(arr)[i]);                                                \
            if (st_)                                                                               \
                return st_;                                                                        \
            enc_close(e, mark, field);                                                             \
        }                                                                                          \
    } while (0)

static CHECK slate_status enc_report(enc_t *e, const slate_load_report_t *m)
{
    enc_drops(e, &m->drops);
    ENC_ARRAY(m->spans, m->n_spans, "spans", F_RP_SPANS, enc_span, names_report);
    ENC_ARRAY(m->outbound, m->n_outbound, "outbound", F_RP_OUTBOUND, enc_outbound, names_report);
    ENC_ARRAY(m->inbound, m->n_inbound, "inbound", F_RP_INBOUND, enc_inbound, names_report);
    put_u64_field(e, F_RP_INTERVAL, m->interval_ns);
    put_u64_field(e, F_RP_TIME, m->time_ns);
    put_u64_field(e, F_RP_SEQ, m->sequence);
    STR(F_RP_POD, m->pod, names_report);
    STR(F_RP_REGION, m->region, names_report);
    STR(F_RP_SERVICE, m->service, names_report);
    return SLATE_OK;
}

static CHECK slate_status enc_target(enc_t *e, const slate_route_target_t *o)
{
    put_u64_field(e, F_WR_WEIGHT, o->weight);
    STR(F_WR_REGION, o->region, names_target);
    return SLATE_OK;
}

static CHECK slate_status enc_rule(enc_t *e, const slate_rule_t *o)
{
    STR(F_RU_SRC_PATH, o->src_path, names_rule);
    STR(F_RU_SRC_METHOD, o->src_method, names_rule);
    STR(F_RU_SRC_SERVICE, o->src_service, names_rule);
    ENC_ARRAY(o->targets, o->n_targets, "targets", F_RU_TARGETS, enc_target, names_rule);
    STR(F_RU_PATH, o->path, names_rule);
    STR(F_RU_METHOD, o->method, names_rule);
    STR(F_RU_DST_SERVICE, o->dst_service, names_rule);
    STR(F_RU_SRC_REGION, o->src_region, names_rule);
    return SLATE_OK;
}

static CHECK slate_status enc_rules(enc_t *e, const slate_routing_rules_t *m)
{
    ENC_ARRAY(m->rules, m->n_rules, "rules", F_RR_RULES, enc_rule, names_rules);
    put_u64_field(e, F_RR_GENERATED, m->generated_ns);
    put_u64_field(e, F_RR_TTL, m->ttl_ns);
    put_u64_field(e, F_RR_VERSION, m->version);
    return SLATE_OK;
}

static void enc_init(enc_t *e, uint8_t *buf, size_t cap, slate_codec_error_t *err, const char *root)
{
    e->buf = buf;
    e->room = cap;
    e->total = 0;
    e->err = err;
    e->ps.depth = 1;
    e->ps.e[0].name = root;
    e->ps.e[0].indexed = false;
    err_clear(err);
}

/* Moves a finished encoding to the front, or reports the size needed. */
static slate_status enc_finish(enc_t *e, slate_status st, size_t cap, size_t *len, const char *root)
{
    if (st) {
        *len = 0;
        return st;
    }
    *len = e->total;
    if (e->total > cap) {
        e->err->status = SLATE_ENOSPC;
        e->err->offset = 0;
        e->err->detail = "buffer too small; *len is the size needed";
        sbuf_t b = {e->err->path, SLATE_CODEC_PATH_CAP, 0};
        sb_str(&b, root);
        return SLATE_ENOSPC;
    }
    if (e->total && e->room)
        memmove(e->buf, e->buf + e->room, e->total);
    return SLATE_OK;
}

slate_status slate_load_report_encode(const slate_load_report_t *m, uint8_t *buf, size_t cap,
                                      size_t *len, slate_codec_error_t *err)
{
    slate_codec_error_t local;
    if (!err)
        err = &local;
    if (!m || !len || (!buf && cap))
        return arg_error(err, "LoadReport", "NULL message, length or buffer");
    enc_t e;
    enc_init(&e, buf, cap, err, "LoadReport");
    return enc_finish(&e, enc_report(&e, m), cap, len, "LoadReport");
}

slate_status slate_routing_rules_encode(const slate_routing_rules_t *m, uint8_t *buf, size_t cap,
                                        size_t *len, slate_codec_error_t *err)
{
    slate_codec_error_t local;
    if (!err)
        err = &local;
    if (!m || !len || (!buf && cap))
        return arg_error(err, "RoutingRules", "NULL message, length or buffer");
    enc_t e;
    enc_init(&e, buf, cap, err, "RoutingRules");
    return enc_finish(&e, enc_rules(&e, m), cap, len, "RoutingRules");
}

/* ------------------------------------------------------------------------- */
/* Delimited streams */

slate_status slate_delimited_next(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **msg,
                                  size_t *msg_len)
{
    if (!pos || !msg || !msg_len || (!buf && len > 0) || *pos > len)
        return SLATE_EINVAL;
    if (*pos == len)
        return SLATE_EEMPTY;
    uint64_t n = 0;
    int truncated = 0;
    size_t k = slate_wire_get_varint(buf + *pos, len - *pos, &n, &truncated);
    if (k == 0)
        return truncated ? SLATE_ETRUNCATED : SLATE_EVARINT;
    if (n > len - *pos - k)
        return SLATE_ELENGTH;
    *msg = buf + *pos + k;
    *msg_len = (size_t)n;
    *pos += k + (size_t)n;
    return SLATE_OK;
}

size_t slate_delimited_prefix(size_t msg_len, uint8_t out[SLATE_DELIMITED_PREFIX_MAX])
{
    return slate_wire_put_varint(out, (uint64_t)msg_len);
}

slate_status slate_delimited_put(uint8_t *out, size_t cap, size_t *pos, const uint8_t *msg,
                                 size_t msg_len)
{
    if (!out || !pos || (!msg && msg_len > 0) || *pos > cap)
        return SLATE_EINVAL;
    uint8_t pre[SLATE_DELIMITED_PREFIX_MAX];
    size_t k = slate_wire_put_varint(pre, (uint64_t)msg_len);
    if (k > cap - *pos || msg_len > cap - *pos - k)
        return SLATE_ENOSPC;
    memcpy(out + *pos, pre, k);
    if (msg_len)
        memcpy(out + *pos + k, msg, msg_len);
    *pos += k + msg_len;
    return SLATE_OK;
}
