/*
 * Writes the seed corpora of the codec fuzz targets from real encodings:
 * messages built here and encoded by libslate, plus non-canonical forms a peer
 * may send (unknown fields, unpacked counts, repeated and merged fields).
 * Usage: gen_codec_corpus <fuzz/corpus directory>
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/codec.h"

static const char *g_dir;

static void save(const char *target, const char *name, uint8_t prefix, const uint8_t *b, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", g_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    if (prefix != 0xFF)
        fputc(prefix, f);
    fwrite(b, 1, n, f);
    fclose(f);
}

/* A seed for every target that reads this kind of message. */
static void seed(const char *name, bool rules, const uint8_t *b, size_t n)
{
    save(rules ? "fuzz_routing_rules" : "fuzz_load_report", name, 0xFF, b, n);
    save("fuzz_pull_iter", name, 0xFF, b, n);
    save("fuzz_round_trip", name, rules ? 1 : 0, b, n);
    save("fuzz_diff_protobuf_c", name, rules ? 1 : 0, b, n);
}

static uint8_t g_buf[1 << 20];

static void report(const char *name, const slate_load_report_t *r)
{
    size_t len;
    if (slate_load_report_encode(r, g_buf, sizeof g_buf, &len, NULL) != SLATE_OK)
        exit(2);
    seed(name, false, g_buf, len);
}

static void rules(const char *name, const slate_routing_rules_t *r)
{
    size_t len;
    if (slate_routing_rules_encode(r, g_buf, sizeof g_buf, &len, NULL) != SLATE_OK)
        exit(2);
    seed(name, true, g_buf, len);
}

static char g_names[4096][40];

static slate_str_t name_of(const char *fmt, unsigned i)
{
    static unsigned next;
    char *p = g_names[next++ % 4096];
    snprintf(p, 40, fmt, i);
    return slate_str(p);
}

static void build_report(slate_load_report_t *r, unsigned nin, unsigned nout, unsigned nsp,
                         unsigned nld)
{
    static slate_inbound_t in[64];
    static slate_outbound_t out[32];
    static slate_span_t sp[128];
    static slate_endpoint_load_t ld[128][8];
    static uint32_t hist[64][48];
    static const char *const regions[5] = {"us-west-1", "us-east-1", "eu-west-1", "ap-south-1",
                                           "sa-east-1"};
    memset(r, 0, sizeof *r);
    r->service = slate_str("frontend");
    r->region = slate_str("us-west-1");
    r->pod = slate_str("frontend-6c8d7f9b5-x2k4p");
    r->sequence = 1234;
    r->time_ns = 1700000000000000000ull;
    r->interval_ns = 1000000000ull;
    for (unsigned i = 0; i < nin; i++) {
        memset(&in[i], 0, sizeof in[i]);
        in[i].method = slate_str(i % 3 ? "GET" : "POST");
        in[i].path = name_of("/api/v1/item/%u", i);
        in[i].requests = 100 + 7 * i;
        in[i].rate_rps = 100.0 + i * 1.5;
        in[i].in_flight = i % 9;
        for (unsigned k = 0; k < 48; k++)
            hist[i][k] = (k * 37 + i) % 11;
        in[i].latency.count = 100 + 7 * i;
        in[i].latency.sum_ns = 250000000ull + i;
        in[i].latency.min_ns = 900000;
        in[i].latency.max_ns = 25000000;
        in[i].latency.mean_ns = 2.5e6;
        in[i].latency.m2 = 1.5e13;
        in[i].latency.hist_offset = 600 + i;
        in[i].latency.hist_len = 48;
        in[i].latency.hist = hist[i];
    }
    r->inbound = in;
    r->n_inbound = nin;
    for (unsigned i = 0; i < nout; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].dst_service = name_of("svc-%u", i / 5);
        out[i].method = slate_str("POST");
        out[i].path = name_of("/hipstershop.Svc/M%u", i / 5);
        out[i].dst_region = slate_str(regions[i % 5]);
        out[i].requests = 50 + i;
        out[i].latency.count = 50 + i;
        out[i].latency.mean_ns = 1.2e6;
        out[i].latency.hist_offset = 700;
        out[i].latency.hist_len = 16;
        out[i].latency.hist = hist[i % 64];
    }
    r->outbound = out;
    r->n_outbound = nout;
    for (unsigned i = 0; i < nsp; i++) {
        memset(&sp[i], 0, sizeof sp[i]);
        sp[i].trace_id = name_of("%08x0000000000000000000000ab", i * 2654435761u);
        sp[i].span_id = name_of("%016x", i * 40503u);
        if (i % 4)
            sp[i].parent_span_id = name_of("%016x", i * 977u);
        sp[i].method = slate_str("GET");
        sp[i].path = name_of("/api/v1/item/%u", i % 50);
        sp[i].start_ns = 1700000000000000000ull + i * 1000000ull;
        sp[i].end_ns = sp[i].start_ns + 3000000ull;
        sp[i].body_size = i * 13;
        for (unsigned k = 0; k < nld; k++) {
            ld[i][k].method = slate_str("GET");
            ld[i][k].path = name_of("/api/v1/item/%u", k);
            ld[i][k].rps = 100.0 + k;
            ld[i][k].in_flight = k;
        }
        sp[i].load = ld[i];
        sp[i].n_load = nld;
    }
    r->spans = sp;
    r->n_spans = nsp;
    r->drops.spans_dropped = 3;
    r->drops.late_stamps = 1;
}

static void build_rules(slate_routing_rules_t *m, unsigned n)
{
    static slate_rule_t rule[256];
    static slate_route_target_t t[256][3];
    memset(m, 0, sizeof *m);
    m->version = 77;
    m->ttl_ns = 10000000000ull;
    m->generated_ns = 1700000000000000000ull;
    for (unsigned i = 0; i < n; i++) {
        memset(&rule[i], 0, sizeof rule[i]);
        rule[i].src_region = slate_str(i % 2 ? "us-east-1" : "us-west-1");
        rule[i].dst_service = name_of("svc-%u", i / 4);
        rule[i].method = slate_str("POST");
        rule[i].path = name_of("/p/%u", i);
        if (i % 7 == 0) {
            rule[i].src_service = slate_str("frontend");
            rule[i].src_method = slate_str("GET");
            rule[i].src_path = slate_str("/cart");
        }
        t[i][0] = (slate_route_target_t){slate_str("us-west-1"), 6000};
        t[i][1] = (slate_route_target_t){slate_str("us-east-1"), 3000};
        t[i][2] = (slate_route_target_t){slate_str("eu-west-1"), 1000};
        rule[i].targets = t[i];
        rule[i].n_targets = 1 + i % 3;
    }
    m->rules = rule;
    m->n_rules = n;
}

/* Hand-assembled non-canonical inputs. */
static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 1;
    }
    g_dir = argv[1];
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    report("report_empty", &r);
    build_report(&r, 2, 2, 2, 2);
    report("report_small", &r);
    build_report(&r, 10, 5, 10, 4);
    report("report_medium", &r);
    build_report(&r, 50, 20, 100, 8);
    report("report_realistic", &r);

    slate_routing_rules_t m;
    memset(&m, 0, sizeof m);
    rules("rules_empty", &m);
    build_rules(&m, 3);
    rules("rules_small", &m);
    build_rules(&m, 200);
    rules("rules_200", &m);

    /* A report as a peer may write it: unknown fields of every wire type,
     * unpacked and split histogram counts, a latency sent twice (merged), a
     * string sent twice (last wins), a 10-byte varint. */
    uint8_t b[512];
    size_t n = 0;
    uint8_t in[128];
    size_t m2 = 0;
    static const uint8_t lat1[] = {0x08, 0x05, 0x38, 0x0A, 0x40, 0x02, 0x42, 0x02, 0x01, 0x01};
    static const uint8_t lat2[] = {0x08, 0x06, 0x40, 0x01, 0xA5, 0x01, 0x01, 0x02, 0x03, 0x04};
    in[m2++] = 0x0A;
    in[m2++] = 3;
    memcpy(in + m2, "GET", 3);
    m2 += 3;
    in[m2++] = 0x32;
    in[m2++] = sizeof lat1;
    memcpy(in + m2, lat1, sizeof lat1);
    m2 += sizeof lat1;
    in[m2++] = 0x32;
    in[m2++] = sizeof lat2;
    memcpy(in + m2, lat2, sizeof lat2);
    m2 += sizeof lat2;
    in[m2++] = 0x81; /* field 16, fixed64 */
    in[m2++] = 0x01;
    memset(in + m2, 0x11, 8);
    m2 += 8;
    b[n++] = 0x0A;
    b[n++] = 1;
    b[n++] = 'a';
    b[n++] = 0x0A;
    b[n++] = 1;
    b[n++] = 'b';
    b[n++] = 0x3A;
    b[n++] = (uint8_t)m2;
    memcpy(b + n, in, m2);
    n += m2;
    b[n++] = 0x28; /* time_ns = 2^64 - 1 */
    n += put_varint(b + n, UINT64_MAX);
    b[n++] = 0xF5; /* field 30, fixed32 */
    b[n++] = 0x01;
    memset(b + n, 0x22, 4);
    n += 4;
    b[n++] = 0xFA; /* field 31, bytes */
    b[n++] = 0x01;
    b[n++] = 2;
    b[n++] = 0xFF;
    b[n++] = 0xFE;
    seed("report_peer_forms", false, b, n);

    /* A few invalid inputs, so every error path starts covered. */
    static const uint8_t bad_utf8[] = {0x0A, 0x02, 0xC0, 0xAF};
    seed("bad_utf8", false, bad_utf8, sizeof bad_utf8);
    static const uint8_t bad_group[] = {0x0B, 0x0C};
    seed("bad_group", false, bad_group, sizeof bad_group);
    static const uint8_t bad_varint[] = {0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0x02};
    seed("bad_varint", false, bad_varint, sizeof bad_varint);
    static const uint8_t bad_hist[] = {0x3A, 0x06, 0x32, 0x04, 0x38, 0x87, 0x09, 0x40};
    seed("bad_hist_trunc", false, bad_hist, sizeof bad_hist);
    static const uint8_t bad_rules[] = {0x22, 0x04, 0x2A, 0x02, 0x10, 0x80};
    seed("bad_rules_trunc", true, bad_rules, sizeof bad_rules);
    printf("corpus written to %s\n", g_dir);
    return 0;
}
