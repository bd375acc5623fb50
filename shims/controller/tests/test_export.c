/*
 * Tests of the exports: derived names (subsets, object names, files) are
 * valid Kubernetes names and never shared by two valid inputs, the YAML and
 * JSON written parse under strict readers and say what was meant, names the
 * door refuses are refused here too, and the files land under the names the
 * docs give.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../fuzz/export_check.h"
#include "ctl_config.h"
#include "ctl_export.h"
#include "ctl_rules.h"

static void subset_of(const char *region, char *out)
{
    assert_int_equal(ctl_export_subset(region, out), 0);
    assert_true(exc_dns_label(out, strlen(out)));
}

static void test_subset_plain_region_is_itself(void **state)
{
    (void)state;
    char s[CTL_EXPORT_NAME_CAP];
    subset_of("us-west-1", s);
    assert_string_equal(s, "us-west-1");
    subset_of("a", s);
    assert_string_equal(s, "a");
}

static void test_subset_near_misses_differ(void **state)
{
    (void)state;
    /* each of these once gave "us-west" */
    const char *regions[] = {"us-west", "us.west", "us_west", "US-west", "US-WEST", "us--west"};
    char s[6][CTL_EXPORT_NAME_CAP];
    for (int i = 0; i < 6; i++)
        subset_of(regions[i], s[i]);
    assert_string_equal(s[0], "us-west");
    for (int i = 1; i < 6; i++) {
        /* the readable part, then "--" and 16 hex digits */
        const char *readable = i == 5 ? "us--west--" : "us-west--";
        assert_int_equal(strlen(s[i]), strlen(readable) + 16);
        assert_memory_equal(s[i], readable, strlen(readable));
        for (int k = 0; k < i; k++)
            assert_string_not_equal(s[i], s[k]);
    }
    /* a plain label can never take the hashed form's shape */
    char t[CTL_EXPORT_NAME_CAP];
    char looks_hashed[80];
    snprintf(looks_hashed, sizeof(looks_hashed), "%s", s[1]);
    assert_int_equal(ctl_export_subset(looks_hashed, t), 0);
    assert_string_not_equal(t, s[1]);
    /* the same region always gives the same subset */
    subset_of("us.west", t);
    assert_string_equal(t, s[1]);
}

static void test_subset_long_regions(void **state)
{
    (void)state;
    char a[64], b[64], sa[CTL_EXPORT_NAME_CAP], sb[CTL_EXPORT_NAME_CAP];
    /* 63 bytes that differ only after the readable part is cut */
    memset(a, 'x', 63);
    a[63] = '\0';
    a[10] = '.';
    memcpy(b, a, 64);
    b[60] = 'Y';
    subset_of(a, sa);
    subset_of(b, sb);
    assert_true(strlen(sa) <= 63 && strlen(sb) <= 63);
    assert_string_not_equal(sa, sb);
    assert_memory_equal(sa, "xxxxxxxxxx-xxx", 14); /* the readable part is kept */
    /* a 63-byte label is its own subset, uncut */
    memset(a, 'q', 63);
    subset_of(a, sa);
    assert_string_equal(sa, a);
}

static void test_refuses_names_the_door_refuses(void **state)
{
    (void)state;
    char s[CTL_EXPORT_NAME_CAP], f[CTL_EXPORT_FILE_CAP];
    const char *bad_regions[] = {
        "", "-us", "us-", "us west", "us\xc2\x85west", "us\xe2\x80\xa8", "\xc2\x81", "a/b"};
    for (size_t i = 0; i < sizeof(bad_regions) / sizeof(bad_regions[0]); i++) {
        assert_int_equal(ctl_export_subset(bad_regions[i], s), -1);
        assert_int_equal(ctl_export_envoy_file("a", bad_regions[i], f), -1);
    }
    const char *bad_services[] = {"", "BE4", "a.b", "a_b", "-a", "~overflow"};
    for (size_t i = 0; i < sizeof(bad_services) / sizeof(bad_services[0]); i++) {
        assert_int_equal(ctl_export_object_name(bad_services[i], s), -1);
        assert_int_equal(ctl_export_istio_file(bad_services[i], f), -1);
        assert_int_equal(ctl_export_envoy_file(bad_services[i], "c", f), -1);
    }
}

static void test_object_names(void **state)
{
    (void)state;
    char a[CTL_EXPORT_NAME_CAP], b[CTL_EXPORT_NAME_CAP];
    assert_int_equal(ctl_export_object_name("be4", a), 0);
    assert_string_equal(a, "be4.slate");
    /* service "a"'s object is not service "a-slate"'s, nor an object named after a service */
    assert_int_equal(ctl_export_object_name("a", a), 0);
    assert_int_equal(ctl_export_object_name("a-slate", b), 0);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, "a-slate");
    assert_string_not_equal(b, "a-slate");
    /* a 63-byte service: a valid subdomain, nothing cut */
    char svc[64];
    memset(svc, 'f', 63);
    svc[63] = '\0';
    assert_int_equal(ctl_export_object_name(svc, a), 0);
    assert_int_equal(strlen(a), 63 + strlen(".slate"));
    assert_true(exc_dns_subdomain(a));
    assert_memory_equal(a, svc, 63);
}

static void test_envoy_files(void **state)
{
    (void)state;
    char a[CTL_EXPORT_FILE_CAP], b[CTL_EXPORT_FILE_CAP];
    assert_int_equal(ctl_export_envoy_file("a", "b.c", a), 0);
    assert_string_equal(a, "a@b.c.json");
    assert_int_equal(ctl_export_envoy_file("ab", "c", b), 0);
    assert_string_not_equal(a, b);
    /* regions that differ in case only: distinct even where case is ignored */
    assert_int_equal(ctl_export_envoy_file("a", "Us", a), 0);
    assert_int_equal(ctl_export_envoy_file("a", "us", b), 0);
    assert_string_equal(a, "a@+us.json");
    assert_true(strcasecmp(a, b) != 0);
    assert_int_equal(ctl_export_istio_file("frontend", a), 0);
    assert_string_equal(a, "frontend.yaml");
}

/* ---- rendered files -------------------------------------------------------- */

typedef struct seen {
    char names[8][CTL_EXPORT_NAME_CAP];
    int n_names;
    char subsets[16][CTL_EXPORT_NAME_CAP];
    int n_subsets;
    char labels[16][128];
    int n_labels;
    char hosts[32][80];
    int n_hosts;
    char routeto[16][80];
    int n_routeto;
    char methods[8][64];
    int n_methods;
    char uris[8][128];
    int n_uris;
    int weight_sum;
    char label_path[EXC_MAX_PATH];
} seen_t;

static void on_yaml(void *ctx, const char *path, const char *v, bool plain_int)
{
    seen_t *s = ctx;
    if (strcmp(path, "metadata/name") == 0 && s->n_names < 8)
        snprintf(s->names[s->n_names++], CTL_EXPORT_NAME_CAP, "%s", v);
    else if (strcmp(path, "spec/subsets/name") == 0 && s->n_subsets < 16)
        snprintf(s->subsets[s->n_subsets++], CTL_EXPORT_NAME_CAP, "%s", v);
    else if (strcmp(path, s->label_path) == 0 && s->n_labels < 16)
        snprintf(s->labels[s->n_labels++], 128, "%s", v);
    else if (strstr(path, "host") && s->n_hosts < 32)
        snprintf(s->hosts[s->n_hosts++], 80, "%s", v);
    else if (strcmp(path, "spec/http/match/headers/x-slate-routeto/exact") == 0 &&
             s->n_routeto < 16)
        snprintf(s->routeto[s->n_routeto++], 80, "%s", v);
    else if (strcmp(path, "spec/http/match/method/exact") == 0 && s->n_methods < 8)
        snprintf(s->methods[s->n_methods++], 64, "%s", v);
    else if (strncmp(path, "spec/http/match/uri/", 20) == 0 && s->n_uris < 8)
        snprintf(s->uris[s->n_uris++], 128, "%s", v);
    else if (strcmp(path, "spec/http/route/weight") == 0 && plain_int)
        s->weight_sum += atoi(v);
}

static ctl_rules_t *near_miss_rules(void)
{
    ctl_rules_t *r = ctl_rules_new(9, 60000000000ull, 0, "test");
    const char *t[] = {"us.west", "us-west", "US-West"};
    uint32_t w[] = {500000, 300000, 200000};
    assert_int_equal(ctl_rules_add(r, "us-west", "be4", "GET", "/q\"\\/{id}", "", t, w, 3), 0);
    assert_int_equal(ctl_rules_add(r, "us.west", "be4", "x!#'`|~", "/a b", "fe", t, w, 3), 0);
    /* the overflow pseudo-names: never exported, never break the file */
    const char *o[] = {"~overflow", "us-west"};
    uint32_t wo[] = {1, 1};
    assert_int_equal(ctl_rules_add(r, "us-west", "be4", "PUT", "/o", "", o, wo, 2), 0);
    assert_int_equal(ctl_rules_add(r, "us-west", "~overflow", "GET", "/", "", t, w, 3), 0);
    return r;
}

static void test_istio_yaml_parses_and_says_what_was_meant(void **state)
{
    (void)state;
    ctl_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    /* a label key with NEL, U+2028 and U+0081, which YAML parsers fold or refuse raw */
    snprintf(cfg.region_label, sizeof(cfg.region_label), "r\xc2\x85\xe2\x80\xa8\xc2\x81\"\\");
    ctl_rules_t *r = near_miss_rules();
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_export_istio_yaml(&cfg, r, "be4", &b), 0);
    seen_t s;
    memset(&s, 0, sizeof(s));
    snprintf(s.label_path, sizeof(s.label_path), "spec/subsets/labels/%s", cfg.region_label);
    bool ok = exc_yaml_check(b.data, b.len, on_yaml, &s);
    if (!ok)
        fprintf(stderr, "%.*s", (int)b.len, b.data);
    assert_true(ok);
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] < 0x80); /* ASCII only */
    /* header delegate, weights delegate, DestinationRule */
    assert_int_equal(s.n_names, 3);
    assert_string_equal(s.names[0], "be4.slate");
    assert_string_equal(s.names[1], "be4.slate-weights");
    assert_string_equal(s.names[2], "be4.slate");
    /* three regions, three distinct subsets, each labelled with its own region */
    assert_int_equal(s.n_subsets, 3);
    assert_int_equal(s.n_labels, 3);
    const char *want[] = {"us.west", "us-west", "US-West"};
    for (int i = 0; i < 3; i++) {
        char sub[CTL_EXPORT_NAME_CAP];
        assert_int_equal(ctl_export_subset(want[i], sub), 0);
        assert_string_equal(s.labels[i], want[i]);
        assert_string_equal(s.subsets[i], sub);
        assert_string_equal(s.routeto[i], want[i]);
    }
    assert_string_not_equal(s.subsets[0], s.subsets[1]);
    for (int i = 0; i < s.n_hosts; i++)
        assert_string_equal(s.hosts[i], "be4");
    /* methods and paths survive quoting byte for byte */
    assert_int_equal(s.n_methods, 2);
    assert_string_equal(s.methods[1], "x!#'`|~");
    assert_int_equal(s.n_uris, 2);
    assert_string_equal(s.uris[0], "^/q\"\\\\/[^/]+$");
    assert_string_equal(s.uris[1], "/a b");
    /* two weighted routes of 100; the rule naming ~overflow is left out */
    assert_int_equal(s.weight_sum, 200);
    ctl_buf_free(&b);
    /* the overflow service has no object */
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_export_istio_yaml(&cfg, r, "~overflow", &b), -1);
    ctl_buf_free(&b);
    ctl_rules_unref(r);
}

static void test_yaml_quotes_words_and_numbers(void **state)
{
    (void)state;
    /* regions YAML would read as a boolean, a null or a number */
    ctl_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.region_label, sizeof(cfg.region_label), "topology.kubernetes.io/region");
    ctl_rules_t *r = ctl_rules_new(1, 60000000000ull, 0, "test");
    const char *t[] = {"true", "null", "123", "1e3", "y"};
    uint32_t w[] = {1, 1, 1, 1, 1};
    assert_int_equal(ctl_rules_add(r, "no", "off", "", "", "", t, w, 5), 0);
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_export_istio_yaml(&cfg, r, "off", &b), 0);
    seen_t s;
    memset(&s, 0, sizeof(s));
    snprintf(s.label_path, sizeof(s.label_path), "spec/subsets/labels/%s", cfg.region_label);
    assert_true(exc_yaml_check(b.data, b.len, on_yaml, &s));
    assert_int_equal(s.n_subsets, 5);
    assert_string_equal(s.subsets[0], "true");
    assert_string_equal(s.labels[2], "123");
    assert_int_equal(s.weight_sum, 100);
    ctl_buf_free(&b);
    ctl_rules_unref(r);
}

/* The checker itself refuses what a YAML parser would read differently. */
static void test_yaml_checker_is_strict(void **state)
{
    (void)state;
    seen_t s;
    memset(&s, 0, sizeof(s));
    const char *bad[] = {
        "a: true\n",                     /* a boolean where a string was meant */
        "a: 1e3\n",                      /* a float */
        "a: \"x\\t\"\n",                 /* an escape the exporter never writes */
        "a: \"\\ud800\"\n",              /* a surrogate */
        "a: \"\\u12\"\n",                /* a short escape */
        "a: \"\xc2\x85\"\n",             /* a raw NEL */
        "a:\n",                          /* a null */
        "a: \"x\"\na: \"y\"\n",          /* a duplicate key */
        "a:\n  b: \"x\"\n   c: \"y\"\n", /* stray indentation */
        "a: \"x\"",                      /* no final newline */
        "a: \"x\"\n---\n",               /* an empty document */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (exc_yaml_check(bad[i], strlen(bad[i]), on_yaml, &s))
            fail_msg("accepted: %s", bad[i]);
    }
    const char *good = "# c\na:\n- b: \"x\"\n  c: 5\nd: []\n---\ne: \"\\x85\"\n";
    assert_true(exc_yaml_check(good, strlen(good), on_yaml, &s));
    const char *bad_json[] = {"{\"a\":1,\"a\":2}", "{\"a\":\"\xc3\"}", "[1,]", "{\"a\":01}",
                              "\"\\ud800\""};
    for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++)
        assert_false(exc_json_check(bad_json[i], strlen(bad_json[i]), on_yaml, &s));
}

static void on_json(void *ctx, const char *path, const char *v, bool plain_int)
{
    seen_t *s = ctx;
    if (strcmp(path, "endpoints/locality/region") == 0 && s->n_labels < 16)
        snprintf(s->labels[s->n_labels++], 128, "%s", v);
    else if (strcmp(path, "endpoints/load_balancing_weight") == 0 && plain_int)
        s->weight_sum += atoi(v);
    else if (strcmp(path, "cluster_name") == 0 && s->n_hosts < 32)
        snprintf(s->hosts[s->n_hosts++], 80, "%s", v);
}

static void test_envoy_json(void **state)
{
    (void)state;
    ctl_rules_t *r = near_miss_rules();
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_export_envoy_json(r, "be4", "us-west", &b), 0);
    seen_t s;
    memset(&s, 0, sizeof(s));
    assert_true(exc_json_check(b.data, b.len, on_json, &s));
    assert_int_equal(s.n_hosts, 1);
    assert_string_equal(s.hosts[0], "be4");
    assert_int_equal(s.n_labels, 3);
    assert_string_equal(s.labels[0], "us.west");
    assert_string_equal(s.labels[2], "US-West");
    assert_int_equal(s.weight_sum, 1000);
    ctl_buf_free(&b);
    /* no rule from a region: nothing written */
    ctl_buf_init(&b, 0);
    assert_int_equal(ctl_export_envoy_json(r, "be4", "eu", &b), 1);
    assert_int_equal(b.len, 0);
    assert_int_equal(ctl_export_envoy_json(r, "be4", "~overflow", &b), -1);
    ctl_buf_free(&b);
    ctl_rules_unref(r);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_write_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/slate-export-XXXXXX";
    assert_non_null(mkdtemp(dir));
    ctl_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.region_label, sizeof(cfg.region_label), "topology.kubernetes.io/region");
    ctl_rules_t *r = near_miss_rules();
    assert_int_equal(ctl_export_write(&cfg, r, dir), 0);
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/istio/be4.yaml", dir);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof(p), "%s/envoy/be4@us-west.json", dir);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof(p), "%s/envoy/be4@us.west.json", dir);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof(p), "%s/rules.json", dir);
    assert_int_equal(stat(p, &st), 0);
    /* one service (the overflow one has none), two source regions */
    snprintf(p, sizeof(p), "%s/istio", dir);
    assert_int_equal(count_files(p), 1);
    snprintf(p, sizeof(p), "%s/envoy", dir);
    assert_int_equal(count_files(p), 2);
    /* what is on disk parses */
    snprintf(p, sizeof(p), "%s/istio/be4.yaml", dir);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    seen_t s;
    memset(&s, 0, sizeof(s));
    snprintf(s.label_path, sizeof(s.label_path), "spec/subsets/labels/%s", cfg.region_label);
    assert_true(exc_yaml_check(buf, n, on_yaml, &s));
    assert_int_equal(s.n_subsets, 3);
    ctl_rules_unref(r);
    /* clean up */
    const char *subs[] = {
        "istio/be4.yaml", "envoy/be4@us-west.json", "envoy/be4@us.west.json", "rules.json", "istio",
        "envoy"};
    for (size_t i = 0; i < 6; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, subs[i]);
        assert_int_equal(remove(p), 0);
    }
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subset_plain_region_is_itself),
        cmocka_unit_test(test_subset_near_misses_differ),
        cmocka_unit_test(test_subset_long_regions),
        cmocka_unit_test(test_refuses_names_the_door_refuses),
        cmocka_unit_test(test_object_names),
        cmocka_unit_test(test_envoy_files),
        cmocka_unit_test(test_istio_yaml_parses_and_says_what_was_meant),
        cmocka_unit_test(test_yaml_quotes_words_and_numbers),
        cmocka_unit_test(test_yaml_checker_is_strict),
        cmocka_unit_test(test_envoy_json),
        cmocka_unit_test(test_write_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
