/*
 * Tests of the data plane's pure C parts, compiled natively: the plugin
 * configuration parser, the worker batch layout, the hash map and the
 * filter's rate estimator (winrate.h, against the core's) (the
 * published rules are the core's ruleset: tests/test_ruleset.c). (The modules themselves are tested
 * in the wasm host by the JavaScript tests in shims/wasm/tests.)
 *
 * With SLATE_WASM_CORPUS_OUT=<dir> set, it also writes the fuzz seeds of
 * fuzz_wasm_config and fuzz_wasm_batch into <dir>/<target>/,
 * from the real encodings it builds here.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shims/wasm/batch.c"
#include "../shims/wasm/config.c"
#include "../shims/wasm/map.c"
#include "../shims/wasm/winrate.h"
#include "seed_out.h"
#include "slate/key.h"
#include "slate/sampler.h"
#include "slate/stats.h"

/* ------------------------------------------------------------------------- */
/* Configuration.                                                             */

static sw_config_err parse(const char *json, sw_config_t *c, sw_config_error_t *e)
{
    return sw_config_parse(c, json, strlen(json), SW_ROLE_FILTER, e);
}

static void test_config_defaults(void **state)
{
    (void)state;
    sw_config_t c;
    sw_config_error_t e;
    const char *j = "{\"service\":\"frontend\",\"region\":\"us-west-1\"}";
    write_seed("fuzz_wasm_config", "minimal.json", j, strlen(j));
    assert_int_equal(parse(j, &c, &e), SW_CFG_OK);
    assert_string_equal(c.service, "frontend");
    assert_string_equal(c.region, "us-west-1");
    assert_int_equal(c.role, SW_ROLE_FILTER);
    assert_int_equal(c.direction, SW_DIR_AUTO);
    assert_int_equal(c.protocol, SW_PROTO_PROTOBUF);
    assert_int_equal(c.tick_ms, 1000);
    assert_int_equal(c.http_timeout_ms, 500);
    assert_int_equal(c.rules_ttl_ms, 30000);
    assert_true(c.trace_sampling_rate == 0.01);
    assert_string_equal(c.routing_header, "x-slate-routeto");
    assert_int_equal(c.route_local_when_no_rules, 0);
    assert_string_equal(c.controller_path, "/v1/report");
    assert_int_equal(c.max_endpoints, 64);
    assert_int_equal(c.max_batch_bytes, 65536);
    assert_int_equal(c.max_workers, 128);
}

static void test_config_every_key(void **state)
{
    (void)state;
    sw_config_t c;
    sw_config_error_t e;
    const char *j =
        "{ \"role\": \"reporter\", \"service\": \"cart\", \"region\": \"eu-west-1\",\n"
        "  \"pod\": \"cart-7f\", \"vm_id\": \"slate\", \"direction\": \"outbound\",\n"
        "  \"protocol\": \"slate-legacy\", \"controller_cluster\": \"outbound|8080||ctl\",\n"
        "  \"tick_ms\": 2e3, \"http_timeout_ms\": 250, \"trace_sampling_rate\": 0.125,\n"
        "  \"rules_ttl_ms\": 60000, \"routing_header\": \"x-route\",\n"
        "  \"route_local_when_no_rules\": false,\n"
        "  \"limits\": {\"max_endpoints\": 10, \"max_outbound\": 11, \"max_spans_per_tick\": 0,\n"
        "    \"max_rules\": 12, \"max_regions\": 13, \"max_response_bytes\": 4096,\n"
        "    \"max_batch_bytes\": 20000, \"max_workers\": 14} }";
    write_seed("fuzz_wasm_config", "every_key.json", j, strlen(j));
    assert_int_equal(parse(j, &c, &e), SW_CFG_OK);
    assert_int_equal(c.role, SW_ROLE_REPORTER);
    assert_int_equal(c.direction, SW_DIR_OUTBOUND);
    assert_int_equal(c.protocol, SW_PROTO_LEGACY);
    assert_string_equal(c.pod, "cart-7f");
    assert_string_equal(c.vm_id, "slate");
    assert_string_equal(c.controller_cluster, "outbound|8080||ctl");
    assert_string_equal(c.controller_authority, "outbound|8080||ctl"); /* defaults to the cluster */
    assert_string_equal(c.controller_path, "/proxyLoad");              /* legacy default */
    assert_int_equal(c.tick_ms, 2000);
    assert_int_equal(c.http_timeout_ms, 250);
    assert_true(c.trace_sampling_rate == 0.125);
    assert_int_equal(c.rules_ttl_ms, 60000);
    assert_string_equal(c.routing_header, "x-route");
    assert_int_equal(c.route_local_when_no_rules, 0);
    assert_int_equal(c.max_endpoints, 10);
    assert_int_equal(c.max_outbound, 11);
    assert_int_equal(c.max_spans_per_tick, 0);
    assert_int_equal(c.max_rules, 12);
    assert_int_equal(c.max_regions, 13);
    assert_int_equal(c.max_response_bytes, 4096);
    assert_int_equal(c.max_batch_bytes, 20000);
    assert_int_equal(c.max_workers, 14);
}

static void test_config_escapes(void **state)
{
    (void)state;
    sw_config_t c;
    sw_config_error_t e;
    /* Escapes decode before the character check: "\u0066e" is "fe". */
    const char *j = "{\"service\":\"\\u0066e\",\"region\":\"r\\/1\",\"vm_id\":\"\\u00e9\"}";
    assert_int_equal(parse(j, &c, &e), SW_CFG_STRING); /* '/' is not a name character */
    assert_string_equal(e.key, "region");
    j = "{\"service\":\"\\u0066e\",\"region\":\"r1\",\"pod\":\"p\"}";
    assert_int_equal(parse(j, &c, &e), SW_CFG_OK);
    assert_string_equal(c.service, "fe");
}

/* No configuration, or one without service and region, is accepted: both
 * stay empty and are taken from the proxy when the plugin starts. */
static void test_config_identity_optional(void **state)
{
    (void)state;
    static const char *const ok[] = {"", "   ", "{}", "{\"region\":\"r\"}", "{\"service\":\"s\"}"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sw_config_t c;
        sw_config_error_t e;
        assert_int_equal(sw_config_parse(&c, ok[i], strlen(ok[i]), SW_ROLE_FILTER, &e), SW_CFG_OK);
        assert_int_equal(e.code, SW_CFG_OK);
        assert_string_equal(c.service, i == 4 ? "s" : "");
        assert_string_equal(c.region, i == 3 ? "r" : "");
    }
}

/* Each bad configuration fails with the expected error and key. */
static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        sw_config_err code;
        const char *key;
    } cases[] = {
        {"[]", SW_CFG_NOT_OBJECT, ""},
        {"{\"service\":\"s\",\"region\":\"r\",\"x\":1}", SW_CFG_UNKNOWN_KEY, "x"},
        {"{\"service\":\"s\",\"service\":\"s\",\"region\":\"r\"}", SW_CFG_DUPLICATE_KEY, "service"},
        {"{\"service\":1,\"region\":\"r\"}", SW_CFG_TYPE, "service"},
        {"{\"service\":\"\",\"region\":\"r\"}", SW_CFG_STRING, "service"},
        {"{\"service\":\"s\",\"region\":\"r\",\"tick_ms\":9}", SW_CFG_RANGE, "tick_ms"},
        {"{\"service\":\"s\",\"region\":\"r\",\"tick_ms\":3600001}", SW_CFG_RANGE, "tick_ms"},
        {"{\"service\":\"s\",\"region\":\"r\",\"tick_ms\":-1}", SW_CFG_RANGE, "tick_ms"},
        {"{\"service\":\"s\",\"region\":\"r\",\"tick_ms\":100.5}", SW_CFG_RANGE, "tick_ms"},
        {"{\"service\":\"s\",\"region\":\"r\",\"tick_ms\":01}", SW_CFG_SYNTAX, "tick_ms"},
        {"{\"service\":\"s\",\"region\":\"r\",\"trace_sampling_rate\":-0.1}", SW_CFG_RANGE,
         "trace_sampling_rate"},
        {"{\"service\":\"s\",\"region\":\"r\",\"trace_sampling_rate\":true}", SW_CFG_TYPE,
         "trace_sampling_rate"},
        {"{\"service\":\"s\",\"region\":\"r\",\"route_local_when_no_rules\":\"yes\"}", SW_CFG_TYPE,
         "route_local_when_no_rules"},
        {"{\"service\":\"s\",\"region\":\"r\",\"routing_header\":\"X\"}", SW_CFG_STRING,
         "routing_header"},
        {"{\"service\":\"s\",\"region\":\"r\",\"limits\":{\"max_rules\":5000}}", SW_CFG_RANGE,
         "limits.max_rules"},
        {"{\"service\":\"s\",\"region\":\"r\",\"limits\":{\"nope\":1}}", SW_CFG_UNKNOWN_KEY,
         "limits.nope"},
        {"{\"service\":\"s\",\"region\":\"r\",\"limits\":5}", SW_CFG_TYPE, "limits"},
        {"{\"service\":\"s\",\"region\":\"r\",\"role\":\"reporter\"}", SW_CFG_MISSING,
         "controller_cluster"},
        {"{\"service\":\"s\",\"region\":\"r\",\"role\":\"reporter\",\"controller_cluster\":\"c\","
         "\"http_timeout_ms\":1000}",
         SW_CFG_RANGE, "http_timeout_ms"},
        {"{\"service\":\"s\",\"region\":\"r\",\"controller_path\":\"x\"}", SW_CFG_STRING,
         "controller_path"},
        {"{\"service\":\"s\",\"region\":\"r\"", SW_CFG_SYNTAX, "region"},
        {"{\"service\":\"s\",\"region\":\"r\",}", SW_CFG_SYNTAX, ""},
        {"{\"service\":\"s\",\"region\":\"r\"} {}", SW_CFG_SYNTAX, ""},
        {"{\"service\":\"s\\x\",\"region\":\"r\"}", SW_CFG_SYNTAX, "service"},
        {"{\"service\":\"\\ud800\",\"region\":\"r\"}", SW_CFG_SYNTAX, "service"},
        {"{\"service\":\"s\",\"region\":\"r\",\"direction\":\"up\"}", SW_CFG_STRING, "direction"},
        {"{\"service\":\"0123456789012345678901234567890123456789012345678901234567890123\","
         "\"region\":\"r\"}",
         SW_CFG_STRING, "service"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_config_t c;
        sw_config_error_t e;
        sw_config_err got = parse(cases[i].json, &c, &e);
        if (got != cases[i].code || strcmp(e.key, cases[i].key) != 0)
            fail_msg("case %zu (%s): got %d key '%s' (%s), want %d key '%s'", i, cases[i].json, got,
                     e.key, e.reason, cases[i].code, cases[i].key);
        assert_non_null(e.reason);
        assert_true(e.offset <= strlen(cases[i].json));
        /* A failed parse leaves the defaults. */
        assert_string_equal(c.service, "");
        assert_int_equal(c.tick_ms, 1000);
        char name[32];
        snprintf(name, sizeof name, "bad_%02zu.json", i);
        write_seed("fuzz_wasm_config", name, cases[i].json, strlen(cases[i].json));
    }
}

static void test_config_range_reports_bounds(void **state)
{
    (void)state;
    sw_config_t c;
    sw_config_error_t e;
    assert_int_equal(
        parse("{\"service\":\"s\",\"region\":\"r\",\"limits\":{\"max_regions\":0}}", &c, &e),
        SW_CFG_RANGE);
    assert_int_equal(e.lo, 1);
    assert_int_equal(e.hi, 256);
}

/* ------------------------------------------------------------------------- */
/* Batches.                                                                   */

static sw_str_t str(const char *s)
{
    sw_str_t v = {s, strlen(s)};
    return v;
}

static int str_is(sw_str_t v, const char *s)
{
    return v.n == strlen(s) && memcmp(v.p, s, v.n) == 0;
}

static size_t build_batch(uint8_t *buf, size_t cap, slate_stats_t *st)
{
    sw_batch_writer_t w;
    assert_true(sw_batch_begin(&w, buf, cap));
    slate_stats_init(st);
    for (uint64_t v = 1000; v < 50000000; v = v * 3 + 7)
        slate_stats_add(st, v);
    assert_true(sw_batch_add_inbound(&w, str("GET"), str("/cart"), 12, 1000, 3, st));
    slate_stats_t empty;
    slate_stats_init(&empty);
    assert_true(sw_batch_add_inbound(&w, str("POST"), str("/cart/checkout"), 0, 5, 0, &empty));
    assert_true(
        sw_batch_add_outbound(&w, str("cart"), str("GET"), str("/items"), str("eu-west-1"), 4, st));
    /* Out of order: inbound after outbound is refused. */
    assert_false(sw_batch_add_inbound(&w, str("GET"), str("/x"), 1, 1, 1, &empty));
    assert_true(sw_batch_add_span(&w, str("463ac35c9f6413ad48485a3953bb6124"),
                                  str("a2fb4a1d1a96d312"), str(""), str("GET"), str("/cart"), 100,
                                  250, 42, 999, 2));
    assert_false(sw_batch_add_span(&w, str("t"), str("s"), str(""), str("GET"), str("/"), 5, 4, 0,
                                   0, 0)); /* end before start */
    sw_batch_head_t h = {0};
    h.worker_id = 0x1122334455667788ull;
    h.seq = 7;
    h.time_ns = 1700000000000000000ull;
    h.window_ns = 1000000000ull;
    h.spans_dropped = 1;
    h.endpoints_overflowed = 2;
    h.outbound_overflowed = 3;
    h.late_stamps = 4;
    h.counters_saturated = 5;
    return sw_batch_finish(&w, &h);
}

static void test_batch_round_trip(void **state)
{
    (void)state;
    static uint8_t buf[65536];
    static slate_stats_t st, got, scratch;
    size_t len = build_batch(buf, sizeof buf, &st);
    write_seed("fuzz_wasm_batch", "full.bin", buf, len);
    sw_batch_head_t h;
    sw_batch_reader_t r;
    assert_int_equal(sw_batch_open(buf, len, &h, &r, &scratch), SW_BATCH_OK);
    assert_int_equal(h.worker_id, 0x1122334455667788ull);
    assert_int_equal(h.seq, 7);
    assert_int_equal(h.time_ns, 1700000000000000000ull);
    assert_int_equal(h.late_stamps, 4);
    assert_int_equal(h.n_inbound, 2);
    assert_int_equal(h.n_outbound, 1);
    assert_int_equal(h.n_spans, 1);
    sw_batch_item_t it;
    assert_true(sw_batch_next(&r, &it));
    assert_int_equal(it.kind, SW_ITEM_INBOUND);
    assert_true(str_is(it.method, "GET") && str_is(it.path, "/cart"));
    assert_int_equal(it.requests, 12);
    assert_int_equal(it.window_count, 1000);
    assert_int_equal(it.in_flight, 3);
    sw_stats_block_load(it.stats, it.stats_len, &got);
    assert_memory_equal(&got, &st, sizeof st);
    assert_true(sw_batch_next(&r, &it));
    assert_true(str_is(it.path, "/cart/checkout"));
    sw_stats_block_load(it.stats, it.stats_len, &got);
    assert_int_equal(got.count, 0);
    assert_true(sw_batch_next(&r, &it));
    assert_int_equal(it.kind, SW_ITEM_OUTBOUND);
    assert_true(str_is(it.service, "cart") && str_is(it.region, "eu-west-1"));
    assert_int_equal(it.requests, 4);
    assert_true(sw_batch_next(&r, &it));
    assert_int_equal(it.kind, SW_ITEM_SPAN);
    assert_true(str_is(it.trace_id, "463ac35c9f6413ad48485a3953bb6124"));
    assert_int_equal(it.parent_id.n, 0);
    assert_int_equal(it.start_ns, 100);
    assert_int_equal(it.end_ns, 250);
    assert_int_equal(it.body_size, 42);
    assert_int_equal(it.arrival_count, 999);
    assert_int_equal(it.arrival_in_flight, 2);
    assert_false(sw_batch_next(&r, &it));

    /* An empty batch (a heartbeat). */
    sw_batch_writer_t w;
    sw_batch_begin(&w, buf, sizeof buf);
    sw_batch_head_t hb = {0};
    hb.worker_id = 9;
    hb.seq = 1;
    len = sw_batch_finish(&w, &hb);
    assert_int_equal(len, SW_BATCH_HEADER);
    write_seed("fuzz_wasm_batch", "heartbeat.bin", buf, len);
    assert_int_equal(sw_batch_open(buf, len, &h, &r, &scratch), SW_BATCH_OK);
    assert_false(sw_batch_next(&r, &it));
}

static void test_batch_full_buffer(void **state)
{
    (void)state;
    static uint8_t buf[SW_BATCH_HEADER + 200];
    static slate_stats_t st;
    slate_stats_init(&st);
    slate_stats_add(&st, 5000);
    sw_batch_writer_t w;
    sw_batch_begin(&w, buf, sizeof buf);
    int n = 0;
    while (sw_batch_add_inbound(&w, str("GET"), str("/a"), 1, 1, 0, &st))
        n++;
    assert_true(n >= 1);
    assert_true(w.len <= sizeof buf);
    assert_false(sw_batch_begin(&w, buf, SW_BATCH_HEADER - 1));
}

/* Every corruption is caught: truncations, flipped bytes in the header and
 * in entries, inconsistent statistics. None crashes (ASan checks reads). */
static void test_batch_rejects(void **state)
{
    (void)state;
    static uint8_t buf[65536], bad[65536];
    static slate_stats_t st, scratch;
    size_t len = build_batch(buf, sizeof buf, &st);
    sw_batch_head_t h;
    sw_batch_reader_t r;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *exact = malloc(cut ? cut : 1);
        memcpy(exact, buf, cut);
        assert_int_not_equal(sw_batch_open(exact, cut, &h, &r, &scratch), SW_BATCH_OK);
        free(exact);
    }
    memcpy(bad, buf, len);
    bad[0] ^= 1;
    assert_int_equal(sw_batch_open(bad, len, &h, &r, &scratch), SW_BATCH_MAGIC_ERR);
    memcpy(bad, buf, len);
    bad[4] = 2;
    assert_int_equal(sw_batch_open(bad, len, &h, &r, &scratch), SW_BATCH_VERSION_ERR);
    memcpy(bad, buf, len);
    bad[20] = 1; /* reserved */
    assert_int_equal(sw_batch_open(bad, len, &h, &r, &scratch), SW_BATCH_VALUE);
    /* The first entry's count no longer matches its histogram. */
    memcpy(bad, buf, len);
    bad[SW_BATCH_HEADER + 32] ^= 1;
    assert_int_equal(sw_batch_open(bad, len, &h, &r, &scratch), SW_BATCH_STATS);
    /* A control character in the first method. */
    memcpy(bad, buf, len);
    size_t first_size = slate_wire_get_le32(buf + SW_BATCH_HEADER);
    bad[SW_BATCH_HEADER + first_size - 5 - 3] = '\n';
    assert_int_equal(sw_batch_open(bad, len, &h, &r, &scratch), SW_BATCH_STRING);
    /* One more entry claimed than present. */
    memcpy(bad, buf, len);
    bad[16] = 2;
    assert_int_not_equal(sw_batch_open(bad, len, &h, &r, &scratch), SW_BATCH_OK);
    /* Every single-bit flip either still parses or is rejected; never crashes. */
    for (size_t i = 0; i < len; i++) {
        for (int b = 0; b < 8; b++) {
            memcpy(bad, buf, len);
            bad[i] ^= (uint8_t)(1u << b);
            if (sw_batch_open(bad, len, &h, &r, &scratch) == SW_BATCH_OK) {
                sw_batch_item_t it;
                while (sw_batch_next(&r, &it))
                    ;
            }
        }
    }
}

static void test_stats_check_matches_core(void **state)
{
    (void)state;
    static slate_stats_t s;
    slate_stats_init(&s);
    assert_true(sw_stats_check(&s));
    for (uint64_t v = 900; v < 1000000000; v = v * 5 / 2)
        slate_stats_add(&s, v);
    assert_int_equal(slate_stats_validate(&s), SLATE_OK);
    assert_true(sw_stats_check(&s));
    slate_stats_t t = s;
    t.count++;
    assert_false(sw_stats_check(&t));
    t = s;
    t.min_ns = t.max_ns + 1;
    assert_false(sw_stats_check(&t));
    t = s;
    t.m2 = -1;
    assert_false(sw_stats_check(&t));
    t = s;
    t.mean_ns = NAN;
    assert_false(sw_stats_check(&t));
    t = s;
    t.mean_ns = (double)t.max_ns * 2;
    assert_false(sw_stats_check(&t));
}

/* ------------------------------------------------------------------------- */
/* Published rules.                                                           */

/* ------------------------------------------------------------------------- */
/* Hash map against a reference model.                                        */

static void test_map_model(void **state)
{
    (void)state;
    enum { N = 5000 };
    static uint32_t model[N]; /* 0 = absent, else value + 1 */
    sw_map_t m = {0};
    slate_rng_t rng;
    slate_rng_seed(&rng, 99);
    for (int step = 0; step < 200000; step++) {
        uint64_t r = slate_rng_next(&rng);
        uint64_t k = r % N;
        uint64_t key = k + 1;
        if ((r >> 32) % 3 == 0) {
            sw_map_del(&m, key);
            model[k] = 0;
        } else if ((r >> 32) % 3 == 1) {
            uint32_t v = (uint32_t)(r >> 40);
            assert_true(sw_map_put(&m, key, v));
            model[k] = v + 1;
        }
        long got = sw_map_get(&m, key);
        assert_int_equal(got, model[k] ? (long)model[k] - 1 : -1);
    }
    size_t live = 0;
    for (int k = 0; k < N; k++) {
        live += model[k] != 0;
        long got = sw_map_get(&m, (uint64_t)k + 1);
        assert_int_equal(got, model[k] ? (long)model[k] - 1 : -1);
    }
    assert_int_equal(m.len, live);
    assert_int_equal(sw_map_get(&m, 0), -1);
    sw_map_free(&m);
}

/* ------------------------------------------------------------------------- */
/* The filter's rate estimator (winrate.h) against the core's slate_rate_t.   */

static uint64_t wr_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random streams of adds (one arrival or none) and reads: mostly forward in
 * small steps, bursts in one tick past 15 and 255 arrivals, steps back within
 * the window, late (behind the window, within the backjump), far back (a
 * reset) and far ahead. Every status and every count must be the core's. */
static void test_winrate_matches_core(void **state)
{
    (void)state;
    size_t len = slate_rate_size(NULL);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t x = seed * 0x9e3779b97f4a7c15ull;
        void *mem = aligned_alloc(8, len);
        assert_non_null(mem);
        assert_int_equal(slate_rate_init(mem, len, NULL), SLATE_OK);
        slate_rate_t *core = mem;
        uint8_t *nib = calloc(1, SW_RATE_NIBBLES);
        assert_non_null(nib);
        sw_rate_t r;
        sw_rate_init(&r, nib);
        uint64_t t = (wr_next(&x) % 3) * 5000000000ull;
        int burst = (int)(seed % 4); /* 0: no bursts past 15; 3: past 255 */
        for (int i = 0; i < 20000; i++) {
            uint64_t c = wr_next(&x) % 1000;
            if (c < 700)
                t += wr_next(&x) % 3000000; /* 0 - 3 ms */
            else if (c < 750 && burst)
                t += 0; /* the same instant: bursts */
            else if (c < 800)
                t += wr_next(&x) % 400000000; /* up to 0.4 s */
            else if (c < 850)
                t -= t > 500000000 ? wr_next(&x) % 500000000 : 0; /* back, in the window */
            else if (c < 860)
                t -= t > 5000000000ull ? 1000000000 + wr_next(&x) % 4000000000ull : 0; /* late */
            else if (c < 863)
                t = t > 20000000000ull ? t - 20000000000ull : t + 30000000000ull; /* reset */
            else if (c < 866)
                t += 1000000000 + wr_next(&x) % 3000000000ull; /* a jump past the window */
            int reps = burst && c >= 700 && c < 750 ? (burst == 3 ? 300 : 24) : 1;
            for (int k = 0; k < reps; k++) {
                uint32_t n = wr_next(&x) % 8 ? 1 : 0;
                assert_int_equal(sw_rate_add(&r, t, n), slate_rate_add_n(core, t, n));
            }
            uint64_t q = t + (wr_next(&x) % 4 ? 0 : wr_next(&x) % 1500000000ull);
            assert_int_equal(sw_rate_count(&r, q), slate_rate_count(core, q));
            if (t >= 2000000)
                assert_int_equal(sw_rate_count(&r, t - 2000000),
                                 slate_rate_count(core, t - 2000000));
        }
        if (burst)
            assert_true(r.wide || r.rate); /* a tick went past 15 arrivals */
        if (burst == 3)
            assert_non_null(r.rate); /* and past 255: the core's estimator */
        if (!burst)
            assert_true(!r.wide && !r.rate);
        if (r.rate)
            free(r.rate);
        else if (r.wide)
            free(r.rb);
        free(nib);
        free(mem);
    }
}

/* The boundaries: a stamp N - 1, N, B and B + 1 ticks behind the head (in
 * the window, late, late, a reset), and reads at the window's edge. */
static void test_winrate_boundaries(void **state)
{
    (void)state;
    size_t len = slate_rate_size(NULL);
    const uint64_t lags[] = {SW_RATE_N - 1, SW_RATE_N, SW_RATE_BACK, SW_RATE_BACK + 1};
    for (size_t i = 0; i < sizeof lags / sizeof lags[0]; i++) {
        void *mem = aligned_alloc(8, len);
        uint8_t *nib = calloc(1, SW_RATE_NIBBLES);
        assert_non_null(mem);
        assert_non_null(nib);
        assert_int_equal(slate_rate_init(mem, len, NULL), SLATE_OK);
        sw_rate_t r;
        sw_rate_init(&r, nib);
        uint64_t t0 = 50000000000ull + 123456;
        for (uint64_t k = 0; k < 3; k++)
            assert_int_equal(sw_rate_add(&r, t0 - k * SW_RATE_RES, 1),
                             slate_rate_add_n(mem, t0 - k * SW_RATE_RES, 1));
        uint64_t back = t0 - lags[i] * SW_RATE_RES;
        assert_int_equal(sw_rate_add(&r, back, 1), slate_rate_add_n(mem, back, 1));
        for (uint64_t d = 0; d < 2 * SW_RATE_N; d += 97)
            assert_int_equal(sw_rate_count(&r, t0 + d * SW_RATE_RES),
                             slate_rate_count(mem, t0 + d * SW_RATE_RES));
        assert_int_equal(sw_rate_count(&r, t0 + (SW_RATE_N - 1) * SW_RATE_RES),
                         slate_rate_count(mem, t0 + (SW_RATE_N - 1) * SW_RATE_RES));
        free(nib);
        free(mem);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_every_key),
        cmocka_unit_test(test_config_escapes),
        cmocka_unit_test(test_config_identity_optional),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_range_reports_bounds),
        cmocka_unit_test(test_batch_round_trip),
        cmocka_unit_test(test_batch_full_buffer),
        cmocka_unit_test(test_batch_rejects),
        cmocka_unit_test(test_stats_check_matches_core),
        cmocka_unit_test(test_map_model),
        cmocka_unit_test(test_winrate_matches_core),
        cmocka_unit_test(test_winrate_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
