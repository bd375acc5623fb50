/*
 * Online, constrained least-squares latency-versus-load models.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The model keeps weighted power sums, so a sample costs O(1) and two models
 * merge by addition. Fitting minimises the weighted squared residual of
 * a + b x + c x^2 subject to a, b, c >= 0. That is a convex quadratic program
 * with three bounds; its optimum is the unconstrained minimiser restricted to
 * some face (a subset of the coefficients free, the rest zero), so trying all
 * 2^3 faces and keeping the best feasible one is exact. The normal equations
 * are formed in the scaled variable u = x / x_max to keep them conditioned.
 */
#include <math.h>
#include <string.h>

#include "slate_opt.h"

void slate_opt_model_params_default(slate_opt_model_params_t *p)
{
    if (!p)
        return;
    p->degree = 2;
    p->forget = 1.0;
    p->min_weight = 20.0;
    p->fallback_ms = 1.0;
}

static int params_ok(const slate_opt_model_params_t *p)
{
    if (p->degree != 1 && p->degree != 2)
        return 0;
    if (!(p->forget > 0.0 && p->forget <= 1.0))
        return 0;
    if (!(p->min_weight >= 0.0) || !isfinite(p->min_weight))
        return 0;
    if (!(p->fallback_ms >= 0.0) || !(p->fallback_ms <= SLATE_OPT_MAX_MS))
        return 0;
    if (!(p->min_weight <= SLATE_OPT_MAX_WEIGHT))
        return 0;
    return 1;
}

slate_status slate_opt_model_init(slate_opt_model_t *m, const slate_opt_model_params_t *params)
{
    if (!m)
        return SLATE_EINVAL;
    slate_opt_model_params_t p;
    if (params)
        p = *params;
    else
        slate_opt_model_params_default(&p);
    if (!params_ok(&p))
        return SLATE_ERANGE;
    memset(m, 0, sizeof *m);
    m->params = p;
    return SLATE_OK;
}

slate_status slate_opt_model_add_weighted(slate_opt_model_t *m, double load_rps, double latency_ms,
                                          double weight)
{
    if (!m)
        return SLATE_EINVAL;
    if (!(load_rps >= 0.0 && load_rps <= SLATE_OPT_MAX_RATE) ||
        !(latency_ms >= 0.0 && latency_ms <= SLATE_OPT_MAX_MS) ||
        !(weight >= 0.0 && weight <= SLATE_OPT_MAX_WEIGHT))
        return SLATE_ERANGE;
    double f = m->params.forget;
    if (f < 1.0) {
        for (int k = 0; k < 5; k++)
            m->s[k] *= f;
        for (int k = 0; k < 3; k++)
            m->t[k] *= f;
        m->syy *= f;
    }
    if (weight == 0.0)
        return SLATE_OK;
    double xk = weight;
    for (int k = 0; k < 5; k++) {
        m->s[k] += xk;
        if (k < 3)
            m->t[k] += xk * latency_ms;
        xk *= load_rps;
    }
    m->syy += weight * latency_ms * latency_ms;
    if (load_rps > m->x_max)
        m->x_max = load_rps;
    m->count++;
    return SLATE_OK;
}

slate_status slate_opt_model_add(slate_opt_model_t *m, double load_rps, double latency_ms)
{
    return slate_opt_model_add_weighted(m, load_rps, latency_ms, 1.0);
}

slate_status slate_opt_model_merge(slate_opt_model_t *dst, const slate_opt_model_t *src)
{
    if (!dst || !src)
        return SLATE_EINVAL;
    if (dst->params.degree != src->params.degree)
        return SLATE_EMISMATCH;
    for (int k = 0; k < 5; k++)
        dst->s[k] += src->s[k];
    for (int k = 0; k < 3; k++)
        dst->t[k] += src->t[k];
    dst->syy += src->syy;
    if (src->x_max > dst->x_max)
        dst->x_max = src->x_max;
    dst->count += src->count;
    return SLATE_OK;
}

/*
 * Solve the n x n symmetric system a * x = g (n <= 3) by elimination without
 * pivoting (the matrix is a Gram matrix, so positive semi-definite). Returns 0
 * when a pivot is negligible against its original diagonal, that is, when a
 * coefficient is (nearly) a combination of the others and the face is
 * degenerate.
 */
static int solve_small(int n, double a[3][3], double g[3], double x[3])
{
    double diag[3];
    for (int i = 0; i < n; i++)
        diag[i] = a[i][i];
    for (int k = 0; k < n; k++) {
        if (!(a[k][k] > 1e-10 * diag[k]) || !(diag[k] > 0.0))
            return 0;
        for (int i = k + 1; i < n; i++) {
            double r = a[i][k] / a[k][k];
            for (int j = k; j < n; j++)
                a[i][j] -= r * a[k][j];
            g[i] -= r * g[k];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double v = g[i];
        for (int j = i + 1; j < n; j++)
            v -= a[i][j] * x[j];
        x[i] = v / a[i][i];
        if (!isfinite(x[i]))
            return 0;
    }
    return 1;
}

slate_status slate_opt_model_fit(const slate_opt_model_t *m, slate_opt_fit_t *out)
{
    if (!m || !out)
        return SLATE_EINVAL;
    memset(out, 0, sizeof *out);
    out->degree = m->params.degree;
    out->x_max = m->x_max;
    out->weight = m->s[0];
    out->samples = m->count;

    double w = m->s[0];
    if (!(w > 0.0)) {
        out->a = m->params.fallback_ms;
        return SLATE_OK;
    }
    double mean = m->t[0] / w;
    double sst = m->syy - m->t[0] * mean;
    if (sst < 0.0)
        sst = 0.0;

    if (w < m->params.min_weight) {
        /* Untrusted: the flat curve at the mean. */
        out->a = mean > 0.0 ? mean : 0.0;
        out->rmse = sqrt(sst / w);
        return SLATE_OK;
    }

    /* Scaled moments: u = x / sc. */
    /* Loads below 1e-6 rps (even subnormal ones) would underflow sc^4. */
    double sc = m->x_max > 1e-6 ? m->x_max : 1.0;
    double mom[5], g[3];
    double p = 1.0;
    for (int k = 0; k < 5; k++) {
        mom[k] = m->s[k] / p;
        if (k < 3)
            g[k] = m->t[k] / p;
        p *= sc;
    }
    int nc = m->params.degree == 2 ? 3 : 2;

    double best[3] = {0.0, 0.0, 0.0};
    double best_sse = m->syy; /* the all-zero face */
    for (unsigned mask = 1; mask < (1u << nc); mask++) {
        int idx[3], n = 0;
        for (int i = 0; i < nc; i++)
            if (mask & (1u << i))
                idx[n++] = i;
        double a[3][3], rhs[3], x[3];
        for (int i = 0; i < n; i++) {
            rhs[i] = g[idx[i]];
            for (int j = 0; j < n; j++)
                a[i][j] = mom[idx[i] + idx[j]];
        }
        if (!solve_small(n, a, rhs, x))
            continue;
        double th[3] = {0.0, 0.0, 0.0};
        int feasible = 1;
        for (int i = 0; i < n; i++) {
            if (x[i] < 0.0)
                feasible = 0;
            th[idx[i]] = x[i];
        }
        if (!feasible)
            continue;
        /* SSE = syy - 2 th.g + th' M th */
        double sse = m->syy;
        for (int i = 0; i < nc; i++) {
            sse -= 2.0 * th[i] * g[i];
            for (int j = 0; j < nc; j++)
                sse += th[i] * th[j] * mom[i + j];
        }
        if (sse < best_sse) {
            best_sse = sse;
            memcpy(best, th, sizeof best);
        }
    }
    if (best_sse < 0.0)
        best_sse = 0.0;
    out->a = best[0];
    out->b = best[1] / sc;
    out->c = nc == 3 ? best[2] / (sc * sc) : 0.0;
    out->rmse = sqrt(best_sse / w);
    /* A constant is feasible, so R^2 >= 0 in exact arithmetic; clamp rounding. */
    out->r2 = sst > 0.0 ? 1.0 - best_sse / sst : 0.0;
    if (out->r2 < 0.0)
        out->r2 = 0.0;
    if (out->r2 > 1.0)
        out->r2 = 1.0;
    out->trusted = 1;
    return SLATE_OK;
}

double slate_opt_fit_eval(const slate_opt_fit_t *fit, double load_rps)
{
    if (!fit)
        return 0.0;
    double x = load_rps > 0.0 ? load_rps : 0.0;
    return fit->a + x * (fit->b + x * fit->c);
}

slate_status slate_opt_fit_fixed(slate_opt_fit_t *out, double a, double b, double c)
{
    if (!out)
        return SLATE_EINVAL;
    if (!(a >= 0.0 && a <= SLATE_OPT_MAX_MS) || !(b >= 0.0 && b <= SLATE_OPT_MAX_COEF) ||
        !(c >= 0.0 && c <= SLATE_OPT_MAX_COEF))
        return SLATE_ERANGE;
    memset(out, 0, sizeof *out);
    out->a = a;
    out->b = b;
    out->c = c;
    out->degree = c > 0.0 ? 2 : 1;
    out->trusted = 1;
    return SLATE_OK;
}
