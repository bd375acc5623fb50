/*
 * A minimal program built against an installed libslate, the way a proxy
 * author's project would consume it (CMake find_package or pkg-config).
 * It checks that header and library agree and uses the core structures.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <slate/slate.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MS 1000000ull

static int fail(const char *what)
{
    fprintf(stderr, "consumer: %s\n", what);
    return 1;
}

/* A per-endpoint rate estimator in heap memory: 2,500 requests over 1.25 s. */
static int use_rate(void)
{
    size_t len = slate_rate_size(NULL); /* the defaults: 1 s window, 1 ms resolution */
    if (len == 0 || len > 8192)
        return fail("slate_rate_size");
    void *mem = malloc(len); /* malloc aligns for any type, so to 8 bytes */
    if (!mem)
        return fail("malloc");
    int rc = 0;
    if (slate_rate_init(mem, len, NULL) != SLATE_OK)
        rc = fail("slate_rate_init");
    slate_rate_t *r = mem;
    /* Two requests every millisecond from t = 10 s to 11.25 s. */
    for (uint64_t i = 0; rc == 0 && i < 2500; i++)
        if (slate_rate_add(r, 10000 * MS + (i / 2) * MS) != SLATE_OK)
            rc = fail("slate_rate_add");
    /* The last second is ticks 10250 .. 11249: 1000 ms at 2 per ms. */
    uint64_t now = 11249 * MS;
    if (rc == 0 && slate_rate_count(r, now) != 2000)
        rc = fail("slate_rate_count");
    if (rc == 0 && slate_rate_per_second(r, now) != 2000.0)
        rc = fail("slate_rate_per_second");
    if (rc == 0 && slate_rate_validate(mem, len) != SLATE_OK)
        rc = fail("slate_rate_validate");
    if (rc == 0)
        printf("rate: %llu requests in the last second (%zu-byte region)\n",
               (unsigned long long)slate_rate_count(r, now), len);
    free(mem);
    return rc;
}

/* Latency statistics: 1 ms .. 100 ms, one sample per 100 us. */
static int use_stats(void)
{
    slate_stats_t *s = malloc(sizeof *s);
    if (!s)
        return fail("malloc");
    slate_stats_init(s);
    for (uint64_t v = 1; v <= 1000; v++)
        slate_stats_add(s, v * 100000);
    int rc = 0;
    uint64_t p99 = slate_stats_quantile(s, 0.99); /* exact: sample 990, 99 ms */
    if (s->count != 1000 || s->min_ns != 100000 || s->max_ns != 100000000)
        rc = fail("slate_stats_add");
    else if (p99 < 99000000 * 0.99 || p99 > 99000000 * 1.01)
        rc = fail("slate_stats_quantile");
    else if (slate_stats_validate(s) != SLATE_OK)
        rc = fail("slate_stats_validate");
    else
        printf("stats: mean %.1f ms, p99 %.2f ms\n", s->mean_ns / 1e6, (double)p99 / 1e6);
    free(s);
    return rc;
}

int main(void)
{
    if (slate_version_number() != SLATE_VERSION_NUMBER) {
        fprintf(stderr, "header %s but library %s\n", SLATE_VERSION_STRING, slate_version_string());
        return 1;
    }
    printf("libslate %s: %s\n", slate_version_string(), slate_strerror(SLATE_OK));
    if (use_rate() != 0 || use_stats() != 0)
        return 1;
    return 0;
}
