/*
 * SLATE's /proxyLoad body: arbitrary bytes are rejected with a status and an
 * error that says where, or accepted; an accepted body re-encodes (exactly
 * into the size the sizing call reported, and ENOSPC without writing past a
 * short buffer) and decodes again to an equal struct, and the second encoding
 * is byte-identical to the first.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/slate.h"
#include "legacy_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 128

static slate_inbound_t in_a[CAP], in_b[CAP];
static slate_span_t sp_a[CAP], sp_b[CAP];
static slate_endpoint_load_t ld_a[4 * CAP], ld_b[4 * CAP];

static void setup(slate_load_report_t *r, slate_inbound_t *in, slate_span_t *sp,
                  slate_endpoint_load_t *ld)
{
    memset(r, 0, sizeof *r);
    r->inbound = in;
    r->cap_inbound = CAP;
    r->spans = sp;
    r->cap_spans = CAP;
    r->span_loads = ld;
    r->cap_span_loads = 4 * CAP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slate_codec_limits_t lim = {0};
    lim.max_repeated = CAP;
    lim.max_string = 512;
    slate_codec_error_t err;
    slate_load_report_t a, b;
    setup(&a, in_a, sp_a, ld_a);
    uint64_t total_a = 0, total_b = 0;
    slate_status st =
        slate_legacy_proxyload_decode(&a, &total_a, (const char *)data, size, &lim, &err);
    if (st != SLATE_OK) {
        if (err.status != st || !err.detail || err.offset > size)
            __builtin_trap();
        return 0;
    }
    size_t need = 0, len = 0;
    if (slate_legacy_proxyload_encode(&a, &total_a, NULL, 0, &need, NULL) != SLATE_ENOSPC)
        __builtin_trap();
    char *buf = malloc(need);
    if (!buf)
        return 0;
    if (slate_legacy_proxyload_encode(&a, &total_a, buf, need - 1, &len, NULL) != SLATE_ENOSPC ||
        len != need)
        __builtin_trap();
    if (slate_legacy_proxyload_encode(&a, &total_a, buf, need, &len, &err) != SLATE_OK ||
        len != need)
        __builtin_trap();
    setup(&b, in_b, sp_b, ld_b);
    if (slate_legacy_proxyload_decode(&b, &total_b, buf, len, &lim, &err) != SLATE_OK)
        __builtin_trap();
    if (total_a != total_b || !lr_report_eq(&a, &b))
        __builtin_trap();
    char *buf2 = malloc(need);
    size_t len2 = 0;
    if (!buf2 || slate_legacy_proxyload_encode(&b, &total_b, buf2, need, &len2, NULL) != SLATE_OK ||
        len2 != len || memcmp(buf, buf2, len) != 0)
        __builtin_trap();
    free(buf2);
    free(buf);
    return 0;
}
