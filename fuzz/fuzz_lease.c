/*
 * A lease record read from shared memory is untrusted: slate_lease_read()
 * never reads past its length, a record it accepts re-encodes to the same
 * bytes, and a claim on it keeps the documented invariants.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "slate/lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slate_lease_t l;
    if (slate_lease_read(data, size, &l) != SLATE_OK)
        return 0;
    uint8_t rec[SLATE_LEASE_SIZE];
    if (slate_lease_write(rec, &l) != SLATE_OK || memcmp(rec, data, SLATE_LEASE_SIZE) != 0)
        __builtin_trap();
    /* claim with the expiry's own bytes as the caller's id and time */
    uint64_t self = l.expiry_ns ^ 0x9e3779b97f4a7c15ull;
    slate_lease_t out = {0};
    slate_lease_result r = slate_lease_claim(&l, self, l.expiry_ns, 1000, &out);
    if (r != SLATE_LEASE_HELD && (out.owner != self || out.expiry_ns < l.expiry_ns))
        __builtin_trap();
    if (self != 0 && r == SLATE_LEASE_HELD)
        __builtin_trap(); /* at its expiry the lease is free to anyone */
    return 0;
}
