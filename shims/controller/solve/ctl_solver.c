/*
 * slate-controller: the solve loop of the global role.
 *
 * Once per solve period a round runs these steps (one function each):
 *   1. snapshot  close the state's window and take what it learnt;
 *   2. adopt     restored rules become the routing in force (first round);
 *   3. guard     while a change is being watched (the rollback guard),
 *                nothing new is applied; when the guard's verdict is
 *                "worse", the previous rules are restored and new changes
 *                wait a few rounds (cooldown);
 *   4. build     the routing problem (ctl_problem.h);
 *   5. solve     the LP, or a baseline, and local-only for comparison;
 *   6. compare   the routing in force against the proposal on the same
 *                problem; a routing in force that breaks a capacity is
 *                infeasible, so the move toward feasibility is never held
 *                back (capacity repair);
 *   7. decide    skip when the predicted gain is below the thresholds;
 *   8. apply     move every row toward the optimum by at most max-shift of
 *                its traffic, and publish.
 * Rules are re-published (same routing, new version) when half their time to
 * live has passed, so proxies never see them expire while the controller
 * is alive.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_solver.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_clock.h"
#include "ctl_log.h"
#include "ctl_problem.h"

#define COOLDOWN_ROUNDS 3
/* Overload (rps over a capacity) below which a routing counts as feasible:
 * the LP meets its rows only up to its tolerances. */
#define CAPACITY_SLACK_RPS 0.01

struct ctl_solver {
    const ctl_config_t *cfg;
    ctl_state_t *state;
    ctl_publisher_t *pub;
    ctl_metrics_t *m;

    pthread_mutex_t mu; /* guards stats */
    ctl_solve_stats_t stats;

    /* the solve thread */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;
    bool stopping;
    pthread_t thread;
    bool started;

    /* between rounds (the solve thread's, or a test's) */
    ctl_rows_t cur;  /* routing in force */
    ctl_rows_t prev; /* routing before the last applied change */
    /* the last LP optimum: its basis starts the next solve when the LP has
     * the same shape (slate_opt_solve_warm) */
    slate_opt_result_t *last_lp;
    slate_opt_guard_t guard;
    int cooldown;
    bool rows_from_rules; /* cur was rebuilt from restored rules */
    uint64_t layout_gen;  /* the state's, when cur and prev were built */
};

ctl_solver_t *ctl_solver_create(const ctl_config_t *cfg, ctl_state_t *state, ctl_publisher_t *pub,
                                ctl_metrics_t *m)
{
    ctl_solver_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = cfg;
    s->state = state;
    s->pub = pub;
    s->m = m;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wake_mu, NULL);
    pthread_cond_init(&s->wake_cv, NULL);
    if (slate_opt_guard_init(&s->guard, cfg->rollback_tolerance, cfg->settle_ms * 1000000ull,
                             cfg->rollback_samples) != SLATE_OK) {
        free(s);
        return NULL;
    }
    return s;
}

void ctl_solver_free(ctl_solver_t *s)
{
    if (!s)
        return;
    ctl_solver_stop(s);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->wake_mu);
    pthread_cond_destroy(&s->wake_cv);
    ctl_rows_free(&s->cur);
    ctl_rows_free(&s->prev);
    slate_opt_result_free(s->last_lp);
    free(s);
}

/* What one round carries from step to step. */
typedef struct round {
    ctl_solver_t *S;
    uint64_t now_ns, t0;
    double snapshot_ms, problem_ms;
    ctl_solve_input_t *in;
    double measured;
    ctl_problem_t b;
    slate_opt_result_t *target, *local;
    double solve_ms;
    ctl_rows_t current, proposal; /* per wanted row: in force (or local-only), optimum */
    double obj_cur, obj_new, over_cur, over_new;
    bool baseline, repair, have_rules;
} round_t;

static void set_outcome(ctl_solver_t *S, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_outcome(ctl_solver_t *S, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&S->mu);
    va_start(ap, fmt);
    vsnprintf(S->stats.last_outcome, sizeof(S->stats.last_outcome), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&S->mu);
}

static const char *method_name(ctl_routing r)
{
    return r == CTL_ROUTING_LOCAL ? "local" : r == CTL_ROUTING_WATERFALL ? "waterfall" : "lp";
}

/* Re-publishes the rules in force (same routing, new version) when half
 * their time to live has passed, so proxies never see them expire while the
 * controller is alive. */
static void refresh_if_due(ctl_solver_t *S)
{
    if (!ctl_publisher_refresh_due(S->pub))
        return;
    ctl_rules_t *cur = ctl_publisher_rules(S->pub);
    ctl_rules_t *copy = cur ? ctl_rules_clone(cur, "refresh") : NULL;
    ctl_rules_unref(cur);
    if (copy)
        ctl_publish(S->pub, copy, 0);
}

/* 1. Close the window (unless the caller gave the snapshot); false when
 * the snapshot could not be taken. */
static bool step_snapshot(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    if (!rd->in)
        rd->in = ctl_state_tick(S->state, rd->now_ns);
    rd->snapshot_ms = (double)(ctl_mono_ns() - rd->t0) / 1e6;
    if (!rd->in) {
        atomic_fetch_add(&S->m->solves_failed, 1);
        set_outcome(S, "failed: out of memory taking the snapshot");
        return false;
    }
    rd->measured = rd->in->measured_latency_ms;
    ctl_metrics_set_f64(&S->m->measured_latency_bits, rd->measured);
    pthread_mutex_lock(&S->mu);
    S->stats.rounds++;
    S->stats.last_ns = rd->now_ns;
    S->stats.measured_latency_ms = rd->measured;
    snprintf(S->stats.method, sizeof(S->stats.method), "%s", method_name(S->cfg->routing));
    pthread_mutex_unlock(&S->mu);
    return true;
}

/* Rows from a rule set (by names) into t; t emptied first. */
static void rows_from(ctl_rows_t *t, ctl_rules_t *r, const ctl_solve_input_t *in)
{
    t->n = 0;
    if (r)
        ctl_rows_from_rules(t, r, in);
}

/* 2. Restored rules become the routing in force, once the names are known;
 * after the state retired entries (new indices), the rows are rebuilt from
 * the rules in force and before, by names. */
static void step_adopt(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    if (rd->in->layout_gen != S->layout_gen) {
        S->layout_gen = rd->in->layout_gen;
        ctl_rules_t *cur = NULL, *prev = NULL;
        ctl_publisher_pair(S->pub, &cur, &prev);
        rows_from(&S->cur, cur, rd->in);
        rows_from(&S->prev, prev, rd->in);
        ctl_rules_unref(cur);
        ctl_rules_unref(prev);
        return;
    }
    if (S->cur.n != 0 || S->rows_from_rules)
        return;
    ctl_rules_t *cur = ctl_publisher_rules(S->pub);
    if (cur && strcmp(cur->origin, "restored") == 0 && cur->n_rules > 0) {
        ctl_rows_from_rules(&S->cur, cur, rd->in);
        S->rows_from_rules = S->cur.n > 0;
    }
    ctl_rules_unref(cur);
}

/* 3. The rollback guard watches the last applied change; true when it rolled back. */
static bool step_guard(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    if (!isfinite(rd->measured) ||
        slate_opt_guard_observe(&S->guard, rd->measured, rd->now_ns) != SLATE_OPT_ROLLBACK)
        return false;
    ctl_rules_t *cur = NULL, *prev = NULL;
    ctl_publisher_pair(S->pub, &cur, &prev);
    ctl_rules_unref(cur);
    ctl_rules_t *back =
        prev ? ctl_rules_clone(prev, "rollback") : ctl_rules_new(0, 0, 0, "rollback");
    ctl_rules_unref(prev);
    /* Counted and logged before the rules change, so whoever sees the
     * rolled-back rules also sees the count. */
    S->cooldown = COOLDOWN_ROUNDS;
    atomic_fetch_add(&S->m->rollbacks, 1);
    ctl_log(CTL_LOG_WARN,
            "rollback: measured latency %.3f ms is worse than %.3f ms before the change",
            rd->measured, S->guard.before_ms);
    set_outcome(S, "rolled back: measured latency got worse");
    if (back) {
        ctl_rows_copy(&S->cur, &S->prev);
        ctl_publish(S->pub, back, (uint32_t)back->n_rules + 1);
    }
    return true;
}

/* 4. Build the problem; false when there is nothing to solve. */
static bool step_build(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    uint64_t t = ctl_mono_ns();
    slate_status st = ctl_problem_build(S->cfg, rd->in, &rd->b);
    rd->problem_ms = (double)(ctl_mono_ns() - t) / 1e6;
    const slate_opt_problem_t *p = rd->b.p;
    pthread_mutex_lock(&S->mu);
    S->stats.regions = rd->in->n_regions;
    S->stats.services = p ? slate_opt_n_services(p) : 0;
    S->stats.endpoints = p ? slate_opt_n_endpoints(p) : 0;
    S->stats.classes = p ? slate_opt_n_classes(p) : 0;
    S->stats.edges = p ? slate_opt_n_edges(p) : 0;
    S->stats.last_status = st;
    pthread_mutex_unlock(&S->mu);
    if (st == SLATE_EEMPTY) {
        atomic_fetch_add(&S->m->solves_skipped, 1);
        set_outcome(S, "skipped: no traffic class with calls to route yet");
        return false;
    }
    if (st != SLATE_OK) {
        atomic_fetch_add(&S->m->solves_failed, 1);
        set_outcome(S, "failed: building the problem: %s", slate_status_name(st));
        ctl_log(CTL_LOG_ERROR, "solve: building the problem failed: %s", slate_strerror(st));
        return false;
    }
    return true;
}

/* 5. Solve with the configured method, and local-only for comparison. */
static bool step_solve(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    slate_status st;
    switch (S->cfg->routing) {
    case CTL_ROUTING_LOCAL:
        st = slate_opt_local_only(rd->b.p, &rd->target);
        break;
    case CTL_ROUTING_WATERFALL:
        st = slate_opt_waterfall(rd->b.p, &rd->target);
        break;
    default:
        st = slate_opt_solve_warm(rd->b.p, S->last_lp, &rd->target);
        break;
    }
    rd->solve_ms = (double)(ctl_mono_ns() - rd->t0) / 1e6;
    ctl_metrics_observe_solve(S->m, rd->solve_ms);
    pthread_mutex_lock(&S->mu);
    S->stats.last_status = st;
    S->stats.total_ms = rd->solve_ms;
    S->stats.snapshot_ms = rd->snapshot_ms;
    S->stats.problem_ms = rd->problem_ms;
    if (rd->target) {
        const slate_opt_stats_t *ss = slate_opt_result_stats(rd->target);
        S->stats.objective_proposed = ss->objective;
        S->stats.mean_latency_ms = ss->mean_latency_ms;
        S->stats.build_ms = ss->build_ms;
        S->stats.solve_ms = ss->solve_ms;
        S->stats.columns = ss->columns;
        S->stats.rows = ss->rows;
        S->stats.nonzeros = ss->nonzeros;
        S->stats.iterations = ss->iterations;
        S->stats.full_columns = ss->full_columns;
        S->stats.pricing_rounds = ss->pricing_rounds;
        S->stats.warm_start = ss->warm_start;
    }
    pthread_mutex_unlock(&S->mu);
    if (st != SLATE_OK) {
        atomic_fetch_add(&S->m->solves_failed, 1);
        set_outcome(S, "failed: %s", slate_status_name(st));
        ctl_log(CTL_LOG_ERROR, "solve failed: %s", slate_strerror(st));
        return false;
    }
    atomic_fetch_add(&S->m->solves_ok, 1);
    if (slate_opt_local_only(rd->b.p, &rd->local) != SLATE_OK)
        rd->local = NULL;
    return true;
}

/* 6. The routing in force (local-only's choice where it has no row) against
 * the proposal, both evaluated on this round's problem. */
static void step_compare(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    const ctl_problem_t *b = &rd->b;
    uint32_t R = b->R;
    double tw[CTL_MAX_REGION_SLOTS], lw[CTL_MAX_REGION_SLOTS];
    for (uint32_t oe = 0; oe < b->n_opt_eps; oe++) {
        uint32_t ep = b->ep_back[oe];
        for (uint32_t src = 0; src < R; src++) {
            if (!ctl_problem_row_wanted(b, rd->in, ep, src))
                continue;
            if (slate_opt_result_weights(rd->target, src, oe, tw, NULL) != SLATE_OK)
                continue;
            ctl_row_t *pr = ctl_rows_put(&rd->proposal, ep, src);
            ctl_row_t *cr = ctl_rows_put(&rd->current, ep, src);
            if (!pr || !cr)
                continue;
            memcpy(pr->w, tw, R * sizeof(double));
            const ctl_row_t *in_force = ctl_rows_find(&rd->S->cur, ep, src);
            if (in_force)
                memcpy(cr->w, in_force->w, sizeof(cr->w));
            else if (rd->local &&
                     slate_opt_result_weights(rd->local, src, oe, lw, NULL) == SLATE_OK)
                memcpy(cr->w, lw, R * sizeof(double));
        }
    }
    const slate_opt_stats_t *ts = slate_opt_result_stats(rd->target);
    rd->obj_new = ts->objective;
    rd->over_new = ts->max_overload;
    rd->obj_cur = rd->over_cur = NAN;
    double *wc = ctl_problem_weights(b, &rd->current);
    slate_opt_result_t *ev = NULL;
    if (wc && slate_opt_evaluate(b->p, wc, &ev) == SLATE_OK) {
        rd->obj_cur = slate_opt_result_stats(ev)->objective;
        rd->over_cur = slate_opt_result_stats(ev)->max_overload;
    }
    slate_opt_result_free(ev);
    free(wc);
    ctl_metrics_set_f64(&S->m->objective_bits, rd->obj_cur);
    pthread_mutex_lock(&S->mu);
    S->stats.objective_current = rd->obj_cur;
    S->stats.overload_current = rd->over_cur;
    pthread_mutex_unlock(&S->mu);
    /* A routing in force that breaks a capacity is infeasible: its modelled
     * objective is no yardstick, and neither the gain threshold, the guard
     * watching the last change nor a cooldown may hold the move toward
     * feasibility back; the step cap still bounds each round. */
    rd->repair = slate_opt_repairs_capacity(rd->over_cur, rd->over_new, CAPACITY_SLACK_RPS);
    rd->baseline = S->cfg->routing != CTL_ROUTING_SLATE;
    ctl_rules_t *cur = ctl_publisher_rules(S->pub);
    rd->have_rules = cur != NULL;
    ctl_rules_unref(cur);
}

/* 7. Whether to apply a step this round; false (with the outcome set) to skip. */
static bool step_decide(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    const ctl_config_t *cfg = S->cfg;
    if (rd->baseline || rd->repair)
        return true;
    if (S->guard.active) {
        set_outcome(S, "skipped: watching the last change (rollback guard)");
        return false;
    }
    if (S->cooldown > 0) {
        S->cooldown--;
        set_outcome(S, "skipped: cooling down after a rollback");
        return false;
    }
    if (rd->have_rules && isfinite(rd->obj_cur) &&
        !slate_opt_worth_applying(rd->obj_cur, rd->obj_new, cfg->min_gain_abs, cfg->min_gain_rel)) {
        set_outcome(S, "skipped: predicted gain below the threshold");
        return false;
    }
    return true;
}

/* 8. Step each row toward the proposal (baselines apply in full) and publish. */
static void step_apply(round_t *rd)
{
    ctl_solver_t *S = rd->S;
    uint32_t R = rd->b.R;
    ctl_rows_t next = {0};
    uint32_t changes = 0;
    double largest = 0;
    for (size_t i = 0; i < rd->proposal.n; i++) {
        const ctl_row_t *pr = &rd->proposal.v[i];
        const ctl_row_t *cr = ctl_rows_find(&rd->current, pr->ep, pr->src);
        ctl_row_t *nr = ctl_rows_put(&next, pr->ep, pr->src);
        if (!nr)
            continue;
        double shift = 0;
        if (rd->baseline || !cr)
            memcpy(nr->w, pr->w, sizeof(nr->w));
        else if (slate_opt_step(cr->w, pr->w, R, S->cfg->max_shift, nr->w, &shift) != SLATE_OK)
            memcpy(nr->w, cr->w, sizeof(nr->w));
        if (shift > largest)
            largest = shift;
        bool same = cr != NULL;
        for (uint32_t d = 0; same && d < R; d++)
            same = fabs(cr->w[d] - nr->w[d]) < 1e-9;
        changes += same ? 0 : 1;
    }
    double *wn = ctl_problem_weights(&rd->b, &next);
    double obj_applied = NAN;
    slate_opt_result_t *ev = NULL;
    if (wn && slate_opt_evaluate(rd->b.p, wn, &ev) == SLATE_OK)
        obj_applied = slate_opt_result_stats(ev)->objective;
    slate_opt_result_free(ev);
    free(wn);
    pthread_mutex_lock(&S->mu);
    S->stats.objective_applied = obj_applied;
    S->stats.shift = largest;
    pthread_mutex_unlock(&S->mu);
    if (changes == 0 && rd->have_rules) {
        set_outcome(S, "unchanged: the routing in force is the optimum");
        ctl_rows_free(&next);
        return;
    }
    ctl_rules_t *rs = ctl_problem_rules(&rd->b, rd->in, &next,
                                        rd->baseline ? method_name(S->cfg->routing) : "optimiser");
    if (!rs) {
        set_outcome(S, "failed: out of memory building rules");
        ctl_rows_free(&next);
        return;
    }
    ctl_rows_copy(&S->prev, &S->cur);
    ctl_rows_copy(&S->cur, &next);
    ctl_publish(S->pub, rs, changes ? changes : 1);
    /* A repair is not rolled back to the overload it left. */
    if (rd->repair)
        S->guard.active = 0;
    else if (!rd->baseline && isfinite(rd->measured))
        (void)slate_opt_guard_applied(&S->guard, rd->measured, rd->now_ns);
    ctl_metrics_set_f64(&S->m->objective_bits, obj_applied);
    set_outcome(S, "applied%s: %u rows changed, largest shift %.3f",
                rd->repair ? " (capacity repair)" : "", changes, largest);
    ctl_log(CTL_LOG_INFO,
            "solve #%" PRIu64 " (%s): objective %.4g -> %.4g (optimum %.4g), %u rows changed, "
            "%.2f ms",
            S->stats.rounds, method_name(S->cfg->routing), rd->obj_cur, obj_applied, rd->obj_new,
            changes, rd->solve_ms);
    ctl_rows_free(&next);
}

static void run_round(ctl_solver_t *S, ctl_solve_input_t *in, uint64_t now_ns)
{
    round_t rd = {.S = S, .now_ns = now_ns, .t0 = ctl_mono_ns(), .in = in};
    if (!step_snapshot(&rd))
        return;
    step_adopt(&rd);
    bool solved = false;
    if (!step_guard(&rd) && step_build(&rd) && step_solve(&rd)) {
        solved = true;
        uint64_t t_post = ctl_mono_ns();
        step_compare(&rd);
        if (step_decide(&rd))
            step_apply(&rd);
        pthread_mutex_lock(&S->mu);
        S->stats.post_ms = (double)(ctl_mono_ns() - t_post) / 1e6;
        pthread_mutex_unlock(&S->mu);
    }
    /* what the guard and the cooldown are now, whichever step ended the round */
    pthread_mutex_lock(&S->mu);
    S->stats.guard_active = S->guard.active;
    S->stats.cooldown = S->cooldown;
    if (solved) /* with the solve's other figures, not a later round that stopped early */
        S->stats.round_ms = (double)(ctl_mono_ns() - rd.t0) / 1e6;
    pthread_mutex_unlock(&S->mu);
    ctl_rows_free(&rd.current);
    ctl_rows_free(&rd.proposal);
    if (rd.target && slate_opt_result_stats(rd.target)->method == SLATE_OPT_METHOD_LP) {
        slate_opt_result_free(S->last_lp); /* this optimum's basis starts the next solve */
        S->last_lp = rd.target;
        rd.target = NULL;
    }
    slate_opt_result_free(rd.target);
    slate_opt_result_free(rd.local);
    ctl_problem_free(&rd.b);
    ctl_solve_input_free(rd.in);
    refresh_if_due(S);
}

void ctl_solver_round(ctl_solver_t *S, uint64_t now_ns)
{
    run_round(S, NULL, now_ns);
}

void ctl_solver_round_on(ctl_solver_t *S, ctl_solve_input_t *in, uint64_t now_ns)
{
    run_round(S, in, now_ns);
}

static void *solver_main(void *arg)
{
    ctl_solver_t *S = arg;
    uint64_t period_ns = S->cfg->solve_period_ms * 1000000ull;
    uint64_t next = ctl_mono_ns() + period_ns;
    /* The first window starts now. */
    ctl_solve_input_free(ctl_state_tick(S->state, ctl_now_ns()));
    for (;;) {
        pthread_mutex_lock(&S->wake_mu);
        while (!S->stopping && ctl_mono_ns() < next) {
            uint64_t wait = next - ctl_mono_ns();
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + wait;
            ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
            ts.tv_nsec = (long)(abs_ns % 1000000000ull);
            pthread_cond_timedwait(&S->wake_cv, &S->wake_mu, &ts);
        }
        bool stop = S->stopping;
        pthread_mutex_unlock(&S->wake_mu);
        if (stop)
            break;
        ctl_solver_round(S, ctl_now_ns());
        next += period_ns;
        uint64_t now = ctl_mono_ns();
        if (next < now)
            next = now + period_ns; /* a slow round does not cause a burst */
    }
    return NULL;
}

int ctl_solver_start(ctl_solver_t *S)
{
    if (pthread_create(&S->thread, NULL, solver_main, S) != 0)
        return -1;
    S->started = true;
    return 0;
}

void ctl_solver_stop(ctl_solver_t *S)
{
    pthread_mutex_lock(&S->wake_mu);
    S->stopping = true;
    pthread_cond_broadcast(&S->wake_cv);
    pthread_mutex_unlock(&S->wake_mu);
    if (S->started)
        pthread_join(S->thread, NULL);
    S->started = false;
}

void ctl_solver_stats(ctl_solver_t *S, ctl_solve_stats_t *out)
{
    pthread_mutex_lock(&S->mu);
    *out = S->stats;
    pthread_mutex_unlock(&S->mu);
}
