/*
 * slate-controller: TLS files and client certificate checks (see ctl_tls.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX (1u << 20)

static int read_pem(const char *path, char **out, char *err, size_t errcap)
{
    *out = NULL;
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n > PEM_MAX) {
        free(buf);
        snprintf(err, errcap, "%s: %s", path,
                 !buf     ? "out of memory"
                 : n == 0 ? "empty or unreadable"
                          : "over 1 MiB");
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

int ctl_tls_load(ctl_tls_t *t, const char *cert, const char *key, const char *ca, char *err,
                 size_t errcap)
{
    memset(t, 0, sizeof(*t));
    if (read_pem(cert, &t->cert_pem, err, errcap) != 0 ||
        read_pem(key, &t->key_pem, err, errcap) != 0 ||
        read_pem(ca, &t->ca_pem, err, errcap) != 0) {
        ctl_tls_free(t);
        return -1;
    }
    return 0;
}

void ctl_tls_free(ctl_tls_t *t)
{
    if (t->key_pem)
        memset(t->key_pem, 0, strlen(t->key_pem));
    free(t->cert_pem);
    free(t->key_pem);
    free(t->ca_pem);
    memset(t, 0, sizeof(*t));
}

bool ctl_tls_client_verified(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned n = 0;
    if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 || !gnutls_certificate_get_peers(s, &n) ||
        n == 0)
        return false;
    unsigned status = 0;
    return gnutls_certificate_verify_peers2(s, &status) == GNUTLS_E_SUCCESS && status == 0;
}
