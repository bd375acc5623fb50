/*
 * Sampler tables made of arbitrary bytes, as read back from proxy shared data.
 *
 * The input is the table itself. It is validated as is, then again with its
 * checksum recomputed by the documented rule (so the structural checks behind
 * the checksum are reached too). Invariants checked:
 * - validate never reads past the input and never crashes;
 * - an accepted table draws, for any value, only regions the table lists
 *   (or SLATE_REGION_NONE when it lists none), its probabilities sum to 1,
 *   and compiling over it works and leaves it valid.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "slate/sampler.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static void check_accepted(uint8_t *t, size_t len, uint64_t seed)
{
    size_t n = slate_sampler_count(t);
    size_t cap = slate_sampler_capacity(t);
    CHECK(cap >= 1 && cap <= SLATE_SAMPLER_MAX_REGIONS && n <= cap);
    CHECK(len >= slate_sampler_size(cap));
    uint16_t regions[SLATE_SAMPLER_MAX_REGIONS];
    for (size_t i = 0; i < n; i++) {
        regions[i] = slate_sampler_region(t, i);
        CHECK(regions[i] != SLATE_REGION_NONE);
    }
    double psum = 0.0;
    for (size_t i = 0; i < n; i++)
        psum += slate_sampler_probability(t, regions[i]);
    CHECK(n == 0 ? psum == 0.0 : fabs(psum - 1.0) < 1e-9);
    for (int k = 0; k < 64 + 2 * (int)n; k++) {
        uint64_t v;
        if (k < 64) {
            v = slate_splitmix64(&seed);
        } else {
            uint64_t col = (uint64_t)(k - 64) / 2;
            uint64_t hi = ((col << 32) + n - 1) / n;
            v = hi << 32 | ((k & 1) ? 0xffffffffu : 0u);
        }
        uint16_t r = slate_sampler_draw(t, v);
        if (n == 0) {
            CHECK(r == SLATE_REGION_NONE);
            continue;
        }
        size_t i = 0;
        while (i < n && regions[i] != r)
            i++;
        CHECK(i < n);
        CHECK(slate_sampler_probability(t, r) > 0.0);
    }
    /* The accepted memory is a good compile target. */
    const uint16_t nr[] = {5};
    const double nw[] = {1.0};
    CHECK(slate_sampler_compile(t, len, nr, nw, 1) == SLATE_OK);
    CHECK(slate_sampler_validate(t, len) == SLATE_OK);
    CHECK(slate_sampler_draw(t, seed) == 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so any read past `size` is caught by ASan. */
    uint8_t *t = malloc(size ? size : 1);
    if (!t)
        return 0;
    memcpy(t, data, size);
    uint64_t seed = XXH3_64bits(data, size);

    slate_status st = slate_sampler_validate(t, size);
    if (st == SLATE_OK)
        check_accepted(t, size, seed);
    else
        CHECK(st == SLATE_ENOSPC || st == SLATE_EBADMAGIC || st == SLATE_EBADVERSION ||
              st == SLATE_EBADSIZE || st == SLATE_ECORRUPT);

    /* Again with the checksum the header's capacity calls for. */
    memcpy(t, data, size);
    if (size >= SLATE_SAMPLER_HEADER_SIZE) {
        size_t cap = (size_t)t[8] | (size_t)t[9] << 8;
        if (cap >= 1 && cap <= SLATE_SAMPLER_MAX_REGIONS && size >= SLATE_SAMPLER_SIZE(cap)) {
            uint64_t c = XXH3_64bits_withSeed(t + SLATE_SAMPLER_HEADER_SIZE,
                                              SLATE_SAMPLER_ENTRY_SIZE * cap, XXH3_64bits(t, 24));
            for (int i = 0; i < 8; i++)
                t[24 + i] = (uint8_t)(c >> (8 * i));
            if (slate_sampler_validate(t, size) == SLATE_OK)
                check_accepted(t, size, seed);
        }
    }
    free(t);
    return 0;
}
