/*
 * Tests of the latency-versus-load models.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "slate_opt.h"

static void test_placeholder(void **state)
{
    (void)state;
    slate_opt_model_t m;
    assert_int_equal(slate_opt_model_init(&m, NULL), SLATE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
