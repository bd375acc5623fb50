/*
 * RoutingRules decoder: the same invariants as fuzz_load_report.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_iterators(const slate_routing_rules_t *r)
{
    slate_codec_iter_t it;
    slate_rule_t rule;
    size_t n = 0, all = 0;
    slate_codec_iter_init(&it, r->raw);
    while (slate_routing_rules_next_rule(&it, &rule)) {
        FZ_CHECK(n < r->n_rules && fz_rule_eq(&rule, &r->rules[n], false));
        slate_codec_iter_t tit;
        slate_route_target_t t;
        size_t k = 0;
        slate_codec_iter_init(&tit, rule.raw);
        while (slate_rule_next_target(&tit, &t)) {
            FZ_CHECK(k < rule.n_targets && fz_sv_eq(t.region, r->targets[all].region) &&
                     t.weight == r->targets[all].weight);
            k++;
            all++;
        }
        FZ_CHECK(tit.status == SLATE_OK && k == rule.n_targets);
        n++;
    }
    FZ_CHECK(it.status == SLATE_OK && n == r->n_rules && all == r->n_targets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_lo = data;
    fz_hi = data + size;
    slate_codec_error_t err;
    fz_rules_t f;
    slate_status st = fz_decode_rules(data, size, NULL, &err, &f);
    fz_error_ok(st, &err, size);
    if (st == SLATE_OK) {
        fz_rules_views_ok(&f.r);
        check_iterators(&f.r);
    }
    if (size >= 2) {
        slate_codec_limits_t lim = fz_tight_limits(data[0], data[size - 1]);
        fz_rules_t t;
        slate_codec_error_t terr;
        slate_status tst = fz_decode_rules(data, size, &lim, &terr, &t);
        fz_error_ok(tst, &terr, size);
        if (tst == SLATE_OK) {
            FZ_CHECK(st == SLATE_OK && fz_rules_eq(&t.r, &f.r));
            fz_free_rules(&t);
        } else if (st == SLATE_OK) {
            FZ_CHECK(fz_is_limit_status(tst));
        }
    }
    fz_free_rules(&f);
    return 0;
}
