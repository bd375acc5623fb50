/*
 * slate-controller: the learning state's insides (its tables, locks and
 * the functions its files share), included by the learn/ files alone
 * (ctl_state.h is the state's face; tests read it too).
 *
 *   ctl_scratch.c   decode scratch and report preparation (no lock)
 *   ctl_registry.c  the tables and their lookups
 *   ctl_pods.c      per-pod plausibility (rate, drops, share cap)
 *   ctl_spans.c     time-stitching of spans into the call graph
 *   ctl_state.c     lifecycle (tables made and freed) and the locks
 *   ctl_ingest.c    merging a prepared report
 *   ctl_window.c    window close and the solver's snapshot
 *   ctl_views.c     JSON and Prometheus views
 *
 * Locks (ctl_ingest.c has the intake's order of steps):
 *   rw        read by the intake; written (exclusive) by whatever creates or
 *             moves entries (a report naming something new, the window close,
 *             aging, the views). Under the read side the tables' shapes do not
 *             change: indexes, maps, the endpoint array and cells stay put.
 *   shards[]  one mutex per service index modulo CTL_SHARDS: a service's
 *             counters and pods, the window fields (w_*) of its endpoints'
 *             cells and of the outbound cells it is the caller of.
 *   span_mu   the span ring and its indexes, the call-graph edges, and the
 *             span fields of endpoints (spans_seen, spans_total, has_children)
 *             and cells (w_xt_*, seen_spans, model, model_window).
 * The order is rw, then one of shards[] or span_mu (never both). Stamps
 * read by aging (touched_ns) are written with relaxed atomics under rw's
 * read side (ls_touch). The ls_ functions of ctl_scratch.c touch only the
 * caller's scratch; the rest run under rw as their comments say.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_TABLES_H
#define CTL_TABLES_H

#include "ctl_state.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "ctl_map.h"
#include "slate/meter.h"
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
    uint64_t touched_ns; /* last report naming it (inbound, outbound or span) */
    char *method;
    char *path;
    uint32_t method_len; /* strlen of method and path, so a lookup compares without strlen */
    uint32_t path_len;
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
    uint64_t touched_ns; /* last report naming it (as reporter or destination) */
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
    struct pod_seen *pods_seen[SLOTS]; /* lazily; grows by doubling up to CTL_MAX_PODS */
    uint16_t pods_cap[SLOTS];          /* entries of pods_seen[r] */
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

/* Per-report creation context: the report's time, whether entries may be
 * created (rw held exclusive), and the share of each table the report may
 * still take. A lookup that would create without `create` sets `missed`
 * and returns NIL: the caller retries with rw exclusive. */
typedef struct ls_ctx {
    uint64_t now_ns;
    bool create;
    bool missed;
    uint32_t claim_svcs, claim_regions, claim_eps;
} ls_ctx;

/* Aging's stamps: written by many intake threads at once (relaxed; at most
 * once per millisecond each, so threads do not keep taking the line from
 * each other), read by aging with rw exclusive. */
#define LS_TOUCH_NS 1000000u
static inline void ls_touch(uint64_t *stamp, uint64_t now_ns)
{
    uint64_t old = __atomic_load_n(stamp, __ATOMIC_RELAXED);
    if (old > now_ns || now_ns - old >= LS_TOUCH_NS)
        __atomic_store_n(stamp, now_ns, __ATOMIC_RELAXED);
}

/* A mutex with counts of how often it was taken and found taken (both
 * updated while holding it). */
typedef struct ls_lock {
    pthread_mutex_t mu;
    uint64_t taken;
    uint64_t waited;
} ls_lock;

static inline void ls_lock_take(ls_lock *l)
{
    if (pthread_mutex_trylock(&l->mu) != 0) {
        pthread_mutex_lock(&l->mu);
        l->waited++;
    }
    l->taken++;
}

static inline void ls_lock_give(ls_lock *l)
{
    pthread_mutex_unlock(&l->mu);
}

#define CTL_SHARDS 64
typedef struct ls_shard {
    _Alignas(64) ls_lock lk;
} ls_shard;

enum { SPAN_USED = 1, SPAN_PARENT_FOUND = 2, SPAN_WAITING = 4 };

/*
 * One held span: 64 bytes, one cache line. The table is a ring (FIFO) with
 * two chained hash indexes, by own key and (for spans whose parent had not
 * arrived) by parent key. Chains are newest-first and entries leave in FIFO
 * order, so an entry is never unlinked. A link names a slot and the
 * insertion number of the span it meant: the span is still held when that
 * number is among the last ring_count inserted (ls_link_held), which is
 * known without reading the slot. A chain ends at the first link whose span
 * has left, or whose slot holds another span or an unused one. A bucket's
 * head (8 bytes) also carries 4 bits of its span's key and whether another
 * span was in the bucket when it came, so a lookup of a key nobody holds (a
 * parent that has not arrived: most lookups) reads only the head unless the
 * bucket holds two spans or more or the bits match (1 in 16): the ring is
 * far larger than the caches, and reading one of its entries is a miss.
 */
typedef struct span_link {
    uint32_t idx; /* NIL: none */
    uint32_t seq; /* the span's insertion number */
} span_link;

/* A bucket's head: the first link's insertion number (bits 0-31) and slot
 * (32-58; all ones: none), whether more links follow (59), the key's tag
 * (60-63). All ones: an empty bucket. */
typedef uint64_t span_head;
#define HEAD_IDX_NIL 0x7FFFFFFu
_Static_assert(HEAD_IDX_NIL >= (1u << 26), "span-table is at most 2^26 slots");

static inline uint32_t ls_key_tag(uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 60);
}
static inline span_link ls_head_first(span_head h)
{
    uint32_t idx = (uint32_t)(h >> 32) & HEAD_IDX_NIL;
    return (span_link){idx == HEAD_IDX_NIL ? NIL : idx, (uint32_t)h};
}
static inline bool ls_head_more(span_head h)
{
    return (h >> 59) & 1;
}
static inline uint32_t ls_head_tag(span_head h)
{
    return (uint32_t)(h >> 60);
}
static inline span_head ls_head_make(span_link first, bool more, uint32_t tag)
{
    return (uint64_t)first.seq | (uint64_t)(first.idx & HEAD_IDX_NIL) << 32 | (uint64_t)more << 59 |
           (uint64_t)tag << 60;
}

/* A bucket of both indexes: the head of its own-key chain and of its
 * parent-key chain. A span reads both heads of its own key's bucket (to link
 * itself in, and for children waiting), and of its parent's (to find the
 * parent, or to wait for it): one cache line each instead of two. */
typedef struct span_bucket {
    span_head self, parent;
} span_bucket;

typedef struct span_ent {
    uint64_t self_key;
    uint64_t parent_key;                     /* 0: root */
    uint32_t next_self_seq, next_parent_seq; /* insertion numbers of the next links' spans */
    uint32_t dur_ns;                         /* saturating */
    uint32_t child_ns;                       /* sum of matched children's durations, saturating */
    uint32_t seq;                            /* insertion number (wraps; compared by difference) */
    uint32_t recv_ms; /* arrival at the controller, ms since the state started */
    float load_rps;   /* region-wide load of its endpoint at arrival; NaN: unknown */
    uint32_t body;    /* request body size, saturating */
    uint32_t next_self, next_parent;
    uint32_t ep;
    uint8_t region;
    uint8_t flags;
    uint8_t pad_[2];
} span_ent;
_Static_assert(sizeof(span_ent) == 64, "span_ent is one cache line");

struct ctl_state {
    pthread_rwlock_t rw;
    ls_shard shards[CTL_SHARDS];
    _Alignas(64) ls_lock span_mu;
    _Alignas(64) uint64_t escalations; /* reports that took rw exclusive (under it) */
    ctl_config_t cfg;
    ctl_metrics_t *m;

    uint32_t max_regions; /* real regions; the overflow region is slot max_regions */
    uint32_t n_regions;
    bool overflow_region_used;
    char *region_names[SLOTS];
    uint64_t region_keys[SLOTS];
    uint64_t region_touched_ns[SLOTS]; /* last report naming it */
    uint32_t pinned_regions;           /* the regions file's: never retired (indices below) */
    uint64_t layout_gen;               /* +1 whenever retiring moved entries to new indices */

    svc_ent *svcs;
    uint32_t n_svcs, cap_svcs;
    uint32_t overflow_svc;
    ctl_map_t svc_map;

    ep_ent *eps;
    uint32_t n_eps, cap_eps, max_eps;
    /* Changes whenever endpoint or service indexes may have moved (aging), and
     * differs between states: an index remembered in a thread's key cache is
     * trusted only under the epoch it was found in. */
    uint64_t ep_epoch;
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
    span_bucket *heads;    /* both indexes' heads of a bucket share a cache line */
    uint64_t *waiting;     /* filter: bit h(k) set when a span may be waiting for parent k */
    uint32_t waiting_mask; /* bits - 1 */
    uint32_t bucket_mask;
    uint64_t created_ns;
    /* Span admission (span-admit-fill, ls_span_admission()): a span is
     * stitched when its trace key is at most span_admit (UINT64_MAX: every
     * trace), so the spans of a trace are kept or left out together. The
     * preparation reads it without a lock; it is set under span_mu from the
     * spans offered since adm_start_ms. */
    uint64_t span_admit;
    uint64_t adm_offered;
    uint32_t adm_start_ms;

    bool have_file;
    double file_rtt[SLOTS][SLOTS];
    double file_price[SLOTS][SLOTS];
    double est_rtt[SLOTS][SLOTS];
    bool est_known[SLOTS][SLOTS];
    ctl_regions_file_t *rf;

    uint64_t window_start_ns;
    uint64_t windows;
    double last_window_s;
    uint64_t reports_total; /* atomic adds under rw's read side */
};

/* rw exclusive: the window close, aging and the views. */
void ls_lock_all(ctl_state_t *s);
void ls_unlock_all(ctl_state_t *s);

/* ------------------------------------------------------------------------- */
/* Scratch: decode arrays and prepared keys, per HTTP thread */

typedef struct prep_ep {
    uint64_t key;
    uint64_t tag; /* the endpoint's key cache tag */
    struct key_cache_ent
        *kc;     /* its key cache entry (another endpoint may take it over: check tag) */
    uint32_t ep; /* resolved under rw: the endpoint's index, NIL when dropped */
} prep_ep;

typedef struct prep_out {
    prep_ep ep;
    uint64_t svc_key;
    uint64_t region_key;
    uint32_t oc; /* resolved under rw: the outbound cell, NIL when dropped */
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

/* A per-thread cache of endpoint keys, in sets of KEY_WAYS: reports repeat
 * the same (service, method, path), so each is keyed once, not once per
 * report. (Direct-mapped, a few hundred endpoints already left about 1 in 8
 * lookups of the benchmark's report missing on a collision.) */
#define KEY_CACHE 4096
#define KEY_WAYS  4
typedef struct key_cache_ent {
    uint64_t tag;   /* the raw path's hash mixed with the service's key and the method; 0 = empty */
    uint64_t key;   /* the core's endpoint key of (service, method, normalised path) */
    uint64_t epoch; /* the state's ep_epoch when ep and svc were found; 0 = none */
    uint32_t ep;    /* the endpoint's index in that state, found by a full lookup */
    uint32_t svc;
} key_cache_ent;

struct ctl_scratch {
    path_cache_ent *paths;
    key_cache_ent *keys;
    slate_load_report_t rep;
    slate_meter_report_mem_t dec; /* the decode's arrays, grown to the largest report */

    prep_ep *pin;
    size_t cap_pin;
    prep_out *pout;
    size_t cap_pout;
    prep_span *pspan;
    size_t cap_pspan;
    /* of the last ls_prepare(): spans with an id, and those of them whose
     * trace was not admitted (their self_key is 0: nothing to stitch) */
    uint32_t spans_offered, spans_shed;
};

/* ctl_pods.c */
bool ls_pod_take_token(const ctl_config_t *cfg, struct pod_seen *p, uint64_t now_ns);
double ls_pods_live(const svc_ent *sv, uint32_t r, uint64_t now_ns);
struct pod_seen *ls_note_pod(svc_ent *sv, uint32_t r, uint64_t key, uint64_t now_ns, double burst);
uint64_t ls_scale_count(uint64_t n, double k);
void ls_merge_scaled(ctl_moments_t *d, const slate_latency_t *l, double req, double lat);
void ls_pod_drops(ctl_state_t *s, svc_ent *sv, struct pod_seen *pod,
                  const slate_load_report_t *rep);
void ls_pod_share(ctl_state_t *s, const svc_ent *sv, uint32_t r, struct pod_seen *me,
                  const slate_load_report_t *rep, uint64_t now_ns, double *req_scale,
                  double *lat_scale, double *lat_weight);

/* ctl_registry.c */
/* Lookups under rw: read side unless cx->create (then exclusive). */
cell_ent *ls_cell_get(ctl_state_t *s, ls_ctx *cx, uint32_t ep, uint32_t region);
edge_ent *ls_edge_get(ctl_state_t *s, uint32_t parent, uint32_t child); /* span_mu */
uint32_t ls_endpoint_find(ctl_state_t *s, ls_ctx *cx, uint32_t svc, const char *method, size_t mlen,
                          const char *path, size_t plen, uint64_t key);
/* ls_endpoint_find() for a prepared endpoint named by its raw method and
 * path: the index the thread's key cache remembers for it in this state, when
 * still valid, else the lookup with the path normalised (whose answer is
 * remembered). */
uint32_t ls_endpoint_find_prep(ctl_state_t *s, ls_ctx *cx, uint32_t svc, slate_str_t method,
                               slate_str_t raw_path, const prep_ep *p);
uint32_t ls_outcell_find(ctl_state_t *s, ls_ctx *cx, uint32_t caller_svc, uint32_t caller_region,
                         uint32_t dst_ep, uint32_t dst_region);
uint32_t ls_region_find(ctl_state_t *s, ls_ctx *cx, const char *name, size_t n, uint64_t key);
uint32_t ls_service_find(ctl_state_t *s, ls_ctx *cx, const char *name, size_t n, uint64_t key);
uint64_t ls_name_key(const char *p, size_t n);
uint64_t ls_region_key(const char *p, size_t n);
/* A span's key: its id hashed with its trace's key (0: no id). */
uint64_t ls_trace_key(const char *trace, size_t tlen);
uint64_t ls_span_key(uint64_t trace_key, const char *span, size_t slen);
void ls_cell_model_reset(const ctl_state_t *s, cell_ent *c);

/* ctl_scratch.c */
int ls_prepare(ctl_scratch_t *sc, const slate_load_report_t *rep, uint32_t max_spans,
               uint64_t span_admit);

/* ctl_spans.c */
double ls_ns_to_ms(double ns);
uint32_t ls_bucket_of(const ctl_state_t *s, uint64_t key);
uint32_t ls_recv_ms_of(const ctl_state_t *s, uint64_t now_ns);
uint32_t ls_span_find(ctl_state_t *s, uint64_t self_key);
/* Whether the span a link names is still held (its slot may not say so). */
static inline bool ls_seq_held(const ctl_state_t *s, uint32_t seq)
{
    return (uint32_t)(s->seq - seq) < s->ring_count;
}
static inline bool ls_link_held(const ctl_state_t *s, span_link l)
{
    return l.idx != NIL && ls_seq_held(s, l.seq);
}
void ls_span_insert(ctl_state_t *s, const slate_span_t *in, const prep_span *p, uint32_t ep,
                    uint32_t region, double load_rps, double dur_scale, uint64_t now_ns);
void ls_spans_expire(ctl_state_t *s, uint64_t now_ns);
void ls_span_admission(ctl_state_t *s, uint32_t offered, uint64_t now_ns);
void ls_spans_prefetch(const ctl_state_t *s, const prep_span *p, size_t n);
void ls_waiting_rebuild(ctl_state_t *s);

uint64_t ls_outcell_key(uint32_t caller_svc, uint32_t caller_region, uint32_t dst_ep,
                        uint32_t dst_region);
uint64_t ls_edge_key(uint32_t parent, uint32_t child);

/* ctl_aging.c */
uint32_t ls_age_out(ctl_state_t *s, uint64_t now_ns);

/* ctl_window.c */
double ls_edge_ratio(const ctl_state_t *s, const edge_ent *e);
double ls_network_rtt(const ctl_state_t *s, uint32_t a, uint32_t b);
uint32_t ls_slot_count(const ctl_state_t *s);
uint32_t ls_slot_index(const ctl_state_t *s, uint32_t i);

#endif
