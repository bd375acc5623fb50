/*
 * slate-controller: a small blocking HTTP/1.1 client (one request per
 * connection), bounded in time and in response size. Used by the cluster
 * role to forward reports to the global controller.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_HTTPC_H
#define CTL_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_buf.h"

typedef struct ctl_url {
    char host[256];
    char port[8];
    char path[512];
    char bearer[256]; /* sent as "Authorization: Bearer ..." when not empty (never logged) */
} ctl_url_t;

/* Parses "http://host[:port][/path]" (IPv6 hosts in brackets). 0 or -1. */
int ctl_url_parse(const char *url, ctl_url_t *out);

typedef struct ctl_httpc_resp {
    int status;
    char content_type[128];
    ctl_buf_t body;
} ctl_httpc_resp_t;

/*
 * Sends one request and reads the whole answer (Content-Length, chunked, or
 * until close). The whole exchange must finish within timeout_ms; bodies over
 * max_body are an error. Returns 0 with resp filled (free resp->body), or -1
 * with a message in err.
 */
int ctl_httpc_request(const ctl_url_t *url, const char *method, const char *path,
                      const char *content_type, const void *body, size_t len, uint64_t timeout_ms,
                      size_t max_body, ctl_httpc_resp_t *resp, char *err, size_t errcap);

#endif
