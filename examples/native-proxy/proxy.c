/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * The data-plane half of a native proxy: measure, report, take rules, route.
 * Every libslate status is checked. The rule of thumb: bad input from the
 * network (a malformed answer, impossible weights) is rejected with a log
 * line and the proxy keeps running on what it had; a status that can only
 * mean a bug in this file (an estimator or a meter that is not one) aborts
 * loudly.
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

/* The key of an endpoint, as the ruleset is indexed. */
static slate_status key_of(const char *service, const char *method, const char *path, uint64_t *key)
{
    return slate_endpoint_key(service, strlen(service), method, strlen(method), path, strlen(path),
                              key, NULL);
}

static _Noreturn void fatal(const char *what, slate_status st)
{
    fprintf(stderr, "proxy: %s: %s (%s)\n", what, slate_status_name(st), slate_strerror(st));
    abort();
}

/* The path as endpoints are named here, in the rules and at the controller:
 * query string dropped and ids folded, so "/cart?session=1" and
 * "/cart?session=2" are one endpoint, as are "/items/12" and "/items/13"
 * ("/items/{id}"). A SLATE_PATH_NORM_CAP buffer always holds the result. */
static void normalize(const char *path, char norm[SLATE_PATH_NORM_CAP], size_t *len)
{
    slate_status st = slate_path_normalize(path, strlen(path), norm, SLATE_PATH_NORM_CAP, len);
    if (st != SLATE_OK) /* EINVAL (NULL), ENOSPC (short buffer): a bug here */
        fatal("slate_path_normalize", st);
}

static void hex64(char *out, uint64_t v)
{
    for (int i = 0; i < 16; i++)
        out[i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    out[16] = '\0';
}

static uint64_t sat_inc(uint64_t v)
{
    return v == UINT64_MAX ? v : v + 1;
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
    /* The meter: size it for our limits, give it memory, make it an empty table.
     * malloc's alignment suits any type, so it meets the meter's 8 bytes. */
    const slate_meter_limits_t lim = {PROXY_MAX_ENDPOINTS, PROXY_MAX_OUTBOUND, PROXY_MAX_SPANS};
    size_t meter_len = slate_meter_size(&lim); /* 0: a limit out of range */
    p->meter_mem = meter_len ? malloc(meter_len) : NULL;
    slate_status st = meter_len == 0 ? SLATE_EINVAL
                      : p->meter_mem == NULL
                          ? SLATE_ENOSPC
                          : slate_meter_init(p->meter_mem, meter_len, &lim, &p->meter);
    if (st != SLATE_OK) {
        fprintf(stderr, "proxy: no meter: %s\n", slate_strerror(st));
        proxy_free(p);
        return -1;
    }
    /* 1 s window at 1 ms resolution: 4 KiB per endpoint, exact at any rate. An
     * estimator per inbound entry, made when the meter first gives its id. */
    p->rate_params = slate_rate_params_default();
    p->rate_len = slate_rate_size(&p->rate_params);
    p->n_rates = (size_t)lim.max_inbound + lim.max_outbound;
    p->rates = calloc(p->n_rates, sizeof *p->rates);
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
    if (!p->rates || !p->report_buf || !p->dec_rules || !p->dec_targets) {
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
    for (size_t i = 0; p->rates != NULL && i < p->n_rates; i++)
        free(p->rates[i]);
    free(p->rates);
    free(p->meter_mem); /* the meter is a view of it */
    ruleset_free(p->rules);
    free(p->report_buf);
    free(p->dec_rules);
    free(p->dec_targets);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------------- */
/* Measuring inbound requests                                                */

/* The meter's id of the endpoint, with its rate estimator; 0 when the request
 * is not measured. Such a request is still served, and counted in the drops:
 * the meter counts an endpoint that no longer fits (SLATE_ENOSPC) itself. */
static int endpoint_id(proxy_t *p, const char *method, const char *path, uint32_t *id)
{
    char norm[SLATE_PATH_NORM_CAP];
    size_t nl;
    normalize(path, norm, &nl);
    slate_status st = slate_meter_inbound(p->meter, method, strlen(method), norm, nl, id);
    switch (st) {
    case SLATE_OK:
        break;
    case SLATE_ENOSPC: /* the table is full: counted in endpoints_overflowed */
        return 0;
    case SLATE_ERANGE: { /* a method or path the meter cannot hold: a method that is
                            empty or long, a byte outside printable ASCII */
        slate_drops_t *d = slate_meter_drops(p->meter);
        d->endpoints_overflowed = sat_inc(d->endpoints_overflowed);
        return 0;
    }
    default: /* EINVAL, ECORRUPT: our meter is not one */
        fatal("slate_meter_inbound", st);
    }
    if (p->rates[*id] != NULL)
        return 1;
    /* A new endpoint. malloc's alignment meets SLATE_RATE_ALIGN (8). */
    void *mem = malloc(p->rate_len);
    st = mem ? slate_rate_init(mem, p->rate_len, &p->rate_params) : SLATE_ENOSPC;
    if (st != SLATE_OK) { /* out of memory: try again on its next request */
        free(mem);
        slate_drops_t *d = slate_meter_drops(p->meter);
        d->endpoints_overflowed = sat_inc(d->endpoints_overflowed);
        return 0;
    }
    p->rates[*id] = mem;
    return 1;
}

/* Count an arrival: in the rate estimator, then in the meter (one more request
 * this interval, one more in flight). */
static void measure_arrival(proxy_t *p, uint32_t id, uint64_t now_ns, proxy_request_t *req)
{
    slate_drops_t *d = slate_meter_drops(p->meter);
    slate_status st = slate_rate_add(p->rates[id], now_ns);
    switch (st) {
    case SLATE_OK:
        break;
    case SLATE_ELATE: /* stamped before the window (a stalled thread): not counted */
        d->late_stamps = sat_inc(d->late_stamps);
        break;
    case SLATE_EOVERFLOW: /* 4e9 arrivals in one millisecond: the count is a lower bound */
        d->counters_saturated = sat_inc(d->counters_saturated);
        break;
    default: /* EINVAL, EBADMAGIC: our pointer is not an estimator */
        fatal("slate_rate_add", st);
    }
    /* The meter's rate gauge is as fresh as the last report (we set it there);
     * the estimator is exact now, so only the requests in flight are taken here. */
    st = slate_meter_arrive(p->meter, id, NULL, &req->in_flight_at_arrival);
    if (st != SLATE_OK) /* EINVAL: not an inbound id of our meter */
        fatal("slate_meter_arrive", st);
    req->measured = 1;
    req->entry = id;
}

slate_status proxy_on_request(proxy_t *p, const char *method, const char *path,
                              const char *traceparent, uint64_t now_ns, proxy_request_t *req)
{
    memset(req, 0, sizeof *req);
    req->start_ns = now_ns;
    uint32_t id;
    if (endpoint_id(p, method, path, &id))
        measure_arrival(p, id, now_ns, req);

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
    if (sampled && req->measured) {
        req->sampled = 1;
        req->rps_at_arrival = slate_rate_per_second(p->rates[req->entry], now_ns);
    }
    return SLATE_OK;
}

/* The span of a sampled request, for the meter to keep until the report. */
static void span_of(proxy_t *p, const proxy_request_t *req, uint64_t end_ns, slate_meter_span_t *s)
{
    memset(s, 0, sizeof *s);
    s->entry = req->entry;
    s->trace_len = (uint8_t)strlen(req->trace_id);
    memcpy(s->trace_id, req->trace_id, s->trace_len);
    hex64(s->span_id, slate_rng_next(&p->rng) | 1);
    s->span_len = 16;
    s->parent_len = (uint8_t)strlen(req->parent_id);
    memcpy(s->parent_id, req->parent_id, s->parent_len);
    s->start_ns = req->start_ns;
    s->end_ns = end_ns;
    s->arrival_rps = req->rps_at_arrival;
    s->arrival_in_flight = req->in_flight_at_arrival;
}

void proxy_on_response(proxy_t *p, const proxy_request_t *req, uint64_t now_ns)
{
    if (!req->measured)
        return;
    /* Clocks of different threads can disagree slightly; never record a negative latency. */
    uint64_t end_ns = now_ns > req->start_ns ? now_ns : req->start_ns;
    slate_status st = slate_meter_depart(p->meter, req->entry, end_ns - req->start_ns);
    if (st != SLATE_OK) /* EINVAL: not an inbound id of our meter */
        fatal("slate_meter_depart", st);
    if (!req->sampled)
        return;
    slate_meter_span_t s;
    span_of(p, req, end_ns, &s);
    st = slate_meter_add_span(p->meter, &s);
    if (st != SLATE_OK && st != SLATE_ENOSPC) /* ENOSPC: buffer full, counted in spans_dropped */
        fatal("slate_meter_add_span", st);    /* EINVAL: a span this file built badly */
}

/* ------------------------------------------------------------------------- */
/* Routing outbound calls                                                    */

/* The rules in force, or NULL when there are none or the controller stopped
 * refreshing them (past their expiry: route locally). */
static const ruleset_t *live_rules(const proxy_t *p, uint64_t now_ns)
{
    const ruleset_t *rs = p->rules;
    return rs != NULL && slate_rules_state_at(rs->expiry_ns, now_ns) == SLATE_RULES_LIVE ? rs
                                                                                         : NULL;
}

uint16_t proxy_route(proxy_t *p, const char *service, const char *method, const char *path,
                     uint64_t now_ns)
{
    const ruleset_t *rs = live_rules(p, now_ns);
    if (rs == NULL)
        return p->cfg.local_region;
    char norm[SLATE_PATH_NORM_CAP];
    size_t nl;
    normalize(path, norm, &nl); /* rules name normalised paths */
    /* most specific rule first (exact, any path, any method, any); O(log rules) */
    uint16_t id = slate_ruleset_route(rs->blob, service, strlen(service), method, strlen(method),
                                      norm, nl, NULL, slate_rng_next(&p->rng));
    return id == SLATE_RULESET_NO_REGION ? p->cfg.local_region : rs->cfg_region[id];
}

double proxy_route_share(const proxy_t *p, const char *service, const char *method,
                         const char *path, uint16_t region, uint64_t now_ns)
{
    const ruleset_t *rs = live_rules(p, now_ns);
    char norm[SLATE_PATH_NORM_CAP];
    size_t nl;
    normalize(path, norm, &nl);
    uint64_t key;
    const void *t = NULL;
    if (rs != NULL && key_of(service, method, norm, &key) == SLATE_OK)
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
    char norm[SLATE_PATH_NORM_CAP];
    size_t nl;
    normalize(path, norm, &nl);
    const char *dst = p->cfg.regions[region];
    uint32_t id;
    slate_status st = slate_meter_outbound(p->meter, service, strlen(service), method,
                                           strlen(method), norm, nl, dst, strlen(dst), &id);
    switch (st) {
    case SLATE_OK:
        break;
    case SLATE_ENOSPC: /* the table is full: counted in outbound_overflowed */
        return;
    case SLATE_ERANGE: { /* a name the meter cannot hold (long, empty, not printable) */
        slate_drops_t *d = slate_meter_drops(p->meter);
        d->outbound_overflowed = sat_inc(d->outbound_overflowed);
        return;
    }
    default: /* EINVAL, ECORRUPT: our meter is not one */
        fatal("slate_meter_outbound", st);
    }
    st = slate_meter_complete(p->meter, id, latency_ns);
    if (st != SLATE_OK) /* EINVAL: not an outbound id of our meter */
        fatal("slate_meter_complete", st);
}

/* ------------------------------------------------------------------------- */
/* Reporting                                                                 */

/* Set each inbound endpoint's rate gauge in the meter from its estimator, as
 * of now. The requests in flight are the meter's own count, kept as they are. */
static void set_rates(proxy_t *p, uint64_t now_ns)
{
    uint32_t n = slate_meter_count(p->meter);
    for (uint32_t id = 0; id < n; id++) {
        const slate_meter_entry_t *e = slate_meter_entry(p->meter, id);
        if (e->kind != SLATE_METER_INBOUND || p->rates[id] == NULL)
            continue;
        double rps = slate_rate_per_second(p->rates[id], now_ns); /* reads, never writes */
        slate_status st = slate_meter_set_load(p->meter, id, rps, e->in_flight);
        if (st != SLATE_OK) /* EINVAL: not an inbound id of our meter */
            fatal("slate_meter_set_load", st);
    }
}

static void free_report_mem(slate_meter_report_mem_t *mem)
{
    free(mem->inbound);
    free(mem->outbound);
    free(mem->spans);
    free(mem->loads);
}

/* The measurement part of the report (endpoints, outbound calls, spans), built
 * from the meter into arrays of the sizes it asks for. `rep` points into the
 * meter and `mem` (free it with free_report_mem()); SLATE_ENOSPC when out of memory. */
static slate_status build_report(proxy_t *p, slate_meter_report_mem_t *mem,
                                 slate_load_report_t *rep)
{
    /* Entries are indexed by id: the meter's own array, from id 0. */
    const slate_meter_entry_t *entries = slate_meter_entry(p->meter, 0);
    uint32_t n = slate_meter_count(p->meter), n_spans = 0;
    const slate_meter_span_t *spans = slate_meter_spans(p->meter, &n_spans);
    /* Each span carries its own endpoint's load as it arrived (LOADS_OWN); the
     * other endpoints' gauges are as of now, not as of that arrival. */
    slate_meter_report_need(entries, n, spans, n_spans, SLATE_METER_LOADS_OWN, mem);
    /* + 1: never ask calloc for 0 bytes, which may give NULL. */
    mem->inbound = calloc(mem->cap_inbound + 1, sizeof *mem->inbound);
    mem->outbound = calloc(mem->cap_outbound + 1, sizeof *mem->outbound);
    mem->spans = calloc(mem->cap_spans + 1, sizeof *mem->spans);
    mem->loads = calloc(mem->cap_loads + 1, sizeof *mem->loads);
    if (!mem->inbound || !mem->outbound || !mem->spans || !mem->loads) {
        printf("proxy: report not built (out of memory), the next one covers this interval too\n");
        return SLATE_ENOSPC;
    }
    slate_status st =
        slate_meter_report_from(entries, n, spans, n_spans, SLATE_METER_LOADS_OWN, mem, rep);
    if (st != SLATE_OK) /* EINVAL, ENOSPC: arrays not of the sizes asked for */
        fatal("slate_meter_report_from", st);
    return SLATE_OK;
}

/* Encode into report_buf, growing it once to the size the encoder asks for. */
static slate_status encode_report(proxy_t *p, const slate_load_report_t *rep, size_t *len)
{
    slate_codec_error_t err;
    slate_status st = slate_load_report_encode(rep, p->report_buf, p->report_cap, len, &err);
    if (st == SLATE_ENOSPC && *len <= PROXY_MAX_REPORT) {
        /* The encoder measured the whole report: grow to exactly that and encode again. */
        uint8_t *bigger = realloc(p->report_buf, *len);
        if (bigger != NULL) {
            printf("proxy: report buffer grown from %zu to %zu bytes\n", p->report_cap, *len);
            p->report_buf = bigger;
            p->report_cap = *len;
            st = slate_load_report_encode(rep, p->report_buf, p->report_cap, len, &err);
        }
    }
    if (st != SLATE_OK) {
        /* ENOSPC (too large), EUTF8 (a name is not UTF-8), EVALUE: the error names the field. */
        char msg[256];
        slate_codec_error_format(&err, msg, sizeof msg);
        printf("proxy: report not sent, the next one covers this interval too: %s\n", msg);
        if (st == SLATE_ENOSPC) {
            slate_drops_t *d = slate_meter_drops(p->meter);
            d->post_failed_too_large = sat_inc(d->post_failed_too_large);
        }
    }
    return st;
}

slate_status proxy_report(proxy_t *p, uint64_t now_ns, const uint8_t **out, size_t *out_len)
{
    slate_load_report_t rep = {0};
    rep.service = slate_str(p->cfg.service);
    rep.region = slate_str(p->cfg.regions[p->cfg.local_region]);
    rep.pod = slate_str(p->cfg.pod);
    rep.sequence = p->sequence + 1;
    rep.time_ns = now_ns;
    rep.interval_ns = now_ns - p->last_report_ns;

    set_rates(p, now_ns);
    slate_meter_report_mem_t mem;
    slate_status st = build_report(p, &mem, &rep);
    if (st == SLATE_OK) {
        rep.drops = *slate_meter_drops(p->meter);
        st = encode_report(p, &rep, out_len);
    }
    free_report_mem(&mem);
    if (st != SLATE_OK)
        return st; /* nothing reset: the meter keeps counting into the next report */
    /* Sent: start the next interval (counters and spans reset, gauges kept). 0:
     * the meter must not turn requests / interval into a rate, set_rates() sets
     * it. The estimators are never reset; their window slides. */
    slate_meter_close(p->meter, 0);
    p->sequence++;
    p->last_report_ns = now_ns;
    *out = p->report_buf;
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

static void reject_rules(proxy_t *p)
{
    slate_drops_t *d = slate_meter_drops(p->meter);
    d->rules_rejected = sat_inc(d->rules_rejected);
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
        reject_rules(p);
        return st;
    }
    /* The expiry is on this proxy's own clock, so generated_ns is passed as 0
     * (the deadline is then now + ttl): the controller stamps generated_ns on
     * its machine's unix clock, and this proxy's clock is a monotonic (or
     * simulated) one that no unix time can be compared with. The cost: time
     * an answer spent in transit is not taken off its time to live. */
    uint64_t expiry = slate_rules_expiry(0, rr.ttl_ns, now_ns, 0);
    if (slate_rules_renews(p->rules != NULL, current, rr.version)) {
        /* The rules in force again: only their time to live is renewed. */
        p->rules->expiry_ns = expiry;
        return SLATE_OK;
    }
    /* Any other version replaces them, a lower one too: a controller that
     * restarted counts from 1 again. */
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
        reject_rules(p);
        return st;
    }
    next->version = rr.version;
    next->expiry_ns = expiry;
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
