/*
 * LoadReport decoder: never crashes or reads out of bounds; a counting pass and
 * an array pass agree; every view lies in the input; the pull iterators yield
 * exactly the array elements; tighter limits only ever fail with a limit
 * status; errors are well-formed.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_iterators(const slate_load_report_t *r)
{
    slate_codec_iter_t it;
    slate_inbound_t in;
    size_t n = 0;
    slate_codec_iter_init(&it, r->raw);
    while (slate_load_report_next_inbound(&it, &in)) {
        FZ_CHECK(n < r->n_inbound && fz_inbound_eq(&in, &r->inbound[n]));
        n++;
    }
    FZ_CHECK(it.status == SLATE_OK && n == r->n_inbound);
    slate_outbound_t out;
    n = 0;
    slate_codec_iter_init(&it, r->raw);
    while (slate_load_report_next_outbound(&it, &out)) {
        FZ_CHECK(n < r->n_outbound && fz_outbound_eq(&out, &r->outbound[n]));
        n++;
    }
    FZ_CHECK(it.status == SLATE_OK && n == r->n_outbound);
    slate_span_t sp;
    n = 0;
    slate_codec_iter_init(&it, r->raw);
    while (slate_load_report_next_span(&it, &sp)) {
        FZ_CHECK(n < r->n_spans && fz_span_eq(&sp, &r->spans[n], false));
        slate_codec_iter_t lit;
        slate_endpoint_load_t ld;
        size_t k = 0;
        slate_codec_iter_init(&lit, sp.raw);
        while (slate_span_next_load(&lit, &ld)) {
            FZ_CHECK(k < sp.n_load && fz_eload_eq(&ld, &r->spans[n].load[k]));
            k++;
        }
        FZ_CHECK(lit.status == SLATE_OK && k == sp.n_load);
        n++;
    }
    FZ_CHECK(it.status == SLATE_OK && n == r->n_spans);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_lo = data;
    fz_hi = data + size;
    slate_codec_error_t err;
    fz_report_t f;
    slate_status st = fz_decode_report(data, size, NULL, &err, &f);
    fz_error_ok(st, &err, size);
    if (st == SLATE_OK) {
        fz_report_views_ok(&f.r);
        check_iterators(&f.r);
    }
    if (size >= 2) {
        slate_codec_limits_t lim = fz_tight_limits(data[0], data[size - 1]);
        fz_report_t t;
        slate_codec_error_t terr;
        slate_status tst = fz_decode_report(data, size, &lim, &terr, &t);
        fz_error_ok(tst, &terr, size);
        if (tst == SLATE_OK) {
            FZ_CHECK(st == SLATE_OK && fz_report_eq(&t.r, &f.r));
            fz_free_report(&t);
        } else if (st == SLATE_OK) {
            FZ_CHECK(fz_is_limit_status(tst));
        }
    }
    fz_free_report(&f);
    return 0;
}
