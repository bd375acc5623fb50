/*
 * slate-controller: decode scratch and the preparation of a report outside the lock:
 * decode arrays, normalised paths, keys.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_tables.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

ctl_scratch_t *ctl_scratch_create(void)
{
    ctl_scratch_t *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return NULL;
    sc->paths = calloc(PATH_CACHE, sizeof(path_cache_ent));
    sc->keys = calloc(KEY_CACHE, sizeof(key_cache_ent));
    if (!sc->paths || !sc->keys) {
        free(sc->paths);
        free(sc->keys);
        free(sc);
        return NULL;
    }
    return sc;
}

void ctl_scratch_free(ctl_scratch_t *sc)
{
    if (!sc)
        return;
    free(sc->dec.inbound);
    free(sc->dec.outbound);
    free(sc->dec.spans);
    free(sc->dec.loads);
    free(sc->pin);
    free(sc->pout);
    free(sc->pspan);
    free(sc->paths);
    free(sc->keys);
    free(sc);
}

/* Grows *arr to hold n elements of size sz; false on allocation failure. */
static bool grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *p = realloc(*arr, c * sz);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

/* Clears the scratch report and lends it the scratch arrays at their present
 * capacities, ready for one decode. */
static slate_load_report_t *scratch_lend(ctl_scratch_t *sc)
{
    slate_load_report_t *r = &sc->rep;
    memset(r, 0, sizeof(*r));
    r->inbound = sc->dec.inbound;
    r->cap_inbound = sc->dec.cap_inbound;
    r->outbound = sc->dec.outbound;
    r->cap_outbound = sc->dec.cap_outbound;
    r->spans = sc->dec.spans;
    r->cap_spans = sc->dec.cap_spans;
    r->span_loads = sc->dec.loads;
    r->cap_span_loads = sc->dec.cap_loads;
    return r;
}

/* Judges one decode into the lent arrays, whose status is *st. True: the
 * arrays were short and have grown, so decode again. False: *st is final
 * (SLATE_OK with *out set, the decoder's error, or SLATE_ENOSPC when growing
 * failed). */
static bool scratch_retry(ctl_scratch_t *sc, slate_status *st, slate_load_report_t **out)
{
    slate_load_report_t *r = &sc->rep;
    /* A NULL array only counts: decode again once every array has room. */
    bool stored = (r->n_inbound == 0 || r->inbound) && (r->n_outbound == 0 || r->outbound) &&
                  (r->n_spans == 0 || r->spans) && (r->n_span_loads == 0 || r->span_loads);
    if (*st == SLATE_OK && stored) {
        *out = r;
        return false;
    }
    if (*st != SLATE_ENOSPC && *st != SLATE_OK)
        return false;
    /* Arrays short: every n_* is the count needed; grow and decode again. */
    if (!grow((void **)&sc->dec.inbound, &sc->dec.cap_inbound, r->n_inbound,
              sizeof(slate_inbound_t)) ||
        !grow((void **)&sc->dec.outbound, &sc->dec.cap_outbound, r->n_outbound,
              sizeof(slate_outbound_t)) ||
        !grow((void **)&sc->dec.spans, &sc->dec.cap_spans, r->n_spans, sizeof(slate_span_t)) ||
        !grow((void **)&sc->dec.loads, &sc->dec.cap_loads, r->n_span_loads,
              sizeof(slate_endpoint_load_t))) {
        *st = SLATE_ENOSPC;
        return false;
    }
    return true;
}

slate_status ctl_scratch_decode(ctl_scratch_t *sc, const uint8_t *buf, size_t len,
                                const slate_codec_limits_t *lim, slate_codec_error_t *err,
                                slate_load_report_t **out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        slate_load_report_t *r = scratch_lend(sc);
        slate_status st = slate_load_report_decode(r, buf, len, lim, err);
        if (!scratch_retry(sc, &st, out))
            return st;
    }
    return SLATE_ENOSPC;
}

slate_status ctl_scratch_decode_legacy(ctl_scratch_t *sc, bool latency, const char *body,
                                       size_t len, const slate_codec_limits_t *lim,
                                       slate_codec_error_t *err, slate_str_t service,
                                       slate_str_t region, slate_load_report_t **out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        slate_load_report_t *r = scratch_lend(sc);
        r->service = service;
        r->region = region;
        slate_status st = latency ? slate_legacy_latency_decode(r, body, len, lim, err)
                                  : slate_legacy_proxyload_decode(r, NULL, body, len, lim, err);
        if (!scratch_retry(sc, &st, out))
            return st;
    }
    return SLATE_ENOSPC;
}

/* ------------------------------------------------------------------------- */
/* Intake */

/* A method of up to 8 bytes as a word that, with its length, is the whole
 * method: fixed-size loads (overlapping from both ends), not a copy of a
 * variable length, which is a library call. Longer methods are hashed. */
static uint64_t method_word(slate_str_t method)
{
    const unsigned char *p = (const unsigned char *)method.ptr;
    size_t n = method.len;
    if (n > 8)
        return XXH3_64bits(p, n);
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return lo | (uint64_t)hi << 32;
    }
    return n ? p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16 : 0;
}

/* The tag of an endpoint in the key cache: the raw path's hash, its
 * service's name key and its method, mixed. */
static uint64_t endpoint_tag(uint64_t path_hash, uint64_t svc_key, slate_str_t method)
{
    uint64_t m = method_word(method);
    uint64_t t = (svc_key ^ (m * 0x9E3779B97F4A7C15ull) ^ method.len) + path_hash;
    t ^= t >> 31;
    t *= 0xBF58476D1CE4E5B9ull;
    t ^= t >> 29;
    return t | 1;
}

/* The normalised form of a raw path, from the thread's path cache (filled on
 * a miss). Two-way sets, the most recently filled way first: two hot paths
 * that share a set do not evict each other on every report. */
static const path_cache_ent *path_cached(ctl_scratch_t *sc, const char *raw, size_t len, uint64_t h)
{
    path_cache_ent *set = &sc->paths[(h % (PATH_CACHE / 2)) * 2];
    for (int w = 0; w < 2; w++)
        if (set[w].hash == h && set[w].raw_len == len)
            return &set[w];
    if (set[0].hash)
        set[1] = set[0];
    size_t nl = 0;
    if (slate_path_normalize(raw, len, set[0].norm, sizeof(set[0].norm), &nl) != SLATE_OK)
        return NULL; /* cannot happen: the buffer holds any result */
    set[0].norm_len = (uint32_t)nl;
    set[0].hash = h;
    set[0].raw_len = (uint32_t)len;
    return &set[0];
}

/* An endpoint's key and its key cache entry. Reports repeat their endpoints,
 * so the key is mostly found by the raw names' tag alone: the path is
 * normalised (and the core's key computed) only on a miss. */
static bool prep_endpoint(ctl_scratch_t *sc, uint64_t svc_key, slate_str_t service,
                          slate_str_t method, slate_str_t path, prep_ep *out)
{
    const char *raw = path.ptr ? path.ptr : "";
    uint64_t h = XXH3_64bits(raw, path.len) | 1;
    uint64_t tag = endpoint_tag(h ^ ((uint64_t)path.len << 40), svc_key, method);
    /* KEY_WAYS-way sets, first in first out: a way that hits stays where it
     * is (endpoints prepared earlier in the report hold pointers to theirs),
     * a new tag takes way 0 and pushes the others down */
    key_cache_ent *set = &sc->keys[(tag % (KEY_CACHE / KEY_WAYS)) * KEY_WAYS];
    out->tag = tag;
    for (int w = 0; w < KEY_WAYS; w++)
        if (set[w].tag == tag) {
            out->kc = &set[w];
            out->key = set[w].key;
            return true;
        }
    const path_cache_ent *pc = path_cached(sc, raw, path.len, h);
    if (!pc)
        return false;
    /* the core's endpoint key, as the data plane computes it; names passed
     * the intake's door, so it cannot refuse them */
    if (slate_endpoint_key(service.ptr, service.len, method.ptr, method.len, pc->norm, pc->norm_len,
                           &out->key, NULL) != SLATE_OK)
        return false;
    memmove(&set[1], &set[0], (KEY_WAYS - 1) * sizeof(*set));
    set[0] = (key_cache_ent){.tag = tag, .key = out->key};
    out->kc = &set[0];
    return true;
}

int ls_prepare(ctl_scratch_t *sc, const slate_load_report_t *rep, uint32_t max_spans,
               uint64_t span_admit)
{
    size_t n_spans = rep->n_spans < max_spans ? rep->n_spans : max_spans;
    if (!grow((void **)&sc->pin, &sc->cap_pin, rep->n_inbound, sizeof(prep_ep)) ||
        !grow((void **)&sc->pout, &sc->cap_pout, rep->n_outbound, sizeof(prep_out)) ||
        !grow((void **)&sc->pspan, &sc->cap_pspan, n_spans, sizeof(prep_span)))
        return -1;
    uint64_t svc_key = ls_name_key(rep->service.ptr, rep->service.len);
    for (size_t i = 0; i < rep->n_inbound; i++)
        if (!prep_endpoint(sc, svc_key, rep->service, rep->inbound[i].method, rep->inbound[i].path,
                           &sc->pin[i]))
            return -1;
    for (size_t i = 0; i < rep->n_outbound; i++) {
        const slate_outbound_t *o = &rep->outbound[i];
        prep_out *p = &sc->pout[i];
        p->svc_key = ls_name_key(o->dst_service.ptr, o->dst_service.len);
        p->region_key = ls_region_key(o->dst_region.ptr, o->dst_region.len);
        if (!prep_endpoint(sc, p->svc_key, o->dst_service, o->method, o->path, &p->ep))
            return -1;
    }
    sc->spans_offered = sc->spans_shed = 0;
    for (size_t i = 0; i < n_spans; i++) {
        const slate_span_t *sp = &rep->spans[i];
        prep_span *p = &sc->pspan[i];
        /* Key 0: nothing to stitch, so nothing to prepare. A span without an
         * id cannot be stitched; one whose trace is not admitted is left
         * out with its whole trace. */
        p->self_key = p->parent_key = 0;
        if (sp->span_id.len == 0)
            continue;
        sc->spans_offered++;
        uint64_t trace = ls_trace_key(sp->trace_id.ptr, sp->trace_id.len);
        if (trace > span_admit) {
            sc->spans_shed++;
            continue;
        }
        if (!prep_endpoint(sc, svc_key, rep->service, sp->method, sp->path, &p->ep))
            return -1;
        p->self_key = ls_span_key(trace, sp->span_id.ptr, sp->span_id.len);
        p->parent_key = ls_span_key(trace, sp->parent_span_id.ptr, sp->parent_span_id.len);
        /* The span's own endpoint among its load-at-arrival entries. */
        p->pod_rps = NAN;
        for (size_t k = 0; k < sp->n_load && sp->load; k++) {
            const slate_endpoint_load_t *ld = &sp->load[k];
            if (ld->method.len == sp->method.len && ld->path.len == sp->path.len &&
                (ld->method.len == 0 ||
                 memcmp(ld->method.ptr, sp->method.ptr, ld->method.len) == 0) &&
                (ld->path.len == 0 || memcmp(ld->path.ptr, sp->path.ptr, ld->path.len) == 0)) {
                p->pod_rps = ld->rps;
                break;
            }
        }
    }
    return 0;
}
