/*
 * slate-controller: the routing problem built from a window's snapshot, and
 * the routing rows the solver moves between rounds.
 *
 * Pure functions of their inputs (no locks, no clock, no I/O): the solver
 * round calls them, and so do the unit tests that feed decoded reports
 * straight into the learning state and solve what it learnt
 * (tests/test_solve.c).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_PROBLEM_H
#define CTL_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_config.h"
#include "ctl_rules.h"
#include "ctl_state.h"
#include "slate_opt.h"

/* One routing row: how calls from region `src` to endpoint `ep` (state indices) split. */
typedef struct ctl_row {
    uint32_t ep;
    uint32_t src;
    double w[CTL_MAX_REGION_SLOTS];
} ctl_row_t;

/* A growable set of rows (zero-initialise; free with ctl_rows_free). A hash
 * index over (ep, src) makes lookups O(1); it is rebuilt whenever `n` moved
 * behind its back (emptied by `n = 0`, or a copy), so callers may still
 * truncate `n`. */
typedef struct ctl_rows {
    ctl_row_t *v;
    size_t n, cap;
    uint32_t *slot; /* open addressing: row index + 1, 0 = empty */
    size_t slots;   /* a power of two, or 0 */
    size_t indexed; /* rows the index holds */
} ctl_rows_t;

/* The row for (ep, src), or NULL. O(1) expected. */
ctl_row_t *ctl_rows_find(ctl_rows_t *t, uint32_t ep, uint32_t src);
/* The row for (ep, src), added with zero weights when absent; NULL when out of memory. */
ctl_row_t *ctl_rows_put(ctl_rows_t *t, uint32_t ep, uint32_t src);
/* Frees the rows and the index; t is empty afterwards. */
void ctl_rows_free(ctl_rows_t *t);
/* dst := src; 0, or -1 when out of memory (dst unchanged). */
int ctl_rows_copy(ctl_rows_t *dst, const ctl_rows_t *src);

/* The optimiser's problem and the maps between its indices and the state's. */
typedef struct ctl_problem {
    slate_opt_problem_t *p;
    uint32_t R;
    uint32_t *ep_opt;  /* state endpoint -> opt endpoint (UINT32_MAX: not in the problem) */
    uint32_t *ep_back; /* opt endpoint -> state endpoint */
    uint32_t n_opt_eps;
    uint32_t *svc_opt; /* state service -> opt service */
    bool *edge_used;   /* per snapshot edge: in the problem */
    /* per state endpoint: the source regions whose calls to it need a row
     * (a caller over a used edge is deployed there), one bit per region */
    uint32_t *want_src;
    /* per state endpoint: the used edges into it (CSR over snapshot edges) */
    uint32_t *into_start, *into_edge;
    uint32_t classes;
} ctl_problem_t;

/*
 * Builds the problem from a snapshot: regions, placement, capacities,
 * latency models, traffic classes rooted at the entry endpoints, the call
 * graph (cycles dropped), network RTT and egress prices, with the settings'
 * segments and egress weight. SLATE_EEMPTY when there is no traffic class
 * to route; SLATE_ENOMEM; an optimiser status. *b is always safe to free.
 */
slate_status ctl_problem_build(const ctl_config_t *cfg, const ctl_solve_input_t *in,
                               ctl_problem_t *b);
void ctl_problem_free(ctl_problem_t *b);

/* Whether calls from `src` to state endpoint `child` need a routing row. */
bool ctl_problem_row_wanted(const ctl_problem_t *b, const ctl_solve_input_t *in, uint32_t child,
                            uint32_t src);
/* The optimiser's weight vector for `t` (rows the problem lacks are local); malloc'd, or NULL. */
double *ctl_problem_weights(const ctl_problem_t *b, const ctl_rows_t *t);
/* Rules for the rows of `t` (weights out of 1,000), marked with `origin`; NULL when out of memory.
 */
ctl_rules_t *ctl_problem_rules(const ctl_problem_t *b, const ctl_solve_input_t *in,
                               const ctl_rows_t *t, const char *origin);
/* Rows from rules (restored at start), by the snapshot's names; unknown names are skipped. */
void ctl_rows_from_rules(ctl_rows_t *t, const ctl_rules_t *rs, const ctl_solve_input_t *in);
/* A copy of `src` with a new origin; NULL when out of memory. */
ctl_rules_t *ctl_rules_clone(const ctl_rules_t *src, const char *origin);

#endif
