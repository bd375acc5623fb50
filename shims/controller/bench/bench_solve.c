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
#include <time.h>

#include "ctl_config.h"
#include "ctl_metrics.h"
#include "ctl_problem.h"
#include "ctl_publish.h"
#include "ctl_regions.h"
#include "ctl_solver.h"
#include "ctl_state.h"
#include "mesh_gen.h"
#include "mesh_input.h"

typedef struct opts {
    unsigned services, regions;
    unsigned long long seed;
    bool curved, full;
    unsigned segments;
} opts_t;

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
    daemon_t *d = mesh_zalloc(sizeof *d);
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

/* CPU time of this thread, ms: on a shared machine a round's wall time
 * also counts the time other processes held the core. */
static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void print_round(const char *what, const ctl_solve_stats_t *s, double cpu_ms)
{
    printf("  %-14s problem %8.1f  lp-build %8.1f  clp %9.1f  post %8.1f  round %9.1f ms "
           "(cpu %9.1f ms)  rows %6u cols %7u of %7u nnz %7u iterations %6u pricing %2u%s  "
           "objective %.6f  %s\n",
           what, s->problem_ms, s->build_ms, s->solve_ms, s->post_ms, s->round_ms, cpu_ms, s->rows,
           s->columns, s->full_columns, s->nonzeros, s->iterations, s->pricing_rounds,
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
    double cpu[2][2] = {{0}};
    memset(st, 0, sizeof st);
    const char *names[2] = {"full LP", "reduced"};
    for (int method = o->full ? 0 : 1; method < 2; method++) {
        daemon_t *d = daemon_new(o, method == 0);
        for (int round = 0; round < 2; round++) {
            ctl_solve_input_t *in = mesh_solve_input(&m, o->curved, round == 0 ? 1.0 : 1.1);
            double c0 = thread_cpu_ms();
            ctl_solver_round_on(d->solver, in,
                                1700000000000000000ull + (uint64_t)round * 2000000000ull);
            cpu[method][round] = thread_cpu_ms() - c0;
            ctl_solver_stats(d->solver, &st[method][round]);
            char what[32];
            snprintf(what, sizeof what, "%s %s", names[method], round ? "next" : "first");
            print_round(what, &st[method][round], cpu[method][round]);
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
