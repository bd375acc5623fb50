/*
 * Tests of the latency statistics: the bucket scheme against bounds computed
 * independently in long double, quantiles against sorted samples, moments
 * against two-pass long double sums, merging parts against the whole, and
 * validation of corrupted structs.
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

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit(void)
{
    return ((double)(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double rng_normal(void)
{
    return sqrt(-2.0 * log(rng_unit())) * cos(6.283185307179586 * rng_unit());
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static slate_stats_t *new_stats(void)
{
    slate_stats_t *s = malloc(sizeof *s);
    assert_non_null(s);
    memset(s, 0x77, sizeof *s);
    slate_stats_init(s);
    return s;
}

/* Independent bucket bounds: U(i) = 1000 * (10095/9905)^i in long double. */
static long double upper_ld(int i)
{
    return 1000.0L * powl(10095.0L / 9905.0L, (long double)i);
}

/* ---- the bucket scheme --------------------------------------------------- */

static void test_bucket_bounds(void **state)
{
    (void)state;
    assert_int_equal(slate_hist_bucket(0), 0);
    assert_int_equal(slate_hist_bucket(1), 0);
    assert_int_equal(slate_hist_bucket(1000), 0);
    assert_int_equal(slate_hist_bucket(1001), 1);
    assert_int_equal(slate_hist_bucket(1019), 1);
    assert_int_equal(slate_hist_bucket(1020), 2);
    assert_int_equal(slate_hist_bucket(UINT64_MAX), SLATE_HIST_BUCKETS - 1);
    assert_int_equal(slate_hist_bucket(SLATE_HIST_MAX_NS), 1159);
    assert_int_equal(slate_hist_value(0), 991);  /* 990.5 exactly, rounded up */
    assert_int_equal(slate_hist_value(1), 1010); /* 1009.5 exactly */
    assert_int_equal(slate_hist_value(SLATE_HIST_BUCKETS), slate_hist_value(1159));
    assert_int_equal(slate_hist_value(UINT32_MAX), slate_hist_value(1159));
    /* Every bucket's bounds map back to it, both sides of every edge. */
    int ambiguous = 0;
    for (int i = 1; i < (int)SLATE_HIST_BUCKETS - 1; i++) {
        long double u = upper_ld(i);
        long double fl = floorl(u);
        if (u - fl < 1e-6L || u - fl > 1.0L - 1e-6L) {
            ambiguous++; /* too close to an integer to judge in long double */
            continue;
        }
        uint64_t hi = (uint64_t)fl;
        if (slate_hist_bucket(hi) != (uint32_t)i || slate_hist_bucket(hi + 1) != (uint32_t)i + 1)
            fail_msg("edge %d (%llu): buckets %u, %u", i, (unsigned long long)hi,
                     slate_hist_bucket(hi), slate_hist_bucket(hi + 1));
        /* The lower edge of bucket i is the upper edge of i - 1. */
        uint64_t lo = (uint64_t)floorl(upper_ld(i - 1)) + 1;
        assert_int_equal(slate_hist_bucket(lo), i);
        assert_int_equal(slate_hist_bucket(lo - 1), i - 1);
        /* The representative lies in its bucket... */
        uint64_t rep = slate_hist_value((uint32_t)i);
        assert_int_equal(slate_hist_bucket(rep), i);
        long double rep_ld = 2.0L * u / (10095.0L / 9905.0L + 1.0L);
        assert_true(fabsl((long double)rep - rep_ld) <= 0.5L + 1e-6L);
        /* ...and within 1% of every integer in it, for the accurate range. */
        if (lo <= SLATE_HIST_MAX_NS) {
            double e_lo = (double)(rep - lo) / (double)lo;
            double e_hi = (double)(hi - rep) / (double)hi;
            assert_true(e_lo <= 0.00969 + 1e-9 && e_hi <= 0.00969 + 1e-9);
        }
    }
    assert_true(ambiguous < 3);
    assert_int_equal(slate_hist_bucket(slate_hist_value(0)), 0);
    assert_int_equal(slate_hist_bucket(slate_hist_value(1159)), 1159);
    /* The accurate range reaches SLATE_HIST_MAX_NS within the last bucket's own bound. */
    assert_true(upper_ld(1159) >= (long double)SLATE_HIST_MAX_NS);
    assert_true(upper_ld(1158) < (long double)SLATE_HIST_MAX_NS);
}

static void test_bucket_monotonic(void **state)
{
    (void)state;
    /* Every integer up to 3 ms: monotonic, steps of at most one bucket. */
    uint32_t prev = slate_hist_bucket(0);
    for (uint64_t v = 1; v <= 3000000; v++) {
        uint32_t b = slate_hist_bucket(v);
        assert_true(b == prev || b == prev + 1);
        prev = b;
    }
    /* Random values across the whole range, in sorted order. */
    rng_state = 11;
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < N; i++)
        v[i] = rng() >> (rng() % 64);
    qsort(v, N, sizeof *v, cmp_u64);
    for (int i = 1; i < N; i++) {
        uint32_t a = slate_hist_bucket(v[i - 1]), b = slate_hist_bucket(v[i]);
        assert_true(a <= b);
        /* The bucket agrees with the independent bounds. */
        if (v[i] > 1000 && b < SLATE_HIST_BUCKETS - 1) {
            long double x = (long double)v[i];
            assert_true(x <= upper_ld((int)b) + 1e-3L && x > upper_ld((int)b - 1) - 1e-3L);
        }
    }
    free(v);
}

/* ---- quantiles ------------------------------------------------------------ */

enum dist { UNIFORM, LOGNORMAL, BIMODAL, CONSTANT, FEW, PARETO, WIDE, DIST_COUNT };

static uint64_t draw(enum dist d)
{
    double x;
    switch (d) {
    case UNIFORM:
        return 1000 + rng() % 100000000; /* 1 us .. 100 ms */
    case LOGNORMAL:
        x = 5e6 * exp(rng_normal());
        break;
    case BIMODAL:
        x = rng() % 4 ? 1e6 * exp(0.1 * rng_normal()) : 2e8 * exp(0.2 * rng_normal());
        break;
    case CONSTANT:
        return 42000;
    case FEW: {
        static const uint64_t few[] = {1500, 27000, 27001, 800000, 9000000000ull};
        return few[rng() % 5];
    }
    case PARETO:
        x = 2e4 / pow(rng_unit(), 1.0 / 1.2);
        break;
    default: /* WIDE: log-uniform over the whole accurate range */
        x = 1001.0 * exp(rng_unit() * log((double)SLATE_HIST_MAX_NS / 1001.0));
        break;
    }
    if (x < 1001.0)
        x = 1001.0;
    if (x > (double)SLATE_HIST_MAX_NS)
        x = (double)SLATE_HIST_MAX_NS;
    return (uint64_t)x;
}

/* Quantiles of `s` against the sorted samples: within 1% (rank as in stats.h). */
static void check_quantiles(const slate_stats_t *s, uint64_t *sorted, size_t n)
{
    static const double qs[] = {0.0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double r = ceil(qs[k] * (double)n);
        size_t rank = r < 1 ? 1 : (size_t)r;
        uint64_t exact = sorted[rank - 1];
        uint64_t got = slate_stats_quantile(s, qs[k]);
        double err = fabs((double)got - (double)exact) / (double)exact;
        if (err >= 0.01)
            fail_msg("q=%g n=%zu: got %llu, exact %llu (%.4f%%)", qs[k], n, (unsigned long long)got,
                     (unsigned long long)exact, 100 * err);
        /* And exactly the representative of the exact sample's bucket, clamped. */
        uint64_t want = slate_hist_value(slate_hist_bucket(exact));
        want = want < sorted[0] ? sorted[0] : want > sorted[n - 1] ? sorted[n - 1] : want;
        assert_int_equal(got, want);
    }
}

/* Exact moments of the samples (as doubles, which is what the struct sees). */
static void check_moments(const slate_stats_t *s, const uint64_t *v, size_t n)
{
    assert_int_equal(s->count, n);
    long double sum = 0;
    uint64_t isum = 0, mn = UINT64_MAX, mx = 0;
    int sat = 0;
    for (size_t i = 0; i < n; i++) {
        sum += (long double)(double)v[i];
        if (isum + v[i] < isum)
            sat = 1;
        isum += v[i];
        mn = v[i] < mn ? v[i] : mn;
        mx = v[i] > mx ? v[i] : mx;
    }
    assert_int_equal(s->sum_ns, sat ? UINT64_MAX : isum);
    assert_int_equal(s->min_ns, mn);
    assert_int_equal(s->max_ns, mx);
    long double mean = sum / (long double)n, m2 = 0;
    for (size_t i = 0; i < n; i++) {
        long double d = (long double)(double)v[i] - mean;
        m2 += d * d;
    }
    assert_true(fabsl((long double)s->mean_ns - mean) <= 1e-9L * mean);
    /* Welford's m2 is accurate relative to the spread plus the rounding of the mean. */
    long double tol = 1e-9L * m2 + 1e-12L * (long double)n * mean * mean;
    if (fabsl((long double)s->m2 - m2) > tol)
        fail_msg("m2 %.17g, exact %.17Lg", s->m2, m2);
    if (n >= 2)
        assert_true(fabsl((long double)slate_stats_variance(s) - m2 / (long double)(n - 1)) <=
                    tol / (long double)(n - 1));
}

static void test_quantiles_vs_sorted(void **state)
{
    (void)state;
    rng_state = 12;
    static const size_t counts[] = {1, 2, 3, 10, 100, 1000, 12345, 100000, 1000000};
    uint64_t *v = malloc(1000000 * sizeof *v);
    assert_non_null(v);
    slate_stats_t *s = new_stats();
    for (int d = 0; d < DIST_COUNT; d++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t n = counts[c];
            slate_stats_init(s);
            for (size_t i = 0; i < n; i++) {
                v[i] = draw((enum dist)d);
                slate_stats_add(s, v[i]);
            }
            assert_int_equal(slate_stats_validate(s), SLATE_OK);
            check_moments(s, v, n);
            qsort(v, n, sizeof *v, cmp_u64);
            check_quantiles(s, v, n);
        }
    }
    free(v);
    free(s);
}

/* Values outside the accurate range still give a quantile within [min, max]. */
static void test_out_of_range_values(void **state)
{
    (void)state;
    slate_stats_t *s = new_stats();
    for (uint64_t v = 0; v <= 1000; v += 10)
        slate_stats_add(s, v);
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    /* All in bucket 0: every quantile is its representative, inside [min, max]. */
    assert_int_equal(slate_stats_quantile(s, 0.0), 991);
    assert_int_equal(slate_stats_quantile(s, 0.5), 991);
    assert_int_equal(slate_stats_quantile(s, 1.0), 991);
    slate_stats_init(s);
    slate_stats_add(s, 7);
    assert_int_equal(slate_stats_quantile(s, 0.5), 7);
    slate_stats_init(s);
    slate_stats_add(s, UINT64_MAX);
    slate_stats_add(s, UINT64_MAX - 1);
    assert_int_equal(s->sum_ns, UINT64_MAX); /* saturated */
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    assert_int_equal(slate_stats_quantile(s, 0.5), UINT64_MAX - 1);
    assert_int_equal(slate_stats_quantile(s, 1.0), UINT64_MAX - 1); /* rep of last bucket < max */
    free(s);
}

static void test_quantile_arguments(void **state)
{
    (void)state;
    slate_stats_t *s = new_stats();
    assert_int_equal(slate_stats_quantile(s, 0.5), 0); /* empty */
    assert_int_equal(slate_stats_quantile(NULL, 0.5), 0);
    for (uint64_t i = 1; i <= 100; i++)
        slate_stats_add(s, i * 100000);
    uint64_t q0 = slate_stats_quantile(s, 0.0), q1 = slate_stats_quantile(s, 1.0);
    assert_int_equal(q0, slate_hist_value(slate_hist_bucket(100000)));
    assert_int_equal(q1, slate_hist_value(slate_hist_bucket(10000000)));
    assert_int_equal(slate_stats_quantile(s, -1.0), q0);
    assert_int_equal(slate_stats_quantile(s, NAN), q0);
    assert_int_equal(slate_stats_quantile(s, 2.0), q1);
    assert_int_equal(slate_stats_quantile(s, INFINITY), q1);
    /* rank ceil(0.5 * 100) = 50: 5 ms, whose bucket representative is within 1%. */
    uint64_t q = slate_stats_quantile(s, 0.5);
    assert_true(q > 4950000 && q < 5050000);
    assert_int_equal(q, slate_hist_value(slate_hist_bucket(5000000)));
    /* rank ceil(0.501 * 100) = 51. */
    assert_int_equal(slate_stats_quantile(s, 0.501), slate_hist_value(slate_hist_bucket(5100000)));
    free(s);
}

/* ---- moments and merge ---------------------------------------------------- */

static void test_empty_and_single(void **state)
{
    (void)state;
    slate_stats_t *s = new_stats();
    static const slate_stats_t zero;
    assert_memory_equal(s, &zero, sizeof zero);
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    assert_true(slate_stats_variance(s) == 0.0);
    assert_true(slate_stats_variance(NULL) == 0.0);
    slate_stats_add(s, 123456);
    assert_int_equal(s->count, 1);
    assert_int_equal(s->min_ns, 123456);
    assert_int_equal(s->max_ns, 123456);
    assert_int_equal(s->sum_ns, 123456);
    assert_true(s->mean_ns == 123456.0 && s->m2 == 0.0);
    assert_true(slate_stats_variance(s) == 0.0);
    assert_int_equal(s->hist[slate_hist_bucket(123456)], 1);
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    assert_int_equal(slate_stats_quantile(s, 0.99), 123456);
    slate_stats_add(s, 123458);
    assert_true(slate_stats_variance(s) == 2.0);
    /* NULL is ignored, never dereferenced. */
    slate_stats_init(NULL);
    slate_stats_add(NULL, 1);
    slate_stats_merge(NULL, s);
    slate_stats_merge(s, NULL);
    assert_int_equal(s->count, 2);
    free(s);
}

/* Splitting a sample into parts and merging the parts gives the whole. */
static void test_merge_parts_equals_whole(void **state)
{
    (void)state;
    rng_state = 13;
    enum { N = 200000, MAXPARTS = 64 };
    uint64_t *v = malloc(N * sizeof *v);
    slate_stats_t *parts = malloc(MAXPARTS * sizeof *parts);
    assert_non_null(v);
    assert_non_null(parts);
    slate_stats_t *whole = new_stats(), *merged = new_stats(), *tree = new_stats();
    static const int nparts[] = {1, 2, 3, 7, 64};
    for (int d = 0; d < DIST_COUNT; d++) {
        for (size_t k = 0; k < sizeof nparts / sizeof nparts[0]; k++) {
            int np = nparts[k];
            slate_stats_init(whole);
            for (int p = 0; p < np; p++)
                slate_stats_init(&parts[p]);
            /* Skewed part sizes, some parts empty. */
            for (size_t i = 0; i < N; i++) {
                v[i] = draw((enum dist)d);
                slate_stats_add(whole, v[i]);
                int p = (int)(rng() % (uint64_t)np);
                if (p % 5 == 4)
                    p = (p + 1) % np; /* leaves some parts empty */
                if (rng() % 3 == 0)
                    p = 0;
                slate_stats_add(&parts[p], v[i]);
            }
            /* Left to right. */
            slate_stats_init(merged);
            for (int p = 0; p < np; p++) {
                assert_int_equal(slate_stats_validate(&parts[p]), SLATE_OK);
                slate_stats_merge(merged, &parts[p]);
            }
            /* Pairwise tree, right to left. */
            int live = np;
            while (live > 1) {
                int half = (live + 1) / 2;
                for (int p = 0; p + half < live; p++)
                    slate_stats_merge(&parts[p + half], &parts[p]), parts[p] = parts[p + half];
                live = half;
            }
            *tree = parts[0];
            const slate_stats_t *got[2] = {merged, tree};
            for (int g = 0; g < 2; g++) {
                const slate_stats_t *m = got[g];
                assert_int_equal(slate_stats_validate(m), SLATE_OK);
                assert_int_equal(m->count, whole->count);
                assert_int_equal(m->sum_ns, whole->sum_ns);
                assert_int_equal(m->min_ns, whole->min_ns);
                assert_int_equal(m->max_ns, whole->max_ns);
                assert_memory_equal(m->hist, whole->hist, sizeof whole->hist);
                assert_true(fabs(m->mean_ns - whole->mean_ns) <= 1e-9 * whole->mean_ns);
                assert_true(fabs(m->m2 - whole->m2) <= 1e-9 * whole->m2 + 1e-9);
                for (double q = 0; q <= 1.0; q += 0.125)
                    assert_int_equal(slate_stats_quantile(m, q), slate_stats_quantile(whole, q));
            }
            check_moments(merged, v, N);
        }
    }
    /* Merging into itself doubles the sample. */
    slate_stats_init(whole);
    slate_stats_init(merged);
    for (int i = 0; i < 1000; i++) {
        uint64_t x = draw(LOGNORMAL);
        slate_stats_add(whole, x);
        slate_stats_add(whole, x);
        slate_stats_add(merged, x);
    }
    slate_stats_merge(merged, merged);
    assert_int_equal(merged->count, whole->count);
    assert_int_equal(merged->sum_ns, whole->sum_ns);
    assert_memory_equal(merged->hist, whole->hist, sizeof whole->hist);
    assert_true(fabs(merged->m2 - whole->m2) <= 1e-9 * whole->m2);
    /* Merging empty into anything changes nothing; anything into empty copies. */
    slate_stats_t *empty = new_stats();
    slate_stats_t before = *merged;
    slate_stats_merge(merged, empty);
    assert_memory_equal(&before, merged, sizeof before);
    slate_stats_merge(empty, merged);
    assert_memory_equal(empty, merged, sizeof before);
    free(empty);
    free(v);
    free(parts);
    free(whole);
    free(merged);
    free(tree);
}

/* Buckets saturate at UINT32_MAX; count stays exact and the struct stays valid. */
static void test_saturation(void **state)
{
    (void)state;
    slate_stats_t *s = new_stats();
    const uint64_t v = 5000000;
    s->count = UINT32_MAX - 1;
    s->min_ns = s->max_ns = v;
    s->sum_ns = v * (UINT32_MAX - 1);
    s->mean_ns = (double)v;
    s->hist[slate_hist_bucket(v)] = UINT32_MAX - 1;
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    slate_stats_add(s, v);
    slate_stats_add(s, v);
    slate_stats_add(s, 2 * v);
    assert_int_equal(s->count, (uint64_t)UINT32_MAX + 2);
    assert_int_equal(s->hist[slate_hist_bucket(v)], UINT32_MAX);
    assert_int_equal(s->hist[slate_hist_bucket(2 * v)], 1);
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    assert_int_equal(slate_stats_quantile(s, 0.5), slate_hist_value(slate_hist_bucket(v)));
    uint64_t top = slate_hist_value(slate_hist_bucket(2 * v));
    assert_int_equal(slate_stats_quantile(s, 1.0), top < 2 * v ? top : 2 * v);
    slate_stats_t *t = new_stats();
    *t = *s;
    slate_stats_merge(t, s);
    assert_int_equal(t->hist[slate_hist_bucket(v)], UINT32_MAX);
    assert_int_equal(t->hist[slate_hist_bucket(2 * v)], 2);
    assert_int_equal(t->count, 2 * ((uint64_t)UINT32_MAX + 2));
    assert_int_equal(slate_stats_validate(t), SLATE_OK);
    free(s);
    free(t);
}

/* slate_moments_add() gives the moments of slate_stats_add() bit for bit, and
 * a histogram kept apart makes the same stats (a window of buckets, as the
 * data plane keeps per endpoint). */
static void test_moments_match_stats(void **state)
{
    (void)state;
    slate_stats_t *s = new_stats(), *t = new_stats();
    slate_moments_t m;
    memset(&m, 0, sizeof m);
    uint64_t x = 0x2545f4914f6cdd1du;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t v = i % 100 == 0 ? x : 1000 + x % 50000000u; /* some far out of range */
        slate_stats_add(s, v);
        slate_moments_add(&m, v);
        t->hist[slate_hist_bucket(v)]++;
    }
    slate_stats_set_moments(t, &m);
    assert_memory_equal(s, t, sizeof *s);
    assert_int_equal(slate_stats_validate(t), SLATE_OK);
    /* a saturated count takes no more samples, as in slate_stats_add() */
    m.count = UINT64_MAX;
    slate_moments_t before = m;
    slate_moments_add(&m, 7);
    assert_memory_equal(&m, &before, sizeof m);
    slate_moments_add(NULL, 7);
    slate_stats_set_moments(NULL, &m);
    slate_stats_set_moments(t, NULL);
    free(s);
    free(t);
}

/* ---- validation ---------------------------------------------------------- */

static void test_validate(void **state)
{
    (void)state;
    rng_state = 14;
    slate_stats_t *good = new_stats(), *s = new_stats();
    for (int i = 0; i < 5000; i++)
        slate_stats_add(good, draw(BIMODAL));
    assert_int_equal(slate_stats_validate(good), SLATE_OK);
    assert_int_equal(slate_stats_validate(NULL), SLATE_EINVAL);
    uint32_t bmin = slate_hist_bucket(good->min_ns), bmax = slate_hist_bucket(good->max_ns);

#define CORRUPT(stmt)                                                                              \
    do {                                                                                           \
        *s = *good;                                                                                \
        stmt;                                                                                      \
        if (slate_stats_validate(s) != SLATE_ECORRUPT)                                             \
            fail_msg("accepted after: %s", #stmt);                                                 \
    } while (0)

    CORRUPT(s->count++);
    CORRUPT(s->count--);
    CORRUPT(s->count = 0);
    CORRUPT(s->hist[bmin]++);
    CORRUPT(s->hist[bmin + (bmax - bmin) / 2] += 7);
    CORRUPT(s->hist[bmin]--; s->hist[bmin - 1]++); /* a sample below min */
    CORRUPT(s->hist[bmax]--; s->hist[bmax + 1]++); /* a sample above max */
    CORRUPT(s->min_ns = s->max_ns + 1);
    CORRUPT(s->min_ns = s->min_ns / 2); /* min's bucket holds nothing */
    CORRUPT(s->max_ns = s->max_ns * 2);
    CORRUPT(s->mean_ns = NAN);
    CORRUPT(s->mean_ns = INFINITY);
    CORRUPT(s->mean_ns = (double)s->max_ns * 1.01);
    CORRUPT(s->mean_ns = (double)s->min_ns * 0.99);
    CORRUPT(s->m2 = -1.0);
    CORRUPT(s->m2 = NAN);
    CORRUPT(s->m2 = INFINITY);
    CORRUPT(s->sum_ns = s->min_ns * s->count - 1);
    CORRUPT(s->sum_ns = s->max_ns * s->count + 1);
    CORRUPT(s->hist[bmin] = UINT32_MAX); /* saturated, but then the total exceeds count */
    /* Empty but not all zero. */
    CORRUPT(slate_stats_init(s); s->hist[3] = 1);
    CORRUPT(slate_stats_init(s); s->sum_ns = 1);
    CORRUPT(slate_stats_init(s); s->min_ns = 1);
    CORRUPT(slate_stats_init(s); s->max_ns = 1);
    CORRUPT(slate_stats_init(s); s->mean_ns = 1);
    CORRUPT(slate_stats_init(s); s->m2 = 1);
    /* One sample: min = max = sum, m2 = 0. */
    CORRUPT(slate_stats_init(s); slate_stats_add(s, 5000); s->sum_ns = 5001);
    CORRUPT(slate_stats_init(s); slate_stats_add(s, 5000); s->m2 = 1.0);
    /* Identical samples have no spread, and their mean is the sample. */
    CORRUPT(slate_stats_init(s); slate_stats_add(s, 5000); slate_stats_add(s, 5000); s->m2 = 0.5);
    CORRUPT(slate_stats_init(s); slate_stats_add(s, 5000); slate_stats_add(s, 5000);
            s->mean_ns = 5000.001);
    CORRUPT(slate_stats_init(s); slate_stats_add(s, 5000); s->mean_ns = 4999.999);
#undef CORRUPT
    /* Values that are merely unusual are accepted. */
    *s = *good;
    s->sum_ns = UINT64_MAX; /* a saturated sum */
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    *s = *good;
    s->m2 *= 3;
    assert_int_equal(slate_stats_validate(s), SLATE_OK);
    free(good);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_bounds),
        cmocka_unit_test(test_bucket_monotonic),
        cmocka_unit_test(test_quantiles_vs_sorted),
        cmocka_unit_test(test_out_of_range_values),
        cmocka_unit_test(test_quantile_arguments),
        cmocka_unit_test(test_empty_and_single),
        cmocka_unit_test(test_merge_parts_equals_whole),
        cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_moments_match_stats),
        cmocka_unit_test(test_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
