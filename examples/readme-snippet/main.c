/*
 * The example the README quotes: the whole data-plane cycle of libslate in
 * one program. Measure one endpoint (rate and latency), encode a LoadReport,
 * decode the controller's RoutingRules, compile them and pick a region per
 * call. Here the rules are encoded locally to stand for the controller's
 * HTTP answer. Built and run by the tests; exits non-zero if any step fails.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <slate/slate.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull /* nanoseconds */

static int check(slate_status st, const char *what)
{
    if (st != SLATE_OK)
        fprintf(stderr, "%s: %s (%s)\n", what, slate_status_name(st), slate_strerror(st));
    return st == SLATE_OK;
}

/* The controller's answer to a report, encoded here instead of received. */
static size_t controller_answer(uint8_t *buf, size_t cap)
{
    slate_route_target_t targets[] = {{slate_str("us-west-1"), 700000},
                                      {slate_str("us-east-1"), 300000}};
    slate_rule_t rule = {.src_region = slate_str("us-west-1"),
                         .dst_service = slate_str("cart"),
                         .targets = targets,
                         .n_targets = 2};
    slate_routing_rules_t rules = {
        .version = 1, .ttl_ns = 30000 * MS, .rules = &rule, .n_rules = 1};
    size_t len = 0;
    return slate_routing_rules_encode(&rules, buf, cap, &len, NULL) == SLATE_OK ? len : 0;
}

int main(void)
{
    /* Memory for one endpoint: a rate estimator (4096 bytes) and statistics. */
    size_t rate_len = slate_rate_size(NULL); /* the defaults: 1 s window, 1 ms ticks */
    slate_rate_t *rate = aligned_alloc(SLATE_RATE_ALIGN, rate_len);
    slate_stats_t *lat = malloc(sizeof *lat);
    if (!rate || !lat || !check(slate_rate_init(rate, rate_len, NULL), "slate_rate_init"))
        return 1;
    slate_stats_init(lat);

    /* Per request: the arrival, then the latency. The caller passes the time. */
    uint64_t now = 0;
    for (uint64_t i = 0; i < 3000; i++) { /* 2,000 requests per second for 1.5 s */
        now = 5000 * MS + i * MS / 2;
        slate_rate_add(rate, now);
        slate_stats_add(lat, 2 * MS + (i % 100) * 50000); /* 2 .. 6.95 ms */
    }

    /* Per tick: a LoadReport. Size it with a NULL buffer, then write it. */
    slate_inbound_t in = {.method = slate_str("GET"),
                          .path = slate_str("/cart"),
                          .requests = lat->count,
                          .rate_rps = slate_rate_per_second(rate, now)};
    slate_latency_from_stats(&in.latency, lat);
    slate_load_report_t rep = {.service = slate_str("frontend"),
                               .region = slate_str("us-west-1"),
                               .sequence = 1,
                               .time_ns = now,
                               .interval_ns = 1500 * MS,
                               .inbound = &in,
                               .n_inbound = 1};
    size_t need = 0, len = 0;
    if (slate_load_report_encode(&rep, NULL, 0, &need, NULL) != SLATE_ENOSPC)
        return 1;
    uint8_t *report = malloc(need);
    if (!report || !check(slate_load_report_encode(&rep, report, need, &len, NULL), "encode"))
        return 1;
    printf("report: %zu bytes, %.0f req/s, p99 %.2f ms\n", len, in.rate_rps,
           (double)slate_stats_quantile(lat, 0.99) / 1e6);

    /* The answer: decode into fixed arrays; errors say which field broke. */
    uint8_t body[256];
    size_t body_len = controller_answer(body, sizeof body);
    slate_rule_t rules[8];
    slate_route_target_t targets[16];
    slate_routing_rules_t rr = {
        .rules = rules, .cap_rules = 8, .targets = targets, .cap_targets = 16};
    slate_codec_error_t err;
    if (slate_routing_rules_decode(&rr, body, body_len, NULL, &err) != SLATE_OK) {
        char line[256];
        slate_codec_error_format(&err, line, sizeof line);
        fprintf(stderr, "bad rules: %s\n", line);
        return 1;
    }

    /* Compile the first rule: region names become small ids (here: the index). */
    const char *names[] = {"us-west-1", "us-east-1"};
    uint16_t ids[16];
    uint32_t weights[16];
    const slate_rule_t *r = &rr.rules[0];
    for (size_t i = 0; i < r->n_targets; i++) {
        ids[i] = SLATE_REGION_NONE;
        for (uint16_t k = 0; k < 2; k++)
            if (r->targets[i].region.len == strlen(names[k]) &&
                memcmp(r->targets[i].region.ptr, names[k], r->targets[i].region.len) == 0)
                ids[i] = k;
        weights[i] = r->targets[i].weight;
    }
    unsigned char table[SLATE_SAMPLER_SIZE(16)];
    if (!check(slate_sampler_init(table, sizeof table, 16), "slate_sampler_init") ||
        !check(slate_sampler_compile_u32(table, sizeof table, ids, weights, r->n_targets),
               "slate_sampler_compile_u32"))
        return 1;

    /* Per outbound call: one O(1) draw picks the region for x-slate-routeto. */
    slate_rng_t rng;
    slate_rng_seed(&rng, 42);
    unsigned hits[2] = {0, 0};
    for (int i = 0; i < 100000; i++) {
        uint16_t region = slate_sampler_draw(table, slate_rng_next(&rng));
        if (region > 1)
            return 1;
        hits[region]++;
    }
    printf("routing to cart: %s %.3f, %s %.3f\n", names[0], hits[0] / 1e5, names[1], hits[1] / 1e5);

    /* The numbers above, checked. */
    int ok = slate_rate_count(rate, now) == 2000 && lat->count == 3000 && hits[0] > 69000 &&
             hits[0] < 71000;
    free(report);
    free(lat);
    free(rate);
    return ok ? 0 : 1;
}
