/*
 * Latency statistics under fuzzer-chosen sequences of adds and merges on two
 * structs, checked after every step against a reference that keeps every
 * sample: count, sum, min, max and the histogram exactly; mean and m2 against
 * long double recomputation; quantiles against the sorted samples (the exact
 * sample's bucket representative, clamped, and within 1% in range). Every
 * struct produced must validate.
 *
 * Input: a first byte of 0xff selects the other mode: the rest, as many bytes
 * as a slate_stats_t, is an untrusted struct; validate must accept or reject
 * it, and an accepted one must give quantiles inside [min, max] and survive a
 * merge. Otherwise the input is operations: one opcode byte, then the value's
 * bytes. fuzz/gen_rate_stats_corpus.c writes the seeds.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_stats"
#include "fuzz_ops.h"

typedef struct ref {
    uint64_t *v;
    size_t n, cap;
} ref;

static void ref_add(ref *r, uint64_t x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        CHECK(r->v != NULL);
    }
    r->v[r->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void check(const slate_stats_t *s, const ref *r, uint64_t *sorted)
{
    CHECK(slate_stats_validate(s) == SLATE_OK);
    CHECK(s->count == r->n);
    if (r->n == 0) {
        CHECK(slate_stats_quantile(s, 0.5) == 0);
        return;
    }
    uint64_t sum = 0, mn = UINT64_MAX, mx = 0;
    int sat = 0;
    long double lsum = 0, sq = 0;
    uint32_t hist[SLATE_HIST_BUCKETS] = {0};
    for (size_t i = 0; i < r->n; i++) {
        uint64_t x = r->v[i];
        sat |= sum + x < sum;
        sum += x;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
        lsum += (long double)(double)x;
        hist[slate_hist_bucket(x)]++;
    }
    CHECK(s->sum_ns == (sat ? UINT64_MAX : sum));
    CHECK(s->min_ns == mn && s->max_ns == mx);
    CHECK(memcmp(s->hist, hist, sizeof hist) == 0);
    long double mean = lsum / (long double)r->n;
    for (size_t i = 0; i < r->n; i++) {
        long double d = (long double)(double)r->v[i] - mean;
        sq += d * d;
    }
    /* Rounding bounds for Welford/Chan: relative to the sum of squares. */
    long double scale = sq + (long double)r->n * mean * mean;
    long double tol = 1e-14L * (long double)r->n * scale;
    CHECK(fabsl((long double)s->mean_ns - mean) <= 1e-12L * (long double)r->n * mean + 1e-9L);
    CHECK(fabsl((long double)s->m2 - sq) <= tol + 1e-9L);

    memcpy(sorted, r->v, r->n * sizeof *sorted);
    qsort(sorted, r->n, sizeof *sorted, cmp_u64);
    static const double qs[] = {0, 0.1, 0.5, 0.9, 0.99, 0.999, 1};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double rk = ceil(qs[k] * (double)r->n);
        size_t rank = rk < 1 ? 1 : (size_t)rk;
        uint64_t exact = sorted[rank - 1];
        uint64_t want = slate_hist_value(slate_hist_bucket(exact));
        want = want < mn ? mn : want > mx ? mx : want;
        uint64_t got = slate_stats_quantile(s, qs[k]);
        CHECK(got == want);
        if (exact > SLATE_HIST_MIN_NS && exact <= SLATE_HIST_MAX_NS)
            CHECK(fabs((double)got - (double)exact) <= 0.01 * (double)exact);
    }
}

/* A value of a class chosen by the fuzzer: all ranges and the edges. */
static uint64_t value(reader *in, unsigned cls)
{
    switch (cls % 8) {
    case 0:
        return rd(in, 1);
    case 1:
        return 990 + rd(in, 1) % 40; /* around MIN_NS */
    case 2:
        return rd(in, 3);
    case 3:
        return rd(in, 5);
    case 4:
        return rd(in, 8);
    case 5:
        return UINT64_MAX - rd(in, 1);
    case 6: { /* a bucket edge */
        uint32_t b = (uint32_t)(rd(in, 2) % SLATE_HIST_BUCKETS);
        uint64_t v = slate_hist_value(b);
        while (v < UINT64_MAX && slate_hist_bucket(v + 1) == b)
            v += (v >> 10) + 1;
        return v - rd(in, 1) % 3;
    }
    default:
        return SLATE_HIST_MAX_NS + rd(in, 1) - 128;
    }
}

static void untrusted(const uint8_t *data, size_t size)
{
    slate_stats_t *s = malloc(sizeof *s), *t = malloc(sizeof *t);
    CHECK(s && t);
    memset(s, 0, sizeof *s);
    memcpy(s, data, size < sizeof *s ? size : sizeof *s);
    slate_status st = slate_stats_validate(s);
    CHECK(st == SLATE_OK || st == SLATE_ECORRUPT);
    if (st == SLATE_OK && s->count > 0) {
        for (double q = 0; q <= 1.0; q += 0.0625) {
            uint64_t v = slate_stats_quantile(s, q);
            CHECK(v >= s->min_ns && v <= s->max_ns);
        }
        double var = slate_stats_variance(s);
        CHECK(var >= 0 && !isnan(var));
        /* Merging a valid struct into itself or into a copy cannot crash. */
        *t = *s;
        slate_stats_merge(t, s);
        slate_stats_merge(t, t);
        slate_stats_add(t, s->min_ns);
        CHECK(t->count >= s->count);
        CHECK(t->min_ns == s->min_ns && t->max_ns == s->max_ns);
    }
    free(s);
    free(t);
}

/* Samples a reference may hold (merges that would exceed it are skipped) and
 * full checks per input, to keep each run fast. */
#define MAX_SAMPLES 1024
#define MAX_CHECKS  16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 0xff) {
        untrusted(data + 1, size - 1);
        return 0;
    }
    reader in = {data, size};
    slate_stats_t *s[2];
    ref r[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
    for (int i = 0; i < 2; i++) {
        s[i] = malloc(sizeof *s[i]);
        CHECK(s[i] != NULL);
        memset(s[i], 0xee, sizeof *s[i]);
        slate_stats_init(s[i]);
    }
    uint64_t *sorted = malloc(sizeof *sorted * MAX_SAMPLES);
    CHECK(sorted != NULL);
    unsigned steps = 0, checks = 0;
    while (in.n > 0 && steps++ < 2048) {
        unsigned op = (unsigned)rd(&in, 1);
        int i = (op >> 7) & 1, j = 1 - i;
        switch (op & 3) {
        case 0:
        case 1: {
            uint64_t x = value(&in, op >> 2);
            if (r[i].n < MAX_SAMPLES) {
                slate_stats_add(s[i], x);
                ref_add(&r[i], x);
            }
            break;
        }
        case 2: /* merge the other (or itself) into i */
            if ((op >> 2) & 1)
                j = i;
            if (r[i].n + r[j].n <= MAX_SAMPLES) {
                slate_stats_merge(s[i], s[j]);
                size_t n = r[j].n;
                for (size_t k = 0; k < n; k++)
                    ref_add(&r[i], r[j].v[k]);
            }
            if ((op >> 3) & 1) { /* and start the other afresh */
                slate_stats_init(s[1 - i]);
                r[1 - i].n = 0;
            }
            break;
        default:
            if (checks++ < MAX_CHECKS)
                check(s[i], &r[i], sorted);
            break;
        }
    }
    for (int i = 0; i < 2; i++) {
        check(s[i], &r[i], sorted);
        free(s[i]);
        free(r[i].v);
    }
    free(sorted);
    return 0;
}
