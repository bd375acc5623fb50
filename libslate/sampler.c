/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Weighted region sampler: Vose's alias method in exact integer arithmetic
 * over a little-endian table in caller memory, plus xoshiro256**.
 *
 * Security note: slate_sampler_validate() reads nothing past `len` and
 * accepts only tables whose every draw yields a region of the table.
 * slate_sampler_compile() writes nothing until every input has been checked
 * and the whole new table sits in a stack buffer; then it copies it in one go.
 */
#include "slate/sampler.h"
#include "wire.h"

#include <math.h>
#include <string.h>

#include "hash.h"

/* Header field offsets (see the layout table in sampler.h). */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_HEADER_SIZE = 6,
    OFF_CAPACITY = 8,
    OFF_COUNT = 10,
    OFF_ENTRY_SIZE = 12,
    OFF_RESERVED0 = 14,
    OFF_TOTAL = 16,
    OFF_RESERVED1 = 20,
    OFF_CHECKSUM = 24,
};
_Static_assert(OFF_CHECKSUM + 8 == SLATE_SAMPLER_HEADER_SIZE, "header is 32 bytes");
_Static_assert(SLATE_SAMPLER_SIZE(SLATE_SAMPLER_MAX_REGIONS) == 2080, "256 columns take 2080 B");
_Static_assert(SLATE_SAMPLER_MAX_REGIONS <= 0xffffu, "count fits the uint16 field");

/* One column's mass when full: 2^32. */
#define COLUMN ((uint64_t)1 << 32)

static uint64_t table_checksum(const unsigned char *t, size_t capacity)
{
    uint64_t seed = slate_hash64(t, OFF_CHECKSUM);
    return slate_hash64_seed(t + SLATE_SAMPLER_HEADER_SIZE, SLATE_SAMPLER_ENTRY_SIZE * capacity,
                             seed);
}

/* Write a complete header (with checksum) for entries already in place. */
static void write_header(unsigned char *t, size_t capacity, size_t count)
{
    slate_wire_put_le32(t + OFF_MAGIC, SLATE_SAMPLER_MAGIC);
    slate_wire_put_le16(t + OFF_VERSION, SLATE_SAMPLER_VERSION);
    slate_wire_put_le16(t + OFF_HEADER_SIZE, SLATE_SAMPLER_HEADER_SIZE);
    slate_wire_put_le16(t + OFF_CAPACITY, (uint16_t)capacity);
    slate_wire_put_le16(t + OFF_COUNT, (uint16_t)count);
    slate_wire_put_le16(t + OFF_ENTRY_SIZE, SLATE_SAMPLER_ENTRY_SIZE);
    slate_wire_put_le16(t + OFF_RESERVED0, 0);
    slate_wire_put_le32(t + OFF_TOTAL, (uint32_t)SLATE_SAMPLER_SIZE(capacity));
    slate_wire_put_le32(t + OFF_RESERVED1, 0);
    slate_wire_put_le64(t + OFF_CHECKSUM, table_checksum(t, capacity));
}

/* The O(1) header checks shared by compile and validate. */
static slate_status check_header(const unsigned char *t, size_t len, size_t *capacity,
                                 size_t *count)
{
    if (len < SLATE_SAMPLER_HEADER_SIZE)
        return SLATE_ENOSPC;
    if (slate_wire_get_le32(t + OFF_MAGIC) != SLATE_SAMPLER_MAGIC)
        return SLATE_EBADMAGIC;
    if (slate_wire_get_le16(t + OFF_VERSION) != SLATE_SAMPLER_VERSION)
        return SLATE_EBADVERSION;
    size_t cap = slate_wire_get_le16(t + OFF_CAPACITY);
    if (slate_wire_get_le16(t + OFF_HEADER_SIZE) != SLATE_SAMPLER_HEADER_SIZE ||
        slate_wire_get_le16(t + OFF_ENTRY_SIZE) != SLATE_SAMPLER_ENTRY_SIZE || cap == 0 ||
        cap > SLATE_SAMPLER_MAX_REGIONS ||
        slate_wire_get_le32(t + OFF_TOTAL) != SLATE_SAMPLER_SIZE(cap))
        return SLATE_EBADSIZE;
    if (len < SLATE_SAMPLER_SIZE(cap))
        return SLATE_ENOSPC;
    size_t cnt = slate_wire_get_le16(t + OFF_COUNT);
    if (cnt > cap || slate_wire_get_le16(t + OFF_RESERVED0) != 0 ||
        slate_wire_get_le32(t + OFF_RESERVED1) != 0)
        return SLATE_ECORRUPT;
    *capacity = cap;
    *count = cnt;
    return SLATE_OK;
}

/* A set of uint16 ids, one bit each. */
typedef struct {
    uint64_t w[1024];
} id_set;

/* Adds id; returns 1 if it was already present. */
static int id_set_add(id_set *s, uint16_t id)
{
    uint64_t bit = (uint64_t)1 << (id & 63);
    int had = (s->w[id >> 6] & bit) != 0;
    s->w[id >> 6] |= bit;
    return had;
}

static int id_set_has(const id_set *s, uint16_t id)
{
    return (s->w[id >> 6] >> (id & 63)) & 1;
}

size_t slate_sampler_size(size_t capacity)
{
    if (capacity == 0 || capacity > SLATE_SAMPLER_MAX_REGIONS)
        return 0;
    return SLATE_SAMPLER_SIZE(capacity);
}

slate_status slate_sampler_init(void *mem, size_t len, size_t capacity)
{
    if (!mem)
        return SLATE_EINVAL;
    if (capacity == 0 || capacity > SLATE_SAMPLER_MAX_REGIONS)
        return SLATE_ERANGE;
    if (len < SLATE_SAMPLER_SIZE(capacity))
        return SLATE_ENOSPC;
    unsigned char *t = mem;
    memset(t, 0, SLATE_SAMPLER_SIZE(capacity));
    write_header(t, capacity, 0);
    return SLATE_OK;
}

/* Shared body of both compile functions: exactly one of dw, uw is non-NULL. */
static slate_status compile(void *mem, size_t len, const uint16_t *regions, const double *dw,
                            const uint32_t *uw, size_t n)
{
    if (!mem || !regions || (!dw && !uw))
        return SLATE_EINVAL;
    size_t cap, old_count;
    slate_status st = check_header(mem, len, &cap, &old_count);
    if (st != SLATE_OK)
        return st;
    if (n == 0)
        return SLATE_EEMPTY;
    if (n > SLATE_SAMPLER_MAX_REGIONS || n > cap)
        return SLATE_ETOOMANY;

    /* 1. Every pair on its own, in input order. */
    double w[SLATE_SAMPLER_MAX_REGIONS];
    double wmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (regions[i] == SLATE_REGION_NONE)
            return SLATE_ERANGE;
        double x = dw ? dw[i] : (double)uw[i];
        if (isnan(x))
            return SLATE_EWEIGHT_NAN;
        if (isinf(x))
            return SLATE_EWEIGHT_INF;
        if (x < 0.0)
            return SLATE_EWEIGHT_NEG;
        w[i] = x + 0.0; /* turns -0.0 into +0.0 */
        if (w[i] > wmax)
            wmax = w[i];
    }
    /* 2. Duplicates. */
    id_set seen;
    memset(&seen, 0, sizeof seen);
    for (size_t i = 0; i < n; i++)
        if (id_set_add(&seen, regions[i]))
            return SLATE_EDUPLICATE;
    /* 3. Something to draw. */
    if (!(wmax > 0.0))
        return SLATE_EWEIGHT_ZERO;

    /* Integer masses summing to exactly n * 2^32. Scaling by the largest
     * weight first keeps the sum finite and at most n. */
    const uint64_t total = (uint64_t)n * COLUMN;
    uint64_t m[SLATE_SAMPLER_MAX_REGIONS];
    double rsum = 0.0;
    for (size_t i = 0; i < n; i++)
        rsum += w[i] / wmax;
    uint64_t msum = 0;
    size_t big = 0;
    for (size_t i = 0; i < n; i++) {
        m[i] = 0;
        if (w[i] > 0.0) {
            /* May underflow to 0 (5e-324 next to 1e308); the floor below
             * keeps such a weight drawable. */
            double x = w[i] / wmax / rsum * (double)total;
            m[i] = x >= (double)total ? total : (uint64_t)x;
            if (m[i] == 0)
                m[i] = 1; /* a positive weight stays drawable */
        }
        msum += m[i];
        if (m[i] > m[big])
            big = i;
    }
    /* The rounding residue is at most a few units per entry; the largest mass
     * is at least 2^32, so it absorbs it without changing sign. */
    m[big] = m[big] + total - msum;

    /* Vose's method, exact: every column receives exactly 2^32 of mass. */
    unsigned char t[SLATE_SAMPLER_SIZE(SLATE_SAMPLER_MAX_REGIONS)];
    memset(t, 0, SLATE_SAMPLER_SIZE(cap));
    uint16_t small[SLATE_SAMPLER_MAX_REGIONS], large[SLATE_SAMPLER_MAX_REGIONS];
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i] < COLUMN)
            small[ns++] = (uint16_t)i;
        else
            large[nl++] = (uint16_t)i;
    }
    while (ns > 0 && nl > 0) {
        size_t s = small[--ns];
        size_t l = large[nl - 1];
        unsigned char *e = t + SLATE_SAMPLER_HEADER_SIZE + SLATE_SAMPLER_ENTRY_SIZE * s;
        slate_wire_put_le32(e, (uint32_t)m[s]);
        slate_wire_put_le16(e + 4, regions[s]);
        slate_wire_put_le16(e + 6, regions[l]);
        m[l] -= COLUMN - m[s];
        if (m[l] < COLUMN) {
            nl--;
            small[ns++] = (uint16_t)l;
        }
    }
    /* What remains holds exactly 2^32 each (sum invariant); any leftover small
     * column could only come from a broken invariant and is made full. */
    while (nl > 0 || ns > 0) {
        size_t i = nl > 0 ? large[--nl] : small[--ns];
        unsigned char *e = t + SLATE_SAMPLER_HEADER_SIZE + SLATE_SAMPLER_ENTRY_SIZE * i;
        slate_wire_put_le32(e, 0xffffffffu);
        slate_wire_put_le16(e + 4, regions[i]);
        slate_wire_put_le16(e + 6, regions[i]);
    }
    write_header(t, cap, n);
    memcpy(mem, t, SLATE_SAMPLER_SIZE(cap));
    return SLATE_OK;
}

slate_status slate_sampler_compile(void *mem, size_t len, const uint16_t *regions,
                                   const double *weights, size_t n)
{
    if (!weights)
        return SLATE_EINVAL;
    return compile(mem, len, regions, weights, NULL, n);
}

slate_status slate_sampler_compile_u32(void *mem, size_t len, const uint16_t *regions,
                                       const uint32_t *weights, size_t n)
{
    if (!weights)
        return SLATE_EINVAL;
    return compile(mem, len, regions, NULL, weights, n);
}

uint16_t slate_sampler_draw(const void *table, uint64_t value)
{
    const unsigned char *t = table;
    uint32_t n = slate_wire_get_le16(t + OFF_COUNT);
    if (n == 0)
        return SLATE_REGION_NONE;
    uint32_t col = (uint32_t)(((value >> 32) * n) >> 32);
    uint64_t e =
        slate_wire_get_le64(t + SLATE_SAMPLER_HEADER_SIZE + (size_t)SLATE_SAMPLER_ENTRY_SIZE * col);
    uint32_t threshold = (uint32_t)e;
    return (uint32_t)value < threshold ? (uint16_t)(e >> 32) : (uint16_t)(e >> 48);
}

slate_status slate_sampler_validate(const void *mem, size_t len)
{
    if (!mem)
        return SLATE_EINVAL;
    const unsigned char *t = mem;
    size_t cap, count;
    slate_status st = check_header(t, len, &cap, &count);
    if (st != SLATE_OK)
        return st;
    if (slate_wire_get_le64(t + OFF_CHECKSUM) != table_checksum(t, cap))
        return SLATE_ECORRUPT;
    id_set ids;
    memset(&ids, 0, sizeof ids);
    const unsigned char *e = t + SLATE_SAMPLER_HEADER_SIZE;
    for (size_t i = 0; i < count; i++) {
        uint16_t r = slate_wire_get_le16(e + SLATE_SAMPLER_ENTRY_SIZE * i + 4);
        if (r == SLATE_REGION_NONE || id_set_add(&ids, r))
            return SLATE_ECORRUPT;
    }
    for (size_t i = 0; i < count; i++) {
        const unsigned char *c = e + SLATE_SAMPLER_ENTRY_SIZE * i;
        /* Every alias must be a region of the table. */
        if (!id_set_has(&ids, slate_wire_get_le16(c + 6)))
            return SLATE_ECORRUPT;
    }
    for (size_t i = count * SLATE_SAMPLER_ENTRY_SIZE; i < cap * SLATE_SAMPLER_ENTRY_SIZE; i++)
        if (e[i] != 0)
            return SLATE_ECORRUPT;
    return SLATE_OK;
}

size_t slate_sampler_count(const void *table)
{
    return slate_wire_get_le16((const unsigned char *)table + OFF_COUNT);
}

size_t slate_sampler_capacity(const void *table)
{
    return slate_wire_get_le16((const unsigned char *)table + OFF_CAPACITY);
}

uint16_t slate_sampler_region(const void *table, size_t i)
{
    const unsigned char *t = table;
    if (i >= slate_wire_get_le16(t + OFF_COUNT))
        return SLATE_REGION_NONE;
    return slate_wire_get_le16(t + SLATE_SAMPLER_HEADER_SIZE + SLATE_SAMPLER_ENTRY_SIZE * i + 4);
}

double slate_sampler_probability(const void *table, uint16_t region)
{
    const unsigned char *t = table;
    size_t n = slate_wire_get_le16(t + OFF_COUNT);
    if (n == 0 || region == SLATE_REGION_NONE)
        return 0.0;
    /* Sum the mass in units of 2^-32 of a column; at most n * 2^32 < 2^41. */
    uint64_t mass = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *c = t + SLATE_SAMPLER_HEADER_SIZE + SLATE_SAMPLER_ENTRY_SIZE * i;
        uint32_t thr = slate_wire_get_le32(c);
        uint16_t own = slate_wire_get_le16(c + 4), alias = slate_wire_get_le16(c + 6);
        /* A full column (alias == own) adds thr + (2^32 - thr) = 2^32. */
        if (own == region)
            mass += thr;
        if (alias == region)
            mass += COLUMN - thr;
    }
    return (double)mass / ((double)n * (double)COLUMN);
}

/* ---- PRNG ---- */

uint64_t slate_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void slate_rng_seed(slate_rng_t *rng, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = slate_splitmix64(&s);
    /* Four successive splitmix64 outputs are never all zero (the mixer is a
     * bijection of distinct inputs), but keep the invariant explicit. */
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
        rng->s[0] = 1;
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t slate_rng_next(slate_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}
