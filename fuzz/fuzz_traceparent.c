/*
 * Trace context header parsers and trace-id sampling over arbitrary bytes.
 *
 * The whole input is given to the W3C traceparent parser, the B3 single
 * header parser and the trace-id parser. Invariants checked:
 * - each returns a documented status and never reads past the input;
 * - on success every view lies inside the input, has its documented length
 *   and holds lowercase hex, and the trace id view parses as a trace id;
 * - on failure the output is zeroed;
 * - a trace id's sampling decision is the same for its upper-case and its
 *   zero-padded 32-digit forms, and monotonic in the rate.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "slate/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static int inside(const char *v, size_t vl, const char *s, size_t sl)
{
    return v >= s && vl <= sl && (size_t)(v - s) <= sl - vl;
}

static int lowerhex(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    return 1;
}

static void check_ctx(slate_status st, const slate_trace_ctx_t *c, const char *s, size_t n)
{
    if (st != SLATE_OK) {
        CHECK(st == SLATE_EINVAL || st == SLATE_ETRACEID);
        slate_trace_ctx_t zero;
        memset(&zero, 0, sizeof zero);
        CHECK(memcmp(c, &zero, sizeof zero) == 0);
        return;
    }
    CHECK(c->sampled >= -1 && c->sampled <= 1);
    if (c->trace_id_len == 0) {
        CHECK(c->trace_id == NULL && c->span_id == NULL && c->parent_span_id == NULL);
        CHECK(c->sampled >= 0);
        return;
    }
    CHECK(c->trace_id_len == 16 || c->trace_id_len == 32);
    CHECK(inside(c->trace_id, c->trace_id_len, s, n) && lowerhex(c->trace_id, c->trace_id_len));
    CHECK(c->span_id_len == 16);
    CHECK(inside(c->span_id, 16, s, n) && lowerhex(c->span_id, 16));
    if (c->parent_span_id) {
        CHECK(c->parent_span_id_len == 16);
        CHECK(inside(c->parent_span_id, 16, s, n) && lowerhex(c->parent_span_id, 16));
    } else {
        CHECK(c->parent_span_id_len == 0);
    }
    slate_trace_id_t id;
    CHECK(slate_trace_id_parse(c->trace_id, c->trace_id_len, &id) == SLATE_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    slate_trace_ctx_t c;

    size_t lead = 0; /* the parsers skip leading spaces and tabs */
    while (lead < size && (s[lead] == ' ' || s[lead] == '\t'))
        lead++;

    memset(&c, 0xa5, sizeof c);
    slate_status st = slate_traceparent_parse(s, size, &c);
    check_ctx(st, &c, s, size);
    CHECK(st != SLATE_OK || (c.trace_id == s + lead + 3 && c.span_id == s + lead + 36));
    memset(&c, 0xa5, sizeof c);
    st = slate_b3_parse(s, size, &c);
    check_ctx(st, &c, s, size);
    CHECK(st != SLATE_OK || c.trace_id_len == 0 || c.trace_id == s + lead);

    /* The whole input as a bare trace id. */
    slate_trace_id_t id;
    st = slate_trace_id_parse(s, size, &id);
    CHECK(st == SLATE_OK || st == SLATE_ETRACEID);
    if (st == SLATE_OK) {
        CHECK(size >= 1 && size <= 32 && (id.hi | id.lo) != 0);
        char up[32], pad[32];
        for (size_t i = 0; i < size; i++)
            up[i] = (s[i] >= 'a' && s[i] <= 'f') ? (char)(s[i] - 'a' + 'A') : s[i];
        memset(pad, '0', 32);
        memcpy(pad + 32 - size, s, size);
        uint64_t h = slate_trace_hash(&id);
        int prev = 0;
        for (int r = 0; r <= 16; r++) {
            double rate = r / 16.0;
            int a = slate_trace_sampled(s, size, rate);
            CHECK(a == slate_trace_sampled(up, size, rate));
            CHECK(a == slate_trace_sampled(pad, 32, rate));
            CHECK(a >= prev); /* monotonic in the rate */
            CHECK(r != 0 || a == 0);
            CHECK(r != 16 || a == 1);
            prev = a;
        }
        slate_trace_id_t id2;
        CHECK(slate_trace_id_parse(pad, 32, &id2) == SLATE_OK);
        CHECK(id2.hi == id.hi && id2.lo == id.lo && slate_trace_hash(&id2) == h);
    } else {
        CHECK(slate_trace_sampled(s, size, 1.0) == 0);
    }
    free(s);
    return 0;
}
