/*
 * Class-independent routings: evaluating given weights, local-only and
 * waterfall. All three go through the same propagation and objective as the
 * LP's result, so their numbers compare directly.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opt_internal.h"

size_t slate_opt_weights_len(const slate_opt_problem_t *p)
{
    return p ? (size_t)p->R * p->n_ep * p->R : 0;
}

/* Normalise a weights table in place; zero rows take local-only's choice. */
static void normalise(const slate_opt_problem_t *p, double *w)
{
    size_t R = p->R, E = p->n_ep;
    for (size_t s = 0; s < R; s++)
        for (size_t ep = 0; ep < E; ep++) {
            double *row = w + (s * E + ep) * R;
            double sum = 0.0;
            for (size_t d = 0; d < R; d++)
                sum += row[d];
            if (sum > 0.0) {
                for (size_t d = 0; d < R; d++)
                    row[d] /= sum;
            } else {
                unsigned c = opt_local_choice(p, (unsigned)s, (unsigned)ep);
                if (c != OPT_NONE)
                    row[c] = 1.0;
            }
        }
}

/* Propagate w (normalised, owned by the caller) and build the result. */
static slate_status run(const slate_opt_problem_t *p, const opt_prep_t *pp, const double *w,
                        slate_opt_method method, slate_opt_result_t **out)
{
    slate_opt_result_t *r = opt_result_new(p);
    if (!r)
        return SLATE_ENOSPC;
    slate_status st = opt_propagate(p, pp, w, r);
    if (st != SLATE_OK) {
        slate_opt_result_free(r);
        return st;
    }
    opt_result_finish(p, pp, r);
    r->st.method = method;
    r->st.lp_objective = r->st.objective;
    *out = r;
    return SLATE_OK;
}

static slate_status begin(const slate_opt_problem_t *p, slate_opt_result_t **out, opt_prep_t *pp,
                          double **w)
{
    if (!p || !out)
        return SLATE_EINVAL;
    *out = NULL;
    slate_status st = slate_opt_validate(p);
    if (st != SLATE_OK)
        return st;
    st = opt_prepare(p, pp);
    if (st != SLATE_OK)
        return st;
    *w = calloc(slate_opt_weights_len(p) ? slate_opt_weights_len(p) : 1, sizeof **w);
    if (!*w) {
        opt_prep_free(pp);
        return SLATE_ENOSPC;
    }
    return SLATE_OK;
}

slate_status slate_opt_evaluate(const slate_opt_problem_t *p, const double *weights,
                                slate_opt_result_t **out)
{
    if (!p || !weights || !out)
        return SLATE_EINVAL;
    *out = NULL;
    size_t R = p->R, E = p->n_ep;
    for (size_t s = 0; s < R; s++)
        for (size_t ep = 0; ep < E; ep++)
            for (size_t d = 0; d < R; d++) {
                double v = weights[(s * E + ep) * R + d];
                if (!isfinite(v) || v < 0.0)
                    return SLATE_ERANGE;
                if (v > 0.0 && !p->deployed[(size_t)p->ep_svc[ep] * R + d])
                    return SLATE_ERANGE;
            }
    opt_prep_t pp;
    double *w;
    slate_status st = begin(p, out, &pp, &w);
    if (st != SLATE_OK)
        return st;
    memcpy(w, weights, slate_opt_weights_len(p) * sizeof *w);
    normalise(p, w);
    st = run(p, &pp, w, SLATE_OPT_METHOD_EVALUATED, out);
    free(w);
    opt_prep_free(&pp);
    return st;
}

slate_status slate_opt_local_only(const slate_opt_problem_t *p, slate_opt_result_t **out)
{
    opt_prep_t pp;
    double *w;
    slate_status st = begin(p, out, &pp, &w);
    if (st != SLATE_OK)
        return st;
    normalise(p, w); /* every row is zero: local-only's choice everywhere */
    st = run(p, &pp, w, SLATE_OPT_METHOD_LOCAL, out);
    free(w);
    opt_prep_free(&pp);
    return st;
}

slate_status slate_opt_waterfall(const slate_opt_problem_t *p, slate_opt_result_t **out)
{
    opt_prep_t pp;
    double *w;
    slate_status st = begin(p, out, &pp, &w);
    if (st != SLATE_OK)
        return st;
    size_t R = p->R, E = p->n_ep, N = pp.n_node;
    double *left = malloc((p->n_svc ? p->n_svc : 1) * R * sizeof *left);
    double *nl = malloc((N ? N : 1) * R * sizeof *nl);
    unsigned *ep_nodes_start = calloc(E + 1, sizeof *ep_nodes_start);
    unsigned *ep_nodes = malloc((N ? N : 1) * sizeof *ep_nodes);
    double *alloc = malloc(R * R * sizeof *alloc);
    double *demand = malloc(R * sizeof *demand);
    unsigned *order = malloc(R * sizeof *order);
    if (!left || !nl || !ep_nodes_start || !ep_nodes || !alloc || !demand || !order) {
        st = SLATE_ENOSPC;
        goto out;
    }
    for (size_t i = 0; i < (size_t)p->n_svc * R; i++)
        left[i] = p->deployed[i] ? p->capacity[i] : 0.0;
    memcpy(nl, pp.node_ingress, N * R * sizeof *nl);
    /* Roots serve their ingress locally; it uses capacity first. */
    for (size_t ep = 0; ep < E; ep++)
        for (size_t r = 0; r < R; r++)
            left[(size_t)p->ep_svc[ep] * R + r] -= pp.ep_const[ep * R + r];
    /* Nodes grouped by endpoint. */
    for (size_t n = 0; n < N; n++)
        ep_nodes_start[pp.node_ep[n] + 1]++;
    for (size_t i = 0; i < E; i++)
        ep_nodes_start[i + 1] += ep_nodes_start[i];
    {
        unsigned *cur = malloc((E ? E : 1) * sizeof *cur);
        if (!cur) {
            st = SLATE_ENOSPC;
            goto out;
        }
        memcpy(cur, ep_nodes_start, E * sizeof *cur);
        for (size_t n = 0; n < N; n++)
            ep_nodes[cur[pp.node_ep[n]]++] = (unsigned)n;
        free(cur);
    }

    for (size_t oi = 0; oi < E; oi++) {
        unsigned c = pp.ep_order[oi];
        size_t svc = p->ep_svc[c];
        const unsigned char *dep = p->deployed + svc * R;
        double *cl = left + svc * R;
        /* Demand for c from each source region. */
        for (size_t s = 0; s < R; s++)
            demand[s] = 0.0;
        for (unsigned k = ep_nodes_start[c]; k < ep_nodes_start[c + 1]; k++) {
            unsigned n = ep_nodes[k];
            for (unsigned i = pp.in_start[n]; i < pp.in_start[n + 1]; i++) {
                unsigned e = pp.in_list[i];
                const double *pl = nl + (size_t)pp.edge_pnode[e] * R;
                for (size_t s = 0; s < R; s++)
                    demand[s] += p->edges[e].ratio * pl[s];
            }
        }
        memset(alloc, 0, R * R * sizeof *alloc);
        /* 1. Local first, up to the capacity left. */
        for (size_t s = 0; s < R; s++) {
            if (!(demand[s] > 0.0) || !dep[s])
                continue;
            double take = demand[s] < cl[s] ? demand[s] : (cl[s] > 0.0 ? cl[s] : 0.0);
            alloc[s * R + s] = take;
            cl[s] -= take;
        }
        /* 2. Spill the excess to the nearest regions with capacity left. */
        for (size_t s = 0; s < R; s++) {
            double excess = demand[s] - alloc[s * R + s];
            if (!(excess > 0.0))
                continue;
            unsigned no = 0;
            for (unsigned d = 0; d < R; d++)
                if (d != s && dep[d])
                    order[no++] = d;
            for (unsigned i = 1; i < no; i++) { /* insertion sort by RTT, stable */
                unsigned v = order[i];
                double t = p->rtt[s * R + v];
                unsigned j = i;
                while (j > 0 && p->rtt[s * R + order[j - 1]] > t) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = v;
            }
            for (unsigned i = 0; i < no && excess > 0.0; i++) {
                unsigned d = order[i];
                if (!(cl[d] > 0.0))
                    continue;
                double take = excess < cl[d] ? excess : cl[d];
                alloc[s * R + d] += take;
                cl[d] -= take;
                excess -= take;
            }
            /* 3. What remains overloads the local (or nearest) region. */
            if (excess > 0.0) {
                unsigned d = opt_local_choice(p, (unsigned)s, c);
                if (d != OPT_NONE) {
                    alloc[s * R + d] += excess;
                    cl[d] -= excess;
                }
            }
        }
        for (size_t s = 0; s < R; s++) {
            double *row = w + (s * E + c) * R;
            if (demand[s] > 0.0)
                for (size_t d = 0; d < R; d++)
                    row[d] = alloc[s * R + d] / demand[s];
        }
        /* Loads of c's nodes under this routing. */
        for (unsigned k = ep_nodes_start[c]; k < ep_nodes_start[c + 1]; k++) {
            unsigned n = ep_nodes[k];
            for (unsigned i = pp.in_start[n]; i < pp.in_start[n + 1]; i++) {
                unsigned e = pp.in_list[i];
                const double *pl = nl + (size_t)pp.edge_pnode[e] * R;
                for (size_t s = 0; s < R; s++) {
                    double calls = p->edges[e].ratio * pl[s];
                    if (!(calls > 0.0))
                        continue;
                    const double *row = w + (s * E + c) * R;
                    for (size_t d = 0; d < R; d++)
                        nl[(size_t)n * R + d] += calls * row[d];
                }
            }
        }
    }
    normalise(p, w);
    st = run(p, &pp, w, SLATE_OPT_METHOD_WATERFALL, out);
out:
    free(left);
    free(nl);
    free(ep_nodes_start);
    free(ep_nodes);
    free(alloc);
    free(demand);
    free(order);
    free(w);
    opt_prep_free(&pp);
    return st;
}
