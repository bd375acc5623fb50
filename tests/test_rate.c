/*
 * Tests of the rate estimator against the brute-force model in rate_model.h,
 * over randomised schedules from a fixed-seed PRNG, plus its layout, its
 * validation of corrupted regions and every bad parameter.
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

#include "slate/slate.h"
#include "rate_model.h"

#define SEC 1000000000ull
#define MS  1000000ull
#define US  1000ull

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t n)
{
    return n ? rng() % n : 0;
}

static double rng_unit(void)
{
    return (double)(rng() >> 11) * (1.0 / 9007199254740992.0);
}

/* An estimator in its own 8-byte aligned heap block, with its model. */
typedef struct pair {
    slate_rate_t *r;
    size_t len;
    rate_model m;
} pair;

static void pair_init(pair *p, const slate_rate_params_t *params)
{
    p->len = slate_rate_size(params);
    assert_true(p->len > 0);
    void *mem = aligned_alloc(8, p->len);
    assert_non_null(mem);
    memset(mem, 0xa5, p->len);
    assert_int_equal(slate_rate_init(mem, p->len, params), SLATE_OK);
    p->r = mem;
    rm_init(&p->m, params ? params
                          : &(slate_rate_params_t){SLATE_RATE_DEFAULT_WINDOW_NS,
                                                   SLATE_RATE_DEFAULT_RESOLUTION_NS,
                                                   SLATE_RATE_DEFAULT_MAX_BACKJUMP_NS});
}

static void pair_free(pair *p)
{
    free(p->r);
    rm_free(&p->m);
}

/* Add to both and require the same status. */
static void pair_add_n(pair *p, uint64_t t, uint64_t n)
{
    slate_status want = rm_add_n(&p->m, t, n);
    slate_status got = n == 1 ? slate_rate_add(p->r, t) : slate_rate_add_n(p->r, t, n);
    if (got != want)
        fail_msg("add_n(t=%llu, n=%llu): got %s, model %s", (unsigned long long)t,
                 (unsigned long long)n, slate_status_name(got), slate_status_name(want));
}

static void pair_check_count(const pair *p, uint64_t t)
{
    uint64_t got = slate_rate_count(p->r, t), want = rm_count(&p->m, t);
    if (got != want)
        fail_msg("count(t=%llu): got %llu, model %llu", (unsigned long long)t,
                 (unsigned long long)got, (unsigned long long)want);
}

/*
 * Full comparison: head, counters, validity, and the count at every tick from
 * the head to a window past it (those suffix sums determine every bucket), plus
 * a few reads behind the head. Checks that none of it writes the region.
 */
static void pair_check_full(const pair *p)
{
    slate_rate_info_t info;
    assert_int_equal(slate_rate_info(p->r, &info), SLATE_OK);
    assert_int_equal(info.head_tick, p->m.head);
    assert_int_equal(info.late, p->m.late);
    assert_int_equal(info.resets, p->m.resets);
    assert_int_equal(info.saturated, p->m.saturated);
    assert_int_equal(slate_rate_validate(p->r, p->len), SLATE_OK);
    unsigned char *before = malloc(p->len);
    assert_non_null(before);
    memcpy(before, p->r, p->len);
    uint64_t h = p->m.head, res = p->m.res;
    for (uint64_t j = 0; j <= p->m.n; j++) {
        pair_check_count(p, (h + j) * res);
        pair_check_count(p, (h + j) * res + res - 1);
    }
    pair_check_count(p, 0);
    pair_check_count(p, h * res / 2);
    pair_check_count(p, UINT64_MAX);
    assert_int_equal(info.total, rm_count(&p->m, h * res));
    assert_memory_equal(before, p->r, p->len);
    free(before);
}

/* ---- parameters, size, layout ------------------------------------------ */

static void test_defaults_and_size(void **state)
{
    (void)state;
    slate_rate_params_t p = slate_rate_params_default();
    assert_int_equal(p.window_ns, SEC);
    assert_int_equal(p.resolution_ns, MS);
    assert_int_equal(p.max_backjump_ns, 10 * SEC);
    assert_int_equal(slate_rate_check_params(&p), SLATE_OK);
    /* 96-byte header + 1000 four-byte buckets: within the 8 KiB target. */
    assert_int_equal(slate_rate_size(&p), 96 + 4 * 1000);
    assert_int_equal(slate_rate_size(NULL), 4096);
    assert_true(slate_rate_size(NULL) <= 8192);
    /* Odd bucket counts pad to a multiple of 8. */
    slate_rate_params_t q = {7 * MS, MS, SEC};
    assert_int_equal(slate_rate_size(&q), 96 + 32);
    q.window_ns = 8 * MS;
    assert_int_equal(slate_rate_size(&q), 96 + 32);
}

static void test_bad_params(void **state)
{
    (void)state;
    const slate_rate_params_t bad[] = {
        {0, MS, 10 * SEC},                                                 /* zero window */
        {SEC, 0, 10 * SEC},                                                /* zero resolution */
        {SEC + 1, MS, 10 * SEC},                                           /* not a multiple */
        {SEC, 3 * MS, 10 * SEC},                                           /* not a multiple */
        {MS, SEC, 10 * SEC},                                               /* window < resolution */
        {(uint64_t)(SLATE_RATE_MAX_BUCKETS + 1) * 1000, 1000, UINT64_MAX}, /* too many */
        {UINT64_MAX - UINT64_MAX % 2, 2, UINT64_MAX},                      /* far too many */
        {SEC, MS, SEC - 1}, /* backjump below window */
        {SEC, MS, 0},
    };
    unsigned char *mem = NULL;
    mem = aligned_alloc(8, 1 << 16);
    assert_non_null(mem);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(slate_rate_check_params(&bad[i]), SLATE_ERANGE);
        assert_int_equal(slate_rate_size(&bad[i]), 0);
        memset(mem, 0x5a, 1 << 16);
        assert_int_equal(slate_rate_init(mem, 1 << 16, &bad[i]), SLATE_ERANGE);
        for (size_t j = 0; j < 1 << 16; j++)
            assert_int_equal(mem[j], 0x5a); /* nothing written */
    }
    /* The edges that are allowed. */
    slate_rate_params_t ok = {(uint64_t)SLATE_RATE_MAX_BUCKETS * 1000, 1000, UINT64_MAX};
    assert_int_equal(slate_rate_check_params(&ok), SLATE_OK);
    assert_int_equal(slate_rate_size(&ok), 96 + 4 * (size_t)SLATE_RATE_MAX_BUCKETS);
    slate_rate_params_t edge = {SEC, MS, SEC};
    assert_int_equal(slate_rate_check_params(&edge), SLATE_OK);
    slate_rate_params_t one = {1, 1, 1};
    assert_int_equal(slate_rate_check_params(&one), SLATE_OK);
    assert_int_equal(slate_rate_size(&one), 104);

    assert_int_equal(slate_rate_check_params(NULL), SLATE_EINVAL);
    assert_int_equal(slate_rate_init(NULL, 4096, NULL), SLATE_EINVAL);
    memset(mem, 0x5a, 8192);
    assert_int_equal(slate_rate_init(mem + 4, 4096, NULL), SLATE_EALIGN);
    assert_int_equal(slate_rate_init(mem + 1, 4096, NULL), SLATE_EALIGN);
    assert_int_equal(slate_rate_init(mem, 4095, NULL), SLATE_ENOSPC);
    assert_int_equal(slate_rate_init(mem, 0, NULL), SLATE_ENOSPC);
    for (size_t j = 0; j < 8192; j++)
        assert_int_equal(mem[j], 0x5a);
    /* A larger buffer is fine; bytes past the region are left alone. */
    assert_int_equal(slate_rate_init(mem, 8192, NULL), SLATE_OK);
    assert_int_equal(mem[4096], 0x5a);
    assert_int_equal(slate_rate_validate(mem, 8192), SLATE_OK);
    free(mem);
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The documented byte layout, read byte by byte (independent of host order). */
static void test_layout_bytes(void **state)
{
    (void)state;
    unsigned char *mem = NULL;
    mem = aligned_alloc(8, 4096);
    assert_non_null(mem);
    assert_int_equal(slate_rate_init(mem, 4096, NULL), SLATE_OK);
    assert_memory_equal(mem, "SLRT", 4);
    assert_int_equal(le(mem + 0, 4), SLATE_RATE_MAGIC);
    assert_int_equal(le(mem + 4, 2), 1);
    assert_int_equal(le(mem + 6, 2), 96);
    assert_int_equal(le(mem + 8, 4), 1000);
    assert_int_equal(le(mem + 12, 4), 0);
    assert_int_equal(le(mem + 16, 8), MS);
    assert_int_equal(le(mem + 24, 8), SEC);
    assert_int_equal(le(mem + 32, 8), 10 * SEC);
    assert_int_equal(le(mem + 40, 8), 4096);
    for (int i = 48; i < 4096; i++)
        assert_int_equal(mem[i], 0);
    slate_rate_t *r = (slate_rate_t *)mem;
    /* 5 arrivals at 2.0034 s: tick 2003, bucket 3. */
    assert_int_equal(slate_rate_add_n(r, 2003400000ull, 5), SLATE_OK);
    assert_int_equal(le(mem + 48, 8), 2003);      /* head */
    assert_int_equal(le(mem + 12, 4), 3);         /* head bucket */
    assert_int_equal(le(mem + 56, 8), 5);         /* total */
    assert_int_equal(le(mem + 96 + 4 * 3, 4), 5); /* bucket 3 */
    /* 2 more at 1.5 s: tick 1503, bucket 503, still in the window. */
    assert_int_equal(slate_rate_add_n(r, 1503000000ull, 2), SLATE_OK);
    assert_int_equal(le(mem + 96 + 4 * 503, 4), 2);
    assert_int_equal(le(mem + 56, 8), 7);
    /* one at 1.0 s: tick 1000 <= 2003 - 1000: late. */
    assert_int_equal(slate_rate_add(r, SEC), SLATE_ELATE);
    assert_int_equal(le(mem + 64, 8), 1);
    assert_int_equal(slate_rate_validate(mem, 4096), SLATE_OK);
    free(mem);
}

/* ---- exactness against the model --------------------------------------- */

/* A Poisson stream at `rate` per second for `dur` ns from `t0`. */
static void run_steady(double rate, uint64_t t0, uint64_t dur, const slate_rate_params_t *params)
{
    pair p;
    pair_init(&p, params);
    double mean_gap = 1e9 / rate;
    double t = (double)t0;
    uint64_t adds = 0;
    uint64_t last = t0;
    while (t < (double)(t0 + dur)) {
        t += -log(1.0 - rng_unit()) * mean_gap;
        last = (uint64_t)t;
        pair_add_n(&p, last, 1);
        if (++adds % 997 == 0 || rate < 1000) {
            pair_check_count(&p, last);
            pair_check_count(&p, last + rng_below(2 * SEC));
        }
        if (adds % 1000003 == 0)
            pair_check_full(&p);
    }
    pair_check_full(&p);
    /* Sanity on top of exactness: a steady stream fills the window near rate * window. */
    if (rate >= 1000) {
        double c = (double)slate_rate_count(p.r, last);
        double w = (double)p.m.n * (double)p.m.res / 1e9;
        assert_true(fabs(c - rate * w) < 6 * sqrt(rate * w) + 2);
    }
    pair_free(&p);
}

static void test_steady_rates(void **state)
{
    (void)state;
    rng_state = 1;
    run_steady(1, 5 * SEC, 30 * SEC, NULL);
    run_steady(10, 0, 20 * SEC, NULL);
    run_steady(100, 123456789, 10 * SEC, NULL);
    run_steady(1000, 7 * SEC, 5 * SEC, NULL);
    run_steady(1750, 7 * SEC, 3 * SEC, NULL);
    run_steady(10000, 1ull << 40, 3 * SEC, NULL);
    run_steady(100000, 3 * SEC, 2500 * MS, NULL);
    run_steady(1000000, 3 * SEC, 2 * SEC, NULL);
    run_steady(10000000, 3 * SEC, 1500 * MS, NULL);
    /* Other windows and resolutions, including one bucket and odd counts. */
    slate_rate_params_t a = {10 * MS, 10 * US, 100 * MS};
    run_steady(200000, 1 * SEC, 100 * MS, &a);
    slate_rate_params_t b = {60 * SEC, 100 * MS, 600 * SEC};
    run_steady(50, 0, 200 * SEC, &b);
    slate_rate_params_t c = {7, 7, 7};
    run_steady(1e8, 0, 10 * US, &c);
    slate_rate_params_t d = {999 * 1001, 1001, UINT64_MAX};
    run_steady(1e6, 17, 5 * MS, &d);
}

static void test_burst(void **state)
{
    (void)state;
    rng_state = 2;
    pair p;
    pair_init(&p, NULL);
    /* Ten million single arrivals inside one millisecond. */
    uint64_t t0 = 42 * SEC + 100 * US;
    for (uint64_t i = 0; i < 10000000ull; i++)
        assert_int_equal(slate_rate_add(p.r, t0 + i / 12), SLATE_OK);
    assert_int_equal(slate_rate_count(p.r, t0 + 999 * US), 10000000ull);
    assert_int_equal(slate_rate_count(p.r, t0 + 999 * MS), 10000000ull);
    /* Tick 42000 leaves the window when the head reaches 43000. */
    assert_int_equal(slate_rate_count(p.r, 43 * SEC - 1), 10000000ull);
    assert_int_equal(slate_rate_count(p.r, 43 * SEC), 0);
    assert_int_equal(slate_rate_per_second(p.r, t0), 1e7);
    /* And as one add_n, against the model, amid a background stream. */
    pair q;
    pair_init(&q, NULL);
    uint64_t t = SEC;
    for (int i = 0; i < 3000; i++) {
        t += rng_below(2 * MS);
        pair_add_n(&q, t, 1);
        if (i % 500 == 250)
            pair_add_n(&q, t + rng_below(MS), 10000000ull);
        pair_check_count(&q, t);
    }
    pair_check_full(&q);
    pair_free(&p);
    pair_free(&q);
}

static void test_idle_gaps(void **state)
{
    (void)state;
    rng_state = 3;
    pair p;
    pair_init(&p, NULL);
    uint64_t t = 10 * SEC;
    for (int round = 0; round < 40; round++) {
        int n = (int)rng_below(2000);
        for (int i = 0; i < n; i++) {
            t += rng_below(1 * MS);
            pair_add_n(&p, t, 1 + rng_below(3));
        }
        pair_check_full(&p);
        /* Idle for a while: sometimes shorter, usually longer than the window. */
        uint64_t gap = rng_below(4) == 0 ? rng_below(SEC) : SEC + rng_below(30 * SEC);
        pair_check_count(&p, t + gap);
        if (gap >= SEC + MS)
            assert_int_equal(slate_rate_count(p.r, t + gap), 0);
        t += gap;
    }
    pair_free(&p);
}

static void test_out_of_order(void **state)
{
    (void)state;
    rng_state = 4;
    /* Stamps jittered around a steady clock, as from threads whose clocks differ. */
    const uint64_t jitters[] = {0, 50 * US, 3 * MS, 200 * MS, 800 * MS};
    for (size_t j = 0; j < sizeof jitters / sizeof jitters[0]; j++) {
        pair p;
        pair_init(&p, NULL);
        uint64_t base = 100 * SEC;
        for (int i = 0; i < 200000; i++) {
            base += rng_below(20 * US);
            uint64_t t = base + rng_below(2 * jitters[j] + 1) - jitters[j];
            pair_add_n(&p, t, 1);
            if (i % 101 == 0)
                pair_check_count(&p, base);
            if (i % 50000 == 0)
                pair_check_full(&p);
        }
        pair_check_full(&p);
        slate_rate_info_t info;
        assert_int_equal(slate_rate_info(p.r, &info), SLATE_OK);
        if (jitters[j] <= 200 * MS)
            assert_int_equal(info.late, 0); /* all absorbed */
        else
            assert_true(info.late > 0); /* 1.6 windows of spread: some are too old */
        assert_int_equal(info.resets, 0);
        pair_free(&p);
    }
}

static void test_clock_jumps(void **state)
{
    (void)state;
    rng_state = 5;
    pair p;
    pair_init(&p, NULL);
    uint64_t t = 1000 * SEC;
    for (int i = 0; i < 500; i++)
        pair_add_n(&p, t += MS, 1);
    /* Half a window back: absorbed. */
    assert_int_equal(slate_rate_add(p.r, t - 500 * MS), SLATE_OK);
    assert_int_equal(rm_add_n(&p.m, t - 500 * MS, 1), SLATE_OK);
    /* Three windows back: late, not counted, head unchanged. */
    uint64_t before = slate_rate_count(p.r, t);
    assert_int_equal(slate_rate_add(p.r, t - 3 * SEC), SLATE_ELATE);
    assert_int_equal(rm_add_n(&p.m, t - 3 * SEC, 1), SLATE_ELATE);
    assert_int_equal(slate_rate_count(p.r, t), before);
    pair_check_full(&p);
    /* Twenty windows back (beyond the 10 s backjump): re-based there. */
    uint64_t back = t - 20 * SEC;
    assert_int_equal(slate_rate_add(p.r, back), SLATE_OK);
    assert_int_equal(rm_add_n(&p.m, back, 1), SLATE_OK);
    assert_int_equal(slate_rate_count(p.r, back), 1);
    slate_rate_info_t info;
    assert_int_equal(slate_rate_info(p.r, &info), SLATE_OK);
    assert_int_equal(info.resets, 1);
    assert_int_equal(info.head_tick, back / MS);
    pair_check_full(&p);
    /* The estimator keeps counting at the new time. */
    for (int i = 0; i < 300; i++)
        pair_add_n(&p, back + (uint64_t)i * MS, 1);
    assert_int_equal(slate_rate_count(p.r, back + 299 * MS), 301); /* with the re-basing one */
    /* A stamp from the far future moves the head; the next true stamp re-bases back. */
    pair_add_n(&p, UINT64_MAX - 5, 1);
    assert_int_equal(slate_rate_count(p.r, UINT64_MAX), 1);
    pair_check_full(&p);
    pair_add_n(&p, back + 400 * MS, 1);
    assert_int_equal(slate_rate_count(p.r, back + 400 * MS), 1);
    assert_int_equal(slate_rate_info(p.r, &info), SLATE_OK);
    assert_int_equal(info.resets, 2);
    pair_check_full(&p);
    /* Forward jumps of every size, then random jumps both ways. */
    const uint64_t fwd[] = {1, MS, 999 * MS, SEC, SEC + MS, 5 * SEC, 3600 * SEC};
    uint64_t now = back + 400 * MS;
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
        for (int k = 0; k < 50; k++)
            pair_add_n(&p, now + rng_below(SEC), 1);
        now += fwd[i];
        pair_add_n(&p, now, 1);
        pair_check_full(&p);
    }
    for (int i = 0; i < 2000; i++) {
        int64_t jump = (int64_t)rng_below(60 * SEC) - (int64_t)(30 * SEC);
        if (jump < 0 && (uint64_t)-jump > now)
            jump = 0;
        now = (uint64_t)((int64_t)now + jump);
        pair_add_n(&p, now, 1 + rng_below(4));
        pair_check_count(&p, now + rng_below(2 * SEC));
    }
    pair_check_full(&p);
    /* The edges exactly: N ticks back is late, B = 10000 ticks back is still late,
     * B + 1 ticks back re-bases. */
    pair e;
    pair_init(&e, NULL);
    const uint64_t h = 50000 * MS + 999999;
    const struct {
        uint64_t back;
        slate_status want;
    } edges[] = {{999 * MS + 999999, SLATE_OK},
                 {1000 * MS, SLATE_ELATE},
                 {10000 * MS, SLATE_ELATE},
                 {10000 * MS + 999999, SLATE_ELATE},
                 {10001 * MS, SLATE_OK}};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        assert_int_equal(slate_rate_init(e.r, e.len, NULL), SLATE_OK);
        rm_free(&e.m);
        rm_init(&e.m, &(slate_rate_params_t){SEC, MS, 10 * SEC});
        pair_add_n(&e, h, 1);
        assert_int_equal(slate_rate_add(e.r, h - edges[i].back), edges[i].want);
        assert_int_equal(rm_add_n(&e.m, h - edges[i].back, 1), edges[i].want);
        assert_int_equal(slate_rate_info(e.r, &info), SLATE_OK);
        assert_int_equal(info.resets, i == 4);
        pair_check_full(&e);
    }
    pair_free(&e);
    /* A region that never re-bases: stamps far back are only late. */
    slate_rate_params_t never = {SEC, MS, UINT64_MAX};
    pair q;
    pair_init(&q, &never);
    pair_add_n(&q, 5000 * SEC, 1);
    pair_add_n(&q, 1 * SEC, 1);
    assert_int_equal(slate_rate_info(q.r, &info), SLATE_OK);
    assert_int_equal(info.late, 1);
    assert_int_equal(info.resets, 0);
    pair_check_full(&q);
    pair_free(&p);
    pair_free(&q);
}

/* Four workers fed round-robin from one time-ordered stream equal one estimator. */
static void test_merge_workers(void **state)
{
    (void)state;
    rng_state = 6;
    const slate_rate_params_t params[] = {
        {SEC, MS, 10 * SEC},
        {10 * MS, 100 * US, SEC},
        {13 * 7, 7, 13 * 7},
    };
    for (size_t pi = 0; pi < sizeof params / sizeof params[0]; pi++) {
        const slate_rate_params_t *pp = &params[pi];
        uint64_t win = pp->window_ns;
        pair all, w[4];
        pair_init(&all, pp);
        for (int i = 0; i < 4; i++)
            pair_init(&w[i], pp);
        size_t len = all.len;
        unsigned char *sum = NULL;
        sum = aligned_alloc(8, len);
        assert_non_null(sum);
        uint64_t t = 77 * win + 3;
        for (int i = 0; i < 100000; i++) {
            /* Bursty: mostly small steps, sometimes an idle gap. */
            t += rng_below(8) == 0 ? rng_below(2 * win) : rng_below(win / 50 + 2);
            uint64_t n = 1 + (rng_below(16) == 0 ? rng_below(1000) : 0);
            assert_int_equal(slate_rate_add_n(all.r, t, n), SLATE_OK);
            assert_int_equal(slate_rate_add_n(w[i % 4].r, t, n), SLATE_OK);
            if (i % 997 == 0) {
                /* Merge into a fresh region: byte-identical to `all`. */
                assert_int_equal(slate_rate_init(sum, len, pp), SLATE_OK);
                for (int k = 0; k < 4; k++)
                    assert_int_equal(slate_rate_merge((slate_rate_t *)sum, w[k].r), SLATE_OK);
                assert_memory_equal(sum, all.r, len);
                /* The read-only sum agrees at and after the newest head. */
                const slate_rate_t *ws[4] = {w[0].r, w[1].r, w[2].r, w[3].r};
                for (int k = 0; k < 4; k++) {
                    uint64_t at = t + rng_below(2 * win);
                    uint64_t s = 0;
                    assert_int_equal(slate_rate_sum(ws, 4, at, &s), SLATE_OK);
                    assert_int_equal(s, slate_rate_count(all.r, at));
                }
            }
        }
        free(sum);
        pair_free(&all);
        for (int i = 0; i < 4; i++)
            pair_free(&w[i]);
    }
}

/* Merges of estimators with unrelated histories, against the model. */
static void test_merge_vs_model(void **state)
{
    (void)state;
    rng_state = 7;
    slate_rate_params_t pp = {20 * MS, MS, 200 * MS};
    pair e[3];
    for (int i = 0; i < 3; i++)
        pair_init(&e[i], &pp);
    uint64_t t = SEC;
    for (int step = 0; step < 20000; step++) {
        int i = (int)rng_below(3);
        switch (rng_below(6)) {
        case 0:
        case 1:
        case 2:
            pair_add_n(&e[i], t + rng_below(40 * MS) - 20 * MS, 1 + rng_below(5));
            break;
        case 3: {
            int j = (int)rng_below(3);
            slate_status want;
            if (i == j) {
                rate_model copy;
                rm_copy(&copy, &e[j].m);
                want = rm_merge(&e[i].m, &copy);
                rm_free(&copy);
            } else {
                want = rm_merge(&e[i].m, &e[j].m);
            }
            assert_int_equal(slate_rate_merge(e[i].r, e[j].r), want);
            pair_check_count(&e[i], t);
            break;
        }
        case 4:
            t += rng_below(30 * MS);
            break;
        default: {
            const slate_rate_t *rs[3] = {e[0].r, e[1].r, e[2].r};
            uint64_t at = t + rng_below(30 * MS), s;
            assert_int_equal(slate_rate_sum(rs, 3, at, &s), SLATE_OK);
            assert_int_equal(s,
                             rm_count(&e[0].m, at) + rm_count(&e[1].m, at) + rm_count(&e[2].m, at));
        }
        }
        if (step % 1000 == 0)
            for (int k = 0; k < 3; k++)
                pair_check_full(&e[k]);
    }
    for (int k = 0; k < 3; k++) {
        pair_check_full(&e[k]);
        pair_free(&e[k]);
    }
}

static void test_merge_and_sum_errors(void **state)
{
    (void)state;
    unsigned char *a = NULL, *b = NULL, *c = NULL;
    a = aligned_alloc(8, 8192);
    assert_non_null(a);
    b = aligned_alloc(8, 8192);
    assert_non_null(b);
    c = aligned_alloc(8, 8192);
    assert_non_null(c);
    slate_rate_params_t p2 = {SEC, 2 * MS, 10 * SEC};     /* 500 buckets */
    slate_rate_params_t p3 = {2 * SEC, 2 * MS, 10 * SEC}; /* 1000 buckets of 2 ms */
    slate_rate_params_t p4 = {SEC, MS, 60 * SEC};         /* only backjump differs */
    assert_int_equal(slate_rate_init(a, 8192, NULL), SLATE_OK);
    assert_int_equal(slate_rate_init(b, 8192, &p2), SLATE_OK);
    assert_int_equal(slate_rate_init(c, 8192, &p3), SLATE_OK);
    slate_rate_t *ra = (slate_rate_t *)a, *rb = (slate_rate_t *)b, *rc = (slate_rate_t *)c;
    assert_int_equal(slate_rate_add(ra, SEC), SLATE_OK);
    unsigned char snap[4096];
    memcpy(snap, a, sizeof snap);
    assert_int_equal(slate_rate_merge(ra, rb), SLATE_EMISMATCH);
    assert_int_equal(slate_rate_merge(ra, rc), SLATE_EMISMATCH);
    assert_int_equal(slate_rate_merge(rc, ra), SLATE_EMISMATCH);
    assert_memory_equal(snap, a, sizeof snap); /* untouched on error */
    assert_int_equal(slate_rate_merge(NULL, ra), SLATE_EINVAL);
    assert_int_equal(slate_rate_merge(ra, NULL), SLATE_EINVAL);
    const slate_rate_t *list[3] = {ra, rb, NULL};
    uint64_t out = 99;
    assert_int_equal(slate_rate_sum(list, 2, SEC, &out), SLATE_EMISMATCH);
    assert_int_equal(out, 0);
    out = 99;
    list[1] = NULL;
    assert_int_equal(slate_rate_sum(list, 2, SEC, &out), SLATE_EINVAL);
    assert_int_equal(out, 0);
    assert_int_equal(slate_rate_sum(NULL, 1, SEC, &out), SLATE_EINVAL);
    assert_int_equal(slate_rate_sum(list, 1, SEC, NULL), SLATE_EINVAL);
    assert_int_equal(slate_rate_sum(list, 0, SEC, &out), SLATE_OK);
    assert_int_equal(out, 0);
    assert_int_equal(slate_rate_sum(list, 1, SEC, &out), SLATE_OK);
    assert_int_equal(out, 1);
    /* Different backjump merges fine; dst keeps its own. */
    assert_int_equal(slate_rate_init(b, 8192, &p4), SLATE_OK);
    assert_int_equal(slate_rate_add_n(rb, SEC + 5, 4), SLATE_OK);
    assert_int_equal(slate_rate_merge(ra, rb), SLATE_OK);
    assert_int_equal(slate_rate_count(ra, SEC), 5);
    slate_rate_info_t info;
    assert_int_equal(slate_rate_info(ra, &info), SLATE_OK);
    assert_int_equal(info.params.max_backjump_ns, 10 * SEC);
    /* Merging into itself doubles. */
    assert_int_equal(slate_rate_merge(ra, ra), SLATE_OK);
    assert_int_equal(slate_rate_count(ra, SEC), 10);
    assert_int_equal(slate_rate_validate(a, 4096), SLATE_OK);
    /* Not an estimator. */
    memset(c, 0, 8192);
    assert_int_equal(slate_rate_merge(ra, rc), SLATE_EBADMAGIC);
    assert_int_equal(slate_rate_merge(rc, ra), SLATE_EBADMAGIC);
    assert_int_equal(slate_rate_add(rc, SEC), SLATE_EBADMAGIC);
    assert_int_equal(slate_rate_add_n(NULL, SEC, 1), SLATE_EINVAL);
    assert_int_equal(slate_rate_count(rc, SEC), 0);
    assert_int_equal(slate_rate_count(NULL, SEC), 0);
    assert_true(slate_rate_per_second(rc, SEC) == 0.0);
    assert_int_equal(slate_rate_info(rc, &info), SLATE_EBADMAGIC);
    assert_int_equal(slate_rate_info(NULL, &info), SLATE_EINVAL);
    assert_int_equal(slate_rate_info(ra, NULL), SLATE_EINVAL);
    list[0] = rc;
    assert_int_equal(slate_rate_sum(list, 1, SEC, &out), SLATE_EBADMAGIC);
    for (size_t i = 0; i < 8192; i++)
        assert_int_equal(c[i], 0);
    free(a);
    free(b);
    free(c);
}

/* Reads, sums, info and validate never write the region. */
static void test_read_does_not_mutate(void **state)
{
    (void)state;
    rng_state = 8;
    pair p;
    pair_init(&p, NULL);
    unsigned char *before = malloc(p.len);
    assert_non_null(before);
    uint64_t t = 5 * SEC;
    for (int i = 0; i < 20000; i++) {
        t += rng_below(200 * US);
        pair_add_n(&p, t, 1);
        if (i % 37 == 0) {
            memcpy(before, p.r, p.len);
            uint64_t at = rng_below(3) == 0 ? t - rng_below(t) : t + rng_below(3 * SEC);
            uint64_t c1 = slate_rate_count(p.r, at);
            double ps = slate_rate_per_second(p.r, at);
            uint64_t s = 0;
            const slate_rate_t *one[1] = {p.r};
            assert_int_equal(slate_rate_sum(one, 1, at, &s), SLATE_OK);
            slate_rate_info_t info;
            assert_int_equal(slate_rate_info(p.r, &info), SLATE_OK);
            assert_int_equal(slate_rate_validate(p.r, p.len), SLATE_OK);
            assert_memory_equal(before, p.r, p.len);
            assert_int_equal(c1, rm_count(&p.m, at));
            assert_int_equal(s, c1);
            assert_true(ps == (double)c1);
            /* A reader later in time sees a count that only drops. */
            assert_true(slate_rate_count(p.r, at + MS) <= c1 || at < t);
        }
    }
    free(before);
    pair_free(&p);
}

static void test_per_second(void **state)
{
    (void)state;
    unsigned char *mem = NULL;
    mem = aligned_alloc(8, 16384);
    assert_non_null(mem);
    slate_rate_t *r = (slate_rate_t *)mem;
    assert_int_equal(slate_rate_init(mem, 16384, NULL), SLATE_OK);
    for (int i = 0; i < 500; i++)
        assert_int_equal(slate_rate_add(r, SEC + (uint64_t)i * 2 * MS), SLATE_OK);
    assert_true(slate_rate_per_second(r, SEC + 998 * MS) == 500.0);
    slate_rate_params_t two = {2 * SEC, MS, 20 * SEC};
    assert_int_equal(slate_rate_init(mem, 16384, &two), SLATE_OK);
    for (int i = 0; i < 500; i++)
        assert_int_equal(slate_rate_add(r, SEC + (uint64_t)i * 2 * MS), SLATE_OK);
    assert_true(slate_rate_per_second(r, SEC + 998 * MS) == 250.0);
    /* At 3.299 s the window is ticks (1299, 3299]: the 350 stamps from 1.300 s on. */
    assert_true(slate_rate_per_second(r, 3 * SEC + 299 * MS) == 175.0);
    free(mem);
}

static void test_saturation(void **state)
{
    (void)state;
    pair p;
    pair_init(&p, NULL);
    pair_add_n(&p, SEC, UINT32_MAX - 1);
    pair_add_n(&p, SEC, 1);
    assert_int_equal(slate_rate_add(p.r, SEC), SLATE_EOVERFLOW);
    assert_int_equal(rm_add_n(&p.m, SEC, 1), SLATE_EOVERFLOW);
    assert_int_equal(slate_rate_count(p.r, SEC), UINT32_MAX);
    /* Another tick has its own bucket. */
    pair_add_n(&p, SEC + MS, UINT64_MAX);
    assert_int_equal(slate_rate_count(p.r, SEC + MS), 2ull * UINT32_MAX);
    slate_rate_info_t info;
    assert_int_equal(slate_rate_info(p.r, &info), SLATE_OK);
    assert_int_equal(info.saturated, 1 + (UINT64_MAX - UINT32_MAX));
    pair_check_full(&p);
    /* Merging saturates per bucket too. */
    pair q;
    pair_init(&q, NULL);
    pair_add_n(&q, SEC, 10);
    assert_int_equal(slate_rate_merge(q.r, p.r), SLATE_EOVERFLOW);
    assert_int_equal(rm_merge(&q.m, &p.m), SLATE_EOVERFLOW);
    assert_int_equal(slate_rate_count(q.r, SEC + MS), 2ull * UINT32_MAX);
    pair_check_full(&q);
    /* Every bucket full: the total is still exact. */
    slate_rate_params_t small = {4, 1, 4};
    pair s;
    pair_init(&s, &small);
    for (uint64_t t = 0; t < 4; t++)
        pair_add_n(&s, t, UINT32_MAX);
    assert_int_equal(slate_rate_count(s.r, 3), 4ull * UINT32_MAX);
    pair_check_full(&s);
    pair_free(&p);
    pair_free(&q);
    pair_free(&s);
}

/* ---- validation of corrupted regions ------------------------------------ */

static void put_le(unsigned char *p, int n, uint64_t v)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void test_validate_corruption(void **state)
{
    (void)state;
    rng_state = 9;
    const size_t len = 4096;
    unsigned char *good = NULL, *r = NULL;
    good = aligned_alloc(8, len);
    assert_non_null(good);
    r = aligned_alloc(8, len + 8);
    assert_non_null(r);
    assert_int_equal(slate_rate_init(good, len, NULL), SLATE_OK);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(slate_rate_add((slate_rate_t *)good, 2 * SEC + rng_below(SEC)), SLATE_OK);
    assert_int_equal(slate_rate_add((slate_rate_t *)good, 0), SLATE_ELATE);
    assert_int_equal(slate_rate_validate(good, len), SLATE_OK);

    struct {
        int off, width;
        uint64_t value;
        slate_status want;
    } cases[] = {
        {0, 4, 0x54524c54, SLATE_EBADMAGIC},
        {0, 4, 0, SLATE_EBADMAGIC},
        {4, 2, 0, SLATE_EBADVERSION},
        {4, 2, 2, SLATE_EBADVERSION},
        {6, 2, 64, SLATE_EBADSIZE},
        {6, 2, 97, SLATE_EBADSIZE},
        {8, 4, 0, SLATE_EBADSIZE},
        {8, 4, 999, SLATE_EBADSIZE},
        {8, 4, 1001, SLATE_EBADSIZE},
        {8, 4, UINT32_MAX, SLATE_EBADSIZE},
        {12, 4, 1000, SLATE_ECORRUPT},    /* head bucket out of range */
        {16, 8, 0, SLATE_EBADSIZE},       /* resolution */
        {16, 8, 2 * MS, SLATE_EBADSIZE},  /* resolution != window / N */
        {24, 8, 2 * SEC, SLATE_EBADSIZE}, /* window */
        {24, 8, 0, SLATE_EBADSIZE},
        {32, 8, SEC - 1, SLATE_EBADSIZE}, /* backjump below window */
        {32, 8, 0, SLATE_EBADSIZE},
        {40, 8, 4088, SLATE_EBADSIZE}, /* region size */
        {40, 8, 4104, SLATE_EBADSIZE},
        {40, 8, UINT64_MAX, SLATE_EBADSIZE},
        {56, 8, 0, SLATE_ECORRUPT}, /* total */
        {56, 8, UINT64_MAX, SLATE_ECORRUPT},
        {88, 8, 1, SLATE_ECORRUPT},               /* reserved */
        {96 + 4 * 17, 4, 123456, SLATE_ECORRUPT}, /* a bucket: total no longer sums */
        /* Counters may hold anything. */
        {64, 8, UINT64_MAX, SLATE_OK},
        {72, 8, 12345, SLATE_OK},
        {80, 8, 1, SLATE_OK},
        {32, 8, UINT64_MAX, SLATE_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(r, good, len);
        put_le(r + cases[i].off, cases[i].width, cases[i].value);
        slate_status got = slate_rate_validate(r, len);
        if (got != cases[i].want)
            fail_msg("case %zu (offset %d): got %s, want %s", i, cases[i].off,
                     slate_status_name(got), slate_status_name(cases[i].want));
    }
    /* head: change it and its bucket index together, but to an impossible tick. */
    memcpy(r, good, len);
    put_le(r + 48, 8, UINT64_MAX);
    put_le(r + 12, 4, UINT64_MAX % 1000);
    assert_int_equal(slate_rate_validate(r, len), SLATE_ECORRUPT);
    /* head moved without its bucket index. */
    memcpy(r, good, len);
    put_le(r + 48, 8, le(good + 48, 8) + 1);
    assert_int_equal(slate_rate_validate(r, len), SLATE_ECORRUPT);
    /* head and index moved together: consistent, accepted. */
    memcpy(r, good, len);
    put_le(r + 48, 8, le(good + 48, 8) + 1000);
    assert_int_equal(slate_rate_validate(r, len), SLATE_OK);
    /* A bucket and the total changed together: consistent, accepted. */
    memcpy(r, good, len);
    put_le(r + 96 + 4 * 17, 4, le(good + 96 + 4 * 17, 4) + 5);
    put_le(r + 56, 8, le(good + 56, 8) + 5);
    assert_int_equal(slate_rate_validate(r, len), SLATE_OK);
    /* A bucket for a tick before 0. */
    assert_int_equal(slate_rate_init(r, len, NULL), SLATE_OK);
    assert_int_equal(slate_rate_add((slate_rate_t *)r, 5 * MS), SLATE_OK);
    assert_int_equal(slate_rate_validate(r, len), SLATE_OK);
    put_le(r + 96 + 4 * 6, 4, 1);
    put_le(r + 56, 8, 2);
    assert_int_equal(slate_rate_validate(r, len), SLATE_ECORRUPT);
    /* Padding of an odd bucket count. */
    slate_rate_params_t odd = {7, 1, 7};
    assert_int_equal(slate_rate_init(r, 128, &odd), SLATE_OK);
    assert_int_equal(slate_rate_validate(r, 128), SLATE_OK);
    r[96 + 28] = 1;
    assert_int_equal(slate_rate_validate(r, 128), SLATE_ECORRUPT);
    /* Lengths, alignment, NULL. */
    assert_int_equal(slate_rate_validate(good, len - 1), SLATE_EBADSIZE);
    assert_int_equal(slate_rate_validate(good, 96), SLATE_EBADSIZE);
    assert_int_equal(slate_rate_validate(good, 95), SLATE_ENOSPC);
    assert_int_equal(slate_rate_validate(good, 0), SLATE_ENOSPC);
    assert_int_equal(slate_rate_validate(NULL, len), SLATE_EINVAL);
    memcpy(r + 4, good, len);
    assert_int_equal(slate_rate_validate(r + 4, len), SLATE_EALIGN);
    /* Every single-bit flip of the header is rejected or harmless. */
    for (int bit = 0; bit < 96 * 8; bit++) {
        memcpy(r, good, len);
        r[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        slate_status st = slate_rate_validate(r, len);
        int counter = bit / 8 >= 64 && bit / 8 < 88;
        int backjump_up = bit / 8 >= 32 && bit / 8 < 40 && le(r + 32, 8) >= SEC;
        if (counter || backjump_up)
            assert_int_equal(st, SLATE_OK);
        else
            assert_int_not_equal(st, SLATE_OK);
    }
    free(good);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_size),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_layout_bytes),
        cmocka_unit_test(test_steady_rates),
        cmocka_unit_test(test_burst),
        cmocka_unit_test(test_idle_gaps),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_clock_jumps),
        cmocka_unit_test(test_merge_workers),
        cmocka_unit_test(test_merge_vs_model),
        cmocka_unit_test(test_merge_and_sum_errors),
        cmocka_unit_test(test_read_does_not_mutate),
        cmocka_unit_test(test_per_second),
        cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_validate_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
