/*
 * Tests of the controller's JSON writer: exact output, escaping, invalid
 * UTF-8 replacement, non-finite numbers and misuse detection.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "ctl_json.h"

static void test_nested_document(void **state)
{
    (void)state;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    ctl_json_obj(&j);
    ctl_json_key(&j, "a");
    ctl_json_u64(&j, 18446744073709551615ull);
    ctl_json_key(&j, "b");
    ctl_json_arr(&j);
    ctl_json_i64(&j, -5);
    ctl_json_bool(&j, true);
    ctl_json_null(&j);
    ctl_json_f64(&j, 0.5);
    ctl_json_obj(&j);
    ctl_json_obj_end(&j);
    ctl_json_arr(&j);
    ctl_json_arr_end(&j);
    ctl_json_arr_end(&j);
    ctl_json_key(&j, "c");
    ctl_json_str(&j, "x");
    ctl_json_obj_end(&j);
    assert_true(ctl_json_ok(&j));
    assert_string_equal(ctl_buf_cstr(&b),
                        "{\"a\":18446744073709551615,\"b\":[-5,true,null,0.5,{},[]],\"c\":\"x\"}");
    ctl_buf_free(&b);
}

/* The member helpers write exactly what key + value would. */
static void test_member_helpers(void **state)
{
    (void)state;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    ctl_json_obj(&j);
    ctl_json_kstr(&j, "s", "a\"b");
    ctl_json_ku64(&j, "u", 42);
    ctl_json_kf64(&j, "f", 1.25);
    ctl_json_kbool(&j, "t", false);
    ctl_json_obj_end(&j);
    assert_true(ctl_json_ok(&j));
    assert_string_equal(ctl_buf_cstr(&b), "{\"s\":\"a\\\"b\",\"u\":42,\"f\":1.25,\"t\":false}");
    ctl_buf_free(&b);
}

static void expect_escaped(const char *in, size_t len, const char *want)
{
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_escape(&b, in, len);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    ctl_buf_free(&b);
}

static void test_escaping(void **state)
{
    (void)state;
    expect_escaped("plain", 5, "plain");
    expect_escaped("q\"b\\n\nr\rt\t", 10, "q\\\"b\\\\n\\nr\\rt\\t");
    expect_escaped("\x01\x1f", 2, "\\u0001\\u001f");
    /* NUL inside a counted string is escaped, not a terminator */
    expect_escaped("a\0b", 3, "a\\u0000b");
    /* valid multi-byte UTF-8 passes through: é, €, U+1F600 */
    expect_escaped("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9,
                   "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    /* invalid bytes become U+FFFD: lone continuation, overlong, surrogate, truncated */
    expect_escaped("\x80", 1, "\xEF\xBF\xBD");
    expect_escaped("\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");
    expect_escaped("\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    expect_escaped("a\xE2\x82", 3, "a\xEF\xBF\xBD\xEF\xBF\xBD");
    expect_escaped("\xF5\x80\x80\x80", 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

static void test_numbers(void **state)
{
    (void)state;
    const struct {
        double v;
        const char *want;
    } cases[] = {{0.0, "0"},
                 {1.0, "1"},
                 {-2.5, "-2.5"},
                 {0.1, "0.1"},
                 {1e300, "1e+300"},
                 {NAN, "null"},
                 {INFINITY, "null"},
                 {-INFINITY, "null"},
                 {1.0 / 3.0, "0.3333333333333333"},
                 {0.1 + 0.2, "0.30000000000000004"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctl_buf_t b;
        ctl_buf_init(&b, 0);
        ctl_json_t j;
        ctl_json_init(&j, &b);
        ctl_json_f64(&j, cases[i].v);
        assert_true(ctl_json_ok(&j));
        assert_string_equal(ctl_buf_cstr(&b), cases[i].want);
        ctl_buf_free(&b);
    }
}

static void test_misuse_is_an_error(void **state)
{
    (void)state;
    ctl_buf_t b;
    ctl_buf_init(&b, 0);
    ctl_json_t j;
    /* a value without a key in an object */
    ctl_json_init(&j, &b);
    ctl_json_obj(&j);
    ctl_json_u64(&j, 1);
    assert_false(ctl_json_ok(&j));
    /* a key in an array */
    ctl_buf_reset(&b);
    ctl_json_init(&j, &b);
    ctl_json_arr(&j);
    ctl_json_key(&j, "k");
    assert_false(ctl_json_ok(&j));
    /* unbalanced */
    ctl_buf_reset(&b);
    ctl_json_init(&j, &b);
    ctl_json_obj(&j);
    assert_false(ctl_json_ok(&j));
    ctl_json_arr_end(&j);
    assert_false(ctl_json_ok(&j));
    /* two top-level values */
    ctl_buf_reset(&b);
    ctl_json_init(&j, &b);
    ctl_json_u64(&j, 1);
    ctl_json_u64(&j, 2);
    assert_false(ctl_json_ok(&j));
    /* too deep */
    ctl_buf_reset(&b);
    ctl_json_init(&j, &b);
    for (int i = 0; i < CTL_JSON_MAX_DEPTH + 2; i++)
        ctl_json_arr(&j);
    assert_true(j.error);
    ctl_buf_free(&b);
}

static void test_buffer_limit_fails_document(void **state)
{
    (void)state;
    ctl_buf_t b;
    ctl_buf_init(&b, 16);
    ctl_json_t j;
    ctl_json_init(&j, &b);
    ctl_json_arr(&j);
    for (int i = 0; i < 10; i++)
        ctl_json_u64(&j, 123456);
    ctl_json_arr_end(&j);
    assert_true(b.failed);
    assert_false(ctl_json_ok(&j));
    assert_true(b.len <= 16);
    ctl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_document),
        cmocka_unit_test(test_member_helpers),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_misuse_is_an_error),
        cmocka_unit_test(test_buffer_limit_fails_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
