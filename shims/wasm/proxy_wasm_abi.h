/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file proxy_wasm_abi.h
 * @brief The proxy-wasm ABI 0.2.1 as the data plane uses it: every hostcall the
 *        module may import and every callback it may export, in one place.
 *
 * Names are exactly the specification's (`proxy-wasm/spec`, abi-versions/v0.2.1).
 * Only integers and (pointer, size) pairs cross the boundary. The ABI's enums
 * travel as fixed-width integers (`uint32_t`), because a C enum has no fixed
 * width; the values are the constants below. Hostcalls return a
 * `proxy_status_t`; results come back through out-pointers, and buffers the
 * host returns were allocated through the module's exported allocator
 * (`proxy_on_memory_allocate`, or `malloc` in older hosts), so the module frees
 * them with `free()`.
 *
 * Semantics worth knowing (from the specification and from Envoy's host,
 * proxy-wasm-cpp-host src/exports.cc):
 * - `proxy_get_buffer_bytes` with nothing to copy returns OK and leaves the
 *   out-pointers untouched: callers initialise them.
 * - The body of an HTTP call's response is read from buffer
 *   `PROXY_BUFFER_HTTP_CALL_RESPONSE_BODY` (4), which is what Envoy serves.
 * - `proxy_on_http_call_response` with `num_headers == 0` means the call failed
 *   (connection failure, reset or timeout).
 * - `proxy_set_shared_data` with `cas != 0` fails with `CAS_MISMATCH` when the
 *   key was written since the `cas` was read; `cas == 0` always writes. Every
 *   successful write gives the key a new cas. Shared data and queues are scoped
 *   by `vm_id`: the reporter and the filters must share one.
 * - `wasi_snapshot_preview1.clock_time_get` supports clock 0 (realtime) in
 *   every Envoy release; the data plane uses only that clock.
 *
 * This header is only meaningful when compiling for wasm32; the pure parts of
 * the module (configuration, shared layouts) do not include it, so they also
 * build natively for tests and fuzzing.
 */
#ifndef SLATE_PROXY_WASM_ABI_H
#define SLATE_PROXY_WASM_ABI_H

#include <stddef.h>
#include <stdint.h>

#if defined(__wasm__)
#define PROXY_WASM_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define PROXY_WASI_IMPORT(name)                                                                    \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
#define PROXY_WASM_EXPORT(name) __attribute__((export_name(#name)))
#else
#define PROXY_WASM_IMPORT(name)
#define PROXY_WASI_IMPORT(name)
#define PROXY_WASM_EXPORT(name)
#endif

/* ------------------------------------------------------------------------- */
/* Types. Each is a fixed-width integer; the constants give its values.       */

typedef uint32_t proxy_status_t;      /**< result of every hostcall */
typedef uint32_t proxy_log_level_t;   /**< proxy_log level */
typedef uint32_t proxy_action_t;      /**< what a stream callback asks the host to do */
typedef uint32_t proxy_buffer_type_t; /**< which byte buffer */
typedef uint32_t proxy_map_type_t;    /**< which header map */
typedef uint32_t proxy_stream_type_t; /**< which direction of a stream */
typedef uint32_t proxy_metric_type_t; /**< counter, gauge or histogram */
typedef uint32_t proxy_peer_type_t;   /**< who closed a connection */
typedef uint32_t wasi_errno_t;        /**< result of a WASI call */
typedef uint32_t wasi_clock_id_t;     /**< which WASI clock */

enum {
    PROXY_RESULT_OK = 0,
    PROXY_RESULT_NOT_FOUND = 1,
    PROXY_RESULT_BAD_ARGUMENT = 2,
    PROXY_RESULT_SERIALIZATION_FAILURE = 3,
    PROXY_RESULT_PARSE_FAILURE = 4,
    PROXY_RESULT_INVALID_MEMORY_ACCESS = 6,
    PROXY_RESULT_EMPTY = 7,
    PROXY_RESULT_CAS_MISMATCH = 8,
    PROXY_RESULT_INTERNAL_FAILURE = 10,
    PROXY_RESULT_UNIMPLEMENTED = 12,
};

enum {
    PROXY_LOG_TRACE = 0,
    PROXY_LOG_DEBUG = 1,
    PROXY_LOG_INFO = 2,
    PROXY_LOG_WARN = 3,
    PROXY_LOG_ERROR = 4,
    PROXY_LOG_CRITICAL = 5,
};

enum {
    PROXY_ACTION_CONTINUE = 0,
    PROXY_ACTION_PAUSE = 1,
};

enum {
    PROXY_BUFFER_HTTP_REQUEST_BODY = 0,
    PROXY_BUFFER_HTTP_RESPONSE_BODY = 1,
    PROXY_BUFFER_DOWNSTREAM_DATA = 2,
    PROXY_BUFFER_UPSTREAM_DATA = 3,
    PROXY_BUFFER_HTTP_CALL_RESPONSE_BODY = 4,
    PROXY_BUFFER_GRPC_CALL_MESSAGE = 5,
    PROXY_BUFFER_VM_CONFIGURATION = 6,
    PROXY_BUFFER_PLUGIN_CONFIGURATION = 7,
    PROXY_BUFFER_FOREIGN_FUNCTION_ARGUMENTS = 8,
};

enum {
    PROXY_MAP_HTTP_REQUEST_HEADERS = 0,
    PROXY_MAP_HTTP_REQUEST_TRAILERS = 1,
    PROXY_MAP_HTTP_RESPONSE_HEADERS = 2,
    PROXY_MAP_HTTP_RESPONSE_TRAILERS = 3,
    PROXY_MAP_GRPC_CALL_INITIAL_METADATA = 4,
    PROXY_MAP_GRPC_CALL_TRAILING_METADATA = 5,
    PROXY_MAP_HTTP_CALL_RESPONSE_HEADERS = 6,
    PROXY_MAP_HTTP_CALL_RESPONSE_TRAILERS = 7,
};

enum {
    PROXY_STREAM_HTTP_REQUEST = 0,
    PROXY_STREAM_HTTP_RESPONSE = 1,
    PROXY_STREAM_DOWNSTREAM = 2,
    PROXY_STREAM_UPSTREAM = 3,
};

enum {
    PROXY_METRIC_COUNTER = 0,
    PROXY_METRIC_GAUGE = 1,
    PROXY_METRIC_HISTOGRAM = 2,
};

enum {
    PROXY_PEER_UNKNOWN = 0,
    PROXY_PEER_LOCAL = 1,
    PROXY_PEER_REMOTE = 2,
};

enum {
    WASI_ERRNO_SUCCESS = 0,
    WASI_ERRNO_BADF = 8,
    WASI_ERRNO_FAULT = 21,
    WASI_ERRNO_INVAL = 28,
    WASI_ERRNO_NOTSUP = 58,
};

enum {
    WASI_CLOCK_REALTIME = 0,
    WASI_CLOCK_MONOTONIC = 1,
};

/* ------------------------------------------------------------------------- */
/* Functions exposed by the host (imports from module "env").                 */

/* Context lifecycle. */
PROXY_WASM_IMPORT(proxy_done) proxy_status_t proxy_done(void);
PROXY_WASM_IMPORT(proxy_set_effective_context)
proxy_status_t proxy_set_effective_context(uint32_t context_id);

/* Logging. */
PROXY_WASM_IMPORT(proxy_log)
proxy_status_t proxy_log(proxy_log_level_t log_level, const char *message_data,
                         size_t message_size);
PROXY_WASM_IMPORT(proxy_get_log_level)
proxy_status_t proxy_get_log_level(proxy_log_level_t *return_log_level);

/* Clocks and timers. */
PROXY_WASM_IMPORT(proxy_get_current_time_nanoseconds)
proxy_status_t proxy_get_current_time_nanoseconds(uint64_t *return_time);
PROXY_WASM_IMPORT(proxy_set_tick_period_milliseconds)
proxy_status_t proxy_set_tick_period_milliseconds(uint32_t tick_period);

/* Buffers. */
PROXY_WASM_IMPORT(proxy_get_buffer_bytes)
proxy_status_t proxy_get_buffer_bytes(proxy_buffer_type_t buffer_id, size_t start, size_t max_size,
                                      uint8_t **return_value_data, size_t *return_value_size);
PROXY_WASM_IMPORT(proxy_get_buffer_status)
proxy_status_t proxy_get_buffer_status(proxy_buffer_type_t buffer_id, size_t *return_buffer_size,
                                       uint32_t *return_ignored);
PROXY_WASM_IMPORT(proxy_set_buffer_bytes)
proxy_status_t proxy_set_buffer_bytes(proxy_buffer_type_t buffer_id, size_t start, size_t size,
                                      const uint8_t *value_data, size_t value_size);

/* HTTP fields. */
PROXY_WASM_IMPORT(proxy_get_header_map_size)
proxy_status_t proxy_get_header_map_size(proxy_map_type_t map_id,
                                         size_t *return_serialized_pairs_size);
PROXY_WASM_IMPORT(proxy_get_header_map_pairs)
proxy_status_t proxy_get_header_map_pairs(proxy_map_type_t map_id,
                                          uint8_t **return_serialized_pairs_data,
                                          size_t *return_serialized_pairs_size);
PROXY_WASM_IMPORT(proxy_set_header_map_pairs)
proxy_status_t proxy_set_header_map_pairs(proxy_map_type_t map_id,
                                          const uint8_t *serialized_pairs_data,
                                          size_t serialized_pairs_size);
PROXY_WASM_IMPORT(proxy_get_header_map_value)
proxy_status_t proxy_get_header_map_value(proxy_map_type_t map_id, const char *key_data,
                                          size_t key_size, uint8_t **return_value_data,
                                          size_t *return_value_size);
PROXY_WASM_IMPORT(proxy_add_header_map_value)
proxy_status_t proxy_add_header_map_value(proxy_map_type_t map_id, const char *key_data,
                                          size_t key_size, const uint8_t *value_data,
                                          size_t value_size);
PROXY_WASM_IMPORT(proxy_replace_header_map_value)
proxy_status_t proxy_replace_header_map_value(proxy_map_type_t map_id, const char *key_data,
                                              size_t key_size, const uint8_t *value_data,
                                              size_t value_size);
PROXY_WASM_IMPORT(proxy_remove_header_map_value)
proxy_status_t proxy_remove_header_map_value(proxy_map_type_t map_id, const char *key_data,
                                             size_t key_size);

/* Streams. */
PROXY_WASM_IMPORT(proxy_continue_stream)
proxy_status_t proxy_continue_stream(proxy_stream_type_t stream_type);
PROXY_WASM_IMPORT(proxy_close_stream)
proxy_status_t proxy_close_stream(proxy_stream_type_t stream_type);
PROXY_WASM_IMPORT(proxy_get_status)
proxy_status_t proxy_get_status(uint32_t *return_status_code,
                                const char **return_status_message_data,
                                size_t *return_status_message_size);
PROXY_WASM_IMPORT(proxy_send_local_response)
proxy_status_t proxy_send_local_response(uint32_t status_code, const char *status_code_details_data,
                                         size_t status_code_details_size, const uint8_t *body_data,
                                         size_t body_size, const uint8_t *serialized_headers_data,
                                         size_t serialized_headers_size, uint32_t grpc_status);

/* HTTP calls. */
PROXY_WASM_IMPORT(proxy_http_call)
proxy_status_t proxy_http_call(const char *upstream_name_data, size_t upstream_name_size,
                               const uint8_t *serialized_headers_data,
                               size_t serialized_headers_size, const uint8_t *body_data,
                               size_t body_size, const uint8_t *serialized_trailers_data,
                               size_t serialized_trailers_size, uint32_t timeout,
                               uint32_t *return_call_id);

/* Shared key-value store. */
PROXY_WASM_IMPORT(proxy_get_shared_data)
proxy_status_t proxy_get_shared_data(const char *key_data, size_t key_size,
                                     uint8_t **return_value_data, size_t *return_value_size,
                                     uint32_t *return_cas);
PROXY_WASM_IMPORT(proxy_set_shared_data)
proxy_status_t proxy_set_shared_data(const char *key_data, size_t key_size,
                                     const uint8_t *value_data, size_t value_size, uint32_t cas);

/* Shared queues. */
PROXY_WASM_IMPORT(proxy_register_shared_queue)
proxy_status_t proxy_register_shared_queue(const char *name_data, size_t name_size,
                                           uint32_t *return_queue_id);
PROXY_WASM_IMPORT(proxy_resolve_shared_queue)
proxy_status_t proxy_resolve_shared_queue(const char *vm_id_data, size_t vm_id_size,
                                          const char *name_data, size_t name_size,
                                          uint32_t *return_queue_id);
PROXY_WASM_IMPORT(proxy_enqueue_shared_queue)
proxy_status_t proxy_enqueue_shared_queue(uint32_t queue_id, const uint8_t *value_data,
                                          size_t value_size);
PROXY_WASM_IMPORT(proxy_dequeue_shared_queue)
proxy_status_t proxy_dequeue_shared_queue(uint32_t queue_id, uint8_t **return_value_data,
                                          size_t *return_value_size);

/* Metrics. */
PROXY_WASM_IMPORT(proxy_define_metric)
proxy_status_t proxy_define_metric(proxy_metric_type_t metric_type, const char *name_data,
                                   size_t name_size, uint32_t *return_metric_id);
PROXY_WASM_IMPORT(proxy_record_metric)
proxy_status_t proxy_record_metric(uint32_t metric_id, uint64_t value);
PROXY_WASM_IMPORT(proxy_increment_metric)
proxy_status_t proxy_increment_metric(uint32_t metric_id, int64_t delta);
PROXY_WASM_IMPORT(proxy_get_metric)
proxy_status_t proxy_get_metric(uint32_t metric_id, uint64_t *return_value);

/* Properties. */
PROXY_WASM_IMPORT(proxy_get_property)
proxy_status_t proxy_get_property(const char *path_data, size_t path_size,
                                  uint8_t **return_value_data, size_t *return_value_size);
PROXY_WASM_IMPORT(proxy_set_property)
proxy_status_t proxy_set_property(const char *path_data, size_t path_size,
                                  const uint8_t *value_data, size_t value_size);

/* WASI functions the specification lists (module "wasi_snapshot_preview1"). */
PROXY_WASI_IMPORT(clock_time_get)
wasi_errno_t wasi_clock_time_get(wasi_clock_id_t clock_id, uint64_t precision,
                                 uint64_t *return_time);
PROXY_WASI_IMPORT(random_get) wasi_errno_t wasi_random_get(uint8_t *buffer, size_t buffer_size);

/* ------------------------------------------------------------------------- */
/* Callbacks the module exposes (exports). All are optional in the ABI; these  */
/* are the ones the data plane implements.                                     */

PROXY_WASM_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void);
PROXY_WASM_EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t memory_size);

PROXY_WASM_EXPORT(proxy_on_context_create)
void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id);
PROXY_WASM_EXPORT(proxy_on_done) uint32_t proxy_on_done(uint32_t context_id);
PROXY_WASM_EXPORT(proxy_on_log) void proxy_on_log(uint32_t context_id);
PROXY_WASM_EXPORT(proxy_on_delete) void proxy_on_delete(uint32_t context_id);

PROXY_WASM_EXPORT(proxy_on_vm_start)
uint32_t proxy_on_vm_start(uint32_t plugin_context_id, size_t vm_configuration_size);
PROXY_WASM_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t plugin_context_id, size_t plugin_configuration_size);
PROXY_WASM_EXPORT(proxy_on_tick) void proxy_on_tick(uint32_t plugin_context_id);
PROXY_WASM_EXPORT(proxy_on_queue_ready)
void proxy_on_queue_ready(uint32_t plugin_context_id, uint32_t queue_id);

PROXY_WASM_EXPORT(proxy_on_request_headers)
proxy_action_t proxy_on_request_headers(uint32_t stream_context_id, size_t num_headers,
                                        uint32_t end_of_stream);
PROXY_WASM_EXPORT(proxy_on_request_body)
proxy_action_t proxy_on_request_body(uint32_t stream_context_id, size_t body_size,
                                     uint32_t end_of_stream);
PROXY_WASM_EXPORT(proxy_on_response_headers)
proxy_action_t proxy_on_response_headers(uint32_t stream_context_id, size_t num_headers,
                                         uint32_t end_of_stream);
PROXY_WASM_EXPORT(proxy_on_response_body)
proxy_action_t proxy_on_response_body(uint32_t stream_context_id, size_t body_size,
                                      uint32_t end_of_stream);

PROXY_WASM_EXPORT(proxy_on_http_call_response)
void proxy_on_http_call_response(uint32_t plugin_context_id, uint32_t call_id, size_t num_headers,
                                 size_t body_size, size_t num_trailers);

#endif /* SLATE_PROXY_WASM_ABI_H */
