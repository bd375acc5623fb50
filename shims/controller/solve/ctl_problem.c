/*
 * slate-controller: the routing problem built from a window's snapshot
 * (ctl_problem.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_problem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS CTL_MAX_REGION_SLOTS
/* Edges whose ratio is below this are noise and do not make a child "called". */
#define MIN_RATIO 0.01

static size_t row_hash(uint32_t ep, uint32_t src, size_t mask)
{
    uint64_t k = ((uint64_t)ep << 8 | src) * 0x9e3779b97f4a7c15ull;
    return (size_t)(k >> 32) & mask;
}

/* (Re)builds the index for rows [0, n) with room for `want` rows; -1 when out of memory. */
static int rows_reindex(ctl_rows_t *t, size_t want)
{
    size_t slots = t->slots ? t->slots : 128;
    while (slots < 2 * want)
        slots *= 2;
    if (slots != t->slots) {
        uint32_t *s = realloc(t->slot, slots * sizeof(uint32_t));
        if (!s)
            return -1;
        t->slot = s;
        t->slots = slots;
    }
    memset(t->slot, 0, t->slots * sizeof(uint32_t));
    size_t mask = t->slots - 1;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = row_hash(t->v[i].ep, t->v[i].src, mask);
        while (t->slot[h])
            h = (h + 1) & mask;
        t->slot[h] = (uint32_t)(i + 1);
    }
    t->indexed = t->n;
    return 0;
}

ctl_row_t *ctl_rows_find(ctl_rows_t *t, uint32_t ep, uint32_t src)
{
    if (t->n == 0)
        return NULL;
    if (t->indexed != t->n && rows_reindex(t, t->n) != 0) {
        for (size_t i = 0; i < t->n; i++) /* no memory for the index: scan */
            if (t->v[i].ep == ep && t->v[i].src == src)
                return &t->v[i];
        return NULL;
    }
    size_t mask = t->slots - 1;
    for (size_t h = row_hash(ep, src, mask); t->slot[h]; h = (h + 1) & mask) {
        ctl_row_t *r = &t->v[t->slot[h] - 1];
        if (r->ep == ep && r->src == src)
            return r;
    }
    return NULL;
}

ctl_row_t *ctl_rows_put(ctl_rows_t *t, uint32_t ep, uint32_t src)
{
    ctl_row_t *r = ctl_rows_find(t, ep, src);
    if (r)
        return r;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        ctl_row_t *p = realloc(t->v, nc * sizeof(ctl_row_t));
        if (!p)
            return NULL;
        t->v = p;
        t->cap = nc;
    }
    if ((t->indexed != t->n || 2 * (t->n + 1) > t->slots) && rows_reindex(t, t->n + 1) != 0)
        return NULL;
    r = &t->v[t->n++];
    memset(r, 0, sizeof(*r));
    r->ep = ep;
    r->src = src;
    size_t mask = t->slots - 1, h = row_hash(ep, src, mask);
    while (t->slot[h])
        h = (h + 1) & mask;
    t->slot[h] = (uint32_t)t->n;
    t->indexed = t->n;
    return r;
}

void ctl_rows_free(ctl_rows_t *t)
{
    free(t->v);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

int ctl_rows_copy(ctl_rows_t *dst, const ctl_rows_t *src)
{
    if (dst->cap < src->n) {
        ctl_row_t *p = realloc(dst->v, (src->n ? src->n : 1) * sizeof(ctl_row_t));
        if (!p)
            return -1;
        dst->v = p;
        dst->cap = src->n ? src->n : 1;
    }
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof(ctl_row_t));
    dst->n = src->n;
    dst->indexed = SIZE_MAX; /* new contents: the index is rebuilt on the next lookup */
    return 0;
}

void ctl_problem_free(ctl_problem_t *b)
{
    slate_opt_problem_free(b->p);
    free(b->ep_opt);
    free(b->ep_back);
    free(b->svc_opt);
    free(b->edge_used);
    free(b->want_src);
    free(b->into_start);
    free(b->into_edge);
    memset(b, 0, sizeof(*b));
}

static bool deployed_anywhere(const ctl_solve_input_t *in, uint32_t svc)
{
    for (uint32_t r = 0; r < in->n_regions; r++)
        if (in->deployed[svc][r])
            return true;
    return false;
}

static bool edge_ok(const ctl_solve_input_t *in, const struct ctl_si_edge *e)
{
    const ctl_si_endpoint_t *pa = &in->endpoints[e->parent], *ch = &in->endpoints[e->child];
    return e->calls_per_request >= MIN_RATIO && e->parent != e->child && !pa->overflow &&
           !ch->overflow && deployed_anywhere(in, pa->svc) && deployed_anywhere(in, ch->svc);
}

static slate_status map_endpoint(ctl_problem_t *b, const ctl_solve_input_t *in, uint32_t ep)
{
    if (b->ep_opt[ep] != UINT32_MAX)
        return SLATE_OK;
    uint32_t svc = in->endpoints[ep].svc;
    slate_status st;
    if (b->svc_opt[svc] == UINT32_MAX) {
        unsigned id;
        if ((st = slate_opt_add_service(b->p, &id)) != SLATE_OK)
            return st;
        b->svc_opt[svc] = id;
        for (uint32_t r = 0; r < b->R; r++)
            if (in->deployed[svc][r] &&
                (st = slate_opt_set_placement(b->p, id, r, 1, in->capacity[svc][r])) != SLATE_OK)
                return st;
    }
    unsigned id;
    if ((st = slate_opt_add_endpoint(b->p, b->svc_opt[svc], &id)) != SLATE_OK)
        return st;
    b->ep_opt[ep] = id;
    b->ep_back[id] = ep;
    b->n_opt_eps = id + 1;
    for (uint32_t r = 0; r < b->R; r++)
        if (in->endpoints[ep].has_fit[r] && in->deployed[svc][r] &&
            (st = slate_opt_set_model(b->p, id, r, &in->endpoints[ep].fit[r])) != SLATE_OK)
            return st;
    return SLATE_OK;
}

/* Marks back edges (edges closing a cycle) unusable, by DFS over the usable graph. */
static void drop_cycles(const ctl_solve_input_t *in, bool *use)
{
    uint32_t n = in->n_endpoints;
    uint8_t *color = calloc(n ? n : 1, 1);
    uint32_t *stack_ep = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *stack_it = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!color || !stack_ep || !stack_it) {
        free(color);
        free(stack_ep);
        free(stack_it);
        return;
    }
    for (uint32_t s = 0; s < n; s++) {
        if (color[s])
            continue;
        uint32_t sp = 0;
        stack_ep[sp] = s;
        stack_it[sp] = 0;
        color[s] = 1;
        sp++;
        while (sp > 0) {
            uint32_t v = stack_ep[sp - 1];
            uint32_t *it = &stack_it[sp - 1];
            bool pushed = false;
            while (*it < in->n_edges) {
                uint32_t k = (*it)++;
                if (!use[k] || in->edges[k].parent != v)
                    continue;
                uint32_t w = in->edges[k].child;
                if (color[w] == 1) {
                    use[k] = false; /* back edge */
                } else if (color[w] == 0) {
                    color[w] = 1;
                    stack_ep[sp] = w;
                    stack_it[sp] = 0;
                    sp++;
                    pushed = true;
                    break;
                }
            }
            if (!pushed && stack_ep[sp - 1] == v && *it >= in->n_edges) {
                color[v] = 2;
                sp--;
            }
        }
    }
    free(color);
    free(stack_ep);
    free(stack_it);
}

/* Adds the class rooted at `root` and every usable edge below it. */
static slate_status add_class(ctl_problem_t *b, const ctl_solve_input_t *in, const bool *use,
                              uint32_t root, uint8_t *seen, uint32_t *queue)
{
    slate_status st;
    if ((st = map_endpoint(b, in, root)) != SLATE_OK)
        return st;
    unsigned cls;
    if ((st = slate_opt_add_class(b->p, b->ep_opt[root], &cls)) != SLATE_OK)
        return st;
    b->classes++;
    uint32_t svc = in->endpoints[root].svc;
    for (uint32_t r = 0; r < b->R; r++) {
        double load = in->endpoints[root].load[r];
        if (load > 0 && in->deployed[svc][r] &&
            (st = slate_opt_set_ingress(b->p, cls, r, load)) != SLATE_OK)
            return st;
    }
    memset(seen, 0, in->n_endpoints);
    uint32_t qh = 0, qt = 0;
    queue[qt++] = root;
    seen[root] = 1;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        for (uint32_t k = 0; k < in->n_edges; k++) {
            const struct ctl_si_edge *e = &in->edges[k];
            if (!use[k] || e->parent != v)
                continue;
            if ((st = map_endpoint(b, in, e->child)) != SLATE_OK)
                return st;
            st = slate_opt_add_call(b->p, cls, b->ep_opt[v], b->ep_opt[e->child],
                                    e->calls_per_request, e->bytes_per_call, NULL);
            if (st != SLATE_OK && st != SLATE_EDUPLICATE)
                return st;
            b->edge_used[k] = true;
            if (!seen[e->child]) {
                seen[e->child] = 1;
                queue[qt++] = e->child;
            }
        }
    }
    return SLATE_OK;
}

/* The used edges by child, and the source regions each child needs rows
 * for: what the rows and rules ask per (child, source) in O(1) instead of a
 * pass over every edge. */
static slate_status index_edges(ctl_problem_t *b, const ctl_solve_input_t *in)
{
    uint32_t n = in->n_endpoints;
    b->want_src = calloc(n ? n : 1, sizeof(uint32_t));
    b->into_start = calloc((size_t)n + 1, sizeof(uint32_t));
    b->into_edge = malloc((in->n_edges ? in->n_edges : 1) * sizeof(uint32_t));
    if (!b->want_src || !b->into_start || !b->into_edge)
        return SLATE_ENOSPC;
    for (uint32_t k = 0; k < in->n_edges; k++)
        if (b->edge_used[k])
            b->into_start[in->edges[k].child + 1]++;
    for (uint32_t e = 0; e < n; e++)
        b->into_start[e + 1] += b->into_start[e];
    uint32_t *fill = calloc(n ? n : 1, sizeof(uint32_t));
    if (!fill)
        return SLATE_ENOSPC;
    for (uint32_t k = 0; k < in->n_edges; k++) {
        if (!b->edge_used[k])
            continue;
        uint32_t c = in->edges[k].child;
        b->into_edge[b->into_start[c] + fill[c]++] = k;
        uint32_t ps = in->endpoints[in->edges[k].parent].svc;
        for (uint32_t r = 0; r < b->R && r < 32; r++)
            if (in->deployed[ps][r])
                b->want_src[c] |= 1u << r;
    }
    free(fill);
    return SLATE_OK;
}

slate_status ctl_problem_build(const ctl_config_t *cfg, const ctl_solve_input_t *in,
                               ctl_problem_t *b)
{
    memset(b, 0, sizeof(*b));
    b->R = in->n_regions;
    if (b->R == 0)
        return SLATE_EEMPTY;
    uint32_t n = in->n_endpoints;
    b->ep_opt = malloc((n ? n : 1) * sizeof(uint32_t));
    b->ep_back = malloc((n ? n : 1) * sizeof(uint32_t));
    b->svc_opt = malloc((in->n_services ? in->n_services : 1) * sizeof(uint32_t));
    b->edge_used = calloc(in->n_edges ? in->n_edges : 1, sizeof(bool));
    bool *use = calloc(in->n_edges ? in->n_edges : 1, sizeof(bool));
    bool *has_parent = calloc(n ? n : 1, sizeof(bool));
    uint8_t *seen = malloc(n ? n : 1);
    uint32_t *queue = malloc((n ? n : 1) * sizeof(uint32_t));
    slate_status st = SLATE_ENOSPC;
    if (!b->ep_opt || !b->ep_back || !b->svc_opt || !b->edge_used || !use || !has_parent || !seen ||
        !queue)
        goto out;
    memset(b->ep_opt, 0xff, (n ? n : 1) * sizeof(uint32_t));
    memset(b->svc_opt, 0xff, (in->n_services ? in->n_services : 1) * sizeof(uint32_t));
    if ((st = slate_opt_problem_create(&b->p, b->R)) != SLATE_OK)
        goto out;
    slate_opt_config_t oc;
    slate_opt_config_default(&oc);
    oc.segments = cfg->segments;
    oc.egress_weight = cfg->egress_weight;
    oc.full_lp = cfg->solve_full_lp ? 1u : 0u;
    oc.local_start = cfg->solve_local_start ? 1u : 0u;
    if ((st = slate_opt_configure(b->p, &oc)) != SLATE_OK)
        goto out;
    for (uint32_t a = 0; a < b->R; a++)
        for (uint32_t c = 0; c < b->R; c++)
            if ((st = slate_opt_set_network(b->p, a, c, in->rtt_ms[a][c], in->price[a][c])) !=
                SLATE_OK)
                goto out;
    for (uint32_t k = 0; k < in->n_edges; k++)
        use[k] = edge_ok(in, &in->edges[k]);
    drop_cycles(in, use);
    for (uint32_t k = 0; k < in->n_edges; k++)
        if (use[k])
            has_parent[in->edges[k].child] = true;
    /* Entry endpoints: load, no caller in the graph, a deployed service. */
    for (uint32_t e = 0; e < n; e++) {
        const ctl_si_endpoint_t *ep = &in->endpoints[e];
        if (has_parent[e] || ep->overflow || !deployed_anywhere(in, ep->svc))
            continue;
        bool loaded = false;
        for (uint32_t r = 0; r < b->R; r++)
            loaded |= ep->load[r] > 0 && in->deployed[ep->svc][r];
        bool calls = false;
        for (uint32_t k = 0; k < in->n_edges && !calls; k++)
            calls = use[k] && in->edges[k].parent == e;
        if (!loaded || !calls)
            continue; /* nothing to route below it */
        if ((st = add_class(b, in, use, e, seen, queue)) != SLATE_OK)
            goto out;
    }
    if (b->classes > 0 && (st = index_edges(b, in)) != SLATE_OK)
        goto out;
    st = b->classes > 0 ? SLATE_OK : SLATE_EEMPTY;
out:
    free(use);
    free(has_parent);
    free(seen);
    free(queue);
    return st;
}

/* ------------------------------------------------------------------------- */
/* Rows <-> weight tables <-> rules */

/* Every (source region, child endpoint) the problem routes: a caller is deployed there. */
bool ctl_problem_row_wanted(const ctl_problem_t *b, const ctl_solve_input_t *in, uint32_t child,
                            uint32_t src)
{
    if (b->want_src && child < in->n_endpoints && src < 32)
        return (b->want_src[child] >> src) & 1u;
    for (uint32_t k = 0; k < in->n_edges; k++)
        if (b->edge_used[k] && in->edges[k].child == child &&
            in->deployed[in->endpoints[in->edges[k].parent].svc][src])
            return true;
    return false;
}

double *ctl_problem_weights(const ctl_problem_t *b, const ctl_rows_t *t)
{
    size_t len = slate_opt_weights_len(b->p);
    double *w = calloc(len ? len : 1, sizeof(double));
    if (!w)
        return NULL;
    uint32_t E = b->n_opt_eps, R = b->R;
    for (size_t i = 0; i < t->n; i++) {
        const ctl_row_t *r = &t->v[i];
        if (r->ep >= UINT32_MAX || r->src >= R)
            continue;
        uint32_t oe = b->ep_opt[r->ep];
        if (oe == UINT32_MAX)
            continue;
        unsigned svc = slate_opt_endpoint_service(b->p, oe);
        for (uint32_t d = 0; d < R; d++) {
            int dep = 0;
            double cap;
            if (slate_opt_get_placement(b->p, svc, d, &dep, &cap) != SLATE_OK || !dep)
                continue; /* weights on undeployed regions must be 0 */
            w[(size_t)r->src * E * R + (size_t)oe * R + d] = r->w[d];
        }
    }
    return w;
}

/* Rules for every row: one per (row, calling service deployed in the row's region). */
ctl_rules_t *ctl_problem_rules(const ctl_problem_t *b, const ctl_solve_input_t *in,
                               const ctl_rows_t *t, const char *origin)
{
    ctl_rules_t *rs = ctl_rules_new(0, 0, 0, origin);
    if (!rs)
        return NULL;
    const char *regions[SLOTS];
    uint32_t weights[SLOTS];
    uint8_t *caller = calloc(in->n_services ? in->n_services : 1, 1);
    if (!caller) {
        ctl_rules_unref(rs);
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        const ctl_row_t *r = &t->v[i];
        if (r->ep >= in->n_endpoints || r->src >= b->R)
            continue;
        const ctl_si_endpoint_t *ce = &in->endpoints[r->ep];
        /* targets: fractions to weights summing to exactly CTL_WEIGHT_SCALE */
        uint32_t n = 0;
        double total = 0;
        for (uint32_t d = 0; d < b->R; d++)
            total += r->w[d] > 0 ? r->w[d] : 0;
        if (total <= 0)
            continue;
        uint64_t sum = 0;
        uint32_t biggest = 0;
        for (uint32_t d = 0; d < b->R; d++) {
            if (!(r->w[d] > 0))
                continue;
            uint32_t wt = (uint32_t)llround(r->w[d] / total * CTL_WEIGHT_SCALE);
            if (wt == 0)
                continue;
            regions[n] = in->region_names[d];
            weights[n] = wt;
            if (wt > weights[biggest])
                biggest = n;
            sum += wt;
            n++;
        }
        if (n == 0)
            continue;
        weights[biggest] =
            (uint32_t)((int64_t)weights[biggest] + (int64_t)CTL_WEIGHT_SCALE - (int64_t)sum);
        /* each calling service once: mark, add, then clear the marks */
        uint32_t lo = b->into_start ? b->into_start[r->ep] : 0;
        uint32_t hi = b->into_start ? b->into_start[r->ep + 1] : in->n_edges;
        bool failed = false;
        for (uint32_t q = lo; q < hi && !failed; q++) {
            uint32_t k = b->into_start ? b->into_edge[q] : q;
            if (!b->edge_used[k] || in->edges[k].child != r->ep)
                continue;
            uint32_t ps = in->endpoints[in->edges[k].parent].svc;
            if (caller[ps] || !in->deployed[ps][r->src])
                continue;
            caller[ps] = 1;
            failed =
                ctl_rules_add(rs, in->region_names[r->src], in->service_names[ce->svc], ce->method,
                              ce->path, in->service_names[ps], regions, weights, n) != 0;
        }
        for (uint32_t q = lo; q < hi; q++) {
            uint32_t k = b->into_start ? b->into_edge[q] : q;
            caller[in->endpoints[in->edges[k].parent].svc] = 0;
        }
        if (failed) {
            free(caller);
            ctl_rules_unref(rs);
            return NULL;
        }
    }
    free(caller);
    return rs;
}

/* Rebuilds rows from restored rules, by names, once the state knows them. */
void ctl_rows_from_rules(ctl_rows_t *t, const ctl_rules_t *rs, const ctl_solve_input_t *in)
{
    for (size_t i = 0; i < rs->n_rules; i++) {
        const ctl_rule_t *ru = &rs->rules[i];
        uint32_t src = UINT32_MAX, ep = UINT32_MAX;
        for (uint32_t r = 0; r < in->n_regions; r++)
            if (strcmp(in->region_names[r], ru->src_region) == 0)
                src = r;
        for (uint32_t e = 0; e < in->n_endpoints && ep == UINT32_MAX; e++) {
            const ctl_si_endpoint_t *ce = &in->endpoints[e];
            if (strcmp(in->service_names[ce->svc], ru->dst_service) == 0 &&
                strcmp(ce->method, ru->method) == 0 && strcmp(ce->path, ru->path) == 0)
                ep = e;
        }
        if (src == UINT32_MAX || ep == UINT32_MAX || ctl_rows_find(t, ep, src))
            continue;
        ctl_row_t *r = ctl_rows_put(t, ep, src);
        if (!r)
            return;
        uint64_t total = 0;
        for (uint32_t k = 0; k < ru->n_targets; k++)
            total += ru->targets[k].weight;
        for (uint32_t k = 0; k < ru->n_targets && total > 0; k++)
            for (uint32_t d = 0; d < in->n_regions; d++)
                if (strcmp(in->region_names[d], ru->targets[k].region) == 0)
                    r->w[d] += (double)ru->targets[k].weight / (double)total;
    }
}

ctl_rules_t *ctl_rules_clone(const ctl_rules_t *src, const char *origin)
{
    ctl_rules_t *rs = ctl_rules_new(0, 0, 0, origin);
    if (!rs)
        return NULL;
    for (size_t i = 0; i < src->n_rules; i++) {
        const ctl_rule_t *ru = &src->rules[i];
        const char *regions[SLOTS];
        uint32_t weights[SLOTS];
        uint32_t n = ru->n_targets < SLOTS ? ru->n_targets : SLOTS;
        for (uint32_t k = 0; k < n; k++) {
            regions[k] = ru->targets[k].region;
            weights[k] = ru->targets[k].weight;
        }
        if (ctl_rules_add(rs, ru->src_region, ru->dst_service, ru->method, ru->path,
                          ru->src_service, regions, weights, n) != 0) {
            ctl_rules_unref(rs);
            return NULL;
        }
    }
    return rs;
}
