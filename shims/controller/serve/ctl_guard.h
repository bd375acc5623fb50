/*
 * slate-controller: what one client may take of the data port.
 *
 * The guard follows every connection of a libmicrohttpd daemon (through its
 * connection-notify callback) and enforces:
 *  - a per-client connection limit (by source address): requests on the
 *    connections past it are answered 503 with Retry-After and closed;
 *  - a global overload threshold: past `soft_connections` open connections
 *    new requests get the same 503 instead of a silent stall;
 *  - a header deadline: a connection must complete a request's headers
 *    within header_timeout_ms of opening or of its previous answer;
 *  - a minimum body rate: after body_grace_ms a body must have arrived at
 *    body_min_rate bytes/s on average, or the connection is cut;
 *  - a budget of body bytes buffered over all connections (max_buffered):
 *    a body that would exceed it is answered 503 with Retry-After.
 * Deadlines are enforced by a watchdog thread that shuts the socket down
 * (libmicrohttpd then closes the connection on its own thread).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_GUARD_H
#define CTL_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_metrics.h"

typedef struct ctl_guard_limits {
    uint32_t soft_connections;  /* open connections before new requests get 503 */
    uint32_t per_client;        /* open connections per source address; 0 = no limit */
    uint64_t header_timeout_ms; /* 0 = none */
    uint64_t body_grace_ms;
    uint64_t body_min_rate; /* bytes per second; 0 = none */
    uint64_t max_buffered;  /* body bytes held over all connections */
} ctl_guard_limits_t;

typedef struct ctl_guard ctl_guard_t;

typedef enum ctl_guard_verdict {
    CTL_GUARD_OK = 0,
    CTL_GUARD_CLIENT_BUSY, /* this client holds its share of connections */
    CTL_GUARD_OVERLOADED,  /* the daemon as a whole is at its connection threshold */
} ctl_guard_verdict;

/* NULL when out of memory. Counters go to m (rejected{reason=...}). */
ctl_guard_t *ctl_guard_create(const ctl_guard_limits_t *lim, ctl_metrics_t *m);
/* Starts the watchdog thread; 0 or -1. */
int ctl_guard_start(ctl_guard_t *g);
/* Stops the watchdog (call after the daemon stopped) and frees everything. */
void ctl_guard_free(ctl_guard_t *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void ctl_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);

/* A request's headers arrived: may it proceed? */
ctl_guard_verdict ctl_guard_request_begin(ctl_guard_t *g, struct MHD_Connection *c);

/*
 * Accounts `more` bytes of body memory for this connection's request
 * (reserve before growing a buffer). False when the global budget would be
 * exceeded (nothing charged then).
 */
bool ctl_guard_charge(ctl_guard_t *g, struct MHD_Connection *c, size_t more);
/* Body bytes that arrived (for the minimum rate). */
void ctl_guard_received(ctl_guard_t *g, struct MHD_Connection *c, size_t n);
/* The request is over: its charge is released, the header deadline restarts. */
void ctl_guard_request_end(ctl_guard_t *g, struct MHD_Connection *c);

/* Open connections and body bytes held now (for /metrics). */
void ctl_guard_gauges(ctl_guard_t *g, uint64_t *open, uint64_t *buffered);

/* Seconds a client told 503 should wait. */
#define CTL_GUARD_RETRY_AFTER_S "1"

#endif
