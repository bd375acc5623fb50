/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the wasm modules' allocator (shims/wasm/alloc.c), built natively
 * over its static arena (SW_ALLOC_NATIVE) with malloc & co. renamed: size
 * classes, alignment, reuse, realloc, calloc and exhaustion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#define SW_ALLOC_NATIVE 1
#define malloc          sw_native_malloc
#define free            sw_native_free
#define calloc          sw_native_calloc
#define realloc         sw_native_realloc
#include "../shims/wasm/alloc.c"
#undef malloc
#undef free
#undef calloc
#undef realloc

static size_t block_of(const void *p)
{
    unsigned c;
    memcpy(&c, (const unsigned char *)p - HDR, sizeof c);
    return class_size(c);
}

static void test_classes(void **state)
{
    (void)state;
    size_t prev = 0;
    for (size_t n = 17; n <= ((size_t)1 << 22); n = n < 4096 ? n + 1 : n + n / 7) {
        unsigned c = class_of(n);
        size_t size = class_size(c);
        assert_true(size >= n);
        assert_true(size % 16 == 0);
        /* the smallest class that fits: at most a fifth wasted above 64 bytes */
        if (n > 64)
            assert_true(size - n < size / 5 + 16);
        assert_true(size >= prev);
        prev = size;
    }
    assert_int_equal(class_size(class_of((size_t)1 << 31)), (size_t)1 << 31);
    assert_true(class_of((size_t)1 << 31) < N_CLASSES);
}

static void test_alignment_and_no_overlap(void **state)
{
    (void)state;
    enum { N = 300 };
    unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(1 + i * 37 % 9000);
        p[i] = sw_native_malloc(n);
        assert_non_null(p[i]);
        assert_true((uintptr_t)p[i] % 16 == 0);
        assert_true(block_of(p[i]) >= n + HDR);
        memset(p[i], i & 0xff, n);
    }
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(1 + i * 37 % 9000);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(p[i][k], i & 0xff);
        sw_native_free(p[i]);
    }
}

static void test_reuse_realloc_calloc(void **state)
{
    (void)state;
    void *a = sw_native_malloc(5000);
    assert_non_null(a);
    sw_native_free(a);
    void *b = sw_native_malloc(4900); /* same class: the freed block again */
    assert_ptr_equal(a, b);
    memset(b, 0x5a, 4900);
    void *c = sw_native_realloc(b, 5000); /* still fits its block */
    assert_ptr_equal(c, b);
    unsigned char *d = sw_native_realloc(c, 20000);
    assert_non_null(d);
    for (size_t k = 0; k < 4900; k++)
        assert_int_equal(d[k], 0x5a);
    sw_native_free(d);
    unsigned char *z = sw_native_calloc(100, 33);
    assert_non_null(z);
    for (size_t k = 0; k < 3300; k++)
        assert_int_equal(z[k], 0);
    sw_native_free(z);
    assert_null(sw_native_calloc(SIZE_MAX / 2, 4));
    sw_native_free(NULL);
    void *m = sw_native_realloc(NULL, 10);
    assert_non_null(m);
    sw_native_free(m);
}

static void test_exhaustion(void **state)
{
    (void)state;
    assert_null(sw_native_malloc(MAX_BLOCK));
    assert_null(sw_native_malloc(sizeof arena)); /* more than the arena holds */
    void *p = sw_native_malloc(100);             /* and it still serves */
    assert_non_null(p);
    sw_native_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_reuse_realloc_calloc),
        cmocka_unit_test(test_exhaustion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
