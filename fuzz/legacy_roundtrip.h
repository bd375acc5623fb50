/*
 * Shared by the legacy text fuzz targets and tests/test_legacy.c: field-by-field
 * equality of decoded structs, and the decode -> encode -> decode round trip
 * every accepted body must survive.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_FUZZ_LEGACY_ROUNDTRIP_H
#define SLATE_FUZZ_LEGACY_ROUNDTRIP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/slate.h"

static inline int lr_str_eq(slate_str_t a, slate_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline int lr_latency_eq(const slate_latency_t *a, const slate_latency_t *b)
{
    return a->count == b->count && a->sum_ns == b->sum_ns && a->min_ns == b->min_ns &&
           a->max_ns == b->max_ns && a->mean_ns == b->mean_ns && a->m2 == b->m2 &&
           a->hist_len == b->hist_len && a->hist_offset == b->hist_offset;
}

static inline int lr_inbound_eq(const slate_inbound_t *a, const slate_inbound_t *b)
{
    return lr_str_eq(a->method, b->method) && lr_str_eq(a->path, b->path) &&
           a->requests == b->requests && a->rate_rps == b->rate_rps &&
           a->in_flight == b->in_flight && lr_latency_eq(&a->latency, &b->latency);
}

static inline int lr_outbound_eq(const slate_outbound_t *a, const slate_outbound_t *b)
{
    return lr_str_eq(a->dst_service, b->dst_service) && lr_str_eq(a->method, b->method) &&
           lr_str_eq(a->path, b->path) && lr_str_eq(a->dst_region, b->dst_region) &&
           a->requests == b->requests && lr_latency_eq(&a->latency, &b->latency);
}

static inline int lr_load_eq(const slate_endpoint_load_t *a, const slate_endpoint_load_t *b)
{
    return lr_str_eq(a->method, b->method) && lr_str_eq(a->path, b->path) && a->rps == b->rps &&
           a->in_flight == b->in_flight;
}

static inline int lr_span_eq(const slate_span_t *a, const slate_span_t *b)
{
    if (!(lr_str_eq(a->trace_id, b->trace_id) && lr_str_eq(a->span_id, b->span_id) &&
          lr_str_eq(a->parent_span_id, b->parent_span_id) && lr_str_eq(a->method, b->method) &&
          lr_str_eq(a->path, b->path) && a->start_ns == b->start_ns && a->end_ns == b->end_ns &&
          a->body_size == b->body_size && a->n_load == b->n_load))
        return 0;
    if ((a->load == NULL) != (b->load == NULL))
        return 0;
    for (size_t i = 0; a->load && i < a->n_load; i++)
        if (!lr_load_eq(&a->load[i], &b->load[i]))
            return 0;
    return 1;
}

/* Equality of what the legacy decoders fill (arrays must have been big enough). */
static inline int lr_report_eq(const slate_load_report_t *a, const slate_load_report_t *b)
{
    if (!(lr_str_eq(a->service, b->service) && lr_str_eq(a->region, b->region) &&
          a->n_inbound == b->n_inbound && a->n_outbound == b->n_outbound &&
          a->n_spans == b->n_spans && a->n_span_loads == b->n_span_loads))
        return 0;
    for (size_t i = 0; i < a->n_inbound; i++)
        if (!lr_inbound_eq(&a->inbound[i], &b->inbound[i]))
            return 0;
    for (size_t i = 0; i < a->n_outbound; i++)
        if (!lr_outbound_eq(&a->outbound[i], &b->outbound[i]))
            return 0;
    for (size_t i = 0; i < a->n_spans; i++)
        if (!lr_span_eq(&a->spans[i], &b->spans[i]))
            return 0;
    return 1;
}

static inline int lr_rules_eq(const slate_routing_rules_t *a, const slate_routing_rules_t *b)
{
    if (a->n_rules != b->n_rules || a->n_targets != b->n_targets)
        return 0;
    for (size_t i = 0; i < a->n_rules; i++) {
        const slate_rule_t *x = &a->rules[i], *y = &b->rules[i];
        if (!(lr_str_eq(x->src_region, y->src_region) &&
              lr_str_eq(x->dst_service, y->dst_service) && lr_str_eq(x->method, y->method) &&
              lr_str_eq(x->path, y->path) && lr_str_eq(x->src_service, y->src_service) &&
              lr_str_eq(x->src_method, y->src_method) && lr_str_eq(x->src_path, y->src_path) &&
              x->n_targets == y->n_targets))
            return 0;
        for (size_t k = 0; k < x->n_targets; k++)
            if (!lr_str_eq(x->targets[k].region, y->targets[k].region) ||
                x->targets[k].weight != y->targets[k].weight)
                return 0;
    }
    return 1;
}

#endif /* SLATE_FUZZ_LEGACY_ROUNDTRIP_H */
