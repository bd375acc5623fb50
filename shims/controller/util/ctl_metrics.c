/*
 * slate-controller: counters for /metrics (Prometheus text exposition 0.0.4).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_metrics.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* Upper bounds (seconds) of the solve time histogram; the last is +Inf. */
static const double k_solve_bounds[11] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                          0.05,   0.1,   0.25,   1.0,   5.0};

void ctl_metrics_init(ctl_metrics_t *m)
{
    memset(m, 0, sizeof(*m));
    ctl_metrics_set_f64(&m->objective_bits, NAN);
    ctl_metrics_set_f64(&m->measured_latency_bits, NAN);
    ctl_metrics_set_f64(&m->span_admit_bits, 1);
}

void ctl_metrics_set_f64(atomic_uint_fast64_t *cell, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    atomic_store(cell, bits);
}

double ctl_metrics_get_f64(const atomic_uint_fast64_t *cell)
{
    uint64_t bits = atomic_load(cell);
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

void ctl_metrics_observe_solve(ctl_metrics_t *m, double ms)
{
    ctl_metrics_set_f64(&m->last_solve_ms_bits, ms);
    ctl_metrics_set_f64(&m->solve_ms_sum_bits, ctl_metrics_get_f64(&m->solve_ms_sum_bits) + ms);
    double s = ms / 1000.0;
    int b = 0;
    while (b < 11 && s > k_solve_bounds[b])
        b++;
    atomic_fetch_add(&m->solve_hist[b], 1);
}

void ctl_metrics_reject(ctl_metrics_t *m, ctl_reject why, slate_status st)
{
    atomic_fetch_add(&m->rejected[why], 1);
    if ((why == CTL_REJECT_DECODE || why == CTL_REJECT_LEGACY) && (int)st > 0 &&
        (int)st < CTL_N_CODEC_STATUS)
        atomic_fetch_add(&m->rejected_status[st], 1);
}

const char *ctl_reject_name(ctl_reject r)
{
    static const char *const names[CTL_REJECT_COUNT_] = {
        "too_large",          "decode_error", "legacy_parse_error", "missing_identity", "not_found",
        "method_not_allowed", "unavailable",  "unauthorized",       "overload",         "too_slow",
        "bad_name",           "clock_skew",   "pod_rate",           "implausible_load"};
    return (unsigned)r < CTL_REJECT_COUNT_ ? names[r] : "unknown";
}

const char *ctl_drops_name(unsigned k)
{
    static const char *const names[CTL_N_DROPS] = {"spans_dropped",       "endpoints_overflowed",
                                                   "outbound_overflowed", "late_stamps",
                                                   "post_failed_network", "post_failed_timeout",
                                                   "post_failed_status",  "post_failed_too_large",
                                                   "rules_rejected",      "counters_saturated"};
    return k < CTL_N_DROPS ? names[k] : "unknown";
}

const char *ctl_overflow_name(ctl_overflow o)
{
    static const char *const names[CTL_OVF_COUNT_] = {
        "service", "region",          "endpoint",     "outbound",
        "edge",    "span_per_report", "span_evicted", "report_share"};
    return (unsigned)o < CTL_OVF_COUNT_ ? names[o] : "unknown";
}

static void counter(ctl_buf_t *out, const char *name, const char *help, uint64_t v)
{
    ctl_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name,
                   v);
}

/* A counter split by outcome: the ok and failed series under one HELP/TYPE. */
static void counter_ok_failed(ctl_buf_t *out, const char *name, const char *help, uint64_t ok,
                              uint64_t failed)
{
    ctl_buf_printf(out,
                   "# HELP %s %s\n# TYPE %s counter\n%s{outcome=\"ok\"} %" PRIu64
                   "\n%s{outcome=\"failed\"} %" PRIu64 "\n",
                   name, help, name, name, ok, name, failed);
}

static void gauge_f(ctl_buf_t *out, const char *name, const char *help, double v)
{
    ctl_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s ", name, help, name, name);
    if (isnan(v))
        ctl_buf_puts(out, "NaN\n");
    else if (isinf(v))
        ctl_buf_puts(out, v > 0 ? "+Inf\n" : "-Inf\n");
    else
        ctl_buf_printf(out, "%.17g\n", v);
}

void ctl_metrics_write(const ctl_metrics_t *m, ctl_buf_t *out)
{
    ctl_buf_puts(out, "# HELP slate_controller_reports_received_total Reports accepted, by body "
                      "format.\n"
                      "# TYPE slate_controller_reports_received_total counter\n");
    ctl_buf_printf(
        out,
        "slate_controller_reports_received_total{format=\"protobuf\"} %" PRIu64 "\n"
        "slate_controller_reports_received_total{format=\"protobuf_batch\"} %" PRIu64 "\n"
        "slate_controller_reports_received_total{format=\"legacy_proxyload\"} %" PRIu64 "\n"
        "slate_controller_reports_received_total{format=\"legacy_latency\"} %" PRIu64 "\n",
        (uint64_t)atomic_load(&m->reports_protobuf), (uint64_t)atomic_load(&m->reports_batch),
        (uint64_t)atomic_load(&m->reports_legacy), (uint64_t)atomic_load(&m->hillclimb_legacy));
    ctl_buf_puts(out, "# HELP slate_controller_requests_rejected_total Requests turned away, by "
                      "reason.\n"
                      "# TYPE slate_controller_requests_rejected_total counter\n");
    for (int r = 0; r < CTL_REJECT_COUNT_; r++)
        ctl_buf_printf(out, "slate_controller_requests_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
                       ctl_reject_name((ctl_reject)r), (uint64_t)atomic_load(&m->rejected[r]));
    ctl_buf_puts(out, "# HELP slate_controller_decode_errors_total Rejected bodies by decoder "
                      "status.\n"
                      "# TYPE slate_controller_decode_errors_total counter\n");
    for (int s = 1; s < CTL_N_CODEC_STATUS; s++) {
        uint64_t v = atomic_load(&m->rejected_status[s]);
        if (v)
            ctl_buf_printf(out, "slate_controller_decode_errors_total{status=\"%s\"} %" PRIu64 "\n",
                           slate_status_name((slate_status)s), v);
    }
    ctl_buf_puts(out, "# HELP slate_controller_overflow_total Items diverted to an overflow bucket "
                      "or dropped because of a limit, by kind.\n"
                      "# TYPE slate_controller_overflow_total counter\n");
    for (int o = 0; o < CTL_OVF_COUNT_; o++)
        ctl_buf_printf(out, "slate_controller_overflow_total{kind=\"%s\"} %" PRIu64 "\n",
                       ctl_overflow_name((ctl_overflow)o), (uint64_t)atomic_load(&m->overflow[o]));
    ctl_buf_printf(out,
                   "# HELP slate_controller_retired_total Table entries retired after "
                   "table-ttl-s without a report naming them, by kind.\n"
                   "# TYPE slate_controller_retired_total counter\n"
                   "slate_controller_retired_total{kind=\"service\"} %" PRIu64 "\n"
                   "slate_controller_retired_total{kind=\"endpoint\"} %" PRIu64 "\n"
                   "slate_controller_retired_total{kind=\"region\"} %" PRIu64 "\n",
                   (uint64_t)atomic_load(&m->retired_services),
                   (uint64_t)atomic_load(&m->retired_endpoints),
                   (uint64_t)atomic_load(&m->retired_regions));
    counter(out, "slate_controller_request_bytes_total", "Bytes of accepted request bodies.",
            atomic_load(&m->request_bytes));
    counter(out, "slate_controller_spans_received_total", "Sampled spans taken from reports.",
            atomic_load(&m->spans_received));
    counter(out, "slate_controller_spans_stitched_total",
            "Spans matched to their parent span (time-stitching).",
            atomic_load(&m->spans_stitched));
    counter(out, "slate_controller_spans_duplicate_total", "Spans received twice, ignored.",
            atomic_load(&m->spans_duplicate));
    counter(out, "slate_controller_spans_shed_total",
            "Spans not stitched because their trace was left out of the sample that fits the "
            "span table (span-admit-fill).",
            atomic_load(&m->spans_shed));
    ctl_buf_printf(out,
                   "# HELP slate_controller_span_admit_ratio Share of traces whose spans are "
                   "stitched now (1: all; lower while spans arrive faster than the span table "
                   "holds them for their stitch window).\n"
                   "# TYPE slate_controller_span_admit_ratio gauge\n"
                   "slate_controller_span_admit_ratio %.6g\n",
                   ctl_metrics_get_f64(&m->span_admit_bits));
    ctl_buf_puts(out, "# HELP slate_controller_reports_clamped_total Reports whose load or "
                      "latency was cut to the pod share (plausibility), by what was cut.\n"
                      "# TYPE slate_controller_reports_clamped_total counter\n");
    ctl_buf_printf(out,
                   "slate_controller_reports_clamped_total{what=\"load\"} %" PRIuFAST64 "\n"
                   "slate_controller_reports_clamped_total{what=\"latency\"} %" PRIuFAST64 "\n",
                   atomic_load(&m->clamped_load), atomic_load(&m->clamped_latency));
    ctl_buf_puts(out, "# HELP slate_controller_proxy_drops_total What proxies report they lost "
                      "(their cumulative Drops counters, differenced per pod), by counter.\n"
                      "# TYPE slate_controller_proxy_drops_total counter\n");
    for (unsigned k = 0; k < CTL_N_DROPS; k++)
        ctl_buf_printf(out, "slate_controller_proxy_drops_total{kind=\"%s\"} %" PRIuFAST64 "\n",
                       ctl_drops_name(k), atomic_load(&m->proxy_drops[k]));
    counter(out, "slate_controller_proxy_restarts_total",
            "Proxy restarts seen: a pod's report sequence fell.", atomic_load(&m->proxy_restarts));
    ctl_buf_puts(out, "# HELP slate_controller_solves_total Solve rounds, by outcome.\n"
                      "# TYPE slate_controller_solves_total counter\n");
    ctl_buf_printf(out,
                   "slate_controller_solves_total{outcome=\"ok\"} %" PRIu64 "\n"
                   "slate_controller_solves_total{outcome=\"failed\"} %" PRIu64 "\n"
                   "slate_controller_solves_total{outcome=\"skipped\"} %" PRIu64 "\n",
                   (uint64_t)atomic_load(&m->solves_ok), (uint64_t)atomic_load(&m->solves_failed),
                   (uint64_t)atomic_load(&m->solves_skipped));
    ctl_buf_puts(out, "# HELP slate_controller_solve_duration_seconds Time to build and solve "
                      "the routing problem.\n"
                      "# TYPE slate_controller_solve_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b < 12; b++) {
        cum += atomic_load(&m->solve_hist[b]);
        if (b < 11)
            ctl_buf_printf(
                out, "slate_controller_solve_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                k_solve_bounds[b], cum);
        else
            ctl_buf_printf(
                out, "slate_controller_solve_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                cum);
    }
    ctl_buf_printf(out, "slate_controller_solve_duration_seconds_sum %.17g\n",
                   ctl_metrics_get_f64(&m->solve_ms_sum_bits) / 1000.0);
    ctl_buf_printf(out, "slate_controller_solve_duration_seconds_count %" PRIu64 "\n", cum);
    gauge_f(out, "slate_controller_last_solve_seconds", "Duration of the last solve.",
            ctl_metrics_get_f64(&m->last_solve_ms_bits) / 1000.0);
    gauge_f(out, "slate_controller_objective", "Objective of the routing in force (ms x rps).",
            ctl_metrics_get_f64(&m->objective_bits));
    gauge_f(out, "slate_controller_measured_latency_ms",
            "Load-weighted mean latency of the entry endpoints in the last window.",
            ctl_metrics_get_f64(&m->measured_latency_bits));
    ctl_buf_printf(out,
                   "# HELP slate_controller_rules_version Version of the rules in force.\n"
                   "# TYPE slate_controller_rules_version gauge\n"
                   "slate_controller_rules_version %" PRIu64 "\n",
                   (uint64_t)atomic_load(&m->rules_version));
    counter(out, "slate_controller_rules_published_total", "Rule sets published.",
            atomic_load(&m->rules_published));
    counter(out, "slate_controller_rollbacks_total",
            "Rule changes rolled back because measured latency got worse.",
            atomic_load(&m->rollbacks));
    counter_ok_failed(out, "slate_controller_exports_total", "Debounced export pushes, by outcome.",
                      atomic_load(&m->exports_written), atomic_load(&m->exports_failed));
    counter_ok_failed(out, "slate_controller_persist_total", "Rule persistence writes, by outcome.",
                      atomic_load(&m->persist_ok), atomic_load(&m->persist_failed));
    counter_ok_failed(out, "slate_controller_forwards_total",
                      "Aggregated reports forwarded upstream (cluster role), by outcome.",
                      atomic_load(&m->forwards_ok), atomic_load(&m->forwards_failed));
    counter_ok_failed(out, "slate_controller_token_reloads_total",
                      "Token file reloads on SIGHUP, by outcome.", atomic_load(&m->auth_reloads),
                      atomic_load(&m->auth_reload_failures));
}
