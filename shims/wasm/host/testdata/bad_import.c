/* libslate - a plugin importing a function no proxy provides: must not load.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define EXPORT(name) __attribute__((export_name(#name)))

__attribute__((import_module("env"), import_name("proxy_not_in_any_abi"))) uint32_t
proxy_not_in_any_abi(void);

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void);
EXPORT(malloc) void *bad_malloc(size_t n);
EXPORT(proxy_on_tick) void on_tick(uint32_t id);

void proxy_abi_version_0_2_1(void) {}
void *bad_malloc(size_t n)
{
    return malloc(n);
}
void on_tick(uint32_t id)
{
    (void)id;
    proxy_not_in_any_abi();
}
