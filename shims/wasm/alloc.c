/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The wasm modules' allocator: malloc, free, calloc and realloc over wasm
 * linear memory, replacing wasi-libc's dlmalloc (about 12 KiB of code) to keep
 * the module within its size budget.
 *
 * Design: segregated power-of-two size classes with one free list each, fed by
 * a bump pointer that grows the memory with memory.grow. A block is a 16-byte
 * header (its class) followed by the caller's bytes, so every pointer is
 * 16-byte aligned (max_align_t on wasm32). Freed blocks go back to their
 * class's list and are reused by allocations of the same class; memory is
 * never returned to the host (wasm memory cannot shrink). The data plane's
 * allocations are few and recur in the same sizes (header maps, queue items,
 * report buffers), so the waste of rounding up is bounded by half of the live
 * memory. A VM is single-threaded, so no locking.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__wasm__) || defined(SW_ALLOC_NATIVE)

/* Linear memory. SW_ALLOC_NATIVE (the native build of bench/wasm_native,
 * which renames malloc & co. for the module's sources) runs the same
 * allocator over a static arena standing for it, so that instruction counts
 * include this allocator rather than the C library's. */
#if defined(__wasm__)
extern unsigned char __heap_base;
#define MEM_BASE    ((uintptr_t)0)
#define HEAP_BASE   ((uintptr_t)&__heap_base)
#define MEM_PAGES() ((size_t)__builtin_wasm_memory_size(0))
#define MEM_GROW(n) __builtin_wasm_memory_grow(0, (n))
#else
static unsigned char arena[256u * 65536u] __attribute__((aligned(16)));
static size_t arena_pages = 1;
static size_t arena_grow(size_t n)
{
    if (n > sizeof arena / 65536u - arena_pages)
        return (size_t)-1;
    size_t old = arena_pages;
    arena_pages += n;
    return old;
}
#define MEM_BASE    ((uintptr_t)arena)
#define HEAP_BASE   ((uintptr_t)arena)
#define MEM_PAGES() arena_pages
#define MEM_GROW(n) arena_grow(n)
#endif

void *malloc(size_t n);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

#define HDR       16u
#define MIN_CLASS 5u  /* 32-byte blocks */
#define MAX_CLASS 31u /* 2 GiB blocks */

static void *free_list[MAX_CLASS + 1];
static uintptr_t heap_at, heap_end;

static unsigned class_of(size_t n)
{
    unsigned c = MIN_CLASS;
    while (c <= MAX_CLASS && ((size_t)1 << c) < n)
        c++;
    return c;
}

static unsigned char *grab(size_t size)
{
    if (!heap_at) {
        heap_at = (HEAP_BASE + (HDR - 1)) & ~(uintptr_t)(HDR - 1);
        heap_end = MEM_BASE + MEM_PAGES() * 65536u;
    }
    if (heap_end < heap_at || heap_end - heap_at < size) {
        size_t need = size - (heap_end > heap_at ? heap_end - heap_at : 0);
        size_t pages = (need + 65535u) / 65536u;
        if (MEM_GROW(pages) == (size_t)-1)
            return NULL;
        heap_end += pages * 65536u;
    }
    unsigned char *b = (unsigned char *)heap_at;
    heap_at += size;
    return b;
}

void *malloc(size_t n)
{
    if (n > ((size_t)1 << MAX_CLASS) - HDR)
        return NULL;
    unsigned c = class_of(n + HDR);
    unsigned char *b = free_list[c];
    if (b) {
        memcpy(&free_list[c], b + HDR, sizeof(void *));
    } else {
        b = grab((size_t)1 << c);
        if (!b)
            return NULL;
        memcpy(b, &c, sizeof c);
    }
    return b + HDR;
}

void free(void *p)
{
    if (!p)
        return;
    unsigned char *b = (unsigned char *)p - HDR;
    unsigned c;
    memcpy(&c, b, sizeof c);
    memcpy(b + HDR, &free_list[c], sizeof(void *));
    free_list[c] = b;
}

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    unsigned c;
    memcpy(&c, (unsigned char *)p - HDR, sizeof c);
    size_t have = ((size_t)1 << c) - HDR;
    if (n <= have)
        return p;
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, have);
    free(p);
    return q;
}

#endif /* __wasm__ || SW_ALLOC_NATIVE */
