/*
 * slate-controller: a streaming JSON writer into a ctl_buf_t.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_buf.h"

#define CTL_JSON_MAX_DEPTH 32

/*
 * Emits compact JSON (RFC 8259). Commas and colons are placed automatically.
 * Strings are escaped; bytes that are not valid UTF-8 become U+FFFD, so the
 * output is always valid JSON even for hostile input. Non-finite numbers are
 * written as null. Misuse (a value where a key is due, unbalanced ends, depth
 * past CTL_JSON_MAX_DEPTH) sets `error`, and the caller must not use the output.
 */
typedef struct ctl_json {
    ctl_buf_t *out;
    int depth;
    bool error;
    /* per level: 1 = object, 0 = array */
    uint8_t is_obj[CTL_JSON_MAX_DEPTH];
    /* per level: number of members written so far */
    uint32_t count[CTL_JSON_MAX_DEPTH];
    /* inside an object, a key has been written and its value is due */
    bool key_pending;
} ctl_json_t;

void ctl_json_init(ctl_json_t *j, ctl_buf_t *out);
void ctl_json_obj(ctl_json_t *j);
void ctl_json_obj_end(ctl_json_t *j);
void ctl_json_arr(ctl_json_t *j);
void ctl_json_arr_end(ctl_json_t *j);
void ctl_json_key(ctl_json_t *j, const char *key);
void ctl_json_keyn(ctl_json_t *j, const char *key, size_t len);
void ctl_json_str(ctl_json_t *j, const char *s);
void ctl_json_strn(ctl_json_t *j, const char *s, size_t len);
void ctl_json_u64(ctl_json_t *j, uint64_t v);
void ctl_json_i64(ctl_json_t *j, int64_t v);
void ctl_json_f64(ctl_json_t *j, double v);
void ctl_json_bool(ctl_json_t *j, bool v);
void ctl_json_null(ctl_json_t *j);
/* A member of the current object: the key, then its value. */
void ctl_json_kstr(ctl_json_t *j, const char *key, const char *s);
void ctl_json_ku64(ctl_json_t *j, const char *key, uint64_t v);
void ctl_json_kf64(ctl_json_t *j, const char *key, double v);
void ctl_json_kbool(ctl_json_t *j, const char *key, bool v);
/* True when the document is complete (depth 0, no error, buffer intact). */
bool ctl_json_ok(const ctl_json_t *j);

/* Appends the escaped body of a JSON string (no quotes). */
void ctl_json_escape(ctl_buf_t *out, const char *s, size_t len);

#endif
