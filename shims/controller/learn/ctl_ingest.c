/*
 * slate-controller: merging a prepared report into the learning state
 * (ingest), under the state's locks.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE
#include "ctl_tables.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/*
 * Intake, in this order (ctl_tables.h has the locks):
 *   1. prepare: paths, keys (no lock);
 *   2. resolve the report's region and service under rw's read side;
 *   3. the pod's rate, drops and share under the service's shard;
 *   4. resolve every endpoint, cell and outbound cell under rw's read side;
 *   5. add the counts and moments under the service's shard;
 *   6. insert and stitch the spans under span_mu.
 * Reports that name nothing new never take rw exclusive, so threads merging
 * reports of different services (or different spans) do not wait on each
 * other. When a lookup misses (something to create, or a limit to count),
 * the report takes rw exclusive and resolves again, creating what it names:
 * indexes may have moved while no lock was held, so nothing found under the
 * read side is kept, except the pod's verdict (taken once).
 */

static void claims_reset(const ctl_state_t *s, ls_ctx *cx)
{
    /* One report may create at most a share of each table (an eighth of the
     * services, a quarter of the regions and of a service's endpoints, and
     * never fewer than 4, 2 and 8), so a single report naming hundreds of
     * services cannot fill them for everyone else. */
    cx->claim_svcs = s->cfg.max_services / 8 > 4 ? s->cfg.max_services / 8 : 4;
    cx->claim_regions = s->max_regions / 4 > 2 ? s->max_regions / 4 : 2;
    cx->claim_eps =
        s->cfg.max_endpoints_per_service / 4 > 8 ? s->cfg.max_endpoints_per_service / 4 : 8;
}

/* From rw's read side to exclusive, for a report that creates. */
static void escalate(ctl_state_t *s, ls_ctx *cx)
{
    pthread_rwlock_unlock(&s->rw);
    pthread_rwlock_wrlock(&s->rw);
    s->escalations++;
    cx->create = true;
    cx->missed = false;
    claims_reset(s, cx);
}

/* Step 2: the report's region and service (NIL service: out of memory). */
static void resolve_head(ctl_state_t *s, ls_ctx *cx, const slate_load_report_t *rep,
                         uint32_t *region, uint32_t *svc)
{
    *region = ls_region_find(s, cx, rep->region.ptr, rep->region.len,
                             ls_region_key(rep->region.ptr, rep->region.len));
    *svc = ls_service_find(s, cx, rep->service.ptr, rep->service.len,
                           ls_name_key(rep->service.ptr, rep->service.len));
}

/* Step 4: every endpoint, cell and outbound cell the report adds to, into the
 * scratch's prep arrays (NIL: dropped by a limit). */
static void resolve_body(ctl_state_t *s, ls_ctx *cx, ctl_scratch_t *sc,
                         const slate_load_report_t *rep, uint32_t region, uint32_t svc,
                         size_t n_spans)
{
    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        prep_ep *p = &sc->pin[i];
        p->ep = ls_endpoint_find_prep(s, cx, svc, in->method, in->path, p);
        if (p->ep != NIL && !ls_cell_get(s, cx, p->ep, region))
            p->ep = NIL;
    }
    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        prep_out *p = &sc->pout[i];
        p->oc = NIL;
        if (o->dst_region.len == 0 || o->dst_service.len == 0)
            continue; /* SLATE's latency body names no region: nothing to attribute */
        uint32_t dsvc = ls_service_find(s, cx, o->dst_service.ptr, o->dst_service.len, p->svc_key);
        if (dsvc == NIL)
            continue;
        uint32_t ep = ls_endpoint_find_prep(s, cx, dsvc, o->method, o->path, &p->ep);
        uint32_t dreg = ls_region_find(s, cx, o->dst_region.ptr, o->dst_region.len, p->region_key);
        if (ep == NIL || dreg == NIL)
            continue;
        p->oc = ls_outcell_find(s, cx, svc, region, ep, dreg);
    }
    for (size_t i = 0; i < n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        prep_span *p = &sc->pspan[i];
        p->ep.ep = NIL;
        if (p->self_key == 0)
            continue; /* no span id, or its trace is not admitted: nothing to stitch */
        p->ep.ep = ls_endpoint_find_prep(s, cx, svc, sp->method, sp->path, &p->ep);
        if (p->ep.ep != NIL && !ls_cell_get(s, cx, p->ep.ep, region))
            p->ep.ep = NIL;
    }
}

/* What step 3 decided about the report's pod. */
typedef struct pod_verdict {
    double req_k, lat_k, lat_w; /* the share cap's factors */
    double pods;                /* live pods of the service in the region */
} pod_verdict;

/* Step 3, under the service's shard: false when the pod is over its rate. */
static bool pod_step(ctl_state_t *s, svc_ent *sv, uint32_t region, const slate_load_report_t *rep,
                     bool latency_only, bool rate_exempt, uint64_t now_ns, pod_verdict *v)
{
    v->req_k = v->lat_k = v->lat_w = 1;
    struct pod_seen *pod = ls_note_pod(sv, region, XXH3_64bits(rep->pod.ptr, rep->pod.len), now_ns,
                                       2 * s->cfg.pod_reports_per_s);
    if (pod && !rate_exempt && !ls_pod_take_token(&s->cfg, pod, now_ns))
        return false;
    if (pod && !latency_only) {
        ls_pod_drops(s, sv, pod, rep);
        ls_pod_share(s, sv, region, pod, rep, now_ns, &v->req_k, &v->lat_k, &v->lat_w);
    }
    v->pods = ls_pods_live(sv, region, now_ns);
    return true;
}

/* Step 5, under the service's shard: counts and moments. */
static void merge_counts(ctl_state_t *s, const ctl_scratch_t *sc, const slate_load_report_t *rep,
                         uint32_t region, svc_ent *sv, bool latency_only, uint64_t now_ns,
                         const pod_verdict *v)
{
    sv->reports++;
    sv->last_seen_ns[region] = now_ns;
    if (!latency_only) {
        sv->w_reports[region]++;
        sv->w_interval_s[region] += rep->interval_ns > 0 ? (double)rep->interval_ns / 1e9 : 1.0;
    }
    double req_k = v->req_k, lat_k = v->lat_k, lat_w = v->lat_w;
    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        if (sc->pin[i].ep == NIL)
            continue;
        cell_ent *c = s->eps[sc->pin[i].ep].cells[region];
        if (!latency_only) {
            c->w_requests += ls_scale_count(in->requests, req_k);
            c->w_inflight_sum += ls_scale_count(in->in_flight, req_k);
            c->w_reports++;
        }
        ls_merge_scaled(&c->w_lat, &in->latency, lat_w < req_k ? lat_w : req_k, lat_k);
    }
    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        if (sc->pout[i].oc == NIL)
            continue;
        outcell *c = &s->outs[sc->pout[i].oc];
        c->w_requests += ls_scale_count(o->requests, req_k);
        ls_merge_scaled(&c->w_lat, &o->latency, lat_w < req_k ? lat_w : req_k, 1);
    }
}

/* Prefetches what inserting span p, `ahead` insertions from now, will read. */
#define SPAN_AHEAD 8
static void span_fetch(const ctl_state_t *s, const prep_span *p, size_t ahead)
{
    if (p->self_key == 0)
        return; /* not inserted */
    span_link h = ls_head_first(s->heads[ls_bucket_of(s, p->self_key)].self);
    if (ls_link_held(s, h))
        __builtin_prefetch(&s->ring[h.idx]);
    if (p->parent_key) {
        h = ls_head_first(s->heads[ls_bucket_of(s, p->parent_key)].self);
        if (ls_link_held(s, h))
            __builtin_prefetch(&s->ring[h.idx]);
    }
    __builtin_prefetch(&s->ring[(s->ring_head + ahead) % s->ring_cap], 1);
}

/* Step 6, under span_mu: the spans (0 when the report is a retry's copy). */
static size_t merge_spans(ctl_state_t *s, const ctl_scratch_t *sc, const slate_load_report_t *rep,
                          uint32_t region, size_t n_spans, uint64_t now_ns, const pod_verdict *v)
{
    if (s->created_ns == 0)
        s->created_ns = now_ns;
    ls_span_admission(s, sc->spans_offered, now_ns);
    /* The index heads were prefetched before the lock; the entries they point
     * at and the slots the spans will take (the oldest spans', once the ring
     * is full) are fetched SPAN_AHEAD spans ahead of the insertion, so that
     * the waits overlap (all at once would overrun the core's outstanding
     * misses). */
    for (size_t i = 0; i < n_spans && i < SPAN_AHEAD; i++)
        span_fetch(s, &sc->pspan[i], i);
    /* A report sent twice (a retry) repeats its spans: its first span tells. */
    size_t first_span = 0;
    while (first_span < n_spans && sc->pspan[first_span].self_key == 0)
        first_span++;
    if (first_span < n_spans) {
        uint32_t dup = ls_span_find(s, sc->pspan[first_span].self_key);
        if (dup != NIL &&
            s->ring[dup].recv_ms + (uint32_t)s->cfg.stitch_window_ms >= ls_recv_ms_of(s, now_ns)) {
            atomic_fetch_add(&s->m->spans_duplicate, n_spans);
            return 0;
        }
    }
    for (size_t i = 0; i < n_spans; i++) {
        const prep_span *p = &sc->pspan[i];
        if (i + SPAN_AHEAD < n_spans)
            span_fetch(s, &sc->pspan[i + SPAN_AHEAD], SPAN_AHEAD);
        if (p->ep.ep == NIL)
            continue;
        double load = isfinite(p->pod_rps) ? p->pod_rps * v->req_k * v->pods : NAN;
        ls_span_insert(s, &rep->spans[i], p, p->ep.ep, region, load, v->lat_k, now_ns);
    }
    return n_spans;
}

int ctl_state_ingest(ctl_state_t *s, ctl_scratch_t *sc, const slate_load_report_t *rep,
                     bool latency_only, bool rate_exempt, uint64_t now_ns, ctl_ingest_info_t *info)
{
    memset(info, 0, sizeof(*info));
    uint32_t max_spans = s->cfg.max_spans_per_report;
    if (ls_prepare(sc, rep, max_spans, __atomic_load_n(&s->span_admit, __ATOMIC_RELAXED)) != 0)
        return -1;
    size_t n_spans = rep->n_spans < max_spans ? rep->n_spans : max_spans;
    info->spans_used = (uint32_t)n_spans;
    info->spans_dropped = (uint32_t)(rep->n_spans - n_spans);
    ls_spans_prefetch(s, sc->pspan, n_spans);

    ls_ctx cx = {.now_ns = now_ns};
    uint32_t region, svc;
    pthread_rwlock_rdlock(&s->rw);
    __atomic_fetch_add(&s->reports_total, 1, __ATOMIC_RELAXED);
    resolve_head(s, &cx, rep, &region, &svc);
    if (cx.missed) {
        escalate(s, &cx);
        resolve_head(s, &cx, rep, &region, &svc);
    }
    if (svc == NIL) {
        pthread_rwlock_unlock(&s->rw);
        return -1;
    }
    info->region_overflow = region == s->max_regions;
    info->service_overflow = s->svcs[svc].overflow;

    pod_verdict v;
    ls_lock *shard = &s->shards[svc % CTL_SHARDS].lk;
    ls_lock_take(shard);
    bool ok = pod_step(s, &s->svcs[svc], region, rep, latency_only, rate_exempt, now_ns, &v);
    ls_lock_give(shard);
    if (!ok) {
        pthread_rwlock_unlock(&s->rw);
        return CTL_INGEST_POD_RATE;
    }

    resolve_body(s, &cx, sc, rep, region, svc, n_spans);
    if (cx.missed) {
        escalate(s, &cx);
        resolve_head(s, &cx, rep, &region, &svc);
        if (svc == NIL) {
            pthread_rwlock_unlock(&s->rw);
            return -1;
        }
        resolve_body(s, &cx, sc, rep, region, svc, n_spans);
        shard = &s->shards[svc % CTL_SHARDS].lk;
    }

    ls_lock_take(shard);
    merge_counts(s, sc, rep, region, &s->svcs[svc], latency_only, now_ns, &v);
    ls_lock_give(shard);

    ls_lock_take(&s->span_mu);
    n_spans = merge_spans(s, sc, rep, region, n_spans, now_ns, &v);
    ls_lock_give(&s->span_mu);
    pthread_rwlock_unlock(&s->rw);

    atomic_fetch_add(&s->m->spans_received, n_spans);
    if (sc->spans_shed)
        atomic_fetch_add(&s->m->spans_shed, sc->spans_shed);
    if (info->spans_dropped)
        atomic_fetch_add(&s->m->overflow[CTL_OVF_SPAN], info->spans_dropped);
    return 0;
}
