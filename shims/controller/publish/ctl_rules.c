/*
 * slate-controller: immutable rule sets and their encodings.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "slate/legacy.h"

ctl_rules_t *ctl_rules_new(uint64_t version, uint64_t ttl_ns, uint64_t generated_ns,
                           const char *origin)
{
    ctl_rules_t *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    static atomic_uint_fast64_t serials;
    atomic_init(&r->refs, 1);
    r->serial = atomic_fetch_add(&serials, 1) + 1;
    r->version = version;
    r->ttl_ns = ttl_ns;
    r->generated_ns = generated_ns;
    snprintf(r->origin, sizeof(r->origin), "%s", origin ? origin : "");
    pthread_mutex_init(&r->cache_mu, NULL);
    return r;
}

void ctl_rules_ref(ctl_rules_t *r)
{
    if (r)
        atomic_fetch_add(&r->refs, 1);
}

static void rule_free(ctl_rule_t *ru)
{
    free(ru->src_region);
    free(ru->dst_service);
    free(ru->method);
    free(ru->path);
    free(ru->src_service);
    for (uint32_t t = 0; t < ru->n_targets; t++)
        free(ru->targets[t].region);
    free(ru->targets);
}

void ctl_rules_unref(ctl_rules_t *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (size_t i = 0; i < r->n_rules; i++)
        rule_free(&r->rules[i]);
    free(r->rules);
    for (int i = 0; i < CTL_RULES_CACHE; i++) {
        free(r->cache[i].service);
        free(r->cache[i].region);
        free(r->cache[i].pb);
    }
    pthread_mutex_destroy(&r->cache_mu);
    free(r);
}

static char *dup_s(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

int ctl_rules_add(ctl_rules_t *r, const char *src_region, const char *dst_service,
                  const char *method, const char *path, const char *src_service,
                  const char *const *regions, const uint32_t *weights, uint32_t n)
{
    if (r->n_rules == r->cap_rules) {
        size_t nc = r->cap_rules ? r->cap_rules * 2 : 16;
        ctl_rule_t *p = realloc(r->rules, nc * sizeof(*p));
        if (!p)
            return -1;
        r->rules = p;
        r->cap_rules = nc;
    }
    ctl_rule_t ru;
    memset(&ru, 0, sizeof(ru));
    ru.src_region = strdup(src_region);
    ru.dst_service = strdup(dst_service);
    ru.method = strdup(method ? method : "");
    ru.path = strdup(path ? path : "");
    ru.src_service = strdup(src_service ? src_service : "");
    ru.targets = calloc(n ? n : 1, sizeof(ctl_target_t));
    bool ok =
        ru.src_region && ru.dst_service && ru.method && ru.path && ru.src_service && ru.targets;
    for (uint32_t t = 0; ok && t < n; t++) {
        ru.targets[t].region = strdup(regions[t]);
        ru.targets[t].weight = weights[t];
        ok = ru.targets[t].region != NULL;
        ru.n_targets = t + 1;
    }
    if (!ok) {
        rule_free(&ru);
        return -1;
    }
    r->rules[r->n_rules++] = ru;
    return 0;
}

static int rule_cmp_key(const ctl_rule_t *a, const ctl_rule_t *b)
{
    int c;
    if ((c = strcmp(a->src_region, b->src_region)) != 0)
        return c;
    if ((c = strcmp(a->dst_service, b->dst_service)) != 0)
        return c;
    if ((c = strcmp(a->method, b->method)) != 0)
        return c;
    if ((c = strcmp(a->path, b->path)) != 0)
        return c;
    return strcmp(a->src_service, b->src_service);
}

static bool rule_same(const ctl_rule_t *x, const ctl_rule_t *y)
{
    if (rule_cmp_key(x, y) != 0 || x->n_targets != y->n_targets)
        return false;
    for (uint32_t t = 0; t < x->n_targets; t++)
        if (strcmp(x->targets[t].region, y->targets[t].region) != 0 ||
            x->targets[t].weight != y->targets[t].weight)
            return false;
    return true;
}

bool ctl_rules_same_routing(const ctl_rules_t *a, const ctl_rules_t *b)
{
    if (!a || !b)
        return a == b;
    if (a->n_rules != b->n_rules)
        return false;
    /* The same rules in the same order (the usual case, and the only
     * unambiguous one when a set repeats a key). */
    bool in_order = true;
    for (size_t i = 0; i < a->n_rules && in_order; i++)
        in_order = rule_same(&a->rules[i], &b->rules[i]);
    if (in_order)
        return true;
    for (size_t i = 0; i < a->n_rules; i++) {
        const ctl_rule_t *x = &a->rules[i];
        const ctl_rule_t *y = NULL;
        for (size_t k = 0; k < b->n_rules && !y; k++)
            if (rule_cmp_key(x, &b->rules[k]) == 0)
                y = &b->rules[k];
        if (!y || x->n_targets != y->n_targets)
            return false;
        for (uint32_t t = 0; t < x->n_targets; t++) {
            bool found = false;
            for (uint32_t u = 0; u < y->n_targets && !found; u++)
                found = strcmp(x->targets[t].region, y->targets[u].region) == 0 &&
                        x->targets[t].weight == y->targets[u].weight;
            if (!found)
                return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* To and from the codec's structs */

typedef bool (*rule_filter)(const ctl_rule_t *ru, const void *ctx);

/* Fills a slate_routing_rules_t with views of the selected rules (arrays malloc'd). */
static int build_message(const ctl_rules_t *r, rule_filter keep, const void *ctx,
                         slate_routing_rules_t *m)
{
    memset(m, 0, sizeof(*m));
    m->version = r->version;
    m->ttl_ns = r->ttl_ns;
    m->generated_ns = r->generated_ns;
    size_t n_rules = 0, n_targets = 0;
    for (size_t i = 0; i < r->n_rules; i++)
        if (!keep || keep(&r->rules[i], ctx)) {
            n_rules++;
            n_targets += r->rules[i].n_targets;
        }
    m->rules = calloc(n_rules ? n_rules : 1, sizeof(slate_rule_t));
    m->targets = calloc(n_targets ? n_targets : 1, sizeof(slate_route_target_t));
    if (!m->rules || !m->targets) {
        free(m->rules);
        free(m->targets);
        return -1;
    }
    size_t ti = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        if (keep && !keep(ru, ctx))
            continue;
        slate_rule_t *o = &m->rules[m->n_rules++];
        o->src_region = slate_str(ru->src_region);
        o->dst_service = slate_str(ru->dst_service);
        o->method = slate_str(ru->method);
        o->path = slate_str(ru->path);
        o->src_service = slate_str(ru->src_service);
        o->targets = &m->targets[ti];
        o->n_targets = ru->n_targets;
        for (uint32_t t = 0; t < ru->n_targets; t++) {
            m->targets[ti].region = slate_str(ru->targets[t].region);
            m->targets[ti].weight = ru->targets[t].weight;
            ti++;
        }
    }
    m->n_targets = ti;
    return 0;
}

static int encode_message(const slate_routing_rules_t *m, ctl_buf_t *out)
{
    size_t need = 0;
    slate_status st = slate_routing_rules_encode(m, NULL, 0, &need, NULL);
    if (st != SLATE_OK && st != SLATE_ENOSPC)
        return -1;
    if (!ctl_buf_reserve(out, need))
        return -1;
    size_t len = 0;
    st = slate_routing_rules_encode(m, (uint8_t *)out->data + out->len, need, &len, NULL);
    if (st != SLATE_OK)
        return -1;
    out->len += len;
    return 0;
}

/* Appends the selected rules (all with keep NULL) as one RoutingRules message. */
static int encode_selected(const ctl_rules_t *r, rule_filter keep, const void *ctx, ctl_buf_t *out)
{
    slate_routing_rules_t m;
    if (build_message(r, keep, ctx, &m) != 0)
        return -1;
    int rc = encode_message(&m, out);
    free(m.rules);
    free(m.targets);
    return rc;
}

int ctl_rules_encode_all(const ctl_rules_t *r, ctl_buf_t *out)
{
    return encode_selected(r, NULL, NULL, out);
}

static char *view_dup(slate_str_t s)
{
    return dup_s(s.ptr ? s.ptr : "", s.len);
}

static bool has_nul(slate_str_t s)
{
    return s.len > 0 && memchr(s.ptr, '\0', s.len) != NULL;
}

ctl_rules_t *ctl_rules_from_message(const slate_routing_rules_t *m, const char *origin)
{
    /* Names are kept as C strings: a NUL inside one would silently cut it. */
    for (size_t i = 0; i < m->n_rules; i++) {
        const slate_rule_t *ru = &m->rules[i];
        if (has_nul(ru->src_region) || has_nul(ru->dst_service) || has_nul(ru->method) ||
            has_nul(ru->path) || has_nul(ru->src_service))
            return NULL;
        for (size_t t = 0; t < ru->n_targets; t++)
            if (has_nul(ru->targets[t].region))
                return NULL;
    }
    ctl_rules_t *r = ctl_rules_new(m->version, m->ttl_ns, m->generated_ns, origin);
    if (!r)
        return NULL;
    for (size_t i = 0; i < m->n_rules; i++) {
        const slate_rule_t *ru = &m->rules[i];
        char *f[5] = {view_dup(ru->src_region), view_dup(ru->dst_service), view_dup(ru->method),
                      view_dup(ru->path), view_dup(ru->src_service)};
        const char **regions = calloc(ru->n_targets ? ru->n_targets : 1, sizeof(char *));
        uint32_t *weights = calloc(ru->n_targets ? ru->n_targets : 1, sizeof(uint32_t));
        bool ok = f[0] && f[1] && f[2] && f[3] && f[4] && regions && weights;
        for (size_t t = 0; ok && t < ru->n_targets; t++) {
            regions[t] = view_dup(ru->targets[t].region);
            weights[t] = ru->targets[t].weight;
            ok = regions[t] != NULL;
        }
        if (ok)
            ok = ctl_rules_add(r, f[0], f[1], f[2], f[3], f[4], regions, weights,
                               (uint32_t)ru->n_targets) == 0;
        for (size_t t = 0; regions && t < ru->n_targets; t++)
            free((char *)regions[t]);
        free(regions);
        free(weights);
        for (int k = 0; k < 5; k++)
            free(f[k]);
        if (!ok) {
            ctl_rules_unref(r);
            return NULL;
        }
    }
    return r;
}

ctl_rules_t *ctl_rules_decode_all(const uint8_t *buf, size_t len, const char *origin,
                                  slate_codec_error_t *err)
{
    slate_routing_rules_t m;
    memset(&m, 0, sizeof(m));
    slate_codec_limits_t lim = SLATE_CODEC_LIMITS_DEFAULT;
    lim.max_size = len > lim.max_size ? (uint32_t)len : lim.max_size;
    if (slate_routing_rules_decode(&m, buf, len, &lim, err) != SLATE_OK)
        return NULL; /* count pass: validates everything */
    m.rules = calloc(m.n_rules ? m.n_rules : 1, sizeof(slate_rule_t));
    m.cap_rules = m.n_rules;
    m.targets = calloc(m.n_targets ? m.n_targets : 1, sizeof(slate_route_target_t));
    m.cap_targets = m.n_targets;
    ctl_rules_t *r = NULL;
    if (m.rules && m.targets && slate_routing_rules_decode(&m, buf, len, &lim, err) == SLATE_OK)
        r = ctl_rules_from_message(&m, origin);
    free(m.rules);
    free(m.targets);
    return r;
}

/* ------------------------------------------------------------------------- */
/* Per-proxy answers */

typedef struct sel_ctx {
    const char *service;
    size_t slen;
    const char *region;
    size_t rlen;
} sel_ctx;

static bool eq_n(const char *a, const char *b, size_t blen)
{
    return strlen(a) == blen && (blen == 0 || memcmp(a, b, blen) == 0);
}

static bool select_rule(const ctl_rule_t *ru, const void *vctx)
{
    const sel_ctx *c = vctx;
    return eq_n(ru->src_region, c->region, c->rlen) &&
           (ru->src_service[0] == '\0' || eq_n(ru->src_service, c->service, c->slen));
}

int ctl_rules_response(ctl_rules_t *r, const char *service, size_t slen, const char *region,
                       size_t rlen, ctl_buf_t *out)
{
    uint64_t key = XXH3_64bits(service, slen) * 0x9E3779B97F4A7C15ull ^ XXH3_64bits(region, rlen);
    struct ctl_rules_cache *slot = &r->cache[key % CTL_RULES_CACHE];
    pthread_mutex_lock(&r->cache_mu);
    if (slot->pb && slot->key == key && eq_n(slot->service, service, slen) &&
        eq_n(slot->region, region, rlen)) {
        ctl_buf_append(out, slot->pb, slot->pb_len);
        pthread_mutex_unlock(&r->cache_mu);
        return out->failed ? -1 : 0;
    }
    pthread_mutex_unlock(&r->cache_mu);

    sel_ctx ctx = {service, slen, region, rlen};
    slate_routing_rules_t m;
    if (build_message(r, select_rule, &ctx, &m) != 0)
        return -1;
    size_t start = out->len;
    int rc = encode_message(&m, out);
    free(m.rules);
    free(m.targets);
    if (rc != 0)
        return -1;

    size_t n = out->len - start;
    uint8_t *copy = malloc(n ? n : 1);
    char *sv = dup_s(service, slen), *rg = dup_s(region, rlen);
    if (!copy || !sv || !rg) {
        free(copy);
        free(sv);
        free(rg);
        return 0; /* answered; just not cached */
    }
    memcpy(copy, out->data + start, n);
    pthread_mutex_lock(&r->cache_mu);
    free(slot->pb);
    free(slot->service);
    free(slot->region);
    slot->key = key;
    slot->pb = copy;
    slot->pb_len = n;
    slot->service = sv;
    slot->region = rg;
    pthread_mutex_unlock(&r->cache_mu);
    return 0;
}

/* SLATE's text cannot carry these bytes in names; such rules are left out of it. */
static bool legacy_safe(const char *s)
{
    return strpbrk(s, ",@\n\r") == NULL && s[0] != ' ' && (s[0] == '\0' || s[strlen(s) - 1] != ' ');
}

static bool select_legacy(const ctl_rule_t *ru, const void *ctx)
{
    if (!select_rule(ru, ctx))
        return false;
    if (!legacy_safe(ru->dst_service) || !legacy_safe(ru->method) || !legacy_safe(ru->path) ||
        !legacy_safe(ru->src_service) || !legacy_safe(ru->src_region) || ru->method[0] == '\0' ||
        ru->path[0] == '\0')
        return false;
    for (uint32_t t = 0; t < ru->n_targets; t++)
        if (!legacy_safe(ru->targets[t].region) || ru->targets[t].region[0] == '\0')
            return false;
    return true;
}

int ctl_rules_legacy(ctl_rules_t *r, const char *service, size_t slen, const char *region,
                     size_t rlen, ctl_buf_t *out)
{
    sel_ctx ctx = {service, slen, region, rlen};
    slate_routing_rules_t m;
    if (build_message(r, select_legacy, &ctx, &m) != 0)
        return -1;
    int rc = -1;
    if (slate_legacy_rules_normalize(&m) == SLATE_OK) {
        size_t need = 0;
        slate_status st = slate_legacy_rules_encode(&m, NULL, 0, &need, NULL);
        if ((st == SLATE_OK || st == SLATE_ENOSPC) && ctl_buf_reserve(out, need)) {
            size_t len = 0;
            if (slate_legacy_rules_encode(&m, out->data + out->len, need, &len, NULL) == SLATE_OK) {
                out->len += len;
                rc = 0;
            }
        }
    }
    free(m.rules);
    free(m.targets);
    return rc;
}

void ctl_rules_json(const ctl_rules_t *r, ctl_json_t *j)
{
    ctl_json_obj(j);
    ctl_json_ku64(j, "version", r->version);
    ctl_json_ku64(j, "ttl_ns", r->ttl_ns);
    ctl_json_ku64(j, "generated_ns", r->generated_ns);
    ctl_json_kstr(j, "origin", r->origin);
    ctl_json_ku64(j, "weight_scale", CTL_WEIGHT_SCALE);
    ctl_json_key(j, "rules");
    ctl_json_arr(j);
    for (size_t i = 0; i < r->n_rules; i++) {
        const ctl_rule_t *ru = &r->rules[i];
        ctl_json_obj(j);
        ctl_json_kstr(j, "src_region", ru->src_region);
        ctl_json_kstr(j, "src_service", ru->src_service);
        ctl_json_kstr(j, "dst_service", ru->dst_service);
        ctl_json_kstr(j, "method", ru->method);
        ctl_json_kstr(j, "path", ru->path);
        ctl_json_key(j, "targets");
        ctl_json_arr(j);
        uint64_t sum = 0;
        for (uint32_t t = 0; t < ru->n_targets; t++)
            sum += ru->targets[t].weight;
        for (uint32_t t = 0; t < ru->n_targets; t++) {
            ctl_json_obj(j);
            ctl_json_kstr(j, "region", ru->targets[t].region);
            ctl_json_ku64(j, "weight", ru->targets[t].weight);
            ctl_json_kf64(j, "fraction", sum ? (double)ru->targets[t].weight / (double)sum : 0);
            ctl_json_obj_end(j);
        }
        ctl_json_arr_end(j);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);
    ctl_json_obj_end(j);
}

/* ------------------------------------------------------------------------- */
/* One answer for a batch of reports */

static uint64_t name_hash(const char *s, size_t n)
{
    return XXH3_64bits(s, n) | 1u; /* 0 marks an empty slot */
}

static int set_add(uint64_t **keys, size_t *cap, size_t *n, uint64_t k)
{
    if (2 * (*n + 1) > *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        uint64_t *nk = calloc(nc, sizeof(uint64_t));
        if (!nk)
            return -1;
        for (size_t i = 0; i < *cap; i++)
            if ((*keys)[i]) {
                size_t j = (size_t)((*keys)[i] % nc);
                while (nk[j])
                    j = (j + 1) % nc;
                nk[j] = (*keys)[i];
            }
        free(*keys);
        *keys = nk;
        *cap = nc;
    }
    size_t j = (size_t)(k % *cap);
    while ((*keys)[j] && (*keys)[j] != k)
        j = (j + 1) % *cap;
    if (!(*keys)[j]) {
        (*keys)[j] = k;
        (*n)++;
    }
    return 0;
}

static bool set_has(const uint64_t *keys, size_t cap, uint64_t k)
{
    if (cap == 0)
        return false;
    size_t j = (size_t)(k % cap);
    while (keys[j]) {
        if (keys[j] == k)
            return true;
        j = (j + 1) % cap;
    }
    return false;
}

static uint64_t pair_hash(const char *service, size_t slen, const char *region, size_t rlen)
{
    return (XXH3_64bits(service, slen) * 0x9E3779B97F4A7C15ull ^ XXH3_64bits(region, rlen)) | 1u;
}

void ctl_rules_batch_init(ctl_rules_batch_t *b)
{
    memset(b, 0, sizeof(*b));
}

int ctl_rules_batch_add(ctl_rules_batch_t *b, const char *service, size_t slen, const char *region,
                        size_t rlen)
{
    if (set_add(&b->regions, &b->regions_cap, &b->n_regions, name_hash(region, rlen)) != 0)
        return -1;
    return set_add(&b->pairs, &b->pairs_cap, &b->n_pairs, pair_hash(service, slen, region, rlen));
}

void ctl_rules_batch_free(ctl_rules_batch_t *b)
{
    free(b->regions);
    free(b->pairs);
    memset(b, 0, sizeof(*b));
}

static bool select_batch(const ctl_rule_t *ru, const void *vctx)
{
    const ctl_rules_batch_t *b = vctx;
    size_t rl = strlen(ru->src_region), sl = strlen(ru->src_service);
    if (!set_has(b->regions, b->regions_cap, name_hash(ru->src_region, rl)))
        return false;
    return sl == 0 ||
           set_has(b->pairs, b->pairs_cap, pair_hash(ru->src_service, sl, ru->src_region, rl));
}

int ctl_rules_batch_response(const ctl_rules_t *r, const ctl_rules_batch_t *b, ctl_buf_t *out)
{
    return encode_selected(r, select_batch, b, out);
}
