/*
 * Latency statistics: ns per add, per merge and per quantile, and bytes per
 * struct, against two baselines measured in the same run:
 *  - the same statistics with the bucket computed by libm's log() (what the
 *    table lookup replaces);
 *  - keeping every sample and sorting for quantiles (exact, unbounded memory).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slate/slate.h"

static volatile uint64_t sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 7;
static double rng_unit(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Lognormal latencies around 5 ms. */
static uint64_t latency(void)
{
    double n = sqrt(-2.0 * log(rng_unit())) * cos(6.283185307179586 * rng_unit());
    return (uint64_t)(5e6 * exp(n));
}

/* Baseline 1: the bucket from libm's log(). */
static uint32_t log_bucket(uint64_t v)
{
    if (v <= SLATE_HIST_MIN_NS)
        return 0;
    double i = ceil(log((double)v / SLATE_HIST_MIN_NS) / log(SLATE_HIST_GAMMA));
    return i >= SLATE_HIST_BUCKETS - 1 ? SLATE_HIST_BUCKETS - 1 : (uint32_t)i;
}

static void log_add(slate_stats_t *s, uint64_t v)
{
    double x = (double)v;
    if (s->count == 0) {
        s->min_ns = s->max_ns = v;
        s->mean_ns = x;
    } else {
        s->min_ns = v < s->min_ns ? v : s->min_ns;
        s->max_ns = v > s->max_ns ? v : s->max_ns;
        double d = x - s->mean_ns;
        s->mean_ns += d / (double)(s->count + 1);
        s->m2 += d * (x - s->mean_ns);
    }
    s->count++;
    s->sum_ns += v;
    s->hist[log_bucket(v)]++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#define REPS 7

static double best(double *v)
{
    double b = v[0];
    for (int i = 1; i < REPS; i++)
        b = v[i] < b ? v[i] : b;
    return b;
}

int main(void)
{
    enum { N = 1000000, Q = 100000 };
    uint64_t *v = malloc(N * sizeof *v), *kept = malloc(N * sizeof *kept);
    slate_stats_t *a = malloc(sizeof *a), *b = malloc(sizeof *b), *c = malloc(sizeof *c);
    if (!v || !kept || !a || !b || !c)
        return 1;
    for (size_t i = 0; i < N; i++)
        v[i] = latency();

    double ours_add[REPS], log_add_ns[REPS], keep_add[REPS], ours_merge[REPS], keep_merge[REPS],
        ours_q[REPS], sort_q[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        slate_stats_init(a);
        double t0 = now_s();
        for (size_t i = 0; i < N; i++)
            slate_stats_add(a, v[i]);
        double t1 = now_s();
        slate_stats_init(b);
        for (size_t i = 0; i < N; i++)
            log_add(b, v[i]);
        double t2 = now_s();
        for (size_t i = 0; i < N; i++)
            kept[i] = v[i];
        double t3 = now_s();
        ours_add[rep] = (t1 - t0) * 1e9 / N;
        log_add_ns[rep] = (t2 - t1) * 1e9 / N;
        keep_add[rep] = (t3 - t2) * 1e9 / N;

        /* Merge: ours is O(buckets); keeping samples means copying them
         * (here one interval of 100,000 samples). */
        enum { M = 2000 };
        t0 = now_s();
        for (int i = 0; i < M; i++) {
            *c = *a;
            slate_stats_merge(c, a);
        }
        t1 = now_s();
        for (int i = 0; i < M; i++)
            *c = *a; /* the copy alone, subtracted below */
        t2 = now_s();
        for (int i = 0; i < 20; i++)
            memcpy(kept, v + (i & 1), Q * sizeof *v);
        t3 = now_s();
        ours_merge[rep] = ((t1 - t0) - (t2 - t1)) * 1e9 / M;
        keep_merge[rep] = (t3 - t2) * 1e9 / 20;
        sink += c->count + kept[5];

        /* Quantile (p99) of an interval of 100,000 samples. */
        slate_stats_init(c);
        for (size_t i = 0; i < Q; i++)
            slate_stats_add(c, v[i]);
        uint64_t acc = 0;
        t0 = now_s();
        for (int i = 0; i < 20000; i++)
            acc += slate_stats_quantile(c, 0.99 - (i & 7) * 1e-4);
        t1 = now_s();
        for (int i = 0; i < 5; i++) {
            memcpy(kept, v, Q * sizeof *v);
            qsort(kept, Q, sizeof *kept, cmp_u64);
            acc += kept[(size_t)ceil(0.99 * Q) - 1];
        }
        t2 = now_s();
        sink += acc;
        ours_q[rep] = (t1 - t0) * 1e9 / 20000;
        sort_q[rep] = (t2 - t1) * 1e9 / 5;
    }

    /* Accuracy on the same interval: p50..p999 against the sorted samples. */
    memcpy(kept, v, Q * sizeof *v);
    qsort(kept, Q, sizeof *kept, cmp_u64);
    double worst = 0;
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (int k = 0; k < 4; k++) {
        uint64_t exact = kept[(size_t)ceil(qs[k] * Q) - 1];
        double e = fabs((double)slate_stats_quantile(c, qs[k]) - (double)exact) / (double)exact;
        worst = e > worst ? e : worst;
    }

    printf("Latency statistics (best of %d runs; CLOCK_MONOTONIC; lognormal latencies ~5 ms)\n\n",
           REPS);
    printf("| operation | ours ns | baseline | baseline ns | ratio |\n");
    printf("|---|---|---|---|---|\n");
    printf("| add | %.2f | same, bucket by libm log() | %.2f | %.1fx |\n", best(ours_add),
           best(log_add_ns), best(log_add_ns) / best(ours_add));
    printf("| add | %.2f | keep every sample (append) | %.2f | %.2fx |\n", best(ours_add),
           best(keep_add), best(keep_add) / best(ours_add));
    printf("| merge | %.0f | copy 100,000 kept samples | %.0f | %.1fx |\n", best(ours_merge),
           best(keep_merge), best(keep_merge) / best(ours_merge));
    printf("| p99 of 100,000 | %.0f | sort 100,000 kept samples | %.0f | %.0fx |\n", best(ours_q),
           best(sort_q), best(sort_q) / best(ours_q));
    printf("\nWorst relative error of p50/p90/p99/p999 on that interval: %.3f%% (bound 0.969%%)\n",
           100 * worst);
    printf("Bytes per struct: ours %zu (sizeof(slate_stats_t), %u buckets); kept samples: 8 per "
           "request (%d for 100,000)\n",
           sizeof(slate_stats_t), SLATE_HIST_BUCKETS, 8 * Q);
    free(v);
    free(kept);
    free(a);
    free(b);
    free(c);
    return 0;
}
