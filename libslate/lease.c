/*
 * libslate - the reporter lease (lease.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "slate/lease.h"

#include "wire.h"

#define LEASE_MAGIC 0x534c4c53u /* "SLLS" read little-endian */

slate_status slate_lease_write(uint8_t *rec, const slate_lease_t *lease)
{
    if (rec == NULL)
        return SLATE_EINVAL;
    slate_wire_put_le32(rec, LEASE_MAGIC);
    slate_wire_put_le16(rec + 4, (uint16_t)SLATE_LEASE_VERSION);
    slate_wire_put_le16(rec + 6, (uint16_t)SLATE_LEASE_SIZE);
    slate_wire_put_le64(rec + 8, lease ? lease->owner : 0);
    slate_wire_put_le64(rec + 16, lease && lease->owner ? lease->expiry_ns : 0);
    return SLATE_OK;
}

slate_status slate_lease_read(const uint8_t *rec, size_t len, slate_lease_t *out)
{
    if (rec == NULL || out == NULL)
        return SLATE_EINVAL;
    if (len < 8)
        return SLATE_EBADSIZE;
    if (slate_wire_get_le32(rec) != LEASE_MAGIC)
        return SLATE_EBADMAGIC;
    if (slate_wire_get_le16(rec + 4) != SLATE_LEASE_VERSION)
        return SLATE_EBADVERSION;
    if (len != SLATE_LEASE_SIZE || slate_wire_get_le16(rec + 6) != SLATE_LEASE_SIZE)
        return SLATE_EBADSIZE;
    uint64_t owner = slate_wire_get_le64(rec + 8);
    uint64_t expiry = slate_wire_get_le64(rec + 16);
    if (owner == 0 && expiry != 0)
        return SLATE_ECORRUPT;
    out->owner = owner;
    out->expiry_ns = expiry;
    return SLATE_OK;
}

slate_lease_result slate_lease_claim(const slate_lease_t *cur, uint64_t self, uint64_t now_ns,
                                     uint64_t ttl_ns, slate_lease_t *out)
{
    if (self == 0)
        return SLATE_LEASE_HELD;
    uint64_t owner = cur ? cur->owner : 0;
    int expired = owner == 0 || cur->expiry_ns <= now_ns;
    if (owner != self && !expired)
        return SLATE_LEASE_HELD;
    slate_lease_result r = owner == self ? SLATE_LEASE_RENEWED
                           : owner == 0  ? SLATE_LEASE_TAKEN
                                         : SLATE_LEASE_TAKEN_OVER;
    if (out) {
        out->owner = self;
        out->expiry_ns = ttl_ns > UINT64_MAX - now_ns ? UINT64_MAX : now_ns + ttl_ns;
    }
    return r;
}
