/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Compiled routing rules (ruleset.h). Security note: slate_ruleset_validate()
 * treats the ruleset as hostile (it comes out of memory another process or
 * VM wrote). It checks the header against `len` before reading anything it
 * describes, checks every offset and size against the ruleset with
 * overflow-free arithmetic, verifies the checksum, and validates each
 * sampler table with slate_sampler_validate(), which never reads past the
 * size it is given. Lookups then trust the validated ruleset.
 */
#include "slate/ruleset.h"

#include <math.h>
#include <string.h>

#include "hash.h"

#include "slate/key.h"
#include "slate/sampler.h"
#include "wire.h"

size_t slate_ruleset_size(size_t n_regions, size_t n_rules, size_t total_targets)
{
    return SLATE_RULESET_HEADER + SLATE_RULESET_REGION * n_regions + SLATE_RULESET_INDEX * n_rules +
           SLATE_SAMPLER_HEADER_SIZE * n_rules + SLATE_SAMPLER_ENTRY_SIZE * total_targets;
}

static int region_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SLATE_RULESET_MAX_REGION_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

slate_status slate_ruleset_begin(slate_ruleset_builder_t *b, uint8_t *buf, size_t cap,
                                 const char *const *regions, size_t n_regions,
                                 uint16_t local_region, size_t max_rules, uint64_t version,
                                 uint64_t generated_ns, uint64_t expiry_ns)
{
    memset(b, 0, sizeof *b);
    b->failed = 1;
    if (n_regions > SLATE_SAMPLER_MAX_REGIONS || max_rules > UINT16_MAX)
        return SLATE_ETOOMANY;
    if (!buf || cap < slate_ruleset_size(n_regions, max_rules, 0))
        return SLATE_ENOSPC;
    if (local_region != SLATE_RULESET_NO_REGION && local_region >= n_regions)
        return SLATE_ERANGE;
    memset(buf, 0, SLATE_RULESET_HEADER + SLATE_RULESET_REGION * n_regions);
    for (size_t i = 0; i < n_regions; i++) {
        size_t n = regions[i] ? strlen(regions[i]) : 0;
        if (!region_name_ok(regions[i], n))
            return SLATE_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(regions[i], regions[j]) == 0)
                return SLATE_EDUPLICATE;
        memcpy(buf + SLATE_RULESET_HEADER + SLATE_RULESET_REGION * i, regions[i], n);
    }
    slate_wire_put_le32(buf, SLATE_RULESET_MAGIC);
    slate_wire_put_le16(buf + 4, SLATE_RULESET_VERSION);
    slate_wire_put_le16(buf + 6, SLATE_RULESET_HEADER);
    slate_wire_put_le16(buf + 12, (uint16_t)n_regions);
    slate_wire_put_le64(buf + 16, version);
    slate_wire_put_le64(buf + 24, generated_ns);
    slate_wire_put_le64(buf + 32, expiry_ns);
    slate_wire_put_le16(buf + 40, local_region);
    b->buf = buf;
    b->cap = cap;
    b->n_regions = (uint16_t)n_regions;
    b->max_rules = (uint16_t)max_rules;
    b->tables_at =
        SLATE_RULESET_HEADER + SLATE_RULESET_REGION * n_regions + SLATE_RULESET_INDEX * max_rules;
    b->failed = 0;
    return SLATE_OK;
}

static size_t index_at(const uint8_t *blob)
{
    return SLATE_RULESET_HEADER + SLATE_RULESET_REGION * (size_t)slate_wire_get_le16(blob + 12);
}

slate_status slate_ruleset_add(slate_ruleset_builder_t *b, uint64_t key, int kind,
                               const uint16_t *regions, const uint32_t *weights, size_t n)
{
    if (b->failed)
        return SLATE_ETOOMANY;
    if (b->n_rules >= b->max_rules)
        return SLATE_ETOOMANY;
    if (kind < 0 || kind > SLATE_RULE_ANY)
        return SLATE_EINVAL;
    if (b->n_rules > 0) {
        uint64_t prev = slate_wire_get_le64(b->buf + index_at(b->buf) +
                                            SLATE_RULESET_INDEX * (b->n_rules - 1u));
        if (key == prev)
            return SLATE_EDUPLICATE;
        if (key < prev)
            return SLATE_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (regions[i] >= b->n_regions)
            return SLATE_ERANGE;
    if (n == 0 || n > SLATE_SAMPLER_MAX_REGIONS)
        return SLATE_EVALUE;
    size_t tsize = SLATE_SAMPLER_SIZE(n);
    if (tsize > b->cap - b->tables_at)
        return SLATE_ENOSPC;
    uint8_t *t = b->buf + b->tables_at;
    slate_status st = slate_sampler_init(t, tsize, n);
    if (st != SLATE_OK)
        return SLATE_EVALUE;
    st = slate_sampler_compile_u32(t, tsize, regions, weights, n);
    if (st != SLATE_OK)
        return st; /* the sampler's reason: SLATE_EDUPLICATE, SLATE_EWEIGHT_ZERO, ... */
    uint8_t *e = b->buf + index_at(b->buf) + SLATE_RULESET_INDEX * (size_t)b->n_rules;
    memset(e, 0, SLATE_RULESET_INDEX);
    slate_wire_put_le64(e, key);
    slate_wire_put_le32(e + 8, (uint32_t)b->tables_at);
    slate_wire_put_le32(e + 12, (uint32_t)tsize);
    slate_wire_put_le16(e + 16, (uint16_t)kind);
    b->tables_at += tsize;
    b->n_rules++;
    return SLATE_OK;
}

static uint64_t blob_checksum(const uint8_t *blob, size_t len)
{
    return slate_hash64_seed(blob + SLATE_RULESET_HEADER, len - SLATE_RULESET_HEADER,
                             slate_hash64(blob, 48));
}

slate_status slate_ruleset_finish(slate_ruleset_builder_t *b, size_t *len)
{
    if (b->failed)
        return SLATE_ETOOMANY;
    uint8_t *buf = b->buf;
    size_t idx = index_at(buf);
    size_t n = b->n_rules;
    /* The index was reserved for max_rules; move the tables down so they
     * directly follow the n entries actually used. */
    size_t reserved_end = idx + SLATE_RULESET_INDEX * (size_t)b->max_rules;
    size_t used_end = idx + SLATE_RULESET_INDEX * n;
    size_t tables_len = b->tables_at - reserved_end;
    if (reserved_end != used_end) {
        memmove(buf + used_end, buf + reserved_end, tables_len);
        for (size_t i = 0; i < n; i++) {
            uint8_t *e = buf + idx + SLATE_RULESET_INDEX * i;
            slate_wire_put_le32(e + 8,
                                (uint32_t)(slate_wire_get_le32(e + 8) - (reserved_end - used_end)));
        }
    }
    uint16_t flags = 0;
    for (size_t i = 0; i < n; i++)
        flags |= (uint16_t)(1u << slate_wire_get_le16(buf + idx + SLATE_RULESET_INDEX * i + 16));
    size_t total = used_end + tables_len;
    slate_wire_put_le32(buf + 8, (uint32_t)total);
    slate_wire_put_le16(buf + 14, (uint16_t)n);
    slate_wire_put_le16(buf + 42, flags);
    slate_wire_put_le64(buf + 48, blob_checksum(buf, total));
    *len = total;
    b->failed = 1; /* a builder finishes once */
    return SLATE_OK;
}

slate_status slate_ruleset_validate(const uint8_t *blob, size_t len)
{
    if (!blob)
        return SLATE_EINVAL;
    if (len < SLATE_RULESET_HEADER)
        return SLATE_EBADSIZE;
    if (slate_wire_get_le32(blob) != SLATE_RULESET_MAGIC)
        return SLATE_EBADMAGIC;
    if (slate_wire_get_le16(blob + 4) != SLATE_RULESET_VERSION ||
        slate_wire_get_le16(blob + 6) != SLATE_RULESET_HEADER)
        return SLATE_EBADVERSION;
    size_t total = slate_wire_get_le32(blob + 8);
    if (total != len)
        return total > len ? SLATE_EBADSIZE : SLATE_EBADSIZE;
    size_t n_regions = slate_wire_get_le16(blob + 12), n = slate_wire_get_le16(blob + 14);
    if (n_regions > SLATE_SAMPLER_MAX_REGIONS || slate_wire_get_le32(blob + 44) != 0 ||
        slate_wire_get_le64(blob + 56) != 0)
        return SLATE_EBADSIZE;
    size_t idx = SLATE_RULESET_HEADER + SLATE_RULESET_REGION * n_regions;
    size_t tables = idx + SLATE_RULESET_INDEX * n;
    if (tables > len)
        return SLATE_EBADSIZE;
    if (slate_wire_get_le64(blob + 48) != blob_checksum(blob, len))
        return SLATE_ECORRUPT;
    uint16_t local = slate_wire_get_le16(blob + 40);
    if (local != SLATE_RULESET_NO_REGION && local >= n_regions)
        return SLATE_ECORRUPT;
    for (size_t i = 0; i < n_regions; i++) {
        const char *r = (const char *)blob + SLATE_RULESET_HEADER + SLATE_RULESET_REGION * i;
        size_t k = 0;
        while (k < SLATE_RULESET_REGION && r[k])
            k++;
        if (!region_name_ok(r, k) || k == SLATE_RULESET_REGION)
            return SLATE_ECORRUPT;
        for (size_t z = k; z < SLATE_RULESET_REGION; z++)
            if (r[z])
                return SLATE_ECORRUPT;
        for (size_t j = 0; j < i; j++)
            if (memcmp(r, blob + SLATE_RULESET_HEADER + SLATE_RULESET_REGION * j,
                       SLATE_RULESET_REGION) == 0)
                return SLATE_ECORRUPT;
    }
    uint16_t flags = 0;
    size_t expect = tables;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = blob + idx + SLATE_RULESET_INDEX * i;
        if (i > 0 && slate_wire_get_le64(e) <= slate_wire_get_le64(e - SLATE_RULESET_INDEX))
            return SLATE_ECORRUPT;
        size_t off = slate_wire_get_le32(e + 8), sz = slate_wire_get_le32(e + 12);
        unsigned kind = slate_wire_get_le16(e + 16);
        if (kind > SLATE_RULE_ANY || slate_wire_get_le16(e + 18) != 0 ||
            slate_wire_get_le32(e + 20) != 0)
            return SLATE_EBADSIZE;
        flags |= (uint16_t)(1u << kind);
        if (off != expect || sz > len - off)
            return SLATE_EBADSIZE;
        if (slate_sampler_validate(blob + off, sz) != SLATE_OK)
            return SLATE_ECORRUPT;
        if (SLATE_SAMPLER_SIZE(slate_sampler_capacity(blob + off)) != sz ||
            slate_sampler_count(blob + off) == 0)
            return SLATE_ECORRUPT;
        for (size_t c = 0; c < slate_sampler_count(blob + off); c++)
            if (slate_sampler_region(blob + off, c) >= n_regions)
                return SLATE_ECORRUPT;
        expect = off + sz;
    }
    if (expect != len)
        return SLATE_EBADSIZE;
    if (flags != slate_wire_get_le16(blob + 42))
        return SLATE_EBADSIZE;
    return SLATE_OK;
}

void slate_ruleset_info(const uint8_t *blob, slate_ruleset_info_t *info)
{
    info->version = slate_wire_get_le64(blob + 16);
    info->generated_ns = slate_wire_get_le64(blob + 24);
    info->expiry_ns = slate_wire_get_le64(blob + 32);
    info->checksum = slate_wire_get_le64(blob + 48);
    info->n_regions = slate_wire_get_le16(blob + 12);
    info->n_rules = slate_wire_get_le16(blob + 14);
    info->local_region = slate_wire_get_le16(blob + 40);
    info->flags = slate_wire_get_le16(blob + 42);
}

const void *slate_ruleset_find(const uint8_t *blob, uint64_t key)
{
    size_t idx = index_at(blob);
    size_t lo = 0, hi = slate_wire_get_le16(blob + 14);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = blob + idx + SLATE_RULESET_INDEX * mid;
        uint64_t k = slate_wire_get_le64(e);
        if (k == key)
            return blob + slate_wire_get_le32(e + 8);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const void *slate_ruleset_entry(const uint8_t *blob, size_t i, uint64_t *key, int *kind)
{
    if (i >= slate_wire_get_le16(blob + 14))
        return NULL;
    const uint8_t *e = blob + index_at(blob) + SLATE_RULESET_INDEX * i;
    if (key)
        *key = slate_wire_get_le64(e);
    if (kind)
        *kind = slate_wire_get_le16(e + 16);
    return blob + slate_wire_get_le32(e + 8);
}

const char *slate_ruleset_region_name(const uint8_t *blob, uint16_t id)
{
    if (id >= slate_wire_get_le16(blob + 12))
        return NULL;
    return (const char *)blob + SLATE_RULESET_HEADER + SLATE_RULESET_REGION * (size_t)id;
}

const void *slate_ruleset_match(const uint8_t *blob, const char *service, size_t service_len,
                                const char *method, size_t method_len, const char *path,
                                size_t path_len, const uint64_t *exact_key)
{
    static const struct {
        int m, p;
    } kinds[4] = {{1, 1}, {1, 0}, {0, 1}, {0, 0}}; /* SLATE_RULE_EXACT .. SLATE_RULE_ANY */
    uint16_t flags = slate_wire_get_le16(blob + 42);
    for (int k = 0; k < 4; k++) {
        if (!(flags & (1u << k)))
            continue;
        uint64_t key;
        if (k == SLATE_RULE_EXACT && exact_key)
            key = *exact_key;
        else if (slate_endpoint_key(service, service_len, method, kinds[k].m ? method_len : 0, path,
                                    kinds[k].p ? path_len : 0, &key, NULL) != SLATE_OK)
            continue;
        const void *t = slate_ruleset_find(blob, key);
        if (t)
            return t;
    }
    return NULL;
}

uint16_t slate_ruleset_route(const uint8_t *blob, const char *service, size_t service_len,
                             const char *method, size_t method_len, const char *path,
                             size_t path_len, const uint64_t *exact_key, uint64_t random)
{
    const void *t = slate_ruleset_match(blob, service, service_len, method, method_len, path,
                                        path_len, exact_key);
    if (!t)
        return SLATE_RULESET_NO_REGION;
    uint16_t id = slate_sampler_draw(t, random);
    return id < slate_wire_get_le16(blob + 12) ? id : SLATE_RULESET_NO_REGION;
}

/* ------------------------------------------------------------------------- */
/* Compiling a RoutingRules message */

typedef struct rule_ref {
    uint64_t key;
    uint32_t rule;
    uint8_t kind, agnostic;
} rule_ref_t;

/* Scratch: mix (double), refs, weights (u32), ids (u16), region pointers, names. */
typedef struct scratch_at {
    double *mix;
    rule_ref_t *refs;
    uint32_t *wts;
    uint16_t *ids;
    const char **regions;
    char *names;
} scratch_at_t;

static size_t up8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

size_t slate_ruleset_compile_scratch(size_t n_rules, size_t max_regions)
{
    size_t nr = max_regions + 1;
    return up8(nr * sizeof(double)) + up8((n_rules ? n_rules : 1) * sizeof(rule_ref_t)) +
           up8(nr * sizeof(uint32_t)) + up8(nr * sizeof(uint16_t)) + up8(nr * sizeof(char *)) +
           up8(nr * (SLATE_RULESET_MAX_REGION_NAME + 1));
}

static scratch_at_t carve(void *scratch, size_t n_rules, size_t max_regions)
{
    size_t nr = max_regions + 1;
    unsigned char *p = scratch;
    scratch_at_t s;
    s.mix = (double *)(void *)p;
    p += up8(nr * sizeof(double));
    s.refs = (rule_ref_t *)(void *)p;
    p += up8((n_rules ? n_rules : 1) * sizeof(rule_ref_t));
    s.wts = (uint32_t *)(void *)p;
    p += up8(nr * sizeof(uint32_t));
    s.ids = (uint16_t *)(void *)p;
    p += up8(nr * sizeof(uint16_t));
    s.regions = (const char **)(void *)p;
    p += up8(nr * sizeof(char *));
    s.names = (char *)p;
    return s;
}

static int str_eq(slate_str_t a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

static int printable(slate_str_t s, size_t max)
{
    if (s.len == 0 || s.len > max)
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] < 0x21 || (unsigned char)s.ptr[i] > 0x7e)
            return 0;
    return 1;
}

/* Orders by key, caller-agnostic rules first within a key. */
static int ref_before(const rule_ref_t *x, const rule_ref_t *y)
{
    return x->key != y->key ? x->key < y->key : x->agnostic > y->agnostic;
}

/* Shell sort (Ciura's gaps): small code, O(n^1.3) on the few thousand rules
 * a response may hold. */
static void sort_refs(rule_ref_t *a, size_t n)
{
    static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            rule_ref_t t = a[i];
            size_t j = i;
            while (j >= gap && ref_before(&t, &a[j - gap])) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = t;
        }
    }
}

static slate_status reject(const char **why, slate_status st, const char *text)
{
    if (why)
        *why = text;
    return st;
}

static size_t region_id(const scratch_at_t *s, size_t n_regions, slate_str_t name)
{
    size_t id = 0;
    while (id < n_regions && !str_eq(name, s->regions[id]))
        id++;
    return id;
}

/* Collects the rules that apply to the proxy, their regions and keys. */
static slate_status collect(const slate_routing_rules_t *rr,
                            const slate_ruleset_compile_params_t *p, scratch_at_t *s,
                            size_t *n_regions_out, size_t *n_refs_out, const char **why)
{
    size_t n_regions = 1, n_refs = 0, nr_cap = p->max_regions + 1;
    s->regions[0] = p->region;
    for (size_t i = 0; i < rr->n_rules; i++) {
        const slate_rule_t *ru = &rr->rules[i];
        if (!str_eq(ru->src_region, p->region))
            continue;
        if (ru->src_service.len && !str_eq(ru->src_service, p->service))
            continue;
        if (!printable(ru->dst_service, p->max_name) || ru->method.len > p->max_method ||
            ru->path.len > p->max_path)
            return reject(why, SLATE_EVALUE, "a rule's destination is empty or too long");
        if (ru->n_targets == 0 || ru->n_targets > p->max_regions)
            return reject(why, SLATE_EVALUE, "a rule has no targets or more than max_regions");
        for (size_t t = 0; t < ru->n_targets; t++) {
            slate_str_t rg = ru->targets[t].region;
            if (!printable(rg, SLATE_RULESET_MAX_REGION_NAME))
                return reject(why, SLATE_EVALUE,
                              "a target region is empty, too long or not printable");
            for (size_t u = 0; u < t; u++)
                if (rg.len == ru->targets[u].region.len &&
                    memcmp(rg.ptr, ru->targets[u].region.ptr, rg.len) == 0)
                    return reject(why, SLATE_EDUPLICATE, "a rule names a region twice");
            if (region_id(s, n_regions, rg) == n_regions) {
                if (n_regions >= nr_cap)
                    return reject(why, SLATE_ETOOMANY, "more regions than max_regions");
                char *dst = s->names + (SLATE_RULESET_MAX_REGION_NAME + 1) * n_regions;
                memcpy(dst, rg.ptr, rg.len);
                dst[rg.len] = '\0';
                s->regions[n_regions++] = dst;
            }
        }
        if (n_refs >= p->max_rules)
            return reject(why, SLATE_ETOOMANY, "more rules than max_rules");
        rule_ref_t *x = &s->refs[n_refs++];
        if (slate_endpoint_key(ru->dst_service.ptr, ru->dst_service.len, ru->method.ptr,
                               ru->method.len, ru->path.ptr, ru->path.len, &x->key,
                               NULL) != SLATE_OK)
            return reject(why, SLATE_EVALUE, "a rule's destination cannot be keyed");
        x->rule = (uint32_t)i;
        x->kind =
            (uint8_t)(ru->method.len ? (ru->path.len ? SLATE_RULE_EXACT : SLATE_RULE_ANY_PATH)
                                     : (ru->path.len ? SLATE_RULE_ANY_METHOD : SLATE_RULE_ANY));
        x->agnostic = !ru->src_method.len && !ru->src_path.len;
    }
    sort_refs(s->refs, n_refs);
    *n_regions_out = n_regions;
    *n_refs_out = n_refs;
    return SLATE_OK;
}

static double caller_rate(const slate_ruleset_compile_params_t *p, const slate_rule_t *ru)
{
    return p->caller_rate ? p->caller_rate(p->ctx, ru->src_method, ru->src_path) : 1.0;
}

/* The (region id, weight) pairs of the destination refs[i..j). Returns n, or 0
 * when the group draws nothing (all-zero: the destination routes locally). */
static size_t group_weights(const slate_routing_rules_t *rr,
                            const slate_ruleset_compile_params_t *p, const scratch_at_t *s,
                            size_t n_regions, size_t i, size_t use_to)
{
    const rule_ref_t *refs = s->refs;
    memset(s->mix, 0, n_regions * sizeof *s->mix);
    int agnostic = refs[i].agnostic;
    double total_rate = 0;
    for (size_t k = i; k < use_to; k++)
        total_rate += agnostic ? 1.0 : caller_rate(p, &rr->rules[refs[k].rule]);
    for (size_t k = i; k < use_to; k++) {
        const slate_rule_t *ru = &rr->rules[refs[k].rule];
        double share = agnostic         ? 1.0
                       : total_rate > 0 ? caller_rate(p, ru) / total_rate
                                        : 1.0 / (double)(use_to - i);
        double sum = 0;
        for (size_t t = 0; t < ru->n_targets; t++)
            sum += ru->targets[t].weight;
        if (sum <= 0)
            continue; /* all-zero rule: the destination routes locally */
        for (size_t t = 0; t < ru->n_targets; t++)
            s->mix[region_id(s, n_regions, ru->targets[t].region)] +=
                share * ru->targets[t].weight / sum;
    }
    double mx = 0;
    for (size_t k = 0; k < n_regions; k++)
        if (s->mix[k] > mx)
            mx = s->mix[k];
    if (mx <= 0)
        return 0;
    size_t n = 0;
    if (agnostic) {
        /* One rule: keep its exact integer weights. */
        const slate_rule_t *ru = &rr->rules[refs[i].rule];
        for (size_t t = 0; t < ru->n_targets; t++) {
            s->ids[n] = (uint16_t)region_id(s, n_regions, ru->targets[t].region);
            s->wts[n++] = ru->targets[t].weight;
        }
    } else {
        for (size_t k = 0; k < n_regions; k++) {
            if (s->mix[k] <= 0)
                continue;
            s->ids[n] = (uint16_t)k;
            s->wts[n++] = (uint32_t)llround(s->mix[k] / mx * 1e9);
        }
    }
    return n;
}

slate_status slate_ruleset_compile(const slate_routing_rules_t *rr,
                                   const slate_ruleset_compile_params_t *p, void *scratch,
                                   size_t scratch_len, uint8_t *out, size_t cap, size_t *len,
                                   const char **why)
{
    if (!rr || !p || !p->service || !p->region || !scratch || !len || (rr->n_rules && !rr->rules) ||
        p->max_regions >= SLATE_RULESET_NO_REGION)
        return reject(why, SLATE_EINVAL, "bad arguments");
    if (scratch_len < slate_ruleset_compile_scratch(rr->n_rules, p->max_regions))
        return reject(why, SLATE_EINVAL, "scratch too small");
    slate_str_t own = {p->region, strlen(p->region)};
    if (!printable(own, SLATE_RULESET_MAX_REGION_NAME))
        return reject(why, SLATE_EINVAL, "the proxy's region is not a region name");
    scratch_at_t s = carve(scratch, rr->n_rules, p->max_regions);
    size_t n_regions = 0, n_refs = 0;
    slate_status st = collect(rr, p, &s, &n_regions, &n_refs, why);
    if (st != SLATE_OK)
        return st;
    /* Size: one table per distinct key, sized by the regions it may draw. */
    size_t n_keys = 0, total_targets = 0;
    for (size_t i = 0; i < n_refs; i++)
        if (i == 0 || s.refs[i].key != s.refs[i - 1].key)
            n_keys++, total_targets += n_regions;
    size_t need = slate_ruleset_size(n_regions, n_keys, total_targets);
    if (!out || cap < need) {
        *len = need;
        return reject(why, SLATE_ENOSPC, "output too small");
    }
    slate_ruleset_builder_t b;
    st = slate_ruleset_begin(&b, out, cap, s.regions, n_regions, 0, n_keys, rr->version,
                             rr->generated_ns, rr->ttl_ns ? rr->generated_ns + rr->ttl_ns : 0);
    if (st != SLATE_OK)
        return reject(why, st, "bad region names");
    for (size_t i = 0; i < n_refs;) {
        size_t j = i + 1;
        while (j < n_refs && s.refs[j].key == s.refs[i].key)
            j++;
        size_t use_to = j;
        if (s.refs[i].agnostic) {
            if (j > i + 1 && s.refs[i + 1].agnostic)
                return reject(why, SLATE_EVALUE, "two rules for the same destination");
            use_to = i + 1; /* a caller-agnostic rule wins over caller-specific ones */
        }
        size_t n = group_weights(rr, p, &s, n_regions, i, use_to);
        if (n > 0) {
            st = slate_ruleset_add(&b, s.refs[i].key, s.refs[i].kind, s.ids, s.wts, n);
            if (st != SLATE_OK)
                return reject(why, st,
                              st == SLATE_EDUPLICATE ? "a rule names a region twice"
                                                     : "a rule does not compile");
        }
        i = j;
    }
    st = slate_ruleset_finish(&b, len);
    return st == SLATE_OK ? SLATE_OK : reject(why, st, "the ruleset does not close");
}

/* ---- time to live ---- */

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t slate_rules_expiry(uint64_t generated_ns, uint64_t ttl_ns, uint64_t now_ns,
                            uint64_t local_ttl_ns)
{
    uint64_t e = local_ttl_ns ? add_sat(now_ns, local_ttl_ns) : UINT64_MAX;
    if (ttl_ns) {
        uint64_t d = add_sat(generated_ns ? generated_ns : now_ns, ttl_ns);
        if (d < e)
            e = d;
    }
    if (e < now_ns)
        e = now_ns;
    return e ? e : 1;
}

slate_rules_state slate_rules_state_at(uint64_t expiry_ns, uint64_t now_ns)
{
    if (expiry_ns == 0)
        return SLATE_RULES_NONE;
    return now_ns < expiry_ns ? SLATE_RULES_LIVE : SLATE_RULES_EXPIRED;
}

int slate_rules_renews(int held, uint64_t held_version, uint64_t version)
{
    return held && held_version == version;
}
