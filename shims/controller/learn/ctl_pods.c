/*
 * slate-controller: what each pod said and how much of it is believed: per-pod
 * report rate, drop counters and restarts, and the share cap on load and latency.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_tables.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records that `pod` reported; the table of a (service, region) grows by
 * doubling from 4 entries as pods appear (most services run a few pods per
 * region), and past CTL_MAX_PODS the oldest entry is reused. Returns its
 * entry (NULL only when out of memory); it is valid until the next call for
 * the same (service, region). */
struct pod_seen *ls_note_pod(svc_ent *sv, uint32_t r, uint64_t key, uint64_t now_ns, double burst)
{
    struct pod_seen *p = sv->pods_seen[r];
    uint32_t cap = sv->pods_cap[r], slot = 0, i = 0;
    for (; i < cap; i++) {
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
    if (i == cap && cap < CTL_MAX_PODS) { /* full: grow rather than forget a pod */
        uint32_t ncap = cap ? (cap * 2 < CTL_MAX_PODS ? cap * 2 : CTL_MAX_PODS) : 4;
        struct pod_seen *np = realloc(p, ncap * sizeof *np);
        if (!np)
            return NULL;
        memset(np + cap, 0, (ncap - cap) * sizeof *np);
        sv->pods_seen[r] = p = np;
        sv->pods_cap[r] = (uint16_t)ncap;
        slot = cap;
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
void ls_pod_drops(ctl_state_t *s, svc_ent *sv, struct pod_seen *pod, const slate_load_report_t *rep)
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
bool ls_pod_take_token(const ctl_config_t *cfg, struct pod_seen *p, uint64_t now_ns)
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
void ls_pod_share(ctl_state_t *s, const svc_ent *sv, uint32_t r, struct pod_seen *me,
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
        for (uint32_t i = 0; i < sv->pods_cap[r] && p[i].last_ns; i++) {
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

uint64_t ls_scale_count(uint64_t n, double k)
{
    return k >= 1 ? n : (uint64_t)llround((double)n * k);
}

/* Merges latency moments, counts scaled by req and values by lat (the share cap). */
void ls_merge_scaled(ctl_moments_t *d, const slate_latency_t *l, double req, double lat)
{
    uint64_t n = ls_scale_count(l->count, req);
    double m2 = l->m2 * lat * lat * (l->count ? (double)n / (double)l->count : 0);
    ctl_moments_merge(d, n, l->mean_ns * lat, m2, (double)l->min_ns * lat, (double)l->max_ns * lat);
}

/* Pods that reported within 2.5 report intervals (at least 3 s); at least 1. */
double ls_pods_live(const svc_ent *sv, uint32_t r, uint64_t now_ns)
{
    const struct pod_seen *p = sv->pods_seen[r];
    if (!p)
        return 1;
    uint64_t horizon = pod_horizon_ns(sv, r);
    uint32_t n = 0;
    for (uint32_t i = 0; i < sv->pods_cap[r] && p[i].last_ns; i++)
        if (now_ns - p[i].last_ns <= horizon || p[i].last_ns > now_ns)
            n++;
    return n ? (double)n : 1;
}
