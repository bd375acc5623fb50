/*
 * Writes the seed corpora of fuzz_sampler, fuzz_sampler_region, fuzz_key and
 * fuzz_traceparent from real encodings: weight lists in fuzz_sampler's input
 * format, tables compiled by the library, endpoints, and trace headers.
 *
 *   seedgen_sampler_key <fuzz/corpus directory>
 *
 * Run it after changing an input format or the table layout, and commit the
 * result. SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "slate/sampler.h"

static const char *root;

static int put(const char *target, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "seedgen: cannot write %s (does the directory exist?)\n", path);
        return 1;
    }
    size_t w = fwrite(data, 1, len, f);
    fclose(f);
    return w == len ? 0 : 1;
}

/* ---- fuzz_sampler: capacity - 1, flags, then (u16 region, f64/u32 weight) ---- */

static size_t enc_double(uint8_t *out, size_t cap, const uint16_t *r, const double *w, size_t n)
{
    size_t o = 0;
    out[o++] = (uint8_t)(cap - 1);
    out[o++] = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &w[i], sizeof bits);
        out[o++] = (uint8_t)r[i];
        out[o++] = (uint8_t)(r[i] >> 8);
        for (int b = 0; b < 8; b++)
            out[o++] = (uint8_t)(bits >> (8 * b));
    }
    return o;
}

static size_t enc_u32(uint8_t *out, size_t cap, const uint16_t *r, const uint32_t *w, size_t n)
{
    size_t o = 0;
    out[o++] = (uint8_t)(cap - 1);
    out[o++] = 1;
    for (size_t i = 0; i < n; i++) {
        out[o++] = (uint8_t)r[i];
        out[o++] = (uint8_t)(r[i] >> 8);
        for (int b = 0; b < 4; b++)
            out[o++] = (uint8_t)(w[i] >> (8 * b));
    }
    return o;
}

static int sampler_seeds(void)
{
    static uint8_t buf[2 + 10 * 300];
    uint16_t r[300];
    double w[300];
    uint32_t u[300];
    int rc = 0;
    for (size_t i = 0; i < 300; i++) {
        r[i] = (uint16_t)i;
        w[i] = 1.0 + (double)(i % 5);
        u[i] = (uint32_t)(10 + i % 7);
    }
    const double two[] = {0.6, 0.4};
    rc |= put("fuzz_sampler", "two_regions", buf, enc_double(buf, 4, r, two, 2));
    rc |= put("fuzz_sampler", "seven_regions", buf, enc_double(buf, 8, r, w, 7));
    rc |= put("fuzz_sampler", "sixtyfour_regions", buf, enc_double(buf, 64, r, w, 64));
    rc |= put("fuzz_sampler", "full_256", buf, enc_double(buf, 256, r, w, 256));
    rc |= put("fuzz_sampler", "too_many_257", buf, enc_double(buf, 256, r, w, 257));
    rc |= put("fuzz_sampler", "over_capacity", buf, enc_double(buf, 3, r, w, 4));
    rc |= put("fuzz_sampler", "u32_percent", buf, enc_u32(buf, 4, r, u, 3));
    const uint32_t uz[] = {0, 0};
    rc |= put("fuzz_sampler", "u32_all_zero", buf, enc_u32(buf, 4, r, uz, 2));
    const double nan[] = {1.0, NAN};
    rc |= put("fuzz_sampler", "nan", buf, enc_double(buf, 4, r, nan, 2));
    const double inf[] = {INFINITY, 1.0};
    rc |= put("fuzz_sampler", "inf", buf, enc_double(buf, 4, r, inf, 2));
    const double neg[] = {1.0, -0.5};
    rc |= put("fuzz_sampler", "negative", buf, enc_double(buf, 4, r, neg, 2));
    const double zeros[] = {0.0, -0.0, 0.0};
    rc |= put("fuzz_sampler", "all_zero", buf, enc_double(buf, 4, r, zeros, 3));
    const double mixed[] = {0.0, 3.0, 0.0, 1.0};
    rc |= put("fuzz_sampler", "some_zero", buf, enc_double(buf, 4, r, mixed, 4));
    const double tiny[] = {1e-300, 1.0, 5e-324, 1.7976931348623157e308};
    rc |= put("fuzz_sampler", "extremes", buf, enc_double(buf, 4, r, tiny, 4));
    const uint16_t dup[] = {9, 4, 9};
    rc |= put("fuzz_sampler", "duplicate", buf, enc_double(buf, 4, dup, w, 3));
    const uint16_t none[] = {1, SLATE_REGION_NONE};
    rc |= put("fuzz_sampler", "region_none", buf, enc_double(buf, 4, none, two, 2));
    rc |= put("fuzz_sampler", "empty", buf, enc_double(buf, 4, r, w, 0));
    return rc;
}

/* ---- fuzz_sampler_region: compiled tables ---- */

static int region_seeds(void)
{
    static uint8_t t[SLATE_SAMPLER_SIZE(SLATE_SAMPLER_MAX_REGIONS)];
    uint16_t r[256];
    double w[256];
    for (size_t i = 0; i < 256; i++) {
        r[i] = (uint16_t)(3 * i + 1);
        w[i] = 1.0 + (double)((i * 7) % 11);
    }
    int rc = 0;
    const size_t sizes[] = {1, 2, 7, 64, 256};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        char name[64];
        if (slate_sampler_init(t, sizeof t, n) != SLATE_OK ||
            slate_sampler_compile(t, sizeof t, r, w, n) != SLATE_OK)
            return 1;
        snprintf(name, sizeof name, "compiled_%zu", n);
        rc |= put("fuzz_sampler_region", name, t, slate_sampler_size(n));
    }
    /* A table with room to spare and zero weights in it. */
    const double zw[] = {0.0, 2.0, 0.0, 1.0};
    if (slate_sampler_init(t, sizeof t, 16) != SLATE_OK ||
        slate_sampler_compile(t, sizeof t, r, zw, 4) != SLATE_OK)
        return 1;
    rc |= put("fuzz_sampler_region", "partial_16", t, slate_sampler_size(16));
    if (slate_sampler_init(t, sizeof t, 8) != SLATE_OK)
        return 1;
    rc |= put("fuzz_sampler_region", "empty_8", t, slate_sampler_size(8));
    rc |= put("fuzz_sampler_region", "header_only", t, SLATE_SAMPLER_HEADER_SIZE);
    return rc;
}

/* ---- fuzz_key: u16 service length, u16 method length, service, method, path ---- */

static int key_seed(const char *name, const char *svc, const char *met, const char *path,
                    size_t path_len)
{
    static uint8_t buf[4096];
    size_t sl = strlen(svc), ml = strlen(met);
    size_t o = 0;
    buf[o++] = (uint8_t)sl;
    buf[o++] = (uint8_t)(sl >> 8);
    buf[o++] = (uint8_t)ml;
    buf[o++] = (uint8_t)(ml >> 8);
    memcpy(buf + o, svc, sl);
    o += sl;
    memcpy(buf + o, met, ml);
    o += ml;
    memcpy(buf + o, path, path_len);
    o += path_len;
    return put("fuzz_key", name, buf, o);
}

static int key_seeds(void)
{
    int rc = 0;
    rc |= key_seed("plain", "reviews", "GET", "/api/v1/reviews", 15);
    rc |= key_seed("query", "ratings.default.svc.cluster.local", "POST", "/ratings/0?user=1&x", 19);
    rc |= key_seed("fragment", "Reviews", "GET", "/a/b#top?x", 10);
    rc |= key_seed("grpc", "productpage", "POST", "/reviews.v1.Reviews/Get", 23);
    char longp[600];
    memset(longp, 'p', sizeof longp);
    longp[0] = '/';
    rc |= key_seed("long_path", "s", "GET", longp, sizeof longp);
    longp[256] = '?';
    rc |= key_seed("query_at_bound", "s", "GET", longp, sizeof longp);
    char longn[300];
    memset(longn, 'n', sizeof longn - 1);
    longn[sizeof longn - 1] = 0;
    rc |= key_seed("long_service", longn, "GET", "/", 1);
    rc |= key_seed("empty", "", "", "", 0);
    return rc;
}

/* ---- fuzz_traceparent: header values and bare ids ---- */

static int trace_seeds(void)
{
    static const struct {
        const char *name, *value;
    } seeds[] = {
        {"w3c_sampled", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        {"w3c_not_sampled", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"},
        {"w3c_future_version", "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra"},
        {"w3c_zero_trace", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
        {"w3c_upper", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"},
        {"w3c_spaces", "  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t"},
        {"b3_full", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"},
        {"b3_64bit", "a3ce929d0e0e4736-e457b5a2e4d86bd1"},
        {"b3_debug", "a3ce929d0e0e4736-e457b5a2e4d86bd1-d"},
        {"b3_deny", "0"},
        {"b3_accept", "1"},
        {"id_128", "4bf92f3577b34da6a3ce929d0e0e4736"},
        {"id_64", "a3ce929d0e0e4736"},
        {"id_padded", "0000000000000000a3ce929d0e0e4736"},
        {"id_short", "abc"},
        {"id_too_long", "4bf92f3577b34da6a3ce929d0e0e47361"},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        rc |= put("fuzz_traceparent", seeds[i].name, seeds[i].value, strlen(seeds[i].value));
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <fuzz/corpus directory>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    int rc = sampler_seeds() | region_seeds() | key_seeds() | trace_seeds();
    return rc ? 1 : 0;
}
