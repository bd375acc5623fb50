/*
 * Tests of path normalisation: ids collapse, words survive, queries go,
 * the length is bounded, and the output is stable (normalising twice is
 * the same as once).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ctl_path.h"

static void expect(const char *in, const char *want)
{
    char out[CTL_PATH_MAX + 16];
    size_t n = ctl_path_normalize(in, strlen(in), out, sizeof(out));
    if (strcmp(out, want) != 0)
        fail_msg("normalize(\"%s\") = \"%s\", want \"%s\"", in, out, want);
    assert_int_equal(n, strlen(want));
    /* idempotent */
    char again[CTL_PATH_MAX + 16];
    ctl_path_normalize(out, n, again, sizeof(again));
    assert_string_equal(again, out);
}

static void test_examples(void **state)
{
    (void)state;
    expect("", "/");
    expect("/", "/");
    expect("cart", "/cart");
    expect("/cart?user=1&x=2", "/cart");
    expect("/cart#frag", "/cart");
    expect("/orders/12345", "/orders/{id}");
    expect("/orders/12345/items/7", "/orders/{id}/items/{id}");
    expect("/u/123e4567-e89b-12d3-a456-426614174000/x", "/u/{id}/x");
    expect("/u/123E4567-E89B-12D3-A456-426614174000", "/u/{id}");
    expect("/trace/5d0f416cca2d80da", "/trace/{id}");
    expect("/obj/507f1f77bcf86cd799439011", "/obj/{id}");
    expect("/tok/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/tok/{id}");
    /* words, versions and gRPC names are kept */
    expect("/hipstershop.CartService/AddItem", "/hipstershop.CartService/AddItem");
    expect("/v1/report", "/v1/report");
    expect("/api/v2/deadbeefcafe", "/api/v2/deadbeefcafe"); /* hex but no digit */
    expect("/abc123", "/abc123");                           /* short token */
    expect("/a//b/", "/a//b/");
    /* bytes that would break text formats are percent-encoded */
    expect("/a b,c", "/a%20b%2Cc");
    expect("/q\"\\", "/q%22%5C");
}

static void test_length_is_bounded(void **state)
{
    (void)state;
    char in[4096];
    char out[CTL_PATH_MAX + 16];
    /* many short segments */
    size_t o = 0;
    for (int i = 0; i < 500; i++)
        o += (size_t)snprintf(in + o, sizeof(in) - o, "/seg");
    size_t n = ctl_path_normalize(in, o, out, sizeof(out));
    assert_true(n <= CTL_PATH_MAX + 8);
    assert_int_equal(strlen(out), n);
    assert_string_equal(out + n - 8, "/{trunc}");
    /* one enormous segment */
    memset(in, 'a', 3000);
    in[0] = '/';
    n = ctl_path_normalize(in, 3000, out, sizeof(out));
    assert_string_equal(out, "/{trunc}");
    /* escaped bytes count toward the limit */
    memset(in, ' ', 3000);
    in[0] = '/';
    n = ctl_path_normalize(in, 3000, out, sizeof(out));
    assert_string_equal(out, "/{trunc}");
    /* segments that fit are kept before the cut */
    o = (size_t)snprintf(in, sizeof(in), "/keep/");
    memset(in + o, 'z', 400);
    n = ctl_path_normalize(in, o + 400, out, sizeof(out));
    assert_string_equal(out, "/keep/{trunc}");
}

/* Many distinct ids collapse to one endpoint. */
static void test_cardinality(void **state)
{
    (void)state;
    char in[64], out[CTL_PATH_MAX + 16], first[CTL_PATH_MAX + 16];
    for (unsigned i = 0; i < 10000; i++) {
        int n = snprintf(in, sizeof(in), "/product/%u/reviews?page=%u", i * 7919u, i);
        ctl_path_normalize(in, (size_t)n, out, sizeof(out));
        if (i == 0)
            strcpy(first, out);
        assert_string_equal(out, first);
    }
    assert_string_equal(first, "/product/{id}/reviews");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_length_is_bounded),
        cmocka_unit_test(test_cardinality),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
