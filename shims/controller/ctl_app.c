/*
 * slate-controller: clocks, the rules in force, persistence and thread stop.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_app.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_log.h"
#include "ctl_persist.h"

/* Kind tag of the persisted rules file ("RULE"). */
#define CTL_KIND_RULES 0x454C5552u

uint64_t ctl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ctl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

ctl_rules_t *ctl_app_rules(ctl_app_t *app)
{
    pthread_mutex_lock(&app->rules_mu);
    ctl_rules_t *r = app->current;
    ctl_rules_ref(r);
    pthread_mutex_unlock(&app->rules_mu);
    return r;
}

static void persist(ctl_app_t *app, const ctl_rules_t *r)
{
    if (app->rules_path[0] == '\0')
        return;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    if (ctl_rules_encode_all(r, &b) != 0 || b.failed) {
        ctl_buf_free(&b);
        atomic_fetch_add(&app->metrics.persist_failed, 1);
        atomic_store(&app->persist_failing, true);
        ctl_log(CTL_LOG_ERROR, "persist rules v%" PRIu64 ": out of memory", r->version);
        return;
    }
    ctl_persist_err e = ctl_persist_save(app->rules_path, CTL_KIND_RULES, b.data, b.len);
    atomic_store(&app->persist_failing, e != CTL_PERSIST_OK);
    if (e == CTL_PERSIST_OK) {
        atomic_fetch_add(&app->metrics.persist_ok, 1);
    } else {
        atomic_fetch_add(&app->metrics.persist_failed, 1);
        ctl_log(CTL_LOG_ERROR, "persist rules v%" PRIu64 " to %s: %s (%s)", r->version,
                app->rules_path, ctl_persist_strerror(e), strerror(errno));
    }
    ctl_buf_free(&b);
}

void ctl_app_publish(ctl_app_t *app, ctl_rules_t *r, uint32_t changes)
{
    /* Only the solver (or the restore at start) publishes, so the version can
     * be taken before the swap; persisting first means a version proxies saw
     * is on disk. */
    pthread_mutex_lock(&app->rules_mu);
    r->version = ++app->last_version;
    pthread_mutex_unlock(&app->rules_mu);
    r->generated_ns = ctl_now_ns();
    r->ttl_ns = app->cfg.rules_ttl_ms * 1000000ull;
    persist(app, r);
    atomic_store(&app->metrics.rules_version, r->version);
    atomic_fetch_add(&app->metrics.rules_published, 1);
    pthread_mutex_lock(&app->rules_mu);
    ctl_rules_t *old_prev = app->previous;
    app->previous = app->current;
    app->current = r;
    app->last_publish_ns = ctl_mono_ns();
    pthread_mutex_unlock(&app->rules_mu);
    ctl_rules_unref(old_prev);
    ctl_log(CTL_LOG_INFO, "published rules v%" PRIu64 " (%s): %zu rules, %u changes", r->version,
            r->origin, r->n_rules, changes);
    if (changes > 0) {
        pthread_mutex_lock(&app->export_mu);
        ctl_debounce_change(&app->debounce, ctl_mono_ns(), changes);
        pthread_cond_signal(&app->export_cv);
        pthread_mutex_unlock(&app->export_mu);
    }
}

void ctl_app_restore(ctl_app_t *app)
{
    if (app->cfg.state_dir[0] == '\0') {
        ctl_log(CTL_LOG_WARN, "no --state-dir: rules will not survive a restart");
        return;
    }
    snprintf(app->rules_path, sizeof(app->rules_path), "%s/rules.bin", app->cfg.state_dir);
    void *payload = NULL;
    size_t len = 0;
    ctl_persist_err e =
        ctl_persist_load(app->rules_path, CTL_KIND_RULES, 64u << 20, &payload, &len);
    if (e == CTL_PERSIST_ENOENT) {
        ctl_log(CTL_LOG_INFO, "no persisted rules at %s: starting without rules", app->rules_path);
        return;
    }
    if (e != CTL_PERSIST_OK) {
        ctl_log(CTL_LOG_ERROR, "persisted rules at %s unusable: %s; starting without rules",
                app->rules_path, ctl_persist_strerror(e));
        return;
    }
    slate_codec_error_t err;
    memset(&err, 0, sizeof(err));
    ctl_rules_t *r = ctl_rules_decode_all(payload, len, "restored", &err);
    free(payload);
    if (!r) {
        char line[256];
        slate_codec_error_format(&err, line, sizeof(line));
        ctl_log(CTL_LOG_ERROR, "persisted rules at %s do not decode: %s", app->rules_path, line);
        return;
    }
    uint64_t old_version = r->version;
    app->last_version = old_version; /* versions keep increasing across restarts */
    /* A set older than its time to live had expired at every proxy by now:
     * serving it again as new would revive a routing nobody vouches for. */
    uint64_t now = ctl_now_ns();
    uint64_t age = now >= r->generated_ns ? now - r->generated_ns : r->generated_ns - now;
    if (r->ttl_ns > 0 && age > r->ttl_ns) {
        ctl_log(CTL_LOG_WARN,
                "persisted rules v%" PRIu64 " at %s were generated %.1f s %s, past their time to "
                "live of %.1f s: not served; starting without rules",
                old_version, app->rules_path, (double)age / 1e9,
                now >= r->generated_ns ? "ago" : "in the future", (double)r->ttl_ns / 1e9);
        ctl_rules_unref(r);
        return;
    }
    /* The restored set is re-stamped as the next version so proxies take it
     * and its time to live restarts. */
    ctl_log(CTL_LOG_INFO, "restored %zu rules (v%" PRIu64 ") from %s", r->n_rules, old_version,
            app->rules_path);
    ctl_app_publish(app, r, (uint32_t)r->n_rules);
}

void ctl_app_stop_threads(ctl_app_t *app)
{
    pthread_mutex_lock(&app->wake_mu);
    app->stopping = true;
    pthread_cond_broadcast(&app->wake_cv);
    pthread_mutex_unlock(&app->wake_mu);
    pthread_mutex_lock(&app->export_mu);
    pthread_cond_broadcast(&app->export_cv);
    pthread_mutex_unlock(&app->export_mu);
    if (app->solver_started)
        pthread_join(app->solver_thread, NULL);
    if (app->forward_started)
        pthread_join(app->forward_thread, NULL);
    if (app->export_started)
        pthread_join(app->export_thread, NULL);
    app->solver_started = app->forward_started = app->export_started = false;
}
