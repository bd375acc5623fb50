/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file module.h
 * @brief Internals shared by the data plane's wasm sources: contexts, the two
 *        roles, logging and host helpers. Not a public API.
 *
 * One module, two roles chosen by the plugin configuration's "role":
 * - "filter": an HTTP filter root context in every worker VM (filter.c);
 * - "reporter": the root context of the singleton service VM (reporter.c).
 * A VM may hold several root contexts (Envoy puts every plugin with the same
 * vm_id and code in one VM per thread); each has its own configuration.
 */
#ifndef SLATE_WASM_MODULE_H
#define SLATE_WASM_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "proxy_wasm_abi.h"

/** Most root contexts per VM (plugins sharing the VM). */
#define SW_MAX_ROOTS 16u

struct sw_filter;
struct sw_reporter;

typedef struct sw_root {
    uint32_t id;
    int configured;
    sw_config_t cfg;
    struct sw_filter *filter;     /* role filter, once configured */
    struct sw_reporter *reporter; /* role reporter, once configured */
} sw_root_t;

/** Shared-data keys and the queue name, derived from the service name. */
typedef struct sw_names {
    char rules[SW_NAME_CAP + 16];   /* "slate.<service>.rules" */
    char version[SW_NAME_CAP + 16]; /* "slate.<service>.rules.version" */
    char lease[SW_NAME_CAP + 16];   /* "slate.<service>.reporter" */
    char queue[SW_NAME_CAP + 16];   /* "slate.<service>.batches" */
} sw_names_t;

void sw_names_init(sw_names_t *n, const char *service);

/* ---- Version record ("slate.<service>.rules.version"), 32 bytes ---------- */
#define SW_VERSION_MAGIC  0x56524c53u /* "SLRV" */
#define SW_VERSION_RECORD 32u
/* magic u32, blob size u32, rules version u64, blob checksum u64, expiry_ns u64 */

/* ---- Reporter lease ("slate.<service>.reporter"): a core lease record,
 * SLATE_LEASE_SIZE bytes (slate/lease.h) ----------------------------------- */

/* ---- Host helpers (module.c) --------------------------------------------- */
uint64_t sw_now(void);
uint64_t sw_random64(void);

/** A tiny string builder for log lines (no printf in the module). */
typedef struct sw_sb {
    char buf[384];
    size_t n;
} sw_sb_t;
void sb_init(sw_sb_t *b);
void sb_str(sw_sb_t *b, const char *s);
void sb_mem(sw_sb_t *b, const char *s, size_t n);
void sb_u64(sw_sb_t *b, uint64_t v);
void sb_log(sw_sb_t *b, proxy_log_level_t level);
void sw_log(proxy_log_level_t level, const char *a, const char *b, const char *c);

/** A view of a serialized header map (proxy-wasm pairs format). */
typedef struct sw_hdr {
    const char *k, *v;
    size_t kn, vn;
} sw_hdr_t;

/**
 * Parse a serialized pairs buffer; the first `cap` pairs become views (the
 * rest are checked, not kept). Returns the number kept, 0 for an empty or
 * malformed buffer.
 */
size_t sw_pairs_parse(const uint8_t *buf, size_t len, sw_hdr_t *out, size_t cap);
/** Size of the serialized form of n pairs. */
size_t sw_pairs_size(const sw_hdr_t *h, size_t n);
/** Serialize n pairs into buf (sized by sw_pairs_size). */
void sw_pairs_write(const sw_hdr_t *h, size_t n, uint8_t *buf);

/** First value of a header (name lowercase) in parsed pairs, or NULL. */
const sw_hdr_t *sw_hdr_find(const sw_hdr_t *h, size_t n, const char *name);

/** Read a plugin/VM property as a string into out[cap]; returns its length or -1. */
long sw_property(const char *path, size_t path_len, char *out, size_t cap);

/* ---- Roles ----------------------------------------------------------------
 * Each module binary links module.c with one role (filter.c or reporter.c),
 * which defines SW_MODULE_ROLE's entry points below; the other role's
 * callbacks are no-ops there. Two binaries keep each within the size budget
 * and out of the other's code path. */
#if defined(SW_BUILD_REPORTER)
#define SW_MODULE_ROLE SW_ROLE_REPORTER
#else
#define SW_MODULE_ROLE SW_ROLE_FILTER
#endif

#if defined(SW_BUILD_SIDECAR)
/* The sidecar module carries both roles in every worker VM: filter.c's entry
 * points under sw_filter_*, reporter.c's under sw_reporter_*; sidecar.c
 * defines the sw_role_* below over them. */
int sw_filter_configure(sw_root_t *r);
void sw_filter_tick(sw_root_t *r);
void sw_filter_stream_create(uint32_t id, sw_root_t *root);
int sw_reporter_configure(sw_root_t *r);
void sw_reporter_tick(sw_root_t *r);
void sw_reporter_queue_ready(sw_root_t *r, uint32_t queue_id);
void sw_reporter_http_response(sw_root_t *r, uint32_t call_id, size_t num_headers,
                               size_t body_size);
#endif

int sw_role_configure(sw_root_t *r);
void sw_role_tick(sw_root_t *r);
void sw_role_queue_ready(sw_root_t *r, uint32_t queue_id);
void sw_role_http_response(sw_root_t *r, uint32_t call_id, size_t num_headers, size_t body_size);
void sw_role_stream_create(uint32_t id, sw_root_t *root);

/* Streams (filter.c; no-ops in the reporter). */
proxy_action_t sw_stream_request_headers(uint32_t id);
proxy_action_t sw_stream_request_body(uint32_t id, size_t body_size);
proxy_action_t sw_stream_response_headers(uint32_t id);
void sw_stream_finish(uint32_t id);
void sw_stream_delete(uint32_t id);

#endif /* SLATE_WASM_MODULE_H */
