/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A benchmark baseline: a proxy-wasm module that makes exactly the hostcalls
 * the filter's per-request path needs and nothing else. Inbound (plugin
 * configuration "inbound"): read :method, :path and x-b3-traceid, and the
 * clock at the request and at its end. Outbound ("outbound"): read
 * :authority, :method and :path, write the routing header, read the
 * response's :status (fast failover needs it), and the clock twice. The
 * filter's cost above this floor is its own work; the floor's cost
 * above the no-op module is the host's price of those hostcalls.
 */
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm_abi.h"

static int outbound;

void proxy_abi_version_0_2_1(void) {}

void *proxy_on_memory_allocate(size_t memory_size)
{
    return malloc(memory_size ? memory_size : 1);
}

void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id)
{
    (void)context_id;
    (void)parent_context_id;
}

uint32_t proxy_on_vm_start(uint32_t plugin_context_id, size_t vm_configuration_size)
{
    (void)plugin_context_id;
    (void)vm_configuration_size;
    return 1;
}

uint32_t proxy_on_configure(uint32_t plugin_context_id, size_t plugin_configuration_size)
{
    (void)plugin_context_id;
    uint8_t *p = NULL;
    size_t n = 0;
    proxy_get_buffer_bytes(PROXY_BUFFER_PLUGIN_CONFIGURATION, 0, plugin_configuration_size, &p, &n);
    outbound = n >= 8 && memcmp(p, "outbound", 8) == 0;
    free(p);
    return 1;
}

static size_t get_from(proxy_map_type_t map, const char *key, size_t len)
{
    uint8_t *p = NULL;
    size_t n = 0;
    proxy_get_header_map_value(map, key, len, &p, &n);
    free(p);
    return n;
}

static size_t get(const char *key, size_t len)
{
    return get_from(PROXY_MAP_HTTP_REQUEST_HEADERS, key, len);
}

proxy_action_t proxy_on_request_headers(uint32_t stream_context_id, size_t num_headers,
                                        uint32_t end_of_stream)
{
    (void)stream_context_id;
    (void)num_headers;
    (void)end_of_stream;
    uint64_t t = 0;
    proxy_get_current_time_nanoseconds(&t);
    if (outbound) {
        get(":authority", 10);
        get(":method", 7);
        get(":path", 5);
        proxy_replace_header_map_value(PROXY_MAP_HTTP_REQUEST_HEADERS, "x-slate-routeto", 15,
                                       (const uint8_t *)"us-west-1", 9);
    } else {
        get(":method", 7);
        get(":path", 5);
        get("x-b3-traceid", 12);
    }
    return PROXY_ACTION_CONTINUE;
}

proxy_action_t proxy_on_response_headers(uint32_t stream_context_id, size_t num_headers,
                                         uint32_t end_of_stream)
{
    (void)stream_context_id;
    (void)num_headers;
    (void)end_of_stream;
    if (outbound)
        get_from(PROXY_MAP_HTTP_RESPONSE_HEADERS, ":status", 7);
    return PROXY_ACTION_CONTINUE;
}

uint32_t proxy_on_done(uint32_t context_id)
{
    (void)context_id;
    return 1;
}

void proxy_on_log(uint32_t context_id)
{
    (void)context_id;
    uint64_t t = 0;
    proxy_get_current_time_nanoseconds(&t);
}

void proxy_on_delete(uint32_t context_id)
{
    (void)context_id;
}
