/*
 * Tests of the naming rules (name.h), against an independent reference
 * written from the Kubernetes and HTTP grammars as regular languages.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slate/slate.h"

static int ok(slate_name_kind k, const char *s)
{
    const char *why = NULL;
    slate_status st = slate_name_check(k, s, strlen(s), &why);
    assert_non_null(why);
    if (st == SLATE_OK)
        assert_string_equal(why, "");
    else
        assert_true(strlen(why) > 0);
    return st == SLATE_OK;
}

static void test_service(void **state)
{
    (void)state;
    assert_true(ok(SLATE_NAME_SERVICE, "frontend"));
    assert_true(ok(SLATE_NAME_SERVICE, "a"));
    assert_true(ok(SLATE_NAME_SERVICE, "be4"));
    assert_true(ok(SLATE_NAME_SERVICE, "product-catalog-2"));
    assert_true(ok(SLATE_NAME_SERVICE, "0abc"));
    assert_false(ok(SLATE_NAME_SERVICE, ""));
    assert_false(ok(SLATE_NAME_SERVICE, "BE4"));
    assert_false(ok(SLATE_NAME_SERVICE, "../../etc"));
    assert_false(ok(SLATE_NAME_SERVICE, "a.b"));
    assert_false(ok(SLATE_NAME_SERVICE, "a_b"));
    assert_false(ok(SLATE_NAME_SERVICE, "-a"));
    assert_false(ok(SLATE_NAME_SERVICE, "a-"));
    char n[70];
    memset(n, 'a', sizeof n);
    assert_int_equal(slate_name_check(SLATE_NAME_SERVICE, n, 63, NULL), SLATE_OK);
    assert_int_equal(slate_name_check(SLATE_NAME_SERVICE, n, 64, NULL), SLATE_ENAME);
    /* A NUL inside the given length is a byte like any other, and refused. */
    assert_int_equal(slate_name_check(SLATE_NAME_SERVICE, "ab\0c", 4, NULL), SLATE_ENAME);
}

static void test_region_and_pod(void **state)
{
    (void)state;
    assert_true(ok(SLATE_NAME_REGION, "us-west-1"));
    assert_true(ok(SLATE_NAME_REGION, "us.west"));
    assert_true(ok(SLATE_NAME_REGION, "EU_Central"));
    assert_false(ok(SLATE_NAME_REGION, ""));
    assert_false(ok(SLATE_NAME_REGION, "eu\"west"));
    assert_false(ok(SLATE_NAME_REGION, "us west"));
    assert_false(ok(SLATE_NAME_REGION, ".west"));
    assert_false(ok(SLATE_NAME_REGION, "west_"));
    assert_false(ok(SLATE_NAME_REGION, "r\xc2\x81"));      /* U+0081 */
    assert_false(ok(SLATE_NAME_REGION, "r\xc2\x85x"));     /* NEL */
    assert_false(ok(SLATE_NAME_REGION, "r\xe2\x80\xa8x")); /* U+2028 */
    assert_true(ok(SLATE_NAME_POD, ""));
    assert_true(ok(SLATE_NAME_POD, "frontend-7d9f8c-xk2p4"));
    assert_false(ok(SLATE_NAME_POD, "pod/1"));
}

static void test_method_and_path(void **state)
{
    (void)state;
    assert_true(ok(SLATE_NAME_METHOD, "GET"));
    assert_true(ok(SLATE_NAME_METHOD, "M-SEARCH"));
    assert_false(ok(SLATE_NAME_METHOD, ""));
    assert_false(ok(SLATE_NAME_METHOD, "GE T"));
    assert_false(ok(SLATE_NAME_METHOD, "GET\r\n"));
    assert_false(ok(SLATE_NAME_METHOD, "(GET)"));
    assert_true(ok(SLATE_NAME_PATH, "/"));
    assert_true(ok(SLATE_NAME_PATH, "*"));
    assert_true(ok(SLATE_NAME_PATH, "/hipstershop.CartService/GetCart"));
    assert_true(ok(SLATE_NAME_PATH, "/a/%20b?x=1#f"));
    assert_false(ok(SLATE_NAME_PATH, ""));
    assert_false(ok(SLATE_NAME_PATH, "a/b"));
    assert_false(ok(SLATE_NAME_PATH, "/a b"));
    assert_false(ok(SLATE_NAME_PATH, "/caf\xc3\xa9"));
    assert_false(ok(SLATE_NAME_PATH, "**"));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(slate_name_check(SLATE_NAME_SERVICE, NULL, 1, &why), SLATE_EINVAL);
    assert_int_equal(slate_name_check((slate_name_kind)99, "a", 1, &why), SLATE_EINVAL);
    assert_int_equal(slate_name_check(SLATE_NAME_POD, NULL, 0, &why), SLATE_OK);
    assert_string_equal(slate_name_kind_str(SLATE_NAME_REGION), "region");
    assert_string_equal(slate_name_kind_str((slate_name_kind)99), "name");
    assert_string_equal(slate_status_name(SLATE_ENAME), "SLATE_ENAME");
}

/* Every one- and two-byte service name against the grammar written out. */
static int ref_service(const unsigned char *s, size_t n)
{
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int an = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
        int edge = i == 0 || i == n - 1;
        if (!an && (edge || s[i] != '-'))
            return 0;
    }
    return 1;
}

static void test_service_exhaustive(void **state)
{
    (void)state;
    unsigned char b[2];
    for (unsigned a = 0; a < 256; a++) {
        b[0] = (unsigned char)a;
        assert_int_equal(slate_name_check(SLATE_NAME_SERVICE, (const char *)b, 1, NULL) == SLATE_OK,
                         ref_service(b, 1));
        for (unsigned c = 0; c < 256; c++) {
            b[1] = (unsigned char)c;
            assert_int_equal(slate_name_check(SLATE_NAME_SERVICE, (const char *)b, 2, NULL) ==
                                 SLATE_OK,
                             ref_service(b, 2));
        }
    }
}

/* The other kinds against their grammars written out: every byte at every
 * position of names of 1 to 20 bytes (so paths cover the 8-byte words, the
 * overlapping tail and the short loop). */
static int ref_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int ref_label(const unsigned char *s, size_t n)
{
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ref_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return ref_alnum(s[0]) && ref_alnum(s[n - 1]);
}

static int ref_method(const unsigned char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ref_alnum(s[i]) && (s[i] == 0 || !strchr(extra, s[i])))
            return 0;
    return 1;
}

static int ref_path(const unsigned char *s, size_t n)
{
    if (n == 0 || !(s[0] == '/' || (n == 1 && s[0] == '*')))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

static void test_kinds_exhaustive(void **state)
{
    (void)state;
    unsigned char b[20];
    for (size_t n = 1; n <= sizeof(b); n++)
        for (size_t at = 0; at < n; at++)
            for (unsigned c = 0; c < 256; c++) {
                memset(b, 'a', n);
                b[0] = at == 0 ? (unsigned char)c : '/';
                b[at] = (unsigned char)c;
                const char *s = (const char *)b;
                assert_int_equal(slate_name_check(SLATE_NAME_PATH, s, n, NULL) == SLATE_OK,
                                 ref_path(b, n));
                memset(b, 'a', n);
                b[at] = (unsigned char)c;
                assert_int_equal(slate_name_check(SLATE_NAME_REGION, s, n, NULL) == SLATE_OK,
                                 ref_label(b, n));
                assert_int_equal(slate_name_check(SLATE_NAME_POD, s, n, NULL) == SLATE_OK,
                                 ref_label(b, n));
                assert_int_equal(slate_name_check(SLATE_NAME_METHOD, s, n, NULL) == SLATE_OK,
                                 ref_method(b, n));
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_region_and_pod),
        cmocka_unit_test(test_method_and_path),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_service_exhaustive),
        cmocka_unit_test(test_kinds_exhaustive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
