/*
 * Sampler compilation from arbitrary weight lists.
 *
 * Input: byte 0 = capacity - 1 (1..256); byte 1 bit 0 = integer weights; then
 * records of a little-endian uint16 region id and a little-endian weight
 * (float64 bits, so NaN, infinities, negatives and subnormals all occur; or
 * uint32). Every whole record is one (region, weight) pair, up to 300.
 *
 * Invariants checked:
 * - compile returns a status of its documented set and never crashes;
 * - on failure the table compiled before is byte for byte unchanged;
 * - on success the table validates, lists the input regions in order, gives
 *   each region the probability of its weight (within the documented
 *   quantum), never draws a region of weight zero and never anything else.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "slate/sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define MAXN 300

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t cap = (size_t)data[0] + 1;
    int integer = data[1] & 1;
    size_t rec = integer ? 6 : 10;
    size_t n = (size - 2) / rec;
    if (n > MAXN)
        n = MAXN;
    uint16_t regions[MAXN];
    double dw[MAXN];
    uint32_t uw[MAXN];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = data + 2 + i * rec;
        regions[i] = (uint16_t)le(p, 2);
        if (integer) {
            uw[i] = (uint32_t)le(p + 2, 4);
            dw[i] = uw[i];
        } else {
            uint64_t bits = le(p + 2, 8);
            memcpy(&dw[i], &bits, sizeof bits);
        }
    }

    static uint8_t t[SLATE_SAMPLER_SIZE(SLATE_SAMPLER_MAX_REGIONS)];
    static uint8_t before[sizeof t];
    CHECK(slate_sampler_init(t, sizeof t, cap) == SLATE_OK);
    /* A previous good table, to prove a failed compile loses nothing. */
    const uint16_t prev_r[] = {1, 2, 3};
    const double prev_w[] = {1.0, 2.0, 3.0};
    size_t prev_n = cap < 3 ? cap : 3;
    CHECK(slate_sampler_compile(t, sizeof t, prev_r, prev_w, prev_n) == SLATE_OK);
    memcpy(before, t, sizeof t);

    slate_status st = integer ? slate_sampler_compile_u32(t, sizeof t, regions, uw, n)
                              : slate_sampler_compile(t, sizeof t, regions, dw, n);
    if (st != SLATE_OK) {
        CHECK(st == SLATE_EEMPTY || st == SLATE_ETOOMANY || st == SLATE_ERANGE ||
              st == SLATE_EWEIGHT_NAN || st == SLATE_EWEIGHT_INF || st == SLATE_EWEIGHT_NEG ||
              st == SLATE_EDUPLICATE || st == SLATE_EWEIGHT_ZERO);
        CHECK(!integer ||
              (st != SLATE_EWEIGHT_NAN && st != SLATE_EWEIGHT_INF && st != SLATE_EWEIGHT_NEG));
        CHECK(memcmp(t, before, sizeof t) == 0);
        CHECK(slate_sampler_validate(t, sizeof t) == SLATE_OK);
        return 0;
    }

    /* Success: only valid inputs may get here. */
    CHECK(n >= 1 && n <= cap);
    CHECK(slate_sampler_validate(t, sizeof t) == SLATE_OK);
    CHECK(slate_sampler_count(t) == n);
    double wmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        CHECK(!isnan(dw[i]) && !isinf(dw[i]) && !(dw[i] < 0.0));
        CHECK(regions[i] != SLATE_REGION_NONE);
        CHECK(slate_sampler_region(t, i) == regions[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(regions[j] != regions[i]);
        if (dw[i] > wmax)
            wmax = dw[i];
    }
    CHECK(wmax > 0.0);
    /* Reference probabilities in long double, scaled by the largest weight. */
    long double wsum = 0.0L;
    for (size_t i = 0; i < n; i++)
        wsum += (long double)dw[i] / (long double)wmax;
    double psum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double p = slate_sampler_probability(t, regions[i]);
        double want = (double)(((long double)dw[i] / (long double)wmax) / wsum);
        CHECK((p > 0.0) == (dw[i] > 0.0));
        /* Quantum 2^-32 / n per unit; rounding moves at most about n + 2
         * units, i.e. a few times 2^-32. */
        CHECK(fabs(p - want) < 1e-9);
        psum += p;
    }
    CHECK(fabs(psum - 1.0) < 1e-9);

    /* Draws from values made of the input, plus every column's coin extremes. */
    uint64_t s = size;
    for (size_t i = 0; i < size; i++)
        s = s * 31 + data[i];
    for (int k = 0; k < 64 + 2 * (int)n; k++) {
        uint64_t v;
        if (k < 64) {
            v = slate_splitmix64(&s);
        } else {
            uint64_t col = (uint64_t)(k - 64) / 2;
            uint64_t hi = ((col << 32) + n - 1) / n; /* smallest high half selecting col */
            v = hi << 32 | ((k & 1) ? 0xffffffffu : 0u);
        }
        uint16_t r = slate_sampler_draw(t, v);
        size_t i = 0;
        while (i < n && regions[i] != r)
            i++;
        CHECK(i < n);
        CHECK(dw[i] > 0.0);
    }
    return 0;
}
