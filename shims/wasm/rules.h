/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file rules.h
 * @brief Compiled routing rules as the reporter publishes them in proxy
 *        shared data, and the O(log n) lookup the filters do per outbound call.
 *
 * Pure C, no allocation; builds natively (tests, fuzz/fuzz_wasm_rules.c) and
 * for wasm32. The reporter validates the controller's RoutingRules, keeps
 * those that apply to its own region and service, and compiles them with
 * sw_rules_begin()/add()/finish() into one self-contained blob: region names,
 * a sorted index of endpoint keys, and one slate sampler table (alias method)
 * per key. A filter copies the blob once per version (not per request),
 * validates it with sw_rules_validate(), then draws straight from it.
 *
 * ## Keys and wildcards
 * A rule's destination is (service, method, path); an empty method or path
 * matches any. The index key is slate_endpoint_key(service, method, path)
 * with the empty strings as given, so the four kinds (exact, any path, any
 * method, any method and path) have distinct keys. A lookup tries the most
 * specific kind first and only kinds the blob contains (the header's flags).
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
 * | 48 | 8 | checksum: sw_hash64(bytes 64..total, seed sw_hash64(bytes 0..48, 0)) (bytes.h) |
 * | 56 | 8 | reserved (0) |
 * | 64 | 64 * regions | region names, NUL-padded, 1..63 printable bytes |
 * | .. | 24 * rules | index: key u64, table offset u32, table size u32, kind u16, 0 u16, 0 u32 |
 * | .. | .. | sampler tables, in index order, back to back |
 *
 * Index entries are sorted by key, keys are distinct, tables lie inside the
 * blob after the index without overlap, every table passes
 * slate_sampler_validate() and draws only region ids below `regions`.
 */
#ifndef SLATE_WASM_RULES_H
#define SLATE_WASM_RULES_H

#include <stddef.h>
#include <stdint.h>

#define SW_RULES_MAGIC           0x42524c53u /* "SLRB" */
#define SW_RULES_VERSION         1u
#define SW_RULES_HEADER          64u
#define SW_RULES_REGION          64u
#define SW_RULES_INDEX           24u
#define SW_RULES_NO_REGION       0xffffu
#define SW_RULES_MAX_REGION_NAME 63u

/** Kinds of a rule's destination. */
enum {
    SW_KIND_EXACT = 0,      /**< service, method, path */
    SW_KIND_ANY_PATH = 1,   /**< service, method, any path */
    SW_KIND_ANY_METHOD = 2, /**< service, any method, path */
    SW_KIND_ANY = 3,        /**< service, any method, any path */
};

typedef struct sw_rules_builder {
    uint8_t *buf;
    size_t cap;
    size_t tables_at; /* where the next table goes */
    uint16_t n_regions, max_rules, n_rules;
    int failed;
} sw_rules_builder_t;

/** Why a blob or a rule was rejected. */
typedef enum sw_rules_err {
    SW_RULES_OK = 0,
    SW_RULES_SHORT,       /**< blob shorter than its header or recorded size */
    SW_RULES_MAGIC_ERR,   /**< wrong magic */
    SW_RULES_VERSION_ERR, /**< unknown version or header size */
    SW_RULES_SIZE,        /**< sizes or offsets disagree */
    SW_RULES_CHECKSUM,    /**< checksum mismatch */
    SW_RULES_BAD_REGION,  /**< a region name is empty, too long or not printable, or a duplicate */
    SW_RULES_ORDER,       /**< index not strictly sorted by key */
    SW_RULES_TABLE,       /**< a sampler table is invalid or names an unknown region */
    SW_RULES_NOSPACE,     /**< builder: the buffer is too small */
    SW_RULES_WEIGHTS,     /**< builder: the sampler refused the weights */
    SW_RULES_DUPLICATE,   /**< builder: the same destination twice */
    SW_RULES_COUNT,       /**< builder: more rules than declared */
} sw_rules_err;

/**
 * @brief Bytes a blob needs for `n_regions` regions, `n_rules` rules and
 *        `total_targets` (region, weight) pairs over all rules. O(1).
 */
size_t sw_rules_size(size_t n_regions, size_t n_rules, size_t total_targets);

/**
 * @brief Start a blob in buf[cap] with its region table.
 *
 * `regions[i]` is the name of region id i (NUL-terminated, 1..63 printable
 * bytes, distinct). `local_region` is the id of the proxy's own region or
 * SW_RULES_NO_REGION. Nothing is valid until sw_rules_finish() succeeds.
 */
sw_rules_err sw_rules_begin(sw_rules_builder_t *b, uint8_t *buf, size_t cap,
                            const char *const *regions, size_t n_regions, uint16_t local_region,
                            size_t max_rules, uint64_t version, uint64_t generated_ns,
                            uint64_t expiry_ns);

/**
 * @brief Add the rule for one destination key: `n` (region id, weight) pairs.
 *
 * Keys must be added in strictly increasing order (sort first): SW_RULES_ORDER
 * or SW_RULES_DUPLICATE otherwise. Fails with SW_RULES_WEIGHTS for what
 * slate_sampler_compile_u32() refuses (all zero, a region twice, ...),
 * SW_RULES_TABLE for an unknown region id, SW_RULES_NOSPACE when the buffer
 * is full. A failed add leaves the builder as it was. O(n).
 */
sw_rules_err sw_rules_add(sw_rules_builder_t *b, uint64_t key, int kind, const uint16_t *regions,
                          const uint32_t *weights, size_t n);

/**
 * @brief Close the blob: compact the index, write sizes, flags and checksum.
 * @param len receives the blob length on success.
 */
sw_rules_err sw_rules_finish(sw_rules_builder_t *b, size_t *len);

/** @brief Validate a blob from untrusted memory. Never reads outside blob[0, len). */
sw_rules_err sw_rules_validate(const uint8_t *blob, size_t len);

/** Header fields of a validated blob. */
typedef struct sw_rules_info {
    uint64_t version, generated_ns, expiry_ns, checksum;
    uint16_t n_regions, n_rules, local_region, flags;
} sw_rules_info_t;

/** @brief Read the header of a validated blob. O(1). */
void sw_rules_info(const uint8_t *blob, sw_rules_info_t *info);

/**
 * @brief Find the sampler table of one key in a validated blob.
 * @return the table, or NULL when the key has no rule. O(log rules).
 */
const void *sw_rules_find(const uint8_t *blob, uint64_t key);

/** @brief Name of region `id` of a validated blob (NUL-terminated), or NULL. O(1). */
const char *sw_rules_region_name(const uint8_t *blob, uint16_t id);

/** @brief A short static name of an error. */
const char *sw_rules_err_name(sw_rules_err e);

#endif /* SLATE_WASM_RULES_H */
