/*
 * libslate - failover.h: exclusion of regions whose recent calls fail.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "slate/slate.h"

#define S 1000000000ull

static slate_failover_params_t params(void)
{
    slate_failover_params_t p = slate_failover_params_default();
    p.window_ns = 5 * S;
    p.min_calls = 10;
    p.max_failure_permille = 500;
    p.hold_ns = 10 * S;
    return p;
}

static void test_params(void **state)
{
    (void)state;
    slate_failover_params_t p = slate_failover_params_default();
    assert_int_equal(slate_failover_params_check(&p), SLATE_OK);
    assert_int_equal(slate_failover_params_check(NULL), SLATE_EINVAL);
    slate_failover_params_t bad[] = {p, p, p, p, p, p};
    bad[0].window_ns = 999999;
    bad[1].hold_ns = 3600 * S + 1;
    bad[2].min_calls = 0;
    bad[3].max_failure_permille = 0;
    bad[4].max_failure_permille = 1001;
    bad[5].window_ns = 3600 * S + 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(slate_failover_params_check(&bad[i]), SLATE_ERANGE);
}

/* Exactly at the threshold, and not before min_calls. */
static void test_threshold(void **state)
{
    (void)state;
    slate_failover_params_t p = params();
    slate_failover_region_t r = {0};
    uint64_t t = 100 * S;
    for (int i = 0; i < 5; i++)
        assert_false(slate_failover_record(&r, &p, t, false));
    for (int i = 0; i < 4; i++)
        assert_false(slate_failover_record(&r, &p, t, true)); /* 9 calls: below min_calls */
    assert_false(slate_failover_excluded(&r, t));
    assert_true(slate_failover_record(&r, &p, t, true)); /* 10 calls, 5 failed: 50% */
    assert_true(slate_failover_excluded(&r, t));
    assert_true(slate_failover_excluded(&r, t + 10 * S - 1));
    assert_false(slate_failover_excluded(&r, t + 10 * S));
    assert_int_equal(r.exclusions, 1);

    /* 49.x% does not exclude: 10 successes and 9 failures in the window */
    slate_failover_region_t q = {0};
    for (int i = 0; i < 10; i++)
        assert_false(slate_failover_record(&q, &p, t, false));
    for (int i = 0; i < 9; i++)
        assert_false(slate_failover_record(&q, &p, t, true));
    assert_false(slate_failover_excluded(&q, t));
    /* a success can complete the window: 9 failures then 1 success is 90% */
    slate_failover_region_t u = {0};
    for (int i = 0; i < 9; i++)
        assert_false(slate_failover_record(&u, &p, t, true));
    assert_true(slate_failover_record(&u, &p, t, false));
}

/* Outcomes that complete while excluded are ignored; after the hold the
 * region is judged afresh. */
static void test_hold(void **state)
{
    (void)state;
    slate_failover_params_t p = params();
    slate_failover_region_t r = {0};
    uint64_t t = 50 * S;
    for (int i = 0; i < 10; i++)
        slate_failover_record(&r, &p, t, true);
    assert_true(slate_failover_excluded(&r, t));
    for (int i = 0; i < 100; i++)
        assert_false(slate_failover_record(&r, &p, t + S, true));
    assert_int_equal(r.calls + r.prev_calls, 0);
    uint64_t after = t + 10 * S;
    assert_false(slate_failover_excluded(&r, after));
    for (int i = 0; i < 9; i++)
        assert_false(slate_failover_record(&r, &p, after, true));
    assert_true(slate_failover_record(&r, &p, after, true));
    assert_int_equal(r.exclusions, 2);
    assert_int_equal(r.excluded_until_ns, after + 10 * S);
}

/* The window is the current bucket and the one before: old failures age out. */
static void test_window(void **state)
{
    (void)state;
    slate_failover_params_t p = params();
    slate_failover_region_t r = {0};
    uint64_t t0 = 20 * S; /* bucket 4 */
    for (int i = 0; i < 9; i++)
        slate_failover_record(&r, &p, t0, true);
    /* next bucket: the 9 failures still count */
    assert_true(slate_failover_record(&r, &p, t0 + 5 * S, true));

    slate_failover_region_t q = {0};
    for (int i = 0; i < 9; i++)
        slate_failover_record(&q, &p, t0, true);
    /* two buckets later they are gone: 1 call in the window */
    assert_false(slate_failover_record(&q, &p, t0 + 10 * S, true));
    assert_int_equal(q.prev_calls, 0);
    assert_int_equal(q.calls, 1);
    /* a stamp from an older bucket counts in the current one */
    assert_false(slate_failover_record(&q, &p, t0, true));
    assert_int_equal(q.calls, 2);
    assert_int_equal(q.bucket, (t0 + 10 * S) / p.window_ns);
}

static void test_saturation(void **state)
{
    (void)state;
    slate_failover_params_t p = params();
    slate_failover_region_t r = {.bucket = 1, .calls = UINT32_MAX, .failures = 7};
    assert_false(slate_failover_record(&r, &p, 5 * S, false)); /* 7 of 2^32: healthy */
    assert_int_equal(r.calls, UINT32_MAX);
    slate_failover_region_t f = {.bucket = 1, .calls = UINT32_MAX, .failures = UINT32_MAX};
    f.excluded_until_ns = 0;
    assert_true(slate_failover_record(&f, &p, 5 * S, true)); /* saturated, still judged */
    assert_int_equal(f.exclusions, 1);
    /* a hold past the end of time ends at UINT64_MAX */
    slate_failover_params_t h = params();
    slate_failover_region_t z = {.bucket = UINT64_MAX / h.window_ns};
    for (int i = 0; i < 10; i++)
        slate_failover_record(&z, &h, UINT64_MAX - 1, true);
    assert_int_equal(z.excluded_until_ns, UINT64_MAX);
    assert_false(slate_failover_record(NULL, &h, 0, true));
    assert_false(slate_failover_record(&z, NULL, 0, true));
    assert_false(slate_failover_excluded(NULL, 0));
}

/* A splitmix64 stream, counting its calls. */
typedef struct {
    uint64_t s;
    unsigned calls;
} rng_t;

static uint64_t next(void *p)
{
    rng_t *r = p;
    r->calls++;
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Upper tail of chi-square with k degrees of freedom is below `crit`. */
static void test_draw(void **state)
{
    (void)state;
    static unsigned char table[SLATE_SAMPLER_SIZE(4)];
    assert_int_equal(slate_sampler_init(table, sizeof(table), 4), SLATE_OK);
    const uint16_t ids[] = {0, 1, 2, 3};
    const uint32_t w[] = {50, 30, 15, 5};
    assert_int_equal(slate_sampler_compile_u32(table, sizeof(table), ids, w, 4), SLATE_OK);
    slate_failover_region_t regions[4];
    memset(regions, 0, sizeof(regions));
    uint64_t now = 100 * S;
    rng_t rng = {.s = 42};

    /* nothing excluded: one generator call per draw */
    assert_int_not_equal(slate_failover_draw(table, regions, 4, now, next, &rng, 8),
                         SLATE_FAILOVER_NONE);
    assert_int_equal(rng.calls, 1);

    /* region 0 excluded: the others keep their proportions 30:15:5 */
    regions[0].excluded_until_ns = now + S;
    enum { N = 100000 };
    unsigned count[4] = {0}, none = 0;
    for (int i = 0; i < N; i++) {
        uint16_t r = slate_failover_draw(table, regions, 4, now, next, &rng, 64);
        if (r == SLATE_FAILOVER_NONE)
            none++;
        else
            count[r]++;
    }
    assert_int_equal(count[0], 0);
    assert_int_equal(none, 0);
    double chi = 0;
    const double share[] = {0, 0.6, 0.3, 0.1};
    for (int k = 1; k < 4; k++) {
        double e = share[k] * N;
        chi += (count[k] - e) * (count[k] - e) / e;
    }
    assert_true(chi < 13.82); /* chi-square, 2 degrees of freedom, p = 0.001 */

    /* after the hold region 0 is drawn again */
    assert_false(slate_failover_excluded(&regions[0], now + S));

    /* every region excluded: NONE after exactly `tries` draws */
    for (int k = 0; k < 4; k++)
        regions[k].excluded_until_ns = now + S;
    rng.calls = 0;
    assert_int_equal(slate_failover_draw(table, regions, 4, now, next, &rng, 5),
                     SLATE_FAILOVER_NONE);
    assert_int_equal(rng.calls, 5);
    /* ids beyond the state array are not excluded */
    assert_int_not_equal(slate_failover_draw(table, regions, 0, now, next, &rng, 1),
                         SLATE_FAILOVER_NONE);
    assert_int_equal(slate_failover_draw(NULL, regions, 4, now, next, &rng, 1),
                     SLATE_FAILOVER_NONE);
    assert_int_equal(slate_failover_draw(table, regions, 4, now, NULL, &rng, 1),
                     SLATE_FAILOVER_NONE);
    assert_int_equal(slate_failover_draw(table, regions, 4, now, next, &rng, 0),
                     SLATE_FAILOVER_NONE);
    /* an empty table */
    static unsigned char empty[SLATE_SAMPLER_SIZE(2)];
    assert_int_equal(slate_sampler_init(empty, sizeof(empty), 2), SLATE_OK);
    assert_int_equal(slate_failover_draw(empty, NULL, 0, now, next, &rng, 3), SLATE_FAILOVER_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),     cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_hold),       cmocka_unit_test(test_window),
        cmocka_unit_test(test_saturation), cmocka_unit_test(test_draw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
