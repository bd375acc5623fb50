/*
 * slate-controller: exports of the rules for meshes that do not run the
 * slate data plane, written to --export-dir after each debounced push:
 *
 *   istio/<service>.yaml   per destination service, objects that live
 *                          beside the user's own VirtualService (Istio keeps
 *                          one VirtualService per host in a sidecar):
 *                          <svc>-slate, a delegate VirtualService (no hosts)
 *                          routing each x-slate-routeto value to its region's
 *                          subset, which the user's VirtualService includes
 *                          with one `delegate:` route; <svc>-slate-weights, a
 *                          delegate with the weighted routes per source region
 *                          (sourceLabels) and endpoint, for meshes without the
 *                          slate data plane; and a DestinationRule with one
 *                          subset per region (`region-label`) and outlier
 *                          detection, so the mesh's locality failover works
 *                          for calls without the header;
 *   envoy/<service>.<region>.json
 *                          an Envoy ClusterLoadAssignment (v3 JSON) with
 *                          locality weights for calls to <service> from
 *                          <region>, for meshes that route by locality; the
 *                          lb_endpoints are left to the mesh's control plane;
 *   rules.json             the rules in force (as GET /v1/rules shows them).
 *
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

#include "ctl_app.h"
#include "ctl_json.h"
#include "ctl_log.h"
#include "ctl_persist.h"

#define SLOTS CTL_MAX_REGION_SLOTS

/* A DNS-1123 label for subset and object names. */
static void k8s_name(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < cap && o < 63; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '-';
        out[o++] = c;
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    size_t start = 0;
    while (start < o && out[start] == '-')
        start++;
    if (start)
        memmove(out, out + start, o - start);
    o -= start;
    if (o == 0)
        out[o++] = 'x';
    out[o] = '\0';
}

/* A file-name-safe form of a name. */
static void file_name(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < cap; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        out[o++] = ok ? c : '_';
    }
    if (o == 0 || out[0] == '.')
        out[o++] = '_';
    out[o] = '\0';
}

/* A YAML double-quoted scalar. */
static void yq(ctl_buf_t *b, const char *s)
{
    ctl_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            ctl_buf_putc(b, '\\');
            ctl_buf_putc(b, (char)c);
        } else if (c < 0x20) {
            ctl_buf_printf(b, "\\x%02x", c);
        } else {
            ctl_buf_putc(b, (char)c);
        }
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

/* Eject an endpoint after 5 consecutive 5xx (or connect failures) for 30 s,
 * checked every 10 s; all of a region's endpoints may go, so its calls fail
 * fast rather than queue. */
static void outlier_detection(ctl_buf_t *b, int indent)
{
    static const char *const lines[] = {"outlierDetection:", "  consecutive5xxErrors: 5",
                                        "  interval: 10s", "  baseEjectionTime: 30s",
                                        "  maxEjectionPercent: 100"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        ctl_buf_printf(b, "%*s%s\n", indent, "", lines[i]);
}

/* The head of a delegate VirtualService (no hosts: only another
 * VirtualService's `delegate:` route brings it into routing). */
static void vs_head(ctl_buf_t *b, const char *name, const char *suffix, uint64_t version)
{
    ctl_buf_printf(b,
                   "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
                   "metadata:\n  name: %s%s\n  labels:\n    app.kubernetes.io/managed-by: "
                   "slate-controller\n  annotations:\n    slate.dev/rules-version: \"%" PRIu64
                   "\"\nspec:\n  http:\n",
                   name, suffix, version);
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

static int istio_for_service(const ctl_config_t *cfg, const ctl_rules_t *r, const char *svc,
                             const char *dir)
{
    char name[80], host[80];
    k8s_name(svc, name, sizeof(name));
    snprintf(host, sizeof(host), "%s", svc);
    /* every destination region named for this service */
    const char *regions[SLOTS];
    uint32_t n_regions = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (strcmp(ru->dst_service, svc) != 0)
            continue;
        for (uint32_t t = 0; t < ru->n_targets; t++) {
            bool have = false;
            for (uint32_t k = 0; k < n_regions && !have; k++)
                have = strcmp(regions[k], ru->targets[t].region) == 0;
            if (!have && n_regions < SLOTS)
                regions[n_regions++] = ru->targets[t].region;
        }
    }
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_buf_printf(&b,
                   "# Generated by slate-controller from rules v%" PRIu64 ". Do not edit.\n"
                   "# Apply in %s's namespace. Your VirtualService for %s takes the routes\n"
                   "# with one entry (before its own routes; they inherit its timeout and\n"
                   "# retries):\n#   - name: slate\n#     delegate:\n#       name: %s-slate\n",
                   r->version, name, name, name);
    ctl_buf_t weights;
    ctl_buf_init(&weights, 0);
    vs_head(&b, name, "-slate", r->version);
    for (uint32_t k = 0; k < n_regions; k++) {
        char sub[80];
        k8s_name(regions[k], sub, sizeof(sub));
        ctl_buf_printf(&b,
                       "  - name: routeto-%s\n    match:\n    - headers:\n        "
                       "x-slate-routeto:\n          exact: ",
                       sub);
        yq(&b, regions[k]);
        ctl_buf_puts(&b, "\n    route:\n    - destination:\n        host: ");
        yq(&b, host);
        ctl_buf_printf(&b, "\n        subset: %s\n", sub);
    }
    unsigned route_no = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (strcmp(ru->dst_service, svc) != 0 || seen_before(r, i, true) || ru->n_targets == 0)
            continue;
        if (strstr(ru->path, "{overflow}") || strstr(ru->path, "{trunc}"))
            continue; /* no single path to match */
        uint32_t w[SLOTS];
        int pct[SLOTS];
        uint32_t n = ru->n_targets < SLOTS ? ru->n_targets : SLOTS;
        for (uint32_t t = 0; t < n; t++)
            w[t] = ru->targets[t].weight;
        percents(w, n, pct);
        char src[80];
        k8s_name(ru->src_region, src, sizeof(src));
        ctl_buf_t *wb = &weights;
        if (route_no == 0)
            vs_head(wb, name, "-slate-weights", r->version);
        ctl_buf_printf(wb, "  - name: from-%s-%u\n    match:\n    - sourceLabels:\n        ", src,
                       route_no++);
        yq(wb, cfg->region_label);
        ctl_buf_puts(wb, ": ");
        yq(wb, ru->src_region);
        ctl_buf_putc(wb, '\n');
        if (ru->path[0]) {
            ctl_buf_puts(wb, "      uri:\n");
            if (strstr(ru->path, "{id}")) {
                ctl_buf_t re;
                ctl_buf_init(&re, 0);
                path_regex(ru->path, &re);
                ctl_buf_puts(wb, "        regex: ");
                yq(wb, ctl_buf_cstr(&re));
                ctl_buf_free(&re);
            } else {
                ctl_buf_puts(wb, "        exact: ");
                yq(wb, ru->path);
            }
            ctl_buf_putc(wb, '\n');
        }
        if (ru->method[0] && strcmp(ru->method, "*") != 0) {
            ctl_buf_puts(wb, "      method:\n        exact: ");
            yq(wb, ru->method);
            ctl_buf_putc(wb, '\n');
        }
        ctl_buf_puts(wb, "    route:\n");
        for (uint32_t t = 0; t < n; t++) {
            if (pct[t] == 0)
                continue;
            char sub[80];
            k8s_name(ru->targets[t].region, sub, sizeof(sub));
            ctl_buf_puts(wb, "    - destination:\n        host: ");
            yq(wb, host);
            ctl_buf_printf(wb, "\n        subset: %s\n      weight: %d\n", sub, pct[t]);
        }
    }
    if (n_regions == 0)
        ctl_buf_puts(&b, "  []\n");
    ctl_buf_puts(&b, "---\n");
    if (route_no > 0) {
        ctl_buf_append(&b, weights.data, weights.len);
        ctl_buf_puts(&b, "---\n");
    }
    if (weights.failed)
        b.failed = true;
    ctl_buf_free(&weights);
    /* Outlier detection on the host (the mesh's locality failover needs it)
     * and on each subset (a subset's own policy replaces the host's for that
     * field when Istio merges this rule with the user's). */
    ctl_buf_printf(&b,
                   "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
                   "metadata:\n  name: %s-slate\n  labels:\n    app.kubernetes.io/managed-by: "
                   "slate-controller\nspec:\n  host: ",
                   name);
    yq(&b, host);
    ctl_buf_puts(&b, "\n  trafficPolicy:\n");
    outlier_detection(&b, 4);
    ctl_buf_puts(&b, "  subsets:\n");
    for (uint32_t k = 0; k < n_regions; k++) {
        char sub[80];
        k8s_name(regions[k], sub, sizeof(sub));
        ctl_buf_printf(&b, "  - name: %s\n    labels:\n      ", sub);
        yq(&b, cfg->region_label);
        ctl_buf_puts(&b, ": ");
        yq(&b, regions[k]);
        ctl_buf_puts(&b, "\n    trafficPolicy:\n");
        outlier_detection(&b, 6);
    }
    if (n_regions == 0)
        ctl_buf_puts(&b, "  []\n");
    char fname[160];
    file_name(svc, fname, sizeof(fname) - 6);
    strcat(fname, ".yaml");
    int rc = b.failed ? -1 : write_file(dir, "istio", fname, &b);
    ctl_buf_free(&b);
    return rc;
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
        if (strcmp(ru->dst_service, svc) != 0 || strcmp(ru->src_region, src) != 0)
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++) {
            const ctl_rule_t *o = &r->rules[k];
            dup = strcmp(o->dst_service, svc) == 0 && strcmp(o->src_region, src) == 0 &&
                  strcmp(o->method, ru->method) == 0 && strcmp(o->path, ru->path) == 0;
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

/* Locality weights for calls to `svc` from `src`. */
static int envoy_for(const ctl_rules_t *r, const char *svc, const char *src, const char *dir)
{
    const char *regions[SLOTS];
    double share[SLOTS];
    uint32_t n_regions = 0;
    uint32_t n_rules = region_shares(r, svc, src, regions, share, &n_regions);
    if (n_rules == 0)
        return 0;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    ctl_json_obj(&j);
    ctl_json_key(&j, "@type");
    ctl_json_str(&j, "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
    ctl_json_key(&j, "cluster_name");
    ctl_json_str(&j, svc);
    ctl_json_key(&j, "endpoints");
    ctl_json_arr(&j);
    for (uint32_t k = 0; k < n_regions; k++) {
        uint32_t w = (uint32_t)llround(share[k] * 1000.0);
        if (w == 0)
            continue;
        ctl_json_obj(&j);
        ctl_json_key(&j, "locality");
        ctl_json_obj(&j);
        ctl_json_key(&j, "region");
        ctl_json_str(&j, regions[k]);
        ctl_json_obj_end(&j);
        ctl_json_key(&j, "load_balancing_weight");
        ctl_json_u64(&j, w);
        ctl_json_key(&j, "lb_endpoints");
        ctl_json_arr(&j);
        ctl_json_arr_end(&j);
        ctl_json_obj_end(&j);
    }
    ctl_json_arr_end(&j);
    ctl_json_obj_end(&j);
    ctl_buf_putc(&b, '\n');
    char f1[120], f2[120], fname[260];
    file_name(svc, f1, sizeof(f1));
    file_name(src, f2, sizeof(f2));
    snprintf(fname, sizeof(fname), "%s.%s.json", f1, f2);
    int rc = ctl_json_ok(&j) ? write_file(dir, "envoy", fname, &b) : -1;
    ctl_buf_free(&b);
    return rc;
}

int ctl_export_write(const ctl_config_t *cfg, const ctl_rules_t *r, const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        bool svc_done = false;
        for (size_t k = 0; k < i && !svc_done; k++)
            svc_done = strcmp(r->rules[k].dst_service, ru->dst_service) == 0;
        if (!svc_done && istio_for_service(cfg, r, ru->dst_service, dir) != 0)
            rc = -1;
        if (!seen_before(r, i, false) && envoy_for(r, ru->dst_service, ru->src_region, dir) != 0)
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
            /* names passed slate_name_check() at the door: no quote, backslash or newline */
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

static void push(ctl_app_t *app)
{
    ctl_rules_t *r = ctl_app_rules(app);
    if (!r)
        return;
    if (ctl_export_write(&app->cfg, r, app->cfg.export_dir) == 0) {
        atomic_fetch_add(&app->metrics.exports_written, 1);
        ctl_log(CTL_LOG_INFO, "exported rules v%" PRIu64 " to %s", r->version, app->cfg.export_dir);
    } else {
        atomic_fetch_add(&app->metrics.exports_failed, 1);
        ctl_log(CTL_LOG_ERROR, "export of rules v%" PRIu64 " to %s failed: %s", r->version,
                app->cfg.export_dir, strerror(errno));
    }
    ctl_rules_unref(r);
}

static void *export_main(void *arg)
{
    ctl_app_t *app = arg;
    pthread_mutex_lock(&app->export_mu);
    for (;;) {
        uint64_t now = ctl_mono_ns();
        bool stop = atomic_load(&app->stopping);
        if (ctl_debounce_due(&app->debounce, now) || (stop && app->debounce.pending > 0)) {
            ctl_debounce_fired(&app->debounce);
            pthread_mutex_unlock(&app->export_mu);
            push(app);
            pthread_mutex_lock(&app->export_mu);
            continue;
        }
        if (stop)
            break;
        uint64_t deadline = ctl_debounce_deadline(&app->debounce);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t wait = deadline == UINT64_MAX ? 3600000000000ull : deadline - now;
        uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + wait;
        ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
        ts.tv_nsec = (long)(abs_ns % 1000000000ull);
        pthread_cond_timedwait(&app->export_cv, &app->export_mu, &ts);
    }
    pthread_mutex_unlock(&app->export_mu);
    return NULL;
}

int ctl_export_start(ctl_app_t *app)
{
    if (app->cfg.export_dir[0] == '\0')
        return 0;
    if (mkdir(app->cfg.export_dir, 0755) != 0 && errno != EEXIST) {
        ctl_log(CTL_LOG_ERROR, "cannot create --export-dir %s: %s", app->cfg.export_dir,
                strerror(errno));
        return -1;
    }
    if (pthread_create(&app->export_thread, NULL, export_main, app) != 0)
        return -1;
    app->export_started = true;
    return 0;
}
