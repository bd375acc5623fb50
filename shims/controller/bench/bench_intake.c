/*
 * Intake benchmark: reports per second and latency percentiles of
 * POST /v1/report on loopback, with realistic reports (50 inbound endpoints
 * with latency histograms, 20 outbound destinations, 100 sampled spans),
 * from N keep-alive connections run beside the daemon, and the daemon's peak
 * RSS (VmHWM).
 *
 * Baseline, measured in the same run with the same client: an HTTP server on
 * the same libmicrohttpd thread model that reads the body and answers 200
 * without doing anything (the floor any libmicrohttpd daemon pays). The ratio
 * is ours / floor. Every span carries a fresh trace id, so every span is new
 * to the daemon (nothing is deduplicated away); at these rates its span
 * admission stitches the share of traces its span table holds for their
 * window and sheds the rest, which each run prints (--span-admit-fill 0:
 * every span into the table).
 *
 * Usage: bench_intake [--connections N] [--seconds S] [--threads T] [--controller PATH] [--port P]
 *                     [--inproc N [--inproc-threads T]] [--compare PATH]
 * (--threads: HTTP threads of both servers, default 2)
 * (--spin-client 1: every connection's thread polls for its answer with
 *  non-blocking reads instead of sleeping in read(); use with few
 *  --connections, each spins on a CPU. Shows what waking the load
 *  generator costs the daemon, see read_answer())
 * (--floor-work-us U: the floor burns U us of CPU per request before it
 *  answers, so it runs at about our rate: the kernel's and libmicrohttpd's
 *  cost per report depends on the rate, falling as requests batch up)
 * (--span-admit-fill F: the span admission's fill for the state in process
 *  and for every daemon started, --compare's too; 0 stitches every span.
 *  Each run prints how many spans the daemon shed with their traces)
 * (--port: drive a daemon already listening there, no baseline; for profiling)
 * (--compare PATH: also a second controller binary, e.g. one built from an
 *  earlier commit, measured the same way between our two runs, printed
 *  beside ours)
 * (--inproc N: no HTTP: N reports decoded, checked and merged in this process
 *  through the daemon's own intake functions, on T threads (default 1)
 *  into one state; prints CPU per report and reports/s. Deterministic, so it is what `valgrind
 * --tool=callgrind
 *  --toggle-collect=inproc_measure` counts instructions on.)
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_app.h"
#include "ctl_intake.h"
#include "ctl_log.h"
#include "slate/codec.h"
#include "slate/stats.h"

#include "bench_proc.h"

#ifndef SLATE_CONTROLLER_BIN
#define SLATE_CONTROLLER_BIN "slate-controller"
#endif

#define N_REPORTS  64 /* distinct report templates */
#define N_INBOUND  50
#define N_OUTBOUND 20
#define N_SPANS    100

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------- */
/* Reports */

typedef struct tmpl {
    uint8_t *buf;
    size_t len;
    size_t trace_off[N_SPANS]; /* offsets of the 32-hex-digit trace ids */
} tmpl;

static char g_strings[N_REPORTS][N_INBOUND + N_OUTBOUND + 4 * N_SPANS + 8][64];

static void build_report(int k, tmpl *t)
{
    static slate_inbound_t in[N_INBOUND];
    static slate_outbound_t out[N_OUTBOUND];
    static slate_span_t spans[N_SPANS];
    static slate_endpoint_load_t loads[N_SPANS];
    static slate_stats_t st_in[N_INBOUND], st_out[N_OUTBOUND];
    char(*s)[64] = g_strings[k];
    int si = 0;
    slate_load_report_t r;
    memset(&r, 0, sizeof(r));
    snprintf(s[si], 64, "service-%d", k % 16);
    r.service = slate_str(s[si++]);
    snprintf(s[si], 64, "region-%d", k % 3);
    r.region = slate_str(s[si++]);
    snprintf(s[si], 64, "service-%d-7d9f8c-%d", k % 16, k);
    r.pod = slate_str(s[si++]);
    r.sequence = (uint64_t)k + 1;
    r.time_ns = 1700000000000000000ull;
    r.interval_ns = 1000000000ull;
    for (int i = 0; i < N_INBOUND; i++) {
        slate_stats_init(&st_in[i]);
        for (int v = 0; v < 40; v++)
            slate_stats_add(&st_in[i], 2000000u + (uint64_t)v * 100000u + (uint64_t)i * 1000u);
        snprintf(s[si], 64, "/api/v1/resource%d/items/%d", i, 1000 + i);
        in[i].method = slate_str(i % 3 ? "GET" : "POST");
        in[i].path = slate_str(s[si++]);
        in[i].requests = 100 + (uint64_t)i;
        in[i].rate_rps = 100.5 + i;
        in[i].in_flight = (uint64_t)(i % 7);
        slate_latency_from_stats(&in[i].latency, &st_in[i]);
    }
    for (int i = 0; i < N_OUTBOUND; i++) {
        slate_stats_init(&st_out[i]);
        for (int v = 0; v < 30; v++)
            slate_stats_add(&st_out[i], 3000000u + (uint64_t)v * 150000u);
        snprintf(s[si], 64, "/hipstershop.Service%d/Method%d", i % 8, i);
        out[i].dst_service = slate_str(i % 2 ? "cartservice" : "productcatalogservice");
        out[i].method = slate_str("POST");
        out[i].path = slate_str(s[si++]);
        out[i].dst_region = slate_str(i % 3 == 0   ? "region-0"
                                      : i % 3 == 1 ? "region-1"
                                                   : "region-2");
        out[i].requests = 50 + (uint64_t)i;
        slate_latency_from_stats(&out[i].latency, &st_out[i]);
    }
    for (int i = 0; i < N_SPANS; i++) {
        snprintf(s[si], 64, "%032x", (unsigned)(k * N_SPANS + i));
        spans[i].trace_id = slate_str(s[si++]);
        snprintf(s[si], 64, "%016x", (unsigned)(k * 1000 + i) * 2u + 1u);
        spans[i].span_id = slate_str(s[si++]);
        snprintf(s[si], 64, "%016x", (unsigned)(k * 1000 + i) * 2u);
        spans[i].parent_span_id = slate_str(i % 2 ? s[si] : "");
        si++;
        spans[i].method = in[i % N_INBOUND].method;
        spans[i].path = in[i % N_INBOUND].path;
        spans[i].start_ns = 1700000000000000000ull + (uint64_t)i * 1000000u;
        spans[i].end_ns = spans[i].start_ns + 4000000u;
        spans[i].body_size = 512;
        loads[i].method = spans[i].method;
        loads[i].path = spans[i].path;
        loads[i].rps = 100.5 + i % N_INBOUND;
        loads[i].in_flight = 3;
        spans[i].load = &loads[i];
        spans[i].n_load = 1;
    }
    r.inbound = in;
    r.n_inbound = N_INBOUND;
    r.outbound = out;
    r.n_outbound = N_OUTBOUND;
    r.spans = spans;
    r.n_spans = N_SPANS;
    r.span_loads = loads;
    r.n_span_loads = N_SPANS;
    size_t need = 0;
    if (slate_load_report_encode(&r, NULL, 0, &need, NULL) != SLATE_ENOSPC) {
        fprintf(stderr, "sizing failed\n");
        exit(1);
    }
    t->buf = malloc(need);
    if (!t->buf || slate_load_report_encode(&r, t->buf, need, &t->len, NULL) != SLATE_OK) {
        fprintf(stderr, "encode failed\n");
        exit(1);
    }
    for (int i = 0; i < N_SPANS; i++) {
        uint8_t *p = memmem(t->buf, t->len, spans[i].trace_id.ptr, 32);
        if (!p) {
            fprintf(stderr, "trace id not found\n");
            exit(1);
        }
        t->trace_off[i] = (size_t)(p - t->buf);
    }
}

/* ------------------------------------------------------------------------- */
/* Load generator: one thread per keep-alive connection */

typedef struct worker {
    pthread_t th;
    int id;
    uint16_t port;
    const tmpl *tmpls;
    uint64_t *lat; /* latencies, ns */
    size_t n_lat, cap_lat;
    uint64_t done, errors;
} worker;

static atomic_int g_phase; /* 0 warmup, 1 measure, 2 stop */

/* --spin-client: the load generator polls for answers instead of sleeping */
static bool g_spin;

/* read(2), or with --spin-client a loop of non-blocking reads: a thread that
 * never sleeps in read() needs no wake-up when the answer arrives. (On a
 * virtual machine, waking a sleeping thread on the other vCPU costs the
 * sender an inter-processor interrupt: over loopback, that sender is the
 * daemon, and the cost lands in its system time.) */
static ssize_t read_answer(int fd, void *buf, size_t n)
{
    if (!g_spin)
        return read(fd, buf, n);
    for (;;) {
        ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
        if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return r;
    }
}

/* Reads one HTTP response; returns its status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    char *hend = NULL;
    while (!hend) {
        ssize_t r = read_answer(fd, buf + have, cap - have - 1);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        hend = strstr(buf, "\r\n\r\n");
        if (!hend && have >= cap - 1)
            return -1;
    }
    int status = atoi(buf + 9);
    char *cl = strcasestr(buf, "content-length:");
    size_t body = cl && cl < hend ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
    size_t total = (size_t)(hend + 4 - buf) + body;
    while (have < total) {
        size_t want = total - have;
        char sink[65536];
        ssize_t r = read_answer(fd, sink, want < sizeof(sink) ? want : sizeof(sink));
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    return status;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    /* own copies, so trace ids can be rewritten per request */
    uint8_t *bufs[N_REPORTS];
    for (int k = 0; k < N_REPORTS; k++) {
        bufs[k] = malloc(w->tmpls[k].len);
        memcpy(bufs[k], w->tmpls[k].buf, w->tmpls[k].len);
    }
    int fd = dial(w->port);
    char resp[65536];
    uint64_t seq = 0;
    while (fd >= 0 && atomic_load(&g_phase) < 2) {
        int k = (int)((seq + (uint64_t)w->id * 7) % N_REPORTS);
        const tmpl *t = &w->tmpls[k];
        /* a fresh trace id for every span: the template's ids differ per span in
         * their last digits; the first 16 carry (worker, request number) */
        char prefix[17];
        static const char hexd[] = "0123456789abcdef";
        uint64_t v = ((uint64_t)w->id << 48) ^ seq;
        for (int d = 15; d >= 0; d--, v >>= 4)
            prefix[d] = hexd[v & 15];
        for (int i = 0; i < N_SPANS; i++)
            memcpy(bufs[k] + t->trace_off[i], prefix, 16);
        char head[256];
        int hn = snprintf(head, sizeof(head),
                          "POST /v1/report HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                          t->len);
        struct iovec iov[2] = {{head, (size_t)hn}, {bufs[k], t->len}};
        uint64_t t0 = mono_ns();
        size_t total = (size_t)hn + t->len, sent = 0;
        bool ok = true;
        while (sent < total) {
            ssize_t n = writev(fd, iov, 2);
            if (n <= 0) {
                ok = false;
                break;
            }
            sent += (size_t)n;
            size_t adv = (size_t)n;
            for (int i = 0; i < 2 && adv; i++) {
                size_t take = adv < iov[i].iov_len ? adv : iov[i].iov_len;
                iov[i].iov_base = (char *)iov[i].iov_base + take;
                iov[i].iov_len -= take;
                adv -= take;
            }
        }
        int status = ok ? read_response(fd, resp, sizeof(resp)) : -1;
        uint64_t dt = mono_ns() - t0;
        seq++;
        if (status != 200) {
            w->errors++;
            close(fd);
            fd = dial(w->port);
            continue;
        }
        if (atomic_load(&g_phase) == 1) {
            if (w->n_lat == w->cap_lat) {
                w->cap_lat = w->cap_lat ? w->cap_lat * 2 : 65536;
                w->lat = realloc(w->lat, w->cap_lat * sizeof(uint64_t));
            }
            w->lat[w->n_lat++] = dt;
            w->done++;
        }
    }
    if (fd >= 0)
        close(fd);
    for (int k = 0; k < N_REPORTS; k++)
        free(bufs[k]);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double rps;
    double p50_us, p99_us, p999_us;
    uint64_t errors;
} result;

static result run_load(uint16_t port, const tmpl *tmpls, int conns, double seconds)
{
    worker *ws = calloc((size_t)conns, sizeof(worker));
    atomic_store(&g_phase, 0);
    for (int i = 0; i < conns; i++) {
        ws[i].id = i;
        ws[i].port = port;
        ws[i].tmpls = tmpls;
        pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
    }
    usleep(1000000); /* warm-up */
    atomic_store(&g_phase, 1);
    uint64_t t0 = mono_ns();
    usleep((useconds_t)(seconds * 1e6));
    uint64_t t1 = mono_ns();
    atomic_store(&g_phase, 2);
    size_t n = 0;
    result res;
    memset(&res, 0, sizeof(res));
    for (int i = 0; i < conns; i++) {
        pthread_join(ws[i].th, NULL);
        n += ws[i].n_lat;
        res.errors += ws[i].errors;
    }
    uint64_t *all = malloc((n ? n : 1) * sizeof(uint64_t));
    size_t o = 0;
    for (int i = 0; i < conns; i++) {
        memcpy(all + o, ws[i].lat, ws[i].n_lat * sizeof(uint64_t));
        o += ws[i].n_lat;
        free(ws[i].lat);
    }
    qsort(all, n, sizeof(uint64_t), cmp_u64);
    res.rps = (double)n / ((double)(t1 - t0) / 1e9);
    if (n) {
        res.p50_us = (double)all[(size_t)(0.50 * (double)(n - 1))] / 1e3;
        res.p99_us = (double)all[(size_t)(0.99 * (double)(n - 1))] / 1e3;
        res.p999_us = (double)all[(size_t)(0.999 * (double)(n - 1))] / 1e3;
    }
    free(all);
    free(ws);
    return res;
}

/* ------------------------------------------------------------------------- */
/* In process: the daemon's intake functions without HTTP */

/* Rewrites the trace ids of buf (template t) so that report number seq
 * stitches fresh spans, as the load generator does. */
static void fresh_traces(uint8_t *buf, const tmpl *t, uint64_t seq)
{
    static const char hexd[] = "0123456789abcdef";
    char prefix[16];
    uint64_t v = seq;
    for (int d = 15; d >= 0; d--, v >>= 4)
        prefix[d] = hexd[v & 15];
    for (int i = 0; i < N_SPANS; i++)
        memcpy(buf + t->trace_off[i], prefix, 16);
}

/* n reports through decode, the door and the merge, as POST /v1/report
 * takes them; the number that failed. */
__attribute__((noinline)) static uint64_t
inproc_run(ctl_app_t *app, ctl_scratch_t *sc, uint8_t **bufs, const tmpl *tmpls, long n, long first)
{
    uint64_t failed = 0;
    for (long i = first; i < first + n; i++) {
        int k = (int)(i % N_REPORTS);
        fresh_traces(bufs[k], &tmpls[k], (uint64_t)i);
        slate_load_report_t *rep = NULL;
        ctl_intake_fault_t f;
        if (!ctl_intake_decode(app, sc, bufs[k], tmpls[k].len, &rep, &f) ||
            !ctl_intake_check(app, rep, &f) ||
            !ctl_intake_merge(app, sc, rep, CTL_INTAKE_REPORT, &f))
            failed++;
    }
    return failed;
}

/* The measured reports (after the warm-up): callgrind counts this function. */
__attribute__((noinline)) static uint64_t inproc_measure(ctl_app_t *app, ctl_scratch_t *sc,
                                                         uint8_t **bufs, const tmpl *tmpls, long n)
{
    uint64_t failed = inproc_run(app, sc, bufs, tmpls, n, 2 * N_REPORTS);
    __asm__ volatile("" ::: "memory"); /* not a tail call: callgrind sees it return */
    return failed;
}

static double thread_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One in-process intake thread: its own scratch and report copies, as an
 * HTTP thread has. */
typedef struct inproc_worker {
    pthread_t th;
    ctl_app_t *app;
    const tmpl *tmpls;
    long n, first;
    pthread_barrier_t *start;
    uint64_t failed;
    double cpu_s;
} inproc_worker;

static void *inproc_main(void *arg)
{
    inproc_worker *w = arg;
    ctl_scratch_t *sc = ctl_scratch_create();
    uint8_t *bufs[N_REPORTS];
    for (int k = 0; k < N_REPORTS; k++) {
        bufs[k] = malloc(w->tmpls[k].len);
        memcpy(bufs[k], w->tmpls[k].buf, w->tmpls[k].len);
    }
    /* warm: the scratch has grown, its caches hold the templates' endpoints */
    if (!sc)
        w->failed = 1;
    else
        w->failed = inproc_run(w->app, sc, bufs, w->tmpls, N_REPORTS, w->first - N_REPORTS);
    pthread_barrier_wait(w->start);
    double c0 = thread_cpu_s();
    if (sc)
        w->failed += w->first == 2 * N_REPORTS
                         ? inproc_measure(w->app, sc, bufs, w->tmpls, w->n)
                         : inproc_run(w->app, sc, bufs, w->tmpls, w->n, w->first);
    w->cpu_s = thread_cpu_s() - c0;
    for (int k = 0; k < N_REPORTS; k++)
        free(bufs[k]);
    ctl_scratch_free(sc);
    return NULL;
}

/* What a state did with the spans (a daemon's from its /metrics): received,
 * and shed as traces left out of the sample its span table holds
 * (span-admit-fill). */
typedef struct span_fate {
    double received, shed, admit_ratio; /* NAN: not reported */
} span_fate;

static span_fate spans_of(uint16_t port)
{
    span_fate f = {NAN, NAN, NAN};
    buf_t b = {0};
    if (http_get(port, "/metrics", &b) == 200) {
        f.received = metric_value(b.p, "slate_controller_spans_received_total");
        f.shed = metric_value(b.p, "slate_controller_spans_shed_total");
        f.admit_ratio = metric_value(b.p, "slate_controller_span_admit_ratio");
    }
    free(b.p);
    return f;
}

static void print_spans(const char *who, span_fate f)
{
    if (isnan(f.shed))
        printf("spans, %s: %.0f received, every one put in the span table (no span admission)\n",
               who, f.received);
    else
        printf("spans, %s: %.0f received, %.0f of them (%.1f%%) shed with their traces, "
               "admitting %.2f%% of traces at the end\n",
               who, f.received, f.shed, f.received > 0 ? 100 * f.shed / f.received : 0,
               100 * f.admit_ratio);
}

/* --span-admit-fill, for the state in process and every daemon started ("":
 * their default) */
static const char *g_admit_fill = "";

/* n reports over `threads` threads into one state. */
static int run_inproc(const tmpl *tmpls, long n, int threads)
{
    static ctl_app_t app;
    ctl_log_set_level(CTL_LOG_ERROR);
    ctl_config_defaults(&app.cfg);
    if (*g_admit_fill)
        app.cfg.span_admit_fill = atof(g_admit_fill);
    app.cfg.pod_reports_per_s = 0; /* as the HTTP run: no per-pod report rate */
    app.cfg.max_clock_skew_ms = 0; /* the templates are timed in 2023 */
    ctl_metrics_init(&app.metrics);
    app.state = ctl_state_create(&app.cfg, &app.metrics, NULL);
    if (!app.state) {
        fprintf(stderr, "cannot create the state\n");
        return 1;
    }
    /* the state's tables hold every template's names before the clock starts */
    ctl_scratch_t *sc = ctl_scratch_create();
    uint8_t *bufs[N_REPORTS];
    for (int k = 0; k < N_REPORTS; k++) {
        bufs[k] = malloc(tmpls[k].len);
        memcpy(bufs[k], tmpls[k].buf, tmpls[k].len);
    }
    uint64_t failed = sc ? inproc_run(&app, sc, bufs, tmpls, N_REPORTS, 0) : 1;
    for (int k = 0; k < N_REPORTS; k++)
        free(bufs[k]);
    ctl_scratch_free(sc);
    inproc_worker *ws = calloc((size_t)threads, sizeof(*ws));
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    long per = n / threads;
    for (int t = 0; t < threads; t++) {
        ws[t].app = &app;
        ws[t].tmpls = tmpls;
        ws[t].n = per;
        /* distinct trace ids per thread; thread 0's run is the one callgrind counts */
        ws[t].first = 2 * N_REPORTS + (long)t * (per + N_REPORTS);
        ws[t].start = &start;
        pthread_create(&ws[t].th, NULL, inproc_main, &ws[t]);
    }
    pthread_barrier_wait(&start);
    uint64_t t0 = mono_ns();
    double cpu = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(ws[t].th, NULL);
        failed += ws[t].failed;
        cpu += ws[t].cpu_s;
    }
    uint64_t t1 = mono_ns();
    long done = per * threads;
    printf("in process, %d thread%s: %ld reports, %.2f us CPU per report, %.0f reports/s, %" PRIu64
           " refused\n",
           threads, threads == 1 ? "" : "s", done, cpu / (double)(done > 0 ? done : 1) * 1e6,
           (double)done / ((double)(t1 - t0 > 0 ? t1 - t0 : 1) / 1e9), failed);
    ctl_lock_counts_t lc;
    ctl_state_lock_counts(app.state, &lc);
    printf("  locks: service shards taken %" PRIu64 " times, found taken %.1f%%; span table taken "
           "%" PRIu64 " times, found taken %.1f%%; whole state for %" PRIu64 " reports\n",
           lc.shard_taken,
           100.0 * (double)lc.shard_waited / (double)(lc.shard_taken ? lc.shard_taken : 1),
           lc.span_taken,
           100.0 * (double)lc.span_waited / (double)(lc.span_taken ? lc.span_taken : 1),
           lc.exclusive);
    char who[64];
    snprintf(who, sizeof(who), "in process (span-admit-fill %g)", app.cfg.span_admit_fill);
    print_spans(who, (span_fate){(double)atomic_load(&app.metrics.spans_received),
                                 (double)atomic_load(&app.metrics.spans_shed),
                                 ctl_metrics_get_f64(&app.metrics.span_admit_bits)});
    pthread_barrier_destroy(&start);
    free(ws);
    ctl_state_free(app.state);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------------------------- */
/* The floor: a libmicrohttpd server that reads the body and does nothing */

/* --floor-work-us: CPU the floor burns per request before answering (0: none) */
static uint64_t g_floor_work_ns;

static enum MHD_Result floor_handler(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version, const char *upload,
                                     size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    static int marker;
    if (!*con_cls) {
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (g_floor_work_ns) { /* stand-in for a handler's work, so the floor runs at our rate */
        uint64_t t0 = mono_ns();
        while (mono_ns() - t0 < g_floor_work_ns)
            ;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static int g_server_threads = 2;

static pid_t start_floor(uint16_t *port)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        struct MHD_Daemon *d = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, floor_handler, NULL,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)g_server_threads, MHD_OPTION_CONNECTION_LIMIT,
            1024u, MHD_OPTION_END);
        uint16_t p = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port : 0;
        if (write(pfd[1], &p, sizeof(p)) != (ssize_t)sizeof(p))
            _exit(1);
        close(pfd[1]);
        for (;;)
            pause();
    }
    close(pfd[1]);
    if (read(pfd[0], port, sizeof(*port)) != (ssize_t)sizeof(*port))
        *port = 0;
    close(pfd[0]);
    return pid;
}

/* ------------------------------------------------------------------------- */
/* The daemon */

static pid_t start_daemon(const char *bin, uint16_t *port)
{
    char portfile[] = "/tmp/bench_intake_port_XXXXXX";
    int fd = mkstemp(portfile);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(portfile);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        char threads[16];
        snprintf(threads, sizeof(threads), "%d", g_server_threads);
        /* all load comes from one address and a few pods posting as fast as they can:
         * no per-client connection limit and no per-pod report rate */
        execl(bin, bin, "--port", "0", "--port-file", portfile, "--log-level", "warn",
              "--solve-period-ms", "1000", "--threads", threads, "--max-connections-per-client",
              "0", "--pod-reports-per-s", "0", *g_admit_fill ? "--span-admit-fill" : (char *)NULL,
              g_admit_fill, (char *)NULL);
        _exit(127);
    }
    *port = 0;
    for (int i = 0; i < 200 && *port == 0; i++) {
        usleep(20000);
        FILE *f = fopen(portfile, "r");
        if (f) {
            unsigned p = 0;
            if (fscanf(f, "%u", &p) == 1)
                *port = (uint16_t)p;
            fclose(f);
        }
    }
    unlink(portfile);
    return pid;
}

int main(int argc, char **argv)
{
    const char *bin = SLATE_CONTROLLER_BIN;
    int conns = 8;
    double seconds = 5;
    int external_port = 0;      /* drive a daemon that is already running (for profiling) */
    long inproc = -1;           /* decode, check and merge in this process, no HTTP */
    const char *compare = NULL; /* another controller binary, measured beside ours */
    int inproc_threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connections") == 0)
            conns = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--controller") == 0)
            bin = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            external_port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--compare") == 0)
            compare = argv[i + 1];
        else if (strcmp(argv[i], "--inproc-threads") == 0)
            inproc_threads = atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 1;
        else if (strcmp(argv[i], "--inproc") == 0)
            inproc = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--spin-client") == 0)
            g_spin = atoi(argv[i + 1]) != 0;
        else if (strcmp(argv[i], "--floor-work-us") == 0)
            g_floor_work_ns = (uint64_t)(atof(argv[i + 1]) * 1000.0);
        else if (strcmp(argv[i], "--span-admit-fill") == 0)
            g_admit_fill = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            g_server_threads = atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 2;
    }
    if (conns < 1)
        conns = 1;
    signal(SIGPIPE, SIG_IGN);
    static tmpl tmpls[N_REPORTS];
    size_t total = 0;
    for (int k = 0; k < N_REPORTS; k++) {
        build_report(k, &tmpls[k]);
        total += tmpls[k].len;
    }
    printf("intake benchmark: %d keep-alive connections, %.0f s per run, %d server threads, on "
           "%ld CPUs\n",
           conns, seconds, g_server_threads, sysconf(_SC_NPROCESSORS_ONLN));
    printf("report: %d inbound endpoints (with histograms), %d outbound, %d spans; %zu bytes on "
           "average\n",
           N_INBOUND, N_OUTBOUND, N_SPANS, total / N_REPORTS);

    if (inproc >= 0) {
        int rc = run_inproc(tmpls, inproc, inproc_threads);
        for (int k = 0; k < N_REPORTS; k++)
            free(tmpls[k].buf);
        return rc;
    }
    if (external_port > 0) {
        result r = run_load((uint16_t)external_port, tmpls, conns, seconds);
        printf("port %d: %.0f reports/s, p50 %.1f us, p99 %.1f us, %" PRIu64 " errors\n",
               external_port, r.rps, r.p50_us, r.p99_us, r.errors);
        return 0;
    }
    uint16_t fport = 0;
    pid_t fpid = start_floor(&fport);
    if (fpid <= 0 || fport == 0) {
        fprintf(stderr, "cannot start the baseline server\n");
        return 1;
    }
    double fu0, fs0, fu1, fs1;
    proc_cpu_split(fpid, &fu0, &fs0);
    result base = run_load(fport, tmpls, conns, seconds);
    proc_cpu_split(fpid, &fu1, &fs1);
    kill(fpid, SIGKILL);
    waitpid(fpid, NULL, 0);

    uint16_t port = 0;
    pid_t pid = start_daemon(bin, &port);
    if (pid <= 0 || port == 0) {
        fprintf(stderr, "cannot start %s\n", bin);
        return 1;
    }
    long rss0 = proc_kb(pid, "VmRSS:");
    double u0, s0, u1, s1;
    proc_cpu_split(pid, &u0, &s0);
    result ours = run_load(port, tmpls, conns, seconds);
    proc_cpu_split(pid, &u1, &s1);
    double cpu0 = u0 + s0, cpu1 = u1 + s1;
    long hwm = proc_kb(pid, "VmHWM:");
    /* the other binary, between our two runs, so drift in the machine's load
     * falls on both */
    result other;
    span_fate other_spans = {NAN, NAN, NAN};
    double other_us = 0;
    memset(&other, 0, sizeof(other));
    if (compare) {
        uint16_t oport = 0;
        pid_t opid = start_daemon(compare, &oport);
        if (opid <= 0 || oport == 0) {
            fprintf(stderr, "cannot start %s\n", compare);
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
            return 1;
        }
        double oc0 = proc_cpu_s(opid);
        other = run_load(oport, tmpls, conns, seconds);
        double oc1 = proc_cpu_s(opid);
        other_us = (oc1 - oc0) / (other.rps * (seconds + 1)) * 1e6;
        other_spans = spans_of(oport);
        kill(opid, SIGTERM);
        waitpid(opid, NULL, 0);
    }
    /* a second run: peak RSS must not keep growing with more reports */
    double cpu2 = proc_cpu_s(pid);
    result ours2 = run_load(port, tmpls, conns, seconds);
    double cpu3 = proc_cpu_s(pid);
    long hwm2 = proc_kb(pid, "VmHWM:");
    span_fate our_spans = spans_of(port);
    kill(pid, SIGTERM);
    int wst = 0;
    waitpid(pid, &wst, 0);

    printf("\n%-34s %12s %10s %10s %10s %8s\n", "", "reports/s", "p50 us", "p99 us", "p99.9 us",
           "errors");
    char floor_name[64];
    if (g_floor_work_ns)
        snprintf(floor_name, sizeof(floor_name), "baseline: MHD server, %.0f us work",
                 (double)g_floor_work_ns / 1e3);
    else
        snprintf(floor_name, sizeof(floor_name), "baseline: empty MHD server (floor)");
    printf("%-34s %12.0f %10.1f %10.1f %10.1f %8" PRIu64 "\n", floor_name, base.rps, base.p50_us,
           base.p99_us, base.p999_us, base.errors);
    printf("%-34s %12.0f %10.1f %10.1f %10.1f %8" PRIu64 "\n", "slate-controller run 1", ours.rps,
           ours.p50_us, ours.p99_us, ours.p999_us, ours.errors);
    printf("%-34s %12.0f %10.1f %10.1f %10.1f %8" PRIu64 "\n", "slate-controller run 2", ours2.rps,
           ours2.p50_us, ours2.p99_us, ours2.p999_us, ours2.errors);
    if (compare)
        printf("%-34s %12.0f %10.1f %10.1f %10.1f %8" PRIu64 "\n", "--compare binary", other.rps,
               other.p50_us, other.p99_us, other.p999_us, other.errors);
    printf("ratio ours / floor (reports/s): %.2f\n", ours.rps / base.rps);
    if (compare)
        printf("--compare %s: %.1f us CPU per report; ours %.1f us (mean of runs 1 and 2)\n",
               compare, other_us,
               ((cpu1 - cpu0) / (ours.rps * (seconds + 1)) +
                (cpu3 - cpu2) / (ours2.rps * (seconds + 1))) /
                   2 * 1e6);
    /* CPU per report counts the warm-up second's reports too (1 s at the run's rate). */
    printf("daemon CPU: %.2f cores in run 1, %.1f us per report (run 1), %.1f us (run 2); "
           "intake bandwidth %.0f MB/s\n",
           (cpu1 - cpu0) / (seconds + 1), (cpu1 - cpu0) / (ours.rps * (seconds + 1)) * 1e6,
           (cpu3 - cpu2) / (ours2.rps * (seconds + 1)) * 1e6,
           ours.rps * (double)(total / N_REPORTS) / 1e6);
    /* where run 1's CPU went, and what the floor paid per report at its own (higher) rate */
    double n1 = ours.rps * (seconds + 1), nf = base.rps * (seconds + 1);
    printf("per report, run 1: user %.1f us, system %.1f us; floor: user %.1f us, system %.1f "
           "us\n",
           (u1 - u0) / n1 * 1e6, (s1 - s0) / n1 * 1e6, (fu1 - fu0) / nf * 1e6,
           (fs1 - fs0) / nf * 1e6);
    print_spans("ours (both runs)", our_spans);
    if (compare)
        print_spans("--compare", other_spans);
    printf("daemon RSS: %ld kB at start, peak (VmHWM) %ld kB after run 1, %ld kB after run 2\n",
           rss0, hwm, hwm2);
    printf("daemon exit: %s %d\n", WIFEXITED(wst) ? "code" : "signal",
           WIFEXITED(wst) ? WEXITSTATUS(wst) : WTERMSIG(wst));
    for (int k = 0; k < N_REPORTS; k++)
        free(tmpls[k].buf);
    return 0;
}
