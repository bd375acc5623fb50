/*
 * The learning state fed decoded reports directly (no HTTP): what a window
 * teaches (loads, normalised endpoints, the call graph from stitched spans)
 * and how entries nobody names any more leave the tables (ctl_aging.c).
 * SPDX-License-Identifier: Apache-2.0
 */
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
        cmocka_unit_test(test_one_scratch_two_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
