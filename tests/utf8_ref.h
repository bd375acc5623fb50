/*
 * A definitional UTF-8 reference, sharing no code with the codec's validator:
 * decode each code point and test its range (no overlong forms, no
 * surrogates, nothing above U+10FFFF). Used by tests/test_codec.c and
 * fuzz/fuzz_diff_protobuf_c.c to judge the decoder's string checks.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_TESTS_UTF8_REF_H
#define SLATE_TESTS_UTF8_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool ref_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i], cp, min;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

#endif
