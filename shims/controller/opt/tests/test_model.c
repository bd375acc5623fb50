/*
 * Tests of the latency-versus-load models: exact recovery, noisy recovery,
 * the constraints against an independent reference (projected coordinate
 * descent on the raw points), forgetting, merging, the untrusted fallback,
 * bad input, and fits on SLATE's real Online Boutique spans.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt_testgen.h"
#include "slate_opt.h"

/* ---- independent reference: non-negative least squares on raw points ---- */

typedef struct pts {
    double x[4096], y[4096], w[4096];
    size_t n;
} pts_t;

/* Minimise sum w (y - a - b x - c x^2)^2 with a, b, c >= 0 (c = 0 for degree
 * 1) by projected coordinate descent in the scaled variable u = x / xmax.
 * Returns the minimal SSE and the coefficients in x units. */
static double ref_nnls(const pts_t *p, unsigned degree, double coef[3])
{
    double xmax = 0.0;
    for (size_t i = 0; i < p->n; i++)
        if (p->x[i] > xmax)
            xmax = p->x[i];
    if (xmax <= 0.0)
        xmax = 1.0;
    int nc = degree == 2 ? 3 : 2;
    double th[3] = {0, 0, 0};
    double r_norm[3] = {0, 0, 0};
    for (size_t i = 0; i < p->n; i++) {
        double u = p->x[i] / xmax;
        double f[3] = {1.0, u, u * u};
        for (int k = 0; k < nc; k++)
            r_norm[k] += p->w[i] * f[k] * f[k];
    }
    for (int sweep = 0; sweep < 200000; sweep++) {
        double moved = 0.0;
        for (int k = 0; k < nc; k++) {
            if (r_norm[k] <= 0.0)
                continue;
            double gk = 0.0;
            for (size_t i = 0; i < p->n; i++) {
                double u = p->x[i] / xmax;
                double f[3] = {1.0, u, u * u};
                double res = p->y[i] - th[0] - th[1] * u - th[2] * u * u;
                gk += p->w[i] * f[k] * res;
            }
            double nv = th[k] + gk / r_norm[k];
            if (nv < 0.0)
                nv = 0.0;
            moved += fabs(nv - th[k]);
            th[k] = nv;
        }
        if (moved < 1e-14)
            break;
    }
    double sse = 0.0;
    for (size_t i = 0; i < p->n; i++) {
        double u = p->x[i] / xmax;
        double res = p->y[i] - th[0] - th[1] * u - th[2] * u * u;
        sse += p->w[i] * res * res;
    }
    coef[0] = th[0];
    coef[1] = th[1] / xmax;
    coef[2] = th[2] / (xmax * xmax);
    return sse;
}

static double fit_sse(const slate_opt_fit_t *f)
{
    return f->rmse * f->rmse * f->weight;
}

static double sst_of(const pts_t *p)
{
    double sw = 0, sy = 0;
    for (size_t i = 0; i < p->n; i++) {
        sw += p->w[i];
        sy += p->w[i] * p->y[i];
    }
    double mean = sy / sw, s = 0;
    for (size_t i = 0; i < p->n; i++)
        s += p->w[i] * (p->y[i] - mean) * (p->y[i] - mean);
    return s;
}

static void fit_points(const pts_t *p, unsigned degree, slate_opt_fit_t *out)
{
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    mp.degree = degree;
    mp.min_weight = 1.0;
    slate_opt_model_t m;
    assert_int_equal(slate_opt_model_init(&m, &mp), SLATE_OK);
    for (size_t i = 0; i < p->n; i++)
        assert_int_equal(slate_opt_model_add_weighted(&m, p->x[i], p->y[i], p->w[i]), SLATE_OK);
    assert_int_equal(slate_opt_model_fit(&m, out), SLATE_OK);
}

/* The fit's SSE equals the reference minimum and its curve obeys the constraints. */
static void check_against_reference(const pts_t *p, unsigned degree)
{
    slate_opt_fit_t f;
    fit_points(p, degree, &f);
    double ref[3];
    double ref_sse = ref_nnls(p, degree, ref);
    double sst = sst_of(p);
    double scale = sst > 1e-12 ? sst : 1.0;
    assert_true(f.a >= 0.0 && f.b >= 0.0 && f.c >= 0.0);
    if (degree == 1)
        assert_true(f.c == 0.0);
    assert_true(f.trusted);
    /* Recompute the SSE of our coefficients on the raw points. */
    double sse = 0.0;
    for (size_t i = 0; i < p->n; i++) {
        double r = p->y[i] - slate_opt_fit_eval(&f, p->x[i]);
        sse += p->w[i] * r * r;
    }
    assert_true(sse <= ref_sse + 1e-7 * scale);
    assert_true(fabs(sse - ref_sse) <= 1e-6 * scale + 1e-9);
    assert_true(fabs(fit_sse(&f) - sse) <= 1e-6 * scale + 1e-9);
    /* A constant is feasible, so R^2 >= 0 and RMSE <= standard deviation. */
    assert_true(f.r2 >= -1e-9 && f.r2 <= 1.0 + 1e-12);
}

/* ---- synthetic data ---- */

static void test_exact_quadratic(void **state)
{
    (void)state;
    pts_t *p = calloc(1, sizeof *p);
    for (size_t i = 0; i < 200; i++) {
        p->x[i] = 5.0 * (double)i;
        p->y[i] = 2.0 + 0.01 * p->x[i] + 3e-5 * p->x[i] * p->x[i];
        p->w[i] = 1.0;
    }
    p->n = 200;
    slate_opt_fit_t f;
    fit_points(p, 2, &f);
    assert_true(fabs(f.a - 2.0) < 1e-9);
    assert_true(fabs(f.b - 0.01) < 1e-11);
    assert_true(fabs(f.c - 3e-5) < 1e-13);
    assert_true(f.r2 > 1.0 - 1e-9);
    assert_true(f.rmse < 1e-6);
    assert_true(f.x_max == 995.0);
    assert_int_equal(f.samples, 200);
    free(p);
}

static void test_exact_linear(void **state)
{
    (void)state;
    pts_t *p = calloc(1, sizeof *p);
    for (size_t i = 0; i < 50; i++) {
        p->x[i] = 10.0 + 37.0 * (double)i;
        p->y[i] = 4.5 + 0.125 * p->x[i];
        p->w[i] = 1.0 + (double)(i % 3);
    }
    p->n = 50;
    slate_opt_fit_t f;
    fit_points(p, 1, &f);
    assert_true(fabs(f.a - 4.5) < 1e-9);
    assert_true(fabs(f.b - 0.125) < 1e-12);
    assert_true(f.c == 0.0);
    /* A quadratic model on linear data recovers c = 0 (to rounding). */
    fit_points(p, 2, &f);
    assert_true(fabs(f.a - 4.5) < 1e-7);
    assert_true(fabs(f.b - 0.125) < 1e-9);
    assert_true(f.c < 1e-12);
    free(p);
}

static double gauss(testgen_rng_t *r)
{
    double u1 = testgen_uniform(r, 1e-12, 1.0), u2 = testgen_uniform(r, 0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void test_noisy_recovery(void **state)
{
    (void)state;
    testgen_rng_t rng = {42};
    pts_t *p = calloc(1, sizeof *p);
    for (size_t i = 0; i < 4000; i++) {
        p->x[i] = testgen_uniform(&rng, 0, 1000);
        p->y[i] = 3.0 + 0.004 * p->x[i] + 2e-5 * p->x[i] * p->x[i] + 0.5 * gauss(&rng);
        p->w[i] = 1.0;
    }
    p->n = 4000;
    slate_opt_fit_t f;
    fit_points(p, 2, &f);
    /* Standard errors here are about 0.03, 1.4e-4 and 1.4e-7. */
    assert_true(fabs(f.a - 3.0) < 0.15);
    assert_true(fabs(f.b - 0.004) < 7e-4);
    assert_true(fabs(f.c - 2e-5) < 7e-7);
    assert_true(fabs(f.rmse - 0.5) < 0.05);
    assert_true(f.r2 > 0.99);
    check_against_reference(p, 2);
    check_against_reference(p, 1);
    free(p);
}

/* Data that violate the shape: decreasing, concave, or noisy around a flat
 * line. The constrained optimum must match the reference every time. */
static void test_constraints_random(void **state)
{
    (void)state;
    testgen_rng_t rng = {7};
    pts_t *p = calloc(1, sizeof *p);
    for (int trial = 0; trial < 60; trial++) {
        size_t n = 5 + (size_t)(testgen_next(&rng) % 60);
        double a = testgen_uniform(&rng, -2, 10), b = testgen_uniform(&rng, -0.05, 0.05);
        double c = testgen_uniform(&rng, -1e-4, 1e-4), noise = testgen_uniform(&rng, 0, 2);
        for (size_t i = 0; i < n; i++) {
            p->x[i] = testgen_uniform(&rng, 0, 500);
            double y = a + b * p->x[i] + c * p->x[i] * p->x[i] + noise * gauss(&rng);
            p->y[i] = y > 0.0 ? y : 0.0;
            p->w[i] = testgen_uniform(&rng, 0.5, 3);
        }
        p->n = n;
        check_against_reference(p, 1);
        check_against_reference(p, 2);
    }
    free(p);
}

static void test_decreasing_is_flat(void **state)
{
    (void)state;
    pts_t *p = calloc(1, sizeof *p);
    for (size_t i = 0; i < 30; i++) {
        p->x[i] = (double)i * 10;
        p->y[i] = 100.0 - (double)i;
        p->w[i] = 1.0;
    }
    p->n = 30;
    slate_opt_fit_t f;
    fit_points(p, 2, &f);
    assert_true(f.b == 0.0 && f.c == 0.0);
    assert_true(fabs(f.a - 85.5) < 1e-9); /* the mean */
    assert_true(fabs(f.r2) < 1e-12);
    free(p);
}

/* Forgetting equals explicit geometric weights. */
static void test_forgetting(void **state)
{
    (void)state;
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    mp.forget = 0.9;
    mp.min_weight = 1.0;
    slate_opt_model_t m, ref;
    assert_int_equal(slate_opt_model_init(&m, &mp), SLATE_OK);
    mp.forget = 1.0;
    assert_int_equal(slate_opt_model_init(&ref, &mp), SLATE_OK);
    testgen_rng_t rng = {3};
    const int n = 80;
    double xs[80], ys[80];
    for (int i = 0; i < n; i++) {
        xs[i] = testgen_uniform(&rng, 0, 300);
        /* The regime changes half way: the slope triples. */
        ys[i] = 1.0 + (i < n / 2 ? 0.01 : 0.03) * xs[i] + 0.1 * gauss(&rng);
        assert_int_equal(slate_opt_model_add(&m, xs[i], ys[i]), SLATE_OK);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(slate_opt_model_add_weighted(&ref, xs[i], ys[i], pow(0.9, n - 1 - i)),
                         SLATE_OK);
    slate_opt_fit_t f1, f2;
    assert_int_equal(slate_opt_model_fit(&m, &f1), SLATE_OK);
    assert_int_equal(slate_opt_model_fit(&ref, &f2), SLATE_OK);
    assert_true(fabs(f1.a - f2.a) < 1e-9 && fabs(f1.b - f2.b) < 1e-12 && fabs(f1.c - f2.c) < 1e-14);
    assert_true(fabs(f1.weight - (1 - pow(0.9, n)) / 0.1) < 1e-9);
    /* The recent regime dominates: the slope is near the new one. */
    double slope_mid = (slate_opt_fit_eval(&f1, 200) - slate_opt_fit_eval(&f1, 100)) / 100;
    assert_true(slope_mid > 0.025);
}

static void test_merge(void **state)
{
    (void)state;
    slate_opt_model_t a, b, all;
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    mp.min_weight = 1;
    assert_int_equal(slate_opt_model_init(&a, &mp), SLATE_OK);
    assert_int_equal(slate_opt_model_init(&b, &mp), SLATE_OK);
    assert_int_equal(slate_opt_model_init(&all, &mp), SLATE_OK);
    testgen_rng_t rng = {11};
    for (int i = 0; i < 100; i++) {
        double x = testgen_uniform(&rng, 0, 100), y = 2 + 0.1 * x + gauss(&rng) * 0.2;
        assert_int_equal(slate_opt_model_add(i % 2 ? &a : &b, x, y), SLATE_OK);
        assert_int_equal(slate_opt_model_add(&all, x, y), SLATE_OK);
    }
    assert_int_equal(slate_opt_model_merge(&a, &b), SLATE_OK);
    slate_opt_fit_t f1, f2;
    assert_int_equal(slate_opt_model_fit(&a, &f1), SLATE_OK);
    assert_int_equal(slate_opt_model_fit(&all, &f2), SLATE_OK);
    assert_true(fabs(f1.a - f2.a) < 1e-9 && fabs(f1.b - f2.b) < 1e-11);
    assert_int_equal(f1.samples, 100);
    mp.degree = 1;
    assert_int_equal(slate_opt_model_init(&b, &mp), SLATE_OK);
    assert_int_equal(slate_opt_model_merge(&a, &b), SLATE_EMISMATCH);
}

static void test_untrusted_fallback(void **state)
{
    (void)state;
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    mp.min_weight = 10;
    mp.fallback_ms = 7.5;
    slate_opt_model_t m;
    assert_int_equal(slate_opt_model_init(&m, &mp), SLATE_OK);
    slate_opt_fit_t f;
    assert_int_equal(slate_opt_model_fit(&m, &f), SLATE_OK);
    assert_false(f.trusted);
    assert_true(f.a == 7.5 && f.b == 0 && f.c == 0);
    for (int i = 0; i < 9; i++)
        assert_int_equal(slate_opt_model_add(&m, 10.0 * i, 1.0 + i), SLATE_OK);
    assert_int_equal(slate_opt_model_fit(&m, &f), SLATE_OK);
    assert_false(f.trusted);
    assert_true(fabs(f.a - 5.0) < 1e-12 && f.b == 0 && f.c == 0);
    assert_int_equal(slate_opt_model_add(&m, 90, 10), SLATE_OK);
    assert_int_equal(slate_opt_model_fit(&m, &f), SLATE_OK);
    assert_true(f.trusted);
    assert_true(fabs(f.b - 0.1) < 1e-9);
}

static void test_bad_input(void **state)
{
    (void)state;
    slate_opt_model_t m;
    assert_int_equal(slate_opt_model_init(NULL, NULL), SLATE_EINVAL);
    slate_opt_model_params_t mp;
    slate_opt_model_params_default(&mp);
    mp.degree = 3;
    assert_int_equal(slate_opt_model_init(&m, &mp), SLATE_ERANGE);
    mp.degree = 2;
    mp.forget = 0;
    assert_int_equal(slate_opt_model_init(&m, &mp), SLATE_ERANGE);
    mp.forget = 1.5;
    assert_int_equal(slate_opt_model_init(&m, &mp), SLATE_ERANGE);
    mp.forget = 1;
    mp.fallback_ms = NAN;
    assert_int_equal(slate_opt_model_init(&m, &mp), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_init(&m, NULL), SLATE_OK);
    assert_int_equal(slate_opt_model_add(&m, 1, 2), SLATE_OK);
    slate_opt_model_t copy = m;
    assert_int_equal(slate_opt_model_add(&m, NAN, 1), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add(&m, 1, INFINITY), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add(&m, -1, 1), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add(&m, 1, -1), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add_weighted(&m, 1, 1, -1), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add_weighted(&m, 1, 1, NAN), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add(&m, SLATE_OPT_MAX_RATE * 2, 1), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add(&m, 1, SLATE_OPT_MAX_MS * 2), SLATE_ERANGE);
    assert_int_equal(slate_opt_model_add_weighted(&m, 1, 1, SLATE_OPT_MAX_WEIGHT * 2),
                     SLATE_ERANGE);
    assert_memory_equal(&m, &copy, sizeof m);
    assert_int_equal(slate_opt_model_add(NULL, 1, 1), SLATE_EINVAL);
    assert_int_equal(slate_opt_model_fit(&m, NULL), SLATE_EINVAL);
    slate_opt_fit_t f;
    assert_int_equal(slate_opt_fit_fixed(&f, -1, 0, 0), SLATE_ERANGE);
    assert_int_equal(slate_opt_fit_fixed(&f, 1, NAN, 0), SLATE_ERANGE);
    assert_int_equal(slate_opt_fit_fixed(&f, 1, 0, SLATE_OPT_MAX_COEF * 2), SLATE_ERANGE);
    assert_int_equal(slate_opt_fit_fixed(&f, 1, 2, 3), SLATE_OK);
    assert_true(slate_opt_fit_eval(&f, -5) == 1.0);
    assert_true(slate_opt_fit_eval(&f, 2) == 1 + 4 + 12);
}

/* The largest accepted values keep every sum and the fit finite. */
static void test_extremes_finite(void **state)
{
    (void)state;
    slate_opt_model_t m;
    assert_int_equal(slate_opt_model_init(&m, NULL), SLATE_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(slate_opt_model_add_weighted(&m, i % 2 ? SLATE_OPT_MAX_RATE : 0,
                                                      i % 3 ? SLATE_OPT_MAX_MS : 0,
                                                      SLATE_OPT_MAX_WEIGHT),
                         SLATE_OK);
    slate_opt_fit_t f;
    assert_int_equal(slate_opt_model_fit(&m, &f), SLATE_OK);
    assert_true(isfinite(f.a) && isfinite(f.b) && isfinite(f.c) && isfinite(f.rmse) &&
                isfinite(f.r2));
    assert_true(f.a >= 0 && f.b >= 0 && f.c >= 0);
}

/* ---- SLATE's real spans ---- */

typedef struct span_rows {
    char svc[64][64];
    pts_t *xt[64], *rt[64];
    unsigned n_svc;
    unsigned n_spans;
} span_rows_t;

static pts_t *service_pts(span_rows_t *s, const char *svc, int rt)
{
    for (unsigned i = 0; i < s->n_svc; i++)
        if (strcmp(s->svc[i], svc) == 0)
            return rt ? s->rt[i] : s->xt[i];
    assert_true(s->n_svc < 64);
    unsigned i = s->n_svc++;
    snprintf(s->svc[i], sizeof s->svc[i], "%s", svc);
    s->xt[i] = calloc(1, sizeof(pts_t));
    s->rt[i] = calloc(1, sizeof(pts_t));
    return rt ? s->rt[i] : s->xt[i];
}

/* Split a CSV line into at most max fields (no quoting in these files). */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *s = line;
    while (n < max) {
        f[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    return n;
}

/* The value of key in "k1:v1|k2:v2|". */
static int dict_value(const char *dict, const char *key, double *out)
{
    size_t kl = strlen(key);
    const char *s = dict;
    while (*s) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        if (len > kl && strncmp(s, key, kl) == 0 && s[kl] == ':') {
            *out = strtod(s + kl + 1, NULL);
            return 1;
        }
        if (!bar)
            break;
        s = bar + 1;
    }
    return 0;
}

static void load_spans(span_rows_t *s, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/slate/%s", SLATE_DATA_DIR, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *fl[16];
        int n = split(line, fl, 16);
        assert_int_equal(n, 15);
        char key[512];
        snprintf(key, sizeof key, "%s@%s@%s", fl[1], fl[2], fl[3]);
        double rps = -1.0;
        assert_true(dict_value(fl[14], key, &rps));
        double rt = strtod(fl[9], NULL), xt = strtod(fl[10], NULL);
        pts_t *px = service_pts(s, fl[1], 0), *pr = service_pts(s, fl[1], 1);
        px->x[px->n] = rps;
        px->y[px->n] = xt;
        px->w[px->n++] = 1.0;
        pr->x[pr->n] = rps;
        pr->y[pr->n] = rt;
        pr->w[pr->n++] = 1.0;
        s->n_spans++;
    }
    fclose(f);
}

static void test_real_spans(void **state)
{
    (void)state;
    span_rows_t *s = calloc(1, sizeof *s);
    load_spans(s, "onlineboutique-trace.csv");
    load_spans(s, "onlineboutique-trace-wcse.csv");
    assert_int_equal(s->n_spans, 24 + 48); /* every line of both files */
    assert_true(s->n_svc >= 9);
    int saw_frontend = 0;
    for (unsigned i = 0; i < s->n_svc; i++) {
        for (int which = 0; which < 2; which++) {
            pts_t *p = which ? s->rt[i] : s->xt[i];
            for (unsigned deg = 1; deg <= 2; deg++) {
                check_against_reference(p, deg);
                slate_opt_fit_t f;
                fit_points(p, deg, &f);
                /* Non-decreasing and convex over the observed range. */
                double prev = -1, prev_slope = -1;
                for (int k = 0; k <= 20; k++) {
                    double x = f.x_max * k / 20.0;
                    double v = slate_opt_fit_eval(&f, x);
                    assert_true(v >= prev - 1e-12);
                    if (k > 0) {
                        double slope = v - prev;
                        assert_true(slope >= prev_slope - 1e-9);
                        prev_slope = slope;
                    }
                    prev = v;
                }
                /* Residual no larger than the spread of the data. */
                double sst = sst_of(p);
                double wsum = 0;
                for (size_t k = 0; k < p->n; k++)
                    wsum += p->w[k];
                assert_true(f.rmse <= sqrt(sst / wsum) + 1e-9);
            }
        }
        /* frontend's exclusive time falls as load rises (8 ms at 108 rps on
         * /cart/checkout, 3 ms at 700 rps on /cart): the constrained fit is
         * the flat line at the mean. */
        if (strcmp(s->svc[i], "frontend") == 0) {
            saw_frontend = 1;
            slate_opt_fit_t f;
            fit_points(s->xt[i], 2, &f);
            double mean = 0;
            for (size_t k = 0; k < s->xt[i]->n; k++)
                mean += s->xt[i]->y[k];
            mean /= (double)s->xt[i]->n;
            assert_true(f.b == 0.0 && f.c == 0.0);
            assert_true(fabs(f.a - mean) < 1e-9);
        }
        free(s->xt[i]);
        free(s->rt[i]);
    }
    assert_true(saw_frontend);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_quadratic),
        cmocka_unit_test(test_exact_linear),
        cmocka_unit_test(test_noisy_recovery),
        cmocka_unit_test(test_constraints_random),
        cmocka_unit_test(test_decreasing_is_flat),
        cmocka_unit_test(test_forgetting),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_untrusted_fallback),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_real_spans),
        cmocka_unit_test(test_extremes_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
