/*
 * slate-controller: time-stitching: the span ring, its hash indexes, and the
 * call-graph edges and self times it yields.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_tables.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------------- */
/* Time-stitching */

uint32_t ls_bucket_of(const ctl_state_t *s, uint64_t key)
{
    return (uint32_t)(key ^ (key >> 29)) & s->bucket_mask;
}

static uint32_t waiting_bit(const ctl_state_t *s, uint64_t key)
{
    return (uint32_t)(key >> 32 ^ key * 0x9E3779B97F4A7C15ull >> 40) & s->waiting_mask;
}

uint32_t ls_recv_ms_of(const ctl_state_t *s, uint64_t now_ns)
{
    return now_ns > s->created_ns ? (uint32_t)((now_ns - s->created_ns) / 1000000u) : 0;
}

/* The span a held link names, or NULL when its slot holds another span or
 * an unused one (aging drops spans in place). */
static span_ent *link_ent(const ctl_state_t *s, span_link l)
{
    span_ent *e = &s->ring[l.idx];
    return e->seq == l.seq && (e->flags & SPAN_USED) ? e : NULL;
}

/* Links span idx at the head of a bucket's chain (its own key's or its parent's). */
static void head_push(const ctl_state_t *s, span_head *h, uint32_t idx, uint64_t key,
                      uint32_t *next, uint32_t *next_seq)
{
    span_link old = ls_head_first(*h);
    bool more = ls_link_held(s, old);
    *next = more ? old.idx : NIL;
    *next_seq = old.seq;
    /* atomic: ls_spans_prefetch() reads heads without the lock */
    __atomic_store_n(h, ls_head_make((span_link){idx, s->ring[idx].seq}, more, ls_key_tag(key)),
                     __ATOMIC_RELAXED);
}

uint32_t ls_span_find(ctl_state_t *s, uint64_t self_key)
{
    span_head h = s->heads[ls_bucket_of(s, self_key)].self;
    span_link l = ls_head_first(h);
    if (!ls_link_held(s, l) || (ls_head_tag(h) != ls_key_tag(self_key) && !ls_head_more(h)))
        return NIL; /* empty, or one span and not this one */
    while (ls_link_held(s, l)) {
        const span_ent *e = link_ent(s, l);
        if (!e)
            break;
        if (e->self_key == self_key)
            return l.idx;
        l = (span_link){e->next_self, e->next_self_seq};
    }
    return NIL;
}

double ls_ns_to_ms(double ns)
{
    return ns / 1e6;
}

/* A span leaves the table: its exclusive time becomes a model sample. */
static void span_finalize(ctl_state_t *s, uint32_t idx)
{
    span_ent *sp = &s->ring[idx];
    uint32_t child = sp->child_ns < sp->dur_ns ? sp->child_ns : sp->dur_ns;
    double xt_ms = ls_ns_to_ms((double)(sp->dur_ns - child));
    cell_ent *c = s->eps[sp->ep].cells[sp->region];
    if (c) {
        c->w_xt_sum_ms += xt_ms;
        c->w_xt_n++;
        c->seen_spans = true;
        /* A model gets samples of one kind: window means taken before the
         * first span arrived were total latency, not self time. */
        if (c->model_window)
            ls_cell_model_reset(s, c);
        if (isfinite(sp->load_rps))
            (void)slate_opt_model_add(&c->model, (double)sp->load_rps, xt_ms);
    }
    sp->flags = 0;
}

static void span_evict_oldest(ctl_state_t *s)
{
    uint32_t tail = (s->ring_head + s->ring_cap - s->ring_count) % s->ring_cap;
    if (s->ring[tail].flags & SPAN_USED)
        span_finalize(s, tail);
    s->ring_count--;
}

void ls_spans_expire(ctl_state_t *s, uint64_t now_ns)
{
    uint32_t now_ms = ls_recv_ms_of(s, now_ns);
    uint32_t horizon = (uint32_t)s->cfg.stitch_window_ms;
    while (s->ring_count > 0) {
        uint32_t tail = (s->ring_head + s->ring_cap - s->ring_count) % s->ring_cap;
        if (now_ms - s->ring[tail].recv_ms < horizon)
            break;
        span_evict_oldest(s);
    }
}

/*
 * Span admission. The ring holds a span until it is stitch-window-ms old
 * only while spans arrive no faster than span-table per window; faster, the
 * oldest leave early, before their children or parent could arrive, and
 * their whole duration becomes a self-time sample. So once the spans offered
 * over the last period would fill more than span-admit-fill of the ring in
 * one window, only a share of traces is stitched: those whose trace key
 * (a hash of the trace id) is at most span_admit, a threshold that keeps or
 * leaves out every span of a trace together, whichever proxy reports it,
 * and picks traces uniformly (the models and edge ratios keep their means,
 * from fewer samples). The share is set from the rate offered over the last
 * quarter window, or sooner when the spans offered since would already fill
 * the share on their own (a burst). Under span_mu.
 */
void ls_span_admission(ctl_state_t *s, uint32_t offered, uint64_t now_ns)
{
    double fill = s->cfg.span_admit_fill;
    if (!(fill > 0))
        return;
    uint32_t now_ms = ls_recv_ms_of(s, now_ns);
    uint32_t window_ms = (uint32_t)s->cfg.stitch_window_ms;
    double room = fill * (double)s->ring_cap; /* spans one window may bring */
    s->adm_offered += offered;
    /* threads stamp their reports before they queue for span_mu: one may
     * come in with an earlier time than the period's start */
    int32_t since = (int32_t)(now_ms - s->adm_start_ms);
    uint32_t elapsed = since > 0 ? (uint32_t)since : 0;
    if (elapsed < (window_ms + 3) / 4 && (double)s->adm_offered < room)
        return;
    double per_window = (double)s->adm_offered * window_ms / (elapsed > 0 ? elapsed : 1);
    double share = per_window > room ? room / per_window : 1;
    bool was_all = s->span_admit == UINT64_MAX;
    uint64_t admit = share >= 1 ? UINT64_MAX : (uint64_t)(share * 0x1p64);
    __atomic_store_n(&s->span_admit, admit, __ATOMIC_RELAXED);
    ctl_metrics_set_f64(&s->m->span_admit_bits, share);
    if (share < 1 && was_all)
        ctl_log(CTL_LOG_WARN,
                "spans arrive at %.0f per %u ms stitch window, the span table holds %.0f for it "
                "(span-table %u x span-admit-fill %g): stitching %.1f%% of traces",
                per_window, window_ms, room, s->ring_cap, fill, share * 100);
    else if (share >= 1 && !was_all)
        ctl_log(CTL_LOG_INFO, "spans fit the span table again: stitching every trace");
    s->adm_offered = 0;
    s->adm_start_ms = now_ms;
}

static uint32_t sat32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void stitch(ctl_state_t *s, span_ent *parent, span_ent *child)
{
    child->flags |= SPAN_PARENT_FOUND;
    if (parent->ep == child->ep)
        return;
    parent->child_ns = sat32((uint64_t)parent->child_ns + child->dur_ns);
    edge_ent *e = ls_edge_get(s, parent->ep, child->ep);
    if (e) {
        e->count += 1;
        e->bytes += (double)child->body;
        e->total++;
    }
    atomic_fetch_add(&s->m->spans_stitched, 1);
}

void ls_span_insert(ctl_state_t *s, const slate_span_t *in, const prep_span *p, uint32_t ep,
                    uint32_t region, double load_rps, double dur_scale, uint64_t now_ns)
{
    uint32_t now_ms = ls_recv_ms_of(s, now_ns);
    if (s->ring_count == s->ring_cap) {
        uint32_t tail = (s->ring_head + s->ring_cap - s->ring_count) % s->ring_cap;
        if (now_ms - s->ring[tail].recv_ms < (uint32_t)s->cfg.stitch_window_ms)
            atomic_fetch_add(&s->m->overflow[CTL_OVF_SPAN_EVICT], 1);
        span_evict_oldest(s);
    }
    uint32_t idx = s->ring_head;
    __atomic_store_n(&s->ring_head, (s->ring_head + 1) % s->ring_cap, __ATOMIC_RELAXED);
    s->ring_count++;
    span_ent *sp = &s->ring[idx];
    memset(sp, 0, sizeof(*sp));
    sp->self_key = p->self_key;
    sp->parent_key = p->parent_key;
    uint64_t dur = in->end_ns > in->start_ns ? in->end_ns - in->start_ns : 0;
    sp->dur_ns = sat32(dur_scale < 1 ? (uint64_t)((double)dur * dur_scale) : dur);
    sp->seq = ++s->seq;
    sp->recv_ms = now_ms;
    sp->load_rps = (float)load_rps;
    sp->body = sat32(in->body_size);
    sp->ep = ep;
    sp->region = (uint8_t)region;
    sp->flags = SPAN_USED;
    /* From its first span on, the endpoint's model is of self time: windows
     * that close before the span is stitched must not feed it total latency. */
    cell_ent *cell = s->eps[ep].cells[region];
    if (cell)
        cell->seen_spans = true;
    uint32_t sb = ls_bucket_of(s, sp->self_key);
    head_push(s, &s->heads[sb].self, idx, sp->self_key, &sp->next_self, &sp->next_self_seq);
    sp->next_parent = NIL;
    s->eps[ep].spans_seen += 1;
    s->eps[ep].spans_total++;
    /* Its parent may already be here; otherwise it waits for it. */
    if (sp->parent_key) {
        uint32_t pi = ls_span_find(s, sp->parent_key);
        if (pi != NIL && pi != idx) {
            stitch(s, &s->ring[pi], sp);
        } else {
            uint32_t pb = ls_bucket_of(s, sp->parent_key);
            sp->flags |= SPAN_WAITING;
            head_push(s, &s->heads[pb].parent, idx, sp->parent_key, &sp->next_parent,
                      &sp->next_parent_seq);
            uint32_t w = waiting_bit(s, sp->parent_key);
            s->waiting[w >> 6] |= 1ull << (w & 63);
        }
    }
    /* Its children may already be here, waiting (the filter says when to look,
     * and the bucket's head whether any span there can be one). */
    uint32_t w = waiting_bit(s, sp->self_key);
    span_head ph = s->heads[sb].parent;
    if ((s->waiting[w >> 6] & (1ull << (w & 63))) &&
        (ls_head_tag(ph) == ls_key_tag(sp->self_key) || ls_head_more(ph))) {
        for (span_link l = ls_head_first(ph); ls_link_held(s, l);) {
            span_ent *c = link_ent(s, l);
            if (!c || !(c->flags & SPAN_WAITING))
                break;
            if (l.idx != idx && c->parent_key == sp->self_key && !(c->flags & SPAN_PARENT_FOUND))
                stitch(s, sp, c);
            l = (span_link){c->next_parent, c->next_parent_seq};
        }
    }
}

/* Rebuilds the waiting filter from the spans still waiting (stale bits go). */
void ls_waiting_rebuild(ctl_state_t *s)
{
    memset(s->waiting, 0, ((size_t)s->waiting_mask + 1) / 8);
    for (uint32_t k = 0; k < s->ring_count; k++) {
        const span_ent *e = &s->ring[(s->ring_head + s->ring_cap - 1 - k) % s->ring_cap];
        if ((e->flags & (SPAN_USED | SPAN_WAITING | SPAN_PARENT_FOUND)) ==
            (SPAN_USED | SPAN_WAITING)) {
            uint32_t w = waiting_bit(s, e->parent_key);
            s->waiting[w >> 6] |= 1ull << (w & 63);
        }
    }
}

/* Prefetches the entry a head names (a stale head costs a useless prefetch). */
static void prefetch_named(const ctl_state_t *s, const span_head *h)
{
    span_link l = ls_head_first(__atomic_load_n(h, __ATOMIC_RELAXED));
    if (l.idx != NIL)
        __builtin_prefetch(&s->ring[l.idx]);
}

/*
 * Before the lock: fetches what a report's spans will read under it, so the
 * lock holder does not wait on memory for it. First the index heads and
 * the filter words, then (once they have arrived) the ring entries the heads
 * name and the slots the spans will take. Heads and the ring's head are
 * read as relaxed atomic words (their writers store them so); whatever they
 * name is only prefetched, never read, here.
 */
void ls_spans_prefetch(const ctl_state_t *s, const prep_span *p, size_t n)
{
    size_t taking = 0; /* spans that will take a slot */
    for (size_t i = 0; i < n; i++) {
        if (p[i].self_key == 0)
            continue; /* no span id, or its trace is not admitted */
        taking++;
        __builtin_prefetch(&s->heads[ls_bucket_of(s, p[i].self_key)]);
        if (p[i].parent_key)
            __builtin_prefetch(&s->heads[ls_bucket_of(s, p[i].parent_key)]);
        __builtin_prefetch(&s->waiting[waiting_bit(s, p[i].self_key) >> 6]);
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i].self_key == 0)
            continue;
        if (p[i].parent_key)
            prefetch_named(s, &s->heads[ls_bucket_of(s, p[i].parent_key)].self);
        prefetch_named(s, &s->heads[ls_bucket_of(s, p[i].self_key)].parent);
    }
    uint32_t head = __atomic_load_n(&s->ring_head, __ATOMIC_RELAXED);
    for (size_t i = 0; i < taking; i += 64 / sizeof(span_ent))
        __builtin_prefetch(&s->ring[(head + i) % s->ring_cap], 1);
}
