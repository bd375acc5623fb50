/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * ngx_http_slate_module: libslate inside nginx.
 *
 * Every worker measures the requests of `slate_measure` locations (inbound)
 * and the calls of `slate_route` locations (outbound, per chosen region) into
 * one table in a shared memory zone; `$slate_region` draws the destination
 * region of an outbound call from the controller's weights, compiled into
 * libslate sampler tables in the same zone. Once per period exactly one
 * worker (the holder of a lease in the zone) swaps the tick's measurements
 * out, encodes a LoadReport, POSTs it to slate-controller over nginx's own
 * event loop and stores the RoutingRules of the answer. See docs/nginx.md.
 *
 * Concurrency: the zone's slab mutex (which the master force-unlocks when a
 * worker dies holding it) guards the zone; it is held for table look-ups,
 * counter updates and copies only, never across I/O, a clock read or an
 * allocation.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <string.h>
#include <time.h>

#include "slate/codec.h"
#include "slate/key.h"
#include "slate/legacy.h"
#include "slate/lease.h"
#include "slate/meter.h"
#include "slate/ruleset.h"
#include "slate/sampler.h"
#include "slate/stats.h"

#define SLATE_NGX_MAGIC         0x4e474c53u /* "SLGN" */
#define SLATE_NGX_VERSION       4u          /* 4: measurements in the core's meter */
#define SLATE_NGX_NAME_CAP      64u         /* service, region and method names, NUL included */
#define SLATE_NGX_MAX_REGIONS   32u         /* regions a zone can name */
#define SLATE_NGX_TRACE_CAP     33u
#define SLATE_NGX_SPAN_ID_CAP   17u
#define SLATE_NGX_LEASE_PERIODS 3 /* a lease not renewed for this many periods is free */

/* Failure kinds of a report exchange; each is counted and logged once per outage. */
enum {
    SLATE_FAIL_CONNECT,
    SLATE_FAIL_TIMEOUT,
    SLATE_FAIL_STATUS,
    SLATE_FAIL_OVERSIZED,
    SLATE_FAIL_BAD_RULES,
    SLATE_FAIL_ENCODE,
    SLATE_FAIL_KINDS
};
static const char *const slate_fail_names[SLATE_FAIL_KINDS] = {"connect",   "timeout",   "status",
                                                               "oversized", "bad_rules", "encode"};

/* ---- shared memory layout (no pointers: every process maps it elsewhere) ---- */

typedef struct {
    uint32_t magic, version;
    uint32_t max_endpoints, max_rules, max_spans, reserved;
    /* lease */
    slate_lease_t lease; /* owner: a worker's pid; expiry: ngx_current_msec in ns */
    ngx_msec_t next_tick;
    uint64_t sequence;
    uint64_t tick_start_ns;
    /* rules */
    uint64_t rules_version;
    uint64_t rules_expiry_ns; /* unix ns (ruleset.h slate_rules_expiry()); 0 = no rules */
    uint64_t rules_received;
    uint64_t legacy_hash; /* SLATE legacy text: hash of the rules text in force */
    uint32_t ruleset_len; /* bytes of the compiled ruleset (ruleset.h); 0 = none */
    uint32_t meter_len;   /* bytes of the measurement table (meter.h) */
    /* health */
    uint64_t reports_ok;
    uint64_t fail[SLATE_FAIL_KINDS];
    uint32_t fail_logged; /* bit per kind: logged since the last good answer */
    uint32_t rules_expired_logged;
    /* followed by: the ruleset area (slate_ngx_ruleset_cap(max_rules) bytes),
     * then the core's measurement table (meter.h: max_endpoints inbound and
     * max_endpoints outbound entries, max_spans spans) */
} slate_ngx_shm_t;

/* ---- configuration ---- */

typedef struct {
    ngx_str_t zone_name;
    size_t zone_size;
    ngx_shm_zone_t *zone;
    ngx_str_t service, region, pod;
    ngx_url_t controller;
    ngx_str_t auth_header; /* "Authorization: Bearer ...\r\n" or empty */
    ngx_msec_t period, timeout, ttl;
    double trace_rate;
    ngx_uint_t max_endpoints, max_rules, max_spans;
    size_t max_response;
    ngx_uint_t protocol; /* SLATE_NGX_PROTOBUF or SLATE_NGX_LEGACY */
} slate_ngx_main_conf_t;

typedef struct {
    ngx_flag_t measure;
    ngx_str_t route; /* destination service; empty = not a routed location */
    ngx_flag_t status;
} slate_ngx_loc_conf_t;

typedef struct {
    ngx_slab_pool_t *shpool;
    slate_ngx_shm_t *sh;
    size_t need;
} slate_ngx_zone_ctx_t;

typedef struct {
    uint64_t start_mono_ns, start_real_ns;
    uint32_t in_id;    /* the inbound entry in the meter, when counted */
    size_t region_len; /* the region drawn for $slate_region; 0 = not drawn */
    char region[SLATE_NGX_NAME_CAP];
    unsigned counted : 1;
    unsigned traced : 1;
    unsigned described : 1;   /* method and path below are set (once per request) */
    unsigned describable : 1; /* the method fits an entry */
    uint8_t method_len;
    uint16_t path_len;
    char method[SLATE_METER_MAX_METHOD + 1];
    char path[SLATE_PATH_NORM_CAP]; /* normalised, as the meter and the rules key it */
    double rps_at_arrival;
    uint64_t in_flight_at_arrival;
} slate_ngx_req_ctx_t;

/* One report exchange with the controller (one pool, freed at the end). */
typedef struct {
    ngx_pool_t *pool;
    ngx_peer_connection_t pc;
    u_char *out, *out_pos, *out_end;
    u_char *in;
    size_t in_len, in_cap;
    slate_ngx_main_conf_t *mcf;
} slate_ngx_exchange_t;

static ngx_int_t slate_ngx_add_variables(ngx_conf_t *cf);
static ngx_int_t slate_ngx_postconf(ngx_conf_t *cf);
static void *slate_ngx_create_main_conf(ngx_conf_t *cf);
static char *slate_ngx_init_main_conf(ngx_conf_t *cf, void *conf);
static void *slate_ngx_create_loc_conf(ngx_conf_t *cf);
static char *slate_ngx_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static ngx_int_t slate_ngx_init_process(ngx_cycle_t *cycle);
static void slate_ngx_exit_process(ngx_cycle_t *cycle);
static char *slate_ngx_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_controller(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_msec(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_size(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_token_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_route(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *slate_ngx_protocol(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* The report protocol: libslate's protobuf, or SLATE's text (its controller's
 * /proxyLoad and rules lines), both from the core's codecs. */
enum { SLATE_NGX_PROTOBUF = 0, SLATE_NGX_LEGACY = 1 };
static ngx_conf_enum_t slate_ngx_protocols[] = {{ngx_string("protobuf"), SLATE_NGX_PROTOBUF},
                                                {ngx_string("slate-legacy"), SLATE_NGX_LEGACY},
                                                {ngx_null_string, 0}};

/* Bounds of the numeric directives, checked at `nginx -t`. */
typedef struct {
    ngx_uint_t lo, hi;
} slate_ngx_bounds_t;
static slate_ngx_bounds_t slate_bounds_period = {10, 3600000};
static slate_ngx_bounds_t slate_bounds_timeout = {10, 600000};
static slate_ngx_bounds_t slate_bounds_ttl = {100, 86400000};
static slate_ngx_bounds_t slate_bounds_endpoints = {1, 65536};
static slate_ngx_bounds_t slate_bounds_rules = {1, 4096};
static slate_ngx_bounds_t slate_bounds_spans = {0, 65536};
static slate_ngx_bounds_t slate_bounds_response = {1024, 64 * 1024 * 1024};

static ngx_command_t slate_ngx_commands[] = {
    {ngx_string("slate_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2, slate_ngx_zone,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL},
    {ngx_string("slate_service"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_name,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, service), NULL},
    {ngx_string("slate_region"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_name,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, region), NULL},
    {ngx_string("slate_pod"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_name,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, pod), NULL},
    {ngx_string("slate_controller"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_controller,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL},
    {ngx_string("slate_controller_token_file"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     slate_ngx_token_file, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL},
    {ngx_string("slate_report_period"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_msec,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, period), &slate_bounds_period},
    {ngx_string("slate_controller_timeout"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_msec,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, timeout), &slate_bounds_timeout},
    {ngx_string("slate_rules_ttl"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_msec,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, ttl), &slate_bounds_ttl},
    {ngx_string("slate_trace_sampling"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_rate,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, trace_rate), NULL},
    {ngx_string("slate_max_endpoints"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_limit,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, max_endpoints),
     &slate_bounds_endpoints},
    {ngx_string("slate_max_rules"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_limit,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, max_rules), &slate_bounds_rules},
    {ngx_string("slate_max_spans"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_limit,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, max_spans), &slate_bounds_spans},
    {ngx_string("slate_max_response"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_size,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(slate_ngx_main_conf_t, max_response),
     &slate_bounds_response},
    {ngx_string("slate_protocol"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, slate_ngx_protocol,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL},
    {ngx_string("slate_measure"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(slate_ngx_loc_conf_t, measure),
     NULL},
    {ngx_string("slate_route"), NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1, slate_ngx_route,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    {ngx_string("slate_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, slate_ngx_status,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    ngx_null_command};

static ngx_http_module_t slate_ngx_module_ctx = {slate_ngx_add_variables,
                                                 slate_ngx_postconf,
                                                 slate_ngx_create_main_conf,
                                                 slate_ngx_init_main_conf,
                                                 NULL,
                                                 NULL,
                                                 slate_ngx_create_loc_conf,
                                                 slate_ngx_merge_loc_conf};

ngx_module_t ngx_http_slate_module = {NGX_MODULE_V1,
                                      &slate_ngx_module_ctx,
                                      slate_ngx_commands,
                                      NGX_HTTP_MODULE,
                                      NULL,
                                      NULL,
                                      slate_ngx_init_process,
                                      NULL,
                                      NULL,
                                      slate_ngx_exit_process,
                                      NULL,
                                      NGX_MODULE_V1_PADDING};

/* ---- per-process state ---- */

static slate_rng_t slate_rng;
static ngx_event_t slate_tick_ev;
static ngx_connection_t slate_tick_conn; /* dummy: timers need ev->data */
static slate_ngx_exchange_t *slate_busy; /* the exchange in progress, if any */

/* ---- helpers ---- */

/* nginx's cached wall clock (updated once per event loop turn), unix ns */
static uint64_t slate_ngx_wall_ns(void)
{
    ngx_time_t *tp = ngx_timeofday();
    return (uint64_t)tp->sec * 1000000000u + (uint64_t)tp->msec * 1000000u;
}

static uint64_t slate_ngx_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The ruleset area: room for max_rules destinations over every region, 8-aligned. */
static size_t slate_ngx_ruleset_cap(ngx_uint_t rules)
{
    size_t n = slate_ruleset_size(SLATE_NGX_MAX_REGIONS, rules, rules * SLATE_NGX_MAX_REGIONS);
    return (n + 7u) & ~(size_t)7u;
}
static uint8_t *slate_ngx_ruleset(slate_ngx_shm_t *sh)
{
    return (uint8_t *)(void *)(sh + 1);
}
static slate_meter_t *slate_ngx_meter(slate_ngx_shm_t *sh)
{
    return (slate_meter_t *)(void *)(slate_ngx_ruleset(sh) + slate_ngx_ruleset_cap(sh->max_rules));
}
static slate_meter_limits_t slate_ngx_meter_limits(ngx_uint_t eps, ngx_uint_t spans)
{
    slate_meter_limits_t lim = {(uint32_t)eps, (uint32_t)eps, (uint32_t)spans};
    return lim;
}

static size_t slate_ngx_shm_need(ngx_uint_t eps, ngx_uint_t rules, ngx_uint_t spans)
{
    slate_meter_limits_t lim = slate_ngx_meter_limits(eps, spans);
    return sizeof(slate_ngx_shm_t) + slate_ngx_ruleset_cap(rules) + slate_meter_size(&lim);
}

/* Copies at most cap-1 bytes and a NUL; returns the copied length. */
static size_t slate_ngx_cpy(char *dst, size_t cap, const u_char *src, size_t len)
{
    if (len >= cap) {
        len = cap - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

static slate_ngx_zone_ctx_t *slate_ngx_ctx(slate_ngx_main_conf_t *mcf)
{
    if (mcf == NULL || mcf->zone == NULL) {
        return NULL;
    }
    slate_ngx_zone_ctx_t *z = mcf->zone->data;
    return z->sh != NULL ? z : NULL;
}

/* ---- directives ---- */

static char *slate_ngx_bad(ngx_conf_t *cf, ngx_command_t *cmd, ngx_str_t *v, const char *why)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": invalid value \"%V\": %s", &cmd->name, v,
                       why);
    return NGX_CONF_ERROR;
}

static ngx_int_t slate_ngx_shm_init(ngx_shm_zone_t *shm_zone, void *data)
{
    slate_ngx_zone_ctx_t *z = shm_zone->data;
    slate_ngx_zone_ctx_t *old = data;
    z->shpool = (ngx_slab_pool_t *)shm_zone->shm.addr;
    slate_ngx_shm_t *sh = NULL;
    if (old != NULL) {
        sh = old->sh;
    } else if (shm_zone->shm.exists) {
        sh = z->shpool->data;
    }
    const slate_ngx_main_conf_t *conf = (const slate_ngx_main_conf_t *)(z + 1);
    if (sh != NULL) {
        if (sh->magic != SLATE_NGX_MAGIC || sh->version != SLATE_NGX_VERSION ||
            sh->max_endpoints != conf->max_endpoints || sh->max_rules != conf->max_rules ||
            sh->max_spans != conf->max_spans) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "slate_zone \"%V\": slate_max_endpoints, slate_max_rules or "
                          "slate_max_spans changed; a reload keeps the zone, so give the zone "
                          "a new name or size to change them",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }
        /* A reload inherits the zone: check the measurements before trusting
         * them (old workers may still write, so under the zone's lock). A
         * table that does not validate is started over; the rules stay. */
        ngx_shmtx_lock(&z->shpool->mutex);
        slate_meter_limits_t lim = slate_ngx_meter_limits(sh->max_endpoints, sh->max_spans);
        size_t mlen = slate_meter_size(&lim);
        slate_meter_t *m = NULL;
        if (sh->meter_len != mlen ||
            slate_meter_attach(slate_ngx_meter(sh), mlen, &m) != SLATE_OK) {
            sh->meter_len = (uint32_t)mlen;
            if (slate_meter_init(slate_ngx_meter(sh), mlen, &lim, NULL) != SLATE_OK) {
                ngx_shmtx_unlock(&z->shpool->mutex);
                return NGX_ERROR;
            }
            ngx_log_error(NGX_LOG_ALERT, shm_zone->shm.log, 0,
                          "slate_zone \"%V\": the measurement table did not validate and was "
                          "started over; the rules in force are kept",
                          &shm_zone->shm.name);
        }
        ngx_shmtx_unlock(&z->shpool->mutex);
        z->sh = sh;
        return NGX_OK;
    }
    sh = ngx_slab_alloc(z->shpool, z->need);
    if (sh == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "slate_zone \"%V\" of %uz bytes cannot hold %uz bytes of tables",
                      &shm_zone->shm.name, shm_zone->shm.size, z->need);
        return NGX_ERROR;
    }
    ngx_memzero(sh, z->need);
    sh->magic = SLATE_NGX_MAGIC;
    sh->version = SLATE_NGX_VERSION;
    sh->max_endpoints = (uint32_t)conf->max_endpoints;
    sh->max_rules = (uint32_t)conf->max_rules;
    sh->max_spans = (uint32_t)conf->max_spans;
    slate_meter_limits_t lim = slate_ngx_meter_limits(conf->max_endpoints, conf->max_spans);
    sh->meter_len = (uint32_t)slate_meter_size(&lim);
    if (slate_meter_init(slate_ngx_meter(sh), sh->meter_len, &lim, NULL) != SLATE_OK) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "slate_zone \"%V\": cannot lay out the measurement table",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }
    z->shpool->data = sh;
    z->sh = sh;
    return NGX_OK;
}

static char *slate_ngx_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    slate_ngx_main_conf_t *mcf = conf;
    ngx_str_t *value = cf->args->elts;
    if (mcf->zone_name.len) {
        return "is duplicate";
    }
    if (value[1].len == 0) {
        return slate_ngx_bad(cf, cmd, &value[1], "the zone needs a name");
    }
    ssize_t size = ngx_parse_size(&value[2]);
    if (size == NGX_ERROR || size < (ssize_t)(64 * 1024)) {
        return slate_ngx_bad(cf, cmd, &value[2], "the size must be at least 64k");
    }
    mcf->zone_name = value[1];
    mcf->zone_size = (size_t)size;
    return NGX_CONF_OK;
}

static char *slate_ngx_name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t *field = (ngx_str_t *)(void *)((char *)conf + cmd->offset);
    ngx_str_t *value = cf->args->elts;
    if (field->data != NULL) {
        return "is duplicate";
    }
    if (value[1].len == 0 || value[1].len >= SLATE_NGX_NAME_CAP) {
        return slate_ngx_bad(cf, cmd, &value[1], "a name is 1 to 63 bytes");
    }
    for (size_t i = 0; i < value[1].len; i++) {
        u_char c = value[1].data[i];
        if (c <= ' ' || c == 0x7f || c == ',' || c == '"' || c == '\\' || c == '@') {
            return slate_ngx_bad(cf, cmd, &value[1],
                                 "a name has no spaces, control bytes, ',', '\"', '\\' or '@'");
        }
    }
    *field = value[1];
    return NGX_CONF_OK;
}

static char *slate_ngx_controller(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    slate_ngx_main_conf_t *mcf = conf;
    ngx_str_t *value = cf->args->elts;
    if (mcf->controller.url.len) {
        return "is duplicate";
    }
    ngx_str_t u = value[1];
    if (u.len > 7 && ngx_strncmp(u.data, "http://", 7) == 0) {
        u.data += 7;
        u.len -= 7;
    }
    mcf->controller.url = u;
    mcf->controller.no_resolve = 0;
    mcf->controller.uri_part = 0;
    if (ngx_parse_url(cf->pool, &mcf->controller) != NGX_OK || mcf->controller.naddrs == 0 ||
        mcf->controller.no_port) {
        return slate_ngx_bad(cf, cmd, &value[1],
                             mcf->controller.err ? mcf->controller.err
                                                 : "expected host:port (http:// optional)");
    }
    return NGX_CONF_OK;
}

static char *slate_ngx_msec(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_msec_t *field = (ngx_msec_t *)(void *)((char *)conf + cmd->offset);
    const slate_ngx_bounds_t *b = cmd->post;
    ngx_str_t *value = cf->args->elts;
    if (*field != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }
    ngx_int_t ms = ngx_parse_time(&value[1], 0);
    if (ms == NGX_ERROR || (ngx_uint_t)ms < b->lo || (ngx_uint_t)ms > b->hi) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid value \"%V\": expected a time from %uims to %uims "
                           "(e.g. 500ms, 2s)",
                           &cmd->name, &value[1], b->lo, b->hi);
        return NGX_CONF_ERROR;
    }
    *field = (ngx_msec_t)ms;
    return NGX_CONF_OK;
}

static char *slate_ngx_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    double *field = (double *)(void *)((char *)conf + cmd->offset);
    ngx_str_t *value = cf->args->elts;
    char buf[32];
    if (value[1].len == 0 || value[1].len >= sizeof buf) {
        return slate_ngx_bad(cf, cmd, &value[1], "expected a number from 0 to 1");
    }
    memcpy(buf, value[1].data, value[1].len);
    buf[value[1].len] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
        return slate_ngx_bad(cf, cmd, &value[1], "expected a number from 0 to 1");
    }
    *field = v;
    return NGX_CONF_OK;
}

static char *slate_ngx_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_uint_t *field = (ngx_uint_t *)(void *)((char *)conf + cmd->offset);
    const slate_ngx_bounds_t *b = cmd->post;
    ngx_str_t *value = cf->args->elts;
    ngx_int_t n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || (ngx_uint_t)n < b->lo || (ngx_uint_t)n > b->hi) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid value \"%V\": expected an integer from %ui to %ui",
                           &cmd->name, &value[1], b->lo, b->hi);
        return NGX_CONF_ERROR;
    }
    *field = (ngx_uint_t)n;
    return NGX_CONF_OK;
}

static char *slate_ngx_size(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    size_t *field = (size_t *)(void *)((char *)conf + cmd->offset);
    const slate_ngx_bounds_t *b = cmd->post;
    ngx_str_t *value = cf->args->elts;
    ssize_t n = ngx_parse_size(&value[1]);
    if (n == NGX_ERROR || (size_t)n < b->lo || (size_t)n > b->hi) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid value \"%V\": expected a size from %ui to %ui bytes",
                           &cmd->name, &value[1], b->lo, b->hi);
        return NGX_CONF_ERROR;
    }
    *field = (size_t)n;
    return NGX_CONF_OK;
}

static char *slate_ngx_token_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    slate_ngx_main_conf_t *mcf = conf;
    ngx_str_t *value = cf->args->elts;
    ngx_str_t name = value[1];
    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    ngx_fd_t fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return slate_ngx_bad(cf, cmd, &value[1], "cannot open the file");
    }
    u_char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    ngx_close_file(fd);
    if (n <= 0 || n == (ssize_t)sizeof buf) {
        return slate_ngx_bad(cf, cmd, &value[1], "the token file is empty or over 4095 bytes");
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
        n--;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] <= ' ' || buf[i] >= 0x7f) {
            return slate_ngx_bad(cf, cmd, &value[1],
                                 "the token must be one line of printable ASCII");
        }
    }
    if (n == 0) {
        return slate_ngx_bad(cf, cmd, &value[1], "the token file is empty");
    }
    static const char pre[] = "Authorization: Bearer ";
    mcf->auth_header.len = sizeof pre - 1 + (size_t)n + 2;
    mcf->auth_header.data = ngx_pnalloc(cf->pool, mcf->auth_header.len);
    if (mcf->auth_header.data == NULL) {
        return NGX_CONF_ERROR;
    }
    u_char *p = ngx_cpymem(mcf->auth_header.data, pre, sizeof pre - 1);
    p = ngx_cpymem(p, buf, (size_t)n);
    *p++ = '\r';
    *p = '\n';
    return NGX_CONF_OK;
}

static char *slate_ngx_route(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    slate_ngx_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;
    if (lcf->route.data != NULL) {
        return "is duplicate";
    }
    ngx_str_t saved = lcf->route;
    lcf->route.data = NULL;
    ngx_command_t c = *cmd;
    c.offset = offsetof(slate_ngx_loc_conf_t, route);
    char *rc = slate_ngx_name(cf, &c, conf);
    if (rc != NGX_CONF_OK) {
        lcf->route = saved;
        return rc;
    }
    (void)value;
    return NGX_CONF_OK;
}

/* ---- status handler ---- */

static ngx_int_t slate_ngx_status_handler(ngx_http_request_t *r)
{
    slate_ngx_main_conf_t *mcf = ngx_http_get_module_main_conf(r, ngx_http_slate_module);
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(mcf);
    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (z == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    size_t cap = 1024 + (size_t)z->sh->max_rules * (SLATE_NGX_MAX_REGIONS * 96 + 512) +
                 (size_t)z->sh->max_endpoints * 2 * 640;
    u_char *buf = ngx_pnalloc(r->pool, cap);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    u_char *p = buf, *end = buf + cap;
    uint64_t now = slate_ngx_wall_ns();
    slate_ngx_shm_t *sh = z->sh;
    ngx_shmtx_lock(&z->shpool->mutex);
    slate_meter_t *m = slate_ngx_meter(sh);
    const slate_drops_t *drops = slate_meter_drops(m);
    p = ngx_slprintf(
        p, end,
        "{\"service\":\"%V\",\"region\":\"%V\",\"pid\":%P,\"lease_pid\":%P,"
        "\"sequence\":%uL,\"reports_ok\":%uL,\"rules_version\":%uL,"
        "\"rules_received\":%uL,\"rules_live\":%s,\"rules_expire_in_ms\":%L,"
        "\"endpoints_overflowed\":%uL,\"outbound_overflowed\":%uL,\"spans_dropped\":%uL,"
        "\"shm_bytes\":{\"header\":%uz,\"meter\":%uD,"
        "\"per_endpoint\":%uz,\"per_rule\":%uz,\"per_span\":%uz},\"failures\":{",
        &mcf->service, &mcf->region, ngx_pid, (ngx_pid_t)sh->lease.owner, sh->sequence,
        sh->reports_ok, sh->rules_version, sh->rules_received,
        slate_rules_state_at(sh->rules_expiry_ns, now) == SLATE_RULES_LIVE ? "true" : "false",
        sh->rules_expiry_ns ? ((int64_t)sh->rules_expiry_ns - (int64_t)now) / 1000000 : (int64_t)0,
        drops->endpoints_overflowed, drops->outbound_overflowed, drops->spans_dropped,
        sizeof(slate_ngx_shm_t), sh->meter_len, sizeof(slate_meter_entry_t),
        slate_ngx_ruleset_cap(2) - slate_ngx_ruleset_cap(1), sizeof(slate_meter_span_t));
    for (int k = 0; k < SLATE_FAIL_KINDS; k++) {
        p = ngx_slprintf(p, end, "%s\"%s\":%uL", k ? "," : "", slate_fail_names[k], sh->fail[k]);
    }
    p = ngx_slprintf(p, end, "},\"rules\":[");
    /* the ruleset's destinations by key (the names are hashed into it) */
    if (sh->ruleset_len) {
        const uint8_t *rs = slate_ngx_ruleset(sh);
        slate_ruleset_info_t info;
        slate_ruleset_info(rs, &info);
        for (uint32_t i = 0; i < info.n_rules; i++) {
            uint64_t key = 0;
            const void *t = slate_ruleset_entry(rs, i, &key, NULL);
            p = ngx_slprintf(p, end, "%s{\"key\":\"%016xL\",\"weights\":{", i ? "," : "", key);
            size_t n = t ? slate_sampler_count(t) : 0;
            for (size_t j = 0; j < n; j++) {
                uint16_t id = slate_sampler_region(t, j);
                const char *name = slate_ruleset_region_name(rs, id);
                p = ngx_slprintf(p, end, "%s\"%s\":%.6f", j ? "," : "", name ? name : "?",
                                 slate_sampler_probability(t, id));
            }
            p = ngx_slprintf(p, end, "}}");
        }
    }
    p = ngx_slprintf(p, end, "],\"endpoints\":[");
    for (uint32_t i = 0; i < slate_meter_count(m); i++) {
        const slate_meter_entry_t *e = slate_meter_entry(m, i);
        p = ngx_slprintf(p, end,
                         "%s{\"kind\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"dst\":\"%s\","
                         "\"region\":\"%s\",\"in_flight\":%uL,\"rps\":%.3f}",
                         i ? "," : "", e->kind == SLATE_METER_INBOUND ? "in" : "out", e->method,
                         e->path, e->service, e->region, e->in_flight, e->rate_rps);
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
    p = ngx_slprintf(p, end, "]}\n");

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = p - buf;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    ngx_buf_t *b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b->pos = buf;
    b->last = p;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    ngx_chain_t out = {b, NULL};
    return ngx_http_output_filter(r, &out);
}

static char *slate_ngx_protocol(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    slate_ngx_main_conf_t *mcf = conf;
    ngx_str_t *v = &((ngx_str_t *)cf->args->elts)[1];
    if (mcf->protocol != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }
    for (ngx_conf_enum_t *e = slate_ngx_protocols; e->name.len; e++) {
        if (e->name.len == v->len && ngx_strncmp(e->name.data, v->data, v->len) == 0) {
            mcf->protocol = e->value;
            return NGX_CONF_OK;
        }
    }
    return slate_ngx_bad(cf, cmd, v, "must be protobuf or slate-legacy");
}

static char *slate_ngx_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t *clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = slate_ngx_status_handler;
    return NGX_CONF_OK;
}

/* ---- configuration objects ---- */

static void *slate_ngx_create_main_conf(ngx_conf_t *cf)
{
    slate_ngx_main_conf_t *mcf = ngx_pcalloc(cf->pool, sizeof *mcf);
    if (mcf == NULL) {
        return NULL;
    }
    mcf->period = NGX_CONF_UNSET_MSEC;
    mcf->timeout = NGX_CONF_UNSET_MSEC;
    mcf->ttl = NGX_CONF_UNSET_MSEC;
    mcf->trace_rate = -1.0;
    mcf->max_endpoints = NGX_CONF_UNSET_UINT;
    mcf->max_rules = NGX_CONF_UNSET_UINT;
    mcf->max_spans = NGX_CONF_UNSET_UINT;
    mcf->max_response = NGX_CONF_UNSET_SIZE;
    mcf->protocol = NGX_CONF_UNSET_UINT;
    return mcf;
}

static char *slate_ngx_init_main_conf(ngx_conf_t *cf, void *conf)
{
    slate_ngx_main_conf_t *mcf = conf;
    ngx_conf_init_msec_value(mcf->period, 1000);
    ngx_conf_init_msec_value(mcf->timeout, mcf->period < 2000 ? mcf->period * 3 / 4 : 1500);
    ngx_conf_init_msec_value(mcf->ttl, 60000);
    if (mcf->trace_rate < 0.0) {
        mcf->trace_rate = 0.01;
    }
    ngx_conf_init_uint_value(mcf->max_endpoints, 64);
    ngx_conf_init_uint_value(mcf->max_rules, 64);
    ngx_conf_init_uint_value(mcf->max_spans, 128);
    ngx_conf_init_size_value(mcf->max_response, 1024 * 1024);
    ngx_conf_init_uint_value(mcf->protocol, SLATE_NGX_PROTOBUF);
    if (mcf->zone_name.len == 0) {
        if (mcf->service.len || mcf->region.len || mcf->controller.url.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "slate: \"slate_zone\" is required when slate_service, "
                               "slate_region or slate_controller is set");
            return NGX_CONF_ERROR;
        }
        return NGX_CONF_OK;
    }
    if (mcf->service.len == 0 || mcf->region.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "slate: \"slate_service\" and \"slate_region\" are required with "
                           "\"slate_zone\"");
        return NGX_CONF_ERROR;
    }
    if (mcf->timeout >= mcf->period) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"slate_controller_timeout\": invalid value %Mms: must be below "
                           "slate_report_period (%Mms)",
                           mcf->timeout, mcf->period);
        return NGX_CONF_ERROR;
    }
    if (mcf->pod.len == 0) {
        mcf->pod = cf->cycle->hostname;
        if (mcf->pod.len >= SLATE_NGX_NAME_CAP) {
            mcf->pod.len = SLATE_NGX_NAME_CAP - 1;
        }
    }
    size_t need = slate_ngx_shm_need(mcf->max_endpoints, mcf->max_rules, mcf->max_spans);
    /* the slab allocator rounds a large block up to whole pages and keeps its own header */
    size_t need_zone = need + need / 8 + 16 * ngx_pagesize;
    if (mcf->zone_size < need_zone) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"slate_zone\": invalid value \"%V\": size %uz is too small for "
                           "%ui endpoints, %ui rules and %ui spans; needs at least %uz",
                           &mcf->zone_name, mcf->zone_size, mcf->max_endpoints, mcf->max_rules,
                           mcf->max_spans, need_zone);
        return NGX_CONF_ERROR;
    }
    mcf->zone = ngx_shared_memory_add(cf, &mcf->zone_name, mcf->zone_size, &ngx_http_slate_module);
    if (mcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }
    if (mcf->zone->data != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"slate_zone\": zone \"%V\" is already used",
                           &mcf->zone_name);
        return NGX_CONF_ERROR;
    }
    /* the zone context carries a copy of the limits right behind it for slate_ngx_shm_init */
    slate_ngx_zone_ctx_t *z = ngx_pcalloc(cf->pool, sizeof *z + sizeof *mcf);
    if (z == NULL) {
        return NGX_CONF_ERROR;
    }
    z->need = need;
    memcpy(z + 1, mcf, sizeof *mcf);
    mcf->zone->init = slate_ngx_shm_init;
    mcf->zone->data = z;
    return NGX_CONF_OK;
}

static void *slate_ngx_create_loc_conf(ngx_conf_t *cf)
{
    slate_ngx_loc_conf_t *lcf = ngx_pcalloc(cf->pool, sizeof *lcf);
    if (lcf == NULL) {
        return NULL;
    }
    lcf->measure = NGX_CONF_UNSET;
    return lcf;
}

static char *slate_ngx_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    slate_ngx_loc_conf_t *prev = parent, *conf = child;
    ngx_conf_merge_value(conf->measure, prev->measure, 0);
    slate_ngx_main_conf_t *mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_slate_module);
    if ((conf->measure || conf->route.len) && mcf->zone_name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "slate: \"slate_measure\" and \"slate_route\" need \"slate_zone\", "
                           "\"slate_service\" and \"slate_region\" in the http block");
        return NGX_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

/* ---- per-request measurement ---- */

/* The request's method and normalised path, as the meter and the rules key
 * them: computed once per request (no lock held), kept in its context.
 * Returns 0 when the method does not fit an entry. */
static int slate_ngx_describe(ngx_http_request_t *r, slate_ngx_req_ctx_t *ctx)
{
    if (!ctx->described) {
        ctx->described = 1;
        ctx->describable = r->method_name.len != 0 && r->method_name.len <= SLATE_METER_MAX_METHOD;
        ctx->method_len = (uint8_t)slate_ngx_cpy(ctx->method, sizeof ctx->method,
                                                 r->method_name.data, r->method_name.len);
        size_t pl = 0;
        if (slate_path_normalize((const char *)r->uri.data, r->uri.len, ctx->path, sizeof ctx->path,
                                 &pl) != SLATE_OK) {
            pl = slate_ngx_cpy(ctx->path, sizeof ctx->path, (const u_char *)"/", 1);
        }
        ctx->path_len = (uint16_t)pl;
    }
    return ctx->describable;
}

static slate_ngx_req_ctx_t *slate_ngx_req_ctx(ngx_http_request_t *r)
{
    slate_ngx_req_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_slate_module);
    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof *ctx);
        if (ctx == NULL) {
            return NULL;
        }
        ctx->start_mono_ns = slate_ngx_clock(CLOCK_MONOTONIC);
        ctx->start_real_ns = slate_ngx_clock(CLOCK_REALTIME);
        ngx_http_set_ctx(r, ctx, ngx_http_slate_module);
    }
    return ctx;
}

static ngx_int_t slate_ngx_arrival_handler(ngx_http_request_t *r)
{
    if (r != r->main) {
        return NGX_DECLINED;
    }
    slate_ngx_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_slate_module);
    slate_ngx_main_conf_t *mcf = ngx_http_get_module_main_conf(r, ngx_http_slate_module);
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(mcf);
    if (z == NULL || (!lcf->measure && lcf->route.len == 0)) {
        return NGX_DECLINED;
    }
    slate_ngx_req_ctx_t *ctx = slate_ngx_req_ctx(r);
    if (ctx == NULL || ctx->counted || !lcf->measure) {
        return NGX_DECLINED;
    }
    if (!slate_ngx_describe(r, ctx)) {
        return NGX_DECLINED;
    }
    ngx_shmtx_lock(&z->shpool->mutex);
    slate_meter_t *m = slate_ngx_meter(z->sh);
    uint32_t id;
    if (slate_meter_inbound(m, ctx->method, ctx->method_len, ctx->path, ctx->path_len, &id) ==
            SLATE_OK &&
        slate_meter_arrive(m, id, &ctx->rps_at_arrival, &ctx->in_flight_at_arrival) == SLATE_OK) {
        ctx->in_id = id;
        ctx->counted = 1;
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
    return NGX_DECLINED;
}

/* A b3 header's value if it is 1..cap-1 hex digits. */
static ngx_str_t slate_ngx_hex_header(ngx_http_request_t *r, const char *name, size_t cap)
{
    ngx_str_t none = ngx_null_string;
    ngx_list_part_t *part = &r->headers_in.headers.part;
    ngx_table_elt_t *h = part->elts;
    size_t nlen = strlen(name);
    for (ngx_uint_t i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        if (h[i].key.len == nlen && ngx_strncasecmp(h[i].key.data, (u_char *)name, nlen) == 0) {
            if (h[i].value.len == 0 || h[i].value.len >= cap) {
                return none;
            }
            for (size_t k = 0; k < h[i].value.len; k++) {
                if (!isxdigit(h[i].value.data[k])) {
                    return none;
                }
            }
            return h[i].value;
        }
    }
    return none;
}

/* Fills a span of this request when its trace is sampled; returns 1 then. */
static int slate_ngx_span(ngx_http_request_t *r, slate_ngx_main_conf_t *mcf,
                          slate_ngx_req_ctx_t *ctx, uint64_t lat, slate_meter_span_t *span)
{
    if (mcf->trace_rate <= 0.0) {
        return 0;
    }
    /* The decision is the trace id's (slate_trace_sampled(), key.h): every
     * hop of a trace samples alike, as the wasm filter does, so the
     * controller's calls per request are the call graph's real ones. */
    ngx_str_t tid = slate_ngx_hex_header(r, "x-b3-traceid", SLATE_NGX_TRACE_CAP);
    if (tid.len == 0 ||
        slate_trace_sampled((const char *)tid.data, tid.len, mcf->trace_rate) != 1) {
        return 0;
    }
    ngx_str_t sid = slate_ngx_hex_header(r, "x-b3-spanid", SLATE_NGX_SPAN_ID_CAP);
    if (sid.len == 0) {
        return 0;
    }
    ngx_memzero(span, sizeof *span);
    ngx_str_t pid = slate_ngx_hex_header(r, "x-b3-parentspanid", SLATE_NGX_SPAN_ID_CAP);
    span->entry = ctx->in_id;
    span->trace_len =
        (uint8_t)slate_ngx_cpy(span->trace_id, sizeof span->trace_id, tid.data, tid.len);
    span->span_len = (uint8_t)slate_ngx_cpy(span->span_id, sizeof span->span_id, sid.data, sid.len);
    if (pid.len) {
        span->parent_len =
            (uint8_t)slate_ngx_cpy(span->parent_id, sizeof span->parent_id, pid.data, pid.len);
    }
    span->start_ns = ctx->start_real_ns;
    span->end_ns = ctx->start_real_ns + lat;
    span->body_size =
        r->headers_in.content_length_n > 0 ? (uint64_t)r->headers_in.content_length_n : 0;
    span->arrival_rps = ctx->rps_at_arrival;
    span->arrival_in_flight = ctx->in_flight_at_arrival;
    return 1;
}

static ngx_int_t slate_ngx_log_handler(ngx_http_request_t *r)
{
    slate_ngx_req_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_slate_module);
    if (ctx == NULL || r != r->main) {
        return NGX_OK;
    }
    slate_ngx_main_conf_t *mcf = ngx_http_get_module_main_conf(r, ngx_http_slate_module);
    slate_ngx_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_slate_module);
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(mcf);
    if (z == NULL) {
        return NGX_OK;
    }
    uint64_t now_mono = slate_ngx_clock(CLOCK_MONOTONIC);
    uint64_t lat = now_mono > ctx->start_mono_ns ? now_mono - ctx->start_mono_ns : 0;
    slate_meter_span_t span;
    int want_span = ctx->counted && z->sh->max_spans > 0 && slate_ngx_span(r, mcf, ctx, lat, &span);
    int outbound = lcf->route.len && ctx->region_len && slate_ngx_describe(r, ctx);
    ngx_shmtx_lock(&z->shpool->mutex);
    slate_meter_t *m = slate_ngx_meter(z->sh);
    if (ctx->counted) {
        (void)slate_meter_depart(m, ctx->in_id, lat);
        ctx->counted = 0;
        if (want_span) {
            (void)slate_meter_add_span(m, &span); /* a full buffer is counted as a drop */
        }
    }
    uint32_t id;
    if (outbound && slate_meter_outbound(m, (const char *)lcf->route.data, lcf->route.len,
                                         ctx->method, ctx->method_len, ctx->path, ctx->path_len,
                                         ctx->region, ctx->region_len, &id) == SLATE_OK) {
        (void)slate_meter_complete(m, id, lat);
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
    return NGX_OK;
}

/* ---- $slate_region ---- */

static ngx_int_t slate_ngx_region_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                           uintptr_t data)
{
    slate_ngx_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_slate_module);
    slate_ngx_main_conf_t *mcf = ngx_http_get_module_main_conf(r, ngx_http_slate_module);
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(mcf);
    if (z == NULL || lcf->route.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }
    slate_ngx_req_ctx_t *ctx = slate_ngx_req_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }
    if (ctx->region_len == 0) {
        (void)slate_ngx_describe(r, ctx); /* the path as the rules key it, outside the lock */
        uint64_t now = slate_ngx_wall_ns();
        uint64_t draw = slate_rng_next(&slate_rng);
        ngx_shmtx_lock(&z->shpool->mutex);
        slate_ngx_shm_t *sh = z->sh;
        if (sh->ruleset_len && slate_rules_state_at(sh->rules_expiry_ns, now) == SLATE_RULES_LIVE) {
            const uint8_t *rs = slate_ngx_ruleset(sh);
            uint16_t id = slate_ruleset_route(rs, (const char *)lcf->route.data, lcf->route.len,
                                              (const char *)r->method_name.data, r->method_name.len,
                                              ctx->path, ctx->path_len, NULL, draw);
            const char *chosen =
                id == SLATE_RULESET_NO_REGION ? NULL : slate_ruleset_region_name(rs, id);
            if (chosen != NULL) {
                ctx->region_len = slate_ngx_cpy(ctx->region, sizeof ctx->region,
                                                (const u_char *)chosen, ngx_strlen(chosen));
            }
        }
        ngx_shmtx_unlock(&z->shpool->mutex);
        if (ctx->region_len == 0) { /* no rule in force: the local region */
            ctx->region_len =
                slate_ngx_cpy(ctx->region, sizeof ctx->region, mcf->region.data, mcf->region.len);
        }
    }
    v->data = (u_char *)ctx->region;
    v->len = (unsigned)ctx->region_len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
}

static ngx_int_t slate_ngx_add_variables(ngx_conf_t *cf)
{
    ngx_str_t name = ngx_string("slate_region");
    ngx_http_variable_t *var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }
    var->get_handler = slate_ngx_region_variable;
    return NGX_OK;
}

static ngx_int_t slate_ngx_postconf(ngx_conf_t *cf)
{
    ngx_http_core_main_conf_t *cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    ngx_http_handler_pt *h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = slate_ngx_arrival_handler;
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = slate_ngx_log_handler;
    return NGX_OK;
}

/* ---- reporting ---- */

static void slate_ngx_fail(slate_ngx_zone_ctx_t *z, int kind, ngx_log_t *log, const char *detail)
{
    int log_it;
    ngx_shmtx_lock(&z->shpool->mutex);
    z->sh->fail[kind]++;
    log_it = !(z->sh->fail_logged & (1u << kind));
    z->sh->fail_logged |= 1u << kind;
    ngx_shmtx_unlock(&z->shpool->mutex);
    if (log_it) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "slate: report to the controller failed (%s): %s; keeping the last good "
                      "rules until their TTL (logged once until the controller answers again)",
                      slate_fail_names[kind], detail);
    }
}

static void slate_ngx_exchange_done(slate_ngx_exchange_t *ex)
{
    if (ex->pc.connection != NULL) {
        ngx_close_connection(ex->pc.connection);
        ex->pc.connection = NULL;
    }
    if (slate_busy == ex) {
        slate_busy = NULL;
    }
    ngx_destroy_pool(ex->pool);
}

/* A good answer, under the zone's lock: the rules live until `expiry`, and
 * every failure kind may be logged again. */
static void slate_ngx_answer_ok(slate_ngx_shm_t *sh, uint64_t expiry)
{
    sh->rules_expiry_ns = expiry;
    sh->rules_received++;
    sh->reports_ok++;
    sh->fail_logged = 0;
    sh->rules_expired_logged = 0;
}

/* Stores decoded rules in the zone. Returns NULL on success or what is wrong. */
static const char *slate_ngx_store_rules(slate_ngx_exchange_t *ex, slate_ngx_zone_ctx_t *z,
                                         const u_char *body, size_t len)
{
    slate_ngx_main_conf_t *mcf = ex->mcf;
    slate_routing_rules_t rr;
    ngx_memzero(&rr, sizeof rr);
    rr.cap_rules = mcf->max_rules * 4;
    rr.cap_targets = rr.cap_rules * SLATE_NGX_MAX_REGIONS;
    rr.rules = ngx_palloc(ex->pool, rr.cap_rules * sizeof *rr.rules);
    rr.targets = ngx_palloc(ex->pool, rr.cap_targets * sizeof *rr.targets);
    if (rr.rules == NULL || rr.targets == NULL) {
        return "out of memory";
    }
    slate_codec_error_t err;
    int legacy = mcf->protocol == SLATE_NGX_LEGACY;
    slate_status st = legacy ? slate_legacy_rules_decode(&rr, (const char *)body, len, NULL, &err)
                             : slate_routing_rules_decode(&rr, body, len, NULL, &err);
    if (st != SLATE_OK) {
        char *msg = ngx_pnalloc(ex->pool, 256);
        if (msg != NULL) {
            (void)slate_codec_error_format(&err, msg, 256);
        }
        return msg != NULL ? msg : "RoutingRules do not decode";
    }
    uint64_t now = slate_ngx_wall_ns();
    uint64_t expiry = slate_rules_expiry(rr.generated_ns, rr.ttl_ns, now, mcf->ttl * 1000000ull);
    uint64_t text_hash = legacy ? ((uint64_t)ngx_crc32_long((u_char *)body, len) << 32) | len : 0;
    ngx_shmtx_lock(&z->shpool->mutex);
    slate_ngx_shm_t *sh = z->sh;
    if (legacy) {
        /* SLATE's text has no version: the same text is the same version */
        rr.version = sh->ruleset_len != 0 && text_hash == sh->legacy_hash ? sh->rules_version
                                                                          : sh->rules_version + 1;
    }
    if (slate_rules_renews(sh->ruleset_len != 0, sh->rules_version, rr.version)) {
        /* the rules in force, again: only their time to live is renewed */
        slate_ngx_answer_ok(sh, expiry);
        ngx_shmtx_unlock(&z->shpool->mutex);
        return NULL;
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
    /* the core compiles the rules of this proxy (region, service) */
    char service[SLATE_NGX_NAME_CAP], region[SLATE_NGX_NAME_CAP];
    slate_ngx_cpy(service, sizeof service, mcf->service.data, mcf->service.len);
    slate_ngx_cpy(region, sizeof region, mcf->region.data, mcf->region.len);
    slate_ruleset_compile_params_t cp = {
        .service = service,
        .region = region,
        .max_regions = SLATE_NGX_MAX_REGIONS - 1,
        .max_rules = mcf->max_rules,
        .max_name = SLATE_NGX_NAME_CAP - 1,
        .max_method = SLATE_METER_MAX_METHOD,
        .max_path = SLATE_PATH_NORM_CAP - 1,
        .caller_rate = NULL, /* caller-specific rules of one destination mix equally */
    };
    size_t slen = slate_ruleset_compile_scratch(rr.n_rules, cp.max_regions);
    size_t cap = slate_ngx_ruleset_cap(mcf->max_rules);
    void *scratch = ngx_palloc(ex->pool, slen);
    uint8_t *fresh = ngx_palloc(ex->pool, cap);
    if (scratch == NULL || fresh == NULL) {
        return "out of memory";
    }
    size_t fresh_len = 0;
    const char *why = NULL;
    st = slate_ruleset_compile(&rr, &cp, scratch, slen, fresh, cap, &fresh_len, &why);
    if (st != SLATE_OK) {
        return why != NULL ? why : "the rules do not compile";
    }
    ngx_shmtx_lock(&z->shpool->mutex);
    memcpy(slate_ngx_ruleset(sh), fresh, fresh_len);
    sh->ruleset_len = (uint32_t)fresh_len;
    sh->rules_version = rr.version;
    sh->legacy_hash = text_hash;
    slate_ngx_answer_ok(sh, expiry);
    ngx_shmtx_unlock(&z->shpool->mutex);
    return NULL;
}

static void slate_ngx_exchange_finish(slate_ngx_exchange_t *ex)
{
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(ex->mcf);
    ngx_log_t *log = ngx_cycle->log;
    u_char *buf = ex->in, *end = ex->in + ex->in_len;
    u_char *hdr_end = ngx_strnstr(buf, "\r\n\r\n", ex->in_len);
    if (hdr_end == NULL || ex->in_len < 12 || ngx_strncmp(buf, "HTTP/1.", 7) != 0) {
        slate_ngx_fail(z, SLATE_FAIL_STATUS, log, "the answer is not an HTTP/1.x response");
        slate_ngx_exchange_done(ex);
        return;
    }
    ngx_int_t status = ngx_atoi(buf + 9, 3);
    if (status < 200 || status > 299) {
        char detail[64];
        ngx_snprintf((u_char *)detail, sizeof detail, "HTTP status %i%Z", status);
        slate_ngx_fail(z, SLATE_FAIL_STATUS, log, detail);
        slate_ngx_exchange_done(ex);
        return;
    }
    u_char *body = hdr_end + 4;
    size_t body_len = (size_t)(end - body);
    /* a declared length must be met exactly (the connection closes after the answer) */
    for (u_char *p = buf; p + 16 < hdr_end; p++) {
        if (p[0] == '\n' && ngx_strncasecmp(p + 1, (u_char *)"content-length:", 15) == 0) {
            u_char *v = p + 16;
            while (v < hdr_end && *v == ' ') {
                v++;
            }
            u_char *e = v;
            while (e < hdr_end && *e >= '0' && *e <= '9') {
                e++;
            }
            ngx_int_t cl = ngx_atoi(v, (size_t)(e - v));
            if (cl < 0 || (size_t)cl != body_len) {
                slate_ngx_fail(z, SLATE_FAIL_STATUS, log,
                               "the body length does not match Content-Length");
                slate_ngx_exchange_done(ex);
                return;
            }
        }
        if (p[0] == '\n' && ngx_strncasecmp(p + 1, (u_char *)"transfer-encoding:", 18) == 0) {
            slate_ngx_fail(z, SLATE_FAIL_STATUS, log, "a chunked answer (not supported)");
            slate_ngx_exchange_done(ex);
            return;
        }
    }
    const char *why = slate_ngx_store_rules(ex, z, body, body_len);
    if (why != NULL) {
        slate_ngx_fail(z, SLATE_FAIL_BAD_RULES, log, why);
    }
    slate_ngx_exchange_done(ex);
}

static void slate_ngx_read_handler(ngx_event_t *rev)
{
    ngx_connection_t *c = rev->data;
    slate_ngx_exchange_t *ex = c->data;
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(ex->mcf);
    if (rev->timedout) {
        slate_ngx_fail(z, SLATE_FAIL_TIMEOUT, c->log, "no complete answer within the timeout");
        slate_ngx_exchange_done(ex);
        return;
    }
    for (;;) {
        if (ex->in_len == ex->in_cap) {
            slate_ngx_fail(z, SLATE_FAIL_OVERSIZED, c->log,
                           "the answer is larger than slate_max_response");
            slate_ngx_exchange_done(ex);
            return;
        }
        ssize_t n = c->recv(c, ex->in + ex->in_len, ex->in_cap - ex->in_len);
        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                slate_ngx_fail(z, SLATE_FAIL_CONNECT, c->log, "cannot wait for the answer");
                slate_ngx_exchange_done(ex);
            }
            return;
        }
        if (n == NGX_ERROR) {
            slate_ngx_fail(z, SLATE_FAIL_CONNECT, c->log, "reading the answer failed");
            slate_ngx_exchange_done(ex);
            return;
        }
        if (n == 0) {
            if (rev->timer_set) {
                ngx_del_timer(rev);
            }
            slate_ngx_exchange_finish(ex);
            return;
        }
        ex->in_len += (size_t)n;
    }
}

static void slate_ngx_write_handler(ngx_event_t *wev)
{
    ngx_connection_t *c = wev->data;
    slate_ngx_exchange_t *ex = c->data;
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(ex->mcf);
    if (wev->timedout) {
        slate_ngx_fail(z, SLATE_FAIL_TIMEOUT, c->log, "connecting or sending timed out");
        slate_ngx_exchange_done(ex);
        return;
    }
    while (ex->out_pos < ex->out_end) {
        ssize_t n = c->send(c, ex->out_pos, (size_t)(ex->out_end - ex->out_pos));
        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                slate_ngx_fail(z, SLATE_FAIL_CONNECT, c->log, "cannot wait to send");
                slate_ngx_exchange_done(ex);
            }
            return;
        }
        if (n == NGX_ERROR || n <= 0) {
            slate_ngx_fail(z, SLATE_FAIL_CONNECT, c->log, "connecting or sending failed");
            slate_ngx_exchange_done(ex);
            return;
        }
        ex->out_pos += n;
    }
    /* everything sent: the rest of the deadline belongs to the answer */
    wev->handler = NULL;
    if (wev->timer_set) {
        ngx_del_timer(wev);
    }
    wev->handler = slate_ngx_write_handler;
    if (!c->read->timer_set) {
        ngx_add_timer(c->read, ex->mcf->timeout);
    }
    if (c->read->ready) {
        slate_ngx_read_handler(c->read);
    }
}

/* Builds the tick's LoadReport from the zone (resetting what it took) into ex->out. */
static const char *slate_ngx_build_report(slate_ngx_exchange_t *ex, slate_ngx_zone_ctx_t *z,
                                          uint64_t now_ns)
{
    slate_ngx_main_conf_t *mcf = ex->mcf;
    slate_ngx_shm_t *sh = z->sh;
    slate_meter_t *m = slate_ngx_meter(sh);
    size_t cap = 2 * (size_t)sh->max_endpoints, n_sp = sh->max_spans;
    slate_meter_entry_t *eps = ngx_palloc(ex->pool, cap * sizeof *eps);
    slate_meter_span_t *spans = ngx_palloc(ex->pool, (n_sp ? n_sp : 1) * sizeof *spans);
    if (eps == NULL || spans == NULL) {
        return "out of memory";
    }
    uint64_t seq, start_ns;
    uint32_t n, got_spans;
    slate_drops_t drops;
    ngx_shmtx_lock(&z->shpool->mutex);
    seq = ++sh->sequence;
    start_ns = sh->tick_start_ns ? sh->tick_start_ns : now_ns - mcf->period * 1000000ull;
    sh->tick_start_ns = now_ns;
    got_spans = slate_meter_take_spans(m, spans, (uint32_t)n_sp);
    n = slate_meter_count(m);
    ngx_shmtx_unlock(&z->shpool->mutex);
    uint64_t interval_ns = now_ns > start_ns ? now_ns - start_ns : mcf->period * 1000000ull;
    /* one entry per lock hold so requests never wait for the whole table;
     * the entry's rate gauge becomes this interval's arrival rate */
    if (n > cap) {
        n = (uint32_t)cap;
    }
    for (uint32_t i = 0; i < n; i++) {
        ngx_shmtx_lock(&z->shpool->mutex);
        (void)slate_meter_take(m, i, interval_ns, &eps[i]);
        ngx_shmtx_unlock(&z->shpool->mutex);
    }
    slate_meter_report_mem_t mem;
    slate_meter_report_need(eps, n, spans, got_spans, SLATE_METER_LOADS_OWN, &mem);
    mem.inbound = ngx_pcalloc(ex->pool, (mem.cap_inbound + 1) * sizeof *mem.inbound);
    mem.outbound = ngx_pcalloc(ex->pool, (mem.cap_outbound + 1) * sizeof *mem.outbound);
    mem.spans = ngx_pcalloc(ex->pool, (mem.cap_spans + 1) * sizeof *mem.spans);
    mem.loads = ngx_pcalloc(ex->pool, (mem.cap_loads + 1) * sizeof *mem.loads);
    if (mem.inbound == NULL || mem.outbound == NULL || mem.spans == NULL || mem.loads == NULL) {
        return "out of memory";
    }
    slate_load_report_t rep;
    ngx_memzero(&rep, sizeof rep);
    if (slate_meter_report_from(eps, n, spans, got_spans, SLATE_METER_LOADS_OWN, &mem, &rep) !=
        SLATE_OK) {
        return "the report does not build";
    }
    rep.service = (slate_str_t){(const char *)mcf->service.data, mcf->service.len};
    rep.region = (slate_str_t){(const char *)mcf->region.data, mcf->region.len};
    rep.pod = (slate_str_t){(const char *)mcf->pod.data, mcf->pod.len};
    rep.sequence = seq;
    rep.time_ns = slate_ngx_clock(CLOCK_REALTIME);
    rep.interval_ns = interval_ns;
    ngx_shmtx_lock(&z->shpool->mutex);
    drops = *slate_meter_drops(m);
    drops.post_failed_network = sh->fail[SLATE_FAIL_CONNECT];
    drops.post_failed_timeout = sh->fail[SLATE_FAIL_TIMEOUT];
    drops.post_failed_status = sh->fail[SLATE_FAIL_STATUS] + sh->fail[SLATE_FAIL_OVERSIZED];
    drops.post_failed_too_large = sh->fail[SLATE_FAIL_ENCODE];
    drops.rules_rejected = sh->fail[SLATE_FAIL_BAD_RULES];
    ngx_shmtx_unlock(&z->shpool->mutex);
    rep.drops = drops;

    int legacy = mcf->protocol == SLATE_NGX_LEGACY;
    size_t body_len = 0;
    slate_status st = legacy ? slate_legacy_proxyload_encode(&rep, NULL, NULL, 0, &body_len, NULL)
                             : slate_load_report_encode(&rep, NULL, 0, &body_len, NULL);
    if (st != SLATE_ENOSPC && st != SLATE_OK) {
        return "the report does not encode";
    }
    u_char *req = ngx_pnalloc(ex->pool, body_len + 1024 + mcf->auth_header.len);
    if (req == NULL) {
        return "out of memory";
    }
    u_char *p = ngx_sprintf(req,
                            "POST %s HTTP/1.1\r\nHost: %V\r\n"
                            "Content-Type: %s\r\nContent-Length: %uz\r\n"
                            "x-slate-servicename: %V\r\nx-slate-region: %V\r\n"
                            "x-slate-podname: %V\r\n%VConnection: close\r\n\r\n",
                            legacy ? "/proxyLoad" : "/v1/report", &mcf->controller.host,
                            legacy ? "text/plain" : "application/x-protobuf", body_len,
                            &mcf->service, &mcf->region, &mcf->pod, &mcf->auth_header);
    size_t wrote = 0;
    if ((legacy ? slate_legacy_proxyload_encode(&rep, NULL, (char *)p, body_len, &wrote, NULL)
                : slate_load_report_encode(&rep, p, body_len, &wrote, NULL)) != SLATE_OK) {
        return "the report does not encode";
    }
    ex->out = req;
    ex->out_pos = req;
    ex->out_end = p + wrote;
    return NULL;
}

static void slate_ngx_report(slate_ngx_main_conf_t *mcf, slate_ngx_zone_ctx_t *z, ngx_log_t *log)
{
    ngx_pool_t *pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        return;
    }
    slate_ngx_exchange_t *ex = ngx_pcalloc(pool, sizeof *ex);
    if (ex == NULL) {
        ngx_destroy_pool(pool);
        return;
    }
    ex->pool = pool;
    ex->mcf = mcf;
    const char *why = slate_ngx_build_report(ex, z, slate_ngx_clock(CLOCK_REALTIME));
    if (why != NULL) {
        slate_ngx_fail(z, SLATE_FAIL_ENCODE, log, why);
        ngx_destroy_pool(pool);
        return;
    }
    if (mcf->controller.url.len == 0) {
        ngx_destroy_pool(pool); /* measuring only: the tick still resets the counters */
        return;
    }
    ex->in_cap = mcf->max_response;
    ex->in = ngx_pnalloc(pool, ex->in_cap);
    if (ex->in == NULL) {
        ngx_destroy_pool(pool);
        return;
    }
    ex->pc.sockaddr = mcf->controller.addrs[0].sockaddr;
    ex->pc.socklen = mcf->controller.addrs[0].socklen;
    ex->pc.name = &mcf->controller.addrs[0].name;
    ex->pc.get = ngx_event_get_peer;
    ex->pc.log = log;
    ex->pc.log_error = NGX_ERROR_INFO; /* failures are counted and logged once by kind */
    ngx_int_t rc = ngx_event_connect_peer(&ex->pc);
    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (ex->pc.connection != NULL) {
            ngx_close_connection(ex->pc.connection);
            ex->pc.connection = NULL;
        }
        slate_ngx_fail(z, SLATE_FAIL_CONNECT, log, "cannot connect to slate_controller");
        ngx_destroy_pool(pool);
        return;
    }
    ngx_connection_t *c = ex->pc.connection;
    c->data = ex;
    c->pool = pool;
    c->read->handler = slate_ngx_read_handler;
    c->write->handler = slate_ngx_write_handler;
    slate_busy = ex;
    ngx_add_timer(c->write, mcf->timeout);
    if (rc == NGX_OK) {
        slate_ngx_write_handler(c->write);
    }
}

static void slate_ngx_tick(ngx_event_t *ev)
{
    slate_ngx_main_conf_t *mcf = ev->data == NULL ? NULL : slate_tick_conn.data;
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(mcf);
    if (z == NULL || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }
    ngx_msec_t now = ngx_current_msec;
    int mine = 0, report = 0;
    ngx_shmtx_lock(&z->shpool->mutex);
    slate_ngx_shm_t *sh = z->sh;
    slate_lease_t lease;
    slate_lease_result lr =
        slate_lease_claim(&sh->lease, (uint64_t)ngx_pid, (uint64_t)now * 1000000u,
                          (uint64_t)mcf->period * SLATE_NGX_LEASE_PERIODS * 1000000u, &lease);
    if (lr != SLATE_LEASE_HELD) {
        mine = lr == SLATE_LEASE_TAKEN_OVER ? 2 : 1;
        sh->lease = lease;
        if (sh->next_tick == 0 || (ngx_msec_int_t)(now - sh->next_tick) >= -5) {
            report = 1;
            sh->next_tick = now + mcf->period;
        }
    }
    int expired_now =
        slate_rules_state_at(sh->rules_expiry_ns, slate_ngx_wall_ns()) == SLATE_RULES_EXPIRED &&
        !sh->rules_expired_logged;
    if (expired_now) {
        sh->rules_expired_logged = 1;
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
    if (mine == 2) {
        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0, "slate: this worker took over the report lease");
    }
    if (expired_now) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "slate: the routing rules expired (no good answer within their TTL); "
                      "routing to the local region");
    }
    if (report && slate_busy == NULL) {
        slate_ngx_report(mcf, z, ev->log);
    }
    ngx_msec_t next = mine ? mcf->period : mcf->period / 2 + 1;
    if (mine) {
        ngx_msec_int_t left = (ngx_msec_int_t)(sh->next_tick - ngx_current_msec);
        next = left > 0 ? (ngx_msec_t)left : 1;
    }
    ngx_add_timer(ev, next);
}

static ngx_int_t slate_ngx_init_process(ngx_cycle_t *cycle)
{
    slate_ngx_main_conf_t *mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_slate_module);
    if (mcf == NULL || mcf->zone == NULL) {
        return NGX_OK;
    }
    slate_rng_seed(&slate_rng, slate_ngx_clock(CLOCK_REALTIME) ^ ((uint64_t)ngx_pid << 32) ^
                                   (uint64_t)(uintptr_t)&slate_rng);
    ngx_memzero(&slate_tick_conn, sizeof slate_tick_conn);
    slate_tick_conn.data = mcf;
    slate_tick_conn.fd = (ngx_socket_t)-1;
    ngx_memzero(&slate_tick_ev, sizeof slate_tick_ev);
    slate_tick_ev.handler = slate_ngx_tick;
    slate_tick_ev.data = &slate_tick_conn;
    slate_tick_ev.log = cycle->log;
    slate_tick_ev.cancelable = 1;
    ngx_add_timer(&slate_tick_ev, 1 + (ngx_msec_t)(slate_rng_next(&slate_rng) % mcf->period));
    return NGX_OK;
}

static void slate_ngx_exit_process(ngx_cycle_t *cycle)
{
    slate_ngx_main_conf_t *mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_slate_module);
    slate_ngx_zone_ctx_t *z = slate_ngx_ctx(mcf);
    if (z == NULL) {
        return;
    }
    /* hand the lease on at once: the next worker's tick reports */
    ngx_shmtx_lock(&z->shpool->mutex);
    if (z->sh->lease.owner == (uint64_t)ngx_pid) {
        z->sh->lease.owner = 0;
        z->sh->lease.expiry_ns = 0;
    }
    ngx_shmtx_unlock(&z->shpool->mutex);
}
