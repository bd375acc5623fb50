/*
 * slate-controller: the learning state's lifecycle (its tables, made and
 * freed) and its locks; ctl_ingest.c merges reports into it.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "ctl_tables.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void ls_lock_all(ctl_state_t *s)
{
    pthread_rwlock_wrlock(&s->rw);
}

void ls_unlock_all(ctl_state_t *s)
{
    pthread_rwlock_unlock(&s->rw);
}

void ctl_state_lock_counts(ctl_state_t *s, ctl_lock_counts_t *out)
{
    memset(out, 0, sizeof(*out));
    ls_lock_all(s);
    for (int i = 0; i < CTL_SHARDS; i++) {
        out->shard_taken += s->shards[i].lk.taken;
        out->shard_waited += s->shards[i].lk.waited;
    }
    out->span_taken = s->span_mu.taken;
    out->span_waited = s->span_mu.waited;
    out->exclusive = s->escalations;
    ls_unlock_all(s);
}

/* ------------------------------------------------------------------------- */
/* Lifecycle */

/*
 * The span table's ring and indexes are larger than the caches and read at
 * random, a few entries per span: on 2 MiB pages (where the kernel gives
 * them: transparent huge pages on request) such a read misses the cache but
 * not also the TLB, and the prefetches ahead of it are not dropped for want
 * of a page walk. Zeroed; NULL without memory.
 */
#define BIG_PAGE ((size_t)2 << 20)
static size_t big_len(size_t n)
{
    return (n + BIG_PAGE - 1) / BIG_PAGE * BIG_PAGE;
}

static void *table_alloc(size_t n)
{
#ifdef MADV_HUGEPAGE
    if (n >= BIG_PAGE) {
        size_t len = big_len(n);
        uint8_t *p =
            mmap(NULL, len + BIG_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        /* keep the 2 MiB-aligned part */
        size_t lead = (BIG_PAGE - (uintptr_t)p % BIG_PAGE) % BIG_PAGE;
        if (lead)
            munmap(p, lead);
        if (BIG_PAGE - lead)
            munmap(p + lead + len, BIG_PAGE - lead);
        (void)madvise(p + lead, len, MADV_HUGEPAGE); /* a hint: 4 KiB pages work too */
        return p + lead;
    }
#endif
    return calloc(1, n);
}

static void table_free(void *p, size_t n)
{
    if (!p)
        return;
#ifdef MADV_HUGEPAGE
    if (n >= BIG_PAGE) {
        munmap(p, big_len(n));
        return;
    }
#endif
    free(p);
}

ctl_state_t *ctl_state_create(const ctl_config_t *cfg, ctl_metrics_t *metrics,
                              const ctl_regions_file_t *regions)
{
    /* its locks sit on cache lines of their own */
    ctl_state_t *s = aligned_alloc(_Alignof(ctl_state_t), sizeof(*s));
    if (!s)
        return NULL;
    memset(s, 0, sizeof(*s));
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
#ifdef __GLIBC__
    /* the window close must not starve behind a steady stream of reports */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&s->rw, &ra);
    pthread_rwlockattr_destroy(&ra);
    for (int i = 0; i < CTL_SHARDS; i++)
        pthread_mutex_init(&s->shards[i].lk.mu, NULL);
    pthread_mutex_init(&s->span_mu.mu, NULL);
    /* each state its own range of epochs (2^32 agings each) */
    static atomic_uint_fast64_t states;
    s->ep_epoch = (atomic_fetch_add(&states, 1) + 1) << 32;
    s->cfg = *cfg;
    s->m = metrics;
    s->max_regions = cfg->max_regions < SLOTS - 1 ? cfg->max_regions : SLOTS - 1;
    s->cap_svcs = cfg->max_services + 1;
    s->svcs = calloc(s->cap_svcs, sizeof(svc_ent));
    s->overflow_svc = NIL;
    uint64_t max_eps = (uint64_t)(cfg->max_services + 1) * (cfg->max_endpoints_per_service + 1);
    s->max_eps = max_eps > 16u * 1024 * 1024 ? 16u * 1024 * 1024 : (uint32_t)max_eps;
    s->outs = calloc(cfg->max_outbound, sizeof(outcell));
    s->edges = calloc(cfg->max_edges, sizeof(edge_ent));
    s->ring_cap = cfg->span_table;
    s->span_admit = UINT64_MAX;
    s->ring = table_alloc((size_t)s->ring_cap * sizeof(span_ent));
    uint32_t slots = 16; /* the ring's size rounded up to a power of two */
    while (slots < s->ring_cap)
        slots *= 2;
    /* Two buckets per slot: at one, most buckets of a full ring had held
     * another span, so a lookup of a key nobody holds still read a ring
     * entry (a cache miss) to walk past it; at two, half as often. 16 more
     * bytes per slot for 3-4 us less CPU per bench_intake report in the
     * daemon, 1-1.5 us in process (docs/controller.md). */
    uint32_t buckets = slots * 2;
    s->bucket_mask = buckets - 1;
    s->heads = table_alloc((size_t)buckets * sizeof(span_bucket));
    /* 8 bits per held span keeps the filter's false positives near 1 in 16. */
    uint64_t wbits = (uint64_t)slots * 8;
    s->waiting_mask = (uint32_t)(wbits - 1);
    s->waiting = table_alloc((size_t)(wbits / 8));
    if (!s->svcs || !s->outs || !s->edges || !s->ring || !s->heads || !s->waiting ||
        !ctl_map_init(&s->svc_map, cfg->max_services) || !ctl_map_init(&s->ep_map, s->max_eps) ||
        !ctl_map_init(&s->out_map, cfg->max_outbound) ||
        !ctl_map_init(&s->edge_map, cfg->max_edges)) {
        ctl_state_free(s);
        return NULL;
    }
    memset(s->heads, 0xff, (size_t)buckets * sizeof(span_bucket));
    if (regions && regions->n > 0) {
        s->rf = malloc(sizeof(*s->rf));
        if (!s->rf) {
            ctl_state_free(s);
            return NULL;
        }
        *s->rf = *regions;
        /* the state's own copy of the capacities: the caller may free its file */
        s->rf->caps = NULL;
        s->rf->caps_cap = 0;
        if (regions->n_caps) {
            s->rf->caps = malloc(regions->n_caps * sizeof *s->rf->caps);
            if (!s->rf->caps) {
                s->rf->n_caps = 0;
                ctl_state_free(s);
                return NULL;
            }
            memcpy(s->rf->caps, regions->caps, regions->n_caps * sizeof *s->rf->caps);
            s->rf->caps_cap = regions->n_caps;
        }
        s->have_file = true;
        /* the operator's regions file is not a report: no claim limit */
        ls_ctx cx = {.create = true, .claim_regions = UINT32_MAX};
        for (uint32_t i = 0; i < regions->n && i < s->max_regions; i++) {
            const char *nm = regions->names[i];
            ls_region_find(s, &cx, nm, strlen(nm), ls_region_key(nm, strlen(nm)));
        }
        s->pinned_regions = s->n_regions; /* the file's, first: never retired */
        for (uint32_t a = 0; a < regions->n && a < s->max_regions; a++)
            for (uint32_t b = 0; b < regions->n && b < s->max_regions; b++) {
                s->file_rtt[a][b] = regions->rtt_ms[a][b];
                s->file_price[a][b] = regions->price[a][b];
            }
    }
    return s;
}

void ctl_state_free(ctl_state_t *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_regions; i++)
        free(s->region_names[i]);
    if (s->svcs)
        for (uint32_t i = 0; i < s->cap_svcs; i++) {
            free(s->svcs[i].name);
            for (int r = 0; r < SLOTS; r++)
                free(s->svcs[i].pods_seen[r]);
        }
    for (uint32_t i = 0; i < s->n_eps; i++) {
        free(s->eps[i].method);
        free(s->eps[i].path);
        for (int r = 0; r < SLOTS; r++)
            free(s->eps[i].cells[r]);
    }
    free(s->eps);
    free(s->svcs);
    free(s->outs);
    free(s->edges);
    size_t buckets = (size_t)s->bucket_mask + 1;
    table_free(s->ring, (size_t)s->ring_cap * sizeof(span_ent));
    table_free(s->heads, buckets * sizeof(span_bucket));
    table_free(s->waiting, ((size_t)s->waiting_mask + 1) / 8);
    ctl_regions_free(s->rf);
    free(s->rf);
    ctl_map_free(&s->svc_map);
    ctl_map_free(&s->ep_map);
    ctl_map_free(&s->out_map);
    ctl_map_free(&s->edge_map);
    for (int i = 0; i < CTL_SHARDS; i++)
        pthread_mutex_destroy(&s->shards[i].lk.mu);
    pthread_mutex_destroy(&s->span_mu.mu);
    pthread_rwlock_destroy(&s->rw);
    free(s);
}
