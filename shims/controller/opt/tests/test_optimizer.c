/*
 * Tests of the routing optimiser: CLP's optimum against GLPK's glpsol on the
 * same LP (written by slate_opt_write_lp), tiny instances against a brute
 * force search written here from the definitions, the constraints on every
 * solution, the baselines as defined, the egress weight, the reduced solve
 * (the default) against the full LP, and bad input.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opt_testgen.h"
#include "slate_opt.h"

static int rel_close(double a, double b, double rel)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (scale < 1.0)
        scale = 1.0;
    return fabs(a - b) <= rel * scale;
}

static slate_opt_result_t *solve_mode(slate_opt_problem_t *p, unsigned full);

/* ---- glpsol ---- */

/* Solve the problem's LP file with glpsol; returns 1 and the objective, or 0. */
static int glpsol_objective(const slate_opt_problem_t *p, unsigned tag, double *obj)
{
    char lp[512], sol[512], cmd[1600];
    snprintf(lp, sizeof lp, "%s/xcheck_%ld_%u.lp", SLATE_TEST_TMPDIR, (long)getpid(), tag);
    snprintf(sol, sizeof sol, "%s/xcheck_%ld_%u.sol", SLATE_TEST_TMPDIR, (long)getpid(), tag);
    FILE *f = fopen(lp, "w");
    assert_non_null(f);
    assert_int_equal(slate_opt_write_lp(p, f), SLATE_OK);
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "'%s' --lp '%s' -w '%s' >/dev/null 2>&1", SLATE_GLPSOL, lp, sol);
    int rc = system(cmd);
    int ok = 0;
    f = fopen(sol, "r");
    if (rc == 0 && f) {
        char line[512];
        int optimal = 0;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "c Status:", 9) == 0 && strstr(line, "OPTIMAL"))
                optimal = 1;
            unsigned m, n;
            char ps, ds;
            if (sscanf(line, "s bas %u %u %c %c %lf", &m, &n, &ps, &ds, obj) == 5) {
                ok = optimal && ps == 'f' && ds == 'f';
                break;
            }
        }
    }
    if (f)
        fclose(f);
    remove(lp);
    remove(sol);
    return ok;
}

/* ---- invariants of any routing result ---- */

/* Load of (class, endpoint) in region s implied by the result's flows. */
static double class_load(const slate_opt_problem_t *p, const slate_opt_result_t *r, unsigned cls,
                         unsigned ep, unsigned s)
{
    unsigned root;
    assert_int_equal(slate_opt_get_class(p, cls, &root), SLATE_OK);
    double v = 0.0;
    if (root == ep)
        assert_int_equal(slate_opt_get_ingress(p, cls, s, &v), SLATE_OK);
    unsigned R = slate_opt_n_regions(p);
    for (unsigned e = 0; e < slate_opt_n_edges(p); e++) {
        unsigned c, par, child;
        assert_int_equal(slate_opt_get_call(p, e, &c, &par, &child, NULL, NULL), SLATE_OK);
        if (c != cls || child != ep)
            continue;
        for (unsigned s2 = 0; s2 < R; s2++)
            v += slate_opt_result_flow(r, e, s2, s);
    }
    return v;
}

static void check_invariants(const slate_opt_problem_t *p, const slate_opt_result_t *r)
{
    unsigned R = slate_opt_n_regions(p);
    /* Conservation: calls over each edge from each region = ratio x parent load. */
    for (unsigned e = 0; e < slate_opt_n_edges(p); e++) {
        unsigned cls, par, child;
        double ratio;
        assert_int_equal(slate_opt_get_call(p, e, &cls, &par, &child, &ratio, NULL), SLATE_OK);
        unsigned csvc = slate_opt_endpoint_service(p, child);
        for (unsigned s = 0; s < R; s++) {
            double out = 0.0;
            for (unsigned d = 0; d < R; d++) {
                double f = slate_opt_result_flow(r, e, s, d);
                assert_true(f >= 0.0);
                int dep;
                assert_int_equal(slate_opt_get_placement(p, csvc, d, &dep, NULL), SLATE_OK);
                if (!dep)
                    assert_true(f == 0.0); /* never to an undeployed region */
                out += f;
            }
            double want = ratio * class_load(p, r, cls, par, s);
            assert_true(fabs(out - want) <= 1e-6 * (1.0 + want));
        }
    }
    /* Capacity and placement per (service, region). */
    for (unsigned svc = 0; svc < slate_opt_n_services(p); svc++)
        for (unsigned reg = 0; reg < R; reg++) {
            int dep;
            double cap;
            assert_int_equal(slate_opt_get_placement(p, svc, reg, &dep, &cap), SLATE_OK);
            double sum = 0.0;
            for (unsigned ep = 0; ep < slate_opt_n_endpoints(p); ep++)
                if (slate_opt_endpoint_service(p, ep) == svc)
                    sum += slate_opt_result_load(r, ep, reg);
            if (!dep)
                assert_true(sum == 0.0);
            else if (isfinite(cap) && slate_opt_result_stats(r)->max_overload == 0.0)
                assert_true(sum <= cap * (1 + 1e-7) + 1e-6);
        }
    /* Weights: rows sum to 1 over deployed regions. */
    for (unsigned s = 0; s < R; s++)
        for (unsigned ep = 0; ep < slate_opt_n_endpoints(p); ep++) {
            double w[SLATE_OPT_MAX_REGIONS], rps;
            slate_status st = slate_opt_result_weights(r, s, ep, w, &rps);
            if (st == SLATE_EINFEASIBLE)
                continue;
            assert_int_equal(st, SLATE_OK);
            double sum = 0;
            for (unsigned d = 0; d < R; d++)
                sum += w[d];
            assert_true(fabs(sum - 1.0) < 1e-9);
        }
}

/* Solve, cross-check with glpsol and the invariants, compare to baselines. */
static void cross_check(slate_opt_problem_t *p, unsigned tag, unsigned *n_glpk)
{
    slate_opt_result_t *r = NULL;
    assert_int_equal(slate_opt_solve(p, &r), SLATE_OK);
    const slate_opt_stats_t *st = slate_opt_result_stats(r);
    assert_int_equal(st->method, SLATE_OPT_METHOD_LP);
    assert_true(rel_close(st->objective, st->lp_objective, 1e-6));
    double g;
    assert_true(glpsol_objective(p, tag, &g));
    (*n_glpk)++;
    if (!rel_close(g, st->lp_objective, 1e-6))
        fail_msg("instance %u: glpsol %.12g, clp %.12g", tag, g, st->lp_objective);
    check_invariants(p, r);

    /* The LP optimum is no worse than any capacity-respecting baseline. */
    slate_opt_result_t *b = NULL;
    assert_int_equal(slate_opt_local_only(p, &b), SLATE_OK);
    check_invariants(p, b);
    if (slate_opt_result_stats(b)->max_overload == 0.0)
        assert_true(st->objective <= slate_opt_result_stats(b)->objective * (1 + 1e-7) + 1e-6);
    slate_opt_result_free(b);
    assert_int_equal(slate_opt_waterfall(p, &b), SLATE_OK);
    check_invariants(p, b);
    if (slate_opt_result_stats(b)->max_overload == 0.0)
        assert_true(st->objective <= slate_opt_result_stats(b)->objective * (1 + 1e-7) + 1e-6);
    slate_opt_result_free(b);
    /* Enforcing the LP's aggregated weights is feasible routing too, and no
     * better than the LP. */
    size_t len;
    const double *w = slate_opt_result_weight_table(r, &len);
    assert_int_equal(len, slate_opt_weights_len(p));
    assert_int_equal(slate_opt_evaluate(p, w, &b), SLATE_OK);
    if (slate_opt_result_stats(b)->max_overload == 0.0 &&
        !(slate_opt_result_stats(b)->objective >= st->objective * (1 - 1e-7) - 1e-6))
        fail_msg("instance %u: enforced weights %.12g beat the LP %.12g", tag,
                 slate_opt_result_stats(b)->objective, st->objective);
    slate_opt_result_free(b);
    slate_opt_result_free(r);
}

static void test_glpsol_random(void **state)
{
    (void)state;
    unsigned n = 0;
    for (unsigned seed = 1; seed <= 200; seed++) {
        slate_opt_problem_t *p = testgen_random(seed, seed % 4 == 0 ? 6 : 4, seed % 5 == 0 ? 8 : 5);
        assert_non_null(p);
        cross_check(p, seed, &n);
        slate_opt_problem_free(p);
    }
    assert_int_equal(n, 200);
}

/* SLATE's scalability shapes, small ones, with a quadratic model too. */
static void test_glpsol_slate_shapes(void **state)
{
    (void)state;
    unsigned n = 0;
    for (unsigned c = 2; c <= 4; c++)
        for (unsigned d = 2; d <= 3; d++)
            for (unsigned deg = 1; deg <= 2; deg++) {
                testgen_slate_shape_t sh = {c, deg, d, 3, deg};
                slate_opt_problem_t *p = testgen_slate(&sh, 100 + c * 10 + d);
                assert_non_null(p);
                cross_check(p, 1000 + c * 100 + d * 10 + deg, &n);
                slate_opt_problem_free(p);
            }
    assert_int_equal(n, 12);
}

/* ---- brute force on tiny instances ---- */

/* PWL of x * (a + b x + c x^2) with k chords over [0, top], last one extended. */
static double ref_pwl(double a, double b, double c, double top, unsigned k, double x)
{
    if (x <= 0)
        return 0;
    double w = top / k, v = 0, lo = 0;
    for (unsigned j = 0; j < k; j++) {
        double x0 = w * j, x1 = w * (j + 1);
        double f0 = x0 * (a + b * x0 + c * x0 * x0), f1 = x1 * (a + b * x1 + c * x1 * x1);
        double slope = (f1 - f0) / w;
        double hi = j + 1 == k ? INFINITY : x1;
        double part = (x < hi ? x : hi) - lo;
        if (part <= 0)
            break;
        v += slope * part;
        lo = x1;
    }
    return v;
}

typedef struct tiny_child {
    double a[2], b[2], c[2], cap[2], bytes;
} tiny_child_t;

typedef struct tiny {
    double g[2]; /* ingress per region */
    double rtt[2][2], price[2][2];
    double ew;           /* egress weight */
    unsigned k;          /* segments */
    double ra[2], rb[2]; /* root model */
    tiny_child_t ch[2];
    unsigned n_child;
} tiny_t;

/* Objective of one child edge's split (p0: share of region 0's calls sent to
 * region 1; p1: share of region 1's calls sent to region 0); INFINITY when
 * a capacity is exceeded. */
static double tiny_child_cost(const tiny_t *t, const tiny_child_t *c, double p0, double p1)
{
    double x0 = (1 - p0) * t->g[0] + p1 * t->g[1];
    double x1 = p0 * t->g[0] + (1 - p1) * t->g[1];
    if (x0 > c->cap[0] + 1e-9 || x1 > c->cap[1] + 1e-9)
        return INFINITY;
    double total = t->g[0] + t->g[1];
    double v = 0;
    double xs[2] = {x0, x1};
    for (int r = 0; r < 2; r++) {
        double top = c->cap[r] < total ? c->cap[r] : total;
        v += ref_pwl(c->a[r], c->b[r], c->c[r], top, t->k, xs[r]);
    }
    double f[2][2] = {{(1 - p0) * t->g[0], p0 * t->g[0]}, {p1 * t->g[1], (1 - p1) * t->g[1]}};
    for (int s = 0; s < 2; s++)
        for (int d = 0; d < 2; d++)
            v += f[s][d] * (t->rtt[s][d] + t->ew * c->bytes * t->price[s][d]);
    return v;
}

static slate_opt_problem_t *tiny_problem(const tiny_t *t)
{
    slate_opt_problem_t *p;
    assert_int_equal(slate_opt_problem_create(&p, 2), SLATE_OK);
    slate_opt_config_t cfg;
    slate_opt_config_default(&cfg);
    cfg.segments = t->k;
    cfg.egress_weight = t->ew;
    assert_int_equal(slate_opt_configure(p, &cfg), SLATE_OK);
    for (int s = 0; s < 2; s++)
        for (int d = 0; d < 2; d++)
            assert_int_equal(slate_opt_set_network(p, s, d, t->rtt[s][d], t->price[s][d]),
                             SLATE_OK);
    unsigned svc, root;
    assert_int_equal(slate_opt_add_service(p, &svc), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, svc, &root), SLATE_OK);
    for (unsigned r = 0; r < 2; r++) {
        slate_opt_fit_t f;
        assert_int_equal(slate_opt_set_placement(p, svc, r, 1, INFINITY), SLATE_OK);
        assert_int_equal(slate_opt_fit_fixed(&f, t->ra[r], t->rb[r], 0), SLATE_OK);
        assert_int_equal(slate_opt_set_model(p, root, r, &f), SLATE_OK);
    }
    unsigned cls;
    assert_int_equal(slate_opt_add_class(p, root, &cls), SLATE_OK);
    for (unsigned r = 0; r < 2; r++)
        assert_int_equal(slate_opt_set_ingress(p, cls, r, t->g[r]), SLATE_OK);
    for (unsigned i = 0; i < t->n_child; i++) {
        const tiny_child_t *c = &t->ch[i];
        unsigned s2, ep;
        assert_int_equal(slate_opt_add_service(p, &s2), SLATE_OK);
        assert_int_equal(slate_opt_add_endpoint(p, s2, &ep), SLATE_OK);
        for (unsigned r = 0; r < 2; r++) {
            slate_opt_fit_t f;
            assert_int_equal(slate_opt_set_placement(p, s2, r, 1, c->cap[r]), SLATE_OK);
            assert_int_equal(slate_opt_fit_fixed(&f, c->a[r], c->b[r], c->c[r]), SLATE_OK);
            assert_int_equal(slate_opt_set_model(p, ep, r, &f), SLATE_OK);
        }
        assert_int_equal(slate_opt_add_call(p, cls, root, ep, 1.0, c->bytes, NULL), SLATE_OK);
    }
    return p;
}

/* Every vertex of the PWL arrangement lies on this grid (loads are integers
 * at multiples of 1/200 of a split and every breakpoint and capacity is an
 * integer), so the grid minimum is the exact optimum. */
static void test_brute_force_tiny(void **state)
{
    (void)state;
    testgen_rng_t rng = {2024};
    static const double gs[] = {50, 100, 200};
    for (int trial = 0; trial < 40; trial++) {
        tiny_t t;
        memset(&t, 0, sizeof t);
        t.g[0] = gs[testgen_next(&rng) % 3];
        t.g[1] = gs[testgen_next(&rng) % 3];
        t.rtt[0][1] = (double)(1 + testgen_next(&rng) % 40);
        t.rtt[1][0] = (double)(1 + testgen_next(&rng) % 40);
        t.rtt[0][0] = t.rtt[1][1] = 0.5;
        t.price[0][1] = 1e-6 * (double)(testgen_next(&rng) % 5);
        t.price[1][0] = 1e-6 * (double)(testgen_next(&rng) % 5);
        t.ew = trial % 3 == 0 ? 0 : 2.0;
        for (int r = 0; r < 2; r++) {
            t.ra[r] = testgen_uniform(&rng, 0.5, 3);
            t.rb[r] = testgen_uniform(&rng, 0, 0.02);
        }
        t.n_child = 1 + (unsigned)(trial % 2);
        double total = t.g[0] + t.g[1];
        /* Capacities: integers, above half the total so a split exists. */
        unsigned top_common = 0;
        for (unsigned i = 0; i < t.n_child; i++) {
            tiny_child_t *c = &t.ch[i];
            c->bytes = 1000.0 * (double)(1 + testgen_next(&rng) % 4);
            for (int r = 0; r < 2; r++) {
                c->a[r] = testgen_uniform(&rng, 0.5, 5);
                c->b[r] = testgen_uniform(&rng, 0, 0.05);
                c->c[r] = testgen_uniform(&rng, 0, 1e-4);
                c->cap[r] = INFINITY;
            }
            if (testgen_next(&rng) % 2) {
                int r = (int)(testgen_next(&rng) % 2);
                c->cap[r] = total * 0.6;
            }
            (void)top_common;
        }
        /* Segments: a divisor of every range top, so breakpoints are integers. */
        static const unsigned ks[] = {1, 2, 5, 10};
        t.k = ks[testgen_next(&rng) % 4];
        double grid = 0.005;
        int steps = 200;
        double best = 0;
        for (unsigned i = 0; i < t.n_child; i++) {
            double m = INFINITY;
            for (int i0 = 0; i0 <= steps; i0++)
                for (int i1 = 0; i1 <= steps; i1++) {
                    double v = tiny_child_cost(&t, &t.ch[i], i0 * grid, i1 * grid);
                    if (v < m)
                        m = v;
                }
            assert_true(isfinite(m));
            best += m;
        }
        /* The root's own (fixed) load. */
        for (int r = 0; r < 2; r++)
            best += ref_pwl(t.ra[r], t.rb[r], 0, total, t.k, t.g[r]);
        slate_opt_problem_t *p = tiny_problem(&t);
        slate_opt_result_t *res;
        assert_int_equal(slate_opt_solve(p, &res), SLATE_OK);
        double lp = slate_opt_result_stats(res)->lp_objective;
        if (!rel_close(lp, best, 1e-6))
            fail_msg("trial %d: lp %.12g brute force %.12g", trial, lp, best);
        assert_true(rel_close(slate_opt_result_stats(res)->objective, best, 1e-6));
        slate_opt_result_free(res);
        slate_opt_problem_free(p);
    }
}

/* A chain A -> B -> C over 2 regions: four split fractions. The optimum need
 * not lie on a grid, so the grid gives an upper bound close to it. */
static void test_brute_force_chain(void **state)
{
    (void)state;
    testgen_rng_t rng = {77};
    for (int trial = 0; trial < 6; trial++) {
        double g[2] = {testgen_uniform(&rng, 50, 300), testgen_uniform(&rng, 50, 300)};
        double rtt[2][2] = {{0.3, testgen_uniform(&rng, 2, 30)},
                            {testgen_uniform(&rng, 2, 30), 0.3}};
        double m[2][2][3]; /* [svc B/C][region] a b c */
        for (int s = 0; s < 2; s++)
            for (int r = 0; r < 2; r++) {
                m[s][r][0] = testgen_uniform(&rng, 0.5, 4);
                m[s][r][1] = testgen_uniform(&rng, 0, 0.05);
                m[s][r][2] = testgen_uniform(&rng, 0, 2e-4);
            }
        unsigned k = 6;
        double total = g[0] + g[1];
        slate_opt_problem_t *p;
        assert_int_equal(slate_opt_problem_create(&p, 2), SLATE_OK);
        slate_opt_config_t cfg;
        slate_opt_config_default(&cfg);
        cfg.segments = k;
        assert_int_equal(slate_opt_configure(p, &cfg), SLATE_OK);
        for (int s = 0; s < 2; s++)
            for (int d = 0; d < 2; d++)
                assert_int_equal(slate_opt_set_network(p, s, d, rtt[s][d], 0), SLATE_OK);
        unsigned ep[3];
        for (unsigned i = 0; i < 3; i++) {
            unsigned svc;
            assert_int_equal(slate_opt_add_service(p, &svc), SLATE_OK);
            assert_int_equal(slate_opt_add_endpoint(p, svc, &ep[i]), SLATE_OK);
            for (unsigned r = 0; r < 2; r++) {
                assert_int_equal(slate_opt_set_placement(p, svc, r, 1, INFINITY), SLATE_OK);
                slate_opt_fit_t f;
                if (i == 0)
                    assert_int_equal(slate_opt_fit_fixed(&f, 1, 0, 0), SLATE_OK);
                else
                    assert_int_equal(
                        slate_opt_fit_fixed(&f, m[i - 1][r][0], m[i - 1][r][1], m[i - 1][r][2]),
                        SLATE_OK);
                assert_int_equal(slate_opt_set_model(p, ep[i], r, &f), SLATE_OK);
            }
        }
        unsigned cls;
        assert_int_equal(slate_opt_add_class(p, ep[0], &cls), SLATE_OK);
        for (unsigned r = 0; r < 2; r++)
            assert_int_equal(slate_opt_set_ingress(p, cls, r, g[r]), SLATE_OK);
        assert_int_equal(slate_opt_add_call(p, cls, ep[0], ep[1], 1.0, 0, NULL), SLATE_OK);
        assert_int_equal(slate_opt_add_call(p, cls, ep[1], ep[2], 1.0, 0, NULL), SLATE_OK);
        slate_opt_result_t *res;
        assert_int_equal(slate_opt_solve(p, &res), SLATE_OK);
        double lp = slate_opt_result_stats(res)->lp_objective;
        check_invariants(p, res);
        /* One class, one parent per child: the aggregated weights reproduce
         * the LP's flows exactly. */
        slate_opt_result_t *ev;
        assert_int_equal(slate_opt_evaluate(p, slate_opt_result_weight_table(res, NULL), &ev),
                         SLATE_OK);
        assert_true(rel_close(slate_opt_result_stats(ev)->objective, lp, 1e-6));
        slate_opt_result_free(ev);

        double best = INFINITY;
        const int steps = 20;
        double root = ref_pwl(1, 0, 0, total, k, g[0]) + ref_pwl(1, 0, 0, total, k, g[1]);
        for (int a0 = 0; a0 <= steps; a0++)
            for (int a1 = 0; a1 <= steps; a1++) {
                double p0 = (double)a0 / steps, p1 = (double)a1 / steps;
                double xb[2] = {(1 - p0) * g[0] + p1 * g[1], p0 * g[0] + (1 - p1) * g[1]};
                double costb = rtt[0][0] * (1 - p0) * g[0] + rtt[0][1] * p0 * g[0] +
                               rtt[1][0] * p1 * g[1] + rtt[1][1] * (1 - p1) * g[1];
                for (int r = 0; r < 2; r++)
                    costb += ref_pwl(m[0][r][0], m[0][r][1], m[0][r][2], total, k, xb[r]);
                for (int b0 = 0; b0 <= steps; b0++)
                    for (int b1 = 0; b1 <= steps; b1++) {
                        double q0 = (double)b0 / steps, q1 = (double)b1 / steps;
                        double xc[2] = {(1 - q0) * xb[0] + q1 * xb[1],
                                        q0 * xb[0] + (1 - q1) * xb[1]};
                        double v = root + costb + rtt[0][0] * (1 - q0) * xb[0] +
                                   rtt[0][1] * q0 * xb[0] + rtt[1][0] * q1 * xb[1] +
                                   rtt[1][1] * (1 - q1) * xb[1];
                        for (int r = 0; r < 2; r++)
                            v += ref_pwl(m[1][r][0], m[1][r][1], m[1][r][2], total, k, xc[r]);
                        if (v < best)
                            best = v;
                    }
            }
        assert_true(lp <= best * (1 + 1e-9));
        assert_true(best - lp <= 0.02 * lp);
        slate_opt_result_free(res);
        slate_opt_problem_free(p);
    }
}

/* ---- baselines and the egress weight, on hand-built instances ---- */

/* Three regions; root A everywhere; B everywhere with capacity 100 (or as
 * given); RTT 0-1 10 ms, 0-2 5 ms, 1-2 7 ms. */
static slate_opt_problem_t *three_regions(double g0, double capb, unsigned *epb)
{
    slate_opt_problem_t *p;
    assert_int_equal(slate_opt_problem_create(&p, 3), SLATE_OK);
    double rtt[3][3] = {{0, 10, 5}, {10, 0, 7}, {5, 7, 0}};
    for (unsigned s = 0; s < 3; s++)
        for (unsigned d = 0; d < 3; d++)
            assert_int_equal(slate_opt_set_network(p, s, d, rtt[s][d], 0), SLATE_OK);
    unsigned a, b, epa;
    assert_int_equal(slate_opt_add_service(p, &a), SLATE_OK);
    assert_int_equal(slate_opt_add_service(p, &b), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, a, &epa), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, b, epb), SLATE_OK);
    for (unsigned r = 0; r < 3; r++) {
        assert_int_equal(slate_opt_set_placement(p, a, r, 1, INFINITY), SLATE_OK);
        assert_int_equal(slate_opt_set_placement(p, b, r, 1, capb), SLATE_OK);
    }
    unsigned cls;
    assert_int_equal(slate_opt_add_class(p, epa, &cls), SLATE_OK);
    assert_int_equal(slate_opt_set_ingress(p, cls, 0, g0), SLATE_OK);
    assert_int_equal(slate_opt_set_ingress(p, cls, 1, 20), SLATE_OK);
    assert_int_equal(slate_opt_set_ingress(p, cls, 2, 30), SLATE_OK);
    assert_int_equal(slate_opt_add_call(p, cls, epa, *epb, 1.0, 100, NULL), SLATE_OK);
    return p;
}

static void expect_row(const slate_opt_result_t *r, unsigned src, unsigned ep, double w0, double w1,
                       double w2)
{
    double w[3];
    assert_int_equal(slate_opt_result_weights(r, src, ep, w, NULL), SLATE_OK);
    if (fabs(w[0] - w0) > 1e-12 || fabs(w[1] - w1) > 1e-12 || fabs(w[2] - w2) > 1e-12)
        fail_msg("row %u: %g %g %g, want %g %g %g", src, w[0], w[1], w[2], w0, w1, w2);
}

static void test_waterfall_as_defined(void **state)
{
    (void)state;
    unsigned b;
    slate_opt_problem_t *p = three_regions(250, 100, &b);
    slate_opt_result_t *r;
    assert_int_equal(slate_opt_waterfall(p, &r), SLATE_OK);
    /* Region 0: 100 local, spill 150: 70 to region 2 (5 ms, 30 used by its
     * own demand), 80 to region 1 (10 ms, 20 used). */
    expect_row(r, 0, b, 0.4, 0.32, 0.28);
    expect_row(r, 1, b, 0, 1, 0);
    expect_row(r, 2, b, 0, 0, 1);
    assert_true(slate_opt_result_stats(r)->max_overload == 0.0);
    assert_int_equal(slate_opt_result_stats(r)->method, SLATE_OPT_METHOD_WATERFALL);
    check_invariants(p, r);
    slate_opt_result_free(r);
    slate_opt_problem_free(p);

    /* Demand beyond every capacity: the rest overloads the local region. */
    p = three_regions(400, 100, &b);
    assert_int_equal(slate_opt_waterfall(p, &r), SLATE_OK);
    expect_row(r, 0, b, 250.0 / 400, 80.0 / 400, 70.0 / 400);
    assert_true(fabs(slate_opt_result_stats(r)->max_overload - 150.0) < 1e-9);
    slate_opt_result_free(r);
    /* The LP finds that infeasible. */
    assert_int_equal(slate_opt_solve(p, &r), SLATE_EINFEASIBLE);
    assert_null(r);
    slate_opt_problem_free(p);
}

static void test_local_only_as_defined(void **state)
{
    (void)state;
    unsigned b;
    slate_opt_problem_t *p = three_regions(250, 100, &b);
    /* B leaves region 2: calls from there fail over to region 0 (5 ms < 7 ms). */
    assert_int_equal(slate_opt_set_placement(p, slate_opt_endpoint_service(p, b), 2, 0, 0),
                     SLATE_OK);
    slate_opt_result_t *r;
    assert_int_equal(slate_opt_local_only(p, &r), SLATE_OK);
    expect_row(r, 0, b, 1, 0, 0);
    expect_row(r, 1, b, 0, 1, 0);
    expect_row(r, 2, b, 1, 0, 0);
    assert_true(fabs(slate_opt_result_load(r, b, 0) - 280) < 1e-9);
    assert_true(fabs(slate_opt_result_stats(r)->max_overload - 180) < 1e-9);
    assert_true(slate_opt_result_load(r, b, 2) == 0.0);
    check_invariants(p, r);
    slate_opt_result_free(r);
    slate_opt_problem_free(p);
}

/* One source region, B deployed in regions 1 and 2 at equal RTT; the egress
 * price to region 1 is 100 times that to region 2. */
static void egress_split(double weight, double *to1, double *to2)
{
    slate_opt_problem_t *p;
    assert_int_equal(slate_opt_problem_create(&p, 3), SLATE_OK);
    slate_opt_config_t cfg;
    slate_opt_config_default(&cfg);
    cfg.segments = 10;
    cfg.egress_weight = weight;
    assert_int_equal(slate_opt_configure(p, &cfg), SLATE_OK);
    assert_int_equal(slate_opt_set_network(p, 0, 1, 10, 1e-6), SLATE_OK);
    assert_int_equal(slate_opt_set_network(p, 0, 2, 10, 1e-8), SLATE_OK);
    unsigned a, b, epa, epb, cls;
    assert_int_equal(slate_opt_add_service(p, &a), SLATE_OK);
    assert_int_equal(slate_opt_add_service(p, &b), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, a, &epa), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, b, &epb), SLATE_OK);
    assert_int_equal(slate_opt_set_placement(p, a, 0, 1, INFINITY), SLATE_OK);
    slate_opt_fit_t f;
    assert_int_equal(slate_opt_fit_fixed(&f, 1, 0.01, 0), SLATE_OK);
    for (unsigned r = 1; r < 3; r++) {
        assert_int_equal(slate_opt_set_placement(p, b, r, 1, INFINITY), SLATE_OK);
        assert_int_equal(slate_opt_set_model(p, epb, r, &f), SLATE_OK);
    }
    assert_int_equal(slate_opt_add_class(p, epa, &cls), SLATE_OK);
    assert_int_equal(slate_opt_set_ingress(p, cls, 0, 300), SLATE_OK);
    unsigned e;
    assert_int_equal(slate_opt_add_call(p, cls, epa, epb, 1.0, 1000, &e), SLATE_OK);
    slate_opt_result_t *r;
    assert_int_equal(slate_opt_solve(p, &r), SLATE_OK);
    check_invariants(p, r);
    *to1 = slate_opt_result_flow(r, e, 0, 1);
    *to2 = slate_opt_result_flow(r, e, 0, 2);
    assert_true(slate_opt_result_flow(r, e, 0, 0) == 0.0); /* not deployed there */
    slate_opt_result_free(r);
    slate_opt_problem_free(p);
}

static void test_egress_weight_shifts_traffic(void **state)
{
    (void)state;
    double a1, a2, b1, b2, c1, c2;
    egress_split(0, &a1, &a2);
    assert_true(fabs(a1 - 150) < 1e-6 && fabs(a2 - 150) < 1e-6);
    egress_split(1000, &b1, &b2);
    /* Marginal latency 1 + 0.02 x; the price gap is 0.99 per rps: about 25
     * rps move, which the 30 rps segments round to one breakpoint. */
    assert_true(b2 > b1 + 20);
    assert_true(fabs(b1 + b2 - 300) < 1e-6);
    egress_split(1e6, &c1, &c2);
    assert_true(c1 < 1e-9 && fabs(c2 - 300) < 1e-6);
}

/* Re-solving from the previous basis after the loads and models move gives
 * the cold optimum; a change of shape falls back to a cold start. */
static void test_warm_start(void **state)
{
    (void)state;
    testgen_rng_t rng = {31};
    for (unsigned seed = 300; seed < 330; seed++) {
        slate_opt_problem_t *p = testgen_random(seed, 5, 6);
        assert_non_null(p);
        slate_opt_result_t *prev;
        assert_int_equal(slate_opt_solve(p, &prev), SLATE_OK);
        assert_int_equal(slate_opt_result_stats(prev)->warm_start, 0);
        for (int round = 0; round < 3; round++) {
            unsigned R = slate_opt_n_regions(p);
            for (unsigned c = 0; c < slate_opt_n_classes(p); c++)
                for (unsigned r = 0; r < R; r++) {
                    double v;
                    assert_int_equal(slate_opt_get_ingress(p, c, r, &v), SLATE_OK);
                    assert_int_equal(
                        slate_opt_set_ingress(p, c, r, v * testgen_uniform(&rng, 0.8, 1.2)),
                        SLATE_OK);
                }
            unsigned ep = (unsigned)(testgen_next(&rng) % slate_opt_n_endpoints(p));
            slate_opt_fit_t f;
            assert_int_equal(slate_opt_get_model(p, ep, 0, &f), SLATE_OK);
            f.b *= 1.5;
            assert_int_equal(slate_opt_set_model(p, ep, 0, &f), SLATE_OK);
            slate_opt_result_t *warm, *cold;
            assert_int_equal(slate_opt_solve_warm(p, prev, &warm), SLATE_OK);
            assert_int_equal(slate_opt_solve(p, &cold), SLATE_OK);
            assert_int_equal(slate_opt_result_stats(warm)->warm_start, 1);
            assert_true(rel_close(slate_opt_result_stats(warm)->lp_objective,
                                  slate_opt_result_stats(cold)->lp_objective, 1e-6));
            check_invariants(p, warm);
            slate_opt_result_free(cold);
            slate_opt_result_free(prev);
            prev = warm;
        }
        /* A new deployment of a called service changes the columns: the
         * reduced solve maps the previous basis over them (still warm, same
         * optimum as cold); the full LP starts cold. */
        unsigned child;
        assert_int_equal(slate_opt_get_call(p, 0, NULL, NULL, &child, NULL, NULL), SLATE_OK);
        unsigned svc = slate_opt_endpoint_service(p, child);
        for (unsigned r = 0; r < slate_opt_n_regions(p); r++) {
            int dep;
            assert_int_equal(slate_opt_get_placement(p, svc, r, &dep, NULL), SLATE_OK);
            if (!dep) {
                slate_opt_result_t *full_prev = solve_mode(p, 1);
                assert_int_equal(slate_opt_set_placement(p, svc, r, 1, 50), SLATE_OK);
                slate_opt_result_t *again, *cold;
                assert_int_equal(slate_opt_solve_warm(p, prev, &again), SLATE_OK);
                assert_int_equal(slate_opt_result_stats(again)->warm_start, 1);
                assert_true(slate_opt_result_stats(again)->full_columns >
                            slate_opt_result_stats(prev)->full_columns);
                assert_int_equal(slate_opt_solve(p, &cold), SLATE_OK);
                assert_true(rel_close(slate_opt_result_stats(again)->objective,
                                      slate_opt_result_stats(cold)->objective, 1e-7));
                check_invariants(p, again);
                slate_opt_result_free(again);
                slate_opt_result_free(cold);
                slate_opt_config_t c;
                assert_int_equal(slate_opt_get_config(p, &c), SLATE_OK);
                c.full_lp = 1;
                assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
                assert_int_equal(slate_opt_solve_warm(p, full_prev, &again), SLATE_OK);
                assert_int_equal(slate_opt_result_stats(again)->warm_start, 0);
                /* nor does a reduced basis start the full LP */
                slate_opt_result_free(again);
                assert_int_equal(slate_opt_solve_warm(p, prev, &again), SLATE_OK);
                assert_int_equal(slate_opt_result_stats(again)->warm_start, 0);
                slate_opt_result_free(again);
                c.full_lp = 0;
                assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
                slate_opt_result_free(full_prev);
                break;
            }
        }
        /* A baseline carries no basis. */
        slate_opt_result_t *loc, *again;
        assert_int_equal(slate_opt_local_only(p, &loc), SLATE_OK);
        assert_int_equal(slate_opt_solve_warm(p, loc, &again), SLATE_OK);
        assert_int_equal(slate_opt_result_stats(again)->warm_start, 0);
        slate_opt_result_free(again);
        slate_opt_result_free(loc);
        slate_opt_result_free(prev);
        slate_opt_problem_free(p);
    }
}

/* ---- the reduced solve against the full LP ---- */

/* Solves p with config.full_lp = full (restored to 0 afterwards). */
static slate_opt_result_t *solve_mode(slate_opt_problem_t *p, unsigned full)
{
    slate_opt_config_t c;
    assert_int_equal(slate_opt_get_config(p, &c), SLATE_OK);
    c.full_lp = full;
    assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
    slate_opt_result_t *r = NULL;
    slate_status st = slate_opt_solve(p, &r);
    c.full_lp = 0;
    assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
    if (st != SLATE_OK)
        fail_msg("solve (full_lp %u): %s", full, slate_status_name(st));
    return r;
}

/* The reduced optimum equals the full LP's (1e-7 relative) and is a valid
 * routing; counts instances where columns were left out and where pricing
 * added some, so the caller can check column generation ran. */
static void same_optimum(slate_opt_problem_t *p, unsigned tag, unsigned *left_out, unsigned *priced)
{
    slate_opt_result_t *full = solve_mode(p, 1), *red = solve_mode(p, 0);
    const slate_opt_stats_t *fs = slate_opt_result_stats(full), *rs = slate_opt_result_stats(red);
    assert_int_equal(fs->columns, fs->full_columns);
    assert_true(rs->columns <= rs->full_columns && rs->full_columns <= fs->full_columns);
    if (!rel_close(fs->objective, rs->objective, 1e-7))
        fail_msg("instance %u: full LP %.12g, reduced %.12g", tag, fs->objective, rs->objective);
    assert_true(rel_close(rs->objective, rs->lp_objective, 1e-6));
    check_invariants(p, red);
    *left_out += rs->columns < rs->full_columns;
    *priced += rs->pricing_rounds > 0;
    slate_opt_result_free(full);
    slate_opt_result_free(red);
}

static void test_reduced_equals_full_random(void **state)
{
    (void)state;
    unsigned left_out = 0, priced = 0, n = 0;
    for (unsigned seed = 1; seed <= 300; seed++) {
        /* up to 12 regions: more destinations than the restricted LP starts with */
        slate_opt_problem_t *p =
            testgen_random(5000 + seed, seed % 3 == 0 ? 12 : 8, seed % 4 == 0 ? 10 : 6);
        assert_non_null(p);
        same_optimum(p, seed, &left_out, &priced);
        slate_opt_problem_free(p);
        n++;
    }
    assert_int_equal(n, 300);
    /* the restricted start and the pricing both ran on some of them */
    assert_true(left_out > 30);
    assert_true(priced > 5);
}

/* SLATE's scalability shapes up to 10 clusters (every service everywhere,
 * quadratic models): medium LPs, checked against the full LP and glpsol on
 * the full LP's file. */
static void test_reduced_equals_full_slate_shapes(void **state)
{
    (void)state;
    unsigned left_out = 0, priced = 0;
    for (unsigned c = 5; c <= 10; c += 5)
        for (unsigned d = 2; d <= 4; d++) {
            testgen_slate_shape_t sh = {c, 2, d, 3, 2};
            slate_opt_problem_t *p = testgen_slate(&sh, 700 + c * 10 + d);
            assert_non_null(p);
            same_optimum(p, c * 10 + d, &left_out, &priced);
            slate_opt_config_t cfg;
            assert_int_equal(slate_opt_get_config(p, &cfg), SLATE_OK);
            cfg.full_lp = 1;
            assert_int_equal(slate_opt_configure(p, &cfg), SLATE_OK);
            double g;
            assert_true(glpsol_objective(p, 9000 + c * 10 + d, &g));
            cfg.full_lp = 0;
            assert_int_equal(slate_opt_configure(p, &cfg), SLATE_OK);
            slate_opt_result_t *r = NULL;
            assert_int_equal(slate_opt_solve(p, &r), SLATE_OK);
            if (!rel_close(g, slate_opt_result_stats(r)->objective, 1e-6))
                fail_msg("shape %u x %u: glpsol on the full LP %.12g, reduced %.12g", c, d, g,
                         slate_opt_result_stats(r)->objective);
            slate_opt_result_free(r);
            slate_opt_problem_free(p);
        }
    assert_true(left_out > 0);
}

/*
 * Eight regions on a line, 10 ms apart. A root service only in region 0
 * takes `ingress` rps and calls a backend deployed everywhere with
 * `cap` rps of capacity per region; every latency is a constant 1 ms.
 */
static slate_opt_problem_t *line8(double ingress, double cap, unsigned *be)
{
    slate_opt_problem_t *p;
    assert_int_equal(slate_opt_problem_create(&p, 8), SLATE_OK);
    for (unsigned a = 0; a < 8; a++)
        for (unsigned b = 0; b < 8; b++)
            assert_int_equal(slate_opt_set_network(p, a, b, 10.0 * (a > b ? a - b : b - a), 0),
                             SLATE_OK);
    unsigned root_svc, be_svc, root, cls;
    assert_int_equal(slate_opt_add_service(p, &root_svc), SLATE_OK);
    assert_int_equal(slate_opt_add_service(p, &be_svc), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, root_svc, &root), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, be_svc, be), SLATE_OK);
    assert_int_equal(slate_opt_set_placement(p, root_svc, 0, 1, INFINITY), SLATE_OK);
    slate_opt_fit_t one;
    assert_int_equal(slate_opt_fit_fixed(&one, 1.0, 0, 0), SLATE_OK);
    assert_int_equal(slate_opt_set_model(p, root, 0, &one), SLATE_OK);
    for (unsigned r = 0; r < 8; r++) {
        assert_int_equal(slate_opt_set_placement(p, be_svc, r, 1, cap), SLATE_OK);
        assert_int_equal(slate_opt_set_model(p, *be, r, &one), SLATE_OK);
    }
    assert_int_equal(slate_opt_add_class(p, root, &cls), SLATE_OK);
    assert_int_equal(slate_opt_set_ingress(p, cls, 0, ingress), SLATE_OK);
    assert_int_equal(slate_opt_add_call(p, cls, root, *be, 1.0, 100, NULL), SLATE_OK);
    return p;
}

/* Capacities the 4 nearest regions cannot meet: the restricted LP is
 * infeasible, the solve widens it; the optimum is known in closed form. */
static void test_reduced_far_capacity(void **state)
{
    (void)state;
    unsigned be;
    slate_opt_problem_t *p = line8(1000, 150, &be);
    /* 150 rps in each of regions 0..5, 100 in region 6: network
     * 150 x (0+10+20+30+40+50) + 100 x 60 = 28,500; compute 1,000 + 1,000 */
    for (unsigned full = 0; full <= 1; full++) {
        slate_opt_result_t *r = solve_mode(p, full);
        const slate_opt_stats_t *st = slate_opt_result_stats(r);
        if (!rel_close(st->objective, 30500.0, 1e-9))
            fail_msg("full_lp %u: objective %.12g, want 30500", full, st->objective);
        for (unsigned d = 0; d < 8; d++) {
            double want = d < 6 ? 150 : d == 6 ? 100 : 0;
            assert_true(fabs(slate_opt_result_load(r, be, d) - want) < 1e-6);
        }
        check_invariants(p, r);
        slate_opt_result_free(r);
    }
    /* Warm: more ingress needs region 7 too (one more column priced in). */
    slate_opt_result_t *prev = solve_mode(p, 0), *warm = NULL, *full = NULL;
    assert_int_equal(slate_opt_set_ingress(p, 0, 0, 1150), SLATE_OK);
    assert_int_equal(slate_opt_solve_warm(p, prev, &warm), SLATE_OK);
    full = solve_mode(p, 1);
    assert_int_equal(slate_opt_result_stats(warm)->warm_start, 1);
    assert_true(rel_close(slate_opt_result_stats(warm)->objective,
                          slate_opt_result_stats(full)->objective, 1e-9));
    assert_true(fabs(slate_opt_result_load(warm, be, 7) - 100) < 1e-6);
    slate_opt_result_free(prev);
    slate_opt_result_free(warm);
    slate_opt_result_free(full);
    slate_opt_problem_free(p);
    /* Not enough capacity anywhere: infeasible either way. */
    p = line8(1000, 100, &be);
    for (unsigned full_lp = 0; full_lp <= 1; full_lp++) {
        slate_opt_config_t c;
        assert_int_equal(slate_opt_get_config(p, &c), SLATE_OK);
        c.full_lp = full_lp;
        assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
        slate_opt_result_t *r = NULL;
        assert_int_equal(slate_opt_solve(p, &r), SLATE_EINFEASIBLE);
        assert_null(r);
    }
    slate_opt_problem_free(p);
}

/* A far region that only pricing finds: the near ones are steep (latency
 * grows with x^2), the farthest flat; the restricted LP is feasible
 * without it, so only a negative reduced cost can bring it in. */
static void test_reduced_prices_far_region(void **state)
{
    (void)state;
    unsigned be;
    slate_opt_problem_t *p = line8(300, INFINITY, &be);
    slate_opt_fit_t steep, flat;
    assert_int_equal(slate_opt_fit_fixed(&steep, 1.0, 0.0, 0.02), SLATE_OK);
    assert_int_equal(slate_opt_fit_fixed(&flat, 1.0, 0.0, 0.0), SLATE_OK);
    for (unsigned r = 0; r < 8; r++)
        assert_int_equal(slate_opt_set_model(p, be, r, r == 7 ? &flat : &steep), SLATE_OK);
    slate_opt_result_t *red = solve_mode(p, 0), *full = solve_mode(p, 1);
    const slate_opt_stats_t *rs = slate_opt_result_stats(red);
    assert_true(rs->pricing_rounds > 0);
    assert_true(slate_opt_result_load(red, be, 7) > 1.0);
    if (!rel_close(rs->objective, slate_opt_result_stats(full)->objective, 1e-9))
        fail_msg("reduced %.12g, full %.12g", rs->objective,
                 slate_opt_result_stats(full)->objective);
    check_invariants(p, red);
    slate_opt_result_free(red);
    slate_opt_result_free(full);
    slate_opt_problem_free(p);
}

/* Constant latencies cost no column at all (the load is substituted into
 * its inflows' costs and the capacity row); curves keep their segments; the
 * optimum is the same, also for glpsol on the written reduced LP (whose
 * constant term is a column fixed at 1). */
static void test_reduced_merges_flat_segments(void **state)
{
    (void)state;
    unsigned b;
    slate_opt_problem_t *p = three_regions(250, 100, &b); /* fallback models: flat */
    slate_opt_result_t *full = solve_mode(p, 1), *red = solve_mode(p, 0);
    /* 9 flow columns (one edge, 3 x 3 regions) + 2 endpoints x 3 regions x 8 */
    assert_int_equal(slate_opt_result_stats(full)->full_columns, 9 + 48);
    assert_int_equal(slate_opt_result_stats(red)->full_columns, 9);
    /* 3 conservation + 6 load + 3 capacity rows; the load rows go */
    assert_int_equal(slate_opt_result_stats(full)->rows, 12);
    assert_int_equal(slate_opt_result_stats(red)->rows, 6);
    double obj = slate_opt_result_stats(red)->objective;
    assert_true(rel_close(slate_opt_result_stats(full)->objective, obj, 1e-9));
    assert_true(rel_close(slate_opt_result_stats(red)->lp_objective, obj, 1e-9));
    double g;
    assert_true(glpsol_objective(p, 7001, &g));
    assert_true(rel_close(g, obj, 1e-7));
    check_invariants(p, red);
    slate_opt_result_free(full);
    slate_opt_result_free(red);
    /* the backend curved in every region: its 8 segments stay, the
     * frontend's flat loads are still substituted */
    slate_opt_fit_t q;
    assert_int_equal(slate_opt_fit_fixed(&q, 2.0, 0.01, 1e-4), SLATE_OK);
    for (unsigned r = 0; r < 3; r++)
        assert_int_equal(slate_opt_set_model(p, b, r, &q), SLATE_OK);
    full = solve_mode(p, 1);
    red = solve_mode(p, 0);
    assert_int_equal(slate_opt_result_stats(red)->full_columns, 9 + 24);
    obj = slate_opt_result_stats(red)->objective;
    assert_true(rel_close(slate_opt_result_stats(full)->objective, obj, 1e-9));
    assert_true(glpsol_objective(p, 7002, &g));
    assert_true(rel_close(g, obj, 1e-7));
    slate_opt_result_free(full);
    slate_opt_result_free(red);
    /* a capacity on the frontend, whose load is only its ingress: its
     * capacity rows are left without columns (ingress against capacity) */
    for (unsigned r = 0; r < 3; r++)
        assert_int_equal(slate_opt_set_placement(p, 0, r, 1, 1000), SLATE_OK);
    full = solve_mode(p, 1);
    red = solve_mode(p, 0);
    obj = slate_opt_result_stats(red)->objective;
    assert_true(rel_close(slate_opt_result_stats(full)->objective, obj, 1e-9));
    assert_true(glpsol_objective(p, 7003, &g));
    assert_true(rel_close(g, obj, 1e-7));
    slate_opt_result_free(full);
    slate_opt_result_free(red);
    /* ... and infeasible once the ingress (250 in region 0) is over it */
    assert_int_equal(slate_opt_set_placement(p, 0, 0, 1, 200), SLATE_OK);
    for (unsigned f = 0; f <= 1; f++) {
        slate_opt_config_t c;
        assert_int_equal(slate_opt_get_config(p, &c), SLATE_OK);
        c.full_lp = f;
        assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
        assert_int_equal(slate_opt_solve(p, &red), SLATE_EINFEASIBLE);
    }
    slate_opt_problem_free(p);
}

/* A load no call reaches (the frontend's: its ingress only) is a constant
 * even when its curve is not: its load rows and segments leave the reduced
 * LP, its cost is the objective constant. The greedy start cannot place
 * region 0's 250 rps whole within a backend capacity of 100, so the
 * simplex starts from a routing over capacity; the optimum (every backend
 * region full) is still the full LP's, and glpsol's on the written file. */
static void test_reduced_constant_loads_and_greedy_start(void **state)
{
    (void)state;
    unsigned b;
    slate_opt_problem_t *p = three_regions(250, 100, &b);
    slate_opt_fit_t q;
    assert_int_equal(slate_opt_fit_fixed(&q, 2.0, 0.01, 1e-4), SLATE_OK);
    for (unsigned ep = 0; ep < 2; ep++)
        for (unsigned r = 0; r < 3; r++)
            assert_int_equal(slate_opt_set_model(p, ep, r, &q), SLATE_OK);
    slate_opt_result_t *full = solve_mode(p, 1), *red = solve_mode(p, 0);
    const slate_opt_stats_t *fs = slate_opt_result_stats(full), *rs = slate_opt_result_stats(red);
    /* full: 3 conservation + 6 load + 3 capacity rows, 9 flows + 48 segments;
     * reduced: the frontend's 3 load rows and 24 segments go */
    assert_int_equal(fs->rows, 12);
    assert_int_equal(fs->full_columns, 9 + 48);
    assert_int_equal(rs->rows, 9);
    assert_int_equal(rs->full_columns, 9 + 24);
    double obj = rs->objective;
    if (!rel_close(fs->objective, obj, 1e-9))
        fail_msg("full LP %.12g, reduced %.12g", fs->objective, obj);
    assert_true(rel_close(rs->lp_objective, obj, 1e-9));
    assert_true(rs->max_overload < 1e-6);
    for (unsigned r = 0; r < 3; r++)
        assert_true(fabs(slate_opt_result_load(red, b, r) - 100.0) < 1e-6);
    double g;
    assert_true(glpsol_objective(p, 7004, &g));
    assert_true(rel_close(g, obj, 1e-7));
    check_invariants(p, red);
    slate_opt_result_free(full);
    slate_opt_result_free(red);
    slate_opt_problem_free(p);
}

/* Warm starts across LPs of another structure: curves turning constant
 * (their load row and columns go) and constant ones curving (they come
 * back), on the previous optimum's basis matched column by column. */
static void test_reduced_warm_across_curve_changes(void **state)
{
    (void)state;
    testgen_rng_t rng = {77};
    for (unsigned seed = 400; seed < 440; seed++) {
        slate_opt_problem_t *p = testgen_random(seed, 8, 8);
        assert_non_null(p);
        /* every warm start runs to its end here (the cap has its own test) */
        slate_opt_config_t c;
        assert_int_equal(slate_opt_get_config(p, &c), SLATE_OK);
        c.warm_max_iterations = 100000000u;
        assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
        slate_opt_result_t *prev = NULL;
        assert_int_equal(slate_opt_solve(p, &prev), SLATE_OK);
        for (int round = 0; round < 3; round++) {
            for (unsigned ep = 0; ep < slate_opt_n_endpoints(p); ep++)
                for (unsigned r = 0; r < slate_opt_n_regions(p); r++) {
                    if (testgen_uniform(&rng, 0, 1) < 0.6)
                        continue;
                    slate_opt_fit_t f;
                    int flat = testgen_uniform(&rng, 0, 1) < 0.5;
                    assert_int_equal(slate_opt_fit_fixed(&f, testgen_uniform(&rng, 0.5, 5),
                                                         flat ? 0 : testgen_uniform(&rng, 0, 0.05),
                                                         flat ? 0 : 1e-4),
                                     SLATE_OK);
                    assert_int_equal(slate_opt_set_model(p, ep, r, &f), SLATE_OK);
                }
            slate_opt_result_t *warm = NULL, *full = NULL;
            assert_int_equal(slate_opt_solve_warm(p, prev, &warm), SLATE_OK);
            assert_int_equal(slate_opt_result_stats(warm)->warm_start, 1);
            full = solve_mode(p, 1);
            if (!rel_close(slate_opt_result_stats(warm)->objective,
                           slate_opt_result_stats(full)->objective, 1e-7))
                fail_msg("seed %u round %d: warm %.12g, full LP %.12g", seed, round,
                         slate_opt_result_stats(warm)->objective,
                         slate_opt_result_stats(full)->objective);
            check_invariants(p, warm);
            slate_opt_result_free(full);
            slate_opt_result_free(prev);
            prev = warm;
        }
        slate_opt_result_free(prev);
        slate_opt_problem_free(p);
    }
}

/* A warm start past its iteration cap gives up: the solve starts cold
 * from the greedy routing, the optimum is still the full LP's, the next 3
 * solves from such a result start cold (even with a cap a warm start would
 * meet), then warm is tried again. */
static void move_window(slate_opt_problem_t *p, testgen_rng_t *rng)
{
    for (unsigned k = 0; k < slate_opt_n_classes(p); k++)
        for (unsigned r = 0; r < slate_opt_n_regions(p); r++) {
            double in;
            assert_int_equal(slate_opt_get_ingress(p, k, r, &in), SLATE_OK);
            assert_int_equal(slate_opt_set_ingress(p, k, r, in * testgen_uniform(rng, 0.5, 1.5)),
                             SLATE_OK);
        }
}

static void set_warm_cap(slate_opt_problem_t *p, unsigned cap)
{
    slate_opt_config_t c;
    assert_int_equal(slate_opt_get_config(p, &c), SLATE_OK);
    c.warm_max_iterations = cap;
    assert_int_equal(slate_opt_configure(p, &c), SLATE_OK);
}

static void test_reduced_warm_gives_up(void **state)
{
    (void)state;
    testgen_rng_t rng = {91};
    unsigned gave_up = 0;
    for (unsigned seed = 500; seed < 530; seed++) {
        slate_opt_problem_t *p = testgen_random(seed, 8, 8);
        assert_non_null(p);
        set_warm_cap(p, 1);
        slate_opt_result_t *prev = NULL;
        assert_int_equal(slate_opt_solve(p, &prev), SLATE_OK);
        /* until a warm start takes more than 1 iteration, then 3 cold
         * rounds and a warm one under a cap it meets */
        int after = -1;
        for (int round = 0; round < 10 && after < 4; round++) {
            move_window(p, &rng);
            slate_opt_result_t *next = NULL;
            slate_status st = slate_opt_solve_warm(p, prev, &next);
            if (st == SLATE_EINFEASIBLE)
                break;
            assert_int_equal(st, SLATE_OK);
            const slate_opt_stats_t *ns = slate_opt_result_stats(next);
            slate_opt_result_t *full = solve_mode(p, 1);
            if (!rel_close(ns->objective, slate_opt_result_stats(full)->objective, 1e-7))
                fail_msg("seed %u round %d: %.12g, full LP %.12g", seed, round, ns->objective,
                         slate_opt_result_stats(full)->objective);
            check_invariants(p, next);
            slate_opt_result_free(full);
            if (after >= 0) {
                after++;
                assert_int_equal(ns->warm_start, after == 4);
            } else if (ns->warm_start == 0) {
                assert_true(ns->iterations >= 1);
                gave_up++;
                after = 0;
                set_warm_cap(p, 100000000u);
            }
            slate_opt_result_free(prev);
            prev = next;
        }
        slate_opt_result_free(prev);
        slate_opt_problem_free(p);
    }
    assert_true(gave_up > 5);
}

/* ---- bad input ---- */

static void test_bad_input(void **state)
{
    (void)state;
    slate_opt_problem_t *p;
    assert_int_equal(slate_opt_problem_create(&p, 0), SLATE_ERANGE);
    assert_int_equal(slate_opt_problem_create(&p, SLATE_OPT_MAX_REGIONS + 1), SLATE_ERANGE);
    assert_int_equal(slate_opt_problem_create(NULL, 2), SLATE_EINVAL);
    assert_int_equal(slate_opt_problem_create(&p, 2), SLATE_OK);
    slate_opt_config_t cfg;
    slate_opt_config_default(&cfg);
    cfg.segments = 0;
    assert_int_equal(slate_opt_configure(p, &cfg), SLATE_ERANGE);
    cfg.segments = SLATE_OPT_MAX_SEGMENTS + 1;
    assert_int_equal(slate_opt_configure(p, &cfg), SLATE_ERANGE);
    cfg.segments = 4;
    cfg.egress_weight = -1;
    assert_int_equal(slate_opt_configure(p, &cfg), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_network(p, 2, 0, 1, 0), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_network(p, 0, 1, NAN, 0), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_network(p, 0, 1, 1, -1), SLATE_ERANGE);
    unsigned a, b, epa, epb, cls;
    assert_int_equal(slate_opt_add_endpoint(p, 0, &epa), SLATE_ERANGE);
    assert_int_equal(slate_opt_add_service(p, &a), SLATE_OK);
    assert_int_equal(slate_opt_add_service(p, &b), SLATE_OK);
    assert_int_equal(slate_opt_set_placement(p, a, 0, 1, -5), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_placement(p, a, 0, 1, NAN), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_placement(p, 9, 0, 1, 1), SLATE_ERANGE);
    assert_int_equal(slate_opt_add_endpoint(p, a, &epa), SLATE_OK);
    assert_int_equal(slate_opt_add_endpoint(p, b, &epb), SLATE_OK);
    slate_opt_fit_t f = {.a = -1};
    assert_int_equal(slate_opt_set_model(p, epa, 0, &f), SLATE_ERANGE);
    assert_int_equal(slate_opt_add_class(p, 7, &cls), SLATE_ERANGE);
    assert_int_equal(slate_opt_add_class(p, epa, &cls), SLATE_OK);
    assert_int_equal(slate_opt_set_ingress(p, cls, 0, -1), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_ingress(p, cls, 0, INFINITY), SLATE_ERANGE);
    assert_int_equal(slate_opt_add_call(p, cls, epa, epa, 1, 0, NULL), SLATE_ERANGE);
    assert_int_equal(slate_opt_add_call(p, cls, epa, epb, -1, 0, NULL), SLATE_ERANGE);
    assert_int_equal(slate_opt_add_call(p, cls, epa, epb, 1, 0, NULL), SLATE_OK);
    assert_int_equal(slate_opt_add_call(p, cls, epa, epb, 2, 0, NULL), SLATE_EDUPLICATE);
    /* B deployed nowhere yet. */
    slate_opt_result_t *r = (slate_opt_result_t *)&cfg;
    assert_int_equal(slate_opt_solve(p, &r), SLATE_EINFEASIBLE);
    assert_null(r);
    assert_int_equal(slate_opt_set_placement(p, b, 1, 1, INFINITY), SLATE_OK);
    /* Ingress where the root is not deployed. */
    assert_int_equal(slate_opt_set_ingress(p, cls, 0, 10), SLATE_OK);
    assert_int_equal(slate_opt_validate(p), SLATE_EINFEASIBLE);
    assert_int_equal(slate_opt_set_placement(p, a, 0, 1, INFINITY), SLATE_OK);
    assert_int_equal(slate_opt_validate(p), SLATE_OK);
    /* Weights to an undeployed region are refused. */
    double w[2 * 2 * 2] = {0};
    w[(0 * 2 + epb) * 2 + 0] = 1.0;
    assert_int_equal(slate_opt_evaluate(p, w, &r), SLATE_ERANGE);
    w[(0 * 2 + epb) * 2 + 0] = NAN;
    assert_int_equal(slate_opt_evaluate(p, w, &r), SLATE_ERANGE);
    /* A cycle through another class. */
    unsigned cls2;
    assert_int_equal(slate_opt_add_class(p, epb, &cls2), SLATE_OK);
    assert_int_equal(slate_opt_add_call(p, cls2, epb, epa, 1, 0, NULL), SLATE_OK);
    assert_int_equal(slate_opt_validate(p), SLATE_ECYCLE);
    assert_int_equal(slate_opt_solve(p, &r), SLATE_ECYCLE);
    assert_int_equal(slate_opt_waterfall(p, &r), SLATE_ECYCLE);
    assert_int_equal(slate_opt_write_lp(p, stdout), SLATE_ECYCLE);
    slate_opt_problem_free(p);

    /* Value ranges, and ratios compounding past what the LP can hold. */
    assert_int_equal(slate_opt_problem_create(&p, 1), SLATE_OK);
    assert_int_equal(slate_opt_set_network(p, 0, 0, SLATE_OPT_MAX_MS * 2, 0), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_network(p, 0, 0, 0, SLATE_OPT_MAX_PRICE * 2), SLATE_ERANGE);
    unsigned chain[12], c0;
    for (unsigned i = 0; i < 12; i++) {
        unsigned svc;
        assert_int_equal(slate_opt_add_service(p, &svc), SLATE_OK);
        assert_int_equal(slate_opt_set_placement(p, svc, 0, 1, INFINITY), SLATE_OK);
        assert_int_equal(slate_opt_set_placement(p, svc, 0, 1, SLATE_OPT_MAX_RATE * 2),
                         SLATE_ERANGE);
        assert_int_equal(slate_opt_add_endpoint(p, svc, &chain[i]), SLATE_OK);
    }
    assert_int_equal(slate_opt_add_class(p, chain[0], &c0), SLATE_OK);
    assert_int_equal(slate_opt_set_ingress(p, c0, 0, SLATE_OPT_MAX_RATE * 2), SLATE_ERANGE);
    assert_int_equal(slate_opt_set_ingress(p, c0, 0, SLATE_OPT_MAX_RATE), SLATE_OK);
    assert_int_equal(
        slate_opt_add_call(p, c0, chain[0], chain[1], SLATE_OPT_MAX_RATIO * 2, 0, NULL),
        SLATE_ERANGE);
    assert_int_equal(
        slate_opt_add_call(p, c0, chain[0], chain[1], 1, SLATE_OPT_MAX_BYTES * 2, NULL),
        SLATE_ERANGE);
    for (unsigned i = 0; i + 1 < 12; i++)
        assert_int_equal(
            slate_opt_add_call(p, c0, chain[i], chain[i + 1], SLATE_OPT_MAX_RATIO, 0, NULL),
            SLATE_OK);
    assert_int_equal(slate_opt_solve(p, &r), SLATE_ERANGE);
    assert_null(r);
    slate_opt_problem_free(p);

    /* Limits. */
    assert_int_equal(slate_opt_problem_create(&p, 1), SLATE_OK);
    for (unsigned i = 0; i < SLATE_OPT_MAX_SERVICES; i++)
        assert_int_equal(slate_opt_add_service(p, NULL), SLATE_OK);
    assert_int_equal(slate_opt_add_service(p, NULL), SLATE_ETOOMANY);
    assert_int_equal(slate_opt_n_services(p), SLATE_OPT_MAX_SERVICES);
    slate_opt_problem_free(p);
    slate_opt_problem_free(NULL);
    slate_opt_result_free(NULL);
}

/* The LP file is deterministic: the same problem writes the same bytes. */
static void test_write_lp_deterministic(void **state)
{
    (void)state;
    slate_opt_problem_t *p = testgen_random(99, 4, 5);
    char *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    FILE *f1 = open_memstream(&b1, &n1), *f2 = open_memstream(&b2, &n2);
    assert_int_equal(slate_opt_write_lp(p, f1), SLATE_OK);
    assert_int_equal(slate_opt_write_lp(p, f2), SLATE_OK);
    fclose(f1);
    fclose(f2);
    assert_true(n1 > 100 && n1 == n2);
    assert_memory_equal(b1, b2, n1);
    assert_non_null(strstr(b1, "Minimize"));
    assert_non_null(strstr(b1, "Subject To"));
    free(b1);
    free(b2);
    slate_opt_problem_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glpsol_random),
        cmocka_unit_test(test_glpsol_slate_shapes),
        cmocka_unit_test(test_brute_force_tiny),
        cmocka_unit_test(test_brute_force_chain),
        cmocka_unit_test(test_waterfall_as_defined),
        cmocka_unit_test(test_local_only_as_defined),
        cmocka_unit_test(test_egress_weight_shifts_traffic),
        cmocka_unit_test(test_warm_start),
        cmocka_unit_test(test_reduced_equals_full_random),
        cmocka_unit_test(test_reduced_equals_full_slate_shapes),
        cmocka_unit_test(test_reduced_far_capacity),
        cmocka_unit_test(test_reduced_prices_far_region),
        cmocka_unit_test(test_reduced_merges_flat_segments),
        cmocka_unit_test(test_reduced_constant_loads_and_greedy_start),
        cmocka_unit_test(test_reduced_warm_gives_up),
        cmocka_unit_test(test_reduced_warm_across_curve_changes),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_write_lp_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
