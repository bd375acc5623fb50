/*
 * Test helpers around protobuf-c; see pc_bridge.h.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "pc_bridge.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bridge_arena_init(bridge_arena_t *a, size_t cap)
{
    a->mem = malloc(cap);
    a->cap = a->mem ? cap : 0;
    a->used = 0;
}

void bridge_arena_reset(bridge_arena_t *a)
{
    a->used = 0;
}

void bridge_arena_free(bridge_arena_t *a)
{
    free(a->mem);
    a->mem = NULL;
    a->cap = a->used = 0;
}

void *bridge_alloc(bridge_arena_t *a, size_t n)
{
    size_t at = (a->used + 15) & ~(size_t)15;
    if (at + n > a->cap) {
        fprintf(stderr, "bridge arena exhausted (%zu of %zu bytes)\n", at + n, a->cap);
        abort();
    }
    a->used = at + n;
    memset(a->mem + at, 0, n);
    return a->mem + at;
}

static char *dup_str(bridge_arena_t *a, slate_str_t s)
{
    if (s.len == 0)
        return (char *)protobuf_c_empty_string;
    char *p = bridge_alloc(a, s.len + 1);
    memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

static slate_stats_t g_stats; /* scratch for histogram counts */

static bool latency_default(const slate_latency_t *l)
{
    uint64_t m, v;
    memcpy(&m, &l->mean_ns, 8);
    memcpy(&v, &l->m2, 8);
    return l->count == 0 && l->sum_ns == 0 && l->min_ns == 0 && l->max_ns == 0 && m == 0 &&
           v == 0 && l->hist_offset == 0 && l->hist_len == 0;
}

static Slate__V1__LatencyStats *latency_to_pc(bridge_arena_t *a, const slate_latency_t *l)
{
    if (latency_default(l))
        return NULL;
    Slate__V1__LatencyStats *p = bridge_alloc(a, sizeof *p);
    slate__v1__latency_stats__init(p);
    p->count = l->count;
    p->sum_ns = l->sum_ns;
    p->min_ns = l->min_ns;
    p->max_ns = l->max_ns;
    p->mean_ns = l->mean_ns;
    p->m2 = l->m2;
    p->hist_offset = l->hist_offset;
    p->n_hist_counts = l->hist_len;
    if (l->hist_len) {
        if (slate_latency_to_stats(l, &g_stats) != SLATE_OK)
            abort();
        p->hist_counts = bridge_alloc(a, l->hist_len * sizeof(uint32_t));
        memcpy(p->hist_counts, g_stats.hist + l->hist_offset, l->hist_len * sizeof(uint32_t));
    }
    return p;
}

#define ALLOC_ARRAY(a, T, n) ((n) ? bridge_alloc((a), (n) * sizeof(T)) : NULL)

Slate__V1__LoadReport *bridge_report_to_pc(bridge_arena_t *a, const slate_load_report_t *r)
{
    Slate__V1__LoadReport *p = bridge_alloc(a, sizeof *p);
    slate__v1__load_report__init(p);
    p->service = dup_str(a, r->service);
    p->region = dup_str(a, r->region);
    p->pod = dup_str(a, r->pod);
    p->sequence = r->sequence;
    p->time_ns = r->time_ns;
    p->interval_ns = r->interval_ns;
    p->n_inbound = r->n_inbound;
    p->inbound = ALLOC_ARRAY(a, void *, r->n_inbound);
    for (size_t i = 0; i < r->n_inbound; i++) {
        const slate_inbound_t *s = &r->inbound[i];
        Slate__V1__InboundLoad *e = bridge_alloc(a, sizeof *e);
        slate__v1__inbound_load__init(e);
        e->method = dup_str(a, s->method);
        e->path = dup_str(a, s->path);
        e->requests = s->requests;
        e->rate_rps = s->rate_rps;
        e->in_flight = s->in_flight;
        e->latency = latency_to_pc(a, &s->latency);
        p->inbound[i] = e;
    }
    p->n_outbound = r->n_outbound;
    p->outbound = ALLOC_ARRAY(a, void *, r->n_outbound);
    for (size_t i = 0; i < r->n_outbound; i++) {
        const slate_outbound_t *s = &r->outbound[i];
        Slate__V1__OutboundLoad *e = bridge_alloc(a, sizeof *e);
        slate__v1__outbound_load__init(e);
        e->dst_service = dup_str(a, s->dst_service);
        e->method = dup_str(a, s->method);
        e->path = dup_str(a, s->path);
        e->dst_region = dup_str(a, s->dst_region);
        e->requests = s->requests;
        e->latency = latency_to_pc(a, &s->latency);
        p->outbound[i] = e;
    }
    p->n_spans = r->n_spans;
    p->spans = ALLOC_ARRAY(a, void *, r->n_spans);
    for (size_t i = 0; i < r->n_spans; i++) {
        const slate_span_t *s = &r->spans[i];
        Slate__V1__Span *e = bridge_alloc(a, sizeof *e);
        slate__v1__span__init(e);
        e->trace_id = dup_str(a, s->trace_id);
        e->span_id = dup_str(a, s->span_id);
        e->parent_span_id = dup_str(a, s->parent_span_id);
        e->method = dup_str(a, s->method);
        e->path = dup_str(a, s->path);
        e->start_ns = s->start_ns;
        e->end_ns = s->end_ns;
        e->body_size = s->body_size;
        e->n_load = s->n_load;
        e->load = ALLOC_ARRAY(a, void *, s->n_load);
        for (size_t k = 0; k < s->n_load; k++) {
            const slate_endpoint_load_t *sl = &s->load[k];
            Slate__V1__EndpointLoad *l = bridge_alloc(a, sizeof *l);
            slate__v1__endpoint_load__init(l);
            l->method = dup_str(a, sl->method);
            l->path = dup_str(a, sl->path);
            l->rps = sl->rps;
            l->in_flight = sl->in_flight;
            e->load[k] = l;
        }
        p->spans[i] = e;
    }
    const slate_drops_t *d = &r->drops;
    static const slate_drops_t zero;
    if (memcmp(d, &zero, sizeof zero) != 0) {
        Slate__V1__Drops *e = bridge_alloc(a, sizeof *e);
        slate__v1__drops__init(e);
        e->spans_dropped = d->spans_dropped;
        e->endpoints_overflowed = d->endpoints_overflowed;
        e->outbound_overflowed = d->outbound_overflowed;
        e->late_stamps = d->late_stamps;
        e->post_failed_network = d->post_failed_network;
        e->post_failed_timeout = d->post_failed_timeout;
        e->post_failed_status = d->post_failed_status;
        e->post_failed_too_large = d->post_failed_too_large;
        e->rules_rejected = d->rules_rejected;
        e->counters_saturated = d->counters_saturated;
        p->drops = e;
    }
    return p;
}

Slate__V1__RoutingRules *bridge_rules_to_pc(bridge_arena_t *a, const slate_routing_rules_t *r)
{
    Slate__V1__RoutingRules *p = bridge_alloc(a, sizeof *p);
    slate__v1__routing_rules__init(p);
    p->version = r->version;
    p->ttl_ns = r->ttl_ns;
    p->generated_ns = r->generated_ns;
    p->n_rules = r->n_rules;
    p->rules = ALLOC_ARRAY(a, void *, r->n_rules);
    for (size_t i = 0; i < r->n_rules; i++) {
        const slate_rule_t *s = &r->rules[i];
        Slate__V1__Rule *e = bridge_alloc(a, sizeof *e);
        slate__v1__rule__init(e);
        e->src_region = dup_str(a, s->src_region);
        e->dst_service = dup_str(a, s->dst_service);
        e->method = dup_str(a, s->method);
        e->path = dup_str(a, s->path);
        e->src_service = dup_str(a, s->src_service);
        e->src_method = dup_str(a, s->src_method);
        e->src_path = dup_str(a, s->src_path);
        e->n_targets = s->n_targets;
        e->targets = ALLOC_ARRAY(a, void *, s->n_targets);
        for (size_t k = 0; k < s->n_targets; k++) {
            Slate__V1__WeightedRegion *t = bridge_alloc(a, sizeof *t);
            slate__v1__weighted_region__init(t);
            t->region = dup_str(a, s->targets[k].region);
            t->weight = s->targets[k].weight;
            e->targets[k] = t;
        }
        p->rules[i] = e;
    }
    return p;
}

/* ------------------------------------------------------------------------- */
/* Field-by-field comparison. */

static char g_where[256];

#define DIFF(...)                                                                                  \
    do {                                                                                           \
        snprintf(g_where, sizeof g_where, __VA_ARGS__);                                            \
        return g_where;                                                                            \
    } while (0)

static bool str_same(const char *pc, slate_str_t v)
{
    if (!pc)
        return false;
    size_t z = 0;
    while (z < v.len && v.ptr[z] != '\0')
        z++;
    return strlen(pc) == z && (z == 0 || memcmp(pc, v.ptr, z) == 0);
}

static bool dbl_same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static const char *latency_diff(const Slate__V1__LatencyStats *p, const slate_latency_t *l,
                                const char *where)
{
    if (!p) {
        if (!latency_default(l))
            DIFF("%s: absent in protobuf-c, set in libslate", where);
        return NULL;
    }
    if (p->count != l->count || p->sum_ns != l->sum_ns || p->min_ns != l->min_ns ||
        p->max_ns != l->max_ns)
        DIFF("%s: count/sum/min/max", where);
    if (!dbl_same(p->mean_ns, l->mean_ns) || !dbl_same(p->m2, l->m2))
        DIFF("%s: mean_ns/m2", where);
    if (p->hist_offset != l->hist_offset)
        DIFF("%s.hist_offset: %u vs %u", where, p->hist_offset, l->hist_offset);
    if (p->n_hist_counts != l->hist_len)
        DIFF("%s.hist_counts: %zu vs %u counts", where, p->n_hist_counts, l->hist_len);
    if (l->hist_len) {
        if (slate_latency_to_stats(l, &g_stats) != SLATE_OK)
            DIFF("%s: slate_latency_to_stats failed", where);
        for (size_t k = 0; k < l->hist_len; k++)
            if (p->hist_counts[k] != g_stats.hist[l->hist_offset + k])
                DIFF("%s.hist_counts[%zu]", where, k);
    }
    return NULL;
}

const char *bridge_report_diff(const Slate__V1__LoadReport *p, const slate_load_report_t *r)
{
    char w[96];
    if (!str_same(p->service, r->service))
        DIFF("service");
    if (!str_same(p->region, r->region))
        DIFF("region");
    if (!str_same(p->pod, r->pod))
        DIFF("pod");
    if (p->sequence != r->sequence || p->time_ns != r->time_ns || p->interval_ns != r->interval_ns)
        DIFF("sequence/time_ns/interval_ns");
    if (p->n_inbound != r->n_inbound)
        DIFF("inbound: %zu vs %zu", p->n_inbound, r->n_inbound);
    for (size_t i = 0; i < r->n_inbound; i++) {
        const Slate__V1__InboundLoad *e = p->inbound[i];
        const slate_inbound_t *s = &r->inbound[i];
        if (!str_same(e->method, s->method) || !str_same(e->path, s->path))
            DIFF("inbound[%zu].method/path", i);
        if (e->requests != s->requests || e->in_flight != s->in_flight ||
            !dbl_same(e->rate_rps, s->rate_rps))
            DIFF("inbound[%zu].requests/in_flight/rate_rps", i);
        snprintf(w, sizeof w, "inbound[%zu].latency", i);
        const char *d = latency_diff(e->latency, &s->latency, w);
        if (d)
            return d;
    }
    if (p->n_outbound != r->n_outbound)
        DIFF("outbound: %zu vs %zu", p->n_outbound, r->n_outbound);
    for (size_t i = 0; i < r->n_outbound; i++) {
        const Slate__V1__OutboundLoad *e = p->outbound[i];
        const slate_outbound_t *s = &r->outbound[i];
        if (!str_same(e->dst_service, s->dst_service) || !str_same(e->method, s->method) ||
            !str_same(e->path, s->path) || !str_same(e->dst_region, s->dst_region))
            DIFF("outbound[%zu] strings", i);
        if (e->requests != s->requests)
            DIFF("outbound[%zu].requests", i);
        snprintf(w, sizeof w, "outbound[%zu].latency", i);
        const char *d = latency_diff(e->latency, &s->latency, w);
        if (d)
            return d;
    }
    if (p->n_spans != r->n_spans)
        DIFF("spans: %zu vs %zu", p->n_spans, r->n_spans);
    for (size_t i = 0; i < r->n_spans; i++) {
        const Slate__V1__Span *e = p->spans[i];
        const slate_span_t *s = &r->spans[i];
        if (!str_same(e->trace_id, s->trace_id) || !str_same(e->span_id, s->span_id) ||
            !str_same(e->parent_span_id, s->parent_span_id) || !str_same(e->method, s->method) ||
            !str_same(e->path, s->path))
            DIFF("spans[%zu] strings", i);
        if (e->start_ns != s->start_ns || e->end_ns != s->end_ns || e->body_size != s->body_size)
            DIFF("spans[%zu] numbers", i);
        if (e->n_load != s->n_load)
            DIFF("spans[%zu].load: %zu vs %zu", i, e->n_load, s->n_load);
        for (size_t k = 0; k < s->n_load; k++) {
            const Slate__V1__EndpointLoad *pl = e->load[k];
            const slate_endpoint_load_t *sl = &s->load[k];
            if (!str_same(pl->method, sl->method) || !str_same(pl->path, sl->path) ||
                !dbl_same(pl->rps, sl->rps) || pl->in_flight != sl->in_flight)
                DIFF("spans[%zu].load[%zu]", i, k);
        }
    }
    const slate_drops_t *d = &r->drops;
    if (!p->drops) {
        static const slate_drops_t zero;
        if (memcmp(d, &zero, sizeof zero) != 0)
            DIFF("drops: absent in protobuf-c");
    } else {
        const Slate__V1__Drops *e = p->drops;
        if (e->spans_dropped != d->spans_dropped ||
            e->endpoints_overflowed != d->endpoints_overflowed ||
            e->outbound_overflowed != d->outbound_overflowed || e->late_stamps != d->late_stamps ||
            e->post_failed_network != d->post_failed_network ||
            e->post_failed_timeout != d->post_failed_timeout ||
            e->post_failed_status != d->post_failed_status ||
            e->post_failed_too_large != d->post_failed_too_large ||
            e->rules_rejected != d->rules_rejected ||
            e->counters_saturated != d->counters_saturated)
            DIFF("drops");
    }
    return NULL;
}

const char *bridge_rules_diff(const Slate__V1__RoutingRules *p, const slate_routing_rules_t *r)
{
    if (p->version != r->version || p->ttl_ns != r->ttl_ns || p->generated_ns != r->generated_ns)
        DIFF("version/ttl_ns/generated_ns");
    if (p->n_rules != r->n_rules)
        DIFF("rules: %zu vs %zu", p->n_rules, r->n_rules);
    for (size_t i = 0; i < r->n_rules; i++) {
        const Slate__V1__Rule *e = p->rules[i];
        const slate_rule_t *s = &r->rules[i];
        if (!str_same(e->src_region, s->src_region) || !str_same(e->dst_service, s->dst_service) ||
            !str_same(e->method, s->method) || !str_same(e->path, s->path) ||
            !str_same(e->src_service, s->src_service) || !str_same(e->src_method, s->src_method) ||
            !str_same(e->src_path, s->src_path))
            DIFF("rules[%zu] strings", i);
        if (e->n_targets != s->n_targets)
            DIFF("rules[%zu].targets: %zu vs %zu", i, e->n_targets, s->n_targets);
        for (size_t k = 0; k < s->n_targets; k++)
            if (!str_same(e->targets[k]->region, s->targets[k].region) ||
                e->targets[k]->weight != s->targets[k].weight)
                DIFF("rules[%zu].targets[%zu]", i, k);
    }
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Random messages. */

uint64_t bridge_rand(bridge_rng_t *g)
{
    /* splitmix64 */
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t upto(bridge_rng_t *g, size_t n)
{
    return n ? (size_t)(bridge_rand(g) % (n + 1)) : 0;
}

static uint64_t rnd_u64(bridge_rng_t *g, int extreme)
{
    switch (bridge_rand(g) % 6) {
    case 0:
        return 0;
    case 1:
        return bridge_rand(g) % 128;
    case 2:
        return bridge_rand(g) % 100000;
    case 3:
        return extreme ? UINT64_MAX : bridge_rand(g) >> 20;
    case 4:
        return bridge_rand(g) >> (bridge_rand(g) % 64);
    default:
        return bridge_rand(g);
    }
}

static double rnd_double_(bridge_rng_t *g, int extreme)
{
    if (extreme) {
        static const double odd[] = {DBL_MAX, -DBL_MAX, DBL_MIN, 4.9e-324, -0.0, 1e308, 1e-300};
        switch (bridge_rand(g) % 8) {
        case 0:
            return odd[bridge_rand(g) % (sizeof odd / sizeof odd[0])];
        case 1: {
            uint64_t u = bridge_rand(g); /* any bit pattern, NaNs and infinities included */
            double d;
            memcpy(&d, &u, 8);
            return d;
        }
        case 2:
            return INFINITY;
        default:
            break;
        }
    }
    switch (bridge_rand(g) % 4) {
    case 0:
        return 0.0;
    case 1:
        return (double)(bridge_rand(g) % 10000);
    default:
        return (double)(bridge_rand(g) % 1000000000) / 1024.0;
    }
}

static int g_neg_zero;

static double rnd_double(bridge_rng_t *g, int extreme)
{
    double d = rnd_double_(g, extreme);
    uint64_t u;
    memcpy(&u, &d, 8);
    if (u == 0x8000000000000000ull && !g_neg_zero)
        d = 0.0;
    return d;
}

static bool negz(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u == 0x8000000000000000ull;
}

bool bridge_report_has_negzero(const slate_load_report_t *r)
{
    for (size_t i = 0; i < r->n_inbound; i++)
        if (negz(r->inbound[i].rate_rps) || negz(r->inbound[i].latency.mean_ns) ||
            negz(r->inbound[i].latency.m2))
            return true;
    for (size_t i = 0; i < r->n_outbound; i++)
        if (negz(r->outbound[i].latency.mean_ns) || negz(r->outbound[i].latency.m2))
            return true;
    for (size_t i = 0; i < r->n_spans; i++)
        for (size_t k = 0; k < r->spans[i].n_load; k++)
            if (negz(r->spans[i].load[k].rps))
                return true;
    return false;
}

static slate_str_t rnd_str(bridge_rng_t *g, bridge_arena_t *a, size_t max)
{
    static const char *const pieces[] = {"GET",
                                         "POST",
                                         "/cart",
                                         "/",
                                         "us-west-1",
                                         "frontend",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "a",
                                         "0123456789abcdef",
                                         "-",
                                         "_",
                                         "?q=1"};
    size_t want = upto(g, max);
    if (bridge_rand(g) % 4 == 0)
        want = upto(g, 8 < max ? 8 : max);
    if (want == 0)
        return (slate_str_t){NULL, 0};
    char *p = bridge_alloc(a, want);
    size_t n = 0;
    for (;;) {
        const char *piece = pieces[bridge_rand(g) % (sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(piece);
        if (n + pl > want)
            break;
        memcpy(p + n, piece, pl);
        n += pl;
    }
    while (n < want) /* pad with ASCII to hit exact lengths, limits included */
        p[n++] = (char)('a' + bridge_rand(g) % 26);
    return (slate_str_t){p, n};
}

static void rnd_latency(bridge_rng_t *g, bridge_arena_t *a, int ex, slate_latency_t *l)
{
    memset(l, 0, sizeof *l);
    if (bridge_rand(g) % 5 == 0)
        return; /* absent */
    l->count = rnd_u64(g, ex);
    l->sum_ns = rnd_u64(g, ex);
    l->min_ns = rnd_u64(g, ex);
    l->max_ns = rnd_u64(g, ex);
    l->mean_ns = rnd_double(g, ex);
    l->m2 = rnd_double(g, ex);
    if (bridge_rand(g) % 4) {
        uint32_t off = (uint32_t)(bridge_rand(g) % SLATE_HIST_BUCKETS);
        uint32_t len = (uint32_t)upto(g, SLATE_HIST_BUCKETS - off);
        if (bridge_rand(g) % 2)
            len = len % 40;
        uint32_t *h = bridge_alloc(a, (len ? len : 1) * sizeof *h);
        for (uint32_t k = 0; k < len; k++)
            h[k] = (uint32_t)(bridge_rand(g) % 3 == 0 ? 0 : rnd_u64(g, ex));
        l->hist_offset = off;
        l->hist_len = len;
        l->hist = h;
    }
}

void bridge_random_report(bridge_rng_t *g, bridge_arena_t *a, const bridge_gen_t *o,
                          slate_load_report_t *r)
{
    int ex = o->extreme_values;
    g_neg_zero = o->neg_zero;
    memset(r, 0, sizeof *r);
    r->service = rnd_str(g, a, o->max_string);
    r->region = rnd_str(g, a, o->max_string);
    r->pod = rnd_str(g, a, o->max_string);
    r->sequence = rnd_u64(g, ex);
    r->time_ns = rnd_u64(g, ex);
    r->interval_ns = rnd_u64(g, ex);
    r->n_inbound = upto(g, o->max_inbound);
    r->inbound = bridge_alloc(a, (r->n_inbound + 1) * sizeof *r->inbound);
    for (size_t i = 0; i < r->n_inbound; i++) {
        slate_inbound_t *e = &r->inbound[i];
        e->method = rnd_str(g, a, o->max_string);
        e->path = rnd_str(g, a, o->max_string);
        e->requests = rnd_u64(g, ex);
        e->rate_rps = rnd_double(g, ex);
        e->in_flight = rnd_u64(g, ex);
        rnd_latency(g, a, ex, &e->latency);
    }
    r->n_outbound = upto(g, o->max_outbound);
    r->outbound = bridge_alloc(a, (r->n_outbound + 1) * sizeof *r->outbound);
    for (size_t i = 0; i < r->n_outbound; i++) {
        slate_outbound_t *e = &r->outbound[i];
        e->dst_service = rnd_str(g, a, o->max_string);
        e->method = rnd_str(g, a, o->max_string);
        e->path = rnd_str(g, a, o->max_string);
        e->dst_region = rnd_str(g, a, o->max_string);
        e->requests = rnd_u64(g, ex);
        rnd_latency(g, a, ex, &e->latency);
    }
    r->n_spans = upto(g, o->max_spans);
    r->spans = bridge_alloc(a, (r->n_spans + 1) * sizeof *r->spans);
    for (size_t i = 0; i < r->n_spans; i++) {
        slate_span_t *e = &r->spans[i];
        e->trace_id = rnd_str(g, a, o->max_string);
        e->span_id = rnd_str(g, a, o->max_string);
        e->parent_span_id = rnd_str(g, a, o->max_string);
        e->method = rnd_str(g, a, o->max_string);
        e->path = rnd_str(g, a, o->max_string);
        e->start_ns = rnd_u64(g, ex);
        e->end_ns = rnd_u64(g, ex);
        e->body_size = rnd_u64(g, ex);
        e->n_load = upto(g, o->max_loads);
        e->load = bridge_alloc(a, (e->n_load + 1) * sizeof *e->load);
        for (size_t k = 0; k < e->n_load; k++) {
            e->load[k].method = rnd_str(g, a, o->max_string);
            e->load[k].path = rnd_str(g, a, o->max_string);
            e->load[k].rps = rnd_double(g, ex);
            e->load[k].in_flight = rnd_u64(g, ex);
        }
    }
    if (bridge_rand(g) % 2) {
        uint64_t *d = (uint64_t *)&r->drops;
        for (size_t k = 0; k < sizeof r->drops / sizeof(uint64_t); k++)
            d[k] = rnd_u64(g, ex);
    }
}

void bridge_random_rules(bridge_rng_t *g, bridge_arena_t *a, const bridge_gen_t *o,
                         slate_routing_rules_t *r)
{
    int ex = o->extreme_values;
    memset(r, 0, sizeof *r);
    r->version = rnd_u64(g, ex);
    r->ttl_ns = rnd_u64(g, ex);
    r->generated_ns = rnd_u64(g, ex);
    r->n_rules = upto(g, o->max_rules);
    r->rules = bridge_alloc(a, (r->n_rules + 1) * sizeof *r->rules);
    for (size_t i = 0; i < r->n_rules; i++) {
        slate_rule_t *e = &r->rules[i];
        e->src_region = rnd_str(g, a, o->max_string);
        e->dst_service = rnd_str(g, a, o->max_string);
        e->method = rnd_str(g, a, o->max_string);
        e->path = rnd_str(g, a, o->max_string);
        if (bridge_rand(g) % 3 == 0) {
            e->src_service = rnd_str(g, a, o->max_string);
            e->src_method = rnd_str(g, a, o->max_string);
            e->src_path = rnd_str(g, a, o->max_string);
        }
        e->n_targets = upto(g, o->max_targets);
        e->targets = bridge_alloc(a, (e->n_targets + 1) * sizeof *e->targets);
        for (size_t k = 0; k < e->n_targets; k++) {
            e->targets[k].region = rnd_str(g, a, o->max_string);
            e->targets[k].weight =
                (uint32_t)(ex && bridge_rand(g) % 4 == 0 ? UINT32_MAX : bridge_rand(g) % 10001);
        }
    }
}

slate_load_report_t *bridge_report_sink(bridge_report_sink_t *s)
{
    memset(&s->r, 0, sizeof s->r);
    s->r.inbound = s->in;
    s->r.cap_inbound = sizeof s->in / sizeof s->in[0];
    s->r.outbound = s->out;
    s->r.cap_outbound = sizeof s->out / sizeof s->out[0];
    s->r.spans = s->sp;
    s->r.cap_spans = sizeof s->sp / sizeof s->sp[0];
    s->r.span_loads = s->loads;
    s->r.cap_span_loads = sizeof s->loads / sizeof s->loads[0];
    return &s->r;
}

slate_routing_rules_t *bridge_rules_sink(bridge_rules_sink_t *s)
{
    memset(&s->r, 0, sizeof s->r);
    s->r.rules = s->rules;
    s->r.cap_rules = sizeof s->rules / sizeof s->rules[0];
    s->r.targets = s->targets;
    s->r.cap_targets = sizeof s->targets / sizeof s->targets[0];
    return &s->r;
}
