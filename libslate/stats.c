/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Latency statistics: Welford moments, Chan's parallel merge, and the
 * log-bucket histogram of include/slate/stats.h. Bucket bounds come from an
 * exact integer table (stats_table.h), so a value lands in the same bucket on
 * every platform (native controller, wasm32 proxy) whatever its libm does.
 */
#include "slate/stats.h"

#include <math.h>
#include <string.h>

#include "stats_table.h"

#define LAST_BUCKET (SLATE_HIST_BUCKETS - 1u)

_Static_assert(sizeof(slate_stats_t) == 48 + 4 * SLATE_HIST_BUCKETS,
               "slate_stats_t has no padding; its size is part of the contract");
_Static_assert(offsetof(slate_stats_t, hist) == 48, "hist follows the six 8-byte fields");
_Static_assert(sizeof(double) == 8, "IEEE-754 binary64 doubles");

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t s = a + b;
    return s < a ? UINT64_MAX : s;
}

/*
 * An estimate of the bucket of v > SLATE_HIST_MIN_NS: log2(v) from the
 * double's exponent plus the mantissa's log2 interpolated in a 64-entry table
 * (error below 5e-5, i.e. under 0.002 of a bucket), so the exact table search
 * that follows almost never has to move.
 */
static uint32_t bucket_guess(uint64_t v)
{
    double d = (double)v;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    uint64_t mant = bits & 0x000fffffffffffffull;
    unsigned idx = (unsigned)(mant >> 46); /* top 6 mantissa bits */
    double frac = (double)(mant & ((1ull << 46) - 1)) * (1.0 / 70368744177664.0); /* 2^-46 */
    double lo = slate_hist_log2_[idx];
    double log2v = (double)e + lo + (slate_hist_log2_[idx + 1] - lo) * frac;
    /* log2(MIN_NS) = 9.965784284662087; 1 / log2(GAMMA) = 36.48033... */
    double x = (log2v - 9.965784284662087) * 36.4803330463368;
    if (x < 0.0)
        return 1;
    if (x >= (double)LAST_BUCKET)
        return LAST_BUCKET;
    return (uint32_t)x + 1u;
}

uint32_t slate_hist_bucket(uint64_t value_ns)
{
    if (value_ns <= SLATE_HIST_MIN_NS)
        return 0;
    uint32_t i = bucket_guess(value_ns);
    /* Bucket i (1 <= i < LAST) holds upper[i-1] < v <= upper[i]; LAST holds v > upper[LAST-1]. */
    while (i < LAST_BUCKET && value_ns > slate_hist_upper_[i])
        i++;
    while (i > 1 && value_ns <= slate_hist_upper_[i - 1])
        i--;
    return i;
}

uint64_t slate_hist_value(uint32_t bucket)
{
    return slate_hist_rep_[bucket > LAST_BUCKET ? LAST_BUCKET : bucket];
}

void slate_stats_init(slate_stats_t *s)
{
    if (s)
        memset(s, 0, sizeof *s);
}

/* The moments' update, shared by slate_stats_add() and slate_moments_add() so
 * that both give the same bits. Returns 0 (and changes nothing) when count is
 * saturated: nothing more can be represented consistently. */
static int moments_add(uint64_t *count, uint64_t *sum_ns, uint64_t *min_ns, uint64_t *max_ns,
                       double *mean_ns, double *m2, uint64_t value_ns)
{
    if (*count == UINT64_MAX)
        return 0;
    double x = (double)value_ns;
    if (*count == 0) {
        *min_ns = *max_ns = value_ns;
        *mean_ns = x;
        *m2 = 0.0;
    } else {
        if (value_ns < *min_ns)
            *min_ns = value_ns;
        if (value_ns > *max_ns)
            *max_ns = value_ns;
        /* Multiplying by the reciprocal keeps the division off the chain of
         * dependent updates to the mean (it depends only on the count). */
        double inv = 1.0 / (double)(*count + 1);
        double delta = x - *mean_ns;
        *mean_ns += delta * inv;
        *m2 += delta * (x - *mean_ns);
    }
    (*count)++;
    *sum_ns = sat_add(*sum_ns, value_ns);
    return 1;
}

void slate_stats_add(slate_stats_t *s, uint64_t value_ns)
{
    if (!s ||
        !moments_add(&s->count, &s->sum_ns, &s->min_ns, &s->max_ns, &s->mean_ns, &s->m2, value_ns))
        return;
    uint32_t *h = &s->hist[slate_hist_bucket(value_ns)];
    if (*h != UINT32_MAX)
        (*h)++;
}

void slate_moments_add(slate_moments_t *m, uint64_t value_ns)
{
    if (m)
        (void)moments_add(&m->count, &m->sum_ns, &m->min_ns, &m->max_ns, &m->mean_ns, &m->m2,
                          value_ns);
}

void slate_stats_set_moments(slate_stats_t *s, const slate_moments_t *m)
{
    if (!s || !m)
        return;
    s->count = m->count;
    s->sum_ns = m->sum_ns;
    s->min_ns = m->min_ns;
    s->max_ns = m->max_ns;
    s->mean_ns = m->mean_ns;
    s->m2 = m->m2;
}

void slate_stats_merge(slate_stats_t *dst, const slate_stats_t *src)
{
    if (!dst || !src || src->count == 0)
        return;
    if (dst == src) {
        /* Doubling a sample: same mean, twice the m2. */
        slate_stats_t copy = *src;
        slate_stats_merge(dst, &copy);
        return;
    }
    if (dst->count == 0) {
        *dst = *src;
        return;
    }
    double na = (double)dst->count, nb = (double)src->count;
    double n = na + nb;
    double delta = src->mean_ns - dst->mean_ns;
    dst->mean_ns += delta * (nb / n);
    dst->m2 += src->m2 + delta * delta * (na * nb / n);
    dst->count = sat_add(dst->count, src->count);
    dst->sum_ns = sat_add(dst->sum_ns, src->sum_ns);
    if (src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
    for (uint32_t i = 0; i < SLATE_HIST_BUCKETS; i++) {
        uint32_t a = dst->hist[i], b = src->hist[i];
        dst->hist[i] = a + b < a ? UINT32_MAX : a + b;
    }
}

double slate_stats_variance(const slate_stats_t *s)
{
    if (!s || s->count < 2)
        return 0.0;
    return s->m2 / (double)(s->count - 1);
}

uint64_t slate_stats_quantile(const slate_stats_t *s, double q)
{
    if (!s || s->count == 0)
        return 0;
    /* The histogram total equals count unless a bucket saturated; rank
     * within what the histogram holds so a saturated bucket cannot push the
     * rank past the end. */
    uint64_t total = 0;
    for (uint32_t i = 0; i < SLATE_HIST_BUCKETS; i++)
        total += s->hist[i];
    if (total == 0)
        return s->min_ns;
    if (!(q > 0.0)) /* also NaN */
        q = 0.0;
    if (q > 1.0)
        q = 1.0;
    double r = ceil(q * (double)total);
    uint64_t rank = r < 1.0 ? 1 : (r >= (double)total ? total : (uint64_t)r);
    uint64_t seen = 0;
    uint32_t i = 0;
    for (; i < LAST_BUCKET; i++) {
        seen += s->hist[i];
        if (seen >= rank)
            break;
    }
    uint64_t v = slate_hist_value(i);
    if (v < s->min_ns)
        v = s->min_ns;
    if (v > s->max_ns)
        v = s->max_ns;
    return v;
}

/* a * b, or UINT64_MAX when it does not fit. */
static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

slate_status slate_stats_validate(const slate_stats_t *s)
{
    if (!s)
        return SLATE_EINVAL;
    uint64_t total = 0;
    int saturated = 0;
    uint32_t lo = SLATE_HIST_BUCKETS, hi = 0;
    for (uint32_t i = 0; i < SLATE_HIST_BUCKETS; i++) {
        uint32_t h = s->hist[i];
        total += h;
        if (h == UINT32_MAX)
            saturated = 1;
        if (h != 0) {
            if (lo == SLATE_HIST_BUCKETS)
                lo = i;
            hi = i;
        }
    }
    if (!isfinite(s->mean_ns) || !isfinite(s->m2) || s->m2 < 0.0)
        return SLATE_ECORRUPT;
    if (s->count == 0) {
        if (total != 0 || s->sum_ns != 0 || s->min_ns != 0 || s->max_ns != 0 || s->mean_ns != 0.0 ||
            s->m2 != 0.0)
            return SLATE_ECORRUPT;
        return SLATE_OK;
    }
    /* Every sample is in the histogram unless its bucket saturated. */
    if (saturated ? total > s->count : total != s->count)
        return SLATE_ECORRUPT;
    if (s->min_ns > s->max_ns)
        return SLATE_ECORRUPT;
    /* min and max are samples: their buckets are the first and last non-empty ones. */
    if (lo != slate_hist_bucket(s->min_ns) || hi != slate_hist_bucket(s->max_ns))
        return SLATE_ECORRUPT;
    if (s->count == 1 && (s->min_ns != s->max_ns || s->sum_ns != s->min_ns || s->m2 != 0.0))
        return SLATE_ECORRUPT;
    /* The sum lies in [count * min, count * max] unless it saturated. */
    if (s->sum_ns != UINT64_MAX) {
        uint64_t smin = sat_mul(s->count, s->min_ns), smax = sat_mul(s->count, s->max_ns);
        if (s->sum_ns < smin || (smax != UINT64_MAX && s->sum_ns > smax))
            return SLATE_ECORRUPT;
    }
    /* The mean lies in [min, max], up to rounding. */
    double dmin = (double)s->min_ns, dmax = (double)s->max_ns;
    double slack = 1e-6 * dmax + 1e-6;
    if (s->mean_ns < dmin - slack || s->mean_ns > dmax + slack)
        return SLATE_ECORRUPT;
    /* Identical samples have no spread, and their mean is exactly the sample. */
    if (s->min_ns == s->max_ns && (s->m2 != 0.0 || s->mean_ns != dmin))
        return SLATE_ECORRUPT;
    return SLATE_OK;
}
