/*
 * Interop with protobuf-c, a real protobuf peer generated from the same schema:
 * what libslate encodes, protobuf-c decodes (every field compared, and the
 * canonical bytes are identical); what protobuf-c encodes, libslate decodes.
 * Defaults, empty repeated fields, extreme values, strings at the length
 * limit, unknown fields from a newer peer (a test-only v2 schema) and the
 * unpacked form of repeated scalars (a [packed = false] variant).
 * Randomised messages use fixed seeds.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc_bridge.h"
#include "slate/slate.h"
#include "slate_unpacked_test.pb-c.h"
#include "slate_v2_test.pb-c.h"

/* protobuf-c allocations come from an arena: nothing to free one by one. */
static void *arena_alloc(void *data, size_t n)
{
    return bridge_alloc(data, n ? n : 1);
}

static void arena_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

typedef struct {
    bridge_arena_t gen;  /* random messages */
    bridge_arena_t peer; /* protobuf-c's own allocations */
    ProtobufCAllocator alloc;
    uint8_t *buf, *buf2;
    size_t cap;
    bridge_report_sink_t *rs;
    bridge_rules_sink_t *ru;
} ctx_t;

static int setup(void **state)
{
    ctx_t *c = calloc(1, sizeof *c);
    bridge_arena_init(&c->gen, 64u << 20);
    bridge_arena_init(&c->peer, 64u << 20);
    c->alloc.alloc = arena_alloc;
    c->alloc.free = arena_free;
    c->alloc.allocator_data = &c->peer;
    c->cap = 16u << 20;
    c->buf = malloc(c->cap);
    c->buf2 = malloc(c->cap);
    c->rs = malloc(sizeof *c->rs);
    c->ru = malloc(sizeof *c->ru);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx_t *c = *state;
    bridge_arena_free(&c->gen);
    bridge_arena_free(&c->peer);
    free(c->buf);
    free(c->buf2);
    free(c->rs);
    free(c->ru);
    free(c);
    return 0;
}

static void reset(ctx_t *c)
{
    bridge_arena_reset(&c->gen);
    bridge_arena_reset(&c->peer);
}

static const bridge_gen_t small = {8, 8, 8, 6, 12, 6, 40, 0, 0};
static const bridge_gen_t extreme = {4, 4, 4, 4, 6, 6, 24, 1, 0};
static const bridge_gen_t negzero = {4, 4, 4, 4, 6, 6, 24, 1, 1};

#define ASSERT_NO_DIFF(d, seed)                                                                    \
    do {                                                                                           \
        const char *d_ = (d);                                                                      \
        if (d_)                                                                                    \
            fail_msg("seed %llu: fields differ at %s", (unsigned long long)(seed), d_);            \
    } while (0)

/* libslate encodes; protobuf-c decodes, every field agrees, and protobuf-c's own
 * encoding of the same message is byte-identical (both are canonical). */
static void slate_to_pc_report(ctx_t *c, const slate_load_report_t *r, uint64_t seed)
{
    size_t len;
    slate_codec_error_t err;
    assert_int_equal(slate_load_report_encode(r, c->buf, c->cap, &len, &err), SLATE_OK);
    Slate__V1__LoadReport *pc = slate__v1__load_report__unpack(&c->alloc, len, c->buf);
    if (!pc)
        fail_msg("seed %llu: protobuf-c rejected libslate's report", (unsigned long long)seed);
    ASSERT_NO_DIFF(bridge_report_diff(pc, r), seed);
    Slate__V1__LoadReport *mine = bridge_report_to_pc(&c->gen, r);
    size_t pl = slate__v1__load_report__get_packed_size(mine);
    assert_true(pl <= c->cap);
    assert_int_equal(slate__v1__load_report__pack(mine, c->buf2), pl);
    if (bridge_report_has_negzero(r))
        return; /* protobuf-c leaves -0.0 out; fields were compared above */
    if (pl != len || memcmp(c->buf, c->buf2, len) != 0)
        fail_msg("seed %llu: protobuf-c's encoding differs from libslate's (%zu vs %zu bytes)",
                 (unsigned long long)seed, pl, len);
}

/* protobuf-c encodes; libslate decodes; every field agrees. */
static void pc_to_slate_report(ctx_t *c, const slate_load_report_t *r, uint64_t seed)
{
    Slate__V1__LoadReport *pc = bridge_report_to_pc(&c->gen, r);
    size_t pl = slate__v1__load_report__pack(pc, c->buf2);
    slate_codec_error_t err;
    slate_status st = slate_load_report_decode(bridge_report_sink(c->rs), c->buf2, pl, NULL, &err);
    if (st != SLATE_OK) {
        char line[256];
        slate_codec_error_format(&err, line, sizeof line);
        fail_msg("seed %llu: libslate rejected protobuf-c's report: %s", (unsigned long long)seed,
                 line);
    }
    /* Against what protobuf-c itself reads back from its bytes... */
    Slate__V1__LoadReport *back = slate__v1__load_report__unpack(&c->alloc, pl, c->buf2);
    assert_non_null(back);
    ASSERT_NO_DIFF(bridge_report_diff(back, &c->rs->r), seed);
    /* ...and against what it was given (protobuf-c does not send -0.0). */
    if (!bridge_report_has_negzero(r))
        ASSERT_NO_DIFF(bridge_report_diff(pc, &c->rs->r), seed);
}

static void slate_to_pc_rules(ctx_t *c, const slate_routing_rules_t *r, uint64_t seed)
{
    size_t len;
    assert_int_equal(slate_routing_rules_encode(r, c->buf, c->cap, &len, NULL), SLATE_OK);
    Slate__V1__RoutingRules *pc = slate__v1__routing_rules__unpack(&c->alloc, len, c->buf);
    if (!pc)
        fail_msg("seed %llu: protobuf-c rejected libslate's rules", (unsigned long long)seed);
    ASSERT_NO_DIFF(bridge_rules_diff(pc, r), seed);
    Slate__V1__RoutingRules *mine = bridge_rules_to_pc(&c->gen, r);
    size_t pl = slate__v1__routing_rules__pack(mine, c->buf2);
    assert_true(pl == len && memcmp(c->buf, c->buf2, len) == 0);
}

static void pc_to_slate_rules(ctx_t *c, const slate_routing_rules_t *r, uint64_t seed)
{
    Slate__V1__RoutingRules *pc = bridge_rules_to_pc(&c->gen, r);
    size_t pl = slate__v1__routing_rules__pack(pc, c->buf2);
    slate_codec_error_t err;
    slate_status st = slate_routing_rules_decode(bridge_rules_sink(c->ru), c->buf2, pl, NULL, &err);
    if (st != SLATE_OK)
        fail_msg("seed %llu: libslate rejected protobuf-c's rules: %s at %s",
                 (unsigned long long)seed, slate_status_name(st), err.path);
    ASSERT_NO_DIFF(bridge_rules_diff(pc, &c->ru->r), seed);
}

static void test_random_both_ways(void **state)
{
    ctx_t *c = *state;
    for (uint64_t seed = 1; seed <= 10000; seed++) {
        bridge_rng_t g = {seed * 0x9E3779B97F4A7C15ull};
        const bridge_gen_t *opt = seed % 5 == 0 ? &extreme : seed % 7 == 0 ? &negzero : &small;
        slate_load_report_t r;
        slate_routing_rules_t ru;
        reset(c);
        bridge_random_report(&g, &c->gen, opt, &r);
        slate_to_pc_report(c, &r, seed);
        pc_to_slate_report(c, &r, seed);
        bridge_random_rules(&g, &c->gen, opt, &ru);
        slate_to_pc_rules(c, &ru, seed);
        pc_to_slate_rules(c, &ru, seed);
    }
}

/* A few large messages (hundreds of elements, full histograms). */
static void test_random_large(void **state)
{
    ctx_t *c = *state;
    const bridge_gen_t big = {200, 100, 300, 12, 800, 8, 300, 1, 0};
    for (uint64_t seed = 1; seed <= 20; seed++) {
        bridge_rng_t g = {seed ^ 0xABCDEF};
        slate_load_report_t r;
        slate_routing_rules_t ru;
        reset(c);
        bridge_random_report(&g, &c->gen, &big, &r);
        slate_to_pc_report(c, &r, seed);
        pc_to_slate_report(c, &r, seed);
        bridge_random_rules(&g, &c->gen, &big, &ru);
        slate_to_pc_rules(c, &ru, seed);
        pc_to_slate_rules(c, &ru, seed);
    }
}

static void test_defaults_and_empty(void **state)
{
    ctx_t *c = *state;
    reset(c);
    /* The default message is zero bytes, both ways. */
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    size_t len = 99;
    assert_int_equal(slate_load_report_encode(&r, c->buf, c->cap, &len, NULL), SLATE_OK);
    assert_int_equal(len, 0);
    Slate__V1__LoadReport *pc = slate__v1__load_report__unpack(&c->alloc, 0, c->buf);
    assert_non_null(pc);
    assert_null(bridge_report_diff(pc, &r));
    assert_int_equal(pc->n_inbound, 0);
    assert_null(pc->drops);
    Slate__V1__LoadReport def = SLATE__V1__LOAD_REPORT__INIT;
    assert_int_equal(slate__v1__load_report__get_packed_size(&def), 0);
    assert_int_equal(slate_load_report_decode(bridge_report_sink(c->rs), c->buf, 0, NULL, NULL),
                     SLATE_OK);
    assert_null(bridge_report_diff(&def, &c->rs->r));

    /* Elements whose every field is default, and empty nested lists. */
    slate_inbound_t in[2];
    slate_span_t sp[2];
    memset(in, 0, sizeof in);
    memset(sp, 0, sizeof sp);
    r.inbound = in;
    r.n_inbound = 2;
    r.spans = sp;
    r.n_spans = 2;
    slate_to_pc_report(c, &r, 0);
    pc_to_slate_report(c, &r, 0);
    assert_int_equal(c->rs->r.n_inbound, 2);
    assert_int_equal(c->rs->r.n_spans, 2);
    assert_int_equal(c->rs->r.n_span_loads, 0);

    /* A present but empty latency (protobuf-c sends tag + length 0). */
    Slate__V1__LatencyStats lat = SLATE__V1__LATENCY_STATS__INIT;
    Slate__V1__InboundLoad pin = SLATE__V1__INBOUND_LOAD__INIT;
    Slate__V1__InboundLoad *pins[1] = {&pin};
    pin.latency = &lat;
    Slate__V1__LoadReport prep = SLATE__V1__LOAD_REPORT__INIT;
    prep.n_inbound = 1;
    prep.inbound = pins;
    size_t pl = slate__v1__load_report__pack(&prep, c->buf);
    assert_int_equal(pl, 4); /* 3a 02 32 00 */
    assert_int_equal(slate_load_report_decode(bridge_report_sink(c->rs), c->buf, pl, NULL, NULL),
                     SLATE_OK);
    assert_int_equal(c->rs->r.n_inbound, 1);
    assert_null(bridge_report_diff(&prep, &c->rs->r));

    /* Rules with no rules, and a rule with no targets. */
    slate_routing_rules_t ru;
    memset(&ru, 0, sizeof ru);
    slate_to_pc_rules(c, &ru, 0);
    slate_rule_t rule;
    memset(&rule, 0, sizeof rule);
    ru.rules = &rule;
    ru.n_rules = 1;
    slate_to_pc_rules(c, &ru, 0);
    pc_to_slate_rules(c, &ru, 0);
}

static void test_max_values(void **state)
{
    ctx_t *c = *state;
    reset(c);
    /* Strings at the default limit, every integer at its maximum. */
    char *lim = bridge_alloc(&c->gen, SLATE_CODEC_DEFAULT_MAX_STRING + 1);
    memset(lim, 'x', SLATE_CODEC_DEFAULT_MAX_STRING + 1);
    slate_str_t at = {lim, SLATE_CODEC_DEFAULT_MAX_STRING};
    slate_str_t over = {lim, SLATE_CODEC_DEFAULT_MAX_STRING + 1};
    uint32_t hist[SLATE_HIST_BUCKETS];
    for (uint32_t i = 0; i < SLATE_HIST_BUCKETS; i++)
        hist[i] = UINT32_MAX - i;
    slate_inbound_t in;
    memset(&in, 0, sizeof in);
    in.method = at;
    in.path = at;
    in.requests = UINT64_MAX;
    in.rate_rps = 1.7976931348623157e308;
    in.in_flight = UINT64_MAX;
    in.latency.count = UINT64_MAX;
    in.latency.sum_ns = UINT64_MAX;
    in.latency.min_ns = UINT64_MAX;
    in.latency.max_ns = UINT64_MAX;
    in.latency.mean_ns = -1.7976931348623157e308;
    in.latency.m2 = 1e300;
    in.latency.hist_offset = 0;
    in.latency.hist_len = SLATE_HIST_BUCKETS; /* every bucket */
    in.latency.hist = hist;
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    r.service = at;
    r.sequence = UINT64_MAX;
    r.time_ns = UINT64_MAX;
    r.interval_ns = UINT64_MAX;
    r.inbound = &in;
    r.n_inbound = 1;
    uint64_t *d = (uint64_t *)&r.drops;
    for (size_t k = 0; k < sizeof r.drops / 8; k++)
        d[k] = UINT64_MAX;
    slate_to_pc_report(c, &r, 0);
    pc_to_slate_report(c, &r, 0);

    /* One byte over the string limit: protobuf-c accepts, libslate says ESTRLEN. */
    r.pod = over;
    Slate__V1__LoadReport *pc = bridge_report_to_pc(&c->gen, &r);
    size_t pl = slate__v1__load_report__pack(pc, c->buf2);
    slate_codec_error_t err;
    assert_int_equal(slate_load_report_decode(bridge_report_sink(c->rs), c->buf2, pl, NULL, &err),
                     SLATE_ESTRLEN);
    assert_string_equal(err.path, "LoadReport.pod");
    /* ... and a raised limit accepts it. */
    slate_codec_limits_t l = SLATE_CODEC_LIMITS_DEFAULT;
    l.max_string = SLATE_CODEC_DEFAULT_MAX_STRING + 1;
    assert_int_equal(slate_load_report_decode(bridge_report_sink(c->rs), c->buf2, pl, &l, &err),
                     SLATE_OK);
    assert_null(bridge_report_diff(pc, &c->rs->r));

    /* Rules: every weight at UINT32_MAX, version and TTL at UINT64_MAX. */
    slate_route_target_t t[3] = {{at, UINT32_MAX}, {slate_str("b"), UINT32_MAX}, {at, 0}};
    slate_rule_t rule;
    memset(&rule, 0, sizeof rule);
    rule.dst_service = at;
    rule.targets = t;
    rule.n_targets = 3;
    slate_routing_rules_t ru = {UINT64_MAX, UINT64_MAX, UINT64_MAX, &rule, 1,
                                0,          NULL,       0,          0,     {NULL, 0, 0}};
    slate_to_pc_rules(c, &ru, 0);
    pc_to_slate_rules(c, &ru, 0);
}

/* ------------------------------------------------------------------------- */
/* A newer peer (v2 schema) adds fields libslate does not know. */

static Slate__V2test__Extra *extra(ctx_t *c, bridge_rng_t *g, int depth)
{
    Slate__V2test__Extra *e = bridge_alloc(&c->gen, sizeof *e);
    slate__v2test__extra__init(e);
    e->note = "a note from the future \xe2\x82\xac";
    e->f64 = bridge_rand(g);
    e->f32 = (uint32_t)bridge_rand(g);
    if (depth < 3)
        e->child = extra(c, g, depth + 1);
    e->n_zz = 3;
    e->zz = bridge_alloc(&c->gen, 3 * sizeof *e->zz);
    e->zz[0] = -1;
    e->zz[1] = INT32_MIN;
    e->zz[2] = (int32_t)bridge_rand(g);
    return e;
}

static void fill_v2_latency(ctx_t *c, bridge_rng_t *g, Slate__V2test__LatencyStats *l)
{
    if (!l)
        return;
    l->extra_f32 = (uint32_t)bridge_rand(g) | 1;
    l->extra_str = "x";
    l->n_extra_packed = 2;
    l->extra_packed = bridge_alloc(&c->gen, 2 * sizeof(uint64_t));
    l->extra_packed[0] = UINT64_MAX;
    l->extra_packed[1] = 1;
}

static void fill_v2_report(ctx_t *c, bridge_rng_t *g, Slate__V2test__LoadReport *r)
{
    r->extra = extra(c, g, 0);
    r->extra_double = -2.5;
    r->extra_far = UINT64_MAX;
    for (size_t i = 0; i < r->n_inbound; i++) {
        r->inbound[i]->extra = extra(c, g, 1);
        r->inbound[i]->extra_bytes.len = 3;
        r->inbound[i]->extra_bytes.data = (uint8_t *)"\xff\x00\xfe"; /* not UTF-8: bytes */
        r->inbound[i]->extra_float = 1.25f;
        fill_v2_latency(c, g, r->inbound[i]->latency);
    }
    for (size_t i = 0; i < r->n_outbound; i++) {
        r->outbound[i]->extra_sf64 = INT64_MIN;
        fill_v2_latency(c, g, r->outbound[i]->latency);
    }
    for (size_t i = 0; i < r->n_spans; i++) {
        Slate__V2test__Span *s = r->spans[i];
        s->n_extras = 2;
        s->extras = bridge_alloc(&c->gen, 2 * sizeof *s->extras);
        s->extras[0] = extra(c, g, 2);
        s->extras[1] = extra(c, g, 3);
        s->extra_neg = -1; /* a 10-byte varint */
        for (size_t k = 0; k < s->n_load; k++)
            s->load[k]->extra = extra(c, g, 3);
    }
    if (r->drops)
        r->drops->extra_counter = 77;
}

static void test_unknown_fields_from_newer_peer(void **state)
{
    ctx_t *c = *state;
    for (uint64_t seed = 1; seed <= 500; seed++) {
        bridge_rng_t g = {seed * 7919};
        reset(c);
        slate_load_report_t r;
        bridge_random_report(&g, &c->gen, seed % 4 == 0 ? &extreme : &small, &r);
        size_t len;
        assert_int_equal(slate_load_report_encode(&r, c->buf, c->cap, &len, NULL), SLATE_OK);
        /* The v2 peer reads our bytes (its new fields default)... */
        Slate__V2test__LoadReport *v2 = slate__v2test__load_report__unpack(&c->alloc, len, c->buf);
        assert_non_null(v2);
        assert_null(v2->extra);
        /* ...sets its new fields and writes. */
        fill_v2_report(c, &g, v2);
        size_t pl = slate__v2test__load_report__get_packed_size(v2);
        assert_true(pl > len);
        assert_int_equal(slate__v2test__load_report__pack(v2, c->buf2), pl);
        /* libslate skips what it does not know: every known field as sent, and the
         * canonical re-encoding equals the v1 encoding. */
        slate_codec_error_t err;
        slate_status st =
            slate_load_report_decode(bridge_report_sink(c->rs), c->buf2, pl, NULL, &err);
        if (st != SLATE_OK)
            fail_msg("seed %llu: %s at %s: %s", (unsigned long long)seed, slate_status_name(st),
                     err.path, err.detail);
        Slate__V1__LoadReport *v1 = slate__v1__load_report__unpack(&c->alloc, pl, c->buf2);
        assert_non_null(v1);
        ASSERT_NO_DIFF(bridge_report_diff(v1, &c->rs->r), seed);
        ASSERT_NO_DIFF(bridge_report_diff(v1, &r), seed);
        size_t len2;
        assert_int_equal(
            slate_load_report_encode(&c->rs->r, c->buf2 + pl, c->cap - pl, &len2, NULL), SLATE_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(c->buf2 + pl, c->buf, len);

        /* Rules from a newer controller. */
        slate_routing_rules_t ru;
        bridge_random_rules(&g, &c->gen, &small, &ru);
        assert_int_equal(slate_routing_rules_encode(&ru, c->buf, c->cap, &len, NULL), SLATE_OK);
        Slate__V2test__RoutingRules *v2r =
            slate__v2test__routing_rules__unpack(&c->alloc, len, c->buf);
        assert_non_null(v2r);
        v2r->extra = extra(c, &g, 0);
        v2r->extra_flag = 1;
        for (size_t i = 0; i < v2r->n_rules; i++) {
            v2r->rules[i]->extra_f64 = bridge_rand(&g);
            for (size_t k = 0; k < v2r->rules[i]->n_targets; k++)
                v2r->rules[i]->targets[k]->extra_note = "n";
        }
        pl = slate__v2test__routing_rules__pack(v2r, c->buf2);
        assert_int_equal(
            slate_routing_rules_decode(bridge_rules_sink(c->ru), c->buf2, pl, NULL, NULL),
            SLATE_OK);
        Slate__V1__RoutingRules *v1r = slate__v1__routing_rules__unpack(&c->alloc, pl, c->buf2);
        assert_non_null(v1r);
        ASSERT_NO_DIFF(bridge_rules_diff(v1r, &c->ru->r), seed);
        ASSERT_NO_DIFF(bridge_rules_diff(v1r, &ru), seed);
    }
}

/* A peer that writes hist_counts unpacked (one tag per count). */
static void test_unpacked_from_peer(void **state)
{
    ctx_t *c = *state;
    unsigned with_counts = 0;
    for (uint64_t seed = 1; seed <= 500; seed++) {
        bridge_rng_t g = {seed * 104729};
        reset(c);
        slate_load_report_t r;
        bridge_random_report(&g, &c->gen, &small, &r);
        size_t len;
        assert_int_equal(slate_load_report_encode(&r, c->buf, c->cap, &len, NULL), SLATE_OK);
        /* protobuf-c reads packed into the unpacked variant (as protobuf requires)... */
        ProtobufCMessage *m = protobuf_c_message_unpack(
            &slate__unpackedtest__load_report__descriptor, &c->alloc, len, c->buf);
        assert_non_null(m);
        /* ...and writes it unpacked. */
        size_t pl = protobuf_c_message_pack(m, c->buf2);
        bool any = false;
        for (size_t i = 0; i < r.n_inbound; i++)
            any |= r.inbound[i].latency.hist_len > 0;
        for (size_t i = 0; i < r.n_outbound; i++)
            any |= r.outbound[i].latency.hist_len > 0;
        if (any) {
            assert_true(pl != len || memcmp(c->buf, c->buf2, len) != 0); /* another byte form */
            with_counts++;
        } else {
            assert_int_equal(pl, len);
        }
        assert_int_equal(
            slate_load_report_decode(bridge_report_sink(c->rs), c->buf2, pl, NULL, NULL), SLATE_OK);
        Slate__V1__LoadReport *v1 = slate__v1__load_report__unpack(&c->alloc, pl, c->buf2);
        assert_non_null(v1);
        ASSERT_NO_DIFF(bridge_report_diff(v1, &c->rs->r), seed);
        ASSERT_NO_DIFF(bridge_report_diff(v1, &r), seed);
        /* Re-encoded by libslate: packed again, identical to the original. */
        size_t len2;
        assert_int_equal(slate_load_report_encode(&c->rs->r, c->buf2, c->cap, &len2, NULL),
                         SLATE_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(c->buf2, c->buf, len);
    }
    assert_true(with_counts > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_empty),
        cmocka_unit_test(test_max_values),
        cmocka_unit_test(test_random_both_ways),
        cmocka_unit_test(test_random_large),
        cmocka_unit_test(test_unknown_fields_from_newer_peer),
        cmocka_unit_test(test_unpacked_from_peer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
