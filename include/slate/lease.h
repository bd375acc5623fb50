/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file lease.h
 * @brief The reporter lease: one reporter per proxy at a time, taken over
 *        when its holder stops renewing it.
 *
 * Every proxy with several workers (Envoy's VMs, nginx's worker processes)
 * needs exactly one of them to report each tick, and another to take over
 * when that one dies. The lease is a 24-byte record in memory every worker
 * sees (proxy shared data, an shm zone); this module reads, validates and
 * decides on it. Pure C: no allocation, no I/O, no clock; the caller passes
 * the time.
 *
 * ## Concurrency contract
 * The record is read and replaced as a whole. slate_lease_claim() is a pure
 * decision: it reads a copy of the record and writes the record to store.
 * The caller makes read-decide-store atomic: under its lock (an shm mutex),
 * or with compare-and-swap (proxy shared data's cas), retrying on a
 * mismatch. A record read from shared memory is untrusted: slate_lease_read()
 * validates it and never reads past `len`.
 *
 * ## Layout (version 1; little-endian, no alignment needed)
 * | off | size | field |
 * |---|---|---|
 * | 0  | 4 | magic "SLLS" |
 * | 4  | 2 | version (1) |
 * | 6  | 2 | record size (24) |
 * | 8  | 8 | owner id (0 = nobody) |
 * | 16 | 8 | expiry, in the callers' common clock (ns) |
 */
#ifndef SLATE_LEASE_H
#define SLATE_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of a lease record. */
#define SLATE_LEASE_SIZE 24u
/** The lease record's layout version. */
#define SLATE_LEASE_VERSION 1u

/** A decoded lease record. Owner 0 means nobody holds it. */
typedef struct slate_lease {
    uint64_t owner;     /**< id of the holder; 0 = free */
    uint64_t expiry_ns; /**< the lease is free from this time on */
} slate_lease_t;

/** What slate_lease_claim() decided. */
typedef enum slate_lease_result {
    SLATE_LEASE_HELD = 0,      /**< another owner holds an unexpired lease; store nothing */
    SLATE_LEASE_RENEWED = 1,   /**< the caller held it and renews it; store the record */
    SLATE_LEASE_TAKEN = 2,     /**< the lease was free (never held, or expired); store the record */
    SLATE_LEASE_TAKEN_OVER = 3 /**< it expired in another owner's hands; store the record */
} slate_lease_result;

/**
 * @brief Write the record of `lease` into `rec`.
 * @param rec SLATE_LEASE_SIZE bytes, any alignment.
 * @param lease the owner and expiry to record; NULL writes a free lease.
 * @return SLATE_OK; SLATE_EINVAL when `rec` is NULL.
 * Cost: O(1), 24 bytes written.
 */
SLATE_API SLATE_NODISCARD slate_status slate_lease_write(uint8_t *rec, const slate_lease_t *lease);

/**
 * @brief Validate and decode a lease record another party wrote.
 * @param rec the record (untrusted); `len` its length in bytes.
 * @param out the decoded lease; written only on SLATE_OK.
 * @return SLATE_OK; SLATE_EINVAL for a NULL pointer; SLATE_EBADSIZE when
 *         `len` or the recorded size is not SLATE_LEASE_SIZE;
 *         SLATE_EBADMAGIC; SLATE_EBADVERSION; SLATE_ECORRUPT when a free
 *         lease (owner 0) has an expiry.
 * Cost: O(1); never reads past `len`.
 */
SLATE_API SLATE_NODISCARD slate_status slate_lease_read(const uint8_t *rec, size_t len,
                                                        slate_lease_t *out);

/**
 * @brief Decide whether `self` may hold the lease at `now_ns`, and the
 *        record to store if so.
 *
 * `self` holds it when it is free, expired (expiry <= now) or already its
 * own; the new record names `self` until now_ns + ttl_ns (saturating).
 * @param cur the lease as read (slate_lease_read()); NULL = no record yet.
 * @param self the caller's id, not 0.
 * @param out the record to store with the caller's lock or CAS; written only
 *        when the result is not SLATE_LEASE_HELD. May be NULL.
 * @return a slate_lease_result; SLATE_LEASE_HELD also when `self` is 0.
 * Cost: O(1).
 */
SLATE_API slate_lease_result slate_lease_claim(const slate_lease_t *cur, uint64_t self,
                                               uint64_t now_ns, uint64_t ttl_ns,
                                               slate_lease_t *out);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_LEASE_H */
