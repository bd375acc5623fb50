/*
 * A seeded synthetic service mesh for the scale benchmark: services with
 * endpoints, call trees, regions with RTT and egress prices, pods per service
 * and region, load per entry point and capacities. The same seed and sizes
 * always give the same mesh (its own xorshift generator, no libc rand).
 *
 * Shapes (drawn per mesh):
 * - a tenth of the services (at least one) are entry services, deployed in
 *   every region; the others sit on levels 1..4 of the call graph (level l
 *   holds about half as many services as level l-1's share allows, so trees
 *   are wide near the root), each in each region with probability 3/4 (and
 *   at least one region);
 * - 1 to 4 endpoints per service, geometric (mean about 1.6);
 * - each endpoint calls 0 to 4 endpoints of services one level down,
 *   geometric fan-out with mean about 1.5 (leaves: level 4), so depth is at
 *   most 5 and the graph is acyclic;
 * - entry load per (entry endpoint, region) log-uniform in 5..200 rps;
 *   every call is one call per parent request, served in the caller's region
 *   when the callee is deployed there, else in the callee's first region;
 * - 1 to 4 pods per (service, region), geometric (mean about 1.5);
 * - regions are points on a plane of 150 ms across: RTT = 2 + distance ms,
 *   egress price 1e-11 $/B within 40 ms and 5e-11 $/B beyond;
 * - capacity of a non-entry (service, region) is 2.5 times the load the
 *   local routing puts there (at least 25 rps); entry services and services
 *   deployed in one region have none (ingress is fixed, and a lone region
 *   has nowhere to shed load). Every service gets one in region 0, the others in
 *   service order while the regions file has room (1,024 capacity lines):
 *   from about 300 services x 16 regions on, some have none (unbounded).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_BENCH_MESH_GEN_H
#define SLATE_BENCH_MESH_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MESH_MAX_REGIONS   32 /* the controller's max-regions is at most 32 */
#define MESH_MAX_ENDPOINTS 4
#define MESH_MAX_FANOUT    4
#define MESH_MAX_PODS      4
#define MESH_LEVELS        5
/* the controller's regions file holds at most 1,024 capacity lines */
#define MESH_MAX_CAPACITIES 1024

typedef struct mesh_call {
    uint32_t svc, ep; /* callee */
} mesh_call_t;

typedef struct mesh_endpoint {
    char path[48];
    mesh_call_t calls[MESH_MAX_FANOUT];
    unsigned n_calls;
    double entry_rps[MESH_MAX_REGIONS]; /* ingress, entry endpoints only */
    double load[MESH_MAX_REGIONS];      /* rps served in each region (local routing) */
} mesh_endpoint_t;

typedef struct mesh_service {
    char name[32];
    unsigned level; /* 0 = entry */
    unsigned n_eps;
    mesh_endpoint_t eps[MESH_MAX_ENDPOINTS];
    unsigned pods[MESH_MAX_REGIONS];   /* 0 = not deployed there */
    double capacity[MESH_MAX_REGIONS]; /* rps; 0 = none given (entry services) */
    uint32_t first_region;             /* the first region it is deployed in */
} mesh_service_t;

typedef struct mesh {
    uint64_t seed;
    unsigned n_regions, n_services;
    char region[MESH_MAX_REGIONS][16];
    double rtt_ms[MESH_MAX_REGIONS][MESH_MAX_REGIONS];
    double price[MESH_MAX_REGIONS][MESH_MAX_REGIONS]; /* $ per byte */
    mesh_service_t *svcs;
} mesh_t;

/* Builds the mesh; 0 on success, -1 on bad sizes or no memory. */
int mesh_generate(mesh_t *m, unsigned n_services, unsigned n_regions, uint64_t seed);
void mesh_free(mesh_t *m);

/* The region a call from `region` to (svc) is served in under local routing. */
uint32_t mesh_serving_region(const mesh_t *m, uint32_t svc, uint32_t region);

/* Recomputes every endpoint's load from the entry loads (after changing them). */
void mesh_propagate(mesh_t *m);

/* Writes the controller's regions file (region, link, capacity lines). */
int mesh_write_regions(const mesh_t *m, FILE *f);

/* Totals, for the benchmark's header line. */
void mesh_counts(const mesh_t *m, size_t *endpoints, size_t *calls, size_t *pods);

#endif
