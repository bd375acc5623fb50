/*
 * The published-rules blob (shims/wasm/rules.c) from arbitrary bytes.
 * Invariants: validation never reads outside the blob; in a blob it accepts,
 * every lookup of every indexed key finds its table, every draw returns a
 * region id that has a name, and a key that is not indexed finds nothing.
 * The second half of the input also drives the builder: whatever it builds
 * successfully must validate.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../shims/wasm/rules.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void use_blob(const uint8_t *blob, size_t len)
{
    if (sw_rules_validate(blob, len) != SW_RULES_OK)
        return;
    sw_rules_info_t info;
    sw_rules_info(blob, &info);
    size_t idx = SW_RULES_HEADER + SW_RULES_REGION * (size_t)info.n_regions;
    for (size_t i = 0; i < info.n_rules; i++) {
        uint64_t key = sw_ld64(blob + idx + SW_RULES_INDEX * i);
        const void *t = sw_rules_find(blob, key);
        check(t != NULL);
        for (uint64_t v = 0; v < 8; v++) {
            uint16_t id = slate_sampler_draw(t, v * 0x9e3779b97f4a7c15ull);
            check(sw_rules_region_name(blob, id) != NULL);
        }
        if (!sw_rules_find(blob, key + 1))
            continue;
        /* key + 1 is indexed: it must be the next entry. */
        check(i + 1 < info.n_rules && sw_ld64(blob + idx + SW_RULES_INDEX * (i + 1)) == key + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size copy so any over-read is caught. */
    uint8_t *blob = malloc(size ? size : 1);
    check(blob != NULL);
    memcpy(blob, data, size);
    use_blob(blob, size);
    free(blob);

    /* Builder: up to 4 regions and 8 rules described by the input bytes. */
    if (size < 2)
        return 0;
    static const char *const names[4] = {"us-west-1", "us-east-1", "eu-west-1", "ap-south-1"};
    size_t n_regions = 1 + data[0] % 4, n_rules = data[1] % 9;
    size_t cap = sw_rules_size(n_regions, 8, 8 * 4);
    uint8_t *buf = malloc(cap);
    check(buf != NULL);
    sw_rules_builder_t b;
    check(sw_rules_begin(&b, buf, cap, names, n_regions, 0, 8, 1, 2, 3) == SW_RULES_OK);
    size_t at = 2;
    uint64_t key = 0;
    for (size_t r = 0; r < n_rules && at + 3 <= size; r++) {
        key += 1 + data[at];
        size_t n = 1 + data[at + 1] % 4;
        uint16_t ids[4];
        uint32_t w[4];
        for (size_t k = 0; k < n; k++) {
            ids[k] = (uint16_t)((data[at + 2] >> k) % (n_regions + 1));
            w[k] = at + 3 + k < size ? data[at + 3 + k] : 1;
        }
        int kind = (int)(data[at + 2] % 4);
        at += 3 + n;
        (void)sw_rules_add(&b, key, kind, ids, w, n);
    }
    size_t len = 0;
    if (sw_rules_finish(&b, &len) == SW_RULES_OK) {
        check(sw_rules_validate(buf, len) == SW_RULES_OK);
        use_blob(buf, len);
    }
    free(buf);
    return 0;
}
