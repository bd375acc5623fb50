/*
 * Strict readers of what the controller's exports write, shared by the
 * export fuzz target and the export unit tests. Test code: not a general
 * YAML or JSON parser, and stricter than either standard on purpose.
 *
 * YAML: the block subset the exporter emits. Lines end in '\n' and hold
 * only printable ASCII; a line is a comment ("# ..." at column 0), a
 * document separator ("---"), or indentation (spaces), an optional "- "
 * (sequence item) and either "key:" (a block follows), "key: value" or a
 * lone value (sequence items). A key or value is a double-quoted scalar
 * (escapes \" \\ \xHH \uHHHH \UHHHHHHHH only, decoded to UTF-8) or a plain one of [A-Za-z0-9./-]
 * starting with a letter or digit; a plain value must be all digits (an integer) or start with a
 * letter and not be one of YAML's null or boolean words, and "[]" is the empty sequence.
 * Indentation decides nesting as in YAML (a sequence may sit at its key's indentation); keys repeat
 * in no mapping; "key:" with nothing below it (a null) is refused. Each scalar is reported with its
 * path of keys ("spec/http/route/destination/subset"; sequence items add
 * nothing), decoded.
 *
 * JSON: RFC 8259 (objects, arrays, strings with every escape and UTF-8
 * checked, numbers, literals), one value and an optional final newline;
 * duplicate keys refused; each string and number reported with its key
 * path, strings decoded (only \uXXXX below 0x80 are decoded; the exporter
 * writes no others).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_FUZZ_EXPORT_CHECK_H
#define SLATE_FUZZ_EXPORT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define EXC_MAX_PATH  1024
#define EXC_MAX_VALUE 8192
#define EXC_MAX_LINES 4096
#define EXC_MAX_KEYS  32
#define EXC_MAX_KEY   512

/* One scalar: its key path and decoded value; `plain_int` when an unquoted integer. */
typedef void (*exc_scalar_fn)(void *ctx, const char *path, const char *value, bool plain_int);

/* ---- YAML ---------------------------------------------------------------- */

typedef struct exc_line {
    const char *s; /* content after indentation (and after "- " once consumed) */
    size_t len;
    int indent;
    bool dash;
} exc_line_t;

typedef struct exc_yaml {
    exc_line_t *lines;
    size_t n, at;
    exc_scalar_fn cb;
    void *ctx;
    char path[EXC_MAX_PATH];
    size_t path_len;
    int depth;
} exc_yaml_t;

static inline bool exc_plain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/' || c == '-';
}

static inline int exc_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends code point v as UTF-8; returns the bytes written. */
static inline size_t exc_utf8_put(char *out, uint32_t v)
{
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        out[0] = (char)(0xc0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3f));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xe0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
        out[2] = (char)(0x80 | (v & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (v >> 18));
    out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
    out[3] = (char)(0x80 | (v & 0x3f));
    return 4;
}

/*
 * Reads one scalar at s[0..len): returns the bytes it took (0 = malformed),
 * its decoded text in out (NUL-terminated), and whether it was plain.
 * A plain scalar ends at ':' followed by ' ' or end, or at the end.
 */
static inline size_t exc_yaml_scalar(const char *s, size_t len, char *out, bool *plain, bool key)
{
    size_t o = 0, i = 0;
    if (len == 0)
        return 0;
    if (s[0] == '"') {
        *plain = false;
        for (i = 1; i < len && s[i] != '"'; i++) {
            char c = s[i];
            if (c == '\\') {
                if (i + 1 >= len)
                    return 0;
                char e = s[++i];
                uint32_t v = 0;
                int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
                if (e == '"' || e == '\\') {
                    v = (unsigned char)e;
                } else if (digits == 0 || i + (size_t)digits >= len) {
                    return 0;
                } else {
                    for (int k = 1; k <= digits; k++) {
                        int h = exc_hex(s[i + (size_t)k]);
                        if (h < 0)
                            return 0;
                        v = v * 16 + (uint32_t)h;
                    }
                    i += (size_t)digits;
                }
                if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ||
                    o + 5 >= EXC_MAX_VALUE)
                    return 0;
                o += exc_utf8_put(out + o, v);
                continue;
            }
            if (o + 1 >= EXC_MAX_VALUE)
                return 0;
            out[o++] = c;
        }
        if (i >= len)
            return 0;
        out[o] = '\0';
        return i + 1;
    }
    *plain = true;
    if (len == 2 && s[0] == '[' && s[1] == ']' && !key) {
        memcpy(out, "[]", 3);
        return 2;
    }
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
          (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (i = 0; i < len && exc_plain_char(s[i]); i++) {
        if (o + 1 >= EXC_MAX_VALUE)
            return 0;
        out[o++] = s[i];
    }
    out[o] = '\0';
    if (!key) {
        bool digits = true;
        for (size_t k = 0; k < o; k++)
            digits = digits && out[k] >= '0' && out[k] <= '9';
        if (!digits && (out[0] >= '0' && out[0] <= '9'))
            return 0; /* 1e3, 0x1f, 1.5: numbers or near-numbers */
        static const char *const words[] = {"y",     "n",     "yes",  "no",  "on",  "off",  "true",
                                            "false", "null",  "Y",    "N",   "Yes", "No",   "On",
                                            "Off",   "YES",   "NO",   "ON",  "OFF", "True", "TRUE",
                                            "False", "FALSE", "Null", "NULL"};
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
            if (strcmp(out, words[w]) == 0)
                return 0;
    }
    return i;
}

static inline bool exc_yaml_node(exc_yaml_t *y, int indent);

static inline bool exc_yaml_value(exc_yaml_t *y, const char *s, size_t len)
{
    static char v[EXC_MAX_VALUE];
    bool plain = false;
    size_t took = exc_yaml_scalar(s, len, v, &plain, false);
    if (took == 0 || took != len)
        return false;
    bool is_int = plain && v[0] >= '0' && v[0] <= '9';
    if (strcmp(v, "[]") != 0 || !plain)
        y->cb(y->ctx, y->path, v, is_int);
    return true;
}

static inline bool exc_yaml_map(exc_yaml_t *y, int indent)
{
    char keys[EXC_MAX_KEYS][EXC_MAX_KEY];
    size_t n_keys = 0;
    while (y->at < y->n && y->lines[y->at].indent == indent && !y->lines[y->at].dash) {
        exc_line_t *l = &y->lines[y->at];
        char key[EXC_MAX_VALUE];
        bool plain = false;
        size_t took = exc_yaml_scalar(l->s, l->len, key, &plain, true);
        if (took == 0 || took >= l->len || l->s[took] != ':' || strlen(key) >= EXC_MAX_KEY)
            return false;
        for (size_t k = 0; k < n_keys; k++)
            if (strcmp(keys[k], key) == 0)
                return false; /* a duplicate key */
        if (n_keys == EXC_MAX_KEYS)
            return false;
        memcpy(keys[n_keys++], key, strlen(key) + 1);
        size_t saved = y->path_len, kl = strlen(key);
        if (saved + kl + 2 >= EXC_MAX_PATH)
            return false;
        if (saved)
            y->path[y->path_len++] = '/';
        memcpy(y->path + y->path_len, key, kl + 1);
        y->path_len += kl;
        const char *rest = l->s + took + 1;
        size_t rest_len = l->len - took - 1;
        y->at++;
        if (rest_len > 0) {
            if (rest[0] != ' ' || rest_len < 2 || rest[1] == ' ')
                return false;
            if (!exc_yaml_value(y, rest + 1, rest_len - 1))
                return false;
        } else {
            /* a block below: deeper, or a sequence at the key's indentation */
            if (y->at >= y->n)
                return false;
            exc_line_t *nx = &y->lines[y->at];
            if (nx->indent > indent) {
                if (!exc_yaml_node(y, nx->indent))
                    return false;
            } else if (nx->indent == indent && nx->dash) {
                if (!exc_yaml_node(y, indent))
                    return false;
            } else {
                return false; /* a null value */
            }
        }
        y->path_len = saved;
        y->path[saved] = '\0';
    }
    return true;
}

static inline bool exc_yaml_seq(exc_yaml_t *y, int indent)
{
    while (y->at < y->n && y->lines[y->at].indent == indent && y->lines[y->at].dash) {
        exc_line_t *l = &y->lines[y->at];
        if (l->len < 2 || l->s[0] != '-' || l->s[1] != ' ')
            return false;
        l->s += 2;
        l->len -= 2;
        l->indent += 2;
        l->dash = l->len >= 1 && l->s[0] == '-';
        if (l->dash || l->len == 0 || l->s[0] == ' ')
            return false; /* nested "- -" and empty items are not emitted */
        /* a mapping starting on the item's line, or one scalar */
        char tmp[EXC_MAX_VALUE];
        bool plain = false;
        size_t took = exc_yaml_scalar(l->s, l->len, tmp, &plain, true);
        if (took > 0 && took < l->len && l->s[took] == ':') {
            if (!exc_yaml_map(y, l->indent))
                return false;
        } else {
            y->at++;
            if (!exc_yaml_value(y, l->s, l->len))
                return false;
        }
    }
    return true;
}

static inline bool exc_yaml_node(exc_yaml_t *y, int indent)
{
    if (++y->depth > 32)
        return false;
    bool ok = y->lines[y->at].dash ? exc_yaml_seq(y, indent) : exc_yaml_map(y, indent);
    y->depth--;
    return ok;
}

/* Checks a YAML stream (documents separated by "---"); true when it conforms. */
static inline bool exc_yaml_check(const char *s, size_t n, exc_scalar_fn cb, void *ctx)
{
    static exc_line_t lines[EXC_MAX_LINES];
    exc_yaml_t y = {.lines = lines, .cb = cb, .ctx = ctx};
    if (n == 0 || s[n - 1] != '\n')
        return false;
    size_t docs = 0;
    for (size_t i = 0; i <= n;) {
        /* one document: lines up to "---" or the end */
        y.n = 0;
        y.at = 0;
        bool sep = false;
        while (i < n) {
            const char *ln = s + i;
            const char *nl = memchr(ln, '\n', n - i);
            size_t len = (size_t)(nl - ln);
            i += len + 1;
            for (size_t k = 0; k < len; k++)
                if (ln[k] < 0x20 || ln[k] > 0x7e)
                    return false;
            if (len == 3 && memcmp(ln, "---", 3) == 0) {
                sep = true;
                break;
            }
            if (len > 0 && ln[0] == '#')
                continue;
            int ind = 0;
            while ((size_t)ind < len && ln[ind] == ' ')
                ind++;
            if ((size_t)ind == len || ln[len - 1] == ' ')
                return false; /* blank lines and trailing spaces are not emitted */
            if (y.n == EXC_MAX_LINES)
                return false;
            y.lines[y.n++] = (exc_line_t){ln + ind, len - (size_t)ind, ind, ln[ind] == '-'};
        }
        if (y.n == 0)
            return false; /* an empty document */
        y.path_len = 0;
        y.path[0] = '\0';
        if (y.lines[0].indent != 0 || y.lines[0].dash || !exc_yaml_node(&y, 0) || y.at != y.n)
            return false;
        docs++;
        if (i >= n && !sep)
            break;
    }
    return docs > 0;
}

/* ---- JSON ---------------------------------------------------------------- */

typedef struct exc_json {
    const char *s;
    size_t n, i;
    exc_scalar_fn cb;
    void *ctx;
    char path[EXC_MAX_PATH];
    size_t path_len;
    int depth;
} exc_json_t;

static inline void exc_ws(exc_json_t *j)
{
    while (j->i < j->n &&
           (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r'))
        j->i++;
}

/* A string at j->i (the opening quote); decoded into out (cap EXC_MAX_VALUE). */
static inline bool exc_json_string(exc_json_t *j, char *out)
{
    size_t o = 0;
    if (j->i >= j->n || j->s[j->i] != '"')
        return false;
    j->i++;
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->s[j->i];
        if (c == '"') {
            j->i++;
            out[o] = '\0';
            return true;
        }
        if (o + 5 >= EXC_MAX_VALUE || c < 0x20)
            return false;
        if (c == '\\') {
            if (j->i + 1 >= j->n)
                return false;
            char e = j->s[j->i + 1];
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *p = e ? strchr(from, e) : NULL;
            if (p) {
                out[o++] = to[p - from];
                j->i += 2;
                continue;
            }
            if (e != 'u' || j->i + 5 >= j->n)
                return false;
            unsigned v = 0;
            for (int k = 0; k < 4; k++) {
                int h = exc_hex(j->s[j->i + 2 + k]);
                if (h < 0)
                    return false;
                v = v * 16 + (unsigned)h;
            }
            if (v >= 0xd800 && v <= 0xdfff)
                return false; /* surrogates: the exporter writes none */
            if (v == 0)
                return false;
            if (v < 0x80) {
                out[o++] = (char)v;
            } else { /* kept escaped: the callers compare ASCII names only */
                if (o + 7 >= EXC_MAX_VALUE)
                    return false;
                memcpy(out + o, j->s + j->i, 6);
                o += 6;
            }
            j->i += 6;
            continue;
        }
        /* UTF-8: well formed, shortest form, no surrogates, at most U+10FFFF */
        size_t need = c < 0x80             ? 0
                      : (c & 0xe0) == 0xc0 ? 1
                      : (c & 0xf0) == 0xe0 ? 2
                      : (c & 0xf8) == 0xf0 ? 3
                                           : 9;
        if (need == 9 || c == 0xc0 || c == 0xc1 || c > 0xf4 || j->i + need >= j->n)
            return false;
        for (size_t k = 1; k <= need; k++)
            if (((unsigned char)j->s[j->i + k] & 0xc0) != 0x80)
                return false;
        unsigned char c1 = need ? (unsigned char)j->s[j->i + 1] : 0;
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
            (c == 0xf4 && c1 > 0x8f))
            return false;
        if (o + need + 1 >= EXC_MAX_VALUE)
            return false;
        memcpy(out + o, j->s + j->i, need + 1);
        o += need + 1;
        j->i += need + 1;
    }
    return false;
}

static inline bool exc_json_value(exc_json_t *j);

/* After a member or element: 1 at ',' (another follows), 0 at `close`, -1 otherwise. */
static inline int exc_json_more(exc_json_t *j, char close)
{
    exc_ws(j);
    if (j->i < j->n && (j->s[j->i] == ',' || j->s[j->i] == close))
        return j->s[j->i++] == ',' ? 1 : 0;
    return -1;
}

static inline bool exc_json_number(exc_json_t *j)
{
    size_t b = j->i;
    if (j->i < j->n && j->s[j->i] == '-')
        j->i++;
    if (j->i >= j->n)
        return false;
    if (j->s[j->i] == '0') {
        j->i++;
    } else if (j->s[j->i] >= '1' && j->s[j->i] <= '9') {
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
            j->i++;
    } else {
        return false;
    }
    bool is_int = true;
    if (j->i < j->n && j->s[j->i] == '.') {
        is_int = false;
        j->i++;
        size_t d = j->i;
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
            j->i++;
        if (j->i == d)
            return false;
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        is_int = false;
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
            j->i++;
        size_t d = j->i;
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
            j->i++;
        if (j->i == d)
            return false;
    }
    char v[64];
    size_t len = j->i - b;
    if (len >= sizeof(v))
        return false;
    memcpy(v, j->s + b, len);
    v[len] = '\0';
    j->cb(j->ctx, j->path, v, is_int && v[0] != '-');
    return true;
}

static inline bool exc_json_value(exc_json_t *j)
{
    static char v[EXC_MAX_VALUE];
    if (++j->depth > 64)
        return false;
    exc_ws(j);
    if (j->i >= j->n)
        return false;
    char c = j->s[j->i];
    bool ok = true;
    if (c == '{') {
        char keys[EXC_MAX_KEYS][EXC_MAX_KEY];
        size_t n_keys = 0;
        j->i++;
        exc_ws(j);
        if (j->i < j->n && j->s[j->i] == '}') {
            j->i++;
        } else {
            for (;;) {
                exc_ws(j);
                if (!exc_json_string(j, v) || strlen(v) >= EXC_MAX_KEY || n_keys == EXC_MAX_KEYS)
                    return false;
                for (size_t k = 0; k < n_keys; k++)
                    if (strcmp(keys[k], v) == 0)
                        return false;
                size_t kl = strlen(v);
                memcpy(keys[n_keys++], v, kl + 1);
                size_t saved = j->path_len;
                if (saved + kl + 2 >= EXC_MAX_PATH)
                    return false;
                if (saved)
                    j->path[j->path_len++] = '/';
                memcpy(j->path + j->path_len, v, kl + 1);
                j->path_len += kl;
                exc_ws(j);
                if (j->i >= j->n || j->s[j->i] != ':')
                    return false;
                j->i++;
                if (!exc_json_value(j))
                    return false;
                j->path_len = saved;
                j->path[saved] = '\0';
                int more = exc_json_more(j, '}');
                if (more < 0)
                    return false;
                if (more == 0)
                    break;
            }
        }
    } else if (c == '[') {
        j->i++;
        exc_ws(j);
        if (j->i < j->n && j->s[j->i] == ']') {
            j->i++;
        } else {
            for (;;) {
                if (!exc_json_value(j))
                    return false;
                int more = exc_json_more(j, ']');
                if (more < 0)
                    return false;
                if (more == 0)
                    break;
            }
        }
    } else if (c == '"') {
        ok = exc_json_string(j, v);
        if (ok)
            j->cb(j->ctx, j->path, v, false);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        ok = exc_json_number(j);
    } else {
        static const char *const lits[] = {"true", "false", "null"};
        ok = false;
        for (size_t k = 0; k < 3 && !ok; k++) {
            size_t l = strlen(lits[k]);
            if (j->n - j->i >= l && memcmp(j->s + j->i, lits[k], l) == 0) {
                j->i += l;
                ok = true;
            }
        }
    }
    j->depth--;
    return ok;
}

/* Checks one JSON text; true when it conforms. */
static inline bool exc_json_check(const char *s, size_t n, exc_scalar_fn cb, void *ctx)
{
    exc_json_t j = {.s = s, .n = n, .cb = cb, .ctx = ctx};
    if (!exc_json_value(&j))
        return false;
    exc_ws(&j);
    return j.i == n;
}

/* ---- names ---------------------------------------------------------------- */

/* A DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63 bytes. */
static inline bool exc_dns_label(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!an && !(c == '-' && i > 0 && i + 1 < n))
            return false;
    }
    return true;
}

/* A DNS-1123 subdomain: labels joined by '.', 1..253 bytes. */
static inline bool exc_dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!exc_dns_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

#endif
