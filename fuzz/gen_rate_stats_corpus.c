/*
 * Writes the seed corpora of fuzz_rate, fuzz_rate_region and fuzz_stats from
 * real encodings: operation sequences in each target's input format, and
 * regions and structs produced by the library itself.
 *
 *   gen_rate_stats_corpus <corpus-dir>    (writes <corpus-dir>/fuzz_rate/... )
 *
 * The output is deterministic; a CTest test regenerates it and compares it
 * with the committed files.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slate/rate.h"
#include "slate/stats.h"

typedef struct buf {
    unsigned char b[1 << 16];
    size_t n;
} buf;

static const char *root;
static int failed;

static void put(buf *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes && b->n < sizeof b->b; i++)
        b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static void put_raw(buf *b, const void *p, size_t n)
{
    if (n > sizeof b->b - b->n)
        n = sizeof b->b - b->n;
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void write_seed(const char *target, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        failed = 1;
        return;
    }
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        failed = 1;
    }
}

static uint64_t seed_state;
static uint64_t rnd(void)
{
    uint64_t z = (seed_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- fuzz_rate: params, start, then ops (see fuzz/fuzz_rate.c) ---------- */

enum {
    R_ADD = 0,
    R_ADDN = 3,
    R_TIME = 4,
    R_JUMP = 5,
    R_READ = 6,
    R_MERGE = 8,
    R_SUM = 9,
    R_FULL = 10,
    R_INIT = 11,
    R_BURST = 12
};

static void rate_header(buf *b, unsigned nb, unsigned res, unsigned bj, uint32_t start_ms)
{
    b->n = 0;
    put(b, nb - 1, 1);
    put(b, res - 1, 2);
    put(b, bj, 1);
    put(b, start_ms, 4);
}

/* opcode with estimator i (and j for merges) in the high bits */
static void op(buf *b, unsigned code, unsigned i, unsigned j)
{
    put(b, code | (i << 4) | (j << 6), 1);
}

static void near(buf *b, int ticks, unsigned sub)
{
    put(b, (uint8_t)(int8_t)ticks, 1);
    put(b, sub, 1);
}

/* near() with ticks in [lo, lo + span) and a random sub-tick offset; the two
 * draws are sequenced (argument evaluation order is unspecified in C). */
static void near_rnd(buf *b, int lo, unsigned span)
{
    int ticks = lo + (int)(rnd() % span);
    unsigned sub = (unsigned)(rnd() & 255);
    near(b, ticks, sub);
}

/* op() with random estimators i and j. */
static void op_rnd(buf *b, unsigned code)
{
    unsigned i = (unsigned)(rnd() % 3);
    unsigned j = (unsigned)(rnd() % 3);
    op(b, code, i, j);
}

static void gen_rate(void)
{
    buf *b = malloc(sizeof *b);
    if (!b)
        exit(1);
    /* Steady arrivals one or two ticks apart, with reads and full checks. */
    seed_state = 1;
    rate_header(b, 10, 1000, 3, 5000);
    for (int k = 0; k < 300; k++) {
        op(b, R_ADD, 0, 0);
        near_rnd(b, 0, 3);
        op(b, R_TIME, 0, 0);
        put(b, 1, 1);
        if (k % 10 == 0) {
            op(b, R_READ, 0, 0);
            near(b, (int)(rnd() % 12), 0);
        }
        if (k % 50 == 0)
            op(b, R_FULL, 0, 0);
    }
    write_seed("fuzz_rate", "steady", b->b, b->n);

    /* Bursts and saturation: many stamps in one tick, huge add_n. */
    rate_header(b, 4, 1, 1, 0);
    for (int k = 0; k < 8; k++) {
        op(b, R_BURST, 1, 0);
        near(b, 0, 0);
        put(b, 200, 1);
        op(b, R_ADDN, 1, 0);
        near(b, 0, 0);
        put(b, k < 4 ? 190 : 255, 1); /* 4-byte counts, then UINT64_MAX */
        put(b, 0xfffffff0u, 4);
        op(b, R_FULL, 1, 0);
        op(b, R_TIME, 0, 0);
        put(b, 1, 1);
    }
    write_seed("fuzz_rate", "burst_saturate", b->b, b->n);

    /* Out-of-order stamps, some older than the window. */
    seed_state = 2;
    rate_header(b, 16, 500, 2, 100);
    for (int k = 0; k < 400; k++) {
        op(b, R_ADD, 2, 0);
        near_rnd(b, -20, 41);
        if (k % 4 == 0) {
            op(b, R_TIME, 0, 0);
            put(b, 1, 1);
        }
        if (k % 40 == 0)
            op(b, R_FULL, 2, 0);
    }
    write_seed("fuzz_rate", "out_of_order", b->b, b->n);

    /* Clock jumps: forward, back within and beyond the backjump, to 0, to the end of time. */
    seed_state = 3;
    rate_header(b, 8, 1000, 1, 1000);
    static const unsigned jumps[] = {1, 3, 64 + 1, 64 + 3, 64 + 40, 128, 192, 64 + 63, 2, 200};
    for (size_t k = 0; k < sizeof jumps / sizeof jumps[0]; k++) {
        for (int a = 0; a < 20; a++) {
            op(b, R_ADD, (unsigned)(k % 3), 0);
            near(b, (int)(rnd() % 10) - 2, 0);
        }
        op(b, R_JUMP, 0, 0);
        put(b, jumps[k], 1);
        if (jumps[k] >= 128)
            put(b, 77, 2);
        op(b, R_ADD, (unsigned)(k % 3), 0);
        near(b, 0, 0);
        op(b, R_FULL, (unsigned)(k % 3), 0);
    }
    write_seed("fuzz_rate", "clock_jumps", b->b, b->n);

    /* Three workers, merged and summed. */
    seed_state = 4;
    rate_header(b, 32, 250, 16, 42);
    for (int k = 0; k < 600; k++) {
        op(b, R_ADD, (unsigned)(k % 3), 0);
        near_rnd(b, 0, 2);
        if (k % 3 == 2) {
            op(b, R_TIME, 0, 0);
            put(b, 1, 1);
        }
        if (k % 50 == 49) {
            op(b, R_SUM, 0, 0);
            near(b, (int)(rnd() % 40), 0);
            op_rnd(b, R_MERGE);
            op(b, R_FULL, 0, 0);
            op(b, R_INIT, (unsigned)(rnd() % 3), 0);
        }
    }
    write_seed("fuzz_rate", "merge_sum", b->b, b->n);

    /* The widest parameters the target allows, never re-basing. */
    seed_state = 5;
    rate_header(b, 64, 65536, 16, 123456);
    for (int k = 0; k < 300; k++) {
        op_rnd(b, (unsigned)(rnd() % 13));
        near_rnd(b, -100, 200);
        put(b, rnd() & 127, 1);
    }
    write_seed("fuzz_rate", "mixed_wide", b->b, b->n);
    free(b);
}

/* ---- fuzz_rate_region: regions the library produced -------------------- */

static void gen_rate_region(void)
{
    static uint64_t mem[(96 + 4 * 1000 + 64) / 8];
    slate_rate_t *r = (slate_rate_t *)mem;
    const slate_rate_params_t def = slate_rate_params_default();
    const uint64_t ms = 1000000, s = 1000000000;

    /* Defaults, a second of traffic at ~2,000/s, some late and one re-base. */
    seed_state = 6;
    if (slate_rate_init(mem, sizeof mem, &def) != SLATE_OK)
        exit(1);
    for (int k = 0; k < 2000; k++)
        (void)slate_rate_add(r, 50 * s + rnd() % s);
    (void)slate_rate_add(r, 48 * s); /* late */
    (void)slate_rate_add(r, 10 * s); /* clock reset: re-base */
    for (int k = 0; k < 500; k++)
        (void)slate_rate_add(r, 10 * s + rnd() % (700 * ms));
    write_seed("fuzz_rate_region", "defaults", mem, slate_rate_size(&def));

    /* The same region followed by spare bytes (a larger shared-data value). */
    write_seed("fuzz_rate_region", "defaults_spare", mem, sizeof mem);

    /* Seven 3 ns buckets (odd count: padding), a saturated bucket. */
    slate_rate_params_t odd = {21, 3, 21 * 5};
    if (slate_rate_init(mem, sizeof mem, &odd) != SLATE_OK)
        exit(1);
    for (uint64_t t = 1000; t < 1020; t++)
        (void)slate_rate_add_n(r, t, t == 1019 ? UINT64_MAX : t);
    write_seed("fuzz_rate_region", "odd_saturated", mem, slate_rate_size(&odd));

    /* One bucket, never re-basing, head near the end of time. */
    slate_rate_params_t one = {1000, 1000, UINT64_MAX};
    if (slate_rate_init(mem, sizeof mem, &one) != SLATE_OK)
        exit(1);
    (void)slate_rate_add_n(r, UINT64_MAX - 5, 3);
    (void)slate_rate_add(r, 5); /* late */
    write_seed("fuzz_rate_region", "one_bucket", mem, slate_rate_size(&one));

    /* A fresh region, and one whose head is still below N (buckets of "ticks before 0"). */
    if (slate_rate_init(mem, sizeof mem, &def) != SLATE_OK)
        exit(1);
    write_seed("fuzz_rate_region", "fresh", mem, slate_rate_size(&def));
    (void)slate_rate_add_n(r, 3 * ms, 9);
    (void)slate_rate_add_n(r, 1 * ms, 2);
    write_seed("fuzz_rate_region", "young", mem, slate_rate_size(&def));

    /* Near misses: cut short, and a version this library does not read. */
    write_seed("fuzz_rate_region", "truncated", mem, 1000);
    ((unsigned char *)mem)[4] = 2;
    write_seed("fuzz_rate_region", "version2", mem, slate_rate_size(&def));
}

/* ---- fuzz_stats: ops, and 0xff + a struct ------------------------------ */

static void gen_stats(void)
{
    buf *b = malloc(sizeof *b);
    if (!b)
        exit(1);
    /* Every value class into both structs, checks, merges (plain, self, with reset). */
    seed_state = 7;
    b->n = 0;
    for (int k = 0; k < 400; k++) {
        unsigned cls = (unsigned)(k % 8), i = (unsigned)(k % 3 == 0);
        put(b, (i << 7) | (cls << 2) | 0, 1);
        put(b, rnd(), 8);
        if (k % 25 == 24)
            put(b, (i << 7) | 3, 1); /* check */
        if (k % 60 == 59)
            put(b, (i << 7) | ((unsigned)(k / 60 % 4) << 2) | 2, 1); /* merge variants */
    }
    write_seed("fuzz_stats", "all_classes", b->b, b->n);

    /* Latencies in the accurate range only, many of them, quantile checks. */
    b->n = 0;
    for (int k = 0; k < 1500; k++) {
        put(b, (3u << 2) | 0, 1); /* class 3: 5-byte values, up to ~18 minutes */
        put(b, 1000000 + rnd() % 400000000000ull, 5);
        if (k % 300 == 299)
            put(b, 3, 1);
    }
    put(b, 2, 1);
    put(b, 3, 1);
    write_seed("fuzz_stats", "latencies", b->b, b->n);

    /* Bucket edges. */
    b->n = 0;
    for (unsigned k = 0; k < 600; k++) {
        put(b, (k & 1u) << 7 | (6u << 2) | 1, 1);
        put(b, k * 2, 2);
        put(b, k, 1);
    }
    put(b, 3, 1);
    put(b, (1u << 7) | 3, 1);
    write_seed("fuzz_stats", "edges", b->b, b->n);

    /* Untrusted structs: one real, one with its count off by one. */
    slate_stats_t *st = malloc(sizeof *st);
    if (!st)
        exit(1);
    slate_stats_init(st);
    for (int k = 0; k < 1000; k++)
        slate_stats_add(st, 20000 + rnd() % 80000000);
    b->n = 0;
    put(b, 0xff, 1);
    put_raw(b, st, sizeof *st);
    write_seed("fuzz_stats", "struct_valid", b->b, b->n);
    st->count++;
    b->n = 0;
    put(b, 0xff, 1);
    put_raw(b, st, sizeof *st);
    write_seed("fuzz_stats", "struct_corrupt", b->b, b->n);
    free(st);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    gen_rate();
    gen_rate_region();
    gen_stats();
    return failed;
}
