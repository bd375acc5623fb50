/*
 * Tests of the protobuf wire codec (include/slate/codec.h): exact bytes
 * against hand-assembled encodings, round trips, sizing, pull iteration,
 * protobuf semantics (unknown fields, packed/unpacked, last-one-wins,
 * merging), every error status with its path and offset, and UTF-8 against
 * an independent reference.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/slate.h"
#include "utf8_ref.h"

/* ------------------------------------------------------------------------- */
/* A tiny protobuf writer, independent of the codec, for hand-built inputs. */

typedef struct {
    uint8_t b[1 << 16];
    size_t n;
} pbw_t;

static void w_byte(pbw_t *w, uint8_t v)
{
    assert_true(w->n < sizeof w->b);
    w->b[w->n++] = v;
}

static void w_varint(pbw_t *w, uint64_t v)
{
    while (v >= 0x80) {
        w_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    w_byte(w, (uint8_t)v);
}

static void w_tag(pbw_t *w, uint32_t field, uint32_t wt)
{
    w_varint(w, ((uint64_t)field << 3) | wt);
}

static void w_bytes(pbw_t *w, uint32_t field, const void *p, size_t n)
{
    w_tag(w, field, 2);
    w_varint(w, n);
    assert_true(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_str(pbw_t *w, uint32_t field, const char *s)
{
    w_bytes(w, field, s, strlen(s));
}

static void w_u64(pbw_t *w, uint32_t field, uint64_t v)
{
    w_tag(w, field, 0);
    w_varint(w, v);
}

static void w_fixed64(pbw_t *w, uint32_t field, uint64_t v)
{
    w_tag(w, field, 1);
    for (int i = 0; i < 8; i++)
        w_byte(w, (uint8_t)(v >> (8 * i)));
}

static void w_double(pbw_t *w, uint32_t field, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    w_fixed64(w, field, u);
}

static void w_fixed32(pbw_t *w, uint32_t field, uint32_t v)
{
    w_tag(w, field, 5);
    for (int i = 0; i < 4; i++)
        w_byte(w, (uint8_t)(v >> (8 * i)));
}

static void w_msg(pbw_t *w, uint32_t field, const pbw_t *sub)
{
    w_bytes(w, field, sub->b, sub->n);
}

static bool str_eq(slate_str_t s, const char *c)
{
    return s.len == strlen(c) && (s.len == 0 || memcmp(s.ptr, c, s.len) == 0);
}

/* ------------------------------------------------------------------------- */
/* A full report used by several tests. */

typedef struct {
    slate_load_report_t r;
    slate_inbound_t in[3];
    slate_outbound_t out[2];
    slate_span_t sp[3];
    slate_endpoint_load_t loads[5];
    uint32_t hist0[4];
    uint32_t hist1[1];
} fixture_t;

static void fixture(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    slate_load_report_t *r = &f->r;
    r->service = slate_str("frontend");
    r->region = slate_str("us-west-1");
    r->pod = slate_str("frontend-7d9c-xk2p");
    r->sequence = 42;
    r->time_ns = 1700000000123456789ull;
    r->interval_ns = 1000000000ull;
    f->in[0].method = slate_str("GET");
    f->in[0].path = slate_str("/cart");
    f->in[0].requests = 1234;
    f->in[0].rate_rps = 1233.5;
    f->in[0].in_flight = 7;
    f->hist0[0] = 3;
    f->hist0[1] = 0;
    f->hist0[2] = 1000;
    f->hist0[3] = 231;
    f->in[0].latency.count = 1234;
    f->in[0].latency.sum_ns = 987654321;
    f->in[0].latency.min_ns = 1500;
    f->in[0].latency.max_ns = 90000000;
    f->in[0].latency.mean_ns = 800368.17;
    f->in[0].latency.m2 = 3.25e15;
    f->in[0].latency.hist_offset = 200;
    f->in[0].latency.hist_len = 4;
    f->in[0].latency.hist = f->hist0;
    f->in[1].method = slate_str("POST");
    f->in[1].path = slate_str("/cart/checkout");
    f->in[1].requests = 1;
    f->in[2].method = slate_str("GET");
    f->in[2].path = slate_str("/\xc3\xa9t\xc3\xa9"); /* UTF-8 */
    f->in[2].latency.count = 1;
    f->in[2].latency.hist_offset = 1159;
    f->in[2].latency.hist_len = 1;
    f->hist1[0] = 1;
    f->in[2].latency.hist = f->hist1;
    r->inbound = f->in;
    r->n_inbound = 3;
    f->out[0].dst_service = slate_str("cartservice");
    f->out[0].method = slate_str("POST");
    f->out[0].path = slate_str("/hipstershop.CartService/GetCart");
    f->out[0].dst_region = slate_str("us-east-1");
    f->out[0].requests = UINT64_MAX;
    f->out[0].latency.count = 2;
    f->out[0].latency.mean_ns = -0.0; /* sent: only +0.0 is the default */
    f->out[1].dst_service = slate_str("currency");
    r->outbound = f->out;
    r->n_outbound = 2;
    for (int i = 0; i < 5; i++) {
        f->loads[i].method = slate_str(i % 2 ? "POST" : "GET");
        f->loads[i].path = slate_str(i % 2 ? "/cart" : "/");
        f->loads[i].rps = 10.0 * i;
        f->loads[i].in_flight = (uint64_t)i;
    }
    f->sp[0].trace_id = slate_str("00027e85013ca8a85d0f416cca2d80da");
    f->sp[0].span_id = slate_str("5d0f416cca2d80da");
    f->sp[0].method = slate_str("POST");
    f->sp[0].path = slate_str("/cart");
    f->sp[0].start_ns = 1700000000000000000ull;
    f->sp[0].end_ns = 1700000000006000000ull;
    f->sp[0].body_size = 640;
    f->sp[0].load = f->loads;
    f->sp[0].n_load = 2;
    f->sp[1].trace_id = slate_str("00027e85013ca8a85d0f416cca2d80da");
    f->sp[1].span_id = slate_str("2c940facf1806077");
    f->sp[1].parent_span_id = slate_str("5d0f416cca2d80da");
    f->sp[1].load = NULL;
    f->sp[1].n_load = 0;
    f->sp[2].trace_id = slate_str("ab");
    f->sp[2].load = f->loads + 2;
    f->sp[2].n_load = 3;
    r->spans = f->sp;
    r->n_spans = 3;
    r->drops.spans_dropped = 5;
    r->drops.counters_saturated = UINT64_MAX;
}

static void assert_latency_eq(const slate_latency_t *a, const slate_latency_t *b)
{
    assert_true(a->count == b->count);
    assert_true(a->sum_ns == b->sum_ns);
    assert_true(a->min_ns == b->min_ns);
    assert_true(a->max_ns == b->max_ns);
    assert_memory_equal(&a->mean_ns, &b->mean_ns, sizeof(double));
    assert_memory_equal(&a->m2, &b->m2, sizeof(double));
    assert_int_equal(a->hist_offset, b->hist_offset);
    assert_int_equal(a->hist_len, b->hist_len);
    slate_stats_t *sa = calloc(1, sizeof *sa), *sb = calloc(1, sizeof *sb);
    assert_int_equal(slate_latency_to_stats(a, sa), SLATE_OK);
    assert_int_equal(slate_latency_to_stats(b, sb), SLATE_OK);
    assert_memory_equal(sa->hist, sb->hist, sizeof sa->hist);
    free(sa);
    free(sb);
}

static void assert_sv_eq(slate_str_t a, slate_str_t b)
{
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void assert_eload_eq(const slate_endpoint_load_t *a, const slate_endpoint_load_t *b)
{
    assert_sv_eq(a->method, b->method);
    assert_sv_eq(a->path, b->path);
    assert_memory_equal(&a->rps, &b->rps, sizeof(double));
    assert_true(a->in_flight == b->in_flight);
}

static void assert_span_eq(const slate_span_t *a, const slate_span_t *b, bool loads)
{
    assert_sv_eq(a->trace_id, b->trace_id);
    assert_sv_eq(a->span_id, b->span_id);
    assert_sv_eq(a->parent_span_id, b->parent_span_id);
    assert_sv_eq(a->method, b->method);
    assert_sv_eq(a->path, b->path);
    assert_true(a->start_ns == b->start_ns);
    assert_true(a->end_ns == b->end_ns);
    assert_true(a->body_size == b->body_size);
    assert_int_equal(a->n_load, b->n_load);
    if (loads)
        for (size_t k = 0; k < a->n_load; k++)
            assert_eload_eq(&a->load[k], &b->load[k]);
}

static void assert_report_eq(const slate_load_report_t *a, const slate_load_report_t *b)
{
    assert_sv_eq(a->service, b->service);
    assert_sv_eq(a->region, b->region);
    assert_sv_eq(a->pod, b->pod);
    assert_true(a->sequence == b->sequence);
    assert_true(a->time_ns == b->time_ns);
    assert_true(a->interval_ns == b->interval_ns);
    assert_int_equal(a->n_inbound, b->n_inbound);
    for (size_t i = 0; i < a->n_inbound; i++) {
        assert_sv_eq(a->inbound[i].method, b->inbound[i].method);
        assert_sv_eq(a->inbound[i].path, b->inbound[i].path);
        assert_true(a->inbound[i].requests == b->inbound[i].requests);
        assert_memory_equal(&a->inbound[i].rate_rps, &b->inbound[i].rate_rps, sizeof(double));
        assert_true(a->inbound[i].in_flight == b->inbound[i].in_flight);
        assert_latency_eq(&a->inbound[i].latency, &b->inbound[i].latency);
    }
    assert_int_equal(a->n_outbound, b->n_outbound);
    for (size_t i = 0; i < a->n_outbound; i++) {
        assert_sv_eq(a->outbound[i].dst_service, b->outbound[i].dst_service);
        assert_sv_eq(a->outbound[i].method, b->outbound[i].method);
        assert_sv_eq(a->outbound[i].path, b->outbound[i].path);
        assert_sv_eq(a->outbound[i].dst_region, b->outbound[i].dst_region);
        assert_true(a->outbound[i].requests == b->outbound[i].requests);
        assert_latency_eq(&a->outbound[i].latency, &b->outbound[i].latency);
    }
    assert_int_equal(a->n_spans, b->n_spans);
    for (size_t i = 0; i < a->n_spans; i++)
        assert_span_eq(&a->spans[i], &b->spans[i], true);
    assert_memory_equal(&a->drops, &b->drops, sizeof a->drops);
}

/* Decoding arrays for a report. */
typedef struct {
    slate_load_report_t r;
    slate_inbound_t in[64];
    slate_outbound_t out[64];
    slate_span_t sp[64];
    slate_endpoint_load_t loads[256];
} sink_t;

static slate_load_report_t *sink(sink_t *s)
{
    memset(&s->r, 0, sizeof s->r);
    s->r.inbound = s->in;
    s->r.cap_inbound = 64;
    s->r.outbound = s->out;
    s->r.cap_outbound = 64;
    s->r.spans = s->sp;
    s->r.cap_spans = 64;
    s->r.span_loads = s->loads;
    s->r.cap_span_loads = 256;
    return &s->r;
}

static slate_status decode_report(sink_t *s, const uint8_t *buf, size_t len,
                                  const slate_codec_limits_t *lim, slate_codec_error_t *err)
{
    return slate_load_report_decode(sink(s), buf, len, lim, err);
}

/* ------------------------------------------------------------------------- */

static void test_rules_exact_bytes(void **state)
{
    (void)state;
    slate_route_target_t t = {slate_str("c"), 2};
    slate_rule_t rule = {0};
    rule.src_region = slate_str("a");
    rule.dst_service = slate_str("b");
    rule.targets = &t;
    rule.n_targets = 1;
    slate_routing_rules_t m = {0};
    m.version = 1;
    m.ttl_ns = 300;
    m.rules = &rule;
    m.n_rules = 1;
    /* Assembled by hand from the protobuf spec and slate.proto's numbers. */
    static const uint8_t want[] = {0x08, 0x01, 0x10, 0xAC, 0x02, 0x22, 0x0D, 0x0A, 0x01, 0x61,
                                   0x12, 0x01, 0x62, 0x2A, 0x05, 0x0A, 0x01, 0x63, 0x10, 0x02};
    uint8_t buf[64];
    size_t len = 0;
    assert_int_equal(slate_routing_rules_encode(&m, buf, sizeof buf, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);

    slate_rule_t rules[2];
    slate_route_target_t targets[2];
    slate_routing_rules_t d = {0};
    d.rules = rules;
    d.cap_rules = 2;
    d.targets = targets;
    d.cap_targets = 2;
    assert_int_equal(slate_routing_rules_decode(&d, want, sizeof want, NULL, NULL), SLATE_OK);
    assert_true(d.version == 1 && d.ttl_ns == 300 && d.generated_ns == 0);
    assert_int_equal(d.n_rules, 1);
    assert_int_equal(d.n_targets, 1);
    assert_true(str_eq(rules[0].src_region, "a"));
    assert_true(str_eq(rules[0].dst_service, "b"));
    assert_true(str_eq(rules[0].method, ""));
    assert_ptr_equal(rules[0].targets, targets);
    assert_int_equal(rules[0].n_targets, 1);
    assert_true(str_eq(targets[0].region, "c"));
    assert_int_equal(targets[0].weight, 2);
    /* Views point into the input. */
    assert_ptr_equal(rules[0].src_region.ptr, (const char *)want + 9);
}

static void test_report_exact_bytes_small(void **state)
{
    (void)state;
    slate_endpoint_load_t ld = {slate_str("GET"), slate_str("/"), 1.5, 3};
    slate_span_t sp = {0};
    sp.trace_id = slate_str("t");
    sp.start_ns = 1;
    sp.load = &ld;
    sp.n_load = 1;
    uint32_t h[2] = {5, 1};
    slate_inbound_t in = {0};
    in.requests = 6;
    in.latency.count = 6;
    in.latency.hist_offset = 129;
    in.latency.hist_len = 2;
    in.latency.hist = h;
    slate_load_report_t r = {0};
    r.service = slate_str("s");
    r.inbound = &in;
    r.n_inbound = 1;
    r.spans = &sp;
    r.n_spans = 1;
    r.drops.late_stamps = 2;
    pbw_t *lat = calloc(1, sizeof *lat), *inb = calloc(1, sizeof *inb),
          *eld = calloc(1, sizeof *eld), *spn = calloc(1, sizeof *spn),
          *drp = calloc(1, sizeof *drp), *top = calloc(1, sizeof *top);
    w_u64(lat, 1, 6);
    w_u64(lat, 7, 129);
    uint8_t packed[] = {5, 1};
    w_bytes(lat, 8, packed, 2);
    w_u64(inb, 3, 6);
    w_msg(inb, 6, lat);
    w_str(eld, 1, "GET");
    w_str(eld, 2, "/");
    w_double(eld, 3, 1.5);
    w_u64(eld, 4, 3);
    w_str(spn, 1, "t");
    w_u64(spn, 6, 1);
    w_msg(spn, 9, eld);
    w_u64(drp, 4, 2);
    w_str(top, 1, "s");
    w_msg(top, 7, inb);
    w_msg(top, 9, spn);
    w_msg(top, 10, drp);
    uint8_t buf[256];
    size_t len;
    assert_int_equal(slate_load_report_encode(&r, buf, sizeof buf, &len, NULL), SLATE_OK);
    assert_int_equal(len, top->n);
    assert_memory_equal(buf, top->b, len);
    free(lat);
    free(inb);
    free(eld);
    free(spn);
    free(drp);
    free(top);
}

static void test_report_round_trip(void **state)
{
    (void)state;
    fixture_t *f = calloc(1, sizeof *f);
    sink_t *s = calloc(1, sizeof *s);
    fixture(f);
    uint8_t *buf = malloc(8192);
    size_t len;
    slate_codec_error_t err;
    assert_int_equal(slate_load_report_encode(&f->r, buf, 8192, &len, &err), SLATE_OK);
    assert_int_equal(err.status, SLATE_OK);
    assert_int_equal(decode_report(s, buf, len, NULL, &err), SLATE_OK);
    assert_report_eq(&f->r, &s->r);
    assert_int_equal(s->r.n_span_loads, 5);
    assert_ptr_equal(s->sp[0].load, s->loads);
    assert_ptr_equal(s->sp[2].load, s->loads + 2);
    /* Every string view lies inside the input. */
    assert_true((const uint8_t *)s->r.pod.ptr > buf && (const uint8_t *)s->r.pod.ptr < buf + len);

    /* Re-encoding the decoded report (counts read back from the input) gives the same bytes. */
    uint8_t *buf2 = malloc(8192);
    size_t len2;
    assert_int_equal(slate_load_report_encode(&s->r, buf2, 8192, &len2, NULL), SLATE_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(buf, buf2, len);
    free(buf2);
    free(buf);
    free(s);
    free(f);
}

/* Re-encodes a message field by field in another order or form (test-side
 * reader, independent of the codec), recursing into embedded messages. */
enum { K_REPORT, K_INBOUND, K_OUTBOUND, K_SPAN, K_LATENCY, K_ELOAD, K_DROPS, K_LEAF };
enum {
    SHAPE_AS_IS,
    SHAPE_REVERSED,      /* descending field numbers; elements keep their order */
    SHAPE_UNKNOWN_AFTER, /* an unknown field after every field */
    SHAPE_DECOY_FIRST,   /* every scalar or string first sent with another value */
    SHAPE_ROTATED,       /* fields from 3 up first, then 1 and 2 */
    SHAPE_LONG_TAGS,     /* every other tag in two bytes (not minimal) */
    SHAPE_INTERLEAVED,   /* report: inbound, outbound and spans taken in turn */
    N_SHAPES
};

static uint64_t r_varint(const uint8_t **pp)
{
    uint64_t v = 0;
    for (unsigned sh = 0;; sh += 7) {
        uint8_t b = *(*pp)++;
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            return v;
    }
}

static int sub_kind(int kind, uint32_t field)
{
    if (kind == K_REPORT)
        return field == 7    ? K_INBOUND
               : field == 8  ? K_OUTBOUND
               : field == 9  ? K_SPAN
               : field == 10 ? K_DROPS
                             : K_LEAF;
    if ((kind == K_INBOUND || kind == K_OUTBOUND) && field == 6)
        return K_LATENCY;
    if (kind == K_SPAN && field == 9)
        return K_ELOAD;
    return K_LEAF;
}

typedef struct {
    uint32_t field, wt;
    size_t off, n; /* the value (a LEN field's payload) in the arena */
} rfield_t;

static void w_value(pbw_t *w, const rfield_t *f, const pbw_t *arena)
{
    if (f->wt == 2)
        w_varint(w, f->n);
    assert_true(w->n + f->n <= sizeof w->b);
    memcpy(w->b + w->n, arena->b + f->off, f->n);
    w->n += f->n;
}

static void reshape(const uint8_t *p, size_t n, int kind, int shape, pbw_t *out)
{
    rfield_t fs[64];
    size_t nf = 0;
    pbw_t *arena = calloc(1, sizeof *arena), *sub = calloc(1, sizeof *sub);
    const uint8_t *end = p + n;
    while (p < end) {
        uint64_t tag = r_varint(&p);
        rfield_t *f = &fs[nf++];
        assert_true(nf <= 64);
        f->field = (uint32_t)(tag >> 3);
        f->wt = (uint32_t)(tag & 7);
        const uint8_t *v = p;
        size_t vn;
        if (f->wt == 0) {
            (void)r_varint(&p);
            vn = (size_t)(p - v);
        } else if (f->wt == 1) {
            vn = 8;
        } else if (f->wt == 5) {
            vn = 4;
        } else {
            assert_int_equal(f->wt, 2);
            vn = (size_t)r_varint(&p);
            v = p;
        }
        p = v + vn;
        int k = sub_kind(kind, f->field);
        if (f->wt == 2 && k != K_LEAF) {
            sub->n = 0;
            reshape(v, vn, k, shape, sub);
            v = sub->b;
            vn = sub->n;
        }
        f->off = arena->n;
        f->n = vn;
        memcpy(arena->b + arena->n, v, vn);
        arena->n += vn;
    }
    size_t order[64];
    size_t no = 0;
    if (shape == SHAPE_REVERSED) {
        for (uint32_t fld = 64; fld-- > 0;)
            for (size_t i = 0; i < nf; i++)
                if (fs[i].field == fld)
                    order[no++] = i;
    } else if (shape == SHAPE_ROTATED) {
        for (size_t i = 0; i < nf; i++)
            if (fs[i].field >= 3)
                order[no++] = i;
        for (size_t i = 0; i < nf; i++)
            if (fs[i].field < 3)
                order[no++] = i;
    } else if (shape == SHAPE_INTERLEAVED && kind == K_REPORT) {
        size_t next[3] = {0, 0, 0}; /* the next inbound, outbound, span */
        for (size_t i = 0; i < nf; i++)
            if (fs[i].field < 7 || fs[i].field > 9)
                order[no++] = i;
        for (bool any = true; any;) {
            any = false;
            for (uint32_t g = 0; g < 3; g++) {
                while (next[g] < nf && fs[next[g]].field != 7 + g)
                    next[g]++;
                if (next[g] < nf) {
                    order[no++] = next[g]++;
                    any = true;
                }
            }
        }
    } else {
        for (size_t i = 0; i < nf; i++)
            order[no++] = i;
    }
    assert_int_equal(no, nf);
    for (size_t j = 0; j < no; j++) {
        const rfield_t *f = &fs[order[j]];
        bool merges = sub_kind(kind, f->field) != K_LEAF || (kind == K_LATENCY && f->field == 8);
        if (shape == SHAPE_DECOY_FIRST && !merges) {
            if (f->wt == 0)
                w_u64(out, f->field, 12345);
            else if (f->wt == 1)
                w_fixed64(out, f->field, 0x1111111111111111ull);
            else if (f->wt == 2)
                w_str(out, f->field, "decoy");
        }
        uint64_t tag = ((uint64_t)f->field << 3) | f->wt;
        if (shape == SHAPE_LONG_TAGS && j % 2 == 0 && tag < 0x80) {
            w_byte(out, (uint8_t)(tag | 0x80));
            w_byte(out, 0);
        } else {
            w_varint(out, tag);
        }
        w_value(out, f, arena);
        if (shape == SHAPE_UNKNOWN_AFTER) {
            w_u64(out, 15, 1);
            w_str(out, 14, "unknown");
        }
    }
    free(arena);
    free(sub);
}

/* The decoders try fields in ascending order first and fall back to a
 * general loop: the same report in any order or form decodes the same. */
static void test_field_order_and_form(void **state)
{
    (void)state;
    fixture_t *f = calloc(1, sizeof *f);
    sink_t *s = calloc(1, sizeof *s);
    pbw_t *w = calloc(1, sizeof *w);
    fixture(f);
    uint8_t *buf = malloc(8192);
    size_t len;
    slate_codec_error_t err;
    assert_int_equal(slate_load_report_encode(&f->r, buf, 8192, &len, NULL), SLATE_OK);
    for (int shape = 0; shape < N_SHAPES; shape++) {
        w->n = 0;
        reshape(buf, len, K_REPORT, shape, w);
        if (shape == SHAPE_AS_IS) {
            assert_int_equal(w->n, len);
            assert_memory_equal(w->b, buf, len);
        } else {
            assert_true(w->n != len || memcmp(w->b, buf, len) != 0);
        }
        if (decode_report(s, w->b, w->n, NULL, &err) != SLATE_OK)
            fail_msg("shape %d: %s at %zu", shape, err.detail, err.offset);
        assert_report_eq(&f->r, &s->r);
        assert_int_equal(s->r.n_span_loads, 5);
        assert_ptr_equal(s->sp[2].load, s->loads + 2);
    }

    /* An error found in either path has the same status and path. */
    f->sp[1].method = slate_str("@@@"); /* the encoder checks UTF-8: patched after */
    assert_int_equal(slate_load_report_encode(&f->r, buf, 8192, &len, NULL), SLATE_OK);
    size_t at = 0;
    while (at + 3 <= len && memcmp(buf + at, "@@@", 3) != 0)
        at++;
    assert_true(at + 3 <= len);
    memcpy(buf + at, "\xc3(@", 3);
    for (int shape = 0; shape < N_SHAPES; shape++) {
        w->n = 0;
        reshape(buf, len, K_REPORT, shape, w);
        assert_int_equal(decode_report(s, w->b, w->n, NULL, &err), SLATE_EUTF8);
        assert_string_equal(err.path, "LoadReport.spans[1].method");
        assert_int_equal(w->b[err.offset - 1] & 0x7f, (4 << 3) | 2); /* after the tag */
    }
    free(w);
    free(buf);
    free(s);
    free(f);
}

/* Every capacity below the size gives ENOSPC, the same size, and no write past cap. */
static void test_encode_sizing(void **state)
{
    (void)state;
    fixture_t *f = calloc(1, sizeof *f);
    fixture(f);
    size_t need = 0;
    assert_int_equal(slate_load_report_encode(&f->r, NULL, 0, &need, NULL), SLATE_ENOSPC);
    assert_true(need > 100);
    uint8_t *buf = malloc(need + 64);
    uint8_t *ref = malloc(need);
    size_t len;
    assert_int_equal(slate_load_report_encode(&f->r, ref, need, &len, NULL), SLATE_OK);
    assert_int_equal(len, need);
    for (size_t cap = 0; cap < need; cap++) {
        memset(buf, 0xA5, need + 64);
        slate_codec_error_t err;
        len = 0;
        assert_int_equal(slate_load_report_encode(&f->r, buf, cap, &len, &err), SLATE_ENOSPC);
        assert_int_equal(len, need);
        assert_int_equal(err.status, SLATE_ENOSPC);
        assert_string_equal(err.path, "LoadReport");
        for (size_t i = cap; i < need + 64; i++)
            assert_int_equal(buf[i], 0xA5);
    }
    /* A larger buffer: same bytes at the start, nothing written after. */
    memset(buf, 0xA5, need + 64);
    assert_int_equal(slate_load_report_encode(&f->r, buf, need + 63, &len, NULL), SLATE_OK);
    assert_int_equal(len, need);
    assert_memory_equal(buf, ref, need);
    assert_int_equal(buf[need + 63], 0xA5);
    free(buf);
    free(ref);
    free(f);
}

static void test_encode_errors(void **state)
{
    (void)state;
    fixture_t *f = calloc(1, sizeof *f);
    fixture(f);
    uint8_t buf[4096];
    size_t len;
    slate_codec_error_t err;
    f->loads[3].path = (slate_str_t){"\xc0\xaf", 2}; /* overlong '/' */
    assert_int_equal(slate_load_report_encode(&f->r, buf, sizeof buf, &len, &err), SLATE_EUTF8);
    assert_string_equal(err.path, "LoadReport.spans[2].load[1].path");
    fixture(f);
    f->in[0].latency.hist_offset = 1157; /* 1157 + 4 > 1160 */
    assert_int_equal(slate_load_report_encode(&f->r, buf, sizeof buf, &len, &err), SLATE_EVALUE);
    assert_string_equal(err.path, "LoadReport.inbound[0].latency.hist_offset");
    fixture(f);
    f->r.outbound = NULL;
    assert_int_equal(slate_load_report_encode(&f->r, buf, sizeof buf, &len, &err), SLATE_EINVAL);
    assert_string_equal(err.path, "LoadReport.outbound");
    assert_int_equal(slate_load_report_encode(NULL, buf, sizeof buf, &len, &err), SLATE_EINVAL);
    assert_int_equal(slate_load_report_encode(&f->r, NULL, 10, &len, &err), SLATE_EINVAL);
    fixture(f);
    f->sp[1].n_load = 1; /* load NULL */
    assert_int_equal(slate_load_report_encode(&f->r, buf, sizeof buf, &len, &err), SLATE_EINVAL);
    assert_string_equal(err.path, "LoadReport.spans[1].load");
    free(f);
}

static void test_decode_count_only_and_short_arrays(void **state)
{
    (void)state;
    fixture_t *f = calloc(1, sizeof *f);
    fixture(f);
    uint8_t buf[4096];
    size_t len;
    assert_int_equal(slate_load_report_encode(&f->r, buf, sizeof buf, &len, NULL), SLATE_OK);

    /* No arrays at all: counts only, OK. */
    slate_load_report_t r = {0};
    assert_int_equal(slate_load_report_decode(&r, buf, len, NULL, NULL), SLATE_OK);
    assert_int_equal(r.n_inbound, 3);
    assert_int_equal(r.n_outbound, 2);
    assert_int_equal(r.n_spans, 3);
    assert_int_equal(r.n_span_loads, 5);
    assert_true(str_eq(r.pod, "frontend-7d9c-xk2p"));

    /* Short arrays: ENOSPC after the whole input, with the counts needed. */
    slate_span_t sp[2];
    slate_endpoint_load_t lds[5];
    memset(&r, 0, sizeof r);
    r.spans = sp;
    r.cap_spans = 2;
    r.span_loads = lds;
    r.cap_span_loads = 5;
    slate_codec_error_t err;
    assert_int_equal(slate_load_report_decode(&r, buf, len, NULL, &err), SLATE_ENOSPC);
    assert_int_equal(r.n_spans, 3);
    assert_int_equal(r.n_span_loads, 5);
    assert_string_equal(err.path, "LoadReport.spans");
    /* The stored prefix is right. */
    assert_span_eq(&sp[0], &f->sp[0], true);
    assert_span_eq(&sp[1], &f->sp[1], true);

    /* A short pool. */
    slate_span_t sp3[3];
    memset(&r, 0, sizeof r);
    r.spans = sp3;
    r.cap_spans = 3;
    r.span_loads = lds;
    r.cap_span_loads = 4;
    assert_int_equal(slate_load_report_decode(&r, buf, len, NULL, &err), SLATE_ENOSPC);
    assert_int_equal(r.n_span_loads, 5);
    assert_string_equal(err.path, "LoadReport.span_loads");
    free(f);
}

static void test_pull_iterators_match_arrays(void **state)
{
    (void)state;
    fixture_t *f = calloc(1, sizeof *f);
    fixture(f);
    uint8_t buf[4096];
    size_t len;
    assert_int_equal(slate_load_report_encode(&f->r, buf, sizeof buf, &len, NULL), SLATE_OK);
    slate_load_report_t r = {0};
    assert_int_equal(slate_load_report_decode(&r, buf, len, NULL, NULL), SLATE_OK);

    slate_codec_iter_t it;
    slate_inbound_t in;
    size_t k = 0;
    slate_codec_iter_init(&it, r.raw);
    while (slate_load_report_next_inbound(&it, &in)) {
        assert_true(k < 3);
        assert_sv_eq(in.method, f->in[k].method);
        assert_sv_eq(in.path, f->in[k].path);
        assert_null(in.latency.hist);
        assert_latency_eq(&in.latency, &f->in[k].latency);
        k++;
    }
    assert_int_equal(it.status, SLATE_OK);
    assert_int_equal(k, 3);

    slate_outbound_t ob;
    k = 0;
    slate_codec_iter_init(&it, r.raw);
    while (slate_load_report_next_outbound(&it, &ob)) {
        assert_sv_eq(ob.dst_service, f->out[k].dst_service);
        assert_latency_eq(&ob.latency, &f->out[k].latency);
        k++;
    }
    assert_int_equal(k, 2);

    slate_span_t sp;
    k = 0;
    slate_codec_iter_init(&it, r.raw);
    while (slate_load_report_next_span(&it, &sp)) {
        assert_span_eq(&sp, &f->sp[k], false);
        assert_null(sp.load);
        slate_codec_iter_t lit;
        slate_endpoint_load_t ld;
        size_t j = 0;
        slate_codec_iter_init(&lit, sp.raw);
        while (slate_span_next_load(&lit, &ld))
            assert_eload_eq(&ld, &f->sp[k].load[j++]);
        assert_int_equal(j, f->sp[k].n_load);
        k++;
    }
    assert_int_equal(k, 3);

    /* A view over garbage ends iteration with a status, without crashing. */
    static const uint8_t junk[] = {0x3A, 0x05, 0x0A}; /* inbound, length past end */
    slate_codec_view_t v = {junk, sizeof junk, 0};
    slate_codec_iter_init(&it, v);
    assert_false(slate_load_report_next_inbound(&it, &in));
    assert_int_equal(it.status, SLATE_ETRUNCATED);
    free(f);
}

static void test_rules_iterators(void **state)
{
    (void)state;
    slate_route_target_t t[4] = {{slate_str("us-west-1"), 70},
                                 {slate_str("us-east-1"), 30},
                                 {slate_str("eu-1"), 0},
                                 {slate_str("us-west-1"), UINT32_MAX}};
    slate_rule_t rules[2];
    memset(rules, 0, sizeof rules);
    rules[0].src_region = slate_str("us-west-1");
    rules[0].dst_service = slate_str("cart");
    rules[0].method = slate_str("POST");
    rules[0].path = slate_str("/cart");
    rules[0].src_service = slate_str("frontend");
    rules[0].src_method = slate_str("GET");
    rules[0].src_path = slate_str("/");
    rules[0].targets = t;
    rules[0].n_targets = 3;
    rules[1].dst_service = slate_str("x");
    rules[1].targets = t + 3;
    rules[1].n_targets = 1;
    slate_routing_rules_t m = {0};
    m.version = UINT64_MAX;
    m.ttl_ns = 5000000000ull;
    m.generated_ns = 1700000000000000000ull;
    m.rules = rules;
    m.n_rules = 2;
    uint8_t buf[512];
    size_t len;
    assert_int_equal(slate_routing_rules_encode(&m, buf, sizeof buf, &len, NULL), SLATE_OK);
    slate_routing_rules_t d = {0};
    assert_int_equal(slate_routing_rules_decode(&d, buf, len, NULL, NULL), SLATE_OK);
    assert_true(d.version == UINT64_MAX && d.ttl_ns == 5000000000ull);
    assert_int_equal(d.n_rules, 2);
    assert_int_equal(d.n_targets, 4);
    slate_codec_iter_t it;
    slate_rule_t rule;
    size_t k = 0, all = 0;
    slate_codec_iter_init(&it, d.raw);
    while (slate_routing_rules_next_rule(&it, &rule)) {
        assert_sv_eq(rule.src_region, rules[k].src_region);
        assert_sv_eq(rule.dst_service, rules[k].dst_service);
        assert_sv_eq(rule.method, rules[k].method);
        assert_sv_eq(rule.path, rules[k].path);
        assert_sv_eq(rule.src_service, rules[k].src_service);
        assert_sv_eq(rule.src_method, rules[k].src_method);
        assert_sv_eq(rule.src_path, rules[k].src_path);
        assert_int_equal(rule.n_targets, rules[k].n_targets);
        slate_codec_iter_t tit;
        slate_route_target_t tg;
        slate_codec_iter_init(&tit, rule.raw);
        while (slate_rule_next_target(&tit, &tg)) {
            assert_sv_eq(tg.region, t[all].region);
            assert_int_equal(tg.weight, t[all].weight);
            all++;
        }
        k++;
    }
    assert_int_equal(k, 2);
    assert_int_equal(all, 4);
}

/* Unknown fields of every wire type, anywhere, are skipped. */
static void test_unknown_fields_skipped(void **state)
{
    (void)state;
    pbw_t *top = calloc(1, sizeof *top), *in = calloc(1, sizeof *in), *lat = calloc(1, sizeof *lat),
          *unk = calloc(1, sizeof *unk);
    w_u64(unk, 1, 5);
    w_str(unk, 2, "\xff\xfe not utf-8, but unknown so not checked");
    w_u64(top, 100, UINT64_MAX);
    w_fixed64(top, 101, 0x0123456789abcdefull);
    w_fixed32(top, 102, 0xdeadbeef);
    w_msg(top, 103, unk);
    w_bytes(top, 536870911, "max field number", 16); /* 2^29 - 1 */
    w_str(top, 1, "svc");
    w_u64(lat, 1, 9);
    w_u64(lat, 99, 1);
    w_fixed32(lat, 98, 1);
    w_str(in, 1, "GET");
    w_fixed64(in, 50, 7);
    w_msg(in, 6, lat);
    w_msg(in, 51, unk);
    w_msg(top, 7, in);
    w_u64(top, 16, 1); /* two-byte tag */
    sink_t *s = calloc(1, sizeof *s);
    slate_codec_error_t err;
    assert_int_equal(decode_report(s, top->b, top->n, NULL, &err), SLATE_OK);
    assert_true(str_eq(s->r.service, "svc"));
    assert_int_equal(s->r.n_inbound, 1);
    assert_true(str_eq(s->in[0].method, "GET"));
    assert_true(s->in[0].latency.count == 9);
    free(top);
    free(in);
    free(lat);
    free(unk);
    free(s);
}

/* Packed, unpacked and mixed hist_counts; last-one-wins; merging of an embedded message. */
static void test_packed_unpacked_and_merge(void **state)
{
    (void)state;
    pbw_t *top = calloc(1, sizeof *top), *in = calloc(1, sizeof *in), *l1 = calloc(1, sizeof *l1),
          *l2 = calloc(1, sizeof *l2);
    uint8_t packed[] = {1, 0x80, 0x01, 3}; /* 1, 128, 3 */
    w_u64(l1, 1, 100);
    w_u64(l1, 7, 900); /* overridden below */
    w_bytes(l1, 8, packed, sizeof packed);
    w_u64(l1, 8, 7); /* unpacked */
    w_u64(l2, 1, 139);
    w_u64(l2, 7, 10);
    w_u64(l2, 8, 0);
    w_bytes(l2, 8, packed, 1); /* 1 */
    w_str(in, 1, "first");
    w_msg(in, 6, l1);
    w_str(in, 1, "GET"); /* last one wins */
    w_u64(in, 3, 5);
    w_u64(in, 3, 6);
    w_msg(in, 6, l2); /* merges into l1 */
    w_msg(top, 7, in);
    w_str(top, 1, "a");
    w_str(top, 1, "b");
    w_u64(top, 4, 1);
    w_u64(top, 4, 2);
    pbw_t *dr1 = calloc(1, sizeof *dr1), *dr2 = calloc(1, sizeof *dr2);
    w_u64(dr1, 1, 5);
    w_u64(dr1, 2, 6);
    w_u64(dr2, 2, 7);
    w_msg(top, 10, dr1);
    w_msg(top, 10, dr2);
    sink_t *s = calloc(1, sizeof *s);
    slate_codec_error_t err;
    assert_int_equal(decode_report(s, top->b, top->n, NULL, &err), SLATE_OK);
    assert_true(str_eq(s->r.service, "b"));
    assert_true(s->r.sequence == 2);
    assert_true(s->r.drops.spans_dropped == 5);
    assert_true(s->r.drops.endpoints_overflowed == 7);
    slate_inbound_t *e = &s->in[0];
    assert_true(str_eq(e->method, "GET"));
    assert_true(e->requests == 6);
    assert_true(e->latency.count == 139);
    assert_int_equal(e->latency.hist_offset, 10);
    assert_int_equal(e->latency.hist_len, 6); /* 1,128,3,7 then 0,1 */
    slate_stats_t *st = calloc(1, sizeof *st);
    assert_int_equal(slate_latency_to_stats(&e->latency, st), SLATE_OK);
    const uint32_t want[6] = {1, 128, 3, 7, 0, 1};
    assert_memory_equal(st->hist + 10, want, sizeof want);
    for (uint32_t i = 0; i < SLATE_HIST_BUCKETS; i++)
        if (i < 10 || i >= 16)
            assert_int_equal(st->hist[i], 0);
    assert_true(st->count == 139);
    /* Canonical re-encoding is packed and merged. */
    uint8_t out[512];
    size_t len;
    assert_int_equal(slate_load_report_encode(&s->r, out, sizeof out, &len, NULL), SLATE_OK);
    sink_t *s2 = calloc(1, sizeof *s2);
    assert_int_equal(decode_report(s2, out, len, NULL, &err), SLATE_OK);
    assert_report_eq(&s->r, &s2->r);
    free(s2);
    free(st);
    free(top);
    free(in);
    free(l1);
    free(l2);
    free(dr1);
    free(dr2);
    free(s);
}

static void test_uint32_takes_low_bits(void **state)
{
    (void)state;
    pbw_t *top = calloc(1, sizeof *top), *rule = calloc(1, sizeof *rule), *t = calloc(1, sizeof *t);
    w_u64(t, 2, 0x100000005ull);
    w_msg(rule, 5, t);
    w_msg(top, 4, rule);
    slate_routing_rules_t d = {0};
    slate_rule_t rules[1];
    slate_route_target_t tg[1];
    d.rules = rules;
    d.cap_rules = 1;
    d.targets = tg;
    d.cap_targets = 1;
    assert_int_equal(slate_routing_rules_decode(&d, top->b, top->n, NULL, NULL), SLATE_OK);
    assert_int_equal(tg[0].weight, 5);
    free(top);
    free(rule);
    free(t);
}

/* Each error: status, offset and path. */
typedef struct {
    const char *name;
    slate_status want;
    const char *path;
    long offset; /* -1: not checked */
} errcase_t;

static void check_err(const pbw_t *w, const slate_codec_limits_t *lim, const errcase_t *c)
{
    sink_t *s = calloc(1, sizeof *s);
    slate_codec_error_t err;
    slate_status st = decode_report(s, w->b, w->n, lim, &err);
    if (st != c->want || strcmp(err.path, c->path) != 0 ||
        (c->offset >= 0 && err.offset != (size_t)c->offset)) {
        char line[256];
        slate_codec_error_format(&err, line, sizeof line);
        fail_msg("%s: got %s (want %s, path %s, offset %ld)", c->name, line,
                 slate_status_name(c->want), c->path, c->offset);
    }
    assert_int_equal(err.status, st);
    free(s);
}

/* Varints of every width (1 to 10 bytes), minimal and padded with redundant
 * continuation bytes, decoded with more than 10 bytes after them and as the
 * last bytes of the input (the decoder's word-at-a-time and byte paths). */
static void test_varint_widths(void **state)
{
    (void)state;
    pbw_t *w = calloc(1, sizeof *w);
    uint64_t vals[200];
    size_t nv = 0;
    vals[nv++] = 0;
    for (int b = 0; b < 64; b++) {
        uint64_t top = 1ull << b;
        vals[nv++] = top;
        vals[nv++] = top | (top - 1);
        vals[nv++] = top | ((top - 1) & 0x5555555555555555ull);
    }
    for (size_t i = 0; i < nv; i++)
        for (int pad = 0; pad < 3; pad++)
            for (int at_end = 0; at_end < 2; at_end++) {
                uint64_t v = vals[i];
                w->n = 0;
                w_str(w, 1, "svc");
                w_tag(w, 5, 0); /* time_ns */
                /* minimal encoding, then `pad` redundant bytes, within 10 bytes */
                uint8_t enc[16];
                size_t k = 0;
                uint64_t x = v;
                while (x >= 0x80) {
                    enc[k++] = (uint8_t)(x | 0x80);
                    x >>= 7;
                }
                enc[k++] = (uint8_t)x;
                for (int q = 0; q < pad && k < 10; q++) {
                    enc[k - 1] |= 0x80;
                    enc[k++] = 0;
                }
                for (size_t j = 0; j < k; j++)
                    w_byte(w, enc[j]);
                if (!at_end) {
                    w_u64(w, 4, 7);
                    w_str(w, 2, "region-with-a-long-name");
                }
                slate_load_report_t r;
                memset(&r, 0, sizeof r);
                slate_codec_error_t err;
                assert_int_equal(slate_load_report_decode(&r, w->b, w->n, NULL, &err), SLATE_OK);
                if (r.time_ns != v)
                    fail_msg("value %" PRIu64 " (%zu bytes, at_end %d) decoded as %" PRIu64, v, k,
                             at_end, r.time_ns);
                assert_int_equal(r.sequence, at_end ? 0 : 7);
            }
    free(w);
}

/* Strings of every length up to 40 with one non-ASCII character, a broken
 * one, or none, at every position (the decoder checks words at once, and a
 * string shorter than a word together with the input bytes around it): alone
 * in the input, followed by a field and preceded by one, whose bytes are not
 * ASCII. */
static void test_utf8_positions(void **state)
{
    (void)state;
    pbw_t *w = calloc(1, sizeof *w);
    static const char *const other = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    for (int ctx = 0; ctx < 3; ctx++)
        for (size_t len = 1; len <= 40; len++)
            for (size_t pos = 0; pos < len; pos++)
                for (int kind = 0; kind < 3; kind++) {
                    char s[48];
                    memset(s, 'a', len);
                    if (kind == 1 && pos + 1 < len) { /* U+00E9, two bytes */
                        s[pos] = (char)0xC3;
                        s[pos + 1] = (char)0xA9;
                    } else if (kind == 2) { /* a lone continuation byte */
                        s[pos] = (char)0x80;
                    }
                    s[len] = '\0';
                    w->n = 0;
                    if (ctx == 2)
                        w_str(w, 2, other);
                    w_str(w, 1, s);
                    if (ctx == 1)
                        w_str(w, 2, other);
                    slate_load_report_t r;
                    memset(&r, 0, sizeof r);
                    slate_codec_error_t err;
                    slate_status st = slate_load_report_decode(&r, w->b, w->n, NULL, &err);
                    if (kind == 2) {
                        if (st != SLATE_EUTF8)
                            fail_msg("len %zu pos %zu ctx %d: %s", len, pos, ctx,
                                     slate_status_name(st));
                        assert_string_equal(err.path, "LoadReport.service");
                    } else {
                        assert_int_equal(st, SLATE_OK);
                        assert_int_equal(r.service.len, len);
                        assert_int_equal(r.region.len, ctx ? 10 : 0);
                    }
                }
    free(w);
}

static void test_decode_errors(void **state)
{
    (void)state;
    pbw_t *w = calloc(1, sizeof *w), *sp = calloc(1, sizeof *sp), *ld = calloc(1, sizeof *ld);

    /* Truncated varint at the end. */
    w->n = 0;
    w_str(w, 1, "svc");
    w_tag(w, 4, 0);
    w_byte(w, 0x80);
    check_err(w, NULL, &(errcase_t){"trunc varint", SLATE_ETRUNCATED, "LoadReport.sequence", 6});

    /* Truncated double. */
    w->n = 0;
    w_tag(w, 1, 2);
    w_byte(w, 0);
    w_tag(w, 7, 2);
    w_byte(w, 2);   /* the inbound message ends inside its double */
    w_tag(w, 4, 1); /* rate_rps */
    w_byte(w, 1);
    check_err(w, NULL,
              &(errcase_t){"trunc double", SLATE_ETRUNCATED, "LoadReport.inbound[0].rate_rps", 5});

    /* A string running past the end of the input. */
    w->n = 0;
    w_tag(w, 2, 2);
    w_varint(w, 10);
    w_byte(w, 'x');
    check_err(w, NULL, &(errcase_t){"trunc string", SLATE_ETRUNCATED, "LoadReport.region", 1});

    /* A string running past its enclosing message, not past the input. */
    ld->n = 0;
    w_tag(ld, 2, 2);
    w_varint(ld, 5);
    w_byte(ld, '/');
    sp->n = 0;
    w_msg(sp, 9, ld);
    w_str(sp, 1, "abcdef");
    w->n = 0;
    w_msg(w, 9, sp);
    check_err(w, NULL,
              &(errcase_t){"length", SLATE_ELENGTH, "LoadReport.spans[0].load[0].path", 5});

    /* 11-byte varint, and a 10-byte one overflowing 64 bits. */
    w->n = 0;
    w_tag(w, 5, 0);
    for (int i = 0; i < 10; i++)
        w_byte(w, 0xFF);
    w_byte(w, 0x01);
    check_err(w, NULL, &(errcase_t){"varint 11", SLATE_EVARINT, "LoadReport.time_ns", 1});
    w->n = 0;
    w_tag(w, 5, 0);
    for (int i = 0; i < 9; i++)
        w_byte(w, 0xFF);
    w_byte(w, 0x02);
    check_err(w, NULL, &(errcase_t){"varint ovf", SLATE_EVARINT, "LoadReport.time_ns", 1});
    /* The largest 10-byte varint is fine. */
    w->n = 0;
    w_u64(w, 5, UINT64_MAX);
    {
        sink_t *s = calloc(1, sizeof *s);
        assert_int_equal(decode_report(s, w->b, w->n, NULL, NULL), SLATE_OK);
        assert_true(s->r.time_ns == UINT64_MAX);
        free(s);
    }

    /* Wire type mismatch: a string sent as varint; a message as fixed32. */
    w->n = 0;
    w_u64(w, 3, 5);
    check_err(w, NULL, &(errcase_t){"wiretype", SLATE_EWIRETYPE, "LoadReport.pod", 0});
    w->n = 0;
    w_fixed32(w, 9, 5);
    check_err(w, NULL, &(errcase_t){"wiretype msg", SLATE_EWIRETYPE, "LoadReport.spans", 0});
    w->n = 0;
    w_tag(w, 20, 6);
    check_err(w, NULL, &(errcase_t){"wiretype 6", SLATE_EWIRETYPE, "LoadReport.#20", 2});

    /* Invalid UTF-8 deep inside. */
    w->n = 0;
    sp->n = 0;
    ld->n = 0;
    w_str(ld, 1, "GET");
    w_msg(sp, 9, ld);
    ld->n = 0;
    w_str(ld, 2, "/a\xed\xa0\x80"); /* a UTF-16 surrogate */
    w_msg(sp, 9, ld);
    w_msg(w, 9, sp);
    w_msg(w, 9, sp);
    check_err(w, NULL, &(errcase_t){"utf8", SLATE_EUTF8, "LoadReport.spans[0].load[1].path", -1});

    /* Depth: a limit of 2 forbids LoadReport > spans > load. */
    slate_codec_limits_t lim = {0};
    lim.max_depth = 2;
    check_err(w, &lim, &(errcase_t){"depth", SLATE_EDEPTH, "LoadReport.spans[0].load", 2});
    lim.max_depth = 3;
    check_err(w, &lim,
              &(errcase_t){"depth ok", SLATE_EUTF8, "LoadReport.spans[0].load[1].path", -1});

    /* Repeated count limit. */
    w->n = 0;
    for (int i = 0; i < 4; i++)
        w_str(w, 8, "");
    lim = (slate_codec_limits_t){0};
    lim.max_repeated = 3;
    check_err(w, &lim, &(errcase_t){"count", SLATE_ECOUNT, "LoadReport.outbound", 6});
    lim.max_repeated = 4;
    check_err(w, &lim, &(errcase_t){"count ok", SLATE_OK, "", 0});

    /* String length limit, at and over. */
    char big[101];
    memset(big, 'x', 100);
    big[100] = '\0';
    w->n = 0;
    w_str(w, 1, big);
    lim = (slate_codec_limits_t){0};
    lim.max_string = 100;
    check_err(w, &lim, &(errcase_t){"strlen ok", SLATE_OK, "", 0});
    lim.max_string = 99;
    check_err(w, &lim, &(errcase_t){"strlen", SLATE_ESTRLEN, "LoadReport.service", 1});

    /* Total size limit. */
    lim = (slate_codec_limits_t){0};
    lim.max_size = (uint32_t)w->n - 1;
    check_err(w, &lim, &(errcase_t){"size", SLATE_ELENGTH, "LoadReport", 0});

    /* Field number 0 and groups. */
    w->n = 0;
    w_u64(w, 4, 1);
    w_byte(w, 0x02); /* field 0, wire type 2 */
    w_byte(w, 0x00);
    check_err(w, NULL, &(errcase_t){"field0", SLATE_EFIELD, "LoadReport", 2});
    w->n = 0;
    w_tag(w, 4, 0);
    w_varint(w, 1);
    w_varint(w, (uint64_t)1 << 35); /* tag beyond 32 bits */
    check_err(w, NULL, &(errcase_t){"field big", SLATE_EFIELD, "LoadReport", 2});
    w->n = 0;
    w_u64(w, 4, 1);
    {
        static const uint8_t long_tag[] = {0xA0, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01};
        memcpy(w->b + w->n, long_tag, sizeof long_tag); /* field 4 in a 6-byte tag */
        w->n += sizeof long_tag;
    }
    check_err(w, NULL, &(errcase_t){"tag 6 bytes", SLATE_EFIELD, "LoadReport", 2});
    w->n = 0;
    {
        static const uint8_t tag5[] = {0xA0, 0x80, 0x80, 0x80, 0x00, 0x01};
        memcpy(w->b, tag5, sizeof tag5); /* 5 bytes is still fine */
        w->n = sizeof tag5;
    }
    check_err(w, NULL, &(errcase_t){"tag 5 bytes", SLATE_OK, "", 0});
    w->n = 0;
    w_tag(w, 77, 3);
    w_tag(w, 77, 4);
    check_err(w, NULL, &(errcase_t){"group", SLATE_EGROUP, "LoadReport.#77", 0});
    w->n = 0;
    w_tag(w, 9, 3);
    check_err(w, NULL, &(errcase_t){"group known", SLATE_EGROUP, "LoadReport.spans", 0});

    /* Histogram span past the buckets; too many counts. */
    pbw_t *lat = calloc(1, sizeof *lat), *in = calloc(1, sizeof *in);
    w_u64(lat, 7, 1159);
    w_u64(lat, 8, 1);
    w_u64(lat, 8, 1);
    w_msg(in, 6, lat);
    w->n = 0;
    w_msg(w, 7, in);
    check_err(
        w, NULL,
        &(errcase_t){"hist span", SLATE_EVALUE, "LoadReport.inbound[0].latency.hist_offset", -1});
    lat->n = 0;
    in->n = 0;
    {
        uint8_t ones[1161];
        memset(ones, 1, sizeof ones);
        w_bytes(lat, 8, ones, sizeof ones);
    }
    w_msg(in, 6, lat);
    w->n = 0;
    w_msg(w, 8, in);
    check_err(
        w, NULL,
        &(errcase_t){"hist count", SLATE_ECOUNT, "LoadReport.outbound[0].latency.hist_counts", -1});
    /* A packed run that ends inside a varint. */
    lat->n = 0;
    in->n = 0;
    w_bytes(lat, 8, "\x01\x80", 2);
    w_msg(in, 6, lat);
    w->n = 0;
    w_msg(w, 7, in);
    check_err(w, NULL,
              &(errcase_t){"packed trunc", SLATE_ETRUNCATED,
                           "LoadReport.inbound[0].latency.hist_counts", -1});

    /* NULL arguments. */
    slate_load_report_t r = {0};
    slate_codec_error_t err;
    assert_int_equal(slate_load_report_decode(NULL, w->b, w->n, NULL, &err), SLATE_EINVAL);
    assert_int_equal(slate_load_report_decode(&r, NULL, 3, NULL, &err), SLATE_EINVAL);
    assert_int_equal(slate_load_report_decode(&r, NULL, 0, NULL, &err), SLATE_OK);
    free(lat);
    free(in);
    free(w);
    free(sp);
    free(ld);
}

/* The path of an error names every enclosing message with its index, however
 * the messages before it went; one error struct reused across decodes keeps
 * nothing of the previous path. */
static void test_decode_error_paths(void **state)
{
    (void)state;
    pbw_t *w = calloc(1, sizeof *w), *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);

    /* The third inbound endpoint's latency: sum_ns sent as fixed64. */
    w->n = 0;
    for (int i = 0; i < 3; i++) {
        a->n = 0;
        b->n = 0;
        w_u64(b, 1, 5);
        if (i == 2)
            w_fixed64(b, 2, 7);
        w_str(a, 1, "GET");
        w_msg(a, 6, b);
        w_msg(w, 7, a);
    }
    check_err(w, NULL,
              &(errcase_t){"latency", SLATE_EWIRETYPE, "LoadReport.inbound[2].latency.sum_ns", -1});
    /* The same input under a depth limit of 2: the latency message is too deep. */
    slate_codec_limits_t lim = {0};
    lim.max_depth = 2;
    check_err(w, &lim,
              &(errcase_t){"latency depth", SLATE_EDEPTH, "LoadReport.inbound[0].latency", -1});

    /* The second span's first load (the pool's third entry): rps as a varint. */
    w->n = 0;
    a->n = 0;
    b->n = 0;
    w_str(b, 1, "GET");
    w_msg(a, 9, b);
    w_msg(a, 9, b);
    w_msg(w, 9, a);
    a->n = 0;
    b->n = 0;
    w_u64(b, 3, 1);
    w_str(a, 1, "abc");
    w_msg(a, 9, b);
    w_msg(w, 9, a);
    check_err(w, NULL,
              &(errcase_t){"load", SLATE_EWIRETYPE, "LoadReport.spans[1].load[0].rps", -1});

    /* Drops: a counter sent as a string. */
    w->n = 0;
    a->n = 0;
    w_u64(a, 1, 3);
    w_str(a, 3, "x");
    w_str(w, 1, "svc");
    w_msg(w, 10, a);
    check_err(w, NULL,
              &(errcase_t){"drops", SLATE_EWIRETYPE, "LoadReport.drops.outbound_overflowed", -1});

    /* Field number 0 (a one-byte tag, group wire type) inside a load. */
    w->n = 0;
    a->n = 0;
    b->n = 0;
    w_str(b, 1, "GET");
    w_byte(b, 0x03);
    w_msg(a, 9, b);
    w_msg(w, 9, a);
    check_err(w, NULL, &(errcase_t){"field0 deep", SLATE_EFIELD, "LoadReport.spans[0].load[0]", 9});

    /* An error at the top after a deep one, with the same error struct. */
    w->n = 0;
    w_u64(w, 1, 5);
    check_err(w, NULL, &(errcase_t){"top", SLATE_EWIRETYPE, "LoadReport.service", 0});

    /* RoutingRules: the third target of the second rule has a bad region. */
    w->n = 0;
    a->n = 0;
    w_str(a, 1, "r0");
    w_msg(w, 4, a);
    a->n = 0;
    for (int i = 0; i < 3; i++) {
        b->n = 0;
        w_str(b, 1, i == 2 ? "\xff" : "east");
        w_u64(b, 2, 1);
        w_msg(a, 5, b);
    }
    w_msg(w, 4, a);
    slate_rule_t rules[4];
    slate_route_target_t targets[8];
    slate_routing_rules_t m;
    memset(&m, 0, sizeof m);
    m.rules = rules;
    m.cap_rules = 4;
    m.targets = targets;
    m.cap_targets = 8;
    slate_codec_error_t err;
    assert_int_equal(slate_routing_rules_decode(&m, w->b, w->n, NULL, &err), SLATE_EUTF8);
    assert_string_equal(err.path, "RoutingRules.rules[1].targets[2].region");
    /* and a rule-level error after it */
    w->n = 0;
    w_u64(w, 1, 1);
    w_fixed32(w, 4, 0);
    assert_int_equal(slate_routing_rules_decode(&m, w->b, w->n, NULL, &err), SLATE_EWIRETYPE);
    assert_string_equal(err.path, "RoutingRules.rules");
    assert_int_equal(err.offset, 2);
    free(w);
    free(a);
    free(b);
}

/* Packed hist_counts: runs of varints of 1 to 10 bytes (some padded) in every
 * arrangement a small generator makes, counted right; and a varint of 11
 * bytes, one over 64 bits, or a cut one, at every place, reported where it
 * starts (the decoder counts a word of whole varints at once). */
static void test_packed_counts(void **state)
{
    (void)state;
    pbw_t *w = calloc(1, sizeof *w), *lat = calloc(1, sizeof *lat), *in = calloc(1, sizeof *in);
    uint32_t rng = 12345;
    for (int round = 0; round < 3000; round++) {
        uint8_t b[160];
        size_t n = 0, want = 0, bad_at = 0;
        int bad = round % 4; /* 0: valid; 1: 11 bytes; 2: over 64 bits; 3: cut at the end */
        size_t nv = (size_t)(round % 23);
        size_t bad_k = nv ? (size_t)(round / 4) % nv : 0;
        for (size_t k = 0; k < nv; k++) {
            rng = rng * 1103515245u + 12345u;
            /* mostly one byte, sometimes 2 to 10 */
            size_t len = (rng >> 16) % 4 ? 1 : 2 + (rng >> 20) % 9;
            if (bad && k == bad_k) {
                bad_at = n;
                if (bad == 1)
                    len = 11;
                else if (bad == 2)
                    len = 10;
            }
            for (size_t j = 0; j + 1 < len; j++)
                b[n++] = (uint8_t)(0x80 | ((rng >> (j % 8)) & 0x7f));
            b[n++] =
                bad == 2 && k == bad_k ? 0x02 : (uint8_t)((rng >> 24) & (len == 10 ? 1 : 0x7f));
            want++;
            if (bad && k == bad_k)
                break;
        }
        if (bad == 3) {
            bad_at = n;
            b[n++] = 0x80 | (uint8_t)(rng & 0x7f);
            b[n++] = 0x81;
        }
        lat->n = 0;
        in->n = 0;
        w->n = 0;
        w_bytes(lat, 8, b, n);
        w_msg(in, 6, lat);
        w_msg(w, 7, in);
        sink_t *s = calloc(1, sizeof *s);
        slate_codec_error_t err;
        slate_status st = decode_report(s, w->b, w->n, NULL, &err);
        size_t base = w->n - n;
        if (bad == 0 || (nv == 0 && bad != 3)) {
            if (st != SLATE_OK || s->r.inbound[0].latency.hist_len != want)
                fail_msg("round %d: %s, %u counts, want %zu", round, slate_status_name(st),
                         s->r.inbound[0].latency.hist_len, want);
        } else {
            slate_status want_st = bad == 3 ? SLATE_ETRUNCATED : SLATE_EVARINT;
            if (st != want_st || err.offset != base + bad_at)
                fail_msg("round %d: %s at %zu, want %s at %zu", round, slate_status_name(st),
                         err.offset, slate_status_name(want_st), base + bad_at);
            assert_string_equal(err.path, "LoadReport.inbound[0].latency.hist_counts");
        }
        free(s);
    }
    free(w);
    free(lat);
    free(in);
}

/* Truncating a valid encoding anywhere is an error, never a crash or a success. */
static void test_every_truncation_fails(void **state)
{
    (void)state;
    fixture_t *f = calloc(1, sizeof *f);
    fixture(f);
    uint8_t buf[4096];
    size_t len;
    assert_int_equal(slate_load_report_encode(&f->r, buf, sizeof buf, &len, NULL), SLATE_OK);
    sink_t *s = calloc(1, sizeof *s);
    unsigned ok = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        slate_codec_error_t err;
        slate_status st = decode_report(s, copy, cut, NULL, &err);
        /* A cut between top-level fields is a valid, shorter message. */
        if (st == SLATE_OK)
            ok++;
        else
            assert_true(st == SLATE_ETRUNCATED || st == SLATE_EVALUE);
        free(copy);
    }
    /* Top-level field boundaries: a handful, not most cuts. */
    assert_true(ok < 20);
    free(s);
    free(f);
}

/* UTF-8: the decoder against a definitional reference, for every 1..3-byte
 * sequence and a sample of 4-byte ones. */
static void test_utf8_against_reference(void **state)
{
    (void)state;
    uint8_t msg[16] = {0x0A, 0}; /* field 1 (service), length, bytes */
    slate_load_report_t r;
    unsigned checked = 0, valid = 0;
    for (uint32_t len = 1; len <= 3; len++) {
        uint32_t total = 1u << (8 * len);
        for (uint32_t v = 0; v < total; v++) {
            uint8_t s[4];
            for (uint32_t j = 0; j < len; j++)
                s[j] = (uint8_t)(v >> (8 * (len - 1 - j)));
            /* Only the interesting lead bytes for 3-byte sequences, to keep it quick. */
            if (len == 3 && s[0] < 0xC0)
                continue;
            msg[1] = (uint8_t)len;
            memcpy(msg + 2, s, len);
            memset(&r, 0, sizeof r);
            slate_status st = slate_load_report_decode(&r, msg, 2 + len, NULL, NULL);
            bool want = ref_utf8(s, len);
            if ((st == SLATE_OK) != want)
                fail_msg("utf8 %u bytes %02x %02x %02x: got %d want %d", len, s[0],
                         len > 1 ? s[1] : 0, len > 2 ? s[2] : 0, st, want);
            if (!want)
                assert_int_equal(st, SLATE_EUTF8);
            checked++;
            valid += want;
        }
    }
    /* 4-byte: every lead byte F0..F7 with every second byte and fixed tails. */
    for (uint32_t a = 0xF0; a <= 0xF7; a++)
        for (uint32_t b = 0; b < 256; b++)
            for (int ci = 0; ci < 4; ci++) {
                static const uint8_t thirds[4] = {0x7F, 0x80, 0xBF, 0xC0};
                uint8_t s[4] = {(uint8_t)a, (uint8_t)b, thirds[ci], 0x80};
                msg[1] = 4;
                memcpy(msg + 2, s, 4);
                memset(&r, 0, sizeof r);
                slate_status st = slate_load_report_decode(&r, msg, 6, NULL, NULL);
                assert_int_equal(st == SLATE_OK, ref_utf8(s, 4));
                checked++;
            }
    /* Long mixed strings exercise the 8-byte ASCII fast path boundaries. */
    const char *ok = "abcdefgh\xc3\xa9ijklmnop\xe2\x82\xacqrstuvw\xf0\x9f\x98\x80xyz01234567";
    msg[1] = 0;
    uint8_t big[128] = {0x0A};
    for (size_t cut = 0; cut <= strlen(ok); cut++) {
        big[1] = (uint8_t)cut;
        memcpy(big + 2, ok, cut);
        memset(&r, 0, sizeof r);
        slate_status st = slate_load_report_decode(&r, big, 2 + cut, NULL, NULL);
        assert_int_equal(st == SLATE_OK, ref_utf8((const uint8_t *)ok, cut));
    }
    assert_true(checked > 1000000);
    assert_true(valid > 100000);
}

static void test_latency_stats_round_trip(void **state)
{
    (void)state;
    slate_stats_t *s = calloc(1, sizeof *s), *back = calloc(1, sizeof *back);
    s->count = 10;
    s->sum_ns = 12345;
    s->min_ns = 1000;
    s->max_ns = 3000;
    s->mean_ns = 1234.5;
    s->m2 = 99.25;
    s->hist[0] = 4;
    s->hist[57] = 5;
    s->hist[300] = 1;
    slate_inbound_t in = {0};
    slate_latency_from_stats(&in.latency, s);
    assert_int_equal(in.latency.hist_offset, 0);
    assert_int_equal(in.latency.hist_len, 301);
    slate_load_report_t r = {0};
    r.inbound = &in;
    r.n_inbound = 1;
    uint8_t buf[2048];
    size_t len;
    assert_int_equal(slate_load_report_encode(&r, buf, sizeof buf, &len, NULL), SLATE_OK);
    slate_inbound_t din[1];
    slate_load_report_t d = {0};
    d.inbound = din;
    d.cap_inbound = 1;
    assert_int_equal(slate_load_report_decode(&d, buf, len, NULL, NULL), SLATE_OK);
    assert_int_equal(slate_latency_to_stats(&din[0].latency, back), SLATE_OK);
    assert_memory_equal(s, back, sizeof *s);

    /* An empty histogram: nothing but the moments. */
    memset(s, 0, sizeof *s);
    s->count = 0;
    slate_latency_from_stats(&in.latency, s);
    assert_int_equal(in.latency.hist_len, 0);
    assert_int_equal(slate_load_report_encode(&r, buf, sizeof buf, &len, NULL), SLATE_OK);
    assert_int_equal(len, 2); /* inbound with nothing in it: tag, length 0 */
    /* The last bucket alone. */
    s->hist[SLATE_HIST_BUCKETS - 1] = 7;
    s->count = 7;
    slate_latency_from_stats(&in.latency, s);
    assert_int_equal(in.latency.hist_offset, SLATE_HIST_BUCKETS - 1);
    assert_int_equal(in.latency.hist_len, 1);
    assert_int_equal(slate_load_report_encode(&r, buf, sizeof buf, &len, NULL), SLATE_OK);
    assert_int_equal(slate_load_report_decode(&d, buf, len, NULL, NULL), SLATE_OK);
    assert_int_equal(slate_latency_to_stats(&din[0].latency, back), SLATE_OK);
    assert_memory_equal(s, back, sizeof *s);
    /* Misuse. */
    assert_int_equal(slate_latency_to_stats(NULL, back), SLATE_EINVAL);
    slate_latency_t bad = {0};
    bad.hist_len = 3; /* neither hist nor raw */
    assert_int_equal(slate_latency_to_stats(&bad, back), SLATE_ECORRUPT);
    bad.hist_offset = 1158;
    assert_int_equal(slate_latency_to_stats(&bad, back), SLATE_EVALUE);
    free(s);
    free(back);
}

static void test_error_format(void **state)
{
    (void)state;
    slate_codec_error_t err = {0};
    err.status = SLATE_EUTF8;
    err.offset = 812;
    err.detail = "string is not valid UTF-8";
    strcpy(err.path, "LoadReport.spans[3].path");
    char buf[128];
    size_t n = slate_codec_error_format(&err, buf, sizeof buf);
    const char *want = "SLATE_EUTF8 at byte 812 in LoadReport.spans[3].path: string is not "
                       "valid UTF-8";
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    /* Truncation keeps a NUL and reports the full length. */
    char small[10];
    assert_int_equal(slate_codec_error_format(&err, small, sizeof small), strlen(want));
    assert_string_equal(small, "SLATE_EUT");
    assert_int_equal(slate_codec_error_format(&err, NULL, 0), strlen(want));
    err.status = SLATE_OK;
    slate_codec_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "SLATE_OK");

    /* A long path is cut with "...". */
    pbw_t *w = calloc(1, sizeof *w);
    w_u64(w, 123456789, 1);
    w_tag(w, 300000000, 3);
    sink_t *s = calloc(1, sizeof *s);
    assert_int_equal(decode_report(s, w->b, w->n, NULL, &err), SLATE_EGROUP);
    assert_string_equal(err.path, "LoadReport.#300000000");
    n = slate_codec_error_format(&err, buf, sizeof buf);
    assert_true(strstr(buf, "SLATE_EGROUP at byte 6 in LoadReport.#300000000: ") == buf);
    free(w);
    free(s);
}

static void test_limits_default(void **state)
{
    (void)state;
    slate_codec_limits_t a, b = SLATE_CODEC_LIMITS_DEFAULT;
    slate_codec_limits_default(&a);
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(a.max_depth, 8);
    assert_int_equal(a.max_string, 4096);
    slate_str_t e = slate_str(NULL);
    assert_null(e.ptr);
    assert_int_equal(e.len, 0);
}

/* Delimited streams: framing, the end, and every malformed prefix. */
static void test_delimited_stream(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t pos = 0;
    const uint8_t a[] = {0x0a, 0x01, 'x'};
    uint8_t big[200];
    memset(big, 0x20, sizeof(big));
    assert_int_equal(slate_delimited_put(buf, sizeof(buf), &pos, a, sizeof(a)), SLATE_OK);
    assert_int_equal(slate_delimited_put(buf, sizeof(buf), &pos, NULL, 0), SLATE_OK);
    assert_int_equal(pos, 5);
    /* does not fit: nothing written */
    assert_int_equal(slate_delimited_put(buf, sizeof(buf), &pos, big, sizeof(big)), SLATE_ENOSPC);
    assert_int_equal(pos, 5);
    uint8_t pre[SLATE_DELIMITED_PREFIX_MAX];
    assert_int_equal(slate_delimited_prefix(200, pre), 2);
    assert_int_equal(pre[0], 0xc8);
    assert_int_equal(pre[1], 0x01);
    assert_int_equal(slate_delimited_prefix(SIZE_MAX, pre), sizeof(size_t) == 8 ? 10 : 5);

    size_t r = 0, len = 99;
    const uint8_t *msg = NULL;
    assert_int_equal(slate_delimited_next(buf, pos, &r, &msg, &len), SLATE_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(msg, a, 3);
    assert_int_equal(slate_delimited_next(buf, pos, &r, &msg, &len), SLATE_OK);
    assert_int_equal(len, 0);
    assert_int_equal(slate_delimited_next(buf, pos, &r, &msg, &len), SLATE_EEMPTY);
    assert_int_equal(r, pos);

    const uint8_t trunc[] = {0x80};
    const uint8_t past[] = {0x05, 'a', 'b'};
    const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    struct {
        const uint8_t *p;
        size_t n;
        slate_status want;
    } bad[] = {{trunc, sizeof(trunc), SLATE_ETRUNCATED},
               {past, sizeof(past), SLATE_ELENGTH},
               {over, sizeof(over), SLATE_EVARINT},
               {eleven, sizeof(eleven), SLATE_EVARINT}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = 0;
        msg = NULL;
        assert_int_equal(slate_delimited_next(bad[i].p, bad[i].n, &r, &msg, &len), bad[i].want);
        assert_int_equal(r, 0); /* nothing consumed */
        assert_null(msg);
    }
    r = 4;
    assert_int_equal(slate_delimited_next(past, sizeof(past), &r, &msg, &len), SLATE_EINVAL);
    assert_int_equal(slate_delimited_next(NULL, 0, &r, &msg, &len), SLATE_EINVAL);
    r = 0;
    assert_int_equal(slate_delimited_next(NULL, 0, &r, &msg, &len), SLATE_EEMPTY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_exact_bytes),
        cmocka_unit_test(test_report_exact_bytes_small),
        cmocka_unit_test(test_report_round_trip),
        cmocka_unit_test(test_field_order_and_form),
        cmocka_unit_test(test_encode_sizing),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_decode_count_only_and_short_arrays),
        cmocka_unit_test(test_pull_iterators_match_arrays),
        cmocka_unit_test(test_rules_iterators),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_packed_unpacked_and_merge),
        cmocka_unit_test(test_packed_counts),
        cmocka_unit_test(test_uint32_takes_low_bits),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_decode_error_paths),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_utf8_against_reference),
        cmocka_unit_test(test_latency_stats_round_trip),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_limits_default),
        cmocka_unit_test(test_varint_widths),
        cmocka_unit_test(test_utf8_positions),
        cmocka_unit_test(test_delimited_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
