/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Worker -> reporter batches. Security note: sw_batch_open() treats its input
 * as hostile. Every length is checked against the bytes left before it is
 * used (entry sizes, string lengths, histogram spans), counts are checked
 * against the recorded entry counts, and no byte outside buf[0, len) is read.
 * The work is O(len) plus O(SLATE_HIST_BUCKETS) per statistics block.
 */
#include "batch.h"

#include <float.h>
#include <string.h>

#include "bytes.h"

#define IN_FIXED    (32u)
#define OUT_FIXED   (20u)
#define SPAN_FIXED  (52u)
#define STATS_FIXED (52u)

static void hist_span(const slate_stats_t *s, uint32_t *off, uint32_t *len)
{
    uint32_t first = SLATE_HIST_BUCKETS, last = 0;
    for (uint32_t i = 0; i < SLATE_HIST_BUCKETS; i++) {
        if (s->hist[i]) {
            if (first == SLATE_HIST_BUCKETS)
                first = i;
            last = i;
        }
    }
    if (first == SLATE_HIST_BUCKETS) {
        *off = 0;
        *len = 0;
    } else {
        *off = first;
        *len = last - first + 1;
    }
}

size_t sw_stats_block_size(const slate_stats_t *s)
{
    uint32_t off, len;
    hist_span(s, &off, &len);
    return STATS_FIXED + 4u * (size_t)len;
}

static size_t put_stats(uint8_t *p, const slate_stats_t *s)
{
    uint32_t off, len;
    hist_span(s, &off, &len);
    slate_wire_put_le64(p, s->count);
    slate_wire_put_le64(p + 8, s->sum_ns);
    slate_wire_put_le64(p + 16, s->min_ns);
    slate_wire_put_le64(p + 24, s->max_ns);
    slate_wire_put_f64(p + 32, s->mean_ns);
    slate_wire_put_f64(p + 40, s->m2);
    slate_wire_put_le16(p + 48, (uint16_t)off);
    slate_wire_put_le16(p + 50, (uint16_t)len);
    for (uint32_t i = 0; i < len; i++)
        slate_wire_put_le32(p + STATS_FIXED + 4u * i, s->hist[off + i]);
    return STATS_FIXED + 4u * (size_t)len;
}

void sw_stats_block_load(const uint8_t *b, size_t len, slate_stats_t *s)
{
    memset(s, 0, sizeof *s);
    if (len < STATS_FIXED)
        return;
    s->count = slate_wire_get_le64(b);
    s->sum_ns = slate_wire_get_le64(b + 8);
    s->min_ns = slate_wire_get_le64(b + 16);
    s->max_ns = slate_wire_get_le64(b + 24);
    s->mean_ns = slate_wire_get_f64(b + 32);
    s->m2 = slate_wire_get_f64(b + 40);
    uint32_t off = slate_wire_get_le16(b + 48), n = slate_wire_get_le16(b + 50);
    if (off > SLATE_HIST_BUCKETS || n > SLATE_HIST_BUCKETS - off || STATS_FIXED + 4u * n > len)
        return;
    for (uint32_t i = 0; i < n; i++)
        s->hist[off + i] = slate_wire_get_le32(b + STATS_FIXED + 4u * i);
}

int sw_batch_begin(sw_batch_writer_t *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    if (!buf || cap < SW_BATCH_HEADER)
        return 0;
    w->buf = buf;
    w->cap = cap;
    w->len = SW_BATCH_HEADER;
    return 1;
}

static void put_str(uint8_t *p, size_t *at, sw_str_t s)
{
    if (s.n)
        memcpy(p + *at, s.p, s.n);
    *at += s.n;
}

int sw_batch_add_inbound(sw_batch_writer_t *w, sw_str_t method, sw_str_t path, uint64_t requests,
                         uint64_t window_count, uint64_t in_flight, const slate_stats_t *st)
{
    if (w->n_outbound || w->n_spans || w->n_inbound == UINT16_MAX)
        return 0;
    if (method.n > SW_MAX_METHOD || path.n > SW_MAX_PATH)
        return 0;
    size_t need = IN_FIXED + sw_stats_block_size(st) + method.n + path.n;
    if (need > w->cap - w->len)
        return 0;
    uint8_t *p = w->buf + w->len;
    slate_wire_put_le32(p, (uint32_t)need);
    slate_wire_put_le16(p + 4, (uint16_t)method.n);
    slate_wire_put_le16(p + 6, (uint16_t)path.n);
    slate_wire_put_le64(p + 8, requests);
    slate_wire_put_le64(p + 16, window_count);
    slate_wire_put_le64(p + 24, in_flight);
    size_t at = IN_FIXED + put_stats(p + IN_FIXED, st);
    put_str(p, &at, method);
    put_str(p, &at, path);
    w->len += need;
    w->n_inbound++;
    return 1;
}

int sw_batch_add_outbound(sw_batch_writer_t *w, sw_str_t service, sw_str_t method, sw_str_t path,
                          sw_str_t region, uint64_t requests, const slate_stats_t *st)
{
    if (w->n_spans || w->n_outbound == UINT16_MAX)
        return 0;
    if (service.n > SW_MAX_NAME || method.n > SW_MAX_METHOD || path.n > SW_MAX_PATH ||
        region.n > SW_MAX_NAME)
        return 0;
    size_t need = OUT_FIXED + sw_stats_block_size(st) + service.n + method.n + path.n + region.n;
    if (need > w->cap - w->len)
        return 0;
    uint8_t *p = w->buf + w->len;
    slate_wire_put_le32(p, (uint32_t)need);
    slate_wire_put_le16(p + 4, (uint16_t)service.n);
    slate_wire_put_le16(p + 6, (uint16_t)method.n);
    slate_wire_put_le16(p + 8, (uint16_t)path.n);
    slate_wire_put_le16(p + 10, (uint16_t)region.n);
    slate_wire_put_le64(p + 12, requests);
    size_t at = OUT_FIXED + put_stats(p + OUT_FIXED, st);
    put_str(p, &at, service);
    put_str(p, &at, method);
    put_str(p, &at, path);
    put_str(p, &at, region);
    w->len += need;
    w->n_outbound++;
    return 1;
}

int sw_batch_add_span(sw_batch_writer_t *w, sw_str_t trace_id, sw_str_t span_id, sw_str_t parent_id,
                      sw_str_t method, sw_str_t path, uint64_t start_ns, uint64_t end_ns,
                      uint64_t body_size, uint64_t arrival_count, uint64_t arrival_in_flight)
{
    if (w->n_spans == UINT16_MAX)
        return 0;
    if (trace_id.n > SW_MAX_ID || span_id.n > SW_MAX_ID || parent_id.n > SW_MAX_ID ||
        method.n > SW_MAX_METHOD || path.n > SW_MAX_PATH || end_ns < start_ns)
        return 0;
    size_t need = SPAN_FIXED + trace_id.n + span_id.n + parent_id.n + method.n + path.n;
    if (need > w->cap - w->len)
        return 0;
    uint8_t *p = w->buf + w->len;
    slate_wire_put_le32(p, (uint32_t)need);
    p[4] = (uint8_t)trace_id.n;
    p[5] = (uint8_t)span_id.n;
    p[6] = (uint8_t)parent_id.n;
    p[7] = 0;
    slate_wire_put_le16(p + 8, (uint16_t)method.n);
    slate_wire_put_le16(p + 10, (uint16_t)path.n);
    slate_wire_put_le64(p + 12, start_ns);
    slate_wire_put_le64(p + 20, end_ns);
    slate_wire_put_le64(p + 28, body_size);
    slate_wire_put_le64(p + 36, arrival_count);
    slate_wire_put_le64(p + 44, arrival_in_flight);
    size_t at = SPAN_FIXED;
    put_str(p, &at, trace_id);
    put_str(p, &at, span_id);
    put_str(p, &at, parent_id);
    put_str(p, &at, method);
    put_str(p, &at, path);
    w->len += need;
    w->n_spans++;
    return 1;
}

size_t sw_batch_finish(sw_batch_writer_t *w, const sw_batch_head_t *h)
{
    uint8_t *p = w->buf;
    if (!p)
        return 0;
    memset(p, 0, SW_BATCH_HEADER);
    slate_wire_put_le32(p, SW_BATCH_MAGIC);
    slate_wire_put_le16(p + 4, SW_BATCH_VERSION);
    slate_wire_put_le16(p + 6, SW_BATCH_HEADER);
    slate_wire_put_le32(p + 8, (uint32_t)w->len);
    slate_wire_put_le16(p + 12, w->n_inbound);
    slate_wire_put_le16(p + 14, w->n_outbound);
    slate_wire_put_le16(p + 16, w->n_spans);
    slate_wire_put_le64(p + 24, h->worker_id);
    slate_wire_put_le64(p + 32, h->seq);
    slate_wire_put_le64(p + 40, h->time_ns);
    slate_wire_put_le64(p + 48, h->window_ns);
    slate_wire_put_le64(p + 56, h->spans_dropped);
    slate_wire_put_le64(p + 64, h->endpoints_overflowed);
    slate_wire_put_le64(p + 72, h->outbound_overflowed);
    slate_wire_put_le64(p + 80, h->late_stamps);
    slate_wire_put_le64(p + 88, h->counters_saturated);
    return w->len;
}

/* ------------------------------------------------------------------------- */
/* Reading.                                                                   */

static int printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

static int take_str(const uint8_t *e, size_t esize, size_t *at, size_t n, size_t max, sw_str_t *out)
{
    if (n > max || n > esize - *at)
        return 0;
    out->p = (const char *)e + *at;
    out->n = n;
    *at += n;
    return 1;
}

int sw_stats_check(const slate_stats_t *s)
{
    uint64_t total = 0;
    int saturated = 0;
    for (uint32_t i = 0; i < SLATE_HIST_BUCKETS; i++) {
        total += s->hist[i];
        saturated |= s->hist[i] == UINT32_MAX;
    }
    /* NaN fails every comparison, so these also reject NaN. */
    if (!(s->m2 >= 0.0 && s->m2 <= DBL_MAX) || !(s->mean_ns >= 0.0 && s->mean_ns <= DBL_MAX))
        return 0;
    if (s->count == 0)
        return total == 0 && s->sum_ns == 0 && s->min_ns == 0 && s->max_ns == 0 &&
               s->mean_ns == 0.0 && s->m2 == 0.0;
    if (saturated ? total > s->count : total != s->count)
        return 0;
    if (s->min_ns > s->max_ns)
        return 0;
    if (s->count == 1 && (s->min_ns != s->max_ns || s->sum_ns != s->min_ns || s->m2 != 0.0))
        return 0;
    if (s->sum_ns != UINT64_MAX) {
        uint64_t smin =
            s->min_ns && s->count > UINT64_MAX / s->min_ns ? UINT64_MAX : s->count * s->min_ns;
        uint64_t smax =
            s->max_ns && s->count > UINT64_MAX / s->max_ns ? UINT64_MAX : s->count * s->max_ns;
        if (s->sum_ns < smin || (smax != UINT64_MAX && s->sum_ns > smax))
            return 0;
    }
    double slack = 1e-6 * (double)s->max_ns + 1e-6;
    if (s->mean_ns < (double)s->min_ns - slack || s->mean_ns > (double)s->max_ns + slack)
        return 0;
    if (s->min_ns == s->max_ns && s->m2 != 0.0)
        return 0;
    return 1;
}

/* Checks a stats block's own sizes; returns its length or 0. */
static size_t stats_len(const uint8_t *b, size_t avail)
{
    if (avail < STATS_FIXED)
        return 0;
    uint32_t off = slate_wire_get_le16(b + 48), n = slate_wire_get_le16(b + 50);
    if (off > SLATE_HIST_BUCKETS || n > SLATE_HIST_BUCKETS - off)
        return 0;
    size_t len = STATS_FIXED + 4u * (size_t)n;
    return len <= avail ? len : 0;
}

/* Parses one entry of the given kind at r->off; checks sizes and strings only. */
static sw_batch_err parse_item(sw_batch_reader_t *r, int kind, sw_batch_item_t *it)
{
    memset(it, 0, sizeof *it);
    it->kind = kind;
    size_t left = r->len - r->off;
    if (left < 4)
        return SW_BATCH_SHORT;
    const uint8_t *e = r->buf + r->off;
    size_t esize = slate_wire_get_le32(e);
    if (esize > left)
        return SW_BATCH_SHORT;
    size_t at;
    if (kind == SW_ITEM_INBOUND) {
        if (esize < IN_FIXED)
            return SW_BATCH_SIZE;
        size_t ml = slate_wire_get_le16(e + 4), pl = slate_wire_get_le16(e + 6);
        it->requests = slate_wire_get_le64(e + 8);
        it->window_count = slate_wire_get_le64(e + 16);
        it->in_flight = slate_wire_get_le64(e + 24);
        size_t sl = stats_len(e + IN_FIXED, esize - IN_FIXED);
        if (!sl)
            return SW_BATCH_STATS;
        it->stats = e + IN_FIXED;
        it->stats_len = sl;
        at = IN_FIXED + sl;
        if (!take_str(e, esize, &at, ml, SW_MAX_METHOD, &it->method) ||
            !take_str(e, esize, &at, pl, SW_MAX_PATH, &it->path))
            return SW_BATCH_STRING;
    } else if (kind == SW_ITEM_OUTBOUND) {
        if (esize < OUT_FIXED)
            return SW_BATCH_SIZE;
        size_t sv = slate_wire_get_le16(e + 4), ml = slate_wire_get_le16(e + 6),
               pl = slate_wire_get_le16(e + 8), rl = slate_wire_get_le16(e + 10);
        it->requests = slate_wire_get_le64(e + 12);
        size_t sl = stats_len(e + OUT_FIXED, esize - OUT_FIXED);
        if (!sl)
            return SW_BATCH_STATS;
        it->stats = e + OUT_FIXED;
        it->stats_len = sl;
        at = OUT_FIXED + sl;
        if (!take_str(e, esize, &at, sv, SW_MAX_NAME, &it->service) ||
            !take_str(e, esize, &at, ml, SW_MAX_METHOD, &it->method) ||
            !take_str(e, esize, &at, pl, SW_MAX_PATH, &it->path) ||
            !take_str(e, esize, &at, rl, SW_MAX_NAME, &it->region))
            return SW_BATCH_STRING;
        if (it->service.n == 0 || it->region.n == 0)
            return SW_BATCH_STRING;
    } else {
        if (esize < SPAN_FIXED)
            return SW_BATCH_SIZE;
        if (e[7] != 0)
            return SW_BATCH_VALUE;
        size_t tl = e[4], sl = e[5], pl = e[6], ml = slate_wire_get_le16(e + 8),
               ph = slate_wire_get_le16(e + 10);
        it->start_ns = slate_wire_get_le64(e + 12);
        it->end_ns = slate_wire_get_le64(e + 20);
        it->body_size = slate_wire_get_le64(e + 28);
        it->arrival_count = slate_wire_get_le64(e + 36);
        it->arrival_in_flight = slate_wire_get_le64(e + 44);
        if (it->end_ns < it->start_ns)
            return SW_BATCH_VALUE;
        at = SPAN_FIXED;
        if (!take_str(e, esize, &at, tl, SW_MAX_ID, &it->trace_id) ||
            !take_str(e, esize, &at, sl, SW_MAX_ID, &it->span_id) ||
            !take_str(e, esize, &at, pl, SW_MAX_ID, &it->parent_id) ||
            !take_str(e, esize, &at, ml, SW_MAX_METHOD, &it->method) ||
            !take_str(e, esize, &at, ph, SW_MAX_PATH, &it->path))
            return SW_BATCH_STRING;
        if (it->trace_id.n == 0)
            return SW_BATCH_STRING;
    }
    if (at != esize)
        return SW_BATCH_SIZE;
    const sw_str_t *strs[] = {&it->service,  &it->method,  &it->path,     &it->region,
                              &it->trace_id, &it->span_id, &it->parent_id};
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
        if (!printable((const uint8_t *)strs[k]->p, strs[k]->n))
            return SW_BATCH_STRING;
    r->off += esize;
    return SW_BATCH_OK;
}

sw_batch_err sw_batch_open(const uint8_t *buf, size_t len, sw_batch_head_t *h, sw_batch_reader_t *r,
                           slate_stats_t *scratch)
{
    memset(h, 0, sizeof *h);
    memset(r, 0, sizeof *r);
    if (!buf || len < SW_BATCH_HEADER)
        return SW_BATCH_SHORT;
    if (slate_wire_get_le32(buf) != SW_BATCH_MAGIC)
        return SW_BATCH_MAGIC_ERR;
    if (slate_wire_get_le16(buf + 4) != SW_BATCH_VERSION ||
        slate_wire_get_le16(buf + 6) != SW_BATCH_HEADER)
        return SW_BATCH_VERSION_ERR;
    if (slate_wire_get_le32(buf + 8) != len)
        return SW_BATCH_SIZE;
    if (slate_wire_get_le16(buf + 18) != 0 || slate_wire_get_le32(buf + 20) != 0)
        return SW_BATCH_VALUE;
    h->n_inbound = slate_wire_get_le16(buf + 12);
    h->n_outbound = slate_wire_get_le16(buf + 14);
    h->n_spans = slate_wire_get_le16(buf + 16);
    h->worker_id = slate_wire_get_le64(buf + 24);
    h->seq = slate_wire_get_le64(buf + 32);
    h->time_ns = slate_wire_get_le64(buf + 40);
    h->window_ns = slate_wire_get_le64(buf + 48);
    h->spans_dropped = slate_wire_get_le64(buf + 56);
    h->endpoints_overflowed = slate_wire_get_le64(buf + 64);
    h->outbound_overflowed = slate_wire_get_le64(buf + 72);
    h->late_stamps = slate_wire_get_le64(buf + 80);
    h->counters_saturated = slate_wire_get_le64(buf + 88);

    /* Validate every item before the caller sees any. */
    sw_batch_reader_t v = {buf, len, SW_BATCH_HEADER, h->n_inbound, h->n_outbound, h->n_spans};
    sw_batch_item_t it;
    for (unsigned k = 0; k < (unsigned)h->n_inbound + h->n_outbound + h->n_spans; k++) {
        int kind = k < h->n_inbound                             ? SW_ITEM_INBOUND
                   : k < (unsigned)h->n_inbound + h->n_outbound ? SW_ITEM_OUTBOUND
                                                                : SW_ITEM_SPAN;
        sw_batch_err e = parse_item(&v, kind, &it);
        if (e != SW_BATCH_OK)
            return e;
        if (it.stats) {
            sw_stats_block_load(it.stats, it.stats_len, scratch);
            if (!sw_stats_check(scratch))
                return SW_BATCH_STATS;
        }
    }
    if (v.off != len)
        return SW_BATCH_SIZE;
    r->buf = buf;
    r->len = len;
    r->off = SW_BATCH_HEADER;
    r->left_in = h->n_inbound;
    r->left_out = h->n_outbound;
    r->left_spans = h->n_spans;
    return SW_BATCH_OK;
}

int sw_batch_next(sw_batch_reader_t *r, sw_batch_item_t *item)
{
    int kind;
    if (r->left_in) {
        kind = SW_ITEM_INBOUND;
        r->left_in--;
    } else if (r->left_out) {
        kind = SW_ITEM_OUTBOUND;
        r->left_out--;
    } else if (r->left_spans) {
        kind = SW_ITEM_SPAN;
        r->left_spans--;
    } else {
        return 0;
    }
    return parse_item(r, kind, item) == SW_BATCH_OK;
}

const char *sw_batch_err_name(sw_batch_err e)
{
    switch (e) {
    case SW_BATCH_OK:
        return "ok";
    case SW_BATCH_SHORT:
        return "truncated";
    case SW_BATCH_MAGIC_ERR:
        return "bad magic";
    case SW_BATCH_VERSION_ERR:
        return "unknown version";
    case SW_BATCH_SIZE:
        return "sizes disagree";
    case SW_BATCH_STRING:
        return "bad string";
    case SW_BATCH_STATS:
        return "bad statistics";
    case SW_BATCH_VALUE:
        return "bad value";
    }
    return "unknown";
}
