/*
 * slate-controller: retiring table entries nobody names any more.
 *
 * A service, endpoint or region that no report has named (as reporter,
 * destination, span or target) for table-ttl-s leaves the tables at the next
 * window close, so names that stop reporting (a renamed deployment, a flood
 * of junk names) give their slots back and real services never land in the
 * overflow bucket for good. An endpoint goes with its service; the regions
 * file's regions never go.
 *
 * Entries are referenced by index everywhere (cells, outbound cells, edges,
 * held spans, per-region arrays), so retiring compacts each table and
 * rewrites every index through a remap table, then rebuilds the hash maps.
 * Outbound cells, edges and spans of a retired entry go with it. Whoever
 * keeps indices across windows (the solver's routing rows) sees
 * layout_gen move and rebuilds them from names.
 * Cost: O(services x regions + endpoints x regions + outbound + edges +
 * span table) when something retires, O(services + endpoints + regions)
 * otherwise.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_tables.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static bool stale(uint64_t touched_ns, uint64_t now_ns, uint64_t ttl_ns)
{
    return now_ns > touched_ns && now_ns - touched_ns > ttl_ns;
}

/* Compacts a per-region array of `n` elements of size `sz` through reg[]. */
static void remap_regions(void *arr, size_t sz, const uint32_t *reg, uint32_t n_regions)
{
    unsigned char *a = arr;
    for (uint32_t r = 0; r < n_regions; r++)
        if (reg[r] != NIL && reg[r] != r)
            memcpy(a + (size_t)reg[r] * sz, a + (size_t)r * sz, sz);
}

static void retire_service_memory(svc_ent *sv, const uint32_t *reg, uint32_t n_regions, bool all)
{
    for (uint32_t r = 0; r < n_regions; r++)
        if (all || reg[r] == NIL) {
            free(sv->pods_seen[r]);
            sv->pods_seen[r] = NULL;
            sv->pods_cap[r] = 0;
        }
    if (all) {
        free(sv->name);
        sv->name = NULL;
    }
}

/* Moves a service's per-region data to the new region indices; freed slots are cleared. */
static void service_remap_regions(svc_ent *sv, const uint32_t *reg, uint32_t n_old, uint32_t n_new)
{
    remap_regions(sv->last_seen_ns, sizeof(sv->last_seen_ns[0]), reg, n_old);
    remap_regions(sv->w_reports, sizeof(sv->w_reports[0]), reg, n_old);
    remap_regions(sv->w_interval_s, sizeof(sv->w_interval_s[0]), reg, n_old);
    remap_regions(sv->last_interval_s, sizeof(sv->last_interval_s[0]), reg, n_old);
    remap_regions(sv->pods, sizeof(sv->pods[0]), reg, n_old);
    remap_regions(sv->capacity, sizeof(sv->capacity[0]), reg, n_old);
    remap_regions(sv->pods_seen, sizeof(sv->pods_seen[0]), reg, n_old);
    remap_regions(sv->pods_cap, sizeof(sv->pods_cap[0]), reg, n_old);
    for (uint32_t r = n_new; r < n_old; r++) {
        sv->last_seen_ns[r] = 0;
        sv->w_reports[r] = 0;
        sv->w_interval_s[r] = sv->last_interval_s[r] = 0;
        sv->pods[r] = 1;
        sv->capacity[r] = INFINITY;
        sv->pods_seen[r] = NULL;
        sv->pods_cap[r] = 0;
    }
}

static void endpoint_remap_regions(ep_ent *e, const uint32_t *reg, uint32_t n_old, uint32_t n_new)
{
    for (uint32_t r = 0; r < n_old; r++)
        if (reg[r] == NIL) {
            free(e->cells[r]);
            e->cells[r] = NULL;
        }
    remap_regions(e->cells, sizeof(e->cells[0]), reg, n_old);
    for (uint32_t r = n_new; r < n_old; r++)
        e->cells[r] = NULL;
}

uint32_t ls_age_out(ctl_state_t *s, uint64_t now_ns)
{
    if (s->cfg.table_ttl_s == 0)
        return 0;
    s->ep_epoch++; /* indexes may move below: no thread trusts a remembered one */
    uint64_t ttl = s->cfg.table_ttl_s * 1000000000ull;
    uint32_t *svc_new = NULL, *ep_new = NULL;
    uint32_t reg[SLOTS];
    uint32_t dead_svcs = 0, dead_eps = 0, dead_regions = 0;

    /* 1. What goes. */
    uint32_t n_old_regions = s->n_regions, n_new_regions = 0;
    for (uint32_t r = 0; r < SLOTS; r++)
        reg[r] = r; /* the overflow region keeps its slot */
    for (uint32_t r = 0; r < n_old_regions; r++) {
        bool gone = r >= s->pinned_regions && stale(s->region_touched_ns[r], now_ns, ttl);
        reg[r] = gone ? NIL : n_new_regions++;
        dead_regions += gone;
    }
    for (uint32_t i = 0; i < s->n_svcs; i++)
        dead_svcs += stale(s->svcs[i].touched_ns, now_ns, ttl);
    for (uint32_t i = 0; i < s->n_eps; i++) {
        const ep_ent *e = &s->eps[i];
        const svc_ent *sv = &s->svcs[e->svc];
        dead_eps += (!sv->overflow && stale(sv->touched_ns, now_ns, ttl)) ||
                    stale(e->touched_ns, now_ns, ttl);
    }
    if (dead_svcs + dead_eps + dead_regions == 0)
        return 0;

    svc_new = malloc(((size_t)s->cfg.max_services + 1) * sizeof(uint32_t));
    ep_new = malloc(((size_t)s->n_eps + 1) * sizeof(uint32_t));
    if (!svc_new || !ep_new) {
        free(svc_new);
        free(ep_new);
        return 0; /* try again next window */
    }

    /* 2. Services: compact below the overflow slot, which stays. */
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_svcs; i++) {
        svc_ent *sv = &s->svcs[i];
        if (stale(sv->touched_ns, now_ns, ttl)) {
            ctl_log(CTL_LOG_INFO, "service '%s' retired: no report named it for %" PRIu64 " s",
                    sv->name, s->cfg.table_ttl_s);
            retire_service_memory(sv, reg, n_old_regions, true);
            svc_new[i] = NIL;
            continue;
        }
        retire_service_memory(sv, reg, n_old_regions, false);
        service_remap_regions(sv, reg, n_old_regions, n_new_regions);
        svc_new[i] = n;
        if (n != i)
            s->svcs[n] = *sv;
        n++;
    }
    for (uint32_t i = n; i < s->n_svcs; i++)
        memset(&s->svcs[i], 0, sizeof(s->svcs[i]));
    s->n_svcs = n;
    uint32_t ovf = s->cfg.max_services;
    svc_new[ovf] = ovf;
    if (s->overflow_svc != NIL)
        service_remap_regions(&s->svcs[ovf], reg, n_old_regions, n_new_regions);

    /* 3. Endpoints. */
    n = 0;
    for (uint32_t i = 0; i < s->n_eps; i++) {
        ep_ent *e = &s->eps[i];
        uint32_t sv = svc_new[e->svc];
        if (sv == NIL || stale(e->touched_ns, now_ns, ttl)) {
            free(e->method);
            free(e->path);
            for (int r = 0; r < SLOTS; r++)
                free(e->cells[r]);
            ep_new[i] = NIL;
            continue;
        }
        endpoint_remap_regions(e, reg, n_old_regions, n_new_regions);
        e->svc = sv;
        ep_new[i] = n;
        if (n != i)
            s->eps[n] = *e;
        n++;
    }
    s->n_eps = n;
    for (uint32_t i = 0; i < s->n_svcs; i++) {
        svc_ent *sv = &s->svcs[i];
        sv->overflow_ep = sv->overflow_ep == NIL ? NIL : ep_new[sv->overflow_ep];
        sv->n_eps = 0;
    }
    if (s->overflow_svc != NIL) {
        svc_ent *sv = &s->svcs[ovf];
        sv->overflow_ep = sv->overflow_ep == NIL ? NIL : ep_new[sv->overflow_ep];
        sv->n_eps = 0;
    }
    for (uint32_t i = 0; i < s->n_eps; i++) {
        ep_ent *e = &s->eps[i];
        e->has_children = false;
        if (!e->overflow)
            s->svcs[e->svc].n_eps++;
    }

    /* 4. Outbound cells and edges of what went go with it. */
    n = 0;
    for (uint32_t i = 0; i < s->n_outs; i++) {
        outcell o = s->outs[i];
        uint32_t cs = svc_new[o.caller_svc], de = ep_new[o.dst_ep];
        uint32_t cr = reg[o.caller_region], dr = reg[o.dst_region];
        if (cs == NIL || de == NIL || cr == NIL || dr == NIL)
            continue;
        o.caller_svc = cs;
        o.dst_ep = de;
        o.caller_region = (uint8_t)cr;
        o.dst_region = (uint8_t)dr;
        s->outs[n++] = o;
    }
    s->n_outs = n;
    n = 0;
    for (uint32_t i = 0; i < s->n_edges; i++) {
        edge_ent e = s->edges[i];
        if (ep_new[e.parent] == NIL || ep_new[e.child] == NIL)
            continue;
        e.parent = ep_new[e.parent];
        e.child = ep_new[e.child];
        s->eps[e.parent].has_children = true;
        s->edges[n++] = e;
    }
    s->n_edges = n;

    /* 5. Held spans: those of what went are dropped (a chain through one
     * ends there, as at any unused link); the rest point at the new indices. */
    for (uint32_t i = 0; i < s->ring_cap; i++) {
        span_ent *sp = &s->ring[i];
        if (!(sp->flags & SPAN_USED))
            continue;
        if (ep_new[sp->ep] == NIL || reg[sp->region] == NIL) {
            sp->flags = 0;
            continue;
        }
        sp->ep = ep_new[sp->ep];
        sp->region = (uint8_t)reg[sp->region];
    }

    /* 6. Regions, and the network estimates between them. */
    for (uint32_t r = 0; r < n_old_regions; r++) {
        if (reg[r] != NIL)
            continue;
        ctl_log(CTL_LOG_INFO, "region '%s' retired: no report named it for %" PRIu64 " s",
                s->region_names[r], s->cfg.table_ttl_s);
        free(s->region_names[r]);
        s->region_names[r] = NULL;
    }
    for (uint32_t a = 0; a < n_old_regions; a++) {
        if (reg[a] == NIL)
            continue;
        for (uint32_t b = 0; b < n_old_regions; b++)
            if (reg[b] != NIL) {
                s->est_rtt[reg[a]][reg[b]] = s->est_rtt[a][b];
                s->est_known[reg[a]][reg[b]] = s->est_known[a][b];
            }
        s->region_names[reg[a]] = s->region_names[a];
        s->region_keys[reg[a]] = s->region_keys[a];
        s->region_touched_ns[reg[a]] = s->region_touched_ns[a];
    }
    for (uint32_t r = n_new_regions; r < n_old_regions; r++) {
        s->region_names[r] = NULL;
        s->region_keys[r] = 0;
        s->region_touched_ns[r] = 0;
        for (uint32_t b = 0; b < SLOTS; b++) {
            s->est_known[r][b] = s->est_known[b][r] = false;
            s->est_rtt[r][b] = s->est_rtt[b][r] = 0;
        }
    }
    s->n_regions = n_new_regions;

    /* 7. The maps, from what stayed. */
    ctl_map_clear(&s->svc_map);
    for (uint32_t i = 0; i < s->n_svcs; i++)
        (void)ctl_map_put(&s->svc_map, s->svcs[i].key, i);
    ctl_map_clear(&s->ep_map);
    for (uint32_t i = 0; i < s->n_eps; i++)
        if (!s->eps[i].overflow)
            (void)ctl_map_put(&s->ep_map, s->eps[i].key, i);
    ctl_map_clear(&s->out_map);
    for (uint32_t i = 0; i < s->n_outs; i++) {
        const outcell *o = &s->outs[i];
        (void)ctl_map_put(&s->out_map,
                          ls_outcell_key(o->caller_svc, o->caller_region, o->dst_ep, o->dst_region),
                          i);
    }
    ctl_map_clear(&s->edge_map);
    for (uint32_t i = 0; i < s->n_edges; i++)
        (void)ctl_map_put(&s->edge_map, ls_edge_key(s->edges[i].parent, s->edges[i].child), i);
    ls_waiting_rebuild(s);

    s->layout_gen++;
    atomic_fetch_add(&s->m->retired_services, dead_svcs);
    atomic_fetch_add(&s->m->retired_endpoints, dead_eps);
    atomic_fetch_add(&s->m->retired_regions, dead_regions);
    ctl_log(CTL_LOG_INFO,
            "retired %u services, %u endpoints and %u regions silent for %" PRIu64 " s", dead_svcs,
            dead_eps, dead_regions, s->cfg.table_ttl_s);
    free(svc_new);
    free(ep_new);
    return dead_svcs + dead_eps + dead_regions;
}
