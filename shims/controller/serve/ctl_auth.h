/*
 * slate-controller: who may post reports and read rules.
 *
 * Bearer tokens come from a file (one per line, several at once so a token
 * can be rotated without a gap) and are reloaded on SIGHUP. A request is
 * let in when its `Authorization: Bearer <token>` matches one of them
 * (compared in constant time over every token) or, with mutual TLS, when its
 * client certificate verified against the configured CA. Tokens are never
 * logged; errors name the file and line, not the token.
 *
 * Token file format: UTF-8 text of at most CTL_AUTH_FILE_MAX bytes; '#'
 * starts a comment line; blank lines are ignored; leading and trailing
 * spaces and tabs are trimmed; every other line is one token of
 * CTL_AUTH_TOKEN_MIN..CTL_AUTH_TOKEN_MAX characters from RFC 6750's
 * b64token set (A-Z a-z 0-9 - . _ ~ + / then optional trailing '=');
 * at most CTL_AUTH_MAX_TOKENS tokens.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_AUTH_H
#define CTL_AUTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_AUTH_TOKEN_MIN  16
#define CTL_AUTH_TOKEN_MAX  256
#define CTL_AUTH_MAX_TOKENS 16
#define CTL_AUTH_FILE_MAX   65536

/* A parsed token file. Fixed size: no allocation, compared as whole slots. */
typedef struct ctl_auth_tokens {
    uint32_t n;
    uint32_t len[CTL_AUTH_MAX_TOKENS];
    char tok[CTL_AUTH_MAX_TOKENS][CTL_AUTH_TOKEN_MAX];
} ctl_auth_tokens_t;

/*
 * Parses a token file's bytes (need not be NUL-terminated). Returns 0 with
 * `out` filled (n >= 1), or -1 with a message in err naming the line and
 * what is wrong (never the token). No file with zero tokens is accepted:
 * an empty file would silently lock every client out. Cost: O(len).
 */
int ctl_auth_parse(const char *text, size_t len, ctl_auth_tokens_t *out, char *err, size_t errcap);

/*
 * Whether `presented` (len bytes) equals one of the tokens. Time depends on
 * neither which token matched nor where a mismatch lies: every slot is
 * compared over CTL_AUTH_TOKEN_MAX bytes. Cost: O(CTL_AUTH_MAX_TOKENS x 256).
 */
bool ctl_auth_tokens_match(const ctl_auth_tokens_t *t, const char *presented, size_t len);

/*
 * Extracts the credential from an Authorization header value: "Bearer"
 * (any case), one or more spaces, the token, optional trailing spaces.
 * Returns false when the header is absent or not of that form.
 */
bool ctl_auth_bearer(const char *header, const char **tok, size_t *len);

/* The live token set of a daemon: swapped whole under a lock on reload. */
typedef struct ctl_auth {
    pthread_mutex_t lock;
    char path[512];
    bool enabled; /* a token file is configured */
    bool ready;   /* ctl_auth_init ran (the lock exists) */
    ctl_auth_tokens_t tokens;
} ctl_auth_t;

/*
 * Reads `path` into a (path NULL or "": authentication by token off).
 * Returns 0, or -1 with err (the daemon refuses to start).
 */
int ctl_auth_init(ctl_auth_t *a, const char *path, char *err, size_t errcap);

/*
 * Re-reads the file (SIGHUP). On any error the tokens in force stay and -1
 * comes back with err; 0 and the new count otherwise.
 */
int ctl_auth_reload(ctl_auth_t *a, uint32_t *count, char *err, size_t errcap);

/* Checks an Authorization header value against the tokens in force. */
bool ctl_auth_check(ctl_auth_t *a, const char *authorization);

void ctl_auth_destroy(ctl_auth_t *a);

/*
 * Reads a token file and returns its first token as a NUL-terminated string
 * in out (the credential a client sends). 0 or -1 with err.
 */
int ctl_auth_read_client_token(const char *path, char *out, size_t cap, char *err, size_t errcap);

#endif
