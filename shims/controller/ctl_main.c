/*
 * slate-controller: entry point. Parses the configuration, restores the
 * persisted rules, starts the HTTP server and the background threads, and
 * on SIGTERM or SIGINT stops the server, the threads, persists the rules in
 * force and exits 0.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_serve.h"
#include "ctl_log.h"
#include "ctl_persist.h"
#include "slate/version.h"

static int write_port_file(const char *path, uint16_t port)
{
    char text[16];
    int n = snprintf(text, sizeof(text), "%u\n", port);
    return ctl_persist_write_atomic(path, text, (size_t)n) == CTL_PERSIST_OK ? 0 : -1;
}

/* SIGHUP: the token file again; on error the tokens in force stay. */
static void reload_tokens(ctl_app_t *app)
{
    char err[700];
    uint32_t n = 0;
    if (!app->auth.enabled) {
        ctl_log(CTL_LOG_INFO, "SIGHUP: no --auth-token-file to reload");
        return;
    }
    if (ctl_auth_reload(&app->auth, &n, err, sizeof(err)) == 0) {
        atomic_fetch_add(&app->metrics.auth_reloads, 1);
        ctl_log(CTL_LOG_INFO, "SIGHUP: %u bearer token(s) now accepted", n);
    } else {
        atomic_fetch_add(&app->metrics.auth_reload_failures, 1);
        ctl_log(CTL_LOG_ERROR, "SIGHUP: token file not reloaded, previous tokens stay: %s", err);
    }
}

int main(int argc, char **argv)
{
    static ctl_app_t app;
    char err[512];
    ctl_config_defaults(&app.cfg);
    int pr = ctl_config_parse_args(&app.cfg, argc, argv, err, sizeof(err));
    if (pr == 1)
        return 0;
    if (pr != 0 || ctl_config_validate(&app.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "slate-controller: %s\n(--help lists the options)\n", err);
        return 2;
    }
    int lvl = ctl_log_parse_level(app.cfg.log_level);
    if (lvl < 0) {
        fprintf(stderr, "slate-controller: unknown --log-level '%s'\n", app.cfg.log_level);
        return 2;
    }
    ctl_log_set_level((ctl_log_level)lvl);

    /* Signals are taken by sigwait in this thread; every other thread blocks them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP); /* reloads the token file */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    ctl_metrics_init(&app.metrics);
    ctl_publisher_init(&app.pub, &app.cfg, &app.metrics);
    pthread_mutex_init(&app.wake_mu, NULL);
    pthread_cond_init(&app.wake_cv, NULL);
    atomic_init(&app.stopping, false);
    app.started_ns = ctl_mono_ns();

    int rc = 1;
    if (app.cfg.state_dir[0]) {
        /* A state directory that cannot take a write fails now, not at every publish. */
        if (ctl_persist_check_dir(app.cfg.state_dir, err, sizeof(err)) != 0) {
            ctl_log(CTL_LOG_ERROR, "cannot use --state-dir %s", err);
            return 2;
        }
        unsigned stale = ctl_persist_clean_tmp(app.cfg.state_dir, "rules.bin");
        if (stale)
            ctl_log(CTL_LOG_WARN, "removed %u temporary file(s) a crash left in %s", stale,
                    app.cfg.state_dir);
    }
    if (app.cfg.regions_file[0]) {
        app.regions = malloc(sizeof(*app.regions));
        if (!app.regions ||
            ctl_regions_load(app.cfg.regions_file, app.regions, err, sizeof(err)) != 0) {
            ctl_log(CTL_LOG_ERROR, "%s", app.regions ? err : "out of memory");
            goto out;
        }
        ctl_log(CTL_LOG_INFO, "regions file %s: %u regions, %u capacities", app.cfg.regions_file,
                app.regions->n, app.regions->n_caps);
    }
    if (app.cfg.role == CTL_ROLE_GLOBAL) {
        app.state = ctl_state_create(&app.cfg, &app.metrics, app.regions);
        if (!app.state) {
            ctl_log(CTL_LOG_ERROR, "out of memory creating the state (check the limits)");
            goto out;
        }
    } else {
        app.cluster = ctl_cluster_create(&app);
        if (!app.cluster) {
            ctl_log(CTL_LOG_ERROR, "cannot set up the cluster role (upstream %s)",
                    app.cfg.upstream);
            goto out;
        }
    }
    ctl_publisher_restore(&app.pub);
    if (ctl_http_start(&app) != 0)
        goto out;
    ctl_log(CTL_LOG_INFO, "slate-controller %s (%s role) listening on %s port %u",
            SLATE_VERSION_STRING, app.cfg.role == CTL_ROLE_GLOBAL ? "global" : "cluster",
            app.cfg.listen, app.port);
    printf("listening on %s:%u\n", app.cfg.listen, app.port);
    fflush(stdout);
    if (app.cfg.port_file[0] && write_port_file(app.cfg.port_file, app.port) != 0) {
        ctl_log(CTL_LOG_ERROR, "cannot write --port-file %s: %s", app.cfg.port_file,
                strerror(errno));
        goto out;
    }
    if (app.cfg.admin_port_file[0] &&
        write_port_file(app.cfg.admin_port_file, app.admin_port) != 0) {
        ctl_log(CTL_LOG_ERROR, "cannot write --admin-port-file %s: %s", app.cfg.admin_port_file,
                strerror(errno));
        goto out;
    }
    ctl_log(CTL_LOG_INFO, "admin listener (state, metrics, health) on %s port %u",
            app.cfg.admin_listen, app.admin_port);
    if (ctl_publisher_start_exports(&app.pub) != 0)
        goto out;
    if (app.cfg.role == CTL_ROLE_GLOBAL &&
        !(app.solver = ctl_solver_create(&app.cfg, app.state, &app.pub, &app.metrics))) {
        ctl_log(CTL_LOG_ERROR, "cannot create the solver (out of memory)");
        goto out;
    }
    if (app.cfg.role == CTL_ROLE_GLOBAL ? ctl_solver_start(app.solver) != 0
                                        : ctl_cluster_start(&app) != 0) {
        ctl_log(CTL_LOG_ERROR, "cannot start the background thread");
        goto out;
    }

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0 || sig == SIGHUP) {
        if (sig == SIGHUP)
            reload_tokens(&app);
        sig = 0;
    }
    ctl_log(CTL_LOG_INFO, "signal %d: shutting down", sig);
    rc = 0;
out:
    ctl_http_stop(&app);
    ctl_app_stop_threads(&app);
    ctl_solver_free(app.solver);
    ctl_rules_t *cur = ctl_publisher_rules(&app.pub);
    if (rc == 0 && cur)
        ctl_log(CTL_LOG_INFO, "rules v%" PRIu64 " in force at shutdown%s", cur->version,
                !app.pub.rules_path[0]                  ? ""
                : atomic_load(&app.pub.persist_failing) ? " (NOT persisted: the last write failed)"
                                                        : " (persisted)");
    ctl_rules_unref(cur);
    ctl_publisher_destroy(&app.pub); /* flushes a pending export */
    ctl_state_free(app.state);
    ctl_cluster_free(app.cluster);
    ctl_regions_free(app.regions);
    free(app.regions);
    if (rc == 0)
        ctl_log(CTL_LOG_INFO, "stopped");
    return rc;
}
