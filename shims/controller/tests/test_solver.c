/*
 * The solving modules fed what the learning state learnt from decoded
 * reports (no HTTP): the problem built from a snapshot (ctl_problem.h), its
 * optimum as rules, and whole solver rounds (ctl_solver.h) in an in-process
 * daemon, including the capacity repair: a routing in force over a
 * capacity from the regions file moves to a split that respects it, at
 * most max-shift per round, within a bounded number of rounds; on meshes
 * from the scale benchmark's generator, the reduced solve against the full
 * LP and rounds that start warm; the rows' hash index.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_problem.h"
#include "ctl_publish.h"
#include "ctl_solver.h"
#include "mesh_gen.h"
#include "mesh_input.h"
#include "scenario.h"

/* The share of west's backend calls the rules keep in west; -1 without a rule. */
static double west_share(const ctl_rules_t *r)
{
    for (size_t i = 0; r && i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (strcmp(ru->src_region, "west") != 0 || strcmp(ru->dst_service, "backend") != 0)
            continue;
        double total = 0, west = 0;
        for (uint32_t t = 0; t < ru->n_targets; t++) {
            total += ru->targets[t].weight;
            if (strcmp(ru->targets[t].region, "west") == 0)
                west += ru->targets[t].weight;
        }
        return total > 0 ? west / total : -1;
    }
    return -1;
}

/* The solving side of a daemon, in process: state, publisher, solver. */
typedef struct daemon {
    ctl_config_t cfg;
    ctl_metrics_t metrics;
    ctl_regions_file_t rf;
    ctl_state_t *state;
    ctl_publisher_t pub;
    ctl_solver_t *solver;
    ctl_scratch_t *sc;
    sc_world_t w;
} daemon_t;

static void daemon_solver(daemon_t *d)
{
    ctl_solver_free(d->solver);
    ctl_state_free(d->state);
    d->state = ctl_state_create(&d->cfg, &d->metrics, &d->rf);
    assert_non_null(d->state);
    d->solver = ctl_solver_create(&d->cfg, d->state, &d->pub, &d->metrics);
    assert_non_null(d->solver);
}

static daemon_t *daemon_new(const char *regions, double max_shift)
{
    daemon_t *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    ctl_config_defaults(&d->cfg);
    d->cfg.stitch_window_ms = 100;
    d->cfg.model_degree = 1;
    d->cfg.model_min_samples = 5;
    d->cfg.max_shift = max_shift;
    d->cfg.min_gain_rel = 0.5; /* no proposal passes it against its modelled latency alone */
    d->cfg.settle_ms = 0;
    d->cfg.rollback_samples = 1;
    d->cfg.rollback_tolerance = 0.2;
    ctl_metrics_init(&d->metrics);
    char err[256];
    assert_int_equal(ctl_regions_parse(regions, strlen(regions), "test", &d->rf, err, sizeof(err)),
                     0);
    ctl_publisher_init(&d->pub, &d->cfg, &d->metrics);
    daemon_solver(d);
    d->sc = ctl_scratch_create();
    assert_non_null(d->sc);
    d->w.load_west = 100;
    d->w.load_east = 10;
    d->w.tick_ms = 100;
    d->w.now_ns = 1700000000000000000ull;
    return d;
}

static void daemon_free(daemon_t *d)
{
    ctl_solver_free(d->solver);
    ctl_publisher_destroy(&d->pub);
    ctl_state_free(d->state);
    ctl_scratch_free(d->sc);
    ctl_regions_free(&d->rf);
    free(d);
}

static void test_problem_from_learnt_state(void **state)
{
    (void)state;
    daemon_t *d = daemon_new(SC_REGIONS_FILE, 0.35);
    ctl_solve_input_free(ctl_state_tick(d->state, d->w.now_ns));
    ctl_solve_input_t *in = NULL;
    for (int k = 0; k < 4; k++) {
        for (int t = 0; t < 10; t++)
            assert_int_equal(sc_tick(d->state, d->sc, &d->w), 0);
        ctl_solve_input_free(in);
        in = ctl_state_tick(d->state, d->w.now_ns);
        assert_non_null(in);
    }
    ctl_problem_t b;
    assert_int_equal(ctl_problem_build(&d->cfg, in, &b), SLATE_OK);
    assert_int_equal(b.R, 2);
    assert_int_equal(b.classes, 1); /* the frontend's /home, the one entry */
    slate_opt_result_t *res = NULL;
    assert_int_equal(slate_opt_solve(b.p, &res), SLATE_OK);
    /* the optimum as rows and rules: west's calls to the backend get a rule
     * whose weights are a split of 100% over the two regions */
    ctl_rows_t rows = {0};
    double w[CTL_MAX_REGION_SLOTS];
    for (uint32_t oe = 0; oe < b.n_opt_eps; oe++)
        for (uint32_t src = 0; src < b.R; src++)
            if (ctl_problem_row_wanted(&b, in, b.ep_back[oe], src) &&
                slate_opt_result_weights(res, src, oe, w, NULL) == SLATE_OK) {
                ctl_row_t *r = ctl_rows_put(&rows, b.ep_back[oe], src);
                assert_non_null(r);
                memcpy(r->w, w, b.R * sizeof(double));
            }
    assert_true(rows.n >= 1);
    ctl_rules_t *rules = ctl_problem_rules(&b, in, &rows, "optimiser");
    assert_non_null(rules);
    double share = west_share(rules);
    assert_true(share >= 0 && share <= 1);
    /* the same rows read back from the rules by names */
    ctl_rows_t back = {0};
    ctl_rows_from_rules(&back, rules, in);
    assert_int_equal(back.n, rows.n);
    for (size_t i = 0; i < rows.n; i++) {
        ctl_row_t *r = ctl_rows_find(&back, rows.v[i].ep, rows.v[i].src);
        assert_non_null(r);
        for (uint32_t k = 0; k < b.R; k++)
            assert_true(fabs(r->w[k] - rows.v[i].w[k]) < 1e-3);
    }
    ctl_rows_free(&rows);
    ctl_rows_free(&back);
    ctl_rules_unref(rules);
    slate_opt_result_free(res);
    ctl_problem_free(&b);
    ctl_solve_input_free(in);
    daemon_free(d);
}

static void repair_rounds(bool junk)
{
    const double max_shift = 0.1, limit = 40.0 / 100.0;
    daemon_t *d = daemon_new(SC_REGIONS_FILE "capacity backend west 40\n", max_shift);
    if (junk) {
        /* names that report once, take the first service and region indices,
         * and retire after a second, moving every index under the solver */
        d->cfg.table_ttl_s = 1;
        daemon_solver(d);
        assert_int_equal(sc_ingest(d->state, d->sc, &d->w, "junk", "mars", 5), 0);
        d->w.trace_no += SC_SPANS;
    }
    ctl_solve_input_free(ctl_state_tick(d->state, d->w.now_ns));
    uint64_t seen = 0;
    double prev = 1;
    int steps = 0, reached = -1;
    for (int round = 0; round < 60 && reached < 0; round++) {
        for (int t = 0; t < 3; t++)
            assert_int_equal(sc_tick(d->state, d->sc, &d->w), 0);
        ctl_solver_round(d->solver, d->w.now_ns);
        ctl_rules_t *r = ctl_publisher_rules(&d->pub);
        if (r && r->version != seen && strcmp(r->origin, "optimiser") == 0) {
            seen = r->version;
            double share = west_share(r);
            if (share >= 0) {
                steps++;
                assert_true(fabs(share - prev) <= max_shift + 1e-4); /* the step cap */
                prev = share;
                if (share <= limit + 1e-3)
                    reached = round;
            }
        }
        ctl_rules_unref(r);
    }
    ctl_solve_stats_t st;
    ctl_solver_stats(d->solver, &st);
    if (reached < 0)
        fprintf(stderr, "west share %.3f after %d rule sets; last outcome: %s\n", prev, steps,
                st.last_outcome);
    assert_true(reached >= 0);
    assert_true(steps <= 40);
    assert_non_null(strstr(st.last_outcome, "capacity repair"));
    if (junk)
        assert_int_equal(atomic_load(&d->metrics.retired_services), 1);
    daemon_free(d);
}

static void test_rounds_repair_a_capacity_breach(void **state)
{
    (void)state;
    repair_rounds(false);
}

/* The same while retiring moves the indices the solver's rows were built on:
 * the step cap checked every round shows the rows followed the names. */
static void test_rounds_follow_retired_indices(void **state)
{
    (void)state;
    repair_rounds(true);
}

/* ---- generated meshes (the scale benchmark's generator) ---- */

/* The optimum of a built problem with config.full_lp = full. */
static double solve_objective(slate_opt_problem_t *p, unsigned full, slate_opt_stats_t *st)
{
    slate_opt_config_t c;
    assert_int_equal(slate_opt_get_config(p, &c), SLATE_OK);
    c.full_lp = full;
    assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
    slate_opt_result_t *r = NULL;
    assert_int_equal(slate_opt_solve(p, &r), SLATE_OK);
    *st = *slate_opt_result_stats(r);
    slate_opt_result_free(r);
    return st->objective;
}

/* The problem the controller builds from a generated mesh: the reduced
 * solve's optimum equals the full LP's, on small and medium meshes with
 * the flat curves the scale benchmark teaches and with curved ones. */
static void test_mesh_reduced_equals_full(void **state)
{
    (void)state;
    static const unsigned sizes[][2] = {{10, 3}, {30, 4}, {60, 8}, {120, 8}};
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    unsigned reduced = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (uint64_t seed = 1; seed <= 2; seed++)
            for (int curved = 0; curved <= 1; curved++) {
                mesh_t m;
                assert_int_equal(mesh_generate(&m, sizes[k][0], sizes[k][1], seed), 0);
                ctl_solve_input_t *in = mesh_solve_input(&m, curved, 1.0);
                ctl_problem_t b;
                assert_int_equal(ctl_problem_build(&cfg, in, &b), SLATE_OK);
                slate_opt_stats_t fs, rs;
                double full = solve_objective(b.p, 1, &fs);
                double red = solve_objective(b.p, 0, &rs);
                double scale = fabs(full) > 1 ? fabs(full) : 1;
                if (!(fabs(full - red) <= 1e-7 * scale))
                    fail_msg("%u x %u seed %u %s: full LP %.12g, reduced %.12g", sizes[k][0],
                             sizes[k][1], (unsigned)seed, curved ? "curved" : "flat", full, red);
                assert_int_equal(fs.columns, fs.full_columns);
                reduced += rs.columns < fs.full_columns;
                ctl_problem_free(&b);
                ctl_solve_input_free(in);
                mesh_free(&m);
            }
    assert_true(reduced >= 8); /* the reduction took columns away on most */
}

/* Rounds on a generated mesh: the second (loads moved) starts from the
 * first's basis and still proposes the full LP's optimum. */
static void test_mesh_rounds_start_warm(void **state)
{
    (void)state;
    mesh_t m;
    assert_int_equal(mesh_generate(&m, 60, 8, 3), 0);
    daemon_t *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    ctl_config_defaults(&d->cfg);
    ctl_metrics_init(&d->metrics);
    ctl_publisher_init(&d->pub, &d->cfg, &d->metrics);
    daemon_solver(d);
    ctl_solve_stats_t st;
    for (int round = 0; round < 3; round++) {
        double scale = 1.0 + 0.05 * round;
        ctl_solver_round_on(d->solver, mesh_solve_input(&m, true, scale),
                            1700000000000000000ull + (uint64_t)round * 2000000000ull);
        ctl_solver_stats(d->solver, &st);
        assert_int_equal(st.last_status, SLATE_OK);
        assert_int_equal(st.warm_start, round > 0);
        ctl_solve_input_t *in = mesh_solve_input(&m, true, scale);
        ctl_problem_t b;
        assert_int_equal(ctl_problem_build(&d->cfg, in, &b), SLATE_OK);
        slate_opt_stats_t fs;
        double full = solve_objective(b.p, 1, &fs);
        assert_true(fabs(full - st.objective_proposed) <= 1e-7 * fabs(full));
        ctl_problem_free(&b);
        ctl_solve_input_free(in);
        assert_true(st.round_ms >= st.total_ms && st.post_ms > 0);
    }
    ctl_rules_t *r = ctl_publisher_rules(&d->pub);
    assert_non_null(r);
    assert_true(r->n_rules > 0);
    ctl_rules_unref(r);
    daemon_free(d);
    mesh_free(&m);
}

/* The rows' hash index against a linear scan, through puts, a copy over
 * other contents and a truncation. */
static void test_rows_index(void **state)
{
    (void)state;
    ctl_rows_t a = {0}, b = {0};
    for (uint32_t ep = 0; ep < 500; ep++)
        for (uint32_t src = 0; src < 4; src++) {
            ctl_row_t *r = ctl_rows_put(&a, ep, src);
            assert_non_null(r);
            r->w[0] = ep * 10 + src;
        }
    assert_int_equal(a.n, 2000);
    assert_ptr_equal(ctl_rows_put(&a, 7, 3), ctl_rows_find(&a, 7, 3)); /* no duplicate */
    assert_int_equal(a.n, 2000);
    for (uint32_t ep = 0; ep < 500; ep++)
        for (uint32_t src = 0; src < 4; src++) {
            ctl_row_t *r = ctl_rows_find(&a, ep, src);
            assert_non_null(r);
            assert_true(r->w[0] == ep * 10 + src);
        }
    assert_null(ctl_rows_find(&a, 500, 0));
    assert_null(ctl_rows_find(&a, 0, 4));
    /* b held other rows (and its index) before the copy */
    for (uint32_t ep = 1000; ep < 1100; ep++)
        assert_non_null(ctl_rows_put(&b, ep, 0));
    assert_int_equal(ctl_rows_copy(&b, &a), 0);
    assert_null(ctl_rows_find(&b, 1000, 0));
    assert_true(ctl_rows_find(&b, 499, 2)->w[0] == 4992);
    /* a copy of the same count over different rows */
    ctl_rows_t c = {0};
    for (uint32_t ep = 0; ep < 2000; ep++)
        assert_non_null(ctl_rows_put(&c, ep + 5000, 1));
    assert_int_equal(ctl_rows_copy(&c, &a), 0);
    assert_null(ctl_rows_find(&c, 5000, 1));
    assert_non_null(ctl_rows_find(&c, 3, 3));
    /* truncated: the old rows are gone, new ones are found */
    a.n = 0;
    assert_null(ctl_rows_find(&a, 7, 3));
    assert_non_null(ctl_rows_put(&a, 9, 9));
    assert_null(ctl_rows_find(&a, 7, 3));
    assert_non_null(ctl_rows_find(&a, 9, 9));
    assert_int_equal(a.n, 1);
    ctl_rows_free(&a);
    ctl_rows_free(&b);
    ctl_rows_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_problem_from_learnt_state),
        cmocka_unit_test(test_rounds_repair_a_capacity_breach),
        cmocka_unit_test(test_rounds_follow_retired_indices),
        cmocka_unit_test(test_mesh_reduced_equals_full),
        cmocka_unit_test(test_mesh_rounds_start_warm),
        cmocka_unit_test(test_rows_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
