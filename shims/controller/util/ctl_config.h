/*
 * slate-controller: configuration from flags and an optional key=value file.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_CONFIG_H
#define CTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ctl_role { CTL_ROLE_GLOBAL = 0, CTL_ROLE_CLUSTER = 1 } ctl_role;
typedef enum ctl_routing {
    CTL_ROUTING_SLATE = 0,     /* the LP optimiser with the stability rules */
    CTL_ROUTING_LOCAL = 1,     /* local-only baseline */
    CTL_ROUTING_WATERFALL = 2, /* waterfall baseline */
} ctl_routing;

#define CTL_CONFIG_STR      512
#define CTL_ADMIN_PORT_AUTO 0xFFFFFFFFu

typedef struct ctl_config {
    ctl_role role;
    char listen[64];
    uint32_t port;
    char port_file[CTL_CONFIG_STR];
    char state_dir[CTL_CONFIG_STR];
    char export_dir[CTL_CONFIG_STR];
    char regions_file[CTL_CONFIG_STR];
    char upstream[CTL_CONFIG_STR]; /* cluster role: http://host:port of the global controller */
    char region[128];              /* cluster role: the cluster's region */
    char log_level[16];
    uint32_t threads;

    /* timing */
    uint64_t solve_period_ms;
    uint64_t forward_period_ms;
    uint64_t forward_timeout_ms;
    uint64_t rules_ttl_ms;
    uint64_t stitch_window_ms;

    /* limits */
    uint64_t max_body_bytes;
    uint32_t max_services;
    uint32_t max_endpoints_per_service;
    uint32_t max_regions;
    uint32_t max_spans_per_report;
    uint32_t max_edges;
    uint64_t table_ttl_s; /* entries silent this long are retired; 0: never */
    uint32_t max_outbound;
    uint32_t span_table;
    double span_admit_fill; /* share of span_table the admitted spans' window may fill; 0: all */
    uint32_t max_connections;

    /* optimiser and stability */
    ctl_routing routing;
    uint32_t model_degree;
    double model_min_samples;
    double model_forget;
    uint32_t segments;
    bool solve_full_lp;     /* benchmarks: the full LP, cold, as before the reduction */
    bool solve_local_start; /* benchmarks: the reduced LP from local routing, as before */
    double egress_weight;
    double max_shift;
    double min_gain_abs;
    double min_gain_rel;
    double rollback_tolerance;
    uint64_t settle_ms;
    uint32_t rollback_samples;
    double default_bytes_per_call;

    /* exports */
    uint64_t debounce_quiet_ms;
    uint64_t debounce_max_ms;
    uint32_t debounce_max_changes;
    char region_label[128]; /* pod label naming the region, for Istio subsets */
    /* plausibility: what one reporter can move (docs/controller.md, "Plausibility") */
    uint64_t max_clock_skew_ms;  /* reports timed further from our clock get 400; 0 = off */
    double pod_reports_per_s;    /* per-pod report rate (burst: twice it); 0 = off */
    double pod_share_factor;     /* a pod counts for at most this x the median pod; 0 = off */
    uint32_t pod_share_min_pods; /* other live pods needed before the share cap applies */

    /* trust: credentials, the admin listener, per-client limits (ctl_auth.h, ctl_guard.h) */
    char auth_token_file[CTL_CONFIG_STR];     /* bearer tokens accepted on the data port */
    char upstream_token_file[CTL_CONFIG_STR]; /* cluster role: token sent to --upstream */
    char tls_cert[CTL_CONFIG_STR];            /* PEM certificate: serve HTTPS */
    char tls_key[CTL_CONFIG_STR];             /* PEM private key of tls_cert */
    char tls_client_ca[CTL_CONFIG_STR];       /* PEM CA: a client certificate it signed counts
                                                 as a credential */
    uint32_t insecure;                        /* 1: allow a non-loopback listener without any */
    char admin_listen[64];
    uint32_t admin_port; /* CTL_ADMIN_PORT_AUTO: 8001 when port is 8000, else any free one */
    char admin_port_file[CTL_CONFIG_STR];
    uint32_t max_connections_per_client; /* 0: no per-client limit */
    uint32_t listen_backlog;
    uint64_t header_timeout_ms;
    uint64_t body_grace_ms;
    uint64_t body_min_rate; /* bytes per second */
    uint64_t max_buffered_bytes;
    uint32_t idle_timeout_s;
} ctl_config_t;

void ctl_config_defaults(ctl_config_t *c);

/*
 * Sets one option by its long name (without "--"). Returns 0, or -1 with a
 * message in err (unknown key, bad value).
 */
int ctl_config_set(ctl_config_t *c, const char *key, const char *value, char *err, size_t errcap);

/*
 * Reads a config file: one "key = value" per line, '#' starts a comment,
 * blank lines ignored, keys are the long flag names. Returns 0 or -1 with err
 * naming the file and line.
 */
int ctl_config_load_file(ctl_config_t *c, const char *path, char *err, size_t errcap);

/*
 * Parses argv: "--key value", "--key=value", and "-h/--help", "--version".
 * A "--config FILE" is loaded first wherever it appears, so flags override
 * the file. Returns 0 to run, 1 when help/version was printed, -1 on error.
 */
int ctl_config_parse_args(ctl_config_t *c, int argc, char **argv, char *err, size_t errcap);

/* Checks cross-option consistency (cluster role needs upstream and region, ...). */
int ctl_config_validate(const ctl_config_t *c, char *err, size_t errcap);

/*
 * The trust options' part of ctl_config_validate: TLS files in pairs, and no
 * non-loopback data listener without a credential unless --insecure 1.
 */
int ctl_config_validate_trust(const ctl_config_t *c, char *err, size_t errcap);

/* Prints the options and their defaults. */
#include <stdio.h>
void ctl_config_usage(FILE *stream);

#endif
