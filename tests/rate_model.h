/*
 * A brute-force reference model of the rate estimator, written from the
 * semantics in include/slate/rate.h and sharing no code with libslate/rate.c:
 * it keeps a list of (tick, arrivals) and answers every question by scanning
 * it. Used by tests/test_rate.c and fuzz/fuzz_rate.c.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_TESTS_RATE_MODEL_H
#define SLATE_TESTS_RATE_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/rate.h"

typedef struct rm_event {
    uint64_t tick;
    uint64_t count; /* at most UINT32_MAX: the per-tick cap */
} rm_event;

typedef struct rate_model {
    uint64_t n;        /* ticks per window */
    uint64_t res;      /* ns per tick */
    uint64_t backjump; /* ticks: max_backjump_ns / res */
    uint64_t head;     /* newest accepted tick */
    rm_event *ev;      /* accepted arrivals, one entry per tick, any order */
    size_t len, cap;
    uint64_t late, resets, saturated;
} rate_model;

static inline uint64_t rm_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static inline void rm_init(rate_model *m, const slate_rate_params_t *p)
{
    memset(m, 0, sizeof *m);
    m->res = p->resolution_ns;
    m->n = p->window_ns / p->resolution_ns;
    m->backjump = p->max_backjump_ns / p->resolution_ns;
}

static inline void rm_free(rate_model *m)
{
    free(m->ev);
    m->ev = NULL;
    m->len = m->cap = 0;
}

/* Is tick k inside the window that ends at tick h? */
static inline int rm_in_window(const rate_model *m, uint64_t k, uint64_t h)
{
    return k <= h && h - k < m->n;
}

/* Drop events that can never count again (only to bound memory). */
static inline void rm_prune(rate_model *m)
{
    size_t w = 0;
    for (size_t i = 0; i < m->len; i++)
        if (rm_in_window(m, m->ev[i].tick, m->head))
            m->ev[w++] = m->ev[i];
    m->len = w;
}

/* Add c arrivals at tick k to the event list, capping the tick at UINT32_MAX;
 * returns how many did not fit. */
static inline uint64_t rm_put(rate_model *m, uint64_t k, uint64_t c)
{
    size_t i = m->len;
    while (i > 0 && m->ev[i - 1].tick != k)
        i--;
    if (i == 0) {
        if (m->len == m->cap) {
            if (m->len > 4 * m->n + 64) {
                rm_prune(m);
            }
            if (m->len == m->cap) {
                m->cap = m->cap ? 2 * m->cap : 64;
                m->ev = realloc(m->ev, m->cap * sizeof *m->ev);
                if (!m->ev)
                    abort();
            }
        }
        m->ev[m->len].tick = k;
        m->ev[m->len].count = 0;
        i = ++m->len;
    }
    rm_event *e = &m->ev[i - 1];
    uint64_t room = UINT32_MAX - e->count;
    uint64_t put = c < room ? c : room;
    e->count += put;
    return c - put;
}

static inline slate_status rm_add_n(rate_model *m, uint64_t t, uint64_t c)
{
    uint64_t k = t / m->res;
    if (k > m->head) {
        m->head = k;
    } else if (m->head - k >= m->n) {
        if (m->head - k <= m->backjump) {
            m->late = rm_sat(m->late, c);
            return SLATE_ELATE;
        }
        m->len = 0;
        m->head = k;
        m->resets = rm_sat(m->resets, 1);
    }
    uint64_t lost = rm_put(m, k, c);
    if (lost) {
        m->saturated = rm_sat(m->saturated, lost);
        return SLATE_EOVERFLOW;
    }
    return SLATE_OK;
}

static inline uint64_t rm_count(const rate_model *m, uint64_t t)
{
    uint64_t h = t / m->res;
    if (h < m->head)
        h = m->head;
    uint64_t sum = 0;
    for (size_t i = 0; i < m->len; i++)
        if (rm_in_window(m, m->ev[i].tick, h))
            sum += m->ev[i].count;
    return sum;
}

/* dst += src (src != dst; copy first to merge a model into itself). */
static inline slate_status rm_merge(rate_model *dst, const rate_model *src)
{
    if (src->head > dst->head)
        dst->head = src->head;
    uint64_t lost = 0;
    for (size_t i = 0; i < src->len; i++)
        if (rm_in_window(dst, src->ev[i].tick, dst->head) && src->ev[i].count)
            lost += rm_put(dst, src->ev[i].tick, src->ev[i].count);
    dst->late = rm_sat(dst->late, src->late);
    dst->resets = rm_sat(dst->resets, src->resets);
    dst->saturated = rm_sat(dst->saturated, src->saturated);
    dst->saturated = rm_sat(dst->saturated, lost);
    return lost ? SLATE_EOVERFLOW : SLATE_OK;
}

static inline void rm_copy(rate_model *dst, const rate_model *src)
{
    *dst = *src;
    dst->ev = malloc((src->cap ? src->cap : 1) * sizeof *src->ev);
    if (!dst->ev)
        abort();
    if (src->len)
        memcpy(dst->ev, src->ev, src->len * sizeof *src->ev);
}

#endif /* SLATE_TESTS_RATE_MODEL_H */
