/*
 * slate-controller: the serving side's entry points, for ctl_main.c and the
 * serve/ modules: the HTTP listeners (ctl_http.c) and the cluster role
 * (ctl_cluster.c).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_SERVE_H
#define CTL_SERVE_H

#include <stdbool.h>

#include "ctl_app.h"
#include "ctl_json.h"
#include "slate/codec.h"

/* HTTP server (ctl_http.c). */
int ctl_http_start(ctl_app_t *app);
void ctl_http_stop(ctl_app_t *app);

/* Cluster role (ctl_cluster.c). */
struct ctl_cluster *ctl_cluster_create(ctl_app_t *app);
void ctl_cluster_free(struct ctl_cluster *c);
int ctl_cluster_ingest(struct ctl_cluster *c, const slate_load_report_t *rep, bool latency_only);
int ctl_cluster_start(ctl_app_t *app);
void ctl_cluster_write_json(struct ctl_cluster *c, ctl_json_t *j);

#endif
