/*
 * Tests of SLATE's legacy text bodies (legacy.h) and their number layer
 * (libslate/legacy_num.h): exact values after decoding, byte-exact round trips
 * with SLATE's formatting quirks, real trace lines from SLATE's data, every
 * malformed shape, limits, caller-array sizing, and the trip through the
 * binary codec.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slate/slate.h"
#include "legacy_num.h"
#include "../fuzz/legacy_roundtrip.h"
#include "slate_trace_csv.h"

#define CAP 256

static slate_inbound_t g_in[CAP], g_in2[CAP];
static slate_outbound_t g_out[CAP], g_out2[CAP];
static slate_span_t g_sp[CAP], g_sp2[CAP];
static slate_endpoint_load_t g_ld[4 * CAP], g_ld2[4 * CAP];
static slate_rule_t g_rules[CAP], g_rules2[CAP];
static slate_route_target_t g_tg[CAP], g_tg2[CAP];

static void rep_setup(slate_load_report_t *r, int second)
{
    memset(r, 0, sizeof *r);
    r->inbound = second ? g_in2 : g_in;
    r->cap_inbound = CAP;
    r->outbound = second ? g_out2 : g_out;
    r->cap_outbound = CAP;
    r->spans = second ? g_sp2 : g_sp;
    r->cap_spans = CAP;
    r->span_loads = second ? g_ld2 : g_ld;
    r->cap_span_loads = 4 * CAP;
}

static void rules_setup(slate_routing_rules_t *r, int second)
{
    memset(r, 0, sizeof *r);
    r->rules = second ? g_rules2 : g_rules;
    r->cap_rules = CAP;
    r->targets = second ? g_tg2 : g_tg;
    r->cap_targets = CAP;
}

static int s_eq(slate_str_t s, const char *c)
{
    return s.len == strlen(c) && (s.len == 0 || memcmp(s.ptr, c, s.len) == 0);
}

#define assert_str(view, cstr)                                                                     \
    do {                                                                                           \
        if (!s_eq((view), (cstr)))                                                                 \
            fail_msg("string '%.*s' != '%s'", (int)(view).len, (view).ptr ? (view).ptr : "",       \
                     (cstr));                                                                      \
    } while (0)

/* ========================================================================= */
/* Number layer                                                              */

static void test_num_u64(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(slate_lnum_u64("0", 1, &v), SLATE_OK);
    assert_true(v == 0);
    assert_int_equal(slate_lnum_u64("18446744073709551615", 20, &v), SLATE_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(slate_lnum_u64("0018446744073709551615", 22, &v), SLATE_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(slate_lnum_u64("18446744073709551616", 20, &v), SLATE_ENUMBER);
    assert_int_equal(slate_lnum_u64("99999999999999999999", 20, &v), SLATE_ENUMBER);
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "nan", "inf", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(slate_lnum_u64(bad[i], strlen(bad[i]), &v), SLATE_ENUMBER);
    /* random values against snprintf */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t want = x >> (i % 64);
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)want);
        char mine[SLATE_LNUM_BUF];
        size_t m = slate_lnum_fmt_u64(mine, want);
        assert_int_equal(m, (size_t)n);
        assert_memory_equal(mine, buf, m);
        assert_int_equal(slate_lnum_u64(buf, (size_t)n, &v), SLATE_OK);
        assert_true(v == want);
    }
}

static uint64_t dec6(const char *s, slate_status *st)
{
    uint64_t v = 12345;
    *st = slate_lnum_decimal(s, strlen(s), 6, UINT64_MAX, &v);
    return v;
}

static void test_num_decimal_exact(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t micro;
    } ok[] = {
        {"0", 0},
        {"1", 1000000},
        {"1.0", 1000000},
        {"0.6", 600000},
        {"0.4", 400000},
        {"0.9999", 999900},
        {"1e-05", 10},
        {"1.5e-05", 15},
        {"1E-6", 1},
        {"0.30000000000000004", 300000},
        {"0.3333333333333333", 333333},
        {"0.6666666666666666", 666667},
        {".5", 500000},
        {"5.", 5000000},
        {"1234.500000", 1234500000},
        {"0.0000005", 0},     /* tie: to even 0 */
        {"0.0000015", 2},     /* tie: to even 2 */
        {"0.0000025", 2},     /* tie: to even 2 */
        {"0.00000250001", 3}, /* above the tie */
        {"0.0000004999999999", 0},
        {"0.00000049", 0},
        {"2.5e-7", 0},
        {"7.5e-7", 1},
        {"1e2", 100000000},
        {"1e+2", 100000000},
        {"0.001e3", 1000000},
        {"000.000", 0},
        {"0e999999999999", 0},
        {"1e-999999999999", 0},
        {"18446744073709.551615", UINT64_MAX},
        {"18446744073709551615e-6", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        slate_status st;
        uint64_t v = dec6(ok[i].text, &st);
        if (st != SLATE_OK || v != ok[i].micro)
            fail_msg("'%s': status %d value %llu, want %llu", ok[i].text, st, (unsigned long long)v,
                     (unsigned long long)ok[i].micro);
    }
    const char *bad[] = {"",      ".",     "-0.1",     "+0.1", "nan",
                         "NaN",   "inf",   "Infinity", "1e",   "1e+",
                         "e5",    "1.2.3", "1,5",      " 1",   "1 ",
                         "0x1p3", "1_0",   "1e5.",     "--1",  "18446744073709.551616",
                         "1e14",  "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        slate_status st;
        (void)dec6(bad[i], &st);
        if (st != SLATE_ENUMBER)
            fail_msg("'%s' accepted", bad[i]);
    }
    /* max is inclusive */
    uint64_t v;
    assert_int_equal(slate_lnum_decimal("1.0000005", 9, 6, 1000000, &v), SLATE_OK);
    assert_true(v == 1000000);
    assert_int_equal(slate_lnum_decimal("1.0000006", 9, 6, 1000000, &v), SLATE_ENUMBER);
}

/*
 * Reference for the decimal parser: random fixed-point strings "I.FFFF..." are
 * rounded by digit-string manipulation (independent of the parser's exponent
 * logic), and the same value written with an exponent must parse equal.
 */
static void test_num_decimal_random(void **state)
{
    (void)state;
    uint64_t x = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned ni = (unsigned)(x % 8);         /* integer digits */
        unsigned nf = (unsigned)((x >> 8) % 14); /* fraction digits */
        char digits[32];
        uint64_t y = x;
        for (unsigned i = 0; i < ni + nf; i++) {
            y = y * 6364136223846793005ull + 1442695040888963407ull;
            unsigned d = (unsigned)(y >> 60) % 10;
            if ((x >> 20) % 5 == 0 && i == ni + 6)
                d = 5; /* provoke ties */
            digits[i] = (char)('0' + d);
        }
        if (ni + nf == 0)
            continue;
        char text[40];
        size_t tl = 0;
        memcpy(text, digits, ni);
        tl = ni;
        if (nf) {
            text[tl++] = '.';
            memcpy(text + tl, digits + ni, nf);
            tl += nf;
        }
        /* expected: integer of digits[0 .. ni+6) (padded), then round on the rest */
        uint64_t want = 0;
        for (unsigned i = 0; i < ni + 6; i++)
            want = want * 10 + (i < ni + nf ? (uint64_t)(digits[i] - '0') : 0);
        if (nf > 6) {
            int first = digits[ni + 6] - '0';
            int sticky = 0;
            for (unsigned i = ni + 7; i < ni + nf; i++)
                sticky |= digits[i] != '0';
            if (first > 5 || (first == 5 && (sticky || (want & 1))))
                want++;
        }
        uint64_t got;
        assert_int_equal(slate_lnum_decimal(text, tl, 6, UINT64_MAX, &got), SLATE_OK);
        if (got != want)
            fail_msg("'%.*s': %llu want %llu", (int)tl, text, (unsigned long long)got,
                     (unsigned long long)want);
        /* the same value as mantissa digits and an exponent */
        char etext[64];
        int en = snprintf(etext, sizeof etext, "%.*se%d", (int)(ni + nf), digits, -(int)nf);
        assert_int_equal(slate_lnum_decimal(etext, (size_t)en, 6, UINT64_MAX, &got), SLATE_OK);
        assert_true(got == want);
    }
}

/* glibc's strtod is correctly rounded: the reference for n * 10^k -> double. */
static double ref_scaled(uint64_t n, unsigned k)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%llue%u", (unsigned long long)n, k);
    return strtod(buf, NULL);
}

/* Reference for d / 10^k rounded half-even, from glibc's exact "%.60f" digits. */
static int ref_unscale(double d, unsigned k, uint64_t *out)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%.60f", d);
    char *dot = strchr(buf, '.');
    size_t ni = (size_t)(dot - buf);
    if (ni <= k) {
        /* value < 1 unit: rounds to 0 or 1 */
        char all[600];
        size_t n = 0;
        for (size_t i = 0; i < k - ni; i++)
            all[n++] = '0';
        memcpy(all + n, buf, ni);
        n += ni;
        strcpy(all + n, dot + 1);
        int first = all[0] - '0';
        int sticky = 0;
        for (size_t i = 1; all[i]; i++)
            sticky |= all[i] != '0';
        *out = first > 5 || (first == 5 && sticky) ? 1 : 0;
        return 1;
    }
    size_t keep = ni - k;
    if (keep > 20)
        return 0;
    uint64_t q = 0;
    for (size_t i = 0; i < keep; i++) {
        unsigned dg = (unsigned)(buf[i] - '0');
        if (q > (UINT64_MAX - dg) / 10)
            return 0;
        q = q * 10 + dg;
    }
    char rest[600];
    memcpy(rest, buf + keep, k);
    strcpy(rest + k, dot + 1);
    int first = rest[0] - '0';
    int sticky = 0;
    for (size_t i = 1; rest[i]; i++)
        sticky |= rest[i] != '0';
    if (first > 5 || (first == 5 && (sticky || (q & 1)))) {
        if (q == UINT64_MAX)
            return 0;
        q++;
    }
    *out = q;
    return 1;
}

static void test_num_double_conversions(void **state)
{
    (void)state;
    /* exact region */
    assert_true(slate_lnum_scaled_to_double(1234500000, 6) == 1234.5e12);
    assert_true(slate_lnum_scaled_to_double(0, 6) == 0.0);
    assert_true(slate_lnum_scaled_to_double(UINT64_MAX, 0) == 18446744073709551616.0);
    uint64_t x = 777;
    for (int iter = 0; iter < 20000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t n = x >> (iter % 64);
        unsigned k = (iter & 1) ? 6 : 0;
        double d = slate_lnum_scaled_to_double(n, k);
        double want = ref_scaled(n, k);
        if (d != want)
            fail_msg("%llu e%u: %.17g want %.17g", (unsigned long long)n, k, d, want);
        /* the inverse finds an integer that maps back to the same double */
        uint64_t back;
        assert_int_equal(slate_lnum_double_to_scaled(d, k, &back), SLATE_OK);
        assert_true(slate_lnum_scaled_to_double(back, k) == d);
        if (d < 4503599627370496.0 * (k ? 1e6 : 1.0) / 2)
            assert_true(back == n); /* exact below 2^52 units */
    }
    /* rounding of arbitrary doubles against glibc's exact digits */
    for (int iter = 0; iter < 20000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d = ldexp((double)(x >> 11), (int)(iter % 90) - 60);
        if (iter % 7 == 0)
            d = (double)(x % 100000000) + 0.5; /* exact halves */
        unsigned k = (iter % 3 == 0) ? 0 : 6;
        uint64_t want, got;
        if (!ref_unscale(d, k, &want))
            continue;
        assert_int_equal(slate_lnum_double_to_scaled(d, k, &got), SLATE_OK);
        /* equal to the exact rounding, unless a neighbour maps back to d exactly */
        if (got != want) {
            assert_true(slate_lnum_scaled_to_double(got, k) == d);
            assert_true(got + 1 == want || got == want + 1);
        }
    }
    uint64_t v;
    assert_int_equal(slate_lnum_double_to_scaled(NAN, 0, &v), SLATE_EVALUE);
    assert_int_equal(slate_lnum_double_to_scaled(INFINITY, 6, &v), SLATE_EVALUE);
    assert_int_equal(slate_lnum_double_to_scaled(-1.0, 6, &v), SLATE_EVALUE);
    assert_int_equal(slate_lnum_double_to_scaled(1e30, 0, &v), SLATE_EVALUE);
    assert_int_equal(slate_lnum_double_to_scaled(18446744073709551616.0, 0, &v), SLATE_OK);
    assert_true(v == UINT64_MAX); /* 2^64 is what UINT64_MAX decodes to */
    assert_int_equal(slate_lnum_double_to_scaled(2.5, 0, &v), SLATE_OK);
    assert_true(v == 2);
    assert_int_equal(slate_lnum_double_to_scaled(3.5, 0, &v), SLATE_OK);
    assert_true(v == 4);
    assert_int_equal(slate_lnum_double_to_scaled(1234567.8, 6, &v), SLATE_OK);
    assert_true(v == 1);
    assert_int_equal(slate_lnum_double_to_scaled(-0.0, 6, &v), SLATE_OK);
    assert_true(v == 0);
    assert_int_equal(slate_lnum_double_to_scaled(4.9e-324, 0, &v), SLATE_OK);
    assert_true(v == 0);
}

static void test_num_format(void **state)
{
    (void)state;
    /* Python's repr() of the float nearest n / 10^6 (checked against CPython 3). */
    static const struct {
        uint64_t n;
        const char *repr;
    } py[] = {
        {0, "0.0"},
        {1000000, "1.0"},
        {600000, "0.6"},
        {100, "0.0001"},
        {10, "1e-05"},
        {15, "1.5e-05"},
        {1, "1e-06"},
        {999900, "0.9999"},
        {333333, "0.333333"},
        {200, "0.0002"},
        {1234567, "1.234567"},
        {2, "2e-06"},
        {123, "0.000123"},
        {300, "0.0003"},
        {1000000000000000ull, "1000000000.0"},
        {12345678901234ull, "12345678.901234"},
    };
    char buf[SLATE_LNUM_BUF];
    for (size_t i = 0; i < sizeof py / sizeof py[0]; i++) {
        size_t n = slate_lnum_fmt_pyrepr(buf, py[i].n, 6);
        buf[n] = '\0';
        assert_string_equal(buf, py[i].repr);
    }
    size_t n = slate_lnum_fmt_pyrepr(buf, 10000000000000000ull, 0);
    buf[n] = '\0';
    assert_string_equal(buf, "1e+16");
    n = slate_lnum_fmt_pyrepr(buf, 1000000000000000ull, 0);
    buf[n] = '\0';
    assert_string_equal(buf, "1000000000000000.0");
    /* %.6f */
    n = slate_lnum_fmt_fixed(buf, 1234500000, 6);
    buf[n] = '\0';
    assert_string_equal(buf, "1234.500000");
    n = slate_lnum_fmt_fixed(buf, 0, 6);
    buf[n] = '\0';
    assert_string_equal(buf, "0.000000");
    n = slate_lnum_fmt_fixed(buf, 7, 6);
    buf[n] = '\0';
    assert_string_equal(buf, "0.000007");
    /* shortest exact */
    n = slate_lnum_fmt_short(buf, 6000000, 6);
    buf[n] = '\0';
    assert_string_equal(buf, "6");
    n = slate_lnum_fmt_short(buf, 6500000, 6);
    buf[n] = '\0';
    assert_string_equal(buf, "6.5");
    n = slate_lnum_fmt_short(buf, 1, 6);
    buf[n] = '\0';
    assert_string_equal(buf, "0.000001");
    /* every printed repr parses back to the same micro value */
    for (uint64_t v = 0; v <= 1000000; v += 997) {
        n = slate_lnum_fmt_pyrepr(buf, v, 6);
        uint64_t back;
        assert_int_equal(slate_lnum_decimal(buf, n, 6, UINT64_MAX, &back), SLATE_OK);
        assert_true(back == v);
        /* and glibc reads the same double as from the exact decimal */
        buf[n] = '\0';
        assert_true(strtod(buf, NULL) == (double)v / 1e6);
    }
}

/* The parser must not depend on the C locale: a comma-decimal locale changes nothing. */
static void test_num_locale_independent(void **state)
{
    (void)state;
    const char *loc = setlocale(LC_NUMERIC, "de_DE.UTF-8");
    if (!loc)
        loc = setlocale(LC_NUMERIC, "fr_FR.UTF-8");
    slate_status st;
    assert_true(dec6("0.25", &st) == 250000);
    assert_int_equal(st, SLATE_OK);
    (void)dec6("0,25", &st);
    assert_int_equal(st, SLATE_ENUMBER);
    char buf[SLATE_LNUM_BUF];
    size_t n = slate_lnum_fmt_fixed(buf, 2500000, 6);
    buf[n] = '\0';
    assert_string_equal(buf, "2.500000");
    setlocale(LC_NUMERIC, "C");
}

/* ========================================================================= */
/* /proxyLoad                                                                */

/* A real span line, quoted in SLATE's global_controller.py (parse_stats_into_spans):
 * a root span (empty parent: two spaces) and the wrapped uint64 in-flight counter
 * of an older plugin. */
#define SLATE_COMMENT_LINE                                                                         \
    "us-west-1 metrics-fake-ingress-us-west-1 GET /start 70904b1c08f35622387a6bb5c9141596 "        \
    "387a6bb5c9141596  1709763447436 1709763447540 0 GET@/start,0,18446744073709530962|"

static const char PROXYLOAD_BODY[] =
    "42\n"
    "GET@/start,40,0|POST@/write,2,1|\n" SLATE_COMMENT_LINE "\n"
    "us-west-1 metrics-fake-ingress-us-west-1 POST /write 70904b1c08f35622387a6bb5c9141597 "
    "1111111111111111 387a6bb5c9141596 1709763447500 1709763447512 512 GET@/start,40,0|POST@/"
    "write,2,1|\n"
    "us-west-1 metrics-fake-ingress-us-west-1 GET /start 00000000000000000000000000000001 "
    "2222222222222222  1709763447600 1709763447600 0 NOT FOUND\n";

static void test_proxyload_decode_values(void **state)
{
    (void)state;
    slate_load_report_t r;
    rep_setup(&r, 0);
    uint64_t total = 0;
    slate_codec_error_t err;
    assert_int_equal(slate_legacy_proxyload_decode(&r, &total, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, &err),
                     SLATE_OK);
    assert_int_equal(err.status, SLATE_OK);
    assert_true(total == 42);
    assert_str(r.region, "us-west-1");
    assert_str(r.service, "metrics-fake-ingress-us-west-1");
    assert_int_equal(r.n_inbound, 2);
    assert_int_equal(r.n_outbound, 0);
    assert_str(r.inbound[0].method, "GET");
    assert_str(r.inbound[0].path, "/start");
    assert_true(r.inbound[0].requests == 40);
    assert_true(r.inbound[0].rate_rps == 40.0);
    assert_true(r.inbound[0].in_flight == 0);
    assert_true(r.inbound[0].latency.count == 0);
    assert_str(r.inbound[1].method, "POST");
    assert_str(r.inbound[1].path, "/write");
    assert_true(r.inbound[1].in_flight == 1);
    assert_int_equal(r.n_spans, 3);
    assert_int_equal(r.n_span_loads, 3);
    const slate_span_t *s = &r.spans[0];
    assert_str(s->method, "GET");
    assert_str(s->path, "/start");
    assert_str(s->trace_id, "70904b1c08f35622387a6bb5c9141596");
    assert_str(s->span_id, "387a6bb5c9141596");
    assert_str(s->parent_span_id, "");
    assert_true(s->start_ns == 1709763447436ull * 1000000ull);
    assert_true(s->end_ns == 1709763447540ull * 1000000ull);
    assert_true(s->body_size == 0);
    assert_int_equal(s->n_load, 1);
    assert_ptr_equal(s->load, r.span_loads);
    assert_str(s->load[0].method, "GET");
    assert_str(s->load[0].path, "/start");
    assert_true(s->load[0].rps == 0.0);
    assert_true(s->load[0].in_flight == 18446744073709530962ull);
    s = &r.spans[1];
    assert_str(s->parent_span_id, "387a6bb5c9141596");
    assert_true(s->body_size == 512);
    assert_int_equal(s->n_load, 2);
    assert_ptr_equal(s->load, r.span_loads + 1);
    assert_true(s->load[0].rps == 40.0);
    assert_true(s->load[1].rps == 2.0);
    assert_true(s->load[1].in_flight == 1);
    s = &r.spans[2];
    assert_int_equal(s->n_load, 0); /* NOT FOUND */
    assert_true(s->start_ns == s->end_ns);
}

static void encode_text(const slate_load_report_t *r, const uint64_t *total, char *out, size_t cap,
                        size_t *len)
{
    size_t need = 0;
    assert_int_equal(slate_legacy_proxyload_encode(r, total, NULL, 0, &need, NULL), SLATE_ENOSPC);
    assert_true(need <= cap);
    assert_int_equal(slate_legacy_proxyload_encode(r, total, out, cap, len, NULL), SLATE_OK);
    assert_int_equal(*len, need);
}

static void test_proxyload_roundtrip_exact(void **state)
{
    (void)state;
    slate_load_report_t r;
    rep_setup(&r, 0);
    uint64_t total;
    assert_int_equal(slate_legacy_proxyload_decode(&r, &total, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, NULL),
                     SLATE_OK);
    char out[4096];
    size_t len;
    encode_text(&r, &total, out, sizeof out, &len);
    assert_int_equal(len, sizeof PROXYLOAD_BODY - 1);
    assert_memory_equal(out, PROXYLOAD_BODY, len);

    /* SLATE's empty shapes: "%d\n%s\n%s" with no endpoints and no spans */
    static const char *const exact[] = {"0\n\n", "7\nGET@/a,7,0|\n", "18446744073709551615\n\n"};
    for (size_t i = 0; i < 3; i++) {
        rep_setup(&r, 0);
        assert_int_equal(
            slate_legacy_proxyload_decode(&r, &total, exact[i], strlen(exact[i]), NULL, NULL),
            SLATE_OK);
        encode_text(&r, &total, out, sizeof out, &len);
        assert_int_equal(len, strlen(exact[i]));
        assert_memory_equal(out, exact[i], len);
    }
}

/* Variants SLATE's readers accept decode to the same struct as the canonical body. */
static void test_proxyload_quirk_variants(void **state)
{
    (void)state;
    slate_load_report_t a, b;
    uint64_t ta, tb;
    rep_setup(&a, 0);
    assert_int_equal(slate_legacy_proxyload_decode(&a, &ta, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, NULL),
                     SLATE_OK);
    char v[4096];
    /* no final "\n" */
    size_t n = sizeof PROXYLOAD_BODY - 2;
    memcpy(v, PROXYLOAD_BODY, n);
    rep_setup(&b, 1);
    assert_int_equal(slate_legacy_proxyload_decode(&b, &tb, v, n, NULL, NULL), SLATE_OK);
    assert_true(ta == tb && lr_report_eq(&a, &b));
    /* CRLF line ends */
    n = 0;
    for (const char *p = PROXYLOAD_BODY; *p; p++) {
        if (*p == '\n')
            v[n++] = '\r';
        v[n++] = *p;
    }
    rep_setup(&b, 1);
    assert_int_equal(slate_legacy_proxyload_decode(&b, &tb, v, n, NULL, NULL), SLATE_OK);
    assert_true(ta == tb && lr_report_eq(&a, &b));
    /* load lists without their final '|', blank lines between spans, empty last field */
    static const char body1[] =
        "42\nGET@/start,40,0|POST@/write,2,1|\n\n" SLATE_COMMENT_LINE "\n\n";
    static const char body2[] = "42\nGET@/start,40,0|POST@/write,2,1\n"
                                "us-west-1 metrics-fake-ingress-us-west-1 GET /start "
                                "70904b1c08f35622387a6bb5c9141596 387a6bb5c9141596  1709763447436 "
                                "1709763447540 0 GET@/start,0,18446744073709530962";
    rep_setup(&a, 0);
    assert_int_equal(slate_legacy_proxyload_decode(&a, &ta, body1, sizeof body1 - 1, NULL, NULL),
                     SLATE_OK);
    rep_setup(&b, 1);
    assert_int_equal(slate_legacy_proxyload_decode(&b, &tb, body2, sizeof body2 - 1, NULL, NULL),
                     SLATE_OK);
    assert_true(ta == tb && lr_report_eq(&a, &b));
    assert_int_equal(a.n_spans, 1);
    /* an empty load list as the last field equals NOT FOUND */
    static const char e1[] = "1\n\nr s GET / t s  1 2 3 \n";
    static const char e2[] = "1\n\nr s GET / t s  1 2 3 NOT FOUND\n";
    rep_setup(&a, 0);
    assert_int_equal(slate_legacy_proxyload_decode(&a, &ta, e1, sizeof e1 - 1, NULL, NULL),
                     SLATE_OK);
    rep_setup(&b, 1);
    assert_int_equal(slate_legacy_proxyload_decode(&b, &tb, e2, sizeof e2 - 1, NULL, NULL),
                     SLATE_OK);
    assert_true(lr_report_eq(&a, &b));
    assert_int_equal(a.spans[0].n_load, 0);
    /* a body of just line 1 (line 2 absent) */
    rep_setup(&a, 0);
    assert_int_equal(slate_legacy_proxyload_decode(&a, &ta, "5", 1, NULL, NULL), SLATE_OK);
    assert_true(ta == 5 && a.n_inbound == 0 && a.n_spans == 0);
    /* the caller's region/service from the HTTP headers are checked, not overwritten */
    rep_setup(&a, 0);
    a.region = slate_str("us-west-1");
    a.service = slate_str("metrics-fake-ingress-us-west-1");
    assert_int_equal(slate_legacy_proxyload_decode(&a, &ta, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, NULL),
                     SLATE_OK);
    rep_setup(&a, 0);
    a.region = slate_str("us-east-1");
    slate_codec_error_t err;
    assert_int_equal(slate_legacy_proxyload_decode(&a, &ta, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, &err),
                     SLATE_EVALUE);
    assert_non_null(strstr(err.path, "line 3, col 1, field 1 (region)"));
}

/* Real span records from SLATE's Online Boutique traces, one body per (region, service). */
static void check_csv_file(const char *name)
{
    static tcsv_span_t recs[128];
    char file[512];
    snprintf(file, sizeof file, "%s/slate/%s", SLATE_DATA_DIR, name);
    int n = tcsv_read(file, recs, 128);
    if (n <= 0)
        fail_msg("cannot read %s", file);
    const uint64_t base_ms = 1709763447000ull;
    int done[128] = {0};
    int bodies = 0, spans_checked = 0;
    for (int i = 0; i < n; i++) {
        if (done[i])
            continue;
        /* every record of this (region, service) */
        int idx[128], m = 0;
        for (int j = i; j < n; j++)
            if (!done[j] && !strcmp(recs[j].region, recs[i].region) &&
                !strcmp(recs[j].service, recs[i].service)) {
                idx[m++] = j;
                done[j] = 1;
            }
        static char body[65536];
        size_t len = (size_t)snprintf(body, sizeof body, "%d\n", m);
        size_t ll = tcsv_load_list(&recs[i], body + len, sizeof body - len);
        len += ll;
        body[len++] = '\n';
        for (int k = 0; k < m; k++) {
            len = tcsv_span_line(&recs[idx[k]], base_ms, body, len, sizeof body);
            assert_true(len > 0);
        }
        slate_load_report_t r;
        rep_setup(&r, 0);
        uint64_t total;
        slate_codec_error_t err;
        slate_status st = slate_legacy_proxyload_decode(&r, &total, body, len, NULL, &err);
        if (st != SLATE_OK)
            fail_msg("%s: %s at %s: %s", name, slate_status_name(st), err.path, err.detail);
        assert_true(total == (uint64_t)m);
        assert_str(r.region, recs[i].region);
        assert_str(r.service, recs[i].service);
        assert_int_equal(r.n_inbound, recs[i].n_load);
        for (size_t k = 0; k < recs[i].n_load; k++) {
            assert_str(r.inbound[k].method, recs[i].load[k].method);
            assert_str(r.inbound[k].path, recs[i].load[k].path);
            assert_true(r.inbound[k].rate_rps == (double)recs[i].load[k].rps);
            assert_true(r.inbound[k].in_flight == recs[i].load[k].inflight);
        }
        assert_int_equal(r.n_spans, (size_t)m);
        for (int k = 0; k < m; k++) {
            const tcsv_span_t *c = &recs[idx[k]];
            const slate_span_t *s = &r.spans[k];
            assert_str(s->method, c->method);
            assert_str(s->path, c->path);
            assert_str(s->trace_id, c->trace_id);
            assert_str(s->span_id, c->span_id);
            assert_str(s->parent_span_id, c->parent_span_id);
            assert_true(s->start_ns == (base_ms + c->start_ms) * 1000000ull);
            assert_true(s->end_ns == (base_ms + c->end_ms) * 1000000ull);
            assert_true(s->body_size == (uint64_t)(c->call_size < 0 ? 0 : c->call_size));
            assert_int_equal(s->n_load, c->n_load);
            for (size_t q = 0; q < c->n_load; q++) {
                assert_str(s->load[q].method, c->load[q].method);
                assert_str(s->load[q].path, c->load[q].path);
                assert_true(s->load[q].rps == (double)c->load[q].rps);
                assert_true(s->load[q].in_flight == c->load[q].inflight);
            }
            spans_checked++;
        }
        /* byte-exact re-encoding */
        static char out[65536];
        size_t olen;
        encode_text(&r, &total, out, sizeof out, &olen);
        assert_int_equal(olen, len);
        assert_memory_equal(out, body, len);
        bodies++;
    }
    assert_int_equal(spans_checked, n);
    assert_true(bodies >= 2);
}

static void test_proxyload_real_slate_traces(void **state)
{
    (void)state;
    check_csv_file("onlineboutique-trace.csv");
    check_csv_file("onlineboutique-trace-wcse.csv");
}

typedef struct {
    const char *body;
    slate_status status;
    const char *where; /* substring of err.path */
} bad_case_t;

static void run_bad(slate_status (*decode)(const char *, size_t, const slate_codec_limits_t *,
                                           slate_codec_error_t *),
                    const bad_case_t *cases, size_t n, const slate_codec_limits_t *lim)
{
    for (size_t i = 0; i < n; i++) {
        slate_codec_error_t err;
        size_t len = strlen(cases[i].body);
        slate_status st = decode(cases[i].body, len, lim, &err);
        if (st != cases[i].status)
            fail_msg("case %zu ('%s'): %s, want %s (%s: %s)", i, cases[i].body,
                     slate_status_name(st), slate_status_name(cases[i].status), err.path,
                     err.detail);
        assert_int_equal(err.status, st);
        assert_non_null(err.detail);
        assert_true(strlen(err.detail) > 5);
        assert_true(err.offset <= len);
        if (!strstr(err.path, cases[i].where))
            fail_msg("case %zu ('%s'): path '%s' lacks '%s'", i, cases[i].body, err.path,
                     cases[i].where);
        /* the one-line form for an HTTP 400 body */
        char line[512];
        size_t need = slate_codec_error_format(&err, line, sizeof line);
        assert_true(need > 0 && need < sizeof line);
        assert_non_null(strstr(line, slate_status_name(st)));
        assert_non_null(strstr(line, cases[i].where));
    }
}

static slate_status pl_decode(const char *b, size_t n, const slate_codec_limits_t *lim,
                              slate_codec_error_t *err)
{
    slate_load_report_t r;
    rep_setup(&r, 0);
    uint64_t t;
    return slate_legacy_proxyload_decode(&r, &t, b, n, lim, err);
}

#define SPAN_HEAD "us-west-1 fe GET /a 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331 "

static void test_proxyload_malformed(void **state)
{
    (void)state;
    static const bad_case_t cases[] = {
        {"", SLATE_ESYNTAX, "line 1"},
        {"\n", SLATE_ENUMBER, "line 1, col 1, field 1 (total requests)"},
        {"x\n\n", SLATE_ENUMBER, "line 1, col 1, field 1"},
        {"-1\n\n", SLATE_ENUMBER, "field 1"},
        {"+1\n\n", SLATE_ENUMBER, "field 1"},
        {"1.0\n\n", SLATE_ENUMBER, "field 1"},
        {"18446744073709551616\n\n", SLATE_ENUMBER, "field 1"},
        {" 1\n\n", SLATE_ENUMBER, "field 1"},
        {"5\nGET/cart,1,0|\n", SLATE_ESYNTAX, "line 2, col 1 (load entry)"},
        {"5\nGET@/cart,1|\n", SLATE_ESYNTAX, "line 2, col 1 (load entry)"},
        {"5\nGET@/cart,1,0,9|\n", SLATE_ESYNTAX, "line 2"},
        {"5\nGET@/cart,x,0|\n", SLATE_ENUMBER, "line 2, col 11 (load entry rps)"},
        {"5\nGET@/cart,1,-1|\n", SLATE_ENUMBER, "(load entry in_flight)"},
        {"5\nGET@/cart,1,0||\n", SLATE_ESYNTAX, "line 2, col 15"},
        {"5\n|GET@/cart,1,0|\n", SLATE_ESYNTAX, "line 2, col 1"},
        {"5\n@/cart,1,0|\n", SLATE_ESYNTAX, "(load entry method)"},
        {"5\nGET@,1,0|\n", SLATE_ESYNTAX, "(load entry path)"},
        {"5\nGET@/a@b,1,0|\n", SLATE_ESYNTAX, "line 2, col 7 (load entry path)"},
        {"5\nGET@/a b,1,0|\n", SLATE_ESYNTAX, "(load entry path)"},
        {"5\nGET@/a\x01,1,0|\n", SLATE_ESYNTAX, "(load entry path)"},
        {"5\nGET@/\xff,1,0|\n", SLATE_EUTF8, "line 2, col 6 (load entry path)"},
        {"5\nGET@/\xc0\xaf,1,0|\n", SLATE_EUTF8, "(load entry path)"},
        {"5\nGET@/\xed\xa0\x80,1,0|\n", SLATE_EUTF8, "(load entry path)"},
        {"5\nGET@/\xf4\x90\x80\x80,1,0|\n", SLATE_EUTF8, "(load entry path)"},
        {"5\nGET@/\xe2\x82,1,0|\n", SLATE_EUTF8, "(load entry path)"},
        {"5\n\n" SPAN_HEAD " 1 2 3\n", SLATE_ESYNTAX, "line 3, col 1 (span line)"},
        {"5\n\n" SPAN_HEAD " 1 2 3 GET@/a,1,0| x\n", SLATE_ESYNTAX, "line 3, col 1 (span line)"},
        {"5\n\n" SPAN_HEAD " 1 2 3 NOT FOUND x\n", SLATE_ESYNTAX, "(span line)"},
        {"5\n\n" SPAN_HEAD " 1 2 3 NOT\n", SLATE_ESYNTAX, "field 11 (load entry)"},
        {"5\n\n" SPAN_HEAD " 1.5 2 3 NOT FOUND\n", SLATE_ENUMBER,
         "line 3, col 72, field 8 (start ms)"},
        {"5\n\n" SPAN_HEAD " 1 -2 3 NOT FOUND\n", SLATE_ENUMBER, "field 9 (end ms)"},
        {"5\n\n" SPAN_HEAD " 5 4 3 NOT FOUND\n", SLATE_ENUMBER, "field 9 (end ms)"},
        {"5\n\n" SPAN_HEAD " 1 2 -3 NOT FOUND\n", SLATE_ENUMBER, "field 10 (body size)"},
        {"5\n\n" SPAN_HEAD " 18446744073710 18446744073710 3 NOT FOUND\n", SLATE_ENUMBER,
         "field 8 (start ms)"},
        {"5\n\nus-west-1 fe  /a t s p 1 2 3 NOT FOUND\n", SLATE_ESYNTAX, "field 3 (method)"},
        {"5\n\n fe GET /a t s p 1 2 3 NOT FOUND\n", SLATE_ESYNTAX, "field 1 (region)"},
        {"5\n\nus-west-1 fe GET /a  s p 1 2 3 NOT FOUND\n", SLATE_ESYNTAX, "field 5 (trace id)"},
        {"5\n\nus-west-1 fe GET /a\t t s p 1 2 3 NOT FOUND\n", SLATE_ESYNTAX, "field 4 (path)"},
        {"5\n\nus-west-1 fe GET /a t s p 1 2 3 NOT FOUND\nus-east-1 fe GET /a t s p 1 2 3 NOT "
         "FOUND\n",
         SLATE_EVALUE, "line 4, col 1, field 1 (region)"},
        {"5\n\nus-west-1 fe GET /a t s p 1 2 3 NOT FOUND\nus-west-1 be GET /a t s p 1 2 3 NOT "
         "FOUND\n",
         SLATE_EVALUE, "line 4, col 11, field 2 (service)"},
        {"5\n\nus-west-1 fe GET /a t s p 1 2 3 GET@/a,1,0||\n", SLATE_ESYNTAX, "field 11"},
    };
    run_bad(pl_decode, cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_proxyload_limits(void **state)
{
    (void)state;
    slate_codec_limits_t lim = {0};
    lim.max_string = 8;
    lim.max_repeated = 2;
    lim.max_size = 200;
    static const bad_case_t cases[] = {
        {"5\nGET@/123456789,1,0|\n", SLATE_ESTRLEN, "(load entry path)"},
        {"5\nGET@/a,1234567890,0|\n", SLATE_ESTRLEN, "(load entry rps)"},
        {"5\nGET@/a,1,0|GET@/b,1,0|GET@/c,1,0|\n", SLATE_ECOUNT, "line 2, col 23"},
        {"5\n\nr s GET /a t s p 1 2 3 GET@/a,1,0|GET@/b,1,0|GET@/c,1,0|\n", SLATE_ECOUNT,
         "field 11"},
        {"5\n\nr s GET /a t s p 1 2 3 NOT FOUND\nr s GET /a t s p 1 2 3 NOT FOUND\nr s GET /a t s "
         "p 1 2 3 NOT FOUND\n",
         SLATE_ECOUNT, "line 5"},
        {"5\n\nr s GET /a 0af7651916cd43dd s p 1 2 3 NOT FOUND\n", SLATE_ESTRLEN,
         "field 5 (trace id)"},
    };
    run_bad(pl_decode, cases, sizeof cases / sizeof cases[0], &lim);
    char big[201];
    memset(big, '1', sizeof big);
    slate_codec_error_t err;
    assert_int_equal(pl_decode(big, sizeof big, &lim, &err), SLATE_ELENGTH);
    assert_string_equal(err.path, "body");
    assert_int_equal(pl_decode(big, 8, &lim, &err), SLATE_OK);
    /* NULL handling */
    uint64_t t;
    assert_int_equal(slate_legacy_proxyload_decode(NULL, &t, "1", 1, NULL, &err), SLATE_EINVAL);
    slate_load_report_t r;
    rep_setup(&r, 0);
    assert_int_equal(slate_legacy_proxyload_decode(&r, &t, NULL, 1, NULL, &err), SLATE_EINVAL);
    assert_int_equal(slate_legacy_proxyload_decode(&r, &t, NULL, 0, NULL, NULL), SLATE_ESYNTAX);
}

static void test_proxyload_arrays(void **state)
{
    (void)state;
    /* count only */
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    uint64_t t;
    assert_int_equal(slate_legacy_proxyload_decode(&r, &t, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, NULL),
                     SLATE_OK);
    assert_int_equal(r.n_inbound, 2);
    assert_int_equal(r.n_spans, 3);
    assert_int_equal(r.n_span_loads, 3);
    /* short arrays: ENOSPC with the counts needed, and nothing written past the caps */
    slate_inbound_t in[2];
    slate_span_t sp[3];
    slate_endpoint_load_t ld[4];
    memset(ld, 0xab, sizeof ld);
    memset(&r, 0, sizeof r);
    r.inbound = in;
    r.cap_inbound = 1;
    r.spans = sp;
    r.cap_spans = 3;
    r.span_loads = ld;
    r.cap_span_loads = 2;
    slate_codec_error_t err;
    assert_int_equal(slate_legacy_proxyload_decode(&r, &t, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, &err),
                     SLATE_ENOSPC);
    assert_int_equal(err.status, SLATE_ENOSPC);
    assert_int_equal(r.n_inbound, 2);
    assert_int_equal(r.n_span_loads, 3);
    unsigned char *tail = (unsigned char *)&ld[2];
    for (size_t i = 0; i < 2 * sizeof ld[0]; i++)
        assert_int_equal(tail[i], 0xab);
    assert_non_null(sp[0].load);
    assert_null(sp[1].load); /* its slice did not fit */
    /* a syntax error wins over a short array */
    r.cap_inbound = 0;
    assert_int_equal(slate_legacy_proxyload_decode(&r, &t, "5\nGET@/a,1,0|x\n", 15, NULL, &err),
                     SLATE_ESYNTAX);
}

static void test_proxyload_encode_from_struct(void **state)
{
    (void)state;
    slate_endpoint_load_t ld[2] = {
        {{"GET", 3}, {"/a", 2}, 12.5, 3},  /* 12.5 -> 12 (half-even) */
        {{"POST", 4}, {"/b", 2}, 13.5, 0}, /* 13.5 -> 14 */
    };
    slate_inbound_t in[2];
    memset(in, 0, sizeof in);
    in[0].method = slate_str("GET");
    in[0].path = slate_str("/a");
    in[0].requests = 11;
    in[0].rate_rps = 9.6;
    in[0].in_flight = 2;
    in[1].method = slate_str("POST");
    in[1].path = slate_str("/b");
    in[1].requests = 5;
    in[1].rate_rps = 5.0;
    slate_span_t sp;
    memset(&sp, 0, sizeof sp);
    sp.trace_id = slate_str("abc");
    sp.span_id = slate_str("def");
    sp.method = slate_str("GET");
    sp.path = slate_str("/a");
    sp.start_ns = 1709763447436999999ull; /* ms rounded down */
    sp.end_ns = 1709763447540000000ull;
    sp.body_size = 77;
    sp.load = ld;
    sp.n_load = 2;
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    r.region = slate_str("us-east-1");
    r.service = slate_str("frontend");
    r.inbound = in;
    r.n_inbound = 2;
    r.spans = &sp;
    r.n_spans = 1;
    static const char want[] =
        "16\nGET@/a,10,2|POST@/b,5,0|\n"
        "us-east-1 frontend GET /a abc def  1709763447436 1709763447540 77 GET@/a,12,3|POST@/b,14,"
        "0|\n";
    char out[512];
    size_t len;
    encode_text(&r, NULL, out, sizeof out, &len);
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    /* every short buffer: ENOSPC, the full size, not a byte past cap */
    for (size_t cap = 0; cap < len; cap++) {
        char buf[512];
        memset(buf, 0x5a, sizeof buf);
        size_t need = 0;
        assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, buf, cap, &need, NULL),
                         SLATE_ENOSPC);
        assert_int_equal(need, len);
        for (size_t i = cap; i < sizeof buf; i++)
            assert_int_equal((unsigned char)buf[i], 0x5a);
    }
    {
        char buf[512];
        memset(buf, 0x5a, sizeof buf);
        size_t got = 0;
        assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, buf, len, &got, NULL), SLATE_OK);
        assert_int_equal(got, len);
        assert_memory_equal(buf, want, len);
        assert_int_equal((unsigned char)buf[len], 0x5a);
    }
    /* what the text cannot carry */
    slate_codec_error_t err;
    in[0].rate_rps = NAN;
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    assert_string_equal(err.path, "inbound[0].rate_rps");
    in[0].rate_rps = -1;
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    in[0].rate_rps = 1;
    in[1].path = slate_str("/b,c");
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    assert_string_equal(err.path, "inbound[1].path");
    in[1].path = slate_str("/b@c");
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    in[1].path = slate_str("/\xff");
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EUTF8);
    in[1].path = slate_str("/b");
    sp.path = slate_str("/a b");
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    assert_string_equal(err.path, "spans[0].path");
    sp.path = slate_str("/a");
    sp.end_ns = sp.start_ns - 1;
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    sp.end_ns = sp.start_ns;
    ld[1].rps = INFINITY;
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    assert_string_equal(err.path, "spans[0].load[1].rps");
    ld[1].rps = 1;
    r.region = slate_str("");
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EVALUE);
    assert_string_equal(err.path, "report.region");
    r.region = slate_str("us-east-1");
    sp.load = NULL;
    assert_int_equal(slate_legacy_proxyload_encode(&r, NULL, out, sizeof out, &len, &err),
                     SLATE_EINVAL);
    assert_int_equal(slate_legacy_proxyload_encode(NULL, NULL, out, sizeof out, &len, &err),
                     SLATE_EINVAL);
}

/* Rates above 2^53 (SLATE's wrapped counters) keep their exact text through `requests`. */
static void test_proxyload_huge_counts(void **state)
{
    (void)state;
    static const char body[] = "1\nGET@/a,18446744073709530962,0|\n"
                               "r s GET /a t s  1 2 3 GET@/a,18446744073709551615,0|\n";
    slate_load_report_t r;
    rep_setup(&r, 0);
    uint64_t t;
    assert_int_equal(slate_legacy_proxyload_decode(&r, &t, body, sizeof body - 1, NULL, NULL),
                     SLATE_OK);
    assert_true(r.inbound[0].requests == 18446744073709530962ull);
    assert_true(r.spans[0].load[0].rps == 18446744073709551616.0);
    char out[512];
    size_t len;
    encode_text(&r, &t, out, sizeof out, &len);
    assert_int_equal(len, sizeof body - 1);
    assert_memory_equal(out, body, len);
}

/* ========================================================================= */
/* /hillclimbingLatency                                                      */

static const char LATENCY_BODY[] = "outbound\n"
                                   "cartservice POST /hipstershop.CartService/AddItem 3 41\n"
                                   "currencyservice GET /convert 0 0\n"
                                   "inbound\n"
                                   "POST /cart 6 40 1234.500000\n"
                                   "GET /cart 0 1 0.000000\n";

static void test_latency_decode_values(void **state)
{
    (void)state;
    slate_load_report_t r;
    rep_setup(&r, 0);
    slate_codec_error_t err;
    assert_int_equal(
        slate_legacy_latency_decode(&r, LATENCY_BODY, sizeof LATENCY_BODY - 1, NULL, &err),
        SLATE_OK);
    assert_int_equal(r.n_outbound, 2);
    assert_int_equal(r.n_inbound, 2);
    assert_int_equal(r.n_spans, 0);
    const slate_outbound_t *o = &r.outbound[0];
    assert_str(o->dst_service, "cartservice");
    assert_str(o->method, "POST");
    assert_str(o->path, "/hipstershop.CartService/AddItem");
    assert_str(o->dst_region, "");
    assert_true(o->requests == 41);
    assert_true(o->latency.count == 41);
    assert_true(o->latency.mean_ns == 3e6);
    assert_true(o->latency.sum_ns == 123000000ull);
    assert_true(o->latency.m2 == 0);
    assert_true(o->latency.min_ns == 0 && o->latency.max_ns == 0 && o->latency.hist_len == 0);
    const slate_inbound_t *in = &r.inbound[0];
    assert_str(in->method, "POST");
    assert_str(in->path, "/cart");
    assert_true(in->latency.count == 40);
    assert_true(in->latency.mean_ns == 6e6);
    assert_true(in->latency.m2 == 1234.5e12);
    assert_true(in->latency.sum_ns == 240000000ull);
    assert_true(in->requests == 0 && in->rate_rps == 0 && in->in_flight == 0);
    /* byte-exact re-encoding */
    char out[1024];
    size_t len;
    assert_int_equal(slate_legacy_latency_encode(&r, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof LATENCY_BODY - 1);
    assert_memory_equal(out, LATENCY_BODY, len);
}

static void test_latency_shapes(void **state)
{
    (void)state;
    slate_load_report_t a, b;
    /* empty body, only one section, inbound first, SLATE's "0" m2, CRLF, no final \n */
    static const char *const ok[] = {"", "outbound\n", "inbound\nGET / 1 2 3\n",
                                     "inbound\nGET / 1 2 3\noutbound\nsvc GET / 4 5\n",
                                     "inbound\r\nGET / 1 2 0\r\n", "inbound\nGET / 1.5 2 3",
                                     "\noutbound\n\nsvc GET / 4 5\n\n",
                                     /* a mean above 2^53 ns, which the double rounds (found
                                        by fuzzing: the derived sum must follow the double) */
                                     ("inbound\nP ers.rt~ 7777777777770 1 0.00777777777777777777777"
                                      "77700\n")};
    static const size_t n_in[] = {0, 0, 1, 1, 1, 1, 0, 1}, n_out[] = {0, 0, 0, 1, 0, 0, 1, 0};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        rep_setup(&a, 0);
        slate_codec_error_t err;
        slate_status st = slate_legacy_latency_decode(&a, ok[i], strlen(ok[i]), NULL, &err);
        if (st != SLATE_OK)
            fail_msg("'%s': %s %s %s", ok[i], slate_status_name(st), err.path, err.detail);
        assert_int_equal(a.n_inbound, n_in[i]);
        assert_int_equal(a.n_outbound, n_out[i]);
        char out[256];
        size_t len;
        assert_int_equal(slate_legacy_latency_encode(&a, out, sizeof out, &len, NULL), SLATE_OK);
        rep_setup(&b, 1);
        assert_int_equal(slate_legacy_latency_decode(&b, out, len, NULL, NULL), SLATE_OK);
        assert_true(lr_report_eq(&a, &b));
    }
    rep_setup(&a, 0);
    assert_int_equal(slate_legacy_latency_decode(&a, "inbound\nGET / 1.5 2 0\n", 21, NULL, NULL),
                     SLATE_OK);
    assert_true(a.inbound[0].latency.mean_ns == 1.5e6);
    assert_true(a.inbound[0].latency.m2 == 0);
    /* m2 precision: the double nearest the exact value (glibc's strtod as reference) */
    static const char big[] = "inbound\nGET / 250 123456 123456789.123456\n";
    rep_setup(&a, 0);
    assert_int_equal(slate_legacy_latency_decode(&a, big, sizeof big - 1, NULL, NULL), SLATE_OK);
    assert_true(a.inbound[0].latency.m2 == strtod("123456789123456000000", NULL));
    char out[256];
    size_t len;
    assert_int_equal(slate_legacy_latency_encode(&a, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof big - 1);
    assert_memory_equal(out, big, len);
}

static void test_latency_encode_from_stats(void **state)
{
    (void)state;
    slate_stats_t *s = calloc(1, sizeof *s); /* large histogram: heap */
    assert_non_null(s);
    s->count = 3;
    s->mean_ns = 1234567.8; /* -> 1.234568 ms */
    s->m2 = 2.5e12;         /* -> 2.500000 ms^2 */
    slate_inbound_t in;
    memset(&in, 0, sizeof in);
    in.method = slate_str("GET");
    in.path = slate_str("/x");
    in.latency.count = s->count;
    in.latency.mean_ns = s->mean_ns;
    in.latency.m2 = s->m2;
    slate_outbound_t o;
    memset(&o, 0, sizeof o);
    o.dst_service = slate_str("cart");
    o.method = slate_str("POST");
    o.path = slate_str("/y");
    o.dst_region = slate_str("us-east-1"); /* not in SLATE's text */
    o.latency.count = 2;
    o.latency.mean_ns = 6500000;
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    r.inbound = &in;
    r.n_inbound = 1;
    r.outbound = &o;
    r.n_outbound = 1;
    static const char want[] =
        "outbound\ncart POST /y 6.5 2\ninbound\nGET /x 1.234568 3 2.500000\n";
    char out[256];
    size_t len;
    assert_int_equal(slate_legacy_latency_encode(&r, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    for (size_t cap = 0; cap < len; cap++) {
        char buf[256];
        memset(buf, 0x5a, sizeof buf);
        size_t need;
        assert_int_equal(slate_legacy_latency_encode(&r, buf, cap, &need, NULL), SLATE_ENOSPC);
        assert_int_equal(need, len);
        for (size_t i = cap; i < sizeof buf; i++)
            assert_int_equal((unsigned char)buf[i], 0x5a);
    }
    {
        char buf[256];
        memset(buf, 0x5a, sizeof buf);
        size_t got = 0;
        assert_int_equal(slate_legacy_latency_encode(&r, buf, len, &got, NULL), SLATE_OK);
        assert_int_equal(got, len);
        assert_memory_equal(buf, want, len);
        assert_int_equal((unsigned char)buf[len], 0x5a);
    }
    slate_codec_error_t err;
    in.latency.m2 = -1;
    assert_int_equal(slate_legacy_latency_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    assert_string_equal(err.path, "inbound[0].latency.m2");
    in.latency.m2 = 0;
    o.latency.mean_ns = NAN;
    assert_int_equal(slate_legacy_latency_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    assert_string_equal(err.path, "outbound[0].latency.mean_ns");
    o.latency.mean_ns = 1;
    o.path = slate_str("/a b");
    assert_int_equal(slate_legacy_latency_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    assert_string_equal(err.path, "outbound[0].path");
    free(s);
}

static slate_status lat_decode(const char *b, size_t n, const slate_codec_limits_t *lim,
                               slate_codec_error_t *err)
{
    slate_load_report_t r;
    rep_setup(&r, 0);
    return slate_legacy_latency_decode(&r, b, n, lim, err);
}

static void test_latency_malformed(void **state)
{
    (void)state;
    static const bad_case_t cases[] = {
        {"GET / 1 2 3\n", SLATE_ESYNTAX, "line 1, col 1"},
        {"inboundLatencies\nGET / 1,2,3\n", SLATE_ESYNTAX, "line 1"},
        {"outbound\noutbound\n", SLATE_ESYNTAX, "line 2, col 1 (outbound)"},
        {"inbound\ninbound\n", SLATE_ESYNTAX, "line 2, col 1 (inbound)"},
        {"outbound\nsvc GET / 1\n", SLATE_ESYNTAX, "line 2, col 1 (outbound)"},
        {"outbound\nsvc GET / 1 2 3\n", SLATE_ESYNTAX, "(outbound)"},
        {"inbound\nGET / 1 2\n", SLATE_ESYNTAX, "(inbound)"},
        {"inbound\nGET  / 1 2 3\n", SLATE_ESYNTAX, "(inbound)"},
        {"inbound\nGET / -1 2 3\n", SLATE_ENUMBER, "line 2, col 7, field 3 (avg ms)"},
        {"inbound\nGET / 1 2.5 3\n", SLATE_ENUMBER, "field 4 (count)"},
        {"inbound\nGET / 1 2 nan\n", SLATE_ENUMBER, "field 5 (m2 ms^2)"},
        {"inbound\nGET / 1 2 inf\n", SLATE_ENUMBER, "field 5"},
        {"inbound\nGET / 1 2 -0.000000\n", SLATE_ENUMBER, "field 5"},
        {"inbound\nGET / 1 2 1e400\n", SLATE_ENUMBER, "field 5"},
        {"inbound\nGET / 18446744073709.551616 2 3\n", SLATE_ENUMBER, "field 3"},
        {"outbound\nsvc GET / x 2\n", SLATE_ENUMBER, "field 4 (avg ms)"},
        {"outbound\nsvc GET / 1 -2\n", SLATE_ENUMBER, "field 5 (count)"},
        {"outbound\nsvc GET /\xff 1 2\n", SLATE_EUTF8, "field 3 (path)"},
        {"outbound\nsvc\x7f GET / 1 2\n", SLATE_ESYNTAX, "field 1 (dst service)"},
    };
    run_bad(lat_decode, cases, sizeof cases / sizeof cases[0], NULL);
    slate_codec_limits_t lim = {0};
    lim.max_repeated = 1;
    lim.max_string = 4;
    static const bad_case_t lcases[] = {
        {"inbound\nGET / 1 2 3\nGET / 1 2 3\n", SLATE_ECOUNT, "line 3"},
        {"outbound\ns GET / 1 2\ns GET / 1 2\n", SLATE_ECOUNT, "line 3"},
        {"inbound\nGET /abcd 1 2 3\n", SLATE_ESTRLEN, "field 2 (path)"},
        {"inbound\nGET / 1 2 3.0000\n", SLATE_ESTRLEN, "field 5"},
    };
    run_bad(lat_decode, lcases, sizeof lcases / sizeof lcases[0], &lim);
    /* arrays */
    slate_load_report_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(
        slate_legacy_latency_decode(&r, LATENCY_BODY, sizeof LATENCY_BODY - 1, NULL, NULL),
        SLATE_OK);
    assert_int_equal(r.n_inbound, 2);
    assert_int_equal(r.n_outbound, 2);
    slate_outbound_t o1[1];
    r.outbound = o1;
    r.cap_outbound = 1;
    assert_int_equal(
        slate_legacy_latency_decode(&r, LATENCY_BODY, sizeof LATENCY_BODY - 1, NULL, NULL),
        SLATE_ENOSPC);
    assert_int_equal(r.n_outbound, 2);
}

/* ========================================================================= */
/* Rules                                                                     */

/* SLATE's global controller: `defaultresponse` (pandas to_csv, no spaces). */
static const char RULES_DEFAULT[] =
    "sslateingress@POST@/cart,frontend@POST@/cart,us-west-1,us-west-1,1.0\n"
    "sslateingress@POST@/cart,frontend@POST@/cart,us-west-1,us-east-1,0.0\n";

/* SLATE's plugin: the example in OnTickHttpCallResponse (", " separators). */
static const char RULES_PLUGIN_EXAMPLE[] =
    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, us-west-1, us-west-1, "
    "0.6\n"
    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, us-west-1, us-east-1, "
    "0.4\n"
    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, us-east-1, us-east-1, "
    "0.1\n"
    "metrics-fake-ingress@GET@/start, metrics-handler@GET@/detectAnomalies, us-east-1, us-west-1, "
    "0.9\n";

static void test_rules_decode_values(void **state)
{
    (void)state;
    slate_routing_rules_t r;
    rules_setup(&r, 0);
    r.version = 77; /* not in the text: kept */
    slate_codec_error_t err;
    assert_int_equal(
        slate_legacy_rules_decode(&r, RULES_DEFAULT, sizeof RULES_DEFAULT - 1, NULL, &err),
        SLATE_OK);
    assert_true(r.version == 77);
    assert_int_equal(r.n_rules, 1);
    assert_int_equal(r.n_targets, 2);
    const slate_rule_t *x = &r.rules[0];
    assert_str(x->src_service, "sslateingress");
    assert_str(x->src_method, "POST");
    assert_str(x->src_path, "/cart");
    assert_str(x->dst_service, "frontend");
    assert_str(x->method, "POST");
    assert_str(x->path, "/cart");
    assert_str(x->src_region, "us-west-1");
    assert_int_equal(x->n_targets, 2);
    assert_ptr_equal(x->targets, r.targets);
    assert_str(x->targets[0].region, "us-west-1");
    assert_int_equal(x->targets[0].weight, SLATE_LEGACY_WEIGHT_SCALE);
    assert_str(x->targets[1].region, "us-east-1");
    assert_int_equal(x->targets[1].weight, 0);
    char out[1024];
    size_t len;
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof RULES_DEFAULT - 1);
    assert_memory_equal(out, RULES_DEFAULT, len);

    rules_setup(&r, 0);
    assert_int_equal(slate_legacy_rules_decode(&r, RULES_PLUGIN_EXAMPLE,
                                               sizeof RULES_PLUGIN_EXAMPLE - 1, NULL, &err),
                     SLATE_OK);
    assert_int_equal(r.n_rules, 2);
    assert_str(r.rules[0].src_region, "us-west-1");
    assert_str(r.rules[1].src_region, "us-east-1");
    assert_str(r.rules[1].path, "/detectAnomalies");
    assert_int_equal(r.rules[0].targets[0].weight, 600000);
    assert_int_equal(r.rules[0].targets[1].weight, 400000);
    assert_int_equal(r.rules[1].targets[0].weight, 100000);
    assert_str(r.rules[1].targets[1].region, "us-west-1");
    assert_int_equal(r.rules[1].targets[1].weight, 900000);
    /* re-encoded in pandas' form: the same text without the spaces */
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, NULL), SLATE_OK);
    char nospace[1024];
    size_t k = 0;
    for (const char *p = RULES_PLUGIN_EXAMPLE; *p; p++)
        if (!(*p == ' ' && p[-1] == ','))
            nospace[k++] = *p;
    assert_int_equal(len, k);
    assert_memory_equal(out, nospace, len);
}

static void test_rules_fractions_and_grouping(void **state)
{
    (void)state;
    /* Python repr forms and lines of one rule that are not adjacent */
    static const char body[] = "a@GET@/x,b@GET@/y,r1,r1,0.30000000000000004\n"
                               "a@GET@/x,c@GET@/z,r1,r1,1e-05\n"
                               "a@GET@/x,b@GET@/y,r1,r2,0.6999999999999999\n"
                               "@@,c@GET@/z,r1,r2,0.9999\n"
                               "a@GET@/x,c@GET@/z,r1,r2,0.99999\n";
    slate_routing_rules_t r;
    rules_setup(&r, 0);
    slate_codec_error_t err;
    assert_int_equal(slate_legacy_rules_decode(&r, body, sizeof body - 1, NULL, &err), SLATE_OK);
    assert_int_equal(r.n_rules, 3);
    assert_int_equal(r.n_targets, 5);
    assert_str(r.rules[0].dst_service, "b");
    assert_int_equal(r.rules[0].n_targets, 2);
    assert_int_equal(r.rules[0].targets[0].weight, 300000);
    assert_int_equal(r.rules[0].targets[1].weight, 700000);
    assert_str(r.rules[0].targets[1].region, "r2");
    assert_str(r.rules[1].dst_service, "c");
    assert_str(r.rules[1].src_service, "a");
    assert_int_equal(r.rules[1].n_targets, 2);
    assert_int_equal(r.rules[1].targets[0].weight, 10);
    assert_int_equal(r.rules[1].targets[1].weight, 999990);
    assert_str(r.rules[2].src_service, "");
    assert_str(r.rules[2].src_method, "");
    assert_str(r.rules[2].src_path, "");
    assert_int_equal(r.rules[2].targets[0].weight, 999900);
    /* each rule's targets are one contiguous slice of the pool, in rule order */
    assert_ptr_equal(r.rules[0].targets, r.targets);
    assert_ptr_equal(r.rules[1].targets, r.targets + 2);
    assert_ptr_equal(r.rules[2].targets, r.targets + 4);
    static const char want[] = "a@GET@/x,b@GET@/y,r1,r1,0.3\n"
                               "a@GET@/x,b@GET@/y,r1,r2,0.7\n"
                               "a@GET@/x,c@GET@/z,r1,r1,1e-05\n"
                               "a@GET@/x,c@GET@/z,r1,r2,0.99999\n"
                               "@@,c@GET@/z,r1,r2,0.9999\n";
    char out[1024];
    size_t len;
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    /* empty answer, blank lines, CRLF, no final newline, tabs around fields */
    static const char *const ok[] = {"", "\n\n", "a@b@c,d@e@f,r,s,1\r\n",
                                     "\n a@b@c ,\td@e@f\t, r , s , 1 \n\n", "a@b@c,d@e@f,r,s,1"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        rules_setup(&r, 0);
        assert_int_equal(slate_legacy_rules_decode(&r, ok[i], strlen(ok[i]), NULL, &err), SLATE_OK);
        if (i >= 2) {
            assert_int_equal(r.n_rules, 1);
            assert_str(r.rules[0].src_service, "a");
            assert_str(r.rules[0].path, "f");
            assert_str(r.rules[0].src_region, "r");
            assert_str(r.targets[0].region, "s");
            assert_int_equal(r.targets[0].weight, SLATE_LEGACY_WEIGHT_SCALE);
        } else {
            assert_int_equal(r.n_rules, 0);
        }
    }
}

static slate_status rules_decode(const char *b, size_t n, const slate_codec_limits_t *lim,
                                 slate_codec_error_t *err)
{
    slate_routing_rules_t r;
    rules_setup(&r, 0);
    return slate_legacy_rules_decode(&r, b, n, lim, err);
}

static void test_rules_malformed(void **state)
{
    (void)state;
    static const bad_case_t cases[] = {
        {"your region is SLATE_UNKNOWN_REGION. It is wrong", SLATE_ESYNTAX,
         "line 1, col 1 (rule line)"},
        {"a@b@c,d@e@f,r,s\n", SLATE_ESYNTAX, "(rule line)"},
        {"a@b@c,d@e@f,r,s,1,2\n", SLATE_ESYNTAX, "(rule line)"},
        {"x\na@b@c,d@e@f,r,s,1\n", SLATE_ESYNTAX, "line 1"},
        {"a@b@c,d@e@f,r,s,1\n \n", SLATE_ESYNTAX, "line 2"},
        {"a@b,d@e@f,r,s,1\n", SLATE_ESYNTAX, "field 1 (source endpoint)"},
        {"a@b@c@d,d@e@f,r,s,1\n", SLATE_ESYNTAX, "field 1 (source endpoint)"},
        {"a@b@c,d@e,r,s,1\n", SLATE_ESYNTAX, "col 7, field 2 (destination endpoint)"},
        {"a@b@c,@e@f,r,s,1\n", SLATE_ESYNTAX, "field 2 (destination service)"},
        {"a@b@c,d@@f,r,s,1\n", SLATE_ESYNTAX, "field 2 (destination method)"},
        {"a@b@c,d@e@,r,s,1\n", SLATE_ESYNTAX, "field 2 (destination path)"},
        {"a@b@c,d@e@f,,s,1\n", SLATE_ESYNTAX, "field 3 (source region)"},
        {"a@b@c,d@e@f,r, ,1\n", SLATE_ESYNTAX, "field 4 (destination region)"},
        {"a@b@c,d@e@f,r,s s,1\n", SLATE_ESYNTAX, "field 4"},
        {"a@b@c,d@e@f\x01,r,s,1\n", SLATE_ESYNTAX, "field 2"},
        {"a@b@\xc3,d@e@f,r,s,1\n", SLATE_EUTF8, "field 1 (source path)"},
        {"a@b@c,d@e@f,r,s,1.0000006\n", SLATE_ENUMBER, "line 1, col 17, field 5 (fraction)"},
        {"a@b@c,d@e@f,r,s,2\n", SLATE_ENUMBER, "field 5"},
        {"a@b@c,d@e@f,r,s,-0.5\n", SLATE_ENUMBER, "field 5"},
        {"a@b@c,d@e@f,r,s,nan\n", SLATE_ENUMBER, "field 5"},
        {"a@b@c,d@e@f,r,s,inf\n", SLATE_ENUMBER, "field 5"},
        {"a@b@c,d@e@f,r,s,\n", SLATE_ENUMBER, "field 5"},
        {"a@b@c,d@e@f,r,s,0.5 (should be added)\n", SLATE_ENUMBER, "field 5"},
    };
    run_bad(rules_decode, cases, sizeof cases / sizeof cases[0], NULL);
    slate_codec_limits_t lim = {0};
    lim.max_repeated = 2;
    lim.max_string = 3;
    static const bad_case_t lcases[] = {
        {"a@b@c,d@e@f,r,s,1\na@b@c,d@e@f,r,t,0\na@b@c,d@e@f,r,u,0\n", SLATE_ECOUNT, "line 3"},
        {"a@b@c,d@e@fghi,r,s,1\n", SLATE_ESTRLEN, "field 2 (destination path)"},
        {"a@b@c,d@e@f,r,s,0.25\n", SLATE_ESTRLEN, "field 5"},
    };
    run_bad(rules_decode, lcases, sizeof lcases / sizeof lcases[0], &lim);
}

static void test_rules_arrays(void **state)
{
    (void)state;
    static const char body[] = "a@b@c,d@e@f,r,s,0.5\n"
                               "a@b@c,g@e@f,r,s,1\n"
                               "a@b@c,d@e@f,r,t,0.5\n";
    slate_routing_rules_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(slate_legacy_rules_decode(&r, body, sizeof body - 1, NULL, NULL), SLATE_OK);
    assert_int_equal(r.n_rules, 3); /* count only: a sufficient capacity */
    assert_int_equal(r.n_targets, 3);
    /* rules but no pool */
    slate_rule_t rs[2];
    r.rules = rs;
    r.cap_rules = 2;
    assert_int_equal(slate_legacy_rules_decode(&r, body, sizeof body - 1, NULL, NULL), SLATE_OK);
    assert_int_equal(r.n_rules, 2);
    assert_int_equal(rs[0].n_targets, 2);
    assert_null(rs[0].targets);
    /* too few rules */
    r.cap_rules = 1;
    slate_codec_error_t err;
    assert_int_equal(slate_legacy_rules_decode(&r, body, sizeof body - 1, NULL, &err),
                     SLATE_ENOSPC);
    assert_true(r.n_rules >= 2);
    /* too small a pool, canary intact */
    slate_route_target_t tg[3];
    memset(tg, 0xcd, sizeof tg);
    r.cap_rules = 2;
    r.targets = tg;
    r.cap_targets = 2;
    assert_int_equal(slate_legacy_rules_decode(&r, body, sizeof body - 1, NULL, &err),
                     SLATE_ENOSPC);
    assert_int_equal(r.n_targets, 3);
    const unsigned char *t2 = (const unsigned char *)&tg[2];
    for (size_t i = 0; i < sizeof tg[2]; i++)
        assert_int_equal(t2[i], 0xcd);
    r.cap_targets = 3;
    assert_int_equal(slate_legacy_rules_decode(&r, body, sizeof body - 1, NULL, &err), SLATE_OK);
    assert_str(rs[0].targets[1].region, "t");
    assert_ptr_equal(rs[1].targets, tg + 2);
}

static void test_rules_encode_and_normalize(void **state)
{
    (void)state;
    slate_route_target_t tg[5] = {{{"us-west-1", 9}, 1},
                                  {{"us-east-1", 9}, 1},
                                  {{"eu-west-1", 9}, 1},
                                  {{"us-west-1", 9}, 0},
                                  {{"us-east-1", 9}, 0}};
    slate_rule_t rule[2];
    memset(rule, 0, sizeof rule);
    rule[0].src_region = slate_str("us-west-1");
    rule[0].dst_service = slate_str("cart");
    rule[0].method = slate_str("POST");
    rule[0].path = slate_str("/add");
    rule[0].targets = tg;
    rule[0].n_targets = 3;
    rule[1] = rule[0];
    rule[1].src_service = slate_str("frontend");
    rule[1].targets = tg + 3;
    rule[1].n_targets = 2;
    slate_routing_rules_t r;
    memset(&r, 0, sizeof r);
    r.rules = rule;
    r.n_rules = 2;
    r.targets = tg;
    r.n_targets = 5;
    assert_int_equal(slate_legacy_rules_normalize(&r), SLATE_OK);
    assert_int_equal(tg[0].weight, 333333);
    assert_int_equal(tg[1].weight, 333334);
    assert_int_equal(tg[2].weight, 333333);
    assert_int_equal(tg[3].weight, 0); /* all-zero rule untouched */
    /* weights that already sum to the scale are unchanged */
    assert_int_equal(slate_legacy_rules_normalize(&r), SLATE_OK);
    assert_int_equal(tg[1].weight, 333334);
    static const char want[] = "@@,cart@POST@/add,us-west-1,us-west-1,0.333333\n"
                               "@@,cart@POST@/add,us-west-1,us-east-1,0.333334\n"
                               "@@,cart@POST@/add,us-west-1,eu-west-1,0.333333\n"
                               "frontend@@,cart@POST@/add,us-west-1,us-west-1,0.0\n"
                               "frontend@@,cart@POST@/add,us-west-1,us-east-1,0.0\n";
    char out[1024];
    size_t len;
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    for (size_t cap = 0; cap < len; cap++) {
        char buf[1024];
        memset(buf, 0x5a, sizeof buf);
        size_t need;
        assert_int_equal(slate_legacy_rules_encode(&r, buf, cap, &need, NULL), SLATE_ENOSPC);
        assert_int_equal(need, len);
        for (size_t i = cap; i < sizeof buf; i++)
            assert_int_equal((unsigned char)buf[i], 0x5a);
    }
    {
        char buf[1024];
        memset(buf, 0x5a, sizeof buf);
        size_t got = 0;
        assert_int_equal(slate_legacy_rules_encode(&r, buf, len, &got, NULL), SLATE_OK);
        assert_int_equal(got, len);
        assert_memory_equal(buf, want, len);
        assert_int_equal((unsigned char)buf[len], 0x5a);
    }
    /* large relative weights: exact shares */
    slate_route_target_t big[3] = {{{"a", 1}, UINT32_MAX}, {{"b", 1}, UINT32_MAX}, {{"c", 1}, 1}};
    slate_rule_t br = rule[0];
    br.targets = big;
    br.n_targets = 3;
    slate_routing_rules_t bigr;
    memset(&bigr, 0, sizeof bigr);
    bigr.rules = &br;
    bigr.n_rules = 1;
    assert_int_equal(slate_legacy_rules_normalize(&bigr), SLATE_OK);
    assert_int_equal(big[0].weight, 500000);
    assert_int_equal(big[1].weight, 500000);
    assert_int_equal(big[2].weight, 0);
    /* what SLATE's text cannot carry */
    slate_codec_error_t err;
    tg[1].weight = SLATE_LEGACY_WEIGHT_SCALE + 1;
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    assert_string_equal(err.path, "rules[0].targets[1].weight");
    tg[1].weight = 1;
    rule[0].method = slate_str("");
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    assert_string_equal(err.path, "rules[0].method");
    rule[0].method = slate_str("PO@ST");
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    rule[0].method = slate_str("POST");
    tg[2].region = slate_str("eu,west");
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    assert_string_equal(err.path, "rules[0].targets[2].region");
    tg[2].region = slate_str("eu west");
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, &err), SLATE_EVALUE);
    tg[2].region = slate_str("eu-west-1");
    rule[1].src_path = slate_str("/\xff");
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, &err), SLATE_EUTF8);
    assert_string_equal(err.path, "rules[1].src_path");
    rule[1].src_path = slate_str("");
    rule[1].targets = NULL;
    assert_int_equal(slate_legacy_rules_encode(&r, out, sizeof out, &len, &err), SLATE_EINVAL);
    assert_int_equal(slate_legacy_rules_normalize(NULL), SLATE_EINVAL);
}

/* ========================================================================= */
/* Through the binary codec: SLATE's text -> structs -> protobuf -> structs -> SLATE's text */

static void test_legacy_through_binary_codec(void **state)
{
    (void)state;
    slate_load_report_t a, b;
    rep_setup(&a, 0);
    uint64_t total;
    assert_int_equal(slate_legacy_proxyload_decode(&a, &total, PROXYLOAD_BODY,
                                                   sizeof PROXYLOAD_BODY - 1, NULL, NULL),
                     SLATE_OK);
    a.pod = slate_str("frontend-7d9c-xk2p4");
    static uint8_t wire[8192];
    size_t wlen;
    slate_codec_error_t err;
    slate_status st = slate_load_report_encode(&a, wire, sizeof wire, &wlen, &err);
    if (st != SLATE_OK)
        fail_msg("binary encode: %s %s %s", slate_status_name(st), err.path, err.detail);
    rep_setup(&b, 1);
    st = slate_load_report_decode(&b, wire, wlen, NULL, &err);
    if (st != SLATE_OK)
        fail_msg("binary decode: %s %s %s", slate_status_name(st), err.path, err.detail);
    assert_true(lr_report_eq(&a, &b));
    char out[4096];
    size_t len;
    encode_text(&b, &total, out, sizeof out, &len);
    assert_int_equal(len, sizeof PROXYLOAD_BODY - 1);
    assert_memory_equal(out, PROXYLOAD_BODY, len);

    rep_setup(&a, 0);
    assert_int_equal(
        slate_legacy_latency_decode(&a, LATENCY_BODY, sizeof LATENCY_BODY - 1, NULL, NULL),
        SLATE_OK);
    assert_int_equal(slate_load_report_encode(&a, wire, sizeof wire, &wlen, NULL), SLATE_OK);
    rep_setup(&b, 1);
    assert_int_equal(slate_load_report_decode(&b, wire, wlen, NULL, NULL), SLATE_OK);
    assert_true(lr_report_eq(&a, &b));
    assert_int_equal(slate_legacy_latency_encode(&b, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof LATENCY_BODY - 1);
    assert_memory_equal(out, LATENCY_BODY, len);

    slate_routing_rules_t ra, rb;
    rules_setup(&ra, 0);
    assert_int_equal(
        slate_legacy_rules_decode(&ra, RULES_DEFAULT, sizeof RULES_DEFAULT - 1, NULL, NULL),
        SLATE_OK);
    assert_int_equal(slate_routing_rules_encode(&ra, wire, sizeof wire, &wlen, NULL), SLATE_OK);
    rules_setup(&rb, 1);
    assert_int_equal(slate_routing_rules_decode(&rb, wire, wlen, NULL, NULL), SLATE_OK);
    assert_true(lr_rules_eq(&ra, &rb));
    assert_int_equal(slate_legacy_rules_encode(&rb, out, sizeof out, &len, NULL), SLATE_OK);
    assert_int_equal(len, sizeof RULES_DEFAULT - 1);
    assert_memory_equal(out, RULES_DEFAULT, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_num_u64),
        cmocka_unit_test(test_num_decimal_exact),
        cmocka_unit_test(test_num_decimal_random),
        cmocka_unit_test(test_num_double_conversions),
        cmocka_unit_test(test_num_format),
        cmocka_unit_test(test_num_locale_independent),
        cmocka_unit_test(test_proxyload_decode_values),
        cmocka_unit_test(test_proxyload_roundtrip_exact),
        cmocka_unit_test(test_proxyload_quirk_variants),
        cmocka_unit_test(test_proxyload_real_slate_traces),
        cmocka_unit_test(test_proxyload_malformed),
        cmocka_unit_test(test_proxyload_limits),
        cmocka_unit_test(test_proxyload_arrays),
        cmocka_unit_test(test_proxyload_encode_from_struct),
        cmocka_unit_test(test_proxyload_huge_counts),
        cmocka_unit_test(test_latency_decode_values),
        cmocka_unit_test(test_latency_shapes),
        cmocka_unit_test(test_latency_encode_from_stats),
        cmocka_unit_test(test_latency_malformed),
        cmocka_unit_test(test_rules_decode_values),
        cmocka_unit_test(test_rules_fractions_and_grouping),
        cmocka_unit_test(test_rules_malformed),
        cmocka_unit_test(test_rules_arrays),
        cmocka_unit_test(test_rules_encode_and_normalize),
        cmocka_unit_test(test_legacy_through_binary_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
