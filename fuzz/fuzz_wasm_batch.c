/*
 * The worker -> reporter batch reader (shims/wasm/batch.c) on arbitrary bytes.
 * Invariants: it never reads outside the input; a batch it accepts can be
 * iterated to the end, yields exactly the counts its header declares, every
 * string is within its limit, every statistics block passes sw_stats_check();
 * and writing the items back with the writer gives a batch that is accepted
 * and reads back as the same items (the writer's encoding is canonical:
 * histogram spans trimmed to their non-zero buckets, so it is never longer).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../shims/wasm/batch.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static slate_stats_t scratch, st, st2;

static int same(sw_str_t a, sw_str_t b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_batch_head_t h;
    sw_batch_reader_t r;
    if (sw_batch_open(data, size, &h, &r, &scratch) != SW_BATCH_OK)
        return 0;
    uint8_t *out = malloc(size);
    check(out != NULL);
    sw_batch_writer_t w;
    check(sw_batch_begin(&w, out, size));
    sw_batch_item_t it;
    unsigned n_in = 0, n_out = 0, n_sp = 0;
    while (sw_batch_next(&r, &it)) {
        check(it.method.n <= SW_MAX_METHOD && it.path.n <= SW_MAX_PATH);
        if (it.kind == SW_ITEM_INBOUND) {
            n_in++;
            sw_stats_block_load(it.stats, it.stats_len, &st);
            check(sw_stats_check(&st));
            check(sw_batch_add_inbound(&w, it.method, it.path, it.requests, it.window_count,
                                       it.in_flight, &st));
        } else if (it.kind == SW_ITEM_OUTBOUND) {
            n_out++;
            check(it.service.n && it.service.n <= SW_MAX_NAME);
            check(it.region.n && it.region.n <= SW_MAX_NAME);
            sw_stats_block_load(it.stats, it.stats_len, &st);
            check(sw_stats_check(&st));
            check(sw_batch_add_outbound(&w, it.service, it.method, it.path, it.region, it.requests,
                                        &st));
        } else {
            n_sp++;
            check(it.kind == SW_ITEM_SPAN && it.end_ns >= it.start_ns);
            check(it.trace_id.n && it.trace_id.n <= SW_MAX_ID);
            check(sw_batch_add_span(&w, it.trace_id, it.span_id, it.parent_id, it.method, it.path,
                                    it.start_ns, it.end_ns, it.body_size, it.arrival_count,
                                    it.arrival_in_flight));
        }
    }
    check(n_in == h.n_inbound && n_out == h.n_outbound && n_sp == h.n_spans);
    size_t len = sw_batch_finish(&w, &h);
    check(len <= size);
    sw_batch_head_t h2;
    sw_batch_reader_t r1, r2;
    check(sw_batch_open(out, len, &h2, &r2, &scratch) == SW_BATCH_OK);
    check(memcmp(&h, &h2, sizeof h) == 0);
    check(sw_batch_open(data, size, &h, &r1, &scratch) == SW_BATCH_OK);
    sw_batch_item_t a, b;
    while (sw_batch_next(&r1, &a)) {
        check(sw_batch_next(&r2, &b));
        check(a.kind == b.kind && same(a.service, b.service) && same(a.method, b.method) &&
              same(a.path, b.path) && same(a.region, b.region) && same(a.trace_id, b.trace_id) &&
              same(a.span_id, b.span_id) && same(a.parent_id, b.parent_id));
        check(a.requests == b.requests && a.window_count == b.window_count &&
              a.in_flight == b.in_flight && a.start_ns == b.start_ns && a.end_ns == b.end_ns &&
              a.body_size == b.body_size && a.arrival_count == b.arrival_count &&
              a.arrival_in_flight == b.arrival_in_flight);
        if (a.stats) {
            sw_stats_block_load(a.stats, a.stats_len, &st);
            sw_stats_block_load(b.stats, b.stats_len, &st2);
            check(memcmp(&st, &st2, sizeof st) == 0);
        }
    }
    check(!sw_batch_next(&r2, &b));
    free(out);
    return 0;
}
