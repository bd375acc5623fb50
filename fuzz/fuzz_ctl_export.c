/*
 * Fuzzes the controller's exports (shims/controller/publish/ctl_export.c) with names
 * that pass the door (slate_name_check), built from the input bytes:
 *
 *   - every derived name is valid: object names DNS-1123 subdomains, subsets
 *     DNS-1123 labels, file names single path components;
 *   - the derivations are injective over every pair of distinct inputs:
 *     object names and Istio files per service, subsets per region, Envoy
 *     files per (service, region), even compared without case;
 *   - the Istio YAML and Envoy JSON written for a rule set built from the
 *     names parse under strict readers (export_check.h), and what they say
 *     is what was meant: object names, hosts, subsets and their labels,
 *     header matches, locality regions and weights;
 *   - names that fail slate_name_check are refused, never escaped.
 *
 * Input: a mode byte (alphabet and label), then names as [length][bytes]:
 * services, then regions, then weights.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_export.h"
#include "ctl_rules.h"
#include "export_check.h"
#include "slate/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);                                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_SVC 4
#define MAX_REG 6

typedef struct input {
    const uint8_t *p;
    size_t n;
} input_t;

static uint8_t next(input_t *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

/*
 * A valid name of `kind` from the input. Small alphabets make near-misses
 * (us.west / us-west / US-West) likely; the full ones reach every byte.
 */
static void make_name(input_t *in, bool region, bool small, char out[64])
{
    static const char svc_full[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    static const char svc_small[] = "ab1-";
    static const char reg_full[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
    static const char reg_small[] = "aAb-._1";
    const char *alpha = region ? (small ? reg_small : reg_full) : (small ? svc_small : svc_full);
    size_t n_alpha = strlen(alpha);
    size_t len = 1 + next(in) % (small ? 8 : 63);
    for (size_t i = 0; i < len; i++)
        out[i] = alpha[next(in) % n_alpha];
    out[len] = '\0';
    /* first and last must be letters or digits */
    if (!((out[0] >= 'a' && out[0] <= 'z') || (out[0] >= 'A' && out[0] <= 'Z') ||
          (out[0] >= '0' && out[0] <= '9')))
        out[0] = 'a';
    char *l = &out[len - 1];
    if (!((*l >= 'a' && *l <= 'z') || (*l >= 'A' && *l <= 'Z') || (*l >= '0' && *l <= '9')))
        *l = '1';
    CHECK(slate_name_check(region ? SLATE_NAME_REGION : SLATE_NAME_SERVICE, out, len, NULL) ==
          SLATE_OK);
}

/* What the YAML of one service must say. */
typedef struct yaml_ctx {
    const char *svc, *object;
    char label[400]; /* 127 bytes, each at most 3 once read */
    const char (*regions)[64];
    const char (*subsets)[CTL_EXPORT_NAME_CAP];
    size_t n_regions;
    char last_subset[CTL_EXPORT_NAME_CAP]; /* the DestinationRule subset being read */
    size_t n_names, n_weights_names, n_subset_labels;
    char label_path[EXC_MAX_PATH];
} yaml_ctx_t;

static int region_index(const yaml_ctx_t *c, const char *region)
{
    for (size_t k = 0; k < c->n_regions; k++)
        if (strcmp(c->regions[k], region) == 0)
            return (int)k;
    return -1;
}

static bool is_subset(const yaml_ctx_t *c, const char *s)
{
    for (size_t k = 0; k < c->n_regions; k++)
        if (strcmp(c->subsets[k], s) == 0)
            return true;
    return false;
}

static void on_yaml(void *ctx, const char *path, const char *v, bool plain_int)
{
    yaml_ctx_t *c = ctx;
    if (strcmp(path, "metadata/name") == 0) {
        /* "<object>" (header delegate, DestinationRule) or "<object>-weights" */
        size_t on = strlen(c->object);
        bool weights = strncmp(v, c->object, on) == 0 && strcmp(v + on, "-weights") == 0;
        CHECK((strcmp(v, c->object) == 0 || weights) && exc_dns_subdomain(v));
        c->n_names++;
        c->n_weights_names += weights;
    } else if (strcmp(path, "spec/hosts") == 0 || strcmp(path, "spec/host") == 0 ||
               strcmp(path, "spec/http/route/destination/host") == 0) {
        CHECK(strcmp(v, c->svc) == 0);
    } else if (strcmp(path, "spec/http/route/destination/subset") == 0) {
        CHECK(is_subset(c, v) && exc_dns_label(v, strlen(v)));
    } else if (strcmp(path, "spec/http/match/headers/x-slate-routeto/exact") == 0) {
        CHECK(region_index(c, v) >= 0);
    } else if (strcmp(path, "spec/subsets/name") == 0) {
        CHECK(is_subset(c, v) && exc_dns_label(v, strlen(v)));
        snprintf(c->last_subset, sizeof(c->last_subset), "%s", v);
    } else if (strcmp(path, c->label_path) == 0) {
        /* the subset's label: the region it was derived from */
        int k = region_index(c, v);
        CHECK(k >= 0 && strcmp(c->subsets[k], c->last_subset) == 0);
        c->n_subset_labels++;
    } else if (strcmp(path, "spec/http/route/weight") == 0) {
        CHECK(plain_int && atoi(v) >= 1 && atoi(v) <= 100);
    } else if (strncmp(path, "spec/http/match/sourceLabels/", 29) == 0) {
        CHECK(strcmp(path + 29, c->label) == 0 && region_index(c, v) >= 0);
    }
}

typedef struct json_ctx {
    const char *svc;
    const char (*regions)[64];
    size_t n_regions;
    size_t n_localities;
} json_ctx_t;

static void on_json(void *ctx, const char *path, const char *v, bool plain_int)
{
    json_ctx_t *c = ctx;
    if (strcmp(path, "cluster_name") == 0) {
        CHECK(strcmp(v, c->svc) == 0);
    } else if (strcmp(path, "endpoints/locality/region") == 0) {
        bool found = false;
        for (size_t k = 0; k < c->n_regions && !found; k++)
            found = strcmp(c->regions[k], v) == 0;
        CHECK(found);
        c->n_localities++;
    } else if (strcmp(path, "endpoints/load_balancing_weight") == 0) {
        CHECK(plain_int && atoi(v) >= 1 && atoi(v) <= 1000);
    }
}

/* What a label key of any bytes reads as: UTF-8, each stray byte as U+FFFD. */
static void expected_text(const char *raw, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)raw;
    size_t o = 0;
    while (*p && o + 4 < cap) {
        size_t n = p[0] < 0x80             ? 1
                   : (p[0] & 0xe0) == 0xc0 ? 2
                   : (p[0] & 0xf0) == 0xe0 ? 3
                   : (p[0] & 0xf8) == 0xf0 ? 4
                                           : 0;
        uint32_t v = n == 1 ? p[0] : n ? (uint32_t)(p[0] & (0x7f >> n)) : 0;
        for (size_t k = 1; k < n && n; k++) {
            if ((p[k] & 0xc0) != 0x80)
                n = 0;
            else
                v = (v << 6) | (p[k] & 0x3fu);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (n == 0 || v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        } else {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
    }
    out[o] = '\0';
}

/* Raw bytes as a name: refused exactly when the door refuses them. */
static void check_refusal(input_t *in)
{
    char raw[80];
    size_t len = next(in) % 70;
    for (size_t i = 0; i < len; i++) {
        raw[i] = (char)next(in);
        if (raw[i] == 0)
            raw[i] = '.';
    }
    raw[len] = '\0';
    char out[CTL_EXPORT_NAME_CAP], file[CTL_EXPORT_FILE_CAP];
    bool svc_ok = slate_name_check(SLATE_NAME_SERVICE, raw, len, NULL) == SLATE_OK;
    bool reg_ok = slate_name_check(SLATE_NAME_REGION, raw, len, NULL) == SLATE_OK;
    CHECK((ctl_export_object_name(raw, out) == 0) == svc_ok);
    CHECK((ctl_export_istio_file(raw, file) == 0) == svc_ok);
    CHECK((ctl_export_subset(raw, out) == 0) == reg_ok);
    CHECK((ctl_export_envoy_file("a", raw, file) == 0) == reg_ok);
}

static bool file_component_ok(const char *f)
{
    size_t n = strlen(f);
    return n > 0 && n < 256 && strchr(f, '/') == NULL && strcmp(f, ".") != 0 &&
           strcmp(f, "..") != 0 && f[0] != '.' && f[0] != '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input_t in = {data, size};
    uint8_t mode = next(&in);
    bool small = mode & 1;
    size_t n_svc = 1 + (size_t)(mode >> 1) % MAX_SVC;
    size_t n_reg = 1 + (size_t)(mode >> 3) % MAX_REG;
    bool odd_label = mode & 0x80;

    char svcs[MAX_SVC][64], regions[MAX_REG][64];
    for (size_t i = 0; i < n_svc; i++)
        make_name(&in, false, small, svcs[i]);
    for (size_t i = 0; i < n_reg; i++)
        make_name(&in, true, small, regions[i]);

    /* distinct names only: duplicates say nothing about injectivity */
    size_t ns = 0, nr = 0;
    for (size_t i = 0; i < n_svc; i++) {
        bool dup = false;
        for (size_t k = 0; k < ns && !dup; k++)
            dup = strcmp(svcs[k], svcs[i]) == 0;
        if (!dup)
            memmove(svcs[ns++], svcs[i], 64);
    }
    for (size_t i = 0; i < n_reg; i++) {
        bool dup = false;
        for (size_t k = 0; k < nr && !dup; k++)
            dup = strcmp(regions[k], regions[i]) == 0;
        if (!dup)
            memmove(regions[nr++], regions[i], 64);
    }

    /* names: valid and pairwise distinct */
    char objects[MAX_SVC][CTL_EXPORT_NAME_CAP], ifiles[MAX_SVC][CTL_EXPORT_FILE_CAP];
    char subsets[MAX_REG][CTL_EXPORT_NAME_CAP];
    char efiles[MAX_SVC * MAX_REG][CTL_EXPORT_FILE_CAP];
    for (size_t i = 0; i < ns; i++) {
        CHECK(ctl_export_object_name(svcs[i], objects[i]) == 0);
        CHECK(exc_dns_subdomain(objects[i]));
        /* never a name a Service (a DNS label) or an object named after one has */
        CHECK(slate_name_check(SLATE_NAME_SERVICE, objects[i], strlen(objects[i]), NULL) !=
              SLATE_OK);
        CHECK(ctl_export_istio_file(svcs[i], ifiles[i]) == 0 && file_component_ok(ifiles[i]));
        for (size_t k = 0; k < i; k++) {
            CHECK(strcmp(objects[k], objects[i]) != 0);
            CHECK(strcasecmp(ifiles[k], ifiles[i]) != 0);
        }
    }
    for (size_t i = 0; i < nr; i++) {
        CHECK(ctl_export_subset(regions[i], subsets[i]) == 0);
        CHECK(exc_dns_label(subsets[i], strlen(subsets[i])));
        for (size_t k = 0; k < i; k++)
            CHECK(strcmp(subsets[k], subsets[i]) != 0);
    }
    for (size_t i = 0; i < ns; i++) {
        for (size_t j = 0; j < nr; j++) {
            size_t at = i * nr + j;
            CHECK(ctl_export_envoy_file(svcs[i], regions[j], efiles[at]) == 0);
            CHECK(file_component_ok(efiles[at]));
            for (size_t k = 0; k < at; k++)
                CHECK(strcasecmp(efiles[k], efiles[at]) != 0);
        }
    }

    /* a rule set over the names: per (service, source region), weights from the input */
    ctl_rules_t *r = ctl_rules_new(1 + next(&in), 60000000000ull, 0, "fuzz");
    CHECK(r != NULL);
    static const char *const methods[] = {"GET", "*", "", "M-SEARCH", "x!#$%&'*+.^_`|~"};
    static const char *const paths[] = {"/",          "/a/{id}",         "",
                                        "/q\"\\x\"?", "/p/{id}/{trunc}", "/(a)[b]{c}.$^*+|"};
    for (size_t i = 0; i < ns; i++) {
        for (size_t j = 0; j < nr; j++) {
            const char *tr[MAX_REG];
            uint32_t w[MAX_REG];
            for (size_t k = 0; k < nr; k++) {
                tr[k] = regions[k];
                w[k] = next(&in);
            }
            uint8_t e = next(&in);
            CHECK(ctl_rules_add(r, regions[j], svcs[i], methods[e % 5], paths[(e >> 3) % 6], "", tr,
                                w, (uint32_t)nr) == 0);
        }
    }
    ctl_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (odd_label) {
        /* the label key comes from the configuration: any bytes but NUL */
        size_t len = next(&in) % (sizeof(cfg.region_label) - 1);
        for (size_t i = 0; i < len; i++) {
            uint8_t c = next(&in);
            cfg.region_label[i] = (char)(c ? c : 0x85);
        }
        cfg.region_label[len] = '\0';
    } else {
        snprintf(cfg.region_label, sizeof(cfg.region_label), "topology.kubernetes.io/region");
    }

    for (size_t i = 0; i < ns; i++) {
        ctl_buf_t b;
        ctl_buf_init(&b, 0);
        CHECK(ctl_export_istio_yaml(&cfg, r, svcs[i], &b) == 0);
        yaml_ctx_t c = {.svc = svcs[i],
                        .object = objects[i],
                        .regions = (const char(*)[64])regions,
                        .subsets = (const char(*)[CTL_EXPORT_NAME_CAP])subsets,
                        .n_regions = nr};
        expected_text(cfg.region_label, c.label, sizeof(c.label));
        snprintf(c.label_path, sizeof(c.label_path), "spec/subsets/labels/%s", c.label);
        bool ok = exc_yaml_check(b.data, b.len, on_yaml, &c);
        if (!ok)
            fprintf(stderr, "%.*s", (int)b.len, b.data);
        CHECK(ok);
        /* the header delegate, the DestinationRule, and the weights delegate when it has routes */
        CHECK(c.n_weights_names <= 1 && c.n_names == 2 + c.n_weights_names);
        CHECK(c.n_subset_labels == nr); /* one labelled subset per region */
        ctl_buf_free(&b);
        for (size_t j = 0; j < nr; j++) {
            ctl_buf_init(&b, 0);
            int rc = ctl_export_envoy_json(r, svcs[i], regions[j], &b);
            CHECK(rc == 0 || rc == 1);
            if (rc == 0) {
                json_ctx_t jc = {
                    .svc = svcs[i], .regions = (const char(*)[64])regions, .n_regions = nr};
                CHECK(exc_json_check(b.data, b.len, on_json, &jc));
                CHECK(jc.n_localities >= 1);
            } else {
                CHECK(b.len == 0);
            }
            ctl_buf_free(&b);
        }
    }
    ctl_rules_unref(r);

    check_refusal(&in);
    return 0;
}
