/*
 * Rate estimator: ours against a model of SLATE's timestamp queue
 * (bench/slate_queue_model.h), measured in the same run on the same stamps.
 * Prints ns per add and per read, their ratio, the counts both report against
 * the exact count at several request rates, and bytes per structure.
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
#include "slate_queue_model.h"

#define SEC 1000000000ull
#define MS  1000000ull

static volatile uint64_t sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 42;
static double rng_unit(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* n Poisson arrival times at `rate` per second, from t0. */
static uint64_t *stamps(double rate, size_t n, uint64_t t0)
{
    uint64_t *s = malloc(n * sizeof *s);
    if (!s)
        exit(1);
    double t = (double)t0;
    for (size_t i = 0; i < n; i++) {
        t += -log(rng_unit()) * 1e9 / rate;
        s[i] = (uint64_t)t;
    }
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Each figure is the best of REPS timed runs: on a shared machine the fastest
 * run is the one least disturbed by other processes. */
#define REPS 9

typedef struct timing {
    double ours_add, slate_add, ours_read, slate_read, ours_read_ahead;
} timing;

static timing time_at_rate(double rate, size_t n)
{
    uint64_t *ts = stamps(rate, n, 100 * SEC);
    slate_rate_t *r = aligned_alloc(8, 4096);
    slateq *q = malloc(sizeof *q);
    if (!r || !q)
        exit(1);
    double oa[REPS], sa[REPS], orr[REPS], sr[REPS], ora[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        if (slate_rate_init(r, 4096, NULL) != SLATE_OK)
            exit(1);
        slateq_init(q, 1000);
        /* The same stamps for both; the baseline is ~100x slower, so it
         * times the first tenth (its queue is full well before that). */
        double t0 = now_s();
        for (size_t i = 0; i < n; i++)
            slate_rate_add(r, ts[i]);
        double t1 = now_s();
        for (size_t i = 0; i < n / 10; i++)
            slateq_add(q, ts[i]);
        double t2 = now_s();
        oa[rep] = (t1 - t0) * 1e9 / (double)n;
        sa[rep] = (t2 - t1) * 1e9 / (double)(n / 10);
        /* Reads at the newest stamp (the reporter's usual case)... */
        const uint64_t last = ts[n - 1];
        const size_t reads = 200000;
        uint64_t acc = 0;
        t0 = now_s();
        for (size_t i = 0; i < reads; i++)
            acc += slate_rate_count(r, last + (i & 7));
        t1 = now_s();
        const uint64_t qlast = ts[n / 10 - 1]; /* the baseline's own newest stamp */
        for (size_t i = 0; i < reads / 10; i++)
            acc += slateq_count(q, qlast + (i & 7));
        t2 = now_s();
        /* ...and half a window after the last arrival (ours then sums 500 buckets). */
        for (size_t i = 0; i < reads / 10; i++)
            acc += slate_rate_count(r, last + 500 * MS + (i & 7));
        double t3 = now_s();
        sink += acc;
        orr[rep] = (t1 - t0) * 1e9 / (double)reads;
        sr[rep] = (t2 - t1) * 1e9 / (double)(reads / 10);
        ora[rep] = (t3 - t2) * 1e9 / (double)(reads / 10);
    }
    qsort(oa, REPS, sizeof oa[0], cmp_double);
    qsort(sa, REPS, sizeof sa[0], cmp_double);
    qsort(orr, REPS, sizeof orr[0], cmp_double);
    qsort(sr, REPS, sizeof sr[0], cmp_double);
    qsort(ora, REPS, sizeof ora[0], cmp_double);
    timing t = {oa[0], sa[0], orr[0], sr[0], ora[0]};
    free(ts);
    free(r);
    free(q);
    return t;
}

/* Counts after 3 s of Poisson traffic at `rate`: ours, SLATE's, exact. */
static void accuracy(double rate)
{
    size_t n = (size_t)(rate * 3.0);
    uint64_t *ts = stamps(rate, n, 100 * SEC);
    slate_rate_t *r = aligned_alloc(8, 4096);
    slateq *q = malloc(sizeof *q);
    if (!r || !q || slate_rate_init(r, 4096, NULL) != SLATE_OK)
        exit(1);
    slateq_init(q, 1000);
    for (size_t i = 0; i < n; i++) {
        slate_rate_add(r, ts[i]);
        slateq_add(q, ts[i]);
    }
    /* Read a little after the last arrival. */
    uint64_t at = ts[n - 1] + 137 * 1000;
    uint64_t tick = at / MS, exact = 0;
    for (size_t i = 0; i < n; i++)
        exact += ts[i] / MS + 1000 > tick && ts[i] / MS <= tick;
    uint64_t ours = slate_rate_count(r, at), theirs = slateq_count(q, at);
    printf("| %9.0f | %9llu | %9llu | %7.3f%% | %9llu | %7.2f%% |\n", rate,
           (unsigned long long)exact, (unsigned long long)ours,
           100.0 * fabs((double)ours - (double)exact) / (double)exact, (unsigned long long)theirs,
           100.0 * fabs((double)theirs - (double)exact) / (double)exact);
    free(ts);
    free(r);
    free(q);
}

int main(void)
{
    printf("Rate estimator: libslate vs a model of SLATE's 7,000-byte timestamp queue\n");
    printf("(best of %d runs; CLOCK_MONOTONIC; window 1 s, resolution 1 ms; Poisson arrivals)\n\n",
           REPS);
    printf("| arrivals/s | ours add ns | SLATE add ns | add ratio | ours read ns | SLATE read "
           "ns | read ratio | ours read +0.5 s ns |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    static const double rates[] = {1000, 100000, 10000000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        timing t = time_at_rate(rates[i], 2000000);
        printf("| %10.0f | %11.2f | %12.1f | %8.0fx | %12.2f | %13.1f | %9.0fx | %19.1f |\n",
               rates[i], t.ours_add, t.slate_add, t.slate_add / t.ours_add, t.ours_read,
               t.slate_read, t.slate_read / t.ours_read, t.ours_read_ahead);
    }
    printf("\nCount in the trailing second after 3 s of Poisson arrivals (exact = stamps with "
           "tick in (t-1000, t]):\n\n");
    printf("| rate /s | exact | ours | ours err | SLATE | SLATE err |\n");
    printf("|---|---|---|---|---|---|\n");
    accuracy(100);
    accuracy(1750);
    accuracy(10000);
    accuracy(100000);
    printf("\nBytes per endpoint at the defaults: ours %zu (slate_rate_size), SLATE %u "
           "(timestamp buffer)\n",
           slate_rate_size(NULL), SLATEQ_BYTES);
    return 0;
}
