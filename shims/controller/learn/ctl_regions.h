/*
 * slate-controller: the regions file (regions, RTT and egress price
 * matrices, capacities).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_REGIONS_H
#define CTL_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#define CTL_MAX_REGION_SLOTS 32 /* max-regions (<= 31) + the overflow region */

/* Regions file contents: names, matrices, capacities. */
typedef struct ctl_regions_file {
    uint32_t n;
    char names[CTL_MAX_REGION_SLOTS][128];
    double rtt_ms[CTL_MAX_REGION_SLOTS][CTL_MAX_REGION_SLOTS];
    double price[CTL_MAX_REGION_SLOTS][CTL_MAX_REGION_SLOTS];
    uint32_t n_caps;
    struct {
        char service[128];
        char region[128];
        double rps;
    } caps[1024];
} ctl_regions_file_t;

/*
 * Parses a regions file, one directive per line ('#' comments):
 *   region NAME                 declare a region (declaration order = index order)
 *   rtt SRC DST MS              latency added to each call from SRC to DST
 *   price SRC DST PER_BYTE      egress price of a byte sent from SRC to DST
 *   link A B MS PER_BYTE        both of the above, in both directions
 *   capacity SERVICE REGION RPS most load SERVICE takes in REGION
 * Regions named in rtt/price/link/capacity lines are declared implicitly.
 * Returns 0, or -1 with err naming the line.
 */
int ctl_regions_load(const char *path, ctl_regions_file_t *out, char *err, size_t errcap);
/* The same from memory (`name` only labels errors). O(len). */
int ctl_regions_parse(const char *text, size_t len, const char *name, ctl_regions_file_t *out,
                      char *err, size_t errcap);

#endif
