/*
 * The measurement table (meter.h), two ways:
 * - first byte even: the rest is an operation sequence on a fresh table
 *   (find-or-add, arrive, depart, complete, add, spans, take, close, move).
 *   After every operation the table must still attach, counts must match,
 *   and the report built from it must encode and decode back.
 * - first byte odd: the rest is a region another process wrote;
 *   slate_meter_attach() must never read past it, and a region it accepts
 *   must survive a report, a close and a move, and attach again.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/codec.h"
#include "slate/meter.h"

#define FUZZ_NAME "fuzz_meter"
#include "fuzz_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"/", "/a", "/a/b", "GET", "POST", "db", "eu", "us", "x y", ""};
#define N_NAMES (sizeof names / sizeof names[0])

static void check_report(slate_meter_t *m)
{
    uint32_t n = slate_meter_count(m), ns = 0;
    const slate_meter_span_t *sp = slate_meter_spans(m, &ns);
    const slate_meter_entry_t *ents = n ? slate_meter_entry(m, 0) : NULL;
    slate_meter_report_mem_t need, mem;
    slate_meter_report_need(ents, n, sp, ns, SLATE_METER_LOADS_ALL, &need);
    mem = need;
    mem.inbound = calloc(need.cap_inbound + 1, sizeof *mem.inbound);
    mem.outbound = calloc(need.cap_outbound + 1, sizeof *mem.outbound);
    mem.spans = calloc(need.cap_spans + 1, sizeof *mem.spans);
    mem.loads = calloc(need.cap_loads + 1, sizeof *mem.loads);
    slate_load_report_t rep;
    memset(&rep, 0, sizeof rep);
    CHECK(slate_meter_report_from(ents, n, sp, ns, SLATE_METER_LOADS_ALL, &mem, &rep) == SLATE_OK);
    CHECK(rep.n_inbound == need.cap_inbound && rep.n_spans == need.cap_spans);
    rep.service = slate_str("s");
    rep.region = slate_str("r");
    rep.pod = slate_str("p");
    size_t len = 0;
    slate_status st = slate_load_report_encode(&rep, NULL, 0, &len, NULL);
    CHECK(st == SLATE_ENOSPC || st == SLATE_OK);
    uint8_t *buf = malloc(len + 1);
    size_t wrote = 0;
    CHECK(slate_load_report_encode(&rep, buf, len, &wrote, NULL) == SLATE_OK);
    slate_load_report_t back;
    memset(&back, 0, sizeof back);
    CHECK(slate_load_report_decode(&back, buf, wrote, NULL, NULL) == SLATE_OK);
    CHECK(back.n_inbound == rep.n_inbound && back.n_outbound == rep.n_outbound &&
          back.n_spans == rep.n_spans);
    free(buf);
    free(mem.inbound);
    free(mem.outbound);
    free(mem.spans);
    free(mem.loads);
}

static void ops(reader *r)
{
    slate_meter_limits_t lim = {(uint32_t)(rd(r, 1) % 8) + 1, (uint32_t)(rd(r, 1) % 8),
                                (uint32_t)(rd(r, 1) % 8)};
    size_t len = slate_meter_size(&lim);
    CHECK(len > 0);
    void *mem = aligned_alloc(8, (len + 7) & ~(size_t)7);
    slate_meter_t *m = NULL;
    CHECK(slate_meter_init(mem, len, &lim, &m) == SLATE_OK && m != NULL);
    for (int step = 0; step < 64 && r->n; step++) {
        uint32_t before = slate_meter_count(m);
        uint32_t id = (uint32_t)rd(r, 1) % (before + 2);
        const char *a = names[rd(r, 1) % N_NAMES], *b = names[rd(r, 1) % N_NAMES],
                   *c = names[rd(r, 1) % N_NAMES], *d = names[rd(r, 1) % N_NAMES];
        uint64_t v = rd(r, 4);
        uint32_t got = UINT32_MAX;
        slate_status st = SLATE_OK;
        switch (rd(r, 1) % 11) {
        case 0:
            st = slate_meter_inbound(m, b, strlen(b), a, strlen(a), &got);
            break;
        case 1:
            st = slate_meter_outbound(m, c, strlen(c), b, strlen(b), a, strlen(a), d, strlen(d),
                                      &got);
            break;
        case 2:
            (void)slate_meter_arrive(m, id, NULL, NULL);
            break;
        case 3:
            (void)slate_meter_depart(m, id, v);
            break;
        case 4:
            (void)slate_meter_complete(m, id, v);
            break;
        case 5: {
            slate_stats_t s;
            slate_stats_init(&s);
            slate_stats_add(&s, v);
            (void)slate_meter_add(m, id, v & 0xff, &s);
            break;
        }
        case 6: {
            slate_meter_span_t s;
            memset(&s, 0, sizeof s);
            s.entry = id;
            s.trace_len = (uint8_t)(v % 4);
            memcpy(s.trace_id, "abcd", s.trace_len);
            s.span_len = 2;
            memcpy(s.span_id, v & 16 ? "0g" : "0f", 2);
            s.start_ns = v;
            s.end_ns = v + (v & 0xf0);
            s.arrival_rps = (double)(v & 0xff);
            (void)slate_meter_add_span(m, &s);
            break;
        }
        case 7:
            (void)slate_meter_take(m, id, v, NULL);
            break;
        case 8:
            slate_meter_close(m, v);
            break;
        case 9:
            (void)slate_meter_set_load(m, id, (double)v - 100.0, v & 7);
            break;
        default: {
            /* grow (or try to shrink) into a new region */
            slate_meter_limits_t nl = {(uint32_t)(v % 12) + 1, (uint32_t)((v >> 8) % 12),
                                       (uint32_t)((v >> 16) % 12)};
            size_t nlen = slate_meter_size(&nl);
            void *nm = aligned_alloc(8, (nlen + 7) & ~(size_t)7);
            slate_meter_t *g = NULL;
            st = slate_meter_move(m, nm, nlen, &nl, &g);
            if (st == SLATE_OK) {
                CHECK(slate_meter_count(g) == before);
                free(mem);
                mem = nm;
                m = g;
                len = nlen;
            } else {
                CHECK(st == SLATE_ENOSPC);
                free(nm);
            }
            st = SLATE_OK;
            break;
        }
        }
        if (got != UINT32_MAX) {
            CHECK(st == SLATE_OK && got < slate_meter_count(m));
            CHECK(slate_meter_count(m) == before || got == before);
        } else {
            CHECK(slate_meter_count(m) == before);
        }
        slate_meter_t *again = NULL;
        CHECK(slate_meter_attach(mem, len, &again) == SLATE_OK);
        check_report(m);
    }
    free(mem);
}

static void region(const uint8_t *data, size_t size)
{
    void *mem = aligned_alloc(8, (size + 8) & ~(size_t)7);
    memcpy(mem, data, size);
    slate_meter_t *m = NULL;
    if (slate_meter_attach(mem, size, &m) == SLATE_OK) {
        check_report(m);
        slate_meter_limits_t lim = slate_meter_limits(m);
        size_t nlen = slate_meter_size(&lim);
        void *nm = aligned_alloc(8, (nlen + 7) & ~(size_t)7);
        slate_meter_t *g = NULL;
        CHECK(slate_meter_move(m, nm, nlen, &lim, &g) == SLATE_OK);
        CHECK(slate_meter_attach(nm, nlen, &g) == SLATE_OK);
        free(nm);
        slate_meter_close(m, 1000000000ull);
        CHECK(slate_meter_attach(mem, size, &m) == SLATE_OK);
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        region(data + 1, size - 1);
    } else {
        reader r = {data + 1, size - 1};
        ops(&r);
    }
    return 0;
}
