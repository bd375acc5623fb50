/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The filter role: one per worker VM (per plugin). Per request it does no
 * HTTP call and touches no shared data:
 *   inbound  - one header-map read, two clock reads, the endpoint's rate
 *              estimator and latency statistics, a trace-id sampling decision;
 *   outbound - one header-map read, two clock reads, a lookup in the cached
 *              compiled rules, one alias-table draw, one header write.
 * Once per tick it checks the rules' version record (a 32-byte shared-data
 * read), copies the rules blob only when that changed, and publishes its
 * measurements to the reporter through the shared queue in bounded batches.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#ifdef SW_BUILD_SIDECAR
/* In the sidecar module this file is the filter half of every root context;
 * sidecar.c calls these under these names, then the reporter half. */
#define sw_role_configure     sw_filter_configure
#define sw_role_tick          sw_filter_tick
#define sw_role_stream_create sw_filter_stream_create
#endif
#include "bytes.h"
#include "hash.h"
#include "map.h"
#include "module.h"
#include "slate/ruleset.h"
#include "slate/failover.h"
#include "slate/key.h"
#include "slate/rate.h"
#include "slate/sampler.h"
#include "slate/stats.h"
#include "winrate.h"

#define SW_NONE 0xffffffffu

/* Latency statistics since the last successful flush: slate_stats_t's
 * moments, and its histogram only over the buckets that have counts, a
 * window [lo, lo + n) that widens when a sample falls outside it. A tuple's
 * latencies span few of the 1,160 buckets, so this is a few hundred bytes
 * where a slate_stats_t is 4.6 KiB. lat_stats() rebuilds the slate_stats_t
 * for a batch. */
typedef struct sw_lat {
    slate_moments_t m;
    void *hist; /* n counters of w bytes each (1, 2 or 4) */
    uint16_t lo, n;
    uint8_t w; /* a counter that would pass its width's maximum widens them all */
} sw_lat_t;

enum { DIR_NONE = 0, DIR_IN = 1, DIR_OUT = 2 };

typedef struct sw_ep {
    uint64_t key;
    uint64_t requests;  /* arrivals since the last successful flush */
    uint64_t in_flight; /* gauge */
    uint64_t sent_count, sent_in_flight;
    int ever_sent;
    /* The arrivals in the trailing second (winrate.h: slate_rate_t's
     * semantics in half a byte per tick, in the record's tail). */
    sw_rate_t rate;
    uint8_t ml;
    uint16_t pl;
    sw_lat_t lat; /* completions since the last successful flush */
    char method[SW_MAX_METHOD];
    char tail[]; /* the path (pl bytes), then SW_RATE_NIBBLES bytes of buckets */
} sw_ep_t;

typedef struct sw_ob {
    uint64_t key;
    uint64_t requests;
    uint8_t sl, ml, rl;
    uint16_t pl;
    sw_lat_t lat;
    char str[]; /* service, method, region, path: sl + ml + rl + pl bytes */
} sw_ob_t;

#define OB_SERVICE(o) ((o)->str)
#define OB_METHOD(o)  ((o)->str + (o)->sl)
#define OB_REGION(o)  ((o)->str + (o)->sl + (o)->ml)
#define OB_PATH(o)    ((o)->str + (o)->sl + (o)->ml + (o)->rl)

typedef struct sw_span_rec {
    uint32_t ep;
    uint8_t tl, sl, pl;
    char trace[SW_MAX_ID], span[SW_MAX_ID], parent[SW_MAX_ID];
    uint64_t start_ns, end_ns, body_size, arrival_count, arrival_in_flight;
} sw_span_rec_t;

/* A region an outbound call is counted against: its name, the name's
 * length and a hash of it (sw_hash64()), computed once per rules version
 * (or at configure for the local region) rather than per call. */
typedef struct sw_rname {
    const char *name;
    size_t len;
    uint64_t hash;
} sw_rname_t;

typedef struct sw_filter {
    sw_names_t names;
    size_t routing_header_len; /* strlen(cfg.routing_header) */
    uint64_t worker_id, seq;
    uint64_t window_ns;
    /* Inbound endpoints and outbound destinations; entries never move. */
    sw_ep_t **eps;
    uint32_t n_eps;
    sw_map_t ep_map;
    sw_ob_t **obs;
    uint32_t n_obs;
    sw_map_t ob_map;
    /* Sampled spans completed since the last successful flush (the array
     * grows up to max_spans_per_tick as spans come). */
    sw_span_rec_t *spans;
    uint32_t n_spans, spans_cap;
    /* Loss counters since the last successful flush. */
    uint64_t spans_dropped, endpoints_overflowed, outbound_overflowed, late_stamps, saturated;
    /* Rules: the validated blob copied from shared data, and its version record's cas. */
    uint8_t *blob;
    size_t blob_len;
    slate_ruleset_info_t info;
    uint64_t expiry_ns;
    uint32_t version_cas;
    slate_rng_t rng;
    /* The reporter's queue. */
    uint32_t queue;
    int queue_ok;
    int logged_queue, logged_rules;
    uint8_t *batch; /* grows on demand up to max_batch_bytes (batch_grow()) */
    size_t batch_cap;
    uint32_t *batch_eps, *batch_obs;
    /* Envoy stats (proxy_define_metric), defined at the first tick and
     * updated once per tick; per request only a draw is counted here. */
    uint32_t m_version, m_age, m_fail_static, m_expired;
    int metrics_ok, was_live;
    uint64_t refreshed_ns; /* when the rules' version record last changed */
    uint32_t *draws;       /* draws per region id of the ruleset, this tick */
    uint32_t *draw_ids;    /* their counters' metric ids (0: not defined yet) */
    uint32_t *excl;        /* failover exclusions per region id, this tick */
    uint32_t *excl_ids;    /* their counters' metric ids */
    sw_rname_t *rnames;    /* the ruleset's region names (into blob) */
    sw_rname_t local;      /* cfg.region */
    uint16_t n_draws;      /* entries of the four arrays above, of rnames and of fo */
    /* Fast failover (failover.h): per region id of the ruleset, what this
     * worker saw of its calls there; a region whose calls fail is not drawn
     * for a while. */
    slate_failover_region_t *fo;
    slate_failover_params_t fo_params;
} sw_filter_t;

typedef struct sw_stream {
    uint32_t id; /* 0 = free slot */
    uint8_t dir, sampled, done;
    uint8_t tl, sl, pl;
    uint32_t idx;    /* endpoint (inbound) or destination (outbound), SW_NONE if untracked */
    uint16_t region; /* outbound: the region id drawn (failover), SLATE_REGION_NONE if none */
    uint16_t status; /* outbound: the response's :status, 0 until one is seen */
    sw_root_t *root;
    uint64_t start_ns, body_size, arrival_count, arrival_in_flight;
    /* The trace context, read for sampled requests only (tl, sl, pl say how
     * much of each is set): last, so that a new stream clears only what
     * comes before it. */
    char trace[SW_MAX_ID], span[SW_MAX_ID], parent[SW_MAX_ID];
} sw_stream_t;

/* Streams of this VM (context ids are unique per VM): a growable array of
 * slots, a free-slot stack, and, from context id to slot, a direct-mapped
 * table (entry id % SW_DIRECT) in front of a map. Hosts number contexts one
 * after another (Envoy's host library does), so the streams in flight at
 * once mostly fall on distinct entries and the map holds the few that
 * collide. No pointer to a slot is kept across callbacks, so the array may
 * move when it grows. */
#define SW_DIRECT 64u
static uint32_t direct_id[SW_DIRECT], direct_slot[SW_DIRECT];
static sw_map_t stream_map;
static sw_stream_t *slots;
static uint32_t *free_slots;
static uint32_t n_slots, n_free;

/* ------------------------------------------------------------------------- */
/* Configuration.                                                             */

static void refresh_rules(sw_root_t *r);

int sw_role_configure(sw_root_t *r)
{
    sw_filter_t *f = calloc(1, sizeof *f);
    if (!f)
        return 0;
    const sw_config_t *c = &r->cfg;
    sw_names_init(&f->names, c->service);
    f->routing_header_len = strlen(c->routing_header);
    f->local.name = c->region;
    f->local.len = strlen(c->region);
    f->local.hash = sw_hash64(c->region, f->local.len, 0);
    f->worker_id = sw_random64();
    slate_rng_seed(&f->rng, sw_random64() ^ f->worker_id);
    f->window_ns = SLATE_RATE_DEFAULT_WINDOW_NS;
    f->fo_params = slate_failover_params_default();
    f->eps = calloc(c->max_endpoints, sizeof *f->eps);
    f->obs = calloc(c->max_outbound, sizeof *f->obs);
    f->batch_eps = calloc(c->max_endpoints, sizeof *f->batch_eps);
    f->batch_obs = calloc(c->max_outbound, sizeof *f->batch_obs);
    if (!f->eps || !f->obs || !f->batch_eps || !f->batch_obs ||
        !sw_map_reserve(&f->ep_map, c->max_endpoints) ||
        !sw_map_reserve(&f->ob_map, c->max_outbound)) {
        sw_log(PROXY_LOG_ERROR, "out of memory configuring the filter", NULL, NULL);
        return 0;
    }
    r->filter = f;
    proxy_set_tick_period_milliseconds(c->tick_ms);
    /* The rules the reporter already published, so that a worker started
     * (or restarted by a configuration push) routes its first request by
     * them, not one tick later. Two shared-data reads and no write: harmless
     * in the host's throwaway canary VM. */
    refresh_rules(r);
    sw_sb_t s;
    sb_init(&s);
    sb_str(&s, "slate: filter ready: service ");
    sb_str(&s, c->service);
    sb_str(&s, ", region ");
    sb_str(&s, c->region);
    sb_str(&s, c->direction == SW_DIR_INBOUND    ? ", inbound"
               : c->direction == SW_DIR_OUTBOUND ? ", outbound"
                                                 : ", direction from listener_direction");
    sb_log(&s, PROXY_LOG_INFO);
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Latency statistics (sw_lat_t).                                             */

/* Counter i of a histogram window of w-byte counters. */
static uint32_t hist_get(const void *h, uint8_t w, uint32_t i)
{
    if (w == 1)
        return ((const uint8_t *)h)[i];
    if (w == 2)
        return ((const uint16_t *)h)[i];
    return ((const uint32_t *)h)[i];
}

static void hist_put(void *h, uint8_t w, uint32_t i, uint32_t v)
{
    if (w == 1)
        ((uint8_t *)h)[i] = (uint8_t)v;
    else if (w == 2)
        ((uint16_t *)h)[i] = (uint16_t)v;
    else
        ((uint32_t *)h)[i] = v;
}

/* Moves the window to [lo, hi) with w-byte counters. Returns 0 when out of
 * memory (nothing changed then). */
static int lat_remap(sw_lat_t *l, uint32_t lo, uint32_t hi, uint8_t w)
{
    void *h = calloc(hi - lo, w);
    if (!h)
        return 0;
    if (w == l->w)
        memcpy((uint8_t *)h + (size_t)(l->lo - lo) * w, l->hist, (size_t)l->n * w);
    else
        for (uint32_t i = 0; i < l->n; i++)
            hist_put(h, w, l->lo - lo + i, hist_get(l->hist, l->w, i));
    free(l->hist);
    l->hist = h;
    l->lo = (uint16_t)lo;
    l->n = (uint16_t)(hi - lo);
    l->w = w;
    return 1;
}

/* Widens the window to hold bucket b, with room to spare on the side it grew
 * (at least 8 buckets, or half the new width). Returns 0 when out of memory. */
static int lat_widen(sw_lat_t *l, uint32_t b)
{
    uint32_t lo = l->n ? l->lo : b, hi = l->n ? (uint32_t)l->lo + l->n : b + 1;
    if (b < lo)
        lo = b;
    if (b >= hi)
        hi = b + 1;
    uint32_t slack = (hi - lo) / 2 > 8 ? (hi - lo) / 2 : 8;
    if (!l->n || b < l->lo)
        lo = lo > slack ? lo - slack : 0;
    if (!l->n || b >= (uint32_t)l->lo + l->n)
        hi = hi + slack < SLATE_HIST_BUCKETS ? hi + slack : SLATE_HIST_BUCKETS;
    return lat_remap(l, lo, hi, l->w ? l->w : 1);
}

/* lat_add() off its fast path: outside the window, or a full counter. */
static __attribute__((noinline)) void lat_add_slow(sw_filter_t *f, sw_lat_t *l, uint32_t b)
{
    if ((b < l->lo || b >= (uint32_t)l->lo + l->n) && !lat_widen(l, b)) {
        f->saturated++; /* out of memory: counted, not in the histogram */
        return;
    }
    uint32_t i = b - l->lo;
    uint32_t c = hist_get(l->hist, l->w, i);
    if (c == UINT32_MAX)
        return; /* saturated, as slate_stats_t's counters */
    if (l->w < 4 && c == (l->w == 1 ? UINT8_MAX : UINT16_MAX) &&
        !lat_remap(l, l->lo, (uint32_t)l->lo + l->n, (uint8_t)(l->w * 2))) {
        f->saturated++;
        return;
    }
    hist_put(l->hist, l->w, i, c + 1);
}

static void lat_add(sw_filter_t *f, sw_lat_t *l, uint64_t v)
{
    slate_moments_add(&l->m, v);
    uint32_t b = slate_hist_bucket(v);
    uint32_t i = b - l->lo; /* wraps when b < lo */
    if (i < l->n) {
        if (l->w == 1) {
            uint8_t *c = (uint8_t *)l->hist + i;
            if (*c != UINT8_MAX) {
                (*c)++;
                return;
            }
        } else if (l->w == 2) {
            uint16_t *c = (uint16_t *)l->hist + i;
            if (*c != UINT16_MAX) {
                (*c)++;
                return;
            }
        } else {
            uint32_t *c = (uint32_t *)l->hist + i;
            if (*c != UINT32_MAX)
                (*c)++; /* saturated, as slate_stats_t's counters */
            return;
        }
    }
    lat_add_slow(f, l, b);
}

/* Empty again; the window keeps its buckets and counter width for the next
 * interval. */
static void lat_reset(sw_lat_t *l)
{
    memset(&l->m, 0, sizeof l->m);
    if (l->n)
        memset(l->hist, 0, (size_t)l->n * l->w);
}

/* The statistics as a slate_stats_t, for the batch writer: in one buffer
 * that the next call overwrites (the VM is single-threaded). */
static const slate_stats_t *lat_stats(const sw_lat_t *l)
{
    static slate_stats_t s;
    slate_stats_init(&s);
    slate_stats_set_moments(&s, &l->m);
    if (l->w == 4)
        memcpy(s.hist + l->lo, l->hist, (size_t)l->n * 4u);
    else
        for (uint32_t i = 0; i < l->n; i++)
            s.hist[l->lo + i] = hist_get(l->hist, l->w, i);
    return &s;
}

/* ------------------------------------------------------------------------- */
/* Tables.                                                                    */

/* An inbound endpoint; `hash` is ep_hash() of (method, path), path normalised. */
static long ep_find_or_add(sw_root_t *r, uint64_t hash, const char *method, size_t ml,
                           const char *path, size_t pl)
{
    sw_filter_t *f = r->filter;
    size_t stripped = pl; /* a normalised path has no query string */
    if (stripped > SW_MAX_PATH)
        stripped = SW_MAX_PATH;
    uint64_t key = sw_map_key(hash);
    long i = sw_map_get(&f->ep_map, key);
    if (i >= 0)
        return i;
    if (f->n_eps >= r->cfg.max_endpoints)
        return -1;
    sw_ep_t *e = calloc(1, sizeof *e + stripped + SW_RATE_NIBBLES);
    if (!e)
        return -1;
    sw_rate_init(&e->rate, (uint8_t *)e->tail + stripped);
    e->key = key;
    e->ml = (uint8_t)ml;
    memcpy(e->method, method, ml);
    e->pl = (uint16_t)stripped;
    memcpy(e->tail, path, stripped);
    f->eps[f->n_eps] = e;
    sw_map_put(&f->ep_map, key, f->n_eps);
    return f->n_eps++;
}

/* The outbound table's key of (endpoint key, region name hash): the two
 * combined and mixed (splitmix64's finalizer, a bijection). */
static uint64_t ob_key(uint64_t ekey, uint64_t rhash)
{
    uint64_t h = ekey ^ rhash;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return sw_map_key(h ^ (h >> 31));
}

/* An outbound tuple; `ekey` is slate_endpoint_key() of (svc, method, path),
 * path normalised. */
static long ob_find_or_add(sw_root_t *r, uint64_t ekey, const char *svc, size_t sl,
                           const char *method, size_t ml, const char *path, size_t pl,
                           const sw_rname_t *rn)
{
    sw_filter_t *f = r->filter;
    const char *region = rn->name;
    size_t rl = rn->len;
    if (sl == 0 || sl > SW_MAX_NAME || ml == 0 || ml > SW_MAX_METHOD || rl == 0 || rl > SW_MAX_NAME)
        return -1;
    size_t stripped = pl; /* a normalised path has no query string */
    if (stripped > SW_MAX_PATH)
        stripped = SW_MAX_PATH;
    uint64_t key = ob_key(ekey, rn->hash);
    long i = sw_map_get(&f->ob_map, key);
    if (i >= 0)
        return i;
    if (f->n_obs >= r->cfg.max_outbound)
        return -1;
    sw_ob_t *o = calloc(1, sizeof *o + sl + ml + rl + stripped);
    if (!o)
        return -1;
    o->key = key;
    o->sl = (uint8_t)sl;
    o->ml = (uint8_t)ml;
    o->rl = (uint8_t)rl;
    o->pl = (uint16_t)stripped;
    memcpy(OB_SERVICE(o), svc, sl);
    memcpy(OB_METHOD(o), method, ml);
    memcpy(OB_REGION(o), region, rl);
    memcpy(OB_PATH(o), path, stripped);
    f->obs[f->n_obs] = o;
    sw_map_put(&f->ob_map, key, f->n_obs);
    return f->n_obs++;
}

/* ------------------------------------------------------------------------- */
/* Streams.                                                                   */

static sw_stream_t *stream_get(uint32_t id)
{
    uint32_t d = id % SW_DIRECT;
    long i = id && direct_id[d] == id ? (long)direct_slot[d] : sw_map_get(&stream_map, id);
    return i < 0 ? NULL : &slots[i];
}

void sw_role_stream_create(uint32_t id, sw_root_t *root)
{
    if (!n_free) {
        uint32_t cap = n_slots ? n_slots * 2 : 16;
        sw_stream_t *ns = realloc(slots, cap * sizeof *ns);
        if (!ns)
            return;
        slots = ns;
        uint32_t *nf = realloc(free_slots, cap * sizeof *nf);
        if (!nf)
            return;
        free_slots = nf;
        for (uint32_t i = cap; i > n_slots; i--)
            free_slots[n_free++] = i - 1;
        n_slots = cap;
    }
    if (!id)
        return; /* 0 marks a free entry */
    uint32_t slot = free_slots[--n_free];
    uint32_t d = id % SW_DIRECT;
    if (!direct_id[d] || direct_id[d] == id) {
        direct_id[d] = id;
        direct_slot[d] = slot;
    } else if (!sw_map_put(&stream_map, id, slot)) {
        n_free++;
        return;
    }
    sw_stream_t *s = &slots[slot];
    memset(s, 0, offsetof(sw_stream_t, trace));
    s->id = id;
    s->root = root;
    s->idx = SW_NONE;
    s->region = SLATE_REGION_NONE;
}

static void stream_release(sw_stream_t *s)
{
    free_slots[n_free++] = (uint32_t)(s - slots);
    uint32_t d = s->id % SW_DIRECT;
    if (direct_id[d] == s->id)
        direct_id[d] = 0;
    else
        sw_map_del(&stream_map, s->id);
    s->id = 0;
}

static int decide_direction(sw_root_t *r)
{
    if (r->cfg.direction == SW_DIR_INBOUND)
        return DIR_IN;
    if (r->cfg.direction == SW_DIR_OUTBOUND)
        return DIR_OUT;
    uint8_t *v = NULL;
    size_t n = 0;
    int dir = DIR_IN;
    if (proxy_get_property("listener_direction", 18, &v, &n) == PROXY_RESULT_OK && n == 8 &&
        slate_wire_get_le64(v) == 2)
        dir = DIR_OUT;
    free(v);
    return dir;
}

/* One request header, fetched on its own (name lowercase). The value is
 * malloc'd by the host through our allocator; sw_hval_free() releases it.
 * Reading the two or three headers needed one by one costs the host less
 * than serializing the whole map (Envoy copies each value once either way). */
typedef struct sw_hval {
    uint8_t *p;
    size_t n;
} sw_hval_t;

static int hget(const char *name, size_t nl, sw_hval_t *v)
{
    v->p = NULL;
    v->n = 0;
    if (proxy_get_header_map_value(PROXY_MAP_HTTP_REQUEST_HEADERS, name, nl, &v->p, &v->n) !=
        PROXY_RESULT_OK) {
        free(v->p);
        v->p = NULL;
        v->n = 0;
        return 0;
    }
    return 1;
}

#define HGET(lit, v) hget(lit, sizeof lit - 1, v)

static void hfree(sw_hval_t *v)
{
    free(v->p);
    v->p = NULL;
    v->n = 0;
}

static void keep_id(char *dst, uint8_t *len, const char *src, size_t n)
{
    if (n > SW_MAX_ID)
        n = 0;
    if (n)
        memcpy(dst, src, n);
    *len = (uint8_t)n;
}

/* Trace context: B3 multi-header, then B3 single, then W3C traceparent. The
 * sampling decision needs the trace id only; span ids are read for sampled
 * requests alone. */
static void trace_ids(sw_stream_t *s)
{
    double rate = s->root->cfg.trace_sampling_rate;
    sw_hval_t t, x;
    slate_trace_ctx_t ctx;
    if (rate <= 0.0)
        return;
    if (HGET("x-b3-traceid", &t)) {
        if (t.n <= SW_MAX_ID && slate_trace_sampled((const char *)t.p, t.n, rate)) {
            s->sampled = 1;
            keep_id(s->trace, &s->tl, (const char *)t.p, t.n);
            if (HGET("x-b3-spanid", &x))
                keep_id(s->span, &s->sl, (const char *)x.p, x.n);
            hfree(&x);
            if (HGET("x-b3-parentspanid", &x))
                keep_id(s->parent, &s->pl, (const char *)x.p, x.n);
            hfree(&x);
        }
        hfree(&t);
        return;
    }
    int ok = 0, w3c = 0;
    if (HGET("b3", &t))
        ok = slate_b3_parse((const char *)t.p, t.n, &ctx) == SLATE_OK && ctx.trace_id_len;
    if (!ok) {
        hfree(&t);
        if (HGET("traceparent", &t))
            ok = w3c = slate_traceparent_parse((const char *)t.p, t.n, &ctx) == SLATE_OK;
    }
    if (ok && ctx.trace_id_len <= SW_MAX_ID &&
        slate_trace_sampled(ctx.trace_id, ctx.trace_id_len, rate)) {
        s->sampled = 1;
        keep_id(s->trace, &s->tl, ctx.trace_id, ctx.trace_id_len);
        char tp[SLATE_TRACEPARENT_LEN];
        if (w3c && slate_traceparent_child(&ctx, slate_rng_next(&s->root->filter->rng) | 1, tp,
                                           sizeof tp) == SLATE_OK) {
            /* W3C carries the caller's span id: it is this span's parent, and
             * this hop's own id goes on to the callees (key.h). */
            keep_id(s->parent, &s->pl, ctx.span_id, ctx.span_id_len);
            keep_id(s->span, &s->sl, tp + 36, 16);
            proxy_replace_header_map_value(PROXY_MAP_HTTP_REQUEST_HEADERS, "traceparent", 11,
                                           (const uint8_t *)tp, sizeof tp);
        } else {
            keep_id(s->span, &s->sl, ctx.span_id, ctx.span_id_len);
            keep_id(s->parent, &s->pl, ctx.parent_span_id, ctx.parent_span_id_len);
        }
    }
    hfree(&t);
}

/* The endpoint path of a request: slate_path_normalize() of :path into the
 * caller's stack buffer (ids become {id}, the query goes), the same function
 * the controller keys its rules by. Cannot fail with this buffer; "/" if it did. */
static size_t norm_path(const sw_hval_t *p, char out[SLATE_PATH_NORM_CAP])
{
    size_t n = 0;
    if (slate_path_normalize((const char *)p->p, p->n, out, SLATE_PATH_NORM_CAP, &n) != SLATE_OK) {
        out[0] = '/';
        n = 1;
    }
    return n;
}

/* The inbound table's key buffer: the method's length (one byte), the
 * method, then the normalised path, so that one hash of the buffer tells
 * endpoints apart. Every endpoint of the table has the filter's own service,
 * so, unlike slate_endpoint_key(), the key leaves it out, and the path,
 * already normalised, is not scanned again for a query string. */
typedef struct sw_ep_key {
    char b[1 + SW_MAX_METHOD + SLATE_PATH_NORM_CAP];
    const char *path;
    size_t pl;
    uint64_t hash;
} sw_ep_key_t;

/* Fills k from :method and :path; returns 0 for a method that is empty or
 * longer than SW_MAX_METHOD. */
static int ep_key(const sw_hval_t *m, const sw_hval_t *p, sw_ep_key_t *k)
{
    if (m->n == 0 || m->n > SW_MAX_METHOD)
        return 0;
    k->b[0] = (char)m->n;
    memcpy(k->b + 1, m->p, m->n);
    char *np = k->b + 1 + m->n;
    k->path = np;
    k->pl = norm_path(p, np);
    k->hash = slate_hash64(k->b, 1 + m->n + k->pl);
    return 1;
}

static void inbound_start(sw_stream_t *s, uint64_t now)
{
    sw_filter_t *f = s->root->filter;
    sw_hval_t m, p;
    sw_ep_key_t k;
    int ok = HGET(":method", &m) & HGET(":path", &p);
    long e = ok && ep_key(&m, &p, &k)
                 ? ep_find_or_add(s->root, k.hash, (const char *)m.p, m.n, k.path, k.pl)
                 : -1;
    hfree(&m);
    hfree(&p);
    if (!ok)
        return;
    if (e < 0) {
        f->endpoints_overflowed++;
        return;
    }
    sw_ep_t *ep = f->eps[e];
    slate_status st = sw_rate_add(&ep->rate, now, 1);
    if (st == SLATE_ELATE)
        f->late_stamps++;
    else if (st == SLATE_EOVERFLOW)
        f->saturated++;
    ep->requests++;
    ep->in_flight++;
    s->idx = (uint32_t)e;
    s->start_ns = now;
    trace_ids(s);
    if (s->sampled) {
        s->arrival_count = sw_rate_count(&ep->rate, now);
        s->arrival_in_flight = ep->in_flight;
    }
}

/* The destination service from :authority: host without port, first DNS label. */
static size_t authority_service(const char *a, size_t n, char *out)
{
    size_t k = 0;
    while (k < n && a[k] != ':' && a[k] != '.' && k < SW_MAX_NAME) {
        char c = a[k];
        out[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        k++;
    }
    return (k < n && a[k] != ':' && a[k] != '.') ? 0 : k;
}

static uint64_t rng_next(void *rng)
{
    return slate_rng_next(rng);
}

/* The region for an outbound call, drawn from the most specific rule among
 * the regions failover has not excluded (the id goes into s->region), or,
 * with no rule in force or every region of the rule excluded, what the
 * configuration says about calls without rules (NULL: no header). `exact`
 * is slate_endpoint_key() of (svc, method, path), the first key tried, or
 * NULL when that key cannot be made. */
static const sw_rname_t *route(sw_stream_t *s, const uint64_t *exact, const char *svc, size_t sl,
                               const char *method, size_t ml, const char *path, size_t pl,
                               uint64_t now)
{
    sw_root_t *r = s->root;
    sw_filter_t *f = r->filter;
    if (f->blob && slate_rules_state_at(f->expiry_ns, now) == SLATE_RULES_LIVE) {
        const void *t = slate_ruleset_match(f->blob, svc, sl, method, ml, path, pl, exact);
        uint16_t id = t ? slate_failover_draw(t, f->fo, f->n_draws, now, rng_next, &f->rng, 8)
                        : SLATE_RULESET_NO_REGION;
        if (id < f->n_draws && f->rnames[id].name) {
            f->draws[id]++;
            s->region = id;
            return &f->rnames[id];
        }
    }
    return r->cfg.route_local_when_no_rules ? &f->local : NULL;
}

static void outbound_start(sw_stream_t *s, uint64_t now)
{
    sw_root_t *r = s->root;
    sw_filter_t *f = r->filter;
    sw_hval_t a, m, p;
    char svc[SW_MAX_NAME];
    size_t sl = 0;
    if (HGET(":authority", &a))
        sl = authority_service((const char *)a.p, a.n, svc);
    hfree(&a);
    if (sl == 0)
        return;
    if (!(HGET(":method", &m) & HGET(":path", &p))) {
        hfree(&m);
        hfree(&p);
        return;
    }
    char np[SLATE_PATH_NORM_CAP];
    size_t npl = norm_path(&p, np);
    uint64_t key;
    const uint64_t *exact =
        slate_endpoint_key(svc, sl, (const char *)m.p, m.n, np, npl, &key, NULL) == SLATE_OK ? &key
                                                                                             : NULL;
    const sw_rname_t *rn = route(s, exact, svc, sl, (const char *)m.p, m.n, np, npl, now);
    if (rn)
        proxy_replace_header_map_value(PROXY_MAP_HTTP_REQUEST_HEADERS, r->cfg.routing_header,
                                       f->routing_header_len, (const uint8_t *)rn->name, rn->len);
    else
        rn = &f->local; /* unset header: the mesh routes; count it as local */
    long o = exact ? ob_find_or_add(r, key, svc, sl, (const char *)m.p, m.n, np, npl, rn) : -1;
    hfree(&m);
    hfree(&p);
    if (o < 0) {
        f->outbound_overflowed++;
        return;
    }
    s->idx = (uint32_t)o;
    s->start_ns = now;
}

proxy_action_t sw_stream_request_headers(uint32_t id)
{
    sw_stream_t *s = stream_get(id);
    if (!s || s->dir != DIR_NONE)
        return PROXY_ACTION_CONTINUE;
    s->dir = (uint8_t)decide_direction(s->root);
    uint64_t now = sw_now();
    if (s->dir == DIR_IN)
        inbound_start(s, now);
    else
        outbound_start(s, now);
    return PROXY_ACTION_CONTINUE;
}

proxy_action_t sw_stream_request_body(uint32_t id, size_t body_size)
{
    sw_stream_t *s = stream_get(id);
    /* body_size is the size buffered so far; chunks that are not buffered add up. */
    if (s && s->sampled && body_size > 0)
        s->body_size += body_size;
    return PROXY_ACTION_CONTINUE;
}

/* Room for one more span: the array doubles, from 8, up to max_spans_per_tick. */
static int spans_room(sw_filter_t *f, const sw_root_t *r)
{
    if (f->n_spans < f->spans_cap)
        return 1;
    uint32_t cap = f->spans_cap ? f->spans_cap * 2 : 8;
    if (cap > r->cfg.max_spans_per_tick)
        cap = r->cfg.max_spans_per_tick;
    sw_span_rec_t *sp = realloc(f->spans, cap * sizeof *sp);
    if (!sp)
        return 0;
    f->spans = sp;
    f->spans_cap = cap;
    return f->n_spans < cap;
}

void sw_stream_finish(uint32_t id)
{
    sw_stream_t *s = stream_get(id);
    if (!s || s->done)
        return;
    s->done = 1;
    sw_filter_t *f = s->root->filter;
    uint64_t now = sw_now();
    if (s->region < f->n_draws) {
        /* failover: a 5xx, or no response at all (reset, timeout), fails */
        if (slate_failover_record(&f->fo[s->region], &f->fo_params, now,
                                  s->status == 0 || s->status >= 500))
            f->excl[s->region]++;
    }
    if (s->idx == SW_NONE)
        return;
    uint64_t lat = now > s->start_ns ? now - s->start_ns : 0;
    if (s->dir == DIR_IN) {
        sw_ep_t *ep = f->eps[s->idx];
        lat_add(f, &ep->lat, lat);
        if (ep->in_flight)
            ep->in_flight--;
        if (s->sampled) {
            if (f->n_spans < s->root->cfg.max_spans_per_tick && spans_room(f, s->root)) {
                sw_span_rec_t *sp = &f->spans[f->n_spans++];
                sp->ep = s->idx;
                sp->tl = s->tl;
                sp->sl = s->sl;
                sp->pl = s->pl;
                memcpy(sp->trace, s->trace, s->tl);
                memcpy(sp->span, s->span, s->sl);
                memcpy(sp->parent, s->parent, s->pl);
                sp->start_ns = s->start_ns;
                sp->end_ns = s->start_ns + lat;
                sp->body_size = s->body_size;
                sp->arrival_count = s->arrival_count;
                sp->arrival_in_flight = s->arrival_in_flight;
            } else {
                f->spans_dropped++;
            }
        }
    } else if (s->dir == DIR_OUT) {
        sw_ob_t *o = f->obs[s->idx];
        lat_add(f, &o->lat, lat);
        o->requests++;
    }
}

proxy_action_t sw_stream_response_headers(uint32_t id)
{
    sw_stream_t *s = stream_get(id);
    if (!s || s->dir != DIR_OUT || s->region == SLATE_REGION_NONE)
        return PROXY_ACTION_CONTINUE;
    sw_hval_t v = {NULL, 0};
    unsigned st = 0;
    if (proxy_get_header_map_value(PROXY_MAP_HTTP_RESPONSE_HEADERS, ":status", 7, &v.p, &v.n) ==
            PROXY_RESULT_OK &&
        v.n == 3)
        for (size_t i = 0; i < 3; i++)
            st = st * 10 + (unsigned)(v.p[i] >= '0' && v.p[i] <= '9' ? v.p[i] - '0' : 0);
    hfree(&v);
    s->status = (uint16_t)(st ? st : 1); /* seen, even if unreadable */
    return PROXY_ACTION_CONTINUE;
}

void sw_stream_delete(uint32_t id)
{
    sw_stream_t *s = stream_get(id);
    if (!s)
        return;
    sw_stream_finish(id);
    stream_release(s);
}

/* ------------------------------------------------------------------------- */
/* Tick: rules refresh and flush.                                             */

/* ------------------------------------------------------------------------- */
/* Envoy stats.                                                               */

static uint32_t metric(proxy_metric_type_t type, const char *name, size_t n)
{
    uint32_t id = 0;
    return proxy_define_metric(type, name, n, &id) == PROXY_RESULT_OK ? id : 0;
}

static void count_per_region(sw_filter_t *f, uint32_t *n, uint32_t *ids, const char *name)
{
    for (uint16_t i = 0; i < f->n_draws && f->metrics_ok; i++) {
        if (!n[i])
            continue;
        if (!ids[i]) {
            const char *rn = slate_ruleset_region_name(f->blob, i);
            sw_sb_t s;
            sb_init(&s);
            sb_str(&s, name);
            sb_str(&s, ".slate_region=.=");
            sb_str(&s, rn ? rn : "?");
            sb_str(&s, ";.;");
            ids[i] = metric(0, s.buf, s.n);
        }
        if (ids[i])
            proxy_increment_metric(ids[i], n[i]);
        n[i] = 0;
    }
}

/* The tick's draws and failover exclusions per destination region, as
 * counters <name>.slate_region=.=<region>;.; (Istio's tag syntax: add
 * slate_region to extraStatTags to get it as a label). */
static void metrics_draws(sw_filter_t *f)
{
    count_per_region(f, f->draws, f->draw_ids, "slate_draws_total");
    count_per_region(f, f->excl, f->excl_ids, "slate_failover_exclusions_total");
}

/* Once per tick: the rules' version, their age (since the version record
 * last changed), fail-static (live rules not refreshed for over two ticks:
 * the controller is not answering) and expiries seen. */
static void metrics_tick(sw_root_t *r, uint64_t now)
{
    sw_filter_t *f = r->filter;
    if (!f->metrics_ok) {
        f->m_version = metric(1, "slate_rules_version", 19);
        f->m_age = metric(1, "slate_rules_age_seconds", 23);
        f->m_fail_static = metric(1, "slate_fail_static", 17);
        f->m_expired = metric(0, "slate_rules_expired_total", 25);
        f->metrics_ok = 1;
    }
    int live = f->blob && slate_rules_state_at(f->expiry_ns, now) == SLATE_RULES_LIVE;
    uint64_t age = f->blob && now > f->refreshed_ns ? now - f->refreshed_ns : 0;
    proxy_record_metric(f->m_version, f->blob ? f->info.version : 0);
    proxy_record_metric(f->m_age, age / 1000000000ull);
    proxy_record_metric(f->m_fail_static, live && age > 2ull * r->cfg.tick_ms * 1000000ull ? 1 : 0);
    if (f->was_live && !live)
        proxy_increment_metric(f->m_expired, 1);
    f->was_live = live;
    metrics_draws(f);
}

static void refresh_rules(sw_root_t *r)
{
    sw_filter_t *f = r->filter;
    uint8_t *v = NULL;
    size_t n = 0;
    uint32_t cas = 0;
    if (proxy_get_shared_data(f->names.version, strlen(f->names.version), &v, &n, &cas) !=
        PROXY_RESULT_OK) {
        free(v);
        return;
    }
    if (cas == f->version_cas || n != SW_VERSION_RECORD ||
        slate_wire_get_le32(v) != SW_VERSION_MAGIC) {
        free(v);
        return;
    }
    uint64_t version = slate_wire_get_le64(v + 8), checksum = slate_wire_get_le64(v + 16),
             expiry = slate_wire_get_le64(v + 24);
    free(v);
    f->refreshed_ns = sw_now();
    if (f->blob && f->info.version == version && f->info.checksum == checksum) {
        f->expiry_ns = expiry; /* same rules, refreshed expiry */
        f->version_cas = cas;
        return;
    }
    uint8_t *b = NULL;
    size_t bl = 0;
    uint32_t bcas = 0;
    if (proxy_get_shared_data(f->names.rules, strlen(f->names.rules), &b, &bl, &bcas) !=
        PROXY_RESULT_OK) {
        free(b);
        return;
    }
    slate_status e = slate_ruleset_validate(b, bl);
    if (e != SLATE_OK) {
        if (!f->logged_rules)
            sw_log(PROXY_LOG_WARN, "published rules rejected: ", slate_status_name(e), NULL);
        f->logged_rules = 1;
        free(b);
        return;
    }
    slate_ruleset_info_t info;
    slate_ruleset_info(b, &info);
    if (info.version != version || info.checksum != checksum) {
        /* The reporter published newer rules between the two reads; take them
         * next tick with their own record. */
        free(b);
        return;
    }
    metrics_draws(f); /* counted against the old rules' region ids */
    size_t nr = info.n_regions ? info.n_regions : 1;
    uint32_t *d = calloc(4 * nr, sizeof *d);
    slate_failover_region_t *fo = calloc(nr, sizeof *fo);
    sw_rname_t *rn = calloc(nr, sizeof *rn);
    if (d && fo && rn) /* a region keeps its failover state across rules versions */
        for (uint16_t i = 0; i < info.n_regions; i++) {
            const char *name = slate_ruleset_region_name(b, i);
            if (name) {
                rn[i].name = name;
                rn[i].len = strlen(name);
                rn[i].hash = sw_hash64(name, rn[i].len, 0);
            }
            for (uint16_t j = 0; j < f->n_draws; j++)
                if (name && strcmp(name, slate_ruleset_region_name(f->blob, j)) == 0)
                    fo[i] = f->fo[j];
        }
    free(f->draws);
    free(f->fo);
    free(f->rnames);
    f->rnames = rn;
    f->draws = d;
    f->draw_ids = d ? d + nr : NULL;
    f->excl = d ? d + 2 * nr : NULL;
    f->excl_ids = d ? d + 3 * nr : NULL;
    f->fo = fo;
    f->n_draws = d && fo && rn ? (uint16_t)info.n_regions : 0;
    free(f->blob);
    f->blob = b;
    f->blob_len = bl;
    f->info = info;
    f->expiry_ns = expiry;
    f->version_cas = cas;
    f->logged_rules = 0;
}

static sw_str_t S(const char *p, size_t n)
{
    sw_str_t s = {p, n};
    return s;
}

/* Sends the batch in w; on success resets what it carried. */
static int send_batch(sw_root_t *r, sw_batch_writer_t *w, uint32_t n_eps, uint32_t n_obs,
                      uint32_t *spans_from, int first, uint64_t now)
{
    sw_filter_t *f = r->filter;
    sw_batch_head_t h;
    memset(&h, 0, sizeof h);
    h.worker_id = f->worker_id;
    h.seq = f->seq;
    h.time_ns = now;
    h.window_ns = f->window_ns;
    if (first) {
        h.spans_dropped = f->spans_dropped;
        h.endpoints_overflowed = f->endpoints_overflowed;
        h.outbound_overflowed = f->outbound_overflowed;
        h.late_stamps = f->late_stamps;
        h.counters_saturated = f->saturated;
    }
    size_t len = sw_batch_finish(w, &h);
    if (proxy_enqueue_shared_queue(f->queue, f->batch, len) != PROXY_RESULT_OK) {
        f->queue_ok = 0;
        if (!f->logged_queue)
            sw_log(PROXY_LOG_WARN, "cannot enqueue to the reporter's queue ", f->names.queue,
                   "; measurements are kept until it is back");
        f->logged_queue = 1;
        return 0;
    }
    f->logged_queue = 0;
    if (first)
        f->spans_dropped = f->endpoints_overflowed = f->outbound_overflowed = f->late_stamps =
            f->saturated = 0;
    for (uint32_t i = 0; i < n_eps; i++) {
        sw_ep_t *e = f->eps[f->batch_eps[i]];
        e->requests = 0;
        lat_reset(&e->lat);
        e->sent_count = sw_rate_count(&e->rate, now);
        e->sent_in_flight = e->in_flight;
        e->ever_sent = 1;
    }
    for (uint32_t i = 0; i < n_obs; i++) {
        sw_ob_t *o = f->obs[f->batch_obs[i]];
        o->requests = 0;
        lat_reset(&o->lat);
    }
    *spans_from += w->n_spans;
    return 1;
}

/* The batch buffer is a few KiB: a flush that does not fit sends several
 * batches (the reporter merges them), and the buffer doubles, up to
 * max_batch_bytes, only when one entry does not fit in an empty batch. A
 * worker does not hold the largest batch it may ever send. The sizes fill the module
 * allocator's power-of-two blocks (16-byte header). Updates the writer w
 * (may be NULL) to the moved buffer; returns 0 when it cannot grow. */
#define SW_BATCH_FIRST (8192u - 16u)

static int batch_grow(sw_root_t *r, sw_batch_writer_t *w)
{
    sw_filter_t *f = r->filter;
    size_t max = r->cfg.max_batch_bytes;
    if (f->batch_cap >= max)
        return 0;
    size_t cap = f->batch_cap ? (f->batch_cap + 16u) * 2u - 16u : SW_BATCH_FIRST;
    if (cap > max)
        cap = max;
    uint8_t *b = realloc(f->batch, cap);
    if (!b)
        return 0;
    f->batch = b;
    f->batch_cap = cap;
    if (w) {
        w->buf = b;
        w->cap = cap;
    }
    return 1;
}

static void flush(sw_root_t *r, uint64_t now)
{
    sw_filter_t *f = r->filter;
    if (!f->queue_ok) {
        const char *vm = r->cfg.vm_id;
        if (proxy_resolve_shared_queue(vm, strlen(vm), f->names.queue, strlen(f->names.queue),
                                       &f->queue) != PROXY_RESULT_OK) {
            if (!f->logged_queue)
                sw_log(PROXY_LOG_INFO, "reporter queue ", f->names.queue,
                       " not found yet; measurements are kept until it is");
            f->logged_queue = 1;
            return;
        }
        f->queue_ok = 1;
    }
    if (!f->batch && !batch_grow(r, NULL))
        return; /* out of memory: the measurements wait for the next tick */
    f->seq++;
    sw_batch_writer_t w;
    uint32_t n_eps = 0, n_obs = 0, spans_from = 0;
    int first = 1, ok = 1, any = 0;
    sw_batch_begin(&w, f->batch, f->batch_cap);

    for (uint32_t i = 0; ok && i < f->n_eps; i++) {
        sw_ep_t *e = f->eps[i];
        sw_rate_add(&e->rate, now, 0); /* move the window to now */
        uint64_t count = sw_rate_count(&e->rate, now);
        if (!e->requests && !e->lat.m.count && e->ever_sent && count == e->sent_count &&
            e->in_flight == e->sent_in_flight)
            continue;
        while (!sw_batch_add_inbound(&w, S(e->method, e->ml), S(e->tail, e->pl), e->requests, count,
                                     e->in_flight, lat_stats(&e->lat))) {
            if (w.n_inbound == 0) {
                if (batch_grow(r, &w))
                    continue;
                break;
            }
            if (!(ok = send_batch(r, &w, n_eps, 0, &spans_from, first, now)))
                break;
            first = 0, any = 1, n_eps = 0;
            sw_batch_begin(&w, f->batch, f->batch_cap);
        }
        if (ok)
            f->batch_eps[n_eps++] = i;
    }
    for (uint32_t i = 0; ok && i < f->n_obs; i++) {
        sw_ob_t *o = f->obs[i];
        if (!o->requests && !o->lat.m.count)
            continue;
        while (!sw_batch_add_outbound(&w, S(OB_SERVICE(o), o->sl), S(OB_METHOD(o), o->ml),
                                      S(OB_PATH(o), o->pl), S(OB_REGION(o), o->rl), o->requests,
                                      lat_stats(&o->lat))) {
            if (w.n_inbound + w.n_outbound == 0) {
                if (batch_grow(r, &w))
                    continue;
                break;
            }
            if (!(ok = send_batch(r, &w, n_eps, n_obs, &spans_from, first, now)))
                break;
            first = 0, any = 1, n_eps = n_obs = 0;
            sw_batch_begin(&w, f->batch, f->batch_cap);
        }
        if (ok)
            f->batch_obs[n_obs++] = i;
    }
    for (uint32_t i = spans_from; ok && i < f->n_spans; i++) {
        sw_span_rec_t *sp = &f->spans[i];
        sw_ep_t *e = f->eps[sp->ep];
        while (!sw_batch_add_span(&w, S(sp->trace, sp->tl), S(sp->span, sp->sl),
                                  S(sp->parent, sp->pl), S(e->method, e->ml), S(e->tail, e->pl),
                                  sp->start_ns, sp->end_ns, sp->body_size, sp->arrival_count,
                                  sp->arrival_in_flight)) {
            if (w.n_inbound + w.n_outbound + w.n_spans == 0) {
                if (batch_grow(r, &w))
                    continue;
                break;
            }
            if (!(ok = send_batch(r, &w, n_eps, n_obs, &spans_from, first, now)))
                break;
            first = 0, any = 1, n_eps = n_obs = 0;
            sw_batch_begin(&w, f->batch, f->batch_cap);
        }
    }
    if (ok && (w.n_inbound + w.n_outbound + w.n_spans > 0 || !any))
        ok = send_batch(r, &w, n_eps, n_obs, &spans_from, first, now);
    /* Drop the spans that were sent; keep the rest for the next flush. */
    if (spans_from) {
        memmove(f->spans, f->spans + spans_from, (f->n_spans - spans_from) * sizeof *f->spans);
        f->n_spans -= spans_from;
    }
}

void sw_role_tick(sw_root_t *r)
{
    uint64_t now = sw_now();
    refresh_rules(r);
    metrics_tick(r, now);
    flush(r, now);
}

#ifndef SW_BUILD_SIDECAR
/* The filter makes no HTTP calls and owns no queue. */
void sw_role_queue_ready(sw_root_t *r, uint32_t queue_id)
{
    (void)r;
    (void)queue_id;
}

void sw_role_http_response(sw_root_t *r, uint32_t call_id, size_t num_headers, size_t body_size)
{
    (void)r;
    (void)call_id;
    (void)num_headers;
    (void)body_size;
}
#endif
