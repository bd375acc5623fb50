/*
 * slate-controller: window close (rates, latency, models, the network estimate) and
 * the solver's snapshot.
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

/* ------------------------------------------------------------------------- */
/* Window close and the solver's snapshot */

double ls_edge_ratio(const ctl_state_t *s, const edge_ent *e)
{
    double d = s->eps[e->parent].spans_seen;
    return d > 0 ? e->count / d : 0;
}

uint32_t ls_slot_count(const ctl_state_t *s)
{
    return s->overflow_region_used ? s->max_regions + 1 : s->n_regions;
}

uint32_t ls_slot_index(const ctl_state_t *s, uint32_t i)
{
    /* slots 0..n_regions-1, then the overflow slot */
    return i < s->n_regions ? i : s->max_regions;
}

static void close_window(ctl_state_t *s, uint64_t now_ns)
{
    double window_s = now_ns > s->window_start_ns ? (double)(now_ns - s->window_start_ns) / 1e9 : 0;
    if (s->window_start_ns == 0 || window_s <= 0)
        window_s = (double)s->cfg.solve_period_ms / 1000.0;
    if (window_s < 1e-3)
        window_s = 1e-3;
    s->last_window_s = window_s;
    s->window_start_ns = now_ns;
    s->windows++;
    uint32_t nslots = ls_slot_count(s);

    for (uint32_t i = 0; i < s->cap_svcs; i++) {
        svc_ent *sv = &s->svcs[i];
        if (!sv->name)
            continue;
        for (uint32_t k = 0; k < nslots; k++) {
            uint32_t r = ls_slot_index(s, k);
            if (sv->w_reports[r] > 0)
                sv->last_interval_s[r] = sv->w_interval_s[r] / sv->w_reports[r];
            sv->pods[r] = ls_pods_live(sv, r, now_ns);
            sv->w_reports[r] = 0;
            sv->w_interval_s[r] = 0;
        }
    }

    for (uint32_t i = 0; i < s->n_eps; i++) {
        ep_ent *e = &s->eps[i];
        for (uint32_t k = 0; k < nslots; k++) {
            uint32_t r = ls_slot_index(s, k);
            cell_ent *c = e->cells[r];
            if (!c)
                continue;
            c->requests = c->w_requests;
            /* Loads are per second of the window, or of the reports' interval when the
             * window is shorter (a report then stands for its whole interval). */
            double span_s = window_s;
            svc_ent *sv = &s->svcs[e->svc];
            if (sv->last_interval_s[r] > span_s)
                span_s = sv->last_interval_s[r];
            c->load_rps = (double)c->w_requests / span_s;
            c->latency_ms = c->w_lat.count ? ls_ns_to_ms(c->w_lat.mean_ns) : NAN;
            c->in_flight = c->w_reports
                               ? (double)c->w_inflight_sum / c->w_reports * s->svcs[e->svc].pods[r]
                               : 0;
            c->xt_ms = c->w_xt_n ? c->w_xt_sum_ms / c->w_xt_n : NAN;
            /* Endpoints without spans and without children: the window mean is their self time.
             * Once spans or children show up, window means already taken go. */
            if ((c->seen_spans || e->has_children) && c->model_window)
                ls_cell_model_reset(s, c);
            if (!c->seen_spans && !e->has_children && c->w_lat.count > 0 && c->load_rps > 0 &&
                slate_opt_model_add(&c->model, c->load_rps, c->latency_ms) == SLATE_OK)
                c->model_window = true;
            c->fit_valid = slate_opt_model_fit(&c->model, &c->fit) == SLATE_OK;
            hist_pt *h = &c->hist[c->hist_pos];
            h->t_ns = now_ns;
            h->load_rps = c->load_rps;
            h->latency_ms = c->latency_ms;
            h->xt_ms = c->xt_ms;
            h->requests = c->requests;
            c->hist_pos = (c->hist_pos + 1) % HIST_LEN;
            if (c->hist_n < HIST_LEN)
                c->hist_n++;
            c->w_requests = 0;
            c->w_inflight_sum = 0;
            c->w_reports = 0;
            ctl_moments_reset(&c->w_lat);
            c->w_xt_sum_ms = 0;
            c->w_xt_n = 0;
        }
    }

    for (uint32_t i = 0; i < s->n_outs; i++) {
        outcell *o = &s->outs[i];
        o->requests = o->w_requests;
        o->load_rps = (double)o->w_requests / window_s;
        o->latency_ms = o->w_lat.count ? ls_ns_to_ms(o->w_lat.mean_ns) : NAN;
        cell_ent *dst = s->eps[o->dst_ep].cells[o->dst_region];
        if (isfinite(o->latency_ms) && dst && isfinite(dst->latency_ms) &&
            o->caller_region < s->max_regions && o->dst_region < s->max_regions) {
            double net = o->latency_ms - dst->latency_ms;
            if (net < 0)
                net = 0;
            double *est = &s->est_rtt[o->caller_region][o->dst_region];
            bool *known = &s->est_known[o->caller_region][o->dst_region];
            *est = *known ? (1 - NET_ALPHA) * *est + NET_ALPHA * net : net;
            *known = true;
        }
        o->w_requests = 0;
        ctl_moments_reset(&o->w_lat);
    }

    double decay = exp(-window_s * 0.69314718055994531 / GRAPH_HALF_LIFE_S);
    for (uint32_t i = 0; i < s->n_edges; i++) {
        s->edges[i].count *= decay;
        s->edges[i].bytes *= decay;
    }
    for (uint32_t i = 0; i < s->n_eps; i++)
        s->eps[i].spans_seen *= decay;
}

double ls_network_rtt(const ctl_state_t *s, uint32_t a, uint32_t b)
{
    if (s->have_file)
        return s->file_rtt[a][b];
    if (a == b || !s->est_known[a][b])
        return 0;
    double base = s->est_known[a][a] ? s->est_rtt[a][a] : 0;
    double v = s->est_rtt[a][b] - base;
    return v > 0 ? v : 0;
}

void ctl_solve_input_free(ctl_solve_input_t *in)
{
    if (!in)
        return;
    for (uint32_t i = 0; i < in->n_regions; i++)
        free(in->region_names ? in->region_names[i] : NULL);
    free(in->region_names);
    for (uint32_t i = 0; i < in->n_services; i++)
        free(in->service_names ? in->service_names[i] : NULL);
    free(in->service_names);
    free(in->service_overflow);
    free(in->deployed);
    free(in->capacity);
    for (uint32_t i = 0; i < in->n_endpoints; i++) {
        free(in->endpoints[i].method);
        free(in->endpoints[i].path);
    }
    free(in->endpoints);
    free(in->edges);
    free(in);
}

static ctl_solve_input_t *snapshot(ctl_state_t *s, uint64_t now_ns)
{
    ctl_solve_input_t *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    in->now_ns = now_ns;
    in->layout_gen = s->layout_gen;
    in->window_s = s->last_window_s;
    uint32_t R = s->n_regions;
    in->region_names = calloc(R ? R : 1, sizeof(char *));
    uint32_t nsv = s->cap_svcs;
    in->service_names = calloc(nsv, sizeof(char *));
    in->service_overflow = calloc(nsv, sizeof(bool));
    in->deployed = calloc(nsv, sizeof(*in->deployed));
    in->capacity = calloc(nsv, sizeof(*in->capacity));
    in->endpoints = calloc(s->n_eps ? s->n_eps : 1, sizeof(ctl_si_endpoint_t));
    in->edges = calloc(s->n_edges ? s->n_edges : 1, sizeof(*in->edges));
    if (!in->region_names || !in->service_names || !in->service_overflow || !in->deployed ||
        !in->capacity || !in->endpoints || !in->edges) {
        ctl_solve_input_free(in);
        return NULL;
    }
    for (uint32_t r = 0; r < R; r++) {
        in->region_names[r] = strdup(s->region_names[r]);
        if (!in->region_names[r]) {
            ctl_solve_input_free(in);
            return NULL;
        }
        in->n_regions = r + 1;
    }
    for (uint32_t a = 0; a < R; a++)
        for (uint32_t b = 0; b < R; b++) {
            in->rtt_ms[a][b] = ls_network_rtt(s, a, b);
            in->price[a][b] = s->have_file ? s->file_price[a][b] : 0;
        }
    uint64_t deployed_for = 3 * s->cfg.solve_period_ms * 1000000ull;
    if (deployed_for < 15000000000ull)
        deployed_for = 15000000000ull;
    for (uint32_t i = 0; i < nsv; i++) {
        svc_ent *sv = &s->svcs[i];
        in->n_services = i + 1;
        if (!sv->name) {
            in->service_names[i] = strdup("");
            in->service_overflow[i] = true;
        } else {
            in->service_names[i] = strdup(sv->name);
            in->service_overflow[i] = sv->overflow;
        }
        if (!in->service_names[i]) {
            ctl_solve_input_free(in);
            return NULL;
        }
        for (uint32_t r = 0; r < R; r++) {
            in->deployed[i][r] = sv->name && sv->last_seen_ns[r] != 0 &&
                                 now_ns - sv->last_seen_ns[r] <= deployed_for;
            in->capacity[i][r] = sv->capacity[r];
        }
    }
    double lat_sum = 0, load_sum = 0;
    for (uint32_t i = 0; i < s->n_eps; i++) {
        ep_ent *e = &s->eps[i];
        ctl_si_endpoint_t *o = &in->endpoints[i];
        o->method = strdup(e->method);
        o->path = strdup(e->path);
        in->n_endpoints = i + 1;
        if (!o->method || !o->path) {
            ctl_solve_input_free(in);
            return NULL;
        }
        o->svc = e->svc;
        o->overflow = e->overflow || s->svcs[e->svc].overflow;
        for (uint32_t r = 0; r < R; r++) {
            cell_ent *c = e->cells[r];
            o->latency_ms[r] = NAN;
            if (!c)
                continue;
            o->load[r] = c->load_rps;
            o->latency_ms[r] = c->latency_ms;
            if (c->fit_valid) {
                o->fit[r] = c->fit;
                o->has_fit[r] = true;
            }
        }
    }
    for (uint32_t i = 0; i < s->n_edges; i++) {
        edge_ent *e = &s->edges[i];
        double ratio = ls_edge_ratio(s, e);
        in->edges[i].parent = e->parent;
        in->edges[i].child = e->child;
        in->edges[i].calls_per_request = ratio;
        in->edges[i].bytes_per_call =
            e->count > 0 && e->bytes > 0 ? e->bytes / e->count : s->cfg.default_bytes_per_call;
        if (ratio >= MIN_RATIO)
            in->endpoints[e->child].has_parent = true;
    }
    in->n_edges = s->n_edges;
    for (uint32_t i = 0; i < in->n_endpoints; i++) {
        ctl_si_endpoint_t *o = &in->endpoints[i];
        if (o->has_parent || o->overflow)
            continue;
        for (uint32_t r = 0; r < R; r++)
            if (o->load[r] > 0 && isfinite(o->latency_ms[r])) {
                lat_sum += o->load[r] * o->latency_ms[r];
                load_sum += o->load[r];
            }
    }
    in->measured_latency_ms = load_sum > 0 ? lat_sum / load_sum : NAN;
    return in;
}

ctl_solve_input_t *ctl_state_tick(ctl_state_t *s, uint64_t now_ns)
{
    ls_lock_all(s);
    if (s->created_ns == 0)
        s->created_ns = now_ns;
    ls_spans_expire(s, now_ns);
    ls_waiting_rebuild(s);
    close_window(s, now_ns);
    ls_age_out(s, now_ns);
    ctl_solve_input_t *in = snapshot(s, now_ns);
    ls_unlock_all(s);
    return in;
}

void ctl_state_counts(ctl_state_t *s, uint32_t *services, uint32_t *endpoints, uint32_t *regions,
                      uint32_t *edges)
{
    ls_lock_all(s);
    *services = s->n_svcs + (s->overflow_svc != NIL ? 1 : 0);
    *endpoints = s->n_eps;
    *regions = s->n_regions + (s->overflow_region_used ? 1 : 0);
    *edges = s->n_edges;
    ls_unlock_all(s);
}
