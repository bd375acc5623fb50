/*
 * libslate - lease.h: the reporter lease record and its claim decision.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slate/slate.h"

#define S 1000000000ull

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t rec[SLATE_LEASE_SIZE];
    slate_lease_t l = {.owner = 7, .expiry_ns = 3 * S}, back = {0};
    assert_int_equal(slate_lease_write(rec, &l), SLATE_OK);
    assert_memory_equal(rec, "SLLS", 4);
    assert_int_equal(slate_lease_read(rec, sizeof rec, &back), SLATE_OK);
    assert_int_equal(back.owner, 7);
    assert_int_equal(back.expiry_ns, 3 * S);
    /* a free lease */
    assert_int_equal(slate_lease_write(rec, NULL), SLATE_OK);
    assert_int_equal(slate_lease_read(rec, sizeof rec, &back), SLATE_OK);
    assert_int_equal(back.owner, 0);
    assert_int_equal(back.expiry_ns, 0);
    assert_int_equal(slate_lease_write(NULL, &l), SLATE_EINVAL);
}

static void test_bad_records(void **state)
{
    (void)state;
    uint8_t rec[SLATE_LEASE_SIZE + 1];
    slate_lease_t l = {.owner = 7, .expiry_ns = 3 * S}, back = {.owner = 99, .expiry_ns = 99};
    assert_int_equal(slate_lease_write(rec, &l), SLATE_OK);
    assert_int_equal(slate_lease_read(NULL, SLATE_LEASE_SIZE, &back), SLATE_EINVAL);
    assert_int_equal(slate_lease_read(rec, SLATE_LEASE_SIZE, NULL), SLATE_EINVAL);
    assert_int_equal(slate_lease_read(rec, 0, &back), SLATE_EBADSIZE);
    assert_int_equal(slate_lease_read(rec, SLATE_LEASE_SIZE - 1, &back), SLATE_EBADSIZE);
    assert_int_equal(slate_lease_read(rec, SLATE_LEASE_SIZE + 1, &back), SLATE_EBADSIZE);
    rec[6] = 25; /* recorded size */
    assert_int_equal(slate_lease_read(rec, SLATE_LEASE_SIZE, &back), SLATE_EBADSIZE);
    rec[6] = SLATE_LEASE_SIZE;
    rec[4] = 2; /* version */
    assert_int_equal(slate_lease_read(rec, SLATE_LEASE_SIZE, &back), SLATE_EBADVERSION);
    rec[4] = 1;
    rec[0] = 'X'; /* magic */
    assert_int_equal(slate_lease_read(rec, SLATE_LEASE_SIZE, &back), SLATE_EBADMAGIC);
    rec[0] = 'S';
    memset(rec + 8, 0, 8); /* nobody, but an expiry */
    assert_int_equal(slate_lease_read(rec, SLATE_LEASE_SIZE, &back), SLATE_ECORRUPT);
    /* nothing was written on failure */
    assert_int_equal(back.owner, 99);
    assert_int_equal(back.expiry_ns, 99);
}

static void test_claim(void **state)
{
    (void)state;
    slate_lease_t out = {0};
    /* no record yet: taken */
    assert_int_equal(slate_lease_claim(NULL, 1, 10 * S, 3 * S, &out), SLATE_LEASE_TAKEN);
    assert_int_equal(out.owner, 1);
    assert_int_equal(out.expiry_ns, 13 * S);
    slate_lease_t cur = out;
    /* another owner while unexpired: held, out untouched */
    slate_lease_t other = {.owner = 42, .expiry_ns = 42};
    assert_int_equal(slate_lease_claim(&cur, 2, 12 * S, 3 * S, &other), SLATE_LEASE_HELD);
    assert_int_equal(other.owner, 42);
    assert_int_equal(other.expiry_ns, 42);
    /* the holder renews */
    assert_int_equal(slate_lease_claim(&cur, 1, 12 * S, 3 * S, &out), SLATE_LEASE_RENEWED);
    assert_int_equal(out.expiry_ns, 15 * S);
    cur = out;
    /* at expiry another owner takes it over */
    assert_int_equal(slate_lease_claim(&cur, 2, 15 * S, 3 * S, &out), SLATE_LEASE_TAKEN_OVER);
    assert_int_equal(out.owner, 2);
    assert_int_equal(out.expiry_ns, 18 * S);
    /* a free record is taken */
    slate_lease_t free_lease = {0};
    assert_int_equal(slate_lease_claim(&free_lease, 3, 1, 1, NULL), SLATE_LEASE_TAKEN);
    /* id 0 never holds it; expiry saturates */
    assert_int_equal(slate_lease_claim(NULL, 0, 1, 1, &out), SLATE_LEASE_HELD);
    assert_int_equal(slate_lease_claim(NULL, 5, UINT64_MAX - 1, 10, &out), SLATE_LEASE_TAKEN);
    assert_true(out.expiry_ns == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
