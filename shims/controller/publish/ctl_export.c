/*
 * slate-controller: exports of the rules for meshes that do not run the
 * slate data plane, written to --export-dir after each debounced push:
 *
 *   istio/<service>.yaml   a VirtualService and a DestinationRule (both named
 *                          "<service>.slate") per
 *                          destination service: routes matching the
 *                          x-slate-routeto header to per-region subsets, then
 *                          per source region (sourceLabels) and endpoint
 *                          weighted routes, then a default route;
 *   envoy/<service>@<region>.json
 *                          an Envoy ClusterLoadAssignment (v3 JSON) with
 *                          locality weights for calls to <service> from
 *                          <region>, for meshes that route by locality; the
 *                          lb_endpoints are left to the mesh's control plane;
 *   rules.json             the rules in force (as GET /v1/rules shows them).
 *
 * How names become object, subset and file names: ctl_export.h.
 * Every file is written atomically (temporary file, fsync, rename, fsync of
 * the directory). Pushes are debounced: one waits for 1 s without changes,
 * at most 10 s after the first pending change, or until 1,000 changes are
 * pending (all settable).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ctl_export.h"
#include "ctl_json.h"
#include "ctl_persist.h"
#include "ctl_regions.h"
#include "slate/name.h"

#define SLOTS CTL_MAX_REGION_SLOTS

static bool valid(slate_name_kind kind, const char *s)
{
    return s && slate_name_check(kind, s, strlen(s), NULL) == SLATE_OK;
}

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int ctl_export_subset(const char *region, char out[CTL_EXPORT_NAME_CAP])
{
    if (!valid(SLATE_NAME_REGION, region))
        return -1;
    size_t n = strlen(region);
    /* A region that is already a label without "--" is its own subset. */
    bool same = true;
    for (size_t i = 0; i < n && same; i++)
        same = lower_alnum(region[i]) ||
               (region[i] == '-' && i > 0 && i + 1 < n && region[i + 1] != '-');
    if (same) {
        memcpy(out, region, n + 1);
        return 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o < CTL_EXPORT_SUBSET_KEEP; i++) {
        char c = region[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (!lower_alnum(c))
            c = '-';
        out[o++] = c;
    }
    while (o > 0 && out[o - 1] == '-')
        o--; /* never empty: a region starts with a letter or digit */
    snprintf(out + o, CTL_EXPORT_NAME_CAP - o, "--%016" PRIx64, (uint64_t)XXH64(region, n, 0));
    return 0;
}

int ctl_export_object_name(const char *service, char out[CTL_EXPORT_NAME_CAP])
{
    if (!valid(SLATE_NAME_SERVICE, service))
        return -1;
    snprintf(out, CTL_EXPORT_NAME_CAP, "%s.slate", service);
    return 0;
}

int ctl_export_istio_file(const char *service, char out[CTL_EXPORT_FILE_CAP])
{
    if (!valid(SLATE_NAME_SERVICE, service))
        return -1;
    snprintf(out, CTL_EXPORT_FILE_CAP, "%s.yaml", service);
    return 0;
}

int ctl_export_envoy_file(const char *service, const char *region, char out[CTL_EXPORT_FILE_CAP])
{
    if (!valid(SLATE_NAME_SERVICE, service) || !valid(SLATE_NAME_REGION, region))
        return -1;
    /* at most 63 + 1 + 2 * 63 + 5 + 1 bytes */
    size_t o = (size_t)snprintf(out, CTL_EXPORT_FILE_CAP, "%s@", service);
    for (const char *p = region; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            out[o++] = '+';
            out[o++] = (char)(*p - 'A' + 'a');
        } else {
            out[o++] = *p;
        }
    }
    memcpy(out + o, ".json", 6);
    return 0;
}

/* The code point of the valid UTF-8 sequence at s and its length (1..4), or 0. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xe0) == 0xc0 ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0)
        return 0;
    uint32_t v = n == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> n));
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        v = (v << 6) | (s[k] & 0x3fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/*
 * A YAML double-quoted scalar, all ASCII: '"' and '\' escaped, control
 * characters as \xHH, other characters outside printable ASCII as \uXXXX or
 * \UXXXXXXXX of their code point (so no parser folds NEL or U+2028), and a
 * byte that is not UTF-8 as \uFFFD.
 */
static void yq(ctl_buf_t *b, const char *s)
{
    ctl_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        uint32_t cp = 0xfffd;
        size_t n = utf8_decode(p, &cp);
        if (c == '"' || c == '\\') {
            ctl_buf_putc(b, '\\');
            ctl_buf_putc(b, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            ctl_buf_printf(b, "\\x%02x", c);
        } else if (c < 0x80) {
            ctl_buf_putc(b, (char)c);
        } else if (cp <= 0xffff) {
            ctl_buf_printf(b, "\\u%04" PRIx32, cp);
        } else {
            ctl_buf_printf(b, "\\U%08" PRIx32, cp);
        }
        p += n ? n : 1;
    }
    ctl_buf_putc(b, '"');
}

/* Integer percentages summing to 100 (largest remainder). */
static void percents(const uint32_t *w, uint32_t n, int *out)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += w[i];
    if (total == 0) {
        for (uint32_t i = 0; i < n; i++)
            out[i] = i == 0 ? 100 : 0;
        return;
    }
    double rem[SLOTS];
    int sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        double exact = 100.0 * (double)w[i] / (double)total;
        out[i] = (int)floor(exact);
        rem[i] = exact - out[i];
        sum += out[i];
    }
    while (sum < 100) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < n; i++)
            if (rem[i] > rem[best])
                best = i;
        out[best]++;
        rem[best] = -1;
        sum++;
    }
}

/* A path with {id} segments as an anchored regex. */
static void path_regex(const char *path, ctl_buf_t *b)
{
    ctl_buf_putc(b, '^');
    for (const char *p = path; *p; p++) {
        if (strncmp(p, "{id}", 4) == 0) {
            ctl_buf_puts(b, "[^/]+");
            p += 3;
        } else if (strchr(".^$*+?()[]{}|\\", *p)) {
            ctl_buf_putc(b, '\\');
            ctl_buf_putc(b, *p);
        } else {
            ctl_buf_putc(b, *p);
        }
    }
    ctl_buf_putc(b, '$');
}

static bool seen_before(const ctl_rules_t *r, size_t i, bool same_endpoint)
{
    const ctl_rule_t *a = &r->rules[i];
    for (size_t k = 0; k < i; k++) {
        const ctl_rule_t *b = &r->rules[k];
        if (strcmp(a->dst_service, b->dst_service) != 0 || strcmp(a->src_region, b->src_region))
            continue;
        if (!same_endpoint || (strcmp(a->method, b->method) == 0 && strcmp(a->path, b->path) == 0))
            return true;
    }
    return false;
}

static int write_file(const char *dir, const char *sub, const char *name, const ctl_buf_t *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
    return ctl_persist_write_atomic(path, b->data ? b->data : "", b->len) == CTL_PERSIST_OK ? 0
                                                                                            : -1;
}

/*
 * Whether a rule can be exported: its source and every target region are
 * valid region names (the overflow pseudo-region is not one) and, when
 * `regions` is given, among them.
 */
static bool rule_ok(const ctl_rule_t *ru, const char *const *regions, uint32_t n_regions)
{
    if (!valid(SLATE_NAME_REGION, ru->src_region) || ru->n_targets > SLOTS)
        return false;
    for (uint32_t t = 0; t < ru->n_targets; t++) {
        if (!valid(SLATE_NAME_REGION, ru->targets[t].region))
            return false;
        if (!regions)
            continue;
        bool have = false;
        for (uint32_t k = 0; k < n_regions && !have; k++)
            have = strcmp(regions[k], ru->targets[t].region) == 0;
        if (!have)
            return false;
    }
    return true;
}

/* A route to `host`'s subset for `region`. */
static void yaml_destination(ctl_buf_t *b, const char *host, const char *subset, int weight)
{
    ctl_buf_puts(b, "    - destination:\n        host: ");
    yq(b, host);
    ctl_buf_puts(b, "\n        subset: ");
    yq(b, subset);
    ctl_buf_putc(b, '\n');
    if (weight >= 0)
        ctl_buf_printf(b, "      weight: %d\n", weight);
}

static void yaml_metadata(ctl_buf_t *b, const char *kind, const char *object, uint64_t version)
{
    ctl_buf_printf(b,
                   "apiVersion: networking.istio.io/v1beta1\nkind: %s\nmetadata:\n  name: ", kind);
    yq(b, object);
    ctl_buf_printf(b,
                   "\n  labels:\n    app.kubernetes.io/managed-by: slate-controller\n"
                   "  annotations:\n    slate.dev/rules-version: \"%" PRIu64 "\"\nspec:\n",
                   version);
}

/* Eject an endpoint after 5 consecutive 5xx (or connect failures) for 30 s,
 * checked every 10 s; all of a region's endpoints may go, so its calls fail
 * fast rather than queue. */
static void outlier_detection(ctl_buf_t *b, int indent)
{
    static const char *const lines[] = {"outlierDetection:", "  consecutive5xxErrors: 5",
                                        "  interval: \"10s\"", "  baseEjectionTime: \"30s\"",
                                        "  maxEjectionPercent: 100"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        ctl_buf_printf(b, "%*s%s\n", indent, "", lines[i]);
}

/* The weighted route of one rule (an endpoint called from one source region). */
static void yaml_weighted_route(ctl_buf_t *b, const ctl_config_t *cfg, const ctl_rule_t *ru,
                                const char *host, const char *const *regions,
                                char (*subsets)[CTL_EXPORT_NAME_CAP], const char *src,
                                unsigned route_no)
{
    uint32_t w[SLOTS];
    int pct[SLOTS];
    uint32_t n = ru->n_targets;
    for (uint32_t t = 0; t < n; t++)
        w[t] = ru->targets[t].weight;
    percents(w, n, pct);
    ctl_buf_printf(b, "  - name: \"from-%s-%u\"", src, route_no);
    ctl_buf_puts(b, "\n    match:\n    - sourceLabels:\n        ");
    yq(b, cfg->region_label);
    ctl_buf_puts(b, ": ");
    yq(b, ru->src_region);
    ctl_buf_putc(b, '\n');
    if (ru->path[0]) {
        ctl_buf_puts(b, "      uri:\n");
        if (strstr(ru->path, "{id}")) {
            ctl_buf_t re;
            ctl_buf_init(&re, 0);
            path_regex(ru->path, &re);
            ctl_buf_puts(b, "        regex: ");
            yq(b, ctl_buf_cstr(&re));
            if (re.failed)
                b->failed = true;
            ctl_buf_free(&re);
        } else {
            ctl_buf_puts(b, "        exact: ");
            yq(b, ru->path);
        }
        ctl_buf_putc(b, '\n');
    }
    if (ru->method[0] && strcmp(ru->method, "*") != 0) {
        ctl_buf_puts(b, "      method:\n        exact: ");
        yq(b, ru->method);
        ctl_buf_putc(b, '\n');
    }
    ctl_buf_puts(b, "    route:\n");
    for (uint32_t t = 0; t < n; t++) {
        if (pct[t] == 0)
            continue;
        uint32_t k = 0;
        while (strcmp(regions[k], ru->targets[t].region) != 0)
            k++; /* present: rule_ok checked */
        yaml_destination(b, host, subsets[k], pct[t]);
    }
}

int ctl_export_istio_yaml(const ctl_config_t *cfg, const ctl_rules_t *r, const char *svc,
                          ctl_buf_t *out)
{
    char object[CTL_EXPORT_NAME_CAP], weights_object[CTL_EXPORT_NAME_CAP + 8];
    if (ctl_export_object_name(svc, object) != 0)
        return -1;
    snprintf(weights_object, sizeof weights_object, "%s-weights", object);
    const char *host = svc; /* a DNS-1123 label: a short host name as it is */
    /* every valid destination region named for this service, and its subset */
    const char *regions[SLOTS];
    char subsets[SLOTS][CTL_EXPORT_NAME_CAP];
    uint32_t n_regions = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (strcmp(ru->dst_service, svc) != 0 || !rule_ok(ru, NULL, 0))
            continue;
        for (uint32_t t = 0; t < ru->n_targets; t++) {
            bool have = false;
            for (uint32_t k = 0; k < n_regions && !have; k++)
                have = strcmp(regions[k], ru->targets[t].region) == 0;
            if (have || n_regions == SLOTS)
                continue;
            regions[n_regions] = ru->targets[t].region;
            if (ctl_export_subset(regions[n_regions], subsets[n_regions]) != 0)
                return -1;
            for (uint32_t k = 0; k < n_regions; k++)
                if (strcmp(subsets[k], subsets[n_regions]) == 0)
                    return -1; /* a 64-bit hash collision: refuse rather than merge */
            n_regions++;
        }
    }
    ctl_buf_t *b = out;
    ctl_buf_printf(b,
                   "# Generated by slate-controller from rules v%" PRIu64 ". Do not edit.\n"
                   "# Apply in the namespace of the service's VirtualService, which takes the\n"
                   "# routes with one entry before its own (they inherit its timeout and\n"
                   "# retries):\n#   - name: slate\n#     delegate:\n#       name: %s\n",
                   r->version, object);
    /* 1. The header delegate: no hosts, so only a `delegate:` route of the
     * user's VirtualService brings it into routing; no catch-all, so calls
     * without the header fall through to the user's own routes. */
    yaml_metadata(b, "VirtualService", object, r->version);
    ctl_buf_puts(b, n_regions ? "  http:\n" : "  http: []\n");
    for (uint32_t k = 0; k < n_regions; k++) {
        /* subset names are labels: nothing in them needs escaping */
        ctl_buf_printf(b, "  - name: \"routeto-%s\"", subsets[k]);
        ctl_buf_puts(b,
                     "\n    match:\n    - headers:\n        x-slate-routeto:\n          exact: ");
        yq(b, regions[k]);
        ctl_buf_puts(b, "\n    route:\n");
        yaml_destination(b, host, subsets[k], -1);
    }
    /* 2. The weights delegate, for meshes without the slate data plane:
     * weighted routes per source region (sourceLabels) and endpoint. */
    unsigned route_no = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (strcmp(ru->dst_service, svc) != 0 || seen_before(r, i, true) || ru->n_targets == 0 ||
            !rule_ok(ru, regions, n_regions))
            continue;
        if (strstr(ru->path, "{overflow}") || strstr(ru->path, "{trunc}"))
            continue; /* no single path to match */
        char src[CTL_EXPORT_NAME_CAP];
        if (ctl_export_subset(ru->src_region, src) != 0)
            continue;
        if (route_no == 0) {
            ctl_buf_puts(b, "---\n");
            yaml_metadata(b, "VirtualService", weights_object, r->version);
            ctl_buf_puts(b, "  http:\n");
        }
        yaml_weighted_route(b, cfg, ru, host, regions, subsets, src, route_no++);
    }
    /* 3. The subsets, with outlier detection on the host (the mesh's
     * locality failover needs it) and on each subset (a subset's own policy
     * replaces the host's for that field when Istio merges rules). */
    ctl_buf_puts(b, "---\n");
    yaml_metadata(b, "DestinationRule", object, r->version);
    ctl_buf_puts(b, "  host: ");
    yq(b, host);
    ctl_buf_puts(b, "\n  trafficPolicy:\n");
    outlier_detection(b, 4);
    ctl_buf_puts(b, "  subsets:");
    if (n_regions == 0)
        ctl_buf_puts(b, " []");
    ctl_buf_putc(b, '\n');
    for (uint32_t k = 0; k < n_regions; k++) {
        ctl_buf_puts(b, "  - name: ");
        yq(b, subsets[k]);
        ctl_buf_puts(b, "\n    labels:\n      ");
        yq(b, cfg->region_label);
        ctl_buf_puts(b, ": ");
        yq(b, regions[k]);
        ctl_buf_puts(b, "\n    trafficPolicy:\n");
        outlier_detection(b, 6);
    }
    return b->failed ? -1 : 0;
}

/* The share of calls to `svc` from `src` that each region gets: the mean over
 * the destination's endpoints of their rules' normalised weights (one vote
 * per endpoint; rules repeat per calling service). Returns the number of
 * endpoints that voted; regions[] and share[] hold *n_regions entries. */
static uint32_t region_shares(const ctl_rules_t *r, const char *svc, const char *src,
                              const char **regions, double *share, uint32_t *n_regions_out)
{
    uint32_t n_regions = 0, n_rules = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (strcmp(ru->dst_service, svc) != 0 || strcmp(ru->src_region, src) != 0 ||
            !rule_ok(ru, NULL, 0))
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++) {
            const ctl_rule_t *o = &r->rules[k];
            dup = strcmp(o->dst_service, svc) == 0 && strcmp(o->src_region, src) == 0 &&
                  strcmp(o->method, ru->method) == 0 && strcmp(o->path, ru->path) == 0 &&
                  rule_ok(o, NULL, 0);
        }
        if (dup)
            continue;
        uint64_t total = 0;
        for (uint32_t t = 0; t < ru->n_targets; t++)
            total += ru->targets[t].weight;
        if (total == 0)
            continue;
        n_rules++;
        for (uint32_t t = 0; t < ru->n_targets; t++) {
            uint32_t k = 0;
            while (k < n_regions && strcmp(regions[k], ru->targets[t].region) != 0)
                k++;
            if (k == n_regions) {
                if (n_regions == SLOTS)
                    continue;
                regions[n_regions] = ru->targets[t].region;
                share[n_regions++] = 0;
            }
            share[k] += (double)ru->targets[t].weight / (double)total;
        }
    }
    for (uint32_t k = 0; k < n_regions && n_rules > 0; k++)
        share[k] /= n_rules;
    *n_regions_out = n_regions;
    return n_rules;
}

/* Locality weights for calls to `svc` from `src`: the mean over its endpoints' rules. */
int ctl_export_envoy_json(const ctl_rules_t *r, const char *svc, const char *src, ctl_buf_t *out)
{
    if (!valid(SLATE_NAME_SERVICE, svc) || !valid(SLATE_NAME_REGION, src))
        return -1;
    const char *regions[SLOTS];
    double share[SLOTS];
    uint32_t n_regions = 0;
    uint32_t n_rules = region_shares(r, svc, src, regions, share, &n_regions);
    if (n_rules == 0)
        return 1;
    ctl_json_t j;
    ctl_json_init(&j, out);
    ctl_json_obj(&j);
    ctl_json_kstr(&j, "@type",
                  "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
    ctl_json_kstr(&j, "cluster_name", svc);
    ctl_json_key(&j, "endpoints");
    ctl_json_arr(&j);
    for (uint32_t k = 0; k < n_regions; k++) {
        uint32_t w = (uint32_t)llround(share[k] * 1000.0);
        if (w == 0)
            continue;
        ctl_json_obj(&j);
        ctl_json_key(&j, "locality");
        ctl_json_obj(&j);
        ctl_json_kstr(&j, "region", regions[k]);
        ctl_json_obj_end(&j);
        ctl_json_ku64(&j, "load_balancing_weight", w);
        ctl_json_key(&j, "lb_endpoints");
        ctl_json_arr(&j);
        ctl_json_arr_end(&j);
        ctl_json_obj_end(&j);
    }
    ctl_json_arr_end(&j);
    ctl_json_obj_end(&j);
    ctl_buf_putc(out, '\n');
    return ctl_json_ok(&j) && !out->failed ? 0 : -1;
}

static int istio_for_service(const ctl_config_t *cfg, const ctl_rules_t *r, const char *svc,
                             const char *dir)
{
    char fname[CTL_EXPORT_FILE_CAP];
    if (ctl_export_istio_file(svc, fname) != 0)
        return -1;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    int rc = ctl_export_istio_yaml(cfg, r, svc, &b);
    if (rc == 0)
        rc = write_file(dir, "istio", fname, &b);
    ctl_buf_free(&b);
    return rc;
}

static int envoy_for(const ctl_rules_t *r, const char *svc, const char *src, const char *dir)
{
    char fname[CTL_EXPORT_FILE_CAP];
    if (ctl_export_envoy_file(svc, src, fname) != 0)
        return -1;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    int rc = ctl_export_envoy_json(r, svc, src, &b);
    if (rc == 0)
        rc = write_file(dir, "envoy", fname, &b);
    ctl_buf_free(&b);
    return rc < 0 ? -1 : 0;
}

/*
 * Services and source regions that are not valid names (the overflow
 * pseudo-names) have no Kubernetes object to export to and are skipped.
 */
int ctl_export_write(const ctl_config_t *cfg, const ctl_rules_t *r, const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (!valid(SLATE_NAME_SERVICE, ru->dst_service))
            continue;
        bool svc_done = false;
        for (size_t k = 0; k < i && !svc_done; k++)
            svc_done = strcmp(r->rules[k].dst_service, ru->dst_service) == 0;
        if (!svc_done && istio_for_service(cfg, r, ru->dst_service, dir) != 0)
            rc = -1;
        if (valid(SLATE_NAME_REGION, ru->src_region) && !seen_before(r, i, false) &&
            envoy_for(r, ru->dst_service, ru->src_region, dir) != 0)
            rc = -1;
    }
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    ctl_rules_json(r, &j);
    ctl_buf_putc(&b, '\n');
    char path[1024];
    snprintf(path, sizeof(path), "%s/rules.json", dir);
    if (!ctl_json_ok(&j) || ctl_persist_write_atomic(path, b.data, b.len) != CTL_PERSIST_OK)
        rc = -1;
    ctl_buf_free(&b);
    return rc;
}

void ctl_export_weights_metrics(const ctl_rules_t *r, ctl_buf_t *out, uint32_t max_series)
{
    ctl_buf_puts(out, "# HELP slate_controller_published_weight Share of the calls to a "
                      "destination service from a source region that the rules in force send "
                      "to each target region (mean over the destination's endpoints).\n"
                      "# TYPE slate_controller_published_weight gauge\n");
    uint64_t series = 0, dropped = 0;
    for (size_t i = 0; r && i < r->n_rules; i++) {
        if (seen_before(r, i, false))
            continue;
        const ctl_rule_t *ru = &r->rules[i];
        const char *regions[SLOTS];
        double share[SLOTS];
        uint32_t n = 0;
        if (region_shares(r, ru->dst_service, ru->src_region, regions, share, &n) == 0)
            continue;
        for (uint32_t k = 0; k < n; k++) {
            if (series >= max_series) {
                dropped++;
                continue;
            }
            series++;
            /* rule_ok(): names passed slate_name_check(), no quote, backslash or newline */
            ctl_buf_printf(out,
                           "slate_controller_published_weight{source_region=\"%s\","
                           "destination=\"%s\",target_region=\"%s\"} %.6g\n",
                           ru->src_region, ru->dst_service, regions[k], share[k]);
        }
    }
    ctl_buf_printf(out,
                   "# HELP slate_controller_published_weight_series_dropped Weight series left "
                   "out of this scrape (more than %" PRIu32 ").\n"
                   "# TYPE slate_controller_published_weight_series_dropped gauge\n"
                   "slate_controller_published_weight_series_dropped %" PRIu64 "\n",
                   max_series, dropped);
}
