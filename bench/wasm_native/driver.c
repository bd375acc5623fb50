/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Drives a data-plane module's C natively, against the host stand-in of
 * native_host.c, with the requests of the wasm benchmark (shims/wasm/bench):
 * the 14 request and 3 response headers an Istio sidecar forwards, Envoy's
 * callback sequence, 10,000 requests per second of virtual time, a tick per
 * virtual second. Linked with the filter it measures the filter; linked with
 * noop.c the no-op module. wasm_instructions.sh runs it under callgrind and
 * counts the instructions of drive_stream() and drive_tick() (the module's
 * callbacks and its allocator; the host stand-in's own work is excluded).
 *
 *   wasm_native_filter inbound|outbound <requests>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "native_host.h"
#include "module.h"
#include "slate/ruleset.h"
#include "slate/key.h"

#define N_REQS    512u
#define N_DESTS   16u
#define STEP_NS   100000ull /* 10,000 requests per second */
#define LATENCY   40000ull  /* each request completes before the next */
#define EPOCH_NS  1700000000000000000ull
#define ROOT_ID   1u
#define N_REGIONS 3u

static const char *const regions[N_REGIONS] = {"us-west-1", "us-east-1", "eu-west-1"};

typedef struct req_text {
    char authority[64], path[96], xrid[48], trace[40], span[20], parent[20], traceparent[64];
} req_text_t;

static req_text_t texts[N_REQS];
static nh_map_t requests[N_REQS];
static nh_map_t response;

static void hdr(nh_map_t *m, const char *k, const char *v)
{
    nh_header_t *h = &m->h[m->n++];
    h->k = k;
    h->kn = strlen(k);
    h->v = v;
    h->vn = strlen(v);
}

static void make_requests(int outbound)
{
    for (unsigned i = 0; i < N_REQS; i++) {
        req_text_t *t = &texts[i];
        nh_map_t *m = &requests[i];
        if (outbound)
            snprintf(t->authority, sizeof t->authority, "svc%02u.default.svc.cluster.local:8080",
                     i % N_DESTS);
        else
            snprintf(t->authority, sizeof t->authority, "frontend.default.svc.cluster.local:8080");
        unsigned kind = outbound ? 0 : i % 4;
        if (kind == 0)
            snprintf(t->path, sizeof t->path, "/api/items/%u?session=%u", 1000 + i % 500, i % 97);
        else if (kind == 1)
            snprintf(t->path, sizeof t->path, "/cart");
        else if (kind == 2)
            snprintf(t->path, sizeof t->path, "/api/users/%016x/orders", 0x5d0f416cu + i);
        else
            snprintf(t->path, sizeof t->path, "/healthz");
        snprintf(t->xrid, sizeof t->xrid, "4f1c%04x-9b2e-4c1d-a8f3-0d9e%08x", i, i);
        snprintf(t->trace, sizeof t->trace, "%016llx%016llx",
                 (unsigned long long)(0x51ade000ull + i * 7919ull),
                 (unsigned long long)(uint32_t)(0x9e3779b9u * (i + 1)));
        snprintf(t->span, sizeof t->span, "%016x", 0xa1b20000u + i);
        snprintf(t->parent, sizeof t->parent, "%016x", 0xc3d40000u + i);
        snprintf(t->traceparent, sizeof t->traceparent, "00-%s-%s-01", t->trace, t->span);
        m->n = 0;
        hdr(m, ":authority", t->authority);
        hdr(m, ":path", t->path);
        hdr(m, ":method", "GET");
        hdr(m, ":scheme", "http");
        hdr(m, "user-agent", "Go-http-client/1.1");
        hdr(m, "accept", "application/json");
        hdr(m, "x-request-id", t->xrid);
        hdr(m, "x-forwarded-proto", "http");
        hdr(m, "x-envoy-attempt-count", "1");
        hdr(m, "x-b3-traceid", t->trace);
        hdr(m, "x-b3-spanid", t->span);
        hdr(m, "x-b3-parentspanid", t->parent);
        hdr(m, "x-b3-sampled", "1");
        hdr(m, "traceparent", t->traceparent);
    }
    hdr(&response, ":status", "200");
    hdr(&response, "content-type", "application/json");
    hdr(&response, "x-envoy-upstream-service-time", "3");
}

/* Rules for 16 destinations, built with the reporter's compiler and
 * published in the stand-in's shared data as the reporter would. */
static uint8_t blob[16384];
static uint8_t version_record[SW_VERSION_RECORD];

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int publish_rules(void)
{
    uint64_t keys[N_DESTS];
    for (unsigned d = 0; d < N_DESTS; d++) {
        char svc[8];
        snprintf(svc, sizeof svc, "svc%02u", d);
        if (slate_endpoint_key(svc, strlen(svc), "GET", 3, "/api/items/{id}", 15, &keys[d], NULL) !=
            SLATE_OK)
            return 0;
    }
    qsort(keys, N_DESTS, sizeof keys[0], cmp_u64);
    slate_ruleset_builder_t b;
    size_t len = 0;
    uint64_t expiry = EPOCH_NS + 86400000000000ull;
    if (slate_ruleset_size(N_REGIONS, N_DESTS, N_DESTS * N_REGIONS) > sizeof blob ||
        slate_ruleset_begin(&b, blob, sizeof blob, regions, N_REGIONS, 0, N_DESTS, 1, EPOCH_NS,
                            expiry) != SLATE_OK)
        return 0;
    for (unsigned d = 0; d < N_DESTS; d++) {
        uint16_t ids[N_REGIONS] = {0, 1, 2};
        uint32_t w[N_REGIONS] = {60, 30, 10};
        if (slate_ruleset_add(&b, keys[d], SLATE_RULE_EXACT, ids, w, N_REGIONS) != SLATE_OK)
            return 0;
    }
    if (slate_ruleset_finish(&b, &len) != SLATE_OK)
        return 0;
    slate_ruleset_info_t info;
    slate_ruleset_info(blob, &info);
    slate_wire_put_le32(version_record, SW_VERSION_MAGIC);
    slate_wire_put_le32(version_record + 4, (uint32_t)len);
    slate_wire_put_le64(version_record + 8, info.version);
    slate_wire_put_le64(version_record + 16, info.checksum);
    slate_wire_put_le64(version_record + 24, expiry);
    host.shared[0] =
        (nh_shared_t){.key = "slate.frontend.rules", .value = blob, .len = len, .cas = 7};
    host.shared[1] = (nh_shared_t){.key = "slate.frontend.rules.version",
                                   .value = version_record,
                                   .len = sizeof version_record,
                                   .cas = 8};
    host.n_shared = 2;
    return 1;
}

/* One stream, Envoy's order. Counted by wasm_instructions.sh. */
__attribute__((noinline)) static void drive_stream(uint32_t id, nh_map_t *req, uint64_t start)
{
    host.now_ns = start;
    host.request = req;
    host.response = NULL;
    proxy_on_context_create(id, ROOT_ID);
    proxy_on_request_headers(id, req->n, 1);
    host.now_ns = start + LATENCY;
    host.response = &response;
    proxy_on_response_headers(id, response.n, 1);
    proxy_on_log(id);
    proxy_on_done(id);
    proxy_on_delete(id);
    host.request = host.response = NULL;
}

/* The no-op module exports no proxy_on_tick (it sets no tick period). */
#pragma weak proxy_on_tick

/* One tick of the root context. Counted by wasm_instructions.sh. */
__attribute__((noinline)) static void drive_tick(void)
{
    if (proxy_on_tick)
        proxy_on_tick(ROOT_ID);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "inbound") != 0 && strcmp(argv[1], "outbound") != 0)) {
        fprintf(stderr, "usage: %s inbound|outbound <requests>\n", argv[0]);
        return 2;
    }
    int outbound = strcmp(argv[1], "outbound") == 0;
    unsigned long n = strtoul(argv[2], NULL, 10);
    static char config[512];
    snprintf(config, sizeof config,
             "{\"service\":\"frontend\",\"region\":\"us-west-1\",\"vm_id\":\"slate\","
             "\"tick_ms\":1000,\"direction\":\"%s\",\"trace_sampling_rate\":0.01}",
             argv[1]);
    host.configuration = config;
    host.rand_state = 0x2545f4914f6cdd1dull;
    host.now_ns = EPOCH_NS;
    make_requests(outbound);
    if (!publish_rules()) {
        fprintf(stderr, "cannot build the rules blob\n");
        return 1;
    }
    proxy_on_context_create(ROOT_ID, 0);
    proxy_on_vm_start(ROOT_ID, 0);
    if (!proxy_on_configure(ROOT_ID, strlen(config))) {
        fprintf(stderr, "the module refused its configuration\n");
        return 1;
    }
    uint64_t tick_ns = host.tick_ms ? host.tick_ms * 1000000ull : 0, next_tick = EPOCH_NS;
    uint64_t replaced0 = 0;
    for (unsigned long i = 0; i < n; i++) {
        uint64_t start = EPOCH_NS + i * STEP_NS;
        if (tick_ns && start >= next_tick) {
            host.now_ns = start;
            drive_tick();
            next_tick = start + tick_ns;
        }
        if (i == 0)
            replaced0 = host.replaced;
        nh_map_t *req = &requests[i % N_REQS];
        size_t n_headers = req->n; /* drop the routing header the module adds */
        drive_stream((uint32_t)(ROOT_ID + 1 + i), req, start);
        req->n = n_headers;
    }
    /* One more tick, not counted, so the module reports its last draws: each
     * routing header written must be one draw in its stats. */
    host.now_ns = EPOCH_NS + n * STEP_NS + tick_ns;
    if (proxy_on_tick)
        proxy_on_tick(ROOT_ID);
    uint64_t headers = host.replaced - replaced0, draws = 0;
    for (uint32_t i = 0; i < host.n_metrics; i++)
        if (strncmp(host.metrics[i].name, "slate_draws_total", 17) == 0)
            draws += host.metrics[i].value;
    printf("%s %lu requests: %llu routing headers written (%llu draws in the stats), %llu log "
           "lines, %llu bytes enqueued\n",
           argv[1], n, (unsigned long long)headers, (unsigned long long)draws,
           (unsigned long long)host.logs, (unsigned long long)host.enqueued_bytes);
    if (headers && draws != headers) {
        fprintf(stderr, "the module's draws stat (%llu) is not the headers it wrote (%llu)\n",
                (unsigned long long)draws, (unsigned long long)headers);
        return 1;
    }
    return 0;
}
