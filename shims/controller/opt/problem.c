/*
 * The routing problem: building it, checking it, and the structure derived
 * from it (class nodes, topological order, PWL segments).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opt_internal.h"

void slate_opt_config_default(slate_opt_config_t *c)
{
    if (!c)
        return;
    c->segments = 8;
    c->egress_weight = 0.0;
    c->time_limit_s = 0.0;
    c->range_factor = 1.0;
    c->full_lp = 0;
    c->local_start = 0;
    c->warm_max_iterations = 0;
}

static int config_ok(const slate_opt_config_t *c)
{
    if (c->segments < 1 || c->segments > SLATE_OPT_MAX_SEGMENTS)
        return 0;
    if (!(c->egress_weight >= 0.0 && c->egress_weight <= SLATE_OPT_MAX_WEIGHT))
        return 0;
    if (!(c->time_limit_s >= 0.0) || !isfinite(c->time_limit_s))
        return 0;
    if (!(c->range_factor >= 1.0 && c->range_factor <= 1e6))
        return 0;
    if (c->full_lp > 1 || c->local_start > 1 || c->warm_max_iterations > 100000000u)
        return 0;
    return 1;
}

slate_status slate_opt_problem_create(slate_opt_problem_t **out, unsigned n_regions)
{
    if (!out)
        return SLATE_EINVAL;
    *out = NULL;
    if (n_regions == 0 || n_regions > SLATE_OPT_MAX_REGIONS)
        return SLATE_ERANGE;
    slate_opt_problem_t *p = calloc(1, sizeof *p);
    if (!p)
        return SLATE_ENOSPC;
    p->R = n_regions;
    slate_opt_config_default(&p->cfg);
    p->rtt = calloc((size_t)n_regions * n_regions, sizeof *p->rtt);
    p->price = calloc((size_t)n_regions * n_regions, sizeof *p->price);
    if (!p->rtt || !p->price) {
        slate_opt_problem_free(p);
        return SLATE_ENOSPC;
    }
    *out = p;
    return SLATE_OK;
}

void slate_opt_problem_free(slate_opt_problem_t *p)
{
    if (!p)
        return;
    free(p->rtt);
    free(p->price);
    free(p->deployed);
    free(p->capacity);
    free(p->ep_svc);
    free(p->model);
    free(p->cls_root);
    free(p->ingress);
    free(p->edges);
    free(p);
}

unsigned slate_opt_n_regions(const slate_opt_problem_t *p)
{
    return p ? p->R : 0;
}
unsigned slate_opt_n_services(const slate_opt_problem_t *p)
{
    return p ? p->n_svc : 0;
}
unsigned slate_opt_n_endpoints(const slate_opt_problem_t *p)
{
    return p ? p->n_ep : 0;
}
unsigned slate_opt_n_classes(const slate_opt_problem_t *p)
{
    return p ? p->n_cls : 0;
}
unsigned slate_opt_n_edges(const slate_opt_problem_t *p)
{
    return p ? p->n_edge : 0;
}

slate_status slate_opt_configure(slate_opt_problem_t *p, const slate_opt_config_t *c)
{
    if (!p || !c)
        return SLATE_EINVAL;
    if (!config_ok(c))
        return SLATE_ERANGE;
    p->cfg = *c;
    return SLATE_OK;
}

/* 0 <= v <= max (false for NaN). */
static int in_range(double v, double max)
{
    return v >= 0.0 && v <= max;
}

slate_status slate_opt_set_network(slate_opt_problem_t *p, unsigned src, unsigned dst,
                                   double rtt_ms, double price_per_byte)
{
    if (!p)
        return SLATE_EINVAL;
    if (src >= p->R || dst >= p->R || !in_range(rtt_ms, SLATE_OPT_MAX_MS) ||
        !in_range(price_per_byte, SLATE_OPT_MAX_PRICE))
        return SLATE_ERANGE;
    p->rtt[(size_t)src * p->R + dst] = rtt_ms;
    p->price[(size_t)src * p->R + dst] = price_per_byte;
    return SLATE_OK;
}

/* Grow an array of per-item blocks (elem bytes each) to hold one more item. */
static int grow(void **arr, unsigned *cap, unsigned need, size_t elem, unsigned limit)
{
    if (need <= *cap)
        return 1;
    unsigned nc = *cap ? *cap * 2 : 16;
    if (nc > limit)
        nc = limit;
    if (nc < need)
        return 0;
    void *n = realloc(*arr, (size_t)nc * elem);
    if (!n)
        return 0;
    *arr = n;
    *cap = nc;
    return 1;
}

slate_status slate_opt_add_service(slate_opt_problem_t *p, unsigned *id_out)
{
    if (!p)
        return SLATE_EINVAL;
    if (p->n_svc >= SLATE_OPT_MAX_SERVICES)
        return SLATE_ETOOMANY;
    unsigned cap1 = p->cap_svc, cap2 = p->cap_svc;
    void *d = p->deployed, *c = p->capacity;
    if (!grow(&d, &cap1, p->n_svc + 1, p->R, SLATE_OPT_MAX_SERVICES))
        return SLATE_ENOSPC;
    p->deployed = d;
    if (!grow(&c, &cap2, p->n_svc + 1, p->R * sizeof(double), SLATE_OPT_MAX_SERVICES))
        return SLATE_ENOSPC;
    p->capacity = c;
    p->cap_svc = cap1 < cap2 ? cap1 : cap2;
    unsigned id = p->n_svc++;
    for (unsigned r = 0; r < p->R; r++) {
        p->deployed[(size_t)id * p->R + r] = 0;
        p->capacity[(size_t)id * p->R + r] = INFINITY;
    }
    if (id_out)
        *id_out = id;
    return SLATE_OK;
}

slate_status slate_opt_set_placement(slate_opt_problem_t *p, unsigned svc, unsigned region,
                                     int deployed, double capacity_rps)
{
    if (!p)
        return SLATE_EINVAL;
    if (svc >= p->n_svc || region >= p->R)
        return SLATE_ERANGE;
    if (deployed && !(in_range(capacity_rps, SLATE_OPT_MAX_RATE) || capacity_rps == INFINITY))
        return SLATE_ERANGE;
    size_t i = (size_t)svc * p->R + region;
    p->deployed[i] = deployed ? 1 : 0;
    p->capacity[i] = deployed ? capacity_rps : INFINITY;
    return SLATE_OK;
}

slate_status slate_opt_add_endpoint(slate_opt_problem_t *p, unsigned svc, unsigned *id_out)
{
    if (!p)
        return SLATE_EINVAL;
    if (svc >= p->n_svc)
        return SLATE_ERANGE;
    if (p->n_ep >= SLATE_OPT_MAX_ENDPOINTS)
        return SLATE_ETOOMANY;
    unsigned cap1 = p->cap_ep, cap2 = p->cap_ep;
    void *s = p->ep_svc, *m = p->model;
    if (!grow(&s, &cap1, p->n_ep + 1, sizeof(unsigned), SLATE_OPT_MAX_ENDPOINTS))
        return SLATE_ENOSPC;
    p->ep_svc = s;
    if (!grow(&m, &cap2, p->n_ep + 1, p->R * sizeof(slate_opt_fit_t), SLATE_OPT_MAX_ENDPOINTS))
        return SLATE_ENOSPC;
    p->model = m;
    p->cap_ep = cap1 < cap2 ? cap1 : cap2;
    unsigned id = p->n_ep++;
    p->ep_svc[id] = svc;
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    for (unsigned r = 0; r < p->R; r++)
        (void)slate_opt_fit_fixed(&p->model[(size_t)id * p->R + r], mp.fallback_ms, 0.0, 0.0);
    if (id_out)
        *id_out = id;
    return SLATE_OK;
}

unsigned slate_opt_endpoint_service(const slate_opt_problem_t *p, unsigned ep)
{
    if (!p || ep >= p->n_ep)
        return UINT32_MAX;
    return p->ep_svc[ep];
}

slate_status slate_opt_set_model(slate_opt_problem_t *p, unsigned ep, unsigned region,
                                 const slate_opt_fit_t *fit)
{
    if (!p || !fit)
        return SLATE_EINVAL;
    if (ep >= p->n_ep || region >= p->R)
        return SLATE_ERANGE;
    if (!in_range(fit->a, SLATE_OPT_MAX_MS) || !in_range(fit->b, SLATE_OPT_MAX_COEF) ||
        !in_range(fit->c, SLATE_OPT_MAX_COEF))
        return SLATE_ERANGE;
    p->model[(size_t)ep * p->R + region] = *fit;
    return SLATE_OK;
}

slate_status slate_opt_add_class(slate_opt_problem_t *p, unsigned root_ep, unsigned *id_out)
{
    if (!p)
        return SLATE_EINVAL;
    if (root_ep >= p->n_ep)
        return SLATE_ERANGE;
    if (p->n_cls >= SLATE_OPT_MAX_CLASSES)
        return SLATE_ETOOMANY;
    unsigned cap1 = p->cap_cls, cap2 = p->cap_cls;
    void *r = p->cls_root, *g = p->ingress;
    if (!grow(&r, &cap1, p->n_cls + 1, sizeof(unsigned), SLATE_OPT_MAX_CLASSES))
        return SLATE_ENOSPC;
    p->cls_root = r;
    if (!grow(&g, &cap2, p->n_cls + 1, p->R * sizeof(double), SLATE_OPT_MAX_CLASSES))
        return SLATE_ENOSPC;
    p->ingress = g;
    p->cap_cls = cap1 < cap2 ? cap1 : cap2;
    unsigned id = p->n_cls++;
    p->cls_root[id] = root_ep;
    for (unsigned i = 0; i < p->R; i++)
        p->ingress[(size_t)id * p->R + i] = 0.0;
    if (id_out)
        *id_out = id;
    return SLATE_OK;
}

slate_status slate_opt_set_ingress(slate_opt_problem_t *p, unsigned cls, unsigned region,
                                   double rps)
{
    if (!p)
        return SLATE_EINVAL;
    if (cls >= p->n_cls || region >= p->R || !in_range(rps, SLATE_OPT_MAX_RATE))
        return SLATE_ERANGE;
    p->ingress[(size_t)cls * p->R + region] = rps;
    return SLATE_OK;
}

slate_status slate_opt_add_call(slate_opt_problem_t *p, unsigned cls, unsigned parent_ep,
                                unsigned child_ep, double calls_per_request, double bytes_per_call,
                                unsigned *id_out)
{
    if (!p)
        return SLATE_EINVAL;
    if (cls >= p->n_cls || parent_ep >= p->n_ep || child_ep >= p->n_ep || parent_ep == child_ep ||
        !in_range(calls_per_request, SLATE_OPT_MAX_RATIO) ||
        !in_range(bytes_per_call, SLATE_OPT_MAX_BYTES))
        return SLATE_ERANGE;
    for (unsigned e = 0; e < p->n_edge; e++) {
        const opt_edge_t *x = &p->edges[e];
        if (x->cls == cls && x->parent == parent_ep && x->child == child_ep)
            return SLATE_EDUPLICATE;
    }
    if (p->n_edge >= SLATE_OPT_MAX_EDGES)
        return SLATE_ETOOMANY;
    void *a = p->edges;
    if (!grow(&a, &p->cap_edge, p->n_edge + 1, sizeof(opt_edge_t), SLATE_OPT_MAX_EDGES))
        return SLATE_ENOSPC;
    p->edges = a;
    unsigned id = p->n_edge++;
    p->edges[id] = (opt_edge_t){cls, parent_ep, child_ep, calls_per_request, bytes_per_call};
    if (id_out)
        *id_out = id;
    return SLATE_OK;
}

slate_status slate_opt_get_config(const slate_opt_problem_t *p, slate_opt_config_t *out)
{
    if (!p || !out)
        return SLATE_EINVAL;
    *out = p->cfg;
    return SLATE_OK;
}

slate_status slate_opt_get_network(const slate_opt_problem_t *p, unsigned src, unsigned dst,
                                   double *rtt_ms, double *price_per_byte)
{
    if (!p)
        return SLATE_EINVAL;
    if (src >= p->R || dst >= p->R)
        return SLATE_ERANGE;
    if (rtt_ms)
        *rtt_ms = p->rtt[(size_t)src * p->R + dst];
    if (price_per_byte)
        *price_per_byte = p->price[(size_t)src * p->R + dst];
    return SLATE_OK;
}

slate_status slate_opt_get_placement(const slate_opt_problem_t *p, unsigned svc, unsigned region,
                                     int *deployed, double *capacity_rps)
{
    if (!p)
        return SLATE_EINVAL;
    if (svc >= p->n_svc || region >= p->R)
        return SLATE_ERANGE;
    if (deployed)
        *deployed = p->deployed[(size_t)svc * p->R + region];
    if (capacity_rps)
        *capacity_rps = p->capacity[(size_t)svc * p->R + region];
    return SLATE_OK;
}

slate_status slate_opt_get_model(const slate_opt_problem_t *p, unsigned ep, unsigned region,
                                 slate_opt_fit_t *out)
{
    if (!p || !out)
        return SLATE_EINVAL;
    if (ep >= p->n_ep || region >= p->R)
        return SLATE_ERANGE;
    *out = p->model[(size_t)ep * p->R + region];
    return SLATE_OK;
}

slate_status slate_opt_get_class(const slate_opt_problem_t *p, unsigned cls, unsigned *root_ep)
{
    if (!p)
        return SLATE_EINVAL;
    if (cls >= p->n_cls)
        return SLATE_ERANGE;
    if (root_ep)
        *root_ep = p->cls_root[cls];
    return SLATE_OK;
}

slate_status slate_opt_get_ingress(const slate_opt_problem_t *p, unsigned cls, unsigned region,
                                   double *rps)
{
    if (!p)
        return SLATE_EINVAL;
    if (cls >= p->n_cls || region >= p->R)
        return SLATE_ERANGE;
    if (rps)
        *rps = p->ingress[(size_t)cls * p->R + region];
    return SLATE_OK;
}

slate_status slate_opt_get_call(const slate_opt_problem_t *p, unsigned edge, unsigned *cls,
                                unsigned *parent_ep, unsigned *child_ep, double *calls_per_request,
                                double *bytes_per_call)
{
    if (!p)
        return SLATE_EINVAL;
    if (edge >= p->n_edge)
        return SLATE_ERANGE;
    const opt_edge_t *x = &p->edges[edge];
    if (cls)
        *cls = x->cls;
    if (parent_ep)
        *parent_ep = x->parent;
    if (child_ep)
        *child_ep = x->child;
    if (calls_per_request)
        *calls_per_request = x->ratio;
    if (bytes_per_call)
        *bytes_per_call = x->bytes;
    return SLATE_OK;
}

/* ------------------------------------------------------------------------- */

void opt_prep_free(opt_prep_t *pp)
{
    if (!pp)
        return;
    free(pp->node_cls);
    free(pp->node_ep);
    free(pp->edge_pnode);
    free(pp->edge_cnode);
    free(pp->in_start);
    free(pp->in_list);
    free(pp->out_start);
    free(pp->out_list);
    free(pp->ep_order);
    free(pp->edge_order);
    free(pp->node_ingress);
    free(pp->ep_const);
    free(pp->ep_upper);
    free(pp->ep_live);
    memset(pp, 0, sizeof *pp);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static unsigned find_node(const uint64_t *keys, unsigned n, uint64_t key)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && keys[lo] == key ? lo : OPT_NONE;
}

/* Kahn's algorithm over the endpoint graph (union of every class). */
static slate_status topo_order(const slate_opt_problem_t *p, unsigned *order, unsigned *rank)
{
    unsigned n = p->n_ep, m = p->n_edge;
    unsigned *indeg = calloc(n ? n : 1, sizeof *indeg);
    unsigned *start = calloc((size_t)n + 1, sizeof *start);
    unsigned *adj = malloc((m ? m : 1) * sizeof *adj);
    slate_status st = SLATE_OK;
    if (!indeg || !start || !adj) {
        st = SLATE_ENOSPC;
        goto out;
    }
    for (unsigned e = 0; e < m; e++) {
        start[p->edges[e].parent + 1]++;
        indeg[p->edges[e].child]++;
    }
    for (unsigned i = 0; i < n; i++)
        start[i + 1] += start[i];
    {
        unsigned *cur = malloc((n ? n : 1) * sizeof *cur);
        if (!cur) {
            st = SLATE_ENOSPC;
            goto out;
        }
        memcpy(cur, start, n * sizeof *cur);
        for (unsigned e = 0; e < m; e++)
            adj[cur[p->edges[e].parent]++] = p->edges[e].child;
        free(cur);
    }
    unsigned head = 0, tail = 0;
    for (unsigned i = 0; i < n; i++)
        if (indeg[i] == 0)
            order[tail++] = i;
    while (head < tail) {
        unsigned u = order[head++];
        for (unsigned k = start[u]; k < start[u + 1]; k++)
            if (--indeg[adj[k]] == 0)
                order[tail++] = adj[k];
    }
    if (tail != n)
        st = SLATE_ECYCLE;
    else
        for (unsigned i = 0; i < n; i++)
            rank[order[i]] = i;
out:
    free(indeg);
    free(start);
    free(adj);
    return st;
}

/* Edge ids ordered by the topological rank of their parent (a stable
 * counting sort), so a node's incoming edges all come before its outgoing ones. */
static int sort_edges(const slate_opt_problem_t *p, const unsigned *rank, unsigned *out)
{
    unsigned n = p->n_ep;
    unsigned *cnt = calloc((size_t)n + 1, sizeof *cnt);
    if (!cnt)
        return 0;
    for (unsigned e = 0; e < p->n_edge; e++)
        cnt[rank[p->edges[e].parent] + 1]++;
    for (unsigned i = 0; i < n; i++)
        cnt[i + 1] += cnt[i];
    for (unsigned e = 0; e < p->n_edge; e++)
        out[cnt[rank[p->edges[e].parent]]++] = e;
    free(cnt);
    return 1;
}

slate_status opt_prepare(const slate_opt_problem_t *p, opt_prep_t *pp)
{
    memset(pp, 0, sizeof *pp);
    unsigned R = p->R, n_ep = p->n_ep, m = p->n_edge;
    slate_status st = SLATE_ENOSPC;
    unsigned *rank = NULL;
    uint64_t *keys = NULL;

    pp->ep_order = malloc((n_ep ? n_ep : 1) * sizeof *pp->ep_order);
    rank = malloc((n_ep ? n_ep : 1) * sizeof *rank);
    pp->edge_order = malloc((m ? m : 1) * sizeof *pp->edge_order);
    if (!pp->ep_order || !rank || !pp->edge_order)
        goto fail;
    st = topo_order(p, pp->ep_order, rank);
    if (st != SLATE_OK)
        goto fail;
    st = SLATE_ENOSPC;
    if (!sort_edges(p, rank, pp->edge_order))
        goto fail;

    /* Nodes: (class, endpoint) keys of roots and edge ends, sorted, unique. */
    size_t nk = (size_t)p->n_cls + 2 * (size_t)m;
    keys = malloc((nk ? nk : 1) * sizeof *keys);
    if (!keys)
        goto fail;
    size_t k = 0;
    for (unsigned c = 0; c < p->n_cls; c++)
        keys[k++] = (uint64_t)c * n_ep + p->cls_root[c];
    for (unsigned e = 0; e < m; e++) {
        keys[k++] = (uint64_t)p->edges[e].cls * n_ep + p->edges[e].parent;
        keys[k++] = (uint64_t)p->edges[e].cls * n_ep + p->edges[e].child;
    }
    qsort(keys, nk, sizeof *keys, cmp_u64);
    unsigned nn = 0;
    for (size_t i = 0; i < nk; i++)
        if (i == 0 || keys[i] != keys[i - 1])
            keys[nn++] = keys[i];
    pp->n_node = nn;
    pp->node_cls = malloc((nn ? nn : 1) * sizeof *pp->node_cls);
    pp->node_ep = malloc((nn ? nn : 1) * sizeof *pp->node_ep);
    pp->edge_pnode = malloc((m ? m : 1) * sizeof *pp->edge_pnode);
    pp->edge_cnode = malloc((m ? m : 1) * sizeof *pp->edge_cnode);
    pp->in_start = calloc((size_t)nn + 1, sizeof *pp->in_start);
    pp->out_start = calloc((size_t)nn + 1, sizeof *pp->out_start);
    pp->in_list = malloc((m ? m : 1) * sizeof *pp->in_list);
    pp->out_list = malloc((m ? m : 1) * sizeof *pp->out_list);
    pp->node_ingress = calloc((size_t)(nn ? nn : 1) * R, sizeof *pp->node_ingress);
    pp->ep_const = calloc((size_t)(n_ep ? n_ep : 1) * R, sizeof *pp->ep_const);
    pp->ep_upper = calloc(n_ep ? n_ep : 1, sizeof *pp->ep_upper);
    pp->ep_live = calloc(n_ep ? n_ep : 1, 1);
    if (!pp->node_cls || !pp->node_ep || !pp->edge_pnode || !pp->edge_cnode || !pp->in_start ||
        !pp->out_start || !pp->in_list || !pp->out_list || !pp->node_ingress || !pp->ep_const ||
        !pp->ep_upper || !pp->ep_live)
        goto fail;
    for (unsigned i = 0; i < nn; i++) {
        pp->node_cls[i] = (unsigned)(keys[i] / n_ep);
        pp->node_ep[i] = (unsigned)(keys[i] % n_ep);
    }
    for (unsigned e = 0; e < m; e++) {
        const opt_edge_t *x = &p->edges[e];
        pp->edge_pnode[e] = find_node(keys, nn, (uint64_t)x->cls * n_ep + x->parent);
        pp->edge_cnode[e] = find_node(keys, nn, (uint64_t)x->cls * n_ep + x->child);
        pp->out_start[pp->edge_pnode[e] + 1]++;
        pp->in_start[pp->edge_cnode[e] + 1]++;
        pp->ep_live[x->child] = 1;
    }
    for (unsigned i = 0; i < nn; i++) {
        pp->out_start[i + 1] += pp->out_start[i];
        pp->in_start[i + 1] += pp->in_start[i];
    }
    {
        unsigned *ci = malloc((nn ? nn : 1) * sizeof *ci);
        unsigned *co = malloc((nn ? nn : 1) * sizeof *co);
        if (!ci || !co) {
            free(ci);
            free(co);
            goto fail;
        }
        memcpy(ci, pp->in_start, nn * sizeof *ci);
        memcpy(co, pp->out_start, nn * sizeof *co);
        for (unsigned e = 0; e < m; e++) {
            pp->out_list[co[pp->edge_pnode[e]]++] = e;
            pp->in_list[ci[pp->edge_cnode[e]]++] = e;
        }
        free(ci);
        free(co);
    }
    for (unsigned c = 0; c < p->n_cls; c++) {
        unsigned root = p->cls_root[c];
        unsigned node = find_node(keys, nn, (uint64_t)c * n_ep + root);
        pp->ep_live[root] = 1;
        for (unsigned r = 0; r < R; r++) {
            double g = p->ingress[(size_t)c * R + r];
            pp->node_ingress[(size_t)node * R + r] = g;
            pp->ep_const[(size_t)root * R + r] += g;
        }
    }
    /* Most load that can reach each endpoint: totals propagated down each class. */
    {
        double *tot = calloc(nn ? nn : 1, sizeof *tot);
        if (!tot)
            goto fail;
        for (unsigned i = 0; i < nn; i++)
            for (unsigned r = 0; r < R; r++)
                tot[i] += pp->node_ingress[(size_t)i * R + r];
        for (unsigned j = 0; j < m; j++) {
            unsigned e = pp->edge_order[j];
            tot[pp->edge_cnode[e]] += p->edges[e].ratio * tot[pp->edge_pnode[e]];
        }
        for (unsigned i = 0; i < nn; i++)
            pp->ep_upper[pp->node_ep[i]] += tot[i];
        free(tot);
    }
    free(rank);
    free(keys);
    return SLATE_OK;
fail:
    free(rank);
    free(keys);
    opt_prep_free(pp);
    return st;
}

slate_status slate_opt_validate(const slate_opt_problem_t *p)
{
    if (!p)
        return SLATE_EINVAL;
    for (unsigned c = 0; c < p->n_cls; c++) {
        unsigned svc = p->ep_svc[p->cls_root[c]];
        for (unsigned r = 0; r < p->R; r++)
            if (p->ingress[(size_t)c * p->R + r] > 0.0 && !p->deployed[(size_t)svc * p->R + r])
                return SLATE_EINFEASIBLE;
    }
    for (unsigned e = 0; e < p->n_edge; e++) {
        unsigned svc = p->ep_svc[p->edges[e].child];
        int any = 0;
        for (unsigned r = 0; r < p->R; r++)
            any |= p->deployed[(size_t)svc * p->R + r];
        if (!any)
            return SLATE_EINFEASIBLE;
    }
    opt_prep_t pp;
    slate_status st = opt_prepare(p, &pp);
    if (st == SLATE_OK)
        opt_prep_free(&pp);
    return st;
}

/* ------------------------------------------------------------------------- */

static double load_times_latency(const slate_opt_fit_t *f, double x)
{
    return x * slate_opt_fit_eval(f, x);
}

unsigned opt_pwl(const slate_opt_problem_t *p, const opt_prep_t *pp, unsigned ep, unsigned r,
                 double *width, double *slopes)
{
    const slate_opt_fit_t *f = &p->model[(size_t)ep * p->R + r];
    double cap = p->capacity[(size_t)p->ep_svc[ep] * p->R + r];
    double up = p->cfg.range_factor * pp->ep_upper[ep];
    double top = cap < up ? cap : up;
    /* A range below 1e-9 rps (or a subnormal one, whose segment width would
     * underflow to 0) is a single segment with the curve's slope at 0. */
    if (!(top > 1e-9) || !isfinite(top)) {
        *width = 0.0;
        slopes[0] = f->a; /* derivative of x L(x) at 0 */
        return 1;
    }
    unsigned k = p->cfg.segments;
    double w = top / k;
    double prev = 0.0;
    for (unsigned j = 0; j < k; j++) {
        double v = load_times_latency(f, w * (j + 1));
        slopes[j] = (v - prev) / w;
        prev = v;
    }
    /* Convexity makes the chord slopes non-decreasing; keep them so exactly. */
    for (unsigned j = 1; j < k; j++)
        if (slopes[j] < slopes[j - 1])
            slopes[j] = slopes[j - 1];
    *width = w;
    return k;
}

double opt_pwl_value(unsigned k, double width, const double *slopes, double x)
{
    if (!(x > 0.0))
        return 0.0;
    double v = 0.0, lo = 0.0;
    for (unsigned j = 0; j + 1 < k; j++) {
        double part = x - lo;
        if (part <= 0.0)
            return v;
        if (part > width)
            part = width;
        v += slopes[j] * part;
        lo += width;
    }
    if (x > lo)
        v += slopes[k - 1] * (x - lo);
    return v;
}
