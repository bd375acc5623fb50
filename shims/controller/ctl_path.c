/*
 * slate-controller: path normalisation.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_path.h"

#include <stdbool.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_uuid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

static bool looks_like_id(const char *s, size_t n)
{
    if (n == 0)
        return false;
    bool all_digit = true, all_hex = true, all_token = true, any_digit = false, any_alpha = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool d = is_digit(c);
        all_digit &= d;
        all_hex &= is_hex(c);
        all_token &= d || is_alpha(c) || c == '_' || c == '-';
        any_digit |= d;
        any_alpha |= is_alpha(c);
    }
    if (all_digit)
        return true;
    if (is_uuid(s, n))
        return true;
    if (all_hex && n >= 12 && any_digit)
        return true;
    if (all_token && n >= 20 && any_digit && any_alpha)
        return true;
    return false;
}

/* Bytes that would break the text formats paths travel in (SLATE's
 * space- and comma-separated bodies, YAML, Prometheus labels) are
 * percent-encoded. */
static bool needs_escape(unsigned char c)
{
    return c <= 0x20 || c == ',' || c == '"' || c == '\\' || c == 0x7f;
}

size_t ctl_path_normalize(const char *path, size_t len, char *out, size_t cap)
{
    static const char hexd[] = "0123456789ABCDEF";
    static const char tail[] = "/{trunc}";
    (void)cap;
    size_t end = 0;
    while (end < len && path[end] != '?' && path[end] != '#' && path[end] != '\0')
        end++;
    size_t o = 0;
    size_t i = (end > 0 && path[0] == '/') ? 1 : 0;
    bool truncated = false;
    for (;;) {
        size_t seg_end = i;
        while (seg_end < end && path[seg_end] != '/')
            seg_end++;
        const char *seg = path + i;
        size_t n = seg_end - i;
        size_t start_o = o;
        if (o + 1 > CTL_PATH_MAX) {
            truncated = true;
            break;
        }
        out[o++] = '/';
        if (looks_like_id(seg, n)) {
            if (o + 4 > CTL_PATH_MAX) {
                truncated = true;
                o = start_o;
                break;
            }
            memcpy(out + o, "{id}", 4);
            o += 4;
        } else {
            for (size_t k = 0; k < n; k++) {
                unsigned char c = (unsigned char)seg[k];
                size_t w = needs_escape(c) ? 3 : 1;
                if (o + w > CTL_PATH_MAX) {
                    truncated = true;
                    break;
                }
                if (w == 3) {
                    out[o++] = '%';
                    out[o++] = hexd[c >> 4];
                    out[o++] = hexd[c & 15];
                } else {
                    out[o++] = (char)c;
                }
            }
            if (truncated) {
                o = start_o;
                break;
            }
        }
        if (seg_end >= end)
            break;
        i = seg_end + 1;
    }
    if (truncated) {
        memcpy(out + o, tail, sizeof(tail) - 1);
        o += sizeof(tail) - 1;
    }
    out[o] = '\0';
    return o;
}
