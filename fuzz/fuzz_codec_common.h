/*
 * Helpers shared by the codec fuzz targets: decode into arrays sized by a
 * counting pass, deep comparison of decoded messages, and the invariants every
 * decode must keep. Test code: it may allocate; the library never does.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_FUZZ_CODEC_COMMON_H
#define SLATE_FUZZ_CODEC_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/codec.h"

#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct fz_report {
    slate_load_report_t r;
} fz_report_t;

typedef struct fz_rules {
    slate_routing_rules_t r;
} fz_rules_t;

static inline void *fz_array(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    FZ_CHECK(p != NULL);
    return p;
}

/* Count, allocate exactly, decode; the two passes must agree. */
static inline slate_status fz_decode_report(const uint8_t *buf, size_t len,
                                            const slate_codec_limits_t *lim,
                                            slate_codec_error_t *err, fz_report_t *out)
{
    slate_load_report_t cnt;
    memset(&cnt, 0, sizeof cnt);
    memset(out, 0, sizeof *out);
    slate_status st = slate_load_report_decode(&cnt, buf, len, lim, err);
    FZ_CHECK(st != SLATE_ENOSPC);
    if (st != SLATE_OK)
        return st;
    slate_load_report_t *r = &out->r;
    r->inbound = fz_array(cnt.n_inbound, sizeof *r->inbound);
    r->cap_inbound = cnt.n_inbound;
    r->outbound = fz_array(cnt.n_outbound, sizeof *r->outbound);
    r->cap_outbound = cnt.n_outbound;
    r->spans = fz_array(cnt.n_spans, sizeof *r->spans);
    r->cap_spans = cnt.n_spans;
    r->span_loads = fz_array(cnt.n_span_loads, sizeof *r->span_loads);
    r->cap_span_loads = cnt.n_span_loads;
    slate_status st2 = slate_load_report_decode(r, buf, len, lim, err);
    FZ_CHECK(st2 == SLATE_OK);
    FZ_CHECK(r->n_inbound == cnt.n_inbound && r->n_outbound == cnt.n_outbound &&
             r->n_spans == cnt.n_spans && r->n_span_loads == cnt.n_span_loads);
    return SLATE_OK;
}

static inline void fz_free_report(fz_report_t *f)
{
    free(f->r.inbound);
    free(f->r.outbound);
    free(f->r.spans);
    free(f->r.span_loads);
    memset(f, 0, sizeof *f);
}

static inline slate_status fz_decode_rules(const uint8_t *buf, size_t len,
                                           const slate_codec_limits_t *lim,
                                           slate_codec_error_t *err, fz_rules_t *out)
{
    slate_routing_rules_t cnt;
    memset(&cnt, 0, sizeof cnt);
    memset(out, 0, sizeof *out);
    slate_status st = slate_routing_rules_decode(&cnt, buf, len, lim, err);
    FZ_CHECK(st != SLATE_ENOSPC);
    if (st != SLATE_OK)
        return st;
    slate_routing_rules_t *r = &out->r;
    r->rules = fz_array(cnt.n_rules, sizeof *r->rules);
    r->cap_rules = cnt.n_rules;
    r->targets = fz_array(cnt.n_targets, sizeof *r->targets);
    r->cap_targets = cnt.n_targets;
    slate_status st2 = slate_routing_rules_decode(r, buf, len, lim, err);
    FZ_CHECK(st2 == SLATE_OK);
    FZ_CHECK(r->n_rules == cnt.n_rules && r->n_targets == cnt.n_targets);
    return SLATE_OK;
}

static inline void fz_free_rules(fz_rules_t *f)
{
    free(f->r.rules);
    free(f->r.targets);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------------------- */
/* Invariants. */

__attribute__((unused)) static const uint8_t *fz_lo, *fz_hi; /* the input, for view checks */

static inline void fz_view_ok(slate_str_t s)
{
    if (s.len == 0)
        return;
    FZ_CHECK((const uint8_t *)s.ptr >= fz_lo && (const uint8_t *)s.ptr + s.len <= fz_hi);
}

static inline void fz_error_ok(slate_status st, const slate_codec_error_t *err, size_t len)
{
    FZ_CHECK(err->status == st);
    if (st == SLATE_OK)
        return;
    FZ_CHECK(err->offset <= len);
    FZ_CHECK(err->detail != NULL);
    FZ_CHECK(memchr(err->path, '\0', sizeof err->path) != NULL);
    FZ_CHECK(err->path[0] != '\0');
    char line[256];
    size_t n = slate_codec_error_format(err, line, sizeof line);
    FZ_CHECK(n > 0 && strlen(line) == (n < sizeof line ? n : sizeof line - 1));
}

__attribute__((unused)) static slate_stats_t fz_sa, fz_sb;

static inline bool fz_sv_eq(slate_str_t a, slate_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool fz_dbl_eq(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static inline bool fz_latency_eq(const slate_latency_t *a, const slate_latency_t *b)
{
    if (a->count != b->count || a->sum_ns != b->sum_ns || a->min_ns != b->min_ns ||
        a->max_ns != b->max_ns || !fz_dbl_eq(a->mean_ns, b->mean_ns) || !fz_dbl_eq(a->m2, b->m2) ||
        a->hist_offset != b->hist_offset || a->hist_len != b->hist_len)
        return false;
    FZ_CHECK(slate_latency_to_stats(a, &fz_sa) == SLATE_OK);
    FZ_CHECK(slate_latency_to_stats(b, &fz_sb) == SLATE_OK);
    return memcmp(fz_sa.hist, fz_sb.hist, sizeof fz_sa.hist) == 0;
}

static inline bool fz_inbound_eq(const slate_inbound_t *a, const slate_inbound_t *b)
{
    return fz_sv_eq(a->method, b->method) && fz_sv_eq(a->path, b->path) &&
           a->requests == b->requests && fz_dbl_eq(a->rate_rps, b->rate_rps) &&
           a->in_flight == b->in_flight && fz_latency_eq(&a->latency, &b->latency);
}

static inline bool fz_outbound_eq(const slate_outbound_t *a, const slate_outbound_t *b)
{
    return fz_sv_eq(a->dst_service, b->dst_service) && fz_sv_eq(a->method, b->method) &&
           fz_sv_eq(a->path, b->path) && fz_sv_eq(a->dst_region, b->dst_region) &&
           a->requests == b->requests && fz_latency_eq(&a->latency, &b->latency);
}

static inline bool fz_eload_eq(const slate_endpoint_load_t *a, const slate_endpoint_load_t *b)
{
    return fz_sv_eq(a->method, b->method) && fz_sv_eq(a->path, b->path) &&
           fz_dbl_eq(a->rps, b->rps) && a->in_flight == b->in_flight;
}

static inline bool fz_span_eq(const slate_span_t *a, const slate_span_t *b, bool loads)
{
    if (!fz_sv_eq(a->trace_id, b->trace_id) || !fz_sv_eq(a->span_id, b->span_id) ||
        !fz_sv_eq(a->parent_span_id, b->parent_span_id) || !fz_sv_eq(a->method, b->method) ||
        !fz_sv_eq(a->path, b->path) || a->start_ns != b->start_ns || a->end_ns != b->end_ns ||
        a->body_size != b->body_size || a->n_load != b->n_load)
        return false;
    if (loads)
        for (size_t k = 0; k < a->n_load; k++)
            if (!fz_eload_eq(&a->load[k], &b->load[k]))
                return false;
    return true;
}

static inline bool fz_report_eq(const slate_load_report_t *a, const slate_load_report_t *b)
{
    if (!fz_sv_eq(a->service, b->service) || !fz_sv_eq(a->region, b->region) ||
        !fz_sv_eq(a->pod, b->pod) || a->sequence != b->sequence || a->time_ns != b->time_ns ||
        a->interval_ns != b->interval_ns || a->n_inbound != b->n_inbound ||
        a->n_outbound != b->n_outbound || a->n_spans != b->n_spans ||
        memcmp(&a->drops, &b->drops, sizeof a->drops) != 0)
        return false;
    for (size_t i = 0; i < a->n_inbound; i++)
        if (!fz_inbound_eq(&a->inbound[i], &b->inbound[i]))
            return false;
    for (size_t i = 0; i < a->n_outbound; i++)
        if (!fz_outbound_eq(&a->outbound[i], &b->outbound[i]))
            return false;
    for (size_t i = 0; i < a->n_spans; i++)
        if (!fz_span_eq(&a->spans[i], &b->spans[i], true))
            return false;
    return true;
}

static inline bool fz_rule_eq(const slate_rule_t *a, const slate_rule_t *b, bool targets)
{
    if (!fz_sv_eq(a->src_region, b->src_region) || !fz_sv_eq(a->dst_service, b->dst_service) ||
        !fz_sv_eq(a->method, b->method) || !fz_sv_eq(a->path, b->path) ||
        !fz_sv_eq(a->src_service, b->src_service) || !fz_sv_eq(a->src_method, b->src_method) ||
        !fz_sv_eq(a->src_path, b->src_path) || a->n_targets != b->n_targets)
        return false;
    if (targets)
        for (size_t k = 0; k < a->n_targets; k++)
            if (!fz_sv_eq(a->targets[k].region, b->targets[k].region) ||
                a->targets[k].weight != b->targets[k].weight)
                return false;
    return true;
}

static inline bool fz_rules_eq(const slate_routing_rules_t *a, const slate_routing_rules_t *b)
{
    if (a->version != b->version || a->ttl_ns != b->ttl_ns || a->generated_ns != b->generated_ns ||
        a->n_rules != b->n_rules)
        return false;
    for (size_t i = 0; i < a->n_rules; i++)
        if (!fz_rule_eq(&a->rules[i], &b->rules[i], true))
            return false;
    return true;
}

/* Every view of a decoded report lies inside the input; histograms fit. */
static inline void fz_report_views_ok(const slate_load_report_t *r)
{
    fz_view_ok(r->service);
    fz_view_ok(r->region);
    fz_view_ok(r->pod);
    for (size_t i = 0; i < r->n_inbound; i++) {
        fz_view_ok(r->inbound[i].method);
        fz_view_ok(r->inbound[i].path);
        FZ_CHECK(r->inbound[i].latency.hist_offset + (uint64_t)r->inbound[i].latency.hist_len <=
                 SLATE_HIST_BUCKETS);
        FZ_CHECK(slate_latency_to_stats(&r->inbound[i].latency, &fz_sa) == SLATE_OK);
    }
    for (size_t i = 0; i < r->n_outbound; i++) {
        fz_view_ok(r->outbound[i].dst_service);
        fz_view_ok(r->outbound[i].method);
        fz_view_ok(r->outbound[i].path);
        fz_view_ok(r->outbound[i].dst_region);
        FZ_CHECK(slate_latency_to_stats(&r->outbound[i].latency, &fz_sa) == SLATE_OK);
    }
    size_t loads = 0;
    for (size_t i = 0; i < r->n_spans; i++) {
        const slate_span_t *s = &r->spans[i];
        fz_view_ok(s->trace_id);
        fz_view_ok(s->span_id);
        fz_view_ok(s->parent_span_id);
        fz_view_ok(s->method);
        fz_view_ok(s->path);
        FZ_CHECK(s->n_load == 0 || s->load == r->span_loads + loads);
        for (size_t k = 0; k < s->n_load; k++) {
            fz_view_ok(s->load[k].method);
            fz_view_ok(s->load[k].path);
        }
        loads += s->n_load;
    }
    FZ_CHECK(loads == r->n_span_loads);
}

static inline void fz_rules_views_ok(const slate_routing_rules_t *r)
{
    size_t targets = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const slate_rule_t *e = &r->rules[i];
        fz_view_ok(e->src_region);
        fz_view_ok(e->dst_service);
        fz_view_ok(e->method);
        fz_view_ok(e->path);
        fz_view_ok(e->src_service);
        fz_view_ok(e->src_method);
        fz_view_ok(e->src_path);
        FZ_CHECK(e->n_targets == 0 || e->targets == r->targets + targets);
        for (size_t k = 0; k < e->n_targets; k++)
            fz_view_ok(e->targets[k].region);
        targets += e->n_targets;
    }
    FZ_CHECK(targets == r->n_targets);
}

/* Limits derived from two bytes, to reach every limit's error path. */
static inline slate_codec_limits_t fz_tight_limits(uint8_t a, uint8_t b)
{
    slate_codec_limits_t l;
    l.max_depth = 1u + (a & 3u);
    l.max_repeated = 1u + (a >> 2);
    l.max_string = 1u + b;
    l.max_size = 64u + 64u * b;
    return l;
}

static inline bool fz_is_limit_status(slate_status st)
{
    return st == SLATE_EDEPTH || st == SLATE_ECOUNT || st == SLATE_ESTRLEN || st == SLATE_ELENGTH;
}

#endif /* SLATE_FUZZ_CODEC_COMMON_H */
