/*
 * slate-controller: the daemon's parts and how they meet.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_APP_H
#define CTL_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl_auth.h"
#include "ctl_config.h"
#include "ctl_debounce.h"
#include "ctl_metrics.h"
#include "ctl_rules.h"
#include "ctl_solver.h"
#include "ctl_state.h"
#include "ctl_tls.h"

struct MHD_Daemon;
struct ctl_cluster;
struct ctl_guard;
struct ctl_app;

/* Which listener a request came in on (the daemon's callback argument). */
typedef struct ctl_http_side {
    struct ctl_app *app;
    bool admin;
} ctl_http_side_t;

/* What the last solve did, for /v1/state. */
typedef struct ctl_solve_stats {
    uint64_t rounds;
    uint64_t last_ns;
    char last_outcome[96]; /* "applied", "skipped: gain below threshold", "failed: ...", ... */
    char method[16];       /* "lp", "local", "waterfall" */
    slate_status last_status;
    double objective_current;  /* of the routing in force, evaluated on this round's problem */
    double objective_proposed; /* of the optimum */
    double objective_applied;  /* after the bounded step */
    double overload_current;   /* largest rps over a capacity of the routing in force */
    double mean_latency_ms;    /* modelled, of the optimum */
    double measured_latency_ms;
    double shift; /* largest fraction of traffic moved in one row */
    double build_ms, solve_ms, total_ms;
    unsigned columns, rows, iterations;
    unsigned classes, endpoints, edges, regions, services;
    int guard_active;
    int cooldown;
} ctl_solve_stats_t;

typedef struct ctl_app {
    ctl_config_t cfg;
    ctl_metrics_t metrics;
    ctl_state_t *state;
    ctl_solver_t *solver; /* global role */
    struct ctl_cluster *cluster;
    ctl_regions_file_t *regions;

    /* rules in force and the ones before them */
    pthread_mutex_t rules_mu;
    ctl_rules_t *current;
    ctl_rules_t *previous;
    uint64_t last_version;
    uint64_t last_publish_ns;
    char rules_path[CTL_CONFIG_STR + 32];

    pthread_mutex_t solve_mu;
    ctl_solve_stats_t solve;

    /* exports: debounced, on their own thread */
    pthread_mutex_t export_mu;
    pthread_cond_t export_cv;
    ctl_debounce_t debounce;

    /* background threads */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;
    atomic_bool stopping;
    atomic_bool persist_failing; /* the last attempt to persist rules failed */
    pthread_t solver_thread, export_thread, forward_thread;
    bool solver_started, export_started, forward_started;

    struct MHD_Daemon *mhd;
    uint16_t port;
    uint64_t started_ns;

    /* trust: credentials, the admin listener, per-client limits */
    ctl_auth_t auth;
    ctl_tls_t tls;
    struct ctl_guard *guard;
    struct MHD_Daemon *admin_mhd;
    uint16_t admin_port;
    ctl_http_side_t side_data, side_admin;
} ctl_app_t;

/* Wall clock (unix ns) and a monotonic clock. */
uint64_t ctl_now_ns(void);
uint64_t ctl_mono_ns(void);

/* The rules in force, with a reference the caller drops (NULL before any). */
ctl_rules_t *ctl_app_rules(ctl_app_t *app);

/*
 * Makes `r` the rules in force: stamps the next version and the time,
 * keeps the old set as previous, persists (when a state dir is set) and
 * tells the exporter. Takes over the caller's reference.
 */
void ctl_app_publish(ctl_app_t *app, ctl_rules_t *r, uint32_t changes);

/* Loads persisted rules (state dir) and makes them current; logs what it did. */
void ctl_app_restore(ctl_app_t *app);

/* HTTP server (ctl_http.c). */
int ctl_http_start(ctl_app_t *app);
void ctl_http_stop(ctl_app_t *app);

/* Export thread (ctl_export.c). */
int ctl_export_start(ctl_app_t *app);

/* Cluster role (ctl_cluster.c). */
struct ctl_cluster *ctl_cluster_create(ctl_app_t *app);
void ctl_cluster_free(struct ctl_cluster *c);
int ctl_cluster_ingest(struct ctl_cluster *c, const slate_load_report_t *rep, bool latency_only);
int ctl_cluster_start(ctl_app_t *app);
void ctl_cluster_write_json(struct ctl_cluster *c, ctl_json_t *j);

/* Signals the background threads to stop and joins them. */
void ctl_app_stop_threads(ctl_app_t *app);

#endif
