/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The reporter role: the root context of the singleton service VM (Envoy's
 * bootstrap `wasm` service with `singleton: true`, on the main thread).
 *
 * Every tick it
 *   1. renews its lease in shared data (compare-and-swap), so that even a
 *      misconfiguration that starts two reporters yields one report per tick;
 *   2. drains the workers' batches from the shared queue and merges them;
 *   3. encodes a LoadReport (protobuf, or SLATE's legacy text) and posts it to
 *      the controller with proxy_http_call (one call in flight at most).
 * The controller's answer carries RoutingRules: decoded, validated, compiled
 * into sampler tables and published in shared data with a new version.
 * Failures (network, timeout, non-2xx, oversized or malformed body) keep the
 * last good rules until they expire, are logged once per kind until a success,
 * and are counted in the next report's Drops.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#ifdef SW_BUILD_SIDECAR
/* In the sidecar module this file is the reporter half of every root
 * context that names a controller; sidecar.c calls these under these names. */
#define sw_role_configure     sw_reporter_configure
#define sw_role_tick          sw_reporter_tick
#define sw_role_queue_ready   sw_reporter_queue_ready
#define sw_role_http_response sw_reporter_http_response
#endif
#include "bytes.h"
#include "module.h"
#include "slate/ruleset.h"
#include "slate/codec.h"
#include "slate/key.h"
#include "slate/lease.h"
#include "slate/meter.h"
#include "slate/stats.h"

#if defined(__has_include)
#if __has_include("slate/legacy.h")
#include "slate/legacy.h"
#define SW_HAVE_LEGACY 1
#endif
#endif

/* Kinds of failure, logged once each until the next success. */
enum {
    F_NETWORK = 1u << 0,
    F_TIMEOUT = 1u << 1,
    F_STATUS = 1u << 2,
    F_TOO_LARGE = 1u << 3,
    F_REJECTED = 1u << 4,
    F_BATCH = 1u << 5,
    F_DISPATCH = 1u << 6,
    F_PUBLISH = 1u << 7,
    F_LEASE = 1u << 8,
};

#define SW_MSG_UNREACHABLE                                                                         \
    "cannot reach the controller (connection refused or reset); keeping the last rules"

/** Largest encoded report the reporter posts. */
#define RP_MAX_REPORT (16u * 1024u * 1024u)
/** A worker silent for this many ticks is considered gone. */
#define RP_WORKER_TICKS 3u

typedef struct rp_worker {
    uint64_t id;
    uint64_t last_seen_ns; /* reporter clock */
    uint64_t window_ns;
    int live;
    uint64_t *count, *in_flight, *seq; /* per endpoint gauges */
} rp_worker_t;

typedef struct sw_reporter {
    sw_names_t names;
    uint64_t id;
    /* The core's measurement table (meter.h), grown by doubling up to the
     * configured limits as endpoints appear. */
    slate_meter_t *meter;
    void *meter_mem;
    uint32_t *span_worker; /* per span of the interval: the worker it came from */
    uint32_t ids;          /* entries the workers' gauge arrays hold: the limits' sum */
    rp_worker_t *workers;
    uint32_t n_workers;
    uint32_t queue;
    int queue_ok, queue_logged;
    /* Lease. */
    int lease_held, leader;
    /* The report in flight. */
    int calling;
    uint32_t call_id;
    uint64_t call_sent_ns;
    uint64_t sequence, last_report_ns;
    /* Rules. */
    uint64_t rules_version, rules_checksum, legacy_hash;
    int have_rules;
    uint32_t logged;
    slate_stats_t scratch;
#ifdef SW_BUILD_SIDECAR
    uint32_t m_sent, m_failed; /* Envoy stats ids */
    uint64_t sent_seen, failed_seen;
#endif
} sw_reporter_t;

static void log_kind(sw_reporter_t *p, uint32_t kind, proxy_log_level_t lvl, const char *a,
                     const char *b, const char *c)
{
    if (p->logged & kind)
        return;
    p->logged |= kind;
    sw_log(lvl, a, b, c);
}

static void log_recovered(sw_reporter_t *p, uint32_t kinds)
{
    if (p->logged & kinds) {
        sw_log(PROXY_LOG_INFO, "controller reachable again; reports and rules flow", NULL, NULL);
        p->logged &= ~kinds;
    }
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* The cumulative drops live in the measurement table. */
static slate_drops_t *drops(sw_reporter_t *p)
{
    return slate_meter_drops(p->meter);
}

/* ------------------------------------------------------------------------- */
/* Configuration.                                                             */

/* Makes (or doubles) the measurement table toward the configured limits; one
 * kind is full when `full` is that kind. The old table's entries are added
 * again in id order, so ids (and the workers' gauges indexed by them) keep
 * their meaning. Returns 0 on failure (the old table stays). */
static int meter_grow(sw_reporter_t *p, const sw_config_t *c, int full)
{
    slate_meter_t *old = p->meter;
    slate_meter_limits_t lim = {c->max_endpoints < 8 ? c->max_endpoints : 8,
                                c->max_outbound < 8 ? c->max_outbound : 8, c->max_spans_per_tick};
    if (old) {
        lim = slate_meter_limits(old);
        uint32_t *grow = full == SLATE_METER_INBOUND ? &lim.max_inbound : &lim.max_outbound;
        uint32_t top = full == SLATE_METER_INBOUND ? c->max_endpoints : c->max_outbound;
        if (*grow >= top)
            return 0;
        *grow = *grow * 2 < top ? *grow * 2 : top;
    }
    size_t len = slate_meter_size(&lim);
    void *mem = len ? malloc(len) : NULL; /* alloc.c aligns every block to 16 bytes */
    slate_meter_t *m = NULL;
    if (!mem || slate_meter_init(mem, len, &lim, &m) != SLATE_OK) {
        free(mem);
        return 0;
    }
    uint32_t n = old ? slate_meter_count(old) : 0, n_sp = 0;
    for (uint32_t i = 0; i < n; i++) {
        const slate_meter_entry_t *e = slate_meter_entry(old, i);
        uint32_t id = 0;
        slate_status st =
            e->kind == SLATE_METER_INBOUND
                ? slate_meter_inbound(m, e->method, e->method_len, e->path, e->path_len, &id)
                : slate_meter_outbound(m, e->service, e->service_len, e->method, e->method_len,
                                       e->path, e->path_len, e->region, e->region_len, &id);
        if (st != SLATE_OK || id != i ||
            slate_meter_add(m, id, e->requests, &e->stats) != SLATE_OK) {
            free(mem);
            return 0;
        }
    }
    const slate_meter_span_t *sp = old ? slate_meter_spans(old, &n_sp) : NULL;
    for (uint32_t i = 0; i < n_sp; i++)
        (void)slate_meter_add_span(m, &sp[i]);
    if (old)
        *slate_meter_drops(m) = *slate_meter_drops(old);
    free(p->meter_mem);
    p->meter_mem = mem;
    p->meter = m;
    return 1;
}

int sw_role_configure(sw_root_t *r)
{
    const sw_config_t *c = &r->cfg;
    sw_reporter_t *p = calloc(1, sizeof *p);
    if (!p)
        return 0;
    sw_names_init(&p->names, c->service);
    p->id = sw_random64() | 1;
    p->ids = c->max_endpoints + c->max_outbound;
    p->workers = calloc(c->max_workers, sizeof *p->workers);
    p->span_worker =
        calloc(c->max_spans_per_tick ? c->max_spans_per_tick : 1, sizeof *p->span_worker);
    if (!p->workers || !p->span_worker) {
        sw_log(PROXY_LOG_ERROR, "out of memory configuring the reporter", NULL, NULL);
        return 0;
    }
    r->reporter = p;
    if (r->cfg.pod[0] == '\0') {
        /* Istio puts the pod name in the node metadata; fall back to the node id. */
        static const char name_path[] = "node\0metadata\0NAME";
        static const char id_path[] = "node\0id";
        if (sw_property(name_path, sizeof name_path - 1, r->cfg.pod, sizeof r->cfg.pod) < 0 &&
            sw_property(id_path, sizeof id_path - 1, r->cfg.pod, sizeof r->cfg.pod) < 0)
            r->cfg.pod[0] = '\0';
    }
    p->last_report_ns = sw_now();
    proxy_set_tick_period_milliseconds(c->tick_ms);
    sw_sb_t s;
    sb_init(&s);
    sb_str(&s, "slate: reporter ready: service ");
    sb_str(&s, c->service);
    sb_str(&s, ", region ");
    sb_str(&s, c->region);
    sb_str(&s, ", controller ");
    sb_str(&s, c->controller_cluster);
    sb_str(&s, c->controller_path);
    sb_str(&s, c->protocol == SW_PROTO_LEGACY ? " (SLATE legacy text)" : " (protobuf)");
    sb_log(&s, PROXY_LOG_INFO);
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Lease: one reporter per proxy even if several are configured.              */

static int lease_renew(sw_root_t *r, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    const char *key = p->names.lease;
    size_t kl = strlen(key);
    uint64_t ttl = 3ull * r->cfg.tick_ms * 1000000ull;
    for (int attempt = 0; attempt < 3; attempt++) {
        uint8_t *v = NULL;
        size_t n = 0;
        uint32_t cas = 0;
        proxy_status_t st = proxy_get_shared_data(key, kl, &v, &n, &cas);
        uint8_t rec[SLATE_LEASE_SIZE];
        slate_lease_t cur, next;
        /* an unreadable record counts as a free lease, replaced below by CAS */
        int valid = st == PROXY_RESULT_OK && slate_lease_read(v, n, &cur) == SLATE_OK;
        free(v);
        if (st == PROXY_RESULT_NOT_FOUND) {
            /* Create a free record unconditionally, then compete with CAS. */
            (void)slate_lease_write(rec, NULL);
            proxy_set_shared_data(key, kl, rec, sizeof rec, 0);
            continue;
        }
        slate_lease_result lr = slate_lease_claim(valid ? &cur : NULL, p->id, now, ttl, &next);
        if (lr == SLATE_LEASE_HELD) {
            p->lease_held = 0;
            return 0; /* another reporter holds it */
        }
        (void)slate_lease_write(rec, &next);
        st = proxy_set_shared_data(key, kl, rec, sizeof rec, cas ? cas : 1);
        if (st == PROXY_RESULT_OK) {
            /* A reporter that just took the lease waits one tick before it
             * posts, so a rival that raced it at start-up sees it first. */
            int was = p->lease_held && lr == SLATE_LEASE_RENEWED;
            p->lease_held = 1;
            log_recovered(p, F_LEASE);
            return was;
        }
        if (st != PROXY_RESULT_CAS_MISMATCH)
            break;
    }
    p->lease_held = 0;
    log_kind(p, F_LEASE, PROXY_LOG_WARN, "could not renew the reporter lease ", key,
             "; not reporting this tick");
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Merging batches.                                                           */

static double window_rate(uint64_t count, uint64_t window_ns)
{
    return window_ns ? (double)count * 1e9 / (double)window_ns : 0.0;
}

static long worker_slot(sw_root_t *r, uint64_t id, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    long free_slot = -1;
    for (uint32_t i = 0; i < p->n_workers; i++) {
        if (p->workers[i].live && p->workers[i].id == id)
            return i;
        if (!p->workers[i].live && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0) {
        if (p->n_workers >= r->cfg.max_workers)
            return -1;
        free_slot = p->n_workers++;
    }
    rp_worker_t *w = &p->workers[free_slot];
    if (!w->count) {
        w->count = calloc(p->ids, sizeof *w->count);
        w->in_flight = calloc(p->ids, sizeof *w->in_flight);
        w->seq = calloc(p->ids, sizeof *w->seq);
        if (!w->count || !w->in_flight || !w->seq)
            return -1;
    } else {
        memset(w->count, 0, p->ids * sizeof *w->count);
        memset(w->in_flight, 0, p->ids * sizeof *w->in_flight);
        memset(w->seq, 0, p->ids * sizeof *w->seq);
    }
    w->id = id;
    w->live = 1;
    w->last_seen_ns = now;
    return free_slot;
}

/* The meter's entry of a batch item, growing the table when its kind is full
 * and below the configured limit. -1 when it cannot be tracked (the meter
 * counted it once; `requests` adds the rest of the item's requests). */
static long entry_of(sw_reporter_t *p, const sw_config_t *c, const sw_batch_item_t *it, int kind,
                     uint64_t requests)
{
    for (;;) {
        slate_meter_limits_t lim = slate_meter_limits(p->meter);
        uint32_t have = slate_meter_count_kind(p->meter, (slate_meter_kind)kind);
        if (have >= (kind == SLATE_METER_INBOUND ? lim.max_inbound : lim.max_outbound) &&
            meter_grow(p, c, kind))
            continue;
        uint32_t id = 0;
        slate_status st = kind == SLATE_METER_INBOUND
                              ? slate_meter_inbound(p->meter, it->method.p, it->method.n,
                                                    it->path.p, it->path.n, &id)
                              : slate_meter_outbound(p->meter, it->service.p, it->service.n,
                                                     it->method.p, it->method.n, it->path.p,
                                                     it->path.n, it->region.p, it->region.n, &id);
        if (st == SLATE_OK)
            return (long)id;
        slate_drops_t *d = slate_meter_drops(p->meter);
        uint64_t *lost =
            kind == SLATE_METER_INBOUND ? &d->endpoints_overflowed : &d->outbound_overflowed;
        /* the meter counted a full table once; a refused name not at all */
        uint64_t more = st == SLATE_ENOSPC ? (requests ? requests - 1 : 0) : requests;
        *lost = sat_add(*lost, more);
        return -1;
    }
}

static void merge_batch(sw_root_t *r, const uint8_t *buf, size_t len, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    sw_batch_head_t h;
    sw_batch_reader_t rd;
    sw_batch_err e = sw_batch_open(buf, len, &h, &rd, &p->scratch);
    if (e != SW_BATCH_OK) {
        log_kind(p, F_BATCH, PROXY_LOG_WARN,
                 "dropped a malformed worker batch: ", sw_batch_err_name(e), NULL);
        return;
    }
    slate_drops_t *d = slate_meter_drops(p->meter);
    d->spans_dropped = sat_add(d->spans_dropped, h.spans_dropped);
    d->endpoints_overflowed = sat_add(d->endpoints_overflowed, h.endpoints_overflowed);
    d->outbound_overflowed = sat_add(d->outbound_overflowed, h.outbound_overflowed);
    d->late_stamps = sat_add(d->late_stamps, h.late_stamps);
    d->counters_saturated = sat_add(d->counters_saturated, h.counters_saturated);
    long w = worker_slot(r, h.worker_id, now);
    if (w >= 0) {
        p->workers[w].last_seen_ns = now;
        if (h.window_ns)
            p->workers[w].window_ns = h.window_ns;
    }
    sw_batch_item_t it;
    while (sw_batch_next(&rd, &it)) {
        if (it.kind == SW_ITEM_INBOUND || it.kind == SW_ITEM_OUTBOUND) {
            int in = it.kind == SW_ITEM_INBOUND;
            long i = entry_of(p, &r->cfg, &it, in ? SLATE_METER_INBOUND : SLATE_METER_OUTBOUND,
                              it.requests);
            if (i < 0)
                continue;
            sw_stats_block_load(it.stats, it.stats_len, &p->scratch);
            (void)slate_meter_add(p->meter, (uint32_t)i, it.requests, &p->scratch);
            if (in && w >= 0 && h.seq >= p->workers[w].seq[i]) {
                p->workers[w].seq[i] = h.seq;
                p->workers[w].count[i] = it.window_count;
                p->workers[w].in_flight[i] = it.in_flight;
            }
            continue;
        }
        long i = entry_of(p, &r->cfg, &it, SLATE_METER_INBOUND, 0);
        if (i < 0) {
            d = slate_meter_drops(p->meter);
            d->spans_dropped = sat_add(d->spans_dropped, 1);
            continue;
        }
        /* The span keeps its worker's load at arrival; the report adds the
         * other workers' gauges (encode_report()). */
        slate_meter_span_t s;
        memset(&s, 0, sizeof s);
        s.entry = (uint32_t)i;
        s.trace_len = (uint8_t)it.trace_id.n;
        memcpy(s.trace_id, it.trace_id.p, it.trace_id.n);
        s.span_len = (uint8_t)it.span_id.n;
        memcpy(s.span_id, it.span_id.p, it.span_id.n);
        s.parent_len = (uint8_t)it.parent_id.n;
        memcpy(s.parent_id, it.parent_id.p, it.parent_id.n);
        s.start_ns = it.start_ns;
        s.end_ns = it.end_ns;
        s.body_size = it.body_size;
        uint64_t wnd = w >= 0 ? p->workers[w].window_ns : 0;
        s.arrival_rps = window_rate(it.arrival_count, wnd ? wnd : 1000000000ull);
        s.arrival_in_flight = it.arrival_in_flight;
        uint32_t at = 0;
        (void)slate_meter_spans(p->meter, &at);
        if (slate_meter_add_span(p->meter, &s) == SLATE_OK)
            p->span_worker[at] = w >= 0 ? (uint32_t)w : UINT32_MAX;
    }
}

static void drain(sw_root_t *r, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    if (!p->queue_ok)
        return;
    for (;;) {
        uint8_t *v = NULL;
        size_t n = 0;
        if (proxy_dequeue_shared_queue(p->queue, &v, &n) != PROXY_RESULT_OK) {
            free(v);
            return;
        }
        merge_batch(r, v, n, now);
        free(v);
    }
}

void sw_role_queue_ready(sw_root_t *r, uint32_t queue_id)
{
    sw_reporter_t *p = r->reporter;
    if (queue_id == p->queue && p->leader && p->meter)
        drain(r, sw_now());
}

/* ------------------------------------------------------------------------- */
/* The report.                                                                */

/* Rate and in-flight of endpoint e over the live workers, optionally
 * replacing one worker's gauges by a span's values at arrival. */
static void endpoint_load(const sw_reporter_t *p, uint32_t e, uint32_t skip_worker, double *rate,
                          uint64_t *in_flight)
{
    double rt = 0;
    uint64_t fl = 0;
    for (uint32_t w = 0; w < p->n_workers; w++) {
        const rp_worker_t *wk = &p->workers[w];
        if (!wk->live || w == skip_worker)
            continue;
        rt += window_rate(wk->count[e], wk->window_ns);
        fl = sat_add(fl, wk->in_flight[e]);
    }
    *rate = rt;
    *in_flight = fl;
}

static void expire_workers(sw_root_t *r, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    uint64_t limit = (uint64_t)RP_WORKER_TICKS * r->cfg.tick_ms * 1000000ull;
    for (uint32_t w = 0; w < p->n_workers; w++)
        if (p->workers[w].live && now - p->workers[w].last_seen_ns > limit)
            p->workers[w].live = 0;
}

/* The interval's counters and spans start over; the gauges stay (they are
 * the workers', set again at every report). */
static void reset_interval(sw_reporter_t *p)
{
    slate_meter_close(p->meter, 0);
}

/* Builds the report in caller-provided arrays and encodes it into a malloc'd
 * buffer. Returns the buffer (NULL on failure) and its length. */
static uint8_t *encode_report(sw_root_t *r, uint64_t now, size_t *out_len)
{
    sw_reporter_t *p = r->reporter;
    const sw_config_t *c = &r->cfg;
    slate_load_report_t rep;
    memset(&rep, 0, sizeof rep);
    rep.service = slate_str(c->service);
    rep.region = slate_str(c->region);
    rep.pod = slate_str(c->pod);
    rep.sequence = p->sequence + 1;
    rep.time_ns = now;
    rep.interval_ns = now - p->last_report_ns;

    /* The gauges summed over the live workers; each span's own endpoint
     * counts its worker's load at arrival instead of that worker's gauge. */
    slate_meter_t *m = p->meter;
    uint32_t n = slate_meter_count(m), n_sp = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (slate_meter_entry(m, i)->kind != SLATE_METER_INBOUND)
            continue;
        double rate;
        uint64_t fl;
        endpoint_load(p, i, UINT32_MAX, &rate, &fl);
        (void)slate_meter_set_load(m, i, rate, fl);
    }
    slate_meter_span_t *spans = slate_meter_spans_mut(m, &n_sp);
    for (uint32_t i = 0; i < n_sp; i++) {
        double rate;
        uint64_t fl;
        endpoint_load(p, spans[i].entry, p->span_worker[i], &rate, &fl);
        spans[i].arrival_rps += rate;
        spans[i].arrival_in_flight = sat_add(spans[i].arrival_in_flight, fl);
    }
    const slate_meter_entry_t *ents = slate_meter_entry(m, 0);
    slate_meter_report_mem_t mem;
    slate_meter_report_need(ents, n, spans, n_sp, SLATE_METER_LOADS_ALL, &mem);
    mem.inbound = calloc(mem.cap_inbound + 1, sizeof *mem.inbound);
    mem.outbound = calloc(mem.cap_outbound + 1, sizeof *mem.outbound);
    mem.spans = calloc(mem.cap_spans + 1, sizeof *mem.spans);
    mem.loads = calloc(mem.cap_loads + 1, sizeof *mem.loads);
    uint8_t *buf = NULL;
    if (!mem.inbound || !mem.outbound || !mem.spans || !mem.loads ||
        slate_meter_report_from(ents, n, spans, n_sp, SLATE_METER_LOADS_ALL, &mem, &rep) !=
            SLATE_OK)
        goto out;
    rep.drops = *slate_meter_drops(m);

    size_t need = 0;
    slate_status st;
#ifdef SW_HAVE_LEGACY
    if (c->protocol == SW_PROTO_LEGACY)
        st = slate_legacy_proxyload_encode(&rep, NULL, NULL, 0, &need, NULL);
    else
#endif
        st = slate_load_report_encode(&rep, NULL, 0, &need, NULL);
    if ((st != SLATE_OK && st != SLATE_ENOSPC) || need > RP_MAX_REPORT) {
        drops(p)->post_failed_too_large = sat_add(drops(p)->post_failed_too_large, 1);
        log_kind(p, F_TOO_LARGE, PROXY_LOG_WARN, "a report could not be encoded within limits; ",
                 "its interval is dropped", NULL);
        goto out;
    }
    buf = malloc(need ? need : 1);
    if (!buf)
        goto out;
#ifdef SW_HAVE_LEGACY
    if (c->protocol == SW_PROTO_LEGACY)
        st = slate_legacy_proxyload_encode(&rep, NULL, (char *)buf, need, out_len, NULL);
    else
#endif
        st = slate_load_report_encode(&rep, buf, need, out_len, NULL);
    if (st != SLATE_OK) {
        free(buf);
        buf = NULL;
    }
out:
    free(mem.inbound);
    free(mem.outbound);
    free(mem.spans);
    free(mem.loads);
    return buf;
}

static void post_report(sw_root_t *r, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    const sw_config_t *c = &r->cfg;
    size_t len = 0;
    uint8_t *body = encode_report(r, now, &len);
    p->last_report_ns = now;
    reset_interval(p);
    if (!body)
        return;
    int legacy = c->protocol == SW_PROTO_LEGACY;
    char auth[7 + SW_LONG_CAP];
    size_t tl = strlen(c->controller_token);
    memcpy(auth, "Bearer ", 7);
    memcpy(auth + 7, c->controller_token, tl);
    sw_hdr_t h[8] = {
        {":method", "POST", 7, 4},
        {":path", c->controller_path, 5, strlen(c->controller_path)},
        {":authority", c->controller_authority, 10, strlen(c->controller_authority)},
        {"content-type", legacy ? "text/plain" : "application/x-protobuf", 12, legacy ? 10 : 22},
        {"x-slate-servicename", c->service, 19, strlen(c->service)},
        {"x-slate-region", c->region, 14, strlen(c->region)},
        {"x-slate-podname", c->pod, 15, strlen(c->pod)},
        {"authorization", auth, 13, 7 + tl},
    };
    size_t nh = tl ? 8 : 7; /* the credential only when configured */
    size_t hn = sw_pairs_size(h, nh);
    uint8_t *hb = malloc(hn);
    if (!hb) {
        free(body);
        return;
    }
    sw_pairs_write(h, nh, hb);
    uint32_t id = 0;
    proxy_status_t st = proxy_http_call(c->controller_cluster, strlen(c->controller_cluster), hb,
                                        hn, body, len, NULL, 0, c->http_timeout_ms, &id);
    free(hb);
    free(body);
    p->sequence++;
    if (st != PROXY_RESULT_OK) {
        drops(p)->post_failed_network = sat_add(drops(p)->post_failed_network, 1);
        log_kind(p, F_DISPATCH, PROXY_LOG_WARN, "cannot post a report to cluster ",
                 c->controller_cluster,
                 st == PROXY_RESULT_BAD_ARGUMENT ? " (unknown cluster?)" : " (host refused)");
        return;
    }
    p->calling = 1;
    p->call_id = id;
    p->call_sent_ns = now;
}

/* The workers' queue is registered on the first tick, not in
 * proxy_on_configure: Envoy configures each plugin once in a throwaway
 * "canary" VM before the real ones, and a registration there would send the
 * queue's notifications to a VM about to be destroyed. Until it is
 * registered the workers keep their measurements (filter.c). */
static void queue_register(sw_reporter_t *p)
{
    if (p->queue_ok)
        return;
    if (proxy_register_shared_queue(p->names.queue, strlen(p->names.queue), &p->queue) ==
        PROXY_RESULT_OK) {
        p->queue_ok = 1;
    } else if (!p->queue_logged) {
        sw_log(PROXY_LOG_ERROR, "cannot register the queue ", p->names.queue, NULL);
        p->queue_logged = 1;
    }
}

#ifdef SW_BUILD_SIDECAR
/* Envoy stats of the reporter half, in the sidecar module (the singleton
 * reporter module stays inside its budget without them): reports posted
 * and posts that failed (network, timeout, status, too large), counted by
 * the holder once per tick from its sequence and drop counters. */
static void metrics_tick(sw_reporter_t *p)
{
    if (!p->m_sent) {
        proxy_define_metric(0, "slate_reports_sent_total", 24, &p->m_sent);
        proxy_define_metric(0, "slate_reports_failed_total", 26, &p->m_failed);
    }
    const slate_drops_t *d = drops(p);
    uint64_t failed = d->post_failed_network + d->post_failed_timeout + d->post_failed_status +
                      d->post_failed_too_large;
    proxy_increment_metric(p->m_sent, (int64_t)(p->sequence - p->sent_seen));
    proxy_increment_metric(p->m_failed, (int64_t)(failed - p->failed_seen));
    p->sent_seen = p->sequence;
    p->failed_seen = failed;
}
#endif

void sw_role_tick(sw_root_t *r)
{
    sw_reporter_t *p = r->reporter;
    uint64_t now = sw_now();
    queue_register(p);
    p->leader = lease_renew(r, now);
    /* Only a holder that kept the lease since its previous tick drains the
     * workers' batches. Two candidates can both believe they took a lease
     * in one tick (the record's first write cannot be conditional); the one
     * that loses finds out at its next tick, and must not have taken
     * measurements it will never report. Batches wait in the queue meanwhile.
     * The measurement table is made then too: in the sidecar module every
     * worker is a candidate, and only the holder measures for the proxy. */
    if (!p->leader)
        return;
    if (!p->meter && !meter_grow(p, &r->cfg, 0))
        return; /* out of memory: nothing to measure into; tried again next tick */
    drain(r, now);
    expire_workers(r, now);
    if (p->calling) {
        /* The previous report is still in flight (its timeout is shorter than
         * a tick, so this only happens with a host that delivers late):
         * keep aggregating into the next report. A call the host never
         * answers is written off after two ticks past its timeout. */
        uint64_t limit = ((uint64_t)r->cfg.http_timeout_ms + 2ull * r->cfg.tick_ms) * 1000000ull;
        if (now - p->call_sent_ns <= limit)
            return;
        p->calling = 0;
        drops(p)->post_failed_timeout = sat_add(drops(p)->post_failed_timeout, 1);
        log_kind(p, F_TIMEOUT, PROXY_LOG_WARN, "report timed out; keeping the last rules", NULL,
                 NULL);
    }
    post_report(r, now);
#ifdef SW_BUILD_SIDECAR
    metrics_tick(p);
#endif
}

/* ------------------------------------------------------------------------- */
/* Rules.                                                                     */

/* Rate of the calling endpoints a caller-specific rule names (empty method
 * or path: any), for slate_ruleset_compile()'s mixing. */
static double caller_rate(void *ctx, slate_str_t src_method, slate_str_t src_path)
{
    sw_reporter_t *p = ((sw_root_t *)ctx)->reporter;
    double sum = 0;
    for (uint32_t i = 0; i < slate_meter_count(p->meter); i++) {
        const slate_meter_entry_t *e = slate_meter_entry(p->meter, i);
        if (e->kind != SLATE_METER_INBOUND)
            continue;
        if (src_method.len && !(src_method.len == e->method_len &&
                                memcmp(src_method.ptr, e->method, e->method_len) == 0))
            continue;
        if (src_path.len &&
            !(src_path.len == e->path_len && memcmp(src_path.ptr, e->path, e->path_len) == 0))
            continue;
        double rt;
        uint64_t fl;
        endpoint_load(p, i, UINT32_MAX, &rt, &fl);
        sum += rt;
    }
    return sum;
}

/* Writes the version record; returns 0 on failure. */
static int publish_version(sw_reporter_t *p, uint64_t version, uint64_t checksum, size_t blob_len,
                           uint64_t expiry)
{
    uint8_t rec[SW_VERSION_RECORD];
    slate_wire_put_le32(rec, SW_VERSION_MAGIC);
    slate_wire_put_le32(rec + 4, (uint32_t)blob_len);
    slate_wire_put_le64(rec + 8, version);
    slate_wire_put_le64(rec + 16, checksum);
    slate_wire_put_le64(rec + 24, expiry);
    return proxy_set_shared_data(p->names.version, strlen(p->names.version), rec, sizeof rec, 0) ==
           PROXY_RESULT_OK;
}

static uint64_t expiry_of(sw_root_t *r, const slate_routing_rules_t *rr, uint64_t now)
{
    return slate_rules_expiry(rr->generated_ns, rr->ttl_ns, now,
                              (uint64_t)r->cfg.rules_ttl_ms * 1000000ull);
}

/* Validates, compiles (the core's slate_ruleset_compile()) and publishes
 * decoded rules. Returns a static reason on rejection. */
static const char *apply_rules(sw_root_t *r, const slate_routing_rules_t *rr, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    const sw_config_t *c = &r->cfg;
    const char *why = NULL;
    slate_ruleset_compile_params_t cp = {
        .service = c->service,
        .region = c->region,
        .max_regions = c->max_regions,
        .max_rules = c->max_rules,
        .max_name = SW_MAX_NAME,
        .max_method = SW_MAX_METHOD,
        .max_path = SW_MAX_PATH,
        .caller_rate = caller_rate,
        .ctx = r,
    };
    size_t slen = slate_ruleset_compile_scratch(rr->n_rules, c->max_regions);
    void *scratch = malloc(slen);
    uint8_t *blob = NULL;
    size_t len = 0;
    if (!scratch) {
        why = "out of memory";
        goto out;
    }
    slate_status st = slate_ruleset_compile(rr, &cp, scratch, slen, NULL, 0, &len, &why);
    if (st == SLATE_ENOSPC) {
        blob = malloc(len);
        if (!blob) {
            why = "out of memory";
            goto out;
        }
        st = slate_ruleset_compile(rr, &cp, scratch, slen, blob, len, &len, &why);
    }
    if (st != SLATE_OK)
        goto out;
    why = NULL;
    slate_ruleset_info_t info;
    slate_ruleset_info(blob, &info);
    uint64_t expiry = expiry_of(r, rr, now);
    if (proxy_set_shared_data(p->names.rules, strlen(p->names.rules), blob, len, 0) !=
            PROXY_RESULT_OK ||
        !publish_version(p, rr->version, info.checksum, len, expiry)) {
        log_kind(p, F_PUBLISH, PROXY_LOG_ERROR, "cannot publish rules in shared data", NULL, NULL);
        goto out;
    }
    p->rules_version = rr->version;
    p->rules_checksum = info.checksum;
    p->have_rules = 1;
    {
        sw_sb_t s;
        sb_init(&s);
        sb_str(&s, "slate: rules version ");
        sb_u64(&s, rr->version);
        sb_str(&s, " published: ");
        sb_u64(&s, info.n_rules);
        sb_str(&s, " destinations for region ");
        sb_str(&s, c->region);
        sb_log(&s, PROXY_LOG_INFO);
    }
out:
    free(scratch);
    free(blob);
    return why;
}

static const char *handle_rules(sw_root_t *r, const uint8_t *body, size_t len, uint64_t now)
{
    sw_reporter_t *p = r->reporter;
    const sw_config_t *c = &r->cfg;
    slate_codec_limits_t lim;
    slate_codec_limits_default(&lim);
    lim.max_size = c->max_response_bytes;
    slate_routing_rules_t rr;
    memset(&rr, 0, sizeof rr);
    slate_codec_error_t err;
    memset(&err, 0, sizeof err);
    err.detail = "decode failed";
    slate_status st;
    int legacy = c->protocol == SW_PROTO_LEGACY;
#ifdef SW_HAVE_LEGACY
    if (legacy)
        st = slate_legacy_rules_decode(&rr, (const char *)body, len, &lim, &err);
    else
#endif
        st = slate_routing_rules_decode(&rr, body, len, &lim, &err);
    if (st != SLATE_OK)
        return err.detail;
    uint64_t text_hash = 0;
    if (legacy) {
        /* SLATE's text has no version: a new text is a new version. */
        text_hash = sw_hash64(body, len, 0);
        rr.version =
            text_hash == p->legacy_hash && p->have_rules ? p->rules_version : p->rules_version + 1;
        rr.generated_ns = now;
    }
    if (slate_rules_renews(p->have_rules, p->rules_version, rr.version)) {
        /* Rules this proxy has: only the time to live is renewed. */
        if (!publish_version(p, p->rules_version, p->rules_checksum, 0, expiry_of(r, &rr, now)))
            log_kind(p, F_PUBLISH, PROXY_LOG_ERROR, "cannot publish rules in shared data", NULL,
                     NULL);
        return NULL;
    }
    size_t n_rules = rr.n_rules, n_targets = rr.n_targets;
    rr.rules = calloc(n_rules ? n_rules : 1, sizeof *rr.rules);
    rr.targets = calloc(n_targets ? n_targets : 1, sizeof *rr.targets);
    rr.cap_rules = n_rules;
    rr.cap_targets = n_targets;
    const char *why = NULL;
    if (!rr.rules || !rr.targets) {
        why = "out of memory";
    } else {
        uint64_t version = rr.version, generated = rr.generated_ns;
#ifdef SW_HAVE_LEGACY
        if (legacy)
            st = slate_legacy_rules_decode(&rr, (const char *)body, len, &lim, &err);
        else
#endif
            st = slate_routing_rules_decode(&rr, body, len, &lim, &err);
        if (legacy) {
            rr.version = version;
            rr.generated_ns = generated;
        }
        why = st == SLATE_OK ? apply_rules(r, &rr, now) : err.detail;
        if (!why && legacy)
            p->legacy_hash = text_hash;
    }
    free(rr.rules);
    free(rr.targets);
    return why;
}

void sw_role_http_response(sw_root_t *r, uint32_t call_id, size_t num_headers, size_t body_size)
{
    sw_reporter_t *p = r->reporter;
    const sw_config_t *c = &r->cfg;
    if (!p->calling || call_id != p->call_id)
        return;
    p->calling = 0;
    uint64_t now = sw_now();
    int timed_out = now - p->call_sent_ns >= (uint64_t)c->http_timeout_ms * 1000000ull;
    if (num_headers == 0) {
        if (timed_out) {
            slate_drops_t *d = slate_meter_drops(p->meter);
            d->post_failed_timeout = sat_add(d->post_failed_timeout, 1);
            log_kind(p, F_TIMEOUT, PROXY_LOG_WARN, "report timed out; keeping the last rules", NULL,
                     NULL);
        } else {
            slate_drops_t *d = slate_meter_drops(p->meter);
            d->post_failed_network = sat_add(d->post_failed_network, 1);
            log_kind(p, F_NETWORK, PROXY_LOG_WARN, SW_MSG_UNREACHABLE, NULL, NULL);
        }
        return;
    }
    uint8_t *sv = NULL;
    size_t sn = 0;
    unsigned status = 0;
    if (proxy_get_header_map_value(PROXY_MAP_HTTP_CALL_RESPONSE_HEADERS, ":status", 7, &sv, &sn) ==
        PROXY_RESULT_OK) {
        for (size_t i = 0; i < sn && i < 3; i++)
            status = status * 10 + (unsigned)(sv[i] >= '0' && sv[i] <= '9' ? sv[i] - '0' : 0);
        if (sn != 3)
            status = 0;
    }
    free(sv);
    if (status < 200 || status > 299) {
        /* Envoy answers a failed call itself: 504 after the timeout, 503 when
         * it cannot connect. */
        if (status == 504 && timed_out) {
            slate_drops_t *d = slate_meter_drops(p->meter);
            d->post_failed_timeout = sat_add(d->post_failed_timeout, 1);
            log_kind(p, F_TIMEOUT, PROXY_LOG_WARN, "report timed out; keeping the last rules", NULL,
                     NULL);
        } else if (status == 503 && body_size > 0 && body_size < 256) {
            uint8_t *b = NULL;
            size_t bl = 0;
            int local = 0;
            if (proxy_get_buffer_bytes(PROXY_BUFFER_HTTP_CALL_RESPONSE_BODY, 0, body_size, &b,
                                       &bl) == PROXY_RESULT_OK &&
                bl >= 22 && memcmp(b, "upstream connect error", 22) == 0)
                local = 1;
            free(b);
            if (local) {
                slate_drops_t *d = slate_meter_drops(p->meter);
                d->post_failed_network = sat_add(d->post_failed_network, 1);
                log_kind(p, F_NETWORK, PROXY_LOG_WARN, SW_MSG_UNREACHABLE, NULL, NULL);
            } else {
                drops(p)->post_failed_status = sat_add(drops(p)->post_failed_status, 1);
                log_kind(p, F_STATUS, PROXY_LOG_WARN,
                         "controller answered 503; keeping the last rules", NULL, NULL);
            }
        } else {
            drops(p)->post_failed_status = sat_add(drops(p)->post_failed_status, 1);
            char code[4] = {(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
                            (char)('0' + status % 10), 0};
            log_kind(p, F_STATUS, PROXY_LOG_WARN, "controller answered HTTP ", code,
                     "; keeping the last rules");
        }
        return;
    }
    log_recovered(p, F_NETWORK | F_TIMEOUT | F_STATUS | F_DISPATCH);
    if (body_size == 0)
        return; /* no rules yet */
    if (body_size > c->max_response_bytes) {
        drops(p)->rules_rejected = sat_add(drops(p)->rules_rejected, 1);
        log_kind(p, F_REJECTED, PROXY_LOG_WARN,
                 "rules rejected: response larger than limits.max_response_bytes", NULL, NULL);
        return;
    }
    uint8_t *body = NULL;
    size_t bl = 0;
    if (proxy_get_buffer_bytes(PROXY_BUFFER_HTTP_CALL_RESPONSE_BODY, 0, body_size, &body, &bl) !=
            PROXY_RESULT_OK ||
        bl != body_size) {
        free(body);
        drops(p)->rules_rejected = sat_add(drops(p)->rules_rejected, 1);
        log_kind(p, F_REJECTED, PROXY_LOG_WARN, "rules rejected: cannot read the response body",
                 NULL, NULL);
        return;
    }
    const char *why = handle_rules(r, body, bl, now);
    free(body);
    if (why) {
        drops(p)->rules_rejected = sat_add(drops(p)->rules_rejected, 1);
        log_kind(p, F_REJECTED, PROXY_LOG_WARN, "rules rejected, keeping the last good ones: ", why,
                 NULL);
        return;
    }
    log_recovered(p, F_REJECTED);
}

#ifndef SW_BUILD_SIDECAR
/* The reporter takes no HTTP streams. */
void sw_role_stream_create(uint32_t id, sw_root_t *root)
{
    (void)id;
    (void)root;
}

proxy_action_t sw_stream_request_headers(uint32_t id)
{
    (void)id;
    return PROXY_ACTION_CONTINUE;
}

proxy_action_t sw_stream_request_body(uint32_t id, size_t body_size)
{
    (void)id;
    (void)body_size;
    return PROXY_ACTION_CONTINUE;
}

proxy_action_t sw_stream_response_headers(uint32_t id)
{
    (void)id;
    return PROXY_ACTION_CONTINUE;
}

void sw_stream_finish(uint32_t id)
{
    (void)id;
}

void sw_stream_delete(uint32_t id)
{
    (void)id;
}
#endif
