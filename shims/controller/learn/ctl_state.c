/*
 * slate-controller: what the global controller learns from reports: merging a
 * prepared report (ingest), and the state's lifecycle.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_state_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

int ctl_state_ingest(ctl_state_t *s, ctl_scratch_t *sc, const slate_load_report_t *rep,
                     bool latency_only, bool rate_exempt, uint64_t now_ns, ctl_ingest_info_t *info)
{
    memset(info, 0, sizeof(*info));
    uint32_t max_spans = s->cfg.max_spans_per_report;
    if (ls_prepare(sc, rep, max_spans) != 0)
        return -1;
    size_t n_spans = rep->n_spans < max_spans ? rep->n_spans : max_spans;
    info->spans_used = (uint32_t)n_spans;
    info->spans_dropped = (uint32_t)(rep->n_spans - n_spans);
    const char *arena = sc->arena.data;

    ls_spans_prefetch(s, sc->pspan, n_spans);
    pthread_mutex_lock(&s->mu);
    if (s->created_ns == 0)
        s->created_ns = now_ns;
    s->now_ns = now_ns;
    s->reports_total++;
    /* One report may create at most a share of each table (an eighth of the
     * services, a quarter of the regions and of a service's endpoints, and
     * never fewer than 4, 2 and 8), so a single report naming hundreds of
     * services cannot fill them for everyone else. */
    s->claim_svcs = s->cfg.max_services / 8 > 4 ? s->cfg.max_services / 8 : 4;
    s->claim_regions = s->max_regions / 4 > 2 ? s->max_regions / 4 : 2;
    s->claim_eps =
        s->cfg.max_endpoints_per_service / 4 > 8 ? s->cfg.max_endpoints_per_service / 4 : 8;
    uint32_t region = ls_region_find(s, rep->region.ptr, rep->region.len,
                                     ls_region_key(rep->region.ptr, rep->region.len), true);
    uint32_t svc = ls_service_find(s, rep->service.ptr, rep->service.len,
                                   ls_name_key(rep->service.ptr, rep->service.len));
    if (svc == NIL) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    info->region_overflow = region == s->max_regions;
    info->service_overflow = s->svcs[svc].overflow;
    svc_ent *sv = &s->svcs[svc];
    struct pod_seen *pod = ls_note_pod(sv, region, XXH3_64bits(rep->pod.ptr, rep->pod.len), now_ns,
                                       2 * s->cfg.pod_reports_per_s);
    if (pod && !rate_exempt && !ls_pod_take_token(&s->cfg, pod, now_ns)) {
        pthread_mutex_unlock(&s->mu);
        return CTL_INGEST_POD_RATE;
    }
    if (pod && !latency_only)
        ls_pod_drops(s, sv, pod, rep);
    double req_k = 1, lat_k = 1, lat_w = 1;
    if (pod && !latency_only)
        ls_pod_share(s, sv, region, pod, rep, now_ns, &req_k, &lat_k, &lat_w);
    sv->reports++;
    sv->last_seen_ns[region] = now_ns;
    if (!latency_only) {
        sv->w_reports[region]++;
        sv->w_interval_s[region] += rep->interval_ns > 0 ? (double)rep->interval_ns / 1e9 : 1.0;
    }

    for (size_t i = 0; i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        const prep_ep *p = &sc->pin[i];
        uint32_t ep = ls_endpoint_find_prep(s, svc, in->method.ptr ? in->method.ptr : "",
                                            in->method.len, arena + p->path_off, p->path_len, p);
        if (ep == NIL)
            continue;
        cell_ent *c = ls_cell_get(s, ep, region);
        if (!c)
            continue;
        if (!latency_only) {
            c->w_requests += ls_scale_count(in->requests, req_k);
            c->w_inflight_sum += ls_scale_count(in->in_flight, req_k);
            c->w_reports++;
        }
        ls_merge_scaled(&c->w_lat, &in->latency, lat_w < req_k ? lat_w : req_k, lat_k);
    }

    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        const prep_out *p = &sc->pout[i];
        if (o->dst_region.len == 0 || o->dst_service.len == 0)
            continue; /* SLATE's latency body names no region: nothing to attribute */
        uint32_t dsvc = ls_service_find(s, o->dst_service.ptr, o->dst_service.len, p->svc_key);
        if (dsvc == NIL)
            continue;
        uint32_t ep =
            ls_endpoint_find_prep(s, dsvc, o->method.ptr ? o->method.ptr : "", o->method.len,
                                  arena + p->ep.path_off, p->ep.path_len, &p->ep);
        uint32_t dreg =
            ls_region_find(s, o->dst_region.ptr, o->dst_region.len, p->region_key, true);
        if (ep == NIL)
            continue;
        uint32_t oc = ls_outcell_find(s, svc, region, ep, dreg);
        if (oc == NIL)
            continue;
        outcell *c = &s->outs[oc];
        c->w_requests += ls_scale_count(o->requests, req_k);
        ls_merge_scaled(&c->w_lat, &o->latency, lat_w < req_k ? lat_w : req_k, 1);
    }

    double pods = ls_pods_live(sv, region, now_ns);
    /* The index heads were prefetched before the lock; now fetch the entries they
     * point at, all at once, so the lookups below do not wait on memory one by one. */
    for (size_t i = 0; i < n_spans; i++) {
        uint32_t h = s->self_heads[ls_bucket_of(s, sc->pspan[i].self_key)];
        if (h != NIL)
            __builtin_prefetch(&s->ring[h]);
        if (sc->pspan[i].parent_key) {
            h = s->self_heads[ls_bucket_of(s, sc->pspan[i].parent_key)];
            if (h != NIL)
                __builtin_prefetch(&s->ring[h]);
        }
    }
    /* A report sent twice (a retry) repeats its spans: its first span tells. */
    size_t first_span = 0;
    while (first_span < n_spans && sc->pspan[first_span].self_key == 0)
        first_span++;
    if (first_span < n_spans) {
        uint32_t dup = ls_span_find(s, sc->pspan[first_span].self_key);
        if (dup != NIL &&
            s->ring[dup].recv_ms + (uint32_t)s->cfg.stitch_window_ms >= ls_recv_ms_of(s, now_ns)) {
            atomic_fetch_add(&s->m->spans_duplicate, n_spans);
            n_spans = 0;
        }
    }
    for (size_t i = 0; i < n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        const prep_span *p = &sc->pspan[i];
        if (p->self_key == 0)
            continue; /* no span id: nothing to stitch */
        uint32_t ep =
            ls_endpoint_find_prep(s, svc, sp->method.ptr ? sp->method.ptr : "", sp->method.len,
                                  arena + p->ep.path_off, p->ep.path_len, &p->ep);
        if (ep == NIL || !ls_cell_get(s, ep, region))
            continue;
        double load = isfinite(p->pod_rps) ? p->pod_rps * req_k * pods : NAN;
        ls_span_insert(s, sp, p, ep, region, load, lat_k, now_ns);
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
    /* each state its own range of epochs (2^32 agings each) */
    static atomic_uint_fast64_t states;
    s->ep_epoch = (atomic_fetch_add(&states, 1) + 1) << 32;
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
            ls_region_find(s, nm, strlen(nm), ls_region_key(nm, strlen(nm)), true);
        }
        s->pinned_regions = s->n_regions; /* the file's, first: never retired */
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
