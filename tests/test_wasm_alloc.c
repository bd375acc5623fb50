/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the wasm modules' allocator (shims/wasm/alloc.c), built natively
 * over its static arena (SW_ALLOC_NATIVE) with malloc & co. renamed: size
 * classes, alignment, reuse, realloc, calloc, exhaustion, and the merging of
 * free neighbours under random use.
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

/* The heap is a sequence of blocks whose sizes add up to it. */
static void check_walk(void)
{
    uintptr_t p = heap_lo;
    while (p < heap_at) {
        uint32_t size = hget((unsigned char *)p, H_SIZE);
        assert_true(size >= 32u && size % 16u == 0);
        unsigned c;
        memcpy(&c, (unsigned char *)p, sizeof c);
        assert_true(c < N_CLASSES && class_size(c) <= size);
        p += size;
    }
    assert_true(p == heap_at);
}

static uint64_t xs(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random mallocs, frees and reallocs, some large enough to make the heap
 * grow (and so merge free neighbours): every block keeps its bytes, is
 * aligned, and the heap stays walkable. */
static void test_random_with_merging(void **state)
{
    (void)state;
    enum { N = 400 };
    unsigned char *p[N] = {0};
    size_t len[N] = {0};
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int it = 0; it < 60000; it++) {
        int i = (int)(xs(&x) % N);
        if (p[i]) {
            for (size_t k = 0; k < len[i]; k += 97)
                assert_int_equal(p[i][k], (unsigned char)(i * 31 + len[i]));
            if (xs(&x) % 3 == 0) {
                size_t n = 1 + xs(&x) % (xs(&x) % 50 ? 3000 : 90000);
                unsigned char *q = sw_native_realloc(p[i], n);
                assert_non_null(q);
                size_t keep = n < len[i] ? n : len[i];
                for (size_t k = 0; k < keep; k += 97)
                    assert_int_equal(q[k], (unsigned char)(i * 31 + len[i]));
                p[i] = q;
                len[i] = n;
                memset(q, (unsigned char)(i * 31 + n), n);
            } else {
                sw_native_free(p[i]);
                p[i] = NULL;
            }
        } else {
            size_t n = 1 + xs(&x) % (xs(&x) % 50 ? 3000 : 90000);
            p[i] = sw_native_malloc(n);
            assert_non_null(p[i]);
            assert_true((uintptr_t)p[i] % 16 == 0);
            len[i] = n;
            memset(p[i], (unsigned char)(i * 31 + n), n);
        }
        if (it % 5000 == 0)
            check_walk();
    }
    for (int i = 0; i < N; i++)
        sw_native_free(p[i]);
    check_walk();
}

/* Free neighbours are merged before the memory grows: a block larger than
 * any free one is cut from merged ones instead of from new memory. */
static void test_merge_before_growing(void **state)
{
    (void)state;
    enum { N = 64 };
    void *p[N];
    for (int i = 0; i < N; i++)
        assert_non_null(p[i] = sw_native_malloc(1000));
    void *keep = sw_native_malloc(100); /* so the run does not end the heap */
    assert_non_null(keep);
    for (int i = 0; i < N; i++)
        sw_native_free(p[i]);
    /* use up what is left before the end of the current memory */
    while (heap_end - heap_at >= 8u * 1024u)
        assert_non_null(sw_native_malloc(4000));
    uintptr_t top = heap_at;
    void *big = sw_native_malloc(40000); /* 64 x 1 KiB blocks merged hold it */
    assert_non_null(big);
    assert_true(heap_at == top);
    assert_true((uintptr_t)big < top);
    check_walk();
    sw_native_free(big);
    sw_native_free(keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_reuse_realloc_calloc),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_random_with_merging),
        cmocka_unit_test(test_merge_before_growing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
