/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * bench_memory: the global controller's learning state, in bytes per
 * service, per endpoint, per pod and per region, measured in process.
 *
 * Two parts:
 * - what the limits reserve: an empty state's heap bytes for two settings of
 *   one limit (max-services, max-endpoints-per-service, max-regions), the
 *   others fixed; the slope is the bytes reserved per slot;
 * - what entities add within fixed limits: synthetic reports (encoded with
 *   the core codec, decoded and merged through the daemon's own intake
 *   functions, ctl_scratch_decode() and ctl_state_ingest(), over three
 *   closed windows) fill the state for S services x E endpoints x P pods
 *   per (service, region) x R regions; the slope between two meshes that
 *   differ in one dimension is the bytes per entity.
 * Heap bytes in use are glibc's mallinfo2 (uordblks + hblkhd). Nothing is
 * asserted: the figures go into docs/scale.md.
 *
 * Usage: bench_memory
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"
#include "ctl_log.h"
#include "ctl_metrics.h"
#include "ctl_state.h"
#include "slate/codec.h"
#include "slate/stats.h"

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

typedef struct mesh {
    unsigned services, endpoints, pods, regions;
} mesh_t;

typedef struct limits {
    unsigned services, endpoints, regions;
} limits_t;

static const limits_t fixed = {1100, 320, 17};

static void configure(ctl_config_t *cfg, limits_t l)
{
    ctl_config_defaults(cfg);
    cfg->max_services = l.services;
    cfg->max_endpoints_per_service = l.endpoints;
    cfg->max_regions = l.regions;
    cfg->table_ttl_s = 0;
    cfg->max_clock_skew_ms = 0; /* the reports carry a fixed clock */
}

/* Heap bytes a state with limits `l` holds after three windows of reports
 * from `m` (an empty mesh: what the limits reserve). */
static long long state_bytes(limits_t l, mesh_t m)
{
    ctl_config_t cfg;
    configure(&cfg, l);
    ctl_metrics_t metrics;
    memset(&metrics, 0, sizeof metrics);
    size_t base = heap_in_use();
    ctl_state_t *s = ctl_state_create(&cfg, &metrics, NULL);
    ctl_scratch_t *sc = ctl_scratch_create();
    if (!s || !sc)
        return -1;
    slate_stats_t st;
    slate_stats_init(&st);
    for (int i = 0; i < 10; i++)
        slate_stats_add(&st, 2000000u + 100000u * (uint64_t)i);
    slate_inbound_t *in = calloc(m.endpoints, sizeof *in);
    char(*paths)[32] = calloc(m.endpoints, sizeof *paths);
    size_t cap = 256u + 160u * m.endpoints + 4 * SLATE_HIST_BUCKETS;
    uint8_t *buf = malloc(cap);
    if (!in || !paths || !buf)
        return -1;
    for (unsigned e = 0; e < m.endpoints; e++) {
        snprintf(paths[e], sizeof paths[e], "/api/e%u", e);
        in[e].method = slate_str("GET");
        in[e].path = slate_str(paths[e]);
        in[e].requests = 10;
        in[e].rate_rps = 10.0;
        slate_latency_from_stats(&in[e].latency, &st);
    }
    uint64_t now = 1700000000000000000ull, seq = 0;
    for (int window = 0; window < 3; window++) {
        for (unsigned sv = 0; sv < m.services; sv++) {
            for (unsigned r = 0; r < m.regions; r++) {
                for (unsigned p = 0; p < m.pods; p++) {
                    char svc[32], reg[32], pod[48];
                    snprintf(svc, sizeof svc, "svc%u", sv);
                    snprintf(reg, sizeof reg, "region%u", r);
                    snprintf(pod, sizeof pod, "svc%u-region%u-pod%u", sv, r, p);
                    slate_load_report_t rep;
                    memset(&rep, 0, sizeof rep);
                    rep.service = slate_str(svc);
                    rep.region = slate_str(reg);
                    rep.pod = slate_str(pod);
                    rep.sequence = ++seq;
                    rep.time_ns = now;
                    rep.interval_ns = 1000000000ull;
                    rep.inbound = in;
                    rep.n_inbound = m.endpoints;
                    size_t len = 0;
                    if (slate_load_report_encode(&rep, buf, cap, &len, NULL) != SLATE_OK)
                        return -1;
                    slate_codec_limits_t lim = SLATE_CODEC_LIMITS_DEFAULT;
                    slate_codec_error_t err;
                    slate_load_report_t *dec = NULL;
                    ctl_ingest_info_t info;
                    if (ctl_scratch_decode(sc, buf, len, &lim, &err, &dec) != SLATE_OK ||
                        ctl_state_ingest(s, sc, dec, false, true, now, &info) != 0)
                        return -1;
                }
            }
        }
        now += 1000000000ull;
        ctl_solve_input_t *si = ctl_state_tick(s, now);
        ctl_solve_input_free(si);
    }
    free(in);
    free(paths);
    free(buf);
    ctl_scratch_free(sc); /* the per-thread scratch is not the state */
    long long bytes = (long long)heap_in_use() - (long long)base;
    ctl_state_free(s);
    return bytes;
}

static void slope(const char *what, mesh_t a, mesh_t b, unsigned added)
{
    long long x = state_bytes(fixed, a), y = state_bytes(fixed, b);
    if (x < 0 || y < 0) {
        printf("%-34s failed\n", what);
        return;
    }
    printf("%-34s %12lld %12lld %10.0f\n", what, x, y, (double)(y - x) / added);
}

static void reserved(const char *what, limits_t a, limits_t b, unsigned added)
{
    const mesh_t none = {0, 0, 0, 0};
    long long x = state_bytes(a, none), y = state_bytes(b, none);
    printf("%-34s %12lld %12lld %10.0f\n", what, x, y, (double)(y - x) / added);
}

int main(void)
{
    ctl_log_set_level(CTL_LOG_ERROR);
    printf("# what the limits reserve: an empty state, heap bytes in use (mallinfo2)\n");
    printf("%-34s %12s %12s %10s\n", "limit (the others: 1100, 320, 17)", "smaller", "larger",
           "bytes each");
    reserved("max-services (1100 -> 2100)", fixed, (limits_t){2100, 320, 17}, 1000);
    reserved("max-endpoints-per-service (+100)", fixed, (limits_t){1100, 420, 17}, 100);
    reserved("max-regions (17 -> 31)", fixed, (limits_t){1100, 320, 31}, 14);
    printf("# what entities add within those limits: after 3 windows of reports\n");
    printf("%-34s %12s %12s %10s\n", "entity (what grows)", "smaller", "larger", "bytes each");
    slope("pod (1 svc, 1 ep, 1 region)", (mesh_t){1, 1, 100, 1}, (mesh_t){1, 1, 300, 1}, 200);
    slope("endpoint (1 svc, 1 pod, 1 region)", (mesh_t){1, 100, 1, 1}, (mesh_t){1, 300, 1, 1}, 200);
    slope("service (1 ep, 1 pod, 1 region)", (mesh_t){100, 1, 1, 1}, (mesh_t){300, 1, 1, 1}, 200);
    slope("region (100 svc x 1 ep x 1 pod)", (mesh_t){100, 1, 1, 2}, (mesh_t){100, 1, 1, 8}, 6);
    slope("service (4 ep, 4 pods, 8 regions)", (mesh_t){50, 4, 4, 8}, (mesh_t){150, 4, 4, 8}, 100);
    return 0;
}
