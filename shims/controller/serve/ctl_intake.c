/*
 * slate-controller: the one intake path of every report (ctl_intake.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_intake.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "ctl_serve.h"
#include "slate/legacy.h"
#include "slate/name.h"
#include "slate_opt.h"

slate_codec_limits_t ctl_intake_limits(const ctl_app_t *app)
{
    slate_codec_limits_t lim = SLATE_CODEC_LIMITS_DEFAULT;
    lim.max_size =
        app->cfg.max_body_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)app->cfg.max_body_bytes;
    return lim;
}

static bool fault(ctl_intake_fault_t *f, unsigned http, ctl_reject why, slate_status st,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static bool fault(ctl_intake_fault_t *f, unsigned http, ctl_reject why, slate_status st,
                  const char *fmt, ...)
{
    f->http = http;
    f->why = why;
    f->st = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    return false;
}

/* A codec error as one line, in f (400). */
static bool decode_fault(ctl_intake_fault_t *f, ctl_reject why, slate_status st,
                         slate_codec_error_t *err)
{
    if (err->status == SLATE_OK) {
        err->status = st;
        err->detail = slate_strerror(st);
    }
    char line[512];
    slate_codec_error_format(err, line, sizeof(line));
    return fault(f, 400, why, st, "%s", line);
}

bool ctl_intake_decode(const ctl_app_t *app, ctl_scratch_t *sc, const uint8_t *body, size_t len,
                       slate_load_report_t **rep, ctl_intake_fault_t *f)
{
    slate_codec_limits_t lim = ctl_intake_limits(app);
    slate_codec_error_t err;
    memset(&err, 0, sizeof(err));
    slate_status st = ctl_scratch_decode(sc, body, len, &lim, &err, rep);
    return st == SLATE_OK || decode_fault(f, CTL_REJECT_DECODE, st, &err);
}

/* SLATE names a workload "<service>-<region>"; strip the region suffix. */
static slate_str_t legacy_service(const char *svc, const char *region)
{
    size_t n = strlen(svc), rl = strlen(region);
    if (rl > 0 && n > rl + 1 && svc[n - rl - 1] == '-' && memcmp(svc + n - rl, region, rl) == 0)
        n -= rl + 1;
    slate_str_t s = {svc, n};
    return s;
}

bool ctl_intake_decode_legacy(const ctl_app_t *app, ctl_scratch_t *sc, bool latency,
                              const char *body, size_t len, const char *service, const char *region,
                              const char *pod, slate_load_report_t **rep, ctl_intake_fault_t *f)
{
    slate_codec_limits_t lim = ctl_intake_limits(app);
    slate_codec_error_t err;
    memset(&err, 0, sizeof(err));
    slate_status st = ctl_scratch_decode_legacy(sc, latency, body ? body : "", len, &lim, &err,
                                                slate_str(service), slate_str(region), rep);
    if (st != SLATE_OK)
        return decode_fault(f, CTL_REJECT_LEGACY, st, &err);
    slate_load_report_t *r = *rep;
    r->service = legacy_service(service, region);
    r->region = slate_str(region);
    r->pod = slate_str(pod ? pod : "");
    r->time_ns = ctl_now_ns();
    r->interval_ns = 1000000000ull; /* SLATE's plugin reports every second */
    return true;
}

/* A breach of one name, described as "<field>: <kind> <why>" in msg (true).
 * Apart from name_bad() so the check of a good name sets up none of this. */
static __attribute__((noinline, cold)) bool name_describe(slate_name_kind kind, slate_str_t s,
                                                          char *msg, size_t cap, const char *fmt,
                                                          size_t i, const char *leaf)
{
    const char *why = NULL;
    if (slate_name_check(kind, s.ptr, s.len, &why) == SLATE_OK)
        return false; /* not reached: name_bad() saw the breach */
    char field[96];
    snprintf(field, sizeof(field), fmt, i);
    snprintf(msg, cap, "SLATE_ENAME in %s%s: the %s %s", field, leaf, slate_name_kind_str(kind),
             why);
    return true;
}

/* Checks one name; on a breach writes "<field>: <kind> <why>" into msg. */
static inline bool name_bad(slate_name_kind kind, slate_str_t s, char *msg, size_t cap,
                            const char *fmt, size_t i, const char *leaf)
{
    if (slate_name_check(kind, s.ptr, s.len, NULL) == SLATE_OK)
        return false;
    return name_describe(kind, s, msg, cap, fmt, i, leaf);
}

/*
 * Checks every name of a decoded report against name.h's rules (services as
 * DNS-1123 labels, regions and pods as label values, methods as HTTP tokens,
 * paths as request paths). The first breach is described in msg ("SLATE_ENAME
 * in LoadReport.outbound[2].dst_region: the region must ..."); a report with
 * any bad name is refused whole, so nothing of it is merged.
 */
static bool report_names_bad(const slate_load_report_t *r, char *msg, size_t cap)
{
    if (name_bad(SLATE_NAME_SERVICE, r->service, msg, cap, "LoadReport", 0, ".service") ||
        name_bad(SLATE_NAME_REGION, r->region, msg, cap, "LoadReport", 0, ".region") ||
        name_bad(SLATE_NAME_POD, r->pod, msg, cap, "LoadReport", 0, ".pod"))
        return true;
    for (size_t i = 0; i < r->n_inbound; i++)
        if (name_bad(SLATE_NAME_METHOD, r->inbound[i].method, msg, cap, "LoadReport.inbound[%zu]",
                     i, ".method") ||
            name_bad(SLATE_NAME_PATH, r->inbound[i].path, msg, cap, "LoadReport.inbound[%zu]", i,
                     ".path"))
            return true;
    for (size_t i = 0; i < r->n_outbound; i++) {
        const slate_outbound_t *o = &r->outbound[i];
        const char *f = "LoadReport.outbound[%zu]";
        if (name_bad(SLATE_NAME_SERVICE, o->dst_service, msg, cap, f, i, ".dst_service") ||
            name_bad(SLATE_NAME_METHOD, o->method, msg, cap, f, i, ".method") ||
            name_bad(SLATE_NAME_PATH, o->path, msg, cap, f, i, ".path") ||
            (o->dst_region.len > 0 && /* empty: the region is not known (legacy) */
             name_bad(SLATE_NAME_REGION, o->dst_region, msg, cap, f, i, ".dst_region")))
            return true;
    }
    for (size_t i = 0; i < r->n_spans; i++)
        if (name_bad(SLATE_NAME_METHOD, r->spans[i].method, msg, cap, "LoadReport.spans[%zu]", i,
                     ".method") ||
            name_bad(SLATE_NAME_PATH, r->spans[i].path, msg, cap, "LoadReport.spans[%zu]", i,
                     ".path"))
            return true;
    return false;
}

/* A report timed further from our clock than max-clock-skew-ms: the 400's text in msg. */
static bool clock_skewed(const ctl_app_t *app, const slate_load_report_t *rep, char *msg,
                         size_t cap)
{
    uint64_t max = app->cfg.max_clock_skew_ms;
    if (max == 0 || rep->time_ns == 0)
        return false;
    uint64_t now = ctl_now_ns();
    uint64_t d = rep->time_ns > now ? rep->time_ns - now : now - rep->time_ns;
    if (d / 1000000u <= max)
        return false;
    snprintf(msg, cap,
             "SLATE_EVALUE in LoadReport.time_ns: %.3f s %s the controller's clock "
             "(max-clock-skew-ms %" PRIu64 ")",
             (double)d / 1e9, rep->time_ns > now ? "ahead of" : "behind", max);
    return true;
}

/* A load no proxy can carry (SLATE's plugin wraps its counter to ~4.6e18
 * rps): above SLATE_OPT_MAX_RATE requests/s, in a count over the report's
 * interval or in a rate. The 400's text in msg, naming the field. */
static bool load_implausible(const slate_load_report_t *rep, char *msg, size_t cap)
{
    double iv = rep->interval_ns > 0 ? (double)rep->interval_ns / 1e9 : 1.0;
    const char *field = NULL;
    size_t at = 0, k = 0;
    double v = 0;
    for (size_t i = 0; !field && i < rep->n_inbound; i++) {
        const slate_inbound_t *in = &rep->inbound[i];
        at = i;
        if ((v = (double)in->requests / iv) > SLATE_OPT_MAX_RATE)
            field = "inbound[%zu].requests";
        else if (!(in->rate_rps <= SLATE_OPT_MAX_RATE) && !isnan(v = in->rate_rps))
            field = "inbound[%zu].rate_rps";
    }
    for (size_t i = 0; !field && i < rep->n_outbound; i++) {
        at = i;
        if ((v = (double)rep->outbound[i].requests / iv) > SLATE_OPT_MAX_RATE)
            field = "outbound[%zu].requests";
    }
    for (size_t i = 0; !field && i < rep->n_spans; i++)
        for (k = 0; !field && rep->spans[i].load && k < rep->spans[i].n_load; k++) {
            at = i;
            if ((v = rep->spans[i].load[k].rps) > SLATE_OPT_MAX_RATE)
                field = "spans[%zu].load[%zu].rps";
        }
    if (!field)
        return false;
    char name[64];
    snprintf(name, sizeof(name), field, at, k - 1);
    snprintf(msg, cap,
             "SLATE_ERANGE in LoadReport.%s: %.4g requests/s is above the plausible %.0g "
             "(a wrapped counter?)",
             name, v, SLATE_OPT_MAX_RATE);
    return true;
}

bool ctl_intake_check(const ctl_app_t *app, const slate_load_report_t *rep, ctl_intake_fault_t *f)
{
    if (rep->service.len == 0 || rep->region.len == 0)
        return fault(f, 400, CTL_REJECT_MISSING, SLATE_EMISSING,
                     "SLATE_EMISSING in LoadReport.%s: field is empty",
                     rep->service.len == 0 ? "service" : "region");
    char why[300];
    if (report_names_bad(rep, why, sizeof(why)))
        return fault(f, 400, CTL_REJECT_NAME, SLATE_ENAME, "%s", why);
    if (clock_skewed(app, rep, why, sizeof(why)))
        return fault(f, 400, CTL_REJECT_CLOCK, SLATE_EVALUE, "%s", why);
    if (load_implausible(rep, why, sizeof(why)))
        return fault(f, 400, CTL_REJECT_LOAD, SLATE_ERANGE, "%s", why);
    return true;
}

bool ctl_intake_merge(ctl_app_t *app, ctl_scratch_t *sc, const slate_load_report_t *rep,
                      ctl_intake_kind kind, ctl_intake_fault_t *f)
{
    bool latency_only = kind == CTL_INTAKE_LEGACY_LATENCY;
    int rc;
    if (app->cfg.role == CTL_ROLE_CLUSTER) {
        rc = ctl_cluster_ingest(app->cluster, rep, latency_only);
    } else {
        ctl_ingest_info_t info;
        rc = ctl_state_ingest(app->state, sc, rep, latency_only, kind == CTL_INTAKE_BATCH,
                              ctl_now_ns(), &info);
    }
    if (rc == CTL_INGEST_POD_RATE)
        return fault(f, 429, CTL_REJECT_POD_RATE, SLATE_OK,
                     "pod '%.*s' of service '%.*s' posts more than pod-reports-per-s (%g) "
                     "reports per second",
                     (int)rep->pod.len, rep->pod.ptr, (int)rep->service.len, rep->service.ptr,
                     app->cfg.pod_reports_per_s);
    if (rc != 0)
        return fault(f, 503, CTL_REJECT_UNAVAILABLE, SLATE_OK, "out of memory");
    atomic_uint_fast64_t *counter = kind == CTL_INTAKE_REPORT  ? &app->metrics.reports_protobuf
                                    : kind == CTL_INTAKE_BATCH ? &app->metrics.reports_batch
                                    : latency_only             ? &app->metrics.hillclimb_legacy
                                                               : &app->metrics.reports_legacy;
    atomic_fetch_add(counter, 1);
    return true;
}
