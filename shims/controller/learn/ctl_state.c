/*
 * slate-controller: what the global controller learns from reports.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_state.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ctl_log.h"
#include "ctl_map.h"
#include "ctl_moments.h"
#include "slate/key.h"
#include "slate/legacy.h"

#define NIL             UINT32_MAX
#define SLOTS           CTL_MAX_REGION_SLOTS
#define HIST_LEN        16
#define OVERFLOW_NAME   "~overflow"
#define OVERFLOW_METHOD "*"
#define OVERFLOW_PATH   "{overflow}"
/* Half-life of the call-graph counts, seconds. */
#define GRAPH_HALF_LIFE_S 60.0
/* Edges whose ratio is below this are noise and do not make a child "called". */
#define MIN_RATIO 0.01
/* Smoothing of measured network latency. */
#define NET_ALPHA 0.3
/* At most this many models are exposed as labelled series in /metrics. */
#define MAX_MODEL_SERIES 1000

/* ------------------------------------------------------------------------- */
/* Entities */

typedef struct hist_pt {
    uint64_t t_ns;
    double load_rps;
    double latency_ms; /* NaN: none */
    double xt_ms;      /* NaN: none */
    uint64_t requests;
} hist_pt;

typedef struct cell_ent {
    /* current window */
    uint64_t w_requests;
    uint64_t w_inflight_sum;
    uint32_t w_reports;
    ctl_moments_t w_lat;
    double w_xt_sum_ms;
    uint32_t w_xt_n;
    /* last closed window */
    uint64_t requests;
    double load_rps;
    double latency_ms;
    double in_flight;
    double xt_ms;
    bool seen_spans;   /* spans of this endpoint arrived: its model is of self time */
    bool model_window; /* the model holds window means (total latency), not spans */
    hist_pt hist[HIST_LEN];
    uint32_t hist_n, hist_pos;
    slate_opt_model_t model;
    slate_opt_fit_t fit;
    bool fit_valid;
} cell_ent;

typedef struct ep_ent {
    uint32_t svc;
    char *method;
    char *path;
    uint64_t key;
    bool overflow;
    bool has_children;
    double spans_seen; /* decayed: denominator of calls per request */
    uint64_t spans_total;
    cell_ent *cells[SLOTS];
} ep_ent;

/* Pods seen per (service, region), to scale a pod's load to the region's. */
#define CTL_MAX_PODS 256
struct pod_seen {
    uint64_t key;
    uint64_t last_ns;
    double tokens;      /* report-rate bucket (pod-reports-per-s, burst twice that) */
    uint64_t refill_ns; /* when the bucket was last refilled */
    double rps;         /* its last report's load, requests/s, after the share cap; <0 unknown */
    double lat_ms;      /* its last report's mean inbound latency, after the cap; <0 unknown */
    uint64_t seq;       /* its last report's sequence; 0 none yet */
    uint64_t drops[CTL_N_DROPS]; /* its last report's Drops counters (cumulative) */
};

typedef struct svc_ent {
    char *name;
    uint64_t key;
    bool overflow;
    uint32_t n_eps;
    uint32_t overflow_ep;
    uint64_t reports;
    uint64_t last_seen_ns[SLOTS];
    uint32_t w_reports[SLOTS];
    double w_interval_s[SLOTS];
    double last_interval_s[SLOTS];
    double pods[SLOTS];
    double capacity[SLOTS];
    struct pod_seen *pods_seen[SLOTS]; /* lazily, CTL_MAX_PODS each */
    uint64_t drops[CTL_N_DROPS];       /* its proxies' Drops, summed deltas */
    uint64_t restarts;                 /* its proxies' restarts (sequence fell) */
} svc_ent;

typedef struct outcell {
    uint32_t caller_svc;
    uint32_t dst_ep;
    uint8_t caller_region;
    uint8_t dst_region;
    uint64_t w_requests;
    ctl_moments_t w_lat;
    uint64_t requests;
    double load_rps;
    double latency_ms;
} outcell;

typedef struct edge_ent {
    uint32_t parent, child;
    double count;   /* decayed matched children */
    double bytes;   /* decayed sum of their body sizes */
    uint64_t total; /* all-time matched children */
} edge_ent;

enum { SPAN_USED = 1, SPAN_PARENT_FOUND = 2, SPAN_WAITING = 4 };

/*
 * One held span: 64 bytes, one cache line. The table is a ring (FIFO) with
 * two chained hash indexes, by own key and (for spans whose parent had not
 * arrived) by parent key. Chains are newest-first and entries leave in FIFO
 * order, so an entry is never unlinked: a chain ends at the first link that
 * is unused, belongs to another bucket, or is not older than the one before
 * it (its slot was reused by a newer span).
 */
typedef struct span_ent {
    uint64_t self_key;
    uint64_t parent_key; /* 0: root */
    uint64_t start_ns;
    uint32_t dur_ns;   /* saturating */
    uint32_t child_ns; /* sum of matched children's durations, saturating */
    uint32_t seq;      /* insertion number (wraps; compared by difference) */
    uint32_t recv_ms;  /* arrival at the controller, ms since the state started */
    float load_rps;    /* region-wide load of its endpoint at arrival; NaN: unknown */
    uint32_t body;     /* request body size, saturating */
    uint32_t next_self, next_parent;
    uint32_t ep;
    uint8_t region;
    uint8_t flags;
    uint8_t pad_[2];
} span_ent;
_Static_assert(sizeof(span_ent) == 64, "span_ent is one cache line");

struct ctl_state {
    pthread_mutex_t mu;
    ctl_config_t cfg;
    ctl_metrics_t *m;

    uint32_t max_regions; /* real regions; the overflow region is slot max_regions */
    uint32_t n_regions;
    bool overflow_region_used;
    char *region_names[SLOTS];
    uint64_t region_keys[SLOTS];

    svc_ent *svcs;
    uint32_t n_svcs, cap_svcs;
    uint32_t overflow_svc;
    ctl_map_t svc_map;

    ep_ent *eps;
    uint32_t n_eps, cap_eps, max_eps;
    ctl_map_t ep_map;

    outcell *outs;
    uint32_t n_outs;
    ctl_map_t out_map;

    edge_ent *edges;
    uint32_t n_edges;
    ctl_map_t edge_map;

    span_ent *ring;
    uint32_t ring_cap, ring_head, ring_count;
    uint32_t seq;
    uint32_t *self_heads, *parent_heads;
    uint64_t *waiting;     /* filter: bit h(k) set when a span may be waiting for parent k */
    uint32_t waiting_mask; /* bits - 1 */
    uint32_t bucket_mask;
    uint64_t created_ns;

    bool have_file;
    double file_rtt[SLOTS][SLOTS];
    double file_price[SLOTS][SLOTS];
    double est_rtt[SLOTS][SLOTS];
    bool est_known[SLOTS][SLOTS];
    ctl_regions_file_t *rf;

    uint64_t window_start_ns;
    uint64_t windows;
    double last_window_s;
    uint64_t reports_total;
    /* New entries the report being merged may still create (its share of each table). */
    uint32_t claim_svcs, claim_regions, claim_eps;
};

/* ------------------------------------------------------------------------- */
/* Scratch: decode arrays and prepared keys, per HTTP thread */

typedef struct prep_ep {
    uint64_t key;
    uint32_t path_off;
    uint32_t path_len;
} prep_ep;

typedef struct prep_out {
    prep_ep ep;
    uint64_t svc_key;
    uint64_t region_key;
} prep_out;

typedef struct prep_span {
    prep_ep ep;
    uint64_t self_key;
    uint64_t parent_key;
    double pod_rps; /* the proxy's rate for this span's endpoint at arrival; NaN: none */
} prep_span;

/* A per-thread cache of normalised paths: reports repeat the same paths. */
#define PATH_CACHE 512
typedef struct path_cache_ent {
    uint64_t hash; /* of the raw path; 0 = empty */
    uint32_t raw_len;
    uint32_t norm_len;
    char norm[SLATE_PATH_NORM_CAP];
} path_cache_ent;

struct ctl_scratch {
    path_cache_ent *paths;
    slate_load_report_t rep;
    slate_inbound_t *inbound;
    size_t cap_inbound;
    slate_outbound_t *outbound;
    size_t cap_outbound;
    slate_span_t *spans;
    size_t cap_spans;
    slate_endpoint_load_t *loads;
    size_t cap_loads;

    ctl_buf_t arena;
    prep_ep *pin;
    size_t cap_pin;
    prep_out *pout;
    size_t cap_pout;
    prep_span *pspan;
    size_t cap_pspan;
};

ctl_scratch_t *ctl_scratch_create(void)
{
    ctl_scratch_t *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return NULL;
    ctl_buf_init(&sc->arena, 0);
    sc->paths = calloc(PATH_CACHE, sizeof(path_cache_ent));
    if (!sc->paths) {
        free(sc);
        return NULL;
    }
    return sc;
}

void ctl_scratch_free(ctl_scratch_t *sc)
{
    if (!sc)
        return;
    free(sc->inbound);
    free(sc->outbound);
    free(sc->spans);
    free(sc->loads);
    free(sc->pin);
    free(sc->pout);
    free(sc->pspan);
    free(sc->paths);
    ctl_buf_free(&sc->arena);
    free(sc);
}

/* Grows *arr to hold n elements of size sz; false on allocation failure. */
static bool grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *p = realloc(*arr, c * sz);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

/* Clears the scratch report and lends it the scratch arrays at their present
 * capacities, ready for one decode. */
static slate_load_report_t *scratch_lend(ctl_scratch_t *sc)
{
    slate_load_report_t *r = &sc->rep;
    memset(r, 0, sizeof(*r));
    r->inbound = sc->inbound;
    r->cap_inbound = sc->cap_inbound;
    r->outbound = sc->outbound;
    r->cap_outbound = sc->cap_outbound;
    r->spans = sc->spans;
    r->cap_spans = sc->cap_spans;
    r->span_loads = sc->loads;
    r->cap_span_loads = sc->cap_loads;
    return r;
}

/* Judges one decode into the lent arrays, whose status is *st. True: the
 * arrays were short and have grown, so decode again. False: *st is final
 * (SLATE_OK with *out set, the decoder's error, or SLATE_ENOSPC when growing
 * failed). */
static bool scratch_retry(ctl_scratch_t *sc, slate_status *st, slate_load_report_t **out)
{
    slate_load_report_t *r = &sc->rep;
    /* A NULL array only counts: decode again once every array has room. */
    bool stored = (r->n_inbound == 0 || r->inbound) && (r->n_outbound == 0 || r->outbound) &&
                  (r->n_spans == 0 || r->spans) && (r->n_span_loads == 0 || r->span_loads);
    if (*st == SLATE_OK && stored) {
        *out = r;
        return false;
    }
    if (*st != SLATE_ENOSPC && *st != SLATE_OK)
        return false;
    /* Arrays short: every n_* is the count needed; grow and decode again. */
    if (!grow((void **)&sc->inbound, &sc->cap_inbound, r->n_inbound, sizeof(slate_inbound_t)) ||
        !grow((void **)&sc->outbound, &sc->cap_outbound, r->n_outbound, sizeof(slate_outbound_t)) ||
        !grow((void **)&sc->spans, &sc->cap_spans, r->n_spans, sizeof(slate_span_t)) ||
        !grow((void **)&sc->loads, &sc->cap_loads, r->n_span_loads,
              sizeof(slate_endpoint_load_t))) {
        *st = SLATE_ENOSPC;
        return false;
    }
    return true;
}

slate_status ctl_scratch_decode(ctl_scratch_t *sc, const uint8_t *buf, size_t len,
                                const slate_codec_limits_t *lim, slate_codec_error_t *err,
                                slate_load_report_t **out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        slate_load_report_t *r = scratch_lend(sc);
        slate_status st = slate_load_report_decode(r, buf, len, lim, err);
        if (!scratch_retry(sc, &st, out))
            return st;
    }
    return SLATE_ENOSPC;
}

slate_status ctl_scratch_decode_legacy(ctl_scratch_t *sc, bool latency, const char *body,
                                       size_t len, const slate_codec_limits_t *lim,
                                       slate_codec_error_t *err, slate_str_t service,
                                       slate_str_t region, slate_load_report_t **out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        slate_load_report_t *r = scratch_lend(sc);
        r->service = service;
        r->region = region;
        slate_status st = latency ? slate_legacy_latency_decode(r, body, len, lim, err)
                                  : slate_legacy_proxyload_decode(r, NULL, body, len, lim, err);
        if (!scratch_retry(sc, &st, out))
            return st;
    }
    return SLATE_ENOSPC;
}

/* ------------------------------------------------------------------------- */
/* Keys */

static uint64_t name_key(const char *p, size_t n)
{
    return XXH3_64bits(p, n);
}

static uint64_t region_key(const char *p, size_t n)
{
    return XXH3_64bits_withSeed(p, n, 0x5EC7);
}

static uint64_t ep_key(uint64_t svc_key, const char *method, size_t mlen, const char *path,
                       size_t plen)
{
    uint64_t h = XXH3_64bits_withSeed(method, mlen, svc_key);
    return XXH3_64bits_withSeed(path, plen, h);
}

static uint64_t span_key(const char *trace, size_t tlen, const char *span, size_t slen)
{
    if (slen == 0)
        return 0;
    uint64_t h = XXH3_64bits_withSeed(span, slen, XXH3_64bits(trace, tlen));
    return h ? h : 1;
}

static bool str_eq(const char *a, const char *b, size_t blen)
{
    return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

static char *dup_n(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* ------------------------------------------------------------------------- */
/* Creation and lookup (under the lock) */

static uint32_t region_find(ctl_state_t *s, const char *name, size_t n, uint64_t key, bool create)
{
    for (uint32_t i = 0; i < s->n_regions; i++)
        if (s->region_keys[i] == key && str_eq(s->region_names[i], name, n))
            return i;
    if (!create)
        return NIL;
    if (s->claim_regions == 0) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_CLAIM], 1);
        return s->max_regions;
    }
    if (s->n_regions < s->max_regions) {
        s->claim_regions--;
        char *nm = dup_n(name, n);
        if (nm) {
            uint32_t i = s->n_regions++;
            s->region_names[i] = nm;
            s->region_keys[i] = key;
            ctl_log(CTL_LOG_INFO, "new region '%s' (index %u)", nm, i);
            return i;
        }
    }
    if (!s->overflow_region_used) {
        s->overflow_region_used = true;
        ctl_log(CTL_LOG_WARN, "region limit %u reached: further regions go to '%s'", s->max_regions,
                OVERFLOW_NAME);
    }
    atomic_fetch_add(&s->m->overflow[CTL_OVF_REGION], 1);
    return s->max_regions;
}

static void service_init(ctl_state_t *s, svc_ent *sv, char *name, uint64_t key, bool overflow)
{
    memset(sv, 0, sizeof(*sv));
    sv->name = name;
    sv->key = key;
    sv->overflow = overflow;
    sv->overflow_ep = NIL;
    for (int r = 0; r < SLOTS; r++) {
        sv->capacity[r] = INFINITY;
        sv->pods[r] = 1;
    }
    if (s->rf) {
        for (uint32_t i = 0; i < s->rf->n_caps; i++) {
            if (strcmp(s->rf->caps[i].service, name) != 0)
                continue;
            for (uint32_t r = 0; r < s->n_regions; r++)
                if (strcmp(s->region_names[r], s->rf->caps[i].region) == 0)
                    sv->capacity[r] = s->rf->caps[i].rps;
        }
    }
}

static uint32_t service_find(ctl_state_t *s, const char *name, size_t n, uint64_t key)
{
    uint32_t pos = 0, v;
    while (ctl_map_next(&s->svc_map, key, &pos, &v))
        if (str_eq(s->svcs[v].name, name, n))
            return v;
    if (s->claim_svcs == 0) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_CLAIM], 1);
        return NIL;
    }
    if (s->n_svcs < s->cfg.max_services) {
        s->claim_svcs--;
        char *nm = dup_n(name, n);
        if (nm && ctl_map_put(&s->svc_map, key, s->n_svcs)) {
            uint32_t i = s->n_svcs++;
            service_init(s, &s->svcs[i], nm, key, false);
            ctl_log(CTL_LOG_INFO, "new service '%s'", nm);
            return i;
        }
        free(nm);
    }
    atomic_fetch_add(&s->m->overflow[CTL_OVF_SERVICE], 1);
    if (s->overflow_svc == NIL) {
        char *nm = dup_n(OVERFLOW_NAME, strlen(OVERFLOW_NAME));
        if (!nm)
            return NIL;
        s->overflow_svc = s->cfg.max_services; /* its reserved slot */
        service_init(s, &s->svcs[s->overflow_svc], nm, 0, true);
        ctl_log(CTL_LOG_WARN, "service limit %u reached: further services go to '%s'",
                s->cfg.max_services, OVERFLOW_NAME);
    }
    return s->overflow_svc;
}

/* Records that `pod` reported; past CTL_MAX_PODS the oldest entry is reused.
 * Returns its entry (NULL only when out of memory). */
static struct pod_seen *note_pod(svc_ent *sv, uint32_t r, uint64_t key, uint64_t now_ns,
                                 double burst)
{
    if (!sv->pods_seen[r]) {
        sv->pods_seen[r] = calloc(CTL_MAX_PODS, sizeof(struct pod_seen));
        if (!sv->pods_seen[r])
            return NULL;
    }
    struct pod_seen *p = sv->pods_seen[r];
    uint32_t slot = 0;
    for (uint32_t i = 0; i < CTL_MAX_PODS; i++) {
        if (p[i].last_ns != 0 && p[i].key == key) {
            p[i].last_ns = now_ns;
            return &p[i];
        }
        if (p[i].last_ns == 0) {
            slot = i;
            break;
        }
        if (p[i].last_ns < p[slot].last_ns)
            slot = i;
    }
    struct pod_seen *e = &p[slot];
    e->key = key;
    e->last_ns = now_ns;
    e->tokens = burst;
    e->refill_ns = now_ns;
    e->rps = -1;
    e->lat_ms = -1;
    e->seq = 0;
    return e;
}

/*
 * The proxy's Drops counters are cumulative since it started: the service
 * gets their growth since the pod's last report. A sequence below the last
 * one means the proxy restarted (its counters start again from 0, so they
 * count whole); a pod seen for the first time is a baseline unless its
 * sequence is 1 (it has just started); a repeated sequence adds nothing.
 */
static void pod_drops(ctl_state_t *s, svc_ent *sv, struct pod_seen *pod,
                      const slate_load_report_t *rep)
{
    if (rep->sequence == 0 || rep->sequence == pod->seq)
        return;
    _Static_assert(sizeof(slate_drops_t) == sizeof(pod->drops), "one slot per Drops counter");
    uint64_t cur[CTL_N_DROPS];
    memcpy(cur, &rep->drops, sizeof(cur));
    bool restart = pod->seq != 0 && rep->sequence < pod->seq;
    bool whole = restart || (pod->seq == 0 && rep->sequence == 1);
    if (restart) {
        sv->restarts++;
        atomic_fetch_add(&s->m->proxy_restarts, 1);
    }
    for (unsigned k = 0; k < CTL_N_DROPS; k++) {
        uint64_t d = whole                     ? cur[k]
                     : pod->seq == 0           ? 0
                     : cur[k] >= pod->drops[k] ? cur[k] - pod->drops[k]
                                               : cur[k];
        sv->drops[k] += d;
        if (d)
            atomic_fetch_add(&s->m->proxy_drops[k], d);
    }
    pod->seq = rep->sequence;
    memcpy(pod->drops, cur, sizeof(cur));
}

/* Takes one report from the pod's rate bucket; false when it is empty. */
static bool pod_take_token(const ctl_config_t *cfg, struct pod_seen *p, uint64_t now_ns)
{
    double rate = cfg->pod_reports_per_s;
    if (rate <= 0)
        return true;
    if (now_ns > p->refill_ns) {
        p->tokens += (double)(now_ns - p->refill_ns) / 1e9 * rate;
        if (p->tokens > 2 * rate)
            p->tokens = 2 * rate;
    }
    p->refill_ns = now_ns;
    if (p->tokens < 1)
        return false;
    p->tokens -= 1;
    return true;
}

/* How long a pod counts as live after its last report. */
static uint64_t pod_horizon_ns(const svc_ent *sv, uint32_t r)
{
    double iv = sv->last_interval_s[r] > 0 ? sv->last_interval_s[r] : 1.0;
    uint64_t horizon = (uint64_t)(2.5 * iv * 1e9);
    return horizon < 3000000000ull ? 3000000000ull : horizon;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, uint32_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/*
 * The share cap: one pod's report counts for at most pod-share-factor times
 * the median of the other live pods of its service in its region, in load
 * (requests/s) and in mean inbound latency. Returns the factors that scale
 * the report's request counts and latencies (1 when within its share, or when
 * fewer than pod-share-min-pods others have reported), and records the pod's
 * capped figures for the medians of later reports.
 */
static void pod_share(ctl_state_t *s, const svc_ent *sv, uint32_t r, struct pod_seen *me,
                      const slate_load_report_t *rep, uint64_t now_ns, double *req_scale,
                      double *lat_scale, double *lat_weight)
{
    *req_scale = 1;
    *lat_scale = 1;
    *lat_weight = 1;
    double iv = rep->interval_ns > 0 ? (double)rep->interval_ns / 1e9 : 1.0;
    double reqs = 0, lat_sum = 0, lat_n = 0;
    for (size_t i = 0; i < rep->n_inbound; i++) {
        reqs += (double)rep->inbound[i].requests;
        lat_sum += rep->inbound[i].latency.mean_ns * (double)rep->inbound[i].latency.count;
        lat_n += (double)rep->inbound[i].latency.count;
    }
    double rps = reqs / iv, lat = lat_n > 0 ? lat_sum / lat_n / 1e6 : -1;
    double f = s->cfg.pod_share_factor;
    const struct pod_seen *p = sv->pods_seen[r];
    if (f > 0 && p) {
        double rv[CTL_MAX_PODS], lv[CTL_MAX_PODS];
        uint32_t nr = 0, nl = 0;
        uint64_t horizon = pod_horizon_ns(sv, r);
        for (uint32_t i = 0; i < CTL_MAX_PODS && p[i].last_ns; i++) {
            if (&p[i] == me || (now_ns > p[i].last_ns && now_ns - p[i].last_ns > horizon))
                continue;
            if (p[i].rps >= 0)
                rv[nr++] = p[i].rps;
            if (p[i].lat_ms >= 0)
                lv[nl++] = p[i].lat_ms;
        }
        uint32_t min_pods = s->cfg.pod_share_min_pods;
        double m, mr = nr >= min_pods ? median(rv, nr) : 0;
        if (mr > 0 && rps > f * mr) {
            *req_scale = f * mr / rps;
            atomic_fetch_add(&s->m->clamped_load, 1);
        }
        if (nl >= min_pods && lat >= 0 && (m = median(lv, nl)) > 0 && lat > f * m) {
            *lat_scale = f * m / lat;
            lat = f * m;
            /* an outlier's latency weighs no more than a median pod's */
            if (mr > 0 && rps > mr)
                *lat_weight = mr / rps;
            atomic_fetch_add(&s->m->clamped_latency, 1);
        }
        rps *= *req_scale;
    }
    me->rps = rps;
    me->lat_ms = lat;
}

static uint64_t scale_count(uint64_t n, double k)
{
    return k >= 1 ? n : (uint64_t)llround((double)n * k);
}

/* Merges latency moments, counts scaled by req and values by lat (the share cap). */
static void merge_scaled(ctl_moments_t *d, const slate_latency_t *l, double req, double lat)
{
    uint64_t n = scale_count(l->count, req);
    double m2 = l->m2 * lat * lat * (l->count ? (double)n / (double)l->count : 0);
    ctl_moments_merge(d, n, l->mean_ns * lat, m2, (double)l->min_ns * lat, (double)l->max_ns * lat);
}

/* Pods that reported within 2.5 report intervals (at least 3 s); at least 1. */
static double pods_live(const svc_ent *sv, uint32_t r, uint64_t now_ns)
{
    const struct pod_seen *p = sv->pods_seen[r];
    if (!p)
        return 1;
    uint64_t horizon = pod_horizon_ns(sv, r);
    uint32_t n = 0;
    for (uint32_t i = 0; i < CTL_MAX_PODS && p[i].last_ns; i++)
        if (now_ns - p[i].last_ns <= horizon || p[i].last_ns > now_ns)
            n++;
    return n ? (double)n : 1;
}

static uint32_t endpoint_new(ctl_state_t *s, uint32_t svc, const char *method, size_t mlen,
                             const char *path, size_t plen, uint64_t key, bool overflow)
{
    if (s->n_eps >= s->max_eps)
        return NIL;
    if (s->n_eps == s->cap_eps) {
        uint32_t nc = s->cap_eps ? s->cap_eps * 2 : 64;
        if (nc > s->max_eps)
            nc = s->max_eps;
        ep_ent *p = realloc(s->eps, (size_t)nc * sizeof(ep_ent));
        if (!p)
            return NIL;
        s->eps = p;
        s->cap_eps = nc;
    }
    char *m = dup_n(method, mlen), *pa = dup_n(path, plen);
    if (!m || !pa) {
        free(m);
        free(pa);
        return NIL;
    }
    uint32_t i = s->n_eps;
    ep_ent *e = &s->eps[i];
    memset(e, 0, sizeof(*e));
    e->svc = svc;
    e->method = m;
    e->path = pa;
    e->key = key;
    e->overflow = overflow;
    if (!overflow && !ctl_map_put(&s->ep_map, key, i)) {
        free(m);
        free(pa);
        return NIL;
    }
    s->n_eps++;
    return i;
}

static uint32_t endpoint_find(ctl_state_t *s, uint32_t svc, const char *method, size_t mlen,
                              const char *path, size_t plen, uint64_t key)
{
    uint32_t pos = 0, v;
    /* Keys were computed from the reported service name; in the overflow
     * service all names share one key space. */
    if (s->svcs[svc].overflow)
        key = ep_key(0, method, mlen, path, plen);
    while (ctl_map_next(&s->ep_map, key, &pos, &v)) {
        ep_ent *e = &s->eps[v];
        if (e->svc == svc && str_eq(e->method, method, mlen) && str_eq(e->path, path, plen))
            return v;
    }
    svc_ent *sv = &s->svcs[svc];
    if (s->claim_eps == 0) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_CLAIM], 1);
        return NIL;
    }
    s->claim_eps--;
    if (sv->n_eps < s->cfg.max_endpoints_per_service) {
        uint32_t i = endpoint_new(s, svc, method, mlen, path, plen, key, false);
        if (i != NIL) {
            sv->n_eps++;
            return i;
        }
    }
    atomic_fetch_add(&s->m->overflow[CTL_OVF_ENDPOINT], 1);
    if (sv->overflow_ep == NIL) {
        sv->overflow_ep =
            endpoint_new(s, svc, OVERFLOW_METHOD, 1, OVERFLOW_PATH, strlen(OVERFLOW_PATH), 0, true);
        if (sv->overflow_ep != NIL)
            ctl_log(CTL_LOG_WARN,
                    "service '%s': endpoint limit %u reached: further endpoints "
                    "go to '%s %s'",
                    sv->name, s->cfg.max_endpoints_per_service, OVERFLOW_METHOD, OVERFLOW_PATH);
    }
    return sv->overflow_ep;
}

/* An empty model with the configured parameters. */
static void cell_model_reset(const ctl_state_t *s, cell_ent *c)
{
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    mp.degree = s->cfg.model_degree;
    mp.min_weight = s->cfg.model_min_samples;
    mp.forget = s->cfg.model_forget;
    if (slate_opt_model_init(&c->model, &mp) != SLATE_OK)
        (void)slate_opt_model_init(&c->model, NULL);
    c->model_window = false;
}

static cell_ent *cell_get(ctl_state_t *s, uint32_t ep, uint32_t region)
{
    ep_ent *e = &s->eps[ep];
    if (!e->cells[region]) {
        cell_ent *c = calloc(1, sizeof(cell_ent));
        if (!c)
            return NULL;
        cell_model_reset(s, c);
        c->latency_ms = NAN;
        c->xt_ms = NAN;
        e->cells[region] = c;
    }
    return e->cells[region];
}

static uint32_t outcell_find(ctl_state_t *s, uint32_t caller_svc, uint32_t caller_region,
                             uint32_t dst_ep, uint32_t dst_region)
{
    uint64_t key = ((uint64_t)caller_svc << 44) ^ ((uint64_t)caller_region << 38) ^
                   ((uint64_t)dst_region << 32) ^ dst_ep;
    uint32_t pos = 0, v;
    while (ctl_map_next(&s->out_map, key, &pos, &v)) {
        outcell *o = &s->outs[v];
        if (o->caller_svc == caller_svc && o->caller_region == caller_region &&
            o->dst_ep == dst_ep && o->dst_region == dst_region)
            return v;
    }
    if (s->n_outs >= s->cfg.max_outbound || !ctl_map_put(&s->out_map, key, s->n_outs)) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_OUTBOUND], 1);
        return NIL;
    }
    outcell *o = &s->outs[s->n_outs];
    memset(o, 0, sizeof(*o));
    o->caller_svc = caller_svc;
    o->caller_region = (uint8_t)caller_region;
    o->dst_ep = dst_ep;
    o->dst_region = (uint8_t)dst_region;
    o->latency_ms = NAN;
    return s->n_outs++;
}

static edge_ent *edge_get(ctl_state_t *s, uint32_t parent, uint32_t child)
{
    uint64_t key = ((uint64_t)parent << 32) | child;
    uint32_t pos = 0, v;
    while (ctl_map_next(&s->edge_map, key, &pos, &v))
        if (s->edges[v].parent == parent && s->edges[v].child == child)
            return &s->edges[v];
    if (s->n_edges >= s->cfg.max_edges || !ctl_map_put(&s->edge_map, key, s->n_edges)) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_EDGE], 1);
        return NULL;
    }
    edge_ent *e = &s->edges[s->n_edges++];
    memset(e, 0, sizeof(*e));
    e->parent = parent;
    e->child = child;
    s->eps[parent].has_children = true;
    ctl_log(CTL_LOG_INFO, "call graph: %s %s %s -> %s %s %s", s->svcs[s->eps[parent].svc].name,
            s->eps[parent].method, s->eps[parent].path, s->svcs[s->eps[child].svc].name,
            s->eps[child].method, s->eps[child].path);
    return e;
}

/* ------------------------------------------------------------------------- */
/* Time-stitching */

static uint32_t bucket_of(const ctl_state_t *s, uint64_t key)
{
    return (uint32_t)(key ^ (key >> 29)) & s->bucket_mask;
}

static uint32_t waiting_bit(const ctl_state_t *s, uint64_t key)
{
    return (uint32_t)(key >> 32 ^ key * 0x9E3779B97F4A7C15ull >> 40) & s->waiting_mask;
}

static uint32_t recv_ms_of(const ctl_state_t *s, uint64_t now_ns)
{
    return now_ns > s->created_ns ? (uint32_t)((now_ns - s->created_ns) / 1000000u) : 0;
}

/* The next live link of a chain: older than `seq_prev` and still in bucket b. */
static bool link_live(const ctl_state_t *s, uint32_t i, uint32_t b, bool by_parent, bool first,
                      uint32_t seq_prev)
{
    if (i == NIL)
        return false;
    const span_ent *e = &s->ring[i];
    if (!(e->flags & SPAN_USED))
        return false;
    if (by_parent && !(e->flags & SPAN_WAITING))
        return false;
    if (bucket_of(s, by_parent ? e->parent_key : e->self_key) != b)
        return false;
    return first || (int32_t)(seq_prev - e->seq) > 0;
}

static uint32_t span_find(ctl_state_t *s, uint64_t self_key)
{
    uint32_t b = bucket_of(s, self_key);
    bool first = true;
    uint32_t prev = 0;
    for (uint32_t i = s->self_heads[b]; link_live(s, i, b, false, first, prev);
         i = s->ring[i].next_self) {
        if (s->ring[i].self_key == self_key)
            return i;
        prev = s->ring[i].seq;
        first = false;
    }
    return NIL;
}

static double ns_to_ms(double ns)
{
    return ns / 1e6;
}

/* A span leaves the table: its exclusive time becomes a model sample. */
static void span_finalize(ctl_state_t *s, uint32_t idx)
{
    span_ent *sp = &s->ring[idx];
    uint32_t child = sp->child_ns < sp->dur_ns ? sp->child_ns : sp->dur_ns;
    double xt_ms = ns_to_ms((double)(sp->dur_ns - child));
    cell_ent *c = s->eps[sp->ep].cells[sp->region];
    if (c) {
        c->w_xt_sum_ms += xt_ms;
        c->w_xt_n++;
        c->seen_spans = true;
        /* A model gets samples of one kind: window means taken before the
         * first span arrived were total latency, not self time. */
        if (c->model_window)
            cell_model_reset(s, c);
        if (isfinite(sp->load_rps))
            (void)slate_opt_model_add(&c->model, (double)sp->load_rps, xt_ms);
    }
    sp->flags = 0;
}

static void span_evict_oldest(ctl_state_t *s)
{
    uint32_t tail = (s->ring_head + s->ring_cap - s->ring_count) % s->ring_cap;
    if (s->ring[tail].flags & SPAN_USED)
        span_finalize(s, tail);
    s->ring_count--;
}

static void spans_expire(ctl_state_t *s, uint64_t now_ns)
{
    uint32_t now_ms = recv_ms_of(s, now_ns);
    uint32_t horizon = (uint32_t)s->cfg.stitch_window_ms;
    while (s->ring_count > 0) {
        uint32_t tail = (s->ring_head + s->ring_cap - s->ring_count) % s->ring_cap;
        if (now_ms - s->ring[tail].recv_ms < horizon)
            break;
        span_evict_oldest(s);
    }
}

static uint32_t sat32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void stitch(ctl_state_t *s, span_ent *parent, span_ent *child)
{
    child->flags |= SPAN_PARENT_FOUND;
    if (parent->ep == child->ep)
        return;
    parent->child_ns = sat32((uint64_t)parent->child_ns + child->dur_ns);
    edge_ent *e = edge_get(s, parent->ep, child->ep);
    if (e) {
        e->count += 1;
        e->bytes += (double)child->body;
        e->total++;
    }
    atomic_fetch_add(&s->m->spans_stitched, 1);
}

static void span_insert(ctl_state_t *s, const slate_span_t *in, const prep_span *p, uint32_t ep,
                        uint32_t region, double load_rps, double dur_scale, uint64_t now_ns)
{
    uint32_t now_ms = recv_ms_of(s, now_ns);
    if (s->ring_count == s->ring_cap) {
        uint32_t tail = (s->ring_head + s->ring_cap - s->ring_count) % s->ring_cap;
        if (now_ms - s->ring[tail].recv_ms < (uint32_t)s->cfg.stitch_window_ms)
            atomic_fetch_add(&s->m->overflow[CTL_OVF_SPAN_EVICT], 1);
        span_evict_oldest(s);
    }
    uint32_t idx = s->ring_head;
    s->ring_head = (s->ring_head + 1) % s->ring_cap;
    s->ring_count++;
    span_ent *sp = &s->ring[idx];
    memset(sp, 0, sizeof(*sp));
    sp->self_key = p->self_key;
    sp->parent_key = p->parent_key;
    sp->start_ns = in->start_ns;
    uint64_t dur = in->end_ns > in->start_ns ? in->end_ns - in->start_ns : 0;
    sp->dur_ns = sat32(dur_scale < 1 ? (uint64_t)((double)dur * dur_scale) : dur);
    sp->seq = ++s->seq;
    sp->recv_ms = now_ms;
    sp->load_rps = (float)load_rps;
    sp->body = sat32(in->body_size);
    sp->ep = ep;
    sp->region = (uint8_t)region;
    sp->flags = SPAN_USED;
    /* From its first span on, the endpoint's model is of self time: windows
     * that close before the span is stitched must not feed it total latency. */
    cell_ent *cell = s->eps[ep].cells[region];
    if (cell)
        cell->seen_spans = true;
    uint32_t sb = bucket_of(s, sp->self_key);
    sp->next_self = s->self_heads[sb];
    s->self_heads[sb] = idx;
    sp->next_parent = NIL;
    s->eps[ep].spans_seen += 1;
    s->eps[ep].spans_total++;
    /* Its parent may already be here; otherwise it waits for it. */
    if (sp->parent_key) {
        uint32_t pi = span_find(s, sp->parent_key);
        if (pi != NIL && pi != idx) {
            stitch(s, &s->ring[pi], sp);
        } else {
            uint32_t pb = bucket_of(s, sp->parent_key);
            sp->flags |= SPAN_WAITING;
            sp->next_parent = s->parent_heads[pb];
            s->parent_heads[pb] = idx;
            uint32_t w = waiting_bit(s, sp->parent_key);
            s->waiting[w >> 6] |= 1ull << (w & 63);
        }
    }
    /* Its children may already be here, waiting (the filter says when to look). */
    uint32_t w = waiting_bit(s, sp->self_key);
    if (s->waiting[w >> 6] & (1ull << (w & 63))) {
        bool first = true;
        uint32_t prev = 0;
        for (uint32_t ci = s->parent_heads[sb]; link_live(s, ci, sb, true, first, prev);
             ci = s->ring[ci].next_parent) {
            span_ent *c = &s->ring[ci];
            if (ci != idx && c->parent_key == sp->self_key && !(c->flags & SPAN_PARENT_FOUND))
                stitch(s, sp, c);
            prev = c->seq;
            first = false;
        }
    }
}

/* Rebuilds the waiting filter from the spans still waiting (stale bits go). */
static void waiting_rebuild(ctl_state_t *s)
{
    memset(s->waiting, 0, ((size_t)s->waiting_mask + 1) / 8);
    for (uint32_t k = 0; k < s->ring_count; k++) {
        const span_ent *e = &s->ring[(s->ring_head + s->ring_cap - 1 - k) % s->ring_cap];
        if ((e->flags & (SPAN_USED | SPAN_WAITING | SPAN_PARENT_FOUND)) ==
            (SPAN_USED | SPAN_WAITING)) {
            uint32_t w = waiting_bit(s, e->parent_key);
            s->waiting[w >> 6] |= 1ull << (w & 63);
        }
    }
}

/* Prefetches the index heads a report's spans will touch, before the lock. */
static void spans_prefetch(const ctl_state_t *s, const prep_span *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        __builtin_prefetch(&s->self_heads[bucket_of(s, p[i].self_key)]);
        if (p[i].parent_key)
            __builtin_prefetch(&s->self_heads[bucket_of(s, p[i].parent_key)]);
        __builtin_prefetch(&s->waiting[waiting_bit(s, p[i].self_key) >> 6]);
    }
}

/* ------------------------------------------------------------------------- */
/* Intake */

static bool prep_endpoint(ctl_scratch_t *sc, uint64_t svc_key, slate_str_t method, slate_str_t path,
                          prep_ep *out)
{
    const char *raw = path.ptr ? path.ptr : "";
    uint64_t h = XXH3_64bits(raw, path.len) | 1;
    /* Two-way sets, the most recently filled way first: two hot paths that
     * share a set no longer evict each other on every report. */
    path_cache_ent *set = &sc->paths[(h % (PATH_CACHE / 2)) * 2];
    path_cache_ent *pc = set;
    if (pc->hash != h || pc->raw_len != path.len) {
        pc = &set[1];
        if (pc->hash != h || pc->raw_len != path.len) {
            if (set[0].hash)
                set[1] = set[0];
            pc = set;
            size_t nl = 0;
            if (slate_path_normalize(raw, path.len, pc->norm, sizeof(pc->norm), &nl) != SLATE_OK)
                return false; /* cannot happen: the buffer holds any result */
            pc->norm_len = (uint32_t)nl;
            pc->hash = h;
            pc->raw_len = (uint32_t)path.len;
        }
    }
    const char *norm = pc->norm;
    size_t n = pc->norm_len;
    out->path_off = (uint32_t)sc->arena.len;
    out->path_len = (uint32_t)n;
    ctl_buf_append(&sc->arena, norm, n);
    out->key = ep_key(svc_key, method.ptr ? method.ptr : "", method.len, norm, n);
    return !sc->arena.failed;
}

static int prepare(ctl_scratch_t *sc, const slate_load_report_t *rep, uint32_t max_spans)
{
    ctl_buf_reset(&sc->arena);
    size_t n_spans = rep->n_spans < max_spans ? rep->n_spans : max_spans;
    if (!grow((void **)&sc->pin, &sc->cap_pin, rep->n_inbound, sizeof(prep_ep)) ||
        !grow((void **)&sc->pout, &sc->cap_pout, rep->n_outbound, sizeof(prep_out)) ||
        !grow((void **)&sc->pspan, &sc->cap_pspan, n_spans, sizeof(prep_span)))
        return -1;
    uint64_t svc_key = name_key(rep->service.ptr, rep->service.len);
    for (size_t i = 0; i < rep->n_inbound; i++)
        if (!prep_endpoint(sc, svc_key, rep->inbound[i].method, rep->inbound[i].path, &sc->pin[i]))
            return -1;
    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        prep_out *p = &sc->pout[i];
        p->svc_key = name_key(o->dst_service.ptr, o->dst_service.len);
        p->region_key = region_key(o->dst_region.ptr, o->dst_region.len);
        if (!prep_endpoint(sc, p->svc_key, o->method, o->path, &p->ep))
            return -1;
    }
    for (size_t i = 0; i < n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        prep_span *p = &sc->pspan[i];
        if (!prep_endpoint(sc, svc_key, sp->method, sp->path, &p->ep))
            return -1;
        p->self_key =
            span_key(sp->trace_id.ptr, sp->trace_id.len, sp->span_id.ptr, sp->span_id.len);
        p->parent_key = span_key(sp->trace_id.ptr, sp->trace_id.len, sp->parent_span_id.ptr,
                                 sp->parent_span_id.len);
        /* The span's own endpoint among its load-at-arrival entries. */
        p->pod_rps = NAN;
        for (size_t k = 0; k < sp->n_load && sp->load; k++) {
            const slate_endpoint_load_t *ld = &sp->load[k];
            if (ld->method.len == sp->method.len && ld->path.len == sp->path.len &&
                (ld->method.len == 0 ||
                 memcmp(ld->method.ptr, sp->method.ptr, ld->method.len) == 0) &&
                (ld->path.len == 0 || memcmp(ld->path.ptr, sp->path.ptr, ld->path.len) == 0)) {
                p->pod_rps = ld->rps;
                break;
            }
        }
    }
    return 0;
}

int ctl_state_ingest(ctl_state_t *s, ctl_scratch_t *sc, const slate_load_report_t *rep,
                     bool latency_only, bool rate_exempt, uint64_t now_ns, ctl_ingest_info_t *info)
{
    memset(info, 0, sizeof(*info));
    uint32_t max_spans = s->cfg.max_spans_per_report;
    if (prepare(sc, rep, max_spans) != 0)
        return -1;
    size_t n_spans = rep->n_spans < max_spans ? rep->n_spans : max_spans;
    info->spans_used = (uint32_t)n_spans;
    info->spans_dropped = (uint32_t)(rep->n_spans - n_spans);
    const char *arena = sc->arena.data;

    spans_prefetch(s, sc->pspan, n_spans);
    pthread_mutex_lock(&s->mu);
    if (s->created_ns == 0)
        s->created_ns = now_ns;
    s->reports_total++;
    /* One report may create at most a share of each table (an eighth of the
     * services, a quarter of the regions and of a service's endpoints, and
     * never fewer than 4, 2 and 8), so a single report naming hundreds of
     * services cannot fill them for everyone else. */
    s->claim_svcs = s->cfg.max_services / 8 > 4 ? s->cfg.max_services / 8 : 4;
    s->claim_regions = s->max_regions / 4 > 2 ? s->max_regions / 4 : 2;
    s->claim_eps =
        s->cfg.max_endpoints_per_service / 4 > 8 ? s->cfg.max_endpoints_per_service / 4 : 8;
    uint32_t region = region_find(s, rep->region.ptr, rep->region.len,
                                  region_key(rep->region.ptr, rep->region.len), true);
    uint32_t svc = service_find(s, rep->service.ptr, rep->service.len,
                                name_key(rep->service.ptr, rep->service.len));
    if (svc == NIL) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    info->region_overflow = region == s->max_regions;
    info->service_overflow = s->svcs[svc].overflow;
    svc_ent *sv = &s->svcs[svc];
    struct pod_seen *pod = note_pod(sv, region, XXH3_64bits(rep->pod.ptr, rep->pod.len), now_ns,
                                    2 * s->cfg.pod_reports_per_s);
    if (pod && !rate_exempt && !pod_take_token(&s->cfg, pod, now_ns)) {
        pthread_mutex_unlock(&s->mu);
        return CTL_INGEST_POD_RATE;
    }
    if (pod && !latency_only)
        pod_drops(s, sv, pod, rep);
    double req_k = 1, lat_k = 1, lat_w = 1;
    if (pod && !latency_only)
        pod_share(s, sv, region, pod, rep, now_ns, &req_k, &lat_k, &lat_w);
    sv->reports++;
    sv->last_seen_ns[region] = now_ns;
    if (!latency_only) {
        sv->w_reports[region]++;
        sv->w_interval_s[region] += rep->interval_ns > 0 ? (double)rep->interval_ns / 1e9 : 1.0;
    }

    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        const prep_ep *p = &sc->pin[i];
        uint32_t ep = endpoint_find(s, svc, in->method.ptr ? in->method.ptr : "", in->method.len,
                                    arena + p->path_off, p->path_len, p->key);
        if (ep == NIL)
            continue;
        cell_ent *c = cell_get(s, ep, region);
        if (!c)
            continue;
        if (!latency_only) {
            c->w_requests += scale_count(in->requests, req_k);
            c->w_inflight_sum += scale_count(in->in_flight, req_k);
            c->w_reports++;
        }
        merge_scaled(&c->w_lat, &in->latency, lat_w < req_k ? lat_w : req_k, lat_k);
    }

    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        const prep_out *p = &sc->pout[i];
        if (o->dst_region.len == 0 || o->dst_service.len == 0)
            continue; /* SLATE's latency body names no region: nothing to attribute */
        uint32_t dsvc = service_find(s, o->dst_service.ptr, o->dst_service.len, p->svc_key);
        if (dsvc == NIL)
            continue;
        uint32_t ep = endpoint_find(s, dsvc, o->method.ptr ? o->method.ptr : "", o->method.len,
                                    arena + p->ep.path_off, p->ep.path_len, p->ep.key);
        uint32_t dreg = region_find(s, o->dst_region.ptr, o->dst_region.len, p->region_key, true);
        if (ep == NIL)
            continue;
        uint32_t oc = outcell_find(s, svc, region, ep, dreg);
        if (oc == NIL)
            continue;
        outcell *c = &s->outs[oc];
        c->w_requests += scale_count(o->requests, req_k);
        merge_scaled(&c->w_lat, &o->latency, lat_w < req_k ? lat_w : req_k, 1);
    }

    double pods = pods_live(sv, region, now_ns);
    /* The index heads were prefetched before the lock; now fetch the entries they
     * point at, all at once, so the lookups below do not wait on memory one by one. */
    for (size_t i = 0; i < n_spans; i++) {
        uint32_t h = s->self_heads[bucket_of(s, sc->pspan[i].self_key)];
        if (h != NIL)
            __builtin_prefetch(&s->ring[h]);
        if (sc->pspan[i].parent_key) {
            h = s->self_heads[bucket_of(s, sc->pspan[i].parent_key)];
            if (h != NIL)
                __builtin_prefetch(&s->ring[h]);
        }
    }
    /* A report sent twice (a retry) repeats its spans: its first span tells. */
    size_t first_span = 0;
    while (first_span < n_spans && sc->pspan[first_span].self_key == 0)
        first_span++;
    if (first_span < n_spans) {
        uint32_t dup = span_find(s, sc->pspan[first_span].self_key);
        if (dup != NIL &&
            s->ring[dup].recv_ms + (uint32_t)s->cfg.stitch_window_ms >= recv_ms_of(s, now_ns)) {
            atomic_fetch_add(&s->m->spans_duplicate, n_spans);
            n_spans = 0;
        }
    }
    for (size_t i = 0; i < n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        const prep_span *p = &sc->pspan[i];
        if (p->self_key == 0)
            continue; /* no span id: nothing to stitch */
        uint32_t ep = endpoint_find(s, svc, sp->method.ptr ? sp->method.ptr : "", sp->method.len,
                                    arena + p->ep.path_off, p->ep.path_len, p->ep.key);
        if (ep == NIL || !cell_get(s, ep, region))
            continue;
        double load = isfinite(p->pod_rps) ? p->pod_rps * req_k * pods : NAN;
        span_insert(s, sp, p, ep, region, load, lat_k, now_ns);
    }
    pthread_mutex_unlock(&s->mu);

    atomic_fetch_add(&s->m->spans_received, n_spans);
    if (info->spans_dropped)
        atomic_fetch_add(&s->m->overflow[CTL_OVF_SPAN], info->spans_dropped);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Lifecycle */

ctl_state_t *ctl_state_create(const ctl_config_t *cfg, ctl_metrics_t *metrics,
                              const ctl_regions_file_t *regions)
{
    ctl_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->cfg = *cfg;
    s->m = metrics;
    s->max_regions = cfg->max_regions < SLOTS - 1 ? cfg->max_regions : SLOTS - 1;
    s->cap_svcs = cfg->max_services + 1;
    s->svcs = calloc(s->cap_svcs, sizeof(svc_ent));
    s->overflow_svc = NIL;
    uint64_t max_eps = (uint64_t)(cfg->max_services + 1) * (cfg->max_endpoints_per_service + 1);
    s->max_eps = max_eps > 16u * 1024 * 1024 ? 16u * 1024 * 1024 : (uint32_t)max_eps;
    s->outs = calloc(cfg->max_outbound, sizeof(outcell));
    s->edges = calloc(cfg->max_edges, sizeof(edge_ent));
    s->ring_cap = cfg->span_table;
    s->ring = calloc(s->ring_cap, sizeof(span_ent));
    uint32_t buckets = 16;
    while (buckets < s->ring_cap)
        buckets *= 2;
    s->bucket_mask = buckets - 1;
    s->self_heads = malloc((size_t)buckets * sizeof(uint32_t));
    s->parent_heads = malloc((size_t)buckets * sizeof(uint32_t));
    /* 8 bits per held span keeps the filter's false positives near 1 in 16. */
    uint64_t wbits = (uint64_t)buckets * 8;
    s->waiting_mask = (uint32_t)(wbits - 1);
    s->waiting = calloc((size_t)(wbits / 64), sizeof(uint64_t));
    if (!s->svcs || !s->outs || !s->edges || !s->ring || !s->self_heads || !s->parent_heads ||
        !s->waiting || !ctl_map_init(&s->svc_map, cfg->max_services) ||
        !ctl_map_init(&s->ep_map, s->max_eps) || !ctl_map_init(&s->out_map, cfg->max_outbound) ||
        !ctl_map_init(&s->edge_map, cfg->max_edges)) {
        ctl_state_free(s);
        return NULL;
    }
    memset(s->self_heads, 0xff, (size_t)buckets * sizeof(uint32_t));
    memset(s->parent_heads, 0xff, (size_t)buckets * sizeof(uint32_t));
    if (regions && regions->n > 0) {
        s->rf = malloc(sizeof(*s->rf));
        if (!s->rf) {
            ctl_state_free(s);
            return NULL;
        }
        *s->rf = *regions;
        s->have_file = true;
        s->claim_regions = UINT32_MAX; /* the operator's regions file is not a report */
        for (uint32_t i = 0; i < regions->n && i < s->max_regions; i++) {
            const char *nm = regions->names[i];
            region_find(s, nm, strlen(nm), region_key(nm, strlen(nm)), true);
        }
        for (uint32_t a = 0; a < regions->n && a < s->max_regions; a++)
            for (uint32_t b = 0; b < regions->n && b < s->max_regions; b++) {
                s->file_rtt[a][b] = regions->rtt_ms[a][b];
                s->file_price[a][b] = regions->price[a][b];
            }
    }
    return s;
}

void ctl_state_free(ctl_state_t *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_regions; i++)
        free(s->region_names[i]);
    if (s->svcs)
        for (uint32_t i = 0; i < s->cap_svcs; i++) {
            free(s->svcs[i].name);
            for (int r = 0; r < SLOTS; r++)
                free(s->svcs[i].pods_seen[r]);
        }
    for (uint32_t i = 0; i < s->n_eps; i++) {
        free(s->eps[i].method);
        free(s->eps[i].path);
        for (int r = 0; r < SLOTS; r++)
            free(s->eps[i].cells[r]);
    }
    free(s->eps);
    free(s->svcs);
    free(s->outs);
    free(s->edges);
    free(s->ring);
    free(s->self_heads);
    free(s->parent_heads);
    free(s->waiting);
    free(s->rf);
    ctl_map_free(&s->svc_map);
    ctl_map_free(&s->ep_map);
    ctl_map_free(&s->out_map);
    ctl_map_free(&s->edge_map);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ------------------------------------------------------------------------- */
/* Window close and the solver's snapshot */

static double edge_ratio(const ctl_state_t *s, const edge_ent *e)
{
    double d = s->eps[e->parent].spans_seen;
    return d > 0 ? e->count / d : 0;
}

static uint32_t slot_count(const ctl_state_t *s)
{
    return s->overflow_region_used ? s->max_regions + 1 : s->n_regions;
}

static uint32_t slot_index(const ctl_state_t *s, uint32_t i)
{
    /* slots 0..n_regions-1, then the overflow slot */
    return i < s->n_regions ? i : s->max_regions;
}

static void close_window(ctl_state_t *s, uint64_t now_ns)
{
    double window_s = now_ns > s->window_start_ns ? (double)(now_ns - s->window_start_ns) / 1e9 : 0;
    if (s->window_start_ns == 0 || window_s <= 0)
        window_s = (double)s->cfg.solve_period_ms / 1000.0;
    if (window_s < 1e-3)
        window_s = 1e-3;
    s->last_window_s = window_s;
    s->window_start_ns = now_ns;
    s->windows++;
    uint32_t nslots = slot_count(s);

    for (uint32_t i = 0; i < s->cap_svcs; i++) {
        svc_ent *sv = &s->svcs[i];
        if (!sv->name)
            continue;
        for (uint32_t k = 0; k < nslots; k++) {
            uint32_t r = slot_index(s, k);
            if (sv->w_reports[r] > 0)
                sv->last_interval_s[r] = sv->w_interval_s[r] / sv->w_reports[r];
            sv->pods[r] = pods_live(sv, r, now_ns);
            sv->w_reports[r] = 0;
            sv->w_interval_s[r] = 0;
        }
    }

    for (uint32_t i = 0; i < s->n_eps; i++) {
        ep_ent *e = &s->eps[i];
        for (uint32_t k = 0; k < nslots; k++) {
            uint32_t r = slot_index(s, k);
            cell_ent *c = e->cells[r];
            if (!c)
                continue;
            c->requests = c->w_requests;
            /* Loads are per second of the window, or of the reports' interval when the
             * window is shorter (a report then stands for its whole interval). */
            double span_s = window_s;
            svc_ent *sv = &s->svcs[e->svc];
            if (sv->last_interval_s[r] > span_s)
                span_s = sv->last_interval_s[r];
            c->load_rps = (double)c->w_requests / span_s;
            c->latency_ms = c->w_lat.count ? ns_to_ms(c->w_lat.mean_ns) : NAN;
            c->in_flight = c->w_reports
                               ? (double)c->w_inflight_sum / c->w_reports * s->svcs[e->svc].pods[r]
                               : 0;
            c->xt_ms = c->w_xt_n ? c->w_xt_sum_ms / c->w_xt_n : NAN;
            /* Endpoints without spans and without children: the window mean is their self time.
             * Once spans or children show up, window means already taken go. */
            if ((c->seen_spans || e->has_children) && c->model_window)
                cell_model_reset(s, c);
            if (!c->seen_spans && !e->has_children && c->w_lat.count > 0 && c->load_rps > 0 &&
                slate_opt_model_add(&c->model, c->load_rps, c->latency_ms) == SLATE_OK)
                c->model_window = true;
            c->fit_valid = slate_opt_model_fit(&c->model, &c->fit) == SLATE_OK;
            hist_pt *h = &c->hist[c->hist_pos];
            h->t_ns = now_ns;
            h->load_rps = c->load_rps;
            h->latency_ms = c->latency_ms;
            h->xt_ms = c->xt_ms;
            h->requests = c->requests;
            c->hist_pos = (c->hist_pos + 1) % HIST_LEN;
            if (c->hist_n < HIST_LEN)
                c->hist_n++;
            c->w_requests = 0;
            c->w_inflight_sum = 0;
            c->w_reports = 0;
            ctl_moments_reset(&c->w_lat);
            c->w_xt_sum_ms = 0;
            c->w_xt_n = 0;
        }
    }

    for (uint32_t i = 0; i < s->n_outs; i++) {
        outcell *o = &s->outs[i];
        o->requests = o->w_requests;
        o->load_rps = (double)o->w_requests / window_s;
        o->latency_ms = o->w_lat.count ? ns_to_ms(o->w_lat.mean_ns) : NAN;
        cell_ent *dst = s->eps[o->dst_ep].cells[o->dst_region];
        if (isfinite(o->latency_ms) && dst && isfinite(dst->latency_ms) &&
            o->caller_region < s->max_regions && o->dst_region < s->max_regions) {
            double net = o->latency_ms - dst->latency_ms;
            if (net < 0)
                net = 0;
            double *est = &s->est_rtt[o->caller_region][o->dst_region];
            bool *known = &s->est_known[o->caller_region][o->dst_region];
            *est = *known ? (1 - NET_ALPHA) * *est + NET_ALPHA * net : net;
            *known = true;
        }
        o->w_requests = 0;
        ctl_moments_reset(&o->w_lat);
    }

    double decay = exp(-window_s * 0.69314718055994531 / GRAPH_HALF_LIFE_S);
    for (uint32_t i = 0; i < s->n_edges; i++) {
        s->edges[i].count *= decay;
        s->edges[i].bytes *= decay;
    }
    for (uint32_t i = 0; i < s->n_eps; i++)
        s->eps[i].spans_seen *= decay;
}

static double network_rtt(const ctl_state_t *s, uint32_t a, uint32_t b)
{
    if (s->have_file)
        return s->file_rtt[a][b];
    if (a == b || !s->est_known[a][b])
        return 0;
    double base = s->est_known[a][a] ? s->est_rtt[a][a] : 0;
    double v = s->est_rtt[a][b] - base;
    return v > 0 ? v : 0;
}

void ctl_solve_input_free(ctl_solve_input_t *in)
{
    if (!in)
        return;
    for (uint32_t i = 0; i < in->n_regions; i++)
        free(in->region_names ? in->region_names[i] : NULL);
    free(in->region_names);
    for (uint32_t i = 0; i < in->n_services; i++)
        free(in->service_names ? in->service_names[i] : NULL);
    free(in->service_names);
    free(in->service_overflow);
    free(in->deployed);
    free(in->capacity);
    for (uint32_t i = 0; i < in->n_endpoints; i++) {
        free(in->endpoints[i].method);
        free(in->endpoints[i].path);
    }
    free(in->endpoints);
    free(in->edges);
    free(in);
}

static ctl_solve_input_t *snapshot(ctl_state_t *s, uint64_t now_ns)
{
    ctl_solve_input_t *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    in->now_ns = now_ns;
    in->window_s = s->last_window_s;
    uint32_t R = s->n_regions;
    in->region_names = calloc(R ? R : 1, sizeof(char *));
    uint32_t nsv = s->cap_svcs;
    in->service_names = calloc(nsv, sizeof(char *));
    in->service_overflow = calloc(nsv, sizeof(bool));
    in->deployed = calloc(nsv, sizeof(*in->deployed));
    in->capacity = calloc(nsv, sizeof(*in->capacity));
    in->endpoints = calloc(s->n_eps ? s->n_eps : 1, sizeof(ctl_si_endpoint_t));
    in->edges = calloc(s->n_edges ? s->n_edges : 1, sizeof(*in->edges));
    if (!in->region_names || !in->service_names || !in->service_overflow || !in->deployed ||
        !in->capacity || !in->endpoints || !in->edges) {
        ctl_solve_input_free(in);
        return NULL;
    }
    for (uint32_t r = 0; r < R; r++) {
        in->region_names[r] = strdup(s->region_names[r]);
        if (!in->region_names[r]) {
            ctl_solve_input_free(in);
            return NULL;
        }
        in->n_regions = r + 1;
    }
    for (uint32_t a = 0; a < R; a++)
        for (uint32_t b = 0; b < R; b++) {
            in->rtt_ms[a][b] = network_rtt(s, a, b);
            in->price[a][b] = s->have_file ? s->file_price[a][b] : 0;
        }
    uint64_t deployed_for = 3 * s->cfg.solve_period_ms * 1000000ull;
    if (deployed_for < 15000000000ull)
        deployed_for = 15000000000ull;
    for (uint32_t i = 0; i < nsv; i++) {
        svc_ent *sv = &s->svcs[i];
        in->n_services = i + 1;
        if (!sv->name) {
            in->service_names[i] = strdup("");
            in->service_overflow[i] = true;
        } else {
            in->service_names[i] = strdup(sv->name);
            in->service_overflow[i] = sv->overflow;
        }
        if (!in->service_names[i]) {
            ctl_solve_input_free(in);
            return NULL;
        }
        for (uint32_t r = 0; r < R; r++) {
            in->deployed[i][r] = sv->name && sv->last_seen_ns[r] != 0 &&
                                 now_ns - sv->last_seen_ns[r] <= deployed_for;
            in->capacity[i][r] = sv->capacity[r];
        }
    }
    double lat_sum = 0, load_sum = 0;
    for (uint32_t i = 0; i < s->n_eps; i++) {
        ep_ent *e = &s->eps[i];
        ctl_si_endpoint_t *o = &in->endpoints[i];
        o->method = strdup(e->method);
        o->path = strdup(e->path);
        in->n_endpoints = i + 1;
        if (!o->method || !o->path) {
            ctl_solve_input_free(in);
            return NULL;
        }
        o->svc = e->svc;
        o->overflow = e->overflow || s->svcs[e->svc].overflow;
        for (uint32_t r = 0; r < R; r++) {
            cell_ent *c = e->cells[r];
            o->latency_ms[r] = NAN;
            if (!c)
                continue;
            o->load[r] = c->load_rps;
            o->latency_ms[r] = c->latency_ms;
            if (c->fit_valid) {
                o->fit[r] = c->fit;
                o->has_fit[r] = true;
            }
        }
    }
    for (uint32_t i = 0; i < s->n_edges; i++) {
        edge_ent *e = &s->edges[i];
        double ratio = edge_ratio(s, e);
        in->edges[i].parent = e->parent;
        in->edges[i].child = e->child;
        in->edges[i].calls_per_request = ratio;
        in->edges[i].bytes_per_call =
            e->count > 0 && e->bytes > 0 ? e->bytes / e->count : s->cfg.default_bytes_per_call;
        if (ratio >= MIN_RATIO)
            in->endpoints[e->child].has_parent = true;
    }
    in->n_edges = s->n_edges;
    for (uint32_t i = 0; i < in->n_endpoints; i++) {
        ctl_si_endpoint_t *o = &in->endpoints[i];
        if (o->has_parent || o->overflow)
            continue;
        for (uint32_t r = 0; r < R; r++)
            if (o->load[r] > 0 && isfinite(o->latency_ms[r])) {
                lat_sum += o->load[r] * o->latency_ms[r];
                load_sum += o->load[r];
            }
    }
    in->measured_latency_ms = load_sum > 0 ? lat_sum / load_sum : NAN;
    return in;
}

ctl_solve_input_t *ctl_state_tick(ctl_state_t *s, uint64_t now_ns)
{
    pthread_mutex_lock(&s->mu);
    if (s->created_ns == 0)
        s->created_ns = now_ns;
    spans_expire(s, now_ns);
    waiting_rebuild(s);
    close_window(s, now_ns);
    ctl_solve_input_t *in = snapshot(s, now_ns);
    pthread_mutex_unlock(&s->mu);
    return in;
}

void ctl_state_counts(ctl_state_t *s, uint32_t *services, uint32_t *endpoints, uint32_t *regions,
                      uint32_t *edges)
{
    pthread_mutex_lock(&s->mu);
    *services = s->n_svcs + (s->overflow_svc != NIL ? 1 : 0);
    *endpoints = s->n_eps;
    *regions = s->n_regions + (s->overflow_region_used ? 1 : 0);
    *edges = s->n_edges;
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------- */
/* JSON */

static const char *slot_name(const ctl_state_t *s, uint32_t r)
{
    return r < s->n_regions ? s->region_names[r] : OVERFLOW_NAME;
}

static void json_fit(ctl_json_t *j, const slate_opt_fit_t *f)
{
    ctl_json_obj(j);
    ctl_json_kf64(j, "a_ms", f->a);
    ctl_json_kf64(j, "b_ms_per_rps", f->b);
    ctl_json_kf64(j, "c_ms_per_rps2", f->c);
    ctl_json_ku64(j, "degree", f->degree);
    ctl_json_kf64(j, "r2", f->r2);
    ctl_json_kf64(j, "rmse_ms", f->rmse);
    ctl_json_kf64(j, "x_max_rps", f->x_max);
    ctl_json_kf64(j, "weight", f->weight);
    ctl_json_ku64(j, "samples", f->samples);
    ctl_json_kbool(j, "trusted", f->trusted != 0);
    ctl_json_obj_end(j);
}

static void json_cell(ctl_state_t *s, ctl_json_t *j, uint32_t r, const cell_ent *c)
{
    ctl_json_obj(j);
    ctl_json_kstr(j, "region", slot_name(s, r));
    ctl_json_ku64(j, "requests", c->requests);
    ctl_json_kf64(j, "load_rps", c->load_rps);
    ctl_json_kf64(j, "latency_ms", c->latency_ms);
    ctl_json_kf64(j, "exclusive_ms", c->xt_ms);
    ctl_json_kf64(j, "in_flight", c->in_flight);
    ctl_json_key(j, "model");
    if (c->fit_valid)
        json_fit(j, &c->fit);
    else
        ctl_json_null(j);
    ctl_json_key(j, "history");
    ctl_json_arr(j);
    for (uint32_t k = 0; k < c->hist_n; k++) {
        const hist_pt *h = &c->hist[(c->hist_pos + HIST_LEN - c->hist_n + k) % HIST_LEN];
        ctl_json_obj(j);
        ctl_json_ku64(j, "t_ns", h->t_ns);
        ctl_json_ku64(j, "requests", h->requests);
        ctl_json_kf64(j, "load_rps", h->load_rps);
        ctl_json_kf64(j, "latency_ms", h->latency_ms);
        ctl_json_kf64(j, "exclusive_ms", h->xt_ms);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_obj_end(j);
}

static void json_ep_name(ctl_state_t *s, ctl_json_t *j, uint32_t ep)
{
    const ep_ent *e = &s->eps[ep];
    ctl_json_obj(j);
    ctl_json_kstr(j, "service", s->svcs[e->svc].name);
    ctl_json_kstr(j, "method", e->method);
    ctl_json_kstr(j, "path", e->path);
    ctl_json_obj_end(j);
}

void ctl_state_write_json(ctl_state_t *s, ctl_json_t *j, uint64_t now_ns)
{
    pthread_mutex_lock(&s->mu);
    uint32_t nslots = slot_count(s);
    ctl_json_key(j, "window");
    ctl_json_obj(j);
    ctl_json_ku64(j, "count", s->windows);
    ctl_json_kf64(j, "last_length_s", s->last_window_s);
    ctl_json_ku64(j, "current_start_ns", s->window_start_ns);
    ctl_json_ku64(j, "reports_total", s->reports_total);
    ctl_json_obj_end(j);

    ctl_json_key(j, "regions");
    ctl_json_arr(j);
    for (uint32_t k = 0; k < nslots; k++) {
        uint32_t r = slot_index(s, k);
        ctl_json_obj(j);
        ctl_json_kstr(j, "name", slot_name(s, r));
        ctl_json_ku64(j, "index", r);
        ctl_json_kbool(j, "overflow", r >= s->max_regions);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "services");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < s->cap_svcs; i++) {
        svc_ent *sv = &s->svcs[i];
        if (!sv->name)
            continue;
        ctl_json_obj(j);
        ctl_json_kstr(j, "name", sv->name);
        ctl_json_kbool(j, "overflow", sv->overflow);
        ctl_json_ku64(j, "reports", sv->reports);
        ctl_json_ku64(j, "proxy_restarts", sv->restarts);
        ctl_json_key(j, "proxy_drops");
        ctl_json_obj(j);
        for (unsigned k = 0; k < CTL_N_DROPS; k++)
            ctl_json_ku64(j, ctl_drops_name(k), sv->drops[k]);
        ctl_json_obj_end(j);
        ctl_json_key(j, "regions");
        ctl_json_arr(j);
        for (uint32_t k = 0; k < nslots; k++) {
            uint32_t r = slot_index(s, k);
            if (!sv->last_seen_ns[r])
                continue;
            ctl_json_obj(j);
            ctl_json_kstr(j, "region", slot_name(s, r));
            ctl_json_key(j, "last_report_age_s");
            ctl_json_f64(
                j, now_ns > sv->last_seen_ns[r] ? (double)(now_ns - sv->last_seen_ns[r]) / 1e9 : 0);
            ctl_json_kf64(j, "pods_estimate", sv->pods[r]);
            ctl_json_kf64(j, "capacity_rps", sv->capacity[r]); /* infinite prints as null */
            ctl_json_obj_end(j);
        }
        ctl_json_arr_end(j);
        ctl_json_key(j, "endpoints");
        ctl_json_arr(j);
        for (uint32_t e = 0; e < s->n_eps; e++) {
            ep_ent *ep = &s->eps[e];
            if (ep->svc != i)
                continue;
            ctl_json_obj(j);
            ctl_json_kstr(j, "method", ep->method);
            ctl_json_kstr(j, "path", ep->path);
            ctl_json_kbool(j, "overflow", ep->overflow);
            ctl_json_ku64(j, "spans", ep->spans_total);
            ctl_json_key(j, "regions");
            ctl_json_arr(j);
            for (uint32_t k = 0; k < nslots; k++) {
                uint32_t r = slot_index(s, k);
                if (ep->cells[r])
                    json_cell(s, j, r, ep->cells[r]);
            }
            ctl_json_arr_end(j);
            ctl_json_obj_end(j);
        }
        ctl_json_arr_end(j);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "call_graph");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < s->n_edges; i++) {
        edge_ent *e = &s->edges[i];
        ctl_json_obj(j);
        ctl_json_key(j, "parent");
        json_ep_name(s, j, e->parent);
        ctl_json_key(j, "child");
        json_ep_name(s, j, e->child);
        ctl_json_kf64(j, "calls_per_request", edge_ratio(s, e));
        ctl_json_kf64(j, "bytes_per_call", e->count > 0 ? e->bytes / e->count : 0);
        ctl_json_ku64(j, "matched_spans", e->total);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "outbound");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < s->n_outs; i++) {
        outcell *o = &s->outs[i];
        ctl_json_obj(j);
        ctl_json_kstr(j, "caller_service", s->svcs[o->caller_svc].name);
        ctl_json_kstr(j, "caller_region", slot_name(s, o->caller_region));
        ctl_json_key(j, "destination");
        json_ep_name(s, j, o->dst_ep);
        ctl_json_kstr(j, "dst_region", slot_name(s, o->dst_region));
        ctl_json_ku64(j, "requests", o->requests);
        ctl_json_kf64(j, "load_rps", o->load_rps);
        ctl_json_kf64(j, "latency_ms", o->latency_ms);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "network");
    ctl_json_obj(j);
    ctl_json_kstr(j, "source", s->have_file ? "regions-file" : "measured");
    ctl_json_key(j, "rtt_ms");
    ctl_json_arr(j);
    for (uint32_t a = 0; a < s->n_regions; a++) {
        ctl_json_arr(j);
        for (uint32_t b = 0; b < s->n_regions; b++)
            ctl_json_f64(j, network_rtt(s, a, b));
        ctl_json_arr_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_key(j, "price_per_byte");
    ctl_json_arr(j);
    for (uint32_t a = 0; a < s->n_regions; a++) {
        ctl_json_arr(j);
        for (uint32_t b = 0; b < s->n_regions; b++)
            ctl_json_f64(j, s->have_file ? s->file_price[a][b] : 0);
        ctl_json_arr_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_obj_end(j);

    ctl_json_key(j, "stitching");
    ctl_json_obj(j);
    ctl_json_ku64(j, "spans_held", s->ring_count);
    ctl_json_ku64(j, "capacity", s->ring_cap);
    ctl_json_ku64(j, "window_ms", s->cfg.stitch_window_ms);
    ctl_json_obj_end(j);

    ctl_json_key(j, "limits");
    ctl_json_obj(j);
    ctl_json_ku64(j, "max_body_bytes", s->cfg.max_body_bytes);
    ctl_json_ku64(j, "max_services", s->cfg.max_services);
    ctl_json_ku64(j, "max_endpoints_per_service", s->cfg.max_endpoints_per_service);
    ctl_json_ku64(j, "max_regions", s->max_regions);
    ctl_json_ku64(j, "max_spans_per_report", s->cfg.max_spans_per_report);
    ctl_json_ku64(j, "max_edges", s->cfg.max_edges);
    ctl_json_ku64(j, "max_outbound", s->cfg.max_outbound);
    ctl_json_ku64(j, "span_table", s->ring_cap);
    ctl_json_obj_end(j);

    ctl_json_key(j, "overflow");
    ctl_json_obj(j);
    for (int k = 0; k < CTL_OVF_COUNT_; k++) {
        ctl_json_key(j, ctl_overflow_name((ctl_overflow)k));
        ctl_json_u64(j, atomic_load(&s->m->overflow[k]));
    }
    ctl_json_obj_end(j);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------- */
/* Metrics */

static void label_value(ctl_buf_t *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            ctl_buf_puts(out, "\\\\");
        else if (*v == '"')
            ctl_buf_puts(out, "\\\"");
        else if (*v == '\n')
            ctl_buf_puts(out, "\\n");
        else
            ctl_buf_putc(out, *v);
    }
}

static void model_labels(ctl_state_t *s, ctl_buf_t *out, const ep_ent *e, uint32_t r)
{
    ctl_buf_puts(out, "{service=\"");
    label_value(out, s->svcs[e->svc].name);
    ctl_buf_puts(out, "\",method=\"");
    label_value(out, e->method);
    ctl_buf_puts(out, "\",path=\"");
    label_value(out, e->path);
    ctl_buf_puts(out, "\",region=\"");
    label_value(out, slot_name(s, r));
    ctl_buf_puts(out, "\"}");
}

static void fmt_double(ctl_buf_t *out, double v)
{
    if (isnan(v))
        ctl_buf_puts(out, "NaN");
    else if (isinf(v))
        ctl_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else
        ctl_buf_printf(out, "%.17g", v);
}

void ctl_state_write_metrics(ctl_state_t *s, ctl_buf_t *out)
{
    pthread_mutex_lock(&s->mu);
    uint32_t nslots = slot_count(s);
    uint32_t trusted = 0, untrusted = 0;
    for (uint32_t i = 0; i < s->n_eps; i++)
        for (uint32_t k = 0; k < nslots; k++) {
            cell_ent *c = s->eps[i].cells[slot_index(s, k)];
            if (c && c->fit_valid) {
                if (c->fit.trusted)
                    trusted++;
                else
                    untrusted++;
            }
        }
    ctl_buf_printf(
        out,
        "# HELP slate_controller_services Services tracked, the overflow service included.\n"
        "# TYPE slate_controller_services gauge\n"
        "slate_controller_services %u\n"
        "# HELP slate_controller_endpoints Endpoints tracked, overflow endpoints included.\n"
        "# TYPE slate_controller_endpoints gauge\n"
        "slate_controller_endpoints %u\n"
        "# HELP slate_controller_regions Regions tracked, the overflow region included.\n"
        "# TYPE slate_controller_regions gauge\n"
        "slate_controller_regions %u\n"
        "# HELP slate_controller_call_graph_edges Edges of the learned call graph.\n"
        "# TYPE slate_controller_call_graph_edges gauge\n"
        "slate_controller_call_graph_edges %u\n"
        "# HELP slate_controller_outbound_cells Outbound (caller, destination) cells tracked.\n"
        "# TYPE slate_controller_outbound_cells gauge\n"
        "slate_controller_outbound_cells %u\n"
        "# HELP slate_controller_spans_held Spans waiting in the stitching table.\n"
        "# TYPE slate_controller_spans_held gauge\n"
        "slate_controller_spans_held %u\n"
        "# HELP slate_controller_models Fitted latency models by trust.\n"
        "# TYPE slate_controller_models gauge\n"
        "slate_controller_models{trusted=\"true\"} %u\n"
        "slate_controller_models{trusted=\"false\"} %u\n",
        s->n_svcs + (s->overflow_svc != NIL ? 1u : 0u), s->n_eps,
        s->n_regions + (s->overflow_region_used ? 1u : 0u), s->n_edges, s->n_outs, s->ring_count,
        trusted, untrusted);
    static const char *const names[3] = {"slate_controller_model_r2",
                                         "slate_controller_model_rmse_ms",
                                         "slate_controller_model_samples"};
    static const char *const helps[3] = {
        "Coefficient of determination of each latency model's fit (first 1000 models).",
        "Root mean squared residual of each latency model's fit, milliseconds (first 1000 models).",
        "Samples added to each latency model (first 1000 models)."};
    for (int g = 0; g < 3; g++) {
        ctl_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", names[g], helps[g], names[g]);
        uint32_t emitted = 0;
        for (uint32_t i = 0; i < s->n_eps && emitted < MAX_MODEL_SERIES; i++)
            for (uint32_t k = 0; k < nslots && emitted < MAX_MODEL_SERIES; k++) {
                uint32_t r = slot_index(s, k);
                cell_ent *c = s->eps[i].cells[r];
                if (!c || !c->fit_valid || c->fit.samples == 0)
                    continue;
                ctl_buf_puts(out, names[g]);
                model_labels(s, out, &s->eps[i], r);
                ctl_buf_putc(out, ' ');
                if (g == 0)
                    fmt_double(out, c->fit.r2);
                else if (g == 1)
                    fmt_double(out, c->fit.rmse);
                else
                    ctl_buf_printf(out, "%" PRIu64, c->fit.samples);
                ctl_buf_putc(out, '\n');
                emitted++;
            }
    }
    pthread_mutex_unlock(&s->mu);
}
