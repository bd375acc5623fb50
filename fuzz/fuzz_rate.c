/*
 * The rate estimator driven by fuzzer-chosen operation sequences (adds, bulk
 * adds, reads, merges, sums, clock jumps, re-inits) on three estimators,
 * differential against the brute-force model of tests/rate_model.h: every
 * status, count and counter must agree, regions must stay valid, and reads
 * must not write.
 *
 * Input: 4 bytes of parameters (buckets - 1 mod 64, resolution as u16 + 1,
 * backjump in windows or "never"), 4 bytes of start time (ms), then
 * operations, one opcode byte each followed by its arguments; a short input
 * reads as zeros. fuzz/gen_rate_stats_corpus.c writes the seeds.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/rate.h"
#include "../tests/rate_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_rate"
#include "fuzz_ops.h"

enum { EST = 3 };

typedef struct fx {
    slate_rate_params_t params;
    size_t len;
    unsigned char *mem[EST];
    rate_model m[EST];
    unsigned char *scratch;
} fx;

static slate_rate_t *R(fx *f, int i)
{
    return (slate_rate_t *)f->mem[i];
}

static void check_full(fx *f, int i)
{
    slate_rate_t *r = R(f, i);
    rate_model *m = &f->m[i];
    CHECK(slate_rate_validate(f->mem[i], f->len) == SLATE_OK);
    slate_rate_info_t info;
    CHECK(slate_rate_info(r, &info) == SLATE_OK);
    CHECK(info.head_tick == m->head);
    CHECK(info.late == m->late);
    CHECK(info.resets == m->resets);
    CHECK(info.saturated == m->saturated);
    memcpy(f->scratch, f->mem[i], f->len);
    /* Counts at every tick from the head to a window past it fix every bucket. */
    for (uint64_t j = 0; j <= m->n; j++) {
        uint64_t t = (m->head + j) * m->res;
        if (t / m->res != m->head + j)
            break; /* past the end of time */
        CHECK(slate_rate_count(r, t) == rm_count(m, t));
    }
    CHECK(info.total == rm_count(m, 0));
    CHECK(memcmp(f->scratch, f->mem[i], f->len) == 0);
}

/* A time near `now`, in units of the resolution, either side. */
static uint64_t near(reader *in, const fx *f, uint64_t now)
{
    int64_t ticks = (int8_t)rd(in, 1);
    uint64_t sub = rd(in, 1) * f->params.resolution_ns / 256;
    uint64_t span = (uint64_t)(ticks < 0 ? -ticks : ticks) * f->params.resolution_ns;
    if (ticks < 0)
        return span > now ? sub : now - span + sub;
    return now + span + sub < now ? UINT64_MAX : now + span + sub;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader in = {data, size};
    fx f;
    memset(&f, 0, sizeof f);
    uint64_t nb = rd(&in, 1) % 64 + 1;
    uint64_t res = rd(&in, 2) + 1;
    uint64_t bj = rd(&in, 1);
    f.params.resolution_ns = res;
    f.params.window_ns = nb * res;
    f.params.max_backjump_ns = bj >= 16 ? UINT64_MAX : f.params.window_ns * (bj + 1);
    CHECK(slate_rate_check_params(&f.params) == SLATE_OK);
    f.len = slate_rate_size(&f.params);
    CHECK(f.len >= 96 + 4 * nb && f.len % 8 == 0);
    for (int i = 0; i < EST; i++) {
        f.mem[i] = aligned_alloc(8, f.len);
        CHECK(f.mem[i] != NULL);
        CHECK(slate_rate_init(f.mem[i], f.len, &f.params) == SLATE_OK);
        rm_init(&f.m[i], &f.params);
    }
    f.scratch = malloc(f.len);
    CHECK(f.scratch != NULL);
    uint64_t now = rd(&in, 4) * 1000000ull;
    const uint64_t window = f.params.window_ns;

    unsigned steps = 0;
    while (in.n > 0 && steps++ < 4096) {
        unsigned op = (unsigned)rd(&in, 1);
        int i = (int)((op >> 4) % EST), j = (int)((op >> 6) % EST);
        switch (op & 15) {
        case 0:
        case 1:
        case 2: { /* one arrival near now */
            uint64_t t = near(&in, &f, now);
            CHECK(slate_rate_add(R(&f, i), t) == rm_add_n(&f.m[i], t, 1));
            if (t > now)
                now = t;
            break;
        }
        case 3: { /* many arrivals */
            uint64_t t = near(&in, &f, now);
            uint64_t c = rd(&in, 1);
            uint64_t n = c < 128 ? c : c < 192 ? rd(&in, 4) : c < 255 ? rd(&in, 5) : UINT64_MAX;
            CHECK(slate_rate_add_n(R(&f, i), t, n) == rm_add_n(&f.m[i], t, n));
            break;
        }
        case 4: /* time passes */
            now += rd(&in, 1) * res;
            break;
        case 5: { /* a clock jump */
            uint64_t k = rd(&in, 1);
            uint64_t span = window * (k & 63);
            if (k >= 192)
                now = UINT64_MAX - rd(&in, 2);
            else if (k >= 128)
                now = rd(&in, 2);
            else if (k >= 64)
                now = span > now ? 0 : now - span;
            else
                now = now + span < now ? UINT64_MAX : now + span;
            break;
        }
        case 6:
        case 7: { /* a read */
            uint64_t t = near(&in, &f, now);
            memcpy(f.scratch, f.mem[i], f.len);
            uint64_t got = slate_rate_count(R(&f, i), t);
            double ps = slate_rate_per_second(R(&f, i), t);
            CHECK(memcmp(f.scratch, f.mem[i], f.len) == 0);
            CHECK(got == rm_count(&f.m[i], t));
            CHECK(ps == (double)got * (1e9 / (double)window));
            break;
        }
        case 8: { /* merge j into i */
            slate_status want;
            if (i == j) {
                rate_model copy;
                rm_copy(&copy, &f.m[j]);
                want = rm_merge(&f.m[i], &copy);
                rm_free(&copy);
            } else {
                want = rm_merge(&f.m[i], &f.m[j]);
            }
            memcpy(f.scratch, f.mem[j], f.len);
            CHECK(slate_rate_merge(R(&f, i), R(&f, j)) == want);
            if (i != j)
                CHECK(memcmp(f.scratch, f.mem[j], f.len) == 0);
            break;
        }
        case 9: { /* the sum of all */
            uint64_t t = near(&in, &f, now), s = 0, want = 0;
            const slate_rate_t *all[EST];
            for (int k = 0; k < EST; k++) {
                all[k] = R(&f, k);
                want = rm_sat(want, rm_count(&f.m[k], t));
            }
            CHECK(slate_rate_sum(all, EST, t, &s) == SLATE_OK);
            CHECK(s == want);
            break;
        }
        case 10: /* full comparison */
            check_full(&f, i);
            break;
        case 11: /* start over */
            CHECK(slate_rate_init(f.mem[i], f.len, &f.params) == SLATE_OK);
            rm_free(&f.m[i]);
            rm_init(&f.m[i], &f.params);
            break;
        default: { /* a burst: the same stamp many times */
            uint64_t t = near(&in, &f, now);
            unsigned reps = (unsigned)rd(&in, 1);
            for (unsigned k = 0; k < reps; k++)
                CHECK(slate_rate_add(R(&f, i), t) == rm_add_n(&f.m[i], t, 1));
            break;
        }
        }
    }
    for (int i = 0; i < EST; i++) {
        check_full(&f, i);
        free(f.mem[i]);
        rm_free(&f.m[i]);
    }
    free(f.scratch);
    return 0;
}
