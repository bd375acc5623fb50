/*
 * Scale benchmark: a synthetic mesh (mesh_gen.h) driven through real
 * controller processes on loopback, as a deployment runs them: one
 * `--role cluster` controller per region takes its pods' reports (one report
 * per pod per tick, encoded with the core codec, POST /v1/report) and
 * forwards to one global controller (`--upstream`), which solves.
 *
 * Per mesh size it prints: intake CPU per report at the cluster tier and per
 * forwarded item at the global tier (utime + stime deltas from /proc; the
 * global's figure includes its solves), reports/s per core at the cluster
 * tier, the global's last solve (build, LP, total ms; LP rows, columns,
 * non-zeros, from the admin port's /v1/state), peak RSS per process (VmHWM),
 * the bytes of the rules answer per proxy, and the time from a load change
 * (entry load tripled in region 0, past its callees' capacity there) to the
 * first proxy answer whose rules differ (resolution: one tick).
 *
 * It also checks what it measures, and fails (exit 1) when:
 * - a proxy's answer lacks a rule for a call its service makes from its
 *   region, or a rule's weights do not sum to 1,000,000, or a rule sends
 *   traffic to a region where the callee is not deployed;
 * - the routing in force leaves a region over capacity (the global's
 *   solve.overload_current_rps above 0.5 rps);
 * - the requests the global holds for the run (its per-endpoint window
 *   history) differ from the sum of the requests in the pods' reports (the
 *   cluster tier's aggregates must add up exactly); skipped, and said so,
 *   when the run outlasted the 16-window history.
 *
 * Usage: bench_scale [--services N --regions R] [--seed S] [--ticks T]
 *                    [--tick-ms MS] [--controller PATH] [--regions-out FILE]
 *                    [--change-ticks N] [--forward-ticks N] [--hold-s S]
 * Without --services it runs the sweep 10x3 .. 1000x16. --regions-out writes
 * the mesh's regions file and exits; --hold-s keeps each size's controllers
 * up that long after its run, with their ports printed. Every process it starts is stopped
 * before it returns; ports are ephemeral, loopback only.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mesh_gen.h"
#include "slate/codec.h"

#include "bench_proc.h"

#ifndef SLATE_CONTROLLER_BIN
#define SLATE_CONTROLLER_BIN "slate-controller"
#endif

#define WEIGHT_TOTAL 1000000u

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
    uint64_t now = mono_ns();
    if (t > now)
        usleep((useconds_t)((t - now) / 1000));
}

/* The number after "key": at or after `from` (NAN when absent). */
static double json_num(const char *from, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = from ? strstr(from, k) : NULL;
    return p ? strtod(p + strlen(k), NULL) : NAN;
}

/* ------------------------------------------------------------------------- */
/* Processes */

typedef struct proc {
    pid_t pid;
    uint16_t port, admin;
} proc_t;

/* The global controller's solve rounds so far (every outcome), from
 * /metrics; NaN when it does not answer. A round closes one window. */
static double solve_rounds(uint16_t admin, buf_t *b)
{
    if (http_get(admin, "/metrics", b) != 200)
        return NAN;
    double n = 0;
    static const char *const outcomes[] = {"ok", "failed", "skipped"};
    for (int i = 0; i < 3; i++) {
        char key[96];
        snprintf(key, sizeof key, "slate_controller_solves_total{outcome=\"%s\"}", outcomes[i]);
        n += metric_value(b->p, key); /* NAN when absent */
    }
    return n;
}

static uint16_t read_port(const char *file)
{
    unsigned p = 0;
    FILE *f = fopen(file, "r");
    if (f) {
        if (fscanf(f, "%u", &p) != 1)
            p = 0;
        fclose(f);
    }
    return (uint16_t)p;
}

static const char *g_bin = SLATE_CONTROLLER_BIN;
static unsigned g_hold_s;            /* keep the controllers up after a size, for inspection */
static unsigned g_change_ticks = 10; /* ticks the rules may take to follow the load change */
static unsigned g_forward_ticks = 1; /* the cluster controllers' forward period, in ticks */

/* Starts the controller with the common flags plus `extra` (NULL-ended). */
static int start_proc(proc_t *p, const char *dir, const char *tag, unsigned max_services,
                      const char *const *extra)
{
    char pf[512], af[512], logf[512], maxs[16];
    snprintf(pf, sizeof pf, "%s/%s.port", dir, tag);
    snprintf(af, sizeof af, "%s/%s.admin", dir, tag);
    snprintf(logf, sizeof logf, "%s/%s.log", dir, tag);
    snprintf(maxs, sizeof maxs, "%u", max_services);
    const char *argv[64];
    int n = 0;
    const char *common[] = {g_bin,     "--port",
                            "0",       "--port-file",
                            pf,        "--admin-port",
                            "0",       "--admin-port-file",
                            af,        "--log-level",
                            "warn",    "--max-services",
                            maxs,      "--max-edges",
                            "100000",  "--max-outbound",
                            "2000000", "--pod-reports-per-s",
                            "0",       "--pod-share-factor",
                            "0",       "--max-connections-per-client",
                            "0",       "--max-regions",
                            "32",      NULL};
    for (int i = 0; common[i]; i++)
        argv[n++] = common[i];
    for (int i = 0; extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int lf = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        if (lf >= 0)
            dup2(lf, STDERR_FILENO);
        execv(g_bin, (char *const *)argv);
        _exit(127);
    }
    p->pid = pid;
    p->port = p->admin = 0;
    for (int i = 0; i < 500 && (!p->port || !p->admin); i++) {
        usleep(20000);
        p->port = read_port(pf);
        p->admin = read_port(af);
    }
    return pid > 0 && p->port && p->admin ? 0 : -1;
}

static void stop_proc(proc_t *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
            if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
                p->pid = 0;
                return;
            }
            usleep(20000);
        }
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
}

/* ------------------------------------------------------------------------- */
/* Traces: one sampled trace per entry endpoint per region per tick, its spans
 * put in the reports of the pods that served them */

typedef struct span_rec {
    char trace[33], id[17], parent[17];
    uint32_t svc, ep, region;
    uint64_t start_ns, end_ns;
} span_rec_t;

typedef struct run run_t;

struct run {
    mesh_t *m;
    mesh_service_t *after; /* the services with region 0's entry load tripled */
    proc_t global;
    proc_t *cluster;
    unsigned tick;
    unsigned change_tick;
    uint64_t tick_ns;
    pthread_barrier_t start, end;
    atomic_bool stop;
    /* this tick's spans, bucketed by (service, region) */
    span_rec_t *spans;
    size_t n_spans, cap_spans;
    uint32_t *bucket_first; /* [svc * R + region] -> first span index, chained by next */
    uint32_t *next;
    uint64_t trace_no;
    /* per region thread results */
    struct region_out {
        uint64_t reports, errors, requests, report_bytes;
        uint64_t answer_bytes, answers, answer_max;
        uint64_t check_fail, rules_checked;
        char first_failure[256];
    } * out;
    uint64_t change_ns;
    bool final_check; /* the thread checks its pods' answers this tick */
};

static uint64_t g_span_seq;

static uint64_t span_add(run_t *run, uint32_t svc, uint32_t ep, uint32_t region, const char *trace,
                         const char *parent, uint64_t start)
{
    if (run->n_spans == run->cap_spans) {
        run->cap_spans = run->cap_spans ? run->cap_spans * 2 : 4096;
        run->spans = realloc(run->spans, run->cap_spans * sizeof(span_rec_t));
        run->next = realloc(run->next, run->cap_spans * sizeof(uint32_t));
        if (!run->spans || !run->next) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    size_t i = run->n_spans++;
    span_rec_t *s = &run->spans[i];
    memcpy(s->trace, trace, 33);
    snprintf(s->id, sizeof s->id, "%016" PRIx64, ++g_span_seq);
    snprintf(s->parent, sizeof s->parent, "%s", parent);
    s->svc = svc;
    s->ep = ep;
    s->region = region;
    s->start_ns = start;
    uint64_t cursor = start + 500000;
    const mesh_endpoint_t *e = &run->m->svcs[svc].eps[ep];
    char me[17];
    memcpy(me, s->id, 17);
    for (unsigned c = 0; c < e->n_calls; c++) {
        uint32_t d = mesh_serving_region(run->m, e->calls[c].svc, region);
        cursor = span_add(run, e->calls[c].svc, e->calls[c].ep, d, trace, me, cursor) + 100000;
    }
    s = &run->spans[i]; /* the pool may have moved */
    s->end_ns = cursor + 500000;
    size_t b = (size_t)svc * run->m->n_regions + region;
    run->next[i] = run->bucket_first[b];
    run->bucket_first[b] = (uint32_t)i;
    return s->end_ns;
}

static void make_traces(run_t *run)
{
    const mesh_t *m = run->m;
    run->n_spans = 0;
    memset(run->bucket_first, 0xff, (size_t)m->n_services * m->n_regions * sizeof(uint32_t));
    uint64_t now = real_ns() - 50000000ull;
    for (uint32_t s = 0; s < m->n_services && m->svcs[s].level == 0; s++)
        for (uint32_t e = 0; e < m->svcs[s].n_eps; e++)
            for (uint32_t g = 0; g < m->n_regions; g++) {
                char trace[33];
                snprintf(trace, sizeof trace, "%016" PRIx64 "%016" PRIx64, m->seed,
                         ++run->trace_no);
                span_add(run, s, e, g, trace, "", now);
            }
}

/* ------------------------------------------------------------------------- */
/* Pods */

static void flat_latency(slate_latency_t *l, uint64_t count, double ms)
{
    memset(l, 0, sizeof(*l));
    uint64_t ns = (uint64_t)llround(ms * 1e6);
    l->count = count;
    l->sum_ns = ns * count;
    l->min_ns = l->max_ns = count ? ns : 0;
    l->mean_ns = count ? (double)ns : 0;
}

typedef struct pod_scratch {
    slate_inbound_t in[MESH_MAX_ENDPOINTS];
    slate_outbound_t out[MESH_MAX_ENDPOINTS * MESH_MAX_FANOUT];
    slate_span_t *spans;
    slate_endpoint_load_t *loads;
    size_t cap;
    char name[64];
    uint8_t *enc;
    size_t enc_cap;
    slate_rule_t *rules;
    slate_route_target_t *targets;
} pod_scratch_t;

/* Encodes pod p of (svc, g) for this tick; returns its length and the
 * requests it reports in *reqs. */
static size_t encode_pod(run_t *run, pod_scratch_t *ps, uint32_t svc, uint32_t g, unsigned p,
                         uint64_t *reqs)
{
    const mesh_t *m = run->m;
    const mesh_service_t *sv = run->tick >= run->change_tick ? &run->after[svc] : &m->svcs[svc];
    const mesh_service_t *named = &m->svcs[svc];
    unsigned pods = sv->pods[g];
    double tick_s = (double)run->tick_ns / 1e9;
    slate_load_report_t r;
    memset(&r, 0, sizeof(r));
    snprintf(ps->name, sizeof ps->name, "%s-%s-%u", named->name, m->region[g], p);
    r.service = slate_str(named->name);
    r.region = slate_str(m->region[g]);
    r.pod = slate_str(ps->name);
    r.sequence = run->tick + 1;
    r.time_ns = real_ns();
    r.interval_ns = run->tick_ns;
    size_t ni = 0, no = 0;
    *reqs = 0;
    for (unsigned e = 0; e < sv->n_eps; e++) {
        double rps = sv->eps[e].load[g] / pods;
        uint64_t n = (uint64_t)llround(rps * tick_s);
        slate_inbound_t *in = &ps->in[ni++];
        in->method = slate_str("GET");
        in->path = slate_str(named->eps[e].path);
        in->requests = n;
        in->rate_rps = rps;
        in->in_flight = 1;
        flat_latency(&in->latency, n, 2.0 + 3.0 * sv->eps[e].n_calls);
        *reqs += n;
        for (unsigned c = 0; c < sv->eps[e].n_calls && n; c++) {
            const mesh_call_t *call = &sv->eps[e].calls[c];
            slate_outbound_t *o = &ps->out[no++];
            o->dst_service = slate_str(m->svcs[call->svc].name);
            o->method = slate_str("GET");
            o->path = slate_str(m->svcs[call->svc].eps[call->ep].path);
            o->dst_region = slate_str(m->region[mesh_serving_region(m, call->svc, g)]);
            o->requests = n;
            flat_latency(&o->latency, n, 3.0);
        }
    }
    size_t ns = 0;
    for (uint32_t i = run->bucket_first[(size_t)svc * m->n_regions + g]; i != UINT32_MAX;
         i = run->next[i]) {
        if ((i % pods) != p)
            continue;
        if (ns == ps->cap) {
            ps->cap = ps->cap ? ps->cap * 2 : 64;
            ps->spans = realloc(ps->spans, ps->cap * sizeof(slate_span_t));
            ps->loads = realloc(ps->loads, ps->cap * sizeof(slate_endpoint_load_t));
            if (!ps->spans || !ps->loads) {
                fprintf(stderr, "out of memory\n");
                exit(2);
            }
        }
        const span_rec_t *sr = &run->spans[i];
        slate_span_t *sp = &ps->spans[ns];
        memset(sp, 0, sizeof(*sp));
        sp->trace_id = slate_str(sr->trace);
        sp->span_id = slate_str(sr->id);
        sp->parent_span_id = slate_str(sr->parent);
        sp->method = slate_str("GET");
        sp->path = slate_str(named->eps[sr->ep].path);
        sp->start_ns = sr->start_ns;
        sp->end_ns = sr->end_ns;
        sp->body_size = 512;
        slate_endpoint_load_t *ld = &ps->loads[ns];
        ld->method = sp->method;
        ld->path = sp->path;
        ld->rps = sv->eps[sr->ep].load[g] / pods;
        ld->in_flight = 1;
        sp->n_load = 1;
        ns++;
    }
    for (size_t i = 0; i < ns; i++) /* after the last realloc of the loads */
        ps->spans[i].load = &ps->loads[i];
    r.inbound = ps->in;
    r.n_inbound = ni;
    r.outbound = ps->out;
    r.n_outbound = no;
    r.spans = ps->spans;
    r.n_spans = ns;
    r.span_loads = ps->loads;
    r.n_span_loads = ns;
    size_t need = 0;
    if (slate_load_report_encode(&r, NULL, 0, &need, NULL) != SLATE_ENOSPC) {
        fprintf(stderr, "sizing failed\n");
        exit(2);
    }
    if (need > ps->enc_cap) {
        ps->enc_cap = need * 2;
        ps->enc = realloc(ps->enc, ps->enc_cap);
    }
    size_t len = 0;
    if (!ps->enc || slate_load_report_encode(&r, ps->enc, ps->enc_cap, &len, NULL) != SLATE_OK) {
        fprintf(stderr, "encode failed\n");
        exit(2);
    }
    return len;
}

static bool str_is(slate_str_t s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

static void fail(struct region_out *o, const char *fmt, const char *a, const char *b, const char *c)
{
    if (!o->check_fail++)
        snprintf(o->first_failure, sizeof o->first_failure, fmt, a, b, c);
}

/* Decodes an answer; on the final tick checks that every
 * call the pod's service makes from region g has a complete rule. */
static void answer_rules(run_t *run, pod_scratch_t *ps, const buf_t *ans, uint32_t svc, uint32_t g,
                         struct region_out *o)
{
    const mesh_t *m = run->m;
    slate_routing_rules_t rr;
    memset(&rr, 0, sizeof(rr));
    enum { CAP = 4096 };
    if (!ps->rules) {
        ps->rules = malloc(CAP * sizeof(slate_rule_t));
        ps->targets = malloc(CAP * 4 * sizeof(slate_route_target_t));
    }
    rr.rules = ps->rules;
    rr.cap_rules = CAP;
    rr.targets = ps->targets;
    rr.cap_targets = CAP * 4;
    if (slate_routing_rules_decode(&rr, (const uint8_t *)ans->p, ans->len, NULL, NULL) !=
        SLATE_OK) {
        fail(o, "%s in %s: answer does not decode%s", m->svcs[svc].name, m->region[g], "");
        return;
    }
    if (!run->final_check)
        return;
    const mesh_service_t *sv = &m->svcs[svc];
    for (unsigned e = 0; e < sv->n_eps; e++) {
        if (sv->eps[e].load[g] <= 0)
            continue;
        for (unsigned c = 0; c < sv->eps[e].n_calls; c++) {
            const mesh_service_t *cs = &m->svcs[sv->eps[e].calls[c].svc];
            const char *cpath = cs->eps[sv->eps[e].calls[c].ep].path;
            const slate_rule_t *hit = NULL;
            for (size_t i = 0; i < rr.n_rules && !hit; i++) {
                const slate_rule_t *ru = &rr.rules[i];
                if (str_is(ru->src_region, m->region[g]) && str_is(ru->dst_service, cs->name) &&
                    (ru->path.len == 0 || str_is(ru->path, cpath)) &&
                    (ru->src_service.len == 0 || str_is(ru->src_service, sv->name)))
                    hit = ru;
            }
            if (!hit) {
                fail(o, "no rule for %s in %s calling %s", sv->name, m->region[g], cpath);
                continue;
            }
            uint64_t sum = 0;
            o->rules_checked++;
            for (size_t t = 0; t < hit->n_targets; t++) {
                sum += hit->targets[t].weight;
                bool deployed = false;
                for (unsigned d = 0; d < m->n_regions; d++)
                    if (str_is(hit->targets[t].region, m->region[d]) && cs->pods[d])
                        deployed = true;
                if (!deployed && hit->targets[t].weight)
                    fail(o, "rule %s -> %s sends to a region where %s is not deployed",
                         m->region[g], cpath, cs->name);
            }
            if (sum != WEIGHT_TOTAL)
                fail(o, "rule %s -> %s: weights do not sum to the total%s", m->region[g], cpath,
                     "");
        }
    }
}

/* The share of region 0's calls the global's rules in force keep in region 0
 * (weights summed over its rules); -1 when unreadable. */
static double region0_local_share(uint16_t admin, const char *r0, buf_t *b)
{
    if (http_get(admin, "/v1/rules", b) != 200)
        return -1;
    const char *cur = strstr(b->p, "\"current\":");
    const char *prev = cur ? strstr(cur, "\"previous\":") : NULL;
    char src[64], tgt[64];
    snprintf(src, sizeof src, "\"src_region\":\"%s\"", r0);
    snprintf(tgt, sizeof tgt, "\"region\":\"%s\"", r0);
    double local = 0, all = 0;
    for (const char *p = cur ? strstr(cur, src) : NULL; p && (!prev || p < prev);
         p = strstr(p + 1, src)) {
        const char *t = strstr(p, "\"targets\":[");
        const char *end = t ? strchr(t, ']') : NULL;
        for (const char *q = t ? strstr(t, "\"region\":") : NULL; q && q < end;
             q = strstr(q + 1, "\"region\":")) {
            double w = json_num(q, "weight");
            if (isnan(w))
                break;
            all += w;
            if (strncmp(q, tgt, strlen(tgt)) == 0)
                local += w;
        }
    }
    return all > 0 ? local / all : -1;
}

typedef struct poller {
    pthread_t th;
    uint16_t admin;
    const char *r0;
    atomic_bool stop;
    atomic_bool done; /* changed_ns and after are set */
    uint64_t changed_ns;
    double before, after;
} poller_t;

/* From the load change on: polls the global's rules every 50 ms until region
 * 0 keeps less of its calls at home than when the change began. */
static void *poller_main(void *arg)
{
    poller_t *pl = arg;
    buf_t b = {0};
    pl->before = region0_local_share(pl->admin, pl->r0, &b);
    while (!atomic_load(&pl->stop)) {
        double share = region0_local_share(pl->admin, pl->r0, &b);
        if (pl->before >= 0 && share >= 0 && share < pl->before - 0.001) {
            pl->changed_ns = mono_ns();
            pl->after = share;
            atomic_store(&pl->done, true);
            break;
        }
        usleep(50000);
    }
    free(b.p);
    return NULL;
}

typedef struct region_thread {
    pthread_t th;
    run_t *run;
    uint32_t g;
} region_thread_t;

static void *region_main(void *arg)
{
    region_thread_t *rt = arg;
    run_t *run = rt->run;
    const mesh_t *m = run->m;
    uint32_t g = rt->g;
    struct region_out *o = &run->out[g];
    pod_scratch_t ps;
    memset(&ps, 0, sizeof(ps));
    buf_t ans = {0};
    int fd = -1;
    uint16_t port = run->cluster[g].port;
    for (;;) {
        pthread_barrier_wait(&run->start);
        if (atomic_load(&run->stop))
            break;
        for (uint32_t s = 0; s < m->n_services; s++)
            for (unsigned p = 0; p < m->svcs[s].pods[g]; p++) {
                uint64_t reqs = 0;
                size_t len = encode_pod(run, &ps, s, g, p, &reqs);
                int st = http_do(&fd, port, "POST", "/v1/report", ps.enc, len, &ans);
                o->reports++;
                o->report_bytes += len;
                if (st != 200) {
                    o->errors++;
                    continue;
                }
                o->requests += reqs;
                o->answers++;
                o->answer_bytes += ans.len;
                if (ans.len > o->answer_max)
                    o->answer_max = ans.len;
                answer_rules(run, &ps, &ans, s, g, o);
            }
        pthread_barrier_wait(&run->end);
    }
    if (fd >= 0)
        close(fd);
    free(ps.spans);
    free(ps.loads);
    free(ps.enc);
    free(ps.rules);
    free(ps.targets);
    free(ans.p);
    return NULL;
}

/* Sum of the requests in every endpoint's window history at the global, and
 * the number of windows closed; -1 when not readable. */
static int64_t global_requests(const char *state, double *windows)
{
    const char *s = strstr(state, "\"services\":");
    const char *end = s ? strstr(s, "\"call_graph\":") : NULL;
    *windows = json_num(strstr(state, "\"window\":"), "count");
    if (!s || !end)
        return -1;
    int64_t sum = 0;
    for (const char *h = strstr(s, "\"history\":["); h && h < end;
         h = strstr(h + 1, "\"history\":[")) {
        const char *close = strchr(h, ']');
        for (const char *q = strstr(h, "\"requests\":"); q && q < close;
             q = strstr(q + 1, "\"requests\":"))
            sum += strtoll(q + 11, NULL, 10);
    }
    return sum;
}

typedef struct size_result {
    unsigned services, regions;
    size_t endpoints, calls, pods;
    uint64_t tick_ms;
    double cluster_us, global_us, reports_per_core;
    double build_ms, lp_ms, total_ms;
    double rows, columns, nonzeros;
    long global_kb, cluster_kb;
    double answer_mean, answer_max;
    double change_s;
    uint64_t reports, errors;
    bool ok;
} size_result_t;

static int run_size(unsigned n_services, unsigned n_regions, uint64_t seed, unsigned ticks,
                    uint64_t tick_ms, size_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->services = n_services;
    res->regions = n_regions;
    mesh_t m;
    if (mesh_generate(&m, n_services, n_regions, seed) != 0) {
        fprintf(stderr, "bad mesh size %ux%u\n", n_services, n_regions);
        return -1;
    }
    mesh_counts(&m, &res->endpoints, &res->calls, &res->pods);
    run_t run;
    memset(&run, 0, sizeof(run));
    run.m = &m;
    if (!tick_ms) /* auto: a tick per 8,000 pods' reports, whole seconds */
        tick_ms = 1000 * ((res->pods + 7999) / 8000);
    res->tick_ms = tick_ms;
    run.tick_ns = tick_ms * 1000000ull;
    run.after = malloc(n_services * sizeof(mesh_service_t));
    memcpy(run.after, m.svcs, n_services * sizeof(mesh_service_t));
    {
        mesh_t a = m;
        a.svcs = run.after;
        for (unsigned s = 0; s < n_services && a.svcs[s].level == 0; s++)
            for (unsigned e = 0; e < a.svcs[s].n_eps; e++)
                a.svcs[s].eps[e].entry_rps[0] *= 3;
        mesh_propagate(&a);
    }
    char dir[] = "/tmp/bench_scale_XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char regions[600];
    snprintf(regions, sizeof regions, "%s/regions", dir);
    FILE *f = fopen(regions, "w");
    if (!f || mesh_write_regions(&m, f) != 0) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    unsigned max_services = 2 * n_services + 16;
    char period[24], fperiod[24], upstream[64];
    snprintf(period, sizeof period, "%" PRIu64, 2 * tick_ms); /* a window holds two ticks */
    /* one forward per tick by default, as deployed (reports and forwards every
     * second). A cluster controller answers with the rules of its last batch
     * only, so a service whose pods all reported in an earlier forward period
     * gets none: --forward-ticks 2 makes every batch hold every service. */
    snprintf(fperiod, sizeof fperiod, "%" PRIu64, g_forward_ticks * tick_ms);
    const char *gextra[] = {"--regions-file", regions,       "--solve-period-ms",
                            period,           "--max-shift", "1",
                            "--threads",      "2",           NULL};
    run.cluster = calloc(n_regions, sizeof(proc_t));
    run.out = calloc(n_regions, sizeof(*run.out));
    run.bucket_first = malloc((size_t)n_services * n_regions * sizeof(uint32_t));
    int rc = -1;
    region_thread_t *rts = calloc(n_regions, sizeof(region_thread_t));
    unsigned started = 0;
    bool threads = false;
    buf_t st = {0};
    if (start_proc(&run.global, dir, "global", max_services, gextra) != 0) {
        fprintf(stderr, "cannot start the global controller (%s)\n", g_bin);
        goto out;
    }
    snprintf(upstream, sizeof upstream, "http://127.0.0.1:%u", run.global.port);
    for (; started < n_regions; started++) {
        char tag[32];
        snprintf(tag, sizeof tag, "cluster-%u", started);
        const char *cextra[] = {"--role",
                                "cluster",
                                "--region",
                                m.region[started],
                                "--upstream",
                                upstream,
                                "--forward-period-ms",
                                fperiod,
                                "--threads",
                                "1",
                                NULL};
        if (start_proc(&run.cluster[started], dir, tag, max_services, cextra) != 0) {
            fprintf(stderr, "cannot start cluster controller %u\n", started);
            goto out;
        }
    }
    /* ticks: warm-up (edges and models learnt, first solves), measure, change */
    unsigned warm = 3, measure = ticks > 2 ? ticks - 2 : 1;
    run.change_tick = warm + measure;
    unsigned last = run.change_tick + g_change_ticks; /* to see the change, and settle */
    pthread_barrier_init(&run.start, NULL, n_regions + 1);
    pthread_barrier_init(&run.end, NULL, n_regions + 1);
    for (unsigned g = 0; g < n_regions; g++) {
        rts[g].run = &run;
        rts[g].g = g;
        pthread_create(&rts[g].th, NULL, region_main, &rts[g]);
    }
    threads = true;
    double c0 = 0, g0 = 0, c1 = 0, g1 = 0;
    uint64_t rep0 = 0, rep1 = 0, items0 = 0, items1 = 0;
    uint64_t t_next = mono_ns();
    unsigned seen_tick = 0, overran = 0;
    poller_t poll;
    memset(&poll, 0, sizeof(poll));
    bool polling = false;
    for (run.tick = 0; run.tick <= last; run.tick++) {
        sleep_until(t_next);
        t_next += run.tick_ns;
        uint64_t reports = 0;
        for (unsigned g = 0; g < n_regions; g++)
            reports += run.out[g].reports;
        if (run.tick == warm || run.tick == run.change_tick) {
            double c = 0;
            for (unsigned g = 0; g < n_regions; g++)
                c += proc_cpu_s(run.cluster[g].pid);
            double gc = proc_cpu_s(run.global.pid);
            uint64_t items = 0;
            if (http_get(run.global.admin, "/v1/state", &st) == 200)
                items = (uint64_t)json_num(strstr(st.p, "\"window\":"), "reports_total");
            if (run.tick == warm) {
                c0 = c, g0 = gc, rep0 = reports, items0 = items;
            } else {
                c1 = c, g1 = gc, rep1 = reports, items1 = items;
            }
        }
        bool seen = polling && atomic_load(&poll.done);
        if (seen && !seen_tick)
            seen_tick = run.tick;
        /* two more ticks for the routing to settle, then the answers are checked */
        if (seen_tick && run.tick >= seen_tick + 2)
            run.final_check = true;
        if (run.tick == run.change_tick) {
            poll.admin = run.global.admin;
            poll.r0 = m.region[0];
            run.change_ns = mono_ns();
            polling = pthread_create(&poll.th, NULL, poller_main, &poll) == 0;
        }
        make_traces(&run);
        pthread_barrier_wait(&run.start);
        pthread_barrier_wait(&run.end);
        if (mono_ns() > t_next)
            overran++;
        if (run.final_check)
            break;
    }
    if (!run.final_check) { /* the change was never seen: still check the last answers */
        run.final_check = true;
        run.tick++;
        make_traces(&run);
        pthread_barrier_wait(&run.start);
        pthread_barrier_wait(&run.end);
    }
    atomic_store(&run.stop, true);
    pthread_barrier_wait(&run.start);
    for (unsigned g = 0; g < n_regions; g++)
        pthread_join(rts[g].th, NULL);
    threads = false;
    if (polling) {
        atomic_store(&poll.stop, true);
        pthread_join(poll.th, NULL);
    }

    uint64_t changed = poll.changed_ns, sent_requests = 0, checked = 0, report_bytes = 0;
    res->ok = true;
    double ans_bytes = 0, answers = 0;
    for (unsigned g = 0; g < n_regions; g++) {
        const struct region_out *o = &run.out[g];
        res->reports += o->reports;
        res->errors += o->errors;
        sent_requests += o->requests;
        checked += o->rules_checked;
        report_bytes += o->report_bytes;
        ans_bytes += (double)o->answer_bytes;
        answers += (double)o->answers;
        if (o->answer_max > res->answer_max)
            res->answer_max = (double)o->answer_max;
        if (o->check_fail) {
            res->ok = false;
            printf("  FAIL (%s, %" PRIu64 " failures): %s\n", m.region[g], o->check_fail,
                   o->first_failure);
        }
    }
    printf("  reports: %" PRIu64 " bytes on average; rules: %" PRIu64
           " (proxy, call) pairs checked in the last answers\n",
           res->reports ? report_bytes / res->reports : 0, checked);
    if (!checked) {
        res->ok = false;
        printf("  FAIL: no rule was checked\n");
    }
    if (overran)
        printf("  %u of %u ticks took longer than %" PRIu64 " ms (the pods reported late)\n",
               overran, run.tick + 1, tick_ms);
    res->answer_mean = answers > 0 ? ans_bytes / answers : 0;
    res->change_s = changed ? (double)(changed - run.change_ns) / 1e9 : NAN;
    if (!changed) {
        res->ok = false;
        printf("  FAIL: the global's rules did not move calls out of %s within %u ticks of "
               "the load change (share kept there %.3f)\n",
               m.region[0], g_change_ticks, poll.before);
    } else
        printf("  load change: the rules in force keep %.3f of %s's calls there %.2f s after "
               "it (%.3f before)\n",
               poll.after, m.region[0], res->change_s, poll.before);
    if (res->errors) {
        res->ok = false;
        printf("  FAIL: %" PRIu64 " reports not answered 200\n", res->errors);
    }
    res->cluster_us = rep1 > rep0 ? (c1 - c0) / (double)(rep1 - rep0) * 1e6 : NAN;
    res->reports_per_core = res->cluster_us > 0 ? 1e6 / res->cluster_us : NAN;
    res->global_us = items1 > items0 ? (g1 - g0) / (double)(items1 - items0) * 1e6 : NAN;

    /* the last forward and two window closes (a window closes between
     * solves, so late when solves are long), then the global's view. The
     * wait polls the solve rounds in /metrics, not /v1/state: the whole
     * state's JSON is written under the state's lock (tens of MB at
     * 1,000 x 16), so polling it every 100 ms held up the window close
     * being measured. */
    double r_end = solve_rounds(run.global.admin, &st);
    for (int i = 0; i < 600; i++) {
        usleep(100000);
        if (solve_rounds(run.global.admin, &st) >= r_end + 2)
            break;
    }
    if (http_get(run.global.admin, "/v1/state", &st) != 200) {
        res->ok = false;
        printf("  FAIL: no /v1/state from the global controller\n");
    } else {
        const char *solve = strstr(st.p, "\"solve\":");
        res->build_ms = json_num(solve, "build_ms");
        res->lp_ms = json_num(solve, "solve_ms");
        res->total_ms = json_num(solve, "round_ms"); /* the whole round, rules included */
        res->rows = json_num(solve, "rows");
        res->columns = json_num(solve, "columns");
        res->nonzeros = json_num(solve, "nonzeros");
        const char *lp = solve ? strstr(solve, "\"lp\":") : NULL;
        const char *ws = lp ? strstr(lp, "\"warm_start\":") : NULL;
        printf("  last solve: %s start, %.0f of the full LP's %.0f columns after %.0f pricing "
               "rounds, %.0f iterations; window close %.1f ms, problem %.1f ms, LP build %.1f ms, "
               "CLP %.1f ms, post-processing %.1f ms, round %.1f ms\n",
               ws && strncmp(ws + 13, "true", 4) == 0 ? "warm" : "cold", json_num(lp, "columns"),
               json_num(lp, "full_columns"), json_num(lp, "pricing_rounds"),
               json_num(lp, "iterations"), json_num(solve, "snapshot_ms"),
               json_num(solve, "problem_ms"), json_num(solve, "build_ms"),
               json_num(solve, "solve_ms"), json_num(solve, "post_ms"),
               json_num(solve, "round_ms"));
        double over = json_num(solve, "overload_current_rps");
        if (!(over <= 0.5)) {
            res->ok = false;
            printf("  FAIL: the routing in force leaves %.1f rps over a capacity\n", over);
        } else
            printf("  capacity: the routing in force leaves %.1f rps over a capacity\n", over);
        double windows = 0;
        int64_t got = global_requests(st.p, &windows);
        if (windows > 15)
            printf("  aggregate check skipped: %.0f windows, the history holds 16\n", windows);
        else if (got != (int64_t)sent_requests) {
            res->ok = false;
            printf("  FAIL: the global holds %" PRId64 " requests, the pods reported %" PRIu64 "\n",
                   got, sent_requests);
        } else
            printf("  aggregates: the global holds the %" PRIu64
                   " requests the pods reported, over %.0f windows\n",
                   sent_requests, windows);
    }
    res->global_kb = proc_kb(run.global.pid, "VmHWM:");
    for (unsigned g = 0; g < n_regions; g++) {
        long kb = proc_kb(run.cluster[g].pid, "VmHWM:");
        if (kb > res->cluster_kb)
            res->cluster_kb = kb;
    }
    rc = 0;
    if (g_hold_s > 0) {
        printf("  holding for %u s: global data port %u, admin port %u; cluster 0 data port %u, "
               "admin port %u; files in %s\n",
               g_hold_s, run.global.port, run.global.admin, run.cluster[0].port,
               run.cluster[0].admin, dir);
        fflush(stdout);
        sleep(g_hold_s);
    }
out:
    if (threads) {
        atomic_store(&run.stop, true);
        pthread_barrier_wait(&run.start);
        for (unsigned g = 0; g < n_regions; g++)
            pthread_join(rts[g].th, NULL);
    }
    for (unsigned g = 0; g < started; g++)
        stop_proc(&run.cluster[g]);
    if (started < n_regions && run.cluster[started].pid > 0)
        stop_proc(&run.cluster[started]);
    stop_proc(&run.global);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(st.p);
    free(rts);
    free(run.cluster);
    free(run.out);
    free(run.bucket_first);
    free(run.spans);
    free(run.next);
    free(run.after);
    mesh_free(&m);
    return rc;
}

static void print_header(void)
{
    printf("%9s %5s %6s %6s %8s %8s %8s %9s %8s %8s %8s %8s %8s %9s %8s %8s %8s %8s %7s %6s %s\n",
           "services", "regs", "eps", "pods", "reports", "clu_us", "glb_us", "rep/s/cor",
           "build_ms", "lp_ms", "tot_ms", "rows", "cols", "nonzeros", "glb_MB", "clu_MB", "ans_B",
           "ans_maxB", "chg_s", "tick_s", "checks");
}

static void print_row(const size_result_t *r)
{
    printf("%9u %5u %6zu %6zu %8" PRIu64
           " %8.1f %8.1f %9.0f %8.1f %8.1f %8.1f %8.0f %8.0f %9.0f %8.1f %8.1f %8.0f %8.0f %7.1f "
           "%6.0f %s\n",
           r->services, r->regions, r->endpoints, r->pods, r->reports, r->cluster_us, r->global_us,
           r->reports_per_core, r->build_ms, r->lp_ms, r->total_ms, r->rows, r->columns,
           r->nonzeros, (double)r->global_kb / 1024, (double)r->cluster_kb / 1024, r->answer_mean,
           r->answer_max, r->change_s, (double)r->tick_ms / 1000, r->ok ? "ok" : "FAILED");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    unsigned services = 0, regions = 3, ticks = 4;
    uint64_t seed = 1, tick_ms = 0;
    const char *regions_out = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--services") == 0)
            services = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--regions") == 0)
            regions = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--ticks") == 0)
            ticks = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--tick-ms") == 0)
            tick_ms = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--controller") == 0)
            g_bin = argv[i + 1];
        else if (strcmp(argv[i], "--forward-ticks") == 0)
            g_forward_ticks = atoi(argv[i + 1]) > 0 ? (unsigned)atoi(argv[i + 1]) : 1;
        else if (strcmp(argv[i], "--change-ticks") == 0)
            g_change_ticks = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--hold-s") == 0)
            g_hold_s = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--regions-out") == 0)
            regions_out = argv[i + 1];
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (tick_ms && tick_ms < 100)
        tick_ms = 100;
    if (regions_out) {
        mesh_t m;
        if (mesh_generate(&m, services ? services : 10, regions, seed) != 0)
            return 2;
        FILE *f = fopen(regions_out, "w");
        int rc = f && mesh_write_regions(&m, f) == 0 ? 0 : 1;
        if (f)
            fclose(f);
        mesh_free(&m);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    static const unsigned sweep[][2] = {{10, 3}, {30, 4}, {100, 8}, {300, 16}, {1000, 16}};
    size_t n_sizes = services ? 1 : sizeof sweep / sizeof sweep[0];
    printf("scale benchmark: seed %" PRIu64 ", %u measured ticks, forward every %u ticks, on %ld "
           "CPUs\n",
           seed, ticks, g_forward_ticks, sysconf(_SC_NPROCESSORS_ONLN));
    bool all_ok = true;
    size_result_t res[sizeof sweep / sizeof sweep[0]];
    for (size_t k = 0; k < n_sizes; k++) {
        unsigned s = services ? services : sweep[k][0];
        unsigned r = services ? regions : sweep[k][1];
        printf("mesh %u services x %u regions (seed %" PRIu64 "):\n", s, r, seed);
        fflush(stdout);
        if (run_size(s, r, seed, ticks, tick_ms, &res[k]) != 0)
            return 1;
        print_row(&res[k]);
        all_ok &= res[k].ok;
    }
    printf("\n");
    print_header();
    for (size_t k = 0; k < n_sizes; k++)
        print_row(&res[k]);
    return all_ok ? 0 : 1;
}
