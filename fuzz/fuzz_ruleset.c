/*
 * Compiled rulesets (libslate/ruleset.c) from arbitrary bytes.
 * Invariants: validation never reads outside the blob; in a blob it accepts,
 * every lookup of every indexed key finds its table, every draw returns a
 * region id that has a name, and a key that is not indexed finds nothing.
 * The input also drives the builder (whatever it builds successfully must
 * validate) and, decoded as a RoutingRules message, the compiler: whatever it
 * compiles must validate, and every route drawn from it names a region.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/ruleset.h"
#include "slate/sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void use_blob(const uint8_t *blob, size_t len)
{
    if (slate_ruleset_validate(blob, len) != SLATE_OK)
        return;
    slate_ruleset_info_t info;
    slate_ruleset_info(blob, &info);
    check(slate_ruleset_entry(blob, info.n_rules, NULL, NULL) == NULL);
    for (size_t i = 0; i < info.n_rules; i++) {
        uint64_t key = 0;
        int kind = -1;
        const void *e = slate_ruleset_entry(blob, i, &key, &kind);
        const void *t = slate_ruleset_find(blob, key);
        check(t != NULL && t == e && kind >= SLATE_RULE_EXACT && kind <= SLATE_RULE_ANY);
        for (uint64_t v = 0; v < 8; v++) {
            uint16_t id = slate_sampler_draw(t, v * 0x9e3779b97f4a7c15ull);
            check(slate_ruleset_region_name(blob, id) != NULL);
        }
        if (!slate_ruleset_find(blob, key + 1))
            continue;
        /* key + 1 is indexed: it must be the next entry. */
        uint64_t next = 0;
        check(slate_ruleset_entry(blob, i + 1, &next, NULL) != NULL && next == key + 1);
    }
}

static double equal_rates(void *ctx, slate_str_t m, slate_str_t p)
{
    (void)ctx;
    return (double)(m.len + p.len); /* some callers at 0 rps: the equal split */
}

/* The input as a RoutingRules message, compiled for one proxy of "fe" in "west". */
static void compile_message(const uint8_t *data, size_t size)
{
    static slate_rule_t rules[64];
    static slate_route_target_t targets[256];
    slate_routing_rules_t rr;
    memset(&rr, 0, sizeof rr);
    rr.rules = rules;
    rr.cap_rules = 64;
    rr.targets = targets;
    rr.cap_targets = 256;
    if (slate_routing_rules_decode(&rr, data, size, NULL, NULL) != SLATE_OK)
        return;
    slate_ruleset_compile_params_t p = {.service = "fe",
                                        .region = "west",
                                        .max_regions = 8,
                                        .max_rules = 32,
                                        .max_name = 63,
                                        .max_method = 32,
                                        .max_path = 256,
                                        .caller_rate = equal_rates};
    static uint64_t scratch[4096];
    size_t need = slate_ruleset_compile_scratch(rr.n_rules, p.max_regions);
    check(need <= sizeof scratch);
    size_t len = 0;
    const char *why = NULL;
    slate_status st = slate_ruleset_compile(&rr, &p, scratch, need, NULL, 0, &len, &why);
    if (st != SLATE_ENOSPC) {
        check(st != SLATE_OK && why != NULL);
        return;
    }
    uint8_t *out = malloc(len);
    check(out != NULL);
    size_t got = 0;
    st = slate_ruleset_compile(&rr, &p, scratch, need, out, len, &got, &why);
    /* the sizing pass checks names and limits; weights are judged while the
     * tables are built, so the second pass may still refuse, with a reason */
    check(st != SLATE_ENOSPC);
    if (st != SLATE_OK) {
        check(why != NULL);
        free(out);
        return;
    }
    check(got <= len);
    check(slate_ruleset_validate(out, got) == SLATE_OK);
    use_blob(out, got);
    for (size_t i = 0; i < rr.n_rules; i++) {
        const slate_rule_t *ru = &rr.rules[i];
        uint16_t id = slate_ruleset_route(out, ru->dst_service.ptr, ru->dst_service.len,
                                          ru->method.ptr, ru->method.len, ru->path.ptr,
                                          ru->path.len, NULL, i * 0x9e3779b97f4a7c15ull);
        check(id == SLATE_RULESET_NO_REGION || slate_ruleset_region_name(out, id) != NULL);
    }
    free(out);
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
    size_t cap = slate_ruleset_size(n_regions, 8, 8 * 4);
    uint8_t *buf = malloc(cap);
    check(buf != NULL);
    slate_ruleset_builder_t b;
    check(slate_ruleset_begin(&b, buf, cap, names, n_regions, 0, 8, 1, 2, 3) == SLATE_OK);
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
        if (slate_ruleset_add(&b, key, kind, ids, w, n) != SLATE_OK)
            continue; /* a refused add leaves the builder as it was */
    }
    size_t len = 0;
    if (slate_ruleset_finish(&b, &len) == SLATE_OK) {
        check(slate_ruleset_validate(buf, len) == SLATE_OK);
        use_blob(buf, len);
    }
    free(buf);
    compile_message(data, size);
    return 0;
}
