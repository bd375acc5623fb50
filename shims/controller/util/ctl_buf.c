/*
 * slate-controller: a growable byte buffer.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ctl_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_buf_init(ctl_buf_t *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void ctl_buf_free(ctl_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void ctl_buf_reset(ctl_buf_t *b)
{
    b->len = 0;
    b->failed = false;
}

bool ctl_buf_reserve(ctl_buf_t *b, size_t n)
{
    if (b->failed)
        return false;
    if (n > SIZE_MAX - b->len - 1 || (b->limit && b->len + n > b->limit)) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + n + 1; /* room for a terminating NUL */
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void ctl_buf_append(ctl_buf_t *b, const void *p, size_t n)
{
    if (n == 0 || !ctl_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ctl_buf_puts(ctl_buf_t *b, const char *s)
{
    ctl_buf_append(b, s, strlen(s));
}

void ctl_buf_putc(ctl_buf_t *b, char c)
{
    ctl_buf_append(b, &c, 1);
}

void ctl_buf_printf(ctl_buf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        ctl_buf_append(b, small, (size_t)n);
        return;
    }
    if (!ctl_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *ctl_buf_cstr(ctl_buf_t *b)
{
    if (!b->data && !ctl_buf_reserve(b, 0))
        return "";
    if (!b->data)
        return "";
    b->data[b->len] = '\0';
    return b->data;
}

char *ctl_buf_steal(ctl_buf_t *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
