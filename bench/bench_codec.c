/*
 * Protobuf codec benchmark: libslate against protobuf-c and nanopb, measured
 * in the same run on the same bytes.
 *
 * Messages: a realistic LoadReport (50 inbound endpoints with latency
 * histograms spanning about 150 buckets, 20 outbound destinations across 5
 * regions, 100 sampled spans each carrying the load of 8 endpoints) and a
 * RoutingRules of 200 rules with 1-3 regions each.
 *
 * Encode: libslate from its structs; protobuf-c get_packed_size + pack from
 * its structs; nanopb pb_encode from its static struct (nanopb sizes each
 * sub-message with a sizing pass, as it must). Decode: libslate into caller
 * arrays (strings as views; histogram counts validated, left in the input),
 * also with every histogram expanded into a slate_stats_t; protobuf-c unpack +
 * free_unpacked; nanopb pb_decode into a static struct (strings copied).
 *
 * Heap allocations are counted, not assumed: malloc/calloc/realloc are wrapped
 * at link time (covering libslate and nanopb, both linked statically) and
 * protobuf-c is given a counting ProtobufCAllocator.
 *
 * Times are the best of several runs (the machine may be shared); the ratios
 * are what matters. Nothing here asserts a time.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slate/codec.h"

#ifdef SLATE_BENCH_PROTOBUF_C
#include "slate/v1/slate.pb-c.h"
#endif
#ifdef SLATE_BENCH_NANOPB
#include <pb_decode.h>
#include <pb_encode.h>

#include "slate/v1/slate.pb.h"
#endif

/* ------------------------------------------------------------------------- */
/* Allocation counting. */

static volatile int g_counting;
static unsigned long g_allocs;

#ifdef SLATE_BENCH_WRAP_MALLOC
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    if (g_counting)
        g_allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (g_counting)
        g_allocs++;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (g_counting)
        g_allocs++;
    return __real_realloc(p, n);
}
#define ALLOCS_MEASURED 1
#else
#define ALLOCS_MEASURED 0
#endif

/* ------------------------------------------------------------------------- */
/* Timing. */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef bool (*op_fn)(void *ctx);

/* ns per operation: the best of 7 runs of at least 30 ms each. */
static double measure(op_fn f, void *ctx)
{
    unsigned long n = 1;
    for (;;) {
        double t0 = now_ns();
        for (unsigned long i = 0; i < n; i++)
            if (!f(ctx)) {
                fprintf(stderr, "benchmark operation failed\n");
                exit(1);
            }
        double dt = now_ns() - t0;
        if (dt > 30e6)
            break;
        n *= 2;
    }
    double best = 1e300;
    for (int r = 0; r < 7; r++) {
        double t0 = now_ns();
        for (unsigned long i = 0; i < n; i++)
            (void)f(ctx);
        double per = (now_ns() - t0) / (double)n;
        if (per < best)
            best = per;
    }
    return best;
}

static unsigned long allocs_of(op_fn f, void *ctx)
{
    g_allocs = 0;
    g_counting = 1;
    (void)f(ctx);
    g_counting = 0;
    return g_allocs;
}

/* ------------------------------------------------------------------------- */
/* The messages. */

static uint64_t g_rng = 0x5EED5EED12345678ull;

static uint64_t rnd(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static char g_text[64 * 1024];
static size_t g_text_used;

static slate_str_t text(const char *fmt, unsigned a, unsigned b)
{
    char *p = g_text + g_text_used;
    int n = snprintf(p, 64, fmt, a, b);
    g_text_used += (size_t)n + 1;
    return (slate_str_t){p, (size_t)n};
}

static const char *const k_regions[5] = {"us-west-1", "us-east-1", "eu-west-1", "ap-south-1",
                                         "sa-east-1"};

static slate_inbound_t g_in[50];
static slate_outbound_t g_out[20];
static slate_span_t g_sp[100];
static slate_endpoint_load_t g_ld[100][8];
static slate_stats_t g_stats[70];

/* A latency distribution around `mean_ms`, as slate_stats_t would hold it. */
static void fill_stats(slate_stats_t *s, unsigned requests, double mean_ms)
{
    memset(s, 0, sizeof *s);
    /* bucket of v ns ~ ln(v / 1000) / ln(gamma) + 1 */
    double lg = 0.018993; /* ln(SLATE_HIST_GAMMA) */
    unsigned center = (unsigned)(__builtin_log(mean_ms * 1e6 / 1000.0) / lg) + 1;
    unsigned lo = center - 60, hi = center + 90; /* ~150 buckets, a long right tail */
    double sum = 0;
    for (unsigned i = 0; i < requests; i++) {
        unsigned b = lo + (unsigned)(rnd() % (hi - lo)) / (1 + (unsigned)(rnd() % 3));
        if (b < lo)
            b = lo;
        s->hist[b]++;
        sum += 1000.0 * __builtin_exp(lg * (b - 1));
    }
    s->hist[lo]++;
    s->hist[hi]++;
    s->count = requests + 2;
    s->sum_ns = (uint64_t)sum;
    s->min_ns = (uint64_t)(1000.0 * __builtin_exp(lg * (lo - 1)));
    s->max_ns = (uint64_t)(1000.0 * __builtin_exp(lg * hi));
    s->mean_ns = sum / (double)s->count;
    s->m2 = s->mean_ns * s->mean_ns * 0.25 * (double)s->count;
}

static void build_report(slate_load_report_t *r)
{
    memset(r, 0, sizeof *r);
    r->service = slate_str("frontend");
    r->region = slate_str("us-west-1");
    r->pod = slate_str("frontend-6c8d7f9b5-x2k4p");
    r->sequence = 86400;
    r->time_ns = 1700000000000000000ull;
    r->interval_ns = 1000000000ull;
    for (unsigned i = 0; i < 50; i++) {
        slate_inbound_t *e = &g_in[i];
        e->method = slate_str(i % 4 ? "GET" : "POST");
        e->path = text("/api/v1/resource-%u/item%u", i / 5, i);
        e->requests = 200 + rnd() % 2000;
        e->rate_rps = (double)e->requests * 0.97;
        e->in_flight = rnd() % 40;
        fill_stats(&g_stats[i], 300 + (unsigned)(rnd() % 500), 2.0 + (double)(rnd() % 40));
        slate_latency_from_stats(&e->latency, &g_stats[i]);
    }
    r->inbound = g_in;
    r->n_inbound = 50;
    for (unsigned i = 0; i < 20; i++) {
        slate_outbound_t *e = &g_out[i];
        e->dst_service = text("backend-%u%.0u", i / 5, 0);
        e->method = slate_str("POST");
        e->path = text("/hipstershop.Service%u/Method%u", i / 5, i % 3);
        e->dst_region = slate_str(k_regions[i % 5]);
        e->requests = 100 + rnd() % 1000;
        fill_stats(&g_stats[50 + i], 300 + (unsigned)(rnd() % 500), 5.0 + (double)(rnd() % 60));
        slate_latency_from_stats(&e->latency, &g_stats[50 + i]);
    }
    r->outbound = g_out;
    r->n_outbound = 20;
    for (unsigned i = 0; i < 100; i++) {
        slate_span_t *e = &g_sp[i];
        e->trace_id = text("%016x%016x", (unsigned)rnd(), (unsigned)rnd());
        e->span_id = text("%08x%08x", (unsigned)rnd(), (unsigned)rnd());
        if (i % 5)
            e->parent_span_id = text("%08x%08x", (unsigned)rnd(), (unsigned)rnd());
        e->method = g_in[i % 50].method;
        e->path = g_in[i % 50].path;
        e->start_ns = 1700000000000000000ull + rnd() % 1000000000ull;
        e->end_ns = e->start_ns + 1000000 + rnd() % 50000000;
        e->body_size = rnd() % 4096;
        for (unsigned k = 0; k < 8; k++) {
            g_ld[i][k].method = g_in[(i + k) % 50].method;
            g_ld[i][k].path = g_in[(i + k) % 50].path;
            g_ld[i][k].rps = g_in[(i + k) % 50].rate_rps;
            g_ld[i][k].in_flight = rnd() % 40;
        }
        e->load = g_ld[i];
        e->n_load = 8;
    }
    r->spans = g_sp;
    r->n_spans = 100;
    r->drops.spans_dropped = 12;
    r->drops.late_stamps = 3;
}

static slate_rule_t g_rules[200];
static slate_route_target_t g_tg[200][3];

static void build_rules(slate_routing_rules_t *m)
{
    memset(m, 0, sizeof *m);
    m->version = 4242;
    m->ttl_ns = 10000000000ull;
    m->generated_ns = 1700000000000000000ull;
    for (unsigned i = 0; i < 200; i++) {
        slate_rule_t *e = &g_rules[i];
        memset(e, 0, sizeof *e);
        e->src_region = slate_str(k_regions[i % 5]);
        e->dst_service = text("backend-%u%.0u", i / 10, 0);
        e->method = slate_str(i % 2 ? "GET" : "POST");
        e->path = text("/hipstershop.Service%u/Method%u", i / 10, i % 10);
        unsigned n = 1 + i % 3;
        for (unsigned k = 0; k < n; k++) {
            g_tg[i][k].region = slate_str(k_regions[(i + k) % 5]);
            g_tg[i][k].weight = (uint32_t)(1 + rnd() % 10000);
        }
        e->targets = g_tg[i];
        e->n_targets = n;
    }
    m->rules = g_rules;
    m->n_rules = 200;
}

/* ------------------------------------------------------------------------- */
/* The operations. */

typedef struct {
    slate_load_report_t rep;
    slate_routing_rules_t rules;
    uint8_t *bytes_rep, *bytes_rules, *out;
    size_t len_rep, len_rules, cap;
    /* decode targets */
    slate_load_report_t drep;
    slate_inbound_t din[64];
    slate_outbound_t dout[32];
    slate_span_t dsp[128];
    slate_endpoint_load_t dld[1024];
    slate_routing_rules_t drules;
    slate_rule_t drule[256];
    slate_route_target_t dtg[1024];
    slate_stats_t stats;
#ifdef SLATE_BENCH_PROTOBUF_C
    Slate__V1__LoadReport *pc_rep;
    Slate__V1__RoutingRules *pc_rules;
    ProtobufCAllocator pc_alloc;
#endif
#ifdef SLATE_BENCH_NANOPB
    slate_v1_LoadReport np_rep, np_rep_out;
    slate_v1_RoutingRules np_rules, np_rules_out;
#endif
} bench_t;

#ifdef SLATE_BENCH_NANOPB
/* nanopb: the top-level lists are callbacks (see bench/nanopb/slate.options)
 * over static arrays of the element structs. */
typedef struct {
    slate_v1_InboundLoad in[64];
    slate_v1_OutboundLoad out[32];
    slate_v1_Span sp[128];
    slate_v1_Rule rule[256];
    size_t n_in, n_out, n_sp, n_rule;
} np_lists_t;

static np_lists_t g_np_src, g_np_dst; /* encode from, decode into */

#define NP_DECODE_CB(name, T, arr, n_)                                                             \
    static bool name(pb_istream_t *s, const pb_field_t *f, void **arg)                             \
    {                                                                                              \
        (void)f;                                                                                   \
        np_lists_t *l = *arg;                                                                      \
        if (l->n_ >= sizeof l->arr / sizeof l->arr[0])                                             \
            return false;                                                                          \
        return pb_decode(s, T##_fields, &l->arr[l->n_++]);                                         \
    }
#define NP_ENCODE_CB(name, T, arr, n_)                                                             \
    static bool name(pb_ostream_t *s, const pb_field_t *f, void *const *arg)                       \
    {                                                                                              \
        const np_lists_t *l = *arg;                                                                \
        for (size_t i = 0; i < l->n_; i++)                                                         \
            if (!pb_encode_tag_for_field(s, f) ||                                                  \
                !pb_encode_submessage(s, T##_fields, &l->arr[i]))                                  \
                return false;                                                                      \
        return true;                                                                               \
    }
NP_DECODE_CB(np_dec_in, slate_v1_InboundLoad, in, n_in)
NP_DECODE_CB(np_dec_out, slate_v1_OutboundLoad, out, n_out)
NP_DECODE_CB(np_dec_sp, slate_v1_Span, sp, n_sp)
NP_DECODE_CB(np_dec_rule, slate_v1_Rule, rule, n_rule)
NP_ENCODE_CB(np_enc_in, slate_v1_InboundLoad, in, n_in)
NP_ENCODE_CB(np_enc_out, slate_v1_OutboundLoad, out, n_out)
NP_ENCODE_CB(np_enc_sp, slate_v1_Span, sp, n_sp)
NP_ENCODE_CB(np_enc_rule, slate_v1_Rule, rule, n_rule)

static void np_prepare_decode(slate_v1_LoadReport *r, slate_v1_RoutingRules *m, np_lists_t *l)
{
    l->n_in = l->n_out = l->n_sp = l->n_rule = 0;
    if (r) {
        r->inbound.funcs.decode = np_dec_in;
        r->inbound.arg = l;
        r->outbound.funcs.decode = np_dec_out;
        r->outbound.arg = l;
        r->spans.funcs.decode = np_dec_sp;
        r->spans.arg = l;
    }
    if (m) {
        m->rules.funcs.decode = np_dec_rule;
        m->rules.arg = l;
    }
}

static void np_prepare_encode(slate_v1_LoadReport *r, slate_v1_RoutingRules *m, np_lists_t *l)
{
    if (r) {
        r->inbound.funcs.encode = np_enc_in;
        r->inbound.arg = l;
        r->outbound.funcs.encode = np_enc_out;
        r->outbound.arg = l;
        r->spans.funcs.encode = np_enc_sp;
        r->spans.arg = l;
    }
    if (m) {
        m->rules.funcs.encode = np_enc_rule;
        m->rules.arg = l;
    }
}
#endif

static volatile size_t g_sink;

static bool slate_enc_rep(void *c_)
{
    bench_t *c = c_;
    size_t len;
    if (slate_load_report_encode(&c->rep, c->out, c->cap, &len, NULL) != SLATE_OK)
        return false;
    g_sink += len;
    return true;
}

static bool slate_enc_rules(void *c_)
{
    bench_t *c = c_;
    size_t len;
    if (slate_routing_rules_encode(&c->rules, c->out, c->cap, &len, NULL) != SLATE_OK)
        return false;
    g_sink += len;
    return true;
}

static bool slate_dec_rep(void *c_)
{
    bench_t *c = c_;
    slate_load_report_t *r = &c->drep;
    r->inbound = c->din;
    r->cap_inbound = 64;
    r->outbound = c->dout;
    r->cap_outbound = 32;
    r->spans = c->dsp;
    r->cap_spans = 128;
    r->span_loads = c->dld;
    r->cap_span_loads = 1024;
    if (slate_load_report_decode(r, c->bytes_rep, c->len_rep, NULL, NULL) != SLATE_OK)
        return false;
    g_sink += r->n_spans;
    return true;
}

static bool slate_dec_rep_stats(void *c_)
{
    bench_t *c = c_;
    if (!slate_dec_rep(c))
        return false;
    for (size_t i = 0; i < c->drep.n_inbound; i++)
        if (slate_latency_to_stats(&c->din[i].latency, &c->stats) != SLATE_OK)
            return false;
    for (size_t i = 0; i < c->drep.n_outbound; i++)
        if (slate_latency_to_stats(&c->dout[i].latency, &c->stats) != SLATE_OK)
            return false;
    g_sink += c->stats.count;
    return true;
}

static bool slate_dec_rules(void *c_)
{
    bench_t *c = c_;
    slate_routing_rules_t *r = &c->drules;
    r->rules = c->drule;
    r->cap_rules = 256;
    r->targets = c->dtg;
    r->cap_targets = 1024;
    if (slate_routing_rules_decode(r, c->bytes_rules, c->len_rules, NULL, NULL) != SLATE_OK)
        return false;
    g_sink += r->n_rules;
    return true;
}

#ifdef SLATE_BENCH_PROTOBUF_C
static unsigned long g_pc_allocs;

static void *pc_count_alloc(void *d, size_t n)
{
    (void)d;
    g_pc_allocs++;
    return malloc(n);
}

static void pc_count_free(void *d, void *p)
{
    (void)d;
    free(p);
}

static bool pc_enc_rep(void *c_)
{
    bench_t *c = c_;
    size_t n = slate__v1__load_report__get_packed_size(c->pc_rep);
    if (n > c->cap)
        return false;
    g_sink += slate__v1__load_report__pack(c->pc_rep, c->out);
    return true;
}

static bool pc_enc_rules(void *c_)
{
    bench_t *c = c_;
    size_t n = slate__v1__routing_rules__get_packed_size(c->pc_rules);
    if (n > c->cap)
        return false;
    g_sink += slate__v1__routing_rules__pack(c->pc_rules, c->out);
    return true;
}

static bool pc_dec_rep(void *c_)
{
    bench_t *c = c_;
    Slate__V1__LoadReport *m =
        slate__v1__load_report__unpack(&c->pc_alloc, c->len_rep, c->bytes_rep);
    if (!m)
        return false;
    g_sink += m->n_spans;
    slate__v1__load_report__free_unpacked(m, &c->pc_alloc);
    return true;
}

static bool pc_dec_rules(void *c_)
{
    bench_t *c = c_;
    Slate__V1__RoutingRules *m =
        slate__v1__routing_rules__unpack(&c->pc_alloc, c->len_rules, c->bytes_rules);
    if (!m)
        return false;
    g_sink += m->n_rules;
    slate__v1__routing_rules__free_unpacked(m, &c->pc_alloc);
    return true;
}
#endif

#ifdef SLATE_BENCH_NANOPB
static bool np_enc_rep(void *c_)
{
    bench_t *c = c_;
    pb_ostream_t s = pb_ostream_from_buffer(c->out, c->cap);
    if (!pb_encode(&s, slate_v1_LoadReport_fields, &c->np_rep))
        return false;
    g_sink += s.bytes_written;
    return true;
}

static bool np_enc_rules(void *c_)
{
    bench_t *c = c_;
    pb_ostream_t s = pb_ostream_from_buffer(c->out, c->cap);
    if (!pb_encode(&s, slate_v1_RoutingRules_fields, &c->np_rules))
        return false;
    g_sink += s.bytes_written;
    return true;
}

static bool np_dec_rep(void *c_)
{
    bench_t *c = c_;
    pb_istream_t s = pb_istream_from_buffer(c->bytes_rep, c->len_rep);
    np_prepare_decode(&c->np_rep_out, NULL, &g_np_dst);
    if (!pb_decode(&s, slate_v1_LoadReport_fields, &c->np_rep_out))
        return false;
    g_sink += g_np_dst.n_sp;
    return true;
}

static bool np_dec_rules(void *c_)
{
    bench_t *c = c_;
    pb_istream_t s = pb_istream_from_buffer(c->bytes_rules, c->len_rules);
    np_prepare_decode(NULL, &c->np_rules_out, &g_np_dst);
    if (!pb_decode(&s, slate_v1_RoutingRules_fields, &c->np_rules_out))
        return false;
    g_sink += g_np_dst.n_rule;
    return true;
}
#endif

/* ------------------------------------------------------------------------- */

typedef struct {
    const char *impl;
    double enc_ns, dec_ns;
    long enc_allocs, dec_allocs; /* -1: not measured */
} row_t;

static void print_rows(const char *msg, size_t bytes, const row_t *rows, int n, int pc, int np)
{
    printf("\n%s: %zu bytes\n", msg, bytes);
    printf("  %-26s %10s %10s %10s %10s %8s %8s  %s\n", "implementation", "enc ns", "enc MB/s",
           "dec ns", "dec MB/s", "enc/msg", "dec/msg", "(heap allocations)");
    for (int i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        char ea[16], da[16], en[16], em[16];
        if (r->enc_ns > 0) {
            snprintf(en, sizeof en, "%.0f", r->enc_ns);
            snprintf(em, sizeof em, "%.0f", (double)bytes / r->enc_ns * 1e3);
        } else {
            snprintf(en, sizeof en, "-");
            snprintf(em, sizeof em, "-");
        }
        snprintf(ea, sizeof ea, r->enc_allocs < 0 ? "-" : "%ld", r->enc_allocs);
        snprintf(da, sizeof da, r->dec_allocs < 0 ? "-" : "%ld", r->dec_allocs);
        printf("  %-26s %10s %10s %10.0f %10.0f %8s %8s\n", r->impl, en, em, r->dec_ns,
               (double)bytes / r->dec_ns * 1e3, ea, da);
    }
    const row_t *ours = &rows[0];
    if (pc >= 0)
        printf("  libslate vs protobuf-c: encode %.2fx, decode %.2fx faster\n",
               rows[pc].enc_ns / ours->enc_ns, rows[pc].dec_ns / ours->dec_ns);
    if (np >= 0)
        printf("  libslate vs nanopb:     encode %.2fx, decode %.2fx faster\n",
               rows[np].enc_ns / ours->enc_ns, rows[np].dec_ns / ours->dec_ns);
}

int main(void)
{
    bench_t *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->cap = 1u << 20;
    c->out = malloc(c->cap);
    c->bytes_rep = malloc(c->cap);
    c->bytes_rules = malloc(c->cap);
    build_report(&c->rep);
    build_rules(&c->rules);
    if (slate_load_report_encode(&c->rep, c->bytes_rep, c->cap, &c->len_rep, NULL) ||
        slate_routing_rules_encode(&c->rules, c->bytes_rules, c->cap, &c->len_rules, NULL))
        return 1;
    printf("libslate codec benchmark (best of 7 runs; %s)\n",
           ALLOCS_MEASURED ? "allocations counted by wrapping malloc/calloc/realloc"
                           : "allocation wrapping unavailable in this build");

#ifdef SLATE_BENCH_PROTOBUF_C
    c->pc_alloc = (ProtobufCAllocator){pc_count_alloc, pc_count_free, NULL};
    c->pc_rep = slate__v1__load_report__unpack(NULL, c->len_rep, c->bytes_rep);
    c->pc_rules = slate__v1__routing_rules__unpack(NULL, c->len_rules, c->bytes_rules);
    if (!c->pc_rep || !c->pc_rules)
        return 1;
    /* The same bytes: protobuf-c's encoding of what it decoded equals ours. */
    size_t pn = slate__v1__load_report__pack(c->pc_rep, c->out);
    printf("protobuf-c re-encodes the report to %s bytes\n",
           pn == c->len_rep && !memcmp(c->out, c->bytes_rep, pn) ? "identical" : "DIFFERENT");
#endif
#ifdef SLATE_BENCH_NANOPB
    {
        pb_istream_t s = pb_istream_from_buffer(c->bytes_rep, c->len_rep);
        pb_istream_t t = pb_istream_from_buffer(c->bytes_rules, c->len_rules);
        np_prepare_decode(&c->np_rep, &c->np_rules, &g_np_src);
        if (!pb_decode(&s, slate_v1_LoadReport_fields, &c->np_rep) ||
            !pb_decode(&t, slate_v1_RoutingRules_fields, &c->np_rules)) {
            fprintf(stderr, "nanopb cannot decode the benchmark messages: %s\n", PB_GET_ERROR(&s));
            return 1;
        }
        np_prepare_encode(&c->np_rep, &c->np_rules, &g_np_src);
        pb_ostream_t o = pb_ostream_from_buffer(c->out, c->cap);
        if (!pb_encode(&o, slate_v1_LoadReport_fields, &c->np_rep))
            return 1;
        printf("nanopb re-encodes the report to %s bytes\n",
               o.bytes_written == c->len_rep && !memcmp(c->out, c->bytes_rep, c->len_rep)
                   ? "identical"
                   : "DIFFERENT");
    }
#endif

    row_t rep[4], rul[4];
    int nrep = 0, nrul = 0, pc_rep = -1, pc_rul = -1, np_rep = -1, np_rul = -1;
#define ALLOCS(f) (ALLOCS_MEASURED ? (long)allocs_of((f), c) : -1L)
    rep[nrep++] = (row_t){"libslate", measure(slate_enc_rep, c), measure(slate_dec_rep, c),
                          ALLOCS(slate_enc_rep), ALLOCS(slate_dec_rep)};
    rep[nrep++] = (row_t){"libslate (+hist to stats)", 0, measure(slate_dec_rep_stats, c), -1,
                          ALLOCS(slate_dec_rep_stats)};
    rul[nrul++] = (row_t){"libslate", measure(slate_enc_rules, c), measure(slate_dec_rules, c),
                          ALLOCS(slate_enc_rules), ALLOCS(slate_dec_rules)};
#ifdef SLATE_BENCH_PROTOBUF_C
    g_pc_allocs = 0;
    (void)pc_dec_rep(c);
    long pc_rep_allocs = (long)g_pc_allocs;
    g_pc_allocs = 0;
    (void)pc_dec_rules(c);
    long pc_rules_allocs = (long)g_pc_allocs;
    pc_rep = nrep;
    rep[nrep++] = (row_t){"protobuf-c", measure(pc_enc_rep, c), measure(pc_dec_rep, c),
                          ALLOCS(pc_enc_rep), pc_rep_allocs};
    pc_rul = nrul;
    rul[nrul++] = (row_t){"protobuf-c", measure(pc_enc_rules, c), measure(pc_dec_rules, c),
                          ALLOCS(pc_enc_rules), pc_rules_allocs};
#endif
#ifdef SLATE_BENCH_NANOPB
    np_rep = nrep;
    rep[nrep++] = (row_t){"nanopb (static)", measure(np_enc_rep, c), measure(np_dec_rep, c),
                          ALLOCS(np_enc_rep), ALLOCS(np_dec_rep)};
    np_rul = nrul;
    rul[nrul++] = (row_t){"nanopb (static)", measure(np_enc_rules, c), measure(np_dec_rules, c),
                          ALLOCS(np_enc_rules), ALLOCS(np_dec_rules)};
#endif
    print_rows("LoadReport (50 inbound, 20 outbound in 5 regions, 100 spans x 8 loads)", c->len_rep,
               rep, nrep, pc_rep, np_rep);
    print_rows("RoutingRules (200 rules, 1-3 regions each)", c->len_rules, rul, nrul, pc_rul,
               np_rul);
    printf("\nlibslate heap allocations: encode %ld, decode %ld per message (%s)\n",
           rep[0].enc_allocs, rep[0].dec_allocs,
           ALLOCS_MEASURED ? "measured" : "not measured in this build");
    printf("nanopb uses static fields and callbacks only (no FT_POINTER), so it allocates "
           "nothing either (measured above).\n");
    free(c->out);
    free(c->bytes_rep);
    free(c->bytes_rules);
    free(c);
    return 0;
}
