/*
 * slate-controller: the HTTP server (libmicrohttpd, internal thread pool).
 *
 * Request bodies are collected into a per-request buffer bounded by
 * max-body-bytes: a declared Content-Length over the limit is answered 413
 * before any body byte is read; a body that grows past the limit while
 * streaming (chunked, or a lying Content-Length) is discarded from then on
 * and answered 413 at its end (past 4x the limit the connection is closed).
 * A body is decoded completely into per-thread scratch before anything is
 * merged into the state, so a bad request changes nothing.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_serve.h"
#include "ctl_export.h"
#include "ctl_guard.h"
#include "ctl_intake.h"
#include "ctl_log.h"
#include "slate/legacy.h"
#include "slate/name.h"
#include "slate/version.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

typedef enum route_id {
    R_REPORT = 0,
    R_REPORTS,
    R_PROXYLOAD,
    R_HILLCLIMB,
    R_RULES,
    R_STATE,
    R_METRICS,
    R_HEALTHZ,
    R_COUNT_
} route_id;

/*
 * Where a route is served. The data port carries every route; all but
 * /healthz need a credential there once one is configured. The admin port
 * (loopback by default) carries the read-only ones without a credential.
 */
static const struct route {
    const char *path;
    const char *method; /* the one method allowed (HEAD is allowed with GET) */
    bool has_body;
    bool needs_credential; /* on the data port */
    bool on_admin;
} k_routes[R_COUNT_] = {
    [R_REPORT] = {"/v1/report", "POST", true, true, false},
    [R_REPORTS] = {"/v1/reports", "POST", true, true, false},
    [R_PROXYLOAD] = {"/proxyLoad", "POST", true, true, false},
    [R_HILLCLIMB] = {"/hillclimbingLatency", "POST", true, true, false},
    [R_RULES] = {"/v1/rules", "GET", false, true, true},
    [R_STATE] = {"/v1/state", "GET", false, true, true},
    [R_METRICS] = {"/metrics", "GET", false, true, true},
    [R_HEALTHZ] = {"/healthz", "GET", false, false, true},
};

typedef struct req_ctx {
    route_id route;
    ctl_buf_t body;    /* its buffer outlives the request when the context is kept */
    size_t charged;    /* body bytes charged to the guard: the buffer's size were it new */
    uint64_t received; /* bytes seen, kept or not */
    uint64_t expect;   /* declared Content-Length, 0 when none */
    bool too_large;
    bool over_budget; /* the body budget of all connections is spent: 503 at the end */
} req_ctx;

/* ------------------------------------------------------------------------- */
/* Per-thread scratch and request contexts, freed when the server's threads exit */

/*
 * A server thread keeps the request contexts of its finished requests, each
 * with its body buffer, for its next requests: a steady stream of reports
 * takes nothing from the allocator for the request and its body (the memory
 * follows the largest recent bodies, not each one). At most REQ_KEEP idle
 * contexts per thread, and a buffer over REQ_KEEP_BYTES is not kept: idle
 * memory is at most 1 MiB per thread. The guard is charged for body bytes as
 * they arrive, as if every buffer were new (req_ctx.charged), so its
 * accounting does not depend on which buffer a request got.
 */
#define REQ_KEEP       16
#define REQ_KEEP_BYTES ((size_t)64 * 1024)

/*
 * A thread's answers to reports, kept as libmicrohttpd responses: a proxy's
 * answer changes only when the rules do, so a report is answered with the
 * response already made for its (service, region) under the same rules
 * (ctl_rules_t.serial), not a new one. libmicrohttpd counts a response's
 * users, so one replaced here is freed once the last connection sending it
 * is done. ANSWER_CACHE entries per thread in two-way sets, room for every
 * (service, region) pair of a 1,000-service cluster; an entry takes 150
 * bytes, and a response one proxy's answer (71 bytes on average and 1,061 at
 * most in the 1,000-service, 16-region benchmark) and about 300 bytes of
 * libmicrohttpd's: at most about 1.5 MiB per thread.
 */
#define ANSWER_CACHE 1024

typedef struct answer_ent {
    struct MHD_Response *resp; /* NULL: empty */
    uint64_t serial;           /* the rules answered; 0: none were published */
    uint64_t hash;
    uint8_t slen, rlen;
    char service[SLATE_NAME_MAX_LABEL], region[SLATE_NAME_MAX_LABEL];
} answer_ent;

typedef struct http_thread {
    ctl_scratch_t *sc;
    req_ctx *idle[REQ_KEEP];
    unsigned n_idle;
    answer_ent answers[ANSWER_CACHE];
} http_thread;

static pthread_key_t g_thread_key;
static pthread_once_t g_thread_once = PTHREAD_ONCE_INIT;

static void req_free(req_ctx *rc)
{
    ctl_buf_free(&rc->body);
    free(rc);
}

static void thread_destroy(void *p)
{
    http_thread *t = p;
    ctl_scratch_free(t->sc);
    for (unsigned i = 0; i < t->n_idle; i++)
        req_free(t->idle[i]);
    for (unsigned i = 0; i < ANSWER_CACHE; i++)
        if (t->answers[i].resp)
            MHD_destroy_response(t->answers[i].resp);
    free(t);
}

static void thread_key_init(void)
{
    pthread_key_create(&g_thread_key, thread_destroy);
}

/* The calling thread's scratch and idle contexts; NULL without memory. */
static http_thread *this_thread(void)
{
    pthread_once(&g_thread_once, thread_key_init);
    http_thread *t = pthread_getspecific(g_thread_key);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t)
            return NULL;
        t->sc = ctl_scratch_create();
        if (!t->sc || pthread_setspecific(g_thread_key, t) != 0) {
            ctl_scratch_free(t->sc);
            free(t);
            return NULL;
        }
    }
    return t;
}

static ctl_scratch_t *thread_scratch(void)
{
    http_thread *t = this_thread();
    return t ? t->sc : NULL;
}

/* A request context, an idle one of this thread's when it has one; its body
 * is empty (its buffer, if any, kept), its counts zero. NULL without memory. */
static req_ctx *req_take(size_t body_limit)
{
    http_thread *t = this_thread();
    req_ctx *rc = t && t->n_idle ? t->idle[--t->n_idle] : calloc(1, sizeof(req_ctx));
    if (!rc)
        return NULL;
    ctl_buf_t keep = rc->body;
    memset(rc, 0, sizeof(*rc));
    ctl_buf_init(&rc->body, body_limit);
    rc->body.data = keep.data;
    rc->body.cap = keep.data ? keep.cap : 0;
    return rc;
}

/* Ends a request's use of its context: kept for this thread's next request,
 * or freed (a thread that never served a request, as at shutdown, keeps
 * none). */
static void req_give(req_ctx *rc)
{
    pthread_once(&g_thread_once, thread_key_init);
    http_thread *t = pthread_getspecific(g_thread_key);
    if (!t || t->n_idle == REQ_KEEP) {
        req_free(rc);
        return;
    }
    if (rc->body.cap > REQ_KEEP_BYTES)
        ctl_buf_free(&rc->body);
    t->idle[t->n_idle++] = rc;
}

/* ------------------------------------------------------------------------- */
/* Responses */

/* Log lines about rejected requests are capped at 20 per second. */
static bool log_allowed(void)
{
    static atomic_uint_fast64_t window_s, count;
    uint64_t now = ctl_mono_ns() / 1000000000ull;
    uint64_t w = atomic_load(&window_s);
    if (w != now && atomic_compare_exchange_strong(&window_s, &w, now))
        atomic_store(&count, 0);
    return atomic_fetch_add(&count, 1) < 20;
}

/* Headers some answers carry besides the usual ones. */
typedef struct extra_hdr {
    const char *name, *value;
} extra_hdr;

static enum MHD_Result send_buf_h(struct MHD_Connection *c, unsigned status, ctl_buf_t *b,
                                  const char *ctype, const extra_hdr *h, size_t nh);

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, ctl_buf_t *b,
                                const char *ctype, const char *allow)
{
    extra_hdr h = {MHD_HTTP_HEADER_ALLOW, allow};
    return send_buf_h(c, status, b, ctype, &h, allow ? 1 : 0);
}

/* A response holding b's bytes (b is left empty); NULL without memory. */
static struct MHD_Response *make_response(ctl_buf_t *b, const char *ctype, const extra_hdr *h,
                                          size_t nh)
{
    size_t len = 0;
    char *data = ctl_buf_steal(b, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, data ? data : (void *)"", data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (size_t i = 0; i < nh; i++)
        MHD_add_response_header(r, h[i].name, h[i].value);
    return r;
}

static enum MHD_Result send_buf_h(struct MHD_Connection *c, unsigned status, ctl_buf_t *b,
                                  const char *ctype, const extra_hdr *h, size_t nh)
{
    struct MHD_Response *r = make_response(b, ctype, h, nh);
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *allow,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *allow,
                                 const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_buf_puts(&b, msg);
    return send_buf(c, status, &b, "text/plain; charset=utf-8", allow);
}

static enum MHD_Result reject(ctl_app_t *app, struct MHD_Connection *c, unsigned status,
                              ctl_reject why, slate_status st, const char *url, const char *msg)
{
    ctl_metrics_reject(&app->metrics, why, st);
    if (log_allowed())
        ctl_log(CTL_LOG_INFO, "rejected %s: %u %s", url, status, msg);
    return send_text(c, status, NULL, "%s\n", msg);
}

/*
 * 401 (no or wrong credential) and 503 (overload) answers: the header the
 * client needs, and Connection: close so the slot is freed at once.
 */
static enum MHD_Result refuse(ctl_app_t *app, struct MHD_Connection *c, unsigned status,
                              ctl_reject why, const char *url, const char *msg)
{
    ctl_metrics_reject(&app->metrics, why, SLATE_OK);
    if (log_allowed())
        ctl_log(CTL_LOG_INFO, "refused %s: %u %s", url, status, msg);
    extra_hdr h[2] = {
        {status == MHD_HTTP_UNAUTHORIZED ? MHD_HTTP_HEADER_WWW_AUTHENTICATE
                                         : MHD_HTTP_HEADER_RETRY_AFTER,
         status == MHD_HTTP_UNAUTHORIZED ? "Bearer realm=\"slate-controller\""
                                         : CTL_GUARD_RETRY_AFTER_S},
        {MHD_HTTP_HEADER_CONNECTION, "close"},
    };
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_buf_printf(&b, "%s\n", msg);
    return send_buf_h(c, status, &b, "text/plain; charset=utf-8", h, 2);
}

/* Whether the request carries a credential the data port accepts. */
static bool authorized(ctl_app_t *app, struct MHD_Connection *c)
{
    if (!app->auth.enabled && !app->cfg.tls_client_ca[0])
        return true; /* no credential configured (loopback, or --insecure 1) */
    if (app->cfg.tls_client_ca[0] && ctl_tls_client_verified(c))
        return true;
    return ctl_auth_check(
        &app->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

/* ------------------------------------------------------------------------- */
/* Intake */

/* The answer to a refused report: 429 and 503 with Retry-After (refuse), 400 with the text. */
static enum MHD_Result intake_refused(ctl_app_t *app, struct MHD_Connection *c, const char *url,
                                      const char *prefix, const ctl_intake_fault_t *f)
{
    if (f->http == MHD_HTTP_TOO_MANY_REQUESTS)
        return refuse(app, c, f->http, f->why, url, f->msg);
    if (f->http != MHD_HTTP_BAD_REQUEST)
        return reject(app, c, f->http, f->why, f->st, url, f->msg);
    char msg[700];
    snprintf(msg, sizeof(msg), "%s%s", prefix, f->msg);
    return reject(app, c, f->http, f->why, f->st, url, msg);
}

static enum MHD_Result out_of_memory(ctl_app_t *app, struct MHD_Connection *c, const char *url)
{
    return reject(app, c, MHD_HTTP_SERVICE_UNAVAILABLE, CTL_REJECT_UNAVAILABLE, SLATE_OK, url,
                  "out of memory");
}

static bool answer_is(const answer_ent *e, uint64_t serial, uint64_t hash, slate_str_t service,
                      slate_str_t region)
{
    return e->resp && e->serial == serial && e->hash == hash && e->slen == service.len &&
           e->rlen == region.len && memcmp(e->service, service.ptr, service.len) == 0 &&
           memcmp(e->region, region.ptr, region.len) == 0;
}

/* Answers a merged report with its proxy's rules: the thread's kept response
 * when the rules are the same as when it was made, else a new one, kept. */
static enum MHD_Result answer_report(ctl_app_t *app, struct MHD_Connection *c, const char *url,
                                     slate_str_t service, slate_str_t region)
{
    http_thread *t = this_thread();
    /* The kept answer is checked against the serial in force without the
     * publisher's lock; only a miss takes the rules (and the lock). */
    uint64_t serial = ctl_publisher_serial(&app->pub);
    answer_ent *e = NULL;
    uint64_t hash = 0;
    if (t && service.len > 0 && service.len <= SLATE_NAME_MAX_LABEL && region.len > 0 &&
        region.len <= SLATE_NAME_MAX_LABEL) {
        hash = XXH3_64bits(service.ptr, service.len) * 0x9E3779B97F4A7C15ull ^
               XXH3_64bits(region.ptr, region.len);
        answer_ent *set = &t->answers[hash % (ANSWER_CACHE / 2) * 2];
        for (int w = 0; w < 2; w++)
            if (answer_is(&set[w], serial, hash, service, region))
                return MHD_queue_response(c, MHD_HTTP_OK, set[w].resp);
        /* a miss: the way that answered this proxy under older rules is
         * replaced; else the older way gives way to a new one */
        int w = set[0].resp && set[0].hash == hash   ? 0
                : set[1].resp && set[1].hash == hash ? 1
                                                     : -1;
        if (w < 0) {
            if (set[1].resp)
                MHD_destroy_response(set[1].resp); /* freed once no connection sends it */
            set[1] = set[0];
            w = 0;
        } else {
            MHD_destroy_response(set[w].resp);
        }
        set[w].resp = NULL;
        e = &set[w];
    }
    ctl_rules_t *r = ctl_publisher_rules(&app->pub);
    serial = r ? r->serial : 0; /* the rules this answer is made from */
    ctl_buf_t out;
    ctl_buf_init(&out, 0);
    int rc = r ? ctl_rules_response(r, service.ptr, service.len, region.ptr, region.len, &out) : 0;
    ctl_rules_unref(r); /* before any rules: an empty RoutingRules message is zero bytes */
    if (rc != 0) {
        ctl_buf_free(&out);
        return out_of_memory(app, c, url);
    }
    struct MHD_Response *resp = make_response(&out, "application/x-protobuf", NULL, 0);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    if (!e) {
        MHD_destroy_response(resp);
        return ret;
    }
    e->resp = resp;
    e->serial = serial;
    e->hash = hash;
    e->slen = (uint8_t)service.len;
    e->rlen = (uint8_t)region.len;
    memcpy(e->service, service.ptr, service.len);
    memcpy(e->region, region.ptr, region.len);
    return ret;
}

static enum MHD_Result handle_report(ctl_app_t *app, struct MHD_Connection *c, req_ctx *rc,
                                     const char *url)
{
    ctl_scratch_t *sc = thread_scratch();
    if (!sc)
        return out_of_memory(app, c, url);
    slate_load_report_t *rep = NULL;
    ctl_intake_fault_t f;
    if (!ctl_intake_decode(app, sc, (const uint8_t *)rc->body.data, rc->body.len, &rep, &f) ||
        !ctl_intake_check(app, rep, &f) || !ctl_intake_merge(app, sc, rep, CTL_INTAKE_REPORT, &f))
        return intake_refused(app, c, url, "bad LoadReport: ", &f);
    atomic_fetch_add(&app->metrics.request_bytes, rc->body.len);
    return answer_report(app, c, url, rep->service, rep->region);
}

/*
 * A batch (the cluster role's forward): LoadReports in a delimited stream
 * (codec.h, "Delimited streams"). Answer: one RoutingRules, delimited the
 * same way, holding the rules of every (service, region) in the batch once,
 * so the answer is bounded by the rule set whatever the number of reports.
 * The whole batch passes the door before any report is merged.
 */
static enum MHD_Result handle_batch(ctl_app_t *app, struct MHD_Connection *c, req_ctx *rc,
                                    const char *url)
{
    ctl_scratch_t *sc = thread_scratch();
    if (!sc)
        return out_of_memory(app, c, url);
    const uint8_t *p = (const uint8_t *)rc->body.data;
    size_t n = rc->body.len;
    ctl_rules_batch_t pairs;
    ctl_rules_batch_init(&pairs);
    for (int pass = 0; pass < 2; pass++) {
        size_t pos = 0;
        for (unsigned idx = 0;; idx++) {
            const uint8_t *msg = NULL;
            size_t len = 0;
            slate_status fst = slate_delimited_next(p, n, &pos, &msg, &len);
            if (fst == SLATE_EEMPTY)
                break;
            char prefix[64];
            snprintf(prefix, sizeof(prefix), "bad report batch: reports[%u]: ", idx);
            ctl_intake_fault_t f;
            slate_load_report_t *rep = NULL;
            bool ok = true;
            if (fst != SLATE_OK) {
                ok = false;
                f.http = MHD_HTTP_BAD_REQUEST;
                f.why = CTL_REJECT_DECODE;
                f.st = SLATE_ELENGTH;
                snprintf(f.msg, sizeof(f.msg), "length prefix %s",
                         fst == SLATE_ELENGTH ? "past the end of the body" : "malformed");
            } else if (pass == 0) {
                ok = ctl_intake_decode(app, sc, msg, len, &rep, &f) &&
                     ctl_intake_check(app, rep, &f);
            } else {
                ok = ctl_intake_decode(app, sc, msg, len, &rep, &f) &&
                     ctl_intake_merge(app, sc, rep, CTL_INTAKE_BATCH, &f);
                if (ok && ctl_rules_batch_add(&pairs, rep->service.ptr, rep->service.len,
                                              rep->region.ptr, rep->region.len) != 0) {
                    ctl_rules_batch_free(&pairs);
                    return out_of_memory(app, c, url);
                }
            }
            if (!ok) {
                ctl_rules_batch_free(&pairs);
                return intake_refused(app, c, url, prefix, &f);
            }
        }
    }
    atomic_fetch_add(&app->metrics.request_bytes, n);
    ctl_buf_t one;
    ctl_buf_init(&one, 0);
    ctl_rules_t *r = ctl_publisher_rules(&app->pub);
    int e = r ? ctl_rules_batch_response(r, &pairs, &one) : 0;
    ctl_rules_unref(r);
    ctl_rules_batch_free(&pairs);
    ctl_buf_t out;
    ctl_buf_init(&out, 0);
    uint8_t pre[SLATE_DELIMITED_PREFIX_MAX];
    if (e == 0 && !one.failed) {
        ctl_buf_append(&out, pre, slate_delimited_prefix(one.len, pre));
        ctl_buf_append(&out, one.data, one.len);
    }
    bool failed = e != 0 || one.failed || out.failed;
    ctl_buf_free(&one);
    if (failed) {
        ctl_buf_free(&out);
        return out_of_memory(app, c, url);
    }
    return send_buf(c, MHD_HTTP_OK, &out, "application/x-protobuf", NULL);
}

static enum MHD_Result handle_legacy(ctl_app_t *app, struct MHD_Connection *c, req_ctx *rc,
                                     const char *url, bool latency)
{
    const char *svc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-slate-servicename");
    const char *region = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-slate-region");
    const char *pod = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-slate-podname");
    if (!svc || !*svc || !region || !*region)
        return reject(app, c, MHD_HTTP_BAD_REQUEST, CTL_REJECT_MISSING, SLATE_EMISSING, url,
                      !svc || !*svc ? "missing header x-slate-servicename"
                                    : "missing header x-slate-region");
    ctl_scratch_t *sc = thread_scratch();
    if (!sc)
        return out_of_memory(app, c, url);
    slate_load_report_t *rep = NULL;
    ctl_intake_fault_t f;
    const char *what = latency ? "hillclimbingLatency" : "proxyLoad";
    char prefix[48];
    if (!ctl_intake_decode_legacy(app, sc, latency, rc->body.data, rc->body.len, svc, region, pod,
                                  &rep, &f)) {
        snprintf(prefix, sizeof(prefix), "bad %s body: ", what);
        return intake_refused(app, c, url, prefix, &f);
    }
    snprintf(prefix, sizeof(prefix), "bad %s report: ", what);
    if (!ctl_intake_check(app, rep, &f) ||
        !ctl_intake_merge(app, sc, rep,
                          latency ? CTL_INTAKE_LEGACY_LATENCY : CTL_INTAKE_LEGACY_LOAD, &f))
        return intake_refused(app, c, url, prefix, &f);
    atomic_fetch_add(&app->metrics.request_bytes, rc->body.len);
    ctl_buf_t out;
    ctl_buf_init(&out, 0);
    if (!latency) {
        ctl_rules_t *r = ctl_publisher_rules(&app->pub);
        if (r) {
            int e = ctl_rules_legacy(r, rep->service.ptr, rep->service.len, region, strlen(region),
                                     &out);
            ctl_rules_unref(r);
            if (e != 0)
                ctl_buf_reset(&out); /* SLATE's plugin takes "" as "no rules" */
        }
    }
    return send_buf(c, MHD_HTTP_OK, &out, "text/plain; charset=utf-8", NULL);
}

/* ------------------------------------------------------------------------- */
/* Read-only views */

/* {"current": ..., "previous": ...}: the two rule sets, each held by a
 * reference, so rendering runs without the publisher's lock. */
static void json_rules_pair(ctl_app_t *app, ctl_json_t *j)
{
    ctl_rules_t *cur = NULL, *prev = NULL;
    ctl_publisher_pair(&app->pub, &cur, &prev);
    ctl_json_obj(j);
    ctl_json_key(j, "current");
    if (cur)
        ctl_rules_json(cur, j);
    else
        ctl_json_null(j);
    ctl_json_key(j, "previous");
    if (prev)
        ctl_rules_json(prev, j);
    else
        ctl_json_null(j);
    ctl_json_obj_end(j);
    ctl_rules_unref(cur);
    ctl_rules_unref(prev);
}

static enum MHD_Result handle_rules(ctl_app_t *app, struct MHD_Connection *c)
{
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    json_rules_pair(app, &j);
    ctl_buf_putc(&b, '\n');
    if (!ctl_json_ok(&j)) {
        ctl_buf_free(&b);
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "could not render rules\n");
    }
    return send_buf(c, MHD_HTTP_OK, &b, "application/json", NULL);
}

static void json_solve(ctl_app_t *app, ctl_json_t *j)
{
    ctl_solve_stats_t s;
    memset(&s, 0, sizeof(s));
    if (app->solver)
        ctl_solver_stats(app->solver, &s);
    ctl_json_obj(j);
    ctl_json_ku64(j, "rounds", s.rounds);
    ctl_json_ku64(j, "last_ns", s.last_ns);
    ctl_json_kstr(j, "last_outcome", s.last_outcome);
    ctl_json_kstr(j, "method", s.method);
    ctl_json_kstr(j, "last_status", slate_status_name(s.last_status));
    ctl_json_kf64(j, "objective_current", s.objective_current);
    ctl_json_kf64(j, "overload_current_rps", s.overload_current);
    ctl_json_kf64(j, "objective_proposed", s.objective_proposed);
    ctl_json_kf64(j, "objective_applied", s.objective_applied);
    ctl_json_kf64(j, "modelled_latency_ms", s.mean_latency_ms);
    ctl_json_kf64(j, "measured_latency_ms", s.measured_latency_ms);
    ctl_json_kf64(j, "largest_shift", s.shift);
    ctl_json_kf64(j, "build_ms", s.build_ms);
    ctl_json_kf64(j, "solve_ms", s.solve_ms);
    ctl_json_kf64(j, "total_ms", s.total_ms);
    ctl_json_kf64(j, "snapshot_ms", s.snapshot_ms);
    ctl_json_kf64(j, "problem_ms", s.problem_ms);
    ctl_json_kf64(j, "post_ms", s.post_ms);
    ctl_json_kf64(j, "round_ms", s.round_ms);
    ctl_json_key(j, "lp");
    ctl_json_obj(j);
    ctl_json_ku64(j, "columns", s.columns);
    ctl_json_ku64(j, "rows", s.rows);
    ctl_json_ku64(j, "nonzeros", s.nonzeros);
    ctl_json_ku64(j, "iterations", s.iterations);
    ctl_json_ku64(j, "full_columns", s.full_columns);
    ctl_json_ku64(j, "pricing_rounds", s.pricing_rounds);
    ctl_json_kbool(j, "warm_start", s.warm_start != 0);
    ctl_json_obj_end(j);
    ctl_json_key(j, "problem");
    ctl_json_obj(j);
    ctl_json_ku64(j, "regions", s.regions);
    ctl_json_ku64(j, "services", s.services);
    ctl_json_ku64(j, "endpoints", s.endpoints);
    ctl_json_ku64(j, "classes", s.classes);
    ctl_json_ku64(j, "edges", s.edges);
    ctl_json_obj_end(j);
    ctl_json_kbool(j, "rollback_guard_active", s.guard_active != 0);
    ctl_json_key(j, "cooldown_rounds");
    ctl_json_i64(j, s.cooldown);
    ctl_json_obj_end(j);
}

static enum MHD_Result handle_state(ctl_app_t *app, struct MHD_Connection *c)
{
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    uint64_t now = ctl_now_ns();
    ctl_json_obj(&j);
    ctl_json_key(&j, "controller");
    ctl_json_obj(&j);
    ctl_json_key(&j, "version");
    ctl_json_str(&j, SLATE_VERSION_STRING);
    ctl_json_key(&j, "role");
    ctl_json_str(&j, app->cfg.role == CTL_ROLE_GLOBAL ? "global" : "cluster");
    ctl_json_key(&j, "routing");
    ctl_json_str(&j, app->cfg.routing == CTL_ROUTING_SLATE   ? "slate"
                     : app->cfg.routing == CTL_ROUTING_LOCAL ? "local"
                                                             : "waterfall");
    ctl_json_key(&j, "now_ns");
    ctl_json_u64(&j, now);
    ctl_json_key(&j, "uptime_s");
    ctl_json_f64(&j, (double)(ctl_mono_ns() - app->started_ns) / 1e9);
    ctl_json_key(&j, "solve_period_ms");
    ctl_json_u64(&j, app->cfg.solve_period_ms);
    ctl_json_obj_end(&j);
    if (app->state)
        ctl_state_write_json(app->state, &j, now);
    if (app->cluster) {
        ctl_json_key(&j, "cluster");
        ctl_cluster_write_json(app->cluster, &j);
    }
    ctl_json_key(&j, "rules");
    json_rules_pair(app, &j);
    ctl_json_key(&j, "solve");
    json_solve(app, &j);
    ctl_json_obj_end(&j);
    ctl_buf_putc(&b, '\n');
    if (!ctl_json_ok(&j)) {
        ctl_buf_free(&b);
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "could not render state\n");
    }
    return send_buf(c, MHD_HTTP_OK, &b, "application/json", NULL);
}

/* Weight series in one scrape: 64 destinations x 8 x 8 regions. */
#define CTL_WEIGHT_SERIES_MAX 4096

static enum MHD_Result handle_metrics(ctl_app_t *app, struct MHD_Connection *c)
{
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_buf_printf(&b,
                   "# HELP slate_controller_info Build and role of this controller.\n"
                   "# TYPE slate_controller_info gauge\n"
                   "slate_controller_info{version=\"%s\",role=\"%s\"} 1\n"
                   "# HELP slate_controller_uptime_seconds Seconds since the controller started.\n"
                   "# TYPE slate_controller_uptime_seconds gauge\n"
                   "slate_controller_uptime_seconds %.3f\n",
                   SLATE_VERSION_STRING, app->cfg.role == CTL_ROLE_GLOBAL ? "global" : "cluster",
                   (double)(ctl_mono_ns() - app->started_ns) / 1e9);
    ctl_metrics_write(&app->metrics, &b);
    if (app->guard) {
        uint64_t open = 0, buffered = 0;
        ctl_guard_gauges(app->guard, &open, &buffered);
        ctl_buf_printf(&b,
                       "# HELP slate_controller_connections_open Connections open on the data "
                       "port.\n# TYPE slate_controller_connections_open gauge\n"
                       "slate_controller_connections_open %" PRIu64 "\n"
                       "# HELP slate_controller_body_bytes_buffered Request body bytes held over "
                       "all connections.\n# TYPE slate_controller_body_bytes_buffered gauge\n"
                       "slate_controller_body_bytes_buffered %" PRIu64 "\n",
                       open, buffered);
    }
    if (app->state)
        ctl_state_write_metrics(app->state, &b);
    ctl_rules_t *rules = ctl_publisher_rules(&app->pub);
    ctl_export_weights_metrics(rules, &b, CTL_WEIGHT_SERIES_MAX);
    if (rules)
        ctl_rules_unref(rules);
    if (b.failed) {
        ctl_buf_free(&b);
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory\n");
    }
    return send_buf(c, MHD_HTTP_OK, &b, "text/plain; version=0.0.4; charset=utf-8", NULL);
}

/* ------------------------------------------------------------------------- */
/* Dispatch */

static int find_route(const char *url, bool admin)
{
    for (int i = 0; i < R_COUNT_; i++)
        if (strcmp(url, k_routes[i].path) == 0 && (!admin || k_routes[i].on_admin))
            return i;
    return -1;
}

/* The first call for a request: route, method, credential, limits, size. */
static enum MHD_Result begin_request(ctl_app_t *app, bool admin, struct MHD_Connection *c,
                                     const char *url, const char *method, void **con_cls)
{
    int route = find_route(url, admin);
    if (route < 0) {
        ctl_metrics_reject(&app->metrics, CTL_REJECT_NOT_FOUND, SLATE_OK);
        return send_text(c, MHD_HTTP_NOT_FOUND, NULL, "no such path: %s\n", url);
    }
    const struct route *r = &k_routes[route];
    if (!admin && app->guard) {
        ctl_guard_verdict v = ctl_guard_request_begin(app->guard, c);
        if (v != CTL_GUARD_OK)
            return refuse(app, c, MHD_HTTP_SERVICE_UNAVAILABLE, CTL_REJECT_OVERLOAD, url,
                          v == CTL_GUARD_CLIENT_BUSY
                              ? "too many connections from this client; retry later"
                              : "controller at its connection limit; retry later");
    }
    bool ok = strcmp(method, r->method) == 0 ||
              (strcmp(r->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
    if (!ok) {
        char allow[32];
        snprintf(allow, sizeof(allow), "%s",
                 strcmp(r->method, "GET") == 0 ? "GET, HEAD" : r->method);
        ctl_metrics_reject(&app->metrics, CTL_REJECT_METHOD, SLATE_OK);
        return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, allow,
                         "method %s not allowed on %s; allowed: %s\n", method, url, allow);
    }
    if (!admin && r->needs_credential && !authorized(app, c))
        return refuse(app, c, MHD_HTTP_UNAUTHORIZED, CTL_REJECT_UNAUTHORIZED, url,
                      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)
                          ? "credential not accepted"
                          : "credential required: Authorization: Bearer <token>");
    unsigned long long expect = 0;
    if (r->has_body) {
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long declared = strtoull(cl, &end, 10);
            if (errno == 0 && end != cl && declared > app->cfg.max_body_bytes) {
                char msg[160];
                snprintf(msg, sizeof(msg),
                         "body of %llu bytes is over the limit of %" PRIu64 " bytes", declared,
                         app->cfg.max_body_bytes);
                return reject(app, c, MHD_HTTP_CONTENT_TOO_LARGE, CTL_REJECT_TOO_LARGE, SLATE_OK,
                              url, msg);
            }
            if (errno == 0 && end != cl)
                expect = declared;
        }
    }
    req_ctx *rc = req_take((size_t)app->cfg.max_body_bytes);
    if (!rc)
        return MHD_NO;
    rc->route = (route_id)route;
    rc->expect = expect;
    *con_cls = rc;
    return MHD_YES;
}

/*
 * Makes room for n more body bytes. The charge follows the bytes that arrived
 * (doubling, never past the declared length), not the declared length, so a
 * silent client costs nothing; every step is charged to the guard's budget
 * first. The buffer (perhaps a kept one, already large enough) grows to what
 * is charged. False when the budget is spent.
 */
static bool body_grow(ctl_app_t *app, struct MHD_Connection *c, req_ctx *rc, size_t n)
{
    ctl_buf_t *b = &rc->body;
    size_t need = b->len + n + 1;
    if (need > rc->charged) {
        size_t cap = rc->charged ? rc->charged * 2 : 4096;
        if (cap < need)
            cap = need;
        if (rc->expect && rc->expect + 1 >= need && cap > rc->expect + 1)
            cap = (size_t)rc->expect + 1;
        if (app->guard && !ctl_guard_charge(app->guard, c, cap - rc->charged))
            return false;
        rc->charged = cap;
    }
    if (need <= b->cap)
        return true;
    char *p = realloc(b->data, rc->charged);
    if (!p) {
        b->failed = true;
        return true; /* charged until the request ends; answered 413/503 below */
    }
    b->data = p;
    b->cap = rc->charged;
    return true;
}

static void take_upload(ctl_app_t *app, struct MHD_Connection *c, req_ctx *rc, const char *upload,
                        size_t n)
{
    rc->received += n;
    if (app->guard)
        ctl_guard_received(app->guard, c, n);
    if (rc->too_large || rc->over_budget)
        return;
    if (rc->body.len + n > app->cfg.max_body_bytes || rc->body.failed) {
        rc->too_large = true;
    } else if (!body_grow(app, c, rc, n)) {
        rc->over_budget = true;
    } else {
        ctl_buf_append(&rc->body, upload, n);
        if (rc->body.failed)
            rc->too_large = true;
    }
    if (rc->too_large || rc->over_budget) {
        ctl_buf_free(&rc->body); /* its charge is released when the request ends */
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    ctl_http_side_t *side = cls;
    ctl_app_t *app = side->app;
    req_ctx *rc = *con_cls;
    if (!rc)
        return begin_request(app, side->admin, c, url, method, con_cls);
    if (*upload_size > 0) {
        take_upload(app, c, rc, upload, *upload_size);
        *upload_size = 0;
        /* Do not read an endless stream just to answer it: close past 4x the limit. */
        if ((rc->too_large || rc->over_budget) &&
            rc->received > 4 * app->cfg.max_body_bytes + (1u << 20))
            return MHD_NO;
        return MHD_YES;
    }
    if (rc->over_budget)
        return refuse(app, c, MHD_HTTP_SERVICE_UNAVAILABLE, CTL_REJECT_OVERLOAD, url,
                      "request bodies in flight are at their memory limit; retry later");
    if (rc->too_large) {
        char msg[160];
        snprintf(msg, sizeof(msg), "body is over the limit of %" PRIu64 " bytes",
                 app->cfg.max_body_bytes);
        return reject(app, c, MHD_HTTP_CONTENT_TOO_LARGE, CTL_REJECT_TOO_LARGE, SLATE_OK, url, msg);
    }
    switch (rc->route) {
    case R_REPORT:
        return handle_report(app, c, rc, url);
    case R_REPORTS:
        return handle_batch(app, c, rc, url);
    case R_PROXYLOAD:
        return handle_legacy(app, c, rc, url, false);
    case R_HILLCLIMB:
        return handle_legacy(app, c, rc, url, true);
    case R_RULES:
        return handle_rules(app, c);
    case R_STATE:
        return handle_state(app, c);
    case R_METRICS:
        return handle_metrics(app, c);
    case R_HEALTHZ:
        if (atomic_load(&app->pub.persist_failing))
            return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                             "degraded: persisting the rules to %s failed; they are served but "
                             "would not survive a restart\n",
                             app->pub.rules_path);
        return send_text(c, MHD_HTTP_OK, NULL, "ok\n");
    case R_COUNT_:
        break;
    }
    return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    ctl_http_side_t *side = cls;
    req_ctx *rc = *con_cls;
    if (rc) {
        req_give(rc);
        *con_cls = NULL;
    }
    if (!side->admin && side->app->guard)
        ctl_guard_request_end(side->app->guard, c);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    ctl_log(CTL_LOG_DEBUG, "http: %s", msg);
}

/* Fills one of the sockaddrs from a textual address; NULL when it is neither family. */
static struct sockaddr *parse_addr(const char *text, uint32_t port, struct sockaddr_in *a4,
                                   struct sockaddr_in6 *a6, unsigned *flags)
{
    memset(a4, 0, sizeof(*a4));
    memset(a6, 0, sizeof(*a6));
    if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return (struct sockaddr *)a4;
    }
    if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *flags |= MHD_USE_IPv6;
        return (struct sockaddr *)a6;
    }
    return NULL;
}

static uint16_t bound_port(struct MHD_Daemon *d, uint32_t asked)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : (uint16_t)asked;
}

/* The data port: reports and rules, behind credentials and the guard. */
static int start_data(ctl_app_t *app)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    struct sockaddr *addr = parse_addr(app->cfg.listen, app->cfg.port, &a4, &a6, &flags);
    if (!addr) {
        ctl_log(CTL_LOG_ERROR, "--listen %s is not an IPv4 or IPv6 address", app->cfg.listen);
        return -1;
    }
    /* Below the hard connection limit, new requests get 503 (not a silent
     * refusal); past twice the per-client limit a client's connections are
     * refused at accept. */
    uint32_t maxc = app->cfg.max_connections;
    ctl_guard_limits_t lim = {
        .soft_connections = maxc > 16 ? maxc - maxc / 16 : maxc,
        .per_client = app->cfg.max_connections_per_client,
        .header_timeout_ms = app->cfg.header_timeout_ms,
        .body_grace_ms = app->cfg.body_grace_ms,
        .body_min_rate = app->cfg.body_min_rate,
        .max_buffered = app->cfg.max_buffered_bytes,
    };
    app->guard = ctl_guard_create(&lim, &app->metrics);
    if (!app->guard || ctl_guard_start(app->guard) != 0) {
        ctl_log(CTL_LOG_ERROR, "cannot start the connection guard");
        return -1;
    }
    unsigned per_ip =
        app->cfg.max_connections_per_client ? 2 * app->cfg.max_connections_per_client : 0;
    bool tls = app->tls.cert_pem != NULL;
    if (tls)
        flags |= MHD_USE_TLS;
    app->side_data.app = app;
    app->side_data.admin = false;
    /* Each connection's memory pool is 32 KiB (libmicrohttpd's default):
     * the pool is zeroed after every request, which at 128 KiB cost more than
     * the HTTP parsing; bodies live in our own buffer, not in the pool. */
    /* TLS options only with TLS: libmicrohttpd warns about them otherwise. */
    struct MHD_OptionItem tls_opts[4] = {{MHD_OPTION_END, 0, NULL}};
    if (tls) {
        size_t k = 0;
        tls_opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, app->tls.key_pem};
        tls_opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, app->tls.cert_pem};
        if (app->tls.ca_pem)
            tls_opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, app->tls.ca_pem};
        tls_opts[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    app->mhd = MHD_start_daemon(
        flags, (uint16_t)app->cfg.port, NULL, NULL, on_request, &app->side_data,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, app, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)app->cfg.threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)maxc, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)app->cfg.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &app->side_data, MHD_OPTION_NOTIFY_CONNECTION,
        ctl_guard_notify, app->guard, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)app->cfg.listen_backlog, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!app->mhd) {
        ctl_log(CTL_LOG_ERROR, "cannot listen on %s port %u: %s", app->cfg.listen, app->cfg.port,
                strerror(errno));
        return -1;
    }
    app->port = bound_port(app->mhd, app->cfg.port);
    return 0;
}

/* The admin port: read-only views and health, on its own thread and limits. */
static int start_admin(ctl_app_t *app)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    uint32_t port = app->cfg.admin_port;
    if (port == CTL_ADMIN_PORT_AUTO) /* 8001 beside the default 8000, else any free port */
        port = app->cfg.port == 8000 ? 8001 : 0;
    struct sockaddr *addr = parse_addr(app->cfg.admin_listen, port, &a4, &a6, &flags);
    if (!addr) {
        ctl_log(CTL_LOG_ERROR, "--admin-listen %s is not an IPv4 or IPv6 address",
                app->cfg.admin_listen);
        return -1;
    }
    app->side_admin.app = app;
    app->side_admin.admin = true;
    app->admin_mhd = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, &app->side_admin, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, app, MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed, &app->side_admin,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)64, MHD_OPTION_END);
    if (!app->admin_mhd) {
        ctl_log(CTL_LOG_ERROR, "cannot listen (admin) on %s port %u: %s", app->cfg.admin_listen,
                port, strerror(errno));
        return -1;
    }
    app->admin_port = bound_port(app->admin_mhd, port);
    return 0;
}

int ctl_http_start(ctl_app_t *app)
{
    char err[700];
    if (ctl_auth_init(&app->auth, app->cfg.auth_token_file, err, sizeof(err)) != 0) {
        ctl_log(CTL_LOG_ERROR, "--auth-token-file: %s", err);
        return -1;
    }
    if (ctl_tls_load(&app->tls, app->cfg.tls_cert, app->cfg.tls_key, app->cfg.tls_client_ca, err,
                     sizeof(err)) != 0) {
        ctl_log(CTL_LOG_ERROR, "TLS: %s", err);
        return -1;
    }
    if (start_admin(app) != 0 || start_data(app) != 0)
        return -1;
    if (app->auth.enabled)
        ctl_log(CTL_LOG_INFO, "data port: %u bearer token(s) accepted", app->auth.tokens.n);
    if (app->cfg.tls_client_ca[0])
        ctl_log(CTL_LOG_INFO, "data port: client certificates from %s accepted",
                app->cfg.tls_client_ca);
    if (!app->auth.enabled && !app->cfg.tls_client_ca[0])
        ctl_log(CTL_LOG_WARN,
                "data port: no credential configured; anyone who reaches %s may "
                "report and read",
                app->cfg.listen);
    return 0;
}

void ctl_http_stop(ctl_app_t *app)
{
    if (app->mhd) {
        MHD_stop_daemon(app->mhd);
        app->mhd = NULL;
    }
    if (app->admin_mhd) {
        MHD_stop_daemon(app->admin_mhd);
        app->admin_mhd = NULL;
    }
    ctl_guard_free(app->guard);
    app->guard = NULL;
    ctl_tls_free(&app->tls);
    ctl_auth_destroy(&app->auth);
}
