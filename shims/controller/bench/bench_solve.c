/*
 * Solve-round benchmark, in process: a synthetic mesh (mesh_gen.h) turned
 * straight into the snapshot the global controller's learning state would
 * hand its solver (ctl_solve_input_t: regions, RTT and prices, placement,
 * the regions file's capacities, per-endpoint loads and latency models, the
 * call graph with one call per parent request), then whole solver rounds
 * (ctl_solver_round_on) on it, with no HTTP and no report intake, so a
 * 1,000 x 16 mesh takes seconds instead of bench_scale's minutes.
 *
 * Per size it prints the round's parts (problem build from the snapshot,
 * the optimiser's LP build, CLP, post-processing into rules, the whole
 * round, and the thread's CPU time for it) for three methods on the same
 * snapshot: the full LP solved cold (the method before the reduction), the
 * reduced LP started from local-only routing (before the greedy start,
 * config.local_start) and the reduced LP now; then per round the CPU
 * ratios and the optimality gaps between the objectives, all evaluated by
 * the optimiser on the same problem. A second round on the same mesh with
 * the entry loads moved (the next window) shows the warm start. It never
 * asserts a time; it exits 1 when two optima differ by more than 1e-6
 * relative.
 *
 * Latency models: `flat` (the default) is what bench_scale's pods teach the
 * controller (constant latency per endpoint and region: 2 ms + 3 ms per
 * call made); `curved` gives every (endpoint, region) a queueing-like
 * quadratic so that every PWL segment is distinct.
 *
 * --window instead measures the window close (ctl_state_tick) on the
 * learning state of the same mesh, fed with its pods' reports (below).
 *
 * Usage: bench_solve [--services N --regions R] [--seed S] [--curve flat|curved]
 *                    [--segments K] [--no-full] [--window]
 * Without --services it runs 10x3, 30x4, 100x8, 300x16 and 1000x16 (with
 * --window: 1000x16).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_buf.h"
#include "ctl_config.h"
#include "ctl_json.h"
#include "ctl_log.h"
#include "ctl_metrics.h"
#include "ctl_problem.h"
#include "ctl_publish.h"
#include "ctl_regions.h"
#include "ctl_solver.h"
#include "ctl_state.h"
#include "mesh_gen.h"
#include "mesh_input.h"
#include "slate/codec.h"

typedef struct opts {
    unsigned services, regions;
    unsigned long long seed;
    bool curved, full, window;
    unsigned segments;
} opts_t;

/* One daemon's solving side, in process. */
typedef struct daemon {
    ctl_config_t cfg;
    ctl_metrics_t metrics;
    ctl_regions_file_t rf;
    ctl_state_t *state;
    ctl_publisher_t pub;
    ctl_solver_t *solver;
} daemon_t;

static daemon_t *daemon_new(const opts_t *o, bool full, bool local_start)
{
    daemon_t *d = mesh_zalloc(sizeof *d);
    ctl_config_defaults(&d->cfg);
    if (o->segments)
        d->cfg.segments = o->segments;
    d->cfg.solve_full_lp = full;
    d->cfg.solve_local_start = local_start;
    ctl_metrics_init(&d->metrics);
    ctl_publisher_init(&d->pub, &d->cfg, &d->metrics);
    d->state = ctl_state_create(&d->cfg, &d->metrics, &d->rf);
    d->solver = d->state ? ctl_solver_create(&d->cfg, d->state, &d->pub, &d->metrics) : NULL;
    if (!d->solver) {
        fprintf(stderr, "cannot create the solver\n");
        exit(2);
    }
    return d;
}

static void daemon_free(daemon_t *d)
{
    ctl_solver_free(d->solver);
    ctl_publisher_destroy(&d->pub);
    ctl_state_free(d->state);
    free(d);
}

/* CPU time of this thread, ms: on a shared machine a round's wall time
 * also counts the time other processes held the core. */
static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double ctl_now_ms_bench(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void print_round(const char *what, const ctl_solve_stats_t *s, double cpu_ms)
{
    printf("  %-19s problem %8.1f  lp-build %8.1f  clp %9.1f  post %8.1f  round %9.1f ms "
           "(cpu %9.1f ms)  rows %6u cols %7u of %7u nnz %7u iterations %6u pricing %2u%s  "
           "objective %.6f  %s\n",
           what, s->problem_ms, s->build_ms, s->solve_ms, s->post_ms, s->round_ms, cpu_ms, s->rows,
           s->columns, s->full_columns, s->nonzeros, s->iterations, s->pricing_rounds,
           s->warm_start ? " warm" : "", s->objective_proposed, s->last_outcome);
}

static double rel_gap(double a, double b)
{
    double den = fabs(a) > 1.0 ? fabs(a) : 1.0;
    return (b - a) / den;
}

static int run_size(const opts_t *o, unsigned n_services, unsigned n_regions)
{
    mesh_t m;
    if (mesh_generate(&m, n_services, n_regions, o->seed) != 0) {
        fprintf(stderr, "mesh_generate failed for %u x %u\n", n_services, n_regions);
        return 2;
    }
    size_t ne, nc, np;
    mesh_counts(&m, &ne, &nc, &np);
    printf("%u services x %u regions (seed %llu, %s curves, %zu endpoints, %zu calls)\n",
           n_services, n_regions, o->seed, o->curved ? "curved" : "flat", ne, nc);
    /* 0: the full LP; 1: the reduced LP from local routing (before the
     * greedy start); 2: the reduced LP now */
    enum { FULL, BEFORE, NOW, N_METHODS };
    ctl_solve_stats_t st[N_METHODS][2];
    double cpu[N_METHODS][2] = {{0}};
    memset(st, 0, sizeof st);
    const char *names[N_METHODS] = {"full LP", "reduced-local", "reduced"};
    for (int method = o->full ? FULL : BEFORE; method < N_METHODS; method++) {
        daemon_t *d = daemon_new(o, method == FULL, method == BEFORE);
        for (int round = 0; round < 2; round++) {
            ctl_solve_input_t *in = mesh_solve_input(&m, o->curved, round == 0 ? 1.0 : 1.1);
            double c0 = thread_cpu_ms();
            ctl_solver_round_on(d->solver, in,
                                1700000000000000000ull + (uint64_t)round * 2000000000ull);
            cpu[method][round] = thread_cpu_ms() - c0;
            ctl_solver_stats(d->solver, &st[method][round]);
            char what[32];
            snprintf(what, sizeof what, "%s %s", names[method], round ? "next" : "first");
            print_round(what, &st[method][round], cpu[method][round]);
            fflush(stdout);
        }
        daemon_free(d);
    }
    int rc = 0;
    for (int round = 0; round < 2; round++) {
        const ctl_solve_stats_t *f = &st[FULL][round], *b = &st[BEFORE][round],
                                *n = &st[NOW][round];
        printf("  round %d: reduced %.1f ms (cpu %.1f), reduced-local %.1f ms (cpu %.1f, %.1fx "
               "ours)",
               round + 1, n->round_ms, cpu[NOW][round], b->round_ms, cpu[BEFORE][round],
               cpu[NOW][round] > 0 ? cpu[BEFORE][round] / cpu[NOW][round] : 0);
        double gb = rel_gap(b->objective_proposed, n->objective_proposed);
        if (o->full) {
            double g = rel_gap(f->objective_proposed, n->objective_proposed);
            printf(", full %.1f ms (cpu %.1f, %.1fx ours); objective gap (reduced - full) / full "
                   "= %.2e",
                   f->round_ms, cpu[FULL][round],
                   cpu[NOW][round] > 0 ? cpu[FULL][round] / cpu[NOW][round] : 0, g);
            if (!(fabs(g) <= 1e-6))
                rc = 1;
        }
        printf(", (reduced - reduced-local) / reduced-local = %.2e\n", gb);
        if (!(fabs(gb) <= 1e-6))
            rc = 1;
    }
    mesh_free(&m);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* --window: the window close (ctl_state_tick) on the learning state the
 * global controller holds for the mesh: every pod's report of a tick (its
 * endpoints' requests and latency, one outbound entry per call, its share
 * of one sampled trace per entry endpoint and region, as bench_scale's
 * pods send) goes through the daemon's own decode and merge, then the
 * window closes; the close's wall and CPU time per tick are printed. */

typedef struct wspan {
    char trace[33], id[17], parent[17];
    uint32_t svc, ep, region;
    uint64_t start_ns, end_ns;
} wspan_t;

typedef struct wtraces {
    wspan_t *v;
    size_t n, cap;
    uint64_t seq;
} wtraces_t;

static uint64_t wspan_add(wtraces_t *t, const mesh_t *m, uint32_t svc, uint32_t ep, uint32_t region,
                          const char *trace, const char *parent, uint64_t start)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 4096;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        if (!t->v) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    size_t i = t->n++;
    wspan_t *w = &t->v[i];
    memcpy(w->trace, trace, 33);
    snprintf(w->id, sizeof w->id, "%016llx", (unsigned long long)++t->seq);
    snprintf(w->parent, sizeof w->parent, "%s", parent);
    w->svc = svc;
    w->ep = ep;
    w->region = region;
    w->start_ns = start;
    char me[17];
    memcpy(me, w->id, 17);
    uint64_t cursor = start + 500000;
    const mesh_endpoint_t *e = &m->svcs[svc].eps[ep];
    for (unsigned c = 0; c < e->n_calls; c++) {
        uint32_t d = mesh_serving_region(m, e->calls[c].svc, region);
        cursor = wspan_add(t, m, e->calls[c].svc, e->calls[c].ep, d, trace, me, cursor) + 100000;
    }
    t->v[i].end_ns = cursor + 500000;
    return t->v[i].end_ns;
}

static void wlatency(slate_latency_t *l, uint64_t count, double ms)
{
    memset(l, 0, sizeof *l);
    uint64_t ns = (uint64_t)llround(ms * 1e6);
    l->count = count;
    l->sum_ns = ns * count;
    l->min_ns = l->max_ns = count ? ns : 0;
    l->mean_ns = count ? (double)ns : 0;
}

/* Encodes and ingests pod p of (svc, g) for the tick starting at now_ns. */
static void wpod(ctl_state_t *st, ctl_scratch_t *sc, const mesh_t *m, const wtraces_t *t,
                 const uint32_t *first, const uint32_t *next, uint32_t svc, uint32_t g, unsigned p,
                 uint64_t now_ns, double tick_s, uint64_t seq)
{
    static slate_inbound_t in[MESH_MAX_ENDPOINTS];
    static slate_outbound_t out[MESH_MAX_ENDPOINTS * MESH_MAX_FANOUT];
    static slate_span_t *spans;
    static slate_endpoint_load_t *loads;
    static size_t cap, enc_cap;
    static uint8_t *enc;
    const mesh_service_t *sv = &m->svcs[svc];
    unsigned pods = sv->pods[g];
    char pod[64];
    snprintf(pod, sizeof pod, "%s-%s-%u", sv->name, m->region[g], p);
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    r.service = slate_str(sv->name);
    r.region = slate_str(m->region[g]);
    r.pod = slate_str(pod);
    r.sequence = seq;
    r.time_ns = now_ns;
    r.interval_ns = (uint64_t)(tick_s * 1e9);
    size_t ni = 0, no = 0;
    for (unsigned e = 0; e < sv->n_eps; e++) {
        double rps = sv->eps[e].load[g] / pods;
        uint64_t n = (uint64_t)llround(rps * tick_s);
        slate_inbound_t *x = &in[ni++];
        x->method = slate_str("GET");
        x->path = slate_str(sv->eps[e].path);
        x->requests = n;
        x->rate_rps = rps;
        x->in_flight = 1;
        wlatency(&x->latency, n, 2.0 + 3.0 * sv->eps[e].n_calls);
        for (unsigned c = 0; c < sv->eps[e].n_calls && n; c++) {
            const mesh_call_t *call = &sv->eps[e].calls[c];
            slate_outbound_t *o = &out[no++];
            o->dst_service = slate_str(m->svcs[call->svc].name);
            o->method = slate_str("GET");
            o->path = slate_str(m->svcs[call->svc].eps[call->ep].path);
            o->dst_region = slate_str(m->region[mesh_serving_region(m, call->svc, g)]);
            o->requests = n;
            wlatency(&o->latency, n, 3.0);
        }
    }
    size_t ns = 0;
    for (uint32_t i = first[(size_t)svc * m->n_regions + g]; i != UINT32_MAX; i = next[i]) {
        if (i % pods != p)
            continue;
        if (ns == cap) {
            cap = cap ? 2 * cap : 64;
            spans = realloc(spans, cap * sizeof *spans);
            loads = realloc(loads, cap * sizeof *loads);
            if (!spans || !loads) {
                fprintf(stderr, "out of memory\n");
                exit(2);
            }
        }
        const wspan_t *w = &t->v[i];
        slate_span_t *sp = &spans[ns];
        memset(sp, 0, sizeof *sp);
        sp->trace_id = slate_str(w->trace);
        sp->span_id = slate_str(w->id);
        sp->parent_span_id = slate_str(w->parent);
        sp->method = slate_str("GET");
        sp->path = slate_str(sv->eps[w->ep].path);
        sp->start_ns = w->start_ns;
        sp->end_ns = w->end_ns;
        sp->body_size = 512;
        slate_endpoint_load_t *ld = &loads[ns];
        ld->method = sp->method;
        ld->path = sp->path;
        ld->rps = sv->eps[w->ep].load[g] / pods;
        ld->in_flight = 1;
        sp->n_load = 1;
        ns++;
    }
    for (size_t i = 0; i < ns; i++) /* after the last realloc */
        spans[i].load = &loads[i];
    r.inbound = in;
    r.n_inbound = ni;
    r.outbound = out;
    r.n_outbound = no;
    r.spans = spans;
    r.n_spans = ns;
    r.span_loads = loads;
    r.n_span_loads = ns;
    size_t need = 0;
    if (slate_load_report_encode(&r, NULL, 0, &need, NULL) != SLATE_ENOSPC)
        exit(2);
    if (need > enc_cap) {
        enc_cap = 2 * need;
        enc = realloc(enc, enc_cap);
    }
    size_t len = 0;
    if (!enc || slate_load_report_encode(&r, enc, enc_cap, &len, NULL) != SLATE_OK)
        exit(2);
    slate_codec_limits_t lim = SLATE_CODEC_LIMITS_DEFAULT;
    slate_codec_error_t err;
    slate_load_report_t *dec = NULL;
    ctl_ingest_info_t info;
    if (ctl_scratch_decode(sc, enc, len, &lim, &err, &dec) != SLATE_OK ||
        ctl_state_ingest(st, sc, dec, false, true, now_ns, &info) != 0) {
        fprintf(stderr, "a report was refused\n");
        exit(2);
    }
}

typedef struct view_job {
    ctl_state_t *st;
    uint64_t now;
    size_t bytes;
    double wall_ms, cpu_ms;
    atomic_bool done;
} view_job_t;

static void *view_main(void *arg)
{
    view_job_t *job = arg;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    ctl_json_obj(&j);
    double w0 = ctl_now_ms_bench(), c0 = thread_cpu_ms();
    ctl_state_write_json(job->st, &j, job->now);
    job->wall_ms = ctl_now_ms_bench() - w0;
    job->cpu_ms = thread_cpu_ms() - c0;
    ctl_json_obj_end(&j);
    job->bytes = b.len;
    ctl_buf_free(&b);
    atomic_store(&job->done, true);
    return NULL;
}

static int run_window(const opts_t *o, unsigned n_services, unsigned n_regions)
{
    mesh_t m;
    if (mesh_generate(&m, n_services, n_regions, o->seed) != 0)
        return 2;
    size_t ne, nc, np;
    mesh_counts(&m, &ne, &nc, &np);
    printf("window close, %u services x %u regions (seed %llu, %zu endpoints, %zu calls, %zu "
           "pods)\n",
           n_services, n_regions, o->seed, ne, nc, np);
    ctl_log_set_level(CTL_LOG_WARN);
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    /* the global controller's settings in bench_scale */
    cfg.max_services = 2 * n_services + 16;
    cfg.max_edges = 100000;
    cfg.max_outbound = 2000000;
    cfg.pod_reports_per_s = 0;
    cfg.pod_share_factor = 0;
    cfg.max_clock_skew_ms = 0;
    double tick_s = 1.0 + (double)np / 8000.0;
    cfg.solve_period_ms = (uint64_t)(2000.0 * tick_s);
    ctl_metrics_t metrics;
    ctl_metrics_init(&metrics);
    ctl_regions_file_t rf;
    memset(&rf, 0, sizeof rf);
    ctl_state_t *st = ctl_state_create(&cfg, &metrics, &rf);
    ctl_scratch_t *sc = ctl_scratch_create();
    uint32_t *first = malloc((size_t)n_services * n_regions * sizeof *first);
    if (!st || !sc || !first)
        return 2;
    wtraces_t t = {0};
    uint32_t *next = NULL;
    uint64_t now = 1700000000000000000ull, seq = 0;
    ctl_solve_input_free(ctl_state_tick(st, now));
    for (unsigned tick = 0; tick < 8; tick++) {
        /* this tick's traces, bucketed by (service, region) */
        t.n = 0;
        for (uint32_t s = 0; s < m.n_services && m.svcs[s].level == 0; s++)
            for (uint32_t e = 0; e < m.svcs[s].n_eps; e++)
                for (uint32_t g = 0; g < n_regions; g++) {
                    char trace[33];
                    snprintf(trace, sizeof trace, "%016llx%016llx", o->seed,
                             (unsigned long long)(t.seq + 1));
                    wspan_add(&t, &m, s, e, g, trace, "", now - 50000000ull);
                }
        next = realloc(next, (t.n ? t.n : 1) * sizeof *next);
        if (!next)
            return 2;
        memset(first, 0xff, (size_t)n_services * n_regions * sizeof *first);
        for (size_t i = t.n; i-- > 0;) {
            size_t b = (size_t)t.v[i].svc * n_regions + t.v[i].region;
            next[i] = first[b];
            first[b] = (uint32_t)i;
        }
        seq++;
        for (uint32_t s = 0; s < m.n_services; s++)
            for (uint32_t g = 0; g < n_regions; g++)
                for (unsigned p = 0; p < m.svcs[s].pods[g]; p++)
                    wpod(st, sc, &m, &t, first, next, s, g, p, now, tick_s, seq);
        now += (uint64_t)(tick_s * 1e9);
        if (tick % 2 == 1) {
            double c0 = thread_cpu_ms(), w0 = ctl_now_ms_bench();
            ctl_solve_input_t *in = ctl_state_tick(st, now);
            double w1 = ctl_now_ms_bench(), c1 = thread_cpu_ms();
            uint32_t nsv, nep, nrg, ned;
            ctl_state_counts(st, &nsv, &nep, &nrg, &ned);
            printf("  window %u: close %8.1f ms (cpu %8.1f ms); %u services, %u endpoints, %u "
                   "regions, %u edges\n",
                   tick / 2 + 1, w1 - w0, c1 - c0, nsv, nep, nrg, ned);
            fflush(stdout);
            ctl_solve_input_free(in);
        }
    }
    /* what an admin's GET /v1/state costs, and how long it keeps the
     * state's lock: another thread takes the lock every 0.2 ms meanwhile
     * (as reports and the window close do) and the longest wait is kept */
    view_job_t job = {.st = st, .now = now};
    pthread_t th;
    if (pthread_create(&th, NULL, view_main, &job) != 0)
        return 2;
    double longest = 0;
    while (!atomic_load(&job.done)) {
        uint32_t a, b, c, d;
        double w0 = ctl_now_ms_bench();
        ctl_state_counts(st, &a, &b, &c, &d);
        double waited = ctl_now_ms_bench() - w0;
        if (waited > longest)
            longest = waited;
        nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
    }
    pthread_join(th, NULL);
    printf("  /v1/state's state part: %zu bytes in %.1f ms (cpu %.1f ms); the longest wait for "
           "the state's lock meanwhile %.1f ms\n",
           job.bytes, job.wall_ms, job.cpu_ms, longest);
    free(t.v);
    free(next);
    free(first);
    ctl_scratch_free(sc);
    ctl_state_free(st);
    mesh_free(&m);
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o = {.seed = 1, .full = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--services") == 0 && v) {
            o.services = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--regions") == 0 && v) {
            o.regions = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--seed") == 0 && v) {
            o.seed = strtoull(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--segments") == 0 && v) {
            o.segments = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--curve") == 0 && v) {
            o.curved = strcmp(v, "curved") == 0;
            i++;
        } else if (strcmp(a, "--no-full") == 0) {
            o.full = false;
        } else if (strcmp(a, "--window") == 0) {
            o.window = true;
        } else {
            fprintf(stderr, "usage: bench_solve [--services N --regions R] [--seed S] "
                            "[--curve flat|curved] [--segments K] [--no-full] [--window]\n");
            return 2;
        }
    }
    int rc = 0;
    if (o.window)
        return run_window(&o, o.services ? o.services : 1000, o.regions ? o.regions : 16);
    if (o.services) {
        rc = run_size(&o, o.services, o.regions ? o.regions : 3);
    } else {
        static const unsigned sizes[][2] = {{10, 3}, {30, 4}, {100, 8}, {300, 16}, {1000, 16}};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            int r = run_size(&o, sizes[k][0], sizes[k][1]);
            if (r > rc)
                rc = r;
        }
    }
    return rc;
}
