/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A proxy-wasm module that does nothing: the baseline of the data plane's
 * benchmark. Built with the same toolchain and flags as the real module and
 * exporting the same stream callbacks, so the host drives both the same way
 * and the difference is the filter's own work.
 */
#include <stdlib.h>

#include "proxy_wasm_abi.h"

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
    (void)plugin_configuration_size;
    return 1;
}

proxy_action_t proxy_on_request_headers(uint32_t stream_context_id, size_t num_headers,
                                        uint32_t end_of_stream)
{
    (void)stream_context_id;
    (void)num_headers;
    (void)end_of_stream;
    return PROXY_ACTION_CONTINUE;
}

proxy_action_t proxy_on_request_body(uint32_t stream_context_id, size_t body_size,
                                     uint32_t end_of_stream)
{
    (void)stream_context_id;
    (void)body_size;
    (void)end_of_stream;
    return PROXY_ACTION_CONTINUE;
}

proxy_action_t proxy_on_response_headers(uint32_t stream_context_id, size_t num_headers,
                                         uint32_t end_of_stream)
{
    (void)stream_context_id;
    (void)num_headers;
    (void)end_of_stream;
    return PROXY_ACTION_CONTINUE;
}

proxy_action_t proxy_on_response_body(uint32_t stream_context_id, size_t body_size,
                                      uint32_t end_of_stream)
{
    (void)stream_context_id;
    (void)body_size;
    (void)end_of_stream;
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
}

void proxy_on_delete(uint32_t context_id)
{
    (void)context_id;
}
