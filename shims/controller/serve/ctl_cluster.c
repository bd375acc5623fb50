/*
 * slate-controller: the cluster role (SLATE's optional per-cluster
 * controller). It takes the reports of the proxies of one cluster, merges
 * them per service over one forward period (requests and rates summed,
 * latency statistics merged, histograms included, spans kept up to the
 * per-report limit), and once per period sends one batch to the global
 * controller: POST /v1/reports with one LoadReport per service, each
 * preceded by its varint length. The answer holds the RoutingRules of each
 * service in the same order; the cluster keeps them (with the global
 * controller's version and time to live) and answers its proxies from them.
 *
 * Limits: services (max-services, then "~overflow"), endpoints per service
 * (then "* {overflow}"), outbound destinations per service (the same limit),
 * spans per service per period (max-spans-per-report; the rest are counted
 * in the forwarded report's drops). A failed forward drops that period's
 * aggregate (counted) and keeps the rules in force until their TTL.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_serve.h"
#include "ctl_auth.h"
#include "ctl_httpc.h"
#include "ctl_log.h"
#include "slate/name.h"
#include "slate/key.h"
#include "slate/stats.h"

#define OVERFLOW_NAME "~overflow"

typedef struct cl_in {
    char *method, *path;
    uint64_t requests;
    double rate;
    uint64_t in_flight;
    slate_stats_t stats;
} cl_in;

typedef struct cl_out {
    char *dst_service, *method, *path, *dst_region;
    uint64_t requests;
    slate_stats_t stats;
} cl_out;

typedef struct cl_span {
    char *trace_id, *span_id, *parent_span_id, *method, *path;
    uint64_t start_ns, end_ns, body_size;
    bool has_load;
    double rps;
    uint64_t in_flight;
} cl_span;

typedef struct cl_service {
    char *name;
    cl_in *in;
    size_t n_in, cap_in;
    cl_out *out;
    size_t n_out, cap_out;
    cl_span *spans;
    size_t n_spans, cap_spans;
    uint64_t spans_dropped;
    uint64_t reports;
} cl_service;

struct ctl_cluster {
    ctl_app_t *app;
    pthread_mutex_t mu;
    cl_service *svcs;
    size_t n_svcs;
    uint64_t sequence;
    uint64_t forwards_ok, forwards_failed, reports_in;
    uint64_t last_forward_ns;
    char last_error[256];
    ctl_url_t upstream;
};

static char *dup_v(slate_str_t s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        if (s.len)
            memcpy(p, s.ptr, s.len);
        p[s.len] = '\0';
    }
    return p;
}

static bool eq(const char *a, slate_str_t b)
{
    return strlen(a) == b.len && (b.len == 0 || memcmp(a, b.ptr, b.len) == 0);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 8;
    while (c < n)
        c *= 2;
    void *p = realloc(*arr, c * sz);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

struct ctl_cluster *ctl_cluster_create(ctl_app_t *app)
{
    struct ctl_cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->app = app;
    pthread_mutex_init(&c->mu, NULL);
    c->svcs = calloc(app->cfg.max_services + 1, sizeof(cl_service));
    if (!c->svcs || ctl_url_parse(app->cfg.upstream, &c->upstream) != 0) {
        free(c->svcs);
        free(c);
        return NULL;
    }
    if (app->cfg.upstream_token_file[0]) {
        char err[600];
        if (ctl_auth_read_client_token(app->cfg.upstream_token_file, c->upstream.bearer,
                                       sizeof(c->upstream.bearer), err, sizeof(err)) != 0) {
            ctl_log(CTL_LOG_ERROR, "--upstream-token-file: %s", err);
            free(c->svcs);
            free(c);
            return NULL;
        }
    }
    return c;
}

static void service_clear(cl_service *s)
{
    for (size_t i = 0; i < s->n_in; i++) {
        free(s->in[i].method);
        free(s->in[i].path);
    }
    for (size_t i = 0; i < s->n_out; i++) {
        free(s->out[i].dst_service);
        free(s->out[i].method);
        free(s->out[i].path);
        free(s->out[i].dst_region);
    }
    for (size_t i = 0; i < s->n_spans; i++) {
        cl_span *p = &s->spans[i];
        free(p->trace_id);
        free(p->span_id);
        free(p->parent_span_id);
        free(p->method);
        free(p->path);
    }
    s->n_in = s->n_out = s->n_spans = 0;
    s->spans_dropped = 0;
    s->reports = 0;
}

/* Frees a service's per-window arrays (they are rebuilt from the next reports);
 * returns the bytes released. */
static size_t service_release(cl_service *s)
{
    size_t bytes =
        s->cap_in * sizeof(cl_in) + s->cap_out * sizeof(cl_out) + s->cap_spans * sizeof(cl_span);
    free(s->in);
    free(s->out);
    free(s->spans);
    s->in = NULL;
    s->out = NULL;
    s->spans = NULL;
    s->cap_in = s->cap_out = s->cap_spans = 0;
    return bytes;
}

void ctl_cluster_free(struct ctl_cluster *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_svcs; i++) {
        service_clear(&c->svcs[i]);
        free(c->svcs[i].in);
        free(c->svcs[i].out);
        free(c->svcs[i].spans);
        free(c->svcs[i].name);
    }
    free(c->svcs);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static cl_service *find_service(struct ctl_cluster *c, slate_str_t name)
{
    for (size_t i = 0; i < c->n_svcs; i++)
        if (eq(c->svcs[i].name, name))
            return &c->svcs[i];
    uint32_t max = c->app->cfg.max_services;
    if (c->n_svcs < max) {
        cl_service *s = &c->svcs[c->n_svcs];
        s->name = dup_v(name);
        if (!s->name)
            return NULL;
        c->n_svcs++;
        return s;
    }
    atomic_fetch_add(&c->app->metrics.overflow[CTL_OVF_SERVICE], 1);
    for (size_t i = 0; i < c->n_svcs; i++)
        if (strcmp(c->svcs[i].name, OVERFLOW_NAME) == 0)
            return &c->svcs[i];
    cl_service *s = &c->svcs[c->n_svcs];
    s->name = dup_v(slate_str(OVERFLOW_NAME));
    if (!s->name)
        return NULL;
    c->n_svcs++;
    return s;
}

static int merge_latency(slate_stats_t *dst, const slate_latency_t *l)
{
    if (l->count == 0)
        return 0;
    slate_stats_t tmp;
    if (slate_latency_to_stats(l, &tmp) != SLATE_OK)
        return -1;
    slate_stats_merge(dst, &tmp);
    return 0;
}

static cl_in *find_in(struct ctl_cluster *c, cl_service *s, slate_str_t method, slate_str_t path)
{
    char norm[SLATE_PATH_NORM_CAP];
    size_t n = 0;
    if (slate_path_normalize(path.ptr, path.len, norm, sizeof(norm), &n) != SLATE_OK)
        return NULL;
    slate_str_t np = {norm, n};
    for (size_t i = 0; i < s->n_in; i++)
        if (eq(s->in[i].method, method) && eq(s->in[i].path, np))
            return &s->in[i];
    if (s->n_in >= c->app->cfg.max_endpoints_per_service) {
        atomic_fetch_add(&c->app->metrics.overflow[CTL_OVF_ENDPOINT], 1);
        method = slate_str("*");
        np = slate_str("{overflow}");
        for (size_t i = 0; i < s->n_in; i++)
            if (eq(s->in[i].method, method) && eq(s->in[i].path, np))
                return &s->in[i];
    }
    if (!grow((void **)&s->in, &s->cap_in, s->n_in + 1, sizeof(cl_in)))
        return NULL;
    cl_in *e = &s->in[s->n_in];
    memset(e, 0, sizeof(*e));
    e->method = dup_v(method);
    e->path = dup_v(np);
    if (!e->method || !e->path) {
        free(e->method);
        free(e->path);
        return NULL;
    }
    slate_stats_init(&e->stats);
    s->n_in++;
    return e;
}

static cl_out *find_out(struct ctl_cluster *c, cl_service *s, const slate_outbound_t *o)
{
    char norm[SLATE_PATH_NORM_CAP];
    size_t n = 0;
    if (slate_path_normalize(o->path.ptr, o->path.len, norm, sizeof(norm), &n) != SLATE_OK)
        return NULL;
    slate_str_t np = {norm, n};
    for (size_t i = 0; i < s->n_out; i++) {
        cl_out *e = &s->out[i];
        if (eq(e->dst_service, o->dst_service) && eq(e->method, o->method) && eq(e->path, np) &&
            eq(e->dst_region, o->dst_region))
            return e;
    }
    if (s->n_out >= c->app->cfg.max_endpoints_per_service * 4u) {
        atomic_fetch_add(&c->app->metrics.overflow[CTL_OVF_OUTBOUND], 1);
        return NULL;
    }
    if (!grow((void **)&s->out, &s->cap_out, s->n_out + 1, sizeof(cl_out)))
        return NULL;
    cl_out *e = &s->out[s->n_out];
    memset(e, 0, sizeof(*e));
    e->dst_service = dup_v(o->dst_service);
    e->method = dup_v(o->method);
    e->path = dup_v(np);
    e->dst_region = dup_v(o->dst_region);
    if (!e->dst_service || !e->method || !e->path || !e->dst_region) {
        free(e->dst_service);
        free(e->method);
        free(e->path);
        free(e->dst_region);
        return NULL;
    }
    slate_stats_init(&e->stats);
    s->n_out++;
    return e;
}

int ctl_cluster_ingest(struct ctl_cluster *c, const slate_load_report_t *rep, bool latency_only)
{
    pthread_mutex_lock(&c->mu);
    c->reports_in++;
    cl_service *s = find_service(c, rep->service);
    if (!s) {
        pthread_mutex_unlock(&c->mu);
        return -1;
    }
    s->reports++;
    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        cl_in *e = find_in(c, s, in->method, in->path);
        if (!e)
            continue;
        if (!latency_only) {
            e->requests += in->requests;
            e->rate += in->rate_rps;
            e->in_flight += in->in_flight;
        }
        (void)merge_latency(&e->stats, &in->latency);
    }
    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        if (o->dst_region.len == 0 || o->dst_service.len == 0)
            continue;
        cl_out *e = find_out(c, s, o);
        if (!e)
            continue;
        e->requests += o->requests;
        (void)merge_latency(&e->stats, &o->latency);
    }
    uint32_t max_spans = c->app->cfg.max_spans_per_report;
    for (size_t i = 0; i < rep->n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        if (s->n_spans >= max_spans ||
            !grow((void **)&s->spans, &s->cap_spans, s->n_spans + 1, sizeof(cl_span))) {
            s->spans_dropped++;
            atomic_fetch_add(&c->app->metrics.overflow[CTL_OVF_SPAN], 1);
            continue;
        }
        cl_span *d = &s->spans[s->n_spans];
        memset(d, 0, sizeof(*d));
        d->trace_id = dup_v(sp->trace_id);
        d->span_id = dup_v(sp->span_id);
        d->parent_span_id = dup_v(sp->parent_span_id);
        d->method = dup_v(sp->method);
        d->path = dup_v(sp->path);
        d->start_ns = sp->start_ns;
        d->end_ns = sp->end_ns;
        d->body_size = sp->body_size;
        for (size_t k = 0; k < sp->n_load && sp->load; k++)
            if (eq(d->method ? d->method : "", sp->load[k].method) &&
                eq(d->path ? d->path : "", sp->load[k].path)) {
                d->has_load = true;
                d->rps = sp->load[k].rps;
                d->in_flight = sp->load[k].in_flight;
                break;
            }
        if (!d->trace_id || !d->span_id || !d->parent_span_id || !d->method || !d->path) {
            free(d->trace_id);
            free(d->span_id);
            free(d->parent_span_id);
            free(d->method);
            free(d->path);
            continue;
        }
        s->n_spans++;
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Encodes one service's aggregate as a delimited LoadReport. */
static int encode_service(struct ctl_cluster *c, cl_service *s, uint64_t now_ns,
                          uint64_t interval_ns, ctl_buf_t *out)
{
    slate_load_report_t rep;
    memset(&rep, 0, sizeof(rep));
    char pod[160];
    /* The forwarder reports as one pod named after its region: a valid label
     * value (name.h) whenever the region is one; the bare region past 63 bytes. */
    if (strlen(c->app->cfg.region) + sizeof("slate-cluster-") - 1 <= SLATE_NAME_MAX_LABEL)
        snprintf(pod, sizeof(pod), "slate-cluster-%s", c->app->cfg.region);
    else
        snprintf(pod, sizeof(pod), "%s", c->app->cfg.region);
    rep.service = slate_str(s->name);
    rep.region = slate_str(c->app->cfg.region);
    rep.pod = slate_str(pod);
    rep.sequence = ++c->sequence;
    rep.time_ns = now_ns;
    rep.interval_ns = interval_ns;
    rep.inbound = calloc(s->n_in ? s->n_in : 1, sizeof(slate_inbound_t));
    rep.outbound = calloc(s->n_out ? s->n_out : 1, sizeof(slate_outbound_t));
    rep.spans = calloc(s->n_spans ? s->n_spans : 1, sizeof(slate_span_t));
    rep.span_loads = calloc(s->n_spans ? s->n_spans : 1, sizeof(slate_endpoint_load_t));
    int rc = -1;
    if (!rep.inbound || !rep.outbound || !rep.spans || !rep.span_loads)
        goto out;
    for (size_t i = 0; i < s->n_in; i++) {
        slate_inbound_t *o = &rep.inbound[rep.n_inbound++];
        o->method = slate_str(s->in[i].method);
        o->path = slate_str(s->in[i].path);
        o->requests = s->in[i].requests;
        o->rate_rps = s->in[i].rate;
        o->in_flight = s->in[i].in_flight;
        slate_latency_from_stats(&o->latency, &s->in[i].stats);
    }
    for (size_t i = 0; i < s->n_out; i++) {
        slate_outbound_t *o = &rep.outbound[rep.n_outbound++];
        o->dst_service = slate_str(s->out[i].dst_service);
        o->method = slate_str(s->out[i].method);
        o->path = slate_str(s->out[i].path);
        o->dst_region = slate_str(s->out[i].dst_region);
        o->requests = s->out[i].requests;
        slate_latency_from_stats(&o->latency, &s->out[i].stats);
    }
    for (size_t i = 0; i < s->n_spans; i++) {
        cl_span *p = &s->spans[i];
        slate_span_t *o = &rep.spans[rep.n_spans++];
        o->trace_id = slate_str(p->trace_id);
        o->span_id = slate_str(p->span_id);
        o->parent_span_id = slate_str(p->parent_span_id);
        o->method = slate_str(p->method);
        o->path = slate_str(p->path);
        o->start_ns = p->start_ns;
        o->end_ns = p->end_ns;
        o->body_size = p->body_size;
        if (p->has_load) {
            slate_endpoint_load_t *l = &rep.span_loads[rep.n_span_loads++];
            l->method = o->method;
            l->path = o->path;
            l->rps = p->rps;
            l->in_flight = p->in_flight;
            o->load = l;
            o->n_load = 1;
        }
    }
    rep.drops.spans_dropped = s->spans_dropped;
    size_t need = 0;
    slate_status st = slate_load_report_encode(&rep, NULL, 0, &need, NULL);
    if (st != SLATE_OK && st != SLATE_ENOSPC)
        goto out;
    uint8_t pre[SLATE_DELIMITED_PREFIX_MAX];
    ctl_buf_append(out, pre, slate_delimited_prefix(need, pre));
    if (!ctl_buf_reserve(out, need))
        goto out;
    size_t len = 0;
    if (slate_load_report_encode(&rep, (uint8_t *)out->data + out->len, need, &len, NULL) !=
        SLATE_OK)
        goto out;
    out->len += len;
    rc = 0;
out:
    free(rep.inbound);
    free(rep.outbound);
    free(rep.spans);
    free(rep.span_loads);
    return rc;
}

static bool same_caller(const ctl_rule_t *a, const ctl_rule_t *b)
{
    return strcmp(a->src_region, b->src_region) == 0 && strcmp(a->src_service, b->src_service) == 0;
}

/*
 * The upstream answers a batch with the rules of the callers in that batch
 * only. A caller whose reports missed this forward (its pods report on
 * another phase than the forward period) keeps the rules it was last
 * answered, until they are older than their time to live; then it routes
 * locally until it reports again. O(rules in force x rules answered).
 */
static void carry_over(struct ctl_cluster *c, ctl_rules_t *merged)
{
    uint64_t now = ctl_now_ns();
    for (size_t i = 0; i < merged->n_rules; i++)
        merged->rules[i].relayed_ns = now;
    ctl_rules_t *cur = ctl_publisher_rules(&c->app->pub);
    uint64_t ttl = merged->ttl_ns ? merged->ttl_ns : c->app->cfg.rules_ttl_ms * 1000000ull;
    for (size_t i = 0; cur && i < cur->n_rules; i++) {
        const ctl_rule_t *ru = &cur->rules[i];
        if (ru->relayed_ns == 0 || now - ru->relayed_ns >= ttl)
            continue; /* too old: the caller routes locally until it reports again */
        bool answered = false;
        for (size_t k = 0; k < merged->n_rules && !answered; k++)
            answered = merged->rules[k].relayed_ns == now && same_caller(&merged->rules[k], ru);
        if (answered)
            continue;
        const char *regions[CTL_MAX_REGION_SLOTS];
        uint32_t weights[CTL_MAX_REGION_SLOTS];
        uint32_t nt = ru->n_targets < CTL_MAX_REGION_SLOTS ? ru->n_targets : CTL_MAX_REGION_SLOTS;
        for (uint32_t t = 0; t < nt; t++) {
            regions[t] = ru->targets[t].region;
            weights[t] = ru->targets[t].weight;
        }
        size_t before = merged->n_rules;
        if (ctl_rules_add(merged, ru->src_region, ru->dst_service, ru->method, ru->path,
                          ru->src_service, regions, weights, nt) == 0 &&
            merged->n_rules > before)
            merged->rules[merged->n_rules - 1].relayed_ns = ru->relayed_ns;
    }
    ctl_rules_unref(cur);
}

/* Applies the upstream's answer: delimited RoutingRules (one for the whole
 * batch; older global controllers sent one per forwarded service). */
static int apply_answer(struct ctl_cluster *c, const ctl_buf_t *body)
{
    const uint8_t *p = (const uint8_t *)body->data;
    size_t n = body->len, pos = 0;
    ctl_rules_t *merged = NULL;
    for (;;) {
        const uint8_t *msg = NULL;
        size_t len = 0;
        slate_status fst = slate_delimited_next(p, n, &pos, &msg, &len);
        if (fst == SLATE_EEMPTY)
            break;
        if (fst != SLATE_OK) {
            ctl_rules_unref(merged);
            return -1;
        }
        slate_codec_error_t err;
        ctl_rules_t *r = ctl_rules_decode_all(msg, len, "upstream", &err);
        if (!r) {
            ctl_rules_unref(merged);
            return -1;
        }
        if (!merged) {
            merged = r;
            continue;
        }
        if (r->version > merged->version) {
            merged->version = r->version;
            merged->ttl_ns = r->ttl_ns;
            merged->generated_ns = r->generated_ns;
        }
        for (size_t q = 0; q < r->n_rules; q++) {
            const ctl_rule_t *ru = &r->rules[q];
            const char *regions[CTL_MAX_REGION_SLOTS];
            uint32_t weights[CTL_MAX_REGION_SLOTS];
            uint32_t nt =
                ru->n_targets < CTL_MAX_REGION_SLOTS ? ru->n_targets : CTL_MAX_REGION_SLOTS;
            for (uint32_t t = 0; t < nt; t++) {
                regions[t] = ru->targets[t].region;
                weights[t] = ru->targets[t].weight;
            }
            /* A service without its own caller name gets it now: the answer is for it. */
            (void)ctl_rules_add(merged, ru->src_region, ru->dst_service, ru->method, ru->path,
                                ru->src_service, regions, weights, nt);
        }
        ctl_rules_unref(r);
    }
    if (!merged)
        return 0;
    ctl_app_t *app = c->app;
    carry_over(c, merged);
    uint64_t version = merged->version;
    if (ctl_publisher_relay(&app->pub, merged))
        ctl_log(CTL_LOG_INFO, "relaying rules v%" PRIu64 " from %s", version, app->cfg.upstream);
    return 0;
}

static void forward_once(struct ctl_cluster *c)
{
    ctl_app_t *app = c->app;
    uint64_t now = ctl_now_ns();
    ctl_buf_t batch;
    ctl_buf_init(&batch, 0);
    pthread_mutex_lock(&c->mu);
    size_t n = 0, released = 0;
    uint64_t interval = app->cfg.forward_period_ms * 1000000ull;
    int enc = 0;
    /* The cluster role keeps nothing between forwards but the services' names:
     * a window's arrays are freed once forwarded, and a service that did not
     * report for a whole window is forgotten, so memory falls with the load. */
    for (size_t i = 0; i < c->n_svcs;) {
        cl_service *s = &c->svcs[i];
        if (s->reports == 0) {
            released += service_release(s) + strlen(s->name) + 1;
            free(s->name);
            c->svcs[i] = c->svcs[--c->n_svcs];
            memset(&c->svcs[c->n_svcs], 0, sizeof(c->svcs[0]));
            continue;
        }
        if (encode_service(c, s, now, interval, &batch) != 0)
            enc = -1;
        service_clear(s);
        released += service_release(s);
        n++;
        i++;
    }
    pthread_mutex_unlock(&c->mu);
    if (released > (1u << 20))
        malloc_trim(0); /* hand freed pages back to the system */
    if (n == 0 || enc != 0 || batch.failed) {
        if (enc != 0 || batch.failed)
            ctl_log(CTL_LOG_ERROR, "forward: could not encode the aggregate");
        ctl_buf_free(&batch);
        return;
    }
    ctl_httpc_resp_t resp;
    char err[256] = "";
    int rc = ctl_httpc_request(&c->upstream, "POST", "/v1/reports", "application/x-protobuf",
                               batch.data, batch.len, app->cfg.forward_timeout_ms, 64u << 20, &resp,
                               err, sizeof(err));
    ctl_buf_free(&batch);
    if (rc == 0 && resp.status != 200) {
        snprintf(err, sizeof(err), "upstream answered %d: %.*s", resp.status,
                 (int)(resp.body.len < 160 ? resp.body.len : 160),
                 resp.body.data ? resp.body.data : "");
        rc = -1;
    }
    if (rc == 0 && apply_answer(c, &resp.body) != 0) {
        snprintf(err, sizeof(err), "upstream answer is not delimited RoutingRules");
        rc = -1;
    }
    ctl_buf_free(&resp.body);
    pthread_mutex_lock(&c->mu);
    c->last_forward_ns = now;
    if (rc == 0) {
        c->forwards_ok++;
        c->last_error[0] = '\0';
    } else {
        c->forwards_failed++;
        snprintf(c->last_error, sizeof(c->last_error), "%s", err);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == 0) {
        atomic_fetch_add(&app->metrics.forwards_ok, 1);
    } else {
        atomic_fetch_add(&app->metrics.forwards_failed, 1);
        ctl_log(CTL_LOG_WARN, "forward to %s failed: %s", app->cfg.upstream, err);
    }
}

static void *forward_main(void *arg)
{
    ctl_app_t *app = arg;
    uint64_t period = app->cfg.forward_period_ms * 1000000ull;
    uint64_t next = ctl_mono_ns() + period;
    for (;;) {
        pthread_mutex_lock(&app->wake_mu);
        while (!atomic_load(&app->stopping) && ctl_mono_ns() < next) {
            uint64_t wait = next - ctl_mono_ns();
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + wait;
            ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
            ts.tv_nsec = (long)(abs_ns % 1000000000ull);
            pthread_cond_timedwait(&app->wake_cv, &app->wake_mu, &ts);
        }
        bool stop = atomic_load(&app->stopping);
        pthread_mutex_unlock(&app->wake_mu);
        if (stop)
            break;
        forward_once(app->cluster);
        next += period;
        uint64_t now = ctl_mono_ns();
        if (next < now)
            next = now + period;
    }
    return NULL;
}

int ctl_cluster_start(ctl_app_t *app)
{
    if (pthread_create(&app->forward_thread, NULL, forward_main, app) != 0)
        return -1;
    app->forward_started = true;
    return 0;
}

void ctl_cluster_write_json(struct ctl_cluster *c, ctl_json_t *j)
{
    pthread_mutex_lock(&c->mu);
    ctl_json_obj(j);
    ctl_json_kstr(j, "region", c->app->cfg.region);
    ctl_json_kstr(j, "upstream", c->app->cfg.upstream);
    ctl_json_ku64(j, "reports_received", c->reports_in);
    ctl_json_ku64(j, "forwards_ok", c->forwards_ok);
    ctl_json_ku64(j, "forwards_failed", c->forwards_failed);
    ctl_json_ku64(j, "last_forward_ns", c->last_forward_ns);
    ctl_json_kstr(j, "last_error", c->last_error);
    ctl_json_key(j, "pending");
    ctl_json_arr(j);
    for (size_t i = 0; i < c->n_svcs; i++) {
        cl_service *s = &c->svcs[i];
        ctl_json_obj(j);
        ctl_json_kstr(j, "service", s->name);
        ctl_json_ku64(j, "reports", s->reports);
        ctl_json_ku64(j, "endpoints", s->n_in);
        ctl_json_ku64(j, "outbound", s->n_out);
        ctl_json_ku64(j, "spans", s->n_spans);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_obj_end(j);
    pthread_mutex_unlock(&c->mu);
}
