/*
 * slate-controller: per-client limits, deadlines and the body budget (see
 * ctl_guard.h).
 *
 * Concurrency: libmicrohttpd's threads call the notify and request hooks,
 * the watchdog scans; one mutex guards the connection list. A socket is shut
 * down only while its entry is in the list under the mutex, and the entry
 * leaves the list in the CLOSED notification, which libmicrohttpd sends
 * before it closes the descriptor, so a shutdown never hits a reused one.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_guard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct g_conn {
    struct g_conn *prev, *next;
    int fd;
    unsigned char addr[16]; /* IPv4 as v4-mapped IPv6 */
    uint64_t phase_ns;      /* opened, headers done, or last answer */
    uint64_t body_bytes;
    uint64_t charged;
    bool in_body; /* headers done, request not answered yet */
    bool cut;
} g_conn;

struct ctl_guard {
    ctl_guard_limits_t lim;
    ctl_metrics_t *metrics;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    g_conn head; /* sentinel */
    uint64_t open;
    atomic_uint_fast64_t buffered;
    pthread_t thread;
    bool started, stopping;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

ctl_guard_t *ctl_guard_create(const ctl_guard_limits_t *lim, ctl_metrics_t *m)
{
    ctl_guard_t *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->lim = *lim;
    g->metrics = m;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->head.next = g->head.prev = &g->head;
    atomic_init(&g->buffered, 0);
    return g;
}

static void client_addr(struct MHD_Connection *c, unsigned char out[16])
{
    memset(out, 0, 16);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)(const void *)sa;
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out, &a6->sin6_addr, 16);
    }
}

static g_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (g_conn *)ci->socket_context : NULL;
}

void ctl_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code)
{
    ctl_guard_t *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        g_conn *e = calloc(1, sizeof(*e));
        if (!e)
            return; /* not followed: no limits for it, but nothing breaks */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        e->fd = ci ? ci->connect_fd : -1;
        client_addr(c, e->addr);
        e->phase_ns = mono_ns();
        pthread_mutex_lock(&g->mu);
        e->next = g->head.next;
        e->prev = &g->head;
        g->head.next->prev = e;
        g->head.next = e;
        g->open++;
        pthread_mutex_unlock(&g->mu);
        *socket_context = e;
        return;
    }
    g_conn *e = *socket_context;
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    e->prev->next = e->next;
    e->next->prev = e->prev;
    g->open--;
    uint64_t charged = e->charged;
    pthread_mutex_unlock(&g->mu);
    atomic_fetch_sub(&g->buffered, charged);
    free(e);
    *socket_context = NULL;
}

ctl_guard_verdict ctl_guard_request_begin(ctl_guard_t *g, struct MHD_Connection *c)
{
    g_conn *e = conn_of(c);
    if (!e)
        return CTL_GUARD_OK;
    ctl_guard_verdict v = CTL_GUARD_OK;
    pthread_mutex_lock(&g->mu);
    e->in_body = true;
    e->body_bytes = 0;
    e->phase_ns = mono_ns();
    if (g->open > g->lim.soft_connections) {
        v = CTL_GUARD_OVERLOADED;
    } else if (g->lim.per_client > 0) {
        /* Count this client's connections opened before this one: the
         * earliest `per_client` of them are served. */
        uint32_t older = 0;
        for (g_conn *p = e->next; p != &g->head; p = p->next)
            if (memcmp(p->addr, e->addr, 16) == 0)
                older++;
        if (older >= g->lim.per_client)
            v = CTL_GUARD_CLIENT_BUSY;
    }
    pthread_mutex_unlock(&g->mu);
    return v;
}

bool ctl_guard_charge(ctl_guard_t *g, struct MHD_Connection *c, size_t more)
{
    g_conn *e = conn_of(c);
    uint64_t now = atomic_fetch_add(&g->buffered, more);
    if (now + more > g->lim.max_buffered) {
        atomic_fetch_sub(&g->buffered, more);
        return false;
    }
    if (e) {
        pthread_mutex_lock(&g->mu);
        e->charged += more;
        pthread_mutex_unlock(&g->mu);
    } else {
        atomic_fetch_sub(&g->buffered, more); /* not followed: cannot release later */
    }
    return true;
}

void ctl_guard_received(ctl_guard_t *g, struct MHD_Connection *c, size_t n)
{
    g_conn *e = conn_of(c);
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    e->body_bytes += n;
    pthread_mutex_unlock(&g->mu);
}

void ctl_guard_request_end(ctl_guard_t *g, struct MHD_Connection *c)
{
    g_conn *e = conn_of(c);
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    uint64_t charged = e->charged;
    e->charged = 0;
    e->in_body = false;
    e->phase_ns = mono_ns();
    pthread_mutex_unlock(&g->mu);
    atomic_fetch_sub(&g->buffered, charged);
}

void ctl_guard_gauges(ctl_guard_t *g, uint64_t *open, uint64_t *buffered)
{
    pthread_mutex_lock(&g->mu);
    *open = g->open;
    pthread_mutex_unlock(&g->mu);
    *buffered = atomic_load(&g->buffered);
}

/* Whether a connection is past its header deadline or below the body rate. */
static bool too_slow(const ctl_guard_limits_t *lim, const g_conn *e, uint64_t now)
{
    uint64_t age_ms = (now - e->phase_ns) / 1000000ull;
    if (!e->in_body)
        return lim->header_timeout_ms > 0 && age_ms > lim->header_timeout_ms;
    if (lim->body_min_rate == 0 || age_ms <= lim->body_grace_ms)
        return false;
    return e->body_bytes * 1000ull < lim->body_min_rate * (age_ms - lim->body_grace_ms);
}

static void *watchdog(void *arg)
{
    ctl_guard_t *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        uint64_t now = mono_ns();
        for (g_conn *e = g->head.next; e != &g->head; e = e->next) {
            if (e->cut || e->fd < 0 || !too_slow(&g->lim, e, now))
                continue;
            e->cut = true;
            shutdown(e->fd, SHUT_RDWR);
            ctl_metrics_reject(g->metrics, CTL_REJECT_SLOW, SLATE_OK);
        }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int ctl_guard_start(ctl_guard_t *g)
{
    if (pthread_create(&g->thread, NULL, watchdog, g) != 0)
        return -1;
    g->started = true;
    return 0;
}

void ctl_guard_free(ctl_guard_t *g)
{
    if (!g)
        return;
    if (g->started) {
        pthread_mutex_lock(&g->mu);
        g->stopping = true;
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    /* The daemon is stopped: its CLOSED notifications emptied the list. */
    for (g_conn *e = g->head.next; e != &g->head;) {
        g_conn *n = e->next;
        free(e);
        e = n;
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}
