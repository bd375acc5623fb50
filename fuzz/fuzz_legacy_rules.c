/*
 * SLATE's rules response (controller -> plugin): reject with a located error,
 * or accept; accepted rules re-encode and decode again to equal rules (same
 * grouping, same target order, same weights), and re-encoding gives the same
 * bytes. Also checks that every rule's targets lie inside the pool and that
 * the pool holds exactly n_targets entries.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/slate.h"
#include "legacy_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 128

static slate_rule_t r_a[CAP], r_b[CAP];
static slate_route_target_t t_a[CAP], t_b[CAP];

static void setup(slate_routing_rules_t *r, slate_rule_t *rules, slate_route_target_t *t)
{
    memset(r, 0, sizeof *r);
    r->rules = rules;
    r->cap_rules = CAP;
    r->targets = t;
    r->cap_targets = CAP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slate_codec_limits_t lim = {0};
    lim.max_repeated = CAP;
    lim.max_string = 512;
    slate_codec_error_t err;
    slate_routing_rules_t a, b;
    setup(&a, r_a, t_a);
    slate_status st = slate_legacy_rules_decode(&a, (const char *)data, size, &lim, &err);
    if (st != SLATE_OK) {
        if (err.status != st || !err.detail || err.offset > size)
            __builtin_trap();
        return 0;
    }
    size_t sum = 0;
    for (size_t i = 0; i < a.n_rules; i++) {
        const slate_rule_t *r = &a.rules[i];
        if (r->n_targets == 0 || r->targets < t_a || r->targets + r->n_targets > t_a + a.n_targets)
            __builtin_trap();
        for (size_t k = 0; k < r->n_targets; k++)
            if (r->targets[k].weight > SLATE_LEGACY_WEIGHT_SCALE)
                __builtin_trap();
        sum += r->n_targets;
    }
    if (sum != a.n_targets)
        __builtin_trap();
    size_t need = 0, len = 0;
    st = slate_legacy_rules_encode(&a, NULL, 0, &need, NULL);
    if (st != (need ? SLATE_ENOSPC : SLATE_OK))
        __builtin_trap();
    char *buf = malloc(need ? need : 1);
    if (!buf)
        return 0;
    if (need &&
        (slate_legacy_rules_encode(&a, buf, need - 1, &len, NULL) != SLATE_ENOSPC || len != need))
        __builtin_trap();
    if (slate_legacy_rules_encode(&a, buf, need, &len, &err) != SLATE_OK || len != need)
        __builtin_trap();
    setup(&b, r_b, t_b);
    if (slate_legacy_rules_decode(&b, buf, len, &lim, &err) != SLATE_OK)
        __builtin_trap();
    if (!lr_rules_eq(&a, &b))
        __builtin_trap();
    char *buf2 = malloc(need ? need : 1);
    size_t len2 = 0;
    if (!buf2 || slate_legacy_rules_encode(&b, buf2, need, &len2, NULL) != SLATE_OK ||
        len2 != len || memcmp(buf, buf2, len) != 0)
        __builtin_trap();
    free(buf2);
    free(buf);
    return 0;
}
