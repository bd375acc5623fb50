/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * The @code example of include/slate/rate.h, compiled and run. Between the
 * markers are the header's lines, in the header's order (check_sync.sh checks
 * this); lines ending in "scaffolding" are not in the header.
 */
#include <slate/slate.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    uint64_t now_ns = 1700000000000000000ull;
    // clang-format off
    // @code rate.h 1
    slate_rate_params_t p = slate_rate_params_default();
    size_t len = slate_rate_size(&p);               // 4096
    void *mem = aligned_alloc(8, len);              // or shared memory, wasm memory, ...
    if (slate_rate_init(mem, len, &p) != SLATE_OK) abort();
    slate_rate_t *r = mem;
    slate_rate_add(r, now_ns);                      // on every request
    uint64_t in_last_second = slate_rate_count(r, now_ns);
    // @endcode
    // clang-format on
    int ok = len == 4096 && in_last_second == 1;
    printf("rate.h example: %zu-byte region, %llu in the last second: %s\n", len,
           (unsigned long long)in_last_second, ok ? "ok" : "WRONG");
    free(mem);
    return ok ? 0 : 1;
}
