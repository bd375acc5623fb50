/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file name.h
 * @brief The naming rules of every name that crosses the control path:
 *        services, regions, pods, methods and paths.
 *
 * Names arrive from proxies (reports, configuration) and leave as Kubernetes
 * object names, label values, Istio subsets, file names and metric labels.
 * A name that a Kubernetes mesh could never have is refused where it enters,
 * so nothing downstream has to guess how to escape it. The rules:
 *
 * | kind | rule | length |
 * |---|---|---|
 * | service | a DNS-1123 label: `a-z 0-9 -`, starting and ending with a letter or digit | 1..63 |
 * | region | a Kubernetes label value: `A-Z a-z 0-9 - _ .`, starting and ending with a letter or
 * digit | 1..63 | | pod | a label value as for region, or empty (not known) | 0..63 | | method | an
 * HTTP token (RFC 9110 `tchar`: letters, digits and ``!#$%&'*+-.^_`|~``) | 1..SLATE_KEY_MAX_NAME |
 * | path | visible ASCII (0x21..0x7e) starting with `/`, or exactly `*`; the endpoint's path is
 * then cut and normalised as key.h says | 1..SLATE_NAME_MAX_PATH |
 *
 * Regions follow the label-value rule because Kubernetes nodes carry them in
 * `topology.kubernetes.io/region`. Services follow the DNS label rule
 * because a Kubernetes Service name is one. Paths are request targets as
 * proxies see them (`:path`, already percent-encoded): spaces, control bytes
 * and raw non-ASCII bytes are never part of one.
 *
 * The functions are pure, allocate nothing and read exactly `len` bytes.
 */
#ifndef SLATE_NAME_H
#define SLATE_NAME_H

#include <stddef.h>

#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest service, region or pod name: the Kubernetes label limit. */
#define SLATE_NAME_MAX_LABEL 63u
/** Longest path accepted at the door, in bytes (longer ones are not cut: they are refused). */
#define SLATE_NAME_MAX_PATH 4096u

/** What a name names; selects its rule. */
typedef enum slate_name_kind {
    SLATE_NAME_SERVICE = 1, /**< a DNS-1123 label */
    SLATE_NAME_REGION = 2,  /**< a non-empty Kubernetes label value */
    SLATE_NAME_POD = 3,     /**< a Kubernetes label value, possibly empty */
    SLATE_NAME_METHOD = 4,  /**< an HTTP token */
    SLATE_NAME_PATH = 5,    /**< a request path */
} slate_name_kind;

/**
 * @brief Checks one name against the rule of its kind.
 * @param kind  which rule.
 * @param s     the name's bytes (need not be NUL-terminated; may be NULL when len is 0).
 * @param len   its length in bytes.
 * @param why   if not NULL, receives a static sentence saying what is wrong
 *              ("must start with a letter or digit"), or "" on success.
 * @return SLATE_OK; SLATE_ENAME when the name breaks its rule; SLATE_EINVAL
 *         for an unknown kind or a NULL s with len > 0.
 *         Cost: O(len), no allocation.
 */
SLATE_API SLATE_NODISCARD slate_status slate_name_check(slate_name_kind kind, const char *s,
                                                        size_t len, const char **why);

/**
 * @brief The kind's name as a word ("service", "region", ...), for messages.
 * @return never NULL; "name" for an unknown kind. Cost: O(1).
 */
SLATE_API const char *slate_name_kind_str(slate_name_kind kind);

#ifdef __cplusplus
}
#endif

#endif
