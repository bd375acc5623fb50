/*
 * Tests of durable files: round trip, atomic replacement, and detection of
 * torn, foreign, damaged or mislabelled files.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_persist.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/ctl_persist_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", g_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(g_dir);
    return 0;
}

static void write_raw(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void test_round_trip_and_replace(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/rules.bin", g_dir);
    void *p;
    size_t n;
    assert_int_equal(ctl_persist_load(path, 7, 1024, &p, &n), CTL_PERSIST_ENOENT);
    assert_int_equal(ctl_persist_save(path, 7, "hello", 5), CTL_PERSIST_OK);
    assert_int_equal(ctl_persist_load(path, 7, 1024, &p, &n), CTL_PERSIST_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "hello", 5);
    free(p);
    assert_int_equal(ctl_persist_save(path, 7, "second version", 14), CTL_PERSIST_OK);
    assert_int_equal(ctl_persist_load(path, 7, 1024, &p, &n), CTL_PERSIST_OK);
    assert_int_equal(n, 14);
    assert_memory_equal(p, "second version", 14);
    free(p);
    /* empty payloads are fine */
    assert_int_equal(ctl_persist_save(path, 7, "", 0), CTL_PERSIST_OK);
    assert_int_equal(ctl_persist_load(path, 7, 1024, &p, &n), CTL_PERSIST_OK);
    assert_int_equal(n, 0);
    free(p);
    /* no temporary file is left behind */
    DIR *d = opendir(g_dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            files++;
    closedir(d);
    assert_int_equal(files, 1);
}

static void test_bad_files(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/bad.bin", g_dir);
    uint8_t frame[CTL_PERSIST_HEADER + 8];
    ctl_persist_frame(frame, 3, "abcdefgh", 8);
    void *p;
    size_t n;

    write_raw(path, frame, sizeof(frame));
    assert_int_equal(ctl_persist_load(path, 3, 1024, &p, &n), CTL_PERSIST_OK);
    free(p);
    /* wrong kind */
    assert_int_equal(ctl_persist_load(path, 4, 1024, &p, &n), CTL_PERSIST_EKIND);
    /* over the caller's limit */
    assert_int_equal(ctl_persist_load(path, 3, 4, &p, &n), CTL_PERSIST_ESIZE);
    /* torn: every truncation is detected */
    for (size_t cut = 0; cut < sizeof(frame); cut++) {
        write_raw(path, frame, cut);
        ctl_persist_err e = ctl_persist_load(path, 3, 1024, &p, &n);
        assert_int_not_equal(e, CTL_PERSIST_OK);
        assert_null(p);
    }
    /* every single-bit flip is detected */
    for (size_t i = 0; i < sizeof(frame); i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t copy[sizeof(frame)];
            memcpy(copy, frame, sizeof(frame));
            copy[i] ^= (uint8_t)(1u << bit);
            const uint8_t *pp;
            size_t nn;
            assert_int_not_equal(ctl_persist_unframe(copy, sizeof(copy), 3, &pp, &nn),
                                 CTL_PERSIST_OK);
        }
    }
    /* a foreign file */
    write_raw(path, "{\"not\": \"ours\"} and some more bytes here", 40);
    assert_int_equal(ctl_persist_load(path, 3, 1024, &p, &n), CTL_PERSIST_EMAGIC);
    /* a future version */
    memcpy(frame + 8, "\x02\x00\x00\x00", 4);
    write_raw(path, frame, sizeof(frame));
    assert_int_equal(ctl_persist_load(path, 3, 1024, &p, &n), CTL_PERSIST_EVERSION);
}

static void test_unwritable_directory(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/no/such/dir/f.bin", g_dir);
    assert_int_equal(ctl_persist_save(path, 1, "x", 1), CTL_PERSIST_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_replace),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_unwritable_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
