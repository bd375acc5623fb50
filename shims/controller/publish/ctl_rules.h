/*
 * slate-controller: an immutable, reference-counted set of routing rules,
 * and its encodings: the RoutingRules protobuf answered to each proxy
 * (filtered to its service and region, cached), SLATE's legacy text, JSON,
 * and the whole set for persistence.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_RULES_H
#define CTL_RULES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_buf.h"
#include "ctl_json.h"
#include "slate/codec.h"

/* Weights are fractions of this (SLATE's legacy text scale, so both encodings agree). */
#define CTL_WEIGHT_SCALE 1000000u

typedef struct ctl_target {
    char *region;
    uint32_t weight;
} ctl_target_t;

typedef struct ctl_rule {
    char *src_region;
    char *dst_service;
    char *method;
    char *path;
    char *src_service; /* the calling service this rule is answered to ("" = any) */
    ctl_target_t *targets;
    uint32_t n_targets;
    uint64_t relayed_ns; /* cluster role: when the upstream last answered this rule (0: n/a) */
} ctl_rule_t;

#define CTL_RULES_CACHE 1024

typedef struct ctl_rules {
    atomic_int refs;
    uint64_t serial; /* unique in the process (never 0): what a cache of answers is keyed by */
    uint64_t version;
    uint64_t ttl_ns;
    uint64_t generated_ns;
    char origin[32]; /* "optimiser", "local", "waterfall", "rollback", "restored", "upstream" */
    ctl_rule_t *rules;
    size_t n_rules, cap_rules;
    pthread_mutex_t cache_mu;
    struct ctl_rules_cache {
        uint64_t key;
        char *service;
        char *region;
        uint8_t *pb;
        size_t pb_len;
    } cache[CTL_RULES_CACHE];
} ctl_rules_t;

/* An empty set with refs = 1. */
ctl_rules_t *ctl_rules_new(uint64_t version, uint64_t ttl_ns, uint64_t generated_ns,
                           const char *origin);
void ctl_rules_ref(ctl_rules_t *r);
void ctl_rules_unref(ctl_rules_t *r);

/* Appends a rule (strings copied). Weights need not be normalised. Returns 0 or -1 (memory). */
int ctl_rules_add(ctl_rules_t *r, const char *src_region, const char *dst_service,
                  const char *method, const char *path, const char *src_service,
                  const char *const *regions, const uint32_t *weights, uint32_t n);

/* Whether two sets route identically (same rules and weights, any order of rules). */
bool ctl_rules_same_routing(const ctl_rules_t *a, const ctl_rules_t *b);

/* The whole set as one RoutingRules message (for persistence and /v1/rules). */
int ctl_rules_encode_all(const ctl_rules_t *r, ctl_buf_t *out);
/* Rebuilds a set from ctl_rules_encode_all's bytes. NULL (and err) when malformed. */
ctl_rules_t *ctl_rules_decode_all(const uint8_t *buf, size_t len, const char *origin,
                                  slate_codec_error_t *err);
/* Converts a decoded RoutingRules message (e.g. from upstream) into a set. */
ctl_rules_t *ctl_rules_from_message(const slate_routing_rules_t *m, const char *origin);

/*
 * The RoutingRules answered to a proxy of `service` in `region`: the rules
 * whose source region is `region` and whose calling service is `service` or
 * any. Appended to `out` (from a per-set cache after the first time).
 */
int ctl_rules_response(ctl_rules_t *r, const char *service, size_t slen, const char *region,
                       size_t rlen, ctl_buf_t *out);

/*
 * A batch's answer (POST /v1/reports): the set of (service, region) pairs of
 * its reports, then one RoutingRules holding every rule some pair would get
 * from ctl_rules_response, each rule once. The answer is bounded by the size
 * of the rule set whatever the number of reports. Pairs are kept as 64-bit
 * hashes: a collision can only add a rule the proxies ignore, never drop one.
 */
typedef struct ctl_rules_batch {
    uint64_t *regions, *pairs;
    size_t regions_cap, pairs_cap, n_regions, n_pairs;
} ctl_rules_batch_t;
void ctl_rules_batch_init(ctl_rules_batch_t *b);
/* Adds one report's pair; 0 or -1 (memory). */
int ctl_rules_batch_add(ctl_rules_batch_t *b, const char *service, size_t slen, const char *region,
                        size_t rlen);
/* Appends the batch's RoutingRules to out; 0 or -1 (memory). */
int ctl_rules_batch_response(const ctl_rules_t *r, const ctl_rules_batch_t *b, ctl_buf_t *out);
void ctl_rules_batch_free(ctl_rules_batch_t *b);

/* The same rules as SLATE's comma-separated text (weights as fractions). */
int ctl_rules_legacy(ctl_rules_t *r, const char *service, size_t slen, const char *region,
                     size_t rlen, ctl_buf_t *out);

/* Writes the set as a JSON object. */
void ctl_rules_json(const ctl_rules_t *r, ctl_json_t *j);

#endif
