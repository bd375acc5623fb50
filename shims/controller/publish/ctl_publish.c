/*
 * slate-controller: the rules in force, their persistence and exports
 * (ctl_publish.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_publish.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl_clock.h"
#include "ctl_export.h"
#include "ctl_log.h"
#include "ctl_persist.h"

/* Kind tag of the persisted rules file ("RULE"). */
#define CTL_KIND_RULES 0x454C5552u

void ctl_publisher_init(ctl_publisher_t *p, const ctl_config_t *cfg, ctl_metrics_t *m)
{
    memset(p, 0, sizeof(*p));
    p->cfg = cfg;
    p->m = m;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->export_mu, NULL);
    pthread_cond_init(&p->export_cv, NULL);
    atomic_init(&p->persist_failing, false);
    atomic_init(&p->current_serial, 0);
    atomic_init(&p->stopping, false);
    ctl_debounce_init(&p->debounce, cfg->debounce_quiet_ms * 1000000ull,
                      cfg->debounce_max_ms * 1000000ull, cfg->debounce_max_changes);
}

void ctl_publisher_destroy(ctl_publisher_t *p)
{
    pthread_mutex_lock(&p->export_mu);
    atomic_store(&p->stopping, true);
    pthread_cond_broadcast(&p->export_cv);
    pthread_mutex_unlock(&p->export_mu);
    if (p->export_started)
        pthread_join(p->export_thread, NULL);
    p->export_started = false;
    ctl_rules_unref(p->current);
    ctl_rules_unref(p->previous);
    p->current = p->previous = NULL;
    atomic_store(&p->current_serial, 0);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->export_mu);
    pthread_cond_destroy(&p->export_cv);
}

uint64_t ctl_publisher_serial(ctl_publisher_t *p)
{
    return atomic_load_explicit(&p->current_serial, memory_order_acquire);
}

ctl_rules_t *ctl_publisher_rules(ctl_publisher_t *p)
{
    pthread_mutex_lock(&p->mu);
    ctl_rules_t *r = p->current;
    ctl_rules_ref(r);
    pthread_mutex_unlock(&p->mu);
    return r;
}

void ctl_publisher_pair(ctl_publisher_t *p, ctl_rules_t **current, ctl_rules_t **previous)
{
    pthread_mutex_lock(&p->mu);
    *current = p->current;
    *previous = p->previous;
    ctl_rules_ref(*current);
    ctl_rules_ref(*previous);
    pthread_mutex_unlock(&p->mu);
}

bool ctl_publisher_refresh_due(ctl_publisher_t *p)
{
    if (p->cfg->rules_ttl_ms == 0)
        return false;
    pthread_mutex_lock(&p->mu);
    bool due =
        p->current && ctl_mono_ns() - p->last_publish_ns >= p->cfg->rules_ttl_ms * 1000000ull / 2;
    pthread_mutex_unlock(&p->mu);
    return due;
}

static void persist(ctl_publisher_t *p, const ctl_rules_t *r)
{
    if (p->rules_path[0] == '\0')
        return;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    if (ctl_rules_encode_all(r, &b) != 0 || b.failed) {
        ctl_buf_free(&b);
        atomic_fetch_add(&p->m->persist_failed, 1);
        atomic_store(&p->persist_failing, true);
        ctl_log(CTL_LOG_ERROR, "persist rules v%" PRIu64 ": out of memory", r->version);
        return;
    }
    ctl_persist_err e = ctl_persist_save(p->rules_path, CTL_KIND_RULES, b.data, b.len);
    atomic_store(&p->persist_failing, e != CTL_PERSIST_OK);
    if (e == CTL_PERSIST_OK) {
        atomic_fetch_add(&p->m->persist_ok, 1);
    } else {
        atomic_fetch_add(&p->m->persist_failed, 1);
        ctl_log(CTL_LOG_ERROR, "persist rules v%" PRIu64 " to %s: %s (%s)", r->version,
                p->rules_path, ctl_persist_strerror(e), strerror(errno));
    }
    ctl_buf_free(&b);
}

void ctl_publish(ctl_publisher_t *p, ctl_rules_t *r, uint32_t changes)
{
    /* Only the solver (or the restore at start) publishes, so the version can
     * be taken before the swap; persisting first means a version proxies saw
     * is on disk. */
    pthread_mutex_lock(&p->mu);
    r->version = ++p->last_version;
    pthread_mutex_unlock(&p->mu);
    r->generated_ns = ctl_now_ns();
    r->ttl_ns = p->cfg->rules_ttl_ms * 1000000ull;
    persist(p, r);
    atomic_store(&p->m->rules_version, r->version);
    atomic_fetch_add(&p->m->rules_published, 1);
    pthread_mutex_lock(&p->mu);
    ctl_rules_t *old_prev = p->previous;
    p->previous = p->current;
    p->current = r;
    atomic_store_explicit(&p->current_serial, r->serial, memory_order_release);
    p->last_publish_ns = ctl_mono_ns();
    pthread_mutex_unlock(&p->mu);
    ctl_rules_unref(old_prev);
    ctl_log(CTL_LOG_INFO, "published rules v%" PRIu64 " (%s): %zu rules, %u changes", r->version,
            r->origin, r->n_rules, changes);
    if (changes > 0) {
        pthread_mutex_lock(&p->export_mu);
        ctl_debounce_change(&p->debounce, ctl_mono_ns(), changes);
        pthread_cond_signal(&p->export_cv);
        pthread_mutex_unlock(&p->export_mu);
    }
}

bool ctl_publisher_relay(ctl_publisher_t *p, ctl_rules_t *r)
{
    pthread_mutex_lock(&p->mu);
    bool same =
        p->current && p->current->version == r->version && ctl_rules_same_routing(p->current, r);
    ctl_rules_t *old_prev = NULL;
    if (!same) {
        old_prev = p->previous;
        p->previous = p->current;
        p->current = r;
        atomic_store_explicit(&p->current_serial, r->serial, memory_order_release);
        p->last_version = r->version;
        p->last_publish_ns = ctl_mono_ns();
    }
    pthread_mutex_unlock(&p->mu);
    ctl_rules_unref(old_prev);
    if (same) {
        ctl_rules_unref(r);
        return false;
    }
    atomic_store(&p->m->rules_version, r->version);
    atomic_fetch_add(&p->m->rules_published, 1);
    return true;
}

void ctl_publisher_restore(ctl_publisher_t *p)
{
    if (p->cfg->state_dir[0] == '\0') {
        ctl_log(CTL_LOG_WARN, "no --state-dir: rules will not survive a restart");
        return;
    }
    snprintf(p->rules_path, sizeof(p->rules_path), "%s/rules.bin", p->cfg->state_dir);
    void *payload = NULL;
    size_t len = 0;
    ctl_persist_err e = ctl_persist_load(p->rules_path, CTL_KIND_RULES, 64u << 20, &payload, &len);
    if (e == CTL_PERSIST_ENOENT) {
        ctl_log(CTL_LOG_INFO, "no persisted rules at %s: starting without rules", p->rules_path);
        return;
    }
    if (e != CTL_PERSIST_OK) {
        ctl_log(CTL_LOG_ERROR, "persisted rules at %s unusable: %s; starting without rules",
                p->rules_path, ctl_persist_strerror(e));
        return;
    }
    slate_codec_error_t err;
    memset(&err, 0, sizeof(err));
    ctl_rules_t *r = ctl_rules_decode_all(payload, len, "restored", &err);
    free(payload);
    if (!r) {
        char line[256];
        slate_codec_error_format(&err, line, sizeof(line));
        ctl_log(CTL_LOG_ERROR, "persisted rules at %s do not decode: %s", p->rules_path, line);
        return;
    }
    uint64_t old_version = r->version;
    p->last_version = old_version; /* versions keep increasing across restarts */
    /* A set older than its time to live had expired at every proxy by now:
     * serving it again as new would revive a routing nobody vouches for. */
    uint64_t now = ctl_now_ns();
    uint64_t age = now >= r->generated_ns ? now - r->generated_ns : r->generated_ns - now;
    if (r->ttl_ns > 0 && age > r->ttl_ns) {
        ctl_log(CTL_LOG_WARN,
                "persisted rules v%" PRIu64 " at %s were generated %.1f s %s, past their time to "
                "live of %.1f s: not served; starting without rules",
                old_version, p->rules_path, (double)age / 1e9,
                now >= r->generated_ns ? "ago" : "in the future", (double)r->ttl_ns / 1e9);
        ctl_rules_unref(r);
        return;
    }
    /* The restored set is re-stamped as the next version so proxies take it
     * and its time to live restarts. */
    ctl_log(CTL_LOG_INFO, "restored %zu rules (v%" PRIu64 ") from %s", r->n_rules, old_version,
            p->rules_path);
    ctl_publish(p, r, (uint32_t)r->n_rules);
}

static void push(ctl_publisher_t *p)
{
    ctl_rules_t *r = ctl_publisher_rules(p);
    if (!r)
        return;
    if (ctl_export_write(p->cfg, r, p->cfg->export_dir) == 0) {
        atomic_fetch_add(&p->m->exports_written, 1);
        ctl_log(CTL_LOG_INFO, "exported rules v%" PRIu64 " to %s", r->version, p->cfg->export_dir);
    } else {
        atomic_fetch_add(&p->m->exports_failed, 1);
        ctl_log(CTL_LOG_ERROR, "export of rules v%" PRIu64 " to %s failed: %s", r->version,
                p->cfg->export_dir, strerror(errno));
    }
    ctl_rules_unref(r);
}

static void *export_main(void *arg)
{
    ctl_publisher_t *p = arg;
    pthread_mutex_lock(&p->export_mu);
    for (;;) {
        uint64_t now = ctl_mono_ns();
        bool stop = atomic_load(&p->stopping);
        if (ctl_debounce_due(&p->debounce, now) || (stop && p->debounce.pending > 0)) {
            ctl_debounce_fired(&p->debounce);
            pthread_mutex_unlock(&p->export_mu);
            push(p);
            pthread_mutex_lock(&p->export_mu);
            continue;
        }
        if (stop)
            break;
        uint64_t deadline = ctl_debounce_deadline(&p->debounce);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t wait = deadline == UINT64_MAX ? 3600000000000ull : deadline - now;
        uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + wait;
        ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
        ts.tv_nsec = (long)(abs_ns % 1000000000ull);
        pthread_cond_timedwait(&p->export_cv, &p->export_mu, &ts);
    }
    pthread_mutex_unlock(&p->export_mu);
    return NULL;
}

int ctl_publisher_start_exports(ctl_publisher_t *p)
{
    if (p->cfg->export_dir[0] == '\0')
        return 0;
    if (mkdir(p->cfg->export_dir, 0755) != 0 && errno != EEXIST) {
        ctl_log(CTL_LOG_ERROR, "cannot create --export-dir %s: %s", p->cfg->export_dir,
                strerror(errno));
        return -1;
    }
    if (pthread_create(&p->export_thread, NULL, export_main, p) != 0)
        return -1;
    p->export_started = true;
    return 0;
}
