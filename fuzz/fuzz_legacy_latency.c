/*
 * SLATE's /hillclimbingLatency body: reject with a located error, or accept;
 * an accepted body re-encodes and decodes again to an equal struct (means and
 * m2 to the same double), and re-encoding that gives the same bytes.
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
static slate_outbound_t out_a[CAP], out_b[CAP];

static void setup(slate_load_report_t *r, slate_inbound_t *in, slate_outbound_t *out)
{
    memset(r, 0, sizeof *r);
    r->inbound = in;
    r->cap_inbound = CAP;
    r->outbound = out;
    r->cap_outbound = CAP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slate_codec_limits_t lim = {0};
    lim.max_repeated = CAP;
    lim.max_string = 512;
    slate_codec_error_t err;
    slate_load_report_t a, b;
    setup(&a, in_a, out_a);
    slate_status st = slate_legacy_latency_decode(&a, (const char *)data, size, &lim, &err);
    if (st != SLATE_OK) {
        if (err.status != st || !err.detail || err.offset > size)
            __builtin_trap();
        return 0;
    }
    size_t need = 0, len = 0;
    st = slate_legacy_latency_encode(&a, NULL, 0, &need, NULL);
    if (st != (need ? SLATE_ENOSPC : SLATE_OK))
        __builtin_trap();
    char *buf = malloc(need ? need : 1);
    if (!buf)
        return 0;
    if (need &&
        (slate_legacy_latency_encode(&a, buf, need - 1, &len, NULL) != SLATE_ENOSPC || len != need))
        __builtin_trap();
    if (slate_legacy_latency_encode(&a, buf, need, &len, &err) != SLATE_OK || len != need)
        __builtin_trap();
    setup(&b, in_b, out_b);
    if (slate_legacy_latency_decode(&b, buf, len, &lim, &err) != SLATE_OK)
        __builtin_trap();
    if (!lr_report_eq(&a, &b))
        __builtin_trap();
    char *buf2 = malloc(need ? need : 1);
    size_t len2 = 0;
    if (!buf2 || slate_legacy_latency_encode(&b, buf2, need, &len2, NULL) != SLATE_OK ||
        len2 != len || memcmp(buf, buf2, len) != 0)
        __builtin_trap();
    free(buf2);
    free(buf);
    return 0;
}
