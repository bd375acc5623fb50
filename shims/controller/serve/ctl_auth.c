/*
 * slate-controller: bearer tokens from a file (see ctl_auth.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool b64token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* RFC 6750: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool is_b64token(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && b64token_char((unsigned char)s[i]))
        i++;
    if (i == 0)
        return false;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

int ctl_auth_parse(const char *text, size_t len, ctl_auth_tokens_t *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    if (len > CTL_AUTH_FILE_MAX) {
        snprintf(err, errcap, "token file is %zu bytes, over the limit of %d", len,
                 CTL_AUTH_FILE_MAX);
        return -1;
    }
    size_t pos = 0;
    unsigned line = 0;
    while (pos < len) {
        line++;
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
            s++;
            n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if (n < CTL_AUTH_TOKEN_MIN || n >= CTL_AUTH_TOKEN_MAX) {
            snprintf(err, errcap,
                     "token file line %u: a token has %d to %d characters (this has %zu)", line,
                     CTL_AUTH_TOKEN_MIN, CTL_AUTH_TOKEN_MAX - 1, n);
            return -1;
        }
        if (!is_b64token(s, n)) {
            snprintf(err, errcap,
                     "token file line %u: a token is made of A-Z a-z 0-9 - . _ ~ + / and "
                     "trailing '=' only",
                     line);
            return -1;
        }
        if (out->n == CTL_AUTH_MAX_TOKENS) {
            snprintf(err, errcap, "token file line %u: more than %d tokens", line,
                     CTL_AUTH_MAX_TOKENS);
            return -1;
        }
        memcpy(out->tok[out->n], s, n);
        out->len[out->n] = (uint32_t)n;
        out->n++;
    }
    if (out->n == 0) {
        snprintf(err, errcap, "token file holds no token");
        return -1;
    }
    return 0;
}

bool ctl_auth_tokens_match(const ctl_auth_tokens_t *t, const char *presented, size_t len)
{
    if (len == 0 || len >= CTL_AUTH_TOKEN_MAX)
        return false; /* depends only on the length, which is not secret */
    char p[CTL_AUTH_TOKEN_MAX];
    memset(p, 0, sizeof(p));
    memcpy(p, presented, len);
    unsigned found = 0;
    for (uint32_t k = 0; k < CTL_AUTH_MAX_TOKENS; k++) {
        volatile unsigned char diff = 0;
        unsigned char d = (unsigned char)((t->len[k] ^ (uint32_t)len) != 0);
        for (size_t i = 0; i < CTL_AUTH_TOKEN_MAX; i++)
            d |= (unsigned char)(t->tok[k][i] ^ p[i]);
        diff = d;
        /* slots past n are all zero with len 0, never equal to a non-empty token */
        found |= (unsigned)(diff == 0) & (unsigned)(k < t->n);
    }
    return found != 0;
}

bool ctl_auth_bearer(const char *h, const char **tok, size_t *len)
{
    if (!h || strncasecmp(h, "bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return false;
    const char *s = h + 6;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return false;
    *tok = s;
    *len = n;
    return true;
}

/* Reads a whole small file; -1 with err. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "token file %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(CTL_AUTH_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errcap, "token file %s: out of memory", path);
        return -1;
    }
    size_t n = fread(buf, 1, CTL_AUTH_FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errcap, "token file %s: read error", path);
        return -1;
    }
    *text = buf;
    *len = n;
    return 0;
}

static int load(const char *path, ctl_auth_tokens_t *t, char *err, size_t errcap)
{
    char *text = NULL;
    size_t len = 0;
    if (read_file(path, &text, &len, err, errcap) != 0)
        return -1;
    char sub[256];
    int rc = ctl_auth_parse(text, len, t, sub, sizeof(sub));
    memset(text, 0, len);
    free(text);
    if (rc != 0)
        snprintf(err, errcap, "%s: %s", path, sub);
    return rc;
}

int ctl_auth_init(ctl_auth_t *a, const char *path, char *err, size_t errcap)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
    a->ready = true;
    if (!path || !*path)
        return 0;
    if (strlen(path) >= sizeof(a->path)) {
        snprintf(err, errcap, "token file path too long");
        return -1;
    }
    snprintf(a->path, sizeof(a->path), "%s", path);
    a->enabled = true;
    return load(path, &a->tokens, err, errcap);
}

int ctl_auth_reload(ctl_auth_t *a, uint32_t *count, char *err, size_t errcap)
{
    if (!a->enabled) {
        *count = 0;
        return 0;
    }
    ctl_auth_tokens_t *t = malloc(sizeof(*t));
    if (!t) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    int rc = load(a->path, t, err, errcap);
    if (rc == 0) {
        pthread_mutex_lock(&a->lock);
        a->tokens = *t;
        pthread_mutex_unlock(&a->lock);
        *count = t->n;
    }
    memset(t, 0, sizeof(*t));
    free(t);
    return rc;
}

bool ctl_auth_check(ctl_auth_t *a, const char *authorization)
{
    const char *tok = NULL;
    size_t len = 0;
    if (!a->enabled || !ctl_auth_bearer(authorization, &tok, &len))
        return false;
    pthread_mutex_lock(&a->lock);
    bool ok = ctl_auth_tokens_match(&a->tokens, tok, len);
    pthread_mutex_unlock(&a->lock);
    return ok;
}

void ctl_auth_destroy(ctl_auth_t *a)
{
    if (!a->ready)
        return;
    memset(&a->tokens, 0, sizeof(a->tokens));
    pthread_mutex_destroy(&a->lock);
    a->ready = false;
}

int ctl_auth_read_client_token(const char *path, char *out, size_t cap, char *err, size_t errcap)
{
    ctl_auth_tokens_t *t = malloc(sizeof(*t));
    if (!t) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    int rc = load(path, t, err, errcap);
    if (rc == 0 && t->len[0] >= cap) {
        snprintf(err, errcap, "%s: token too long", path);
        rc = -1;
    }
    if (rc == 0) {
        memcpy(out, t->tok[0], t->len[0]);
        out[t->len[0]] = '\0';
    }
    memset(t, 0, sizeof(*t));
    free(t);
    return rc;
}
