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
#include "ctl_clock.h"
#include "ctl_config.h"
#include "ctl_metrics.h"
#include "ctl_publish.h"
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

typedef struct ctl_app {
    ctl_config_t cfg;
    ctl_metrics_t metrics;
    ctl_state_t *state;
    ctl_solver_t *solver; /* global role */
    struct ctl_cluster *cluster;
    ctl_regions_file_t *regions;

    /* the rules in force, their persistence and exports */
    ctl_publisher_t pub;

    /* the cluster role's forward thread */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;
    atomic_bool stopping;
    pthread_t forward_thread;
    bool forward_started;

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

/* Stops the background threads (solver, cluster forward, exports) and joins them. */
void ctl_app_stop_threads(ctl_app_t *app);

#endif
