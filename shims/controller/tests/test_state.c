/*
 * The learning state fed decoded reports directly (no HTTP): what a window
 * teaches (loads, normalised endpoints, the call graph from stitched spans)
 * and how entries nobody names any more leave the tables (ctl_aging.c).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t, in the state's insides */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"
#include "ctl_state_internal.h"
#include "ctl_metrics.h"
#include "ctl_regions.h"
#include "ctl_state.h"
#include "scenario.h"

typedef struct fixture {
    ctl_config_t cfg;
    ctl_metrics_t m;
    ctl_regions_file_t rf;
    ctl_state_t *s;
    ctl_scratch_t *sc;
    sc_world_t w;
} fixture_t;

static fixture_t *fixture_new(uint64_t ttl_s, uint32_t max_services, const char *regions)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    ctl_config_defaults(&f->cfg);
    f->cfg.table_ttl_s = ttl_s;
    f->cfg.max_services = max_services;
    f->cfg.stitch_window_ms = 100;
    char err[256];
    if (regions)
        assert_int_equal(
            ctl_regions_parse(regions, strlen(regions), "test", &f->rf, err, sizeof(err)), 0);
    f->s = ctl_state_create(&f->cfg, &f->m, regions ? &f->rf : NULL);
    f->sc = ctl_scratch_create();
    assert_non_null(f->s);
    assert_non_null(f->sc);
    f->w.load_west = 100;
    f->w.load_east = 10;
    f->w.tick_ms = 100;
    f->w.now_ns = 1700000000000000000ull;
    return f;
}

static void fixture_free(fixture_t *f)
{
    ctl_scratch_free(f->sc);
    ctl_state_free(f->s);
    ctl_regions_free(&f->rf);
    free(f);
}

static int service_index(const ctl_solve_input_t *in, const char *name)
{
    for (uint32_t i = 0; i < in->n_services; i++)
        if (in->service_names[i] && strcmp(in->service_names[i], name) == 0)
            return (int)i;
    return -1;
}

static int region_index(const ctl_solve_input_t *in, const char *name)
{
    for (uint32_t i = 0; i < in->n_regions; i++)
        if (strcmp(in->region_names[i], name) == 0)
            return (int)i;
    return -1;
}

static int endpoint_index(const ctl_solve_input_t *in, const char *svc, const char *path)
{
    for (uint32_t i = 0; i < in->n_endpoints; i++) {
        const ctl_si_endpoint_t *e = &in->endpoints[i];
        if (strcmp(in->service_names[e->svc], svc) == 0 && strcmp(e->path, path) == 0)
            return (int)i;
    }
    return -1;
}

/* Ten ticks of 100 ms, then a window close at the end of the last. */
static ctl_solve_input_t *window(fixture_t *f, unsigned ticks)
{
    for (unsigned i = 0; i < ticks; i++)
        assert_int_equal(sc_tick(f->s, f->sc, &f->w), 0);
    return ctl_state_tick(f->s, f->w.now_ns);
}

static void test_a_window_teaches_loads_and_the_call_graph(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 16, NULL);
    ctl_solve_input_free(ctl_state_tick(f->s, f->w.now_ns)); /* the first window starts */
    ctl_solve_input_t *in = NULL;
    for (int k = 0; k < 3; k++) {
        ctl_solve_input_free(in);
        in = window(f, 10);
    }
    assert_non_null(in);
    assert_int_equal(in->n_regions, 2);
    int west = region_index(in, "west"), east = region_index(in, "east");
    assert_true(west >= 0 && east >= 0);
    int home = endpoint_index(in, "frontend", "/home");
    int items = endpoint_index(in, "backend", "/api/items/{id}"); /* ids folded */
    assert_true(home >= 0);
    assert_true(items >= 0);
    /* 10 requests per 100 ms tick in west, 1 in east, over a 1 s window */
    assert_true(fabs(in->endpoints[home].load[west] - 100.0) < 1.0);
    assert_true(fabs(in->endpoints[home].load[east] - 10.0) < 1.0);
    /* one backend call per frontend request, from stitched spans */
    bool edge = false;
    for (uint32_t i = 0; i < in->n_edges; i++) {
        const struct ctl_si_edge *e = &in->edges[i];
        if ((int)e->parent == home && (int)e->child == items) {
            edge = true;
            assert_true(fabs(e->calls_per_request - 1.0) < 0.05);
            assert_true(fabs(e->bytes_per_call - 300.0) < 1.0);
        }
    }
    assert_true(edge);
    assert_true(in->endpoints[items].has_parent);
    assert_int_equal(in->layout_gen, 0);
    ctl_solve_input_free(in);
    fixture_free(f);
}

/* One report from a name nobody uses again. */
static void junk_report(fixture_t *f, const char *service, const char *region)
{
    assert_int_equal(sc_ingest(f->s, f->sc, &f->w, service, region, 5), 0);
    f->w.trace_no += SC_SPANS; /* its spans are its own */
}

static void test_silent_entries_retire_and_free_their_slots(void **state)
{
    (void)state;
    /* room for two services: a junk name takes one first, so backend lands in ~overflow */
    fixture_t *f = fixture_new(2, 2, SC_REGIONS_FILE "region north\n");
    junk_report(f, "junk", "mars");
    ctl_solve_input_t *in = window(f, 5);
    assert_true(service_index(in, "junk") >= 0);
    assert_true(service_index(in, "backend") < 0); /* in the overflow service */
    assert_true(region_index(in, "mars") >= 0);
    uint64_t gen0 = in->layout_gen;
    ctl_solve_input_free(in);
    /* 2.5 s more of traffic without the junk name: it retires at a window close */
    for (int k = 0; k < 5; k++)
        ctl_solve_input_free(window(f, 5));
    assert_int_equal(atomic_load(&f->m.retired_services), 1);
    assert_int_equal(atomic_load(&f->m.retired_regions), 1);
    assert_true(atomic_load(&f->m.retired_endpoints) >= 1);
    in = window(f, 10);
    assert_true(in->layout_gen > gen0);
    assert_true(service_index(in, "junk") < 0);
    assert_true(region_index(in, "mars") < 0);
    /* the regions file's silent region stays */
    assert_true(region_index(in, "north") >= 0);
    /* the slot went to the real service */
    assert_true(service_index(in, "backend") >= 0);
    assert_true(service_index(in, "frontend") >= 0);
    /* every index still names the right thing: the frontend's endpoint
     * under the frontend, the edge from it to the backend's */
    int home = endpoint_index(in, "frontend", "/home");
    assert_true(home >= 0);
    int west = region_index(in, "west");
    assert_true(fabs(in->endpoints[home].load[west] - 100.0) < 1.0);
    ctl_solve_input_free(in);
    /* and the views still render */
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    ctl_json_obj(&j);
    ctl_state_write_json(f->s, &j, f->w.now_ns);
    ctl_json_obj_end(&j);
    assert_true(ctl_json_ok(&j));
    assert_null(strstr(ctl_buf_cstr(&b), "junk"));
    assert_null(strstr(ctl_buf_cstr(&b), "mars"));
    ctl_buf_free(&b);
    fixture_free(f);
}

static void test_ttl_zero_keeps_everything(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 16, NULL);
    junk_report(f, "junk", "mars");
    for (int k = 0; k < 6; k++)
        ctl_solve_input_free(window(f, 10));
    ctl_solve_input_t *in = window(f, 1);
    assert_true(service_index(in, "junk") >= 0);
    assert_true(region_index(in, "mars") >= 0);
    assert_int_equal(atomic_load(&f->m.retired_services), 0);
    ctl_solve_input_free(in);
    fixture_free(f);
}

/* One report from `pod` of service "pods" in region "west", merged. */
static void pod_report(ctl_state_t *s, ctl_scratch_t *sc, unsigned pod, uint64_t now_ns)
{
    char name[32];
    snprintf(name, sizeof name, "pods-%u", pod);
    slate_inbound_t in = {
        .method = slate_str("GET"), .path = slate_str("/x"), .requests = 5, .rate_rps = 5};
    slate_load_report_t rep = {.service = slate_str("pods"),
                               .region = slate_str("west"),
                               .pod = slate_str(name),
                               .sequence = 1,
                               .time_ns = now_ns,
                               .interval_ns = 1000000000ull,
                               .inbound = &in,
                               .n_inbound = 1};
    uint8_t buf[512];
    size_t len = 0;
    assert_int_equal(slate_load_report_encode(&rep, buf, sizeof buf, &len, NULL), SLATE_OK);
    slate_codec_limits_t lim = SLATE_CODEC_LIMITS_DEFAULT;
    slate_codec_error_t err;
    slate_load_report_t *dec = NULL;
    assert_int_equal(ctl_scratch_decode(sc, buf, len, &lim, &err, &dec), SLATE_OK);
    ctl_ingest_info_t info;
    assert_int_equal(ctl_state_ingest(s, sc, dec, false, true, now_ns, &info), 0);
}

/* A (service, region)'s pod table grows with its pods (4, 8, ... 256 entries)
 * instead of taking 256 at the first pod, every pod is counted live up to
 * 256, and past that the oldest is forgotten. */
static void test_pod_table_grows_with_its_pods(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 16, NULL);
    uint64_t now = f->w.now_ns;
    for (unsigned p = 0; p < 5; p++)
        pod_report(f->s, f->sc, p, now + p);
    svc_ent *sv = NULL;
    for (uint32_t i = 0; i < f->s->n_svcs; i++)
        if (f->s->svcs[i].name && strcmp(f->s->svcs[i].name, "pods") == 0)
            sv = &f->s->svcs[i];
    assert_non_null(sv);
    uint32_t r = 0;
    while (r < SLOTS && !sv->pods_seen[r])
        r++;
    assert_true(r < SLOTS);
    assert_int_equal(sv->pods_cap[r], 8); /* 4, then doubled for the fifth */
    assert_true(ls_pods_live(sv, r, now + 10) == 5.0);
    for (unsigned p = 5; p < 300; p++)
        pod_report(f->s, f->sc, p, now + p);
    assert_int_equal(sv->pods_cap[r], CTL_MAX_PODS);
    assert_true(ls_pods_live(sv, r, now + 400) == (double)CTL_MAX_PODS);
    /* pod 0 was the oldest: it was forgotten, and comes back as a new entry */
    uint32_t have0 = 0;
    for (uint32_t i = 0; i < sv->pods_cap[r]; i++)
        have0 += sv->pods_seen[r][i].last_ns == now + 0;
    assert_int_equal(have0, 0);
    fixture_free(f);
}

/* A thread's scratch remembers where its endpoints were found; fed to two
 * states in turn (different tables, different indexes) it must find each
 * endpoint in the state it is merging into. */
static void test_one_scratch_two_states(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(60, 16, NULL);
    ctl_metrics_t m2;
    memset(&m2, 0, sizeof(m2));
    ctl_state_t *s2 = ctl_state_create(&f->cfg, &m2, NULL);
    assert_non_null(s2);
    /* the second state's first indexes go to names the first never sees */
    assert_int_equal(sc_ingest(s2, f->sc, &f->w, "junk", "mars", 5), 0);
    sc_world_t w2 = f->w;
    w2.trace_no += 1000000; /* its own traces */
    for (int k = 0; k < 2; k++) {
        for (unsigned i = 0; i < 10; i++) {
            assert_int_equal(sc_tick(f->s, f->sc, &f->w), 0);
            assert_int_equal(sc_tick(s2, f->sc, &w2), 0);
        }
        ctl_solve_input_free(ctl_state_tick(f->s, f->w.now_ns));
        ctl_solve_input_free(ctl_state_tick(s2, w2.now_ns));
    }
    for (unsigned i = 0; i < 10; i++) {
        assert_int_equal(sc_tick(f->s, f->sc, &f->w), 0);
        assert_int_equal(sc_tick(s2, f->sc, &w2), 0);
    }
    ctl_solve_input_t *a = ctl_state_tick(f->s, f->w.now_ns);
    ctl_solve_input_t *b = ctl_state_tick(s2, w2.now_ns);
    assert_non_null(a);
    assert_non_null(b);
    int ha = endpoint_index(a, "frontend", "/home"), hb = endpoint_index(b, "frontend", "/home");
    assert_true(ha >= 0);
    assert_true(hb >= 0);
    int wa = region_index(a, "west"), wb = region_index(b, "west");
    assert_true(fabs(a->endpoints[ha].load[wa] - 100.0) < 1.0);
    assert_true(fabs(b->endpoints[hb].load[wb] - 100.0) < 1.0);
    /* the junk service's endpoints learned nothing of the frontend's load */
    for (uint32_t i = 0; i < b->n_endpoints; i++)
        if (strcmp(b->service_names[b->endpoints[i].svc], "junk") == 0)
            assert_true(b->endpoints[i].load[wb] < 1.0);
    ctl_solve_input_free(a);
    ctl_solve_input_free(b);
    ctl_state_free(s2);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_window_teaches_loads_and_the_call_graph),
        cmocka_unit_test(test_silent_entries_retire_and_free_their_slots),
        cmocka_unit_test(test_ttl_zero_keeps_everything),
        cmocka_unit_test(test_pod_table_grows_with_its_pods),
        cmocka_unit_test(test_one_scratch_two_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
