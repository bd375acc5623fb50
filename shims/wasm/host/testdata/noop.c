/* libslate - a no-op proxy-wasm plugin: the baseline for per-request cost.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* Exported entry points (declared first: -Wmissing-prototypes). */
EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void);
EXPORT(malloc) void *noop_malloc(size_t n);
EXPORT(proxy_on_context_create) void on_context_create(uint32_t id, uint32_t parent);
EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t id, size_t size);
EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t id, size_t n, uint32_t eos);
EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t id, size_t n, uint32_t eos);
EXPORT(proxy_on_done) uint32_t on_done(uint32_t id);

void proxy_abi_version_0_2_1(void) {}
void *noop_malloc(size_t n)
{
    return malloc(n);
}
void on_context_create(uint32_t id, uint32_t parent)
{
    (void)id;
    (void)parent;
}
uint32_t on_configure(uint32_t id, size_t size)
{
    (void)id;
    (void)size;
    return 1;
}
uint32_t on_request_headers(uint32_t id, size_t n, uint32_t eos)
{
    (void)id;
    (void)n;
    (void)eos;
    return 0;
}
uint32_t on_response_headers(uint32_t id, size_t n, uint32_t eos)
{
    (void)id;
    (void)n;
    (void)eos;
    return 0;
}
uint32_t on_done(uint32_t id)
{
    (void)id;
    return 1;
}
