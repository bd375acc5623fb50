/*
 * Test helpers shared by the protobuf-c interop tests, the differential fuzz
 * target and the codec benchmark: convert libslate message structs into
 * protobuf-c ones, compare a protobuf-c message with a libslate one field by
 * field, and generate random messages from a fixed seed.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_PC_BRIDGE_H
#define SLATE_PC_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slate/codec.h"
#include "slate/v1/slate.pb-c.h"

/* A bump allocator so that building a message costs one malloc. */
typedef struct bridge_arena {
    uint8_t *mem;
    size_t cap, used;
} bridge_arena_t;

void bridge_arena_init(bridge_arena_t *a, size_t cap);
void bridge_arena_reset(bridge_arena_t *a);
void bridge_arena_free(bridge_arena_t *a);
void *bridge_alloc(bridge_arena_t *a, size_t n);

/* libslate -> protobuf-c (strings copied and NUL-terminated; an all-default
 * latency or drops becomes NULL, as a peer that never set it). */
Slate__V1__LoadReport *bridge_report_to_pc(bridge_arena_t *a, const slate_load_report_t *r);
Slate__V1__RoutingRules *bridge_rules_to_pc(bridge_arena_t *a, const slate_routing_rules_t *r);

/* NULL when every field agrees, else the path of the first difference (static buffer).
 * `r` must have been decoded into arrays (or built by hand). protobuf-c's strings
 * are NUL-terminated, so a string is compared up to its first NUL byte. */
const char *bridge_report_diff(const Slate__V1__LoadReport *pc, const slate_load_report_t *r);
const char *bridge_rules_diff(const Slate__V1__RoutingRules *pc, const slate_routing_rules_t *r);

/* Deterministic random messages. */
typedef struct bridge_rng {
    uint64_t s;
} bridge_rng_t;

uint64_t bridge_rand(bridge_rng_t *g);

typedef struct bridge_gen {
    size_t max_inbound, max_outbound, max_spans, max_loads, max_rules, max_targets;
    size_t max_string;  /* longest string generated */
    int extreme_values; /* also pick UINT64_MAX, huge/odd doubles, NaN */
    int neg_zero;       /* also pick -0.0 (which protobuf-c does not send) */
} bridge_gen_t;

void bridge_random_report(bridge_rng_t *g, bridge_arena_t *a, const bridge_gen_t *opt,
                          slate_load_report_t *out);
void bridge_random_rules(bridge_rng_t *g, bridge_arena_t *a, const bridge_gen_t *opt,
                         slate_routing_rules_t *out);

/* Arrays big enough for any generated message, to decode into. */
typedef struct bridge_report_sink {
    slate_load_report_t r;
    slate_inbound_t in[256];
    slate_outbound_t out[256];
    slate_span_t sp[512];
    slate_endpoint_load_t loads[4096];
} bridge_report_sink_t;

typedef struct bridge_rules_sink {
    slate_routing_rules_t r;
    slate_rule_t rules[1024];
    slate_route_target_t targets[4096];
} bridge_rules_sink_t;

/* True when a double of the report is -0.0: protobuf-c treats it as the default
 * and does not send it, where libslate (like protobuf's C++ runtime) does. */
bool bridge_report_has_negzero(const slate_load_report_t *r);

slate_load_report_t *bridge_report_sink(bridge_report_sink_t *s);
slate_routing_rules_t *bridge_rules_sink(bridge_rules_sink_t *s);

#endif /* SLATE_PC_BRIDGE_H */
