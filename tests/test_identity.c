/*
 * libslate - identity.h: the first valid candidate name.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slate/slate.h"

static slate_status pick(slate_name_kind kind, const char *const *v, size_t n, size_t *at,
                         const char **why)
{
    size_t lens[8];
    for (size_t i = 0; i < n; i++)
        lens[i] = v[i] ? strlen(v[i]) : 0;
    return slate_identity_pick(kind, v, lens, n, at, why);
}

static void test_precedence(void **state)
{
    (void)state;
    size_t at = 99;
    const char *why = NULL;
    /* explicit key, label app, app.kubernetes.io/name, workload name */
    const char *all[] = {NULL, "cart", "cart-svc", "cart-v1"};
    assert_int_equal(pick(SLATE_NAME_SERVICE, all, 4, &at, &why), SLATE_OK);
    assert_int_equal(at, 1);
    assert_string_equal(why, "");
    const char *over[] = {"checkout", "cart", "cart-svc", "cart-v1"};
    assert_int_equal(pick(SLATE_NAME_SERVICE, over, 4, &at, NULL), SLATE_OK);
    assert_int_equal(at, 0);
    const char *k8s[] = {NULL, "", "cart-svc", "cart-v1"};
    assert_int_equal(pick(SLATE_NAME_SERVICE, k8s, 4, &at, NULL), SLATE_OK);
    assert_int_equal(at, 2);
    const char *wl[] = {NULL, NULL, NULL, "cart-v1"};
    assert_int_equal(pick(SLATE_NAME_SERVICE, wl, 4, &at, NULL), SLATE_OK);
    assert_int_equal(at, 3);
}

static void test_invalid_and_missing(void **state)
{
    (void)state;
    size_t at = 99;
    const char *why = NULL;
    /* a label that is no DNS-1123 label is skipped; the next valid one wins */
    const char *upper[] = {NULL, "Cart", "cart-svc"};
    assert_int_equal(pick(SLATE_NAME_SERVICE, upper, 3, &at, &why), SLATE_OK);
    assert_int_equal(at, 2);
    assert_string_equal(why, "");
    /* none valid: the first invalid one is named, with the reason */
    const char *bad[] = {NULL, "Cart", "cart.v1"};
    assert_int_equal(pick(SLATE_NAME_SERVICE, bad, 3, &at, &why), SLATE_ENAME);
    assert_int_equal(at, 1);
    assert_true(strlen(why) > 0);
    /* nothing present */
    const char *none[] = {NULL, "", NULL};
    at = 99;
    assert_int_equal(pick(SLATE_NAME_SERVICE, none, 3, &at, &why), SLATE_EMISSING);
    assert_int_equal(at, 99);
    assert_int_equal(slate_identity_pick(SLATE_NAME_SERVICE, NULL, NULL, 0, NULL, NULL),
                     SLATE_EMISSING);
    /* regions are label values: dots and capitals are fine, a leading '-' is not */
    const char *reg[] = {"-west", "eu-west-1.a", "x"};
    assert_int_equal(pick(SLATE_NAME_REGION, reg, 3, &at, NULL), SLATE_OK);
    assert_int_equal(at, 1);
    /* pods: an empty candidate is absent, a long one invalid */
    char longpod[80];
    memset(longpod, 'p', sizeof(longpod) - 1);
    longpod[sizeof(longpod) - 1] = '\0';
    const char *pods[] = {"", longpod, "cart-7d9f-abcde"};
    assert_int_equal(pick(SLATE_NAME_POD, pods, 3, &at, NULL), SLATE_OK);
    assert_int_equal(at, 2);
}

static void test_args(void **state)
{
    (void)state;
    size_t at;
    const char *v[] = {"a"};
    size_t l[] = {1};
    assert_int_equal(slate_identity_pick(SLATE_NAME_SERVICE, NULL, l, 1, &at, NULL), SLATE_EINVAL);
    assert_int_equal(slate_identity_pick(SLATE_NAME_SERVICE, v, NULL, 1, &at, NULL), SLATE_EINVAL);
    assert_int_equal(slate_identity_pick(SLATE_NAME_SERVICE, v, l, 1, NULL, NULL), SLATE_EINVAL);
    assert_int_equal(slate_identity_pick((slate_name_kind)77, v, l, 1, &at, NULL), SLATE_EINVAL);
    /* bytes need not be NUL-terminated: only lens[i] bytes are read */
    const char *v2[] = {"cartXYZ"};
    size_t l2[] = {4};
    assert_int_equal(slate_identity_pick(SLATE_NAME_SERVICE, v2, l2, 1, &at, NULL), SLATE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_invalid_and_missing),
        cmocka_unit_test(test_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
