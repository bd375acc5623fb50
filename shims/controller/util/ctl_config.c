/*
 * slate-controller: configuration from flags and an optional key=value file.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/name.h"
#include "slate/version.h"

typedef enum opt_type { T_STR, T_U32, T_U64, T_F64, T_ROLE, T_ROUTING } opt_type;

typedef struct opt_def {
    const char *name;
    opt_type type;
    size_t offset;
    size_t size; /* T_STR: capacity */
    double min, max;
    const char *help;
} opt_def;

#define OFF(f) offsetof(ctl_config_t, f)
#define STR(f) OFF(f), sizeof(((ctl_config_t *)0)->f)

static const opt_def k_opts[] = {
    {"role", T_ROLE, OFF(role), 0, 0, 0,
     "global (holds models, solves) or cluster (aggregates one cluster, forwards to --upstream)"},
    {"listen", T_STR, STR(listen), 0, 0, "address to bind (default 127.0.0.1)"},
    {"port", T_U32, OFF(port), 0, 0, 65535, "TCP port; 0 picks a free one (default 8000)"},
    {"port-file", T_STR, STR(port_file), 0, 0, "write the bound port here once listening"},
    {"state-dir", T_STR, STR(state_dir), 0, 0,
     "directory for persisted rules (empty: no persistence)"},
    {"export-dir", T_STR, STR(export_dir), 0, 0, "directory for Istio/Envoy exports (empty: none)"},
    {"regions-file", T_STR, STR(regions_file), 0, 0,
     "regions, RTT and egress price matrices, capacities"},
    {"upstream", T_STR, STR(upstream), 0, 0,
     "cluster role: http://host:port of the global controller"},
    {"region", T_STR, STR(region), 0, 0, "cluster role: this cluster's region"},
    {"log-level", T_STR, STR(log_level), 0, 0, "debug, info, warn or error (default info)"},
    {"threads", T_U32, OFF(threads), 0, 1, 64, "HTTP worker threads (default 2)"},
    {"solve-period-ms", T_U64, OFF(solve_period_ms), 0, 10, 86400000,
     "time between solves (default 5000)"},
    {"forward-period-ms", T_U64, OFF(forward_period_ms), 0, 10, 86400000,
     "cluster role: time between forwards (default 1000)"},
    {"forward-timeout-ms", T_U64, OFF(forward_timeout_ms), 0, 10, 600000,
     "cluster role: upstream request timeout (default 3000)"},
    {"rules-ttl-ms", T_U64, OFF(rules_ttl_ms), 0, 0, 1e12,
     "time to live of published rules; 0 = none (default 60000)"},
    {"stitch-window-ms", T_U64, OFF(stitch_window_ms), 0, 10, 600000,
     "how long a span waits for its relatives (default 3000)"},
    {"max-body-bytes", T_U64, OFF(max_body_bytes), 0, 64, 1 << 30,
     "largest request body; larger gets 413 (default 4194304)"},
    {"max-services", T_U32, OFF(max_services), 0, 1, 100000,
     "services tracked; more go to the overflow service (default 256)"},
    {"max-endpoints-per-service", T_U32, OFF(max_endpoints_per_service), 0, 1, 100000,
     "endpoints per service; more go to its overflow endpoint (default 128)"},
    {"max-regions", T_U32, OFF(max_regions), 0, 1, 32,
     "regions tracked; more go to the overflow region (default 31, at most 32)"},
    {"max-spans-per-report", T_U32, OFF(max_spans_per_report), 0, 0, 1000000,
     "spans used per report; the rest are counted and dropped (default 4096)"},
    {"max-edges", T_U32, OFF(max_edges), 0, 1, 1000000, "call-graph edges tracked (default 4096)"},
    {"table-ttl-s", T_U64, OFF(table_ttl_s), 0, 0, 1e9,
     "services, endpoints and regions silent this long leave the tables; 0 keeps them "
     "(default 600)"},
    {"max-outbound", T_U32, OFF(max_outbound), 0, 1, 10000000,
     "outbound (caller, destination) cells tracked (default 65536)"},
    {"span-table", T_U32, OFF(span_table), 0, 16, 1 << 26,
     "spans held for time-stitching (default 262144)"},
    {"span-admit-fill", T_F64, OFF(span_admit_fill), 0, 0, 1,
     "share of span-table that one stitch window of spans may fill; when spans arrive faster, "
     "whole traces are sampled by trace id to fit; 0 = admit every span, and a full table "
     "evicts spans before their window (default 0.75)"},
    {"max-connections", T_U32, OFF(max_connections), 0, 1, 1000000,
     "concurrent HTTP connections (default 1024)"},
    {"routing", T_ROUTING, OFF(routing), 0, 0, 0,
     "slate (LP optimiser), local or waterfall (default slate)"},
    {"model-degree", T_U32, OFF(model_degree), 0, 1, 2, "latency model degree, 1 or 2 (default 2)"},
    {"model-min-samples", T_F64, OFF(model_min_samples), 0, 0, 1e9,
     "samples before a model is trusted (default 20)"},
    {"model-forget", T_F64, OFF(model_forget), 0, 1e-6, 1,
     "weight kept per new model sample, (0,1] (default 0.9999)"},
    {"segments", T_U32, OFF(segments), 0, 1, 64,
     "piecewise-linear segments per latency curve (default 8)"},
    {"egress-weight", T_F64, OFF(egress_weight), 0, 0, 1e12,
     "ms of latency per US$ of egress: a call of B bytes over a P $/GB link costs "
     "weight*B*P/1e9 ms more (default 0: latency only)"},
    {"max-shift", T_F64, OFF(max_shift), 0, 0, 1,
     "most traffic fraction moved per round (default 0.1)"},
    {"min-gain-abs", T_F64, OFF(min_gain_abs), 0, 0, 1e18,
     "skip a change gaining less than this (ms x rps; default 0)"},
    {"min-gain-rel", T_F64, OFF(min_gain_rel), 0, 0, 1,
     "skip a change gaining less than this fraction (default 0.01)"},
    {"rollback-tolerance", T_F64, OFF(rollback_tolerance), 0, 0, 100,
     "roll back when latency rises by more than this fraction (default 0.1)"},
    {"settle-ms", T_U64, OFF(settle_ms), 0, 0, 86400000,
     "wait after a change before measuring (default 2000)"},
    {"rollback-samples", T_U32, OFF(rollback_samples), 0, 1, 1000,
     "measurements before a keep/rollback verdict (default 2)"},
    {"default-bytes-per-call", T_F64, OFF(default_bytes_per_call), 0, 0, 1e12,
     "bytes per call when spans carry none (default 1024)"},
    {"debounce-quiet-ms", T_U64, OFF(debounce_quiet_ms), 0, 0, 86400000,
     "export after this much quiet (default 1000)"},
    {"debounce-max-ms", T_U64, OFF(debounce_max_ms), 0, 0, 86400000,
     "export at the latest this long after a change (default 10000)"},
    {"debounce-max-changes", T_U32, OFF(debounce_max_changes), 0, 1, 100000000,
     "export once this many changes are pending (default 1000)"},
    {"region-label", T_STR, STR(region_label), 0, 0,
     "pod label holding the region, for Istio subsets (default topology.kubernetes.io/region)"},
    /* plausibility: what one reporter can move */
    {"max-clock-skew-ms", T_U64, OFF(max_clock_skew_ms), 0, 0, 1e12,
     "reports whose time_ns is further than this from the controller's clock get 400; 0 = off "
     "(default 0)"},
    {"pod-reports-per-s", T_F64, OFF(pod_reports_per_s), 0, 0, 1e9,
     "reports per second one pod may post (burst twice that); more get 429; 0 = off (default 20)"},
    {"pod-share-factor", T_F64, OFF(pod_share_factor), 0, 0, 1e9,
     "a pod's load and latency count for at most this times the median of its service's other "
     "pods in the region; 0 = off (default 3)"},
    {"pod-share-min-pods", T_U32, OFF(pod_share_min_pods), 0, 1, 100000,
     "other live pods needed before the share cap applies (default 3)"},
    /* trust: credentials, the admin listener, per-client limits */
    {"auth-token-file", T_STR, STR(auth_token_file), 0, 0,
     "bearer tokens (one a line) required on reports and rules; reloaded on SIGHUP"},
    {"upstream-token-file", T_STR, STR(upstream_token_file), 0, 0,
     "cluster role: file whose first token is sent to --upstream"},
    {"tls-cert", T_STR, STR(tls_cert), 0, 0, "PEM certificate: serve the data port over HTTPS"},
    {"tls-key", T_STR, STR(tls_key), 0, 0, "PEM private key of --tls-cert"},
    {"tls-client-ca", T_STR, STR(tls_client_ca), 0, 0,
     "PEM CA: a client certificate it signed is a credential (mutual TLS)"},
    {"insecure", T_U32, OFF(insecure), 0, 0, 1,
     "1: listen beyond loopback without any credential configured (default 0)"},
    {"admin-listen", T_STR, STR(admin_listen), 0, 0,
     "address of the admin listener: state, metrics, health (default 127.0.0.1)"},
    {"admin-port", T_U32, OFF(admin_port), 0, 0, 65535,
     "admin TCP port; 0 = any free one (default 8001 with --port 8000, else any)"},
    {"admin-port-file", T_STR, STR(admin_port_file), 0, 0,
     "write the bound admin port here once listening"},
    {"max-connections-per-client", T_U32, OFF(max_connections_per_client), 0, 0, 1000000,
     "connections one source address may hold; 0 = no limit (default 32)"},
    {"listen-backlog", T_U32, OFF(listen_backlog), 0, 1, 65535,
     "accept backlog of the data port (default 256)"},
    {"header-timeout-ms", T_U64, OFF(header_timeout_ms), 0, 0, 3600000,
     "a request's headers must arrive within this; 0 = none (default 10000)"},
    {"body-grace-ms", T_U64, OFF(body_grace_ms), 0, 0, 3600000,
     "time a body may take before --body-min-rate applies (default 5000)"},
    {"body-min-rate", T_U64, OFF(body_min_rate), 0, 0, 1e12,
     "bytes/s a body must average after the grace; 0 = none (default 4096)"},
    {"max-buffered-bytes", T_U64, OFF(max_buffered_bytes), 0, 65536, 1e12,
     "request body bytes held over all connections; past it 503 (default 67108864)"},
    {"idle-timeout-s", T_U32, OFF(idle_timeout_s), 0, 1, 86400,
     "close a connection silent this long (default 30)"},
};

#define N_OPTS (sizeof(k_opts) / sizeof(k_opts[0]))

void ctl_config_defaults(ctl_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->role = CTL_ROLE_GLOBAL;
    snprintf(c->listen, sizeof(c->listen), "127.0.0.1");
    c->port = 8000;
    snprintf(c->log_level, sizeof(c->log_level), "info");
    c->threads = 2;
    c->solve_period_ms = 5000;
    c->forward_period_ms = 1000;
    c->forward_timeout_ms = 3000;
    c->rules_ttl_ms = 60000;
    c->stitch_window_ms = 3000;
    c->max_body_bytes = 4u << 20;
    c->max_services = 256;
    c->max_endpoints_per_service = 128;
    c->max_regions = 31;
    c->max_spans_per_report = 4096;
    c->max_edges = 4096;
    c->table_ttl_s = 600;
    c->max_outbound = 65536;
    c->span_table = 262144;
    c->span_admit_fill = 0.75;
    c->max_connections = 1024;
    c->routing = CTL_ROUTING_SLATE;
    c->model_degree = 2;
    c->model_min_samples = 20;
    c->model_forget = 0.9999;
    c->segments = 8;
    c->egress_weight = 0;
    c->max_shift = 0.1;
    c->min_gain_abs = 0;
    c->min_gain_rel = 0.01;
    c->rollback_tolerance = 0.1;
    c->settle_ms = 2000;
    c->rollback_samples = 2;
    c->default_bytes_per_call = 1024;
    c->debounce_quiet_ms = 1000;
    c->debounce_max_ms = 10000;
    c->debounce_max_changes = 1000;
    snprintf(c->region_label, sizeof(c->region_label), "topology.kubernetes.io/region");
    c->max_clock_skew_ms = 0;
    c->pod_reports_per_s = 20;
    c->pod_share_factor = 3;
    c->pod_share_min_pods = 3;
    /* trust */
    snprintf(c->admin_listen, sizeof(c->admin_listen), "127.0.0.1");
    c->admin_port = CTL_ADMIN_PORT_AUTO;
    c->max_connections_per_client = 32;
    c->listen_backlog = 256;
    c->header_timeout_ms = 10000;
    c->body_grace_ms = 5000;
    c->body_min_rate = 4096;
    c->max_buffered_bytes = 64u << 20;
    c->idle_timeout_s = 30;
}

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

int ctl_config_set(ctl_config_t *c, const char *key, const char *value, char *err, size_t errcap)
{
    const opt_def *o = NULL;
    for (size_t i = 0; i < N_OPTS; i++)
        if (strcmp(k_opts[i].name, key) == 0)
            o = &k_opts[i];
    if (!o)
        return fail(err, errcap, "unknown option '%s'", key);
    char *base = (char *)c + o->offset;
    char *end = NULL;
    switch (o->type) {
    case T_STR: {
        size_t n = strlen(value);
        if (n >= o->size)
            return fail(err, errcap, "option '%s': value longer than %zu bytes", key, o->size - 1);
        memcpy(base, value, n + 1);
        return 0;
    }
    case T_ROLE:
        if (strcmp(value, "global") == 0)
            c->role = CTL_ROLE_GLOBAL;
        else if (strcmp(value, "cluster") == 0)
            c->role = CTL_ROLE_CLUSTER;
        else
            return fail(err, errcap, "option 'role': '%s' is not global or cluster", value);
        return 0;
    case T_ROUTING:
        if (strcmp(value, "slate") == 0)
            c->routing = CTL_ROUTING_SLATE;
        else if (strcmp(value, "local") == 0)
            c->routing = CTL_ROUTING_LOCAL;
        else if (strcmp(value, "waterfall") == 0)
            c->routing = CTL_ROUTING_WATERFALL;
        else
            return fail(err, errcap, "option 'routing': '%s' is not slate, local or waterfall",
                        value);
        return 0;
    case T_U32:
    case T_U64: {
        if (value[0] == '-' || value[0] == '\0')
            return fail(err, errcap, "option '%s': '%s' is not a non-negative integer", key, value);
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || *end != '\0')
            return fail(err, errcap, "option '%s': '%s' is not a non-negative integer", key, value);
        if ((double)v < o->min || (double)v > o->max)
            return fail(err, errcap, "option '%s': %llu is outside [%.0f, %.0f]", key, v, o->min,
                        o->max);
        if (o->type == T_U32) {
            uint32_t x = (uint32_t)v;
            memcpy(base, &x, sizeof(x));
        } else {
            uint64_t x = (uint64_t)v;
            memcpy(base, &x, sizeof(x));
        }
        return 0;
    }
    case T_F64: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || *end != '\0' || value[0] == '\0' || !isfinite(v))
            return fail(err, errcap, "option '%s': '%s' is not a finite number", key, value);
        if (v < o->min || v > o->max)
            return fail(err, errcap, "option '%s': %g is outside [%g, %g]", key, v, o->min, o->max);
        memcpy(base, &v, sizeof(v));
        return 0;
    }
    }
    return fail(err, errcap, "option '%s': internal error", key);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int ctl_config_load_file(ctl_config_t *c, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errcap, "config file %s: %s", path, strerror(errno));
    char line[2048];
    unsigned lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fclose(f);
            return fail(err, errcap, "%s:%u: line too long", path, lineno);
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fclose(f);
            return fail(err, errcap, "%s:%u: expected 'key = value'", path, lineno);
        }
        *eq = '\0';
        char *key = trim(s);
        char *val = trim(eq + 1);
        char sub[256];
        if (ctl_config_set(c, key, val, sub, sizeof(sub)) != 0) {
            fclose(f);
            return fail(err, errcap, "%s:%u: %s", path, lineno, sub);
        }
    }
    fclose(f);
    return 0;
}

void ctl_config_usage(FILE *out)
{
    fprintf(out, "usage: slate-controller [--option value | --option=value]...\n"
                 "  --config FILE      read 'option = value' lines first (flags override)\n"
                 "  --help, --version\n");
    for (size_t i = 0; i < N_OPTS; i++)
        fprintf(out, "  --%-26s %s\n", k_opts[i].name, k_opts[i].help);
}

int ctl_config_parse_args(ctl_config_t *c, int argc, char **argv, char *err, size_t errcap)
{
    /* The config file first, so that flags override it. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *file = NULL;
        if (strcmp(a, "--config") == 0) {
            if (i + 1 >= argc)
                return fail(err, errcap, "--config needs a value");
            file = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            file = a + 9;
        }
        if (file && ctl_config_load_file(c, file, err, errcap) != 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            ctl_config_usage(stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("slate-controller %s\n", SLATE_VERSION_STRING);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0)
            return fail(err, errcap, "unexpected argument '%s'", a);
        char key[64];
        const char *val;
        const char *eq = strchr(a + 2, '=');
        if (eq) {
            size_t n = (size_t)(eq - (a + 2));
            if (n >= sizeof(key))
                return fail(err, errcap, "unknown option '%s'", a);
            memcpy(key, a + 2, n);
            key[n] = '\0';
            val = eq + 1;
        } else {
            snprintf(key, sizeof(key), "%s", a + 2);
            if (i + 1 >= argc)
                return fail(err, errcap, "option '%s' needs a value", a);
            val = argv[++i];
        }
        if (strcmp(key, "config") == 0)
            continue;
        if (ctl_config_set(c, key, val, err, errcap) != 0)
            return -1;
    }
    return 0;
}

int ctl_config_validate(const ctl_config_t *c, char *err, size_t errcap)
{
    if (c->role == CTL_ROLE_CLUSTER) {
        if (c->upstream[0] == '\0')
            return fail(err, errcap, "the cluster role needs --upstream http://host:port");
        if (strncmp(c->upstream, "http://", 7) != 0)
            return fail(err, errcap, "--upstream must start with http://");
        if (c->region[0] == '\0')
            return fail(err, errcap, "the cluster role needs --region NAME");
        const char *why = NULL;
        if (slate_name_check(SLATE_NAME_REGION, c->region, strlen(c->region), &why) != SLATE_OK)
            return fail(err, errcap, "--region '%.80s': the region %s", c->region, why);
    }
    if (c->debounce_max_ms < c->debounce_quiet_ms)
        return fail(err, errcap, "--debounce-max-ms must be >= --debounce-quiet-ms");
    return ctl_config_validate_trust(c, err, errcap);
}

/* Whether an address only loopback clients can reach. */
static bool loopback_only(const char *a)
{
    return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 || strcmp(a, "localhost") == 0;
}

int ctl_config_validate_trust(const ctl_config_t *c, char *err, size_t errcap)
{
    if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0'))
        return fail(err, errcap, "--tls-cert and --tls-key go together");
    if (c->tls_client_ca[0] && !c->tls_cert[0])
        return fail(err, errcap, "--tls-client-ca needs --tls-cert and --tls-key");
    bool credential = c->auth_token_file[0] || c->tls_client_ca[0];
    if (!credential && !c->insecure && !loopback_only(c->listen))
        return fail(err, errcap,
                    "--listen %s reaches beyond this host but no credential is configured: set "
                    "--auth-token-file (or --tls-client-ca), or --insecure 1 to accept anyone",
                    c->listen);
    if (c->upstream_token_file[0] && c->role != CTL_ROLE_CLUSTER)
        return fail(err, errcap, "--upstream-token-file is for the cluster role");
    return 0;
}
