/* libslate - proxy-wasm ABI 0.2.1 declarations for the test host's plugins.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Only what the test plugins use. Enums are passed as fixed-width integers. */
#ifndef SLATE_HOST_TESTDATA_ABI_H
#define SLATE_HOST_TESTDATA_ABI_H

#include <stddef.h>
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

enum {
    ST_OK = 0,
    ST_NOT_FOUND = 1,
    ST_BAD_ARGUMENT = 2,
    ST_SERIALIZATION_FAILURE = 3,
    ST_INVALID_MEMORY_ACCESS = 6,
    ST_EMPTY = 7,
    ST_CAS_MISMATCH = 8
};
enum { LOG_TRACE = 0, LOG_DEBUG = 1, LOG_INFO = 2, LOG_WARN = 3, LOG_ERROR = 4, LOG_CRITICAL = 5 };
enum {
    MAP_REQUEST_HEADERS = 0,
    MAP_REQUEST_TRAILERS = 1,
    MAP_RESPONSE_HEADERS = 2,
    MAP_RESPONSE_TRAILERS = 3,
    MAP_HTTP_CALL_RESPONSE_HEADERS = 6,
    MAP_HTTP_CALL_RESPONSE_TRAILERS = 7
};
enum {
    BUF_REQUEST_BODY = 0,
    BUF_RESPONSE_BODY = 1,
    BUF_HTTP_CALL_RESPONSE_BODY = 4,
    BUF_VM_CONFIGURATION = 6,
    BUF_PLUGIN_CONFIGURATION = 7
};
enum { ACTION_CONTINUE = 0, ACTION_PAUSE = 1 };

IMPORT(proxy_log) uint32_t proxy_log(uint32_t level, const char *msg, size_t len);
IMPORT(proxy_get_log_level) uint32_t proxy_get_log_level(uint32_t *level);
IMPORT(proxy_get_current_time_nanoseconds) uint32_t proxy_get_current_time_nanoseconds(uint64_t *t);
IMPORT(proxy_set_tick_period_milliseconds) uint32_t proxy_set_tick_period_milliseconds(uint32_t ms);
IMPORT(proxy_set_effective_context) uint32_t proxy_set_effective_context(uint32_t id);
IMPORT(proxy_get_buffer_bytes)
uint32_t proxy_get_buffer_bytes(uint32_t type, size_t start, size_t max, const char **ptr,
                                size_t *size);
IMPORT(proxy_get_buffer_status)
uint32_t proxy_get_buffer_status(uint32_t type, size_t *size, uint32_t *flags);
IMPORT(proxy_set_buffer_bytes)
uint32_t proxy_set_buffer_bytes(uint32_t type, size_t start, size_t size, const char *data,
                                size_t len);
IMPORT(proxy_get_header_map_pairs)
uint32_t proxy_get_header_map_pairs(uint32_t type, const char **ptr, size_t *size);
IMPORT(proxy_set_header_map_pairs)
uint32_t proxy_set_header_map_pairs(uint32_t type, const char *ptr, size_t size);
IMPORT(proxy_get_header_map_value)
uint32_t proxy_get_header_map_value(uint32_t type, const char *key, size_t klen, const char **ptr,
                                    size_t *size);
IMPORT(proxy_add_header_map_value)
uint32_t proxy_add_header_map_value(uint32_t type, const char *key, size_t klen, const char *val,
                                    size_t vlen);
IMPORT(proxy_replace_header_map_value)
uint32_t proxy_replace_header_map_value(uint32_t type, const char *key, size_t klen,
                                        const char *val, size_t vlen);
IMPORT(proxy_remove_header_map_value)
uint32_t proxy_remove_header_map_value(uint32_t type, const char *key, size_t klen);
IMPORT(proxy_get_header_map_size) uint32_t proxy_get_header_map_size(uint32_t type, size_t *size);
IMPORT(proxy_get_property)
uint32_t proxy_get_property(const char *path, size_t plen, const char **ptr, size_t *size);
IMPORT(proxy_set_property)
uint32_t proxy_set_property(const char *path, size_t plen, const char *val, size_t vlen);
IMPORT(proxy_send_local_response)
uint32_t proxy_send_local_response(uint32_t code, const char *details, size_t dlen,
                                   const char *body, size_t blen, const char *headers, size_t hlen,
                                   int32_t grpc);
IMPORT(proxy_continue_stream) uint32_t proxy_continue_stream(uint32_t type);
IMPORT(proxy_get_shared_data)
uint32_t proxy_get_shared_data(const char *key, size_t klen, const char **ptr, size_t *size,
                               uint32_t *cas);
IMPORT(proxy_set_shared_data)
uint32_t proxy_set_shared_data(const char *key, size_t klen, const char *val, size_t vlen,
                               uint32_t cas);
IMPORT(proxy_register_shared_queue)
uint32_t proxy_register_shared_queue(const char *name, size_t nlen, uint32_t *token);
IMPORT(proxy_resolve_shared_queue)
uint32_t proxy_resolve_shared_queue(const char *vm, size_t vlen, const char *name, size_t nlen,
                                    uint32_t *token);
IMPORT(proxy_enqueue_shared_queue)
uint32_t proxy_enqueue_shared_queue(uint32_t token, const char *data, size_t len);
IMPORT(proxy_dequeue_shared_queue)
uint32_t proxy_dequeue_shared_queue(uint32_t token, const char **ptr, size_t *size);
IMPORT(proxy_http_call)
uint32_t proxy_http_call(const char *up, size_t ulen, const char *hdrs, size_t hlen,
                         const char *body, size_t blen, const char *trl, size_t tlen,
                         uint32_t timeout_ms, uint32_t *token);
IMPORT(proxy_get_status)
uint32_t proxy_get_status(uint32_t *code, const char **ptr, size_t *size);
IMPORT(proxy_define_metric)
uint32_t proxy_define_metric(uint32_t type, const char *name, size_t nlen, uint32_t *id);
IMPORT(proxy_increment_metric) uint32_t proxy_increment_metric(uint32_t id, int64_t delta);
IMPORT(proxy_get_metric) uint32_t proxy_get_metric(uint32_t id, uint64_t *value);

#endif
