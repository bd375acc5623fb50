/*
 * Round trip: whatever decodes re-encodes (sizing and writing agree), decodes
 * again to equal fields, and re-encodes to the same bytes (canonical form is
 * stable). The first byte picks the message: even LoadReport, odd RoutingRules.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *encode_twice_sized(const void *m, bool rules, size_t *len)
{
    size_t need = 0;
    slate_status st = rules ? slate_routing_rules_encode(m, NULL, 0, &need, NULL)
                            : slate_load_report_encode(m, NULL, 0, &need, NULL);
    FZ_CHECK(st == SLATE_OK ? need == 0 : st == SLATE_ENOSPC);
    uint8_t *buf = malloc(need + 1);
    FZ_CHECK(buf != NULL);
    buf[need] = 0x5A;
    size_t got = 0;
    st = rules ? slate_routing_rules_encode(m, buf, need, &got, NULL)
               : slate_load_report_encode(m, buf, need, &got, NULL);
    FZ_CHECK(st == SLATE_OK && got == need && buf[need] == 0x5A);
    if (need > 0) { /* one byte short: ENOSPC with the same size */
        st = rules ? slate_routing_rules_encode(m, buf, need - 1, &got, NULL)
                   : slate_load_report_encode(m, buf, need - 1, &got, NULL);
        FZ_CHECK(st == SLATE_ENOSPC && got == need);
        st = rules ? slate_routing_rules_encode(m, buf, need, &got, NULL)
                   : slate_load_report_encode(m, buf, need, &got, NULL);
        FZ_CHECK(st == SLATE_OK);
    }
    *len = need;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool rules = data[0] & 1;
    data++;
    size--;
    slate_codec_error_t err;
    size_t l1, l2;
    if (rules) {
        fz_rules_t a, b;
        if (fz_decode_rules(data, size, NULL, &err, &a) != SLATE_OK)
            return 0;
        uint8_t *e1 = encode_twice_sized(&a.r, true, &l1);
        FZ_CHECK(l1 <= size); /* canonical is never longer: defaults and unknowns dropped */
        FZ_CHECK(fz_decode_rules(e1, l1, NULL, &err, &b) == SLATE_OK);
        FZ_CHECK(fz_rules_eq(&a.r, &b.r));
        uint8_t *e2 = encode_twice_sized(&b.r, true, &l2);
        FZ_CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
        free(e1);
        free(e2);
        fz_free_rules(&a);
        fz_free_rules(&b);
    } else {
        fz_report_t a, b;
        if (fz_decode_report(data, size, NULL, &err, &a) != SLATE_OK)
            return 0;
        uint8_t *e1 = encode_twice_sized(&a.r, false, &l1);
        FZ_CHECK(fz_decode_report(e1, l1, NULL, &err, &b) == SLATE_OK);
        FZ_CHECK(fz_report_eq(&a.r, &b.r));
        uint8_t *e2 = encode_twice_sized(&b.r, false, &l2);
        FZ_CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
        free(e1);
        free(e2);
        fz_free_report(&a);
        fz_free_report(&b);
    }
    return 0;
}
