/*
 * The pull iterators on bytes nobody validated: a view over arbitrary input
 * must end iteration (with a status) rather than crash or loop, and the
 * latency of every element must convert or fail cleanly.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A converted latency has counts only inside its span. */
static void span_only(const slate_latency_t *l)
{
    if (slate_latency_to_stats(l, &fz_sa) != SLATE_OK)
        return;
    for (uint32_t k = 0; k < SLATE_HIST_BUCKETS; k++)
        if (k < l->hist_offset || k >= l->hist_offset + l->hist_len)
            FZ_CHECK(fz_sa.hist[k] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slate_codec_view_t v = {data, size, 0};
    slate_codec_iter_t it;
    size_t steps = 0;

    slate_inbound_t in;
    slate_codec_iter_init(&it, v);
    while (slate_load_report_next_inbound(&it, &in)) {
        FZ_CHECK(++steps <= size);
        span_only(&in.latency);
    }
    slate_outbound_t out;
    slate_codec_iter_init(&it, v);
    while (slate_load_report_next_outbound(&it, &out)) {
        FZ_CHECK(++steps <= size);
        span_only(&out.latency);
    }
    slate_span_t sp;
    slate_codec_iter_init(&it, v);
    while (slate_load_report_next_span(&it, &sp)) {
        FZ_CHECK(++steps <= size);
        slate_codec_iter_t lit;
        slate_endpoint_load_t ld;
        slate_codec_iter_init(&lit, sp.raw);
        while (slate_span_next_load(&lit, &ld))
            FZ_CHECK(++steps <= size);
    }
    slate_rule_t rule;
    slate_codec_iter_init(&it, v);
    while (slate_routing_rules_next_rule(&it, &rule)) {
        FZ_CHECK(++steps <= size);
        slate_codec_iter_t tit;
        slate_route_target_t t;
        slate_codec_iter_init(&tit, rule.raw);
        while (slate_rule_next_target(&tit, &t))
            FZ_CHECK(++steps <= size);
    }
    /* A latency whose counts are said to live in these bytes. */
    if (size > 0) {
        slate_latency_t l;
        memset(&l, 0, sizeof l);
        l.hist_offset = data[0] % 8;
        l.hist_len = (uint32_t)(size % 64);
        l.raw_.ptr = data;
        l.raw_.len = size;
        l.raw_.field = data[0] >> 5;
        span_only(&l);
    }
    return 0;
}
