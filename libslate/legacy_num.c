/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Strict, locale-independent number parsing and formatting for the legacy
 * text codec; see legacy_num.h. Exact integer arithmetic throughout; 128-bit
 * intermediates are kept as two 64-bit halves so the code is plain C11 on
 * every target (wasm32 included).
 */
#include "legacy_num.h"

#include <math.h>
#include <string.h>

static const uint64_t pow10_table[20] = {1ull,
                                         10ull,
                                         100ull,
                                         1000ull,
                                         10000ull,
                                         100000ull,
                                         1000000ull,
                                         10000000ull,
                                         100000000ull,
                                         1000000000ull,
                                         10000000000ull,
                                         100000000000ull,
                                         1000000000000ull,
                                         10000000000000ull,
                                         100000000000000ull,
                                         1000000000000000ull,
                                         10000000000000000ull,
                                         100000000000000000ull,
                                         1000000000000000000ull,
                                         10000000000000000000ull};

uint64_t slate_lnum_pow10(unsigned k)
{
    return k < 20 ? pow10_table[k] : 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

slate_status slate_lnum_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return SLATE_ENUMBER;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return SLATE_ENUMBER;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return SLATE_ENUMBER;
        v = v * 10 + d;
    }
    *out = v;
    return SLATE_OK;
}

/* Exponents are clamped here: any larger magnitude already decides the result. */
#define EXP_CLAMP 100000

slate_status slate_lnum_decimal(const char *s, size_t n, unsigned scale, uint64_t max,
                                uint64_t *out)
{
    if (scale > 18)
        return SLATE_ENUMBER;
    size_t i = 0;
    size_t int_begin = i;
    while (i < n && is_digit(s[i]))
        i++;
    size_t int_end = i;
    size_t frac_begin = i, frac_end = i;
    if (i < n && s[i] == '.') {
        i++;
        frac_begin = i;
        while (i < n && is_digit(s[i]))
            i++;
        frac_end = i;
    }
    if (int_end == int_begin && frac_end == frac_begin)
        return SLATE_ENUMBER; /* no digit at all (also "", ".", "-1", "nan") */
    long exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int neg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            neg = s[i] == '-';
            i++;
        }
        if (i == n || !is_digit(s[i]))
            return SLATE_ENUMBER;
        while (i < n && is_digit(s[i])) {
            if (exp < EXP_CLAMP)
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (exp > EXP_CLAMP)
            exp = EXP_CLAMP;
        if (neg)
            exp = -exp;
    }
    if (i != n)
        return SLATE_ENUMBER;

    /* The significant digits: from the first non-zero digit of int+frac to
     * the end of the fraction, skipping the point. value = D * 10^(exp - nfrac). */
    size_t nfrac = frac_end - frac_begin;
    size_t first = int_begin; /* position of first significant digit, or frac_end */
    while (first < frac_end && (s[first] == '0' || s[first] == '.'))
        first++;
    if (first >= frac_end) {
        *out = 0;
        return SLATE_OK;
    }
    /* L = number of significant digits. */
    size_t L = frac_end - first;
    if (first < int_end && frac_begin > int_end)
        L--;                                  /* the point lies between first and the end */
    long z = exp - (long)nfrac + (long)scale; /* T = D * 10^z */
    long keep = (long)L + z;                  /* leading digits of D that form the integer */
    if (keep > 20)
        return SLATE_ENUMBER; /* at least 10^20 > UINT64_MAX */
    uint64_t v = 0;
    long taken = 0;
    int dropped = 0, sticky = 0, have_dropped = 0;
    for (size_t p = first; p < frac_end; p++) {
        if (s[p] == '.')
            continue;
        unsigned d = (unsigned)(s[p] - '0');
        if (taken < keep) {
            if (v > (UINT64_MAX - d) / 10)
                return SLATE_ENUMBER;
            v = v * 10 + d;
            taken++;
        } else if (!have_dropped) {
            dropped = (int)d;
            have_dropped = 1;
        } else if (d != 0) {
            sticky = 1;
        }
    }
    if (keep < 0) {
        v = 0; /* below half a unit: the first dropped digit is an implied 0 */
    } else if (z >= 0) {
        for (long k = 0; k < z; k++) {
            if (v > UINT64_MAX / 10)
                return SLATE_ENUMBER;
            v *= 10;
        }
    } else if (have_dropped) {
        int up = dropped > 5 || (dropped == 5 && (sticky || (v & 1)));
        if (up) {
            if (v == UINT64_MAX)
                return SLATE_ENUMBER;
            v++;
        }
    }
    if (v > max)
        return SLATE_ENUMBER;
    *out = v;
    return SLATE_OK;
}

/* ---- 128-bit helpers (two halves) ---- */

typedef struct {
    uint64_t hi, lo;
} u128;

/* a * b with b < 2^32. */
static u128 mul_small(uint64_t a, uint32_t b)
{
    uint64_t al = a & 0xffffffffu, ah = a >> 32;
    uint64_t lo = al * b;
    uint64_t mid = ah * b;
    u128 r;
    r.lo = lo + (mid << 32);
    r.hi = (mid >> 32) + (r.lo < lo);
    return r;
}

/* q = x / d, returns x % d; d < 2^32, d > 0. */
static uint32_t divmod_small(u128 x, uint32_t d, u128 *q)
{
    uint32_t limb[4] = {(uint32_t)(x.hi >> 32), (uint32_t)x.hi, (uint32_t)(x.lo >> 32),
                        (uint32_t)x.lo};
    uint64_t rem = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t cur = (rem << 32) | limb[i];
        limb[i] = (uint32_t)(cur / d);
        rem = cur % d;
    }
    q->hi = ((uint64_t)limb[0] << 32) | limb[1];
    q->lo = ((uint64_t)limb[2] << 32) | limb[3];
    return (uint32_t)rem;
}

static int clz64(uint64_t x)
{
    int n = 0;
    while (!(x & (1ull << 63))) {
        x <<= 1;
        n++;
    }
    return n;
}

/* Nearest double, ties to even. */
static double u128_to_double(u128 x)
{
    if (x.hi == 0)
        return (double)x.lo;   /* C and wasm convert uint64 with one correct rounding */
    int sh = 64 - clz64(x.hi); /* 1..64: bits to drop so the value fits 64 bits */
    uint64_t y, sticky;
    if (sh == 64) {
        y = x.hi;
        sticky = x.lo != 0;
    } else {
        y = (x.hi << (64 - sh)) | (x.lo >> sh);
        sticky = (x.lo & ((1ull << sh) - 1)) != 0;
    }
    /* y has its top bit set; rounding to 53 bits happens at bit 10, so a
     * sticky bit in bit 0 makes the one rounding of (double)y correct. */
    return ldexp((double)(y | sticky), sh);
}

double slate_lnum_scaled_to_double(uint64_t n, unsigned k)
{
    if (k > 9)
        k = 9;
    return u128_to_double(mul_small(n, (uint32_t)pow10_table[k]));
}

slate_status slate_lnum_double_to_scaled(double d, unsigned k, uint64_t *out)
{
    if (k > 9 || isnan(d) || isinf(d) || d < 0)
        return SLATE_EVALUE;
    if (d == 0) {
        *out = 0;
        return SLATE_OK;
    }
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    int bexp = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((1ull << 52) - 1);
    int e2;
    if (bexp == 0) {
        e2 = -1074;
    } else {
        m |= 1ull << 52;
        e2 = bexp - 1075;
    }
    uint32_t D = (uint32_t)pow10_table[k];
    u128 q;
    int up = 0;
    if (e2 >= 0) {
        if (e2 > 75)
            return SLATE_EVALUE; /* at least 2^127: far above UINT64_MAX * 10^9 */
        u128 x;
        x.hi = e2 == 0 ? 0 : (e2 >= 64 ? m << (e2 - 64) : m >> (64 - e2));
        x.lo = e2 >= 64 ? 0 : m << e2;
        uint32_t r = divmod_small(x, D, &q);
        uint64_t t = 2 * (uint64_t)r;
        up = t > D || (t == D && (q.lo & 1));
    } else {
        int s = -e2; /* value = m / 2^s */
        uint64_t ip, fr, half;
        int cmp_half; /* fraction vs 1/2: -1, 0, 1 */
        if (s >= 64) {
            ip = 0;
            cmp_half = -1; /* m < 2^53 <= 2^(s-1): fraction < 1/2 */
            fr = m;
        } else {
            ip = m >> s;
            fr = m & ((1ull << s) - 1);
            half = 1ull << (s - 1);
            cmp_half = fr > half ? 1 : (fr == half ? 0 : -1);
        }
        u128 x = {0, ip};
        uint32_t r = divmod_small(x, D, &q);
        uint64_t t = 2 * (uint64_t)r; /* compare 2r + 2f with D */
        int tie = 0;
        if (t > D) {
            up = 1;
        } else if (t == D) {
            up = fr != 0;
            tie = fr == 0;
        } else if (t + 1 == D) {
            up = cmp_half > 0;
            tie = cmp_half == 0;
        }
        if (tie)
            up = (int)(q.lo & 1);
    }
    if (up) {
        q.lo++;
        if (q.lo == 0)
            q.hi++;
    }
    /* Prefer an n that maps back to exactly d (decode/encode idempotence). */
    if (q.hi != 0) {
        if (q.hi == 1 && q.lo == 0 && slate_lnum_scaled_to_double(UINT64_MAX, k) == d) {
            *out = UINT64_MAX;
            return SLATE_OK;
        }
        return SLATE_EVALUE;
    }
    uint64_t n = q.lo;
    if (slate_lnum_scaled_to_double(n, k) != d) {
        if (n > 0 && slate_lnum_scaled_to_double(n - 1, k) == d)
            n--;
        else if (n < UINT64_MAX && slate_lnum_scaled_to_double(n + 1, k) == d)
            n++;
    }
    *out = n;
    return SLATE_OK;
}

size_t slate_lnum_fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

/* `width` digits of v, zero padded (v < 10^width). */
static size_t fmt_padded(char *buf, uint64_t v, unsigned width)
{
    for (unsigned i = width; i > 0; i--) {
        buf[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return width;
}

size_t slate_lnum_fmt_fixed(char *buf, uint64_t n, unsigned scale)
{
    uint64_t p = pow10_table[scale];
    size_t len = slate_lnum_fmt_u64(buf, n / p);
    buf[len++] = '.';
    len += fmt_padded(buf + len, n % p, scale);
    return len;
}

size_t slate_lnum_fmt_short(char *buf, uint64_t n, unsigned scale)
{
    uint64_t p = pow10_table[scale];
    size_t len = slate_lnum_fmt_u64(buf, n / p);
    uint64_t frac = n % p;
    if (frac == 0)
        return len;
    buf[len++] = '.';
    size_t start = len;
    len += fmt_padded(buf + len, frac, scale);
    while (len > start && buf[len - 1] == '0')
        len--;
    return len;
}

size_t slate_lnum_fmt_pyrepr(char *buf, uint64_t n, unsigned scale)
{
    if (n == 0) {
        memcpy(buf, "0.0", 3);
        return 3;
    }
    char dig[20];
    size_t nd = slate_lnum_fmt_u64(dig, n);
    long decpt = (long)nd - (long)scale; /* value = 0.DIGITS * 10^decpt */
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    size_t len = 0;
    if (decpt <= -4 || decpt > 16) {
        buf[len++] = dig[0];
        if (nd > 1) {
            buf[len++] = '.';
            memcpy(buf + len, dig + 1, nd - 1);
            len += nd - 1;
        }
        long e = decpt - 1;
        buf[len++] = 'e';
        buf[len++] = e < 0 ? '-' : '+';
        uint64_t ea = (uint64_t)(e < 0 ? -e : e);
        if (ea < 10)
            buf[len++] = '0';
        len += slate_lnum_fmt_u64(buf + len, ea);
    } else if (decpt <= 0) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (long i = 0; i < -decpt; i++)
            buf[len++] = '0';
        memcpy(buf + len, dig, nd);
        len += nd;
    } else if ((size_t)decpt < nd) {
        memcpy(buf + len, dig, (size_t)decpt);
        len += (size_t)decpt;
        buf[len++] = '.';
        memcpy(buf + len, dig + decpt, nd - (size_t)decpt);
        len += nd - (size_t)decpt;
    } else {
        memcpy(buf + len, dig, nd);
        len += nd;
        for (size_t i = nd; i < (size_t)decpt; i++)
            buf[len++] = '0';
        buf[len++] = '.';
        buf[len++] = '0';
    }
    return len;
}
