/*
 * The snapshot a global controller would learn from a synthetic mesh
 * (mesh_input.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "mesh_input.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memcpy(d, s, n);
    return d;
}

void *mesh_zalloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

ctl_solve_input_t *mesh_solve_input(const mesh_t *m, bool curved, double load_scale)
{
    ctl_solve_input_t *in = mesh_zalloc(sizeof *in);
    uint32_t R = m->n_regions, S = m->n_services;
    in->now_ns = 1700000000000000000ull;
    in->window_s = 2.0;
    in->n_regions = R;
    in->region_names = mesh_zalloc(R * sizeof(char *));
    for (uint32_t r = 0; r < R; r++)
        in->region_names[r] = dup_str(m->region[r]);
    for (uint32_t a = 0; a < R; a++)
        for (uint32_t b = 0; b < R; b++) {
            in->rtt_ms[a][b] = m->rtt_ms[a][b];
            in->price[a][b] = m->price[a][b];
        }
    in->n_services = S;
    in->service_names = mesh_zalloc(S * sizeof(char *));
    in->service_overflow = mesh_zalloc(S * sizeof(bool));
    in->deployed = mesh_zalloc(S * sizeof(*in->deployed));
    in->capacity = mesh_zalloc(S * sizeof(*in->capacity));
    uint32_t n_eps = 0, n_edges = 0;
    for (uint32_t s = 0; s < S; s++) {
        in->service_names[s] = dup_str(m->svcs[s].name);
        for (uint32_t r = 0; r < R; r++) {
            in->deployed[s][r] = m->svcs[s].pods[r] > 0;
            in->capacity[s][r] = m->svcs[s].capacity[r] > 0 ? m->svcs[s].capacity[r] : INFINITY;
        }
        n_eps += m->svcs[s].n_eps;
        for (unsigned e = 0; e < m->svcs[s].n_eps; e++)
            n_edges += m->svcs[s].eps[e].n_calls;
    }
    uint32_t *first = mesh_zalloc(S * sizeof(uint32_t));
    for (uint32_t s = 0, k = 0; s < S; s++) {
        first[s] = k;
        k += m->svcs[s].n_eps;
    }
    in->endpoints = mesh_zalloc(n_eps * sizeof(ctl_si_endpoint_t));
    in->edges = mesh_zalloc((n_edges ? n_edges : 1) * sizeof(*in->edges));
    double lat_sum = 0, load_sum = 0;
    for (uint32_t s = 0; s < S; s++) {
        const mesh_service_t *sv = &m->svcs[s];
        for (unsigned e = 0; e < sv->n_eps; e++) {
            const mesh_endpoint_t *me = &sv->eps[e];
            ctl_si_endpoint_t *ce = &in->endpoints[in->n_endpoints++];
            ce->svc = s;
            ce->method = dup_str("GET");
            ce->path = dup_str(me->path);
            ce->has_parent = sv->level > 0;
            double flat_ms = 2.0 + 3.0 * me->n_calls;
            for (uint32_t r = 0; r < R; r++) {
                ce->latency_ms[r] = NAN;
                if (!sv->pods[r])
                    continue;
                ce->load[r] = me->load[r] * load_scale;
                ce->latency_ms[r] = flat_ms;
                double cap = sv->capacity[r] > 0 ? sv->capacity[r] : 4.0 * (me->load[r] + 10.0);
                /* curved: latency doubles at the capacity (b x + c x^2 = a there) */
                double b = curved ? 0.3 * flat_ms / cap : 0.0;
                double c = curved ? 0.7 * flat_ms / (cap * cap) : 0.0;
                if (slate_opt_fit_fixed(&ce->fit[r], flat_ms, b, c) != SLATE_OK) {
                    fprintf(stderr, "bad model\n");
                    exit(2);
                }
                ce->fit[r].trusted = 1;
                ce->has_fit[r] = true;
                if (sv->level == 0) {
                    lat_sum += ce->load[r] * flat_ms;
                    load_sum += ce->load[r];
                }
            }
            for (unsigned c = 0; c < me->n_calls; c++) {
                struct ctl_si_edge *ed = &in->edges[in->n_edges++];
                ed->parent = first[s] + e;
                ed->child = first[me->calls[c].svc] + me->calls[c].ep;
                ed->calls_per_request = 1.0;
                ed->bytes_per_call = 512;
            }
        }
    }
    in->measured_latency_ms = load_sum > 0 ? lat_sum / load_sum : NAN;
    free(first);
    return in;
}
