/*
 * Reads SLATE's trace files (the global controller's span records, see
 * shared/data/slate/README.md) and writes each record as the span line SLATE's
 * plugin sends in a /proxyLoad body, formatted the way the plugin's Go code
 * formats it (fmt "%s %s %s %s %s %s %s %d %d %d %s\n", load entries
 * "method@path,rps,inflight|"). Used by tests/test_legacy.c, the legacy fuzz
 * seed generator and bench/bench_legacy.c. Test-side code: stdio and snprintf.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_TESTS_TRACE_CSV_H
#define SLATE_TESTS_TRACE_CSV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TCSV_MAX_LOAD 8

typedef struct {
    char method[16];
    char path[128];
    uint64_t rps, inflight;
} tcsv_load_t;

typedef struct {
    char region[64], service[64], method[16], path[128];
    char trace_id[64], span_id[32], parent_span_id[32]; /* parent "" for a root ("nan") */
    uint64_t start_ms, end_ms;                          /* relative, whole ms */
    int64_t call_size;                                  /* -1 when unknown */
    tcsv_load_t load[TCSV_MAX_LOAD];
    size_t n_load;
} tcsv_span_t;

/* Copy field [p, p+n) into dst (size cap); 0 if it does not fit. */
static inline int tcsv_copy(char *dst, size_t cap, const char *p, size_t n)
{
    if (n + 1 > cap)
        return 0;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 1;
}

/* "12.0" -> 12 (SLATE's float ms with a zero fraction). */
static inline int tcsv_ms(const char *p, size_t n, uint64_t *out)
{
    char tmp[32];
    if (!tcsv_copy(tmp, sizeof tmp, p, n))
        return 0;
    char *end;
    double v = strtod(tmp, &end);
    if (*end || v < 0 || v != (double)(uint64_t)v)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* One dict "svc@method@path:value|..." -> set rps or inflight of entries by endpoint. */
static inline int tcsv_dict(tcsv_span_t *s, const char *p, size_t n, int is_rps)
{
    size_t i = 0;
    while (i < n) {
        const char *bar = memchr(p + i, '|', n - i);
        size_t end = bar ? (size_t)(bar - p) : n;
        const char *e = p + i;
        size_t en = end - i;
        const char *colon = NULL;
        for (size_t k = en; k > 0; k--)
            if (e[k - 1] == ':') {
                colon = e + k - 1;
                break;
            }
        if (!colon)
            return 0;
        const char *at1 = memchr(e, '@', (size_t)(colon - e));
        if (!at1)
            return 0;
        const char *m = at1 + 1;
        const char *at2 = memchr(m, '@', (size_t)(colon - m));
        if (!at2)
            return 0;
        char method[16], path[128], num[32];
        if (!tcsv_copy(method, sizeof method, m, (size_t)(at2 - m)) ||
            !tcsv_copy(path, sizeof path, at2 + 1, (size_t)(colon - at2 - 1)) ||
            !tcsv_copy(num, sizeof num, colon + 1, (size_t)(e + en - colon - 1)))
            return 0;
        uint64_t v = strtoull(num, NULL, 10);
        size_t j;
        for (j = 0; j < s->n_load; j++)
            if (!strcmp(s->load[j].method, method) && !strcmp(s->load[j].path, path))
                break;
        if (j == s->n_load) {
            if (s->n_load == TCSV_MAX_LOAD)
                return 0;
            memset(&s->load[j], 0, sizeof s->load[j]);
            strcpy(s->load[j].method, method);
            strcpy(s->load[j].path, path);
            s->n_load++;
        }
        if (is_rps)
            s->load[j].rps = v;
        else
            s->load[j].inflight = v;
        i = bar ? end + 1 : n;
    }
    return 1;
}

/* Parse one CSV row (15 columns, no quoting in these files). */
static inline int tcsv_parse_row(const char *line, size_t n, tcsv_span_t *s)
{
    const char *f[15];
    size_t fl[15], nf = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || line[i] == ',') {
            if (nf == 15)
                return 0;
            f[nf] = line + start;
            fl[nf] = i - start;
            nf++;
            start = i + 1;
        }
    }
    if (nf != 15)
        return 0;
    memset(s, 0, sizeof *s);
    if (!tcsv_copy(s->region, sizeof s->region, f[0], fl[0]) ||
        !tcsv_copy(s->service, sizeof s->service, f[1], fl[1]) ||
        !tcsv_copy(s->method, sizeof s->method, f[2], fl[2]) ||
        !tcsv_copy(s->path, sizeof s->path, f[3], fl[3]) ||
        !tcsv_copy(s->trace_id, sizeof s->trace_id, f[4], fl[4]) ||
        !tcsv_copy(s->span_id, sizeof s->span_id, f[5], fl[5]) ||
        !tcsv_copy(s->parent_span_id, sizeof s->parent_span_id, f[6], fl[6]))
        return 0;
    if (!strcmp(s->parent_span_id, "nan"))
        s->parent_span_id[0] = '\0';
    if (!tcsv_ms(f[7], fl[7], &s->start_ms) || !tcsv_ms(f[8], fl[8], &s->end_ms))
        return 0;
    char tmp[32];
    if (!tcsv_copy(tmp, sizeof tmp, f[12], fl[12]))
        return 0;
    s->call_size = strtoll(tmp, NULL, 10);
    /* rps first, so entries follow the rps dict's order */
    return tcsv_dict(s, f[14], fl[14], 1) && tcsv_dict(s, f[13], fl[13], 0);
}

/* Read up to cap records; returns the count, or -1 if the file is unreadable or malformed. */
static inline int tcsv_read(const char *file, tcsv_span_t *out, size_t cap)
{
    FILE *fp = fopen(file, "r");
    if (!fp)
        return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if ((size_t)n == cap || !tcsv_parse_row(line, len, &out[n])) {
            fclose(fp);
            return -1;
        }
        n++;
    }
    fclose(fp);
    return n;
}

/* The load list as SLATE's plugin writes it: "method@path,rps,inflight|" per entry. */
static inline size_t tcsv_load_list(const tcsv_span_t *s, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n_load; i++) {
        int k =
            snprintf(buf + len, cap - len, "%s@%s,%llu,%llu|", s->load[i].method, s->load[i].path,
                     (unsigned long long)s->load[i].rps, (unsigned long long)s->load[i].inflight);
        if (k < 0 || (size_t)k >= cap - len)
            return 0;
        len += (size_t)k;
    }
    return len;
}

/*
 * Append the span line SLATE's plugin would send for this record:
 * region, service, method, path, traceId, spanId, parentSpanId, start, end
 * (unix ms: base_ms + the record's relative ms), bodySize (call_size, 0 when
 * unknown), load list. Returns the new length, or 0 if it does not fit.
 */
static inline size_t tcsv_span_line(const tcsv_span_t *s, uint64_t base_ms, char *buf, size_t len,
                                    size_t cap)
{
    char loads[1024];
    size_t ln = tcsv_load_list(s, loads, sizeof loads);
    if (s->n_load && !ln)
        return 0;
    loads[ln] = '\0';
    int k = snprintf(buf + len, cap - len, "%s %s %s %s %s %s %s %llu %llu %lld %s\n", s->region,
                     s->service, s->method, s->path, s->trace_id, s->span_id, s->parent_span_id,
                     (unsigned long long)(base_ms + s->start_ms),
                     (unsigned long long)(base_ms + s->end_ms),
                     (long long)(s->call_size < 0 ? 0 : s->call_size), ln ? loads : "NOT FOUND");
    if (k < 0 || (size_t)k >= cap - len)
        return 0;
    return len + (size_t)k;
}

#endif /* SLATE_TESTS_TRACE_CSV_H */
