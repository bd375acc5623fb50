/*
 * Tests of configuration (flags over a key=value file, range checks, errors
 * naming file and line) and of the regions file parser.
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

#include "ctl_config.h"
#include "ctl_regions.h"

static char g_file[64];

static void write_file(const char *text)
{
    snprintf(g_file, sizeof(g_file), "/tmp/ctl_config_XXXXXX");
    int fd = mkstemp(g_file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_defaults_and_flags_over_file(void **state)
{
    (void)state;
    ctl_config_t c;
    ctl_config_defaults(&c);
    assert_int_equal(c.port, 8000);
    assert_string_equal(c.listen, "127.0.0.1");
    assert_int_equal(c.solve_period_ms, 5000);
    assert_int_equal(c.debounce_quiet_ms, 1000);
    assert_int_equal(c.debounce_max_ms, 10000);
    assert_int_equal(c.debounce_max_changes, 1000);
    write_file("# a comment\n  port = 9100  \nmax-shift=0.25 # trailing comment\n\nrole = cluster\n"
               "region = us-west-1\nupstream = http://g:8000\n");
    char *argv[] = {"slate-controller", "--port", "9200", "--config", g_file, "--threads=3", NULL};
    char err[256] = "";
    assert_int_equal(ctl_config_parse_args(&c, 6, argv, err, sizeof(err)), 0);
    assert_int_equal(c.port, 9200); /* the flag wins over the file */
    assert_int_equal(c.threads, 3);
    assert_true(c.max_shift == 0.25);
    assert_int_equal(c.role, CTL_ROLE_CLUSTER);
    assert_string_equal(c.region, "us-west-1");
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), 0);
    unlink(g_file);
}

static void test_errors(void **state)
{
    (void)state;
    ctl_config_t c;
    ctl_config_defaults(&c);
    char err[256];
    assert_int_equal(ctl_config_set(&c, "port", "70000", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "outside"));
    assert_int_equal(ctl_config_set(&c, "port", "-1", err, sizeof(err)), -1);
    assert_int_equal(ctl_config_set(&c, "port", "12x", err, sizeof(err)), -1);
    assert_int_equal(ctl_config_set(&c, "max-shift", "1.5", err, sizeof(err)), -1);
    assert_int_equal(ctl_config_set(&c, "max-shift", "nan", err, sizeof(err)), -1);
    assert_int_equal(ctl_config_set(&c, "routing", "magic", err, sizeof(err)), -1);
    assert_int_equal(ctl_config_set(&c, "no-such", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown option 'no-such'"));
    assert_int_equal(c.port, 8000); /* failures change nothing */
    write_file("port = 1\nbogus line\n");
    assert_int_equal(ctl_config_load_file(&c, g_file, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: expected 'key = value'"));
    unlink(g_file);
    ctl_config_defaults(&c);
    c.role = CTL_ROLE_CLUSTER;
    assert_int_equal(ctl_config_validate(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--upstream"));
    char *argv[] = {"slate-controller", "--port", NULL};
    assert_int_equal(ctl_config_parse_args(&c, 2, argv, err, sizeof(err)), -1);
}

static void test_regions(void **state)
{
    (void)state;
    static ctl_regions_file_t f;
    char err[256];
    const char *text = "region a\nregion b # second\nrtt a b 5\nprice b a 2e-9\nlink a c 70 1e-9\n"
                       "capacity frontend c 800\n";
    assert_int_equal(ctl_regions_parse(text, strlen(text), "t", &f, err, sizeof(err)), 0);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.names[2], "c"); /* declared by the link line */
    assert_true(f.rtt_ms[0][1] == 5 && f.rtt_ms[1][0] == 0);
    assert_true(f.price[1][0] == 2e-9 && f.price[0][1] == 0);
    assert_true(f.rtt_ms[0][2] == 70 && f.rtt_ms[2][0] == 70 && f.price[2][0] == 1e-9);
    assert_int_equal(f.n_caps, 1);
    assert_string_equal(f.caps[0].service, "frontend");
    assert_true(f.caps[0].rps == 800);
    ctl_regions_free(&f);
    assert_null(f.caps);
    const char *bad[] = {"region a\nrtt a b -1\n", "region\n", "rtt a b x\n", "teleport a b 1\n",
                         "link a b 1\n"};
    const char *where[] = {"t:2:", "t:1:", "t:1:", "t:1:", "t:1:"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(ctl_regions_parse(bad[i], strlen(bad[i]), "t", &f, err, sizeof(err)), -1);
        assert_non_null(strstr(err, where[i]));
    }
    /* more regions than slots */
    char many[4096];
    size_t o = 0;
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "region r%d\n", i);
    assert_int_equal(ctl_regions_parse(many, o, "t", &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "t:33: more than 32 regions"));
}

/* A mesh's worth of capacity lines (1,000 services in 16 regions) loads;
 * one line past CTL_MAX_CAPACITY_LINES is refused, naming its line, and
 * leaves nothing allocated. */
static void test_regions_file_capacity_lines(void **state)
{
    (void)state;
    static ctl_regions_file_t f;
    char err[256];
    size_t cap = (size_t)(CTL_MAX_CAPACITY_LINES + 1) * 40, o = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int s = 0; s < 1000; s++)
        for (int r = 0; r < 16; r++)
            o += (size_t)snprintf(text + o, cap - o, "capacity svc%d r%d %d\n", s, r, 100 + s);
    assert_int_equal(ctl_regions_parse(text, o, "t", &f, err, sizeof(err)), 0);
    assert_int_equal(f.n, 16);
    assert_int_equal(f.n_caps, 16000);
    assert_string_equal(f.caps[15999].service, "svc999");
    assert_string_equal(f.caps[15999].region, "r15");
    assert_true(f.caps[15999].rps == 1099);
    ctl_regions_free(&f);
    o = 0;
    for (uint32_t i = 0; i <= CTL_MAX_CAPACITY_LINES; i++)
        o += (size_t)snprintf(text + o, cap - o, "capacity s%u r%u 1\n", i, i % 8);
    assert_int_equal(ctl_regions_parse(text, o, "t", &f, err, sizeof(err)), -1);
    char want[64];
    snprintf(want, sizeof want, "t:%u: more than %u capacity lines", CTL_MAX_CAPACITY_LINES + 1,
             CTL_MAX_CAPACITY_LINES);
    assert_non_null(strstr(err, want));
    assert_int_equal(f.n_caps, 0);
    assert_null(f.caps);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_flags_over_file),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_regions),
        cmocka_unit_test(test_regions_file_capacity_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
