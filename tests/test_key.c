/*
 * Tests of endpoint keys, path normalisation, trace sampling and trace context header parsing.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS for the guard-page test */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "slate/slate.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define S(x) x, (sizeof x - 1)

static uint64_t key_of(const char *svc, size_t sl, const char *m, size_t ml, const char *p,
                       size_t pl, unsigned *flags)
{
    uint64_t k = 0;
    assert_int_equal(slate_endpoint_key(svc, sl, m, ml, p, pl, &k, flags), SLATE_OK);
    return k;
}

static void test_path_len(void **state)
{
    (void)state;
    assert_int_equal(slate_path_len(S("/a/b")), 4);
    assert_int_equal(slate_path_len(S("/a?b=1")), 2);
    assert_int_equal(slate_path_len(S("/a#frag?x")), 2);
    assert_int_equal(slate_path_len(S("/a?x#frag")), 2);
    assert_int_equal(slate_path_len(S("?x")), 0);
    assert_int_equal(slate_path_len(S("")), 0);
    assert_int_equal(slate_path_len(NULL, 0), 0);
    assert_int_equal(slate_path_len(NULL, 5), 0);
    /* Idempotent, and it stops at the length given (no NUL needed). */
    const char p[] = "/x/y?z";
    size_t n = slate_path_len(p, 6);
    assert_int_equal(slate_path_len(p, n), n);
    assert_int_equal(slate_path_len(p, 3), 3);
}

/*
 * Known keys. Each value is XXH3_64bits of the canonical byte string written
 * out by hand below and hashed independently with the xxHash 0.8.1 command
 * line tool (`xxhsum -H3 file`), e.g.
 *   printf '\x07\x00reviews\x03\x00GET\x0f\x00/api/v1/reviews' > k && xxhsum -H3 k
 */
static void test_known_keys(void **state)
{
    (void)state;
    unsigned flags = 99;
    assert_true(key_of(S("reviews"), S("GET"), S("/api/v1/reviews"), &flags) ==
                0x6fd9608a2e90785bu);
    assert_int_equal(flags, 0);
    /* Six zero bytes: three empty fields. */
    assert_true(key_of(NULL, 0, NULL, 0, NULL, 0, NULL) == 0x06df73813892fde7u);
    /* "reviews", "POST", then 256 'a' (length 0x0100): a 300-byte path is cut there. */
    char a[300];
    memset(a, 'a', sizeof a);
    assert_true(key_of(S("reviews"), S("POST"), a, 300, &flags) == 0xe9746cdf59c6ad89u);
    assert_int_equal(flags, SLATE_KEY_PATH_TRUNCATED);
    /* The documented canonical form, recomputed here with the library's XXH3. */
    const unsigned char canon[] = "\x07\x00reviews\x03\x00GET\x0f\x00/api/v1/reviews";
    assert_true(XXH3_64bits(canon, sizeof canon - 1) == 0x6fd9608a2e90785bu);
}

static void test_query_fragment_and_case(void **state)
{
    (void)state;
    uint64_t base = key_of(S("reviews"), S("GET"), S("/api/v1/reviews"), NULL);
    assert_true(key_of(S("reviews"), S("GET"), S("/api/v1/reviews?id=7&x=y"), NULL) == base);
    assert_true(key_of(S("reviews"), S("GET"), S("/api/v1/reviews#top"), NULL) == base);
    assert_true(key_of(S("reviews"), S("GET"), S("/api/v1/reviews?"), NULL) == base);
    /* The service name is case-insensitive; method and path are not. */
    assert_true(key_of(S("Reviews"), S("GET"), S("/api/v1/reviews"), NULL) == base);
    assert_true(key_of(S("REVIEWS"), S("GET"), S("/api/v1/reviews?q"), NULL) == base);
    assert_true(key_of(S("reviews"), S("get"), S("/api/v1/reviews"), NULL) != base);
    assert_true(key_of(S("reviews"), S("GET"), S("/API/v1/reviews"), NULL) != base);
    /* Nothing else is normalised. */
    assert_true(key_of(S("reviews"), S("GET"), S("/api/v1/reviews/"), NULL) != base);
    assert_true(key_of(S("reviews"), S("GET"), S("/api/v1/%72eviews"), NULL) != base);
    assert_true(key_of(S("ratings"), S("GET"), S("/api/v1/reviews"), NULL) != base);
}

static void test_fields_are_unambiguous(void **state)
{
    (void)state;
    uint64_t k1 = key_of(S("ab"), S("c"), S("/"), NULL);
    uint64_t k2 = key_of(S("a"), S("bc"), S("/"), NULL);
    uint64_t k3 = key_of(S("a"), S("b"), S("c/"), NULL);
    uint64_t k4 = key_of(S(""), S("ab"), S("c/"), NULL);
    uint64_t k5 = key_of(S("abc/"), S(""), S(""), NULL);
    assert_true(k1 != k2 && k1 != k3 && k1 != k4 && k1 != k5);
    assert_true(k2 != k3 && k2 != k4 && k2 != k5 && k3 != k4 && k3 != k5 && k4 != k5);
}

static void test_truncation_rule(void **state)
{
    (void)state;
    char p[600], q[600];
    memset(p, 'x', sizeof p);
    p[0] = '/';
    memcpy(q, p, sizeof q);
    unsigned f1, f2;
    /* Exactly SLATE_KEY_MAX_PATH bytes: not cut. */
    uint64_t exact = key_of(S("s"), S("GET"), p, SLATE_KEY_MAX_PATH, &f1);
    assert_int_equal(f1, 0);
    /* Longer: cut, reported, and equal to the exact-length key. */
    assert_true(key_of(S("s"), S("GET"), p, SLATE_KEY_MAX_PATH + 1, &f1) == exact);
    assert_int_equal(f1, SLATE_KEY_PATH_TRUNCATED);
    /* Two paths equal in their first MAX_PATH bytes share a key. */
    q[SLATE_KEY_MAX_PATH] = 'Y';
    q[500] = 'Z';
    assert_true(key_of(S("s"), S("GET"), q, 600, &f2) == exact);
    assert_int_equal(f2, SLATE_KEY_PATH_TRUNCATED);
    /* ... but not if they differ inside them. */
    q[SLATE_KEY_MAX_PATH - 1] = 'W';
    assert_true(key_of(S("s"), S("GET"), q, 600, &f2) != exact);
    /* The query is removed before the bound: '?' right at the bound is no cut. */
    memcpy(q, p, sizeof q);
    q[SLATE_KEY_MAX_PATH] = '?';
    assert_true(key_of(S("s"), S("GET"), q, 600, &f2) == exact);
    assert_int_equal(f2, 0);
    /* '?' one byte later: the stripped path is MAX_PATH + 1 long, so cut. */
    memcpy(q, p, sizeof q);
    q[SLATE_KEY_MAX_PATH + 1] = '?';
    assert_true(key_of(S("s"), S("GET"), q, 600, &f2) == exact);
    assert_int_equal(f2, SLATE_KEY_PATH_TRUNCATED);
    /* A short path with a long query: not cut. */
    memcpy(q, p, sizeof q);
    q[10] = '?';
    assert_true(key_of(S("s"), S("GET"), q, 600, &f2) == key_of(S("s"), S("GET"), p, 10, NULL));
    assert_int_equal(f2, 0);
}

/* The path is read no further than byte MAX_PATH, whatever length is claimed:
 * the bytes sit right before an inaccessible page. */
static void test_path_read_bound(void **state)
{
    (void)state;
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *m =
        mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    char *p = (char *)m + pg - (SLATE_KEY_MAX_PATH + 1);
    memset(p, 'z', SLATE_KEY_MAX_PATH + 1);
    unsigned f;
    uint64_t k = key_of(S("s"), S("GET"), p, (size_t)1 << 40, &f);
    assert_int_equal(f, SLATE_KEY_PATH_TRUNCATED);
    assert_true(k == key_of(S("s"), S("GET"), p, SLATE_KEY_MAX_PATH, NULL));
    munmap(m, (size_t)pg * 2);
}

static void test_key_errors(void **state)
{
    (void)state;
    uint64_t k = 12345;
    char longname[300];
    memset(longname, 's', sizeof longname);
    assert_int_equal(slate_endpoint_key(S("s"), S("GET"), S("/"), NULL, NULL), SLATE_EINVAL);
    assert_int_equal(slate_endpoint_key(NULL, 1, S("GET"), S("/"), &k, NULL), SLATE_EINVAL);
    assert_int_equal(slate_endpoint_key(S("s"), NULL, 3, S("/"), &k, NULL), SLATE_EINVAL);
    assert_int_equal(slate_endpoint_key(S("s"), S("GET"), NULL, 1, &k, NULL), SLATE_EINVAL);
    assert_int_equal(
        slate_endpoint_key(longname, SLATE_KEY_MAX_NAME + 1, S("GET"), S("/"), &k, NULL),
        SLATE_ERANGE);
    assert_int_equal(slate_endpoint_key(S("s"), longname, SLATE_KEY_MAX_NAME + 1, S("/"), &k, NULL),
                     SLATE_ERANGE);
    assert_true(k == 12345);
    assert_int_equal(slate_endpoint_key(longname, SLATE_KEY_MAX_NAME, longname, SLATE_KEY_MAX_NAME,
                                        longname, sizeof longname, &k, NULL),
                     SLATE_OK);
}

/* ---- trace ids ---- */

static slate_trace_id_t parse_ok(const char *hex, size_t len)
{
    slate_trace_id_t id = {0, 0};
    assert_int_equal(slate_trace_id_parse(hex, len, &id), SLATE_OK);
    return id;
}

/* slate_path_len() at every length up to 40 with '?' or '#' (or a near miss)
 * at every position, against a bytewise scan. */
static void test_path_len_model(void **state)
{
    (void)state;
    const unsigned char probes[] = {'?', '#', '/', 'a', 0x3e, 0x22, 0x24, 0x40, 0xbf, 0xa3, 0};
    char buf[40];
    for (size_t n = 0; n <= sizeof buf; n++) {
        for (size_t pos = 0; pos < n; pos++) {
            for (size_t k = 0; k < sizeof probes; k++) {
                for (size_t i = 0; i < n; i++)
                    buf[i] = (char)('a' + i % 26);
                buf[pos] = (char)probes[k];
                if (pos + 3 < n)
                    buf[pos + 3] = '#';
                size_t want = n;
                for (size_t i = 0; i < n; i++) {
                    if (buf[i] == '?' || buf[i] == '#') {
                        want = i;
                        break;
                    }
                }
                assert_int_equal(slate_path_len(buf, n), want);
            }
        }
    }
}

static void test_trace_id_parse(void **state)
{
    (void)state;
    slate_trace_id_t id = parse_ok(S("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_true(id.hi == 0x4bf92f3577b34da6u && id.lo == 0xa3ce929d0e0e4736u);
    id = parse_ok(S("4BF92F3577B34DA6a3ce929d0e0e4736"));
    assert_true(id.hi == 0x4bf92f3577b34da6u && id.lo == 0xa3ce929d0e0e4736u);
    id = parse_ok(S("a3ce929d0e0e4736"));
    assert_true(id.hi == 0 && id.lo == 0xa3ce929d0e0e4736u);
    id = parse_ok(S("0000000000000000a3ce929d0e0e4736"));
    assert_true(id.hi == 0 && id.lo == 0xa3ce929d0e0e4736u);
    id = parse_ok(S("1"));
    assert_true(id.hi == 0 && id.lo == 1);
    id = parse_ok(S("ffffffffffffffffffffffffffffffff"));
    assert_true(id.hi == UINT64_MAX && id.lo == UINT64_MAX);

    slate_trace_id_t keep = {7, 7};
    const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {S("")},
        {S("0")},
        {S("00000000000000000000000000000000")},
        {S("4bf92f3577b34da6a3ce929d0e0e47360")}, /* 33 digits */
        {S("4bf92f3577b34dag")},
        {S("4bf92f35-7b34da6")},
        {S(" 4bf92f3577b34da6")},
        {"ab\0c", 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(slate_trace_id_parse(bad[i].s, bad[i].n, &keep), SLATE_ETRACEID);
        assert_true(keep.hi == 7 && keep.lo == 7);
    }
    assert_int_equal(slate_trace_id_parse(NULL, 3, &keep), SLATE_EINVAL);
    assert_int_equal(slate_trace_id_parse(S("ab"), NULL), SLATE_EINVAL);
    assert_int_equal(slate_trace_id_parse(NULL, 0, &keep), SLATE_ETRACEID);
}

/* Reference model of slate_trace_id_parse: one 128-bit shift per digit. */
static int ref_trace_id(const unsigned char *s, size_t n, uint64_t *hi, uint64_t *lo)
{
    if (n == 0 || n > 32)
        return 0;
    *hi = *lo = 0;
    for (size_t i = 0; i < n; i++) {
        const char *digits = "0123456789abcdef0123456789ABCDEF";
        const char *d = s[i] ? strchr(digits, s[i]) : NULL;
        if (!d)
            return 0;
        *hi = (*hi << 4) | (*lo >> 60);
        *lo = (*lo << 4) | (uint64_t)((d - digits) & 15);
    }
    return (*hi | *lo) != 0;
}

/* Every length (the digits split between hi and lo at any place) and every
 * byte value at every position, against the reference model. */
static void test_trace_id_parse_model(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    const char *digits = "0123456789abcdefABCDEF";
    for (size_t n = 1; n <= 33; n++) {
        for (int rep = 0; rep < 20; rep++) {
            unsigned char buf[33];
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                buf[i] = (unsigned char)digits[x % 22];
            }
            for (size_t pos = 0; pos < n; pos++) {
                for (unsigned c = 0; c < 256; c += (rep == 0 ? 1 : 37)) {
                    unsigned char t[33];
                    memcpy(t, buf, n);
                    t[pos] = (unsigned char)c;
                    uint64_t hi, lo;
                    slate_trace_id_t id = {7, 7};
                    int ok = ref_trace_id(t, n, &hi, &lo);
                    slate_status st = slate_trace_id_parse((const char *)t, n, &id);
                    assert_int_equal(st, ok ? SLATE_OK : SLATE_ETRACEID);
                    if (ok)
                        assert_true(id.hi == hi && id.lo == lo);
                    else
                        assert_true(id.hi == 7 && id.lo == 7);
                }
            }
        }
    }
}

/* Known hashes: XXH3 of the 16 big-endian bytes, computed with `xxhsum -H3`
 * over files holding those bytes. */
static void test_trace_hash_known(void **state)
{
    (void)state;
    slate_trace_id_t one = parse_ok(S("1"));
    assert_true(slate_trace_hash(&one) == 0x4152418f75dd93bbu);
    slate_trace_id_t b3 = parse_ok(S("4bf92f3577b34da6"));
    assert_true(slate_trace_hash(&b3) == 0x5207c3abbfa3e2e0u);
    slate_trace_id_t w3c = parse_ok(S("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_true(slate_trace_hash(&w3c) == 0x0735538b0a4f043au);
}

static void hexid(uint64_t hi, uint64_t lo, int upper, char out[32])
{
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[i] = d[(hi >> (60 - 4 * i)) & 15];
        out[16 + i] = d[(lo >> (60 - 4 * i)) & 15];
    }
}

static void test_sampling_rate_accuracy(void **state)
{
    (void)state;
    const double rates[] = {0.0, 0.01, 0.1, 0.5, 1.0};
    const int n = 100000;
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        double rate = rates[r];
        slate_rng_t rng;
        slate_rng_seed(&rng, 1000 + r);
        int hits = 0;
        for (int i = 0; i < n; i++) {
            char id[32];
            uint64_t hi = slate_rng_next(&rng), lo = slate_rng_next(&rng);
            hexid(hi, lo, 0, id);
            int s = -1;
            assert_int_equal(slate_trace_decide(id, 32, rate, &s), SLATE_OK);
            assert_true(s == 0 || s == 1);
            hits += s;
            /* Independent recomputation of the documented rule. */
            unsigned char be[16];
            for (int b = 0; b < 8; b++) {
                be[b] = (unsigned char)(hi >> (56 - 8 * b));
                be[8 + b] = (unsigned char)(lo >> (56 - 8 * b));
            }
            uint64_t h = XXH3_64bits(be, 16);
            int want = rate >= 1.0 ? 1 : h < (uint64_t)(rate * 18446744073709551616.0);
            assert_int_equal(s, want);
            /* Upper case decides alike. */
            hexid(hi, lo, 1, id);
            assert_int_equal(slate_trace_sampled(id, 32, rate), s);
        }
        double mean = rate * n, sd = sqrt(n * rate * (1.0 - rate));
        print_message("rate %.2f: %d of %d sampled (expected %.0f +- %.1f)\n", rate, hits, n, mean,
                      sd);
        if (rate == 0.0)
            assert_int_equal(hits, 0);
        else if (rate == 1.0)
            assert_int_equal(hits, n);
        else
            assert_true(fabs(hits - mean) < 5.0 * sd);
    }
}

static void test_padding_case_and_monotonic(void **state)
{
    (void)state;
    slate_rng_t rng;
    slate_rng_seed(&rng, 77);
    for (int i = 0; i < 20000; i++) {
        uint64_t lo = slate_rng_next(&rng);
        char full[32];
        hexid(0, lo, 0, full);
        char upper[32];
        hexid(0, lo, 1, upper);
        /* Strip the leading zeros of the 64-bit form too (as Jaeger does). */
        size_t z = 16;
        while (z < 31 && full[z] == '0')
            z++;
        double rate = (double)(i % 100) / 100.0;
        int a = slate_trace_sampled(full, 32, rate);      /* 128-bit, zero padded */
        int b = slate_trace_sampled(full + 16, 16, rate); /* 64-bit B3 */
        int c = slate_trace_sampled(upper + 16, 16, rate);
        int d = slate_trace_sampled(full + z, 32 - z, rate);
        assert_int_equal(a, b);
        assert_int_equal(a, c);
        assert_int_equal(a, d);
        /* Sampled at a rate means sampled at every higher rate. */
        if (a)
            for (double hr = rate; hr <= 1.0; hr += 0.07)
                assert_int_equal(slate_trace_sampled(full, 32, hr), 1);
    }
}

/* slate_trace_sampled() answers 1 exactly when slate_trace_decide() says
 * SLATE_OK and sampled, for ids of every length around B3's and W3C's, in
 * either case, and with bytes that are not hex digits (including ones whose
 * low bits look like digits: 'g', 'G', ':', '`', '@', '/', 0xb1): its
 * shortcut for unsampled ids must not change an answer. */
static void test_sampled_matches_decide(void **state)
{
    (void)state;
    static const char good[] = "0123456789abcdefABCDEF";
    static const char bad[] = "gG:`@/ x\xb1";
    const double rates[] = {0.0, 0.001, 0.01, 0.5, 0.99, 0.999999, 1.0};
    slate_rng_t rng;
    slate_rng_seed(&rng, 4242);
    int sampled = 0, rejected_bad = 0;
    for (int i = 0; i < 200000; i++) {
        char id[33];
        uint64_t r = slate_rng_next(&rng);
        size_t len = (r & 3) == 0 ? 15 + (size_t)((r >> 2) % 19) : ((r & 3) == 1 ? 16 : 32);
        for (size_t k = 0; k < len; k++)
            id[k] = good[slate_rng_next(&rng) % (sizeof good - 1)];
        if ((r >> 8) % 4 == 0) /* one byte that is not a hex digit */
            id[(r >> 16) % len] = bad[(r >> 24) % (sizeof bad - 1)];
        if ((r >> 32) % 64 == 0) /* all zeros: not a valid id */
            memset(id, '0', len);
        double rate = rates[(r >> 40) % (sizeof rates / sizeof rates[0])];
        int s = 0;
        int want = slate_trace_decide(id, len, rate, &s) == SLATE_OK && s;
        int got = slate_trace_sampled(id, len, rate);
        assert_int_equal(got, want);
        sampled += got;
        rejected_bad += !got && rate >= 0.99 && (r >> 8) % 4 == 0;
    }
    /* Both branches ran: sampled ids, and invalid ids refused at high rates
     * (where their unchecked hash is mostly under the threshold). */
    assert_true(sampled > 1000);
    assert_true(rejected_bad > 1000);
}

static void test_sampling_bad_inputs(void **state)
{
    (void)state;
    int s = 42;
    assert_int_equal(slate_trace_decide(S("abc"), NAN, &s), SLATE_ERANGE);
    assert_int_equal(slate_trace_decide(S("abc"), -0.01, &s), SLATE_ERANGE);
    assert_int_equal(slate_trace_decide(S("abc"), 1.01, &s), SLATE_ERANGE);
    assert_int_equal(slate_trace_decide(S("abc"), INFINITY, &s), SLATE_ERANGE);
    assert_int_equal(slate_trace_decide(S("xyz"), 2.0, &s), SLATE_ERANGE); /* rate first */
    assert_int_equal(slate_trace_decide(S("xyz"), 0.5, &s), SLATE_ETRACEID);
    assert_int_equal(slate_trace_decide(S(""), 0.5, &s), SLATE_ETRACEID);
    assert_int_equal(slate_trace_decide(S("000"), 1.0, &s), SLATE_ETRACEID);
    assert_int_equal(slate_trace_decide(S("123456789012345678901234567890123"), 1.0, &s),
                     SLATE_ETRACEID);
    assert_int_equal(slate_trace_decide(NULL, 2, 0.5, &s), SLATE_EINVAL);
    assert_int_equal(slate_trace_decide(S("abc"), 0.5, NULL), SLATE_EINVAL);
    assert_int_equal(s, 42);
    assert_int_equal(slate_trace_sampled(S("xyz"), 1.0), 0);
    assert_int_equal(slate_trace_sampled(S("abc"), NAN), 0);
    assert_int_equal(slate_trace_sampled(S("abc"), 1.0), 1);
    assert_int_equal(slate_trace_sampled(S("abc"), 0.0), 0);
    assert_int_equal(slate_trace_sampled(S("abc"), -0.0), 0);
}

/* ---- headers ---- */

static int inside(const char *v, size_t vl, const char *s, size_t sl)
{
    return v >= s && v + vl <= s + sl;
}

static void test_traceparent_child(void **state)
{
    (void)state;
    slate_trace_ctx_t c, d;
    const char h[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_int_equal(slate_traceparent_parse(h, sizeof h - 1, &c), SLATE_OK);
    char out[SLATE_TRACEPARENT_LEN + 1];
    memset(out, 'x', sizeof out);
    assert_int_equal(slate_traceparent_child(&c, 0x0123456789abcdefull, out, sizeof out), SLATE_OK);
    assert_int_equal(out[SLATE_TRACEPARENT_LEN], 'x'); /* no NUL, nothing past the value */
    assert_memory_equal(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-0123456789abcdef-01",
                        SLATE_TRACEPARENT_LEN);
    /* The callee's proxy parses it back: the same trace, this hop as parent. */
    assert_int_equal(slate_traceparent_parse(out, SLATE_TRACEPARENT_LEN, &d), SLATE_OK);
    assert_memory_equal(d.trace_id, c.trace_id, 32);
    assert_memory_equal(d.span_id, "0123456789abcdef", 16);
    assert_int_equal(d.flags, 1);
    /* Flags are kept whole (a later version's context writes as version 00). */
    const char v1[] = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-a2-more";
    assert_int_equal(slate_traceparent_parse(v1, sizeof v1 - 1, &c), SLATE_OK);
    assert_int_equal(slate_traceparent_child(&c, 1, out, sizeof out), SLATE_OK);
    assert_memory_equal(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-a2",
                        SLATE_TRACEPARENT_LEN);
    memset(out, 'x', sizeof out);
    assert_int_equal(slate_traceparent_child(&c, 0, out, sizeof out), SLATE_ETRACEID);
    assert_int_equal(slate_traceparent_child(&c, 1, out, SLATE_TRACEPARENT_LEN - 1), SLATE_EINVAL);
    assert_int_equal(slate_traceparent_child(NULL, 1, out, sizeof out), SLATE_EINVAL);
    assert_int_equal(slate_traceparent_child(&c, 1, NULL, sizeof out), SLATE_EINVAL);
    assert_int_equal(out[0], 'x'); /* nothing written on error */
    /* A B3 context with a 16-digit trace id is not a W3C one. */
    assert_int_equal(slate_b3_parse(S("4bf92f3577b34da6-00f067aa0ba902b7-1"), &c), SLATE_OK);
    assert_int_equal(slate_traceparent_child(&c, 1, out, sizeof out), SLATE_EINVAL);
}

static void test_traceparent(void **state)
{
    (void)state;
    slate_trace_ctx_t c;
    const char h[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_int_equal(slate_traceparent_parse(h, sizeof h - 1, &c), SLATE_OK);
    assert_true(c.trace_id == h + 3 && c.trace_id_len == 32);
    assert_true(c.span_id == h + 36 && c.span_id_len == 16);
    assert_null(c.parent_span_id);
    assert_int_equal(c.sampled, 1);
    assert_int_equal(c.flags, 1);
    assert_int_equal(c.version, 0);
    /* The trace id view feeds the sampler directly. */
    assert_int_equal(slate_trace_sampled(c.trace_id, c.trace_id_len, 1.0), 1);

    assert_int_equal(
        slate_traceparent_parse(S("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"), &c),
        SLATE_OK);
    assert_int_equal(c.sampled, 0);
    const char ws[] = " \t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03 ";
    assert_int_equal(slate_traceparent_parse(ws, sizeof ws - 1, &c), SLATE_OK);
    assert_true(c.trace_id == ws + 5 && c.flags == 3 && c.sampled == 1);
    /* A later version may append fields after a '-'. */
    const char v1[] = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever";
    assert_int_equal(slate_traceparent_parse(v1, sizeof v1 - 1, &c), SLATE_OK);
    assert_int_equal(c.version, 1);
    assert_true(inside(c.trace_id, c.trace_id_len, v1, sizeof v1 - 1));

    const char *bad[] = {
        "",
        "00",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&c, 0x5a, sizeof c);
        assert_int_equal(slate_traceparent_parse(bad[i], strlen(bad[i]), &c), SLATE_EINVAL);
        assert_null(c.trace_id);
        assert_int_equal(c.trace_id_len, 0);
    }
    assert_int_equal(
        slate_traceparent_parse(S("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), &c),
        SLATE_ETRACEID);
    assert_int_equal(
        slate_traceparent_parse(S("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), &c),
        SLATE_ETRACEID);
    assert_int_equal(slate_traceparent_parse(NULL, 55, &c), SLATE_EINVAL);
    assert_int_equal(slate_traceparent_parse(S("00"), NULL), SLATE_EINVAL);
}

static void test_b3(void **state)
{
    (void)state;
    slate_trace_ctx_t c;
    const char full[] = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90";
    assert_int_equal(slate_b3_parse(full, sizeof full - 1, &c), SLATE_OK);
    assert_true(c.trace_id == full && c.trace_id_len == 32);
    assert_true(c.span_id == full + 33 && c.span_id_len == 16);
    assert_true(c.parent_span_id == full + 52 && c.parent_span_id_len == 16);
    assert_int_equal(c.sampled, 1);
    assert_int_equal(c.debug, 0);

    const char short_id[] = "a3ce929d0e0e4736-e457b5a2e4d86bd1";
    assert_int_equal(slate_b3_parse(short_id, sizeof short_id - 1, &c), SLATE_OK);
    assert_true(c.trace_id == short_id && c.trace_id_len == 16);
    assert_int_equal(c.sampled, -1);
    assert_null(c.parent_span_id);
    /* The 64-bit id decides like its zero-padded 128-bit form in traceparent. */
    assert_int_equal(slate_trace_sampled(c.trace_id, c.trace_id_len, 0.5),
                     slate_trace_sampled(S("0000000000000000a3ce929d0e0e4736"), 0.5));

    assert_int_equal(slate_b3_parse(S("a3ce929d0e0e4736-e457b5a2e4d86bd1-d"), &c), SLATE_OK);
    assert_int_equal(c.sampled, 1);
    assert_int_equal(c.debug, 1);
    assert_int_equal(slate_b3_parse(S("a3ce929d0e0e4736-e457b5a2e4d86bd1-0"), &c), SLATE_OK);
    assert_int_equal(c.sampled, 0);
    /* The decision alone. */
    assert_int_equal(slate_b3_parse(S("0"), &c), SLATE_OK);
    assert_true(c.sampled == 0 && c.trace_id == NULL && c.trace_id_len == 0);
    assert_int_equal(slate_b3_parse(S(" 1 "), &c), SLATE_OK);
    assert_true(c.sampled == 1 && c.trace_id_len == 0);
    assert_int_equal(slate_b3_parse(S("d"), &c), SLATE_OK);
    assert_true(c.sampled == 1 && c.debug == 1);

    const char *bad[] = {
        "",
        "2",
        "true",
        "a3ce929d0e0e4736",
        "a3ce929d0e0e4736-",
        "a3ce929d0e0e4736-e457b5a2e4d86bd",
        "a3ce929d0e0e473-6e457b5a2e4d86bd1",
        "a3ce929d0e0e4736-e457b5a2e4d86bd1-",
        "a3ce929d0e0e4736-e457b5a2e4d86bd1-2",
        "a3ce929d0e0e4736-e457b5a2e4d86bd1-11",
        "a3ce929d0e0e4736-e457b5a2e4d86bd1-1-",
        "a3ce929d0e0e4736-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b9",
        "a3ce929d0e0e4736-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b900",
        "a3ce929d0e0e4736-e457b5a2e4d86bd1x1",
        "A3CE929D0E0E4736-e457b5a2e4d86bd1",
        "a3ce929d0e0e4736-E457B5A2E4D86BD1",
        "a3ce929d0e0e4736a3ce929d0e0e47-e457b5a2e4d86bd1",
        "80f198ee56343ba864fe8b2a57d3eff7a-e457b5a2e4d86bd1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&c, 0x5a, sizeof c);
        assert_int_equal(slate_b3_parse(bad[i], strlen(bad[i]), &c), SLATE_EINVAL);
        assert_null(c.trace_id);
        assert_int_equal(c.sampled, 0);
    }
    assert_int_equal(slate_b3_parse(S("0000000000000000-e457b5a2e4d86bd1"), &c), SLATE_ETRACEID);
    assert_int_equal(slate_b3_parse(S("a3ce929d0e0e4736-0000000000000000"), &c), SLATE_ETRACEID);
    assert_int_equal(slate_b3_parse(S("a3ce929d0e0e4736-e457b5a2e4d86bd1-1-0000000000000000"), &c),
                     SLATE_ETRACEID);
    assert_int_equal(slate_b3_parse(NULL, 3, &c), SLATE_EINVAL);
    assert_int_equal(slate_b3_parse(S("1"), NULL), SLATE_EINVAL);
}

/* ---- path normalisation ---- */

static size_t norm(const char *in, size_t n, char *out)
{
    size_t len = 0;
    assert_int_equal(slate_path_normalize(in, n, out, SLATE_PATH_NORM_CAP, &len), SLATE_OK);
    assert_int_equal(strlen(out), len);
    return len;
}

static void expect_norm(const char *in, const char *want)
{
    char out[SLATE_PATH_NORM_CAP], again[SLATE_PATH_NORM_CAP];
    size_t n = norm(in, strlen(in), out);
    if (strcmp(out, want) != 0)
        fail_msg("normalize(\"%s\") = \"%s\", want \"%s\"", in, out, want);
    assert_int_equal(n, strlen(want));
    norm(out, n, again); /* idempotent */
    assert_string_equal(again, out);
}

static void test_path_normalize_examples(void **state)
{
    (void)state;
    expect_norm("", "/");
    expect_norm("/", "/");
    expect_norm("cart", "/cart");
    expect_norm("/cart?user=1&x=2", "/cart");
    expect_norm("/cart#frag", "/cart");
    expect_norm("/orders/12345", "/orders/{id}");
    expect_norm("/orders/12345/items/7", "/orders/{id}/items/{id}");
    expect_norm("/u/123e4567-e89b-12d3-a456-426614174000/x", "/u/{id}/x");
    expect_norm("/u/123E4567-E89B-12D3-A456-426614174000", "/u/{id}");
    expect_norm("/trace/5d0f416cca2d80da", "/trace/{id}");
    expect_norm("/obj/507f1f77bcf86cd799439011", "/obj/{id}");
    expect_norm("/tok/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/tok/{id}");
    /* words, versions and gRPC names are kept */
    expect_norm("/hipstershop.CartService/AddItem", "/hipstershop.CartService/AddItem");
    expect_norm("/v1/report", "/v1/report");
    expect_norm("/api/v2/deadbeefcafe", "/api/v2/deadbeefcafe"); /* hex but no digit */
    expect_norm("/abc123", "/abc123");                           /* short token */
    expect_norm("/a//b/", "/a//b/");
    /* bytes that would break text formats are percent-encoded */
    expect_norm("/a b,c", "/a%20b%2Cc");
    expect_norm("/q\"\\", "/q%22%5C");
    /* beyond the old controller-only cases: the rule edges */
    expect_norm("/api/items/123", "/api/items/{id}");
    expect_norm("/x/0", "/x/{id}");
    expect_norm("/x/abcdef12345", "/x/abcdef12345");                 /* 11 hex digits */
    expect_norm("/x/abcdef123456", "/x/{id}");                       /* 12 */
    expect_norm("/x/zzzzzzzzzzzzzzzzzzz1", "/x/{id}");               /* 20-byte token */
    expect_norm("/x/zzzzzzzzzzzzzzzzzz1", "/x/zzzzzzzzzzzzzzzzzz1"); /* 19 */
    expect_norm("/x/aaaaaaaaaaaaaaaaaa1", "/x/{id}");                /* 19, but long hex */
    expect_norm("/x/zzzzzzzzzzzzzzzzzzzzzzzz", "/x/zzzzzzzzzzzzzzzzzzzzzzzz"); /* no digit */
    expect_norm("/x/12.5", "/x/12.5");                                         /* not all digits */
    expect_norm("/x/-1", "/x/-1");
    expect_norm("/x/{id}", "/x/{id}");
    expect_norm("/a%2Fb", "/a%2Fb");             /* '%' is kept, nothing is decoded */
    expect_norm("/caf\xc3\xa9", "/caf\xc3\xa9"); /* UTF-8 kept */
    expect_norm("/a\x7f\t", "/a%7F%09");
    expect_norm("?only=query", "/");
    expect_norm("/a?b#c", "/a");
    expect_norm("/a#b?c", "/a");
    /* a NUL ends the path */
    char out[SLATE_PATH_NORM_CAP];
    assert_int_equal(norm("/a\0/b", 5, out), 2);
    assert_string_equal(out, "/a");
}

static void test_path_normalize_length_bound(void **state)
{
    (void)state;
    char in[4096];
    char out[SLATE_PATH_NORM_CAP];
    /* many short segments: cut at a segment boundary, marker appended */
    size_t o = 0;
    for (int i = 0; i < 500; i++)
        o += (size_t)snprintf(in + o, sizeof(in) - o, "/seg");
    size_t n = norm(in, o, out);
    assert_true(n <= SLATE_KEY_MAX_PATH);
    assert_string_equal(out + n - 8, SLATE_PATH_TRUNC_MARK);
    assert_int_equal(n, 62 * 4 + 8); /* 62 whole "/seg" fit before the marker */
    /* one enormous segment */
    memset(in, 'a', 3000);
    in[0] = '/';
    norm(in, 3000, out);
    assert_string_equal(out, "/{trunc}");
    /* escaped bytes count toward the limit */
    memset(in, ' ', 3000);
    in[0] = '/';
    norm(in, 3000, out);
    assert_string_equal(out, "/{trunc}");
    /* segments that fit are kept before the cut */
    o = (size_t)snprintf(in, sizeof(in), "/keep/");
    memset(in + o, 'z', 400);
    norm(in, o + 400, out);
    assert_string_equal(out, "/keep/{trunc}");
    /* a path of exactly the bound is kept whole; one byte more is cut */
    in[0] = '/';
    memset(in + 1, 'w', SLATE_KEY_MAX_PATH - 1);
    assert_int_equal(norm(in, SLATE_KEY_MAX_PATH, out), SLATE_KEY_MAX_PATH);
    assert_memory_equal(out, in, SLATE_KEY_MAX_PATH);
    in[SLATE_KEY_MAX_PATH] = 'w';
    norm(in, SLATE_KEY_MAX_PATH + 1, out);
    assert_string_equal(out, "/{trunc}");
    /* a normalised path is never cut by the key function */
    memcpy(in, "/a", 2);
    memset(in + 2, 'b', 600);
    in[255] = '/';
    n = norm(in, 602, out);
    unsigned f = 9;
    key_of(S("s"), S("GET"), out, n, &f);
    assert_int_equal(f, 0);
}

static void test_path_normalize_errors(void **state)
{
    (void)state;
    char out[SLATE_PATH_NORM_CAP];
    size_t n = 0;
    assert_int_equal(slate_path_normalize(S("/a"), out, sizeof out, NULL), SLATE_EINVAL);
    assert_int_equal(slate_path_normalize(NULL, 1, out, sizeof out, &n), SLATE_EINVAL);
    assert_int_equal(slate_path_normalize(S("/a"), NULL, 4, &n), SLATE_EINVAL);
    assert_int_equal(slate_path_normalize(NULL, 0, out, sizeof out, &n), SLATE_OK);
    assert_string_equal(out, "/");
    /* too small: the needed size (NUL included), out untouched */
    memset(out, 'x', sizeof out);
    assert_int_equal(slate_path_normalize(S("/orders/42?x"), out, 12, &n), SLATE_ENOSPC);
    assert_int_equal(n, strlen("/orders/{id}") + 1);
    assert_int_equal(out[0], 'x');
    assert_int_equal(slate_path_normalize(S("/orders/42?x"), NULL, 0, &n), SLATE_ENOSPC);
    assert_int_equal(n, 13);
    assert_int_equal(slate_path_normalize(S("/orders/42?x"), out, 13, &n), SLATE_OK);
    assert_int_equal(n, 12);
    assert_string_equal(out, "/orders/{id}");
}

/* Many distinct ids collapse to one endpoint. */
static void test_path_normalize_cardinality(void **state)
{
    (void)state;
    char in[64], out[SLATE_PATH_NORM_CAP];
    for (unsigned i = 0; i < 10000; i++) {
        int n = snprintf(in, sizeof(in), "/product/%u/reviews?page=%u", i * 7919u, i);
        norm(in, (size_t)n, out);
        assert_string_equal(out, "/product/{id}/reviews");
    }
}

/* Reads stop at len: the input ends at a no-access page. */
static void test_path_normalize_read_bound(void **state)
{
    (void)state;
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *m =
        mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    char out[SLATE_PATH_NORM_CAP];
    static const char *tails[] = {"/a/12345", "/x/b", "/", "/aaaa bbbb",
                                  "zz/123e4567-e89b-12d3-a456-426614174000"};
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        size_t n = strlen(tails[t]);
        char *p = (char *)m + pg - n;
        memcpy(p, tails[t], n);
        norm(p, n, out);
    }
    /* a long input of short segments, ending at the page */
    char *p = (char *)m;
    for (long i = 0; i < pg; i++)
        p[i] = (i % 3 == 0) ? '/' : '7';
    norm(p, (size_t)pg, out);
    munmap(m, (size_t)pg * 2);
}

/* An independent model of the rules, written from the header's description:
 * split into segments, rewrite each, join, then cut when too long. */
static int model_all(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || s[i] == '\0')
            return 0;
    return 1;
}

static int model_count(const char *s, size_t n, const char *set)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += s[i] != '\0' && strchr(set, s[i]) != NULL;
    return c;
}

static int model_is_id(const char *s, size_t n)
{
    static const char dig[] = "0123456789", hex[] = "0123456789abcdefABCDEF";
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char tok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    if (n == 0)
        return 0;
    if (model_all(s, n, dig))
        return 1;
    if (n == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' &&
        model_all(s, 8, hex) && model_all(s + 9, 4, hex) && model_all(s + 14, 4, hex) &&
        model_all(s + 19, 4, hex) && model_all(s + 24, 12, hex))
        return 1;
    if (n >= 12 && model_all(s, n, hex) && model_count(s, n, dig) > 0)
        return 1;
    return n >= 20 && model_all(s, n, tok) && model_count(s, n, dig) > 0 &&
           model_count(s, n, alpha) > 0;
}

static size_t model_norm(const char *in, size_t len, char *out)
{
    char full[8192];
    size_t starts[4096], ns = 0, o = 0;
    size_t end = 0;
    while (end < len && in[end] && in[end] != '?' && in[end] != '#')
        end++;
    size_t i = (end > 0 && in[0] == '/') ? 1 : 0;
    for (;;) {
        size_t j = i;
        while (j < end && in[j] != '/')
            j++;
        starts[ns++] = o;
        full[o++] = '/';
        if (model_is_id(in + i, j - i)) {
            o += (size_t)sprintf(full + o, "{id}");
        } else {
            for (size_t k = i; k < j; k++) {
                unsigned char c = (unsigned char)in[k];
                if (c < 0x21 || c == 0x7f || c == ',' || c == '"' || c == '\\')
                    o += (size_t)sprintf(full + o, "%%%02X", c);
                else
                    full[o++] = (char)c;
            }
        }
        if (j >= end)
            break;
        i = j + 1;
    }
    if (o <= SLATE_KEY_MAX_PATH) {
        memcpy(out, full, o);
        out[o] = '\0';
        return o;
    }
    size_t keep = 0;
    for (size_t k = 0; k < ns; k++)
        if (starts[k] + 8 <= SLATE_KEY_MAX_PATH)
            keep = starts[k];
    memcpy(out, full, keep);
    strcpy(out + keep, "/{trunc}");
    return keep + 8;
}

static void check_against_model(const char *in, size_t n)
{
    char got[SLATE_PATH_NORM_CAP], want[8192];
    size_t g = norm(in, n, got);
    size_t w = model_norm(in, n, want);
    if (g != w || memcmp(got, want, g) != 0)
        fail_msg("normalize(%.*s): \"%s\", model \"%s\"", (int)n, in, got, want);
}

static void test_path_normalize_model(void **state)
{
    (void)state;
    /* random paths over an alphabet that hits every rule */
    static const char alpha[] = "//////0123456789abcdefABCDEF-_xyzXYZ.~% ,\"\\\t?#\x7f\x80\xff";
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    char in[700];
    for (int iter = 0; iter < 20000; iter++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (size_t)(rng >> 33) % (iter < 15000 ? 80 : 700);
        for (size_t i = 0; i < n; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(rng >> 40);
            /* runs of digits or hex make ids likely */
            in[i] = (r & 3) == 0 ? alpha[6 + (r >> 2) % 10] : alpha[(r >> 2) % (sizeof alpha - 1)];
        }
        check_against_model(in, n);
    }
    /* structured paths: id-shaped segments of every length around the thresholds */
    for (int len = 1; len <= 40; len++) {
        for (int kind = 0; kind < 4; kind++) {
            int k = snprintf(in, sizeof in, "/api/");
            for (int i = 0; i < len; i++)
                in[k++] = kind == 0   ? (char)('0' + i % 10)
                          : kind == 1 ? "a1b2c3d4e5f"[i % 11]
                          : kind == 2 ? "aZ_-9"[i % 5]
                                      : "abcdef"[i % 6];
            k += snprintf(in + k, sizeof in - (size_t)k, "/x?q=%d", len);
            check_against_model(in, (size_t)k);
        }
    }
}

/* Paths seen in SLATE's traces (the url column) stay what they are; each
 * with an id appended collapses to one template. */
static void test_path_normalize_trace_paths(void **state)
{
    (void)state;
    static const char *files[] = {"onlineboutique-trace.csv", "onlineboutique-trace-wcse.csv"};
    char file[512], line[4096];
    int rows = 0;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        snprintf(file, sizeof file, "%s/slate/%s", SLATE_DATA_DIR, files[fi]);
        FILE *f = fopen(file, "r");
        if (!f)
            fail_msg("cannot open %s", file);
        while (fgets(line, sizeof line, f)) {
            char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
            char *c3 = c2 ? strchr(c2 + 1, ',') : NULL, *c4 = c3 ? strchr(c3 + 1, ',') : NULL;
            if (!c4 || c3[1] != '/')
                continue;
            *c4 = '\0';
            const char *p = c3 + 1;
            char out[SLATE_PATH_NORM_CAP], in[600];
            norm(p, strlen(p), out);
            assert_string_equal(out, p);
            int n = snprintf(in, sizeof in, "%s/%d?x=1", p, rows * 31 + 7);
            norm(in, (size_t)n, out);
            assert_int_equal(strlen(out), strlen(p) + 5);
            assert_string_equal(out + strlen(p), "/{id}");
            check_against_model(in, (size_t)n);
            rows++;
        }
        fclose(f);
    }
    assert_true(rows >= 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_len),
        cmocka_unit_test(test_path_len_model),
        cmocka_unit_test(test_known_keys),
        cmocka_unit_test(test_query_fragment_and_case),
        cmocka_unit_test(test_fields_are_unambiguous),
        cmocka_unit_test(test_truncation_rule),
        cmocka_unit_test(test_path_read_bound),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_path_normalize_examples),
        cmocka_unit_test(test_path_normalize_length_bound),
        cmocka_unit_test(test_path_normalize_errors),
        cmocka_unit_test(test_path_normalize_cardinality),
        cmocka_unit_test(test_path_normalize_read_bound),
        cmocka_unit_test(test_path_normalize_model),
        cmocka_unit_test(test_path_normalize_trace_paths),
        cmocka_unit_test(test_trace_id_parse),
        cmocka_unit_test(test_trace_id_parse_model),
        cmocka_unit_test(test_trace_hash_known),
        cmocka_unit_test(test_sampling_rate_accuracy),
        cmocka_unit_test(test_padding_case_and_monotonic),
        cmocka_unit_test(test_sampled_matches_decide),
        cmocka_unit_test(test_sampling_bad_inputs),
        cmocka_unit_test(test_traceparent),
        cmocka_unit_test(test_traceparent_child),
        cmocka_unit_test(test_b3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
