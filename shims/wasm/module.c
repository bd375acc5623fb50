/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The module's exports: context lifecycle, configuration, ticks, queues and
 * HTTP-call responses, routed to the filter or reporter role of the root
 * context they belong to. Also the small host helpers every part uses.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "module.h"
#include "slate/identity.h"

/* ------------------------------------------------------------------------- */
/* Root contexts of this VM.                                                  */

static sw_root_t *roots[SW_MAX_ROOTS];

static sw_root_t *root_find(uint32_t id)
{
    for (unsigned i = 0; i < SW_MAX_ROOTS; i++)
        if (roots[i] && roots[i]->id == id)
            return roots[i];
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Host helpers.                                                              */

uint64_t sw_now(void)
{
    uint64_t t = 0;
    proxy_get_current_time_nanoseconds(&t);
    return t;
}

uint64_t sw_random64(void)
{
    uint8_t b[8] = {0};
    if (wasi_random_get(b, sizeof b) != WASI_ERRNO_SUCCESS)
        return sw_now() ^ 0x9e3779b97f4a7c15ull;
    return slate_wire_get_le64(b);
}

void sb_init(sw_sb_t *b)
{
    b->n = 0;
}

void sb_mem(sw_sb_t *b, const char *s, size_t n)
{
    size_t room = sizeof b->buf - b->n;
    if (n > room)
        n = room;
    memcpy(b->buf + b->n, s, n);
    b->n += n;
}

void sb_str(sw_sb_t *b, const char *s)
{
    sb_mem(b, s, strlen(s));
}

void sb_u64(sw_sb_t *b, uint64_t v)
{
    char t[20];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        sb_mem(b, &t[--n], 1);
}

void sb_log(sw_sb_t *b, proxy_log_level_t level)
{
    proxy_log(level, b->buf, b->n);
}

void sw_log(proxy_log_level_t level, const char *a, const char *b, const char *c)
{
    sw_sb_t s;
    sb_init(&s);
    sb_str(&s, "slate: ");
    if (a)
        sb_str(&s, a);
    if (b)
        sb_str(&s, b);
    if (c)
        sb_str(&s, c);
    sb_log(&s, level);
}

size_t sw_pairs_parse(const uint8_t *buf, size_t len, sw_hdr_t *out, size_t cap)
{
    if (!buf || len < 4)
        return 0;
    size_t n = slate_wire_get_le32(buf);
    if (n > (len - 4) / 8)
        return 0;
    size_t at = 4 + 8 * n;
    for (size_t i = 0; i < n; i++) {
        size_t kn = slate_wire_get_le32(buf + 4 + 8 * i), vn = slate_wire_get_le32(buf + 8 + 8 * i);
        if (kn >= len - at || len - at - kn - 1 <= vn)
            return 0;
        if (i < cap) {
            out[i].k = (const char *)buf + at;
            out[i].kn = kn;
            out[i].v = (const char *)buf + at + kn + 1;
            out[i].vn = vn;
        }
        at += kn + 1 + vn + 1;
    }
    return n < cap ? n : cap;
}

size_t sw_pairs_size(const sw_hdr_t *h, size_t n)
{
    size_t s = 4 + 8 * n;
    for (size_t i = 0; i < n; i++)
        s += h[i].kn + h[i].vn + 2;
    return s;
}

void sw_pairs_write(const sw_hdr_t *h, size_t n, uint8_t *buf)
{
    slate_wire_put_le32(buf, (uint32_t)n);
    size_t at = 4 + 8 * n;
    for (size_t i = 0; i < n; i++) {
        slate_wire_put_le32(buf + 4 + 8 * i, (uint32_t)h[i].kn);
        slate_wire_put_le32(buf + 8 + 8 * i, (uint32_t)h[i].vn);
        memcpy(buf + at, h[i].k, h[i].kn);
        at += h[i].kn;
        buf[at++] = 0;
        memcpy(buf + at, h[i].v, h[i].vn);
        at += h[i].vn;
        buf[at++] = 0;
    }
}

const sw_hdr_t *sw_hdr_find(const sw_hdr_t *h, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (h[i].kn == len && memcmp(h[i].k, name, len) == 0)
            return &h[i];
    return NULL;
}

long sw_property(const char *path, size_t path_len, char *out, size_t cap)
{
    uint8_t *v = NULL;
    size_t n = 0;
    if (proxy_get_property(path, path_len, &v, &n) != PROXY_RESULT_OK) {
        free(v);
        return -1;
    }
    long r = -1;
    if (n < cap) {
        if (n)
            memcpy(out, v, n);
        out[n] = '\0';
        r = (long)n;
    }
    free(v);
    return r;
}

void sw_names_init(sw_names_t *n, const char *service)
{
    size_t s = strlen(service);
    static const char *const suffix[4] = {".rules", ".rules.version", ".reporter", ".batches"};
    char *dst[4] = {n->rules, n->version, n->lease, n->queue};
    for (int i = 0; i < 4; i++) {
        memcpy(dst[i], "slate.", 6);
        memcpy(dst[i] + 6, service, s);
        memcpy(dst[i] + 6 + s, suffix[i], strlen(suffix[i]) + 1);
    }
}

/* ------------------------------------------------------------------------- */
/* Exports.                                                                   */

void proxy_abi_version_0_2_1(void) {}

void *proxy_on_memory_allocate(size_t memory_size)
{
    return malloc(memory_size ? memory_size : 1);
}

void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id)
{
    if (parent_context_id == 0) {
        if (root_find(context_id))
            return;
        for (unsigned i = 0; i < SW_MAX_ROOTS; i++) {
            if (!roots[i]) {
                sw_root_t *r = calloc(1, sizeof *r);
                if (!r)
                    return;
                r->id = context_id;
                sw_config_defaults(&r->cfg);
                roots[i] = r;
                return;
            }
        }
        sw_log(PROXY_LOG_ERROR, "too many plugins in one VM; extra root context ignored", NULL,
               NULL);
        return;
    }
    sw_root_t *root = root_find(parent_context_id);
    if (root && root->configured)
        sw_role_stream_create(context_id, root);
}

uint32_t proxy_on_vm_start(uint32_t plugin_context_id, size_t vm_configuration_size)
{
    (void)plugin_context_id;
    (void)vm_configuration_size;
    return 1;
}

static void log_config_error(const sw_config_error_t *e)
{
    sw_sb_t s;
    sb_init(&s);
    sb_str(&s, "slate: bad plugin configuration: ");
    if (e->key[0]) {
        sb_str(&s, "key '");
        sb_str(&s, e->key);
        sb_str(&s, "': ");
    }
    sb_str(&s, e->reason);
    if (e->code == SW_CFG_RANGE && e->hi) {
        sb_str(&s, " [");
        sb_u64(&s, e->lo);
        sb_str(&s, ", ");
        sb_u64(&s, e->hi);
        sb_str(&s, "]");
    }
    sb_str(&s, " (");
    sb_str(&s, sw_config_err_name(e->code));
    sb_str(&s, " at byte ");
    sb_u64(&s, e->offset);
    sb_str(&s, ")");
    sb_log(&s, PROXY_LOG_ERROR);
}

/* ------------------------------------------------------------------------- */
/* Identity: the service, region and pod this proxy reports and routes as.    */

/* Reads a property into out[cap]; an absent or oversized one is "" (length 0). */
static size_t prop(const char *path, size_t path_len, char *out, size_t cap)
{
    long n = sw_property(path, path_len, out, cap);
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* Fills an empty cfg field from the first valid candidate; returns the
 * status of slate_identity_pick() and the first bad candidate's index. */
__attribute__((noinline)) static slate_status
pick(slate_name_kind kind, char *field, size_t cap, const char *const *paths,
     const size_t *path_lens, size_t n, char (*store)[SW_NAME_CAP], size_t *bad, const char **why)
{
    const char *vals[5];
    size_t lens[5];
    vals[0] = field;
    lens[0] = strlen(field);
    for (size_t i = 0; i < n; i++) {
        lens[i + 1] = prop(paths[i], path_lens[i], store[i], SW_NAME_CAP);
        vals[i + 1] = store[i];
    }
    size_t at = 0;
    slate_status st = slate_identity_pick(kind, vals, lens, n + 1, &at, why);
    if (st == SLATE_OK && at > 0)
        memcpy(field, vals[at], lens[at] + 1 <= cap ? lens[at] + 1 : cap);
    *bad = at;
    return st;
}

/* Explicit keys win; then, as Istio's injector and Envoy describe the proxy:
 * service = label app, label app.kubernetes.io/name, workload name;
 * region = the node's locality; pod = node metadata NAME, then the node id.
 * Returns 1 when service and region are known; else logs why, once per
 * proxy (a shared-data marker), and returns 0. */
static int identity_resolve(sw_config_t *c)
{
    static const char *const svc_paths[3] = {"node\0metadata\0LABELS\0app",
                                             "node\0metadata\0LABELS\0app.kubernetes.io/name",
                                             "node\0metadata\0WORKLOAD_NAME"};
    static const size_t svc_lens[3] = {sizeof("node\0metadata\0LABELS\0app") - 1,
                                       sizeof("node\0metadata\0LABELS\0app.kubernetes.io/name") - 1,
                                       sizeof("node\0metadata\0WORKLOAD_NAME") - 1};
    static const char *const reg_paths[1] = {"node\0locality\0region"};
    static const size_t reg_lens[1] = {sizeof("node\0locality\0region") - 1};
    static const char *const pod_paths[2] = {"node\0metadata\0NAME", "node\0id"};
    static const size_t pod_lens[2] = {sizeof("node\0metadata\0NAME") - 1, sizeof("node\0id") - 1};
    static const char *const svc_names[4] = {"key 'service'", "label 'app'",
                                             "label 'app.kubernetes.io/name'", "the workload name"};
    static const char *const reg_names[2] = {"key 'region'", "the node's locality region"};
    char store[3][SW_NAME_CAP];
    size_t bad = 0;
    const char *why = "";
    const char *missing = NULL, *what = NULL;
    slate_status st = pick(SLATE_NAME_SERVICE, c->service, sizeof c->service, svc_paths, svc_lens,
                           3, store, &bad, &why);
    if (st != SLATE_OK) {
        missing = "service";
        what = st == SLATE_ENAME ? svc_names[bad] : NULL;
    } else {
        st = pick(SLATE_NAME_REGION, c->region, sizeof c->region, reg_paths, reg_lens, 1, store,
                  &bad, &why);
        if (st != SLATE_OK) {
            missing = "region";
            what = st == SLATE_ENAME ? reg_names[bad] : NULL;
        }
    }
    if (!missing) {
        size_t pb = 0;
        const char *pw = "";
        if (pick(SLATE_NAME_POD, c->pod, sizeof c->pod, pod_paths, pod_lens, 2, store, &pb, &pw) !=
            SLATE_OK)
            c->pod[0] = '\0';
        return 1;
    }
    sw_sb_t s;
    sb_init(&s);
    sb_str(&s, "slate: no ");
    sb_str(&s, missing);
    sb_str(&s, " for this proxy: ");
    if (what) {
        sb_str(&s, what);
        sb_str(&s, " is invalid (");
        sb_str(&s, why);
        sb_str(&s, ")");
    } else if (missing[0] == 's') {
        sb_str(&s, "set 'service' or label the workload app");
    } else {
        sb_str(&s, "set 'region' or label the node topology.kubernetes.io/region");
    }
    sb_str(&s, "; slate stays off in this proxy");
    /* Log once per proxy, not once per worker VM: the shared-data marker
     * holds the last line logged, and a VM logs only a different line. This
     * runs in proxy_on_configure, so Envoy's throwaway canary VM runs it
     * too; that is harmless when repeated: the write is idempotent (same
     * key, same value), the canary's line is the one the proxy shows, and a
     * new configuration with another reason still logs its own line. */
    static const char marker[] = "slate.identity.missing";
    uint8_t *v = NULL;
    size_t vn = 0;
    uint32_t cas = 0;
    proxy_status_t got = proxy_get_shared_data(marker, sizeof marker - 1, &v, &vn, &cas);
    int same = got == PROXY_RESULT_OK && vn == s.n && (vn == 0 || memcmp(v, s.buf, vn) == 0);
    free(v);
    if (!same) {
        proxy_set_shared_data(marker, sizeof marker - 1, (const uint8_t *)s.buf, s.n, 0);
        sb_log(&s, PROXY_LOG_WARN);
    }
    return 0;
}

uint32_t proxy_on_configure(uint32_t plugin_context_id, size_t plugin_configuration_size)
{
    sw_root_t *r = root_find(plugin_context_id);
    if (!r) {
        proxy_on_context_create(plugin_context_id, 0);
        r = root_find(plugin_context_id);
        if (!r)
            return 0;
    }
    if (r->configured) {
        sw_log(PROXY_LOG_ERROR, "reconfiguring a running plugin is not supported; keeping the ",
               "previous configuration", NULL);
        return 0;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    if (plugin_configuration_size > 0 &&
        proxy_get_buffer_bytes(PROXY_BUFFER_PLUGIN_CONFIGURATION, 0, plugin_configuration_size,
                               &data, &size) != PROXY_RESULT_OK) {
        free(data);
        sw_log(PROXY_LOG_ERROR, "cannot read the plugin configuration", NULL, NULL);
        return 0;
    }
    sw_config_error_t err;
    sw_config_err e = sw_config_parse(&r->cfg, (const char *)data, size, SW_MODULE_ROLE, &err);
    free(data);
    if (e != SW_CFG_OK) {
        log_config_error(&err);
        return 0;
    }
    if (r->cfg.role != SW_MODULE_ROLE) {
        sw_log(PROXY_LOG_ERROR, "bad plugin configuration: key 'role': ",
               SW_MODULE_ROLE == SW_ROLE_REPORTER
                   ? "this is the reporter module (slate_reporter.wasm); load slate_filter.wasm "
                     "for role \"filter\""
                   : "this is the filter module (slate_filter.wasm); load slate_reporter.wasm for "
                     "role \"reporter\"",
               NULL);
        return 0;
    }
    if (!identity_resolve(&r->cfg))
        return 1; /* started, but off: not configured, so no streams, no ticks */
    if (!sw_role_configure(r))
        return 0;
    r->configured = 1;
    return 1;
}

void proxy_on_tick(uint32_t plugin_context_id)
{
    sw_root_t *r = root_find(plugin_context_id);
    if (r && r->configured)
        sw_role_tick(r);
}

void proxy_on_queue_ready(uint32_t plugin_context_id, uint32_t queue_id)
{
    sw_root_t *r = root_find(plugin_context_id);
    if (r && r->configured)
        sw_role_queue_ready(r, queue_id);
}

void proxy_on_http_call_response(uint32_t plugin_context_id, uint32_t call_id, size_t num_headers,
                                 size_t body_size, size_t num_trailers)
{
    (void)num_trailers;
    sw_root_t *r = root_find(plugin_context_id);
    if (r && r->configured)
        sw_role_http_response(r, call_id, num_headers, body_size);
}

proxy_action_t proxy_on_request_headers(uint32_t stream_context_id, size_t num_headers,
                                        uint32_t end_of_stream)
{
    (void)num_headers;
    (void)end_of_stream;
    return sw_stream_request_headers(stream_context_id);
}

proxy_action_t proxy_on_request_body(uint32_t stream_context_id, size_t body_size,
                                     uint32_t end_of_stream)
{
    (void)end_of_stream;
    return sw_stream_request_body(stream_context_id, body_size);
}

proxy_action_t proxy_on_response_headers(uint32_t stream_context_id, size_t num_headers,
                                         uint32_t end_of_stream)
{
    (void)num_headers;
    (void)end_of_stream;
    return sw_stream_response_headers(stream_context_id);
}

proxy_action_t proxy_on_response_body(uint32_t stream_context_id, size_t body_size,
                                      uint32_t end_of_stream)
{
    (void)stream_context_id;
    (void)body_size;
    (void)end_of_stream;
    return PROXY_ACTION_CONTINUE;
}

uint32_t proxy_on_done(uint32_t context_id)
{
    sw_stream_finish(context_id);
    return 1;
}

void proxy_on_log(uint32_t context_id)
{
    sw_stream_finish(context_id);
}

void proxy_on_delete(uint32_t context_id)
{
    sw_stream_delete(context_id);
}
