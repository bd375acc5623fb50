/*
 * slate-controller: the solve loop of the global role.
 *
 * Once per solve period: close the state's window, build the routing problem
 * from it (regions, placement, capacities, latency models, traffic classes
 * rooted at the entry endpoints, the call graph with calls per request and
 * bytes per call, network RTT and egress prices), solve it (the LP, or a
 * baseline), and apply the stability rules before publishing:
 *   - while a change is being watched (the rollback guard), nothing new is
 *     applied; when the guard's verdict is "worse", the previous rules are
 *     restored and new changes wait a few rounds (cooldown);
 *   - a proposal is skipped when its predicted gain over the routing in
 *     force (evaluated on the same problem) is below the thresholds;
 *   - otherwise every routing row moves toward the optimum by at most
 *     max-shift of its traffic.
 * Rules are re-published (same routing, new version) when half their time to
 * live has passed, so proxies never see them expire while the controller
 * is alive.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_app.h"
#include "ctl_log.h"
#include "ctl_map.h"

#define SLOTS           CTL_MAX_REGION_SLOTS
#define MIN_RATIO       0.01
#define COOLDOWN_ROUNDS 3
/* Overload (rps over a capacity) below which a routing counts as feasible:
 * the LP meets its rows only up to its tolerances. */
#define CAPACITY_SLACK_RPS 0.01

/* One routing row: how calls from region `src` to endpoint `ep` (state indices) split. */
typedef struct row {
    uint32_t ep;
    uint32_t src;
    double w[SLOTS];
} row;

typedef struct rows {
    row *v;
    size_t n, cap;
} rows;

static struct solver {
    rows cur;  /* routing in force */
    rows prev; /* routing before the last applied change */
    slate_opt_guard_t guard;
    int cooldown;
    bool rows_from_rules; /* cur was rebuilt from restored rules */
} g_solver;

static row *rows_find(rows *t, uint32_t ep, uint32_t src)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].ep == ep && t->v[i].src == src)
            return &t->v[i];
    return NULL;
}

static row *rows_put(rows *t, uint32_t ep, uint32_t src)
{
    row *r = rows_find(t, ep, src);
    if (r)
        return r;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        row *p = realloc(t->v, nc * sizeof(row));
        if (!p)
            return NULL;
        t->v = p;
        t->cap = nc;
    }
    r = &t->v[t->n++];
    memset(r, 0, sizeof(*r));
    r->ep = ep;
    r->src = src;
    return r;
}

static int rows_copy(rows *dst, const rows *src)
{
    if (dst->cap < src->n) {
        row *p = realloc(dst->v, (src->n ? src->n : 1) * sizeof(row));
        if (!p)
            return -1;
        dst->v = p;
        dst->cap = src->n ? src->n : 1;
    }
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof(row));
    dst->n = src->n;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The problem, built from the state's snapshot */

typedef struct build {
    slate_opt_problem_t *p;
    uint32_t R;
    uint32_t *ep_opt;  /* state endpoint -> opt endpoint (UINT32_MAX: not in the problem) */
    uint32_t *ep_back; /* opt endpoint -> state endpoint */
    uint32_t n_opt_eps;
    uint32_t *svc_opt; /* state service -> opt service */
    bool *edge_used;   /* per snapshot edge: in the problem */
    uint32_t classes;
} build;

static void build_free(build *b)
{
    slate_opt_problem_free(b->p);
    free(b->ep_opt);
    free(b->ep_back);
    free(b->svc_opt);
    free(b->edge_used);
    memset(b, 0, sizeof(*b));
}

static bool deployed_anywhere(const ctl_solve_input_t *in, uint32_t svc)
{
    for (uint32_t r = 0; r < in->n_regions; r++)
        if (in->deployed[svc][r])
            return true;
    return false;
}

static bool edge_ok(const ctl_solve_input_t *in, const struct ctl_si_edge *e)
{
    const ctl_si_endpoint_t *pa = &in->endpoints[e->parent], *ch = &in->endpoints[e->child];
    return e->calls_per_request >= MIN_RATIO && e->parent != e->child && !pa->overflow &&
           !ch->overflow && deployed_anywhere(in, pa->svc) && deployed_anywhere(in, ch->svc);
}

static slate_status map_endpoint(build *b, const ctl_solve_input_t *in, uint32_t ep)
{
    if (b->ep_opt[ep] != UINT32_MAX)
        return SLATE_OK;
    uint32_t svc = in->endpoints[ep].svc;
    slate_status st;
    if (b->svc_opt[svc] == UINT32_MAX) {
        unsigned id;
        if ((st = slate_opt_add_service(b->p, &id)) != SLATE_OK)
            return st;
        b->svc_opt[svc] = id;
        for (uint32_t r = 0; r < b->R; r++)
            if (in->deployed[svc][r] &&
                (st = slate_opt_set_placement(b->p, id, r, 1, in->capacity[svc][r])) != SLATE_OK)
                return st;
    }
    unsigned id;
    if ((st = slate_opt_add_endpoint(b->p, b->svc_opt[svc], &id)) != SLATE_OK)
        return st;
    b->ep_opt[ep] = id;
    b->ep_back[id] = ep;
    b->n_opt_eps = id + 1;
    for (uint32_t r = 0; r < b->R; r++)
        if (in->endpoints[ep].has_fit[r] && in->deployed[svc][r] &&
            (st = slate_opt_set_model(b->p, id, r, &in->endpoints[ep].fit[r])) != SLATE_OK)
            return st;
    return SLATE_OK;
}

/* Marks back edges (edges closing a cycle) unusable, by DFS over the usable graph. */
static void drop_cycles(const ctl_solve_input_t *in, bool *use)
{
    uint32_t n = in->n_endpoints;
    uint8_t *color = calloc(n ? n : 1, 1);
    uint32_t *stack_ep = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *stack_it = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!color || !stack_ep || !stack_it) {
        free(color);
        free(stack_ep);
        free(stack_it);
        return;
    }
    for (uint32_t s = 0; s < n; s++) {
        if (color[s])
            continue;
        uint32_t sp = 0;
        stack_ep[sp] = s;
        stack_it[sp] = 0;
        color[s] = 1;
        sp++;
        while (sp > 0) {
            uint32_t v = stack_ep[sp - 1];
            uint32_t *it = &stack_it[sp - 1];
            bool pushed = false;
            while (*it < in->n_edges) {
                uint32_t k = (*it)++;
                if (!use[k] || in->edges[k].parent != v)
                    continue;
                uint32_t w = in->edges[k].child;
                if (color[w] == 1) {
                    use[k] = false; /* back edge */
                } else if (color[w] == 0) {
                    color[w] = 1;
                    stack_ep[sp] = w;
                    stack_it[sp] = 0;
                    sp++;
                    pushed = true;
                    break;
                }
            }
            if (!pushed && stack_ep[sp - 1] == v && *it >= in->n_edges) {
                color[v] = 2;
                sp--;
            }
        }
    }
    free(color);
    free(stack_ep);
    free(stack_it);
}

/* Adds the class rooted at `root` and every usable edge below it. */
static slate_status add_class(build *b, const ctl_solve_input_t *in, const bool *use, uint32_t root,
                              uint8_t *seen, uint32_t *queue)
{
    slate_status st;
    if ((st = map_endpoint(b, in, root)) != SLATE_OK)
        return st;
    unsigned cls;
    if ((st = slate_opt_add_class(b->p, b->ep_opt[root], &cls)) != SLATE_OK)
        return st;
    b->classes++;
    uint32_t svc = in->endpoints[root].svc;
    for (uint32_t r = 0; r < b->R; r++) {
        double load = in->endpoints[root].load[r];
        if (load > 0 && in->deployed[svc][r] &&
            (st = slate_opt_set_ingress(b->p, cls, r, load)) != SLATE_OK)
            return st;
    }
    memset(seen, 0, in->n_endpoints);
    uint32_t qh = 0, qt = 0;
    queue[qt++] = root;
    seen[root] = 1;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        for (uint32_t k = 0; k < in->n_edges; k++) {
            const struct ctl_si_edge *e = &in->edges[k];
            if (!use[k] || e->parent != v)
                continue;
            if ((st = map_endpoint(b, in, e->child)) != SLATE_OK)
                return st;
            st = slate_opt_add_call(b->p, cls, b->ep_opt[v], b->ep_opt[e->child],
                                    e->calls_per_request, e->bytes_per_call, NULL);
            if (st != SLATE_OK && st != SLATE_EDUPLICATE)
                return st;
            b->edge_used[k] = true;
            if (!seen[e->child]) {
                seen[e->child] = 1;
                queue[qt++] = e->child;
            }
        }
    }
    return SLATE_OK;
}

static slate_status build_problem(const ctl_app_t *app, const ctl_solve_input_t *in, build *b)
{
    memset(b, 0, sizeof(*b));
    b->R = in->n_regions;
    if (b->R == 0)
        return SLATE_EEMPTY;
    uint32_t n = in->n_endpoints;
    b->ep_opt = malloc((n ? n : 1) * sizeof(uint32_t));
    b->ep_back = malloc((n ? n : 1) * sizeof(uint32_t));
    b->svc_opt = malloc((in->n_services ? in->n_services : 1) * sizeof(uint32_t));
    b->edge_used = calloc(in->n_edges ? in->n_edges : 1, sizeof(bool));
    bool *use = calloc(in->n_edges ? in->n_edges : 1, sizeof(bool));
    bool *has_parent = calloc(n ? n : 1, sizeof(bool));
    uint8_t *seen = malloc(n ? n : 1);
    uint32_t *queue = malloc((n ? n : 1) * sizeof(uint32_t));
    slate_status st = SLATE_ENOSPC;
    if (!b->ep_opt || !b->ep_back || !b->svc_opt || !b->edge_used || !use || !has_parent || !seen ||
        !queue)
        goto out;
    memset(b->ep_opt, 0xff, (n ? n : 1) * sizeof(uint32_t));
    memset(b->svc_opt, 0xff, (in->n_services ? in->n_services : 1) * sizeof(uint32_t));
    if ((st = slate_opt_problem_create(&b->p, b->R)) != SLATE_OK)
        goto out;
    slate_opt_config_t oc;
    slate_opt_config_default(&oc);
    oc.segments = app->cfg.segments;
    oc.egress_weight = app->cfg.egress_weight;
    if ((st = slate_opt_configure(b->p, &oc)) != SLATE_OK)
        goto out;
    for (uint32_t a = 0; a < b->R; a++)
        for (uint32_t c = 0; c < b->R; c++)
            if ((st = slate_opt_set_network(b->p, a, c, in->rtt_ms[a][c], in->price[a][c])) !=
                SLATE_OK)
                goto out;
    for (uint32_t k = 0; k < in->n_edges; k++)
        use[k] = edge_ok(in, &in->edges[k]);
    drop_cycles(in, use);
    for (uint32_t k = 0; k < in->n_edges; k++)
        if (use[k])
            has_parent[in->edges[k].child] = true;
    /* Entry endpoints: load, no caller in the graph, a deployed service. */
    for (uint32_t e = 0; e < n; e++) {
        const ctl_si_endpoint_t *ep = &in->endpoints[e];
        if (has_parent[e] || ep->overflow || !deployed_anywhere(in, ep->svc))
            continue;
        bool loaded = false;
        for (uint32_t r = 0; r < b->R; r++)
            loaded |= ep->load[r] > 0 && in->deployed[ep->svc][r];
        bool calls = false;
        for (uint32_t k = 0; k < in->n_edges && !calls; k++)
            calls = use[k] && in->edges[k].parent == e;
        if (!loaded || !calls)
            continue; /* nothing to route below it */
        if ((st = add_class(b, in, use, e, seen, queue)) != SLATE_OK)
            goto out;
    }
    st = b->classes > 0 ? SLATE_OK : SLATE_EEMPTY;
out:
    free(use);
    free(has_parent);
    free(seen);
    free(queue);
    return st;
}

/* ------------------------------------------------------------------------- */
/* Rows <-> weight tables <-> rules */

/* Every (source region, child endpoint) the problem routes: a caller is deployed there. */
static bool row_wanted(const build *b, const ctl_solve_input_t *in, uint32_t child, uint32_t src)
{
    for (uint32_t k = 0; k < in->n_edges; k++)
        if (b->edge_used[k] && in->edges[k].child == child &&
            in->deployed[in->endpoints[in->edges[k].parent].svc][src])
            return true;
    return false;
}

static double *weights_from_rows(const build *b, const rows *t)
{
    size_t len = slate_opt_weights_len(b->p);
    double *w = calloc(len ? len : 1, sizeof(double));
    if (!w)
        return NULL;
    uint32_t E = b->n_opt_eps, R = b->R;
    for (size_t i = 0; i < t->n; i++) {
        const row *r = &t->v[i];
        if (r->ep >= UINT32_MAX || r->src >= R)
            continue;
        uint32_t oe = b->ep_opt[r->ep];
        if (oe == UINT32_MAX)
            continue;
        unsigned svc = slate_opt_endpoint_service(b->p, oe);
        for (uint32_t d = 0; d < R; d++) {
            int dep = 0;
            double cap;
            if (slate_opt_get_placement(b->p, svc, d, &dep, &cap) != SLATE_OK || !dep)
                continue; /* weights on undeployed regions must be 0 */
            w[(size_t)r->src * E * R + (size_t)oe * R + d] = r->w[d];
        }
    }
    return w;
}

/* Rules for every row: one per (row, calling service deployed in the row's region). */
static ctl_rules_t *rules_from_rows(const build *b, const ctl_solve_input_t *in, const rows *t,
                                    const char *origin)
{
    ctl_rules_t *rs = ctl_rules_new(0, 0, 0, origin);
    if (!rs)
        return NULL;
    const char *regions[SLOTS];
    uint32_t weights[SLOTS];
    uint8_t *caller = calloc(in->n_services ? in->n_services : 1, 1);
    if (!caller) {
        ctl_rules_unref(rs);
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        const row *r = &t->v[i];
        if (r->ep >= in->n_endpoints || r->src >= b->R)
            continue;
        const ctl_si_endpoint_t *ce = &in->endpoints[r->ep];
        /* targets: fractions to weights summing to exactly CTL_WEIGHT_SCALE */
        uint32_t n = 0;
        double total = 0;
        for (uint32_t d = 0; d < b->R; d++)
            total += r->w[d] > 0 ? r->w[d] : 0;
        if (total <= 0)
            continue;
        uint64_t sum = 0;
        uint32_t biggest = 0;
        for (uint32_t d = 0; d < b->R; d++) {
            if (!(r->w[d] > 0))
                continue;
            uint32_t wt = (uint32_t)llround(r->w[d] / total * CTL_WEIGHT_SCALE);
            if (wt == 0)
                continue;
            regions[n] = in->region_names[d];
            weights[n] = wt;
            if (wt > weights[biggest])
                biggest = n;
            sum += wt;
            n++;
        }
        if (n == 0)
            continue;
        weights[biggest] =
            (uint32_t)((int64_t)weights[biggest] + (int64_t)CTL_WEIGHT_SCALE - (int64_t)sum);
        memset(caller, 0, in->n_services ? in->n_services : 1);
        for (uint32_t k = 0; k < in->n_edges; k++) {
            if (!b->edge_used[k] || in->edges[k].child != r->ep)
                continue;
            uint32_t ps = in->endpoints[in->edges[k].parent].svc;
            if (caller[ps] || !in->deployed[ps][r->src])
                continue;
            caller[ps] = 1;
            if (ctl_rules_add(rs, in->region_names[r->src], in->service_names[ce->svc], ce->method,
                              ce->path, in->service_names[ps], regions, weights, n) != 0) {
                free(caller);
                ctl_rules_unref(rs);
                return NULL;
            }
        }
    }
    free(caller);
    return rs;
}

/* Rebuilds rows from restored rules, by names, once the state knows them. */
static void rows_from_rules(rows *t, const ctl_rules_t *rs, const ctl_solve_input_t *in)
{
    for (size_t i = 0; i < rs->n_rules; i++) {
        const ctl_rule_t *ru = &rs->rules[i];
        uint32_t src = UINT32_MAX, ep = UINT32_MAX;
        for (uint32_t r = 0; r < in->n_regions; r++)
            if (strcmp(in->region_names[r], ru->src_region) == 0)
                src = r;
        for (uint32_t e = 0; e < in->n_endpoints && ep == UINT32_MAX; e++) {
            const ctl_si_endpoint_t *ce = &in->endpoints[e];
            if (strcmp(in->service_names[ce->svc], ru->dst_service) == 0 &&
                strcmp(ce->method, ru->method) == 0 && strcmp(ce->path, ru->path) == 0)
                ep = e;
        }
        if (src == UINT32_MAX || ep == UINT32_MAX || rows_find(t, ep, src))
            continue;
        row *r = rows_put(t, ep, src);
        if (!r)
            return;
        uint64_t total = 0;
        for (uint32_t k = 0; k < ru->n_targets; k++)
            total += ru->targets[k].weight;
        for (uint32_t k = 0; k < ru->n_targets && total > 0; k++)
            for (uint32_t d = 0; d < in->n_regions; d++)
                if (strcmp(in->region_names[d], ru->targets[k].region) == 0)
                    r->w[d] += (double)ru->targets[k].weight / (double)total;
    }
}

static ctl_rules_t *rules_clone(const ctl_rules_t *src, const char *origin)
{
    ctl_rules_t *rs = ctl_rules_new(0, 0, 0, origin);
    if (!rs)
        return NULL;
    for (size_t i = 0; i < src->n_rules; i++) {
        const ctl_rule_t *ru = &src->rules[i];
        const char *regions[SLOTS];
        uint32_t weights[SLOTS];
        uint32_t n = ru->n_targets < SLOTS ? ru->n_targets : SLOTS;
        for (uint32_t k = 0; k < n; k++) {
            regions[k] = ru->targets[k].region;
            weights[k] = ru->targets[k].weight;
        }
        if (ctl_rules_add(rs, ru->src_region, ru->dst_service, ru->method, ru->path,
                          ru->src_service, regions, weights, n) != 0) {
            ctl_rules_unref(rs);
            return NULL;
        }
    }
    return rs;
}

/* ------------------------------------------------------------------------- */
/* One round */

static void set_outcome(ctl_app_t *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_outcome(ctl_app_t *app, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&app->solve_mu);
    va_start(ap, fmt);
    vsnprintf(app->solve.last_outcome, sizeof(app->solve.last_outcome), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&app->solve_mu);
}

static const char *method_name(ctl_routing r)
{
    return r == CTL_ROUTING_LOCAL ? "local" : r == CTL_ROUTING_WATERFALL ? "waterfall" : "lp";
}

static void refresh_if_due(ctl_app_t *app)
{
    if (app->cfg.rules_ttl_ms == 0)
        return;
    pthread_mutex_lock(&app->rules_mu);
    bool due = app->current &&
               ctl_mono_ns() - app->last_publish_ns >= app->cfg.rules_ttl_ms * 1000000ull / 2;
    ctl_rules_t *cur = app->current;
    ctl_rules_ref(cur);
    pthread_mutex_unlock(&app->rules_mu);
    if (due) {
        ctl_rules_t *copy = rules_clone(cur, "refresh");
        if (copy)
            ctl_app_publish(app, copy, 0);
    }
    ctl_rules_unref(cur);
}

void ctl_solver_round(ctl_app_t *app, uint64_t now_ns)
{
    struct solver *S = &g_solver;
    uint64_t t0 = ctl_mono_ns();
    ctl_solve_input_t *in = ctl_state_tick(app->state, now_ns);
    if (!in) {
        atomic_fetch_add(&app->metrics.solves_failed, 1);
        set_outcome(app, "failed: out of memory taking the snapshot");
        return;
    }
    double measured = in->measured_latency_ms;
    ctl_metrics_set_f64(&app->metrics.measured_latency_bits, measured);
    pthread_mutex_lock(&app->solve_mu);
    app->solve.rounds++;
    app->solve.last_ns = now_ns;
    app->solve.measured_latency_ms = measured;
    snprintf(app->solve.method, sizeof(app->solve.method), "%s", method_name(app->cfg.routing));
    pthread_mutex_unlock(&app->solve_mu);

    /* Restored rules become the routing in force, once the names are known. */
    if (S->cur.n == 0 && !S->rows_from_rules) {
        ctl_rules_t *cur = ctl_app_rules(app);
        if (cur && strcmp(cur->origin, "restored") == 0 && cur->n_rules > 0) {
            rows_from_rules(&S->cur, cur, in);
            S->rows_from_rules = S->cur.n > 0;
        }
        ctl_rules_unref(cur);
    }

    /* The rollback guard watches the last applied change. */
    slate_opt_verdict verdict = SLATE_OPT_IDLE;
    if (isfinite(measured))
        verdict = slate_opt_guard_observe(&S->guard, measured, now_ns);
    if (verdict == SLATE_OPT_ROLLBACK) {
        pthread_mutex_lock(&app->rules_mu);
        ctl_rules_t *prev = app->previous;
        ctl_rules_ref(prev);
        pthread_mutex_unlock(&app->rules_mu);
        ctl_rules_t *back =
            prev ? rules_clone(prev, "rollback") : ctl_rules_new(0, 0, 0, "rollback");
        ctl_rules_unref(prev);
        /* Counted and logged before the rules change, so whoever sees the
         * rolled-back rules also sees the count. */
        S->cooldown = COOLDOWN_ROUNDS;
        atomic_fetch_add(&app->metrics.rollbacks, 1);
        ctl_log(CTL_LOG_WARN,
                "rollback: measured latency %.3f ms is worse than %.3f ms before the change",
                measured, S->guard.before_ms);
        set_outcome(app, "rolled back: measured latency got worse");
        if (back) {
            rows_copy(&S->cur, &S->prev);
            ctl_app_publish(app, back, (uint32_t)back->n_rules + 1);
        }
        ctl_solve_input_free(in);
        return;
    }

    build b;
    slate_status st = build_problem(app, in, &b);
    pthread_mutex_lock(&app->solve_mu);
    app->solve.regions = in->n_regions;
    app->solve.services = b.p ? slate_opt_n_services(b.p) : 0;
    app->solve.endpoints = b.p ? slate_opt_n_endpoints(b.p) : 0;
    app->solve.classes = b.p ? slate_opt_n_classes(b.p) : 0;
    app->solve.edges = b.p ? slate_opt_n_edges(b.p) : 0;
    app->solve.last_status = st;
    app->solve.guard_active = S->guard.active;
    app->solve.cooldown = S->cooldown;
    pthread_mutex_unlock(&app->solve_mu);
    if (st == SLATE_EEMPTY) {
        atomic_fetch_add(&app->metrics.solves_skipped, 1);
        set_outcome(app, "skipped: no traffic class with calls to route yet");
        build_free(&b);
        ctl_solve_input_free(in);
        refresh_if_due(app);
        return;
    }
    if (st != SLATE_OK) {
        atomic_fetch_add(&app->metrics.solves_failed, 1);
        set_outcome(app, "failed: building the problem: %s", slate_status_name(st));
        ctl_log(CTL_LOG_ERROR, "solve: building the problem failed: %s", slate_strerror(st));
        build_free(&b);
        ctl_solve_input_free(in);
        refresh_if_due(app);
        return;
    }

    slate_opt_result_t *target = NULL, *local = NULL;
    switch (app->cfg.routing) {
    case CTL_ROUTING_LOCAL:
        st = slate_opt_local_only(b.p, &target);
        break;
    case CTL_ROUTING_WATERFALL:
        st = slate_opt_waterfall(b.p, &target);
        break;
    default:
        st = slate_opt_solve(b.p, &target);
        break;
    }
    double solve_ms = (double)(ctl_mono_ns() - t0) / 1e6;
    ctl_metrics_observe_solve(&app->metrics, solve_ms);
    pthread_mutex_lock(&app->solve_mu);
    app->solve.last_status = st;
    app->solve.total_ms = solve_ms;
    if (target) {
        const slate_opt_stats_t *ss = slate_opt_result_stats(target);
        app->solve.objective_proposed = ss->objective;
        app->solve.mean_latency_ms = ss->mean_latency_ms;
        app->solve.build_ms = ss->build_ms;
        app->solve.solve_ms = ss->solve_ms;
        app->solve.columns = ss->columns;
        app->solve.rows = ss->rows;
        app->solve.iterations = ss->iterations;
    }
    pthread_mutex_unlock(&app->solve_mu);
    if (st != SLATE_OK) {
        atomic_fetch_add(&app->metrics.solves_failed, 1);
        set_outcome(app, "failed: %s", slate_status_name(st));
        ctl_log(CTL_LOG_ERROR, "solve failed: %s", slate_strerror(st));
        goto done;
    }
    atomic_fetch_add(&app->metrics.solves_ok, 1);
    if (slate_opt_local_only(b.p, &local) != SLATE_OK)
        local = NULL;

    /* The routing in force, with local-only's choice where it has no row. */
    rows current = {0};
    rows proposal = {0};
    uint32_t R = b.R;
    double tw[SLOTS], lw[SLOTS];
    for (uint32_t oe = 0; oe < b.n_opt_eps; oe++) {
        uint32_t ep = b.ep_back[oe];
        for (uint32_t src = 0; src < R; src++) {
            if (!row_wanted(&b, in, ep, src))
                continue;
            if (slate_opt_result_weights(target, src, oe, tw, NULL) != SLATE_OK)
                continue;
            row *pr = rows_put(&proposal, ep, src);
            row *cr = rows_put(&current, ep, src);
            if (!pr || !cr)
                continue;
            memcpy(pr->w, tw, R * sizeof(double));
            const row *in_force = rows_find(&S->cur, ep, src);
            if (in_force) {
                memcpy(cr->w, in_force->w, sizeof(cr->w));
            } else if (local && slate_opt_result_weights(local, src, oe, lw, NULL) == SLATE_OK) {
                memcpy(cr->w, lw, R * sizeof(double));
            }
        }
    }
    double obj_cur = NAN, obj_new = slate_opt_result_stats(target)->objective;
    double over_cur = NAN, over_new = slate_opt_result_stats(target)->max_overload;
    double *wc = weights_from_rows(&b, &current);
    slate_opt_result_t *ev = NULL;
    if (wc && slate_opt_evaluate(b.p, wc, &ev) == SLATE_OK) {
        obj_cur = slate_opt_result_stats(ev)->objective;
        over_cur = slate_opt_result_stats(ev)->max_overload;
    }
    slate_opt_result_free(ev);
    free(wc);
    ctl_metrics_set_f64(&app->metrics.objective_bits, obj_cur);
    pthread_mutex_lock(&app->solve_mu);
    app->solve.objective_current = obj_cur;
    app->solve.overload_current = over_cur;
    pthread_mutex_unlock(&app->solve_mu);
    /* A routing in force that breaks a capacity is infeasible: its modelled
     * objective is no yardstick, and neither the gain threshold, the guard
     * watching the last change nor a cooldown may hold the move toward
     * feasibility back; the step cap still bounds each round. */
    bool repair = slate_opt_repairs_capacity(over_cur, over_new, CAPACITY_SLACK_RPS);

    bool baseline = app->cfg.routing != CTL_ROUTING_SLATE;
    bool have_rules;
    {
        ctl_rules_t *cur = ctl_app_rules(app);
        have_rules = cur != NULL;
        ctl_rules_unref(cur);
    }
    if (!baseline && !repair && S->guard.active) {
        set_outcome(app, "skipped: watching the last change (rollback guard)");
    } else if (!baseline && !repair && S->cooldown > 0) {
        S->cooldown--;
        set_outcome(app, "skipped: cooling down after a rollback");
    } else if (!baseline && !repair && have_rules && isfinite(obj_cur) &&
               !slate_opt_worth_applying(obj_cur, obj_new, app->cfg.min_gain_abs,
                                         app->cfg.min_gain_rel)) {
        set_outcome(app, "skipped: predicted gain below the threshold");
    } else {
        /* Step each row toward the proposal (baselines apply in full). */
        rows next = {0};
        uint32_t changes = 0;
        double largest = 0;
        for (size_t i = 0; i < proposal.n; i++) {
            const row *pr = &proposal.v[i];
            const row *cr = rows_find(&current, pr->ep, pr->src);
            row *nr = rows_put(&next, pr->ep, pr->src);
            if (!nr)
                continue;
            double shift = 0;
            if (baseline || !cr) {
                memcpy(nr->w, pr->w, sizeof(nr->w));
            } else if (slate_opt_step(cr->w, pr->w, R, app->cfg.max_shift, nr->w, &shift) !=
                       SLATE_OK) {
                memcpy(nr->w, cr->w, sizeof(nr->w));
            }
            if (shift > largest)
                largest = shift;
            bool same = cr != NULL;
            for (uint32_t d = 0; same && d < R; d++)
                same = fabs(cr->w[d] - nr->w[d]) < 1e-9;
            changes += same ? 0 : 1;
        }
        double *wn = weights_from_rows(&b, &next);
        double obj_applied = NAN;
        if (wn && slate_opt_evaluate(b.p, wn, &ev) == SLATE_OK)
            obj_applied = slate_opt_result_stats(ev)->objective;
        slate_opt_result_free(ev);
        free(wn);
        pthread_mutex_lock(&app->solve_mu);
        app->solve.objective_applied = obj_applied;
        app->solve.shift = largest;
        pthread_mutex_unlock(&app->solve_mu);
        if (changes == 0 && have_rules) {
            set_outcome(app, "unchanged: the routing in force is the optimum");
        } else {
            ctl_rules_t *rs = rules_from_rows(
                &b, in, &next, baseline ? method_name(app->cfg.routing) : "optimiser");
            if (rs) {
                rows_copy(&S->prev, &S->cur);
                rows_copy(&S->cur, &next);
                ctl_app_publish(app, rs, changes ? changes : 1);
                /* A repair is not rolled back to the overload it left. */
                if (repair)
                    S->guard.active = 0;
                else if (!baseline && isfinite(measured))
                    (void)slate_opt_guard_applied(&S->guard, measured, now_ns);
                ctl_metrics_set_f64(&app->metrics.objective_bits, obj_applied);
                set_outcome(app, "applied%s: %u rows changed, largest shift %.3f",
                            repair ? " (capacity repair)" : "", changes, largest);
                ctl_log(CTL_LOG_INFO,
                        "solve #%" PRIu64 " (%s): objective %.4g -> %.4g (optimum %.4g), %u rows "
                        "changed, %.2f ms",
                        app->solve.rounds, method_name(app->cfg.routing), obj_cur, obj_applied,
                        obj_new, changes, solve_ms);
            } else {
                set_outcome(app, "failed: out of memory building rules");
            }
        }
        free(next.v);
    }
    free(current.v);
    free(proposal.v);
done:
    pthread_mutex_lock(&app->solve_mu);
    app->solve.guard_active = S->guard.active;
    app->solve.cooldown = S->cooldown;
    pthread_mutex_unlock(&app->solve_mu);
    slate_opt_result_free(target);
    slate_opt_result_free(local);
    build_free(&b);
    ctl_solve_input_free(in);
    refresh_if_due(app);
}

static void *solver_main(void *arg)
{
    ctl_app_t *app = arg;
    uint64_t period_ns = app->cfg.solve_period_ms * 1000000ull;
    uint64_t next = ctl_mono_ns() + period_ns;
    /* The first window starts now. */
    ctl_solve_input_free(ctl_state_tick(app->state, ctl_now_ns()));
    for (;;) {
        pthread_mutex_lock(&app->wake_mu);
        while (!app->stopping && ctl_mono_ns() < next) {
            uint64_t wait = next - ctl_mono_ns();
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t abs_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + wait;
            ts.tv_sec = (time_t)(abs_ns / 1000000000ull);
            ts.tv_nsec = (long)(abs_ns % 1000000000ull);
            pthread_cond_timedwait(&app->wake_cv, &app->wake_mu, &ts);
        }
        bool stop = app->stopping;
        pthread_mutex_unlock(&app->wake_mu);
        if (stop)
            break;
        ctl_solver_round(app, ctl_now_ns());
        next += period_ns;
        uint64_t now = ctl_mono_ns();
        if (next < now)
            next = now + period_ns; /* a slow round does not cause a burst */
    }
    return NULL;
}

int ctl_solver_start(ctl_app_t *app)
{
    memset(&g_solver, 0, sizeof(g_solver));
    if (slate_opt_guard_init(&g_solver.guard, app->cfg.rollback_tolerance,
                             app->cfg.settle_ms * 1000000ull,
                             app->cfg.rollback_samples) != SLATE_OK)
        return -1;
    if (pthread_create(&app->solver_thread, NULL, solver_main, app) != 0)
        return -1;
    app->solver_started = true;
    return 0;
}

void ctl_solver_cleanup(void)
{
    free(g_solver.cur.v);
    free(g_solver.prev.v);
    memset(&g_solver, 0, sizeof(g_solver));
}
