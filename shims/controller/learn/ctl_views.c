/*
 * slate-controller: the learning state as JSON (/v1/state) and as Prometheus text
 * (/metrics).
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
/* JSON */

static const char *slot_name(const ctl_state_t *s, uint32_t r)
{
    return r < s->n_regions ? s->region_names[r] : OVERFLOW_NAME;
}

static void json_fit(ctl_json_t *j, const slate_opt_fit_t *f)
{
    ctl_json_obj(j);
    ctl_json_kf64(j, "a_ms", f->a);
    ctl_json_kf64(j, "b_ms_per_rps", f->b);
    ctl_json_kf64(j, "c_ms_per_rps2", f->c);
    ctl_json_ku64(j, "degree", f->degree);
    ctl_json_kf64(j, "r2", f->r2);
    ctl_json_kf64(j, "rmse_ms", f->rmse);
    ctl_json_kf64(j, "x_max_rps", f->x_max);
    ctl_json_kf64(j, "weight", f->weight);
    ctl_json_ku64(j, "samples", f->samples);
    ctl_json_kbool(j, "trusted", f->trusted != 0);
    ctl_json_obj_end(j);
}

static void json_cell(ctl_state_t *s, ctl_json_t *j, uint32_t r, const cell_ent *c)
{
    ctl_json_obj(j);
    ctl_json_kstr(j, "region", slot_name(s, r));
    ctl_json_ku64(j, "requests", c->requests);
    ctl_json_kf64(j, "load_rps", c->load_rps);
    ctl_json_kf64(j, "latency_ms", c->latency_ms);
    ctl_json_kf64(j, "exclusive_ms", c->xt_ms);
    ctl_json_kf64(j, "in_flight", c->in_flight);
    ctl_json_key(j, "model");
    if (c->fit_valid)
        json_fit(j, &c->fit);
    else
        ctl_json_null(j);
    ctl_json_key(j, "history");
    ctl_json_arr(j);
    for (uint32_t k = 0; k < c->hist_n; k++) {
        const hist_pt *h = &c->hist[(c->hist_pos + HIST_LEN - c->hist_n + k) % HIST_LEN];
        ctl_json_obj(j);
        ctl_json_ku64(j, "t_ns", h->t_ns);
        ctl_json_ku64(j, "requests", h->requests);
        ctl_json_kf64(j, "load_rps", h->load_rps);
        ctl_json_kf64(j, "latency_ms", h->latency_ms);
        ctl_json_kf64(j, "exclusive_ms", h->xt_ms);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_obj_end(j);
}

static void json_ep_name(ctl_state_t *s, ctl_json_t *j, uint32_t ep)
{
    const ep_ent *e = &s->eps[ep];
    ctl_json_obj(j);
    ctl_json_kstr(j, "service", s->svcs[e->svc].name);
    ctl_json_kstr(j, "method", e->method);
    ctl_json_kstr(j, "path", e->path);
    ctl_json_obj_end(j);
}

/* The view of s (locked by the caller, or a copy nobody else sees). */
static void write_json(ctl_state_t *s, ctl_json_t *j, uint64_t now_ns)
{
    uint32_t nslots = ls_slot_count(s);
    ctl_json_key(j, "window");
    ctl_json_obj(j);
    ctl_json_ku64(j, "count", s->windows);
    ctl_json_kf64(j, "last_length_s", s->last_window_s);
    ctl_json_ku64(j, "current_start_ns", s->window_start_ns);
    ctl_json_ku64(j, "reports_total", s->reports_total);
    ctl_json_obj_end(j);

    ctl_json_key(j, "regions");
    ctl_json_arr(j);
    for (uint32_t k = 0; k < nslots; k++) {
        uint32_t r = ls_slot_index(s, k);
        ctl_json_obj(j);
        ctl_json_kstr(j, "name", slot_name(s, r));
        ctl_json_ku64(j, "index", r);
        ctl_json_kbool(j, "overflow", r >= s->max_regions);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "services");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < s->cap_svcs; i++) {
        svc_ent *sv = &s->svcs[i];
        if (!sv->name)
            continue;
        ctl_json_obj(j);
        ctl_json_kstr(j, "name", sv->name);
        ctl_json_kbool(j, "overflow", sv->overflow);
        ctl_json_ku64(j, "reports", sv->reports);
        ctl_json_ku64(j, "proxy_restarts", sv->restarts);
        ctl_json_key(j, "proxy_drops");
        ctl_json_obj(j);
        for (unsigned k = 0; k < CTL_N_DROPS; k++)
            ctl_json_ku64(j, ctl_drops_name(k), sv->drops[k]);
        ctl_json_obj_end(j);
        ctl_json_key(j, "regions");
        ctl_json_arr(j);
        for (uint32_t k = 0; k < nslots; k++) {
            uint32_t r = ls_slot_index(s, k);
            if (!sv->last_seen_ns[r])
                continue;
            ctl_json_obj(j);
            ctl_json_kstr(j, "region", slot_name(s, r));
            ctl_json_key(j, "last_report_age_s");
            ctl_json_f64(
                j, now_ns > sv->last_seen_ns[r] ? (double)(now_ns - sv->last_seen_ns[r]) / 1e9 : 0);
            ctl_json_kf64(j, "pods_estimate", sv->pods[r]);
            ctl_json_kf64(j, "capacity_rps", sv->capacity[r]); /* infinite prints as null */
            ctl_json_obj_end(j);
        }
        ctl_json_arr_end(j);
        ctl_json_key(j, "endpoints");
        ctl_json_arr(j);
        for (uint32_t e = 0; e < s->n_eps; e++) {
            ep_ent *ep = &s->eps[e];
            if (ep->svc != i)
                continue;
            ctl_json_obj(j);
            ctl_json_kstr(j, "method", ep->method);
            ctl_json_kstr(j, "path", ep->path);
            ctl_json_kbool(j, "overflow", ep->overflow);
            ctl_json_ku64(j, "spans", ep->spans_total);
            ctl_json_key(j, "regions");
            ctl_json_arr(j);
            for (uint32_t k = 0; k < nslots; k++) {
                uint32_t r = ls_slot_index(s, k);
                if (ep->cells[r])
                    json_cell(s, j, r, ep->cells[r]);
            }
            ctl_json_arr_end(j);
            ctl_json_obj_end(j);
        }
        ctl_json_arr_end(j);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "call_graph");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < s->n_edges; i++) {
        edge_ent *e = &s->edges[i];
        ctl_json_obj(j);
        ctl_json_key(j, "parent");
        json_ep_name(s, j, e->parent);
        ctl_json_key(j, "child");
        json_ep_name(s, j, e->child);
        ctl_json_kf64(j, "calls_per_request", ls_edge_ratio(s, e));
        ctl_json_kf64(j, "bytes_per_call", e->count > 0 ? e->bytes / e->count : 0);
        ctl_json_ku64(j, "matched_spans", e->total);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "outbound");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < s->n_outs; i++) {
        outcell *o = &s->outs[i];
        ctl_json_obj(j);
        ctl_json_kstr(j, "caller_service", s->svcs[o->caller_svc].name);
        ctl_json_kstr(j, "caller_region", slot_name(s, o->caller_region));
        ctl_json_key(j, "destination");
        json_ep_name(s, j, o->dst_ep);
        ctl_json_kstr(j, "dst_region", slot_name(s, o->dst_region));
        ctl_json_ku64(j, "requests", o->requests);
        ctl_json_kf64(j, "load_rps", o->load_rps);
        ctl_json_kf64(j, "latency_ms", o->latency_ms);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);

    ctl_json_key(j, "network");
    ctl_json_obj(j);
    ctl_json_kstr(j, "source", s->have_file ? "regions-file" : "measured");
    ctl_json_key(j, "rtt_ms");
    ctl_json_arr(j);
    for (uint32_t a = 0; a < s->n_regions; a++) {
        ctl_json_arr(j);
        for (uint32_t b = 0; b < s->n_regions; b++)
            ctl_json_f64(j, ls_network_rtt(s, a, b));
        ctl_json_arr_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_key(j, "price_per_byte");
    ctl_json_arr(j);
    for (uint32_t a = 0; a < s->n_regions; a++) {
        ctl_json_arr(j);
        for (uint32_t b = 0; b < s->n_regions; b++)
            ctl_json_f64(j, s->have_file ? s->file_price[a][b] : 0);
        ctl_json_arr_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_obj_end(j);

    ctl_json_key(j, "stitching");
    ctl_json_obj(j);
    ctl_json_ku64(j, "spans_held", s->ring_count);
    ctl_json_ku64(j, "capacity", s->ring_cap);
    ctl_json_ku64(j, "window_ms", s->cfg.stitch_window_ms);
    ctl_json_kf64(j, "admit_fill", s->cfg.span_admit_fill);
    ctl_json_kf64(j, "admit_ratio", ctl_metrics_get_f64(&s->m->span_admit_bits));
    ctl_json_ku64(j, "spans_shed", atomic_load(&s->m->spans_shed));
    ctl_json_obj_end(j);

    ctl_json_key(j, "limits");
    ctl_json_obj(j);
    ctl_json_ku64(j, "max_body_bytes", s->cfg.max_body_bytes);
    ctl_json_ku64(j, "max_services", s->cfg.max_services);
    ctl_json_ku64(j, "max_endpoints_per_service", s->cfg.max_endpoints_per_service);
    ctl_json_ku64(j, "max_regions", s->max_regions);
    ctl_json_ku64(j, "max_spans_per_report", s->cfg.max_spans_per_report);
    ctl_json_ku64(j, "max_edges", s->cfg.max_edges);
    ctl_json_ku64(j, "max_outbound", s->cfg.max_outbound);
    ctl_json_ku64(j, "span_table", s->ring_cap);
    ctl_json_obj_end(j);

    ctl_json_key(j, "overflow");
    ctl_json_obj(j);
    for (int k = 0; k < CTL_OVF_COUNT_; k++) {
        ctl_json_key(j, ctl_overflow_name((ctl_overflow)k));
        ctl_json_u64(j, atomic_load(&s->m->overflow[k]));
    }
    ctl_json_obj_end(j);
}

/* A copy of the state for the JSON view (below), and its cells. */
typedef struct view {
    ctl_state_t st;
    cell_ent *cells;
} view_t;

static void view_free(view_t *w)
{
    if (!w)
        return;
    ctl_state_t *v = &w->st;
    for (uint32_t i = 0; v->svcs && i < v->cap_svcs; i++)
        free(v->svcs[i].name);
    for (uint32_t i = 0; v->eps && i < v->n_eps; i++) {
        free(v->eps[i].method);
        free(v->eps[i].path);
    }
    for (uint32_t r = 0; r < SLOTS; r++)
        free(v->region_names[r]);
    free(v->svcs);
    free(v->eps);
    free(v->edges);
    free(v->outs);
    free(w->cells);
    free(w);
}

static char *dup_or_null(const char *p, bool *ok)
{
    if (!p)
        return NULL;
    char *d = strdup(p);
    if (!d)
        *ok = false;
    return d;
}

/*
 * What the JSON view reads, copied under the lock (the caller's), so the
 * view is written outside it: at 1,000 services x 16 regions the view is
 * 17.6 MB and took 0.44 s to format, all of which every report's merge
 * and the window close waited out; copying takes a few milliseconds. Names
 * are copied (aging may free them), the tables the view does not read are
 * left out. NULL without memory.
 */
static view_t *view_copy(const ctl_state_t *s)
{
    view_t *w = malloc(sizeof *w);
    if (!w)
        return NULL;
    ctl_state_t *v = &w->st;
    memcpy(v, s, sizeof *v);
    w->cells = NULL;
    /* nothing of the copy is shared with the state but the metrics */
    memset(&v->svc_map, 0, sizeof v->svc_map);
    memset(&v->ep_map, 0, sizeof v->ep_map);
    memset(&v->out_map, 0, sizeof v->out_map);
    memset(&v->edge_map, 0, sizeof v->edge_map);
    v->ring = NULL;
    v->heads = NULL;
    v->waiting = NULL;
    v->rf = NULL;
    v->svcs = NULL;
    v->eps = NULL;
    v->edges = NULL;
    v->outs = NULL;
    for (uint32_t r = 0; r < SLOTS; r++)
        v->region_names[r] = NULL;
    bool ok = true;
    for (uint32_t r = 0; r < SLOTS; r++)
        v->region_names[r] = dup_or_null(s->region_names[r], &ok);
    v->svcs = calloc(s->cap_svcs ? s->cap_svcs : 1, sizeof *v->svcs);
    v->eps = calloc(s->n_eps ? s->n_eps : 1, sizeof *v->eps);
    v->edges = malloc((s->n_edges ? s->n_edges : 1) * sizeof *v->edges);
    v->outs = malloc((s->n_outs ? s->n_outs : 1) * sizeof *v->outs);
    size_t n_cells = 0;
    for (uint32_t i = 0; i < s->n_eps; i++)
        for (uint32_t r = 0; r < SLOTS; r++)
            n_cells += s->eps[i].cells[r] != NULL;
    w->cells = malloc((n_cells ? n_cells : 1) * sizeof *w->cells);
    if (!ok || !v->svcs || !v->eps || !v->edges || !v->outs || !w->cells) {
        view_free(w);
        return NULL;
    }
    for (uint32_t i = 0; i < s->cap_svcs; i++) {
        const svc_ent *a = &s->svcs[i];
        svc_ent *b = &v->svcs[i];
        if (!a->name)
            continue;
        memcpy(b, a, sizeof *b);
        memset(b->pods_seen, 0, sizeof b->pods_seen);
        b->name = dup_or_null(a->name, &ok);
    }
    size_t c = 0;
    for (uint32_t i = 0; i < s->n_eps; i++) {
        const ep_ent *a = &s->eps[i];
        ep_ent *b = &v->eps[i];
        memcpy(b, a, sizeof *b);
        b->method = dup_or_null(a->method, &ok);
        b->path = dup_or_null(a->path, &ok);
        for (uint32_t r = 0; r < SLOTS; r++) {
            if (!a->cells[r])
                continue;
            w->cells[c] = *a->cells[r];
            b->cells[r] = &w->cells[c++];
        }
    }
    memcpy(v->edges, s->edges, s->n_edges * sizeof *v->edges);
    memcpy(v->outs, s->outs, s->n_outs * sizeof *v->outs);
    if (!ok) {
        view_free(w);
        return NULL;
    }
    return w;
}

void ctl_state_write_json(ctl_state_t *s, ctl_json_t *j, uint64_t now_ns)
{
    ls_lock_all(s);
    view_t *w = view_copy(s);
    if (!w) {
        /* without memory for the copy: written under the lock, as before */
        write_json(s, j, now_ns);
        ls_unlock_all(s);
        return;
    }
    ls_unlock_all(s);
    write_json(&w->st, j, now_ns);
    view_free(w);
}

/* ------------------------------------------------------------------------- */
/* Metrics */

static void label_value(ctl_buf_t *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            ctl_buf_puts(out, "\\\\");
        else if (*v == '"')
            ctl_buf_puts(out, "\\\"");
        else if (*v == '\n')
            ctl_buf_puts(out, "\\n");
        else
            ctl_buf_putc(out, *v);
    }
}

static void model_labels(ctl_state_t *s, ctl_buf_t *out, const ep_ent *e, uint32_t r)
{
    ctl_buf_puts(out, "{service=\"");
    label_value(out, s->svcs[e->svc].name);
    ctl_buf_puts(out, "\",method=\"");
    label_value(out, e->method);
    ctl_buf_puts(out, "\",path=\"");
    label_value(out, e->path);
    ctl_buf_puts(out, "\",region=\"");
    label_value(out, slot_name(s, r));
    ctl_buf_puts(out, "\"}");
}

static void fmt_double(ctl_buf_t *out, double v)
{
    if (isnan(v))
        ctl_buf_puts(out, "NaN");
    else if (isinf(v))
        ctl_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else
        ctl_buf_printf(out, "%.17g", v);
}

void ctl_state_write_metrics(ctl_state_t *s, ctl_buf_t *out)
{
    ls_lock_all(s);
    uint32_t nslots = ls_slot_count(s);
    uint32_t trusted = 0, untrusted = 0;
    for (uint32_t i = 0; i < s->n_eps; i++)
        for (uint32_t k = 0; k < nslots; k++) {
            cell_ent *c = s->eps[i].cells[ls_slot_index(s, k)];
            if (c && c->fit_valid) {
                if (c->fit.trusted)
                    trusted++;
                else
                    untrusted++;
            }
        }
    ctl_buf_printf(
        out,
        "# HELP slate_controller_services Services tracked, the overflow service included.\n"
        "# TYPE slate_controller_services gauge\n"
        "slate_controller_services %u\n"
        "# HELP slate_controller_endpoints Endpoints tracked, overflow endpoints included.\n"
        "# TYPE slate_controller_endpoints gauge\n"
        "slate_controller_endpoints %u\n"
        "# HELP slate_controller_regions Regions tracked, the overflow region included.\n"
        "# TYPE slate_controller_regions gauge\n"
        "slate_controller_regions %u\n"
        "# HELP slate_controller_call_graph_edges Edges of the learned call graph.\n"
        "# TYPE slate_controller_call_graph_edges gauge\n"
        "slate_controller_call_graph_edges %u\n"
        "# HELP slate_controller_outbound_cells Outbound (caller, destination) cells tracked.\n"
        "# TYPE slate_controller_outbound_cells gauge\n"
        "slate_controller_outbound_cells %u\n"
        "# HELP slate_controller_spans_held Spans waiting in the stitching table.\n"
        "# TYPE slate_controller_spans_held gauge\n"
        "slate_controller_spans_held %u\n"
        "# HELP slate_controller_models Fitted latency models by trust.\n"
        "# TYPE slate_controller_models gauge\n"
        "slate_controller_models{trusted=\"true\"} %u\n"
        "slate_controller_models{trusted=\"false\"} %u\n",
        s->n_svcs + (s->overflow_svc != NIL ? 1u : 0u), s->n_eps,
        s->n_regions + (s->overflow_region_used ? 1u : 0u), s->n_edges, s->n_outs, s->ring_count,
        trusted, untrusted);
    static const char *const names[3] = {"slate_controller_model_r2",
                                         "slate_controller_model_rmse_ms",
                                         "slate_controller_model_samples"};
    static const char *const helps[3] = {
        "Coefficient of determination of each latency model's fit (first 1000 models).",
        "Root mean squared residual of each latency model's fit, milliseconds (first 1000 models).",
        "Samples added to each latency model (first 1000 models)."};
    for (int g = 0; g < 3; g++) {
        ctl_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", names[g], helps[g], names[g]);
        uint32_t emitted = 0;
        for (uint32_t i = 0; i < s->n_eps && emitted < MAX_MODEL_SERIES; i++)
            for (uint32_t k = 0; k < nslots && emitted < MAX_MODEL_SERIES; k++) {
                uint32_t r = ls_slot_index(s, k);
                cell_ent *c = s->eps[i].cells[r];
                if (!c || !c->fit_valid || c->fit.samples == 0)
                    continue;
                ctl_buf_puts(out, names[g]);
                model_labels(s, out, &s->eps[i], r);
                ctl_buf_putc(out, ' ');
                if (g == 0)
                    fmt_double(out, c->fit.r2);
                else if (g == 1)
                    fmt_double(out, c->fit.rmse);
                else
                    ctl_buf_printf(out, "%" PRIu64, c->fit.samples);
                ctl_buf_putc(out, '\n');
                emitted++;
            }
    }
    ls_unlock_all(s);
}
