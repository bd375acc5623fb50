/*
 * libslate - meter.h: the measurement table and the report built from it.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slate/slate.h"

#define MS 1000000ull

static slate_meter_t *make(uint32_t in, uint32_t out, uint32_t spans, void **mem)
{
    slate_meter_limits_t lim = {in, out, spans};
    size_t n = slate_meter_size(&lim);
    assert_true(n > SLATE_METER_HEADER);
    *mem = aligned_alloc(8, (n + 7) & ~(size_t)7);
    assert_non_null(*mem);
    memset(*mem, 0xa5, n); /* init must not depend on zeroed memory */
    slate_meter_t *m = NULL;
    assert_int_equal(slate_meter_init(*mem, n, &lim, &m), SLATE_OK);
    assert_ptr_equal(m, *mem);
    assert_int_equal(slate_meter_attach(*mem, n, &m), SLATE_OK);
    return m;
}

static size_t msize(const slate_meter_t *m)
{
    slate_meter_limits_t l = slate_meter_limits(m);
    return slate_meter_size(&l);
}

static void test_sizes_and_limits(void **state)
{
    (void)state;
    slate_meter_limits_t bad[] = {{0, 1, 1},
                                  {SLATE_METER_MAX_ENTRIES + 1, 0, 0},
                                  {1, SLATE_METER_MAX_ENTRIES + 1, 0},
                                  {1, 0, SLATE_METER_MAX_ENTRIES + 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(slate_meter_size(&bad[i]), 0);
    assert_int_equal(slate_meter_size(NULL), 0);
    slate_meter_limits_t lim = {64, 64, 128};
    size_t n = slate_meter_size(&lim);
    /* header + index (256 slots) + entries + spans, exactly */
    assert_int_equal(n, SLATE_METER_HEADER + 256 * 4 + 128 * sizeof(slate_meter_entry_t) +
                            128 * sizeof(slate_meter_span_t));
    uint64_t mem[64];
    assert_int_equal(slate_meter_init(mem, sizeof mem, &lim, NULL), SLATE_ENOSPC);
    assert_int_equal(slate_meter_init((uint8_t *)mem + 1, sizeof mem - 1, &lim, NULL),
                     SLATE_EINVAL);
    assert_int_equal(slate_meter_init(NULL, n, &lim, NULL), SLATE_EINVAL);
}

static void test_entries_and_ids(void **state)
{
    (void)state;
    void *mem;
    slate_meter_t *m = make(2, 2, 4, &mem);
    uint32_t a, b, c, again;
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/a", 2, &a), SLATE_OK);
    assert_int_equal(slate_meter_inbound(m, "POST", 4, "/a", 2, &b), SLATE_OK);
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/a", 2, &again), SLATE_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(again, a);
    /* a third inbound endpoint does not fit, and is counted */
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/b", 2, &c), SLATE_ENOSPC);
    assert_int_equal(slate_meter_drops(m)->endpoints_overflowed, 1);
    /* outbound entries have their own limit; same names, other region: another entry */
    assert_int_equal(slate_meter_outbound(m, "cart", 4, "GET", 3, "/a", 2, "us", 2, &c), SLATE_OK);
    assert_int_equal(c, 2);
    assert_int_equal(slate_meter_outbound(m, "cart", 4, "GET", 3, "/a", 2, "eu", 2, &c), SLATE_OK);
    assert_int_equal(c, 3);
    assert_int_equal(slate_meter_outbound(m, "cart", 4, "GET", 3, "/a", 2, "ap", 2, &c),
                     SLATE_ENOSPC);
    assert_int_equal(slate_meter_drops(m)->outbound_overflowed, 1);
    assert_int_equal(slate_meter_count(m), 4);
    assert_int_equal(slate_meter_count_kind(m, SLATE_METER_INBOUND), 2);
    assert_int_equal(slate_meter_count_kind(m, SLATE_METER_OUTBOUND), 2);
    const slate_meter_entry_t *e = slate_meter_entry(m, 3);
    assert_string_equal(e->service, "cart");
    assert_string_equal(e->region, "eu");
    assert_null(slate_meter_entry(m, 4));
    /* bad names: too long, empty, unprintable; nothing added */
    char lng[SLATE_METER_MAX_NAME + 2];
    memset(lng, 'x', sizeof lng);
    assert_int_equal(slate_meter_outbound(m, lng, sizeof lng, "GET", 3, "/a", 2, "us", 2, &c),
                     SLATE_ERANGE);
    assert_int_equal(slate_meter_inbound(m, "", 0, "/a", 2, &c), SLATE_ERANGE);
    assert_int_equal(slate_meter_inbound(m, "GE T", 4, "/a", 2, &c), SLATE_ERANGE);
    assert_int_equal(slate_meter_inbound(m, NULL, 3, "/a", 2, &c), SLATE_EINVAL);
    assert_int_equal(slate_meter_count(m), 4);
    /* kinds are checked */
    assert_int_equal(slate_meter_arrive(m, 2, NULL, NULL), SLATE_EINVAL);
    assert_int_equal(slate_meter_complete(m, 0, 5), SLATE_EINVAL);
    assert_int_equal(slate_meter_depart(m, 9, 5), SLATE_EINVAL);
    slate_meter_t *again_m = NULL;
    assert_int_equal(slate_meter_attach(mem, msize(m), &again_m), SLATE_OK);
    free(mem);
}

static void test_measure_and_take(void **state)
{
    (void)state;
    void *mem;
    slate_meter_t *m = make(4, 4, 4, &mem);
    uint32_t in, out;
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/x", 2, &in), SLATE_OK);
    assert_int_equal(slate_meter_outbound(m, "db", 2, "GET", 3, "/q", 2, "eu", 2, &out), SLATE_OK);
    double rps = -1;
    uint64_t fl = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(slate_meter_arrive(m, in, &rps, &fl), SLATE_OK);
        assert_int_equal(fl, (uint64_t)i + 1); /* this one included */
        assert_true(rps == 0.0);               /* no interval closed yet */
    }
    for (int i = 0; i < 7; i++)
        assert_int_equal(slate_meter_depart(m, in, (uint64_t)(i + 1) * MS), SLATE_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(slate_meter_complete(m, out, 2 * MS), SLATE_OK);
    slate_meter_entry_t copy;
    assert_int_equal(slate_meter_take(m, in, 500 * MS, &copy), SLATE_OK);
    assert_int_equal(copy.requests, 10);
    assert_int_equal(copy.in_flight, 3);
    assert_int_equal(copy.stats.count, 7);
    assert_int_equal(copy.stats.max_ns, 7 * MS);
    assert_true(copy.rate_rps > 19.99 && copy.rate_rps < 20.01); /* 10 in 0.5 s */
    const slate_meter_entry_t *live = slate_meter_entry(m, in);
    assert_int_equal(live->requests, 0);
    assert_int_equal(live->stats.count, 0);
    assert_int_equal(live->in_flight, 3); /* a gauge survives the interval */
    assert_true(live->rate_rps == copy.rate_rps);
    /* the next arrival sees the new rate */
    assert_int_equal(slate_meter_arrive(m, in, &rps, &fl), SLATE_OK);
    assert_true(rps == copy.rate_rps);
    assert_int_equal(fl, 4);
    /* departures never take in_flight below zero */
    for (int i = 0; i < 10; i++)
        assert_int_equal(slate_meter_depart(m, in, MS), SLATE_OK);
    assert_int_equal(slate_meter_entry(m, in)->in_flight, 0);
    /* adding a batch from elsewhere */
    slate_stats_t d;
    slate_stats_init(&d);
    slate_stats_add(&d, 9 * MS);
    assert_int_equal(slate_meter_add(m, out, 5, &d), SLATE_OK);
    assert_int_equal(slate_meter_entry(m, out)->requests, 8);
    assert_int_equal(slate_meter_entry(m, out)->stats.count, 4);
    assert_int_equal(slate_meter_add(m, 99, 5, &d), SLATE_EINVAL); /* no such entry */
    assert_int_equal(slate_meter_entry(m, out)->requests, 8);
    /* gauges set by a caller */
    assert_int_equal(slate_meter_set_load(m, in, 12.5, 6), SLATE_OK);
    assert_true(slate_meter_entry(m, in)->rate_rps == 12.5);
    assert_int_equal(slate_meter_set_load(m, in, -1.0 / 0.0, 6), SLATE_OK);
    assert_true(slate_meter_entry(m, in)->rate_rps == 0.0);
    assert_int_equal(slate_meter_set_load(m, out, 1, 1), SLATE_EINVAL);
    /* close with interval 0 leaves the gauge alone */
    assert_int_equal(slate_meter_set_load(m, in, 3.0, 0), SLATE_OK);
    slate_meter_close(m, 0);
    assert_true(slate_meter_entry(m, in)->rate_rps == 3.0);
    assert_int_equal(slate_meter_entry(m, out)->requests, 0);
    free(mem);
}

static slate_meter_span_t span_of(uint32_t entry, const char *trace, const char *sp,
                                  const char *parent)
{
    slate_meter_span_t s;
    memset(&s, 0, sizeof s);
    s.entry = entry;
    s.trace_len = (uint8_t)strlen(trace);
    memcpy(s.trace_id, trace, s.trace_len);
    s.span_len = (uint8_t)strlen(sp);
    memcpy(s.span_id, sp, s.span_len);
    s.parent_len = (uint8_t)strlen(parent);
    memcpy(s.parent_id, parent, s.parent_len);
    s.start_ns = 100;
    s.end_ns = 200;
    s.arrival_rps = 4.0;
    s.arrival_in_flight = 2;
    return s;
}

static void test_spans(void **state)
{
    (void)state;
    void *mem;
    slate_meter_t *m = make(2, 2, 2, &mem);
    uint32_t in, out;
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/x", 2, &in), SLATE_OK);
    assert_int_equal(slate_meter_outbound(m, "db", 2, "GET", 3, "/q", 2, "eu", 2, &out), SLATE_OK);
    slate_meter_span_t s = span_of(in, "abc123", "01", "");
    assert_int_equal(slate_meter_add_span(m, &s), SLATE_OK);
    /* refused whole: not hex, outbound entry, time backwards, no NUL */
    slate_meter_span_t bad = span_of(in, "xyz", "01", "");
    assert_int_equal(slate_meter_add_span(m, &bad), SLATE_EINVAL);
    bad = span_of(out, "ab", "01", "");
    assert_int_equal(slate_meter_add_span(m, &bad), SLATE_EINVAL);
    bad = span_of(in, "ab", "01", "");
    bad.end_ns = 1;
    assert_int_equal(slate_meter_add_span(m, &bad), SLATE_EINVAL);
    bad = span_of(in, "ab", "01", "");
    bad.trace_id[2] = 'c';
    assert_int_equal(slate_meter_add_span(m, &bad), SLATE_EINVAL);
    s = span_of(in, "abc124", "02", "01");
    assert_int_equal(slate_meter_add_span(m, &s), SLATE_OK);
    assert_int_equal(slate_meter_add_span(m, &s), SLATE_ENOSPC);
    assert_int_equal(slate_meter_drops(m)->spans_dropped, 1);
    uint32_t n = 0;
    slate_meter_spans(m, &n);
    assert_int_equal(n, 2);
    slate_meter_span_t got[1];
    assert_int_equal(slate_meter_take_spans(m, got, 1), 1);
    assert_string_equal(got[0].trace_id, "abc123");
    assert_int_equal(slate_meter_drops(m)->spans_dropped, 2); /* the one past cap */
    slate_meter_spans(m, &n);
    assert_int_equal(n, 0);
    free(mem);
}

/* The report built from the table equals what was measured, encodes and
 * decodes back; built from copies it is the same. */
static void test_report(void **state)
{
    (void)state;
    void *mem;
    slate_meter_t *m = make(4, 4, 4, &mem);
    uint32_t a, b, idle, out;
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/a", 2, &a), SLATE_OK);
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/b", 2, &b), SLATE_OK);
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/idle", 5, &idle), SLATE_OK);
    assert_int_equal(slate_meter_outbound(m, "db", 2, "PUT", 3, "/q", 2, "eu", 2, &out), SLATE_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(slate_meter_arrive(m, a, NULL, NULL), SLATE_OK);
    assert_int_equal(slate_meter_depart(m, a, 3 * MS), SLATE_OK);
    assert_int_equal(slate_meter_arrive(m, b, NULL, NULL), SLATE_OK);
    assert_int_equal(slate_meter_complete(m, out, 5 * MS), SLATE_OK);
    slate_meter_span_t s = span_of(a, "abc", "01", "");
    assert_int_equal(slate_meter_add_span(m, &s), SLATE_OK);

    uint32_t n_sp = 0;
    const slate_meter_span_t *sp = slate_meter_spans(m, &n_sp);
    const slate_meter_entry_t *ents = slate_meter_entry(m, 0);
    slate_meter_report_mem_t need;
    slate_meter_report_need(ents, slate_meter_count(m), sp, n_sp, SLATE_METER_LOADS_ALL, &need);
    assert_int_equal(need.cap_inbound, 2); /* the idle endpoint is left out */
    assert_int_equal(need.cap_outbound, 1);
    assert_int_equal(need.cap_spans, 1);
    assert_int_equal(need.cap_loads, 2); /* own, plus /b in flight */
    slate_inbound_t in[2];
    slate_outbound_t ob[1];
    slate_span_t spans[1];
    slate_endpoint_load_t loads[2];
    slate_meter_report_mem_t mm = {in, 2, ob, 1, spans, 1, loads, 1};
    slate_load_report_t rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(slate_meter_report_from(ents, slate_meter_count(m), sp, n_sp,
                                             SLATE_METER_LOADS_ALL, &mm, &rep),
                     SLATE_ENOSPC);
    assert_null(rep.inbound);
    mm.cap_loads = 2;
    assert_int_equal(slate_meter_report_from(ents, slate_meter_count(m), sp, n_sp,
                                             SLATE_METER_LOADS_ALL, &mm, &rep),
                     SLATE_OK);
    assert_int_equal(rep.n_inbound, 2);
    assert_int_equal(rep.inbound[0].requests, 4);
    assert_int_equal(rep.inbound[0].in_flight, 3);
    assert_int_equal(rep.inbound[0].latency.count, 1);
    assert_int_equal(rep.n_outbound, 1);
    assert_memory_equal(rep.outbound[0].dst_region.ptr, "eu", 2);
    assert_int_equal(rep.n_spans, 1);
    assert_int_equal(rep.spans[0].n_load, 2);
    assert_true(rep.spans[0].load[0].rps == 4.0);
    assert_memory_equal(rep.spans[0].load[1].path.ptr, "/b", 2);

    rep.service = slate_str("frontend");
    rep.region = slate_str("us");
    rep.pod = slate_str("p1");
    rep.sequence = 1;
    rep.time_ns = 1;
    rep.interval_ns = 1;
    uint8_t buf[8192];
    size_t len = 0;
    assert_int_equal(slate_load_report_encode(&rep, buf, sizeof buf, &len, NULL), SLATE_OK);
    slate_load_report_t back;
    memset(&back, 0, sizeof back);
    assert_int_equal(slate_load_report_decode(&back, buf, len, NULL, NULL), SLATE_OK);
    assert_int_equal(back.n_inbound, 2);
    assert_int_equal(back.n_outbound, 1);
    assert_int_equal(back.n_spans, 1);

    /* The same from copies taken entry by entry. */
    slate_meter_entry_t copies[4];
    for (uint32_t i = 0; i < slate_meter_count(m); i++)
        assert_int_equal(slate_meter_take(m, i, 1000 * MS, &copies[i]), SLATE_OK);
    slate_meter_span_t spc[4];
    uint32_t k = slate_meter_take_spans(m, spc, 4);
    assert_int_equal(k, 1);
    slate_load_report_t rep2;
    memset(&rep2, 0, sizeof rep2);
    slate_inbound_t in2[2];
    slate_outbound_t ob2[1];
    slate_span_t spans2[1];
    slate_endpoint_load_t loads2[1];
    slate_meter_report_mem_t m2 = {in2, 2, ob2, 1, spans2, 1, loads2, 1};
    assert_int_equal(slate_meter_report_from(copies, 4, spc, k, SLATE_METER_LOADS_OWN, &m2, &rep2),
                     SLATE_OK);
    assert_int_equal(rep2.n_inbound, 2);
    assert_true(rep2.inbound[0].rate_rps == 4.0); /* 4 in 1 s */
    assert_int_equal(rep2.spans[0].n_load, 1);
    /* the table's interval is empty now */
    slate_meter_report_need(slate_meter_entry(m, 0), slate_meter_count(m), NULL, 0,
                            SLATE_METER_LOADS_OWN, &need);
    assert_int_equal(need.cap_outbound, 0);
    free(mem);
}

/* Growing keeps ids, counts, spans and drops; a copy that does not fit is refused. */
static void test_move(void **state)
{
    (void)state;
    void *mem;
    slate_meter_t *m = make(2, 1, 1, &mem);
    uint32_t id;
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/a", 2, &id), SLATE_OK);
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/b", 2, &id), SLATE_OK);
    assert_int_equal(slate_meter_arrive(m, id, NULL, NULL), SLATE_OK);
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/c", 2, &id), SLATE_ENOSPC);
    slate_meter_limits_t small = {1, 1, 1}, big = {64, 8, 8};
    size_t nb = slate_meter_size(&big);
    void *dst = aligned_alloc(8, (nb + 7) & ~(size_t)7);
    slate_meter_t *g = NULL;
    assert_int_equal(slate_meter_move(m, dst, nb, &small, &g), SLATE_ENOSPC);
    assert_int_equal(slate_meter_move(m, dst, nb, &big, &g), SLATE_OK);
    assert_int_equal(slate_meter_attach(dst, nb, &g), SLATE_OK);
    assert_int_equal(slate_meter_inbound(g, "GET", 3, "/b", 2, &id), SLATE_OK);
    assert_int_equal(id, 1);
    assert_int_equal(slate_meter_entry(g, 1)->requests, 1);
    assert_int_equal(slate_meter_drops(g)->endpoints_overflowed, 1);
    assert_int_equal(slate_meter_inbound(g, "GET", 3, "/c", 2, &id), SLATE_OK);
    assert_int_equal(id, 2);
    free(dst);
    free(mem);
}

/* attach refuses a corrupted region, whatever was changed. */
static void test_attach_rejects(void **state)
{
    (void)state;
    void *mem;
    slate_meter_t *m = make(4, 4, 2, &mem);
    uint32_t a, o;
    assert_int_equal(slate_meter_inbound(m, "GET", 3, "/a", 2, &a), SLATE_OK);
    assert_int_equal(slate_meter_outbound(m, "db", 2, "GET", 3, "/q", 2, "eu", 2, &o), SLATE_OK);
    assert_int_equal(slate_meter_depart(m, a, MS), SLATE_OK);
    slate_meter_span_t s = span_of(a, "ab", "01", "");
    assert_int_equal(slate_meter_add_span(m, &s), SLATE_OK);
    size_t n = msize(m);
    uint8_t *copy = aligned_alloc(8, (n + 7) & ~(size_t)7);
    slate_meter_t *out = NULL;
    assert_int_equal(slate_meter_attach(mem, n - 1, &out), SLATE_ECORRUPT);
    assert_int_equal(slate_meter_attach(mem, 10, &out), SLATE_ECORRUPT);
    /* flip one byte at a time in the header, the index's used slots, the
     * entries' names and lengths, the statistics and the spans */
    const slate_meter_entry_t *e0 = slate_meter_entry(m, 0);
    size_t ent_off = (size_t)((const uint8_t *)e0 - (const uint8_t *)mem);
    size_t offs[] = {0,
                     4,
                     8,
                     16,
                     28,
                     32,
                     36,
                     40,
                     ent_off + 0,
                     ent_off + 8,
                     ent_off + offsetof(slate_meter_entry_t, method_len),
                     ent_off + offsetof(slate_meter_entry_t, path),
                     ent_off + offsetof(slate_meter_entry_t, path) + 2,
                     ent_off + offsetof(slate_meter_entry_t, stats),
                     ent_off + sizeof(slate_meter_entry_t) + offsetof(slate_meter_entry_t, region),
                     ent_off + 8 * sizeof(slate_meter_entry_t),
                     ent_off + 8 * sizeof(slate_meter_entry_t) +
                         offsetof(slate_meter_span_t, trace_id)};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        memcpy(copy, mem, n);
        copy[offs[i]] ^= 0x40;
        out = NULL;
        assert_int_equal(slate_meter_attach(copy, n, &out), SLATE_ECORRUPT);
        assert_null(out);
    }
    free(copy);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_limits), cmocka_unit_test(test_entries_and_ids),
        cmocka_unit_test(test_measure_and_take), cmocka_unit_test(test_spans),
        cmocka_unit_test(test_report),           cmocka_unit_test(test_move),
        cmocka_unit_test(test_attach_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
