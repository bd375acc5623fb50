/*
 * Tests of status codes, their text, and the version functions.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slate/slate.h"

static void test_version_matches_header(void **state)
{
    (void)state;
    assert_int_equal(slate_version_number(), SLATE_VERSION_NUMBER);
    assert_string_equal(slate_version_string(), SLATE_VERSION_STRING);
}

/* Every value of the enum that is declared has a distinct name and text. */
static void test_every_status_has_text(void **state)
{
    (void)state;
    unsigned known = 0;
    for (int s = 0; s < SLATE_STATUS_LAST_; s++) {
        const char *name = slate_status_name((slate_status)s);
        const char *text = slate_strerror((slate_status)s);
        assert_non_null(name);
        assert_non_null(text);
        if (strcmp(name, "SLATE_E?") == 0) {
            assert_string_equal(text, "unknown status");
            continue;
        }
        known++;
        assert_true(strncmp(name, "SLATE_", 6) == 0);
        assert_true(strlen(text) > 5);
    }
    /* status.h declares at least these; a missing row would lower the count. */
    assert_true(known >= 34);
    assert_string_equal(slate_status_name(SLATE_OK), "SLATE_OK");
    assert_string_equal(slate_status_name(SLATE_EVARINT), "SLATE_EVARINT");
    assert_string_equal(slate_status_name(SLATE_ENUMBER), "SLATE_ENUMBER");
    assert_string_equal(slate_strerror((slate_status)9999), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_matches_header),
        cmocka_unit_test(test_every_status_has_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
