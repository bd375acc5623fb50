/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The native stand-in of the proxy-wasm host (native_host.c): its state, set
 * by the driver before each callback. Not a public API.
 */
#ifndef SLATE_BENCH_NATIVE_HOST_H
#define SLATE_BENCH_NATIVE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "proxy_wasm_abi.h"

#define NH_MAX_HEADERS 24u
#define NH_MAX_METRICS 64u
#define NH_MAX_TEXT    128u
#define NH_MAX_SHARED  8u

typedef struct nh_header {
    const char *k, *v;
    size_t kn, vn;
    char kbuf[NH_MAX_TEXT], vbuf[NH_MAX_TEXT]; /* for headers the module writes */
} nh_header_t;

typedef struct nh_map {
    nh_header_t h[NH_MAX_HEADERS];
    size_t n;
} nh_map_t;

/* A stat the module defined: counters only grow, gauges are set, as Envoy's
 * host keeps them; the module reads nothing back, a test may. */
typedef struct nh_metric {
    char name[NH_MAX_TEXT];
    uint32_t type; /* 0 counter, 1 gauge, 2 histogram */
    uint64_t value;
} nh_metric_t;

typedef struct nh_shared {
    char key[64];
    const uint8_t *value; /* the driver's bytes, or `own` once the module wrote the key */
    size_t len;
    uint32_t cas;
    uint8_t own[256];
} nh_shared_t;

typedef struct native_host {
    uint64_t now_ns;
    const char *configuration;
    nh_map_t *request, *response; /* the current stream's maps, or NULL */
    nh_shared_t shared[NH_MAX_SHARED];
    size_t n_shared;
    uint32_t tick_ms;
    uint64_t rand_state;
    uint64_t logs, replaced, enqueued_bytes;
    nh_metric_t metrics[NH_MAX_METRICS]; /* id i + 1 is metrics[i] */
    uint32_t n_metrics;
} native_host_t;

extern native_host_t host;

/** The module's allocator as the host calls it for values it returns. */
void *host_module_malloc(size_t n);

#endif /* SLATE_BENCH_NATIVE_HOST_H */
