/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * native-proxy: libslate embedded in a native C program, as a proxy author
 * would. One proxy (proxy.c) of the "frontend" service in us-west-1 serves a
 * synthetic request stream for three seconds; every second it encodes a
 * LoadReport, and a stand-in controller answers with RoutingRules (some good,
 * some corrupted). This file plays the workload and the controller, and checks
 * what the proxy measured, reported and routed against what it generated. It
 * prints a summary and exits 1 if any check fails.
 *
 *   native_proxy          simulated clock: deterministic (what the tests run)
 *   native_proxy --real   the same stream, arrivals stamped by CLOCK_MONOTONIC
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep under -std=c11 */

#include "proxy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS         1000000ull
#define SEC        1000000000ull
#define DURATION_S 3
#define TRACE_RATE 0.01
#define N_REGIONS  3
#define N_TPL      12 /* endpoint templates: 2 busy ones and 10 static files */

static const char *const REGIONS[N_REGIONS] = {"us-west-1", "us-east-1", "eu-west-1"};
static const double RTT_MS[N_REGIONS] = {0.3, 62.0, 140.0}; /* round trip from us-west-1 */
#define GET_CART   "/hipstershop.CartService/GetCart"
#define EMPTY_CART "/hipstershop.CartService/EmptyCart"

/* An inbound endpoint of the workload and the cartservice call each request makes. */
typedef struct tpl {
    const char *method;
    char path[32];
    double rps, base_ms, tail_ms;
    const char *callee; /* cartservice path, or NULL */
} tpl_t;
static tpl_t TPL[N_TPL] = {{"GET", "/cart", 1800, 2, 3, GET_CART},
                           {"POST", "/cart/checkout", 150, 15, 10, EMPTY_CART}};

typedef struct event {
    uint64_t t, end, own_ns; /* arrival, completion, time spent in this service */
    int tpl, header;         /* header: 0 none, 1 valid traceparent, 2 malformed */
    uint32_t session;
    uint64_t trace[3]; /* trace id (2 words) and parent span id */
} event_t;

typedef struct pending {
    size_t ev;
    proxy_request_t req;
} pending_t;

typedef struct sim {
    int real;
    proxy_t proxy;
    event_t *ev;
    size_t n_ev, next; /* events generated; the next one to replay */
    pending_t *pending;
    size_t n_pending;
    uint64_t drawn[3][N_REGIONS]; /* GetCart calls by rules version (0: none) and region */
    uint64_t interval_calls[N_REGIONS];
    uint64_t empty_cart_remote, tracked_requests, spans_seen;
} sim_t;

static int n_checks, n_failed;

__attribute__((format(printf, 2, 3))) static int check(int ok, const char *fmt, ...)
{
    n_checks++;
    if (!ok) {
        va_list ap;
        va_start(ap, fmt);
        n_failed++;
        printf("CHECK FAILED: ");
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
    }
    return ok;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* The time of something scheduled at t: t itself, or in real mode the clock once t is reached. */
static uint64_t clock_at(const sim_t *s, uint64_t t)
{
    if (!s->real)
        return t;
    uint64_t now = mono_ns();
    if (now < t) {
        struct timespec d = {(time_t)((t - now) / SEC), (long)((t - now) % SEC)};
        nanosleep(&d, NULL);
        now = mono_ns();
    }
    return now;
}

static double uniform(slate_rng_t *rng) /* in [0, 1), from the top 53 bits */
{
    return (double)(slate_rng_next(rng) >> 11) * 0x1.0p-53;
}

static double expo(slate_rng_t *rng, double mean)
{
    return -mean * log1p(-uniform(rng));
}

/* A Poisson stream over all templates, fixed by the seed. */
static size_t generate(event_t *ev, size_t cap, uint64_t start, uint64_t seed)
{
    slate_rng_t rng;
    slate_rng_seed(&rng, seed);
    double total = 0;
    for (int i = 0; i < N_TPL; i++)
        total += TPL[i].rps;
    size_t n = 0;
    for (double t = expo(&rng, 1e9 / total); t < DURATION_S * 1e9 && n < cap;
         t += expo(&rng, 1e9 / total)) {
        event_t *e = &ev[n++];
        memset(e, 0, sizeof *e);
        double pick = uniform(&rng) * total;
        while (e->tpl < N_TPL - 1 && (pick -= TPL[e->tpl].rps) >= 0)
            e->tpl++;
        e->t = start + (uint64_t)t;
        e->own_ns = (uint64_t)((TPL[e->tpl].base_ms + expo(&rng, TPL[e->tpl].tail_ms)) * MS);
        e->session = (uint32_t)slate_rng_next(&rng);
        uint64_t h = slate_rng_next(&rng) % 100;
        e->header = h < 10 ? 0 : h < 11 ? 2 : 1;
        for (int i = 0; i < 3; i++)
            e->trace[i] = slate_rng_next(&rng) | 1;
    }
    return n;
}

/* Responses that completed by time t. */
static void complete_until(sim_t *s, uint64_t t)
{
    for (size_t i = 0; i < s->n_pending;) {
        const event_t *e = &s->ev[s->pending[i].ev];
        if (e->end > t) {
            i++;
            continue;
        }
        proxy_on_response(&s->proxy, &s->pending[i].req, e->end);
        s->pending[i] = s->pending[--s->n_pending];
    }
}

/* Feed the proxy every request that arrives before `until`. */
static int replay_until(sim_t *s, uint64_t until)
{
    for (; s->next < s->n_ev && s->ev[s->next].t < until; s->next++) {
        event_t *e = &s->ev[s->next];
        const tpl_t *tp = &TPL[e->tpl];
        e->t = clock_at(s, e->t);
        complete_until(s, e->t);
        char path[64], header[64];
        snprintf(path, sizeof path, e->tpl == 0 ? "%s?session=%u" : "%s", tp->path, e->session);
        snprintf(header, sizeof header,
                 e->header == 1 ? "00-%016llx%016llx-%016llx-01" : "00-%016llX%016llX-%016llX-01",
                 (unsigned long long)e->trace[0], (unsigned long long)e->trace[1],
                 (unsigned long long)e->trace[2]); /* upper-case hex is not valid W3C */
        pending_t *pd = &s->pending[s->n_pending++];
        pd->ev = s->next;
        slate_status st = proxy_on_request(&s->proxy, tp->method, path, e->header ? header : NULL,
                                           e->t, &pd->req);
        if (st != SLATE_OK) {
            printf("proxy_on_request: %s\n", slate_strerror(st));
            return -1;
        }
        s->tracked_requests += pd->req.measured;
        uint64_t out_ns = 0;
        if (tp->callee != NULL) { /* the call to cartservice goes where the rules say */
            uint16_t region = proxy_route(&s->proxy, "cartservice", "POST", tp->callee, e->t);
            out_ns = (uint64_t)((1.0 + RTT_MS[region]) * MS);
            proxy_on_outbound_done(&s->proxy, "cartservice", "POST", tp->callee, region, out_ns);
            if (strcmp(tp->callee, EMPTY_CART) == 0) {
                s->empty_cart_remote += region != 0;
            } else {
                const ruleset_t *rs = s->proxy.rules;
                s->drawn[rs ? rs->version : 0][region]++;
                s->interval_calls[region]++;
            }
        }
        e->end = e->t + e->own_ns + out_ns;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* What the proxy should have reported, computed from the stream alone.      */

typedef struct expect {
    int tracked;
    uint64_t requests, in_window, in_flight, completed, p99;
    double mean;
} expect_t;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void reference(const sim_t *s, uint64_t now, uint64_t prev, size_t first, expect_t *x,
                      uint64_t *untracked, uint64_t *scratch)
{
    memset(x, 0, N_TPL * sizeof *x);
    *untracked = 0;
    int seen[N_TPL] = {0}, distinct = 0;
    for (size_t i = 0; i < s->next; i++) /* the table holds the first 8 endpoints to arrive */
        if (!seen[s->ev[i].tpl]++)
            x[s->ev[i].tpl].tracked = distinct++ < PROXY_MAX_ENDPOINTS;
    for (int t = 0; t < N_TPL; t++) {
        size_t n = 0;
        for (size_t i = 0; i < s->next; i++) {
            const event_t *e = &s->ev[i];
            if (e->tpl != t)
                continue;
            if (!x[t].tracked) {
                (*untracked)++;
                continue;
            }
            x[t].requests += i >= first;
            x[t].in_window += e->t / MS + 1000 > now / MS; /* the 1000 ticks ending at now */
            if (e->end > now)
                x[t].in_flight++;
            else if (e->end > prev)
                scratch[n++] = e->end - e->t;
        }
        qsort(scratch, n, sizeof *scratch, cmp_u64);
        x[t].completed = n;
        for (size_t i = 0; i < n; i++)
            x[t].mean += (double)scratch[i] / (double)n;
        x[t].p99 = n ? scratch[(size_t)ceil(0.99 * (double)n) - 1] : 0;
    }
}

static int tpl_of(slate_str_t method, slate_str_t path)
{
    for (int t = 0; t < N_TPL; t++)
        if (method.len == strlen(TPL[t].method) && !memcmp(method.ptr, TPL[t].method, method.len) &&
            path.len == strlen(TPL[t].path) && !memcmp(path.ptr, TPL[t].path, path.len))
            return t;
    return -1;
}

static int str_eq(slate_str_t a, slate_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* A span carries one load, its own endpoint's as the request arrived: the
 * arrivals of the second ending then and the requests in flight, it included. */
static void check_span_load(const sim_t *s, const slate_span_t *sp)
{
    int t = tpl_of(sp->method, sp->path);
    size_t i = 0;
    while (i < s->next && !(s->ev[i].tpl == t && s->ev[i].t == sp->start_ns))
        i++;
    if (!check(i < s->next, "span %.*s is a request of the stream", (int)sp->trace_id.len,
               sp->trace_id.ptr))
        return;
    const event_t *e = &s->ev[i];
    uint64_t rps = 0, in_flight = 0;
    for (size_t j = 0; j <= i; j++) {
        const event_t *f = &s->ev[j];
        if (f->tpl == t) {
            rps += f->t / MS + 1000 > e->t / MS;
            in_flight += j == i || f->end > e->t; /* earlier ones still running */
        }
    }
    slate_codec_iter_t it;
    slate_endpoint_load_t ld;
    size_t n = 0, ok = 0;
    slate_codec_iter_init(&it, sp->raw);
    while (slate_span_next_load(&it, &ld))
        ok += n++ == 0 && str_eq(ld.method, sp->method) && str_eq(ld.path, sp->path) &&
              ld.rps == (double)rps && ld.in_flight == in_flight;
    check(it.status == SLATE_OK && n == 1 && ok == 1,
          "span %.*s: its endpoint's load at arrival, %llu/s and %llu in flight",
          (int)sp->trace_id.len, sp->trace_id.ptr, (unsigned long long)rps,
          (unsigned long long)in_flight);
}

/* Decode the report as the controller would, and compare it with the reference. */
static void check_report(sim_t *s, const uint8_t *buf, size_t len, uint64_t now, uint64_t prev,
                         size_t first, uint64_t *scratch, slate_stats_t *stats)
{
    slate_load_report_t rep = {0}; /* no arrays: count only, then pull with the iterators */
    slate_codec_error_t err;
    if (!check(slate_load_report_decode(&rep, buf, len, NULL, &err) == SLATE_OK, "report decodes"))
        return;
    printf("report #%llu: %zu bytes, %zu endpoints, %zu outbound, %zu spans; %llu requests "
           "unmeasured so far (table full)\n",
           (unsigned long long)rep.sequence, len, rep.n_inbound, rep.n_outbound, rep.n_spans,
           (unsigned long long)rep.drops.endpoints_overflowed);
    expect_t x[N_TPL];
    uint64_t untracked;
    reference(s, now, prev, first, x, &untracked, scratch);
    check(rep.drops.endpoints_overflowed == untracked,
          "untracked requests: reported %llu, sent %llu",
          (unsigned long long)rep.drops.endpoints_overflowed, (unsigned long long)untracked);

    int seen[N_TPL] = {0};
    slate_codec_iter_t it;
    slate_inbound_t in;
    slate_codec_iter_init(&it, rep.raw);
    while (slate_load_report_next_inbound(&it, &in)) {
        int t = tpl_of(in.method, in.path);
        if (!check(t >= 0 && !seen[t], "inbound %.*s is a workload endpoint, once",
                   (int)in.path.len, in.path.ptr))
            continue;
        seen[t] = 1;
        const expect_t *e = &x[t];
        check(in.requests == e->requests && in.in_flight == e->in_flight,
              "%s: requests/in flight %llu/%llu, want %llu/%llu", TPL[t].path,
              (unsigned long long)in.requests, (unsigned long long)in.in_flight,
              (unsigned long long)e->requests, (unsigned long long)e->in_flight);
        check(in.rate_rps == (double)e->in_window,
              "%s: measured %.0f/s, generated %llu in the last second", TPL[t].path, in.rate_rps,
              (unsigned long long)e->in_window);
        if (!check(slate_latency_to_stats(&in.latency, stats) == SLATE_OK &&
                       slate_stats_validate(stats) == SLATE_OK && stats->count == e->completed,
                   "%s: latency statistics of %llu responses", TPL[t].path,
                   (unsigned long long)e->completed) ||
            e->completed == 0)
            continue;
        uint64_t p99 = slate_stats_quantile(stats, 0.99);
        check(fabs(stats->mean_ns - e->mean) <= 1e-9 * e->mean, "%s: mean", TPL[t].path);
        check(fabs((double)p99 - (double)e->p99) <= 0.01 * (double)e->p99,
              "%s: p99 %llu ns, exact %llu ns", TPL[t].path, (unsigned long long)p99,
              (unsigned long long)e->p99);
        if (t < 2)
            printf("  %-4s %-15s %5.0f req/s (generated %llu), %4llu done: mean %5.1f ms, p99 "
                   "%5.1f ms (exact %5.1f), %llu in flight\n",
                   TPL[t].method, TPL[t].path, in.rate_rps, (unsigned long long)e->in_window,
                   (unsigned long long)stats->count, stats->mean_ns / 1e6, (double)p99 / 1e6,
                   (double)e->p99 / 1e6, (unsigned long long)in.in_flight);
    }
    check(it.status == SLATE_OK, "inbound iteration ends cleanly");
    /* The meter leaves out an endpoint with nothing to say (no request, response,
     * rate or request in flight); at 8 requests/s that is rare but possible. */
    for (int t = 0; t < N_TPL; t++) {
        const expect_t *e = &x[t];
        int active = e->requests || e->completed || e->in_window || e->in_flight;
        check(seen[t] == (e->tracked && active), "%s reported iff tracked and active", TPL[t].path);
    }

    slate_outbound_t ob;
    int called[N_REGIONS] = {0};
    slate_codec_iter_init(&it, rep.raw);
    while (slate_load_report_next_outbound(&it, &ob)) {
        int r = 0;
        while (r < N_REGIONS && !(ob.dst_region.len == strlen(REGIONS[r]) &&
                                  !memcmp(ob.dst_region.ptr, REGIONS[r], ob.dst_region.len)))
            r++;
        if (check(r < N_REGIONS, "outbound region known") && ob.path.len == strlen(GET_CART) &&
            !memcmp(ob.path.ptr, GET_CART, ob.path.len) &&
            check(!called[r]++, "GetCart calls to %s reported once", REGIONS[r]))
            check(ob.requests == s->interval_calls[r],
                  "GetCart calls to %s: %llu reported, %llu made", REGIONS[r],
                  (unsigned long long)ob.requests, (unsigned long long)s->interval_calls[r]);
    }
    check(it.status == SLATE_OK, "outbound iteration ends cleanly");
    for (int r = 0; r < N_REGIONS; r++) /* a region with no call this interval is left out */
        check(called[r] == (s->interval_calls[r] > 0), "GetCart calls to %s reported iff made",
              REGIONS[r]);
    slate_span_t sp;
    slate_codec_iter_init(&it, rep.raw);
    while (slate_load_report_next_span(&it, &sp)) { /* the next hop decides alike */
        s->spans_seen++;
        check(slate_trace_sampled(sp.trace_id.ptr, sp.trace_id.len, TRACE_RATE) == 1,
              "span %.*s is a sampled trace", (int)sp.trace_id.len, sp.trace_id.ptr);
        check_span_load(s, &sp);
    }
    memset(s->interval_calls, 0, sizeof s->interval_calls);
}

/* ------------------------------------------------------------------------- */
/* The stand-in controller                                                   */

typedef struct answer {
    slate_routing_rules_t m;
    slate_rule_t rules[2];
    slate_route_target_t targets[4];
    uint8_t *buf;
    size_t len;
} answer_t;

/* Rules for us-west-1's calls to GetCart (and one for us-east-1 that our proxy must skip). */
static int make_answer(answer_t *a, uint64_t version, const char *const *regions,
                       const uint32_t *weights, size_t n, uint64_t now)
{
    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < n; i++)
        a->targets[i] = (slate_route_target_t){slate_str(regions[i]), weights[i]};
    a->targets[n] = (slate_route_target_t){slate_str("us-east-1"), 1};
    for (int i = 0; i < 2; i++) {
        a->rules[i].src_region = slate_str(REGIONS[i]);
        a->rules[i].dst_service = slate_str("cartservice");
        a->rules[i].method = slate_str("POST");
        a->rules[i].path = slate_str(GET_CART);
        a->rules[i].targets = &a->targets[i ? n : 0];
        a->rules[i].n_targets = i ? 1 : n;
    }
    a->m = (slate_routing_rules_t){.version = version, .ttl_ns = 30 * SEC, .generated_ns = now};
    a->m.rules = a->rules;
    a->m.n_rules = 2;
    /* Size first (NULL, 0), then encode into exactly that. */
    slate_status st = slate_routing_rules_encode(&a->m, NULL, 0, &a->len, NULL);
    if (st == SLATE_ENOSPC && (a->buf = malloc(a->len)) != NULL)
        st = slate_routing_rules_encode(&a->m, a->buf, a->len, &a->len, NULL);
    return check(st == SLATE_OK, "controller encodes rules v%llu: %s", (unsigned long long)version,
                 slate_strerror(st));
}

/* Decode the answer independently of the proxy and compare with what was encoded. */
static void check_round_trip(const answer_t *a)
{
    slate_rule_t rules[4];
    slate_route_target_t targets[8];
    slate_routing_rules_t d = {
        .rules = rules, .cap_rules = 4, .targets = targets, .cap_targets = 8};
    int ok = slate_routing_rules_decode(&d, a->buf, a->len, NULL, NULL) == SLATE_OK &&
             d.version == a->m.version && d.ttl_ns == a->m.ttl_ns &&
             d.generated_ns == a->m.generated_ns && d.n_rules == a->m.n_rules;
    for (size_t i = 0; ok && i < d.n_rules; i++) {
        const slate_rule_t *x = &rules[i], *y = &a->m.rules[i];
        ok = str_eq(x->src_region, y->src_region) && str_eq(x->dst_service, y->dst_service) &&
             str_eq(x->method, y->method) && str_eq(x->path, y->path) &&
             str_eq(x->src_service, y->src_service) && str_eq(x->src_method, y->src_method) &&
             str_eq(x->src_path, y->src_path) && x->n_targets == y->n_targets;
        for (size_t j = 0; ok && j < x->n_targets; j++)
            ok = str_eq(x->targets[j].region, y->targets[j].region) &&
                 x->targets[j].weight == y->targets[j].weight;
    }
    check(ok, "rules v%llu decode to exactly what was encoded", (unsigned long long)a->m.version);
}

/* The proxy's compiled table gives each region exactly its share of the weights. */
static void check_table(sim_t *s, const uint32_t *w, uint64_t version, uint64_t now)
{
    check(s->proxy.rules && s->proxy.rules->version == version, "rules v%llu in force",
          (unsigned long long)version);
    double sum = w[0] + w[1] + w[2];
    for (uint16_t r = 0; r < N_REGIONS; r++) {
        double got = proxy_route_share(&s->proxy, "cartservice", "POST", GET_CART, r, now);
        check(fabs(got - w[r] / sum) <= 1e-6, "v%llu: P(%s) = %.6f, want %.6f",
              (unsigned long long)version, REGIONS[r], got, w[r] / sum);
    }
}

/* Answers a proxy must refuse, each while keeping the rules it runs on. */
static void feed_bad_answers(sim_t *s, const answer_t *good, uint64_t now)
{
    static const uint8_t long_varint[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
                                          0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    uint8_t *bad = malloc(good->len);
    if (!check(bad != NULL, "malloc"))
        return;
    memcpy(bad, good->buf, good->len);
    for (size_t i = 0; i + 9 <= good->len; i++) /* break the UTF-8 of "eu-west-1" */
        if (!memcmp(bad + i, "eu-west-1", 9)) {
            bad[i + 2] = 0xC0;
            break;
        }
    struct {
        const uint8_t *buf;
        size_t len;
        slate_status want; /* SLATE_OK: any error */
    } cases[] = {{good->buf, good->len - 3, SLATE_OK},
                 {long_varint, sizeof long_varint, SLATE_EVARINT},
                 {bad, good->len, SLATE_EUTF8}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        slate_status st = proxy_apply_rules(&s->proxy, cases[i].buf, cases[i].len, now);
        check(st != SLATE_OK && (cases[i].want == SLATE_OK || st == cases[i].want),
              "corrupt answer %zu refused: %s", i, slate_status_name(st));
    }
    free(bad);

    /* Well-formed answers whose weights cannot be compiled. (A rule whose
     * weights are all zero is not among them: it draws nothing and its
     * destination routes locally, as in every libslate proxy; see
     * tests/test_ruleset.c.) */
    const char *dup[] = {"us-west-1", "us-east-1", "us-west-1"},
               *unknown[] = {"us-west-1", "ap-south-1"};
    const uint32_t w_dup[] = {50, 30, 20}, w_unknown[] = {50, 50};
    struct {
        const char *const *regions;
        const uint32_t *w;
        size_t n;
        slate_status want;
    } rules[] = {{dup, w_dup, 3, SLATE_EDUPLICATE}, {unknown, w_unknown, 2, SLATE_ERANGE}};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        answer_t a;
        if (make_answer(&a, 2, rules[i].regions, rules[i].w, rules[i].n, now)) {
            slate_status st = proxy_apply_rules(&s->proxy, a.buf, a.len, now);
            check(st == rules[i].want, "bad weights %zu refused with %s, got %s", i,
                  slate_status_name(rules[i].want), slate_status_name(st));
        }
        free(a.buf);
    }
}

/* us-east-1's share of GetCart calls at time t: 0.5 under v2 (50/50/0), 0 with no rules in force.
 */
static double east_share(const sim_t *s, uint64_t t)
{
    return proxy_route_share(&s->proxy, "cartservice", "POST", GET_CART, 1, t);
}

/* Time to live, decided by the core's helpers: rules expire ttl (30 s) after
 * they arrive, the same version again renews them, and any other version
 * replaces them, a lower one too (a controller that restarted counts from 1). */
static void check_ttl(sim_t *s, const uint32_t *w1, const uint32_t *w2, uint64_t v2_at)
{
    check(east_share(s, v2_at + 29 * SEC) == 0.5, "v2 in force 29 s after it arrived");
    check(east_share(s, v2_at + 30 * SEC) == 0.0, "v2 expired 30 s after it arrived");
    answer_t a;
    if (make_answer(&a, 2, REGIONS, w2, N_REGIONS, v2_at + 20 * SEC))
        check(proxy_apply_rules(&s->proxy, a.buf, a.len, v2_at + 20 * SEC) == SLATE_OK,
              "v2 again at 20 s");
    free(a.buf);
    check(east_share(s, v2_at + 49 * SEC) == 0.5, "v2 renewed at 20 s: in force at 49 s");
    check(east_share(s, v2_at + 50 * SEC) == 0.0, "v2 renewed at 20 s: expired at 50 s");
    if (make_answer(&a, 1, REGIONS, w1, N_REGIONS, v2_at + 60 * SEC))
        check(proxy_apply_rules(&s->proxy, a.buf, a.len, v2_at + 60 * SEC) == SLATE_OK,
              "v1 from a restarted controller accepted");
    free(a.buf);
    check_table(s, w1, 1, v2_at + 60 * SEC);
}

/* ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static sim_t sim;
    sim_t *s = &sim;
    s->real = argc > 1 && strcmp(argv[1], "--real") == 0;
    if (argc > 1 && !s->real) {
        fprintf(stderr, "usage: %s [--real]\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < N_TPL; i++) { /* ten small static files */
        TPL[i] = (tpl_t){"GET", "", 8, 0.3, 0.2, NULL};
        /* Not "/static/0": a path segment of digits is an id, and
         * slate_path_normalize() would make all ten one "/static/{id}". */
        snprintf(TPL[i].path, sizeof TPL[i].path, "/static/%d.css", i - 2);
    }
    /* Any origin works: the library only compares times. */
    uint64_t start = s->real ? mono_ns() + 10 * MS : 5 * SEC;
    const proxy_config_t cfg = {"frontend", "frontend-7d9f-x2", REGIONS, N_REGIONS,
                                0,          TRACE_RATE,         42};
    size_t cap = 2200 * DURATION_S * 3 / 2;
    s->ev = malloc(cap * sizeof *s->ev);
    s->pending = malloc(cap * sizeof *s->pending);
    uint64_t *scratch = malloc(cap * sizeof *scratch);
    slate_stats_t *stats = malloc(sizeof *stats);
    if (!s->ev || !s->pending || !scratch || !stats || proxy_init(&s->proxy, &cfg, start) != 0)
        return 1;
    s->n_ev = generate(s->ev, cap, start, 7);
    printf("native-proxy: libslate %s, %s clock, %zu requests over %d s\n", slate_version_string(),
           s->real ? "CLOCK_MONOTONIC" : "simulated", s->n_ev, DURATION_S);

    const uint32_t w1[N_REGIONS] = {70, 20, 10}, w2[N_REGIONS] = {50, 50, 0};
    uint64_t prev = start, now = start, v2_at = 0; /* when v2 came into force */
    for (int k = 1; k <= DURATION_S; k++) {
        size_t first = s->next;
        if (replay_until(s, start + (uint64_t)k * SEC) != 0)
            return 1;
        now = clock_at(s, start + (uint64_t)k * SEC);
        complete_until(s, now);
        const uint8_t *buf;
        size_t len;
        slate_status st = proxy_report(&s->proxy, now, &buf, &len);
        if (!check(st == SLATE_OK, "report %d encodes: %s", k, slate_strerror(st)))
            break;
        check_report(s, buf, len, now, prev, first, scratch, stats);
        prev = now;

        /* The controller's answer: v1 after the first report; after the second, broken
         * variants of v2 (which must all leave v1 in force), then v2 itself. */
        answer_t a;
        if (k < 3 && make_answer(&a, (uint64_t)k, REGIONS, k == 1 ? w1 : w2, N_REGIONS, now)) {
            check_round_trip(&a);
            if (k == 2) {
                feed_bad_answers(s, &a, now);
                check_table(s, w1, 1, now);
            }
            check(proxy_apply_rules(&s->proxy, a.buf, a.len, now) == SLATE_OK, "rules v%d accepted",
                  k);
            check_table(s, k == 1 ? w1 : w2, (uint64_t)k, now);
            v2_at = now;
            free(a.buf);
        }
    }

    printf("cartservice GetCart calls by rules version: share per region (weight)\n");
    const uint32_t *want[3] = {NULL, w1, w2};
    for (int v = 0; v < 3; v++) {
        uint64_t n = s->drawn[v][0] + s->drawn[v][1] + s->drawn[v][2];
        double p[N_REGIONS], got[N_REGIONS];
        printf("  %-8s %5llu calls:", v ? (v == 1 ? "v1" : "v2") : "no rules",
               (unsigned long long)n);
        for (int r = 0; r < N_REGIONS; r++) {
            p[r] = v ? want[v][r] / 100.0 : r == 0; /* no rules: everything local */
            got[r] = n ? (double)s->drawn[v][r] / (double)n : 0;
            printf("  %s %5.1f%% (%4.1f)", REGIONS[r], 100 * got[r], 100 * p[r]);
        }
        printf("\n");
        for (int r = 0; r < N_REGIONS; r++) {
            /* Five standard deviations of a binomial share; a zero weight is never drawn. */
            double tol = 5 * sqrt(p[r] * (1 - p[r]) / (double)(n ? n : 1));
            check(n > 0 && fabs(got[r] - p[r]) <= tol, "v%d %s: %.4f, want %.4f +- %.4f", v,
                  REGIONS[r], got[r], p[r], tol);
        }
    }
    check(s->empty_cart_remote == 0, "EmptyCart has no rule: every call stays local");
    check(proxy_route(&s->proxy, "cartservice", "POST", GET_CART, now + 31 * SEC) == 0,
          "expired rules route locally");
    check_ttl(s, w1, w2, v2_at);

    /* Sampling is a hash of the trace id: its share is binomial around the rate. */
    double n = (double)s->tracked_requests, sampled = (double)s->spans_seen;
    check(slate_meter_drops(s->proxy.meter)->spans_dropped == 0 &&
              fabs(sampled - n * TRACE_RATE) <= 5 * sqrt(n * TRACE_RATE * (1 - TRACE_RATE)),
          "sampled %.0f of %.0f traces at rate %g", sampled, n, TRACE_RATE);
    printf("trace sampling: %.0f of %.0f requests sampled (rate %g); %llu bad traceparent "
           "headers started new traces\n",
           sampled, n, TRACE_RATE, (unsigned long long)s->proxy.bad_traceparents);

    proxy_free(&s->proxy);
    free(s->ev);
    free(s->pending);
    free(scratch);
    free(stats);
    printf("native-proxy: %d checks, %d failed\n", n_checks, n_failed);
    return n_failed ? 1 : 0;
}
