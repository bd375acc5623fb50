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
 *      and the per-proxy and SLATE text answers are produced without error.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    if (f.n > CTL_MAX_REGION_SLOTS - 1 || f.n_caps > sizeof(f.caps) / sizeof(f.caps[0]))
        abort();
    for (uint32_t a = 0; a < f.n; a++)
        for (uint32_t b = 0; b < f.n; b++)
            if (!(f.rtt_ms[a][b] >= 0) || !isfinite(f.rtt_ms[a][b]) || !(f.price[a][b] >= 0))
                abort();
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
    ctl_rules_unref(r2);
    ctl_rules_unref(r);
    ctl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
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
    default:
        fuzz_rules(p, n);
        break;
    }
    return 0;
}
