/*
 * Stability rules: bounded steps, a gain threshold and a rollback guard.
 * Pure functions of their inputs (time is passed in).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "slate_opt.h"

slate_status slate_opt_step(const double *current, const double *target, size_t n, double max_shift,
                            double *out, double *shift_out)
{
    if (!current || !target || !out || n == 0)
        return SLATE_EINVAL;
    if (!(max_shift >= 0.0 && max_shift <= 1.0))
        return SLATE_ERANGE;
    double tv = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(current[i]) || !isfinite(target[i]) || current[i] < 0.0 || target[i] < 0.0)
            return SLATE_ERANGE;
        double d = target[i] - current[i];
        if (d > 0.0)
            tv += d;
    }
    double neg = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = target[i] - current[i];
        if (d < 0.0)
            neg -= d;
    }
    /* Rows that do not sum alike are compared by the larger side. */
    if (neg > tv)
        tv = neg;
    double scale = tv > max_shift ? max_shift / tv : 1.0;
    for (size_t i = 0; i < n; i++) {
        double v = scale == 1.0 ? target[i] : current[i] + scale * (target[i] - current[i]);
        out[i] = v < 0.0 ? 0.0 : v;
    }
    if (shift_out)
        *shift_out = tv * scale;
    return SLATE_OK;
}

int slate_opt_worth_applying(double current_objective, double new_objective, double min_abs,
                             double min_rel)
{
    if (isnan(current_objective) || isnan(new_objective) || isnan(min_abs) || isnan(min_rel))
        return 0;
    double gain = current_objective - new_objective;
    return gain > 0.0 && gain >= min_abs && gain >= min_rel * fabs(current_objective);
}

int slate_opt_repairs_capacity(double current_overload, double new_overload, double slack)
{
    if (isnan(current_overload) || isnan(new_overload) || isnan(slack))
        return 0;
    return current_overload > slack && new_overload < current_overload - slack;
}

slate_status slate_opt_guard_init(slate_opt_guard_t *g, double tolerance, uint64_t settle_ns,
                                  uint32_t needed)
{
    if (!g)
        return SLATE_EINVAL;
    if (!isfinite(tolerance) || tolerance < 0.0 || needed == 0)
        return SLATE_ERANGE;
    memset(g, 0, sizeof *g);
    g->tolerance = tolerance;
    g->settle_ns = settle_ns;
    g->needed = needed;
    return SLATE_OK;
}

slate_status slate_opt_guard_applied(slate_opt_guard_t *g, double before_ms, uint64_t now_ns)
{
    if (!g)
        return SLATE_EINVAL;
    if (!isfinite(before_ms) || before_ms < 0.0)
        return SLATE_ERANGE;
    g->before_ms = before_ms;
    g->applied_ns = now_ns;
    g->sum_ms = 0.0;
    g->n = 0;
    g->active = 1;
    return SLATE_OK;
}

slate_opt_verdict slate_opt_guard_observe(slate_opt_guard_t *g, double measured_ms, uint64_t now_ns)
{
    if (!g || !g->active)
        return SLATE_OPT_IDLE;
    if (!isfinite(measured_ms) || measured_ms < 0.0)
        return SLATE_OPT_WAIT;
    if (now_ns < g->applied_ns || now_ns - g->applied_ns < g->settle_ns)
        return SLATE_OPT_WAIT;
    g->sum_ms += measured_ms;
    g->n++;
    if (g->n < g->needed)
        return SLATE_OPT_WAIT;
    double mean = g->sum_ms / g->n;
    g->active = 0;
    return mean > g->before_ms * (1.0 + g->tolerance) ? SLATE_OPT_ROLLBACK : SLATE_OPT_KEEP;
}
