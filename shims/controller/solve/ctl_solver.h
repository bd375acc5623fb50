/*
 * slate-controller: the solve loop of the global role (ctl_solver.c).
 *
 * The solver reads what the learning state learnt (ctl_state_tick), solves,
 * and publishes through the publisher; it knows nothing of HTTP or of the
 * daemon around it, so tests run whole rounds in process.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_SOLVER_H
#define CTL_SOLVER_H

#include <stdint.h>

#include "ctl_config.h"
#include "ctl_metrics.h"
#include "ctl_publish.h"
#include "ctl_state.h"
#include "slate/status.h"

/* What the last solve did, for /v1/state. */
typedef struct ctl_solve_stats {
    uint64_t rounds;
    uint64_t last_ns;
    char last_outcome[96]; /* "applied", "skipped: gain below threshold", "failed: ...", ... */
    char method[16];       /* "lp", "local", "waterfall" */
    slate_status last_status;
    double objective_current;  /* of the routing in force, evaluated on this round's problem */
    double objective_proposed; /* of the optimum */
    double objective_applied;  /* after the bounded step */
    double overload_current;   /* largest rps over a capacity of the routing in force */
    double mean_latency_ms;    /* modelled, of the optimum */
    double measured_latency_ms;
    double shift; /* largest fraction of traffic moved in one row */
    /* the optimiser's LP build and CLP time; total: from the round's start to
     * the end of the solve (snapshot, problem, LP); post: the optimum into
     * rows, the comparison with the routing in force and the rules; round:
     * the whole round (all of the last round that solved) */
    double build_ms, solve_ms, total_ms, post_ms, round_ms;
    double snapshot_ms, problem_ms; /* of total: closing the window; the problem from it */
    unsigned columns, rows, nonzeros, iterations;
    unsigned full_columns, pricing_rounds; /* the full LP's columns; rounds of column generation */
    int warm_start;                        /* the LP started from the last round's basis */
    unsigned classes, endpoints, edges, regions, services;
    int guard_active;
    int cooldown;
} ctl_solve_stats_t;

/* What the solver keeps between rounds: the routing in force and before
 * the last change, the rollback guard and its cooldown, the last round's
 * statistics. Rounds run on one thread at a time (its own, or a test's). */
typedef struct ctl_solver ctl_solver_t;

/* A solver over the state, publishing through pub (all outlive it); NULL
 * when out of memory or the rollback settings are invalid. */
ctl_solver_t *ctl_solver_create(const ctl_config_t *cfg, ctl_state_t *state, ctl_publisher_t *pub,
                                ctl_metrics_t *m);
/* Stops its thread (if started) and frees it. */
void ctl_solver_free(ctl_solver_t *s);

/* Starts the solve thread: one round per solve period. 0 or -1. */
int ctl_solver_start(ctl_solver_t *s);
/* Stops the thread and waits for it (a round in progress finishes). */
void ctl_solver_stop(ctl_solver_t *s);
/* One round now: window close, build, solve, decide, publish. */
void ctl_solver_round(ctl_solver_t *s, uint64_t now_ns);
/* One round on a snapshot the caller took (or built; the round frees it)
 * instead of closing the state's window: benchmarks and tests drive the
 * rounds of a mesh they generate. */
void ctl_solver_round_on(ctl_solver_t *s, ctl_solve_input_t *in, uint64_t now_ns);
/* A copy of the last round's statistics. */
void ctl_solver_stats(ctl_solver_t *s, ctl_solve_stats_t *out);

#endif
