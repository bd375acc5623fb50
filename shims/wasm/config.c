/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The plugin configuration parser. Security note: the input is untrusted
 * bytes. The parser never reads at or past `size` (every access goes through
 * peek()/next(), which check the index), writes strings only into the
 * fixed-size fields of sw_config_t with an explicit capacity, recurses at most
 * SW_CONFIG_MAX_DEPTH levels, and does O(1) work per input byte.
 */
#include "config.h"
#include "slate/name.h"

#include <string.h>

#define SW_SCRATCH 256u

enum kind { K_STR, K_NAME, K_PRINT, K_ENUM, K_UINT, K_RATE, K_BOOL, K_LIMITS };

struct key_def {
    const char *name;
    unsigned char kind;
    unsigned short offset; /* into sw_config_t */
    unsigned short cap;    /* strings: field capacity (incl. NUL) */
    uint32_t min, max;     /* integers: range; strings: min length */
    const char *const *choices;
};

static const char *const role_choices[] = {"filter", "reporter", NULL};
static const char *const dir_choices[] = {"auto", "inbound", "outbound", NULL};
static const char *const proto_choices[] = {"protobuf", "slate-legacy", NULL};

#define F(field) ((unsigned short)offsetof(sw_config_t, field))
#define C(field) ((unsigned short)sizeof(((sw_config_t *)0)->field))

static const struct key_def top_keys[] = {
    {"role", K_ENUM, F(role), 0, 0, 0, role_choices},
    {"service", K_NAME, F(service), C(service), 1, 0, NULL},
    {"region", K_NAME, F(region), C(region), 1, 0, NULL},
    {"pod", K_NAME, F(pod), C(pod), 0, 0, NULL},
    {"vm_id", K_PRINT, F(vm_id), C(vm_id), 0, 0, NULL},
    {"direction", K_ENUM, F(direction), 0, 0, 0, dir_choices},
    {"protocol", K_ENUM, F(protocol), 0, 0, 0, proto_choices},
    {"controller_cluster", K_PRINT, F(controller_cluster), C(controller_cluster), 1, 0, NULL},
    {"controller_authority", K_PRINT, F(controller_authority), C(controller_authority), 1, 0, NULL},
    {"controller_path", K_PRINT, F(controller_path), C(controller_path), 1, 0, NULL},
    {"controller_token", K_PRINT, F(controller_token), C(controller_token), 0, 0, NULL},
    {"tick_ms", K_UINT, F(tick_ms), 0, 10, 3600000, NULL},
    {"http_timeout_ms", K_UINT, F(http_timeout_ms), 0, 1, 600000, NULL},
    {"trace_sampling_rate", K_RATE, F(trace_sampling_rate), 0, 0, 0, NULL},
    {"rules_ttl_ms", K_UINT, F(rules_ttl_ms), 0, 1, 86400000, NULL},
    {"routing_header", K_STR, F(routing_header), C(routing_header), 1, 0, NULL},
    {"route_local_when_no_rules", K_BOOL, F(route_local_when_no_rules), 0, 0, 0, NULL},
    {"limits", K_LIMITS, 0, 0, 0, 0, NULL},
};

static const struct key_def limit_keys[] = {
    {"max_endpoints", K_UINT, F(max_endpoints), 0, 1, 4096, NULL},
    {"max_outbound", K_UINT, F(max_outbound), 0, 1, 4096, NULL},
    {"max_spans_per_tick", K_UINT, F(max_spans_per_tick), 0, 0, 65536, NULL},
    {"max_rules", K_UINT, F(max_rules), 0, 1, 4096, NULL},
    {"max_regions", K_UINT, F(max_regions), 0, 1, 256, NULL},
    {"max_response_bytes", K_UINT, F(max_response_bytes), 0, 64, 67108864, NULL},
    {"max_batch_bytes", K_UINT, F(max_batch_bytes), 0, 16384, 16777216, NULL},
    {"max_workers", K_UINT, F(max_workers), 0, 1, 1024, NULL},
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

struct parser {
    const char *s;
    size_t n, i;
    sw_config_t *cfg;
    sw_config_error_t *err;
};

void sw_config_defaults(sw_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->role = SW_ROLE_FILTER;
    cfg->direction = SW_DIR_AUTO;
    cfg->protocol = SW_PROTO_PROTOBUF;
    cfg->route_local_when_no_rules = 0;
    memcpy(cfg->routing_header, "x-slate-routeto", sizeof "x-slate-routeto");
    cfg->tick_ms = 1000;
    cfg->http_timeout_ms = 500;
    cfg->rules_ttl_ms = 30000;
    cfg->trace_sampling_rate = 0.01;
    cfg->max_endpoints = 64;
    cfg->max_outbound = 64;
    cfg->max_spans_per_tick = 128;
    cfg->max_rules = 256;
    cfg->max_regions = 16;
    cfg->max_response_bytes = 1048576;
    cfg->max_batch_bytes = 65536;
    cfg->max_workers = 128;
}

const char *sw_config_err_name(sw_config_err code)
{
    switch (code) {
    case SW_CFG_OK:
        return "ok";
    case SW_CFG_TOO_LARGE:
        return "configuration too large";
    case SW_CFG_SYNTAX:
        return "syntax error";
    case SW_CFG_NOT_OBJECT:
        return "not an object";
    case SW_CFG_TOO_DEEP:
        return "nested too deeply";
    case SW_CFG_UNKNOWN_KEY:
        return "unknown key";
    case SW_CFG_DUPLICATE_KEY:
        return "duplicate key";
    case SW_CFG_TYPE:
        return "wrong type";
    case SW_CFG_RANGE:
        return "out of range";
    case SW_CFG_STRING:
        return "bad string";
    case SW_CFG_MISSING:
        return "missing key";
    }
    return "unknown error";
}

/* Record the first error only. Returns 0 so callers can `return cfg_fail(...)`. */
static int cfg_fail(struct parser *p, sw_config_err code, const char *key, const char *reason)
{
    if (p->err->code != SW_CFG_OK)
        return 0;
    p->err->code = code;
    p->err->reason = reason;
    p->err->offset = p->i;
    size_t k = 0;
    if (key)
        for (; key[k] && k + 1 < sizeof p->err->key; k++)
            p->err->key[k] = key[k];
    p->err->key[k] = '\0';
    return 0;
}

static int peek(const struct parser *p)
{
    return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static void skip_ws(struct parser *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->i++;
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(struct parser *p, unsigned *out)
{
    if (p->n - p->i < 4)
        return 0;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)p->s[p->i + (size_t)k]);
        if (h < 0)
            return 0;
        v = v * 16u + (unsigned)h;
    }
    p->i += 4;
    *out = v;
    return 1;
}

/* Append one code point as UTF-8 if it fits; *len counts bytes even past cap. */
static void put_utf8(char *out, size_t cap, size_t *len, unsigned cp)
{
    unsigned char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    for (size_t j = 0; j < k; j++) {
        if (*len + 1 < cap)
            out[*len] = (char)b[j];
        (*len)++;
    }
}

/* Length of a valid UTF-8 sequence starting at p->i (not ASCII), or 0. */
static size_t utf8_seq(const struct parser *p)
{
    const unsigned char *u = (const unsigned char *)p->s + p->i;
    size_t left = p->n - p->i;
    unsigned c = u[0];
    size_t k;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (left < k)
        return 0;
    unsigned cp = c & (0x7Fu >> k);
    for (size_t j = 1; j < k; j++) {
        if ((u[j] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (u[j] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

/*
 * Parse a JSON string at p->i (which is '"'). Decodes into out[cap] with a
 * NUL; *len is the decoded length, which may exceed cap - 1 (then out holds a
 * truncated prefix). `key` names the value for errors.
 */
static int parse_string(struct parser *p, char *out, size_t cap, size_t *len, const char *key)
{
    *len = 0;
    p->i++; /* opening quote */
    for (;;) {
        int c = peek(p);
        if (c < 0)
            return cfg_fail(p, SW_CFG_SYNTAX, key, "unterminated string");
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20)
            return cfg_fail(p, SW_CFG_SYNTAX, key, "control character in string");
        if (c == '\\') {
            p->i++;
            int e = peek(p);
            unsigned cp;
            if (e < 0)
                return cfg_fail(p, SW_CFG_SYNTAX, key, "unterminated string");
            p->i++;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                cp = (unsigned)e;
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u':
                if (!read_hex4(p, &cp))
                    return cfg_fail(p, SW_CFG_SYNTAX, key, "bad \\u escape");
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return cfg_fail(p, SW_CFG_SYNTAX, key, "lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
                        return cfg_fail(p, SW_CFG_SYNTAX, key, "lone high surrogate");
                    p->i += 2;
                    if (!read_hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return cfg_fail(p, SW_CFG_SYNTAX, key, "bad surrogate pair");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (cp == 0)
                    return cfg_fail(p, SW_CFG_STRING, key, "NUL character in string");
                break;
            default:
                return cfg_fail(p, SW_CFG_SYNTAX, key, "bad escape");
            }
            put_utf8(out, cap, len, cp);
            continue;
        }
        if (c < 0x80) {
            if (*len + 1 < cap)
                out[*len] = (char)c;
            (*len)++;
            p->i++;
            continue;
        }
        size_t k = utf8_seq(p);
        if (k == 0)
            return cfg_fail(p, SW_CFG_SYNTAX, key, "invalid UTF-8");
        for (size_t j = 0; j < k; j++) {
            if (*len + 1 < cap)
                out[*len] = p->s[p->i + j];
            (*len)++;
        }
        p->i += k;
    }
    out[*len < cap ? *len : cap - 1] = '\0';
    return 1;
}

/* Parse a JSON number strictly. Returns 1 with the value, or 0 on error. */
static int parse_number(struct parser *p, double *out, const char *key)
{
    int neg = 0;
    uint64_t mant = 0;
    int exp10 = 0, digits = 0;
    if (peek(p) == '-') {
        neg = 1;
        p->i++;
    }
    int c = peek(p);
    if (c == '0') {
        p->i++;
        if ((c = peek(p)) >= '0' && c <= '9')
            return cfg_fail(p, SW_CFG_SYNTAX, key, "a number has a leading zero");
    } else if (c >= '1' && c <= '9') {
        while ((c = peek(p)) >= '0' && c <= '9') {
            if (digits < 19) {
                mant = mant * 10u + (uint64_t)(c - '0');
                digits++;
            } else {
                exp10++;
            }
            p->i++;
        }
    } else {
        return cfg_fail(p, SW_CFG_SYNTAX, key, "bad number");
    }
    if (peek(p) == '.') {
        p->i++;
        if (!((c = peek(p)) >= '0' && c <= '9'))
            return cfg_fail(p, SW_CFG_SYNTAX, key, "bad number");
        while ((c = peek(p)) >= '0' && c <= '9') {
            if (digits < 19 && !(mant == 0 && c == '0' && digits == 0)) {
                mant = mant * 10u + (uint64_t)(c - '0');
                digits++;
                exp10--;
            } else if (digits == 0) {
                exp10--; /* leading zeros after the point */
            }
            p->i++;
        }
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->i++;
        int eneg = 0, e = 0;
        if (peek(p) == '+' || peek(p) == '-') {
            eneg = peek(p) == '-';
            p->i++;
        }
        if (!((c = peek(p)) >= '0' && c <= '9'))
            return cfg_fail(p, SW_CFG_SYNTAX, key, "bad number");
        while ((c = peek(p)) >= '0' && c <= '9') {
            if (e < 100000)
                e = e * 10 + (c - '0');
            p->i++;
        }
        exp10 += eneg ? -e : e;
    }
    double v = (double)mant;
    if (mant != 0) {
        /* Out-of-range exponents saturate; no value here needs more than ~1e9. */
        if (exp10 > 400)
            exp10 = 400;
        if (exp10 < -400)
            exp10 = -400;
        for (; exp10 > 0; exp10--)
            v *= 10.0;
        for (; exp10 < 0; exp10++)
            v /= 10.0;
    }
    *out = neg ? -v : v;
    return 1;
}

static int expect_literal(struct parser *p, const char *lit, const char *key)
{
    size_t k = strlen(lit);
    if (p->n - p->i < k || memcmp(p->s + p->i, lit, k) != 0)
        return cfg_fail(p, SW_CFG_SYNTAX, key, "bad literal");
    p->i += k;
    return 1;
}

static int is_header_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* The name of a JSON value's type at p->i, for "expected X" reasons. */
static int value_is(const struct parser *p, char first)
{
    return peek(p) == first;
}

static int parse_value(struct parser *p, const struct key_def *def, const char *path, int depth);
static int parse_object(struct parser *p, const struct key_def *defs, size_t ndefs,
                        const char *prefix, int depth);

static int parse_value(struct parser *p, const struct key_def *def, const char *path, int depth)
{
    char *base = (char *)p->cfg;
    char buf[SW_SCRATCH];
    size_t len;
    double v;
    int c = peek(p);

    switch (def->kind) {
    case K_STR:
    case K_NAME:
    case K_PRINT:
    case K_ENUM:
        if (c != '"')
            return cfg_fail(p, SW_CFG_TYPE, path, "expected a string");
        if (!parse_string(p, buf, sizeof buf, &len, path))
            return 0;
        if (def->kind == K_ENUM) {
            for (unsigned k = 0; def->choices[k]; k++) {
                if (len == strlen(def->choices[k]) && memcmp(buf, def->choices[k], len) == 0) {
                    base[def->offset] = (char)k;
                    return 1;
                }
            }
            if (def->choices == role_choices)
                return cfg_fail(p, SW_CFG_STRING, path, "expected \"filter\" or \"reporter\"");
            if (def->choices == dir_choices)
                return cfg_fail(p, SW_CFG_STRING, path,
                                "expected \"auto\", \"inbound\" or \"outbound\"");
            return cfg_fail(p, SW_CFG_STRING, path, "expected \"protobuf\" or \"slate-legacy\"");
        }
        if (len + 1 > def->cap)
            return cfg_fail(p, SW_CFG_STRING, path, "string too long");
        if (len < def->min)
            return cfg_fail(p, SW_CFG_STRING, path, "must not be empty");
        if (def->kind == K_NAME) {
            /* The controller's naming rules (slate/name.h), checked where the name enters. */
            slate_name_kind nk = def->offset == F(service)  ? SLATE_NAME_SERVICE
                                 : def->offset == F(region) ? SLATE_NAME_REGION
                                                            : SLATE_NAME_POD;
            const char *why = NULL;
            if (slate_name_check(nk, buf, len, &why) != SLATE_OK)
                return cfg_fail(p, SW_CFG_STRING, path, why);
        }
        for (size_t k = 0; k < len; k++) {
            unsigned char u = (unsigned char)buf[k];
            if (def->kind == K_STR && !is_header_char(u))
                return cfg_fail(p, SW_CFG_STRING, path,
                                "a header name: lowercase letters, digits, '-', '_' and '.'");
            if (def->kind == K_PRINT && (u <= 0x20 || u >= 0x7F))
                return cfg_fail(p, SW_CFG_STRING, path, "printable ASCII without spaces only");
        }
        memcpy(base + def->offset, buf, len + 1);
        return 1;
    case K_UINT:
        if (!(c == '-' || (c >= '0' && c <= '9')))
            return cfg_fail(p, SW_CFG_TYPE, path, "expected an integer");
        if (!parse_number(p, &v, path))
            return 0;
        if (!(v >= (double)def->min && v <= (double)def->max) || v != (double)(uint32_t)v) {
            cfg_fail(p, SW_CFG_RANGE, path, "expected an integer in range");
            p->err->lo = def->min;
            p->err->hi = def->max;
            return 0;
        }
        {
            uint32_t u = (uint32_t)v;
            memcpy(base + def->offset, &u, sizeof u);
        }
        return 1;
    case K_RATE:
        if (!(c == '-' || (c >= '0' && c <= '9')))
            return cfg_fail(p, SW_CFG_TYPE, path, "expected a number");
        if (!parse_number(p, &v, path))
            return 0;
        if (!(v >= 0.0 && v <= 1.0))
            return cfg_fail(p, SW_CFG_RANGE, path, "expected a number from 0 to 1");
        memcpy(base + def->offset, &v, sizeof v);
        return 1;
    case K_BOOL:
        if (value_is(p, 't')) {
            if (!expect_literal(p, "true", path))
                return 0;
            base[def->offset] = 1;
            return 1;
        }
        if (value_is(p, 'f')) {
            if (!expect_literal(p, "false", path))
                return 0;
            base[def->offset] = 0;
            return 1;
        }
        return cfg_fail(p, SW_CFG_TYPE, path, "expected true or false");
    case K_LIMITS:
        if (c != '{')
            return cfg_fail(p, SW_CFG_TYPE, path, "expected an object");
        return parse_object(p, limit_keys, NKEYS(limit_keys), "limits.", depth + 1);
    }
    return cfg_fail(p, SW_CFG_SYNTAX, path, "internal error");
}

static int parse_object(struct parser *p, const struct key_def *defs, size_t ndefs,
                        const char *prefix, int depth)
{
    uint32_t seen = 0;
    char key[SW_SCRATCH];
    char path[SW_NAME_CAP];
    size_t len;

    if ((unsigned)depth > SW_CONFIG_MAX_DEPTH)
        return cfg_fail(p, SW_CFG_TOO_DEEP, NULL, "nested too deeply");
    p->i++; /* '{' */
    skip_ws(p);
    if (peek(p) == '}') {
        p->i++;
        return 1;
    }
    for (;;) {
        skip_ws(p);
        if (peek(p) != '"')
            return cfg_fail(p, SW_CFG_SYNTAX, NULL, "expected a key string");
        size_t key_at = p->i;
        if (!parse_string(p, key, sizeof key, &len, NULL))
            return 0;
        /* The dotted path names the key in errors, truncated if absurdly long. */
        size_t plen = strlen(prefix);
        memcpy(path, prefix, plen);
        size_t klen = len < sizeof key - 1 ? len : sizeof key - 1;
        if (plen + klen > sizeof path - 1)
            klen = sizeof path - 1 - plen;
        memcpy(path + plen, key, klen);
        path[plen + klen] = '\0';

        const struct key_def *def = NULL;
        size_t idx = 0;
        for (; idx < ndefs; idx++) {
            if (len == strlen(defs[idx].name) && memcmp(key, defs[idx].name, len) == 0) {
                def = &defs[idx];
                break;
            }
        }
        if (!def) {
            p->i = key_at;
            return cfg_fail(p, SW_CFG_UNKNOWN_KEY, path, "unknown key");
        }
        if (seen & (1u << idx)) {
            p->i = key_at;
            return cfg_fail(p, SW_CFG_DUPLICATE_KEY, path, "key given twice");
        }
        seen |= 1u << idx;
        skip_ws(p);
        if (peek(p) != ':')
            return cfg_fail(p, SW_CFG_SYNTAX, path, "expected ':'");
        p->i++;
        skip_ws(p);
        if (!parse_value(p, def, path, depth))
            return 0;
        skip_ws(p);
        int c = peek(p);
        if (c == ',') {
            p->i++;
            continue;
        }
        if (c == '}') {
            p->i++;
            return 1;
        }
        return cfg_fail(p, SW_CFG_SYNTAX, path, "expected ',' or '}' after the value");
    }
}

sw_config_err sw_config_parse(sw_config_t *cfg, const char *json, size_t size, int default_role,
                              sw_config_error_t *err)
{
    sw_config_t tmp;
    struct parser p = {json, size, 0, &tmp, err};

    memset(err, 0, sizeof *err);
    err->reason = "ok";
    sw_config_defaults(cfg);
    sw_config_defaults(&tmp);
    tmp.role = default_role == SW_ROLE_REPORTER ? SW_ROLE_REPORTER : SW_ROLE_FILTER;
    if (size > SW_CONFIG_MAX_INPUT) {
        cfg_fail(&p, SW_CFG_TOO_LARGE, NULL, "configuration larger than 64 KiB");
        return err->code;
    }
    if (!json)
        p.n = 0;
    skip_ws(&p);
    /* No configuration (an Istio WasmPlugin without pluginConfig) is every
     * default; the service and region come from the proxy (module.c,
     * slate/identity.h). The cross-key rules below apply either way. */
    if (p.n != 0 && p.i != p.n) {
        if (peek(&p) != '{') {
            cfg_fail(&p, SW_CFG_NOT_OBJECT, NULL, "the configuration must be a JSON object");
            return err->code;
        }
        if (!parse_object(&p, top_keys, NKEYS(top_keys), "", 1))
            return err->code;
        skip_ws(&p);
        if (p.i != p.n) {
            cfg_fail(&p, SW_CFG_SYNTAX, NULL, "text after the configuration object");
            return err->code;
        }
    }
    /* Cross-key rules. An absent service or region is learnt from the proxy
     * when the plugin starts (module.c, slate/identity.h). */
    if (tmp.role == SW_ROLE_REPORTER && tmp.controller_cluster[0] == '\0') {
        cfg_fail(&p, SW_CFG_MISSING, "controller_cluster", "required when role is \"reporter\"");
        return err->code;
    }
    if (tmp.controller_path[0] == '\0') {
        const char *d = tmp.protocol == SW_PROTO_LEGACY ? "/proxyLoad" : "/v1/report";
        memcpy(tmp.controller_path, d, strlen(d) + 1);
    }
    if (tmp.controller_path[0] != '/') {
        cfg_fail(&p, SW_CFG_STRING, "controller_path", "must start with '/'");
        return err->code;
    }
    if ((tmp.role == SW_ROLE_REPORTER || tmp.controller_cluster[0]) &&
        tmp.http_timeout_ms >= tmp.tick_ms) {
        cfg_fail(&p, SW_CFG_RANGE, "http_timeout_ms", "must be less than tick_ms");
        return err->code;
    }
    if (tmp.controller_authority[0] == '\0')
        memcpy(tmp.controller_authority, tmp.controller_cluster, sizeof tmp.controller_authority);
    memcpy(cfg, &tmp, sizeof tmp); /* padding too: callers compare configurations bytewise */
    return SW_CFG_OK;
}
