/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * The @code example of include/slate/codec.h (pull iteration), compiled and
 * run on a report encoded here. Between the markers are the header's lines, in
 * the header's order (check_sync.sh checks this); a header line with "..."
 * stands for the code that follows its prefix, and lines ending in
 * "scaffolding" are not in the header.
 */
#include <slate/slate.h>

#include <stdint.h>
#include <stdio.h>

int main(void)
{
    /* A report with two inbound endpoints and one span carrying two loads. */
    slate_inbound_t inbound[2] = {
        {.method = slate_str("GET"), .path = slate_str("/a"), .rate_rps = 10.5},
        {.method = slate_str("POST"), .path = slate_str("/b"), .rate_rps = 20.0}};
    slate_endpoint_load_t loads[2] = {{slate_str("GET"), slate_str("/a"), 10.5, 1},
                                      {slate_str("POST"), slate_str("/b"), 20.0, 2}};
    slate_span_t span = {.trace_id = slate_str("4bf92f3577b34da6a3ce929d0e0e4736"),
                         .method = slate_str("GET"),
                         .path = slate_str("/a"),
                         .load = loads,
                         .n_load = 2};
    slate_load_report_t src = {.service = slate_str("frontend"),
                               .inbound = inbound,
                               .n_inbound = 2,
                               .spans = &span,
                               .n_spans = 1};
    uint8_t buf[512];
    size_t len = 0;
    if (slate_load_report_encode(&src, buf, sizeof buf, &len, NULL) != SLATE_OK)
        return 1;

    size_t n_inbound = 0, n_loads = 0;
    double rps = 0;
    // clang-format off
    // @code codec.h 1
    slate_load_report_t rep = {0};            // every array NULL: count only
    slate_codec_error_t err;
    if (slate_load_report_decode(&rep, buf, len, NULL, &err) != SLATE_OK) {
        fprintf(stderr, "decode: %s\n", slate_strerror(err.status)); // scaffolding
        return 1;                                                    // scaffolding
    }
    slate_codec_iter_t it;
    slate_inbound_t in;
    slate_codec_iter_init(&it, rep.raw);
    while (slate_load_report_next_inbound(&it, &in)) {
        n_inbound++;        // scaffolding
        rps += in.rate_rps; // scaffolding
    }
    slate_span_t sp;
    slate_codec_iter_init(&it, rep.raw);
    while (slate_load_report_next_span(&it, &sp)) {
        slate_codec_iter_t lit;
        slate_endpoint_load_t ld;
        slate_codec_iter_init(&lit, sp.raw);
        while (slate_span_next_load(&lit, &ld)) {
            n_loads += ld.in_flight; // scaffolding
        }
    }
    // @endcode
    // clang-format on
    int ok = n_inbound == 2 && rps == 30.5 && n_loads == 3 && it.status == SLATE_OK;
    printf("codec.h example: %zu inbound, %.1f req/s, in-flight sum %zu: %s\n", n_inbound, rps,
           n_loads, ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
