/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Compiled routing rules. Security note: sw_rules_validate() treats the blob
 * as hostile (it comes out of shared data another VM wrote). It checks the
 * header against `len` before reading anything it describes, checks every
 * offset and size against the blob with overflow-free arithmetic, verifies
 * the checksum, and validates each sampler table with
 * slate_sampler_validate(), which never reads past the size it is given.
 * Lookups then trust the validated blob. O(len) per validation.
 */
#include "rules.h"

#include <string.h>

#include "bytes.h"
#include "slate/sampler.h"

size_t sw_rules_size(size_t n_regions, size_t n_rules, size_t total_targets)
{
    return SW_RULES_HEADER + SW_RULES_REGION * n_regions + SW_RULES_INDEX * n_rules +
           SLATE_SAMPLER_HEADER_SIZE * n_rules + SLATE_SAMPLER_ENTRY_SIZE * total_targets;
}

static int region_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SW_RULES_MAX_REGION_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

sw_rules_err sw_rules_begin(sw_rules_builder_t *b, uint8_t *buf, size_t cap,
                            const char *const *regions, size_t n_regions, uint16_t local_region,
                            size_t max_rules, uint64_t version, uint64_t generated_ns,
                            uint64_t expiry_ns)
{
    memset(b, 0, sizeof *b);
    b->failed = 1;
    if (n_regions > SLATE_SAMPLER_MAX_REGIONS || max_rules > UINT16_MAX)
        return SW_RULES_COUNT;
    if (!buf || cap < sw_rules_size(n_regions, max_rules, 0))
        return SW_RULES_NOSPACE;
    if (local_region != SW_RULES_NO_REGION && local_region >= n_regions)
        return SW_RULES_BAD_REGION;
    memset(buf, 0, SW_RULES_HEADER + SW_RULES_REGION * n_regions);
    for (size_t i = 0; i < n_regions; i++) {
        size_t n = regions[i] ? strlen(regions[i]) : 0;
        if (!region_name_ok(regions[i], n))
            return SW_RULES_BAD_REGION;
        for (size_t j = 0; j < i; j++)
            if (strcmp(regions[i], regions[j]) == 0)
                return SW_RULES_BAD_REGION;
        memcpy(buf + SW_RULES_HEADER + SW_RULES_REGION * i, regions[i], n);
    }
    sw_st32(buf, SW_RULES_MAGIC);
    sw_st16(buf + 4, SW_RULES_VERSION);
    sw_st16(buf + 6, SW_RULES_HEADER);
    sw_st16(buf + 12, (uint16_t)n_regions);
    sw_st64(buf + 16, version);
    sw_st64(buf + 24, generated_ns);
    sw_st64(buf + 32, expiry_ns);
    sw_st16(buf + 40, local_region);
    b->buf = buf;
    b->cap = cap;
    b->n_regions = (uint16_t)n_regions;
    b->max_rules = (uint16_t)max_rules;
    b->tables_at = SW_RULES_HEADER + SW_RULES_REGION * n_regions + SW_RULES_INDEX * max_rules;
    b->failed = 0;
    return SW_RULES_OK;
}

static size_t index_at(const uint8_t *blob)
{
    return SW_RULES_HEADER + SW_RULES_REGION * (size_t)sw_ld16(blob + 12);
}

sw_rules_err sw_rules_add(sw_rules_builder_t *b, uint64_t key, int kind, const uint16_t *regions,
                          const uint32_t *weights, size_t n)
{
    if (b->failed)
        return SW_RULES_COUNT;
    if (b->n_rules >= b->max_rules)
        return SW_RULES_COUNT;
    if (kind < 0 || kind > SW_KIND_ANY)
        return SW_RULES_TABLE;
    if (b->n_rules > 0) {
        uint64_t prev = sw_ld64(b->buf + index_at(b->buf) + SW_RULES_INDEX * (b->n_rules - 1u));
        if (key == prev)
            return SW_RULES_DUPLICATE;
        if (key < prev)
            return SW_RULES_ORDER;
    }
    for (size_t i = 0; i < n; i++)
        if (regions[i] >= b->n_regions)
            return SW_RULES_TABLE;
    if (n == 0 || n > SLATE_SAMPLER_MAX_REGIONS)
        return SW_RULES_WEIGHTS;
    size_t tsize = SLATE_SAMPLER_SIZE(n);
    if (tsize > b->cap - b->tables_at)
        return SW_RULES_NOSPACE;
    uint8_t *t = b->buf + b->tables_at;
    if (slate_sampler_init(t, tsize, n) != SLATE_OK)
        return SW_RULES_WEIGHTS;
    if (slate_sampler_compile_u32(t, tsize, regions, weights, n) != SLATE_OK)
        return SW_RULES_WEIGHTS;
    uint8_t *e = b->buf + index_at(b->buf) + SW_RULES_INDEX * (size_t)b->n_rules;
    memset(e, 0, SW_RULES_INDEX);
    sw_st64(e, key);
    sw_st32(e + 8, (uint32_t)b->tables_at);
    sw_st32(e + 12, (uint32_t)tsize);
    sw_st16(e + 16, (uint16_t)kind);
    b->tables_at += tsize;
    b->n_rules++;
    return SW_RULES_OK;
}

static uint64_t blob_checksum(const uint8_t *blob, size_t len)
{
    return sw_hash64(blob + SW_RULES_HEADER, len - SW_RULES_HEADER, sw_hash64(blob, 48, 0));
}

sw_rules_err sw_rules_finish(sw_rules_builder_t *b, size_t *len)
{
    if (b->failed)
        return SW_RULES_COUNT;
    uint8_t *buf = b->buf;
    size_t idx = index_at(buf);
    size_t n = b->n_rules;
    /* The index was reserved for max_rules; move the tables down so they
     * directly follow the n entries actually used. */
    size_t reserved_end = idx + SW_RULES_INDEX * (size_t)b->max_rules;
    size_t used_end = idx + SW_RULES_INDEX * n;
    size_t tables_len = b->tables_at - reserved_end;
    if (reserved_end != used_end) {
        memmove(buf + used_end, buf + reserved_end, tables_len);
        for (size_t i = 0; i < n; i++) {
            uint8_t *e = buf + idx + SW_RULES_INDEX * i;
            sw_st32(e + 8, (uint32_t)(sw_ld32(e + 8) - (reserved_end - used_end)));
        }
    }
    uint16_t flags = 0;
    for (size_t i = 0; i < n; i++)
        flags |= (uint16_t)(1u << sw_ld16(buf + idx + SW_RULES_INDEX * i + 16));
    size_t total = used_end + tables_len;
    sw_st32(buf + 8, (uint32_t)total);
    sw_st16(buf + 14, (uint16_t)n);
    sw_st16(buf + 42, flags);
    sw_st64(buf + 48, blob_checksum(buf, total));
    *len = total;
    b->failed = 1; /* a builder finishes once */
    return SW_RULES_OK;
}

sw_rules_err sw_rules_validate(const uint8_t *blob, size_t len)
{
    if (!blob || len < SW_RULES_HEADER)
        return SW_RULES_SHORT;
    if (sw_ld32(blob) != SW_RULES_MAGIC)
        return SW_RULES_MAGIC_ERR;
    if (sw_ld16(blob + 4) != SW_RULES_VERSION || sw_ld16(blob + 6) != SW_RULES_HEADER)
        return SW_RULES_VERSION_ERR;
    size_t total = sw_ld32(blob + 8);
    if (total != len)
        return total > len ? SW_RULES_SHORT : SW_RULES_SIZE;
    size_t n_regions = sw_ld16(blob + 12), n = sw_ld16(blob + 14);
    if (n_regions > SLATE_SAMPLER_MAX_REGIONS || sw_ld32(blob + 44) != 0 || sw_ld64(blob + 56) != 0)
        return SW_RULES_SIZE;
    size_t idx = SW_RULES_HEADER + SW_RULES_REGION * n_regions;
    size_t tables = idx + SW_RULES_INDEX * n;
    if (tables > len)
        return SW_RULES_SIZE;
    if (sw_ld64(blob + 48) != blob_checksum(blob, len))
        return SW_RULES_CHECKSUM;
    uint16_t local = sw_ld16(blob + 40);
    if (local != SW_RULES_NO_REGION && local >= n_regions)
        return SW_RULES_BAD_REGION;
    for (size_t i = 0; i < n_regions; i++) {
        const char *r = (const char *)blob + SW_RULES_HEADER + SW_RULES_REGION * i;
        size_t k = 0;
        while (k < SW_RULES_REGION && r[k])
            k++;
        if (!region_name_ok(r, k) || k == SW_RULES_REGION)
            return SW_RULES_BAD_REGION;
        for (size_t z = k; z < SW_RULES_REGION; z++)
            if (r[z])
                return SW_RULES_BAD_REGION;
        for (size_t j = 0; j < i; j++)
            if (memcmp(r, blob + SW_RULES_HEADER + SW_RULES_REGION * j, SW_RULES_REGION) == 0)
                return SW_RULES_BAD_REGION;
    }
    uint16_t flags = 0;
    size_t expect = tables;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = blob + idx + SW_RULES_INDEX * i;
        if (i > 0 && sw_ld64(e) <= sw_ld64(e - SW_RULES_INDEX))
            return SW_RULES_ORDER;
        size_t off = sw_ld32(e + 8), sz = sw_ld32(e + 12);
        unsigned kind = sw_ld16(e + 16);
        if (kind > SW_KIND_ANY || sw_ld16(e + 18) != 0 || sw_ld32(e + 20) != 0)
            return SW_RULES_SIZE;
        flags |= (uint16_t)(1u << kind);
        if (off != expect || sz > len - off)
            return SW_RULES_SIZE;
        if (slate_sampler_validate(blob + off, sz) != SLATE_OK)
            return SW_RULES_TABLE;
        if (SLATE_SAMPLER_SIZE(slate_sampler_capacity(blob + off)) != sz ||
            slate_sampler_count(blob + off) == 0)
            return SW_RULES_TABLE;
        for (size_t c = 0; c < slate_sampler_count(blob + off); c++)
            if (slate_sampler_region(blob + off, c) >= n_regions)
                return SW_RULES_TABLE;
        expect = off + sz;
    }
    if (expect != len)
        return SW_RULES_SIZE;
    if (flags != sw_ld16(blob + 42))
        return SW_RULES_SIZE;
    return SW_RULES_OK;
}

void sw_rules_info(const uint8_t *blob, sw_rules_info_t *info)
{
    info->version = sw_ld64(blob + 16);
    info->generated_ns = sw_ld64(blob + 24);
    info->expiry_ns = sw_ld64(blob + 32);
    info->checksum = sw_ld64(blob + 48);
    info->n_regions = sw_ld16(blob + 12);
    info->n_rules = sw_ld16(blob + 14);
    info->local_region = sw_ld16(blob + 40);
    info->flags = sw_ld16(blob + 42);
}

const void *sw_rules_find(const uint8_t *blob, uint64_t key)
{
    size_t idx = index_at(blob);
    size_t lo = 0, hi = sw_ld16(blob + 14);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = blob + idx + SW_RULES_INDEX * mid;
        uint64_t k = sw_ld64(e);
        if (k == key)
            return blob + sw_ld32(e + 8);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *sw_rules_region_name(const uint8_t *blob, uint16_t id)
{
    if (id >= sw_ld16(blob + 12))
        return NULL;
    return (const char *)blob + SW_RULES_HEADER + SW_RULES_REGION * (size_t)id;
}

const char *sw_rules_err_name(sw_rules_err e)
{
    switch (e) {
    case SW_RULES_OK:
        return "ok";
    case SW_RULES_SHORT:
        return "truncated";
    case SW_RULES_MAGIC_ERR:
        return "bad magic";
    case SW_RULES_VERSION_ERR:
        return "unknown version";
    case SW_RULES_SIZE:
        return "sizes disagree";
    case SW_RULES_CHECKSUM:
        return "checksum mismatch";
    case SW_RULES_BAD_REGION:
        return "bad region";
    case SW_RULES_ORDER:
        return "index out of order";
    case SW_RULES_TABLE:
        return "bad sampler table";
    case SW_RULES_NOSPACE:
        return "no space";
    case SW_RULES_WEIGHTS:
        return "bad weights";
    case SW_RULES_DUPLICATE:
        return "duplicate destination";
    case SW_RULES_COUNT:
        return "too many rules";
    }
    return "unknown";
}
