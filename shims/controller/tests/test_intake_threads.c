/*
 * Several threads merge reports into one learning state at once while
 * another closes windows: every count must arrive exactly once. Reports of
 * many services (different shards of the state's locks) and of the same
 * services from several threads, endpoints created while other threads
 * read the tables, and spans whose parents arrive on another thread, so
 * the call graph is stitched across threads.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t, in the state's insides */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"
#include "ctl_log.h"
#include "ctl_metrics.h"
#include "ctl_state.h"
#include "ctl_state_internal.h"

#define THREADS  4 /* even: thread 2k sends parent spans, 2k+1 their children */
#define REPORTS  3000
#define SERVICES 8
#define EPS      6
#define REGIONS  2
#define SPANS    4

static const uint64_t T0 = 1700000000000000000ull;

typedef struct world {
    ctl_config_t cfg;
    ctl_metrics_t m;
    ctl_state_t *s;
    atomic_uint_fast64_t clock; /* ns after T0, moved by every report */
    atomic_int done;            /* threads finished */
    /* requests per (service, endpoint, region) summed over the closed windows */
    uint64_t seen[SERVICES][EPS][REGIONS];
    uint64_t seen_out[SERVICES][REGIONS];
} world;

typedef struct worker {
    pthread_t th;
    world *w;
    int t;
    int failed;
} worker;

static uint64_t now_of(world *w)
{
    return T0 + atomic_fetch_add(&w->clock, 1000);
}

/* Requests of endpoint e in report i of thread t: known to the checker. */
static uint64_t requests_of(int t, int i, int e)
{
    return 1 + (uint64_t)((t * 7 + i * 3 + e) % 5);
}

/* A name made of letters only, so path normalisation keeps it as it is. */
static void letters(char *out, unsigned v)
{
    int n = 0;
    do {
        out[n++] = (char)('a' + v % 26);
        v /= 26;
    } while (v);
    out[n] = '\0';
}

static void *intake_main(void *arg)
{
    worker *wk = arg;
    world *w = wk->w;
    ctl_scratch_t *sc = ctl_scratch_create();
    if (!sc) {
        wk->failed = 1;
        atomic_fetch_add(&w->done, 1);
        return NULL;
    }
    static const char *paths[EPS] = {"/a", "/b", "/c", "/d", "/e", "/f"};
    for (int i = 0; i < REPORTS; i++) {
        char service[32], region[16], pod[32], fresh[64], tag_t[8], tag_i[8];
        slate_inbound_t in[EPS + 1];
        slate_outbound_t out[REGIONS];
        slate_span_t spans[SPANS];
        char ids[SPANS][3][40];
        memset(in, 0, sizeof(in));
        memset(out, 0, sizeof(out));
        memset(spans, 0, sizeof(spans));
        slate_load_report_t rep;
        memset(&rep, 0, sizeof(rep));
        /* all threads merge into the same service at once, 64 reports each */
        int k = (i / 64) % SERVICES, r = (i / 16) % REGIONS;
        snprintf(service, sizeof(service), "svc-%d", k);
        snprintf(region, sizeof(region), "region-%d", r);
        snprintf(pod, sizeof(pod), "pod-%d-%d", wk->t, k);
        rep.service = slate_str(service);
        rep.region = slate_str(region);
        rep.pod = slate_str(pod);
        rep.sequence = (uint64_t)i + 1;
        rep.interval_ns = 1000000000ull;
        for (int e = 0; e < EPS; e++) {
            in[e].method = slate_str("GET");
            in[e].path = slate_str(paths[e]);
            in[e].requests = requests_of(wk->t, i, e);
            in[e].latency.count = in[e].requests;
            in[e].latency.mean_ns = 1e6;
            in[e].latency.min_ns = 1000000;
            in[e].latency.max_ns = 1000000;
        }
        rep.inbound = in;
        rep.n_inbound = EPS;
        /* every fourth report names an endpoint nobody has seen: it is created
         * (the whole state, exclusive) while the other threads merge */
        if (i % 4 == 0) {
            letters(tag_t, (unsigned)wk->t);
            letters(tag_i, (unsigned)i);
            snprintf(fresh, sizeof(fresh), "/fresh/%s/%s", tag_t, tag_i);
            in[EPS].method = slate_str("POST");
            in[EPS].path = slate_str(fresh);
            in[EPS].requests = 1;
            rep.n_inbound = EPS + 1;
        }
        for (int d = 0; d < REGIONS; d++) {
            out[d].dst_service = slate_str("sink");
            out[d].method = slate_str("GET");
            out[d].path = slate_str("/sink");
            out[d].dst_region = slate_str(d ? "region-1" : "region-0");
            out[d].requests = 2;
        }
        rep.outbound = out;
        rep.n_outbound = REGIONS;
        /* spans: thread 2j's report i holds parents, thread 2j+1's the children */
        for (int q = 0; q < SPANS; q++) {
            bool parent = wk->t % 2 == 0;
            int pair = wk->t / 2;
            snprintf(ids[q][0], 40, "%08x%08x%016x", pair + 1, i + 1, q + 1);
            snprintf(ids[q][1], 40, "%016x", (parent ? 0x1000 : 0x2000) + q);
            snprintf(ids[q][2], 40, "%016x", 0x1000 + q);
            spans[q].trace_id = slate_str(ids[q][0]);
            spans[q].span_id = slate_str(ids[q][1]);
            spans[q].parent_span_id = slate_str(parent ? "" : ids[q][2]);
            spans[q].method = slate_str("GET");
            spans[q].path = slate_str(paths[parent ? 0 : 1]);
            spans[q].start_ns = T0;
            spans[q].end_ns = T0 + 1000000;
        }
        rep.spans = spans;
        rep.n_spans = SPANS;
        ctl_ingest_info_t info;
        if (ctl_state_ingest(w->s, sc, &rep, false, true, now_of(w), &info) != 0)
            wk->failed++;
    }
    ctl_scratch_free(sc);
    atomic_fetch_add(&w->done, 1);
    return NULL;
}

static uint32_t find_ep(ctl_state_t *s, const char *service, const char *path)
{
    for (uint32_t i = 0; i < s->n_eps; i++) {
        const ep_ent *e = &s->eps[i];
        if (strcmp(s->svcs[e->svc].name, service) == 0 && strcmp(e->path, path) == 0)
            return i;
    }
    return NIL;
}

static uint32_t find_region(ctl_state_t *s, const char *name)
{
    for (uint32_t i = 0; i < s->n_regions; i++)
        if (strcmp(s->region_names[i], name) == 0)
            return i;
    return NIL;
}

/* Closes a window and adds what it counted to w->seen. */
static void close_and_collect(world *w)
{
    static const char *paths[EPS] = {"/a", "/b", "/c", "/d", "/e", "/f"};
    ctl_solve_input_free(ctl_state_tick(w->s, now_of(w)));
    ctl_state_t *s = w->s;
    ls_lock_all(s);
    for (int r = 0; r < REGIONS; r++) {
        char region[16];
        snprintf(region, sizeof(region), "region-%d", r);
        uint32_t ri = find_region(s, region);
        if (ri == NIL)
            continue;
        for (int k = 0; k < SERVICES; k++) {
            char service[32];
            snprintf(service, sizeof(service), "svc-%d", k);
            for (int e = 0; e < EPS; e++) {
                uint32_t ep = find_ep(s, service, paths[e]);
                if (ep != NIL && s->eps[ep].cells[ri])
                    w->seen[k][e][r] += s->eps[ep].cells[ri]->requests;
            }
            for (uint32_t o = 0; o < s->n_outs; o++)
                if (strcmp(s->svcs[s->outs[o].caller_svc].name, service) == 0 &&
                    s->outs[o].caller_region == ri)
                    w->seen_out[k][r] += s->outs[o].requests;
        }
    }
    ls_unlock_all(s);
}

static void test_threads_merge_every_count_exactly_once(void **state)
{
    (void)state;
    ctl_log_set_level(CTL_LOG_WARN);
    world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    ctl_config_defaults(&w->cfg);
    w->cfg.table_ttl_s = 0;       /* nothing retires: indexes stay for the checks */
    w->cfg.pod_share_factor = 0;  /* no share cap: counts arrive unscaled */
    w->cfg.pod_reports_per_s = 0; /* no per-pod rate */
    w->cfg.stitch_window_ms = 600000;
    w->cfg.max_endpoints_per_service = 1024;
    ctl_metrics_init(&w->m);
    w->s = ctl_state_create(&w->cfg, &w->m, NULL);
    assert_non_null(w->s);
    close_and_collect(w); /* the first window starts */

    worker wk[THREADS];
    for (int t = 0; t < THREADS; t++) {
        wk[t] = (worker){.w = w, .t = t};
        assert_int_equal(pthread_create(&wk[t].th, NULL, intake_main, &wk[t]), 0);
    }
    /* windows close while the threads merge */
    unsigned windows = 0;
    while (atomic_load(&w->done) < THREADS) {
        close_and_collect(w);
        windows++;
    }
    print_message("%u windows closed during the merge\n", windows);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(wk[t].th, NULL), 0);
        assert_int_equal(wk[t].failed, 0);
    }
    close_and_collect(w);

    /* requests of every (service, endpoint, region), over all windows */
    uint64_t want[SERVICES][EPS][REGIONS] = {{{0}}}, want_out[SERVICES][REGIONS] = {{0}};
    uint32_t fresh = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < REPORTS; i++) {
            int k = (i / 64) % SERVICES, r = (i / 16) % REGIONS;
            for (int e = 0; e < EPS; e++)
                want[k][e][r] += requests_of(t, i, e);
            want_out[k][r] += 2 * REGIONS;
            fresh += i % 4 == 0;
        }
    for (int k = 0; k < SERVICES; k++)
        for (int r = 0; r < REGIONS; r++) {
            for (int e = 0; e < EPS; e++) {
                if (w->seen[k][e][r] != want[k][e][r])
                    fail_msg("svc-%d endpoint %d region %d: %llu requests, want %llu", k, e, r,
                             (unsigned long long)w->seen[k][e][r],
                             (unsigned long long)want[k][e][r]);
            }
            if (w->seen_out[k][r] != want_out[k][r])
                fail_msg("svc-%d region %d outbound: %llu requests, want %llu", k, r,
                         (unsigned long long)w->seen_out[k][r], (unsigned long long)want_out[k][r]);
        }

    ctl_state_t *s = w->s;
    ls_lock_all(s);
    /* every report counted by its service, every fresh endpoint created once */
    uint64_t reports = 0;
    for (int k = 0; k < SERVICES; k++) {
        char service[32];
        snprintf(service, sizeof(service), "svc-%d", k);
        for (uint32_t v = 0; v < s->n_svcs; v++)
            if (strcmp(s->svcs[v].name, service) == 0)
                reports += s->svcs[v].reports;
    }
    assert_int_equal(reports, (uint64_t)THREADS * REPORTS);
    assert_int_equal(s->reports_total, (uint64_t)THREADS * REPORTS);
    uint32_t fresh_seen = 0;
    for (uint32_t i = 0; i < s->n_eps; i++)
        fresh_seen += strncmp(s->eps[i].path, "/fresh/", 7) == 0;
    assert_int_equal(fresh_seen, fresh);
    /* every span held once; every child stitched to its parent, whichever came first */
    uint64_t spans = 0;
    for (uint32_t i = 0; i < s->n_eps; i++)
        spans += s->eps[i].spans_total;
    assert_int_equal(spans, (uint64_t)THREADS * REPORTS * SPANS);
    uint64_t stitched = 0;
    for (uint32_t i = 0; i < s->n_edges; i++)
        stitched += s->edges[i].total;
    assert_int_equal(stitched, (uint64_t)(THREADS / 2) * REPORTS * SPANS);
    assert_int_equal(atomic_load(&w->m.spans_stitched), stitched);
    ls_unlock_all(s);

    ctl_lock_counts_t lc;
    ctl_state_lock_counts(w->s, &lc);
    assert_true(lc.shard_taken >= 2ull * THREADS * REPORTS);
    assert_int_equal(lc.span_taken, (uint64_t)THREADS * REPORTS);
    assert_true(lc.exclusive >= fresh);
    ctl_state_free(w->s);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_merge_every_count_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
