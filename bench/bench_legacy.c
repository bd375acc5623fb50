/*
 * Parse throughput of SLATE's legacy text: libslate's decoders against a
 * straightforward split-based parser in the style of SLATE's own readers
 * (Python's body.split("\n"), line.split(" "), split("|"), split(","),
 * int(...): every piece copied into its own allocation), on the same bodies
 * in the same run:
 *   - a /proxyLoad body of a service with 50 endpoints and 100 sampled spans,
 *     each span carrying the load of all 50 endpoints, as SLATE's plugin sends;
 *   - a rules response of 200 lines, as SLATE's controller writes it.
 * Both parsers must agree on a checksum of what they read. Prints ns per body
 * (process CPU time, best of 5 rounds, so other load on the machine counts less),
 * MB/s and the ratio; asserts nothing about time.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slate/slate.h"

#define N_EP    50
#define N_SPANS 100
#define N_RULES 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------- */
/* Inputs */

static size_t make_proxyload(char *buf, size_t cap)
{
    char loads[N_EP * 96];
    size_t ll = 0;
    for (int e = 0; e < N_EP; e++)
        ll += (size_t)snprintf(loads + ll, sizeof loads - ll,
                               "POST@/hipstershop.Service%02d/Method%02d,%d,%d|", e % 12, e,
                               37 + e * 11, e % 4);
    size_t len = (size_t)snprintf(buf, cap, "%d\n%s\n", 4321, loads);
    for (int s = 0; s < N_SPANS; s++) {
        char parent[24] = "";
        if (s % 5)
            snprintf(parent, sizeof parent, "%016llx", 0x1000000000000000ull + (unsigned)s - 1);
        uint64_t start = 1709763447000ull + (uint64_t)s * 7;
        len += (size_t)snprintf(
            buf + len, cap - len,
            "us-west-1 frontend-us-west-1 POST /hipstershop.Service%02d/Method%02d "
            "%016llx%016llx %016llx %s %llu %llu %d %s\n",
            (s % N_EP) % 12, s % N_EP, 0xabcdef0123456789ull ^ (unsigned)s, 0x1ull + (unsigned)s,
            0x1000000000000000ull + (unsigned)s, parent, (unsigned long long)start,
            (unsigned long long)(start + 3 + s % 40), 100 + s, loads);
    }
    return len;
}

static size_t make_rules(char *buf, size_t cap)
{
    static const char *const regions[4] = {"us-west-1", "us-east-1", "us-central-1", "eu-west-1"};
    static const char *const frac[4] = {"0.4", "0.3", "0.2", "0.1"};
    size_t len = 0;
    for (int r = 0; r < N_RULES; r++)
        len += (size_t)snprintf(buf + len, cap - len,
                                "frontend@POST@/cart/checkout,svc%02d@POST@/hipstershop.Svc%02d/"
                                "Call%02d,us-west-1,%s,%s\n",
                                (r / 4) % 50, (r / 4) % 50, r / 4, regions[r % 4], frac[r % 4]);
    return len;
}

/* ------------------------------------------------------------------------- */
/* Baseline: split into freshly allocated pieces, as SLATE's readers do */

typedef struct {
    char **v;
    size_t n;
} pieces_t;

static pieces_t split_alloc(const char *s, size_t n, char sep)
{
    pieces_t p = {NULL, 0};
    size_t cap = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == sep) {
            if (p.n == cap) {
                cap = cap ? cap * 2 : 8;
                p.v = realloc(p.v, cap * sizeof *p.v);
            }
            char *piece = malloc(i - start + 1);
            memcpy(piece, s + start, i - start);
            piece[i - start] = '\0';
            p.v[p.n++] = piece;
            start = i + 1;
        }
    }
    return p;
}

static void free_pieces(pieces_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

typedef struct {
    char *method, *path;
    long long rps, inflight;
} base_load_t;

typedef struct {
    char *region, *service, *method, *path, *trace, *span, *parent;
    long long start, end, body;
    base_load_t *loads;
    size_t n_loads;
} base_span_t;

/* Parse "m@p,r,i|..." into allocated entries; returns the count. */
static size_t base_loads(const char *s, base_load_t **out)
{
    pieces_t ent = split_alloc(s, strlen(s), '|');
    size_t n = ent.n && ent.v[ent.n - 1][0] == '\0' ? ent.n - 1 : ent.n;
    base_load_t *l = calloc(n ? n : 1, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        pieces_t f = split_alloc(ent.v[i], strlen(ent.v[i]), ',');
        if (f.n == 3) {
            pieces_t mp = split_alloc(f.v[0], strlen(f.v[0]), '@');
            if (mp.n == 2) {
                l[i].method = strdup(mp.v[0]);
                l[i].path = strdup(mp.v[1]);
            }
            free_pieces(&mp);
            l[i].rps = strtoll(f.v[1], NULL, 10);
            l[i].inflight = strtoll(f.v[2], NULL, 10);
        }
        free_pieces(&f);
    }
    free_pieces(&ent);
    *out = l;
    return n;
}

static uint64_t baseline_proxyload(const char *body, size_t len)
{
    uint64_t sum = 0;
    pieces_t lines = split_alloc(body, len, '\n');
    long long total = strtoll(lines.v[0], NULL, 10);
    sum += (uint64_t)total;
    base_load_t *ep;
    size_t n_ep = base_loads(lines.v[1], &ep);
    base_span_t *spans = calloc(lines.n, sizeof *spans);
    size_t n_sp = 0;
    for (size_t i = 2; i < lines.n; i++) {
        if (lines.v[i][0] == '\0')
            continue;
        pieces_t f = split_alloc(lines.v[i], strlen(lines.v[i]), ' ');
        if (f.n == 11) {
            base_span_t *s = &spans[n_sp++];
            s->region = strdup(f.v[0]);
            s->service = strdup(f.v[1]);
            s->method = strdup(f.v[2]);
            s->path = strdup(f.v[3]);
            s->trace = strdup(f.v[4]);
            s->span = strdup(f.v[5]);
            s->parent = strdup(f.v[6]);
            s->start = strtoll(f.v[7], NULL, 10);
            s->end = strtoll(f.v[8], NULL, 10);
            s->body = strtoll(f.v[9], NULL, 10);
            s->n_loads = base_loads(f.v[10], &s->loads);
        }
        free_pieces(&f);
    }
    for (size_t i = 0; i < n_ep; i++) {
        sum += (uint64_t)ep[i].rps + (uint64_t)ep[i].inflight + strlen(ep[i].path);
        free(ep[i].method);
        free(ep[i].path);
    }
    free(ep);
    for (size_t i = 0; i < n_sp; i++) {
        base_span_t *s = &spans[i];
        sum += (uint64_t)(s->end - s->start) + (uint64_t)s->body + strlen(s->parent);
        for (size_t k = 0; k < s->n_loads; k++) {
            sum += (uint64_t)s->loads[k].rps + (uint64_t)s->loads[k].inflight +
                   strlen(s->loads[k].path);
            free(s->loads[k].method);
            free(s->loads[k].path);
        }
        free(s->loads);
        free(s->region);
        free(s->service);
        free(s->method);
        free(s->path);
        free(s->trace);
        free(s->span);
        free(s->parent);
    }
    free(spans);
    free_pieces(&lines);
    return sum;
}

static uint64_t baseline_rules(const char *body, size_t len)
{
    uint64_t sum = 0;
    pieces_t lines = split_alloc(body, len, '\n');
    for (size_t i = 0; i < lines.n; i++) {
        if (lines.v[i][0] == '\0')
            continue;
        pieces_t f = split_alloc(lines.v[i], strlen(lines.v[i]), ',');
        if (f.n == 5) {
            pieces_t src = split_alloc(f.v[0], strlen(f.v[0]), '@');
            pieces_t dst = split_alloc(f.v[1], strlen(f.v[1]), '@');
            double frac = strtod(f.v[4], NULL);
            if (src.n == 3 && dst.n == 3)
                sum += strlen(dst.v[2]) + strlen(f.v[3]) + (uint64_t)(frac * 1e6 + 0.5);
            free_pieces(&src);
            free_pieces(&dst);
        }
        free_pieces(&f);
    }
    free_pieces(&lines);
    return sum;
}

/* ------------------------------------------------------------------------- */
/* libslate */

static slate_inbound_t g_in[N_EP];
static slate_span_t g_sp[N_SPANS];
static slate_endpoint_load_t g_ld[N_SPANS * N_EP];
static slate_rule_t g_rules[N_RULES];
static slate_route_target_t g_tg[N_RULES];

static uint64_t ours_proxyload(const char *body, size_t len)
{
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    r.inbound = g_in;
    r.cap_inbound = N_EP;
    r.spans = g_sp;
    r.cap_spans = N_SPANS;
    r.span_loads = g_ld;
    r.cap_span_loads = N_SPANS * N_EP;
    uint64_t total;
    if (slate_legacy_proxyload_decode(&r, &total, body, len, NULL, NULL) != SLATE_OK) {
        fprintf(stderr, "decode failed\n");
        exit(1);
    }
    uint64_t sum = total;
    for (size_t i = 0; i < r.n_inbound; i++)
        sum += (uint64_t)r.inbound[i].rate_rps + r.inbound[i].in_flight + r.inbound[i].path.len;
    for (size_t i = 0; i < r.n_spans; i++) {
        const slate_span_t *s = &r.spans[i];
        sum += (s->end_ns - s->start_ns) / 1000000u + s->body_size + s->parent_span_id.len;
        for (size_t k = 0; k < s->n_load; k++)
            sum += (uint64_t)s->load[k].rps + s->load[k].in_flight + s->load[k].path.len;
    }
    return sum;
}

static uint64_t ours_rules(const char *body, size_t len)
{
    slate_routing_rules_t r;
    memset(&r, 0, sizeof r);
    r.rules = g_rules;
    r.cap_rules = N_RULES;
    r.targets = g_tg;
    r.cap_targets = N_RULES;
    if (slate_legacy_rules_decode(&r, body, len, NULL, NULL) != SLATE_OK) {
        fprintf(stderr, "rules decode failed\n");
        exit(1);
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < r.n_rules; i++)
        for (size_t k = 0; k < r.rules[i].n_targets; k++)
            sum += r.rules[i].path.len + r.rules[i].targets[k].region.len +
                   r.rules[i].targets[k].weight;
    return sum;
}

/* ------------------------------------------------------------------------- */

typedef uint64_t (*parse_fn)(const char *, size_t);

/* Best of 5 rounds of ~0.2 s each: ns per body. */
static double measure(parse_fn fn, const char *body, size_t len, uint64_t *check)
{
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        size_t iters = 0;
        double t0 = now_s(), t;
        uint64_t acc = 0;
        do {
            for (int k = 0; k < 16; k++)
                acc += fn(body, len);
            iters += 16;
            t = now_s();
        } while (t - t0 < 0.2);
        double ns = (t - t0) * 1e9 / (double)iters;
        if (ns < best)
            best = ns;
        *check = acc / iters;
    }
    return best;
}

static void row(const char *name, double ns, size_t len, double base_ns)
{
    printf("  %-40s %12.0f %10.1f", name, ns, (double)len / ns * 1e3);
    if (base_ns > 0)
        printf(" %8.1fx\n", base_ns / ns);
    else
        printf(" %9s\n", "1.0x");
}

int main(void)
{
    static char pl[1 << 20], rl[1 << 16];
    size_t pl_len = make_proxyload(pl, sizeof pl);
    size_t rl_len = make_rules(rl, sizeof rl);

    uint64_t c_base, c_ours;
    double b = measure(baseline_proxyload, pl, pl_len, &c_base);
    double o = measure(ours_proxyload, pl, pl_len, &c_ours);
    if (c_base != c_ours) {
        fprintf(stderr, "proxyLoad checksums differ: %llu vs %llu\n", (unsigned long long)c_base,
                (unsigned long long)c_ours);
        return 1;
    }
    printf("/proxyLoad body: %d endpoints, %d spans (each with %d load entries), %zu bytes\n", N_EP,
           N_SPANS, N_EP, pl_len);
    printf("  %-40s %12s %10s %9s\n", "parser", "ns/body", "MB/s", "speedup");
    row("split + malloc per piece (SLATE-style)", b, pl_len, 0);
    row("libslate slate_legacy_proxyload_decode", o, pl_len, b);

    double rb = measure(baseline_rules, rl, rl_len, &c_base);
    double ro = measure(ours_rules, rl, rl_len, &c_ours);
    if (c_base != c_ours) {
        fprintf(stderr, "rules checksums differ: %llu vs %llu\n", (unsigned long long)c_base,
                (unsigned long long)c_ours);
        return 1;
    }
    printf("\nrules response: %d lines, %zu bytes\n", N_RULES, rl_len);
    printf("  %-40s %12s %10s %9s\n", "parser", "ns/body", "MB/s", "speedup");
    row("split + malloc + strtod (SLATE-style)", rb, rl_len, 0);
    row("libslate slate_legacy_rules_decode", ro, rl_len, rb);
    return 0;
}
