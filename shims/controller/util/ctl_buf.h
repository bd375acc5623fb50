/*
 * slate-controller: a growable byte buffer.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_BUF_H
#define CTL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A heap buffer that grows by doubling. An allocation failure (or growth past
 * `limit`, when non-zero) sets `failed`; later appends are ignored, so callers
 * may append freely and check once at the end.
 */
typedef struct ctl_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* 0: unlimited */
    bool failed;
} ctl_buf_t;

void ctl_buf_init(ctl_buf_t *b, size_t limit);
void ctl_buf_free(ctl_buf_t *b);
void ctl_buf_reset(ctl_buf_t *b);
/* Makes room for n more bytes; false (and `failed`) when it cannot. */
bool ctl_buf_reserve(ctl_buf_t *b, size_t n);
void ctl_buf_append(ctl_buf_t *b, const void *p, size_t n);
void ctl_buf_puts(ctl_buf_t *b, const char *s);
void ctl_buf_putc(ctl_buf_t *b, char c);
void ctl_buf_printf(ctl_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminates without counting the NUL in len; returns data (or "" when empty). */
const char *ctl_buf_cstr(ctl_buf_t *b);
/* Hands the bytes to the caller (who frees them) and leaves b empty. */
char *ctl_buf_steal(ctl_buf_t *b, size_t *len);

#endif
