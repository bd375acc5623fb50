/*
 * Arbitrary bytes as a rate-estimator region, as if read back from proxy
 * shared data or a file: slate_rate_validate() must reject them or accept them
 * without reading outside the input; an accepted region must then survive
 * reads, adds, merges and sums (in both directions with a fresh region of the
 * same parameters) and stay valid after each write. The operations are drawn
 * from a generator seeded by the input, so the whole input is the region.
 * fuzz/gen_rate_stats_corpus.c writes the seeds: real regions at several parameters.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/rate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_rate_region: check failed at line %d: %s\n", __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy (malloc aligns for any type, so to 8), so any
     * over-read is caught. */
    unsigned char *mem = malloc(size ? size : 1);
    CHECK(mem != NULL && (uintptr_t)mem % 8 == 0);
    mem[0] = 0;
    if (size)
        memcpy(mem, data, size);
    slate_status st = slate_rate_validate(mem, size);
    CHECK(st == SLATE_OK || st == SLATE_ENOSPC || st == SLATE_EBADMAGIC ||
          st == SLATE_EBADVERSION || st == SLATE_EBADSIZE || st == SLATE_ECORRUPT);
    /* Misaligned, the same bytes are refused before anything is read. */
    if (size >= 8) {
        unsigned char *odd = malloc(size + 4);
        CHECK(odd != NULL && (uintptr_t)odd % 8 == 0);
        unsigned char *p = odd + 4;
        memcpy(p, data, size);
        CHECK(slate_rate_validate(p, size) == SLATE_EALIGN);
        free(odd);
    }
    if (st != SLATE_OK) {
        free(mem);
        return 0;
    }
    slate_rate_t *r = (slate_rate_t *)mem;
    slate_rate_info_t info;
    CHECK(slate_rate_info(r, &info) == SLATE_OK);
    CHECK(slate_rate_check_params(&info.params) == SLATE_OK);
    size_t len = slate_rate_size(&info.params);
    CHECK(len > 0 && len <= size);
    /* A fresh region with the same parameters, to merge with. */
    unsigned char *other = aligned_alloc(8, len);
    unsigned char *copy = malloc(len);
    CHECK(other != NULL && copy != NULL);
    CHECK(slate_rate_init(other, len, &info.params) == SLATE_OK);
    slate_rate_t *o = (slate_rate_t *)other;

    uint64_t seed = 0;
    for (size_t i = 0; i < size; i++)
        seed = seed * 131 + data[i];
    const uint64_t res = info.params.resolution_ns, win = info.params.window_ns;
    uint64_t base = info.head_tick * res;
    for (int step = 0; step < 64; step++) {
        uint64_t x = mix(&seed);
        uint64_t off = mix(&seed) % (4 * win + 1);
        uint64_t t =
            x & 1 ? (base + off < base ? UINT64_MAX : base + off) : (off > base ? 0 : base - off);
        if ((x >> 1) % 97 == 0)
            t = mix(&seed); /* anywhere at all */
        switch ((x >> 8) % 6) {
        case 0:
        case 1: {
            slate_status a = slate_rate_add_n(r, t, (x >> 16) % 5 == 0 ? mix(&seed) : 1);
            CHECK(a == SLATE_OK || a == SLATE_ELATE || a == SLATE_EOVERFLOW);
            CHECK(slate_rate_validate(mem, size) == SLATE_OK);
            break;
        }
        case 2: {
            memcpy(copy, mem, len);
            uint64_t c = slate_rate_count(r, t);
            CHECK(slate_rate_info(r, &info) == SLATE_OK);
            CHECK(c <= info.total);
            if (t / res <= info.head_tick)
                CHECK(c == info.total);
            (void)slate_rate_per_second(r, t);
            CHECK(memcmp(copy, mem, len) == 0);
            break;
        }
        case 3: {
            slate_status a = slate_rate_merge(o, r);
            CHECK(a == SLATE_OK || a == SLATE_EOVERFLOW);
            CHECK(slate_rate_validate(other, len) == SLATE_OK);
            CHECK(slate_rate_add(o, t) != SLATE_EBADMAGIC);
            CHECK(slate_rate_validate(other, len) == SLATE_OK);
            break;
        }
        case 4: {
            slate_status a = slate_rate_merge(r, (x >> 20) & 1 ? r : o);
            CHECK(a == SLATE_OK || a == SLATE_EOVERFLOW);
            CHECK(slate_rate_validate(mem, size) == SLATE_OK);
            break;
        }
        default: {
            const slate_rate_t *both[2] = {r, o};
            uint64_t s = 0;
            CHECK(slate_rate_sum(both, 2, t, &s) == SLATE_OK);
            CHECK(s >= slate_rate_count(r, t));
            break;
        }
        }
    }
    free(other);
    free(copy);
    free(mem);
    return 0;
}
