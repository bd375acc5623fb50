/* libslate - a probe plugin that exercises the test host's hostcalls.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Root behaviour comes from the plugin configuration, a space-separated list
 * of words `key` or `key=value`:
 *   tick=MS            set the tick period in on_configure
 *   fail               on_configure returns false
 *   queue=NAME         register shared queue NAME; on_queue_ready drains it
 *   tick_http=CLUSTER  on every tick, POST /tick to CLUSTER (timeout=MS, default 1000)
 *   tick_incr=KEY      on every tick, compare-and-swap increment KEY
 *   tick_enqueue=NAME  on every tick, enqueue "tick N" on queue NAME
 *   tick_trap          trap in on_tick
 *   vm_start_fail      on_vm_start returns false
 * Stream behaviour comes from the request header x-op (see on_request_headers).
 * Every observable action is logged as one line the tests match. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi.h"

/* Exported entry points (declared first: -Wmissing-prototypes). */
EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void);
EXPORT(malloc) void *probe_malloc(size_t n);
EXPORT(proxy_on_context_create) void on_context_create(uint32_t id, uint32_t parent);
EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t id, size_t size);
EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t id, size_t size);
EXPORT(proxy_on_tick) void on_tick(uint32_t id);
EXPORT(proxy_on_queue_ready) void on_queue_ready(uint32_t id, uint32_t token);
EXPORT(proxy_on_http_call_response)
void on_http_call_response(uint32_t id, uint32_t token, size_t nh, size_t body_size, size_t nt);
EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t id, size_t nh, uint32_t eos);
EXPORT(proxy_on_request_body) uint32_t on_request_body(uint32_t id, size_t size, uint32_t eos);
EXPORT(proxy_on_response_headers)
uint32_t on_response_headers(uint32_t id, size_t nh, uint32_t eos);
EXPORT(proxy_on_response_trailers) uint32_t on_response_trailers(uint32_t id, size_t n);
EXPORT(proxy_on_log) void on_log(uint32_t id);
EXPORT(proxy_on_done) uint32_t on_done(uint32_t id);
EXPORT(proxy_on_delete) void on_delete(uint32_t id);

void proxy_abi_version_0_2_1(void) {}
void *probe_malloc(size_t n)
{
    return malloc(n);
}

static void logf_(uint32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(uint32_t level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    proxy_log(level, buf, (size_t)n);
}
#define LOG(...) logf_(LOG_INFO, __VA_ARGS__)

/* ---- configuration ---------------------------------------------------- */

#define MAX_ROOTS 8
struct root {
    uint32_t id;
    char config[512];
    char root_id[64];
    uint32_t queue_token;
    uint32_t ticks;
};
static struct root roots[MAX_ROOTS];

static struct root *root_of(uint32_t id)
{
    for (int i = 0; i < MAX_ROOTS; i++)
        if (roots[i].id == id)
            return &roots[i];
    for (int i = 0; i < MAX_ROOTS; i++)
        if (roots[i].id == 0) {
            roots[i].id = id;
            return &roots[i];
        }
    return &roots[0];
}

/* Copies the value of `key=` (or "1" for a bare `key`) into out; 0 if absent. */
static int config_get(const char *cfg, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = cfg;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t wl = (size_t)(p - w);
        if (wl >= kl && strncmp(w, key, kl) == 0 && (wl == kl || w[kl] == '=')) {
            const char *v = wl == kl ? "1" : w + kl + 1;
            size_t vl = wl == kl ? 1 : wl - kl - 1;
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = 0;
            return 1;
        }
    }
    return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

void on_context_create(uint32_t id, uint32_t parent)
{
    LOG("context_create %u %u", id, parent);
}

uint32_t on_vm_start(uint32_t id, size_t size)
{
    const char *p = NULL;
    size_t n = 0;
    uint32_t st = proxy_get_buffer_bytes(BUF_VM_CONFIGURATION, 0, size, &p, &n);
    LOG("vm_start %u size=%zu st=%u cfg=%.*s", id, size, st, (int)n, p ? p : "");
    int fail = p && n >= 13 && memcmp(p, "vm_start_fail", 13) == 0;
    free((void *)p);
    return fail ? 0 : 1;
}

uint32_t on_configure(uint32_t id, size_t size)
{
    struct root *r = root_of(id);
    const char *p = NULL;
    size_t n = 0;
    uint32_t st = proxy_get_buffer_bytes(BUF_PLUGIN_CONFIGURATION, 0, size, &p, &n);
    if (n >= sizeof r->config)
        n = sizeof r->config - 1;
    if (p)
        memcpy(r->config, p, n);
    r->config[n] = 0;
    free((void *)p);
    const char *rid = NULL;
    size_t rn = 0;
    proxy_get_property("plugin_root_id", 14, &rid, &rn);
    if (rn >= sizeof r->root_id)
        rn = sizeof r->root_id - 1;
    if (rid)
        memcpy(r->root_id, rid, rn);
    r->root_id[rn] = 0;
    free((void *)rid);
    LOG("configure %u root=%s st=%u cfg=%s", id, r->root_id, st, r->config);
    char v[128];
    if (config_get(r->config, "fail", v, sizeof v)) {
        logf_(LOG_ERROR, "bad configuration: key 'fail'");
        return 0;
    }
    if (config_get(r->config, "tick", v, sizeof v)) {
        proxy_set_tick_period_milliseconds((uint32_t)atoi(v));
    }
    if (config_get(r->config, "queue", v, sizeof v)) {
        uint32_t qst = proxy_register_shared_queue(v, strlen(v), &r->queue_token);
        LOG("registered %s token=%u st=%u", v, r->queue_token, qst);
    }
    return 1;
}

/* ---- shared data ------------------------------------------------------ */

/* Increments the decimal counter at key with compare-and-swap; returns retries. */
static int cas_increment(const char *key, long *out)
{
    for (int retries = 0; retries < 1000; retries++) {
        const char *p = NULL;
        size_t n = 0;
        uint32_t cas = 0;
        long v = 0;
        uint32_t st = proxy_get_shared_data(key, strlen(key), &p, &n, &cas);
        if (st == ST_OK) {
            char tmp[32];
            if (n >= sizeof tmp)
                n = sizeof tmp - 1;
            memcpy(tmp, p, n);
            tmp[n] = 0;
            v = atol(tmp);
        } else if (st != ST_NOT_FOUND) {
            logf_(LOG_ERROR, "get_shared_data st=%u", st);
            return -1;
        }
        free((void *)p);
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%ld", v + 1);
        st = proxy_set_shared_data(key, strlen(key), buf, (size_t)len, cas);
        if (st == ST_OK) {
            *out = v + 1;
            return retries;
        }
        if (st != ST_CAS_MISMATCH) {
            logf_(LOG_ERROR, "set_shared_data st=%u", st);
            return -1;
        }
    }
    return -1;
}

/* ---- ticks, queues, http calls ---------------------------------------- */

static uint32_t http_post(const char *cluster, const char *path, const char *body, uint32_t timeout,
                          uint32_t *token);

void on_tick(uint32_t id)
{
    struct root *r = root_of(id);
    r->ticks++;
    uint64_t now = 0;
    proxy_get_current_time_nanoseconds(&now);
    LOG("tick %u root=%s n=%u now=%llu", id, r->root_id, r->ticks, (unsigned long long)now);
    char v[128];
    if (config_get(r->config, "tick_trap", v, sizeof v))
        __builtin_trap();
    if (config_get(r->config, "tick_incr", v, sizeof v)) {
        long value = 0;
        int retries = cas_increment(v, &value);
        LOG("tick_incr %s value=%ld retries=%d", v, value, retries);
    }
    if (config_get(r->config, "tick_enqueue", v, sizeof v)) {
        uint32_t token = 0;
        uint32_t st = proxy_resolve_shared_queue("", 0, v, strlen(v), &token);
        char item[64];
        int n = snprintf(item, sizeof item, "tick %u", r->ticks);
        if (st == ST_OK)
            st = proxy_enqueue_shared_queue(token, item, (size_t)n);
        LOG("tick_enqueue %s st=%u", v, st);
    }
    if (config_get(r->config, "tick_http", v, sizeof v)) {
        char t[32];
        uint32_t timeout = config_get(r->config, "timeout", t, sizeof t) ? (uint32_t)atoi(t) : 1000;
        char body[64];
        snprintf(body, sizeof body, "tick %u", r->ticks);
        uint32_t token = 0;
        char path[64] = "/tick";
        config_get(r->config, "path", path, sizeof path);
        uint32_t st = http_post(v, path, body, timeout, &token);
        LOG("http_call st=%u token=%u", st, token);
    }
}

void on_queue_ready(uint32_t id, uint32_t token)
{
    struct root *r = root_of(id);
    LOG("queue_ready %u root=%s token=%u", id, r->root_id, token);
    for (;;) {
        const char *p = NULL;
        size_t n = 0;
        uint32_t st = proxy_dequeue_shared_queue(token, &p, &n);
        if (st == ST_EMPTY) {
            LOG("queue_empty %u", token);
            break;
        }
        if (st != ST_OK) {
            LOG("dequeue st=%u", st);
            break;
        }
        LOG("dequeued %u %.*s", token, (int)n, p);
        free((void *)p);
    }
}

/* Serialises pairs (spec "Serialization") into buf; returns the size. */
static size_t encode_pairs(char *buf, size_t cap, const char *const *kv, uint32_t n)
{
    size_t need = 4 + 8 * (size_t)n;
    for (uint32_t i = 0; i < 2 * n; i++)
        need += strlen(kv[i]) + 1;
    if (need > cap)
        return 0;
    memcpy(buf, &n, 4);
    size_t off = 4;
    for (uint32_t i = 0; i < 2 * n; i++) {
        uint32_t l = (uint32_t)strlen(kv[i]);
        memcpy(buf + off, &l, 4);
        off += 4;
    }
    for (uint32_t i = 0; i < 2 * n; i++) {
        size_t l = strlen(kv[i]);
        memcpy(buf + off, kv[i], l + 1);
        off += l + 1;
    }
    return off;
}

static uint32_t http_post(const char *cluster, const char *path, const char *body, uint32_t timeout,
                          uint32_t *token)
{
    const char *kv[] = {":method",    "POST",       ":path",   path,
                        ":authority", "controller", "x-probe", "1"};
    char hdrs[256];
    size_t hl = encode_pairs(hdrs, sizeof hdrs, kv, 4);
    const char *tkv[] = {"x-trailer", "t1"};
    char trl[64];
    size_t tl = strstr(path, "trailers") ? encode_pairs(trl, sizeof trl, tkv, 1) : 0;
    return proxy_http_call(cluster, strlen(cluster), hdrs, hl, body, strlen(body), trl, tl, timeout,
                           token);
}

static uint32_t paused_token, paused_stream;

void on_http_call_response(uint32_t id, uint32_t token, size_t nh, size_t body_size, size_t nt)
{
    const char *st = NULL, *body = NULL, *trl = NULL, *msg = NULL;
    size_t stn = 0, bn = 0, tn = 0, mn = 0;
    uint32_t code = 99;
    uint32_t s1 =
        proxy_get_header_map_value(MAP_HTTP_CALL_RESPONSE_HEADERS, ":status", 7, &st, &stn);
    uint32_t s2 = proxy_get_buffer_bytes(BUF_HTTP_CALL_RESPONSE_BODY, 0, body_size, &body, &bn);
    proxy_get_header_map_value(MAP_HTTP_CALL_RESPONSE_TRAILERS, "x-trailer", 9, &trl, &tn);
    proxy_get_status(&code, &msg, &mn);
    LOG("http_response %u token=%u headers=%zu body=%zu trailers=%zu status=%.*s st=%u/%u "
        "code=%u msg=%.*s trailer=%.*s text=%.*s",
        id, token, nh, body_size, nt, (int)stn, st ? st : "", s1, s2, code, (int)mn, msg ? msg : "",
        (int)tn, trl ? trl : "", (int)(bn > 80 ? 80 : bn), body ? body : "");
    free((void *)st);
    free((void *)body);
    free((void *)trl);
    free((void *)msg);
    if (paused_stream && token == paused_token) {
        /* Resume the stream that waited for this call, as Envoy filters do. */
        uint32_t e = proxy_set_effective_context(paused_stream);
        uint32_t bad = proxy_set_effective_context(999999);
        proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-call-done", 11, "1", 1);
        uint32_t c = proxy_continue_stream(0);
        LOG("resumed %u effective=%u unknown=%u continue=%u", paused_stream, e, bad, c);
        paused_stream = 0;
    }
}

/* ---- streams ---------------------------------------------------------- */

#define MAX_STREAMS 1024
struct stream {
    uint32_t id;
    char op[128];
};
static struct stream streams[MAX_STREAMS];

static struct stream *stream_of(uint32_t id, int create)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i].id == id)
            return &streams[i];
    if (!create)
        return NULL;
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i].id == 0) {
            streams[i].id = id;
            streams[i].op[0] = 0;
            return &streams[i];
        }
    return NULL;
}

static void add_header(uint32_t map, const char *k, const char *v)
{
    proxy_add_header_map_value(map, k, strlen(k), v, strlen(v));
}

/* Reads pairs from the map, appends one pair and writes them back. */
static void pairs_roundtrip(uint32_t map)
{
    const char *p = NULL;
    size_t n = 0;
    proxy_get_header_map_pairs(map, &p, &n);
    uint32_t count = 0;
    if (n >= 4)
        memcpy(&count, p, 4);
    const char *kv[2 * 32 + 2];
    char *copy = malloc(n + 1);
    if (n)
        memcpy(copy, p, n);
    size_t off = 4 + 8 * (size_t)count;
    for (uint32_t i = 0; i < count && i < 32; i++) {
        uint32_t kl, vl;
        memcpy(&kl, copy + 4 + 8 * i, 4);
        memcpy(&vl, copy + 8 + 8 * i, 4);
        kv[2 * i] = copy + off;
        off += kl + 1;
        kv[2 * i + 1] = copy + off;
        off += vl + 1;
    }
    kv[2 * count] = "x-pairs";
    kv[2 * count + 1] = "roundtrip";
    char out[4096];
    size_t ol = encode_pairs(out, sizeof out, kv, count + 1);
    uint32_t st = proxy_set_header_map_pairs(map, out, ol);
    LOG("pairs_roundtrip count=%u size=%zu st=%u", count, n, st);
    free(copy);
    free((void *)p);
}

uint32_t on_request_headers(uint32_t id, size_t nh, uint32_t eos)
{
    struct stream *s = stream_of(id, 1);
    const char *p = NULL;
    size_t n = 0;
    const char *path = NULL;
    size_t pn = 0;
    proxy_get_header_map_value(MAP_REQUEST_HEADERS, ":path", 5, &path, &pn);
    LOG("request_headers %u n=%zu eos=%u path=%.*s", id, nh, eos, (int)pn, path ? path : "");
    free((void *)path);
    if (proxy_get_header_map_value(MAP_REQUEST_HEADERS, "x-op", 4, &p, &n) != ST_OK)
        return 0;
    if (!s)
        logf_(LOG_ERROR, "probe: too many concurrent streams");
    if (s) {
        size_t l = n < sizeof s->op - 1 ? n : sizeof s->op - 1;
        memcpy(s->op, p, l);
        s->op[l] = 0;
    }
    free((void *)p);
    const char *op = s ? s->op : "";
    if (strncmp(op, "incr:", 5) == 0) {
        long value = 0;
        int retries = cas_increment(op + 5, &value);
        char buf[32];
        snprintf(buf, sizeof buf, "%d", retries);
        add_header(MAP_REQUEST_HEADERS, "x-retries", buf);
        LOG("incr %s value=%ld retries=%d", op + 5, value, retries);
    } else if (strncmp(op, "enqueue:", 8) == 0) {
        uint32_t token = 0;
        uint32_t st = proxy_resolve_shared_queue("", 0, op + 8, strlen(op + 8), &token);
        char item[64];
        int l = snprintf(item, sizeof item, "stream %u", id);
        if (st == ST_OK)
            st = proxy_enqueue_shared_queue(token, item, (size_t)l);
        LOG("enqueue %s st=%u token=%u", op + 8, st, token);
    } else if (strncmp(op, "get:", 4) == 0) {
        const char *v = NULL;
        size_t vl = 0;
        uint32_t cas = 0;
        uint32_t st = proxy_get_shared_data(op + 4, strlen(op + 4), &v, &vl, &cas);
        LOG("get %s st=%u cas=%u value=%.*s", op + 4, st, cas, (int)vl, v ? v : "");
        free((void *)v);
    } else if (strncmp(op, "set:", 4) == 0) {
        /* set:KEY:CAS:VALUE */
        char key[64];
        const char *a = op + 4, *b = strchr(a, ':');
        const char *c = b ? strchr(b + 1, ':') : NULL;
        if (b && c && (size_t)(b - a) < sizeof key) {
            memcpy(key, a, (size_t)(b - a));
            key[b - a] = 0;
            uint32_t cas = (uint32_t)strtoul(b + 1, NULL, 10);
            uint32_t st = proxy_set_shared_data(key, strlen(key), c + 1, strlen(c + 1), cas);
            LOG("set %s st=%u", key, st);
        }
    } else if (strncmp(op, "register:", 9) == 0) {
        uint32_t token = 0;
        uint32_t st = proxy_register_shared_queue(op + 9, strlen(op + 9), &token);
        LOG("register %s st=%u token=%u", op + 9, st, token);
    } else if (strncmp(op, "dequeue:", 8) == 0) {
        uint32_t token = 0;
        uint32_t st = proxy_resolve_shared_queue("", 0, op + 8, strlen(op + 8), &token);
        const char *v = NULL;
        size_t vl = 0;
        uint32_t st2 = st == ST_OK ? proxy_dequeue_shared_queue(token, &v, &vl) : st;
        uint32_t st3 = proxy_dequeue_shared_queue(12345, &v, &vl);
        LOG("dequeue %s resolve=%u dequeue=%u unknown=%u value=%.*s", op + 8, st, st2, st3, (int)vl,
            v ? v : "");
        free((void *)v);
    } else if (strcmp(op, "tick") == 0) {
        uint32_t st = proxy_set_tick_period_milliseconds(50);
        LOG("stream_tick st=%u", st);
    } else if (strcmp(op, "edge") == 0) {
        /* Hostcall edge cases; each status is logged for the test to check. */
        const char *p1 = (const char *)1, *p2 = (const char *)1;
        size_t n1 = 7, n2 = 7;
        uint32_t empty = proxy_get_buffer_bytes(BUF_VM_CONFIGURATION, 0, 0, &p1, &n1);
        uint32_t past = proxy_get_buffer_bytes(BUF_VM_CONFIGURATION, 1000, 1, &p2, &n2);
        uint32_t plugin_cfg = proxy_get_buffer_bytes(BUF_PLUGIN_CONFIGURATION, 0, 10, &p2, &n2);
        uint32_t bad_buf = proxy_get_buffer_bytes(9, 0, 10, &p2, &n2);
        uint32_t bad_map = proxy_get_header_map_value(8, "a", 1, &p2, &n2);
        uint32_t set_unavail = proxy_set_header_map_pairs(MAP_RESPONSE_TRAILERS, "", 0);
        const char *pairs_p = (const char *)1;
        size_t pairs_n = 7;
        uint32_t pairs_unavail =
            proxy_get_header_map_pairs(MAP_RESPONSE_TRAILERS, &pairs_p, &pairs_n);
        uint32_t call_map =
            proxy_get_header_map_value(MAP_HTTP_CALL_RESPONSE_HEADERS, ":status", 7, &p2, &n2);
        uint32_t cfg_st = 0;
        size_t cfg_size = 0;
        uint32_t flags = 9;
        cfg_st = proxy_get_buffer_status(BUF_VM_CONFIGURATION, &cfg_size, &flags);
        uint32_t lvl = 99;
        uint32_t lvl_st = proxy_get_log_level(&lvl);
        uint32_t cont = proxy_continue_stream(7);
        LOG("edge empty=%u untouched=%d past=%u plugin_cfg=%u bad_buf=%u bad_map=%u "
            "set_unavail=%u pairs_unavail=%u pairs=(%d,%zu) call_map=%u status=%u size=%zu "
            "flags=%u level=%u/%u cont=%u",
            empty, p1 == (const char *)1 && n1 == 7, past, plugin_cfg, bad_buf, bad_map,
            set_unavail, pairs_unavail, pairs_p == NULL, pairs_n, call_map, cfg_st, cfg_size, flags,
            lvl_st, lvl, cont);
    } else if (strcmp(op, "trap") == 0) {
        __builtin_trap();
    } else if (strcmp(op, "local") == 0) {
        const char *kv[] = {"x-local", "1"};
        char h[64];
        size_t hl = encode_pairs(h, sizeof h, kv, 1);
        uint32_t st = proxy_send_local_response(403, "denied_by_probe", 15, "denied", 6, h, hl, -1);
        LOG("local_response st=%u", st);
        return ACTION_CONTINUE;
    } else if (strcmp(op, "headers") == 0) {
        const char *g = NULL;
        size_t gl = 0;
        uint32_t st = proxy_get_header_map_value(MAP_REQUEST_HEADERS, "x-get", 5, &g, &gl);
        char val[128];
        snprintf(val, sizeof val, "%.*s", (int)gl, g ? g : "");
        free((void *)g);
        add_header(MAP_REQUEST_HEADERS, "x-got", val);
        add_header(MAP_REQUEST_HEADERS, "x-added", "1");
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, "x-replace", 9, "new", 3);
        proxy_remove_header_map_value(MAP_REQUEST_HEADERS, "x-remove", 8);
        const char *miss = NULL;
        size_t ml = 0;
        uint32_t st_missing =
            proxy_get_header_map_value(MAP_REQUEST_HEADERS, "x-missing", 9, &miss, &ml);
        uint32_t st_resp =
            proxy_get_header_map_value(MAP_RESPONSE_HEADERS, ":status", 7, &miss, &ml);
        size_t size = 0;
        proxy_get_header_map_size(MAP_REQUEST_HEADERS, &size);
        LOG("headers get=%u missing=%u resp=%u size=%zu", st, st_missing, st_resp, size);
        pairs_roundtrip(MAP_REQUEST_HEADERS);
    } else if (strncmp(op, "prop:", 5) == 0) {
        /* prop:a/b/c → path "a\0b\0c" */
        char ppath[128];
        size_t pl = strlen(op + 5);
        if (pl >= sizeof ppath)
            pl = sizeof ppath - 1;
        memcpy(ppath, op + 5, pl);
        for (size_t i = 0; i < pl; i++)
            if (ppath[i] == '/')
                ppath[i] = 0;
        const char *v = NULL;
        size_t vl = 0;
        uint32_t st = proxy_get_property(ppath, pl, &v, &vl);
        char hex[2 * 16 + 1] = "";
        for (size_t i = 0; i < vl && i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", (unsigned char)v[i]);
        LOG("prop %s st=%u len=%zu hex=%s text=%.*s", op + 5, st, vl, hex, (int)vl, v ? v : "");
        free((void *)v);
    } else if (strcmp(op, "setprop") == 0) {
        uint32_t st = proxy_set_property("probe.mark", 10, "marked", 6);
        const char *v = NULL;
        size_t vl = 0;
        uint32_t st2 = proxy_get_property("probe.mark", 10, &v, &vl);
        LOG("setprop st=%u get=%u value=%.*s", st, st2, (int)vl, v ? v : "");
        free((void *)v);
    } else if (strcmp(op, "time") == 0) {
        uint64_t t = 0;
        proxy_get_current_time_nanoseconds(&t);
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)t);
        add_header(MAP_REQUEST_HEADERS, "x-time", buf);
    } else if (strncmp(op, "http:", 5) == 0) {
        uint32_t token = 0;
        uint32_t st = http_post(op + 5, "/from-stream", "hello", 1000, &token);
        LOG("stream_http_call st=%u token=%u", st, token);
    } else if (strncmp(op, "callpause:", 10) == 0) {
        uint32_t token = 0;
        uint32_t st = http_post(op + 10, "/pause", "p", 1000, &token);
        LOG("callpause st=%u token=%u", st, token);
        if (st == ST_OK) {
            paused_token = token;
            paused_stream = id;
            return ACTION_PAUSE;
        }
    } else if (strcmp(op, "pause") == 0) {
        return ACTION_PAUSE;
    } else if (strcmp(op, "badmem") == 0) {
        uint32_t st = proxy_log(LOG_INFO, (const char *)0x7ffffff0, 64);
        uint32_t st2 = proxy_log(9, "x", 1);
        LOG("badmem st=%u level=%u", st, st2);
    } else if (strncmp(op, "echo:", 5) == 0) {
        /* Reads header NAME (as spelled in the op) and adds its exact bytes as x-echo. */
        const char *v = NULL;
        size_t vl = 0;
        uint32_t st =
            proxy_get_header_map_value(MAP_REQUEST_HEADERS, op + 5, strlen(op + 5), &v, &vl);
        if (st == ST_OK)
            proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-echo", 6, v, vl);
        LOG("echo st=%u len=%zu", st, vl);
        free((void *)v);
    } else if (strcmp(op, "pairs_hash") == 0) {
        /* FNV-1a of the serialized request headers, for a byte-exact comparison. */
        const char *v = NULL;
        size_t vl = 0;
        uint32_t st = proxy_get_header_map_pairs(MAP_REQUEST_HEADERS, &v, &vl);
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < vl; i++)
            h = (h ^ (unsigned char)v[i]) * 16777619u;
        LOG("pairs_hash st=%u size=%zu fnv=%08x", st, vl, h);
        free((void *)v);
    } else if (strncmp(op, "grow:", 5) == 0) {
        /* The module grows its memory itself (detaching the host's views of
         * it), then makes hostcalls that write into memory. */
        size_t before = __builtin_wasm_memory_size(0);
        size_t old = __builtin_wasm_memory_grow(0, (size_t)atoi(op + 5));
        uint64_t t = 0;
        uint32_t st_t = proxy_get_current_time_nanoseconds(&t);
        const char *g = NULL;
        size_t gl = 0;
        uint32_t st_g = proxy_get_header_map_value(MAP_REQUEST_HEADERS, "x-get", 5, &g, &gl);
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)t);
        add_header(MAP_REQUEST_HEADERS, "x-time", buf);
        if (st_g == ST_OK)
            proxy_add_header_map_value(MAP_REQUEST_HEADERS, "x-got", 5, g, gl);
        free((void *)g);
        LOG("grow before=%zu old=%zu after=%zu time=%u get=%u", before, old,
            (size_t)__builtin_wasm_memory_size(0), st_t, st_g);
    } else if (strcmp(op, "clocks") == 0) {
        /* Both clocks through WASI (wasi-libc's clock_gettime) and the proxy's. */
        struct timespec rt, mono;
        clock_gettime(CLOCK_REALTIME, &rt);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        uint64_t t = 0;
        proxy_get_current_time_nanoseconds(&t);
        char buf[64];
        snprintf(buf, sizeof buf, "%llu",
                 (unsigned long long)rt.tv_sec * 1000000000ull + (unsigned long long)rt.tv_nsec);
        add_header(MAP_REQUEST_HEADERS, "x-wasi-realtime", buf);
        snprintf(buf, sizeof buf, "%llu",
                 (unsigned long long)mono.tv_sec * 1000000000ull +
                     (unsigned long long)mono.tv_nsec);
        add_header(MAP_REQUEST_HEADERS, "x-wasi-monotonic", buf);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)t);
        add_header(MAP_REQUEST_HEADERS, "x-time", buf);
    } else if (strcmp(op, "metric") == 0) {
        uint32_t mid = 0;
        proxy_define_metric(0, "probe_requests", 14, &mid);
        proxy_increment_metric(mid, 1);
        uint64_t v = 0;
        proxy_get_metric(mid, &v);
        uint32_t bad = proxy_increment_metric(mid, -1);
        LOG("metric id=%u value=%llu decrement=%u", mid, (unsigned long long)v, bad);
    }
    return ACTION_CONTINUE;
}

uint32_t on_request_body(uint32_t id, size_t size, uint32_t eos)
{
    const char *p = NULL;
    size_t n = 0;
    proxy_get_buffer_bytes(BUF_REQUEST_BODY, 0, size, &p, &n);
    LOG("request_body %u size=%zu eos=%u text=%.*s", id, size, eos, (int)n, p ? p : "");
    free((void *)p);
    struct stream *s = stream_of(id, 0);
    if (s && strcmp(s->op, "body") == 0) {
        proxy_set_buffer_bytes(BUF_REQUEST_BODY, 0, 0, "pre-", 4);
        proxy_set_buffer_bytes(BUF_REQUEST_BODY, (size_t)-1, 0, "-post", 5);
    }
    return ACTION_CONTINUE;
}

uint32_t on_response_headers(uint32_t id, size_t nh, uint32_t eos)
{
    const char *st = NULL;
    size_t n = 0;
    proxy_get_header_map_value(MAP_RESPONSE_HEADERS, ":status", 7, &st, &n);
    LOG("response_headers %u n=%zu eos=%u status=%.*s", id, nh, eos, (int)n, st ? st : "");
    free((void *)st);
    add_header(MAP_RESPONSE_HEADERS, "x-probe-seen", "1");
    return ACTION_CONTINUE;
}

uint32_t on_response_trailers(uint32_t id, size_t n)
{
    LOG("response_trailers %u n=%zu", id, n);
    return ACTION_CONTINUE;
}

void on_log(uint32_t id)
{
    const char *path = NULL;
    size_t pn = 0;
    uint32_t st = proxy_get_header_map_value(MAP_REQUEST_HEADERS, ":path", 5, &path, &pn);
    const char *tr = NULL;
    size_t tn = 0;
    uint32_t st2 = proxy_get_header_map_value(MAP_RESPONSE_TRAILERS, "x", 1, &tr, &tn);
    LOG("on_log %u st=%u path=%.*s trailers=%u", id, st, (int)pn, path ? path : "", st2);
    free((void *)path);
}

uint32_t on_done(uint32_t id)
{
    LOG("on_done %u", id);
    return 1;
}

void on_delete(uint32_t id)
{
    struct stream *s = stream_of(id, 0);
    if (s)
        s->id = 0;
    LOG("on_delete %u", id);
}
