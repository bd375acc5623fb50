/*
 * The solving modules fed what the learning state learnt from decoded
 * reports (no HTTP): the problem built from a snapshot (ctl_problem.h), its
 * optimum as rules, and whole solver rounds (ctl_solver.h) in an in-process
 * daemon, including the capacity repair: a routing in force over a
 * capacity from the regions file moves to a split that respects it, at
 * most max-shift per round, within a bounded number of rounds.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_problem_from_learnt_state),
        cmocka_unit_test(test_rounds_repair_a_capacity_breach),
        cmocka_unit_test(test_rounds_follow_retired_indices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
