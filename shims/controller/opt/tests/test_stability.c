/*
 * Tests of the stability rules: the step cap, the gain threshold and the
 * rollback guard.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opt_testgen.h"
#include "slate_opt.h"

static void random_row(testgen_rng_t *rng, double *row, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        row[i] = testgen_uniform(rng, 0, 1) < 0.3 ? 0.0 : testgen_uniform(rng, 0, 1);
        sum += row[i];
    }
    if (sum == 0) {
        row[0] = 1;
        sum = 1;
    }
    for (size_t i = 0; i < n; i++)
        row[i] /= sum;
}

/* Every step moves at most max_shift in total and per entry, keeps the sum,
 * and the walk reaches the target in ceil(distance / max_shift) steps. */
static void test_step_cap(void **state)
{
    (void)state;
    testgen_rng_t rng = {5};
    for (int trial = 0; trial < 500; trial++) {
        size_t n = 2 + testgen_next(&rng) % 9;
        double cur[12], tgt[12], out[12];
        random_row(&rng, cur, n);
        random_row(&rng, tgt, n);
        double cap = testgen_uniform(&rng, 0.01, 0.5);
        double dist = 0;
        for (size_t i = 0; i < n; i++)
            dist += fabs(tgt[i] - cur[i]);
        dist /= 2;
        int rounds = 0;
        for (;;) {
            double moved;
            assert_int_equal(slate_opt_step(cur, tgt, n, cap, out, &moved), SLATE_OK);
            double tv = 0, sum = 0;
            for (size_t i = 0; i < n; i++) {
                assert_true(fabs(out[i] - cur[i]) <= cap + 1e-12);
                assert_true(out[i] >= 0);
                tv += fabs(out[i] - cur[i]);
                sum += out[i];
            }
            assert_true(tv / 2 <= cap + 1e-12);
            assert_true(fabs(tv / 2 - moved) < 1e-9);
            assert_true(fabs(sum - 1) < 1e-9);
            memcpy(cur, out, n * sizeof *cur);
            rounds++;
            if (moved < cap - 1e-12)
                break;
            assert_true(rounds < 1000);
        }
        for (size_t i = 0; i < n; i++)
            assert_true(fabs(cur[i] - tgt[i]) < 1e-9);
        assert_true(rounds <= (int)ceil(dist / cap - 1e-9) + 1);
    }
}

static void test_step_exact_and_errors(void **state)
{
    (void)state;
    double cur[3] = {1, 0, 0}, tgt[3] = {0, 0.5, 0.5}, out[3];
    double moved;
    assert_int_equal(slate_opt_step(cur, tgt, 3, 0.2, out, &moved), SLATE_OK);
    assert_true(fabs(out[0] - 0.8) < 1e-15 && fabs(out[1] - 0.1) < 1e-15 &&
                fabs(out[2] - 0.1) < 1e-15);
    assert_true(fabs(moved - 0.2) < 1e-15);
    /* Within the cap: the target itself. */
    assert_int_equal(slate_opt_step(cur, tgt, 3, 1.0, out, NULL), SLATE_OK);
    assert_memory_equal(out, tgt, sizeof tgt);
    /* In place. */
    assert_int_equal(slate_opt_step(cur, tgt, 3, 0.5, cur, NULL), SLATE_OK);
    assert_true(fabs(cur[0] - 0.5) < 1e-15);
    /* Zero cap: nothing moves. */
    double c2[3] = {0.2, 0.3, 0.5};
    assert_int_equal(slate_opt_step(c2, tgt, 3, 0.0, out, &moved), SLATE_OK);
    assert_memory_equal(out, c2, sizeof c2);
    assert_true(moved == 0);
    assert_int_equal(slate_opt_step(c2, tgt, 3, 1.5, out, NULL), SLATE_ERANGE);
    assert_int_equal(slate_opt_step(c2, tgt, 3, NAN, out, NULL), SLATE_ERANGE);
    assert_int_equal(slate_opt_step(c2, tgt, 0, 0.1, out, NULL), SLATE_EINVAL);
    assert_int_equal(slate_opt_step(NULL, tgt, 3, 0.1, out, NULL), SLATE_EINVAL);
    double bad[3] = {0.5, -0.1, 0.6};
    assert_int_equal(slate_opt_step(bad, tgt, 3, 0.1, out, NULL), SLATE_ERANGE);
    bad[1] = NAN;
    assert_int_equal(slate_opt_step(c2, bad, 3, 0.1, out, NULL), SLATE_ERANGE);
}

static void test_worth_applying(void **state)
{
    (void)state;
    assert_true(slate_opt_worth_applying(100, 90, 5, 0.05));
    assert_false(slate_opt_worth_applying(100, 96, 5, 0.0));  /* below absolute */
    assert_false(slate_opt_worth_applying(100, 96, 0, 0.05)); /* below relative */
    assert_true(slate_opt_worth_applying(100, 95, 5, 0.05));  /* exactly at both */
    assert_false(slate_opt_worth_applying(100, 100, 0, 0));   /* no gain */
    assert_false(slate_opt_worth_applying(100, 110, 0, 0));   /* worse */
    assert_true(slate_opt_worth_applying(100, 99.999, 0, 0)); /* any gain */
    assert_false(slate_opt_worth_applying(NAN, 1, 0, 0));
    assert_false(slate_opt_worth_applying(1, NAN, 0, 0));
}

static void test_repairs_capacity(void **state)
{
    (void)state;
    assert_true(slate_opt_repairs_capacity(60, 0, 0.01));     /* over to feasible */
    assert_true(slate_opt_repairs_capacity(60, 50, 0.01));    /* less over: a step */
    assert_false(slate_opt_repairs_capacity(60, 60, 0.01));   /* no better */
    assert_false(slate_opt_repairs_capacity(60, 70, 0.01));   /* worse */
    assert_false(slate_opt_repairs_capacity(0.005, 0, 0.01)); /* within the slack */
    assert_false(slate_opt_repairs_capacity(0, 0, 0.01));     /* feasible already */
    assert_false(slate_opt_repairs_capacity(NAN, 0, 0.01));
    assert_false(slate_opt_repairs_capacity(60, NAN, 0.01));
}

static void test_guard(void **state)
{
    (void)state;
    slate_opt_guard_t g;
    assert_int_equal(slate_opt_guard_init(&g, -0.1, 0, 1), SLATE_ERANGE);
    assert_int_equal(slate_opt_guard_init(&g, 0.1, 0, 0), SLATE_ERANGE);
    assert_int_equal(slate_opt_guard_init(NULL, 0.1, 0, 1), SLATE_EINVAL);
    const uint64_t s = 1000000000ull;
    assert_int_equal(slate_opt_guard_init(&g, 0.10, 5 * s, 3), SLATE_OK);
    assert_int_equal(slate_opt_guard_observe(&g, 50, 1 * s), SLATE_OPT_IDLE);

    /* A change that made things 20% worse: rolled back once settled. */
    assert_int_equal(slate_opt_guard_applied(&g, 100, 10 * s), SLATE_OK);
    assert_int_equal(slate_opt_guard_observe(&g, 500, 11 * s), SLATE_OPT_WAIT); /* settling */
    assert_int_equal(slate_opt_guard_observe(&g, 120, 15 * s), SLATE_OPT_WAIT);
    assert_int_equal(slate_opt_guard_observe(&g, NAN, 16 * s), SLATE_OPT_WAIT);
    assert_int_equal(slate_opt_guard_observe(&g, 120, 16 * s), SLATE_OPT_WAIT);
    assert_int_equal(slate_opt_guard_observe(&g, 120, 17 * s), SLATE_OPT_ROLLBACK);
    assert_int_equal(slate_opt_guard_observe(&g, 120, 18 * s), SLATE_OPT_IDLE);

    /* Within the tolerance: kept. */
    assert_int_equal(slate_opt_guard_applied(&g, 100, 20 * s), SLATE_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(slate_opt_guard_observe(&g, 109, (26 + i) * s), SLATE_OPT_WAIT);
    assert_int_equal(slate_opt_guard_observe(&g, 109, 28 * s), SLATE_OPT_KEEP);

    /* Better: kept. A clock that goes backwards only waits. */
    assert_int_equal(slate_opt_guard_applied(&g, 100, 40 * s), SLATE_OK);
    assert_int_equal(slate_opt_guard_observe(&g, 50, 39 * s), SLATE_OPT_WAIT);
    for (int i = 0; i < 2; i++)
        assert_int_equal(slate_opt_guard_observe(&g, 60, (45 + i) * s), SLATE_OPT_WAIT);
    assert_int_equal(slate_opt_guard_observe(&g, 60, 47 * s), SLATE_OPT_KEEP);
    assert_int_equal(slate_opt_guard_applied(&g, -1, 50 * s), SLATE_ERANGE);
}

/* The rules together on a solved problem: damped steps toward the LP's
 * weights, each predicted by evaluating the stepped table. */
static void test_damped_walk_reaches_target(void **state)
{
    (void)state;
    slate_opt_problem_t *p = testgen_random(17, 4, 5);
    assert_non_null(p);
    slate_opt_result_t *lp, *cur;
    assert_int_equal(slate_opt_solve(p, &lp), SLATE_OK);
    assert_int_equal(slate_opt_local_only(p, &cur), SLATE_OK);
    size_t len;
    const double *tgt = slate_opt_result_weight_table(lp, &len);
    double *w = malloc(len * sizeof *w);
    memcpy(w, slate_opt_result_weight_table(cur, NULL), len * sizeof *w);
    unsigned R = slate_opt_n_regions(p);
    double prev = slate_opt_result_stats(cur)->objective;
    for (int round = 0; round < 40; round++) {
        for (size_t row = 0; row < len; row += R)
            assert_int_equal(slate_opt_step(w + row, tgt + row, R, 0.1, w + row, NULL), SLATE_OK);
        slate_opt_result_t *ev;
        assert_int_equal(slate_opt_evaluate(p, w, &ev), SLATE_OK);
        prev = slate_opt_result_stats(ev)->objective;
        slate_opt_result_free(ev);
    }
    /* After enough rounds the walk sits on the LP's table. */
    for (size_t i = 0; i < len; i++)
        assert_true(fabs(w[i] - tgt[i]) < 1e-9);
    slate_opt_result_t *ev;
    assert_int_equal(slate_opt_evaluate(p, tgt, &ev), SLATE_OK);
    assert_true(fabs(prev - slate_opt_result_stats(ev)->objective) < 1e-6 * (1 + fabs(prev)));
    slate_opt_result_free(ev);
    free(w);
    slate_opt_result_free(lp);
    slate_opt_result_free(cur);
    slate_opt_problem_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_cap),       cmocka_unit_test(test_step_exact_and_errors),
        cmocka_unit_test(test_worth_applying), cmocka_unit_test(test_repairs_capacity),
        cmocka_unit_test(test_guard),          cmocka_unit_test(test_damped_walk_reaches_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
