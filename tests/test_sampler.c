/*
 * Tests of the weighted region sampler and its PRNG.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <string.h>

#include "slate/slate.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define MAXSZ SLATE_SAMPLER_SIZE(SLATE_SAMPLER_MAX_REGIONS)

/* ---- chi-square critical values, computed here ---- */

/* Regularised lower incomplete gamma P(a, x): series for x < a + 1, else the
 * continued fraction for Q (modified Lentz). */
static double gamma_p(double a, double x)
{
    if (x <= 0.0)
        return 0.0;
    double lnpre = a * log(x) - x - lgamma(a);
    if (x < a + 1.0) {
        double sum = 1.0 / a, term = sum;
        for (int n = 1; n < 100000; n++) {
            term *= x / (a + n);
            sum += term;
            if (fabs(term) < fabs(sum) * 1e-16)
                break;
        }
        return sum * exp(lnpre);
    }
    double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16)
            break;
    }
    return 1.0 - exp(lnpre) * h;
}

/* The x with P(chi-square_df <= x) = p, by bisection. */
static double chi2_quantile(unsigned df, double p)
{
    double lo = 0.0, hi = df + 100.0 * sqrt((double)df) + 100.0;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (gamma_p(df / 2.0, mid / 2.0) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static void test_chi2_quantile_matches_tables(void **state)
{
    (void)state;
    /* Published upper 0.1% points of the chi-square distribution. */
    assert_true(fabs(chi2_quantile(1, 0.999) - 10.828) < 0.001);
    assert_true(fabs(chi2_quantile(6, 0.999) - 22.458) < 0.001);
    assert_true(fabs(chi2_quantile(10, 0.999) - 29.588) < 0.001);
    assert_true(fabs(chi2_quantile(100, 0.999) - 149.449) < 0.001);
}

/* ---- helpers ---- */

static double chi2_stat(const uint64_t *counts, const double *weights, size_t n, uint64_t draws)
{
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++)
        wsum += weights[i];
    double x = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)draws * weights[i] / wsum;
        double d = (double)counts[i] - e;
        x += d * d / e;
    }
    return x;
}

/* Draw `draws` times and count per input index; fail on any unknown region. */
static void count_draws(const void *t, const uint16_t *regions, size_t n, uint64_t seed,
                        uint64_t draws, uint64_t *counts)
{
    uint16_t index_of[65536];
    memset(index_of, 0xff, sizeof index_of);
    for (size_t i = 0; i < n; i++)
        index_of[regions[i]] = (uint16_t)i;
    memset(counts, 0, n * sizeof counts[0]);
    slate_rng_t rng;
    slate_rng_seed(&rng, seed);
    for (uint64_t k = 0; k < draws; k++) {
        uint16_t r = slate_sampler_draw(t, slate_rng_next(&rng));
        assert_int_not_equal(r, SLATE_REGION_NONE);
        assert_int_not_equal(index_of[r], 0xffff);
        counts[index_of[r]]++;
    }
}

static void compile_ok(void *t, size_t cap, const uint16_t *regions, const double *w, size_t n)
{
    assert_int_equal(slate_sampler_init(t, SLATE_SAMPLER_SIZE(cap), cap), SLATE_OK);
    assert_int_equal(slate_sampler_compile(t, SLATE_SAMPLER_SIZE(cap), regions, w, n), SLATE_OK);
    assert_int_equal(slate_sampler_validate(t, SLATE_SAMPLER_SIZE(cap)), SLATE_OK);
}

/* ---- sizes and init ---- */

static void test_size_and_init(void **state)
{
    (void)state;
    assert_int_equal(slate_sampler_size(0), 0);
    assert_int_equal(slate_sampler_size(257), 0);
    assert_int_equal(slate_sampler_size(1), 40);
    assert_int_equal(slate_sampler_size(256), 2080);
    unsigned char t[MAXSZ];
    assert_int_equal(slate_sampler_init(NULL, sizeof t, 4), SLATE_EINVAL);
    assert_int_equal(slate_sampler_init(t, sizeof t, 0), SLATE_ERANGE);
    assert_int_equal(slate_sampler_init(t, sizeof t, 257), SLATE_ERANGE);
    assert_int_equal(slate_sampler_init(t, SLATE_SAMPLER_SIZE(4) - 1, 4), SLATE_ENOSPC);
    memset(t, 0xa5, sizeof t);
    assert_int_equal(slate_sampler_init(t, SLATE_SAMPLER_SIZE(4), 4), SLATE_OK);
    assert_int_equal(t[SLATE_SAMPLER_SIZE(4)], 0xa5); /* nothing written past the size */
    assert_int_equal(slate_sampler_validate(t, SLATE_SAMPLER_SIZE(4)), SLATE_OK);
    assert_int_equal(slate_sampler_count(t), 0);
    assert_int_equal(slate_sampler_capacity(t), 4);
    assert_int_equal(slate_sampler_draw(t, 12345), SLATE_REGION_NONE);
    assert_int_equal(slate_sampler_region(t, 0), SLATE_REGION_NONE);
    assert_true(slate_sampler_probability(t, 0) == 0.0);
    /* The documented header bytes. */
    assert_memory_equal(t, "SLSA", 4);
    assert_int_equal(t[4] | t[5] << 8, SLATE_SAMPLER_VERSION);
    assert_int_equal(t[6] | t[7] << 8, 32);
    assert_int_equal(t[8] | t[9] << 8, 4);
    assert_int_equal(t[12] | t[13] << 8, 8);
    assert_int_equal(t[16] | t[17] << 8, 64);
}

/* ---- PRNG ---- */

static void test_prng_reference_vectors(void **state)
{
    (void)state;
    /* splitmix64 from state 0: the published first outputs. */
    uint64_t sm = 0;
    const uint64_t sm_want[] = {0xe220a8397b1dcdafu, 0x6e789e6aa1b965f4u, 0x06c45d188009454fu,
                                0xf88bb8a8724c81ecu};
    for (size_t i = 0; i < 4; i++)
        assert_true(slate_splitmix64(&sm) == sm_want[i]);
    /* xoshiro256** from state {1, 2, 3, 4}: the reference implementation's outputs. */
    slate_rng_t r = {{1, 2, 3, 4}};
    const uint64_t want[] = {11520u,
                             0u,
                             1509978240u,
                             1215971899390074240u,
                             1216172134540287360u,
                             607988272756665600u,
                             16172922978634559625u,
                             8476171486693032832u,
                             10595114339597558777u,
                             2904607092377533576u};
    for (size_t i = 0; i < 10; i++)
        assert_true(slate_rng_next(&r) == want[i]);
    /* Seeding is splitmix64 from the seed. */
    slate_rng_t a;
    slate_rng_seed(&a, 0);
    for (size_t i = 0; i < 4; i++)
        assert_true(a.s[i] == sm_want[i]);
    slate_rng_t b;
    slate_rng_seed(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_true(slate_rng_next(&a) == slate_rng_next(&b));
}

/* ---- exact layout and draw rule ---- */

static void test_exact_small_table(void **state)
{
    (void)state;
    unsigned char t[SLATE_SAMPLER_SIZE(2)];
    const uint16_t regions[] = {10, 20};
    const double w[] = {1.0, 3.0};
    compile_ok(t, 2, regions, w, 2);
    /* Masses 2^31 and 3 * 2^31 of 2^33: exact quarter and three quarters. */
    assert_true(slate_sampler_probability(t, 10) == 0.25);
    assert_true(slate_sampler_probability(t, 20) == 0.75);
    assert_true(slate_sampler_probability(t, 30) == 0.0);
    /* Column 0 (high half < 2^31): region 10 below threshold 2^31, else alias 20. */
    assert_int_equal(slate_sampler_draw(t, 0x000000007fffffffu), 10);
    assert_int_equal(slate_sampler_draw(t, 0x0000000080000000u), 20);
    assert_int_equal(slate_sampler_draw(t, 0x7fffffff00000000u), 10);
    /* Column 1 is full: always 20. */
    assert_int_equal(slate_sampler_draw(t, 0x8000000000000000u), 20);
    assert_int_equal(slate_sampler_draw(t, 0xffffffffffffffffu), 20);
    /* The entries as documented: {threshold, region, alias} little-endian. */
    const unsigned char col0[8] = {0, 0, 0, 0x80, 10, 0, 20, 0};
    const unsigned char col1[8] = {0xff, 0xff, 0xff, 0xff, 20, 0, 20, 0};
    assert_memory_equal(t + 32, col0, 8);
    assert_memory_equal(t + 40, col1, 8);
    assert_int_equal(slate_sampler_count(t), 2);
    assert_int_equal(slate_sampler_region(t, 0), 10);
    assert_int_equal(slate_sampler_region(t, 1), 20);
    assert_int_equal(slate_sampler_region(t, 2), SLATE_REGION_NONE);
    /* The checksum is the documented one. */
    uint64_t want = XXH3_64bits_withSeed(t + 32, 16, XXH3_64bits(t, 24));
    uint64_t got = 0;
    for (int i = 7; i >= 0; i--)
        got = got << 8 | t[24 + i];
    assert_true(got == want);
}

/* ---- chi-square against the weights ---- */

static void chi2_case(size_t n, uint64_t seed)
{
    static unsigned char t[MAXSZ];
    uint16_t regions[256];
    double w[256];
    uint64_t counts[256];
    for (size_t i = 0; i < n; i++) {
        regions[i] = (uint16_t)(1000 + 37 * i); /* ids unrelated to the index */
        w[i] = (double)(1 + (i * 7) % 13) * (i % 2 ? 0.5 : 1.25);
    }
    compile_ok(t, n, regions, w, n);
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++)
        wsum += w[i];
    /* The table's exact probabilities match the weights to its quantum. */
    double psum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double p = slate_sampler_probability(t, regions[i]);
        assert_true(fabs(p - w[i] / wsum) < 1e-9);
        psum += p;
    }
    assert_true(fabs(psum - 1.0) < 1e-12);
    const uint64_t draws = 1000000;
    count_draws(t, regions, n, seed, draws, counts);
    double x = chi2_stat(counts, w, n, draws);
    double crit = chi2_quantile((unsigned)(n - 1), 0.999);
    print_message("chi-square %zu regions: %.2f (critical at p=0.001: %.2f)\n", n, x, crit);
    assert_true(x < crit);
    /* The test has teeth: the same draws against weights each off by 5%
     * fail it. */
    double wrong[256];
    for (size_t i = 0; i < n; i++)
        wrong[i] = w[i] * (i % 2 ? 1.05 : 1.0 / 1.05);
    assert_true(chi2_stat(counts, wrong, n, draws) > crit);
}

static void test_chi2_2(void **state)
{
    (void)state;
    chi2_case(2, 1);
}

static void test_chi2_7(void **state)
{
    (void)state;
    chi2_case(7, 2);
}

static void test_chi2_64(void **state)
{
    (void)state;
    chi2_case(64, 3);
}

static void test_chi2_256(void **state)
{
    (void)state;
    chi2_case(256, 4);
}

/* ---- determinism ---- */

static void test_deterministic(void **state)
{
    (void)state;
    unsigned char a[MAXSZ], b[MAXSZ + 3];
    uint16_t regions[50];
    double w[50];
    for (size_t i = 0; i < 50; i++) {
        regions[i] = (uint16_t)(49 - i);
        w[i] = 1.0 / (double)(i + 1);
    }
    compile_ok(a, 64, regions, w, 50);
    /* Compiling the same input again gives the same bytes. */
    compile_ok(b, 64, regions, w, 50);
    assert_memory_equal(a, b, SLATE_SAMPLER_SIZE(64));
    /* A copy at an odd address draws alike (no alignment needed). */
    memmove(b + 3, b, SLATE_SAMPLER_SIZE(64));
    assert_int_equal(slate_sampler_validate(b + 3, SLATE_SAMPLER_SIZE(64)), SLATE_OK);
    uint64_t s = 42;
    for (int i = 0; i < 100000; i++) {
        uint64_t v = slate_splitmix64(&s);
        uint16_t r = slate_sampler_draw(a, v);
        assert_int_equal(r, slate_sampler_draw(a, v));
        assert_int_equal(r, slate_sampler_draw(b + 3, v));
    }
}

/* ---- extreme and zero weights ---- */

static void test_extreme_weights(void **state)
{
    (void)state;
    unsigned char t[SLATE_SAMPLER_SIZE(8)];
    const uint16_t r2[] = {1, 2};
    /* 1e-300 next to 1: drawable, with the smallest quantum, 1 / (2 * 2^32). */
    const double tiny[] = {1e-300, 1.0};
    compile_ok(t, 8, r2, tiny, 2);
    assert_true(slate_sampler_probability(t, 1) == 1.0 / 8589934592.0);
    assert_true(slate_sampler_probability(t, 2) == 1.0 - 1.0 / 8589934592.0);
    /* Smallest subnormal next to the largest double. */
    const double sub[] = {5e-324, DBL_MAX};
    compile_ok(t, 8, r2, sub, 2);
    assert_true(slate_sampler_probability(t, 1) == 1.0 / 8589934592.0);
    /* Huge weights do not overflow the sum. */
    const uint16_t r3[] = {1, 2, 3};
    const double huge[] = {DBL_MAX, DBL_MAX, 1.0};
    compile_ok(t, 8, r3, huge, 3);
    assert_true(fabs(slate_sampler_probability(t, 1) - 0.5) < 1e-9);
    assert_true(fabs(slate_sampler_probability(t, 2) - 0.5) < 1e-9);
    assert_true(slate_sampler_probability(t, 3) > 0.0);
    assert_true(slate_sampler_probability(t, 3) < 1e-9);
    /* One region alone always wins, whatever the value. */
    const uint16_t r1[] = {7};
    const double one[] = {1e-200};
    compile_ok(t, 8, r1, one, 1);
    assert_true(slate_sampler_probability(t, 7) == 1.0);
    uint64_t s = 1;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(slate_sampler_draw(t, slate_splitmix64(&s)), 7);
    assert_int_equal(slate_sampler_draw(t, 0), 7);
    assert_int_equal(slate_sampler_draw(t, UINT64_MAX), 7);
}

static void test_zero_weights_never_drawn(void **state)
{
    (void)state;
    unsigned char t[SLATE_SAMPLER_SIZE(8)];
    const uint16_t regions[] = {0, 1, 2, 3, 4, 5};
    const double w[] = {0.0, 1.0, -0.0, 2.0, 0.0, 0.0};
    compile_ok(t, 8, regions, w, 6);
    assert_true(slate_sampler_probability(t, 0) == 0.0);
    assert_true(slate_sampler_probability(t, 2) == 0.0);
    assert_true(slate_sampler_probability(t, 4) == 0.0);
    assert_true(slate_sampler_probability(t, 5) == 0.0);
    uint64_t counts[6];
    count_draws(t, regions, 6, 99, 200000, counts);
    assert_int_equal(counts[0] + counts[2] + counts[4] + counts[5], 0);
    assert_true(counts[1] > 0 && counts[3] > counts[1]);
    /* Edge values too: every column's coin extremes. */
    for (uint64_t c = 0; c < 6; c++) {
        uint64_t hi = ((c << 32) + 5) / 6 + 1; /* a high half that selects column c */
        for (uint64_t lo = 0; lo < 3; lo++) {
            uint16_t r = slate_sampler_draw(t, hi << 32 | lo);
            assert_true(r == 1 || r == 3);
            r = slate_sampler_draw(t, hi << 32 | (0xffffffffu - lo));
            assert_true(r == 1 || r == 3);
        }
    }
}

static void test_u32_weights(void **state)
{
    (void)state;
    unsigned char t[SLATE_SAMPLER_SIZE(4)];
    assert_int_equal(slate_sampler_init(t, sizeof t, 4), SLATE_OK);
    const uint16_t regions[] = {5, 6, 7};
    const uint32_t pct[] = {60, 40, 0};
    assert_int_equal(slate_sampler_compile_u32(t, sizeof t, regions, pct, 3), SLATE_OK);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_OK);
    assert_true(fabs(slate_sampler_probability(t, 5) - 0.6) < 1e-9);
    assert_true(fabs(slate_sampler_probability(t, 6) - 0.4) < 1e-9);
    assert_true(slate_sampler_probability(t, 7) == 0.0);
    const uint32_t big[] = {UINT32_MAX, UINT32_MAX, 1};
    assert_int_equal(slate_sampler_compile_u32(t, sizeof t, regions, big, 3), SLATE_OK);
    assert_true(fabs(slate_sampler_probability(t, 5) - 0.5) < 1e-9);
    const uint32_t zero[] = {0, 0, 0};
    assert_int_equal(slate_sampler_compile_u32(t, sizeof t, regions, zero, 3), SLATE_EWEIGHT_ZERO);
    assert_int_equal(slate_sampler_compile_u32(t, sizeof t, regions, NULL, 3), SLATE_EINVAL);
}

/* ---- bad input ---- */

static void test_bad_inputs_leave_table_intact(void **state)
{
    (void)state;
    unsigned char t[SLATE_SAMPLER_SIZE(4)], before[sizeof t];
    assert_int_equal(slate_sampler_init(t, sizeof t, 4), SLATE_OK);
    const uint16_t good_r[] = {1, 2, 3};
    const double good_w[] = {0.2, 0.3, 0.5};
    assert_int_equal(slate_sampler_compile(t, sizeof t, good_r, good_w, 3), SLATE_OK);
    memcpy(before, t, sizeof t);

    const uint16_t r2[] = {1, 2};
    const uint16_t r5[] = {1, 2, 3, 4, 5};
    const double w5[] = {1, 1, 1, 1, 1};
    static uint16_t r257[257];
    static double w257[257];
    for (int i = 0; i < 257; i++) {
        r257[i] = (uint16_t)i;
        w257[i] = 1.0;
    }
    struct {
        const uint16_t *r;
        double w[2];
        size_t n;
        slate_status want;
    } cases[] = {
        {r2, {NAN, 1.0}, 2, SLATE_EWEIGHT_NAN},
        {r2, {1.0, -NAN}, 2, SLATE_EWEIGHT_NAN},
        {r2, {INFINITY, 1.0}, 2, SLATE_EWEIGHT_INF},
        {r2, {1.0, -INFINITY}, 2, SLATE_EWEIGHT_INF},
        {r2, {-1.0, 1.0}, 2, SLATE_EWEIGHT_NEG},
        {r2, {1.0, -5e-324}, 2, SLATE_EWEIGHT_NEG},
        {r2, {0.0, 0.0}, 2, SLATE_EWEIGHT_ZERO},
        {r2, {-0.0, 0.0}, 2, SLATE_EWEIGHT_ZERO},
        {r2, {1.0, 1.0}, 0, SLATE_EEMPTY},
        /* Precedence: per-pair weight errors in input order come first. */
        {r2, {-1.0, NAN}, 2, SLATE_EWEIGHT_NEG},
        {r2, {NAN, -1.0}, 2, SLATE_EWEIGHT_NAN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(slate_sampler_compile(t, sizeof t, cases[i].r, cases[i].w, cases[i].n),
                         cases[i].want);
        assert_memory_equal(t, before, sizeof t);
    }
    const uint16_t dup[] = {4, 9, 4};
    const double w3[] = {1, 2, 3};
    assert_int_equal(slate_sampler_compile(t, sizeof t, dup, w3, 3), SLATE_EDUPLICATE);
    /* Duplicates come after weight errors, before all-zero. */
    const double w3bad[] = {1, 2, NAN};
    assert_int_equal(slate_sampler_compile(t, sizeof t, dup, w3bad, 3), SLATE_EWEIGHT_NAN);
    const double w3zero[] = {0, 0, 0};
    assert_int_equal(slate_sampler_compile(t, sizeof t, dup, w3zero, 3), SLATE_EDUPLICATE);
    const uint16_t none[] = {1, SLATE_REGION_NONE};
    assert_int_equal(slate_sampler_compile(t, sizeof t, none, w3, 2), SLATE_ERANGE);
    /* Too many for this table's capacity (4), and for any table (256). */
    assert_int_equal(slate_sampler_compile(t, sizeof t, r5, w5, 5), SLATE_ETOOMANY);
    assert_int_equal(slate_sampler_compile(t, sizeof t, r257, w257, 257), SLATE_ETOOMANY);
    /* Memory problems. */
    assert_int_equal(slate_sampler_compile(NULL, sizeof t, r2, w3, 2), SLATE_EINVAL);
    assert_int_equal(slate_sampler_compile(t, sizeof t, NULL, w3, 2), SLATE_EINVAL);
    assert_int_equal(slate_sampler_compile(t, sizeof t, r2, NULL, 2), SLATE_EINVAL);
    assert_int_equal(slate_sampler_compile(t, sizeof t - 1, r2, w3, 2), SLATE_ENOSPC);
    assert_int_equal(slate_sampler_compile(t, 31, r2, w3, 2), SLATE_ENOSPC);
    assert_memory_equal(t, before, sizeof t);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_OK);
    /* Not a table at all. */
    unsigned char junk[SLATE_SAMPLER_SIZE(4)];
    memset(junk, 0x11, sizeof junk);
    assert_int_equal(slate_sampler_compile(junk, sizeof junk, r2, w3, 2), SLATE_EBADMAGIC);
    for (size_t i = 0; i < sizeof junk; i++)
        assert_int_equal(junk[i], 0x11);
    /* A table full to capacity 256 compiles; 256 of 256 regions at capacity 256. */
    static unsigned char big[MAXSZ];
    assert_int_equal(slate_sampler_init(big, sizeof big, 256), SLATE_OK);
    assert_int_equal(slate_sampler_compile(big, sizeof big, r257, w257, 256), SLATE_OK);
    assert_int_equal(slate_sampler_validate(big, sizeof big), SLATE_OK);
}

static void test_recompile_smaller_clears_unused(void **state)
{
    (void)state;
    unsigned char t[SLATE_SAMPLER_SIZE(8)];
    uint16_t r[8];
    double w[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (uint16_t)(i + 100);
        w[i] = i + 1.0;
    }
    compile_ok(t, 8, r, w, 8);
    assert_int_equal(slate_sampler_compile(t, sizeof t, r, w, 3), SLATE_OK);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_OK);
    assert_int_equal(slate_sampler_count(t), 3);
    for (size_t i = SLATE_SAMPLER_SIZE(3); i < sizeof t; i++)
        assert_int_equal(t[i], 0);
    assert_true(slate_sampler_probability(t, 107) == 0.0);
}

/* Store a fresh checksum so structural checks behind it are reached. */
static void fix_checksum(unsigned char *t, size_t cap)
{
    uint64_t c = XXH3_64bits_withSeed(t + 32, 8 * cap, XXH3_64bits(t, 24));
    for (int i = 0; i < 8; i++)
        t[24 + i] = (unsigned char)(c >> (8 * i));
}

static void test_validate_rejects_corruption(void **state)
{
    (void)state;
    enum { CAP = 8 };
    unsigned char good[SLATE_SAMPLER_SIZE(CAP)], t[sizeof good];
    const uint16_t r[] = {3, 1, 4, 15, 9};
    const double w[] = {2, 7, 1, 8, 2};
    compile_ok(good, CAP, r, w, 5);
    /* Every single-bit flip anywhere is caught. */
    for (size_t i = 0; i < sizeof good; i++)
        for (int b = 0; b < 8; b++) {
            memcpy(t, good, sizeof t);
            t[i] ^= (unsigned char)(1u << b);
            assert_int_not_equal(slate_sampler_validate(t, sizeof t), SLATE_OK);
        }
    /* Short buffers. */
    assert_int_equal(slate_sampler_validate(good, sizeof good - 1), SLATE_ENOSPC);
    assert_int_equal(slate_sampler_validate(good, 10), SLATE_ENOSPC);
    assert_int_equal(slate_sampler_validate(NULL, sizeof good), SLATE_EINVAL);
    /* Specific header faults. */
    memcpy(t, good, sizeof t);
    t[0] = 'X';
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_EBADMAGIC);
    memcpy(t, good, sizeof t);
    t[4] = 2;
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_EBADVERSION);
    memcpy(t, good, sizeof t);
    t[8] = 0; /* capacity 0 */
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_EBADSIZE);
    memcpy(t, good, sizeof t);
    t[16] = 0; /* total size */
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_EBADSIZE);
    /* Structural faults behind a correct checksum. */
    memcpy(t, good, sizeof t);
    t[8 + 2] = CAP + 1; /* count above capacity */
    fix_checksum(t, CAP);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_ECORRUPT);
    memcpy(t, good, sizeof t);
    t[32 + 8 * 1 + 4] = 3; /* column 1's region duplicates column 0's */
    fix_checksum(t, CAP);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_ECORRUPT);
    memcpy(t, good, sizeof t);
    t[32 + 8 * 2 + 4] = 0xff; /* region SLATE_REGION_NONE */
    t[32 + 8 * 2 + 5] = 0xff;
    fix_checksum(t, CAP);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_ECORRUPT);
    memcpy(t, good, sizeof t);
    t[32 + 8 * 0 + 6] = 77; /* alias that names no region of the table */
    fix_checksum(t, CAP);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_ECORRUPT);
    memcpy(t, good, sizeof t);
    t[32 + 8 * 6] = 1; /* non-zero unused entry */
    fix_checksum(t, CAP);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_ECORRUPT);
    memcpy(t, good, sizeof t);
    t[14] = 1; /* reserved */
    fix_checksum(t, CAP);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_ECORRUPT);
    /* A changed threshold with a fixed checksum is a valid (different) table:
     * validation guarantees safety, the checksum guards against corruption. */
    memcpy(t, good, sizeof t);
    t[32] ^= 0x10;
    fix_checksum(t, CAP);
    assert_int_equal(slate_sampler_validate(t, sizeof t), SLATE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chi2_quantile_matches_tables),
        cmocka_unit_test(test_size_and_init),
        cmocka_unit_test(test_prng_reference_vectors),
        cmocka_unit_test(test_exact_small_table),
        cmocka_unit_test(test_chi2_2),
        cmocka_unit_test(test_chi2_7),
        cmocka_unit_test(test_chi2_64),
        cmocka_unit_test(test_chi2_256),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_extreme_weights),
        cmocka_unit_test(test_zero_weights_never_drawn),
        cmocka_unit_test(test_u32_weights),
        cmocka_unit_test(test_bad_inputs_leave_table_intact),
        cmocka_unit_test(test_recompile_smaller_clears_unused),
        cmocka_unit_test(test_validate_rejects_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
