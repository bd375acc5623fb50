/*
 * slate-controller: what the global controller learns from reports.
 *
 * Entities (regions, services, endpoints, outbound cells, call-graph edges)
 * are created on first sight and retired when no report has named them for
 * table-ttl-s (ctl_aging.c; the regions file's regions stay); each kind is
 * bounded by a configured limit, and past it the data goes to an overflow bucket (a
 * region "~overflow", a service "~overflow", a per-service endpoint
 * "* {overflow}") or, for cells and edges that have no meaningful bucket, is
 * dropped; either way it is counted in the metrics. So memory is bounded:
 *
 *   regions   <= max-regions + 1
 *   services  <= max-services + 1
 *   endpoints <= (max-services + 1) * (max-endpoints-per-service + 1)
 *                (plus destinations named in outbound calls, within the same caps)
 *   cells     <= endpoints * regions           (allocated on first use)
 *   outbound  <= max-outbound,  edges <= max-edges,  spans held <= span-table
 *
 * Learning:
 *   - per (endpoint, region), per window (the solve period): requests, load
 *     (requests / window), in-flight, latency moments; a short history;
 *   - the call graph, by time-stitching sampled spans: a span is matched to
 *     its parent by (trace id, parent span id) across reports of different
 *     services, whichever arrives first; calls per parent request = matched
 *     children / sampled parent spans (both exponentially decayed);
 *   - exclusive (self) latency of each span = its duration minus its matched
 *     children's durations; with the endpoint's region-wide load at arrival
 *     (the proxy's rate times the estimated number of pods) it is a sample
 *     for the (endpoint, region) latency model. Endpoints that never appear
 *     in spans and have no children use their window mean latency instead;
 *   - network latency between regions: outbound latency to (endpoint, dst
 *     region) minus that endpoint's inbound latency there, smoothed, unless
 *     a regions file gives the matrix.
 *
 * Thread safety: every function may be called from any thread. Reports
 * are merged by several threads at once (ctl_state_ingest: decode and key
 * building in the caller's scratch without a lock, the merge under locks of
 * one service and of the span table; ctl_tables.h has the locks);
 * the window close, aging and the views take the whole state.
 */
#ifndef CTL_STATE_H
#define CTL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_config.h"
#include "ctl_json.h"
#include "ctl_metrics.h"
#include "ctl_regions.h"
#include "slate/codec.h"
#include "slate_opt.h"

typedef struct ctl_state ctl_state_t;
typedef struct ctl_scratch ctl_scratch_t;

/* A state sized by cfg. `regions` (NULL: none) is copied, its capacities
 * too, so the caller may free it once this returns. NULL without memory. */
ctl_state_t *ctl_state_create(const ctl_config_t *cfg, ctl_metrics_t *metrics,
                              const ctl_regions_file_t *regions);
void ctl_state_free(ctl_state_t *s);

ctl_scratch_t *ctl_scratch_create(void);
void ctl_scratch_free(ctl_scratch_t *sc);

/*
 * Decodes a protobuf LoadReport into the scratch's arrays, growing them as
 * needed (bounded by the codec limits). *out points into the scratch and
 * stays valid until the next decode with the same scratch.
 */
slate_status ctl_scratch_decode(ctl_scratch_t *sc, const uint8_t *buf, size_t len,
                                const slate_codec_limits_t *lim, slate_codec_error_t *err,
                                slate_load_report_t **out);

/*
 * Decodes SLATE's legacy text (`latency` false: a /proxyLoad body; true: a
 * /hillclimbingLatency body) into the scratch's arrays. `service` and
 * `region` come from SLATE's headers and are preset in the report (the
 * /proxyLoad decoder checks its span lines against them).
 */
slate_status ctl_scratch_decode_legacy(ctl_scratch_t *sc, bool latency, const char *body,
                                       size_t len, const slate_codec_limits_t *lim,
                                       slate_codec_error_t *err, slate_str_t service,
                                       slate_str_t region, slate_load_report_t **out);

/* What the HTTP layer needs to answer a report. */
typedef struct ctl_ingest_info {
    bool service_overflow;
    bool region_overflow;
    uint32_t spans_used;
    uint32_t spans_dropped;
} ctl_ingest_info_t;

/*
 * Merges one decoded, validated report (arrays filled, span loads in the
 * pool) into the state. Paths are normalised and keys hashed in the caller's
 * scratch first, outside the lock; the merge itself cannot fail part-way
 * (limits divert to overflow buckets), so a report is applied whole.
 * `latency_only` (SLATE's /hillclimbingLatency): merge latency, not load.
 * Plausibility (docs/controller.md): unless `rate_exempt` (a cluster
 * controller's batch), a pod over pod-reports-per-s is refused whole; a pod's
 * load and latency count for at most pod-share-factor times the median of its
 * service's other live pods in the region (counts and latencies scaled down).
 * Returns 0; CTL_INGEST_POD_RATE when the pod is over its report rate
 * (nothing merged); -1 when memory ran out before anything was merged.
 */
#define CTL_INGEST_POD_RATE 1
int ctl_state_ingest(ctl_state_t *s, ctl_scratch_t *sc, const slate_load_report_t *rep,
                     bool latency_only, bool rate_exempt, uint64_t now_ns, ctl_ingest_info_t *info);

/* Plain copy of what the solver needs, taken at the end of a window. */
typedef struct ctl_si_endpoint {
    uint32_t svc; /* index into services */
    char *method;
    char *path;
    bool overflow;
    bool has_parent;                         /* some edge with a meaningful ratio points at it */
    double load[CTL_MAX_REGION_SLOTS];       /* rps in the last window */
    double latency_ms[CTL_MAX_REGION_SLOTS]; /* inbound mean latency, last window; NaN = none */
    slate_opt_fit_t fit[CTL_MAX_REGION_SLOTS];
    bool has_fit[CTL_MAX_REGION_SLOTS];
} ctl_si_endpoint_t;

typedef struct ctl_solve_input {
    uint64_t now_ns;
    uint64_t layout_gen; /* moves when retiring entries gave them new indices */
    double window_s;
    uint32_t n_regions; /* real regions (the overflow region is left out) */
    char **region_names;
    double rtt_ms[CTL_MAX_REGION_SLOTS][CTL_MAX_REGION_SLOTS];
    double price[CTL_MAX_REGION_SLOTS][CTL_MAX_REGION_SLOTS];
    uint32_t n_services;
    char **service_names;
    bool *service_overflow;
    uint8_t (*deployed)[CTL_MAX_REGION_SLOTS];
    double (*capacity)[CTL_MAX_REGION_SLOTS];
    uint32_t n_endpoints;
    ctl_si_endpoint_t *endpoints;
    uint32_t n_edges;
    struct ctl_si_edge {
        uint32_t parent, child;
        double calls_per_request;
        double bytes_per_call;
    } * edges;
    double measured_latency_ms; /* load-weighted mean latency of root endpoints; NaN = none */
} ctl_solve_input_t;

/*
 * Closes the current window at now_ns (loads, model samples, network
 * estimates, decay of the call-graph counts, history) and returns a snapshot
 * for the solver (free with ctl_solve_input_free), or NULL without memory.
 */
ctl_solve_input_t *ctl_state_tick(ctl_state_t *s, uint64_t now_ns);
void ctl_solve_input_free(ctl_solve_input_t *in);

/* Writes the state's members into an open JSON object (the caller adds rules, solve stats). */
void ctl_state_write_json(ctl_state_t *s, ctl_json_t *j, uint64_t now_ns);

/* Writes per-model and per-entity gauges in Prometheus exposition format. */
void ctl_state_write_metrics(ctl_state_t *s, ctl_buf_t *out);

/* How often the intake's locks were taken and found taken (another thread
 * held them), since the state was created; `exclusive`: reports that named
 * something new and took the whole state. */
typedef struct ctl_lock_counts {
    uint64_t shard_taken, shard_waited;
    uint64_t span_taken, span_waited;
    uint64_t exclusive;
} ctl_lock_counts_t;
void ctl_state_lock_counts(ctl_state_t *s, ctl_lock_counts_t *out);

/* Counts for logs and health. */
void ctl_state_counts(ctl_state_t *s, uint32_t *services, uint32_t *endpoints, uint32_t *regions,
                      uint32_t *edges);

#endif
