/*
 * The snapshot (ctl_solve_input_t) the global controller would learn from a
 * synthetic mesh (mesh_gen.h), built directly: regions, RTT and prices,
 * placement, the regions file's capacities (INFINITY where the mesh gives
 * none), per-endpoint loads and latency models, and the call graph (one
 * call per parent request, 512 bytes). For in-process benchmarks and tests
 * of the solve round, which skip report intake.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SLATE_BENCH_MESH_INPUT_H
#define SLATE_BENCH_MESH_INPUT_H

#include <stdbool.h>

#include "ctl_state.h"
#include "mesh_gen.h"

/*
 * Models: flat (`curved` false) is what bench_scale's pods teach the
 * controller, a constant latency per (endpoint, region) of 2 ms + 3 ms per
 * call the endpoint makes; curved adds b x + c x^2 that doubles it at the
 * capacity (4 x (load + 10) rps where there is none), so every PWL segment
 * differs. Entry and every endpoint load are scaled by `load_scale`.
 * Returns a snapshot to free with ctl_solve_input_free; exits on no memory.
 */
ctl_solve_input_t *mesh_solve_input(const mesh_t *m, bool curved, double load_scale);

/* calloc that exits the benchmark (status 2) when memory runs out. */
void *mesh_zalloc(size_t n);

#endif
