/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Endpoint keys, trace-id sampling, and trace context header parsers.
 *
 * Security note: every function here reads only inside (pointer, length)
 * pairs given by the caller, never relies on NUL termination, never writes
 * past its fixed stack buffer (lengths are bounded before copying), and
 * returns views only inside the input.
 */
#include "slate/key.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "hash.h"

/* Canonical string: three u16 lengths plus the bounded fields. */
#define KEY_BUF (2 + SLATE_KEY_MAX_NAME + 2 + SLATE_KEY_MAX_NAME + 2 + SLATE_KEY_MAX_PATH)
_Static_assert(SLATE_KEY_MAX_NAME <= 0xffffu && SLATE_KEY_MAX_PATH <= 0xffffu,
               "lengths fit the u16 prefixes");

/* ------------------------------------------------------------------------- */
/* Byte classes: the per-request parsers below take one table lookup per byte. */

enum {
    C_DIGIT = 1,   /* 0-9 */
    C_HEX = 2,     /* 0-9 a-f A-F */
    C_ALPHA = 4,   /* a-z A-Z */
    C_TOKEN = 8,   /* 0-9 a-z A-Z _ - */
    C_ESCAPE = 16, /* escaped in a normalised path (see below) */
    C_QUERY = 32,  /* ? # : where the query string or the fragment starts */
    C_SLASH = 64,  /* / */
    C_NUL = 128,   /* NUL */
};

static const unsigned char byte_class[256] = {
    144, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16,  16, 16, 16, 16, 16, 16, 16, 16, 0,  16, 32, 0,  0,  0,  0,  0,  0,  0,  0,  16, 8,  0,  64,
    11,  11, 11, 11, 11, 11, 11, 11, 11, 11, 0,  0,  0,  0,  0,  32, 0,  14, 14, 14, 14, 14, 14, 12,
    12,  12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 0,  16, 0,  0,  8,
    0,   14, 14, 14, 14, 14, 14, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12,  12, 12, 0,  0,  0,  0,  16, 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,   0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,   0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,   0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,   0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,   0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

/* Value of a hex digit (either case), 16 for any other byte. */
static const unsigned char hex_value[256] = {
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  16, 16, 16, 16, 16, 16, 16, 10, 11, 12, 13, 14, 15, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
};

size_t slate_path_len(const char *path, size_t len)
{
    if (!path)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (byte_class[(unsigned char)path[i]] & C_QUERY)
            return i;
    return len;
}

/* ------------------------------------------------------------------------- */
/* Path normalisation.                                                        */

static int is_uuid(const unsigned char *s, size_t n)
{
    if (n != 36)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!(byte_class[s[i]] & C_HEX)) {
            return 0;
        }
    }
    return 1;
}

/* The id rules of slate_path_normalize(), over one segment of n bytes whose
 * classes ANDed are `all` and ORed are `any`. */
static int looks_like_id(const unsigned char *s, size_t n, unsigned all, unsigned any)
{
    if (n == 0)
        return 0;
    if (all & C_DIGIT)
        return 1;
    if (is_uuid(s, n))
        return 1;
    if ((all & C_HEX) && n >= 12 && (any & C_DIGIT))
        return 1;
    return (all & C_TOKEN) && n >= 20 && (any & C_DIGIT) && (any & C_ALPHA);
}

/* C_ESCAPE marks the bytes that would break the text formats paths travel in
 * (SLATE's space- and comma-separated bodies, YAML, Prometheus labels, JSON):
 * bytes up to 0x20, ',', '"', '\\' and 0x7f. */

#define PATH_MARK_LEN (sizeof(SLATE_PATH_TRUNC_MARK) - 1)
/* A cut keeps segments that end at or before this, so the marker fits after. */
#define PATH_KEEP (SLATE_KEY_MAX_PATH - PATH_MARK_LEN)
_Static_assert(SLATE_KEY_MAX_PATH > PATH_MARK_LEN + 4, "room for a segment and the marker");

slate_status slate_path_normalize(const char *path, size_t len, char *out, size_t cap,
                                  size_t *out_len)
{
    static const char hexd[] = "0123456789ABCDEF";
    if (!out_len || (!path && len) || (!out && cap))
        return SLATE_EINVAL;
    /* "" for NULL: no pointer arithmetic on a null pointer below. */
    const unsigned char *p = (const unsigned char *)(path ? path : "");
    /* Built in a local buffer so that out is untouched on SLATE_ENOSPC. */
    char buf[SLATE_KEY_MAX_PATH];
    size_t o = 0, keep = 0;
    size_t i = (len > 0 && p[0] == '/') ? 1 : 0;
    for (;;) {
        /* One pass over the segment: where it ends, and its bytes' classes.
         * The path ends at the first '?', '#' or NUL. */
        size_t seg_end = i;
        unsigned all = 0xff, any = 0, c = 0;
        while (seg_end < len) {
            c = byte_class[p[seg_end]];
            if (c & (C_SLASH | C_QUERY | C_NUL))
                break;
            all &= c;
            any |= c;
            seg_end++;
        }
        const unsigned char *seg = p + i;
        size_t n = seg_end - i;
        if (o <= PATH_KEEP)
            keep = o; /* a cut may end here */
        if (o + 1 > SLATE_KEY_MAX_PATH)
            goto cut;
        buf[o++] = '/';
        if (looks_like_id(seg, n, all, any)) {
            if (o + 4 > SLATE_KEY_MAX_PATH)
                goto cut;
            memcpy(buf + o, "{id}", 4);
            o += 4;
        } else if (!(any & C_ESCAPE)) {
            if (o + n > SLATE_KEY_MAX_PATH)
                goto cut;
            memcpy(buf + o, seg, n);
            o += n;
        } else {
            for (size_t k = 0; k < n; k++) {
                unsigned char b = seg[k];
                if (!(byte_class[b] & C_ESCAPE)) {
                    if (o + 1 > SLATE_KEY_MAX_PATH)
                        goto cut;
                    buf[o++] = (char)b;
                } else {
                    if (o + 3 > SLATE_KEY_MAX_PATH)
                        goto cut;
                    buf[o++] = '%';
                    buf[o++] = hexd[b >> 4];
                    buf[o++] = hexd[b & 15];
                }
            }
        }
        if (seg_end >= len || !(c & C_SLASH))
            goto done;
        i = seg_end + 1;
    }
cut:
    memcpy(buf + keep, SLATE_PATH_TRUNC_MARK, PATH_MARK_LEN);
    o = keep + PATH_MARK_LEN;
done:
    if (cap < o + 1) {
        *out_len = o + 1;
        return SLATE_ENOSPC;
    }
    memcpy(out, buf, o);
    out[o] = '\0';
    *out_len = o;
    return SLATE_OK;
}

/* ------------------------------------------------------------------------- */
/* Endpoint keys.                                                             */

static unsigned char *put_field(unsigned char *p, const char *s, size_t n, int lower)
{
    p[0] = (unsigned char)n;
    p[1] = (unsigned char)(n >> 8);
    p += 2;
    if (!lower) {
        if (n)
            memcpy(p, s, n);
        return p + n;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        p[i] = c;
    }
    return p + n;
}

slate_status slate_endpoint_key(const char *service, size_t service_len, const char *method,
                                size_t method_len, const char *path, size_t path_len, uint64_t *key,
                                unsigned *flags)
{
    if (!key || (!service && service_len) || (!method && method_len) || (!path && path_len))
        return SLATE_EINVAL;
    if (service_len > SLATE_KEY_MAX_NAME || method_len > SLATE_KEY_MAX_NAME)
        return SLATE_ERANGE;
    /* Cut at '?' or '#', looking no further than one byte past the bound:
     * if none of the first MAX_PATH + 1 bytes is one, the stripped path is
     * longer than the bound whatever follows. */
    size_t scan = path_len < SLATE_KEY_MAX_PATH + 1 ? path_len : SLATE_KEY_MAX_PATH + 1;
    size_t plen = slate_path_len(path, scan);
    unsigned fl = 0;
    if (plen > SLATE_KEY_MAX_PATH) {
        plen = SLATE_KEY_MAX_PATH;
        fl = SLATE_KEY_PATH_TRUNCATED;
    }
    unsigned char buf[KEY_BUF];
    unsigned char *p = buf;
    p = put_field(p, service, service_len, 1);
    p = put_field(p, method, method_len, 0);
    p = put_field(p, path, plen, 0);
    *key = XXH3_64bits(buf, (size_t)(p - buf));
    if (flags)
        *flags = fl;
    return SLATE_OK;
}

/* Eight bytes as a little-endian u64 (byte 0 lowest): one load where the
 * compiler can tell the byte order. */
static uint64_t load_le64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
#else
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
#endif
}

#define BYTES8(b) (0x0101010101010101ull * (b))

/* Eight hex digits at once (SWAR), the first one most significant. Each
 * byte's high bit is set in *bad unless it is a hex digit of either case.
 * Bytes are compared in 7 bits (a byte >= 0x80 is bad anyway), so the sums
 * below never carry into the next byte. */
static uint32_t hex8(uint64_t x, uint64_t *bad)
{
    const uint64_t high = BYTES8(0x80);
    uint64_t x7 = x & BYTES8(0x7f);
    uint64_t digit = (x7 + BYTES8(0x80 - '0')) & ~(x7 + BYTES8(0x80 - '9' - 1)) & high;
    uint64_t lower = x7 | BYTES8(0x20);
    uint64_t alpha = (lower + BYTES8(0x80 - 'a')) & ~(lower + BYTES8(0x80 - 'f' - 1)) & high;
    *bad |= (x & high) | ((digit | alpha) ^ high);
    uint64_t v = (x & BYTES8(0x0f)) + (alpha >> 7) * 9; /* each byte its digit's value */
    v = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffull;  /* pairs of digits */
    v = ((v << 8) | (v >> 16)) & 0x0000ffff0000ffffull; /* fours */
    return (uint32_t)((v << 16) | (v >> 32));           /* eight */
}

static uint64_t hex16(const unsigned char *s, uint64_t *bad)
{
    uint64_t a = hex8(load_le64(s), bad);
    return (a << 32) | hex8(load_le64(s + 8), bad);
}

static int is_lowerhex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

slate_status slate_trace_id_parse(const char *hex, size_t len, slate_trace_id_t *out)
{
    if (!out || (!hex && len))
        return SLATE_EINVAL;
    if (len == 0 || len > SLATE_TRACE_ID_MAX_HEX)
        return SLATE_ETRACEID;
    /* The last 16 digits make lo, the ones before them hi (per-request path:
     * no 128-bit shift per digit). */
    uint64_t hi = 0, lo = 0;
    if (len == 16 || len == 32) {
        /* The lengths B3 and W3C use: sixteen digits at a time. */
        const unsigned char *u = (const unsigned char *)hex;
        uint64_t bad8 = 0;
        if (len == 32) {
            hi = hex16(u, &bad8);
            u += 16;
        }
        lo = hex16(u, &bad8);
        if (bad8 || (hi | lo) == 0)
            return SLATE_ETRACEID;
        out->hi = hi;
        out->lo = lo;
        return SLATE_OK;
    }
    unsigned bad = 0; /* bit 4 set by any non-hex byte (value 16) */
    size_t split = len > 16 ? len - 16 : 0, i = 0;
    for (; i < split; i++) {
        unsigned v = hex_value[(unsigned char)hex[i]];
        bad |= v;
        hi = (hi << 4) | (v & 15);
    }
    for (; i < len; i++) {
        unsigned v = hex_value[(unsigned char)hex[i]];
        bad |= v;
        lo = (lo << 4) | (v & 15);
    }
    if ((bad & 16) || (hi | lo) == 0)
        return SLATE_ETRACEID;
    out->hi = hi;
    out->lo = lo;
    return SLATE_OK;
}

static void store_be64(unsigned char *b, uint64_t v)
{
    b[0] = (unsigned char)(v >> 56);
    b[1] = (unsigned char)(v >> 48);
    b[2] = (unsigned char)(v >> 40);
    b[3] = (unsigned char)(v >> 32);
    b[4] = (unsigned char)(v >> 24);
    b[5] = (unsigned char)(v >> 16);
    b[6] = (unsigned char)(v >> 8);
    b[7] = (unsigned char)v;
}

uint64_t slate_trace_hash(const slate_trace_id_t *id)
{
    unsigned char b[16];
    store_be64(b, id->hi);
    store_be64(b + 8, id->lo);
    return XXH3_64bits(b, sizeof b);
}

slate_status slate_trace_decide(const char *hex, size_t len, double rate, int *sampled)
{
    if (!sampled)
        return SLATE_EINVAL;
    if (!(rate >= 0.0 && rate <= 1.0)) /* also catches NaN */
        return SLATE_ERANGE;
    slate_trace_id_t id;
    slate_status st = slate_trace_id_parse(hex, len, &id);
    if (st != SLATE_OK)
        return st;
    if (rate >= 1.0) {
        *sampled = 1;
        return SLATE_OK;
    }
    /* 0 <= rate < 1, so rate * 2^64 < 2^64 and the conversion is defined. */
    uint64_t threshold = (uint64_t)(rate * 18446744073709551616.0);
    *sampled = slate_trace_hash(&id) < threshold;
    return SLATE_OK;
}

/* Eight hex digits' value, the first most significant, without checking
 * that they are hex digits: for '0'-'9', 'a'-'f' and 'A'-'F' it is hex8()'s
 * value (a letter has bit 6 set, a digit has not, and the low nibble of
 * 'a'/'A' is 1). Any other byte gives some value. */
static uint32_t hex8_unchecked(uint64_t x)
{
    uint64_t v = (x & BYTES8(0x0f)) + ((x >> 6) & BYTES8(0x01)) * 9;
    v = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffull;
    v = ((v << 8) | (v >> 16)) & 0x0000ffff0000ffffull;
    return (uint32_t)((v << 16) | (v >> 32));
}

int slate_trace_sampled(const char *hex, size_t len, double rate)
{
    /* Most ids are not sampled. For the lengths B3 and W3C use, the id's
     * value is read without checking its digits and hashed; only when that
     * hash is under the threshold is the id parsed and checked in full
     * (slate_trace_decide()). The answer is the same: a valid id's value is
     * the one slate_trace_decide() hashes, and an id that is not valid is
     * never sampled, whatever its unchecked hash. */
    if (hex && (len == 16 || len == 32) && rate >= 0.0 && rate < 1.0) {
        const unsigned char *u = (const unsigned char *)hex;
        slate_trace_id_t id = {0, 0};
        if (len == 32) {
            id.hi = (uint64_t)hex8_unchecked(load_le64(u)) << 32 | hex8_unchecked(load_le64(u + 8));
            u += 16;
        }
        id.lo = (uint64_t)hex8_unchecked(load_le64(u)) << 32 | hex8_unchecked(load_le64(u + 8));
        if (slate_trace_hash(&id) >= (uint64_t)(rate * 18446744073709551616.0))
            return 0;
    }
    int sampled = 0;
    if (slate_trace_decide(hex, len, rate, &sampled) != SLATE_OK)
        return 0;
    return sampled;
}

/* ---- header parsers ---- */

/* 1 if s[0..n) are all lowercase hex digits. */
static int all_lowerhex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_lowerhex((unsigned char)s[i]))
            return 0;
    return 1;
}

static int all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return 0;
    return 1;
}

/* Trim spaces and tabs at both ends. */
static void trim(const char **s, size_t *len)
{
    while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

slate_status slate_traceparent_child(const slate_trace_ctx_t *ctx, uint64_t span_id, char *out,
                                     size_t cap)
{
    static const char hexd[] = "0123456789abcdef";
    if (!ctx || !out || !ctx->trace_id || ctx->trace_id_len != 32 || cap < SLATE_TRACEPARENT_LEN)
        return SLATE_EINVAL;
    if (span_id == 0)
        return SLATE_ETRACEID;
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    memcpy(out + 3, ctx->trace_id, 32);
    out[35] = '-';
    for (int i = 0; i < 16; i++)
        out[36 + i] = hexd[(span_id >> (60 - 4 * i)) & 0xf];
    out[52] = '-';
    out[53] = hexd[ctx->flags >> 4];
    out[54] = hexd[ctx->flags & 0xf];
    return SLATE_OK;
}

static slate_status fail(slate_trace_ctx_t *out, slate_status st)
{
    memset(out, 0, sizeof *out);
    return st;
}

slate_status slate_traceparent_parse(const char *s, size_t len, slate_trace_ctx_t *out)
{
    if (!out)
        return SLATE_EINVAL;
    if (!s)
        return fail(out, SLATE_EINVAL);
    trim(&s, &len);
    /* "vv-" 3, trace id 32, '-' 1, parent id 16, '-' 1, flags 2 = 55 */
    if (len < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return fail(out, SLATE_EINVAL);
    if (!all_lowerhex(s, 2) || !all_lowerhex(s + 3, 32) || !all_lowerhex(s + 36, 16) ||
        !all_lowerhex(s + 53, 2))
        return fail(out, SLATE_EINVAL);
    uint8_t version =
        (uint8_t)(hex_value[(unsigned char)s[0]] << 4 | hex_value[(unsigned char)s[1]]);
    if (version == 0xff)
        return fail(out, SLATE_EINVAL);
    if (version == 0 ? len != 55 : (len > 55 && s[55] != '-'))
        return fail(out, SLATE_EINVAL);
    if (all_zero(s + 3, 32) || all_zero(s + 36, 16))
        return fail(out, SLATE_ETRACEID);
    memset(out, 0, sizeof *out);
    out->version = version;
    out->flags = (uint8_t)(hex_value[(unsigned char)s[53]] << 4 | hex_value[(unsigned char)s[54]]);
    out->trace_id = s + 3;
    out->trace_id_len = 32;
    out->span_id = s + 36;
    out->span_id_len = 16;
    out->sampled = out->flags & 1;
    return SLATE_OK;
}

/* B3 sampling state: '0', '1' or 'd'; sets sampled/debug, returns 0 if not one. */
static int b3_sampling(char c, slate_trace_ctx_t *out)
{
    switch (c) {
    case '0':
        out->sampled = 0;
        return 1;
    case '1':
        out->sampled = 1;
        return 1;
    case 'd':
        out->sampled = 1;
        out->debug = 1;
        return 1;
    default:
        return 0;
    }
}

slate_status slate_b3_parse(const char *s, size_t len, slate_trace_ctx_t *out)
{
    if (!out)
        return SLATE_EINVAL;
    if (!s)
        return fail(out, SLATE_EINVAL);
    trim(&s, &len);
    memset(out, 0, sizeof *out);
    out->sampled = -1;
    if (len == 1) {
        if (!b3_sampling(s[0], out))
            return fail(out, SLATE_EINVAL);
        out->flags = (uint8_t)out->sampled;
        return SLATE_OK;
    }
    /* Trace id: 16 or 32 digits, then '-'. */
    size_t tlen;
    if (len >= 33 && s[16] == '-')
        tlen = 16;
    else if (len >= 49 && s[32] == '-')
        tlen = 32;
    else
        return fail(out, SLATE_EINVAL);
    if (!all_lowerhex(s, tlen))
        return fail(out, SLATE_EINVAL);
    size_t pos = tlen + 1;
    if (len - pos < 16 || !all_lowerhex(s + pos, 16))
        return fail(out, SLATE_EINVAL);
    out->trace_id = s;
    out->trace_id_len = tlen;
    out->span_id = s + pos;
    out->span_id_len = 16;
    pos += 16;
    if (pos < len) {
        /* "-<sampling>" */
        if (len - pos < 2 || s[pos] != '-' || !b3_sampling(s[pos + 1], out))
            return fail(out, SLATE_EINVAL);
        pos += 2;
        if (pos < len) {
            /* "-<parent span id>", which must end the value */
            if (len - pos != 17 || s[pos] != '-' || !all_lowerhex(s + pos + 1, 16))
                return fail(out, SLATE_EINVAL);
            out->parent_span_id = s + pos + 1;
            out->parent_span_id_len = 16;
        }
    }
    if (all_zero(out->trace_id, tlen) || all_zero(out->span_id, 16) ||
        (out->parent_span_id && all_zero(out->parent_span_id, 16)))
        return fail(out, SLATE_ETRACEID);
    out->flags = out->sampled == 1 ? 1 : 0;
    return SLATE_OK;
}

uint64_t slate_hash64(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

uint64_t slate_hash64_seed(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}
