/*
 * slate-controller: the solve loop of the global role (ctl_solver.c).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_SOLVER_H
#define CTL_SOLVER_H

#include <stdint.h>

#include "ctl_config.h"

struct ctl_app;

/* What the solver keeps between rounds: the routing in force and before
 * the last change, the rollback guard and its cooldown. One per daemon,
 * used by one thread at a time (the solve thread, or a test). */
typedef struct ctl_solver ctl_solver_t;

/* NULL when out of memory or the rollback settings are invalid. */
ctl_solver_t *ctl_solver_create(const ctl_config_t *cfg);
void ctl_solver_free(ctl_solver_t *s);

/* Starts the solve thread of app (app->solver must be set): one round per period. */
int ctl_solver_start(struct ctl_app *app);
/* One round now: window close, build, solve, decide, publish (the thread and tests). */
void ctl_solver_round(struct ctl_app *app, uint64_t now_ns);

#endif
