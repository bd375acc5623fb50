/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * The data-plane half of a native proxy that embeds libslate: what a proxy
 * author writes around the library. Everything lives on the heap, sized by
 * the library's size functions; the library itself never allocates, reads a
 * clock or prints, so this file owns memory, time and logging.
 *
 * Every function takes the time as nanoseconds from the caller's clock.
 */
#ifndef NATIVE_PROXY_H
#define NATIVE_PROXY_H

#include <slate/slate.h>

#include <stddef.h>
#include <stdint.h>

#define PROXY_MAX_ENDPOINTS 8          /* inbound endpoints measured (the meter's max_inbound) */
#define PROXY_MAX_OUTBOUND  8          /* (destination endpoint, region) pairs measured */
#define PROXY_MAX_ROUTES    8          /* destination endpoints that rules may name */
#define PROXY_MAX_SPANS     64         /* sampled spans buffered between two reports */
#define PROXY_MAX_REPORT    (1u << 20) /* a report larger than this is not sent */

/* The rules in force: the core's compiled ruleset (slate/ruleset.h), the
 * same one the wasm data plane and the nginx module use, and the map from its
 * region ids to this proxy's. */
typedef struct ruleset {
    uint64_t version;
    uint64_t expiry_ns; /* slate_rules_expiry() on this proxy's clock */
    uint8_t *blob;      /* slate_ruleset_compile()'s output */
    size_t len;
    uint16_t cfg_region[SLATE_SAMPLER_MAX_REGIONS]; /* ruleset region id -> config region id */
} ruleset_t;

/* What the proxy remembers between a request's arrival and its response. */
typedef struct proxy_request {
    int measured;   /* 0: served, but not measured (the meter is full, say) */
    uint32_t entry; /* the meter's id of its endpoint, when measured */
    int sampled;    /* its trace is sampled: the response adds a span */
    uint64_t start_ns;
    char trace_id[33], parent_id[17]; /* parent_id is empty for a new trace */
    double rps_at_arrival;            /* the endpoint's load as the request arrived */
    uint64_t in_flight_at_arrival;
} proxy_request_t;

typedef struct proxy_config {
    const char *service, *pod;
    const char *const *regions; /* region id = index in this list */
    uint16_t n_regions, local_region;
    double trace_rate; /* fraction of traces sampled, in [0, 1] */
    uint64_t seed;     /* of this proxy's PRNG (draws, new span ids) */
} proxy_config_t;

typedef struct proxy {
    proxy_config_t cfg;
    /* What is measured between two reports: inbound endpoints, outbound calls
     * per destination region and sampled spans, in one region from malloc
     * (slate/meter.h). Entry ids are dense and stable, so per-entry state of
     * this proxy's own sits in arrays indexed by id, like `rates`. */
    void *meter_mem;
    slate_meter_t *meter;
    slate_rate_params_t rate_params;
    size_t rate_len;
    slate_rate_t **rates; /* by entry id: an inbound endpoint's arrival rate; NULL otherwise */
    size_t n_rates;       /* max_inbound + max_outbound: every id the meter can give */
    ruleset_t *rules;     /* the published rules; NULL before the first good answer */
    slate_rng_t rng;
    uint64_t bad_traceparents;
    uint64_t sequence, last_report_ns;
    uint8_t *report_buf; /* grown when the encoder says SLATE_ENOSPC */
    size_t report_cap;
    slate_rule_t *dec_rules; /* decoder arrays, grown when the decoder says SLATE_ENOSPC */
    slate_route_target_t *dec_targets;
    size_t cap_rules, cap_targets;
} proxy_t;

/* 0 on success; -1 (with a message) when memory or the configuration is bad. */
int proxy_init(proxy_t *p, const proxy_config_t *cfg, uint64_t now_ns);
void proxy_free(proxy_t *p);

/* A request arrives. `traceparent` may be NULL (no header). */
slate_status proxy_on_request(proxy_t *p, const char *method, const char *path,
                              const char *traceparent, uint64_t now_ns, proxy_request_t *req);
/* Its response completes. */
void proxy_on_response(proxy_t *p, const proxy_request_t *req, uint64_t now_ns);

/* The region an outbound call goes to (the value of x-slate-routeto). */
uint16_t proxy_route(proxy_t *p, const char *service, const char *method, const char *path,
                     uint64_t now_ns);
/* The share of calls to this endpoint the rules in force send to `region`
 * (a config region id): 1 for the local region without rules. */
double proxy_route_share(const proxy_t *p, const char *service, const char *method,
                         const char *path, uint16_t region, uint64_t now_ns);
/* An outbound call completed after `latency_ns`, served by `region`. */
void proxy_on_outbound_done(proxy_t *p, const char *service, const char *method, const char *path,
                            uint16_t region, uint64_t latency_ns);

/* Encode the LoadReport of the interval ending now; *out stays valid until the next call. */
slate_status proxy_report(proxy_t *p, uint64_t now_ns, const uint8_t **out, size_t *len);
/* Decode a RoutingRules answer, compile it and publish it; on any error keep the old rules. */
slate_status proxy_apply_rules(proxy_t *p, const uint8_t *buf, size_t len, uint64_t now_ns);

#endif /* NATIVE_PROXY_H */
