/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A native stand-in for the proxy-wasm host: the hostcalls the data plane's
 * modules import, implemented in plain C over one request's header maps, a
 * small shared-data store and a clock the driver sets. It lets the modules'
 * C run natively, under callgrind, so that the instructions of their request
 * path are counted deterministically. Values returned to the module are
 * allocated through host_module_malloc(), the module's allocator, as a real
 * host calls the module's exported malloc.
 */
#include <stdlib.h>
#include <string.h>

#include "native_host.h"

native_host_t host;

/* Noinline: the instruction count attributes it to the module (see
 * wasm_instructions.sh), as the host's call into the module's malloc is. */
__attribute__((noinline)) void *host_module_malloc(size_t n)
{
    return malloc(n ? n : 1);
}

static proxy_status_t out_bytes(const void *p, size_t n, uint8_t **data, size_t *size)
{
    uint8_t *b = host_module_malloc(n);
    if (!b)
        return PROXY_RESULT_INTERNAL_FAILURE;
    if (n)
        memcpy(b, p, n);
    *data = b;
    *size = n;
    return PROXY_RESULT_OK;
}

static nh_map_t *map_of(proxy_map_type_t t)
{
    if (t == PROXY_MAP_HTTP_REQUEST_HEADERS)
        return host.request;
    if (t == PROXY_MAP_HTTP_RESPONSE_HEADERS)
        return host.response;
    return NULL;
}

static long map_find(const nh_map_t *m, const char *k, size_t kn)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->h[i].kn == kn && memcmp(m->h[i].k, k, kn) == 0)
            return (long)i;
    return -1;
}

proxy_status_t proxy_log(proxy_log_level_t log_level, const char *message_data, size_t message_size)
{
    (void)log_level;
    (void)message_data;
    (void)message_size;
    host.logs++;
    return PROXY_RESULT_OK;
}

proxy_status_t proxy_get_current_time_nanoseconds(uint64_t *return_time)
{
    *return_time = host.now_ns;
    return PROXY_RESULT_OK;
}

proxy_status_t proxy_set_tick_period_milliseconds(uint32_t tick_period)
{
    host.tick_ms = tick_period;
    return PROXY_RESULT_OK;
}

proxy_status_t proxy_get_buffer_bytes(proxy_buffer_type_t buffer_id, size_t start, size_t max_size,
                                      uint8_t **return_value_data, size_t *return_value_size)
{
    if (buffer_id != PROXY_BUFFER_PLUGIN_CONFIGURATION)
        return PROXY_RESULT_NOT_FOUND;
    size_t len = strlen(host.configuration);
    if (start > len)
        return PROXY_RESULT_BAD_ARGUMENT;
    if (max_size > len - start)
        max_size = len - start;
    return out_bytes(host.configuration + start, max_size, return_value_data, return_value_size);
}

proxy_status_t proxy_get_property(const char *path_data, size_t path_size,
                                  uint8_t **return_value_data, size_t *return_value_size)
{
    (void)path_data;
    (void)path_size;
    (void)return_value_data;
    (void)return_value_size;
    return PROXY_RESULT_NOT_FOUND;
}

proxy_status_t proxy_get_header_map_value(proxy_map_type_t map_id, const char *key_data,
                                          size_t key_size, uint8_t **return_value_data,
                                          size_t *return_value_size)
{
    nh_map_t *m = map_of(map_id);
    if (!m)
        return PROXY_RESULT_BAD_ARGUMENT;
    long i = map_find(m, key_data, key_size);
    if (i < 0)
        return PROXY_RESULT_NOT_FOUND;
    return out_bytes(m->h[i].v, m->h[i].vn, return_value_data, return_value_size);
}

proxy_status_t proxy_replace_header_map_value(proxy_map_type_t map_id, const char *key_data,
                                              size_t key_size, const uint8_t *value_data,
                                              size_t value_size)
{
    nh_map_t *m = map_of(map_id);
    if (!m || key_size > NH_MAX_TEXT || value_size > NH_MAX_TEXT)
        return PROXY_RESULT_BAD_ARGUMENT;
    long i = map_find(m, key_data, key_size);
    if (i < 0) {
        if (m->n >= NH_MAX_HEADERS)
            return PROXY_RESULT_BAD_ARGUMENT;
        i = (long)m->n++;
        memcpy(m->h[i].kbuf, key_data, key_size);
        m->h[i].k = m->h[i].kbuf;
        m->h[i].kn = key_size;
    }
    memcpy(m->h[i].vbuf, value_data, value_size);
    m->h[i].v = m->h[i].vbuf;
    m->h[i].vn = value_size;
    host.replaced++;
    return PROXY_RESULT_OK;
}

proxy_status_t proxy_get_shared_data(const char *key_data, size_t key_size,
                                     uint8_t **return_value_data, size_t *return_value_size,
                                     uint32_t *return_cas)
{
    for (size_t i = 0; i < host.n_shared; i++) {
        nh_shared_t *e = &host.shared[i];
        if (strlen(e->key) == key_size && memcmp(e->key, key_data, key_size) == 0) {
            *return_cas = e->cas;
            return out_bytes(e->value, e->len, return_value_data, return_value_size);
        }
    }
    return PROXY_RESULT_NOT_FOUND;
}

/* As Envoy's host: cas 0 always writes, another cas must be the key's current
 * one (else CAS_MISMATCH), and every write gives the key a new cas. Values
 * are small here (the identity log marker); longer ones are refused. */
proxy_status_t proxy_set_shared_data(const char *key_data, size_t key_size,
                                     const uint8_t *value_data, size_t value_size, uint32_t cas)
{
    nh_shared_t *e = NULL;
    for (size_t i = 0; i < host.n_shared && !e; i++)
        if (strlen(host.shared[i].key) == key_size &&
            memcmp(host.shared[i].key, key_data, key_size) == 0)
            e = &host.shared[i];
    if (e && cas != 0 && cas != e->cas)
        return PROXY_RESULT_CAS_MISMATCH;
    if (!e) {
        if (host.n_shared == NH_MAX_SHARED || key_size >= sizeof e->key)
            return PROXY_RESULT_INTERNAL_FAILURE;
        e = &host.shared[host.n_shared++];
        memset(e, 0, sizeof *e);
        memcpy(e->key, key_data, key_size);
    }
    if (value_size > sizeof e->own)
        return PROXY_RESULT_BAD_ARGUMENT;
    if (value_size)
        memcpy(e->own, value_data, value_size);
    e->value = e->own;
    e->len = value_size;
    e->cas++;
    return PROXY_RESULT_OK;
}

proxy_status_t proxy_resolve_shared_queue(const char *vm_id_data, size_t vm_id_size,
                                          const char *name_data, size_t name_size,
                                          uint32_t *return_queue_id)
{
    (void)vm_id_data;
    (void)vm_id_size;
    (void)name_data;
    (void)name_size;
    *return_queue_id = 1;
    return PROXY_RESULT_OK;
}

proxy_status_t proxy_enqueue_shared_queue(uint32_t queue_id, const uint8_t *value_data,
                                          size_t value_size)
{
    (void)queue_id;
    (void)value_data;
    host.enqueued_bytes += value_size;
    return PROXY_RESULT_OK;
}

wasi_errno_t wasi_random_get(uint8_t *buffer, size_t buffer_size)
{
    for (size_t i = 0; i < buffer_size; i++) {
        host.rand_state ^= host.rand_state << 13;
        host.rand_state ^= host.rand_state >> 7;
        host.rand_state ^= host.rand_state << 17;
        buffer[i] = (uint8_t)host.rand_state;
    }
    return WASI_ERRNO_SUCCESS;
}

/* Stats, as Envoy's host keeps them: a name defines a stat once (defining it
 * again gives the same id), counters only grow, gauges are set, histograms
 * take samples (not kept here). */
proxy_status_t proxy_define_metric(proxy_metric_type_t metric_type, const char *name_data,
                                   size_t name_size, uint32_t *return_metric_id)
{
    if (metric_type > 2 || name_size >= NH_MAX_TEXT)
        return PROXY_RESULT_BAD_ARGUMENT;
    for (uint32_t i = 0; i < host.n_metrics; i++) {
        if (strlen(host.metrics[i].name) == name_size &&
            memcmp(host.metrics[i].name, name_data, name_size) == 0) {
            *return_metric_id = i + 1;
            return PROXY_RESULT_OK;
        }
    }
    if (host.n_metrics == NH_MAX_METRICS)
        return PROXY_RESULT_INTERNAL_FAILURE;
    nh_metric_t *m = &host.metrics[host.n_metrics++];
    memset(m, 0, sizeof *m);
    memcpy(m->name, name_data, name_size);
    m->type = metric_type;
    *return_metric_id = host.n_metrics;
    return PROXY_RESULT_OK;
}

static nh_metric_t *metric_of(uint32_t id)
{
    return id >= 1 && id <= host.n_metrics ? &host.metrics[id - 1] : NULL;
}

proxy_status_t proxy_record_metric(uint32_t metric_id, uint64_t value)
{
    nh_metric_t *m = metric_of(metric_id);
    if (!m)
        return PROXY_RESULT_NOT_FOUND;
    if (m->type != 2)
        m->value = value;
    return PROXY_RESULT_OK;
}

proxy_status_t proxy_increment_metric(uint32_t metric_id, int64_t delta)
{
    nh_metric_t *m = metric_of(metric_id);
    if (!m)
        return PROXY_RESULT_NOT_FOUND;
    if (m->type == 2 || (m->type == 0 && delta < 0))
        return PROXY_RESULT_BAD_ARGUMENT;
    m->value += (uint64_t)delta;
    return PROXY_RESULT_OK;
}
