/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Rate estimator: a ring of per-tick 32-bit counters behind a fixed header,
 * all in caller memory. The semantics are specified in include/slate/rate.h;
 * this file follows it case by case.
 *
 * Every field is read and written through the little-endian helpers below, so
 * the bytes of a region mean the same on every host (they compile to plain
 * loads and stores on little-endian machines, including wasm32).
 */
#include "slate/rate.h"
#include "wire.h"

#include <string.h>

/* The header, for documentation and layout checks only; the code uses offsets. */
struct slate_rate_header {
    uint32_t magic;
    uint16_t version;
    uint16_t header_size;
    uint32_t nbuckets;
    uint32_t head_slot;
    uint64_t resolution_ns;
    uint64_t window_ns;
    uint64_t max_backjump_ns;
    uint64_t region_size;
    uint64_t head;
    uint64_t total;
    uint64_t late;
    uint64_t resets;
    uint64_t saturated;
    uint64_t reserved;
};

enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_HEADER_SIZE = 6,
    OFF_NBUCKETS = 8,
    OFF_HEAD_SLOT = 12,
    OFF_RESOLUTION = 16,
    OFF_WINDOW = 24,
    OFF_BACKJUMP = 32,
    OFF_REGION_SIZE = 40,
    OFF_HEAD = 48,
    OFF_TOTAL = 56,
    OFF_LATE = 64,
    OFF_RESETS = 72,
    OFF_SATURATED = 80,
    OFF_RESERVED = 88,
    OFF_BUCKETS = 96
};

#define HDR_OFF(f) offsetof(struct slate_rate_header, f)
_Static_assert(HDR_OFF(magic) == OFF_MAGIC, "layout");
_Static_assert(HDR_OFF(version) == OFF_VERSION, "layout");
_Static_assert(HDR_OFF(header_size) == OFF_HEADER_SIZE, "layout");
_Static_assert(HDR_OFF(nbuckets) == OFF_NBUCKETS, "layout");
_Static_assert(HDR_OFF(head_slot) == OFF_HEAD_SLOT, "layout");
_Static_assert(HDR_OFF(resolution_ns) == OFF_RESOLUTION, "layout");
_Static_assert(HDR_OFF(window_ns) == OFF_WINDOW, "layout");
_Static_assert(HDR_OFF(max_backjump_ns) == OFF_BACKJUMP, "layout");
_Static_assert(HDR_OFF(region_size) == OFF_REGION_SIZE, "layout");
_Static_assert(HDR_OFF(head) == OFF_HEAD, "layout");
_Static_assert(HDR_OFF(total) == OFF_TOTAL, "layout");
_Static_assert(HDR_OFF(late) == OFF_LATE, "layout");
_Static_assert(HDR_OFF(resets) == OFF_RESETS, "layout");
_Static_assert(HDR_OFF(saturated) == OFF_SATURATED, "layout");
_Static_assert(HDR_OFF(reserved) == OFF_RESERVED, "layout");
_Static_assert(sizeof(struct slate_rate_header) == SLATE_RATE_HEADER_SIZE, "layout");
_Static_assert(SLATE_RATE_HEADER_SIZE == OFF_BUCKETS, "buckets follow the header");
_Static_assert(OFF_BUCKETS % SLATE_RATE_ALIGN == 0, "buckets start aligned");
_Static_assert((uint64_t)OFF_BUCKETS + 4ull * SLATE_RATE_MAX_BUCKETS + 4 <= SIZE_MAX,
               "the largest region fits in size_t");
/* The total is the sum of at most MAX_BUCKETS saturating u32 buckets: it cannot overflow. */
_Static_assert((uint64_t)SLATE_RATE_MAX_BUCKETS <= UINT64_MAX / UINT32_MAX, "total fits in u64");

static inline uint64_t sat_add64(uint64_t a, uint64_t b)
{
    uint64_t s = a + b;
    return s < a ? UINT64_MAX : s;
}

/* Bucket i of region p. */
static inline unsigned char *bucket_at(unsigned char *p, uint32_t i)
{
    return p + OFF_BUCKETS + 4u * (size_t)i;
}
static inline const unsigned char *cbucket_at(const unsigned char *p, uint32_t i)
{
    return p + OFF_BUCKETS + 4u * (size_t)i;
}

/* The region size for n buckets: header + 4n, padded to a multiple of 8. */
static size_t region_size(uint32_t n)
{
    size_t s = (size_t)OFF_BUCKETS + 4u * (size_t)n;
    return (s + 7u) & ~(size_t)7u;
}

slate_rate_params_t slate_rate_params_default(void)
{
    slate_rate_params_t p = {SLATE_RATE_DEFAULT_WINDOW_NS, SLATE_RATE_DEFAULT_RESOLUTION_NS,
                             SLATE_RATE_DEFAULT_MAX_BACKJUMP_NS};
    return p;
}

slate_status slate_rate_check_params(const slate_rate_params_t *params)
{
    if (!params)
        return SLATE_EINVAL;
    uint64_t res = params->resolution_ns, win = params->window_ns;
    if (res == 0 || win == 0 || win % res != 0 || win / res > SLATE_RATE_MAX_BUCKETS)
        return SLATE_ERANGE;
    if (params->max_backjump_ns < win)
        return SLATE_ERANGE;
    return SLATE_OK;
}

size_t slate_rate_size(const slate_rate_params_t *params)
{
    slate_rate_params_t d = slate_rate_params_default();
    if (!params)
        params = &d;
    if (slate_rate_check_params(params) != SLATE_OK)
        return 0;
    return region_size((uint32_t)(params->window_ns / params->resolution_ns));
}

slate_status slate_rate_init(void *mem, size_t len, const slate_rate_params_t *params)
{
    slate_rate_params_t d = slate_rate_params_default();
    if (!params)
        params = &d;
    if (!mem)
        return SLATE_EINVAL;
    if ((uintptr_t)mem % SLATE_RATE_ALIGN != 0)
        return SLATE_EALIGN;
    slate_status st = slate_rate_check_params(params);
    if (st != SLATE_OK)
        return st;
    uint32_t n = (uint32_t)(params->window_ns / params->resolution_ns);
    size_t size = region_size(n);
    if (len < size)
        return SLATE_ENOSPC;
    unsigned char *p = mem;
    memset(p, 0, size);
    slate_wire_put_le32(p + OFF_MAGIC, SLATE_RATE_MAGIC);
    slate_wire_put_le16(p + OFF_VERSION, SLATE_RATE_VERSION);
    slate_wire_put_le16(p + OFF_HEADER_SIZE, SLATE_RATE_HEADER_SIZE);
    slate_wire_put_le32(p + OFF_NBUCKETS, n);
    slate_wire_put_le32(p + OFF_HEAD_SLOT, 0);
    slate_wire_put_le64(p + OFF_RESOLUTION, params->resolution_ns);
    slate_wire_put_le64(p + OFF_WINDOW, params->window_ns);
    slate_wire_put_le64(p + OFF_BACKJUMP, params->max_backjump_ns);
    slate_wire_put_le64(p + OFF_REGION_SIZE, size);
    return SLATE_OK;
}

slate_status slate_rate_validate(const void *mem, size_t len)
{
    if (!mem)
        return SLATE_EINVAL;
    if ((uintptr_t)mem % SLATE_RATE_ALIGN != 0)
        return SLATE_EALIGN;
    if (len < SLATE_RATE_HEADER_SIZE)
        return SLATE_ENOSPC;
    const unsigned char *p = mem;
    if (slate_wire_get_le32(p + OFF_MAGIC) != SLATE_RATE_MAGIC)
        return SLATE_EBADMAGIC;
    if (slate_wire_get_le16(p + OFF_VERSION) != SLATE_RATE_VERSION)
        return SLATE_EBADVERSION;
    if (slate_wire_get_le16(p + OFF_HEADER_SIZE) != SLATE_RATE_HEADER_SIZE)
        return SLATE_EBADSIZE;
    uint32_t n = slate_wire_get_le32(p + OFF_NBUCKETS);
    slate_rate_params_t params = {slate_wire_get_le64(p + OFF_WINDOW),
                                  slate_wire_get_le64(p + OFF_RESOLUTION),
                                  slate_wire_get_le64(p + OFF_BACKJUMP)};
    if (n == 0 || slate_rate_check_params(&params) != SLATE_OK ||
        params.window_ns / params.resolution_ns != n)
        return SLATE_EBADSIZE;
    uint64_t size = slate_wire_get_le64(p + OFF_REGION_SIZE);
    if (size != region_size(n) || size > len)
        return SLATE_EBADSIZE;
    /* The layout is consistent and inside len; now the contents. */
    uint64_t head = slate_wire_get_le64(p + OFF_HEAD);
    if (head > UINT64_MAX / params.resolution_ns)
        return SLATE_ECORRUPT; /* no time t gives this tick */
    uint32_t hs = slate_wire_get_le32(p + OFF_HEAD_SLOT);
    if (hs != head % n)
        return SLATE_ECORRUPT;
    if (slate_wire_get_le64(p + OFF_RESERVED) != 0)
        return SLATE_ECORRUPT;
    for (size_t i = OFF_BUCKETS + 4u * (size_t)n; i < size; i++)
        if (p[i] != 0)
            return SLATE_ECORRUPT;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = slate_wire_get_le32(cbucket_at(p, i));
        /* While H < N - 1, buckets H+1 .. N-1 stand for ticks before 0. */
        if (b != 0 && head < n - 1u && i > head)
            return SLATE_ECORRUPT;
        sum += b;
    }
    if (sum != slate_wire_get_le64(p + OFF_TOTAL))
        return SLATE_ECORRUPT;
    return SLATE_OK;
}

/* Sum of buckets [from, from + n) (no wrap). Reads two buckets per 8-byte
 * load, four loads per step; the sum of both halves of a u64 does not depend
 * on byte order. */
static uint64_t sum_range(const unsigned char *p, uint32_t from, uint32_t n)
{
    const unsigned char *b = p + OFF_BUCKETS + 4u * (size_t)from;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x[4];
        memcpy(x, b + 4 * i, sizeof x);
        s0 += (x[0] & 0xffffffffu) + (x[0] >> 32);
        s1 += (x[1] & 0xffffffffu) + (x[1] >> 32);
        s2 += (x[2] & 0xffffffffu) + (x[2] >> 32);
        s3 += (x[3] & 0xffffffffu) + (x[3] >> 32);
    }
    for (; i < n; i++)
        s0 += slate_wire_get_le32(b + 4 * i);
    return s0 + s1 + s2 + s3;
}

/* Sum of the d < nb buckets after the head's, hs+1 .. hs+d mod nb: the ticks
 * that leave the window when the head moves forward by d. */
static uint64_t sum_after(const unsigned char *p, uint32_t nb, uint32_t hs, uint32_t d)
{
    uint32_t first = hs + 1u == nb ? 0u : hs + 1u;
    uint32_t run = nb - first < d ? nb - first : d;
    return sum_range(p, first, run) + sum_range(p, 0, d - run);
}

/*
 * Move the head forward to tick k > head, zeroing the buckets of ticks that
 * leave the window; stores the new head and head bucket (also in *new_hs) and
 * returns the new total, which the caller stores: keeping it in a register
 * saves a store-to-load round trip on the add path.
 */
static uint64_t advance(unsigned char *p, uint32_t n, uint64_t head, uint32_t hs, uint64_t k,
                        uint32_t *new_hs)
{
    uint64_t d = k - head;
    uint64_t total;
    if (d >= n) {
        memset(p + OFF_BUCKETS, 0, 4u * (size_t)n);
        total = 0;
        hs = (uint32_t)(k % n);
    } else if (d <= 8) {
        /* A few ticks (the usual case): step through them. */
        total = slate_wire_get_le64(p + OFF_TOTAL);
        for (uint32_t j = 0; j < (uint32_t)d; j++) {
            hs = hs + 1u == n ? 0u : hs + 1u;
            unsigned char *b = bucket_at(p, hs);
            total -= slate_wire_get_le32(b);
            slate_wire_put_le32(b, 0);
        }
    } else {
        /* Many ticks: at most two contiguous runs, summed and cleared in bulk. */
        uint32_t dd = (uint32_t)d;
        uint32_t first = hs + 1u == n ? 0u : hs + 1u;
        uint32_t run = n - first < dd ? n - first : dd;
        total = slate_wire_get_le64(p + OFF_TOTAL) - sum_after(p, n, hs, dd);
        memset(p + OFF_BUCKETS + 4u * (size_t)first, 0, 4u * (size_t)run);
        memset(p + OFF_BUCKETS, 0, 4u * (size_t)(dd - run));
        hs = hs + dd - (hs + dd >= n ? n : 0u); /* hs < n and dd < n: no overflow */
    }
    slate_wire_put_le64(p + OFF_HEAD, k);
    slate_wire_put_le32(p + OFF_HEAD_SLOT, hs);
    *new_hs = hs;
    return total;
}

/* Add n to bucket `slot`, saturating; returns SLATE_EOVERFLOW if some did not fit. */
static inline slate_status bucket_add(unsigned char *p, uint32_t slot, uint64_t n)
{
    unsigned char *b = bucket_at(p, slot);
    uint32_t v = slate_wire_get_le32(b);
    uint64_t room = UINT32_MAX - v;
    uint64_t put = n < room ? n : room;
    slate_wire_put_le32(b, v + (uint32_t)put);
    slate_wire_put_le64(p + OFF_TOTAL, slate_wire_get_le64(p + OFF_TOTAL) + put);
    if (put == n)
        return SLATE_OK;
    slate_wire_put_le64(p + OFF_SATURATED,
                        sat_add64(slate_wire_get_le64(p + OFF_SATURATED), n - put));
    return SLATE_EOVERFLOW;
}

/* Everything off the fast path of add: a tick other than the head's. */
static slate_status add_slow(unsigned char *p, uint64_t now_ns, uint64_t n)
{
    uint64_t res = slate_wire_get_le64(p + OFF_RESOLUTION);
    uint64_t head = slate_wire_get_le64(p + OFF_HEAD);
    uint32_t hs = slate_wire_get_le32(p + OFF_HEAD_SLOT);
    uint64_t start = head * res;
    uint32_t nb = slate_wire_get_le32(p + OFF_NBUCKETS);
    /* The next tick, also without a division (the common case below ~1 arrival per tick). */
    uint64_t k = now_ns >= start && now_ns - start - res < res ? head + 1 : now_ns / res;
    if (k > head) {
        /* The new head's bucket is empty: set it, and the total, in one go. */
        uint64_t total = advance(p, nb, head, hs, k, &hs);
        uint64_t put = n < UINT32_MAX ? n : UINT32_MAX;
        slate_wire_put_le32(bucket_at(p, hs), (uint32_t)put);
        slate_wire_put_le64(p + OFF_TOTAL, total + put);
        if (put == n)
            return SLATE_OK;
        slate_wire_put_le64(p + OFF_SATURATED,
                            sat_add64(slate_wire_get_le64(p + OFF_SATURATED), n - put));
        return SLATE_EOVERFLOW;
    }
    uint64_t lag = head - k;
    if (lag < nb) {
        uint32_t l = (uint32_t)lag;
        return bucket_add(p, hs >= l ? hs - l : hs + nb - l, n);
    }
    if (lag <= slate_wire_get_le64(p + OFF_BACKJUMP) / res) {
        slate_wire_put_le64(p + OFF_LATE, sat_add64(slate_wire_get_le64(p + OFF_LATE), n));
        return SLATE_ELATE;
    }
    /* A clock reset: forget everything and re-base at k. */
    memset(p + OFF_BUCKETS, 0, 4u * (size_t)nb);
    slate_wire_put_le64(p + OFF_TOTAL, 0);
    slate_wire_put_le64(p + OFF_HEAD, k);
    slate_wire_put_le32(p + OFF_HEAD_SLOT, (uint32_t)(k % nb));
    slate_wire_put_le64(p + OFF_RESETS, sat_add64(slate_wire_get_le64(p + OFF_RESETS), 1));
    return bucket_add(p, (uint32_t)(k % nb), n);
}

/* The head's own tick needs no division and no bookkeeping beyond the bucket. */
static inline slate_status add_impl(slate_rate_t *r, uint64_t now_ns, uint64_t n)
{
    unsigned char *p = (unsigned char *)r;
    if (!p)
        return SLATE_EINVAL;
    if (slate_wire_get_le32(p + OFF_MAGIC) != SLATE_RATE_MAGIC)
        return SLATE_EBADMAGIC;
    uint64_t res = slate_wire_get_le64(p + OFF_RESOLUTION);
    uint64_t start =
        slate_wire_get_le64(p + OFF_HEAD) * res; /* head <= UINT64_MAX / res (validated) */
    if (now_ns >= start && now_ns - start < res)
        return bucket_add(p, slate_wire_get_le32(p + OFF_HEAD_SLOT), n);
    return add_slow(p, now_ns, n);
}

slate_status slate_rate_add(slate_rate_t *r, uint64_t now_ns)
{
    return add_impl(r, now_ns, 1);
}

slate_status slate_rate_add_n(slate_rate_t *r, uint64_t now_ns, uint64_t n)
{
    return add_impl(r, now_ns, n);
}

/* The count of a region whose magic has been checked. */
static uint64_t count_at(const unsigned char *p, uint64_t now_ns)
{
    uint64_t res = slate_wire_get_le64(p + OFF_RESOLUTION);
    uint64_t head = slate_wire_get_le64(p + OFF_HEAD);
    uint64_t total = slate_wire_get_le64(p + OFF_TOTAL);
    uint64_t start = head * res;
    if (now_ns < start || now_ns - start < res)
        return total; /* at or behind the head: the count as of the head */
    uint32_t nb = slate_wire_get_le32(p + OFF_NBUCKETS);
    uint64_t d = now_ns / res - head;
    if (d >= nb)
        return 0;
    /* Subtract the ticks that will have left the window d ticks from now. */
    return total - sum_after(p, nb, slate_wire_get_le32(p + OFF_HEAD_SLOT), (uint32_t)d);
}

uint64_t slate_rate_count(const slate_rate_t *r, uint64_t now_ns)
{
    const unsigned char *p = (const unsigned char *)r;
    if (!p || slate_wire_get_le32(p + OFF_MAGIC) != SLATE_RATE_MAGIC)
        return 0;
    return count_at(p, now_ns);
}

double slate_rate_per_second(const slate_rate_t *r, uint64_t now_ns)
{
    const unsigned char *p = (const unsigned char *)r;
    if (!p || slate_wire_get_le32(p + OFF_MAGIC) != SLATE_RATE_MAGIC)
        return 0.0;
    return (double)count_at(p, now_ns) * (1e9 / (double)slate_wire_get_le64(p + OFF_WINDOW));
}

slate_status slate_rate_merge(slate_rate_t *dst, const slate_rate_t *src)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (!d || !s)
        return SLATE_EINVAL;
    if (slate_wire_get_le32(d + OFF_MAGIC) != SLATE_RATE_MAGIC ||
        slate_wire_get_le32(s + OFF_MAGIC) != SLATE_RATE_MAGIC)
        return SLATE_EBADMAGIC;
    uint32_t n = slate_wire_get_le32(d + OFF_NBUCKETS);
    if (n != slate_wire_get_le32(s + OFF_NBUCKETS) ||
        slate_wire_get_le64(d + OFF_RESOLUTION) != slate_wire_get_le64(s + OFF_RESOLUTION))
        return SLATE_EMISMATCH;
    /* Read everything of src first: dst may be src. */
    uint64_t hsrc = slate_wire_get_le64(s + OFF_HEAD);
    uint32_t ssrc = slate_wire_get_le32(s + OFF_HEAD_SLOT);
    uint64_t late = slate_wire_get_le64(s + OFF_LATE), resets = slate_wire_get_le64(s + OFF_RESETS);
    uint64_t sat = slate_wire_get_le64(s + OFF_SATURATED);
    uint64_t hdst = slate_wire_get_le64(d + OFF_HEAD);
    if (hsrc > hdst) {
        uint32_t hs;
        slate_wire_put_le64(d + OFF_TOTAL,
                            advance(d, n, hdst, slate_wire_get_le32(d + OFF_HEAD_SLOT), hsrc, &hs));
        hdst = hsrc;
    }
    slate_status st = SLATE_OK;
    uint64_t lag = hdst - hsrc;
    if (lag < n) {
        /* src's ticks (hdst - n, hsrc]: tick k is bucket k mod n in both regions. */
        uint32_t slot = ssrc;
        for (uint32_t j = 0; j < n - (uint32_t)lag; j++) {
            uint32_t v = slate_wire_get_le32(cbucket_at(s, slot));
            if (v != 0 && bucket_add(d, slot, v) != SLATE_OK)
                st = SLATE_EOVERFLOW;
            slot = slot == 0 ? n - 1u : slot - 1u;
        }
    }
    slate_wire_put_le64(d + OFF_LATE, sat_add64(slate_wire_get_le64(d + OFF_LATE), late));
    slate_wire_put_le64(d + OFF_RESETS, sat_add64(slate_wire_get_le64(d + OFF_RESETS), resets));
    slate_wire_put_le64(d + OFF_SATURATED, sat_add64(slate_wire_get_le64(d + OFF_SATURATED), sat));
    return st;
}

slate_status slate_rate_sum(const slate_rate_t *const *rates, size_t n, uint64_t now_ns,
                            uint64_t *out)
{
    if (out)
        *out = 0;
    if (!rates || !out)
        return SLATE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)rates[i];
        if (!p)
            return SLATE_EINVAL;
        if (slate_wire_get_le32(p + OFF_MAGIC) != SLATE_RATE_MAGIC)
            return SLATE_EBADMAGIC;
        const unsigned char *p0 = (const unsigned char *)rates[0];
        if (slate_wire_get_le32(p + OFF_NBUCKETS) != slate_wire_get_le32(p0 + OFF_NBUCKETS) ||
            slate_wire_get_le64(p + OFF_RESOLUTION) != slate_wire_get_le64(p0 + OFF_RESOLUTION))
            return SLATE_EMISMATCH;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = sat_add64(sum, count_at((const unsigned char *)rates[i], now_ns));
    *out = sum;
    return SLATE_OK;
}

slate_status slate_rate_info(const slate_rate_t *r, slate_rate_info_t *out)
{
    const unsigned char *p = (const unsigned char *)r;
    if (!p || !out)
        return SLATE_EINVAL;
    if (slate_wire_get_le32(p + OFF_MAGIC) != SLATE_RATE_MAGIC)
        return SLATE_EBADMAGIC;
    memset(out, 0, sizeof *out);
    out->params.window_ns = slate_wire_get_le64(p + OFF_WINDOW);
    out->params.resolution_ns = slate_wire_get_le64(p + OFF_RESOLUTION);
    out->params.max_backjump_ns = slate_wire_get_le64(p + OFF_BACKJUMP);
    out->buckets = slate_wire_get_le32(p + OFF_NBUCKETS);
    out->head_tick = slate_wire_get_le64(p + OFF_HEAD);
    out->total = slate_wire_get_le64(p + OFF_TOTAL);
    out->late = slate_wire_get_le64(p + OFF_LATE);
    out->resets = slate_wire_get_le64(p + OFF_RESETS);
    out->saturated = slate_wire_get_le64(p + OFF_SATURATED);
    return SLATE_OK;
}
