/*
 * slate-controller: the tables: regions, services, endpoints, their cells, outbound
 * cells and call-graph edges (lookup under the state's rw lock, read side;
 * creation with it exclusive; edges under span_mu).
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

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------------- */
/* Keys */

uint64_t ls_name_key(const char *p, size_t n)
{
    return XXH3_64bits(p, n);
}

uint64_t ls_region_key(const char *p, size_t n)
{
    return XXH3_64bits_withSeed(p, n, 0x5EC7);
}

uint64_t ls_trace_key(const char *trace, size_t tlen)
{
    return XXH3_64bits(trace, tlen);
}

uint64_t ls_span_key(uint64_t trace_key, const char *span, size_t slen)
{
    if (slen == 0)
        return 0;
    uint64_t h = XXH3_64bits_withSeed(span, slen, trace_key);
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
/* Creation and lookup (under rw: the read side finds, the exclusive side
 * also creates; see ls_ctx) */

/* A lookup that found nothing: NIL, and under rw's read side a note to retry exclusive. */
static uint32_t note_miss(ls_ctx *cx)
{
    cx->missed = true;
    return NIL;
}

uint32_t ls_region_find(ctl_state_t *s, ls_ctx *cx, const char *name, size_t n, uint64_t key)
{
    for (uint32_t i = 0; i < s->n_regions; i++)
        if (s->region_keys[i] == key && str_eq(s->region_names[i], name, n)) {
            ls_touch(&s->region_touched_ns[i], cx->now_ns);
            return i;
        }
    if (!cx->create)
        return note_miss(cx);
    if (cx->claim_regions == 0) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_CLAIM], 1);
        return s->max_regions;
    }
    if (s->n_regions < s->max_regions) {
        cx->claim_regions--;
        char *nm = dup_n(name, n);
        if (nm) {
            uint32_t i = s->n_regions++;
            s->region_names[i] = nm;
            s->region_keys[i] = key;
            s->region_touched_ns[i] = cx->now_ns;
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

uint32_t ls_service_find(ctl_state_t *s, ls_ctx *cx, const char *name, size_t n, uint64_t key)
{
    uint32_t pos = 0, v;
    while (ctl_map_next(&s->svc_map, key, &pos, &v))
        if (str_eq(s->svcs[v].name, name, n)) {
            ls_touch(&s->svcs[v].touched_ns, cx->now_ns);
            return v;
        }
    if (!cx->create)
        return note_miss(cx);
    if (cx->claim_svcs == 0) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_CLAIM], 1);
        return NIL;
    }
    if (s->n_svcs < s->cfg.max_services) {
        cx->claim_svcs--;
        char *nm = dup_n(name, n);
        if (nm && ctl_map_put(&s->svc_map, key, s->n_svcs)) {
            uint32_t i = s->n_svcs++;
            service_init(s, &s->svcs[i], nm, key, false);
            s->svcs[i].touched_ns = cx->now_ns;
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

static uint32_t endpoint_new(ctl_state_t *s, uint64_t now_ns, uint32_t svc, const char *method,
                             size_t mlen, const char *path, size_t plen, uint64_t key,
                             bool overflow)
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
    e->method_len = (uint32_t)mlen;
    e->path_len = (uint32_t)plen;
    e->key = key;
    e->overflow = overflow;
    e->touched_ns = now_ns;
    if (!overflow && !ctl_map_put(&s->ep_map, key, i)) {
        free(m);
        free(pa);
        return NIL;
    }
    s->n_eps++;
    return i;
}

uint32_t ls_endpoint_find(ctl_state_t *s, ls_ctx *cx, uint32_t svc, const char *method, size_t mlen,
                          const char *path, size_t plen, uint64_t key)
{
    uint32_t pos = 0, v;
    /* Keys were computed from the reported service name; in the overflow
     * service all names share one key space. */
    if (s->svcs[svc].overflow &&
        slate_endpoint_key(NULL, 0, method, mlen, path, plen, &key, NULL) != SLATE_OK)
        return NIL;
    while (ctl_map_next(&s->ep_map, key, &pos, &v)) {
        ep_ent *e = &s->eps[v];
        if (e->svc == svc && e->method_len == mlen && e->path_len == plen &&
            memcmp(e->method, method, mlen) == 0 && memcmp(e->path, path, plen) == 0) {
            ls_touch(&e->touched_ns, cx->now_ns);
            return v;
        }
    }
    if (!cx->create)
        return note_miss(cx);
    svc_ent *sv = &s->svcs[svc];
    if (cx->claim_eps == 0) {
        atomic_fetch_add(&s->m->overflow[CTL_OVF_CLAIM], 1);
        return NIL;
    }
    cx->claim_eps--;
    if (sv->n_eps < s->cfg.max_endpoints_per_service) {
        uint32_t i = endpoint_new(s, cx->now_ns, svc, method, mlen, path, plen, key, false);
        if (i != NIL) {
            sv->n_eps++;
            return i;
        }
    }
    atomic_fetch_add(&s->m->overflow[CTL_OVF_ENDPOINT], 1);
    if (sv->overflow_ep == NIL) {
        sv->overflow_ep = endpoint_new(s, cx->now_ns, svc, OVERFLOW_METHOD, 1, OVERFLOW_PATH,
                                       strlen(OVERFLOW_PATH), 0, true);
        if (sv->overflow_ep != NIL)
            ctl_log(CTL_LOG_WARN,
                    "service '%s': endpoint limit %u reached: further endpoints "
                    "go to '%s %s'",
                    sv->name, s->cfg.max_endpoints_per_service, OVERFLOW_METHOD, OVERFLOW_PATH);
    }
    if (sv->overflow_ep != NIL)
        ls_touch(&s->eps[sv->overflow_ep].touched_ns, cx->now_ns);
    return sv->overflow_ep;
}

uint32_t ls_endpoint_find_prep(ctl_state_t *s, ls_ctx *cx, uint32_t svc, slate_str_t method,
                               slate_str_t raw_path, const prep_ep *p)
{
    key_cache_ent *kc = p->kc;
    bool cacheable = kc && kc->tag == p->tag && !s->svcs[svc].overflow;
    if (cacheable && kc->epoch == s->ep_epoch && kc->svc == svc && kc->ep < s->n_eps) {
        ep_ent *e = &s->eps[kc->ep];
        if (e->key == p->key && e->svc == svc && !e->overflow) {
            ls_touch(&e->touched_ns, cx->now_ns);
            return kc->ep;
        }
    }
    char norm[SLATE_PATH_NORM_CAP];
    size_t nl = 0;
    if (slate_path_normalize(raw_path.ptr ? raw_path.ptr : "", raw_path.len, norm, sizeof(norm),
                             &nl) != SLATE_OK)
        return NIL; /* cannot happen: the buffer holds any result */
    uint32_t ep =
        ls_endpoint_find(s, cx, svc, method.ptr ? method.ptr : "", method.len, norm, nl, p->key);
    if (cacheable && ep != NIL && !s->eps[ep].overflow && s->eps[ep].key == p->key) {
        kc->epoch = s->ep_epoch;
        kc->svc = svc;
        kc->ep = ep;
    }
    return ep;
}

/* An empty model with the configured parameters. */
void ls_cell_model_reset(const ctl_state_t *s, cell_ent *c)
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

cell_ent *ls_cell_get(ctl_state_t *s, ls_ctx *cx, uint32_t ep, uint32_t region)
{
    ep_ent *e = &s->eps[ep];
    if (!e->cells[region]) {
        if (!cx->create) {
            cx->missed = true;
            return NULL;
        }
        cell_ent *c = calloc(1, sizeof(cell_ent));
        if (!c)
            return NULL;
        ls_cell_model_reset(s, c);
        c->latency_ms = NAN;
        c->xt_ms = NAN;
        e->cells[region] = c;
    }
    return e->cells[region];
}

uint64_t ls_outcell_key(uint32_t caller_svc, uint32_t caller_region, uint32_t dst_ep,
                        uint32_t dst_region)
{
    return ((uint64_t)caller_svc << 44) ^ ((uint64_t)caller_region << 38) ^
           ((uint64_t)dst_region << 32) ^ dst_ep;
}

uint64_t ls_edge_key(uint32_t parent, uint32_t child)
{
    return ((uint64_t)parent << 32) | child;
}

uint32_t ls_outcell_find(ctl_state_t *s, ls_ctx *cx, uint32_t caller_svc, uint32_t caller_region,
                         uint32_t dst_ep, uint32_t dst_region)
{
    uint64_t key = ls_outcell_key(caller_svc, caller_region, dst_ep, dst_region);
    uint32_t pos = 0, v;
    while (ctl_map_next(&s->out_map, key, &pos, &v)) {
        outcell *o = &s->outs[v];
        if (o->caller_svc == caller_svc && o->caller_region == caller_region &&
            o->dst_ep == dst_ep && o->dst_region == dst_region)
            return v;
    }
    if (!cx->create)
        return note_miss(cx);
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

edge_ent *ls_edge_get(ctl_state_t *s, uint32_t parent, uint32_t child)
{
    uint64_t key = ls_edge_key(parent, child);
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
