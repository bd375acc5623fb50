/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file config.h
 * @brief The data plane's plugin configuration: a small, strict JSON parser
 *        and the validated settings it produces.
 *
 * Pure C: no allocation, no I/O, no global state. It builds for wasm32 (the
 * module calls it from `proxy_on_configure`) and natively (tests and the
 * fuzz target fuzz/fuzz_wasm_config.c).
 *
 * Strictness: the input must be one JSON object (RFC 8259 syntax, UTF-8,
 * no comments, no trailing commas). Every key must be a known one, given at
 * most once, with the documented type and range; strings have a maximum
 * length. The first problem found is reported with the key it concerns
 * (`"limits.max_endpoints"`) and a static reason, and nothing else is
 * reported. Bounds: input at most SW_CONFIG_MAX_INPUT bytes, nesting at most
 * SW_CONFIG_MAX_DEPTH, so the work is O(input length).
 *
 * Keys, types and defaults (README.md has the same table). An absent service,
 * region or pod is taken from the proxy when the plugin starts: service from
 * the node metadata's label app, then label app.kubernetes.io/name, then
 * WORKLOAD_NAME; region from the node's locality; pod from the metadata's
 * NAME, then the node id (slate/identity.h checks each candidate).
 *
 * | key                          | type    | default                 | range            |
 * |------------------------------|---------|-------------------------|------------------|
 * | role                         | string  | the module's own role   | filter, reporter |
 * | service                      | string  | from the proxy (below)  | 1..63 bytes      |
 * | region                       | string  | from the proxy (below)  | 1..63 bytes      |
 * | pod                          | string  | from the proxy (below)  | 0..63 bytes      |
 * | vm_id                        | string  | ""                      | 0..63 bytes      |
 * | direction                    | string  | "auto"                  | auto, inbound, outbound |
 * | protocol                     | string  | "protobuf"              | protobuf, slate-legacy |
 * | controller_cluster           | string  | required for reporter   | 1..127 bytes     |
 * | controller_authority         | string  | = controller_cluster    | 1..127 bytes     |
 * | controller_token             | string  | "" (no credential sent) | 0..127 bytes     |
 * | controller_path              | string  | "/v1/report" (protobuf), "/proxyLoad" (slate-legacy)
 * | 1..127, starts with / | | tick_ms                      | integer | 1000 | 10..3600000      | |
 * http_timeout_ms              | integer | 500                     | 1..600000, reporter: < tick_ms
 * | | trace_sampling_rate          | number  | 0.01                    | 0..1             | |
 * rules_ttl_ms                 | integer | 30000                   | 1..86400000      | |
 * routing_header               | string  | "x-slate-routeto"       | 1..63, lowercase token | |
 * route_local_when_no_rules    | boolean | false                   |                  | |
 * limits.max_endpoints         | integer | 64                      | 1..4096          | |
 * limits.max_outbound          | integer | 64                      | 1..4096          | |
 * limits.max_spans_per_tick    | integer | 128                     | 0..65536         | |
 * limits.max_rules             | integer | 256                     | 1..4096          | |
 * limits.max_regions           | integer | 16                      | 1..256           | |
 * limits.max_response_bytes    | integer | 1048576                 | 64..67108864     | |
 * limits.max_batch_bytes       | integer | 65536                   | 16384..16777216  | |
 * limits.max_workers           | integer | 128                     | 1..1024          |
 */
#ifndef SLATE_WASM_CONFIG_H
#define SLATE_WASM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/** Largest configuration accepted, in bytes. */
#define SW_CONFIG_MAX_INPUT 65536u
/** Deepest nesting of objects and arrays accepted (the top object is depth 1). */
#define SW_CONFIG_MAX_DEPTH 4u

#define SW_NAME_CAP 64u  /**< capacity of short names, with the terminating NUL */
#define SW_LONG_CAP 128u /**< capacity of cluster, authority and path */

enum { SW_ROLE_FILTER = 0, SW_ROLE_REPORTER = 1 };
enum { SW_DIR_AUTO = 0, SW_DIR_INBOUND = 1, SW_DIR_OUTBOUND = 2 };
enum { SW_PROTO_PROTOBUF = 0, SW_PROTO_LEGACY = 1 };

/** Validated settings. Strings are NUL-terminated; lengths are kept too. */
typedef struct sw_config {
    uint8_t role;      /**< SW_ROLE_* */
    uint8_t direction; /**< SW_DIR_* */
    uint8_t protocol;  /**< SW_PROTO_* */
    uint8_t route_local_when_no_rules;
    char service[SW_NAME_CAP];
    char region[SW_NAME_CAP];
    char pod[SW_NAME_CAP];
    char vm_id[SW_NAME_CAP];
    char routing_header[SW_NAME_CAP];
    char controller_cluster[SW_LONG_CAP];
    char controller_authority[SW_LONG_CAP];
    char controller_path[SW_LONG_CAP];
    char controller_token[SW_LONG_CAP]; /**< sent as "authorization: Bearer <token>" */
    uint32_t tick_ms;
    uint32_t http_timeout_ms;
    uint32_t rules_ttl_ms;
    double trace_sampling_rate;
    uint32_t max_endpoints;
    uint32_t max_outbound;
    uint32_t max_spans_per_tick;
    uint32_t max_rules;
    uint32_t max_regions;
    uint32_t max_response_bytes;
    uint32_t max_batch_bytes;
    uint32_t max_workers;
} sw_config_t;

/** Why a configuration was rejected. */
typedef enum sw_config_err {
    SW_CFG_OK = 0,
    SW_CFG_TOO_LARGE,     /**< input longer than SW_CONFIG_MAX_INPUT */
    SW_CFG_SYNTAX,        /**< not valid JSON */
    SW_CFG_NOT_OBJECT,    /**< the top level (or "limits") is not an object */
    SW_CFG_TOO_DEEP,      /**< nesting deeper than SW_CONFIG_MAX_DEPTH */
    SW_CFG_UNKNOWN_KEY,   /**< a key this module does not know */
    SW_CFG_DUPLICATE_KEY, /**< a key given twice */
    SW_CFG_TYPE,          /**< a value of the wrong JSON type */
    SW_CFG_RANGE,         /**< a number outside its range, or not an integer */
    SW_CFG_STRING,        /**< a string too long, empty when it must not be, or not allowed */
    SW_CFG_MISSING,       /**< a required key is absent */
} sw_config_err;

/** The first problem found: which key, why, and where. */
typedef struct sw_config_error {
    sw_config_err code;
    char key[SW_NAME_CAP]; /**< dotted key path, "" when the problem is not about a key */
    const char *reason;    /**< static text, never NULL after a parse */
    size_t offset;         /**< byte offset in the input where it was found */
    uint32_t lo, hi;       /**< for SW_CFG_RANGE on an integer key: its allowed range */
} sw_config_error_t;

/** @brief Fill `cfg` with every default (service and region empty: the proxy's). O(1). */
void sw_config_defaults(sw_config_t *cfg);

/**
 * @brief Parse and validate a configuration.
 *
 * `default_role` (SW_ROLE_*) is the role when the configuration names none:
 * each module binary passes its own. On success `cfg` holds the settings
 * (defaults for absent keys) and `err->code` is SW_CFG_OK. On failure `cfg` is
 * left as the defaults, `err` names the key and the reason, and the return
 * value is the error code. An empty input (size 0, or only white space) is
 * every default. O(size).
 */
sw_config_err sw_config_parse(sw_config_t *cfg, const char *json, size_t size, int default_role,
                              sw_config_error_t *err);

/** @brief A short static name of an error code ("unknown key"). */
const char *sw_config_err_name(sw_config_err code);

#endif /* SLATE_WASM_CONFIG_H */
