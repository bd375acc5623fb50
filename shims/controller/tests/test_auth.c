/*
 * Tests of the bearer token file (parse, match, header form, reload keeping
 * the tokens in force on error), of the trust options' validation, and of
 * the one-answer batch selection.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_auth.h"
#include "ctl_config.h"
#include "ctl_rules.h"

static int parse(const char *text, ctl_auth_tokens_t *t, char *err)
{
    return ctl_auth_parse(text, strlen(text), t, err, 256);
}

static void test_parse(void **state)
{
    (void)state;
    static ctl_auth_tokens_t t;
    char err[256];
    assert_int_equal(
        parse("# comment\n\n  abcdefghijklmnop1234  \r\nAAAA/BBBB+CCCC.DD_~==\n", &t, err), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.len[0], 20);
    assert_memory_equal(t.tok[0], "abcdefghijklmnop1234", 20);
    assert_memory_equal(t.tok[1], "AAAA/BBBB+CCCC.DD_~==", 21);

    const char *bad[][2] = {
        {"", "no token"},
        {"# only a comment\n", "no token"},
        {"short\n", "line 1"},
        {"abcdefghijklmnop\nabcdefghij\"klmnop\n", "line 2"},
        {"abcdefghijklmnop==x\n", "line 1"},
        {"=abcdefghijklmnopq\n", "line 1"},
        {"abcdefgh ijklmnopq\n", "line 1"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(parse(bad[i][0], &t, err), -1);
        assert_non_null(strstr(err, bad[i][1]));
        assert_null(strstr(err, "abcdefgh")); /* never the token itself */
    }
    /* 17 tokens: one too many */
    char many[17 * 20 + 1] = "";
    for (int k = 0; k < 17; k++) {
        char line[24];
        snprintf(line, sizeof(line), "token-number-%04d\n", k);
        strcat(many, line);
    }
    assert_int_equal(parse(many, &t, err), -1);
    assert_non_null(strstr(err, "more than 16"));
    /* a token of 256 characters is one too long */
    char longtok[300];
    memset(longtok, 'a', 256);
    longtok[256] = '\0';
    assert_int_equal(parse(longtok, &t, err), -1);
    longtok[255] = '\0';
    assert_int_equal(parse(longtok, &t, err), 0);
}

static void test_match_and_bearer(void **state)
{
    (void)state;
    static ctl_auth_tokens_t t;
    char err[256];
    assert_int_equal(parse("abcdefghijklmnop1234\nzyxwvutsrqponmlk9876\n", &t, err), 0);
    assert_true(ctl_auth_tokens_match(&t, "abcdefghijklmnop1234", 20));
    assert_true(ctl_auth_tokens_match(&t, "zyxwvutsrqponmlk9876", 20));
    assert_false(ctl_auth_tokens_match(&t, "abcdefghijklmnop123", 19));
    assert_false(ctl_auth_tokens_match(&t, "abcdefghijklmnop12345", 21));
    assert_false(ctl_auth_tokens_match(&t, "abcdefghijklmnop1235", 20));
    assert_false(ctl_auth_tokens_match(&t, "", 0));

    const char *tok = NULL;
    size_t len = 0;
    assert_true(ctl_auth_bearer("Bearer abc", &tok, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(tok, "abc", 3);
    assert_true(ctl_auth_bearer("bEaReR \t abc  ", &tok, &len));
    assert_int_equal(len, 3);
    assert_false(ctl_auth_bearer("Bearerabc", &tok, &len));
    assert_false(ctl_auth_bearer("Bearer   ", &tok, &len));
    assert_false(ctl_auth_bearer("Basic abc", &tok, &len));
    assert_false(ctl_auth_bearer(NULL, &tok, &len));
}

static void write_at(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_reload(void **state)
{
    (void)state;
    char path[] = "/tmp/ctl_auth_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_at(path, "old-token-0123456789\n");
    static ctl_auth_t a;
    char err[700];
    assert_int_equal(ctl_auth_init(&a, path, err, sizeof(err)), 0);
    assert_true(a.enabled);
    assert_true(ctl_auth_check(&a, "Bearer old-token-0123456789"));
    assert_false(ctl_auth_check(&a, NULL));

    uint32_t n = 0;
    write_at(path, "old-token-0123456789\nnew-token-0123456789\n");
    assert_int_equal(ctl_auth_reload(&a, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_true(ctl_auth_check(&a, "Bearer new-token-0123456789"));

    write_at(path, "new-token-0123456789\n");
    assert_int_equal(ctl_auth_reload(&a, &n, err, sizeof(err)), 0);
    assert_false(ctl_auth_check(&a, "Bearer old-token-0123456789"));

    write_at(path, "bad\n"); /* broken: the tokens in force stay */
    assert_int_equal(ctl_auth_reload(&a, &n, err, sizeof(err)), -1);
    assert_true(ctl_auth_check(&a, "Bearer new-token-0123456789"));

    char first[64];
    write_at(path, "# c\nfirst-token-0123456789\nsecond-token-012345678\n");
    assert_int_equal(ctl_auth_read_client_token(path, first, sizeof(first), err, sizeof(err)), 0);
    assert_string_equal(first, "first-token-0123456789");
    ctl_auth_destroy(&a);
    unlink(path);

    assert_int_equal(ctl_auth_init(&a, "/nonexistent/tokens", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/tokens"));
    ctl_auth_destroy(&a);
    assert_int_equal(ctl_auth_init(&a, "", err, sizeof(err)), 0);
    assert_false(a.enabled);
    assert_false(ctl_auth_check(&a, "Bearer anything-at-all-0123"));
    ctl_auth_destroy(&a);
}

static void test_validate_trust(void **state)
{
    (void)state;
    ctl_config_t c;
    char err[512];
    ctl_config_defaults(&c);
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), 0);
    snprintf(c.listen, sizeof(c.listen), "0.0.0.0");
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--insecure 1"));
    c.insecure = 1;
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), 0);
    c.insecure = 0;
    snprintf(c.auth_token_file, sizeof(c.auth_token_file), "/etc/tokens");
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), 0);
    snprintf(c.tls_cert, sizeof(c.tls_cert), "cert.pem");
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--tls-key"));
    snprintf(c.tls_key, sizeof(c.tls_key), "key.pem");
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), 0);
    snprintf(c.upstream_token_file, sizeof(c.upstream_token_file), "up");
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cluster role"));
    ctl_config_defaults(&c);
    snprintf(c.listen, sizeof(c.listen), "::1");
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), 0);
    assert_int_equal(ctl_config_set(&c, "insecure", "2", err, sizeof(err)), -1);
    assert_int_equal(ctl_config_set(&c, "max-buffered-bytes", "1000", err, sizeof(err)), -1);
}

static void test_batch_answer(void **state)
{
    (void)state;
    ctl_rules_t *r = ctl_rules_new(7, 0, 0, "test");
    assert_non_null(r);
    const char *regs[2] = {"west", "east"};
    uint32_t w[2] = {70, 30};
    assert_int_equal(ctl_rules_add(r, "west", "backend", "GET", "/a", "", regs, w, 2), 0);
    assert_int_equal(ctl_rules_add(r, "west", "backend", "GET", "/b", "frontend", regs, w, 2), 0);
    assert_int_equal(ctl_rules_add(r, "west", "db", "GET", "/c", "backend", regs, w, 2), 0);
    assert_int_equal(ctl_rules_add(r, "east", "backend", "GET", "/a", "", regs, w, 2), 0);
    ctl_rules_batch_t b;
    ctl_rules_batch_init(&b);
    for (int i = 0; i < 1000; i++) /* a thousand reports of one proxy: one answer */
        assert_int_equal(ctl_rules_batch_add(&b, "frontend", 8, "west", 4), 0);
    assert_int_equal(b.n_pairs, 1);
    ctl_buf_t out;
    ctl_buf_init(&out, 0);
    assert_int_equal(ctl_rules_batch_response(r, &b, &out), 0);
    slate_codec_error_t err;
    ctl_rules_t *got = ctl_rules_decode_all((const uint8_t *)out.data, out.len, "t", &err);
    assert_non_null(got);
    assert_int_equal(got->n_rules, 2); /* the any-caller rule and frontend's, in west */
    /* the same as the single answer */
    ctl_buf_t one;
    ctl_buf_init(&one, 0);
    assert_int_equal(ctl_rules_response(r, "frontend", 8, "west", 4, &one), 0);
    assert_int_equal(one.len, out.len);
    assert_memory_equal(one.data, out.data, out.len);
    ctl_rules_unref(got);
    /* backend in west adds its own rule, east adds the east rule */
    assert_int_equal(ctl_rules_batch_add(&b, "backend", 7, "west", 4), 0);
    assert_int_equal(ctl_rules_batch_add(&b, "frontend", 8, "east", 4), 0);
    ctl_buf_reset(&out);
    assert_int_equal(ctl_rules_batch_response(r, &b, &out), 0);
    got = ctl_rules_decode_all((const uint8_t *)out.data, out.len, "t", &err);
    assert_non_null(got);
    assert_int_equal(got->n_rules, 4);
    ctl_rules_unref(got);
    ctl_buf_free(&one);
    ctl_buf_free(&out);
    ctl_rules_batch_free(&b);
    ctl_rules_unref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),        cmocka_unit_test(test_match_and_bearer),
        cmocka_unit_test(test_reload),       cmocka_unit_test(test_validate_trust),
        cmocka_unit_test(test_batch_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
