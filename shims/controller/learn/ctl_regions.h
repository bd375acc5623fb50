/*
 * slate-controller: the regions file (regions, RTT and egress price
 * matrices, capacities).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_REGIONS_H
#define CTL_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#define CTL_MAX_REGION_SLOTS 33 /* max-regions (<= 32) + the overflow region */

/* A regions file holds at most this many bytes and capacity lines: a
 * 1,000-service mesh deployed in 16 regions has 16,000 (service, region)
 * pairs, and a capacity line is about 40 bytes. The capacities are kept on
 * the heap, 264 bytes a line, so the limit costs nothing until used. */
#define CTL_REGIONS_FILE_MAX   (4u << 20)
#define CTL_MAX_CAPACITY_LINES 65536u

typedef struct ctl_capacity {
    char service[128];
    char region[128];
    double rps;
} ctl_capacity_t;

/* Regions file contents: names, matrices, capacities. */
typedef struct ctl_regions_file {
    uint32_t n;
    char names[CTL_MAX_REGION_SLOTS][128];
    double rtt_ms[CTL_MAX_REGION_SLOTS][CTL_MAX_REGION_SLOTS];
    double price[CTL_MAX_REGION_SLOTS][CTL_MAX_REGION_SLOTS];
    uint32_t n_caps;
    uint32_t caps_cap;    /* entries allocated in caps */
    ctl_capacity_t *caps; /* n_caps capacity lines in file order; a later line for the same
                           * (service, region) wins. Heap: ctl_regions_free() */
} ctl_regions_file_t;

/*
 * Parses a regions file, one directive per line ('#' comments):
 *   region NAME                 declare a region (declaration order = index order)
 *   rtt SRC DST MS              latency added to each call from SRC to DST
 *   price SRC DST PER_BYTE      egress price of a byte sent from SRC to DST
 *   link A B MS PER_BYTE        both of the above, in both directions
 *   capacity SERVICE REGION RPS most load SERVICE takes in REGION
 * Regions named in rtt/price/link/capacity lines are declared implicitly.
 * Limits: CTL_MAX_REGION_SLOTS - 1 regions, CTL_MAX_CAPACITY_LINES capacity
 * lines, lines of at most 1,023 bytes, a file of at most CTL_REGIONS_FILE_MAX
 * bytes. Returns 0, or -1 with err naming the line (out is then empty: no
 * capacities held). `out` is overwritten: free what it held first.
 */
int ctl_regions_load(const char *path, ctl_regions_file_t *out, char *err, size_t errcap);
/* The same from memory (`name` only labels errors). O(len). */
int ctl_regions_parse(const char *text, size_t len, const char *name, ctl_regions_file_t *out,
                      char *err, size_t errcap);
/* Releases the capacities a load or parse allocated; f is then empty. NULL ok. */
void ctl_regions_free(ctl_regions_file_t *f);

#endif
