/*
 * Solve-round benchmark, in process: a synthetic mesh (mesh_gen.h) turned
 * straight into the snapshot the global controller's learning state would
 * hand its solver (ctl_solve_input_t: regions, RTT and prices, placement,
 * the regions file's capacities, per-endpoint loads and latency models, the
 * call graph with one call per parent request), then whole solver rounds
 * (ctl_solver_round_on) on it, with no HTTP and no report intake, so a
 * 1,000 x 16 mesh takes seconds instead of bench_scale's minutes.
 *
 * Per size it prints the round's parts (problem build from the snapshot,
 * the optimiser's LP build, CLP, post-processing into rules, the whole
 * round) for the full LP solved cold (the method before) and for the
 * reduced LP (the method now), the ratio of the rounds, and the optimality
 * gap between the two objectives, both evaluated by the optimiser on the
 * same problem. A second round on the same mesh with the entry loads moved
 * (the next window) shows the warm start. It never asserts a time; it exits
 * 1 when the two optima differ by more than 1e-6 relative.
 *
 * Latency models: `flat` (the default) is what bench_scale's pods teach the
 * controller (constant latency per endpoint and region: 2 ms + 3 ms per
 * call made); `curved` gives every (endpoint, region) a queueing-like
 * quadratic so that every PWL segment is distinct.
 *
 * Usage: bench_solve [--services N --regions R] [--seed S] [--curve flat|curved]
 *                    [--segments K] [--no-full]
 * Without --services it runs 10x3, 30x4, 100x8, 300x16 and 1000x16.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"
#include "ctl_metrics.h"
#include "ctl_problem.h"
#include "ctl_publish.h"
#include "ctl_regions.h"
#include "ctl_solver.h"
#include "ctl_state.h"
#include "mesh_gen.h"

typedef struct opts {
    unsigned services, regions;
    unsigned long long seed;
    bool curved, full;
    unsigned segments;
} opts_t;

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

static void *zalloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* The snapshot the global controller would take of mesh m, entry loads
 * scaled by `load_scale` (the second window moves them). */
static ctl_solve_input_t *mesh_input(const mesh_t *m, const opts_t *o, double load_scale)
{
    ctl_solve_input_t *in = zalloc(sizeof *in);
    uint32_t R = m->n_regions, S = m->n_services;
    in->now_ns = 1700000000000000000ull;
    in->window_s = 2.0;
    in->n_regions = R;
    in->region_names = zalloc(R * sizeof(char *));
    for (uint32_t r = 0; r < R; r++)
        in->region_names[r] = dup_str(m->region[r]);
    for (uint32_t a = 0; a < R; a++)
        for (uint32_t b = 0; b < R; b++) {
            in->rtt_ms[a][b] = m->rtt_ms[a][b];
            in->price[a][b] = m->price[a][b];
        }
    in->n_services = S;
    in->service_names = zalloc(S * sizeof(char *));
    in->service_overflow = zalloc(S * sizeof(bool));
    in->deployed = zalloc(S * sizeof(*in->deployed));
    in->capacity = zalloc(S * sizeof(*in->capacity));
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
    uint32_t *first = zalloc(S * sizeof(uint32_t));
    for (uint32_t s = 0, k = 0; s < S; s++) {
        first[s] = k;
        k += m->svcs[s].n_eps;
    }
    in->endpoints = zalloc(n_eps * sizeof(ctl_si_endpoint_t));
    in->edges = zalloc((n_edges ? n_edges : 1) * sizeof(*in->edges));
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
                double b = o->curved ? 0.3 * flat_ms / cap : 0.0;
                double c = o->curved ? 0.7 * flat_ms / (cap * cap) : 0.0;
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

/* One daemon's solving side, in process. */
typedef struct daemon {
    ctl_config_t cfg;
    ctl_metrics_t metrics;
    ctl_regions_file_t rf;
    ctl_state_t *state;
    ctl_publisher_t pub;
    ctl_solver_t *solver;
} daemon_t;

static daemon_t *daemon_new(const opts_t *o, bool full)
{
    daemon_t *d = zalloc(sizeof *d);
    ctl_config_defaults(&d->cfg);
    if (o->segments)
        d->cfg.segments = o->segments;
    d->cfg.solve_full_lp = full;
    ctl_metrics_init(&d->metrics);
    ctl_publisher_init(&d->pub, &d->cfg, &d->metrics);
    d->state = ctl_state_create(&d->cfg, &d->metrics, &d->rf);
    d->solver = d->state ? ctl_solver_create(&d->cfg, d->state, &d->pub, &d->metrics) : NULL;
    if (!d->solver) {
        fprintf(stderr, "cannot create the solver\n");
        exit(2);
    }
    return d;
}

static void daemon_free(daemon_t *d)
{
    ctl_solver_free(d->solver);
    ctl_publisher_destroy(&d->pub);
    ctl_state_free(d->state);
    free(d);
}

static void print_round(const char *what, const ctl_solve_stats_t *s)
{
    printf("  %-14s problem %8.1f  lp-build %8.1f  clp %9.1f  post %8.1f  round %9.1f ms  "
           "rows %6u cols %7u of %7u nnz %7u pricing %2u%s  objective %.6f  %s\n",
           what, s->total_ms - s->build_ms - s->solve_ms, s->build_ms, s->solve_ms, s->post_ms,
           s->round_ms, s->rows, s->columns, s->full_columns, s->nonzeros, s->pricing_rounds,
           s->warm_start ? " warm" : "", s->objective_proposed, s->last_outcome);
}

static double rel_gap(double a, double b)
{
    double den = fabs(a) > 1.0 ? fabs(a) : 1.0;
    return (b - a) / den;
}

static int run_size(const opts_t *o, unsigned n_services, unsigned n_regions)
{
    mesh_t m;
    if (mesh_generate(&m, n_services, n_regions, o->seed) != 0) {
        fprintf(stderr, "mesh_generate failed for %u x %u\n", n_services, n_regions);
        return 2;
    }
    size_t ne, nc, np;
    mesh_counts(&m, &ne, &nc, &np);
    printf("%u services x %u regions (seed %llu, %s curves, %zu endpoints, %zu calls)\n",
           n_services, n_regions, o->seed, o->curved ? "curved" : "flat", ne, nc);
    ctl_solve_stats_t st[2][2];
    memset(st, 0, sizeof st);
    const char *names[2] = {"full LP", "reduced"};
    for (int method = o->full ? 0 : 1; method < 2; method++) {
        daemon_t *d = daemon_new(o, method == 0);
        for (int round = 0; round < 2; round++) {
            ctl_solve_input_t *in = mesh_input(&m, o, round == 0 ? 1.0 : 1.1);
            ctl_solver_round_on(d->solver, in,
                                1700000000000000000ull + (uint64_t)round * 2000000000ull);
            ctl_solver_stats(d->solver, &st[method][round]);
            char what[32];
            snprintf(what, sizeof what, "%s %s", names[method], round ? "next" : "first");
            print_round(what, &st[method][round]);
            fflush(stdout);
        }
        daemon_free(d);
    }
    int rc = 0;
    if (o->full) {
        for (int round = 0; round < 2; round++) {
            double a = st[0][round].objective_proposed, b = st[1][round].objective_proposed;
            double g = rel_gap(a, b);
            printf("  round %d: full %.1f ms, reduced %.1f ms, ratio %.1fx; objective gap "
                   "(reduced - full) / full = %.2e\n",
                   round + 1, st[0][round].round_ms, st[1][round].round_ms,
                   st[1][round].round_ms > 0 ? st[0][round].round_ms / st[1][round].round_ms : 0,
                   g);
            if (!(fabs(g) <= 1e-6))
                rc = 1;
        }
    }
    mesh_free(&m);
    return rc;
}

int main(int argc, char **argv)
{
    opts_t o = {.seed = 1, .full = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--services") == 0 && v) {
            o.services = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--regions") == 0 && v) {
            o.regions = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--seed") == 0 && v) {
            o.seed = strtoull(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--segments") == 0 && v) {
            o.segments = (unsigned)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--curve") == 0 && v) {
            o.curved = strcmp(v, "curved") == 0;
            i++;
        } else if (strcmp(a, "--no-full") == 0) {
            o.full = false;
        } else {
            fprintf(stderr, "usage: bench_solve [--services N --regions R] [--seed S] "
                            "[--curve flat|curved] [--segments K] [--no-full]\n");
            return 2;
        }
    }
    int rc = 0;
    if (o.services) {
        rc = run_size(&o, o.services, o.regions ? o.regions : 3);
    } else {
        static const unsigned sizes[][2] = {{10, 3}, {30, 4}, {100, 8}, {300, 16}, {1000, 16}};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            int r = run_size(&o, sizes[k][0], sizes[k][1]);
            if (r > rc)
                rc = r;
        }
    }
    return rc;
}
