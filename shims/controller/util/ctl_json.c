/*
 * slate-controller: a streaming JSON writer into a ctl_buf_t.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_json_init(ctl_json_t *j, ctl_buf_t *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

/* Before any value: the separator, and a check that a value is allowed here. */
static bool before_value(ctl_json_t *j)
{
    if (j->error)
        return false;
    if (j->depth == 0) {
        if (j->count[0]++ > 0) {
            j->error = true; /* only one top-level value */
            return false;
        }
        return true;
    }
    int d = j->depth;
    if (j->is_obj[d]) {
        if (!j->key_pending) {
            j->error = true;
            return false;
        }
        j->key_pending = false;
        return true;
    }
    if (j->count[d]++ > 0)
        ctl_buf_putc(j->out, ',');
    return true;
}

static void open_(ctl_json_t *j, bool obj)
{
    if (!before_value(j))
        return;
    if (j->depth + 1 >= CTL_JSON_MAX_DEPTH) {
        j->error = true;
        return;
    }
    j->depth++;
    j->is_obj[j->depth] = obj;
    j->count[j->depth] = 0;
    ctl_buf_putc(j->out, obj ? '{' : '[');
}

static void close_(ctl_json_t *j, bool obj)
{
    if (j->error)
        return;
    if (j->depth == 0 || j->is_obj[j->depth] != obj || j->key_pending) {
        j->error = true;
        return;
    }
    j->depth--;
    ctl_buf_putc(j->out, obj ? '}' : ']');
}

void ctl_json_obj(ctl_json_t *j)
{
    open_(j, true);
}
void ctl_json_obj_end(ctl_json_t *j)
{
    close_(j, true);
}
void ctl_json_arr(ctl_json_t *j)
{
    open_(j, false);
}
void ctl_json_arr_end(ctl_json_t *j)
{
    close_(j, false);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void ctl_json_escape(ctl_buf_t *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0; /* run: start of bytes copied verbatim */
    while (i < len) {
        unsigned c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? utf8_seq(s + i, len - i) : 0;
        if (n > 1) {
            i += n;
            continue;
        }
        ctl_buf_append(out, s + run, i - run);
        switch (c) {
        case '"':
            ctl_buf_puts(out, "\\\"");
            break;
        case '\\':
            ctl_buf_puts(out, "\\\\");
            break;
        case '\n':
            ctl_buf_puts(out, "\\n");
            break;
        case '\r':
            ctl_buf_puts(out, "\\r");
            break;
        case '\t':
            ctl_buf_puts(out, "\\t");
            break;
        default:
            if (c < 0x20)
                ctl_buf_printf(out, "\\u%04x", c);
            else
                ctl_buf_puts(out, "\xEF\xBF\xBD"); /* U+FFFD for an invalid byte */
            break;
        }
        i++;
        run = i;
    }
    ctl_buf_append(out, s + run, len - run);
}

void ctl_json_keyn(ctl_json_t *j, const char *key, size_t len)
{
    if (j->error)
        return;
    if (j->depth == 0 || !j->is_obj[j->depth] || j->key_pending) {
        j->error = true;
        return;
    }
    if (j->count[j->depth]++ > 0)
        ctl_buf_putc(j->out, ',');
    ctl_buf_putc(j->out, '"');
    ctl_json_escape(j->out, key, len);
    ctl_buf_puts(j->out, "\":");
    j->key_pending = true;
}

void ctl_json_key(ctl_json_t *j, const char *key)
{
    ctl_json_keyn(j, key, strlen(key));
}

void ctl_json_strn(ctl_json_t *j, const char *s, size_t len)
{
    if (!before_value(j))
        return;
    ctl_buf_putc(j->out, '"');
    ctl_json_escape(j->out, s, len);
    ctl_buf_putc(j->out, '"');
}

void ctl_json_str(ctl_json_t *j, const char *s)
{
    if (!s) {
        ctl_json_null(j);
        return;
    }
    ctl_json_strn(j, s, strlen(s));
}

void ctl_json_u64(ctl_json_t *j, uint64_t v)
{
    if (before_value(j))
        ctl_buf_printf(j->out, "%" PRIu64, v);
}

void ctl_json_i64(ctl_json_t *j, int64_t v)
{
    if (before_value(j))
        ctl_buf_printf(j->out, "%" PRId64, v);
}

void ctl_json_f64(ctl_json_t *j, double v)
{
    if (!before_value(j))
        return;
    if (!isfinite(v)) {
        ctl_buf_puts(j->out, "null");
        return;
    }
    /* %.17g round-trips a double; integers print without a fraction. */
    char tmp[40];
    int n = snprintf(tmp, sizeof(tmp), "%.17g", v);
    /* Shorter form when it still round-trips, so documents stay readable. */
    for (int prec = 6; prec < 17; prec++) {
        char t2[40];
        int m = snprintf(t2, sizeof(t2), "%.*g", prec, v);
        if (strtod(t2, NULL) == v) {
            memcpy(tmp, t2, (size_t)m + 1);
            n = m;
            break;
        }
    }
    ctl_buf_append(j->out, tmp, (size_t)n);
}

void ctl_json_bool(ctl_json_t *j, bool v)
{
    if (before_value(j))
        ctl_buf_puts(j->out, v ? "true" : "false");
}

void ctl_json_null(ctl_json_t *j)
{
    if (before_value(j))
        ctl_buf_puts(j->out, "null");
}

bool ctl_json_ok(const ctl_json_t *j)
{
    return !j->error && j->depth == 0 && !j->key_pending && j->count[0] == 1 && !j->out->failed;
}

void ctl_json_kstr(ctl_json_t *j, const char *key, const char *s)
{
    ctl_json_key(j, key);
    ctl_json_str(j, s);
}

void ctl_json_ku64(ctl_json_t *j, const char *key, uint64_t v)
{
    ctl_json_key(j, key);
    ctl_json_u64(j, v);
}

void ctl_json_kf64(ctl_json_t *j, const char *key, double v)
{
    ctl_json_key(j, key);
    ctl_json_f64(j, v);
}

void ctl_json_kbool(ctl_json_t *j, const char *key, bool v)
{
    ctl_json_key(j, key);
    ctl_json_bool(j, v);
}
