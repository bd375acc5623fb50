/*
 * slate-controller: the rules in force and everything that follows a
 * publication: the version stamp, durable persistence (--state-dir), the
 * debounced exports on their own thread (--export-dir), and the restore at
 * start. The solver publishes; the cluster role relays what its upstream
 * published; the HTTP layer reads.
 *
 * Thread safety: every function may be called from any thread. `mu` guards
 * current, previous, last_version and last_publish_ns; readers take a
 * reference under it and render without it. Publishing itself is done by
 * one thread at a time (the solver thread, or the restore before it starts).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_PUBLISH_H
#define CTL_PUBLISH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctl_config.h"
#include "ctl_debounce.h"
#include "ctl_metrics.h"
#include "ctl_rules.h"

typedef struct ctl_publisher {
    const ctl_config_t *cfg;
    ctl_metrics_t *m;

    pthread_mutex_t mu;
    ctl_rules_t *current;
    ctl_rules_t *previous;
    atomic_uint_fast64_t current_serial; /* current's serial (0: none), stored under mu */
    uint64_t last_version;
    uint64_t last_publish_ns; /* monotonic */
    char rules_path[CTL_CONFIG_STR + 32];
    atomic_bool persist_failing; /* the last attempt to persist rules failed */

    /* exports: debounced, on their own thread */
    pthread_mutex_t export_mu;
    pthread_cond_t export_cv;
    ctl_debounce_t debounce;
    atomic_bool stopping;
    pthread_t export_thread;
    bool export_started;
} ctl_publisher_t;

/* Sets up an empty publisher over cfg and m (both outlive it). */
void ctl_publisher_init(ctl_publisher_t *p, const ctl_config_t *cfg, ctl_metrics_t *m);
/* Stops the export thread (flushing a pending export) and drops the rules. */
void ctl_publisher_destroy(ctl_publisher_t *p);

/* The rules in force, with a reference the caller drops (NULL before any). */
ctl_rules_t *ctl_publisher_rules(ctl_publisher_t *p);
/* The serial (ctl_rules_t.serial) of the rules in force, 0 before any,
 * without the lock: what a cache of answers compares against. One atomic
 * load. */
uint64_t ctl_publisher_serial(ctl_publisher_t *p);
/* The rules in force and the ones before them, each referenced (either may be NULL). */
void ctl_publisher_pair(ctl_publisher_t *p, ctl_rules_t **current, ctl_rules_t **previous);
/* Whether half the rules' time to live has passed since the last publication. */
bool ctl_publisher_refresh_due(ctl_publisher_t *p);

/*
 * Makes `r` the rules in force: stamps the next version, the time and the
 * TTL, persists it (a version proxies see is on disk first), keeps the old
 * set as previous and tells the exporter about `changes` changed rows.
 * Takes over the caller's reference.
 */
void ctl_publish(ctl_publisher_t *p, ctl_rules_t *r, uint32_t changes);

/* The cluster role: makes the upstream's rules `r` current unless they are
 * the same version and routing; keeps their version. Takes the reference.
 * Returns true when they replaced the rules in force. */
bool ctl_publisher_relay(ctl_publisher_t *p, ctl_rules_t *r);

/* Loads the rules persisted in --state-dir (if set) and publishes them,
 * unless they are older than their time to live; logs what it did. */
void ctl_publisher_restore(ctl_publisher_t *p);

/* Starts the export thread when --export-dir is set; 0, or -1 (logged). */
int ctl_publisher_start_exports(ctl_publisher_t *p);

#endif
