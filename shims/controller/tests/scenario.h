/*
 * A two-region, two-service application for the controller's C tests, the
 * same as scenario.mjs: a frontend (GET /home, the entry) calls a backend
 * (GET /api/items/<id>) once per request; each tick every proxy reports load,
 * latency and sampled spans. The backend's self time is 1 + 0.1 x load ms,
 * the frontend's 2 ms. Reports are encoded with the core codec and decoded
 * back with the controller's scratch, as the intake does.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_TEST_SCENARIO_H
#define CTL_TEST_SCENARIO_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_state.h"
#include "slate/codec.h"

#define SC_SPANS 4

typedef struct sc_world {
    double load_west, load_east; /* frontend rps per region */
    uint64_t tick_ms;
    uint64_t now_ns;
    unsigned tick, trace_no;
    uint8_t buf[16384];
    size_t len;
} sc_world_t;

static void sc_latency(slate_latency_t *l, uint64_t count, double ms)
{
    memset(l, 0, sizeof(*l));
    uint64_t ns = (uint64_t)llround(ms * 1e6);
    l->count = count;
    l->sum_ns = ns * count;
    l->min_ns = l->max_ns = count ? ns : 0;
    l->mean_ns = count ? (double)ns : 0;
}

/* Encodes `service`'s report from `region` for this tick into w->buf. */
static int sc_encode(sc_world_t *w, const char *service, const char *region, double fe_rps)
{
    char trace[SC_SPANS][33], fe_span[SC_SPANS][17], be_span[SC_SPANS][17], path[SC_SPANS][32];
    slate_span_t spans[SC_SPANS];
    slate_endpoint_load_t loads[SC_SPANS];
    bool fe = strcmp(service, "frontend") == 0;
    double be_rps = fe_rps * (1 + 0.2 * sin(w->tick / 3.0));
    double xt_be = 1 + 0.1 * be_rps;
    uint64_t iv = w->tick_ms * 1000000ull;
    uint64_t reqs = (uint64_t)llround(fe_rps * (double)w->tick_ms / 1000.0);
    uint64_t be_reqs = (uint64_t)llround(be_rps * (double)w->tick_ms / 1000.0);
    for (unsigned k = 0; k < SC_SPANS; k++) {
        unsigned t = w->trace_no + k + 1;
        snprintf(trace[k], sizeof trace[k], "%032x", t);
        snprintf(fe_span[k], sizeof fe_span[k], "%016x", t * 2);
        snprintf(be_span[k], sizeof be_span[k], "%016x", t * 2 + 1);
        snprintf(path[k], sizeof path[k], "/api/items/%u", 1000 + t % 50);
        uint64_t start = w->now_ns - 50000000ull, be_start = start + 1000000ull;
        uint64_t be_end = be_start + (uint64_t)llround(xt_be * 1e6);
        slate_span_t *sp = &spans[k];
        memset(sp, 0, sizeof(*sp));
        sp->trace_id = slate_str(trace[k]);
        sp->span_id = slate_str(fe ? fe_span[k] : be_span[k]);
        sp->parent_span_id = slate_str(fe ? "" : fe_span[k]);
        sp->method = slate_str("GET");
        sp->path = slate_str(fe ? "/home" : path[k]);
        sp->start_ns = fe ? start : be_start;
        sp->end_ns = fe ? be_end + 1000000ull : be_end;
        sp->body_size = fe ? 0 : 300;
        loads[k].method = sp->method;
        loads[k].path = sp->path;
        loads[k].rps = fe ? fe_rps : be_rps;
        loads[k].in_flight = 0;
        sp->load = &loads[k];
        sp->n_load = 1;
    }
    char be_path[32];
    snprintf(be_path, sizeof be_path, "/api/items/%u", w->tick);
    slate_inbound_t in;
    memset(&in, 0, sizeof(in));
    in.method = slate_str("GET");
    in.path = slate_str(fe ? "/home" : be_path);
    in.requests = fe ? reqs : be_reqs;
    in.rate_rps = fe ? fe_rps : be_rps;
    sc_latency(&in.latency, in.requests, fe ? 20.0 : xt_be);
    slate_outbound_t out;
    memset(&out, 0, sizeof(out));
    out.dst_service = slate_str("backend");
    out.method = slate_str("GET");
    out.path = slate_str("/api/items/1");
    out.dst_region = slate_str(region);
    out.requests = reqs;
    sc_latency(&out.latency, reqs, xt_be + 0.5);
    char pod[32];
    snprintf(pod, sizeof pod, "%s-%s", fe ? "fe" : "be", region);
    slate_load_report_t r;
    memset(&r, 0, sizeof(r));
    r.service = slate_str(service);
    r.region = slate_str(region);
    r.pod = slate_str(pod);
    r.sequence = w->tick;
    r.time_ns = w->now_ns;
    r.interval_ns = iv;
    r.inbound = &in;
    r.n_inbound = 1;
    r.outbound = &out;
    r.n_outbound = fe ? 1 : 0;
    r.spans = spans;
    r.n_spans = SC_SPANS;
    r.span_loads = loads;
    r.n_span_loads = SC_SPANS;
    return slate_load_report_encode(&r, w->buf, sizeof(w->buf), &w->len, NULL) == SLATE_OK ? 0 : -1;
}

/* Encodes, decodes and ingests one report; the ingest's result, or -2 when
 * the report could not be encoded or decoded. */
static int sc_ingest(ctl_state_t *s, ctl_scratch_t *sc, sc_world_t *w, const char *service,
                     const char *region, double fe_rps)
{
    if (sc_encode(w, service, region, fe_rps) != 0)
        return -2;
    slate_codec_limits_t lim = SLATE_CODEC_LIMITS_DEFAULT;
    slate_codec_error_t err;
    slate_load_report_t *rep = NULL;
    if (ctl_scratch_decode(sc, w->buf, w->len, &lim, &err, &rep) != SLATE_OK)
        return -2;
    ctl_ingest_info_t info;
    return ctl_state_ingest(s, sc, rep, false, true, w->now_ns, &info);
}

/* One tick: both services report from both regions; then the clock moves on. */
static int sc_tick(ctl_state_t *s, ctl_scratch_t *sc, sc_world_t *w)
{
    w->tick++;
    const char *regions[2] = {"west", "east"};
    double loads[2] = {w->load_west, w->load_east};
    for (int r = 0; r < 2; r++) {
        if (sc_ingest(s, sc, w, "frontend", regions[r], loads[r]) != 0 ||
            sc_ingest(s, sc, w, "backend", regions[r], loads[r]) != 0)
            return -1;
        w->trace_no += SC_SPANS;
    }
    w->now_ns += w->tick_ms * 1000000ull;
    return 0;
}

#define SC_REGIONS_FILE "region west\nregion east\nlink west east 5 0.00000002\n"

#endif
