/*
 * The delimited-stream framing of codec.h on arbitrary bytes.
 * Invariants: slate_delimited_next() never reads outside the input, always
 * advances or stops, and each message lies inside the input right after its
 * prefix; re-framing the messages with slate_delimited_put() into a buffer
 * of the input's size succeeds and gives back exactly the bytes consumed
 * when every prefix was minimal, and never more bytes than consumed; the
 * copy reads back as the same messages. Each message is also offered to the
 * LoadReport decoder, as the controller's batch intake does.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static slate_inbound_t in[64];
static slate_outbound_t out[64];
static slate_span_t spans[64];
static slate_endpoint_load_t loads[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    size_t pos = 0, wpos = 0, n_msgs = 0;
    slate_status st;
    const uint8_t *msg = NULL;
    size_t len = 0;
    while ((st = slate_delimited_next(data, size, &pos, &msg, &len)) == SLATE_OK) {
        CHECK(msg >= data && len <= size && msg + len == data + pos);
        CHECK(slate_delimited_put(copy, size, &wpos, msg, len) == SLATE_OK);
        n_msgs++;
        slate_load_report_t rep;
        memset(&rep, 0, sizeof(rep));
        rep.inbound = in;
        rep.cap_inbound = 64;
        rep.outbound = out;
        rep.cap_outbound = 64;
        rep.spans = spans;
        rep.cap_spans = 64;
        rep.span_loads = loads;
        rep.cap_span_loads = 64;
        slate_codec_limits_t lim = SLATE_CODEC_LIMITS_DEFAULT;
        slate_status dst = slate_load_report_decode(&rep, msg, len, &lim, NULL);
        CHECK(dst != SLATE_EINVAL); /* any bytes are a report or a decode error, never misuse */
    }
    CHECK(st == SLATE_EEMPTY || st == SLATE_ETRUNCATED || st == SLATE_EVARINT ||
          st == SLATE_ELENGTH);
    CHECK(st != SLATE_EEMPTY || pos == size);
    CHECK(wpos <= pos);
    /* the copy frames the same messages */
    size_t rpos = 0, k = 0, spos = 0;
    const uint8_t *m2 = NULL, *m1 = NULL;
    size_t l2 = 0, l1 = 0;
    while (slate_delimited_next(copy, wpos, &rpos, &m2, &l2) == SLATE_OK) {
        CHECK(slate_delimited_next(data, size, &spos, &m1, &l1) == SLATE_OK);
        CHECK(l1 == l2 && memcmp(m1, m2, l1) == 0);
        k++;
    }
    CHECK(k == n_msgs && rpos == wpos);
    free(copy);
    return 0;
}
