/*
 * Compiled routing rules (ruleset.h): building, validating untrusted
 * rulesets, lookup and route precedence, and compiling a RoutingRules
 * message for one proxy.
 *
 * With SLATE_WASM_CORPUS_OUT=<dir> set, it also writes the fuzz seeds of
 * fuzz_ruleset into <dir>/fuzz_ruleset/, from the real encodings it builds.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed_out.h"
#include "slate/key.h"
#include "slate/ruleset.h"
#include "slate/sampler.h"

/* ------------------------------------------------------------------------- */
/* Building, validating, finding */

static uint64_t key3(const char *s, const char *m, const char *p)
{
    uint64_t k = 0;
    assert_int_equal(slate_endpoint_key(s, strlen(s), m, strlen(m), p, strlen(p), &k, NULL),
                     SLATE_OK);
    return k;
}

static size_t build_rules(uint8_t *buf, size_t cap)
{
    const char *regions[] = {"us-west-1", "us-east-1", "eu-west-1"};
    struct rule_in {
        uint64_t key;
        int kind;
        uint16_t ids[3];
        uint32_t w[3];
        size_t n;
    } r[] = {
        {key3("cart", "GET", "/cart"), SLATE_RULE_EXACT, {0, 1, 2}, {50, 30, 20}, 3},
        {key3("cart", "", ""), SLATE_RULE_ANY, {1}, {1}, 1},
        {key3("cart", "POST", ""), SLATE_RULE_ANY_PATH, {2, 0}, {1, 3}, 2},
        {key3("ads", "", "/ad"), SLATE_RULE_ANY_METHOD, {0, 2}, {0, 5}, 2},
    };
    size_t n = sizeof r / sizeof r[0];
    /* Sort by key, as the reporter does. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && r[j].key < r[j - 1].key; j--) {
            struct rule_in t = r[j];
            r[j] = r[j - 1];
            r[j - 1] = t;
        }
    slate_ruleset_builder_t b;
    assert_int_equal(slate_ruleset_begin(&b, buf, cap, regions, 3, 0, 8, 42, 1000, 5000), SLATE_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(slate_ruleset_add(&b, r[i].key, r[i].kind, r[i].ids, r[i].w, r[i].n),
                         SLATE_OK);
    /* Out of order and duplicate keys are refused without changing the blob. */
    assert_int_equal(slate_ruleset_add(&b, r[0].key, SLATE_RULE_EXACT, r[0].ids, r[0].w, 1),
                     r[0].key == r[n - 1].key ? SLATE_EDUPLICATE : SLATE_EINVAL);
    assert_int_equal(slate_ruleset_add(&b, r[n - 1].key, SLATE_RULE_EXACT, r[0].ids, r[0].w, 1),
                     SLATE_EDUPLICATE);
    size_t len = 0;
    assert_int_equal(slate_ruleset_finish(&b, &len), SLATE_OK);
    return len;
}

static void test_rules_build_find_draw(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    size_t len = build_rules(buf, sizeof buf);
    write_seed("fuzz_ruleset", "four_rules.bin", buf, len);
    assert_int_equal(len, slate_ruleset_size(3, 4, 3 + 1 + 2 + 2));
    assert_int_equal(slate_ruleset_validate(buf, len), SLATE_OK);
    slate_ruleset_info_t info;
    slate_ruleset_info(buf, &info);
    assert_int_equal(info.version, 42);
    assert_int_equal(info.expiry_ns, 5000);
    assert_int_equal(info.n_rules, 4);
    assert_int_equal(info.n_regions, 3);
    assert_int_equal(info.flags, 0xf);
    assert_string_equal(slate_ruleset_region_name(buf, 2), "eu-west-1");
    assert_null(slate_ruleset_region_name(buf, 3));
    const void *t = slate_ruleset_find(buf, key3("cart", "GET", "/cart"));
    assert_non_null(t);
    assert_true(fabs(slate_sampler_probability(t, 0) - 0.5) < 1e-6);
    assert_true(fabs(slate_sampler_probability(t, 2) - 0.2) < 1e-6);
    t = slate_ruleset_find(buf, key3("ads", "", "/ad"));
    assert_non_null(t);
    assert_true(slate_sampler_probability(t, 0) == 0.0);
    assert_null(slate_ruleset_find(buf, key3("cart", "GET", "/other")));
    /* Draws hit the weights. */
    slate_rng_t rng;
    slate_rng_seed(&rng, 1);
    unsigned counts[3] = {0};
    t = slate_ruleset_find(buf, key3("cart", "GET", "/cart"));
    for (int i = 0; i < 100000; i++)
        counts[slate_sampler_draw(t, slate_rng_next(&rng))]++;
    double x2 = 0, w[3] = {0.5, 0.3, 0.2};
    for (int i = 0; i < 3; i++)
        x2 += pow(counts[i] - 1e5 * w[i], 2) / (1e5 * w[i]);
    assert_true(x2 < 13.816);

    /* An empty rule set is valid too. */
    slate_ruleset_builder_t b;
    const char *regions[] = {"us-west-1"};
    assert_int_equal(slate_ruleset_begin(&b, buf, sizeof buf, regions, 1, 0, 0, 1, 0, 0), SLATE_OK);
    assert_int_equal(slate_ruleset_finish(&b, &len), SLATE_OK);
    assert_int_equal(slate_ruleset_validate(buf, len), SLATE_OK);
    write_seed("fuzz_ruleset", "empty.bin", buf, len);
    assert_null(slate_ruleset_find(buf, 123));
}

static void test_rules_builder_errors(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    slate_ruleset_builder_t b;
    const char *dup[] = {"a", "a"};
    assert_int_equal(slate_ruleset_begin(&b, buf, sizeof buf, dup, 2, 0, 1, 1, 0, 0),
                     SLATE_EDUPLICATE);
    const char *sp[] = {"a b"};
    assert_int_equal(slate_ruleset_begin(&b, buf, sizeof buf, sp, 1, 0, 1, 1, 0, 0), SLATE_EINVAL);
    const char *ok[] = {"a", "b"};
    assert_int_equal(slate_ruleset_begin(&b, buf, 10, ok, 2, 0, 1, 1, 0, 0), SLATE_ENOSPC);
    assert_int_equal(slate_ruleset_begin(&b, buf, sizeof buf, ok, 2, 5, 1, 1, 0, 0), SLATE_ERANGE);
    assert_int_equal(slate_ruleset_begin(&b, buf, sizeof buf, ok, 2, 0, 1, 1, 0, 0), SLATE_OK);
    uint16_t ids[2] = {0, 1};
    uint32_t zero[2] = {0, 0}, w[2] = {1, 1};
    assert_int_equal(slate_ruleset_add(&b, 5, SLATE_RULE_EXACT, ids, zero, 2), SLATE_EWEIGHT_ZERO);
    uint16_t twice[2] = {1, 1};
    assert_int_equal(slate_ruleset_add(&b, 5, SLATE_RULE_EXACT, twice, w, 2), SLATE_EDUPLICATE);
    uint16_t unknown[1] = {2};
    assert_int_equal(slate_ruleset_add(&b, 5, SLATE_RULE_EXACT, unknown, w, 1), SLATE_ERANGE);
    assert_int_equal(slate_ruleset_add(&b, 5, SLATE_RULE_EXACT, ids, w, 2), SLATE_OK);
    assert_int_equal(slate_ruleset_add(&b, 6, SLATE_RULE_EXACT, ids, w, 2), SLATE_ETOOMANY);
}

static void test_rules_rejects(void **state)
{
    (void)state;
    static uint8_t buf[8192], bad[8192];
    size_t len = build_rules(buf, sizeof buf);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *exact = malloc(cut ? cut : 1);
        memcpy(exact, buf, cut);
        assert_int_not_equal(slate_ruleset_validate(exact, cut), SLATE_OK);
        free(exact);
    }
    memcpy(bad, buf, len);
    bad[0] ^= 1;
    assert_int_equal(slate_ruleset_validate(bad, len), SLATE_EBADMAGIC);
    assert_true(len > 0 && len <= sizeof bad);
    memcpy(bad, buf, len);
    bad[len > 0 ? len - 1 : 0] ^= 1;
    assert_int_equal(slate_ruleset_validate(bad, len), SLATE_ECORRUPT);
    /* Every bit flip is rejected (the checksum covers everything after the
     * header, the header fields are checked one by one) or, for a flip in
     * the version, times or the checksum's own seed bytes, still valid. */
    for (size_t i = 0; i < len; i++) {
        for (int b = 0; b < 8; b++) {
            memcpy(bad, buf, len);
            bad[i] ^= (uint8_t)(1u << b);
            slate_status e = slate_ruleset_validate(bad, len);
            if (i >= SLATE_RULESET_HEADER)
                assert_int_not_equal(e, SLATE_OK);
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Compiling a RoutingRules message */

typedef struct msg {
    slate_routing_rules_t rr;
    slate_rule_t rules[16];
    slate_route_target_t targets[64];
} msg_t;

static slate_rule_t *add_rule(msg_t *m, const char *src_region, const char *src_service,
                              const char *dst, const char *method, const char *path,
                              const char *src_method, const char *const *regions,
                              const uint32_t *weights, size_t n)
{
    slate_rule_t *ru = &m->rules[m->rr.n_rules++];
    memset(ru, 0, sizeof *ru);
    ru->src_region = slate_str(src_region);
    ru->src_service = slate_str(src_service);
    ru->dst_service = slate_str(dst);
    ru->method = slate_str(method);
    ru->path = slate_str(path);
    ru->src_method = slate_str(src_method);
    ru->targets = &m->targets[m->rr.n_targets];
    ru->n_targets = n;
    for (size_t i = 0; i < n; i++) {
        slate_route_target_t *t = &m->targets[m->rr.n_targets++];
        memset(t, 0, sizeof *t);
        t->region = slate_str(regions[i]);
        t->weight = weights[i];
    }
    return ru;
}

static void msg_init(msg_t *m)
{
    memset(m, 0, sizeof *m);
    m->rr.rules = m->rules;
    m->rr.cap_rules = 16;
    m->rr.targets = m->targets;
    m->rr.cap_targets = 64;
    m->rr.version = 7;
    m->rr.generated_ns = 1000;
    m->rr.ttl_ns = 500;
}

static double rate_by_method(void *ctx, slate_str_t method, slate_str_t path)
{
    (void)ctx;
    (void)path;
    return method.len == 3 && memcmp(method.ptr, "GET", 3) == 0 ? 30.0 : 10.0;
}

static slate_ruleset_compile_params_t params(void)
{
    slate_ruleset_compile_params_t p = {.service = "fe",
                                        .region = "west",
                                        .max_regions = 4,
                                        .max_rules = 8,
                                        .max_name = 63,
                                        .max_method = 32,
                                        .max_path = 256,
                                        .caller_rate = rate_by_method};
    return p;
}

/* Compiles m into out (two-phase); returns the status of the second call. */
static slate_status compile(const msg_t *m, const slate_ruleset_compile_params_t *p, uint8_t *out,
                            size_t cap, size_t *len, const char **why)
{
    static uint64_t scratch[2048];
    size_t need = slate_ruleset_compile_scratch(m->rr.n_rules, p->max_regions);
    assert_true(need <= sizeof scratch);
    slate_status st = slate_ruleset_compile(&m->rr, p, scratch, need, NULL, 0, len, why);
    if (st != SLATE_ENOSPC)
        return st;
    assert_true(*len <= cap);
    return slate_ruleset_compile(&m->rr, p, scratch, need, out, cap, len, why);
}

/* Share of draws of region `name` over 10,000 evenly spread random values. */
static double share_of(const uint8_t *blob, const char *svc, const char *method, const char *path,
                       const char *name)
{
    unsigned hits = 0;
    for (uint64_t i = 0; i < 10000; i++) {
        uint16_t id = slate_ruleset_route(blob, svc, strlen(svc), method, strlen(method), path,
                                          strlen(path), NULL, i * 0x9e3779b97f4a7c15ull);
        const char *n = id == SLATE_RULESET_NO_REGION ? NULL : slate_ruleset_region_name(blob, id);
        hits += n && strcmp(n, name) == 0;
    }
    return hits / 10000.0;
}

static void test_compile_keeps_this_proxys_rules(void **state)
{
    (void)state;
    msg_t m;
    msg_init(&m);
    const char *we[] = {"west", "east"};
    const char *ea[] = {"east"};
    uint32_t w31[] = {3, 1}, w1[] = {1};
    add_rule(&m, "west", "", "be", "GET", "/items/{id}", "", we, w31, 2);
    add_rule(&m, "east", "", "be", "GET", "/items/{id}", "", ea, w1, 1); /* other region */
    add_rule(&m, "west", "other", "db", "", "", "", ea, w1, 1);          /* other caller */
    add_rule(&m, "west", "fe", "cache", "", "", "", ea, w1, 1);          /* any method and path */
    slate_ruleset_compile_params_t p = params();
    static uint8_t out[8192];
    size_t len = 0;
    const char *why = NULL;
    /* the message as the controller sends it: a seed for the compiler half of fuzz_ruleset */
    assert_int_equal(slate_routing_rules_encode(&m.rr, out, sizeof out, &len, NULL), SLATE_OK);
    write_seed("fuzz_ruleset", "message.bin", out, len);
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, &why), SLATE_OK);
    assert_int_equal(slate_ruleset_validate(out, len), SLATE_OK);
    write_seed("fuzz_ruleset", "compiled.bin", out, len);
    slate_ruleset_info_t info;
    slate_ruleset_info(out, &info);
    assert_int_equal(info.n_rules, 2);
    assert_int_equal(info.version, 7);
    /* entries in key order, each its key's table */
    uint64_t k0 = 0, k1 = 0;
    int kind = -1;
    assert_non_null(slate_ruleset_entry(out, 0, &k0, &kind));
    const void *t1 = slate_ruleset_entry(out, 1, &k1, NULL);
    assert_ptr_equal(t1, slate_ruleset_find(out, k1));
    assert_true(k0 < k1 && kind >= SLATE_RULE_EXACT && kind <= SLATE_RULE_ANY);
    assert_null(slate_ruleset_entry(out, 2, &k0, NULL));
    assert_int_equal(info.expiry_ns, 1500);
    assert_string_equal(slate_ruleset_region_name(out, 0), "west"); /* id 0: the proxy's */
    double west = share_of(out, "be", "GET", "/items/{id}", "west");
    assert_true(fabs(west - 0.75) < 0.02);
    assert_true(share_of(out, "cache", "POST", "/x", "east") == 1.0); /* wildcard rule */
    assert_true(share_of(out, "db", "GET", "/", "east") == 0.0);      /* not ours */
    assert_int_equal(slate_ruleset_route(out, "be", 2, "PUT", 3, "/items/{id}", 11, NULL, 1),
                     SLATE_RULESET_NO_REGION); /* no rule for PUT */
}

static void test_route_prefers_the_most_specific_rule(void **state)
{
    (void)state;
    msg_t m;
    msg_init(&m);
    const char *ea[] = {"east"}, *no[] = {"north"}, *so[] = {"south"};
    uint32_t w1[] = {1};
    add_rule(&m, "west", "", "be", "", "", "", ea, w1, 1);      /* any */
    add_rule(&m, "west", "", "be", "GET", "", "", no, w1, 1);   /* any path */
    add_rule(&m, "west", "", "be", "GET", "/a", "", so, w1, 1); /* exact */
    slate_ruleset_compile_params_t p = params();
    static uint8_t out[8192];
    size_t len = 0;
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, NULL), SLATE_OK);
    assert_true(share_of(out, "be", "GET", "/a", "south") == 1.0);
    assert_true(share_of(out, "be", "GET", "/b", "north") == 1.0);
    assert_true(share_of(out, "be", "POST", "/a", "east") == 1.0);
    uint64_t exact = 0;
    assert_int_equal(slate_endpoint_key("be", 2, "GET", 3, "/a", 2, &exact, NULL), SLATE_OK);
    uint16_t id = slate_ruleset_route(out, "be", 2, "GET", 3, "/a", 2, &exact, 5);
    assert_string_equal(slate_ruleset_region_name(out, id), "south");
    /* match hands back the table route draws from; no rule, no table */
    const void *t = slate_ruleset_match(out, "be", 2, "POST", 4, "/x", 2, NULL);
    assert_non_null(t);
    assert_string_equal(slate_ruleset_region_name(out, slate_sampler_draw(t, 9)), "east");
    assert_null(slate_ruleset_match(out, "db", 2, "GET", 3, "/a", 2, NULL));
    assert_int_equal(slate_ruleset_route(out, "db", 2, "GET", 3, "/a", 2, NULL, 5),
                     SLATE_RULESET_NO_REGION);
}

static void test_compile_mixes_callers_by_rate(void **state)
{
    (void)state;
    msg_t m;
    msg_init(&m);
    const char *we[] = {"west"}, *ea[] = {"east"};
    uint32_t w1[] = {1};
    /* GET callers (30 rps) send to west, POST callers (10 rps) to east */
    add_rule(&m, "west", "", "be", "GET", "/a", "GET", we, w1, 1);
    add_rule(&m, "west", "", "be", "GET", "/a", "POST", ea, w1, 1);
    slate_ruleset_compile_params_t p = params();
    static uint8_t out[8192];
    size_t len = 0;
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, NULL), SLATE_OK);
    assert_true(fabs(share_of(out, "be", "GET", "/a", "west") - 0.75) < 0.02);
    /* a caller-agnostic rule for the same destination wins over both */
    add_rule(&m, "west", "", "be", "GET", "/a", "", ea, w1, 1);
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, NULL), SLATE_OK);
    assert_true(share_of(out, "be", "GET", "/a", "east") == 1.0);
}

static void test_compile_rejects_with_a_reason(void **state)
{
    (void)state;
    slate_ruleset_compile_params_t p = params();
    static uint8_t out[8192];
    size_t len = 0;
    const char *why = NULL;
    const char *we[] = {"west", "east"}, *twice[] = {"east", "east"}, *bad[] = {"ea st"};
    const char *many[] = {"a", "b", "c", "d", "e"};
    uint32_t w2[] = {1, 1}, w1[] = {1}, w5[] = {1, 1, 1, 1, 1};
    struct {
        const char *dst, *method;
        const char *const *regions;
        const uint32_t *w;
        size_t n;
        slate_status want;
    } cases[] = {
        {"", "GET", we, w2, 2, SLATE_EVALUE},          /* no destination */
        {"be", "GET", we, w2, 0, SLATE_EVALUE},        /* no targets */
        {"be", "GET", twice, w2, 2, SLATE_EDUPLICATE}, /* a region twice */
        {"be", "GET", bad, w1, 1, SLATE_EVALUE},       /* not a region name */
        {"be", "GET", many, w5, 5, SLATE_EVALUE},      /* more targets than max_regions */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg_t m;
        msg_init(&m);
        add_rule(&m, "west", "", cases[i].dst, cases[i].method, "/a", "", cases[i].regions,
                 cases[i].w, cases[i].n);
        why = NULL;
        assert_int_equal(compile(&m, &p, out, sizeof out, &len, &why), cases[i].want);
        assert_non_null(why);
    }
    /* two caller-agnostic rules for one destination */
    msg_t m;
    msg_init(&m);
    add_rule(&m, "west", "", "be", "GET", "/a", "", we, w2, 2);
    add_rule(&m, "west", "", "be", "GET", "/a", "", we, w2, 2);
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, &why), SLATE_EVALUE);
    /* more rules than max_rules, more regions than max_regions */
    msg_init(&m);
    p.max_rules = 1;
    add_rule(&m, "west", "", "be", "GET", "/a", "", we, w2, 2);
    add_rule(&m, "west", "", "be", "GET", "/b", "", we, w2, 2);
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, &why), SLATE_ETOOMANY);
    p = params();
    msg_init(&m);
    add_rule(&m, "west", "", "be", "GET", "/a", "", many, w5, 4);
    add_rule(&m, "west", "", "be", "GET", "/b", "", many + 4, w1, 1);
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, &why), SLATE_ETOOMANY);
    /* scratch too small, NULL arguments */
    uint64_t tiny[1];
    assert_int_equal(
        slate_ruleset_compile(&m.rr, &p, tiny, sizeof tiny, out, sizeof out, &len, &why),
        SLATE_EINVAL);
    assert_int_equal(
        slate_ruleset_compile(NULL, &p, tiny, sizeof tiny, out, sizeof out, &len, &why),
        SLATE_EINVAL);
    /* an all-zero rule draws nothing: the destination routes locally */
    msg_init(&m);
    uint32_t zero[] = {0, 0};
    add_rule(&m, "west", "", "be", "GET", "/a", "", we, zero, 2);
    assert_int_equal(compile(&m, &p, out, sizeof out, &len, &why), SLATE_OK);
    assert_int_equal(slate_ruleset_route(out, "be", 2, "GET", 3, "/a", 2, NULL, 9),
                     SLATE_RULESET_NO_REGION);
}

/* Time to live: the earlier of the proxy's bound and the message's deadline;
 * never 0; live strictly before the expiry; a same version only renews. */
static void test_rules_time_to_live(void **state)
{
    (void)state;
    const uint64_t S = 1000000000ull;
    /* local bound only */
    assert_true(slate_rules_expiry(0, 0, 100 * S, 30 * S) == 130 * S);
    /* the message's ttl from now when it does not say when it was generated */
    assert_true(slate_rules_expiry(0, 10 * S, 100 * S, 30 * S) == 110 * S);
    /* generated + ttl when it does, and the local bound when that is earlier */
    assert_true(slate_rules_expiry(95 * S, 10 * S, 100 * S, 30 * S) == 105 * S);
    assert_true(slate_rules_expiry(95 * S, 60 * S, 100 * S, 30 * S) == 130 * S);
    /* already past its deadline: now, which is expired */
    uint64_t e = slate_rules_expiry(10 * S, 5 * S, 100 * S, 30 * S);
    assert_true(e == 100 * S);
    assert_int_equal(slate_rules_state_at(e, 100 * S), SLATE_RULES_EXPIRED);
    /* no bound at all: never expires; sums saturate; never 0 */
    assert_true(slate_rules_expiry(0, 0, 5, 0) == UINT64_MAX);
    assert_true(slate_rules_expiry(0, 0, UINT64_MAX - 1, 30 * S) == UINT64_MAX);
    assert_true(slate_rules_expiry(0, 0, 0, 0) != 0);
    assert_true(slate_rules_expiry(0, 1, 0, 0) == 1);
    /* states */
    assert_int_equal(slate_rules_state_at(0, 5), SLATE_RULES_NONE);
    assert_int_equal(slate_rules_state_at(10, 9), SLATE_RULES_LIVE);
    assert_int_equal(slate_rules_state_at(10, 10), SLATE_RULES_EXPIRED);
    /* renewal: only with rules held and the same version (a lower one replaces) */
    assert_true(slate_rules_renews(1, 7, 7));
    assert_false(slate_rules_renews(0, 7, 7));
    assert_false(slate_rules_renews(1, 7, 6));
    assert_false(slate_rules_renews(1, 7, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_build_find_draw),
        cmocka_unit_test(test_rules_builder_errors),
        cmocka_unit_test(test_rules_rejects),
        cmocka_unit_test(test_compile_keeps_this_proxys_rules),
        cmocka_unit_test(test_route_prefers_the_most_specific_rule),
        cmocka_unit_test(test_compile_mixes_callers_by_rate),
        cmocka_unit_test(test_compile_rejects_with_a_reason),
        cmocka_unit_test(test_rules_time_to_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
