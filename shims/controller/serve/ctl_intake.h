/*
 * slate-controller: the one intake path of every report, whatever its
 * format: a protobuf LoadReport (/v1/report), one report of a delimited
 * batch (/v1/reports, the cluster role's forward), or a SLATE legacy body
 * (/proxyLoad, /hillclimbingLatency). Each is decoded into the same
 * slate_load_report_t, then passes the same door (ctl_intake_check) and is
 * merged the same way (ctl_intake_merge) into the role's state: the
 * learning state (global role) or the aggregate (cluster role).
 *
 * A refusal is described by a ctl_intake_fault_t: the HTTP status, the
 * rejection reason counted in /metrics, the status and a one-line text
 * naming the field ("SLATE_ENAME in LoadReport.outbound[2].dst_region: ...").
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_INTAKE_H
#define CTL_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_metrics.h"
#include "ctl_state.h"
#include "slate/codec.h"

struct ctl_app;

typedef enum ctl_intake_kind {
    CTL_INTAKE_REPORT = 0,     /* /v1/report */
    CTL_INTAKE_BATCH,          /* one report of /v1/reports: exempt from the per-pod rate */
    CTL_INTAKE_LEGACY_LOAD,    /* /proxyLoad */
    CTL_INTAKE_LEGACY_LATENCY, /* /hillclimbingLatency: latency only */
} ctl_intake_kind;

typedef struct ctl_intake_fault {
    unsigned http; /* 400 bad input, 429 over the pod's report rate, 503 out of memory */
    ctl_reject why;
    slate_status st;
    char msg[600];
} ctl_intake_fault_t;

/* The codec limits for one body (the configured max-body-bytes). */
slate_codec_limits_t ctl_intake_limits(const struct ctl_app *app);

/* Decodes a protobuf LoadReport with the thread's scratch; false with a 400 fault. */
bool ctl_intake_decode(const struct ctl_app *app, ctl_scratch_t *sc, const uint8_t *body,
                       size_t len, slate_load_report_t **rep, ctl_intake_fault_t *f);

/* Decodes a SLATE legacy body and names it from SLATE's headers (service
 * "<service>-<region>" loses its region suffix; the time is now, the interval
 * SLATE's one second); false with a 400 fault. */
bool ctl_intake_decode_legacy(const struct ctl_app *app, ctl_scratch_t *sc, bool latency,
                              const char *body, size_t len, const char *service, const char *region,
                              const char *pod, slate_load_report_t **rep, ctl_intake_fault_t *f);

/*
 * The door, the same for every format: service and region present; every
 * name valid (name.h); the report's time within max-clock-skew-ms of ours;
 * no load above SLATE_OPT_MAX_RATE. False with a 400 fault; nothing merged.
 * Cost: O(size of the report).
 */
bool ctl_intake_check(const struct ctl_app *app, const slate_load_report_t *rep,
                      ctl_intake_fault_t *f);

/* Merges a checked report into the role's state and counts it; false with a
 * 429 (the pod's report rate) or 503 (out of memory) fault. */
bool ctl_intake_merge(struct ctl_app *app, ctl_scratch_t *sc, const slate_load_report_t *rep,
                      ctl_intake_kind kind, ctl_intake_fault_t *f);

#endif
