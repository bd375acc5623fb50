/*
 * Problem generators shared by the optimiser tests and benchmark.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_OPT_TESTGEN_H
#define SLATE_OPT_TESTGEN_H

#include <stdint.h>

#include "slate_opt.h"

/** A small, seedable random generator (splitmix64). */
typedef struct testgen_rng {
    uint64_t s;
} testgen_rng_t;

uint64_t testgen_next(testgen_rng_t *r);
/** Uniform in [lo, hi). */
double testgen_uniform(testgen_rng_t *r, double lo, double hi);

/** SLATE's scalability topology: see opt_testgen.c. */
typedef struct testgen_slate_shape {
    unsigned clusters, request_types, depth, fanout, degree;
} testgen_slate_shape_t;

/** Build SLATE's scalability-test topology; NULL on error. */
slate_opt_problem_t *testgen_slate(const testgen_slate_shape_t *shape, uint64_t seed);

/** Random small or medium instance for cross-checks; NULL on error. */
slate_opt_problem_t *testgen_random(uint64_t seed, unsigned max_regions, unsigned max_services);

#endif
