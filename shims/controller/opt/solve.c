/*
 * The routing LP: built once in column-major form, solved by COIN-OR CLP
 * through its C interface.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <coin/Clp_C_Interface.h>

#include "opt_internal.h"

void opt_lp_free(opt_lp_t *lp)
{
    if (!lp)
        return;
    free(lp->start);
    free(lp->index);
    free(lp->value);
    free(lp->collb);
    free(lp->colub);
    free(lp->obj);
    free(lp->rowlb);
    free(lp->rowub);
    free(lp->kind);
    free(lp->ca);
    free(lp->cb);
    free(lp->cc);
    free(lp->rkind);
    free(lp->ra);
    free(lp->rb);
    memset(lp, 0, sizeof *lp);
}

static int deployed(const slate_opt_problem_t *p, unsigned ep, unsigned r)
{
    return p->deployed[(size_t)p->ep_svc[ep] * p->R + r];
}

/* Slopes closer than this (relative) are one: the PWL function moves by at
 * most this fraction, far below CLP's tolerances. */
#define SAME_SLOPE 1e-12

static int same_slope(double a, double b)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= SAME_SLOPE * m;
}

/*
 * The PWL columns of (ep, r): their upper bounds, costs (slopes) and first
 * segment index; returns how many. The full LP has `segments` columns (the
 * ones past the curve's used segments fixed at 0); the reduced LP merges
 * consecutive segments of equal slope into one column whose bound is their
 * summed width (unbounded for the last), which leaves the PWL function as
 * it was.
 */
static unsigned pwl_columns(const slate_opt_problem_t *p, const opt_prep_t *pp, unsigned ep,
                            unsigned r, double *ub, double *obj, unsigned *seg, double *width_out)
{
    double width, slopes[SLATE_OPT_MAX_SEGMENTS];
    unsigned k = opt_pwl(p, pp, ep, r, &width, slopes);
    *width_out = k > 1 ? width : 0.0; /* a bound of the full LP only with two segments or more */
    if (p->cfg.full_lp) {
        for (unsigned j = 0; j < p->cfg.segments; j++) {
            ub[j] = j + 1 < k ? width : (j + 1 == k ? DBL_MAX : 0.0);
            obj[j] = j < k ? slopes[j] : 0.0;
            seg[j] = j;
        }
        return p->cfg.segments;
    }
    unsigned n = 0;
    for (unsigned j = 0; j < k; j++) {
        double top = j + 1 < k ? width : DBL_MAX;
        if (n > 0 && same_slope(obj[n - 1], slopes[j])) {
            ub[n - 1] = top == DBL_MAX ? DBL_MAX : ub[n - 1] + width;
            continue;
        }
        ub[n] = top;
        obj[n] = slopes[j];
        seg[n] = j;
        n++;
    }
    return n;
}

slate_status opt_lp_build(const slate_opt_problem_t *p, const opt_prep_t *pp, opt_lp_t *lp)
{
    memset(lp, 0, sizeof *lp);
    size_t R = p->R, E = p->n_ep, S = p->n_svc, M = p->n_edge;
    int *row_cons = NULL, *row_load = NULL, *row_cap = NULL;
    double *lin = NULL;           /* slope of a substituted (linear) load, per (ep, region) */
    unsigned char *called = NULL; /* per endpoint: the child of some edge */
    slate_status st = SLATE_ENOSPC;

    row_cons = malloc((M ? M : 1) * R * sizeof *row_cons);
    row_load = malloc((E ? E : 1) * R * sizeof *row_load);
    lin = malloc((E ? E : 1) * R * sizeof *lin);
    row_cap = malloc((S ? S : 1) * R * sizeof *row_cap);
    called = calloc(E ? E : 1, 1);
    if (!row_cons || !row_load || !row_cap || !lin || !called)
        goto fail;
    for (size_t e = 0; e < M; e++)
        called[p->edges[e].child] = 1;

    /* Count rows and columns first, so every array is allocated once. */
    double ub[SLATE_OPT_MAX_SEGMENTS], slopes[SLATE_OPT_MAX_SEGMENTS];
    unsigned seg[SLATE_OPT_MAX_SEGMENTS];
    size_t nrow = 0, ncol = 0, nnz = 0;
    for (size_t e = 0; e < M; e++) {
        const opt_edge_t *x = &p->edges[e];
        size_t ndst = 0;
        for (unsigned d = 0; d < R; d++)
            ndst += deployed(p, x->child, d);
        unsigned cn = pp->edge_cnode[e];
        size_t per = 2 + (pp->out_start[cn + 1] - pp->out_start[cn]);
        for (unsigned s = 0; s < R; s++) {
            if (deployed(p, x->parent, s)) {
                row_cons[e * R + s] = (int)nrow++;
                ncol += ndst;
                nnz += ndst * per;
            } else {
                row_cons[e * R + s] = -1;
            }
        }
    }
    for (size_t ep = 0; ep < E; ep++)
        for (unsigned r = 0; r < R; r++) {
            if (pp->ep_live[ep] && deployed(p, (unsigned)ep, r)) {
                double width;
                unsigned n = pwl_columns(p, pp, (unsigned)ep, r, ub, slopes, seg, &width);
                /* a segment wider than the bound LPs are refused past,
                 * merged or not (ratios compounding down a deep tree) */
                if (!(width <= 1e15)) {
                    st = SLATE_ERANGE;
                    goto fail;
                }
                if (!p->cfg.full_lp && n == 1 && ub[0] == DBL_MAX) {
                    /* Linear cost: the load X = ingress + inflows is
                     * substituted out (no row, no column); each inflow
                     * pays the slope and counts toward the capacity. */
                    row_load[ep * R + r] = -2;
                    lin[ep * R + r] = slopes[0];
                    lp->obj_const += slopes[0] * pp->ep_const[ep * R + r];
                    continue;
                }
                if (!p->cfg.full_lp && !p->cfg.local_start && !called[ep]) {
                    /* No call reaches it: its load is its ingress, a
                     * constant, and so is its cost (out like a linear one). */
                    double w, sl[SLATE_OPT_MAX_SEGMENTS];
                    unsigned k = opt_pwl(p, pp, (unsigned)ep, r, &w, sl);
                    row_load[ep * R + r] = -2;
                    lin[ep * R + r] = 0.0;
                    lp->obj_const += opt_pwl_value(k, w, sl, pp->ep_const[ep * R + r]);
                    continue;
                }
                row_load[ep * R + r] = (int)nrow++;
                ncol += n;
                nnz += 2 * (size_t)n;
            } else {
                row_load[ep * R + r] = -1;
            }
        }
    for (size_t i = 0; i < S * R; i++)
        row_cap[i] = -1;
    for (size_t ep = 0; ep < E; ep++) {
        if (!pp->ep_live[ep])
            continue;
        size_t svc = p->ep_svc[ep];
        for (unsigned r = 0; r < R; r++)
            if (p->deployed[svc * R + r] && isfinite(p->capacity[svc * R + r]) &&
                row_cap[svc * R + r] < 0)
                row_cap[svc * R + r] = (int)nrow++;
    }
    if (ncol > SLATE_OPT_MAX_COLUMNS || nnz >= (size_t)INT_MAX || nrow >= (size_t)INT_MAX) {
        st = SLATE_ETOOMANY;
        goto fail;
    }

    lp->start = malloc((ncol + 1) * sizeof *lp->start);
    lp->index = malloc((nnz ? nnz : 1) * sizeof *lp->index);
    lp->value = malloc((nnz ? nnz : 1) * sizeof *lp->value);
    lp->collb = malloc((ncol ? ncol : 1) * sizeof *lp->collb);
    lp->colub = malloc((ncol ? ncol : 1) * sizeof *lp->colub);
    lp->obj = malloc((ncol ? ncol : 1) * sizeof *lp->obj);
    lp->kind = malloc(ncol ? ncol : 1);
    lp->ca = malloc((ncol ? ncol : 1) * sizeof *lp->ca);
    lp->cb = malloc((ncol ? ncol : 1) * sizeof *lp->cb);
    lp->cc = malloc((ncol ? ncol : 1) * sizeof *lp->cc);
    lp->rowlb = malloc((nrow ? nrow : 1) * sizeof *lp->rowlb);
    lp->rowub = malloc((nrow ? nrow : 1) * sizeof *lp->rowub);
    lp->rkind = malloc(nrow ? nrow : 1);
    lp->ra = malloc((nrow ? nrow : 1) * sizeof *lp->ra);
    lp->rb = malloc((nrow ? nrow : 1) * sizeof *lp->rb);
    if (!lp->start || !lp->index || !lp->value || !lp->collb || !lp->colub || !lp->obj ||
        !lp->kind || !lp->ca || !lp->cb || !lp->cc || !lp->rowlb || !lp->rowub || !lp->rkind ||
        !lp->ra || !lp->rb)
        goto fail;

    /* Rows. */
    for (size_t e = 0; e < M; e++)
        for (unsigned s = 0; s < R; s++) {
            int i = row_cons[e * R + s];
            if (i < 0)
                continue;
            double rhs = p->edges[e].ratio * pp->node_ingress[(size_t)pp->edge_pnode[e] * R + s];
            lp->rowlb[i] = lp->rowub[i] = rhs;
            lp->rkind[i] = 0;
            lp->ra[i] = (unsigned)e;
            lp->rb[i] = s;
        }
    for (size_t ep = 0; ep < E; ep++)
        for (unsigned r = 0; r < R; r++) {
            int i = row_load[ep * R + r];
            if (i < 0)
                continue;
            lp->rowlb[i] = lp->rowub[i] = pp->ep_const[ep * R + r];
            lp->rkind[i] = 1;
            lp->ra[i] = (unsigned)ep;
            lp->rb[i] = r;
        }
    for (size_t svc = 0; svc < S; svc++)
        for (unsigned r = 0; r < R; r++) {
            int i = row_cap[svc * R + r];
            if (i < 0)
                continue;
            lp->rowlb[i] = -DBL_MAX;
            lp->rowub[i] = p->capacity[svc * R + r];
            for (size_t ep = 0; ep < E; ep++) /* substituted loads' ingress */
                if (p->ep_svc[ep] == svc && row_load[ep * R + r] == -2)
                    lp->rowub[i] -= pp->ep_const[ep * R + r];
            lp->rkind[i] = 2;
            lp->ra[i] = (unsigned)svc;
            lp->rb[i] = r;
        }

    /* Columns: flows, then segments. */
    size_t c = 0, z = 0;
    for (size_t e = 0; e < M; e++) {
        const opt_edge_t *x = &p->edges[e];
        unsigned cn = pp->edge_cnode[e];
        for (unsigned s = 0; s < R; s++) {
            int ri = row_cons[e * R + s];
            if (ri < 0)
                continue;
            for (unsigned d = 0; d < R; d++) {
                if (!deployed(p, x->child, d))
                    continue;
                lp->start[c] = z;
                lp->index[z] = ri;
                lp->value[z++] = 1.0;
                for (unsigned k = pp->out_start[cn]; k < pp->out_start[cn + 1]; k++) {
                    unsigned e2 = pp->out_list[k];
                    lp->index[z] = row_cons[(size_t)e2 * R + d];
                    lp->value[z++] = -p->edges[e2].ratio;
                }
                int rl = row_load[(size_t)x->child * R + d];
                int rcap = row_cap[(size_t)p->ep_svc[x->child] * R + d];
                double extra = 0.0;
                if (rl >= 0) {
                    lp->index[z] = rl;
                    lp->value[z++] = -1.0;
                } else if (rl == -2) {
                    extra = lin[(size_t)x->child * R + d];
                    if (rcap >= 0) {
                        lp->index[z] = rcap;
                        lp->value[z++] = 1.0;
                    }
                }
                lp->collb[c] = 0.0;
                lp->colub[c] = DBL_MAX;
                lp->obj[c] = p->rtt[s * R + d] +
                             p->cfg.egress_weight * x->bytes * p->price[s * R + d] + extra;
                lp->kind[c] = 0;
                lp->ca[c] = (unsigned)e;
                lp->cb[c] = s;
                lp->cc[c] = d;
                c++;
            }
        }
    }
    for (size_t ep = 0; ep < E; ep++)
        for (unsigned r = 0; r < R; r++) {
            int ri = row_load[ep * R + r];
            if (ri < 0)
                continue;
            int rc = row_cap[(size_t)p->ep_svc[ep] * R + r];
            double width;
            unsigned n = pwl_columns(p, pp, (unsigned)ep, r, ub, slopes, seg, &width);
            for (unsigned j = 0; j < n; j++) {
                lp->start[c] = z;
                lp->index[z] = ri;
                lp->value[z++] = 1.0;
                if (rc >= 0) {
                    lp->index[z] = rc;
                    lp->value[z++] = 1.0;
                }
                lp->collb[c] = 0.0;
                lp->colub[c] = ub[j];
                lp->obj[c] = slopes[j];
                lp->kind[c] = 1;
                lp->ca[c] = (unsigned)ep;
                lp->cb[c] = r;
                lp->cc[c] = seg[j];
                c++;
            }
        }
    lp->start[c] = z;
    /* In-range inputs can still compound (call ratios down a deep tree). */
    for (size_t j = 0; j < c; j++)
        if (!(fabs(lp->obj[j]) <= 1e15) || !(lp->colub[j] <= 1e15 || lp->colub[j] == DBL_MAX)) {
            st = SLATE_ERANGE;
            goto fail;
        }
    for (size_t k = 0; k < z; k++)
        if (!(fabs(lp->value[k]) <= 1e15)) {
            st = SLATE_ERANGE;
            goto fail;
        }
    for (size_t i = 0; i < nrow; i++)
        if (!(fabs(lp->rowub[i]) <= 1e15)) {
            st = SLATE_ERANGE;
            goto fail;
        }
    lp->ncol = (unsigned)c;
    lp->nrow = (unsigned)nrow;
    lp->nnz = z;
    free(row_cons);
    free(row_load);
    free(row_cap);
    free(lin);
    free(called);
    return SLATE_OK;
fail:
    free(row_cons);
    free(row_load);
    free(row_cap);
    free(lin);
    free(called);
    opt_lp_free(lp);
    return st;
}

/* FNV-1a over what each column and row stands for. */
static uint64_t lp_shape(const opt_lp_t *lp)
{
    uint64_t h = 0xcbf29ce484222325ull;
#define MIX(v)                                                                                     \
    do {                                                                                           \
        h ^= (uint64_t)(v);                                                                        \
        h *= 0x100000001b3ull;                                                                     \
    } while (0)
    MIX(lp->ncol);
    MIX(lp->nrow);
    for (size_t j = 0; j < lp->ncol; j++) {
        MIX(lp->kind[j]);
        MIX(lp->ca[j]);
        MIX(lp->cb[j]);
        MIX(lp->cc[j]);
    }
    for (size_t i = 0; i < lp->nrow; i++) {
        MIX(lp->rkind[i]);
        MIX(lp->ra[i]);
        MIX(lp->rb[i]);
    }
#undef MIX
    return h;
}

slate_status slate_opt_solve(const slate_opt_problem_t *p, slate_opt_result_t **out)
{
    return slate_opt_solve_warm(p, NULL, out);
}

/*
 * The reduced solve: column generation over the flow columns.
 *
 * Most calls are served in their own region or a near one, so CLP starts
 * from a restricted LP that holds every PWL column but, per (edge, source
 * region), only the flow columns to the few cheapest destinations: warm,
 * NEAR_DST by RTT plus egress (plus a substituted load's slope) besides
 * the previous optimum's; cold, NEAR_DST_COLD by their cost to go at a
 * greedy routing (greedy_routing, start_costs), whose basis is the start.
 * After each solve every left-out flow column is priced with
 * the row duals (reduced cost c_j - y'A_j); those that would lower the
 * objective join the LP and the primal simplex continues from the basis it
 * has. When none prices out, the restricted optimum is an optimum of the
 * full LP (every column's reduced cost is non-negative), so the method is
 * exact, not a heuristic. A restricted LP that is infeasible (capacities
 * that only far regions can relieve) gets every column and is solved again.
 */
#define NEAR_DST 4
/* A cold start's restricted LP: per (edge, source) the destination with
 * the least cost to go at the greedy routing (start_costs), and the
 * greedy's own. The simplex's work per iteration grows with the columns it
 * holds, and what is left out is priced in: at 1,000 x 16 one destination
 * took less CPU than 2, 3 or 4 with flat and with curved models. */
#define NEAR_DST_COLD 1
/* Rounds that start cold after a warm start gave up (warm_max_iterations). */
#define COLD_AFTER_GIVING_UP 3
/* After this many pricing rounds every remaining column joins at once. */
#define MAX_PRICING_ROUNDS 40

typedef struct clp_cols {
    CoinBigIndex *start;
    int *index;
    double *value, *lb, *ub, *obj;
} clp_cols_t;

static void clp_cols_free(clp_cols_t *cc)
{
    free(cc->start);
    free(cc->index);
    free(cc->value);
    free(cc->lb);
    free(cc->ub);
    free(cc->obj);
}

/* The columns `list[0..n)` of the full LP in CLP's arrays; 0 or -1 without memory. */
static int clp_cols_make(const opt_lp_t *lp, const unsigned *list, size_t n, clp_cols_t *cc)
{
    size_t nz = 0;
    for (size_t k = 0; k < n; k++)
        nz += lp->start[list[k] + 1] - lp->start[list[k]];
    cc->start = malloc((n + 1) * sizeof *cc->start);
    cc->index = malloc((nz ? nz : 1) * sizeof *cc->index);
    cc->value = malloc((nz ? nz : 1) * sizeof *cc->value);
    cc->lb = malloc((n ? n : 1) * sizeof *cc->lb);
    cc->ub = malloc((n ? n : 1) * sizeof *cc->ub);
    cc->obj = malloc((n ? n : 1) * sizeof *cc->obj);
    if (!cc->start || !cc->index || !cc->value || !cc->lb || !cc->ub || !cc->obj)
        return -1;
    size_t z = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned j = list[k];
        cc->start[k] = (CoinBigIndex)z;
        for (size_t q = lp->start[j]; q < lp->start[j + 1]; q++) {
            cc->index[z] = lp->index[q];
            cc->value[z++] = lp->value[q];
        }
        cc->lb[k] = lp->collb[j];
        cc->ub[k] = lp->colub[j];
        cc->obj[k] = lp->obj[j];
    }
    cc->start[n] = (CoinBigIndex)z;
    return 0;
}

/* The rank of every column in its (edge, source) group of flow columns by
 * cost[] (ties by index), 0 for PWL columns. */
static void column_ranks(const opt_lp_t *lp, const double *cost, unsigned char *rank)
{
    size_t j = 0;
    while (j < lp->ncol) {
        if (lp->kind[j] != 0) {
            rank[j++] = 0;
            continue;
        }
        size_t end = j + 1;
        while (end < lp->ncol && lp->kind[end] == 0 && lp->ca[end] == lp->ca[j] &&
               lp->cb[end] == lp->cb[j])
            end++;
        for (size_t a = j; a < end; a++) {
            unsigned cheaper = 0;
            for (size_t b = j; b < end; b++)
                cheaper += cost[b] < cost[a] || (cost[b] == cost[a] && b < a);
            rank[a] = (unsigned char)cheaper;
        }
        j = end;
    }
}

/* Left-out columns whose reduced cost under the row duals y is below -tol,
 * into list; returns how many. */
static size_t price_columns(const opt_lp_t *lp, const unsigned char *active, const double *y,
                            double tol, unsigned *list)
{
    size_t n = 0;
    for (size_t j = 0; j < lp->ncol; j++) {
        if (active[j])
            continue;
        double d = lp->obj[j];
        for (size_t q = lp->start[j]; q < lp->start[j + 1]; q++)
            d -= y[lp->index[q]] * lp->value[q];
        if (d < -tol)
            list[n++] = (unsigned)j;
    }
    return n;
}

/* Adds columns list[0..n) to the model, non-basic at their lower bound. */
static int add_columns(Clp_Simplex *model, const opt_lp_t *lp, unsigned char *active,
                       unsigned *clp_col, size_t *n_clp, const unsigned *list, size_t n)
{
    clp_cols_t cc = {0};
    if (clp_cols_make(lp, list, n, &cc) != 0) {
        clp_cols_free(&cc);
        return -1;
    }
    Clp_addColumns(model, (int)n, cc.lb, cc.ub, cc.obj, cc.start, cc.index, cc.value);
    clp_cols_free(&cc);
    for (size_t k = 0; k < n; k++) {
        active[list[k]] = 1;
        Clp_setColumnStatus(model, (int)(*n_clp + k), 3 /* at lower bound */);
        clp_col[*n_clp + k] = list[k];
    }
    *n_clp += n;
    return 0;
}

/* Every column not yet in the model whose rank is below `limit`; how many
 * joined, or -1 without memory. */
static long add_ranked(Clp_Simplex *model, const opt_lp_t *lp, const unsigned char *rank,
                       unsigned limit, unsigned char *active, unsigned *clp_col, size_t *n_clp,
                       unsigned *list)
{
    size_t n = 0;
    for (size_t j = 0; j < lp->ncol; j++)
        if (!active[j] && rank[j] < limit)
            list[n++] = (unsigned)j;
    if (n && add_columns(model, lp, active, clp_col, n_clp, list, n) != 0)
        return -1;
    return (long)n;
}

/* CLP's verdict: 0 optimal, 1 infeasible, -1 anything else. */
static int clp_outcome(Clp_Simplex *model)
{
    int status = Clp_status(model);
    if (status == 1 || Clp_isProvenPrimalInfeasible(model))
        return 1;
    return status == 0 && Clp_isProvenOptimal(model) ? 0 : -1;
}

/* What a column or row stands for, as one number that grows with the
 * full LP's order (flows by edge, source, destination, then segments by
 * endpoint, region, first segment; conservation, load, capacity rows), so
 * two LPs' bases line up by a merge. */
static uint64_t col_key(const opt_lp_t *lp, size_t j)
{
    return (uint64_t)lp->kind[j] << 62 | (uint64_t)lp->ca[j] << 32 | (uint64_t)lp->cb[j] << 16 |
           lp->cc[j];
}

static uint64_t row_key(const opt_lp_t *lp, size_t i)
{
    return (uint64_t)lp->rkind[i] << 62 | (uint64_t)lp->ra[i] << 32 | lp->rb[i];
}

/*
 * A start for this LP from a previous reduced optimum, matched by what the
 * columns and rows stand for (the LPs of two windows differ where a curve
 * turned linear or stopped being so, or the call graph moved): a matched
 * column keeps its status and stays in the restricted LP, a new one is
 * non-basic at 0 and joins when its rank is below `limit`; a matched row
 * keeps its status, a new one's slack is basic. CLP repairs a basis whose
 * count came out wrong. status[] gets the full-LP columns' statuses, then
 * the rows'. The previous columns are stored in full-LP order, which is
 * their keys' order; its rows sorted by key.
 */
static void warm_map(const opt_lp_t *lp, const slate_opt_result_t *warm, const unsigned char *rank,
                     unsigned limit, unsigned char *active, unsigned char *status)
{
    const uint64_t *wk = warm->keys;
    size_t q = 0, nq = warm->basis_cols;
    for (size_t j = 0; j < lp->ncol; j++) {
        uint64_t k = col_key(lp, j);
        while (q < nq && wk[q] < k)
            q++;
        if (q < nq && wk[q] == k) {
            active[j] = 1;
            status[j] = warm->basis[q];
        } else {
            active[j] = rank[j] < limit;
            status[j] = 3; /* at lower bound */
        }
    }
    /* rows: the previous ones are stored sorted by key (row_sorted); the
     * new ones are looked up by binary search */
    const uint64_t *rk = wk + nq;
    const unsigned char *rs = warm->basis + nq;
    size_t nr = warm->basis_rows;
    for (size_t i = 0; i < lp->nrow; i++) {
        uint64_t k = row_key(lp, i);
        size_t lo = 0, hi = nr;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (rk[mid] < k)
                lo = mid + 1;
            else
                hi = mid;
        }
        status[lp->ncol + i] = lo < nr && rk[lo] == k ? rs[lo] : 1 /* basic */;
    }
}

typedef struct keyed {
    uint64_t key;
    unsigned char status;
} keyed_t;

static int keyed_cmp(const void *a, const void *b)
{
    uint64_t x = ((const keyed_t *)a)->key, y = ((const keyed_t *)b)->key;
    return x < y ? -1 : x > y;
}

/* The rows' keys and statuses, sorted by key, into keys[] and status[];
 * -1 without memory. (Capacity rows are numbered by endpoint, not by
 * service, so the LP's row order is not the keys' order.) */
static int row_sorted(const opt_lp_t *lp, const unsigned char *basis_rows, uint64_t *keys,
                      unsigned char *status)
{
    keyed_t *t = malloc(((size_t)lp->nrow ? lp->nrow : 1) * sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < lp->nrow; i++) {
        t[i].key = row_key(lp, i);
        t[i].status = basis_rows[i];
    }
    qsort(t, lp->nrow, sizeof *t, keyed_cmp);
    for (size_t i = 0; i < lp->nrow; i++) {
        keys[i] = t[i].key;
        status[i] = t[i].status;
    }
    free(t);
    return 0;
}

/*
 * The routing a cold solve starts from, greedy: per (edge, source region),
 * edges in the order of the call graph (so a parent's load in a region is
 * known when its calls are placed), the whole flow goes to the one
 * destination where it costs least given what the flows placed before it
 * load there: RTT and egress, the rise of the child's PWL function from its
 * load so far (its slope there when the flow is 0), and, with y (costs to
 * go per (edge, source), see start_costs), what the child's own calls cost
 * from there; among the destinations whose capacity it fits when there are
 * any. With constant latencies and y that is close to the optimum; with
 * curves a loaded region's steeper segments send later flows elsewhere,
 * much as the optimum does. dst[e * R + s] gets the destination (OPT_NONE
 * where the parent is not deployed), load[] the resulting (endpoint,
 * region) loads. Returns 0, or -1 without memory.
 */
static int greedy_routing(const slate_opt_problem_t *p, const opt_prep_t *pp, const double *y,
                          unsigned *dst, double *load)
{
    size_t R = p->R, E = p->n_ep;
    double *node = malloc(((size_t)pp->n_node ? pp->n_node : 1) * R * sizeof *node);
    double *svc = calloc((p->n_svc ? p->n_svc : 1) * R, sizeof *svc);
    double *width = malloc((E ? E : 1) * R * sizeof *width);
    double *slopes = malloc((E ? E : 1) * R * SLATE_OPT_MAX_SEGMENTS * sizeof *slopes);
    unsigned char *nseg = calloc((E ? E : 1) * R, 1);
    if (!node || !svc || !width || !slopes || !nseg) {
        free(node);
        free(svc);
        free(width);
        free(slopes);
        free(nseg);
        return -1;
    }
    memcpy(node, pp->node_ingress, (size_t)pp->n_node * R * sizeof *node);
    memcpy(load, pp->ep_const, E * R * sizeof *load);
    for (size_t ep = 0; ep < E; ep++)
        for (size_t r = 0; r < R; r++) {
            svc[(size_t)p->ep_svc[ep] * R + r] += load[ep * R + r];
            if (pp->ep_live[ep] && p->deployed[(size_t)p->ep_svc[ep] * R + r])
                nseg[ep * R + r] =
                    (unsigned char)opt_pwl(p, pp, (unsigned)ep, (unsigned)r, &width[ep * R + r],
                                           slopes + (ep * R + r) * SLATE_OPT_MAX_SEGMENTS);
        }
    for (unsigned j = 0; j < p->n_edge; j++) {
        unsigned e = pp->edge_order[j];
        const opt_edge_t *x = &p->edges[e];
        size_t cs = p->ep_svc[x->child];
        for (size_t s = 0; s < R; s++) {
            dst[e * R + s] = OPT_NONE;
            if (!p->deployed[(size_t)p->ep_svc[x->parent] * R + s])
                continue;
            double f = x->ratio * node[(size_t)pp->edge_pnode[e] * R + s];
            unsigned best = OPT_NONE;
            double best_cost = INFINITY;
            int best_fits = 0;
            for (size_t d = 0; d < R; d++) {
                if (!p->deployed[cs * R + d])
                    continue;
                size_t c = (size_t)x->child * R + d;
                const double *sl = slopes + c * SLATE_OPT_MAX_SEGMENTS;
                double unit =
                    p->rtt[s * R + d] + p->cfg.egress_weight * x->bytes * p->price[s * R + d];
                if (y) {
                    unsigned cn = pp->edge_cnode[e];
                    for (unsigned k = pp->out_start[cn]; k < pp->out_start[cn + 1]; k++)
                        unit +=
                            p->edges[pp->out_list[k]].ratio * y[(size_t)pp->out_list[k] * R + d];
                }
                double cost;
                if (nseg[c] == 0) {
                    cost = f > 0.0 ? f * unit : unit; /* no curve (not reached) */
                } else if (f > 0.0) {
                    cost = f * unit + opt_pwl_value(nseg[c], width[c], sl, load[c] + f) -
                           opt_pwl_value(nseg[c], width[c], sl, load[c]);
                } else {
                    /* the segment the load is in (the last past the range) */
                    double q = width[c] > 0.0 ? load[c] / width[c] : 0.0;
                    unsigned seg = q < (double)nseg[c] ? (unsigned)q : nseg[c] - 1u;
                    cost = unit + sl[seg];
                }
                int fits = !(svc[cs * R + d] + f > p->capacity[cs * R + d]);
                if (best == OPT_NONE || (fits && !best_fits) ||
                    (fits == best_fits && cost < best_cost)) {
                    best = (unsigned)d;
                    best_cost = cost;
                    best_fits = fits;
                }
            }
            dst[e * R + s] = best;
            if (best == OPT_NONE || !(f > 0.0))
                continue;
            node[(size_t)pp->edge_cnode[e] * R + best] += f;
            load[(size_t)x->child * R + best] += f;
            svc[cs * R + best] += f;
        }
    }
    free(node);
    free(svc);
    free(width);
    free(slopes);
    free(nseg);
    return 0;
}

/* Local-only routing as a start (the one before the greedy start, kept
 * for comparison): its destinations and loads; 0, or -1 without memory. */
static int local_routing(const slate_opt_problem_t *p, unsigned *dst, double *load)
{
    slate_opt_result_t *loc = NULL;
    if (slate_opt_local_only(p, &loc) != SLATE_OK)
        return -1;
    size_t R = p->R;
    for (size_t e = 0; e < p->n_edge; e++)
        for (size_t s = 0; s < R; s++)
            dst[e * R + s] = opt_local_choice(p, (unsigned)s, p->edges[e].child);
    for (size_t ep = 0; ep < p->n_ep; ep++)
        for (size_t r = 0; r < R; r++)
            load[ep * R + r] = slate_opt_result_load(loc, (unsigned)ep, (unsigned)r);
    slate_opt_result_free(loc);
    return 0;
}

/*
 * The start of a cold solve, from a routing (the greedy one above): per (edge,
 * source) the flow column to its destination is basic (and joins the
 * restricted LP), per remaining load row the PWL column the load falls in
 * is basic with the ones below it at their upper bound, and every capacity
 * row's slack is basic. Ordered by rows (conservation down the call graph,
 * loads, capacities) these columns form a triangular matrix with a unit
 * diagonal, whatever destination each (edge, source) has, so the basis is
 * never singular; it is primal feasible unless the routing breaks a
 * capacity. status[] gets the full-LP columns' statuses, then the rows'.
 */
static void start_basis(const opt_lp_t *lp, size_t R, const unsigned *dst, const double *load,
                        unsigned char *active, unsigned char *status)
{
    enum { BASIC = 1, AT_UPPER = 2, AT_LOWER = 3 };
    size_t j = 0;
    while (j < lp->ncol) {
        if (lp->kind[j] == 0) {
            int basic = dst[(size_t)lp->ca[j] * R + lp->cb[j]] == lp->cc[j];
            status[j] = basic ? BASIC : AT_LOWER;
            active[j] |= (unsigned char)basic;
            j++;
            continue;
        }
        size_t end = j + 1;
        while (end < lp->ncol && lp->kind[end] == 1 && lp->ca[end] == lp->ca[j] &&
               lp->cb[end] == lp->cb[j])
            end++;
        double x = load[(size_t)lp->ca[j] * R + lp->cb[j]], below = 0.0;
        int placed = 0;
        for (size_t a = j; a < end; a++) {
            if (placed) {
                status[a] = AT_LOWER;
            } else if (a + 1 < end && lp->colub[a] < DBL_MAX && below + lp->colub[a] < x) {
                status[a] = AT_UPPER;
                below += lp->colub[a];
            } else {
                status[a] = BASIC;
                placed = 1;
            }
        }
        j = end;
    }
    for (size_t i = 0; i < lp->nrow; i++)
        status[lp->ncol + i] = lp->rkind[i] == 2 ? BASIC : AT_LOWER;
}

/*
 * What a flow column is estimated to cost at the greedy routing: the cost
 * to go through it, computed up the call graph. A (edge, source)'s cost to
 * go y(e, s) is the least over destinations d of g(e, s, d) = RTT, egress,
 * the slope of the child's PWL function at its greedy load in d, plus each
 * call the child makes from d (ratio times that edge's y from d); g is the
 * column's estimate, the reduced cost it would have at 0 if the duals were
 * these. So a destination whose curve is low, or whose own callees are near
 * it, ranks before a nearer one on a steep part or far from its callees.
 * y gets the costs to go (M x R); with lp, cost[] gets every column's
 * estimate (0 for PWL columns). Returns 0, or -1 without memory.
 */
static int start_costs(const slate_opt_problem_t *p, const opt_prep_t *pp, const opt_lp_t *lp,
                       const double *load, double *cost, double *y)
{
    size_t R = p->R, E = p->n_ep, M = p->n_edge;
    double *slope = calloc((E ? E : 1) * R, sizeof *slope);
    if (!slope)
        return -1;
    double sl[SLATE_OPT_MAX_SEGMENTS];
    for (size_t ep = 0; ep < E; ep++)
        for (size_t r = 0; r < R; r++) {
            if (!pp->ep_live[ep] || !p->deployed[(size_t)p->ep_svc[ep] * R + r])
                continue;
            double w;
            unsigned k = opt_pwl(p, pp, (unsigned)ep, (unsigned)r, &w, sl);
            double x = load[ep * R + r];
            unsigned seg = k > 1 && w > 0.0 && x / w < (double)k ? (unsigned)(x / w) : k - 1u;
            slope[ep * R + r] = sl[seg];
        }
    for (size_t j = M; j-- > 0;) {
        unsigned e = pp->edge_order[j];
        const opt_edge_t *x = &p->edges[e];
        unsigned cn = pp->edge_cnode[e];
        for (size_t s = 0; s < R; s++) {
            double best = INFINITY;
            for (size_t d = 0; d < R; d++) {
                if (!p->deployed[(size_t)p->ep_svc[x->child] * R + d])
                    continue;
                double g = p->rtt[s * R + d] +
                           p->cfg.egress_weight * x->bytes * p->price[s * R + d] +
                           slope[(size_t)x->child * R + d];
                for (unsigned k = pp->out_start[cn]; k < pp->out_start[cn + 1]; k++) {
                    unsigned e2 = pp->out_list[k];
                    g += p->edges[e2].ratio * y[(size_t)e2 * R + d];
                }
                if (g < best)
                    best = g;
            }
            y[(size_t)e * R + s] = isfinite(best) ? best : 0.0;
        }
    }
    for (size_t j = 0; lp && j < lp->ncol; j++) {
        cost[j] = 0.0;
        if (lp->kind[j] != 0)
            continue;
        const opt_edge_t *x = &p->edges[lp->ca[j]];
        size_t s = lp->cb[j], d = lp->cc[j];
        unsigned cn = pp->edge_cnode[lp->ca[j]];
        double g = p->rtt[s * R + d] + p->cfg.egress_weight * x->bytes * p->price[s * R + d] +
                   slope[(size_t)x->child * R + d];
        for (unsigned k = pp->out_start[cn]; k < pp->out_start[cn + 1]; k++) {
            unsigned e2 = pp->out_list[k];
            g += p->edges[e2].ratio * y[(size_t)e2 * R + d];
        }
        cost[j] = g;
    }
    free(slope);
    return 0;
}

/*
 * Solves the full LP `lp` by column generation (above) into `model`. On
 * return active[] marks the full-LP columns the model holds, clp_col[] maps
 * the model's columns to them (*n_clp of them). `warm`, when not NULL, is a
 * previous result of the same shape: its columns and basis are the start.
 * Returns SLATE_OK, SLATE_EINFEASIBLE, SLATE_ESOLVER or SLATE_ENOSPC.
 */
static slate_status solve_generated(Clp_Simplex *model, const slate_opt_problem_t *p,
                                    const opt_prep_t *pp, const opt_lp_t *lp,
                                    const slate_opt_result_t *warm, unsigned warm_cap,
                                    unsigned char *active, unsigned *clp_col, size_t *n_clp,
                                    unsigned *rounds, unsigned *iters, int *gave_up)
{
    size_t ncol = lp->ncol ? lp->ncol : 1;
    unsigned *list = malloc(ncol * sizeof *list);
    unsigned char *rank = malloc(ncol);
    unsigned char *wstatus = NULL;
    unsigned *dst = NULL;
    double *load = NULL, *cost = NULL, *togo = NULL;
    clp_cols_t cc = {0};
    slate_status st = SLATE_ENOSPC;
    if (!list || !rank)
        goto out;
    unsigned limit = NEAR_DST;
    wstatus = malloc((size_t)lp->ncol + lp->nrow);
    if (!wstatus)
        goto out;
    if (warm) {
        column_ranks(lp, lp->obj, rank);
        warm_map(lp, warm, rank, limit, active, wstatus);
    } else {
        /* the greedy routing, the columns ranked by their cost there, the
         * basis of that routing */
        size_t R = p->R;
        dst = malloc(((size_t)p->n_edge ? p->n_edge : 1) * R * sizeof *dst);
        load = malloc(((size_t)p->n_ep ? p->n_ep : 1) * R * sizeof *load);
        cost = calloc(ncol, sizeof *cost);
        if (!dst || !load || !cost)
            goto out;
        if (p->cfg.local_start) {
            /* the start before the greedy one, for comparison */
            if (local_routing(p, dst, load) != 0)
                goto out;
            column_ranks(lp, lp->obj, rank);
        } else {
            /* a first greedy pass, the costs to go at its loads, a second
             * pass that counts each destination's calls onward, the costs
             * at its loads */
            togo = malloc(((size_t)p->n_edge ? p->n_edge : 1) * R * sizeof *togo);
            if (!togo || greedy_routing(p, pp, NULL, dst, load) != 0 ||
                start_costs(p, pp, NULL, load, NULL, togo) != 0 ||
                greedy_routing(p, pp, togo, dst, load) != 0 ||
                start_costs(p, pp, lp, load, cost, togo) != 0)
                goto out;
            column_ranks(lp, cost, rank);
            limit = NEAR_DST_COLD;
        }
        for (size_t j = 0; j < lp->ncol; j++)
            active[j] = rank[j] < limit;
        start_basis(lp, R, dst, load, active, wstatus);
    }
    size_t n = 0;
    for (size_t j = 0; j < lp->ncol; j++)
        if (active[j])
            clp_col[n] = (unsigned)j, list[n++] = (unsigned)j;
    *n_clp = n;
    if (clp_cols_make(lp, list, n, &cc) != 0)
        goto out;
    Clp_loadProblem(model, (int)n, (int)lp->nrow, cc.start, cc.index, cc.value, cc.lb, cc.ub,
                    cc.obj, lp->rowlb, lp->rowub);
    clp_cols_free(&cc);
    memset(&cc, 0, sizeof cc);
    Clp_setObjSense(model, 1.0);
    /* the start's statuses in the model's column order (full-LP order) */
    size_t at = 0;
    for (size_t j = 0; j < lp->ncol; j++)
        if (active[j])
            wstatus[at++] = wstatus[j];
    memmove(wstatus + n, wstatus + lp->ncol, lp->nrow);
    Clp_copyinStatus(model, wstatus);
    /* Warm: the previous optimum, dual feasible where only loads moved. Cold:
     * the greedy routing, primal feasible unless it breaks a capacity.
     * (CLP's presolve is not used: CoinUtils 2.11's presolve actions leak
     * on some LPs, found by fuzz_opt.) */
    *rounds = 0;
    *iters = 0;
    if (warm) {
        /* A warm start whose window moved far (loads, curves) can take
         * more dual iterations than the greedy start's whole solve: past
         * warm_cap it gives up, and the caller starts cold. */
        Clp_setMaximumIterations(model, (int)warm_cap);
        Clp_dual(model, 0);
        Clp_setMaximumIterations(model, INT_MAX);
        if (Clp_status(model) == 3 && Clp_numberIterations(model) >= (int)warm_cap) {
            *iters = (unsigned)Clp_numberIterations(model);
            *gave_up = 1;
            st = SLATE_ESOLVER;
            goto out;
        }
    } else {
        Clp_primal(model, 0);
    }
    int retried = 0;
    for (;;) {
        *iters += (unsigned)Clp_numberIterations(model);
        int oc = clp_outcome(model);
        if (oc == 1) {
            /* Capacities the near regions cannot meet: twice as many
             * destinations per group, until every column is in. */
            long added = 0;
            while (added == 0 && limit <= SLATE_OPT_MAX_REGIONS) {
                limit *= 2;
                added = add_ranked(model, lp, rank, limit, active, clp_col, n_clp, list);
            }
            if (added < 0)
                goto out;
            if (added == 0) {
                st = SLATE_EINFEASIBLE;
                goto out;
            }
            Clp_dual(model, 0);
            continue;
        }
        if (oc != 0 && !retried) {
            /* The dual simplex gives up on some badly scaled starts (a
             * previous basis whose values moved by orders of magnitude):
             * the primal simplex once from where it stopped. */
            retried = 1;
            Clp_primal(model, 0);
            continue;
        }
        if (oc != 0) {
            st = SLATE_ESOLVER;
            goto out;
        }
        const double *y = Clp_dualRowSolution(model);
        size_t k = price_columns(lp, active, y, Clp_dualTolerance(model), list);
        if (k == 0)
            break;
        ++*rounds;
        if (*rounds >= MAX_PRICING_ROUNDS) {
            if (add_ranked(model, lp, rank, UINT_MAX, active, clp_col, n_clp, list) < 0)
                goto out;
        } else if (add_columns(model, lp, active, clp_col, n_clp, list, k) != 0) {
            goto out;
        }
        Clp_primal(model, 0);
    }
    st = SLATE_OK;
out:
    clp_cols_free(&cc);
    free(list);
    free(rank);
    free(wstatus);
    free(dst);
    free(load);
    free(cost);
    free(togo);
    return st;
}

/* The full LP as before the reduction: all columns, CLP's crash, then the
 * simplex the crash prefers (warm: the dual from the previous basis). */
static slate_status solve_full(Clp_Simplex *model, const opt_lp_t *lp,
                               const slate_opt_result_t *warm)
{
    CoinBigIndex *start = malloc(((size_t)lp->ncol + 1) * sizeof *start);
    if (!start)
        return SLATE_ENOSPC;
    for (size_t i = 0; i <= lp->ncol; i++)
        start[i] = (CoinBigIndex)lp->start[i];
    Clp_loadProblem(model, (int)lp->ncol, (int)lp->nrow, start, lp->index, lp->value, lp->collb,
                    lp->colub, lp->obj, lp->rowlb, lp->rowub);
    free(start);
    Clp_setObjSense(model, 1.0);
    if (warm) {
        Clp_copyinStatus(model, warm->basis);
        Clp_dual(model, 0);
    } else {
        /* CLP's crash sets up a better starting point than the all-slack
         * basis (on SLATE's largest shape: a third of the iterations) and
         * says which simplex suits it. */
        int crash = Clp_crash(model, 1000.0, 2);
        if (crash == 1 || crash == 2)
            Clp_primal(model, 0);
        else
            Clp_dual(model, 0);
    }
    int oc = clp_outcome(model);
    return oc == 0 ? SLATE_OK : oc == 1 ? SLATE_EINFEASIBLE : SLATE_ESOLVER;
}

/* For each model column k, its place among the model's columns in full-LP
 * order; malloc'd, NULL without memory. */
static unsigned *clp_col_pos(const opt_lp_t *lp, const unsigned char *active,
                             const unsigned *clp_col, size_t n_clp)
{
    unsigned *at = malloc(((size_t)lp->ncol ? lp->ncol : 1) * sizeof *at);
    unsigned *pos = malloc((n_clp ? n_clp : 1) * sizeof *pos);
    if (!at || !pos) {
        free(at);
        free(pos);
        return NULL;
    }
    unsigned next = 0;
    for (size_t j = 0; j < lp->ncol; j++)
        at[j] = active[j] ? next++ : UINT_MAX;
    for (size_t k = 0; k < n_clp; k++)
        pos[k] = at[clp_col[k]];
    free(at);
    return pos;
}

/* A CLP model set up as every solve here uses one: quiet, and stopped at the
 * configured time limit. NULL without memory. */
static Clp_Simplex *new_model(const slate_opt_problem_t *p)
{
    Clp_Simplex *model = Clp_newModel();
    if (!model)
        return NULL;
    Clp_setLogLevel(model, 0);
    if (p->cfg.time_limit_s > 0.0)
        Clp_setMaximumSeconds(model, p->cfg.time_limit_s);
    return model;
}

slate_status slate_opt_solve_warm(const slate_opt_problem_t *p, const slate_opt_result_t *prev,
                                  slate_opt_result_t **out)
{
    if (!p || !out)
        return SLATE_EINVAL;
    *out = NULL;
    slate_status st = slate_opt_validate(p);
    if (st != SLATE_OK)
        return st;
    double t0 = opt_now_ms();
    opt_prep_t pp;
    st = opt_prepare(p, &pp);
    if (st != SLATE_OK)
        return st;
    opt_lp_t lp;
    st = opt_lp_build(p, &pp, &lp);
    if (st != SLATE_OK) {
        opt_prep_free(&pp);
        return st;
    }
    size_t ncol = lp.ncol ? lp.ncol : 1;
    unsigned char *active = malloc(ncol);
    unsigned *clp_col = malloc(ncol * sizeof *clp_col);
    slate_opt_result_t *r = opt_result_new(p);
    Clp_Simplex *model = new_model(p);
    if (!active || !clp_col || !r || !model) {
        st = SLATE_ENOSPC;
        goto out;
    }
    uint64_t shape = lp_shape(&lp);
    int full = p->cfg.full_lp != 0;
    /* A previous basis fits when it belongs to the same LP solved the same way. */
    /* The full LP restarts from a basis of the same LP; the reduced solve
     * from any reduced optimum, matched column by column (warm_map). */
    int warm = prev && prev->basis &&
               (full ? !prev->keys && prev->basis_shape == shape && prev->basis_rows == lp.nrow &&
                           prev->basis_cols == lp.ncol
                     : prev->keys != NULL && prev->cold_rounds == 0);
    int gave_up = 0;
    double t1 = opt_now_ms();
    size_t n_clp = lp.ncol;
    unsigned rounds = 0, iters = 0;
    if (full) {
        memset(active, 1, lp.ncol);
        for (size_t j = 0; j < lp.ncol; j++)
            clp_col[j] = (unsigned)j;
        st = solve_full(model, &lp, warm ? prev : NULL);
        iters = (unsigned)Clp_numberIterations(model);
    } else {
        unsigned cap = p->cfg.warm_max_iterations ? p->cfg.warm_max_iterations : lp.nrow / 10 + 100;
        st = solve_generated(model, p, &pp, &lp, warm ? prev : NULL, cap, active, clp_col, &n_clp,
                             &rounds, &iters, &gave_up);
        if (gave_up) {
            /* the warm start gave up: cold, from the greedy routing */
            unsigned spent = iters;
            Clp_deleteModel(model);
            model = new_model(p);
            if (!model) {
                st = SLATE_ENOSPC;
                goto out;
            }
            warm = 0;
            int again = 0;
            st = solve_generated(model, p, &pp, &lp, NULL, cap, active, clp_col, &n_clp, &rounds,
                                 &iters, &again);
            iters += spent;
        }
        if (st == SLATE_ESOLVER && !(p->cfg.time_limit_s > 0.0)) {
            /* CLP stopped short on the restricted LP (numerical trouble):
             * the full LP from scratch, as before the reduction. */
            Clp_deleteModel(model);
            model = new_model(p);
            if (!model) {
                st = SLATE_ENOSPC;
                goto out;
            }
            memset(active, 1, lp.ncol);
            for (size_t j = 0; j < lp.ncol; j++)
                clp_col[j] = (unsigned)j;
            n_clp = lp.ncol;
            warm = 0;
            st = solve_full(model, &lp, NULL);
            iters = (unsigned)Clp_numberIterations(model);
        }
    }
    double t2 = opt_now_ms();
    if (st != SLATE_OK)
        goto out;
    const double *x = Clp_getColSolution(model);
    size_t R = p->R;
    double tol = Clp_primalTolerance(model);
    for (size_t k = 0; k < n_clp; k++) {
        size_t j = clp_col[k];
        if (lp.kind[j] != 0)
            continue;
        /* flows within CLP's primal tolerance of 0 are 0 (its noise) */
        double v = x[k] > tol ? x[k] : 0.0;
        r->flow[((size_t)lp.ca[j] * R + lp.cb[j]) * R + lp.cc[j]] = v;
    }
    opt_result_finish(p, &pp, r);
    r->st.method = SLATE_OPT_METHOD_LP;
    r->st.columns = (unsigned)n_clp;
    r->st.rows = lp.nrow;
    size_t nnz = 0;
    for (size_t k = 0; k < n_clp; k++)
        nnz += lp.start[clp_col[k] + 1] - lp.start[clp_col[k]];
    r->st.nonzeros = (unsigned)nnz;
    r->st.full_columns = lp.ncol;
    r->st.pricing_rounds = rounds;
    r->st.iterations = iters;
    r->st.build_ms = t1 - t0;
    r->st.solve_ms = t2 - t1;
    /* The LP's objective at CLP's solution with values within its primal
     * tolerance of a bound put on the bound: a column at 1e-12 (CLP's
     * noise) with a cost of 1e13 would move CLP's own figure by more than
     * the tolerance. */
    double lp_obj = lp.obj_const;
    for (size_t k = 0; k < n_clp; k++) {
        size_t j = clp_col[k];
        double v = x[k];
        if (v < lp.collb[j] + tol)
            v = lp.collb[j];
        else if (lp.colub[j] < DBL_MAX && v > lp.colub[j] - tol)
            v = lp.colub[j];
        lp_obj += lp.obj[j] * v;
    }
    r->st.lp_objective = lp_obj;
    r->st.warm_start = warm;
    /* after a warm start gave up, the next COLD_AFTER_GIVING_UP rounds
     * start cold (the window keeps moving), then warm is tried again */
    r->cold_rounds = gave_up ? COLD_AFTER_GIVING_UP
                             : (prev && prev->cold_rounds > 0 ? prev->cold_rounds - 1 : 0);
    const unsigned char *basis = Clp_statusArray(model);
    if (basis) {
        size_t nb = n_clp + lp.nrow;
        r->basis = malloc(nb ? nb : 1);
        if (!full)
            r->keys = malloc((nb ? nb : 1) * sizeof *r->keys);
        if (r->basis && (full || r->keys)) {
            if (full) {
                memcpy(r->basis, basis, nb);
            } else {
                /* Columns joined the model out of order; stored in full-LP
                 * order with what they stand for, for the next start. */
                unsigned *pos = clp_col_pos(&lp, active, clp_col, n_clp);
                if (!pos) {
                    free(r->basis);
                    free(r->keys);
                    r->basis = NULL;
                    r->keys = NULL;
                    goto done;
                }
                for (size_t k = 0; k < n_clp; k++) {
                    r->basis[pos[k]] = basis[k];
                    r->keys[pos[k]] = col_key(&lp, clp_col[k]);
                }
                free(pos);
                if (row_sorted(&lp, basis + n_clp, r->keys + n_clp, r->basis + n_clp) != 0) {
                    free(r->basis);
                    free(r->keys);
                    r->basis = NULL;
                    r->keys = NULL;
                    goto done;
                }
            }
            r->basis_cols = (unsigned)n_clp;
            r->basis_rows = lp.nrow;
            r->basis_shape = shape;
        } else {
            free(r->basis);
            free(r->keys);
            r->basis = NULL;
            r->keys = NULL;
        }
    }
done:
    *out = r;
    r = NULL;
    st = SLATE_OK;
out:
    if (model)
        Clp_deleteModel(model);
    free(active);
    free(clp_col);
    slate_opt_result_free(r);
    opt_lp_free(&lp);
    opt_prep_free(&pp);
    return st;
}
