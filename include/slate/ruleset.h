/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file ruleset.h
 * @brief Compiled routing rules: the controller's RoutingRules for one proxy
 *        (service, region) compiled into one self-contained, validated byte
 *        region, and the per-call lookup and draw every proxy does.
 *
 * Every shim shares this layer: the wasm reporter compiles and publishes the
 * ruleset in proxy shared data and the filters draw from it; the nginx
 * module keeps it in its shared-memory zone; the native proxy in its own
 * memory. Pure C: no allocation, no I/O, no clock; the caller passes memory
 * and time.
 *
 * ## Concurrency contract
 * A ruleset is immutable once slate_ruleset_finish() (or
 * slate_ruleset_compile()) returned. Readers in any number of threads,
 * processes or VMs may look up and draw from it concurrently without a lock.
 * Replacing it is the caller's business: write a new ruleset elsewhere and
 * publish it atomically (a pointer or version swap under the caller's lock,
 * or proxy shared data's compare-and-swap). A ruleset read from memory
 * another party wrote must pass slate_ruleset_validate() first; the other
 * functions trust a validated ruleset.
 *
 * ## Keys and wildcards
 * A rule's destination is (service, method, path); an empty method or path
 * matches any. The index key is slate_endpoint_key(service, method, path)
 * with the empty strings as given, so the four kinds (exact, any path, any
 * method, any method and path) have distinct keys. slate_ruleset_route()
 * tries the most specific kind first, and only kinds the ruleset contains.
 *
 * ## Layout (version 1; little-endian, no alignment needed)
 * | off | size | field |
 * |---|---|---|
 * | 0  | 4 | magic "SLRB" |
 * | 4  | 2 | version (1) |
 * | 6  | 2 | header size (64) |
 * | 8  | 4 | total size |
 * | 12 | 2 | regions |
 * | 14 | 2 | rules (index entries) |
 * | 16 | 8 | rules version (the controller's) |
 * | 24 | 8 | generated_ns (the controller's clock) |
 * | 32 | 8 | expiry_ns (the controller's generated_ns + ttl_ns; 0 = none) |
 * | 40 | 2 | local region id, or 0xffff when the local region has no entry |
 * | 42 | 2 | flags: bit k set when an entry of kind k exists |
 * | 44 | 4 | reserved (0) |
 * | 48 | 8 | checksum: XXH3_64bits_withSeed(bytes 64..total, XXH3_64bits(bytes 0..48)) |
 * | 56 | 8 | reserved (0) |
 * | 64 | 64 * regions | region names, NUL-padded, 1..63 printable bytes |
 * | .. | 24 * rules | index: key u64, table offset u32, table size u32, kind u16, 0 u16, 0 u32 |
 * | .. | .. | sampler tables (sampler.h), in index order, back to back |
 *
 * Index entries are sorted by key, keys are distinct, tables lie inside the
 * ruleset after the index without overlap, every table passes
 * slate_sampler_validate() and draws only region ids below `regions`.
 */
#ifndef SLATE_RULESET_H
#define SLATE_RULESET_H

#include <stddef.h>
#include <stdint.h>

#include "slate/codec.h"
#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLATE_RULESET_MAGIC           0x42524c53u /**< "SLRB" */
#define SLATE_RULESET_VERSION         1u
#define SLATE_RULESET_HEADER          64u
#define SLATE_RULESET_REGION          64u
#define SLATE_RULESET_INDEX           24u
#define SLATE_RULESET_NO_REGION       0xffffu
#define SLATE_RULESET_MAX_REGION_NAME 63u

/** Kinds of a rule's destination. */
enum {
    SLATE_RULE_EXACT = 0,      /**< service, method, path */
    SLATE_RULE_ANY_PATH = 1,   /**< service, method, any path */
    SLATE_RULE_ANY_METHOD = 2, /**< service, any method, path */
    SLATE_RULE_ANY = 3,        /**< service, any method, any path */
};

/** A ruleset being built (slate_ruleset_begin/add/finish). Small; on the stack. */
typedef struct slate_ruleset_builder {
    uint8_t *buf;
    size_t cap;
    size_t tables_at; /**< where the next table goes */
    uint16_t n_regions, max_rules, n_rules;
    int failed;
} slate_ruleset_builder_t;

/** Header fields of a validated ruleset. */
typedef struct slate_ruleset_info {
    uint64_t version, generated_ns, expiry_ns, checksum;
    uint16_t n_regions, n_rules, local_region, flags;
} slate_ruleset_info_t;

/**
 * @brief Bytes a ruleset needs for `n_regions` regions, `n_rules` rules and
 *        `total_targets` (region, weight) pairs over all rules. O(1).
 */
SLATE_API size_t slate_ruleset_size(size_t n_regions, size_t n_rules, size_t total_targets);

/**
 * @brief Start a ruleset in buf[cap] with its region table.
 *
 * `regions[i]` is the name of region id i (NUL-terminated, 1..63 printable
 * bytes, distinct). `local_region` is the id of the proxy's own region or
 * SLATE_RULESET_NO_REGION. Nothing is valid until slate_ruleset_finish().
 * @return SLATE_OK; SLATE_ETOOMANY (more regions than the sampler takes, or
 *         more than 65535 rules); SLATE_ENOSPC (cap below the size of the
 *         header, regions and index); SLATE_EINVAL (a name empty, too long
 *         or not printable); SLATE_EDUPLICATE (a name twice); SLATE_ERANGE
 *         (local_region past the regions). Cost: O(n_regions^2).
 */
SLATE_API SLATE_NODISCARD slate_status slate_ruleset_begin(slate_ruleset_builder_t *b, uint8_t *buf,
                                                           size_t cap, const char *const *regions,
                                                           size_t n_regions, uint16_t local_region,
                                                           size_t max_rules, uint64_t version,
                                                           uint64_t generated_ns,
                                                           uint64_t expiry_ns);

/**
 * @brief Add the rule for one destination key: `n` (region id, weight) pairs.
 *
 * Keys must be added in strictly increasing order (sort first). A failed
 * add leaves the builder as it was.
 * @return SLATE_OK; SLATE_EDUPLICATE (the previous key again, or a region
 *         id twice); SLATE_EINVAL (a smaller key, or an unknown kind);
 *         SLATE_ERANGE (an unknown region id); SLATE_EVALUE (no pairs, or
 *         more than the sampler takes); SLATE_EWEIGHT_ZERO (every weight
 *         zero); SLATE_ENOSPC (the buffer is full);
 *         SLATE_ETOOMANY (more rules than declared, or after a failure).
 *         Cost: O(n).
 */
SLATE_API SLATE_NODISCARD slate_status slate_ruleset_add(slate_ruleset_builder_t *b, uint64_t key,
                                                         int kind, const uint16_t *regions,
                                                         const uint32_t *weights, size_t n);

/**
 * @brief Close the ruleset: compact the index, write sizes, flags and
 *        checksum. `*len` receives its length. A builder finishes once.
 * @return SLATE_OK; SLATE_ETOOMANY (the builder had failed or finished).
 *         Cost: O(size).
 */
SLATE_API SLATE_NODISCARD slate_status slate_ruleset_finish(slate_ruleset_builder_t *b,
                                                            size_t *len);

/**
 * @brief Validate a ruleset from untrusted memory. Never reads outside
 *        blob[0, len) and writes nothing.
 * @return SLATE_OK; SLATE_EINVAL (NULL); SLATE_EBADSIZE (shorter than its
 *         header or recorded size, or sizes and offsets disagree);
 *         SLATE_EBADMAGIC; SLATE_EBADVERSION; SLATE_ECORRUPT (checksum
 *         mismatch, a bad region name, an index out of order, a bad sampler
 *         table). Cost: O(len).
 */
SLATE_API SLATE_NODISCARD slate_status slate_ruleset_validate(const uint8_t *blob, size_t len);

/** @brief Read the header of a validated ruleset. O(1). */
SLATE_API void slate_ruleset_info(const uint8_t *blob, slate_ruleset_info_t *info);

/**
 * @brief Find the sampler table of one key in a validated ruleset.
 * @return the table (draw with slate_sampler_draw()), or NULL when the key
 *         has no rule. Cost: O(log rules).
 */
SLATE_API const void *slate_ruleset_find(const uint8_t *blob, uint64_t key);

/**
 * @brief Entry `i` (in key order) of a validated ruleset: its key, kind
 *        (SLATE_RULE_*) and sampler table, for listing a ruleset.
 * @return the table, or NULL when i is not below the number of rules
 *         (nothing written then). O(1).
 */
SLATE_API const void *slate_ruleset_entry(const uint8_t *blob, size_t i, uint64_t *key, int *kind);

/** @brief Name of region `id` of a validated ruleset (NUL-terminated), or NULL. O(1). */
SLATE_API const char *slate_ruleset_region_name(const uint8_t *blob, uint16_t id);

/**
 * @brief The sampler table of the most specific rule that matches (service,
 *        method, path): exact, then any path, any method, any; NULL when no
 *        rule matches. For a caller that draws itself (slate_failover_draw()
 *        skips regions whose calls fail); slate_ruleset_route() is match
 *        then draw. Arguments as slate_ruleset_route()'s.
 * Cost: at most four key computations and O(log rules) lookups.
 */
SLATE_API const void *slate_ruleset_match(const uint8_t *blob, const char *service,
                                          size_t service_len, const char *method, size_t method_len,
                                          const char *path, size_t path_len,
                                          const uint64_t *exact_key);

/**
 * @brief Route one outbound call: the region id drawn for the most specific
 *        rule that matches (service, method, path), or SLATE_RULESET_NO_REGION
 *        when no rule matches.
 *
 * `path` is the normalised path (slate_path_normalize()), as the controller
 * keys rules. `exact_key`, when not NULL, is slate_endpoint_key() of the
 * three, which the caller often has already; `random` is a uniform 64-bit
 * value (slate_rng_next()). Expiry is the caller's decision
 * (slate_ruleset_info()'s expiry_ns against its clock).
 * Cost: at most four key computations and O(log rules) lookups.
 */
SLATE_API uint16_t slate_ruleset_route(const uint8_t *blob, const char *service, size_t service_len,
                                       const char *method, size_t method_len, const char *path,
                                       size_t path_len, const uint64_t *exact_key, uint64_t random);

/**
 * The rate of a calling endpoint (requests/s), for mixing caller-specific
 * rules of one destination (rules whose src_method or src_path is set): each
 * is weighted by its caller's rate. Empty method or path match any.
 */
typedef double (*slate_caller_rate_fn)(void *ctx, slate_str_t src_method, slate_str_t src_path);

/** What slate_ruleset_compile() needs besides the message. */
typedef struct slate_ruleset_compile_params {
    const char *service; /**< the proxy's service (rules for other callers are left out) */
    const char *region;  /**< the proxy's region: region id 0 of the ruleset */
    size_t max_regions;  /**< most targets one rule may name; the ruleset names at most
                              max_regions + 1 regions (the local one too) */
    size_t max_rules;    /**< rules kept for this proxy */
    size_t max_name;     /**< longest destination service name */
    size_t max_method;   /**< longest method */
    size_t max_path;     /**< longest path */
    slate_caller_rate_fn caller_rate; /**< NULL: caller-specific rules mix equally */
    void *ctx;
} slate_ruleset_compile_params_t;

/** @brief Scratch bytes slate_ruleset_compile() needs for a message of `n_rules`. O(1). */
SLATE_API size_t slate_ruleset_compile_scratch(size_t n_rules, size_t max_regions);

/**
 * @brief Compile a decoded RoutingRules message into the ruleset of one proxy.
 *
 * Keeps the rules whose src_region is the proxy's region and whose
 * src_service is empty or the proxy's service; checks every destination and
 * target; mixes caller-specific rules of one destination by their callers'
 * rates (a caller-agnostic rule wins over them); compiles one sampler table
 * per destination. Region id 0 is the proxy's region. Expiry is the
 * message's generated_ns + ttl_ns (0 when it has no TTL).
 * With `out` NULL or `cap` short, returns SLATE_ENOSPC and the size needed
 * in `*len` (call again with that much). That sizing pass checks names,
 * targets and limits; weights are judged while the tables are built, so the
 * second call may still refuse (SLATE_EDUPLICATE, SLATE_EVALUE, ...).
 * @param scratch at least slate_ruleset_compile_scratch(msg->n_rules, max_regions)
 *        bytes, 8-byte aligned.
 * @param why receives a static one-line reason on a rejection (may be NULL).
 * @return SLATE_OK; SLATE_ENOSPC (out too small; *len set); SLATE_EINVAL
 *         (NULL arguments or short scratch); SLATE_EVALUE (a rule is
 *         malformed: empty or long names, no targets, two caller-agnostic
 *         rules for one destination); SLATE_EDUPLICATE (a rule names a region
 *         twice); SLATE_ETOOMANY (more rules or regions than the limits).
 *         A rule whose weights are all zero draws nothing: its destination
 *         routes locally (no error).
 * Cost: O(r log r + r x t) for r kept rules of t targets, plus the
 * caller_rate calls.
 */
SLATE_API SLATE_NODISCARD slate_status slate_ruleset_compile(
    const slate_routing_rules_t *msg, const slate_ruleset_compile_params_t *p, void *scratch,
    size_t scratch_len, uint8_t *out, size_t cap, size_t *len, const char **why);

/**
 * What a proxy does with an outbound call, given the rules it holds: the
 * one place the data planes decide time to live and fail-static.
 */
typedef enum slate_rules_state {
    SLATE_RULES_NONE = 0,    /**< no rules held: route locally (no routing header) */
    SLATE_RULES_LIVE = 1,    /**< within their time to live: route by them, also while the
                                  controller cannot be reached (fail-static) */
    SLATE_RULES_EXPIRED = 2, /**< past their time to live: route locally */
} slate_rules_state;

/**
 * @brief When rules that arrive at `now_ns` stop applying: the earlier of
 *        now + `local_ttl_ns` (the proxy's own bound; 0 = none) and the
 *        message's deadline. The deadline is generated_ns + ttl_ns when the
 *        message says when it was generated (the controller's unix clock:
 *        `now_ns` must then be unix ns too), now + ttl_ns when it does not,
 *        none when ttl_ns is 0. Sums saturate. Never returns 0 (0 means "no
 *        rules held"): rules already past their deadline get now_ns, and
 *        slate_rules_state_at() finds them expired. Cost: O(1).
 */
SLATE_API uint64_t slate_rules_expiry(uint64_t generated_ns, uint64_t ttl_ns, uint64_t now_ns,
                                      uint64_t local_ttl_ns);

/**
 * @brief The state of rules expiring at `expiry_ns` (0: none held) at
 *        `now_ns`: LIVE strictly before the expiry. Cost: O(1).
 */
SLATE_API slate_rules_state slate_rules_state_at(uint64_t expiry_ns, uint64_t now_ns);

/**
 * @brief Whether an answer of `version` only renews the rules held: rules
 *        are held (`held`) and have that version. The caller then extends
 *        their expiry (slate_rules_expiry()) and compiles nothing; any other
 *        version replaces them, lower ones too (a restarted controller
 *        counts from 1 again). Cost: O(1).
 */
SLATE_API int slate_rules_renews(int held, uint64_t held_version, uint64_t version);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_RULESET_H */
