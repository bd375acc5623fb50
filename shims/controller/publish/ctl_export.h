/*
 * slate-controller: the names and texts of the exports (ctl_export.c).
 *
 * Every name an export derives is a function of the names it comes from that
 * never maps two valid inputs (slate_name_check()) to one output:
 *
 *   object name   "<service>.slate": a DNS-1123 subdomain (a service is a
 *                 DNS-1123 label, so the name holds exactly one '.', which
 *                 no Service and no object named after one carries);
 *   subset        the region itself when it is a DNS-1123 label without
 *                 "--"; otherwise the region lowercased, with '.' and '_' as
 *                 '-', cut to 45 bytes, then "--" and the 16 hex digits of
 *                 the XXH64 of the region (at most 63 bytes, a DNS-1123
 *                 label); the two forms cannot meet (only the second holds
 *                 "--"), and two regions of the second form meet only on a
 *                 64-bit hash collision, which the writer refuses;
 *   Istio file    "<service>.yaml";
 *   Envoy file    "<service>@<region>.json" with each capital letter of the
 *                 region written as '+' and its small letter ('@' and '+'
 *                 are in neither alphabet, so the file names are distinct
 *                 even on a file system that ignores case).
 *
 * Names that fail slate_name_check() are refused (-1) rather than escaped.
 */
#ifndef CTL_EXPORT_H
#define CTL_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_buf.h"
#include "ctl_config.h"
#include "ctl_rules.h"

/* Room for any derived name with its NUL (object names are the longest). */
#define CTL_EXPORT_NAME_CAP 80u
/* Room for any export file name with its NUL. */
#define CTL_EXPORT_FILE_CAP 160u
/* Longest readable part of a hashed subset name. */
#define CTL_EXPORT_SUBSET_KEEP 45u

/* The Istio subset for `region`; 0, or -1 when region is not a valid region. */
int ctl_export_subset(const char *region, char out[CTL_EXPORT_NAME_CAP]);
/* The VirtualService and DestinationRule name for `service`; 0 or -1 (invalid service). */
int ctl_export_object_name(const char *service, char out[CTL_EXPORT_NAME_CAP]);
/* The file under istio/ for `service`; 0 or -1. */
int ctl_export_istio_file(const char *service, char out[CTL_EXPORT_FILE_CAP]);
/* The file under envoy/ for calls to `service` from `region`; 0 or -1. */
int ctl_export_envoy_file(const char *service, const char *region, char out[CTL_EXPORT_FILE_CAP]);

/*
 * The objects of `service` appended to `out` (YAML): the header delegate
 * VirtualService `<service>.slate` (no hosts, one route per region matching
 * x-slate-routeto), the weights delegate `<service>.slate-weights` (weighted
 * routes per source region and endpoint; left out when there are none) and
 * the DestinationRule `<service>.slate` (a subset per region, outlier
 * detection). -1 when a name is invalid, two of the service's regions
 * would share a subset, or memory ran out. Cost: O(rules x targets x regions).
 */
int ctl_export_istio_yaml(const ctl_config_t *cfg, const ctl_rules_t *r, const char *service,
                          ctl_buf_t *out);
/*
 * The ClusterLoadAssignment for calls to `service` from `region` (JSON, one
 * line) appended to `out`. 1 when no rule has weight there (nothing
 * appended), 0 when written, -1 on an invalid name or no memory.
 */
int ctl_export_envoy_json(const ctl_rules_t *r, const char *service, const char *region,
                          ctl_buf_t *out);

/* Writes every export file for `r` into dir; 0, or -1 when any file failed. */
int ctl_export_write(const ctl_config_t *cfg, const ctl_rules_t *r, const char *dir);

/* /metrics: slate_controller_published_weight per (source region, destination,
 * target region) of the rules in force (r may be NULL), at most max_series
 * series; the rest are counted as dropped. O(rules^2) per scrape. */
void ctl_export_weights_metrics(const ctl_rules_t *r, ctl_buf_t *out, uint32_t max_series);

#endif
