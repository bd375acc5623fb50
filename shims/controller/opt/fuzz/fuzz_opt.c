/*
 * Fuzz target of the optimiser library: models fed arbitrary samples, and
 * small routing problems built from arbitrary bytes, solved by CLP and by the
 * baselines. Checks the documented invariants: errors leave objects
 * unchanged, fits are finite and shaped, and every routing that succeeds
 * conserves calls, respects capacities (LP) and has weights summing to 1.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_input.h"
#include "slate_opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static void check_fit(const slate_opt_model_t *m)
{
    slate_opt_fit_t f;
    CHECK(slate_opt_model_fit(m, &f) == SLATE_OK);
    CHECK(isfinite(f.a) && isfinite(f.b) && isfinite(f.c));
    CHECK(f.a >= 0 && f.b >= 0 && f.c >= 0);
    if (m->params.degree == 1)
        CHECK(f.c == 0);
    CHECK(isfinite(f.rmse) && f.rmse >= 0);
    CHECK(f.r2 >= 0 && f.r2 <= 1);
    CHECK(slate_opt_fit_eval(&f, 10) >= slate_opt_fit_eval(&f, 5));
}

static void run_models(fuzz_in_t *in)
{
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    mp.degree = 1 + fuzz_byte(in) % 2;
    mp.forget = fuzz_value(in);
    mp.min_weight = fuzz_value(in);
    slate_opt_model_t m[2];
    if (slate_opt_model_init(&m[0], &mp) != SLATE_OK)
        CHECK(slate_opt_model_init(&m[0], NULL) == SLATE_OK);
    m[1] = m[0];
    while (!fuzz_done(in)) {
        uint8_t op = fuzz_byte(in);
        slate_opt_model_t *t = &m[op >> 7];
        slate_opt_model_t before = *t;
        slate_status st;
        switch (op % 4) {
        case 0: {
            double x = fuzz_value(in), y = fuzz_value(in);
            st = slate_opt_model_add(t, x, y);
            break;
        }
        case 1: {
            double x = fuzz_value(in), y = fuzz_value(in), w = fuzz_value(in);
            st = slate_opt_model_add_weighted(t, x, y, w);
            break;
        }
        case 2:
            check_fit(t);
            st = SLATE_OK;
            break;
        default:
            st = slate_opt_model_merge(&m[0], &m[1]);
            CHECK(st == SLATE_OK);
            t = &m[0];
            break;
        }
        if (st != SLATE_OK)
            CHECK(memcmp(&before, t, sizeof before) == 0);
    }
    check_fit(&m[0]);
    check_fit(&m[1]);
}

static void check_routing(const slate_opt_problem_t *p, const slate_opt_result_t *r, int lp)
{
    const slate_opt_stats_t *st = slate_opt_result_stats(r);
    CHECK(st && !isnan(st->objective));
    unsigned R = slate_opt_n_regions(p);
    for (unsigned s = 0; s < R; s++)
        for (unsigned ep = 0; ep < slate_opt_n_endpoints(p); ep++) {
            double w[SLATE_OPT_MAX_REGIONS], sum = 0;
            slate_status rc = slate_opt_result_weights(r, s, ep, w, NULL);
            if (rc == SLATE_EINFEASIBLE)
                continue;
            CHECK(rc == SLATE_OK);
            for (unsigned d = 0; d < R; d++) {
                CHECK(w[d] >= 0);
                sum += w[d];
            }
            CHECK(fabs(sum - 1) < 1e-9);
        }
    if (!lp)
        return;
    CHECK(isfinite(st->objective));
    CHECK(fabs(st->objective - st->lp_objective) <= 1e-5 * (1 + fabs(st->objective)));
    for (unsigned svc = 0; svc < slate_opt_n_services(p); svc++)
        for (unsigned reg = 0; reg < R; reg++) {
            int dep;
            double cap, sum = 0;
            CHECK(slate_opt_get_placement(p, svc, reg, &dep, &cap) == SLATE_OK);
            for (unsigned ep = 0; ep < slate_opt_n_endpoints(p); ep++)
                if (slate_opt_endpoint_service(p, ep) == svc)
                    sum += slate_opt_result_load(r, ep, reg);
            if (!dep)
                CHECK(sum == 0);
            else if (isfinite(cap))
                CHECK(sum <= cap + 1e-6 * (1 + cap));
        }
}

static void run_problem(fuzz_in_t *in)
{
    slate_opt_problem_t *p;
    unsigned R = 1 + fuzz_byte(in) % 4;
    CHECK(slate_opt_problem_create(&p, R) == SLATE_OK);
    slate_opt_config_t cfg;
    slate_opt_config_default(&cfg);
    cfg.segments = fuzz_byte(in) % 12;
    cfg.egress_weight = fuzz_value(in);
    (void)slate_opt_configure(p, &cfg);
    for (unsigned s = 0; s < R; s++)
        for (unsigned d = 0; d < R; d++) {
            double rtt = fuzz_value(in), price = fuzz_value(in);
            (void)slate_opt_set_network(p, s, d, rtt, price);
        }
    unsigned S = 1 + fuzz_byte(in) % 4;
    for (unsigned s = 0; s < S; s++) {
        unsigned svc, ne = 1 + fuzz_byte(in) % 2;
        CHECK(slate_opt_add_service(p, &svc) == SLATE_OK);
        uint8_t dep = fuzz_byte(in);
        for (unsigned r = 0; r < R; r++) {
            double cap = fuzz_value(in);
            (void)slate_opt_set_placement(p, svc, r, (dep >> r) & 1, cap);
        }
        for (unsigned k = 0; k < ne; k++) {
            unsigned ep;
            CHECK(slate_opt_add_endpoint(p, svc, &ep) == SLATE_OK);
            for (unsigned r = 0; r < R; r++) {
                slate_opt_fit_t f;
                double a = fuzz_value(in), b = fuzz_value(in), c = fuzz_value(in);
                if (slate_opt_fit_fixed(&f, a, b, c) == SLATE_OK)
                    CHECK(slate_opt_set_model(p, ep, r, &f) == SLATE_OK);
            }
        }
    }
    unsigned E = slate_opt_n_endpoints(p);
    unsigned C = 1 + fuzz_byte(in) % 2;
    for (unsigned c = 0; c < C; c++) {
        unsigned cls;
        CHECK(slate_opt_add_class(p, fuzz_byte(in) % E, &cls) == SLATE_OK);
        for (unsigned r = 0; r < R; r++)
            (void)slate_opt_set_ingress(p, cls, r, fuzz_value(in));
    }
    unsigned nedge = fuzz_byte(in) % 12;
    for (unsigned k = 0; k < nedge; k++) {
        unsigned cls = fuzz_byte(in) % C, a = fuzz_byte(in) % E, b = fuzz_byte(in) % E;
        double ratio = fuzz_value(in), bytes = fuzz_value(in);
        (void)slate_opt_add_call(p, cls, a, b, ratio, bytes, NULL);
    }

    slate_status v = slate_opt_validate(p);
    slate_opt_result_t *r = NULL;
    slate_status st = slate_opt_solve(p, &r);
#ifdef FUZZ_OPT_VERBOSE
    fprintf(stderr,
            "regions %u services %u endpoints %u classes %u edges %u: validate %s solve %s\n", R,
            slate_opt_n_services(p), E, slate_opt_n_classes(p), slate_opt_n_edges(p),
            slate_status_name(v), slate_status_name(st));
#endif
    if (v != SLATE_OK)
        CHECK(st == v && r == NULL);
    if (st == SLATE_OK) {
        check_routing(p, r, 1);
        slate_opt_result_t *w = NULL;
        if (slate_opt_solve_warm(p, r, &w) == SLATE_OK) {
            CHECK(slate_opt_result_stats(w)->warm_start == 1);
            check_routing(p, w, 1);
        }
        slate_opt_result_free(w);
    } else {
        CHECK(r == NULL);
    }
    slate_opt_result_free(r);
    r = NULL;
    st = slate_opt_local_only(p, &r);
    CHECK(st == v);
    if (st == SLATE_OK)
        check_routing(p, r, 0);
    slate_opt_result_free(r);
    r = NULL;
    st = slate_opt_waterfall(p, &r);
    CHECK(st == v);
    if (st == SLATE_OK)
        check_routing(p, r, 0);
    slate_opt_result_free(r);
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull) {
        st = slate_opt_write_lp(p, devnull);
        CHECK(v != SLATE_OK ? st == v : (st == SLATE_OK || st == SLATE_ERANGE));
        fclose(devnull);
    }
    slate_opt_problem_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in_t in = {data, size, 0};
    if (fuzz_byte(&in) % 2)
        run_problem(&in);
    else
        run_models(&in);
    return 0;
}
