/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The native stand-in of the proxy-wasm host (host_stub.c): its state, set
 * by the driver before each callback. Not a public API.
 */
#ifndef SLATE_BENCH_HOST_STUB_H
#define SLATE_BENCH_HOST_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "proxy_wasm_abi.h"

#define STUB_MAX_HEADERS 24u
#define STUB_MAX_TEXT    128u
#define STUB_MAX_SHARED  8u

typedef struct stub_header {
    const char *k, *v;
    size_t kn, vn;
    char kbuf[STUB_MAX_TEXT], vbuf[STUB_MAX_TEXT]; /* for headers the module writes */
} stub_header_t;

typedef struct stub_map {
    stub_header_t h[STUB_MAX_HEADERS];
    size_t n;
} stub_map_t;

typedef struct stub_shared {
    char key[64];
    const uint8_t *value; /* the driver's bytes, or `own` once the module wrote the key */
    size_t len;
    uint32_t cas;
    uint8_t own[256];
} stub_shared_t;

typedef struct stub_host {
    uint64_t now_ns;
    const char *configuration;
    stub_map_t *request, *response; /* the current stream's maps, or NULL */
    stub_shared_t shared[STUB_MAX_SHARED];
    size_t n_shared;
    uint32_t tick_ms;
    uint64_t rand_state;
    uint64_t logs, replaced, enqueued_bytes;
    uint32_t metrics; /* ids handed out by proxy_define_metric */
} stub_host_t;

extern stub_host_t stub;

/** The module's allocator as the host calls it for values it returns. */
void *host_module_malloc(size_t n);

#endif /* SLATE_BENCH_HOST_STUB_H */
