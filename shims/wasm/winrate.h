/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file winrate.h
 * @brief The filter's per-endpoint rate estimator: slate_rate_t's semantics
 *        at its default parameters in half a byte per tick.
 *
 * The arrivals of the trailing second at 1 ms ticks, with slate_rate_t's
 * exact semantics at slate_rate_params_default() (1 s window, 1 ms ticks,
 * 10 s backjump: late stamps, clock resets, a reader ahead of the head):
 * sw_rate_add(r, t, n) returns what slate_rate_add_n(t, n) returns and
 * sw_rate_count(r, t) what slate_rate_count(t) returns, for the same calls
 * (tests/test_wasm_shim.c checks it against the core). The SW_RATE_N
 * buckets (tick k in bucket k mod SW_RATE_N) are half a byte each, in
 * SW_RATE_NIBBLES bytes the caller provides zeroed, while no tick holds
 * more than 15 arrivals; then a byte each (a block of their own, `wide`);
 * past 255 the core's estimator (`rate`, 4 KiB) takes over with the same
 * state. Counts stay exact at any rate; memory grows only for an endpoint
 * with that many arrivals in one millisecond. Pure C over the module's
 * malloc; header-only so the fast path inlines into the request path.
 */
#ifndef SLATE_WASM_WINRATE_H
#define SLATE_WASM_WINRATE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/rate.h"

#define SW_RATE_N       1000u /* SLATE_RATE_DEFAULT_WINDOW_NS / SW_RATE_RES */
#define SW_RATE_NIBBLES (SW_RATE_N / 2u)
#define SW_RATE_RES     SLATE_RATE_DEFAULT_RESOLUTION_NS
#define SW_RATE_BACK    (SLATE_RATE_DEFAULT_MAX_BACKJUMP_NS / SW_RATE_RES)
_Static_assert((uint64_t)SW_RATE_N *SW_RATE_RES == SLATE_RATE_DEFAULT_WINDOW_NS,
               "the default window");

typedef struct sw_rate {
    slate_rate_t *rate; /* once a tick passed 255 arrivals; then nothing else is used */
    uint8_t *rb;        /* the buckets */
    uint64_t head;      /* the head tick H */
    uint32_t total;     /* arrivals in the window as of the head */
    uint16_t hs;        /* H mod SW_RATE_N */
    uint8_t wide;       /* byte buckets (in a block of their own) */
} sw_rate_t;

/** An empty estimator over `nibbles`: SW_RATE_NIBBLES zeroed bytes. */
static inline void sw_rate_init(sw_rate_t *e, uint8_t *nibbles)
{
    memset(e, 0, sizeof *e);
    e->rb = nibbles;
}

#define SW_RATE_N    1000u /* SLATE_RATE_DEFAULT_WINDOW_NS / SW_RATE_RES */
#define SW_RATE_RES  SLATE_RATE_DEFAULT_RESOLUTION_NS
#define SW_RATE_BACK (SLATE_RATE_DEFAULT_MAX_BACKJUMP_NS / SW_RATE_RES)
_Static_assert((uint64_t)SW_RATE_N *SW_RATE_RES == SLATE_RATE_DEFAULT_WINDOW_NS,
               "the default window");

#define SW_RATE_NIB 0x0f0f0f0f0f0f0f0full
#define SW_RATE_LO8 0x00ff00ff00ff00ffull

/* Bucket i: half a byte (tick i mod 2 in the high half), or a byte once wide. */
static inline __attribute__((always_inline)) uint32_t sw_rb_get(const sw_rate_t *e, uint32_t i)
{
    if (e->wide)
        return e->rb[i];
    return (uint32_t)(e->rb[i >> 1] >> ((i & 1u) << 2)) & 15u;
}

static inline __attribute__((always_inline)) void sw_rb_set(sw_rate_t *e, uint32_t i, uint32_t v)
{
    if (e->wide) {
        e->rb[i] = (uint8_t)v;
        return;
    }
    unsigned sh = (i & 1u) << 2;
    e->rb[i >> 1] = (uint8_t)((e->rb[i >> 1] & ~(15u << sh)) | (v << sh));
}

/* Sum of the buckets [from, from + n) and, with clear, zero them. Eight
 * bytes per load: the halves of each byte, then the bytes, are added in
 * lanes that cannot carry into each other. */
static inline uint32_t sw_rb_run(sw_rate_t *e, uint32_t from, uint32_t n, int clear)
{
    uint32_t s = 0;
    if (!e->wide) {
        for (; n && (from & 1u); from++, n--) {
            s += sw_rb_get(e, from);
            if (clear)
                sw_rb_set(e, from, 0);
        }
        if (n & 1u) {
            s += sw_rb_get(e, from + n - 1);
            if (clear)
                sw_rb_set(e, from + n - 1, 0);
            n--;
        }
        from >>= 1; /* now whole bytes of two buckets */
        n >>= 1;
    }
    uint8_t *p = e->rb + from;
    uint64_t acc = 0;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if (!e->wide)
            x = (x & SW_RATE_NIB) + ((x >> 4) & SW_RATE_NIB);
        x = (x & SW_RATE_LO8) + ((x >> 8) & SW_RATE_LO8);
        acc += (x * 0x0001000100010001ull) >> 48;
    }
    for (; i < n; i++)
        acc += e->wide ? p[i] : (uint32_t)(p[i] & 15u) + (p[i] >> 4);
    if (clear)
        memset(p, 0, n);
    return s + (uint32_t)acc;
}

/* The d < SW_RATE_N buckets after the head's: the ticks that leave the window
 * when the head moves forward by d. clear: zero them too. */
static inline uint32_t sw_rb_after(sw_rate_t *e, uint32_t d, int clear)
{
    uint32_t first = e->hs + 1u == SW_RATE_N ? 0u : e->hs + 1u;
    uint32_t run = SW_RATE_N - first < d ? SW_RATE_N - first : d;
    return sw_rb_run(e, first, run, clear) + sw_rb_run(e, 0, d - run, clear);
}

static inline void sw_rb_zero(sw_rate_t *e)
{
    memset(e->rb, 0, e->wide ? SW_RATE_N : SW_RATE_N / 2);
}

/* A bucket would pass its maximum: half-byte buckets become bytes; byte
 * buckets hand the estimator's state to the core's slate_rate_t (the
 * arrivals of each tick in the window, oldest first, then the head).
 * Returns 0 when out of memory. */
static inline int sw_rate_widen(sw_rate_t *e)
{
    if (!e->wide) {
        uint8_t *b = malloc(SW_RATE_N);
        if (!b)
            return 0;
        for (uint32_t i = 0; i < SW_RATE_N; i++)
            b[i] = (uint8_t)sw_rb_get(e, i);
        e->rb = b; /* the caller's half-byte buckets stay unused */
        e->wide = 1;
        return 1;
    }
    size_t len = slate_rate_size(NULL);
    slate_rate_t *r = malloc(len); /* the allocator aligns to 16 */
    if (!r || slate_rate_init(r, len, NULL) != SLATE_OK) {
        free(r);
        return 0;
    }
    for (uint32_t i = 0; i < SW_RATE_N; i++) {
        uint32_t slot = (e->hs + 1u + i) % SW_RATE_N;
        if (e->rb[slot]) /* a tick before 0 has an empty bucket */
            (void)slate_rate_add_n(r, (e->head + 1u + i - SW_RATE_N) * SW_RATE_RES, e->rb[slot]);
    }
    (void)slate_rate_add_n(r, e->head * SW_RATE_RES, 0);
    free(e->rb);
    e->rb = NULL;
    e->rate = r;
    return 1;
}

/* sw_rate_add() off its fast path: another tick, or a full bucket. */
static __attribute__((noinline, unused)) slate_status sw_rate_add_slow(sw_rate_t *e, uint64_t now,
                                                                       uint32_t n)
{
    if (e->rate)
        return slate_rate_add_n(e->rate, now, n);
    uint64_t start = e->head * SW_RATE_RES;
    uint32_t slot = e->hs;
    if (now < start || now - start >= SW_RATE_RES) {
        /* the next tick without a division (the usual case at low rates) */
        uint64_t k = now >= start && now - start - SW_RATE_RES < SW_RATE_RES ? e->head + 1
                                                                             : now / SW_RATE_RES;
        if (k > e->head) {
            uint64_t d = k - e->head;
            if (d >= SW_RATE_N) {
                sw_rb_zero(e);
                e->total = 0;
                e->hs = (uint16_t)(k % SW_RATE_N);
            } else if (d <= 8) {
                uint32_t hs = e->hs;
                for (uint32_t j = 0; j < (uint32_t)d; j++) {
                    hs = hs + 1u == SW_RATE_N ? 0u : hs + 1u;
                    e->total -= sw_rb_get(e, hs);
                    sw_rb_set(e, hs, 0);
                }
                e->hs = (uint16_t)hs;
            } else {
                e->total -= sw_rb_after(e, (uint32_t)d, 1);
                e->hs = (uint16_t)((e->hs + d) % SW_RATE_N);
            }
            e->head = k;
            sw_rb_set(e, e->hs, n); /* a new tick: its bucket was cleared, n <= 1 fits */
            e->total += n;
            return SLATE_OK;
        } else if (e->head - k < SW_RATE_N) {
            uint32_t l = (uint32_t)(e->head - k);
            slot = e->hs >= l ? e->hs - l : e->hs + SW_RATE_N - l;
        } else if (e->head - k <= SW_RATE_BACK) {
            return SLATE_ELATE;
        } else { /* a clock reset: forget everything, re-base at k */
            sw_rb_zero(e);
            e->total = 0;
            e->head = k;
            e->hs = (uint16_t)(k % SW_RATE_N);
            slot = e->hs;
        }
    }
    uint32_t v = sw_rb_get(e, slot) + n;
    if (v > (e->wide ? 255u : 15u)) { /* past the bucket's maximum */
        if (!sw_rate_widen(e))
            return SLATE_EOVERFLOW;
        if (e->rate)
            return slate_rate_add_n(e->rate, now, n);
    }
    sw_rb_set(e, slot, v);
    e->total += n;
    return SLATE_OK;
}

/** slate_rate_add_n(now, n) for n 0 or 1, with the same result. */
static inline slate_status sw_rate_add(sw_rate_t *e, uint64_t now, uint32_t n)
{
    if (e->rb && !e->wide && now - e->head * SW_RATE_RES < SW_RATE_RES) { /* the head's tick */
        uint8_t *b = e->rb + (e->hs >> 1);
        unsigned sh = (e->hs & 1u) << 2;
        if (((*b >> sh) & 15u) + n <= 15u) {
            *b = (uint8_t)(*b + (n << sh));
            e->total += n;
            return SLATE_OK;
        }
    }
    return sw_rate_add_slow(e, now, n);
}

/** slate_rate_count(now): reads, never writes. */
static inline uint64_t sw_rate_count(const sw_rate_t *e, uint64_t now)
{
    if (e->rate)
        return slate_rate_count(e->rate, now);
    uint64_t start = e->head * SW_RATE_RES;
    if (now < start || now - start < SW_RATE_RES)
        return e->total;
    uint64_t d = now / SW_RATE_RES - e->head;
    if (d >= SW_RATE_N)
        return 0;
    return e->total - sw_rb_after((sw_rate_t *)(uintptr_t)e, (uint32_t)d, 0);
}

#endif /* SLATE_WASM_WINRATE_H */
