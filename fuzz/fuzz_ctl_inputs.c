/*
 * Fuzzes the controller's own parsers and encoders (shims/controller): the
 * first byte picks one, the rest is its input.
 *   0  path normalisation (the core's slate_path_normalize(), which the
 *      controller calls): bounded length, idempotent, no byte that breaks
 *      the text formats left unescaped;
 *   1  JSON string escaping: the output is a valid JSON string body (UTF-8,
 *      no raw control character, quote or lone backslash);
 *   2  durable-file frames: unframe never reads past the input, and what it
 *      accepts frames back to the same bytes;
 *   3  the regions file: parse never fails open (counts and values in range);
 *   4  persisted rules: decode, re-encode, decode again routes identically,
 *      and the per-proxy, batch and SLATE text answers are produced without
 *      error; a batch naming every rule's caller gets every rule back once;
 *   5  the bearer token file: parse never fails open (count, lengths and
 *      characters in range), every parsed token matches itself, a token one
 *      byte off matches none, and an Authorization header with the input
 *      yields the same bytes back.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_auth.h"
#include "ctl_json.h"
#include "ctl_persist.h"
#include "ctl_regions.h"
#include "ctl_rules.h"
#include "slate/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The controller keys endpoints by slate_path_normalize() (fuzz_path checks
 * it in depth); here: bounded, escaped, idempotent on the controller's inputs. */
static void fuzz_path(const char *p, size_t n)
{
    char out[SLATE_PATH_NORM_CAP], again[SLATE_PATH_NORM_CAP];
    size_t len = 0, len2 = 0;
    if (slate_path_normalize(p, n, out, sizeof(out), &len) != SLATE_OK)
        abort();
    if (len > SLATE_KEY_MAX_PATH || strlen(out) != len || out[0] != '/')
        abort();
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c <= 0x20 || c == ',' || c == '"' || c == '\\' || c == 0x7f || c == '?' || c == '#')
            abort();
    }
    if (slate_path_normalize(out, len, again, sizeof(again), &len2) != SLATE_OK || len2 != len ||
        memcmp(out, again, len) != 0)
        abort();
}

/* A strict check of a JSON string body: escapes well formed, UTF-8 valid. */
static void check_json_string(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x20 || c == '"')
            abort();
        if (c == '\\') {
            if (i + 1 >= n)
                abort();
            unsigned char e = s[i + 1];
            if (e == 'u') {
                if (i + 6 > n)
                    abort();
                i += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                i += 2;
            } else {
                abort();
            }
            continue;
        }
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n)
            abort();
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                abort();
        i += len;
    }
}

static void fuzz_json(const char *p, size_t n)
{
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_escape(&b, p, n);
    if (!b.failed)
        check_json_string((const unsigned char *)b.data, b.len);
    ctl_buf_free(&b);
}

static void fuzz_frame(const uint8_t *p, size_t n)
{
    const uint8_t *payload;
    size_t len;
    uint32_t kind = n >= 16 ? (uint32_t)p[12] | (uint32_t)p[13] << 8 | (uint32_t)p[14] << 16 |
                                  (uint32_t)p[15] << 24
                            : 0;
    if (ctl_persist_unframe(p, n, kind, &payload, &len) != CTL_PERSIST_OK)
        return;
    if (payload < p || payload + len > p + n)
        abort();
    uint8_t *again = malloc(CTL_PERSIST_HEADER + len);
    if (!again)
        return;
    ctl_persist_frame(again, kind, payload, len);
    if (CTL_PERSIST_HEADER + len != n || memcmp(again, p, n) != 0)
        abort();
    free(again);
}

static void fuzz_regions(const char *p, size_t n)
{
    static ctl_regions_file_t f;
    char err[256];
    if (ctl_regions_parse(p, n, "fuzz", &f, err, sizeof(err)) != 0)
        return;
    if (f.n > CTL_MAX_REGION_SLOTS - 1 || f.n_caps > CTL_MAX_CAPACITY_LINES ||
        f.n_caps > f.caps_cap || (f.n_caps && !f.caps))
        abort();
    for (uint32_t a = 0; a < f.n; a++)
        for (uint32_t b = 0; b < f.n; b++)
            if (!(f.rtt_ms[a][b] >= 0) || !isfinite(f.rtt_ms[a][b]) || !(f.price[a][b] >= 0))
                abort();
    for (uint32_t i = 0; i < f.n_caps; i++)
        if (!(f.caps[i].rps >= 0) || !isfinite(f.caps[i].rps) ||
            memchr(f.caps[i].service, 0, sizeof f.caps[i].service) == NULL)
            abort();
    ctl_regions_free(&f);
}

static void fuzz_rules(const uint8_t *p, size_t n)
{
    slate_codec_error_t err;
    ctl_rules_t *r = ctl_rules_decode_all(p, n, "fuzz", &err);
    if (!r)
        return;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    if (ctl_rules_encode_all(r, &b) != 0)
        abort();
    ctl_rules_t *r2 = ctl_rules_decode_all((const uint8_t *)b.data, b.len, "fuzz", &err);
    if (!r2 || !ctl_rules_same_routing(r, r2) || r2->version != r->version)
        abort();
    for (size_t i = 0; i < r->n_rules && i < 4; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        ctl_buf_t out;
        ctl_buf_init(&out, 0);
        if (ctl_rules_response(r, ru->src_service, strlen(ru->src_service), ru->src_region,
                               strlen(ru->src_region), &out) != 0)
            abort();
        ctl_buf_reset(&out);
        (void)ctl_rules_legacy(r, ru->src_service, strlen(ru->src_service), ru->src_region,
                               strlen(ru->src_region), &out);
        ctl_buf_free(&out);
    }
    /* The batch answer for every rule's (caller, region) holds each rule once. */
    ctl_rules_batch_t pairs;
    ctl_rules_batch_init(&pairs);
    for (size_t i = 0; i < r->n_rules; i++)
        if (ctl_rules_batch_add(&pairs, r->rules[i].src_service, strlen(r->rules[i].src_service),
                                r->rules[i].src_region, strlen(r->rules[i].src_region)) != 0)
            abort();
    ctl_buf_t ba;
    ctl_buf_init(&ba, 0);
    if (ctl_rules_batch_response(r, &pairs, &ba) != 0)
        abort();
    ctl_rules_t *r3 = ctl_rules_decode_all((const uint8_t *)ba.data, ba.len, "fuzz", &err);
    if (!r3 || r3->n_rules != r->n_rules)
        abort();
    ctl_rules_unref(r3);
    ctl_buf_free(&ba);
    ctl_rules_batch_free(&pairs);
    ctl_rules_unref(r2);
    ctl_rules_unref(r);
    ctl_buf_free(&b);
}

static void fuzz_tokens(const char *p, size_t n)
{
    static ctl_auth_tokens_t t;
    char err[256];
    if (ctl_auth_parse(p, n, &t, err, sizeof(err)) == 0) {
        if (t.n == 0 || t.n > CTL_AUTH_MAX_TOKENS)
            abort();
        for (uint32_t k = 0; k < t.n; k++) {
            if (t.len[k] < CTL_AUTH_TOKEN_MIN || t.len[k] >= CTL_AUTH_TOKEN_MAX)
                abort();
            for (uint32_t i = 0; i < t.len[k]; i++)
                if (t.tok[k][i] <= ' ' || t.tok[k][i] == '#' || (unsigned char)t.tok[k][i] >= 0x7f)
                    abort();
            if (!ctl_auth_tokens_match(&t, t.tok[k], t.len[k]))
                abort();
            char off[CTL_AUTH_TOKEN_MAX];
            memcpy(off, t.tok[k], t.len[k]);
            off[t.len[k] - 1] = (char)(off[t.len[k] - 1] ^ 0x01);
            bool other = false; /* the flipped token may be another one of the file */
            for (uint32_t j = 0; j < t.n; j++)
                other |= t.len[j] == t.len[k] && memcmp(t.tok[j], off, t.len[k]) == 0;
            if (!other && ctl_auth_tokens_match(&t, off, t.len[k]))
                abort();
        }
    } else if (err[0] == '\0') {
        abort(); /* a refusal says why */
    }
    /* "Bearer <input>" gives the input back, trimmed, when it has no NUL. */
    char hdr[512];
    size_t m = n < 400 ? n : 400;
    if (memchr(p, '\0', m))
        return;
    memcpy(hdr, "Bearer ", 7);
    memcpy(hdr + 7, p, m);
    hdr[7 + m] = '\0';
    const char *tok = NULL;
    size_t len = 0;
    if (ctl_auth_bearer(hdr, &tok, &len)) {
        if (tok < hdr + 7 || tok + len > hdr + 7 + m || len == 0 || tok[0] == ' ' ||
            tok[len - 1] == ' ')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0:
        fuzz_path((const char *)p, n);
        break;
    case 1:
        fuzz_json((const char *)p, n);
        break;
    case 2:
        fuzz_frame(p, n);
        break;
    case 3:
        fuzz_regions((const char *)p, n);
        break;
    case 4:
        fuzz_rules(p, n);
        break;
    default:
        fuzz_tokens((const char *)p, n);
        break;
    }
    return 0;
}
