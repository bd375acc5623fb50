/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "slate/name.h"

#include "slate/key.h"

#include <stdint.h>
#include <string.h>

/* Byte classes, one table lookup per byte; no byte >= 0x80 is in any class
 * (the table covers all 256, so no byte needs a range test first). */
enum {
    N_SERVICE = 1, /* DNS-1123 label byte: a-z 0-9 '-' */
    N_LABEL = 2,   /* Kubernetes label value byte: A-Z a-z 0-9 '-' '_' '.' */
    N_ALNUM = 4,   /* A-Z a-z 0-9: a label value's first and last byte */
    N_TCHAR = 8,   /* RFC 9110 section 5.6.2 tchar */
};

#define N_DIGIT (N_SERVICE | N_LABEL | N_ALNUM | N_TCHAR)
#define N_LOWER (N_SERVICE | N_LABEL | N_ALNUM | N_TCHAR)
#define N_UPPER (N_LABEL | N_ALNUM | N_TCHAR)

static const uint8_t name_class[256] = {
    ['0'] = N_DIGIT,           ['1'] = N_DIGIT,           ['2'] = N_DIGIT,
    ['3'] = N_DIGIT,           ['4'] = N_DIGIT,           ['5'] = N_DIGIT,
    ['6'] = N_DIGIT,           ['7'] = N_DIGIT,           ['8'] = N_DIGIT,
    ['9'] = N_DIGIT,           ['a'] = N_LOWER,           ['b'] = N_LOWER,
    ['c'] = N_LOWER,           ['d'] = N_LOWER,           ['e'] = N_LOWER,
    ['f'] = N_LOWER,           ['g'] = N_LOWER,           ['h'] = N_LOWER,
    ['i'] = N_LOWER,           ['j'] = N_LOWER,           ['k'] = N_LOWER,
    ['l'] = N_LOWER,           ['m'] = N_LOWER,           ['n'] = N_LOWER,
    ['o'] = N_LOWER,           ['p'] = N_LOWER,           ['q'] = N_LOWER,
    ['r'] = N_LOWER,           ['s'] = N_LOWER,           ['t'] = N_LOWER,
    ['u'] = N_LOWER,           ['v'] = N_LOWER,           ['w'] = N_LOWER,
    ['x'] = N_LOWER,           ['y'] = N_LOWER,           ['z'] = N_LOWER,
    ['A'] = N_UPPER,           ['B'] = N_UPPER,           ['C'] = N_UPPER,
    ['D'] = N_UPPER,           ['E'] = N_UPPER,           ['F'] = N_UPPER,
    ['G'] = N_UPPER,           ['H'] = N_UPPER,           ['I'] = N_UPPER,
    ['J'] = N_UPPER,           ['K'] = N_UPPER,           ['L'] = N_UPPER,
    ['M'] = N_UPPER,           ['N'] = N_UPPER,           ['O'] = N_UPPER,
    ['P'] = N_UPPER,           ['Q'] = N_UPPER,           ['R'] = N_UPPER,
    ['S'] = N_UPPER,           ['T'] = N_UPPER,           ['U'] = N_UPPER,
    ['V'] = N_UPPER,           ['W'] = N_UPPER,           ['X'] = N_UPPER,
    ['Y'] = N_UPPER,           ['Z'] = N_UPPER,           ['-'] = N_SERVICE | N_LABEL | N_TCHAR,
    ['_'] = N_LABEL | N_TCHAR, ['.'] = N_LABEL | N_TCHAR, ['!'] = N_TCHAR,
    ['#'] = N_TCHAR,           ['$'] = N_TCHAR,           ['%'] = N_TCHAR,
    ['&'] = N_TCHAR,           ['\''] = N_TCHAR,          ['*'] = N_TCHAR,
    ['+'] = N_TCHAR,           ['^'] = N_TCHAR,           ['`'] = N_TCHAR,
    ['|'] = N_TCHAR,           ['~'] = N_TCHAR,
};

/* True when every byte of s[0..len) has class bit `cls`. */
static int all_of(const unsigned char *s, size_t len, unsigned cls)
{
    unsigned acc = cls;
    for (size_t i = 0; i < len; i++)
        acc &= name_class[s[i]];
    return acc != 0;
}

#define BYTES8(b) (0x0101010101010101ull * (b))

/* Nonzero when any of the 8 bytes of x is outside visible ASCII
 * (0x21..0x7e). Bytes are compared in 7 bits (a byte >= 0x80 is bad anyway),
 * so the sums never carry into the next byte. */
static uint64_t invisible8(uint64_t x)
{
    const uint64_t high = BYTES8(0x80);
    uint64_t x7 = x & BYTES8(0x7f);
    uint64_t below = ~(x7 + BYTES8(0x80 - 0x21)) & high; /* x7 < 0x21 */
    uint64_t above = (x7 + BYTES8(0x01)) & high;         /* x7 == 0x7f */
    return (x & high) | below | above;
}

/* True when every byte of s[0..len) is visible ASCII: 8 bytes at a time, the
 * tail as an overlapping last word. */
static int all_visible(const unsigned char *s, size_t len)
{
    uint64_t bad = 0, x;
    if (len < 8) {
        for (size_t i = 0; i < len; i++)
            bad |= s[i] < 0x21 || s[i] > 0x7e;
        return bad == 0;
    }
    for (size_t i = 0; i + 8 <= len; i += 8) {
        memcpy(&x, s + i, 8);
        bad |= invisible8(x);
    }
    memcpy(&x, s + len - 8, 8);
    return (bad | invisible8(x)) == 0;
}

static slate_status bad(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return SLATE_ENAME;
}

static slate_status check_service(const unsigned char *s, size_t len, const char **why)
{
    if (len == 0)
        return bad(why, "is empty");
    if (len > SLATE_NAME_MAX_LABEL)
        return bad(why, "is longer than 63 bytes (a DNS-1123 label)");
    if (!all_of(s, len, N_SERVICE))
        return bad(why, "may hold only lowercase letters, digits and '-' (a DNS-1123 label)");
    if (s[0] == '-' || s[len - 1] == '-')
        return bad(why, "must start and end with a lowercase letter or digit (a DNS-1123 label)");
    return SLATE_OK;
}

static slate_status check_label(const unsigned char *s, size_t len, int may_be_empty,
                                const char **why)
{
    if (len == 0)
        return may_be_empty ? SLATE_OK : bad(why, "is empty");
    if (len > SLATE_NAME_MAX_LABEL)
        return bad(why, "is longer than 63 bytes (a Kubernetes label value)");
    if (!all_of(s, len, N_LABEL))
        return bad(why, "may hold only letters, digits, '-', '_' and '.' (a Kubernetes "
                        "label value)");
    if (!all_of(s, 1, N_ALNUM) || !all_of(s + len - 1, 1, N_ALNUM))
        return bad(why, "must start and end with a letter or digit (a Kubernetes label value)");
    return SLATE_OK;
}

static slate_status check_method(const unsigned char *s, size_t len, const char **why)
{
    if (len == 0)
        return bad(why, "is empty");
    if (len > SLATE_KEY_MAX_NAME)
        return bad(why, "is longer than 255 bytes");
    if (!all_of(s, len, N_TCHAR))
        return bad(why, "is not an HTTP token (RFC 9110 tchar only)");
    return SLATE_OK;
}

static slate_status check_path(const unsigned char *s, size_t len, const char **why)
{
    if (len == 0)
        return bad(why, "is empty");
    if (len > SLATE_NAME_MAX_PATH)
        return bad(why, "is longer than 4096 bytes");
    if (!(s[0] == '/' || (len == 1 && s[0] == '*')))
        return bad(why, "must start with '/' (or be exactly '*')");
    if (!all_visible(s, len))
        return bad(why, "may hold only visible ASCII (no spaces, control or raw non-ASCII "
                        "bytes; percent-encode them)");
    return SLATE_OK;
}

slate_status slate_name_check(slate_name_kind kind, const char *s, size_t len, const char **why)
{
    if (why)
        *why = "";
    if (!s && len > 0)
        return SLATE_EINVAL;
    const unsigned char *u = (const unsigned char *)s;
    switch (kind) {
    case SLATE_NAME_SERVICE:
        return check_service(u, len, why);
    case SLATE_NAME_REGION:
        return check_label(u, len, 0, why);
    case SLATE_NAME_POD:
        return check_label(u, len, 1, why);
    case SLATE_NAME_METHOD:
        return check_method(u, len, why);
    case SLATE_NAME_PATH:
        return check_path(u, len, why);
    default:
        if (why)
            *why = "unknown name kind";
        return SLATE_EINVAL;
    }
}

const char *slate_name_kind_str(slate_name_kind kind)
{
    switch (kind) {
    case SLATE_NAME_SERVICE:
        return "service";
    case SLATE_NAME_REGION:
        return "region";
    case SLATE_NAME_POD:
        return "pod";
    case SLATE_NAME_METHOD:
        return "method";
    case SLATE_NAME_PATH:
        return "path";
    default:
        return "name";
    }
}
