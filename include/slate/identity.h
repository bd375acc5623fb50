/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file identity.h
 * @brief Who a proxy reports as, from what it knows of its workload, so that
 *        a mesh-wide configuration needs no per-service keys.
 *
 * A sidecar knows its workload's labels, its workload name, its pod name and
 * its node's locality (in Envoy: node metadata and `node.locality`). The
 * service a proxy reports under is the first of the caller's candidates, in
 * the caller's order of precedence, that is a valid service name
 * (name.h: a DNS-1123 label); the region is the first that is a valid region
 * name, and so on. libslate's Kubernetes order for the service, used by the
 * proxy-wasm filter, is: an explicit `service` key, the label `app`, the label
 * `app.kubernetes.io/name`, the workload name.
 *
 * @code
 * const char *c[] = {explicit_service, label_app, label_k8s_name, workload};
 * size_t l[] = {...};                      // 0 for an absent candidate
 * size_t at;
 * const char *why;
 * switch (slate_identity_pick(SLATE_NAME_SERVICE, c, l, 4, &at, &why)) {
 * case SLATE_OK:       use c[at]; break;
 * case SLATE_EMISSING: log "no service: set label app"; route locally; break;
 * case SLATE_ENAME:    log "label app: <why>"; route locally; break;
 * }
 * @endcode
 */
#ifndef SLATE_IDENTITY_H
#define SLATE_IDENTITY_H

#include <stddef.h>

#include "slate/export.h"
#include "slate/name.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The first candidate that is a valid name of @p kind.
 *
 * Candidates with length 0 (or a NULL pointer) are absent and skipped;
 * present ones that break the rule are skipped too, and the first of those is
 * reported when no candidate is valid.
 * @param kind    the rule (slate_name_check()); SLATE_NAME_POD accepts an
 *                empty name, but an empty candidate still counts as absent
 * @param values  n candidates' bytes (need not be NUL-terminated)
 * @param lens    their lengths
 * @param n       number of candidates (0 is allowed)
 * @param index   receives the index of the chosen candidate (SLATE_OK), or
 *                of the first present but invalid one (SLATE_ENAME)
 * @param why     if not NULL, receives slate_name_check()'s sentence for the
 *                first invalid candidate, or ""
 * @return SLATE_OK; SLATE_EMISSING when every candidate is absent;
 *         SLATE_ENAME when candidates are present but none is valid;
 *         SLATE_EINVAL for NULL values/lens/index with n > 0 or an unknown
 *         kind. Cost: O(total length), no allocation.
 */
SLATE_API SLATE_NODISCARD slate_status slate_identity_pick(slate_name_kind kind,
                                                           const char *const *values,
                                                           const size_t *lens, size_t n,
                                                           size_t *index, const char **why);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_IDENTITY_H */
