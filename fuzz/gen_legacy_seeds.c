/*
 * Writes the seed corpora of the legacy text fuzz targets from real data:
 * SLATE's own text (lines quoted from its plugin and controller), and bodies
 * our encoders produce from SLATE's trace records (the CSV files of shared/data/slate).
 *
 *   gen_legacy_seeds <data dir (…/shared/data)> <fuzz/corpus dir>
 *
 * Built by fuzz/legacy_seeds.cmake; run by hand when the formats change, and
 * the output committed.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/slate.h"
#include "../tests/slate_trace_csv.h"

static const char *g_out;

static int write_seed(const char *target, const char *name, const char *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", g_out, target, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    fwrite(data, 1, len, f);
    fclose(f);
    return 0;
}

static int write_str(const char *target, const char *name, const char *s)
{
    return write_seed(target, name, s, strlen(s));
}

#define MAXREC 128

static tcsv_span_t recs[MAXREC];
static int nrec;
static char buf[1 << 16];

static slate_str_t cs(const char *s)
{
    slate_str_t v = {s, strlen(s)};
    return v;
}

/* /proxyLoad: one body per (region, service) of the records, by our encoder. */
static int gen_proxyload(const char *tag)
{
    const uint64_t base_ms = 1709763447000ull;
    int done[MAXREC] = {0}, rc = 0, k = 0;
    for (int i = 0; i < nrec; i++) {
        if (done[i])
            continue;
        static slate_span_t sp[MAXREC];
        static slate_endpoint_load_t ld[MAXREC * TCSV_MAX_LOAD];
        static slate_inbound_t in[TCSV_MAX_LOAD];
        size_t ns = 0, nl = 0;
        for (int j = i; j < nrec; j++) {
            if (done[j] || strcmp(recs[j].region, recs[i].region) ||
                strcmp(recs[j].service, recs[i].service))
                continue;
            done[j] = 1;
            const tcsv_span_t *c = &recs[j];
            slate_span_t *s = &sp[ns++];
            memset(s, 0, sizeof *s);
            s->trace_id = cs(c->trace_id);
            s->span_id = cs(c->span_id);
            s->parent_span_id = cs(c->parent_span_id);
            s->method = cs(c->method);
            s->path = cs(c->path);
            s->start_ns = (base_ms + c->start_ms) * 1000000ull;
            s->end_ns = (base_ms + c->end_ms) * 1000000ull;
            s->body_size = c->call_size < 0 ? 0 : (uint64_t)c->call_size;
            s->load = &ld[nl];
            for (size_t q = 0; q < c->n_load; q++) {
                ld[nl].method = cs(c->load[q].method);
                ld[nl].path = cs(c->load[q].path);
                ld[nl].rps = (double)c->load[q].rps;
                ld[nl].in_flight = c->load[q].inflight;
                nl++;
            }
            s->n_load = c->n_load;
        }
        for (size_t q = 0; q < recs[i].n_load; q++) {
            memset(&in[q], 0, sizeof in[q]);
            in[q].method = cs(recs[i].load[q].method);
            in[q].path = cs(recs[i].load[q].path);
            in[q].requests = recs[i].load[q].rps;
            in[q].rate_rps = (double)recs[i].load[q].rps;
            in[q].in_flight = recs[i].load[q].inflight;
        }
        slate_load_report_t r;
        memset(&r, 0, sizeof r);
        r.region = cs(recs[i].region);
        r.service = cs(recs[i].service);
        r.inbound = in;
        r.n_inbound = recs[i].n_load;
        r.spans = sp;
        r.n_spans = ns;
        size_t len;
        if (slate_legacy_proxyload_encode(&r, NULL, buf, sizeof buf, &len, NULL) != SLATE_OK)
            return 1;
        char name[64];
        snprintf(name, sizeof name, "%s-%02d", tag, k++);
        rc |= write_seed("fuzz_legacy_proxyload", name, buf, len);
    }
    return rc;
}

/* /hillclimbingLatency: per (region, service), inbound latency per endpoint
 * (Welford over the records' response times) and outbound per child endpoint. */
static int gen_latency(const char *tag)
{
    int done[MAXREC] = {0}, rc = 0, k = 0;
    for (int i = 0; i < nrec; i++) {
        if (done[i])
            continue;
        static slate_inbound_t in[MAXREC];
        static slate_outbound_t out[MAXREC];
        size_t ni = 0, no = 0;
        for (int j = i; j < nrec; j++) {
            if (done[j] || strcmp(recs[j].region, recs[i].region) ||
                strcmp(recs[j].service, recs[i].service))
                continue;
            done[j] = 1;
            const tcsv_span_t *c = &recs[j];
            double x = (double)(c->end_ms - c->start_ms) * 1e6;
            size_t e;
            for (e = 0; e < ni; e++)
                if (!strcmp(in[e].method.ptr, c->method) && !strcmp(in[e].path.ptr, c->path))
                    break;
            if (e == ni) {
                memset(&in[ni], 0, sizeof in[ni]);
                in[ni].method = cs(c->method);
                in[ni].path = cs(c->path);
                ni++;
            }
            slate_latency_t *l = &in[e].latency;
            l->count++;
            double d = x - l->mean_ns;
            l->mean_ns += d / (double)l->count;
            l->m2 += d * (x - l->mean_ns);
            /* children of this span: outbound calls of this service */
            for (int q = 0; q < nrec; q++) {
                if (strcmp(recs[q].parent_span_id, c->span_id) ||
                    strcmp(recs[q].trace_id, c->trace_id))
                    continue;
                memset(&out[no], 0, sizeof out[no]);
                out[no].dst_service = cs(recs[q].service);
                out[no].method = cs(recs[q].method);
                out[no].path = cs(recs[q].path);
                out[no].requests = 1;
                out[no].latency.count = 1;
                out[no].latency.mean_ns = (double)(recs[q].end_ms - recs[q].start_ms) * 1e6;
                no++;
            }
        }
        slate_load_report_t r;
        memset(&r, 0, sizeof r);
        r.inbound = in;
        r.n_inbound = ni;
        r.outbound = out;
        r.n_outbound = no;
        size_t len;
        if (slate_legacy_latency_encode(&r, buf, sizeof buf, &len, NULL) != SLATE_OK)
            return 1;
        char name[64];
        snprintf(name, sizeof name, "%s-%02d", tag, k++);
        rc |= write_seed("fuzz_legacy_latency", name, buf, len);
    }
    return rc;
}

/* Rules: every caller endpoint -> callee endpoint edge of the traces, split
 * between the two regions of the data, normalized and encoded. */
static int gen_rules(const char *tag)
{
    static slate_rule_t rules[MAXREC];
    static slate_route_target_t tg[2 * MAXREC];
    size_t nr = 0;
    for (int q = 0; q < nrec; q++) {
        const tcsv_span_t *child = &recs[q];
        for (int p = 0; p < nrec; p++) {
            const tcsv_span_t *par = &recs[p];
            if (strcmp(par->span_id, child->parent_span_id) ||
                strcmp(par->trace_id, child->trace_id) || strcmp(par->region, child->region))
                continue;
            size_t e;
            for (e = 0; e < nr; e++)
                if (!strcmp(rules[e].src_service.ptr, par->service) &&
                    !strcmp(rules[e].src_path.ptr, par->path) &&
                    !strcmp(rules[e].dst_service.ptr, child->service) &&
                    !strcmp(rules[e].path.ptr, child->path) &&
                    !strcmp(rules[e].src_region.ptr, par->region))
                    break;
            if (e < nr || nr == MAXREC)
                break;
            slate_rule_t *r = &rules[nr];
            memset(r, 0, sizeof *r);
            r->src_service = cs(par->service);
            r->src_method = cs(par->method);
            r->src_path = cs(par->path);
            r->dst_service = cs(child->service);
            r->method = cs(child->method);
            r->path = cs(child->path);
            r->src_region = cs(par->region);
            r->targets = &tg[2 * nr];
            r->n_targets = 2;
            tg[2 * nr].region = cs("us-west-1");
            tg[2 * nr].weight = (uint32_t)(1 + nr % 3);
            tg[2 * nr + 1].region = cs("us-central-1");
            tg[2 * nr + 1].weight = (uint32_t)(nr % 2);
            nr++;
            break;
        }
    }
    slate_routing_rules_t rr;
    memset(&rr, 0, sizeof rr);
    rr.rules = rules;
    rr.n_rules = nr;
    rr.targets = tg;
    rr.n_targets = 2 * nr;
    size_t len;
    if (slate_legacy_rules_normalize(&rr) != SLATE_OK ||
        slate_legacy_rules_encode(&rr, buf, sizeof buf, &len, NULL) != SLATE_OK)
        return 1;
    char name[64];
    snprintf(name, sizeof name, "%s-edges", tag);
    return write_seed("fuzz_legacy_rules", name, buf, len);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <shared data dir> <fuzz corpus dir>\n", argv[0]);
        return 2;
    }
    g_out = argv[2];
    int rc = 0;
    static const char *const files[2] = {"onlineboutique-trace.csv",
                                         "onlineboutique-trace-wcse.csv"};
    static const char *const tags[2] = {"ob", "ob-wcse"};
    for (int f = 0; f < 2; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/slate/%s", argv[1], files[f]);
        nrec = tcsv_read(path, recs, MAXREC);
        if (nrec <= 0) {
            fprintf(stderr, "cannot read %s\n", path);
            return 1;
        }
        rc |= gen_proxyload(tags[f]);
        rc |= gen_latency(tags[f]);
        rc |= gen_rules(tags[f]);
    }

    /* SLATE's own text, as its code writes it. */
    /* a span line quoted in global_controller.py: root span, wrapped counter */
    rc |= write_str("fuzz_legacy_proxyload", "slate-controller-comment",
                    "3\nGET@/start,3,0|\nus-west-1 metrics-fake-ingress-us-west-1 GET /start "
                    "70904b1c08f35622387a6bb5c9141596 387a6bb5c9141596  1709763447436 "
                    "1709763447540 0 GET@/start,0,18446744073709530962|\n");
    rc |= write_str("fuzz_legacy_proxyload", "slate-empty", "0\n\n");
    rc |= write_str("fuzz_legacy_proxyload", "slate-not-found",
                    "1\nPOST@/cart,1,0|\nus-central-1 frontend-us-central-1 POST /cart "
                    "00027e85013ca8a85d0f416cca2d80da 2c940facf1806077 5d0f416cca2d80da "
                    "1709763447001 1709763447006 0 NOT FOUND\n");
    rc |= write_str("fuzz_legacy_latency", "slate-both",
                    "outbound\ncartservice POST /hipstershop.CartService/AddItem 3 41\ninbound\n"
                    "POST /cart 6 40 1234.500000\nGET /cart 0 1 0\n");
    rc |= write_str("fuzz_legacy_latency", "slate-inbound-only",
                    "inbound\nPOST /cart/checkout 27 12 5904.916667\n");
    /* SLATE controller's defaultresponse (pandas to_csv) */
    rc |= write_str("fuzz_legacy_rules", "slate-defaultresponse",
                    "sslateingress@POST@/cart,frontend@POST@/cart,us-west-1,us-west-1,1.0\n"
                    "sslateingress@POST@/cart,frontend@POST@/cart,us-west-1,us-east-1,0.0\n");
    /* SLATE plugin's example response (", " separators) */
    rc |= write_str("fuzz_legacy_rules", "slate-plugin-example",
                    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, "
                    "us-west-1, us-west-1, 0.6\n"
                    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, "
                    "us-west-1, us-east-1, 0.4\n"
                    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, "
                    "us-east-1, us-east-1, 0.1\n"
                    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, "
                    "us-east-1, us-west-1, 0.9\n");
    /* always_remote_routing_rule with two regions: 0.0002 local, 0.9998 remote */
    rc |= write_str("fuzz_legacy_rules", "slate-remote",
                    "frontend@POST@/cart/checkout,checkoutservice@POST@/hipstershop."
                    "CheckoutService/PlaceOrder,us-west-1,us-west-1,0.0002\n"
                    "frontend@POST@/cart/checkout,checkoutservice@POST@/hipstershop."
                    "CheckoutService/PlaceOrder,us-west-1,us-east-1,0.9998\n");
    rc |= write_str("fuzz_legacy_rules", "slate-empty", "");
    return rc;
}
