/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * The data-plane half of a native proxy: measure, report, take rules, route.
 * Every libslate status is checked. The rule of thumb: bad input from the
 * network (a malformed answer, impossible weights) is rejected with a log
 * line and the proxy keeps running on what it had; a status that can only
 * mean a bug in this file (an estimator that is not one) aborts loudly.
 */
#include "proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int str_is(slate_str_t s, const char *cstr)
{
    size_t n = strlen(cstr);
    return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}

/* The key of an endpoint. The library strips the query string, so
 * "/cart?session=1" and "/cart?session=2" are one endpoint. */
static slate_status key_of(const char *service, const char *method, const char *path, uint64_t *key)
{
    return slate_endpoint_key(service, strlen(service), method, strlen(method), path, strlen(path),
                              key, NULL);
}

/* Copy at most cap - 1 bytes of the path, without its query string. */
static void copy_path(char *dst, const char *path)
{
    size_t n = slate_path_len(path, strlen(path));
    if (n >= PROXY_PATH_CAP)
        n = PROXY_PATH_CAP - 1; /* the key also stops at SLATE_KEY_MAX_PATH bytes */
    memcpy(dst, path, n);
    dst[n] = '\0';
}

static void hex64(char *out, uint64_t v)
{
    for (int i = 0; i < 16; i++)
        out[i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    out[16] = '\0';
}

static void fatal(const char *what, slate_status st)
{
    fprintf(stderr, "proxy: %s: %s (%s)\n", what, slate_status_name(st), slate_strerror(st));
    abort();
}

int proxy_init(proxy_t *p, const proxy_config_t *cfg, uint64_t now_ns)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    if (cfg->local_region >= cfg->n_regions || slate_sampler_size(cfg->n_regions) == 0 ||
        !(cfg->trace_rate >= 0.0 && cfg->trace_rate <= 1.0)) {
        fprintf(stderr, "proxy: bad configuration (regions or trace rate)\n");
        return -1;
    }
    /* 1 s window at 1 ms resolution: 4 KiB per endpoint, exact at any rate. */
    p->rate_params = slate_rate_params_default();
    p->rate_len = slate_rate_size(&p->rate_params);
    slate_rng_seed(&p->rng, cfg->seed);
    p->last_report_ns = now_ns;
    /* Deliberately small, so the first report shows the grow-and-retry path. */
    p->report_cap = 256;
    p->report_buf = malloc(p->report_cap);
    /* The decoder's arrays must not be NULL: a NULL array means "count only". */
    p->cap_rules = 2;
    p->cap_targets = 4;
    p->dec_rules = malloc(p->cap_rules * sizeof *p->dec_rules);
    p->dec_targets = malloc(p->cap_targets * sizeof *p->dec_targets);
    if (!p->report_buf || !p->dec_rules || !p->dec_targets) {
        proxy_free(p);
        return -1;
    }
    return 0;
}

static void ruleset_free(ruleset_t *rs)
{
    if (rs != NULL)
        free(rs->blob);
    free(rs);
}

void proxy_free(proxy_t *p)
{
    for (size_t i = 0; i < PROXY_MAX_ENDPOINTS; i++) {
        free(p->endpoints[i].rate);
        free(p->endpoints[i].stats);
    }
    for (size_t i = 0; i < PROXY_MAX_OUTBOUND; i++)
        free(p->outbound[i].stats);
    ruleset_free(p->rules);
    free(p->report_buf);
    free(p->dec_rules);
    free(p->dec_targets);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------------- */
/* Measuring inbound requests                                                */

/* The endpoint's slot, claimed on first sight; NULL when the table is full. An
 * untracked request is still served, only not measured (and counted as such). */
static endpoint_t *endpoint_get(proxy_t *p, const char *method, const char *path)
{
    uint64_t key;
    if (key_of(p->cfg.service, method, path, &key) != SLATE_OK) { /* a name over 255 bytes */
        p->drops.endpoints_overflowed++;
        return NULL;
    }
    /* Open addressing on the key. Slots are never freed here (a long-running proxy would
     * age out idle endpoints), so an empty slot ends the search. */
    for (size_t i = 0; i < PROXY_MAX_ENDPOINTS; i++) {
        endpoint_t *e = &p->endpoints[(key + i) % PROXY_MAX_ENDPOINTS];
        if (e->rate != NULL && e->key == key)
            return e;
        if (e->rate != NULL)
            continue;
        /* malloc's alignment suits any type, so it meets SLATE_RATE_ALIGN (8). */
        void *mem = malloc(p->rate_len);
        slate_stats_t *stats = malloc(sizeof *stats);
        slate_status st = mem ? slate_rate_init(mem, p->rate_len, &p->rate_params) : SLATE_ENOSPC;
        if (st != SLATE_OK || stats == NULL) {
            free(mem);
            free(stats);
            p->drops.endpoints_overflowed++;
            return NULL;
        }
        slate_stats_init(stats);
        e->key = key;
        e->rate = mem;
        e->stats = stats;
        snprintf(e->method, sizeof e->method, "%s", method); /* fits: the key checked it */
        copy_path(e->path, path);
        return e;
    }
    p->drops.endpoints_overflowed++;
    return NULL;
}

slate_status proxy_on_request(proxy_t *p, const char *method, const char *path,
                              const char *traceparent, uint64_t now_ns, proxy_request_t *req)
{
    memset(req, 0, sizeof *req);
    req->endpoint = -1;
    req->start_ns = now_ns;
    endpoint_t *e = endpoint_get(p, method, path);
    if (e != NULL) {
        slate_status st = slate_rate_add(e->rate, now_ns);
        switch (st) {
        case SLATE_OK:
            break;
        case SLATE_ELATE: /* stamped before the window (a stalled thread): not counted */
            p->drops.late_stamps++;
            break;
        case SLATE_EOVERFLOW: /* 4e9 arrivals in one millisecond: the count is a lower bound */
            p->drops.counters_saturated++;
            break;
        default: /* EINVAL, EBADMAGIC: our pointer is not an estimator */
            fatal("slate_rate_add", st);
        }
        e->requests++;
        e->in_flight++;
        req->endpoint = (int)(e - p->endpoints);
    }

    /* Continue the caller's trace; a missing or invalid traceparent starts a new one. */
    slate_trace_ctx_t ctx;
    if (traceparent != NULL) {
        slate_status st = slate_traceparent_parse(traceparent, strlen(traceparent), &ctx);
        if (st == SLATE_OK) {
            memcpy(req->trace_id, ctx.trace_id, 32);
            memcpy(req->parent_id, ctx.span_id, 16);
        } else { /* SLATE_EINVAL: malformed; SLATE_ETRACEID: an all-zero id */
            p->bad_traceparents++;
        }
    }
    if (req->trace_id[0] == '\0') {
        hex64(req->trace_id, slate_rng_next(&p->rng));
        hex64(req->trace_id + 16, slate_rng_next(&p->rng) | 1); /* never the invalid zero id */
    }
    /* The decision depends on the trace id alone (the header's sampled flag is
     * ignored), so every hop of a trace decides the same without coordination. */
    int sampled = 0;
    slate_status st = slate_trace_decide(req->trace_id, 32, p->cfg.trace_rate, &sampled);
    if (st != SLATE_OK)
        return st; /* cannot happen: the rate was checked at init, the id is 32 hex digits */
    if (sampled && e != NULL) {
        req->sampled = 1;
        req->rps_at_arrival = slate_rate_per_second(e->rate, now_ns);
        req->in_flight_at_arrival = e->in_flight;
    }
    return SLATE_OK;
}

void proxy_on_response(proxy_t *p, const proxy_request_t *req, uint64_t now_ns)
{
    if (req->endpoint < 0)
        return;
    endpoint_t *e = &p->endpoints[req->endpoint];
    /* Clocks of different threads can disagree slightly; never record a negative latency. */
    slate_stats_add(e->stats, now_ns > req->start_ns ? now_ns - req->start_ns : 0);
    e->in_flight--;
    if (!req->sampled)
        return;
    if (p->n_spans == PROXY_MAX_SPANS) {
        p->drops.spans_dropped++;
        return;
    }
    span_t *s = &p->spans[p->n_spans++];
    s->req = *req;
    s->end_ns = now_ns;
    hex64(s->span_id, slate_rng_next(&p->rng) | 1);
}

/* ------------------------------------------------------------------------- */
/* Routing outbound calls                                                    */

/* The rules in force, or NULL when there are none or the controller stopped refreshing them. */
static const ruleset_t *live_rules(const proxy_t *p, uint64_t now_ns)
{
    const ruleset_t *rs = p->rules;
    return rs == NULL || (rs->expires_ns != 0 && now_ns >= rs->expires_ns) ? NULL : rs;
}

uint16_t proxy_route(proxy_t *p, const char *service, const char *method, const char *path,
                     uint64_t now_ns)
{
    const ruleset_t *rs = live_rules(p, now_ns);
    char norm[SLATE_PATH_NORM_CAP];
    size_t nl = 0;
    if (rs == NULL || slate_path_normalize(path, strlen(path), norm, sizeof norm, &nl) != SLATE_OK)
        return p->cfg.local_region;
    /* most specific rule first (exact, any path, any method, any); O(log rules) */
    uint16_t id = slate_ruleset_route(rs->blob, service, strlen(service), method, strlen(method),
                                      norm, nl, NULL, slate_rng_next(&p->rng));
    return id == SLATE_RULESET_NO_REGION ? p->cfg.local_region : rs->cfg_region[id];
}

double proxy_route_share(const proxy_t *p, const char *service, const char *method,
                         const char *path, uint16_t region, uint64_t now_ns)
{
    const ruleset_t *rs = live_rules(p, now_ns);
    uint64_t key;
    const void *t = NULL;
    if (rs != NULL && key_of(service, method, path, &key) == SLATE_OK)
        t = slate_ruleset_find(rs->blob, key);
    if (t == NULL)
        return region == p->cfg.local_region ? 1.0 : 0.0;
    double share = 0;
    for (size_t i = 0; i < slate_sampler_count(t); i++) {
        uint16_t id = slate_sampler_region(t, i);
        if (rs->cfg_region[id] == region)
            share += slate_sampler_probability(t, id);
    }
    return share;
}

void proxy_on_outbound_done(proxy_t *p, const char *service, const char *method, const char *path,
                            uint16_t region, uint64_t latency_ns)
{
    uint64_t key;
    if (key_of(service, method, path, &key) != SLATE_OK) {
        p->drops.outbound_overflowed++;
        return;
    }
    for (size_t i = 0; i < PROXY_MAX_OUTBOUND; i++) { /* slots fill in order, never freed */
        outbound_t *o = &p->outbound[i];
        if (o->stats == NULL) {
            if ((o->stats = malloc(sizeof *o->stats)) == NULL)
                break;
            slate_stats_init(o->stats);
            o->key = key;
            o->region = region;
            snprintf(o->service, sizeof o->service, "%s", service);
            snprintf(o->method, sizeof o->method, "%s", method);
            copy_path(o->path, path);
        }
        if (o->key == key && o->region == region) {
            o->requests++;
            slate_stats_add(o->stats, latency_ns);
            return;
        }
    }
    p->drops.outbound_overflowed++;
}

/* ------------------------------------------------------------------------- */
/* Reporting                                                                 */

slate_status proxy_report(proxy_t *p, uint64_t now_ns, const uint8_t **out, size_t *out_len)
{
    slate_inbound_t in[PROXY_MAX_ENDPOINTS];
    slate_outbound_t ob[PROXY_MAX_OUTBOUND];
    slate_span_t sp[PROXY_MAX_SPANS];
    slate_endpoint_load_t loads[PROXY_MAX_SPANS]; /* per span: its endpoint's load at arrival */
    slate_load_report_t rep = {0};
    rep.service = slate_str(p->cfg.service);
    rep.region = slate_str(p->cfg.regions[p->cfg.local_region]);
    rep.pod = slate_str(p->cfg.pod);
    rep.sequence = p->sequence + 1;
    rep.time_ns = now_ns;
    rep.interval_ns = now_ns - p->last_report_ns;
    rep.drops = p->drops;

    rep.inbound = in;
    for (size_t i = 0; i < PROXY_MAX_ENDPOINTS; i++) {
        const endpoint_t *e = &p->endpoints[i];
        if (e->rate == NULL)
            continue;
        slate_inbound_t *x = &in[rep.n_inbound++];
        memset(x, 0, sizeof *x);
        x->method = slate_str(e->method);
        x->path = slate_str(e->path);
        x->requests = e->requests;
        x->rate_rps = slate_rate_per_second(e->rate, now_ns); /* reads, never writes */
        x->in_flight = e->in_flight;
        slate_latency_from_stats(&x->latency, e->stats); /* points into e->stats */
    }
    rep.outbound = ob;
    for (size_t i = 0; i < PROXY_MAX_OUTBOUND && p->outbound[i].stats != NULL; i++) {
        const outbound_t *o = &p->outbound[i];
        slate_outbound_t *x = &ob[rep.n_outbound++];
        memset(x, 0, sizeof *x);
        x->dst_service = slate_str(o->service);
        x->method = slate_str(o->method);
        x->path = slate_str(o->path);
        x->dst_region = slate_str(p->cfg.regions[o->region]);
        x->requests = o->requests;
        slate_latency_from_stats(&x->latency, o->stats);
    }
    rep.spans = sp;
    rep.n_spans = p->n_spans;
    for (size_t i = 0; i < p->n_spans; i++) {
        const span_t *s = &p->spans[i];
        const endpoint_t *e = &p->endpoints[s->req.endpoint];
        memset(&sp[i], 0, sizeof sp[i]);
        sp[i].trace_id = slate_str(s->req.trace_id);
        sp[i].span_id = slate_str(s->span_id);
        sp[i].parent_span_id = slate_str(s->req.parent_id);
        sp[i].method = slate_str(e->method);
        sp[i].path = slate_str(e->path);
        sp[i].start_ns = s->req.start_ns;
        sp[i].end_ns = s->end_ns;
        loads[i] = (slate_endpoint_load_t){sp[i].method, sp[i].path, s->req.rps_at_arrival,
                                           s->req.in_flight_at_arrival};
        sp[i].load = &loads[i];
        sp[i].n_load = 1;
    }

    size_t len = 0;
    slate_codec_error_t err;
    slate_status st = slate_load_report_encode(&rep, p->report_buf, p->report_cap, &len, &err);
    if (st == SLATE_ENOSPC && len <= PROXY_MAX_REPORT) {
        /* The encoder measured the whole report: grow to exactly that and encode again. */
        uint8_t *bigger = realloc(p->report_buf, len);
        if (bigger != NULL) {
            printf("proxy: report buffer grown from %zu to %zu bytes\n", p->report_cap, len);
            p->report_buf = bigger;
            p->report_cap = len;
            st = slate_load_report_encode(&rep, p->report_buf, p->report_cap, &len, &err);
        }
    }
    if (st != SLATE_OK) {
        /* ENOSPC (too large), EUTF8 (a name is not UTF-8), EVALUE: the error names the field. */
        char msg[256];
        slate_codec_error_format(&err, msg, sizeof msg);
        printf("proxy: report not sent, the next one covers this interval too: %s\n", msg);
        if (st == SLATE_ENOSPC)
            p->drops.post_failed_too_large++;
        return st;
    }
    /* Sent: start the next interval. Rate estimators are never reset; their window slides. */
    p->sequence++;
    p->last_report_ns = now_ns;
    p->n_spans = 0;
    for (size_t i = 0; i < PROXY_MAX_ENDPOINTS; i++)
        if (p->endpoints[i].rate != NULL) {
            slate_stats_init(p->endpoints[i].stats);
            p->endpoints[i].requests = 0;
        }
    for (size_t i = 0; i < PROXY_MAX_OUTBOUND && p->outbound[i].stats != NULL; i++) {
        slate_stats_init(p->outbound[i].stats);
        p->outbound[i].requests = 0;
    }
    *out = p->report_buf;
    *out_len = len;
    return SLATE_OK;
}

/* ------------------------------------------------------------------------- */
/* Taking rules                                                              */

static uint16_t region_id(const proxy_t *p, slate_str_t name)
{
    for (uint16_t i = 0; i < p->cfg.n_regions; i++)
        if (str_is(name, p->cfg.regions[i]))
            return i;
    return SLATE_REGION_NONE;
}

/* Compile the rules for this proxy's region into `next` with the core; nothing
 * is published here. Every region the rules name must be one this proxy knows. */
static slate_status compile_rules(proxy_t *p, const slate_routing_rules_t *rr, ruleset_t *next)
{
    slate_ruleset_compile_params_t cp = {
        .service = p->cfg.service,
        .region = p->cfg.regions[p->cfg.local_region],
        .max_regions = p->cfg.n_regions,
        .max_rules = PROXY_MAX_ROUTES,
        .max_name = SLATE_KEY_MAX_NAME,
        .max_method = SLATE_KEY_MAX_NAME,
        .max_path = SLATE_KEY_MAX_PATH,
        .caller_rate = NULL, /* rules per calling endpoint mix equally here */
    };
    size_t slen = slate_ruleset_compile_scratch(rr->n_rules, cp.max_regions);
    void *scratch = malloc(slen);
    if (scratch == NULL)
        return SLATE_ENOSPC;
    const char *why = NULL;
    slate_status st = slate_ruleset_compile(rr, &cp, scratch, slen, NULL, 0, &next->len, &why);
    if (st == SLATE_ENOSPC && (next->blob = malloc(next->len)) != NULL)
        st = slate_ruleset_compile(rr, &cp, scratch, slen, next->blob, next->len, &next->len, &why);
    free(scratch);
    if (st != SLATE_OK) {
        printf("proxy: rules rejected: %s: %s\n", slate_status_name(st), why ? why : "");
        return st;
    }
    slate_ruleset_info_t info;
    slate_ruleset_info(next->blob, &info);
    for (uint16_t id = 0; id < info.n_regions; id++) {
        const char *name = slate_ruleset_region_name(next->blob, id);
        uint16_t cfg = region_id(p, slate_str(name));
        if (cfg == SLATE_REGION_NONE) {
            printf("proxy: rules name unknown region \"%s\"\n", name);
            return SLATE_ERANGE;
        }
        next->cfg_region[id] = cfg;
    }
    return SLATE_OK;
}

slate_status proxy_apply_rules(proxy_t *p, const uint8_t *buf, size_t len, uint64_t now_ns)
{
    /* Tighter than the defaults: a proxy's answer is small, and the network is not trusted. */
    const slate_codec_limits_t lim = {4, 1024, 512, 256 * 1024};
    slate_routing_rules_t rr;
    slate_codec_error_t err;
    slate_status st;
    for (;;) {
        memset(&rr, 0, sizeof rr);
        rr.rules = p->dec_rules;
        rr.cap_rules = p->cap_rules;
        rr.targets = p->dec_targets;
        rr.cap_targets = p->cap_targets;
        st = slate_routing_rules_decode(&rr, buf, len, &lim, &err);
        if (st != SLATE_ENOSPC)
            break;
        /* More rules or targets than the arrays hold: n_* says how many. Grow, decode again. */
        if (rr.n_rules <= p->cap_rules && rr.n_targets <= p->cap_targets)
            break; /* not a short array after all: report it as it is */
        if (rr.n_rules > p->cap_rules) {
            slate_rule_t *rules = realloc(p->dec_rules, rr.n_rules * sizeof *rules);
            if (rules == NULL)
                break; /* st is still SLATE_ENOSPC, and err names the array */
            p->dec_rules = rules;
            p->cap_rules = rr.n_rules;
        }
        if (rr.n_targets > p->cap_targets) {
            slate_route_target_t *targets = realloc(p->dec_targets, rr.n_targets * sizeof *targets);
            if (targets == NULL)
                break;
            p->dec_targets = targets;
            p->cap_targets = rr.n_targets;
        }
    }
    uint64_t current = p->rules ? p->rules->version : 0;
    if (st != SLATE_OK) {
        char msg[256];
        slate_codec_error_format(&err, msg, sizeof msg);
        printf("proxy: rules rejected, keeping version %llu: %s\n", (unsigned long long)current,
               msg);
        p->drops.rules_rejected++;
        return st;
    }
    /* An expiry on our own clock: the controller's generated_ns is on another machine's. */
    uint64_t expires = rr.ttl_ns == 0 || rr.ttl_ns > UINT64_MAX - now_ns ? 0 : now_ns + rr.ttl_ns;
    if (p->rules != NULL && rr.version <= current) {
        /* The same rules again refresh the expiry; older ones are a reordered answer. */
        if (rr.version == current)
            p->rules->expires_ns = expires;
        return SLATE_OK;
    }
    ruleset_t *next = calloc(1, sizeof *next);
    if (next == NULL)
        return SLATE_ENOSPC;
    /* Compile everything into new memory first: a rejected answer leaves the
     * running tables untouched, and no worker ever sees a half-built set. */
    st = compile_rules(p, &rr, next);
    if (st != SLATE_OK) {
        ruleset_free(next);
        printf("proxy: rules version %llu rejected, keeping version %llu\n",
               (unsigned long long)rr.version, (unsigned long long)current);
        p->drops.rules_rejected++;
        return st;
    }
    next->version = rr.version;
    next->expires_ns = expires;
    /* Publish with one pointer store. Workers in other threads would need an atomic
     * store (or, in proxy-wasm, the tables copied through shared data with a version). */
    ruleset_free(p->rules);
    p->rules = next;
    slate_ruleset_info_t info;
    slate_ruleset_info(next->blob, &info);
    printf("proxy: rules version %llu in force (%u routes)\n", (unsigned long long)next->version,
           (unsigned)info.n_rules);
    return SLATE_OK;
}
