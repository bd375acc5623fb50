/*
 * The synthetic mesh of mesh_gen.h.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mesh_gen.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static unsigned rng_below(rng_t *r, unsigned n)
{
    return n ? (unsigned)(rng_next(r) % n) : 0;
}

/* min + geometric with success probability p, at most max */
static unsigned rng_geom(rng_t *r, unsigned min, double p, unsigned max)
{
    unsigned k = min;
    while (k < max && rng_unit(r) > p)
        k++;
    return k;
}

uint32_t mesh_serving_region(const mesh_t *m, uint32_t svc, uint32_t region)
{
    return m->svcs[svc].pods[region] ? region : m->svcs[svc].first_region;
}

void mesh_propagate(mesh_t *m)
{
    for (unsigned s = 0; s < m->n_services; s++)
        for (unsigned e = 0; e < m->svcs[s].n_eps; e++) {
            mesh_endpoint_t *ep = &m->svcs[s].eps[e];
            for (unsigned r = 0; r < m->n_regions; r++)
                ep->load[r] = ep->entry_rps[r];
        }
    /* levels in order: every caller is on a lower level than its callees */
    for (unsigned lvl = 0; lvl < MESH_LEVELS; lvl++)
        for (unsigned s = 0; s < m->n_services; s++) {
            if (m->svcs[s].level != lvl)
                continue;
            for (unsigned e = 0; e < m->svcs[s].n_eps; e++) {
                const mesh_endpoint_t *ep = &m->svcs[s].eps[e];
                for (unsigned c = 0; c < ep->n_calls; c++)
                    for (unsigned r = 0; r < m->n_regions; r++) {
                        if (ep->load[r] <= 0)
                            continue;
                        uint32_t d = mesh_serving_region(m, ep->calls[c].svc, r);
                        m->svcs[ep->calls[c].svc].eps[ep->calls[c].ep].load[d] += ep->load[r];
                    }
            }
        }
}

int mesh_generate(mesh_t *m, unsigned n_services, unsigned n_regions, uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    if (n_services < 2 || n_regions < 1 || n_regions > MESH_MAX_REGIONS)
        return -1;
    m->svcs = calloc(n_services, sizeof(mesh_service_t));
    if (!m->svcs)
        return -1;
    m->seed = seed;
    m->n_services = n_services;
    m->n_regions = n_regions;
    rng_t r = {seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull};
    if (!r.s)
        r.s = 1;

    double x[MESH_MAX_REGIONS], y[MESH_MAX_REGIONS];
    for (unsigned i = 0; i < n_regions; i++) {
        snprintf(m->region[i], sizeof m->region[i], "region-%02u", i);
        x[i] = rng_unit(&r) * 150;
        y[i] = rng_unit(&r) * 60;
    }
    for (unsigned a = 0; a < n_regions; a++)
        for (unsigned b = 0; b < n_regions; b++) {
            double d = a == b ? 0 : hypot(x[a] - x[b], y[a] - y[b]);
            m->rtt_ms[a][b] = a == b ? 0 : round((2 + d) * 10) / 10;
            m->price[a][b] = a == b ? 0 : d < 40 ? 1e-11 : 5e-11;
        }

    /* levels: a tenth entry services, the rest spread over levels 1..4 */
    unsigned n_entry = n_services / 10 ? n_services / 10 : 1;
    unsigned first_of[MESH_LEVELS + 1];
    first_of[0] = 0;
    first_of[1] = n_entry;
    unsigned rest = n_services - n_entry;
    /* shares 0.4, 0.3, 0.2, 0.1 of the rest */
    static const double share[MESH_LEVELS - 1] = {0.4, 0.3, 0.2, 0.1};
    unsigned at = n_entry;
    for (unsigned l = 1; l < MESH_LEVELS; l++) {
        unsigned k = l == MESH_LEVELS - 1 ? n_services - at : (unsigned)lround(rest * share[l - 1]);
        if (at + k > n_services)
            k = n_services - at;
        at += k;
        first_of[l + 1] = at;
    }
    for (unsigned s = 0; s < n_services; s++) {
        mesh_service_t *sv = &m->svcs[s];
        unsigned lvl = 0;
        while (lvl + 1 < MESH_LEVELS && s >= first_of[lvl + 1])
            lvl++;
        sv->level = lvl;
        snprintf(sv->name, sizeof sv->name, "%s-%04u", lvl == 0 ? "entry" : "svc", s);
        sv->n_eps = rng_geom(&r, 1, 0.6, MESH_MAX_ENDPOINTS);
        for (unsigned e = 0; e < sv->n_eps; e++) {
            char *path = sv->eps[e].path;
            size_t n = strlen(sv->name);
            path[0] = '/';
            memcpy(path + 1, sv->name, n);
            snprintf(path + 1 + n, sizeof sv->eps[e].path - 1 - n, "/op%u", e);
        }
        sv->first_region = n_regions;
        for (unsigned g = 0; g < n_regions; g++) {
            bool here = lvl == 0 || rng_unit(&r) < 0.75;
            if (here) {
                sv->pods[g] = rng_geom(&r, 1, 0.6, MESH_MAX_PODS);
                if (sv->first_region == n_regions)
                    sv->first_region = g;
            }
        }
        if (sv->first_region == n_regions) {
            uint32_t g = rng_below(&r, n_regions);
            sv->pods[g] = 1;
            sv->first_region = g;
        }
    }
    /* calls: to endpoints one level down; none from the last level or when it is empty */
    for (unsigned s = 0; s < n_services; s++) {
        mesh_service_t *sv = &m->svcs[s];
        unsigned lvl = sv->level;
        unsigned lo = lvl + 1 < MESH_LEVELS ? first_of[lvl + 1] : n_services;
        unsigned hi = lvl + 1 < MESH_LEVELS ? first_of[lvl + 2] : n_services;
        for (unsigned e = 0; e < sv->n_eps; e++) {
            mesh_endpoint_t *ep = &sv->eps[e];
            unsigned fan = hi > lo ? rng_geom(&r, lvl == 0 ? 1 : 0, 0.45, MESH_MAX_FANOUT) : 0;
            for (unsigned c = 0; c < fan; c++) {
                uint32_t cs = lo + rng_below(&r, hi - lo);
                uint32_t ce = rng_below(&r, m->svcs[cs].n_eps);
                bool dup = false;
                for (unsigned k = 0; k < ep->n_calls; k++)
                    dup |= ep->calls[k].svc == cs && ep->calls[k].ep == ce;
                if (!dup)
                    ep->calls[ep->n_calls++] = (mesh_call_t){cs, ce};
            }
            if (lvl == 0)
                for (unsigned g = 0; g < n_regions; g++)
                    ep->entry_rps[g] = round(5 * exp(rng_unit(&r) * log(40.0)));
        }
    }
    mesh_propagate(m);
    /* region 0 first (its load changes in the benchmark), then the others while
     * the regions file has room */
    unsigned n_caps = 0;
    for (unsigned pass = 0; pass < 2; pass++)
        for (unsigned s = 0; s < n_services; s++) {
            mesh_service_t *sv = &m->svcs[s];
            unsigned n_deployed = 0;
            for (unsigned g = 0; g < n_regions; g++)
                n_deployed += sv->pods[g] > 0;
            if (sv->level == 0)
                continue;
            for (unsigned g = pass; g < (pass ? n_regions : 1); g++) {
                double load = 0;
                for (unsigned e = 0; e < sv->n_eps; e++)
                    load += sv->eps[e].load[g];
                if (sv->pods[g] && n_deployed > 1 && n_caps < MESH_MAX_CAPACITIES) {
                    sv->capacity[g] = ceil(2.5 * (load > 10 ? load : 10));
                    n_caps++;
                }
            }
        }
    return 0;
}

void mesh_free(mesh_t *m)
{
    free(m->svcs);
    m->svcs = NULL;
}

int mesh_write_regions(const mesh_t *m, FILE *f)
{
    fprintf(f, "# synthetic mesh: %u services, %u regions, seed %llu\n", m->n_services,
            m->n_regions, (unsigned long long)m->seed);
    for (unsigned a = 0; a < m->n_regions; a++)
        fprintf(f, "region %s\n", m->region[a]);
    for (unsigned a = 0; a < m->n_regions; a++)
        for (unsigned b = a + 1; b < m->n_regions; b++)
            fprintf(f, "link %s %s %.1f %g\n", m->region[a], m->region[b], m->rtt_ms[a][b],
                    m->price[a][b]);
    for (unsigned s = 0; s < m->n_services; s++)
        for (unsigned g = 0; g < m->n_regions; g++)
            if (m->svcs[s].capacity[g] > 0)
                fprintf(f, "capacity %s %s %.0f\n", m->svcs[s].name, m->region[g],
                        m->svcs[s].capacity[g]);
    return ferror(f) ? -1 : 0;
}

void mesh_counts(const mesh_t *m, size_t *endpoints, size_t *calls, size_t *pods)
{
    size_t ne = 0, nc = 0, np = 0;
    for (unsigned s = 0; s < m->n_services; s++) {
        ne += m->svcs[s].n_eps;
        for (unsigned e = 0; e < m->svcs[s].n_eps; e++)
            nc += m->svcs[s].eps[e].n_calls;
        for (unsigned g = 0; g < m->n_regions; g++)
            np += m->svcs[s].pods[g];
    }
    *endpoints = ne;
    *calls = nc;
    *pods = np;
}
