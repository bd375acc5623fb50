/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The wasm modules' allocator: malloc, free, calloc and realloc over wasm
 * linear memory, replacing wasi-libc's dlmalloc (about 12 KiB of code) to keep
 * the module within its size budget.
 *
 * Design: segregated size classes with one free list each, fed by a bump
 * pointer that grows the memory with memory.grow. The classes are 32, 48 and
 * 64 bytes, then four per doubling (80, 96, 112, 128, 160, ...), so a block
 * wastes at most a fifth of itself (a third below 64 bytes): a worker's
 * endpoint records (about 700 bytes with their rate buckets) take 768-byte
 * blocks, not 1 KiB. A block is a 16-byte header (its class, and its size:
 * below) followed by the caller's bytes, so every pointer is 16-byte aligned
 * (max_align_t on wasm32). Freed blocks go back to their class's list and
 * are reused by allocations of the same class; memory is never returned to
 * the host (wasm memory cannot shrink). The data plane's allocations are few
 * and recur in the same sizes (header maps, queue items, report buffers). A
 * VM is single-threaded, so no locking.
 *
 * So that a table that grows (histogram windows, span and stream arrays)
 * does not leave its old blocks unused: an allocation whose class has no
 * free block takes the smallest larger free block and puts what it does not
 * use back as a block of its own; before the memory grows, free blocks next
 * to each other are merged (defrag(): the header keeps each block's size,
 * so the heap can be walked); and realloc of the block last cut from the
 * bump pointer grows it in place. The lists' order is unchanged, so an allocation that
 * recurs in one size costs what it did. The reporter, whose allocations
 * recur in the same sizes, is built without this (SW_BUILD_REPORTER: its
 * module is at its size budget).
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

#define HDR 16u
/* Class c holds blocks of (5 + (c & 3)) << ((c >> 2) - 2) bytes: in the
 * doubling (2^k, 2^(k+1)] with k = c >> 2, the (c & 3) + 1-th quarter. Every
 * size used is a multiple of 16, the largest 2^31 (class 123). */
#define MAX_BLOCK ((size_t)1 << 31)
#define N_CLASSES 124u

static void *free_list[N_CLASSES];
static uintptr_t heap_lo, heap_at, heap_end;

static size_t class_size(unsigned c)
{
    return (size_t)(5u + (c & 3u)) << ((c >> 2) - 2u);
}

/* The smallest class whose blocks hold n bytes (17 <= n <= MAX_BLOCK). */
static inline __attribute__((always_inline)) unsigned class_of(size_t n)
{
    if (n <= 32)
        return (4u << 2) | 3u; /* 32 */
    if (n <= 48)
        return (5u << 2) | 1u; /* 48 */
    if (n <= 64)
        return (5u << 2) | 3u; /* 64 */
    unsigned k = 6;
    while (((size_t)1 << (k + 1)) < n)
        k++;
    size_t step = (size_t)1 << (k - 2);
    unsigned q = (unsigned)((n - ((size_t)1 << k) + step - 1) / step); /* 1..4 */
    return (k << 2) | (q - 1u);
}

static unsigned char *grab(size_t size)
{
    if (!heap_at) {
        heap_lo = heap_at = (HEAP_BASE + (HDR - 1)) & ~(uintptr_t)(HDR - 1);
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

#if !defined(SW_BUILD_REPORTER)
#define SW_ALLOC_REUSE 1
#endif

static void push(unsigned char *b, unsigned c)
{
    memcpy(b + HDR, &free_list[c], sizeof(void *));
    free_list[c] = b;
}

#ifdef SW_ALLOC_REUSE
/* A block's header: its class, a mark set only while defrag() runs on the
 * free blocks, and its size in bytes, header included (at least its class's
 * size: a split's or a merge's remainder stays with the block), so the heap
 * can be walked block by block from heap_lo to heap_at. */
#define H_MARK    4u
#define H_SIZE    8u
#define FREE_MARK 0x65657266u

static uint32_t hget(const unsigned char *b, unsigned off)
{
    uint32_t v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

static void hset(unsigned char *b, unsigned c, uint32_t size)
{
    uint32_t z = 0;
    memcpy(b, &c, sizeof c);
    memcpy(b + H_MARK, &z, sizeof z);
    memcpy(b + H_SIZE, &size, sizeof size);
}

/* The largest class whose blocks fit in n bytes (a multiple of 16, >= 32). */
static unsigned class_within(size_t n)
{
    unsigned c = class_of(n);
    while (class_size(c) > n || c == 20u || c == 22u) /* 40 and 56: not multiples of 16 */
        c--;
    return c;
}

/* A block of class c cut from the smallest larger free block, the rest
 * freed as a block of its own; NULL when there is none. Runs only when c's
 * list is empty. */
static unsigned char *split(unsigned c)
{
    for (unsigned k = c + 1; k < N_CLASSES; k++) {
        unsigned char *b = free_list[k];
        if (!b)
            continue;
        memcpy(&free_list[k], b + HDR, sizeof(void *));
        size_t size = hget(b, H_SIZE), rest = size - class_size(c);
        if (rest >= 32u) {
            unsigned rc = class_within(rest);
            hset(b + class_size(c), rc, (uint32_t)rest);
            push(b + class_size(c), rc);
            size = class_size(c);
        }
        hset(b, c, (uint32_t)size);
        return b;
    }
    return NULL;
}

/* Merges free blocks that lie next to each other, and gives a free run that
 * ends at the bump pointer back to it; rebuilds the lists. Runs only before
 * the memory would grow, so its cost (one walk of the heap) is paid at most
 * once per 64 KiB page. Returns 1 when it merged anything. */
static int defrag(void)
{
    for (unsigned c = 0; c < N_CLASSES; c++)
        for (unsigned char *b = free_list[c]; b; memcpy(&b, b + HDR, sizeof b)) {
            uint32_t m = FREE_MARK;
            memcpy(b + H_MARK, &m, sizeof m);
        }
    memset(free_list, 0, sizeof free_list);
    int merged = 0;
    uintptr_t p = heap_lo;
    while (p < heap_at) {
        unsigned char *b = (unsigned char *)p;
        uint32_t size = hget(b, H_SIZE);
        if (size < 32u)
            break; /* cannot happen: every block has its size */
        if (hget(b, H_MARK) != FREE_MARK) {
            p += size;
            continue;
        }
        uintptr_t q = p + size;
        while (q < heap_at && hget((unsigned char *)q, H_MARK) == FREE_MARK) {
            uint32_t more = hget((unsigned char *)q, H_SIZE);
            memset((unsigned char *)q + H_MARK, 0, 4);
            size += more;
            q += more;
            merged = 1;
        }
        if (q == heap_at) { /* the end of the heap: back to the bump pointer */
            heap_at = p;
            return 1;
        }
        unsigned c = class_within(size);
        hset(b, c, size);
        push(b, c);
        p = q;
    }
    return merged;
}

/* A new block of class c: cut from a larger free one, else from the bump
 * pointer, merging free neighbours first when the memory would grow. */
static __attribute__((noinline)) unsigned char *fresh(unsigned c)
{
    unsigned char *b = split(c);
    if (!b && heap_at && (heap_end < heap_at || heap_end - heap_at < class_size(c)) && defrag()) {
        b = free_list[c];
        if (b)
            memcpy(&free_list[c], b + HDR, sizeof(void *));
        else
            b = split(c);
    }
    if (!b && (b = grab(class_size(c))) != NULL)
        hset(b, c, (uint32_t)class_size(c));
    return b;
}
#else
#define fresh(c) grab(class_size(c))
#endif

void *malloc(size_t n)
{
    if (n > MAX_BLOCK - HDR)
        return NULL;
    unsigned c = class_of(n + HDR);
    unsigned char *b = free_list[c];
    if (b) {
        memcpy(&free_list[c], b + HDR, sizeof(void *));
    } else {
        b = fresh(c);
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
    push(b, c);
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
    size_t have = class_size(c) - HDR;
    if (n <= have)
        return p;
#ifdef SW_ALLOC_REUSE
    unsigned char *b = (unsigned char *)p - HDR;
    size_t size = hget(b, H_SIZE);
    if ((uintptr_t)b + size == heap_at && n <= MAX_BLOCK - HDR) {
        /* the last block cut: grow it in place */
        unsigned nc = class_of(n + HDR);
        size_t nsize = class_size(nc) > size ? class_size(nc) : size;
        if (grab(nsize - size)) {
            hset(b, nc, (uint32_t)nsize);
            return p;
        }
    }
#endif
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, have);
    free(p);
    return q;
}

#endif /* __wasm__ || SW_ALLOC_NATIVE */
