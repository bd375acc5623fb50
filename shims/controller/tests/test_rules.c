/*
 * Tests of rule sets: per-proxy selection, protobuf round trip through the
 * codec, SLATE's legacy text (fractions summing to 1), routing equality, and
 * refusal of names the sets cannot hold.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ctl_rules.h"
#include "slate/legacy.h"

static ctl_rules_t *sample(void)
{
    ctl_rules_t *r = ctl_rules_new(7, 60000000000ull, 1700000000000000000ull, "test");
    const char *r1[] = {"west", "east"};
    uint32_t w1[] = {675000, 325000};
    const char *r2[] = {"east"};
    uint32_t w2[] = {1000000};
    const char *r3[] = {"west", "east"};
    uint32_t w3[] = {3, 1}; /* relative weights */
    assert_int_equal(
        ctl_rules_add(r, "west", "backend", "GET", "/api/items/{id}", "frontend", r1, w1, 2), 0);
    assert_int_equal(
        ctl_rules_add(r, "east", "backend", "GET", "/api/items/{id}", "frontend", r2, w2, 1), 0);
    assert_int_equal(ctl_rules_add(r, "west", "db", "POST", "/q", "backend", r3, w3, 2), 0);
    assert_int_equal(ctl_rules_add(r, "west", "cache", "", "", "", r2, w2, 1), 0); /* any caller */
    return r;
}

static slate_routing_rules_t *decode(const ctl_buf_t *b, slate_rule_t *rules, size_t cap_rules,
                                     slate_route_target_t *targets, size_t cap_targets)
{
    static slate_routing_rules_t m;
    memset(&m, 0, sizeof(m));
    m.rules = rules;
    m.cap_rules = cap_rules;
    m.targets = targets;
    m.cap_targets = cap_targets;
    slate_codec_error_t err;
    assert_int_equal(slate_routing_rules_decode(&m, (const uint8_t *)b->data, b->len, NULL, &err),
                     SLATE_OK);
    return &m;
}

static bool eq(slate_str_t s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

static void test_per_proxy_selection(void **state)
{
    (void)state;
    ctl_rules_t *r = sample();
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_rules_response(r, "frontend", 8, "west", 4, &b), 0);
    slate_rule_t rules[8];
    slate_route_target_t targets[16];
    slate_routing_rules_t *m = decode(&b, rules, 8, targets, 16);
    assert_int_equal(m->version, 7);
    assert_int_equal(m->ttl_ns, 60000000000ull);
    /* frontend in west: its own rule and the any-caller one; not east's, not backend's */
    assert_int_equal(m->n_rules, 2);
    assert_true(eq(m->rules[0].dst_service, "backend"));
    assert_true(eq(m->rules[0].src_region, "west"));
    assert_int_equal(m->rules[0].n_targets, 2);
    assert_true(eq(m->rules[0].targets[0].region, "west"));
    assert_int_equal(m->rules[0].targets[0].weight, 675000);
    assert_true(eq(m->rules[1].dst_service, "cache"));
    /* the cached answer is byte-identical */
    ctl_buf_t b2;
    ctl_buf_init(&b2, 0);
    assert_int_equal(ctl_rules_response(r, "frontend", 8, "west", 4, &b2), 0);
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    /* an unknown proxy gets only the any-caller rule; another region nothing but its own */
    ctl_buf_reset(&b);
    assert_int_equal(ctl_rules_response(r, "nobody", 6, "north", 5, &b), 0);
    m = decode(&b, rules, 8, targets, 16);
    assert_int_equal(m->n_rules, 0);
    assert_int_equal(m->version, 7);
    ctl_buf_free(&b);
    ctl_buf_free(&b2);
    ctl_rules_unref(r);
}

static void test_round_trip(void **state)
{
    (void)state;
    ctl_rules_t *r = sample();
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_rules_encode_all(r, &b), 0);
    slate_codec_error_t err;
    ctl_rules_t *back = ctl_rules_decode_all((const uint8_t *)b.data, b.len, "restored", &err);
    assert_non_null(back);
    assert_int_equal(back->version, 7);
    assert_int_equal(back->generated_ns, 1700000000000000000ull);
    assert_string_equal(back->origin, "restored");
    assert_int_equal(back->n_rules, 4);
    assert_true(ctl_rules_same_routing(r, back));
    assert_string_equal(back->rules[2].src_service, "backend");
    assert_int_equal(back->rules[2].targets[1].weight, 1);
    /* a changed weight is a different routing */
    back->rules[0].targets[0].weight = 675001;
    assert_false(ctl_rules_same_routing(r, back));
    ctl_rules_unref(back);
    /* damaged bytes are refused, not half-read */
    b.data[b.len / 2] ^= 0x80;
    ctl_rules_t *bad = ctl_rules_decode_all((const uint8_t *)b.data, b.len - 3, "x", &err);
    assert_null(bad);
    ctl_buf_free(&b);
    ctl_rules_unref(r);
}

static void test_legacy_text(void **state)
{
    (void)state;
    ctl_rules_t *r = sample();
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_rules_legacy(r, "backend", 7, "west", 4, &b), 0);
    /* relative weights 3:1 become fractions; the any-caller rule has no method: not in SLATE's text
     */
    assert_string_equal(ctl_buf_cstr(&b), "backend@@,db@POST@/q,west,west,0.75\n"
                                          "backend@@,db@POST@/q,west,east,0.25\n");
    ctl_buf_reset(&b);
    assert_int_equal(ctl_rules_legacy(r, "frontend", 8, "west", 4, &b), 0);
    assert_string_equal(ctl_buf_cstr(&b),
                        "frontend@@,backend@GET@/api/items/{id},west,west,0.675\n"
                        "frontend@@,backend@GET@/api/items/{id},west,east,0.325\n");
    /* SLATE's own decoder reads it back */
    slate_routing_rules_t m;
    memset(&m, 0, sizeof(m));
    slate_rule_t rules[4];
    slate_route_target_t targets[4];
    m.rules = rules;
    m.cap_rules = 4;
    m.targets = targets;
    m.cap_targets = 4;
    assert_int_equal(slate_legacy_rules_decode(&m, b.data, b.len, NULL, NULL), SLATE_OK);
    assert_int_equal(m.n_rules, 1);
    assert_int_equal(m.rules[0].targets[0].weight + m.rules[0].targets[1].weight, 1000000);
    ctl_buf_free(&b);
    ctl_rules_unref(r);
}

static void test_names_with_nul_refused(void **state)
{
    (void)state;
    slate_rule_t rule;
    memset(&rule, 0, sizeof(rule));
    slate_route_target_t t = {{"west", 4}, 1};
    rule.src_region = (slate_str_t){"west", 4};
    rule.dst_service = (slate_str_t){"a\0b", 3};
    rule.targets = &t;
    rule.n_targets = 1;
    slate_routing_rules_t m;
    memset(&m, 0, sizeof(m));
    m.rules = &rule;
    m.n_rules = 1;
    assert_null(ctl_rules_from_message(&m, "x"));
    rule.dst_service = (slate_str_t){"ab", 2};
    ctl_rules_t *ok = ctl_rules_from_message(&m, "x");
    assert_non_null(ok);
    assert_string_equal(ok->rules[0].dst_service, "ab");
    ctl_rules_unref(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_proxy_selection),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_legacy_text),
        cmocka_unit_test(test_names_with_nul_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
