/*
 * Tests of the export debouncer with an injected clock: quiet period,
 * maximum wait and maximum change count, checked against a reference model
 * driven by a pseudo-random schedule.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl_debounce.h"

#define MS 1000000ull
#define S  1000000000ull

static void test_quiet_period(void **state)
{
    (void)state;
    ctl_debounce_t d;
    ctl_debounce_init(&d, 1 * S, 10 * S, 1000);
    assert_false(ctl_debounce_due(&d, 0));
    assert_int_equal(ctl_debounce_deadline(&d), UINT64_MAX);
    ctl_debounce_change(&d, 100 * MS, 1);
    assert_false(ctl_debounce_due(&d, 100 * MS));
    assert_false(ctl_debounce_due(&d, 1099 * MS));
    assert_true(ctl_debounce_due(&d, 1100 * MS));
    /* a new change restarts the quiet period */
    ctl_debounce_change(&d, 1000 * MS, 1);
    assert_false(ctl_debounce_due(&d, 1100 * MS));
    assert_int_equal(ctl_debounce_deadline(&d), 2000 * MS);
    assert_true(ctl_debounce_due(&d, 2000 * MS));
    ctl_debounce_fired(&d);
    assert_false(ctl_debounce_due(&d, 5000 * MS));
}

static void test_max_wait(void **state)
{
    (void)state;
    ctl_debounce_t d;
    ctl_debounce_init(&d, 1 * S, 10 * S, 1000);
    /* a change every 500 ms never leaves 1 s of quiet; the push comes at 10 s */
    uint64_t t = 0;
    for (; t < 10 * S; t += 500 * MS) {
        ctl_debounce_change(&d, t, 1);
        assert_false(ctl_debounce_due(&d, t));
    }
    assert_true(ctl_debounce_due(&d, 10 * S));
    assert_int_equal(ctl_debounce_deadline(&d), 10 * S);
}

static void test_max_changes(void **state)
{
    (void)state;
    ctl_debounce_t d;
    ctl_debounce_init(&d, 1 * S, 10 * S, 1000);
    for (int i = 0; i < 999; i++)
        ctl_debounce_change(&d, 5 * S, 1);
    assert_false(ctl_debounce_due(&d, 5 * S));
    ctl_debounce_change(&d, 5 * S, 1);
    assert_true(ctl_debounce_due(&d, 5 * S));
    ctl_debounce_fired(&d);
    ctl_debounce_change(&d, 6 * S, 1500);
    assert_true(ctl_debounce_due(&d, 6 * S));
}

static void test_clock_stepping_back(void **state)
{
    (void)state;
    ctl_debounce_t d;
    ctl_debounce_init(&d, 1 * S, 10 * S, 1000);
    ctl_debounce_change(&d, 5 * S, 1);
    ctl_debounce_change(&d, 2 * S, 1); /* earlier than the last: ignored for timing */
    assert_true(ctl_debounce_due(&d, 6 * S));
}

/* Random schedules against an independent model that keeps every change time. */
static void test_against_model(void **state)
{
    (void)state;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 200; round++) {
        ctl_debounce_t d;
        uint32_t max_changes = 1 + (uint32_t)(round % 7);
        ctl_debounce_init(&d, 300 * MS, 2 * S, max_changes);
        uint64_t times[64];
        int n = 0;
        uint64_t t = 0;
        int pushes = 0, pushes_model = 0;
        for (int step = 0; step < 400; step++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            t += (rng % 400) * MS / 4;
            /* model: due if pending and (quiet, cap or count) */
            bool model_due = n > 0 && (t - times[n - 1] >= 300 * MS || t - times[0] >= 2 * S ||
                                       (uint32_t)n >= max_changes);
            bool due = ctl_debounce_due(&d, t);
            assert_int_equal(due, model_due);
            if (due) {
                ctl_debounce_fired(&d);
                n = 0;
                pushes++;
                pushes_model++;
            }
            if ((rng >> 20) % 3 != 0 && n < 64) {
                ctl_debounce_change(&d, t, 1);
                times[n++] = t;
            }
        }
        assert_int_equal(pushes, pushes_model);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_period),  cmocka_unit_test(test_max_wait),
        cmocka_unit_test(test_max_changes),   cmocka_unit_test(test_clock_stepping_back),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
