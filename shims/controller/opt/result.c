/*
 * Results: flows, loads, routing weights and the objective terms, computed
 * the same way for the LP and for every baseline.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "opt_internal.h"

double opt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

slate_opt_result_t *opt_result_new(const slate_opt_problem_t *p)
{
    slate_opt_result_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    size_t R = p->R;
    r->R = p->R;
    r->n_ep = p->n_ep;
    r->n_edge = p->n_edge;
    r->flow = calloc((p->n_edge ? p->n_edge : 1) * R * R, sizeof *r->flow);
    r->load = calloc((p->n_ep ? p->n_ep : 1) * R, sizeof *r->load);
    r->w = calloc((p->n_ep ? p->n_ep : 1) * R * R, sizeof *r->w);
    r->rate = calloc((p->n_ep ? p->n_ep : 1) * R, sizeof *r->rate);
    if (!r->flow || !r->load || !r->w || !r->rate) {
        slate_opt_result_free(r);
        return NULL;
    }
    return r;
}

void slate_opt_result_free(slate_opt_result_t *r)
{
    if (!r)
        return;
    free(r->flow);
    free(r->load);
    free(r->w);
    free(r->rate);
    free(r->basis);
    free(r->keys);
    free(r);
}

unsigned opt_local_choice(const slate_opt_problem_t *p, unsigned src, unsigned ep)
{
    const unsigned char *dep = p->deployed + (size_t)p->ep_svc[ep] * p->R;
    if (dep[src])
        return src;
    unsigned best = OPT_NONE;
    double best_rtt = INFINITY;
    for (unsigned d = 0; d < p->R; d++) {
        double t = p->rtt[(size_t)src * p->R + d];
        if (dep[d] && (best == OPT_NONE || t < best_rtt)) {
            best = d;
            best_rtt = t;
        }
    }
    return best;
}

void opt_result_finish(const slate_opt_problem_t *p, const opt_prep_t *pp, slate_opt_result_t *r)
{
    size_t R = p->R, E = p->n_ep;
    slate_opt_stats_t *st = &r->st;
    /* Loads and aggregated weights from the flows. */
    memcpy(r->load, pp->ep_const, E * R * sizeof *r->load);
    memset(r->w, 0, R * E * R * sizeof *r->w);
    st->network = 0.0;
    st->egress = 0.0;
    for (unsigned e = 0; e < p->n_edge; e++) {
        const opt_edge_t *x = &p->edges[e];
        const double *f = r->flow + (size_t)e * R * R;
        for (size_t s = 0; s < R; s++)
            for (size_t d = 0; d < R; d++) {
                double v = f[s * R + d];
                if (v == 0.0)
                    continue;
                r->load[(size_t)x->child * R + d] += v;
                r->w[(s * E + x->child) * R + d] += v;
                st->network += v * p->rtt[s * R + d];
                st->egress += v * x->bytes * p->price[s * R + d];
            }
    }
    for (size_t s = 0; s < R; s++)
        for (size_t ep = 0; ep < E; ep++) {
            double *row = r->w + (s * E + ep) * R;
            double sum = 0.0;
            for (size_t d = 0; d < R; d++)
                sum += row[d];
            r->rate[s * E + ep] = sum;
            if (sum > 0.0) {
                for (size_t d = 0; d < R; d++)
                    row[d] /= sum;
            } else {
                unsigned c = opt_local_choice(p, (unsigned)s, (unsigned)ep);
                if (c != OPT_NONE)
                    row[c] = 1.0;
            }
        }
    /* Compute terms, PWL and exact. */
    double slopes[SLATE_OPT_MAX_SEGMENTS];
    st->compute_pwl = 0.0;
    st->compute_exact = 0.0;
    for (unsigned ep = 0; ep < E; ep++) {
        if (!pp->ep_live[ep])
            continue;
        for (unsigned reg = 0; reg < R; reg++) {
            double x = r->load[(size_t)ep * R + reg];
            if (!(x > 0.0))
                continue;
            double width;
            unsigned k = opt_pwl(p, pp, ep, reg, &width, slopes);
            st->compute_pwl += opt_pwl_value(k, width, slopes, x);
            st->compute_exact += x * slate_opt_fit_eval(&p->model[(size_t)ep * R + reg], x);
        }
    }
    st->objective = st->compute_pwl + st->network + p->cfg.egress_weight * st->egress;
    st->ingress_rps = 0.0;
    for (size_t i = 0; i < (size_t)p->n_cls * R; i++)
        st->ingress_rps += p->ingress[i];
    st->mean_latency_ms =
        st->ingress_rps > 0.0 ? (st->compute_exact + st->network) / st->ingress_rps : 0.0;
    st->max_overload = 0.0;
    for (unsigned svc = 0; svc < p->n_svc; svc++)
        for (unsigned reg = 0; reg < R; reg++) {
            double cap = p->capacity[(size_t)svc * R + reg];
            if (!p->deployed[(size_t)svc * R + reg] || !isfinite(cap))
                continue;
            double sum = 0.0;
            for (unsigned ep = 0; ep < E; ep++)
                if (p->ep_svc[ep] == svc)
                    sum += r->load[(size_t)ep * R + reg];
            if (sum - cap > st->max_overload)
                st->max_overload = sum - cap;
        }
}

slate_status opt_propagate(const slate_opt_problem_t *p, const opt_prep_t *pp, const double *w,
                           slate_opt_result_t *r)
{
    size_t R = p->R, E = p->n_ep;
    double *nl = calloc((size_t)(pp->n_node ? pp->n_node : 1) * R, sizeof *nl);
    if (!nl)
        return SLATE_ENOSPC;
    memset(r->flow, 0, (size_t)p->n_edge * R * R * sizeof *r->flow);
    memcpy(nl, pp->node_ingress, (size_t)pp->n_node * R * sizeof *nl);
    for (unsigned j = 0; j < p->n_edge; j++) {
        unsigned e = pp->edge_order[j];
        const opt_edge_t *x = &p->edges[e];
        const double *pl = nl + (size_t)pp->edge_pnode[e] * R;
        double *cl = nl + (size_t)pp->edge_cnode[e] * R;
        double *f = r->flow + (size_t)e * R * R;
        for (size_t s = 0; s < R; s++) {
            double calls = x->ratio * pl[s];
            if (calls == 0.0)
                continue;
            const double *row = w + (s * E + x->child) * R;
            for (size_t d = 0; d < R; d++) {
                double v = calls * row[d];
                f[s * R + d] = v;
                cl[d] += v;
            }
        }
    }
    free(nl);
    return SLATE_OK;
}

const slate_opt_stats_t *slate_opt_result_stats(const slate_opt_result_t *r)
{
    return r ? &r->st : NULL;
}

double slate_opt_result_flow(const slate_opt_result_t *r, unsigned edge, unsigned src, unsigned dst)
{
    if (!r || edge >= r->n_edge || src >= r->R || dst >= r->R)
        return 0.0;
    return r->flow[((size_t)edge * r->R + src) * r->R + dst];
}

double slate_opt_result_load(const slate_opt_result_t *r, unsigned ep, unsigned region)
{
    if (!r || ep >= r->n_ep || region >= r->R)
        return 0.0;
    return r->load[(size_t)ep * r->R + region];
}

slate_status slate_opt_result_weights(const slate_opt_result_t *r, unsigned src, unsigned child_ep,
                                      double *weights_out, double *rps_out)
{
    if (!r || !weights_out)
        return SLATE_EINVAL;
    if (src >= r->R || child_ep >= r->n_ep)
        return SLATE_ERANGE;
    size_t R = r->R;
    const double *row = r->w + ((size_t)src * r->n_ep + child_ep) * R;
    double sum = 0.0;
    for (size_t d = 0; d < R; d++) {
        weights_out[d] = row[d];
        sum += row[d];
    }
    if (rps_out)
        *rps_out = r->rate[(size_t)src * r->n_ep + child_ep];
    return sum > 0.0 ? SLATE_OK : SLATE_EINFEASIBLE;
}

const double *slate_opt_result_weight_table(const slate_opt_result_t *r, size_t *len_out)
{
    if (!r)
        return NULL;
    if (len_out)
        *len_out = (size_t)r->R * r->n_ep * r->R;
    return r->w;
}
