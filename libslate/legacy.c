/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * SLATE's plain-text bodies <-> the codec.h structs. See include/slate/legacy.h
 * for the formats (and the SLATE code that writes and reads each of them).
 */
#include "slate/legacy.h"

#include <string.h>

#include "legacy_num.h"

/* ------------------------------------------------------------------------- */
/* Limits */

typedef struct {
    uint32_t max_repeated, max_string, max_size;
} limits_t;

static limits_t resolve_limits(const slate_codec_limits_t *lim)
{
    limits_t l = {SLATE_CODEC_DEFAULT_MAX_REPEATED, SLATE_CODEC_DEFAULT_MAX_STRING,
                  SLATE_CODEC_DEFAULT_MAX_SIZE};
    if (lim) {
        if (lim->max_repeated)
            l.max_repeated = lim->max_repeated;
        if (lim->max_string)
            l.max_string = lim->max_string;
        if (lim->max_size)
            l.max_size = lim->max_size;
    }
    return l;
}

/* ------------------------------------------------------------------------- */
/* Error paths: a tiny bounded appender (no printf: locale-free, small on wasm) */

typedef struct {
    char *p;
    size_t cap, n;
} sbuf_t;

static void sb_str(sbuf_t *b, const char *s)
{
    while (*s) {
        if (b->n + 1 < b->cap)
            b->p[b->n++] = *s;
        s++;
    }
    b->p[b->n] = '\0';
}

static void sb_u64(sbuf_t *b, uint64_t v)
{
    char tmp[24];
    size_t n = slate_lnum_fmt_u64(tmp, v);
    tmp[n] = '\0';
    sb_str(b, tmp);
}

static void err_clear(slate_codec_error_t *err)
{
    if (err) {
        err->status = SLATE_OK;
        err->offset = 0;
        err->detail = "";
        err->path[0] = '\0';
    }
}

/* An encoder error: path "name[index].field" (index omitted when SIZE_MAX). */
static slate_status enc_fail(slate_codec_error_t *err, slate_status st, const char *name,
                             size_t index, const char *name2, size_t index2, const char *field,
                             const char *detail)
{
    if (err) {
        sbuf_t b = {err->path, sizeof err->path, 0};
        err->status = st;
        err->offset = 0;
        err->detail = detail;
        err->path[0] = '\0';
        sb_str(&b, name);
        if (index != SIZE_MAX) {
            sb_str(&b, "[");
            sb_u64(&b, index);
            sb_str(&b, "]");
        }
        if (name2) {
            sb_str(&b, ".");
            sb_str(&b, name2);
            if (index2 != SIZE_MAX) {
                sb_str(&b, "[");
                sb_u64(&b, index2);
                sb_str(&b, "]");
            }
        }
        if (field) {
            sb_str(&b, ".");
            sb_str(&b, field);
        }
    }
    return st;
}

/* ------------------------------------------------------------------------- */
/* Lines and decode context */

typedef struct {
    const char *p; /* first byte of the line */
    size_t n;      /* length without "\n" and a "\r" before it */
    unsigned no;   /* 1-based line number */
} line_t;

typedef struct {
    const char *body;
    size_t len, pos;
    unsigned no;
} lines_t;

static int next_line(lines_t *it, line_t *ln)
{
    if (it->pos >= it->len)
        return 0;
    const char *start = it->body + it->pos;
    size_t rest = it->len - it->pos;
    const char *nl = memchr(start, '\n', rest);
    size_t n = nl ? (size_t)(nl - start) : rest;
    it->pos += nl ? n + 1 : n;
    it->no++;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    ln->p = start;
    ln->n = n;
    ln->no = it->no;
    return 1;
}

typedef struct {
    slate_codec_error_t *err;
    const char *body;
    limits_t lim;
} dctx_t;

/* A decode error at `at` in line `ln`, field `field` (0: none) called `name`. */
static slate_status dfail(const dctx_t *c, slate_status st, const line_t *ln, const char *at,
                          unsigned field, const char *name, const char *detail)
{
    if (c->err) {
        slate_codec_error_t *e = c->err;
        sbuf_t b = {e->path, sizeof e->path, 0};
        e->status = st;
        e->offset = (size_t)(at - c->body);
        e->detail = detail;
        e->path[0] = '\0';
        sb_str(&b, "line ");
        sb_u64(&b, ln->no);
        sb_str(&b, ", col ");
        sb_u64(&b, (uint64_t)(at - ln->p) + 1);
        if (field) {
            sb_str(&b, ", field ");
            sb_u64(&b, field);
        }
        if (name) {
            sb_str(&b, " (");
            sb_str(&b, name);
            sb_str(&b, ")");
        }
    }
    return st;
}

/* ------------------------------------------------------------------------- */
/* String checks shared by decoders and encoders */

/* Index of the first byte that breaks UTF-8 (overlong, surrogate, > U+10FFFF,
 * truncated), or n. */
static size_t utf8_bad(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return i;
        }
        if (n - i - 1 < need)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return i;
        i += need + 1;
    }
    return n;
}

/* Byte classes: one table lookup per byte instead of a search per byte. */
enum {
    C_CTL = 1,   /* control character: 0x00-0x1f, 0x7f */
    C_SP = 2,    /* ' ' */
    C_AT = 4,    /* '@' */
    C_COMMA = 8, /* ',' */
    C_BAR = 16,  /* '|' */
    C_WS = 32,   /* what SLATE's plugin trims around rule fields: ' ' \t \v \f \r */
    C_HI = 64    /* 0x80-0xff: part of a multi-byte UTF-8 sequence */
};

static const unsigned char byte_class[256] = {
    1,  1,  1,  1,  1,  1,  1,  1,  1,  33, 1,  33, 33, 33, 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
    1,  1,  1,  1,  1,  1,  1,  1,  34, 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  8,  0,  0,  0,
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  4,  0,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  16, 0,  0,  1,  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
};

/* Separators a field may not hold (control characters never). */
#define NO_SPACE   C_SP
#define NO_ENTRY   (C_SP | C_AT | C_COMMA | C_BAR) /* method / path of a load entry */
#define NO_RULE_EP (C_SP | C_AT | C_COMMA)         /* parts of a rule's endpoints */
#define NO_RULE_RG (C_SP | C_COMMA)                /* a rule's regions */

/* Decoder check of one field. */
static slate_status dcheck(const dctx_t *c, const line_t *ln, unsigned field, const char *name,
                           const char *p, size_t n, int forbid, int need_nonempty)
{
    if (n == 0 && need_nonempty)
        return dfail(c, SLATE_ESYNTAX, ln, p, field, name, "required field is empty");
    if (n > c->lim.max_string)
        return dfail(c, SLATE_ESTRLEN, ln, p, field, name,
                     "field longer than limits.max_string bytes");
    unsigned bad_mask = (unsigned)forbid | C_CTL, seen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned k = byte_class[(unsigned char)p[i]];
        seen |= k;
        if (k & bad_mask)
            return dfail(c, SLATE_ESYNTAX, ln, p + i, field, name,
                         (k & C_CTL) ? "control character in a field"
                                     : "separator character inside a field");
    }
    if (seen & C_HI) {
        size_t bad = utf8_bad((const unsigned char *)p, n);
        if (bad != n)
            return dfail(c, SLATE_EUTF8, ln, p + bad, field, name, "field is not valid UTF-8");
    }
    return SLATE_OK;
}

/* Encoder check of one string: SLATE_EINVAL, SLATE_EVALUE or SLATE_EUTF8 with a detail. */
static slate_status echeck(slate_str_t s, int forbid, int need_nonempty, const char **detail)
{
    if (s.len > 0 && !s.ptr) {
        *detail = "string with a NULL pointer and a non-zero length";
        return SLATE_EINVAL;
    }
    if (s.len == 0) {
        if (need_nonempty) {
            *detail = "required string is empty";
            return SLATE_EVALUE;
        }
        return SLATE_OK;
    }
    unsigned seen = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned k = byte_class[(unsigned char)s.ptr[i]];
        seen |= k;
        if (k & C_CTL) {
            *detail = "string holds a control character the text cannot carry";
            return SLATE_EVALUE;
        }
        if (k & (unsigned)forbid) {
            *detail = "string holds a separator of SLATE's text (space, '@', ',' or '|')";
            return SLATE_EVALUE;
        }
    }
    if ((seen & C_HI) && utf8_bad((const unsigned char *)s.ptr, s.len) != s.len) {
        *detail = "string is not valid UTF-8";
        return SLATE_EUTF8;
    }
    return SLATE_OK;
}

static int str_eq(slate_str_t a, const char *p, size_t n)
{
    return a.len == n && (n == 0 || memcmp(a.ptr, p, n) == 0);
}

static int str_eq2(slate_str_t a, slate_str_t b)
{
    return str_eq(a, b.ptr, b.len);
}

static slate_str_t view(const char *p, size_t n)
{
    slate_str_t s;
    s.ptr = p;
    s.len = n;
    return s;
}

/* ------------------------------------------------------------------------- */
/* Numbers in fields */

static slate_status dnum_u64(const dctx_t *c, const line_t *ln, unsigned field, const char *name,
                             const char *p, size_t n, uint64_t *out)
{
    if (n > c->lim.max_string)
        return dfail(c, SLATE_ESTRLEN, ln, p, field, name,
                     "field longer than limits.max_string bytes");
    if (slate_lnum_u64(p, n, out) != SLATE_OK)
        return dfail(c, SLATE_ENUMBER, ln, p, field, name,
                     "not a decimal integer in 0..18446744073709551615");
    return SLATE_OK;
}

/* A decimal in units of 10^-6 (exact, half-even). */
static slate_status dnum_micro(const dctx_t *c, const line_t *ln, unsigned field, const char *name,
                               const char *p, size_t n, uint64_t max, const char *detail,
                               uint64_t *out)
{
    if (n > c->lim.max_string)
        return dfail(c, SLATE_ESTRLEN, ln, p, field, name,
                     "field longer than limits.max_string bytes");
    if (slate_lnum_decimal(p, n, 6, max, out) != SLATE_OK)
        return dfail(c, SLATE_ENUMBER, ln, p, field, name, detail);
    return SLATE_OK;
}

/* ------------------------------------------------------------------------- */
/* Field splitting */

typedef struct {
    const char *p;
    size_t n;
} field_t;

/* Split on every `sep` (no collapsing: "a  b" has an empty middle field).
 * Stores at most `max` fields and returns how many there are. */
static size_t split(const char *p, size_t n, char sep, field_t *f, size_t max)
{
    size_t nf = 0, start = 0;
    for (;;) {
        const char *hit = start < n ? memchr(p + start, sep, n - start) : NULL;
        size_t end = hit ? (size_t)(hit - p) : n;
        if (nf < max) {
            f[nf].p = p + start;
            f[nf].n = end - start;
        }
        nf++;
        if (!hit)
            return nf;
        start = end + 1;
    }
}

/* ------------------------------------------------------------------------- */
/* Load lists: "method@path,rps,in_flight|..." */

typedef struct {
    slate_str_t method, path;
    uint64_t rps, in_flight;
} lentry_t;

static slate_status parse_entry(const dctx_t *c, const line_t *ln, unsigned field, const char *p,
                                size_t n, lentry_t *e)
{
    if (n == 0)
        return dfail(c, SLATE_ESYNTAX, ln, p, field, "load list",
                     "empty entry in a load list (\"||\" or a leading '|')");
    /* Fast path, one pass: plain bytes, one '@' then two ','. Anything else
     * takes the checked path below, which accepts exactly the same entries
     * and names the error of the others. */
    size_t at = 0, c1 = 0, c2 = 0;
    unsigned n_at = 0, n_comma = 0, seen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned k = byte_class[(unsigned char)p[i]];
        if (k) {
            seen |= k;
            if (k == C_COMMA) {
                if (n_comma == 0)
                    c1 = i;
                else if (n_comma == 1)
                    c2 = i;
                n_comma++;
            } else if (k == C_AT) {
                at = i;
                n_at++;
            }
        }
    }
    if ((seen & ~(unsigned)(C_AT | C_COMMA)) == 0 && n_comma == 2 && n_at == 1 && at > 0 &&
        at + 1 < c1 && at <= c->lim.max_string && c1 - at - 1 <= c->lim.max_string) {
        slate_status st;
        if ((st = dnum_u64(c, ln, field, "load entry rps", p + c1 + 1, c2 - c1 - 1, &e->rps)) !=
                SLATE_OK ||
            (st = dnum_u64(c, ln, field, "load entry in_flight", p + c2 + 1, n - c2 - 1,
                           &e->in_flight)) != SLATE_OK)
            return st;
        e->method = view(p, at);
        e->path = view(p + at + 1, c1 - at - 1);
        return SLATE_OK;
    }
    field_t parts[3];
    size_t np = split(p, n, ',', parts, 3);
    if (np != 3)
        return dfail(c, SLATE_ESYNTAX, ln, p, field, "load entry",
                     "a load entry is method@path,rps,in_flight");
    const char *atp = memchr(parts[0].p, '@', parts[0].n);
    if (!atp)
        return dfail(c, SLATE_ESYNTAX, ln, p, field, "load entry",
                     "a load entry's endpoint is method@path (no '@')");
    size_t mlen = (size_t)(atp - parts[0].p);
    slate_status st;
    if ((st = dcheck(c, ln, field, "load entry method", parts[0].p, mlen, NO_ENTRY, 1)) != SLATE_OK)
        return st;
    if ((st = dcheck(c, ln, field, "load entry path", atp + 1, parts[0].n - mlen - 1, NO_ENTRY,
                     1)) != SLATE_OK)
        return st;
    if ((st = dnum_u64(c, ln, field, "load entry rps", parts[1].p, parts[1].n, &e->rps)) !=
        SLATE_OK)
        return st;
    if ((st = dnum_u64(c, ln, field, "load entry in_flight", parts[2].p, parts[2].n,
                       &e->in_flight)) != SLATE_OK)
        return st;
    e->method = view(parts[0].p, mlen);
    e->path = view(atp + 1, parts[0].n - mlen - 1);
    return SLATE_OK;
}

/* Cursor over the entries of a load list; returns 0 at the end. */
static int next_entry(const char *p, size_t n, size_t *pos, field_t *out)
{
    if (*pos >= n)
        return 0;
    const char *bar = memchr(p + *pos, '|', n - *pos);
    size_t end = bar ? (size_t)(bar - p) : n;
    out->p = p + *pos;
    out->n = end - *pos;
    *pos = bar ? end + 1 : n;
    return 1;
}

/* ------------------------------------------------------------------------- */
/* /proxyLoad */

#define MS_TO_NS 1000000ull

static slate_status parse_span_line(const dctx_t *c, const line_t *ln, slate_load_report_t *rep,
                                    slate_span_t *sp, size_t pool_base, size_t *n_loads)
{
    static const char *const names[11] = {"region",   "service",   "method",         "path",
                                          "trace id", "span id",   "parent span id", "start ms",
                                          "end ms",   "body size", "load list"};
    field_t f[12];
    size_t nf = split(ln->p, ln->n, ' ', f, 12);
    int not_found = nf == 12 && f[10].n == 3 && memcmp(f[10].p, "NOT", 3) == 0 && f[11].n == 5 &&
                    memcmp(f[11].p, "FOUND", 5) == 0;
    if (nf != 11 && !not_found)
        return dfail(c, SLATE_ESYNTAX, ln, ln->p, 0, "span line",
                     nf < 11 ? "a span line has fewer than the 11 space-separated fields "
                               "(region service method path traceId spanId parentSpanId start end "
                               "bodySize loads)"
                             : "a span line has more than the 11 space-separated fields "
                               "(region service method path traceId spanId parentSpanId start end "
                               "bodySize loads)");
    slate_status st;
    for (unsigned i = 0; i < 7; i++) {
        int required = i != 5 && i != 6; /* span id and parent may be empty */
        if ((st = dcheck(c, ln, i + 1, names[i], f[i].p, f[i].n, NO_SPACE, required)) != SLATE_OK)
            return st;
    }
    if (rep->region.len == 0)
        rep->region = view(f[0].p, f[0].n);
    else if (!str_eq(rep->region, f[0].p, f[0].n))
        return dfail(c, SLATE_EVALUE, ln, f[0].p, 1, names[0],
                     "span line's region differs from the report's region");
    if (rep->service.len == 0)
        rep->service = view(f[1].p, f[1].n);
    else if (!str_eq(rep->service, f[1].p, f[1].n))
        return dfail(c, SLATE_EVALUE, ln, f[1].p, 2, names[1],
                     "span line's service differs from the report's service");
    uint64_t start, end, body;
    if ((st = dnum_u64(c, ln, 8, names[7], f[7].p, f[7].n, &start)) != SLATE_OK ||
        (st = dnum_u64(c, ln, 9, names[8], f[8].p, f[8].n, &end)) != SLATE_OK ||
        (st = dnum_u64(c, ln, 10, names[9], f[9].p, f[9].n, &body)) != SLATE_OK)
        return st;
    if (start > UINT64_MAX / MS_TO_NS)
        return dfail(c, SLATE_ENUMBER, ln, f[7].p, 8, names[7],
                     "milliseconds beyond 2^64-1 nanoseconds");
    if (end > UINT64_MAX / MS_TO_NS)
        return dfail(c, SLATE_ENUMBER, ln, f[8].p, 9, names[8],
                     "milliseconds beyond 2^64-1 nanoseconds");
    if (end < start)
        return dfail(c, SLATE_ENUMBER, ln, f[8].p, 9, names[8], "span ends before it starts");

    size_t count = 0;
    if (!not_found) {
        size_t pos = 0;
        field_t ef;
        while (next_entry(f[10].p, f[10].n, &pos, &ef)) {
            lentry_t e;
            if ((st = parse_entry(c, ln, 11, ef.p, ef.n, &e)) != SLATE_OK)
                return st;
            if (count >= c->lim.max_repeated)
                return dfail(c, SLATE_ECOUNT, ln, ef.p, 11, names[10],
                             "more load entries than limits.max_repeated");
            size_t k = pool_base + count;
            if (rep->span_loads && k < rep->cap_span_loads) {
                slate_endpoint_load_t *l = &rep->span_loads[k];
                l->method = e.method;
                l->path = e.path;
                l->rps = (double)e.rps; /* one correct rounding */
                l->in_flight = e.in_flight;
            }
            count++;
        }
    }
    if (sp) {
        sp->trace_id = view(f[4].p, f[4].n);
        sp->span_id = view(f[5].p, f[5].n);
        sp->parent_span_id = view(f[6].p, f[6].n);
        sp->method = view(f[2].p, f[2].n);
        sp->path = view(f[3].p, f[3].n);
        sp->start_ns = start * MS_TO_NS;
        sp->end_ns = end * MS_TO_NS;
        sp->body_size = body;
        sp->n_load = count;
        sp->load = rep->span_loads && pool_base + count <= rep->cap_span_loads
                       ? rep->span_loads + pool_base
                       : NULL;
        memset(&sp->raw, 0, sizeof sp->raw);
    }
    *n_loads = count;
    return SLATE_OK;
}

static slate_status check_body(const dctx_t *c, const char *body, size_t len)
{
    if (len > c->lim.max_size) {
        if (c->err) {
            c->err->status = SLATE_ELENGTH;
            c->err->offset = c->lim.max_size;
            c->err->detail = "body larger than limits.max_size";
            sbuf_t b = {c->err->path, sizeof c->err->path, 0};
            sb_str(&b, "body");
        }
        return SLATE_ELENGTH;
    }
    (void)body;
    return SLATE_OK;
}

static slate_status einval(slate_codec_error_t *err, const char *detail)
{
    return enc_fail(err, SLATE_EINVAL, "arguments", SIZE_MAX, NULL, SIZE_MAX, NULL, detail);
}

slate_status slate_legacy_proxyload_decode(slate_load_report_t *rep, uint64_t *total_requests,
                                           const char *body, size_t len,
                                           const slate_codec_limits_t *lim,
                                           slate_codec_error_t *err)
{
    err_clear(err);
    if (!rep || (!body && len))
        return einval(err, "NULL report, or NULL body with a non-zero length");
    dctx_t c = {err, body, resolve_limits(lim)};
    slate_status st = check_body(&c, body, len);
    if (st != SLATE_OK)
        return st;

    lines_t it = {body, len, 0, 0};
    line_t ln;
    if (!next_line(&it, &ln)) {
        line_t none = {body, 0, 1};
        return dfail(&c, SLATE_ESYNTAX, &none, body, 1, "total requests",
                     "empty body: line 1 (the total request count) is missing");
    }
    uint64_t total;
    if ((st = dnum_u64(&c, &ln, 1, "total requests", ln.p, ln.n, &total)) != SLATE_OK)
        return st;

    size_t n_in = 0;
    if (next_line(&it, &ln)) {
        size_t pos = 0;
        field_t ef;
        while (next_entry(ln.p, ln.n, &pos, &ef)) {
            lentry_t e;
            if ((st = parse_entry(&c, &ln, 0, ef.p, ef.n, &e)) != SLATE_OK)
                return st;
            if (n_in >= c.lim.max_repeated)
                return dfail(&c, SLATE_ECOUNT, &ln, ef.p, 0, "load list",
                             "more load entries than limits.max_repeated");
            if (rep->inbound && n_in < rep->cap_inbound) {
                slate_inbound_t *in = &rep->inbound[n_in];
                memset(in, 0, sizeof *in);
                in->method = e.method;
                in->path = e.path;
                in->requests = e.rps;
                in->rate_rps = (double)e.rps;
                in->in_flight = e.in_flight;
            }
            n_in++;
        }
    }

    size_t n_sp = 0, n_ld = 0;
    while (next_line(&it, &ln)) {
        if (ln.n == 0)
            continue;
        if (n_sp >= c.lim.max_repeated)
            return dfail(&c, SLATE_ECOUNT, &ln, ln.p, 0, "span line",
                         "more span lines than limits.max_repeated");
        slate_span_t *sp = rep->spans && n_sp < rep->cap_spans ? &rep->spans[n_sp] : NULL;
        size_t nl = 0;
        if ((st = parse_span_line(&c, &ln, rep, sp, n_ld, &nl)) != SLATE_OK)
            return st;
        n_ld += nl;
        n_sp++;
    }

    rep->n_inbound = n_in;
    rep->n_spans = n_sp;
    rep->n_span_loads = n_ld;
    rep->n_outbound = 0;
    if (total_requests)
        *total_requests = total;
    if ((rep->inbound && n_in > rep->cap_inbound) || (rep->spans && n_sp > rep->cap_spans) ||
        (rep->span_loads && n_ld > rep->cap_span_loads))
        return enc_fail(err, SLATE_ENOSPC, "report", SIZE_MAX, NULL, SIZE_MAX, NULL,
                        "a caller array is too small; n_inbound, n_spans and n_span_loads are "
                        "the counts needed");
    return SLATE_OK;
}

/* ------------------------------------------------------------------------- */
/* Output */

typedef struct {
    char *buf;
    size_t cap, len;
    int full; /* once something did not fit, nothing more is written */
} wr_t;

static void w_bytes(wr_t *w, const char *p, size_t n)
{
    if (!w->full && w->buf && n <= w->cap - w->len && w->len <= w->cap) {
        if (n)
            memcpy(w->buf + w->len, p, n);
    } else {
        w->full = 1;
    }
    w->len = n > SIZE_MAX - w->len ? SIZE_MAX : w->len + n;
}

static void w_str(wr_t *w, slate_str_t s)
{
    w_bytes(w, s.ptr, s.len);
}

static void w_ch(wr_t *w, char ch)
{
    w_bytes(w, &ch, 1);
}

static void w_u64(wr_t *w, uint64_t v)
{
    char tmp[SLATE_LNUM_BUF];
    w_bytes(w, tmp, slate_lnum_fmt_u64(tmp, v));
}

static slate_status w_finish(wr_t *w, size_t *len)
{
    *len = w->len;
    return w->len > w->cap || (w->len > 0 && !w->buf) || w->full ? SLATE_ENOSPC : SLATE_OK;
}

static slate_status enospc(slate_codec_error_t *err, slate_status st)
{
    if (st == SLATE_ENOSPC)
        enc_fail(err, SLATE_ENOSPC, "output", SIZE_MAX, NULL, SIZE_MAX, NULL,
                 "buffer too small; *len is the size needed");
    return st;
}

/* d / 10^k as written; only called on values validated before. */
static uint64_t scaled(double d, unsigned k)
{
    uint64_t v;
    if (slate_lnum_double_to_scaled(d, k, &v) != SLATE_OK)
        v = 0;
    return v;
}

/* The integer written for a rate (half-even), and when it equals `count`
 * as a double, `count` itself (so counts above 2^53 survive exactly). */
static slate_status rate_value(double rate, const uint64_t *count, uint64_t *out)
{
    if (count && slate_lnum_scaled_to_double(*count, 0) == rate) {
        *out = *count;
        return SLATE_OK;
    }
    return slate_lnum_double_to_scaled(rate, 0, out);
}

slate_status slate_legacy_proxyload_encode(const slate_load_report_t *rep,
                                           const uint64_t *total_requests, char *buf, size_t cap,
                                           size_t *len, slate_codec_error_t *err)
{
    err_clear(err);
    if (!rep || !len)
        return einval(err, "NULL report or NULL len");
    if ((rep->n_inbound && !rep->inbound) || (rep->n_spans && !rep->spans))
        return einval(err, "an array is NULL but its count is not zero");
    const char *detail = "";
    slate_status st;

    /* Validate first, so an error never leaves a half-written buffer unexplained. */
    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        uint64_t v;
        if ((st = echeck(in->method, NO_ENTRY, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "inbound", i, NULL, SIZE_MAX, "method", detail);
        if ((st = echeck(in->path, NO_ENTRY, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "inbound", i, NULL, SIZE_MAX, "path", detail);
        if (rate_value(in->rate_rps, &in->requests, &v) != SLATE_OK)
            return enc_fail(err, SLATE_EVALUE, "inbound", i, NULL, SIZE_MAX, "rate_rps",
                            "rate is NaN, negative, infinite or above 2^64");
    }
    if (rep->n_spans) {
        if ((st = echeck(rep->region, NO_SPACE, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "report", SIZE_MAX, NULL, SIZE_MAX, "region", detail);
        if ((st = echeck(rep->service, NO_SPACE, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "report", SIZE_MAX, NULL, SIZE_MAX, "service", detail);
    }
    for (size_t i = 0; i < rep->n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        static const char *const fname[5] = {"method", "path", "trace_id", "span_id",
                                             "parent_span_id"};
        const slate_str_t *fs[5] = {&sp->method, &sp->path, &sp->trace_id, &sp->span_id,
                                    &sp->parent_span_id};
        for (int k = 0; k < 5; k++)
            if ((st = echeck(*fs[k], NO_SPACE, k < 3, &detail)) != SLATE_OK)
                return enc_fail(err, st, "spans", i, NULL, SIZE_MAX, fname[k], detail);
        if (sp->end_ns < sp->start_ns)
            return enc_fail(err, SLATE_EVALUE, "spans", i, NULL, SIZE_MAX, "end_ns",
                            "span ends before it starts");
        if (sp->n_load && !sp->load)
            return enc_fail(err, SLATE_EINVAL, "spans", i, NULL, SIZE_MAX, "load",
                            "load is NULL but n_load is not zero");
        for (size_t k = 0; k < sp->n_load; k++) {
            const slate_endpoint_load_t *l = &sp->load[k];
            uint64_t v;
            if ((st = echeck(l->method, NO_ENTRY, 1, &detail)) != SLATE_OK)
                return enc_fail(err, st, "spans", i, "load", k, "method", detail);
            if ((st = echeck(l->path, NO_ENTRY, 1, &detail)) != SLATE_OK)
                return enc_fail(err, st, "spans", i, "load", k, "path", detail);
            if (rate_value(l->rps, NULL, &v) != SLATE_OK)
                return enc_fail(err, SLATE_EVALUE, "spans", i, "load", k, "rps",
                                "rate is NaN, negative, infinite or above 2^64");
        }
    }

    wr_t w = {buf, buf ? cap : 0, 0, 0};
    uint64_t total = 0;
    if (total_requests) {
        total = *total_requests;
    } else {
        for (size_t i = 0; i < rep->n_inbound; i++)
            total = rep->inbound[i].requests > UINT64_MAX - total
                        ? UINT64_MAX
                        : total + rep->inbound[i].requests;
    }
    w_u64(&w, total);
    w_ch(&w, '\n');
    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        uint64_t v = 0;
        (void)rate_value(in->rate_rps, &in->requests, &v); /* checked above */
        w_str(&w, in->method);
        w_ch(&w, '@');
        w_str(&w, in->path);
        w_ch(&w, ',');
        w_u64(&w, v);
        w_ch(&w, ',');
        w_u64(&w, in->in_flight);
        w_ch(&w, '|');
    }
    w_ch(&w, '\n');
    for (size_t i = 0; i < rep->n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        w_str(&w, rep->region);
        w_ch(&w, ' ');
        w_str(&w, rep->service);
        w_ch(&w, ' ');
        w_str(&w, sp->method);
        w_ch(&w, ' ');
        w_str(&w, sp->path);
        w_ch(&w, ' ');
        w_str(&w, sp->trace_id);
        w_ch(&w, ' ');
        w_str(&w, sp->span_id);
        w_ch(&w, ' ');
        w_str(&w, sp->parent_span_id);
        w_ch(&w, ' ');
        w_u64(&w, sp->start_ns / MS_TO_NS);
        w_ch(&w, ' ');
        w_u64(&w, sp->end_ns / MS_TO_NS);
        w_ch(&w, ' ');
        w_u64(&w, sp->body_size);
        w_ch(&w, ' ');
        if (sp->n_load == 0)
            w_bytes(&w, "NOT FOUND", 9);
        for (size_t k = 0; k < sp->n_load; k++) {
            const slate_endpoint_load_t *l = &sp->load[k];
            uint64_t v = 0;
            (void)rate_value(l->rps, NULL, &v);
            w_str(&w, l->method);
            w_ch(&w, '@');
            w_str(&w, l->path);
            w_ch(&w, ',');
            w_u64(&w, v);
            w_ch(&w, ',');
            w_u64(&w, l->in_flight);
            w_ch(&w, '|');
        }
        w_ch(&w, '\n');
    }
    return enospc(err, w_finish(&w, len));
}

/* ------------------------------------------------------------------------- */
/* /hillclimbingLatency */

/* Largest avg (ms) and m2 (ms^2) in units of 1e-6: what fits uint64. */
#define MICRO_MAX UINT64_MAX

static void set_latency(slate_latency_t *l, uint64_t count, uint64_t mean_ns_int, double m2)
{
    memset(l, 0, sizeof *l);
    l->count = count;
    l->mean_ns = (double)mean_ns_int; /* one correct rounding; exact below 2^53 ns */
    l->m2 = m2;
    /* sum from the mean as stored (and as re-encoded), so that a mean above
     * 2^53 ns, which the double rounds, still gives the same sum after a
     * round trip */
    uint64_t mean = scaled(l->mean_ns, 0);
    l->sum_ns = count && mean > UINT64_MAX / count ? UINT64_MAX : mean * count;
}

slate_status slate_legacy_latency_decode(slate_load_report_t *rep, const char *body, size_t len,
                                         const slate_codec_limits_t *lim, slate_codec_error_t *err)
{
    err_clear(err);
    if (!rep || (!body && len))
        return einval(err, "NULL report, or NULL body with a non-zero length");
    dctx_t c = {err, body, resolve_limits(lim)};
    slate_status st = check_body(&c, body, len);
    if (st != SLATE_OK)
        return st;

    enum { SEC_NONE, SEC_OUT, SEC_IN } section = SEC_NONE;
    int seen_out = 0, seen_in = 0;
    size_t n_out = 0, n_in = 0;
    lines_t it = {body, len, 0, 0};
    line_t ln;
    while (next_line(&it, &ln)) {
        if (ln.n == 0)
            continue;
        if (ln.n == 8 && memcmp(ln.p, "outbound", 8) == 0) {
            if (seen_out)
                return dfail(&c, SLATE_ESYNTAX, &ln, ln.p, 0, "outbound",
                             "second 'outbound' section");
            seen_out = 1;
            section = SEC_OUT;
            continue;
        }
        if (ln.n == 7 && memcmp(ln.p, "inbound", 7) == 0) {
            if (seen_in)
                return dfail(&c, SLATE_ESYNTAX, &ln, ln.p, 0, "inbound",
                             "second 'inbound' section");
            seen_in = 1;
            section = SEC_IN;
            continue;
        }
        if (section == SEC_NONE)
            return dfail(&c, SLATE_ESYNTAX, &ln, ln.p, 0, NULL,
                         "data line before an 'outbound' or 'inbound' header");
        field_t f[5];
        size_t nf = split(ln.p, ln.n, ' ', f, 5);
        if (nf != 5)
            return dfail(
                &c, SLATE_ESYNTAX, &ln, ln.p, 0, section == SEC_OUT ? "outbound" : "inbound",
                section == SEC_OUT ? "an outbound line has 5 space-separated fields: dst_service "
                                     "method path avg_ms count"
                                   : "an inbound line has 5 space-separated fields: method path "
                                     "avg_ms count m2");
        if (section == SEC_OUT) {
            static const char *const nm[5] = {"dst service", "method", "path", "avg ms", "count"};
            for (unsigned i = 0; i < 3; i++)
                if ((st = dcheck(&c, &ln, i + 1, nm[i], f[i].p, f[i].n, NO_SPACE, 1)) != SLATE_OK)
                    return st;
            uint64_t avg, count;
            if ((st = dnum_micro(&c, &ln, 4, nm[3], f[3].p, f[3].n, MICRO_MAX,
                                 "not a non-negative decimal (ms) below 2^64 ns", &avg)) !=
                    SLATE_OK ||
                (st = dnum_u64(&c, &ln, 5, nm[4], f[4].p, f[4].n, &count)) != SLATE_OK)
                return st;
            if (n_out >= c.lim.max_repeated)
                return dfail(&c, SLATE_ECOUNT, &ln, ln.p, 0, "outbound",
                             "more outbound lines than limits.max_repeated");
            if (rep->outbound && n_out < rep->cap_outbound) {
                slate_outbound_t *o = &rep->outbound[n_out];
                memset(o, 0, sizeof *o);
                o->dst_service = view(f[0].p, f[0].n);
                o->method = view(f[1].p, f[1].n);
                o->path = view(f[2].p, f[2].n);
                o->requests = count;
                set_latency(&o->latency, count, avg, 0.0);
            }
            n_out++;
        } else {
            static const char *const nm[5] = {"method", "path", "avg ms", "count", "m2 ms^2"};
            for (unsigned i = 0; i < 2; i++)
                if ((st = dcheck(&c, &ln, i + 1, nm[i], f[i].p, f[i].n, NO_SPACE, 1)) != SLATE_OK)
                    return st;
            uint64_t avg, count, m2;
            if ((st = dnum_micro(&c, &ln, 3, nm[2], f[2].p, f[2].n, MICRO_MAX,
                                 "not a non-negative decimal (ms) below 2^64 ns", &avg)) !=
                    SLATE_OK ||
                (st = dnum_u64(&c, &ln, 4, nm[3], f[3].p, f[3].n, &count)) != SLATE_OK ||
                (st = dnum_micro(&c, &ln, 5, nm[4], f[4].p, f[4].n, MICRO_MAX,
                                 "not a non-negative decimal (ms^2) below 2^64 * 1e-6", &m2)) !=
                    SLATE_OK)
                return st;
            if (n_in >= c.lim.max_repeated)
                return dfail(&c, SLATE_ECOUNT, &ln, ln.p, 0, "inbound",
                             "more inbound lines than limits.max_repeated");
            if (rep->inbound && n_in < rep->cap_inbound) {
                slate_inbound_t *in = &rep->inbound[n_in];
                memset(in, 0, sizeof *in);
                in->method = view(f[0].p, f[0].n);
                in->path = view(f[1].p, f[1].n);
                /* m2 in 1e-6 ms^2 = 1e6 ns^2 units */
                set_latency(&in->latency, count, avg, slate_lnum_scaled_to_double(m2, 6));
            }
            n_in++;
        }
    }
    rep->n_inbound = n_in;
    rep->n_outbound = n_out;
    rep->n_spans = 0;
    rep->n_span_loads = 0;
    if ((rep->inbound && n_in > rep->cap_inbound) || (rep->outbound && n_out > rep->cap_outbound))
        return enc_fail(err, SLATE_ENOSPC, "report", SIZE_MAX, NULL, SIZE_MAX, NULL,
                        "a caller array is too small; n_inbound and n_outbound are the counts "
                        "needed");
    return SLATE_OK;
}

/* The "method path mean_ms count" part shared by outbound and inbound lines of
 * a /hillclimbingLatency body. */
static void w_call_row(wr_t *w, slate_str_t method, slate_str_t path, const slate_latency_t *lat)
{
    char tmp[SLATE_LNUM_BUF];
    w_str(w, method);
    w_ch(w, ' ');
    w_str(w, path);
    w_ch(w, ' ');
    w_bytes(w, tmp, slate_lnum_fmt_short(tmp, scaled(lat->mean_ns, 0), 6));
    w_ch(w, ' ');
    w_u64(w, lat->count);
}

slate_status slate_legacy_latency_encode(const slate_load_report_t *rep, char *buf, size_t cap,
                                         size_t *len, slate_codec_error_t *err)
{
    err_clear(err);
    if (!rep || !len)
        return einval(err, "NULL report or NULL len");
    if ((rep->n_inbound && !rep->inbound) || (rep->n_outbound && !rep->outbound))
        return einval(err, "an array is NULL but its count is not zero");
    const char *detail = "";
    slate_status st;
    uint64_t v;
    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        if ((st = echeck(o->dst_service, NO_SPACE, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "outbound", i, NULL, SIZE_MAX, "dst_service", detail);
        if ((st = echeck(o->method, NO_SPACE, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "outbound", i, NULL, SIZE_MAX, "method", detail);
        if ((st = echeck(o->path, NO_SPACE, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "outbound", i, NULL, SIZE_MAX, "path", detail);
        if (slate_lnum_double_to_scaled(o->latency.mean_ns, 0, &v) != SLATE_OK)
            return enc_fail(err, SLATE_EVALUE, "outbound", i, "latency", SIZE_MAX, "mean_ns",
                            "mean is NaN, negative, infinite or above 2^64 ns");
    }
    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        if ((st = echeck(in->method, NO_SPACE, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "inbound", i, NULL, SIZE_MAX, "method", detail);
        if ((st = echeck(in->path, NO_SPACE, 1, &detail)) != SLATE_OK)
            return enc_fail(err, st, "inbound", i, NULL, SIZE_MAX, "path", detail);
        if (slate_lnum_double_to_scaled(in->latency.mean_ns, 0, &v) != SLATE_OK)
            return enc_fail(err, SLATE_EVALUE, "inbound", i, "latency", SIZE_MAX, "mean_ns",
                            "mean is NaN, negative, infinite or above 2^64 ns");
        if (slate_lnum_double_to_scaled(in->latency.m2, 6, &v) != SLATE_OK)
            return enc_fail(err, SLATE_EVALUE, "inbound", i, "latency", SIZE_MAX, "m2",
                            "m2 is NaN, negative, infinite or above 1.8e13 ms^2");
    }

    wr_t w = {buf, buf ? cap : 0, 0, 0};
    char tmp[SLATE_LNUM_BUF];
    if (rep->n_outbound)
        w_bytes(&w, "outbound\n", 9);
    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        w_str(&w, o->dst_service);
        w_ch(&w, ' ');
        w_call_row(&w, o->method, o->path, &o->latency);
        w_ch(&w, '\n');
    }
    if (rep->n_inbound)
        w_bytes(&w, "inbound\n", 8);
    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        w_call_row(&w, in->method, in->path, &in->latency);
        w_ch(&w, ' ');
        v = scaled(in->latency.m2, 6);
        w_bytes(&w, tmp, slate_lnum_fmt_fixed(tmp, v, 6));
        w_ch(&w, '\n');
    }
    return enospc(err, w_finish(&w, len));
}

/* ------------------------------------------------------------------------- */
/* Rules */

typedef struct {
    slate_str_t src_service, src_method, src_path;
    slate_str_t dst_service, dst_method, dst_path;
    slate_str_t src_region, dst_region;
    uint32_t weight;
} rline_t;

static field_t trim(field_t f)
{
    while (f.n && (byte_class[(unsigned char)f.p[0]] & C_WS)) {
        f.p++;
        f.n--;
    }
    while (f.n && (byte_class[(unsigned char)f.p[f.n - 1]] & C_WS))
        f.n--;
    return f;
}

static slate_status parse_endpoint(const dctx_t *c, const line_t *ln, unsigned field,
                                   const char *name, field_t f, int src, slate_str_t *svc,
                                   slate_str_t *method, slate_str_t *path)
{
    field_t parts[3];
    size_t np = split(f.p, f.n, '@', parts, 3);
    if (np != 3)
        return dfail(c, SLATE_ESYNTAX, ln, f.p, field, name,
                     "an endpoint is service@method@path (exactly two '@')");
    static const char *const src_nm[3] = {"source service", "source method", "source path"};
    static const char *const dst_nm[3] = {"destination service", "destination method",
                                          "destination path"};
    slate_status st;
    for (unsigned i = 0; i < 3; i++)
        if ((st = dcheck(c, ln, field, src ? src_nm[i] : dst_nm[i], parts[i].p, parts[i].n,
                         NO_RULE_EP, !src)) != SLATE_OK)
            return st;
    *svc = view(parts[0].p, parts[0].n);
    *method = view(parts[1].p, parts[1].n);
    *path = view(parts[2].p, parts[2].n);
    return SLATE_OK;
}

/*
 * Parse one rule line into *r. SLATE's controller writes the lines of one rule
 * one after another, so the text up to the third comma (caller endpoint,
 * destination endpoint, caller region) often repeats the previous line's byte
 * for byte: then *same is set and r keeps the previous line's (already
 * checked) views, and only the destination region and fraction are parsed.
 * `prev` holds that text of the previous line (len 0 before the first).
 */
static slate_status parse_rule_line(const dctx_t *c, const line_t *ln, rline_t *r, field_t *prev,
                                    int *same)
{
    field_t f[5];
    size_t nf = split(ln->p, ln->n, ',', f, 5);
    if (nf != 5)
        return dfail(c, SLATE_ESYNTAX, ln, ln->p, 0, "rule line",
                     "a rule line has 5 comma-separated fields: src_svc@method@path, "
                     "dst_svc@method@path, src_region, dst_region, fraction");
    field_t key = {ln->p, (size_t)(f[2].p + f[2].n - ln->p)};
    *same = prev->n > 0 && prev->n == key.n && memcmp(prev->p, key.p, key.n) == 0;
    for (int i = *same ? 3 : 0; i < 5; i++)
        f[i] = trim(f[i]);
    slate_status st;
    if (!*same) {
        if ((st = parse_endpoint(c, ln, 1, "source endpoint", f[0], 1, &r->src_service,
                                 &r->src_method, &r->src_path)) != SLATE_OK ||
            (st = parse_endpoint(c, ln, 2, "destination endpoint", f[1], 0, &r->dst_service,
                                 &r->dst_method, &r->dst_path)) != SLATE_OK ||
            (st = dcheck(c, ln, 3, "source region", f[2].p, f[2].n, NO_RULE_RG, 1)) != SLATE_OK)
            return st;
        r->src_region = view(f[2].p, f[2].n);
        *prev = key;
    }
    if ((st = dcheck(c, ln, 4, "destination region", f[3].p, f[3].n, NO_RULE_RG, 1)) != SLATE_OK)
        return st;
    r->dst_region = view(f[3].p, f[3].n);
    uint64_t w;
    if ((st = dnum_micro(c, ln, 5, "fraction", f[4].p, f[4].n, SLATE_LEGACY_WEIGHT_SCALE,
                         "not a decimal fraction in [0, 1]", &w)) != SLATE_OK)
        return st;
    r->weight = (uint32_t)w;
    return SLATE_OK;
}

static int rule_matches(const slate_rule_t *a, const rline_t *r)
{
    return str_eq2(a->dst_service, r->dst_service) && str_eq2(a->path, r->dst_path) &&
           str_eq2(a->method, r->dst_method) && str_eq2(a->src_region, r->src_region) &&
           str_eq2(a->src_service, r->src_service) && str_eq2(a->src_path, r->src_path) &&
           str_eq2(a->src_method, r->src_method);
}

/* Index of the stored rule for r, or SIZE_MAX; tries `last` first. */
static size_t find_rule(const slate_rule_t *rules, size_t n, size_t last, const rline_t *r)
{
    if (last < n && rule_matches(&rules[last], r))
        return last;
    for (size_t i = 0; i < n; i++)
        if (i != last && rule_matches(&rules[i], r))
            return i;
    return SIZE_MAX;
}

slate_status slate_legacy_rules_decode(slate_routing_rules_t *rules, const char *body, size_t len,
                                       const slate_codec_limits_t *lim, slate_codec_error_t *err)
{
    err_clear(err);
    if (!rules || (!body && len))
        return einval(err, "NULL rules, or NULL body with a non-zero length");
    dctx_t c = {err, body, resolve_limits(lim)};
    slate_status st = check_body(&c, body, len);
    if (st != SLATE_OK)
        return st;

    slate_rule_t *rs = rules->rules;
    size_t cap = rs ? rules->cap_rules : 0;
    slate_route_target_t *pool = rules->targets;
    size_t pool_cap = pool ? rules->cap_targets : 0;
    size_t nlines = 0, nrules = 0, stored = 0, last = SIZE_MAX;
    int interleaved = 0;

    lines_t it = {body, len, 0, 0};
    line_t ln;
    rline_t r;
    field_t prev = {NULL, 0};
    int same;
    while (next_line(&it, &ln)) {
        if (ln.n == 0)
            continue;
        if ((st = parse_rule_line(&c, &ln, &r, &prev, &same)) != SLATE_OK)
            return st;
        if (nlines >= c.lim.max_repeated)
            return dfail(&c, SLATE_ECOUNT, &ln, ln.p, 0, "rule line",
                         "more rule lines than limits.max_repeated");
        if (rs) {
            size_t idx = same && last != SIZE_MAX ? last : find_rule(rs, stored, last, &r);
            if (idx != SIZE_MAX) {
                if (idx != last)
                    interleaved = 1;
                rs[idx].n_targets++;
            } else if (stored < cap) {
                slate_rule_t *x = &rs[stored];
                memset(x, 0, sizeof *x);
                x->src_region = r.src_region;
                x->dst_service = r.dst_service;
                x->method = r.dst_method;
                x->path = r.dst_path;
                x->src_service = r.src_service;
                x->src_method = r.src_method;
                x->src_path = r.src_path;
                x->n_targets = 1;
                idx = stored++;
                nrules++;
            } else {
                nrules++; /* no room: may count a rule again (an upper bound) */
            }
            last = idx;
            if (nlines < pool_cap) {
                pool[nlines].region = r.dst_region;
                pool[nlines].weight = r.weight;
            }
        }
        nlines++;
    }

    rules->n_targets = nlines;
    if (!rs) {
        rules->n_rules = nlines;
        return SLATE_OK;
    }
    rules->n_rules = nrules;
    if (nrules > cap || (pool && nlines > pool_cap))
        return enc_fail(err, SLATE_ENOSPC, "rules", SIZE_MAX, NULL, SIZE_MAX, NULL,
                        "a caller array is too small; n_rules and n_targets are sufficient");
    if (!pool)
        return SLATE_OK;
    if (!interleaved) {
        size_t off = 0;
        for (size_t i = 0; i < stored; i++) {
            rs[i].targets = pool + off;
            off += rs[i].n_targets;
        }
        return SLATE_OK;
    }
    /* The lines of some rule are not adjacent: place every target again, by rule. */
    size_t off = 0;
    for (size_t i = 0; i < stored; i++) {
        rs[i].targets = pool + off;
        off += rs[i].n_targets;
        rs[i].n_targets = 0;
    }
    it.pos = 0;
    it.no = 0;
    last = SIZE_MAX;
    prev.n = 0;
    while (next_line(&it, &ln)) {
        if (ln.n == 0)
            continue;
        if ((st = parse_rule_line(&c, &ln, &r, &prev, &same)) != SLATE_OK)
            return st; /* cannot happen: the first pass accepted it */
        size_t idx = same ? last : find_rule(rs, stored, last, &r);
        if (idx == SIZE_MAX)
            return SLATE_ECORRUPT; /* cannot happen */
        slate_route_target_t *t = &rs[idx].targets[rs[idx].n_targets++];
        t->region = r.dst_region;
        t->weight = r.weight;
        last = idx;
    }
    return SLATE_OK;
}

slate_status slate_legacy_rules_encode(const slate_routing_rules_t *rules, char *buf, size_t cap,
                                       size_t *len, slate_codec_error_t *err)
{
    err_clear(err);
    if (!rules || !len)
        return einval(err, "NULL rules or NULL len");
    if (rules->n_rules && !rules->rules)
        return einval(err, "rules is NULL but n_rules is not zero");
    const char *detail = "";
    slate_status st;
    for (size_t i = 0; i < rules->n_rules; i++) {
        const slate_rule_t *r = &rules->rules[i];
        static const char *const nm[7] = {"src_service", "src_method", "src_path",  "dst_service",
                                          "method",      "path",       "src_region"};
        const slate_str_t *fs[7] = {&r->src_service, &r->src_method, &r->src_path,  &r->dst_service,
                                    &r->method,      &r->path,       &r->src_region};
        for (int k = 0; k < 7; k++)
            if ((st = echeck(*fs[k], k == 6 ? NO_RULE_RG : NO_RULE_EP, k >= 3, &detail)) !=
                SLATE_OK)
                return enc_fail(err, st, "rules", i, NULL, SIZE_MAX, nm[k], detail);
        if (r->n_targets && !r->targets)
            return enc_fail(err, SLATE_EINVAL, "rules", i, NULL, SIZE_MAX, "targets",
                            "targets is NULL but n_targets is not zero");
        for (size_t k = 0; k < r->n_targets; k++) {
            if ((st = echeck(r->targets[k].region, NO_RULE_RG, 1, &detail)) != SLATE_OK)
                return enc_fail(err, st, "rules", i, "targets", k, "region", detail);
            if (r->targets[k].weight > SLATE_LEGACY_WEIGHT_SCALE)
                return enc_fail(err, SLATE_EVALUE, "rules", i, "targets", k, "weight",
                                "weight above SLATE_LEGACY_WEIGHT_SCALE (fraction above 1); "
                                "normalize first");
        }
    }
    wr_t w = {buf, buf ? cap : 0, 0, 0};
    char tmp[SLATE_LNUM_BUF];
    for (size_t i = 0; i < rules->n_rules; i++) {
        const slate_rule_t *r = &rules->rules[i];
        for (size_t k = 0; k < r->n_targets; k++) {
            w_str(&w, r->src_service);
            w_ch(&w, '@');
            w_str(&w, r->src_method);
            w_ch(&w, '@');
            w_str(&w, r->src_path);
            w_ch(&w, ',');
            w_str(&w, r->dst_service);
            w_ch(&w, '@');
            w_str(&w, r->method);
            w_ch(&w, '@');
            w_str(&w, r->path);
            w_ch(&w, ',');
            w_str(&w, r->src_region);
            w_ch(&w, ',');
            w_str(&w, r->targets[k].region);
            w_ch(&w, ',');
            w_bytes(&w, tmp, slate_lnum_fmt_pyrepr(tmp, r->targets[k].weight, 6));
            w_ch(&w, '\n');
        }
    }
    return enospc(err, w_finish(&w, len));
}

/* round_half_up(a * s / d) for a <= d, s < 2^32: exact via 128-bit long division. */
static uint64_t share(uint64_t a, uint32_t s, uint64_t d)
{
    /* a * s as two halves */
    uint64_t al = a & 0xffffffffu, ah = a >> 32;
    uint64_t lo = al * s, mid = ah * s;
    uint64_t plo = lo + (mid << 32);
    uint64_t phi = (mid >> 32) + (plo < lo);
    uint64_t q = 0, rem = 0;
    for (int i = 127; i >= 0; i--) {
        uint64_t bit = i >= 64 ? (phi >> (i - 64)) & 1 : (plo >> i) & 1;
        uint64_t carry = rem >> 63;
        rem = (rem << 1) | bit;
        if (carry || rem >= d) {
            rem -= d;
            if (i < 64)
                q |= 1ull << i;
        }
    }
    /* round half up: 2 * rem >= d */
    if (rem >= d - rem)
        q++;
    return q;
}

slate_status slate_legacy_rules_normalize(slate_routing_rules_t *rules)
{
    if (!rules || (rules->n_rules && !rules->rules))
        return SLATE_EINVAL;
    for (size_t i = 0; i < rules->n_rules; i++) {
        slate_rule_t *r = &rules->rules[i];
        if (r->n_targets && !r->targets)
            return SLATE_EINVAL;
        uint64_t total = 0;
        for (size_t k = 0; k < r->n_targets; k++)
            total += r->targets[k].weight;
        if (total == 0)
            continue;
        uint64_t cum = 0, prev = 0;
        for (size_t k = 0; k < r->n_targets; k++) {
            cum += r->targets[k].weight;
            uint64_t now = share(cum, SLATE_LEGACY_WEIGHT_SCALE, total);
            r->targets[k].weight = (uint32_t)(now - prev);
            prev = now;
        }
    }
    return SLATE_OK;
}
