/*
 * Sampler draw: ours (alias table, O(1)) against two baselines measured in
 * the same run, for 2 to 256 regions:
 *
 *  - linear: a scan of precomputed cumulative weights (doubles) for a uniform
 *    number in [0, 1), the usual simple weighted choice;
 *  - text:   what SLATE's proxy-wasm plugin did per request: its routing
 *    distribution sat in proxy shared data as text, one "<region> <weight>"
 *    line per region (e.g. "us-west-1 0.6\nus-east-1 0.4"), and every request
 *    parsed that text and then scanned it. Modelled here with the same text,
 *    strtod for the numbers, and a cumulative scan.
 *
 * Every method draws from the same precomputed 64-bit random values, so the
 * PRNG is not part of "ours"; the "ours+rng" column adds slate_rng_next().
 * Prints ns per draw (best of several runs) and the ratios; asserts nothing.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slate/sampler.h"

#define NVALUES 4096 /* power of two, fits in L1 with any table */
#define REPEATS 5

static uint64_t values[NVALUES];
static volatile uint64_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- baseline 1: linear scan over cumulative weights ---- */

static size_t linear_draw(const double *cum, size_t n, uint64_t v)
{
    double u = (double)(v >> 11) * 0x1.0p-53;
    for (size_t i = 0; i + 1 < n; i++)
        if (u < cum[i])
            return i;
    return n - 1;
}

/* ---- baseline 2: parse the text distribution on every draw ---- */

static size_t text_draw(const char *text, uint64_t v)
{
    /* Parse every line: name up to the space, then the weight. */
    double w[SLATE_SAMPLER_MAX_REGIONS];
    const char *names[SLATE_SAMPLER_MAX_REGIONS];
    size_t n = 0;
    double total = 0.0;
    const char *p = text;
    while (*p && n < SLATE_SAMPLER_MAX_REGIONS) {
        const char *sp = strchr(p, ' ');
        if (!sp)
            break;
        names[n] = p;
        char *end;
        w[n] = strtod(sp + 1, &end);
        total += w[n];
        n++;
        p = *end == '\n' ? end + 1 : end;
    }
    if (n == 0)
        return 0;
    double u = (double)(v >> 11) * 0x1.0p-53 * total;
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        if (u < acc)
            return (size_t)(names[i] - text); /* the plugin used the name */
    }
    return (size_t)(names[n - 1] - text);
}

typedef struct {
    double ours, ours_rng, linear, text;
} result;

static double best(double a, double b)
{
    return a < b ? a : b;
}

static result run(size_t n)
{
    static unsigned char table[SLATE_SAMPLER_SIZE(SLATE_SAMPLER_MAX_REGIONS)];
    uint16_t regions[SLATE_SAMPLER_MAX_REGIONS];
    double w[SLATE_SAMPLER_MAX_REGIONS], cum[SLATE_SAMPLER_MAX_REGIONS];
    static char text[SLATE_SAMPLER_MAX_REGIONS * 32];
    double total = 0.0;
    size_t tl = 0;
    for (size_t i = 0; i < n; i++) {
        regions[i] = (uint16_t)i;
        w[i] = 1.0 + (double)((i * 7) % 11);
        total += w[i];
    }
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i] / total;
        cum[i] = acc;
        tl += (size_t)snprintf(text + tl, sizeof text - tl, "region-%zu %.6f\n", i, w[i] / total);
    }
    if (slate_sampler_init(table, sizeof table, n) != SLATE_OK ||
        slate_sampler_compile(table, sizeof table, regions, w, n) != SLATE_OK) {
        fprintf(stderr, "bench_sampler: compile failed\n");
        exit(1);
    }

    result r = {1e30, 1e30, 1e30, 1e30};
    const long iters = 20000000;
    long text_iters = (long)(4000000 / (n + 4));
    slate_rng_t rng;
    slate_rng_seed(&rng, 7);
    for (int rep = 0; rep < REPEATS; rep++) {
        uint64_t s = 0;
        double t0 = now_ns();
        for (long i = 0; i < iters; i++)
            s += slate_sampler_draw(table, values[i & (NVALUES - 1)]);
        double t1 = now_ns();
        r.ours = best(r.ours, (t1 - t0) / (double)iters);

        t0 = now_ns();
        for (long i = 0; i < iters; i++)
            s += slate_sampler_draw(table, slate_rng_next(&rng));
        t1 = now_ns();
        r.ours_rng = best(r.ours_rng, (t1 - t0) / (double)iters);

        long lin_iters = iters / (long)(1 + n / 8);
        t0 = now_ns();
        for (long i = 0; i < lin_iters; i++)
            s += linear_draw(cum, n, values[i & (NVALUES - 1)]);
        t1 = now_ns();
        r.linear = best(r.linear, (t1 - t0) / (double)lin_iters);

        t0 = now_ns();
        for (long i = 0; i < text_iters; i++)
            s += text_draw(text, values[i & (NVALUES - 1)]);
        t1 = now_ns();
        r.text = best(r.text, (t1 - t0) / (double)text_iters);
        sink += s;
    }
    return r;
}

int main(void)
{
    uint64_t seed = 12345;
    for (size_t i = 0; i < NVALUES; i++)
        values[i] = slate_splitmix64(&seed);

    slate_rng_t rng;
    slate_rng_seed(&rng, 1);
    const long rng_iters = 50000000;
    double rng_ns = 1e30;
    for (int rep = 0; rep < REPEATS; rep++) {
        uint64_t s = 0;
        double t0 = now_ns();
        for (long i = 0; i < rng_iters; i++)
            s ^= slate_rng_next(&rng);
        double t1 = now_ns();
        rng_ns = best(rng_ns, (t1 - t0) / (double)rng_iters);
        sink += s;
    }

    printf("Sampler draw, ns per draw (best of %d runs; same random values for all)\n", REPEATS);
    printf("%8s %9s %9s %10s %11s %12s %11s\n", "regions", "ours", "ours+rng", "linear",
           "text(SLATE)", "linear/ours", "text/ours");
    const size_t ns[] = {2, 4, 16, 64, 256};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        result r = run(ns[k]);
        printf("%8zu %9.2f %9.2f %10.2f %11.1f %11.1fx %10.0fx\n", ns[k], r.ours, r.ours_rng,
               r.linear, r.text, r.linear / r.ours, r.text / r.ours);
    }
    printf("slate_rng_next: %.2f ns per value\n", rng_ns);
    printf("bytes per table: %zu at capacity %u (header %u + %u per region); %zu at capacity 2\n",
           slate_sampler_size(SLATE_SAMPLER_MAX_REGIONS), SLATE_SAMPLER_MAX_REGIONS,
           SLATE_SAMPLER_HEADER_SIZE, SLATE_SAMPLER_ENTRY_SIZE, slate_sampler_size(2));
    printf("(checksum %llu)\n", (unsigned long long)(sink & 0xff));
    return 0;
}
