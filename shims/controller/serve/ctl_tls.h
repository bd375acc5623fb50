/*
 * slate-controller: HTTPS on the data port and client certificates as
 * credentials (libmicrohttpd's GnuTLS support).
 *
 * With --tls-cert/--tls-key the data port speaks only TLS. With
 * --tls-client-ca the server asks every client for a certificate; a request
 * whose client presented one that verifies against that CA (chain, dates)
 * is authenticated as if it carried a valid token. A client without one may
 * still present a bearer token.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_TLS_H
#define CTL_TLS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ctl_tls {
    char *cert_pem, *key_pem, *ca_pem; /* NUL-terminated file contents, or NULL */
} ctl_tls_t;

/* Reads the configured files (each at most 1 MiB). 0, or -1 with err. */
int ctl_tls_load(ctl_tls_t *t, const char *cert, const char *key, const char *ca, char *err,
                 size_t errcap);
void ctl_tls_free(ctl_tls_t *t);

/* Whether this connection's client sent a certificate that verified. */
bool ctl_tls_client_verified(struct MHD_Connection *c);

#endif
