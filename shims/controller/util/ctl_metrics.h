/*
 * slate-controller: counters for /metrics (Prometheus text exposition).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_METRICS_H
#define CTL_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "ctl_buf.h"
#include "slate/status.h"

/* Why a request was turned away; one label value each. */
typedef enum ctl_reject {
    CTL_REJECT_TOO_LARGE = 0, /* 413 */
    CTL_REJECT_DECODE,        /* 400: protobuf decode error */
    CTL_REJECT_LEGACY,        /* 400: legacy text parse error */
    CTL_REJECT_MISSING,       /* 400: service or region missing */
    CTL_REJECT_NOT_FOUND,     /* 404 */
    CTL_REJECT_METHOD,        /* 405 */
    CTL_REJECT_UNAVAILABLE,   /* 503: out of memory or shutting down */
    CTL_REJECT_UNAUTHORIZED,  /* 401: missing or wrong credential (ctl_auth.h) */
    CTL_REJECT_OVERLOAD,      /* 503 + Retry-After: connection or memory budget (ctl_guard.h) */
    CTL_REJECT_SLOW,          /* connection cut: headers or body too slow (ctl_guard.h) */
    CTL_REJECT_NAME,          /* 400: a name breaks its rule (slate/name.h) */
    CTL_REJECT_CLOCK,         /* 400: report time too far from the controller's clock */
    CTL_REJECT_POD_RATE,      /* 429: a pod over its report rate */
    CTL_REJECT_LOAD,          /* 400: a load above SLATE_OPT_MAX_RATE (a wrapped counter) */
    CTL_REJECT_COUNT_
} ctl_reject;

/* What overflowed into a bucket (or was dropped) because of a limit. */
typedef enum ctl_overflow {
    CTL_OVF_SERVICE = 0, /* a report's service went to the overflow service */
    CTL_OVF_REGION,      /* a region went to the overflow region */
    CTL_OVF_ENDPOINT,    /* an endpoint went to its service's overflow endpoint */
    CTL_OVF_OUTBOUND,    /* an outbound cell could not be created; its data dropped */
    CTL_OVF_EDGE,        /* a call-graph edge could not be created */
    CTL_OVF_SPAN,        /* spans past max-spans-per-report, dropped */
    CTL_OVF_SPAN_EVICT,  /* spans evicted from a full stitch table before their window */
    CTL_OVF_CLAIM,       /* a report naming more new entries than its share of a table */
    CTL_OVF_COUNT_
} ctl_overflow;

#define CTL_N_CODEC_STATUS 128

/* The counters of a report's `Drops` (slate_drops_t), in declaration order. */
#define CTL_N_DROPS 10

typedef struct ctl_metrics {
    atomic_uint_fast64_t reports_protobuf;
    atomic_uint_fast64_t reports_legacy;
    atomic_uint_fast64_t reports_batch;
    atomic_uint_fast64_t hillclimb_legacy;
    atomic_uint_fast64_t rejected[CTL_REJECT_COUNT_];
    atomic_uint_fast64_t rejected_status[CTL_N_CODEC_STATUS]; /* decode errors by status */
    atomic_uint_fast64_t overflow[CTL_OVF_COUNT_];
    /* entries retired after table-ttl-s of silence: services, endpoints, regions */
    atomic_uint_fast64_t retired_services, retired_endpoints, retired_regions;
    atomic_uint_fast64_t spans_received;
    atomic_uint_fast64_t spans_stitched;
    atomic_uint_fast64_t spans_duplicate;
    /* spans of traces left out by span admission (span-admit-fill), and the
     * share of traces admitted now (bits of a double) */
    atomic_uint_fast64_t spans_shed;
    atomic_uint_fast64_t span_admit_bits;
    atomic_uint_fast64_t clamped_load;    /* reports whose load was cut to the pod share */
    atomic_uint_fast64_t clamped_latency; /* reports whose latency was cut to the pod share */
    atomic_uint_fast64_t proxy_drops[CTL_N_DROPS]; /* proxies' Drops counters, summed deltas */
    atomic_uint_fast64_t proxy_restarts;           /* a pod's sequence fell: its proxy restarted */
    atomic_uint_fast64_t request_bytes;
    atomic_uint_fast64_t solves_ok;
    atomic_uint_fast64_t solves_failed;
    atomic_uint_fast64_t solves_skipped;
    atomic_uint_fast64_t rules_published;
    atomic_uint_fast64_t rollbacks;
    atomic_uint_fast64_t exports_written;
    atomic_uint_fast64_t exports_failed;
    atomic_uint_fast64_t persist_ok;
    atomic_uint_fast64_t persist_failed;
    atomic_uint_fast64_t forwards_ok;
    atomic_uint_fast64_t forwards_failed;
    atomic_uint_fast64_t auth_reloads;         /* token file reloads (SIGHUP) that took */
    atomic_uint_fast64_t auth_reload_failures; /* ... and that failed (old tokens kept) */
    /* gauges, written by the solver thread (stored as bits of a double) */
    atomic_uint_fast64_t last_solve_ms_bits;
    atomic_uint_fast64_t solve_ms_sum_bits;
    atomic_uint_fast64_t rules_version;
    atomic_uint_fast64_t objective_bits;
    atomic_uint_fast64_t measured_latency_bits;
    /* solve time histogram (seconds): bucket upper bounds in ctl_metrics.c */
    atomic_uint_fast64_t solve_hist[12];
} ctl_metrics_t;

void ctl_metrics_init(ctl_metrics_t *m);
void ctl_metrics_set_f64(atomic_uint_fast64_t *cell, double v);
double ctl_metrics_get_f64(const atomic_uint_fast64_t *cell);
void ctl_metrics_observe_solve(ctl_metrics_t *m, double ms);
void ctl_metrics_reject(ctl_metrics_t *m, ctl_reject why, slate_status st);

const char *ctl_reject_name(ctl_reject r);
const char *ctl_overflow_name(ctl_overflow o);
/* The slate_drops_t field name of counter k (< CTL_N_DROPS). */
const char *ctl_drops_name(unsigned k);

/* Writes the process-wide counters (not the per-model gauges) in exposition format. */
void ctl_metrics_write(const ctl_metrics_t *m, ctl_buf_t *out);

#endif
