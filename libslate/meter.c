/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The measurement table (meter.h): a header, an open-addressing index of
 * entry ids, the entries in id order, the spans. No pointers inside, so the
 * region may sit at a different address in every process.
 */
#include "slate/meter.h"

#include <math.h>
#include <string.h>

#include "hash.h"

typedef struct meter_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t header_size;
    uint64_t total_size;
    uint32_t max_inbound, max_outbound, max_spans;
    uint32_t index_slots; /* power of two */
    uint32_t n_entries, n_inbound, n_outbound, n_spans;
    slate_drops_t drops;
} meter_hdr_t;

_Static_assert(sizeof(meter_hdr_t) <= SLATE_METER_HEADER, "meter header too large");
_Static_assert(sizeof(slate_meter_entry_t) % 8 == 0, "entry must keep 8-byte alignment");
_Static_assert(sizeof(slate_meter_span_t) % 8 == 0, "span must keep 8-byte alignment");

static uint32_t index_slots_for(uint32_t entries)
{
    uint32_t s = 2;
    while (s < 2u * entries)
        s <<= 1;
    return s;
}

static size_t index_bytes(uint32_t slots)
{
    return ((size_t)slots * 4u + 7u) & ~(size_t)7u;
}

static int limits_ok(const slate_meter_limits_t *lim)
{
    return lim && lim->max_inbound >= 1 && lim->max_inbound <= SLATE_METER_MAX_ENTRIES &&
           lim->max_outbound <= SLATE_METER_MAX_ENTRIES &&
           lim->max_spans <= SLATE_METER_MAX_ENTRIES;
}

static size_t size_of(uint32_t max_in, uint32_t max_out, uint32_t max_spans)
{
    uint32_t cap = max_in + max_out;
    return SLATE_METER_HEADER + index_bytes(index_slots_for(cap)) +
           (size_t)cap * sizeof(slate_meter_entry_t) +
           (size_t)max_spans * sizeof(slate_meter_span_t);
}

size_t slate_meter_size(const slate_meter_limits_t *lim)
{
    if (!limits_ok(lim))
        return 0;
    return size_of(lim->max_inbound, lim->max_outbound, lim->max_spans);
}

/* ---- layout ---- */

static meter_hdr_t *H(slate_meter_t *m)
{
    return (meter_hdr_t *)(void *)m;
}

static const meter_hdr_t *CH(const slate_meter_t *m)
{
    return (const meter_hdr_t *)(const void *)m;
}

static uint32_t *index_of(const meter_hdr_t *h)
{
    return (uint32_t *)(void *)((uint8_t *)(uintptr_t)h + SLATE_METER_HEADER);
}

static slate_meter_entry_t *entries_of(const meter_hdr_t *h)
{
    return (slate_meter_entry_t *)(void *)((uint8_t *)index_of(h) + index_bytes(h->index_slots));
}

static slate_meter_span_t *spans_of(const meter_hdr_t *h)
{
    return (slate_meter_span_t *)(void *)(entries_of(h) + h->max_inbound + h->max_outbound);
}

/* ---- keys and lookup ---- */

/* An entry's names are one fixed block, from `kind` to the end of `region`,
 * zero past each name: its hash is the key and one compare finds it. */
#define NAME_OFF  offsetof(slate_meter_entry_t, kind)
#define NAME_SIZE (offsetof(slate_meter_entry_t, region) + SLATE_METER_MAX_NAME + 1 - NAME_OFF)

static const uint8_t *names_of(const slate_meter_entry_t *e)
{
    return (const uint8_t *)e + NAME_OFF;
}

static uint64_t key_of(const slate_meter_entry_t *e)
{
    return slate_hash64(names_of(e), NAME_SIZE);
}

/* The slot holding the entry named like `c` (key set), or the free slot it
 * would go in; -1 when the index is full (cannot happen in a valid table). */
static long probe(const meter_hdr_t *h, const slate_meter_entry_t *c, uint32_t *found)
{
    const uint32_t *idx = index_of(h);
    const slate_meter_entry_t *ents = entries_of(h);
    uint32_t mask = h->index_slots - 1;
    uint32_t s = (uint32_t)(c->key ^ (c->key >> 32)) & mask;
    for (uint32_t n = 0; n < h->index_slots; n++, s = (s + 1) & mask) {
        uint32_t v = idx[s];
        if (v == 0) {
            *found = UINT32_MAX;
            return (long)s;
        }
        if (v - 1 < h->n_entries && ents[v - 1].key == c->key &&
            memcmp(names_of(&ents[v - 1]), names_of(c), NAME_SIZE) == 0) {
            *found = v - 1;
            return (long)s;
        }
    }
    *found = UINT32_MAX;
    return -1;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static slate_status find_or_add(slate_meter_t *m, uint8_t kind, const char *svc, size_t sl,
                                const char *method, size_t ml, const char *path, size_t pl,
                                const char *region, size_t rl, uint32_t *id)
{
    if (!m || !id || (ml && !method) || (pl && !path) || (sl && !svc) || (rl && !region))
        return SLATE_EINVAL;
    if (ml == 0 || ml > SLATE_METER_MAX_METHOD || pl == 0 || pl > SLATE_KEY_MAX_PATH ||
        sl > SLATE_METER_MAX_NAME || rl > SLATE_METER_MAX_NAME ||
        (kind == SLATE_METER_OUTBOUND && (sl == 0 || rl == 0)))
        return SLATE_ERANGE;
    meter_hdr_t *h = H(m);
    slate_meter_entry_t c; /* the candidate: its name block and key */
    memset(&c, 0, offsetof(slate_meter_entry_t, requests));
    c.kind = kind;
    c.service_len = (uint8_t)sl;
    c.method_len = (uint8_t)ml;
    c.region_len = (uint8_t)rl;
    c.path_len = (uint16_t)pl;
    if (sl)
        memcpy(c.service, svc, sl);
    memcpy(c.method, method, ml);
    memcpy(c.path, path, pl);
    if (rl)
        memcpy(c.region, region, rl);
    c.key = key_of(&c);
    uint32_t found;
    long slot = probe(h, &c, &found);
    if (slot < 0)
        return SLATE_ECORRUPT;
    if (found != UINT32_MAX) {
        *id = found;
        return SLATE_OK;
    }
    /* New: printable names only (they travel in text formats and logs). */
    if (!printable(method, ml) || !printable(path, pl) || !printable(svc, sl) ||
        !printable(region, rl))
        return SLATE_ERANGE;
    uint32_t *have = kind == SLATE_METER_INBOUND ? &h->n_inbound : &h->n_outbound;
    if (*have >= (kind == SLATE_METER_INBOUND ? h->max_inbound : h->max_outbound)) {
        uint64_t *lost = kind == SLATE_METER_INBOUND ? &h->drops.endpoints_overflowed
                                                     : &h->drops.outbound_overflowed;
        *lost = sat_add(*lost, 1);
        return SLATE_ENOSPC;
    }
    uint32_t nid = h->n_entries;
    slate_meter_entry_t *e = &entries_of(h)[nid];
    memcpy(e, &c, offsetof(slate_meter_entry_t, requests));
    memset((uint8_t *)e + offsetof(slate_meter_entry_t, requests), 0,
           offsetof(slate_meter_entry_t, stats) - offsetof(slate_meter_entry_t, requests));
    slate_stats_init(&e->stats);
    index_of(h)[slot] = nid + 1;
    h->n_entries = nid + 1;
    (*have)++;
    *id = nid;
    return SLATE_OK;
}

/* ---- life cycle ---- */

slate_status slate_meter_init(void *mem, size_t len, const slate_meter_limits_t *lim,
                              slate_meter_t **out)
{
    if (!mem || ((uintptr_t)mem & 7u) || !limits_ok(lim))
        return SLATE_EINVAL;
    size_t need = size_of(lim->max_inbound, lim->max_outbound, lim->max_spans);
    if (len < need)
        return SLATE_ENOSPC;
    meter_hdr_t *h = mem;
    memset(mem, 0, SLATE_METER_HEADER);
    h->magic = SLATE_METER_MAGIC;
    h->version = SLATE_METER_VERSION;
    h->header_size = SLATE_METER_HEADER;
    h->total_size = need;
    h->max_inbound = lim->max_inbound;
    h->max_outbound = lim->max_outbound;
    h->max_spans = lim->max_spans;
    h->index_slots = index_slots_for(lim->max_inbound + lim->max_outbound);
    memset(index_of(h), 0, index_bytes(h->index_slots));
    if (out)
        *out = mem;
    return SLATE_OK;
}

static int ids_ok(const char *s, uint8_t n, int may_be_empty)
{
    if (n > SLATE_METER_MAX_ID || (n == 0 && !may_be_empty) || s[n] != '\0')
        return 0;
    for (uint8_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

static int span_ok(const meter_hdr_t *h, const slate_meter_span_t *s)
{
    return s->entry < h->n_entries && entries_of(h)[s->entry].kind == SLATE_METER_INBOUND &&
           ids_ok(s->trace_id, s->trace_len, 0) && ids_ok(s->span_id, s->span_len, 0) &&
           ids_ok(s->parent_id, s->parent_len, 1) && s->end_ns >= s->start_ns &&
           isfinite(s->arrival_rps) && s->arrival_rps >= 0.0;
}

static int name_ok(const char *s, size_t len, size_t cap)
{
    return len < cap && s[len] == '\0' && memchr(s, '\0', len) == NULL && printable(s, len);
}

static int entry_ok(const meter_hdr_t *h, const slate_meter_entry_t *e)
{
    if (e->kind != SLATE_METER_INBOUND && e->kind != SLATE_METER_OUTBOUND)
        return 0;
    size_t sl = e->service_len, ml = e->method_len, pl = e->path_len, rl = e->region_len;
    if (ml == 0 || pl == 0 || !name_ok(e->method, ml, sizeof e->method) ||
        !name_ok(e->path, pl, sizeof e->path) || !name_ok(e->service, sl, sizeof e->service) ||
        !name_ok(e->region, rl, sizeof e->region))
        return 0;
    if (e->kind == SLATE_METER_OUTBOUND ? (sl == 0 || rl == 0 || e->in_flight != 0)
                                        : (sl != 0 || rl != 0))
        return 0;
    if (!isfinite(e->rate_rps) || e->rate_rps < 0.0)
        return 0;
    /* names zero past their lengths, so the block compares and hashes alike */
    for (size_t i = sl; i < sizeof e->service; i++)
        if (e->service[i])
            return 0;
    for (size_t i = ml; i < sizeof e->method; i++)
        if (e->method[i])
            return 0;
    for (size_t i = pl; i < sizeof e->path; i++)
        if (e->path[i])
            return 0;
    for (size_t i = rl; i < sizeof e->region; i++)
        if (e->region[i])
            return 0;
    if (e->reserved != 0 || e->key != key_of(e))
        return 0;
    uint32_t found;
    if (probe(h, e, &found) < 0 || found != (uint32_t)(e - entries_of(h)))
        return 0;
    return slate_stats_validate(&e->stats) == SLATE_OK;
}

slate_status slate_meter_attach(void *mem, size_t len, slate_meter_t **out)
{
    if (!mem || !out || ((uintptr_t)mem & 7u))
        return SLATE_EINVAL;
    if (len < SLATE_METER_HEADER)
        return SLATE_ECORRUPT;
    const meter_hdr_t *h = mem;
    slate_meter_limits_t lim = {h->max_inbound, h->max_outbound, h->max_spans};
    if (h->magic != SLATE_METER_MAGIC || h->version != SLATE_METER_VERSION ||
        h->header_size != SLATE_METER_HEADER || !limits_ok(&lim))
        return SLATE_ECORRUPT;
    size_t need = size_of(lim.max_inbound, lim.max_outbound, lim.max_spans);
    if (h->total_size != need || need > len ||
        h->index_slots != index_slots_for(lim.max_inbound + lim.max_outbound))
        return SLATE_ECORRUPT;
    if (h->n_inbound > h->max_inbound || h->n_outbound > h->max_outbound ||
        h->n_entries != h->n_inbound + h->n_outbound || h->n_spans > h->max_spans)
        return SLATE_ECORRUPT;
    /* The index: every used slot names an entry, each entry once. */
    const uint32_t *idx = index_of(h);
    uint32_t used = 0;
    for (uint32_t s = 0; s < h->index_slots; s++) {
        if (idx[s] == 0)
            continue;
        if (idx[s] > h->n_entries)
            return SLATE_ECORRUPT;
        used++;
    }
    if (used != h->n_entries)
        return SLATE_ECORRUPT;
    const slate_meter_entry_t *ents = entries_of(h);
    uint32_t n_in = 0;
    for (uint32_t i = 0; i < h->n_entries; i++) {
        if (!entry_ok(h, &ents[i]))
            return SLATE_ECORRUPT;
        n_in += ents[i].kind == SLATE_METER_INBOUND;
    }
    if (n_in != h->n_inbound)
        return SLATE_ECORRUPT;
    const slate_meter_span_t *sp = spans_of(h);
    for (uint32_t i = 0; i < h->n_spans; i++)
        if (!span_ok(h, &sp[i]))
            return SLATE_ECORRUPT;
    *out = mem;
    return SLATE_OK;
}

slate_status slate_meter_move(const slate_meter_t *src, void *dst, size_t len,
                              const slate_meter_limits_t *lim, slate_meter_t **out)
{
    if (!src || !dst || !out || (const void *)src == dst)
        return SLATE_EINVAL;
    const meter_hdr_t *s = CH(src);
    if (limits_ok(lim) && (lim->max_inbound < s->n_inbound || lim->max_outbound < s->n_outbound ||
                           lim->max_spans < s->n_spans))
        return SLATE_ENOSPC;
    slate_status st = slate_meter_init(dst, len, lim, NULL);
    if (st != SLATE_OK)
        return st;
    meter_hdr_t *d = dst;
    const slate_meter_entry_t *se = entries_of(s);
    slate_meter_entry_t *de = entries_of(d);
    uint32_t *idx = index_of(d);
    for (uint32_t i = 0; i < s->n_entries; i++) {
        const slate_meter_entry_t *e = &se[i];
        uint32_t found;
        long slot = probe(d, e, &found);
        if (slot < 0 || found != UINT32_MAX)
            return SLATE_ECORRUPT; /* a duplicate in src */
        memcpy(&de[i], e, sizeof *e);
        idx[slot] = i + 1;
        d->n_entries = i + 1;
    }
    d->n_inbound = s->n_inbound;
    d->n_outbound = s->n_outbound;
    memcpy(spans_of(d), spans_of(s), (size_t)s->n_spans * sizeof(slate_meter_span_t));
    d->n_spans = s->n_spans;
    d->drops = s->drops;
    *out = dst;
    return SLATE_OK;
}

/* ---- reading ---- */

slate_meter_limits_t slate_meter_limits(const slate_meter_t *m)
{
    const meter_hdr_t *h = CH(m);
    slate_meter_limits_t l = {h->max_inbound, h->max_outbound, h->max_spans};
    return l;
}

uint32_t slate_meter_count(const slate_meter_t *m)
{
    return CH(m)->n_entries;
}

uint32_t slate_meter_count_kind(const slate_meter_t *m, slate_meter_kind kind)
{
    const meter_hdr_t *h = CH(m);
    return kind == SLATE_METER_INBOUND    ? h->n_inbound
           : kind == SLATE_METER_OUTBOUND ? h->n_outbound
                                          : 0;
}

const slate_meter_entry_t *slate_meter_entry(const slate_meter_t *m, uint32_t id)
{
    const meter_hdr_t *h = CH(m);
    return id < h->n_entries ? &entries_of(h)[id] : NULL;
}

const slate_meter_span_t *slate_meter_spans(const slate_meter_t *m, uint32_t *n)
{
    const meter_hdr_t *h = CH(m);
    if (n)
        *n = h->n_spans;
    return spans_of(h);
}

slate_meter_span_t *slate_meter_spans_mut(slate_meter_t *m, uint32_t *n)
{
    meter_hdr_t *h = H(m);
    if (n)
        *n = h->n_spans;
    return spans_of(h);
}

slate_drops_t *slate_meter_drops(slate_meter_t *m)
{
    return &H(m)->drops;
}

/* ---- writing ---- */

slate_status slate_meter_inbound(slate_meter_t *m, const char *method, size_t method_len,
                                 const char *path, size_t path_len, uint32_t *id)
{
    return find_or_add(m, SLATE_METER_INBOUND, NULL, 0, method, method_len, path, path_len, NULL, 0,
                       id);
}

slate_status slate_meter_outbound(slate_meter_t *m, const char *service, size_t service_len,
                                  const char *method, size_t method_len, const char *path,
                                  size_t path_len, const char *region, size_t region_len,
                                  uint32_t *id)
{
    return find_or_add(m, SLATE_METER_OUTBOUND, service, service_len, method, method_len, path,
                       path_len, region, region_len, id);
}

static slate_meter_entry_t *entry_mut(slate_meter_t *m, uint32_t id, int kind)
{
    if (!m)
        return NULL;
    meter_hdr_t *h = H(m);
    if (id >= h->n_entries || id >= h->max_inbound + h->max_outbound)
        return NULL;
    slate_meter_entry_t *e = &entries_of(h)[id];
    return kind == 0 || e->kind == kind ? e : NULL;
}

slate_status slate_meter_arrive(slate_meter_t *m, uint32_t id, double *rps, uint64_t *in_flight)
{
    slate_meter_entry_t *e = entry_mut(m, id, SLATE_METER_INBOUND);
    if (!e)
        return SLATE_EINVAL;
    e->requests = sat_add(e->requests, 1);
    e->in_flight = sat_add(e->in_flight, 1);
    if (rps)
        *rps = e->rate_rps;
    if (in_flight)
        *in_flight = e->in_flight;
    return SLATE_OK;
}

slate_status slate_meter_depart(slate_meter_t *m, uint32_t id, uint64_t latency_ns)
{
    slate_meter_entry_t *e = entry_mut(m, id, SLATE_METER_INBOUND);
    if (!e)
        return SLATE_EINVAL;
    if (e->in_flight)
        e->in_flight--;
    slate_stats_add(&e->stats, latency_ns);
    return SLATE_OK;
}

slate_status slate_meter_complete(slate_meter_t *m, uint32_t id, uint64_t latency_ns)
{
    slate_meter_entry_t *e = entry_mut(m, id, SLATE_METER_OUTBOUND);
    if (!e)
        return SLATE_EINVAL;
    e->requests = sat_add(e->requests, 1);
    slate_stats_add(&e->stats, latency_ns);
    return SLATE_OK;
}

slate_status slate_meter_add(slate_meter_t *m, uint32_t id, uint64_t requests,
                             const slate_stats_t *delta)
{
    slate_meter_entry_t *e = entry_mut(m, id, 0);
    if (!e)
        return SLATE_EINVAL;
    e->requests = sat_add(e->requests, requests);
    if (delta)
        slate_stats_merge(&e->stats, delta);
    return SLATE_OK;
}

slate_status slate_meter_set_load(slate_meter_t *m, uint32_t id, double rps, uint64_t in_flight)
{
    slate_meter_entry_t *e = entry_mut(m, id, SLATE_METER_INBOUND);
    if (!e)
        return SLATE_EINVAL;
    e->rate_rps = isfinite(rps) && rps > 0.0 ? rps : 0.0;
    e->in_flight = in_flight;
    return SLATE_OK;
}

slate_status slate_meter_add_span(slate_meter_t *m, const slate_meter_span_t *s)
{
    if (!m || !s)
        return SLATE_EINVAL;
    meter_hdr_t *h = H(m);
    if (!span_ok(h, s))
        return SLATE_EINVAL;
    if (h->n_spans >= h->max_spans) {
        h->drops.spans_dropped = sat_add(h->drops.spans_dropped, 1);
        return SLATE_ENOSPC;
    }
    spans_of(h)[h->n_spans++] = *s;
    return SLATE_OK;
}

slate_status slate_meter_take(slate_meter_t *m, uint32_t id, uint64_t interval_ns,
                              slate_meter_entry_t *copy)
{
    slate_meter_entry_t *e = entry_mut(m, id, 0);
    if (!e)
        return SLATE_EINVAL;
    if (interval_ns && e->kind == SLATE_METER_INBOUND)
        e->rate_rps = (double)e->requests * 1e9 / (double)interval_ns;
    if (copy)
        memcpy(copy, e, sizeof *e);
    e->requests = 0;
    slate_stats_init(&e->stats);
    return SLATE_OK;
}

uint32_t slate_meter_take_spans(slate_meter_t *m, slate_meter_span_t *dst, uint32_t cap)
{
    if (!m)
        return 0;
    meter_hdr_t *h = H(m);
    uint32_t n = h->n_spans <= h->max_spans ? h->n_spans : h->max_spans;
    uint32_t k = dst ? (n < cap ? n : cap) : 0;
    if (k)
        memcpy(dst, spans_of(h), (size_t)k * sizeof *dst);
    if (dst && n > k)
        h->drops.spans_dropped = sat_add(h->drops.spans_dropped, n - k);
    h->n_spans = 0;
    return k;
}

void slate_meter_close(slate_meter_t *m, uint64_t interval_ns)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < H(m)->n_entries; i++)
        (void)slate_meter_take(m, i, interval_ns, NULL);
    H(m)->n_spans = 0;
}

/* ---- the report ---- */

static int inbound_active(const slate_meter_entry_t *e)
{
    return e->requests || e->stats.count || e->rate_rps > 0.0 || e->in_flight;
}

static int load_listed(const slate_meter_entry_t *e)
{
    return e->kind == SLATE_METER_INBOUND && (e->rate_rps > 0.0 || e->in_flight);
}

void slate_meter_report_need(const slate_meter_entry_t *entries, size_t n_entries,
                             const slate_meter_span_t *spans, size_t n_spans,
                             slate_meter_loads loads, slate_meter_report_mem_t *need)
{
    if (!need)
        return;
    memset(need, 0, sizeof *need);
    size_t listed = 0;
    for (size_t i = 0; entries && i < n_entries; i++) {
        const slate_meter_entry_t *e = &entries[i];
        if (e->kind == SLATE_METER_INBOUND && inbound_active(e))
            need->cap_inbound++;
        else if (e->kind == SLATE_METER_OUTBOUND && (e->requests || e->stats.count))
            need->cap_outbound++;
        listed += load_listed(e);
    }
    for (size_t i = 0; spans && i < n_spans; i++) {
        if (spans[i].entry >= n_entries || entries[spans[i].entry].kind != SLATE_METER_INBOUND)
            continue;
        need->cap_spans++;
        size_t own_listed = load_listed(&entries[spans[i].entry]);
        need->cap_loads += 1 + (loads == SLATE_METER_LOADS_ALL ? listed - own_listed : 0);
    }
}

static slate_str_t V(const char *s, size_t n)
{
    slate_str_t v = {s, n};
    return v;
}

slate_status slate_meter_report_from(const slate_meter_entry_t *entries, size_t n_entries,
                                     const slate_meter_span_t *spans, size_t n_spans,
                                     slate_meter_loads loads, const slate_meter_report_mem_t *mem,
                                     slate_load_report_t *rep)
{
    if (!rep || !mem || (n_entries && !entries) || (n_spans && !spans))
        return SLATE_EINVAL;
    slate_meter_report_mem_t need;
    slate_meter_report_need(entries, n_entries, spans, n_spans, loads, &need);
    if (mem->cap_inbound < need.cap_inbound || mem->cap_outbound < need.cap_outbound ||
        mem->cap_spans < need.cap_spans || mem->cap_loads < need.cap_loads ||
        (need.cap_inbound && !mem->inbound) || (need.cap_outbound && !mem->outbound) ||
        (need.cap_spans && !mem->spans) || (need.cap_loads && !mem->loads))
        return SLATE_ENOSPC;
    size_t ni = 0, no = 0, ns = 0, nl = 0;
    for (size_t i = 0; i < n_entries; i++) {
        const slate_meter_entry_t *e = &entries[i];
        if (e->kind == SLATE_METER_INBOUND && inbound_active(e)) {
            slate_inbound_t *x = &mem->inbound[ni++];
            x->method = V(e->method, e->method_len);
            x->path = V(e->path, e->path_len);
            x->requests = e->requests;
            x->rate_rps = e->rate_rps;
            x->in_flight = e->in_flight;
            slate_latency_from_stats(&x->latency, &e->stats);
        } else if (e->kind == SLATE_METER_OUTBOUND && (e->requests || e->stats.count)) {
            slate_outbound_t *x = &mem->outbound[no++];
            x->dst_service = V(e->service, e->service_len);
            x->method = V(e->method, e->method_len);
            x->path = V(e->path, e->path_len);
            x->dst_region = V(e->region, e->region_len);
            x->requests = e->requests;
            slate_latency_from_stats(&x->latency, &e->stats);
        }
    }
    for (size_t i = 0; i < n_spans; i++) {
        const slate_meter_span_t *s = &spans[i];
        if (s->entry >= n_entries || entries[s->entry].kind != SLATE_METER_INBOUND)
            continue;
        const slate_meter_entry_t *own = &entries[s->entry];
        slate_span_t *x = &mem->spans[ns++];
        memset(x, 0, sizeof *x);
        x->trace_id = V(s->trace_id, s->trace_len);
        x->span_id = V(s->span_id, s->span_len);
        x->parent_span_id = V(s->parent_id, s->parent_len);
        x->method = V(own->method, own->method_len);
        x->path = V(own->path, own->path_len);
        x->start_ns = s->start_ns;
        x->end_ns = s->end_ns;
        x->body_size = s->body_size;
        x->load = &mem->loads[nl];
        slate_endpoint_load_t *l = &mem->loads[nl++];
        l->method = x->method;
        l->path = x->path;
        l->rps = s->arrival_rps;
        l->in_flight = s->arrival_in_flight;
        x->n_load = 1;
        if (loads != SLATE_METER_LOADS_ALL)
            continue;
        for (size_t e = 0; e < n_entries; e++) {
            if (e == s->entry || !load_listed(&entries[e]))
                continue;
            l = &mem->loads[nl++];
            l->method = V(entries[e].method, entries[e].method_len);
            l->path = V(entries[e].path, entries[e].path_len);
            l->rps = entries[e].rate_rps;
            l->in_flight = entries[e].in_flight;
            x->n_load++;
        }
    }
    rep->inbound = mem->inbound;
    rep->n_inbound = rep->cap_inbound = ni;
    rep->outbound = mem->outbound;
    rep->n_outbound = rep->cap_outbound = no;
    rep->spans = mem->spans;
    rep->n_spans = rep->cap_spans = ns;
    rep->span_loads = mem->loads;
    rep->n_span_loads = rep->cap_span_loads = nl;
    return SLATE_OK;
}
