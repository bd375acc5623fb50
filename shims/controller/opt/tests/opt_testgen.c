/*
 * Problem generators shared by the optimiser tests and benchmark.
 * SPDX-License-Identifier: Apache-2.0
 *
 * testgen_slate() follows the topology generator of SLATE's scalability test:
 * a call tree of the given depth in which every node at a level calls
 * `fanout` children but only the first child calls further, so a tree has
 * 1 + (depth - 1) * fanout services; each request type is a copy of the tree
 * over the same services with its own endpoints; every service runs in every
 * cluster; the first cluster receives 1000-2000 rps per request type and the
 * others 100-1000; inter-cluster RTTs are drawn from 5-50 ms; latency is
 * intercept 0 and slope 1 (degree 1), as in SLATE's generated coefficients;
 * capacity per (service, cluster) is the cluster's own load times the number
 * of clusters, as SLATE's controller sets it.
 */
#include <math.h>
#include <stdlib.h>

#include "opt_testgen.h"

uint64_t testgen_next(testgen_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double testgen_uniform(testgen_rng_t *r, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(testgen_next(r) >> 11) * 0x1.0p-53);
}

static unsigned rand_int(testgen_rng_t *r, unsigned lo, unsigned hi)
{
    return lo + (unsigned)(testgen_next(r) % (uint64_t)(hi - lo + 1));
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != SLATE_OK)                                                                       \
            goto fail;                                                                             \
    } while (0)

slate_opt_problem_t *testgen_slate(const testgen_slate_shape_t *sh, uint64_t seed)
{
    testgen_rng_t rng = {seed};
    unsigned C = sh->clusters, T = sh->request_types, D = sh->depth, F = sh->fanout;
    unsigned nsvc = 1 + (D - 1) * F;
    slate_opt_problem_t *p = NULL;
    unsigned *ep = NULL;
    CHECK(slate_opt_problem_create(&p, C));
    ep = malloc((size_t)nsvc * T * sizeof *ep);
    if (!ep)
        goto fail;
    for (unsigned a = 0; a < C; a++)
        for (unsigned b = 0; b < C; b++)
            CHECK(slate_opt_set_network(p, a, b, a == b ? 0.0 : (double)rand_int(&rng, 5, 50),
                                        a == b ? 0.0 : 1e-9));
    for (unsigned s = 0; s < nsvc; s++)
        CHECK(slate_opt_add_service(p, NULL));
    for (unsigned t = 0; t < T; t++)
        for (unsigned s = 0; s < nsvc; s++)
            CHECK(slate_opt_add_endpoint(p, s, &ep[t * nsvc + s]));
    slate_opt_fit_t fit;
    CHECK(slate_opt_fit_fixed(&fit, 0.0, 1.0, sh->degree >= 2 ? 1e-3 : 0.0));
    for (unsigned i = 0; i < nsvc * T; i++)
        for (unsigned c = 0; c < C; c++)
            CHECK(slate_opt_set_model(p, ep[i], c, &fit));
    /* Load per (request type, cluster): the root's ingress; every endpoint of
     * the tree sees the same rate (one call per parent request). */
    double *load = calloc((size_t)C, sizeof *load);
    if (!load)
        goto fail;
    for (unsigned t = 0; t < T; t++) {
        unsigned cls;
        if (slate_opt_add_class(p, ep[t * nsvc], &cls) != SLATE_OK) {
            free(load);
            goto fail;
        }
        for (unsigned c = 0; c < C; c++) {
            double rps =
                c == 0 ? (double)rand_int(&rng, 1000, 2000) : (double)rand_int(&rng, 100, 1000);
            load[c] += rps;
            if (slate_opt_set_ingress(p, cls, c, rps) != SLATE_OK) {
                free(load);
                goto fail;
            }
        }
        /* Services are numbered level by level: 0 is the root; level l (1..D-1)
         * holds services 1 + (l-1)F .. lF; the first of each level calls on. */
        unsigned parent = 0;
        for (unsigned l = 1; l < D; l++) {
            unsigned first = 1 + (l - 1) * F;
            for (unsigned k = 0; k < F; k++)
                if (slate_opt_add_call(p, cls, ep[t * nsvc + parent], ep[t * nsvc + first + k], 1.0,
                                       50.0, NULL) != SLATE_OK) {
                    free(load);
                    goto fail;
                }
            parent = first;
        }
    }
    for (unsigned s = 0; s < nsvc; s++)
        for (unsigned c = 0; c < C; c++)
            if (slate_opt_set_placement(p, s, c, 1, load[c] * C) != SLATE_OK) {
                free(load);
                goto fail;
            }
    free(load);
    free(ep);
    return p;
fail:
    free(ep);
    slate_opt_problem_free(p);
    return NULL;
}

slate_opt_problem_t *testgen_random(uint64_t seed, unsigned max_regions, unsigned max_services)
{
    testgen_rng_t rng = {seed};
    unsigned R = rand_int(&rng, 2, max_regions);
    unsigned S = rand_int(&rng, 2, max_services);
    slate_opt_problem_t *p = NULL;
    CHECK(slate_opt_problem_create(&p, R));
    slate_opt_config_t cfg;
    slate_opt_config_default(&cfg);
    cfg.segments = rand_int(&rng, 1, 10);
    static const double weights[] = {0.0, 1.0, 1e3, 1e6};
    cfg.egress_weight = weights[rand_int(&rng, 0, 3)];
    CHECK(slate_opt_configure(p, &cfg));
    /* Regions on a plane; RTT grows with distance. */
    double xy[SLATE_OPT_MAX_REGIONS][2];
    for (unsigned r = 0; r < R; r++) {
        xy[r][0] = testgen_uniform(&rng, 0, 100);
        xy[r][1] = testgen_uniform(&rng, 0, 100);
    }
    for (unsigned a = 0; a < R; a++)
        for (unsigned b = 0; b < R; b++) {
            double dx = xy[a][0] - xy[b][0], dy = xy[a][1] - xy[b][1];
            double rtt = a == b ? 0.2 : 1.0 + sqrt(dx * dx + dy * dy) * 0.5;
            double price = a == b ? 0.0 : testgen_uniform(&rng, 1e-9, 2e-8);
            CHECK(slate_opt_set_network(p, a, b, rtt, price));
        }
    /* Services 1-2 endpoints each; endpoint ids grow with service index, so
     * edges from lower to higher ids keep the graph acyclic. */
    unsigned n_ep = 0;
    unsigned ep_of[64];
    for (unsigned s = 0; s < S; s++) {
        CHECK(slate_opt_add_service(p, NULL));
        unsigned ne = rand_int(&rng, 1, 2);
        for (unsigned k = 0; k < ne && n_ep < 64; k++)
            CHECK(slate_opt_add_endpoint(p, s, &ep_of[n_ep++]));
    }
    /* Placement: the root service everywhere with no capacity limit; others in
     * a random non-empty set of regions, one of them unlimited so every
     * instance is feasible, the rest with a random capacity. */
    for (unsigned r = 0; r < R; r++)
        CHECK(slate_opt_set_placement(p, 0, r, 1, INFINITY));
    for (unsigned s = 1; s < S; s++) {
        unsigned anchor = rand_int(&rng, 0, R - 1);
        for (unsigned r = 0; r < R; r++) {
            int dep = r == anchor || testgen_uniform(&rng, 0, 1) < 0.6;
            double cap = r == anchor ? INFINITY : testgen_uniform(&rng, 20, 800);
            CHECK(slate_opt_set_placement(p, s, r, dep, cap));
        }
    }
    for (unsigned e = 0; e < n_ep; e++)
        for (unsigned r = 0; r < R; r++) {
            slate_opt_fit_t fit;
            double c = testgen_uniform(&rng, 0, 1) < 0.5 ? testgen_uniform(&rng, 0, 2e-4) : 0.0;
            CHECK(slate_opt_fit_fixed(&fit, testgen_uniform(&rng, 0.5, 5.0),
                                      testgen_uniform(&rng, 0, 0.05), c));
            CHECK(slate_opt_set_model(p, ep_of[e], r, &fit));
        }
    /* Classes rooted at the root service's first endpoint; random DAG edges. */
    unsigned ncls = rand_int(&rng, 1, 3);
    for (unsigned c = 0; c < ncls; c++) {
        unsigned cls;
        CHECK(slate_opt_add_class(p, ep_of[0], &cls));
        for (unsigned r = 0; r < R; r++)
            CHECK(slate_opt_set_ingress(
                p, cls, r, testgen_uniform(&rng, 0, 1) < 0.8 ? testgen_uniform(&rng, 5, 300) : 0));
        /* Endpoints of the root service other than the root are left out. */
        unsigned first_child = 1;
        while (first_child < n_ep && slate_opt_endpoint_service(p, ep_of[first_child]) == 0)
            first_child++;
        unsigned added = 0;
        for (unsigned j = first_child; j < n_ep; j++) {
            /* Each child gets one parent among the root and earlier children,
             * sometimes a second. */
            unsigned np = testgen_uniform(&rng, 0, 1) < 0.25 ? 2 : 1;
            for (unsigned k = 0; k < np; k++) {
                unsigned cand = rand_int(&rng, 0, j - first_child);
                unsigned par = cand == 0 ? 0 : first_child + cand - 1;
                if (par >= j)
                    continue;
                if (testgen_uniform(&rng, 0, 1) < 0.2 && added > 0)
                    continue;
                slate_status st = slate_opt_add_call(p, cls, ep_of[par], ep_of[j],
                                                     testgen_uniform(&rng, 0.3, 2.5),
                                                     testgen_uniform(&rng, 100, 20000), NULL);
                if (st == SLATE_OK)
                    added++;
                else if (st != SLATE_EDUPLICATE)
                    goto fail;
            }
        }
    }
    return p;
fail:
    slate_opt_problem_free(p);
    return NULL;
}
